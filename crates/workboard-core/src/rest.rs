//! WorkBoard REST API (`/wb/apis/...`, and the seed's `/wb/goal/{id}` form): request building
//! and envelope parsing, sans-IO.
//!
//! Success bodies are `{"success":true,"message":..,"data":..}`; errors are HTTP 400
//! `{"success":false,"error":..,"error_description":..}`. Tokens go only in the
//! `Authorization` header, never in the URL.

use serde_json::Value;

use crate::credentials::Credentials;
use crate::env::Environment;
use crate::error::Error;
use crate::http::{redact_url, HttpRequest, HttpResponse, Method, RequestId};

/// Largest REST body parsed.
pub const MAX_REST_BODY: usize = 8 * 1024 * 1024;

/// A GET of `path` under the environment. `path` is either relative to `/wb/apis`
/// (`goal/123`, `/user`) or absolute from the host when it starts with `/wb/`
/// (`/wb/goal/123`, the seed's sample form). Query strings are allowed but may not carry
/// a token. Credentials bound to a server on another origin than the environment's are
/// refused with [`Error::CredentialsNotForServer`] (a token is sent to the WorkBoard
/// deployment it belongs to, whichever of its APIs).
pub fn get_request(
    environment: &Environment,
    credentials: &Credentials,
    path: &str,
    id: RequestId,
) -> Result<HttpRequest, Error> {
    let path = path.trim();
    if path.is_empty()
        || path.contains("://")
        || path.contains('#')
        || path.chars().any(char::is_whitespace)
    {
        return Err(Error::InvalidInput {
            what: "REST path".into(),
            reason: "expected a path such as `goal/123` or `/wb/goal/123`".into(),
        });
    }
    let url = if path.starts_with("/wb/") {
        format!("{}{}", environment.base_url(), path)
    } else {
        format!(
            "{}/{}",
            environment.api_root(),
            path.trim_start_matches('/')
        )
    };
    let parsed = url::Url::parse(&url).map_err(|e| Error::InvalidUrl {
        what: "REST URL".into(),
        reason: e.to_string(),
    })?;
    if parsed
        .query_pairs()
        .any(|(k, _)| matches!(k.to_ascii_lowercase().as_str(), "access_token" | "token"))
    {
        return Err(Error::InvalidInput {
            what: "REST path".into(),
            reason: "tokens are sent only in the Authorization header, never in the URL".into(),
        });
    }
    credentials.check_origin(environment.base_url())?;
    Ok(HttpRequest {
        id,
        method: Method::Get,
        url,
        headers: vec![
            ("Accept".into(), "application/json".into()),
            (
                "Authorization".into(),
                credentials.authorization_header().expose().to_string(),
            ),
        ],
        body: Vec::new(),
    })
}

/// Parses a REST response: the `data` of a success envelope (or the whole body when it
/// carries no envelope).
pub fn parse_response(
    url: &str,
    environment: &Environment,
    resp: &HttpResponse,
) -> Result<Value, Error> {
    if resp.body.len() > MAX_REST_BODY {
        return Err(Error::ResponseTooLarge {
            what: "REST response".into(),
            limit: MAX_REST_BODY,
        });
    }
    let url = redact_url(url);
    if resp.status == 401 {
        return Err(Error::Unauthorized {
            url,
            error: None,
            environment: environment.label(),
        });
    }
    if resp.status == 403 {
        return Err(Error::Forbidden { url });
    }
    let json: Option<Value> = serde_json::from_slice(&resp.body).ok();
    let Some(json) = json else {
        return Err(if resp.is_success() {
            Error::InvalidResponse {
                what: "REST response".into(),
                reason: "body is not JSON".into(),
            }
        } else {
            Error::HttpStatus {
                status: resp.status,
                url,
                detail: None,
            }
        });
    };
    let success = json.get("success").and_then(Value::as_bool);
    if !resp.is_success() || success == Some(false) {
        let error = json.get("error").and_then(Value::as_str).unwrap_or("error");
        let desc = json
            .get("error_description")
            .or_else(|| json.get("message"))
            .and_then(Value::as_str)
            .map(|d| d.chars().take(200).collect::<String>());
        return Err(Error::HttpStatus {
            status: resp.status,
            url,
            detail: Some(match desc {
                Some(d) => format!("{error}: {d}"),
                None => error.chars().take(100).collect(),
            }),
        });
    }
    Ok(match json.get("data") {
        Some(data) if success == Some(true) => data.clone(),
        _ => json,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn creds() -> Credentials {
        Credentials::personal("TOKEN-XYZ")
    }

    #[test]
    fn builds_both_path_forms_with_header_token() {
        let env = Environment::Us;
        let r = get_request(&env, &creds(), "goal/123", RequestId(1)).unwrap();
        assert_eq!(r.url, "https://www.myworkboard.com/wb/apis/goal/123");
        assert_eq!(r.header("authorization"), Some("Bearer TOKEN-XYZ"));
        let r = get_request(&env, &creds(), "/wb/goal/123", RequestId(2)).unwrap();
        assert_eq!(r.url, "https://www.myworkboard.com/wb/goal/123");
        assert!(!r.url.contains("TOKEN"));
    }

    #[test]
    fn refuses_token_in_query_and_bad_paths() {
        let env = Environment::Us;
        assert_eq!(
            get_request(&env, &creds(), "goal/1?access_token=x", RequestId(1))
                .unwrap_err()
                .code(),
            "invalid_input"
        );
        assert!(get_request(&env, &creds(), "https://evil/x", RequestId(1)).is_err());
        assert!(get_request(&env, &creds(), "", RequestId(1)).is_err());
    }

    #[test]
    fn parses_envelopes_and_errors() {
        let env = Environment::Eu;
        let ok = HttpResponse::json(
            200,
            &serde_json::json!({"success":true,"message":"ok","data":{"id":123}}),
        );
        assert_eq!(
            parse_response("u", &env, &ok).unwrap(),
            serde_json::json!({"id":123})
        );
        let bad = HttpResponse::json(
            400,
            &serde_json::json!({"success":false,"error":"not_found","error_description":"no goal"}),
        );
        let e = parse_response("u", &env, &bad).unwrap_err();
        assert!(e.to_string().contains("not_found: no goal"));
        let e = parse_response("u", &env, &HttpResponse::new(401, vec![], "")).unwrap_err();
        assert!(e.hint().unwrap().contains("EU"));
        let e = parse_response("u", &env, &HttpResponse::new(502, vec![], "<html>")).unwrap_err();
        assert_eq!(e.code(), "http_status");
        let e = parse_response("u", &env, &HttpResponse::new(200, vec![], "{trunc")).unwrap_err();
        assert_eq!(e.code(), "invalid_response");
    }
}
