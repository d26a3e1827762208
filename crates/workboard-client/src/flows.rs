//! Interactive sign-in and revocation as functions over the host's capabilities, for hosts
//! that sign in without a [`crate::Client`] (the CLI stores what they return itself). The
//! [`crate::Client`] methods use the same functions, so each rule is written once.

use workboard_core::oauth::client_credentials::ClientCredentialsConfig;
use workboard_core::oauth::flow::{AuthContext, McpAuthConfig, McpAuthEvent, McpAuthFlow};
use workboard_core::oauth::v1::{self, RevokeOutcome, V1Config, V1Outcome, V1SignIn};
use workboard_core::{
    drive, Clock, Credentials, Dialect, Entropy, Environment, Error, RequestId, SecretString,
    Transport,
};

use crate::signin::RedirectVerdict;

/// How the user approves an authorization URL: the host shows it (a browser and a loopback
/// listener, a printed URL, an auto-approving server followed headlessly) and hands every
/// redirect it receives to `check` until one is accepted or rejected.
#[allow(async_fn_in_trait)]
pub trait Approve {
    /// Gets the user's approval of `url`; `Ok(())` once `check` accepted a redirect.
    async fn approve(
        self,
        url: &str,
        check: &mut dyn FnMut(&str) -> RedirectVerdict,
    ) -> Result<(), Error>;
}

/// WorkBoard OAuth v1: authorize, the user's approval, the code exchange with the Client
/// Hash (which goes only to `config`'s environment's token endpoint). Server-side tools only.
pub async fn sign_in_v1<T: Transport, C: Clock>(
    transport: &T,
    clock: &C,
    entropy: &mut dyn Entropy,
    config: V1Config,
    client_hash: SecretString,
    approver: impl Approve,
) -> Result<Credentials, Error> {
    let mut machine = V1SignIn::new(config, client_hash)?;
    let url = machine.start(entropy, clock.now_ms())?;
    let mut check = |redirect: &str| {
        let now = clock.now_ms();
        match machine.handle_redirect(redirect, now) {
            Ok(()) => RedirectVerdict::Accepted,
            // Still waiting means the input was not its answer (forged, stale).
            Err(e)
                if machine
                    .pending()
                    .is_some_and(|p| p.is_awaiting_redirect(now)) =>
            {
                RedirectVerdict::Forged(e)
            }
            Err(e) => RedirectVerdict::Rejected(e),
        }
    };
    approver.approve(&url, &mut check).await?;
    drive(&mut machine, transport, clock).await;
    match machine.poll_result() {
        Some(Ok(V1Outcome::SignedIn(creds))) => Ok(creds),
        Some(Err(e)) => Err(e),
        _ => Err(Error::Protocol {
            reason: "the v1 code exchange did not complete".into(),
        }),
    }
}

/// OAuth 2.1 for MCP: discovery, client identity, PKCE authorization with the user's
/// approval, code exchange. `Ok(None)` when the server needs no authorization.
pub async fn sign_in_mcp<T: Transport, C: Clock>(
    transport: &T,
    clock: &C,
    entropy: &mut dyn Entropy,
    config: McpAuthConfig,
    approver: impl Approve,
) -> Result<Option<(Credentials, AuthContext)>, Error> {
    let mut flow = McpAuthFlow::new(config, entropy, clock.now_ms())?;
    drive(&mut flow, transport, clock).await;
    let mut url = None;
    while let Some(event) = flow.poll_event() {
        match event {
            McpAuthEvent::NotRequired => return Ok(None),
            McpAuthEvent::AuthorizationUrl { url: u } => url = Some(u),
            McpAuthEvent::Failed(e) => return Err(e),
            _ => {}
        }
    }
    let url = url.ok_or_else(|| Error::Protocol {
        reason: "discovery ended without an authorization URL".into(),
    })?;
    let mut check = |redirect: &str| match flow.handle_redirect(redirect, clock.now_ms()) {
        Ok(()) => RedirectVerdict::Accepted,
        Err(e) if flow.is_awaiting_redirect() => RedirectVerdict::Forged(e),
        Err(e) => RedirectVerdict::Rejected(e),
    };
    approver.approve(&url, &mut check).await?;
    drive(&mut flow, transport, clock).await;
    signed_in(&mut flow, "the authorization did not produce credentials")
}

/// The credentials and context a finished flow produced (`Ok(None)`: the server asked for
/// no authorization), or its failure.
fn signed_in(
    flow: &mut McpAuthFlow,
    none: &str,
) -> Result<Option<(Credentials, AuthContext)>, Error> {
    let mut credentials = None;
    while let Some(event) = flow.poll_event() {
        match event {
            McpAuthEvent::NotRequired => return Ok(None),
            McpAuthEvent::CredentialsChanged(c) => credentials = Some(c),
            McpAuthEvent::Failed(e) => return Err(e),
            _ => {}
        }
    }
    match (credentials, flow.context().cloned()) {
        (Some(c), Some(ctx)) => Ok(Some((c, ctx))),
        _ => Err(Error::Protocol {
            reason: none.into(),
        }),
    }
}

/// OAuth client credentials for a service (MCP extension
/// `io.modelcontextprotocol/oauth-client-credentials`): discovery, then the grant with a
/// client secret or a signed assertion — no user, no browser. Returns the credentials and
/// the context that renews them (persist both; the context holds the secret or key).
/// `Ok(None)` when the server needs no authorization.
pub async fn sign_in_client_credentials<T: Transport, C: Clock>(
    transport: &T,
    clock: &C,
    entropy: &mut dyn Entropy,
    config: ClientCredentialsConfig,
) -> Result<Option<(Credentials, AuthContext)>, Error> {
    let mut flow = McpAuthFlow::client_credentials(config, entropy, clock.now_ms())?;
    drive(&mut flow, transport, clock).await;
    signed_in(
        &mut flow,
        "the client credentials grant did not produce credentials",
    )
}

/// Revokes WorkBoard v1 credentials at `environment`'s `/wb/oauth/revoke/` (the token
/// authenticates the call; no Client Hash).
pub async fn revoke_v1<T: Transport>(
    transport: &T,
    environment: &Environment,
    credentials: &Credentials,
    id: RequestId,
) -> Result<RevokeOutcome, Error> {
    if !matches!(credentials, Credentials::OAuth(t) if t.dialect == Dialect::WorkboardV1) {
        return Err(Error::InvalidInput {
            what: "credentials to revoke".into(),
            reason: "only WorkBoard v1 OAuth tokens are revoked at /wb/oauth/revoke/".into(),
        });
    }
    let request = v1::checked_revoke_request(environment, credentials, id)?;
    let response = transport.send(request.clone()).await?;
    v1::handle_revoke_response(&request, &response)
}

/// Revokes OAuth 2.1 credentials at the context's RFC 7009 endpoint (refresh token first,
/// then access token). Returns the number of requests (0 without a revocation endpoint).
/// Credentials of another server than the context's are refused before anything is sent.
pub async fn revoke_mcp<T: Transport>(
    transport: &T,
    context: &AuthContext,
    credentials: &Credentials,
    ids: &mut dyn FnMut() -> RequestId,
) -> Result<usize, Error> {
    credentials.check_server(&context.server_url)?;
    let requests = context.revoke_requests(ids, credentials);
    let n = requests.len();
    for request in requests {
        let url = workboard_core::http::redact_url(&request.url);
        let response = transport.send(request).await?;
        if !response.is_success() {
            return Err(Error::HttpStatus {
                status: response.status,
                url,
                detail: None,
            });
        }
    }
    Ok(n)
}
