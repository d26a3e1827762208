//! The HTTP server: accept loop (hyper, HTTP/1.1), the request pipeline (counters, CORS,
//! latency, faults, logging) and the route table.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, Method, Request, Response, StatusCode};
use axum::routing::{get, post};
use axum::Router;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tower::ServiceExt;

use crate::faults::Injected;
use crate::state::Shared;
use crate::{control, mcp, oauth, rest};

/// Marker extension: the connection must be closed without writing this response.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DropConnection;

/// The error hyper sees when a connection is dropped on purpose.
#[derive(Debug)]
pub(crate) struct Dropped;

impl fmt::Display for Dropped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("connection dropped by fault injection")
    }
}

impl std::error::Error for Dropped {}

/// The route table.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/wb/oauth/authorize", get(oauth::authorize))
        .route("/wb/oauth/authorize/decision", post(oauth::decision))
        .route("/wb/oauth/token", post(oauth::token))
        .route("/wb/oauth/revoke/", post(oauth::revoke))
        .route("/wb/oauth/register", post(oauth::register))
        .route(
            "/.well-known/oauth-protected-resource",
            get(oauth::resource_metadata),
        )
        .route(
            "/.well-known/oauth-protected-resource/wb/mcp",
            get(oauth::resource_metadata),
        )
        .route(
            "/.well-known/oauth-authorization-server/wb/oauth",
            get(oauth::auth_server_metadata),
        )
        .route("/wb/mcp", post(mcp::post).get(mcp::get).delete(mcp::delete))
        .route("/wb/apis/user", get(rest::user))
        .route("/wb/apis/team", get(rest::teams))
        .route("/wb/apis/metric", get(rest::metrics))
        .route("/wb/apis/goal/{id}", get(rest::goal))
        .route("/wb/goal/{id}", get(rest::goal))
        .route("/__sim/stats", get(control::stats))
        .route("/__sim/faults", post(control::faults))
        .route("/__sim/clock", post(control::clock))
        .route("/__sim/config", post(control::config))
        .route("/__sim/tokens", post(control::tokens))
        .route("/__sim/notify", post(control::notify))
        .with_state(shared)
}

/// The counter/fault key of a path.
pub(crate) fn route_key(path: &str) -> &'static str {
    match path {
        "/wb/oauth/authorize" => "authorize",
        "/wb/oauth/authorize/decision" => "authorize_decision",
        "/wb/oauth/token" => "token",
        "/wb/oauth/revoke/" => "revoke",
        "/wb/oauth/register" => "register",
        "/wb/mcp" => "mcp",
        p if p.starts_with("/.well-known/oauth-protected-resource") => "resource_metadata",
        p if p.starts_with("/.well-known/oauth-authorization-server") => "auth_server_metadata",
        p if p.starts_with("/wb/apis/") || p.starts_with("/wb/goal/") => "rest",
        p if p.starts_with("/__sim/") => "sim",
        _ => "other",
    }
}

/// Whether a browser origin may call the simulator: loopback origins always, plus the
/// configured extra ones (`*` = any).
pub(crate) fn origin_allowed(shared: &Shared, origin: &str) -> bool {
    if shared.extra_origins.iter().any(|o| o == "*" || o == origin) {
        return true;
    }
    let Ok(url) = url::Url::parse(origin) else {
        return false;
    };
    if !matches!(url.scheme(), "http" | "https") {
        return false;
    }
    matches!(
        url.host_str(),
        Some("127.0.0.1") | Some("localhost") | Some("[::1]")
    )
}

const EXPOSE_HEADERS: &str = "Mcp-Session-Id, WWW-Authenticate, Retry-After, MCP-Protocol-Version";
const ALLOW_HEADERS: &str =
    "Authorization, Content-Type, Accept, Mcp-Session-Id, MCP-Protocol-Version, Last-Event-ID, Mcp-Method, Mcp-Name";

/// The allowed request headers of a preflight: the fixed list plus the `Mcp-Param-*` headers
/// the browser asks for (their names depend on the tools).
fn allow_headers(requested: Option<&HeaderValue>) -> HeaderValue {
    let mut list = ALLOW_HEADERS.to_string();
    if let Some(req) = requested.and_then(|v| v.to_str().ok()) {
        for name in req.split(',').map(str::trim).take(32) {
            let valid = name.len() <= 64
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            if valid && name.to_ascii_lowercase().starts_with("mcp-param-") {
                list.push_str(", ");
                list.push_str(name);
            }
        }
    }
    HeaderValue::from_str(&list).unwrap_or(HeaderValue::from_static(ALLOW_HEADERS))
}
const ALLOW_METHODS: &str = "GET, POST, DELETE, OPTIONS";

fn add_cors(headers: &mut HeaderMap, origin: &HeaderValue) {
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
    headers.insert(header::VARY, HeaderValue::from_static("Origin"));
    headers.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static(EXPOSE_HEADERS),
    );
}

fn plain(status: StatusCode, body: &'static str) -> Response<Body> {
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = status;
    r
}

/// One request through the pipeline.
async fn dispatch(
    shared: Arc<Shared>,
    router: Router,
    req: Request<hyper::body::Incoming>,
) -> Result<Response<Body>, Dropped> {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let route = route_key(&path);
    let origin = req
        .headers()
        .get(header::ORIGIN)
        .filter(|o| o.to_str().is_ok_and(|o| origin_allowed(&shared, o)))
        .cloned();

    if method == Method::OPTIONS
        && req
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
    {
        let requested_headers = req
            .headers()
            .get(header::ACCESS_CONTROL_REQUEST_HEADERS)
            .cloned();
        shared.count("preflight");
        let mut resp = match &origin {
            Some(o) => {
                let mut r = plain(StatusCode::NO_CONTENT, "");
                add_cors(r.headers_mut(), o);
                let h = r.headers_mut();
                h.insert(
                    header::ACCESS_CONTROL_ALLOW_METHODS,
                    HeaderValue::from_static(ALLOW_METHODS),
                );
                h.insert(
                    header::ACCESS_CONTROL_ALLOW_HEADERS,
                    allow_headers(requested_headers.as_ref()),
                );
                h.insert(
                    header::ACCESS_CONTROL_MAX_AGE,
                    HeaderValue::from_static("600"),
                );
                r
            }
            None => plain(StatusCode::FORBIDDEN, "origin not allowed"),
        };
        log(&shared, &method, &path, resp.status());
        resp.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        return Ok(resp);
    }

    shared.count(route);
    if route != "sim" {
        let latency = shared.faults.latency();
        if !latency.is_zero() {
            tokio::time::sleep(latency).await;
        }
        if let Some(injected) = shared.faults.take(route) {
            let mut resp = match injected {
                Injected::Drop(hold_ms) => {
                    if hold_ms > 0 {
                        tokio::time::sleep(Duration::from_millis(hold_ms)).await;
                    }
                    shared.count("fault:drop");
                    log(
                        &shared,
                        &method,
                        &path,
                        StatusCode::from_u16(599).unwrap_or(StatusCode::BAD_GATEWAY),
                    );
                    return Err(Dropped);
                }
                Injected::Status(s) => {
                    shared.count("fault:status");
                    let status = StatusCode::from_u16(s).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
                    json_response(
                        status,
                        serde_json::json!({"error": "simulated_failure", "error_description": "injected by the simulator"}),
                    )
                }
                Injected::RateLimit(secs) => {
                    shared.count("fault:rate_limit");
                    let mut r = json_response(
                        StatusCode::TOO_MANY_REQUESTS,
                        serde_json::json!({"error": "rate_limited", "error_description": "too many requests"}),
                    );
                    if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                        r.headers_mut().insert(header::RETRY_AFTER, v);
                    }
                    r
                }
            };
            if let Some(o) = &origin {
                add_cors(resp.headers_mut(), o);
            }
            log(&shared, &method, &path, resp.status());
            return Ok(resp);
        }
    }

    if route == "mcp" && req.headers().contains_key(header::ORIGIN) && origin.is_none() {
        let resp = plain(StatusCode::FORBIDDEN, "origin not allowed");
        log(&shared, &method, &path, resp.status());
        return Ok(resp);
    }

    let resp = match router.oneshot(req.map(Body::new)).await {
        Ok(r) => r,
        Err(never) => match never {},
    };
    let mut resp: Response<Body> = resp;
    if resp.extensions().get::<DropConnection>().is_some() {
        return Err(Dropped);
    }
    if let Some(o) = &origin {
        add_cors(resp.headers_mut(), o);
    }
    log(&shared, &method, &path, resp.status());
    Ok(resp)
}

/// Logs `METHOD PATH STATUS` (the path only: never a query string or header).
fn log(shared: &Shared, method: &Method, path: &str, status: StatusCode) {
    if shared.log_requests {
        eprintln!("{}", log_line(method, path, status));
    }
}

pub(crate) fn log_line(method: &Method, path: &str, status: StatusCode) -> String {
    let path = path.split('?').next().unwrap_or_default();
    format!("{method} {path} {}", status.as_u16())
}

/// A JSON response with a status.
pub(crate) fn json_response(status: StatusCode, body: serde_json::Value) -> Response<Body> {
    let mut r = Response::new(Body::from(body.to_string()));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// Accepts connections until `shutdown` flips to true, then aborts every connection.
pub(crate) async fn serve(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    let app = router(shared.clone());
    let mut conns: JoinSet<()> = JoinSet::new();
    loop {
        tokio::select! {
            changed = shutdown.changed() => {
                if changed.is_err() || *shutdown.borrow() {
                    break;
                }
            }
            accepted = listener.accept() => {
                let stream = match accepted {
                    Ok((stream, _)) => stream,
                    Err(_) => {
                        // Out of file descriptors or similar: back off instead of spinning.
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let shared = shared.clone();
                let app = app.clone();
                conns.spawn(async move {
                    let svc = hyper::service::service_fn(move |req| {
                        dispatch(shared.clone(), app.clone(), req)
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .keep_alive(true)
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
    conns.abort_all();
    while conns.join_next().await.is_some() {}
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn log_lines_never_carry_a_query() {
        let line = log_line(
            &Method::GET,
            "/wb/goal/1?access_token=secret123",
            StatusCode::BAD_REQUEST,
        );
        assert_eq!(line, "GET /wb/goal/1 400");
        assert!(!line.contains("secret123"));
    }

    #[test]
    fn route_keys() {
        assert_eq!(route_key("/wb/mcp"), "mcp");
        assert_eq!(route_key("/wb/goal/7"), "rest");
        assert_eq!(
            route_key("/.well-known/oauth-protected-resource/wb/mcp"),
            "resource_metadata"
        );
        assert_eq!(route_key("/wb/oauth/revoke"), "other");
    }
}
