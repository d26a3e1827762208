//! Tools that need client input: multi round-trip requests (modern era) and server-initiated
//! requests on the call's SSE stream (legacy sessions).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::*;
use reqwest::StatusCode;
use serde_json::{json, Value};
use workboard_sim::{SimConfig, SimHandle, DEMO_PERSONAL_TOKEN};

const T: &str = DEMO_PERSONAL_TOKEN;

/// A conforming modern tools/call with these capabilities and extra params.
async fn tool_call(
    sim: &SimHandle,
    token: &str,
    id: u64,
    caps: Value,
    params: Value,
) -> (StatusCode, Value) {
    let body = json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": with_meta(params, caps)});
    modern_extra(sim, token, &body, &[]).await
}

fn check_in(kr: u64) -> Value {
    json!({"name": "draft_check_in", "arguments": {"key_result_id": kr}})
}

fn retry(mut params: Value, state: &str, responses: Value) -> Value {
    params["requestState"] = json!(state);
    params["inputResponses"] = responses;
    params
}

#[tokio::test]
async fn elicitation_round_trip_completes_on_a_retry_with_the_exact_state() {
    let sim = start(SimConfig::default()).await;
    let caps = json!({"elicitation": {}});
    let (s, m) = tool_call(&sim, T, 1, caps.clone(), check_in(401)).await;
    assert_eq!(s, StatusCode::OK);
    let r = &m["result"];
    assert_eq!(r["resultType"], "input_required");
    assert!(r.get("ttlMs").is_none() && r.get("cacheScope").is_none());
    let req = &r["inputRequests"]["check_in"];
    assert_eq!(req["method"], "elicitation/create");
    assert_eq!(req["params"]["mode"], "form");
    assert_eq!(
        req["params"]["requestedSchema"]["required"],
        json!(["confidence"])
    );
    assert!(req["params"]["message"]
        .as_str()
        .unwrap()
        .contains("API availability"));
    let state = r["requestState"].as_str().unwrap().to_string();

    // A retry with the answer under the same key and the exact state completes.
    let answer =
        json!({"check_in": {"action": "accept", "content": {"confidence": 7, "note": "on track"}}});
    let (s, m) = tool_call(
        &sim,
        T,
        2,
        caps.clone(),
        retry(check_in(401), &state, answer.clone()),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(m["id"], 2);
    let r = &m["result"];
    assert_eq!(r["resultType"], "complete");
    assert_eq!(r["isError"], false);
    assert_eq!(r["structuredContent"]["confidence"], 7);
    assert_eq!(r["structuredContent"]["note"], "on track");
    // The state is consumed.
    let (_, m) = tool_call(
        &sim,
        T,
        3,
        caps.clone(),
        retry(check_in(401), &state, answer.clone()),
    )
    .await;
    assert_eq!(m["error"]["code"], -32602);

    // A new round: a tampered state, a state replayed on other arguments: rejected.
    let (_, m) = tool_call(&sim, T, 4, caps.clone(), check_in(402)).await;
    let state = m["result"]["requestState"].as_str().unwrap().to_string();
    let (_, m) = tool_call(
        &sim,
        T,
        5,
        caps.clone(),
        retry(check_in(402), &format!("{state}x"), answer.clone()),
    )
    .await;
    assert_eq!(m["error"]["code"], -32602);
    let (_, m) = tool_call(
        &sim,
        T,
        6,
        caps.clone(),
        retry(check_in(401), &state, answer.clone()),
    )
    .await;
    assert_eq!(m["error"]["code"], -32602);
    // A retry without the answer asks again, with a new state.
    let (_, m) = tool_call(
        &sim,
        T,
        7,
        caps.clone(),
        retry(check_in(402), &state, json!({})),
    )
    .await;
    assert_eq!(m["result"]["resultType"], "input_required");
    let again = m["result"]["requestState"].as_str().unwrap().to_string();
    assert_ne!(again, state);
    // A malformed answer is a protocol error, and the state stays usable.
    let (_, m) = tool_call(
        &sim,
        T,
        8,
        caps.clone(),
        retry(
            check_in(402),
            &again,
            json!({"check_in": {"action": "accept", "content": {"confidence": 11}}}),
        ),
    )
    .await;
    assert_eq!(m["error"]["code"], -32602);
    let (_, m) = tool_call(
        &sim,
        T,
        9,
        caps.clone(),
        retry(
            check_in(402),
            &again,
            json!({"check_in": {"action": "decline"}}),
        ),
    )
    .await;
    assert_eq!(m["result"]["structuredContent"]["drafted"], false);
    assert_eq!(m["result"]["structuredContent"]["action"], "decline");

    let c = sim.counters();
    assert_eq!(c.get("mcp:input_required"), 3);
    assert_eq!(c.get("mcp:input_completed"), 2);
}

#[tokio::test]
async fn input_requests_need_the_declared_client_capability() {
    let sim = start(SimConfig::default()).await;
    for caps in [
        json!({}),
        json!({"elicitation": {"url": {}}}),
        json!({"sampling": {}}),
    ] {
        let (s, m) = tool_call(&sim, T, 1, caps.clone(), check_in(401)).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{caps}");
        assert_eq!(m["error"]["code"], -32021);
        assert!(m["error"]["data"]["requiredCapabilities"]["elicitation"].is_object());
    }
    let (s, _) = tool_call(
        &sim,
        T,
        2,
        json!({"elicitation": {"form": {}, "url": {}}}),
        check_in(401),
    )
    .await;
    assert_eq!(s, StatusCode::OK);

    // Sampling.
    let suggest = json!({"name": "suggest_key_result", "arguments": {"objective_id": 304}});
    let (s, m) = tool_call(&sim, T, 3, json!({"elicitation": {}}), suggest.clone()).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(m["error"]["data"]["requiredCapabilities"]["sampling"].is_object());
    let (_, m) = tool_call(&sim, T, 4, json!({"sampling": {}}), suggest.clone()).await;
    let req = &m["result"]["inputRequests"]["suggestion"];
    assert_eq!(req["method"], "sampling/createMessage");
    assert!(req["params"]["maxTokens"].is_u64());
    let state = m["result"]["requestState"].as_str().unwrap().to_string();
    let answer = json!({"suggestion": {"role": "assistant", "content": {"type": "text", "text": "Cut onboarding to 2 days"}, "model": "test-llm", "stopReason": "endTurn"}});
    let (_, m) = tool_call(
        &sim,
        T,
        5,
        json!({"sampling": {}}),
        retry(suggest, &state, answer),
    )
    .await;
    assert_eq!(
        m["result"]["structuredContent"]["suggestion"],
        "Cut onboarding to 2 days"
    );
    assert_eq!(m["result"]["structuredContent"]["model"], "test-llm");
    // Bad arguments are a tool error before any input is asked for.
    let (_, m) = tool_call(&sim, T, 6, json!({"elicitation": {}}), check_in(999)).await;
    assert_eq!(m["result"]["isError"], true);
    assert_eq!(sim.counters().get("mcp:rejected:-32021"), 4);
}

#[tokio::test]
async fn request_state_is_bound_to_the_user_and_expires() {
    let sim = start(SimConfig::default()).await;
    let caps = json!({"elicitation": {}});
    let answer = json!({"check_in": {"action": "accept", "content": {"confidence": 5}}});
    let (_, m) = tool_call(&sim, T, 1, caps.clone(), check_in(401)).await;
    let state = m["result"]["requestState"].as_str().unwrap().to_string();
    let grace = sim.issue_personal_token("grace@example.com", workboard_sim::Role::Member);
    let (_, m) = tool_call(
        &sim,
        &grace,
        2,
        caps.clone(),
        retry(check_in(401), &state, answer.clone()),
    )
    .await;
    assert_eq!(m["error"]["code"], -32602, "another user's state");
    sim.advance_clock(Duration::from_millis(workboard_sim::INPUT_STATE_TTL_MS + 1));
    let (_, m) = tool_call(
        &sim,
        T,
        3,
        caps.clone(),
        retry(check_in(401), &state, answer),
    )
    .await;
    assert_eq!(m["error"]["code"], -32602, "expired");
    assert_eq!(sim.counters().get("mcp:input_state_rejected"), 2);
}

/// initialize with these capabilities; returns the session id.
async fn session_with(sim: &SimHandle, version: &str, caps: Value) -> String {
    let r = mcp_raw(
        sim,
        T,
        None,
        &json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": version, "capabilities": caps, "clientInfo": {"name": "t", "version": "0"}}}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    header(r.headers(), "mcp-session-id")
}

#[tokio::test]
async fn legacy_sessions_get_a_server_request_on_the_call_stream() {
    let sim = start(SimConfig::default()).await;
    let sid = session_with(
        &sim,
        "2025-11-25",
        json!({"elicitation": {}, "sampling": {}}),
    )
    .await;
    let body = json!({"jsonrpc": "2.0", "id": 5, "method": "tools/call", "params": check_in(403)});
    // JSON response mode, but this call needs a stream: the server picks SSE for it.
    let resp = mcp_raw(&sim, T, Some(&sid), &body).await;
    assert_eq!(header(resp.headers(), "content-type"), "text/event-stream");
    let mut sse = SseReader::new(resp);
    let request = sse.next_message().await.expect("the server's request");
    assert_eq!(request["method"], "elicitation/create");
    assert_eq!(request["params"]["mode"], "form");
    assert!(request["params"]["requestedSchema"].is_object());
    let rid = request["id"].clone();
    assert!(rid.is_string());
    // A response on another session is not delivered.
    let other = session_with(&sim, "2025-11-25", json!({})).await;
    let answer = json!({"jsonrpc": "2.0", "id": rid, "result": {"action": "accept", "content": {"confidence": 9, "note": "ok"}}});
    assert_eq!(
        mcp_raw(&sim, T, Some(&other), &answer).await.status(),
        StatusCode::ACCEPTED
    );
    assert_eq!(sim.counters().get("mcp:client_response"), 0);
    assert_eq!(
        mcp_raw(&sim, T, Some(&sid), &answer).await.status(),
        StatusCode::ACCEPTED
    );
    let done = sse.next_message().await.expect("the call's response");
    assert_eq!(done["id"], 5);
    assert_eq!(done["result"]["structuredContent"]["confidence"], 9);
    assert!(done["result"].get("resultType").is_none());
    assert!(sse.next_message().await.is_none(), "the stream ends");

    // Sampling, and an error answer from the client.
    let body = json!({"jsonrpc": "2.0", "id": 6, "method": "tools/call",
        "params": {"name": "suggest_key_result", "arguments": {"objective_id": 301}}});
    let mut sse = SseReader::new(mcp_raw(&sim, T, Some(&sid), &body).await);
    let request = sse.next_message().await.unwrap();
    assert_eq!(request["method"], "sampling/createMessage");
    let refuse = json!({"jsonrpc": "2.0", "id": request["id"], "error": {"code": -1, "message": "user rejected sampling"}});
    assert_eq!(
        mcp_raw(&sim, T, Some(&sid), &refuse).await.status(),
        StatusCode::ACCEPTED
    );
    let done = sse.next_message().await.unwrap();
    assert_eq!(done["result"]["isError"], true);
    assert!(done["result"]["content"][0]["text"]
        .as_str()
        .unwrap()
        .contains("user rejected sampling"));

    // 2025-06-18 sessions get no `mode`; a session without the capability gets a tool error.
    let old = session_with(&sim, "2025-06-18", json!({"elicitation": {}})).await;
    let mut sse = SseReader::new(
        mcp_raw(
            &sim,
            T,
            Some(&old),
            &json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": check_in(401)}),
        )
        .await,
    );
    let request = sse.next_message().await.unwrap();
    assert!(request["params"].get("mode").is_none());
    drop(sse);
    let m = call(&sim, T, &other, 8, "tools/call", check_in(401)).await;
    assert_eq!(m["result"]["isError"], true);
    assert!(m["result"]["content"][0]["text"]
        .as_str()
        .unwrap()
        .contains("elicitation"));
    assert_eq!(
        sim.counters().get("mcp:server_request:elicitation/create"),
        2
    );
}

#[tokio::test]
async fn legacy_server_requests_wait_a_bounded_time() {
    let sim = start(SimConfig {
        input_timeout: Duration::ZERO,
        ..SimConfig::default()
    })
    .await;
    let sid = session_with(&sim, "2025-11-25", json!({"elicitation": {}})).await;
    let body = json!({"jsonrpc": "2.0", "id": 5, "method": "tools/call", "params": check_in(401)});
    let mut sse = SseReader::new(mcp_raw(&sim, T, Some(&sid), &body).await);
    assert_eq!(
        sse.next_message().await.unwrap()["method"],
        "elicitation/create"
    );
    let done = sse.next_message().await.unwrap();
    assert_eq!(done["result"]["isError"], true);
    assert!(done["result"]["content"][0]["text"]
        .as_str()
        .unwrap()
        .contains("no answer"));
    assert_eq!(sim.counters().get("mcp:server_request_timeout"), 1);
}

#[tokio::test]
async fn roots_are_asked_of_the_client_in_both_eras() {
    let sim = start(SimConfig::default()).await;
    let roots =
        json!({"roots": [{"uri": "file:///work/okrs", "name": "OKRs"}, {"uri": "file:///tmp"}]});
    let tool = json!({"name": "list_workspace_roots", "arguments": {}});
    // Modern: without the roots capability, refused; with it, an MRTR round.
    let (s, m) = tool_call(&sim, T, 1, json!({}), tool.clone()).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(
        m["error"]["data"]["requiredCapabilities"],
        json!({"roots": {}})
    );
    let caps = json!({"roots": {}});
    let (_, m) = tool_call(&sim, T, 2, caps.clone(), tool.clone()).await;
    let r = &m["result"];
    assert_eq!(r["resultType"], "input_required");
    assert_eq!(r["inputRequests"]["roots"]["method"], "roots/list");
    let state = r["requestState"].as_str().unwrap().to_string();
    let (_, m) = tool_call(
        &sim,
        T,
        3,
        caps,
        retry(tool.clone(), &state, json!({"roots": roots})),
    )
    .await;
    let r = &m["result"];
    assert_eq!(r["resultType"], "complete");
    assert_eq!(r["structuredContent"]["count"], 2);
    assert_eq!(
        r["structuredContent"]["roots"][0],
        json!({"uri": "file:///work/okrs", "name": "OKRs"})
    );
    assert_eq!(r["structuredContent"]["roots"][1]["name"], Value::Null);
    // Legacy: a roots/list request on the call's stream, answered by a POST.
    let sid = session_with(&sim, "2025-11-25", json!({"roots": {}})).await;
    let body = json!({"jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": tool});
    let mut sse = SseReader::new(mcp_raw(&sim, T, Some(&sid), &body).await);
    let request = sse.next_message().await.expect("the server's request");
    assert_eq!(request["method"], "roots/list");
    let answer = json!({"jsonrpc": "2.0", "id": request["id"], "result": roots});
    assert_eq!(
        mcp_raw(&sim, T, Some(&sid), &answer).await.status(),
        StatusCode::ACCEPTED
    );
    let done = sse.next_message().await.expect("the call's response");
    assert_eq!(done["result"]["structuredContent"]["count"], 2);
    // A malformed answer is refused.
    let (_, m) = tool_call(
        &sim,
        T,
        5,
        json!({"roots": {}}),
        json!({"name": "list_workspace_roots", "arguments": {}}),
    )
    .await;
    let state = m["result"]["requestState"].as_str().unwrap().to_string();
    let (_, m) = tool_call(
        &sim,
        T,
        6,
        json!({"roots": {}}),
        retry(
            json!({"name": "list_workspace_roots", "arguments": {}}),
            &state,
            json!({"roots": {"roots": "nope"}}),
        ),
    )
    .await;
    assert_eq!(m["error"]["code"], -32602);
}
