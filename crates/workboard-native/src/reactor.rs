//! [`Reactor`]: the threads that run clients' connection loops.
//!
//! The core's run loop is deliberately not `Send` (the same code runs on single-threaded
//! WebAssembly), so each [`crate::Client`]'s loop is a task on a thread of its own
//! current-thread Tokio runtime with a `LocalSet`. A reactor has a few such threads (one per
//! core by default) and places clients on them in turn; thousands of clients share them.
//! The client handles themselves are `Send + Sync` and usable from any runtime.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use tokio::sync::mpsc;
use workboard_core::Error;

type Job = Box<dyn FnOnce() -> Pin<Box<dyn Future<Output = ()>>> + Send>;

/// A set of threads running client loops. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Reactor {
    inner: Arc<ReactorInner>,
}

#[derive(Debug)]
struct ReactorInner {
    threads: Vec<mpsc::UnboundedSender<Job>>,
    next: AtomicUsize,
}

impl Reactor {
    /// A reactor with `threads` threads (at least one).
    pub fn new(threads: usize) -> Result<Reactor, Error> {
        let mut senders = Vec::new();
        for i in 0..threads.max(1) {
            let (tx, mut rx) = mpsc::unbounded_channel::<Job>();
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| reactor_error(format!("cannot start a runtime: {e}")))?;
            std::thread::Builder::new()
                .name(format!("workboard-reactor-{i}"))
                .spawn(move || {
                    let local = tokio::task::LocalSet::new();
                    local.block_on(&runtime, async move {
                        while let Some(job) = rx.recv().await {
                            tokio::task::spawn_local(job());
                        }
                    });
                    // Every sender is gone: finish the loops still running.
                    runtime.block_on(local);
                })
                .map_err(|e| reactor_error(format!("cannot start a thread: {e}")))?;
            senders.push(tx);
        }
        Ok(Reactor {
            inner: Arc::new(ReactorInner {
                threads: senders,
                next: AtomicUsize::new(0),
            }),
        })
    }

    /// The process-wide reactor (one thread per available core, at most 4), started on
    /// first use.
    pub fn global() -> Reactor {
        static GLOBAL: OnceLock<Reactor> = OnceLock::new();
        GLOBAL
            .get_or_init(|| {
                let n = std::thread::available_parallelism()
                    .map(|n| n.get())
                    .unwrap_or(1)
                    .min(4);
                // Thread creation failing at start-up leaves nothing sensible to run on;
                // clients then fail with a typed error from `spawn`.
                Reactor::new(n).unwrap_or_else(|_| Reactor {
                    inner: Arc::new(ReactorInner {
                        threads: Vec::new(),
                        next: AtomicUsize::new(0),
                    }),
                })
            })
            .clone()
    }

    /// Runs the future made by `make` on one of the threads.
    pub(crate) fn spawn<F, Fut>(&self, make: F) -> Result<(), Error>
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = ()> + 'static,
    {
        let n = self.inner.threads.len();
        if n == 0 {
            return Err(reactor_error("no reactor thread could be started".into()));
        }
        let i = self.inner.next.fetch_add(1, Ordering::Relaxed) % n;
        self.inner.threads[i]
            .send(Box::new(move || Box::pin(make())))
            .map_err(|_| reactor_error("the reactor thread has stopped".into()))
    }
}

fn reactor_error(reason: String) -> Error {
    Error::Protocol {
        reason: format!("workboard-native reactor: {reason}"),
    }
}
