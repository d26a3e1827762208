//! The exchange service end to end: the app half of the sign-in (authorize URL, redirect
//! handling) runs with `workboard_core::oauth::v1` against the in-process simulator, the code
//! goes to the service over HTTP, and the credentials it returns are used against the simulator.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use axum::extract::Form;
use axum::routing::post;
use axum::Router;
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use workboard_core::oauth::v1::{start_authorization, V1Config};
use workboard_core::{Credentials, Dialect, Environment, SecretString, SeededEntropy};
use workboard_sim::{
    SimConfig, SimHandle, Simulator, DEMO_CLIENT_HASH, DEMO_CLIENT_ID, DEMO_REDIRECT_URI,
};

use example_rust_service::{router, ServiceConfig, EXCHANGE_PATH, MAX_BODY_LEN};

fn config_for(base_url: &str) -> ServiceConfig {
    ServiceConfig {
        environment: Environment::parse(base_url).unwrap(),
        client_id: DEMO_CLIENT_ID.into(),
        client_hash: SecretString::new(DEMO_CLIENT_HASH),
        redirect_uri: DEMO_REDIRECT_URI.into(),
    }
}

/// Serves the service on 127.0.0.1:0; returns the exchange URL. The listener is bound before
/// this returns, so requests queue until the server task accepts them.
async fn serve(config: ServiceConfig) -> String {
    serve_router(router(config).unwrap()).await + EXCHANGE_PATH
}

async fn serve_router(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

async fn start() -> (SimHandle, String) {
    let sim = Simulator::start(SimConfig::default()).await.unwrap();
    sim.set_auto_approve(true);
    let url = serve(config_for(sim.base_url())).await;
    (sim, url)
}

fn http() -> Client {
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// What the browser or mobile app does: start the sign-in, follow the authorize URL (the
/// simulator approves at once), check the redirect. Returns the redirect URL, the code and
/// the redirect URI to send to the service.
async fn sign_in(sim: &SimHandle) -> (String, String, String) {
    let cfg = V1Config::new(
        Environment::parse(sim.base_url()).unwrap(),
        DEMO_CLIENT_ID,
        DEMO_REDIRECT_URI,
    );
    let now = sim.now_ms();
    let (url, mut pending) =
        start_authorization(&cfg, &mut SeededEntropy::new([7; 32]), now).unwrap();
    let resp = http().get(url).send().await.unwrap();
    assert!(resp.status().is_redirection(), "{}", resp.status());
    let location = resp.headers()["location"].to_str().unwrap().to_string();
    let code = pending.handle_redirect(&location, now).unwrap();
    (location, code.code.expose().to_string(), code.redirect_uri)
}

async fn post_json(url: &str, body: &Value) -> (StatusCode, Value) {
    let resp = http().post(url).json(body).send().await.unwrap();
    let status = resp.status();
    (status, resp.json().await.unwrap())
}

fn error_code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn exchange_returns_credentials_that_work_against_workboard() {
    let (sim, url) = start().await;
    let (_, code, redirect_uri) = sign_in(&sim).await;
    let resp = http()
        .post(&url)
        .json(&json!({ "code": code, "redirect_uri": redirect_uri }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let text = resp.text().await.unwrap();
    assert!(
        !text.contains(&code) && !text.contains(DEMO_CLIENT_HASH),
        "{text}"
    );
    assert_eq!(sim.counters().get("token:v1"), 1);

    // The format the wasm package's `setCredentialsJson` reads.
    let body: Value = serde_json::from_str(&text).unwrap();
    let credentials = Credentials::from_json(&body["credentials"].to_string()).unwrap();
    assert!(
        matches!(&credentials, Credentials::OAuth(t)
            if t.dialect == Dialect::WorkboardV1 && t.token_type.eq_ignore_ascii_case("bearer")),
        "{credentials:?}"
    );

    let goal = http()
        .get(format!("{}/wb/apis/goal/301", sim.base_url()))
        .header(
            "Authorization",
            format!("bearer {}", credentials.access_token().expose()),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(goal.status(), StatusCode::OK);
    let goal: Value = goal.json().await.unwrap();
    assert_eq!(goal["success"], true);
    assert_eq!(goal["data"]["goal"]["goal_id"], 301);
}

#[tokio::test]
async fn wrong_redirect_uri_is_refused_before_workboard_is_called() {
    let (sim, url) = start().await;
    let (_, code, _) = sign_in(&sim).await;
    let wrong = format!("{DEMO_REDIRECT_URI}/");
    let (status, body) = post_json(&url, &json!({ "code": code, "redirect_uri": wrong })).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&body), "redirect_uri_mismatch");
    let hint = body["error"]["hint"].as_str().unwrap();
    assert!(
        hint.contains(&format!("registered: {DEMO_REDIRECT_URI}\n")),
        "{hint}"
    );
    assert!(hint.contains(&format!("used:       {wrong}\n")), "{hint}");
    assert_eq!(sim.counters().get("token"), 0);
    assert!(!body.to_string().contains(&code));
}

#[tokio::test]
async fn redirect_url_with_code_and_state_is_refused_without_echoing_them() {
    let (sim, url) = start().await;
    let (landed_on, code, _) = sign_in(&sim).await;
    let state = reqwest::Url::parse(&landed_on)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.into_owned())
        .unwrap();
    // A common mistake: sending `location.href` instead of the registered redirect URI.
    let (status, body) = post_json(&url, &json!({ "code": code, "redirect_uri": landed_on })).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&body), "invalid_input");
    let text = body.to_string();
    assert!(!text.contains(&code) && !text.contains(&state), "{text}");
    assert_eq!(sim.counters().get("token"), 0);
}

#[tokio::test]
async fn expired_code_is_a_typed_error() {
    let (sim, url) = start().await;
    let (_, code, redirect_uri) = sign_in(&sim).await;
    sim.advance_clock(Duration::from_secs(301));
    let (status, body) =
        post_json(&url, &json!({ "code": code, "redirect_uri": redirect_uri })).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&body), "token_endpoint_error");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("invalid_grant") && message.contains("expired"),
        "{message}"
    );
    assert!(body["error"]["hint"]
        .as_str()
        .unwrap()
        .contains("sign in again"));
    assert_eq!(sim.counters().get("token:v1"), 1);
}

#[tokio::test]
async fn reused_code_is_a_typed_error() {
    let (sim, url) = start().await;
    let (_, code, redirect_uri) = sign_in(&sim).await;
    let request = json!({ "code": code, "redirect_uri": redirect_uri });
    let (first, _) = post_json(&url, &request).await;
    assert_eq!(first, StatusCode::OK);
    let (status, body) = post_json(&url, &request).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&body), "token_endpoint_error");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("already used"));
    assert!(!body.to_string().contains(&code));
    assert_eq!(sim.counters().get("token:v1"), 2);
}

#[tokio::test]
async fn malformed_or_incomplete_requests_are_invalid_input() {
    let (sim, url) = start().await;
    let secret_looking = "wbc_this_must_not_be_echoed";
    let cases: Vec<(&str, String)> = vec![
        ("not JSON", "{\"code\":".into()),
        ("empty body", String::new()),
        ("a JSON string", format!("\"{secret_looking}\"")),
        ("an array", format!("[\"{secret_looking}\"]")),
        (
            "missing code",
            json!({ "redirect_uri": DEMO_REDIRECT_URI }).to_string(),
        ),
        (
            "missing redirect_uri",
            json!({ "code": secret_looking }).to_string(),
        ),
        (
            "code not a string",
            json!({ "code": 42, "redirect_uri": DEMO_REDIRECT_URI }).to_string(),
        ),
        (
            "redirect_uri null",
            json!({ "code": secret_looking, "redirect_uri": null }).to_string(),
        ),
        (
            "empty code",
            json!({ "code": "", "redirect_uri": DEMO_REDIRECT_URI }).to_string(),
        ),
        (
            "blank code",
            json!({ "code": "  ", "redirect_uri": DEMO_REDIRECT_URI }).to_string(),
        ),
        (
            "control character",
            json!({ "code": "ab\ncd", "redirect_uri": DEMO_REDIRECT_URI }).to_string(),
        ),
        (
            "huge code",
            json!({ "code": "x".repeat(5000), "redirect_uri": DEMO_REDIRECT_URI }).to_string(),
        ),
    ];
    for (name, body) in cases {
        let resp = http()
            .post(&url)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{name}");
        let text = resp.text().await.unwrap();
        let json: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(error_code(&json), "invalid_input", "{name}: {text}");
        assert!(json["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()));
        assert!(!text.contains(secret_looking), "{name}: {text}");
    }

    let missing = post_json(&url, &json!({ "redirect_uri": DEMO_REDIRECT_URI }))
        .await
        .1;
    assert!(missing["error"]["message"]
        .as_str()
        .unwrap()
        .contains("`code` is missing"));

    // Not declared as JSON: 415, still a typed error.
    let resp = http()
        .post(&url)
        .body(json!({ "code": "c", "redirect_uri": DEMO_REDIRECT_URI }).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(error_code(&resp.json().await.unwrap()), "invalid_input");

    // Larger than the body limit: 413, still a typed error.
    let big = json!({ "code": "x".repeat(MAX_BODY_LEN), "redirect_uri": DEMO_REDIRECT_URI });
    let (status, body) = post_json(&url, &big).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(error_code(&body), "invalid_input");

    assert_eq!(sim.counters().get("token"), 0);
}

#[tokio::test]
async fn unreachable_workboard_is_bad_gateway() {
    // Bound but never listening: refuses connections, and no other test can take the port.
    let closed = tokio::net::TcpSocket::new_v4().unwrap();
    closed.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let base = format!("http://{}", closed.local_addr().unwrap());
    let url = serve(config_for(&base)).await;
    let (status, body) = post_json(
        &url,
        &json!({ "code": "some-code", "redirect_uri": DEMO_REDIRECT_URI }),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    assert_eq!(error_code(&body), "transport");
    assert!(body["error"]["hint"].as_str().unwrap().contains("network"));
}

#[tokio::test]
async fn wrong_client_hash_is_bad_gateway_without_revealing_it() {
    let sim = Simulator::start(SimConfig::default()).await.unwrap();
    sim.set_auto_approve(true);
    let wrong_hash = "the-wrong-hash-4f1d";
    let mut config = config_for(sim.base_url());
    config.client_hash = SecretString::new(wrong_hash);
    let url = serve(config).await;
    let (_, code, redirect_uri) = sign_in(&sim).await;
    let (status, body) =
        post_json(&url, &json!({ "code": code, "redirect_uri": redirect_uri })).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    assert_eq!(error_code(&body), "token_endpoint_error");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("invalid_client"));
    assert!(body["error"]["hint"]
        .as_str()
        .unwrap()
        .contains("Client Hash"));
    let text = body.to_string();
    assert!(
        !text.contains(wrong_hash) && !text.contains(&code),
        "{text}"
    );
}

#[tokio::test]
async fn secrets_quoted_by_workboard_are_scrubbed_from_errors() {
    // A token endpoint that quotes what it received in its error description.
    let echo = Router::new().route(
        "/wb/oauth/token",
        post(|Form(form): Form<std::collections::HashMap<String, String>>| async move {
            let description = format!(
                "code {} rejected for hash {}",
                form["code"], form["client_hash"]
            );
            (
                StatusCode::BAD_REQUEST,
                axum::Json(json!({ "success": false, "error": "invalid_grant", "error_description": description })),
            )
        }),
    );
    let base = serve_router(echo).await;
    let url = serve(config_for(&base)).await;
    let code = "wbc_quoted_code_93a7";
    let (status, body) = post_json(
        &url,
        &json!({ "code": code, "redirect_uri": DEMO_REDIRECT_URI }),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&body), "token_endpoint_error");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("code <redacted> rejected for hash <redacted>"),
        "{message}"
    );
    assert!(!message.contains(code) && !message.contains(DEMO_CLIENT_HASH));
}

#[tokio::test]
async fn debug_output_hides_the_client_hash() {
    let config = config_for("http://127.0.0.1:9");
    let debug = format!("{config:?}");
    assert!(debug.contains(DEMO_CLIENT_ID), "{debug}");
    assert!(!debug.contains(DEMO_CLIENT_HASH), "{debug}");
    let pretty = format!("{config:#?}");
    assert!(!pretty.contains(DEMO_CLIENT_HASH), "{pretty}");
}

#[tokio::test]
async fn cors_headers_only_for_loopback_origins() {
    let (_sim, url) = start().await;
    for origin in [
        "http://localhost:5173",
        "http://127.0.0.1:8000",
        "http://[::1]:3000",
    ] {
        let preflight = http()
            .request(reqwest::Method::OPTIONS, &url)
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type")
            .send()
            .await
            .unwrap();
        assert_eq!(preflight.status(), StatusCode::NO_CONTENT, "{origin}");
        let h = preflight.headers();
        assert_eq!(h["access-control-allow-origin"], origin);
        assert!(h["access-control-allow-methods"]
            .to_str()
            .unwrap()
            .contains("POST"));
        assert!(h["access-control-allow-headers"]
            .to_str()
            .unwrap()
            .contains("content-type"));

        let post = http()
            .post(&url)
            .header("origin", origin)
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(post.headers()["access-control-allow-origin"], origin);
    }
    for origin in [
        "https://evil.example",
        "http://localhost.evil.example",
        "http://127.0.0.1.evil.example",
        "null",
        "file://",
    ] {
        let preflight = http()
            .request(reqwest::Method::OPTIONS, &url)
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .send()
            .await
            .unwrap();
        assert!(
            preflight
                .headers()
                .get("access-control-allow-origin")
                .is_none(),
            "{origin}"
        );
        assert!(preflight
            .headers()
            .get("access-control-allow-methods")
            .is_none());
        let post = http()
            .post(&url)
            .header("origin", origin)
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert!(
            post.headers().get("access-control-allow-origin").is_none(),
            "{origin}"
        );
    }
}

#[tokio::test]
async fn unknown_routes_and_methods_are_json_errors() {
    let (_sim, url) = start().await;
    let get = http().get(&url).send().await.unwrap();
    assert_eq!(get.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(error_code(&get.json().await.unwrap()), "method_not_allowed");
    let other = http()
        .get(url.replace(EXCHANGE_PATH, "/api/nothing"))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), StatusCode::NOT_FOUND);
    assert_eq!(error_code(&other.json().await.unwrap()), "not_found");
}

#[test]
fn invalid_configurations_are_refused() {
    let good = config_for("http://127.0.0.1:9");
    let cases = [
        (
            "empty hash",
            ServiceConfig {
                client_hash: SecretString::new(" "),
                ..good.clone()
            },
            "invalid_input",
        ),
        (
            "empty client id",
            ServiceConfig {
                client_id: String::new(),
                ..good.clone()
            },
            "invalid_input",
        ),
        (
            "relative redirect URI",
            ServiceConfig {
                redirect_uri: "/callback".into(),
                ..good.clone()
            },
            "invalid_url",
        ),
        (
            "http redirect off loopback",
            ServiceConfig {
                redirect_uri: "http://app.example/cb".into(),
                ..good.clone()
            },
            "insecure_url",
        ),
        (
            "insecure environment",
            ServiceConfig {
                environment: Environment::Custom("http://workboard.example".into()),
                ..good.clone()
            },
            "insecure_url",
        ),
    ];
    for (name, config, code) in cases {
        let err = router(config).err().unwrap();
        assert_eq!(err.code(), code, "{name}: {err}");
        assert!(!err.to_string().contains(DEMO_CLIENT_HASH));
    }
    assert!(router(good).is_ok());
}
