//! Errors crossing the boundary.
//!
//! [`WorkboardError`] is the core's flat [`workboard_core::ErrorInfo`]: a stable `code`
//! (snake_case, the same codes as every other binding), a `message` safe to log and show,
//! and an optional `hint` saying what to do. [`HostError`] is what the app's own
//! implementations of [`crate::Transport`] / [`crate::CredentialStore`] /
//! [`crate::CredentialsListener`] throw back into Rust.

use workboard_core::{Error, ErrorInfo, TransportError};

/// Every failure of this library: a stable `code`, a `message` and a `hint`.
///
/// Kotlin: `WorkboardException.Failed` (the message field is named `detail` there, because
/// `Throwable.message` is taken). Swift: `WorkboardError.Failed(code:message:hint:)`.
/// Python: `WorkboardError.Failed` with `.code`, `.message`, `.hint`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
pub enum WorkboardError {
    /// The one variant: see the fields.
    #[error("{code}: {message}")]
    Failed {
        /// Stable snake_case code (`invalid_input`, `state_mismatch`, `unauthorized`, ...).
        code: String,
        /// What went wrong. Never contains a token, secret, code or `state`.
        message: String,
        /// What to do about it, when known.
        hint: Option<String>,
    },
}

impl From<ErrorInfo> for WorkboardError {
    fn from(i: ErrorInfo) -> Self {
        WorkboardError::Failed {
            code: i.code,
            message: i.message,
            hint: i.hint,
        }
    }
}

impl From<Error> for WorkboardError {
    fn from(e: Error) -> Self {
        e.info().into()
    }
}

impl WorkboardError {
    /// The stable code.
    pub fn code(&self) -> &str {
        match self {
            WorkboardError::Failed { code, .. } => code,
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
