//! `workboard bridge`: an MCP server on stdio (one JSON-RPC message per line) that forwards
//! to the remote Streamable HTTP server through the client layer, so a stdio-only AI client
//! (Claude Desktop, ...) reaches WorkBoard with one native binary.
//!
//! Both stdio eras are served, chosen by how the client opens (basic/versioning.mdx): a
//! request with modern `_meta` is served statelessly (2026-07-28; `server/discover` is the
//! probe), an `initialize` selects a legacy revision for the process. The remote server may
//! speak either era: the client layer's connection finds out and translates. What the bridge
//! does not need to understand is forwarded as is (`Client::request`); stdout carries
//! protocol messages only, logs go to stderr, secrets go nowhere but to their server.
//!
//! Input the server asks for (elicitation, sampling, roots) reaches a legacy stdio client
//! as a server request on stdout, bounded in time ([`INPUT_TIMEOUT`]); the client layer
//! hands the answer back (an MRTR round for a modern server, a JSON-RPC response for a
//! legacy one).

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
use tokio::sync::{mpsc, oneshot, OnceCell, Semaphore};
use workboard_core::Error;
use workboard_native::workboard_client::{ClientCapabilities, InputRequest, SubscriptionFilter};
use workboard_native::{Client, Reactor};

use crate::app::Ctx;
use crate::output::CliError;

/// Longest message line read from stdin; a longer one is answered with a parse error and
/// skipped (never buffered whole).
pub const MAX_LINE_BYTES: usize = 4 * 1024 * 1024;
/// Requests of the stdio client served at once; more are refused until one ends.
pub const MAX_IN_FLIGHT: usize = 64;
/// How long a server's input request waits for the stdio client's answer.
pub const INPUT_TIMEOUT: Duration = Duration::from_secs(600);
/// How long requests still running when stdin closes may take to be answered.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);
/// The modern revision the bridge serves on stdio.
const MODERN: &str = "2026-07-28";
/// The legacy revisions an `initialize` may select, newest first.
const LEGACY: [&str; 4] = ["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"];

/// How the stdio client opened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum StdioEra {
    /// `initialize` (a legacy revision, for the whole process).
    Legacy,
    /// Modern per-request `_meta`.
    Modern,
}

/// The stdio client's answer to an input request: its result, or its error (code, message).
type Answer = Result<Value, (i64, String)>;

/// The bridge's own requests to the stdio client (input), waiting for its answers. Held by
/// the upstream client's input handler too, never the bridge itself (the handler may outlive
/// a request: the bridge must still be able to end).
#[derive(Default)]
struct Asked {
    waiting: Mutex<HashMap<i64, oneshot::Sender<Answer>>>,
    next_id: AtomicI64,
}

struct Bridge {
    ctx: Ctx,
    out: mpsc::UnboundedSender<Value>,
    client: OnceCell<Client>,
    /// The era chosen by the first message (an `initialize`, or a modern request).
    era: Mutex<Option<StdioEra>>,
    /// What the stdio client said it can answer (its `initialize`), declared upstream.
    capabilities: Mutex<ClientCapabilities>,
    /// Requests of the stdio client in flight, by id (as JSON text), to cancel them.
    in_flight: Mutex<HashMap<String, workboard_native::workboard_client::Canceller>>,
    /// Requests cancelled by the stdio client: no answer goes out for them.
    cancelled: Mutex<Vec<String>>,
    /// The bridge's own requests to the stdio client (input), by id.
    asked: Arc<Asked>,
    /// Legacy `resources/subscribe`: the subscription serving each URI.
    subscriptions: Mutex<HashMap<String, tokio::task::JoinHandle<()>>>,
}

/// `workboard bridge`.
pub async fn run(ctx: Ctx) -> Result<(), CliError> {
    let (out, rx) = mpsc::unbounded_channel::<Value>();
    let (stop, stopped) = oneshot::channel::<()>();
    let writer = tokio::spawn(write_stdout(rx, stopped));
    let bridge = Arc::new(Bridge {
        ctx,
        out,
        client: OnceCell::new(),
        era: Mutex::new(None),
        capabilities: Mutex::new(ClientCapabilities::default()),
        in_flight: Mutex::new(HashMap::new()),
        cancelled: Mutex::new(Vec::new()),
        asked: Arc::new(Asked::default()),
        subscriptions: Mutex::new(HashMap::new()),
    });
    log(&format!(
        "serving MCP on stdio for {}",
        bridge.ctx.shown_url()
    ));
    let permits = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
    let mut stdin = tokio::io::BufReader::with_capacity(64 * 1024, tokio::io::stdin());
    let mut tasks = tokio::task::JoinSet::new();
    loop {
        let line = match read_line(&mut stdin, MAX_LINE_BYTES).await {
            Ok(Line::Eof) => break,
            Ok(Line::TooLong) => {
                log(&format!(
                    "skipped a message longer than {MAX_LINE_BYTES} bytes"
                ));
                bridge.send(error_response(
                    &Value::Null,
                    -32700,
                    &format!("message longer than {MAX_LINE_BYTES} bytes"),
                ));
                continue;
            }
            Ok(Line::Text(t)) => t,
            Err(e) => {
                log(&format!("stdin failed: {e}"));
                break;
            }
        };
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let msg: Value = match serde_json::from_slice(&line) {
            Ok(Value::Object(m)) => Value::Object(m),
            Ok(_) | Err(_) => {
                bridge.send(error_response(
                    &Value::Null,
                    -32700,
                    "parse error: not a JSON-RPC object",
                ));
                continue;
            }
        };
        let id = msg.get("id").cloned();
        let method = msg
            .get("method")
            .and_then(Value::as_str)
            .map(str::to_string);
        let params = msg.get("params").cloned().unwrap_or(Value::Null);
        match (id, method) {
            (Some(id), Some(method)) if valid_id(&id) => {
                let Ok(permit) = permits.clone().try_acquire_owned() else {
                    bridge.send(error_response(
                        &id,
                        -32000,
                        &format!("more than {MAX_IN_FLIGHT} requests in flight"),
                    ));
                    continue;
                };
                let b = bridge.clone();
                tasks.spawn(async move {
                    b.request(id, method, params).await;
                    drop(permit);
                });
            }
            (Some(id), Some(_)) => {
                let _ = id;
                bridge.send(error_response(&Value::Null, -32600, "invalid request id"));
            }
            (None, Some(method)) => bridge.notification(&method, &params),
            (Some(id), None) => bridge.response(&id, &msg),
            (None, None) => {
                bridge.send(error_response(
                    &Value::Null,
                    -32600,
                    "invalid request: no method",
                ));
            }
        }
        // Finished request tasks are reaped as we go (their count stays bounded).
        while tasks.try_join_next().is_some() {}
    }
    // End of input: the client is done sending. What it asked last is answered (for at most
    // SHUTDOWN_GRACE), then what still runs is cancelled and the session (legacy) closed.
    log("stdin closed: shutting down");
    let grace = tokio::time::Instant::now() + SHUTDOWN_GRACE;
    while tokio::time::timeout_at(grace, tasks.join_next())
        .await
        .ok()
        .flatten()
        .is_some()
    {}
    let cancellers: Vec<_> = bridge
        .in_flight
        .lock()
        .map(|mut m| m.drain().map(|(_, c)| c).collect())
        .unwrap_or_default();
    for c in cancellers {
        c.cancel();
    }
    for (_, t) in bridge
        .subscriptions
        .lock()
        .map(|mut m| std::mem::take(&mut *m))
        .unwrap_or_default()
    {
        t.abort();
    }
    while tokio::time::timeout(Duration::from_secs(5), tasks.join_next())
        .await
        .ok()
        .flatten()
        .is_some()
    {}
    if let Some(client) = bridge.client.get() {
        let _ = tokio::time::timeout(Duration::from_secs(5), client.close()).await;
    }
    bridge.asked.abandon();
    drop(bridge);
    // Whatever was queued goes out; senders still held by tasks being torn down do not
    // keep the process alive.
    let _ = stop.send(());
    let _ = tokio::time::timeout(Duration::from_secs(5), writer).await;
    Ok(())
}

fn log(msg: &str) {
    eprintln!("workboard bridge: {msg}");
}

fn valid_id(id: &Value) -> bool {
    match id {
        Value::String(s) => s.len() <= 256,
        Value::Number(_) => true,
        _ => false,
    }
}

/// Writes each message on its own line (serde_json escapes every newline inside strings).
async fn write_stdout(mut rx: mpsc::UnboundedReceiver<Value>, mut stop: oneshot::Receiver<()>) {
    let mut stdout = tokio::io::stdout();
    let mut stopping = false;
    loop {
        let v = tokio::select! {
            v = rx.recv() => v,
            _ = &mut stop, if !stopping => {
                // Only what is queued now goes out.
                stopping = true;
                rx.close();
                rx.recv().await
            }
        };
        let Some(v) = v else { break };
        let mut line = serde_json::to_vec(&v).unwrap_or_default();
        line.push(b'\n');
        if stdout.write_all(&line).await.is_err() || stdout.flush().await.is_err() {
            break; // the client is gone
        }
    }
}

enum Line {
    Text(Vec<u8>),
    TooLong,
    Eof,
}

/// One line of at most `max` bytes (without its newline). A longer one is read to its end
/// and dropped (`TooLong`), so memory stays bounded whatever the input.
async fn read_line<R: tokio::io::AsyncBufRead + Unpin>(
    r: &mut R,
    max: usize,
) -> std::io::Result<Line> {
    let mut buf = Vec::new();
    let mut too_long = false;
    loop {
        let chunk = r.fill_buf().await?;
        if chunk.is_empty() {
            // EOF: a last line without newline still counts.
            return Ok(match (too_long, buf.is_empty()) {
                (true, _) => Line::TooLong,
                (false, true) => Line::Eof,
                (false, false) => Line::Text(buf),
            });
        }
        let (part, done) = match chunk.iter().position(|b| *b == b'\n') {
            Some(i) => (&chunk[..i], Some(i + 1)),
            None => (chunk, None),
        };
        if !too_long {
            if buf.len() + part.len() > max {
                too_long = true;
                buf = Vec::new();
            } else {
                buf.extend_from_slice(part);
            }
        }
        let used = done.unwrap_or(chunk.len());
        r.consume(used);
        if done.is_some() {
            return Ok(if too_long {
                Line::TooLong
            } else {
                Line::Text(buf)
            });
        }
    }
}

fn error_response(id: &Value, code: i64, message: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}})
}

/// An SDK error as a JSON-RPC error: a server's own error keeps its code; the rest are
/// internal errors with the SDK's code and hint in `data` (never a secret: errors carry none).
fn sdk_error(id: &Value, e: &Error) -> Value {
    let (code, message) = match e {
        Error::JsonRpc { code, message } => {
            let message: String = message.chars().take(1000).collect();
            return json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}});
        }
        Error::InvalidInput { .. } => (-32602, e.to_string()),
        _ => (-32603, e.to_string()),
    };
    let message: String = message.chars().take(1000).collect();
    json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message,
        "data": {"code": e.code(), "hint": e.hint()}}})
}

impl Bridge {
    fn send(&self, v: Value) {
        let _ = self.out.send(v);
    }

    fn era(&self) -> Option<StdioEra> {
        self.era.lock().ok().and_then(|e| *e)
    }

    fn set_era(&self, era: StdioEra) {
        if let Ok(mut e) = self.era.lock() {
            if e.is_none() {
                *e = Some(era);
            }
        }
    }

    /// A result for the stdio client's era: modern results carry `resultType`; a legacy
    /// client gets none.
    fn result(&self, id: &Value, mut result: Value) -> Value {
        if let Some(obj) = result.as_object_mut() {
            if self.era() == Some(StdioEra::Modern) {
                obj.entry("resultType").or_insert(json!("complete"));
            } else {
                obj.remove("resultType");
            }
        }
        json!({"jsonrpc": "2.0", "id": id, "result": result})
    }

    /// The upstream client, made on first use with the capabilities the stdio client
    /// declared.
    async fn client(self: &Arc<Self>) -> Result<&Client, Error> {
        self.client
            .get_or_try_init(|| async {
                let caps = self.capabilities.lock().map(|c| *c).unwrap_or_default();
                let mut builder = Client::builder();
                if caps != ClientCapabilities::default() {
                    builder = builder.input_handler(Arc::new(StdioInput {
                        out: self.out.clone(),
                        asked: self.asked.clone(),
                        modern: self.era() == Some(StdioEra::Modern),
                        caps,
                    }));
                }
                self.ctx.load_credentials().map_err(|e| Error::Protocol {
                    reason: e.info.message.chars().take(300).collect(),
                })?;
                builder
                    .environment(self.ctx.environment.clone())
                    .server_url(self.ctx.mcp_url.clone())
                    .store(self.ctx.store.clone())
                    .reactor(Reactor::new(1).map_err(|e| Error::Protocol {
                        reason: format!("cannot start the client: {e}"),
                    })?)
                    .client_info("workboard-bridge", env!("CARGO_PKG_VERSION"))
                    .era(self.ctx.era.policy())
                    .build()
            })
            .await
    }

    async fn request(self: Arc<Self>, id: Value, method: String, params: Value) {
        let key = id.to_string();
        let modern_version = params
            .get("_meta")
            .and_then(|m| m.get("io.modelcontextprotocol/protocolVersion"))
            .and_then(Value::as_str)
            .map(str::to_string);
        if let Some(v) = &modern_version {
            if v != MODERN {
                let mut supported = vec![MODERN];
                supported.extend(LEGACY);
                self.send(json!({"jsonrpc": "2.0", "id": id, "error": {"code": -32022,
                    "message": "Unsupported protocol version",
                    "data": {"supported": supported, "requested": v.chars().take(40).collect::<String>()}}}));
                return;
            }
            self.set_era(StdioEra::Modern);
            // The first modern request says what the client can answer: declared upstream
            // when the client is made (its input rounds come back to it as results).
            if self.client.get().is_none() {
                let declared = params
                    .get("_meta")
                    .and_then(|m| m.get("io.modelcontextprotocol/clientCapabilities"));
                if let (Some(d), Ok(mut c)) = (declared, self.capabilities.lock()) {
                    *c = declared_capabilities(Some(d));
                }
            }
        }
        let reply = match method.as_str() {
            "initialize" => self.initialize(&id, &params).await,
            "ping" => self.result(&id, json!({})),
            "server/discover" => {
                self.set_era(StdioEra::Modern);
                self.discover(&id).await
            }
            "subscriptions/listen" => {
                self.listen(&id, &params).await;
                return;
            }
            "resources/subscribe" => self.resource_subscription(&id, &params, true).await,
            "resources/unsubscribe" => self.resource_subscription(&id, &params, false).await,
            _ => self.forward(&id, &key, &method, params).await,
        };
        let cancelled = self
            .cancelled
            .lock()
            .map(|mut c| {
                let hit = c.contains(&key);
                c.retain(|k| *k != key);
                hit
            })
            .unwrap_or(false);
        if !cancelled {
            self.send(reply);
        }
    }

    /// A legacy stdio client opens: the revision it asked for when the bridge serves it (else
    /// the newest), the remote server's capabilities and name.
    async fn initialize(self: &Arc<Self>, id: &Value, params: &Value) -> Value {
        self.set_era(StdioEra::Legacy);
        let asked = params
            .get("protocolVersion")
            .and_then(Value::as_str)
            .unwrap_or("");
        let version = LEGACY
            .iter()
            .find(|v| **v == asked)
            .copied()
            .unwrap_or(LEGACY[0]);
        if let Ok(mut c) = self.capabilities.lock() {
            *c = declared_capabilities(params.get("capabilities"));
        }
        let (capabilities, server_info) = self.upstream_description().await;
        self.result(
            id,
            json!({"protocolVersion": version, "capabilities": capabilities,
                   "serverInfo": server_info}),
        )
    }

    /// The remote server's capabilities and name (`server/discover`, or what `initialize`
    /// said); when it cannot be reached yet (not signed in), the bridge's own, so the AI client
    /// connects and each call reports what is wrong.
    async fn upstream_description(self: &Arc<Self>) -> (Value, Value) {
        let fallback = (
            json!({"tools": {"listChanged": true}, "resources": {"subscribe": true, "listChanged": true}, "prompts": {"listChanged": true}, "completions": {}}),
            json!({"name": "workboard-bridge", "version": env!("CARGO_PKG_VERSION")}),
        );
        let client = match self.client().await {
            Ok(c) => c,
            Err(e) => {
                log(&format!("the MCP server is not reachable yet: {e}"));
                return fallback;
            }
        };
        match client.discover().await {
            Ok(d) => {
                let info = d
                    .server_info
                    .map(|i| json!({"name": i.name, "version": i.version}))
                    .unwrap_or(fallback.1);
                let caps = if d.capabilities.is_object() {
                    d.capabilities
                } else {
                    fallback.0
                };
                (caps, info)
            }
            Err(e) => {
                log(&format!("could not ask the MCP server what it offers: {e}"));
                fallback
            }
        }
    }

    async fn discover(self: &Arc<Self>, id: &Value) -> Value {
        let (capabilities, server_info) = self.upstream_description().await;
        let mut versions = vec![MODERN];
        versions.extend(LEGACY);
        self.result(
            id,
            json!({"supportedVersions": versions, "capabilities": capabilities,
                   "_meta": {"io.modelcontextprotocol/serverInfo": server_info}}),
        )
    }

    /// Anything else goes to the server as is (the connection gives tool calls their
    /// headers and input rounds); the answer comes back as the server sent it.
    async fn forward(
        self: &Arc<Self>,
        id: &Value,
        key: &str,
        method: &str,
        params: Value,
    ) -> Value {
        let client = match self.client().await {
            Ok(c) => c,
            Err(e) => return sdk_error(id, &e),
        };
        // A modern client runs its input rounds itself (they come back as results); for a
        // legacy one the client layer runs them and asks it on stdio.
        let call = if self.era() == Some(StdioEra::Modern) {
            client.request_with_client_input(method, params)
        } else {
            client.request(method, params)
        };
        if let (Some(c), Ok(mut m)) = (call.canceller(), self.in_flight.lock()) {
            m.insert(key.to_string(), c);
        }
        let outcome = call.await;
        if let Ok(mut m) = self.in_flight.lock() {
            m.remove(key);
        }
        match outcome {
            Ok(v) => self.result(id, v),
            Err(e) => sdk_error(id, &e),
        }
    }

    /// Modern `subscriptions/listen`: the remote subscription's notifications, each marked
    /// with this request's id; its end is this request's result.
    async fn listen(self: &Arc<Self>, id: &Value, params: &Value) {
        let filter = subscription_filter(params.get("notifications"));
        let client = match self.client().await {
            Ok(c) => c,
            Err(e) => {
                self.send(sdk_error(id, &e));
                return;
            }
        };
        let mut sub = client.subscribe(filter);
        let key = id.to_string();
        if let (Some(c), Ok(mut m)) = (sub.end.canceller(), self.in_flight.lock()) {
            m.insert(key.clone(), c);
        }
        use futures_util::StreamExt;
        let mut end = std::pin::pin!(sub.end);
        let mut open = true;
        loop {
            tokio::select! {
                n = sub.notifications.next(), if open => match n {
                    Some(n) => {
                        let mut params = n.params;
                        if !params.is_object() {
                            params = json!({});
                        }
                        params["_meta"]["io.modelcontextprotocol/subscriptionId"] = id.clone();
                        self.send(json!({"jsonrpc": "2.0", "method": n.method, "params": params}));
                    }
                    None => open = false,
                },
                outcome = &mut end => {
                    if let Ok(mut m) = self.in_flight.lock() {
                        m.remove(&key);
                    }
                    let reply = match outcome {
                        Ok(_) => self.result(id, json!({"_meta": {"io.modelcontextprotocol/subscriptionId": id}})),
                        Err(Error::Cancelled) => return,
                        Err(e) => sdk_error(id, &e),
                    };
                    self.send(reply);
                    return;
                }
            }
        }
    }

    /// Legacy `resources/subscribe` / `unsubscribe`: a remote subscription per URI whose
    /// updates go out as `notifications/resources/updated`.
    async fn resource_subscription(
        self: &Arc<Self>,
        id: &Value,
        params: &Value,
        on: bool,
    ) -> Value {
        let Some(uri) = params
            .get("uri")
            .and_then(Value::as_str)
            .filter(|u| !u.is_empty() && u.len() <= 8 * 1024)
        else {
            return error_response(id, -32602, "a `uri` string of at most 8 KiB is required");
        };
        let uri = uri.to_string();
        if !on {
            if let Some(t) = self
                .subscriptions
                .lock()
                .ok()
                .and_then(|mut m| m.remove(&uri))
            {
                t.abort();
            }
            return self.result(id, json!({}));
        }
        let client = match self.client().await {
            Ok(c) => c.clone(),
            Err(e) => return sdk_error(id, &e),
        };
        let out = self.out.clone();
        let filter = SubscriptionFilter {
            resource_subscriptions: vec![uri.clone()],
            ..SubscriptionFilter::default()
        };
        let task = tokio::spawn(async move {
            use futures_util::StreamExt;
            let mut sub = client.subscribe(filter);
            while let Some(n) = sub.notifications.next().await {
                if n.method == "notifications/resources/updated" {
                    let _ =
                        out.send(json!({"jsonrpc": "2.0", "method": n.method, "params": n.params}));
                }
            }
        });
        if let Ok(mut m) = self.subscriptions.lock() {
            if let Some(old) = m.insert(uri, task) {
                old.abort();
            }
        }
        self.result(id, json!({}))
    }

    fn notification(&self, method: &str, params: &Value) {
        match method {
            "notifications/cancelled" => {
                let Some(req) = params.get("requestId") else {
                    return;
                };
                let key = req.to_string();
                let canceller = self.in_flight.lock().ok().and_then(|mut m| m.remove(&key));
                if let Some(c) = canceller {
                    if let Ok(mut cancelled) = self.cancelled.lock() {
                        if cancelled.len() < MAX_IN_FLIGHT * 4 {
                            cancelled.push(key);
                        }
                    }
                    c.cancel();
                }
            }
            // The lifecycle and the client's own list changes need nothing upstream.
            "notifications/initialized" | "notifications/roots/list_changed" => {}
            other => log(&format!(
                "ignoring notification `{}`",
                other.chars().take(64).collect::<String>()
            )),
        }
    }

    /// An answer of the stdio client to one of the bridge's requests (input).
    fn response(&self, id: &Value, msg: &Value) {
        let Some(n) = id.as_i64() else {
            return;
        };
        let Some(tx) = self
            .asked
            .waiting
            .lock()
            .ok()
            .and_then(|mut m| m.remove(&n))
        else {
            log("ignoring a response to an unknown request");
            return;
        };
        let answer = match (msg.get("result"), msg.get("error")) {
            (Some(r), _) => Ok(r.clone()),
            (None, Some(e)) => Err((
                e.get("code").and_then(Value::as_i64).unwrap_or(-32603),
                e.get("message")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .chars()
                    .take(500)
                    .collect(),
            )),
            (None, None) => Err((-32600, "a response without result or error".into())),
        };
        let _ = tx.send(answer);
    }
}

impl Asked {
    /// Asks the stdio client (a server request on stdout) and waits for its answer.
    async fn ask(
        &self,
        out: &mpsc::UnboundedSender<Value>,
        request: InputRequest,
    ) -> Result<Value, Error> {
        let n = self
            .next_id
            .fetch_add(1, Ordering::Relaxed)
            .saturating_add(1);
        let (tx, rx) = oneshot::channel();
        if let Ok(mut m) = self.waiting.lock() {
            m.insert(n, tx);
        }
        let _ = out.send(
            json!({"jsonrpc": "2.0", "id": n, "method": request.method, "params": request.params}),
        );
        let answer = tokio::time::timeout(INPUT_TIMEOUT, rx).await;
        if let Ok(mut m) = self.waiting.lock() {
            m.remove(&n);
        }
        match answer {
            Ok(Ok(Ok(v))) => Ok(v),
            Ok(Ok(Err((code, message)))) => Err(Error::JsonRpc { code, message }),
            Ok(Err(_)) => Err(Error::Cancelled),
            Err(_) => Err(Error::Timeout {
                what: "the AI client's answer".into(),
                after_ms: u64::try_from(INPUT_TIMEOUT.as_millis()).unwrap_or(u64::MAX),
            }),
        }
    }

    /// The stdio client is gone: every question still waiting ends (`cancelled`).
    fn abandon(&self) {
        if let Ok(mut m) = self.waiting.lock() {
            m.clear();
        }
    }
}

/// The input handler the upstream client uses: the stdio client answers.
struct StdioInput {
    out: mpsc::UnboundedSender<Value>,
    asked: Arc<Asked>,
    caps: ClientCapabilities,
    /// A modern stdio client takes no requests from its server (stdio.mdx): a legacy
    /// server's own input requests are declined for it.
    modern: bool,
}

impl workboard_native::InputHandler for StdioInput {
    fn capabilities(&self) -> ClientCapabilities {
        self.caps
    }

    fn answer(
        &self,
        request: InputRequest,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<Value, Error>> + Send>> {
        if self.modern {
            return Box::pin(std::future::ready(Err(Error::Protocol {
                reason:
                    "a modern stdio client cannot be asked by its server: the request is declined"
                        .into(),
            })));
        }
        let (out, asked) = (self.out.clone(), self.asked.clone());
        Box::pin(async move { asked.ask(&out, request).await })
    }
}

/// The input a legacy client's `initialize` declared (`elicitation` alone is form mode, as
/// in 2025-06-18).
fn declared_capabilities(caps: Option<&Value>) -> ClientCapabilities {
    let Some(caps) = caps.and_then(Value::as_object) else {
        return ClientCapabilities::default();
    };
    let elicitation = caps.get("elicitation").and_then(Value::as_object);
    let url = elicitation.is_some_and(|e| e.contains_key("url"));
    let form = elicitation.is_some_and(|e| e.contains_key("form") || !e.contains_key("url"));
    ClientCapabilities {
        elicitation_form: form,
        elicitation_url: url,
        sampling: caps.contains_key("sampling"),
        roots: caps.contains_key("roots"),
    }
}

/// A `subscriptions/listen` filter (bounded as the core bounds it).
fn subscription_filter(v: Option<&Value>) -> SubscriptionFilter {
    let flag = |k: &str| v.and_then(|v| v.get(k)).and_then(Value::as_bool) == Some(true);
    let uris = v
        .and_then(|v| v.get("resourceSubscriptions"))
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .take(workboard_core::connection::MAX_SUBSCRIBED_RESOURCES + 1)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    SubscriptionFilter {
        tools_list_changed: flag("toolsListChanged"),
        prompts_list_changed: flag("promptsListChanged"),
        resources_list_changed: flag("resourcesListChanged"),
        resource_subscriptions: uris,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[tokio::test]
    async fn lines_are_bounded_and_a_long_one_is_skipped_whole() {
        let input = format!("{}\n{}\nlast", "a".repeat(10), "b".repeat(100));
        let mut r = tokio::io::BufReader::with_capacity(7, input.as_bytes());
        assert!(
            matches!(read_line(&mut r, 50).await.unwrap(), Line::Text(t) if t == b"aaaaaaaaaa")
        );
        assert!(matches!(
            read_line(&mut r, 50).await.unwrap(),
            Line::TooLong
        ));
        assert!(matches!(read_line(&mut r, 50).await.unwrap(), Line::Text(t) if t == b"last"));
        assert!(matches!(read_line(&mut r, 50).await.unwrap(), Line::Eof));
    }

    #[test]
    fn declared_capabilities_follow_both_shapes() {
        let c = declared_capabilities(Some(
            &json!({"elicitation": {}, "roots": {"listChanged": true}}),
        ));
        assert!(c.elicitation_form && !c.elicitation_url && c.roots && !c.sampling);
        let c = declared_capabilities(Some(&json!({"elicitation": {"url": {}}, "sampling": {}})));
        assert!(!c.elicitation_form && c.elicitation_url && c.sampling);
        assert_eq!(
            declared_capabilities(Some(&json!(5))),
            ClientCapabilities::default()
        );
    }
}
