//! [`Client`]: an async WorkBoard / MCP client for Rust services and tools.
//!
//! The client is the client layer's handle ([`workboard_client::Client`], `Clone + Send +
//! Sync`); its driver runs the core's connection machine on a [`Reactor`] thread. Concurrent
//! calls share the machine: one `initialize`, one refresh for any number of calls waiting on
//! a 401, one session. Every rule is the layer's; this adapter adds the host side: reqwest
//! (or any transport), the [`CredentialStore`] (refreshed credentials are saved before the
//! refreshed token is used), the credentials-changed hook and the reactor.
//!
//! ```no_run
//! # async fn example() -> Result<(), workboard_core::Error> {
//! use workboard_native::Client;
//! use workboard_core::{Credentials, Environment};
//! let client = Client::builder()
//!     .environment(Environment::Us)
//!     .credentials(Credentials::personal("token-from-the-app-tab"))
//!     .build()?;
//! for tool in client.list_tools().await? {
//!     println!("{}", tool.name);
//! }
//! let result = client.call_tool("get_current_user", serde_json::json!({})).await?;
//! println!("{}", result.text());
//! # Ok(()) }
//! ```

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use workboard_client::{Call, ClientConfig};
use workboard_core::mcp::jsonrpc::{CallToolResult, Implementation, Tool};
use workboard_core::oauth::flow::AuthContext;
use workboard_core::{Credentials, Environment, Error, Transport};

pub use workboard_client::ServerInfo;

use crate::host::{HostTransport, NativeHost, Via};
use crate::reactor::Reactor;
use crate::store::CredentialStore;
use crate::ReqwestTransport;

/// Called with the new credentials whenever they change (after a refresh). Persist them if
/// the client has no store.
pub type CredentialsHook = Arc<dyn Fn(&Credentials) + Send + Sync>;

/// Builds a [`Client`].
#[must_use]
pub struct ClientBuilder {
    config: ClientConfig,
    store: Option<Arc<dyn CredentialStore>>,
    transport: Option<HostTransport>,
    reactor: Option<Reactor>,
    hook: Option<CredentialsHook>,
    input: Option<Arc<dyn crate::host::InputHandler>>,
    shared: Option<Arc<dyn workboard_client::store::SharedStore + Send + Sync>>,
}

impl std::fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("config", &self.config)
            .field("store", &self.store.is_some())
            .finish_non_exhaustive()
    }
}

fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

impl ClientBuilder {
    /// The WorkBoard environment (default US): its MCP endpoint and REST API.
    pub fn environment(mut self, environment: Environment) -> Self {
        self.config.environment = environment;
        self
    }

    /// Any MCP server URL (overrides the environment's `/wb/mcp`).
    pub fn server_url(mut self, url: impl Into<String>) -> Self {
        self.config.server_url = Some(url.into());
        self
    }

    /// Credentials to start with (a personal token, or what a sign-in returned).
    pub fn credentials(mut self, credentials: Credentials) -> Self {
        self.config.credentials = Some(credentials);
        self
    }

    /// The OAuth context of MCP OAuth credentials (lets the client refresh them).
    pub fn auth_context(mut self, auth: AuthContext) -> Self {
        self.config.auth = Some(auth);
        self
    }

    /// A store: credentials, OAuth context and session state are loaded from it (unless
    /// given explicitly) and refreshed credentials are saved to it before they are used.
    /// Stored credentials written before bindings existed are bound to this builder's
    /// environment (or their OAuth context's resource):
    /// [`Credentials::or_bound_to_environment`].
    pub fn store(mut self, store: Arc<dyn CredentialStore>) -> Self {
        self.store = Some(store);
        self
    }

    /// A store shared with the other holders of these credentials (processes of this
    /// machine: [`crate::FileStore`]; every machine: a Redis store): used as the [`store`]
    /// and, where it coordinates across processes, through its refresh lease, so each
    /// expiry is refreshed once by one holder and the others use the stored result (a rotating
    /// refresh token is never used twice).
    ///
    /// [`store`]: ClientBuilder::store
    pub fn shared_store(
        mut self,
        store: Arc<dyn workboard_client::store::SharedStore + Send + Sync>,
    ) -> Self {
        self.store = Some(Arc::new(crate::store::Shared(store.clone())));
        self.shared = Some(store);
        self
    }

    /// How long this client holds a [`shared_store`]'s refresh lease at most (default 90 s,
    /// [`workboard_client::DEFAULT_LEASE_TTL_MS`]): above a token request's worst case. When
    /// a holder dies mid-refresh, the others take over once it ends.
    ///
    /// [`shared_store`]: ClientBuilder::shared_store
    pub fn refresh_lease_ttl(mut self, ttl: Duration) -> Self {
        self.config.refresh_lease_ttl_ms = Some(ms(ttl));
        self
    }

    /// Share one HTTP client (connection pool) across many clients.
    pub fn transport(mut self, transport: ReqwestTransport) -> Self {
        self.transport = Some(HostTransport(Via::Reqwest(transport, None)));
        self
    }

    /// Any transport (a test double, a proxy, another HTTP stack). It runs on the client's
    /// reactor thread.
    pub fn custom_transport(mut self, transport: impl Transport + Send + Sync + 'static) -> Self {
        self.transport = Some(HostTransport(Via::Custom(Arc::new(transport))));
        self
    }

    /// Run on this reactor instead of the process-wide one.
    pub fn reactor(mut self, reactor: Reactor) -> Self {
        self.reactor = Some(reactor);
        self
    }

    /// `clientInfo` sent in `initialize`.
    pub fn client_info(mut self, name: impl Into<String>, version: impl Into<String>) -> Self {
        self.config.client_info = Implementation::new(name, version);
        self
    }

    /// Whole-call deadline of [`Client::call_tool`], from the call to its result whatever
    /// the retries, refreshes and stream resumptions in between; then the call fails with
    /// `timeout`. Default 5 minutes
    /// ([`workboard_core::connection::DEFAULT_CALL_TIMEOUT_MS`]); `Duration::MAX`: none.
    /// (The transport's per-request timeout, [`crate::TransportOptions`], still applies to
    /// each HTTP request.)
    pub fn call_timeout(mut self, timeout: Duration) -> Self {
        self.config.call_timeout_ms = Some(ms(timeout));
        self
    }

    /// Whole-call deadline of [`Client::list_tools`] (all pages),
    /// [`workboard_client::Client::connect`] / [`workboard_client::Client::ping`] and
    /// `initialize`; then `timeout`. Default 2 minutes
    /// ([`workboard_core::connection::DEFAULT_REQUEST_TIMEOUT_MS`]); `Duration::MAX`: none.
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.config.request_timeout_ms = Some(ms(timeout));
        self
    }

    /// Most tools [`Client::list_tools`] accepts across all pages; more fail with
    /// `too_many_tools`. Default 10,000
    /// ([`workboard_core::connection::DEFAULT_MAX_TOOLS`]).
    pub fn max_tools(mut self, max_tools: usize) -> Self {
        self.config.max_tools = Some(max_tools);
        self
    }

    /// Most response bytes [`Client::list_tools`] accepts across all pages; more fail with
    /// `too_many_tools`. Default 32 MiB
    /// ([`workboard_core::connection::DEFAULT_MAX_TOOL_LIST_BYTES`]).
    pub fn max_tool_list_bytes(mut self, max_bytes: usize) -> Self {
        self.config.max_tool_list_bytes = Some(max_bytes);
        self
    }

    /// Allows a client secret (WorkBoard's Client Hash, an OAuth client secret) in the
    /// sign-in calls: server code only.
    pub fn allow_client_secret(mut self, allow: bool) -> Self {
        self.config.allow_client_secret = allow;
        self
    }

    /// Answers servers' requests for input (elicitation, sampling, roots); declares the
    /// capabilities it has. Without one, the client declares none and servers ask nothing.
    pub fn input_handler(mut self, handler: Arc<dyn crate::host::InputHandler>) -> Self {
        self.input = Some(handler);
        self
    }

    /// Which MCP era to speak (default [`workboard_client::EraPolicy::Auto`]: modern first,
    /// `initialize` for a legacy server).
    pub fn era(mut self, era: workboard_client::EraPolicy) -> Self {
        self.config.era = era;
        self
    }

    /// The minimum level of the log messages the server should send about each modern
    /// request (`debug`, `info`, `notice`, `warning`, `error`, `critical`, `alert`,
    /// `emergency`; checked by `build`).
    pub fn log_level(mut self, level: impl Into<String>) -> Self {
        self.config.log_level = Some(level.into());
        self
    }

    /// Called after every credentials change (refresh), after the store has saved them.
    pub fn on_credentials_changed(
        mut self,
        hook: impl Fn(&Credentials) + Send + Sync + 'static,
    ) -> Self {
        self.hook = Some(Arc::new(hook));
        self
    }

    /// Validates the configuration and starts the client's loop. Nothing is sent until the
    /// first call.
    pub fn build(self) -> Result<Client, Error> {
        let transport = match self.transport {
            Some(t) => t,
            None => HostTransport(Via::Reqwest(ReqwestTransport::new()?, None)),
        }
        // Only a multi-thread runtime runs spawned work while its owner is busy elsewhere;
        // a current-thread runtime would stall the requests until it is driven again.
        .on_runtime(
            tokio::runtime::Handle::try_current()
                .ok()
                .filter(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread),
        );
        let host = NativeHost {
            transport,
            store: self.store,
            hook: self.hook,
            input: self.input,
            shared: self.shared,
        };
        let (inner, driver) = workboard_client::Client::new(self.config, host)?;
        self.reactor
            .unwrap_or_else(Reactor::global)
            .spawn(move || driver.run())?;
        Ok(Client { inner })
    }
}

/// An async MCP + REST client. Cheap to clone; clones share the session. Dropping the last
/// clone ends its loop (the session is kept: call [`workboard_client::Client::close`] to
/// delete it).
/// Dropping a call's future before it completes cancels the call (`notifications/cancelled`
/// when its request is in flight), so `tokio::time::timeout` and `select!` work as expected.
///
/// Every rule (queueing, refresh, persistence, close, sign-in) is the client layer's
/// ([`workboard_client::Client`]); this type adds the Tokio reactor, reqwest and the stores.
#[derive(Clone, Debug)]
pub struct Client {
    inner: workboard_client::Client<NativeHost>,
}

impl std::ops::Deref for Client {
    type Target = workboard_client::Client<NativeHost>;

    /// The client layer's handle: sign-in ([`workboard_client::Client::start_mcp_sign_in`],
    /// ...), refresh, revoke, cancellation.
    fn deref(&self) -> &Self::Target {
        &self.inner
    }
}

impl Client {
    /// A builder (US environment, no credentials, the process-wide reactor).
    pub fn builder() -> ClientBuilder {
        let mut config = ClientConfig::new(Environment::Us);
        config.client_info = Implementation::new("workboard-connect", env!("CARGO_PKG_VERSION"));
        ClientBuilder {
            config,
            store: None,
            transport: None,
            reactor: None,
            hook: None,
            input: None,
            shared: None,
        }
    }

    /// Every tool of the server (all pages).
    pub fn list_tools(&self) -> Call<Vec<Tool>> {
        self.inner.list_tools()
    }

    /// Calls a tool; `arguments` must be a JSON object (or null for none). A tool-level
    /// failure is `is_error: true` in the result, not an `Err`.
    pub fn call_tool(&self, name: &str, arguments: Value) -> Call<CallToolResult> {
        self.inner.call_tool(name, arguments)
    }

    /// Replaces the credentials (after a new sign-in or step-up; `None` signs out); waiting
    /// calls are sent. With a store, they (and the OAuth context, when given) are saved.
    /// Credentials or a context bound to another server than this client's fail with
    /// `credentials_not_for_server` and change nothing; a store failure fails with
    /// `credential_store_failed` (the credentials are in use anyway).
    pub fn set_credentials(
        &self,
        credentials: Option<Credentials>,
        auth: Option<AuthContext>,
    ) -> Result<(), Error> {
        self.inner.set_credentials(credentials, auth)
    }
}
