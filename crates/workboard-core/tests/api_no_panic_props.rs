//! Property tests: every public entry point that takes text from a user, an app or a server
//! returns (a value or a typed error) for any input and never panics. The parsers behind them
//! have fuzz targets (fuzz/); these go through the API an app calls, with inputs built from
//! pieces that reach deep paths (schemes, `Bearer `, query syntax, JSON punctuation) mixed
//! with multi-byte characters, so that byte offsets fall inside characters. A panic here is a
//! trapped wasm instance, an aborted mobile call or a crashed CLI.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;
use serde_json::json;
use workboard_core::aiconfig::{self, lint::lint, AiClient};
use workboard_core::connection::{Connection, ConnectionConfig};
use workboard_core::credentials::strip_bearer;
use workboard_core::diagnose::{parse_node_version, probe_plan, Doctor, DoctorParams};
use workboard_core::error::{check_redirect_uri, first_difference};
use workboard_core::http::redact_url;
use workboard_core::mcp::jsonrpc::negotiate;
use workboard_core::oauth::flow::{AuthContext, McpAuthConfig, McpAuthFlow};
use workboard_core::oauth::pending::PendingAuthorization;
use workboard_core::oauth::pkce::{validate_verifier, Pkce};
use workboard_core::oauth::v1::{start_authorization, V1Config};
use workboard_core::oauth::www_authenticate::{parse_bearer, parse_challenges};
use workboard_core::{rest, Credentials, Environment, RequestId, SecretString, SeededEntropy};

const T0: u64 = 1_764_000_000_000;

/// Text made of pieces that steer parsers into their deeper paths.
fn tricky() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        prop::sample::select(vec![
            "Bearer ",
            "bearer",
            "https://",
            "http://",
            "127.0.0.1",
            "localhost",
            ":8080",
            "/",
            "/wb/mcp",
            "/wb",
            "?",
            "#",
            "&",
            "=",
            "%",
            "%zz",
            "%C3%A9",
            "@",
            "[::1]",
            "\"",
            "{",
            "}",
            "[",
            "]",
            ",",
            ":",
            "\\",
            "code=",
            "state=",
            "error=",
            "realm=",
            "scope=\"",
            "resource_metadata=",
            "us",
            "eu",
            "\u{e9}",
            "\u{FFFD}",
            "\u{1F600}",
            "\u{200B}",
            "\0",
            "\r\n",
            " ",
            "\t",
            "{\"kind\":\"oauth\"",
            "{\"kind\":\"personal\",\"token\":",
            "true",
            "null",
            "2025-11-25",
            "mcpServers",
            "Authorization",
            "Authorisation",
            "npx",
            "mcp-remote",
            "v18.",
            "1.2.3",
        ])
        .prop_map(str::to_string),
        any::<char>().prop_map(String::from),
        "[a-z0-9]{1,8}",
    ];
    prop::collection::vec(piece, 0..24).prop_map(|v| v.concat())
}

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

    #[test]
    fn config_and_doctor_inputs(s in tricky()) {
        let _ = AiClient::parse(&s);
        let _ = aiconfig::mask_secret(&s);
        let _ = lint(&s);
        let _ = aiconfig::lint::detect(&s);
        let _ = aiconfig::jsonc::parse(&s);
        let _ = parse_node_version(&s);
        let _ = probe_plan(&s, None);
        let _ = probe_plan(&s, Some(&SecretString::new(s.as_str())));
        let _ = Doctor::new(DoctorParams::for_url(&s));
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
