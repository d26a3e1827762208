//! Control endpoints under `/__sim/` for tests that are not written in Rust.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{Response, StatusCode};
use serde::Deserialize;
use serde_json::json;

use crate::config::{Era, ResponseMode, Role};
use crate::server::json_response;
use crate::state::{random_token, Change, Shared};

type Resp = Response<Body>;

fn bad(msg: &str) -> Resp {
    json_response(
        StatusCode::BAD_REQUEST,
        json!({"error": "invalid_request", "error_description": msg}),
    )
}

/// `GET /__sim/stats`: `{"counters": {...}, "sessions": n, "listeners": n, "era": ..,
/// "now_ms": ...}`.
pub(crate) async fn stats(State(sh): State<Arc<Shared>>) -> Resp {
    let sessions = sh.store().sessions.len();
    json_response(
        StatusCode::OK,
        json!({"counters": sh.counters(), "sessions": sessions,
               "listeners": sh.listeners.load(Ordering::SeqCst),
               "era": sh.era().as_str(), "now_ms": sh.now_ms()}),
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NotifyReq {
    tools_list_changed: Option<bool>,
    prompts_list_changed: Option<bool>,
    resources_list_changed: Option<bool>,
    resource_updated: Option<String>,
}

/// `POST /__sim/notify` `{"tools_list_changed"?: true, "prompts_list_changed"?: true,
/// "resources_list_changed"?: true, "resource_updated"?: uri}`: announces changes to open
/// `subscriptions/listen` and legacy `GET` streams.
pub(crate) async fn notify(State(sh): State<Arc<Shared>>, body: Bytes) -> Resp {
    let req: NotifyReq = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => return bad(&e.to_string()),
    };
    if req
        .resource_updated
        .as_ref()
        .is_some_and(|u| u.is_empty() || u.len() > 512)
    {
        return bad("resource_updated must be a URI of 1..512 bytes");
    }
    if req.tools_list_changed == Some(true) {
        sh.announce(Change::ToolsList);
    }
    if req.prompts_list_changed == Some(true) {
        sh.announce(Change::PromptsList);
    }
    if req.resources_list_changed == Some(true) {
        sh.announce(Change::ResourcesList);
    }
    if let Some(uri) = req.resource_updated {
        sh.announce(Change::ResourceUpdated(uri));
    }
    json_response(StatusCode::OK, json!({"ok": true}))
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
    era: Option<String>,
}

/// `POST /__sim/config` `{"auto_approve"?, "issuer_quirk"?, "dcr"?, "response_mode"?: "json"|"sse",
/// "era"?: "modern"|"legacy"|"dual"}`.
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
    let era = match req.era.as_deref().map(str::parse::<Era>).transpose() {
        Ok(e) => e,
        Err(e) => return bad(&e),
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
    if let Some(e) = era {
        sh.set_era(e);
    }
    json_response(
        StatusCode::OK,
        json!({"ok": true, "era": sh.era().as_str()}),
    )
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
