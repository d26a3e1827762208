//! Interactive sign-in for native apps and tools: the client layer's
//! [`workboard_client::flows`] (the core's WorkBoard v1 and OAuth 2.1 for MCP machines), run
//! with the [`ReqwestTransport`], the system clock and OS entropy, with the user's approval
//! obtained through an [`Approver`].
//!
//! The redirect URI decides how the redirect comes back: a loopback URI
//! (`http://127.0.0.1:8765/callback`, RFC 8252) is served by a
//! [`LoopbackListener`](crate::loopback::LoopbackListener) bound
//! *before* the browser is opened; it hands each redirect to the flow's `handle_redirect` and
//! keeps waiting past forged ones (no or wrong `state`). [`Approver::Headless`] instead follows
//! the authorization URL itself and takes the redirect from the server's `Location` — only an
//! auto-approving server (a simulator, a CI fixture) does that; each hop is checked by the
//! core's [`RedirectFollower`](workboard_core::urlpolicy::RedirectFollower) before it is
//! requested.

use workboard_client::flows;
use workboard_core::oauth::client_credentials::ClientCredentialsConfig;
use workboard_core::oauth::flow::{AuthContext, McpAuthConfig};
use workboard_core::oauth::v1::{RevokeOutcome, V1Config};
use workboard_core::{Credentials, Environment, Error, RequestId, SecretString};

use crate::approve::Approval;
pub use crate::approve::{follow_to_redirect, Approver};
use crate::{OsEntropy, ReqwestTransport, SystemClock};

/// Signs in with WorkBoard OAuth v1 (authorize → consent → code → exchange with the Client
/// Hash): [`workboard_client::flows::sign_in_v1`] on reqwest, the system clock and OS
/// entropy. For tools and services only: the Client Hash never belongs in a browser or app.
pub async fn sign_in_v1(
    transport: &ReqwestTransport,
    config: V1Config,
    client_hash: SecretString,
    approver: Approver,
) -> Result<Credentials, Error> {
    let approval = Approval {
        approver,
        transport,
        redirect_uri: config.redirect_uri.clone(),
    };
    flows::sign_in_v1(
        transport,
        &SystemClock,
        &mut OsEntropy,
        config,
        client_hash,
        approval,
    )
    .await
}

/// Revokes WorkBoard v1 credentials at `/wb/oauth/revoke/` (the token authenticates the
/// call; no Client Hash is needed).
pub async fn revoke_v1(
    transport: &ReqwestTransport,
    environment: &Environment,
    credentials: &Credentials,
) -> Result<RevokeOutcome, Error> {
    flows::revoke_v1(transport, environment, credentials, RequestId(1)).await
}

/// What an OAuth 2.1 sign-in produced: the credentials and the context to refresh and
/// revoke them (persist both).
#[derive(Clone, Debug)]
pub struct McpSignIn {
    /// The tokens.
    pub credentials: Credentials,
    /// Endpoints and client identity found by discovery.
    pub context: AuthContext,
}

/// Signs in with OAuth 2.1 for MCP ([`workboard_client::flows::sign_in_mcp`]): discovery
/// from the server's 401, client identity, PKCE authorization, code exchange. Returns
/// `Ok(None)` when the server needs no authorization.
pub async fn sign_in_mcp(
    transport: &ReqwestTransport,
    config: McpAuthConfig,
    approver: Approver,
) -> Result<Option<McpSignIn>, Error> {
    let approval = Approval {
        approver,
        transport,
        redirect_uri: config.client.redirect_uri.clone(),
    };
    let signed_in =
        flows::sign_in_mcp(transport, &SystemClock, &mut OsEntropy, config, approval).await?;
    Ok(signed_in.map(|(credentials, context)| McpSignIn {
        credentials,
        context,
    }))
}

/// OAuth client credentials for a service ([`workboard_client::flows::sign_in_client_credentials`]):
/// discovery and the grant (client secret or `private_key_jwt`), no browser. Returns
/// `Ok(None)` when the server needs no authorization.
pub async fn sign_in_client_credentials(
    transport: &ReqwestTransport,
    config: ClientCredentialsConfig,
) -> Result<Option<McpSignIn>, Error> {
    let signed_in =
        flows::sign_in_client_credentials(transport, &SystemClock, &mut OsEntropy, config).await?;
    Ok(signed_in.map(|(credentials, context)| McpSignIn {
        credentials,
        context,
    }))
}

/// Revokes OAuth 2.1 credentials at the server's RFC 7009 endpoint (refresh token first,
/// then access token). Returns how many tokens were revoked: 0 when the server advertises no
/// revocation endpoint (forget the credentials locally; they expire on their own).
pub async fn revoke_mcp(
    transport: &ReqwestTransport,
    context: &AuthContext,
    credentials: &Credentials,
) -> Result<usize, Error> {
    let mut next = 0u64;
    let mut ids = || {
        next += 1;
        RequestId(next)
    };
    flows::revoke_mcp(transport, context, credentials, &mut ids).await
}

/// Step-up after a 403 `insufficient_scope` (the error's scope): authorizes again asking for
/// `scope` besides those granted (from this client's sign-in, or the stored OAuth context),
/// with the user's approval through `approver`, and stores the new credentials on `client`.
/// The layer's [`workboard_client::Client::step_up_mcp_sign_in`] and
/// [`workboard_client::Client::finish_mcp_sign_in`] with the native approval in between.
pub async fn step_up_mcp(
    client: &crate::Client,
    transport: &ReqwestTransport,
    scope: &str,
    approver: Approver,
) -> Result<Credentials, Error> {
    let redirect_uri = client
        .auth_context()
        .map(|c| c.redirect_uri)
        .ok_or(Error::NotSignedIn)?;
    let start = client.step_up_mcp_sign_in(scope)?;
    let approval = Approval {
        approver,
        transport,
        redirect_uri,
    };
    flows::Approve::approve(approval, &start.url, &mut |r| client.accept_mcp_redirect(r)).await?;
    client.finish_mcp_sign_in().await
}
