//! Refreshes coordinated through the app's store (`ConnectionConfig::coordinate_refresh`):
//! a due refresh waits for the app to take the store's lease; the app then lets it go, or
//! hands over credentials another holder stored (no refresh at all); a store that cannot be
//! reached backs off like an unreachable token endpoint. Hand-driven (no transport).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod mcp_common;

use mcp_common::*;
use serde_json::json;
use workboard_core::connection::{
    Connection, ConnectionConfig, ConnectionEvent, EraPolicy, MAX_REFRESH_ATTEMPTS,
};
use workboard_core::testing::TOKEN_URL;
use workboard_core::SansIo;

fn coordinated(expires_at_ms: u64) -> Connection {
    Connection::new(
        ConnectionConfig::new(MCP_URL)
            .era(EraPolicy::Legacy)
            .credentials(oauth_credentials("at-0", Some("rt-0"), Some(expires_at_ms)))
            .auth(auth_context())
            .coordinate_refresh(true),
    )
    .unwrap()
}

fn bearer(r: &workboard_core::HttpRequest) -> Option<String> {
    r.headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("authorization"))
        .map(|(_, v)| v.clone())
}

#[test]
fn a_due_refresh_waits_for_the_lease_then_goes_once() {
    let mut c = coordinated(T0 - 1); // expired
    let h = c.list_tools(T0);
    assert!(drain(&mut c).is_empty(), "nothing goes before the lease");
    assert_eq!(c.auth_state(), "AwaitingLease");
    assert!(events(&mut c).contains(&ConnectionEvent::RefreshDue));
    // Another list waits too, without a second RefreshDue.
    let h2 = c.list_tools(T0);
    assert!(drain(&mut c).is_empty());
    assert!(!events(&mut c).contains(&ConnectionEvent::RefreshDue));

    c.refresh_with_lease(T0).unwrap();
    let out = drain(&mut c);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].url, TOKEN_URL);
    assert_eq!(c.auth_state(), "Refreshing");
    c.handle_response(
        out[0].id,
        Ok(json(
            200,
            json!({"access_token": "at-1", "token_type": "Bearer", "expires_in": 3600,
                   "refresh_token": "rt-1"}),
        )),
        T0,
    );
    let ev = events(&mut c);
    let changed = ev
        .iter()
        .position(|e| matches!(e, ConnectionEvent::CredentialsChanged(_)))
        .expect("new credentials announced");
    let ended = ev
        .iter()
        .position(|e| *e == ConnectionEvent::RefreshEnded)
        .expect("the refresh ended: release the lease");
    assert!(
        changed < ended,
        "persist before releasing the lease: {ev:?}"
    );
    // initialize with the new token, then both lists.
    let init = drain(&mut c);
    assert_eq!(method(&init[0]), "initialize");
    assert_eq!(bearer(&init[0]).as_deref(), Some("Bearer at-1"));
    c.handle_response(init[0].id, Ok(init_response(&init[0], Some("s1"))), T0);
    let calls = drain(&mut c);
    let lists: Vec<_> = calls.iter().filter(|r| method(r) == "tools/list").collect();
    assert_eq!(lists.len(), 2);
    for r in &calls {
        c.handle_response(r.id, Ok(result(r, tools(&["a"], None))), T0);
    }
    assert!(take(&mut c, h).is_ok());
    assert!(take(&mut c, h2).is_ok());
    // Without a due refresh the lease has nothing to do.
    assert_eq!(c.refresh_with_lease(T0).unwrap_err().code(), "wrong_state");
}

#[test]
fn credentials_another_holder_stored_replace_the_refresh() {
    let mut c = coordinated(T0 - 1);
    let h = c.list_tools(T0);
    assert!(events(&mut c).contains(&ConnectionEvent::RefreshDue));
    // The store already holds what another process refreshed: no token request at all.
    let theirs = oauth_credentials("at-theirs", Some("rt-theirs"), Some(T0 + 3_600_000));
    c.set_credentials(Some(theirs), None).unwrap();
    assert_eq!(c.auth_state(), "Valid");
    let out = drain(&mut c);
    assert!(out.iter().all(|r| r.url != TOKEN_URL), "no refresh");
    assert_eq!(method(&out[0]), "initialize");
    assert_eq!(bearer(&out[0]).as_deref(), Some("Bearer at-theirs"));
    c.handle_response(out[0].id, Ok(init_response(&out[0], Some("s1"))), T0);
    for r in drain(&mut c) {
        if method(&r) == "tools/list" {
            c.handle_response(r.id, Ok(result(&r, tools(&["a"], None))), T0);
        }
    }
    assert!(take(&mut c, h).is_ok());
    assert!(!events(&mut c).contains(&ConnectionEvent::RefreshEnded));
}

#[test]
fn an_unreachable_store_backs_off_and_fails_after_bounded_attempts() {
    let mut c = coordinated(T0 - 1);
    let h = c.list_tools(T0);
    let mut now = T0;
    let mut due = 0;
    for _ in 0..10 {
        if events(&mut c).contains(&ConnectionEvent::RefreshDue) {
            due += 1;
            c.refresh_lease_failed(&"redis: connection refused ".repeat(100), now);
        }
        if !c.is_pending(h) {
            break;
        }
        now = c.poll_timeout().expect("a back-off timer");
        c.handle_timeout(now);
    }
    assert_eq!(due, MAX_REFRESH_ATTEMPTS, "one lease request per attempt");
    let e = take(&mut c, h).unwrap_err();
    assert_eq!(e.code(), "token_endpoint_unreachable");
    let text = e.to_string();
    assert!(text.contains("credential store"), "{text}");
    assert!(
        text.len() < 600,
        "the reason is bounded: {} bytes",
        text.len()
    );
    assert!(drain(&mut c).is_empty(), "an expired token is never sent");
}

#[test]
fn without_coordination_nothing_waits_for_a_lease() {
    let mut c = Connection::new(
        ConnectionConfig::new(MCP_URL)
            .era(EraPolicy::Legacy)
            .credentials(oauth_credentials("at-0", Some("rt-0"), Some(T0 - 1)))
            .auth(auth_context()),
    )
    .unwrap();
    c.list_tools(T0);
    let out = drain(&mut c);
    assert_eq!(out[0].url, TOKEN_URL, "the refresh goes at once");
    let ev = events(&mut c);
    assert!(!ev.contains(&ConnectionEvent::RefreshDue));
    c.handle_response(
        out[0].id,
        Err(workboard_core::TransportError::Connect("x".into())),
        T0,
    );
    assert!(!events(&mut c).contains(&ConnectionEvent::RefreshEnded));
}
