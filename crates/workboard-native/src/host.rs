//! The native host capabilities of a [`crate::Client`]: reqwest (or any transport), the
//! system clock, the OS RNG, a [`CredentialStore`] and the credentials hook.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use workboard_client::Host;
use workboard_core::{Credentials, HttpRequest, HttpResponse, Transport, TransportError};

use crate::client::CredentialsHook;
use crate::store::CredentialStore;
use crate::{ReqwestTransport, SystemClock};

/// The native host capabilities: reqwest (or any transport), the system clock, the OS
/// RNG, a [`CredentialStore`] and the credentials hook.
pub struct NativeHost {
    pub(crate) transport: HostTransport,
    pub(crate) store: Option<Arc<dyn CredentialStore>>,
    pub(crate) hook: Option<CredentialsHook>,
    pub(crate) input: Option<Arc<dyn InputHandler>>,
    /// The store credentials are shared through with other processes or machines.
    pub(crate) shared: Option<Arc<dyn workboard_client::store::SharedStore + Send + Sync>>,
}

/// The app's answers when a server asks for input (elicitation from the user, sampling from
/// the app's LLM, roots): declared to servers through [`InputHandler::capabilities`], so
/// only those kinds are ever asked.
pub trait InputHandler: Send + Sync + 'static {
    /// What this handler answers.
    fn capabilities(&self) -> workboard_client::ClientCapabilities;
    /// The answer to one request: an `ElicitResult` (`{"action": "accept", "content": ...}`,
    /// or `decline` / `cancel`), a `CreateMessageResult`, a `ListRootsResult`.
    fn answer(
        &self,
        request: workboard_client::InputRequest,
    ) -> std::pin::Pin<
        Box<
            dyn std::future::Future<Output = Result<serde_json::Value, workboard_core::Error>>
                + Send,
        >,
    >;
}

impl std::fmt::Debug for NativeHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NativeHost")
    }
}

impl Host for NativeHost {
    type Transport = HostTransport;
    type Clock = SystemClock;

    fn transport(&self) -> &HostTransport {
        &self.transport
    }
    fn clock(&self) -> &SystemClock {
        &SystemClock
    }
    fn fill_random(&self, buf: &mut [u8]) {
        workboard_core::Entropy::fill_bytes(&mut crate::OsEntropy, buf)
    }
    fn shared_store(&self) -> Option<&dyn workboard_client::store::SharedStore> {
        self.shared
            .as_deref()
            .map(|s| s as &dyn workboard_client::store::SharedStore)
    }
    fn load(&self, key: &str) -> Result<Option<String>, String> {
        self.store
            .as_ref()
            .map_or(Ok(None), |s| s.load(key).map_err(|e| e.to_string()))
    }
    fn save(&self, key: &str, value: &str) -> Result<(), String> {
        self.store
            .as_ref()
            .map_or(Ok(()), |s| s.save(key, value).map_err(|e| e.to_string()))
    }
    fn remove(&self, key: &str) -> Result<(), String> {
        self.store
            .as_ref()
            .map_or(Ok(()), |s| s.remove(key).map_err(|e| e.to_string()))
    }
    fn input_capabilities(&self) -> workboard_client::ClientCapabilities {
        self.input
            .as_ref()
            .map(|h| h.capabilities())
            .unwrap_or_default()
    }
    fn answer_input(
        &self,
        request: workboard_client::InputRequest,
    ) -> workboard_client::InputAnswer {
        match &self.input {
            Some(h) => h.answer(request),
            None => Box::pin(std::future::ready(Err(workboard_core::Error::Protocol {
                reason: "this client has no input handler".into(),
            }))),
        }
    }
    fn credentials_changed(&self, credentials: Option<&Credentials>) {
        if let (Some(hook), Some(c)) = (&self.hook, credentials) {
            hook(c);
        }
    }
}

/// Aborts a task on the home runtime when the future waiting for it is dropped.
struct AbortOnDrop(tokio::task::AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// An object-safe [`Transport`] for [`ClientBuilder::custom_transport`].
pub(crate) trait DynTransport: Send + Sync {
    fn send_dyn(
        &self,
        request: HttpRequest,
    ) -> Pin<Box<dyn Future<Output = Result<HttpResponse, TransportError>> + '_>>;
}

impl<T: Transport + Send + Sync> DynTransport for T {
    fn send_dyn(
        &self,
        request: HttpRequest,
    ) -> Pin<Box<dyn Future<Output = Result<HttpResponse, TransportError>> + '_>> {
        Box::pin(self.send(request))
    }
}

/// The native client's transport: reqwest, sent on the client's home runtime when that is
/// a multi-thread runtime (where reqwest's connection tasks live), or any app transport.
#[derive(Clone)]
pub struct HostTransport(pub(crate) Via);

#[derive(Clone)]
pub(crate) enum Via {
    Reqwest(ReqwestTransport, Option<tokio::runtime::Handle>),
    Custom(Arc<dyn DynTransport>),
}

impl std::fmt::Debug for HostTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HostTransport")
    }
}

impl HostTransport {
    pub(crate) fn on_runtime(self, io: Option<tokio::runtime::Handle>) -> Self {
        match self.0 {
            Via::Reqwest(t, _) => HostTransport(Via::Reqwest(t, io)),
            other => HostTransport(other),
        }
    }
}

impl Transport for HostTransport {
    async fn send_streaming(
        &self,
        request: HttpRequest,
        parts: &dyn workboard_core::BodySink,
    ) -> Result<HttpResponse, TransportError> {
        match &self.0 {
            Via::Custom(t) => t.send_dyn(request).await,
            Via::Reqwest(inner, None) => inner.send_streaming(request, parts).await,
            Via::Reqwest(inner, Some(io)) => {
                // Sent on the home runtime; its parts come back over a channel.
                let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
                let on_io = inner.clone();
                let retry = request.clone();
                let task = io.spawn(async move {
                    on_io
                        .send_with(request, move |p| {
                            let _ = tx.send(p);
                        })
                        .await
                });
                // Dropped (the call was cancelled, or its stream is no longer wanted): the
                // request stops on the home runtime too.
                let _abort = AbortOnDrop(task.abort_handle());
                let mut task = task;
                use futures_util::future::Either;
                let mut delivered = false;
                let done = loop {
                    let step = {
                        let next = std::pin::pin!(rx.recv());
                        match futures_util::future::select(next, &mut task).await {
                            Either::Left((Some(p), _)) => Either::Left(Some(p)),
                            Either::Left((None, _)) => Either::Left(None),
                            Either::Right((r, _)) => Either::Right(r),
                        }
                    };
                    match step {
                        Either::Left(Some(p)) => {
                            delivered = true;
                            parts.part(p);
                        }
                        // Every part is in: the response follows.
                        Either::Left(None) => break (&mut task).await,
                        Either::Right(r) => break r,
                    }
                };
                while let Ok(p) = rx.try_recv() {
                    parts.part(p);
                }
                match done {
                    Ok(r) => r,
                    // The stream was cut with the home runtime: what arrived was handed over.
                    Err(_) if delivered => Err(TransportError::Interrupted(
                        "the runtime that read the stream shut down".into(),
                    )),
                    // The home runtime has shut down, so the request never ran there: send
                    // it from the reactor thread instead.
                    Err(_) => inner.send_streaming(retry, parts).await,
                }
            }
        }
    }

    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        match &self.0 {
            Via::Custom(t) => t.send_dyn(request).await,
            Via::Reqwest(inner, None) => inner.send(request).await,
            Via::Reqwest(inner, Some(io)) => {
                let on_io = inner.clone();
                let retry = request.clone();
                match io.spawn(async move { on_io.send(request).await }).await {
                    Ok(r) => r,
                    // The home runtime has shut down, so the request never ran there: send
                    // it from the reactor thread instead.
                    Err(_) => inner.send(retry).await,
                }
            }
        }
    }
}
