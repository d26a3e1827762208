//! The server half of a WorkBoard v1 sign-in for browser and mobile apps.
//!
//! The Client Hash is a password: it never ships in a web page or an app. The app starts the
//! sign-in itself (authorize URL, pending state, redirect handling — all in the wasm or
//! UniFFI package), then POSTs the authorization code here; this service adds the client
//! hash, calls WorkBoard's token endpoint and returns the credentials.
//!
//! `POST /api/workboard/exchange` with JSON `{"code": "...", "redirect_uri": "..."}` →
//! `200 {"credentials": {...}}`, or `{"error": {"code", "message", "hint"}}` with 400 (the
//! app's input, or a code WorkBoard refused), 413 / 415 (body too large / not JSON) or 502
//! (WorkBoard unreachable or refusing the service's own registration).
//!
//! Revocation needs no secret in WorkBoard v1 (`POST /wb/oauth/revoke/` with the token in the
//! `Authorization` header), so apps revoke directly and this service offers no endpoint for it.

pub mod shared;

use std::sync::Arc;

use axum::extract::rejection::JsonRejection;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};
use url::Url;
use workboard_core::error::check_redirect_uri;
use workboard_core::oauth::pending::AuthorizationCode;
use workboard_core::oauth::v1::{V1Config, V1Outcome, V1SignIn};
use workboard_core::SansIo;
use workboard_core::{
    Clock, Credentials, Dialect, Environment, Error, ErrorInfo, SecretString, Transport,
};
use workboard_native::{ReqwestTransport, SystemClock};

/// The exchange route.
pub const EXCHANGE_PATH: &str = "/api/workboard/exchange";
/// Longest authorization code accepted (bytes).
pub const MAX_CODE_LEN: usize = 4096;
/// Largest request body accepted (bytes); larger bodies get 413.
pub const MAX_BODY_LEN: usize = 16 * 1024;

/// What the service needs: the app's registration, kept on the server. `Debug` redacts the
/// client hash.
#[derive(Clone, Debug)]
pub struct ServiceConfig {
    /// WorkBoard environment (US, EU, or a simulator's base URL).
    pub environment: Environment,
    /// The app's Client ID.
    pub client_id: String,
    /// The app's Client Hash (secret).
    pub client_hash: SecretString,
    /// The one redirect URI registered for the app; codes for any other are refused.
    pub redirect_uri: String,
}

impl ServiceConfig {
    /// Checks the registration the way the SDK checks a v1 sign-in (client id, a secure
    /// environment URL, redirect URI) and that the client hash is not empty.
    pub fn validate(&self) -> Result<(), Error> {
        V1Config::new(
            self.environment.clone(),
            self.client_id.clone(),
            self.redirect_uri.clone(),
        )
        .validate()?;
        if self.client_hash.expose().trim().is_empty() {
            return Err(invalid("client_hash", "must not be empty"));
        }
        Ok(())
    }
}

struct AppState {
    config: ServiceConfig,
    transport: ReqwestTransport,
}

/// The service's routes, with CORS for loopback origins (local development and tests).
/// Fails on an invalid [`ServiceConfig`].
pub fn router(config: ServiceConfig) -> Result<Router, Error> {
    config.validate()?;
    let transport = ReqwestTransport::new()?;
    let state = Arc::new(AppState { config, transport });
    Ok(Router::new()
        .route(
            EXCHANGE_PATH,
            post(exchange).options(|| async { StatusCode::NO_CONTENT }),
        )
        .fallback(|| async { error_response(StatusCode::NOT_FOUND, "not_found", "no such route") })
        .method_not_allowed_fallback(|| async {
            error_response(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "use POST",
            )
        })
        .layer(DefaultBodyLimit::max(MAX_BODY_LEN))
        .layer(middleware::from_fn(headers))
        .with_state(state))
}

/// Exchanges `code` for credentials at WorkBoard's token endpoint, adding the client hash.
/// Refuses, without sending anything, a `redirect_uri` other than the registered one and an
/// empty, oversized or control-character code.
pub async fn exchange_code(
    config: &ServiceConfig,
    transport: &impl Transport,
    code: &str,
    redirect_uri: &str,
) -> Result<Credentials, Error> {
    if redirect_uri != config.redirect_uri {
        // The URL the browser landed on carries the code and state: never echo it.
        let carries_secrets = Url::parse(redirect_uri)
            .is_ok_and(|u| u.query_pairs().any(|(k, _)| k == "code" || k == "state"));
        if carries_secrets || redirect_uri.len() > 2048 {
            return Err(invalid(
                "redirect_uri",
                "it is not the registered redirect URI; send that URI itself, not the URL the browser landed on",
            ));
        }
        check_redirect_uri(&config.redirect_uri, redirect_uri)?;
    }
    if code.trim().is_empty() || code.len() > MAX_CODE_LEN || code.chars().any(char::is_control) {
        return Err(invalid(
            "authorization code",
            "must be 1 to 4096 bytes without control characters",
        ));
    }
    // The core's V1SignIn is the one route for the exchange: it checks the code's age and
    // sends the Client Hash only to this environment's token endpoint.
    let now = SystemClock.now_ms();
    let v1_config = V1Config::new(
        config.environment.clone(),
        config.client_id.clone(),
        redirect_uri,
    );
    let mut machine = V1SignIn::new(v1_config, config.client_hash.clone())?;
    let code = AuthorizationCode {
        code: SecretString::new(code),
        dialect: Dialect::WorkboardV1,
        redirect_uri: redirect_uri.to_string(),
        client_id: config.client_id.clone(),
        pkce_verifier: None,
        resource: None,
        token_endpoint: config.environment.token_url(),
        scopes: Vec::new(),
        received_at_ms: now,
        expires_at_ms: None,
        extra: Value::Null,
    };
    machine.exchange_code(&code, now)?;
    // One request: stepped here rather than by `drive`, whose future is not `Send` (a web
    // framework's handlers must be).
    while let Some(request) = machine.poll_request() {
        let id = request.id;
        let response = transport.send(request).await;
        machine.handle_response(id, response, SystemClock.now_ms());
    }
    match machine.poll_result() {
        Some(Ok(V1Outcome::SignedIn(credentials))) => Ok(credentials),
        Some(Err(e)) => Err(e),
        _ => Err(Error::Protocol {
            reason: "the v1 code exchange did not complete".into(),
        }),
    }
}

async fn exchange(
    State(state): State<Arc<AppState>>,
    body: Result<Json<Value>, JsonRejection>,
) -> Response {
    let (code, redirect_uri) = match parse_request(body) {
        Ok(fields) => fields,
        Err((status, e)) => return (status, Json(json!({ "error": e.info() }))).into_response(),
    };
    match exchange_code(&state.config, &state.transport, &code, &redirect_uri).await {
        Ok(credentials) => Json(json!({ "credentials": credentials })).into_response(),
        Err(e) => {
            let status = match &e {
                Error::InvalidInput { .. } | Error::RedirectUriMismatch { .. } => {
                    StatusCode::BAD_REQUEST
                }
                // The code is expired, used, or was issued for another redirect URI.
                Error::TokenEndpoint { error, .. } if error == "invalid_grant" => {
                    StatusCode::BAD_REQUEST
                }
                _ => StatusCode::BAD_GATEWAY,
            };
            // WorkBoard's own error text is quoted in the message: make sure it cannot carry
            // the code or the client hash back to the caller.
            let info = scrub(e.info(), &[&code, state.config.client_hash.expose()]);
            (status, Json(json!({ "error": info }))).into_response()
        }
    }
}

/// The body's `code` and `redirect_uri`. Error messages never quote the body.
fn parse_request(
    body: Result<Json<Value>, JsonRejection>,
) -> Result<(String, String), (StatusCode, Error)> {
    const WHAT: &str = "exchange request";
    let bad = |status, reason: &str| (status, invalid(WHAT, reason));
    let Json(value) = body.map_err(|rejection| match rejection {
        JsonRejection::MissingJsonContentType(_) => bad(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Content-Type must be application/json",
        ),
        JsonRejection::BytesRejection(r) if r.status() == StatusCode::PAYLOAD_TOO_LARGE => bad(
            StatusCode::PAYLOAD_TOO_LARGE,
            "the body is larger than 16 KiB",
        ),
        _ => bad(StatusCode::BAD_REQUEST, "the body is not valid JSON"),
    })?;
    let field = |name: &str| match value.get(name) {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(_) => Err(bad(
            StatusCode::BAD_REQUEST,
            &format!("`{name}` must be a string"),
        )),
        None => Err(bad(
            StatusCode::BAD_REQUEST,
            &format!("expected a JSON object with `code` and `redirect_uri`; `{name}` is missing"),
        )),
    };
    Ok((field("code")?, field("redirect_uri")?))
}

fn invalid(what: &str, reason: &str) -> Error {
    Error::InvalidInput {
        what: what.into(),
        reason: reason.into(),
    }
}

fn scrub(mut info: ErrorInfo, secrets: &[&str]) -> ErrorInfo {
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        info.message = info.message.replace(secret, "<redacted>");
        info.hint = info.hint.map(|h| h.replace(secret, "<redacted>"));
    }
    info
}

fn error_response(status: StatusCode, code: &str, message: &str) -> Response {
    let info = ErrorInfo {
        code: code.into(),
        message: message.into(),
        hint: None,
    };
    (status, Json(json!({ "error": info }))).into_response()
}

/// `Cache-Control: no-store` on every answer (they may carry a token), and CORS for
/// loopback origins only.
async fn headers(request: Request, next: Next) -> Response {
    let origin = request
        .headers()
        .get(header::ORIGIN)
        .filter(|o| is_loopback_origin(o))
        .cloned();
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::VARY, HeaderValue::from_static("origin"));
    if let Some(origin) = origin {
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        h.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("POST, OPTIONS"),
        );
        h.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("content-type"),
        );
    }
    response
}

fn is_loopback_origin(origin: &HeaderValue) -> bool {
    origin
        .to_str()
        .ok()
        .and_then(|o| Url::parse(o).ok())
        .is_some_and(|u| {
            matches!(u.scheme(), "http" | "https") && workboard_core::env::is_loopback(&u)
        })
}
