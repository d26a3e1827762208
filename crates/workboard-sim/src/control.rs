//! Control endpoints under `/__sim/` for tests that are not written in Rust.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{Response, StatusCode};
use serde::Deserialize;
use serde_json::json;

use crate::config::{ResponseMode, Role};
use crate::server::json_response;
use crate::state::{random_token, Shared};

type Resp = Response<Body>;

fn bad(msg: &str) -> Resp {
    json_response(
        StatusCode::BAD_REQUEST,
        json!({"error": "invalid_request", "error_description": msg}),
    )
}

/// `GET /__sim/stats`: `{"counters": {...}, "sessions": n, "now_ms": ...}`.
pub(crate) async fn stats(State(sh): State<Arc<Shared>>) -> Resp {
    let sessions = sh.store().sessions.len();
    json_response(
        StatusCode::OK,
        json!({"counters": sh.counters(), "sessions": sessions, "now_ms": sh.now_ms()}),
    )
}

/// `POST /__sim/faults` with a [`crate::FaultSpec`] as JSON.
pub(crate) async fn faults(State(sh): State<Arc<Shared>>, body: Bytes) -> Resp {
    let text = String::from_utf8_lossy(&body);
    match sh.faults.apply_json(&text) {
        Ok(()) => json_response(StatusCode::OK, json!({"ok": true})),
        Err(e) => bad(&e),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClockReq {
    advance_secs: u64,
}

/// `POST /__sim/clock` `{"advance_secs": n}`.
pub(crate) async fn clock(State(sh): State<Arc<Shared>>, body: Bytes) -> Resp {
    match serde_json::from_slice::<ClockReq>(&body) {
        Ok(r) => {
            sh.clock.advance(Duration::from_secs(r.advance_secs));
            json_response(StatusCode::OK, json!({"ok": true, "now_ms": sh.now_ms()}))
        }
        Err(e) => bad(&format!("expected {{\"advance_secs\": n}}: {e}")),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigReq {
    auto_approve: Option<bool>,
    issuer_quirk: Option<bool>,
    dcr: Option<bool>,
    response_mode: Option<String>,
}

/// `POST /__sim/config` `{"auto_approve"?, "issuer_quirk"?, "dcr"?, "response_mode"?: "json"|"sse"}`.
pub(crate) async fn config(State(sh): State<Arc<Shared>>, body: Bytes) -> Resp {
    let req: ConfigReq = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => return bad(&e.to_string()),
    };
    let mode = match req.response_mode.as_deref() {
        None => None,
        Some("json") => Some(ResponseMode::Json),
        Some("sse") => Some(ResponseMode::Sse),
        Some(_) => return bad("response_mode must be json or sse"),
    };
    if let Some(v) = req.auto_approve {
        sh.auto_approve.store(v, Ordering::SeqCst);
    }
    if let Some(v) = req.issuer_quirk {
        sh.issuer_quirk.store(v, Ordering::SeqCst);
    }
    if let Some(v) = req.dcr {
        sh.dcr.store(v, Ordering::SeqCst);
    }
    if let Some(m) = mode {
        sh.set_response_mode(m);
    }
    json_response(StatusCode::OK, json!({"ok": true}))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenReq {
    user: Option<String>,
    role: Option<String>,
}

/// `POST /__sim/tokens` `{"user"?: email, "role"?: "member"|"read_only"|"no_access"}` →
/// `{"token": ...}` (a new personal token).
pub(crate) async fn tokens(State(sh): State<Arc<Shared>>, body: Bytes) -> Resp {
    let req: TokenReq = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => return bad(&e.to_string()),
    };
    let role = match req.role.as_deref().map(str::parse::<Role>).transpose() {
        Ok(r) => r.unwrap_or_default(),
        Err(e) => return bad(&e),
    };
    let token = random_token("wbp");
    let user = req.user.unwrap_or_else(|| sh.login_user.clone());
    sh.store().personal_token(token.clone(), &user, role);
    json_response(StatusCode::OK, json!({"token": token}))
}
