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
use workboard_native::workboard_client::{
    ClientCapabilities, InputRequest, SharedSignIn, SubscriptionFilter,
};
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
/// The methods whose modern results are cacheable (`ttlMs`, `cacheScope`).
const CACHEABLE: [&str; 6] = [
    "server/discover",
    "tools/list",
    "resources/list",
    "resources/templates/list",
    "resources/read",
    "prompts/list",
];
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
    /// Credentials from `--header Authorization: ...` (used instead of the store's).
    header_credentials: Option<workboard_core::Credentials>,
    /// Sign-ins this bridge ran ([`Bridge::sign_in`]), one at a time.
    sign_ins: tokio::sync::Mutex<u32>,
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
    /// A legacy server's input requests for a modern stdio client, which answers them as an
    /// input round of the call that waits (see [`Bridge::drive_modern`]).
    modern_asks: tokio::sync::Mutex<mpsc::UnboundedReceiver<ModernAsk>>,
    modern_asks_tx: mpsc::UnboundedSender<ModernAsk>,
    /// Calls waiting for the modern stdio client to send them again with its answers, by
    /// the `requestState` it was given.
    parked: Mutex<Vec<(String, Parked)>>,
}

/// A legacy server's input request for a modern stdio client, and where its answer goes.
struct ModernAsk {
    request: InputRequest,
    answer: oneshot::Sender<Answer>,
}

/// A forwarded call whose input round went to the modern stdio client.
struct Parked {
    call: std::pin::Pin<Box<workboard_native::workboard_client::Call<Value>>>,
    answer: oneshot::Sender<Answer>,
}

/// What forwarding one request came to.
enum Forwarded {
    /// The answer for the stdio client.
    Reply(Value),
    /// The server wants a sign-in (a 401 nothing stored answers).
    NeedsSignIn(Error),
}

fn needs_sign_in(e: &Error) -> bool {
    matches!(e, Error::NotSignedIn | Error::Unauthorized { .. })
}

/// The redirect URI of a sign-in the bridge starts without a stored context (`login`'s).
const DEFAULT_REDIRECT_URI: &str = "http://127.0.0.1:8765/callback";

/// The key of the one input request of a round the bridge makes.
const BRIDGE_INPUT_KEY: &str = "workboard-bridge";

/// How long a bridge waits for another process's sign-in (a browser sign-in's 300 s and
/// its token requests) before it gives up on it.
const SIGN_IN_WAIT_MS: u64 = 330_000;

/// Sign-ins one bridge runs at most (a server that refuses every new token is not asked
/// forever).
pub const MAX_SIGN_INS: u32 = 2;

/// The credentials of `--header` values (mcp-remote's form: `Authorization:${VAR}` or
/// `Authorization: Bearer $VAR`, the variable read from the environment so the token is never
/// on the command line). Only `Authorization` is taken.
pub fn header_credentials(
    headers: &[String],
    env: impl Fn(&str) -> Option<String>,
) -> Result<Option<workboard_core::Credentials>, CliError> {
    let mut out = None;
    for h in headers {
        let Some((name, value)) = h.split_once(':') else {
            return Err(CliError::usage(
                "--header needs `Name: value`",
                Some("Pass `--header \"Authorization: Bearer ${WORKBOARD_TOKEN}\"` and set WORKBOARD_TOKEN.".into()),
            ));
        };
        if !name.trim().eq_ignore_ascii_case("authorization") {
            return Err(CliError::usage(
                format!(
                    "--header `{}`: only Authorization is taken",
                    workboard_core::untrusted::excerpt(name.trim(), 40)
                ),
                None,
            ));
        }
        let expanded = expand_env(value.trim(), &env)?;
        if !value.contains('$') {
            log("a token written on the command line is visible to every local process: pass `Authorization: Bearer ${VAR}` instead");
        }
        let token = expanded
            .strip_prefix("Bearer ")
            .or_else(|| expanded.strip_prefix("bearer "))
            .unwrap_or(&expanded)
            .trim()
            .to_string();
        if token.is_empty() || token.chars().any(char::is_whitespace) {
            return Err(CliError::usage(
                "--header Authorization: the token is empty or has whitespace",
                None,
            ));
        }
        out = Some(workboard_core::Credentials::personal(token));
    }
    Ok(out)
}

/// `${VAR}` and `$VAR` replaced by the environment's value; an unset one is a usage error
/// naming it (never its value).
fn expand_env(s: &str, env: &impl Fn(&str) -> Option<String>) -> Result<String, CliError> {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let (name, tail) = match after.strip_prefix('{') {
            Some(b) => match b.find('}') {
                Some(j) => (&b[..j], &b[j + 1..]),
                None => return Err(CliError::usage("--header: `${` without `}`", None)),
            },
            None => {
                let j = after
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(after.len());
                (&after[..j], &after[j..])
            }
        };
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(CliError::usage(
                "--header: a `$` that names no variable",
                None,
            ));
        }
        match env(name) {
            Some(v) => out.push_str(&v),
            None => {
                return Err(CliError::usage(
                    format!("--header: the environment variable {} is not set", workboard_core::untrusted::excerpt(name, 64)),
                    Some("Set it in the AI client's config (`env`), or store the token with `workboard token set`.".into()),
                ))
            }
        }
        rest = tail;
    }
    out.push_str(rest);
    Ok(out)
}

pub async fn run(ctx: Ctx, headers: Vec<String>) -> Result<(), CliError> {
    let header_credentials = header_credentials(&headers, |k| std::env::var(k).ok())?;
    let (out, rx) = mpsc::unbounded_channel::<Value>();
    let (stop, stopped) = oneshot::channel::<()>();
    let (asks_tx, asks_rx) = mpsc::unbounded_channel::<ModernAsk>();
    let writer = tokio::spawn(write_stdout(rx, stopped));
    let bridge = Arc::new(Bridge {
        ctx,
        header_credentials,
        sign_ins: tokio::sync::Mutex::new(0),
        out,
        client: OnceCell::new(),
        era: Mutex::new(None),
        capabilities: Mutex::new(ClientCapabilities::default()),
        in_flight: Mutex::new(HashMap::new()),
        cancelled: Mutex::new(Vec::new()),
        modern_asks: tokio::sync::Mutex::new(asks_rx),
        modern_asks_tx: asks_tx,
        parked: Mutex::new(Vec::new()),
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
    fn result(&self, id: &Value, result: Value) -> Value {
        self.result_of("", id, result)
    }

    /// [`Bridge::result`] of `method`: for a modern client, a cacheable result a legacy server
    /// gave (no `ttlMs`) says "do not cache, private" (schema `CacheableResult`).
    fn result_of(&self, method: &str, id: &Value, mut result: Value) -> Value {
        if let Some(obj) = result.as_object_mut() {
            if self.era() == Some(StdioEra::Modern) {
                obj.entry("resultType").or_insert(json!("complete"));
                let complete = obj.get("resultType") == Some(&json!("complete"));
                if complete && CACHEABLE.contains(&method) {
                    obj.entry("ttlMs").or_insert(json!(0));
                    obj.entry("cacheScope").or_insert(json!("private"));
                }
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
                        modern: (self.era() == Some(StdioEra::Modern))
                            .then(|| self.modern_asks_tx.clone()),
                        caps,
                    }));
                }
                builder = match &self.header_credentials {
                    // `--header`: those credentials, nothing from or to the store.
                    Some(c) => builder.credentials(c.clone().bind_to(&self.ctx.mcp_url)?),
                    None => {
                        self.ctx.load_credentials().map_err(|e| Error::Protocol {
                            reason: e.info.message.chars().take(300).collect(),
                        })?;
                        builder.shared_store(self.ctx.shared.clone())
                    }
                };
                builder
                    .environment(self.ctx.environment.clone())
                    .server_url(self.ctx.mcp_url.clone())
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
        self.result_of(
            "server/discover",
            id,
            json!({"supportedVersions": versions, "capabilities": capabilities,
                   "_meta": {"io.modelcontextprotocol/serverInfo": server_info}}),
        )
    }

    /// Anything else goes to the server as is (the connection gives tool calls their
    /// headers and input rounds); the answer comes back as the server sent it. A server that
    /// wants a sign-in gets one ([`Bridge::sign_in`]), then the request goes once more.
    async fn forward(
        self: &Arc<Self>,
        id: &Value,
        key: &str,
        method: &str,
        params: Value,
    ) -> Value {
        let seen = *self.sign_ins.lock().await;
        match self.forward_once(id, key, method, params.clone()).await {
            Forwarded::Reply(v) => v,
            Forwarded::NeedsSignIn(e) => match self.sign_in(seen).await {
                Ok(()) => match self.forward_once(id, key, method, params).await {
                    Forwarded::Reply(v) => v,
                    Forwarded::NeedsSignIn(e) => sdk_error(id, &e),
                },
                Err(why) => {
                    log(&format!("no sign-in: {why}"));
                    sdk_error(id, &e)
                }
            },
        }
    }

    async fn forward_once(
        self: &Arc<Self>,
        id: &Value,
        key: &str,
        method: &str,
        params: Value,
    ) -> Forwarded {
        let client = match self.client().await {
            Ok(c) => c,
            Err(e) => return Forwarded::Reply(sdk_error(id, &e)),
        };
        // A modern client runs its input rounds itself (they come back as results); for a
        // legacy one the client layer runs them and asks it on stdio.
        if self.era() != Some(StdioEra::Modern) {
            let call = client.request(method, params);
            if let (Some(c), Ok(mut m)) = (call.canceller(), self.in_flight.lock()) {
                m.insert(key.to_string(), c);
            }
            let outcome = call.await;
            if let Ok(mut m) = self.in_flight.lock() {
                m.remove(key);
            }
            return match outcome {
                Ok(v) => Forwarded::Reply(self.result_of(method, id, v)),
                Err(e) if needs_sign_in(&e) => Forwarded::NeedsSignIn(e),
                Err(e) => Forwarded::Reply(sdk_error(id, &e)),
            };
        }
        // A call sent again with the answers of a round the bridge made goes on where it
        // waited; any other goes out now.
        let state = params.get("requestState").and_then(Value::as_str);
        let parked = state.and_then(|s| {
            let mut p = self.parked.lock().ok()?;
            let i = p.iter().position(|(t, _)| t == s)?;
            Some(p.remove(i).1)
        });
        let call = match parked {
            Some(p) => {
                let answer = params
                    .get("inputResponses")
                    .and_then(|r| r.get(BRIDGE_INPUT_KEY))
                    .cloned()
                    .ok_or((-32602, "no answer to the input request".to_string()));
                let _ = p.answer.send(answer);
                p.call
            }
            None => Box::pin(client.request_with_client_input(method, params)),
        };
        self.drive_modern(id, key, method, call).await
    }

    /// The server wants a sign-in and nothing usable is stored: an OAuth sign-in as `login
    /// --flow mcp` runs it (the stored context's client, or the server's registration), with
    /// the user's approval in the browser (`--step-up`: `auto`/`browser` open it, `print`
    /// shows the URL on stderr, `headless` follows an auto-approving server, `never` does
    /// none). One at a time in the bridge, and one for every process on the store: under its
    /// lease ([`workboard_native::workboard_client::Client::sign_in_shared`]) a bridge whose
    /// peer is signing in waits and uses the stored result. Requests that failed meanwhile go
    /// again after it; at most [`MAX_SIGN_INS`] per bridge.
    async fn sign_in(self: &Arc<Self>, seen: u32) -> Result<(), Error> {
        let mut attempts = self.sign_ins.lock().await;
        if *attempts != seen {
            return Ok(()); // another request signed in (or tried) meanwhile: go again
        }
        let refused = |state: &str| Error::WrongState {
            action: "sign in".into(),
            state: state.into(),
        };
        if self.header_credentials.is_some() {
            return Err(refused("the --header credentials were refused"));
        }
        if *attempts >= MAX_SIGN_INS {
            return Err(refused("this bridge already signed in twice"));
        }
        use crate::app::StepUpArg;
        let approver = match self.ctx.step_up {
            StepUpArg::Never => return Err(refused("--step-up never")),
            StepUpArg::Headless => workboard_native::Approver::Headless,
            mode => {
                let launch = mode != StepUpArg::Print;
                workboard_native::Approver::Loopback {
                    open: Box::new(move |url: &str| {
                        // The URL carries only `state` and the PKCE challenge: safe to show.
                        log(&format!(
                            "the server asks for a sign-in; open this URL:\n  {url}"
                        ));
                        if launch && !crate::cmd_auth::open_browser(url) {
                            log("(could not start a browser; open the URL yourself)");
                        }
                    }),
                    timeout: Duration::from_secs(300),
                }
            }
        };
        *attempts += 1;
        let client = self.client().await?;
        let stored = client.auth_context();
        let redirect = stored
            .as_ref()
            .map(|c| c.redirect_uri.clone())
            .unwrap_or_else(|| DEFAULT_REDIRECT_URI.to_string());
        // As `login --flow mcp`: WorkBoard's environment (its issuer quirk known), or any
        // server named with --server.
        use workboard_core::oauth::flow::McpAuthConfig;
        let mut config = match &self.ctx.server_override {
            Some(url) => McpAuthConfig::new(url.clone(), redirect),
            None => McpAuthConfig::workboard(&self.ctx.environment, redirect),
        };
        if let Some(c) = &stored {
            config.client.client_id = Some(c.client_id.clone());
        }
        config.previous = stored;
        config.client.client_name = "workboard-bridge".into();
        // Once for every bridge and command on the store: under its lease, the leader signs in
        // and stores the result, the others wait and use it (the client layer's rule).
        // The sign-in machinery is not `Send` (it drives its flow on the task that awaits it):
        // it runs on a thread of its own, like `workboard login`.
        let client = client.clone();
        let turn = tokio::task::spawn_blocking(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| Error::Protocol {
                    reason: format!("cannot start the sign-in: {e}"),
                })?;
            rt.block_on(client.sign_in_shared(
                || async {
                    let transport =
                        workboard_native::ReqwestTransport::new().map_err(Error::Transport)?;
                    let signed = workboard_native::sign_in_mcp(&transport, config, approver)
                        .await?
                        .ok_or_else(|| refused("the server asks for no authorization"))?;
                    Ok((signed.credentials, signed.context))
                },
                SIGN_IN_WAIT_MS,
            ))
        })
        .await
        .map_err(|_| refused("the sign-in stopped"))??;
        log(match turn {
            SharedSignIn::Led => "signed in",
            SharedSignIn::Adopted => "using the sign-in another process stored",
        });
        Ok(())
    }

    /// Runs a modern stdio client's call to its result. A legacy server's input request
    /// meanwhile (one the client layer hands to [`StdioInput`]) becomes an input round for
    /// the client (modern stdio servers send no requests): an `input_required` result, and the
    /// call waits ([`Bridge::parked`]) for the client to send it again with its answer.
    async fn drive_modern(
        self: &Arc<Self>,
        id: &Value,
        key: &str,
        method: &str,
        mut call: std::pin::Pin<Box<workboard_native::workboard_client::Call<Value>>>,
    ) -> Forwarded {
        if let (Some(c), Ok(mut m)) = (call.canceller(), self.in_flight.lock()) {
            m.insert(key.to_string(), c);
        }
        let ask = tokio::select! {
            outcome = &mut call => {
                if let Ok(mut m) = self.in_flight.lock() {
                    m.remove(key);
                }
                return match outcome {
                    Ok(v) => Forwarded::Reply(self.result_of(method, id, v)),
                    Err(e) if needs_sign_in(&e) => Forwarded::NeedsSignIn(e),
                    Err(e) => Forwarded::Reply(sdk_error(id, &e)),
                };
            }
            ask = async { self.modern_asks.lock().await.recv().await } => ask,
        };
        if let Ok(mut m) = self.in_flight.lock() {
            m.remove(key);
        }
        let Some(ask) = ask else {
            return Forwarded::Reply(sdk_error(id, &Error::ClientStopped));
        };
        let n = self.asked.next_id.fetch_add(1, Ordering::Relaxed);
        let token = format!("workboard-bridge-{}-{n}", std::process::id());
        let inputs =
            json!({BRIDGE_INPUT_KEY: {"method": ask.request.method, "params": ask.request.params}});
        if let Ok(mut p) = self.parked.lock() {
            if p.len() >= MAX_IN_FLIGHT {
                p.remove(0); // the oldest round is given up (its call fails when it times out)
            }
            p.push((
                token.clone(),
                Parked {
                    call,
                    answer: ask.answer,
                },
            ));
        }
        Forwarded::Reply(
            json!({"jsonrpc": "2.0", "id": id, "result": {"resultType": "input_required",
            "inputRequests": inputs, "requestState": token}}),
        )
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
    /// server's input request goes to the call that waits, as an input round
    /// ([`Bridge::drive_modern`]).
    modern: Option<mpsc::UnboundedSender<ModernAsk>>,
}

impl workboard_native::InputHandler for StdioInput {
    fn capabilities(&self) -> ClientCapabilities {
        self.caps
    }

    fn answer(
        &self,
        request: InputRequest,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<Value, Error>> + Send>> {
        if let Some(asks) = &self.modern {
            let (answer, rx) = oneshot::channel();
            let sent = asks.send(ModernAsk { request, answer }).is_ok();
            return Box::pin(async move {
                if !sent {
                    return Err(Error::ClientStopped);
                }
                match tokio::time::timeout(INPUT_TIMEOUT, rx).await {
                    Ok(Ok(Ok(v))) => Ok(v),
                    Ok(Ok(Err((code, message)))) => Err(Error::JsonRpc { code, message }),
                    Ok(Err(_)) => Err(Error::Cancelled),
                    Err(_) => Err(Error::Timeout {
                        what: "the AI client's answer".into(),
                        after_ms: u64::try_from(INPUT_TIMEOUT.as_millis()).unwrap_or(u64::MAX),
                    }),
                }
            });
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
    fn header_values_read_the_environment_and_never_echo_a_token() {
        let env = |k: &str| (k == "T").then(|| "tok-123".to_string());
        let c = header_credentials(&["Authorization: Bearer ${T}".into()], env)
            .unwrap()
            .unwrap();
        assert_eq!(c.access_token().expose(), "tok-123");
        let c = header_credentials(&["authorization:Bearer $T".into()], env)
            .unwrap()
            .unwrap();
        assert_eq!(c.access_token().expose(), "tok-123");
        assert!(header_credentials(&[], env).unwrap().is_none());
        for bad in [
            "Authorization",
            "X-Api-Key: 1",
            "Authorization: Bearer ${T",
            "Authorization: Bearer ${}",
            "Authorization: Bearer $",
            "Authorization: Bearer ${NOPE}",
            "Authorization: Bearer a b",
        ] {
            let e = header_credentials(&[bad.into()], env).unwrap_err();
            assert!(!e.info.message.contains("tok-123"), "{bad}");
            assert_eq!(e.exit, crate::output::exit::USAGE, "{bad}");
        }
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
