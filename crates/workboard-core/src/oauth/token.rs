//! Token endpoint responses for both dialects, and the form POST every token request uses.
//!
//! [`parse_token_response`] (and its pure form [`parse_token_body`], easy to fuzz) reads:
//!
//! - WorkBoard v1 envelopes: `{"success":true,"access_token":..,"scope":..,"token_type":"bearer"}`,
//!   and `{"success":false,"error":..,"error_message":..}`;
//! - standard OAuth 2 (RFC 6749 §5.1 / §5.2): `access_token`, `token_type`, `expires_in`
//!   (a number or a numeric string), `refresh_token`, `scope`, and `error` /
//!   `error_description`;
//! - everything else a real server sends: error statuses with JSON or HTML bodies, truncated
//!   JSON, bodies over 1 MiB.
//!
//! Decisions:
//! - `token_type` compares case-insensitively (WorkBoard writes `bearer`). When it is
//!   **absent** the token is accepted as a bearer token, in both dialects: WorkBoard's v1
//!   documentation promises it but nothing depends on it, and the other token types (DPoP,
//!   MAC) always name themselves, so a missing type can only be bearer. Any other value is
//!   refused with [`Error::UnsupportedTokenType`].
//! - Expiry: `expires_in` when present; v1 tokens without it live
//!   [`V1_TOKEN_LIFETIME_MS`] (one year, as documented); OAuth 2 tokens without it have no
//!   known expiry (`None`).
//! - Refresh rotation: a response without a new `refresh_token` keeps the previous one.
//! - Error details are cut short and stripped of control characters; a non-JSON body is never
//!   echoed, only described (at most the `<title>` of an HTML page).

use crate::credentials::{Dialect, TokenSet, V1_TOKEN_LIFETIME_MS};
use crate::error::Error;
use crate::http::{form_body, HttpRequest, HttpResponse, Method, RequestId};
use crate::oauth::pending::{json_error_kind, short};
use crate::secret::SecretString;

/// Largest token response body accepted: 1 MiB.
pub const MAX_TOKEN_RESPONSE_BYTES: usize = 1024 * 1024;

const WHAT: &str = "token response";

/// Parses a token endpoint response into a [`TokenSet`] issued at `now_ms`.
///
/// `previous_refresh` is the refresh token used for this request, if any: it is kept when the
/// response carries no new one. Errors: [`Error::ResponseTooLarge`],
/// [`Error::TokenEndpoint`] (OAuth `error` or `success:false`), [`Error::HttpStatus`] (an
/// error status without an OAuth error body), [`Error::InvalidResponse`] (not JSON,
/// truncated, missing or empty `access_token`, malformed fields),
/// [`Error::UnsupportedTokenType`].
pub fn parse_token_response(
    resp: &HttpResponse,
    dialect: Dialect,
    now_ms: u64,
    previous_refresh: Option<&SecretString>,
) -> Result<TokenSet, Error> {
    parse_token_body(resp.status, &resp.body, dialect, now_ms, previous_refresh)
}

/// [`parse_token_response`] on a status and body (a pure function, for fuzzing).
pub fn parse_token_body(
    status: u16,
    body: &[u8],
    dialect: Dialect,
    now_ms: u64,
    previous_refresh: Option<&SecretString>,
) -> Result<TokenSet, Error> {
    let obj = parse_json_object(status, body, WHAT, "token endpoint")?;
    if let Some(e) = oauth_error(status, &obj) {
        return Err(e);
    }
    if !(200..300).contains(&status) {
        return Err(Error::HttpStatus {
            status,
            url: "token endpoint".into(),
            detail: Some("JSON body without an OAuth error".into()),
        });
    }
    let access_token = match obj.get("access_token") {
        Some(serde_json::Value::String(s)) if !s.trim().is_empty() => s.clone(),
        Some(serde_json::Value::String(_)) => return Err(invalid("`access_token` is empty")),
        Some(_) => return Err(invalid("`access_token` is not a string")),
        None => return Err(invalid("no `access_token`")),
    };
    let token_type = match obj.get("token_type") {
        None | Some(serde_json::Value::Null) => match dialect {
            Dialect::WorkboardV1 => "bearer".to_string(),
            Dialect::OAuth2 => "Bearer".to_string(),
        },
        Some(serde_json::Value::String(t)) if t.trim().eq_ignore_ascii_case("bearer") => {
            t.trim().to_string()
        }
        Some(serde_json::Value::String(t)) => {
            return Err(Error::UnsupportedTokenType(short(t, 40)));
        }
        Some(_) => return Err(invalid("`token_type` is not a string")),
    };
    let expires_in = match obj.get("expires_in") {
        None | Some(serde_json::Value::Null) => None,
        Some(v) => Some(parse_expires_in(v)?),
    };
    let expires_at_ms = match (expires_in, dialect) {
        (Some(secs), _) => Some(now_ms.saturating_add(secs.saturating_mul(1000))),
        (None, Dialect::WorkboardV1) => Some(now_ms.saturating_add(V1_TOKEN_LIFETIME_MS)),
        (None, Dialect::OAuth2) => None,
    };
    let refresh_token = match obj.get("refresh_token") {
        Some(serde_json::Value::String(s)) if !s.trim().is_empty() => {
            Some(SecretString::new(s.clone()))
        }
        None | Some(serde_json::Value::Null) | Some(serde_json::Value::String(_)) => {
            previous_refresh.cloned()
        }
        Some(_) => return Err(invalid("`refresh_token` is not a string")),
    };
    let scope = match obj.get("scope") {
        Some(serde_json::Value::String(s)) => Some(s.clone()),
        Some(serde_json::Value::Array(items)) => {
            let sep = if dialect == Dialect::WorkboardV1 {
                ","
            } else {
                " "
            };
            let parts: Option<Vec<&str>> = items.iter().map(|i| i.as_str()).collect();
            Some(
                parts
                    .ok_or_else(|| invalid("`scope` is not a string"))?
                    .join(sep),
            )
        }
        None | Some(serde_json::Value::Null) => None,
        Some(_) => return Err(invalid("`scope` is not a string")),
    };
    Ok(TokenSet {
        access_token: SecretString::new(access_token),
        refresh_token,
        token_type,
        scope,
        issued_at_ms: now_ms,
        expires_at_ms,
        dialect,
        bound_to: None,
    })
}

/// A form POST to a token-style endpoint: `Content-Type: application/x-www-form-urlencoded`,
/// `Accept: application/json`, then `extra_headers` (e.g. `Authorization: Basic ..`), body
/// from `pairs` (encoded with [`form_body`]).
pub fn form_post(
    id: RequestId,
    url: &str,
    pairs: &[(&str, &str)],
    extra_headers: &[(String, String)],
) -> HttpRequest {
    let mut headers = vec![
        (
            "Content-Type".to_string(),
            "application/x-www-form-urlencoded".to_string(),
        ),
        ("Accept".to_string(), "application/json".to_string()),
    ];
    headers.extend(extra_headers.iter().cloned());
    HttpRequest {
        id,
        method: Method::Post,
        url: url.to_string(),
        headers,
        body: form_body(pairs.iter().copied()),
    }
}

/// The OAuth error a JSON body carries, if any: an `error` member, or `"success": false`
/// (v1). The description comes from `error_description` or `error_message`.
pub fn oauth_error(status: u16, obj: &serde_json::Map<String, serde_json::Value>) -> Option<Error> {
    let success_false = matches!(obj.get("success"), Some(serde_json::Value::Bool(false)))
        || matches!(obj.get("success"), Some(serde_json::Value::String(s)) if s == "false");
    // `None`: no error; `Some("")`: an error without a usable code.
    let error: Option<String> = match obj.get("error") {
        None | Some(serde_json::Value::Null) | Some(serde_json::Value::Bool(false)) => None,
        Some(serde_json::Value::String(s)) if s.trim().is_empty() => None,
        Some(serde_json::Value::String(s)) => Some(short(s, 64)),
        // Some servers nest `{"error":{"code":..,"message":..}}`.
        Some(serde_json::Value::Object(o)) => Some(
            o.get("code")
                .and_then(|c| c.as_str())
                .map(|c| short(c, 64))
                .unwrap_or_default(),
        ),
        Some(serde_json::Value::Bool(true)) => Some(String::new()),
        Some(other) => Some(short(&other.to_string(), 64)),
    };
    if error.is_none() && !success_false {
        return None;
    }
    let description = ["error_description", "error_message", "message"]
        .iter()
        .find_map(|k| obj.get(*k).and_then(|v| v.as_str()))
        .or_else(|| {
            obj.get("error")
                .and_then(|e| e.get("message"))
                .and_then(|m| m.as_str())
        })
        .map(|d| short(d, 300))
        .filter(|d| !d.is_empty());
    Some(Error::TokenEndpoint {
        status,
        error: error
            .filter(|e| !e.is_empty())
            .unwrap_or_else(|| "unknown_error".into()),
        description,
    })
}

/// Parses a JSON object body for `what`, with the size limit and secret-free errors: over
/// 1 MiB → [`Error::ResponseTooLarge`]; not JSON on an error status → [`Error::HttpStatus`]
/// with a short description of the body; not JSON (or not an object) on a 2xx →
/// [`Error::InvalidResponse`].
pub fn parse_json_object(
    status: u16,
    body: &[u8],
    what: &str,
    endpoint: &str,
) -> Result<serde_json::Map<String, serde_json::Value>, Error> {
    if body.len() > MAX_TOKEN_RESPONSE_BYTES {
        return Err(Error::ResponseTooLarge {
            what: what.into(),
            limit: MAX_TOKEN_RESPONSE_BYTES,
        });
    }
    let ok = (200..300).contains(&status);
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(serde_json::Value::Object(map)) => Ok(map),
        Ok(_) if !ok => Err(Error::HttpStatus {
            status,
            url: endpoint.into(),
            detail: Some("JSON body that is not an object".into()),
        }),
        Ok(_) => Err(Error::InvalidResponse {
            what: what.into(),
            reason: "JSON that is not an object".into(),
        }),
        Err(e) => {
            let detail = describe_non_json(body, &e);
            if ok {
                Err(Error::InvalidResponse {
                    what: what.into(),
                    reason: detail,
                })
            } else {
                Err(Error::HttpStatus {
                    status,
                    url: endpoint.into(),
                    detail: Some(detail),
                })
            }
        }
    }
}

/// A secret-free description of a body that is not JSON.
pub(crate) fn describe_non_json(body: &[u8], e: &serde_json::Error) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(4096)]);
    let t = text.trim_start();
    if t.is_empty() {
        return "empty body".into();
    }
    let lower = t.get(..t.len().min(512)).unwrap_or("").to_ascii_lowercase();
    if t.starts_with('<') || lower.contains("<html") {
        return match html_title(&text) {
            Some(title) => format!("HTML page instead of JSON (title: \"{title}\")"),
            None => "HTML page instead of JSON".into(),
        };
    }
    if matches!(e.classify(), serde_json::error::Category::Eof) {
        return format!("truncated JSON ({} bytes)", body.len());
    }
    format!("not JSON ({}, {} bytes)", json_error_kind(e), body.len())
}

/// The `<title>` of an HTML page, cut to 80 characters.
fn html_title(text: &str) -> Option<String> {
    let lower = text.to_ascii_lowercase();
    let start = lower.find("<title")?;
    let open_end = start + lower[start..].find('>')? + 1;
    let close = open_end + lower[open_end..].find("</title")?;
    let title = text
        .get(open_end..close)?
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    if title.is_empty() {
        return None;
    }
    Some(short(&title, 80))
}

fn parse_expires_in(v: &serde_json::Value) -> Result<u64, Error> {
    let secs = match v {
        serde_json::Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                Some(u)
            } else {
                n.as_f64()
                    .filter(|f| f.is_finite() && *f >= 0.0)
                    .map(|f| f as u64)
            }
        }
        serde_json::Value::String(s) => s.trim().parse::<u64>().ok(),
        _ => None,
    };
    secs.ok_or_else(|| invalid("`expires_in` is not a non-negative number of seconds"))
}

fn invalid(reason: &str) -> Error {
    Error::InvalidResponse {
        what: WHAT.into(),
        reason: reason.into(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn parse(status: u16, body: &str, d: Dialect) -> Result<TokenSet, Error> {
        parse_token_body(status, body.as_bytes(), d, 1000, None)
    }

    #[test]
    fn v1_envelope_and_defaults() {
        let t = parse(
            200,
            r#"{"success":true,"access_token":"AT","scope":"all","token_type":"bearer"}"#,
            Dialect::WorkboardV1,
        )
        .unwrap();
        assert_eq!(t.expires_at_ms, Some(1000 + V1_TOKEN_LIFETIME_MS));
        assert_eq!(t.scope.as_deref(), Some("all"));
        let e = parse(
            200,
            r#"{"success":false,"error":"invalid_code","error_message":"Code expired"}"#,
            Dialect::WorkboardV1,
        )
        .unwrap_err();
        assert_eq!(
            e,
            Error::TokenEndpoint {
                status: 200,
                error: "invalid_code".into(),
                description: Some("Code expired".into())
            }
        );
    }

    #[test]
    fn oauth2_rotation_and_expires_in_string() {
        let prev = SecretString::new("R0");
        let t = parse_token_body(
            200,
            br#"{"access_token":"A","token_type":"Bearer","expires_in":"60"}"#,
            Dialect::OAuth2,
            0,
            Some(&prev),
        )
        .unwrap();
        assert_eq!(t.expires_at_ms, Some(60_000));
        assert_eq!(t.refresh_token.unwrap().expose(), "R0");
        assert!(parse(200, r#"{"access_token":"A"}"#, Dialect::OAuth2)
            .unwrap()
            .expires_at_ms
            .is_none());
    }

    #[test]
    fn html_and_truncated() {
        let e = parse(
            502,
            "<html><head><title>502 Bad Gateway</title></head><body>SECRET</body></html>",
            Dialect::OAuth2,
        )
        .unwrap_err();
        assert_eq!(e.code(), "http_status");
        assert!(e.to_string().contains("502 Bad Gateway") && !e.to_string().contains("SECRET"));
        assert_eq!(
            parse(200, r#"{"access_token":"SECRET"#, Dialect::OAuth2)
                .unwrap_err()
                .code(),
            "invalid_response"
        );
        assert_eq!(
            parse(
                200,
                r#"{"access_token":"A","token_type":"mac"}"#,
                Dialect::OAuth2
            )
            .unwrap_err()
            .code(),
            "unsupported_token_type"
        );
    }

    #[test]
    fn error_member_shapes() {
        let e = parse(
            200,
            r#"{"access_token":"A","error":false}"#,
            Dialect::OAuth2,
        );
        assert!(e.is_ok(), "error:false is no error");
        assert!(parse(200, r#"{"access_token":"A","error":""}"#, Dialect::OAuth2).is_ok());
        let e = parse(
            400,
            r#"{"error":{"code":"rate","message":"slow down"}}"#,
            Dialect::OAuth2,
        )
        .unwrap_err();
        assert_eq!(
            e,
            Error::TokenEndpoint {
                status: 400,
                error: "rate".into(),
                description: Some("slow down".into())
            }
        );
        let e = parse(200, r#"{"access_token":"A","error":true}"#, Dialect::OAuth2).unwrap_err();
        assert!(matches!(e, Error::TokenEndpoint { ref error, .. } if error == "unknown_error"));
    }

    #[test]
    fn form_post_headers() {
        let r = form_post(
            RequestId(3),
            "https://h/t",
            &[("a", "b c")],
            &[("X".into(), "y".into())],
        );
        assert_eq!(r.body, b"a=b+c");
        assert_eq!(
            r.header("content-type"),
            Some("application/x-www-form-urlencoded")
        );
        assert_eq!(r.headers.len(), 3);
    }
}
