//! Terminal output: progress lines on stderr, results on stdout, errors with hints.

use std::time::Instant;

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

/// The exit code of every core error code, in one table (README: exit codes). A test checks
/// that each code of [`workboard_core::error::ERROR_CODES`] is listed here.
pub const EXIT_BY_CODE: &[(&str, u8)] = &[
    // Authentication or authorization.
    ("unauthorized", exit::AUTH),
    ("not_signed_in", exit::AUTH),
    ("credentials_not_for_server", exit::AUTH),
    ("state_mismatch", exit::AUTH),
    ("state_missing", exit::AUTH),
    ("code_missing", exit::AUTH),
    ("authorization_denied", exit::AUTH),
    ("authorization_expired", exit::AUTH),
    ("redirect_timeout", exit::AUTH),
    ("authorization_reused", exit::AUTH),
    ("redirect_uri_mismatch", exit::AUTH),
    ("token_endpoint_error", exit::AUTH),
    ("insufficient_scope", exit::AUTH),
    ("forbidden", exit::AUTH),
    ("secret_in_browser", exit::AUTH),
    ("client_secret_not_for_server", exit::AUTH),
    ("no_client_identity", exit::AUTH),
    ("pkce_unsupported", exit::AUTH),
    // Network.
    ("transport", exit::NETWORK),
    ("retries_exhausted", exit::NETWORK),
    ("token_endpoint_unreachable", exit::NETWORK),
    ("timeout", exit::NETWORK),
    // Bad usage or input.
    ("invalid_input", exit::USAGE),
    ("invalid_url", exit::USAGE),
    ("insecure_url", exit::USAGE),
    ("invalid_config", exit::USAGE),
    ("invalid_config_json", exit::USAGE),
    ("wrong_state", exit::USAGE),
    // The server misbehaved or refused.
    ("http_status", exit::SERVER),
    ("rate_limited", exit::SERVER),
    ("protocol_error", exit::SERVER),
    ("invalid_response", exit::SERVER),
    ("jsonrpc_error", exit::SERVER),
    ("session_expired", exit::SERVER),
    ("discovery_failed", exit::SERVER),
    ("issuer_mismatch", exit::SERVER),
    ("resource_mismatch", exit::SERVER),
    ("unsupported_protocol_version", exit::SERVER),
    ("unsupported_token_type", exit::SERVER),
    ("response_too_large", exit::SERVER),
    ("sse_event_too_large", exit::SERVER),
    ("private_address", exit::SERVER),
    ("too_many_redirects", exit::SERVER),
    ("too_many_tools", exit::SERVER),
    // Anything else.
    ("cancelled", exit::OTHER),
];

/// The exit code for a core error code ([`EXIT_BY_CODE`]; [`exit::OTHER`] if unlisted).
pub fn exit_for(code: &str) -> u8 {
    EXIT_BY_CODE
        .iter()
        .find(|(c, _)| *c == code)
        .map_or(exit::OTHER, |(_, e)| *e)
}

impl From<workboard_core::Error> for CliError {
    fn from(e: workboard_core::Error) -> Self {
        CliError {
            exit: exit_for(e.code()),
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
    fn every_core_error_code_has_a_deliberate_exit_code() {
        for code in workboard_core::error::ERROR_CODES {
            assert!(
                EXIT_BY_CODE.iter().any(|(c, _)| c == code),
                "`{code}` has no exit code in EXIT_BY_CODE"
            );
        }
        for (code, _) in EXIT_BY_CODE {
            assert!(
                workboard_core::error::ERROR_CODES.contains(code),
                "`{code}` is not a core error code"
            );
            assert_eq!(EXIT_BY_CODE.iter().filter(|(c, _)| c == code).count(), 1);
        }
        assert_eq!(exit_for("pkce_unsupported"), exit::AUTH);
        assert_eq!(exit_for("unsupported_token_type"), exit::SERVER);
        assert_eq!(exit_for("credentials_not_for_server"), exit::AUTH);
    }
}
