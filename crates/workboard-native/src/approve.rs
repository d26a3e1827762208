//! Host capability: how the user approves an authorization URL natively — a loopback
//! listener (RFC 8252) bound before the URL is shown, or the headless redirect follower
//! whose every hop the core's [`RedirectFollower`] checks.

use std::time::Duration;

use workboard_client::flows::Approve;
use workboard_client::RedirectVerdict;
use workboard_core::urlpolicy::{Hop, RedirectFollower};
use workboard_core::{Error, HttpRequest, Method, RequestId, Transport, TransportError};

use crate::loopback::{LoopbackError, LoopbackListener, Verdict};
use crate::ReqwestTransport;

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

/// The native way of obtaining the user's approval (host capability): a loopback listener
/// bound before the URL is shown, or the headless redirect follower.
pub(crate) struct Approval<'a> {
    pub(crate) approver: Approver,
    pub(crate) transport: &'a ReqwestTransport,
    pub(crate) redirect_uri: String,
}

impl Approve for Approval<'_> {
    async fn approve(
        self,
        url: &str,
        check: &mut dyn FnMut(&str) -> RedirectVerdict,
    ) -> Result<(), Error> {
        let mut verdict = |redirect: &str| match check(redirect) {
            RedirectVerdict::Accepted => Verdict::Accepted,
            RedirectVerdict::Forged(e) => Verdict::Forged(e),
            RedirectVerdict::Rejected(e) => Verdict::Rejected(e),
        };
        match self.approver {
            Approver::Loopback { open, timeout } => {
                let listener = LoopbackListener::bind(&self.redirect_uri)
                    .await
                    .map_err(loopback_error)?;
                open(url);
                listener
                    .wait_for_redirect(timeout, &mut verdict)
                    .await
                    .map_err(loopback_error)?
            }
            Approver::Headless => {
                let redirect = follow_to_redirect(self.transport, url, &self.redirect_uri).await?;
                match verdict(&redirect) {
                    Verdict::Accepted => Ok(()),
                    Verdict::Rejected(e) | Verdict::Forged(e) => Err(e),
                }
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
