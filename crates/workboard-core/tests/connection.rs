//! One named test per rule of the connection machine (hand-driven, simulated time).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod mcp_common;

use mcp_common::*;
use serde_json::{json, Value};
use workboard_core::connection::{
    CallOutput, Connection, ConnectionConfig, ConnectionEvent, EraPolicy, MAX_REFRESH_ATTEMPTS,
    MAX_RESUMES, REFRESH_BACKOFF_MS,
};
use workboard_core::mcp::jsonrpc::ContentBlock;
use workboard_core::testing::SimClock;
use workboard_core::{drive, Clock, Credentials, HttpResponse, Method, SansIo, TransportError};

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    futures_executor::block_on(f)
}

#[test]
fn initialize_request_shape_and_latest_version() {
    let mut c = personal();
    c.list_tools(T0);
    let reqs = drain(&mut c);
    assert_eq!(reqs.len(), 1);
    let r = &reqs[0];
    assert_eq!(r.method, Method::Post);
    assert_eq!(r.url, MCP_URL);
    assert_eq!(
        r.header("Accept"),
        Some("application/json, text/event-stream")
    );
    assert_eq!(r.header("Content-Type"), Some("application/json"));
    assert_eq!(r.header("Authorization"), Some("Bearer tok-1"));
    assert!(r.header("Mcp-Session-Id").is_none() && r.header("MCP-Protocol-Version").is_none());
    let b = body(r);
    assert_eq!(b["params"]["protocolVersion"], "2025-11-25");
    assert_eq!(b["params"]["clientInfo"]["name"], "workboard-connect");
    assert!(b["params"]["capabilities"].is_object());
}

#[test]
fn older_server_versions_are_accepted_and_sent_back() {
    for v in ["2025-06-18", "2025-03-26"] {
        let mut c = personal();
        let h = c.ping(T0);
        let reqs = drain(&mut c);
        c.handle_response(reqs[0].id, Ok(result(&reqs[0], init_result(v))), T0);
        let next = drain(&mut c);
        assert!(next
            .iter()
            .all(|r| r.header("MCP-Protocol-Version") == Some(v)));
        let ping = next.iter().find(|r| method(r) == "ping").unwrap();
        c.handle_response(ping.id, Ok(result(ping, json!({}))), T0);
        assert_eq!(take(&mut c, h).unwrap(), CallOutput::Pong);
    }
}

#[test]
fn unsupported_version_fails_every_queued_call() {
    let mut c = personal();
    let a = c.list_tools(T0);
    let b = c.ping(T0);
    let reqs = drain(&mut c);
    c.handle_response(
        reqs[0].id,
        Ok(result(&reqs[0], init_result("2024-11-05"))),
        T0,
    );
    assert!(
        drain(&mut c).is_empty(),
        "no initialized notification after a refused version"
    );
    for h in [a, b] {
        assert_eq!(
            take(&mut c, h).unwrap_err().code(),
            "unsupported_protocol_version"
        );
    }
}

#[test]
fn initialize_is_lazy_and_sent_once_with_calls_queued() {
    let mut c = personal();
    assert!(drain(&mut c).is_empty(), "nothing before the first call");
    let a = c.list_tools(T0);
    let b = c.call_tool("search", json!({"q": "okr"}), T0);
    let p = c.ping(T0);
    let first = drain(&mut c);
    assert_eq!(first.len(), 1, "only initialize until it is answered");
    assert_eq!(method(&first[0]), "initialize");
    c.handle_response(first[0].id, Ok(init_response(&first[0], Some("s1"))), T0);
    let after = drain(&mut c);
    let methods: Vec<String> = after.iter().map(method).collect();
    assert_eq!(
        methods,
        [
            "notifications/initialized",
            "tools/list",
            "tools/call",
            "ping"
        ]
    );
    for h in [a, b, p] {
        assert!(c.is_pending(h));
    }
}

#[test]
fn session_id_is_captured_and_echoed_with_protocol_version() {
    let mut c = personal();
    c.list_tools(T0);
    let after = initialize(&mut c, Some("sess-42"));
    for r in &after {
        assert_eq!(r.header("Mcp-Session-Id"), Some("sess-42"));
        assert_eq!(r.header("MCP-Protocol-Version"), Some("2025-11-25"));
    }
    assert_eq!(c.session().session_id.as_deref(), Some("sess-42"));
}

#[test]
fn minimal_round_trips_three_requests_to_first_tool_list() {
    let server = basic_server();
    let clock = SimClock::at(T0);
    let mut c = personal();
    let h = c.list_tools(T0);
    block_on(drive(&mut c, &server, &clock));
    assert_eq!(
        tool_names(take(&mut c, h).unwrap()),
        ["get_current_user", "search"]
    );
    let seen = server.requests();
    let methods: Vec<String> = seen.iter().map(method).collect();
    assert_eq!(
        methods,
        ["initialize", "notifications/initialized", "tools/list"]
    );
    assert!(
        seen.iter().all(|r| r.method == Method::Post),
        "no GET stream opened"
    );
}

#[test]
fn initialized_and_first_call_are_in_flight_together() {
    let mut c = personal();
    c.list_tools(T0);
    let after = initialize(&mut c, None);
    // Both requests are emitted before any response to either: 2 sequential round trips.
    assert_eq!(after.len(), 2);
    assert_eq!(method(&after[0]), "notifications/initialized");
    assert_eq!(method(&after[1]), "tools/list");
}

#[test]
fn notification_202_is_accepted() {
    let mut c = personal();
    c.ping(T0);
    let after = initialize(&mut c, None);
    c.handle_response(after[0].id, Ok(status(202, &[])), T0);
    let ev = events(&mut c);
    assert!(
        !ev.iter()
            .any(|e| matches!(e, ConnectionEvent::Diagnostic(_))),
        "{ev:?}"
    );
}

#[test]
fn sse_response_preceded_by_server_requests_and_notifications() {
    let mut c = personal();
    let h = c.list_tools(T0);
    let after = initialize(&mut c, Some("s1"));
    let list = &after[1];
    let id = rpc_id(list);
    let body = format!(
        "id: e0\ndata:\n\n\
         id: e1\ndata: {{\"jsonrpc\":\"2.0\",\"id\":\"srv-1\",\"method\":\"ping\"}}\n\n\
         id: e2\ndata: {{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"sampling/createMessage\",\"params\":{{}}}}\n\n\
         : keep-alive comment\n\
         id: e3\ndata: {{\"jsonrpc\":\"2.0\",\"method\":\"notifications/tools/list_changed\"}}\n\n\
         id: e4\ndata: {{\"jsonrpc\":\"2.0\",\"id\":{id},\"result\":{{\"tools\":[{{\"name\":\"a\",\"inputSchema\":{{}}}}]}}}}\n\n"
    );
    c.handle_response(list.id, Ok(sse(&body)), T0);
    assert_eq!(tool_names(take(&mut c, h).unwrap()), ["a"]);
    let answers = drain(&mut c);
    assert_eq!(answers.len(), 2);
    assert_eq!(
        body_of(&answers[0]),
        json!({"jsonrpc":"2.0","id":"srv-1","result":{}})
    );
    let err = body_of(&answers[1]);
    assert_eq!(err["id"], 7);
    assert_eq!(err["error"]["code"], -32601);
    assert!(answers
        .iter()
        .all(|a| a.header("Mcp-Session-Id") == Some("s1")));
    let ev = events(&mut c);
    assert!(ev.contains(&ConnectionEvent::ToolsListChanged));
    assert!(ev.iter().any(|e| matches!(e, ConnectionEvent::ServerNotification { method, .. } if method == "notifications/tools/list_changed")));
}

fn body_of(r: &workboard_core::HttpRequest) -> Value {
    body(r)
}

#[test]
fn batch_response_is_tolerated() {
    let mut c = personal();
    let h = c.ping(T0);
    let after = initialize(&mut c, None);
    let ping = &after[1];
    let batch = json!([
        {"jsonrpc": "2.0", "method": "notifications/message", "params": {"level": "info"}},
        {"jsonrpc": "2.0", "id": rpc_id(ping), "result": {}}
    ]);
    c.handle_response(ping.id, Ok(json(200, batch)), T0);
    assert_eq!(take(&mut c, h).unwrap(), CallOutput::Pong);
}

#[test]
fn many_requests_in_flight_are_matched_by_id() {
    let mut c = personal();
    let a = c.call_tool("t", json!({"n": 1}), T0);
    let b = c.call_tool("t", json!({"n": 2}), T0);
    let after = initialize(&mut c, None);
    let (ra, rb) = (&after[1], &after[2]);
    assert_ne!(rpc_id(ra), rpc_id(rb));
    // Answers arrive out of order; a stray id is ignored with a diagnostic.
    let ans = |req, text: &str| {
        json(
            200,
            json!({"jsonrpc":"2.0","id":rpc_id(req),"result":{"content":[{"type":"text","text":text}]}}),
        )
    };
    c.handle_response(rb.id, Ok(ans(rb, "two")), T0);
    assert!(c.is_pending(a));
    let stray = json(
        200,
        json!([{"jsonrpc":"2.0","id":999,"result":{}},{"jsonrpc":"2.0","id":rpc_id(ra),"result":{"content":[{"type":"text","text":"one"}]}}]),
    );
    c.handle_response(ra.id, Ok(stray), T0);
    assert!(events(&mut c)
        .iter()
        .any(|e| matches!(e, ConnectionEvent::Diagnostic(d) if d.contains("999"))));
    let text = |o: CallOutput| match o {
        CallOutput::ToolResult(r) => r.text(),
        o => panic!("{o:?}"),
    };
    assert_eq!(text(take(&mut c, a).unwrap()), "one");
    assert_eq!(text(take(&mut c, b).unwrap()), "two");
}

#[test]
fn list_tools_follows_cursors_to_the_end() {
    let mut c = personal();
    let h = c.list_tools(T0);
    let after = initialize(&mut c, None);
    c.handle_response(
        after[1].id,
        Ok(result(&after[1], tools(&["a", "b"], Some("p2")))),
        T0,
    );
    let p2 = drain(&mut c);
    assert_eq!(body(&p2[0])["params"]["cursor"], "p2");
    c.handle_response(p2[0].id, Ok(result(&p2[0], tools(&["c"], Some("p3")))), T0);
    let p3 = drain(&mut c);
    assert_eq!(body(&p3[0])["params"]["cursor"], "p3");
    c.handle_response(p3[0].id, Ok(result(&p3[0], tools(&["d"], None))), T0);
    assert_eq!(tool_names(take(&mut c, h).unwrap()), ["a", "b", "c", "d"]);
}

#[test]
fn list_tools_cursor_loop_is_an_error_not_a_hang() {
    let mut c = personal();
    let h = c.list_tools(T0);
    let mut reqs = initialize(&mut c, None).split_off(1);
    let mut pages = 0;
    while let Some(r) = reqs.pop() {
        pages += 1;
        let cursor = if pages % 2 == 0 { "A" } else { "B" };
        c.handle_response(r.id, Ok(result(&r, tools(&["x"], Some(cursor)))), T0);
        reqs = drain(&mut c);
        assert!(pages < 10, "loop not detected");
    }
    assert_eq!(take(&mut c, h).unwrap_err().code(), "protocol_error");
}

#[test]
fn tool_error_is_a_successful_result_with_is_error() {
    let mut c = personal();
    let h = c.call_tool("update_key_result", json!({"id": 1}), T0);
    let after = initialize(&mut c, None);
    let call = &after[1];
    assert_eq!(
        body(call)["params"],
        json!({"name": "update_key_result", "arguments": {"id": 1}})
    );
    let res = json!({"content":[{"type":"text","text":"no such key result"},{"type":"resource","resource":{"uri":"wb://kr/1","text":"x"}}],"structuredContent":{"code":404},"isError":true});
    c.handle_response(call.id, Ok(result(call, res)), T0);
    match take(&mut c, h).unwrap() {
        CallOutput::ToolResult(r) => {
            assert!(r.is_error);
            assert_eq!(r.text(), "no such key result");
            assert_eq!(r.structured_content, Some(json!({"code": 404})));
            assert!(matches!(r.content[1], ContentBlock::Resource { .. }));
        }
        o => panic!("{o:?}"),
    }
}

#[test]
fn jsonrpc_error_fails_the_call_with_its_code() {
    let mut c = personal();
    let h = c.call_tool("nope", json!({}), T0);
    let after = initialize(&mut c, None);
    let err = json!({"jsonrpc":"2.0","id":rpc_id(&after[1]),"error":{"code":-32602,"message":"Unknown tool: nope"}});
    c.handle_response(after[1].id, Ok(json(200, err)), T0);
    let e = take(&mut c, h).unwrap_err();
    assert_eq!(e.code(), "jsonrpc_error");
    assert!(e.to_string().contains("-32602"));
}

#[test]
fn cancel_sends_notifications_cancelled_and_ignores_the_late_answer() {
    let mut c = personal();
    let h = c.call_tool("slow", json!({}), T0);
    let after = initialize(&mut c, Some("s1"));
    let call = after[1].clone();
    assert!(
        !c.is_request_abandoned(call.id),
        "the call still wants its answer"
    );
    c.cancel(h).unwrap();
    assert!(
        c.is_request_abandoned(call.id),
        "nobody wants the answer any more"
    );
    assert_eq!(take(&mut c, h).unwrap_err().code(), "cancelled");
    let sent = drain(&mut c);
    assert_eq!(sent.len(), 1);
    assert!(
        !c.is_request_abandoned(sent[0].id),
        "the notification is not abandoned"
    );
    assert_eq!(
        body(&sent[0]),
        json!({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":rpc_id(&call),"reason":"cancelled by the application"}})
    );
    c.handle_response(call.id, Ok(result(&call, json!({"content": []}))), T0);
    assert!(c.poll_result(h).is_none(), "late answer dropped");
    assert!(
        !c.is_request_abandoned(call.id),
        "answered: no longer in flight"
    );
    assert_eq!(c.cancel(h).unwrap_err().code(), "invalid_input");
}

#[test]
fn close_deletes_the_session_and_tolerates_405() {
    let mut c = personal();
    c.ping(T0);
    let after = initialize(&mut c, Some("s1"));
    c.handle_response(after[1].id, Ok(result(&after[1], json!({}))), T0);
    let h = c.close();
    let del = drain(&mut c);
    assert_eq!(del.len(), 1);
    assert_eq!(del[0].method, Method::Delete);
    assert_eq!(del[0].header("Mcp-Session-Id"), Some("s1"));
    c.handle_response(del[0].id, Ok(status(405, &[])), T0);
    assert_eq!(take(&mut c, h).unwrap(), CallOutput::Closed);
    assert!(c.is_closed());
    let later = c.ping(T0);
    assert_eq!(take(&mut c, later).unwrap_err().code(), "wrong_state");
    assert!(drain(&mut c).is_empty());
}

#[test]
fn close_without_session_sends_nothing() {
    let mut c = personal();
    let h = c.close();
    assert!(drain(&mut c).is_empty());
    assert_eq!(take(&mut c, h).unwrap(), CallOutput::Closed);
}

#[test]
fn server_stream_405_is_not_fatal() {
    let mut c = personal();
    let s = c.open_server_stream(T0);
    let after = initialize(&mut c, Some("s1"));
    let get = after.iter().find(|r| r.method == Method::Get).unwrap();
    assert_eq!(get.header("Accept"), Some("text/event-stream"));
    c.handle_response(get.id, Ok(status(405, &[])), T0);
    assert_eq!(
        take(&mut c, s).unwrap(),
        CallOutput::ServerStreamEnded { supported: false }
    );
    let p = c.ping(T0);
    let ping = drain(&mut c);
    c.handle_response(ping[0].id, Ok(result(&ping[0], json!({}))), T0);
    assert_eq!(take(&mut c, p).unwrap(), CallOutput::Pong);
}

#[test]
fn server_stream_500_or_transport_failure_ends_that_stream_only() {
    for failure in [Ok(status(500, &[])), Err(TransportError::Timeout)] {
        let failure: Result<HttpResponse, TransportError> = failure;
        let mut c = personal();
        let s = c.open_server_stream(T0);
        let after = initialize(&mut c, Some("s1"));
        let get = after.iter().find(|r| r.method == Method::Get).unwrap();
        c.handle_response(get.id, failure.clone(), T0);
        // The stream's failure is the stream's typed error; the session goes on.
        let outcome = take(&mut c, s).unwrap_err();
        match failure {
            Ok(_) => assert!(
                matches!(
                    outcome,
                    workboard_core::Error::HttpStatus { status: 500, .. }
                ),
                "{outcome:?}"
            ),
            Err(_) => assert!(
                matches!(
                    outcome,
                    workboard_core::Error::Transport(TransportError::Timeout)
                ),
                "{outcome:?}"
            ),
        }
        let p = c.ping(T0);
        let ping = drain(&mut c);
        assert_eq!(ping.len(), 1, "{failure:?}: the session is still usable");
        c.handle_response(ping[0].id, Ok(result(&ping[0], json!({}))), T0);
        assert_eq!(take(&mut c, p).unwrap(), CallOutput::Pong);
    }
}

#[test]
fn server_stream_delivers_notifications() {
    let mut c = personal();
    let s = c.open_server_stream(T0);
    let after = initialize(&mut c, None);
    let get = after.iter().find(|r| r.method == Method::Get).unwrap();
    c.handle_response(
        get.id,
        Ok(sse(
            "data: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/tools/list_changed\"}\n\n",
        )),
        T0,
    );
    assert_eq!(
        take(&mut c, s).unwrap(),
        CallOutput::ServerStreamEnded { supported: true }
    );
    assert!(events(&mut c).contains(&ConnectionEvent::ToolsListChanged));
}

#[test]
fn broken_sse_stream_is_resumed_with_last_event_id_after_retry() {
    let mut c = personal();
    let h = c.list_tools(T0);
    let after = initialize(&mut c, Some("s1"));
    let list = after[1].clone();
    c.handle_response(list.id, Ok(sse("id: 41\nretry: 2500\ndata:\n\nid: 42\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{}}\n\n")), T0);
    assert!(drain(&mut c).is_empty(), "waits for the retry delay");
    assert_eq!(c.poll_timeout(), Some(T0 + 2500));
    c.handle_timeout(T0 + 2500);
    let get = drain(&mut c);
    assert_eq!(get.len(), 1);
    assert_eq!(get[0].method, Method::Get);
    assert_eq!(get[0].header("Last-Event-ID"), Some("42"));
    assert_eq!(get[0].header("Mcp-Session-Id"), Some("s1"));
    let answer = format!(
        "id: 43\ndata: {{\"jsonrpc\":\"2.0\",\"id\":{},\"result\":{{\"tools\":[]}}}}\n\n",
        rpc_id(&list)
    );
    c.handle_response(get[0].id, Ok(sse(&answer)), T0 + 2600);
    assert_eq!(tool_names(take(&mut c, h).unwrap()), Vec::<String>::new());
}

#[test]
fn resumption_is_bounded() {
    let mut c = personal();
    let h = c.ping(T0);
    let after = initialize(&mut c, None);
    c.handle_response(after[1].id, Ok(sse("id: 1\ndata:\n\n")), T0);
    let mut now;
    let mut gets = 0;
    while let Some(t) = c.poll_timeout() {
        now = t;
        c.handle_timeout(now);
        for g in drain(&mut c) {
            gets += 1;
            c.handle_response(g.id, Ok(sse("id: 2\ndata:\n\n")), now);
        }
        assert!(gets <= MAX_RESUMES, "unbounded");
    }
    assert_eq!(gets, MAX_RESUMES);
    assert_eq!(take(&mut c, h).unwrap_err().code(), "protocol_error");
}

#[test]
fn refresh_on_401_is_single_flight_for_many_waiting_calls() {
    let mut c = with_refresh("old-at", "rt-1");
    let hs = [
        c.ping(T0),
        c.list_tools(T0),
        c.call_tool("x", json!({}), T0),
    ];
    let after = initialize(&mut c, Some("s1"));
    let calls: Vec<_> = after.into_iter().skip(1).collect();
    assert_eq!(calls.len(), 3);
    for r in &calls {
        c.handle_response(
            r.id,
            Ok(status(
                401,
                &[("WWW-Authenticate", "Bearer error=\"invalid_token\"")],
            )),
            T0,
        );
    }
    let refresh = drain(&mut c);
    assert_eq!(refresh.len(), 1, "one refresh for three calls: {refresh:?}");
    assert_eq!(refresh[0].url, "https://auth.example.com/token");
    let form = String::from_utf8(refresh[0].body.clone()).unwrap();
    assert!(form.contains("grant_type=refresh_token") && form.contains("refresh_token=rt-1"));
    c.handle_response(
        refresh[0].id,
        Ok(json(200, json!({"access_token":"new-at","token_type":"Bearer","expires_in":3600,"refresh_token":"rt-2"}))),
        T0 + 10,
    );
    // The event comes before anything else can use the rotated token.
    let ev = events(&mut c);
    let changed = ev
        .iter()
        .position(|e| matches!(e, ConnectionEvent::CredentialsChanged(_)))
        .expect("credentials event");
    match &ev[changed] {
        ConnectionEvent::CredentialsChanged(Credentials::OAuth(set)) => {
            assert_eq!(set.refresh_token.as_ref().unwrap().expose(), "rt-2");
        }
        e => panic!("{e:?}"),
    }
    let replays = drain(&mut c);
    assert_eq!(replays.len(), 3);
    assert!(replays
        .iter()
        .all(|r| r.header("Authorization") == Some("Bearer new-at")));
    for r in &replays {
        let res = if method(r) == "tools/list" {
            tools(&[], None)
        } else {
            json!({"content": []})
        };
        c.handle_response(r.id, Ok(result(r, res)), T0 + 20);
    }
    for h in hs {
        assert!(take(&mut c, h).is_ok());
    }
}

#[test]
fn a_401_answered_after_the_refresh_replays_without_a_second_refresh() {
    let mut c = with_refresh("old-at", "rt-1");
    let a = c.ping(T0);
    let b = c.ping(T0);
    let after = initialize(&mut c, None);
    c.handle_response(after[1].id, Ok(status(401, &[])), T0);
    let refresh = drain(&mut c);
    c.handle_response(
        refresh[0].id,
        Ok(json(
            200,
            json!({"access_token":"new-at","token_type":"bearer"}),
        )),
        T0,
    );
    let replay_a = drain(&mut c);
    // b was sent with the old token; its 401 arrives late.
    c.handle_response(after[2].id, Ok(status(401, &[])), T0);
    let replay_b = drain(&mut c);
    assert_eq!(replay_a.len(), 1);
    assert_eq!(replay_b.len(), 1, "replayed, not refreshed again");
    assert_eq!(replay_b[0].header("Authorization"), Some("Bearer new-at"));
    for (h, r) in [(a, &replay_a[0]), (b, &replay_b[0])] {
        c.handle_response(r.id, Ok(result(r, json!({}))), T0);
        assert_eq!(take(&mut c, h).unwrap(), CallOutput::Pong);
    }
}

#[test]
fn a_401_after_refresh_is_unauthorized_never_a_loop() {
    let mut c = with_refresh("old-at", "rt-1");
    let h = c.ping(T0);
    let after = initialize(&mut c, None);
    c.handle_response(after[1].id, Ok(status(401, &[])), T0);
    let refresh = drain(&mut c);
    c.handle_response(
        refresh[0].id,
        Ok(json(
            200,
            json!({"access_token":"new-at","token_type":"bearer"}),
        )),
        T0,
    );
    let replay = drain(&mut c);
    c.handle_response(
        replay[0].id,
        Ok(status(
            401,
            &[("WWW-Authenticate", "Bearer error=\"invalid_token\"")],
        )),
        T0,
    );
    assert!(drain(&mut c).is_empty(), "no second refresh, no replay");
    let e = take(&mut c, h).unwrap_err();
    assert_eq!(e.code(), "unauthorized");
    assert!(events(&mut c).iter().any(|e| matches!(e, ConnectionEvent::AuthorizationRequired { www_authenticate: Some(w) } if w.contains("invalid_token"))));
}

#[test]
fn a_401_without_refresh_ability_names_the_environment() {
    let mut c = Connection::new(
        ConnectionConfig::new("https://www.myworkboard.eu/wb/mcp")
            .credentials(Credentials::personal("p")),
    )
    .unwrap();
    let h = c.list_tools(T0);
    let reqs = drain(&mut c);
    let www = "Bearer resource_metadata=\"https://www.myworkboard.eu/.well-known/oauth-protected-resource\"";
    c.handle_response(
        reqs[0].id,
        Ok(status(401, &[("WWW-Authenticate", www)])),
        T0,
    );
    let e = take(&mut c, h).unwrap_err();
    assert_eq!(e.code(), "unauthorized");
    let hint = e.hint().unwrap();
    assert!(hint.contains("EU"), "{hint}");
    assert!(
        events(&mut c).contains(&ConnectionEvent::AuthorizationRequired {
            www_authenticate: Some(www.into())
        })
    );
    assert!(drain(&mut c).is_empty());
}

#[test]
fn failed_refresh_fails_refused_calls_once() {
    let mut c = with_refresh("old-at", "rt-1");
    let h = c.ping(T0);
    let after = initialize(&mut c, None);
    c.handle_response(after[1].id, Ok(status(401, &[])), T0);
    let refresh = drain(&mut c);
    c.handle_response(
        refresh[0].id,
        Ok(json(400, json!({"error":"invalid_grant"}))),
        T0,
    );
    assert_eq!(take(&mut c, h).unwrap_err().code(), "unauthorized");
    let ev = events(&mut c);
    assert_eq!(
        ev.iter()
            .filter(|e| matches!(e, ConnectionEvent::AuthorizationRequired { .. }))
            .count(),
        1
    );
    assert!(!ev
        .iter()
        .any(|e| matches!(e, ConnectionEvent::CredentialsChanged(_))));
    assert!(drain(&mut c).is_empty());
}

#[test]
fn proactive_refresh_before_an_expiring_token_is_used() {
    // An hour-long token with 30 s left.
    let mut creds = oauth_credentials("old-at", Some("rt-1"), Some(T0 + 30_000));
    if let Credentials::OAuth(set) = &mut creds {
        set.issued_at_ms = T0 - 3_570_000;
    }
    let mut c = Connection::new(
        ConnectionConfig::new(MCP_URL)
            .era(EraPolicy::Legacy)
            .credentials(creds)
            .auth(auth_context()),
    )
    .unwrap();
    let h = c.ping(T0);
    let first = drain(&mut c);
    assert_eq!(first.len(), 1);
    assert_eq!(
        first[0].url, "https://auth.example.com/token",
        "refresh goes first"
    );
    c.handle_response(
        first[0].id,
        Ok(json(
            200,
            json!({"access_token":"new-at","token_type":"bearer","expires_in":3600}),
        )),
        T0,
    );
    assert!(matches!(
        c.poll_event(),
        Some(ConnectionEvent::CredentialsChanged(_))
    ));
    let init = drain(&mut c);
    assert_eq!(init[0].header("Authorization"), Some("Bearer new-at"));
    c.handle_response(init[0].id, Ok(init_response(&init[0], None)), T0);
    let rest = drain(&mut c);
    c.handle_response(rest[1].id, Ok(result(&rest[1], json!({}))), T0);
    assert_eq!(take(&mut c, h).unwrap(), CallOutput::Pong);
}

#[test]
fn a_404_with_a_session_reinitializes_once_and_replays() {
    let mut c = personal();
    let h = c.list_tools(T0);
    let after = initialize(&mut c, Some("old"));
    c.handle_response(after[1].id, Ok(status(404, &[])), T0);
    let init = drain(&mut c);
    assert_eq!(init.len(), 1);
    assert_eq!(method(&init[0]), "initialize");
    assert!(init[0].header("Mcp-Session-Id").is_none());
    c.handle_response(init[0].id, Ok(init_response(&init[0], Some("new"))), T0);
    let replay = drain(&mut c);
    assert_eq!(
        replay.iter().map(method).collect::<Vec<_>>(),
        ["notifications/initialized", "tools/list"]
    );
    assert_eq!(replay[1].header("Mcp-Session-Id"), Some("new"));
    c.handle_response(replay[1].id, Ok(status(404, &[])), T0);
    assert_eq!(take(&mut c, h).unwrap_err().code(), "session_expired");
}

#[test]
fn a_404_without_a_session_is_an_http_error() {
    let mut c = personal();
    let h = c.ping(T0);
    let reqs = drain(&mut c);
    c.handle_response(reqs[0].id, Ok(status(404, &[])), T0);
    assert_eq!(take(&mut c, h).unwrap_err().code(), "http_status");
}

#[test]
fn a_403_insufficient_scope_asks_for_step_up() {
    let mut c = personal();
    let h = c.call_tool("create_kpi", json!({}), T0);
    let after = initialize(&mut c, None);
    let www = "Bearer error=\"insufficient_scope\", scope=\"kpi:write\"";
    c.handle_response(
        after[1].id,
        Ok(status(403, &[("WWW-Authenticate", www)])),
        T0,
    );
    let e = take(&mut c, h).unwrap_err();
    assert_eq!(e.code(), "insufficient_scope");
    assert!(events(&mut c).contains(&ConnectionEvent::StepUpRequired {
        scope: Some("kpi:write".into()),
        www_authenticate: Some(www.into())
    }));
    let h2 = c.ping(T0);
    let r = drain(&mut c);
    c.handle_response(r[0].id, Ok(status(403, &[])), T0);
    assert_eq!(take(&mut c, h2).unwrap_err().code(), "forbidden");
}

#[test]
fn a_429_with_retry_after_is_retried_at_most_twice_on_the_timer() {
    let mut c = personal();
    let h = c.ping(T0);
    let after = initialize(&mut c, None);
    let mut req = after[1].clone();
    let mut now = T0;
    for attempt in 0..3 {
        c.handle_response(req.id, Ok(status(429, &[("Retry-After", "3")])), now);
        if attempt == 2 {
            break;
        }
        assert!(drain(&mut c).is_empty(), "waits");
        assert_eq!(c.poll_timeout(), Some(now + 3000));
        now += 3000;
        c.handle_timeout(now);
        let again = drain(&mut c);
        assert_eq!(again.len(), 1);
        req = again[0].clone();
    }
    assert_eq!(c.poll_timeout(), None);
    let e = take(&mut c, h).unwrap_err();
    assert_eq!(e.code(), "rate_limited");
}

#[test]
fn a_503_with_retry_after_then_success() {
    let mut c = personal();
    let h = c.ping(T0);
    let reqs = drain(&mut c);
    c.handle_response(reqs[0].id, Ok(status(503, &[("Retry-After", "1")])), T0);
    c.handle_timeout(T0 + 1000);
    let again = initialize(&mut c, None);
    c.handle_response(again[1].id, Ok(result(&again[1], json!({}))), T0 + 1000);
    assert_eq!(take(&mut c, h).unwrap(), CallOutput::Pong);
}

#[test]
fn transport_failure_is_a_typed_error_after_one_replay_of_a_request_without_effects() {
    let mut c = personal();
    let h = c.ping(T0);
    let reqs = drain(&mut c);
    c.handle_response(
        reqs[0].id,
        Err(TransportError::Connect("refused".into())),
        T0,
    );
    // `initialize` has no effects: sent once more, at once (a new request: new ids).
    assert!(c.poll_result(h).is_none());
    let again = drain(&mut c);
    assert_eq!(again.len(), 1, "{again:?}");
    assert_eq!(method(&again[0]), "initialize");
    assert_eq!(body(&again[0])["params"], body(&reqs[0])["params"]);
    assert_ne!(again[0].id, reqs[0].id);
    c.handle_response(
        again[0].id,
        Err(TransportError::Connect("refused".into())),
        T0,
    );
    assert_eq!(take(&mut c, h).unwrap_err().code(), "transport");
    assert!(drain(&mut c).is_empty(), "one replay only");
}

#[test]
fn a_list_whose_connection_closed_before_the_answer_is_replayed_once_and_succeeds() {
    let mut c = personal();
    let h = c.list_tools(T0);
    let after = initialize(&mut c, Some("s-1"));
    let list = after[1].clone();
    assert_eq!(method(&list), "tools/list");
    c.handle_response(
        list.id,
        Err(TransportError::Interrupted("connection closed".into())),
        T0,
    );
    let again = drain(&mut c);
    assert_eq!(again.len(), 1, "{again:?}");
    assert_eq!(method(&again[0]), "tools/list");
    assert_eq!(again[0].header("mcp-session-id"), Some("s-1"));
    c.handle_response(
        again[0].id,
        Ok(result(&again[0], tools(&["a", "b"], None))),
        T0,
    );
    assert_eq!(tool_names(take(&mut c, h).unwrap()), ["a", "b"]);
    let diag: Vec<String> = events(&mut c)
        .into_iter()
        .filter_map(|e| match e {
            ConnectionEvent::Diagnostic(message) => Some(message),
            _ => None,
        })
        .collect();
    assert!(
        diag.iter().any(|m| m.contains("replaying tools/list once")),
        "{diag:?}"
    );
}

#[test]
fn a_tool_call_is_never_replayed_after_a_broken_connection_or_a_503() {
    let mut c = personal();
    let h = c.call_tool("create_goal", json!({"name": "x"}), T0);
    let after = initialize(&mut c, None);
    assert_eq!(method(&after[1]), "tools/call");
    c.handle_response(
        after[1].id,
        Err(TransportError::Interrupted("connection closed".into())),
        T0,
    );
    assert_eq!(take(&mut c, h).unwrap_err().code(), "transport");
    assert!(drain(&mut c).is_empty());

    let h = c.call_tool("create_goal", json!({"name": "y"}), T0);
    let reqs = drain(&mut c);
    c.handle_response(reqs[0].id, Ok(status(503, &[])), T0);
    assert_eq!(c.poll_timeout(), None, "no replay scheduled");
    assert_eq!(take(&mut c, h).unwrap_err().code(), "http_status");
}

#[test]
fn a_503_without_retry_after_replays_a_request_without_effects_once_after_the_delay() {
    use workboard_core::connection::SAFE_REPLAY_DELAY_MS;
    let mut c = personal();
    let h = c.ping(T0);
    let after = initialize(&mut c, None);
    c.handle_response(after[1].id, Ok(status(503, &[])), T0);
    assert!(drain(&mut c).is_empty(), "waits");
    assert_eq!(c.poll_timeout(), Some(T0 + SAFE_REPLAY_DELAY_MS));
    c.handle_timeout(T0 + SAFE_REPLAY_DELAY_MS);
    let again = drain(&mut c);
    assert_eq!(method(&again[0]), "ping");
    // A second 503: reported, not looped.
    c.handle_response(again[0].id, Ok(status(503, &[])), T0 + SAFE_REPLAY_DELAY_MS);
    assert_eq!(c.poll_timeout(), None);
    let e = take(&mut c, h).unwrap_err();
    assert_eq!(e.code(), "http_status");
    assert!(e.to_string().contains("503"), "{e}");
}

#[test]
fn a_timeout_is_not_replayed() {
    let mut c = personal();
    let h = c.list_tools(T0);
    let after = initialize(&mut c, None);
    c.handle_response(after[1].id, Err(TransportError::Timeout), T0);
    assert_eq!(take(&mut c, h).unwrap_err().code(), "transport");
    assert!(drain(&mut c).is_empty());
}

#[test]
fn saved_state_skips_initialize_and_holds_no_token() {
    let mut c = personal();
    let h = c.ping(T0);
    let after = initialize(&mut c, Some("s-keep"));
    c.handle_response(after[1].id, Ok(result(&after[1], json!({}))), T0);
    take(&mut c, h).unwrap();
    let state = c.save_state();
    assert!(!state.contains("tok-1"), "{state}");
    let v: Value = serde_json::from_str(&state).unwrap();
    assert_eq!(v["session_id"], "s-keep");
    assert_eq!(v["protocol_version"], "2025-11-25");
    assert_eq!(v["server_info"]["name"], "srv");

    let mut r = Connection::new(
        ConnectionConfig::new(MCP_URL)
            .era(EraPolicy::Legacy)
            .credentials(Credentials::personal("tok-1"))
            .restored_state(state),
    )
    .unwrap();
    r.list_tools(T0);
    let reqs = drain(&mut r);
    assert_eq!(reqs.len(), 1);
    assert_eq!(method(&reqs[0]), "tools/list");
    assert_eq!(reqs[0].header("Mcp-Session-Id"), Some("s-keep"));
}

#[test]
fn restored_session_gone_reinitializes() {
    let state =
        json!({"server_url": MCP_URL, "session_id": "gone", "protocol_version": "2025-06-18"})
            .to_string();
    let mut c = Connection::new(
        ConnectionConfig::new(MCP_URL)
            .era(EraPolicy::Legacy)
            .credentials(Credentials::personal("t"))
            .restored_state(state),
    )
    .unwrap();
    let h = c.ping(T0);
    let r = drain(&mut c);
    assert_eq!(r[0].header("MCP-Protocol-Version"), Some("2025-06-18"));
    c.handle_response(r[0].id, Ok(status(404, &[])), T0);
    let after = initialize(&mut c, Some("fresh"));
    c.handle_response(after[1].id, Ok(result(&after[1], json!({}))), T0);
    assert_eq!(take(&mut c, h).unwrap(), CallOutput::Pong);
}

#[test]
fn bad_config_is_a_typed_error() {
    assert_eq!(
        Connection::new(ConnectionConfig::new("http://mcp.example.com/mcp"))
            .unwrap_err()
            .code(),
        "insecure_url"
    );
    assert_eq!(
        Connection::new(ConnectionConfig::new("not a url"))
            .unwrap_err()
            .code(),
        "invalid_url"
    );
    assert!(Connection::new(ConnectionConfig::new("http://127.0.0.1:8080/wb/mcp")).is_ok());
    assert_eq!(
        Connection::new(
            ConnectionConfig::new(MCP_URL)
                .era(EraPolicy::Legacy)
                .restored_state("{")
        )
        .unwrap_err()
        .code(),
        "invalid_input"
    );
    let mut c = personal();
    let h = c.call_tool("", json!({}), T0);
    assert_eq!(take(&mut c, h).unwrap_err().code(), "invalid_input");
    let h = c.call_tool("x", json!([1]), T0);
    assert_eq!(take(&mut c, h).unwrap_err().code(), "invalid_input");
}

#[test]
fn debug_output_holds_no_secret() {
    let mut c = with_refresh("SECRET-AT", "SECRET-RT");
    c.ping(T0);
    let dbg = format!("{c:?}");
    assert!(!dbg.contains("SECRET"), "{dbg}");
}

#[test]
fn garbage_responses_fail_calls_without_panicking() {
    for (ct, b) in [
        ("application/json", "{not json"),
        ("text/html", "<html>"),
        ("application/json", "[]"),
        ("application/json", "{\"jsonrpc\":\"1.0\"}"),
    ] {
        let mut c = personal();
        let h = c.ping(T0);
        let reqs = drain(&mut c);
        c.handle_response(
            reqs[0].id,
            Ok(HttpResponse::new(
                200,
                vec![("Content-Type".into(), ct.into())],
                b.as_bytes().to_vec(),
            )),
            T0,
        );
        assert!(take(&mut c, h).is_err(), "{b}");
    }
}

#[test]
fn rotated_refresh_token_is_used_for_the_next_refresh() {
    let mut c = with_refresh("at-1", "rt-1");
    let h = c.ping(T0);
    let after = initialize(&mut c, None);
    c.handle_response(after[1].id, Ok(status(401, &[])), T0);
    let r1 = drain(&mut c);
    c.handle_response(
        r1[0].id,
        Ok(json(
            200,
            json!({"access_token":"at-2","token_type":"bearer","refresh_token":"rt-2"}),
        )),
        T0,
    );
    let replay = drain(&mut c);
    c.handle_response(replay[0].id, Ok(result(&replay[0], json!({}))), T0);
    take(&mut c, h).unwrap();
    assert!(events(&mut c)
        .iter()
        .any(|e| matches!(e, ConnectionEvent::CredentialsChanged(_))));
    let h2 = c.ping(T0);
    let sent = drain(&mut c);
    c.handle_response(sent[0].id, Ok(status(401, &[])), T0);
    let r2 = drain(&mut c);
    let form = String::from_utf8(r2[0].body.clone()).unwrap();
    assert!(form.contains("refresh_token=rt-2"), "{form}");
    assert!(c.is_pending(h2));
}

#[test]
fn unreachable_token_endpoint_is_retried_with_back_off_then_a_typed_error_not_a_sign_in() {
    let mut c = with_refresh("at-1", "rt-1");
    let h = c.ping(T0);
    let after = initialize(&mut c, None);
    c.handle_response(after[1].id, Ok(status(401, &[])), T0);
    let mut now = T0;
    let mut refreshes = Vec::new();
    for attempt in 1..=MAX_REFRESH_ATTEMPTS {
        let r = drain(&mut c);
        assert_eq!(r.len(), 1, "attempt {attempt}: {r:?}");
        assert_eq!(r[0].url, "https://auth.example.com/token");
        refreshes.push(now);
        c.handle_response(r[0].id, Err(TransportError::Timeout), now);
        if attempt < MAX_REFRESH_ATTEMPTS {
            assert!(
                drain(&mut c).is_empty(),
                "no new attempt before the back-off"
            );
            let t = c.poll_timeout().expect("a back-off timer");
            assert!(t > now, "the next attempt waits");
            now = t;
            c.handle_timeout(now);
        }
    }
    assert_eq!(
        refreshes,
        [T0, T0 + REFRESH_BACKOFF_MS, T0 + 3 * REFRESH_BACKOFF_MS]
    );
    let e = take(&mut c, h).unwrap_err();
    assert_eq!(e.code(), "token_endpoint_unreachable");
    assert!(e.hint().unwrap().contains("network"));
    assert!(drain(&mut c).is_empty());
    assert!(!events(&mut c)
        .iter()
        .any(|e| matches!(e, ConnectionEvent::AuthorizationRequired { .. })));
    // The next 401 may try again (a bounded number of refreshes per call, so no loop).
    let h2 = c.ping(now);
    let sent = drain(&mut c);
    c.handle_response(sent[0].id, Ok(status(401, &[])), now);
    assert_eq!(drain(&mut c)[0].url, "https://auth.example.com/token");
    assert!(c.is_pending(h2));
}

#[test]
fn an_empty_tool_list_carries_the_role_hint() {
    let mut c = personal();
    let h = c.list_tools(T0);
    let after = initialize(&mut c, None);
    c.handle_response(after[1].id, Ok(result(&after[1], tools(&[], None))), T0);
    assert!(tool_names(take(&mut c, h).unwrap()).is_empty());
    assert!(events(&mut c)
        .iter()
        .any(|e| matches!(e, ConnectionEvent::Diagnostic(d) if d.contains("WorkBoard admin"))));
}

#[test]
fn back_off_runs_on_the_drive_clock() {
    let mut limited = 1;
    let server = fake_server(move |r| match method(r).as_str() {
        "initialize" => init_response(r, Some("s1")),
        "tools/list" if limited > 0 => {
            limited -= 1;
            status(429, &[("Retry-After", "2")])
        }
        "tools/list" => result(r, tools(&["a"], None)),
        _ => status(202, &[]),
    });
    let clock = SimClock::at(T0);
    let mut c = personal();
    let h = c.list_tools(T0);
    block_on(drive(&mut c, &server, &clock));
    assert_eq!(tool_names(take(&mut c, h).unwrap()), ["a"]);
    assert_eq!(
        clock.now_ms(),
        T0 + 2000,
        "waited Retry-After on the injected clock"
    );
    assert_eq!(server.requests().len(), 4);
}

#[test]
fn a_stream_cut_inside_an_event_resumes_after_the_last_complete_one() {
    let mut c = personal();
    let h = c.call_tool("slow", json!({}), T0);
    let after = initialize(&mut c, Some("s1"));
    let call = after[1].clone();
    // What a transport hands back when the connection breaks mid-event.
    c.handle_response(
        call.id,
        Ok(sse(
            "id: 3-0\ndata:\n\nid: 3-1\ndata: {\"jsonrpc\":\"2.0\",\"id\":",
        )),
        T0,
    );
    assert_eq!(
        c.poll_timeout(),
        Some(T0 + 1000),
        "default delay without a retry field"
    );
    c.handle_timeout(T0 + 1000);
    let get = drain(&mut c);
    assert_eq!(get[0].header("Last-Event-ID"), Some("3-0"));
    let answer = format!(
        "id: 3-1\ndata: {{\"jsonrpc\":\"2.0\",\"id\":{},\"result\":{{\"content\":[]}}}}\n\n",
        rpc_id(&call)
    );
    c.handle_response(get[0].id, Ok(sse(&answer)), T0 + 1000);
    assert!(matches!(
        take(&mut c, h).unwrap(),
        CallOutput::ToolResult(_)
    ));
}

#[test]
fn credentials_set_during_a_refresh_win_over_its_result() {
    let mut c = with_refresh("at-1", "rt-1");
    let h = c.ping(T0);
    let after = initialize(&mut c, None);
    c.handle_response(after[1].id, Ok(status(401, &[])), T0);
    let refresh = drain(&mut c);
    c.set_credentials(Some(Credentials::personal("signed-in-again")), None)
        .unwrap();
    let replay = drain(&mut c);
    assert_eq!(replay.len(), 1);
    assert_eq!(
        replay[0].header("Authorization"),
        Some("Bearer signed-in-again")
    );
    c.handle_response(
        refresh[0].id,
        Ok(json(
            200,
            json!({"access_token":"stale","token_type":"bearer","refresh_token":"rt-2"}),
        )),
        T0,
    );
    assert!(!events(&mut c)
        .iter()
        .any(|e| matches!(e, ConnectionEvent::CredentialsChanged(_))));
    assert_eq!(
        c.credentials().unwrap().access_token().expose(),
        "signed-in-again"
    );
    c.handle_response(replay[0].id, Ok(result(&replay[0], json!({}))), T0);
    assert_eq!(take(&mut c, h).unwrap(), CallOutput::Pong);
}

#[test]
fn refresh_asked_by_the_app_joins_the_single_flight_of_401s() {
    let mut c = with_refresh("old-at", "rt-1");
    let call = c.ping(T0);
    let after = initialize(&mut c, Some("s1"));
    let ping = after.into_iter().nth(1).unwrap();
    c.handle_response(
        ping.id,
        Ok(status(
            401,
            &[("WWW-Authenticate", "Bearer error=\"invalid_token\"")],
        )),
        T0,
    );
    // The 401's refresh is in flight; the app asks for one too, twice.
    let refresh = drain(&mut c);
    assert_eq!(refresh.len(), 1);
    let asked = [c.refresh(T0), c.refresh(T0)];
    assert!(
        drain(&mut c).is_empty(),
        "no second refresh while one is in flight"
    );
    c.handle_response(
        refresh[0].id,
        Ok(json(200, json!({"access_token":"new-at","token_type":"Bearer","expires_in":3600,"refresh_token":"rt-2"}))),
        T0 + 10,
    );
    for h in asked {
        assert_eq!(take(&mut c, h).unwrap(), CallOutput::Refreshed);
    }
    let replay = drain(&mut c);
    assert_eq!(replay.len(), 1, "only the ping is replayed: {replay:?}");
    assert_eq!(replay[0].header("Authorization"), Some("Bearer new-at"));
    c.handle_response(replay[0].id, Ok(result(&replay[0], json!({}))), T0 + 20);
    assert!(take(&mut c, call).is_ok());
    // Asked alone (nothing else waiting): exactly one refresh request, with the rotated token,
    // and no initialize or other MCP request on its behalf.
    let h = c.refresh(T0 + 30);
    let reqs = drain(&mut c);
    assert_eq!(reqs.len(), 1);
    let form = String::from_utf8(reqs[0].body.clone()).unwrap();
    assert!(form.contains("refresh_token=rt-2"), "{form}");
    c.handle_response(
        reqs[0].id,
        Ok(json(400, json!({"error":"invalid_grant"}))),
        T0 + 40,
    );
    assert_eq!(take(&mut c, h).unwrap_err().code(), "token_endpoint_error");
    assert!(drain(&mut c).is_empty());
    // A refused refresh token is not tried again.
    let h = c.refresh(T0 + 50);
    assert_eq!(take(&mut c, h).unwrap_err().code(), "wrong_state");
}

#[test]
fn refresh_of_unrefreshable_credentials_is_wrong_state_without_a_request() {
    let mut c = personal();
    let h = c.refresh(T0);
    assert_eq!(take(&mut c, h).unwrap_err().code(), "wrong_state");
    assert!(drain(&mut c).is_empty());
}

#[test]
fn refresh_asked_while_the_token_endpoint_is_down_backs_off_then_fails() {
    let mut c = with_refresh("old-at", "rt-1");
    let h = c.refresh(T0);
    let mut now = T0;
    for attempt in 1..=MAX_REFRESH_ATTEMPTS {
        let reqs = drain(&mut c);
        assert_eq!(reqs.len(), 1, "attempt {attempt}");
        c.handle_response(reqs[0].id, Ok(status(503, &[])), now);
        if attempt < MAX_REFRESH_ATTEMPTS {
            assert!(c.is_pending(h));
            let at = c.poll_timeout().unwrap();
            assert!(at > now);
            now = at;
            c.handle_timeout(now);
        }
    }
    assert_eq!(
        take(&mut c, h).unwrap_err().code(),
        "token_endpoint_unreachable"
    );
}

/// A modern-only server answers a legacy `initialize` with MCP's
/// `UnsupportedProtocolVersionError` (-32022), as HTTP 400 or inside a 200.
#[test]
fn unsupported_protocol_version_error_names_the_servers_versions() {
    for status in [400u16, 200] {
        let mut c = personal();
        let h = c.list_tools(T0);
        let reqs = drain(&mut c);
        assert_eq!(method(&reqs[0]), "initialize");
        let id = rpc_id(&reqs[0]);
        let body = json!({"jsonrpc": "2.0", "id": id, "error": {"code": -32022,
            "message": "Unsupported protocol version",
            "data": {"supported": ["2026-07-28"], "requested": "2025-11-25"}}});
        c.handle_response(reqs[0].id, Ok(json(status, body)), T0);
        let e = take(&mut c, h).unwrap_err();
        assert_eq!(e.code(), "unsupported_protocol_version", "HTTP {status}");
        let info = e.info();
        assert!(info.message.contains("2026-07-28"), "{}", info.message);
        let hint = info.hint.unwrap_or_default();
        assert!(hint.contains("2025-11-25"), "{hint}");
    }
}

#[test]
fn a_plain_text_error_body_is_kept_as_the_detail_but_not_an_html_page() {
    let mut c = personal();
    let h = c.list_tools(T0);
    let reqs = drain(&mut c);
    let text = "Unsupported protocol version (supported versions: 2026-07-28)\n\u{7}more";
    c.handle_response(
        reqs[0].id,
        Ok(HttpResponse::new(
            400,
            vec![("Content-Type".into(), "text/plain".into())],
            text.as_bytes().to_vec(),
        )),
        T0,
    );
    let e = take(&mut c, h).unwrap_err();
    assert_eq!(e.code(), "http_status");
    let msg = e.to_string();
    assert!(msg.contains("supported versions: 2026-07-28"), "{msg}");
    assert!(!msg.contains("more"), "first line only: {msg}");
    let mut c = personal();
    let h = c.list_tools(T0);
    let reqs = drain(&mut c);
    c.handle_response(
        reqs[0].id,
        Ok(HttpResponse::new(
            502,
            vec![("Content-Type".into(), "text/html".into())],
            b"<html><body>Bad gateway</body></html>".to_vec(),
        )),
        T0,
    );
    let msg = take(&mut c, h).unwrap_err().to_string();
    assert!(!msg.contains("<html>"), "{msg}");
}

/// JSON-RPC ids must not repeat within a session: a restored session (used by an earlier
/// process) continues from a clock-based base, and a later process starts above it.
#[test]
fn a_restored_session_never_reuses_an_earlier_process_s_request_ids() {
    let state =
        json!({"server_url": MCP_URL, "session_id": "shared", "protocol_version": "2025-11-25"})
            .to_string();
    let ids_at = |now: u64, calls: usize| -> Vec<i64> {
        let mut c = Connection::new(
            ConnectionConfig::new(MCP_URL)
                .era(EraPolicy::Legacy)
                .credentials(Credentials::personal("t"))
                .restored_state(state.clone()),
        )
        .unwrap();
        for _ in 0..calls {
            c.ping(now);
        }
        drain(&mut c)
            .iter()
            .map(|r| rpc_id(r).as_i64().unwrap())
            .collect()
    };
    let first = ids_at(T0, 3);
    let second = ids_at(T0 + 1, 3);
    assert!(first.windows(2).all(|w| w[0] < w[1]), "{first:?}");
    assert!(
        first.iter().all(|i| *i > 1),
        "not restarting at 1: {first:?}"
    );
    assert!(
        second[0] > *first.last().unwrap(),
        "{first:?} then {second:?}"
    );
    assert!(
        second.iter().all(|i| *i < (1_i64 << 53)),
        "safe in JavaScript: {second:?}"
    );
    // A new session still numbers from 1 (transcripts keep their bodies).
    let mut fresh = personal();
    fresh.ping(T0);
    assert_eq!(rpc_id(&drain(&mut fresh)[0]), json!(1));
}
