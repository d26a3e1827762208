//! OAuth flows: WorkBoard's v1 dialect ([`v1`]) and OAuth 2.1 for MCP ([`flow`]), sharing
//! the pending-authorization state ([`pending`]). Discovery, metadata and token response
//! parsing, PKCE and `WWW-Authenticate` are internal to the flows.

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
    pub use super::registration_impl::{ClientConfig, IdentitySource, TokenEndpointAuth};
}
#[path = "registration.rs"]
pub(crate) mod registration_impl;
pub(crate) mod token;
pub mod v1;
pub(crate) mod www_authenticate;
