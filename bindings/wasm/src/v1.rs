//! WorkBoard OAuth v1 sign-in for web apps, split safely: the browser starts the sign-in and
//! checks the redirect; the code exchange (which needs the Client Hash) happens on the app's
//! server. The whole flow lives in `workboard_core::oauth::v1`; this file converts types.

use tsify::Ts;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;
use workboard_core::oauth::pending::{AuthorizationCode, PendingAuthorization};
use workboard_core::oauth::v1::{
    checked_exchange_request_for, checked_revoke_request, handle_exchange_response,
    handle_revoke_response, start_authorization, RevokeOutcome, V1Config,
};
use workboard_core::{Credentials, Dialect, Environment, Error, SecretString, Transport};

use crate::client::WorkboardClient;
use crate::error::{bad_arg, bad_result, opt_string_arg, string_arg, to_js};
use crate::types::{CredentialsSummary, V1Code, V1SignInOptions, V1SignInStart};

fn ms(v: f64) -> u64 {
    if v.is_finite() && v > 0.0 {
        v as u64
    } else {
        0
    }
}

#[wasm_bindgen]
impl WorkboardClient {
    /// WorkBoard v1 sign-in, step 1: the authorize URL to open and the pending authorization
    /// to keep (sessionStorage) until the browser comes back. A `clientHash` is refused
    /// (`secret_in_browser`): the exchange belongs on your server.
    #[wasm_bindgen(js_name = startV1SignIn)]
    pub fn start_v1_sign_in(
        &self,
        options: Ts<V1SignInOptions>,
    ) -> Result<Ts<V1SignInStart>, JsValue> {
        let o = options.to_rust().map_err(bad_arg("v1 sign-in options"))?;
        let inner = self.inner();
        if o.client_hash.as_deref().is_some_and(|h| !h.is_empty()) {
            return Err(to_js(Error::SecretInBrowser));
        }
        let environment = match o.environment.as_deref() {
            Some(e) => Environment::parse(e).map_err(to_js)?,
            None => inner.env.clone(),
        };
        let mut cfg = V1Config::new(environment, o.client_id, o.redirect_uri);
        cfg.scopes = o.scopes;
        cfg.json_code = o.json_code;
        let now = inner.now();
        let (url, pending) = {
            let mut e = inner
                .entropy
                .try_borrow_mut()
                .map_err(|_| crate::client::busy("start sign-in"))?;
            start_authorization(&cfg, &mut *e, now).map_err(to_js)?
        };
        let pending_json = pending.to_json();
        *inner
            .v1_pending
            .try_borrow_mut()
            .map_err(|_| crate::client::busy("start sign-in"))? = Some(pending);
        Ts::from_rust(&V1SignInStart { url, pending_json }).map_err(bad_result)
    }

    /// WorkBoard v1 sign-in, step 2: checks the URL (or query string, or `json_code` body)
    /// the browser came back with against the pending authorization (state, expiry, single
    /// use, redirect URI) and returns the code to send to your server.
    ///
    /// `pendingJson` is what `startV1SignIn` returned (after a page reload); pass null to use
    /// the sign-in this client started. This client remembers the outcome: a second redirect
    /// for the same sign-in fails with `authorization_reused`. Remove `pendingJson` from your
    /// storage before calling this, so that it is used once whatever happens.
    #[wasm_bindgen(js_name = handleV1Redirect)]
    pub fn handle_v1_redirect(
        &self,
        #[wasm_bindgen(js_name = pendingJson, unchecked_param_type = "string | null | undefined")]
        pending_json: JsValue,
        #[wasm_bindgen(js_name = redirectUrl, unchecked_param_type = "string")]
        redirect_url: JsValue,
    ) -> Result<Ts<V1Code>, JsValue> {
        let pending_json = opt_string_arg(&pending_json, "pending sign-in JSON")?;
        let redirect_url = string_arg(&redirect_url, "redirect URL")?;
        let inner = self.inner();
        let mut slot = inner
            .v1_pending
            .try_borrow_mut()
            .map_err(|_| crate::client::busy("handle the redirect"))?;
        if let Some(json) = pending_json {
            let given = PendingAuthorization::from_json(&json).map_err(to_js)?;
            // The sign-in held here: keep the held copy (it knows whether it was used).
            let same = slot
                .as_ref()
                .is_some_and(|held| held.state.ct_eq(given.state.expose()));
            if !same {
                *slot = Some(given);
            }
        }
        let pending = slot.as_mut().ok_or_else(|| {
            to_js(Error::WrongState {
                action: "handle the redirect".into(),
                state: "no v1 sign-in was started".into(),
            })
        })?;
        let code = pending
            .handle_redirect(&redirect_url, inner.now())
            .map_err(to_js)?;
        let out = V1Code {
            code: code.code.expose().to_string(),
            redirect_uri: code.redirect_uri.clone(),
            client_id: code.client_id.clone(),
            token_endpoint: code.token_endpoint.clone(),
            scopes: code.scopes.clone(),
            received_at_ms: code.received_at_ms as f64,
            expires_at_ms: code.expires_at_ms.map(|v| v as f64),
        };
        Ts::from_rust(&out).map_err(bad_result)
    }

    /// Exchanges a v1 code with the Client Hash *in this JavaScript runtime*. Refused
    /// (`secret_in_browser`) unless the client was built with
    /// `dangerouslyAllowClientSecretInBrowser: true` (local tests, trusted server-side JS).
    #[wasm_bindgen(js_name = exchangeV1Code, unchecked_return_type = "Promise<CredentialsSummary>")]
    pub fn exchange_v1_code(
        &self,
        code: Ts<V1Code>,
        #[wasm_bindgen(js_name = clientHash, unchecked_param_type = "string")] client_hash: JsValue,
    ) -> js_sys::Promise {
        let client_hash = string_arg(&client_hash, "client hash");
        let inner = self.inner().clone();
        let code = code.to_rust().map_err(bad_arg("v1 code"));
        future_to_promise(async move {
            let code = code?;
            let client_hash = client_hash?;
            inner.check_secret(Some(&client_hash))?;
            let hash = SecretString::new(client_hash);
            let ac = AuthorizationCode {
                code: SecretString::new(code.code),
                dialect: Dialect::WorkboardV1,
                redirect_uri: code.redirect_uri,
                client_id: code.client_id,
                pkce_verifier: None,
                resource: None,
                token_endpoint: code.token_endpoint,
                scopes: code.scopes,
                received_at_ms: ms(code.received_at_ms),
                expires_at_ms: code.expires_at_ms.map(ms),
                extra: serde_json::Value::Null,
            };
            // The code may come from anywhere: the core's rule sends the Client Hash only to
            // this client's environment's token endpoint (or that of a v1 sign-in it started).
            let started = inner.v1_pending.borrow().clone();
            let req = checked_exchange_request_for(
                &inner.env,
                started.as_ref(),
                &ac,
                &hash,
                inner.next_request_id(),
                inner.now(),
            )
            .map_err(to_js)?;
            let resp = inner
                .transport
                .send(req.clone())
                .await
                .map_err(|e| to_js(Error::Transport(e)))?;
            let creds = handle_exchange_response(&req, &resp, inner.now()).map_err(to_js)?;
            inner.set_credentials(Some(creds.clone())).map_err(to_js)?;
            Ok(Ts::from_rust(&CredentialsSummary::of(&creds))
                .map_err(bad_result)?
                .into())
        })
    }

    /// Revokes WorkBoard v1 credentials at `/wb/oauth/revoke/` and forgets them. Resolves to
    /// `"revoked"` or `"already_invalid"` (the token no longer works either way).
    #[wasm_bindgen(js_name = revokeV1Credentials, unchecked_return_type = "Promise<\"revoked\" | \"already_invalid\">")]
    pub fn revoke_v1_credentials(&self) -> js_sys::Promise {
        let inner = self.inner().clone();
        future_to_promise(async move {
            let creds: Credentials = inner
                .credentials()
                .ok_or_else(|| to_js(Error::NotSignedIn))?;
            let req = checked_revoke_request(&inner.env, &creds, inner.next_request_id())
                .map_err(to_js)?;
            let resp = inner
                .transport
                .send(req.clone())
                .await
                .map_err(|e| to_js(Error::Transport(e)))?;
            let outcome = handle_revoke_response(&req, &resp).map_err(to_js)?;
            inner.set_credentials(None).map_err(to_js)?;
            Ok(JsValue::from_str(match outcome {
                RevokeOutcome::Revoked => "revoked",
                RevokeOutcome::AlreadyInvalid => "already_invalid",
            }))
        })
    }
}

/// `new WorkboardClient().startV1SignIn(options)` with the default environment from
/// `options.environment`, `crypto.getRandomValues` and `Date.now`.
#[wasm_bindgen(js_name = startV1SignIn)]
pub fn start_v1_sign_in(options: Ts<V1SignInOptions>) -> Result<Ts<V1SignInStart>, JsValue> {
    WorkboardClient::new(None)?.start_v1_sign_in(options)
}

/// `new WorkboardClient().handleV1Redirect(pendingJson, redirectUrl)`.
#[wasm_bindgen(js_name = handleV1Redirect)]
pub fn handle_v1_redirect(
    #[wasm_bindgen(js_name = pendingJson, unchecked_param_type = "string")] pending_json: JsValue,
    #[wasm_bindgen(js_name = redirectUrl, unchecked_param_type = "string")] redirect_url: JsValue,
) -> Result<Ts<V1Code>, JsValue> {
    let pending_json = string_arg(&pending_json, "pending sign-in JSON")?;
    WorkboardClient::new(None)?.handle_v1_redirect(JsValue::from_str(&pending_json), redirect_url)
}
