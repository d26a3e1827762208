//! End to end: `workboard bridge` as a stdio MCP server, driven line by line like an AI client
//! drives it, against the in-process simulator in each of its eras: a legacy stdio client
//! (`initialize`) and a modern one (`server/discover`, per-request `_meta`), tools, a tool
//! call whose elicitation the stdio client answers, resources, prompts, pass-through of
//! unknown methods, cancellation, and hostile input (non-JSON, a 20 MB line, bad ids, early
//! EOF): JSON-RPC errors or a clean exit, never a panic or a hang. Every wait is bounded.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::Write;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use workboard_sim::{Era, SimConfig, SimHandle, Simulator, DEMO_PERSONAL_TOKEN};

const BIN: &str = env!("CARGO_BIN_EXE_workboard");
/// Longest wait for one message.
const WAIT: Duration = Duration::from_secs(30);
const MODERN: &str = "2026-07-28";

struct Sim {
    handle: SimHandle,
    _rt: tokio::runtime::Runtime,
}

impl Sim {
    fn start(era: Era) -> Sim {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let handle = rt.block_on(Simulator::start(SimConfig::default())).unwrap();
        handle.set_era(era);
        Sim { handle, _rt: rt }
    }
}

/// A running bridge: its stdin, its stdout lines as they come, its stderr at the end.
struct Bridge {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    stderr: std::thread::JoinHandle<String>,
    _dir: tempfile::TempDir,
}

impl Bridge {
    fn start(sim: &Sim) -> Bridge {
        Bridge::start_with(sim, true, &[], &[])
    }

    /// A bridge with (`token`) or without the demo token in its store, more arguments after
    /// `bridge`, and environment variables.
    fn start_with(sim: &Sim, token: bool, args: &[&str], env: &[(&str, &str)]) -> Bridge {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("credentials.json");
        let base = sim.handle.base_url().to_string();
        if token {
            Bridge::set_token(&store, &base);
        }
        let mut cmd = Command::new(BIN);
        cmd.args(["--store", store.to_str().unwrap(), "--env", &base]);
        cmd.args(args.iter().take_while(|a| **a != "bridge"));
        cmd.arg("bridge");
        cmd.args(args.iter().skip_while(|a| **a != "bridge").skip(1));
        for (k, v) in env {
            cmd.env(k, v);
        }
        let p = common::spawn_piped(
            cmd.env_remove("WORKBOARD_ENV")
                .env_remove("WORKBOARD_SERVER")
                .env_remove("WORKBOARD_STEP_UP"),
        );
        Bridge {
            stdin: p.stdin,
            child: p.child,
            lines: p.lines,
            stderr: p.stderr,
            _dir: dir,
        }
    }

    fn set_token(store: &std::path::Path, base: &str) {
        let mut set = Command::new(BIN)
            .args([
                "--store",
                store.to_str().unwrap(),
                "--env",
                base,
                "token",
                "set",
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        set.stdin
            .take()
            .unwrap()
            .write_all(format!("{DEMO_PERSONAL_TOKEN}\n").as_bytes())
            .unwrap();
        assert!(set.wait().unwrap().success());
    }

    fn write_raw(&mut self, bytes: &[u8]) {
        let stdin = self.stdin.as_mut().unwrap();
        stdin.write_all(bytes).unwrap();
        stdin.flush().unwrap();
    }

    fn send(&mut self, v: Value) {
        let mut line = serde_json::to_vec(&v).unwrap();
        line.push(b'\n');
        self.write_raw(&line);
    }

    /// The next message on stdout (every line must be one JSON-RPC object).
    fn next(&mut self) -> Value {
        let line = self
            .lines
            .recv_timeout(WAIT)
            .unwrap_or_else(|_| panic!("no message within {WAIT:?}"));
        let v: Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("stdout carries a non-JSON line ({e}): {line}"));
        assert_eq!(v["jsonrpc"], "2.0", "{v}");
        v
    }

    /// The response to `id` (other messages before it are returned too, in order).
    fn response(&mut self, id: Value) -> (Value, Vec<Value>) {
        let mut others = Vec::new();
        loop {
            let m = self.next();
            if m["id"] == id && m.get("method").is_none() {
                return (m, others);
            }
            others.push(m);
        }
    }

    fn call(&mut self, id: i64, method: &str, params: Value) -> Value {
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        self.response(json!(id)).0
    }

    /// Closes stdin and waits (bounded) for a clean exit; returns stderr.
    fn finish(mut self) -> String {
        drop(self.stdin.take());
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                assert!(status.success(), "bridge exit status {status}");
                break;
            }
            if start.elapsed() > WAIT {
                let _ = self.child.kill();
                panic!("the bridge did not exit after stdin closed");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let stderr = self.stderr.join().unwrap();
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(
            !stderr.contains(DEMO_PERSONAL_TOKEN),
            "a secret in the logs"
        );
        stderr
    }
}

fn modern_meta() -> Value {
    json!({"_meta": {"io.modelcontextprotocol/protocolVersion": MODERN,
        "io.modelcontextprotocol/clientInfo": {"name": "t", "version": "1"},
        "io.modelcontextprotocol/clientCapabilities": {}}})
}

fn initialize(b: &mut Bridge, capabilities: Value) -> Value {
    let r = b.call(
        1,
        "initialize",
        json!({"protocolVersion": "2025-06-18", "capabilities": capabilities,
               "clientInfo": {"name": "legacy-ai-client", "version": "1"}}),
    );
    b.send(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
    r
}

/// A legacy stdio client on a dual-era server and on a modern-only one (the bridge speaks
/// 2026-07-28 upstream): the same answers, and the server's elicitation reaches the stdio
/// client as its own request (an MRTR round upstream on the modern server).
#[test]
fn a_legacy_stdio_client_works_against_either_era_and_answers_elicitation() {
    for era in [Era::Dual, Era::Modern, Era::Legacy] {
        let sim = Sim::start(era);
        let mut b = Bridge::start(&sim);
        let init = initialize(&mut b, json!({"elicitation": {}}));
        let r = &init["result"];
        assert_eq!(r["protocolVersion"], "2025-06-18", "{era:?}: {init}");
        assert_eq!(r["serverInfo"]["name"], "workboard-sim", "{init}");
        assert!(r["capabilities"]["tools"].is_object(), "{init}");
        let tools = b.call(2, "tools/list", json!({}));
        let names: Vec<&str> = tools["result"]["tools"]
            .as_array()
            .unwrap_or_else(|| panic!("{era:?}: {tools}"))
            .iter()
            .filter_map(|t| t["name"].as_str())
            .collect();
        assert!(!names.is_empty(), "{tools}");
        assert!(
            tools["result"].get("resultType").is_none(),
            "a legacy client gets legacy results"
        );
        // The tool asks for a form: the bridge asks the stdio client, which answers.
        b.send(json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call",
            "params": {"name": "draft_check_in", "arguments": {"key_result_id": 401}}}));
        let ask = b.next();
        assert_eq!(ask["method"], "elicitation/create", "{era:?}: {ask}");
        assert!(ask["id"].is_number(), "a request of the bridge: {ask}");
        b.send(json!({"jsonrpc": "2.0", "id": ask["id"],
            "result": {"action": "accept", "content": {"confidence": 7, "note": "on track"}}}));
        let (done, _) = b.response(json!(3));
        let text = done["result"]["content"][0]["text"].as_str().unwrap_or("");
        assert!(text.contains("confidence 7/10"), "{era:?}: {done}");
        // Resources and prompts go through as the server sent them.
        let listed = b.call(4, "resources/list", json!({}));
        let uri = listed["result"]["resources"][0]["uri"]
            .as_str()
            .unwrap_or_else(|| panic!("{listed}"))
            .to_string();
        let read = b.call(5, "resources/read", json!({"uri": uri}));
        assert_eq!(read["result"]["contents"][0]["uri"], uri.as_str(), "{read}");
        let prompts = b.call(6, "prompts/list", json!({}));
        assert!(
            prompts["result"]["prompts"][0]["name"].is_string(),
            "{prompts}"
        );
        // A method the bridge does not know is the server's to refuse.
        let unknown = b.call(7, "no/such-method", json!({}));
        assert_eq!(unknown["error"]["code"], -32601, "{unknown}");
        b.finish();
    }
}

/// A modern stdio client: `server/discover` first, then stateless requests; results carry
/// `resultType`; an unknown version is `-32022` naming what the bridge speaks.
#[test]
fn a_modern_stdio_client_discovers_and_calls_against_either_era() {
    for era in [Era::Modern, Era::Legacy] {
        let sim = Sim::start(era);
        let mut b = Bridge::start(&sim);
        let d = b.call(1, "server/discover", modern_meta());
        let r = &d["result"];
        assert_eq!(r["resultType"], "complete", "{era:?}: {d}");
        let versions: Vec<&str> = r["supportedVersions"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert!(versions.contains(&MODERN), "{d}");
        assert_eq!(
            r["_meta"]["io.modelcontextprotocol/serverInfo"]["name"],
            "workboard-sim"
        );
        let tools = b.call(2, "tools/list", modern_meta());
        assert_eq!(
            tools["result"]["resultType"], "complete",
            "{era:?}: {tools}"
        );
        assert!(tools["result"]["tools"]
            .as_array()
            .is_some_and(|t| !t.is_empty()));
        let mut params = modern_meta();
        params["name"] = json!("list_teams");
        params["arguments"] = json!({});
        let call = b.call(3, "tools/call", params);
        assert!(call["result"]["content"].is_array(), "{era:?}: {call}");
        if era == Era::Modern {
            // The client runs its input round itself (MRTR through the bridge).
            let mut ask = modern_meta();
            ask["_meta"]["io.modelcontextprotocol/clientCapabilities"] =
                json!({"elicitation": {"form": {}}});
            ask["name"] = json!("draft_check_in");
            ask["arguments"] = json!({"key_result_id": 401});
            let round = b.call(5, "tools/call", ask.clone());
            let r = &round["result"];
            assert_eq!(r["resultType"], "input_required", "{round}");
            let (key, request) = r["inputRequests"]
                .as_object()
                .unwrap()
                .iter()
                .next()
                .unwrap();
            assert_eq!(request["method"], "elicitation/create");
            ask["inputResponses"] = json!({key.as_str(): {"action": "accept",
                "content": {"confidence": 6, "note": "fine"}}});
            ask["requestState"] = r["requestState"].clone();
            let done = b.call(6, "tools/call", ask);
            assert_eq!(done["result"]["resultType"], "complete", "{done}");
            let text = done["result"]["content"][0]["text"].as_str().unwrap_or("");
            assert!(text.contains("confidence 6/10"), "{done}");
        }
        let mut old = modern_meta();
        old["_meta"]["io.modelcontextprotocol/protocolVersion"] = json!("2099-01-01");
        let refused = b.call(4, "tools/list", old);
        assert_eq!(refused["error"]["code"], -32022, "{refused}");
        assert!(refused["error"]["data"]["supported"]
            .as_array()
            .unwrap()
            .contains(&json!(MODERN)));
        b.finish();
    }
}

/// Bad input never breaks the bridge: each bad line gets a JSON-RPC error (or is ignored, for
/// a notification), the next good request is answered, and EOF ends it cleanly.
#[test]
fn hostile_stdin_gets_json_rpc_errors_and_a_clean_exit() {
    let sim = Sim::start(Era::Dual);
    let mut b = Bridge::start(&sim);
    initialize(&mut b, json!({}));
    b.write_raw(b"this is not json\n");
    let e = b.next();
    assert_eq!(e["error"]["code"], -32700, "{e}");
    assert_eq!(e["id"], Value::Null);
    b.write_raw(b"[1, 2, 3]\n");
    assert_eq!(b.next()["error"]["code"], -32700);
    // A 20 MB line: refused without being kept, then the stream goes on.
    let mut big = Vec::with_capacity(20 * 1024 * 1024 + 64);
    big.extend_from_slice(br#"{"jsonrpc":"2.0","id":9,"method":"tools/list","params":{"x":""#);
    big.resize(20 * 1024 * 1024, b'a');
    big.extend_from_slice(b"\"}}\n");
    b.write_raw(&big);
    let e = b.next();
    assert_eq!(e["error"]["code"], -32700, "{e}");
    let msg = e["error"]["message"].as_str().unwrap();
    assert!(msg.len() < 200, "bounded: {msg}");
    // Ids that are not a string or a number, a request without a method.
    b.send(json!({"jsonrpc": "2.0", "id": {"a": 1}, "method": "tools/list"}));
    assert_eq!(b.next()["error"]["code"], -32600);
    b.send(json!({"jsonrpc": "2.0"}));
    assert_eq!(b.next()["error"]["code"], -32600);
    // An unknown notification is ignored; the bridge still answers.
    b.send(json!({"jsonrpc": "2.0", "method": "notifications/whatever"}));
    let pong = b.call(10, "ping", json!({}));
    assert_eq!(pong["result"], json!({}), "{pong}");
    // Early EOF in the middle of a line: a clean exit.
    b.write_raw(br#"{"jsonrpc":"2.0","id":11,"meth"#);
    let stderr = b.finish();
    assert!(stderr.contains("stdin closed"), "{stderr}");
}

/// A cancelled request gets no answer; the others do.
#[test]
fn a_cancelled_request_is_not_answered() {
    let sim = Sim::start(Era::Dual);
    let mut b = Bridge::start(&sim);
    initialize(&mut b, json!({"elicitation": {}}));
    // A call that waits on the stdio client (its form), cancelled meanwhile.
    b.send(json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
        "params": {"name": "draft_check_in", "arguments": {"key_result_id": 401}}}));
    let ask = b.next();
    assert_eq!(ask["method"], "elicitation/create", "{ask}");
    b.send(
        json!({"jsonrpc": "2.0", "method": "notifications/cancelled",
        "params": {"requestId": 2, "reason": "user"}}),
    );
    let pong = b.call(3, "ping", json!({}));
    assert_eq!(pong["result"], json!({}));
    // Whatever comes after, nothing answers request 2.
    let tools = b.call(4, "tools/list", json!({}));
    assert!(tools["result"]["tools"].is_array());
    drop(b.stdin.take());
    while let Ok(line) = b.lines.recv_timeout(WAIT) {
        let v: Value = serde_json::from_str(&line).unwrap();
        assert_ne!(v["id"], json!(2), "a cancelled request was answered: {v}");
    }
    b.finish();
}

/// Nothing stored and a server that wants OAuth: the bridge signs in (here headless, against
/// an auto-approving simulator with dynamic registration) and the request goes once more;
/// the sign-in is kept in the store for the next start.
#[test]
fn a_server_that_wants_a_sign_in_gets_one_then_the_request_goes_again() {
    let sim = Sim::start(Era::Dual);
    sim.handle.set_dcr(true);
    sim.handle.set_auto_approve(true);
    let mut b = Bridge::start_with(&sim, false, &["--step-up", "headless", "bridge"], &[]);
    initialize(&mut b, json!({}));
    let tools = b.call(2, "tools/list", json!({}));
    if !tools["result"]["tools"].is_array() {
        panic!("{tools}\nbridge stderr: {}", b.finish());
    }
    let again = b.call(3, "tools/list", json!({}));
    assert!(again["result"]["tools"].is_array(), "{again}");
    let counters = sim.handle.counters();
    assert_eq!(
        counters.get("token:authorization_code"),
        1,
        "one sign-in: {counters:?}"
    );
    let stderr = b.finish();
    assert!(stderr.contains("signed in"), "{stderr}");
    // Without a way to approve (--step-up never), the server's refusal is the answer.
    let mut b = Bridge::start_with(&sim, false, &["--step-up", "never", "bridge"], &[]);
    initialize(&mut b, json!({}));
    let refused = b.call(2, "tools/list", json!({}));
    assert_eq!(
        refused["error"]["data"]["code"], "not_signed_in",
        "{refused}"
    );
    b.finish();
}

/// `--header` as mcp-remote takes it: the variable is read from the environment (the token
/// is never on the command line), nothing is stored; an unset variable is a usage error.
#[test]
fn a_header_from_the_environment_is_used_instead_of_the_store() {
    let sim = Sim::start(Era::Dual);
    let mut b = Bridge::start_with(
        &sim,
        false,
        &[
            "bridge",
            "--header",
            "Authorization: Bearer ${WB_TEST_TOKEN}",
        ],
        &[("WB_TEST_TOKEN", DEMO_PERSONAL_TOKEN)],
    );
    initialize(&mut b, json!({}));
    let tools = b.call(2, "tools/list", json!({}));
    assert!(tools["result"]["tools"].is_array(), "{tools}");
    let stderr = b.finish();
    assert!(
        !stderr.contains("visible to every local process"),
        "{stderr}"
    );
    // mcp-remote's other spelling, `Authorization:${VAR}` with the whole value in the variable.
    let mut b = Bridge::start_with(
        &sim,
        false,
        &["bridge", "--header", "Authorization:${WB_AUTH}"],
        &[("WB_AUTH", &format!("Bearer {DEMO_PERSONAL_TOKEN}"))],
    );
    initialize(&mut b, json!({}));
    assert!(b.call(2, "tools/list", json!({}))["result"]["tools"].is_array());
    b.finish();
    // Unset: exit 2 before anything is served, naming the variable.
    let out = Command::new(BIN)
        .args([
            "--env",
            sim.handle.base_url(),
            "bridge",
            "--header",
            "Authorization: Bearer ${WB_UNSET_VAR}",
        ])
        .env_remove("WB_UNSET_VAR")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("WB_UNSET_VAR"), "{err}");
    assert!(
        out.stdout.is_empty(),
        "stdout carries protocol messages only"
    );
}
