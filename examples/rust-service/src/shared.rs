//! The service's own access to WorkBoard's MCP server, shared by every instance through one
//! Redis: one sign-in for the whole fleet (`example-rust-service sign-in`), and one refresh
//! per expiry however many instances run — the native client refreshes only while it holds
//! the store's lease; the others use the credentials it stored (a rotating refresh token is
//! never used twice, which would revoke the grant for every instance).
//!
//! `GET /api/workboard/me` → `200 {"user": ...}` (the `get_current_user` tool's structured
//! result, or its text), or `{"error": {"code", "message", "hint"}}` with 502 (WorkBoard
//! unreachable or refusing) or 503 (no sign-in stored yet: run `sign-in`).

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;
use workboard_client::keys;
use workboard_client::store::put;
use workboard_core::oauth::flow::McpAuthConfig;
use workboard_core::{Environment, Error, ErrorInfo};
use workboard_native::{Approver, Client, ReqwestTransport};
use workboard_redis::RedisStore;

/// The route answering who the service is signed in as.
pub const ME_PATH: &str = "/api/workboard/me";
/// The redirect URI of `sign-in` (a loopback listener on this port while it waits).
pub const SIGN_IN_REDIRECT: &str = "http://127.0.0.1:8765/callback";

/// The shared store: `WORKBOARD_REDIS_URL` (`redis://` or, with the `tls` feature of
/// workboard-redis, `rediss://`) and a key prefix, one per WorkBoard account.
pub fn open_store(redis_url: &str, prefix: &str) -> Result<Arc<RedisStore>, Error> {
    RedisStore::open(redis_url, prefix)
        .map(Arc::new)
        .map_err(|e| Error::InvalidInput {
            what: "WORKBOARD_REDIS_URL".into(),
            reason: e.to_string(),
        })
}

/// A native client on the shared store (credentials loaded from it, refreshed under its
/// lease).
pub fn client(environment: Environment, store: Arc<RedisStore>) -> Result<Client, Error> {
    Client::builder()
        .environment(environment)
        .client_info("example-rust-service", env!("CARGO_PKG_VERSION"))
        .shared_store(store)
        .build()
}

/// Signs the service in once with MCP OAuth (dynamic registration, PKCE) and stores the
/// credentials in the shared store for every instance. `headless`: for an auto-approving
/// server (the simulator with `--auto-approve`); otherwise the authorization URL is printed on
/// stderr for an operator to open, and the redirect awaited on [`SIGN_IN_REDIRECT`].
pub async fn sign_in(
    environment: &Environment,
    store: &RedisStore,
    headless: bool,
) -> Result<(), Error> {
    let transport = ReqwestTransport::new()?;
    let config = McpAuthConfig::workboard(environment, SIGN_IN_REDIRECT);
    let approver = if headless {
        Approver::Headless
    } else {
        Approver::Loopback {
            open: Box::new(|url| eprintln!("open this URL to sign the service in:\n{url}")),
            timeout: Duration::from_secs(300),
        }
    };
    let Some(signed) = workboard_native::sign_in_mcp(&transport, config, approver).await? else {
        return Err(Error::InvalidInput {
            what: "server".into(),
            reason: "it asks for no sign-in".into(),
        });
    };
    let stored = put(
        store,
        keys::CREDENTIALS,
        Some(&signed.credentials.to_json()),
    )
    .and_then(|_| put(store, keys::AUTH_CONTEXT, Some(&signed.context.to_json())));
    stored.map(|_| ()).map_err(|e| Error::Storage {
        reason: e.to_string(),
    })
}

/// The route of this module, on `client`.
pub fn routes(client: Arc<Client>) -> Router {
    Router::new().route(ME_PATH, get(me)).with_state(client)
}

async fn me(State(client): State<Arc<Client>>) -> Response {
    let mut response = match client
        .call_tool("get_current_user", serde_json::json!({}))
        .await
    {
        Ok(result) if !result.is_error => {
            let user = result
                .structured_content
                .clone()
                .unwrap_or_else(|| json!(result.text()));
            (StatusCode::OK, Json(json!({ "user": user }))).into_response()
        }
        Ok(result) => {
            let info = ErrorInfo {
                code: "tool_error".into(),
                message: result.text().chars().take(500).collect(),
                hint: None,
            };
            (StatusCode::BAD_GATEWAY, Json(json!({ "error": info }))).into_response()
        }
        Err(e) => {
            let status = if matches!(e.code(), "not_signed_in" | "unauthorized") {
                StatusCode::SERVICE_UNAVAILABLE
            } else {
                StatusCode::BAD_GATEWAY
            };
            (status, Json(json!({ "error": e.info() }))).into_response()
        }
    };
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
