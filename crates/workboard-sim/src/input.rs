//! Tools that need input from the client (`draft_check_in`: an elicitation form;
//! `suggest_key_result`: an LLM sample; `list_workspace_roots`: the client's roots).
//!
//! Modern era: multi round-trip requests (basic/patterns/mrtr.mdx). The first call answers
//! `resultType: "input_required"` with one input request and a `requestState`; the state is
//! the key of a bounded server-side table bound to the user, the tool, the arguments and an
//! expiry, and is consumed when the call completes. Legacy era: the server sends the request
//! itself on the `tools/call` SSE stream and waits (bounded) for the client's POSTed answer.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::http::StatusCode;
use futures_util::{stream, StreamExt};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use crate::mcp::{
    authorize_tool, call_args, find_tool, next_stream, priming, shown, sse_event, sse_response,
    tool_result, Caller, Outcome, Resp, RpcError,
};
use crate::modern::{client_capabilities, MISSING_REQUIRED_CLIENT_CAPABILITY};
use crate::server::json_response;
use crate::state::{lock, random_token, InputState, Shared};
use crate::tools::{self, InputKind};

/// MRTR states kept at once (the oldest is dropped past this).
pub const MAX_INPUT_STATES: usize = 256;
/// Life of an MRTR `requestState` on the server clock.
pub const INPUT_STATE_TTL_MS: u64 = 5 * 60 * 1000;
/// Legacy server requests waiting for an answer at once.
const MAX_PENDING_REQUESTS: usize = 64;
/// The key of the one input request the tools ask for.
pub const INPUT_KEY_ELICIT: &str = "check_in";
/// The key of the sampling input request.
pub const INPUT_KEY_SAMPLE: &str = "suggestion";
/// The key of the roots input request.
pub const INPUT_KEY_ROOTS: &str = "roots";
/// Most roots a `list_workspace_roots` result shows.
const MAX_ROOTS: usize = 100;

/// Whether a `tools/call` names a tool that needs client input.
pub(crate) fn is_input_tool(params: &Value) -> bool {
    params
        .get("name")
        .and_then(Value::as_str)
        .and_then(tools::input_kind)
        .is_some()
}

fn key_of(kind: InputKind) -> &'static str {
    match kind {
        InputKind::Elicitation => INPUT_KEY_ELICIT,
        InputKind::Sampling => INPUT_KEY_SAMPLE,
        InputKind::Roots => INPUT_KEY_ROOTS,
    }
}

/// The subject of the call (a key result or an objective) as `(id, title)`, or a tool error.
fn subject(
    sh: &Shared,
    kind: InputKind,
    args: &Map<String, Value>,
) -> Result<(u64, String), String> {
    let store = sh.store();
    let d = &store.data;
    match kind {
        InputKind::Elicitation => {
            let id = args
                .get("key_result_id")
                .and_then(Value::as_u64)
                .ok_or("`key_result_id` (a non-negative integer) is required")?;
            d.key_results
                .iter()
                .find(|k| k.id == id)
                .map(|k| (id, k.name.clone()))
                .ok_or_else(|| format!("key result {id} not found"))
        }
        InputKind::Sampling => {
            let id = args
                .get("objective_id")
                .and_then(Value::as_u64)
                .ok_or("`objective_id` (a non-negative integer) is required")?;
            d.objective(id)
                .map(|o| (id, o.title.clone()))
                .ok_or_else(|| format!("objective {id} not found"))
        }
        InputKind::Roots => Ok((0, String::new())),
    }
}

/// The input request's params (`elicitation/create` or `sampling/createMessage`).
fn request_params(
    kind: InputKind,
    subject: &(u64, String),
    with_mode: bool,
) -> (&'static str, Value) {
    match kind {
        InputKind::Elicitation => {
            let mut p = json!({
                "message": format!("Check-in for key result {} \"{}\": how confident are you that it will be met?", subject.0, subject.1),
                "requestedSchema": {
                    "type": "object",
                    "properties": {
                        "confidence": {"type": "integer", "minimum": 1, "maximum": 10, "title": "Confidence", "description": "1 (low) to 10 (high)"},
                        "note": {"type": "string", "maxLength": 500, "title": "Note"}
                    },
                    "required": ["confidence"]
                }
            });
            if with_mode {
                if let Some(o) = p.as_object_mut() {
                    o.insert("mode".to_string(), json!("form"));
                }
            }
            ("elicitation/create", p)
        }
        InputKind::Sampling => (
            "sampling/createMessage",
            json!({
                "messages": [{"role": "user", "content": {"type": "text",
                    "text": format!("Suggest one measurable key result for the objective \"{}\".", subject.1)}}],
                "systemPrompt": "You are an OKR coach. Answer with one key result.",
                "maxTokens": 200
            }),
        ),
        InputKind::Roots => ("roots/list", json!({})),
    }
}

/// The tool result from the client's answer to the input request (an `ElicitResult` or a
/// `CreateMessageResult`); `Err` is a protocol error (malformed answer).
fn finish(kind: InputKind, subject: &(u64, String), answer: &Value) -> Result<Value, RpcError> {
    let bad = |m: &str| RpcError::new(-32602, format!("Invalid params: {m}"));
    match kind {
        InputKind::Elicitation => match answer.get("action").and_then(Value::as_str) {
            Some("accept") => {
                let content = answer.get("content").cloned().unwrap_or(Value::Null);
                let confidence = content
                    .get("confidence")
                    .and_then(Value::as_u64)
                    .filter(|c| (1..=10).contains(c))
                    .ok_or_else(|| {
                        bad("the check-in answer needs content.confidence, an integer 1..10")
                    })?;
                let note = content.get("note").and_then(Value::as_str).unwrap_or("");
                if note.chars().count() > 500 {
                    return Err(bad("content.note is longer than 500 characters"));
                }
                Ok(tool_result(Ok(json!({
                    "key_result_id": subject.0,
                    "key_result": subject.1,
                    "confidence": confidence,
                    "note": note,
                    "draft": format!("{}: confidence {confidence}/10. {note}", subject.1),
                }))))
            }
            Some(action @ ("decline" | "cancel")) => Ok(tool_result(Ok(json!({
                "key_result_id": subject.0,
                "drafted": false,
                "action": action,
            })))),
            _ => Err(bad(
                "the elicitation answer needs action accept, decline or cancel",
            )),
        },
        InputKind::Sampling => {
            let text = answer
                .get("content")
                .and_then(|c| c.get("text"))
                .and_then(Value::as_str)
                .ok_or_else(|| bad("the sampling answer needs content.text"))?;
            let model = answer.get("model").and_then(Value::as_str).unwrap_or("");
            Ok(tool_result(Ok(json!({
                "objective_id": subject.0,
                "suggestion": shown_long(text),
                "model": shown(model),
            }))))
        }
        InputKind::Roots => {
            let roots = answer
                .get("roots")
                .and_then(Value::as_array)
                .ok_or_else(|| bad("the roots answer needs roots, an array"))?;
            let mut shown_roots = Vec::new();
            for r in roots.iter().take(MAX_ROOTS) {
                let uri = r
                    .get("uri")
                    .and_then(Value::as_str)
                    .ok_or_else(|| bad("each root needs a uri"))?;
                let name = r.get("name").and_then(Value::as_str).map(shown);
                shown_roots.push(json!({"uri": shown_long(uri), "name": name}));
            }
            Ok(tool_result(Ok(json!({
                "count": roots.len(),
                "roots": shown_roots,
            }))))
        }
    }
}

/// At most 2000 characters of a client-supplied text.
fn shown_long(s: &str) -> String {
    s.chars().take(2000).collect()
}

fn has_capability(caps: &Value, kind: InputKind) -> bool {
    match kind {
        InputKind::Elicitation => match caps.get("elicitation").and_then(Value::as_object) {
            // `{}` declares form mode implicitly; `{"url": {}}` alone does not.
            Some(e) => e.contains_key("form") || !e.contains_key("url"),
            None => false,
        },
        InputKind::Sampling => caps.get("sampling").is_some_and(Value::is_object),
        InputKind::Roots => caps.get("roots").is_some_and(Value::is_object),
    }
}

fn required_capability(kind: InputKind) -> Value {
    match kind {
        InputKind::Elicitation => json!({"elicitation": {"form": {}}}),
        InputKind::Sampling => json!({"sampling": {}}),
        InputKind::Roots => json!({"roots": {}}),
    }
}

fn new_state(sh: &Shared, caller: &Caller, tool: &str, args: &str) -> String {
    let key = random_token("mrs");
    let now = sh.now_ms();
    let mut states = lock(&sh.input_states);
    states.retain(|_, s| s.expires_at_ms > now);
    while states.len() >= MAX_INPUT_STATES {
        let Some(oldest) = states
            .iter()
            .min_by_key(|(_, s)| s.created)
            .map(|(k, _)| k.clone())
        else {
            break;
        };
        states.remove(&oldest);
    }
    states.insert(
        key.clone(),
        InputState {
            user_id: caller.user_id,
            tool: tool.to_string(),
            args: args.to_string(),
            expires_at_ms: now + INPUT_STATE_TTL_MS,
            created: sh.next_id.fetch_add(1, Ordering::SeqCst),
        },
    );
    key
}

/// A modern `tools/call` of an input tool.
pub(crate) fn modern_call(sh: &Shared, caller: &Caller, params: &Value, id: &Value) -> Outcome {
    let tool = match find_tool(caller, params) {
        Ok(t) => t,
        Err(e) => return Outcome::Error(e),
    };
    if let Err(o) = authorize_tool(sh, caller, tool, id) {
        return o;
    }
    let Some(kind) = tools::input_kind(tool.name) else {
        return Outcome::Error(RpcError::new(-32603, "not an input tool"));
    };
    let args = match call_args(params) {
        Ok(a) => a,
        Err(e) => return Outcome::Error(e),
    };
    let subject = match subject(sh, kind, &args) {
        Ok(s) => s,
        Err(msg) => return Outcome::Result(tool_result(Err(msg))),
    };
    if !has_capability(client_capabilities(params), kind) {
        sh.count(&format!(
            "mcp:rejected:{MISSING_REQUIRED_CLIENT_CAPABILITY}"
        ));
        let err = RpcError::new(
            MISSING_REQUIRED_CLIENT_CAPABILITY,
            format!(
                "Missing required client capability: {} needs {}",
                tool.name,
                match kind {
                    InputKind::Elicitation => "elicitation (form)",
                    InputKind::Sampling => "sampling",
                    InputKind::Roots => "roots",
                }
            ),
        )
        .with_data(json!({"requiredCapabilities": required_capability(kind)}));
        return Outcome::Http(json_response(StatusCode::BAD_REQUEST, err.body(id.clone())));
    }
    // The arguments as a digest of their canonical JSON (serde_json sorts object keys), so a
    // kept state is small whatever the call's size.
    let canonical: String = Sha256::digest(Value::Object(args).to_string().as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let key = key_of(kind);
    match params.get("requestState") {
        None | Some(Value::Null) => {}
        Some(Value::String(state)) => {
            let now = sh.now_ms();
            let valid = {
                let states = lock(&sh.input_states);
                states.get(state).is_some_and(|s| {
                    s.user_id == caller.user_id
                        && s.tool == tool.name
                        && s.args == canonical
                        && s.expires_at_ms > now
                })
            };
            if !valid {
                sh.count("mcp:input_state_rejected");
                return Outcome::Error(RpcError::new(
                    -32602,
                    "Invalid params: requestState is unknown, expired, already used, or belongs to another request",
                ));
            }
            if let Some(answer) = params.get("inputResponses").and_then(|r| r.get(key)) {
                let done = finish(kind, &subject, answer);
                if done.is_ok() {
                    lock(&sh.input_states).remove(state);
                    sh.count("mcp:input_completed");
                }
                return done.into();
            }
            // The answer is missing: ask again (mrtr.mdx: rather than an error).
            lock(&sh.input_states).remove(state);
        }
        Some(_) => {
            return Outcome::Error(RpcError::new(
                -32602,
                "Invalid params: requestState must be a string",
            ))
        }
    }
    let state = new_state(sh, caller, tool.name, &canonical);
    let (method, p) = request_params(kind, &subject, true);
    sh.count("mcp:input_required");
    Outcome::Result(json!({
        "resultType": "input_required",
        "inputRequests": {key: {"method": method, "params": p}},
        "requestState": state,
    }))
}

/// Forwards a client's POSTed JSON-RPC response to the waiting legacy tool call.
pub(crate) fn deliver_response(
    sh: &Shared,
    session_id: &str,
    id: Option<&Value>,
    message: &Map<String, Value>,
) {
    let Some(key) = id.map(|i| match i {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }) else {
        return;
    };
    let mut pending = lock(&sh.pending_requests);
    if pending.get(&key).is_some_and(|(sid, _)| sid == session_id) {
        if let Some((_, tx)) = pending.remove(&key) {
            sh.count("mcp:client_response");
            let _ = tx.send(Value::Object(message.clone()));
        }
    }
}

/// Removes a pending legacy request when its tool call ends (answered, timed out or the
/// client went away).
struct PendingGuard {
    sh: Arc<Shared>,
    key: String,
}

impl Drop for PendingGuard {
    fn drop(&mut self) {
        lock(&self.sh.pending_requests).remove(&self.key);
    }
}

/// A legacy `tools/call` of an input tool: an SSE stream carrying the server's own request,
/// then (after the client's POSTed answer, or the timeout) the call's response.
pub(crate) async fn legacy_call(
    sh: Arc<Shared>,
    caller: &Caller,
    session_id: &str,
    version: &str,
    id: Value,
    params: &Value,
) -> Resp {
    let plain = |message: Value| json_response(StatusCode::OK, message);
    let ok = |id: &Value, result: Value| json!({"jsonrpc": "2.0", "id": id, "result": result});
    let tool = match find_tool(caller, params) {
        Ok(t) => t,
        Err(e) => return plain(e.body(id)),
    };
    if let Err(o) = authorize_tool(&sh, caller, tool, &id) {
        return match o {
            Outcome::Http(r) => r,
            Outcome::Error(e) => plain(e.body(id)),
            Outcome::Result(r) => plain(ok(&id, r)),
        };
    }
    let Some(kind) = tools::input_kind(tool.name) else {
        return plain(RpcError::new(-32603, "not an input tool").body(id));
    };
    let args = match call_args(params) {
        Ok(a) => a,
        Err(e) => return plain(e.body(id)),
    };
    let subject = match subject(&sh, kind, &args) {
        Ok(s) => s,
        Err(msg) => return plain(ok(&id, tool_result(Err(msg)))),
    };
    let caps = sh
        .store()
        .sessions
        .get(session_id)
        .map(|s| s.capabilities.clone())
        .unwrap_or(Value::Null);
    if !has_capability(&caps, kind) {
        return plain(ok(
            &id,
            tool_result(Err(format!(
                "{} needs the client's {} capability (declare it in initialize)",
                tool.name,
                match kind {
                    InputKind::Elicitation => "elicitation",
                    InputKind::Sampling => "sampling",
                    InputKind::Roots => "roots",
                }
            ))),
        ));
    }
    let request_id = format!("wbsim-{}", sh.next_id.fetch_add(1, Ordering::SeqCst));
    let (tx, rx) = tokio::sync::oneshot::channel::<Value>();
    {
        let mut pending = lock(&sh.pending_requests);
        if pending.len() >= MAX_PENDING_REQUESTS {
            return plain(ok(
                &id,
                tool_result(Err("too many tool calls wait for client input".to_string())),
            ));
        }
        pending.insert(request_id.clone(), (session_id.to_string(), tx));
    }
    let guard = PendingGuard {
        sh: sh.clone(),
        key: request_id.clone(),
    };
    let (method, p) = request_params(kind, &subject, version == "2025-11-25");
    sh.count(&format!("mcp:server_request:{method}"));
    let request = json!({"jsonrpc": "2.0", "id": request_id, "method": method, "params": p});
    let n = next_stream(&sh);
    let head = vec![
        Ok::<Bytes, std::io::Error>(Bytes::from(priming(&format!("{n}-0")))),
        Ok(Bytes::from(sse_event(
            &format!("{n}-1"),
            &request.to_string(),
        ))),
    ];
    let timeout = sh.input_timeout;
    let counter = sh.clone();
    let tail = stream::once(async move {
        let _guard = guard;
        let message = match tokio::time::timeout(timeout, rx).await {
            Ok(Ok(answer)) => match answer.get("result") {
                Some(result) => match finish(kind, &subject, result) {
                    Ok(r) => json!({"jsonrpc": "2.0", "id": id, "result": r}),
                    Err(e) => e.body(id),
                },
                None => {
                    let reason = answer
                        .get("error")
                        .and_then(|e| e.get("message"))
                        .and_then(Value::as_str)
                        .unwrap_or("an error");
                    json!({"jsonrpc": "2.0", "id": id, "result": tool_result(Err(format!(
                        "the client answered {method} with {}", shown(reason))))})
                }
            },
            _ => {
                counter.count("mcp:server_request_timeout");
                json!({"jsonrpc": "2.0", "id": id, "result": tool_result(Err(format!(
                    "no answer to {method} within {} ms", timeout.as_millis())))})
            }
        };
        Ok(Bytes::from(sse_event(
            &format!("{n}-2"),
            &message.to_string(),
        )))
    });
    sse_response(Body::from_stream(stream::iter(head).chain(tail)))
}
