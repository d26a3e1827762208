//! `WorkboardClient`: the client layer's [`Client`] over the JavaScript host capabilities
//! ([`WasmHost`]), its loop spawned on the JS event loop. Construction, credentials,
//! listeners and close here; MCP calls and OAuth 2.1 sign-in in `mcp.rs`, WorkBoard v1 in
//! `v1.rs`. Every rule (close, store policy, single use, secrets) is the layer's.

use js_sys::{Function, Promise};
use tsify::Ts;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::spawn_local;
use workboard_client::Client;
use workboard_core::oauth::flow::AuthContext;
use workboard_core::Credentials;

use crate::error::{string_arg, to_js};
use crate::host::WasmHost;
use crate::types::{client_options, personal, summary, ClientOptions};

/// A WorkBoard connection for JavaScript (browsers, Node 18+, Deno, Vite apps).
///
/// Construct with a personal token, or sign in with OAuth (`startMcpSignIn` /
/// `completeMcpSignIn`, or WorkBoard v1 sign-in with the exchange on your server).
/// Persist what `onCredentialsChanged` delivers, or give a `store`.
#[wasm_bindgen]
pub struct WorkboardClient {
    pub(crate) client: Client<WasmHost>,
}

#[wasm_bindgen]
impl WorkboardClient {
    /// A client. Throws a `WorkboardError` (`invalid_url`, `insecure_url`, `invalid_input`,
    /// `credentials_not_for_server`, `credential_store_failed`) for bad options or a store
    /// that cannot be read.
    #[wasm_bindgen(constructor)]
    pub fn new(options: Option<Ts<ClientOptions>>) -> Result<WorkboardClient, JsValue> {
        let o = match options {
            Some(o) if !o.js_value().is_undefined() && !o.js_value().is_null() => {
                client_options(&o.js_value())?
            }
            _ => ClientOptions::default(),
        };
        let config = o.config().map_err(to_js)?;
        let (client, driver) = Client::new(config, WasmHost::new(&o)?).map_err(to_js)?;
        spawn_local(driver.run());
        Ok(WorkboardClient { client })
    }

    /// The environment's base URL.
    #[wasm_bindgen(getter, js_name = baseUrl)]
    pub fn base_url(&self) -> String {
        self.client.environment().base_url().to_string()
    }

    /// The MCP endpoint in use.
    #[wasm_bindgen(getter, js_name = mcpUrl)]
    pub fn mcp_url(&self) -> String {
        self.client.server_url().to_string()
    }

    /// The credentials as JSON for your store (contains the tokens: store it safely), or
    /// undefined when signed out.
    #[wasm_bindgen(js_name = credentialsJson)]
    pub fn credentials_json(&self) -> Option<String> {
        self.client.credentials().map(|c| c.to_json())
    }

    /// What the client holds, without secret values (undefined when signed out).
    #[wasm_bindgen(js_name = credentialsSummary, unchecked_return_type = "CredentialsSummary | undefined")]
    pub fn credentials_summary(&self) -> Result<JsValue, JsValue> {
        self.client
            .credentials()
            .map_or(Ok(JsValue::UNDEFINED), |c| summary(&c))
    }

    /// The OAuth 2.1 context of the MCP sign-in as JSON (endpoints, client id; contains the
    /// client secret if one was used), to pass back as `authContext` after a reload.
    #[wasm_bindgen(js_name = authContextJson)]
    pub fn auth_context_json(&self) -> Option<String> {
        self.client
            .auth_context()
            .as_ref()
            .map(AuthContext::to_json)
    }

    /// Uses a personal token (a leading `Bearer ` is removed). Notifies listeners.
    #[wasm_bindgen(js_name = setToken)]
    pub fn set_token(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] token: JsValue,
    ) -> Result<(), JsValue> {
        let c = personal(&string_arg(&token, "token")?).map_err(to_js)?;
        self.client.set_credentials(Some(c), None).map_err(to_js)
    }

    /// Restores credentials saved from `credentialsJson()` / `onCredentialsChanged`.
    #[wasm_bindgen(js_name = setCredentialsJson)]
    pub fn set_credentials_json(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] json: JsValue,
    ) -> Result<(), JsValue> {
        let c = Credentials::from_json(&string_arg(&json, "credentials JSON")?).map_err(to_js)?;
        self.client.set_credentials(Some(c), None).map_err(to_js)
    }

    /// Forgets the credentials (no request; see the revoke methods). Notifies listeners with
    /// null. Throws `credential_store_failed` when the store cannot remove them (they are
    /// forgotten here anyway).
    #[wasm_bindgen(js_name = clearCredentials)]
    pub fn clear_credentials(&self) -> Result<(), JsValue> {
        self.client.set_credentials(None, None).map_err(to_js)
    }

    /// Calls `callback(credentialsJson | null)` whenever the credentials change (sign-in,
    /// refresh, sign-out). Persist the JSON: it holds the tokens.
    #[wasm_bindgen(js_name = onCredentialsChanged)]
    pub fn on_credentials_changed(
        &self,
        #[wasm_bindgen(unchecked_param_type = "(credentialsJson: string | null) => void")] callback: Function,
    ) {
        self.client.host().listeners.borrow_mut().push(callback);
    }

    /// Removes a callback given to `onCredentialsChanged`.
    #[wasm_bindgen(js_name = offCredentialsChanged)]
    pub fn off_credentials_changed(
        &self,
        #[wasm_bindgen(unchecked_param_type = "(credentialsJson: string | null) => void")] callback: Function,
    ) {
        let mut listeners = self.client.host().listeners.borrow_mut();
        listeners.retain(|f| !js_sys::Object::is(f, &callback));
    }

    /// The last store failure (a `WorkboardError` with code `credential_store_failed`), or
    /// undefined when the last save worked. The credentials are in use anyway: save
    /// `credentialsJson()` yourself.
    #[wasm_bindgen(js_name = storeError, unchecked_return_type = "WorkboardError | undefined")]
    pub fn store_error(&self) -> JsValue {
        self.client.store_error().map_or(JsValue::UNDEFINED, to_js)
    }

    /// Ends the MCP session (`DELETE`) and stops the client for good: calls in progress
    /// reject with `cancelled`, later calls with `client_stopped` (kind `stopped`);
    /// subscriptions and `notifications()` streams end. Closing again does nothing.
    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn close(&self) -> Promise {
        let (close, client) = (self.client.close(), self.client.clone());
        crate::promise(async move {
            let closed = close.await;
            client.end_notifications();
            closed.map_err(to_js)?;
            Ok(JsValue::UNDEFINED)
        })
    }

    /// Cancels every call in progress: each rejects with `cancelled` at once (the server is
    /// told). Later calls are not affected.
    #[wasm_bindgen(js_name = cancelAll)]
    pub fn cancel_all(&self) {
        self.client.cancel_all()
    }
}
