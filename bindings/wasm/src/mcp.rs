//! MCP calls (`listTools`, `callTool`, `ping`, `connect`, `discover`, resources, prompts,
//! completion, `subscribe`, `notifications`, `request`) and OAuth 2.1 sign-in, refresh and revocation:
//! each method converts its arguments, calls the client layer and converts the result. A
//! call's `AbortSignal` cancels it through the layer's canceller.

use js_sys::Promise;
use tsify::Ts;
use wasm_bindgen::prelude::*;
use workboard_client::Call;

use crate::client::WorkboardClient;
use crate::error::{bad_arg, string_arg, to_js};
use crate::host::OnAbort;
use crate::stream::NotificationStream;
use crate::types::{
    completion_ref, discovery_to_js, json_arg, mcp_to_js, request_args, signal_of, summary, to_ts,
    tool_result_to_js, tools_to_js, CallOptions, CallOpts, McpSubscriptionFilter, ServerInfo,
};

/// Converts the result of a call submitted with its signal (calls are submitted when made,
/// so they are sent in the order they are made; the signal is listened to from then on).
fn submit<T: 'static>(
    started: Result<(Call<T>, Option<JsValue>), JsValue>,
    done: impl FnOnce(T) -> Result<JsValue, JsValue> + 'static,
) -> Promise {
    let started = started.map(|(call, signal)| {
        let on_abort = signal
            .zip(call.canceller())
            .map(|(s, c)| OnAbort::new(s, c));
        (call, on_abort)
    });
    crate::promise(async move {
        let (call, _on_abort) = started?;
        done(call.await.map_err(to_js)?)
    })
}

#[wasm_bindgen]
impl WorkboardClient {
    /// Lists the MCP tools the signed-in account can use (every page). An empty list usually
    /// means the WorkBoard role has no access to OKRs or Scorecards.
    #[wasm_bindgen(js_name = listTools, unchecked_return_type = "Promise<McpTool[]>")]
    pub fn list_tools(&self, options: Option<Ts<CallOptions>>) -> Promise {
        let started = signal_of(options).map(|s| (self.client.list_tools(), s));
        submit(started, |t| tools_to_js(&t))
    }

    /// Calls an MCP tool with an object of arguments. Resolves to the tool result
    /// (`isError: true` for a tool-level failure); rejects with a `WorkboardError` otherwise.
    #[wasm_bindgen(js_name = callTool, unchecked_return_type = "Promise<McpToolResult>")]
    pub fn call_tool(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] name: JsValue,
        args: Option<js_sys::Object>,
        options: Option<Ts<CallOptions>>,
    ) -> Promise {
        let started = string_arg(&name, "tool name").and_then(|name| {
            // Any JSON value: the layer checks that it is an object.
            let (arguments, signal) = (
                json_arg(args.as_deref(), "tool arguments")?,
                signal_of(options)?,
            );
            Ok((self.client.call_tool(&name, arguments), signal))
        });
        submit(started, |r| tool_result_to_js(&r))
    }

    /// Sends an MCP `ping` (opening the session first if needed).
    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn ping(&self, options: Option<Ts<CallOptions>>) -> Promise {
        let started = signal_of(options).map(|s| (self.client.ping(), s));
        submit(started, |()| Ok(JsValue::UNDEFINED))
    }

    /// What the server speaks (`server/discover` on a 2026-07-28 server; what `initialize`
    /// said on a legacy one): its era, versions, info and capabilities.
    #[wasm_bindgen(unchecked_return_type = "Promise<McpDiscovery>")]
    pub fn discover(&self, options: Option<Ts<CallOptions>>) -> Promise {
        let started = signal_of(options).map(|s| (self.client.discover(), s));
        submit(started, |d| discovery_to_js(&d))
    }

    /// Subscribes to change notifications (`subscriptions/listen` on a 2026-07-28 server,
    /// `resources/subscribe` and the session's stream on a legacy one): an async iterable of
    /// them. Throws `invalid_input` for a bad filter, `cancelled` for an aborted signal.
    pub fn subscribe(
        &self,
        #[wasm_bindgen(unchecked_param_type = "McpSubscriptionFilter")] filter: JsValue,
        options: Option<Ts<CallOptions>>,
    ) -> Result<NotificationStream, JsValue> {
        let filter = json_arg(Some(&filter), "subscription filter")?;
        let filter: McpSubscriptionFilter =
            workboard_core::json::from_value(filter).map_err(bad_arg("subscription filter"))?;
        let signal = signal_of(options)?;
        let s = self.client.subscribe(filter.into_layer());
        Ok(NotificationStream::subscription(s, signal))
    }

    /// Every notification the server sends from now on outside subscriptions (a call's
    /// progress and log messages, a legacy server's list changes): an async iterable that
    /// ends when the client is closed.
    pub fn notifications(&self) -> NotificationStream {
        let mut rx = self.client.notifications();
        if self.client.is_closed() {
            rx.close();
        }
        NotificationStream::new(rx, None, None, None)
    }

    /// Sends a request this SDK does not model (`params`: an object, or none) and resolves to
    /// the server's result as sent (the era, credentials and input rounds as for the other
    /// calls; never replayed).
    #[wasm_bindgen(unchecked_return_type = "Promise<unknown>")]
    pub fn request(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] method: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "Record<string, unknown> | null")]
        params: Option<js_sys::Object>,
        #[wasm_bindgen(unchecked_optional_param_type = "CallOptions | null")] options: CallOpts,
    ) -> Promise {
        let started = request_args(&method, params.as_deref(), options)
            .map(|(method, params, signal)| (self.client.request(&method, params), signal));
        submit(started, |v| mcp_to_js(&v))
    }

    /// `request` for a proxy whose own MCP client runs the input rounds: `inputResponses`,
    /// `requestState` and the capabilities in `_meta`
    /// (`io.modelcontextprotocol/clientCapabilities`) go to the server as given, and an
    /// `input_required` result resolves as sent, for that client to answer (this client's
    /// `inputHandlers` are not asked).
    #[wasm_bindgen(js_name = requestWithClientInput, unchecked_return_type = "Promise<unknown>")]
    pub fn request_with_client_input(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] method: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "Record<string, unknown> | null")]
        params: Option<js_sys::Object>,
        #[wasm_bindgen(unchecked_optional_param_type = "CallOptions | null")] options: CallOpts,
    ) -> Promise {
        let started = request_args(&method, params.as_deref(), options)
            .map(|(m, p, signal)| (self.client.request_with_client_input(&m, p), signal));
        submit(started, |v| mcp_to_js(&v))
    }

    /// Lists every MCP resource (all pages).
    #[wasm_bindgen(js_name = listResources, unchecked_return_type = "Promise<McpResource[]>")]
    pub fn list_resources(&self, options: Option<Ts<CallOptions>>) -> Promise {
        let started = signal_of(options).map(|s| (self.client.list_resources(), s));
        submit(started, |r| mcp_to_js(&r))
    }

    /// Lists every resource template (all pages).
    #[wasm_bindgen(js_name = listResourceTemplates, unchecked_return_type = "Promise<McpResourceTemplate[]>")]
    pub fn list_resource_templates(&self, options: Option<Ts<CallOptions>>) -> Promise {
        let started = signal_of(options).map(|s| (self.client.list_resource_templates(), s));
        submit(started, |t| mcp_to_js(&t))
    }

    /// Reads a resource by URI.
    #[wasm_bindgen(js_name = readResource, unchecked_return_type = "Promise<McpResourceContents[]>")]
    pub fn read_resource(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] uri: JsValue,
        options: Option<Ts<CallOptions>>,
    ) -> Promise {
        let started = string_arg(&uri, "resource URI")
            .and_then(|uri| Ok((self.client.read_resource(&uri), signal_of(options)?)));
        submit(started, |c| mcp_to_js(&c))
    }

    /// Lists every prompt (all pages).
    #[wasm_bindgen(js_name = listPrompts, unchecked_return_type = "Promise<McpPrompt[]>")]
    pub fn list_prompts(&self, options: Option<Ts<CallOptions>>) -> Promise {
        let started = signal_of(options).map(|s| (self.client.list_prompts(), s));
        submit(started, |p| mcp_to_js(&p))
    }

    /// Gets a prompt with its arguments (an object of strings).
    #[wasm_bindgen(js_name = getPrompt, unchecked_return_type = "Promise<McpPromptResult>")]
    pub fn get_prompt(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] name: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "Record<string, string> | null")]
        args: Option<js_sys::Object>,
        #[wasm_bindgen(unchecked_optional_param_type = "CallOptions | null")] options: Option<
            Ts<CallOptions>,
        >,
    ) -> Promise {
        let started = string_arg(&name, "prompt name").and_then(|name| {
            let arguments = json_arg(args.as_deref(), "prompt arguments")?;
            Ok((
                self.client.get_prompt(&name, arguments),
                signal_of(options)?,
            ))
        });
        submit(started, |p| mcp_to_js(&p))
    }

    /// Completion suggestions for `argument` of a prompt or resource template, given what was
    /// typed (`value`) and the other arguments already chosen (`context`).
    #[wasm_bindgen(unchecked_return_type = "Promise<McpCompletion>")]
    pub fn complete(
        &self,
        #[wasm_bindgen(unchecked_param_type = "McpCompletionRef")] reference: JsValue,
        #[wasm_bindgen(unchecked_param_type = "string")] argument: JsValue,
        #[wasm_bindgen(unchecked_param_type = "string")] value: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "Record<string, string> | null")]
        context: Option<js_sys::Object>,
        #[wasm_bindgen(unchecked_optional_param_type = "CallOptions | null")] options: Option<
            Ts<CallOptions>,
        >,
    ) -> Promise {
        let started = (|| {
            let reference = completion_ref(&json_arg(Some(&reference), "completion reference")?)?;
            let (argument, value) = (
                string_arg(&argument, "argument")?,
                string_arg(&value, "value")?,
            );
            let context = json_arg(context.as_deref(), "completion context")?;
            let call = self.client.complete(reference, &argument, &value, context);
            Ok((call, signal_of(options)?))
        })();
        submit(started, |c| mcp_to_js(&c))
    }

    /// Opens the MCP session (`initialize`, unless restored from the store) and pings.
    /// Resolves to what the server said about itself (from the stored session when it was
    /// restored): the layer's `connect`, as its ping with this call's signal.
    #[wasm_bindgen(unchecked_return_type = "Promise<ServerInfo | undefined>")]
    pub fn connect(&self, options: Option<Ts<CallOptions>>) -> Promise {
        let (started, client) = (
            signal_of(options).map(|s| (self.client.ping(), s)),
            self.client.clone(),
        );
        submit(started, move |()| match client.server_info() {
            Some(i) => to_ts(&ServerInfo::from(i)),
            None => Ok(JsValue::UNDEFINED),
        })
    }

    /// Refreshes the OAuth 2.1 credentials now, joining a refresh already in flight (never a
    /// second one), and notifies listeners. Rejects with `wrong_state` when there is nothing
    /// to refresh (a personal token, no refresh token or OAuth context).
    #[wasm_bindgen(js_name = refreshMcpCredentials, unchecked_return_type = "Promise<CredentialsSummary>")]
    pub fn refresh_mcp_credentials(&self) -> Promise {
        let refresh = self.client.refresh();
        crate::promise(async move { summary(&refresh.await.map_err(to_js)?) })
    }

    /// Revokes OAuth 2.1 credentials at the server (RFC 7009: refresh token, then access
    /// token), then forgets them. Resolves to the number of revocation requests sent (0 when
    /// the server has no revocation endpoint).
    #[wasm_bindgen(js_name = revokeMcpCredentials, unchecked_return_type = "Promise<number>")]
    pub fn revoke_mcp_credentials(&self) -> Promise {
        let client = self.client.clone();
        crate::promise(async move {
            let n = client.revoke_mcp().await.map_err(to_js)?;
            Ok(JsValue::from(n as u32))
        })
    }
}
