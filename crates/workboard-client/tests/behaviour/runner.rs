//! The Rust runner of the client-layer behaviour suite (`tests/behaviour/*.json`, format in
//! its README). Generic over an [`Adapter`]: the client layer itself and the native adapter
//! each implement it. Fails on an unknown operation or field.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::type_complexity,
    dead_code
)]

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};
use workboard_core::testing::ScriptedTransport;
use workboard_core::{HttpRequest, HttpResponse, Method, Transport, TransportError};

/// What a finished call gives: an ok value (JSON, as the README says) or `(code, kind)`.
pub type Outcome = Result<Value, (String, String)>;
pub type BoxFut<'a> = Pin<Box<dyn Future<Output = Outcome> + 'a>>;

/// The shared log of the scenario.
#[derive(Clone, Default)]
pub struct Log(pub Arc<Mutex<Vec<String>>>);

impl Log {
    pub fn push(&self, s: String) {
        self.0.lock().unwrap().push(s);
    }
    pub fn entries(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

/// The scripted server's transport: logs each request when asked to send it, answers from
/// the rules, and holds replies while held (or when their rule says `hold`).
#[derive(Clone)]
pub struct ScenarioTransport {
    pub log: Log,
    pub scripted: ScriptedTransport,
    pub rules: Arc<Mutex<Rules>>,
    pub gate: Arc<Mutex<Gate>>,
}

#[derive(Default)]
pub struct Gate {
    held: bool,
    /// Bumped by every release: a rule-held reply waits for the next one.
    releases: u64,
    waiting: Vec<std::task::Waker>,
}

impl ScenarioTransport {
    pub fn hold(&self) {
        self.gate.lock().unwrap().held = true;
    }
    pub fn release(&self) {
        let mut g = self.gate.lock().unwrap();
        g.held = false;
        g.releases += 1;
        for w in g.waiting.drain(..) {
            w.wake();
        }
    }
}

impl Transport for ScenarioTransport {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let (name, bearer) = log_name(&request);
        self.log.push(format!("http {name} {bearer}"));
        let (reply, rule_held) = self.rules.lock().unwrap().answer(&request);
        // Before the request counts as sent (`until_requests`): a release the scenario
        // makes after seeing it is the one a held reply waits for.
        let seen = self.gate.lock().unwrap().releases;
        // Counted by the scripted transport, which answers at once.
        let _ = self.scripted.send(request.clone()).await;
        std::future::poll_fn(|cx| {
            let mut g = self.gate.lock().unwrap();
            if g.held || (rule_held && g.releases == seen) {
                g.waiting.push(cx.waker().clone());
                std::task::Poll::Pending
            } else {
                std::task::Poll::Ready(())
            }
        })
        .await;
        Ok(reply)
    }
}

/// A recording store whose writes can be made to fail.
#[derive(Clone, Default)]
pub struct ScenarioStore {
    pub log: Log,
    pub values: Arc<Mutex<BTreeMap<String, String>>>,
    pub failing: Arc<Mutex<bool>>,
}

impl ScenarioStore {
    pub fn load(&self, key: &str) -> Result<Option<String>, String> {
        Ok(self.values.lock().unwrap().get(key).cloned())
    }
    pub fn save(&self, key: &str, value: &str) -> Result<(), String> {
        if key == "credentials" {
            let v: Value = serde_json::from_str(value).unwrap();
            let tok = v
                .get("access_token")
                .or_else(|| v.get("token"))
                .and_then(Value::as_str)
                .unwrap_or("?")
                .to_string();
            self.log.push(format!("store {key} {tok}"));
        } else {
            self.log.push(format!("store {key}"));
        }
        if *self.failing.lock().unwrap() {
            return Err("disk full (scripted)".into());
        }
        self.values
            .lock()
            .unwrap()
            .insert(key.to_string(), value.to_string());
        Ok(())
    }
    pub fn remove(&self, key: &str) -> Result<(), String> {
        self.log.push(format!("remove {key}"));
        if *self.failing.lock().unwrap() {
            return Err("disk full (scripted)".into());
        }
        self.values.lock().unwrap().remove(key);
        Ok(())
    }
}

/// What the runner needs of the platform under test.
pub trait Adapter {
    /// Builds the client from the scenario's `client` object, with this transport and store.
    fn new(client: &Value, transport: ScenarioTransport, store: ScenarioStore) -> Self;
    /// Starts a call (submitted before this returns); the future gives its outcome, the
    /// function cancels it the platform's way.
    fn call(&self, call: &str, args: &Value) -> (BoxFut<'static>, Box<dyn Fn()>);
    /// Runs a future to completion (driving the client as the platform does).
    fn block_on<'a, T>(&'a self, f: Pin<Box<dyn Future<Output = T> + 'a>>) -> T;
    fn set_credentials(&self, credentials: Option<&str>) -> Outcome;
    fn start_mcp_sign_in<'a>(
        &'a self,
        options: &Value,
    ) -> Pin<Box<dyn Future<Output = Result<(String, String, String), (String, String)>> + 'a>>;
    fn complete_mcp_sign_in<'a>(&'a self, pending: Option<String>, redirect: String) -> BoxFut<'a>;
    fn exchange_v1_code<'a>(&'a self, code: &Value, client_hash: &str) -> BoxFut<'a>;
    fn access_token(&self) -> Option<String>;
    fn store_error_code(&self) -> Option<String>;
    /// The client's notification stream (`Client::notification_stream`).
    fn notifications(&self) -> workboard_client::NotificationStream;
}

/// The client's `input`: the capabilities its handlers declare and their answers by kind.
pub fn input_of(
    client: &Value,
) -> (
    workboard_client::ClientCapabilities,
    serde_json::Map<String, Value>,
) {
    let input = client["input"].as_object().cloned().unwrap_or_default();
    check_keys(
        &client["input"],
        &["elicitation", "elicitation_url", "sampling", "roots"],
        "input",
    );
    let caps = workboard_client::ClientCapabilities {
        elicitation_form: input.contains_key("elicitation"),
        elicitation_url: input.contains_key("elicitation_url"),
        sampling: input.contains_key("sampling"),
        roots: input.contains_key("roots"),
    };
    (caps, input)
}

/// The answer of the handler of a request's kind.
pub fn input_answer(
    input: &serde_json::Map<String, Value>,
    r: &workboard_client::InputRequest,
) -> Result<Value, workboard_core::Error> {
    let kind = match r.method.as_str() {
        "elicitation/create" if r.params["mode"] == "url" => "elicitation_url",
        "elicitation/create" => "elicitation",
        "sampling/createMessage" => "sampling",
        _ => "roots",
    };
    input
        .get(kind)
        .cloned()
        .ok_or_else(|| workboard_core::Error::Protocol {
            reason: format!("no {kind} handler"),
        })
}

pub fn log_name(r: &HttpRequest) -> (String, String) {
    let bearer = r
        .header("Authorization")
        .and_then(|h| h.strip_prefix("Bearer "))
        .unwrap_or("-")
        .to_string();
    let method = serde_json::from_slice::<Value>(&r.body)
        .ok()
        .and_then(|v| v.get("method").and_then(Value::as_str).map(str::to_string));
    let name = match method {
        Some(m) => m,
        None if r.method == Method::Post && r.url.ends_with("/token") => "token".into(),
        None => format!("{} {}", r.method.as_str(), r.url),
    };
    (name, bearer)
}

/// The scenario's rules and how often each was used.
pub struct Rules {
    rules: Vec<Value>,
    used: Vec<u64>,
}

impl Rules {
    pub fn new(rules: Vec<Value>) -> Rules {
        let used = vec![0; rules.len()];
        Rules { rules, used }
    }

    /// The reply of the first fitting rule with uses left, and whether it is held.
    fn answer(&mut self, r: &HttpRequest) -> (HttpResponse, bool) {
        let (name, bearer) = log_name(r);
        for (i, rule) in self.rules.iter().enumerate() {
            check_keys(rule, &["match", "reply", "times", "hold"], "server rule");
            let m = &rule["match"];
            check_keys(
                m,
                &[
                    "method",
                    "auth",
                    "url",
                    "era",
                    "input_responses",
                    "request_state",
                ],
                "match",
            );
            let era = if r.header("Mcp-Method").is_some() {
                "modern"
            } else {
                "legacy"
            };
            let fits = m.get("method").is_none_or(|v| v == name.as_str())
                && m.get("era").is_none_or(|v| v == era)
                && m.get("auth").is_none_or(|v| v == bearer.as_str())
                && m.get("url").is_none_or(|v| v == r.url.as_str())
                && m.get("input_responses")
                    .is_none_or(|v| matches(v, &param(r, "inputResponses")))
                && m.get("request_state")
                    .is_none_or(|v| matches(v, &param(r, "requestState")));
            let left = rule
                .get("times")
                .and_then(Value::as_u64)
                .is_none_or(|t| self.used[i] < t);
            if fits && left {
                self.used[i] += 1;
                let held = rule.get("hold").and_then(Value::as_bool).unwrap_or(false);
                return (reply(&rule["reply"], r), held);
            }
        }
        panic!("no server rule fits {name} {bearer}");
    }
}

/// A param of the request's JSON-RPC body (`null` when absent).
fn param(r: &HttpRequest, name: &str) -> Value {
    serde_json::from_slice::<Value>(&r.body)
        .ok()
        .and_then(|v| v.get("params").and_then(|p| p.get(name)).cloned())
        .unwrap_or(Value::Null)
}

fn reply(reply: &Value, r: &HttpRequest) -> HttpResponse {
    check_keys(
        reply,
        &["status", "headers", "result", "error", "json", "sse"],
        "reply",
    );
    let status = reply.get("status").and_then(Value::as_u64).unwrap_or(200) as u16;
    let mut headers: Vec<(String, String)> = reply
        .get("headers")
        .and_then(Value::as_array)
        .map(|hs| {
            hs.iter()
                .map(|h| (h[0].as_str().unwrap().into(), h[1].as_str().unwrap().into()))
                .collect()
        })
        .unwrap_or_default();
    let id = serde_json::from_slice::<Value>(&r.body)
        .ok()
        .and_then(|v| v.get("id").cloned())
        .unwrap_or(Value::Null);
    if let Some(events) = reply.get("sse").and_then(Value::as_array) {
        // An SSE body: one event per message; `{"result": ...}` is the request's result.
        let mut body = String::new();
        for m in events {
            let m = match m.get("result") {
                Some(res) if m.as_object().is_some_and(|o| o.len() == 1) => {
                    json!({"jsonrpc": "2.0", "id": id, "result": res})
                }
                _ => m.clone(),
            };
            body.push_str(&format!("data: {m}\n\n"));
        }
        headers.push(("Content-Type".into(), "text/event-stream".into()));
        return HttpResponse::new(status, headers, body.into_bytes());
    }
    let body = if let Some(res) = reply.get("result") {
        Some(json!({"jsonrpc": "2.0", "id": id, "result": res}))
    } else if let Some(err) = reply.get("error") {
        Some(json!({"jsonrpc": "2.0", "id": id, "error": err}))
    } else {
        reply.get("json").cloned()
    };
    let body = match body {
        Some(b) => {
            headers.push(("Content-Type".into(), "application/json".into()));
            b.to_string().into_bytes()
        }
        None => Vec::new(),
    };
    HttpResponse::new(status, headers, body)
}

fn check_keys(v: &Value, known: &[&str], what: &str) {
    if let Some(o) = v.as_object() {
        for k in o.keys() {
            assert!(known.contains(&k.as_str()), "unknown field `{k}` in {what}");
        }
    }
}

/// `"*"` matches anything; objects compare key by key.
fn matches(expected: &Value, actual: &Value) -> bool {
    match (expected, actual) {
        (Value::String(s), _) if s == "*" => true,
        (Value::Object(e), Value::Object(a)) => {
            e.len() == a.len()
                && e.iter()
                    .all(|(k, v)| a.get(k).is_some_and(|x| matches(v, x)))
        }
        (Value::Array(e), Value::Array(a)) => {
            e.len() == a.len() && e.iter().zip(a).all(|(x, y)| matches(x, y))
        }
        _ => expected == actual,
    }
}

fn check_expect(step: &str, expect: &Value, got: &Outcome) {
    check_keys(expect, &["ok", "error", "kind"], "expect");
    match (expect.get("ok"), got) {
        (Some(ok), Ok(v)) => assert!(matches(ok, v), "{step}: expected {ok}, got {v}"),
        (Some(ok), Err(e)) => panic!("{step}: expected {ok}, got error {e:?}"),
        (None, Ok(v)) => panic!("{step}: expected {expect}, got {v}"),
        (None, Err((code, kind))) => {
            let ec = &expect["error"];
            let ek = &expect["kind"];
            assert!(
                matches(ec, &json!(code)),
                "{step}: expected {ec}, got {code}"
            );
            assert!(
                matches(ek, &json!(kind)),
                "{step}: expected kind {ek}, got {kind}"
            );
        }
    }
}

fn state_of(url: &str) -> String {
    let u = url::Url::parse(url).unwrap();
    u.query_pairs()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.to_string())
        .unwrap()
}

/// The scenario files.
pub fn scenarios() -> Vec<(String, Value)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/behaviour");
    let mut out: Vec<(String, Value)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| {
            let name = p.file_stem().unwrap().to_string_lossy().to_string();
            let v: Value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
            (name, v)
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    assert!(out.len() >= 9, "scenarios missing from {dir:?}");
    out
}

/// Runs every scenario under adapter `A`; returns the names run.
pub fn run_all<A: Adapter>() -> BTreeSet<String> {
    let mut ran = BTreeSet::new();
    for (name, s) in scenarios() {
        run::<A>(&name, &s);
        ran.insert(name);
    }
    ran
}

pub fn run<A: Adapter>(name: &str, s: &Value) {
    check_keys(
        s,
        &["name", "description", "client", "server", "steps"],
        "scenario",
    );
    assert_eq!(s["name"], name, "file name and `name` differ");
    let log = Log::default();
    let rules = s["server"].as_array().cloned().unwrap_or_default();
    let scripted = ScriptedTransport::new(|_| Ok(HttpResponse::new(204, vec![], vec![])));
    let transport = ScenarioTransport {
        log: log.clone(),
        scripted: scripted.clone(),
        rules: Arc::new(Mutex::new(Rules::new(rules))),
        gate: Arc::default(),
    };
    let store = ScenarioStore {
        log: log.clone(),
        ..Default::default()
    };
    let transport_ctl = transport.clone();
    let adapter = A::new(&s["client"], transport, store.clone());
    let mut calls: BTreeMap<String, BoxFut<'static>> = BTreeMap::new();
    let mut cancels: BTreeMap<String, Box<dyn Fn()>> = BTreeMap::new();
    let mut sign_ins: BTreeMap<String, (String, String, String)> = BTreeMap::new();
    let mut streams: BTreeMap<String, workboard_client::NotificationStream> = BTreeMap::new();
    for (i, step) in s["steps"].as_array().unwrap().iter().enumerate() {
        let op = step["do"].as_str().unwrap();
        let at = format!("{name} step {i} ({op})");
        eprintln!("{at}");
        let id = || step["id"].as_str().unwrap().to_string();
        match op {
            "call" => {
                check_keys(step, &["do", "id", "call", "args"], &at);
                let (f, cancel) = adapter.call(step["call"].as_str().unwrap(), &step["args"]);
                calls.insert(id(), f);
                cancels.insert(id(), cancel);
            }
            "await" => {
                check_keys(step, &["do", "id", "expect"], &at);
                let f = calls.remove(&id()).expect("no such call");
                let got = adapter.block_on(Box::pin(f));
                check_expect(&at, &step["expect"], &got);
            }
            "cancel" => {
                check_keys(step, &["do", "id"], &at);
                (cancels.get(&id()).expect("no such call"))();
            }
            "notifications" => {
                check_keys(step, &["do", "id"], &at);
                streams.insert(id(), adapter.notifications());
            }
            "next_notification" => {
                check_keys(step, &["do", "id", "notification"], &at);
                let s = streams.get_mut(&id()).expect("no such stream");
                let got = match adapter.block_on(Box::pin(s.next())) {
                    Ok(Some(n)) => json!({"method": n.method, "params": n.params}),
                    Ok(None) => Value::Null,
                    Err(e) => panic!("{at}: the stream failed: {e}"),
                };
                let want = &step["notification"];
                assert!(matches(want, &got), "{at}: expected {want}, got {got}");
            }
            "stop" => {
                check_keys(step, &["do", "id"], &at);
                streams.get(&id()).expect("no such stream").stopper().stop();
            }
            "hold" => transport_ctl.hold(),
            "release" => transport_ctl.release(),
            "until_requests" => {
                check_keys(step, &["do", "count"], &at);
                let n = step["count"].as_u64().unwrap() as usize;
                let sc = scripted.clone();
                adapter.block_on(Box::pin(async move { sc.until_requests(n).await }));
            }
            "store_fails" => {
                check_keys(step, &["do", "value"], &at);
                *store.failing.lock().unwrap() = step["value"].as_bool().unwrap();
            }
            "set_credentials" => {
                check_keys(step, &["do", "credentials", "expect"], &at);
                let c = (!step["credentials"].is_null()).then(|| step["credentials"].to_string());
                let got = adapter.set_credentials(c.as_deref());
                check_expect(&at, &step["expect"], &got);
            }
            "start_mcp_sign_in" => {
                check_keys(step, &["do", "id", "options", "expect"], &at);
                let got = adapter.block_on(adapter_start(&adapter, &step["options"]));
                let outcome = got.clone().map(|(_, _, cid)| json!({"client_id": cid}));
                check_expect(&at, &step["expect"], &outcome);
                if let Ok(v) = got {
                    sign_ins.insert(id(), v);
                }
            }
            "complete_mcp_sign_in" => {
                check_keys(
                    step,
                    &["do", "sign_in", "pass_pending", "code", "expect"],
                    &at,
                );
                let (url, pending, _) = sign_ins[step["sign_in"].as_str().unwrap()].clone();
                let redirect_uri = step_redirect_uri(s, step, &url);
                let redirect = format!(
                    "{redirect_uri}?code={}&state={}",
                    step["code"].as_str().unwrap(),
                    state_of(&url)
                );
                let p = step["pass_pending"].as_bool().unwrap().then_some(pending);
                let got = adapter.block_on(adapter_complete(&adapter, p, redirect));
                check_expect(&at, &step["expect"], &got);
            }
            "exchange_v1_code" => {
                check_keys(step, &["do", "code", "client_hash", "expect"], &at);
                let got = adapter.block_on(adapter_exchange(
                    &adapter,
                    &step["code"],
                    step["client_hash"].as_str().unwrap(),
                ));
                check_expect(&at, &step["expect"], &got);
            }
            "expect_log" => {
                check_keys(step, &["do", "log"], &at);
                let want: Vec<String> = serde_json::from_value(step["log"].clone()).unwrap();
                assert_eq!(log.entries(), want, "{at}");
            }
            "expect_count" => {
                check_keys(step, &["do", "entry", "count"], &at);
                let e = step["entry"].as_str().unwrap();
                let n = log.entries().iter().filter(|x| *x == e).count() as u64;
                assert_eq!(
                    n,
                    step["count"].as_u64().unwrap(),
                    "{at}: {:?}",
                    log.entries()
                );
            }
            "expect_before" => {
                check_keys(step, &["do", "first", "then"], &at);
                let l = log.entries();
                let a = l.iter().position(|x| x == step["first"].as_str().unwrap());
                let b = l.iter().rposition(|x| x == step["then"].as_str().unwrap());
                assert!(matches!((a, b), (Some(a), Some(b)) if a < b), "{at}: {l:?}");
            }
            "expect_credentials" => {
                check_keys(step, &["do", "access_token"], &at);
                let want = step["access_token"].as_str().map(str::to_string);
                assert_eq!(adapter.access_token(), want, "{at}");
            }
            "expect_store_error" => {
                check_keys(step, &["do", "code"], &at);
                let want = step["code"].as_str().map(str::to_string);
                assert_eq!(adapter.store_error_code(), want, "{at}");
            }
            other => panic!("{at}: unknown operation `{other}`"),
        }
    }
    assert!(
        calls.is_empty(),
        "{name}: calls never awaited: {:?}",
        calls.keys()
    );
}

fn step_redirect_uri(_s: &Value, _step: &Value, url: &str) -> String {
    let u = url::Url::parse(url).unwrap();
    u.query_pairs()
        .find(|(k, _)| k == "redirect_uri")
        .map(|(_, v)| v.to_string())
        .unwrap()
}

fn adapter_start<'a, A: Adapter>(
    a: &'a A,
    o: &Value,
) -> Pin<Box<dyn Future<Output = Result<(String, String, String), (String, String)>> + 'a>> {
    check_keys(
        o,
        &["redirect_uri", "client_id", "www_authenticate"],
        "options",
    );
    a.start_mcp_sign_in(o)
}

fn adapter_complete<A: Adapter>(a: &A, p: Option<String>, redirect: String) -> BoxFut<'_> {
    a.complete_mcp_sign_in(p, redirect)
}

fn adapter_exchange<'a, A: Adapter>(a: &'a A, code: &Value, hash: &str) -> BoxFut<'a> {
    check_keys(
        code,
        &[
            "code",
            "redirect_uri",
            "client_id",
            "token_endpoint",
            "received_at_ms",
        ],
        "code",
    );
    a.exchange_v1_code(code, hash)
}

/// An error as the suite compares it: its code and the snake_case name of its kind.
pub fn outcome_error(e: workboard_core::Error) -> (String, String) {
    let k = format!("{:?}", e.kind());
    let mut kind = String::new();
    for (i, c) in k.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            kind.push('_');
        }
        kind.push(c.to_ascii_lowercase());
    }
    (e.code().to_string(), kind)
}

/// The access token (or personal token) of credentials.
pub fn token_of(c: &workboard_core::Credentials) -> String {
    let v: Value = serde_json::from_str(&c.to_json()).unwrap();
    v.get("access_token")
        .or_else(|| v.get("token"))
        .and_then(Value::as_str)
        .unwrap()
        .to_string()
}

/// A step's `options` as the layer's sign-in options.
pub fn mcp_options(o: &Value) -> workboard_client::McpSignInOptions {
    let mut opts = workboard_client::McpSignInOptions::new(o["redirect_uri"].as_str().unwrap());
    opts.client_id = o["client_id"].as_str().map(str::to_string);
    opts.www_authenticate = o["www_authenticate"].as_str().map(str::to_string);
    opts
}

/// A step's v1 `code`, received at `received_at_ms`.
pub fn v1_code(
    code: &Value,
    received_at_ms: u64,
) -> workboard_core::oauth::pending::AuthorizationCode {
    workboard_core::oauth::pending::AuthorizationCode {
        code: workboard_core::SecretString::new(code["code"].as_str().unwrap()),
        dialect: workboard_core::Dialect::WorkboardV1,
        redirect_uri: code["redirect_uri"].as_str().unwrap().into(),
        client_id: code["client_id"].as_str().unwrap().into(),
        pkce_verifier: None,
        resource: None,
        token_endpoint: code["token_endpoint"].as_str().unwrap().into(),
        scopes: vec![],
        received_at_ms,
        expires_at_ms: Some(received_at_ms + 300_000),
        extra: Value::Null,
    }
}
