//! End-to-end figures for the native adapter (run by `scripts/bench.sh`, which starts the
//! servers). Prints, as text and as one JSON line:
//!
//! 1. HTTP requests and sequential round trips from stored credentials to the first
//!    `tools/list` result, against each `--server URL TOKEN` given;
//! 2. tool-call overhead: `Client::call_tool` against a raw reqwest POST of the same bytes
//!    (same headers, same session) on loopback, as a ratio of medians;
//! 3. memory per initialized MCP session: `--sessions N` clients sharing one HTTP client,
//!    each with an initialized session, RSS growth divided by N.
//!
//! ```text
//! cargo run --release -p workboard-native --example bench -- \
//!   --server http://127.0.0.1:8080/wb/mcp wbp_demo_personal_token [--server URL TOKEN]... \
//!   [--calls 2000] [--sessions 10000]
//! ```
//! The first `--server` is used for parts 2 and 3.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::cell::RefCell;
use std::time::{Duration, Instant};

use workboard_core::connection::{Connection, ConnectionConfig};
use workboard_core::{
    drive, Clock, Credentials, HttpRequest, HttpResponse, Transport, TransportError,
};
use workboard_native::{Client, Reactor, ReqwestTransport, SystemClock};

/// Records when each request started and when its response arrived.
struct Counting {
    inner: ReqwestTransport,
    t0: Instant,
    log: RefCell<Vec<Entry>>,
}

struct Entry {
    label: String,
    start: f64,
    end: f64,
    request: HttpRequest,
}

impl Transport for Counting {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let label = describe(&request);
        let start = self.t0.elapsed().as_secs_f64();
        let kept = request.clone();
        let r = self.inner.send(request).await;
        let end = self.t0.elapsed().as_secs_f64();
        self.log.borrow_mut().push(Entry {
            label,
            start,
            end,
            request: kept,
        });
        r
    }
}

fn describe(r: &HttpRequest) -> String {
    let rpc = serde_json::from_slice::<serde_json::Value>(&r.body)
        .ok()
        .and_then(|v| v.get("method").and_then(|m| m.as_str()).map(str::to_string))
        .unwrap_or_default();
    format!("{:?} {rpc}", r.method).trim().to_string()
}

/// The longest chain of requests where each started after the previous one's response (the
/// same definition as tests/ts-sdk/client-roundtrips.mjs).
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

fn rss_kib() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

struct Args {
    servers: Vec<(String, String)>,
    calls: usize,
    sessions: usize,
}

fn args() -> Args {
    let mut a = Args {
        servers: Vec::new(),
        calls: 2000,
        sessions: 10_000,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        match flag.as_str() {
            "--server" => a
                .servers
                .push((it.next().expect("URL"), it.next().expect("TOKEN"))),
            "--calls" => a.calls = it.next().and_then(|n| n.parse().ok()).expect("--calls N"),
            "--sessions" => {
                a.sessions = it
                    .next()
                    .and_then(|n| n.parse().ok())
                    .expect("--sessions N")
            }
            other => {
                eprintln!("unknown argument {other}");
                std::process::exit(2);
            }
        }
    }
    if a.servers.is_empty() {
        eprintln!(
            "usage: bench --server URL TOKEN [--server URL TOKEN]... [--calls N] [--sessions N]"
        );
        std::process::exit(2);
    }
    a
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args = args();
    let http = ReqwestTransport::new().unwrap();
    let mut report = serde_json::Map::new();

    // 1. Requests and round trips from credentials to the first tools/list.
    let mut trips = Vec::new();
    for (url, token) in &args.servers {
        let transport = Counting {
            inner: http.clone(),
            t0: Instant::now(),
            log: RefCell::new(Vec::new()),
        };
        let mut conn = Connection::new(
            ConnectionConfig::new(url.clone()).credentials(Credentials::personal(token.clone())),
        )
        .unwrap();
        let h = conn.list_tools(SystemClock.now_ms());
        drive(&mut conn, &transport, &SystemClock).await;
        let tools = match conn.poll_result(h) {
            Some(Ok(workboard_core::connection::CallOutput::Tools(t))) => t.len(),
            other => panic!("tools/list against {url} failed: {other:?}"),
        };
        let log = transport.log.borrow();
        let labels: Vec<&str> = log.iter().map(|e| e.label.as_str()).collect();
        let rt = sequential_round_trips(&log);
        println!("[1] {url}: {} HTTP requests, {rt} sequential round trips to the first tools/list ({tools} tools): {}", log.len(), labels.join(" | "));
        trips.push(serde_json::json!({ "server": url, "http_requests": log.len(), "sequential_round_trips": rt, "tools": tools, "requests": labels }));
    }
    report.insert("to_first_tools_list".into(), trips.into());

    // 2. Tool-call overhead against a raw POST of the same bytes.
    let (url, token) = args.servers[0].clone();
    let client = Client::builder()
        .server_url(url.clone())
        .credentials(Credentials::personal(token.clone()))
        .transport(http.clone())
        .build()
        .unwrap();
    client.connect().await.unwrap();
    // Capture one tools/call exactly as the machine sends it (headers, session, body).
    let capture = Counting {
        inner: http.clone(),
        t0: Instant::now(),
        log: RefCell::new(Vec::new()),
    };
    let mut conn = Connection::new(
        ConnectionConfig::new(url.clone())
            .credentials(Credentials::personal(token.clone()))
            .restored_state(client.session_state()),
    )
    .unwrap();
    let h = conn.call_tool(
        "get_current_user",
        serde_json::json!({}),
        SystemClock.now_ms(),
    );
    drive(&mut conn, &capture, &SystemClock).await;
    assert!(matches!(conn.poll_result(h), Some(Ok(_))));
    let template = capture
        .log
        .borrow()
        .last()
        .map(|e| e.request.clone())
        .unwrap();
    let raw = reqwest::Client::builder().build().unwrap();
    let raw_call = || {
        let mut b = raw.post(&template.url).body(template.body.clone());
        for (k, v) in &template.headers {
            b = b.header(k, v);
        }
        async move {
            let r = b.send().await.unwrap();
            assert!(r.status().is_success());
            r.bytes().await.unwrap()
        }
    };
    for _ in 0..200 {
        raw_call().await;
        client
            .call_tool("get_current_user", serde_json::json!({}))
            .await
            .unwrap();
    }
    let (mut ours, mut base) = (
        Vec::with_capacity(args.calls),
        Vec::with_capacity(args.calls),
    );
    for _ in 0..args.calls {
        let t = Instant::now();
        raw_call().await;
        base.push(t.elapsed().as_secs_f64() * 1e6);
        let t = Instant::now();
        let r = client
            .call_tool("get_current_user", serde_json::json!({}))
            .await
            .unwrap();
        ours.push(t.elapsed().as_secs_f64() * 1e6);
        assert!(!r.is_error);
    }
    // The same machine driven inline on this thread (no reactor hop): separates the core's
    // cost from the handle's cross-thread wake-ups.
    let mut inline = Vec::with_capacity(args.calls);
    for _ in 0..args.calls {
        let t = Instant::now();
        let h = conn.call_tool(
            "get_current_user",
            serde_json::json!({}),
            SystemClock.now_ms(),
        );
        drive(&mut conn, &http, &SystemClock).await;
        assert!(matches!(conn.poll_result(h), Some(Ok(_))));
        inline.push(t.elapsed().as_secs_f64() * 1e6);
    }
    let mi = median(&mut inline);
    let (mo, mb) = (median(&mut ours), median(&mut base));
    println!(
        "[2] tool call, median of {} sequential calls on loopback: Client::call_tool {mo:.1} µs, raw reqwest POST of the same {} bytes {mb:.1} µs → ratio {:.2} ({:+.1} µs per call)",
        args.calls,
        template.body.len(),
        mo / mb,
        mo - mb
    );
    println!(
        "[2] the same call through the core Connection driven inline (no reactor thread): {mi:.1} µs → ratio {:.2} ({:+.1} µs)",
        mi / mb,
        mi - mb
    );
    report.insert(
        "tool_call".into(),
        serde_json::json!({ "calls": args.calls, "ours_median_us": mo, "inline_median_us": mi, "raw_median_us": mb, "ratio": mo / mb, "inline_ratio": mi / mb, "body_bytes": template.body.len() }),
    );
    client.close().await.ok();
    drop(client);

    // 3. Memory per initialized session, many clients sharing one HTTP client.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let reactor = Reactor::new(2).unwrap();
    let before = rss_kib();
    let mut clients = Vec::with_capacity(args.sessions);
    let started = Instant::now();
    for chunk in 0..args.sessions.div_ceil(200) {
        let mut batch = Vec::new();
        for _ in 0..200.min(args.sessions - chunk * 200) {
            let c = Client::builder()
                .server_url(url.clone())
                .credentials(Credentials::personal(token.clone()))
                .transport(http.clone())
                .reactor(reactor.clone())
                .build()
                .unwrap();
            batch.push(c);
        }
        let results = futures_util::future::join_all(batch.iter().map(|c| c.connect())).await;
        for r in results {
            r.unwrap();
        }
        clients.extend(batch);
    }
    let secs = started.elapsed().as_secs_f64();
    let after = rss_kib();
    let initialized = clients
        .iter()
        .filter(|c| {
            serde_json::from_str::<serde_json::Value>(&c.session_state())
                .is_ok_and(|v| v["session_id"].is_string())
        })
        .count();
    match (before, after) {
        (Some(b), Some(a)) => {
            let per = (a.saturating_sub(b) as f64 * 1024.0) / args.sessions as f64;
            println!(
                "[3] {} clients with initialized sessions ({initialized} with a session id) sharing one HTTP client: RSS {b} KiB → {a} KiB, {per:.0} bytes per session (set up in {secs:.1} s)",
                args.sessions
            );
            report.insert(
                "memory".into(),
                serde_json::json!({ "sessions": args.sessions, "with_session_id": initialized, "rss_before_kib": b, "rss_after_kib": a, "bytes_per_session": per, "setup_secs": secs }),
            );
        }
        _ => println!("[3] RSS is not readable on this platform (/proc/self/status)"),
    }
    println!("{}", serde_json::Value::Object(report));
}
