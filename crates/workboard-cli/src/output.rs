//! Terminal output: progress lines on stderr, results on stdout, errors with hints.

use std::time::Instant;
use workboard_core::ErrorKind;

use workboard_core::ErrorInfo;

/// A CLI failure: a stable code, a message, a hint, and the process exit code.
#[derive(Debug)]
pub struct CliError {
    pub info: ErrorInfo,
    pub exit: u8,
    /// The command's result, printed beside the error in `--json` (findings, a tool error).
    pub result: Option<serde_json::Value>,
}

/// Exit codes (documented in the README).
pub mod exit {
    /// Bad usage or input (also clap's own 2).
    pub const USAGE: u8 = 2;
    /// Authentication or authorization failure (401, not signed in, denied, state mismatch).
    pub const AUTH: u8 = 3;
    /// Network or transport failure.
    pub const NETWORK: u8 = 4;
    /// The server misbehaved or refused (protocol error, 5xx, rate limit).
    pub const SERVER: u8 = 5;
    /// Doctor found problems / lint found errors.
    pub const FINDINGS: u8 = 6;
    /// Anything else.
    pub const OTHER: u8 = 1;
}

impl CliError {
    pub fn exit_code(&self) -> u8 {
        self.exit
    }

    /// Messages may hold arguments and file paths: bounded like the core's
    /// (`workboard_core::untrusted`).
    pub fn new(code: &str, message: impl Into<String>, hint: Option<String>, exit: u8) -> Self {
        use workboard_core::untrusted::{cut, MAX_HINT_BYTES, MAX_MESSAGE_BYTES};
        CliError {
            info: ErrorInfo {
                code: code.into(),
                message: cut(&message.into(), MAX_MESSAGE_BYTES),
                hint: hint.map(|h| cut(&h, MAX_HINT_BYTES)),
            },
            exit,
            result: None,
        }
    }

    /// Attaches the command's result (printed with the error in `--json`).
    pub fn with_result(mut self, result: serde_json::Value) -> Self {
        self.result = Some(result);
        self
    }

    pub fn usage(message: impl Into<String>, hint: Option<String>) -> Self {
        Self::new("usage", message, hint, exit::USAGE)
    }
}

/// The exit code of an error, from its kind (the core classifies every error once:
/// [`workboard_core::Error::kind`]; README: exit codes).
pub fn exit_for(kind: ErrorKind) -> u8 {
    match kind {
        ErrorKind::NeedsSignIn
        | ErrorKind::StepUpRequired
        | ErrorKind::Unauthorized
        | ErrorKind::SignInFailed => exit::AUTH,
        ErrorKind::Network | ErrorKind::Timeout => exit::NETWORK,
        ErrorKind::InvalidInput | ErrorKind::WrongState => exit::USAGE,
        ErrorKind::RateLimited | ErrorKind::Server | ErrorKind::Protocol => exit::SERVER,
        _ => exit::OTHER,
    }
}

impl From<workboard_core::Error> for CliError {
    fn from(e: workboard_core::Error) -> Self {
        CliError {
            exit: exit_for(e.kind()),
            info: e.info(),
            result: None,
        }
    }
}

impl From<workboard_native::StoreError> for CliError {
    fn from(e: workboard_native::StoreError) -> Self {
        CliError::new(
            "credential_store",
            e.to_string(),
            Some("Check the file's permissions, or pass --store PATH.".into()),
            exit::OTHER,
        )
    }
}

pub fn print_error(e: &CliError, json: bool) {
    if json {
        let v = match &e.result {
            Some(r) => serde_json::json!({ "ok": false, "error": e.info, "result": r }),
            None => serde_json::json!({ "ok": false, "error": e.info }),
        };
        crate::outln!("{v}");
        return;
    }
    eprintln!("error: {} [{}]", e.info.message, e.info.code);
    if let Some(h) = &e.info.hint {
        for (i, line) in h.lines().enumerate() {
            eprintln!("{}{line}", if i == 0 { "hint: " } else { "      " });
        }
    }
}

/// Writes a line to stdout. A closed stdout (`workboard tools | head -1`) ends the process
/// quietly instead of panicking.
#[macro_export]
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let mut out = std::io::stdout().lock();
        if writeln!(out, $($arg)*).and_then(|_| out.flush()).is_err() {
            std::process::exit(0);
        }
    }};
}

/// Prints a progress line to stderr (never to stdout, which carries results).
pub fn progress(quiet: bool, msg: &str) {
    if !quiet {
        eprintln!("… {msg}");
    }
}

/// Times a step.
pub struct Step {
    pub started: Instant,
}

impl Step {
    pub fn start() -> Self {
        Step {
            started: Instant::now(),
        }
    }
    pub fn ms(&self) -> f64 {
        self.started.elapsed().as_secs_f64() * 1000.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_follow_the_core_error_kind() {
        use workboard_core::Error;
        let cases = [
            (Error::PkceUnsupported { issuer: "i".into() }, exit::AUTH),
            (Error::UnsupportedTokenType("mac".into()), exit::SERVER),
            (
                Error::CredentialsNotForServer {
                    bound_to: "a".into(),
                    server: "b".into(),
                },
                exit::AUTH,
            ),
            (Error::NotSignedIn, exit::AUTH),
            (Error::InsufficientScope { scope: None }, exit::AUTH),
            (
                Error::TokenEndpointUnreachable {
                    attempts: 3,
                    reason: "r".into(),
                },
                exit::NETWORK,
            ),
            (
                Error::Timeout {
                    what: "tools/call".into(),
                    after_ms: 1,
                },
                exit::NETWORK,
            ),
            (
                Error::InvalidUrl {
                    what: "u".into(),
                    reason: "r".into(),
                },
                exit::USAGE,
            ),
            (
                Error::RateLimited {
                    retry_after_ms: None,
                },
                exit::SERVER,
            ),
            (
                Error::PrivateAddress {
                    what: "w".into(),
                    host: "h".into(),
                    class: "private".into(),
                },
                exit::SERVER,
            ),
            (Error::Cancelled, exit::OTHER),
        ];
        for (e, want) in cases {
            assert_eq!(CliError::from(e.clone()).exit_code(), want, "{}", e.code());
        }
        assert_eq!(exit_for(ErrorKind::Storage), exit::OTHER);
        assert_eq!(exit_for(ErrorKind::Internal), exit::OTHER);
    }
}
