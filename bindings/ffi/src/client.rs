//! [`WorkboardClient`]: the client layer's [`Client`] over [`FfiHost`], with async methods
//! (Kotlin `suspend`, Swift `async`, Python coroutines). Every behaviour is the layer's; this
//! file converts values and runs futures where they can run.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use workboard_client::{Client, NotificationStream, StreamStopper};
use workboard_core::oauth::v1::RevokeOutcome;
use workboard_core::{Credentials, Error, SecretString};

use crate::error::{wrong_state, WorkboardError};
use crate::host::{
    self, lock, CredentialStore, CredentialsListener, ElicitationHandler, FfiHost, ManualClock,
    RootsHandler, SamplingHandler, Transport,
};
use crate::types::{
    personal, records, string_map, ClientOptions, CredentialsSummary, McpCompletion,
    McpCompletionRef, McpDiscovery, McpNotification, McpPrompt, McpPromptResult, McpResource,
    McpResourceContents, McpResourceTemplate, McpServerInfo, McpSignInOptions, McpSignInStart,
    McpSubscriptionFilter, McpTool, McpToolResult, V1Code, V1SignInOptions, V1SignInStart,
};

type Res<T> = Result<T, WorkboardError>;

/// A WorkBoard connection for Kotlin, Swift and Python apps.
///
/// Construct it with a personal token, stored credentials, or nothing (then sign in with
/// WorkBoard v1 or OAuth 2.1 for MCP). Give it a [`Transport`] to use the platform's HTTP
/// stack (OkHttp, URLSession); without one, a built-in reqwest client is used.
#[derive(uniffi::Object)]
pub struct WorkboardClient {
    client: Client<FfiHost>,
}

#[uniffi::export]
impl WorkboardClient {
    /// A client. `transport`: the app's HTTP client (default: built-in). `store`: where
    /// credentials, the OAuth context and the MCP session are kept (read at construction
    /// for what `options` do not give; written on every change). `clock`: tests only.
    ///
    /// Fails with `invalid_url` / `insecure_url` / `invalid_input` for bad options,
    /// `credentials_not_for_server` for credentials of another server and
    /// `credential_store_failed` when the store cannot be read.
    ///
    /// `elicitation`, `sampling`, `roots`: the app's answers when a server asks for input;
    /// each one given declares its capability to servers (none given: servers ask nothing).
    #[uniffi::constructor(default(
        transport = None,
        store = None,
        clock = None,
        elicitation = None,
        sampling = None,
        roots = None
    ))]
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        options: ClientOptions,
        transport: Option<Arc<dyn Transport>>,
        store: Option<Arc<dyn CredentialStore>>,
        clock: Option<Arc<ManualClock>>,
        elicitation: Option<Arc<dyn ElicitationHandler>>,
        sampling: Option<Arc<dyn SamplingHandler>>,
        roots: Option<Arc<dyn RootsHandler>>,
    ) -> Res<Arc<Self>> {
        let input = host::input(elicitation, sampling, roots, options.elicitation_url_mode);
        let host = FfiHost {
            input,
            transport: host::transport(transport)?,
            clock: clock.map_or(host::HostClock::System, host::HostClock::Manual),
            entropy: host::entropy(options.entropy_seed_hex.as_deref())?.into(),
            store: store.map(host::App::new),
            listener: Default::default(),
        };
        let (client, driver) = Client::new(options.config()?, host)?;
        host::spawn_loop(move || driver.run())?;
        Ok(Arc::new(WorkboardClient { client }))
    }

    /// The environment's base URL.
    pub fn base_url(&self) -> String {
        self.client.environment().base_url().to_string()
    }

    /// The MCP endpoint in use.
    pub fn mcp_url(&self) -> String {
        self.client.server_url().to_string()
    }

    /// Sets (or replaces) the listener told about every credentials change.
    pub fn set_credentials_listener(&self, listener: Option<Arc<dyn CredentialsListener>>) {
        *lock(&self.client.host().listener) = listener.map(host::App::new);
    }

    /// Uses a personal token (a leading `Bearer ` is removed).
    pub fn set_token(&self, token: String) -> Res<()> {
        self.set_credentials(Some(personal(&token)?))
    }

    /// Uses credentials saved earlier. Malformed JSON fails with `invalid_input`,
    /// credentials of another server with `credentials_not_for_server` (nothing changes).
    pub fn set_credentials_json(&self, credentials_json: String) -> Res<()> {
        self.set_credentials(Some(Credentials::from_json(&credentials_json)?))
    }

    /// Forgets the credentials locally (the store is cleared, listeners told). To also
    /// invalidate them at the server, use the revoke methods.
    pub fn clear_credentials(&self) -> Res<()> {
        self.set_credentials(None)
    }

    /// The credentials JSON to persist (contains tokens), or `None` when signed out.
    pub fn credentials_json(&self) -> Option<String> {
        self.client.credentials().as_ref().map(Credentials::to_json)
    }

    /// What the client holds, without secrets.
    pub fn credentials_summary(&self) -> Option<CredentialsSummary> {
        self.client
            .credentials()
            .as_ref()
            .map(CredentialsSummary::of)
    }

    /// The MCP OAuth context (endpoints, client identity) to persist beside the
    /// credentials; it may contain a client secret.
    pub fn auth_context_json(&self) -> Option<String> {
        self.client.auth_context().map(|a| a.to_json())
    }

    /// The last store failure, if the last save failed (`credential_store_failed`): the
    /// credentials are still used in memory; save `credentials_json()` yourself.
    pub fn store_error(&self) -> Option<WorkboardError> {
        self.client.store_error().map(Into::into)
    }

    // ---------------------------------------------------------------- WorkBoard v1

    /// WorkBoard v1 sign-in, step 1: the authorize URL to open and the pending authorization
    /// to persist (it survives an app restart) until the redirect arrives.
    pub fn start_v1_sign_in(&self, options: V1SignInOptions) -> Res<V1SignInStart> {
        let config = options.config(self.client.environment())?;
        Ok(self.client.start_v1_sign_in(&config)?.into())
    }

    /// WorkBoard v1 sign-in, step 2: checks the redirect (URL, query string or `json_code`
    /// body) against the pending authorization (state, expiry, redirect URI) and returns
    /// the code. Send the code to your server, which exchanges it with the Client Hash: the
    /// hash must never ship inside an app.
    ///
    /// `pending_json`: the persisted `V1SignInStart.pending_json` (after an app restart), or
    /// `None` to use the sign-in this client started. The pending authorization is single
    /// use (`authorization_reused` afterwards, also through its persisted copy); delete the
    /// persisted copy once this returns.
    pub fn handle_v1_redirect(
        &self,
        pending_json: Option<String>,
        redirect: String,
    ) -> Res<V1Code> {
        if let Some(p) = pending_json {
            self.client.resume_v1_sign_in(&p)?;
        }
        Ok(self.client.handle_v1_redirect(&redirect)?.into())
    }

    /// SERVER-SIDE ONLY (e.g. a Python service that received the code from an app):
    /// exchanges a v1 code with the Client Hash, stores and returns the credentials. Refused
    /// with `secret_in_browser` unless the client was built with `allow_client_secret`.
    /// Codes older than 5 minutes fail with `authorization_expired` without a request.
    /// The Client Hash is only sent to this client's environment's token endpoint (a code
    /// naming another one fails with `client_secret_not_for_server`).
    pub async fn exchange_v1_code(
        self: Arc<Self>,
        code: V1Code,
        client_hash: String,
    ) -> Res<CredentialsSummary> {
        self.on_runtime(move |c| async move {
            let creds = c
                .exchange_v1_code(&code.into(), SecretString::new(client_hash))
                .await?;
            Ok(CredentialsSummary::of(&creds))
        })
        .await
    }

    /// Revokes WorkBoard v1 credentials at `/wb/oauth/revoke/` and forgets them. Returns
    /// `revoked` or `already_invalid` (the token no longer works either way).
    pub async fn revoke_v1_credentials(self: Arc<Self>) -> Res<String> {
        self.on_runtime(|c| async move {
            Ok(match c.revoke_v1().await? {
                RevokeOutcome::Revoked => "revoked".to_string(),
                RevokeOutcome::AlreadyInvalid => "already_invalid".to_string(),
            })
        })
        .await
    }

    // ---------------------------------------------------------------- OAuth 2.1 for MCP

    /// OAuth 2.1 for MCP: discovery, client identity (pre-registered, metadata document or
    /// dynamic registration) and the PKCE authorization URL. Open `url`; persist
    /// `pending_json`. A server that asks for no authorization fails with `wrong_state`.
    pub async fn start_mcp_sign_in(
        self: Arc<Self>,
        options: McpSignInOptions,
    ) -> Res<McpSignInStart> {
        let options = options.options()?;
        self.on_runtime(|c| async move { c.start_mcp_sign_in(options).await })
            .await?
            .map(Into::into)
            .ok_or_else(|| wrong_state("start sign-in", "the server did not ask for authorization"))
    }

    /// Completes MCP sign-in with the URL (or query string) the browser came back to:
    /// checks `state`, exchanges the code, stores the credentials and the OAuth context and
    /// tells the listener. `pending_json`: what `start_mcp_sign_in` returned (after an app
    /// restart), or `None` to use this client's own pending sign-in. Single use:
    /// `authorization_reused` afterwards, also through the persisted copy.
    pub async fn complete_mcp_sign_in(
        self: Arc<Self>,
        pending_json: Option<String>,
        redirect: String,
    ) -> Res<CredentialsSummary> {
        self.on_runtime(move |c| async move {
            let creds = c
                .complete_mcp_sign_in(pending_json.as_deref(), &redirect)
                .await?;
            Ok(CredentialsSummary::of(&creds))
        })
        .await
    }

    /// Step-up after a 403 `insufficient_scope`: a new authorization URL asking for `scope`
    /// in addition to the scopes granted before. Complete it with `complete_mcp_sign_in`.
    pub fn step_up_mcp_sign_in(&self, scope: String) -> Res<McpSignInStart> {
        Ok(self.client.step_up_mcp_sign_in(&scope)?.into())
    }

    /// Refreshes OAuth 2.1 credentials now, through the connection's single flight (a
    /// refresh already in progress for a 401 is joined, never doubled); stores them and tells
    /// the listener. No credentials: `not_signed_in`; credentials that cannot be refreshed: `wrong_state`.
    pub async fn refresh_mcp_credentials(self: Arc<Self>) -> Res<CredentialsSummary> {
        Ok(CredentialsSummary::of(&self.client.refresh().await?))
    }

    /// Revokes OAuth 2.1 credentials at the server (RFC 7009: refresh token, then access
    /// token), then forgets them. Returns the number of revocation requests sent (0 when
    /// the server has no revocation endpoint).
    pub async fn revoke_mcp_credentials(self: Arc<Self>) -> Res<u32> {
        self.on_runtime(|c| async move { Ok(c.revoke_mcp().await? as u32) })
            .await
    }

    // ---------------------------------------------------------------- MCP calls

    /// Opens the MCP session with the current credentials (personal token, stored or
    /// signed-in OAuth credentials): `initialize` (unless a stored session was restored),
    /// then a `ping`. Returns what the server said about itself. Optional: the first call
    /// of any kind connects too.
    pub async fn connect(self: Arc<Self>) -> Res<McpServerInfo> {
        let info = self.client.connect().await?;
        // A restored session carries the info too (the layer restores it).
        info.map(McpServerInfo::from)
            .ok_or_else(|| wrong_state("connect", "the server's info is unknown"))
    }

    /// Lists every tool of the MCP server (all pages). The first call opens the session
    /// (`initialize`); a 401 with a refreshable OAuth token is refreshed once and retried.
    pub async fn list_tools(self: Arc<Self>) -> Res<Vec<McpTool>> {
        Ok(self
            .client
            .list_tools()
            .await?
            .iter()
            .map(Into::into)
            .collect())
    }

    /// Calls a tool. `arguments_json` is a JSON object text (empty for none); anything else
    /// fails with `invalid_input` before anything is sent.
    pub async fn call_tool(
        self: Arc<Self>,
        name: String,
        arguments_json: String,
    ) -> Res<McpToolResult> {
        let arguments = workboard_client::tool_arguments_from_json(&arguments_json)?;
        Ok(self.client.call_tool(&name, arguments).await?.into())
    }

    /// Sends an MCP `ping` (opening the session first if needed).
    pub async fn ping(self: Arc<Self>) -> Res<()> {
        Ok(self.client.ping().await?)
    }

    /// What the server speaks (`server/discover` on a 2026-07-28 server; what `initialize`
    /// said on a legacy one): its era, versions, info and capabilities.
    pub async fn discover(self: Arc<Self>) -> Res<McpDiscovery> {
        Ok(self.client.discover().await?.into())
    }

    /// Lists every MCP resource (all pages).
    pub async fn list_resources(self: Arc<Self>) -> Res<Vec<McpResource>> {
        Ok(records(self.client.list_resources().await?))
    }

    /// Lists every resource template (all pages).
    pub async fn list_resource_templates(self: Arc<Self>) -> Res<Vec<McpResourceTemplate>> {
        Ok(records(self.client.list_resource_templates().await?))
    }

    /// Reads a resource by URI.
    pub async fn read_resource(self: Arc<Self>, uri: String) -> Res<Vec<McpResourceContents>> {
        Ok(records(self.client.read_resource(&uri).await?))
    }

    /// Lists every prompt (all pages).
    pub async fn list_prompts(self: Arc<Self>) -> Res<Vec<McpPrompt>> {
        Ok(records(self.client.list_prompts().await?))
    }

    /// Gets a prompt with its arguments (strings by name).
    #[uniffi::method(default(arguments = None))]
    pub async fn get_prompt(
        self: Arc<Self>,
        name: String,
        arguments: Option<HashMap<String, String>>,
    ) -> Res<McpPromptResult> {
        let call = self.client.get_prompt(&name, string_map(arguments));
        Ok(call.await?.into())
    }

    /// Completion suggestions for `argument` of a prompt or resource template, given what was
    /// typed (`value`) and the other arguments already chosen (`context`).
    #[uniffi::method(default(context = None))]
    pub async fn complete(
        self: Arc<Self>,
        reference: McpCompletionRef,
        argument: String,
        value: String,
        context: Option<HashMap<String, String>>,
    ) -> Res<McpCompletion> {
        let call = (self.client).complete(reference.into(), &argument, &value, string_map(context));
        Ok(call.await?.into())
    }

    /// Sends a request this SDK does not model (`params_json`: a JSON object text, empty for
    /// none) and returns the server's result as sent, as JSON text (the era, credentials, input
    /// rounds through the handlers and a tool call's `x-mcp-header` arguments as for the
    /// modelled calls; never replayed).
    pub async fn request(self: Arc<Self>, method: String, params_json: String) -> Res<String> {
        let params = crate::types::params_from_json(&params_json)?;
        Ok(self.client.request(&method, params).await?.to_string())
    }

    /// [`request`](Self::request) for a proxy whose own client runs the input rounds: that
    /// client's `inputResponses`, `requestState` and declared capabilities (`_meta`) go to the
    /// server as given, and an `input_required` result is returned as sent (this client's
    /// handlers are not asked).
    pub async fn request_with_client_input(
        self: Arc<Self>,
        method: String,
        params_json: String,
    ) -> Res<String> {
        let params = crate::types::params_from_json(&params_json)?;
        let call = self.client.request_with_client_input(&method, params);
        Ok(call.await?.to_string())
    }

    /// Subscribes to change notifications (a 2026-07-28 server's `subscriptions/listen`, or
    /// `resources/subscribe` and the session's stream on a legacy one): the stream yields
    /// them as they arrive (the acknowledgment first on a 2026-07-28 server) until the server
    /// ends the subscription or the app cancels it. A filter asking for nothing fails the
    /// first `next()` with `invalid_input`. Needs the built-in transport (it streams).
    pub fn subscribe(&self, filter: McpSubscriptionFilter) -> Arc<McpNotificationStream> {
        McpNotificationStream::of(self.client.subscribe_stream(filter.into()))
    }

    /// Every server notification from now on that belongs to no subscription: a call's
    /// progress and log messages (`notifications/progress`, `notifications/message` at
    /// `ClientOptions.log_level`), a legacy server's list changes. Ends with the client.
    pub fn notifications(&self) -> Arc<McpNotificationStream> {
        McpNotificationStream::of(self.client.notification_stream())
    }

    /// Cancels every MCP call of this client in progress now (`connect`, `list_tools`,
    /// `call_tool`, `ping`, `refresh_mcp_credentials`): each fails with code `cancelled` at
    /// once, and the server is sent `notifications/cancelled` for a request it has already
    /// received. Calls made afterwards are not affected. Returns immediately; callable from
    /// any thread. `close` is not cancelled.
    ///
    /// Cancelling the Kotlin coroutine, Swift task or Python task that awaits a call may not
    /// reach the call (UniFFI does not reliably drop the Rust future): call this, e.g. from
    /// `catch (e: CancellationException)` (Kotlin), `withTaskCancellationHandler` (Swift) or
    /// `except asyncio.CancelledError` (Python). It cancels every call of the client.
    pub fn cancel_calls(&self) {
        self.client.cancel_all()
    }

    /// Ends the MCP session (`DELETE` when the server gave a session id; the stored session
    /// is removed) and stops the client for good: calls in progress fail with `cancelled`,
    /// later calls with `client_stopped` (kind `Stopped`), `notifications()` streams end once
    /// read. Closing again does nothing.
    pub async fn close(self: Arc<Self>) -> Res<()> {
        let closed = self.client.close().await;
        self.client.end_notifications();
        Ok(closed?)
    }
}

/// Server notifications as they arrive (`WorkboardClient::subscribe` or `notifications`):
/// Kotlin `Flow` (`asFlow()`), Swift `AsyncSequence`, Python `async for`.
#[derive(uniffi::Object)]
pub struct McpNotificationStream {
    stream: tokio::sync::Mutex<NotificationStream>,
    stopper: StreamStopper,
}

#[uniffi::export]
impl McpNotificationStream {
    /// The next notification; `None` once the stream has ended (the server ended the
    /// subscription, `cancel()` was called, the client is gone). A subscription the server
    /// refused (or that broke) fails with its error instead.
    pub async fn next(&self) -> Res<Option<McpNotification>> {
        Ok(self.stream.lock().await.next().await?.map(Into::into))
    }

    /// Ends the stream (a subscription is cancelled: its stream is closed, the server told);
    /// a waiting `next()` returns `None`. Any thread; cancelling again does nothing.
    pub fn cancel(&self) {
        self.stopper.stop()
    }
}

impl McpNotificationStream {
    fn of(stream: NotificationStream) -> Arc<Self> {
        let stopper = stream.stopper();
        let stream = tokio::sync::Mutex::new(stream);
        Arc::new(McpNotificationStream { stream, stopper })
    }
}

impl WorkboardClient {
    fn set_credentials(&self, credentials: Option<Credentials>) -> Res<()> {
        Ok(self.client.set_credentials(credentials, None)?)
    }

    /// Runs a flow of the client (not `Send`) on the library's runtime.
    async fn on_runtime<T, Fut>(
        &self,
        flow: impl FnOnce(Client<FfiHost>) -> Fut + Send + 'static,
    ) -> Res<T>
    where
        Fut: Future<Output = Result<T, Error>> + 'static,
        T: Send + 'static,
    {
        let c = self.client.clone();
        host::on_runtime(move || async move { Ok(flow(c).await?) }).await
    }
}
