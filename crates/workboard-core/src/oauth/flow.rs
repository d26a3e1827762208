//! OAuth 2.1 for MCP (authorization spec 2025-11-25), client side, sans-IO.
//!
//! [`AuthContext`] holds what discovery found (endpoints, client identity, resource); the
//! connection machine uses it to refresh ([`AuthContext::refresh_request`],
//! [`AuthContext::handle_refresh_response`]) and revoke ([`AuthContext::revoke_requests`]).

use serde::{Deserialize, Serialize};

use crate::credentials::{Credentials, Dialect, TokenSet};
use crate::error::Error;
use crate::http::{form_body, HttpRequest, HttpResponse, Method, RequestId};
use crate::oauth::metadata::{short, KnownIssuerQuirk};
use crate::oauth::registration::{apply_client_auth, IdentitySource, TokenEndpointAuth};
use crate::secret::SecretString;

/// Token responses larger than this are refused.
pub const MAX_TOKEN_RESPONSE_BYTES: usize = 64 * 1024;

/// Everything discovery established for one MCP server, persisted beside the credentials so
/// that refresh, revocation and later authorizations skip discovery.
///
/// Serializes with the client secret in clear (store it like credentials); `Debug` redacts it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthContext {
    /// The MCP server URL the user configured.
    pub server_url: String,
    /// The RFC 8707 `resource` sent on authorize, token and refresh requests.
    pub resource: String,
    /// The authorization server's issuer (`None` for a 2025-03-26 server without metadata).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// Authorization endpoint.
    pub authorization_endpoint: String,
    /// Token endpoint.
    pub token_endpoint: String,
    /// RFC 7009 revocation endpoint, if advertised.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revocation_endpoint: Option<String>,
    /// RFC 7591 registration endpoint, if advertised.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration_endpoint: Option<String>,
    /// Client authentication at the token and revocation endpoints.
    pub token_endpoint_auth: TokenEndpointAuth,
    /// `client_id`.
    pub client_id: String,
    /// Client secret (confidential clients only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<SecretString>,
    /// Where the client identity came from.
    pub identity_source: IdentitySource,
    /// The redirect URI used for authorization.
    pub redirect_uri: String,
    /// The scope requested (space-separated), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scopes: Option<String>,
    /// The authorization server's `scopes_supported` (decides `offline_access`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub as_scopes_supported: Option<Vec<String>>,
    /// RFC 9207: the server promised `iss` on authorization responses.
    #[serde(default)]
    pub iss_parameter_supported: bool,
    /// The named issuer allowance used, if any (e.g. WorkBoard's `/wb` issuer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowance: Option<KnownIssuerQuirk>,
    /// The server published no metadata: 2025-03-26 default endpoints are in use.
    #[serde(default)]
    pub legacy_defaults: bool,
}

impl std::fmt::Debug for AuthContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthContext")
            .field("server_url", &self.server_url)
            .field("resource", &self.resource)
            .field("issuer", &self.issuer)
            .field("authorization_endpoint", &self.authorization_endpoint)
            .field("token_endpoint", &self.token_endpoint)
            .field("revocation_endpoint", &self.revocation_endpoint)
            .field("registration_endpoint", &self.registration_endpoint)
            .field("token_endpoint_auth", &self.token_endpoint_auth)
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "<redacted>"),
            )
            .field("identity_source", &self.identity_source)
            .field("redirect_uri", &self.redirect_uri)
            .field("scopes", &self.scopes)
            .field("allowance", &self.allowance)
            .field("legacy_defaults", &self.legacy_defaults)
            .finish()
    }
}

impl AuthContext {
    /// Serializes for storage (contains the client secret, if any).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Parses what [`AuthContext::to_json`] wrote.
    pub fn from_json(json: &str) -> Result<AuthContext, Error> {
        serde_json::from_str(json).map_err(|_| Error::InvalidInput {
            what: "stored OAuth context".into(),
            reason: "not valid AuthContext JSON".into(),
        })
    }

    /// The refresh request: `grant_type=refresh_token`, the token, `resource`, client auth.
    pub fn refresh_request(&self, id: RequestId, refresh_token: &SecretString) -> HttpRequest {
        let form = vec![
            ("grant_type".to_string(), "refresh_token".to_string()),
            (
                "refresh_token".to_string(),
                refresh_token.expose().to_string(),
            ),
            ("resource".to_string(), self.resource.clone()),
        ];
        self.token_post(id, &self.token_endpoint, form)
    }

    /// Parses a refresh response. A response without `refresh_token` keeps the previous one
    /// (no rotation); one with a new `refresh_token` replaces it (rotation). A missing `scope`
    /// keeps the previous scope.
    pub fn handle_refresh_response(
        &self,
        resp: &HttpResponse,
        previous: &TokenSet,
        now_ms: u64,
    ) -> Result<TokenSet, Error> {
        let mut set = parse_token_response(resp, now_ms, previous.refresh_token.as_ref())?;
        if set.scope.is_none() {
            set.scope = previous.scope.clone();
        }
        Ok(set)
    }

    /// RFC 7009 revocation requests: the refresh token first (revoking it usually revokes the
    /// access tokens too), then the access token, each with `token_type_hint`. Empty when the
    /// server advertises no revocation endpoint, and for personal tokens.
    pub fn revoke_requests(
        &self,
        id_gen: &mut dyn FnMut() -> RequestId,
        creds: &Credentials,
    ) -> Vec<HttpRequest> {
        let (Some(endpoint), Credentials::OAuth(set)) = (&self.revocation_endpoint, creds) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let mut tokens: Vec<(&SecretString, &str)> = Vec::new();
        if let Some(r) = &set.refresh_token {
            tokens.push((r, "refresh_token"));
        }
        tokens.push((&set.access_token, "access_token"));
        for (token, hint) in tokens {
            let form = vec![
                ("token".to_string(), token.expose().to_string()),
                ("token_type_hint".to_string(), hint.to_string()),
            ];
            out.push(self.token_post(id_gen(), endpoint, form));
        }
        out
    }

    /// The authorization code exchange: code, `redirect_uri`, `code_verifier`, `resource`,
    /// client auth.
    pub fn code_exchange_request(
        &self,
        id: RequestId,
        code: &SecretString,
        code_verifier: &SecretString,
    ) -> HttpRequest {
        let form = vec![
            ("grant_type".to_string(), "authorization_code".to_string()),
            ("code".to_string(), code.expose().to_string()),
            ("redirect_uri".to_string(), self.redirect_uri.clone()),
            (
                "code_verifier".to_string(),
                code_verifier.expose().to_string(),
            ),
            ("resource".to_string(), self.resource.clone()),
        ];
        self.token_post(id, &self.token_endpoint, form)
    }

    /// Parses the code exchange response into a token set (OAuth 2 dialect).
    pub fn handle_code_response(
        &self,
        resp: &HttpResponse,
        now_ms: u64,
    ) -> Result<TokenSet, Error> {
        parse_token_response(resp, now_ms, None)
    }

    /// The authorization URL: `response_type=code`, `client_id`, `redirect_uri`, `state`,
    /// PKCE S256 challenge, `resource`, and `scope` when one was chosen. Query parameters
    /// already on the endpoint are kept.
    pub fn authorize_url(
        &self,
        state: &SecretString,
        code_challenge: &str,
        scope: Option<&str>,
    ) -> Result<String, Error> {
        let mut url = crate::oauth::metadata::parse_url(
            &self.authorization_endpoint,
            "authorization endpoint",
        )?;
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("response_type", "code");
            q.append_pair("client_id", &self.client_id);
            q.append_pair("redirect_uri", &self.redirect_uri);
            q.append_pair("state", state.expose());
            q.append_pair("code_challenge", code_challenge);
            q.append_pair("code_challenge_method", crate::oauth::pkce::METHOD_S256);
            q.append_pair("resource", &self.resource);
            if let Some(s) = scope.filter(|s| !s.is_empty()) {
                q.append_pair("scope", s);
            }
        }
        Ok(url.to_string())
    }

    fn token_post(&self, id: RequestId, url: &str, mut form: Vec<(String, String)>) -> HttpRequest {
        let mut headers = vec![
            (
                "Content-Type".to_string(),
                "application/x-www-form-urlencoded".to_string(),
            ),
            ("Accept".to_string(), "application/json".to_string()),
        ];
        apply_client_auth(
            self.token_endpoint_auth,
            &self.client_id,
            self.client_secret.as_ref(),
            &mut headers,
            &mut form,
        );
        HttpRequest {
            id,
            method: Method::Post,
            url: url.to_string(),
            headers,
            body: form_body(form.iter().map(|(k, v)| (k.as_str(), v.as_str()))),
        }
    }
}

#[derive(Deserialize)]
struct TokenBody {
    #[serde(default)]
    access_token: Option<String>,
    #[serde(default)]
    token_type: Option<String>,
    #[serde(default)]
    expires_in: Option<serde_json::Value>,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default)]
    scope: Option<String>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    error_description: Option<String>,
}

/// Parses an OAuth 2 token endpoint response (RFC 6749 §5.1/§5.2) into a [`TokenSet`].
/// `previous_refresh` is kept when the response carries no refresh token.
pub(crate) fn parse_token_response(
    resp: &HttpResponse,
    now_ms: u64,
    previous_refresh: Option<&SecretString>,
) -> Result<TokenSet, Error> {
    let what = "token response";
    if resp.body.len() > MAX_TOKEN_RESPONSE_BYTES {
        return Err(Error::ResponseTooLarge {
            what: what.into(),
            limit: MAX_TOKEN_RESPONSE_BYTES,
        });
    }
    let parsed: Result<TokenBody, _> = serde_json::from_slice(&resp.body);
    if !resp.is_success() {
        let (error, description) = match parsed {
            Ok(b) => (b.error, b.error_description),
            Err(_) => (None, None),
        };
        return Err(Error::TokenEndpoint {
            status: resp.status,
            error: error
                .map(|e| short(&e))
                .unwrap_or_else(|| format!("http_{}", resp.status)),
            description: description.map(|d| short(&d)),
        });
    }
    let body = parsed.map_err(|_| Error::InvalidResponse {
        what: what.into(),
        reason: "not a JSON token response".into(),
    })?;
    if let Some(e) = body.error {
        return Err(Error::TokenEndpoint {
            status: resp.status,
            error: short(&e),
            description: body.error_description.map(|d| short(&d)),
        });
    }
    let access =
        body.access_token
            .filter(|t| !t.is_empty())
            .ok_or_else(|| Error::InvalidResponse {
                what: what.into(),
                reason: "`access_token` is missing".into(),
            })?;
    let token_type = body.token_type.unwrap_or_else(|| "Bearer".into());
    if !token_type.eq_ignore_ascii_case("bearer") {
        return Err(Error::UnsupportedTokenType(short(&token_type)));
    }
    let expires_in = match body.expires_in {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::Number(n)) => n
            .as_u64()
            .or_else(|| n.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64)),
        Some(serde_json::Value::String(s)) => s.trim().parse::<u64>().ok(),
        Some(_) => None,
    };
    Ok(TokenSet {
        access_token: SecretString::new(access),
        refresh_token: body
            .refresh_token
            .filter(|t| !t.is_empty())
            .map(SecretString::new)
            .or_else(|| previous_refresh.cloned()),
        token_type,
        scope: body.scope,
        issued_at_ms: now_ms,
        expires_at_ms: expires_in.map(|s| now_ms.saturating_add(s.saturating_mul(1000))),
        dialect: Dialect::OAuth2,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    fn ctx(auth: TokenEndpointAuth, secret: Option<&str>, revocation: bool) -> AuthContext {
        AuthContext {
            server_url: "https://mcp.example.com/mcp".into(),
            resource: "https://mcp.example.com/mcp".into(),
            issuer: Some("https://auth.example.com".into()),
            authorization_endpoint: "https://auth.example.com/authorize".into(),
            token_endpoint: "https://auth.example.com/token".into(),
            revocation_endpoint: revocation.then(|| "https://auth.example.com/revoke".into()),
            registration_endpoint: None,
            token_endpoint_auth: auth,
            client_id: "cid".into(),
            client_secret: secret.map(SecretString::new),
            identity_source: IdentitySource::PreRegistered,
            redirect_uri: "http://127.0.0.1:8765/cb".into(),
            scopes: Some("mcp".into()),
            as_scopes_supported: None,
            iss_parameter_supported: false,
            allowance: None,
            legacy_defaults: false,
        }
    }

    fn set(refresh: Option<&str>) -> TokenSet {
        TokenSet {
            access_token: "AT-OLD".into(),
            refresh_token: refresh.map(SecretString::new),
            token_type: "Bearer".into(),
            scope: Some("mcp".into()),
            issued_at_ms: 0,
            expires_at_ms: Some(1000),
            dialect: Dialect::OAuth2,
        }
    }

    #[test]
    fn refresh_request_has_resource_and_auth() {
        let c = ctx(TokenEndpointAuth::ClientSecretPost, Some("SECRET-X"), false);
        let r = c.refresh_request(RequestId(4), &"RT-1".into());
        assert_eq!(r.url, "https://auth.example.com/token");
        assert_eq!(
            String::from_utf8(r.body.clone()).unwrap(),
            "grant_type=refresh_token&refresh_token=RT-1&resource=https%3A%2F%2Fmcp.example.com%2Fmcp&client_id=cid&client_secret=SECRET-X"
        );
        let b = ctx(
            TokenEndpointAuth::ClientSecretBasic,
            Some("SECRET-X"),
            false,
        )
        .refresh_request(RequestId(5), &"RT-1".into());
        assert!(b.header("authorization").unwrap().starts_with("Basic "));
        assert!(!String::from_utf8(b.body).unwrap().contains("client_id"));
    }

    #[test]
    fn refresh_rotation() {
        let c = ctx(TokenEndpointAuth::None, None, false);
        let prev = set(Some("RT-1"));
        let rotated = c
            .handle_refresh_response(&HttpResponse::json(200, &json!({"access_token": "AT2", "token_type": "bearer", "refresh_token": "RT-2", "expires_in": 3600})), &prev, 10_000)
            .unwrap();
        assert_eq!(rotated.refresh_token.unwrap().expose(), "RT-2");
        assert_eq!(rotated.expires_at_ms, Some(10_000 + 3_600_000));
        assert_eq!(rotated.scope.as_deref(), Some("mcp"));
        let kept = c
            .handle_refresh_response(
                &HttpResponse::json(200, &json!({"access_token": "AT3", "token_type": "Bearer"})),
                &prev,
                10_000,
            )
            .unwrap();
        assert_eq!(kept.refresh_token.unwrap().expose(), "RT-1");
        assert_eq!(kept.expires_at_ms, None);
        let e = c
            .handle_refresh_response(
                &HttpResponse::json(400, &json!({"error": "invalid_grant"})),
                &prev,
                0,
            )
            .unwrap_err();
        assert_eq!(e.code(), "token_endpoint_error");
        for (status, body, code) in [
            (200, "<html>", "invalid_response"),
            (200, "{}", "invalid_response"),
            (
                200,
                r#"{"access_token":"a","token_type":"mac"}"#,
                "unsupported_token_type",
            ),
            (502, "bad gateway", "token_endpoint_error"),
        ] {
            let e = c
                .handle_refresh_response(&HttpResponse::new(status, vec![], body), &prev, 0)
                .unwrap_err();
            assert_eq!(e.code(), code, "{body}");
        }
    }

    #[test]
    fn revocation_order_and_absence() {
        let c = ctx(TokenEndpointAuth::None, None, true);
        let mut n = 0;
        let mut ids = || {
            n += 1;
            RequestId(n)
        };
        let reqs = c.revoke_requests(&mut ids, &Credentials::OAuth(set(Some("RT-1"))));
        assert_eq!(reqs.len(), 2);
        assert_eq!(
            String::from_utf8(reqs[0].body.clone()).unwrap(),
            "token=RT-1&token_type_hint=refresh_token&client_id=cid"
        );
        assert_eq!(
            String::from_utf8(reqs[1].body.clone()).unwrap(),
            "token=AT-OLD&token_type_hint=access_token&client_id=cid"
        );
        assert_ne!(reqs[0].id, reqs[1].id);
        assert_eq!(
            c.revoke_requests(&mut ids, &Credentials::OAuth(set(None)))
                .len(),
            1
        );
        assert!(c
            .revoke_requests(&mut ids, &Credentials::personal("p"))
            .is_empty());
        let none = ctx(TokenEndpointAuth::None, None, false);
        assert!(none
            .revoke_requests(&mut ids, &Credentials::OAuth(set(Some("RT-1"))))
            .is_empty());
    }

    #[test]
    fn context_roundtrip_and_redacted_debug() {
        let c = ctx(
            TokenEndpointAuth::ClientSecretBasic,
            Some("SECRET-MARKER"),
            true,
        );
        assert!(!format!("{c:?}").contains("SECRET-MARKER"));
        assert_eq!(AuthContext::from_json(&c.to_json()).unwrap(), c);
        assert_eq!(
            AuthContext::from_json("{").unwrap_err().code(),
            "invalid_input"
        );
    }
}
