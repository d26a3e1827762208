//! Many `workboard` processes on one file store, as AI clients and users run them: copies of
//! `workboard bridge` an AI client started, and commands in loops, against the in-process
//! simulator (dynamic registration, auto-approved consent, rotating refresh tokens whose
//! reuse revokes the whole grant). Through the store's lease:
//!
//! - four bridges started at once on an expired access token refresh it once, and once per
//!   expiry while they keep calling (no refresh token used twice);
//! - a bridge killed while it holds the lease mid-refresh (its token request held by the
//!   simulator) leaves the others working: one refresh more, no reuse;
//! - four bridges with nothing stored sign in once: one leads, the others use its result;
//! - four CLI processes calling a tool in loops while tokens expire: no failure, one refresh
//!   per expiry.
//!
//! Every wait is bounded (a condition polled until a deadline); processes are stopped by
//! their handle.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::Receiver;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use workboard_sim::{SimConfig, SimHandle, Simulator};

const BIN: &str = env!("CARGO_BIN_EXE_workboard");
/// Longest wait for one message, one process or one condition.
const WAIT: Duration = Duration::from_secs(60);
/// Environment variables the binary reads; removed so the machine cannot change them.
const CLI_ENV: &[&str] = &[
    "WORKBOARD_ENV",
    "WORKBOARD_SERVER",
    "WORKBOARD_STORE",
    "WORKBOARD_STORE_BACKEND",
    "WORKBOARD_STEP_UP",
    "WORKBOARD_MCP_ERA",
    "WORKBOARD_CLIENT_ID",
    "WORKBOARD_CLIENT_HASH",
    "WORKBOARD_CONFIG_DIR",
];
/// How many times the tokens expire while the processes keep calling.
const EXPIRIES: u64 = 3;

/// The simulator, served by its own runtime while the test waits on processes.
struct Sim {
    handle: SimHandle,
    _rt: tokio::runtime::Runtime,
}

impl Sim {
    fn start() -> Sim {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let handle = rt
            .block_on(Simulator::start(SimConfig {
                dcr: true,
                auto_approve: true,
                ..SimConfig::default()
            }))
            .unwrap();
        Sim { handle, _rt: rt }
    }
    fn base(&self) -> String {
        self.handle.base_url().to_string()
    }
    fn count(&self, key: &str) -> u64 {
        self.handle.counters().get(key)
    }
}

/// Polls `done` until it holds, failing with `what` after [`WAIT`].
fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + WAIT;
    while !done() {
        assert!(Instant::now() < deadline, "{what}: not within {WAIT:?}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// `workboard --store STORE --env BASE`, with the machine's settings removed.
fn workboard(store: &Path, base: &str) -> Command {
    let mut cmd = Command::new(BIN);
    for k in CLI_ENV {
        cmd.env_remove(k);
    }
    cmd.arg("--store").arg(store).args(["--env", base]);
    cmd
}

/// Runs `cmd` to its end (killed and failed after [`WAIT`]): (success, stdout, stderr).
fn run(mut cmd: Command) -> (bool, String, String) {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let read = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut s = String::new();
            let _ = r.read_to_string(&mut s);
            s
        })
    };
    let out = read(Box::new(child.stdout.take().unwrap()));
    let err = read(Box::new(child.stderr.take().unwrap()));
    let deadline = Instant::now() + WAIT;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("a workboard process ran longer than {WAIT:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let (out, err) = (out.join().unwrap(), err.join().unwrap());
    assert!(!err.contains("panicked"), "{err}");
    (status.success(), out, err)
}

/// An MCP OAuth sign-in into `store`, as a user runs it (`login --flow mcp`, headless).
fn sign_in(store: &Path, base: &str) {
    let mut cmd = workboard(store, base);
    cmd.args(["--json", "login", "--flow", "mcp", "--headless"]);
    let (ok, out, err) = run(cmd);
    assert!(ok, "login failed: {out}\n{err}");
}

/// The stored credentials' access and refresh tokens (secrets no output may show).
fn stored_secrets(store: &Path) -> Vec<String> {
    let file: Value = serde_json::from_str(&std::fs::read_to_string(store).unwrap()).unwrap();
    let creds: Value = serde_json::from_str(file["credentials"].as_str().unwrap()).unwrap();
    ["access_token", "refresh_token"]
        .iter()
        .filter_map(|k| creds[k].as_str().map(str::to_string))
        .collect()
}

/// Four bridges started at once on `store`, each initialized by its (legacy) stdio client.
fn four_initialized(store: &Path, base: &str, global: &[&str]) -> Vec<Bridge> {
    let mut bridges: Vec<Bridge> = (0..4).map(|_| Bridge::start(store, base, global)).collect();
    let ids: Vec<i64> = bridges.iter_mut().map(Bridge::initialize).collect();
    for (b, id) in bridges.iter_mut().zip(ids) {
        b.initialized(id);
    }
    bridges
}

/// `tools/list` sent to every bridge before any answer is read; the answers.
fn list_tools_at_once(bridges: &mut [Bridge]) -> Vec<Value> {
    let ids: Vec<i64> = bridges
        .iter_mut()
        .map(|b| b.request("tools/list", json!({})))
        .collect();
    bridges
        .iter_mut()
        .zip(ids)
        .map(|(b, id)| b.response(id))
        .collect()
}

/// A running bridge: its stdin, its stdout lines as they come, its stderr at the end.
struct Bridge {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    stderr: Option<JoinHandle<String>>,
    next_id: i64,
}

impl Bridge {
    fn start(store: &Path, base: &str, global: &[&str]) -> Bridge {
        let p = common::spawn_piped(workboard(store, base).args(global).arg("bridge"));
        Bridge {
            stdin: p.stdin,
            child: p.child,
            lines: p.lines,
            stderr: Some(p.stderr),
            next_id: 0,
        }
    }

    fn send(&mut self, v: &Value) {
        let mut line = serde_json::to_vec(v).unwrap();
        line.push(b'\n');
        let stdin = self.stdin.as_mut().unwrap();
        stdin.write_all(&line).unwrap();
        stdin.flush().unwrap();
    }

    /// Sends a request; returns its id.
    fn request(&mut self, method: &str, params: Value) -> i64 {
        self.next_id += 1;
        let id = self.next_id;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        id
    }

    /// The response to `id` (notifications before it are skipped), within [`WAIT`].
    fn response(&mut self, id: i64) -> Value {
        let deadline = Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = self
                .lines
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("no response to {id} within {WAIT:?}"));
            let v: Value = serde_json::from_str(&line)
                .unwrap_or_else(|e| panic!("stdout carries a non-JSON line ({e}): {line}"));
            if v["id"] == json!(id) && v.get("method").is_none() {
                return v;
            }
        }
    }

    fn call(&mut self, method: &str, params: Value) -> Value {
        let id = self.request(method, params);
        self.response(id)
    }

    /// Sends a legacy `initialize` (answer it with [`Bridge::initialized`]).
    fn initialize(&mut self) -> i64 {
        self.request(
            "initialize",
            json!({"protocolVersion": "2025-06-18", "capabilities": {},
                   "clientInfo": {"name": "shared-store-test", "version": "1"}}),
        )
    }

    fn initialized(&mut self, id: i64) {
        let r = self.response(id);
        assert!(r["result"]["protocolVersion"].is_string(), "{r}");
        self.send(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
    }

    fn call_tool(&mut self) -> i64 {
        self.request(
            "tools/call",
            json!({"name": "get_current_user", "arguments": {}}),
        )
    }

    /// Closes stdin and waits (bounded) for a clean exit; returns stderr.
    fn finish(mut self) -> String {
        drop(self.stdin.take());
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                assert!(status.success(), "bridge exit status {status}");
                break;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("the bridge did not exit after stdin closed");
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        let stderr = self.stderr.take().unwrap().join().unwrap();
        assert!(!stderr.contains("panicked"), "{stderr}");
        stderr
    }
}

/// Whether a `tools/call` response is the tool's result (not an error).
fn succeeded(r: &Value) -> bool {
    r["result"].is_object() && r["result"]["isError"] != json!(true)
}

/// What the callers of one test did. `epoch` counts the expiries so far; each caller
/// records the epoch at which its latest successful call started.
#[derive(Default)]
struct Calls {
    epoch: AtomicU64,
    stop: AtomicBool,
    ok: AtomicU64,
    failed: AtomicU64,
    errors: Mutex<Vec<String>>,
    /// Per caller: the epoch its latest successful call started in (+1; 0: none yet).
    done: Vec<AtomicU64>,
}

impl Calls {
    fn new(callers: usize) -> Arc<Calls> {
        Arc::new(Calls {
            done: (0..callers).map(|_| AtomicU64::new(0)).collect(),
            ..Calls::default()
        })
    }

    fn record(&self, caller: usize, started_in: u64, ok: bool, what: impl FnOnce() -> String) {
        if ok {
            self.ok.fetch_add(1, Ordering::SeqCst);
            self.done[caller].fetch_max(started_in + 1, Ordering::SeqCst);
        } else {
            self.failed.fetch_add(1, Ordering::SeqCst);
            self.errors.lock().unwrap().push(what());
        }
    }

    /// Expires every access token `EXPIRIES` times; after each, waits until every caller has
    /// made a successful call that started after it (so each expiry needs its refresh).
    fn expire_while_calling(&self, sim: &Sim) {
        self.wait_for_epoch(0);
        for _ in 0..EXPIRIES {
            sim.handle.faults().expire_tokens();
            let epoch = self.epoch.fetch_add(1, Ordering::SeqCst) + 1;
            self.wait_for_epoch(epoch);
        }
        self.stop.store(true, Ordering::SeqCst);
    }

    fn wait_for_epoch(&self, epoch: u64) {
        wait_until(
            &format!("every caller succeeding after expiry {epoch}"),
            || {
                self.failed.load(Ordering::SeqCst) > 0
                    || self.done.iter().all(|d| d.load(Ordering::SeqCst) > epoch)
            },
        );
        self.assert_no_failure();
    }

    fn assert_no_failure(&self) {
        assert_eq!(
            self.failed.load(Ordering::SeqCst),
            0,
            "failed calls: {:?}",
            self.errors.lock().unwrap()
        );
    }
}

/// Four bridges started at once on a store whose access token the server expired: each
/// answers `initialize`, `tools/list` and a tool call; one refresh among them. Then the
/// tokens expire again and again while all four keep calling: one refresh per expiry, no
/// failed call, no refresh token used twice (which would revoke the grant).
#[test]
fn four_bridges_on_one_file_store_refresh_once_per_expiry() {
    let sim = Sim::start();
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("credentials.json");
    sign_in(&store, &sim.base());
    sim.handle.faults().expire_tokens();
    let refreshes = sim.count("token:refresh_token");

    let mut bridges = four_initialized(&store, &sim.base(), &[]);
    for r in list_tools_at_once(&mut bridges) {
        let tools = r["result"]["tools"]
            .as_array()
            .unwrap_or_else(|| panic!("{r}"));
        assert!(tools.iter().any(|t| t["name"] == "get_current_user"), "{r}");
    }
    let ids: Vec<i64> = bridges.iter_mut().map(Bridge::call_tool).collect();
    for (b, id) in bridges.iter_mut().zip(ids) {
        let r = b.response(id);
        assert!(succeeded(&r), "{r}");
    }
    assert_eq!(
        sim.count("token:refresh_token") - refreshes,
        1,
        "four bridges on one expired token: one refresh"
    );
    assert_eq!(sim.count("token:refresh_reuse"), 0);

    // All four keep calling while the tokens expire.
    let refreshes = sim.count("token:refresh_token");
    let calls = Calls::new(bridges.len());
    let callers: Vec<JoinHandle<Bridge>> = bridges
        .into_iter()
        .enumerate()
        .map(|(i, mut b)| {
            let calls = calls.clone();
            std::thread::spawn(move || {
                while !calls.stop.load(Ordering::SeqCst) {
                    let epoch = calls.epoch.load(Ordering::SeqCst);
                    let r = b.call(
                        "tools/call",
                        json!({"name": "get_current_user", "arguments": {}}),
                    );
                    calls.record(i, epoch, succeeded(&r), || r.to_string());
                }
                b
            })
        })
        .collect();
    calls.expire_while_calling(&sim);
    let bridges: Vec<Bridge> = callers.into_iter().map(|c| c.join().unwrap()).collect();
    calls.assert_no_failure();
    let counters = sim.handle.counters();
    assert_eq!(
        counters.get("token:refresh_token") - refreshes,
        EXPIRIES,
        "one refresh per expiry for four bridges ({} calls)",
        calls.ok.load(Ordering::SeqCst)
    );
    assert_eq!(counters.get("token:refresh_reuse"), 0);
    let secrets = stored_secrets(&store);
    for b in bridges {
        let stderr = b.finish();
        for s in &secrets {
            assert!(!stderr.contains(s.as_str()), "a token in the bridge's logs");
        }
    }
    println!(
        "four bridges: {} calls over {EXPIRIES} expiries, {} refreshes",
        calls.ok.load(Ordering::SeqCst),
        counters.get("token:refresh_token") - refreshes
    );
}

/// The bridge holding the lease is killed (SIGKILL) while its token request is in flight
/// (the simulator holds it, then drops it unprocessed: its refresh token is not rotated).
/// The other three, whose calls met the same expired token meanwhile, take over at once
/// (the OS freed the dead process's lease lock): their calls succeed, one refresh more, no
/// refresh token used twice.
#[test]
fn a_bridge_killed_mid_refresh_holding_the_lease_leaves_the_others_working() {
    let sim = Sim::start();
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("credentials.json");
    sign_in(&store, &sim.base());
    let mut bridges: Vec<Bridge> = (0..4)
        .map(|_| Bridge::start(&store, &sim.base(), &[]))
        .collect();
    for b in &mut bridges {
        let id = b.initialize();
        b.initialized(id);
        let r = b.call(
            "tools/call",
            json!({"name": "get_current_user", "arguments": {}}),
        );
        assert!(succeeded(&r), "{r}");
    }
    let refreshes = sim.count("token:refresh_token");
    let tokens = sim.count("token");
    sim.handle
        .faults()
        .stall_next(Some("token"), 1, Duration::from_secs(30));
    sim.handle.faults().expire_tokens();
    // Only the first calls: it meets the expiry first, takes the lease and refreshes.
    let mut holder = bridges.remove(0);
    holder.call_tool();
    wait_until("the holder's token request", || sim.count("token") > tokens);
    // The others call now and wait for the holder's result.
    let mcp = sim.count("mcp");
    let ids: Vec<i64> = bridges.iter_mut().map(Bridge::call_tool).collect();
    wait_until("the others' calls reaching the server", || {
        sim.count("mcp") >= mcp + 3
    });
    holder.child.kill().unwrap();
    holder.child.wait().unwrap();
    let killed = Instant::now();
    for (b, id) in bridges.iter_mut().zip(ids) {
        let r = b.response(id);
        assert!(succeeded(&r), "{r}");
    }
    let recovered = killed.elapsed();
    let counters = sim.handle.counters();
    assert_eq!(
        counters.get("token:refresh_token") - refreshes,
        1,
        "one refresh after the holder died"
    );
    assert_eq!(counters.get("token:refresh_reuse"), 0);
    // The file store sees a dead holder at once: far below the lease's TTL (60 s) and the
    // simulator's 30 s hold.
    assert!(
        recovered < Duration::from_secs(10),
        "recovered after {recovered:?}"
    );
    // And they go on.
    for b in &mut bridges {
        let r = b.call(
            "tools/call",
            json!({"name": "get_current_user", "arguments": {}}),
        );
        assert!(succeeded(&r), "{r}");
    }
    assert_eq!(sim.count("token:refresh_token") - refreshes, 1);
    for b in bridges {
        b.finish();
    }
    println!("holder killed mid-refresh: the other three answered {recovered:?} after");
}

/// Nothing stored and a server that wants OAuth: four bridges asked at once sign in once.
/// One leads (registration, authorization, code exchange) and stores the result; the three
/// others wait for it and use it — no second sign-in, browser or loopback listener.
#[test]
fn four_bridges_without_credentials_sign_in_once() {
    let sim = Sim::start();
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("credentials.json");
    // Each bridge makes its client now (nothing stored yet)...
    let mut bridges = four_initialized(&store, &sim.base(), &["--step-up", "headless"]);
    // ...and all four meet the server's 401 at once.
    for r in list_tools_at_once(&mut bridges) {
        assert!(r["result"]["tools"].is_array(), "{r}");
    }
    let counters = sim.handle.counters();
    assert_eq!(
        counters.get("token:authorization_code"),
        1,
        "one sign-in: {counters:?}"
    );
    assert_eq!(
        counters.get("register"),
        1,
        "one registration: {counters:?}"
    );
    assert_eq!(
        counters.get("authorize"),
        1,
        "one authorization: {counters:?}"
    );
    for b in &mut bridges {
        let r = b.call(
            "tools/call",
            json!({"name": "get_current_user", "arguments": {}}),
        );
        assert!(succeeded(&r), "{r}");
    }
    let secrets = stored_secrets(&store);
    let logs: Vec<String> = bridges.into_iter().map(Bridge::finish).collect();
    let led = logs
        .iter()
        .filter(|l| l.contains("workboard bridge: signed in"))
        .count();
    let adopted = logs
        .iter()
        .filter(|l| l.contains("using the sign-in another process stored"))
        .count();
    assert_eq!((led, adopted), (1, 3), "{logs:#?}");
    // `status` says the store is shared by the machine's processes.
    let mut cmd = workboard(&store, &sim.base());
    cmd.args(["--json", "status"]);
    let (ok, out, err) = run(cmd);
    assert!(ok, "{err}");
    let status: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(status["result"]["credentials"], "oauth", "{status}");
    assert_eq!(
        status["result"]["store_coordination"], "machine",
        "{status}"
    );
    let mut cmd = workboard(&store, &sim.base());
    cmd.arg("status");
    let (_, out, _) = run(cmd);
    assert!(
        out.contains("Shared: by every workboard process of this machine"),
        "{out}"
    );
    for l in &logs {
        for s in &secrets {
            assert!(!l.contains(s.as_str()), "a token in the bridge's logs");
        }
    }
}

/// Four CLI processes call a tool in loops (`workboard call`, a process per call) while
/// the tokens expire: no call fails, one refresh per expiry, no refresh token used twice.
#[test]
fn four_cli_processes_in_loops_refresh_once_per_expiry() {
    let sim = Sim::start();
    let dir = tempfile::tempdir().unwrap();
    let store: PathBuf = dir.path().join("credentials.json");
    sign_in(&store, &sim.base());
    let refreshes = sim.count("token:refresh_token");
    let calls = Calls::new(4);
    let loops: Vec<JoinHandle<()>> = (0..4)
        .map(|i| {
            let (calls, store, base) = (calls.clone(), store.clone(), sim.base());
            std::thread::spawn(move || {
                while !calls.stop.load(Ordering::SeqCst) {
                    let epoch = calls.epoch.load(Ordering::SeqCst);
                    let mut cmd = workboard(&store, &base);
                    cmd.args(["--json", "call", "get_current_user"]);
                    let (ok, out, err) = run(cmd);
                    let result: Value = serde_json::from_str(out.trim()).unwrap_or(Value::Null);
                    let ok = ok && result["ok"] == json!(true);
                    calls.record(i, epoch, ok, || format!("{out}\n{err}"));
                }
            })
        })
        .collect();
    calls.expire_while_calling(&sim);
    for l in loops {
        l.join().unwrap();
    }
    calls.assert_no_failure();
    let counters = sim.handle.counters();
    assert_eq!(
        counters.get("token:refresh_token") - refreshes,
        EXPIRIES,
        "one refresh per expiry for four CLI loops ({} calls)",
        calls.ok.load(Ordering::SeqCst)
    );
    assert_eq!(counters.get("token:refresh_reuse"), 0);
    println!(
        "four CLI loops: {} calls over {EXPIRIES} expiries",
        calls.ok.load(Ordering::SeqCst)
    );
}
