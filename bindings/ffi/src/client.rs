//! [`WorkboardClient`]: the host capabilities (transport, clock, entropy, storage), the
//! credentials and any pending sign-in, with async methods (Kotlin `suspend`, Swift `async`,
//! Python coroutines). Every flow is the core's; this file converts types.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use workboard_core as wb;
use workboard_core::oauth::flow::{AuthContext, McpAuthConfig, McpAuthEvent, McpAuthFlow};
use workboard_core::oauth::metadata::IssuerPolicy;
use workboard_core::oauth::pending::{AuthorizationCode, PendingAuthorization};
use workboard_core::oauth::v1::{
    checked_exchange_request_for, checked_revoke_request, handle_exchange_response,
    handle_revoke_response, start_authorization, RevokeOutcome, V1Config,
};
use workboard_core::{
    drive, Clock, Credentials, Dialect, Entropy, Environment, Error, SecretString, Transport as _,
};
use workboard_native::OsEntropy;

use crate::error::{invalid, wrong_state, WorkboardError};
use crate::host::{
    self, CredentialStore, CredentialsListener, HostClock, HostTransport, ManualClock, Transport,
};
use crate::types::{
    ClientOptions, CredentialsSummary, McpSignInOptions, McpSignInStart, V1Code, V1SignInOptions,
    V1SignInStart,
};

type Res<T> = Result<T, WorkboardError>;

#[derive(Default)]
struct State {
    credentials: Option<Credentials>,
    auth_context: Option<AuthContext>,
    mcp_flow: Option<McpAuthFlow>,
    v1_pending: Option<PendingAuthorization>,
}

/// A WorkBoard connection for Kotlin, Swift and Python apps.
///
/// Construct it with a personal token, stored credentials, or nothing (then sign in with
/// WorkBoard v1 or OAuth 2.1 for MCP). Give it a [`Transport`] to use the platform's HTTP
/// stack (OkHttp, URLSession); without one, a built-in reqwest client is used.
#[derive(uniffi::Object)]
pub struct WorkboardClient {
    env: Environment,
    mcp_url: String,
    pub(crate) transport: HostTransport,
    pub(crate) clock: HostClock,
    entropy: Mutex<Box<dyn Entropy + Send>>,
    allow_secret: bool,
    state: Mutex<State>,
    store: Option<Arc<dyn CredentialStore>>,
    listener: Mutex<Option<Arc<dyn CredentialsListener>>>,
    next_id: AtomicU64,
    /// Bumped on every credentials change not made by the connection itself.
    creds_generation: AtomicU64,
    pub(crate) client_name: String,
    pub(crate) client_version: String,
    pub(crate) mcp: Mutex<crate::mcp::McpState>,
    /// Fired by `cancel_calls`.
    pub(crate) cancel: crate::mcp::CancelSignal,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn personal(token: &str) -> Res<Credentials> {
    let c = Credentials::personal(token);
    if c.access_token().is_empty() {
        return Err(invalid("token", "empty"));
    }
    Ok(c)
}

fn store_failed(e: crate::error::HostError) -> WorkboardError {
    // The app's own error text: bounded like every message of the core.
    Error::Storage {
        reason: e.to_string(),
    }
    .into()
}

#[uniffi::export]
impl WorkboardClient {
    /// A client. `transport`: the app's HTTP client (default: built-in). `store`: where
    /// credentials are persisted (read at construction when `options` carry no token or
    /// credentials; written on every change). `clock`: tests only.
    ///
    /// Fails with `invalid_url` / `insecure_url` / `invalid_input` for bad options.
    #[uniffi::constructor(default(transport = None, store = None, clock = None))]
    pub fn new(
        options: ClientOptions,
        transport: Option<Arc<dyn Transport>>,
        store: Option<Arc<dyn CredentialStore>>,
        clock: Option<Arc<ManualClock>>,
    ) -> Res<Arc<Self>> {
        let env = match options.environment.as_deref() {
            Some(e) => Environment::parse(e)?,
            None => Environment::Us,
        };
        let mcp_url = match options.mcp_url {
            Some(u) => {
                let parsed = url::Url::parse(&u).map_err(|e| Error::InvalidUrl {
                    what: "mcp_url".into(),
                    reason: e.to_string(),
                })?;
                wb::env::check_secure_url(&parsed, "mcp_url")?;
                u
            }
            None => env.mcp_url(),
        };
        let entropy: Box<dyn Entropy + Send> = match options.entropy_seed_hex.as_deref() {
            Some(h) => Box::new(wb::SeededEntropy::new(host::parse_seed(h)?)),
            None => Box::new(OsEntropy),
        };
        let mut state = State::default();
        if let Some(t) = options.token.as_deref() {
            state.credentials = Some(personal(t)?);
        } else if let Some(j) = options.credentials_json.as_deref() {
            state.credentials = Some(Credentials::from_json(j)?);
        } else if let Some(s) = &store {
            if let Some(j) = s.load().map_err(store_failed)? {
                state.credentials = Some(Credentials::from_json(&j)?);
            }
        }
        if let Some(j) = options.auth_context_json.as_deref() {
            state.auth_context = Some(AuthContext::from_json(j)?);
        }
        Ok(Arc::new(WorkboardClient {
            env,
            mcp_url,
            transport: host::transport(transport)?,
            clock: clock.map(HostClock::Manual).unwrap_or(HostClock::System),
            entropy: Mutex::new(entropy),
            allow_secret: options.allow_client_secret,
            state: Mutex::new(state),
            store,
            listener: Mutex::new(None),
            next_id: AtomicU64::new(0),
            creds_generation: AtomicU64::new(0),
            client_name: options
                .client_name
                .unwrap_or_else(|| "workboard-connect".into()),
            client_version: options
                .client_version
                .unwrap_or_else(|| env!("CARGO_PKG_VERSION").into()),
            mcp: Mutex::new(Default::default()),
            cancel: Default::default(),
        }))
    }

    /// The environment's base URL.
    pub fn base_url(&self) -> String {
        self.env.base_url().to_string()
    }

    /// The MCP endpoint in use.
    pub fn mcp_url(&self) -> String {
        self.mcp_url.clone()
    }

    /// Sets (or replaces) the listener told about every credentials change.
    pub fn set_credentials_listener(&self, listener: Option<Arc<dyn CredentialsListener>>) {
        *lock(&self.listener) = listener;
    }

    /// Uses a personal token (a leading `Bearer ` is removed).
    pub fn set_token(&self, token: String) -> Res<()> {
        self.set_credentials(Some(personal(&token)?))
    }

    /// Uses credentials saved earlier. Malformed JSON fails with `invalid_input`.
    pub fn set_credentials_json(&self, credentials_json: String) -> Res<()> {
        self.set_credentials(Some(Credentials::from_json(&credentials_json)?))
    }

    /// The credentials JSON to persist (contains tokens), or `None` when signed out.
    pub fn credentials_json(&self) -> Option<String> {
        lock(&self.state)
            .credentials
            .as_ref()
            .map(Credentials::to_json)
    }

    /// What the client holds, without secrets.
    pub fn credentials_summary(&self) -> Option<CredentialsSummary> {
        lock(&self.state)
            .credentials
            .as_ref()
            .map(CredentialsSummary::of)
    }

    /// Forgets the credentials locally (the store is cleared, listeners told). To also
    /// invalidate them at the server, use the revoke methods.
    pub fn clear_credentials(&self) -> Res<()> {
        self.set_credentials(None)
    }

    /// The MCP OAuth context (endpoints, client identity) to persist beside the
    /// credentials; it may contain a client secret.
    pub fn auth_context_json(&self) -> Option<String> {
        lock(&self.state)
            .auth_context
            .as_ref()
            .map(AuthContext::to_json)
    }

    // ---------------------------------------------------------------- WorkBoard v1

    /// WorkBoard v1 sign-in, step 1: the authorize URL to open and the pending authorization
    /// to persist (it survives an app restart) until the redirect arrives.
    pub fn start_v1_sign_in(&self, options: V1SignInOptions) -> Res<V1SignInStart> {
        let environment = match options.environment.as_deref() {
            Some(e) => Environment::parse(e)?,
            None => self.env.clone(),
        };
        let mut cfg = V1Config::new(environment, options.client_id, options.redirect_uri);
        cfg.scopes = options.scopes;
        cfg.json_code = options.json_code;
        let now = self.now();
        let (url, pending) = start_authorization(&cfg, &mut **lock(&self.entropy), now)?;
        let pending_json = pending.to_json();
        lock(&self.state).v1_pending = Some(pending);
        Ok(V1SignInStart { url, pending_json })
    }

    /// WorkBoard v1 sign-in, step 2: checks the redirect (URL, query string or `json_code`
    /// body) against the pending authorization (state, expiry, redirect URI) and returns
    /// the code. Send the code to your server, which exchanges it with the Client Hash: the
    /// hash must never ship inside an app.
    ///
    /// `pending_json`: the persisted `V1SignInStart.pending_json` (after an app restart), or
    /// `None` to use the sign-in this client started. The pending authorization is single
    /// use (`authorization_reused` afterwards); delete the persisted copy once this returns.
    pub fn handle_v1_redirect(
        &self,
        pending_json: Option<String>,
        redirect: String,
    ) -> Res<V1Code> {
        let mut st = lock(&self.state);
        if let Some(j) = pending_json {
            let p = PendingAuthorization::from_json(&j)?;
            if p.dialect != Dialect::WorkboardV1 {
                return Err(invalid("pending_json", "not a WorkBoard v1 sign-in"));
            }
            st.v1_pending = Some(p);
        }
        let pending = st
            .v1_pending
            .as_mut()
            .ok_or_else(|| wrong_state("handle a redirect", "no v1 sign-in was started"))?;
        let code = pending.handle_redirect(&redirect, self.clock.now_ms())?;
        drop(st);
        Ok(V1Code {
            code: code.code.expose().to_string(),
            redirect_uri: code.redirect_uri.clone(),
            client_id: code.client_id.clone(),
            token_endpoint: code.token_endpoint.clone(),
            scopes: code.scopes.clone(),
            received_at_ms: code.received_at_ms,
            expires_at_ms: code.expires_at_ms,
        })
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
        self.check_secret(Some(&client_hash))?;
        host::on_runtime(move || async move {
            let ac = AuthorizationCode {
                code: SecretString::new(code.code),
                dialect: Dialect::WorkboardV1,
                redirect_uri: code.redirect_uri,
                client_id: code.client_id,
                pkce_verifier: None,
                resource: None,
                token_endpoint: code.token_endpoint,
                scopes: code.scopes,
                received_at_ms: code.received_at_ms,
                expires_at_ms: code.expires_at_ms,
                extra: serde_json::Value::Null,
            };
            let hash = SecretString::new(client_hash);
            // The code usually comes from an app, i.e. from outside: the core's rule sends the
            // Client Hash only to this client's environment's token endpoint (or to that of a
            // v1 sign-in this client started itself).
            let started = lock(&self.state).v1_pending.clone();
            let req = checked_exchange_request_for(
                &self.env,
                started.as_ref(),
                &ac,
                &hash,
                self.next_request_id(),
                self.now(),
            )?;
            let resp = self
                .transport
                .send(req.clone())
                .await
                .map_err(Error::Transport)?;
            let creds = handle_exchange_response(&req, &resp, self.now())?;
            let summary = CredentialsSummary::of(&creds);
            self.set_credentials(Some(creds))?;
            Ok(summary)
        })
        .await
    }

    /// Revokes WorkBoard v1 credentials at `/wb/oauth/revoke/` and forgets them. Returns
    /// `revoked` or `already_invalid` (the token no longer works either way).
    pub async fn revoke_v1_credentials(self: Arc<Self>) -> Res<String> {
        host::on_runtime(move || async move {
            let creds = self.credentials().ok_or(Error::NotSignedIn)?;
            let req = checked_revoke_request(&self.env, &creds, self.next_request_id())?;
            let resp = self
                .transport
                .send(req.clone())
                .await
                .map_err(Error::Transport)?;
            let outcome = handle_revoke_response(&req, &resp)?;
            self.set_credentials(None)?;
            Ok(match outcome {
                RevokeOutcome::Revoked => "revoked".to_string(),
                RevokeOutcome::AlreadyInvalid => "already_invalid".to_string(),
            })
        })
        .await
    }

    // ---------------------------------------------------------------- OAuth 2.1 for MCP

    /// OAuth 2.1 for MCP: discovery, client identity (pre-registered, metadata document or
    /// dynamic registration) and the PKCE authorization URL. Open `url`; persist
    /// `pending_json`.
    pub async fn start_mcp_sign_in(
        self: Arc<Self>,
        options: McpSignInOptions,
    ) -> Res<McpSignInStart> {
        self.check_secret(options.client_secret.as_deref())?;
        host::on_runtime(move || async move {
            let o = options;
            let server = o.server_url.clone().unwrap_or_else(|| self.mcp_url.clone());
            let mut cfg = McpAuthConfig::new(server, o.redirect_uri);
            cfg.client.client_id = o.client_id;
            cfg.client.client_secret = o.client_secret.map(SecretString::new);
            cfg.client.client_metadata_url = o.client_metadata_url;
            cfg.www_authenticate = o.www_authenticate;
            let mut policy = IssuerPolicy::default().with_environment(&self.env);
            if let Some(base) = o.workboard_environment.as_deref() {
                policy = policy.with_environment(&Environment::parse(base)?);
            }
            cfg.issuer_policy = policy;
            let now = self.now();
            let mut flow = McpAuthFlow::new(cfg, &mut **lock(&self.entropy), now)?;
            drive(&mut flow, &self.transport, &self.clock).await;
            let (url, not_required) = self.absorb(&mut flow)?;
            let out = self.sign_in_start(
                &flow,
                url,
                if not_required {
                    "the server did not ask for authorization"
                } else {
                    "no authorization URL was produced"
                },
            )?;
            lock(&self.state).mcp_flow = Some(flow);
            Ok(out)
        })
        .await
    }

    /// Completes MCP sign-in with the URL (or query string) the browser came back to:
    /// checks `state`, exchanges the code, stores the credentials and tells the listener.
    /// `pending_json`: what `start_mcp_sign_in` returned (after an app restart), or `None`
    /// to use this client's own pending sign-in.
    pub async fn complete_mcp_sign_in(
        self: Arc<Self>,
        pending_json: Option<String>,
        redirect: String,
    ) -> Res<CredentialsSummary> {
        host::on_runtime(move || async move {
            let mut flow = match pending_json {
                Some(p) => McpAuthFlow::resume(&p)?,
                None => lock(&self.state)
                    .mcp_flow
                    .take()
                    .ok_or_else(|| wrong_state("complete sign-in", "no sign-in was started"))?,
            };
            if let Some(ctx) = flow.context() {
                self.check_secret(ctx.client_secret.as_ref().map(SecretString::expose))?;
            }
            if let Err(e) = flow.handle_redirect(&redirect, self.now()) {
                // A wrong `state` keeps the pending authorization (the genuine redirect may
                // still come).
                if !flow.is_finished() {
                    lock(&self.state).mcp_flow = Some(flow);
                }
                return Err(e.into());
            }
            drive(&mut flow, &self.transport, &self.clock).await;
            let absorbed = self.absorb(&mut flow);
            // Kept for a later step-up (it holds the discovery context).
            lock(&self.state).mcp_flow = Some(flow);
            absorbed?;
            let creds = self.credentials().ok_or(Error::NotSignedIn)?;
            Ok(CredentialsSummary::of(&creds))
        })
        .await
    }

    /// Step-up after a 403 `insufficient_scope`: a new authorization URL asking for `scope`
    /// in addition to the scopes granted before. Complete it with `complete_mcp_sign_in`.
    pub fn step_up_mcp_sign_in(&self, scope: String) -> Res<McpSignInStart> {
        let mut flow = lock(&self.state)
            .mcp_flow
            .take()
            .ok_or_else(|| wrong_state("step up", "no MCP sign-in on this client"))?;
        let now = self.now();
        let stepped = flow.step_up(&scope, &mut **lock(&self.entropy), now);
        let result = stepped
            .map_err(WorkboardError::from)
            .and_then(|()| self.absorb(&mut flow))
            .and_then(|(url, _)| {
                self.sign_in_start(&flow, url, "no authorization URL was produced")
            });
        lock(&self.state).mcp_flow = Some(flow);
        result
    }

    /// Refreshes OAuth 2.1 credentials now (rotation-aware); tells the listener.
    pub async fn refresh_mcp_credentials(self: Arc<Self>) -> Res<CredentialsSummary> {
        host::on_runtime(move || async move {
            let ctx = lock(&self.state)
                .auth_context
                .clone()
                .ok_or(Error::NotSignedIn)?;
            let Some(Credentials::OAuth(prev)) = self.credentials() else {
                return Err(Error::NotSignedIn.into());
            };
            let rt = prev.refresh_token.clone().ok_or(Error::NotSignedIn)?;
            // The refresh token goes only to the token endpoint of the server it was issued
            // for (a context of another server is refused).
            Credentials::OAuth(prev.clone()).check_server(&ctx.server_url)?;
            let req = ctx.refresh_request(self.next_request_id(), &rt);
            let resp = self.transport.send(req).await.map_err(Error::Transport)?;
            let set = ctx.handle_refresh_response(&resp, &prev, self.now())?;
            let creds = Credentials::OAuth(set);
            let summary = CredentialsSummary::of(&creds);
            self.set_credentials(Some(creds))?;
            Ok(summary)
        })
        .await
    }

    /// Revokes OAuth 2.1 credentials at the server (RFC 7009: refresh token, then access
    /// token), then forgets them. Returns the number of revocation requests sent (0 when
    /// the server has no revocation endpoint).
    pub async fn revoke_mcp_credentials(self: Arc<Self>) -> Res<u32> {
        host::on_runtime(move || async move {
            let ctx = lock(&self.state)
                .auth_context
                .clone()
                .ok_or(Error::NotSignedIn)?;
            let creds = self.credentials().ok_or(Error::NotSignedIn)?;
            let mut ids = || self.next_request_id();
            let reqs = ctx.revoke_requests(&mut ids, &creds);
            let n = reqs.len() as u32;
            for r in reqs {
                let url = wb::http::redact_url(&r.url);
                let resp = self.transport.send(r).await.map_err(Error::Transport)?;
                if !resp.is_success() {
                    return Err(Error::HttpStatus {
                        status: resp.status,
                        url,
                        detail: None,
                    }
                    .into());
                }
            }
            self.set_credentials(None)?;
            Ok(n)
        })
        .await
    }
}

impl WorkboardClient {
    fn now(&self) -> u64 {
        self.clock.now_ms()
    }

    fn next_request_id(&self) -> wb::RequestId {
        wb::RequestId(self.next_id.fetch_add(1, Ordering::SeqCst).wrapping_add(1))
    }

    fn credentials(&self) -> Option<Credentials> {
        lock(&self.state).credentials.clone()
    }

    /// Refuses a client secret unless the app opted in (server-side code).
    fn check_secret(&self, secret: Option<&str>) -> Res<()> {
        match secret {
            Some(s) if !s.is_empty() && !self.allow_secret => Err(Error::SecretInBrowser.into()),
            _ => Ok(()),
        }
    }

    pub(crate) fn credentials_and_auth(&self) -> (Option<Credentials>, Option<AuthContext>) {
        let st = lock(&self.state);
        (st.credentials.clone(), st.auth_context.clone())
    }

    pub(crate) fn credentials_generation(&self) -> u64 {
        self.creds_generation.load(Ordering::SeqCst)
    }

    /// Credentials the connection refreshed: stored and announced (it already has them).
    pub(crate) fn credentials_from_connection(&self, creds: Credentials) -> Res<()> {
        self.store_and_announce(Some(creds))
    }

    /// Replaces the credentials, persists them in the store and tells the listener. (The
    /// MCP connection takes them only if they belong to its server: the core's
    /// `bind_for_server`, applied by `Connection::new` / `set_credentials`.)
    fn set_credentials(&self, creds: Option<Credentials>) -> Res<()> {
        self.creds_generation.fetch_add(1, Ordering::SeqCst);
        self.store_and_announce(creds)
    }

    fn store_and_announce(&self, creds: Option<Credentials>) -> Res<()> {
        let json = creds.as_ref().map(Credentials::to_json);
        lock(&self.state).credentials = creds;
        if let Some(store) = &self.store {
            match &json {
                Some(j) => store.save(j.clone()),
                None => store.clear(),
            }
            .map_err(store_failed)?;
        }
        let listener = lock(&self.listener).clone();
        if let Some(l) = listener {
            // A failing listener must not break the client.
            let _ = l.on_credentials_changed(json);
        }
        Ok(())
    }

    /// Drains the MCP OAuth flow's events: the authorization URL (if any) and whether the
    /// server required no authorization.
    fn absorb(&self, flow: &mut McpAuthFlow) -> Res<(Option<String>, bool)> {
        let mut url = None;
        let mut not_required = false;
        let mut failed = None;
        while let Some(ev) = flow.poll_event() {
            match ev {
                McpAuthEvent::NotRequired => not_required = true,
                McpAuthEvent::ContextChanged(ctx) => {
                    lock(&self.state).auth_context = Some(ctx);
                    self.creds_generation.fetch_add(1, Ordering::SeqCst);
                }
                McpAuthEvent::AuthorizationUrl { url: u } => url = Some(u),
                McpAuthEvent::CredentialsChanged(c) => self.set_credentials(Some(c))?,
                McpAuthEvent::Failed(e) => failed = Some(e),
            }
        }
        if let Some(ctx) = flow.context() {
            lock(&self.state).auth_context = Some(ctx.clone());
        }
        match failed {
            Some(e) => Err(e.into()),
            None => Ok((url, not_required)),
        }
    }

    fn sign_in_start(
        &self,
        flow: &McpAuthFlow,
        url: Option<String>,
        missing: &str,
    ) -> Res<McpSignInStart> {
        match (url, flow.pending_json(), flow.context()) {
            (Some(url), Some(pending_json), Some(ctx)) => Ok(McpSignInStart {
                url,
                pending_json,
                client_id: ctx.client_id.clone(),
                token_endpoint_auth: ctx.token_endpoint_auth.as_str().to_string(),
                allowance: ctx.allowance.map(|a| a.name().to_string()),
            }),
            _ => Err(wrong_state("start sign-in", missing)),
        }
    }
}
