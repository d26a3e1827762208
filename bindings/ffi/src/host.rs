//! Host capabilities: the HTTP transport (the app's own, or the built-in reqwest one), the
//! clock (system, or a manual clock for tests), entropy, credential storage, and the
//! runtime the core's run loop executes on.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use workboard_core as wb;
use workboard_native::{ReqwestTransport, SystemClock};

use crate::error::{HostError, WorkboardError};
use crate::exit::HandOver;

/// One HTTP header.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct HttpHeader {
    /// Name as written.
    pub name: String,
    /// Value.
    pub value: String,
}

/// A request the app's [`Transport`] must send exactly as given (method, URL, headers in
/// order, body). Do not follow redirects: return 3xx responses as they are.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct HttpRequest {
    /// `GET`, `POST` or `DELETE`.
    pub method: String,
    /// Absolute URL.
    pub url: String,
    /// Headers in sending order. `Authorization` values are secrets: never log them.
    pub headers: Vec<HttpHeader>,
    /// Body bytes (empty for none).
    pub body: Vec<u8>,
}

/// The complete response.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// Headers as received.
    pub headers: Vec<HttpHeader>,
    /// Body bytes.
    pub body: Vec<u8>,
}

impl From<wb::HttpRequest> for HttpRequest {
    fn from(r: wb::HttpRequest) -> Self {
        HttpRequest {
            method: r.method.as_str().to_string(),
            url: r.url,
            headers: r
                .headers
                .into_iter()
                .map(|(name, value)| HttpHeader { name, value })
                .collect(),
            body: r.body,
        }
    }
}

impl From<HttpResponse> for wb::HttpResponse {
    fn from(r: HttpResponse) -> Self {
        wb::HttpResponse::new(
            r.status,
            r.headers.into_iter().map(|h| (h.name, h.value)).collect(),
            r.body,
        )
    }
}

/// An HTTP client supplied by the app (OkHttp, URLSession, httpx...). When the app gives
/// none, the built-in one (reqwest with rustls) is used.
#[uniffi::export(with_foreign)]
#[async_trait::async_trait]
pub trait Transport: Send + Sync {
    /// Sends `request` and returns the whole response (any status). Throw a [`HostError`]
    /// only when no response was received; [`HostError::BodyTooLarge`] when the body is
    /// larger than the app reads (stop reading it: the call fails with `response_too_large`
    /// and is not replayed; the built-in transport's limit is 16 MiB).
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, HostError>;
}

/// Secure storage for the credentials JSON (Keychain, Android Keystore-backed storage...).
/// The JSON contains tokens: store it encrypted, never log it.
#[uniffi::export(with_foreign)]
pub trait CredentialStore: Send + Sync {
    /// The stored credentials JSON, or `None`.
    fn load(&self) -> Result<Option<String>, HostError>;
    /// Replaces the stored credentials.
    fn save(&self, credentials_json: String) -> Result<(), HostError>;
    /// Removes the stored credentials.
    fn clear(&self) -> Result<(), HostError>;
}

/// Told whenever the client's credentials change (sign-in, refresh, sign-out): `None`
/// means signed out. Errors thrown here are ignored.
#[uniffi::export(with_foreign)]
pub trait CredentialsListener: Send + Sync {
    /// The new credentials JSON (persist it), or `None`.
    fn on_credentials_changed(&self, credentials_json: Option<String>) -> Result<(), HostError>;
}

/// A clock that moves only when told, for tests and transcript replay. Waiting on it
/// (retry delays, call deadlines) advances it instantly once every request sent has its
/// answer (so a call with a request in flight is never timed out by it).
#[derive(Debug, uniffi::Object)]
pub struct ManualClock {
    now: AtomicU64,
}

#[uniffi::export]
impl ManualClock {
    /// A clock reading `start_ms` (unix milliseconds).
    #[uniffi::constructor]
    pub fn new(start_ms: u64) -> Arc<Self> {
        Arc::new(ManualClock {
            now: AtomicU64::new(start_ms),
        })
    }

    /// The current reading.
    pub fn now_ms(&self) -> u64 {
        self.now.load(Ordering::SeqCst)
    }

    /// Sets the reading.
    pub fn set_ms(&self, ms: u64) {
        self.now.store(ms, Ordering::SeqCst)
    }

    /// Moves the reading forward by `ms`.
    pub fn advance_ms(&self, ms: u64) {
        self.now.fetch_add(ms, Ordering::SeqCst);
    }
}

/// The transport in use.
#[derive(Clone)]
pub(crate) enum HostTransport {
    Builtin(ReqwestTransport),
    Foreign(Arc<dyn Transport>),
}

impl wb::Transport for HostTransport {
    async fn send(&self, request: wb::HttpRequest) -> Result<wb::HttpResponse, wb::TransportError> {
        match self {
            HostTransport::Builtin(t) => t.send(request).await,
            HostTransport::Foreign(t) => t
                .send(request.into())
                .await
                .map(Into::into)
                .map_err(Into::into),
        }
    }
}

/// The clock in use.
#[derive(Clone)]
pub(crate) enum HostClock {
    System,
    Manual(Arc<ManualClock>),
}

impl wb::Clock for HostClock {
    fn now_ms(&self) -> u64 {
        match self {
            HostClock::System => SystemClock.now_ms(),
            HostClock::Manual(c) => c.now_ms(),
        }
    }

    async fn sleep_ms(&self, ms: u64) {
        match self {
            HostClock::System => SystemClock.sleep_ms(ms).await,
            HostClock::Manual(c) => c.advance_ms(ms),
        }
    }

    fn is_simulated(&self) -> bool {
        matches!(self, HostClock::Manual(_))
    }
}

/// The tokio runtime the core's run loop executes on (the built-in transport and the system
/// clock's timers need it; a foreign transport's futures are awaited there too).
fn runtime() -> Result<&'static tokio::runtime::Runtime, WorkboardError> {
    static RT: OnceLock<Result<tokio::runtime::Runtime, String>> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("workboard-ffi")
            .enable_all()
            .build()
            .map_err(|e| e.to_string())
    })
    .as_ref()
    .map_err(|e| {
        wb::Error::Transport(wb::TransportError::Other(format!(
            "cannot start the runtime: {e}"
        )))
        .into()
    })
}

/// Runs `make()`'s future on the library's runtime and returns a `Send` future of its
/// output, awaitable from any executor (Kotlin coroutines, Swift tasks, asyncio).
///
/// The core's run loop is deliberately not `Send` (it also runs on single-threaded wasm), so
/// it is driven to completion on one blocking thread of the runtime.
pub(crate) async fn on_runtime<F, Fut, T>(make: F) -> Result<T, WorkboardError>
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = Result<T, WorkboardError>> + 'static,
    T: Send + 'static,
{
    spawn_on_runtime(make)?.await
}

/// Like [`on_runtime`], but the work starts at once and the returned future only waits for
/// its output: dropping it lets the work run on to its end.
pub(crate) fn spawn_on_runtime<F, Fut, T>(
    make: F,
) -> Result<impl Future<Output = Result<T, WorkboardError>> + Send + 'static, WorkboardError>
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = Result<T, WorkboardError>> + 'static,
    T: Send + 'static,
{
    let rt = runtime()?;
    let handle = rt.handle().clone();
    // The result comes back through a `HandOver`, not the task's `JoinHandle`: tokio would
    // wake the app's future from inside its own machinery, out of reach of the exit guard
    // (see `exit`). A panic drops `tx` unsent: the error below.
    let (tx, rx) = HandOver::channel();
    rt.spawn_blocking(move || tx.send(handle.block_on(make())));
    Ok(async move {
        rx.await.unwrap_or_else(|_| {
            Err(wb::Error::Protocol {
                reason: "internal task failed".into(),
            }
            .into())
        })
    })
}

/// Runs a client's long-lived loop (`make()`'s future, not `Send`) on a blocking thread of
/// the library's runtime until it ends.
pub(crate) fn spawn_loop<F, Fut>(make: F) -> Result<(), WorkboardError>
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = ()> + 'static,
{
    let rt = runtime()?;
    let handle = rt.handle().clone();
    rt.spawn_blocking(move || handle.block_on(make()));
    Ok(())
}

/// The app's transport, or the built-in one.
pub(crate) fn transport(
    foreign: Option<Arc<dyn Transport>>,
) -> Result<HostTransport, WorkboardError> {
    match foreign {
        Some(t) => Ok(HostTransport::Foreign(t)),
        None => ReqwestTransport::new()
            .map(HostTransport::Builtin)
            .map_err(|e| wb::Error::Transport(e).into()),
    }
}

/// Parses 64 hex characters into a 32-byte seed.
pub(crate) fn parse_seed(hex: &str) -> Result<[u8; 32], WorkboardError> {
    let s = hex.trim();
    let bad = || crate::error::invalid("entropy_seed_hex", "must be 64 hex characters");
    if s.len() != 64 || !s.is_ascii() {
        return Err(bad());
    }
    let mut out = [0u8; 32];
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
    }
    Ok(out)
}
