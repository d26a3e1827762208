//! Test doubles shared by every crate's tests (feature `testing`; never in a release build):
//! a simulated [`SimClock`], a [`ScriptedTransport`] that answers with a handler and records
//! every request, a [`FakeMcpServer`] (MCP Streamable HTTP + an OAuth token endpoint with
//! rotating refresh tokens and reuse detection) and credential/context fixtures.
//!
//! Everything here is `Send + Sync`, so the same doubles serve the single-threaded loop, the
//! native reactor and the UniFFI adapter's tests.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Poll, Waker};

use serde_json::{json, Value};

use crate::oauth::flow::AuthContext;
use crate::oauth::registration::{IdentitySource, TokenEndpointAuth};
use crate::{
    Clock, Credentials, Dialect, HttpRequest, HttpResponse, Method, TokenSet, Transport,
    TransportError,
};

/// The MCP endpoint of the fixtures.
pub const MCP_URL: &str = "https://mcp.example.com/mcp";
/// The token endpoint of the fixtures' authorization server.
pub const TOKEN_URL: &str = "https://auth.example.com/token";
/// A start time for simulated clocks (2025-11-24).
pub const T0: u64 = 1_764_000_000_000;

/// A simulated clock: time moves only when something sleeps on it (or [`SimClock::advance`],
/// [`SimClock::set`]), saturating at `u64::MAX`. Clones share the time.
#[derive(Debug, Default, Clone)]
pub struct SimClock(Arc<AtomicU64>);

impl SimClock {
    /// A clock at `start_ms`.
    pub fn at(start_ms: u64) -> SimClock {
        SimClock(Arc::new(AtomicU64::new(start_ms)))
    }
    /// Moves time forward (saturating).
    pub fn advance(&self, ms: u64) {
        let _ = self
            .0
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |t| {
                Some(t.saturating_add(ms))
            });
    }
    /// Sets the time, forward or back (a clock jump).
    pub fn set(&self, now_ms: u64) {
        self.0.store(now_ms, Ordering::SeqCst);
    }
}

impl Clock for SimClock {
    fn now_ms(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
    async fn sleep_ms(&self, ms: u64) {
        self.advance(ms)
    }
    fn is_simulated(&self) -> bool {
        true
    }
}

type Handler = Box<dyn FnMut(&HttpRequest) -> Result<HttpResponse, TransportError> + Send>;

/// A transport answering with a handler, recording every request. With
/// [`ScriptedTransport::hold`], responses wait until [`ScriptedTransport::release`] (to keep
/// requests in flight while a test does something else). Clones share everything.
#[derive(Clone)]
pub struct ScriptedTransport {
    inner: Arc<Mutex<Scripted>>,
}

struct Scripted {
    handler: Handler,
    seen: Vec<HttpRequest>,
    held: bool,
    waiting: VecDeque<Waker>,
    in_flight: usize,
    /// Woken on every request (see [`ScriptedTransport::until_requests`]).
    watchers: Vec<Waker>,
}

impl std::fmt::Debug for ScriptedTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ScriptedTransport")
    }
}

impl ScriptedTransport {
    /// Answers every request with `handler`.
    pub fn new(
        handler: impl FnMut(&HttpRequest) -> Result<HttpResponse, TransportError> + Send + 'static,
    ) -> ScriptedTransport {
        ScriptedTransport {
            inner: Arc::new(Mutex::new(Scripted {
                handler: Box::new(handler),
                seen: Vec::new(),
                held: false,
                waiting: VecDeque::new(),
                in_flight: 0,
                watchers: Vec::new(),
            })),
        }
    }

    /// Every request sent so far.
    pub fn requests(&self) -> Vec<HttpRequest> {
        self.inner.lock().unwrap().seen.clone()
    }

    /// Requests whose URL starts with `prefix`.
    pub fn requests_to(&self, prefix: &str) -> Vec<HttpRequest> {
        self.requests()
            .into_iter()
            .filter(|r| r.url.starts_with(prefix))
            .collect()
    }

    /// JSON-RPC methods of the MCP requests sent so far, in order (`DELETE`/`GET` by verb).
    pub fn mcp_methods(&self) -> Vec<String> {
        self.requests_to(MCP_URL).iter().map(rpc_method).collect()
    }

    /// From now on, responses wait for [`ScriptedTransport::release`].
    pub fn hold(&self) {
        self.inner.lock().unwrap().held = true;
    }

    /// Lets held responses (and later ones) through.
    pub fn release(&self) {
        let mut s = self.inner.lock().unwrap();
        s.held = false;
        for w in s.waiting.drain(..) {
            w.wake();
        }
    }

    /// Resolves once `count` requests in all were sent.
    pub async fn until_requests(&self, count: usize) {
        futures_util::future::poll_fn(|cx| {
            let mut s = self.inner.lock().unwrap();
            if s.seen.len() >= count {
                Poll::Ready(())
            } else {
                s.watchers.push(cx.waker().clone());
                Poll::Pending
            }
        })
        .await
    }

    /// Requests sent whose response has not been returned yet.
    pub fn in_flight(&self) -> usize {
        self.inner.lock().unwrap().in_flight
    }
}

/// Counts a request in flight until its future ends, whichever way.
struct InFlight<'a>(&'a Mutex<Scripted>);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        if let Ok(mut s) = self.0.lock() {
            s.in_flight -= 1;
        }
    }
}

impl Transport for ScriptedTransport {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        {
            let mut s = self.inner.lock().unwrap();
            s.seen.push(request.clone());
            s.in_flight += 1;
            for w in s.watchers.drain(..) {
                w.wake();
            }
        }
        let _counted = InFlight(&self.inner);
        futures_util::future::poll_fn(|cx| {
            let mut s = self.inner.lock().unwrap();
            if s.held {
                s.waiting.push_back(cx.waker().clone());
                Poll::Pending
            } else {
                Poll::Ready(())
            }
        })
        .await;
        let mut s = self.inner.lock().unwrap();
        (s.handler)(&request)
    }
}

/// The JSON-RPC method of an MCP request (`DELETE` or `GET` for those verbs).
pub fn rpc_method(r: &HttpRequest) -> String {
    match r.method {
        Method::Delete => "DELETE".into(),
        Method::Get => "GET".into(),
        _ => serde_json::from_slice::<Value>(&r.body)
            .ok()
            .and_then(|v| v.get("method").and_then(Value::as_str).map(str::to_string))
            .unwrap_or_default(),
    }
}

/// A JSON response.
pub fn json_response(status: u16, v: &Value) -> HttpResponse {
    HttpResponse::new(
        status,
        vec![("Content-Type".into(), "application/json".into())],
        v.to_string().into_bytes(),
    )
}

/// An empty response with headers.
pub fn status_response(status: u16, headers: &[(&str, &str)]) -> HttpResponse {
    HttpResponse::new(
        status,
        headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        Vec::new(),
    )
}

/// A fake MCP server with an OAuth token endpoint, for the client layer's and adapters'
/// tests. Accepts bearer tokens it issued (or `personal-token`); rotates refresh tokens and
/// revokes the whole family when a used one comes back (OAuth 2.1 reuse detection).
#[derive(Clone, Debug)]
pub struct FakeMcpServer {
    state: Arc<Mutex<ServerState>>,
    /// Refreshes answered (successfully or not).
    pub refreshes: Arc<AtomicUsize>,
}

#[derive(Debug)]
struct ServerState {
    valid_access: Vec<String>,
    current_refresh: Option<String>,
    used_refresh: Vec<String>,
    issued: u64,
    session: Option<String>,
    sessions: u64,
    token_endpoint_down: bool,
    era: FakeEra,
}

/// Which MCP era a [`FakeMcpServer`] speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FakeEra {
    /// `initialize` and sessions only; a request without a session gets the 400 a legacy
    /// server gives (a JSON-RPC -32000 "no valid session" without id).
    Legacy,
    /// 2026-07-28 only: `initialize` gets 400 `UnsupportedProtocolVersionError`.
    Modern,
    /// Both, chosen per request.
    Dual,
}

impl Default for FakeMcpServer {
    fn default() -> Self {
        FakeMcpServer::new()
    }
}

impl FakeMcpServer {
    /// Accepts `personal-token` and the OAuth pair of [`oauth_credentials`] (`at-0`/`rt-0`).
    pub fn new() -> FakeMcpServer {
        FakeMcpServer {
            state: Arc::new(Mutex::new(ServerState {
                valid_access: vec!["personal-token".into(), "at-0".into()],
                current_refresh: Some("rt-0".into()),
                used_refresh: Vec::new(),
                issued: 0,
                session: None,
                sessions: 0,
                token_endpoint_down: false,
                era: FakeEra::Legacy,
            })),
            refreshes: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// The same server speaking `era` (default: [`FakeEra::Legacy`]).
    pub fn with_era(self, era: FakeEra) -> FakeMcpServer {
        self.state.lock().unwrap().era = era;
        self
    }

    /// Makes every current access token invalid (as if they expired server-side).
    pub fn expire_access_tokens(&self) {
        let mut s = self.state.lock().unwrap();
        s.valid_access.retain(|t| t == "personal-token");
    }

    /// The token endpoint answers 503 while `down`.
    pub fn set_token_endpoint_down(&self, down: bool) {
        self.state.lock().unwrap().token_endpoint_down = down;
    }

    /// The refresh token the server would accept now.
    pub fn current_refresh_token(&self) -> Option<String> {
        self.state.lock().unwrap().current_refresh.clone()
    }

    /// A transport on this server.
    pub fn transport(&self) -> ScriptedTransport {
        let me = self.clone();
        ScriptedTransport::new(move |r| Ok(me.answer(r)))
    }

    /// Answers one request.
    pub fn answer(&self, r: &HttpRequest) -> HttpResponse {
        if r.url.starts_with(TOKEN_URL) {
            return self.token(r);
        }
        if !r.url.starts_with(MCP_URL) {
            return status_response(404, &[]);
        }
        let mut s = self.state.lock().unwrap();
        let token = r
            .header("Authorization")
            .and_then(|h| h.strip_prefix("Bearer "))
            .unwrap_or("");
        if !s.valid_access.iter().any(|t| t == token) {
            return status_response(
                401,
                &[("WWW-Authenticate", "Bearer error=\"invalid_token\"")],
            );
        }
        if r.method == Method::Delete {
            s.session = None;
            return status_response(200, &[]);
        }
        if r.method == Method::Get {
            return status_response(405, &[]);
        }
        let body: Value = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
        let method = body.get("method").and_then(Value::as_str).unwrap_or("");
        let id = body.get("id").cloned();
        let modern_version = body
            .pointer("/params/_meta")
            .and_then(|m| m.get("io.modelcontextprotocol/protocolVersion"))
            .and_then(Value::as_str);
        let error = |status: u16, code: i64, message: &str, data: Value| {
            json_response(
                status,
                &json!({"jsonrpc": "2.0", "id": id.clone().unwrap_or(Value::Null),
                    "error": {"code": code, "message": message, "data": data}}),
            )
        };
        match (s.era, modern_version) {
            (FakeEra::Modern | FakeEra::Dual, Some(v)) => {
                if v != "2026-07-28" {
                    return error(
                        400,
                        -32022,
                        "Unsupported protocol version",
                        json!({"supported": ["2026-07-28"], "requested": v}),
                    );
                }
                if r.header("MCP-Protocol-Version") != Some(v)
                    || r.header("Mcp-Method") != Some(method)
                {
                    return error(400, -32020, "Header mismatch", Value::Null);
                }
                let result = match method {
                    "tools/list" => json!({"tools": [
                        {"name": "get_current_user", "inputSchema": {"type": "object"}},
                        {"name": "echo", "inputSchema": {"type": "object"}}]}),
                    "tools/call" => {
                        let params = body.get("params").cloned().unwrap_or(Value::Null);
                        let name = params.get("name").and_then(Value::as_str).unwrap_or("");
                        if r.header("Mcp-Name") != Some(name) {
                            return error(400, -32020, "Header mismatch: Mcp-Name", Value::Null);
                        }
                        let args = params.get("arguments").cloned().unwrap_or(Value::Null);
                        json!({"content": [{"type": "text", "text": format!("{name}: {args}")}]})
                    }
                    "server/discover" => json!({"supportedVersions": ["2026-07-28"],
                        "capabilities": {"tools": {}}}),
                    _ => return error(404, -32601, "Method not found", Value::Null),
                };
                let mut result = result;
                result["resultType"] = json!("complete");
                result["_meta"] = json!({"io.modelcontextprotocol/serverInfo":
                    {"name": "fake-mcp", "version": "2.0"}});
                return json_response(200, &json!({"jsonrpc": "2.0", "id": id, "result": result}));
            }
            (FakeEra::Modern, None) => {
                return error(
                    400,
                    -32022,
                    "Unsupported protocol version (supported versions: 2026-07-28)",
                    json!({"supported": ["2026-07-28"]}),
                );
            }
            _ => {}
        }
        if method == "initialize" {
            s.sessions += 1;
            let sid = format!("session-{}", s.sessions);
            s.session = Some(sid.clone());
            let result = json!({"protocolVersion": "2025-11-25", "capabilities": {"tools": {}},
                "serverInfo": {"name": "fake-mcp", "version": "1.0"}});
            let mut resp =
                json_response(200, &json!({"jsonrpc": "2.0", "id": id, "result": result}));
            resp.headers.push(("Mcp-Session-Id".into(), sid));
            return resp;
        }
        let Some(id) = id else {
            return status_response(202, &[]);
        };
        let sent_session = r.header("Mcp-Session-Id").map(str::to_string);
        if sent_session.is_none() {
            return json_response(
                400,
                &json!({"jsonrpc": "2.0", "id": null,
                    "error": {"code": -32000, "message": "Bad Request: No valid session ID provided"}}),
            );
        }
        if s.session.is_none() || sent_session != s.session {
            return status_response(404, &[]);
        }
        let result = match method {
            "tools/list" => json!({"tools": [
                {"name": "get_current_user", "inputSchema": {"type": "object"}},
                {"name": "echo", "inputSchema": {"type": "object"}}]}),
            "tools/call" => {
                let params = body.get("params").cloned().unwrap_or(Value::Null);
                let name = params.get("name").and_then(Value::as_str).unwrap_or("");
                let args = params.get("arguments").cloned().unwrap_or(Value::Null);
                json!({"content": [{"type": "text", "text": format!("{name}: {args}")}]})
            }
            "ping" => json!({}),
            _ => {
                return json_response(
                    200,
                    &json!({"jsonrpc": "2.0", "id": id,
                        "error": {"code": -32601, "message": "method not found"}}),
                )
            }
        };
        json_response(200, &json!({"jsonrpc": "2.0", "id": id, "result": result}))
    }

    fn token(&self, r: &HttpRequest) -> HttpResponse {
        self.refreshes.fetch_add(1, Ordering::SeqCst);
        let mut s = self.state.lock().unwrap();
        if s.token_endpoint_down {
            return status_response(503, &[]);
        }
        let form = String::from_utf8_lossy(&r.body).to_string();
        let presented = form
            .split('&')
            .find_map(|kv| kv.strip_prefix("refresh_token="))
            .unwrap_or("")
            .to_string();
        if s.used_refresh.contains(&presented) {
            // Reuse: the whole family is revoked.
            s.current_refresh = None;
            s.valid_access.retain(|t| t == "personal-token");
            return json_response(400, &json!({"error": "invalid_grant"}));
        }
        if s.current_refresh.as_deref() != Some(presented.as_str()) {
            return json_response(400, &json!({"error": "invalid_grant"}));
        }
        s.used_refresh.push(presented);
        s.issued += 1;
        let access = format!("at-{}", s.issued);
        let refresh = format!("rt-{}", s.issued);
        s.valid_access.retain(|t| t == "personal-token");
        s.valid_access.push(access.clone());
        s.current_refresh = Some(refresh.clone());
        json_response(
            200,
            &json!({"access_token": access, "token_type": "Bearer", "expires_in": 3600,
                "refresh_token": refresh}),
        )
    }
}

/// A public-client OAuth context for [`MCP_URL`] whose token endpoint is [`TOKEN_URL`].
pub fn auth_context() -> AuthContext {
    AuthContext {
        server_url: MCP_URL.into(),
        resource: MCP_URL.into(),
        issuer: Some("https://auth.example.com".into()),
        authorization_endpoint: "https://auth.example.com/authorize".into(),
        token_endpoint: TOKEN_URL.into(),
        revocation_endpoint: None,
        registration_endpoint: None,
        token_endpoint_auth: TokenEndpointAuth::None,
        client_id: "cid".into(),
        client_secret: None,
        identity_source: IdentitySource::PreRegistered,
        redirect_uri: "https://app.example/cb".into(),
        scopes: None,
        as_scopes_supported: None,
        iss_parameter_supported: false,
        allowance: None,
        legacy_defaults: false,
    }
}

/// OAuth 2.1 credentials (`bound_to` unset: bound on first use).
pub fn oauth_credentials(
    access: &str,
    refresh: Option<&str>,
    expires_at_ms: Option<u64>,
) -> Credentials {
    Credentials::OAuth(TokenSet {
        access_token: access.into(),
        refresh_token: refresh.map(Into::into),
        token_type: "Bearer".into(),
        scope: None,
        issued_at_ms: T0,
        expires_at_ms,
        dialect: Dialect::OAuth2,
        bound_to: None,
    })
}
