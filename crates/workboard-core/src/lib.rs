//! # workboard-core
//!
//! The sans-IO heart of workboard-connect: every flow of the SDK as a state machine with no
//! I/O, no clock and no OS randomness. Hosts (the native adapter, the WebAssembly package,
//! the UniFFI bindings) supply a [`driver::Transport`], a [`driver::Clock`] and an
//! [`random::Entropy`] source; everything else — WorkBoard OAuth v1, OAuth 2.1 for MCP,
//! credentials, the MCP session and its policies — lives here and is tested once.
//!
//! ## Vocabulary and call order
//!
//! `handle_*` methods take inputs (each carries `now_ms`, unix milliseconds); `poll_*`
//! methods return outputs and are drained until `None`. Every machine implements
//! [`SansIo`]:
//!
//! 1. submit work (e.g. [`connection::Connection::list_tools`]);
//! 2. drain [`SansIo::poll_request`] and send each [`HttpRequest`] (concurrently is fine);
//! 3. hand each response or transport error to [`SansIo::handle_response`] with its
//!    [`RequestId`] and the current time;
//! 4. when [`SansIo::poll_timeout`] gives a deadline and nothing arrives before it, call
//!    [`SansIo::handle_timeout`] (retry delays, SSE reconnection);
//! 5. repeat from 2 until nothing is in flight; drain the machine's events (persist
//!    [`connection::ConnectionEvent::CredentialsChanged`] first) and take results.
//!
//! [`drive`] is that loop, written once; [`driver::run`] is its long-running form.
//!
//! ## What is public
//!
//! Machines ([`connection::Connection`], [`oauth::flow::McpAuthFlow`], [`oauth::v1`],
//! [`urlpolicy::RedirectFollower`], [`rest`]), the values they take and give (requests and
//! responses, [`Credentials`], [`Environment`], [`oauth::pending::PendingAuthorization`],
//! [`oauth::flow::AuthContext`], the MCP values of [`mcp::jsonrpc`]), errors ([`Error`],
//! [`ErrorInfo`], [`ErrorKind`], [`untrusted`]'s bounds) and the host traits ([`Transport`],
//! [`Clock`], [`Entropy`], [`SansIo`]). The parsers and builders behind the machines (SSE,
//! JSON-RPC framing, discovery, metadata, token responses, `WWW-Authenticate`, PKCE) are
//! internal. [`probe`] builds and reads single MCP requests for diagnostic tools.
//!
//! ## A complete run loop
//!
//! A fake transport stands in for the network (a host would use HTTP); it answers
//! `initialize`, `notifications/initialized` and `tools/list` as a WorkBoard MCP server would,
//! and refuses the client's first, modern (2026-07-28) request as a legacy server does.
//!
//! ```
//! use std::cell::{Cell, RefCell};
//! use workboard_core::connection::{CallOutput, Connection, ConnectionConfig, ConnectionEvent};
//! use workboard_core::{drive, Clock, Credentials, Environment, HttpRequest, HttpResponse,
//!                      Transport, TransportError};
//!
//! /// Answers like an MCP server over Streamable HTTP.
//! struct FakeServer { sent: RefCell<Vec<String>> }
//!
//! impl Transport for FakeServer {
//!     async fn send(&self, req: HttpRequest) -> Result<HttpResponse, TransportError> {
//!         let msg: serde_json::Value = serde_json::from_slice(&req.body).unwrap_or_default();
//!         let method = msg["method"].as_str().unwrap_or("").to_string();
//!         self.sent.borrow_mut().push(method.clone());
//!         let id = msg["id"].clone();
//!         if req.header("Mcp-Method").is_some() {
//!             // A legacy (2025-11-25) server refuses modern requests: the client initializes.
//!             return Ok(HttpResponse::new(400, vec![], b"Bad Request: no session".to_vec()));
//!         }
//!         Ok(match method.as_str() {
//!             "initialize" => {
//!                 let mut r = HttpResponse::json(200, &serde_json::json!({
//!                     "jsonrpc": "2.0", "id": id, "result": {
//!                         "protocolVersion": "2025-11-25", "capabilities": {"tools": {}},
//!                         "serverInfo": {"name": "WorkBoard", "version": "1"}}}));
//!                 r.headers.push(("Mcp-Session-Id".into(), "session-1".into()));
//!                 r
//!             }
//!             "tools/list" => HttpResponse::json(200, &serde_json::json!({
//!                 "jsonrpc": "2.0", "id": id, "result": {"tools": [
//!                     {"name": "get_current_user", "inputSchema": {"type": "object"}},
//!                     {"name": "search", "inputSchema": {"type": "object"}}]}})),
//!             _ => HttpResponse::new(202, vec![], Vec::new()), // notifications
//!         })
//!     }
//! }
//!
//! /// Simulated time: sleeping advances it instantly.
//! struct SimClock(Cell<u64>);
//! impl Clock for SimClock {
//!     fn now_ms(&self) -> u64 { self.0.get() }
//!     async fn sleep_ms(&self, ms: u64) { self.0.set(self.0.get() + ms) }
//! }
//!
//! # fn main() -> Result<(), workboard_core::Error> {
//! let config = ConnectionConfig::for_environment(&Environment::Us)
//!     .credentials(Credentials::personal("personal-token-from-the-app-tab"));
//! let mut conn = Connection::new(config)?;
//! let server = FakeServer { sent: RefCell::new(Vec::new()) };
//! let clock = SimClock(Cell::new(1_764_000_000_000));
//!
//! // Submit a call, then run the machine until it is idle.
//! let call = conn.list_tools(clock.now_ms());
//! futures_executor::block_on(drive(&mut conn, &server, &clock));
//!
//! // Drain events: persist credentials first, surface sign-in / step-up prompts.
//! while let Some(event) = conn.poll_event() {
//!     match event {
//!         ConnectionEvent::CredentialsChanged(creds) => { let _json = creds.to_json(); }
//!         ConnectionEvent::AuthorizationRequired { .. } => { /* start sign-in */ }
//!         ConnectionEvent::StepUpRequired { .. } => { /* authorize the missing scope */ }
//!         _ => {}
//!     }
//! }
//!
//! // Take the result.
//! match conn.poll_result(call) {
//!     Some(Ok(CallOutput::Tools(tools))) => {
//!         let names: Vec<&str> = tools.iter().map(|t| t.name.as_str()).collect();
//!         assert_eq!(names, ["get_current_user", "search"]);
//!     }
//!     other => panic!("unexpected {other:?}"),
//! }
//! // The modern probe (refused), initialize, then notifications/initialized and tools/list
//! // together. The era is kept in the saved state, so the next start skips the probe.
//! assert_eq!(
//!     *server.sent.borrow(),
//!     ["tools/list", "initialize", "notifications/initialized", "tools/list"]
//! );
//!
//! // Keep the session for the next start (no tokens inside).
//! let saved = conn.save_state();
//! assert!(saved.contains("session-1") && !saved.contains("personal-token"));
//! # Ok(())
//! # }
//! ```

pub mod credentials;
pub mod driver;
pub mod env;
pub mod error;
pub mod http;
pub mod json;
pub mod random;
pub mod secret;
pub mod untrusted;
pub mod urlpolicy;
mod vecmap;

pub mod connection;
pub mod mcp;
pub mod oauth;
pub mod probe;
pub mod rest;
pub mod states;
#[cfg(feature = "testing")]
pub mod testing;

#[doc(hidden)]
pub mod fuzzing;

pub use credentials::{Credentials, Dialect, TokenSet};
pub use driver::{drive, BodyPart, BodySink, Clock, SansIo, Transport};
pub use env::Environment;
pub use error::{Error, ErrorInfo, ErrorKind};
pub use http::{HttpRequest, HttpResponse, Method, RequestId, TransportError};
pub use random::{Entropy, SeededEntropy};
pub use secret::SecretString;
