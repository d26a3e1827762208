//! Property tests: the OAuth-for-MCP parsers and the flow never panic on hostile input.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use proptest::prelude::*;
use url::Url;
use workboard_core::fuzzing::parse_registration_response;
use workboard_core::fuzzing::{as_metadata_candidates, prm_candidates};
use workboard_core::fuzzing::{parse_bearer, parse_challenges, MAX_CHALLENGES, MAX_PARAMS};
use workboard_core::fuzzing::{
    resource_matches, AuthorizationServerMetadata, ProtectedResourceMetadata,
};
use workboard_core::oauth::flow::{McpAuthConfig, McpAuthFlow};
use workboard_core::oauth::metadata::IssuerPolicy;
use workboard_core::{HttpResponse, SansIo, SeededEntropy};

/// Strings made of the characters that matter to the WWW-Authenticate grammar.
fn header_like() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            Just("Bearer".to_string()),
            Just("Basic".to_string()),
            Just(" ".to_string()),
            Just(",".to_string()),
            Just("=".to_string()),
            Just("\"".to_string()),
            Just("\\".to_string()),
            Just("scope".to_string()),
            Just("resource_metadata".to_string()),
            Just("é".to_string()),
            "[a-z0-9+/._~-]{1,6}",
        ],
        0..80,
    )
    .prop_map(|v| v.concat())
}

/// JSON values with the known metadata field names and random-typed values.
fn metadata_like() -> impl Strategy<Value = String> {
    let key = prop_oneof![
        Just("issuer"),
        Just("resource"),
        Just("authorization_servers"),
        Just("authorization_endpoint"),
        Just("token_endpoint"),
        Just("scopes_supported"),
        Just("code_challenge_methods_supported"),
        Just("client_id_metadata_document_supported"),
        Just("registration_endpoint"),
        Just("other"),
    ];
    let value = prop_oneof![
        Just(serde_json::json!(null)),
        Just(serde_json::json!(true)),
        Just(serde_json::json!(12)),
        Just(serde_json::json!("https://a.example/x")),
        Just(serde_json::json!("javascript:alert(1)")),
        Just(serde_json::json!(["S256", "plain"])),
        Just(serde_json::json!([1, {}])),
        Just(serde_json::json!({"nested": []})),
    ];
    proptest::collection::vec((key, value), 0..10).prop_map(|kv| {
        let mut m = serde_json::Map::new();
        for (k, v) in kv {
            m.insert(k.to_string(), v);
        }
        serde_json::Value::Object(m).to_string()
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn www_authenticate_never_panics_on_any_string(s in any::<String>()) {
        let cs = parse_challenges(&s);
        prop_assert!(cs.len() <= MAX_CHALLENGES);
        let _ = parse_bearer(&s);
    }

    #[test]
    fn www_authenticate_never_panics_on_grammar_soup(s in header_like()) {
        let cs = parse_challenges(&s);
        prop_assert!(cs.len() <= MAX_CHALLENGES);
        for c in &cs {
            prop_assert!(c.params.len() <= MAX_PARAMS);
            prop_assert!(!c.scheme.is_empty());
        }
    }

    #[test]
    fn quoted_values_round_trip(v in "[ -~]{0,40}") {
        let escaped = v.replace('\\', "\\\\").replace('"', "\\\"");
        let b = parse_bearer(&format!("Bearer realm=\"x, y\", scope=\"{escaped}\", error=invalid_token")).unwrap();
        prop_assert_eq!(b.scope.as_deref(), Some(v.as_str()));
        prop_assert_eq!(b.error.as_deref(), Some("invalid_token"));
    }

    #[test]
    fn metadata_parsers_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300), json in metadata_like()) {
        let server = Url::parse("https://mcp.example.com/mcp").unwrap();
        let as_url = Url::parse("https://www.myworkboard.com/wb/oauth").unwrap();
        for body in [bytes.as_slice(), json.as_bytes()] {
            if let Ok(p) = ProtectedResourceMetadata::parse(body) {
                let _ = p.validate(&server);
            }
            if let Ok(m) = AuthorizationServerMetadata::parse(body) {
                let _ = m.validate(&as_url, &IssuerPolicy::default());
            }
            let _ = parse_registration_response(&HttpResponse::new(201, vec![], body.to_vec()));
        }
    }

    #[test]
    fn url_helpers_never_panic(s in any::<String>(), path in "[a-z/]{0,20}") {
        let server = Url::parse(&format!("https://h.example/{path}")).unwrap();
        let _ = resource_matches(&server, &s);
        let _ = prm_candidates(&server, Some(&s));
        let _ = as_metadata_candidates(&server);
    }

    /// The flow with random statuses and bodies: never panics, always ends (event or request
    /// exhausted) within a bounded number of steps.
    #[test]
    fn flow_never_panics_on_random_responses(
        responses in proptest::collection::vec((prop_oneof![Just(200u16), Just(201), Just(401), Just(404), Just(500)], metadata_like()), 1..12),
        www in proptest::option::of(header_like()),
    ) {
        let mut cfg = McpAuthConfig::new("https://mcp.example.com/mcp", "http://127.0.0.1:1/cb");
        cfg.www_authenticate = www;
        let mut flow = McpAuthFlow::new(cfg, &mut SeededEntropy::new([1; 32]), 0).unwrap();
        let mut steps = 0;
        let mut it = responses.into_iter().cycle();
        while let Some(req) = flow.poll_request() {
            steps += 1;
            prop_assert!(steps < 40);
            let (status, body) = it.next().unwrap();
            flow.handle_response(req.id, Ok(HttpResponse::new(status, vec![], body)), 0);
        }
        let _ = flow.handle_redirect("code=x&state=y", 0);
        while flow.poll_event().is_some() {}
    }
}
