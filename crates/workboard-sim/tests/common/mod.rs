//! Helpers shared by the integration tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use base64::Engine;
use reqwest::header::HeaderMap;
use reqwest::{Client, Response, StatusCode};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use workboard_sim::{SimConfig, SimHandle, Simulator};

pub const ACCEPT_BOTH: &str = "application/json, text/event-stream";

pub async fn start(config: SimConfig) -> SimHandle {
    Simulator::start(config).await.expect("simulator starts")
}

/// A client that does not follow redirects.
pub fn http() -> Client {
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

pub fn query_of(location: &str) -> std::collections::HashMap<String, String> {
    let url = url::Url::parse(location).expect("absolute location");
    url.query_pairs()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

pub fn location(resp: &Response) -> String {
    resp.headers()
        .get("location")
        .expect("a Location header")
        .to_str()
        .expect("ascii")
        .to_string()
}

/// The hidden `request_id` of the consent page.
pub fn request_id(html: &str) -> String {
    let marker = "name=\"request_id\" value=\"";
    let start = html.find(marker).expect("request_id field") + marker.len();
    let end = html[start..].find('"').expect("end quote") + start;
    html[start..end].to_string()
}

pub fn pkce_pair() -> (String, String) {
    let verifier = "test-verifier-0123456789-abcdefghijklmnopqrstuvwxyz".to_string();
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

/// OAuth v1 authorize through the consent page, returns the code.
pub async fn v1_code(sim: &SimHandle, state: &str) -> String {
    let c = http();
    let page = c
        .get(format!("{}/wb/oauth/authorize", sim.base_url()))
        .query(&[
            ("client_id", "demo-client"),
            ("redirect_uri", "http://127.0.0.1:8765/callback"),
            ("state", state),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    let rid = request_id(&html);
    let resp = c
        .post(format!("{}/wb/oauth/authorize/decision", sim.base_url()))
        .form(&[("request_id", rid.as_str()), ("decision", "approve")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FOUND);
    let q = query_of(&location(&resp));
    assert_eq!(q.get("state").map(String::as_str), Some(state));
    q["code"].clone()
}

pub async fn v1_exchange(sim: &SimHandle, code: &str) -> (StatusCode, Value) {
    let resp = http()
        .post(format!("{}/wb/oauth/token", sim.base_url()))
        .form(&[
            ("client_id", "demo-client"),
            ("client_hash", "demo-hash"),
            ("code", code),
            ("redirect_uri", "http://127.0.0.1:8765/callback"),
        ])
        .send()
        .await
        .unwrap();
    let status = resp.status();
    (status, resp.json().await.unwrap())
}

/// OAuth 2.1 authorize with PKCE under auto-approve; returns the code.
pub async fn oauth2_code(sim: &SimHandle, challenge: &str, scope: &str) -> String {
    sim.set_auto_approve(true);
    let resp = http()
        .get(format!("{}/wb/oauth/authorize", sim.base_url()))
        .query(&[
            ("response_type", "code"),
            ("client_id", "demo-client"),
            ("redirect_uri", "http://127.0.0.1:8765/callback"),
            ("scope", scope),
            ("state", "s2"),
            ("code_challenge", challenge),
            ("code_challenge_method", "S256"),
            ("resource", &sim.mcp_url()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FOUND);
    query_of(&location(&resp))["code"].clone()
}

pub async fn token_form(sim: &SimHandle, form: &[(&str, &str)]) -> (StatusCode, Value) {
    let resp = http()
        .post(format!("{}/wb/oauth/token", sim.base_url()))
        .form(form)
        .send()
        .await
        .unwrap();
    let status = resp.status();
    (status, resp.json().await.unwrap())
}

/// A raw MCP POST.
pub async fn mcp_raw(
    sim: &SimHandle,
    token: &str,
    session: Option<&str>,
    body: &Value,
) -> Response {
    let mut req = http()
        .post(sim.mcp_url())
        .header("authorization", format!("Bearer {token}"))
        .header("accept", ACCEPT_BOTH)
        .header("content-type", "application/json")
        .body(body.to_string());
    if let Some(s) = session {
        req = req.header("mcp-session-id", s);
    }
    req.send().await.unwrap()
}

/// Parses an SSE body into (id, retry, data) events.
pub fn sse_events(body: &str) -> Vec<(Option<String>, Option<String>, String)> {
    body.split("\n\n")
        .filter(|e| !e.trim().is_empty())
        .map(|e| {
            let mut id = None;
            let mut retry = None;
            let mut data = Vec::new();
            for line in e.lines() {
                if let Some(v) = line.strip_prefix("id:") {
                    id = Some(v.trim().to_string());
                } else if let Some(v) = line.strip_prefix("retry:") {
                    retry = Some(v.trim().to_string());
                } else if let Some(v) = line.strip_prefix("data:") {
                    data.push(v.strip_prefix(' ').unwrap_or(v).to_string());
                }
            }
            (id, retry, data.join("\n"))
        })
        .collect()
}

/// The JSON-RPC message of a response in either mode.
pub async fn rpc_message(resp: Response) -> Value {
    let ct = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let text = resp.text().await.unwrap();
    if ct.starts_with("text/event-stream") {
        let events = sse_events(&text);
        let last = events.last().expect("an event");
        serde_json::from_str(&last.2).expect("JSON data")
    } else {
        serde_json::from_str(&text).expect("JSON body")
    }
}

/// initialize + notifications/initialized; returns the session id.
pub async fn mcp_session(sim: &SimHandle, token: &str) -> String {
    let resp = mcp_raw(
        sim,
        token,
        None,
        &json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}}}),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let sid = resp
        .headers()
        .get("mcp-session-id")
        .expect("session id")
        .to_str()
        .unwrap()
        .to_string();
    let _ = rpc_message(resp).await;
    let n = mcp_raw(
        sim,
        token,
        Some(&sid),
        &json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
    )
    .await;
    assert_eq!(n.status(), StatusCode::ACCEPTED);
    sid
}

pub async fn call(
    sim: &SimHandle,
    token: &str,
    sid: &str,
    id: u64,
    method: &str,
    params: Value,
) -> Value {
    let resp = mcp_raw(
        sim,
        token,
        Some(sid),
        &json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK, "{method}");
    rpc_message(resp).await
}

pub fn header(h: &HeaderMap, name: &str) -> String {
    h.get(name)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

/// The modern protocol version.
pub const MODERN: &str = "2026-07-28";

/// `params` with the modern `_meta` (version, capabilities, client info) added.
pub fn with_meta(mut params: Value, caps: Value) -> Value {
    if params.is_null() {
        params = json!({});
    }
    params.as_object_mut().unwrap().insert(
        "_meta".to_string(),
        json!({
            "io.modelcontextprotocol/protocolVersion": MODERN,
            "io.modelcontextprotocol/clientCapabilities": caps,
            "io.modelcontextprotocol/clientInfo": {"name": "sim-tests", "version": "0"}
        }),
    );
    params
}

/// A modern JSON-RPC request body (empty client capabilities).
pub fn modern_body(id: u64, method: &str, params: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": method, "params": with_meta(params, json!({}))})
}

/// Encodes a header value the way the spec's "Value Encoding" asks.
pub fn header_value(v: &str) -> String {
    let plain = v.bytes().all(|b| (0x20..=0x7e).contains(&b))
        && v.trim() == v
        && !(v.starts_with("=?base64?") && v.ends_with("?="));
    if plain {
        v.to_string()
    } else {
        format!(
            "=?base64?{}?=",
            base64::engine::general_purpose::STANDARD.encode(v.as_bytes())
        )
    }
}

/// The standard headers a conforming client sends for a modern body.
pub fn modern_headers(body: &Value) -> Vec<(String, String)> {
    let method = body["method"].as_str().unwrap_or_default();
    let mut h = vec![
        (
            "mcp-protocol-version".to_string(),
            body["params"]["_meta"]["io.modelcontextprotocol/protocolVersion"]
                .as_str()
                .unwrap_or(MODERN)
                .to_string(),
        ),
        ("mcp-method".to_string(), method.to_string()),
    ];
    let name = match method {
        "tools/call" | "prompts/get" => body["params"]["name"].as_str(),
        "resources/read" => body["params"]["uri"].as_str(),
        _ => None,
    };
    if let Some(n) = name {
        h.push(("mcp-name".to_string(), header_value(n)));
    }
    h
}

/// A POST with exactly these extra headers (no session).
pub async fn post_with(
    sim: &SimHandle,
    token: &str,
    body: &Value,
    headers: &[(String, String)],
) -> Response {
    post_to(&sim.mcp_url(), token, body, headers).await
}

/// `GET /wb/mcp` of a legacy session (the standalone SSE stream).
pub async fn get_stream(sim: &SimHandle, token: &str, sid: &str) -> Response {
    http()
        .get(sim.mcp_url())
        .header("authorization", format!("Bearer {token}"))
        .header("accept", "text/event-stream")
        .header("mcp-session-id", sid)
        .send()
        .await
        .unwrap()
}

/// `GET url` as JSON (e.g. `/__sim/stats`).
pub async fn get_json(url: &str) -> Value {
    http().get(url).send().await.unwrap().json().await.unwrap()
}

/// Starts the `workboard-sim` binary with these arguments (plus `--exit-on-stdin-close`);
/// returns the child and its base URL. Closing the child's stdin stops it.
pub fn spawn_binary(args: &[&str]) -> (std::process::Child, String) {
    use std::io::BufRead;
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_workboard-sim"))
        .args(args)
        .arg("--exit-on-stdin-close")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line
        .trim()
        .strip_prefix("listening on ")
        .expect("first line")
        .to_string();
    (child, base)
}

/// A POST of one JSON-RPC message to an MCP URL with a bearer token and extra headers.
pub async fn post_to(
    url: &str,
    token: &str,
    body: &Value,
    headers: &[(String, String)],
) -> Response {
    let mut req = http()
        .post(url)
        .header("authorization", format!("Bearer {token}"))
        .header("accept", ACCEPT_BOTH)
        .header("content-type", "application/json")
        .body(body.to_string());
    for (k, v) in headers {
        req = req.header(k.as_str(), v.as_str());
    }
    req.send().await.unwrap()
}

/// A conforming modern request plus `extra` headers: (status, JSON-RPC message).
pub async fn modern_extra(
    sim: &SimHandle,
    token: &str,
    body: &Value,
    extra: &[(&str, &str)],
) -> (StatusCode, Value) {
    let mut h = modern_headers(body);
    h.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let resp = post_with(sim, token, body, &h).await;
    let status = resp.status();
    (status, rpc_message(resp).await)
}

/// A conforming modern request with empty capabilities: (status, JSON-RPC message).
pub async fn modern(
    sim: &SimHandle,
    token: &str,
    id: u64,
    method: &str,
    params: Value,
) -> (StatusCode, Value) {
    modern_extra(sim, token, &modern_body(id, method, params), &[]).await
}

/// Reads SSE events off a streaming response, one at a time (each read bounded to 10 s so a
/// broken server fails the test instead of hanging it).
pub struct SseReader {
    resp: Response,
    buf: String,
}

impl SseReader {
    pub fn new(resp: Response) -> Self {
        SseReader {
            resp,
            buf: String::new(),
        }
    }

    /// The next raw event block (comments included); `None` at the end of the stream.
    pub async fn next_block(&mut self) -> Option<String> {
        for _ in 0..10_000 {
            if let Some(i) = self.buf.find("\n\n") {
                let block = self.buf[..i].to_string();
                self.buf.drain(..i + 2);
                return Some(block);
            }
            let chunk = tokio::time::timeout(std::time::Duration::from_secs(10), self.resp.chunk())
                .await
                .expect("an SSE chunk within 10 s")
                .ok()??;
            self.buf.push_str(&String::from_utf8_lossy(&chunk));
        }
        None
    }

    /// The next JSON-RPC message (comment-only and empty-data events skipped).
    pub async fn next_message(&mut self) -> Option<Value> {
        for _ in 0..10_000 {
            let block = self.next_block().await?;
            let data: Vec<&str> = block
                .lines()
                .filter_map(|l| l.strip_prefix("data:"))
                .map(|d| d.strip_prefix(' ').unwrap_or(d))
                .collect();
            let data = data.join("\n");
            if !data.is_empty() {
                return Some(serde_json::from_str(&data).expect("JSON event data"));
            }
        }
        None
    }
}
