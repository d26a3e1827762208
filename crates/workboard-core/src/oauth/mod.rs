//! OAuth flows: WorkBoard's v1 dialect ([`v1`]) and OAuth 2.1 for MCP ([`flow`]), sharing
//! the pending-authorization state ([`pending`]). Discovery, metadata and token response
//! parsing, PKCE and `WWW-Authenticate` are internal to the flows.

pub mod client_credentials {
    //! OAuth client credentials for services (MCP extension
    //! `io.modelcontextprotocol/oauth-client-credentials`): no user, no browser. The service
    //! authenticates with a client secret (`client_secret_basic`, `client_secret_post`) or a
    //! JWT signed with its private key (`private_key_jwt`, RFC 7523: ES256 with a P-256 key,
    //! RS256 with an RSA key; needs the `private-key-jwt` feature).
    //!
    //! [`McpAuthFlow::client_credentials`](crate::oauth::flow::McpAuthFlow::client_credentials)
    //! discovers the token endpoint as the interactive flow does (the server's 401, protected
    //! resource metadata, authorization server metadata) and runs the grant
    //! (`grant_type=client_credentials`, `scope`, `resource`). Its
    //! [`AuthContext`](crate::oauth::flow::AuthContext) (identity source `client_credentials`)
    //! keeps the secret or the key's PEM, so the tokens — issued without a refresh token —
    //! are renewed by running the grant again
    //! ([`AuthContext::refresh_request_for`](crate::oauth::flow::AuthContext::refresh_request_for)).
    //!
    //! Decisions:
    //! - The assertion's `aud` is the authorization server's issuer identifier (RFC 7523bis;
    //!   the token endpoint only for a server without metadata), one string; `iss` = `sub` =
    //!   the client id; `exp` = `iat` + 300 s; `jti` from the host's entropy (a renewal inside
    //!   the connection derives it from the previous token and the time).
    //! - A client secret goes only to a token endpoint on the MCP server's host, a WorkBoard
    //!   host, or the one the app names (`token_endpoint_for`): a server's metadata cannot
    //!   send it elsewhere. An assertion is bound to its audience and may go anywhere the
    //!   metadata says.

    pub use super::client_credentials_impl::{
        AssertionAlgorithm, AssertionKey, ClientAuthentication, ASSERTION_LIFETIME_SECS,
        CLIENT_ASSERTION_TYPE, MAX_KEY_PEM_BYTES,
    };
    pub use super::flow::ClientCredentialsConfig;
}
#[path = "client_credentials.rs"]
pub(crate) mod client_credentials_impl;
pub(crate) mod discovery;
pub mod flow;
pub mod metadata {
    //! Protected resource metadata (RFC 9728) and authorization server metadata (RFC 8414 and
    //! OpenID Connect Discovery), with the validation OAuth for MCP needs.
    //!
    //! Parsing is lenient about unknown fields and strict about the types of known ones (a
    //! `scopes_supported` that is not an array of strings is an error, not "absent").
    //!
    //! Validation decisions:
    //! - **Resource** (RFC 9728 §3.3): the metadata's `resource` must identify the MCP server we
    //!   contacted. Compared after URL normalization (scheme/host case, default port, one trailing
    //!   `/`); a `resource` that is a same-origin parent of the server URL at a path-segment
    //!   boundary (`https://h/` for `https://h/mcp`) is also accepted, as the official MCP SDKs do.
    //!   Anything else is [`Error::ResourceMismatch`](crate::Error::ResourceMismatch).
    //! - **Issuer** (RFC 8414 §3.3): `issuer` must equal the authorization server URL the metadata
    //!   URL was derived from (compared up to one trailing `/`), else [`Error::IssuerMismatch`](crate::Error::IssuerMismatch) —
    //!   with one narrow, named exception, [`KnownIssuerQuirk::WorkboardWbIssuer`], allowed only for
    //!   WorkBoard hosts (see [`IssuerPolicy`]).
    //! - **Endpoints** must be `https` (or `http` on loopback), without userinfo or fragment, else
    //!   [`Error::InsecureUrl`](crate::Error::InsecureUrl) / [`Error::InvalidUrl`](crate::Error::InvalidUrl). Endpoints on another origin than the issuer
    //!   are accepted (real servers put the token endpoint on another host, e.g. Google); the issuer
    //!   check is what binds the document to the server, and every endpoint still needs TLS.
    //! - **Internal addresses**: an authorization server URL or endpoint on a loopback, private or
    //!   link-local address is [`Error::PrivateAddress`](crate::Error::PrivateAddress) unless the server it was found through is
    //!   on the same kind of address (see [`crate::urlpolicy`]; no DNS is resolved).

    pub(crate) use super::metadata_impl::*;
    pub use super::metadata_impl::{IssuerPolicy, KnownIssuerQuirk};
}
#[path = "metadata.rs"]
pub(crate) mod metadata_impl;
pub mod pending {
    //! The pending authorization shared by both OAuth dialects: what the app must remember while
    //! the user is at the authorization server, and the redirect check that turns the answer
    //! into an [`AuthorizationCode`].
    //!
    //! [`PendingAuthorization`] serializes ([`PendingAuthorization::to_json`]), so a browser
    //! redirect, a page reload or a killed mobile app can resume it. It is single use and expires
    //! (WorkBoard v1: 5 minutes, the code lifetime; OAuth 2: the caller's choice, 10 minutes by
    //! default).
    //!
    //! # What consumes a pending authorization
    //!
    //! [`PendingAuthorization::handle_redirect`] marks the authorization completed as soon as the
    //! response proves it belongs to it — that is, once its `state` matched — whatever the outcome
    //! after that (code, `error` redirect, RFC 9207 issuer mismatch, missing code). A second call
    //! then fails with [`Error::AuthorizationReused`](crate::Error::AuthorizationReused).
    //!
    //! Everything that happens *before* the state matched leaves it untouched: an oversized or
    //! malformed input, a redirect to another URI, a missing or wrong `state`. Anyone can make a
    //! browser open the app's redirect URI with made-up parameters; if such a forged redirect
    //! consumed the pending authorization, an attacker could burn every legitimate sign-in. The
    //! genuine redirect can still arrive and complete it. Expiry does not consume it either (an
    //! expired authorization is refused forever anyway).

    pub(crate) use super::pending_impl::*;
    pub use super::pending_impl::{
        AuthorizationCode, PendingAuthorization, PendingParams, DEFAULT_OAUTH2_LIFETIME_MS,
        MAX_REDIRECT_INPUT_BYTES, STATE_BYTES, V1_CODE_LIFETIME_MS,
    };
}
#[path = "pending.rs"]
pub(crate) mod pending_impl;
pub(crate) mod pkce;
pub mod registration {
    //! Client identity for OAuth for MCP: a pre-registered client, a client ID metadata document
    //! (CIMD, MCP 2025-11-25), or dynamic client registration (RFC 7591) — in that order — and the
    //! token endpoint client authentication method (RFC 6749 §2.3, RFC 8414).

    pub(crate) use super::registration_impl::*;
    pub use super::registration_impl::{
        ApplicationType, ClientConfig, IdentitySource, TokenEndpointAuth,
    };
}
#[path = "registration.rs"]
pub(crate) mod registration_impl;
pub(crate) mod token;
pub mod v1 {
    //! WorkBoard OAuth v1: the dialect of WorkBoard's own API documentation.
    //!
    //! 1. [`start_authorization`] builds `GET {base}/wb/oauth/authorize?client_id=..&redirect_uri=..&scope=a,b&state=..`
    //!    and a [`PendingAuthorization`](crate::oauth::pending::PendingAuthorization) (persist it with [`PendingAuthorization::to_json`](crate::oauth::pending::PendingAuthorization::to_json) while
    //!    the user is away; it expires after 5 minutes).
    //! 2. [`PendingAuthorization::handle_redirect`](crate::oauth::pending::PendingAuthorization::handle_redirect) checks what came back (redirect URL, query,
    //!    or the `json_code` JSON body) and yields an [`AuthorizationCode`](crate::oauth::pending::AuthorizationCode).
    //! 3. [`V1SignIn`] exchanges the code (its own, or one a browser forwarded to the server:
    //!    [`V1SignIn::exchange_code`]): `POST {base}/wb/oauth/token` with `client_id`,
    //!    `client_hash`, `code`, `redirect_uri`, sent only to the environment's token endpoint,
    //!    and turns the answer into [`Credentials`](crate::Credentials) (one-year bearer token, no
    //!    refresh token).
    //! 4. [`checked_revoke_request`] / [`handle_revoke_response`] (or [`V1SignIn::revoke`])
    //!    revoke the token at `{base}/wb/oauth/revoke/`.
    //!
    //! The exchange has one public route, [`V1SignIn`], so its checks (code age, where the
    //! Client Hash may go) cannot be skipped.
    //!
    //! Decisions:
    //! - The exchange does not send the optional `state` field: the state was already checked
    //!   locally (constant time) and WorkBoard documents no server-side check of it, so sending
    //!   it would only put one more secret on the wire.
    //! - Codes are valid 5 minutes from the redirect: [`V1SignIn`] refuses an older code with [`Error::AuthorizationExpired`](crate::Error::AuthorizationExpired) without sending
    //!   anything.
    //! - The Client Hash is a confidential secret: in browser and mobile apps, forward the code to
    //!   your server and exchange it there with [`V1SignIn::exchange_code`].
    //!
    //! # Example: sign in with the run loop
    //!
    //! ```
    //! use workboard_core::oauth::v1::{V1Config, V1Outcome, V1SignIn};
    //! use workboard_core::{
    //!     drive, Clock, Environment, HttpRequest, HttpResponse, SecretString, SeededEntropy,
    //!     Transport, TransportError,
    //! };
    //!
    //! /// A stand-in for WorkBoard: answers the token request.
    //! struct FakeWorkBoard;
    //! impl Transport for FakeWorkBoard {
    //!     async fn send(&self, req: HttpRequest) -> Result<HttpResponse, TransportError> {
    //!         assert_eq!(req.url, "https://www.myworkboard.com/wb/oauth/token");
    //!         let body = String::from_utf8_lossy(&req.body).into_owned();
    //!         assert!(body.contains("client_hash=the-hash") && body.contains("code=the-code"));
    //!         Ok(HttpResponse::json(200, &serde_json::json!({
    //!             "success": true, "access_token": "the-token", "scope": "all", "token_type": "bearer"
    //!         })))
    //!     }
    //! }
    //! struct FixedClock(u64);
    //! impl Clock for FixedClock {
    //!     fn now_ms(&self) -> u64 { self.0 }
    //!     async fn sleep_ms(&self, _ms: u64) {}
    //! }
    //!
    //! let now = 1_764_000_000_000;
    //! let config = V1Config::new(Environment::Us, "my-client-id", "https://app.example/callback");
    //! let mut sign_in = V1SignIn::new(config, SecretString::new("the-hash"))?;
    //! let mut entropy = SeededEntropy::new([7; 32]); // hosts pass OS randomness
    //! let url = sign_in.start(&mut entropy, now)?;
    //! assert!(url.starts_with("https://www.myworkboard.com/wb/oauth/authorize?client_id=my-client-id&"));
    //!
    //! // ... the user signs in; the browser lands on the redirect URI:
    //! let state = sign_in.pending().map(|p| p.state.expose().to_string()).unwrap_or_default();
    //! sign_in.handle_redirect(&format!("https://app.example/callback?code=the-code&state={state}"), now + 30_000)?;
    //!
    //! futures_executor::block_on(drive(&mut sign_in, &FakeWorkBoard, &FixedClock(now + 31_000)));
    //! match sign_in.poll_result() {
    //!     Some(Ok(V1Outcome::SignedIn(credentials))) => {
    //!         assert_eq!(credentials.access_token().expose(), "the-token");
    //!         assert_eq!(credentials.scope(), Some("all"));
    //!     }
    //!     other => panic!("unexpected {other:?}"),
    //! }
    //! # Ok::<(), workboard_core::Error>(())
    //! ```

    pub use super::v1_impl::{
        checked_revoke_request, handle_revoke_response, start_authorization, RevokeOutcome,
        V1Config, V1Outcome, V1SignIn,
    };
}
#[path = "v1.rs"]
pub(crate) mod v1_impl;
pub(crate) mod www_authenticate;
