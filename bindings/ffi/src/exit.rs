//! Calls into the app from this library's threads, and the process exit.
//!
//! An async call's result reaches the app by waking its future, and in Python that wake is a
//! callback into the interpreter made from one of this library's threads; so are the calls
//! of the app's transport, store and listener, and the release of those objects. CPython
//! kills any such thread that asks for the interpreter while it shuts down (`pthread_exit`),
//! and the forced unwind through Rust frames aborts the process ("FATAL: exception not
//! rethrown", exit 134) after the app's work was done — seen about once in 50 runs of a
//! script whose last line awaited a call. So every such call goes through the guard
//! ([`HandOver`], [`hand_over`], [`call`], [`release`], [`Guarded`]), which counts those in
//! progress, and [`shutdown_for_exit`] (registered with `atexit` by the Python package,
//! before the interpreter starts shutting down) stops new ones and waits for those in
//! progress, while the interpreter is still whole.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Condvar, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::sync::oneshot;

/// The longest [`shutdown_for_exit`] waits for hand-overs in progress.
const EXIT_WAIT: Duration = Duration::from_secs(2);

struct State {
    exiting: bool,
    in_progress: usize,
}

/// Counts hand-overs in progress and, once exiting, refuses new ones.
pub(crate) struct ExitGuard {
    state: Mutex<State>,
    done: Condvar,
}

/// The process's guard.
static GUARD: ExitGuard = ExitGuard::new();

/// Stops handing results to the app and waits (at most 2 s) for the hand-overs in progress.
/// For process exit only: afterwards no async call of this library completes. The Python
/// package calls it from `atexit`; Kotlin and Swift apps do not need it.
#[uniffi::export]
pub fn shutdown_for_exit() {
    GUARD.shutdown(EXIT_WAIT);
}

impl ExitGuard {
    const fn new() -> ExitGuard {
        ExitGuard {
            state: Mutex::new(State {
                exiting: false,
                in_progress: 0,
            }),
            done: Condvar::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Refuses new hand-overs, then waits up to `wait` for those in progress.
    fn shutdown(&self, wait: Duration) {
        let mut s = self.lock();
        s.exiting = true;
        let _ = self
            .done
            .wait_timeout_while(s, wait, |s| s.in_progress > 0)
            .unwrap_or_else(|e| e.into_inner());
    }

    /// Runs `deliver(value)` unless exiting (then `value` is leaked: dropping it could wake
    /// the app too, and `false` is returned).
    fn guarded<V>(&self, value: V, deliver: impl FnOnce(V)) -> bool {
        {
            let mut s = self.lock();
            if s.exiting {
                std::mem::forget(value);
                return false;
            }
            s.in_progress += 1;
        }
        deliver(value);
        let mut s = self.lock();
        s.in_progress -= 1;
        if s.in_progress == 0 {
            self.done.notify_all();
        }
        true
    }
}

/// The client layer's hand-over of a call's result ([`workboard_client::Host::hand_over`])
/// under the process's guard. Once exiting, the result must be neither delivered nor dropped
/// (either wakes the app), and the layer drops what `deliver` did not send: this thread (the
/// client's loop) then waits for the process to end instead of returning.
pub(crate) fn hand_over(deliver: &mut dyn FnMut()) {
    if !GUARD.guarded((), |()| deliver()) {
        loop {
            std::thread::park();
        }
    }
}

/// Runs `f` (a call into the app) under the guard; `None` once the process exits.
pub(crate) fn call<T>(f: impl FnOnce() -> T) -> Option<T> {
    let mut out = None;
    GUARD.guarded((), |()| out = Some(f()));
    out
}

/// Drops `value` (an object of the app: its release calls into the app) under the guard, or
/// leaks it once the process exits.
pub(crate) fn release<V>(value: V) {
    GUARD.guarded(value, drop);
}

/// A future of the app's code (the app's transport), polled and dropped under the guard:
/// once the process exits it ends with `None` and is leaked rather than dropped.
pub(crate) struct Guarded<F: Future + Unpin>(Option<F>);

impl<F: Future + Unpin> Guarded<F> {
    pub(crate) fn new(f: F) -> Self {
        Guarded(Some(f))
    }
}

impl<F: Future + Unpin> Future for Guarded<F> {
    type Output = Option<F::Output>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let Some(f) = self.0.as_mut() else {
            return Poll::Ready(None);
        };
        call(|| Pin::new(f).poll(cx).map(Some)).unwrap_or(Poll::Ready(None))
    }
}

impl<F: Future + Unpin> Drop for Guarded<F> {
    fn drop(&mut self) {
        if let Some(f) = self.0.take() {
            release(f);
        }
    }
}

/// The sending half of a result for an awaiting app. Sending it, or dropping it unsent
/// (which wakes the receiver too), happens under the exit guard.
pub(crate) struct HandOver<T> {
    tx: Option<oneshot::Sender<T>>,
    guard: &'static ExitGuard,
}

impl<T> HandOver<T> {
    /// A hand-over and the receiver the app's future awaits.
    pub(crate) fn channel() -> (HandOver<T>, oneshot::Receiver<T>) {
        Self::channel_with(&GUARD)
    }

    fn channel_with(guard: &'static ExitGuard) -> (HandOver<T>, oneshot::Receiver<T>) {
        let (tx, rx) = oneshot::channel();
        (
            HandOver {
                tx: Some(tx),
                guard,
            },
            rx,
        )
    }

    /// Hands `value` over (nothing happens if the receiver is gone or the process exits).
    pub(crate) fn send(mut self, value: T) {
        if let Some(tx) = self.tx.take() {
            self.guard.guarded((tx, value), |(tx, value)| {
                let _ = tx.send(value);
            });
        }
    }
}

impl<T> Drop for HandOver<T> {
    fn drop(&mut self) {
        if let Some(tx) = self.tx.take() {
            self.guard.guarded(tx, drop);
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn guard() -> &'static ExitGuard {
        Box::leak(Box::new(ExitGuard::new()))
    }

    /// A hand-over in progress on another thread: its delivery blocks until `release` is
    /// sent. Returns once the delivery has started.
    fn delivery_in_progress(
        g: &'static ExitGuard,
    ) -> (std::thread::JoinHandle<()>, std::sync::mpsc::Sender<()>) {
        let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
        let (started_tx, started_rx) = std::sync::mpsc::channel::<()>();
        let delivering = std::thread::spawn(move || {
            g.guarded((), |()| {
                started_tx.send(()).unwrap();
                release_rx.recv().unwrap();
            });
        });
        started_rx.recv().unwrap();
        (delivering, release_tx)
    }

    #[test]
    fn hand_overs_deliver_a_value_or_tell_that_none_comes() {
        let g = guard();
        let (tx, rx) = HandOver::channel_with(g);
        tx.send(1);
        assert_eq!(futures_executor::block_on(rx).unwrap(), 1);
        let (tx, rx) = HandOver::<u8>::channel_with(g);
        drop(tx);
        assert!(futures_executor::block_on(rx).is_err());
        assert_eq!(g.lock().in_progress, 0);
    }

    #[test]
    fn exit_waits_for_a_hand_over_in_progress_then_refuses_new_ones() {
        let g = guard();
        let (delivering, release_tx) = delivery_in_progress(g);
        let exiting = std::thread::spawn(move || g.shutdown(Duration::from_secs(600)));
        while !g.lock().exiting {
            std::thread::yield_now();
        }
        // Flagged, but held by the delivery until it is released.
        assert_eq!(g.lock().in_progress, 1);
        assert!(!exiting.is_finished());
        release_tx.send(()).unwrap();
        delivering.join().unwrap();
        exiting.join().unwrap();
        assert_eq!(g.lock().in_progress, 0);

        // After the exit nothing is handed over, sent or dropped: the receivers stay pending.
        let (tx, mut rx) = HandOver::channel_with(g);
        tx.send(2);
        assert!(matches!(
            rx.try_recv(),
            Err(oneshot::error::TryRecvError::Empty)
        ));
        let (tx, mut rx) = HandOver::<u8>::channel_with(g);
        drop(tx);
        assert!(matches!(
            rx.try_recv(),
            Err(oneshot::error::TryRecvError::Empty)
        ));
    }

    #[test]
    fn exit_gives_up_waiting_after_its_limit() {
        let g = guard();
        let (delivering, release_tx) = delivery_in_progress(g);
        // Returns although the delivery is still in progress: an exit never hangs.
        g.shutdown(Duration::from_millis(1));
        assert_eq!(g.lock().in_progress, 1);
        release_tx.send(()).unwrap();
        delivering.join().unwrap();
    }
}
