//! MCP calls (`list_tools`, `call_tool`, `ping`, `close`) through the core's [`Connection`]
//! machine. Each client's connection is driven by one long-running loop
//! ([`driver::run`]) on a thread of the library's runtime, started by the first call; calls
//! reach it as commands and run concurrently (one `initialize`, one session, one refresh on
//! 401 for all of them, handled by the machine). After every step of the loop, refreshed
//! credentials reach the store and the listener before the replayed request is sent, and
//! finished calls are handed back to their callers. The binding only converts values.
//!
//! Cancellation is the library's own channel (`cancel_calls`), not the foreign executor's:
//! UniFFI does not reliably drop a Rust future when a coroutine/task is cancelled.

use std::cell::RefCell;
use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use futures_util::StreamExt;
use serde_json::Value;
use std::collections::BTreeMap;
use tokio::sync::{mpsc, Notify};
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

/// The MCP side of a client: the inbox of its running loop (if one runs) and what the server
/// said about itself.
#[derive(Default)]
pub(crate) struct McpState {
    running: Option<mpsc::UnboundedSender<Command>>,
    server: Option<McpServerInfo>,
}

/// A command for the loop: applied to the connection, with the loop's own state.
type Command = Box<dyn FnOnce(&mut Connection, &mut LoopState) + Send>;

/// What only the loop touches.
struct LoopState {
    /// Callers waiting for a call: the result goes back through the hand-over; `seen` is the
    /// cancel generation the call was made under.
    waiters: BTreeMap<CallHandle, Waiter>,
    /// The client's credentials generation the connection last received.
    seen_generation: u64,
    /// A failure of the app's credential store, reported to the next call that completes.
    store_error: Option<WorkboardError>,
    /// Finished calls not handed over yet (see [`after_step`]), each with the ids of the
    /// requests its step emitted, `(lo, hi]`, which must be done first (`hi` is `None`
    /// until the step's requests are all emitted).
    ready: Vec<Ready>,
    /// The highest request id the connection has emitted.
    emitted: u64,
    /// The loop's own inbox (weak: it must not keep the loop alive), to wake it for that.
    nudge: Option<mpsc::WeakUnboundedSender<Command>>,
}

struct Waiter {
    done: HandOver<Res<CallOutput>>,
    seen: u64,
}

/// A finished call waiting for the requests of its step, ids `(lo, hi]`.
struct Ready {
    waiter: Waiter,
    result: Res<CallOutput>,
    lo: u64,
    hi: Option<u64>,
}

impl Ready {
    fn hand_over(self) {
        self.waiter.done.send(self.result);
    }
}

/// The client's cancel signal: `cancel_calls` bumps the generation; a call made under an
/// older generation is cancelled.
#[derive(Default)]
pub(crate) struct CancelSignal {
    generation: AtomicU64,
}

impl CancelSignal {
    fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    fn fire(&self) -> u64 {
        self.generation.fetch_add(1, Ordering::SeqCst) + 1
    }
}

fn lock(m: &Mutex<McpState>) -> MutexGuard<'_, McpState> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The loop's transport: it stops waiting for responses the connection no longer wants (the
/// request of a cancelled call; a server need not answer it) and drops their futures.
struct Abandoning<'a> {
    inner: &'a host::HostTransport,
    in_flight: RefCell<HashSet<RequestId>>,
    abandoned: RefCell<HashSet<RequestId>>,
    wake: Notify,
    /// Requests the connection emitted that have not finished (answered, failed or dropped).
    unfinished: RefCell<HashSet<RequestId>>,
}

impl<'a> Abandoning<'a> {
    fn new(inner: &'a host::HostTransport) -> Self {
        Abandoning {
            inner,
            in_flight: Default::default(),
            abandoned: Default::default(),
            wake: Notify::new(),
            unfinished: Default::default(),
        }
    }

    /// Whether every emitted request with an id in `(lo, hi]` has finished.
    fn finished_between(&self, lo: u64, hi: u64) -> bool {
        !self
            .unfinished
            .borrow()
            .iter()
            .any(|r| r.0 > lo && r.0 <= hi)
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
        // Finished when this future ends, whichever way (answered, failed, dropped).
        let _finished = Finished(&self.unfinished, id);
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

/// Removes a request from the unfinished ones when dropped.
struct Finished<'a>(&'a RefCell<HashSet<RequestId>>, RequestId);

impl Drop for Finished<'_> {
    fn drop(&mut self) {
        self.0.borrow_mut().remove(&self.1);
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

    /// The inbox of the client's loop, started on first use (and again after `close`).
    fn running(self: &Arc<Self>) -> Res<mpsc::UnboundedSender<Command>> {
        let mut st = lock(&self.mcp);
        if let Some(tx) = st.running.as_ref().filter(|tx| !tx.is_closed()) {
            return Ok(tx.clone());
        }
        let conn = self.new_connection()?;
        let (tx, rx) = mpsc::unbounded_channel();
        let client = Arc::downgrade(self);
        let generation = self.credentials_generation();
        let nudge = tx.downgrade();
        host::spawn_loop(move || run_loop(conn, rx, nudge, client, generation))?;
        st.running = Some(tx.clone());
        Ok(tx)
    }

    /// Submits one call to the loop and waits for its result (or `cancelled` as soon as
    /// `cancel_calls` cancels it).
    async fn call(
        self: Arc<Self>,
        what: &'static str,
        make: impl FnOnce(&mut Connection, u64) -> CallHandle + Send + 'static,
    ) -> Res<CallOutput> {
        let seen = self.cancel.generation();
        let tx = self.running()?;
        let (done, rx) = HandOver::channel();
        let client = Arc::downgrade(&self);
        let cmd: Command = Box::new(move |conn, ls| {
            let Some(client) = client.upgrade() else {
                return;
            };
            if client.cancel.generation() != seen {
                done.send(Err(Error::Cancelled.into()));
                return;
            }
            // Credentials of another server are refused by the core: the call fails with
            // `credentials_not_for_server` and nothing is sent with them.
            if let Err(e) = sync_credentials(&client, conn, ls) {
                done.send(Err(e.into()));
                return;
            }
            let h = make(conn, client.clock.now_ms());
            ls.waiters.insert(h, Waiter { done, seen });
        });
        tx.send(cmd)
            .map_err(|_| wrong_state(what, "the connection loop has stopped"))?;
        rx.await
            .unwrap_or_else(|_| Err(wrong_state(what, "the call did not complete")))
    }
}

/// Gives the connection the credentials set since it last received them. Credentials (or a
/// context) of another server are refused and the connection keeps what it had; every call
/// fails with the refusal until the app sets credentials for this server.
fn sync_credentials(
    client: &WorkboardClient,
    conn: &mut Connection,
    ls: &mut LoopState,
) -> Result<(), Error> {
    let generation = client.credentials_generation();
    if generation != ls.seen_generation {
        let (creds, auth) = client.credentials_and_auth();
        conn.set_credentials(creds, auth)?;
        ls.seen_generation = generation;
    }
    Ok(())
}

/// The client's loop: runs until the client is gone (or closed) and nothing is in flight.
async fn run_loop(
    mut conn: Connection,
    rx: mpsc::UnboundedReceiver<Command>,
    nudge: mpsc::WeakUnboundedSender<Command>,
    client: Weak<WorkboardClient>,
    generation: u64,
) {
    let Some((transport, clock)) = client
        .upgrade()
        .map(|c| (c.transport.clone(), c.clock.clone()))
    else {
        return;
    };
    let ls = RefCell::new(LoopState {
        waiters: BTreeMap::new(),
        seen_generation: generation,
        store_error: None,
        ready: Vec::new(),
        emitted: 0,
        nudge: Some(nudge),
    });
    let transport = Abandoning::new(&transport);
    let ls_ref = &ls;
    let inbox =
        futures_util::stream::unfold(
            rx,
            |mut rx| async move { rx.recv().await.map(|cmd| (cmd, rx)) },
        )
        .map(move |cmd: Command| {
            move |m: &mut Tracked<'_, '_>| cmd(m.conn, &mut ls_ref.borrow_mut())
        });
    let mut machine = Tracked {
        conn: &mut conn,
        ls: ls_ref,
        transport: &transport,
    };
    driver::run(&mut machine, &transport, &clock, inbox, |m| {
        let mut ls = m.ls.borrow_mut();
        after_step(m.conn, &mut ls, &client, &transport);
        transport.sweep(m.conn);
    })
    .await;
    // Every sender is gone: nobody waits any more.
    ls.into_inner().ready.into_iter().for_each(Ready::hand_over);
}

/// The connection as the loop drives it, noting the requests it emits (see [`after_step`]).
struct Tracked<'a, 't> {
    conn: &'a mut Connection,
    ls: &'a RefCell<LoopState>,
    transport: &'a Abandoning<'t>,
}

impl workboard_core::SansIo for Tracked<'_, '_> {
    fn poll_request(&mut self) -> Option<HttpRequest> {
        let next = self.conn.poll_request();
        let mut ls = self.ls.borrow_mut();
        match &next {
            Some(r) => {
                ls.emitted = ls.emitted.max(r.id.0);
                self.transport.unfinished.borrow_mut().insert(r.id);
            }
            // Every request of the last step is out: the calls it finished wait for those.
            None => {
                let emitted = ls.emitted;
                for r in ls.ready.iter_mut().filter(|r| r.hi.is_none()) {
                    r.hi = Some(emitted);
                }
            }
        }
        next
    }

    fn handle_response(
        &mut self,
        id: RequestId,
        response: Result<HttpResponse, TransportError>,
        now_ms: u64,
    ) {
        self.conn.handle_response(id, response, now_ms);
    }

    fn poll_timeout(&self) -> Option<u64> {
        self.conn.poll_timeout()
    }

    fn handle_timeout(&mut self, now_ms: u64) {
        self.conn.handle_timeout(now_ms);
    }
}

/// Drains the connection's events: persists and announces refreshed credentials (before the
/// replayed request goes out), remembers the server's description, and hands finished calls
/// back to their callers.
///
/// A call's result is handed over once the requests emitted by the step that finished it
/// are done — e.g. the answers to requests the server made on the call's stream — so a
/// caller sees its call complete after everything it made the client send, as with one loop
/// per call (an app's async transport may need its executor until then: an asyncio loop
/// closed after the last await would orphan them). Requests of other calls do not hold it.
/// Until then the loop nudges itself through its own inbox so that it keeps turning.
fn after_step(
    conn: &mut Connection,
    ls: &mut LoopState,
    client: &Weak<WorkboardClient>,
    transport: &Abandoning<'_>,
) {
    let client = client.upgrade();
    while let Some(ev) = conn.poll_event() {
        match ev {
            ConnectionEvent::CredentialsChanged(c) => {
                if let Some(client) = &client {
                    if let Err(e) = client.credentials_from_connection(c) {
                        ls.store_error.get_or_insert(e);
                    }
                }
            }
            ConnectionEvent::Initialized {
                protocol_version,
                server_info,
            } => {
                if let Some(client) = &client {
                    lock(&client.mcp).server = Some(McpServerInfo {
                        name: server_info.name,
                        version: server_info.version,
                        protocol_version,
                    });
                }
            }
            ConnectionEvent::CallCompleted(h) => {
                let result = conn.poll_result(h);
                if let (Some(w), Some(r)) = (ls.waiters.remove(&h), result) {
                    let r = match ls.store_error.take() {
                        Some(e) => Err(e),
                        None => r.map_err(Into::into),
                    };
                    let lo = ls.emitted;
                    ls.ready.push(Ready {
                        waiter: w,
                        result: r,
                        lo,
                        hi: None,
                    });
                }
            }
            _ => {}
        }
    }
    let (due, waiting): (Vec<_>, Vec<_>) = std::mem::take(&mut ls.ready)
        .into_iter()
        .partition(|r| r.hi.is_some_and(|hi| transport.finished_between(r.lo, hi)));
    due.into_iter().for_each(Ready::hand_over);
    ls.ready = waiting;
    if !ls.ready.is_empty() {
        let nudged = ls
            .nudge
            .as_ref()
            .and_then(mpsc::WeakUnboundedSender::upgrade)
            .is_some_and(|tx| tx.send(Box::new(|_, _| {})).is_ok());
        if !nudged {
            // The client is gone: no later step is coming.
            std::mem::take(&mut ls.ready)
                .into_iter()
                .for_each(Ready::hand_over);
        }
    }
}

/// Cancels the calls made before cancel generation `now` (the loop's side of `cancel_calls`):
/// each caller is told `cancelled` at once; the connection sends `notifications/cancelled`
/// for a request in flight and stops waiting for its answer.
fn cancel_before(conn: &mut Connection, ls: &mut LoopState, now: u64) {
    let stale: Vec<CallHandle> = ls
        .waiters
        .iter()
        .filter(|(_, w)| w.seen < now)
        .map(|(h, _)| *h)
        .collect();
    for h in stale {
        let _ = conn.cancel(h);
        if let Some(w) = ls.waiters.remove(&h) {
            w.done.send(Err(Error::Cancelled.into()));
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
        self.clone().call("connect", |c, now| c.ping(now)).await?;
        lock(&self.mcp)
            .server
            .clone()
            .ok_or_else(|| wrong_state("connect", "the session was restored without initialize"))
    }

    /// Lists every tool of the MCP server (all pages). The first call opens the session
    /// (`initialize`); a 401 with a refreshable OAuth token is refreshed once and retried.
    pub async fn list_tools(self: Arc<Self>) -> Res<Vec<McpTool>> {
        match self.call("list tools", |c, now| c.list_tools(now)).await? {
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
            serde_json::from_str(&arguments_json).map_err(|e| {
                invalid(
                    "tool arguments",
                    format!(
                        "not JSON: {}",
                        workboard_core::untrusted::describe_json_error(&e)
                    ),
                )
            })?
        };
        if !arguments.is_object() {
            return Err(invalid("tool arguments", "must be a JSON object"));
        }
        match self
            .call("call a tool", move |c, now| {
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
        self.call("ping", |c, now| c.ping(now)).await.map(|_| ())
    }

    /// Cancels every MCP call of this client in progress now (`connect`, `list_tools`,
    /// `call_tool`, `ping`): each one fails with code `cancelled` at once, and the server is
    /// sent `notifications/cancelled` for a request it has already received. Calls made
    /// afterwards are not affected and the client stays usable. Returns immediately;
    /// callable from any thread. `close` is not cancelled.
    ///
    /// Use this to cancel: cancelling the Kotlin coroutine, Swift task or Python task that
    /// awaits a call does not stop the call. Call it e.g. from `catch (e:
    /// CancellationException)` (Kotlin), `withTaskCancellationHandler` (Swift) or `except
    /// asyncio.CancelledError` (Python). It cancels every call of the client, not one.
    pub fn cancel_calls(&self) {
        let now = self.cancel.fire();
        if let Some(tx) = lock(&self.mcp).running.as_ref() {
            let _ = tx.send(Box::new(move |conn, ls| cancel_before(conn, ls, now)));
        }
    }

    /// Ends the MCP session (`DELETE` when the server gave a session id). A later call opens
    /// a new session. Closing a client that never connected does nothing. Not affected by
    /// `cancel_calls`.
    pub async fn close(self: Arc<Self>) -> Res<()> {
        let Some(tx) = lock(&self.mcp).running.clone() else {
            return Ok(());
        };
        let (done, rx) = HandOver::channel();
        let cmd: Command = Box::new(move |conn, ls| {
            let h = conn.close();
            // `u64::MAX`: never cancelled by `cancel_calls`.
            ls.waiters.insert(
                h,
                Waiter {
                    done,
                    seen: u64::MAX,
                },
            );
        });
        let r = match tx.send(cmd) {
            Ok(()) => rx
                .await
                .unwrap_or_else(|_| Err(wrong_state("close", "the call did not complete"))),
            Err(_) => Ok(CallOutput::Closed),
        };
        {
            // The loop ends once its inbox is gone and the DELETE is done.
            let mut st = lock(&self.mcp);
            if st.running.as_ref().is_some_and(|t| t.same_channel(&tx)) {
                st.running = None;
            }
            st.server = None;
        }
        r.map(|_| ())
    }
}
