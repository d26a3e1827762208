//! The client's loop: the core's [`driver::run`] over the connection, with the client
//! layer's commands, result hand-over and credential persistence.

use std::cell::RefCell;
use std::task::{Poll, Waker};

use futures_util::future::{self, Either};
use futures_util::StreamExt;
use workboard_core::connection::{CallHandle, CallOutput, Connection, ConnectionEvent};
use workboard_core::http::{HttpRequest, HttpResponse, RequestId, TransportError};
use workboard_core::{driver, BodySink, Credentials, Error, SansIo, Transport};

use crate::client::{storage, Command, Driver, Op, Reply, ServerInfo, Shared};
use crate::host::{keys, Host};

struct Waiter {
    token: u64,
    reply: Reply,
    close: bool,
    /// The highest request id emitted when the call was submitted.
    since: u64,
}

/// A finished call whose result waits until the requests emitted by the step that finished
/// it, ids `(lo, hi]`, are done (`hi` is `None` until they are all emitted), and the
/// notifications emitted since it was submitted (`notifications/initialized` of the session
/// it opened, a `notifications/cancelled`): a caller sees its call complete after everything
/// it made the client send (an app's async transport may need the app's executor until then:
/// an asyncio loop closed after the last await would orphan them).
struct Ready {
    waiter: Waiter,
    result: Result<CallOutput, Error>,
    lo: u64,
    hi: Option<u64>,
}

/// Small linear maps (a few calls in flight): far less code in the wasm package than a
/// `BTreeMap` per key type.
#[derive(Default)]
struct LoopState {
    waiters: Vec<(CallHandle, Waiter)>,
    tokens: Vec<(u64, CallHandle)>,
    ready: Vec<Ready>,
    /// The highest request id the connection has emitted.
    emitted: u64,
    /// Hand-overs became due without anything left to wake the loop: turn once more.
    nudge: bool,
    /// `close` was submitted: later calls fail with `client_stopped`.
    closing: bool,
    /// Subscriptions and where their notifications go.
    subscriptions: Vec<(
        CallHandle,
        futures_channel::mpsc::UnboundedSender<crate::client::Notification>,
    )>,
    /// The shared store's refresh lease, while this client holds it.
    lease: Option<crate::store::Lease>,
    /// A lease is being taken (or another holder's result awaited).
    leasing: bool,
    /// The app's answers being computed for servers' input requests (and the lease).
    inputs: futures_util::stream::FuturesUnordered<
        std::pin::Pin<Box<dyn std::future::Future<Output = InputDone>>>,
    >,
}

/// The app's answers to one input request of a server.
enum InputDone {
    /// Every answer of a call's input round (MRTR), or the first failure.
    Call(
        CallHandle,
        Result<serde_json::Map<String, serde_json::Value>, Error>,
    ),
    /// The answer to a legacy server's request.
    Server(
        workboard_core::mcp::jsonrpc::JsonRpcId,
        Result<serde_json::Value, Error>,
    ),
    /// The shared store's verdict on a due refresh.
    Lease(Result<crate::store::Turn, crate::store::StoreError>),
}

/// How long the refresh lease is granted by default: above a token request's worst case (the
/// native transport's 60 s timeout). A holder that dies holding it is replaced when it ends;
/// a slower refresh is fenced out of the store. [`crate::ClientConfig::refresh_lease_ttl_ms`]
/// changes it.
pub const DEFAULT_LEASE_TTL_MS: u64 = 90_000;
/// How long a holder waits for another's result before the refresh fails as unreachable:
/// 30 s past one lease TTL (a dead holder's lease ends, a waiter takes it and refreshes).
fn lease_wait_ms(ttl_ms: u64) -> u64 {
    ttl_ms.saturating_add(30_000)
}

enum Inbox {
    Command(Option<Command>),
    Input(InputDone),
}

impl<H: Host> Driver<H> {
    /// Runs the client until every [`crate::Client`] clone (and every call) is gone and
    /// nothing is in flight.
    pub async fn run(self) {
        let Driver {
            shared,
            rx,
            mut conn,
        } = self;
        let transport = Abandoning::new(shared.host.transport());
        let ls = RefCell::new(LoopState::default());
        let mut rx = rx;
        let ls_ref = &ls;
        // The inbox: commands, the app's answers to input requests, and a nudge when
        // hand-overs are due (checked first).
        let inbox = futures_util::stream::poll_fn(move |cx| {
            if std::mem::take(&mut ls_ref.borrow_mut().nudge) {
                return Poll::Ready(Some(Inbox::Command(None)));
            }
            // Polled outside the borrow: an app's handler may do anything meanwhile.
            let mut inputs = std::mem::take(&mut ls_ref.borrow_mut().inputs);
            let answered = if inputs.is_empty() {
                Poll::Pending
            } else {
                inputs.poll_next_unpin(cx)
            };
            let mut ls = ls_ref.borrow_mut();
            let added = std::mem::replace(&mut ls.inputs, inputs);
            ls.inputs.extend(added);
            drop(ls);
            if let Poll::Ready(Some(done)) = answered {
                return Poll::Ready(Some(Inbox::Input(done)));
            }
            rx.poll_next_unpin(cx)
                .map(|c| c.map(|c| Inbox::Command(Some(c))))
        })
        .map(|item: Inbox| {
            move |m: &mut Machine<'_, '_, H>| match item {
                Inbox::Command(cmd) => m.apply(cmd),
                Inbox::Input(done) => m.answered(done),
            }
        });
        let mut machine = Machine {
            conn: &mut conn,
            ls: &ls,
            shared: &shared,
            transport: &transport,
        };
        let clock = LoopClock {
            inner: shared.host.clock(),
            ls: &ls,
        };
        driver::run(&mut machine, &transport, &clock, inbox, |m| m.after_step()).await;
        // Every sender is gone: hand over what is left.
        let left = std::mem::take(&mut ls.borrow_mut().ready);
        for r in left {
            deliver(&shared.host, r.waiter.reply, r.result);
        }
    }
}

/// The host's clock for the loop. A simulated one lets no time pass while the app is
/// answering an input request, as none passes while a request is in flight
/// ([`workboard_core::Clock::is_simulated`]): the app's answer comes before the call's
/// deadline, however long (in real time) its handler takes.
struct LoopClock<'a, C> {
    inner: &'a C,
    ls: &'a RefCell<LoopState>,
}

impl<C: workboard_core::Clock> workboard_core::Clock for LoopClock<'_, C> {
    fn now_ms(&self) -> u64 {
        self.inner.now_ms()
    }
    async fn sleep_ms(&self, ms: u64) {
        if self.inner.is_simulated() {
            // Polled by the loop's task, which an answer wakes (the inbox polls the answers).
            std::future::poll_fn(|_| match self.ls.borrow().inputs.is_empty() {
                true => Poll::Ready(()),
                false => Poll::Pending,
            })
            .await;
        }
        self.inner.sleep_ms(ms).await
    }
    fn is_simulated(&self) -> bool {
        self.inner.is_simulated()
    }
}

fn deliver<H: Host>(host: &H, reply: Reply, result: Result<CallOutput, Error>) {
    let mut slot = Some((reply, result));
    host.hand_over(&mut || {
        if let Some((reply, result)) = slot.take() {
            let _ = reply.send(result);
        }
    });
    // The host declined (UniFFI at process exit): dropping the reply would wake the caller
    // all the same, so it is leaked instead.
    if let Some(undelivered) = slot.take() {
        std::mem::forget(undelivered);
    }
}

/// A server's input request for the app.
enum InputAsk {
    Call(CallHandle, Vec<workboard_core::connection::InputRequest>),
    Server(
        workboard_core::mcp::jsonrpc::JsonRpcId,
        workboard_core::connection::InputRequest,
    ),
}

struct Machine<'a, 't, H: Host> {
    conn: &'a mut Connection,
    ls: &'a RefCell<LoopState>,
    shared: &'a std::sync::Arc<Shared<H>>,
    transport: &'a Abandoning<'t, H::Transport>,
}

impl<H: Host> Machine<'_, '_, H> {
    /// The app answered a server's input request: to the connection.
    fn answered(&mut self, done: InputDone) {
        match done {
            InputDone::Call(h, Ok(responses)) => {
                // A call cancelled meanwhile refuses it: nothing to do.
                let _ = self.conn.provide_input(h, responses);
            }
            InputDone::Call(h, Err(e)) => self.conn.decline_input(h, e),
            InputDone::Server(id, result) => {
                let result = result.map_err(|e| (-32603, e.to_string()));
                self.conn.answer_server_request(&id, result);
            }
            InputDone::Lease(outcome) => self.leased(outcome),
        }
    }

    /// A refresh is due and the credentials are shared: lead it (take the lease) or wait for
    /// the holder that does, without blocking the loop.
    fn take_lease(&self) {
        let mut ls = self.ls.borrow_mut();
        if ls.leasing || ls.lease.is_some() {
            return;
        }
        ls.leasing = true;
        let shared = self.shared.clone();
        let seen = shared.state().credentials_version;
        ls.inputs.push(Box::pin(async move {
            let Some(store) = shared.host.shared_store() else {
                return InputDone::Lease(Err(crate::store::StoreError::new(
                    crate::store::StoreErrorKind::Failed,
                    "the shared store is gone",
                )));
            };
            let turn = crate::store::lead_or_follow(
                store,
                shared.host.clock(),
                keys::CREDENTIALS,
                seen,
                crate::store::AUTH_LEASE,
                shared.lease_ttl_ms,
                lease_wait_ms(shared.lease_ttl_ms),
            )
            .await;
            InputDone::Lease(turn)
        }));
        ls.nudge = true;
    }

    /// The lease's verdict: refresh now (this client leads), use what another holder stored,
    /// or back off (the store could not be reached).
    fn leased(&mut self, outcome: Result<crate::store::Turn, crate::store::StoreError>) {
        let now = self.shared.now();
        self.ls.borrow_mut().leasing = false;
        match outcome {
            Ok(crate::store::Turn::Lead(lease)) => {
                self.ls.borrow_mut().lease = Some(lease);
                if self.conn.refresh_with_lease(now).is_err() {
                    self.release_lease(); // nothing waits for it any more
                }
            }
            Ok(crate::store::Turn::Stored(stored)) => self.adopt(stored),
            Err(e) => self.conn.refresh_lease_failed(&e.to_string(), now),
        }
    }

    /// Credentials another holder stored: used as they are (no refresh), and the version
    /// this client holds moves to theirs.
    fn adopt(&mut self, stored: crate::store::Versioned) {
        let credentials = match stored.value.as_deref().map(Credentials::from_json) {
            Some(Ok(c)) => Some(c),
            None => None, // signed out elsewhere
            Some(Err(e)) => {
                let now = self.shared.now();
                self.conn.refresh_lease_failed(
                    &format!("the stored credentials do not parse: {e}"),
                    now,
                );
                return;
            }
        };
        if self.conn.set_credentials(credentials.clone(), None).is_ok() {
            let mut st = self.shared.state();
            st.credentials_version = stored.version;
            st.credentials = credentials.clone();
            drop(st);
            self.shared.host.credentials_changed(credentials.as_ref());
        }
    }

    fn release_lease(&self) {
        let lease = self.ls.borrow_mut().lease.take();
        if let (Some(lease), Some(store)) = (lease, self.shared.host.shared_store()) {
            // A lease that cannot be given back ends with its TTL.
            let _ = store.release(&lease);
        }
    }

    /// Hands a notification to the app's listeners; drops the listeners that are gone.
    fn tell_listeners(&self, n: crate::client::Notification) {
        let mut st = self.shared.state();
        st.listeners
            .retain(|tx| tx.unbounded_send(n.clone()).is_ok());
    }

    /// Asks the app for the answers of a server's input request.
    fn ask_app(&self, ask: InputAsk) {
        let shared = self.shared.clone();
        let fut: std::pin::Pin<Box<dyn std::future::Future<Output = InputDone>>> = match ask {
            InputAsk::Call(h, requests) => Box::pin(async move {
                let mut answers = serde_json::Map::new();
                for r in requests {
                    let key = r.key.clone();
                    match shared.host.answer_input(r).await {
                        Ok(v) => {
                            answers.insert(key, v);
                        }
                        Err(e) => return InputDone::Call(h, Err(e)),
                    }
                }
                InputDone::Call(h, Ok(answers))
            }),
            InputAsk::Server(id, request) => Box::pin(async move {
                let result = shared.host.answer_input(request).await;
                InputDone::Server(id, result)
            }),
        };
        self.ls.borrow_mut().inputs.push(fut);
        self.ls.borrow_mut().nudge = true;
    }

    fn apply(&mut self, cmd: Option<Command>) {
        let Some(cmd) = cmd else { return };
        let now = self.shared.now();
        match cmd {
            Command::Call { token, op, reply } => {
                let mut ls = self.ls.borrow_mut();
                if ls.closing {
                    drop(ls);
                    deliver(&self.shared.host, reply, Err(Error::ClientStopped));
                    return;
                }
                let close = matches!(op, Op::Close);
                let h = match op {
                    Op::ListTools => self.conn.list_tools(now),
                    Op::CallTool(name, args) => self.conn.call_tool(&name, args, now),
                    Op::Ping => self.conn.ping(now),
                    Op::Discover => self.conn.discover(now),
                    Op::ListResources => self.conn.list_resources(now),
                    Op::ListResourceTemplates => self.conn.list_resource_templates(now),
                    Op::ReadResource(uri) => self.conn.read_resource(&uri, now),
                    Op::ListPrompts => self.conn.list_prompts(now),
                    Op::GetPrompt(name, args) => self.conn.get_prompt(&name, args, now),
                    Op::Complete(reference, argument, value, context) => self
                        .conn
                        .complete(reference, &argument, &value, context, now),
                    Op::Subscribe(filter, tx) => {
                        let h = self.conn.subscribe(filter, now);
                        ls.subscriptions.push((h, tx));
                        h
                    }
                    Op::Refresh => self.conn.refresh(now),
                    Op::Request(method, params) => self.conn.request(&method, params, now),
                    Op::RequestWithClientInput(method, params) => {
                        self.conn.request_with_client_input(&method, params, now)
                    }
                    Op::Close => {
                        ls.closing = true;
                        // Calls still waiting are cancelled by the connection (`cancelled`).
                        self.conn.close()
                    }
                };
                ls.tokens.push((token, h));
                let since = ls.emitted;
                ls.waiters.push((
                    h,
                    Waiter {
                        token,
                        reply,
                        close,
                        since,
                    },
                ));
            }
            Command::Cancel(token) => {
                let h = self
                    .ls
                    .borrow()
                    .tokens
                    .iter()
                    .find(|(t, _)| *t == token)
                    .map(|(_, h)| *h);
                if let Some(h) = h {
                    // Its result (`cancelled`) goes to the caller if it still waits.
                    let _ = self.conn.cancel(h);
                }
            }
            Command::CancelAll => {
                let calls: Vec<CallHandle> = self
                    .ls
                    .borrow()
                    .waiters
                    .iter()
                    .filter(|(_, w)| !w.close)
                    .map(|(h, _)| *h)
                    .collect();
                for h in calls {
                    let _ = self.conn.cancel(h);
                }
            }
            Command::SetCredentials(set) => {
                let (credentials, auth) = *set;
                // Checked by the handle with the same rule; a refusal here changes nothing.
                let _ = self.conn.set_credentials(credentials, auth);
                let mut st = self.shared.state();
                st.pending_sets = st.pending_sets.saturating_sub(1);
            }
        }
    }

    /// Drains the connection's events: refreshed credentials are saved and announced before
    /// the loop sends anything else (the replayed request), the session is saved, finished
    /// calls are handed back once their step's requests are done.
    fn after_step(&mut self) {
        let host = &self.shared.host;
        while let Some(ev) = self.conn.poll_event() {
            match ev {
                ConnectionEvent::CredentialsChanged(c) => self.refreshed(&c),
                ConnectionEvent::RefreshDue => self.take_lease(),
                ConnectionEvent::RefreshEnded => self.release_lease(),
                ConnectionEvent::Initialized {
                    protocol_version,
                    server_info,
                } => {
                    self.shared.state().server = Some(ServerInfo {
                        name: server_info.name,
                        version: server_info.version,
                        protocol_version,
                    });
                }
                ConnectionEvent::CallNotification {
                    call,
                    method,
                    params,
                } => {
                    let n = crate::client::Notification { method, params };
                    let ls = self.ls.borrow();
                    match ls.subscriptions.iter().find(|(h, _)| *h == call) {
                        Some((_, tx)) => {
                            let _ = tx.unbounded_send(n);
                        }
                        None => self.tell_listeners(n),
                    }
                }
                ConnectionEvent::ServerNotification { method, params } => {
                    self.tell_listeners(crate::client::Notification { method, params });
                }
                ConnectionEvent::InputRequired { call, requests } => {
                    self.ask_app(InputAsk::Call(call, requests));
                }
                ConnectionEvent::ServerRequest {
                    request_id,
                    request,
                } => self.ask_app(InputAsk::Server(request_id, request)),
                ConnectionEvent::StateChanged => {
                    // The era, the session or the cached tool list changed: keep it for the
                    // next start (no credential inside).
                    let session = self.conn.save_state();
                    let saved = host.save(keys::SESSION, &session).map_err(storage);
                    let mut st = self.shared.state();
                    st.session = session;
                    if let Err(e) = saved {
                        st.store_error = Some(e);
                    }
                }
                ConnectionEvent::CallCompleted(h) => {
                    let result = self.conn.poll_result(h);
                    let mut ls = self.ls.borrow_mut();
                    // A subscription's notifications end with it.
                    ls.subscriptions.retain(|(s, _)| *s != h);
                    let Some(i) = ls.waiters.iter().position(|(x, _)| *x == h) else {
                        continue;
                    };
                    let (_, w) = ls.waiters.swap_remove(i);
                    ls.tokens.retain(|(t, _)| *t != w.token);
                    let mut result = result.unwrap_or(Err(Error::Cancelled));
                    if w.close {
                        // The session is gone (or was never opened): forget it.
                        let _ = host.remove(keys::SESSION);
                        self.shared.state().session = self.conn.save_state();
                        if matches!(result, Err(Error::WrongState { .. })) {
                            result = Ok(CallOutput::Closed);
                        }
                    }
                    if matches!(result, Err(Error::Cancelled)) {
                        // A cancelled caller hears it at once (not after the
                        // `notifications/cancelled` its cancellation sends).
                        drop(ls);
                        deliver(host, w.reply, result);
                        continue;
                    }
                    let lo = ls.emitted;
                    ls.ready.push(Ready {
                        waiter: w,
                        result,
                        lo,
                        hi: None,
                    });
                }
                _ => {}
            }
        }
        let due: Vec<Ready> = {
            let mut ls = self.ls.borrow_mut();
            let (due, waiting): (Vec<_>, Vec<_>) =
                std::mem::take(&mut ls.ready).into_iter().partition(|r| {
                    r.hi.is_some_and(|hi| self.transport.done(r.lo, r.waiter.since, hi))
                });
            ls.ready = waiting;
            due
        };
        for r in due {
            deliver(host, r.waiter.reply, r.result);
        }
        self.transport.sweep(self.conn);
    }

    /// Credentials the connection refreshed: saved (the one store policy) and announced,
    /// unless the app set newer ones meanwhile (the connection drops this refresh for them).
    fn refreshed(&mut self, c: &Credentials) {
        if self.shared.state().pending_sets > 0 {
            return;
        }
        // Led through the shared store's lease: written fenced by it, from the version it
        // was led from. Another writer first (a sign-in, a sign-out) or a lapsed lease: what
        // the store holds wins.
        let lease = self.ls.borrow().lease.clone();
        if let (Some(lease), Some(store)) = (lease, self.shared.host.shared_store()) {
            use crate::store::Swap;
            let seen = self.shared.state().credentials_version;
            let swap =
                store.compare_and_swap(keys::CREDENTIALS, seen, Some(&c.to_json()), Some(&lease));
            match swap {
                Ok(Swap::Done(v)) => {
                    let mut st = self.shared.state();
                    st.credentials_version = v;
                    st.credentials = Some(c.clone());
                    st.store_error = None;
                    drop(st);
                    self.shared.host.credentials_changed(Some(c));
                }
                Ok(Swap::Conflict(stored)) => self.adopt(stored),
                Ok(Swap::Fenced) => match store.get(keys::CREDENTIALS) {
                    Ok(stored) => self.adopt(stored),
                    Err(e) => self.shared.state().store_error = Some(storage(e.to_string())),
                },
                Err(e) => {
                    // Used in memory all the same (the rotated refresh token exists only
                    // here now); the error is kept for `Client::store_error`.
                    let mut st = self.shared.state();
                    st.credentials = Some(c.clone());
                    st.store_error = Some(storage(e.to_string()));
                    drop(st);
                    self.shared.host.credentials_changed(Some(c));
                }
            }
            return;
        }
        // A failed save is kept for `Client::store_error`; the call that waited for the
        // refresh still gets its result (the work is done; nothing is lost).
        let _ = self.shared.persist_credentials(Some(c));
    }
}

impl<H: Host> SansIo for Machine<'_, '_, H> {
    fn poll_request(&mut self) -> Option<HttpRequest> {
        let next = self.conn.poll_request();
        let mut ls = self.ls.borrow_mut();
        match &next {
            Some(r) => {
                ls.emitted = ls.emitted.max(r.id.0);
                let mut st = self.transport.state.borrow_mut();
                st.unfinished.push(r.id);
                if self.conn.is_notification_request(r.id) {
                    st.notifications.push(r.id);
                }
            }
            // Every request of the last step is out: the calls it finished wait for those.
            None => {
                let emitted = ls.emitted;
                let mut nudge = false;
                for r in ls.ready.iter_mut().filter(|r| r.hi.is_none()) {
                    r.hi = Some(emitted);
                    nudge |= self.transport.done(r.lo, r.waiter.since, emitted);
                }
                ls.nudge |= nudge;
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

    fn handle_response_part(&mut self, id: RequestId, part: workboard_core::BodyPart, now_ms: u64) {
        self.conn.handle_response_part(id, part, now_ms);
    }
}

#[derive(Default)]
struct AbandonState {
    /// Requests being sent, with the waker of the one waiting to hear it is abandoned.
    in_flight: Vec<(RequestId, Option<Waker>)>,
    abandoned: Vec<RequestId>,
    /// Requests the connection emitted that have not finished (answered, failed, dropped).
    unfinished: Vec<RequestId>,
    /// The notifications among them.
    notifications: Vec<RequestId>,
}

/// The loop's transport: stops waiting for responses the connection no longer wants (the
/// request of a cancelled call; a server need not answer it) and drops the host
/// transport's future for them (the app's transport sees its task cancelled).
struct Abandoning<'t, T> {
    inner: &'t T,
    state: RefCell<AbandonState>,
}

impl<'t, T: Transport> Abandoning<'t, T> {
    fn new(inner: &'t T) -> Self {
        Abandoning {
            inner,
            state: RefCell::default(),
        }
    }

    /// Whether every emitted request with an id in `(lo, hi]` has finished, and every
    /// notification with an id in `(since, hi]`.
    fn done(&self, lo: u64, since: u64, hi: u64) -> bool {
        let s = self.state.borrow();
        !s.unfinished.iter().any(|r| r.0 > lo && r.0 <= hi)
            && !s.notifications.iter().any(|r| r.0 > since && r.0 <= hi)
    }

    /// Stops waiting for the requests in flight that `conn` has abandoned.
    fn sweep(&self, conn: &Connection) {
        let mut s = self.state.borrow_mut();
        let AbandonState {
            in_flight,
            abandoned,
            ..
        } = &mut *s;
        for (id, waker) in in_flight.iter_mut() {
            if conn.is_request_abandoned(*id) && !abandoned.contains(id) {
                abandoned.push(*id);
                if let Some(w) = waker.take() {
                    w.wake();
                }
            }
        }
    }
}

/// A sink for a whole-body send.
struct NoParts;

impl BodySink for NoParts {
    fn part(&self, _part: workboard_core::BodyPart) {}
}

/// Marks a request finished when its future ends, whichever way.
struct Finished<'a>(&'a RefCell<AbandonState>, RequestId);

impl Drop for Finished<'_> {
    fn drop(&mut self) {
        let mut s = self.0.borrow_mut();
        let id = self.1;
        s.unfinished.retain(|r| *r != id);
        s.notifications.retain(|r| *r != id);
        s.in_flight.retain(|(r, _)| *r != id);
        s.abandoned.retain(|r| *r != id);
    }
}

impl<T: Transport> Transport for Abandoning<'_, T> {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        self.send_streaming(request, &NoParts).await
    }

    async fn send_streaming(
        &self,
        request: HttpRequest,
        parts: &dyn BodySink,
    ) -> Result<HttpResponse, TransportError> {
        let id = request.id;
        let _finished = Finished(&self.state, id);
        self.state.borrow_mut().in_flight.push((id, None));
        let abandoned = future::poll_fn(|cx| {
            let mut s = self.state.borrow_mut();
            if s.abandoned.contains(&id) {
                return Poll::Ready(());
            }
            if let Some((_, w)) = s.in_flight.iter_mut().find(|(r, _)| *r == id) {
                *w = Some(cx.waker().clone());
            }
            Poll::Pending
        });
        let send = self.inner.send_streaming(request, parts);
        futures_util::pin_mut!(send);
        futures_util::pin_mut!(abandoned);
        match future::select(send, abandoned).await {
            Either::Left((r, _)) => r,
            Either::Right(_) => Err(TransportError::Cancelled),
        }
    }
}
