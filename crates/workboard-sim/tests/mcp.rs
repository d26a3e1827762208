//! MCP Streamable HTTP at /wb/mcp.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::{json, Value};
use workboard_sim::{ResponseMode, Role, SimConfig, DEMO_PERSONAL_TOKEN};

fn init_body(version: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": version, "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}}})
}

#[tokio::test]
async fn bearer_is_required_and_challenges_point_to_resource_metadata() {
    let sim = start(SimConfig::default()).await;
    let rm = format!(
        "Bearer resource_metadata=\"{}/.well-known/oauth-protected-resource/wb/mcp\"",
        sim.base_url()
    );
    let none = http()
        .post(sim.mcp_url())
        .header("accept", ACCEPT_BOTH)
        .header("content-type", "application/json")
        .body(init_body("2025-11-25").to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(none.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(header(none.headers(), "www-authenticate"), rm);

    // The seed's Cursor snippet misspells the header: nobody reads it.
    let misspelled = http()
        .post(sim.mcp_url())
        .header("Authorisation", format!("Bearer {DEMO_PERSONAL_TOKEN}"))
        .header("accept", ACCEPT_BOTH)
        .header("content-type", "application/json")
        .body(init_body("2025-11-25").to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(misspelled.status(), StatusCode::UNAUTHORIZED);

    let bad = mcp_raw(&sim, "wbp_not_a_token", None, &init_body("2025-11-25")).await;
    assert_eq!(bad.status(), StatusCode::UNAUTHORIZED);
    let h = header(bad.headers(), "www-authenticate");
    assert!(h.starts_with("Bearer error=\"invalid_token\""), "{h}");
    assert!(h.contains("resource_metadata=\""));

    // Token types compare case-insensitively.
    let lower = http()
        .post(sim.mcp_url())
        .header("authorization", format!("BEARER {DEMO_PERSONAL_TOKEN}"))
        .header("accept", ACCEPT_BOTH)
        .header("content-type", "application/json")
        .body(init_body("2025-11-25").to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(lower.status(), StatusCode::OK);
}

#[tokio::test]
async fn session_lifecycle_in_json_mode() {
    let sim = start(SimConfig::default()).await;
    let t = DEMO_PERSONAL_TOKEN;
    // Version negotiation.
    for (asked, got) in [
        ("2025-06-18", "2025-06-18"),
        ("2025-03-26", "2025-03-26"),
        ("2024-11-05", "2025-11-25"),
        ("2025-11-25", "2025-11-25"),
    ] {
        let r = mcp_raw(&sim, t, None, &init_body(asked)).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(header(r.headers(), "content-type"), "application/json");
        let m: Value = r.json().await.unwrap();
        assert_eq!(m["result"]["protocolVersion"], got);
        assert_eq!(m["id"], 1);
        assert!(m["result"]["capabilities"]["tools"].is_object());
    }
    let sid = mcp_session(&sim, t).await;
    let ping = json!({"jsonrpc": "2.0", "id": 7, "method": "ping"});
    assert_eq!(
        call(&sim, t, &sid, 7, "ping", json!({})).await["result"],
        json!({})
    );

    let missing = mcp_raw(&sim, t, None, &ping).await;
    assert_eq!(missing.status(), StatusCode::BAD_REQUEST);
    let unknown = mcp_raw(&sim, t, Some("mcps_unknown"), &ping).await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);

    // Accept must list both types.
    let only_json = http()
        .post(sim.mcp_url())
        .header("authorization", format!("Bearer {t}"))
        .header("accept", "application/json")
        .header("content-type", "application/json")
        .header("mcp-session-id", &sid)
        .body(ping.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(only_json.status(), StatusCode::NOT_ACCEPTABLE);

    // MCP-Protocol-Version after initialize.
    let with_version = |v: &'static str| {
        http()
            .post(sim.mcp_url())
            .header("authorization", format!("Bearer {t}"))
            .header("accept", ACCEPT_BOTH)
            .header("content-type", "application/json")
            .header("mcp-session-id", &sid)
            .header("mcp-protocol-version", v)
            .body(ping.to_string())
            .send()
    };
    assert_eq!(
        with_version("2025-11-25").await.unwrap().status(),
        StatusCode::OK
    );
    assert_eq!(
        with_version("1999-01-01").await.unwrap().status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        with_version("2025-06-18").await.unwrap().status(),
        StatusCode::BAD_REQUEST
    );

    // Malformed bodies.
    let garbage = http()
        .post(sim.mcp_url())
        .header("authorization", format!("Bearer {t}"))
        .header("accept", ACCEPT_BOTH)
        .header("content-type", "application/json")
        .header("mcp-session-id", &sid)
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(garbage.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        garbage.json::<Value>().await.unwrap()["error"]["code"],
        -32700
    );
    let batch = mcp_raw(&sim, t, Some(&sid), &json!([ping])).await;
    assert_eq!(batch.status(), StatusCode::BAD_REQUEST);
    let unknown_method = call(&sim, t, &sid, 8, "bogus/method", json!({})).await;
    assert_eq!(unknown_method["error"]["code"], -32601);

    // GET is not offered in JSON mode.
    let get = get_stream(&sim, t, &sid).await;
    assert_eq!(get.status(), StatusCode::METHOD_NOT_ALLOWED);

    // DELETE ends the session.
    let del = http()
        .delete(sim.mcp_url())
        .header("authorization", format!("Bearer {t}"))
        .header("mcp-session-id", &sid)
        .send()
        .await
        .unwrap();
    assert_eq!(del.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        mcp_raw(&sim, t, Some(&sid), &ping).await.status(),
        StatusCode::NOT_FOUND
    );
    let c = sim.counters();
    assert_eq!(c.get("mcp:initialize"), 5);
    // Rejected requests (bad version, missing or unknown session) are not counted as calls.
    assert_eq!(c.get("mcp:ping"), 2);
}

#[tokio::test]
async fn sessions_belong_to_their_user() {
    let sim = start(SimConfig::default()).await;
    let sid = mcp_session(&sim, DEMO_PERSONAL_TOKEN).await;
    let other = sim.issue_personal_token("grace@example.com", Role::Member);
    let r = mcp_raw(
        &sim,
        &other,
        Some(&sid),
        &json!({"jsonrpc": "2.0", "id": 2, "method": "ping"}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn sse_mode_primes_then_answers_last_and_get_stream_ends_with_the_session() {
    let config = SimConfig {
        response_mode: ResponseMode::Sse,
        ..SimConfig::default()
    };
    let sim = start(config).await;
    let t = DEMO_PERSONAL_TOKEN;
    let r = mcp_raw(&sim, t, None, &init_body("2025-11-25")).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(header(r.headers(), "content-type"), "text/event-stream");
    let sid = header(r.headers(), "mcp-session-id");
    let events = sse_events(&r.text().await.unwrap());
    assert_eq!(events.len(), 2);
    let (prime_id, retry, data) = &events[0];
    assert!(prime_id.is_some());
    assert_eq!(retry.as_deref(), Some("1000"));
    assert!(data.is_empty());
    let (resp_id, _, data) = &events[1];
    assert!(resp_id.is_some() && resp_id != prime_id);
    let m: Value = serde_json::from_str(data).unwrap();
    assert_eq!(m["result"]["protocolVersion"], "2025-11-25");

    let list = call(&sim, t, &sid, 2, "tools/list", json!({})).await;
    assert_eq!(list["result"]["tools"].as_array().unwrap().len(), 5);

    // Standalone GET stream: priming event, then open until the session is deleted.
    let mut get = get_stream(&sim, t, &sid).await;
    assert_eq!(get.status(), StatusCode::OK);
    let first = get.chunk().await.unwrap().expect("priming chunk");
    let first = String::from_utf8(first.to_vec()).unwrap();
    assert!(first.starts_with("id: ") && first.contains("retry: 1000"));
    let del = http()
        .delete(sim.mcp_url())
        .header("authorization", format!("Bearer {t}"))
        .header("mcp-session-id", &sid)
        .send()
        .await
        .unwrap();
    assert_eq!(del.status(), StatusCode::NO_CONTENT);
    assert!(
        get.chunk().await.unwrap().is_none(),
        "stream ends with its session"
    );
}

#[tokio::test]
async fn tools_list_paginates_by_five() {
    let sim = start(SimConfig::default()).await;
    let t = DEMO_PERSONAL_TOKEN;
    let sid = mcp_session(&sim, t).await;
    let mut names = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let params = match &cursor {
            Some(c) => json!({"cursor": c}),
            None => json!({}),
        };
        let m = call(&sim, t, &sid, 10 + pages, "tools/list", params).await;
        let tools = m["result"]["tools"].as_array().unwrap().clone();
        assert!(tools.len() <= 5);
        for tool in &tools {
            assert_eq!(tool["inputSchema"]["type"], "object");
            names.push(tool["name"].as_str().unwrap().to_string());
        }
        pages += 1;
        match m["result"]["nextCursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(pages, 4);
    assert!(names.len() >= 12);
    for expected in [
        "get_current_user",
        "search",
        "get_team_objectives",
        "get_objective_key_results",
        "get_key_result_details",
        "get_goal",
        "update_key_result",
        "log_kpi_data",
        "create_activity",
        "get_wobo_url",
        "scorecard_list",
        "rbr_list",
    ] {
        assert!(names.iter().any(|n| n == expected), "{expected}");
    }
    let bad = call(&sim, t, &sid, 99, "tools/list", json!({"cursor": "bm9wZQ"})).await;
    assert_eq!(bad["error"]["code"], -32602);
    assert_eq!(sim.counters().get("mcp:tools/list"), 5);
}

#[tokio::test]
async fn tools_call_results_errors_and_writes() {
    let sim = start(SimConfig::default()).await;
    let t = DEMO_PERSONAL_TOKEN;
    let sid = mcp_session(&sim, t).await;
    let me = call(
        &sim,
        t,
        &sid,
        1,
        "tools/call",
        json!({"name": "get_current_user", "arguments": {}}),
    )
    .await;
    let r = &me["result"];
    assert_eq!(r["isError"], false);
    assert_eq!(r["structuredContent"]["email"], "ada@example.com");
    let text: Value = serde_json::from_str(r["content"][0]["text"].as_str().unwrap()).unwrap();
    assert_eq!(text, r["structuredContent"]);
    assert_eq!(r["content"][0]["type"], "text");

    let objs = call(
        &sim,
        t,
        &sid,
        2,
        "tools/call",
        json!({"name": "get_team_objectives", "arguments": {"team_id": 201}}),
    )
    .await;
    assert_eq!(
        objs["result"]["structuredContent"]["objectives"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    let bad = call(
        &sim,
        t,
        &sid,
        3,
        "tools/call",
        json!({"name": "get_goal", "arguments": {"goal_id": "three"}}),
    )
    .await;
    assert_eq!(bad["result"]["isError"], true);
    assert!(bad.get("error").is_none());
    let missing = call(
        &sim,
        t,
        &sid,
        4,
        "tools/call",
        json!({"name": "get_goal", "arguments": {}}),
    )
    .await;
    assert_eq!(missing["result"]["isError"], true);
    let unknown = call(
        &sim,
        t,
        &sid,
        5,
        "tools/call",
        json!({"name": "drop_database", "arguments": {}}),
    )
    .await;
    assert_eq!(unknown["error"]["code"], -32602);

    let upd = call(
        &sim,
        t,
        &sid,
        6,
        "tools/call",
        json!({"name": "update_key_result", "arguments": {"key_result_id": 404, "value": 35}}),
    )
    .await;
    assert_eq!(upd["result"]["structuredContent"]["current_value"], 35.0);
    let read = call(
        &sim,
        t,
        &sid,
        7,
        "tools/call",
        json!({"name": "get_key_result_details", "arguments": {"key_result_id": 404}}),
    )
    .await;
    assert_eq!(read["result"]["structuredContent"]["progress"], 70);
    let url = call(
        &sim,
        t,
        &sid,
        8,
        "tools/call",
        json!({"name": "get_wobo_url", "arguments": {"type": "objective", "id": 301}}),
    )
    .await;
    assert!(url["result"]["structuredContent"]["url"]
        .as_str()
        .unwrap()
        .starts_with(sim.base_url()));
    assert_eq!(sim.counters().get("mcp:tools/call"), 8);
}

#[tokio::test]
async fn no_access_role_lists_no_tools() {
    let sim = start(SimConfig::default()).await;
    let t = sim.issue_personal_token("ada@example.com", Role::NoAccess);
    let sid = mcp_session(&sim, &t).await;
    let m = call(&sim, &t, &sid, 2, "tools/list", json!({})).await;
    assert_eq!(m["result"]["tools"], json!([]));
    assert!(m["result"].get("nextCursor").is_none());
    let c = call(
        &sim,
        &t,
        &sid,
        3,
        "tools/call",
        json!({"name": "get_current_user", "arguments": {}}),
    )
    .await;
    assert_eq!(c["error"]["code"], -32602);
}

#[tokio::test]
async fn write_tool_without_scope_answers_403_insufficient_scope() {
    let sim = start(SimConfig::default()).await;
    // A read-scoped OAuth token.
    let (verifier, challenge) = pkce_pair();
    let code = oauth2_code(&sim, &challenge, "read").await;
    let (_, tok) = token_form(
        &sim,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", "http://127.0.0.1:8765/callback"),
            ("code_verifier", &verifier),
            ("client_id", "demo-client"),
            ("client_secret", "demo-hash"),
        ],
    )
    .await;
    assert_eq!(tok["scope"], "read");
    for t in [
        tok["access_token"].as_str().unwrap().to_string(),
        sim.issue_personal_token("ada@example.com", Role::ReadOnly),
    ] {
        let sid = mcp_session(&sim, &t).await;
        let ok = call(
            &sim,
            &t,
            &sid,
            2,
            "tools/call",
            json!({"name": "get_goal", "arguments": {"goal_id": 301}}),
        )
        .await;
        assert_eq!(ok["result"]["isError"], false);
        let r = mcp_raw(&sim, &t, Some(&sid), &json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call",
            "params": {"name": "update_key_result", "arguments": {"key_result_id": 401, "value": 1}}})).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        let h = header(r.headers(), "www-authenticate");
        assert!(h.starts_with("Bearer error=\"insufficient_scope\""), "{h}");
        assert!(h.contains("scope=\"all\""));
    }
    // The seeded value was not changed.
    let t = DEMO_PERSONAL_TOKEN;
    let sid = mcp_session(&sim, t).await;
    let kr = call(
        &sim,
        t,
        &sid,
        9,
        "tools/call",
        json!({"name": "get_key_result_details", "arguments": {"key_result_id": 401}}),
    )
    .await;
    assert_eq!(kr["result"]["structuredContent"]["current_value"], 99.9);
}
