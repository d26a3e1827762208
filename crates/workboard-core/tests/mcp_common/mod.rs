//! Helpers for the connection tests: a hand-driven machine and a fake MCP server (on the
//! core's test doubles, `workboard_core::testing`).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::{json, Value};
use workboard_core::connection::{
    CallHandle, CallOutput, Connection, ConnectionConfig, ConnectionEvent, EraPolicy,
};
pub use workboard_core::testing::{
    auth_context, oauth_credentials, status_response as status, ScriptedTransport, MCP_URL, T0,
};
use workboard_core::{Credentials, Error, HttpRequest, HttpResponse, SansIo};

pub fn personal() -> Connection {
    Connection::new(
        ConnectionConfig::new(MCP_URL)
            .era(EraPolicy::Legacy)
            .credentials(Credentials::personal("tok-1")),
    )
    .unwrap()
}

pub fn with_refresh(access: &str, refresh: &str) -> Connection {
    Connection::new(
        ConnectionConfig::new(MCP_URL)
            .era(EraPolicy::Legacy)
            .credentials(oauth_credentials(
                access,
                Some(refresh),
                Some(T0 + 3_600_000),
            ))
            .auth(auth_context()),
    )
    .unwrap()
}

pub fn drain(c: &mut Connection) -> Vec<HttpRequest> {
    std::iter::from_fn(|| c.poll_request()).collect()
}

pub fn events(c: &mut Connection) -> Vec<ConnectionEvent> {
    std::iter::from_fn(|| c.poll_event()).collect()
}

pub fn body(r: &HttpRequest) -> Value {
    serde_json::from_slice(&r.body).unwrap_or(Value::Null)
}

pub fn method(r: &HttpRequest) -> String {
    body(r)
        .get("method")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string()
}

pub fn rpc_id(r: &HttpRequest) -> Value {
    body(r)["id"].clone()
}

pub fn json(status: u16, v: Value) -> HttpResponse {
    HttpResponse::json(status, &v)
}

pub fn result(req: &HttpRequest, result: Value) -> HttpResponse {
    json(
        200,
        json!({"jsonrpc": "2.0", "id": rpc_id(req), "result": result}),
    )
}

pub fn sse(body: &str) -> HttpResponse {
    HttpResponse::new(
        200,
        vec![("Content-Type".into(), "text/event-stream".into())],
        body.as_bytes().to_vec(),
    )
}

pub fn init_result(version: &str) -> Value {
    json!({"protocolVersion": version, "capabilities": {"tools": {"listChanged": true}}, "serverInfo": {"name": "srv", "version": "1"}})
}

pub fn init_response(req: &HttpRequest, session: Option<&str>) -> HttpResponse {
    let mut r = result(req, init_result("2025-11-25"));
    if let Some(s) = session {
        r.headers.push(("Mcp-Session-Id".into(), s.into()));
    }
    r
}

pub fn tools(names: &[&str], next: Option<&str>) -> Value {
    let list: Vec<Value> = names
        .iter()
        .map(|n| json!({"name": n, "inputSchema": {"type": "object"}}))
        .collect();
    match next {
        Some(c) => json!({"tools": list, "nextCursor": c}),
        None => json!({"tools": list}),
    }
}

/// Sends the initialize exchange of a fresh connection (expects the first drained request to
/// be `initialize`); returns the requests sent after it (initialized + queued calls).
pub fn initialize(c: &mut Connection, session: Option<&str>) -> Vec<HttpRequest> {
    let reqs = drain(c);
    assert_eq!(method(&reqs[0]), "initialize", "{reqs:?}");
    c.handle_response(reqs[0].id, Ok(init_response(&reqs[0], session)), T0);
    drain(c)
}

pub fn take(c: &mut Connection, h: CallHandle) -> Result<CallOutput, Error> {
    c.poll_result(h).expect("call completed")
}

pub fn tool_names(out: CallOutput) -> Vec<String> {
    match out {
        CallOutput::Tools(t) => t.into_iter().map(|t| t.name).collect(),
        other => panic!("not tools: {other:?}"),
    }
}

/// A fake MCP server for `drive`: answers by method with `handler`; records every request
/// (`ScriptedTransport::requests`).
pub fn fake_server(
    mut handler: impl FnMut(&HttpRequest) -> HttpResponse + Send + 'static,
) -> ScriptedTransport {
    ScriptedTransport::new(move |r| Ok(handler(r)))
}

/// Answers initialize (session `s1`), notifications (202), tools/list (one page), ping.
pub fn basic_server() -> ScriptedTransport {
    fake_server(|r| match method(r).as_str() {
        "initialize" => init_response(r, Some("s1")),
        "tools/list" => result(r, tools(&["get_current_user", "search"], None)),
        "ping" => result(r, json!({})),
        "tools/call" => result(r, json!({"content": [{"type": "text", "text": "ok"}]})),
        _ => status(202, &[]),
    })
}
