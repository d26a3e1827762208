//! The one run loop: [`drive`] feeds a sans-IO [`SansIo`] machine from a host [`Transport`]
//! and [`Clock`]. Adapters (native, wasm, ffi) supply only those two traits (and entropy).
//!
//! Requests the machine emits are sent concurrently; each response is handed back with the
//! clock's current time. Timers (retry delays) are honoured through [`Clock::sleep_ms`].
//! No `Send` bound anywhere, so it runs on single-threaded wasm too; with a concrete `Send`
//! transport the future is `Send`.

use std::future::Future;
use std::pin::Pin;

use futures_util::future;
use futures_util::stream::{FuturesUnordered, StreamExt};

use crate::http::{HttpRequest, HttpResponse, RequestId, TransportError};

/// Sends one HTTP request and returns the whole response. Supplied by the host.
#[allow(async_fn_in_trait)]
pub trait Transport {
    /// Sends `request` and waits for the complete response.
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError>;

    /// Sends `request` and, when the response is an event stream (`text/event-stream`),
    /// hands its head and then each piece of its body to `parts` as they arrive, before the
    /// stream ends; then returns the complete response (the whole body) as [`send`] does.
    /// A machine reads the stream from the parts (a server request it must answer while
    /// the stream stays open, a result on a stream that never ends) and the rest from the
    /// response. Default: [`send`], no parts (a whole-body transport).
    ///
    /// [`send`]: Transport::send
    async fn send_streaming(
        &self,
        request: HttpRequest,
        parts: &dyn BodySink,
    ) -> Result<HttpResponse, TransportError> {
        let _ = parts;
        self.send(request).await
    }
}

impl<T: Transport + ?Sized> Transport for &T {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        (**self).send(request).await
    }
    async fn send_streaming(
        &self,
        request: HttpRequest,
        parts: &dyn BodySink,
    ) -> Result<HttpResponse, TransportError> {
        (**self).send_streaming(request, parts).await
    }
}

/// A piece of a response handed over while it arrives ([`Transport::send_streaming`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BodyPart {
    /// The status and headers (first).
    Head {
        /// HTTP status.
        status: u16,
        /// Headers as received.
        headers: Vec<(String, String)>,
    },
    /// The next bytes of the body.
    Chunk(Vec<u8>),
}

/// Where a streaming transport hands the parts of one response.
pub trait BodySink {
    /// The next part of the response being received.
    fn part(&self, part: BodyPart);
}

/// Time, supplied by the host.
#[allow(async_fn_in_trait)]
pub trait Clock {
    /// Unix time in milliseconds.
    fn now_ms(&self) -> u64;
    /// Waits `ms` milliseconds.
    async fn sleep_ms(&self, ms: u64);
    /// A simulated clock (tests, transcript replay) whose time moves only when the run loop
    /// sleeps on it. The run loop then lets time pass only while nothing is in flight, as in
    /// a discrete-event simulation: a response on its way always arrives before a timer
    /// fires (otherwise the whole-call deadline, a timer whenever a call is in flight, would
    /// jump the clock ahead and time every call out while the transport is still answering).
    fn is_simulated(&self) -> bool {
        false
    }
}

impl<C: Clock + ?Sized> Clock for &C {
    fn now_ms(&self) -> u64 {
        (**self).now_ms()
    }
    async fn sleep_ms(&self, ms: u64) {
        (**self).sleep_ms(ms).await
    }
    fn is_simulated(&self) -> bool {
        (**self).is_simulated()
    }
}

/// What every sans-IO machine of this crate exposes to the run loop.
///
/// Call order: drain [`SansIo::poll_request`] until `None` and send each request; feed each
/// response (or transport error) to [`SansIo::handle_response`]; when
/// [`SansIo::poll_timeout`] returns a deadline and nothing arrives before it, call
/// [`SansIo::handle_timeout`]. Repeat until there is nothing in flight and no deadline.
pub trait SansIo {
    /// Next request to send, if any.
    fn poll_request(&mut self) -> Option<HttpRequest>;
    /// The response (or transport failure) for request `id`, received at `now_ms`.
    fn handle_response(
        &mut self,
        id: RequestId,
        response: Result<HttpResponse, TransportError>,
        now_ms: u64,
    );
    /// Earliest time (unix ms) at which the machine wants [`SansIo::handle_timeout`].
    fn poll_timeout(&self) -> Option<u64> {
        None
    }
    /// The deadline from [`SansIo::poll_timeout`] has passed.
    fn handle_timeout(&mut self, _now_ms: u64) {}
    /// A part of the response to request `id` while it arrives (streaming transports:
    /// [`Transport::send_streaming`]); [`SansIo::handle_response`] still gets the whole
    /// response at the end. Default: ignored (the machine reads the whole response).
    fn handle_response_part(&mut self, _id: RequestId, _part: BodyPart, _now_ms: u64) {}
}

/// The run loop's sink: parts queued for the loop, which is woken to hand them over.
#[derive(Default)]
struct Parts {
    queue: std::cell::RefCell<std::collections::VecDeque<(RequestId, BodyPart)>>,
    waker: std::cell::RefCell<Option<std::task::Waker>>,
}

struct PartSink<'a> {
    parts: &'a Parts,
    id: RequestId,
}

impl BodySink for PartSink<'_> {
    fn part(&self, part: BodyPart) {
        self.parts.queue.borrow_mut().push_back((self.id, part));
        if let Some(w) = self.parts.waker.borrow_mut().take() {
            w.wake();
        }
    }
}

type Pending<'a> =
    Pin<Box<dyn Future<Output = (RequestId, Result<HttpResponse, TransportError>)> + 'a>>;
type Sleep<'a> = Pin<Box<dyn Future<Output = ()> + 'a>>;

/// Runs `machine` until it has no request in flight, none to send and no deadline.
///
/// Afterwards, drain the machine's events/results (each machine documents its `poll_event`).
///
/// `drive` answers nothing on the app's behalf: a connection call waiting for the app's input
/// (`ConnectionEvent::InputRequired`, a legacy server's `ConnectionEvent::ServerRequest`)
/// keeps its deadline, so `drive` runs on until that deadline passes and the call fails with
/// `timeout` (at once on a simulated clock). Answer input while the machine runs instead: in
/// [`run`]'s `after_step` (`Connection::provide_input`, `Connection::answer_server_request`),
/// as the client layer does.
pub async fn drive<M, T, C>(machine: &mut M, transport: &T, clock: &C)
where
    M: SansIo + ?Sized,
    T: Transport + ?Sized,
    C: Clock + ?Sized,
{
    run(
        machine,
        transport,
        clock,
        futures_util::stream::empty::<fn(&mut M)>(),
        |_| {},
    )
    .await
}

/// The long-running form of [`drive`], for adapters that serve many concurrent callers.
///
/// Besides responses and timers, it takes commands from `inbox` (each a closure applied to
/// the machine: submit a call, cancel, close...) and calls `after_step` after every input so
/// the adapter can drain events and results (persist credentials, wake waiting callers).
/// Returns when the inbox has ended and the machine is idle (nothing to send, nothing in
/// flight, no deadline).
pub async fn run<M, T, C, S, F>(
    machine: &mut M,
    transport: &T,
    clock: &C,
    inbox: S,
    mut after_step: impl FnMut(&mut M),
) where
    M: SansIo + ?Sized,
    T: Transport + ?Sized,
    C: Clock + ?Sized,
    S: futures_util::Stream<Item = F>,
    F: FnOnce(&mut M),
{
    use std::task::Poll;

    enum Wake<F> {
        Part(RequestId, BodyPart),
        Response(RequestId, Result<HttpResponse, TransportError>),
        Command(F),
        InboxClosed,
        Timer,
    }

    let parts = Parts::default();
    let parts = &parts;
    let mut inbox = Box::pin(inbox);
    let mut inbox_open = true;
    let mut in_flight: FuturesUnordered<Pending<'_>> = FuturesUnordered::new();
    // A response read together with a command that came first: handled after it.
    let mut held: Option<(RequestId, Result<HttpResponse, TransportError>)> = None;
    let mut sleep: Option<(u64, Sleep<'_>)> = None;
    let simulated = clock.is_simulated();
    loop {
        while let Some(req) = machine.poll_request() {
            let id = req.id;
            in_flight.push(Box::pin(async move {
                let sink = PartSink { parts, id };
                (id, transport.send_streaming(req, &sink).await)
            }));
        }
        let deadline = machine.poll_timeout();
        if !inbox_open && in_flight.is_empty() && held.is_none() && deadline.is_none() {
            return;
        }
        match deadline {
            None => sleep = None,
            Some(d) if sleep.as_ref().map(|(sd, _)| *sd) != Some(d) => {
                let wait = d.saturating_sub(clock.now_ms());
                sleep = Some((d, Box::pin(clock.sleep_ms(wait))));
            }
            Some(_) => {}
        }
        let wake = future::poll_fn(|cx| {
            // Commands first: what callers asked for before a response arrived is applied
            // before it (an app's refresh joins the refresh in flight; a cancel beats the
            // answer it cancels).
            let mut command = |cx: &mut std::task::Context<'_>| match inbox_open {
                true => match inbox.as_mut().poll_next(cx) {
                    Poll::Ready(Some(cmd)) => Some(Wake::Command(cmd)),
                    Poll::Ready(None) => Some(Wake::InboxClosed),
                    Poll::Pending => None,
                },
                false => None,
            };
            if let Some(w) = command(cx) {
                return Poll::Ready(w);
            }
            // Parts before any response: a stream's parts come before its end.
            if let Some((id, part)) = parts.queue.borrow_mut().pop_front() {
                return Poll::Ready(Wake::Part(id, part));
            }
            *parts.waker.borrow_mut() = Some(cx.waker().clone());
            if let Some((id, res)) = held.take() {
                return Poll::Ready(Wake::Response(id, res));
            }
            if !in_flight.is_empty() {
                if let Poll::Ready(Some((id, res))) = in_flight.poll_next_unpin(cx) {
                    // Parts the finished request handed over go first.
                    if let Some((pid, part)) = parts.queue.borrow_mut().pop_front() {
                        held = Some((id, res));
                        return Poll::Ready(Wake::Part(pid, part));
                    }
                    // The thread may have paused between the two polls (preempted, or in a
                    // foreign call): a command that came meanwhile still goes first.
                    if let Some(w) = command(cx) {
                        held = Some((id, res));
                        return Poll::Ready(w);
                    }
                    return Poll::Ready(Wake::Response(id, res));
                }
            }
            // Simulated time does not pass while a request is in flight (see
            // `Clock::is_simulated`): its response wakes the loop first.
            let time_may_pass = !simulated || in_flight.is_empty();
            if let (Some((_, s)), true) = (sleep.as_mut(), time_may_pass) {
                if s.as_mut().poll(cx).is_ready() {
                    return Poll::Ready(Wake::Timer);
                }
            }
            Poll::Pending
        })
        .await;
        match wake {
            Wake::Part(id, part) => machine.handle_response_part(id, part, clock.now_ms()),
            Wake::Response(id, res) => machine.handle_response(id, res, clock.now_ms()),
            Wake::Command(cmd) => cmd(machine),
            Wake::InboxClosed => inbox_open = false,
            Wake::Timer => {
                sleep = None;
                machine.handle_timeout(clock.now_ms());
            }
        }
        after_step(machine);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::type_complexity)]
    use super::*;
    use crate::http::Method;
    use std::cell::Cell;

    struct Clk(Cell<u64>);
    impl Clock for Clk {
        fn now_ms(&self) -> u64 {
            self.0.get()
        }
        async fn sleep_ms(&self, ms: u64) {
            self.0.set(self.0.get() + ms)
        }
    }

    struct Echo;
    impl Transport for Echo {
        async fn send(&self, r: HttpRequest) -> Result<HttpResponse, TransportError> {
            Ok(HttpResponse::new(200, vec![], r.url.into_bytes()))
        }
    }

    /// Sends two requests at once, then waits 500 ms, then one more.
    #[derive(Default)]
    struct M {
        queue: Vec<HttpRequest>,
        got: Vec<(u64, String, u64)>,
        timer: Option<u64>,
        fired: bool,
    }
    fn req(id: u64) -> HttpRequest {
        HttpRequest {
            id: RequestId(id),
            method: Method::Get,
            url: format!("u{id}"),
            headers: vec![],
            body: vec![],
        }
    }
    impl SansIo for M {
        fn poll_request(&mut self) -> Option<HttpRequest> {
            self.queue.pop()
        }
        fn handle_response(
            &mut self,
            id: RequestId,
            r: Result<HttpResponse, TransportError>,
            now: u64,
        ) {
            self.got
                .push((id.0, String::from_utf8(r.unwrap().body).unwrap(), now));
            if self.got.len() == 2 && !self.fired {
                self.timer = Some(now + 500);
            }
        }
        fn poll_timeout(&self) -> Option<u64> {
            self.timer
        }
        fn handle_timeout(&mut self, _now: u64) {
            self.timer = None;
            self.fired = true;
            self.queue.push(req(3));
        }
    }

    /// Hands two parts over, then the whole response.
    struct Streaming;
    impl Transport for Streaming {
        async fn send(&self, r: HttpRequest) -> Result<HttpResponse, TransportError> {
            Ok(HttpResponse::new(200, vec![], r.url.into_bytes()))
        }
        async fn send_streaming(
            &self,
            r: HttpRequest,
            parts: &dyn BodySink,
        ) -> Result<HttpResponse, TransportError> {
            parts.part(BodyPart::Head {
                status: 200,
                headers: vec![],
            });
            parts.part(BodyPart::Chunk(b"a".to_vec()));
            Ok(HttpResponse::new(200, vec![], r.url.into_bytes()))
        }
    }

    #[derive(Default)]
    struct Log(Vec<String>, bool);
    impl SansIo for Log {
        fn poll_request(&mut self) -> Option<HttpRequest> {
            (!std::mem::replace(&mut self.1, true)).then(|| req(1))
        }
        fn handle_response(
            &mut self,
            _id: RequestId,
            _r: Result<HttpResponse, TransportError>,
            _now: u64,
        ) {
            self.0.push("response".into());
        }
        fn handle_response_part(&mut self, _id: RequestId, part: BodyPart, _now: u64) {
            self.0.push(match part {
                BodyPart::Head { .. } => "head".into(),
                BodyPart::Chunk(c) => format!("chunk {}", c.len()),
            });
        }
    }

    #[test]
    fn parts_reach_the_machine_before_the_response() {
        let mut m = Log::default();
        futures_executor::block_on(drive(&mut m, &Streaming, &Clk(Cell::new(0))));
        assert_eq!(m.0, ["head", "chunk 1", "response"]);
        // A whole-body transport hands no parts over.
        let mut m = Log::default();
        futures_executor::block_on(drive(&mut m, &Echo, &Clk(Cell::new(0))));
        assert_eq!(m.0, ["response"]);
    }

    #[test]
    fn drive_runs_until_idle_with_timers() {
        let mut m = M {
            queue: vec![req(1), req(2)],
            ..Default::default()
        };
        let clock = Clk(Cell::new(1000));
        futures_executor::block_on(drive(&mut m, &Echo, &clock));
        assert_eq!(m.got.len(), 3);
        assert_eq!(m.got[2], (3, "u3".into(), 1500));
    }

    #[test]
    fn run_applies_commands_then_ends_when_inbox_closes() {
        let mut m = M::default();
        let clock = Clk(Cell::new(0));
        let cmds: Vec<Box<dyn FnOnce(&mut M)>> = vec![
            Box::new(|m: &mut M| m.queue.push(req(7))),
            Box::new(|m: &mut M| m.queue.push(req(8))),
        ];
        let mut steps = 0;
        futures_executor::block_on(run(
            &mut m,
            &Echo,
            &clock,
            futures_util::stream::iter(cmds),
            |_| steps += 1,
        ));
        assert!(m.got.iter().any(|g| g.0 == 7) && m.got.iter().any(|g| g.0 == 8));
        assert!(steps >= 4);
    }

    /// A simulated clock (time moves only when slept on).
    struct SimClk(Cell<u64>);
    impl Clock for SimClk {
        fn now_ms(&self) -> u64 {
            self.0.get()
        }
        async fn sleep_ms(&self, ms: u64) {
            self.0.set(self.0.get() + ms)
        }
        fn is_simulated(&self) -> bool {
            true
        }
    }

    /// Answers after yielding a few times, as a JavaScript or foreign transport does.
    struct Later;
    impl Transport for Later {
        async fn send(&self, r: HttpRequest) -> Result<HttpResponse, TransportError> {
            let mut yields = 0;
            future::poll_fn(|cx| {
                if yields == 3 {
                    std::task::Poll::Ready(())
                } else {
                    yields += 1;
                    cx.waker().wake_by_ref();
                    std::task::Poll::Pending
                }
            })
            .await;
            Ok(HttpResponse::new(200, vec![], r.url.into_bytes()))
        }
    }

    /// A deadline pending while the request is in flight (a call's whole-call deadline).
    #[derive(Default)]
    struct Deadline {
        queue: Vec<HttpRequest>,
        answered_at: Option<u64>,
        timed_out: bool,
    }
    impl SansIo for Deadline {
        fn poll_request(&mut self) -> Option<HttpRequest> {
            self.queue.pop()
        }
        fn handle_response(
            &mut self,
            _: RequestId,
            _: Result<HttpResponse, TransportError>,
            now: u64,
        ) {
            self.answered_at = Some(now);
        }
        fn poll_timeout(&self) -> Option<u64> {
            (self.answered_at.is_none() && !self.timed_out).then_some(120_000)
        }
        fn handle_timeout(&mut self, _now: u64) {
            self.timed_out = true;
        }
    }

    /// Records what reached it, in order.
    #[derive(Default)]
    struct Order {
        queue: Vec<HttpRequest>,
        seen: Vec<&'static str>,
    }
    impl SansIo for Order {
        fn poll_request(&mut self) -> Option<HttpRequest> {
            self.queue.pop()
        }
        fn handle_response(
            &mut self,
            _: RequestId,
            _: Result<HttpResponse, TransportError>,
            _: u64,
        ) {
            self.seen.push("response");
        }
    }

    /// Answers at once, and a command arrives while it does (as when the loop's thread
    /// pauses between polling the inbox and polling the requests).
    struct WithCommand(std::rc::Rc<Cell<u8>>);
    impl Transport for WithCommand {
        async fn send(&self, r: HttpRequest) -> Result<HttpResponse, TransportError> {
            self.0.set(1);
            Ok(HttpResponse::new(200, vec![], r.url.into_bytes()))
        }
    }

    #[test]
    fn a_command_that_arrives_with_a_response_is_applied_before_it() {
        // 0: nothing yet, 1: a command waits, 2: it was taken.
        let inbox_state = std::rc::Rc::new(Cell::new(0u8));
        let s = inbox_state.clone();
        let inbox = futures_util::stream::poll_fn(move |_| match s.get() {
            1 => {
                s.set(2);
                std::task::Poll::Ready(Some(|m: &mut Order| m.seen.push("command")))
            }
            2 => std::task::Poll::Ready(None),
            _ => std::task::Poll::Pending,
        });
        let mut m = Order {
            queue: vec![req(1)],
            ..Default::default()
        };
        futures_executor::block_on(run(
            &mut m,
            &WithCommand(inbox_state),
            &Clk(Cell::new(0)),
            inbox,
            |_| {},
        ));
        assert_eq!(m.seen, ["command", "response"]);
    }

    #[test]
    fn simulated_time_does_not_pass_while_a_request_is_in_flight() {
        let mut m = Deadline {
            queue: vec![req(1)],
            ..Default::default()
        };
        let clock = SimClk(Cell::new(0));
        futures_executor::block_on(drive(&mut m, &Later, &clock));
        assert!(!m.timed_out);
        assert_eq!(m.answered_at, Some(0));
        // A real clock's timer races the response as it should (here an instant one wins).
        let mut m = Deadline {
            queue: vec![req(1)],
            ..Default::default()
        };
        futures_executor::block_on(drive(&mut m, &Later, &Clk(Cell::new(0))));
        assert!(m.timed_out);
    }
}
