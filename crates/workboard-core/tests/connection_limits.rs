//! The connection's bounds against hostile servers (simulated clock, scripted transport):
//! refresh attempts, SSE `retry`, extreme clocks and numbers, tool-list size, whole-call
//! deadlines, oversized bodies. Each test counts requests, so an unbounded loop fails it
//! (the scripted servers give in after a cap instead of spinning the test forever).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod mcp_common;

use std::sync::{Arc, Mutex};

use mcp_common::*;
use serde_json::{json, Value};
use workboard_core::connection::{
    CallOutput, Connection, ConnectionConfig, EraPolicy, DEFAULT_CALL_TIMEOUT_MS,
    DEFAULT_MAX_TOOLS, MAX_REFRESH_ATTEMPTS, MAX_RESUMES, MAX_RESUME_DELAY_MS, MAX_RETRY_AFTER_MS,
    MAX_TOOL_PAGES,
};
use workboard_core::testing::{SimClock, TOKEN_URL};
use workboard_core::{
    drive, Clock, Credentials, Dialect, HttpRequest, HttpResponse, Method, SansIo, TokenSet,
    TransportError,
};

/// A scripted MCP server + token endpoint on the simulated clock (a handler may let time
/// pass). The transport records every request.
fn hostile(
    clock: &SimClock,
    mut token: impl FnMut(&HttpRequest, &SimClock) -> Result<HttpResponse, TransportError>
        + Send
        + 'static,
    mut mcp: impl FnMut(&HttpRequest, &SimClock) -> Result<HttpResponse, TransportError>
        + Send
        + 'static,
) -> ScriptedTransport {
    let clock = clock.clone();
    ScriptedTransport::new(move |r| {
        if r.url == TOKEN_URL {
            token(r, &clock)
        } else {
            mcp(r, &clock)
        }
    })
}

/// Requests the token endpoint received.
fn token_requests(server: &ScriptedTransport) -> u32 {
    let n = server
        .requests()
        .iter()
        .filter(|r| r.url == TOKEN_URL)
        .count();
    u32::try_from(n).unwrap()
}

/// Requests the MCP server received.
fn mcp_requests(server: &ScriptedTransport) -> Vec<HttpRequest> {
    let mut requests = server.requests();
    requests.retain(|r| r.url != TOKEN_URL);
    requests
}

/// The JSON-RPC methods the MCP server received (`GET` for a stream).
fn mcp_methods(server: &ScriptedTransport) -> Vec<String> {
    mcp_requests(server)
        .iter()
        .map(|r| {
            if r.method == Method::Get {
                "GET".to_string()
            } else {
                method(r)
            }
        })
        .collect()
}

/// A well-behaved MCP server (one tool).
fn basic_mcp(r: &HttpRequest, _: &SimClock) -> Result<HttpResponse, TransportError> {
    Ok(match method(r).as_str() {
        "initialize" => init_response(r, Some("s1")),
        "tools/list" => result(r, tools(&["a"], None)),
        "tools/call" => result(r, json!({"content": []})),
        "ping" => result(r, json!({})),
        _ => status(202, &[]),
    })
}

/// OAuth credentials issued an hour before `now`, expiring at `expires_at_ms`.
fn oauth_at(expires_at_ms: u64) -> Credentials {
    Credentials::OAuth(TokenSet {
        access_token: "at-0".into(),
        refresh_token: Some("rt-0".into()),
        token_type: "Bearer".into(),
        scope: None,
        issued_at_ms: expires_at_ms.saturating_sub(3_600_000),
        expires_at_ms: Some(expires_at_ms),
        dialect: Dialect::OAuth2,
        bound_to: None,
    })
}

fn connection(config: ConnectionConfig) -> Connection {
    Connection::new(config).unwrap()
}

fn oauth_config(creds: Credentials) -> ConnectionConfig {
    ConnectionConfig::new(MCP_URL)
        .era(EraPolicy::Legacy)
        .credentials(creds)
        .auth(auth_context())
}

// ------------------------------------------------------------------ item 7: refresh bounds

/// The token endpoint gives up being unreachable after this many requests, so a client that
/// loops still ends (and the test fails on the count instead of hanging).
const ENDPOINT_PATIENCE: u32 = 200;

#[test]
fn an_expired_token_and_an_unreachable_token_endpoint_fail_the_call_after_bounded_attempts() {
    let clock = SimClock::at(T0);
    let server = hostile(
        &clock,
        unreachable_for_a_while(|| TransportError::Connect("connection refused".into())),
        basic_mcp,
    );
    let mut c = connection(oauth_config(oauth_at(T0 - 1)));
    let h = c.list_tools(T0);
    futures_executor::block_on(drive(&mut c, &server, &clock));
    assert_eq!(
        token_requests(&server),
        MAX_REFRESH_ATTEMPTS,
        "refresh attempts for one call"
    );
    let e = take(&mut c, h).unwrap_err();
    assert_eq!(e.code(), "token_endpoint_unreachable", "{e}");
    assert!(e.hint().unwrap().contains("network"));
    assert!(
        mcp_requests(&server).is_empty(),
        "an expired token is not sent"
    );
    // The attempts were spread by the back-off: 1 s then 2 s on the simulated clock.
    assert_eq!(clock.now_ms(), T0 + 3_000);
    assert!(!events(&mut c).iter().any(|e| matches!(
        e,
        workboard_core::connection::ConnectionEvent::AuthorizationRequired { .. }
    )));
}

#[test]
fn every_waiting_call_is_failed_once_and_later_calls_try_again() {
    let clock = SimClock::at(T0);
    let server = hostile(
        &clock,
        unreachable_for_a_while(|| TransportError::Interrupted("closed".into())),
        basic_mcp,
    );
    let mut c = connection(oauth_config(oauth_at(T0 - 1)));
    let a = c.list_tools(T0);
    let b = c.call_tool("x", json!({}), T0);
    let p = c.ping(T0);
    futures_executor::block_on(drive(&mut c, &server, &clock));
    assert_eq!(token_requests(&server), MAX_REFRESH_ATTEMPTS);
    for h in [a, b, p] {
        assert_eq!(
            take(&mut c, h).unwrap_err().code(),
            "token_endpoint_unreachable"
        );
        assert!(c.poll_result(h).is_none(), "one result per call");
    }
    let later = c.ping(clock.now_ms());
    futures_executor::block_on(drive(&mut c, &server, &clock));
    assert_eq!(token_requests(&server), 2 * MAX_REFRESH_ATTEMPTS);
    assert_eq!(
        take(&mut c, later).unwrap_err().code(),
        "token_endpoint_unreachable"
    );
}

#[test]
fn a_still_valid_token_is_used_when_its_proactive_refresh_cannot_reach_the_endpoint() {
    let clock = SimClock::at(T0);
    let server = hostile(
        &clock,
        unreachable_for_a_while(|| TransportError::Connect("refused".into())),
        basic_mcp,
    );
    // 30 s left of an hour-long token: refreshed proactively, but still good.
    let mut c = connection(oauth_config(oauth_at(T0 + 30_000)));
    let h = c.list_tools(T0);
    futures_executor::block_on(drive(&mut c, &server, &clock));
    assert_eq!(token_requests(&server), 1);
    assert_eq!(tool_names(take(&mut c, h).unwrap()), ["a"]);
    assert_every_mcp_request_carries(&server, "Bearer at-0");
}

/// Found by the connection driver (`tests/conn_driver`): an `initialize` refused with 401,
/// whose refresh could not reach the token endpoint, asked for a new refresh at once, forever.
#[test]
fn an_initialize_refused_with_401_and_an_unreachable_token_endpoint_end_in_a_typed_error() {
    let clock = SimClock::at(T0);
    let server = hostile(
        &clock,
        unreachable_for_a_while(|| TransportError::Timeout),
        |_, _| {
            Ok(status(
                401,
                &[("WWW-Authenticate", "Bearer error=\"invalid_token\"")],
            ))
        },
    );
    // Valid for another hour as far as the client knows.
    let mut c = connection(oauth_config(oauth_at(T0 + 3_600_000)));
    let a = c.list_tools(T0);
    let b = c.ping(T0);
    futures_executor::block_on(drive(&mut c, &server, &clock));
    assert_eq!(token_requests(&server), MAX_REFRESH_ATTEMPTS);
    assert_eq!(mcp_methods(&server), ["initialize"]);
    for h in [a, b] {
        assert_eq!(
            take(&mut c, h).unwrap_err().code(),
            "token_endpoint_unreachable"
        );
    }
}

/// A token endpoint that answers every refresh with `answer` (a transient failure), then —
/// so that a client that loops still ends — `invalid_grant`.
fn unavailable_for_a_while(
    answer: impl Fn() -> HttpResponse + Send + 'static,
) -> impl FnMut(&HttpRequest, &SimClock) -> Result<HttpResponse, TransportError> + Send {
    let mut n = 0;
    move |_, _| {
        n += 1;
        if n > ENDPOINT_PATIENCE {
            return Ok(json(400, json!({"error": "invalid_grant"})));
        }
        Ok(answer())
    }
}

fn html_error_page(code: u16) -> HttpResponse {
    HttpResponse::new(
        code,
        vec![("Content-Type".into(), "text/html".into())],
        "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>",
    )
}

fn auth_required(c: &mut Connection) -> bool {
    events(c).iter().any(|e| {
        matches!(
            e,
            workboard_core::connection::ConnectionEvent::AuthorizationRequired { .. }
        )
    })
}

/// A busy or failing token endpoint has not judged the refresh token: 5xx (JSON or an HTML
/// error page), 429 and 408 are backed off like an unreachable endpoint and end in
/// `token_endpoint_unreachable`, never in a sign-in prompt.
#[test]
fn a_token_endpoint_answering_5xx_429_or_408_is_backed_off_and_never_asks_for_a_sign_in() {
    type Transient = fn() -> HttpResponse;
    let answers: Vec<(&str, Transient)> = vec![
        ("500 JSON", || {
            json(
                500,
                json!({"error": "server_error", "error_description": "db down"}),
            )
        }),
        ("502 HTML", || html_error_page(502)),
        ("503 HTML", || html_error_page(503)),
        ("503 temporarily_unavailable", || {
            json(503, json!({"error": "temporarily_unavailable"}))
        }),
        ("504 empty", || status(504, &[])),
        ("429", || status(429, &[])),
        ("408", || status(408, &[])),
    ];
    for (what, answer) in answers {
        // An expired token (refreshed before any request) and a token the server refuses
        // (401, then a refresh).
        for refused in [false, true] {
            let clock = SimClock::at(T0);
            let mcp = move |r: &HttpRequest, c: &SimClock| {
                if refused {
                    Ok(status(
                        401,
                        &[("WWW-Authenticate", "Bearer error=\"invalid_token\"")],
                    ))
                } else {
                    basic_mcp(r, c)
                }
            };
            let server = hostile(&clock, unavailable_for_a_while(answer), mcp);
            let expires = if refused { T0 + 3_600_000 } else { T0 - 1 };
            let mut c = connection(oauth_config(oauth_at(expires)));
            let h = c.list_tools(T0);
            futures_executor::block_on(drive(&mut c, &server, &clock));
            let case = format!("{what}, refused: {refused}");
            assert_eq!(
                token_requests(&server),
                MAX_REFRESH_ATTEMPTS,
                "refresh attempts for one call ({case})"
            );
            let e = take(&mut c, h).unwrap_err();
            assert_eq!(e.code(), "token_endpoint_unreachable", "{case}: {e}");
            assert!(e.to_string().contains("HTTP"), "{case}: {e}");
            assert!(!e.to_string().contains("nginx") && !e.to_string().contains("db down"));
            // Back-off 1 s then 2 s on the simulated clock.
            assert_eq!(clock.now_ms(), T0 + 3_000, "{case}");
            assert!(!auth_required(&mut c), "{case}: no sign-in prompt");
            let expected: &[&str] = if refused { &["initialize"] } else { &[] };
            assert_eq!(mcp_methods(&server), expected, "{case}");
        }
    }
}

#[test]
fn a_token_endpoint_retry_after_is_honoured_and_clamped() {
    for (retry_after, code, waits) in [
        ("10", 503, [10_000, 10_000]),
        ("10", 429, [10_000, 10_000]),
        // Shorter than the back-off: the back-off wins.
        ("0", 503, [1_000, 2_000]),
        // Clamped to MAX_RETRY_AFTER_MS.
        ("3600", 429, [MAX_RETRY_AFTER_MS, MAX_RETRY_AFTER_MS]),
        (
            "18446744073709551615",
            503,
            [MAX_RETRY_AFTER_MS, MAX_RETRY_AFTER_MS],
        ),
    ] {
        let clock = SimClock::at(T0);
        let attempts_at = Arc::new(Mutex::new(Vec::new()));
        let seen = attempts_at.clone();
        let mut n = 0;
        let token = move |_: &HttpRequest, c: &SimClock| {
            n += 1;
            seen.lock().unwrap().push(c.now_ms());
            if n > ENDPOINT_PATIENCE {
                return Ok(json(400, json!({"error": "invalid_grant"})));
            }
            Ok(status(code, &[("Retry-After", retry_after)]))
        };
        let server = hostile(&clock, token, basic_mcp);
        let mut c = connection(oauth_config(oauth_at(T0 - 1)));
        // A tools/call: its 5-minute deadline leaves room for the longest waits.
        let h = c.call_tool("x", json!({}), T0);
        futures_executor::block_on(drive(&mut c, &server, &clock));
        assert_eq!(
            *attempts_at.lock().unwrap(),
            [T0, T0 + waits[0], T0 + waits[0] + waits[1]],
            "Retry-After {retry_after} on {code}"
        );
        assert_eq!(
            take(&mut c, h).unwrap_err().code(),
            "token_endpoint_unreachable"
        );
    }
}

/// A refusal stays a refusal: 400 `invalid_grant` needs a new sign-in, at once.
#[test]
fn invalid_grant_from_the_token_endpoint_still_asks_for_a_sign_in() {
    let clock = SimClock::at(T0);
    let server = hostile(
        &clock,
        |_, _| Ok(json(400, json!({"error": "invalid_grant"}))),
        |_, _| {
            Ok(status(
                401,
                &[("WWW-Authenticate", "Bearer error=\"invalid_token\"")],
            ))
        },
    );
    let mut c = connection(oauth_config(oauth_at(T0 + 3_600_000)));
    let h = c.list_tools(T0);
    futures_executor::block_on(drive(&mut c, &server, &clock));
    assert_eq!(token_requests(&server), 1);
    assert_eq!(clock.now_ms(), T0, "no back-off");
    let e = take(&mut c, h).unwrap_err();
    assert_eq!(e.code(), "unauthorized", "{e}");
    assert!(auth_required(&mut c));
}

/// A token endpoint that fails in transport, then — so that a client that loops still ends
/// and the test fails on its count instead of hanging — answers `invalid_grant`.
fn unreachable_for_a_while(
    failure: impl Fn() -> TransportError + Send + 'static,
) -> impl FnMut(&HttpRequest, &SimClock) -> Result<HttpResponse, TransportError> + Send {
    let mut n = 0;
    move |_, _| {
        n += 1;
        if n > ENDPOINT_PATIENCE {
            return Ok(json(400, json!({"error": "invalid_grant"})));
        }
        Err(failure())
    }
}

fn short_token_endpoint(
    expires_in: u64,
) -> impl FnMut(&HttpRequest, &SimClock) -> Result<HttpResponse, TransportError> + Send {
    let mut n = 0;
    move |_, _| {
        n += 1;
        if n > ENDPOINT_PATIENCE {
            return Ok(json(400, json!({"error": "invalid_grant"})));
        }
        Ok(json(
            200,
            json!({"access_token": format!("at-{n}"), "token_type": "Bearer",
                   "expires_in": expires_in, "refresh_token": format!("rt-{n}")}),
        ))
    }
}

#[test]
fn a_token_endpoint_issuing_one_second_tokens_is_not_asked_again_and_again() {
    let clock = SimClock::at(T0);
    let server = hostile(&clock, short_token_endpoint(1), basic_mcp);
    let mut c = connection(oauth_config(oauth_at(T0 - 1)));
    let h = c.list_tools(T0);
    futures_executor::block_on(drive(&mut c, &server, &clock));
    assert_eq!(tool_names(take(&mut c, h).unwrap()), ["a"]);
    assert_eq!(
        token_requests(&server),
        1,
        "the fresh 1-second token is used"
    );
    assert_every_mcp_request_carries(&server, "Bearer at-1");
}

#[test]
fn a_token_that_expires_as_it_is_issued_is_still_used_once_per_refresh() {
    let clock = SimClock::at(T0);
    let server = hostile(&clock, short_token_endpoint(0), basic_mcp);
    let mut c = connection(oauth_config(oauth_at(T0 - 1)));
    let h = c.list_tools(T0);
    futures_executor::block_on(drive(&mut c, &server, &clock));
    assert_eq!(tool_names(take(&mut c, h).unwrap()), ["a"]);
    // One refresh before initialize, one before tools/list: each fresh token is used.
    assert_eq!(token_requests(&server), 2);
    assert_eq!(
        mcp_methods(&server),
        ["initialize", "notifications/initialized", "tools/list"]
    );
}

// ------------------------------------------------------- item 8: SSE retry, extreme numbers

fn sse_without_answer(retry: &str) -> HttpResponse {
    sse(&format!("retry: {retry}\nid: 1\ndata:\n\n"))
}

#[test]
fn sse_retry_is_clamped_and_never_overflows() {
    for (retry, now) in [
        ("18446744073709551615", T0),
        ("3600000", T0),
        ("1000", u64::MAX - 10),
        ("18446744073709551615", u64::MAX - 10),
    ] {
        let mut c = personal();
        let h = c.call_tool("slow", json!({}), now);
        let reqs = drain(&mut c);
        c.handle_response(reqs[0].id, Ok(init_response(&reqs[0], Some("s1"))), now);
        let after = drain(&mut c);
        c.handle_response(after[1].id, Ok(sse_without_answer(retry)), now);
        let due = c.poll_timeout().expect("a resume timer");
        let wanted = now.saturating_add(
            retry
                .parse::<u64>()
                .unwrap_or(u64::MAX)
                .min(MAX_RESUME_DELAY_MS),
        );
        assert_eq!(due, wanted, "retry {retry} at {now}");
        assert!(due.saturating_sub(now) <= MAX_RESUME_DELAY_MS);
        c.handle_timeout(due);
        let next = drain(&mut c);
        if due == u64::MAX {
            // The whole-call deadline (saturated) passed as well.
            assert_eq!(take(&mut c, h).unwrap_err().code(), "timeout");
        } else {
            assert_eq!(next.len(), 1);
            assert_eq!(next[0].method, Method::Get);
            assert!(c.is_pending(h));
        }
    }
}

#[test]
fn retry_after_and_deadlines_near_the_end_of_time_never_overflow() {
    let now = u64::MAX - 5;
    let mut c = personal();
    let h = c.list_tools(now);
    let reqs = drain(&mut c);
    c.handle_response(reqs[0].id, Ok(init_response(&reqs[0], None)), now);
    let after = drain(&mut c);
    c.handle_response(after[1].id, Ok(status(429, &[("Retry-After", "60")])), now);
    assert_eq!(c.poll_timeout(), Some(u64::MAX));
    c.handle_timeout(u64::MAX);
    // Its whole-call deadline (saturated to u64::MAX) passed too: a typed error, no panic.
    assert_eq!(take(&mut c, h).unwrap_err().code(), "timeout");
    assert_eq!(c.poll_timeout(), None);
}

#[test]
fn a_huge_expires_in_and_clock_jumps_are_handled() {
    let clock = SimClock::at(T0);
    let server = hostile(
        &clock,
        |_, _| {
            Ok(json(
                200,
                json!({"access_token": "big", "token_type": "Bearer", "expires_in": u64::MAX}),
            ))
        },
        basic_mcp,
    );
    let mut c = connection(oauth_config(oauth_at(T0 - 1)));
    let h = c.ping(T0);
    futures_executor::block_on(drive(&mut c, &server, &clock));
    assert_eq!(take(&mut c, h).unwrap(), CallOutput::Pong);
    assert_eq!(token_requests(&server), 1);
    // The clock jumps to the end of time and back.
    for now in [u64::MAX, 0, T0] {
        let h = c.ping(now);
        clock.set(now);
        futures_executor::block_on(drive(&mut c, &server, &clock));
        assert!(c.poll_result(h).is_some(), "ping at {now} completed");
    }
}

// --------------------------------------------------------------- item 9: tool-list limits

fn many_tools(prefix: &str, n: usize) -> Vec<Value> {
    (0..n)
        .map(|i| json!({"name": format!("{prefix}{i}"), "inputSchema": {"type": "object"}}))
        .collect()
}

/// Pages of `per_page` tools with a new cursor each time, for at most `pages` pages.
fn endless_pages(
    per_page: usize,
    pages: usize,
) -> impl FnMut(&HttpRequest, &SimClock) -> Result<HttpResponse, TransportError> + Send {
    let mut served = 0usize;
    move |r, _| {
        Ok(match method(r).as_str() {
            "initialize" => init_response(r, Some("s1")),
            "tools/list" => {
                served += 1;
                let mut page = json!({"tools": many_tools(&format!("p{served}-"), per_page)});
                if served < pages {
                    page["nextCursor"] = json!(format!("c{served}"));
                }
                result(r, page)
            }
            _ => status(202, &[]),
        })
    }
}

fn list_against(
    config: ConnectionConfig,
    per_page: usize,
    pages: usize,
) -> (Result<CallOutput, workboard_core::Error>, usize) {
    let clock = SimClock::at(T0);
    let server = hostile(
        &clock,
        |_, _| Err(TransportError::Other("unused".into())),
        endless_pages(per_page, pages),
    );
    let mut c = connection(config);
    let h = c.list_tools(T0);
    futures_executor::block_on(drive(&mut c, &server, &clock));
    let lists = server
        .mcp_methods()
        .iter()
        .filter(|m| *m == "tools/list")
        .count();
    (take(&mut c, h), lists)
}

fn personal_config() -> ConnectionConfig {
    ConnectionConfig::new(MCP_URL)
        .era(EraPolicy::Legacy)
        .credentials(Credentials::personal("tok-1"))
}

#[test]
fn the_tool_list_is_capped_by_count_with_its_own_error() {
    // 1,000 tools a page, endless: the default cap stops it at page 11.
    let (res, lists) = list_against(personal_config(), 1_000, 100_000);
    let e = res.unwrap_err();
    assert_eq!(e.code(), "too_many_tools", "{e}");
    assert!(
        e.to_string().contains(&DEFAULT_MAX_TOOLS.to_string()),
        "{e}"
    );
    assert!(!e.to_string().contains("cursor"), "{e}");
    assert_eq!(lists, DEFAULT_MAX_TOOLS / 1_000 + 1);
    // The cap is configurable, and a list within it is returned whole.
    let mut config = personal_config();
    config.max_tools = 30;
    let (res, lists) = list_against(config.clone(), 10, 3);
    assert_eq!(tool_names(res.unwrap()).len(), 30);
    assert_eq!(lists, 3);
    config.max_tools = 29;
    let (res, lists) = list_against(config, 10, 3);
    assert_eq!(res.unwrap_err().code(), "too_many_tools");
    assert_eq!(lists, 3);
}

#[test]
fn the_tool_list_is_capped_by_bytes_across_pages() {
    let mut config = personal_config();
    config.max_tool_list_bytes = 64 * 1024;
    let (res, lists) = list_against(config, 100, 100_000);
    let e = res.unwrap_err();
    assert_eq!(e.code(), "too_many_tools", "{e}");
    assert!(e.to_string().contains("bytes"), "{e}");
    // About 5.5 KB a page: the 64 KiB cap is crossed on page 12.
    assert!((10..=14).contains(&lists), "{lists} pages");
}

#[test]
fn many_small_pages_are_capped_by_pages_not_reported_as_a_repeating_cursor() {
    let (res, lists) = list_against(personal_config(), 0, 100_000);
    let e = res.unwrap_err();
    assert_eq!(e.code(), "too_many_tools", "{e}");
    assert!(e.to_string().contains("pages"), "{e}");
    assert!(!e.to_string().contains("repeats"), "{e}");
    assert_eq!(lists, MAX_TOOL_PAGES + 1);
}

// ---------------------------------------------- item 10: whole-call deadline, body limits

/// Every POST and GET is answered, after `took_ms` of the simulated clock, with an event
/// stream of ids and no answer (an endless stream the transport gave up reading).
fn endless_stream(
    took_ms: u64,
) -> impl FnMut(&HttpRequest, &SimClock) -> Result<HttpResponse, TransportError> + Send {
    let mut id = 0u32;
    move |r, clock| {
        if method(r) == "initialize" {
            return Ok(init_response(r, Some("s1")));
        }
        if method(r).starts_with("notifications/") {
            return Ok(status(202, &[]));
        }
        clock.advance(took_ms);
        let mut body = String::new();
        for _ in 0..3 {
            id += 1;
            body.push_str(&format!("id: {id}\ndata: {{\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{{}}}}\n\n"));
        }
        Ok(sse(&body))
    }
}

#[test]
fn an_endless_stream_with_ids_ends_at_the_call_deadline_as_a_timeout() {
    let clock = SimClock::at(T0);
    let server = hostile(
        &clock,
        |_, _| Err(TransportError::Other("unused".into())),
        endless_stream(60_000),
    );
    let mut config = personal_config();
    config.call_timeout_ms = 90_000;
    let mut c = connection(config);
    let h = c.call_tool("endless", json!({}), T0);
    futures_executor::block_on(drive(&mut c, &server, &clock));
    let e = take(&mut c, h).unwrap_err();
    assert_eq!(e.code(), "timeout", "{e}");
    assert!(e.to_string().contains("tools/call"), "{e}");
    let methods = mcp_methods(&server);
    let attempts = methods
        .iter()
        .filter(|m| *m == "tools/call" || *m == "GET")
        .count();
    assert_eq!(attempts, 2, "{methods:?}");
    // The server is told the call was abandoned.
    assert!(methods.iter().any(|m| m == "notifications/cancelled"));
    assert!(clock.now_ms() < T0 + 2 * 90_000);
}

#[test]
fn the_default_call_deadline_bounds_resumes_of_a_slow_endless_stream() {
    let clock = SimClock::at(T0);
    let server = hostile(
        &clock,
        |_, _| Err(TransportError::Other("unused".into())),
        endless_stream(100_000),
    );
    let mut c = connection(personal_config());
    let h = c.call_tool("endless", json!({}), T0);
    futures_executor::block_on(drive(&mut c, &server, &clock));
    assert_eq!(take(&mut c, h).unwrap_err().code(), "timeout");
    let attempts = server
        .mcp_methods()
        .iter()
        .filter(|m| *m == "tools/call" || *m == "GET")
        .count();
    assert!(attempts as u32 <= 1 + MAX_RESUMES);
    assert!(clock.now_ms() <= T0 + DEFAULT_CALL_TIMEOUT_MS + 100_000);
}

#[test]
fn the_request_deadline_also_bounds_a_list_over_many_slow_pages() {
    let mut pages = endless_pages(1, 100_000);
    let clock = SimClock::at(T0);
    let server = hostile(
        &clock,
        |_, _| Err(TransportError::Other("unused".into())),
        move |r, clock| {
            clock.advance(10_000);
            pages(r, clock)
        },
    );
    let mut config = personal_config();
    config.request_timeout_ms = 60_000;
    let mut c = connection(config);
    let h = c.list_tools(T0);
    futures_executor::block_on(drive(&mut c, &server, &clock));
    assert_eq!(take(&mut c, h).unwrap_err().code(), "timeout");
    assert!(mcp_requests(&server).len() <= 10);
}

#[test]
fn an_oversized_body_is_its_own_error_and_not_replayed() {
    for op in ["tools/list", "ping", "initialize"] {
        let mut c = personal();
        let h = if op == "ping" {
            c.ping(T0)
        } else {
            c.list_tools(T0)
        };
        let mut reqs = drain(&mut c);
        if op != "initialize" {
            c.handle_response(reqs[0].id, Ok(init_response(&reqs[0], None)), T0);
            reqs = drain(&mut c).into_iter().skip(1).collect();
        }
        assert_eq!(method(&reqs[0]), op);
        c.handle_response(
            reqs[0].id,
            Err(TransportError::BodyTooLarge { limit: 16 << 20 }),
            T0,
        );
        let again: Vec<String> = drain(&mut c)
            .iter()
            .map(method)
            .filter(|m| !m.starts_with("notifications/"))
            .collect();
        assert!(again.is_empty(), "{op} was sent again: {again:?}");
        assert_eq!(c.poll_timeout(), None, "{op}: nothing scheduled");
        let e = take(&mut c, h).unwrap_err();
        assert_eq!(e.code(), "response_too_large", "{op}: {e}");
        assert!(!e.hint().unwrap().contains("network"), "{op}");
    }
}

#[test]
fn an_oversized_resumed_stream_is_not_resumed_again() {
    let mut c = personal();
    let h = c.call_tool("x", json!({}), T0);
    let after = initialize(&mut c, Some("s1"));
    c.handle_response(after[1].id, Ok(sse("id: 1\ndata:\n\n")), T0);
    c.handle_timeout(c.poll_timeout().unwrap());
    let get = drain(&mut c);
    assert_eq!(get[0].method, Method::Get);
    c.handle_response(
        get[0].id,
        Err(TransportError::BodyTooLarge { limit: 1 }),
        T0 + 1_000,
    );
    assert!(drain(&mut c).is_empty());
    assert_eq!(take(&mut c, h).unwrap_err().code(), "response_too_large");
}

/// A call refused once and replayed after the refresh asks for its next page with the new
/// token: it is not "refused" any more (found by the native end-to-end test with 5
/// concurrent lists: 3 refreshes instead of 1).
#[test]
fn the_next_page_of_a_list_replayed_after_a_refresh_needs_no_new_refresh() {
    let mut c = with_refresh("old-at", "rt-1");
    let h = c.list_tools(T0);
    let after = initialize(&mut c, Some("s1"));
    c.handle_response(after[1].id, Ok(status(401, &[])), T0);
    let refresh = drain(&mut c);
    assert_eq!(refresh[0].url, TOKEN_URL);
    c.handle_response(
        refresh[0].id,
        Ok(json(
            200,
            json!({"access_token":"new-at","token_type":"bearer","expires_in":3600}),
        )),
        T0,
    );
    let replay = drain(&mut c);
    assert_eq!(method(&replay[0]), "tools/list");
    c.handle_response(
        replay[0].id,
        Ok(result(&replay[0], tools(&["a"], Some("c2")))),
        T0,
    );
    let next = drain(&mut c);
    assert_eq!(next.len(), 1, "{next:?}");
    assert_eq!(
        method(&next[0]),
        "tools/list",
        "the next page, not a refresh"
    );
    assert_eq!(next[0].header("Authorization"), Some("Bearer new-at"));
    c.handle_response(next[0].id, Ok(result(&next[0], tools(&["b"], None))), T0);
    assert_eq!(tool_names(take(&mut c, h).unwrap()), ["a", "b"]);
}

/// The builder methods adapters pass their settings through (`workboard-native`'s
/// `ClientBuilder`): whole milliseconds, saturating (`Duration::MAX`: no deadline).
#[test]
fn config_builder_methods_set_the_limits_and_saturate() {
    use std::time::Duration;
    let c = ConnectionConfig::new(MCP_URL)
        .era(EraPolicy::Legacy)
        .call_timeout(Duration::MAX)
        .request_timeout(Duration::from_micros(1_500_999))
        .max_tools(7)
        .max_tool_list_bytes(1234);
    assert_eq!(c.call_timeout_ms, u64::MAX);
    assert_eq!(c.request_timeout_ms, 1_500);
    assert_eq!((c.max_tools, c.max_tool_list_bytes), (7, 1234));
}

/// Every MCP request the server saw carried `authorization`.
fn assert_every_mcp_request_carries(server: &ScriptedTransport, authorization: &str) {
    let requests = mcp_requests(server);
    assert!(
        requests
            .iter()
            .all(|r| r.header("Authorization") == Some(authorization)),
        "an MCP request without {authorization}"
    );
}
