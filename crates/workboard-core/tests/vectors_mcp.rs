//! Replays `tests/vectors/mcp_*.json` (the MCP connection) through [`Connection`] + `drive`.
//!
//! Ops (documented in tests/vectors/README.md):
//! - `connect` {server_url, token} (personal token) or {server_url, access_token,
//!   refresh_token, expires_at_ms, token_endpoint, client_id} (OAuth, refreshable through a
//!   public-client `AuthContext` whose `resource` is `server_url`) → {}. No request; the
//!   client info is `workboard-vectors` `1.0`.
//! - `list_tools` {} → {names}
//! - `call_tool` {name, arguments} → {is_error, text, structured}
//! - `ping` {} → {}
//! - `discover` {} → {modern, supported_versions, protocol_version, server_info, capabilities}
//! - `list_resources` {} → {uris}; `list_resource_templates` {} → {uri_templates}
//! - `read_resource` {uri} → {contents: [{uri, mime_type, text, blob}]}
//! - `list_prompts` {} → {names}
//! - `get_prompt` {name, arguments} → {description, messages: [{role, content}]}
//! - `complete` {ref, argument, value, context} → {values, total, has_more}
//! - `subscribe` {filter: {tools_list_changed, prompts_list_changed, resources_list_changed,
//!   resource_subscriptions}} → {notifications: [{method, params}]} (until it ends)
//! - `request` {method, params} → {result}
//! - `close` {} → {}
//!
//! `connect`'s optional `input` ({elicitation?, elicitation_url?, sampling?, roots?}: the
//! answer each handler gives) declares those capabilities; every request for input of a kind
//! (an MRTR round or a legacy server's request) is answered with its answer.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod mcp_common;
mod support;

use serde_json::{json, Value};
use support::{block_on, replay_all, Ctx, Step};
use workboard_core::connection::{
    CallHandle, CallOutput, Connection, ConnectionConfig, ConnectionEvent, InputRequest,
    SubscriptionFilter,
};
use workboard_core::mcp::jsonrpc::{ClientCapabilities, Implementation};
use workboard_core::mcp::surface::CompletionRef;
use workboard_core::{Credentials, Dialect, Error, ErrorInfo, TokenSet};

#[derive(Default)]
struct State {
    conn: Option<Connection>,
    /// `connect`'s `input`: the answer of each input handler, by kind.
    input: serde_json::Map<String, Value>,
}

/// The handler kind (a key of `connect`'s `input`) of a request for input.
fn input_kind(r: &InputRequest) -> &'static str {
    match r.method.as_str() {
        "elicitation/create" if r.params.get("mode").and_then(Value::as_str) == Some("url") => {
            "elicitation_url"
        }
        "elicitation/create" => "elicitation",
        "sampling/createMessage" => "sampling",
        _ => "roots",
    }
}

fn s<'a>(step: &'a Step, name: &str) -> Option<&'a str> {
    step.args.get(name).and_then(Value::as_str)
}

/// Drives `conn` until nothing is left to do, answering each request for input from `input`
/// as soon as it is asked (as an app's handler would); returns the notifications of call `h`.
fn settle(
    conn: &mut Connection,
    ctx: &mut Ctx,
    input: &serde_json::Map<String, Value>,
    h: CallHandle,
) -> Vec<Value> {
    let mut notes = Vec::new();
    let answer = |r: &InputRequest| input.get(input_kind(r)).cloned();
    let inbox = futures_util::stream::empty::<fn(&mut Connection)>();
    block_on(workboard_core::driver::run(
        conn,
        &ctx.transport,
        &ctx.clock,
        inbox,
        |conn| {
            while let Some(e) = conn.poll_event() {
                match e {
                    ConnectionEvent::InputRequired { call, requests } => {
                        let answers = requests
                            .iter()
                            .map(|r| (r.key.clone(), answer(r).unwrap_or(Value::Null)))
                            .collect();
                        // A refusal leaves the call failed: its result shows it.
                        let _ = conn.provide_input(call, answers);
                    }
                    ConnectionEvent::ServerRequest {
                        request_id,
                        request,
                    } => {
                        let a = answer(&request).ok_or((-32601, "no handler".to_string()));
                        conn.answer_server_request(&request_id, a);
                    }
                    ConnectionEvent::CallNotification {
                        call,
                        method,
                        params,
                    } if call == h => notes.push(json!({"method": method, "params": params})),
                    _ => {}
                }
            }
        },
    ));
    notes
}

fn run(
    conn: &mut Connection,
    ctx: &mut Ctx,
    input: &serde_json::Map<String, Value>,
    h: CallHandle,
) -> Result<CallOutput, ErrorInfo> {
    settle(conn, ctx, input, h);
    result(conn, h)
}

fn result(conn: &mut Connection, h: CallHandle) -> Result<CallOutput, ErrorInfo> {
    match conn.poll_result(h) {
        Some(r) => r.map_err(|e| e.info()),
        None => Err(Error::WrongState {
            action: "finish".into(),
            state: "call still pending".into(),
        }
        .info()),
    }
}

fn run_op(state: &mut State, ctx: &mut Ctx, step: &Step) -> Result<Value, ErrorInfo> {
    let now = workboard_core::Clock::now_ms(&ctx.clock);
    if step.op == "connect" {
        let url = s(step, "server_url").unwrap_or_default();
        let mut config =
            ConnectionConfig::new(url).client_info(Implementation::new("workboard-vectors", "1.0"));
        if let Some(t) = s(step, "token") {
            config = config.credentials(Credentials::personal(t));
        } else if let Some(at) = s(step, "access_token") {
            config = config.credentials(Credentials::OAuth(TokenSet {
                access_token: at.into(),
                refresh_token: s(step, "refresh_token").map(Into::into),
                token_type: "Bearer".into(),
                scope: None,
                issued_at_ms: now,
                expires_at_ms: step.args.get("expires_at_ms").and_then(Value::as_u64),
                dialect: Dialect::OAuth2,
                bound_to: None,
            }));
            let mut auth = mcp_common::auth_context();
            auth.server_url = url.into();
            auth.resource = url.into();
            auth.token_endpoint = s(step, "token_endpoint").unwrap_or_default().into();
            auth.client_id = s(step, "client_id").unwrap_or_default().into();
            config = config.auth(auth);
        }
        state.input = step
            .args
            .get("input")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let has = |k: &str| state.input.contains_key(k);
        config.capabilities = ClientCapabilities {
            elicitation_form: has("elicitation"),
            elicitation_url: has("elicitation_url"),
            sampling: has("sampling"),
            roots: has("roots"),
        };
        state.conn = Some(Connection::new(config).map_err(|e| e.info())?);
        return Ok(json!({}));
    }
    let input = &state.input;
    let run = |conn: &mut Connection, ctx: &mut Ctx, h| run(conn, ctx, input, h);
    let Some(conn) = state.conn.as_mut() else {
        return Err(Error::WrongState {
            action: step.op.clone(),
            state: "not connected".into(),
        }
        .info());
    };
    match step.op.as_str() {
        "list_tools" => {
            let h = conn.list_tools(now);
            match run(conn, ctx, h)? {
                CallOutput::Tools(t) => {
                    Ok(json!({ "names": t.iter().map(|t| t.name.clone()).collect::<Vec<_>>() }))
                }
                other => panic!("unexpected {other:?}"),
            }
        }
        "call_tool" => {
            let name = s(step, "name").unwrap_or_default();
            let args = step.args.get("arguments").cloned().unwrap_or(Value::Null);
            let h = conn.call_tool(name, args, now);
            match run(conn, ctx, h)? {
                CallOutput::ToolResult(r) => Ok(
                    json!({ "is_error": r.is_error, "text": r.text(), "structured": r.structured_content }),
                ),
                other => panic!("unexpected {other:?}"),
            }
        }
        "ping" => {
            let h = conn.ping(now);
            run(conn, ctx, h).map(|_| json!({}))
        }
        "discover" => {
            let h = conn.discover(now);
            match run(conn, ctx, h)? {
                CallOutput::Discovered(d) => Ok(json!({
                    "modern": d.modern,
                    "supported_versions": d.supported_versions,
                    "protocol_version": d.protocol_version,
                    "server_info": d.server_info.map(|i| json!({"name": i.name, "version": i.version})),
                    "capabilities": d.capabilities,
                })),
                other => panic!("unexpected {other:?}"),
            }
        }
        "list_resources" => {
            let h = conn.list_resources(now);
            match run(conn, ctx, h)? {
                CallOutput::Resources(r) => {
                    Ok(json!({ "uris": r.into_iter().map(|r| r.uri).collect::<Vec<_>>() }))
                }
                other => panic!("unexpected {other:?}"),
            }
        }
        "list_resource_templates" => {
            let h = conn.list_resource_templates(now);
            match run(conn, ctx, h)? {
                CallOutput::ResourceTemplates(t) => Ok(json!({
                    "uri_templates": t.into_iter().map(|t| t.uri_template).collect::<Vec<_>>()
                })),
                other => panic!("unexpected {other:?}"),
            }
        }
        "read_resource" => {
            let h = conn.read_resource(s(step, "uri").unwrap_or_default(), now);
            match run(conn, ctx, h)? {
                CallOutput::Contents(c) => Ok(json!({ "contents": c.into_iter().map(|c| json!({
                    "uri": c.uri, "mime_type": c.mime_type, "text": c.text, "blob": c.blob,
                })).collect::<Vec<_>>() })),
                other => panic!("unexpected {other:?}"),
            }
        }
        "list_prompts" => {
            let h = conn.list_prompts(now);
            match run(conn, ctx, h)? {
                CallOutput::Prompts(p) => {
                    Ok(json!({ "names": p.into_iter().map(|p| p.name).collect::<Vec<_>>() }))
                }
                other => panic!("unexpected {other:?}"),
            }
        }
        "get_prompt" => {
            let name = s(step, "name").unwrap_or_default();
            let args = step.args.get("arguments").cloned().unwrap_or(Value::Null);
            let h = conn.get_prompt(name, args, now);
            match run(conn, ctx, h)? {
                CallOutput::Prompt(p) => Ok(json!({
                    "description": p.description,
                    "messages": p.messages.into_iter().map(|m| json!({
                        "role": m.role, "content": m.content,
                    })).collect::<Vec<_>>(),
                })),
                other => panic!("unexpected {other:?}"),
            }
        }
        "complete" => {
            let r = &step.args["ref"];
            let field = |k: &str| {
                r.get(k)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string()
            };
            let reference = match r.get("type").and_then(Value::as_str) {
                Some("ref/prompt") => CompletionRef::Prompt(field("name")),
                _ => CompletionRef::ResourceTemplate(field("uri")),
            };
            let context = step.args.get("context").cloned().unwrap_or(Value::Null);
            let (argument, value) = (s(step, "argument"), s(step, "value"));
            let h = conn.complete(
                reference,
                argument.unwrap_or_default(),
                value.unwrap_or_default(),
                context,
                now,
            );
            match run(conn, ctx, h)? {
                CallOutput::Completion(c) => Ok(json!({
                    "values": c.values, "total": c.total, "has_more": c.has_more,
                })),
                other => panic!("unexpected {other:?}"),
            }
        }
        "subscribe" => {
            let f = &step.args["filter"];
            let flag = |k: &str| f.get(k).and_then(Value::as_bool).unwrap_or(false);
            let filter = SubscriptionFilter {
                tools_list_changed: flag("tools_list_changed"),
                prompts_list_changed: flag("prompts_list_changed"),
                resources_list_changed: flag("resources_list_changed"),
                resource_subscriptions: f
                    .get("resource_subscriptions")
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(Value::as_str)
                            .map(String::from)
                            .collect()
                    })
                    .unwrap_or_default(),
            };
            let h = conn.subscribe(filter, now);
            let notifications = settle(conn, ctx, input, h);
            match result(conn, h)? {
                CallOutput::SubscriptionEnded { .. } => {
                    Ok(json!({ "notifications": notifications }))
                }
                other => panic!("unexpected {other:?}"),
            }
        }
        "request" => {
            let method = s(step, "method").unwrap_or_default();
            let params = step.args.get("params").cloned().unwrap_or(Value::Null);
            let h = conn.request(method, params, now);
            match run(conn, ctx, h)? {
                CallOutput::Raw(v) => Ok(json!({ "result": v })),
                other => panic!("unexpected {other:?}"),
            }
        }
        "close" => {
            let h = conn.close();
            run(conn, ctx, h).map(|_| json!({}))
        }
        other => panic!("unknown op {other}"),
    }
}

#[test]
fn mcp_vectors_replay() {
    let n = replay_all("mcp_", run_op);
    assert!(n >= 5, "{n} vectors");
}
