//! MCP calls (`list_tools`, `call_tool`, `ping`, `close`) through the core's [`Connection`]
//! machine. Calls on one client are run one after another on the library's runtime (one
//! `initialize`, one session, refresh on 401 handled by the machine); refreshed credentials
//! reach the store and the listener after the step that received them, before the replayed
//! request is sent. The binding only converts values.
//!
//! Cancellation is the library's own channel (`cancel_calls`), not the foreign executor's:
//! UniFFI does not reliably drop a Rust future when a coroutine/task is cancelled.

use std::cell::{Cell, RefCell};
use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use serde_json::Value;
use tokio::sync::Notify;
use workboard_core::connection::{
    CallHandle, CallOutput, Connection, ConnectionConfig, ConnectionEvent,
};
use workboard_core::http::{HttpRequest, HttpResponse, RequestId, TransportError};
use workboard_core::mcp::jsonrpc::{CallToolResult, ContentBlock, Implementation, Tool};
use workboard_core::{driver, Clock, Error, Transport};

use crate::client::WorkboardClient;
use crate::error::{invalid, wrong_state, WorkboardError};
use crate::exit::HandOver;
use crate::host;

type Res<T> = Result<T, WorkboardError>;

/// An MCP tool as listed by the server (`tools/list`).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct McpTool {
    /// The tool's name (pass it to `call_tool`).
    pub name: String,
    /// Display title, if any.
    pub title: Option<String>,
    /// Description, if any.
    pub description: Option<String>,
    /// The JSON Schema of the arguments, as JSON text.
    pub input_schema_json: String,
    /// The whole tool object as sent by the server, as JSON text.
    pub json: String,
}

/// The result of `tools/call`. `is_error` is a tool-level failure (not an exception).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct McpToolResult {
    /// Whether the tool reported a failure.
    pub is_error: bool,
    /// The text blocks joined by `\n`.
    pub text: String,
    /// Every content block, as a JSON array text (`[{"type":"text","text":..}, ...]`).
    pub content_json: String,
    /// `structuredContent` as JSON text, if any.
    pub structured_content_json: Option<String>,
}

/// What `connect` learned about the MCP server.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct McpServerInfo {
    /// `serverInfo.name`.
    pub name: String,
    /// `serverInfo.version`.
    pub version: String,
    /// The negotiated MCP protocol version.
    pub protocol_version: String,
}

/// Connection state of a client.
#[derive(Default)]
pub(crate) struct McpState {
    conn: Option<Connection>,
    server: Option<McpServerInfo>,
    /// The credentials generation the connection last received.
    seen_generation: u64,
}

/// The client's cancel signal: `cancel_calls` bumps the generation and wakes every waiter;
/// a call cancels itself when the generation moved past the one it started under.
#[derive(Default)]
pub(crate) struct CancelSignal {
    generation: AtomicU64,
    notify: Notify,
}

impl CancelSignal {
    fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    fn fire(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        self.notify.notify_waiters();
    }

    /// Completes once the signal has fired after generation `seen` was read.
    async fn fired_since(&self, seen: u64) {
        loop {
            let notified = self.notify.notified();
            tokio::pin!(notified);
            // Registered before the check, so a `fire` in between is not missed.
            notified.as_mut().enable();
            if self.generation() != seen {
                return;
            }
            notified.await;
        }
    }
}

/// How a call may be cancelled by `cancel_calls`.
struct Cancel {
    /// The cancel generation when the call was made.
    seen: u64,
    /// Told `cancelled` as soon as the call is cancelled (the run loop then carries on in
    /// the background until idle).
    early: HandOver<Res<CallOutput>>,
}

/// The client's transport for one run of the loop: it stops waiting for responses the
/// connection no longer wants (the request of a cancelled call; a server need not answer
/// it), so the loop does not hang on them.
struct Abandoning<'a> {
    inner: &'a host::HostTransport,
    in_flight: RefCell<HashSet<RequestId>>,
    abandoned: RefCell<HashSet<RequestId>>,
    wake: Notify,
}

impl<'a> Abandoning<'a> {
    fn new(inner: &'a host::HostTransport) -> Self {
        Abandoning {
            inner,
            in_flight: Default::default(),
            abandoned: Default::default(),
            wake: Notify::new(),
        }
    }

    /// Stops waiting for the requests in flight that `conn` has abandoned.
    fn sweep(&self, conn: &Connection) {
        let gone: Vec<RequestId> = self
            .in_flight
            .borrow()
            .iter()
            .copied()
            .filter(|id| conn.is_request_abandoned(*id))
            .collect();
        if !gone.is_empty() {
            self.abandoned.borrow_mut().extend(gone);
            self.wake.notify_waiters();
        }
    }

    async fn until_abandoned(&self, id: RequestId) {
        loop {
            let notified = self.wake.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.abandoned.borrow().contains(&id) {
                return;
            }
            notified.await;
        }
    }
}

impl Transport for Abandoning<'_> {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let id = request.id;
        self.in_flight.borrow_mut().insert(id);
        let out = tokio::select! {
            biased;
            r = self.inner.send(request) => r,
            // Drops the transport's future (the app's transport sees its task cancelled).
            () = self.until_abandoned(id) => Err(TransportError::Cancelled),
        };
        self.in_flight.borrow_mut().remove(&id);
        self.abandoned.borrow_mut().remove(&id);
        out
    }
}

fn tool(t: &Tool) -> McpTool {
    McpTool {
        name: t.name.clone(),
        title: t.title.clone(),
        description: t.description.clone(),
        input_schema_json: t.input_schema.to_string(),
        json: serde_json::to_string(t).unwrap_or_default(),
    }
}

fn tool_result(r: &CallToolResult) -> McpToolResult {
    McpToolResult {
        is_error: r.is_error,
        text: r.text(),
        content_json: Value::Array(r.content.iter().map(ContentBlock::to_value).collect())
            .to_string(),
        structured_content_json: r.structured_content.as_ref().map(Value::to_string),
    }
}

fn unexpected(what: &str) -> WorkboardError {
    Error::Protocol {
        reason: format!("unexpected result for {what}"),
    }
    .into()
}

impl WorkboardClient {
    fn new_connection(&self) -> Res<Connection> {
        let (creds, auth) = self.credentials_and_auth();
        let mut config = ConnectionConfig::new(self.mcp_url());
        config.client_info =
            Implementation::new(self.client_name.clone(), self.client_version.clone());
        config.credentials = creds;
        config.auth = auth;
        Ok(Connection::new(config)?)
    }

    /// Submits one call to the connection (created on first use) and drives it to the end:
    /// returns its result once nothing is in flight and the events are drained.
    ///
    /// With `cancel`, the call is cancellable by `cancel_calls`: while it waits for its turn
    /// it fails at once; once submitted, the connection cancels it (`notifications/cancelled`
    /// when its request is in flight), `cancel.early` is told `cancelled` immediately and the
    /// loop carries on (sending the notification, no longer waiting for the cancelled
    /// request's answer) until idle, holding the connection as before.
    async fn submit(
        &self,
        what: &str,
        call: impl FnOnce(&mut Connection, u64) -> CallHandle,
        cancel: Option<Cancel>,
    ) -> Res<CallOutput> {
        let mut guard = match &cancel {
            Some(c) => tokio::select! {
                biased;
                g = self.mcp.lock() => g,
                () = self.cancel.fired_since(c.seen) => return Err(Error::Cancelled.into()),
            },
            None => self.mcp.lock().await,
        };
        if cancel
            .as_ref()
            .is_some_and(|c| self.cancel.generation() != c.seen)
        {
            return Err(Error::Cancelled.into());
        }
        let generation = self.credentials_generation();
        if guard.conn.is_none() {
            guard.conn = Some(self.new_connection()?);
            guard.seen_generation = generation;
        }
        if guard.seen_generation != generation {
            let (creds, auth) = self.credentials_and_auth();
            if let Some(c) = guard.conn.as_mut() {
                c.set_credentials(creds, auth);
            }
            guard.seen_generation = generation;
        }
        let conn = guard
            .conn
            .as_mut()
            .ok_or_else(|| wrong_state(what, "no connection"))?;
        let handle = call(conn, self.clock.now_ms());

        // The inbox yields at most one command, the cancellation, and ends as soon as the
        // call has completed, so the loop returns once idle (as `drive` would).
        let seen = cancel.as_ref().map(|c| c.seen);
        let early = RefCell::new(cancel.map(|c| c.early));
        let done = Cell::new(!conn.is_pending(handle));
        let completed = Notify::new();
        let cancelled = Cell::new(false);
        let transport = Abandoning::new(&self.transport);
        let cancel_cmd = |conn: &mut Connection| {
            if conn.cancel(handle).is_ok() {
                cancelled.set(true);
                if let Some(tx) = early.borrow_mut().take() {
                    tx.send(Err(Error::Cancelled.into()));
                }
            }
        };
        let (done_ref, completed_ref, signal) = (&done, &completed, &self.cancel);
        let inbox = futures_util::stream::unfold(Some(cancel_cmd), move |cmd| async move {
            let (Some(cmd), Some(seen)) = (cmd, seen) else {
                return None;
            };
            if done_ref.get() {
                return None;
            }
            tokio::select! {
                biased;
                () = completed_ref.notified() => None,
                () = signal.fired_since(seen) => Some((cmd, None)),
            }
        });
        // Events are drained after every step of the loop, so refreshed credentials reach
        // the store (and the listener) before the replayed request is sent: an app killed
        // in between keeps the rotated refresh token.
        let server = RefCell::new(None);
        let store_error = RefCell::new(None);
        let drain = |conn: &mut Connection| {
            while let Some(ev) = conn.poll_event() {
                match ev {
                    ConnectionEvent::CredentialsChanged(c) => {
                        if let Err(e) = self.credentials_from_connection(c) {
                            store_error.borrow_mut().get_or_insert(e);
                        }
                    }
                    ConnectionEvent::Initialized {
                        protocol_version,
                        server_info,
                    } => {
                        *server.borrow_mut() = Some(McpServerInfo {
                            name: server_info.name,
                            version: server_info.version,
                            protocol_version,
                        });
                    }
                    _ => {}
                }
            }
        };
        driver::run(conn, &transport, &self.clock, inbox, |conn| {
            drain(conn);
            if cancelled.get() {
                transport.sweep(conn);
            }
            if !done.get() && !conn.is_pending(handle) {
                done.set(true);
                completed.notify_one();
            }
        })
        .await;
        drain(conn);
        if let Some(e) = store_error.into_inner() {
            return Err(e);
        }
        let server = server.into_inner();
        let result = conn.poll_result(handle);
        if server.is_some() {
            guard.server = server;
        }
        match result {
            Some(r) => Ok(r?),
            None => Err(wrong_state(what, "the call did not complete")),
        }
    }

    /// Runs one cancellable call on the library's runtime: its result, or `cancelled` as
    /// soon as `cancel_calls` cancels it.
    async fn cancellable(
        self: Arc<Self>,
        what: &'static str,
        call: impl FnOnce(&mut Connection, u64) -> CallHandle + Send + 'static,
    ) -> Res<CallOutput> {
        let seen = self.cancel.generation();
        let (early, mut early_rx) = HandOver::channel();
        let task = host::spawn_on_runtime(move || async move {
            self.submit(what, call, Some(Cancel { seen, early })).await
        })?;
        tokio::pin!(task);
        tokio::select! {
            biased;
            // Cancelled: the task finishes in the background.
            Ok(r) = &mut early_rx => r,
            r = &mut task => r,
        }
    }
}

#[uniffi::export]
impl WorkboardClient {
    /// Opens the MCP session with the current credentials (personal token, stored or
    /// signed-in OAuth credentials): `initialize`, then a `ping`. Returns what the server
    /// said about itself. Optional: the first call of any kind connects too. Fails with
    /// `unauthorized` (wrong token or environment), `not_signed_in`-style errors, or a
    /// transport error.
    pub async fn connect(self: Arc<Self>) -> Res<McpServerInfo> {
        self.clone()
            .cancellable("connect", |c, now| c.ping(now))
            .await?;
        self.mcp
            .lock()
            .await
            .server
            .clone()
            .ok_or_else(|| wrong_state("connect", "the session was restored without initialize"))
    }

    /// Lists every tool of the MCP server (all pages). The first call opens the session
    /// (`initialize`); a 401 with a refreshable OAuth token is refreshed once and retried.
    pub async fn list_tools(self: Arc<Self>) -> Res<Vec<McpTool>> {
        match self
            .cancellable("list tools", |c, now| c.list_tools(now))
            .await?
        {
            CallOutput::Tools(tools) => Ok(tools.iter().map(tool).collect()),
            _ => Err(unexpected("tools/list")),
        }
    }

    /// Calls a tool. `arguments_json` is a JSON object text (`"{}"` for none); malformed
    /// JSON fails with `invalid_input` before anything is sent.
    pub async fn call_tool(
        self: Arc<Self>,
        name: String,
        arguments_json: String,
    ) -> Res<McpToolResult> {
        let arguments: Value = if arguments_json.trim().is_empty() {
            Value::Object(Default::default())
        } else {
            serde_json::from_str(&arguments_json)
                .map_err(|e| invalid("tool arguments", format!("not JSON: {e}")))?
        };
        if !arguments.is_object() {
            return Err(invalid("tool arguments", "must be a JSON object"));
        }
        match self
            .cancellable("call a tool", move |c, now| {
                c.call_tool(&name, arguments, now)
            })
            .await?
        {
            CallOutput::ToolResult(r) => Ok(tool_result(&r)),
            _ => Err(unexpected("tools/call")),
        }
    }

    /// Sends an MCP `ping` (opening the session first if needed).
    pub async fn ping(self: Arc<Self>) -> Res<()> {
        self.cancellable("ping", |c, now| c.ping(now))
            .await
            .map(|_| ())
    }

    /// Cancels every MCP call of this client in progress now (`connect`, `list_tools`,
    /// `call_tool`, `ping`, including those still waiting for their turn): each one fails
    /// with code `cancelled` at once, and the server is sent `notifications/cancelled` for
    /// a request it has already received. Calls made afterwards are not affected and the
    /// client stays usable (the next call may wait until the notification has been sent).
    /// Returns immediately; callable from any thread. `close` is not cancelled.
    ///
    /// Use this to cancel: cancelling the Kotlin coroutine, Swift task or Python task that
    /// awaits a call does not stop the call. Call it e.g. from `catch (e:
    /// CancellationException)` (Kotlin), `withTaskCancellationHandler` (Swift) or `except
    /// asyncio.CancelledError` (Python). It cancels every call of the client, not one.
    pub fn cancel_calls(&self) {
        self.cancel.fire();
    }

    /// Ends the MCP session (`DELETE` when the server gave a session id). A later call opens
    /// a new session. Closing a client that never connected does nothing. Not affected by
    /// `cancel_calls`.
    pub async fn close(self: Arc<Self>) -> Res<()> {
        host::on_runtime(move || async move {
            if self.mcp.lock().await.conn.is_none() {
                return Ok(());
            }
            let r = self.submit("close", |c, _| c.close(), None).await;
            let mut st = self.mcp.lock().await;
            st.conn = None;
            st.server = None;
            r.map(|_| ())
        })
        .await
    }
}
