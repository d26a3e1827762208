//! Change notifications: modern `subscriptions/listen` streams
//! (basic/patterns/subscriptions.mdx) and the legacy `resources/subscribe` + `GET` stream.

use std::collections::BTreeSet;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::http::StatusCode;
use futures_util::stream;
use serde_json::{json, Value};
use tokio::sync::broadcast::error::RecvError;
use tokio::time::{Instant, Interval};

use crate::mcp::{
    next_stream, priming, sse_event, sse_response, Caller, Outcome, Resp, RpcError,
    MAX_SESSION_SUBSCRIPTIONS,
};
use crate::modern::finish_result;
use crate::server::json_response;
use crate::state::{Change, Shared};

/// `subscriptions/listen` streams open at once.
pub const MAX_LISTENERS: usize = 16;
/// Resource URIs one listen request may name.
const MAX_URIS: usize = 64;
const MAX_URI_LEN: usize = 512;
const SUBSCRIPTION_ID: &str = "io.modelcontextprotocol/subscriptionId";

#[derive(Debug, Clone, Default)]
struct Filter {
    tools: bool,
    prompts: bool,
    resources: bool,
    uris: BTreeSet<String>,
}

impl Filter {
    fn parse(v: Option<&Value>) -> Result<Filter, RpcError> {
        let bad = |m: &str| RpcError::new(-32602, format!("Invalid params: {m}"));
        let Some(v) = v.filter(|v| !v.is_null()) else {
            return Ok(Filter::default());
        };
        let Some(o) = v.as_object() else {
            return Err(bad("notifications must be an object"));
        };
        let flag = |k: &str| match o.get(k) {
            None | Some(Value::Null) => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(_) => Err(bad(&format!("notifications.{k} must be a boolean"))),
        };
        let mut uris = BTreeSet::new();
        match o.get("resourceSubscriptions") {
            None | Some(Value::Null) => {}
            Some(Value::Array(a)) => {
                if a.len() > MAX_URIS {
                    return Err(bad(&format!(
                        "at most {MAX_URIS} resourceSubscriptions per listen request"
                    )));
                }
                for u in a {
                    match u.as_str() {
                        Some(s) if !s.is_empty() && s.len() <= MAX_URI_LEN => {
                            uris.insert(s.to_string());
                        }
                        _ => {
                            return Err(bad(&format!(
                                "resourceSubscriptions must be URIs of 1..{MAX_URI_LEN} bytes"
                            )))
                        }
                    }
                }
            }
            Some(_) => return Err(bad("notifications.resourceSubscriptions must be an array")),
        }
        Ok(Filter {
            tools: flag("toolsListChanged")?,
            prompts: flag("promptsListChanged")?,
            resources: flag("resourcesListChanged")?,
            uris,
        })
    }

    fn to_json(&self) -> Value {
        let mut o = serde_json::Map::new();
        if self.tools {
            o.insert("toolsListChanged".into(), json!(true));
        }
        if self.prompts {
            o.insert("promptsListChanged".into(), json!(true));
        }
        if self.resources {
            o.insert("resourcesListChanged".into(), json!(true));
        }
        if !self.uris.is_empty() {
            o.insert("resourceSubscriptions".into(), json!(self.uris));
        }
        Value::Object(o)
    }

    /// The notification (method, params) for a change, if this filter wants it.
    fn notification(&self, change: &Change) -> Option<(&'static str, Value)> {
        match change {
            Change::ToolsList if self.tools => {
                Some(("notifications/tools/list_changed", json!({})))
            }
            Change::PromptsList if self.prompts => {
                Some(("notifications/prompts/list_changed", json!({})))
            }
            Change::ResourcesList if self.resources => {
                Some(("notifications/resources/list_changed", json!({})))
            }
            Change::ResourceUpdated(uri) if self.uris.contains(uri) => {
                Some(("notifications/resources/updated", json!({"uri": uri})))
            }
            _ => None,
        }
    }
}

/// Decrements the listener count when a listen stream ends.
struct ListenGuard(Arc<Shared>);

impl Drop for ListenGuard {
    fn drop(&mut self) {
        self.0.listeners.fetch_sub(1, Ordering::SeqCst);
        self.0.count("mcp:listen:closed");
    }
}

struct Listen {
    id: Value,
    filter: Filter,
    rx: tokio::sync::broadcast::Receiver<Change>,
    keepalive: Interval,
    deadline: Instant,
    acked: bool,
    done: bool,
    _guard: ListenGuard,
}

fn with_subscription(id: &Value, method: &str, mut params: Value) -> String {
    if let Some(o) = params.as_object_mut() {
        o.insert("_meta".into(), json!({ SUBSCRIPTION_ID: id }));
    }
    let n = json!({"jsonrpc": "2.0", "method": method, "params": params});
    format!("event: message\ndata: {n}\n\n")
}

/// `subscriptions/listen`: an SSE stream whatever the response mode (acknowledgment first,
/// then the opted-in notifications tagged with the subscription id, keep-alive comments, and
/// after [`crate::SimConfig::listen_max`] the graceful closing response).
pub(crate) fn listen(sh: Arc<Shared>, _caller: &Caller, id: Value, params: &Value) -> Resp {
    let filter = match Filter::parse(params.get("notifications")) {
        Ok(f) => f,
        Err(e) => return json_response(StatusCode::OK, e.body(id)),
    };
    if sh.listeners.fetch_add(1, Ordering::SeqCst) >= MAX_LISTENERS {
        sh.listeners.fetch_sub(1, Ordering::SeqCst);
        sh.count("mcp:listen:refused");
        let e = RpcError::new(
            -32603,
            format!("Too many open subscriptions (at most {MAX_LISTENERS}); close one and retry"),
        );
        return json_response(StatusCode::OK, e.body(id));
    }
    sh.count("mcp:listen:open");
    let state = Listen {
        id,
        filter,
        rx: sh.changes.subscribe(),
        keepalive: tokio::time::interval_at(Instant::now() + sh.keepalive, sh.keepalive),
        deadline: Instant::now() + sh.listen_max,
        acked: false,
        done: false,
        _guard: ListenGuard(sh.clone()),
    };
    let body = stream::unfold(state, |mut st| async move {
        if st.done {
            return None;
        }
        if !st.acked {
            st.acked = true;
            let ack = with_subscription(
                &st.id,
                "notifications/subscriptions/acknowledged",
                json!({"notifications": st.filter.to_json()}),
            );
            return Some((Ok::<Bytes, std::io::Error>(Bytes::from(ack)), st));
        }
        loop {
            tokio::select! {
                change = st.rx.recv() => match change {
                    Ok(c) => {
                        if let Some((method, params)) = st.filter.notification(&c) {
                            let ev = with_subscription(&st.id, method, params);
                            return Some((Ok(Bytes::from(ev)), st));
                        }
                    }
                    Err(RecvError::Lagged(_)) => {}
                    Err(RecvError::Closed) => return None,
                },
                _ = st.keepalive.tick() => {
                    return Some((Ok(Bytes::from_static(b":\n\n")), st));
                }
                _ = tokio::time::sleep_until(st.deadline) => {
                    st.done = true;
                    let result = finish_result(
                        "subscriptions/listen",
                        json!({"_meta": {SUBSCRIPTION_ID: st.id}}),
                    );
                    let msg = json!({"jsonrpc": "2.0", "id": st.id, "result": result});
                    return Some((Ok(Bytes::from(format!("event: message\ndata: {msg}\n\n"))), st));
                }
            }
        }
    });
    sse_response(Body::from_stream(body))
}

/// Legacy `resources/subscribe` / `resources/unsubscribe`.
pub(crate) fn legacy_subscribe(
    sh: &Shared,
    session_id: &str,
    subscribe: bool,
    params: &Value,
) -> Outcome {
    let uri = match params.get("uri").and_then(Value::as_str) {
        Some(u) if !u.is_empty() && u.len() <= MAX_URI_LEN => u.to_string(),
        _ => {
            return Outcome::Error(RpcError::new(
                -32602,
                format!("Invalid params: uri (1..{MAX_URI_LEN} bytes) is required"),
            ))
        }
    };
    let mut store = sh.store();
    let Some(s) = store.sessions.get_mut(session_id) else {
        return Outcome::Error(RpcError::new(-32001, "Session not found"));
    };
    if subscribe {
        if s.subscriptions.len() >= MAX_SESSION_SUBSCRIPTIONS && !s.subscriptions.contains(&uri) {
            return Outcome::Error(RpcError::new(
                -32602,
                format!(
                    "Invalid params: at most {MAX_SESSION_SUBSCRIPTIONS} subscriptions per session"
                ),
            ));
        }
        s.subscriptions.insert(uri);
    } else {
        s.subscriptions.remove(&uri);
    }
    Outcome::Result(json!({}))
}

struct LegacyStream {
    sh: Arc<Shared>,
    session_id: String,
    n: u64,
    seq: u64,
    primed: bool,
    changes: tokio::sync::broadcast::Receiver<Change>,
    sessions: tokio::sync::watch::Receiver<u64>,
    keepalive: Interval,
}

/// The standalone `GET` stream of a legacy session: priming event, then list-changed
/// notifications and `notifications/resources/updated` for subscribed URIs, keep-alive
/// comments; ends with the session.
pub(crate) fn legacy_get_stream(sh: Arc<Shared>, session_id: String) -> Resp {
    let n = next_stream(&sh);
    let st = LegacyStream {
        changes: sh.changes.subscribe(),
        sessions: sh.sessions_epoch.subscribe(),
        keepalive: tokio::time::interval_at(Instant::now() + sh.keepalive, sh.keepalive),
        sh,
        session_id,
        n,
        seq: 0,
        primed: false,
    };
    // Counted once the stream receives changes (tests wait for it before notifying).
    st.sh.count("mcp:get_stream:open");
    let body = stream::unfold(st, |mut st| async move {
        if !st.primed {
            st.primed = true;
            let first = Bytes::from(priming(&format!("{}-0", st.n)));
            return Some((Ok::<Bytes, std::io::Error>(first), st));
        }
        loop {
            tokio::select! {
                changed = st.sessions.changed() => {
                    if changed.is_err() || !st.sh.store().sessions.contains_key(&st.session_id) {
                        return None;
                    }
                }
                change = st.changes.recv() => match change {
                    Ok(c) => {
                        let msg = match &c {
                            Change::ToolsList => Some(("notifications/tools/list_changed", json!({}))),
                            Change::PromptsList => Some(("notifications/prompts/list_changed", json!({}))),
                            Change::ResourcesList => Some(("notifications/resources/list_changed", json!({}))),
                            Change::ResourceUpdated(uri) => {
                                let subscribed = st.sh.store().sessions.get(&st.session_id)
                                    .is_some_and(|s| s.subscriptions.contains(uri));
                                subscribed.then(|| ("notifications/resources/updated", json!({"uri": uri})))
                            }
                        };
                        if let Some((method, params)) = msg {
                            st.seq += 1;
                            let n = json!({"jsonrpc": "2.0", "method": method, "params": params});
                            let ev = sse_event(&format!("{}-{}", st.n, st.seq), &n.to_string());
                            return Some((Ok(Bytes::from(ev)), st));
                        }
                    }
                    Err(RecvError::Lagged(_)) => {}
                    Err(RecvError::Closed) => return None,
                },
                _ = st.keepalive.tick() => {
                    return Some((Ok(Bytes::from_static(b":\n\n")), st));
                }
            }
        }
    });
    sse_response(Body::from_stream(body))
}
