//! The modern era (protocol 2026-07-28): stateless requests that carry their protocol version,
//! client capabilities and client info in `params._meta`, mirrored into HTTP headers
//! (`MCP-Protocol-Version`, `Mcp-Method`, `Mcp-Name`, `Mcp-Param-{Name}`), validated here.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, StatusCode};
use base64::Engine;
use futures_util::stream;
use serde_json::{json, Map, Value};

use crate::config::ResponseMode;
use crate::features;
use crate::input;
use crate::mcp::{
    accepted, serve_common, shown, sse_response, truncated, Caller, Outcome, Resp, RpcError,
    Served, MODERN_PROTOCOL_VERSIONS,
};
use crate::server::json_response;
use crate::state::Shared;
use crate::subs;
use crate::tools;

const PROTOCOL_VERSION: &str = "io.modelcontextprotocol/protocolVersion";
const CLIENT_CAPABILITIES: &str = "io.modelcontextprotocol/clientCapabilities";
const LOG_LEVEL: &str = "io.modelcontextprotocol/logLevel";
pub(crate) const SERVER_INFO: &str = "io.modelcontextprotocol/serverInfo";

/// `-32020`: headers missing, malformed or not matching the body.
pub const HEADER_MISMATCH: i64 = -32020;
/// `-32021`: the request needs a client capability the client did not declare.
pub const MISSING_REQUIRED_CLIENT_CAPABILITY: i64 = -32021;
/// `-32022`: the requested protocol version is not supported.
pub const UNSUPPORTED_PROTOCOL_VERSION: i64 = -32022;

/// Methods the modern era serves.
pub(crate) const MODERN_METHODS: [&str; 10] = [
    "server/discover",
    "tools/list",
    "tools/call",
    "resources/list",
    "resources/templates/list",
    "resources/read",
    "prompts/list",
    "prompts/get",
    "completion/complete",
    "subscriptions/listen",
];

fn reject(sh: &Shared, status: StatusCode, id: Value, err: RpcError) -> Resp {
    sh.count(&format!("mcp:rejected:{}", err.code));
    json_response(status, err.body(id))
}

fn unsupported_version(requested: &str) -> RpcError {
    RpcError::new(
        UNSUPPORTED_PROTOCOL_VERSION,
        format!(
            "Unsupported protocol version: this server speaks {} per request",
            MODERN_PROTOCOL_VERSIONS.join(", ")
        ),
    )
    .with_data(json!({"supported": MODERN_PROTOCOL_VERSIONS, "requested": shown(requested)}))
}

/// `initialize` on a modern-only server: 400 + `-32022` naming the supported versions
/// (versioning.mdx: a modern-only server SHOULD name them in any error to `initialize`).
pub(crate) fn reject_initialize(sh: &Shared, id: Option<Value>, params: &Value) -> Resp {
    sh.count("mcp:initialize");
    let requested = params
        .get("protocolVersion")
        .and_then(Value::as_str)
        .unwrap_or("unknown");
    let mut err = unsupported_version(requested);
    err.message = format!(
        "Unsupported protocol version: this server does not support initialize; it speaks {} (per-request _meta, no handshake)",
        MODERN_PROTOCOL_VERSIONS.join(", ")
    );
    reject(sh, StatusCode::BAD_REQUEST, id.unwrap_or(Value::Null), err)
}

/// Decodes a header value that may use the Base64 sentinel `=?base64?...?=`.
pub(crate) fn decode_header_value(v: &str) -> Option<String> {
    match v
        .strip_prefix("=?base64?")
        .and_then(|r| r.strip_suffix("?="))
    {
        Some(b64) => {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(b64)
                .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(b64))
                .ok()?;
            String::from_utf8(bytes).ok()
        }
        None => Some(v.to_string()),
    }
}

/// A header's decoded value: `Ok(None)` when absent, `Err` when malformed.
fn mirrored(headers: &HeaderMap, name: &str) -> Result<Option<String>, String> {
    let Some(raw) = headers.get(name) else {
        return Ok(None);
    };
    let shown_name = display_name(name);
    let text = raw
        .to_str()
        .map_err(|_| format!("{shown_name} header has invalid characters"))?;
    decode_header_value(text)
        .map(Some)
        .ok_or_else(|| format!("{shown_name} header has a malformed Base64 value"))
}

/// Checks a required mirrored header against the body value (`None`: absent from the body).
fn expect_header(
    headers: &HeaderMap,
    name: &str,
    expected: Option<&str>,
    source: &str,
) -> Result<(), String> {
    let shown_name = display_name(name);
    match mirrored(headers, name)? {
        Some(h) if Some(h.as_str()) == expected => Ok(()),
        Some(h) => Err(format!(
            "Header mismatch: {shown_name} header value '{}' does not match {source} value '{}'",
            shown(&h),
            shown(expected.unwrap_or(""))
        )),
        None => Err(format!("{shown_name} header is required")),
    }
}

/// `mcp-param-team-id` → `Mcp-Param-Team-Id` (`MCP-Protocol-Version` as the spec spells it).
fn display_name(name: &str) -> String {
    if name == "mcp-protocol-version" {
        return "MCP-Protocol-Version".to_string();
    }
    name.split('-')
        .map(|p| {
            let mut c = p.chars();
            match c.next() {
                Some(f) => f.to_ascii_uppercase().to_string() + c.as_str(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join("-")
}

/// `x-mcp-header` annotations of a tool: (header name, property path, JSON type).
pub(crate) fn header_params(tool: &tools::ToolDef) -> Vec<(String, Vec<String>, String)> {
    fn walk(schema: &Value, path: &mut Vec<String>, out: &mut Vec<(String, Vec<String>, String)>) {
        let Some(props) = schema.get("properties").and_then(Value::as_object) else {
            return;
        };
        for (k, v) in props {
            path.push(k.clone());
            if let Some(h) = v.get("x-mcp-header").and_then(Value::as_str) {
                let ty = v
                    .get("type")
                    .and_then(Value::as_str)
                    .unwrap_or("string")
                    .to_string();
                out.push((h.to_string(), path.clone(), ty));
            }
            walk(v, path, out);
            path.pop();
        }
    }
    let mut out = Vec::new();
    walk(&(tool.schema)(), &mut Vec::new(), &mut out);
    out
}

/// Validates the `Mcp-Param-{Name}` headers of a `tools/call` against its arguments.
fn check_param_headers(
    headers: &HeaderMap,
    tool: &tools::ToolDef,
    args: &Map<String, Value>,
) -> Result<(), String> {
    for (name, path, ty) in header_params(tool) {
        let header_name = format!("mcp-param-{}", name.to_ascii_lowercase());
        let mut value: Option<&Value> = None;
        let mut cur = args;
        for (i, key) in path.iter().enumerate() {
            match cur.get(key) {
                Some(Value::Object(o)) if i + 1 < path.len() => cur = o,
                Some(v) if i + 1 == path.len() => value = Some(v),
                _ => break,
            }
        }
        let value = value.filter(|v| !v.is_null());
        let header = mirrored(headers, &header_name)?;
        match (value, header) {
            (None, None) => {}
            (Some(_), None) => {
                return Err(format!(
                    "Mcp-Param-{name} header is required: the argument `{}` is in the body",
                    path.join(".")
                ))
            }
            (None, Some(_)) => {
                return Err(format!(
                    "Mcp-Param-{name} header is present but the argument `{}` is not",
                    path.join(".")
                ))
            }
            (Some(v), Some(h)) => {
                let same = match (ty.as_str(), v) {
                    ("integer", Value::Number(n)) => h
                        .trim()
                        .parse::<f64>()
                        .ok()
                        .zip(n.as_f64())
                        .is_some_and(|(a, b)| a == b),
                    ("boolean", Value::Bool(b)) => h == if *b { "true" } else { "false" },
                    (_, Value::String(s)) => h == *s,
                    (_, Value::Number(n)) => h.trim().parse::<f64>().ok() == n.as_f64(),
                    _ => false,
                };
                if !same {
                    return Err(format!(
                        "Header mismatch: Mcp-Param-{name} value '{}' does not match the body",
                        shown(&h)
                    ));
                }
            }
        }
    }
    Ok(())
}

/// The client's declared capabilities of a modern request.
pub(crate) fn client_capabilities(params: &Value) -> &Value {
    params
        .get("_meta")
        .and_then(|m| m.get(CLIENT_CAPABILITIES))
        .unwrap_or(&Value::Null)
}

/// Cache hints (ttlMs, cacheScope) of a method's complete result.
fn cache_hint(method: &str) -> Option<(u64, &'static str)> {
    match method {
        "server/discover" => Some((300_000, "public")),
        "tools/list" => Some((60_000, "private")),
        "prompts/list" => Some((300_000, "public")),
        "resources/list" => Some((60_000, "private")),
        "resources/templates/list" => Some((300_000, "public")),
        "resources/read" => Some((10_000, "private")),
        _ => None,
    }
}

/// Adds `resultType`, `_meta.serverInfo` and, for complete results of cacheable methods, the
/// cache hints.
pub(crate) fn finish_result(method: &str, mut result: Value) -> Value {
    let Some(o) = result.as_object_mut() else {
        return result;
    };
    let kind = o
        .entry("resultType")
        .or_insert_with(|| json!("complete"))
        .clone();
    let meta = o.entry("_meta").or_insert_with(|| json!({}));
    if let Some(m) = meta.as_object_mut() {
        m.insert(SERVER_INFO.to_string(), features::server_info());
    }
    if kind == "complete" {
        if let Some((ttl, scope)) = cache_hint(method) {
            o.insert("ttlMs".to_string(), json!(ttl));
            o.insert("cacheScope".to_string(), json!(scope));
        }
    }
    result
}

fn discover() -> Value {
    json!({
        "supportedVersions": MODERN_PROTOCOL_VERSIONS,
        "capabilities": features::server_capabilities(),
        "instructions": features::INSTRUCTIONS,
    })
}

/// A modern request (the caller is authenticated; the body is one JSON-RPC message).
pub(crate) async fn post(
    sh: &Arc<Shared>,
    caller: &Caller,
    headers: &HeaderMap,
    id: Option<Value>,
    method: &str,
    params: &Value,
) -> Resp {
    let Some(rid) = id.clone() else {
        // A notification (e.g. `notifications/cancelled` after closing a listen stream). The
        // revision defines no client notification over HTTP and no header rules for them:
        // accepted and ignored.
        sh.count(&format!("mcp:modern:{method}"));
        return accepted();
    };
    let bad = StatusCode::BAD_REQUEST;
    // 1. The envelope: protocol version (supported?) and client capabilities.
    let meta = params.get("_meta").and_then(Value::as_object);
    let malformed = |what: String| RpcError::new(-32602, format!("Invalid params: _meta.{what}"));
    let version = match meta.and_then(|m| m.get(PROTOCOL_VERSION)) {
        Some(Value::String(v)) => v.as_str(),
        Some(_) => {
            let e = malformed(format!("{PROTOCOL_VERSION} must be a string"));
            return reject(sh, bad, rid, e);
        }
        None => {
            let e = malformed(format!("{PROTOCOL_VERSION} is required"));
            return reject(sh, bad, rid, e);
        }
    };
    if !MODERN_PROTOCOL_VERSIONS.contains(&version) {
        return reject(sh, bad, rid, unsupported_version(version));
    }
    let caps = meta.and_then(|m| m.get(CLIENT_CAPABILITIES));
    if !caps.is_some_and(Value::is_object) {
        let e = malformed(format!("{CLIENT_CAPABILITIES} (an object) is required"));
        return reject(sh, bad, rid, e);
    }
    // 2. Standard headers.
    let mismatch = |m: String| RpcError::new(HEADER_MISMATCH, m);
    for (name, expected) in [("mcp-protocol-version", version), ("mcp-method", method)] {
        if let Err(e) = expect_header(headers, name, Some(expected), "body") {
            return reject(sh, bad, rid, mismatch(e));
        }
    }
    let id = rid;
    // 3. The method.
    if !MODERN_METHODS.contains(&method) {
        return reject(
            sh,
            StatusCode::NOT_FOUND,
            id,
            RpcError::new(-32601, format!("Method not found: {}", shown(method))),
        );
    }
    if matches!(method, "tools/call" | "resources/read" | "prompts/get") {
        let field = if method == "resources/read" {
            "uri"
        } else {
            "name"
        };
        let body_value = params.get(field).and_then(Value::as_str);
        if let Err(e) = expect_header(headers, "mcp-name", body_value, &format!("params.{field}")) {
            return reject(sh, bad, id, mismatch(e));
        }
    }
    let log_level = match meta.and_then(|m| m.get(LOG_LEVEL)) {
        None => None,
        Some(Value::String(l)) if features::log_level_rank(l).is_some() => {
            features::log_level_rank(l)
        }
        Some(_) => {
            return reject(
                sh,
                bad,
                id,
                RpcError::new(
                    -32602,
                    format!(
                    "Invalid params: _meta.{LOG_LEVEL} must be a syslog level (debug .. emergency)"
                ),
                ),
            )
        }
    };
    if method == "tools/call" {
        if let Some(tool) = params
            .get("name")
            .and_then(Value::as_str)
            .and_then(tools::find)
        {
            if let Some(Value::Object(args)) = params.get("arguments") {
                if let Err(e) = check_param_headers(headers, tool, args) {
                    return reject(sh, bad, id, mismatch(e));
                }
            } else if let Err(e) = check_param_headers(headers, tool, &Map::new()) {
                return reject(sh, bad, id, mismatch(e));
            }
        }
    }
    sh.count(&format!("mcp:{method}"));
    sh.count(&format!("mcp:modern:{method}"));
    // 4. Dispatch.
    let outcome = match method {
        "server/discover" => {
            sh.count("mcp:discover");
            Outcome::Result(discover())
        }
        "subscriptions/listen" => return subs::listen(sh.clone(), caller, id, params),
        "tools/call" if input::is_input_tool(params) => input::modern_call(sh, caller, params, &id),
        _ => serve_common(sh, caller, method, params, &id, Served::Modern).unwrap_or_else(|| {
            Outcome::Error(RpcError::new(
                -32601,
                format!("Method not found: {}", shown(method)),
            ))
        }),
    };
    let message = match outcome {
        Outcome::Result(r) => {
            json!({"jsonrpc": "2.0", "id": id, "result": finish_result(method, r)})
        }
        Outcome::Error(e) => e.body(id),
        Outcome::Http(r) => return r,
    };
    respond(sh, method, log_level, message)
}

/// The answer in the configured response mode; in SSE mode `notifications/message` log
/// events at or above the request's `_meta` log level precede the response.
fn respond(sh: &Shared, method: &str, log_level: Option<u8>, message: Value) -> Resp {
    if sh.response_mode() == ResponseMode::Json {
        return json_response(StatusCode::OK, message);
    }
    let mut events: Vec<String> = Vec::new();
    if let Some(min) = log_level {
        for (level, text) in [
            ("debug", format!("handling {method}")),
            ("info", format!("{method} answered")),
        ] {
            if features::log_level_rank(level).is_some_and(|r| r >= min) {
                sh.count("mcp:log_message");
                let n = json!({"jsonrpc": "2.0", "method": "notifications/message",
                    "params": {"level": level, "logger": "workboard-sim", "data": text}});
                events.push(format!("event: message\ndata: {n}\n\n"));
            }
        }
    }
    let last = format!("event: message\ndata: {message}\n\n");
    if sh.faults.take_truncate() {
        sh.count("fault:truncate_sse");
        let mut first = ":\n\n".to_string();
        first.extend(events);
        return truncated(first, last);
    }
    events.push(last);
    let chunks: Vec<Result<Bytes, std::io::Error>> =
        events.into_iter().map(|e| Ok(Bytes::from(e))).collect();
    sse_response(Body::from_stream(stream::iter(chunks)))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn sentinel_values_decode() {
        assert_eq!(decode_header_value("plain").as_deref(), Some("plain"));
        assert_eq!(
            decode_header_value("=?base64?SGVsbG8sIOS4lueVjA==?=").as_deref(),
            Some("Hello, 世界")
        );
        assert_eq!(decode_header_value("=?base64?!!!?="), None);
    }

    #[test]
    fn annotated_tools_have_header_params() {
        let search = tools::find("search").unwrap();
        let hp = header_params(search);
        assert_eq!(hp.len(), 1);
        assert_eq!(hp[0].0, "Workspace");
        let team = tools::find("get_team_objectives").unwrap();
        assert_eq!(header_params(team)[0].2, "integer");
    }
}
