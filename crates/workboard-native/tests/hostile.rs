//! The native `Client` end to end against hostile servers on 127.0.0.1
//! (`tests/support/hostile.rs`): unreachable or hostile token endpoints, oversized bodies,
//! servers that never answer (the builder's deadlines) and long tool lists (its caps).
//! Each test counts what the server received, so a loop or a replay fails it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::json;
use support::hostile::{mcp_basics, reserved_port, HostileServer, Reply};
use workboard_core::connection::MAX_REFRESH_ATTEMPTS;
use workboard_core::oauth::flow::AuthContext;
use workboard_core::{Credentials, Dialect, TokenSet};
use workboard_native::Client;

/// Every server here stops by itself after this long.
const LIFETIME: Duration = Duration::from_secs(60);
/// A guard against a hang (not a performance figure): the calls end within a few seconds.
const GUARD: Duration = Duration::from_secs(45);

fn now_ms() -> u64 {
    u64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap()
}

/// The core's fixture context, on the local servers (no issuer, a loopback redirect).
fn auth_context(server_url: &str, token_endpoint: &str) -> AuthContext {
    AuthContext {
        server_url: server_url.into(),
        resource: server_url.into(),
        issuer: None,
        authorization_endpoint: token_endpoint.replace("/token", "/authorize"),
        token_endpoint: token_endpoint.into(),
        redirect_uri: "http://127.0.0.1:9/cb".into(),
        ..workboard_core::testing::auth_context()
    }
}

/// An OAuth token that expired a minute ago (issued an hour before that).
fn expired_token() -> Credentials {
    let now = now_ms();
    Credentials::OAuth(TokenSet {
        access_token: "expired-at".into(),
        refresh_token: Some("rt-0".into()),
        token_type: "Bearer".into(),
        scope: None,
        issued_at_ms: now - 3_660_000,
        expires_at_ms: Some(now - 60_000),
        dialect: Dialect::OAuth2,
        bound_to: None,
    })
}

fn client(mcp_url: &str, token_endpoint: &str) -> Client {
    Client::builder()
        .server_url(mcp_url)
        .credentials(expired_token())
        .auth_context(auth_context(mcp_url, token_endpoint))
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_token_endpoint_ends_the_call_with_a_typed_error() {
    let mcp = HostileServer::start(16, LIFETIME, mcp_basics).await;
    let (_reserved, port) = reserved_port();
    let c = client(&mcp.url("/mcp"), &format!("http://127.0.0.1:{port}/token"));
    let e = tokio::time::timeout(GUARD, c.list_tools())
        .await
        .expect("the call ends")
        .unwrap_err();
    assert_eq!(e.code(), "token_endpoint_unreachable", "{e}");
    assert!(e.hint().unwrap().contains("network"));
    assert!(mcp.requests().is_empty(), "the expired token is never sent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_endpoint_that_hangs_up_is_tried_a_bounded_number_of_times() {
    let mcp = HostileServer::start(16, LIFETIME, mcp_basics).await;
    let auth = HostileServer::start(1_000, LIFETIME, |_| Reply::HangUp).await;
    let c = client(&mcp.url("/mcp"), &auth.url("/token"));
    let e = tokio::time::timeout(GUARD, c.list_tools())
        .await
        .expect("the call ends")
        .unwrap_err();
    assert_eq!(e.code(), "token_endpoint_unreachable", "{e}");
    assert_eq!(auth.count_path("/token"), MAX_REFRESH_ATTEMPTS as usize);
    assert!(mcp.requests().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_endpoint_issuing_one_second_tokens_does_not_cause_a_refresh_loop() {
    let mcp = HostileServer::start(64, LIFETIME, mcp_basics).await;
    let auth = HostileServer::start(1_000, LIFETIME, |_| {
        Reply::json(
            200,
            &json!({"access_token": "short-at", "token_type": "Bearer", "expires_in": 1,
                    "refresh_token": "rt-1"}),
        )
    })
    .await;
    let c = client(&mcp.url("/mcp"), &auth.url("/token"));
    let tools = tokio::time::timeout(GUARD, c.list_tools())
        .await
        .expect("the call ends")
        .unwrap();
    assert_eq!(tools[0].name, "echo");
    // One refresh (the expired token); a second only if the machine took over half a second
    // between two requests. Before the fix: thousands.
    let refreshes = auth.count_path("/token");
    assert!((1..=3).contains(&refreshes), "{refreshes} refreshes");
    assert!(mcp
        .requests()
        .iter()
        .all(|r| r.header("authorization") == Some("Bearer short-at")));
}

const OVERSIZED: usize = workboard_native::transport::DEFAULT_MAX_BODY + 1024 * 1024;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_body_is_response_too_large_and_read_once() {
    let big = std::sync::Arc::new(vec![b' '; OVERSIZED]);
    let mcp = HostileServer::start(32, LIFETIME, move |req| match req.rpc_method().as_deref() {
        // Close-delimited: the client reads up to its cap, then stops.
        Some("tools/list") => Reply::Respond {
            status: 200,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: big.to_vec(),
            content_length: false,
        },
        // Announced: refused before reading.
        Some("ping") => Reply::Respond {
            status: 200,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: big.to_vec(),
            content_length: true,
        },
        _ => mcp_basics(req),
    })
    .await;
    let c = Client::builder()
        .server_url(mcp.url("/mcp"))
        .credentials(Credentials::personal("tok"))
        .build()
        .unwrap();
    let e = tokio::time::timeout(GUARD, c.list_tools())
        .await
        .expect("the call ends")
        .unwrap_err();
    assert_eq!(e.code(), "response_too_large", "{e}");
    assert!(!e.hint().unwrap_or_default().contains("network"), "{e:?}");
    assert_eq!(mcp.count_rpc("tools/list"), 1, "read once, never replayed");
    let e = tokio::time::timeout(GUARD, c.ping())
        .await
        .expect("the call ends")
        .unwrap_err();
    assert_eq!(e.code(), "response_too_large", "{e}");
    assert_eq!(mcp.count_rpc("ping"), 1);
}

fn personal_client(
    mcp: &HostileServer,
    tune: impl FnOnce(workboard_native::ClientBuilder) -> workboard_native::ClientBuilder,
) -> Client {
    tune(
        Client::builder()
            .server_url(mcp.url("/mcp"))
            .credentials(Credentials::personal("tok")),
    )
    .build()
    .unwrap()
}

/// The builder's `call_timeout` reaches the core: a tool call the server never answers ends
/// as `timeout` after it (the defaults, 5 minutes and the transport's 60 s, would outlast the
/// guard).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_builder_call_timeout_ends_a_tool_call_the_server_never_answers() {
    let mcp = HostileServer::start(16, LIFETIME, |req| match req.rpc_method().as_deref() {
        Some("tools/call") => Reply::Hang,
        _ => mcp_basics(req),
    })
    .await;
    let c = personal_client(&mcp, |b| b.call_timeout(Duration::from_secs(1)));
    let e = tokio::time::timeout(GUARD, c.call_tool("echo", json!({})))
        .await
        .expect("the call ends")
        .unwrap_err();
    assert!(
        matches!(&e, workboard_core::Error::Timeout { what, after_ms: 1_000 } if what == "tools/call"),
        "{e:?}"
    );
    assert_eq!(e.code(), "timeout");
    assert_eq!(
        mcp.count_rpc("tools/call"),
        1,
        "a timed-out call is not replayed"
    );
}

/// Likewise `request_timeout` for `tools/list`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_builder_request_timeout_ends_a_tool_list_the_server_never_answers() {
    let mcp = HostileServer::start(16, LIFETIME, |req| match req.rpc_method().as_deref() {
        Some("tools/list") => Reply::Hang,
        _ => mcp_basics(req),
    })
    .await;
    let c = personal_client(&mcp, |b| b.request_timeout(Duration::from_secs(1)));
    let e = tokio::time::timeout(GUARD, c.list_tools())
        .await
        .expect("the call ends")
        .unwrap_err();
    assert!(
        matches!(&e, workboard_core::Error::Timeout { what, after_ms: 1_000 } if what == "tools/list"),
        "{e:?}"
    );
}

/// The builder's tool-list caps reach the core: the one tool of `mcp_basics` is over a cap of
/// zero tools, and its page over a cap of 16 bytes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_builder_tool_list_caps_reach_the_core() {
    let mcp = HostileServer::start(16, LIFETIME, mcp_basics).await;
    for c in [
        personal_client(&mcp, |b| b.max_tools(0)),
        personal_client(&mcp, |b| b.max_tool_list_bytes(16)),
    ] {
        let e = tokio::time::timeout(GUARD, c.list_tools())
            .await
            .expect("the call ends")
            .unwrap_err();
        assert_eq!(e.code(), "too_many_tools", "{e}");
    }
    let c = personal_client(&mcp, |b| b.max_tools(1).max_tool_list_bytes(4096));
    let tools = tokio::time::timeout(GUARD, c.list_tools())
        .await
        .expect("the call ends")
        .unwrap();
    assert_eq!(tools.len(), 1);
}
