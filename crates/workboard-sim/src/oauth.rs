//! OAuth endpoints: WorkBoard v1 (`client_hash`, `success` envelopes, `json_code`) and
//! OAuth 2.1 for MCP (PKCE S256, refresh rotation, RFC 8414/9728 metadata, RFC 7591 DCR) on
//! the same authorize and token URLs.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, Response, StatusCode};
use base64::Engine;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::config::{ClientConfig, Role};
use crate::server::json_response;
use crate::state::{
    random_token, CodeRecord, PendingAuthz, RefreshRecord, Shared, Store, TokenKind, TokenRecord,
};

/// Lifetime of an authorization code (5 minutes, as documented by WorkBoard).
pub(crate) const CODE_TTL_MS: u64 = 5 * 60 * 1000;
/// Lifetime of a v1 access token (one year).
pub(crate) const V1_TOKEN_TTL_MS: u64 = 365 * 24 * 3600 * 1000;
/// Lifetime of an OAuth 2.1 access token (`expires_in` 3600).
pub(crate) const OAUTH2_TOKEN_TTL_SECS: u64 = 3600;
/// Lifetime of a refresh token (30 days).
pub(crate) const REFRESH_TTL_MS: u64 = 30 * 24 * 3600 * 1000;
const PENDING_TTL_MS: u64 = 10 * 60 * 1000;
const KNOWN_SCOPES: [&str; 3] = ["all", "read", "write"];

type Resp = Response<Body>;

/// Parses `application/x-www-form-urlencoded` data; a repeated parameter is an error.
pub(crate) fn parse_form(data: &[u8]) -> Result<HashMap<String, String>, String> {
    let mut out = HashMap::new();
    for (k, v) in url::form_urlencoded::parse(data) {
        if out.insert(k.to_string(), v.to_string()).is_some() {
            return Err(format!("parameter `{k}` is repeated"));
        }
    }
    Ok(out)
}

/// Compares secrets without an early exit.
pub(crate) fn ct_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// PKCE S256: `BASE64URL-NOPAD(SHA256(verifier))`.
pub(crate) fn s256(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// Scopes from a comma- or space-separated list; empty = `all`.
pub(crate) fn parse_scopes(raw: Option<&str>) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    for s in raw
        .unwrap_or_default()
        .split([',', ' '])
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        if !KNOWN_SCOPES.contains(&s) {
            return Err(format!("unknown scope `{s}` (known: all, read, write)"));
        }
        if !out.iter().any(|x| x == s) {
            out.push(s.to_string());
        }
    }
    if out.is_empty() {
        out.push("all".to_string());
    }
    Ok(out)
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn html(status: StatusCode, title: &str, body: &str) -> Resp {
    let page = format!(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>{t}</title></head>\n<body>\n<h1 id=\"title\">{t}</h1>\n{body}\n</body></html>\n",
        t = html_escape(title)
    );
    let mut r = Response::new(Body::from(page));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

fn error_page(title: &str, message: &str) -> Resp {
    html(
        StatusCode::BAD_REQUEST,
        title,
        &format!("<p id=\"error\">{}</p>", html_escape(message)),
    )
}

fn redirect(location: &str) -> Resp {
    let mut r = Response::new(Body::empty());
    *r.status_mut() = StatusCode::FOUND;
    if let Ok(v) = HeaderValue::from_str(location) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// `uri` with extra query parameters appended (existing ones kept).
fn with_params(uri: &str, params: &[(&str, &str)]) -> String {
    match url::Url::parse(uri) {
        Ok(mut u) => {
            {
                let mut q = u.query_pairs_mut();
                for (k, v) in params {
                    q.append_pair(k, v);
                }
            }
            u.to_string()
        }
        Err(_) => {
            let sep = if uri.contains('?') { '&' } else { '?' };
            let q: String = url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(params.iter())
                .finish();
            format!("{uri}{sep}{q}")
        }
    }
}

/// Where an authorization result goes and in which dialect.
struct Reply<'a> {
    oauth2: bool,
    json: bool,
    redirect_uri: &'a str,
    state: Option<&'a str>,
}

impl Reply<'_> {
    fn error(&self, error: &str, message: &str) -> Resp {
        if self.json {
            return json_response(
                StatusCode::BAD_REQUEST,
                json!({"success": false, "error": error, "error_message": message, "state": self.state}),
            );
        }
        let key = if self.oauth2 {
            "error_description"
        } else {
            "error_message"
        };
        let mut p = vec![("error", error), (key, message)];
        if let Some(s) = self.state {
            p.push(("state", s));
        }
        redirect(&with_params(self.redirect_uri, &p))
    }

    fn code(&self, code: &str) -> Resp {
        if self.json {
            return json_response(
                StatusCode::OK,
                json!({"success": true, "code": code, "state": self.state}),
            );
        }
        let mut p = vec![("code", code)];
        if let Some(s) = self.state {
            p.push(("state", s));
        }
        redirect(&with_params(self.redirect_uri, &p))
    }
}

fn issue_code(store: &mut Store, now: u64, p: &PendingAuthz, user_id: u64) -> String {
    let code = random_token("wbc");
    store.codes.insert(
        code.clone(),
        CodeRecord {
            client_id: p.client_id.clone(),
            redirect_uri: p.redirect_uri.clone(),
            redirect_explicit: p.redirect_explicit,
            scopes: p.scopes.clone(),
            user_id,
            expires_at_ms: now + CODE_TTL_MS,
            code_challenge: p.code_challenge.clone(),
            resource: p.resource.clone(),
        },
    );
    code
}

/// `GET /wb/oauth/authorize` — v1 (`json_code` or redirect) and OAuth 2.1 (`response_type=code`).
pub(crate) async fn authorize(State(sh): State<Arc<Shared>>, RawQuery(q): RawQuery) -> Resp {
    let params = match parse_form(q.unwrap_or_default().as_bytes()) {
        Ok(p) => p,
        Err(e) => return error_page("Invalid request", &e),
    };
    let get = |k: &str| params.get(k).map(String::as_str);
    let response_type = get("response_type");
    let oauth2 = response_type == Some("code");
    let json = response_type == Some("json_code");
    let state = get("state");
    let redirect_param = get("redirect_uri");
    let now = sh.now_ms();
    let mut store = sh.store();

    let client: Option<ClientConfig> = get("client_id")
        .and_then(|id| store.clients.get(id))
        .map(|c| c.config.clone());
    let Some(client) = client else {
        let message = "The client_id is not a registered app";
        if json {
            return Reply {
                oauth2,
                json,
                redirect_uri: "",
                state,
            }
            .error("invalid_client_id", message);
        }
        let known_redirect = redirect_param.filter(|r| {
            store
                .clients
                .values()
                .any(|c| c.config.redirect_uris.iter().any(|u| u == r))
        });
        return match known_redirect {
            Some(r) if !oauth2 => Reply {
                oauth2,
                json,
                redirect_uri: r,
                state,
            }
            .error("invalid_client_id", message),
            _ => error_page("Unknown app", message),
        };
    };

    let redirect_uri = match redirect_param {
        Some(r) if client.redirect_uris.iter().any(|u| u == r) => r.to_string(),
        Some(_) => {
            let msg = "Redirect URL error: the redirect_uri does not match the App Redirect URI registered in WorkBoard (exact match required)";
            if json {
                return json_response(
                    StatusCode::BAD_REQUEST,
                    json!({"success": false, "error": "invalid_redirect_uri", "error_message": msg, "state": state}),
                );
            }
            return error_page("Redirect URL error", msg);
        }
        None => match client.redirect_uris.first() {
            Some(r) => r.clone(),
            None => {
                return error_page(
                    "Redirect URL error",
                    "the app has no registered redirect URI",
                )
            }
        },
    };
    let reply = Reply {
        oauth2,
        json,
        redirect_uri: &redirect_uri,
        state,
    };

    if let Some(rt) = response_type {
        if rt != "code" && rt != "json_code" {
            return reply.error(
                "unsupported_response_type",
                "response_type must be code or json_code",
            );
        }
    }
    let scopes = match parse_scopes(get("scope")) {
        Ok(s) => s,
        Err(e) => return reply.error("invalid_scope", &e),
    };
    let mut code_challenge = None;
    let mut resource = None;
    if oauth2 {
        match (get("code_challenge"), get("code_challenge_method")) {
            (Some(c), Some("S256")) if (43..=128).contains(&c.len()) => {
                code_challenge = Some(c.to_string())
            }
            (Some(_), Some("S256")) => {
                return reply.error(
                    "invalid_request",
                    "code_challenge must be 43 to 128 characters",
                )
            }
            (Some(_), _) => {
                return reply.error(
                    "invalid_request",
                    "code_challenge_method must be S256 (plain is not supported)",
                )
            }
            (None, _) => {
                return reply.error(
                    "invalid_request",
                    "PKCE is required: send code_challenge with code_challenge_method=S256",
                )
            }
        }
        if let Some(r) = get("resource") {
            if r != sh.mcp_url() {
                return reply.error("invalid_target", "resource must be the MCP server URL");
            }
            resource = Some(r.to_string());
        }
    } else if get("code_challenge").is_some() {
        code_challenge = get("code_challenge").map(str::to_string);
        if get("code_challenge_method") != Some("S256") {
            return reply.error("invalid_request", "code_challenge_method must be S256");
        }
    }

    let pending = PendingAuthz {
        oauth2,
        client_id: client.client_id.clone(),
        redirect_uri: redirect_uri.clone(),
        redirect_explicit: redirect_param.is_some(),
        scopes,
        state: state.map(str::to_string),
        code_challenge,
        resource,
        expires_at_ms: now + PENDING_TTL_MS,
    };
    let user_id = store.data.user_id_for(&sh.login_user);
    if json || sh.auto_approve.load(std::sync::atomic::Ordering::SeqCst) {
        let code = issue_code(&mut store, now, &pending, user_id);
        return reply.code(&code);
    }

    store.pending.retain(|_, p| p.expires_at_ms > now);
    let request_id = random_token("wbq");
    let scope_items: String = pending
        .scopes
        .iter()
        .map(|s| format!("<li class=\"scope\">{}</li>", html_escape(s)))
        .collect();
    store.pending.insert(request_id.clone(), pending);
    let body = format!(
        "<p id=\"app-name\">{app}</p>\n<p>wants to access your WorkBoard account ({user}) with these scopes:</p>\n<ul id=\"scopes\">{scope_items}</ul>\n<form id=\"consent\" method=\"post\" action=\"/wb/oauth/authorize/decision\">\n<input type=\"hidden\" name=\"request_id\" value=\"{rid}\">\n<button type=\"submit\" id=\"approve\" name=\"decision\" value=\"approve\">Approve</button>\n<button type=\"submit\" id=\"deny\" name=\"decision\" value=\"deny\">Deny</button>\n</form>",
        app = html_escape(&client.name),
        user = html_escape(&sh.login_user),
        rid = html_escape(&request_id),
    );
    html(StatusCode::OK, "Authorize app", &body)
}

/// `POST /wb/oauth/authorize/decision` — the consent form (`request_id`, `decision`).
pub(crate) async fn decision(State(sh): State<Arc<Shared>>, body: Bytes) -> Resp {
    let form = match parse_form(&body) {
        Ok(f) => f,
        Err(e) => return error_page("Invalid request", &e),
    };
    let now = sh.now_ms();
    let mut store = sh.store();
    let Some(pending) = form
        .get("request_id")
        .and_then(|id| store.pending.remove(id))
    else {
        return error_page(
            "Invalid request",
            "this authorization request is unknown, expired or already answered",
        );
    };
    if pending.expires_at_ms <= now {
        return error_page(
            "Invalid request",
            "this authorization request expired; start again",
        );
    }
    let reply = Reply {
        oauth2: pending.oauth2,
        json: false,
        redirect_uri: &pending.redirect_uri,
        state: pending.state.as_deref(),
    };
    match form.get("decision").map(String::as_str) {
        Some("approve") => {
            let user_id = store.data.user_id_for(&sh.login_user);
            let code = issue_code(&mut store, now, &pending, user_id);
            reply.code(&code)
        }
        Some("deny") => reply.error("access_denied", "The user denied the request"),
        _ => error_page("Invalid request", "decision must be approve or deny"),
    }
}

fn v1_error(error: &str, description: &str) -> Resp {
    json_response(
        StatusCode::BAD_REQUEST,
        json!({"success": false, "error": error, "error_description": description}),
    )
}

fn oauth_error(error: &str, description: &str) -> Resp {
    let status = if error == "invalid_client" {
        StatusCode::UNAUTHORIZED
    } else {
        StatusCode::BAD_REQUEST
    };
    json_response(
        status,
        json!({"error": error, "error_description": description}),
    )
}

/// `Authorization: Basic` credentials (RFC 6749 §2.3.1: form-urlencoded id and secret).
fn basic_credentials(headers: &HeaderMap) -> Option<Result<(String, String), ()>> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, rest) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(rest.trim())
        .ok();
    let text = decoded.and_then(|d| String::from_utf8(d).ok());
    let Some((id, secret)) = text.as_deref().and_then(|t| t.split_once(':')) else {
        return Some(Err(()));
    };
    let dec = |s: &str| {
        url::form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map(|(_, v)| v.to_string())
            .unwrap_or_default()
    };
    Some(Ok((dec(id), dec(secret))))
}

/// Client authentication of the OAuth 2.1 grants: basic, post, or none for public clients.
fn authenticate_client(
    store: &Store,
    headers: &HeaderMap,
    form: &HashMap<String, String>,
) -> Result<String, Resp> {
    let (id, secret) = match basic_credentials(headers) {
        Some(Ok((id, secret))) => {
            if form.get("client_id").is_some_and(|f| *f != id) {
                return Err(oauth_error(
                    "invalid_request",
                    "client_id differs from the Basic credentials",
                ));
            }
            (id, Some(secret))
        }
        Some(Err(())) => return Err(oauth_error("invalid_client", "malformed Basic credentials")),
        None => {
            let Some(id) = form.get("client_id") else {
                return Err(oauth_error(
                    "invalid_client",
                    "client authentication is required",
                ));
            };
            let secret = form
                .get("client_secret")
                .or_else(|| form.get("client_hash"));
            (id.clone(), secret.cloned())
        }
    };
    let Some(client) = store.clients.get(&id) else {
        return Err(oauth_error("invalid_client", "unknown client"));
    };
    match (&client.config.client_hash, secret) {
        (Some(expected), Some(given)) if ct_eq(expected, &given) => Ok(id),
        (Some(_), _) => Err(oauth_error(
            "invalid_client",
            "client authentication failed",
        )),
        (None, None) => Ok(id),
        (None, Some(s)) if s.is_empty() => Ok(id),
        (None, Some(_)) => Err(oauth_error(
            "invalid_client",
            "a public client has no secret",
        )),
    }
}

fn new_access_token(
    store: &mut Store,
    kind: TokenKind,
    user_id: u64,
    scopes: Vec<String>,
    expires_at_ms: u64,
    grant_id: u64,
) -> String {
    let prefix = if kind == TokenKind::V1 { "wb1" } else { "wba" };
    let token = random_token(prefix);
    store.tokens.insert(
        token.clone(),
        TokenRecord {
            kind,
            user_id,
            role: Role::Member,
            scopes,
            expires_at_ms: Some(expires_at_ms),
            grant_id,
        },
    );
    token
}

fn oauth2_tokens(
    store: &mut Store,
    now: u64,
    client_id: &str,
    user_id: u64,
    scopes: Vec<String>,
    grant_id: u64,
) -> Resp {
    let access = new_access_token(
        store,
        TokenKind::OAuth2,
        user_id,
        scopes.clone(),
        now + OAUTH2_TOKEN_TTL_SECS * 1000,
        grant_id,
    );
    let refresh = random_token("wbr");
    store.refresh.insert(
        refresh.clone(),
        RefreshRecord {
            client_id: client_id.to_string(),
            user_id,
            scopes: scopes.clone(),
            expires_at_ms: now + REFRESH_TTL_MS,
            grant_id,
        },
    );
    json_response(
        StatusCode::OK,
        json!({
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": OAUTH2_TOKEN_TTL_SECS,
            "refresh_token": refresh,
            "scope": scopes.join(" "),
        }),
    )
}

/// `POST /wb/oauth/token` — v1 (`client_hash`, no `grant_type`) and OAuth 2.1 grants.
pub(crate) async fn token(State(sh): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Resp {
    let form = match parse_form(&body) {
        Ok(f) => f,
        Err(e) => return oauth_error("invalid_request", &e),
    };
    match form.get("grant_type").map(String::as_str) {
        None => {
            sh.count("token:v1");
            v1_token(&sh, &form)
        }
        Some("authorization_code") => {
            sh.count("token:authorization_code");
            code_grant(&sh, &headers, &form)
        }
        Some("refresh_token") => {
            sh.count("token:refresh_token");
            refresh_grant(&sh, &headers, &form)
        }
        Some("client_credentials") => {
            sh.count("token:client_credentials");
            client_credentials_grant(&sh, &headers, &form)
        }
        Some(_) => oauth_error(
            "unsupported_grant_type",
            "grant_type must be authorization_code, refresh_token or client_credentials",
        ),
    }
}

fn v1_token(sh: &Shared, form: &HashMap<String, String>) -> Resp {
    let (Some(client_id), Some(hash)) = (form.get("client_id"), form.get("client_hash")) else {
        return v1_error("invalid_request", "client_id and client_hash are required");
    };
    let Some(code) = form.get("code") else {
        return v1_error("invalid_request", "code is required");
    };
    let now = sh.now_ms();
    let mut store = sh.store();
    let authenticated = store
        .clients
        .get(client_id)
        .and_then(|c| c.config.client_hash.as_deref())
        .is_some_and(|h| ct_eq(h, hash));
    if !authenticated {
        return v1_error("invalid_client", "unknown client_id or wrong client_hash");
    }
    let Some(record) = store.codes.remove(code) else {
        return v1_error(
            "invalid_grant",
            "the authorization code is invalid, expired or already used",
        );
    };
    if record.client_id != *client_id {
        return v1_error(
            "invalid_grant",
            "the authorization code was issued to another client",
        );
    }
    if record.expires_at_ms <= now {
        // Echoes the code, as WorkBoard's own error text does ("code … rejected"): clients
        // must scrub it before showing the message.
        return v1_error(
            "invalid_grant",
            &format!(
                "code {code} rejected: the authorization code expired (codes are valid 5 minutes)"
            ),
        );
    }
    if record.code_challenge.is_some() {
        return v1_error(
            "invalid_grant",
            "this code was issued with PKCE: use grant_type=authorization_code with code_verifier",
        );
    }
    if form
        .get("redirect_uri")
        .is_some_and(|r| *r != record.redirect_uri)
    {
        return v1_error(
            "invalid_grant",
            "redirect_uri does not match the authorization request",
        );
    }
    let grant = store.new_grant();
    let scope = record.scopes.join(",");
    let token = new_access_token(
        &mut store,
        TokenKind::V1,
        record.user_id,
        record.scopes,
        now + V1_TOKEN_TTL_MS,
        grant,
    );
    json_response(
        StatusCode::OK,
        json!({"success": true, "access_token": token, "scope": scope, "token_type": "bearer"}),
    )
}

fn valid_verifier(v: &str) -> bool {
    (43..=128).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

fn code_grant(sh: &Shared, headers: &HeaderMap, form: &HashMap<String, String>) -> Resp {
    let now = sh.now_ms();
    let mut store = sh.store();
    let client_id = match authenticate_client(&store, headers, form) {
        Ok(id) => id,
        Err(r) => return r,
    };
    let public = store
        .clients
        .get(&client_id)
        .is_some_and(|c| c.config.client_hash.is_none());
    let Some(code) = form.get("code") else {
        return oauth_error("invalid_request", "code is required");
    };
    let Some(record) = store.codes.remove(code) else {
        return oauth_error(
            "invalid_grant",
            "the authorization code is invalid, expired or already used",
        );
    };
    if record.client_id != client_id {
        return oauth_error(
            "invalid_grant",
            "the authorization code was issued to another client",
        );
    }
    if record.expires_at_ms <= now {
        return oauth_error("invalid_grant", "the authorization code expired");
    }
    match form.get("redirect_uri") {
        Some(r) if *r != record.redirect_uri => {
            return oauth_error(
                "invalid_grant",
                "redirect_uri does not match the authorization request",
            )
        }
        None if record.redirect_explicit => {
            return oauth_error(
                "invalid_grant",
                "redirect_uri is required (it was in the authorization request)",
            )
        }
        _ => {}
    }
    match (&record.code_challenge, form.get("code_verifier")) {
        (Some(challenge), Some(v)) => {
            if !valid_verifier(v) || !ct_eq(&s256(v), challenge) {
                return oauth_error(
                    "invalid_grant",
                    "code_verifier does not match the code_challenge",
                );
            }
        }
        (Some(_), None) => return oauth_error("invalid_grant", "code_verifier is required"),
        (None, Some(_)) => {
            return oauth_error(
                "invalid_grant",
                "code_verifier given but the authorization request had no code_challenge",
            )
        }
        (None, None) if public => {
            return oauth_error("invalid_grant", "PKCE is required for public clients")
        }
        (None, None) => {}
    }
    if let Some(r) = form.get("resource") {
        if *r != sh.mcp_url() || record.resource.as_ref().is_some_and(|x| x != r) {
            return oauth_error("invalid_target", "resource must be the MCP server URL");
        }
    }
    let grant = store.new_grant();
    oauth2_tokens(
        &mut store,
        now,
        &client_id,
        record.user_id,
        record.scopes,
        grant,
    )
}

/// RFC 6749 §4.4 for a confidential client (client_secret_basic or _post with its client
/// hash): a token acting as the simulator's login user, no refresh token (not advertised in
/// the metadata, as WorkBoard does not offer it).
fn client_credentials_grant(
    sh: &Shared,
    headers: &HeaderMap,
    form: &HashMap<String, String>,
) -> Resp {
    let now = sh.now_ms();
    let mut store = sh.store();
    let client_id = match authenticate_client(&store, headers, form) {
        Ok(id) => id,
        Err(r) => return r,
    };
    if store
        .clients
        .get(&client_id)
        .is_none_or(|c| c.config.client_hash.is_none())
    {
        return oauth_error(
            "unauthorized_client",
            "the client credentials grant is for confidential clients",
        );
    }
    if form.get("resource").is_some_and(|r| *r != sh.mcp_url()) {
        return oauth_error("invalid_target", "resource must be the MCP server URL");
    }
    let scopes = match parse_scopes(form.get("scope").map(String::as_str)) {
        Ok(s) => s,
        Err(e) => return oauth_error("invalid_scope", &e),
    };
    let user_id = store.data.user_id_for(&sh.login_user);
    let grant = store.new_grant();
    let access = new_access_token(
        &mut store,
        TokenKind::OAuth2,
        user_id,
        scopes.clone(),
        now + OAUTH2_TOKEN_TTL_SECS * 1000,
        grant,
    );
    json_response(
        StatusCode::OK,
        json!({
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": OAUTH2_TOKEN_TTL_SECS,
            "scope": scopes.join(" "),
        }),
    )
}

fn scope_covers(granted: &[String], wanted: &str) -> bool {
    granted.iter().any(|g| g == "all" || g == wanted)
}

fn refresh_grant(sh: &Shared, headers: &HeaderMap, form: &HashMap<String, String>) -> Resp {
    let now = sh.now_ms();
    let mut store = sh.store();
    let client_id = match authenticate_client(&store, headers, form) {
        Ok(id) => id,
        Err(r) => return r,
    };
    let Some(token) = form.get("refresh_token") else {
        return oauth_error("invalid_request", "refresh_token is required");
    };
    if let Some(grant) = store.used_refresh.get(token).copied() {
        sh.count("token:refresh_reuse");
        store.revoke_grant(grant);
        return oauth_error(
            "invalid_grant",
            "refresh token already used; the grant is revoked",
        );
    }
    let Some(record) = store.refresh.get(token).cloned() else {
        return oauth_error("invalid_grant", "unknown or revoked refresh token");
    };
    if record.client_id != client_id {
        return oauth_error(
            "invalid_grant",
            "refresh token was issued to another client",
        );
    }
    if record.expires_at_ms <= now {
        store.refresh.remove(token);
        return oauth_error("invalid_grant", "refresh token expired");
    }
    if form.get("resource").is_some_and(|r| *r != sh.mcp_url()) {
        return oauth_error("invalid_target", "resource must be the MCP server URL");
    }
    let scopes = match form.get("scope") {
        Some(s) => match parse_scopes(Some(s)) {
            Ok(wanted) if wanted.iter().all(|w| scope_covers(&record.scopes, w)) => wanted,
            Ok(_) => return oauth_error("invalid_scope", "scope exceeds the original grant"),
            Err(e) => return oauth_error("invalid_scope", &e),
        },
        None => record.scopes.clone(),
    };
    store.refresh.remove(token);
    store.used_refresh.insert(token.clone(), record.grant_id);
    oauth2_tokens(
        &mut store,
        now,
        &client_id,
        record.user_id,
        scopes,
        record.grant_id,
    )
}

/// The token of an `Authorization: Bearer` header (scheme compared case-insensitively).
pub(crate) fn bearer(headers: &HeaderMap) -> Option<String> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then(|| token.to_string())
}

/// `POST /wb/oauth/revoke/` — token in the Authorization header (v1) or `token=` (RFC 7009).
pub(crate) async fn revoke(State(sh): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Resp {
    let form = parse_form(&body).unwrap_or_default();
    let Some(token) = form.get("token").cloned().or_else(|| bearer(&headers)) else {
        return v1_error(
            "invalid_request",
            "no token given (Authorization header or token field)",
        );
    };
    let mut store = sh.store();
    let grant = store
        .tokens
        .get(&token)
        .map(|t| t.grant_id)
        .or_else(|| store.refresh.get(&token).map(|r| r.grant_id));
    if let Some(g) = grant {
        store.revoke_grant(g);
    }
    json_response(
        StatusCode::OK,
        json!({"success": true, "message": "Token revoked"}),
    )
}

/// `POST /wb/oauth/register` — RFC 7591 dynamic client registration (only when DCR is on).
pub(crate) async fn register(State(sh): State<Arc<Shared>>, body: Bytes) -> Resp {
    if !sh.dcr.load(std::sync::atomic::Ordering::SeqCst) {
        return json_response(
            StatusCode::NOT_FOUND,
            json!({"error": "not_found", "error_description": "dynamic client registration is not supported"}),
        );
    }
    let meta: Value = match serde_json::from_slice(&body) {
        Ok(v @ Value::Object(_)) => v,
        _ => return oauth_error("invalid_client_metadata", "the body must be a JSON object"),
    };
    let uris: Vec<String> = match meta.get("redirect_uris").and_then(Value::as_array) {
        Some(a) if !a.is_empty() => {
            let mut out = Vec::new();
            for u in a {
                let Some(s) = u.as_str() else {
                    return oauth_error("invalid_redirect_uri", "redirect_uris must be strings");
                };
                let ok = url::Url::parse(s).is_ok_and(|p| {
                    p.fragment().is_none()
                        && (p.scheme() == "https"
                            || (p.scheme() == "http"
                                && matches!(
                                    p.host_str(),
                                    Some("127.0.0.1") | Some("localhost") | Some("[::1]")
                                )))
                });
                if !ok {
                    return oauth_error(
                        "invalid_redirect_uri",
                        "redirect URIs must be https or http on loopback, without fragment",
                    );
                }
                out.push(s.to_string());
            }
            out
        }
        _ => return oauth_error("invalid_redirect_uri", "redirect_uris is required"),
    };
    let method = meta
        .get("token_endpoint_auth_method")
        .and_then(Value::as_str)
        .unwrap_or("client_secret_basic");
    if !matches!(
        method,
        "none" | "client_secret_post" | "client_secret_basic"
    ) {
        return oauth_error(
            "invalid_client_metadata",
            "token_endpoint_auth_method must be none, client_secret_post or client_secret_basic",
        );
    }
    let grant_types: Vec<String> = match meta.get("grant_types") {
        None => vec!["authorization_code".to_string()],
        Some(Value::Array(a)) => {
            let g: Vec<String> = a
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect();
            if g.len() != a.len()
                || g.iter()
                    .any(|x| x != "authorization_code" && x != "refresh_token")
            {
                return oauth_error(
                    "invalid_client_metadata",
                    "grant_types may hold authorization_code and refresh_token",
                );
            }
            g
        }
        Some(_) => return oauth_error("invalid_client_metadata", "grant_types must be an array"),
    };
    let name = meta
        .get("client_name")
        .and_then(Value::as_str)
        .unwrap_or("Registered client")
        .to_string();
    let client_id = random_token("dcr");
    let secret = (method != "none").then(|| random_token("wbs"));
    let now_secs = sh.now_ms() / 1000;
    sh.store().add_client(ClientConfig {
        client_id: client_id.clone(),
        client_hash: secret.clone(),
        redirect_uris: uris.clone(),
        name: name.clone(),
    });
    let mut out = json!({
        "client_id": client_id,
        "client_id_issued_at": now_secs,
        "redirect_uris": uris,
        "token_endpoint_auth_method": method,
        "grant_types": grant_types,
        "response_types": ["code"],
        "client_name": name,
    });
    if let (Some(s), Some(obj)) = (secret, out.as_object_mut()) {
        obj.insert("client_secret".to_string(), json!(s));
        obj.insert("client_secret_expires_at".to_string(), json!(0));
    }
    json_response(StatusCode::CREATED, out)
}

/// RFC 9728 protected resource metadata (both paths).
pub(crate) async fn resource_metadata(State(sh): State<Arc<Shared>>) -> Resp {
    json_response(
        StatusCode::OK,
        json!({
            "resource": sh.mcp_url(),
            "authorization_servers": [format!("{}/wb/oauth", sh.base_url)],
            "scopes_supported": ["all"],
            "bearer_methods_supported": ["header"],
        }),
    )
}

/// RFC 8414 authorization server metadata at `/.well-known/oauth-authorization-server/wb/oauth`.
pub(crate) async fn auth_server_metadata(State(sh): State<Arc<Shared>>) -> Resp {
    let base = &sh.base_url;
    let quirk = sh.issuer_quirk.load(std::sync::atomic::Ordering::SeqCst);
    let dcr = sh.dcr.load(std::sync::atomic::Ordering::SeqCst);
    let issuer = if quirk {
        format!("{base}/wb")
    } else {
        format!("{base}/wb/oauth")
    };
    let mut auth_methods = vec!["client_secret_post"];
    if dcr {
        auth_methods.push("none");
    }
    let mut meta = json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{base}/wb/oauth/authorize"),
        "token_endpoint": format!("{base}/wb/oauth/token"),
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "token_endpoint_auth_methods_supported": auth_methods,
        "code_challenge_methods_supported": ["S256"],
        "response_types_supported": ["code"],
        "scopes_supported": ["all"],
    });
    if let (true, Some(obj)) = (dcr, meta.as_object_mut()) {
        obj.insert(
            "registration_endpoint".to_string(),
            json!(format!("{base}/wb/oauth/register")),
        );
    }
    // Client ID metadata documents: a configured client whose id is an https URL stands for
    // a document the simulator already knows (its redirect URIs are the document's, as the
    // conformance suite's server does; nothing is fetched). Such a client makes the
    // simulator advertise CIMD.
    let cimd = sh
        .store()
        .clients
        .keys()
        .any(|id| id.starts_with("https://"));
    if let (true, Some(obj)) = (cimd, meta.as_object_mut()) {
        obj.insert(
            "client_id_metadata_document_supported".to_string(),
            json!(true),
        );
    }
    json_response(StatusCode::OK, meta)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn s256_matches_rfc7636_appendix_b() {
        assert_eq!(
            s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn scopes_parse_commas_and_spaces() {
        assert_eq!(parse_scopes(None).unwrap(), vec!["all"]);
        assert_eq!(
            parse_scopes(Some("read,write")).unwrap(),
            vec!["read", "write"]
        );
        assert_eq!(
            parse_scopes(Some("read write read")).unwrap(),
            vec!["read", "write"]
        );
        assert!(parse_scopes(Some("all,admin")).is_err());
    }

    #[test]
    fn repeated_form_parameters_are_refused() {
        assert!(parse_form(b"a=1&a=2").is_err());
        assert_eq!(
            parse_form(b"a=1&b=x%20y")
                .unwrap()
                .get("b")
                .map(String::as_str),
            Some("x y")
        );
    }

    #[test]
    fn redirect_params_keep_existing_query() {
        let u = with_params(
            "http://127.0.0.1:1/cb?x=1",
            &[("code", "a b"), ("state", "s")],
        );
        assert_eq!(u, "http://127.0.0.1:1/cb?x=1&code=a+b&state=s");
    }

    #[test]
    fn bearer_scheme_is_case_insensitive() {
        let mut h = HeaderMap::new();
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("bEaReR abc"),
        );
        assert_eq!(bearer(&h).as_deref(), Some("abc"));
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic abc"));
        assert_eq!(bearer(&h), None);
    }
}
