//! WorkBoard REST API (`/wb/apis/...` and the seed's `/wb/goal/{id}`) with `success` envelopes.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, Response, StatusCode};
use serde_json::{json, Value};

use crate::oauth::bearer;
use crate::server::json_response;
use crate::state::{Shared, TokenKind};

type Resp = Response<Body>;

/// Query parameters that would carry a token (refused: tokens go in the header only).
const TOKEN_PARAMS: [&str; 4] = ["access_token", "token", "bearer", "api_key"];

fn error(status: StatusCode, error: &str, description: &str) -> Resp {
    json_response(
        status,
        json!({"success": false, "error": error, "error_description": description}),
    )
}

fn ok(message: &str, data: Value) -> Resp {
    json_response(
        StatusCode::OK,
        json!({"success": true, "message": message, "data": data}),
    )
}

/// The user id of the caller, or the error response.
fn caller(sh: &Shared, headers: &HeaderMap, query: Option<&str>) -> Result<u64, Resp> {
    let in_query = url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .any(|(k, _)| TOKEN_PARAMS.contains(&k.as_ref()));
    if in_query {
        return Err(error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "access tokens are accepted only in the Authorization header",
        ));
    }
    let unauthorized = |e: &str, d: &str| {
        let mut r = error(StatusCode::UNAUTHORIZED, e, d);
        r.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        r
    };
    let Some(token) = bearer(headers) else {
        return Err(unauthorized(
            "unauthorized",
            "Authorization: bearer <token> is required",
        ));
    };
    let now = sh.now_ms();
    let store = sh.store();
    let Some(t) = store.tokens.get(&token) else {
        return Err(unauthorized(
            "invalid_token",
            "the access token is unknown or revoked",
        ));
    };
    if t.expires_at_ms.is_some_and(|e| e <= now) {
        return Err(unauthorized("invalid_token", "the access token expired"));
    }
    if t.kind == TokenKind::Personal {
        return Err(error(
            StatusCode::FORBIDDEN,
            "insufficient_scope",
            "personal tokens are scoped to MCP only and cannot call other WorkBoard APIs",
        ));
    }
    Ok(t.user_id)
}

/// `GET /wb/apis/user`.
pub(crate) async fn user(
    State(sh): State<Arc<Shared>>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Resp {
    let uid = match caller(&sh, &headers, q.as_deref()) {
        Ok(u) => u,
        Err(r) => return r,
    };
    let data = sh.store().data.user_json(uid);
    ok("User details", json!({"user": data}))
}

/// `GET /wb/apis/team`.
pub(crate) async fn teams(
    State(sh): State<Arc<Shared>>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Resp {
    if let Err(r) = caller(&sh, &headers, q.as_deref()) {
        return r;
    }
    let store = sh.store();
    let teams: Vec<Value> = store
        .data
        .teams
        .iter()
        .map(|t| store.data.team_json(t))
        .collect();
    ok("Teams", json!({"totalCount": teams.len(), "team": teams}))
}

/// `GET /wb/apis/metric`.
pub(crate) async fn metrics(
    State(sh): State<Arc<Shared>>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Resp {
    if let Err(r) = caller(&sh, &headers, q.as_deref()) {
        return r;
    }
    let store = sh.store();
    let kpis: Vec<Value> = store
        .data
        .kpis
        .iter()
        .map(|k| store.data.kpi_json(k))
        .collect();
    ok("Metrics", json!({"totalCount": kpis.len(), "metric": kpis}))
}

/// `GET /wb/apis/goal/{id}` and `GET /wb/goal/{id}`.
pub(crate) async fn goal(
    State(sh): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Resp {
    if let Err(r) = caller(&sh, &headers, q.as_deref()) {
        return r;
    }
    let Ok(id) = id.parse::<u64>() else {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "goal id must be a number",
        );
    };
    let store = sh.store();
    match store.data.objective(id) {
        Some(o) => ok(
            "Goal details",
            json!({"goal": store.data.objective_json(o)}),
        ),
        None => error(
            StatusCode::BAD_REQUEST,
            "not_found",
            &format!("goal {id} does not exist"),
        ),
    }
}
