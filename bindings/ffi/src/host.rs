//! Host capabilities: [`FfiHost`], the client layer's [`workboard_client::Host`] — the HTTP
//! transport (the app's own, or the built-in reqwest one), the clock (system, or a manual
//! clock for tests), entropy, the app's credential store and listener, results handed over
//! under the exit guard — and the runtime the client's loop and sign-in flows execute on.

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use workboard_core as wb;
use workboard_native::{OsEntropy, ReqwestTransport, SystemClock};

use crate::error::{HostError, WorkboardError};
use crate::exit::{Guarded, HandOver};
use crate::types::{
    HttpRequest, HttpResponse, McpElicitation, McpElicitationResult, McpRoot, McpSamplingRequest,
    McpSamplingResult,
};

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

/// Secure storage (Keychain, Android Keystore-backed storage...) of what the client keeps
/// between runs, by key: `credentials` (the credentials JSON: tokens), `auth_context` (the
/// MCP OAuth context: endpoints, client identity, maybe a client secret) and `session` (the
/// MCP session, so a restarted app skips `initialize`; no secrets). Store the values
/// encrypted, never log them. A key never saved loads as `None`.
#[uniffi::export(with_foreign)]
pub trait CredentialStore: Send + Sync {
    /// The value stored under `key`, or `None`.
    fn load(&self, key: String) -> Result<Option<String>, HostError>;
    /// Stores `value` under `key` (durably, before returning).
    fn save(&self, key: String, value: String) -> Result<(), HostError>;
    /// Removes `key`.
    fn remove(&self, key: String) -> Result<(), HostError>;
}

/// Told whenever the client's credentials change (sign-in, refresh, sign-out): `None`
/// means signed out. Errors thrown here are ignored.
#[uniffi::export(with_foreign)]
pub trait CredentialsListener: Send + Sync {
    /// The new credentials JSON (persist it), or `None`.
    fn on_credentials_changed(&self, credentials_json: Option<String>) -> Result<(), HostError>;
}

/// Answers a server's request for the user's input (`elicitation/create`): render the form
/// (or open the URL) and return what the user did. Given to the client, it declares the
/// `elicitation` capability (form mode; URL mode too with `ClientOptions.elicitation_url_mode`);
/// without one, servers never ask. Throwing fails the call that waited for the answer
/// (`HostError.Cancelled`: `cancelled`; anything else: `invalid_input`).
#[uniffi::export(with_foreign)]
#[async_trait::async_trait]
pub trait ElicitationHandler: Send + Sync {
    /// The user's answer.
    async fn elicit(&self, request: McpElicitation) -> Result<McpElicitationResult, HostError>;
}

/// Answers a server's request for a message from the app's language model
/// (`sampling/createMessage`). Given to the client, it declares the `sampling` capability.
#[uniffi::export(with_foreign)]
#[async_trait::async_trait]
pub trait SamplingHandler: Send + Sync {
    /// The model's message.
    async fn create_message(
        &self,
        request: McpSamplingRequest,
    ) -> Result<McpSamplingResult, HostError>;
}

/// The roots (directories, workspaces) the app exposes to servers (`roots/list`). Given to
/// the client, it declares the `roots` capability.
#[uniffi::export(with_foreign)]
#[async_trait::async_trait]
pub trait RootsHandler: Send + Sync {
    /// The current roots.
    async fn list_roots(&self) -> Result<Vec<McpRoot>, HostError>;
}

/// The app's input handlers (each optional; each declares its capability).
#[derive(Default)]
pub(crate) struct InputHandlers {
    pub(crate) elicitation: Option<App<dyn ElicitationHandler>>,
    pub(crate) sampling: Option<App<dyn SamplingHandler>>,
    pub(crate) roots: Option<App<dyn RootsHandler>>,
    pub(crate) url_mode: bool,
}

/// The app's input handlers as given to the client.
pub(crate) fn input(
    elicitation: Option<Arc<dyn ElicitationHandler>>,
    sampling: Option<Arc<dyn SamplingHandler>>,
    roots: Option<Arc<dyn RootsHandler>>,
    url_mode: bool,
) -> InputHandlers {
    InputHandlers {
        elicitation: elicitation.map(App::new),
        sampling: sampling.map(App::new),
        roots: roots.map(App::new),
        url_mode,
    }
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
    Foreign(App<dyn Transport>),
}

impl wb::Transport for HostTransport {
    async fn send(&self, request: wb::HttpRequest) -> Result<wb::HttpResponse, wb::TransportError> {
        self.send_streaming(request, &NoParts).await
    }

    async fn send_streaming(
        &self,
        request: wb::HttpRequest,
        parts: &dyn wb::BodySink,
    ) -> Result<wb::HttpResponse, wb::TransportError> {
        let t = match self {
            // The built-in transport streams event-stream bodies (subscriptions, a legacy
            // server's requests on a call's open stream); the app's returns whole bodies.
            HostTransport::Builtin(t) => return t.send_streaming(request, parts).await,
            HostTransport::Foreign(t) => t.clone(),
        };
        // The app's transport may hand an event stream over as it arrives (`ResponseStream`):
        // its parts go to the connection while the app's call runs.
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let mut request: HttpRequest = request.into();
        request.stream = Some(Arc::new(ResponseStream {
            tx,
            sse: AtomicBool::new(false),
        }));
        let call = app_task(async move { t.get().send(request).await });
        tokio::pin!(call);
        let result = loop {
            tokio::select! {
                biased;
                Some(p) = rx.recv() => parts.part(p),
                r = &mut call => break r,
            }
        };
        while let Ok(p) = rx.try_recv() {
            parts.part(p);
        }
        match result {
            Ok(r) => r.map(Into::into).map_err(Into::into),
            Err(e) => Err(e.into()),
        }
    }
}

/// Where the app's [`Transport`] hands an event-stream response over while it arrives (see
/// [`HttpRequest::stream`]): `head` once, then `chunk` for each piece read. Parts of a
/// response that is not an event stream are ignored (it is read whole).
#[derive(uniffi::Object)]
pub struct ResponseStream {
    tx: tokio::sync::mpsc::UnboundedSender<wb::BodyPart>,
    sse: AtomicBool,
}

#[uniffi::export]
impl ResponseStream {
    /// The response's status and headers, as soon as they arrive (before any chunk).
    pub fn head(&self, status: u16, headers: Vec<crate::types::HttpHeader>) {
        let sse = headers.iter().any(|h| {
            h.name.eq_ignore_ascii_case("content-type")
                && h.value.trim_start().starts_with("text/event-stream")
        });
        self.sse.store(sse, Ordering::SeqCst);
        if sse {
            let headers = headers.into_iter().map(|h| (h.name, h.value)).collect();
            let _ = self.tx.send(wb::BodyPart::Head { status, headers });
        }
    }

    /// The next bytes of the body, as they arrive.
    pub fn chunk(&self, bytes: Vec<u8>) {
        if self.sse.load(Ordering::SeqCst) {
            let _ = self.tx.send(wb::BodyPart::Chunk(bytes));
        }
    }
}

impl std::fmt::Debug for ResponseStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ResponseStream")
    }
}

/// One stream is only ever equal to itself.
impl PartialEq for ResponseStream {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self, other)
    }
}

impl Eq for ResponseStream {}

/// A sink for a whole-body send.
struct NoParts;

impl wb::BodySink for NoParts {
    fn part(&self, _part: wb::BodyPart) {}
}

/// Runs a call into the app (its transport, an input handler) on a task of the runtime, not
/// on the client's loop: a call into the app can stall (a JVM safepoint, the GIL), and
/// meanwhile the loop must keep taking commands. When the returned future is dropped, the
/// app's call is dropped too (its task is cancelled). `Err` when it could not run.
async fn app_task<T, F>(call: F) -> Result<Result<T, HostError>, HostError>
where
    T: Send + 'static,
    F: Future<Output = Result<T, HostError>> + Send + 'static,
{
    let (_dropped, cancelled) = tokio::sync::oneshot::channel::<()>();
    let task = runtime()
        .map_err(|e| HostError::Other {
            reason: e.to_string(),
        })?
        .spawn(async move {
            let mut call = Guarded::new(Box::pin(call));
            tokio::select! {
                biased;
                r = &mut call => Some(r.unwrap_or(Err(HostError::Cancelled))),
                _ = cancelled => None,
            }
        });
    match task.await {
        Ok(Some(r)) => Ok(r),
        Ok(None) => Err(HostError::Cancelled),
        Err(e) => Err(HostError::Other {
            reason: format!("the app's callback failed: {e}"),
        }),
    }
}

/// An object of the app (transport, store, listener), released under the exit guard.
pub(crate) struct App<T: ?Sized>(Option<Arc<T>>);

impl<T: ?Sized> App<T> {
    pub(crate) fn new(object: Arc<T>) -> Self {
        App(Some(object))
    }

    fn get(&self) -> &T {
        match &self.0 {
            Some(o) => o,
            None => unreachable!("only dropping takes the object"),
        }
    }
}

impl<T: ?Sized> Clone for App<T> {
    fn clone(&self) -> Self {
        App(self.0.clone())
    }
}

impl<T: ?Sized> Drop for App<T> {
    fn drop(&mut self) {
        if let Some(o) = self.0.take() {
            crate::exit::release(o);
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

/// Runs `make()`'s future on the library's runtime (on a blocking thread: the core's flows
/// are deliberately not `Send`, they also run on single-threaded wasm) and waits for its
/// output from any executor (Kotlin coroutines, Swift tasks, asyncio).
pub(crate) async fn on_runtime<F, Fut, T>(make: F) -> Result<T, WorkboardError>
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
    rx.await.unwrap_or_else(|_| {
        Err(wb::Error::Protocol {
            reason: "internal task failed".into(),
        }
        .into())
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
        Some(t) => Ok(HostTransport::Foreign(App::new(t))),
        None => ReqwestTransport::new()
            .map(HostTransport::Builtin)
            .map_err(|e| wb::Error::Transport(e).into()),
    }
}

/// Seeded entropy (64 hex characters: tests and transcript replay), or the OS's.
pub(crate) fn entropy(
    seed_hex: Option<&str>,
) -> Result<Box<dyn wb::Entropy + Send>, WorkboardError> {
    Ok(match seed_hex {
        Some(h) => Box::new(wb::SeededEntropy::new(parse_seed(h)?)),
        None => Box::new(OsEntropy),
    })
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

/// What a [`crate::WorkboardClient`] supplies to the client layer.
pub(crate) struct FfiHost {
    pub(crate) transport: HostTransport,
    pub(crate) clock: HostClock,
    pub(crate) entropy: Mutex<Box<dyn wb::Entropy + Send>>,
    pub(crate) store: Option<App<dyn CredentialStore>>,
    pub(crate) listener: Mutex<Option<App<dyn CredentialsListener>>>,
    pub(crate) input: InputHandlers,
}

pub(crate) fn lock<T: ?Sized>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl FfiHost {
    /// The store's answer (under the exit guard), its error as the store's own text.
    fn store<T>(
        &self,
        f: impl FnOnce(&dyn CredentialStore) -> Result<T, HostError>,
    ) -> Result<Option<T>, String> {
        let Some(store) = &self.store else {
            return Ok(None);
        };
        match crate::exit::call(|| f(store.get())) {
            Some(r) => r.map(Some).map_err(|e| e.to_string()),
            None => Err("the process is exiting".into()),
        }
    }
}

impl workboard_client::Host for FfiHost {
    type Transport = HostTransport;
    type Clock = HostClock;

    fn transport(&self) -> &HostTransport {
        &self.transport
    }

    fn clock(&self) -> &HostClock {
        &self.clock
    }

    fn fill_random(&self, buf: &mut [u8]) {
        lock(&self.entropy).fill_bytes(buf)
    }

    fn load(&self, key: &str) -> Result<Option<String>, String> {
        self.store(|s| s.load(key.into())).map(Option::flatten)
    }

    fn save(&self, key: &str, value: &str) -> Result<(), String> {
        self.store(|s| s.save(key.into(), value.into())).map(drop)
    }

    fn remove(&self, key: &str) -> Result<(), String> {
        self.store(|s| s.remove(key.into())).map(drop)
    }

    fn credentials_changed(&self, credentials: Option<&wb::Credentials>) {
        let listener = lock(&self.listener).clone();
        if let Some(l) = listener {
            // A failing listener must not break the client.
            let json = credentials.map(wb::Credentials::to_json);
            crate::exit::call(|| l.get().on_credentials_changed(json));
        }
    }

    fn hand_over(&self, deliver: &mut dyn FnMut()) {
        crate::exit::hand_over(deliver)
    }

    fn input_capabilities(&self) -> workboard_client::ClientCapabilities {
        let i = &self.input;
        workboard_client::ClientCapabilities {
            elicitation_form: i.elicitation.is_some(),
            elicitation_url: i.elicitation.is_some() && i.url_mode,
            sampling: i.sampling.is_some(),
            roots: i.roots.is_some(),
        }
    }

    fn answer_input(
        &self,
        request: workboard_client::InputRequest,
    ) -> workboard_client::InputAnswer {
        let i = &self.input;
        let p = request.params;
        let (e, s, r) = (i.elicitation.clone(), i.sampling.clone(), i.roots.clone());
        Box::pin(async move {
            match (request.method.as_str(), e, s, r) {
                ("elicitation/create", Some(h), _, _) => {
                    app_task(async move { h.get().elicit(McpElicitation::of(&p)).await })
                        .await
                        .and_then(|a| a)
                        .map_err(input_error)?
                        .to_value()
                }
                ("sampling/createMessage", _, Some(h), _) => {
                    app_task(
                        async move { h.get().create_message(McpSamplingRequest::of(&p)).await },
                    )
                    .await
                    .and_then(|a| a)
                    .map_err(input_error)?
                    .to_value()
                }
                ("roots/list", _, _, Some(h)) => {
                    app_task(async move { h.get().list_roots().await })
                        .await
                        .and_then(|a| a)
                        .map(crate::types::roots_value)
                        .map_err(input_error)
                }
                _ => Err(wb::Error::Protocol {
                    reason: "this client has no handler for that input request".into(),
                }),
            }
        })
    }
}

/// An input handler's failure as the error of the call that waited for it. The handler's
/// own text is not quoted: it may hold what the user typed.
fn input_error(e: HostError) -> wb::Error {
    let thrown = match e {
        HostError::Cancelled => return wb::Error::Cancelled,
        HostError::Connect { .. } => "Connect",
        HostError::Timeout => "Timeout",
        HostError::Interrupted { .. } => "Interrupted",
        HostError::Other { .. } => "Other (or an exception that is not a HostError)",
        HostError::BodyTooLarge { .. } => "BodyTooLarge",
    };
    wb::Error::InvalidInput {
        what: "the app's input handler".into(),
        reason: format!("it threw HostError.{thrown}"),
    }
}
