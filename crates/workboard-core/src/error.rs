//! Errors: one rich enum for the core ([`Error`]), and its flat form for bindings
//! ([`ErrorInfo`]: a stable `code`, a message and a hint).
//!
//! No variant carries a token, secret, authorization code, PKCE verifier or `state` value:
//! messages are safe to log and to show.

use serde::{Deserialize, Serialize};

use crate::http::TransportError;
use crate::secret::SecretString;
use crate::untrusted::{excerpt, scrub, Clip, MAX_HINT_BYTES, MAX_MESSAGE_BYTES};

/// Everything that can go wrong in the core. Converted to [`ErrorInfo`] in one place.
#[derive(Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A URL could not be parsed.
    #[error("invalid {}: {}", Clip(what), Clip(reason))]
    InvalidUrl {
        /// Which URL.
        what: String,
        /// Parser message.
        reason: String,
    },
    /// A URL that would receive credentials is not https (and not loopback).
    #[error("refusing insecure {}: {}", Clip(what), Clip(reason))]
    InsecureUrl {
        /// Which URL.
        what: String,
        /// Why.
        reason: String,
    },
    /// Bad argument from the application.
    #[error("invalid {}: {}", Clip(what), Clip(reason))]
    InvalidInput {
        /// Which input.
        what: String,
        /// Why.
        reason: String,
    },
    /// An operation was called in a state that does not allow it.
    #[error("wrong state: cannot {} while {}", Clip(action), Clip(state))]
    WrongState {
        /// What was attempted.
        action: String,
        /// The current state.
        state: String,
    },

    // ---- interactive authorization ----
    /// The redirect carried no `state` although one was sent.
    #[error("the authorization response carries no state parameter")]
    StateMissing,
    /// The redirect's `state` does not match the pending authorization (possible CSRF).
    #[error("the authorization response's state does not match the pending authorization")]
    StateMismatch,
    /// The pending authorization was already completed (single use).
    #[error("this authorization was already completed; start a new one")]
    AuthorizationReused,
    /// The pending authorization (and its code) expired.
    #[error("the authorization expired after {age_secs} s (codes are valid for {limit_secs} s)")]
    AuthorizationExpired {
        /// Seconds since the authorization started.
        age_secs: u64,
        /// The lifetime that was exceeded.
        limit_secs: u64,
    },
    /// The redirect carried no code and no error.
    #[error("the authorization response carries neither a code nor an error")]
    CodeMissing,
    /// The authorization server refused (redirect with `error`).
    #[error("authorization refused: {}{}", Clip(error), description.as_deref().map(|d| format!(" ({})", Clip(d))).unwrap_or_default())]
    AuthorizationDenied {
        /// Error code (`access_denied`, `invalid_client_id`, `invalid_scope`, ...).
        error: String,
        /// `error_description` / `error_message`.
        description: Option<String>,
    },
    /// The redirect URI used does not equal the registered one.
    #[error("redirect URI mismatch: expected `{}`, got `{}` (first difference at character {differs_at})", Clip(expected), Clip(actual))]
    RedirectUriMismatch {
        /// The registered / configured redirect URI.
        expected: String,
        /// The URI actually used.
        actual: String,
        /// Index of the first differing character.
        differs_at: usize,
    },
    /// RFC 9207 `iss` or metadata issuer did not match.
    #[error(
        "issuer mismatch: expected `{}`, got `{}`",
        Clip(expected),
        Clip(actual)
    )]
    IssuerMismatch {
        /// Expected issuer.
        expected: String,
        /// Issuer received.
        actual: String,
    },
    /// RFC 9207: the authorization response's `iss` is not the issuer the authorization was
    /// sent to (or is missing although the server advertises it). The code was not redeemed.
    #[error("the authorization response {} (expected issuer `{}`); its code was not redeemed", actual.as_deref().map(|a| format!("names issuer `{}`", Clip(a))).unwrap_or_else(|| "carries no iss parameter although the authorization server advertises it".into()), Clip(expected))]
    IssParameterMismatch {
        /// The issuer recorded from the authorization server's metadata.
        expected: String,
        /// The `iss` received (`None`: absent).
        actual: Option<String>,
    },

    // ---- token endpoint and responses ----
    /// The token endpoint returned an OAuth error (or `success:false`).
    #[error("token endpoint error {}{}", Clip(error), description.as_deref().map(|d| format!(": {}", Clip(d))).unwrap_or_default())]
    TokenEndpoint {
        /// HTTP status.
        status: u16,
        /// OAuth error code (`invalid_grant`, ...).
        error: String,
        /// Human description from the server.
        description: Option<String>,
    },
    /// A response could not be understood (not JSON, truncated, HTML error page, missing field).
    #[error("invalid {}: {}", Clip(what), Clip(reason))]
    InvalidResponse {
        /// Which response.
        what: String,
        /// Why.
        reason: String,
    },
    /// A response body exceeded the SDK's limit.
    #[error("{} is larger than the limit of {limit} bytes", Clip(what))]
    ResponseTooLarge {
        /// Which response.
        what: String,
        /// The limit.
        limit: usize,
    },
    /// The token type is not bearer.
    #[error("unsupported token type `{}` (only bearer tokens are supported)", Clip(.0))]
    UnsupportedTokenType(String),

    // ---- HTTP outcomes ----
    /// 401 from the resource (after any refresh the policy allows).
    #[error("401 Unauthorized from {}", Clip(url))]
    Unauthorized {
        /// Redacted URL.
        url: String,
        /// `error` from `WWW-Authenticate`, if any.
        error: Option<String>,
        /// The environment in use, for the hint.
        environment: String,
    },
    /// 403 with `insufficient_scope` and the step-up limit reached, or step-up impossible.
    #[error("403 insufficient scope{}", scope.as_deref().map(|s| format!(" (needs `{}`)", Clip(s))).unwrap_or_default())]
    InsufficientScope {
        /// Scope the server asked for.
        scope: Option<String>,
    },
    /// 403 otherwise.
    #[error("403 Forbidden from {}", Clip(url))]
    Forbidden {
        /// Redacted URL.
        url: String,
    },
    /// 429 after the retry budget.
    #[error("rate limited by the server{}", retry_after_ms.map(|m| format!(" (retry after {} s)", m / 1000)).unwrap_or_default())]
    RateLimited {
        /// Server's Retry-After in ms.
        retry_after_ms: Option<u64>,
    },
    /// Any other unexpected HTTP status.
    #[error("unexpected HTTP {status} from {}{}", Clip(url), detail.as_deref().map(|d| format!(": {}", Clip(d))).unwrap_or_default())]
    HttpStatus {
        /// Status code.
        status: u16,
        /// Redacted URL.
        url: String,
        /// Short, secret-free detail from the body.
        detail: Option<String>,
    },
    /// The token endpoint could not be reached, or kept answering with a transient failure
    /// (HTTP 5xx, 429, 408), to refresh an expired or refused token, after the bounded attempts
    /// (with back-off) a call waits for. Not a verdict on the credentials.
    #[error(
        "could not refresh the access token: the token endpoint was unreachable or unavailable ({attempts} attempts): {}",
        Clip(reason)
    )]
    TokenEndpointUnreachable {
        /// Refresh attempts the call waited for.
        attempts: u32,
        /// The last failure: transport failure or HTTP status (bounded, no request or
        /// response content).
        reason: String,
    },
    /// A call did not complete within its whole-call deadline
    /// ([`crate::connection::ConnectionConfig::call_timeout_ms`] /
    /// [`crate::connection::ConnectionConfig::request_timeout_ms`]).
    #[error("{} did not complete within {} s", Clip(what), after_ms / 1000)]
    Timeout {
        /// Which call (`tools/call`, `tools/list`, ...).
        what: String,
        /// The deadline that passed, in ms after the call was made.
        after_ms: u64,
    },
    /// The host's transport failed.
    #[error("{}", Clip(.0))]
    Transport(TransportError),
    /// The retry budget is exhausted.
    #[error("gave up after {attempts} attempts: {}", Clip(last))]
    RetriesExhausted {
        /// Attempts made.
        attempts: u32,
        /// Last failure.
        last: String,
    },

    // ---- discovery (OAuth 2.1 for MCP) ----
    /// Metadata discovery failed.
    #[error("OAuth discovery failed: {}", Clip(reason))]
    Discovery {
        /// Why.
        reason: String,
    },
    /// The authorization server does not advertise PKCE `S256` (MCP clients must refuse).
    #[error("the authorization server `{}` does not advertise PKCE S256 in code_challenge_methods_supported", Clip(issuer))]
    PkceUnsupported {
        /// The server's issuer.
        issuer: String,
    },
    /// Protected resource metadata names another resource.
    #[error(
        "protected resource metadata is for `{}`, not `{}`",
        Clip(actual),
        Clip(expected)
    )]
    ResourceMismatch {
        /// Our server URL.
        expected: String,
        /// The `resource` in the metadata.
        actual: String,
    },
    /// No way to identify the client (no client id, no CIMD, no registration endpoint).
    #[error("no client identity: {}", Clip(reason))]
    NoClientIdentity {
        /// Why.
        reason: String,
    },
    /// A client secret (WorkBoard's Client Hash) would go to a token endpoint it does not
    /// belong to: nothing was sent.
    #[error(
        "refusing to send the client secret to {}: it belongs to {}",
        Clip(token_endpoint),
        Clip(belongs_to)
    )]
    ClientSecretNotForServer {
        /// The token endpoint it would have gone to (redacted).
        token_endpoint: String,
        /// Where it may go (WorkBoard's token endpoints, or the one named for it).
        belongs_to: String,
    },
    /// A client secret was given to a browser build without the explicit opt-in.
    #[error("a client secret must not be used in a browser")]
    SecretInBrowser,
    /// No credentials are available for a call that needs them.
    #[error("not signed in")]
    NotSignedIn,
    /// The credentials (or OAuth context) were issued or set for another server: they are
    /// never sent to this one (see [`crate::credentials::bind_for_server`]).
    #[error(
        "the credentials belong to {}, not to {}: refusing to send them there",
        Clip(bound_to),
        Clip(server)
    )]
    CredentialsNotForServer {
        /// The server they belong to (canonical resource URI, no secrets).
        bound_to: String,
        /// The server they were about to be sent to (redacted).
        server: String,
    },

    // ---- MCP ----
    /// A JSON-RPC error object from the server.
    #[error("JSON-RPC error {code}: {}", Clip(message))]
    JsonRpc {
        /// JSON-RPC error code.
        code: i64,
        /// Message from the server.
        message: String,
    },
    /// The server broke the MCP or JSON-RPC protocol.
    #[error("MCP protocol error: {}", Clip(reason))]
    Protocol {
        /// Why.
        reason: String,
    },
    /// No protocol version both sides support.
    #[error("the server speaks MCP protocol version(s) `{}`, none of which this connection can use", Clip(.0))]
    UnsupportedProtocolVersion(String),
    /// `tools/list` returned more tools, pages or bytes than the connection accepts
    /// ([`crate::connection::ConnectionConfig::max_tools`],
    /// [`crate::connection::ConnectionConfig::max_tool_list_bytes`]).
    #[error(
        "the server's tool list is larger than this client accepts: {}",
        Clip(reason)
    )]
    ToolListTooLarge {
        /// Which limit was exceeded.
        reason: String,
    },
    /// The MCP session expired and could not be re-established.
    #[error("the MCP session expired")]
    SessionExpired,
    /// A server-sent event exceeded the size limit.
    #[error("server-sent event larger than {limit} bytes")]
    SseEventTooLarge {
        /// The limit.
        limit: usize,
    },
    /// The call was cancelled.
    #[error("cancelled")]
    Cancelled,
    /// The app's credential store failed to load or save (the client layer's store policy:
    /// a failed save of refreshed credentials fails the call that caused it, the new
    /// credentials stay in memory).
    #[error("the credential store failed: {}", Clip(reason))]
    Storage {
        /// The store's own error text (bounded).
        reason: String,
    },
    /// The client was closed (or its loop stopped): it takes no more calls.
    #[error("the client is closed")]
    ClientStopped,
    /// A URL taken from server metadata or a redirect names an internal address (loopback,
    /// private or link-local) while the server the user named is not on such an address.
    #[error(
        "refusing {} on a {} address ({}): the server you named is not on such an address",
        Clip(what),
        Clip(class),
        Clip(host)
    )]
    PrivateAddress {
        /// Which URL.
        what: String,
        /// Its host (bounded).
        host: String,
        /// `loopback`, `private` or `link-local`.
        class: String,
    },
    /// An authorization endpoint redirected more times than the SDK follows.
    #[error("more than {limit} redirects before the redirect URI")]
    TooManyRedirects {
        /// The bound.
        limit: usize,
    },
    /// No browser redirect arrived while the app waited for the user to sign in.
    #[error("no browser redirect arrived within {secs} s")]
    RedirectTimeout {
        /// How long the app waited.
        secs: u64,
    },

    // ---- configs ----
    /// A configuration file could not be read.
    #[error("invalid config: {}", Clip(reason))]
    Config {
        /// Why.
        reason: String,
    },
    /// A configuration file is not valid JSON (or JSONC).
    #[error(
        "invalid JSON in config at line {line}, column {column}: {}",
        Clip(reason)
    )]
    ConfigSyntax {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// Parser message (never the file's content).
        reason: String,
    },
}

impl From<TransportError> for Error {
    fn from(e: TransportError) -> Self {
        Error::Transport(e)
    }
}

/// `Debug` shows the code and the (bounded) message: the fields may hold foreign text of any
/// length, and nothing in an error is worth more than its message for debugging.
impl std::fmt::Debug for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Error")
            .field("code", &self.code())
            .field("message", &format_args!("{self}"))
            .finish()
    }
}

/// What an app does about an error: a small, stable classification of every [`Error`]
/// (its `code` stays the precise reason). Adapters and the CLI derive their own mapping from
/// it (the CLI's exit codes), so the classification lives here once.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
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
    /// The caller's input (argument, URL, config file) is invalid.
    InvalidInput,
    /// The call does not fit the current state.
    WrongState,
    /// The call was cancelled.
    Cancelled,
    /// The client was closed (or its loop stopped): make a new one.
    Stopped,
    /// The credential store failed (adapters' stores; the core itself never reports it).
    Storage,
    /// A defect of this SDK or its host (adapters; the core itself never reports it).
    Internal,
}

impl Error {
    /// The kind of this error (see [`ErrorKind`]).
    pub fn kind(&self) -> ErrorKind {
        use ErrorKind as K;
        match self {
            Error::NotSignedIn | Error::Unauthorized { .. } => K::NeedsSignIn,
            Error::InsufficientScope { .. } => K::StepUpRequired,
            Error::Forbidden { .. }
            | Error::CredentialsNotForServer { .. }
            | Error::ClientSecretNotForServer { .. }
            | Error::SecretInBrowser => K::Unauthorized,
            Error::StateMissing
            | Error::StateMismatch
            | Error::AuthorizationReused
            | Error::AuthorizationExpired { .. }
            | Error::CodeMissing
            | Error::AuthorizationDenied { .. }
            | Error::RedirectUriMismatch { .. }
            | Error::IssParameterMismatch { .. }
            | Error::RedirectTimeout { .. }
            | Error::TokenEndpoint { .. }
            | Error::NoClientIdentity { .. }
            | Error::PkceUnsupported { .. } => K::SignInFailed,
            Error::Transport(TransportError::BodyTooLarge { .. }) => K::Server,
            Error::Transport(_)
            | Error::RetriesExhausted { .. }
            | Error::TokenEndpointUnreachable { .. } => K::Network,
            Error::Timeout { .. } => K::Timeout,
            Error::RateLimited { .. } => K::RateLimited,
            Error::HttpStatus { .. }
            | Error::SessionExpired
            | Error::Discovery { .. }
            | Error::ResponseTooLarge { .. }
            | Error::ToolListTooLarge { .. }
            | Error::JsonRpc { .. } => K::Server,
            Error::Protocol { .. }
            | Error::InvalidResponse { .. }
            | Error::IssuerMismatch { .. }
            | Error::ResourceMismatch { .. }
            | Error::UnsupportedProtocolVersion(_)
            | Error::UnsupportedTokenType(_)
            | Error::SseEventTooLarge { .. }
            | Error::PrivateAddress { .. }
            | Error::TooManyRedirects { .. } => K::Protocol,
            Error::InvalidInput { .. }
            | Error::InvalidUrl { .. }
            | Error::InsecureUrl { .. }
            | Error::Config { .. }
            | Error::ConfigSyntax { .. } => K::InvalidInput,
            Error::WrongState { .. } => K::WrongState,
            Error::Cancelled => K::Cancelled,
            Error::Storage { .. } => K::Storage,
            Error::ClientStopped => K::Stopped,
        }
    }
}

/// The flat error every binding exposes: stable `code`, human `message`, optional `hint`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorInfo {
    /// Stable machine-readable code (snake_case), e.g. `unauthorized`.
    pub code: String,
    /// Human message (no secrets).
    pub message: String,
    /// What to do about it, from the troubleshooting table when one applies.
    pub hint: Option<String>,
}

impl std::fmt::Display for ErrorInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.message, self.code)?;
        if let Some(h) = &self.hint {
            write!(f, "\nhint: {h}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ErrorInfo {}

/// Seed troubleshooting row: 401.
pub const HINT_401: &str = "Token expired or wrong environment. Regenerate your personal token \
(WorkBoard → Settings → Custom Integrations → App → Instant Token) or sign in again via OAuth, \
and check that the host is the one your account lives on (www.myworkboard.com for US, \
www.myworkboard.eu for EU).";
/// 401 from a server that is not WorkBoard (WorkBoard's personal tokens and environments do
/// not apply there).
pub const HINT_401_OTHER_SERVER: &str = "The server refused the credentials: they expired, \
were revoked, or were not issued by this server. Sign in to this server again (OAuth) or use \
a token it issued, and check the server URL.";

/// The 401 hint for a server: [`HINT_401`] (WorkBoard personal tokens and environments) when
/// it is WorkBoard (`env::is_workboard_server`), else [`HINT_401_OTHER_SERVER`].
pub fn hint_401(server_url: &str) -> &'static str {
    if crate::env::is_workboard_server(server_url) {
        HINT_401
    } else {
        HINT_401_OTHER_SERVER
    }
}

/// Seed troubleshooting row: no tools listed.
pub const HINT_NO_TOOLS: &str = "Your WorkBoard role may not have access to OKRs, Scorecards, or \
other features. Contact your WorkBoard admin.";
/// Seed troubleshooting row: Claude Desktop won't connect.
pub const HINT_NODE: &str = "Claude Desktop runs `npx mcp-remote`, which needs Node.js 18 or \
higher: run `node --version` to check.";
/// Seed troubleshooting row: redirect URL error.
pub const HINT_REDIRECT: &str = "The redirect URI registered in WorkBoard (Settings → Custom \
Integrations → App) must match exactly, character for character, the one the client uses.";

/// Every stable code [`Error::code`] returns, so that bindings and the CLI can map each one
/// deliberately (a test keeps this list equal to the codes `Error::code` returns).
pub const ERROR_CODES: &[&str] = &[
    "invalid_url",
    "insecure_url",
    "invalid_input",
    "wrong_state",
    "state_missing",
    "state_mismatch",
    "authorization_reused",
    "authorization_expired",
    "code_missing",
    "authorization_denied",
    "redirect_uri_mismatch",
    "issuer_mismatch",
    "iss_mismatch",
    "token_endpoint_error",
    "invalid_response",
    "response_too_large",
    "unsupported_token_type",
    "unauthorized",
    "insufficient_scope",
    "forbidden",
    "rate_limited",
    "http_status",
    "transport",
    "retries_exhausted",
    "discovery_failed",
    "pkce_unsupported",
    "resource_mismatch",
    "no_client_identity",
    "secret_in_browser",
    "client_secret_not_for_server",
    "not_signed_in",
    "credentials_not_for_server",
    "jsonrpc_error",
    "protocol_error",
    "unsupported_protocol_version",
    "session_expired",
    "sse_event_too_large",
    "cancelled",
    "redirect_timeout",
    "invalid_config",
    "invalid_config_json",
    "private_address",
    "too_many_redirects",
    "token_endpoint_unreachable",
    "timeout",
    "too_many_tools",
    "credential_store_failed",
    "client_stopped",
];

impl Error {
    /// The stable code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            Error::InvalidUrl { .. } => "invalid_url",
            Error::InsecureUrl { .. } => "insecure_url",
            Error::InvalidInput { .. } => "invalid_input",
            Error::WrongState { .. } => "wrong_state",
            Error::StateMissing => "state_missing",
            Error::StateMismatch => "state_mismatch",
            Error::AuthorizationReused => "authorization_reused",
            Error::AuthorizationExpired { .. } => "authorization_expired",
            Error::CodeMissing => "code_missing",
            Error::AuthorizationDenied { .. } => "authorization_denied",
            Error::RedirectUriMismatch { .. } => "redirect_uri_mismatch",
            Error::IssuerMismatch { .. } => "issuer_mismatch",
            Error::IssParameterMismatch { .. } => "iss_mismatch",
            Error::TokenEndpoint { .. } => "token_endpoint_error",
            Error::InvalidResponse { .. } => "invalid_response",
            Error::ResponseTooLarge { .. } => "response_too_large",
            Error::UnsupportedTokenType(_) => "unsupported_token_type",
            Error::Unauthorized { .. } => "unauthorized",
            Error::InsufficientScope { .. } => "insufficient_scope",
            Error::Forbidden { .. } => "forbidden",
            Error::RateLimited { .. } => "rate_limited",
            Error::HttpStatus { .. } => "http_status",
            Error::Transport(TransportError::BodyTooLarge { .. }) => "response_too_large",
            Error::Transport(_) => "transport",
            Error::TokenEndpointUnreachable { .. } => "token_endpoint_unreachable",
            Error::Timeout { .. } => "timeout",
            Error::ToolListTooLarge { .. } => "too_many_tools",
            Error::RetriesExhausted { .. } => "retries_exhausted",
            Error::Discovery { .. } => "discovery_failed",
            Error::PkceUnsupported { .. } => "pkce_unsupported",
            Error::ResourceMismatch { .. } => "resource_mismatch",
            Error::NoClientIdentity { .. } => "no_client_identity",
            Error::SecretInBrowser => "secret_in_browser",
            Error::ClientSecretNotForServer { .. } => "client_secret_not_for_server",
            Error::NotSignedIn => "not_signed_in",
            Error::CredentialsNotForServer { .. } => "credentials_not_for_server",
            Error::JsonRpc { .. } => "jsonrpc_error",
            Error::Protocol { .. } => "protocol_error",
            Error::UnsupportedProtocolVersion(_) => "unsupported_protocol_version",
            Error::SessionExpired => "session_expired",
            Error::SseEventTooLarge { .. } => "sse_event_too_large",
            Error::Cancelled => "cancelled",
            Error::Storage { .. } => "credential_store_failed",
            Error::ClientStopped => "client_stopped",
            Error::RedirectTimeout { .. } => "redirect_timeout",
            Error::PrivateAddress { .. } => "private_address",
            Error::TooManyRedirects { .. } => "too_many_redirects",
            Error::Config { .. } => "invalid_config",
            Error::ConfigSyntax { .. } => "invalid_config_json",
        }
    }

    /// What to do about it.
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            Error::Unauthorized { environment, url, .. } if crate::env::is_workboard_server(url) => {
                format!("{HINT_401} Environment in use: {}.", Clip(environment))
            }
            Error::Unauthorized { environment, .. } => {
                format!("{HINT_401_OTHER_SERVER} Server: {environment}.")
            }
            Error::RedirectUriMismatch { expected, actual, differs_at } => {
                let (e, a) = (excerpt(expected, 200), excerpt(actual, 200));
                // The caret only where both excerpts reach the difference.
                let caret = if *differs_at <= e.chars().count().min(a.chars().count()) {
                    format!("              {}^ differs here", " ".repeat(*differs_at))
                } else {
                    format!("              (they differ at character {differs_at})")
                };
                format!("{HINT_REDIRECT}\n  registered: {e}\n  used:       {a}\n{caret}")
            }
            Error::AuthorizationDenied { error, .. } if error == "invalid_client_id" => {
                "Check the Client ID from WorkBoard → Settings → Custom Integrations → App, and that you use the right environment (US or EU).".into()
            }
            Error::AuthorizationDenied { error, .. } if error == "invalid_scope" => {
                "Request scopes WorkBoard knows, comma-separated (the default is `all`).".into()
            }
            Error::AuthorizationDenied { error, .. } if error == "access_denied" => {
                "The user declined the consent screen; start sign-in again to retry.".into()
            }
            Error::AuthorizationExpired { .. } => {
                "Authorization codes are valid for 5 minutes: start sign-in again and exchange the code promptly.".into()
            }
            Error::StateMismatch | Error::StateMissing => {
                "The redirect does not belong to the sign-in this app started (possible CSRF, or a stale tab): start sign-in again.".into()
            }
            Error::AuthorizationReused => "Each sign-in attempt can be completed once: start a new one.".into(),
            Error::TokenEndpoint { error, .. } if error == "invalid_client" || error == "invalid_client_id" => {
                "Check the Client ID and Client Hash (the client secret) from WorkBoard → Settings → Custom Integrations → App.".into()
            }
            Error::TokenEndpoint { error, .. } if error == "invalid_grant" => {
                "The code or refresh token is expired, used or revoked, or the redirect URI differs from the one used to authorize: sign in again.".into()
            }
            Error::InsecureUrl { .. } => "Use an https URL (http is allowed only on localhost/127.0.0.1).".into(),
            Error::PkceUnsupported { .. } => "The MCP authorization spec requires PKCE with S256; this authorization server does not advertise it, so signing in there is refused. Ask the server's operator to enable S256.".into(),
            Error::IssParameterMismatch { actual: None, .. } => "The authorization server promises (authorization_response_iss_parameter_supported) to name itself in every authorization response, but this one did not: it may come from another server (a mix-up attack, RFC 9207), so its code was not used. Start the sign-in again; if it keeps happening, report the server's missing `iss` to its operator.".into(),
            Error::IssParameterMismatch { .. } => "The authorization response names another authorization server than the one this sign-in was sent to (a possible mix-up attack, RFC 9207), so its code was not used and any error it carried was ignored. Start the sign-in again; if it keeps happening, the server's `iss` differs from the `issuer` of its metadata: report it to the server's operator.".into(),
            Error::IssuerMismatch { .. } => "The authorization server metadata does not belong to the server you contacted; refusing to continue protects your credentials.".into(),
            Error::SecretInBrowser => "Exchange the code on your own server (the client hash must never ship in a web or mobile app), or use a personal token or a public-client PKCE flow. Pass `dangerouslyAllowClientSecretInBrowser` only for local testing.".into(),
            Error::NotSignedIn => "Sign in first (OAuth) or set a personal token.".into(),
            Error::PrivateAddress { .. } => "A server's metadata or redirect may not send this program into your own network (localhost, 10.x, 192.168.x, 169.254.x, ...). If the deployment really is internal, use its server URL on that network (then addresses of the same kind are allowed); otherwise report the server.".into(),
            Error::TooManyRedirects { .. } => "The authorization server keeps redirecting: --headless works only with an auto-approving server; sign in with a browser instead.".into(),
            Error::ClientSecretNotForServer { .. } => "WorkBoard's Client Hash goes only to the token endpoint of the WorkBoard environment it belongs to. Sign in to this server without it (unset WORKBOARD_CLIENT_HASH; the server may register the client or use PKCE alone), or name this token endpoint for the secret explicitly (ClientConfig::client_secret_for) if it really is the secret's owner.".into(),
            Error::CredentialsNotForServer { bound_to, server } => format!(
                "These credentials were issued for {bound_to} and are only sent there. To use {server}, sign in to it (OAuth) or set a personal token for it (CLI: `workboard --server <url> login` or `workboard --server <url> token set`); to use the stored credentials, connect to {bound_to}."
            ),
            Error::RedirectTimeout { .. } => "Finish the sign-in in the browser sooner (or allow more time), and check that the browser can reach the redirect URI on this machine; start the sign-in again.".into(),
            Error::InsufficientScope { .. } => "Your token lacks a scope this call needs: sign in again granting it, or ask your WorkBoard admin for access.".into(),
            Error::Forbidden { .. } => HINT_NO_TOOLS.into(),
            Error::RateLimited { .. } => "Slow down and retry later.".into(),
            Error::Transport(TransportError::BodyTooLarge { .. }) => "The server sent a larger response than this client reads; check the server (or raise the transport's body limit).".into(),
            Error::Transport(_) => "Check the network connection and the server URL.".into(),
            Error::TokenEndpointUnreachable { .. } => "The access token needs a refresh but the authorization server's token endpoint cannot be reached or is temporarily unavailable (HTTP 5xx/429): check the network connection (proxy, VPN, firewall) and try again later; sign in again if it persists.".into(),
            Error::Timeout { .. } => "The server did not answer in time (a slow tool or a stream that never delivered the result): try again later, or allow more time (ConnectionConfig call_timeout_ms / request_timeout_ms).".into(),
            Error::ToolListTooLarge { .. } => "The server lists more tools than this client accepts; if that many are expected, raise ConnectionConfig max_tools / max_tool_list_bytes, otherwise check the server.".into(),
            Error::NoClientIdentity { reason } if reason.contains("bound to their issuer") => "The server's protected resource metadata now names another authorization server than the one your client ID was registered at. Register a client there (or drop --client-id / client_id so the SDK registers one or uses a client ID metadata document), then sign in again.".into(),
            Error::NoClientIdentity { .. } => "This server has no dynamic registration: create an app in WorkBoard → Settings → Custom Integrations → App and pass its client_id (and, on a server, its client hash).".into(),
            Error::Storage { .. } => "Check the credential store (file permissions, disk space, Keychain/Keystore access, the app's CredentialStore implementation). Credentials that could not be saved are still used in memory; save them yourself if the store stays unavailable.".into(),
            Error::ClientStopped => "This client was closed: create a new client to continue.".into(),
            Error::UnsupportedProtocolVersion(_) => format!("The server and this SDK share no MCP protocol version: the server speaks the version(s) named above, this SDK speaks {} (modern) and {} (legacy, with initialize). Use a server (or a server mode) that accepts one of these, or an SDK version that speaks the server's.", crate::mcp::modern::MODERN_PROTOCOL_VERSIONS.join(", "), crate::mcp::modern::LEGACY_PROTOCOL_VERSIONS.join(", ")),
            Error::UnsupportedTokenType(_) => "The server issued a token type this SDK cannot use; only bearer tokens are supported.".into(),
            _ => return None,
        })
    }

    /// The flat form for bindings. The message is at most
    /// [`MAX_MESSAGE_BYTES`] and the hint at most
    /// [`MAX_HINT_BYTES`] bytes, whatever the input.
    pub fn info(&self) -> ErrorInfo {
        ErrorInfo {
            code: self.code().to_string(),
            message: excerpt(&self.to_string(), MAX_MESSAGE_BYTES),
            hint: self.hint().map(|h| bounded_hint(&h)),
        }
    }

    /// This error with every occurrence of `secrets` (4 bytes or longer) in its text replaced
    /// by `<redacted>`. Used wherever server-provided text comes back for a request that
    /// carried secrets (as the machines list them): servers echo the code, the
    /// PKCE verifier or the refresh token in their error descriptions.
    pub fn redact<S: AsRef<str>>(self, secrets: &[S]) -> Error {
        self.redact_text(secrets)
    }

    /// [`Error::redact`] for secrets kept as [`SecretString`]s.
    pub fn redact_secrets(self, secrets: &[SecretString]) -> Error {
        let exposed: Vec<&str> = secrets.iter().map(SecretString::expose).collect();
        self.redact_text(&exposed)
    }

    fn redact_text<S: AsRef<str>>(mut self, secrets: &[S]) -> Error {
        if secrets.iter().all(|s| s.as_ref().len() < 4) {
            return self;
        }
        self.for_each_text(&mut |t: &mut String| {
            if secrets
                .iter()
                .any(|s| s.as_ref().len() >= 4 && t.contains(s.as_ref()))
            {
                *t = scrub(t, secrets);
            }
        });
        self
    }

    /// Calls `f` on every text field (a visitor, not a rebuilt value: less code in the wasm
    /// package).
    fn for_each_text(&mut self, f: &mut dyn FnMut(&mut String)) {
        match self {
            Error::InvalidUrl { what, reason }
            | Error::InsecureUrl { what, reason }
            | Error::InvalidInput { what, reason }
            | Error::InvalidResponse { what, reason } => {
                f(what);
                f(reason);
            }
            Error::WrongState { action, state } => {
                f(action);
                f(state);
            }
            Error::AuthorizationDenied { error, description }
            | Error::TokenEndpoint {
                error, description, ..
            } => {
                f(error);
                description.iter_mut().for_each(&mut *f);
            }
            Error::RedirectUriMismatch {
                expected, actual, ..
            }
            | Error::IssuerMismatch { expected, actual }
            | Error::ResourceMismatch { expected, actual } => {
                f(expected);
                f(actual);
            }
            Error::IssParameterMismatch { expected, actual } => {
                f(expected);
                actual.iter_mut().for_each(&mut *f);
            }
            Error::ResponseTooLarge { what, .. } => f(what),
            Error::UnsupportedTokenType(t) | Error::UnsupportedProtocolVersion(t) => f(t),
            Error::Unauthorized {
                url,
                error,
                environment,
            } => {
                f(url);
                error.iter_mut().for_each(&mut *f);
                f(environment);
            }
            Error::InsufficientScope { scope } => scope.iter_mut().for_each(&mut *f),
            Error::Forbidden { url } => f(url),
            Error::HttpStatus { url, detail, .. } => {
                f(url);
                detail.iter_mut().for_each(&mut *f);
            }
            Error::Transport(
                TransportError::Connect(m)
                | TransportError::Interrupted(m)
                | TransportError::Other(m),
            ) => f(m),
            Error::RetriesExhausted { last, .. } => f(last),
            Error::Discovery { reason }
            | Error::NoClientIdentity { reason }
            | Error::Protocol { reason }
            | Error::Config { reason }
            | Error::ConfigSyntax { reason, .. } => f(reason),
            Error::PkceUnsupported { issuer } => f(issuer),
            Error::JsonRpc { message, .. } => f(message),
            Error::TokenEndpointUnreachable { reason, .. } | Error::ToolListTooLarge { reason } => {
                f(reason)
            }
            Error::Timeout { what, .. } => f(what),
            Error::PrivateAddress { what, host, class } => {
                f(what);
                f(host);
                f(class);
            }
            Error::ClientSecretNotForServer {
                token_endpoint,
                belongs_to,
            } => {
                f(token_endpoint);
                f(belongs_to);
            }
            Error::CredentialsNotForServer { bound_to, server } => {
                f(bound_to);
                f(server);
            }
            Error::Storage { reason } => f(reason),
            Error::Transport(
                TransportError::Timeout
                | TransportError::Cancelled
                | TransportError::BodyTooLarge { .. },
            )
            | Error::StateMissing
            | Error::StateMismatch
            | Error::AuthorizationReused
            | Error::AuthorizationExpired { .. }
            | Error::CodeMissing
            | Error::RateLimited { .. }
            | Error::SecretInBrowser
            | Error::NotSignedIn
            | Error::SessionExpired
            | Error::SseEventTooLarge { .. }
            | Error::Cancelled
            | Error::ClientStopped
            | Error::TooManyRedirects { .. }
            | Error::RedirectTimeout { .. } => {}
        }
    }
}

/// A hint cut to [`MAX_HINT_BYTES`], keeping its lines (a hint may draw a caret under a line).
fn bounded_hint(h: &str) -> String {
    crate::untrusted::cut(h, MAX_HINT_BYTES)
}

impl From<Error> for ErrorInfo {
    fn from(e: Error) -> Self {
        e.info()
    }
}

impl Error {
    /// [`Error::ClientSecretNotForServer`] with the URLs redacted and bounded.
    pub fn client_secret_not_for_server(token_endpoint: &str, belongs_to: &str) -> Error {
        let clip = |s: &str| -> String { crate::http::redact_url(s).chars().take(300).collect() };
        Error::ClientSecretNotForServer {
            token_endpoint: clip(token_endpoint),
            belongs_to: clip(belongs_to),
        }
    }

    /// [`Error::CredentialsNotForServer`] with both URLs redacted and bounded.
    pub fn credentials_not_for_server(bound_to: &str, server: &str) -> Error {
        let clip = |s: String| -> String {
            if s.chars().count() > 200 {
                let mut t: String = s.chars().take(200).collect();
                t.push('…');
                t
            } else {
                s
            }
        };
        Error::CredentialsNotForServer {
            bound_to: clip(crate::http::redact_url(bound_to)),
            server: clip(crate::http::redact_url(server.trim())),
        }
    }
}

/// Index of the first character where two strings differ (for redirect URI mismatches).
pub fn first_difference(a: &str, b: &str) -> usize {
    a.chars()
        .zip(b.chars())
        .position(|(x, y)| x != y)
        .unwrap_or_else(|| a.chars().count().min(b.chars().count()))
}

/// A redirect URI mismatch error, or `None` when equal.
pub fn check_redirect_uri(expected: &str, actual: &str) -> Result<(), Error> {
    if expected == actual {
        return Ok(());
    }
    Err(Error::RedirectUriMismatch {
        expected: expected.to_string(),
        actual: actual.to_string(),
        differs_at: first_difference(expected, actual),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn redirect_mismatch_points_at_difference() {
        let e = check_redirect_uri(
            "https://claude.ai/api/mcp/auth_callback",
            "https://claude.ai/api/mcp/auth_callback/",
        )
        .unwrap_err();
        assert_eq!(e.code(), "redirect_uri_mismatch");
        let hint = e.hint().unwrap_or_default();
        assert!(hint.contains("registered: https://claude.ai/api/mcp/auth_callback\n"));
        let caret_line = hint.lines().last().unwrap_or_default();
        assert_eq!(caret_line.find('^'), Some(14 + 39));
    }

    #[test]
    fn error_codes_lists_every_code() {
        // The codes `Error::code` returns, read from its source.
        let src = include_str!("error.rs");
        let start = src.find("pub fn code(&self)").unwrap_or(0);
        let end = start + src[start..].find("pub fn hint(&self)").unwrap_or(0);
        let mut from_source: Vec<&str> = src[start..end]
            .split("=> \"")
            .skip(1)
            .filter_map(|s| s.split('"').next())
            .collect();
        from_source.sort_unstable();
        // Two variants may share a code (a body over the transport's cap and one over a
        // parser's are both `response_too_large`).
        from_source.dedup();
        let mut listed = ERROR_CODES.to_vec();
        listed.sort_unstable();
        assert!(!listed.is_empty());
        assert_eq!(from_source, listed);
    }

    #[test]
    fn redact_reaches_every_text_field() {
        let x = || "a S3CRET-X b".to_string();
        let t = |m: String| TransportError::Other(m);
        let all = vec![
            Error::InvalidUrl {
                what: x(),
                reason: x(),
            },
            Error::InsecureUrl {
                what: x(),
                reason: x(),
            },
            Error::InvalidInput {
                what: x(),
                reason: x(),
            },
            Error::WrongState {
                action: x(),
                state: x(),
            },
            Error::AuthorizationDenied {
                error: x(),
                description: Some(x()),
            },
            Error::RedirectUriMismatch {
                expected: x(),
                actual: x(),
                differs_at: 0,
            },
            Error::IssuerMismatch {
                expected: x(),
                actual: x(),
            },
            Error::IssParameterMismatch {
                expected: x(),
                actual: Some(x()),
            },
            Error::TokenEndpoint {
                status: 400,
                error: x(),
                description: Some(x()),
            },
            Error::InvalidResponse {
                what: x(),
                reason: x(),
            },
            Error::ResponseTooLarge {
                what: x(),
                limit: 1,
            },
            Error::UnsupportedTokenType(x()),
            Error::Unauthorized {
                url: x(),
                error: Some(x()),
                environment: x(),
            },
            Error::InsufficientScope { scope: Some(x()) },
            Error::Forbidden { url: x() },
            Error::HttpStatus {
                status: 500,
                url: x(),
                detail: Some(x()),
            },
            Error::Transport(t(x())),
            Error::Transport(TransportError::Connect(x())),
            Error::Transport(TransportError::Interrupted(x())),
            Error::RetriesExhausted {
                attempts: 1,
                last: x(),
            },
            Error::Discovery { reason: x() },
            Error::PkceUnsupported { issuer: x() },
            Error::ResourceMismatch {
                expected: x(),
                actual: x(),
            },
            Error::NoClientIdentity { reason: x() },
            Error::JsonRpc {
                code: 1,
                message: x(),
            },
            Error::Protocol { reason: x() },
            Error::UnsupportedProtocolVersion(x()),
            Error::Config { reason: x() },
            Error::ConfigSyntax {
                line: 1,
                column: 1,
                reason: x(),
            },
            Error::TokenEndpointUnreachable {
                attempts: 3,
                reason: x(),
            },
            Error::Timeout {
                what: x(),
                after_ms: 1,
            },
            Error::ToolListTooLarge { reason: x() },
            Error::PrivateAddress {
                what: x(),
                host: x(),
                class: x(),
            },
            Error::ClientSecretNotForServer {
                token_endpoint: x(),
                belongs_to: x(),
            },
            Error::CredentialsNotForServer {
                bound_to: x(),
                server: x(),
            },
        ];
        for e in all {
            let before = format!("{e} {:?}", e.hint());
            assert!(before.contains("S3CRET-X"), "{before}");
            let e = e.redact(&["S3CRET-X"]);
            let after = format!("{e} {e:?} {:?} {:?}", e.hint(), e.info());
            assert!(!after.contains("S3CRET-X"), "{after}");
        }
    }

    #[test]
    fn unauthorized_hint_names_environment() {
        let e = Error::Unauthorized {
            url: "https://www.myworkboard.eu/wb/mcp".into(),
            error: None,
            environment: "EU".into(),
        };
        assert!(e
            .info()
            .hint
            .unwrap_or_default()
            .contains("wrong environment"));
    }
}
