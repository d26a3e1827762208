//! Shared replay harness for `tests/vectors/*.json` (format: tests/vectors/README.md).
//!
//! Each `vectors_*.rs` test file supplies an operation runner for the ops of its area; this
//! module loads the files, scripts the transport, advances the simulated clock and compares
//! results.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::cell::RefCell;
use std::collections::VecDeque;
use std::path::PathBuf;

use serde_json::Value;
use workboard_core::testing::SimClock;
use workboard_core::{
    ErrorInfo, HttpRequest, HttpResponse, Method, RequestId, SeededEntropy, Transport,
    TransportError,
};

/// One vector file.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Vector {
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub seed: String,
    pub start_ms: u64,
    pub steps: Vec<Step>,
}

/// One step.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Step {
    pub op: String,
    #[serde(default)]
    pub args: Value,
    #[serde(default)]
    pub advance_ms: u64,
    #[serde(default)]
    pub exchanges: Vec<Exchange>,
    pub expect: Value,
}

/// One scripted exchange.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize)]
pub struct Exchange {
    pub request: ExpectedRequest,
    pub response: Value,
}

/// The request an op must send.
#[derive(Debug, Clone, PartialEq, serde::Deserialize, serde::Serialize)]
pub struct ExpectedRequest {
    pub method: Method,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

/// Transport that checks each request against the vector's script and answers from it.
#[derive(Default)]
pub struct ReplayTransport {
    pub script: RefCell<VecDeque<Exchange>>,
    pub failures: RefCell<Vec<String>>,
    pub sent: RefCell<Vec<HttpRequest>>,
}

impl ReplayTransport {
    pub fn load(&self, exchanges: &[Exchange]) {
        *self.script.borrow_mut() = exchanges.iter().cloned().collect();
    }
}

impl Transport for ReplayTransport {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        self.sent.borrow_mut().push(request.clone());
        let got = ExpectedRequest {
            method: request.method,
            url: request.url.clone(),
            headers: request.headers.clone(),
            body: String::from_utf8_lossy(&request.body).into_owned(),
        };
        let Some(next) = self.script.borrow_mut().pop_front() else {
            self.failures.borrow_mut().push(format!(
                "unexpected extra request: {}",
                serde_json::to_string(&got).unwrap()
            ));
            return Err(TransportError::Other("no scripted response".into()));
        };
        if next.request != got {
            self.failures.borrow_mut().push(format!(
                "request mismatch\n  expected: {}\n  got:      {}",
                serde_json::to_string(&next.request).unwrap(),
                serde_json::to_string(&got).unwrap()
            ));
        }
        response_from_json(&next.response)
    }
}

/// Builds a response (or transport error) from its transcript JSON.
pub fn response_from_json(v: &Value) -> Result<HttpResponse, TransportError> {
    if let Some(kind) = v.get("transport_error").and_then(Value::as_str) {
        return Err(match kind {
            "connect" => TransportError::Connect("scripted".into()),
            "timeout" => TransportError::Timeout,
            "interrupted" => TransportError::Interrupted("scripted".into()),
            other => TransportError::Other(other.into()),
        });
    }
    Ok(serde_json::from_value::<HttpResponse>(v.clone()).expect("scripted response"))
}

/// Everything an op runner gets.
pub struct Ctx {
    pub transport: ReplayTransport,
    pub clock: SimClock,
    pub entropy: SeededEntropy,
    pub next_id: u64,
}

impl Ctx {
    pub fn next_id(&mut self) -> RequestId {
        self.next_id += 1;
        RequestId(self.next_id)
    }
}

/// Loads every vector whose file name starts with `prefix`.
pub fn load_vectors(prefix: &str) -> Vec<(PathBuf, Vector)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/vectors");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with(prefix) && name.ends_with(".json") {
            let text = std::fs::read_to_string(&path).unwrap();
            let v: Vector =
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            out.push((path, v));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// JSON match where `"*"` in `expected` matches anything.
pub fn json_matches(expected: &Value, actual: &Value) -> bool {
    match (expected, actual) {
        (Value::String(s), _) if s == "*" => true,
        (Value::Object(e), Value::Object(a)) => {
            e.len() == a.len()
                && e.iter()
                    .all(|(k, v)| a.get(k).is_some_and(|av| json_matches(v, av)))
        }
        (Value::Array(e), Value::Array(a)) => {
            e.len() == a.len() && e.iter().zip(a).all(|(x, y)| json_matches(x, y))
        }
        _ => expected == actual,
    }
}

fn hex32(s: &str) -> [u8; 32] {
    let mut out = [0u8; 32];
    assert_eq!(s.len(), 64, "seed must be 64 hex chars");
    for i in 0..32 {
        out[i] = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap();
    }
    out
}

/// Runs every vector with `prefix` through `run_op`. `S` is per-file state.
pub fn replay_all<S: Default>(
    prefix: &str,
    run_op: impl Fn(&mut S, &mut Ctx, &Step) -> Result<Value, ErrorInfo>,
) -> usize {
    let vectors = load_vectors(prefix);
    assert!(!vectors.is_empty(), "no vectors with prefix {prefix}");
    let mut failures = Vec::new();
    for (path, v) in &vectors {
        let mut ctx = Ctx {
            transport: ReplayTransport::default(),
            clock: SimClock::at(v.start_ms),
            entropy: SeededEntropy::new(hex32(&v.seed)),
            next_id: 0,
        };
        let mut state = S::default();
        for (i, step) in v.steps.iter().enumerate() {
            ctx.clock.advance(step.advance_ms);
            ctx.transport.load(&step.exchanges);
            ctx.transport.failures.borrow_mut().clear();
            let result = run_op(&mut state, &mut ctx, step);
            let where_ = format!("{} step {i} ({})", path.display(), step.op);
            for f in ctx.transport.failures.borrow().iter() {
                failures.push(format!("{where_}: {f}"));
            }
            let left = ctx.transport.script.borrow().len();
            if left > 0 {
                failures.push(format!(
                    "{where_}: {left} scripted exchange(s) never requested"
                ));
            }
            let actual = match &result {
                Ok(v) => serde_json::json!({ "ok": v }),
                Err(e) => serde_json::json!({ "error": e.code }),
            };
            if !json_matches(&step.expect, &actual) {
                failures.push(format!(
                    "{where_}: expected {} got {} ({:?})",
                    step.expect,
                    actual,
                    result.as_ref().err()
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} vector failure(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
    vectors.len()
}

/// Blocks on a future (the core is executor-agnostic).
pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    futures_executor::block_on(f)
}
