//! MCP Streamable HTTP at `/wb/mcp`: the entry points, the choice of era per request, and the
//! legacy era (protocol 2025-11-25, also 2025-06-18 and 2025-03-26: `initialize` and
//! sessions). The modern era (2026-07-28) is in `modern.rs`; the methods both eras serve are
//! here ([`serve_common`]) and in `features.rs`.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, Response, StatusCode};
use base64::Engine;
use futures_util::stream;
use serde_json::{json, Value};

use crate::config::{Era, ResponseMode, Role};
use crate::oauth::bearer;
use crate::server::json_response;
use crate::state::{lock, random_token, Session, Shared};
use crate::{features, input, modern, subs, tools};

/// Legacy protocol versions the simulator negotiates with `initialize`, newest first.
pub const SUPPORTED_PROTOCOL_VERSIONS: [&str; 3] = ["2025-11-25", "2025-06-18", "2025-03-26"];
/// Modern protocol versions (per-request `_meta`), newest first.
pub const MODERN_PROTOCOL_VERSIONS: [&str; 1] = ["2026-07-28"];
/// Tools per `tools/list` page.
pub const TOOLS_PAGE_SIZE: usize = 5;
/// `retry:` (milliseconds) sent with every priming event.
pub const SSE_RETRY_MS: u64 = 1000;
const MAX_STREAMS_KEPT: usize = 64;
/// Resource URIs one legacy session may subscribe to.
pub(crate) const MAX_SESSION_SUBSCRIPTIONS: usize = 64;

pub(crate) type Resp = Response<Body>;

pub(crate) struct Caller {
    pub user_id: u64,
    pub role: Role,
    pub scopes: Vec<String>,
}

/// A JSON-RPC error.
#[derive(Debug, Clone)]
pub(crate) struct RpcError {
    pub code: i64,
    pub message: String,
    pub data: Option<Value>,
}

impl RpcError {
    pub fn new(code: i64, message: impl Into<String>) -> Self {
        RpcError {
            code,
            message: message.into(),
            data: None,
        }
    }

    pub fn with_data(mut self, data: Value) -> Self {
        self.data = Some(data);
        self
    }

    pub fn body(&self, id: Value) -> Value {
        let mut error = json!({"code": self.code, "message": self.message});
        if let (Some(d), Some(o)) = (&self.data, error.as_object_mut()) {
            o.insert("data".to_string(), d.clone());
        }
        json!({"jsonrpc": "2.0", "id": id, "error": error})
    }
}

/// What a method handler produced.
pub(crate) enum Outcome {
    Result(Value),
    Error(RpcError),
    /// A ready HTTP response (403 step-up, an SSE stream of its own, ...).
    Http(Resp),
}

impl From<Result<Value, RpcError>> for Outcome {
    fn from(r: Result<Value, RpcError>) -> Self {
        match r {
            Ok(v) => Outcome::Result(v),
            Err(e) => Outcome::Error(e),
        }
    }
}

/// The era a request is served in (decides error codes that differ between eras).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Served {
    Modern,
    Legacy,
}

/// At most `max` characters of untrusted input, for error messages.
pub(crate) fn shown(s: &str) -> String {
    const MAX: usize = 64;
    if s.chars().count() <= MAX {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(MAX).collect();
        t.push('…');
        t
    }
}

fn unauthorized(sh: &Shared, error: Option<&str>) -> Resp {
    let challenge = match error {
        Some(desc) => format!(
            "Bearer error=\"invalid_token\", error_description=\"{desc}\", resource_metadata=\"{}\"",
            sh.resource_metadata_url()
        ),
        None => format!("Bearer resource_metadata=\"{}\"", sh.resource_metadata_url()),
    };
    let mut r = json_response(
        StatusCode::UNAUTHORIZED,
        json!({"error": if error.is_some() { "invalid_token" } else { "unauthorized" },
               "error_description": error.unwrap_or("a bearer token is required")}),
    );
    if let Ok(v) = HeaderValue::from_str(&challenge) {
        r.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    r
}

fn authenticate(sh: &Shared, headers: &HeaderMap) -> Result<Caller, Resp> {
    let Some(token) = bearer(headers) else {
        return Err(unauthorized(sh, None));
    };
    let now = sh.now_ms();
    let store = sh.store();
    let Some(t) = store.tokens.get(&token) else {
        return Err(unauthorized(
            sh,
            Some("The access token is unknown or revoked"),
        ));
    };
    if t.expires_at_ms.is_some_and(|e| e <= now) {
        return Err(unauthorized(sh, Some("The access token expired")));
    }
    Ok(Caller {
        user_id: t.user_id,
        role: t.role,
        scopes: t.scopes.clone(),
    })
}

pub(crate) fn rpc_error_body(id: Value, code: i64, message: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}})
}

pub(crate) fn http_rpc_error(status: StatusCode, id: Value, code: i64, message: &str) -> Resp {
    json_response(status, rpc_error_body(id, code, message))
}

pub(crate) fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Whether the Accept header lists this media type (parameters ignored).
fn accepts(headers: &HeaderMap, media: &str) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|m| {
            m.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .eq_ignore_ascii_case(media)
        })
}

fn not_acceptable(what: &str) -> Resp {
    http_rpc_error(StatusCode::NOT_ACCEPTABLE, Value::Null, -32600, what)
}

pub(crate) fn method_not_allowed(allow: &'static str) -> Resp {
    let mut r = json_response(
        StatusCode::METHOD_NOT_ALLOWED,
        json!({"error": "method_not_allowed", "error_description": "this server does not offer a GET stream or sessions"}),
    );
    r.headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static(allow));
    r
}

/// Session checks shared by POST (non-initialize), GET and DELETE.
fn check_session(
    sh: &Shared,
    headers: &HeaderMap,
    caller: &Caller,
) -> Result<(String, String), Resp> {
    let Some(sid) = header_str(headers, "mcp-session-id") else {
        return Err(http_rpc_error(
            StatusCode::BAD_REQUEST,
            Value::Null,
            -32600,
            "Bad Request: Mcp-Session-Id header is required",
        ));
    };
    let store = sh.store();
    let version = match store.sessions.get(sid) {
        Some(s) if s.user_id == caller.user_id => s.protocol_version.clone(),
        _ => {
            return Err(http_rpc_error(
                StatusCode::NOT_FOUND,
                Value::Null,
                -32001,
                "Session not found",
            ))
        }
    };
    if let Some(v) = header_str(headers, "mcp-protocol-version") {
        if !SUPPORTED_PROTOCOL_VERSIONS.contains(&v) || v != version {
            return Err(http_rpc_error(
                StatusCode::BAD_REQUEST,
                Value::Null,
                -32600,
                &format!(
                    "Bad Request: unsupported or mismatched MCP-Protocol-Version `{}`",
                    shown(v)
                ),
            ));
        }
    }
    Ok((sid.to_string(), version))
}

/// The `io.modelcontextprotocol/protocolVersion` claim of a request, if any (present = a
/// modern request, whatever its value).
fn modern_claim(params: &Value) -> Option<&Value> {
    params
        .get("_meta")
        .and_then(|m| m.get("io.modelcontextprotocol/protocolVersion"))
}

/// `POST /wb/mcp`.
pub(crate) async fn post(State(sh): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Resp {
    let caller = match authenticate(&sh, &headers) {
        Ok(c) => c,
        Err(r) => return r,
    };
    if !(accepts(&headers, "application/json") && accepts(&headers, "text/event-stream")) {
        return not_acceptable(
            "Not Acceptable: Accept must list application/json and text/event-stream",
        );
    }
    let json_ct = header_str(&headers, "content-type").is_some_and(|c| {
        c.split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .eq_ignore_ascii_case("application/json")
    });
    if !json_ct {
        return http_rpc_error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Value::Null,
            -32600,
            "Content-Type must be application/json",
        );
    }
    let msg: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(_) => {
            return http_rpc_error(StatusCode::BAD_REQUEST, Value::Null, -32700, "Parse error")
        }
    };
    let Some(obj) = msg.as_object() else {
        return http_rpc_error(
            StatusCode::BAD_REQUEST,
            Value::Null,
            -32600,
            "Invalid Request: one JSON-RPC message per POST (no batches)",
        );
    };
    if obj.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
        return http_rpc_error(
            StatusCode::BAD_REQUEST,
            Value::Null,
            -32600,
            "Invalid Request: jsonrpc must be \"2.0\"",
        );
    }
    let id = obj.get("id").cloned();
    if id
        .as_ref()
        .is_some_and(|i| !(i.is_string() || i.is_i64() || i.is_u64()))
    {
        return http_rpc_error(
            StatusCode::BAD_REQUEST,
            Value::Null,
            -32600,
            "Invalid Request: id must be a string or an integer",
        );
    }
    let params = obj.get("params").cloned().unwrap_or(Value::Null);
    let era = sh.era();
    let Some(method) = obj.get("method").and_then(Value::as_str) else {
        // A response from the client (to a server request): legacy sessions only.
        if id.is_some()
            && (obj.contains_key("result") || obj.contains_key("error"))
            && era != Era::Modern
        {
            return match check_session(&sh, &headers, &caller) {
                Ok((sid, _)) => {
                    input::deliver_response(&sh, &sid, id.as_ref(), obj);
                    accepted()
                }
                Err(r) => r,
            };
        }
        return http_rpc_error(
            StatusCode::BAD_REQUEST,
            Value::Null,
            -32600,
            "Invalid Request: method is required (clients send no responses in 2026-07-28)",
        );
    };

    // Which era serves this request (versioning.mdx: "A dual-era server selects its
    // behavior from how the client opens").
    let has_session = headers.contains_key("mcp-session-id");
    if method == "initialize" {
        if era == Era::Modern {
            return modern::reject_initialize(&sh, id, &params);
        }
        return initialize(&sh, &caller, id, &params);
    }
    let claim = modern_claim(&params).is_some();
    let served = match era {
        Era::Modern => Served::Modern,
        Era::Legacy => {
            if claim && !has_session {
                sh.count("mcp:rejected:not_initialized");
                return http_rpc_error(
                    StatusCode::BAD_REQUEST,
                    Value::Null,
                    -32000,
                    "Bad Request: Server not initialized",
                );
            }
            Served::Legacy
        }
        Era::Dual => {
            let modern_header = header_str(&headers, "mcp-protocol-version")
                .is_some_and(|v| !SUPPORTED_PROTOCOL_VERSIONS.contains(&v));
            if claim || (!has_session && modern_header) {
                Served::Modern
            } else {
                Served::Legacy
            }
        }
    };
    match served {
        Served::Modern => modern::post(&sh, &caller, &headers, id, method, &params).await,
        Served::Legacy => legacy(&sh, &caller, &headers, id, method, &params).await,
    }
}

fn initialize(sh: &Arc<Shared>, caller: &Caller, id: Option<Value>, params: &Value) -> Resp {
    let Some(id) = id else {
        return http_rpc_error(
            StatusCode::BAD_REQUEST,
            Value::Null,
            -32600,
            "initialize must be a request",
        );
    };
    sh.count("mcp:initialize");
    let requested = params.get("protocolVersion").and_then(Value::as_str);
    let Some(requested) = requested else {
        return json_response(
            StatusCode::OK,
            rpc_error_body(id, -32602, "protocolVersion is required"),
        );
    };
    let version = if SUPPORTED_PROTOCOL_VERSIONS.contains(&requested) {
        requested
    } else {
        SUPPORTED_PROTOCOL_VERSIONS[0]
    };
    let capabilities = params
        .get("capabilities")
        .filter(|c| c.is_object())
        .cloned()
        .unwrap_or_else(|| json!({}));
    let session_id = random_token("mcps");
    sh.store().sessions.insert(
        session_id.clone(),
        Session {
            user_id: caller.user_id,
            protocol_version: version.to_string(),
            stream_events: HashMap::new(),
            capabilities,
            subscriptions: BTreeSet::new(),
        },
    );
    let result = json!({
        "protocolVersion": version,
        "capabilities": features::server_capabilities(),
        "serverInfo": features::server_info(),
        "instructions": features::INSTRUCTIONS,
    });
    let mut r = respond(
        sh,
        &session_id,
        json!({"jsonrpc": "2.0", "id": id, "result": result}),
    );
    if let Ok(v) = HeaderValue::from_str(&session_id) {
        r.headers_mut().insert("mcp-session-id", v);
    }
    r
}

async fn legacy(
    sh: &Arc<Shared>,
    caller: &Caller,
    headers: &HeaderMap,
    id: Option<Value>,
    method: &str,
    params: &Value,
) -> Resp {
    let (session_id, version) = match check_session(sh, headers, caller) {
        Ok(s) => s,
        Err(r) => return r,
    };
    sh.count(&format!("mcp:{method}"));
    let Some(id) = id else {
        return accepted();
    };
    let outcome = match method {
        "ping" => Outcome::Result(json!({})),
        "logging/setLevel" => match params.get("level").and_then(Value::as_str) {
            Some(l) if features::log_level_rank(l).is_some() => Outcome::Result(json!({})),
            _ => Outcome::Error(RpcError::new(
                -32602,
                "Invalid params: level must be a syslog level",
            )),
        },
        "resources/subscribe" | "resources/unsubscribe" => {
            subs::legacy_subscribe(sh, &session_id, method == "resources/subscribe", params)
        }
        "tools/call" if input::is_input_tool(params) => {
            return input::legacy_call(sh.clone(), caller, &session_id, &version, id, params).await;
        }
        _ => match serve_common(sh, caller, method, params, &id, Served::Legacy) {
            Some(o) => o,
            None => Outcome::Error(RpcError::new(
                -32601,
                format!("Method not found: {}", shown(method)),
            )),
        },
    };
    let message = match outcome {
        Outcome::Result(result) => json!({"jsonrpc": "2.0", "id": id, "result": result}),
        Outcome::Error(e) => e.body(id),
        Outcome::Http(r) => return r,
    };
    respond(sh, &session_id, message)
}

/// The methods both eras serve the same way (results without era-specific fields).
pub(crate) fn serve_common(
    sh: &Shared,
    caller: &Caller,
    method: &str,
    params: &Value,
    id: &Value,
    served: Served,
) -> Option<Outcome> {
    Some(match method {
        "tools/list" => tools_list(caller, params).into(),
        "tools/call" => tools_call(sh, caller, params, id),
        "resources/list" => features::resources_list(sh, caller, params).into(),
        "resources/templates/list" => features::templates_list(caller, params).into(),
        "resources/read" => features::resources_read(sh, caller, params, served).into(),
        "prompts/list" => features::prompts_list(caller, params).into(),
        "prompts/get" => features::prompts_get(sh, caller, params).into(),
        "completion/complete" => features::complete(sh, caller, params).into(),
        _ => return None,
    })
}

pub(crate) fn accepted() -> Resp {
    let mut r = Response::new(Body::empty());
    *r.status_mut() = StatusCode::ACCEPTED;
    r
}

fn visible_tools(caller: &Caller) -> Vec<&'static tools::ToolDef> {
    if caller.role == Role::NoAccess {
        return Vec::new();
    }
    tools::TOOLS.iter().collect()
}

pub(crate) fn encode_cursor(offset: usize) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("offset:{offset}"))
}

fn decode_cursor(cursor: &str) -> Option<usize> {
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()?;
    String::from_utf8(raw)
        .ok()?
        .strip_prefix("offset:")?
        .parse()
        .ok()
}

/// One page of `items` after `params.cursor` (`nextCursor` when more remain).
pub(crate) fn paginate(
    items: Vec<Value>,
    params: &Value,
    page_size: usize,
    key: &str,
) -> Result<Value, RpcError> {
    let offset = match params.get("cursor") {
        None | Some(Value::Null) => 0,
        Some(Value::String(c)) => match decode_cursor(c) {
            Some(o) if o < items.len() => o,
            _ => return Err(RpcError::new(-32602, "Invalid params: unknown cursor")),
        },
        Some(_) => {
            return Err(RpcError::new(
                -32602,
                "Invalid params: cursor must be a string",
            ))
        }
    };
    let end = (offset + page_size).min(items.len());
    let total = items.len();
    let page: Vec<Value> = items.into_iter().skip(offset).take(end - offset).collect();
    let mut result = json!({ key: page });
    if end < total {
        if let Some(o) = result.as_object_mut() {
            o.insert("nextCursor".to_string(), json!(encode_cursor(end)));
        }
    }
    Ok(result)
}

fn tools_list(caller: &Caller, params: &Value) -> Result<Value, RpcError> {
    let all: Vec<Value> = visible_tools(caller).iter().map(|t| t.to_json()).collect();
    paginate(all, params, TOOLS_PAGE_SIZE, "tools")
}

/// The tool a `tools/call` names, if the caller may see it.
pub(crate) fn find_tool(
    caller: &Caller,
    params: &Value,
) -> Result<&'static tools::ToolDef, RpcError> {
    let Some(name) = params.get("name").and_then(Value::as_str) else {
        return Err(RpcError::new(-32602, "Invalid params: name is required"));
    };
    match tools::find(name) {
        Some(t) if caller.role != Role::NoAccess => Ok(t),
        _ => Err(RpcError::new(
            -32602,
            format!("Unknown tool: {}", shown(name)),
        )),
    }
}

/// Scope checks of a call: `Err(Outcome)` is the 403 step-up challenge or an unknown-tool
/// error.
pub(crate) fn authorize_tool(
    sh: &Shared,
    caller: &Caller,
    tool: &tools::ToolDef,
    id: &Value,
) -> Result<(), Outcome> {
    let has_scope = |s: &str| caller.scopes.iter().any(|g| g == "all" || g == s);
    if tool.write && !has_scope("write") {
        let mut r = json_response(
            StatusCode::FORBIDDEN,
            rpc_error_body(
                id.clone(),
                -32003,
                "insufficient_scope: this tool needs scope all",
            ),
        );
        let challenge = format!(
            "Bearer error=\"insufficient_scope\", scope=\"all\", resource_metadata=\"{}\", error_description=\"{} needs write access\"",
            sh.resource_metadata_url(),
            tool.name
        );
        if let Ok(v) = HeaderValue::from_str(&challenge) {
            r.headers_mut().insert(header::WWW_AUTHENTICATE, v);
        }
        return Err(Outcome::Http(r));
    }
    if !(has_scope("read") || has_scope("write")) {
        return Err(Outcome::Error(RpcError::new(
            -32602,
            format!("Unknown tool: {}", tool.name),
        )));
    }
    Ok(())
}

/// The call's `arguments` (an object, or empty).
pub(crate) fn call_args(params: &Value) -> Result<serde_json::Map<String, Value>, RpcError> {
    match params.get("arguments") {
        None | Some(Value::Null) => Ok(serde_json::Map::new()),
        Some(Value::Object(a)) => Ok(a.clone()),
        Some(_) => Err(RpcError::new(
            -32602,
            "Invalid params: arguments must be an object",
        )),
    }
}

pub(crate) fn tool_result(outcome: Result<Value, String>) -> Value {
    match outcome {
        Ok(v) => {
            json!({"content": [{"type": "text", "text": v.to_string()}], "structuredContent": v, "isError": false})
        }
        Err(msg) => json!({"content": [{"type": "text", "text": msg}], "isError": true}),
    }
}

fn tools_call(sh: &Shared, caller: &Caller, params: &Value, id: &Value) -> Outcome {
    let tool = match find_tool(caller, params) {
        Ok(t) => t,
        Err(e) => return Outcome::Error(e),
    };
    if let Err(o) = authorize_tool(sh, caller, tool, id) {
        return o;
    }
    let outcome = match call_args(params) {
        Ok(a) => {
            let mut store = sh.store();
            tools::call(&mut store.data, &sh.base_url, caller.user_id, tool, &a)
        }
        Err(e) => Err(e.message),
    };
    if outcome.is_ok() && tool.write {
        // A write changes the objective a key result belongs to.
        if let Some(uri) = features::touched_goal(sh, tool.name, params) {
            sh.announce(crate::state::Change::ResourceUpdated(uri));
        }
    }
    Outcome::Result(tool_result(outcome))
}

pub(crate) fn sse_event(id: &str, data: &str) -> String {
    format!("id: {id}\nevent: message\ndata: {data}\n\n")
}

pub(crate) fn priming(id: &str) -> String {
    format!("id: {id}\nretry: {SSE_RETRY_MS}\ndata:\n\n")
}

pub(crate) fn sse_response(body: Body) -> Resp {
    let mut r = Response::new(body);
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache, no-store"),
    );
    r.headers_mut()
        .insert("x-accel-buffering", HeaderValue::from_static("no"));
    r
}

/// A new stream number (for SSE event ids).
pub(crate) fn next_stream(sh: &Shared) -> u64 {
    let mut store = sh.store();
    store.next_stream += 1;
    store.next_stream
}

/// Sends a JSON-RPC message in the configured response mode (legacy sessions: events are
/// kept for `Last-Event-ID` replay).
fn respond(sh: &Shared, session_id: &str, message: Value) -> Resp {
    if sh.response_mode() == ResponseMode::Json {
        return json_response(StatusCode::OK, message);
    }
    let text = message.to_string();
    let n = {
        let mut store = sh.store();
        store.next_stream += 1;
        let n = store.next_stream;
        if let Some(s) = store.sessions.get_mut(session_id) {
            if s.stream_events.len() >= MAX_STREAMS_KEPT {
                if let Some(oldest) = s.stream_events.keys().min().copied() {
                    s.stream_events.remove(&oldest);
                }
            }
            s.stream_events.insert(n, vec![(1, text.clone())]);
        }
        n
    };
    let first = priming(&format!("{n}-0"));
    let event = sse_event(&format!("{n}-1"), &text);
    if sh.faults.take_truncate() {
        sh.count("fault:truncate_sse");
        return truncated(first, event);
    }
    let chunks: Vec<Result<Bytes, std::io::Error>> =
        vec![Ok(Bytes::from(first)), Ok(Bytes::from(event))];
    sse_response(Body::from_stream(stream::iter(chunks)))
}

/// The priming event and half of the response event, then a broken connection.
pub(crate) fn truncated(first: String, event: String) -> Resp {
    let cut = event.len() / 2;
    let partial = event.as_bytes()[..cut].to_vec();
    // Send the first chunk and half of the response event, let hyper flush them
    // (the pause returns Pending), then fail the body so the connection is cut.
    let parts = vec![Bytes::from(first), Bytes::from(partial)];
    let body = stream::unfold(0usize, move |i| {
        let parts = parts.clone();
        async move {
            match i {
                0 | 1 => Some((Ok(parts[i].clone()), i + 1)),
                2 => {
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                    Some((
                        Err(std::io::Error::other("stream truncated by fault injection")),
                        3,
                    ))
                }
                _ => None,
            }
        }
    });
    sse_response(Body::from_stream(body))
}

/// `GET /wb/mcp`: 405 in the modern era and in JSON mode; in SSE mode a standalone stream of a
/// legacy session (priming event, change notifications, keep-alive comments, open until the
/// session ends), or a replay after `Last-Event-ID`.
pub(crate) async fn get(State(sh): State<Arc<Shared>>, headers: HeaderMap) -> Resp {
    if sh.era() == Era::Modern {
        sh.count("mcp:rejected:405");
        return method_not_allowed("POST");
    }
    let caller = match authenticate(&sh, &headers) {
        Ok(c) => c,
        Err(r) => return r,
    };
    if sh.response_mode() == ResponseMode::Json {
        return method_not_allowed("POST, DELETE");
    }
    if !accepts(&headers, "text/event-stream") {
        return not_acceptable("Not Acceptable: Accept must list text/event-stream");
    }
    let (session_id, _) = match check_session(&sh, &headers, &caller) {
        Ok(s) => s,
        Err(r) => return r,
    };
    sh.count("mcp:GET");
    if let Some(last) = header_str(&headers, "last-event-id") {
        let parsed = last
            .split_once('-')
            .and_then(|(a, b)| Some((a.parse::<u64>().ok()?, b.parse::<u64>().ok()?)));
        let Some((stream_no, seq)) = parsed else {
            return http_rpc_error(
                StatusCode::BAD_REQUEST,
                Value::Null,
                -32600,
                "Bad Request: malformed Last-Event-ID",
            );
        };
        let events = sh
            .store()
            .sessions
            .get(&session_id)
            .and_then(|s| s.stream_events.get(&stream_no).cloned());
        if let Some(events) = events {
            sh.count("mcp:resume");
            let body: String = events
                .iter()
                .filter(|(s, _)| *s > seq)
                .map(|(s, text)| sse_event(&format!("{stream_no}-{s}"), text))
                .collect();
            let chunks: Vec<Result<Bytes, std::io::Error>> = vec![Ok(Bytes::from(body))];
            return sse_response(Body::from_stream(stream::iter(chunks)));
        }
    }
    subs::legacy_get_stream(sh, session_id)
}

/// `DELETE /wb/mcp`: ends the session (405 in the modern era).
pub(crate) async fn delete(State(sh): State<Arc<Shared>>, headers: HeaderMap) -> Resp {
    if sh.era() == Era::Modern {
        sh.count("mcp:rejected:405");
        return method_not_allowed("POST");
    }
    let caller = match authenticate(&sh, &headers) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let (session_id, _) = match check_session(&sh, &headers, &caller) {
        Ok(s) => s,
        Err(r) => return r,
    };
    sh.count("mcp:DELETE");
    sh.store().sessions.remove(&session_id);
    lock(&sh.pending_requests).retain(|_, (sid, _)| *sid != session_id);
    sh.sessions_changed();
    let mut r = Response::new(Body::empty());
    *r.status_mut() = StatusCode::NO_CONTENT;
    r
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        assert_eq!(decode_cursor(&encode_cursor(5)), Some(5));
        assert_eq!(decode_cursor("!!"), None);
        assert_eq!(
            decode_cursor(&base64::engine::general_purpose::URL_SAFE_NO_PAD.encode("x")),
            None
        );
    }

    #[test]
    fn accept_lists_are_parsed() {
        let mut h = HeaderMap::new();
        h.insert(
            header::ACCEPT,
            HeaderValue::from_static("application/json;q=0.9, Text/Event-Stream"),
        );
        assert!(accepts(&h, "application/json"));
        assert!(accepts(&h, "text/event-stream"));
        assert!(!accepts(&h, "text/html"));
    }

    #[test]
    fn shown_bounds_untrusted_text() {
        assert_eq!(shown("abc"), "abc");
        let long = "é".repeat(1000);
        assert_eq!(shown(&long).chars().count(), 65);
    }
}
