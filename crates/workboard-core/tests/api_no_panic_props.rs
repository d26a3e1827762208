//! Property tests: every public entry point that takes text from a user, an app or a server
//! returns (a value or a typed error) for any input and never panics. The parsers behind them
//! have fuzz targets (fuzz/); these go through the API an app calls, with inputs built from
//! pieces that reach deep paths (schemes, `Bearer `, query syntax, JSON punctuation) mixed
//! with multi-byte characters, so that byte offsets fall inside characters. A panic here is a
//! trapped wasm instance, an aborted mobile call or a crashed CLI.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;
use serde_json::json;
use workboard_core::connection::{Connection, ConnectionConfig};
use workboard_core::error::{check_redirect_uri, first_difference};
use workboard_core::fuzzing::negotiate;
use workboard_core::fuzzing::strip_bearer;
use workboard_core::fuzzing::{parse_bearer, parse_challenges};
use workboard_core::fuzzing::{validate_verifier, Pkce};
use workboard_core::http::redact_url;
use workboard_core::oauth::flow::{AuthContext, McpAuthConfig, McpAuthFlow};
use workboard_core::oauth::pending::PendingAuthorization;
use workboard_core::oauth::v1::{start_authorization, V1Config};
use workboard_core::testing::T0;
use workboard_core::{rest, Credentials, Environment, RequestId, SecretString, SeededEntropy};

mod tricky;
use tricky::tricky;

fn pending_v1() -> PendingAuthorization {
    let cfg = V1Config::new(Environment::Us, "cid", "https://app.example/cb");
    start_authorization(&cfg, &mut SeededEntropy::new([3; 32]), T0)
        .unwrap()
        .1
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn credentials_and_environments(s in tricky()) {
        let _ = strip_bearer(&s);
        let c = Credentials::personal(s.as_str());
        let _ = c.authorization_header();
        let _ = Credentials::from_json(&s);
        if let Ok(env) = Environment::parse(&s) {
            let _ = (env.base_url().to_string(), env.mcp_url());
            let _ = rest::get_request(&env, &c, &s, RequestId(1));
        }
        let _ = rest::get_request(&Environment::Us, &c, &s, RequestId(1));
        let _ = redact_url(&s);
        let _ = SecretString::new(s.as_str()).ct_eq(&s);
    }

    #[test]
    fn sign_in_inputs(s in tricky(), t in tricky()) {
        let _ = PendingAuthorization::from_json(&s);
        let mut p = pending_v1();
        let _ = p.handle_redirect(&s, T0);
        let _ = AuthContext::from_json(&s);
        let _ = McpAuthFlow::resume(&s);
        let _ = Pkce::from_verifier(&s);
        let _ = validate_verifier(&s);
        let _ = check_redirect_uri(&s, &t);
        let _ = first_difference(&s, &t);
        let _ = parse_challenges(&s);
        let _ = parse_bearer(&s);
        let v1 = V1Config::new(Environment::Us, s.as_str(), t.as_str());
        let _ = start_authorization(&v1, &mut SeededEntropy::new([1; 32]), T0);
        let cfg = McpAuthConfig::new(s.as_str(), t.as_str());
        if let Ok(mut flow) = McpAuthFlow::new(cfg, &mut SeededEntropy::new([2; 32]), T0) {
            let _ = flow.handle_redirect(&t, T0);
        }
    }

    #[test]
    fn connection_inputs(s in tricky(), t in tricky()) {
        if let Ok(mut conn) = Connection::new(ConnectionConfig::new(s.as_str())) {
            let _ = conn.call_tool(&t, json!({ "q": t }), T0);
            let _ = conn.call_tool(&t, json!(t), T0);
        }
        let mut conn = Connection::new(ConnectionConfig::new("https://mcp.example/mcp")).unwrap();
        let _ = conn.call_tool(&s, serde_json::Value::Null, T0);
        let _ = negotiate(&s);
    }
}

/// Found by `sign_in_inputs`: a host with an ASCII capital and a non-ASCII character reached a
/// debug assertion of the ASCII-only IDNA backend (see the workspace Cargo.toml).
#[test]
fn a_host_mixing_capitals_and_non_ascii_is_an_invalid_url() {
    for input in [
        "https://A\u{a1}",
        "https://WWW.b\u{e9}cher.example/wb/mcp",
        "http://A\u{1F600}:8080",
    ] {
        let e = Environment::parse(input).unwrap_err();
        assert!(
            matches!(e.code(), "invalid_url" | "insecure_url" | "invalid_input"),
            "{input}: {e}"
        );
        let mut p = pending_v1();
        assert!(p.handle_redirect(input, T0).is_err(), "{input}");
    }
}

/// Every public entry point that parses input, given a 2 MB string or a token-like secret in
/// any shape (bare, a JSON string, a JSON member of the wrong type or variant, a URL part):
/// the error's message is at most 512 bytes and its hint at most 1024, Display and Debug are
/// as short, none holds more than a short excerpt of the input, and none shows the secret
/// where the input is not a URL, a redirect URI or a server's value (those are shown cut
/// short, as excerpts).
#[test]
fn every_public_entry_point_bounds_its_error_messages() {
    use workboard_core::fuzzing::parse_registration_response;
    use workboard_core::fuzzing::parse_token_body;
    use workboard_core::fuzzing::{parse_initialize_result, parse_list_tools_result};
    use workboard_core::fuzzing::{AuthorizationServerMetadata, ProtectedResourceMetadata};
    use workboard_core::{Dialect, Error, HttpResponse};

    const SECRET: &str = "tok_live_S3CR3T0123456789abcdefXYZ";
    let huge = "x".repeat(2_000_000);
    let mut inputs: Vec<String> = Vec::new();
    for v in [huge.clone(), SECRET.to_string(), format!("{SECRET}{huge}")] {
        inputs.push(v.clone());
        inputs.push(serde_json::to_string(&v).unwrap());
    }
    // In JSON members, 300 KB is as far past every bound and keeps the test quick.
    let big = "x".repeat(300_000);
    for v in [big.clone(), SECRET.to_string(), format!("{SECRET}{big}")] {
        for key in [
            "kind",
            "token",
            "version",
            "issuer",
            "protocolVersion",
            "tools",
        ] {
            inputs.push(json!({ key: v }).to_string());
            inputs.push(json!({ "kind": "oauth", key: [v] }).to_string());
            inputs.push(json!({ "kind": "personal", key: { v.as_str(): 1 } }).to_string());
        }
        inputs.push(json!({ "kind": "personal", "token": 5, "x": v }).to_string());
        inputs.push(json!({ "jsonrpc": "2.0", "id": 1, "result": { "protocolVersion": 5, "serverInfo": v } }).to_string());
    }
    let url_inputs: Vec<String> = vec![
        format!("https://{huge}"),
        format!("https://example.com/{huge}"),
        format!("https://example.com/wb/{huge}"),
        format!("https://app.example/cb?code={SECRET}&state={huge}"),
        format!("https://app.example/cb?error={huge}&error_description={huge}"),
        format!("{huge}://example.com"),
        format!("ftp://example.com/{huge}"),
    ];

    fn check(label: &str, input: &str, e: &Error, secret_free: bool) {
        let info = e.info();
        let shown = [
            info.message.clone(),
            info.hint.clone().unwrap_or_default(),
            e.to_string(),
            format!("{e:?}"),
        ];
        assert!(
            info.message.len() <= 512,
            "{label}: message of {} bytes",
            info.message.len()
        );
        assert!(
            info.hint.as_deref().unwrap_or("").len() <= 1024,
            "{label}: hint too long"
        );
        for s in &shown {
            assert!(s.len() <= 1024, "{label}: {} bytes: {}", s.len(), &s[..200]);
            assert!(!s.contains(&"x".repeat(300)), "{label}: echoes the input");
            if input.len() > 400 {
                assert!(!s.contains(input), "{label}: echoes the input");
            }
            if secret_free {
                assert!(!s.contains(SECRET), "{label}: shows the secret: {s}");
            }
        }
    }
    let mut checked = 0;
    let mut ck = |label: &str, input: &str, r: Result<(), Error>, secret_free: bool| {
        if let Err(e) = r {
            check(label, input, &e, secret_free);
            checked += 1;
        }
    };
    for s in inputs.iter().chain(&url_inputs) {
        let is_url = url_inputs.contains(s);
        let sf = !is_url;
        let b = s.as_bytes();
        ck(
            "Credentials::from_json",
            s,
            Credentials::from_json(s).map(drop),
            true,
        );
        ck("Environment::parse", s, Environment::parse(s).map(drop), sf);
        ck(
            "PendingAuthorization::from_json",
            s,
            PendingAuthorization::from_json(s).map(drop),
            true,
        );
        ck(
            "PendingAuthorization::handle_redirect",
            s,
            pending_v1().handle_redirect(s, T0).map(drop),
            true,
        );
        ck(
            "AuthContext::from_json",
            s,
            AuthContext::from_json(s).map(drop),
            true,
        );
        ck(
            "McpAuthFlow::resume",
            s,
            McpAuthFlow::resume(s).map(drop),
            true,
        );
        ck(
            "Pkce::from_verifier",
            s,
            Pkce::from_verifier(s).map(drop),
            true,
        );
        ck("validate_verifier", s, validate_verifier(s).map(drop), true);
        // A redirect URI mismatch shows both URIs (cut short): that is its point.
        ck(
            "check_redirect_uri",
            s,
            check_redirect_uri("https://app.example/cb", s),
            false,
        );
        let v1 = V1Config::new(Environment::Us, "cid", s.as_str());
        ck(
            "start_authorization",
            s,
            start_authorization(&v1, &mut SeededEntropy::new([1; 32]), T0).map(drop),
            sf,
        );
        let v1 = V1Config::new(Environment::Us, s.as_str(), "https://app.example/cb");
        ck(
            "start_authorization client_id",
            s,
            start_authorization(&v1, &mut SeededEntropy::new([1; 32]), T0).map(drop),
            sf,
        );
        ck(
            "McpAuthFlow::new",
            s,
            McpAuthFlow::new(
                McpAuthConfig::new(s.as_str(), "http://127.0.0.1:8765/cb"),
                &mut SeededEntropy::new([2; 32]),
                T0,
            )
            .map(drop),
            sf,
        );
        ck(
            "McpAuthFlow::new redirect",
            s,
            McpAuthFlow::new(
                McpAuthConfig::new("https://mcp.example/mcp", s.as_str()),
                &mut SeededEntropy::new([2; 32]),
                T0,
            )
            .map(drop),
            sf,
        );
        ck(
            "Connection::new",
            s,
            Connection::new(ConnectionConfig::new(s.as_str())).map(drop),
            sf,
        );
        ck("negotiate", s, negotiate(s).map(drop), false);
        ck(
            "rest::get_request",
            s,
            rest::get_request(
                &Environment::Us,
                &Credentials::personal("t"),
                s,
                RequestId(1),
            )
            .map(drop),
            sf,
        );
        // Server bodies: shown as short excerpts at most (a server's value is not the
        // caller's secret), never whole.
        for status in [200u16, 400, 502] {
            let resp = HttpResponse::new(
                status,
                vec![("Content-Type".into(), "application/json".into())],
                b.to_vec(),
            );
            ck(
                "parse_token_body",
                s,
                parse_token_body(status, b, Dialect::OAuth2, T0, None).map(drop),
                false,
            );
            ck(
                "parse_registration_response",
                s,
                parse_registration_response(&resp).map(drop),
                false,
            );
            ck(
                "rest::parse_response",
                s,
                rest::parse_response(
                    "https://www.myworkboard.com/wb/apis/user",
                    &Environment::Us,
                    &resp,
                )
                .map(drop),
                false,
            );
        }
        ck(
            "ProtectedResourceMetadata::parse",
            s,
            ProtectedResourceMetadata::parse(b).map(drop),
            false,
        );
        ck(
            "AuthorizationServerMetadata::parse",
            s,
            AuthorizationServerMetadata::parse(b).map(drop),
            false,
        );
        if let Ok(v) = serde_json::from_str::<serde_json::Value>(s) {
            ck(
                "parse_initialize_result",
                s,
                parse_initialize_result(v.clone()).map(drop),
                false,
            );
            ck(
                "parse_list_tools_result",
                s,
                parse_list_tools_result(v).map(drop),
                false,
            );
        }
    }
    assert!(checked > 500, "only {checked} errors checked");
}
