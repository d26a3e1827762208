//! The dual-era connection (MCP 2026-07-28, basic/versioning.mdx): the modern probe, the
//! fallback to `initialize`, version renegotiation, the era kept with the saved state, the
//! modern request shape (`_meta`, headers, `x-mcp-header`), `resultType`, the tools cache,
//! cancellation and broken streams in the modern era.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod mcp_common;

use mcp_common::*;
use serde_json::{json, Value};
use workboard_core::connection::{
    CallOutput, Connection, ConnectionConfig, ConnectionEvent, EraPolicy,
};
use workboard_core::{Credentials, HttpRequest, HttpResponse, SansIo};

const MODERN: &str = "2026-07-28";

fn auto() -> Connection {
    Connection::new(ConnectionConfig::new(MCP_URL).credentials(Credentials::personal("tok-1")))
        .unwrap()
}

fn with(config: ConnectionConfig) -> Connection {
    Connection::new(config.credentials(Credentials::personal("tok-1"))).unwrap()
}

fn header<'a>(r: &'a HttpRequest, name: &str) -> Option<&'a str> {
    r.header(name)
}

/// A modern result: `resultType`, the server's info in `_meta`, and the given fields.
fn modern_result(req: &HttpRequest, mut fields: Value) -> HttpResponse {
    fields["resultType"] = json!("complete");
    fields["_meta"] =
        json!({"io.modelcontextprotocol/serverInfo": {"name": "modern-srv", "version": "2"}});
    result(req, fields)
}

fn modern_error(req: &HttpRequest, status: u16, code: i64, data: Value) -> HttpResponse {
    json(
        status,
        json!({"jsonrpc": "2.0", "id": rpc_id(req), "error": {"code": code, "message": "m", "data": data}}),
    )
}

/// What a legacy server (TypeScript SDK 1.x) answers a request without a session.
fn legacy_refusal() -> HttpResponse {
    json(
        400,
        json!({"jsonrpc": "2.0", "id": null, "error": {"code": -32000, "message": "Bad Request: No valid session ID provided"}}),
    )
}

fn assert_modern(r: &HttpRequest, method_name: &str) {
    assert_eq!(header(r, "MCP-Protocol-Version"), Some(MODERN), "{r:?}");
    assert_eq!(header(r, "Mcp-Method"), Some(method_name));
    assert!(header(r, "Mcp-Session-Id").is_none());
    let meta = &body(r)["params"]["_meta"];
    assert_eq!(meta["io.modelcontextprotocol/protocolVersion"], MODERN);
    assert_eq!(
        meta["io.modelcontextprotocol/clientInfo"]["name"],
        "workboard-connect"
    );
    assert!(meta["io.modelcontextprotocol/clientCapabilities"].is_object());
    assert_eq!(method(r), method_name);
}

#[test]
fn a_modern_server_gives_the_first_tool_list_in_one_request() {
    let mut c = auto();
    let h = c.list_tools(T0);
    let reqs = drain(&mut c);
    assert_eq!(reqs.len(), 1, "{reqs:?}");
    assert_modern(&reqs[0], "tools/list");
    assert!(header(&reqs[0], "Mcp-Name").is_none());
    c.handle_response(
        reqs[0].id,
        Ok(modern_result(&reqs[0], tools(&["a", "b"], None))),
        T0,
    );
    assert_eq!(tool_names(take(&mut c, h).unwrap()), ["a", "b"]);
    let ev = events(&mut c);
    assert!(ev.contains(&ConnectionEvent::StateChanged), "{ev:?}");
    assert!(ev.iter().any(
        |e| matches!(e, ConnectionEvent::Initialized { protocol_version, server_info }
        if protocol_version == MODERN && server_info.name == "modern-srv")
    ));
    assert_eq!(c.session().protocol_version.as_deref(), Some(MODERN));
    assert!(c.save_state().contains(MODERN));
    // The next call goes out modern at once, no initialize ever.
    let h = c.call_tool("a", json!({"x": 1}), T0);
    let reqs = drain(&mut c);
    assert_eq!(reqs.len(), 1);
    assert_modern(&reqs[0], "tools/call");
    assert_eq!(header(&reqs[0], "Mcp-Name"), Some("a"));
    assert_eq!(body(&reqs[0])["params"]["arguments"], json!({"x": 1}));
    c.handle_response(
        reqs[0].id,
        Ok(modern_result(
            &reqs[0],
            json!({"content": [{"type": "text", "text": "ok"}]}),
        )),
        T0,
    );
    assert!(matches!(take(&mut c, h), Ok(CallOutput::ToolResult(_))));
}

#[test]
fn a_legacy_server_gets_initialize_after_refusing_the_modern_probe_and_keeps_it() {
    for refusal in [
        legacy_refusal(),
        status(404, &[]),
        status(405, &[]),
        status(400, &[]),
    ] {
        let mut c = auto();
        let a = c.list_tools(T0);
        let b = c.ping(T0);
        let reqs = drain(&mut c);
        // One probe; the other call waits for its verdict.
        assert_eq!(reqs.len(), 1, "{reqs:?}");
        assert_modern(&reqs[0], "tools/list");
        c.handle_response(reqs[0].id, Ok(refusal.clone()), T0);
        let reqs = drain(&mut c);
        assert_eq!(reqs.len(), 1);
        assert_eq!(method(&reqs[0]), "initialize");
        assert_eq!(body(&reqs[0])["params"]["protocolVersion"], "2025-11-25");
        assert!(header(&reqs[0], "Mcp-Method").is_none());
        c.handle_response(reqs[0].id, Ok(init_response(&reqs[0], Some("s1"))), T0);
        let reqs = drain(&mut c);
        let methods: Vec<String> = reqs.iter().map(method).collect();
        assert_eq!(methods, ["notifications/initialized", "tools/list", "ping"]);
        for r in &reqs {
            assert_eq!(header(r, "Mcp-Session-Id"), Some("s1"));
            assert!(header(r, "Mcp-Method").is_none());
            assert!(body(r)["params"].get("_meta").is_none());
        }
        c.handle_response(reqs[1].id, Ok(result(&reqs[1], tools(&["t"], None))), T0);
        c.handle_response(reqs[2].id, Ok(result(&reqs[2], json!({}))), T0);
        assert_eq!(tool_names(take(&mut c, a).unwrap()), ["t"]);
        assert!(matches!(take(&mut c, b), Ok(CallOutput::Pong)));
        // Restored, the legacy session is used at once: no probe.
        let mut c2 = Connection::new(
            ConnectionConfig::new(MCP_URL)
                .credentials(Credentials::personal("tok-1"))
                .restored_state(c.save_state()),
        )
        .unwrap();
        c2.ping(T0);
        let reqs = drain(&mut c2);
        assert_eq!(reqs.len(), 1);
        assert_eq!(method(&reqs[0]), "ping");
        assert_eq!(header(&reqs[0], "Mcp-Session-Id"), Some("s1"));
    }
}

#[test]
fn unsupported_version_retries_with_the_best_mutual_version() {
    // The server speaks only older legacy versions: initialize asks for the best of them.
    let mut c = auto();
    let h = c.list_tools(T0);
    let reqs = drain(&mut c);
    c.handle_response(
        reqs[0].id,
        Ok(modern_error(
            &reqs[0],
            400,
            -32022,
            json!({"supported": ["2025-03-26", "2025-06-18"], "requested": MODERN}),
        )),
        T0,
    );
    let reqs = drain(&mut c);
    assert_eq!(method(&reqs[0]), "initialize");
    assert_eq!(body(&reqs[0])["params"]["protocolVersion"], "2025-06-18");
    let mut init = result(&reqs[0], init_result("2025-06-18"));
    init.headers.push(("Mcp-Session-Id".into(), "s".into()));
    c.handle_response(reqs[0].id, Ok(init), T0);
    let reqs = drain(&mut c);
    let list = reqs.iter().find(|r| method(r) == "tools/list").unwrap();
    assert_eq!(header(list, "MCP-Protocol-Version"), Some("2025-06-18"));
    c.handle_response(list.id, Ok(result(list, tools(&["t"], None))), T0);
    assert!(take(&mut c, h).is_ok());
}

#[test]
fn no_mutual_version_fails_naming_the_servers_versions_and_the_next_call_probes_again() {
    let mut c = auto();
    let h = c.list_tools(T0);
    let reqs = drain(&mut c);
    c.handle_response(
        reqs[0].id,
        Ok(modern_error(
            &reqs[0],
            400,
            -32022,
            json!({"supported": ["2031-01-01"]}),
        )),
        T0,
    );
    let e = take(&mut c, h).unwrap_err();
    assert_eq!(e.code(), "unsupported_protocol_version");
    assert!(e.to_string().contains("2031-01-01"), "{e}");
    assert!(e.hint().unwrap().contains(MODERN), "{:?}", e.hint());
    c.list_tools(T0);
    let reqs = drain(&mut c);
    assert_modern(&reqs[0], "tools/list");
}

#[test]
fn a_modern_only_server_refusing_a_restored_legacy_session_moves_the_client_to_modern() {
    let saved =
        json!({"server_url": MCP_URL, "session_id": "old", "protocol_version": "2025-11-25"});
    let mut c = with(ConnectionConfig::new(MCP_URL).restored_state(saved.to_string()));
    let h = c.list_tools(T0);
    let reqs = drain(&mut c);
    assert_eq!(header(&reqs[0], "Mcp-Session-Id"), Some("old"));
    c.handle_response(
        reqs[0].id,
        Ok(modern_error(
            &reqs[0],
            400,
            -32022,
            json!({"supported": [MODERN]}),
        )),
        T0,
    );
    let reqs = drain(&mut c);
    assert_eq!(reqs.len(), 1, "{reqs:?}");
    assert_modern(&reqs[0], "tools/list");
    c.handle_response(
        reqs[0].id,
        Ok(modern_result(&reqs[0], tools(&["m"], None))),
        T0,
    );
    assert_eq!(tool_names(take(&mut c, h).unwrap()), ["m"]);
    assert!(c.save_state().contains(MODERN) && !c.save_state().contains("old"));
}

#[test]
fn initialize_refused_by_a_modern_only_server_moves_to_modern_without_initialize() {
    let mut c = with(ConnectionConfig::new(MCP_URL).era(EraPolicy::Auto));
    let h = c.ping(T0);
    let reqs = drain(&mut c);
    // The probe is refused as a legacy server would...
    c.handle_response(reqs[0].id, Ok(status(400, &[])), T0);
    let reqs = drain(&mut c);
    assert_eq!(method(&reqs[0]), "initialize");
    // ...but initialize is refused with the modern error naming 2026-07-28 (go-sdk, TS 2.x).
    c.handle_response(
        reqs[0].id,
        Ok(modern_error(
            &reqs[0],
            400,
            -32022,
            json!({"supported": [MODERN]}),
        )),
        T0,
    );
    let reqs = drain(&mut c);
    assert_eq!(reqs.len(), 1, "{reqs:?}");
    assert_modern(&reqs[0], "server/discover");
    c.handle_response(
        reqs[0].id,
        Ok(modern_result(
            &reqs[0],
            json!({"supportedVersions": [MODERN], "capabilities": {}}),
        )),
        T0,
    );
    assert!(matches!(take(&mut c, h), Ok(CallOutput::Pong)));
}

#[test]
fn era_switches_are_bounded_for_a_server_that_contradicts_itself() {
    let mut c = auto();
    let h = c.list_tools(T0);
    let mut sent = 0;
    while let Some(r) = c.poll_request() {
        sent += 1;
        assert!(sent < 20, "the client keeps switching eras");
        let reply = if header(&r, "Mcp-Method").is_some() {
            legacy_refusal()
        } else {
            modern_error(&r, 400, -32022, json!({"supported": [MODERN]}))
        };
        c.handle_response(r.id, Ok(reply), T0);
    }
    assert!(take(&mut c, h).is_err());
}

#[test]
fn a_cached_modern_era_skips_the_probe_and_is_probed_again_when_it_fails() {
    let saved = json!({"server_url": MCP_URL, "protocol_version": MODERN});
    let mut c = with(ConnectionConfig::new(MCP_URL).restored_state(saved.to_string()));
    let h = c.list_tools(T0);
    let b = c.ping(T0);
    let reqs = drain(&mut c);
    // Both go out at once: the era is known.
    assert_eq!(reqs.len(), 2);
    assert_modern(&reqs[0], "tools/list");
    assert_modern(&reqs[1], "server/discover");
    // The server was replaced by a legacy one: initialize, then both again.
    c.handle_response(reqs[0].id, Ok(legacy_refusal()), T0);
    c.handle_response(reqs[1].id, Ok(legacy_refusal()), T0);
    let reqs = drain(&mut c);
    assert_eq!(reqs.len(), 1, "{reqs:?}");
    assert_eq!(method(&reqs[0]), "initialize");
    c.handle_response(reqs[0].id, Ok(init_response(&reqs[0], Some("s"))), T0);
    let more = drain(&mut c);
    let list = more.iter().find(|r| method(r) == "tools/list").unwrap();
    let ping = more.iter().find(|r| method(r) == "ping").unwrap();
    c.handle_response(list.id, Ok(result(list, tools(&["t"], None))), T0);
    c.handle_response(ping.id, Ok(result(ping, json!({}))), T0);
    assert!(take(&mut c, h).is_ok());
    assert!(take(&mut c, b).is_ok());
}

#[test]
fn policies_pin_the_era() {
    // Modern only: a legacy server is an HTTP error, never initialize.
    let mut c = with(ConnectionConfig::new(MCP_URL).era(EraPolicy::Modern));
    let h = c.list_tools(T0);
    let reqs = drain(&mut c);
    assert_modern(&reqs[0], "tools/list");
    c.handle_response(reqs[0].id, Ok(legacy_refusal()), T0);
    assert!(drain(&mut c).is_empty());
    assert_eq!(take(&mut c, h).unwrap_err().code(), "http_status");
    // Legacy only: initialize first, never a modern request.
    let mut c = with(ConnectionConfig::new(MCP_URL).era(EraPolicy::Legacy));
    c.list_tools(T0);
    let reqs = drain(&mut c);
    assert_eq!(method(&reqs[0]), "initialize");
}

#[test]
fn tool_parameters_marked_x_mcp_header_are_mirrored_and_invalid_tools_left_out() {
    let mut c = auto();
    let h = c.list_tools(T0);
    let reqs = drain(&mut c);
    let list = json!({"tools": [
        {"name": "sql", "inputSchema": {"type": "object", "properties": {
            "region": {"type": "string", "x-mcp-header": "Region"},
            "limit": {"type": "integer", "x-mcp-header": "Limit"},
            "query": {"type": "string"}}}},
        {"name": "bad", "inputSchema": {"type": "object", "properties": {
            "n": {"type": "number", "x-mcp-header": "N"}}}},
        {"name": "héllo wörld", "inputSchema": {"type": "object"}}]});
    c.handle_response(reqs[0].id, Ok(modern_result(&reqs[0], list)), T0);
    assert_eq!(tool_names(take(&mut c, h).unwrap()), ["sql", "héllo wörld"]);
    let ev = events(&mut c);
    assert!(
        ev.iter().any(
            |e| matches!(e, ConnectionEvent::Diagnostic(d) if d.contains("leaving out tool `bad`"))
        ),
        "{ev:?}"
    );
    c.call_tool(
        "sql",
        json!({"region": "日本", "limit": 5, "query": "select 1"}),
        T0,
    );
    c.call_tool("héllo wörld", json!({}), T0);
    let reqs = drain(&mut c);
    assert_eq!(header(&reqs[0], "Mcp-Name"), Some("sql"));
    assert_eq!(
        header(&reqs[0], "Mcp-Param-Region"),
        Some("=?base64?5pel5pys?=")
    );
    assert_eq!(header(&reqs[0], "Mcp-Param-Limit"), Some("5"));
    assert!(reqs[0].headers.iter().all(|(n, _)| n != "Mcp-Param-query"));
    assert_eq!(
        header(&reqs[1], "Mcp-Name"),
        Some("=?base64?aMOpbGxvIHfDtnJsZA==?=")
    );
    // An argument the header cannot carry fails the call before it is sent.
    let h = c.call_tool("sql", json!({"region": {"nested": true}}), T0);
    assert!(drain(&mut c).is_empty());
    assert_eq!(take(&mut c, h).unwrap_err().code(), "invalid_input");
}

#[test]
fn a_tool_list_with_ttl_is_answered_from_the_cache_until_it_expires_or_changes() {
    let mut c = auto();
    let h = c.list_tools(T0);
    let reqs = drain(&mut c);
    let mut page = tools(&["a"], None);
    page["ttlMs"] = json!(60_000);
    page["cacheScope"] = json!("private");
    c.handle_response(reqs[0].id, Ok(modern_result(&reqs[0], page)), T0);
    assert_eq!(tool_names(take(&mut c, h).unwrap()), ["a"]);
    // Within the ttl: no request.
    let h = c.list_tools(T0 + 59_999);
    assert!(drain(&mut c).is_empty());
    assert_eq!(tool_names(take(&mut c, h).unwrap()), ["a"]);
    // Persisted: a restarted client lists its tools without a request.
    let mut c2 = with(ConnectionConfig::new(MCP_URL).restored_state(c.save_state()));
    let h2 = c2.list_tools(T0 + 1);
    assert!(drain(&mut c2).is_empty());
    assert_eq!(tool_names(take(&mut c2, h2).unwrap()), ["a"]);
    // Expired: a request.
    c.list_tools(T0 + 60_000);
    assert_eq!(drain(&mut c).len(), 1);
    // list_changed ends the cache.
    c2.call_tool("a", json!({}), T0 + 2);
    let reqs = drain(&mut c2);
    let stream = format!(
        "data: {}\n\ndata: {}\n\n",
        json!({"jsonrpc": "2.0", "method": "notifications/tools/list_changed"}),
        json!({"jsonrpc": "2.0", "id": rpc_id(&reqs[0]), "result": {"content": [], "resultType": "complete"}})
    );
    c2.handle_response(reqs[0].id, Ok(sse(&stream)), T0 + 3);
    c2.list_tools(T0 + 4);
    assert_eq!(drain(&mut c2).len(), 1);
}

#[test]
fn a_page_without_ttl_is_not_cached() {
    let mut c = auto();
    c.list_tools(T0);
    let reqs = drain(&mut c);
    let mut page = tools(&["a"], Some("p2"));
    page["ttlMs"] = json!(60_000);
    c.handle_response(reqs[0].id, Ok(modern_result(&reqs[0], page)), T0);
    let reqs = drain(&mut c);
    assert_eq!(body(&reqs[0])["params"]["cursor"], "p2");
    c.handle_response(
        reqs[0].id,
        Ok(modern_result(&reqs[0], tools(&["b"], None))),
        T0,
    );
    c.list_tools(T0 + 1);
    assert_eq!(drain(&mut c).len(), 1);
}

#[test]
fn cancelling_a_modern_call_closes_its_stream_without_notifications_cancelled() {
    let mut c = auto();
    let h = c.call_tool("slow", json!({}), T0);
    let reqs = drain(&mut c);
    assert_modern(&reqs[0], "tools/call");
    c.cancel(h).unwrap();
    assert!(
        drain(&mut c).is_empty(),
        "no notifications/cancelled on Streamable HTTP"
    );
    // The run loop sees the request abandoned and closes it (the cancellation).
    assert!(c.is_request_abandoned(reqs[0].id));
    assert_eq!(take(&mut c, h).unwrap_err().code(), "cancelled");
}

#[test]
fn a_broken_modern_stream_is_sent_again_only_for_requests_without_effects() {
    let mut c = auto();
    let list = c.list_tools(T0);
    let reqs = drain(&mut c);
    c.handle_response(reqs[0].id, Ok(sse("id: 1\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{}}\n\n")), T0);
    let again = drain(&mut c);
    assert_eq!(again.len(), 1, "re-issued, not resumed with GET");
    assert_modern(&again[0], "tools/list");
    assert_ne!(rpc_id(&again[0]), rpc_id(&reqs[0]), "a new id");
    c.handle_response(
        again[0].id,
        Ok(modern_result(&again[0], tools(&["a"], None))),
        T0,
    );
    assert!(take(&mut c, list).is_ok());
    let call = c.call_tool("write", json!({}), T0);
    let reqs = drain(&mut c);
    c.handle_response(reqs[0].id, Ok(sse("id: 1\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{}}\n\n")), T0);
    assert!(drain(&mut c).is_empty(), "a tool call is never sent twice");
    let e = take(&mut c, call).unwrap_err();
    assert_eq!(e.code(), "protocol_error");
    assert!(e.to_string().contains("may have run"), "{e}");
}

#[test]
fn result_types_are_checked() {
    let mut c = auto();
    let h = c.call_tool("ask", json!({}), T0);
    let reqs = drain(&mut c);
    let r = result(
        &reqs[0],
        json!({"resultType": "input_required", "inputRequests": {"a": {"method": "elicitation/create", "params": {}}}, "requestState": "s"}),
    );
    c.handle_response(reqs[0].id, Ok(r), T0);
    let e = take(&mut c, h).unwrap_err();
    assert_eq!(e.code(), "protocol_error");
    assert!(e.to_string().contains("did not declare"), "{e}");
    let h = c.call_tool("odd", json!({}), T0);
    let reqs = drain(&mut c);
    c.handle_response(
        reqs[0].id,
        Ok(result(
            &reqs[0],
            json!({"resultType": "later", "content": []}),
        )),
        T0,
    );
    assert_eq!(take(&mut c, h).unwrap_err().code(), "invalid_response");
}

#[test]
fn modern_errors_fail_the_call_with_their_code() {
    let mut c = auto();
    let h = c.call_tool("t", json!({}), T0);
    let reqs = drain(&mut c);
    c.handle_response(
        reqs[0].id,
        Ok(modern_error(
            &reqs[0],
            400,
            -32021,
            json!({"requiredCapabilities": {"sampling": {}}}),
        )),
        T0,
    );
    let e = take(&mut c, h).unwrap_err();
    assert_eq!(e.code(), "jsonrpc_error");
    assert!(e.to_string().contains("-32021"), "{e}");
    // A modern error identified the server as modern: no initialize.
    c.list_tools(T0);
    let reqs = drain(&mut c);
    assert_modern(&reqs[0], "tools/list");
}

#[test]
fn discover_and_ping_use_server_discover_on_a_modern_server() {
    let mut c = auto();
    let h = c.discover(T0);
    let reqs = drain(&mut c);
    assert_modern(&reqs[0], "server/discover");
    c.handle_response(
        reqs[0].id,
        Ok(modern_result(
            &reqs[0],
            json!({"supportedVersions": [MODERN, "2025-11-25"], "capabilities": {"tools": {}}}),
        )),
        T0,
    );
    match take(&mut c, h).unwrap() {
        CallOutput::Discovered(d) => {
            assert!(d.modern);
            assert_eq!(d.supported_versions, [MODERN, "2025-11-25"]);
            assert_eq!(d.protocol_version, MODERN);
            assert_eq!(d.server_info.unwrap().name, "modern-srv");
            assert_eq!(d.capabilities, json!({"tools": {}}));
        }
        other => panic!("{other:?}"),
    }
    // A GET stream does not exist in the modern era.
    let s = c.open_server_stream(T0);
    assert!(drain(&mut c).is_empty());
    assert!(matches!(
        take(&mut c, s),
        Ok(CallOutput::ServerStreamEnded { supported: false })
    ));
}

#[test]
fn discover_on_a_legacy_server_reports_what_initialize_said() {
    let mut c = with(ConnectionConfig::new(MCP_URL).era(EraPolicy::Legacy));
    let h = c.discover(T0);
    let after = initialize(&mut c, Some("s"));
    assert!(after.iter().all(|r| method(r) != "server/discover"));
    match take(&mut c, h).unwrap() {
        CallOutput::Discovered(d) => {
            assert!(!d.modern);
            assert_eq!(d.supported_versions, ["2025-11-25"]);
            assert_eq!(d.server_info.unwrap().name, "srv");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_get_stream_alone_probes_with_server_discover() {
    let mut c = auto();
    let s = c.open_server_stream(T0);
    let reqs = drain(&mut c);
    assert_eq!(reqs.len(), 1);
    assert_modern(&reqs[0], "server/discover");
    c.handle_response(reqs[0].id, Ok(legacy_refusal()), T0);
    let after = initialize(&mut c, Some("s"));
    assert!(
        after
            .iter()
            .any(|r| r.method == workboard_core::Method::Get),
        "{after:?}"
    );
    assert!(c.is_pending(s));
}

#[test]
fn the_log_level_goes_in_every_modern_request_and_is_checked() {
    let mut c = with(ConnectionConfig::new(MCP_URL).log_level("warning"));
    c.list_tools(T0);
    let reqs = drain(&mut c);
    assert_eq!(
        body(&reqs[0])["params"]["_meta"]["io.modelcontextprotocol/logLevel"],
        "warning"
    );
    let e =
        Connection::new(ConnectionConfig::new(MCP_URL).log_level("verbose\r\nX: y")).unwrap_err();
    assert_eq!(e.code(), "invalid_input");
    assert!(!e.to_string().contains('\n'));
}

#[test]
fn the_dual_era_fake_server_is_spoken_modern_and_the_legacy_one_through_initialize() {
    use workboard_core::testing::{FakeEra, FakeMcpServer, SimClock};
    for (era, expect) in [
        (FakeEra::Dual, vec!["tools/list", "tools/call"]),
        (FakeEra::Modern, vec!["tools/list", "tools/call"]),
        (
            FakeEra::Legacy,
            vec![
                "tools/list",
                "initialize",
                "notifications/initialized",
                "tools/list",
                "tools/call",
            ],
        ),
    ] {
        let server = FakeMcpServer::new().with_era(era);
        let t = server.transport();
        let clock = SimClock::at(T0);
        let mut c = Connection::new(
            ConnectionConfig::new(MCP_URL).credentials(Credentials::personal("personal-token")),
        )
        .unwrap();
        let a = c.list_tools(T0);
        futures_executor::block_on(workboard_core::drive(&mut c, &t, &clock));
        let b = c.call_tool("echo", json!({"q": "é"}), T0);
        futures_executor::block_on(workboard_core::drive(&mut c, &t, &clock));
        assert!(take(&mut c, a).is_ok(), "{era:?}");
        let out = take(&mut c, b).unwrap();
        assert!(
            matches!(out, CallOutput::ToolResult(r) if r.text().contains("echo")),
            "{era:?}"
        );
        let methods: Vec<String> = t.requests().iter().map(method).collect();
        assert_eq!(methods, expect, "{era:?}");
    }
}

#[test]
fn a_stateless_legacy_server_that_answers_the_probe_without_result_type_is_taken_as_legacy() {
    // tools/list (no effects): sent again in a legacy session.
    let mut c = auto();
    let h = c.list_tools(T0);
    let reqs = drain(&mut c);
    c.handle_response(reqs[0].id, Ok(result(&reqs[0], tools(&["x"], None))), T0);
    let after = initialize(&mut c, None);
    let list = after.iter().find(|r| method(r) == "tools/list").unwrap();
    assert!(header(list, "Mcp-Method").is_none());
    c.handle_response(list.id, Ok(result(list, tools(&["y"], None))), T0);
    assert_eq!(tool_names(take(&mut c, h).unwrap()), ["y"]);
    // tools/call (it ran): its result stands, and the next call initializes first.
    let mut c = auto();
    let h = c.call_tool("t", json!({}), T0);
    let reqs = drain(&mut c);
    c.handle_response(
        reqs[0].id,
        Ok(result(
            &reqs[0],
            json!({"content": [{"type": "text", "text": "ran"}]}),
        )),
        T0,
    );
    assert!(matches!(take(&mut c, h), Ok(CallOutput::ToolResult(r)) if r.text() == "ran"));
    c.list_tools(T0);
    let reqs = drain(&mut c);
    assert_eq!(method(&reqs[0]), "initialize");
    // A confirmed modern server may omit it: taken as complete.
    let mut c = auto();
    c.list_tools(T0);
    let reqs = drain(&mut c);
    c.handle_response(
        reqs[0].id,
        Ok(modern_result(&reqs[0], tools(&["a"], None))),
        T0,
    );
    let h = c.call_tool("a", json!({}), T0);
    let reqs = drain(&mut c);
    c.handle_response(reqs[0].id, Ok(result(&reqs[0], json!({"content": []}))), T0);
    assert!(take(&mut c, h).is_ok());
    assert!(drain(&mut c).is_empty());
}

#[test]
fn a_header_mismatch_lists_the_tools_then_calls_again_once_with_the_headers() {
    let saved = json!({"server_url": MCP_URL, "protocol_version": MODERN});
    let mut c = with(ConnectionConfig::new(MCP_URL).restored_state(saved.to_string()));
    let h = c.call_tool("sql", json!({"region": "eu", "q": "x"}), T0);
    let reqs = drain(&mut c);
    assert!(
        header(&reqs[0], "Mcp-Param-Region").is_none(),
        "the annotation is not known yet"
    );
    c.handle_response(
        reqs[0].id,
        Ok(modern_error(&reqs[0], 400, -32020, Value::Null)),
        T0,
    );
    let reqs = drain(&mut c);
    assert_eq!(reqs.len(), 1);
    assert_modern(&reqs[0], "tools/list");
    let list = json!({"tools": [{"name": "sql", "inputSchema": {"type": "object", "properties": {
        "region": {"type": "string", "x-mcp-header": "Region"}}}}]});
    c.handle_response(reqs[0].id, Ok(modern_result(&reqs[0], list)), T0);
    let reqs = drain(&mut c);
    assert_eq!(reqs.len(), 1);
    assert_modern(&reqs[0], "tools/call");
    assert_eq!(header(&reqs[0], "Mcp-Param-Region"), Some("eu"));
    // Refused again: the server's error, no loop.
    c.handle_response(
        reqs[0].id,
        Ok(modern_error(&reqs[0], 400, -32020, Value::Null)),
        T0,
    );
    assert!(drain(&mut c).is_empty());
    let e = take(&mut c, h).unwrap_err();
    assert_eq!(e.code(), "jsonrpc_error");
    // A restarted client knows the annotations from the cached list (when it has a ttl).
    let mut c = auto();
    c.list_tools(T0);
    let reqs = drain(&mut c);
    let mut list = json!({"tools": [{"name": "sql", "inputSchema": {"type": "object", "properties": {
        "region": {"type": "string", "x-mcp-header": "Region"}}}}]});
    list["ttlMs"] = json!(60_000);
    c.handle_response(reqs[0].id, Ok(modern_result(&reqs[0], list)), T0);
    let mut c2 = with(ConnectionConfig::new(MCP_URL).restored_state(c.save_state()));
    c2.call_tool("sql", json!({"region": "us"}), T0 + 1);
    let reqs = drain(&mut c2);
    assert_eq!(header(&reqs[0], "Mcp-Param-Region"), Some("us"));
}

#[test]
fn an_initialize_refused_again_and_again_for_the_version_it_asks_ends() {
    let mut c = with(ConnectionConfig::new(MCP_URL).era(EraPolicy::Legacy));
    let h = c.list_tools(T0);
    let mut sent = 0;
    while let Some(r) = c.poll_request() {
        sent += 1;
        assert!(sent < 10, "initialize loops");
        assert_eq!(method(&r), "initialize");
        c.handle_response(
            r.id,
            Ok(modern_error(
                &r,
                400,
                -32022,
                json!({"supported": ["2025-11-25"]}),
            )),
            T0,
        );
    }
    assert_eq!(
        take(&mut c, h).unwrap_err().code(),
        "unsupported_protocol_version"
    );
}

#[test]
fn a_version_refused_for_the_moment_is_asked_again() {
    // The server names the very version it refused (conformance: request-metadata).
    let mut c = auto();
    let h = c.list_tools(T0);
    let reqs = drain(&mut c);
    c.handle_response(
        reqs[0].id,
        Ok(modern_error(
            &reqs[0],
            400,
            -32022,
            json!({"supported": [MODERN]}),
        )),
        T0,
    );
    let reqs = drain(&mut c);
    assert_modern(&reqs[0], "tools/list");
    c.handle_response(
        reqs[0].id,
        Ok(modern_result(&reqs[0], tools(&["a"], None))),
        T0,
    );
    assert!(take(&mut c, h).is_ok());
}

fn with_caps(caps: workboard_core::mcp::jsonrpc::ClientCapabilities) -> Connection {
    let mut config = ConnectionConfig::new(MCP_URL);
    config.capabilities = caps;
    with(config)
}

fn elicitation() -> workboard_core::mcp::jsonrpc::ClientCapabilities {
    workboard_core::mcp::jsonrpc::ClientCapabilities {
        elicitation_form: true,
        ..Default::default()
    }
}

fn input_required(req: &HttpRequest, state: Option<&str>) -> HttpResponse {
    let mut r = json!({"resultType": "input_required", "inputRequests": {
        "confirm": {"method": "elicitation/create", "params": {"message": "ok?",
            "requestedSchema": {"type": "object", "properties": {"ok": {"type": "boolean"}}}}}}});
    if let Some(s) = state {
        r["requestState"] = json!(s);
    }
    result(req, r)
}

#[test]
fn an_input_round_is_answered_by_the_app_and_the_call_goes_again_with_a_new_id() {
    let mut c = with_caps(elicitation());
    let h = c.call_tool("ask", json!({"x": 1}), T0);
    let reqs = drain(&mut c);
    assert_eq!(
        body(&reqs[0])["params"]["_meta"]["io.modelcontextprotocol/clientCapabilities"],
        json!({"elicitation": {"form": {}}})
    );
    c.handle_response(
        reqs[0].id,
        Ok(input_required(&reqs[0], Some("opaque=1"))),
        T0,
    );
    assert!(drain(&mut c).is_empty(), "it waits for the app");
    let ev = events(&mut c);
    let requests = ev
        .iter()
        .find_map(|e| match e {
            ConnectionEvent::InputRequired { call, requests } if *call == h => {
                Some(requests.clone())
            }
            _ => None,
        })
        .expect("InputRequired");
    assert_eq!(requests[0].key, "confirm");
    assert_eq!(requests[0].method, "elicitation/create");
    // Wrong keys: refused, nothing sent.
    let wrong: serde_json::Map<String, Value> =
        serde_json::from_value(json!({"other": {"action": "accept"}})).unwrap();
    assert_eq!(
        c.provide_input(h, wrong).unwrap_err().code(),
        "invalid_input"
    );
    assert!(drain(&mut c).is_empty());
    let answer: serde_json::Map<String, Value> =
        serde_json::from_value(json!({"confirm": {"action": "accept", "content": {"ok": true}}}))
            .unwrap();
    c.provide_input(h, answer.clone()).unwrap();
    let again = drain(&mut c);
    assert_eq!(again.len(), 1);
    let p = &body(&again[0])["params"];
    assert_eq!(p["name"], "ask");
    assert_eq!(p["arguments"], json!({"x": 1}));
    assert_eq!(p["inputResponses"], Value::Object(answer.clone()));
    assert_eq!(p["requestState"], "opaque=1", "echoed exactly");
    assert_ne!(rpc_id(&again[0]), rpc_id(&reqs[0]), "a new id");
    assert_eq!(header(&again[0], "Mcp-Name"), Some("ask"));
    // Asked again without state: the next retry carries none.
    c.handle_response(again[0].id, Ok(input_required(&again[0], None)), T0);
    let _ = events(&mut c);
    c.provide_input(h, answer).unwrap();
    let third = drain(&mut c);
    assert!(body(&third[0])["params"].get("requestState").is_none());
    c.handle_response(
        third[0].id,
        Ok(modern_result(
            &third[0],
            json!({"content": [{"type": "text", "text": "done"}]}),
        )),
        T0,
    );
    assert!(matches!(take(&mut c, h), Ok(CallOutput::ToolResult(r)) if r.text() == "done"));
    // Another call carries nothing of that round.
    c.call_tool("other", json!({}), T0);
    let other = drain(&mut c);
    assert!(body(&other[0])["params"].get("inputResponses").is_none());
    // A provide_input for a call that does not wait: refused.
    let m = serde_json::Map::new();
    assert_eq!(c.provide_input(h, m).unwrap_err().code(), "wrong_state");
}

#[test]
fn input_a_client_did_not_declare_or_endless_rounds_fail_the_call() {
    // No capability: an elicitation request is a protocol error (never reaches the app).
    let mut c = auto();
    let h = c.call_tool("ask", json!({}), T0);
    let reqs = drain(&mut c);
    c.handle_response(reqs[0].id, Ok(input_required(&reqs[0], Some("s"))), T0);
    let e = take(&mut c, h).unwrap_err();
    assert_eq!(e.code(), "protocol_error");
    assert!(e.to_string().contains("elicitation/create"), "{e}");
    assert!(!events(&mut c)
        .iter()
        .any(|e| matches!(e, ConnectionEvent::InputRequired { .. })));
    // A server that only ever asks: bounded.
    let mut c = with_caps(elicitation());
    let h = c.call_tool("ask", json!({}), T0);
    let mut rounds = 0;
    while let Some(r) = c.poll_request() {
        rounds += 1;
        assert!(rounds <= 20);
        c.handle_response(r.id, Ok(input_required(&r, Some("s"))), T0);
        let answer: serde_json::Map<String, Value> =
            serde_json::from_value(json!({"confirm": {"action": "decline"}})).unwrap();
        let _ = c.provide_input(h, answer);
    }
    let e = take(&mut c, h).unwrap_err();
    assert!(e.to_string().contains("more than"), "{e}");
    // State only: retried at once with it.
    let mut c = with_caps(elicitation());
    c.call_tool("ask", json!({}), T0);
    let reqs = drain(&mut c);
    c.handle_response(
        reqs[0].id,
        Ok(result(
            &reqs[0],
            json!({"resultType": "input_required", "requestState": "only"}),
        )),
        T0,
    );
    let again = drain(&mut c);
    assert_eq!(body(&again[0])["params"]["requestState"], "only");
}

#[test]
fn a_legacy_server_request_for_declared_input_goes_to_the_app_and_its_answer_to_the_server() {
    use workboard_core::BodyPart;
    let mut config = ConnectionConfig::new(MCP_URL).era(EraPolicy::Legacy);
    config.capabilities = elicitation();
    let mut c = with(config);
    let h = c.call_tool("ask", json!({}), T0);
    let reqs = drain(&mut c);
    assert_eq!(
        body(&reqs[0])["params"]["capabilities"],
        json!({"elicitation": {"form": {}}})
    );
    c.handle_response(reqs[0].id, Ok(init_response(&reqs[0], Some("s"))), T0);
    // The GET stream (where a legacy server may send its requests) opens first; the call
    // waits for it to be open.
    let after = drain(&mut c);
    let get = after
        .iter()
        .find(|r| r.method == workboard_core::Method::Get)
        .expect("the GET stream");
    assert!(after.iter().all(|r| method(r) != "tools/call"), "{after:?}");
    let sse_head = || BodyPart::Head {
        status: 200,
        headers: vec![("Content-Type".into(), "text/event-stream".into())],
    };
    c.handle_response_part(get.id, sse_head(), T0);
    let call = drain(&mut c);
    assert_eq!(call.len(), 1);
    assert_eq!(method(&call[0]), "tools/call");
    // The server asks on the call's stream and waits: the parts reach the app at once.
    c.handle_response_part(call[0].id, sse_head(), T0);
    let ask = format!(
        "data: {}\n\n",
        json!({"jsonrpc": "2.0", "id": "srv-1", "method": "elicitation/create", "params": {"message": "ok?"}})
    );
    c.handle_response_part(call[0].id, BodyPart::Chunk(ask.clone().into_bytes()), T0);
    let request_id = events(&mut c)
        .into_iter()
        .find_map(|e| match e {
            ConnectionEvent::ServerRequest {
                request_id,
                request,
            } => {
                assert_eq!(request.method, "elicitation/create");
                Some(request_id)
            }
            _ => None,
        })
        .expect("ServerRequest before the stream ends");
    c.answer_server_request(&request_id, Ok(json!({"action": "decline"})));
    let answer = drain(&mut c);
    assert_eq!(body(&answer[0])["id"], "srv-1");
    assert_eq!(body(&answer[0])["result"]["action"], "decline");
    assert_eq!(header(&answer[0], "Mcp-Session-Id"), Some("s"));
    // The result on the same stream completes the call before the stream's end; the GET
    // stream is then no longer wanted (the run loop closes it).
    let done = format!(
        "data: {}\n\n",
        json!({"jsonrpc": "2.0", "id": rpc_id(&call[0]), "result": {"content": []}})
    );
    c.handle_response_part(call[0].id, BodyPart::Chunk(done.clone().into_bytes()), T0);
    assert!(take(&mut c, h).is_ok());
    assert!(c.is_request_abandoned(get.id));
    // The whole body at the end is not read twice.
    let whole = format!("{ask}{done}");
    c.handle_response(call[0].id, Ok(sse(&whole)), T0);
    assert!(!events(&mut c)
        .iter()
        .any(|e| matches!(e, ConnectionEvent::ServerRequest { .. })));
    // An undeclared one (sampling) is still refused with -32601.
    c.call_tool("ask", json!({}), T0);
    let reqs = drain(&mut c);
    let get2 = reqs
        .iter()
        .find(|r| r.method == workboard_core::Method::Get)
        .expect("the GET stream again, for this call");
    c.handle_response_part(get2.id, sse_head(), T0);
    let reqs = drain(&mut c);
    let call = reqs.iter().find(|r| method(r) == "tools/call").unwrap();
    let stream = format!(
        "data: {}\n\ndata: {}\n\n",
        json!({"jsonrpc": "2.0", "id": 7, "method": "sampling/createMessage", "params": {}}),
        json!({"jsonrpc": "2.0", "id": rpc_id(call), "result": {"content": []}})
    );
    c.handle_response(call.id, Ok(sse(&stream)), T0);
    let refusal = drain(&mut c);
    assert!(
        refusal.iter().any(|r| body(r)["error"]["code"] == -32601),
        "{refusal:?}"
    );
}

#[test]
fn without_the_get_stream_s_head_the_calls_go_after_a_short_wait_and_405_means_none() {
    let mut config = ConnectionConfig::new(MCP_URL).era(EraPolicy::Legacy);
    config.capabilities = elicitation();
    let mut c = with(config);
    c.call_tool("ask", json!({}), T0);
    let reqs = drain(&mut c);
    c.handle_response(reqs[0].id, Ok(init_response(&reqs[0], Some("s"))), T0);
    let after = drain(&mut c);
    let get = after
        .iter()
        .find(|r| r.method == workboard_core::Method::Get)
        .unwrap()
        .clone();
    assert!(after.iter().all(|r| method(r) != "tools/call"));
    // A whole-body transport: no head ever; the timer lets the call go.
    let t = c.poll_timeout().unwrap();
    assert!(t <= T0 + workboard_core::connection::LISTEN_WAIT_MS);
    c.handle_timeout(t);
    let call = drain(&mut c);
    assert_eq!(method(&call[0]), "tools/call");
    // 405: the server has no GET stream; later calls do not ask for it again.
    c.handle_response(get.id, Ok(status(405, &[])), T0 + 1);
    c.handle_response(
        call[0].id,
        Ok(result(&call[0], json!({"content": []}))),
        T0 + 2,
    );
    c.call_tool("again", json!({}), T0 + 3);
    let next = drain(&mut c);
    assert_eq!(next.len(), 1);
    assert_eq!(method(&next[0]), "tools/call");
}

#[test]
fn a_saved_legacy_session_opened_with_other_capabilities_is_not_reused() {
    let mut c = with(ConnectionConfig::new(MCP_URL).era(EraPolicy::Legacy));
    c.ping(T0);
    let after = initialize(&mut c, Some("plain"));
    let ping = after.iter().find(|r| method(r) == "ping").unwrap();
    c.handle_response(ping.id, Ok(result(ping, json!({}))), T0);
    let saved = c.save_state();
    // The same capabilities: reused.
    let mut same = with(ConnectionConfig::new(MCP_URL).restored_state(saved.clone()));
    same.ping(T0);
    assert_eq!(
        header(&drain(&mut same)[0], "Mcp-Session-Id"),
        Some("plain")
    );
    // With an input handler now: a new session declares it.
    let mut config = ConnectionConfig::new(MCP_URL).restored_state(saved);
    config.capabilities = elicitation();
    let mut other = with(config);
    other.ping(T0);
    let reqs = drain(&mut other);
    assert_eq!(method(&reqs[0]), "initialize");
    assert_eq!(
        body(&reqs[0])["params"]["capabilities"],
        json!({"elicitation": {"form": {}}})
    );
}

#[test]
fn progress_and_log_messages_on_a_call_s_stream_are_announced_with_that_call() {
    let mut c = with(ConnectionConfig::new(MCP_URL).log_level("info"));
    let h = c.call_tool("long", json!({}), T0);
    let reqs = drain(&mut c);
    let stream = format!(
        "data: {}\n\ndata: {}\n\ndata: {}\n\ndata: {}\n\n",
        json!({"jsonrpc": "2.0", "method": "notifications/progress", "params": {"progress": 1, "total": 2}}),
        json!({"jsonrpc": "2.0", "method": "notifications/message", "params": {"level": "info", "data": "half way"}}),
        json!({"jsonrpc": "2.0", "method": "notifications/tools/list_changed"}),
        json!({"jsonrpc": "2.0", "id": rpc_id(&reqs[0]), "result": {"resultType": "complete", "content": []}})
    );
    c.handle_response(reqs[0].id, Ok(sse(&stream)), T0);
    assert!(take(&mut c, h).is_ok());
    let ev = events(&mut c);
    let about: Vec<&str> = ev
        .iter()
        .filter_map(|e| match e {
            ConnectionEvent::CallNotification { call, method, .. } if *call == h => {
                Some(method.as_str())
            }
            _ => None,
        })
        .collect();
    assert_eq!(about, ["notifications/progress", "notifications/message"]);
    assert!(ev.iter().any(
        |e| matches!(e, ConnectionEvent::ServerNotification { method, .. }
        if method == "notifications/tools/list_changed")
    ));
}

#[test]
fn a_modern_subscription_hands_over_its_notifications_until_the_server_closes_it() {
    use workboard_core::connection::SubscriptionFilter;
    use workboard_core::BodyPart;
    let mut c = auto();
    let filter = SubscriptionFilter {
        tools_list_changed: true,
        resource_subscriptions: vec!["workboard://goal/1".into()],
        ..Default::default()
    };
    // Nothing asked: refused before anything is sent.
    let bad = c.subscribe(SubscriptionFilter::default(), T0);
    assert_eq!(take(&mut c, bad).unwrap_err().code(), "invalid_input");
    // The era is found first (a subscription is not a probe).
    let h = c.subscribe(filter.clone(), T0);
    let reqs = drain(&mut c);
    assert_modern(&reqs[0], "server/discover");
    c.handle_response(
        reqs[0].id,
        Ok(modern_result(
            &reqs[0],
            json!({"supportedVersions": [MODERN]}),
        )),
        T0,
    );
    let reqs = drain(&mut c);
    assert_modern(&reqs[0], "subscriptions/listen");
    assert_eq!(
        body(&reqs[0])["params"]["notifications"],
        json!({"toolsListChanged": true, "resourceSubscriptions": ["workboard://goal/1"]})
    );
    let id = reqs[0].id;
    c.handle_response_part(
        id,
        BodyPart::Head {
            status: 200,
            headers: vec![("Content-Type".into(), "text/event-stream".into())],
        },
        T0,
    );
    let sub = rpc_id(&reqs[0]);
    let events_of = |c: &mut Connection| -> Vec<String> {
        events(c)
            .into_iter()
            .filter_map(|e| match e {
                ConnectionEvent::CallNotification { call, method, .. } if call == h => Some(method),
                _ => None,
            })
            .collect()
    };
    let chunk = format!(
        ": keep-alive\n\ndata: {}\n\ndata: {}\n\n",
        json!({"jsonrpc": "2.0", "method": "notifications/subscriptions/acknowledged",
            "params": {"_meta": {"io.modelcontextprotocol/subscriptionId": sub}, "notifications": {"toolsListChanged": true}}}),
        json!({"jsonrpc": "2.0", "method": "notifications/tools/list_changed",
            "params": {"_meta": {"io.modelcontextprotocol/subscriptionId": sub}}})
    );
    c.handle_response_part(id, BodyPart::Chunk(chunk.clone().into_bytes()), T0);
    assert_eq!(
        events_of(&mut c),
        [
            "notifications/subscriptions/acknowledged",
            "notifications/tools/list_changed"
        ]
    );
    assert!(c.is_pending(h), "a subscription lasts");
    assert_eq!(c.poll_timeout(), None, "and has no deadline");
    // The server ends it with a result: graceful.
    let end = format!(
        "data: {}\n\n",
        json!({"jsonrpc": "2.0", "id": sub, "result": {"resultType": "complete"}})
    );
    c.handle_response_part(id, BodyPart::Chunk(end.into_bytes()), T0);
    assert!(matches!(
        take(&mut c, h),
        Ok(CallOutput::SubscriptionEnded { graceful: true })
    ));
}

#[test]
fn a_legacy_subscription_subscribes_each_resource_and_filters_the_get_stream() {
    use workboard_core::connection::SubscriptionFilter;
    let mut c = with(ConnectionConfig::new(MCP_URL).era(EraPolicy::Legacy));
    let h = c.subscribe(
        SubscriptionFilter {
            resource_subscriptions: vec!["workboard://goal/1".into()],
            ..Default::default()
        },
        T0,
    );
    let after = initialize(&mut c, Some("s"));
    let subscribe = after
        .iter()
        .find(|r| method(r) == "resources/subscribe")
        .expect("resources/subscribe");
    assert_eq!(body(subscribe)["params"]["uri"], "workboard://goal/1");
    let get = after
        .iter()
        .find(|r| r.method == workboard_core::Method::Get)
        .expect("the GET stream");
    let stream = format!(
        "data: {}\n\ndata: {}\n\n",
        json!({"jsonrpc": "2.0", "method": "notifications/resources/updated", "params": {"uri": "workboard://goal/1"}}),
        json!({"jsonrpc": "2.0", "method": "notifications/resources/updated", "params": {"uri": "workboard://goal/2"}})
    );
    c.handle_response(get.id, Ok(sse(&stream)), T0);
    let ev = events(&mut c);
    let mine: Vec<Value> = ev
        .iter()
        .filter_map(|e| match e {
            ConnectionEvent::CallNotification { call, params, .. } if *call == h => {
                Some(params["uri"].clone())
            }
            _ => None,
        })
        .collect();
    assert_eq!(mine, [json!("workboard://goal/1")], "only what was asked");
    assert!(matches!(
        take(&mut c, h),
        Ok(CallOutput::SubscriptionEnded { graceful: false })
    ));
}

#[test]
fn a_request_the_sdk_does_not_model_goes_through_either_era_as_is() {
    // Modern: `_meta` is the request's own (a client's is replaced), headers as for any call.
    let mut c = auto();
    let h = c.request(
        "tasks/get",
        json!({"taskId": "t1", "_meta": {"progressToken": "theirs"}}),
        T0,
    );
    let reqs = drain(&mut c);
    assert_eq!(reqs.len(), 1);
    assert_modern(&reqs[0], "tasks/get");
    let params = &body(&reqs[0])["params"];
    assert_eq!(params["taskId"], "t1");
    assert!(params["_meta"].get("progressToken").is_none());
    c.handle_response(
        reqs[0].id,
        Ok(modern_result(&reqs[0], json!({"task": {"status": "done"}}))),
        T0,
    );
    match take(&mut c, h).unwrap() {
        CallOutput::Raw(v) => {
            assert_eq!(v["task"]["status"], "done");
            assert_eq!(v["resultType"], "complete", "as the server sent it");
        }
        other => panic!("{other:?}"),
    }
    // Legacy: after initialize, a plain JSON-RPC request in the session; no params: none.
    let mut c = with(ConnectionConfig::new(MCP_URL).era(EraPolicy::Legacy));
    let h = c.request("logging/setLevel", Value::Null, T0);
    let reqs = initialize(&mut c, Some("s1"));
    let r = reqs
        .iter()
        .find(|r| method(r) == "logging/setLevel")
        .expect("sent after initialize");
    assert!(body(r).get("params").is_none());
    assert_eq!(header(r, "Mcp-Session-Id"), Some("s1"));
    c.handle_response(r.id, Ok(result(r, json!({}))), T0);
    assert_eq!(take(&mut c, h).unwrap(), CallOutput::Raw(json!({})));
    // A failed forwarded request is never replayed (its effects are unknown).
    let h = c.request("tasks/cancel", json!({"taskId": "t1"}), T0);
    let r = drain(&mut c).pop().unwrap();
    c.handle_response(
        r.id,
        Err(workboard_core::TransportError::Interrupted("reset".into())),
        T0,
    );
    assert!(drain(&mut c).is_empty(), "not replayed");
    assert_eq!(take(&mut c, h).unwrap_err().code(), "transport");
}

#[test]
fn a_forwarded_request_refuses_what_the_connection_owns_or_cannot_send() {
    let mut c = auto();
    for (method, params) in [
        ("initialize", json!({})),
        ("notifications/initialized", json!({})),
        ("", json!({})),
        ("tools/list\nX-Injected: 1", json!({})),
        ("tools/call", json!([1, 2])),
    ] {
        let h = c.request(method, params, T0);
        let e = take(&mut c, h).unwrap_err();
        assert_eq!(e.code(), "invalid_input", "{method:?}");
        assert!(e.to_string().len() < 300);
    }
    let long = "m".repeat(100_000);
    let h = c.request(&long, json!({}), T0);
    let e = take(&mut c, h).unwrap_err();
    assert!(
        !e.to_string().contains(&long[..300]),
        "never echoes the input"
    );
    assert!(drain(&mut c).is_empty(), "nothing was sent");
}

#[test]
fn a_forwarded_tool_call_gets_the_headers_and_input_rounds_of_a_modelled_one() {
    let mut c = with_caps(elicitation());
    // A tool list forwarded as is teaches the connection the tool's annotations.
    let h = c.request("tools/list", json!({"cursor": "c1"}), T0);
    let reqs = drain(&mut c);
    assert_eq!(body(&reqs[0])["params"]["cursor"], "c1");
    let list = json!({"tools": [{"name": "sql", "inputSchema": {"type": "object",
        "properties": {"region": {"type": "string", "x-mcp-header": "Region"}}}}]});
    c.handle_response(reqs[0].id, Ok(modern_result(&reqs[0], list)), T0);
    assert!(matches!(take(&mut c, h).unwrap(), CallOutput::Raw(_)));
    // The client's own input answers are the connection's to send: dropped.
    let h = c.request(
        "tools/call",
        json!({"name": "sql", "arguments": {"region": "eu"},
               "inputResponses": {"x": {}}, "requestState": "theirs"}),
        T0,
    );
    let reqs = drain(&mut c);
    assert_eq!(header(&reqs[0], "Mcp-Name"), Some("sql"));
    assert_eq!(header(&reqs[0], "Mcp-Param-Region"), Some("eu"));
    let p = &body(&reqs[0])["params"];
    assert!(p.get("inputResponses").is_none() && p.get("requestState").is_none());
    c.handle_response(reqs[0].id, Ok(input_required(&reqs[0], Some("s=1"))), T0);
    let asked = events(&mut c)
        .into_iter()
        .any(|e| matches!(e, ConnectionEvent::InputRequired { call, .. } if call == h));
    assert!(asked, "the app is asked, as for call_tool");
    let answer: serde_json::Map<String, Value> =
        serde_json::from_value(json!({"confirm": {"action": "decline"}})).unwrap();
    c.provide_input(h, answer.clone()).unwrap();
    let again = drain(&mut c);
    let p = &body(&again[0])["params"];
    assert_eq!(p["inputResponses"], Value::Object(answer));
    assert_eq!(p["requestState"], "s=1");
    assert_eq!(p["arguments"], json!({"region": "eu"}));
    c.handle_response(
        again[0].id,
        Ok(modern_result(
            &again[0],
            json!({"content": [], "_meta": {"x": 1}}),
        )),
        T0,
    );
    match take(&mut c, h).unwrap() {
        CallOutput::Raw(v) => assert_eq!(v["content"], json!([])),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_proxy_whose_client_runs_the_input_rounds_gets_them_as_results() {
    // No capabilities declared by the connection itself: the proxy's client answers.
    let mut c = auto();
    let h = c.request_with_client_input(
        "tools/call",
        json!({"name": "ask", "arguments": {}, "_meta": {"progressToken": 1,
            "io.modelcontextprotocol/clientCapabilities": {"elicitation": {"form": {}}}}}),
        T0,
    );
    let reqs = drain(&mut c);
    let meta = &body(&reqs[0])["params"]["_meta"];
    assert_eq!(
        meta["io.modelcontextprotocol/clientCapabilities"],
        json!({"elicitation": {"form": {}}}),
        "declared for the client that answers"
    );
    assert_eq!(
        meta["io.modelcontextprotocol/clientInfo"]["name"],
        "workboard-connect"
    );
    c.handle_response(reqs[0].id, Ok(input_required(&reqs[0], Some("st"))), T0);
    assert!(
        !events(&mut c)
            .iter()
            .any(|e| matches!(e, ConnectionEvent::InputRequired { .. })),
        "not the connection's round"
    );
    match take(&mut c, h).unwrap() {
        CallOutput::Raw(v) => {
            assert_eq!(v["resultType"], "input_required");
            assert_eq!(v["requestState"], "st");
        }
        other => panic!("{other:?}"),
    }
    // The retry carries the client's answers and state as given.
    let h = c.request_with_client_input(
        "tools/call",
        json!({"name": "ask", "arguments": {}, "inputResponses": {"confirm": {"action": "accept"}},
               "requestState": "st"}),
        T0,
    );
    let again = drain(&mut c);
    let p = &body(&again[0])["params"];
    assert_eq!(p["inputResponses"]["confirm"]["action"], "accept");
    assert_eq!(p["requestState"], "st");
    c.handle_response(
        again[0].id,
        Ok(modern_result(&again[0], json!({"content": []}))),
        T0,
    );
    assert!(matches!(take(&mut c, h).unwrap(), CallOutput::Raw(_)));
}
