//! The fleet: K processes, each a native `Client` on one shared store (a file store: one
//! machine; Redis: many machines), calling a tool while the simulator expires every access
//! token again and again; its refresh tokens rotate and a reused one revokes the whole grant
//! (reuse detection). Used by tests/fleet.rs (asserts) and examples/fleet_bench.rs (prints).
//!
//! The binary runs itself again as the workers ([`worker_main`], driven by `WB_FLEET_*`
//! variables), so each worker is a process with its own client, store connection and file
//! locks. A worker reads commands on stdin (`go`, `stop`) and answers on stdout (`READY`,
//! `RESULT ok failed p50_us p99_us max_us last-error`).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use workboard_client::keys;
use workboard_client::store::{put, SharedStore};
use workboard_core::Environment;
use workboard_native::{Approver, Client, FileStore, ReqwestTransport};
use workboard_redis::RedisStore;
use workboard_sim::{SimConfig, SimHandle, Simulator};

/// Longest wait for a worker's line.
pub const WAIT: Duration = Duration::from_secs(60);
/// Pause between two calls of a worker.
const PAUSE: Duration = Duration::from_millis(15);

/// A store named in a worker's environment: `file:<path>` or `redis:<prefix>|<url>`.
pub fn store_from(spec: &str) -> Arc<dyn SharedStore + Send + Sync> {
    match spec.split_once(':') {
        Some(("file", path)) => Arc::new(FileStore::new(path)),
        Some(("redis", rest)) => {
            let (prefix, url) = rest.split_once('|').unwrap();
            Arc::new(RedisStore::open(url, prefix).unwrap())
        }
        _ => panic!("bad store spec"),
    }
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// The worker, when this process was started as one (`WB_FLEET_STORE` set): calls a tool
/// every [`PAUSE`] (after `go` when `WB_FLEET_WAIT` is set) until stdin says `stop`, then
/// prints its counts and call latencies. Returns `false` when this process is not a worker.
///
/// `WB_FLEET_COORDINATE=0`: the store is used as a plain store (each process refreshes on
/// its own: what the fleet does without the lease). `WB_FLEET_LEASE_TTL_MS`: the lease TTL.
pub fn worker_main() -> bool {
    let Ok(spec) = std::env::var("WB_FLEET_STORE") else {
        return false;
    };
    let base = std::env::var("WB_FLEET_BASE").unwrap();
    let coordinate = std::env::var("WB_FLEET_COORDINATE").as_deref() != Ok("0");
    let wait = std::env::var("WB_FLEET_WAIT").is_ok();
    let ttl = std::env::var("WB_FLEET_LEASE_TTL_MS")
        .ok()
        .map(|v| Duration::from_millis(v.parse().unwrap()));
    let (tx, mut commands) = tokio::sync::mpsc::unbounded_channel::<String>();
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            if tx.send(line.trim().to_string()).is_err() {
                break;
            }
        }
    });
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let store = store_from(&spec);
        let mut builder = Client::builder().environment(Environment::parse(&base).unwrap());
        builder = if coordinate {
            builder.shared_store(store)
        } else {
            builder.store(Arc::new(workboard_native::store::Shared(store)))
        };
        if let Some(ttl) = ttl {
            builder = builder.refresh_lease_ttl(ttl);
        }
        let client = builder.build().unwrap();
        println!("READY");
        if wait {
            while commands.recv().await.is_some_and(|c| c != "go") {}
        }
        let (mut ok, mut failed) = (0u64, 0u64);
        let mut latencies = Vec::new();
        let mut last_error = String::new();
        loop {
            let t = Instant::now();
            let outcome = client
                .call_tool("get_current_user", serde_json::json!({}))
                .await;
            latencies.push(u64::try_from(t.elapsed().as_micros()).unwrap_or(u64::MAX));
            match outcome {
                Ok(r) if !r.is_error => ok += 1,
                Ok(r) => {
                    failed += 1;
                    last_error = r.text().chars().take(200).collect();
                }
                Err(e) => {
                    failed += 1;
                    last_error = format!("{}: {}", e.code(), e).chars().take(200).collect();
                }
            }
            if ok + failed == 1 {
                println!("CALLED");
            }
            tokio::select! {
                c = commands.recv() => if c.as_deref() != Some("go") { break },
                () = tokio::time::sleep(PAUSE) => {}
            }
        }
        latencies.sort_unstable();
        println!(
            "RESULT {ok} {failed} {} {} {} {last_error}",
            percentile(&latencies, 0.5),
            percentile(&latencies, 0.99),
            latencies.last().copied().unwrap_or(0),
        );
    });
    true
}

/// A worker process and its stdout lines (read on a thread, so a silent worker cannot block
/// the caller past [`WAIT`]).
pub struct Worker {
    pub child: Child,
    lines: mpsc::Receiver<String>,
}

/// How a worker is started.
#[derive(Clone, Debug, Default)]
pub struct WorkerOptions {
    /// Arguments that make the binary run [`worker_main`] (a test binary: the test's name).
    pub args: Vec<String>,
    /// Through the shared store's lease (the default) or each process on its own.
    pub uncoordinated: bool,
    /// Wait for `go` before the first call.
    pub wait_for_go: bool,
    /// The lease TTL of the worker's client.
    pub lease_ttl: Option<Duration>,
}

impl Worker {
    pub fn start(spec: &str, base: &str, options: &WorkerOptions) -> Worker {
        let mut cmd = Command::new(std::env::current_exe().unwrap());
        cmd.args(&options.args)
            .env("WB_FLEET_STORE", spec)
            .env("WB_FLEET_BASE", base)
            .env(
                "WB_FLEET_COORDINATE",
                if options.uncoordinated { "0" } else { "1" },
            )
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        if options.wait_for_go {
            cmd.env("WB_FLEET_WAIT", "1");
        }
        if let Some(ttl) = options.lease_ttl {
            cmd.env("WB_FLEET_LEASE_TTL_MS", ttl.as_millis().to_string());
        }
        let mut child = cmd.spawn().unwrap();
        let out = BufReader::new(child.stdout.take().unwrap());
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in out.lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Worker { child, lines }
    }

    pub fn send(&mut self, command: &str) {
        let stdin = self.child.stdin.as_mut().unwrap();
        stdin.write_all(command.as_bytes()).unwrap();
        stdin.write_all(b"\n").unwrap();
    }

    /// What follows `marker` on the first stdout line holding it (a test binary prints
    /// `test <name> ... ` before the worker's first line), within [`WAIT`].
    pub fn line_with(&mut self, marker: &str) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    if let Some(at) = line.find(marker) {
                        return line[at + marker.len()..].trim().to_string();
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    let _ = self.child.kill();
                    panic!("no `{marker}` line from a worker within {WAIT:?}");
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    panic!("a worker ended before `{marker}`");
                }
            }
        }
    }

    /// Stops the worker and returns what it measured.
    pub fn finish(mut self) -> WorkerResult {
        self.send("stop");
        let result = self.line_with("RESULT");
        let mut parts = result.splitn(6, ' ');
        let mut next = || parts.next().unwrap_or("").to_string();
        let r = WorkerResult {
            ok: next().parse().unwrap(),
            failed: next().parse().unwrap(),
            p50_us: next().parse().unwrap(),
            p99_us: next().parse().unwrap(),
            max_us: next().parse().unwrap(),
            last_error: next(),
        };
        assert!(self.child.wait().unwrap().success());
        r
    }
}

/// One worker's counts and call latencies (µs).
#[derive(Clone, Debug, Default)]
pub struct WorkerResult {
    pub ok: u64,
    pub failed: u64,
    pub p50_us: u64,
    pub p99_us: u64,
    pub max_us: u64,
    pub last_error: String,
}

/// A simulator with dynamic registration and auto-approved consent, on its own runtime.
pub fn simulator() -> (tokio::runtime::Runtime, SimHandle) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sim = rt
        .block_on(Simulator::start(SimConfig {
            dcr: true,
            auto_approve: true,
            ..SimConfig::default()
        }))
        .unwrap();
    (rt, sim)
}

/// An OAuth sign-in at the simulator (dynamic registration, auto-approved) stored in the
/// shared store: the credentials every worker starts from.
pub fn seed(sim: &SimHandle, store: &dyn SharedStore) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let env = Environment::parse(sim.base_url()).unwrap();
    let config = workboard_core::oauth::flow::McpAuthConfig::workboard(
        &env,
        "http://127.0.0.1:8765/callback",
    );
    let signed = rt
        .block_on(async {
            let transport = ReqwestTransport::new().unwrap();
            workboard_native::sign_in_mcp(&transport, config, Approver::Headless).await
        })
        .unwrap()
        .expect("the simulator asks for authorization");
    assert!(signed.credentials.can_refresh());
    put(
        store,
        keys::CREDENTIALS,
        Some(&signed.credentials.to_json()),
    )
    .unwrap();
    put(store, keys::AUTH_CONTEXT, Some(&signed.context.to_json())).unwrap();
}

/// What a fleet run measured.
#[derive(Clone, Debug, Default)]
pub struct FleetReport {
    pub processes: usize,
    pub expiries: u64,
    pub refreshes: u64,
    /// Refresh-token reuses the simulator detected (each revokes the grant).
    pub reuses: u64,
    pub ok: u64,
    pub failed: u64,
    /// The worst worker's p99 and max call latency (µs).
    pub p99_us: u64,
    pub max_us: u64,
    pub last_error: String,
}

/// K workers on `spec` (seeded first); the simulator expires every access token `expiries`
/// times, `every` apart.
pub fn run_fleet(
    sim: &SimHandle,
    spec: &str,
    store: &dyn SharedStore,
    k: usize,
    expiries: u64,
    every: Duration,
    options: &WorkerOptions,
) -> FleetReport {
    seed(sim, store);
    let mut workers: Vec<Worker> = (0..k)
        .map(|_| Worker::start(spec, sim.base_url(), options))
        .collect();
    for w in &mut workers {
        w.line_with("CALLED");
    }
    let before = sim.counters();
    for _ in 0..expiries {
        // Calls run with the current token for a while, then every access token dies at once.
        std::thread::sleep(every);
        sim.faults().expire_tokens();
    }
    std::thread::sleep(every);
    let after = sim.counters();
    let mut report = FleetReport {
        processes: k,
        expiries,
        refreshes: after.get("token:refresh_token") - before.get("token:refresh_token"),
        reuses: after.get("token:refresh_reuse") - before.get("token:refresh_reuse"),
        ..FleetReport::default()
    };
    for w in workers {
        let r = w.finish();
        report.ok += r.ok;
        report.failed += r.failed;
        report.p99_us = report.p99_us.max(r.p99_us);
        report.max_us = report.max_us.max(r.max_us);
        if r.failed > 0 {
            report.last_error = r.last_error;
        }
    }
    report
}
