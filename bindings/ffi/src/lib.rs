//! # workboard-ffi
//!
//! UniFFI bindings of workboard-connect for Kotlin (Android/JVM), Swift (iOS/macOS) and
//! Python. This crate holds no flow logic: it converts types (`types`, `error`) and supplies
//! host capabilities (`host`: transport, clock, entropy, credential storage, the app's input
//! handlers, the runtime) to the client layer (`workboard-client`), which runs every
//! behaviour. Notification streams are the layer's `NotificationStream` behind
//! `McpNotificationStream`; the Kotlin `Flow`, Swift `AsyncSequence` and Python async-iterator
//! idioms are small hand-written files in `bindings/kotlin`, `bindings/swift`, `bindings/python`.
//!
//! Generate the bindings in library mode:
//! `cargo run -p uniffi-bindgen -- generate --library <libworkboard_ffi.so> --language kotlin --out-dir out`.

uniffi::setup_scaffolding!();

mod client;
mod error;
mod exit;
mod host;
mod types;

pub use client::{McpNotificationStream, WorkboardClient};
pub use error::{ErrorKind, HostError, WorkboardError};
pub use exit::shutdown_for_exit;
pub use host::{
    CredentialStore, CredentialsListener, ElicitationHandler, ManualClock, ResponseStream,
    RootsHandler, SamplingHandler, Transport,
};
pub use types::{
    ClientOptions, CredentialsSummary, HttpHeader, HttpRequest, HttpResponse, McpCompletion,
    McpCompletionRef, McpDiscovery, McpElicitation, McpElicitationAction, McpElicitationResult,
    McpEra, McpNotification, McpPrompt, McpPromptArgument, McpPromptMessage, McpPromptResult,
    McpResource, McpResourceContents, McpResourceTemplate, McpRoot, McpSamplingRequest,
    McpSamplingResult, McpServerInfo, McpSignInOptions, McpSignInStart, McpSubscriptionFilter,
    McpTool, McpToolResult, V1Code, V1SignInOptions, V1SignInStart,
};

use workboard_core::Credentials;

/// The version of the bindings.
#[uniffi::export]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}

/// Parses stored credentials JSON and describes it without secrets. Malformed JSON fails
/// with `invalid_input`.
#[uniffi::export]
pub fn parse_credentials(credentials_json: String) -> Result<CredentialsSummary, WorkboardError> {
    Ok(CredentialsSummary::of(&Credentials::from_json(
        &credentials_json,
    )?))
}

/// A URL with the values of secret query parameters (code, state, tokens) redacted, for
/// logs.
#[uniffi::export]
pub fn redact_url(url: String) -> String {
    workboard_core::http::redact_url(&url)
}

#[cfg(test)]
mod tests;
