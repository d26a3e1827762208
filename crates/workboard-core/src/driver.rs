//! The one run loop: [`drive`] feeds a sans-IO [`SansIo`] machine from a host [`Transport`]
//! and [`Clock`]. Adapters (native, wasm, ffi) supply only those two traits (and entropy).
//!
//! Requests the machine emits are sent concurrently; each response is handed back with the
//! clock's current time. Timers (retry delays) are honoured through [`Clock::sleep_ms`].
//! No `Send` bound anywhere, so it runs on single-threaded wasm too; with a concrete `Send`
//! transport the future is `Send`.

use std::future::Future;
use std::pin::Pin;

use futures_util::future::{self, Either};
use futures_util::stream::{FuturesUnordered, StreamExt};

use crate::http::{HttpRequest, HttpResponse, RequestId, TransportError};

/// Sends one HTTP request and returns the whole response. Supplied by the host.
#[allow(async_fn_in_trait)]
pub trait Transport {
    /// Sends `request` and waits for the complete response.
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError>;
}

impl<T: Transport + ?Sized> Transport for &T {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        (**self).send(request).await
    }
}

/// Time, supplied by the host.
#[allow(async_fn_in_trait)]
pub trait Clock {
    /// Unix time in milliseconds.
    fn now_ms(&self) -> u64;
    /// Waits `ms` milliseconds.
    async fn sleep_ms(&self, ms: u64);
}

impl<C: Clock + ?Sized> Clock for &C {
    fn now_ms(&self) -> u64 {
        (**self).now_ms()
    }
    async fn sleep_ms(&self, ms: u64) {
        (**self).sleep_ms(ms).await
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
}

type Pending<'a> = Pin<Box<dyn Future<Output = (RequestId, Result<HttpResponse, TransportError>)> + 'a>>;

/// Runs `machine` until it has no request in flight, none to send and no deadline.
///
/// Afterwards, drain the machine's events/results (each machine documents its `poll_event`).
pub async fn drive<M, T, C>(machine: &mut M, transport: &T, clock: &C)
where
    M: SansIo + ?Sized,
    T: Transport + ?Sized,
    C: Clock + ?Sized,
{
    let mut in_flight: FuturesUnordered<Pending<'_>> = FuturesUnordered::new();
    loop {
        while let Some(req) = machine.poll_request() {
            let id = req.id;
            in_flight.push(Box::pin(async move { (id, transport.send(req).await) }));
        }
        let deadline = machine.poll_timeout();
        if in_flight.is_empty() {
            let Some(deadline) = deadline else { return };
            let now = clock.now_ms();
            if deadline > now {
                clock.sleep_ms(deadline - now).await;
            }
            machine.handle_timeout(clock.now_ms());
            continue;
        }
        match deadline {
            None => {
                if let Some((id, res)) = in_flight.next().await {
                    machine.handle_response(id, res, clock.now_ms());
                }
            }
            Some(deadline) => {
                let now = clock.now_ms();
                let wait = deadline.saturating_sub(now);
                let sleep = Box::pin(clock.sleep_ms(wait));
                match future::select(in_flight.next(), sleep).await {
                    Either::Left((Some((id, res)), _)) => {
                        machine.handle_response(id, res, clock.now_ms())
                    }
                    Either::Left((None, _)) => {}
                    Either::Right(((), _)) => machine.handle_timeout(clock.now_ms()),
                }
            }
        }
    }
}
