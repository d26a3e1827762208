//! MCP calls (`listTools`, `callTool`, `ping`, `close`) through the core's [`Connection`]
//! machine, run by the core's long-running loop ([`workboard_core::driver::run`]) in a
//! `spawn_local` task. Concurrent calls share one machine, so one `initialize`, one refresh
//! for many waiting calls, one session. The binding only converts values.

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use futures_channel::mpsc::{unbounded, UnboundedSender};
use futures_channel::oneshot;
use serde_json::{json, Value};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{future_to_promise, spawn_local};
use workboard_core::connection::{
    CallHandle, CallOutput, Connection, ConnectionConfig, ConnectionEvent,
};
use workboard_core::mcp::jsonrpc::{CallToolResult, ContentBlock, Tool};
use workboard_core::{Clock, Credentials, Error};

use crate::client::{Inner, WorkboardClient};
use crate::error::{invalid_input, string_arg, to_js};
use crate::host::{FetchTransport, JsClock};
use crate::types::CallOptions;
use tsify::Ts;

type Command = Box<dyn FnOnce(&mut Connection)>;
type Waiters =
    Rc<RefCell<std::collections::BTreeMap<CallHandle, oneshot::Sender<Result<CallOutput, Error>>>>>;

/// The running connection of a client: the inbox of its loop.
pub(crate) struct Running {
    tx: UnboundedSender<Command>,
    waiters: Waiters,
}

#[wasm_bindgen(typescript_custom_section)]
const TS_MCP: &'static str = r#"
/** An MCP tool as listed by the server (`tools/list`). */
export interface McpTool {
    name: string;
    title?: string;
    description?: string;
    inputSchema: unknown;
    outputSchema?: unknown;
    annotations?: unknown;
    [key: string]: unknown;
}
/** A content block of a tool result. */
export type McpContentBlock =
    | { type: "text"; text: string }
    | { type: "image"; data: string; mimeType: string }
    | { type: "audio"; data: string; mimeType: string }
    | { type: "resource"; resource: unknown }
    | { type: "resource_link"; uri: string; name?: string }
    | { type: string; [key: string]: unknown };
/** The result of `tools/call`. `isError: true` is a tool-level failure, not an exception. */
export interface McpToolResult {
    content: McpContentBlock[];
    structuredContent?: unknown;
    isError: boolean;
}
"#;

fn content_json(block: &ContentBlock) -> Value {
    match block {
        ContentBlock::Text { text } => json!({"type": "text", "text": text}),
        ContentBlock::Image { data, mime_type } => {
            json!({"type": "image", "data": data, "mimeType": mime_type})
        }
        ContentBlock::Audio { data, mime_type } => {
            json!({"type": "audio", "data": data, "mimeType": mime_type})
        }
        ContentBlock::Resource { resource } => json!({"type": "resource", "resource": resource}),
        ContentBlock::ResourceLink { uri, name } => match name {
            Some(n) => json!({"type": "resource_link", "uri": uri, "name": n}),
            None => json!({"type": "resource_link", "uri": uri}),
        },
        ContentBlock::Other(v) => v.clone(),
        #[allow(unreachable_patterns)]
        _ => Value::Null,
    }
}

fn tool_result_json(r: &CallToolResult) -> Value {
    let mut out = json!({
        "content": r.content.iter().map(content_json).collect::<Vec<_>>(),
        "isError": r.is_error,
    });
    if let (Some(sc), Some(obj)) = (&r.structured_content, out.as_object_mut()) {
        obj.insert("structuredContent".into(), sc.clone());
    }
    out
}

/// A JSON value as a plain JS value (objects, not Maps).
fn to_js_value(v: &Value) -> Result<JsValue, JsValue> {
    js_sys::JSON::parse(&v.to_string())
}

fn output_to_js(out: CallOutput) -> Result<JsValue, JsValue> {
    match out {
        CallOutput::Tools(tools) => {
            let list: Vec<Value> = tools.iter().map(tool_json).collect();
            to_js_value(&Value::Array(list))
        }
        CallOutput::ToolResult(r) => to_js_value(&tool_result_json(&r)),
        CallOutput::Pong | CallOutput::Closed => Ok(JsValue::UNDEFINED),
        CallOutput::ServerStreamEnded { supported } => Ok(JsValue::from_bool(supported)),
        #[allow(unreachable_patterns)]
        _ => Ok(JsValue::UNDEFINED),
    }
}

fn tool_json(t: &Tool) -> Value {
    serde_json::to_value(t).unwrap_or(Value::Null)
}

/// Cancels call `h` when `signal` (an `AbortSignal`) aborts: at once if it already has,
/// else from its `abort` event (the listener holds no strong reference to the loop).
fn on_abort(signal: &JsValue, conn: &mut Connection, h: CallHandle, running: Weak<Running>) {
    let aborted = js_sys::Reflect::get(signal, &"aborted".into())
        .map(|v| v.is_truthy())
        .unwrap_or(false);
    if aborted {
        let _ = conn.cancel(h);
        return;
    }
    let Ok(add) = js_sys::Reflect::get(signal, &"addEventListener".into())
        .and_then(|f| f.dyn_into::<js_sys::Function>())
    else {
        return;
    };
    let listener = Closure::once_into_js(move || {
        if let Some(r) = running.upgrade() {
            let cmd: Command = Box::new(move |conn: &mut Connection| {
                let _ = conn.cancel(h);
            });
            let _ = r.tx.unbounded_send(cmd);
        }
    });
    let opts = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&opts, &"once".into(), &JsValue::TRUE);
    let _ = add.call3(signal, &"abort".into(), &listener, &opts);
}

/// The `signal` of call options (`undefined`/`null` options: none).
fn signal_of(options: Option<Ts<CallOptions>>) -> Result<Option<JsValue>, JsValue> {
    let Some(o) = options.filter(|o| !o.js_value().is_undefined() && !o.js_value().is_null())
    else {
        return Ok(None);
    };
    let o = o.to_rust().map_err(crate::error::bad_arg("call options"))?;
    Ok(Some(o.signal).filter(|s| !s.is_undefined() && !s.is_null()))
}

impl Inner {
    /// Hands a call to the connection loop (started on first use) and waits for its result.
    async fn submit(
        self: &Rc<Inner>,
        signal: Option<JsValue>,
        call: impl FnOnce(&mut Connection, u64) -> CallHandle + 'static,
    ) -> Result<CallOutput, JsValue> {
        let (done_tx, done_rx) = oneshot::channel();
        let now = self.clock.now_ms();
        let running = self.running()?;
        let waiters = running.waiters.clone();
        let weak_running = Rc::downgrade(&running);
        let cmd: Command = Box::new(move |conn: &mut Connection| {
            let h = call(conn, now);
            waiters.borrow_mut().insert(h, done_tx);
            // A call that failed on submission (bad arguments) completes at once.
            if let Some(r) = conn.poll_result(h) {
                if let Some(tx) = waiters.borrow_mut().remove(&h) {
                    let _ = tx.send(r);
                }
                return;
            }
            if let Some(signal) = signal {
                on_abort(&signal, conn, h, weak_running);
            }
        });
        running.tx.unbounded_send(cmd).map_err(|_| {
            to_js(Error::WrongState {
                action: "call".into(),
                state: "the connection loop has stopped".into(),
            })
        })?;
        match done_rx.await {
            Ok(Ok(out)) => Ok(out),
            Ok(Err(e)) => Err(to_js(e)),
            Err(_) => Err(to_js(Error::Cancelled)),
        }
    }

    /// The running loop, started on first use with the client's credentials and context.
    fn running(self: &Rc<Inner>) -> Result<Rc<Running>, JsValue> {
        if let Some(r) = self.connection.borrow().as_ref() {
            if !r.tx.is_closed() {
                return Ok(r.clone());
            }
        }
        let mut config = ConnectionConfig::new(self.mcp_url.clone());
        config.credentials = self.credentials();
        config.auth = self.auth_context();
        if let Some(ci) = &self.client_info {
            config.client_info = ci.clone();
        }
        let mut conn = Connection::new(config).map_err(to_js)?;
        let (tx, rx) = unbounded::<Command>();
        let waiters: Waiters = Rc::new(RefCell::new(std::collections::BTreeMap::new()));
        let running = Rc::new(Running {
            tx,
            waiters: waiters.clone(),
        });
        *self.connection.borrow_mut() = Some(running.clone());
        let transport: Rc<FetchTransport> = self.transport.clone();
        let clock: Rc<JsClock> = self.clock.clone();
        let owner: Weak<Inner> = Rc::downgrade(self);
        spawn_local(async move {
            workboard_core::driver::run(
                &mut conn,
                &*transport,
                &*clock,
                rx,
                |conn: &mut Connection| {
                    while let Some(ev) = conn.poll_event() {
                        match ev {
                            ConnectionEvent::CallCompleted(h) => {
                                if let (Some(r), Some(tx)) =
                                    (conn.poll_result(h), waiters.borrow_mut().remove(&h))
                                {
                                    let _ = tx.send(r);
                                }
                            }
                            ConnectionEvent::CredentialsChanged(c) => {
                                if let Some(inner) = owner.upgrade() {
                                    inner.credentials_from_connection(c);
                                }
                            }
                            _ => {}
                        }
                    }
                },
            )
            .await;
            // The inbox closed (client dropped): fail whatever still waits.
            waiters.borrow_mut().clear();
        });
        Ok(running)
    }

    /// Tells the running connection (if any) about credentials set by the app. Credentials
    /// (or a context) of another server than the connection's are refused by the core's rule:
    /// the connection is then dropped, so the next call builds a new one and fails with
    /// `credentials_not_for_server` (nothing is ever sent with them).
    pub(crate) fn forward_credentials(&self, creds: Option<Credentials>) {
        let auth = self.auth_context();
        if workboard_core::credentials::bind_for_server(&self.mcp_url, creds.clone(), auth.as_ref())
            .is_err()
        {
            self.connection.borrow_mut().take();
            return;
        }
        if let Some(r) = self.connection.borrow().as_ref() {
            let cmd: Command =
                // Checked by `Inner::set_credentials` with the same rule; a refusal here
                // changes nothing.
                Box::new(move |conn: &mut Connection| {
                    let _ = conn.set_credentials(creds, auth);
                });
            let _ = r.tx.unbounded_send(cmd);
        }
    }
}

#[wasm_bindgen]
impl WorkboardClient {
    /// Lists the MCP tools the signed-in account can use (every page). An empty list usually
    /// means the WorkBoard role has no access to OKRs or Scorecards.
    #[wasm_bindgen(js_name = listTools, unchecked_return_type = "Promise<McpTool[]>")]
    pub fn list_tools(&self, options: Option<Ts<CallOptions>>) -> js_sys::Promise {
        let inner = self.inner().clone();
        let signal = signal_of(options);
        future_to_promise(async move {
            let out = inner.submit(signal?, |c, now| c.list_tools(now)).await?;
            output_to_js(out)
        })
    }

    /// Calls an MCP tool with an object of arguments. Resolves to the tool result
    /// (`isError: true` for a tool-level failure); rejects with a `WorkboardError` otherwise.
    #[wasm_bindgen(js_name = callTool, unchecked_return_type = "Promise<McpToolResult>")]
    pub fn call_tool(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] name: JsValue,
        args: Option<js_sys::Object>,
        options: Option<Ts<CallOptions>>,
    ) -> js_sys::Promise {
        let inner = self.inner().clone();
        let signal = signal_of(options);
        let name = string_arg(&name, "tool name");
        // wasm-bindgen does not check that `args` is an object: checked here.
        let args: JsValue = args.map(JsValue::from).unwrap_or(JsValue::UNDEFINED);
        let arguments = if args.is_undefined() || args.is_null() {
            Ok(Value::Null)
        } else if !args.is_object() || js_sys::Array::is_array(&args) {
            Err(invalid_input(
                "tool arguments",
                "expected an object of named arguments",
            ))
        } else {
            js_sys::JSON::stringify(&args)
                .ok()
                .and_then(|s| s.as_string())
                .and_then(|s| serde_json::from_slice::<Value>(s.as_bytes()).ok())
                .ok_or_else(|| invalid_input("tool arguments", "not JSON-serializable"))
        };
        future_to_promise(async move {
            let name = name?;
            let arguments = arguments?;
            let signal = signal?;
            let out = inner
                .submit(signal, move |c, now| c.call_tool(&name, arguments, now))
                .await?;
            output_to_js(out)
        })
    }

    /// Sends an MCP `ping`.
    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn ping(&self) -> js_sys::Promise {
        let inner = self.inner().clone();
        future_to_promise(async move {
            inner.submit(None, |c, now| c.ping(now)).await?;
            Ok(JsValue::UNDEFINED)
        })
    }

    /// Ends the MCP session (`DELETE`); pending calls are cancelled. A later call opens a new
    /// session.
    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn close(&self) -> js_sys::Promise {
        let inner = self.inner().clone();
        future_to_promise(async move {
            if inner.connection.borrow().is_none() {
                return Ok(JsValue::UNDEFINED);
            }
            let r = inner.submit(None, |c, _| c.close()).await;
            *inner.connection.borrow_mut() = None;
            r?;
            Ok(JsValue::UNDEFINED)
        })
    }
}
