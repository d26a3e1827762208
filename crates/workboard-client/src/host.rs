//! [`Host`]: what an adapter supplies to the client layer.

use std::future::Future;
use std::pin::Pin;

use serde_json::Value;
use workboard_core::connection::InputRequest;
use workboard_core::mcp::jsonrpc::ClientCapabilities;
use workboard_core::{Clock, Credentials, Error, Transport};

/// The answer to one input request, computed by the app (see [`Host::answer_input`]).
pub type InputAnswer = Pin<Box<dyn Future<Output = Result<Value, Error>>>>;

/// Keys the client layer reads and writes in the host's store.
pub mod keys {
    /// [`workboard_core::Credentials`] JSON.
    pub const CREDENTIALS: &str = "credentials";
    /// [`workboard_core::oauth::flow::AuthContext`] JSON (MCP OAuth: endpoints, client).
    pub const AUTH_CONTEXT: &str = "auth_context";
    /// The MCP session state ([`workboard_core::connection::Connection::save_state`]).
    pub const SESSION: &str = "session";
}

/// The host capabilities of one client: transport, clock, entropy, storage, and how results
/// and credential changes reach the application.
///
/// Store methods default to "no store" (nothing loaded, nothing saved). A store method's
/// error text is the store's own (bounded before it reaches a message: it never needs to
/// quote a value, and must not quote a credential).
pub trait Host: 'static {
    /// Sends HTTP requests.
    type Transport: Transport;
    /// Time and timers.
    type Clock: Clock;

    /// The transport.
    fn transport(&self) -> &Self::Transport;
    /// The clock.
    fn clock(&self) -> &Self::Clock;
    /// Fills `buf` with cryptographically secure random bytes (PKCE verifiers, `state`).
    fn fill_random(&self, buf: &mut [u8]);

    /// The stored value for `key` ([`keys`]).
    fn load(&self, _key: &str) -> Result<Option<String>, String> {
        Ok(None)
    }
    /// Stores `value` under `key`, durably, before returning.
    fn save(&self, _key: &str, _value: &str) -> Result<(), String> {
        Ok(())
    }
    /// Removes `key`.
    fn remove(&self, _key: &str) -> Result<(), String> {
        Ok(())
    }

    /// Told about every credentials change (sign-in, refresh, sign-out: `None`), after the
    /// store saved it (or failed to). A listener must not block.
    fn credentials_changed(&self, _credentials: Option<&Credentials>) {}

    /// The store these credentials are shared through with other holders (processes,
    /// machines), when it coordinates them ([`crate::store`]): a due refresh (or a sign-in's
    /// result) then goes through its lease, so each expiry is refreshed once by one holder
    /// and the others use the stored result. `None` (the default): this client refreshes
    /// alone (the connection's single flight within the process). The keyed store above
    /// (`load`/`save`/`remove`) must be the same data.
    fn shared_store(&self) -> Option<&dyn crate::store::SharedStore> {
        None
    }

    /// The input this host's app can give when a server asks (elicitation, sampling,
    /// roots); declared to servers, so only these are ever asked. Default: none.
    fn input_capabilities(&self) -> ClientCapabilities {
        ClientCapabilities::default()
    }

    /// Answers one request for input of a declared kind: an `ElicitResult`
    /// (`{"action": "accept", "content": {...}}`, or `decline` / `cancel`), a
    /// `CreateMessageResult`, a `ListRootsResult`. An `Err` fails the call that waited for
    /// it (MRTR) or answers the legacy server's request with a JSON-RPC error.
    fn answer_input(&self, _request: InputRequest) -> InputAnswer {
        Box::pin(std::future::ready(Err(Error::Protocol {
            reason: "this client has no input handler".into(),
        })))
    }

    /// Delivers a result to a waiting caller: `deliver` wakes it. UniFFI wraps this in its
    /// process-exit guard; everyone else just calls it. A result not delivered is leaked,
    /// not dropped (dropping it would wake the caller too).
    fn hand_over(&self, deliver: &mut dyn FnMut()) {
        deliver()
    }
}

/// The host's entropy as the core's [`workboard_core::Entropy`].
pub(crate) struct HostEntropy<'a, H: Host>(pub(crate) &'a H);

impl<H: Host> workboard_core::Entropy for HostEntropy<'_, H> {
    fn fill_bytes(&mut self, buf: &mut [u8]) {
        self.0.fill_random(buf)
    }
}
