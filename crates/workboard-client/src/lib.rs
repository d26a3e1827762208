//! The client layer of workboard-connect, written once for every platform.
//!
//! The core (`workboard-core`) holds each flow as a sans-IO machine. Everything between those
//! machines and an application's call lives here, once: the call inbox and its waiters, a call
//! future whose drop cancels the call (and explicit cancellation), one close behaviour,
//! credentials persisted before any request uses them, one store-failure policy, session
//! persistence, sign-in (WorkBoard v1, OAuth 2.1 for MCP with step-up, client credentials),
//! refresh through the connection's single flight, revocation, the tool-argument checks, the
//! MCP surface of both eras (tools, resources, prompts, completion, [`Client::subscribe`],
//! [`Client::notifications`]) and the app's answers to servers' input requests
//! ([`Host::answer_input`]).
//!
//! The adapters (native Rust, UniFFI, WebAssembly) only supply a [`Host`] — transport, clock,
//! entropy, storage and how a result reaches the app — and spawn the [`Driver`] on their
//! executor. Nothing here needs `Send`: on single-threaded WebAssembly the host holds
//! JavaScript objects. With a `Send + Sync` host (native, UniFFI) the [`Client`] handle is
//! `Send + Sync` too, and the driver can be moved to the thread that runs it.
//!
//! ```
//! # use workboard_client::{Client, ClientConfig, Host};
//! # use workboard_core::testing::{FakeMcpServer, ScriptedTransport, SimClock, MCP_URL, T0};
//! # use workboard_core::Credentials;
//! struct TestHost { transport: ScriptedTransport, clock: SimClock }
//! impl Host for TestHost {
//!     type Transport = ScriptedTransport;
//!     type Clock = SimClock;
//!     fn transport(&self) -> &ScriptedTransport { &self.transport }
//!     fn clock(&self) -> &SimClock { &self.clock }
//!     fn fill_random(&self, buf: &mut [u8]) { buf.fill(7) }
//! }
//! let server = FakeMcpServer::new();
//! let host = TestHost { transport: server.transport(), clock: SimClock::at(T0) };
//! let config = ClientConfig::for_server(MCP_URL).credentials(Credentials::personal("personal-token"));
//! let (client, driver) = Client::new(config, host).unwrap();
//! let mut pool = futures_executor::LocalPool::new();
//! use futures_util::task::LocalSpawnExt;
//! pool.spawner().spawn_local(driver.run()).unwrap();
//! let tools = pool.run_until(client.list_tools()).unwrap();
//! assert_eq!(tools[0].name, "get_current_user");
//! ```

mod client;
pub mod flows;
mod host;
mod notification_stream;
mod run;
mod signin;
pub mod store;
mod streams;

pub use client::{
    Call, Canceller, Client, ClientConfig, Driver, EraPolicy, Notification, ServerInfo,
    Subscription,
};
pub use host::{keys, Host, InputAnswer};
pub use notification_stream::{NotificationStream, StreamStopper};
pub use run::DEFAULT_LEASE_TTL_MS;
pub use signin::{
    McpSignInOptions, McpSignInStart, RedirectVerdict, SharedSignIn, V1Code, V1SignInStart,
};
pub use workboard_core::connection::InputRequest;
pub use workboard_core::connection::SubscriptionFilter;
pub use workboard_core::mcp::jsonrpc::ClientCapabilities;

/// Parses tool arguments given as JSON text (UniFFI and other string-typed hosts): empty or
/// blank text is `{}`; anything but a JSON object fails with `invalid_input` (the message
/// says where the JSON broke, never its content).
pub fn tool_arguments_from_json(text: &str) -> Result<serde_json::Value, workboard_core::Error> {
    if text.trim().is_empty() {
        return Ok(serde_json::Value::Object(Default::default()));
    }
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| workboard_core::Error::InvalidInput {
            what: "tool arguments".into(),
            reason: format!(
                "not JSON: {}",
                workboard_core::untrusted::describe_json_error(&e)
            ),
        })?;
    client::check_tool_arguments(value)
}
