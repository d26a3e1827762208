//! Errors crossing the boundary.
//!
//! [`WorkboardError`] is the core's flat [`workboard_core::ErrorInfo`] plus its
//! classification: a stable `code` (snake_case, the same codes as every other binding), an
//! [`ErrorKind`] to branch on, a `message` safe to log and show, and an optional `hint` saying
//! what to do. [`HostError`] is what the app's own implementations of [`crate::Transport`] /
//! [`crate::CredentialStore`] / [`crate::CredentialsListener`] throw back into Rust.

use workboard_core::{Error, ErrorInfo, TransportError};

/// What an app does about an error: a small, stable classification of every error (its
/// `code` stays the precise reason), the same on every platform. Kotlin `when`, Swift `switch`
/// or Python `match` on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum ErrorKind {
    /// No usable credentials: sign in (again) or set a personal token.
    NeedsSignIn,
    /// The token lacks a scope this call needs: sign in again granting it.
    StepUpRequired,
    /// Refused by policy: forbidden, or credentials/secrets that belong elsewhere.
    Unauthorized,
    /// An interactive sign-in failed (state, code, consent, token endpoint, client identity).
    SignInFailed,
    /// The network or a transport failed (retrying later may work).
    Network,
    /// A call passed its deadline.
    Timeout,
    /// The server asked to slow down.
    RateLimited,
    /// The server refused or failed (HTTP status, session, discovery, oversized answers).
    Server,
    /// The server broke the protocol or sent something this SDK must refuse.
    Protocol,
    /// The caller's input (argument, URL, JSON) is invalid.
    InvalidInput,
    /// The call does not fit the current state.
    WrongState,
    /// The call was cancelled.
    Cancelled,
    /// The client was closed (or its loop stopped): make a new one.
    Stopped,
    /// The app's credential store failed (`credential_store_failed`).
    Storage,
    /// A defect of this SDK or its host.
    Internal,
}

impl From<workboard_core::ErrorKind> for ErrorKind {
    fn from(k: workboard_core::ErrorKind) -> Self {
        use workboard_core::ErrorKind as K;
        match k {
            K::NeedsSignIn => ErrorKind::NeedsSignIn,
            K::StepUpRequired => ErrorKind::StepUpRequired,
            K::Unauthorized => ErrorKind::Unauthorized,
            K::SignInFailed => ErrorKind::SignInFailed,
            K::Network => ErrorKind::Network,
            K::Timeout => ErrorKind::Timeout,
            K::RateLimited => ErrorKind::RateLimited,
            K::Server => ErrorKind::Server,
            K::Protocol => ErrorKind::Protocol,
            K::InvalidInput => ErrorKind::InvalidInput,
            K::WrongState => ErrorKind::WrongState,
            K::Cancelled => ErrorKind::Cancelled,
            K::Stopped => ErrorKind::Stopped,
            K::Storage => ErrorKind::Storage,
            K::Internal => ErrorKind::Internal,
            // The core's enum is `#[non_exhaustive]`: a kind added there is `Internal` here
            // until it gets its variant (the test `every_core_error_kind_has_its_ffi_variant`
            // fails until then).
            _ => ErrorKind::Internal,
        }
    }
}

/// Every failure of this library: a stable `code`, its `kind`, a `message` and a `hint`.
///
/// Kotlin: `WorkboardException.Failed` with `code`, `kind`, `detail` (the message field is
/// named `detail` there, because `Throwable.message` is taken) and `hint`. Swift:
/// `WorkboardError.Failed(code:kind:message:hint:)`. Python: `WorkboardError.Failed` with
/// `.code`, `.kind`, `.message`, `.hint`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
pub enum WorkboardError {
    /// The one variant: see the fields.
    #[error("{code}: {message}")]
    Failed {
        /// Stable snake_case code (`invalid_input`, `state_mismatch`, `unauthorized`, ...).
        code: String,
        /// What kind of failure it is, i.e. what the app does about it (`unauthorized` and
        /// `not_signed_in` are both `NeedsSignIn`).
        kind: ErrorKind,
        /// What went wrong. Never contains a token, secret, code or `state`.
        message: String,
        /// What to do about it, when known.
        hint: Option<String>,
    },
}

/// The one conversion: every `WorkboardError` is made from a core [`Error`], so its `code`
/// and `kind` always agree.
impl From<Error> for WorkboardError {
    fn from(e: Error) -> Self {
        let kind = e.kind().into();
        let ErrorInfo {
            code,
            message,
            hint,
        } = e.info();
        WorkboardError::Failed {
            code,
            kind,
            message,
            hint,
        }
    }
}

impl WorkboardError {
    /// The stable code.
    pub fn code(&self) -> &str {
        match self {
            WorkboardError::Failed { code, .. } => code,
        }
    }

    /// The kind.
    pub fn kind(&self) -> ErrorKind {
        match self {
            WorkboardError::Failed { kind, .. } => *kind,
        }
    }
}

/// `invalid_input` for a malformed argument.
pub(crate) fn invalid(what: &str, reason: impl std::fmt::Display) -> WorkboardError {
    Error::InvalidInput {
        what: what.into(),
        reason: reason.to_string(),
    }
    .into()
}

/// `wrong_state` for a call that the client's state does not allow.
pub(crate) fn wrong_state(action: &str, state: &str) -> WorkboardError {
    Error::WrongState {
        action: action.into(),
        state: state.into(),
    }
    .into()
}

/// A failure reported by the app's own host implementation (transport, store, listener).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
pub enum HostError {
    /// Could not connect (refused, DNS, TLS).
    #[error("could not connect: {reason}")]
    Connect {
        /// Why.
        reason: String,
    },
    /// No response in time.
    #[error("timed out")]
    Timeout,
    /// The connection broke while reading the response.
    #[error("interrupted: {reason}")]
    Interrupted {
        /// Why.
        reason: String,
    },
    /// The request was cancelled.
    #[error("cancelled")]
    Cancelled,
    /// Anything else.
    #[error("{reason}")]
    Other {
        /// Why.
        reason: String,
    },
    /// The response body is larger than the transport accepts (it stopped reading at
    /// `limit` bytes). Throw this, not `Other`, when the app's HTTP client refuses a body
    /// for its size: the call then fails with `response_too_large` and is not sent again
    /// (the next answer would be as large), where `Other` would be replayed as a network
    /// failure.
    #[error("response body larger than {limit} bytes")]
    BodyTooLarge {
        /// The limit, in bytes.
        limit: u64,
    },
}

impl From<uniffi::UnexpectedUniFFICallbackError> for HostError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        HostError::Other {
            reason: format!("unexpected error in the app's callback: {}", e.reason),
        }
    }
}

impl From<HostError> for TransportError {
    fn from(e: HostError) -> Self {
        match e {
            HostError::Connect { reason } => TransportError::Connect(reason),
            HostError::Timeout => TransportError::Timeout,
            HostError::Interrupted { reason } => TransportError::Interrupted(reason),
            HostError::Cancelled => TransportError::Cancelled,
            HostError::Other { reason } => TransportError::Other(reason),
            HostError::BodyTooLarge { limit } => TransportError::BodyTooLarge { limit },
        }
    }
}
