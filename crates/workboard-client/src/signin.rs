//! Sign-in, step-up and revocation on the [`Client`]: WorkBoard OAuth v1 and OAuth 2.1 for
//! MCP. The flows are the core's machines, run with the host's transport and clock; the
//! client keeps the pending sign-in (single use), applies the secret rules and stores what
//! a sign-in produced through the same path as every credentials change.

use workboard_core::oauth::flow::{AuthContext, McpAuthConfig, McpAuthEvent, McpAuthFlow};
use workboard_core::oauth::metadata::IssuerPolicy;
use workboard_core::oauth::pending::{AuthorizationCode, PendingAuthorization};
use workboard_core::oauth::v1::{self, RevokeOutcome, V1Config, V1Outcome, V1SignIn};
use workboard_core::{drive, Clock, Credentials, Dialect, Environment, Error, SecretString};

use crate::client::{storage, Client};
use crate::host::{keys, Host, HostEntropy};
use crate::store::{self, SharedStore};

/// What [`Client::sign_in_shared`] came to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SharedSignIn {
    /// This client signed in; its result is stored for the other holders.
    Led,
    /// Another holder signed in meanwhile (or wrote first): its stored credentials are used.
    Adopted,
}

fn store_error(e: store::StoreError) -> Error {
    storage(e.to_string())
}

/// What a WorkBoard v1 sign-in starts with: open `url`; persist `pending_json` (it holds the
/// `state`: store it like a credential) until the redirect comes back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct V1SignInStart {
    /// The authorize URL.
    pub url: String,
    /// The pending authorization, for [`Client::resume_v1_sign_in`] after a restart.
    pub pending_json: String,
}

/// A v1 authorization code checked against its pending authorization (see
/// [`Client::handle_v1_redirect`]).
pub type V1Code = AuthorizationCode;

/// Options of an OAuth 2.1 sign-in to an MCP server.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct McpSignInOptions {
    /// The MCP server (default: the client's).
    pub server_url: Option<String>,
    /// The redirect URI (exact, as registered).
    pub redirect_uri: String,
    /// A pre-registered client id (else CIMD or dynamic registration).
    pub client_id: Option<String>,
    /// Its secret (server code only: needs [`crate::ClientConfig::allow_client_secret`]).
    pub client_secret: Option<SecretString>,
    /// The token endpoint the secret belongs to, when it is not WorkBoard's.
    pub client_secret_for: Option<String>,
    /// The secret was given for this server: it may also go to a token endpoint on the MCP
    /// server's own host ([`workboard_core::oauth::registration::ClientConfig::client_secret_for_server_host`]).
    pub client_secret_for_server_host: bool,
    /// This app's client ID metadata document URL (CIMD).
    pub client_metadata_url: Option<String>,
    /// The `WWW-Authenticate` of a 401 already received (else the server is probed).
    pub www_authenticate: Option<String>,
    /// A custom WorkBoard base URL whose issuer quirk is allowed (besides US and EU and the
    /// client's environment).
    pub workboard_environment: Option<Environment>,
}

impl McpSignInOptions {
    /// Options with this redirect URI.
    pub fn new(redirect_uri: impl Into<String>) -> McpSignInOptions {
        McpSignInOptions {
            redirect_uri: redirect_uri.into(),
            ..Default::default()
        }
    }
}

/// An OAuth 2.1 sign-in in progress: open `url`; persist `pending_json`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct McpSignInStart {
    /// The authorization URL (PKCE S256, `state`, `resource`).
    pub url: String,
    /// The pending authorization with its discovery context (holds the PKCE verifier and
    /// any client secret: store it like a credential).
    pub pending_json: String,
    /// The client id in use (pre-registered, CIMD URL or registered).
    pub client_id: String,
    /// How the client authenticates at the token endpoint.
    pub token_endpoint_auth: String,
    /// A named issuer allowance in use (`workboard_wb_issuer`), if any.
    pub allowance: Option<String>,
}

/// Whether a redirect was the sign-in's answer.
#[derive(Debug)]
pub enum RedirectVerdict {
    /// Accepted: finish the sign-in.
    Accepted,
    /// Not this sign-in's answer (no or wrong `state`, malformed): keep waiting.
    Forged(Error),
    /// The sign-in failed (denied, expired): stop waiting.
    Rejected(Error),
}

impl<H: Host> Client<H> {
    // ------------------------------------------------------------------ WorkBoard v1

    /// WorkBoard v1 sign-in, step 1: the authorize URL and the pending authorization. A
    /// sign-in started earlier on this client is replaced.
    pub fn start_v1_sign_in(&self, config: &V1Config) -> Result<V1SignInStart, Error> {
        let now = self.shared.now();
        let (url, pending) =
            v1::start_authorization(config, &mut HostEntropy(&self.shared.host), now)?;
        let pending_json = pending.to_json();
        self.shared.state().v1_pending = Some(pending);
        Ok(V1SignInStart { url, pending_json })
    }

    /// Adopts a v1 sign-in persisted before a restart ([`V1SignInStart::pending_json`]).
    /// Single use: one this client already completed fails with `authorization_reused`;
    /// JSON of another dialect fails with `invalid_input`. Adopting the sign-in already
    /// pending here changes nothing.
    pub fn resume_v1_sign_in(&self, pending_json: &str) -> Result<(), Error> {
        let p = PendingAuthorization::from_json(pending_json)?;
        if p.dialect != Dialect::WorkboardV1 {
            return Err(Error::InvalidInput {
                what: "pending sign-in".into(),
                reason: "not a WorkBoard v1 sign-in".into(),
            });
        }
        let mut st = self.shared.state();
        if p.is_completed() || st.completed.iter().any(|s| s == p.state.expose()) {
            return Err(Error::AuthorizationReused);
        }
        if st
            .v1_pending
            .as_ref()
            .is_some_and(|mine| mine.state == p.state)
        {
            return Ok(());
        }
        st.v1_pending = Some(p);
        Ok(())
    }

    /// WorkBoard v1 sign-in, step 2 (app side): checks the redirect (URL, query string or
    /// `json_code` body) against the pending authorization (state, expiry, redirect URI) and
    /// returns the code, for the app's server to exchange with the Client Hash. Single use.
    pub fn handle_v1_redirect(&self, redirect: &str) -> Result<V1Code, Error> {
        let now = self.shared.now();
        let mut st = self.shared.state();
        let pending = st.v1_pending.as_mut().ok_or_else(|| Error::WrongState {
            action: "handle a redirect".into(),
            state: "no v1 sign-in was started".into(),
        })?;
        let code = pending.handle_redirect(redirect, now)?;
        let state = pending.state.expose().to_string();
        remember_completed(&mut st.completed, state);
        Ok(code)
    }

    /// Whether a v1 sign-in waits for its redirect (a loopback listener keeps waiting past
    /// redirects refused while this holds: they were not the answer).
    pub fn is_awaiting_v1_redirect(&self) -> bool {
        let now = self.shared.now();
        self.shared
            .state()
            .v1_pending
            .as_ref()
            .is_some_and(|p| p.is_awaiting_redirect(now))
    }

    /// SERVER SIDE: exchanges a v1 code with the Client Hash (the core's `V1SignIn`: the
    /// hash goes only to this client's environment's token endpoint, or to that of a v1
    /// sign-in this client started; a code 5 minutes old fails without a request), then
    /// stores and returns the credentials. Needs `allow_client_secret`.
    pub async fn exchange_v1_code(
        &self,
        code: &V1Code,
        client_hash: SecretString,
    ) -> Result<Credentials, Error> {
        self.shared.check_secret(Some(client_hash.expose()))?;
        // v1 tokens are bound to their environment: refuse before the code is spent when this
        // client's server is elsewhere (it could not use them).
        Credentials::personal("-")
            .bind_to(self.shared.environment.base_url())?
            .check_server(&self.shared.server_url)?;
        let config = V1Config::new(
            self.shared.environment.clone(),
            code.client_id.clone(),
            code.redirect_uri.clone(),
        );
        let started = self.shared.state().v1_pending.clone();
        let mut machine = match started {
            Some(p) if p.client_id == code.client_id && p.redirect_uri == code.redirect_uri => {
                V1SignIn::resume(config, client_hash, &p.to_json())?
            }
            _ => V1SignIn::new(config, client_hash)?,
        };
        machine.exchange_code(code, self.shared.now())?;
        drive(
            &mut machine,
            self.shared.host.transport(),
            self.shared.host.clock(),
        )
        .await;
        match machine.poll_result() {
            Some(Ok(V1Outcome::SignedIn(c))) => {
                self.set_credentials(Some(c.clone()), None)?;
                Ok(c)
            }
            Some(Err(e)) => Err(e),
            _ => Err(Error::Protocol {
                reason: "the v1 code exchange did not complete".into(),
            }),
        }
    }

    /// SERVER SIDE (tools, services): step 2 and the exchange in one.
    pub async fn complete_v1_sign_in(
        &self,
        redirect: &str,
        client_hash: SecretString,
    ) -> Result<Credentials, Error> {
        self.shared.check_secret(Some(client_hash.expose()))?;
        let code = self.handle_v1_redirect(redirect)?;
        self.exchange_v1_code(&code, client_hash).await
    }

    /// Revokes the current WorkBoard v1 credentials at `/wb/oauth/revoke/` and forgets them.
    pub async fn revoke_v1(&self) -> Result<RevokeOutcome, Error> {
        let creds = self.credentials().ok_or(Error::NotSignedIn)?;
        let env = &self.shared.environment;
        let outcome = crate::flows::revoke_v1(
            self.shared.host.transport(),
            env,
            &creds,
            self.shared.request_id(),
        )
        .await?;
        self.set_credentials(None, None)?;
        Ok(outcome)
    }

    // ------------------------------------------------------------------ OAuth 2.1 for MCP

    /// OAuth 2.1 for MCP, step 1: discovery, client identity (pre-registered, metadata
    /// document or dynamic registration) and the PKCE authorization URL. `Ok(None)` when the
    /// server asks for no authorization.
    pub async fn start_mcp_sign_in(
        &self,
        options: McpSignInOptions,
    ) -> Result<Option<McpSignInStart>, Error> {
        let o = options;
        self.shared
            .check_secret(o.client_secret.as_ref().map(SecretString::expose))?;
        let server = o
            .server_url
            .clone()
            .unwrap_or_else(|| self.shared.server_url.clone());
        let mut cfg = McpAuthConfig::new(server, o.redirect_uri);
        cfg.client.client_id = o.client_id;
        cfg.client.client_secret = o.client_secret;
        cfg.client.client_secret_for = o.client_secret_for;
        cfg.client.client_secret_for_server_host = o.client_secret_for_server_host;
        cfg.client.client_metadata_url = o.client_metadata_url;
        cfg.www_authenticate = o.www_authenticate;
        // The stored context's registration is used again at its own issuer only (the core
        // registers anew when discovery finds another authorization server).
        cfg.previous = self.auth_context();
        let mut policy = IssuerPolicy::default().with_environment(&self.shared.environment);
        if let Some(env) = &o.workboard_environment {
            policy = policy.with_environment(env);
        }
        cfg.issuer_policy = policy;
        let now = self.shared.now();
        let mut flow = McpAuthFlow::new(cfg, &mut HostEntropy(&self.shared.host), now)?;
        drive(
            &mut flow,
            self.shared.host.transport(),
            self.shared.host.clock(),
        )
        .await;
        let (url, not_required) = self.absorb(&mut flow)?;
        if not_required {
            return Ok(None);
        }
        self.check_context(&flow)?;
        let start = sign_in_start(&flow, url)?;
        self.shared.state().mcp_flow = Some(flow);
        Ok(Some(start))
    }

    /// OAuth client credentials for a service (MCP extension
    /// `io.modelcontextprotocol/oauth-client-credentials`): discovers this client's server's
    /// token endpoint and runs the grant ([`crate::flows::sign_in_client_credentials`]); stores
    /// and uses the credentials and the context that renews them. `config.server_url` is
    /// replaced by this client's server. Needs `allow_client_secret` (a client secret or a
    /// private key is server-side material). `Ok(None)` when the server asks for no
    /// authorization.
    pub async fn sign_in_client_credentials(
        &self,
        mut config: workboard_core::oauth::client_credentials::ClientCredentialsConfig,
    ) -> Result<Option<Credentials>, Error> {
        use workboard_core::oauth::client_credentials::ClientAuthentication as A;
        let material = match &config.authentication {
            A::ClientSecretBasic(s) | A::ClientSecretPost(s) => s.expose(),
            A::PrivateKeyJwt(_) => "private key",
        };
        self.shared.check_secret(Some(material))?;
        config.server_url = self.shared.server_url.clone();
        config.issuer_policy = config
            .issuer_policy
            .clone()
            .with_environment(&self.shared.environment);
        let signed_in = crate::flows::sign_in_client_credentials(
            self.shared.host.transport(),
            self.shared.host.clock(),
            &mut HostEntropy(&self.shared.host),
            config,
        )
        .await?;
        match signed_in {
            None => Ok(None),
            Some((credentials, context)) => {
                self.set_credentials(Some(credentials.clone()), Some(context))?;
                Ok(Some(credentials))
            }
        }
    }

    /// Adopts an MCP sign-in persisted before a restart ([`McpSignInStart::pending_json`]).
    /// Single use, as [`Client::resume_v1_sign_in`].
    pub fn resume_mcp_sign_in(&self, pending_json: &str) -> Result<(), Error> {
        let p = PendingAuthorization::from_json(pending_json)?;
        let mut st = self.shared.state();
        if p.is_completed() || st.completed.iter().any(|s| s == p.state.expose()) {
            return Err(Error::AuthorizationReused);
        }
        let flow = McpAuthFlow::resume(pending_json)?;
        if let Some(ctx) = flow.context() {
            self.shared
                .check_secret(ctx.client_secret.as_ref().map(SecretString::expose))?;
        }
        self.check_context(&flow)?;
        st.mcp_flow = Some(flow);
        Ok(())
    }

    /// Checks a redirect against the pending MCP sign-in without finishing it (a loopback
    /// listener's check): a forged redirect leaves it waiting for the genuine one.
    pub fn accept_mcp_redirect(&self, redirect: &str) -> RedirectVerdict {
        let now = self.shared.now();
        let mut st = self.shared.state();
        let Some(flow) = st.mcp_flow.as_mut() else {
            return RedirectVerdict::Rejected(Error::WrongState {
                action: "complete sign-in".into(),
                state: "no sign-in was started".into(),
            });
        };
        let state = flow
            .pending_json()
            .and_then(|j| PendingAuthorization::from_json(&j).ok())
            .map(|p| p.state.expose().to_string());
        match flow.handle_redirect(redirect, now) {
            Ok(()) => {
                if let Some(s) = state {
                    remember_completed(&mut st.completed, s);
                }
                RedirectVerdict::Accepted
            }
            Err(e) if flow.is_awaiting_redirect() => RedirectVerdict::Forged(e),
            Err(e) => RedirectVerdict::Rejected(e),
        }
    }

    /// Finishes an MCP sign-in whose redirect was accepted: the code exchange; stores the
    /// credentials and the OAuth context (the client uses them at once).
    pub async fn finish_mcp_sign_in(&self) -> Result<Credentials, Error> {
        let mut flow = self
            .shared
            .state()
            .mcp_flow
            .take()
            .ok_or_else(|| Error::WrongState {
                action: "complete sign-in".into(),
                state: "no sign-in was started".into(),
            })?;
        drive(
            &mut flow,
            self.shared.host.transport(),
            self.shared.host.clock(),
        )
        .await;
        let absorbed = self.absorb(&mut flow);
        // Kept for a later step-up (it holds the discovery context).
        self.shared.state().mcp_flow = Some(flow);
        absorbed?;
        self.credentials().ok_or(Error::NotSignedIn)
    }

    /// Completes an MCP sign-in with the URL (or query string) the browser came back to.
    /// `pending_json`: a persisted [`McpSignInStart::pending_json`] after a restart (single
    /// use), or `None` for this client's own pending sign-in.
    pub async fn complete_mcp_sign_in(
        &self,
        pending_json: Option<&str>,
        redirect: &str,
    ) -> Result<Credentials, Error> {
        if let Some(p) = pending_json {
            self.resume_mcp_sign_in(p)?;
        }
        match self.accept_mcp_redirect(redirect) {
            RedirectVerdict::Accepted => self.finish_mcp_sign_in().await,
            RedirectVerdict::Forged(e) | RedirectVerdict::Rejected(e) => Err(e),
        }
    }

    /// Step-up after a 403 `insufficient_scope`: a new authorization URL asking for `scope`
    /// besides those granted. Complete it like a sign-in. Works from the sign-in this client
    /// made or, after a restart, from the stored OAuth context.
    pub fn step_up_mcp_sign_in(&self, scope: &str) -> Result<McpSignInStart, Error> {
        let now = self.shared.now();
        let held = self.shared.state().mcp_flow.take();
        let mut flow = match held {
            Some(f) => f,
            None => {
                let ctx = self.auth_context().ok_or_else(|| Error::WrongState {
                    action: "step up".into(),
                    state: "no MCP sign-in on this client and no stored OAuth context".into(),
                })?;
                McpAuthFlow::from_context(ctx, &mut HostEntropy(&self.shared.host), now)?
            }
        };
        // The scopes already granted stay asked for (SEP-2350: the union), besides the new one.
        let granted = self
            .credentials()
            .and_then(|c| c.scope().map(|g| g.replace(',', " ")));
        let wanted = match granted.as_deref().map(str::trim).filter(|g| !g.is_empty()) {
            Some(g) => format!("{g} {scope}"),
            None => scope.to_string(),
        };
        let result = flow
            .step_up(&wanted, &mut HostEntropy(&self.shared.host), now)
            .and_then(|()| self.absorb(&mut flow))
            .and_then(|(url, _)| sign_in_start(&flow, url));
        self.shared.state().mcp_flow = Some(flow);
        result
    }

    /// Revokes the OAuth 2.1 credentials at the server (RFC 7009: refresh token, then access
    /// token) and forgets them. Returns the number of revocation requests (0 when the server
    /// has no revocation endpoint). Credentials of another server than the context's are
    /// refused (`credentials_not_for_server`) before anything is sent.
    pub async fn revoke_mcp(&self) -> Result<usize, Error> {
        let ctx = self.auth_context().ok_or(Error::NotSignedIn)?;
        let creds = self.credentials().ok_or(Error::NotSignedIn)?;
        let mut ids = || self.shared.request_id();
        let n =
            crate::flows::revoke_mcp(self.shared.host.transport(), &ctx, &creds, &mut ids).await?;
        self.set_credentials(None, None)?;
        Ok(n)
    }

    // ------------------------------------------------------------------ shared sign-in

    /// Signs in once for every holder of this client's shared credentials
    /// ([`Host::shared_store`]: copies of a bridge an AI client started, the CLI beside a
    /// desktop app): under the store's [`store::AUTH_LEASE`], from the version of the
    /// credentials this client holds ([`store::lead_or_follow`], the rule refreshes follow).
    ///
    /// The holder that leads runs `sign_in` (renewing the lease at a third of its TTL while
    /// it runs: a browser sign-in takes minutes), writes its result fenced by the lease — the
    /// OAuth context, then the credentials from the version it led from — and releases the
    /// lease whatever happened (a failed sign-in lets the next holder try at once). Every
    /// other holder waits, at most `max_wait_ms`, and uses what was stored: no second
    /// browser, loopback listener or code exchange. A write that conflicts (a writer that
    /// takes no lease, such as `workboard login`, came first) or is fenced (the lease lapsed
    /// and a successor took it) leaves the store's value, which this client then uses.
    /// Without a shared store: `sign_in`, then [`Client::set_credentials`].
    ///
    /// `sign_in` returns the credentials and their OAuth context (an MCP sign-in). Store
    /// failures are `credential_store_failed` (kind `Storage`); a lease kept past
    /// `max_wait_ms` by a live holder too.
    pub async fn sign_in_shared<F, Fut>(
        &self,
        sign_in: F,
        max_wait_ms: u64,
    ) -> Result<SharedSignIn, Error>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<(Credentials, AuthContext), Error>>,
    {
        let host = &self.shared.host;
        let Some(store) = host.shared_store() else {
            let (credentials, auth) = sign_in().await?;
            self.set_credentials(Some(credentials), Some(auth))?;
            return Ok(SharedSignIn::Led);
        };
        let ttl = self.shared.lease_ttl_ms;
        let mut signed_out = 0;
        let (lease, seen) = loop {
            let seen = self.shared.state().credentials_version;
            let turn = store::lead_or_follow(
                store,
                host.clock(),
                keys::CREDENTIALS,
                seen,
                store::AUTH_LEASE,
                ttl,
                max_wait_ms,
            )
            .await
            .map_err(store_error)?;
            match turn {
                store::Turn::Lead(lease) => break (lease, seen),
                store::Turn::Stored(stored) => {
                    let removed = stored.value.is_none();
                    self.use_stored(store, stored)?;
                    if !removed {
                        return Ok(SharedSignIn::Adopted);
                    }
                    // Signed out elsewhere meanwhile: lead or follow again from there.
                    signed_out += 1;
                    if signed_out >= 4 {
                        return Err(storage(
                            "the stored credentials kept being removed during the sign-in".into(),
                        ));
                    }
                }
            }
        };
        let outcome = self.lead_sign_in(store, &lease, seen, sign_in).await;
        // A lease that cannot be given back ends with its TTL (or its process).
        let _ = store.release(&lease);
        outcome
    }

    /// The leader's part of [`Client::sign_in_shared`]: the sign-in under a renewed lease,
    /// its result written fenced, the client switched to what the store then holds.
    async fn lead_sign_in<F, Fut>(
        &self,
        store: &dyn SharedStore,
        lease: &store::Lease,
        seen: store::Version,
        sign_in: F,
    ) -> Result<SharedSignIn, Error>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<(Credentials, AuthContext), Error>>,
    {
        use futures_util::future::{select, Either};
        use store::Swap;
        let ttl = self.shared.lease_ttl_ms;
        let renewing = async {
            loop {
                self.shared.host.clock().sleep_ms((ttl / 3).max(1)).await;
                if !matches!(store.renew(lease, ttl), Ok(true)) {
                    // Lost or unreachable: a successor's result wins through the fence.
                    std::future::pending::<()>().await;
                }
            }
        };
        let work = sign_in();
        futures_util::pin_mut!(work, renewing);
        let (credentials, auth) = match select(work, renewing).await {
            Either::Left((signed, _)) => signed?,
            Either::Right(((), _)) => return Err(storage("the lease renewal stopped".into())),
        };
        let credentials = workboard_core::credentials::bind_for_server(
            &self.shared.server_url,
            Some(credentials),
            Some(&auth),
        )?
        .ok_or(Error::NotSignedIn)?;
        // The context first: a holder that sees the new credentials reads it after them.
        let context = auth.to_json();
        let mut context_written = false;
        for _ in 0..8 {
            let now = store.get(keys::AUTH_CONTEXT).map_err(store_error)?;
            match store
                .compare_and_swap(keys::AUTH_CONTEXT, now.version, Some(&context), Some(lease))
                .map_err(store_error)?
            {
                Swap::Done(_) => {
                    context_written = true;
                    break;
                }
                Swap::Conflict(_) => continue,
                Swap::Fenced => break,
            }
        }
        if context_written {
            match store
                .compare_and_swap(
                    keys::CREDENTIALS,
                    seen,
                    Some(&credentials.to_json()),
                    Some(lease),
                )
                .map_err(store_error)?
            {
                Swap::Done(version) => {
                    self.apply_credentials(Some(credentials), Some(auth), Some(version))?;
                    return Ok(SharedSignIn::Led);
                }
                Swap::Conflict(stored) => {
                    self.use_stored(store, stored)?;
                    return Ok(SharedSignIn::Adopted);
                }
                Swap::Fenced => {}
            }
        }
        let stored = store.get(keys::CREDENTIALS).map_err(store_error)?;
        self.use_stored(store, stored)?;
        Ok(SharedSignIn::Adopted)
    }

    /// Uses the credentials (and OAuth context) another holder stored, at their version,
    /// without writing them again.
    fn use_stored(&self, store: &dyn SharedStore, stored: store::Versioned) -> Result<(), Error> {
        let auth = store
            .get(keys::AUTH_CONTEXT)
            .map_err(store_error)?
            .value
            .and_then(|j| AuthContext::from_json(&j).ok());
        let credentials = stored
            .value
            .as_deref()
            .map(Credentials::from_json)
            .transpose()?
            .map(|c| c.or_bound_to_environment(&self.shared.environment, auth.as_ref()));
        self.apply_credentials(credentials, auth, Some(stored.version))
    }

    /// Refuses, before the user is sent to authorize (or a code is spent), a sign-in whose
    /// credentials this client could not use: one for another server than its own.
    fn check_context(&self, flow: &McpAuthFlow) -> Result<(), Error> {
        match flow.context() {
            Some(ctx) => workboard_core::credentials::bind_for_server(
                &self.shared.server_url,
                None,
                Some(ctx),
            )
            .map(|_| ()),
            None => Ok(()),
        }
    }

    /// Drains the MCP OAuth flow's events: the authorization URL (if any) and whether the
    /// server required no authorization; credentials it produced are stored with its
    /// context.
    fn absorb(&self, flow: &mut McpAuthFlow) -> Result<(Option<String>, bool), Error> {
        let mut url = None;
        let mut not_required = false;
        let mut failed = None;
        let mut credentials = None;
        while let Some(ev) = flow.poll_event() {
            match ev {
                McpAuthEvent::NotRequired => not_required = true,
                McpAuthEvent::ContextChanged(_) => {}
                McpAuthEvent::AuthorizationUrl { url: u } => url = Some(u),
                McpAuthEvent::CredentialsChanged(c) => credentials = Some(c),
                McpAuthEvent::Failed(e) => failed = Some(e),
            }
        }
        if let Some(e) = failed {
            return Err(e);
        }
        match credentials {
            Some(c) => self.set_credentials(Some(c), flow.context().cloned())?,
            None => {
                if let Some(ctx) = flow.context() {
                    self.shared.state().auth.get_or_insert_with(|| ctx.clone());
                }
            }
        }
        Ok((url, not_required))
    }
}

fn sign_in_start(flow: &McpAuthFlow, url: Option<String>) -> Result<McpSignInStart, Error> {
    match (url, flow.pending_json(), flow.context()) {
        (Some(url), Some(pending_json), Some(ctx)) => Ok(McpSignInStart {
            url,
            pending_json,
            client_id: ctx.client_id.clone(),
            token_endpoint_auth: ctx.token_endpoint_auth.as_str().to_string(),
            allowance: ctx.allowance.map(|a| a.name().to_string()),
        }),
        _ => Err(Error::WrongState {
            action: "start sign-in".into(),
            state: "no authorization URL was produced".into(),
        }),
    }
}

/// Remembers a completed sign-in's `state` (the last 32).
fn remember_completed(completed: &mut Vec<String>, state: String) {
    if completed.len() >= 32 {
        completed.remove(0);
    }
    completed.push(state);
}
