//! OAuth 2.1 for MCP (authorization spec 2025-11-25, with the 2026-07-28 rules below), client
//! side, sans-IO.
//!
//! [`McpAuthFlow`] runs discovery and the interactive authorization; [`AuthContext`] holds
//! what discovery found (endpoints, client identity, resource) and is what the connection
//! machine uses to refresh ([`AuthContext::refresh_request`],
//! [`AuthContext::handle_refresh_response`]) and revoke ([`AuthContext::revoke_requests`]).
//!
//! Decisions worth knowing:
//! - `resource` (RFC 8707) is the protected resource metadata's `resource` (which must match
//!   the server URL, see [`crate::oauth::metadata`]), canonicalized; without metadata it is
//!   the canonical server URL.
//! - The first entry of `authorization_servers` is used.
//! - Scope: the challenge's `scope`, else the resource's `scopes_supported`, else none;
//!   `offline_access` is appended only when the authorization server lists it and a scope
//!   was chosen. Step-up requests the union of the previous scopes and the new ones.
//! - Discovery moves to the next candidate URL on 404/410 only; any other status, a
//!   transport error or an invalid document ends the flow with a typed error.
//! - RFC 9207: the validated metadata's `issuer` is recorded with the PKCE verifier; an `iss`
//!   in the authorization response must equal it exactly, and is required where the metadata
//!   advertises `authorization_response_iss_parameter_supported` ([`Error::IssParameterMismatch`],
//!   checked before an `error` in the response is read).
//! - Dynamic registration sends `application_type` (`native` for loopback and private-scheme
//!   redirect URIs, else `web`). Registrations are bound to their issuer
//!   ([`McpAuthConfig::previous`]): a stored one is used again only where it was made.
//! - [`McpAuthFlow::client_credentials`] runs the client credentials grant of the MCP auth
//!   extension instead of an interactive authorization (see
//!   [`crate::oauth::client_credentials`]).
//! - With no resource metadata at all, the 2025-03-26 rules apply: metadata at the server
//!   origin, else `/authorize`, `/token`, `/register` there (no PKCE check is possible then).
//!
//! ```no_run
//! use workboard_core::oauth::flow::{McpAuthConfig, McpAuthEvent, McpAuthFlow};
//! # async fn example(transport: impl workboard_core::Transport, clock: impl workboard_core::Clock,
//! #                  mut entropy: workboard_core::SeededEntropy, redirect: String) -> Result<(), workboard_core::Error> {
//! let mut cfg = McpAuthConfig::new("https://www.myworkboard.com/wb/mcp", "http://127.0.0.1:8765/callback");
//! cfg.client.client_id = Some("my-client-id".into());
//! let mut flow = McpAuthFlow::new(cfg, &mut entropy, clock.now_ms())?;
//! workboard_core::drive(&mut flow, &transport, &clock).await;
//! while let Some(event) = flow.poll_event() {
//!     match event {
//!         McpAuthEvent::AuthorizationUrl { url } => { /* open `url` in the browser */ let _ = url; }
//!         McpAuthEvent::ContextChanged(ctx) => { /* persist ctx.to_json() */ let _ = ctx; }
//!         McpAuthEvent::Failed(e) => return Err(e),
//!         _ => {}
//!     }
//! }
//! // ... later, with the URL the browser was redirected to:
//! flow.handle_redirect(&redirect, clock.now_ms())?;
//! workboard_core::drive(&mut flow, &transport, &clock).await;
//! while let Some(event) = flow.poll_event() {
//!     if let McpAuthEvent::CredentialsChanged(creds) = event { /* persist creds.to_json() */ let _ = creds; }
//! }
//! # Ok(()) }
//! ```

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};
use url::Url;

use crate::credentials::{Credentials, Dialect, TokenSet};
use crate::driver::SansIo;
use crate::error::Error;
use crate::http::{redact_url, HttpRequest, HttpResponse, Method, RequestId, TransportError};
use crate::oauth::client_credentials_impl::ClientAuthentication;
use crate::oauth::discovery::{
    as_metadata_candidates, legacy_authorization_base, legacy_endpoints, prm_candidates,
    MetadataKind,
};
use crate::oauth::metadata::{
    canonical_resource, check_endpoint, parse_url, short, AuthorizationServerMetadata,
    IssuerPolicy, KnownIssuerQuirk, ProtectedResourceMetadata, ValidatedServer,
};
use crate::oauth::pending::{
    PendingAuthorization, PendingParams, DEFAULT_OAUTH2_LIFETIME_MS, STATE_BYTES,
};
use crate::oauth::pkce::Pkce;
use crate::oauth::registration::{
    apply_client_auth, choose_auth_method, parse_registration_response_for, plan_identity,
    registration_request, ClientConfig, ClientIdentity, IdentityPlan, IdentitySource,
    TokenEndpointAuth,
};
use crate::oauth::token::{form_post, parse_token_response};
use crate::oauth::www_authenticate::{parse_bearer, BearerChallenge};
use crate::random::Entropy;
use crate::secret::SecretString;

/// Everything discovery established for one MCP server, persisted beside the credentials so
/// that refresh, revocation and later authorizations skip discovery.
///
/// Serializes with the client secret in clear (store it like credentials); `Debug` redacts it.
#[derive(Clone, PartialEq, Eq, Serialize)]
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

/// Read by hand (`json::object`), as the `Serialize` derive above writes it.
impl<'de> Deserialize<'de> for AuthContext {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        crate::json::object(d, "struct AuthContext", |f| {
            Ok(AuthContext {
                server_url: f.req("server_url")?,
                resource: f.req("resource")?,
                issuer: f.opt("issuer")?,
                authorization_endpoint: f.req("authorization_endpoint")?,
                token_endpoint: f.req("token_endpoint")?,
                revocation_endpoint: f.opt("revocation_endpoint")?,
                registration_endpoint: f.opt("registration_endpoint")?,
                token_endpoint_auth: f.req("token_endpoint_auth")?,
                client_id: f.req("client_id")?,
                client_secret: f.opt("client_secret")?,
                identity_source: f.req("identity_source")?,
                redirect_uri: f.req("redirect_uri")?,
                scopes: f.opt("scopes")?,
                as_scopes_supported: f.opt("as_scopes_supported")?,
                iss_parameter_supported: f.or_default("iss_parameter_supported")?,
                allowance: f.opt("allowance")?,
                legacy_defaults: f.or_default("legacy_defaults")?,
            })
        })
    }
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
        crate::json::from_bytes(json.as_bytes()).map_err(|_| Error::InvalidInput {
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
        // Servers echo what they refused: no refresh token, access token or client secret
        // in the error.
        let secrets: Vec<SecretString> = [
            previous.refresh_token.as_ref(),
            Some(&previous.access_token),
            self.client_secret.as_ref(),
        ]
        .into_iter()
        .flatten()
        .cloned()
        .collect();
        let mut set = parse_token_response(
            resp,
            Dialect::OAuth2,
            now_ms,
            previous.refresh_token.as_ref(),
        )
        .map_err(|e| e.redact_secrets(&secrets))?;
        if set.scope.is_none() {
            set.scope = previous.scope.clone();
        }
        // The refreshed token is for the same server as the one it replaces.
        set.bound_to = match &previous.bound_to {
            Some(b) => Some(b.clone()),
            None => crate::credentials::binding_of(&self.resource).ok(),
        };
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

    /// Parses the code exchange response into a token set (OAuth 2 dialect), bound to this
    /// context's `resource` (see [`Credentials`]). `request` is
    /// the exchange request that was sent ([`AuthContext::code_exchange_request`]): every
    /// secret it carried (the code, the PKCE verifier, the client secret) is scrubbed from
    /// the server's error text.
    pub fn handle_code_response(
        &self,
        request: &HttpRequest,
        resp: &HttpResponse,
        now_ms: u64,
    ) -> Result<TokenSet, Error> {
        self.code_response(resp, now_ms, &crate::untrusted::request_secrets(request))
    }

    fn code_response(
        &self,
        resp: &HttpResponse,
        now_ms: u64,
        secrets: &[SecretString],
    ) -> Result<TokenSet, Error> {
        let mut secrets = secrets.to_vec();
        secrets.extend(self.client_secret.iter().cloned());
        let mut set = parse_token_response(resp, Dialect::OAuth2, now_ms, None)
            .map_err(|e| e.redact_secrets(&secrets))?;
        set.bound_to = Some(crate::credentials::binding_of(&self.resource)?);
        Ok(set)
    }

    /// Whether `credentials` can be renewed without the user: a refresh token, or a
    /// client credentials context (the grant runs again).
    pub fn can_renew(&self, credentials: &Credentials) -> bool {
        match credentials {
            Credentials::OAuth(set) => {
                set.refresh_token.is_some()
                    || self.identity_source == IdentitySource::ClientCredentials
            }
            _ => false,
        }
    }

    /// The request that renews `set`: the refresh grant when it has a refresh token, else,
    /// for a client credentials context, the client credentials grant again (a
    /// `private_key_jwt` assertion gets a `jti` derived from the previous access token and
    /// `now_ms`). `None` when neither applies (sign in again). Its answer goes to
    /// [`AuthContext::handle_refresh_response`].
    pub fn refresh_request_for(
        &self,
        id: RequestId,
        set: &TokenSet,
        now_ms: u64,
    ) -> Option<HttpRequest> {
        if let Some(rt) = &set.refresh_token {
            return Some(self.refresh_request(id, rt));
        }
        if self.identity_source != IdentitySource::ClientCredentials {
            return None;
        }
        let jti = crate::oauth::client_credentials_impl::derived_jti(
            &set.access_token,
            now_ms,
            &self.client_id,
        );
        self.client_credentials_request(id, now_ms, &jti).ok()
    }

    /// The client credentials token request of a client credentials context:
    /// `grant_type=client_credentials`, `scope`, `resource`, and the client authentication
    /// (a `private_key_jwt` assertion for the issuer, valid from `now_ms`, with `jti`).
    pub fn client_credentials_request(
        &self,
        id: RequestId,
        now_ms: u64,
        jti: &str,
    ) -> Result<HttpRequest, Error> {
        if self.identity_source != IdentitySource::ClientCredentials {
            return Err(Error::WrongState {
                action: "run the client credentials grant".into(),
                state: "the context is not a client credentials one".into(),
            });
        }
        crate::oauth::client_credentials_impl::grant_request(
            id,
            &crate::oauth::client_credentials_impl::GrantRequest {
                token_endpoint: &self.token_endpoint,
                client_id: &self.client_id,
                method: self.token_endpoint_auth,
                credential: self.client_secret.as_ref(),
                scope: self.scopes.as_deref(),
                resource: &self.resource,
                audience: self.issuer.as_deref().unwrap_or(&self.token_endpoint),
                now_ms,
                jti,
            },
        )
    }

    /// The key its client registration is bound to: the issuer (for a 2025-03-26 server
    /// without metadata, the token endpoint).
    pub fn registration_key(&self) -> String {
        self.issuer
            .clone()
            .unwrap_or_else(|| self.token_endpoint.clone())
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
        let mut headers = Vec::new();
        apply_client_auth(
            self.token_endpoint_auth,
            &self.client_id,
            self.client_secret.as_ref(),
            &mut headers,
            &mut form,
        );
        let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        form_post(id, url, &pairs, &headers)
    }
}

// ---------------------------------------------------------------------------------------
// The interactive flow
// ---------------------------------------------------------------------------------------

/// MCP protocol version sent on discovery requests (`MCP-Protocol-Version`).
pub const MCP_PROTOCOL_VERSION: &str = "2025-11-25";
/// At most this many authorizations (the first one plus step-ups) per flow.
pub const MAX_AUTHORIZATION_ATTEMPTS: u32 = 3;
/// A pending authorization older than this is refused (authorization codes are short-lived).
pub const PENDING_LIFETIME_MS: u64 = DEFAULT_OAUTH2_LIFETIME_MS;

/// What the application supplies to start OAuth for an MCP server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct McpAuthConfig {
    /// The MCP server URL (https, or http on loopback).
    pub server_url: String,
    /// Client identity and redirect URI.
    pub client: ClientConfig,
    /// A `WWW-Authenticate` value from a 401 the app already received. When `None`, the flow
    /// first probes the server to obtain one: an unauthenticated `initialize`, and when that is
    /// accepted, `tools/list` on the session it opened (servers that open sessions to anyone
    /// and protect their tools challenge there).
    pub www_authenticate: Option<String>,
    /// Which hosts may use named issuer allowances (default: WorkBoard US and EU).
    pub issuer_policy: IssuerPolicy,
    /// The context an earlier sign-in to this server stored (ignored when it is another
    /// server's). Client registrations are bound to the authorization server that issued
    /// them, keyed by its `issuer` (MCP 2026-07-28, authorization server binding): its
    /// dynamically registered client is used again only when discovery finds the same
    /// issuer (and redirect URI); at another one the flow registers anew, so the old
    /// client's id and secret never reach the new server. A pre-registered `client_id` it
    /// recorded at another issuer fails with [`Error::NoClientIdentity`] rather than being
    /// tried there. A client ID metadata document URL is portable and needs neither.
    pub previous: Option<AuthContext>,
}

impl McpAuthConfig {
    /// A config for `server_url` and `redirect_uri`, with no client id (CIMD or dynamic
    /// registration will be tried) and the default issuer policy.
    pub fn new(server_url: impl Into<String>, redirect_uri: impl Into<String>) -> McpAuthConfig {
        McpAuthConfig {
            server_url: server_url.into(),
            client: ClientConfig {
                redirect_uri: redirect_uri.into(),
                client_name: "workboard-connect".into(),
                ..ClientConfig::default()
            },
            www_authenticate: None,
            issuer_policy: IssuerPolicy::default(),
            previous: None,
        }
    }

    /// Takes the `WWW-Authenticate` challenges of a 401 (or 403) the app received from the
    /// MCP server, so the flow starts from them instead of probing. Several header lines are
    /// joined into one list.
    pub fn with_challenge_from(mut self, response: &HttpResponse) -> McpAuthConfig {
        let values: Vec<&str> = response.headers_named("www-authenticate").collect();
        if !values.is_empty() {
            self.www_authenticate = Some(values.join(", "));
        }
        self
    }

    /// A config for WorkBoard's MCP endpoint in `env` (`<base>/wb/mcp`). For a
    /// [`crate::Environment::Custom`] base URL (a simulator, a private deployment) the host is
    /// registered as a WorkBoard host, so the named issuer allowance applies there too.
    pub fn workboard(env: &crate::Environment, redirect_uri: impl Into<String>) -> McpAuthConfig {
        let mut c = McpAuthConfig::new(env.mcp_url(), redirect_uri);
        c.issuer_policy = IssuerPolicy::default().with_environment(env);
        c
    }
}

/// What a service supplies for the client credentials grant
/// ([`McpAuthFlow::client_credentials`]; see [`crate::oauth::client_credentials`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientCredentialsConfig {
    /// The MCP server URL (https, or http on loopback).
    pub server_url: String,
    /// The client id the authorization server issued to the service.
    pub client_id: String,
    /// How it authenticates (secret or private key).
    pub authentication: ClientAuthentication,
    /// The scope to ask for; `None`: the server's challenge, else the resource metadata's
    /// `scopes_supported`, else none.
    pub scope: Option<String>,
    /// A `WWW-Authenticate` value from a 401 the app already received (else the server is
    /// probed).
    pub www_authenticate: Option<String>,
    /// Which hosts may use named issuer allowances (default: WorkBoard US and EU).
    pub issuer_policy: IssuerPolicy,
    /// The token endpoint a client secret belongs to when it is on another host than the MCP
    /// server (and not WorkBoard's).
    pub token_endpoint_for: Option<String>,
}

impl ClientCredentialsConfig {
    /// A config for `server_url` with this client and authentication.
    pub fn new(
        server_url: impl Into<String>,
        client_id: impl Into<String>,
        authentication: ClientAuthentication,
    ) -> ClientCredentialsConfig {
        ClientCredentialsConfig {
            server_url: server_url.into(),
            client_id: client_id.into(),
            authentication,
            scope: None,
            www_authenticate: None,
            issuer_policy: IssuerPolicy::default(),
            token_endpoint_for: None,
        }
    }
}

/// The client credentials grant a flow runs instead of an interactive authorization.
#[derive(Clone, Debug)]
struct Grant {
    authentication: ClientAuthentication,
    scope: Option<String>,
    /// The assertion's `jti`, drawn from the host's entropy when the flow started.
    jti: String,
}

/// Outputs of [`McpAuthFlow`], drained with [`McpAuthFlow::poll_event`].
pub enum McpAuthEvent {
    /// The server answered the probe without asking for authorization.
    NotRequired,
    /// Discovery finished: persist this context (it contains the client secret, if any).
    ContextChanged(AuthContext),
    /// Open this URL in the user's browser, then pass the redirect to
    /// [`McpAuthFlow::handle_redirect`]. Persist [`McpAuthFlow::pending_json`] first if the
    /// app may be killed meanwhile.
    AuthorizationUrl {
        /// The authorization URL (carries `state` and the PKCE challenge, never a secret).
        url: String,
    },
    /// New credentials: persist them.
    CredentialsChanged(Credentials),
    /// The flow failed; it is over.
    Failed(Error),
}

impl std::fmt::Debug for McpAuthEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            McpAuthEvent::NotRequired => f.write_str("NotRequired"),
            McpAuthEvent::ContextChanged(c) => f.debug_tuple("ContextChanged").field(c).finish(),
            McpAuthEvent::AuthorizationUrl { url } => f
                .debug_struct("AuthorizationUrl")
                .field("url", &redact_url(url))
                .finish(),
            McpAuthEvent::CredentialsChanged(c) => {
                f.debug_tuple("CredentialsChanged").field(c).finish()
            }
            McpAuthEvent::Failed(e) => f.debug_tuple("Failed").field(e).finish(),
        }
    }
}

/// The flow's data kept in [`PendingAuthorization::extra`], so that the pending
/// authorization alone can resume the flow.
#[derive(Serialize)]
struct SavedFlow {
    version: u32,
    context: AuthContext,
    attempts: u32,
}

/// Read by hand (`json::object`), as the `Serialize` derive above writes it.
impl<'de> Deserialize<'de> for SavedFlow {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        crate::json::object(d, "struct SavedFlow", |f| {
            Ok(SavedFlow {
                version: f.req("version")?,
                context: f.req("context")?,
                attempts: f.req("attempts")?,
            })
        })
    }
}

/// Key of [`SavedFlow`] inside [`PendingAuthorization::extra`].
const EXTRA_KEY: &str = "mcp_flow";

/// Secrets drawn when an authorization is prepared: the `state` bytes and the PKCE pair.
type Secrets = (Vec<u8>, Pkce);

/// Where the flow is, with what that step needs. Every change goes through
/// `McpAuthFlow::enter`, which holds it to [`PHASE_TRANSITIONS`].
enum Phase {
    /// An anonymous modern (2026-07-28) `tools/list`: its 401 challenge, if any.
    Probe { request: RequestId },
    /// The server did not take the modern request: an anonymous legacy `initialize`.
    ProbeLegacy { request: RequestId },
    /// The anonymous `initialize` was accepted: does `tools/list` need authorization?
    ProbeTools { request: RequestId },
    /// Protected resource metadata: `candidates[index]` was asked for.
    Prm {
        request: RequestId,
        candidates: Vec<Url>,
        index: usize,
    },
    /// Authorization server metadata of `as_url`: `candidates[index]` was asked for.
    AsMeta {
        request: RequestId,
        as_url: Url,
        candidates: Vec<(Url, MetadataKind)>,
        index: usize,
        /// No resource metadata anywhere (a 2025-03-26 server): without metadata here too,
        /// its default endpoints.
        legacy_origin: bool,
    },
    /// Dynamic client registration.
    Register { request: RequestId },
    /// The user is in the browser; the redirect comes to [`McpAuthFlow::handle_redirect`].
    AwaitingRedirect { pending: Box<PendingAuthorization> },
    /// The code exchange (or the client credentials grant).
    Exchange {
        request: RequestId,
        /// Its secrets, scrubbed from the server's error text.
        secrets: Vec<SecretString>,
        /// The scopes asked for, when the token response names none.
        scope: Option<String>,
    },
    /// Credentials issued (or none needed).
    Done {
        /// A redirect was redeemed (a second one is `authorization_reused`).
        redirect_used: bool,
    },
    /// Over, with an error.
    Failed {
        /// The redirect was consumed before it failed.
        redirect_used: bool,
    },
}

/// Why the flow moves ([`PHASE_TRANSITIONS`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum FlowInput {
    /// The flow starts (discovery, a saved context, a resumed authorization).
    Start,
    /// The server answered without asking for authorization.
    NotRequired,
    /// The modern probe was refused the way a legacy server refuses it.
    LegacyServer,
    /// The anonymous `initialize` was accepted: the tools are asked for.
    SessionOpened,
    /// A challenge (or a refusal) starts discovery.
    Challenge,
    /// This metadata location does not exist: the next one.
    NotFound,
    /// Resource metadata found (or none anywhere): the authorization server's next.
    Metadata,
    /// Discovery done, with a client identity: the authorization.
    Authorize,
    /// Discovery done, no client identity: dynamic registration.
    Register,
    /// Discovery done for a client credentials grant: the token request.
    Grant,
    /// The redirect came back with a code: the exchange.
    Redirect,
    /// A step-up: authorize again with more scope.
    StepUp,
    /// Tokens issued.
    Tokens,
    /// Something failed.
    Failure,
}

impl FlowInput {
    fn name(self) -> &'static str {
        match self {
            FlowInput::Start => "start",
            FlowInput::NotRequired => "not_required",
            FlowInput::LegacyServer => "legacy_server",
            FlowInput::SessionOpened => "session_opened",
            FlowInput::Challenge => "challenge",
            FlowInput::NotFound => "not_found",
            FlowInput::Metadata => "metadata",
            FlowInput::Authorize => "authorize",
            FlowInput::Register => "register",
            FlowInput::Grant => "grant",
            FlowInput::Redirect => "redirect",
            FlowInput::StepUp => "step_up",
            FlowInput::Tokens => "tokens",
            FlowInput::Failure => "failure",
        }
    }
}

impl Phase {
    fn kind(&self) -> &'static str {
        match self {
            Phase::Probe { .. } => "Probe",
            Phase::ProbeLegacy { .. } => "ProbeLegacy",
            Phase::ProbeTools { .. } => "ProbeTools",
            Phase::Prm { .. } => "Prm",
            Phase::AsMeta { .. } => "AsMeta",
            Phase::Register { .. } => "Register",
            Phase::AwaitingRedirect { .. } => "AwaitingRedirect",
            Phase::Exchange { .. } => "Exchange",
            Phase::Done { .. } => "Done",
            Phase::Failed { .. } => "Failed",
        }
    }

    /// The request this phase waits for.
    fn request(&self) -> Option<RequestId> {
        match self {
            Phase::Probe { request }
            | Phase::ProbeLegacy { request }
            | Phase::ProbeTools { request }
            | Phase::Prm { request, .. }
            | Phase::AsMeta { request, .. }
            | Phase::Register { request }
            | Phase::Exchange { request, .. } => Some(*request),
            _ => None,
        }
    }

    /// Whether a redirect was redeemed (or consumed) in this flow.
    fn redirect_used(&self) -> bool {
        match self {
            Phase::Exchange { .. } => true,
            Phase::Done { redirect_used } | Phase::Failed { redirect_used } => *redirect_used,
            _ => false,
        }
    }
}

/// The flow's transition table: (from, input, to). `[*]` is where a flow starts. Every
/// phase change is checked against it (`McpAuthFlow::enter`), and a test checks the diagram
/// in ARCHITECTURE.md against it ([`crate::states::transitions`]).
const PHASE_TRANSITIONS: &[(&str, &str, &str)] = &[
    ("[*]", "start", "Probe"),
    ("[*]", "start", "Prm"),
    ("[*]", "start", "AwaitingRedirect"),
    ("Probe", "not_required", "Done"),
    ("Probe", "legacy_server", "ProbeLegacy"),
    ("Probe", "challenge", "Prm"),
    ("ProbeLegacy", "session_opened", "ProbeTools"),
    ("ProbeLegacy", "challenge", "Prm"),
    ("ProbeTools", "challenge", "Prm"),
    ("ProbeTools", "not_required", "Done"),
    ("Prm", "not_found", "Prm"),
    ("Prm", "metadata", "AsMeta"),
    ("AsMeta", "not_found", "AsMeta"),
    ("AsMeta", "authorize", "AwaitingRedirect"),
    ("AsMeta", "register", "Register"),
    ("AsMeta", "grant", "Exchange"),
    ("Register", "authorize", "AwaitingRedirect"),
    ("AwaitingRedirect", "redirect", "Exchange"),
    ("AwaitingRedirect", "step_up", "AwaitingRedirect"),
    ("Exchange", "tokens", "Done"),
    ("Done", "step_up", "AwaitingRedirect"),
    ("Failed", "step_up", "AwaitingRedirect"),
    ("Probe", "failure", "Failed"),
    ("ProbeLegacy", "failure", "Failed"),
    ("ProbeTools", "failure", "Failed"),
    ("Prm", "failure", "Failed"),
    ("AsMeta", "failure", "Failed"),
    ("Register", "failure", "Failed"),
    ("AwaitingRedirect", "failure", "Failed"),
    ("Exchange", "failure", "Failed"),
    ("Done", "failure", "Failed"),
    ("Failed", "failure", "Failed"),
];

/// [`PHASE_TRANSITIONS`] as [`crate::states::Transition`]s.
pub(crate) fn phase_table() -> Vec<crate::states::Transition> {
    PHASE_TRANSITIONS
        .iter()
        .map(|(from, input, to)| crate::states::Transition { from, input, to })
        .collect()
}

/// The OAuth 2.1 for MCP authorization machine.
///
/// Steps: probe the MCP server for its 401 (or start from a given `WWW-Authenticate`) →
/// protected resource metadata (header URL, path form, root form; 404 → next) →
/// authorization server metadata (RFC 8414 and OIDC forms; 404 → next; with no resource
/// metadata at all, the 2025-03-26 defaults at the server origin) → client identity
/// (pre-registered, CIMD, dynamic registration) → [`McpAuthEvent::AuthorizationUrl`] → the app
/// calls [`McpAuthFlow::handle_redirect`] → code exchange → [`McpAuthEvent::CredentialsChanged`].
///
/// Drive it with [`crate::drive`] (it implements [`SansIo`]), then drain
/// [`McpAuthFlow::poll_event`].
pub struct McpAuthFlow {
    config: McpAuthConfig,
    server_url: Url,
    phase: Phase,
    next_id: u64,
    queue: VecDeque<HttpRequest>,
    events: VecDeque<McpAuthEvent>,
    /// What discovery learnt, used by the steps after it: the server's challenge, its
    /// resource metadata, the validated authorization server, the context.
    challenge: Option<BearerChallenge>,
    prm: Option<ProtectedResourceMetadata>,
    server: Option<ValidatedServer>,
    context: Option<AuthContext>,
    first_secrets: Option<Secrets>,
    /// The client credentials grant, when the flow runs one (no user, no redirect).
    grant: Option<Grant>,
    attempts: u32,
    last_now: u64,
}

impl std::fmt::Debug for McpAuthFlow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("McpAuthFlow")
            .field("server_url", &self.server_url.as_str())
            .field("phase", &self.phase.kind())
            .field("attempts", &self.attempts)
            .field("context", &self.context)
            .finish_non_exhaustive()
    }
}

impl McpAuthFlow {
    /// Starts discovery for `config.server_url`. `entropy` supplies `state` and the PKCE
    /// verifier of the first authorization.
    pub fn new(
        config: McpAuthConfig,
        entropy: &mut dyn Entropy,
        now_ms: u64,
    ) -> Result<McpAuthFlow, Error> {
        let server_url = parse_url(config.server_url.trim(), "MCP server URL")?;
        check_endpoint(&server_url, "MCP server URL")?;
        check_redirect_uri_shape(&config.client.redirect_uri)?;
        let mut config = config;
        let same_server = |p: &AuthContext| {
            crate::credentials::binding_of(&p.server_url).ok()
                == crate::credentials::binding_of(server_url.as_str()).ok()
        };
        if !config.previous.as_ref().is_some_and(same_server) {
            config.previous = None;
        }
        let mut flow = McpAuthFlow::empty(config, server_url);
        flow.last_now = now_ms;
        flow.first_secrets = Some(fresh_secrets(entropy));
        flow.start();
        Ok(flow)
    }

    /// The client credentials grant for a service (no user): discovery as in
    /// [`McpAuthFlow::new`], then `grant_type=client_credentials` at the token endpoint.
    /// Emits [`McpAuthEvent::ContextChanged`] (persist it: it holds the secret or key, and
    /// renews the tokens) and [`McpAuthEvent::CredentialsChanged`]; never an authorization
    /// URL. `entropy` supplies the assertion's `jti`.
    pub fn client_credentials(
        config: ClientCredentialsConfig,
        entropy: &mut dyn Entropy,
        now_ms: u64,
    ) -> Result<McpAuthFlow, Error> {
        let server_url = parse_url(config.server_url.trim(), "MCP server URL")?;
        check_endpoint(&server_url, "MCP server URL")?;
        let client_id = config.client_id.trim();
        if client_id.is_empty() {
            return Err(Error::InvalidInput {
                what: "client id".into(),
                reason: "the client credentials grant needs the client id the authorization server issued".into(),
            });
        }
        if let ClientAuthentication::ClientSecretBasic(s)
        | ClientAuthentication::ClientSecretPost(s) = &config.authentication
        {
            if s.is_empty() {
                return Err(Error::InvalidInput {
                    what: "client secret".into(),
                    reason: "empty".into(),
                });
            }
        }
        let mut jti = [0u8; 18];
        entropy.fill_bytes(&mut jti);
        let mut auth_config = McpAuthConfig::new(config.server_url.clone(), "");
        auth_config.client.client_id = Some(client_id.to_string());
        auth_config.client.client_secret_for = config.token_endpoint_for.clone();
        auth_config.www_authenticate = config.www_authenticate.clone();
        auth_config.issuer_policy = config.issuer_policy.clone();
        let mut flow = McpAuthFlow::empty(auth_config, server_url);
        flow.last_now = now_ms;
        flow.grant = Some(Grant {
            authentication: config.authentication,
            scope: config.scope.filter(|s| !s.trim().is_empty()),
            jti: base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, jti),
        });
        flow.start();
        Ok(flow)
    }

    /// Skips discovery: authorizes with a saved context (e.g. after the refresh token
    /// expired). Emits [`McpAuthEvent::AuthorizationUrl`] at once.
    pub fn from_context(
        context: AuthContext,
        entropy: &mut dyn Entropy,
        now_ms: u64,
    ) -> Result<McpAuthFlow, Error> {
        let server_url = parse_url(&context.server_url, "MCP server URL")?;
        let mut config =
            McpAuthConfig::new(context.server_url.clone(), context.redirect_uri.clone());
        config.client.client_id = Some(context.client_id.clone());
        let mut flow = McpAuthFlow::empty(config, server_url);
        let scope = context.scopes.clone();
        flow.context = Some(context);
        flow.authorize(FlowInput::Start, scope, fresh_secrets(entropy), now_ms)?;
        Ok(flow)
    }

    /// Restores a flow saved with [`McpAuthFlow::pending_json`] (after a page reload or a
    /// killed app); it then waits for [`McpAuthFlow::handle_redirect`].
    pub fn resume(pending_json: &str) -> Result<McpAuthFlow, Error> {
        let pending = PendingAuthorization::from_json(pending_json)?;
        let saved: SavedFlow = pending
            .extra
            .get(EXTRA_KEY)
            .cloned()
            .and_then(|v| crate::json::from_value(v).ok())
            .ok_or_else(|| Error::InvalidInput {
                what: "saved pending authorization".into(),
                reason: "not an MCP authorization (no flow context)".into(),
            })?;
        if saved.version != 1 {
            return Err(Error::InvalidInput {
                what: "saved pending authorization".into(),
                reason: format!("unknown version {}", saved.version),
            });
        }
        let server_url = parse_url(&saved.context.server_url, "MCP server URL")?;
        let mut config = McpAuthConfig::new(
            saved.context.server_url.clone(),
            saved.context.redirect_uri.clone(),
        );
        config.client.client_id = Some(saved.context.client_id.clone());
        let mut flow = McpAuthFlow::empty(config, server_url);
        flow.context = Some(saved.context);
        flow.attempts = saved.attempts;
        flow.enter(
            FlowInput::Start,
            Phase::AwaitingRedirect {
                pending: Box::new(pending),
            },
        );
        Ok(flow)
    }

    /// The pending authorization (a [`PendingAuthorization`] carrying this flow's context),
    /// as JSON to persist while the user is in the browser. Contains secrets (`state`, PKCE
    /// verifier, client secret): store it like a credential. `None` once completed.
    pub fn pending_json(&self) -> Option<String> {
        match &self.phase {
            Phase::AwaitingRedirect { pending } if !pending.completed => Some(pending.to_json()),
            _ => None,
        }
    }

    /// The discovery result, once known.
    pub fn context(&self) -> Option<&AuthContext> {
        self.context.as_ref()
    }

    /// Authorizations started so far (the first one and step-ups).
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// Whether the flow waits for [`McpAuthFlow::handle_redirect`].
    pub fn is_awaiting_redirect(&self) -> bool {
        matches!(self.phase, Phase::AwaitingRedirect { .. })
    }

    /// Whether the flow is over (credentials issued, not required, or failed).
    pub fn is_finished(&self) -> bool {
        matches!(self.phase, Phase::Done { .. } | Phase::Failed { .. })
    }

    /// Next event.
    pub fn poll_event(&mut self) -> Option<McpAuthEvent> {
        self.events.pop_front()
    }

    /// The redirect the browser landed on: a full URL, or its query string. Checks `state`
    /// (constant time), RFC 9207 `iss`, expiry and single use, then queues the code exchange.
    ///
    /// A wrong `state` leaves the pending authorization intact (the genuine redirect may
    /// still come); every other outcome consumes it.
    pub fn handle_redirect(&mut self, input: &str, now_ms: u64) -> Result<(), Error> {
        if self.phase.redirect_used() {
            return Err(Error::AuthorizationReused);
        }
        let Phase::AwaitingRedirect { pending } = &mut self.phase else {
            return Err(Error::WrongState {
                action: "handle a redirect".into(),
                state: "not awaiting a redirect".into(),
            });
        };
        let Some(ctx) = self.context.clone() else {
            return Err(Error::WrongState {
                action: "handle a redirect".into(),
                state: "no pending authorization".into(),
            });
        };
        let result = pending.handle_redirect(input, now_ms);
        let consumed = pending.completed;
        let scope = Some(pending.scopes.join(" ")).filter(|s| !s.is_empty());
        match result {
            Ok(code) => {
                let verifier = code.pkce_verifier.clone().unwrap_or_default();
                let id = self.alloc_id();
                let req = ctx.code_exchange_request(id, &code.code, &verifier);
                let secrets = crate::untrusted::request_secrets(&req);
                self.enter(
                    FlowInput::Redirect,
                    Phase::Exchange {
                        request: req.id,
                        secrets,
                        scope,
                    },
                );
                self.queue.push_back(req);
                Ok(())
            }
            Err(e) => {
                // Forged or malformed redirects leave the authorization waiting; anything
                // after the state matched (and expiry) ends the flow.
                if consumed || matches!(e, Error::AuthorizationExpired { .. }) {
                    self.fail(e.clone());
                }
                Err(e)
            }
        }
    }

    /// Step-up after a 403 `insufficient_scope`: authorizes again asking for `scope` in
    /// addition to the scopes requested before. Emits a new
    /// [`McpAuthEvent::AuthorizationUrl`]. After [`MAX_AUTHORIZATION_ATTEMPTS`] authorizations
    /// in this flow it refuses with [`Error::InsufficientScope`].
    pub fn step_up(
        &mut self,
        scope: &str,
        entropy: &mut dyn Entropy,
        now_ms: u64,
    ) -> Result<(), Error> {
        let Some(ctx) = &self.context else {
            return Err(Error::WrongState {
                action: "step up".into(),
                state: "discovery has not finished".into(),
            });
        };
        if matches!(self.phase, Phase::Exchange { .. }) {
            return Err(Error::WrongState {
                action: "step up".into(),
                state: "a token request is in flight".into(),
            });
        }
        if self.attempts >= MAX_AUTHORIZATION_ATTEMPTS {
            let e = Error::InsufficientScope {
                scope: Some(short(scope)),
            };
            self.fail(e.clone());
            return Err(e);
        }
        let merged = merge_scopes(ctx.scopes.as_deref(), scope);
        let merged = add_offline_access(merged, ctx.as_scopes_supported.as_deref());
        if let Some(c) = self.context.as_mut() {
            c.scopes = merged.clone();
        }
        self.authorize(FlowInput::StepUp, merged, fresh_secrets(entropy), now_ms)
    }

    // ---- internals ----

    fn empty(config: McpAuthConfig, server_url: Url) -> McpAuthFlow {
        McpAuthFlow {
            config,
            server_url,
            // Before `start` (which enters the first real phase): nothing to wait for.
            phase: Phase::Done {
                redirect_used: false,
            },
            next_id: 0,
            queue: VecDeque::new(),
            events: VecDeque::new(),
            challenge: None,
            prm: None,
            server: None,
            context: None,
            first_secrets: None,
            grant: None,
            attempts: 0,
            last_now: 0,
        }
    }

    fn alloc_id(&mut self) -> RequestId {
        self.next_id += 1;
        RequestId(self.next_id)
    }

    /// The one place the phase changes: `input` must lead from the current phase to
    /// `next`'s kind in [`PHASE_TRANSITIONS`] (checked in debug builds, which every test
    /// runs; a flow being built has no phase yet and may enter any start phase).
    fn enter(&mut self, input: FlowInput, next: Phase) {
        let from = if input == FlowInput::Start {
            "[*]"
        } else {
            self.phase.kind()
        };
        debug_assert!(
            PHASE_TRANSITIONS.contains(&(from, input.name(), next.kind())),
            "McpAuthFlow: {from} --{}--> {} is not in PHASE_TRANSITIONS",
            input.name(),
            next.kind()
        );
        self.phase = next;
    }

    /// Sends `req` and enters the phase that waits for it.
    fn send(&mut self, input: FlowInput, req: HttpRequest, phase: impl FnOnce(RequestId) -> Phase) {
        let next = phase(req.id);
        self.enter(input, next);
        self.queue.push_back(req);
    }

    fn fail(&mut self, e: Error) {
        let redirect_used = self.phase.redirect_used()
            || matches!(&self.phase, Phase::AwaitingRedirect { pending } if pending.completed);
        self.enter(FlowInput::Failure, Phase::Failed { redirect_used });
        self.queue.clear();
        self.events.push_back(McpAuthEvent::Failed(e));
    }

    fn get(&mut self, url: &Url, input: FlowInput, phase: impl FnOnce(RequestId) -> Phase) {
        let id = self.alloc_id();
        let req = HttpRequest {
            id,
            method: Method::Get,
            url: url.to_string(),
            headers: vec![
                ("Accept".into(), "application/json".into()),
                ("MCP-Protocol-Version".into(), MCP_PROTOCOL_VERSION.into()),
            ],
            body: Vec::new(),
        };
        self.send(input, req, phase);
    }

    /// Discovery's first step: the challenge the app already has, else the probe.
    fn start(&mut self) {
        match self.config.www_authenticate.clone() {
            Some(h) => {
                self.challenge = parse_bearer(&h);
                self.start_prm(FlowInput::Start);
            }
            None => self.send_probe(),
        }
    }

    /// The dual-era probe: an anonymous modern `tools/list` (a modern server answers its
    /// 401 with the challenge and scope; a legacy one refuses the request without a modern
    /// error, and the legacy `initialize` probe follows).
    fn send_probe(&mut self) {
        let id = self.alloc_id();
        let version = crate::mcp::modern::MODERN_PROTOCOL_VERSIONS[0];
        let info = crate::mcp::jsonrpc::Implementation::default();
        let caps = serde_json::Value::Object(Default::default());
        let meta = crate::mcp::modern::RequestMeta {
            version,
            client_info: &info,
            capabilities: &caps,
            log_level: None,
            progress_token: None,
        };
        let body = crate::mcp::modern::request_body(
            &crate::mcp::jsonrpc::JsonRpcId::Number(0),
            "tools/list",
            &crate::mcp::modern::NoParams {},
            &meta,
        );
        let req = crate::mcp::session::SessionInfo::post_modern(
            id,
            self.server_url.as_str(),
            body,
            None,
            crate::mcp::modern::request_headers(version, "tools/list", None),
        );
        self.send(FlowInput::Start, req, |request| Phase::Probe { request });
    }

    /// The legacy probe: an anonymous `initialize`.
    fn send_legacy_probe(&mut self) {
        let id = self.alloc_id();
        let body = serde_json::json!({
            "jsonrpc": "2.0",
            "id": 0,
            "method": "initialize",
            "params": {
                "protocolVersion": MCP_PROTOCOL_VERSION,
                "capabilities": {},
                "clientInfo": {"name": "workboard-connect", "version": env!("CARGO_PKG_VERSION")}
            }
        });
        let req = HttpRequest {
            id,
            method: Method::Post,
            url: self.server_url.to_string(),
            headers: vec![
                ("Content-Type".into(), "application/json".into()),
                (
                    "Accept".into(),
                    "application/json, text/event-stream".into(),
                ),
            ],
            body: body.to_string().into_bytes(),
        };
        self.send(FlowInput::LegacyServer, req, |request| Phase::ProbeLegacy {
            request,
        });
    }

    /// `tools/list` on the session the anonymous `initialize` opened (its id, if any, and
    /// the version this SDK asked for; the body of the answer is not needed).
    fn send_tools_probe(&mut self, initialized: &HttpResponse) {
        let id = self.alloc_id();
        let mut headers = vec![
            ("Content-Type".into(), "application/json".into()),
            (
                "Accept".into(),
                "application/json, text/event-stream".into(),
            ),
            ("MCP-Protocol-Version".into(), MCP_PROTOCOL_VERSION.into()),
        ];
        if let Some(sid) = initialized
            .header("mcp-session-id")
            .filter(|s| !s.is_empty() && s.bytes().all(|b| (0x21..=0x7e).contains(&b)))
        {
            headers.push(("Mcp-Session-Id".into(), sid.to_string()));
        }
        let body = serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"});
        let req = HttpRequest {
            id,
            method: Method::Post,
            url: self.server_url.to_string(),
            headers,
            body: body.to_string().into_bytes(),
        };
        self.send(FlowInput::SessionOpened, req, |request| Phase::ProbeTools {
            request,
        });
    }

    /// The tools probe: a 401/403 challenge starts discovery; anything else means the server
    /// asks for no authorization (a failure there is not an authorization matter).
    fn on_tools_probe(&mut self, resp: HttpResponse) {
        if resp.status == 401 || resp.status == 403 {
            self.challenge = crate::oauth::www_authenticate::bearer_from_response(&resp);
            self.start_prm(FlowInput::Challenge);
            return;
        }
        self.enter(
            FlowInput::NotRequired,
            Phase::Done {
                redirect_used: false,
            },
        );
        self.events.push_back(McpAuthEvent::NotRequired);
    }

    fn start_prm(&mut self, input: FlowInput) {
        let rm = self
            .challenge
            .as_ref()
            .and_then(|c| c.resource_metadata.clone());
        match prm_candidates(&self.server_url, rm.as_deref()) {
            Ok(c) => self.next_prm(input, c, 0),
            Err(e) => self.fail(e),
        }
    }

    /// Asks for `candidates[index]`, or, past the last one, goes on without resource
    /// metadata.
    fn next_prm(&mut self, input: FlowInput, candidates: Vec<Url>, index: usize) {
        match candidates.get(index).cloned() {
            Some(u) => self.get(&u, input, |request| Phase::Prm {
                request,
                candidates,
                index,
            }),
            None => {
                // No resource metadata anywhere: a 2025-03-26 server. Its authorization base
                // URL is the server's origin.
                let base = legacy_authorization_base(&self.server_url);
                self.next_as(FlowInput::Metadata, base, None, 0, true);
            }
        }
    }

    /// Asks for the authorization server metadata of `as_url` at `candidates[index]` (all
    /// of them when `None`), or, past the last one, goes on without (a legacy origin) or
    /// fails.
    fn next_as(
        &mut self,
        input: FlowInput,
        as_url: Url,
        candidates: Option<Vec<(Url, MetadataKind)>>,
        index: usize,
        legacy_origin: bool,
    ) {
        let candidates = candidates.unwrap_or_else(|| as_metadata_candidates(&as_url));
        match candidates.get(index).map(|(u, _)| u.clone()) {
            Some(u) => self.get(&u, input, |request| Phase::AsMeta {
                request,
                as_url,
                candidates,
                index,
                legacy_origin,
            }),
            None if legacy_origin => self.choose_identity(),
            None => {
                self.fail(Error::Discovery {
                    reason: format!("no authorization server metadata found for `{as_url}` (tried RFC 8414 and OpenID Connect locations)"),
                });
            }
        }
    }

    /// The modern probe's answer: a challenge (or another refusal that is not a legacy
    /// server's) starts discovery; a result means no authorization is needed; a 4xx without
    /// a modern error means a legacy server: probe it with `initialize`.
    fn on_modern_probe(&mut self, resp: HttpResponse) {
        if resp.is_success() {
            self.enter(
                FlowInput::NotRequired,
                Phase::Done {
                    redirect_used: false,
                },
            );
            self.events.push_back(McpAuthEvent::NotRequired);
            return;
        }
        let legacy = matches!(resp.status, 400 | 404 | 405 | 406 | 415 | 422)
            && crate::mcp::modern::modern_error(resp.status, &resp.body).is_none();
        if legacy {
            self.send_legacy_probe();
            return;
        }
        self.on_probe(resp);
    }

    fn on_probe(&mut self, resp: HttpResponse) {
        if resp.is_success() {
            // Many servers open a session to anyone and protect the tools: ask for them.
            self.send_tools_probe(&resp);
            return;
        }
        if resp.status == 401 || resp.status == 403 {
            self.challenge = crate::oauth::www_authenticate::bearer_from_response(&resp);
        }
        self.start_prm(FlowInput::Challenge);
    }

    fn on_prm(&mut self, resp: HttpResponse, candidates: Vec<Url>, index: usize) {
        if is_not_found(resp.status) {
            self.next_prm(FlowInput::NotFound, candidates, index.saturating_add(1));
            return;
        }
        let url = candidates
            .get(index)
            .map(|u| u.to_string())
            .unwrap_or_default();
        if !resp.is_success() {
            self.fail(http_error(&resp, &url));
            return;
        }
        let result = ProtectedResourceMetadata::parse(&resp.body)
            .and_then(|prm| prm.validate(&self.server_url).map(|as_url| (prm, as_url)));
        match result {
            Ok((prm, as_url)) => {
                self.prm = Some(prm);
                self.next_as(FlowInput::Metadata, as_url, None, 0, false);
            }
            Err(e) => self.fail(e),
        }
    }

    fn on_as(
        &mut self,
        resp: HttpResponse,
        as_url: Url,
        candidates: Vec<(Url, MetadataKind)>,
        index: usize,
        legacy_origin: bool,
    ) {
        if is_not_found(resp.status) {
            let next = index.saturating_add(1);
            self.next_as(
                FlowInput::NotFound,
                as_url,
                Some(candidates),
                next,
                legacy_origin,
            );
            return;
        }
        let url = candidates
            .get(index)
            .map(|(u, _)| u.to_string())
            .unwrap_or_default();
        if !resp.is_success() {
            self.fail(http_error(&resp, &url));
            return;
        }
        let result = AuthorizationServerMetadata::parse(&resp.body)
            .and_then(|m| m.validate(&as_url, &self.config.issuer_policy));
        match result {
            Ok(v) => {
                self.server = Some(v);
                self.choose_identity();
            }
            Err(e) => self.fail(e),
        }
    }

    fn registration_endpoint(&self) -> Result<Option<Url>, Error> {
        match &self.server {
            Some(s) => s
                .metadata
                .registration_endpoint
                .as_deref()
                .map(|r| parse_url(r, "registration_endpoint"))
                .transpose(),
            None => Ok(Some(
                legacy_endpoints(&self.server_url).registration_endpoint,
            )),
        }
    }

    /// The key client registrations are bound to: the issuer of the authorization server
    /// discovery found (for a 2025-03-26 server without metadata, its token endpoint).
    fn registration_key(&self) -> String {
        match &self.server {
            Some(s) => s.metadata.issuer.clone(),
            None => legacy_endpoints(&self.server_url)
                .token_endpoint
                .to_string(),
        }
    }

    fn choose_identity(&mut self) {
        if let Some(grant) = &self.grant {
            let identity = ClientIdentity {
                client_id: self.config.client.client_id.clone().unwrap_or_default(),
                client_secret: Some(grant.authentication.credential()),
                source: IdentitySource::ClientCredentials,
                registered_auth_method: Some(grant.authentication.method()),
            };
            self.finish_discovery(identity);
            return;
        }
        let plan = self.registration_endpoint().and_then(|reg| {
            plan_identity(
                &self.config.client,
                self.server.as_ref().map(|s| &s.metadata),
                reg.as_ref(),
            )
        });
        let key = self.registration_key();
        let previous = self.config.previous.as_ref();
        let plan = match (plan, previous) {
            // A registration this server's issuer made earlier replaces a new one.
            (Ok(IdentityPlan::Register(_)) | Err(Error::NoClientIdentity { .. }), Some(p))
                if p.identity_source == IdentitySource::DynamicRegistration
                    && p.registration_key() == key
                    && p.redirect_uri == self.config.client.redirect_uri =>
            {
                Ok(IdentityPlan::Ready(ClientIdentity {
                    client_id: p.client_id.clone(),
                    client_secret: p.client_secret.clone(),
                    source: IdentitySource::DynamicRegistration,
                    registered_auth_method: Some(p.token_endpoint_auth),
                }))
            }
            (Ok(IdentityPlan::Ready(id)), Some(p))
                if id.source == IdentitySource::PreRegistered
                    && p.identity_source == IdentitySource::PreRegistered
                    && p.client_id == id.client_id
                    && p.registration_key() != key =>
            {
                Err(Error::NoClientIdentity {
                    reason: format!(
                        "the pre-registered client `{}` belongs to the authorization server `{}`, but the server now names `{}` (client registrations are bound to their issuer)",
                        short(&id.client_id),
                        short(&p.registration_key()),
                        short(&key)
                    ),
                })
            }
            (plan, _) => plan,
        };
        match plan {
            Ok(IdentityPlan::Ready(identity)) => self.finish_discovery(identity),
            Ok(IdentityPlan::Register(endpoint)) => {
                let id = self.alloc_id();
                let scope = self.selected_scope();
                let req =
                    registration_request(id, &endpoint, &self.config.client, scope.as_deref());
                self.send(FlowInput::Register, req, |request| Phase::Register {
                    request,
                });
            }
            Err(e) => self.fail(e),
        }
    }

    fn on_register(&mut self, resp: HttpResponse) {
        let app_type = self.config.client.effective_application_type();
        match parse_registration_response_for(&resp, Some(app_type)) {
            Ok(identity) => self.finish_discovery(identity),
            Err(e) => self.fail(e),
        }
    }

    /// Scope choice: the challenge's `scope`, else the resource metadata's
    /// `scopes_supported` joined by spaces, else none; plus `offline_access` when the
    /// authorization server lists it (and some scope was chosen).
    fn selected_scope(&self) -> Option<String> {
        let as_scopes = self
            .server
            .as_ref()
            .and_then(|s| s.metadata.scopes_supported.as_deref());
        add_offline_access(self.challenged_scope(), as_scopes)
    }

    /// The challenge's `scope`, else the resource metadata's `scopes_supported`.
    fn challenged_scope(&self) -> Option<String> {
        let from_challenge = self
            .challenge
            .as_ref()
            .and_then(|c| c.scope.clone())
            .filter(|s| !s.trim().is_empty());
        let from_prm = || {
            self.prm
                .as_ref()
                .and_then(|p| p.scopes_supported.as_ref())
                .filter(|s| !s.is_empty())
                .map(|s| s.join(" "))
        };
        from_challenge.or_else(from_prm)
    }

    /// The client credentials token request (discovery done).
    fn send_grant(&mut self, grant: &Grant) {
        let Some(ctx) = self.context.clone() else {
            return;
        };
        let id = self.alloc_id();
        match ctx.client_credentials_request(id, self.last_now, &grant.jti) {
            Ok(req) => {
                let mut secrets = crate::untrusted::request_secrets(&req);
                secrets.extend(form_value(&req, "client_assertion").map(SecretString::new));
                let scope = ctx.scopes.clone();
                self.send(FlowInput::Grant, req, |request| Phase::Exchange {
                    request,
                    secrets,
                    scope,
                });
            }
            Err(e) => self.fail(e),
        }
    }

    fn finish_discovery(&mut self, identity: ClientIdentity) {
        match self.build_context(identity) {
            Ok(ctx) => {
                let scope = ctx.scopes.clone();
                self.context = Some(ctx.clone());
                self.events.push_back(McpAuthEvent::ContextChanged(ctx));
                if let Some(grant) = self.grant.clone() {
                    self.send_grant(&grant);
                    return;
                }
                let Some(secrets) = self.first_secrets.take() else {
                    self.fail(Error::WrongState {
                        action: "authorize".into(),
                        state: "secrets already used".into(),
                    });
                    return;
                };
                // `now` for the pending authorization is the time of the last response.
                let now = self.last_now;
                if let Err(e) = self.authorize(FlowInput::Authorize, scope, secrets, now) {
                    self.fail(e);
                }
            }
            Err(e) => self.fail(e),
        }
    }

    fn build_context(&self, identity: ClientIdentity) -> Result<AuthContext, Error> {
        let resource = match &self.prm {
            Some(prm) => canonical_resource(&parse_url(&prm.resource, "resource")?),
            None => canonical_resource(&self.server_url),
        };
        let has_secret = identity.client_secret.is_some();
        let (
            issuer,
            authz,
            token,
            revocation,
            registration,
            auth,
            as_scopes,
            iss,
            allowance,
            legacy,
        ) = match &self.server {
            Some(v) => {
                let m = &v.metadata;
                let auth = match identity.registered_auth_method {
                    Some(a) if has_secret || a == TokenEndpointAuth::None => a,
                    _ => choose_auth_method(
                        m.token_endpoint_auth_methods_supported.as_deref(),
                        has_secret,
                    )?,
                };
                (
                    Some(m.issuer.clone()),
                    m.authorization_endpoint.clone().unwrap_or_default(),
                    m.token_endpoint.clone().unwrap_or_default(),
                    m.revocation_endpoint.clone(),
                    m.registration_endpoint.clone(),
                    auth,
                    m.scopes_supported.clone(),
                    m.authorization_response_iss_parameter_supported == Some(true),
                    v.allowance,
                    false,
                )
            }
            None => {
                let e = legacy_endpoints(&self.server_url);
                let auth = match identity.registered_auth_method {
                    Some(a) if has_secret || a == TokenEndpointAuth::None => a,
                    _ => choose_auth_method(None, has_secret)?,
                };
                (
                    None,
                    e.authorization_endpoint.to_string(),
                    e.token_endpoint.to_string(),
                    None,
                    Some(e.registration_endpoint.to_string()),
                    auth,
                    None,
                    false,
                    None,
                    true,
                )
            }
        };
        if identity.source == IdentitySource::PreRegistered && identity.client_secret.is_some() {
            self.check_secret_endpoint(&token, self.config.client.client_secret_for_server_host)?;
        }
        if identity.source == IdentitySource::ClientCredentials
            && auth != TokenEndpointAuth::PrivateKeyJwt
        {
            // A client secret for the grant may also go to the MCP server's own host.
            self.check_secret_endpoint(&token, true)?;
        }
        let mut ctx = AuthContext {
            server_url: self.server_url.to_string(),
            resource,
            issuer,
            authorization_endpoint: authz,
            token_endpoint: token,
            revocation_endpoint: revocation,
            registration_endpoint: registration,
            token_endpoint_auth: auth,
            client_id: identity.client_id,
            client_secret: identity.client_secret,
            identity_source: identity.source,
            redirect_uri: self.config.client.redirect_uri.clone(),
            scopes: None,
            as_scopes_supported: as_scopes,
            iss_parameter_supported: iss,
            allowance,
            legacy_defaults: legacy,
        };
        ctx.scopes = match &self.grant {
            // No refresh token in this grant: no `offline_access`.
            Some(g) => g.scope.clone().or_else(|| self.challenged_scope()),
            None => self.selected_scope(),
        };
        Ok(ctx)
    }

    /// The application's client secret (WorkBoard's Client Hash) goes only to a token
    /// endpoint on a WorkBoard host of the issuer policy, or to the one named for it
    /// ([`ClientConfig::client_secret_for`]): any other fails the flow before a request
    /// carries it (no authorization is started, so no code exchange ever sends it).
    fn check_secret_endpoint(&self, token_endpoint: &str, same_host: bool) -> Result<(), Error> {
        let url = parse_url(token_endpoint, "token_endpoint")?;
        if self.config.issuer_policy.is_workboard_host(&url) {
            return Ok(());
        }
        if same_host && url.host_str() == self.server_url.host_str() {
            return Ok(());
        }
        let named = self.config.client.client_secret_for.as_deref();
        if let Some(n) = named.and_then(|n| Url::parse(n.trim()).ok()) {
            if n.origin() == url.origin()
                && n.path().trim_end_matches('/') == url.path().trim_end_matches('/')
            {
                return Ok(());
            }
        }
        let belongs = match named {
            Some(n) => n.to_string(),
            None if same_host => format!(
                "the MCP server's host ({}) or WorkBoard's token endpoints",
                self.server_url.host_str().unwrap_or_default()
            ),
            None => format!(
                "WorkBoard's token endpoints ({})",
                self.config.issuer_policy.workboard_origins().join(", ")
            ),
        };
        Err(Error::client_secret_not_for_server(
            token_endpoint,
            &belongs,
        ))
    }

    fn authorize(
        &mut self,
        input: FlowInput,
        scope: Option<String>,
        secrets: Secrets,
        now_ms: u64,
    ) -> Result<(), Error> {
        let Some(ctx) = &self.context else {
            return Err(Error::WrongState {
                action: "authorize".into(),
                state: "discovery has not finished".into(),
            });
        };
        if self.attempts >= MAX_AUTHORIZATION_ATTEMPTS {
            return Err(Error::InsufficientScope { scope });
        }
        let (state_bytes, pkce) = secrets;
        let mut params = PendingParams::new(
            Dialect::OAuth2,
            ctx.client_id.clone(),
            ctx.redirect_uri.clone(),
            ctx.token_endpoint.clone(),
            scope
                .as_deref()
                .unwrap_or("")
                .split_whitespace()
                .map(str::to_string)
                .collect(),
        );
        params.pkce_verifier = Some(pkce.verifier().clone());
        params.resource = Some(ctx.resource.clone());
        // RFC 9207 (MCP 2026-07-28, authorization response validation): the issuer of the
        // validated metadata is recorded with the PKCE verifier; a present `iss` is compared
        // whatever the metadata says, an absent one refused only where it was advertised.
        params.expected_issuer = ctx.issuer.clone();
        params.iss_optional = !ctx.iss_parameter_supported;
        params.lifetime_ms = Some(PENDING_LIFETIME_MS);
        let saved = SavedFlow {
            version: 1,
            context: ctx.clone(),
            attempts: self.attempts + 1,
        };
        params.extra =
            serde_json::json!({ EXTRA_KEY: serde_json::to_value(&saved).unwrap_or_default() });
        let pending = PendingAuthorization::new(params, &mut Predrawn(state_bytes), now_ms)?;
        let url = ctx.authorize_url(&pending.state, pkce.challenge(), scope.as_deref())?;
        self.attempts += 1;
        self.enter(
            input,
            Phase::AwaitingRedirect {
                pending: Box::new(pending),
            },
        );
        self.events
            .push_back(McpAuthEvent::AuthorizationUrl { url });
        Ok(())
    }

    fn on_exchange(
        &mut self,
        resp: HttpResponse,
        secrets: Vec<SecretString>,
        scope: Option<String>,
        now_ms: u64,
    ) {
        let Some(ctx) = &self.context else { return };
        match ctx.code_response(&resp, now_ms, &secrets) {
            Ok(mut set) => {
                if set.scope.is_none() {
                    set.scope = scope;
                }
                let redirect_used = self.grant.is_none();
                self.enter(FlowInput::Tokens, Phase::Done { redirect_used });
                self.events
                    .push_back(McpAuthEvent::CredentialsChanged(Credentials::OAuth(set)));
            }
            Err(e) => self.fail(e),
        }
    }
}

impl SansIo for McpAuthFlow {
    fn poll_request(&mut self) -> Option<HttpRequest> {
        self.queue.pop_front()
    }

    fn handle_response(
        &mut self,
        id: RequestId,
        response: Result<HttpResponse, TransportError>,
        now_ms: u64,
    ) {
        if self.phase.request() != Some(id) {
            return;
        }
        self.last_now = now_ms;
        let resp = match response {
            Ok(r) => r,
            Err(e) => {
                self.fail(Error::Transport(e));
                return;
            }
        };
        // The phase's data moves into its handler, which enters the next phase (a failure
        // enters `Failed` from this one: it stays until then).
        let phase = std::mem::replace(
            &mut self.phase,
            Phase::Done {
                redirect_used: false,
            },
        );
        match phase {
            Phase::Probe { request } => {
                self.phase = Phase::Probe { request };
                self.on_modern_probe(resp)
            }
            Phase::ProbeLegacy { request } => {
                self.phase = Phase::ProbeLegacy { request };
                self.on_probe(resp)
            }
            Phase::ProbeTools { request } => {
                self.phase = Phase::ProbeTools { request };
                self.on_tools_probe(resp)
            }
            Phase::Prm {
                request,
                candidates,
                index,
            } => {
                self.phase = Phase::Prm {
                    request,
                    candidates: Vec::new(),
                    index,
                };
                self.on_prm(resp, candidates, index)
            }
            Phase::AsMeta {
                request,
                as_url,
                candidates,
                index,
                legacy_origin,
            } => {
                self.phase = Phase::AsMeta {
                    request,
                    as_url: as_url.clone(),
                    candidates: Vec::new(),
                    index,
                    legacy_origin,
                };
                self.on_as(resp, as_url, candidates, index, legacy_origin)
            }
            Phase::Register { request } => {
                self.phase = Phase::Register { request };
                self.on_register(resp)
            }
            Phase::Exchange {
                request,
                secrets,
                scope,
            } => {
                self.phase = Phase::Exchange {
                    request,
                    secrets: Vec::new(),
                    scope: None,
                };
                self.on_exchange(resp, secrets, scope, now_ms)
            }
            waiting => self.phase = waiting, // no request of its own: not reached
        }
    }
}

fn fresh_secrets(entropy: &mut dyn Entropy) -> Secrets {
    let mut state = vec![0u8; STATE_BYTES];
    entropy.fill_bytes(&mut state);
    (state, Pkce::generate(entropy))
}

/// Entropy drawn earlier from the caller's source, handed to [`PendingAuthorization::new`]
/// when the authorization is created inside `handle_response` (which has no entropy
/// argument). Should more be asked than was drawn, the rest is derived from the drawn bytes.
struct Predrawn(Vec<u8>);

impl Entropy for Predrawn {
    fn fill_bytes(&mut self, buf: &mut [u8]) {
        let n = buf.len().min(self.0.len());
        buf[..n].copy_from_slice(&self.0[..n]);
        if n < buf.len() {
            crate::random::SeededEntropy::from_bytes(&self.0).fill_bytes(&mut buf[n..]);
        }
        self.0.drain(..n);
    }
}

fn is_not_found(status: u16) -> bool {
    status == 404 || status == 410
}

fn http_error(resp: &HttpResponse, url: &str) -> Error {
    if resp.status == 429 {
        return Error::RateLimited {
            retry_after_ms: None,
        };
    }
    Error::HttpStatus {
        status: resp.status,
        url: redact_url(url),
        detail: None,
    }
}

fn check_redirect_uri_shape(raw: &str) -> Result<(), Error> {
    let u = parse_url(raw, "redirect URI")?;
    if u.fragment().is_some() {
        return Err(Error::InvalidUrl {
            what: "redirect URI".into(),
            reason: "must not contain a fragment".into(),
        });
    }
    Ok(())
}

/// A form field of a request this flow built.
fn form_value(req: &HttpRequest, name: &str) -> Option<String> {
    url::form_urlencoded::parse(&req.body)
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

fn merge_scopes(previous: Option<&str>, extra: &str) -> Option<String> {
    let mut out: Vec<&str> = Vec::new();
    for s in previous
        .unwrap_or("")
        .split_whitespace()
        .chain(extra.split_whitespace())
    {
        if !out.contains(&s) {
            out.push(s);
        }
    }
    (!out.is_empty()).then(|| out.join(" "))
}

fn add_offline_access(scope: Option<String>, as_scopes: Option<&[String]>) -> Option<String> {
    let scope = scope?;
    let advertised = as_scopes.is_some_and(|s| s.iter().any(|x| x == "offline_access"));
    if advertised && !scope.split_whitespace().any(|s| s == "offline_access") {
        return Some(format!("{scope} offline_access"));
    }
    Some(scope)
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
            bound_to: None,
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
            (502, "bad gateway", "http_status"),
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
