//! Property tests: the redirect and token-response parsers never panic, and keep their
//! security properties, whatever they are given.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use proptest::prelude::*;
use workboard_core::fuzzing::parse_authorization_response;
use workboard_core::fuzzing::parse_token_body;
use workboard_core::oauth::pending::PendingAuthorization;
use workboard_core::oauth::v1::{handle_revoke_response, start_authorization, V1Config};
use workboard_core::testing::T0;
use workboard_core::{Dialect, Environment, Error, HttpResponse, SecretString, SeededEntropy};

fn sent_revoke() -> workboard_core::HttpRequest {
    workboard_core::fuzzing::revoke_request(
        &Environment::Us,
        &workboard_core::Credentials::personal("TOKEN-0000"),
        workboard_core::RequestId(1),
    )
}

fn pending() -> PendingAuthorization {
    let cfg = V1Config::new(Environment::Us, "cid", "https://app.example/cb");
    start_authorization(&cfg, &mut SeededEntropy::new([3; 32]), T0)
        .unwrap()
        .1
}

/// Pieces that make inputs look like real redirects, so the search reaches deep paths.
fn redirect_like() -> impl Strategy<Value = String> {
    let key = prop::sample::select(vec![
        "code",
        "state",
        "error",
        "error_message",
        "error_description",
        "iss",
        "success",
        "x",
    ]);
    let value = prop_oneof![
        Just("STATE".to_string()),
        "[ -~]{0,12}",
        "%[0-9A-Fa-f]{0,2}",
        Just(String::new()),
    ];
    let prefix = prop::sample::select(vec![
        "https://app.example/cb?",
        "https://app.example/cb#",
        "https://evil.example/cb?",
        "?",
        "#",
        "",
        "app.example/cb?",
        "com.example:/cb?",
    ]);
    (prefix, prop::collection::vec((key, value), 0..6)).prop_map(|(p, kvs)| {
        let q: Vec<String> = kvs.into_iter().map(|(k, v)| format!("{k}={v}")).collect();
        format!("{p}{}", q.join("&"))
    })
}

fn json_like() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::Bool),
        any::<i64>().prop_map(|n| serde_json::json!(n)),
        any::<f64>().prop_map(|f| serde_json::json!(f)),
        "[ -~]{0,10}".prop_map(serde_json::Value::String),
        Just(serde_json::json!("bearer")),
        Just(serde_json::json!("STATE")),
    ];
    let key = prop::sample::select(vec![
        "success",
        "code",
        "state",
        "error",
        "error_message",
        "access_token",
        "token_type",
        "expires_in",
        "refresh_token",
        "scope",
        "error_description",
    ]);
    prop::collection::vec((key, leaf), 0..8).prop_map(|kvs| {
        let parts: Vec<String> = kvs
            .into_iter()
            .map(|(k, v)| format!("{}:{}", serde_json::json!(k), v))
            .collect();
        format!("{{{}}}", parts.join(","))
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn handle_redirect_never_panics_on_arbitrary_text(input in any::<String>(), dt in 0u64..600_000) {
        let mut p = pending();
        let _ = p.handle_redirect(&input, T0 + dt);
        let _ = parse_authorization_response(&input, "https://app.example/cb");
        prop_assert!(!p.is_completed() || input.contains(p.state.expose()));
    }

    #[test]
    fn handle_redirect_is_safe_on_redirect_like_input(raw in prop_oneof![redirect_like(), json_like()], dt in 0u64..400_000) {
        let mut p = pending();
        let state = p.state.expose().to_string();
        let input = raw.replace("STATE", &state);
        let result = p.handle_redirect(&input, T0 + dt);
        // Security properties: only an authentic response (right state) consumes it, and a
        // code is only ever returned for the right state, before expiry.
        if !input.contains(&state) {
            prop_assert!(!p.is_completed());
            prop_assert!(result.is_err());
        }
        if result.is_ok() {
            prop_assert!(dt < 300_000);
            prop_assert!(p.is_completed());
        }
        if let Err(e) = &result {
            let text = format!("{e:?} {e} {:?}", e.hint());
            prop_assert!(!text.contains(&state));
            if matches!(e, Error::StateMismatch | Error::StateMissing | Error::RedirectUriMismatch { .. }) {
                prop_assert!(!p.is_completed());
            }
        }
    }

    #[test]
    fn parse_token_body_never_panics(status in 100u16..600, body in prop::collection::vec(any::<u8>(), 0..256), v1 in any::<bool>()) {
        let d = if v1 { Dialect::WorkboardV1 } else { Dialect::OAuth2 };
        let _ = parse_token_body(status, &body, d, T0, None);
        let _ = handle_revoke_response(&sent_revoke(), &HttpResponse::new(status, vec![], body));
    }

    #[test]
    fn parse_token_body_on_json_like_bodies(status in prop::sample::select(vec![200u16, 201, 400, 401, 500]), body in json_like(), v1 in any::<bool>()) {
        let d = if v1 { Dialect::WorkboardV1 } else { Dialect::OAuth2 };
        let prev = SecretString::new("PREVIOUS");
        match parse_token_body(status, body.as_bytes(), d, T0, Some(&prev)) {
            Ok(set) => {
                prop_assert!((200..300).contains(&status));
                prop_assert!(!set.access_token.expose().trim().is_empty());
                prop_assert!(set.token_type.eq_ignore_ascii_case("bearer"));
                prop_assert!(set.refresh_token.is_some(), "previous refresh token kept");
                prop_assert_eq!(set.issued_at_ms, T0);
                if d == Dialect::WorkboardV1 {
                    prop_assert!(set.expires_at_ms.is_some());
                }
            }
            Err(e) => {
                let text = format!("{e:?} {e}");
                prop_assert!(!text.contains("PREVIOUS"));
            }
        }
        let _ = handle_revoke_response(&sent_revoke(), &HttpResponse::new(status, vec![], body));
    }

    #[test]
    fn pending_from_json_never_panics(input in prop_oneof![any::<String>(), json_like()]) {
        let _ = PendingAuthorization::from_json(&input);
    }
}
