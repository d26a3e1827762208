//! MCP 2026-07-28 figures for the native adapter (issue 13; run by `scripts/bench.sh`, which
//! starts the servers). For each `--target JSON` (`{"label", "url", "token", "stats", "tool",
//! "args"}`; `stats` is the server's counter endpoint: `…/__stats` of tests/ts-sdk/server2.mjs
//! or `…/__sim/stats` of workboard-sim), prints one JSON line:
//!
//! - `fresh`: from stored credentials alone (no era known) to the first `tools/list` result,
//!   the HTTP requests the client sent, its sequential round trips, and the requests the
//!   server counted (`server_requests`);
//! - `cached`: clients restored from the state the first one saved (the era, and the tool
//!   list while its `ttlMs` lasts): the requests of a first `tools/list`
//!   (`list_http_requests`), and, on another one, the requests sent before its first
//!   `tools/call` went out (`before_first_call`);
//! - `call`: tool-call overhead, `Client::call_tool` (the native client, through its reactor)
//!   against a raw reqwest POST of the same bytes (the same headers and body as the client
//!   sends), `--calls N` of each, interleaved after a warm-up: median and p95 in µs.
//!
//! Asserts nothing about speed (it fails only when a call fails).
//!
//! ```text
//! cargo run --release -p workboard-native --example bench_modern -- --calls 200 \
//!   --target '{"label":"sim","url":"http://127.0.0.1:8080/wb/mcp","token":"wbp_demo_personal_token",
//!              "stats":"http://127.0.0.1:8080/__sim/stats","tool":"get_current_user","args":{}}'
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::cell::RefCell;
use std::time::Instant;

use serde_json::{json, Value};
use workboard_core::connection::{CallOutput, Connection, ConnectionConfig};
use workboard_core::{
    drive, Clock, Credentials, HttpRequest, HttpResponse, Transport, TransportError,
};
use workboard_native::{Client, ReqwestTransport, SystemClock};

/// Records when each request started and when its response arrived.
struct Counting {
    inner: ReqwestTransport,
    t0: Instant,
    log: RefCell<Vec<Entry>>,
}

struct Entry {
    rpc: String,
    start: f64,
    end: f64,
    request: HttpRequest,
}

impl Counting {
    fn new(inner: &ReqwestTransport) -> Counting {
        Counting {
            inner: inner.clone(),
            t0: Instant::now(),
            log: RefCell::new(Vec::new()),
        }
    }

    fn labels(&self) -> Vec<String> {
        self.log
            .borrow()
            .iter()
            .map(|e| {
                let method = format!("{:?}", e.request.method).to_uppercase();
                format!("{method} {}", e.rpc).trim().to_string()
            })
            .collect()
    }
}

impl Transport for Counting {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let rpc = serde_json::from_slice::<Value>(&request.body)
            .ok()
            .and_then(|v| v.get("method").and_then(Value::as_str).map(str::to_string))
            .unwrap_or_default();
        let start = self.t0.elapsed().as_secs_f64();
        let kept = request.clone();
        let r = self.inner.send(request).await;
        let end = self.t0.elapsed().as_secs_f64();
        self.log.borrow_mut().push(Entry {
            rpc,
            start,
            end,
            request: kept,
        });
        r
    }
}

/// The longest chain of requests where each started after the previous one's response (the
/// definition tests/ts-sdk/roundtrips-lib.mjs uses).
fn sequential_round_trips(entries: &[Entry]) -> usize {
    let mut depth: Vec<usize> = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        let d = (0..i)
            .filter(|&j| entries[j].end <= e.start)
            .map(|j| depth[j] + 1)
            .max()
            .unwrap_or(1);
        depth.push(d);
    }
    depth.into_iter().max().unwrap_or(0)
}

/// Median and p95 (nearest rank) of microsecond samples.
fn median_p95(v: &mut [f64]) -> (f64, f64) {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let p95 = ((v.len() as f64 * 0.95).ceil() as usize).clamp(1, v.len()) - 1;
    (v[v.len() / 2], v[p95])
}

/// MCP requests the server counted so far.
async fn server_requests(http: &reqwest::Client, stats_url: &str) -> u64 {
    let text = http
        .get(stats_url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let s: Value = serde_json::from_str(&text).unwrap();
    if let Some(c) = s.get("counters") {
        // workboard-sim: the `mcp` route counter (every request to the MCP endpoint).
        c.get("mcp").and_then(Value::as_u64).unwrap_or(0)
    } else {
        // server2.mjs: requests to /mcp by HTTP method.
        ["POST", "GET", "DELETE", "OTHER"]
            .iter()
            .filter_map(|k| s.get(*k).and_then(Value::as_u64))
            .sum()
    }
}

struct Target {
    label: String,
    url: String,
    token: String,
    stats: String,
    tool: String,
    args: Value,
}

fn parse_args() -> (Vec<Target>, usize) {
    let mut targets = Vec::new();
    let mut calls = 200;
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        match flag.as_str() {
            "--target" => {
                let v: Value = serde_json::from_str(&it.next().expect("--target JSON"))
                    .expect("--target: JSON object");
                let s = |k: &str| {
                    v[k].as_str()
                        .unwrap_or_else(|| panic!("--target needs \"{k}\""))
                        .to_string()
                };
                targets.push(Target {
                    label: s("label"),
                    url: s("url"),
                    token: s("token"),
                    stats: s("stats"),
                    tool: s("tool"),
                    args: v.get("args").cloned().unwrap_or_else(|| json!({})),
                });
            }
            "--calls" => {
                calls = it
                    .next()
                    .and_then(|n| n.parse().ok())
                    .filter(|n| *n > 0)
                    .expect("--calls N (N > 0)")
            }
            other => {
                eprintln!(
                    "unknown argument {other}\nusage: bench_modern --target JSON... [--calls N]"
                );
                std::process::exit(2);
            }
        }
    }
    if targets.is_empty() {
        eprintln!("usage: bench_modern --target JSON... [--calls N]");
        std::process::exit(2);
    }
    (targets, calls)
}

fn connection(t: &Target, state: Option<&str>) -> Connection {
    let mut config =
        ConnectionConfig::new(t.url.clone()).credentials(Credentials::personal(t.token.clone()));
    if let Some(s) = state {
        config = config.restored_state(s.to_string());
    }
    Connection::new(config).unwrap()
}

/// The time the calls are submitted at: the clock the driver runs on.
fn now_ms() -> u64 {
    SystemClock.now_ms()
}

async fn bench(
    t: &Target,
    http: &ReqwestTransport,
    stats: &reqwest::Client,
    calls: usize,
) -> Value {
    // Fresh: credentials only, nothing known of the server.
    let before = server_requests(stats, &t.stats).await;
    let fresh = Counting::new(http);
    let mut conn = connection(t, None);
    let h = conn.list_tools(now_ms());
    drive(&mut conn, &fresh, &SystemClock).await;
    let tools = match conn.poll_result(h) {
        Some(Ok(CallOutput::Tools(tools))) => tools.len(),
        other => panic!("{}: tools/list failed: {other:?}", t.label),
    };
    let seen = server_requests(stats, &t.stats).await - before;
    let state = conn.save_state();
    let fresh_json = {
        let log = fresh.log.borrow();
        json!({
            "http_requests": log.len(),
            "sequential_round_trips": sequential_round_trips(&log),
            "server_requests": seen,
            "tools_list_pages": log.iter().filter(|e| e.rpc == "tools/list").count(),
            "tools": tools,
            "requests": fresh.labels(),
            "protocol_version": serde_json::from_str::<Value>(&state)
                .ok()
                .and_then(|s| s.get("protocol_version").cloned()),
        })
    };

    // Cached: restored from the saved state (era; tool list while its ttl lasts). One
    // restored client lists the tools; another calls the tool straight away.
    let listed = Counting::new(http);
    let mut conn = connection(t, Some(&state));
    let h = conn.list_tools(now_ms());
    drive(&mut conn, &listed, &SystemClock).await;
    assert!(
        matches!(conn.poll_result(h), Some(Ok(CallOutput::Tools(_)))),
        "{}: cached tools/list failed",
        t.label
    );
    let called = Counting::new(http);
    let mut conn = connection(t, Some(&state));
    let h = conn.call_tool(&t.tool, t.args.clone(), now_ms());
    drive(&mut conn, &called, &SystemClock).await;
    match conn.poll_result(h) {
        Some(Ok(CallOutput::ToolResult(r))) if !r.is_error => {}
        other => panic!("{}: tools/call {} failed: {other:?}", t.label, t.tool),
    }
    let (first_call, template) = {
        let log = called.log.borrow();
        let i = log
            .iter()
            .position(|e| e.rpc == "tools/call")
            .expect("a tools/call request");
        (i, log[i].request.clone())
    };
    let cached_json = json!({
        "list_http_requests": listed.log.borrow().len(),
        "list_requests": listed.labels(),
        "before_first_call": first_call,
        "call_requests": called.labels(),
    });

    // Tool-call overhead: the native client vs a raw POST of the same bytes.
    let client = Client::builder()
        .server_url(t.url.clone())
        .credentials(Credentials::personal(t.token.clone()))
        .transport(http.clone())
        .build()
        .unwrap();
    let raw = reqwest::Client::new();
    let raw_call = || {
        let mut b = raw.post(&template.url).body(template.body.clone());
        for (k, v) in &template.headers {
            b = b.header(k, v);
        }
        async move {
            let r = b.send().await.unwrap();
            assert!(r.status().is_success(), "raw POST: {}", r.status());
            r.bytes().await.unwrap()
        }
    };
    let ours_call = || {
        let c = client.call_tool(&t.tool, t.args.clone());
        async move {
            let r = c.await.unwrap();
            assert!(!r.is_error, "{r:?}");
        }
    };
    for _ in 0..calls.min(50) {
        raw_call().await;
        ours_call().await;
    }
    let (mut ours, mut base) = (Vec::with_capacity(calls), Vec::with_capacity(calls));
    for _ in 0..calls {
        let t0 = Instant::now();
        raw_call().await;
        base.push(t0.elapsed().as_secs_f64() * 1e6);
        let t0 = Instant::now();
        ours_call().await;
        ours.push(t0.elapsed().as_secs_f64() * 1e6);
    }
    let (om, op) = median_p95(&mut ours);
    let (bm, bp) = median_p95(&mut base);
    json!({
        "label": t.label,
        "fresh": fresh_json,
        "cached": cached_json,
        "call": {
            "calls": calls, "body_bytes": template.body.len(),
            "ours_median_us": om, "ours_p95_us": op,
            "raw_median_us": bm, "raw_p95_us": bp,
        },
    })
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let (targets, calls) = parse_args();
    let http = ReqwestTransport::new().unwrap();
    let stats = reqwest::Client::new();
    for t in &targets {
        println!("{}", bench(t, &http, &stats, calls).await);
    }
}
