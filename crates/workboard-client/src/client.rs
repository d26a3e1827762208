//! [`Client`]: the handle apps (through an adapter) call; [`Driver`]: its loop.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};

use futures_channel::{mpsc, oneshot};
use serde_json::Value;
pub use workboard_core::connection::EraPolicy;
use workboard_core::connection::{CallOutput, Connection, ConnectionConfig};
use workboard_core::connection::{Discovery, SubscriptionFilter};
use workboard_core::mcp::jsonrpc::{CallToolResult, Implementation, Tool};
use workboard_core::mcp::surface::{
    Completion, CompletionRef, GetPromptResult, Prompt, Resource, ResourceContents,
    ResourceTemplate,
};
use workboard_core::oauth::flow::{AuthContext, McpAuthFlow};
use workboard_core::oauth::pending::PendingAuthorization;
use workboard_core::{Clock, Credentials, Environment, Error, RequestId, Transport};

use crate::host::{keys, Host};

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

/// How to make a [`Client`].
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ClientConfig {
    /// The WorkBoard environment: its MCP endpoint (unless `server_url`), REST API and the
    /// token endpoint a v1 Client Hash may go to.
    pub environment: Environment,
    /// Any MCP server URL (overrides the environment's `/wb/mcp`).
    pub server_url: Option<String>,
    /// Credentials to start with; `None`: loaded from the host's store.
    pub credentials: Option<Credentials>,
    /// The OAuth context of MCP OAuth credentials; `None`: loaded from the store.
    pub auth: Option<AuthContext>,
    /// Sent as `clientInfo`.
    pub client_info: Implementation,
    /// Whole-call deadline of `call_tool` (ms; default 5 minutes; `u64::MAX`: none).
    pub call_timeout_ms: Option<u64>,
    /// Whole-call deadline of the other calls (ms; default 2 minutes).
    pub request_timeout_ms: Option<u64>,
    /// Most tools `list_tools` accepts (default 10,000).
    pub max_tools: Option<usize>,
    /// Most response bytes `list_tools` accepts (default 32 MiB).
    pub max_tool_list_bytes: Option<usize>,
    /// Allows a client secret (v1 Client Hash, OAuth client secret) in this process: server
    /// code only. Otherwise passing one fails with `secret_in_browser`.
    pub allow_client_secret: bool,
    /// Which MCP era to speak (default: both, modern first).
    pub era: EraPolicy,
    /// The minimum level of the log messages the server should send about each modern
    /// request (`debug` … `emergency`); they arrive as server notifications.
    pub log_level: Option<String>,
    /// How long a shared store's refresh lease is granted to this client (ms; default 90 s,
    /// [`crate::DEFAULT_LEASE_TTL_MS`]): above a token request's worst case. A holder
    /// that dies holding the lease is replaced when it ends; a slower refresh is fenced out
    /// of the store. Only used with [`crate::Host::shared_store`].
    pub refresh_lease_ttl_ms: Option<u64>,
}

impl ClientConfig {
    /// A configuration for WorkBoard `environment`'s MCP server.
    pub fn new(environment: Environment) -> ClientConfig {
        ClientConfig {
            environment,
            server_url: None,
            credentials: None,
            auth: None,
            client_info: Implementation::new("workboard-connect", env!("CARGO_PKG_VERSION")),
            call_timeout_ms: None,
            request_timeout_ms: None,
            max_tools: None,
            max_tool_list_bytes: None,
            allow_client_secret: false,
            era: EraPolicy::Auto,
            log_level: None,
            refresh_lease_ttl_ms: None,
        }
    }

    /// A configuration for any MCP server (REST calls still go to the US environment).
    pub fn for_server(url: impl Into<String>) -> ClientConfig {
        ClientConfig::new(Environment::Us).server_url(url)
    }

    /// The MCP server URL.
    pub fn server_url(mut self, url: impl Into<String>) -> Self {
        self.server_url = Some(url.into());
        self
    }

    /// Credentials to start with.
    pub fn credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = Some(credentials);
        self
    }

    /// The OAuth context of the credentials.
    pub fn auth(mut self, auth: AuthContext) -> Self {
        self.auth = Some(auth);
        self
    }

    /// `clientInfo`.
    pub fn client_info(mut self, info: Implementation) -> Self {
        self.client_info = info;
        self
    }

    /// See [`ClientConfig::allow_client_secret`].
    pub fn allow_client_secret(mut self, allow: bool) -> Self {
        self.allow_client_secret = allow;
        self
    }
}

/// The state the handles and the loop share (behind one mutex; never held across an await).
pub(crate) struct State {
    pub(crate) credentials: Option<Credentials>,
    pub(crate) auth: Option<AuthContext>,
    pub(crate) server: Option<ServerInfo>,
    pub(crate) session: String,
    pub(crate) store_error: Option<Error>,
    /// Credentials the app set that the loop has not applied yet: a refresh finishing
    /// meanwhile must not overwrite them.
    pub(crate) pending_sets: u64,
    /// `close` was called: no more calls.
    pub(crate) closed: bool,
    pub(crate) mcp_flow: Option<McpAuthFlow>,
    pub(crate) v1_pending: Option<PendingAuthorization>,
    /// `state` values of sign-ins this client completed (single use across resumes).
    pub(crate) completed: Vec<String>,
    /// Where the server's notifications go ([`Client::notifications`]).
    pub(crate) listeners: Vec<mpsc::UnboundedSender<Notification>>,
    /// With a shared store: the version of the stored credentials this client holds (a
    /// refresh is led or followed from it, [`crate::store::lead_or_follow`]).
    pub(crate) credentials_version: crate::store::Version,
}

pub(crate) struct Shared<H> {
    pub(crate) host: H,
    pub(crate) environment: Environment,
    pub(crate) server_url: String,
    pub(crate) allow_secret: bool,
    /// [`ClientConfig::refresh_lease_ttl_ms`], bounded.
    pub(crate) lease_ttl_ms: u64,
    pub(crate) state: Mutex<State>,
    next_token: AtomicU64,
    next_request: AtomicU64,
}

impl<H: Host> Shared<H> {
    pub(crate) fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn now(&self) -> u64 {
        self.host.clock().now_ms()
    }

    pub(crate) fn request_id(&self) -> RequestId {
        RequestId(self.next_request.fetch_add(1, Ordering::Relaxed) + 1)
    }

    /// The one store policy, for credentials saved when they change: the new credentials are
    /// used in memory whatever the store says (never lost), the listener hears of them, and
    /// a failed save is kept for [`Client::store_error`] and returned.
    pub(crate) fn persist_credentials(
        &self,
        credentials: Option<&Credentials>,
    ) -> Result<(), Error> {
        let json = credentials.map(Credentials::to_json);
        // Through a shared store, the write moves the version this client knows.
        let (saved, version) = match self.host.shared_store() {
            Some(s) => match crate::store::put(s, keys::CREDENTIALS, json.as_deref()) {
                Ok(v) => (Ok(()), Some(v)),
                Err(e) => (Err(e.to_string()), None),
            },
            None => (
                match &json {
                    Some(j) => self.host.save(keys::CREDENTIALS, j),
                    None => self.host.remove(keys::CREDENTIALS),
                },
                None,
            ),
        };
        let saved = saved.map_err(storage);
        {
            let mut st = self.state();
            st.credentials = credentials.cloned();
            st.store_error = saved.as_ref().err().cloned();
            if let Some(v) = version {
                st.credentials_version = v;
            }
        }
        self.host.credentials_changed(credentials);
        saved
    }

    pub(crate) fn check_secret(&self, secret: Option<&str>) -> Result<(), Error> {
        match secret {
            Some(s) if !s.trim().is_empty() && !self.allow_secret => Err(Error::SecretInBrowser),
            _ => Ok(()),
        }
    }
}

/// A store failure as the client layer's error.
pub(crate) fn storage(reason: String) -> Error {
    Error::Storage { reason }
}

/// An operation for the loop.
pub(crate) enum Op {
    ListTools,
    CallTool(String, Value),
    Ping,
    Close,
    Refresh,
    Discover,
    ListResources,
    ListResourceTemplates,
    ReadResource(String),
    ListPrompts,
    GetPrompt(String, Value),
    Complete(CompletionRef, String, String, Value),
    Subscribe(SubscriptionFilter, mpsc::UnboundedSender<Notification>),
    Request(String, Value),
    RequestWithClientInput(String, Value),
}

/// A server notification of a subscription.
#[derive(Clone, Debug, PartialEq)]
pub struct Notification {
    /// Its method (`notifications/tools/list_changed`, `notifications/resources/updated`,
    /// `notifications/subscriptions/acknowledged`, ...).
    pub method: String,
    /// Its params as sent.
    pub params: Value,
}

/// A subscription ([`Client::subscribe`]): its notifications as they arrive, and its end.
#[derive(Debug)]
pub struct Subscription {
    /// The notifications, in order; the stream ends with the subscription.
    pub notifications: mpsc::UnboundedReceiver<Notification>,
    /// Completes when the server ends the subscription (`true`: it closed it with a result,
    /// `false`: the stream dropped); dropping it (or its `Canceller`) ends the subscription.
    pub end: Call<bool>,
}

pub(crate) type Reply = oneshot::Sender<Result<CallOutput, Error>>;

/// A command for the loop.
pub(crate) enum Command {
    Call {
        token: u64,
        op: Op,
        reply: Reply,
    },
    /// Cancel the call with this token (its caller stopped waiting, or asked to cancel).
    Cancel(u64),
    /// Cancel every call submitted before this command.
    CancelAll,
    /// The app set credentials (already checked, saved and published by the handle).
    SetCredentials(Box<(Option<Credentials>, Option<AuthContext>)>),
}

/// A WorkBoard / MCP client: cheap to clone, clones share one connection (one
/// `initialize`, one refresh for any number of waiting calls, one session).
///
/// Dropping every clone ends the [`Driver`] once nothing is in flight (the session is kept
/// for a restart: [`Client::close`] deletes it and stops the client for good).
pub struct Client<H: Host> {
    pub(crate) shared: Arc<Shared<H>>,
    pub(crate) tx: mpsc::UnboundedSender<Command>,
}

impl<H: Host> Clone for Client<H> {
    fn clone(&self) -> Self {
        Client {
            shared: self.shared.clone(),
            tx: self.tx.clone(),
        }
    }
}

impl<H: Host> std::fmt::Debug for Client<H> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("server_url", &self.shared.server_url)
            .field("credentials", &self.shared.state().credentials)
            .finish_non_exhaustive()
    }
}

/// The client's loop: spawn [`Driver::run`] on the host's executor (a Tokio `LocalSet`, a
/// `wasm_bindgen_futures::spawn_local`, the UniFFI library's runtime). It runs the core's
/// [`workboard_core::driver::run`] over the connection and ends when every [`Client`] clone
/// is gone and nothing is in flight.
#[must_use = "the client does nothing until its driver runs"]
pub struct Driver<H: Host> {
    pub(crate) shared: Arc<Shared<H>>,
    pub(crate) rx: mpsc::UnboundedReceiver<Command>,
    pub(crate) conn: Connection,
}

impl<H: Host> std::fmt::Debug for Driver<H> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Driver")
    }
}

impl<H: Host> Client<H> {
    /// A client and its driver. Credentials, OAuth context and session state not given in
    /// `config` are loaded from the host's store (stored credentials written before bindings
    /// existed are bound to the environment: [`Credentials::or_bound_to_environment`]).
    /// Nothing is sent until the first call.
    ///
    /// Fails with `invalid_url`/`insecure_url` for a bad server URL,
    /// `credentials_not_for_server` for credentials of another server,
    /// `credential_store_failed` when the store cannot be read, `invalid_input` for stored
    /// JSON that does not parse.
    pub fn new(config: ClientConfig, host: H) -> Result<(Client<H>, Driver<H>), Error> {
        let load = |key: &str| host.load(key).map_err(storage);
        // Credentials shared with other processes or machines: refreshes through the lease.
        // The version is read before the value: a write in between then shows as a newer
        // value under an older version (the next lead finds the store moved and uses it),
        // never as an older value under a newer one (a second refresh or sign-in).
        let shared_store = host.shared_store();
        let credentials_version = match shared_store {
            Some(s) => {
                s.get(keys::CREDENTIALS)
                    .map_err(|e| storage(e.to_string()))?
                    .version
            }
            None => crate::store::Version::default(),
        };
        let auth = match config.auth {
            Some(a) => Some(a),
            None => load(keys::AUTH_CONTEXT)?
                .map(|s| AuthContext::from_json(&s))
                .transpose()?,
        };
        let credentials = match config.credentials {
            Some(c) => Some(c),
            None => load(keys::CREDENTIALS)?
                .map(|s| Credentials::from_json(&s))
                .transpose()?
                .map(|c| c.or_bound_to_environment(&config.environment, auth.as_ref())),
        };
        let server_url = config
            .server_url
            .clone()
            .filter(|u| !u.trim().is_empty())
            .unwrap_or_else(|| config.environment.mcp_url());
        let mut cc = ConnectionConfig::new(server_url).client_info(config.client_info);
        cc.capabilities = host.input_capabilities();
        cc.coordinate_refresh =
            shared_store.is_some_and(|s| s.coordination() != crate::store::Coordination::Process);
        if let Some(ms) = config.call_timeout_ms {
            cc.call_timeout_ms = ms;
        }
        if let Some(ms) = config.request_timeout_ms {
            cc.request_timeout_ms = ms;
        }
        if let Some(n) = config.max_tools {
            cc.max_tools = n;
        }
        if let Some(n) = config.max_tool_list_bytes {
            cc.max_tool_list_bytes = n;
        }
        cc.era = config.era;
        cc.log_level = config.log_level.clone();
        cc.credentials = credentials;
        cc.auth = auth.clone();
        cc.restored_state = load(keys::SESSION)?;
        let conn = match Connection::new(cc.clone()) {
            Ok(c) => c,
            // A saved session that no longer parses is not worth failing for: start fresh.
            Err(_) if cc.restored_state.is_some() => {
                cc.restored_state = None;
                Connection::new(cc)?
            }
            Err(e) => return Err(e),
        };
        // A restored session: what the server said when it was initialized.
        let session = conn.session();
        let server = match (&session.server_info, &session.protocol_version) {
            (Some(info), Some(version)) => Some(ServerInfo {
                name: info.name.clone(),
                version: info.version.clone(),
                protocol_version: version.clone(),
            }),
            _ => None,
        };
        let state = State {
            // As the connection bound them.
            credentials: conn.credentials().cloned(),
            auth,
            server,
            session: conn.save_state(),
            store_error: None,
            pending_sets: 0,
            closed: false,
            mcp_flow: None,
            v1_pending: None,
            completed: Vec::new(),
            listeners: Vec::new(),
            credentials_version,
        };
        let shared = Arc::new(Shared {
            host,
            environment: config.environment,
            server_url: conn.server_url().to_string(),
            allow_secret: config.allow_client_secret,
            lease_ttl_ms: config
                .refresh_lease_ttl_ms
                .unwrap_or(crate::run::DEFAULT_LEASE_TTL_MS)
                .clamp(1, 24 * 3_600_000),
            state: Mutex::new(state),
            next_token: AtomicU64::new(0),
            next_request: AtomicU64::new(0),
        });
        let (tx, rx) = mpsc::unbounded();
        Ok((
            Client {
                shared: shared.clone(),
                tx,
            },
            Driver { shared, rx, conn },
        ))
    }

    /// Every tool of the server (all pages).
    pub fn list_tools(&self) -> Call<Vec<Tool>> {
        self.submit(Op::ListTools, |out| match out {
            CallOutput::Tools(t) => Ok(t),
            _ => Err(unexpected("tools/list")),
        })
    }

    /// Calls a tool. `arguments` must be a JSON object (`null`: none); anything else fails
    /// with `invalid_input` before anything is sent. A tool-level failure is
    /// `is_error: true` in the result, not an `Err`.
    pub fn call_tool(&self, name: &str, arguments: Value) -> Call<CallToolResult> {
        let arguments = match check_tool_arguments(arguments) {
            Ok(a) => a,
            Err(e) => return Call::failed(e),
        };
        self.submit(Op::CallTool(name.to_string(), arguments), |out| match out {
            CallOutput::ToolResult(r) => Ok(r),
            _ => Err(unexpected("tools/call")),
        })
    }

    /// Checks the server answers (opening the session first if needed): `ping` on a legacy
    /// server, `server/discover` on a modern one (which has no `ping`).
    pub fn ping(&self) -> Call<()> {
        self.submit(Op::Ping, |_| Ok(()))
    }

    /// What the server speaks: its era, versions, info and capabilities (`server/discover`
    /// on a modern server; what `initialize` said on a legacy one).
    pub fn discover(&self) -> Call<Discovery> {
        self.submit(Op::Discover, |out| match out {
            CallOutput::Discovered(d) => Ok(d),
            _ => Err(unexpected("server/discover")),
        })
    }

    /// Every notification the server sends from now on, as it arrives: a call's progress
    /// and log messages (`notifications/progress`, `notifications/message`, at
    /// [`ClientConfig::log_level`]), and those outside any call (a legacy server's
    /// `notifications/tools/list_changed`...). A subscription's own notifications go to its
    /// [`Subscription`] instead. The stream ends with the client; dropping it unregisters.
    pub fn notifications(&self) -> mpsc::UnboundedReceiver<Notification> {
        let (tx, rx) = mpsc::unbounded();
        self.shared.state().listeners.push(tx);
        rx
    }

    /// Subscribes to change notifications (a modern server's `subscriptions/listen`, or
    /// `resources/subscribe` and the GET stream of a legacy one): see
    /// [`workboard_core::connection::Connection::subscribe`].
    pub fn subscribe(&self, filter: SubscriptionFilter) -> Subscription {
        let (tx, notifications) = mpsc::unbounded();
        let end = self.submit(Op::Subscribe(filter, tx), |out| match out {
            CallOutput::SubscriptionEnded { graceful } => Ok(graceful),
            _ => Err(unexpected("subscriptions/listen")),
        });
        Subscription { notifications, end }
    }

    /// Lists every resource (all pages).
    pub fn list_resources(&self) -> Call<Vec<Resource>> {
        self.submit(Op::ListResources, |out| match out {
            CallOutput::Resources(r) => Ok(r),
            _ => Err(unexpected("resources/list")),
        })
    }

    /// Lists every resource template (all pages).
    pub fn list_resource_templates(&self) -> Call<Vec<ResourceTemplate>> {
        self.submit(Op::ListResourceTemplates, |out| match out {
            CallOutput::ResourceTemplates(r) => Ok(r),
            _ => Err(unexpected("resources/templates/list")),
        })
    }

    /// Sends a request this SDK does not model (`method`, `params` an object or `null`) and
    /// returns the server's result as sent: for proxies that forward what they need not
    /// understand (the core's `Connection::request`: the era, credentials, input rounds
    /// through the host's handlers and, for tool calls, the `x-mcp-header` arguments, as for
    /// the modelled calls; never replayed).
    pub fn request(&self, method: &str, params: Value) -> Call<Value> {
        self.raw(Op::Request(method.to_string(), params))
    }

    /// [`Client::request`] for a proxy whose own client runs the input rounds (the core's
    /// `Connection::request_with_client_input`): its `inputResponses` and `requestState` go
    /// as given, and an `input_required` result is returned for that client to answer.
    pub fn request_with_client_input(&self, method: &str, params: Value) -> Call<Value> {
        self.raw(Op::RequestWithClientInput(method.to_string(), params))
    }

    /// A request the SDK does not model: the server's result as sent.
    fn raw(&self, op: Op) -> Call<Value> {
        self.submit(op, |out| match out {
            CallOutput::Raw(v) => Ok(v),
            _ => Err(unexpected("request")),
        })
    }

    /// Reads a resource.
    pub fn read_resource(&self, uri: &str) -> Call<Vec<ResourceContents>> {
        self.submit(Op::ReadResource(uri.to_string()), |out| match out {
            CallOutput::Contents(c) => Ok(c),
            _ => Err(unexpected("resources/read")),
        })
    }

    /// Lists every prompt (all pages).
    pub fn list_prompts(&self) -> Call<Vec<Prompt>> {
        self.submit(Op::ListPrompts, |out| match out {
            CallOutput::Prompts(p) => Ok(p),
            _ => Err(unexpected("prompts/list")),
        })
    }

    /// Gets a prompt; `arguments` is an object of strings (or `null`): anything else fails
    /// with `invalid_input` before anything is sent.
    pub fn get_prompt(&self, name: &str, arguments: Value) -> Call<GetPromptResult> {
        self.submit(
            Op::GetPrompt(name.to_string(), arguments),
            |out| match out {
                CallOutput::Prompt(p) => Ok(p),
                _ => Err(unexpected("prompts/get")),
            },
        )
    }

    /// Completion suggestions for `argument` of a prompt or resource template, given what
    /// was typed (`value`) and the other arguments (`context`: an object of strings, or
    /// `null`).
    pub fn complete(
        &self,
        reference: CompletionRef,
        argument: &str,
        value: &str,
        context: Value,
    ) -> Call<Completion> {
        let op = Op::Complete(reference, argument.to_string(), value.to_string(), context);
        self.submit(op, |out| match out {
            CallOutput::Completion(c) => Ok(c),
            _ => Err(unexpected("completion/complete")),
        })
    }

    /// Opens the session (`initialize`, unless restored) and pings; returns the server's
    /// info (from the saved session when it was restored; `None` only for a saved session
    /// without it). Like every call, it is submitted when this returns.
    pub fn connect(&self) -> impl Future<Output = Result<Option<ServerInfo>, Error>> + use<H> {
        let ping = self.ping();
        let shared = self.shared.clone();
        async move {
            ping.await?;
            Ok(shared.state().server.clone())
        }
    }

    /// Refreshes the OAuth credentials now, through the connection's single flight (a
    /// refresh already in flight for a 401 is joined, never doubled); returns the new
    /// credentials, saved and announced like every refresh. Submitted when this returns.
    pub fn refresh(&self) -> impl Future<Output = Result<Credentials, Error>> + use<H> {
        let call = self.submit(Op::Refresh, |_| Ok(()));
        let shared = self.shared.clone();
        async move {
            call.await?;
            shared.state().credentials.clone().ok_or(Error::NotSignedIn)
        }
    }

    /// Ends the session (`DELETE` when the server gave a session id) and stops the client:
    /// calls in progress fail with `cancelled`, later calls with `client_stopped`. Closing
    /// again does nothing. Submitted when this returns.
    pub fn close(&self) -> impl Future<Output = Result<(), Error>> + use<H> {
        let submitted = {
            let mut st = self.shared.state();
            if st.closed {
                None
            } else {
                st.closed = true;
                let token = self.shared.next_token.fetch_add(1, Ordering::Relaxed);
                let (reply, rx) = oneshot::channel();
                Some(
                    self.tx
                        .unbounded_send(Command::Call {
                            token,
                            op: Op::Close,
                            reply,
                        })
                        .map(|()| rx),
                )
            }
        };
        async move {
            match submitted {
                None => Ok(()),
                Some(Err(_)) => Err(Error::ClientStopped),
                Some(Ok(rx)) => rx.await.unwrap_or(Err(Error::ClientStopped)).map(|_| ()),
            }
        }
    }

    /// Cancels every call in progress now: each fails with `cancelled` at once, and the
    /// server is sent `notifications/cancelled` for a request it received. Later calls are
    /// not affected. (Dropping a call's future, or [`Canceller::cancel`], cancels one.)
    pub fn cancel_all(&self) {
        let _ = self.tx.unbounded_send(Command::CancelAll);
    }

    /// `GET` a WorkBoard REST resource: `goal/123` (under `/wb/apis`) or `/wb/goal/123`.
    /// Returns the envelope's `data`.
    pub async fn rest_get(&self, path: &str) -> Result<Value, Error> {
        let creds = self.credentials().ok_or(Error::NotSignedIn)?;
        let env = &self.shared.environment;
        let req = workboard_core::rest::get_request(env, &creds, path, self.shared.request_id())?;
        let url = req.url.clone();
        let resp = self.shared.host.transport().send(req).await?;
        workboard_core::rest::parse_response(&url, env, &resp)
    }

    /// Replaces the credentials (a personal token, a sign-in done elsewhere; `None` signs
    /// out) and, when given, the OAuth context. Waiting calls are sent with them.
    ///
    /// Credentials or a context bound to another server fail with
    /// `credentials_not_for_server` and change nothing. A store that fails to save them
    /// fails this call with `credential_store_failed`; the credentials are in use anyway
    /// (save them yourself). Allowed after [`Client::close`] too (signing out of a closed
    /// client clears the store).
    pub fn set_credentials(
        &self,
        credentials: Option<Credentials>,
        auth: Option<AuthContext>,
    ) -> Result<(), Error> {
        self.apply_credentials(credentials, auth, None)
    }

    /// [`Client::set_credentials`]; with `stored`, the credentials and context are already
    /// in the shared store at that version (another holder's, or this client's fenced
    /// write): used without writing them again.
    pub(crate) fn apply_credentials(
        &self,
        credentials: Option<Credentials>,
        auth: Option<AuthContext>,
        stored: Option<crate::store::Version>,
    ) -> Result<(), Error> {
        let current = self.shared.state().auth.clone();
        let credentials = workboard_core::credentials::bind_for_server(
            &self.shared.server_url,
            credentials,
            auth.as_ref().or(current.as_ref()),
        )?;
        let auth_saved = match (&auth, stored) {
            (Some(a), None) => self
                .shared
                .host
                .save(keys::AUTH_CONTEXT, &a.to_json())
                .map_err(storage),
            _ => Ok(()),
        };
        {
            let mut st = self.shared.state();
            if let Some(a) = &auth {
                st.auth = Some(a.clone());
            }
            st.pending_sets += 1;
        }
        let saved = match stored {
            None => self.shared.persist_credentials(credentials.as_ref()),
            Some(version) => {
                let mut st = self.shared.state();
                st.credentials = credentials.clone();
                st.credentials_version = version;
                st.store_error = None;
                drop(st);
                self.shared.host.credentials_changed(credentials.as_ref());
                Ok(())
            }
        };
        let sent = self
            .tx
            .unbounded_send(Command::SetCredentials(Box::new((credentials, auth))));
        if sent.is_err() {
            self.shared.state().pending_sets -= 1;
        }
        auth_saved.and(saved)
    }

    /// The current credentials (after any refresh). Contains secrets.
    pub fn credentials(&self) -> Option<Credentials> {
        self.shared.state().credentials.clone()
    }

    /// The OAuth context of the MCP sign-in (persist it beside the credentials; it may hold
    /// a client secret).
    pub fn auth_context(&self) -> Option<AuthContext> {
        self.shared.state().auth.clone()
    }

    /// The server's info, once the session was initialized (by this client or, restored,
    /// by an earlier one).
    pub fn server_info(&self) -> Option<ServerInfo> {
        self.shared.state().server.clone()
    }

    /// The session state (id, version, server info; no credentials) as JSON.
    pub fn session_state(&self) -> String {
        self.shared.state().session.clone()
    }

    /// The last store failure, if the last save failed (the credentials are still used in
    /// memory: save [`Client::credentials`] yourself).
    pub fn store_error(&self) -> Option<Error> {
        self.shared.state().store_error.clone()
    }

    /// The MCP endpoint (canonical form).
    pub fn server_url(&self) -> &str {
        &self.shared.server_url
    }

    /// The WorkBoard environment.
    pub fn environment(&self) -> &Environment {
        &self.shared.environment
    }

    /// Whether [`Client::close`] was called.
    pub fn is_closed(&self) -> bool {
        self.shared.state().closed
    }

    /// The host.
    pub fn host(&self) -> &H {
        &self.shared.host
    }

    fn submit<T>(&self, op: Op, map: fn(CallOutput) -> Result<T, Error>) -> Call<T> {
        if self.shared.state().closed {
            return Call::failed(Error::ClientStopped);
        }
        let token = self.shared.next_token.fetch_add(1, Ordering::Relaxed);
        let (reply, rx) = oneshot::channel();
        if self
            .tx
            .unbounded_send(Command::Call { token, op, reply })
            .is_err()
        {
            return Call::failed(Error::ClientStopped);
        }
        Call {
            inner: CallInner::Waiting(rx),
            canceller: Some(Canceller {
                tx: self.tx.clone(),
                token,
            }),
            map,
        }
    }
}

/// Tool arguments as sent: an object (`null` is `{}`); anything else is `invalid_input`.
pub(crate) fn check_tool_arguments(arguments: Value) -> Result<Value, Error> {
    match arguments {
        Value::Null => Ok(Value::Object(Default::default())),
        v @ Value::Object(_) => Ok(v),
        _ => Err(Error::InvalidInput {
            what: "tool arguments".into(),
            reason: "must be a JSON object".into(),
        }),
    }
}

fn unexpected(what: &str) -> Error {
    Error::Protocol {
        reason: format!("unexpected result for {what}"),
    }
}

/// Cancels one call (cheap to clone; `Send` and `Sync`): its future resolves to `cancelled`
/// and the server is told. Cancelling a finished call does nothing.
#[derive(Clone, Debug)]
pub struct Canceller {
    tx: mpsc::UnboundedSender<Command>,
    token: u64,
}

impl Canceller {
    /// Cancels the call.
    pub fn cancel(&self) {
        let _ = self.tx.unbounded_send(Command::Cancel(self.token));
    }
}

enum CallInner {
    Waiting(oneshot::Receiver<Result<CallOutput, Error>>),
    Failed(Option<Error>),
}

/// A call in progress: a future of its result. Dropping it before it completes cancels the
/// call (`notifications/cancelled` when its request is in flight), so timeouts and `select!`
/// work as expected; [`Call::canceller`] cancels it from elsewhere (an `AbortSignal`).
#[must_use = "a call is cancelled when dropped"]
pub struct Call<T> {
    inner: CallInner,
    canceller: Option<Canceller>,
    map: fn(CallOutput) -> Result<T, Error>,
}

impl<T> std::fmt::Debug for Call<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Call")
    }
}

impl<T> Call<T> {
    fn failed(e: Error) -> Call<T> {
        Call {
            inner: CallInner::Failed(Some(e)),
            canceller: None,
            map: |_| Err(Error::Cancelled),
        }
    }

    /// A handle that cancels this call (`None` for a call that failed before it was sent).
    pub fn canceller(&self) -> Option<Canceller> {
        self.canceller.clone()
    }
}

impl<T> Unpin for Call<T> {}

impl<T> Future for Call<T> {
    type Output = Result<T, Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let result = match &mut self.inner {
            CallInner::Failed(e) => Err(e.take().unwrap_or(Error::Cancelled)),
            CallInner::Waiting(rx) => match Pin::new(rx).poll(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Ok(r)) => r.and_then(self.map),
                // The loop dropped the reply: it has stopped.
                Poll::Ready(Err(_)) => Err(Error::ClientStopped),
            },
        };
        // Completed: nothing to cancel on drop.
        self.canceller = None;
        Poll::Ready(result)
    }
}

impl<T> Drop for Call<T> {
    fn drop(&mut self) {
        if let Some(c) = self.canceller.take() {
            c.cancel();
        }
    }
}
