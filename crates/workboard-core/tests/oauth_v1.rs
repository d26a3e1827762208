//! WorkBoard OAuth v1 scenarios: a scripted server, a simulated clock, every path of the
//! sign-in (authorize URL, redirect, code exchange, revocation) and its failures.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::VecDeque;

use serde_json::json;
use workboard_core::credentials::V1_TOKEN_LIFETIME_MS;
use workboard_core::fuzzing::parse_token_response;
use workboard_core::fuzzing::{
    checked_exchange_request, exchange_request, exchange_request_from_parts,
    handle_exchange_response, revoke_request,
};
use workboard_core::oauth::pending::{
    AuthorizationCode, PendingAuthorization, PendingParams, DEFAULT_OAUTH2_LIFETIME_MS,
    V1_CODE_LIFETIME_MS,
};
use workboard_core::oauth::v1::{
    handle_revoke_response, start_authorization, RevokeOutcome, V1Config, V1Outcome, V1SignIn,
};
use workboard_core::testing::{ScriptedTransport, SimClock, T0};
use workboard_core::{
    drive, Credentials, Dialect, Environment, Error, HttpRequest, HttpResponse, Method, RequestId,
    SansIo, SecretString, SeededEntropy, TransportError,
};

const REDIRECT: &str = "https://app.example/cb";
const MARKER: &str = "SECRETMARKER";

/// An exchange request as sent (for the stateless response handlers).
fn sent_exchange() -> HttpRequest {
    exchange_request_from_parts(
        &Environment::Us,
        "cid",
        &SecretString::new("HASH-0000"),
        &SecretString::new("CODE-0000"),
        REDIRECT,
        RequestId(1),
    )
}

/// A revocation request as sent.
fn sent_revoke() -> HttpRequest {
    revoke_request(
        &Environment::Us,
        &Credentials::personal("TOKEN-0000"),
        RequestId(1),
    )
}

fn config() -> V1Config {
    V1Config::new(Environment::Us, "cid", REDIRECT)
}

fn entropy() -> SeededEntropy {
    SeededEntropy::new([9; 32])
}

fn start(cfg: &V1Config) -> (String, PendingAuthorization) {
    start_authorization(cfg, &mut entropy(), T0).unwrap()
}

fn redirect_with(pending: &PendingAuthorization, code: &str) -> String {
    format!("{REDIRECT}?code={code}&state={}", pending.state.expose())
}

fn ok_token(token_type: &str) -> HttpResponse {
    HttpResponse::json(
        200,
        &json!({"success": true, "access_token": format!("{MARKER}-token"), "scope": "all", "token_type": token_type}),
    )
}

/// A transport answering with `responses` in order (then a transport error), recording
/// what was sent.
fn script(responses: Vec<Result<HttpResponse, TransportError>>) -> ScriptedTransport {
    let mut responses = VecDeque::from(responses);
    ScriptedTransport::new(move |_| {
        responses
            .pop_front()
            .unwrap_or(Err(TransportError::Other("unscripted".into())))
    })
}

fn assert_no_marker(what: &str, text: &str) {
    assert!(!text.contains(MARKER), "{what} leaks a secret: {text}");
}

// ---------------------------------------------------------------- authorize URL

#[test]
fn authorize_url_has_documented_parameters_in_order() {
    let mut cfg = config();
    cfg.scopes = vec!["goals".into(), "metrics".into()];
    let (url, pending) = start(&cfg);
    let state = pending.state.expose();
    assert_eq!(state.len(), 43, "32 random bytes, base64url");
    assert_eq!(
        url,
        format!(
            "https://www.myworkboard.com/wb/oauth/authorize?client_id=cid&redirect_uri=https%3A%2F%2Fapp.example%2Fcb&scope=goals%2Cmetrics&state={state}"
        )
    );
    assert_eq!(pending.dialect, Dialect::WorkboardV1);
    assert_eq!(pending.expires_at_ms, T0 + V1_CODE_LIFETIME_MS);
    assert_eq!(
        pending.token_endpoint,
        "https://www.myworkboard.com/wb/oauth/token"
    );
    assert_eq!(
        pending.scopes,
        vec!["goals".to_string(), "metrics".to_string()]
    );
}

#[test]
fn authorize_url_omits_empty_scope_and_adds_json_code_on_request() {
    let (url, _) = start(&config());
    assert!(!url.contains("scope="), "{url}");
    assert!(!url.contains("response_type"), "{url}");
    let mut cfg = config();
    cfg.json_code = true;
    cfg.environment = Environment::Eu;
    let (url, _) = start(&cfg);
    assert!(
        url.starts_with("https://www.myworkboard.eu/wb/oauth/authorize?"),
        "{url}"
    );
    assert!(url.ends_with("&response_type=json_code"), "{url}");
}

#[test]
fn redirect_uri_is_sent_exactly_as_configured() {
    // Not normalized: upper-case host, explicit default port and trailing slash stay as written,
    // because WorkBoard matches the registered URI character for character.
    let cfg = V1Config::new(Environment::Us, "cid", "https://App.Example:443/cb/");
    let (url, pending) = start(&cfg);
    assert!(
        url.contains("redirect_uri=https%3A%2F%2FApp.Example%3A443%2Fcb%2F&"),
        "{url}"
    );
    assert_eq!(pending.redirect_uri, "https://App.Example:443/cb/");
}

#[test]
fn different_entropy_gives_different_state() {
    let (_, a) = start_authorization(&config(), &mut SeededEntropy::new([1; 32]), T0).unwrap();
    let (_, b) = start_authorization(&config(), &mut SeededEntropy::new([2; 32]), T0).unwrap();
    assert_ne!(a.state.expose(), b.state.expose());
}

#[test]
fn config_validation() {
    let bad = |f: &dyn Fn(&mut V1Config)| {
        let mut c = config();
        f(&mut c);
        start_authorization(&c, &mut entropy(), T0)
            .unwrap_err()
            .code()
    };
    assert_eq!(bad(&|c| c.client_id = "  ".into()), "invalid_input");
    assert_eq!(bad(&|c| c.redirect_uri = "/cb".into()), "invalid_url");
    assert_eq!(
        bad(&|c| c.redirect_uri = "https://app.example/cb#frag".into()),
        "invalid_url"
    );
    assert_eq!(
        bad(&|c| c.redirect_uri = "http://app.example/cb".into()),
        "insecure_url"
    );
    assert_eq!(bad(&|c| c.scopes = vec!["a,b".into()]), "invalid_input");
    assert_eq!(bad(&|c| c.scopes = vec!["a b".into()]), "invalid_input");
    assert_eq!(bad(&|c| c.scopes = vec!["".into()]), "invalid_input");
    assert_eq!(
        bad(&|c| c.environment = Environment::Custom("http://wb.example".into())),
        "insecure_url"
    );
    // Loopback http and private-use schemes (mobile apps) are fine.
    let mut c = config();
    c.redirect_uri = "http://127.0.0.1:8123/callback".into();
    assert!(start_authorization(&c, &mut entropy(), T0).is_ok());
    c.redirect_uri = "com.example.app:/oauth".into();
    assert!(start_authorization(&c, &mut entropy(), T0).is_ok());
}

// ---------------------------------------------------------------- happy paths

#[test]
fn happy_path_redirect_exchange_and_credentials() {
    let (_, mut pending) = start(&config());
    let code = pending
        .handle_redirect(&redirect_with(&pending, "CODE1"), T0 + 20_000)
        .unwrap();
    assert_eq!(code.code.expose(), "CODE1");
    assert_eq!(code.received_at_ms, T0 + 20_000);
    assert_eq!(code.expires_at_ms, Some(T0 + 20_000 + V1_CODE_LIFETIME_MS));

    let req =
        checked_exchange_request(&code, &SecretString::new("HASH"), RequestId(5), T0 + 21_000)
            .unwrap();
    assert_eq!(req.id, RequestId(5));
    assert_eq!(req.method, Method::Post);
    assert_eq!(req.url, "https://www.myworkboard.com/wb/oauth/token");
    assert_eq!(
        req.headers,
        vec![
            (
                "Content-Type".to_string(),
                "application/x-www-form-urlencoded".to_string()
            ),
            ("Accept".to_string(), "application/json".to_string())
        ]
    );
    assert_eq!(
        String::from_utf8(req.body.clone()).unwrap(),
        "client_id=cid&client_hash=HASH&code=CODE1&redirect_uri=https%3A%2F%2Fapp.example%2Fcb"
    );

    let creds =
        handle_exchange_response(&sent_exchange(), &ok_token("bearer"), T0 + 22_000).unwrap();
    let Credentials::OAuth(set) = &creds else {
        panic!("oauth credentials expected")
    };
    assert_eq!(set.access_token.expose(), format!("{MARKER}-token"));
    assert_eq!(set.token_type, "bearer");
    assert_eq!(set.scope.as_deref(), Some("all"));
    assert_eq!(set.issued_at_ms, T0 + 22_000);
    assert_eq!(
        set.expires_at_ms,
        Some(T0 + 22_000 + V1_TOKEN_LIFETIME_MS),
        "one year"
    );
    assert_eq!(set.refresh_token, None);
    assert_eq!(set.dialect, Dialect::WorkboardV1);
    assert_eq!(
        creds.authorization_header().expose(),
        format!("Bearer {MARKER}-token")
    );
}

#[test]
fn exchange_from_parts_equals_exchange_from_code() {
    let (_, mut pending) = start(&config());
    let code = pending
        .handle_redirect(&redirect_with(&pending, "C"), T0)
        .unwrap();
    let hash = SecretString::new("H");
    let a = exchange_request(&code, &hash, RequestId(1));
    let b = exchange_request_from_parts(
        &Environment::Us,
        "cid",
        &hash,
        &SecretString::new("C"),
        REDIRECT,
        RequestId(1),
    );
    assert_eq!(a, b);
}

#[test]
fn json_code_success_and_error_bodies() {
    let mut cfg = config();
    cfg.json_code = true;
    let (_, mut pending) = start(&cfg);
    let body = json!({"success": true, "code": "JC", "state": pending.state.expose()}).to_string();
    assert_eq!(
        pending
            .handle_redirect(&body, T0 + 1)
            .unwrap()
            .code
            .expose(),
        "JC"
    );

    let (_, mut pending) = start(&cfg);
    let body =
        json!({"success": false, "error": "invalid_scope", "error_message": "Unknown scope: okrs",
        "state": pending.state.expose()})
        .to_string();
    let e = pending.handle_redirect(&body, T0 + 1).unwrap_err();
    assert_eq!(
        e,
        Error::AuthorizationDenied {
            error: "invalid_scope".into(),
            description: Some("Unknown scope: okrs".into())
        }
    );
    assert!(
        pending.is_completed(),
        "an authentic error ends the authorization"
    );
}

#[test]
fn token_type_is_case_insensitive_and_defaults_to_bearer() {
    for t in ["bearer", "Bearer", "BEARER"] {
        let c = handle_exchange_response(&sent_exchange(), &ok_token(t), T0).unwrap();
        assert!(
            matches!(c, Credentials::OAuth(ref s) if s.token_type == t),
            "{t}"
        );
    }
    let no_type = HttpResponse::json(200, &json!({"success": true, "access_token": "A"}));
    let Credentials::OAuth(set) = handle_exchange_response(&sent_exchange(), &no_type, T0).unwrap()
    else {
        panic!()
    };
    assert_eq!(set.token_type, "bearer");
    assert_eq!(set.scope, None);
    let mac = HttpResponse::json(
        200,
        &json!({"success": true, "access_token": "A", "token_type": "mac"}),
    );
    assert_eq!(
        handle_exchange_response(&sent_exchange(), &mac, T0).unwrap_err(),
        Error::UnsupportedTokenType("mac".into())
    );
}

#[test]
fn expires_in_wins_over_the_one_year_default() {
    let r = HttpResponse::json(
        200,
        &json!({"success": true, "access_token": "A", "expires_in": "3600"}),
    );
    let c = handle_exchange_response(&sent_exchange(), &r, T0).unwrap();
    assert_eq!(c.expires_at_ms(), Some(T0 + 3_600_000));
    let r = HttpResponse::json(
        200,
        &json!({"success": true, "access_token": "A", "expires_in": 7200}),
    );
    assert_eq!(
        handle_exchange_response(&sent_exchange(), &r, T0)
            .unwrap()
            .expires_at_ms(),
        Some(T0 + 7_200_000)
    );
    let r = HttpResponse::json(
        200,
        &json!({"success": true, "access_token": "A", "expires_in": "soon"}),
    );
    assert_eq!(
        handle_exchange_response(&sent_exchange(), &r, T0)
            .unwrap_err()
            .code(),
        "invalid_response"
    );
}

// ---------------------------------------------------------------- state

#[test]
fn tampered_and_missing_state_do_not_consume_the_pending_authorization() {
    let (_, mut pending) = start(&config());
    let forged = format!("{REDIRECT}?code=EVIL&state=forged");
    assert_eq!(
        pending.handle_redirect(&forged, T0).unwrap_err(),
        Error::StateMismatch
    );
    // Same length, one character off.
    let mut near = pending.state.expose().to_string();
    let last = if near.ends_with('A') { "B" } else { "A" };
    near.replace_range(near.len() - 1.., last);
    let e = pending
        .handle_redirect(&format!("{REDIRECT}?code=EVIL&state={near}"), T0)
        .unwrap_err();
    assert_eq!(e, Error::StateMismatch);
    assert_eq!(
        pending
            .handle_redirect(&format!("{REDIRECT}?code=EVIL"), T0)
            .unwrap_err(),
        Error::StateMissing
    );
    assert_eq!(
        pending
            .handle_redirect(&format!("{REDIRECT}?code=EVIL&state="), T0)
            .unwrap_err(),
        Error::StateMismatch
    );
    assert!(!pending.is_completed());
    assert!(e.hint().unwrap().contains("CSRF"));
    // The genuine redirect still completes it.
    let code = pending
        .handle_redirect(&redirect_with(&pending, "GOOD"), T0)
        .unwrap();
    assert_eq!(code.code.expose(), "GOOD");
}

#[test]
fn replayed_redirect_is_refused() {
    let (_, mut pending) = start(&config());
    let input = redirect_with(&pending, "C");
    pending.handle_redirect(&input, T0).unwrap();
    assert_eq!(
        pending.handle_redirect(&input, T0).unwrap_err(),
        Error::AuthorizationReused
    );
    // Also after a round trip through storage.
    let mut restored = PendingAuthorization::from_json(&pending.to_json()).unwrap();
    assert_eq!(
        restored.handle_redirect(&input, T0).unwrap_err(),
        Error::AuthorizationReused
    );
}

#[test]
fn duplicate_parameters_are_refused_without_consuming() {
    let (_, mut pending) = start(&config());
    let s = pending.state.expose().to_string();
    for input in [
        format!("{REDIRECT}?code=A&code=B&state={s}"),
        format!("{REDIRECT}?code=A&state={s}&state={s}"),
        format!(r#"{{"success":true,"code":"A","code":"B","state":"{s}"}}"#),
    ] {
        let e = pending.handle_redirect(&input, T0).unwrap_err();
        assert_eq!(e.code(), "invalid_response", "{input}");
    }
    assert!(!pending.is_completed());
}

#[test]
fn oversized_and_malformed_inputs_are_typed_errors() {
    let (_, mut pending) = start(&config());
    let huge = format!("{}&state={}", "x".repeat(70_000), pending.state.expose());
    assert_eq!(
        pending.handle_redirect(&huge, T0).unwrap_err().code(),
        "response_too_large"
    );
    assert_eq!(
        pending
            .handle_redirect("{\"success\":tru", T0)
            .unwrap_err()
            .code(),
        "invalid_response"
    );
    assert_eq!(
        pending.handle_redirect("[1,2]", T0).unwrap_err().code(),
        "state_missing"
    );
    assert_eq!(
        pending
            .handle_redirect("{\"state\":5}", T0)
            .unwrap_err()
            .code(),
        "invalid_response"
    );
    assert_eq!(
        pending.handle_redirect("", T0).unwrap_err().code(),
        "state_missing"
    );
    assert!(!pending.is_completed());
    // Correct state but no code and no error.
    let s = pending.state.expose().to_string();
    assert_eq!(
        pending
            .handle_redirect(&format!("state={s}"), T0)
            .unwrap_err(),
        Error::CodeMissing
    );
}

#[test]
fn fragment_and_bare_query_forms_are_accepted() {
    for form in [
        "#code=C&state={S}",
        "code=C&state={S}",
        "?code=C&state={S}",
        "https://app.example/cb#code=C&state={S}",
    ] {
        let (_, mut pending) = start(&config());
        let input = form.replace("{S}", pending.state.expose());
        assert_eq!(
            pending.handle_redirect(&input, T0).unwrap().code.expose(),
            "C",
            "{form}"
        );
    }
}

// ---------------------------------------------------------------- expiry

#[test]
fn authorization_older_than_five_minutes_is_refused() {
    let (_, mut pending) = start(&config());
    let input = redirect_with(&pending, "C");
    let e = pending
        .handle_redirect(&input, T0 + V1_CODE_LIFETIME_MS)
        .unwrap_err();
    assert_eq!(
        e,
        Error::AuthorizationExpired {
            age_secs: 300,
            limit_secs: 300
        }
    );
    assert!(e.hint().unwrap().contains("5 minutes"));
    // One millisecond earlier it works.
    let (_, mut pending) = start(&config());
    let input = redirect_with(&pending, "C");
    assert!(pending
        .handle_redirect(&input, T0 + V1_CODE_LIFETIME_MS - 1)
        .is_ok());
}

#[test]
fn code_received_more_than_five_minutes_ago_is_not_sent() {
    let (_, mut pending) = start(&config());
    let received = T0 + 60_000;
    let code = pending
        .handle_redirect(&redirect_with(&pending, "C"), received)
        .unwrap();
    let hash = SecretString::new("H");
    assert!(checked_exchange_request(
        &code,
        &hash,
        RequestId(1),
        received + V1_CODE_LIFETIME_MS - 1
    )
    .is_ok());
    let e = checked_exchange_request(&code, &hash, RequestId(1), received + V1_CODE_LIFETIME_MS)
        .unwrap_err();
    assert_eq!(
        e,
        Error::AuthorizationExpired {
            age_secs: 300,
            limit_secs: 300
        }
    );

    // The machine queues nothing either.
    let mut m = V1SignIn::new(config(), hash).unwrap();
    let e = m.exchange_code(&code, received + 301_000).unwrap_err();
    assert_eq!(e.code(), "authorization_expired");
    assert!(m.poll_request().is_none());
    assert!(!m.is_busy());
}

// ---------------------------------------------------------------- redirect URI

#[test]
fn redirect_to_another_uri_shows_both_and_where_they_differ() {
    let (_, mut pending) = start(&config());
    let s = pending.state.expose().to_string();
    let e = pending
        .handle_redirect(&format!("https://app.example/cb/?code=C&state={s}"), T0)
        .unwrap_err();
    assert_eq!(
        e,
        Error::RedirectUriMismatch {
            expected: "https://app.example/cb".into(),
            actual: "https://app.example/cb/".into(),
            differs_at: 22
        }
    );
    let hint = e.hint().unwrap();
    assert!(
        hint.contains("registered: https://app.example/cb\n"),
        "{hint}"
    );
    assert!(
        hint.contains("used:       https://app.example/cb/\n"),
        "{hint}"
    );
    assert_eq!(
        hint.lines().last().unwrap().find('^'),
        Some(14 + 22),
        "{hint}"
    );
    let e = pending
        .handle_redirect(&format!("https://evil.example/cb?code=C&state={s}"), T0)
        .unwrap_err();
    assert_eq!(e.code(), "redirect_uri_mismatch");
    assert!(
        !pending.is_completed(),
        "a redirect elsewhere does not consume"
    );
    // Scheme and host case and default port are normalized by the browser: still the same URI.
    assert!(pending
        .handle_redirect(&format!("HTTPS://APP.EXAMPLE:443/cb?code=C&state={s}"), T0)
        .is_ok());
}

#[test]
fn redirect_uri_with_its_own_query_matches() {
    let cfg = V1Config::new(Environment::Us, "cid", "https://app.example/cb?tenant=7");
    let (_, mut pending) = start(&cfg);
    let input = format!(
        "https://app.example/cb?tenant=7&code=C&state={}",
        pending.state.expose()
    );
    assert_eq!(
        pending.handle_redirect(&input, T0).unwrap().code.expose(),
        "C"
    );
}

// ---------------------------------------------------------------- error redirects

#[test]
fn invalid_client_id_and_invalid_scope_redirects() {
    for (error, hint_part) in [
        ("invalid_client_id", "Client ID"),
        ("invalid_scope", "comma-separated"),
    ] {
        let (_, mut pending) = start(&config());
        let input = format!(
            "{REDIRECT}?error={error}&error_message=Something+went+wrong&state={}",
            pending.state.expose()
        );
        let e = pending.handle_redirect(&input, T0).unwrap_err();
        assert_eq!(
            e,
            Error::AuthorizationDenied {
                error: error.into(),
                description: Some("Something went wrong".into())
            }
        );
        assert_eq!(e.code(), "authorization_denied");
        assert!(e.hint().unwrap().contains(hint_part), "{error}");
        assert!(e.to_string().contains("Something went wrong"));
        assert_eq!(
            pending.handle_redirect(&input, T0).unwrap_err(),
            Error::AuthorizationReused
        );
    }
}

#[test]
fn error_description_is_cut_and_stripped_of_control_characters() {
    let (_, mut pending) = start(&config());
    let long = "A%0A".repeat(500);
    let input = format!(
        "error=access_denied&error_description={long}&state={}",
        pending.state.expose()
    );
    let Error::AuthorizationDenied {
        description: Some(d),
        ..
    } = pending.handle_redirect(&input, T0).unwrap_err()
    else {
        panic!()
    };
    assert!(!d.contains('\n'));
    assert!(d.chars().count() <= 301);
}

// ---------------------------------------------------------------- token endpoint failures

#[test]
fn success_false_is_a_token_endpoint_error() {
    let r = HttpResponse::json(
        200,
        &json!({"success": false, "error": "invalid_grant", "error_message": "The code expired"}),
    );
    let e = handle_exchange_response(&sent_exchange(), &r, T0).unwrap_err();
    assert_eq!(
        e,
        Error::TokenEndpoint {
            status: 200,
            error: "invalid_grant".into(),
            description: Some("The code expired".into())
        }
    );
    assert!(e.hint().unwrap().contains("redirect URI"));
    let r = HttpResponse::json(
        400,
        &json!({"success": false, "error": "invalid_client", "error_description": "bad hash"}),
    );
    let e = handle_exchange_response(&sent_exchange(), &r, T0).unwrap_err();
    assert_eq!(e.code(), "token_endpoint_error");
    assert!(e.hint().unwrap().contains("Client Hash"));
    let r = HttpResponse::json(200, &json!({"success": false}));
    assert!(
        matches!(handle_exchange_response(&sent_exchange(), &r, T0).unwrap_err(), Error::TokenEndpoint { ref error, .. } if error == "unknown_error")
    );
}

#[test]
fn html_error_page_is_described_not_echoed() {
    let page = format!(
        "<!DOCTYPE html><html><head><title>503 Service Unavailable</title></head><body>{MARKER} maintenance</body></html>"
    );
    let r = HttpResponse::new(
        503,
        vec![("Content-Type".into(), "text/html".into())],
        page.clone(),
    );
    let e = handle_exchange_response(&sent_exchange(), &r, T0).unwrap_err();
    assert_eq!(e.code(), "http_status");
    let msg = e.to_string();
    assert!(
        msg.contains("503") && msg.contains("HTML") && msg.contains("Service Unavailable"),
        "{msg}"
    );
    assert_no_marker("error", &msg);
    // The same page with a 200 status.
    let r = HttpResponse::new(200, vec![], page);
    let e = handle_exchange_response(&sent_exchange(), &r, T0).unwrap_err();
    assert_eq!(e.code(), "invalid_response");
    assert_no_marker("error", &e.to_string());
    // Plain text.
    let r = HttpResponse::new(500, vec![], format!("internal error {MARKER}"));
    let e = handle_exchange_response(&sent_exchange(), &r, T0).unwrap_err();
    assert_eq!(e.code(), "http_status");
    assert_no_marker("error", &e.to_string());
}

#[test]
fn truncated_empty_and_non_object_json() {
    let r = HttpResponse::new(
        200,
        vec![],
        format!(r#"{{"success":true,"access_token":"{MARKER}"#),
    );
    let e = handle_exchange_response(&sent_exchange(), &r, T0).unwrap_err();
    assert_eq!(e.code(), "invalid_response");
    assert!(e.to_string().contains("truncated"), "{e}");
    assert_no_marker("error", &e.to_string());
    assert_eq!(
        handle_exchange_response(&sent_exchange(), &HttpResponse::new(200, vec![], ""), T0)
            .unwrap_err()
            .code(),
        "invalid_response"
    );
    assert_eq!(
        handle_exchange_response(&sent_exchange(), &HttpResponse::new(200, vec![], "[]"), T0)
            .unwrap_err()
            .code(),
        "invalid_response"
    );
    let missing = HttpResponse::json(200, &json!({"success": true, "scope": "all"}));
    assert_eq!(
        handle_exchange_response(&sent_exchange(), &missing, T0)
            .unwrap_err()
            .code(),
        "invalid_response"
    );
    let empty = HttpResponse::json(200, &json!({"success": true, "access_token": " "}));
    assert_eq!(
        handle_exchange_response(&sent_exchange(), &empty, T0)
            .unwrap_err()
            .code(),
        "invalid_response"
    );
    let wrong = HttpResponse::json(200, &json!({"success": true, "access_token": 12}));
    assert_eq!(
        handle_exchange_response(&sent_exchange(), &wrong, T0)
            .unwrap_err()
            .code(),
        "invalid_response"
    );
}

#[test]
fn huge_body_is_refused() {
    let body = format!(
        r#"{{"success":true,"access_token":"A","pad":"{}"}}"#,
        "x".repeat(1024 * 1024)
    );
    let e = handle_exchange_response(&sent_exchange(), &HttpResponse::new(200, vec![], body), T0)
        .unwrap_err();
    assert_eq!(
        e,
        Error::ResponseTooLarge {
            what: "token response".into(),
            limit: 1024 * 1024
        }
    );
}

#[test]
fn oauth2_dialect_rotation_and_error_description() {
    let prev = SecretString::new("R1");
    let r = HttpResponse::json(200, &json!({"access_token": "A", "token_type": "Bearer"}));
    let set = parse_token_response(&r, Dialect::OAuth2, T0, Some(&prev)).unwrap();
    assert_eq!(
        set.refresh_token.as_ref().map(|r| r.expose()),
        Some("R1"),
        "kept"
    );
    assert_eq!(set.expires_at_ms, None);
    let r = HttpResponse::json(
        200,
        &json!({"access_token": "A", "token_type": "Bearer", "refresh_token": "R2", "expires_in": 60}),
    );
    let set = parse_token_response(&r, Dialect::OAuth2, T0, Some(&prev)).unwrap();
    assert_eq!(
        set.refresh_token.as_ref().map(|r| r.expose()),
        Some("R2"),
        "rotated"
    );
    assert_eq!(set.expires_at_ms, Some(T0 + 60_000));
    let r = HttpResponse::json(
        400,
        &json!({"error": "invalid_grant", "error_description": "used"}),
    );
    assert_eq!(
        parse_token_response(&r, Dialect::OAuth2, T0, None).unwrap_err(),
        Error::TokenEndpoint {
            status: 400,
            error: "invalid_grant".into(),
            description: Some("used".into())
        }
    );
    let r = HttpResponse::json(500, &json!({"unexpected": true}));
    assert_eq!(
        parse_token_response(&r, Dialect::OAuth2, T0, None)
            .unwrap_err()
            .code(),
        "http_status"
    );
}

// ---------------------------------------------------------------- revocation

fn v1_credentials() -> Credentials {
    handle_exchange_response(&sent_exchange(), &ok_token("bearer"), T0).unwrap()
}

#[test]
fn revoke_request_puts_the_token_in_the_header_only() {
    let req = revoke_request(&Environment::Eu, &v1_credentials(), RequestId(9));
    assert_eq!(req.method, Method::Post);
    assert_eq!(req.url, "https://www.myworkboard.eu/wb/oauth/revoke/");
    assert_eq!(
        req.header("authorization"),
        Some(format!("bearer {MARKER}-token").as_str())
    );
    assert!(req.body.is_empty());
    assert_no_marker("revoke URL", &req.url);
    assert_no_marker("revoke request Debug", &format!("{req:?}"));
}

#[test]
fn revoke_responses() {
    let r = |status: u16, body: &str| {
        handle_revoke_response(&sent_revoke(), &HttpResponse::new(status, vec![], body))
    };
    assert_eq!(
        r(200, r#"{"success":true,"message":"Token revoked"}"#),
        Ok(RevokeOutcome::Revoked)
    );
    assert_eq!(r(204, ""), Ok(RevokeOutcome::Revoked));
    assert_eq!(r(200, "OK"), Ok(RevokeOutcome::Revoked));
    assert_eq!(
        r(401, "<html>nope</html>"),
        Ok(RevokeOutcome::AlreadyInvalid)
    );
    assert_eq!(
        r(400, r#"{"error":"invalid_token"}"#),
        Ok(RevokeOutcome::AlreadyInvalid)
    );
    assert_eq!(
        r(200, r#"{"success":false,"error":"invalid_token"}"#),
        Ok(RevokeOutcome::AlreadyInvalid)
    );
    assert_eq!(
        r(400, r#"{"error":"invalid_request"}"#).unwrap_err().code(),
        "token_endpoint_error"
    );
    assert_eq!(
        r(200, r#"{"success":false,"error":"server_error"}"#)
            .unwrap_err()
            .code(),
        "token_endpoint_error"
    );
    assert_eq!(
        r(500, "<html><title>boom</title></html>")
            .unwrap_err()
            .code(),
        "http_status"
    );
    assert_eq!(r(503, r#"{"x":1}"#).unwrap_err().code(), "http_status");
}

// ---------------------------------------------------------------- the machine

#[test]
fn machine_signs_in_and_revokes_through_the_run_loop() {
    let mut m = V1SignIn::new(config(), SecretString::new(format!("{MARKER}-hash"))).unwrap();
    let url = m.start(&mut entropy(), T0).unwrap();
    assert!(url.contains("client_id=cid"));
    let saved = m.pending_json().unwrap();
    // The app restarts while the user is at WorkBoard.
    let mut m = V1SignIn::resume(
        config(),
        SecretString::new(format!("{MARKER}-hash")),
        &saved,
    )
    .unwrap();
    let state = m.pending().unwrap().state.expose().to_string();
    m.handle_redirect(
        &format!("{REDIRECT}?code={MARKER}-code&state={state}"),
        T0 + 10_000,
    )
    .unwrap();
    assert!(
        m.pending_json().is_none(),
        "completed: nothing left to persist"
    );
    assert_no_marker("machine Debug", &format!("{m:?}"));

    let server = script(vec![
        Ok(ok_token("bearer")),
        Ok(HttpResponse::json(200, &json!({"success": true}))),
    ]);
    let clock = SimClock::at(T0 + 11_000);
    futures_executor::block_on(drive(&mut m, &server, &clock));
    let Some(Ok(V1Outcome::SignedIn(creds))) = m.poll_result() else {
        panic!("signed in expected")
    };
    assert_eq!(
        creds.expires_at_ms(),
        Some(T0 + 11_000 + V1_TOKEN_LIFETIME_MS)
    );
    assert!(m.poll_result().is_none());
    let body = String::from_utf8(server.requests()[0].body.clone()).unwrap();
    assert!(
        body.contains(&format!("client_hash={MARKER}-hash"))
            && body.contains(&format!("code={MARKER}-code"))
    );

    m.revoke(&creds).unwrap();
    futures_executor::block_on(drive(&mut m, &server, &clock));
    assert_eq!(
        m.poll_result(),
        Some(Ok(V1Outcome::Revoked(RevokeOutcome::Revoked)))
    );
    let sent = server.requests();
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[1].url, "https://www.myworkboard.com/wb/oauth/revoke/");
    // Replaying the redirect fails: single use.
    let e = m
        .handle_redirect(&format!("{REDIRECT}?code=X&state={state}"), T0 + 12_000)
        .unwrap_err();
    assert_eq!(e, Error::AuthorizationReused);
}

#[test]
fn machine_reports_transport_failures_and_ignores_unknown_ids() {
    let mut m = V1SignIn::new(config(), SecretString::new("H")).unwrap();
    m.start(&mut entropy(), T0).unwrap();
    let state = m.pending().unwrap().state.expose().to_string();
    m.handle_redirect(&format!("{REDIRECT}?code=C&state={state}"), T0)
        .unwrap();
    let req = m.poll_request().unwrap();
    m.handle_response(RequestId(999), Ok(ok_token("bearer")), T0);
    assert!(m.poll_result().is_none());
    m.handle_response(req.id, Err(TransportError::Timeout), T0);
    assert_eq!(
        m.poll_result(),
        Some(Err(Error::Transport(TransportError::Timeout)))
    );
    assert!(!m.is_busy());
}

#[test]
fn machine_refuses_misuse() {
    let mut m = V1SignIn::new(config(), SecretString::new("H")).unwrap();
    assert_eq!(
        m.handle_redirect("code=C&state=S", T0).unwrap_err().code(),
        "wrong_state"
    );
    assert_eq!(
        m.revoke(&Credentials::personal("P")).unwrap_err().code(),
        "invalid_input"
    );
    assert_eq!(
        V1SignIn::new(config(), SecretString::new(" "))
            .unwrap_err()
            .code(),
        "invalid_input"
    );
    let (_, pending) = start(&V1Config::new(Environment::Us, "other", REDIRECT));
    assert_eq!(
        V1SignIn::resume(config(), SecretString::new("H"), &pending.to_json())
            .unwrap_err()
            .code(),
        "invalid_input"
    );
    assert_eq!(
        V1SignIn::resume(config(), SecretString::new("H"), "{not json")
            .unwrap_err()
            .code(),
        "invalid_input"
    );
}

// ---------------------------------------------------------------- secrets

#[test]
fn secrets_never_appear_in_debug_or_errors() {
    let (_, mut pending) = start(&config());
    let state = pending.state.expose().to_string();
    let dbg = format!("{pending:?}");
    assert!(!dbg.contains(&state), "{dbg}");

    let code = pending
        .handle_redirect(&format!("{REDIRECT}?code={MARKER}&state={state}"), T0)
        .unwrap();
    assert_no_marker("code Debug", &format!("{code:?}"));
    assert!(!format!("{code:?}").contains(&state));

    let req = exchange_request(&code, &SecretString::new(MARKER), RequestId(1));
    assert_no_marker("exchange Debug", &format!("{req:?}"));
    assert_no_marker("exchange URL", &req.url);

    let creds = handle_exchange_response(&sent_exchange(), &ok_token("bearer"), T0).unwrap();
    assert_no_marker("credentials Debug", &format!("{creds:?}"));

    // Errors produced while handling inputs that carry secrets.
    let mut errors: Vec<Error> = vec![
        pending
            .handle_redirect(&format!("{REDIRECT}?code={MARKER}&state={state}"), T0)
            .unwrap_err(),
        handle_exchange_response(
            &sent_exchange(),
            &HttpResponse::new(200, vec![], format!("{{\"access_token\":\"{MARKER}\"")),
            T0,
        )
        .unwrap_err(),
        handle_exchange_response(
            &sent_exchange(),
            &HttpResponse::new(502, vec![], format!("<html>{MARKER}</html>")),
            T0,
        )
        .unwrap_err(),
        handle_exchange_response(
            &sent_exchange(),
            &HttpResponse::json(200, &json!({"access_token": MARKER, "token_type": "pop"})),
            T0,
        )
        .unwrap_err(),
    ];
    let (_, mut p2) = start(&config());
    errors.push(
        p2.handle_redirect(&format!("{REDIRECT}?code={MARKER}&state={MARKER}"), T0)
            .unwrap_err(),
    );
    errors.push(
        p2.handle_redirect(
            &format!("https://evil.example/x?code={MARKER}&state={MARKER}"),
            T0,
        )
        .unwrap_err(),
    );
    let mut expired = PendingAuthorization::from_json(&p2.to_json()).unwrap();
    errors.push(
        expired
            .handle_redirect(&format!("code={MARKER}"), T0 + 10 * 60_000)
            .unwrap_err(),
    );
    for e in &errors {
        let info = e.info();
        let all = format!("{e:?} {e} {} {:?}", info.message, info.hint);
        assert_no_marker("error", &all);
        assert!(!all.contains(&state), "{all}");
    }
}

#[test]
fn error_text_echoing_the_state_or_code_is_scrubbed() {
    let (_, mut pending) = start(&config());
    let s = pending.state.expose().to_string();
    let input = format!(
        "{REDIRECT}?error=x{s}&error_message=bad+state+{s}+code+{MARKER}&code={MARKER}&state={s}"
    );
    let e = pending.handle_redirect(&input, T0).unwrap_err();
    let text = format!("{e:?} {e}");
    assert!(!text.contains(&s), "{text}");
    assert_no_marker("denied error", &text);
    assert!(text.contains("<redacted>"), "{text}");
}

#[test]
fn authorization_code_serializes_for_a_server_hand_off() {
    let (_, mut pending) = start(&config());
    let code = pending
        .handle_redirect(&redirect_with(&pending, "C"), T0)
        .unwrap();
    let json = serde_json::to_string(&code).unwrap();
    let back: AuthorizationCode = serde_json::from_str(&json).unwrap();
    assert_eq!(back, code);
}

// ---------------------------------------------------------------- shared with OAuth 2

#[test]
fn rfc9207_issuer_check_and_oauth2_fields() {
    let mut params = PendingParams::new(
        Dialect::OAuth2,
        "cid",
        REDIRECT,
        "https://as.example/token",
        vec!["mcp".into()],
    );
    params.expected_issuer = Some("https://as.example".into());
    params.pkce_verifier = Some(SecretString::new(MARKER));
    params.resource = Some("https://mcp.example/mcp".into());
    params.extra = json!({"flow": "mcp"});
    let fresh = || PendingAuthorization::new(params.clone(), &mut entropy(), T0).unwrap();

    let mut p = fresh();
    assert_eq!(p.expires_at_ms, T0 + DEFAULT_OAUTH2_LIFETIME_MS);
    assert_no_marker("pending Debug", &format!("{p:?}"));
    let s = p.state.expose().to_string();
    let input = format!("{REDIRECT}?code=C&state={s}&iss=https%3A%2F%2Fas.example");
    let code = p.handle_redirect(&input, T0 + 1).unwrap();
    assert_eq!(
        code.pkce_verifier.as_ref().map(|v| v.expose()),
        Some(MARKER)
    );
    assert_eq!(code.resource.as_deref(), Some("https://mcp.example/mcp"));
    assert_eq!(code.token_endpoint, "https://as.example/token");
    assert_eq!(code.extra, json!({"flow": "mcp"}));
    assert_eq!(
        code.expires_at_ms, None,
        "OAuth 2 code lifetime is the server's"
    );
    assert!(code.check_fresh(T0 + 3_600_000).is_ok());
    assert_no_marker("code Debug", &format!("{code:?}"));

    let mut p = fresh();
    let s = p.state.expose().to_string();
    let e = p
        .handle_redirect(
            &format!("code=C&state={s}&iss=https%3A%2F%2Fevil.example"),
            T0,
        )
        .unwrap_err();
    assert_eq!(
        e,
        Error::IssParameterMismatch {
            expected: "https://as.example".into(),
            actual: Some("https://evil.example".into())
        }
    );
    assert!(p.is_completed(), "a mix-up attempt ends the authorization");
    let mut p = fresh();
    let s = p.state.expose().to_string();
    assert_eq!(
        p.handle_redirect(&format!("code=C&state={s}"), T0)
            .unwrap_err()
            .code(),
        "iss_mismatch"
    );
    // Error responses carry iss too, and OAuth 2 uses error_description.
    let mut p = fresh();
    let s = p.state.expose().to_string();
    let e = p
        .handle_redirect(&format!("error=access_denied&error_description=User+said+no&state={s}&iss=https://as.example"), T0)
        .unwrap_err();
    assert_eq!(
        e,
        Error::AuthorizationDenied {
            error: "access_denied".into(),
            description: Some("User said no".into())
        }
    );
    // Duplicate iss is refused.
    let mut p = fresh();
    let s = p.state.expose().to_string();
    let e = p
        .handle_redirect(
            &format!("code=C&state={s}&iss=https://as.example&iss=https://as.example"),
            T0,
        )
        .unwrap_err();
    assert_eq!(e.code(), "invalid_response");
    // Without an expected issuer, iss is not required.
    let mut no_iss = params.clone();
    no_iss.expected_issuer = None;
    let mut p = PendingAuthorization::new(no_iss, &mut entropy(), T0).unwrap();
    let s = p.state.expose().to_string();
    assert!(p.handle_redirect(&format!("code=C&state={s}"), T0).is_ok());
    // Not advertised (iss optional): absent proceeds, present is still compared exactly.
    let mut optional = params.clone();
    optional.iss_optional = true;
    let mut p = PendingAuthorization::new(optional.clone(), &mut entropy(), T0).unwrap();
    let s = p.state.expose().to_string();
    assert!(p.handle_redirect(&format!("code=C&state={s}"), T0).is_ok());
    for wrong in [
        "https%3A%2F%2Fevil.example",
        // No normalization (RFC 3986 §6.2.2-6.2.3 forbidden): trailing slash, case, port.
        "https%3A%2F%2Fas.example%2F",
        "https%3A%2F%2FAS.example",
        "https%3A%2F%2Fas.example%3A443",
    ] {
        let mut p = PendingAuthorization::new(optional.clone(), &mut entropy(), T0).unwrap();
        let s = p.state.expose().to_string();
        let e = p
            .handle_redirect(&format!("code=C&state={s}&iss={wrong}"), T0)
            .unwrap_err();
        assert_eq!(e.code(), "iss_mismatch", "{wrong}");
        assert!(e.hint().is_some());
    }
    // A mismatched error response is not acted on: the error and its description are not
    // shown (MCP 2026-07-28), the mismatch is.
    let mut p = PendingAuthorization::new(optional, &mut entropy(), T0).unwrap();
    let s = p.state.expose().to_string();
    let e = p
        .handle_redirect(
            &format!("error=access_denied&error_description=PHISHING+TEXT&state={s}&iss=https://evil.example"),
            T0,
        )
        .unwrap_err();
    assert_eq!(e.code(), "iss_mismatch");
    assert!(!e.to_string().contains("PHISHING"), "{e}");
    // JSON saved before `iss_optional` existed keeps requiring iss.
    let legacy = fresh().to_json();
    assert!(!legacy.contains("iss_optional"));
    let mut p = PendingAuthorization::from_json(&legacy).unwrap();
    let s = p.state.expose().to_string();
    assert_eq!(
        p.handle_redirect(&format!("code=C&state={s}"), T0)
            .unwrap_err()
            .code(),
        "iss_mismatch"
    );
}

#[test]
fn pending_construction_is_validated_and_lifetime_configurable() {
    let p = |f: &dyn Fn(&mut PendingParams)| {
        let mut params = PendingParams::new(
            Dialect::OAuth2,
            "cid",
            REDIRECT,
            "https://as.example/token",
            vec![],
        );
        f(&mut params);
        PendingAuthorization::new(params, &mut entropy(), T0)
    };
    assert_eq!(
        p(&|x| x.lifetime_ms = Some(60_000)).unwrap().expires_at_ms,
        T0 + 60_000
    );
    assert_eq!(
        p(&|x| x.lifetime_ms = Some(0)).unwrap_err().code(),
        "invalid_input"
    );
    assert_eq!(
        p(&|x| x.client_id = String::new()).unwrap_err().code(),
        "invalid_input"
    );
    assert_eq!(
        p(&|x| x.redirect_uri = "cb".into()).unwrap_err().code(),
        "invalid_url"
    );
    assert_eq!(
        p(&|x| x.token_endpoint = "token".into())
            .unwrap_err()
            .code(),
        "invalid_url"
    );
    assert_eq!(
        PendingAuthorization::from_json("{}").unwrap_err().code(),
        "invalid_input"
    );
    assert_eq!(
        PendingAuthorization::from_json("").unwrap_err().code(),
        "invalid_input"
    );
}

#[test]
fn the_client_hash_goes_only_to_the_environments_token_endpoint() {
    use workboard_core::fuzzing::checked_exchange_request_for;
    let (_, mut pending) = start(&config());
    let code = pending
        .handle_redirect(&redirect_with(&pending, "C"), T0 + 1_000)
        .unwrap();
    let hash = SecretString::new("HASH-MARKER");
    let ok = checked_exchange_request_for(
        &Environment::Us,
        None,
        &code,
        &hash,
        RequestId(1),
        T0 + 2_000,
    )
    .unwrap();
    assert_eq!(ok.url, "https://www.myworkboard.com/wb/oauth/token");
    for forged in [
        "https://attacker.example/wb/oauth/token",
        "https://www.myworkboard.com.attacker.example/wb/oauth/token",
        "https://www.myworkboard.com/wb/oauth/token?x=1",
        "https://www.myworkboard.eu/wb/oauth/token",
        "http://www.myworkboard.com/wb/oauth/token",
    ] {
        let mut c = code.clone();
        c.token_endpoint = forged.into();
        let e = checked_exchange_request_for(
            &Environment::Us,
            None,
            &c,
            &hash,
            RequestId(1),
            T0 + 2_000,
        )
        .unwrap_err();
        assert_eq!(e.code(), "client_secret_not_for_server", "{forged}");
        assert!(!format!("{e} {:?}", e.hint()).contains("HASH-MARKER"));
    }
    // A sign-in the caller started itself (another environment) names its own endpoint.
    let mut eu = code.clone();
    eu.token_endpoint = "https://www.myworkboard.eu/wb/oauth/token".into();
    let mut started = pending.clone();
    started.token_endpoint = eu.token_endpoint.clone();
    assert!(checked_exchange_request_for(
        &Environment::Us,
        Some(&started),
        &eu,
        &hash,
        RequestId(1),
        T0 + 2_000
    )
    .is_ok());
}

/// WorkBoard's token endpoint echoing the code (and the client hash, and on revocation the
/// token) in its error text: the error shows none of them, through the machine and through
/// the stateless handlers.
#[test]
fn token_endpoint_error_text_never_echoes_the_request_secrets() {
    fn assert_clean(e: &Error, secrets: &[&str]) {
        let info = e.info();
        let text = format!("{e} {e:?} {} {:?} {info:?}", info.message, info.hint);
        for s in secrets {
            assert!(!text.contains(s), "`{s}` in the error: {text}");
        }
        assert!(text.contains("<redacted>"), "{text}");
    }
    let mut m = V1SignIn::new(config(), SecretString::new("HASH-ECHO-5678")).unwrap();
    m.start(&mut entropy(), T0).unwrap();
    let state = m.pending().unwrap().state.expose().to_string();
    m.handle_redirect(
        &format!("{REDIRECT}?code=CODE-ECHO-1234&state={state}"),
        T0 + 10_000,
    )
    .unwrap();
    let server = script(vec![
        Ok(HttpResponse::json(
            400,
            &json!({"success": false, "error": "invalid_code", "error_message": "code CODE-ECHO-1234 rejected for client_hash HASH-ECHO-5678"}),
        )),
        Ok(HttpResponse::json(
            400,
            &json!({"success": false, "error": "invalid_request", "error_message": format!("token {MARKER}-token unknown")}),
        )),
    ]);
    let clock = SimClock::at(T0 + 11_000);
    futures_executor::block_on(drive(&mut m, &server, &clock));
    let Some(Err(e)) = m.poll_result() else {
        panic!("an error expected")
    };
    assert_eq!(e.code(), "token_endpoint_error");
    assert_clean(&e, &["CODE-ECHO-1234", "HASH-ECHO-5678"]);
    let creds = handle_exchange_response(&sent_exchange(), &ok_token("bearer"), T0).unwrap();
    m.revoke(&creds).unwrap();
    futures_executor::block_on(drive(&mut m, &server, &clock));
    let Some(Err(e)) = m.poll_result() else {
        panic!("an error expected")
    };
    assert_clean(&e, &[MARKER]);

    // Stateless: the request that was sent names the secrets.
    let e = handle_exchange_response(
        &sent_exchange(),
        &HttpResponse::new(
            502,
            vec![],
            "<html><title>CODE-0000 / HASH-0000 refused</title></html>",
        ),
        T0,
    )
    .unwrap_err();
    assert_clean(&e, &["CODE-0000", "HASH-0000"]);
    let e = handle_revoke_response(
        &sent_revoke(),
        &HttpResponse::json(
            400,
            &json!({"success": false, "error": "x", "error_message": "TOKEN-0000?"}),
        ),
    )
    .unwrap_err();
    assert_clean(&e, &["TOKEN-0000"]);
}
