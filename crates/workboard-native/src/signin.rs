//! Interactive sign-in for native apps and tools: the core's WorkBoard v1 and OAuth 2.1 for
//! MCP machines, run with the [`ReqwestTransport`], the system clock and OS entropy, with the
//! user's approval obtained through an [`Approver`].
//!
//! The redirect URI decides how the redirect comes back: a loopback URI
//! (`http://127.0.0.1:8765/callback`, RFC 8252) is served by a [`LoopbackListener`] bound
//! *before* the browser is opened; it hands each redirect to the flow's `handle_redirect` and
//! keeps waiting past forged ones (no or wrong `state`). [`Approver::Headless`] instead follows
//! the authorization URL itself and takes the redirect from the server's `Location` — only an
//! auto-approving server (a simulator, a CI fixture) does that; each hop is checked by the
//! core's [`RedirectFollower`] before it is requested.

use std::time::Duration;

use workboard_core::oauth::flow::{AuthContext, McpAuthConfig, McpAuthEvent, McpAuthFlow};
use workboard_core::oauth::v1::{self, RevokeOutcome, V1Config, V1Outcome, V1SignIn};
use workboard_core::urlpolicy::{Hop, RedirectFollower};
use workboard_core::{
    drive, Clock, Credentials, Dialect, Environment, Error, HttpRequest, Method, RequestId,
    SecretString, Transport, TransportError,
};

use crate::loopback::{LoopbackError, LoopbackListener, Verdict};
use crate::{OsEntropy, ReqwestTransport, SystemClock};

/// How the user approves the authorization URL.
pub enum Approver {
    /// Show the URL (open a browser, print it...) with this function, then wait for the
    /// browser's redirect on the loopback redirect URI for at most `timeout`.
    Loopback {
        /// Called once with the authorization URL (it carries `state`, never a secret).
        open: Box<dyn FnOnce(&str) + Send>,
        /// How long to wait for the redirect.
        timeout: Duration,
    },
    /// Follow the URL without a browser and take the redirect the server answers with (an
    /// auto-approving server only; a consent page fails with a hint).
    Headless,
}

impl std::fmt::Debug for Approver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Approver::Loopback { timeout, .. } => f
                .debug_struct("Loopback")
                .field("timeout", timeout)
                .finish_non_exhaustive(),
            Approver::Headless => f.write_str("Headless"),
        }
    }
}

/// Signs in with WorkBoard OAuth v1 (authorize → consent → code → exchange with the Client
/// Hash). For tools and services only: the Client Hash never belongs in a browser or app.
pub async fn sign_in_v1(
    transport: &ReqwestTransport,
    config: V1Config,
    client_hash: SecretString,
    approver: Approver,
) -> Result<Credentials, Error> {
    let clock = SystemClock;
    let redirect_uri = config.redirect_uri.clone();
    let mut machine = V1SignIn::new(config, client_hash)?;
    let url = machine.start(&mut OsEntropy, clock.now_ms())?;
    let mut check = |redirect: &str| {
        let now = clock.now_ms();
        match machine.handle_redirect(redirect, now) {
            Ok(()) => Verdict::Accepted,
            // The pending authorization decides: still waiting means the input was not its
            // answer (forged, stale), so the genuine redirect can still come.
            Err(e)
                if machine
                    .pending()
                    .is_some_and(|p| p.is_awaiting_redirect(now)) =>
            {
                Verdict::Forged(e)
            }
            Err(e) => Verdict::Rejected(e),
        }
    };
    approve(transport, &url, &redirect_uri, approver, &mut check).await?;
    drive(&mut machine, transport, &clock).await;
    match machine.poll_result() {
        Some(Ok(V1Outcome::SignedIn(creds))) => Ok(creds),
        Some(Err(e)) => Err(e),
        _ => Err(Error::Protocol {
            reason: "the v1 code exchange did not complete".into(),
        }),
    }
}

/// Revokes WorkBoard v1 credentials at `/wb/oauth/revoke/` (the token authenticates the
/// call; no Client Hash is needed).
pub async fn revoke_v1(
    transport: &ReqwestTransport,
    environment: &Environment,
    credentials: &Credentials,
) -> Result<RevokeOutcome, Error> {
    if !matches!(credentials, Credentials::OAuth(t) if t.dialect == Dialect::WorkboardV1) {
        return Err(Error::InvalidInput {
            what: "credentials to revoke".into(),
            reason: "only WorkBoard v1 OAuth tokens are revoked at /wb/oauth/revoke/".into(),
        });
    }
    let request = v1::checked_revoke_request(environment, credentials, RequestId(1))?;
    let response = transport.send(request.clone()).await?;
    v1::handle_revoke_response(&request, &response)
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

/// Signs in with OAuth 2.1 for MCP: discovery from the server's 401, client identity,
/// PKCE authorization, code exchange. Returns `Ok(None)` when the server needs no
/// authorization.
pub async fn sign_in_mcp(
    transport: &ReqwestTransport,
    config: McpAuthConfig,
    approver: Approver,
) -> Result<Option<McpSignIn>, Error> {
    let clock = SystemClock;
    let redirect_uri = config.client.redirect_uri.clone();
    let mut flow = McpAuthFlow::new(config, &mut OsEntropy, clock.now_ms())?;
    drive(&mut flow, transport, &clock).await;
    let mut context = None;
    let mut url = None;
    while let Some(event) = flow.poll_event() {
        match event {
            McpAuthEvent::NotRequired => return Ok(None),
            McpAuthEvent::ContextChanged(c) => context = Some(c),
            McpAuthEvent::AuthorizationUrl { url: u } => url = Some(u),
            McpAuthEvent::Failed(e) => return Err(e),
            McpAuthEvent::CredentialsChanged(_) => {}
        }
    }
    let url = url.ok_or_else(|| Error::Protocol {
        reason: "discovery ended without an authorization URL".into(),
    })?;
    let mut check = |redirect: &str| match flow.handle_redirect(redirect, clock.now_ms()) {
        Ok(()) => Verdict::Accepted,
        // Forged or malformed redirects leave the flow awaiting the genuine one.
        Err(e) if flow.is_awaiting_redirect() => Verdict::Forged(e),
        Err(e) => Verdict::Rejected(e),
    };
    approve(transport, &url, &redirect_uri, approver, &mut check).await?;
    drive(&mut flow, transport, &clock).await;
    let mut credentials = None;
    while let Some(event) = flow.poll_event() {
        match event {
            McpAuthEvent::ContextChanged(c) => context = Some(c),
            McpAuthEvent::CredentialsChanged(c) => credentials = Some(c),
            McpAuthEvent::Failed(e) => return Err(e),
            _ => {}
        }
    }
    let context = context.or_else(|| flow.context().cloned());
    match (credentials, context) {
        (Some(credentials), Some(context)) => Ok(Some(McpSignIn {
            credentials,
            context,
        })),
        _ => Err(Error::Protocol {
            reason: "the authorization did not produce credentials".into(),
        }),
    }
}

/// Obtains the user's approval of the authorization URL and hands the redirect it leads to
/// to `check` (the flow's `handle_redirect`). With a loopback listener, redirects `check`
/// calls forged are answered with an error page and the listener keeps waiting.
async fn approve(
    transport: &ReqwestTransport,
    url: &str,
    redirect_uri: &str,
    approver: Approver,
    check: &mut dyn FnMut(&str) -> Verdict<Error>,
) -> Result<(), Error> {
    match approver {
        Approver::Loopback { open, timeout } => {
            let listener = LoopbackListener::bind(redirect_uri)
                .await
                .map_err(loopback_error)?;
            open(url);
            listener
                .wait_for_redirect(timeout, check)
                .await
                .map_err(loopback_error)?
        }
        Approver::Headless => {
            let redirect = follow_to_redirect(transport, url, redirect_uri).await?;
            match check(&redirect) {
                Verdict::Accepted => Ok(()),
                Verdict::Rejected(e) | Verdict::Forged(e) => Err(e),
            }
        }
    }
}

/// Follows `url` until the server redirects to `redirect_uri`; returns that redirect.
///
/// Every hop is decided by the core's [`RedirectFollower`] *before* it is requested: https
/// (or loopback http), no internal address unless `url` itself is on one of the same kind,
/// at most [`workboard_core::urlpolicy::MAX_REDIRECT_HOPS`] hops. The transport follows no
/// redirect itself, so nothing is sent anywhere the follower did not accept.
pub async fn follow_to_redirect(
    transport: &ReqwestTransport,
    url: &str,
    redirect_uri: &str,
) -> Result<String, Error> {
    let mut follower = RedirectFollower::new(url, redirect_uri)?;
    let mut current = follower.start().clone();
    // The follower bounds the hops; this bound only makes the loop visibly finite.
    for _ in 0..=workboard_core::urlpolicy::MAX_REDIRECT_HOPS {
        let request = HttpRequest {
            id: RequestId(1),
            method: Method::Get,
            url: current.to_string(),
            headers: vec![("Accept".into(), "text/html".into())],
            body: Vec::new(),
        };
        let response = transport.send(request).await?;
        match follower.handle_response(response.status, response.header("location"))? {
            Hop::Follow(next) => current = next,
            Hop::Arrived(redirect) => return Ok(redirect),
        }
    }
    Err(Error::TooManyRedirects {
        limit: workboard_core::urlpolicy::MAX_REDIRECT_HOPS,
    })
}

fn loopback_error(e: LoopbackError) -> Error {
    match e {
        LoopbackError::NotLoopback(uri) => Error::InvalidInput {
            what: "redirect URI".into(),
            reason: format!("`{uri}` is not an http loopback URL with a port, so this program cannot receive the redirect (use --headless with an auto-approving server, or register a loopback redirect URI)"),
        },
        LoopbackError::Timeout(secs) => Error::RedirectTimeout { secs },
        other => Error::Transport(TransportError::Other(other.to_string())),
    }
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
    let requests = context.revoke_requests(&mut ids, credentials);
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
