//! Credentials are bound to the server they were issued or set for, and never sent elsewhere
//! (issue 11, item 2: token passthrough). Scripted server, simulated time.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod mcp_common;

use mcp_common::*;
use serde_json::json;
use workboard_core::connection::{Connection, ConnectionConfig, ConnectionEvent, EraPolicy};
use workboard_core::credentials::bind_for_server;
use workboard_core::oauth::flow::AuthContext;
use workboard_core::testing::SimClock;
use workboard_core::{drive, Credentials, Environment, HttpRequest, RequestId, SansIo};

/// Server A is [`MCP_URL`]; B is another server.
const B: &str = "https://other.example.net/mcp";

fn carries(r: &HttpRequest, secret: &str) -> bool {
    r.headers.iter().any(|(_, v)| v.contains(secret))
        || String::from_utf8_lossy(&r.body).contains(secret)
        || r.url.contains(secret)
}

fn oauth_for_a() -> Credentials {
    oauth_credentials("AT-OF-A", Some("RT-OF-A"), Some(T0 + 3_600_000))
        .bind_to(MCP_URL)
        .unwrap()
}

#[test]
fn a_personal_token_bound_to_a_is_refused_for_server_b_and_never_sent() {
    let token = Credentials::personal("PERSONAL-A")
        .bind_to(MCP_URL)
        .unwrap();
    let e = Connection::new(ConnectionConfig::new(B).credentials(token.clone())).unwrap_err();
    assert_eq!(e.code(), "credentials_not_for_server");
    let info = e.info();
    let hint = info.hint.clone().unwrap();
    assert!(hint.contains(MCP_URL) && hint.contains(B), "{hint}");
    assert!(!format!("{info:?}").contains("PERSONAL-A"));

    // Replacing the credentials of a connection to B: refused, nothing changes, and the
    // calls that follow never carry the token.
    let server = basic_server();
    let clock = SimClock::at(T0);
    let mut c = Connection::new(ConnectionConfig::new(B)).unwrap();
    let e = c.set_credentials(Some(token), None).unwrap_err();
    assert_eq!(e.code(), "credentials_not_for_server");
    assert!(c.credentials().is_none());
    let h = c.list_tools(T0);
    block_on(drive(&mut c, &server, &clock));
    assert!(take(&mut c, h).is_ok());
    let seen = server.requests();
    assert!(!seen.is_empty());
    assert!(seen.iter().all(|r| !carries(r, "PERSONAL-A")), "{seen:?}");
}

#[test]
fn oauth_credentials_and_context_of_a_are_refused_for_b_and_never_refreshed_at_a() {
    // Bound credentials, with or without their context.
    for auth in [None, Some(auth_context())] {
        let mut cfg = ConnectionConfig::new(B).credentials(oauth_for_a());
        cfg.auth = auth;
        let e = Connection::new(cfg).unwrap_err();
        assert_eq!(e.code(), "credentials_not_for_server");
    }
    // Legacy (unbound) credentials with A's context: the context is refused, so no
    // refresh can ever happen at A's token endpoint for B.
    let legacy = oauth_credentials("AT-OF-A", Some("RT-OF-A"), Some(T0 + 3_600_000));
    let e = Connection::new(
        ConnectionConfig::new(B)
            .credentials(legacy.clone())
            .auth(auth_context()),
    )
    .unwrap_err();
    assert_eq!(e.code(), "credentials_not_for_server");

    // A connection to B with its own token; A's credentials and context are refused, and
    // B's 401 then fails the call without any request to A's token endpoint.
    let mut c = Connection::new(
        ConnectionConfig::new(B)
            .era(EraPolicy::Legacy)
            .credentials(Credentials::personal("TOKEN-OF-B")),
    )
    .unwrap();
    let e = c
        .set_credentials(Some(legacy), Some(auth_context()))
        .unwrap_err();
    assert_eq!(e.code(), "credentials_not_for_server");
    let e = c.set_credentials(None, Some(auth_context())).unwrap_err();
    assert_eq!(e.code(), "credentials_not_for_server");
    let h = c.ping(T0);
    let mut sent = Vec::new();
    let after = {
        let reqs = drain(&mut c);
        sent.extend(reqs.clone());
        assert_eq!(method(&reqs[0]), "initialize");
        c.handle_response(reqs[0].id, Ok(init_response(&reqs[0], Some("s"))), T0);
        drain(&mut c)
    };
    sent.extend(after.clone());
    let ping = after.iter().find(|r| method(r) == "ping").unwrap();
    c.handle_response(
        ping.id,
        Ok(status(
            401,
            &[("WWW-Authenticate", "Bearer error=\"invalid_token\"")],
        )),
        T0,
    );
    sent.extend(drain(&mut c));
    assert_eq!(take(&mut c, h).unwrap_err().code(), "unauthorized");
    assert!(sent.iter().all(|r| r.url == B), "{sent:?}");
    assert!(sent
        .iter()
        .all(|r| !carries(r, "AT-OF-A") && !carries(r, "RT-OF-A")));
}

#[test]
fn unbound_credentials_are_bound_to_the_server_they_are_paired_with() {
    let c = personal();
    assert_eq!(c.credentials().unwrap().bound_to(), Some(MCP_URL));
    // OAuth 2.1 tokens with a context are bound to its resource.
    let c = Connection::new(
        ConnectionConfig::new(MCP_URL)
            .credentials(oauth_credentials("a", Some("r"), None))
            .auth(auth_context()),
    )
    .unwrap();
    assert_eq!(c.credentials().unwrap().bound_to(), Some(MCP_URL));
}

#[test]
fn a_refreshed_token_keeps_its_binding() {
    let mut c = with_refresh("old-at", "rt-1");
    let h = c.ping(T0);
    let after = initialize(&mut c, Some("s1"));
    let ping = after.iter().find(|r| method(r) == "ping").unwrap();
    c.handle_response(ping.id, Ok(status(401, &[])), T0);
    let refresh = drain(&mut c);
    assert_eq!(refresh.len(), 1);
    c.handle_response(
        refresh[0].id,
        Ok(json(
            200,
            json!({"access_token": "new-at", "token_type": "Bearer", "expires_in": 3600}),
        )),
        T0 + 10,
    );
    let changed = events(&mut c)
        .into_iter()
        .find_map(|e| match e {
            ConnectionEvent::CredentialsChanged(c) => Some(c),
            _ => None,
        })
        .expect("credentials event");
    assert_eq!(changed.bound_to(), Some(MCP_URL));
    // What a store saves from the event parses back bound.
    let back = Credentials::from_json(&changed.to_json()).unwrap();
    assert_eq!(back.bound_to(), Some(MCP_URL));
    assert!(c.is_pending(h));
}

#[test]
fn servers_compare_as_canonical_resource_uris() {
    let bound = Credentials::personal("t")
        .bind_to("HTTPS://MCP.Example.com:443/mcp/")
        .unwrap();
    assert_eq!(bound.bound_to(), Some(MCP_URL));
    for ok in [
        MCP_URL,
        "https://mcp.example.com/mcp/",
        "https://mcp.example.com:443/mcp",
        "https://MCP.EXAMPLE.COM/mcp",
        "https://mcp.example.com/mcp/sub",
        "https://mcp.example.com/mcp?x=1",
    ] {
        assert!(bound.check_server(ok).is_ok(), "{ok}");
    }
    for refused in [
        B,
        "http://mcp.example.com/mcp",
        "https://mcp.example.com:8443/mcp",
        "https://mcp.example.com/mcpx",
        "https://mcp.example.com/",
        "https://mcp.example.com.evil.example/mcp",
        "https://evil.example/mcp?u=https://mcp.example.com/mcp",
    ] {
        let e = bound.check_server(refused).unwrap_err();
        assert_eq!(e.code(), "credentials_not_for_server", "{refused}");
    }
    // A binding never keeps user info, a query or a fragment.
    let b = Credentials::personal("t")
        .bind_to("https://u:pw@h.example/mcp?access_token=zzz#f")
        .unwrap();
    assert_eq!(b.bound_to(), Some("https://h.example/mcp"));
    // The error shows the server redacted.
    let e = bound
        .check_server("https://user:pw@evil.example/mcp?access_token=SECRET")
        .unwrap_err();
    let text = format!("{} {}", e, e.hint().unwrap_or_default());
    assert!(!text.contains("pw") && !text.contains("SECRET"), "{text}");
}

#[test]
fn legacy_stored_credentials_are_bound_to_their_environment_or_context() {
    // Written before bindings existed: no `bound_to`.
    let personal = Credentials::from_json(r#"{"kind":"personal","token":"old"}"#).unwrap();
    assert_eq!(personal.bound_to(), None);
    let eu = personal
        .clone()
        .or_bound_to_environment(&Environment::Eu, None);
    assert_eq!(eu.bound_to(), Some("https://www.myworkboard.eu"));
    assert!(eu.check_server(&Environment::Eu.mcp_url()).is_ok());
    for other in [Environment::Us.mcp_url(), B.to_string()] {
        assert_eq!(
            eu.check_server(&other).unwrap_err().code(),
            "credentials_not_for_server"
        );
    }
    // The connection refuses it for another server.
    let e = Connection::new(ConnectionConfig::new(B).credentials(eu)).unwrap_err();
    assert_eq!(e.code(), "credentials_not_for_server");

    // OAuth 2.1 tokens stored with their context: bound to its resource.
    let oauth_json = oauth_credentials("a", Some("r"), None).to_json();
    assert!(!oauth_json.contains("bound_to"));
    let legacy = Credentials::from_json(&oauth_json).unwrap();
    let ctx: AuthContext = auth_context();
    let bound = legacy
        .clone()
        .or_bound_to_environment(&Environment::Us, Some(&ctx));
    assert_eq!(bound.bound_to(), Some(MCP_URL));
    // Without a context, an OAuth token is the environment's.
    let bound = legacy.or_bound_to_environment(&Environment::Us, None);
    assert_eq!(bound.bound_to(), Some("https://www.myworkboard.com"));
    // Bound credentials are never rebound.
    let already = Credentials::personal("t").bind_to(B).unwrap();
    assert_eq!(
        already
            .or_bound_to_environment(&Environment::Us, None)
            .bound_to(),
        Some(B)
    );
}

#[test]
fn bind_for_server_is_the_one_rule_adapters_apply() {
    let ctx = auth_context();
    let bound = bind_for_server(MCP_URL, Some(Credentials::personal("t")), Some(&ctx))
        .unwrap()
        .unwrap();
    assert_eq!(bound.bound_to(), Some(MCP_URL));
    assert!(bind_for_server(MCP_URL, None, None).unwrap().is_none());
    assert_eq!(
        bind_for_server(B, None, Some(&ctx)).unwrap_err().code(),
        "credentials_not_for_server"
    );
    assert_eq!(
        bind_for_server("not a url", None, None).unwrap_err().code(),
        "invalid_url"
    );
}

#[test]
fn rest_requests_refuse_credentials_of_another_origin() {
    let env = Environment::Us;
    let ours = Credentials::personal("t").bind_to(&env.mcp_url()).unwrap();
    assert!(workboard_core::rest::get_request(&env, &ours, "user", RequestId(1)).is_ok());
    let foreign = Credentials::personal("FOREIGN").bind_to(B).unwrap();
    let e = workboard_core::rest::get_request(&env, &foreign, "user", RequestId(1)).unwrap_err();
    assert_eq!(e.code(), "credentials_not_for_server");
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    futures_executor::block_on(f)
}

#[test]
fn v1_revocation_refuses_credentials_of_another_deployment() {
    use workboard_core::oauth::v1::checked_revoke_request;
    let eu = Credentials::personal("t")
        .bind_to(&Environment::Eu.mcp_url())
        .unwrap();
    assert!(checked_revoke_request(&Environment::Eu, &eu, RequestId(1)).is_ok());
    assert_eq!(
        checked_revoke_request(&Environment::Us, &eu, RequestId(1))
            .unwrap_err()
            .code(),
        "credentials_not_for_server"
    );
}
