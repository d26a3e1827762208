//! [`Client`]: an async WorkBoard / MCP client for Rust services and tools.
//!
//! The client is a handle (`Clone + Send + Sync`) to one core
//! [`Connection`] machine run by the core's long-running loop
//! ([`workboard_core::driver::run`]) on a [`Reactor`] thread. Concurrent calls share the
//! machine: one `initialize`, one refresh for any number of calls waiting on a 401, one
//! session. The client adds only the host side: it persists refreshed credentials to the
//! [`CredentialStore`] (before the refreshed token is used), calls the credentials-changed
//! hook, and keeps the session state so a restarted process skips `initialize`.
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

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tokio::sync::{mpsc, oneshot};
use workboard_core::connection::{
    CallHandle, CallOutput, Connection, ConnectionConfig, ConnectionEvent,
};
use workboard_core::mcp::jsonrpc::{CallToolResult, Implementation, Tool};
use workboard_core::oauth::flow::AuthContext;
use workboard_core::{Clock, Credentials, Environment, Error, RequestId, Transport};

use crate::reactor::Reactor;
use crate::store::{keys, CredentialStore};
use crate::{ReqwestTransport, SystemClock};

/// Called with the new credentials whenever they change (after a refresh). Persist them if
/// the client has no store.
pub type CredentialsHook = Arc<dyn Fn(&Credentials) + Send + Sync>;

/// What the server said about itself in `initialize`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerInfo {
    /// `serverInfo.name`.
    pub name: String,
    /// `serverInfo.version`.
    pub version: String,
    /// The negotiated MCP protocol version.
    pub protocol_version: String,
}

/// Builds a [`Client`].
#[must_use]
pub struct ClientBuilder {
    environment: Environment,
    server_url: Option<String>,
    credentials: Option<Credentials>,
    auth: Option<AuthContext>,
    store: Option<Arc<dyn CredentialStore>>,
    transport: Option<ReqwestTransport>,
    reactor: Option<Reactor>,
    client_info: Implementation,
    hook: Option<CredentialsHook>,
    call_timeout: Option<Duration>,
    request_timeout: Option<Duration>,
    max_tools: Option<usize>,
    max_tool_list_bytes: Option<usize>,
}

impl std::fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("environment", &self.environment)
            .field("server_url", &self.server_url)
            .field("credentials", &self.credentials)
            .field("auth", &self.auth)
            .field("store", &self.store.is_some())
            .field("call_timeout", &self.call_timeout)
            .field("request_timeout", &self.request_timeout)
            .field("max_tools", &self.max_tools)
            .field("max_tool_list_bytes", &self.max_tool_list_bytes)
            .finish_non_exhaustive()
    }
}

impl ClientBuilder {
    /// The WorkBoard environment (default US): its MCP endpoint and REST API.
    pub fn environment(mut self, environment: Environment) -> Self {
        self.environment = environment;
        self
    }

    /// Any MCP server URL (overrides the environment's `/wb/mcp`).
    pub fn server_url(mut self, url: impl Into<String>) -> Self {
        self.server_url = Some(url.into());
        self
    }

    /// Credentials to start with (a personal token, or what a sign-in returned).
    pub fn credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = Some(credentials);
        self
    }

    /// The OAuth context of MCP OAuth credentials (lets the client refresh them).
    pub fn auth_context(mut self, auth: AuthContext) -> Self {
        self.auth = Some(auth);
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

    /// Share one HTTP client (connection pool) across many clients.
    pub fn transport(mut self, transport: ReqwestTransport) -> Self {
        self.transport = Some(transport);
        self
    }

    /// Run on this reactor instead of the process-wide one.
    pub fn reactor(mut self, reactor: Reactor) -> Self {
        self.reactor = Some(reactor);
        self
    }

    /// `clientInfo` sent in `initialize`.
    pub fn client_info(mut self, name: impl Into<String>, version: impl Into<String>) -> Self {
        self.client_info = Implementation::new(name, version);
        self
    }

    /// Whole-call deadline of [`Client::call_tool`], from the call to its result whatever
    /// the retries, refreshes and stream resumptions in between; then the call fails with
    /// `timeout`. Default 5 minutes
    /// ([`workboard_core::connection::DEFAULT_CALL_TIMEOUT_MS`]); `Duration::MAX`: none.
    /// (The transport's per-request timeout, [`crate::TransportOptions`], still applies to
    /// each HTTP request.)
    pub fn call_timeout(mut self, timeout: Duration) -> Self {
        self.call_timeout = Some(timeout);
        self
    }

    /// Whole-call deadline of [`Client::list_tools`] (all pages), [`Client::connect`] /
    /// [`Client::ping`] and `initialize`; then `timeout`. Default 2 minutes
    /// ([`workboard_core::connection::DEFAULT_REQUEST_TIMEOUT_MS`]); `Duration::MAX`: none.
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = Some(timeout);
        self
    }

    /// Most tools [`Client::list_tools`] accepts across all pages; more fail with
    /// `too_many_tools`. Default 10,000
    /// ([`workboard_core::connection::DEFAULT_MAX_TOOLS`]).
    pub fn max_tools(mut self, max_tools: usize) -> Self {
        self.max_tools = Some(max_tools);
        self
    }

    /// Most response bytes [`Client::list_tools`] accepts across all pages; more fail with
    /// `too_many_tools`. Default 32 MiB
    /// ([`workboard_core::connection::DEFAULT_MAX_TOOL_LIST_BYTES`]).
    pub fn max_tool_list_bytes(mut self, max_bytes: usize) -> Self {
        self.max_tool_list_bytes = Some(max_bytes);
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
        let store = self.store;
        let load = |key: &str| -> Result<Option<String>, Error> {
            match &store {
                None => Ok(None),
                Some(s) => s.load(key).map_err(store_error),
            }
        };
        let auth = match self.auth {
            Some(a) => Some(a),
            None => load(keys::AUTH_CONTEXT)?
                .map(|s| AuthContext::from_json(&s))
                .transpose()?,
        };
        let credentials = match self.credentials {
            Some(c) => Some(c),
            None => load(keys::CREDENTIALS)?
                .map(|s| Credentials::from_json(&s))
                .transpose()?
                .map(|c| c.or_bound_to_environment(&self.environment, auth.as_ref())),
        };
        let server_url = self
            .server_url
            .unwrap_or_else(|| self.environment.mcp_url());
        let mut config = ConnectionConfig::new(server_url.clone()).client_info(self.client_info);
        if let Some(t) = self.call_timeout {
            config = config.call_timeout(t);
        }
        if let Some(t) = self.request_timeout {
            config = config.request_timeout(t);
        }
        if let Some(n) = self.max_tools {
            config = config.max_tools(n);
        }
        if let Some(n) = self.max_tool_list_bytes {
            config = config.max_tool_list_bytes(n);
        }
        config.credentials = credentials;
        config.auth = auth.clone();
        config.restored_state = load(keys::SESSION)?;
        let conn = match Connection::new(config.clone()) {
            Ok(c) => c,
            // A saved session that no longer parses is not worth failing for: start fresh.
            Err(_) if config.restored_state.is_some() => {
                config.restored_state = None;
                Connection::new(config)?
            }
            Err(e) => return Err(e),
        };
        let transport = match self.transport {
            Some(t) => t,
            None => ReqwestTransport::new()?,
        };
        let shared = Arc::new(Shared {
            // As the connection bound them (credentials for another server failed above).
            credentials: Mutex::new(conn.credentials().cloned()),
            auth: Mutex::new(auth),
            server: Mutex::new(None),
            session: Mutex::new(conn.save_state()),
            store_error: Mutex::new(None),
        });
        let (tx, rx) = mpsc::unbounded_channel();
        let reactor = self.reactor.unwrap_or_else(Reactor::global);
        let task = LoopTask {
            conn,
            transport: transport.clone(),
            // Only a multi-thread runtime runs spawned work while its owner is busy elsewhere;
            // a current-thread runtime would stall the requests until it is driven again.
            io: tokio::runtime::Handle::try_current()
                .ok()
                .filter(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread),
            store: store.clone(),
            hook: self.hook,
            shared: shared.clone(),
        };
        reactor.spawn(move || task.run(rx))?;
        Ok(Client {
            inner: Arc::new(Inner {
                tx,
                shared,
                store,
                transport,
                environment: self.environment,
                server_url,
            }),
        })
    }
}

/// An async MCP + REST client. Cheap to clone; clones share the session. Dropping the last
/// clone ends its loop (the session is not deleted: call [`Client::close`] for that).
/// Dropping a call's future before it completes cancels the call (`notifications/cancelled`
/// when its request is in flight), so `tokio::time::timeout` and `select!` work as expected.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("server_url", &self.inner.server_url)
            .field("credentials", &self.credentials())
            .finish_non_exhaustive()
    }
}

struct Inner {
    tx: mpsc::UnboundedSender<Command>,
    shared: Arc<Shared>,
    store: Option<Arc<dyn CredentialStore>>,
    transport: ReqwestTransport,
    environment: Environment,
    server_url: String,
}

/// What the loop publishes for the handles.
struct Shared {
    credentials: Mutex<Option<Credentials>>,
    auth: Mutex<Option<AuthContext>>,
    server: Mutex<Option<ServerInfo>>,
    session: Mutex<String>,
    store_error: Mutex<Option<String>>,
}

type Submit = Box<dyn FnOnce(&mut Connection, u64) -> CallHandle + Send>;
type Reply = oneshot::Sender<Result<CallOutput, Error>>;

enum Command {
    Call(Submit, Reply),
    /// A caller stopped waiting: cancel the calls whose caller is gone.
    Sweep,
    SetCredentials(Box<(Option<Credentials>, Option<AuthContext>)>),
}

impl Client {
    /// A builder (US environment, no credentials, the process-wide reactor).
    pub fn builder() -> ClientBuilder {
        ClientBuilder {
            environment: Environment::Us,
            server_url: None,
            credentials: None,
            auth: None,
            store: None,
            transport: None,
            reactor: None,
            client_info: Implementation::new("workboard-connect", env!("CARGO_PKG_VERSION")),
            hook: None,
            call_timeout: None,
            request_timeout: None,
            max_tools: None,
            max_tool_list_bytes: None,
        }
    }

    /// Opens the session (`initialize`, when not restored) and pings; returns the server's
    /// info when this process initialized it.
    pub async fn connect(&self) -> Result<Option<ServerInfo>, Error> {
        self.submit(|c, now| c.ping(now)).await?;
        Ok(self.server_info())
    }

    /// Every tool of the server (all pages).
    pub async fn list_tools(&self) -> Result<Vec<Tool>, Error> {
        match self.submit(|c, now| c.list_tools(now)).await? {
            CallOutput::Tools(t) => Ok(t),
            _ => Err(unexpected("tools/list")),
        }
    }

    /// Calls a tool; `arguments` must be a JSON object (or null for none). A tool-level
    /// failure is `is_error: true` in the result, not an `Err`.
    pub async fn call_tool(&self, name: &str, arguments: Value) -> Result<CallToolResult, Error> {
        let arguments = match arguments {
            Value::Null => Value::Object(Default::default()),
            v @ Value::Object(_) => v,
            _ => {
                return Err(Error::InvalidInput {
                    what: "tool arguments".into(),
                    reason: "must be a JSON object".into(),
                })
            }
        };
        let name = name.to_string();
        match self
            .submit(move |c, now| c.call_tool(&name, arguments, now))
            .await?
        {
            CallOutput::ToolResult(r) => Ok(r),
            _ => Err(unexpected("tools/call")),
        }
    }

    /// MCP `ping`.
    pub async fn ping(&self) -> Result<(), Error> {
        self.submit(|c, now| c.ping(now)).await.map(|_| ())
    }

    /// Ends the session (`DELETE` when the server gave a session id).
    pub async fn close(&self) -> Result<(), Error> {
        self.submit(|c, _| c.close()).await.map(|_| ())
    }

    /// `GET` a WorkBoard REST resource: `goal/123` (under `/wb/apis`) or `/wb/goal/123`.
    /// Returns the envelope's `data`.
    pub async fn rest_get(&self, path: &str) -> Result<Value, Error> {
        let creds = self.credentials().ok_or(Error::NotSignedIn)?;
        let req =
            workboard_core::rest::get_request(&self.inner.environment, &creds, path, RequestId(1))?;
        let url = req.url.clone();
        let resp = self.inner.transport.send(req).await?;
        workboard_core::rest::parse_response(&url, &self.inner.environment, &resp)
    }

    /// Replaces the credentials (after a new sign-in or step-up; `None` signs out); waiting
    /// calls are sent. With a store, they (and the OAuth context, when given) are saved first.
    /// Credentials or a context bound to another server than this client's fail with
    /// `credentials_not_for_server` and change nothing.
    pub fn set_credentials(
        &self,
        credentials: Option<Credentials>,
        auth: Option<AuthContext>,
    ) -> Result<(), Error> {
        let current = self.inner.shared.auth.lock().ok().and_then(|a| a.clone());
        let credentials = workboard_core::credentials::bind_for_server(
            &self.inner.server_url,
            credentials,
            auth.as_ref().or(current.as_ref()),
        )?;
        if let Some(store) = &self.inner.store {
            match &credentials {
                Some(c) => store.save(keys::CREDENTIALS, &c.to_json()),
                None => store.remove(keys::CREDENTIALS),
            }
            .map_err(store_error)?;
            if let Some(a) = &auth {
                store
                    .save(keys::AUTH_CONTEXT, &a.to_json())
                    .map_err(store_error)?;
            }
        }
        if let Ok(mut c) = self.inner.shared.credentials.lock() {
            c.clone_from(&credentials);
        }
        if let (Some(a), Ok(mut slot)) = (&auth, self.inner.shared.auth.lock()) {
            *slot = Some(a.clone());
        }
        self.inner
            .tx
            .send(Command::SetCredentials(Box::new((credentials, auth))))
            .map_err(|_| stopped())
    }

    /// The current credentials (after any refresh).
    pub fn credentials(&self) -> Option<Credentials> {
        self.inner
            .shared
            .credentials
            .lock()
            .ok()
            .and_then(|c| c.clone())
    }

    /// The server's info, once this process initialized the session.
    pub fn server_info(&self) -> Option<ServerInfo> {
        self.inner.shared.server.lock().ok().and_then(|s| s.clone())
    }

    /// The session state (id, version, server info; no credentials) as JSON.
    pub fn session_state(&self) -> String {
        self.inner
            .shared
            .session
            .lock()
            .map(|s| s.clone())
            .unwrap_or_default()
    }

    /// Why the store could not save the last refreshed credentials, if it failed (the
    /// credentials are still used in memory; save [`Client::credentials`] yourself).
    pub fn store_error(&self) -> Option<String> {
        self.inner
            .shared
            .store_error
            .lock()
            .ok()
            .and_then(|s| s.clone())
    }

    /// The MCP endpoint.
    pub fn server_url(&self) -> &str {
        &self.inner.server_url
    }

    async fn submit(
        &self,
        submit: impl FnOnce(&mut Connection, u64) -> CallHandle + Send + 'static,
    ) -> Result<CallOutput, Error> {
        let (tx, rx) = oneshot::channel();
        self.inner
            .tx
            .send(Command::Call(Box::new(submit), tx))
            .map_err(|_| stopped())?;
        // Dropping this future (a timeout, `select!`, an aborted task) cancels the call: the
        // guard wakes the loop, which cancels calls nobody waits for (`notifications/cancelled`).
        let mut guard = CancelOnDrop {
            tx: Some(self.inner.tx.clone()),
        };
        let result = rx.await.map_err(|_| stopped());
        guard.tx = None;
        result?
    }
}

struct CancelOnDrop {
    tx: Option<mpsc::UnboundedSender<Command>>,
}

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        if let Some(tx) = self.tx.take() {
            let _ = tx.send(Command::Sweep);
        }
    }
}

fn stopped() -> Error {
    Error::Protocol {
        reason: "the client's connection loop has stopped".into(),
    }
}

fn unexpected(what: &str) -> Error {
    Error::Protocol {
        reason: format!("unexpected result for {what}"),
    }
}

fn store_error(e: crate::StoreError) -> Error {
    Error::Config {
        reason: e.to_string(),
    }
}

/// Sends on the client's home runtime when it is a multi-thread runtime (where reqwest's
/// connection tasks live), else on the reactor thread itself.
struct OnRuntime {
    inner: ReqwestTransport,
    io: Option<tokio::runtime::Handle>,
}

impl Transport for OnRuntime {
    async fn send(
        &self,
        request: workboard_core::HttpRequest,
    ) -> Result<workboard_core::HttpResponse, workboard_core::TransportError> {
        let Some(io) = &self.io else {
            return self.inner.send(request).await;
        };
        let inner = self.inner.clone();
        let retry = request.clone();
        match io.spawn(async move { inner.send(request).await }).await {
            Ok(r) => r,
            // The home runtime has shut down, so the request never ran there: send it from
            // the reactor thread instead.
            Err(_) => self.inner.send(retry).await,
        }
    }
}

/// The loop's state, moved onto the reactor thread.
struct LoopTask {
    conn: Connection,
    transport: ReqwestTransport,
    /// The runtime the client was built on: requests run there, beside the HTTP client's
    /// connection tasks, instead of hopping to them from the reactor thread.
    io: Option<tokio::runtime::Handle>,
    store: Option<Arc<dyn CredentialStore>>,
    hook: Option<CredentialsHook>,
    shared: Arc<Shared>,
}

impl LoopTask {
    async fn run(self, rx: mpsc::UnboundedReceiver<Command>) {
        let LoopTask {
            mut conn,
            transport,
            io,
            store,
            hook,
            shared,
        } = self;
        let clock = SystemClock;
        let waiters: std::cell::RefCell<HashMap<CallHandle, Reply>> = Default::default();
        let inbox =
            futures_util::stream::unfold(
                rx,
                |mut rx| async move { rx.recv().await.map(|c| (c, rx)) },
            );
        let inbox = futures_util::StreamExt::map(inbox, |cmd: Command| {
            let waiters = &waiters;
            move |conn: &mut Connection| match cmd {
                Command::Call(submit, reply) => {
                    let handle = submit(conn, clock.now_ms());
                    waiters.borrow_mut().insert(handle, reply);
                }
                Command::Sweep => {
                    let mut w = waiters.borrow_mut();
                    let gone: Vec<CallHandle> = w
                        .iter()
                        .filter(|(_, r)| r.is_closed())
                        .map(|(h, _)| *h)
                        .collect();
                    for h in gone {
                        w.remove(&h);
                        // Finished meanwhile: nothing to cancel.
                        let _ = conn.cancel(h);
                        let _ = conn.poll_result(h);
                    }
                }
                Command::SetCredentials(b) => {
                    let (c, a) = *b;
                    // Checked by `Client::set_credentials` with the same rule; a refusal
                    // here changes nothing.
                    let _ = conn.set_credentials(c, a);
                }
            }
        });
        let transport = OnRuntime {
            inner: transport,
            io,
        };
        workboard_core::driver::run(&mut conn, &transport, &clock, inbox, |conn| {
            while let Some(event) = conn.poll_event() {
                match event {
                    ConnectionEvent::CredentialsChanged(c) => {
                        if let Some(s) = &store {
                            // The credentials stay usable in memory; the failure is kept
                            // for `Client::store_error`.
                            let failure = s.save(keys::CREDENTIALS, &c.to_json()).err();
                            if let Ok(mut slot) = shared.store_error.lock() {
                                *slot = failure.map(|e| e.to_string());
                            }
                        }
                        if let Ok(mut slot) = shared.credentials.lock() {
                            *slot = Some(c.clone());
                        }
                        if let Some(h) = &hook {
                            h(&c);
                        }
                    }
                    ConnectionEvent::Initialized {
                        protocol_version,
                        server_info,
                    } => {
                        if let Ok(mut s) = shared.server.lock() {
                            *s = Some(ServerInfo {
                                name: server_info.name,
                                version: server_info.version,
                                protocol_version,
                            });
                        }
                        let state = conn.save_state();
                        if let Some(s) = &store {
                            let _ = s.save(keys::SESSION, &state);
                        }
                        if let Ok(mut s) = shared.session.lock() {
                            *s = state;
                        }
                    }
                    _ => {}
                }
            }
            let mut w = waiters.borrow_mut();
            let handles: Vec<CallHandle> = w.keys().copied().collect();
            for h in handles {
                if let Some(result) = conn.poll_result(h) {
                    if let Some(reply) = w.remove(&h) {
                        let _ = reply.send(result);
                    }
                }
            }
        })
        .await;
    }
}
