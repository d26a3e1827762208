//! The sign-in methods (the `sign-in` feature; the package's `token` entry is built without
//! them): OAuth 2.1 for MCP (discovery, client identity, PKCE, step-up), and WorkBoard OAuth
//! v1 for web apps, split safely: the browser starts the sign-in and checks the redirect; the
//! code exchange (which needs the Client Hash) happens on the app's server. The flows and
//! their rules (single use, the Client Hash's endpoint) are the client layer's; this file
//! converts types.

use js_sys::Promise;
use tsify::Ts;
use wasm_bindgen::prelude::*;
use workboard_core::oauth::v1::RevokeOutcome;
use workboard_core::SecretString;

use crate::client::WorkboardClient;
use crate::error::{opt_string_arg, string_arg, to_js};
use crate::signin_types::{
    McpSignInOptions, McpSignInStart, V1Code, V1SignInOptions, V1SignInStart,
};
use crate::types::{from_js, summary, to_ts};

#[wasm_bindgen]
impl WorkboardClient {
    /// OAuth 2.1 for MCP: discovery, client identity (pre-registered, metadata document or
    /// dynamic registration) and the PKCE authorization URL. Open `url`; keep `pendingJson`.
    #[wasm_bindgen(js_name = startMcpSignIn, unchecked_return_type = "Promise<McpSignInStart>")]
    pub fn start_mcp_sign_in(&self, options: Ts<McpSignInOptions>) -> Promise {
        let client = self.client.clone();
        let opts = from_js::<McpSignInOptions>(&options.js_value(), "MCP sign-in options", &[]);
        crate::promise(async move {
            let o = opts?.into_layer().map_err(to_js)?;
            McpSignInStart::to_js(client.start_mcp_sign_in(o).await.map_err(to_js)?)
        })
    }

    /// Completes MCP sign-in with the URL (or query string) the browser came back to:
    /// checks `state`, exchanges the code, stores the credentials and notifies listeners.
    /// `pendingJson` is what `startMcpSignIn` returned (pass null to use this client's own
    /// pending sign-in). Single use: completing it again fails with `authorization_reused`.
    #[wasm_bindgen(js_name = completeMcpSignIn, unchecked_return_type = "Promise<CredentialsSummary>")]
    pub fn complete_mcp_sign_in(
        &self,
        #[wasm_bindgen(js_name = pendingJson, unchecked_param_type = "string | null | undefined")]
        pending_json: JsValue,
        #[wasm_bindgen(js_name = redirectUrl, unchecked_param_type = "string")]
        redirect_url: JsValue,
    ) -> Promise {
        let client = self.client.clone();
        let args = opt_string_arg(&pending_json, "pending sign-in JSON")
            .and_then(|p| Ok((p, string_arg(&redirect_url, "redirect URL")?)));
        crate::promise(async move {
            let (pending, redirect) = args?;
            let c = client.complete_mcp_sign_in(pending.as_deref(), &redirect);
            summary(&c.await.map_err(to_js)?)
        })
    }

    /// Step-up after a 403 `insufficient_scope`: a new authorization URL asking for `scope` in
    /// addition to the scopes granted before. Complete it with `completeMcpSignIn`.
    #[wasm_bindgen(js_name = stepUpMcpSignIn, unchecked_return_type = "McpSignInStart")]
    pub fn step_up_mcp_sign_in(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] scope: JsValue,
    ) -> Result<JsValue, JsValue> {
        let start = self
            .client
            .step_up_mcp_sign_in(&string_arg(&scope, "scope")?);
        McpSignInStart::to_js(Some(start.map_err(to_js)?))
    }

    /// WorkBoard v1 sign-in, step 1: the authorize URL to open and the pending authorization
    /// to keep (sessionStorage) until the browser comes back. A `clientHash` is refused
    /// (`secret_in_browser`): the exchange belongs on your server.
    #[wasm_bindgen(js_name = startV1SignIn, unchecked_return_type = "V1SignInStart")]
    pub fn start_v1_sign_in(&self, options: Ts<V1SignInOptions>) -> Result<JsValue, JsValue> {
        let o: V1SignInOptions = from_js(&options.js_value(), "v1 sign-in options", &[])?;
        let config = o.config(self.client.environment()).map_err(to_js)?;
        let start = self.client.start_v1_sign_in(&config).map_err(to_js)?;
        to_ts(&V1SignInStart::from(start))
    }

    /// WorkBoard v1 sign-in, step 2: checks the URL (or query string, or `json_code` body)
    /// the browser came back with against the pending authorization (state, expiry, single
    /// use, redirect URI) and returns the code to send to your server.
    ///
    /// `pendingJson` is what `startV1SignIn` returned (after a page reload); pass null to use
    /// the sign-in this client started. Single use: a sign-in this client completed fails
    /// with `authorization_reused`. Remove `pendingJson` from your storage before calling
    /// this, so that it is used once whatever happens.
    #[wasm_bindgen(js_name = handleV1Redirect, unchecked_return_type = "V1Code")]
    pub fn handle_v1_redirect(
        &self,
        #[wasm_bindgen(js_name = pendingJson, unchecked_param_type = "string | null | undefined")]
        pending_json: JsValue,
        #[wasm_bindgen(js_name = redirectUrl, unchecked_param_type = "string")]
        redirect_url: JsValue,
    ) -> Result<JsValue, JsValue> {
        let pending_json = opt_string_arg(&pending_json, "pending sign-in JSON")?;
        let redirect_url = string_arg(&redirect_url, "redirect URL")?;
        if let Some(p) = pending_json {
            self.client.resume_v1_sign_in(&p).map_err(to_js)?;
        }
        let code = self
            .client
            .handle_v1_redirect(&redirect_url)
            .map_err(to_js)?;
        to_ts(&V1Code::from(&code))
    }

    /// Exchanges a v1 code with the Client Hash *in this JavaScript runtime*. Refused
    /// (`secret_in_browser`) unless the client was built with
    /// `dangerouslyAllowClientSecretInBrowser: true` (local tests, trusted server-side JS).
    /// The hash goes only to this client's environment's token endpoint (a code naming
    /// another one fails with `client_secret_not_for_server`, sending nothing).
    #[wasm_bindgen(js_name = exchangeV1Code, unchecked_return_type = "Promise<CredentialsSummary>")]
    pub fn exchange_v1_code(
        &self,
        code: Ts<V1Code>,
        #[wasm_bindgen(js_name = clientHash, unchecked_param_type = "string")] client_hash: JsValue,
    ) -> Promise {
        let client = self.client.clone();
        let args = from_js::<V1Code>(&code.js_value(), "v1 code", &[])
            .and_then(|c| Ok((c, string_arg(&client_hash, "client hash")?)));
        crate::promise(async move {
            let (code, hash) = args?;
            let code = code.into();
            let exchange = client.exchange_v1_code(&code, SecretString::new(hash));
            summary(&exchange.await.map_err(to_js)?)
        })
    }

    /// Revokes WorkBoard v1 credentials at `/wb/oauth/revoke/` and forgets them. Resolves to
    /// `"revoked"` or `"already_invalid"` (the token no longer works either way).
    #[wasm_bindgen(js_name = revokeV1Credentials, unchecked_return_type = "Promise<\"revoked\" | \"already_invalid\">")]
    pub fn revoke_v1_credentials(&self) -> Promise {
        let client = self.client.clone();
        crate::promise(async move {
            Ok(JsValue::from_str(
                match client.revoke_v1().await.map_err(to_js)? {
                    RevokeOutcome::Revoked => "revoked",
                    RevokeOutcome::AlreadyInvalid => "already_invalid",
                },
            ))
        })
    }
}

/// `new WorkboardClient().startV1SignIn(options)` with the default environment from
/// `options.environment`, `crypto.getRandomValues` and `Date.now`.
#[wasm_bindgen(js_name = startV1SignIn, unchecked_return_type = "V1SignInStart")]
pub fn start_v1_sign_in(options: Ts<V1SignInOptions>) -> Result<JsValue, JsValue> {
    WorkboardClient::new(None)?.start_v1_sign_in(options)
}

/// `new WorkboardClient().handleV1Redirect(pendingJson, redirectUrl)`.
#[wasm_bindgen(js_name = handleV1Redirect, unchecked_return_type = "V1Code")]
pub fn handle_v1_redirect(
    #[wasm_bindgen(js_name = pendingJson, unchecked_param_type = "string")] pending_json: JsValue,
    #[wasm_bindgen(js_name = redirectUrl, unchecked_param_type = "string")] redirect_url: JsValue,
) -> Result<JsValue, JsValue> {
    let pending_json = string_arg(&pending_json, "pending sign-in JSON")?;
    WorkboardClient::new(None)?.handle_v1_redirect(JsValue::from_str(&pending_json), redirect_url)
}
