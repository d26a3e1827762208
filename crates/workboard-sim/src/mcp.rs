//! MCP Streamable HTTP at `/wb/mcp` (protocol 2025-11-25, also 2025-06-18 and 2025-03-26).

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, Response, StatusCode};
use base64::Engine;
use futures_util::stream;
use serde_json::{json, Value};

use crate::config::{ResponseMode, Role};
use crate::oauth::bearer;
use crate::server::json_response;
use crate::state::{random_token, Session, Shared};
use crate::tools;

/// Protocol versions the simulator negotiates, newest first.
pub const SUPPORTED_PROTOCOL_VERSIONS: [&str; 3] = ["2025-11-25", "2025-06-18", "2025-03-26"];
/// Tools per `tools/list` page.
pub const TOOLS_PAGE_SIZE: usize = 5;
/// `retry:` (milliseconds) sent with every priming event.
pub const SSE_RETRY_MS: u64 = 1000;
const MAX_STREAMS_KEPT: usize = 64;

type Resp = Response<Body>;

struct Caller {
    user_id: u64,
    role: Role,
    scopes: Vec<String>,
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

fn rpc_error_body(id: Value, code: i64, message: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}})
}

fn http_rpc_error(status: StatusCode, id: Value, code: i64, message: &str) -> Resp {
    json_response(status, rpc_error_body(id, code, message))
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
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
                &format!("Bad Request: unsupported or mismatched MCP-Protocol-Version `{v}`"),
            ));
        }
    }
    Ok((sid.to_string(), version))
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
    let Some(method) = obj.get("method").and_then(Value::as_str) else {
        // A response from the client (to a server request): accepted if the session is valid.
        if id.is_some() && (obj.contains_key("result") || obj.contains_key("error")) {
            return match check_session(&sh, &headers, &caller) {
                Ok(_) => accepted(),
                Err(r) => r,
            };
        }
        return http_rpc_error(
            StatusCode::BAD_REQUEST,
            Value::Null,
            -32600,
            "Invalid Request: method is required",
        );
    };

    if method == "initialize" {
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
        let session_id = random_token("mcps");
        sh.store().sessions.insert(
            session_id.clone(),
            Session {
                user_id: caller.user_id,
                protocol_version: version.to_string(),
                stream_events: HashMap::new(),
            },
        );
        let result = json!({
            "protocolVersion": version,
            "capabilities": {"tools": {"listChanged": false}},
            "serverInfo": {"name": "workboard-sim", "title": "WorkBoard simulator", "version": env!("CARGO_PKG_VERSION")},
            "instructions": "Simulated WorkBoard: objectives, key results, KPIs, scorecards and business reviews of a seeded organisation.",
        });
        let mut r = respond(
            &sh,
            &session_id,
            json!({"jsonrpc": "2.0", "id": id, "result": result}),
        );
        if let Ok(v) = HeaderValue::from_str(&session_id) {
            r.headers_mut().insert("mcp-session-id", v);
        }
        return r;
    }

    let (session_id, _version) = match check_session(&sh, &headers, &caller) {
        Ok(s) => s,
        Err(r) => return r,
    };
    sh.count(&format!("mcp:{method}"));
    let Some(id) = id else {
        return accepted();
    };
    let outcome = match method {
        "ping" => Ok(json!({})),
        "tools/list" => tools_list(&caller, &params),
        "tools/call" => match tools_call(&sh, &caller, &params, &id) {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(e),
            Err(forbidden) => return forbidden,
        },
        _ => Err((-32601, format!("Method not found: {method}"))),
    };
    let message = match outcome {
        Ok(result) => json!({"jsonrpc": "2.0", "id": id, "result": result}),
        Err((code, m)) => rpc_error_body(id, code, &m),
    };
    respond(&sh, &session_id, message)
}

fn accepted() -> Resp {
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

fn encode_cursor(offset: usize) -> String {
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

fn tools_list(caller: &Caller, params: &Value) -> Result<Value, (i64, String)> {
    let all = visible_tools(caller);
    let offset = match params.get("cursor") {
        None | Some(Value::Null) => 0,
        Some(Value::String(c)) => match decode_cursor(c) {
            Some(o) if o < all.len() => o,
            _ => return Err((-32602, "Invalid params: unknown cursor".to_string())),
        },
        Some(_) => {
            return Err((
                -32602,
                "Invalid params: cursor must be a string".to_string(),
            ))
        }
    };
    let end = (offset + TOOLS_PAGE_SIZE).min(all.len());
    let page: Vec<Value> = all[offset..end].iter().map(|t| t.to_json()).collect();
    let mut result = json!({"tools": page});
    if end < all.len() {
        if let Some(o) = result.as_object_mut() {
            o.insert("nextCursor".to_string(), json!(encode_cursor(end)));
        }
    }
    Ok(result)
}

type CallOutcome = Result<Result<Value, (i64, String)>, Resp>;

fn tools_call(sh: &Shared, caller: &Caller, params: &Value, id: &Value) -> CallOutcome {
    let Some(name) = params.get("name").and_then(Value::as_str) else {
        return Ok(Err((
            -32602,
            "Invalid params: name is required".to_string(),
        )));
    };
    let tool = match tools::find(name) {
        Some(t) if caller.role != Role::NoAccess => t,
        _ => return Ok(Err((-32602, format!("Unknown tool: {name}")))),
    };
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
            "Bearer error=\"insufficient_scope\", scope=\"all\", resource_metadata=\"{}\", error_description=\"{name} needs write access\"",
            sh.resource_metadata_url()
        );
        if let Ok(v) = HeaderValue::from_str(&challenge) {
            r.headers_mut().insert(header::WWW_AUTHENTICATE, v);
        }
        return Err(r);
    }
    if !(has_scope("read") || has_scope("write")) {
        return Ok(Err((-32602, format!("Unknown tool: {name}"))));
    }
    let empty = serde_json::Map::new();
    let args = match params.get("arguments") {
        None | Some(Value::Null) => Ok(&empty),
        Some(Value::Object(a)) => Ok(a),
        Some(_) => Err("arguments must be an object".to_string()),
    };
    let outcome = args.and_then(|a| {
        let mut store = sh.store();
        tools::call(&mut store.data, &sh.base_url, caller.user_id, tool, a)
    });
    Ok(Ok(match outcome {
        Ok(v) => {
            json!({"content": [{"type": "text", "text": v.to_string()}], "structuredContent": v, "isError": false})
        }
        Err(msg) => json!({"content": [{"type": "text", "text": msg}], "isError": true}),
    }))
}

fn sse_event(id: &str, data: &str) -> String {
    format!("id: {id}\nevent: message\ndata: {data}\n\n")
}

fn priming(id: &str) -> String {
    format!("id: {id}\nretry: {SSE_RETRY_MS}\ndata:\n\n")
}

fn sse_response(body: Body) -> Resp {
    let mut r = Response::new(body);
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache, no-store"),
    );
    r
}

/// Sends a JSON-RPC message in the configured response mode.
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
        let cut = event.len() / 2;
        let partial = event.as_bytes()[..cut].to_vec();
        // Send the priming event and half of the response event, let hyper flush them
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
        return sse_response(Body::from_stream(body));
    }
    let chunks: Vec<Result<Bytes, std::io::Error>> =
        vec![Ok(Bytes::from(first)), Ok(Bytes::from(event))];
    sse_response(Body::from_stream(stream::iter(chunks)))
}

/// `GET /wb/mcp`: 405 in JSON mode; in SSE mode a standalone stream (priming event, then
/// open until the session ends), or a replay after `Last-Event-ID`.
pub(crate) async fn get(State(sh): State<Arc<Shared>>, headers: HeaderMap) -> Resp {
    let caller = match authenticate(&sh, &headers) {
        Ok(c) => c,
        Err(r) => return r,
    };
    if sh.response_mode() == ResponseMode::Json {
        let mut r = json_response(
            StatusCode::METHOD_NOT_ALLOWED,
            json!({"error": "method_not_allowed", "error_description": "this server does not offer a GET stream"}),
        );
        r.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST, DELETE"));
        return r;
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
    let n = {
        let mut store = sh.store();
        store.next_stream += 1;
        store.next_stream
    };
    let first = Bytes::from(priming(&format!("{n}-0")));
    let rx = sh.sessions_epoch.subscribe();
    let shared = sh.clone();
    // State: (primed, receiver). After the priming event the stream stays open until the
    // session disappears or the server shuts down.
    let body = stream::unfold((false, rx), move |(primed, mut rx)| {
        let shared = shared.clone();
        let session_id = session_id.clone();
        let first = first.clone();
        async move {
            if !primed {
                return Some((Ok::<Bytes, std::io::Error>(first), (true, rx)));
            }
            loop {
                if rx.changed().await.is_err() {
                    return None;
                }
                if !shared.store().sessions.contains_key(&session_id) {
                    return None;
                }
            }
        }
    });
    sse_response(Body::from_stream(body))
}

/// `DELETE /wb/mcp`: ends the session.
pub(crate) async fn delete(State(sh): State<Arc<Shared>>, headers: HeaderMap) -> Resp {
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
}
