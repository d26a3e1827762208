//! `WorkboardClient`: one object holding the host capabilities (fetch, clock, entropy),
//! the credentials and any pending sign-in, with Promise-returning methods.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Function, Promise};
use tsify::Ts;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;
use workboard_core::oauth::flow::{AuthContext, McpAuthConfig, McpAuthEvent, McpAuthFlow};
use workboard_core::oauth::metadata::IssuerPolicy;
use workboard_core::{
    drive, Clock, Credentials, Environment, Error, RequestId, SecretString, SeededEntropy,
    Transport,
};

use crate::error::{bad_arg, bad_result, opt_string_arg, string_arg, to_js};
use crate::host::{entropy, FetchTransport, JsClock};
use crate::types::{ClientOptions, CredentialsSummary, McpSignInOptions, McpSignInStart};

/// A WorkBoard connection for JavaScript (browsers, Node 18+, Deno, Vite apps).
///
/// Construct with a personal token, or sign in with OAuth (`startMcpSignIn` /
/// `completeMcpSignIn`, or WorkBoard v1 sign-in with the exchange on your server).
/// Persist what `onCredentialsChanged` delivers.
#[wasm_bindgen]
pub struct WorkboardClient {
    inner: Rc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) env: Environment,
    pub(crate) mcp_url: String,
    pub(crate) transport: Rc<FetchTransport>,
    pub(crate) clock: Rc<JsClock>,
    pub(crate) entropy: RefCell<SeededEntropy>,
    pub(crate) allow_secret: bool,
    pub(crate) client_info: Option<workboard_core::mcp::jsonrpc::Implementation>,
    credentials: RefCell<Option<Credentials>>,
    auth_context: RefCell<Option<AuthContext>>,
    mcp_flow: RefCell<Option<McpAuthFlow>>,
    pub(crate) v1_pending: RefCell<Option<workboard_core::oauth::pending::PendingAuthorization>>,
    listeners: RefCell<Vec<Function>>,
    pub(crate) connection: RefCell<Option<Rc<crate::mcp::Running>>>,
    next_id: std::cell::Cell<u64>,
}

pub(crate) fn busy(action: &str) -> JsValue {
    to_js(Error::WrongState {
        action: action.into(),
        state: "another call on this client is using it".into(),
    })
}

fn parse_hex32(s: &str) -> Result<Vec<u8>, JsValue> {
    let s = s.trim();
    let bad = || {
        to_js(Error::InvalidInput {
            what: "entropySeedHex".into(),
            reason: "must be 64 hex characters".into(),
        })
    };
    if s.len() != 64 || !s.is_ascii() {
        return Err(bad());
    }
    (0..32)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).map_err(|_| bad()))
        .collect()
}

impl Inner {
    pub(crate) fn now(&self) -> u64 {
        self.clock.now_ms()
    }

    pub(crate) fn next_request_id(&self) -> RequestId {
        let n = self.next_id.get().wrapping_add(1);
        self.next_id.set(n);
        RequestId(n)
    }

    /// Refuses a client secret unless the caller opted in loudly.
    pub(crate) fn check_secret(&self, secret: Option<&str>) -> Result<(), JsValue> {
        match secret {
            Some(s) if !s.is_empty() && !self.allow_secret => Err(to_js(Error::SecretInBrowser)),
            _ => Ok(()),
        }
    }

    pub(crate) fn credentials(&self) -> Option<Credentials> {
        self.credentials.borrow().clone()
    }

    /// Replaces the credentials and tells every listener (with the JSON to persist, or null).
    /// (The MCP connection takes them only if they belong to its server: the core's
    /// `bind_for_server`; see `forward_credentials`.)
    pub(crate) fn set_credentials(&self, creds: Option<Credentials>) -> Result<(), Error> {
        self.forward_credentials(creds.clone());
        self.credentials_from_connection_or_app(creds);
        Ok(())
    }

    /// Credentials the connection refreshed: stored and announced (the connection has them).
    pub(crate) fn credentials_from_connection(&self, creds: Credentials) {
        self.credentials_from_connection_or_app(Some(creds));
    }

    pub(crate) fn auth_context(&self) -> Option<AuthContext> {
        self.auth_context.borrow().clone()
    }

    fn credentials_from_connection_or_app(&self, creds: Option<Credentials>) {
        let json = creds.as_ref().map(Credentials::to_json);
        *self.credentials.borrow_mut() = creds;
        let listeners = self.listeners.borrow().clone();
        let arg = json.map(JsValue::from).unwrap_or(JsValue::NULL);
        for l in listeners {
            // A throwing listener must not break the client.
            let _ = l.call1(&JsValue::UNDEFINED, &arg);
        }
    }

    /// Drains the MCP OAuth flow's events: returns the authorization URL (if any) and whether
    /// the server required no authorization.
    fn absorb(&self, flow: &mut McpAuthFlow) -> Result<(Option<String>, bool), Error> {
        let mut url = None;
        let mut not_required = false;
        let mut failed = None;
        while let Some(ev) = flow.poll_event() {
            match ev {
                McpAuthEvent::NotRequired => not_required = true,
                McpAuthEvent::ContextChanged(ctx) => *self.auth_context.borrow_mut() = Some(ctx),
                McpAuthEvent::AuthorizationUrl { url: u } => url = Some(u),
                McpAuthEvent::CredentialsChanged(c) => {
                    if let Err(e) = self.set_credentials(Some(c)) {
                        failed = Some(e);
                    }
                }
                McpAuthEvent::Failed(e) => failed = Some(e),
            }
        }
        if let Some(ctx) = flow.context() {
            *self.auth_context.borrow_mut() = Some(ctx.clone());
        }
        match failed {
            Some(e) => Err(e),
            None => Ok((url, not_required)),
        }
    }
}

impl WorkboardClient {
    pub(crate) fn inner(&self) -> &Rc<Inner> {
        &self.inner
    }
}

#[wasm_bindgen]
impl WorkboardClient {
    /// A client. Throws a `WorkboardError` (`invalid_url`, `insecure_url`, `invalid_input`)
    /// for bad options.
    #[wasm_bindgen(constructor)]
    pub fn new(options: Option<Ts<ClientOptions>>) -> Result<WorkboardClient, JsValue> {
        let opts = match options {
            Some(o) if !o.js_value().is_undefined() && !o.js_value().is_null() => {
                o.to_rust().map_err(bad_arg("client options"))?
            }
            _ => ClientOptions::default(),
        };
        let env = Environment::parse(opts.environment.as_deref().unwrap_or("us")).map_err(to_js)?;
        let mcp_url = match opts
            .mcp_url
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            Some(u) => {
                let parsed = url_parse(u, "MCP URL")?;
                workboard_core::env::check_secure_url(&parsed, "MCP URL").map_err(to_js)?;
                u.to_string()
            }
            None => env.mcp_url(),
        };
        let seed = opts
            .entropy_seed_hex
            .as_deref()
            .map(parse_hex32)
            .transpose()?;
        let inner = Inner {
            transport: Rc::new(FetchTransport::new(&opts.fetch, opts.timeout_ms)?),
            clock: Rc::new(JsClock::new(
                &opts.now,
                &opts.sleep,
                opts.simulated_clock == Some(true),
            )),
            entropy: RefCell::new(entropy(seed.as_deref())?),
            allow_secret: opts.dangerously_allow_client_secret_in_browser,
            client_info: opts.client_info.clone().map(|ci| {
                let mut i = workboard_core::mcp::jsonrpc::Implementation::new(ci.name, ci.version);
                i.title = ci.title;
                i
            }),
            env,
            mcp_url,
            credentials: RefCell::new(None),
            auth_context: RefCell::new(None),
            mcp_flow: RefCell::new(None),
            v1_pending: RefCell::new(None),
            listeners: RefCell::new(Vec::new()),
            connection: RefCell::new(None),
            next_id: std::cell::Cell::new(0),
        };
        let mut creds = None;
        if let Some(j) = opts.credentials.as_deref() {
            creds = Some(Credentials::from_json(j).map_err(to_js)?);
        }
        if let Some(t) = opts.token.as_deref() {
            creds = Some(personal(t)?);
        }
        if let Some(j) = opts.auth_context.as_deref() {
            *inner.auth_context.borrow_mut() = Some(AuthContext::from_json(j).map_err(to_js)?);
        }
        *inner.credentials.borrow_mut() = creds;
        Ok(WorkboardClient {
            inner: Rc::new(inner),
        })
    }

    /// The environment's base URL.
    #[wasm_bindgen(getter, js_name = baseUrl)]
    pub fn base_url(&self) -> String {
        self.inner.env.base_url().to_string()
    }

    /// The MCP endpoint in use.
    #[wasm_bindgen(getter, js_name = mcpUrl)]
    pub fn mcp_url(&self) -> String {
        self.inner.mcp_url.clone()
    }

    /// The credentials as JSON for your store (contains the tokens: store it safely), or
    /// undefined when signed out.
    #[wasm_bindgen(js_name = credentialsJson)]
    pub fn credentials_json(&self) -> Option<String> {
        self.inner.credentials().map(|c| c.to_json())
    }

    /// What the client holds, without secret values (undefined when signed out).
    #[wasm_bindgen(js_name = credentialsSummary, unchecked_return_type = "CredentialsSummary | undefined")]
    pub fn credentials_summary(&self) -> Result<JsValue, JsValue> {
        match self.inner.credentials() {
            None => Ok(JsValue::UNDEFINED),
            Some(c) => Ok(Ts::from_rust(&CredentialsSummary::of(&c))
                .map_err(bad_result)?
                .into()),
        }
    }

    /// The OAuth 2.1 context of the MCP sign-in as JSON (endpoints, client id; contains the
    /// client secret if one was used), to pass back as `authContext` after a reload.
    #[wasm_bindgen(js_name = authContextJson)]
    pub fn auth_context_json(&self) -> Option<String> {
        self.inner
            .auth_context
            .borrow()
            .as_ref()
            .map(AuthContext::to_json)
    }

    /// Uses a personal token (a leading `Bearer ` is removed). Notifies listeners.
    #[wasm_bindgen(js_name = setToken)]
    pub fn set_token(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] token: JsValue,
    ) -> Result<(), JsValue> {
        let c = personal(&string_arg(&token, "token")?)?;
        self.inner.set_credentials(Some(c)).map_err(to_js)
    }

    /// Restores credentials saved from `credentialsJson()` / `onCredentialsChanged`.
    #[wasm_bindgen(js_name = setCredentialsJson)]
    pub fn set_credentials_json(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] json: JsValue,
    ) -> Result<(), JsValue> {
        let json = string_arg(&json, "credentials JSON")?;
        let c = Credentials::from_json(&json).map_err(to_js)?;
        self.inner.set_credentials(Some(c)).map_err(to_js)
    }

    /// Forgets the credentials locally (no request; see `revoke`). Notifies listeners with null.
    #[wasm_bindgen(js_name = clearCredentials)]
    pub fn clear_credentials(&self) {
        // Signing out is never refused.
        let _ = self.inner.set_credentials(None);
    }

    /// Calls `callback(credentialsJson | null)` whenever the credentials change (sign-in,
    /// refresh, sign-out). Persist the JSON: it holds the tokens.
    #[wasm_bindgen(js_name = onCredentialsChanged)]
    pub fn on_credentials_changed(
        &self,
        #[wasm_bindgen(unchecked_param_type = "(credentialsJson: string | null) => void")] callback: Function,
    ) {
        self.inner.listeners.borrow_mut().push(callback);
    }

    /// Removes a callback given to `onCredentialsChanged`.
    #[wasm_bindgen(js_name = offCredentialsChanged)]
    pub fn off_credentials_changed(
        &self,
        #[wasm_bindgen(unchecked_param_type = "(credentialsJson: string | null) => void")] callback: Function,
    ) {
        self.inner
            .listeners
            .borrow_mut()
            .retain(|f| !js_sys::Object::is(f, &callback));
    }

    /// OAuth 2.1 for MCP: discovery, client identity (pre-registered, metadata document or
    /// dynamic registration) and the PKCE authorization URL. Open `url`; keep `pendingJson`.
    #[wasm_bindgen(js_name = startMcpSignIn, unchecked_return_type = "Promise<McpSignInStart>")]
    pub fn start_mcp_sign_in(&self, options: Ts<McpSignInOptions>) -> Promise {
        let inner = self.inner.clone();
        let opts = options.to_rust().map_err(bad_arg("MCP sign-in options"));
        future_to_promise(async move {
            let o = opts?;
            inner.check_secret(o.client_secret.as_deref())?;
            let server = o
                .server_url
                .clone()
                .unwrap_or_else(|| inner.mcp_url.clone());
            let mut cfg = McpAuthConfig::new(server, o.redirect_uri);
            cfg.client.client_id = o.client_id;
            cfg.client.client_secret = o.client_secret.map(SecretString::new);
            cfg.client.client_metadata_url = o.client_metadata_url;
            cfg.www_authenticate = o.www_authenticate;
            let mut policy = IssuerPolicy::default().with_environment(&inner.env);
            if let Some(base) = o.workboard_environment.as_deref() {
                policy = policy.with_environment(&Environment::parse(base).map_err(to_js)?);
            }
            cfg.issuer_policy = policy;
            let now = inner.now();
            let mut flow = {
                let mut e = inner
                    .entropy
                    .try_borrow_mut()
                    .map_err(|_| busy("start sign-in"))?;
                McpAuthFlow::new(cfg, &mut *e, now).map_err(to_js)?
            };
            drive(&mut flow, &*inner.transport, &*inner.clock).await;
            let (url, not_required) = inner.absorb(&mut flow).map_err(to_js)?;
            let ctx = flow.context().cloned();
            let pending = flow.pending_json();
            let out = match (url, pending, ctx) {
                (Some(url), Some(pending_json), Some(ctx)) => McpSignInStart {
                    url,
                    pending_json,
                    client_id: ctx.client_id.clone(),
                    token_endpoint_auth: ctx.token_endpoint_auth.as_str().to_string(),
                    allowance: ctx.allowance.map(|a| a.name().to_string()),
                },
                _ => {
                    return Err(to_js(Error::WrongState {
                        action: "start sign-in".into(),
                        state: if not_required {
                            "the server did not ask for authorization".into()
                        } else {
                            "no authorization URL was produced".into()
                        },
                    }))
                }
            };
            *inner
                .mcp_flow
                .try_borrow_mut()
                .map_err(|_| busy("start sign-in"))? = Some(flow);
            Ok(Ts::from_rust(&out).map_err(bad_result)?.into())
        })
    }

    /// Completes MCP sign-in with the URL (or query string) the browser came back to:
    /// checks `state`, exchanges the code, stores the credentials and notifies listeners.
    /// `pendingJson` is what `startMcpSignIn` returned (pass null to use this client's own
    /// pending sign-in).
    #[wasm_bindgen(js_name = completeMcpSignIn, unchecked_return_type = "Promise<CredentialsSummary>")]
    pub fn complete_mcp_sign_in(
        &self,
        #[wasm_bindgen(js_name = pendingJson, unchecked_param_type = "string | null | undefined")]
        pending_json: JsValue,
        #[wasm_bindgen(js_name = redirectUrl, unchecked_param_type = "string")]
        redirect_url: JsValue,
    ) -> Promise {
        let inner = self.inner.clone();
        let args = opt_string_arg(&pending_json, "pending sign-in JSON")
            .and_then(|p| Ok((p, string_arg(&redirect_url, "redirect URL")?)));
        future_to_promise(async move {
            let (pending_json, redirect_url) = args?;
            let mut flow = match pending_json {
                Some(p) => McpAuthFlow::resume(&p).map_err(to_js)?,
                None => inner
                    .mcp_flow
                    .try_borrow_mut()
                    .map_err(|_| busy("complete sign-in"))?
                    .take()
                    .ok_or_else(|| {
                        to_js(Error::WrongState {
                            action: "complete sign-in".into(),
                            state: "no sign-in was started".into(),
                        })
                    })?,
            };
            if let Some(ctx) = flow.context() {
                inner.check_secret(ctx.client_secret.as_ref().map(SecretString::expose))?;
            }
            let result = flow.handle_redirect(&redirect_url, inner.now());
            if let Err(e) = result {
                // A wrong `state` keeps the pending authorization (the genuine redirect may
                // still come).
                if !flow.is_finished() {
                    *inner.mcp_flow.borrow_mut() = Some(flow);
                }
                return Err(to_js(e));
            }
            drive(&mut flow, &*inner.transport, &*inner.clock).await;
            let absorbed = inner.absorb(&mut flow);
            // Kept for a later step-up (it holds the discovery context).
            *inner.mcp_flow.borrow_mut() = Some(flow);
            absorbed.map_err(to_js)?;
            let creds = inner
                .credentials()
                .ok_or_else(|| to_js(Error::NotSignedIn))?;
            Ok(Ts::from_rust(&CredentialsSummary::of(&creds))
                .map_err(bad_result)?
                .into())
        })
    }

    /// Step-up after a 403 `insufficient_scope`: a new authorization URL asking for `scope` in
    /// addition to the scopes granted before. Complete it with `completeMcpSignIn`.
    #[wasm_bindgen(js_name = stepUpMcpSignIn, unchecked_return_type = "McpSignInStart")]
    pub fn step_up_mcp_sign_in(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] scope: JsValue,
    ) -> Result<JsValue, JsValue> {
        let scope = string_arg(&scope, "scope")?;
        let inner = &self.inner;
        let mut slot = inner
            .mcp_flow
            .try_borrow_mut()
            .map_err(|_| busy("step up"))?;
        let flow = slot.as_mut().ok_or_else(|| {
            to_js(Error::WrongState {
                action: "step up".into(),
                state: "no MCP sign-in on this client".into(),
            })
        })?;
        let now = inner.now();
        {
            let mut e = inner
                .entropy
                .try_borrow_mut()
                .map_err(|_| busy("step up"))?;
            flow.step_up(&scope, &mut *e, now).map_err(to_js)?;
        }
        let (url, _) = inner.absorb(flow).map_err(to_js)?;
        let ctx = flow.context().cloned();
        match (url, flow.pending_json(), ctx) {
            (Some(url), Some(pending_json), Some(ctx)) => {
                let out = McpSignInStart {
                    url,
                    pending_json,
                    client_id: ctx.client_id.clone(),
                    token_endpoint_auth: ctx.token_endpoint_auth.as_str().to_string(),
                    allowance: ctx.allowance.map(|a| a.name().to_string()),
                };
                Ok(Ts::from_rust(&out).map_err(bad_result)?.into())
            }
            _ => Err(to_js(Error::WrongState {
                action: "step up".into(),
                state: "no authorization URL was produced".into(),
            })),
        }
    }

    /// Refreshes OAuth 2.1 credentials now (rotation-aware) and notifies listeners.
    #[wasm_bindgen(js_name = refreshMcpCredentials, unchecked_return_type = "Promise<CredentialsSummary>")]
    pub fn refresh_mcp_credentials(&self) -> Promise {
        let inner = self.inner.clone();
        future_to_promise(async move {
            let ctx = inner
                .auth_context
                .borrow()
                .clone()
                .ok_or_else(|| to_js(Error::NotSignedIn))?;
            let Some(Credentials::OAuth(prev)) = inner.credentials() else {
                return Err(to_js(Error::NotSignedIn));
            };
            let rt = prev
                .refresh_token
                .clone()
                .ok_or_else(|| to_js(Error::NotSignedIn))?;
            // The refresh token goes only to the token endpoint of the server it was issued
            // for (a context of another server is refused).
            Credentials::OAuth(prev.clone())
                .check_server(&ctx.server_url)
                .map_err(to_js)?;
            let req = ctx.refresh_request(inner.next_request_id(), &rt);
            let resp = inner
                .transport
                .send(req)
                .await
                .map_err(|e| to_js(Error::Transport(e)))?;
            let set = ctx
                .handle_refresh_response(&resp, &prev, inner.now())
                .map_err(to_js)?;
            let creds = Credentials::OAuth(set);
            inner.set_credentials(Some(creds.clone())).map_err(to_js)?;
            Ok(Ts::from_rust(&CredentialsSummary::of(&creds))
                .map_err(bad_result)?
                .into())
        })
    }

    /// Revokes OAuth 2.1 credentials at the server (RFC 7009: refresh token, then access
    /// token), then forgets them. Resolves to the number of revocation requests sent (0 when
    /// the server has no revocation endpoint).
    #[wasm_bindgen(js_name = revokeMcpCredentials, unchecked_return_type = "Promise<number>")]
    pub fn revoke_mcp_credentials(&self) -> Promise {
        let inner = self.inner.clone();
        future_to_promise(async move {
            let ctx = inner
                .auth_context
                .borrow()
                .clone()
                .ok_or_else(|| to_js(Error::NotSignedIn))?;
            let creds = inner
                .credentials()
                .ok_or_else(|| to_js(Error::NotSignedIn))?;
            let mut ids = || inner.next_request_id();
            let reqs = ctx.revoke_requests(&mut ids, &creds);
            let n = reqs.len();
            for r in reqs {
                let url = workboard_core::http::redact_url(&r.url);
                let resp = inner
                    .transport
                    .send(r)
                    .await
                    .map_err(|e| to_js(Error::Transport(e)))?;
                if !resp.is_success() {
                    return Err(to_js(Error::HttpStatus {
                        status: resp.status,
                        url,
                        detail: None,
                    }));
                }
            }
            inner.set_credentials(None).map_err(to_js)?;
            Ok(JsValue::from(n as u32))
        })
    }
}

fn personal(token: &str) -> Result<Credentials, JsValue> {
    let c = Credentials::personal(token);
    if c.access_token().is_empty() {
        return Err(to_js(Error::InvalidInput {
            what: "token".into(),
            reason: "empty".into(),
        }));
    }
    Ok(c)
}

fn url_parse(u: &str, what: &str) -> Result<url::Url, JsValue> {
    url::Url::parse(u).map_err(|e| {
        to_js(Error::InvalidUrl {
            what: what.into(),
            reason: e.to_string(),
        })
    })
}
