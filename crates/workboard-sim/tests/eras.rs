//! MCP eras on /wb/mcp: modern (2026-07-28), legacy (initialize + sessions) and dual.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::{Command, Stdio};

use common::*;
use reqwest::StatusCode;
use serde_json::{json, Value};
use workboard_sim::{Era, ResponseMode, Role, SimConfig, DEMO_PERSONAL_TOKEN};

const T: &str = DEMO_PERSONAL_TOKEN;

fn era(e: Era) -> SimConfig {
    SimConfig {
        era: e,
        ..SimConfig::default()
    }
}

fn init_body(version: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": version, "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}}})
}

/// Replaces (or removes, with `None`) one header of a conforming request.
fn headers_with(body: &Value, name: &str, value: Option<&str>) -> Vec<(String, String)> {
    let mut h: Vec<(String, String)> = modern_headers(body)
        .into_iter()
        .filter(|(k, _)| k != name)
        .collect();
    if let Some(v) = value {
        h.push((name.to_string(), v.to_string()));
    }
    h
}

async fn status_and_body(resp: reqwest::Response) -> (StatusCode, Value) {
    let s = resp.status();
    (s, rpc_message(resp).await)
}

#[tokio::test]
async fn server_discover_and_results_carry_result_type_server_info_and_cache_hints() {
    let sim = start(SimConfig::default()).await;
    assert_eq!(sim.era(), Era::Dual);
    let body = modern_body(1, "server/discover", json!({}));
    let resp = post_with(&sim, T, &body, &modern_headers(&body)).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(
        resp.headers().get("mcp-session-id").is_none(),
        "no sessions in the modern era"
    );
    let m = rpc_message(resp).await;
    let r = &m["result"];
    assert_eq!(m["id"], 1);
    assert_eq!(r["resultType"], "complete");
    assert_eq!(r["supportedVersions"], json!(["2026-07-28"]));
    assert_eq!(r["capabilities"]["tools"]["listChanged"], true);
    assert_eq!(r["capabilities"]["resources"]["subscribe"], true);
    assert!(r["capabilities"]["prompts"].is_object());
    assert!(r["capabilities"]["completions"].is_object());
    assert_eq!(
        r["_meta"]["io.modelcontextprotocol/serverInfo"]["name"],
        "workboard-sim"
    );
    assert_eq!(r["ttlMs"], 300_000);
    assert_eq!(r["cacheScope"], "public");
    assert!(r["instructions"].is_string());

    // tools/list pages carry their own hints; every page is private (role-dependent).
    let mut names = Vec::new();
    let mut cursor: Option<String> = None;
    for page in 0..10 {
        let params = match &cursor {
            Some(c) => json!({"cursor": c}),
            None => json!({}),
        };
        let (s, m) = modern(&sim, T, 10 + page, "tools/list", params).await;
        assert_eq!(s, StatusCode::OK);
        let r = &m["result"];
        assert_eq!(r["resultType"], "complete");
        assert_eq!(r["ttlMs"], 60_000);
        assert_eq!(r["cacheScope"], "private");
        assert!(r["_meta"]["io.modelcontextprotocol/serverInfo"].is_object());
        for t in r["tools"].as_array().unwrap() {
            names.push(t["name"].as_str().unwrap().to_string());
        }
        cursor = r["nextCursor"].as_str().map(str::to_string);
        if cursor.is_none() {
            break;
        }
    }
    assert_eq!(names.len(), 16);
    assert!(names.iter().any(|n| n == "draft_check_in"));

    // A tools/call result has resultType but no cache hints.
    let (s, m) = modern_extra(
        &sim,
        T,
        &modern_body(30, "tools/call", json!({"name": "list_teams"})),
        &[],
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(m["result"]["resultType"], "complete");
    assert_eq!(m["result"]["isError"], false);
    assert!(m["result"].get("ttlMs").is_none());

    let c = sim.counters();
    assert_eq!(c.get("mcp:discover"), 1);
    assert_eq!(c.get("mcp:modern:server/discover"), 1);
    assert_eq!(c.get("mcp:modern:tools/list"), 4);
    assert_eq!(c.get("mcp:tools/call"), 1);
    assert_eq!(sim.session_count(), 0);
}

#[tokio::test]
async fn standard_headers_are_required_and_must_match_the_body() {
    let sim = start(SimConfig::default()).await;
    let call = modern_body(1, "tools/call", json!({"name": "list_teams"}));
    let cases: Vec<(&str, Option<&str>, &str)> = vec![
        ("mcp-protocol-version", None, "MCP-Protocol-Version"),
        (
            "mcp-protocol-version",
            Some("2025-11-25"),
            "MCP-Protocol-Version",
        ),
        ("mcp-method", None, "Mcp-Method"),
        ("mcp-method", Some("tools/list"), "Mcp-Method"),
        ("mcp-name", None, "Mcp-Name"),
        ("mcp-name", Some("get_goal"), "Mcp-Name"),
        // Sentinel-encoded, but of another name ("get_goal").
        ("mcp-name", Some("=?base64?Z2V0X2dvYWw=?="), "Mcp-Name"),
        ("mcp-name", Some("=?base64?not base64!?="), "Mcp-Name"),
    ];
    for (name, value, hint) in &cases {
        let resp = post_with(&sim, T, &call, &headers_with(&call, name, *value)).await;
        let (s, m) = status_and_body(resp).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{name}={value:?}");
        assert_eq!(m["error"]["code"], -32020, "{name}={value:?}: {m}");
        assert_eq!(m["id"], 1);
        let msg = m["error"]["message"].as_str().unwrap();
        assert!(msg.contains(hint), "{msg}");
    }
    // The sentinel form of the right name is accepted (servers decode before comparing).
    let resp = post_with(
        &sim,
        T,
        &call,
        &headers_with(&call, "mcp-name", Some("=?base64?bGlzdF90ZWFtcw==?=")),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    // Mcp-Name is also checked against params.uri of resources/read.
    let read = modern_body(2, "resources/read", json!({"uri": "workboard://goal/301"}));
    let resp = post_with(
        &sim,
        T,
        &read,
        &headers_with(&read, "mcp-name", Some("workboard://goal/302")),
    )
    .await;
    let (s, m) = status_and_body(resp).await;
    assert_eq!(
        (s, m["error"]["code"].clone()),
        (StatusCode::BAD_REQUEST, json!(-32020))
    );
    // ... and params.name of prompts/get.
    let get = modern_body(
        3,
        "prompts/get",
        json!({"name": "weekly_update", "arguments": {"team": "Growth"}}),
    );
    let resp = post_with(&sim, T, &get, &headers_with(&get, "mcp-name", None)).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    // Mcp-Name is not required for other methods.
    let (s, _) = modern(&sim, T, 4, "tools/list", json!({})).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        sim.counters().get("mcp:rejected:-32020"),
        cases.len() as u64 + 2
    );
}

#[tokio::test]
async fn x_mcp_header_arguments_are_mirrored_into_mcp_param_headers() {
    let sim = start(SimConfig::default()).await;
    let (_, list) = modern(&sim, T, 1, "tools/list", json!({})).await;
    let search = list["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "search")
        .unwrap()
        .clone();
    assert_eq!(
        search["inputSchema"]["properties"]["workspace"]["x-mcp-header"],
        "Workspace"
    );
    let body = |ws: Option<&str>| {
        let mut args = json!({"query": "api"});
        if let Some(w) = ws {
            args["workspace"] = json!(w);
        }
        modern_body(
            2,
            "tools/call",
            json!({"name": "search", "arguments": args}),
        )
    };
    // Present and equal.
    let (s, m) = modern_extra(
        &sim,
        T,
        &body(Some("emea")),
        &[("Mcp-Param-Workspace", "emea")],
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{m}");
    assert_eq!(m["result"]["isError"], false);
    // Non-ASCII value, sentinel-encoded.
    let zurich = header_value("Zürich");
    assert!(zurich.starts_with("=?base64?"));
    let (s, _) = modern_extra(
        &sim,
        T,
        &body(Some("Zürich")),
        &[("mcp-param-workspace", &zurich)],
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    // Missing, different, or present without the argument: 400 -32020.
    for (b, extra) in [
        (body(Some("emea")), vec![]),
        (body(Some("emea")), vec![("Mcp-Param-Workspace", "apac")]),
        (body(None), vec![("Mcp-Param-Workspace", "emea")]),
    ] {
        let (s, m) = modern_extra(&sim, T, &b, &extra).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{extra:?}");
        assert_eq!(m["error"]["code"], -32020);
        assert!(m["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Mcp-Param-Workspace"));
    }
    // No argument, no header: fine.
    let (s, _) = modern_extra(&sim, T, &body(None), &[]).await;
    assert_eq!(s, StatusCode::OK);
    // Integers compare numerically.
    let team = |id: u64| {
        modern_body(
            3,
            "tools/call",
            json!({"name": "get_team_objectives", "arguments": {"team_id": id}}),
        )
    };
    for (h, ok) in [("201", true), ("201.0", true), ("202", false), ("x", false)] {
        let (s, _) = modern_extra(&sim, T, &team(201), &[("Mcp-Param-Team-Id", h)]).await;
        assert_eq!(s == StatusCode::OK, ok, "{h}");
    }
    // Legacy sessions do not need (or check) the headers.
    let sid = mcp_session(&sim, T).await;
    let m = call(
        &sim,
        T,
        &sid,
        9,
        "tools/call",
        json!({"name": "search", "arguments": {"query": "api", "workspace": "emea"}}),
    )
    .await;
    assert_eq!(m["result"]["isError"], false);
}

#[tokio::test]
async fn version_envelope_and_method_rejections() {
    let sim = start(SimConfig::default()).await;
    // Unsupported version in _meta (and header): 400 + -32022 naming the supported ones.
    let mut body = modern_body(1, "tools/list", json!({}));
    body["params"]["_meta"]["io.modelcontextprotocol/protocolVersion"] = json!("2099-01-01");
    let (s, m) = modern_extra(&sim, T, &body, &[]).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(m["error"]["code"], -32022);
    assert_eq!(m["error"]["data"]["supported"], json!(["2026-07-28"]));
    assert_eq!(m["error"]["data"]["requested"], "2099-01-01");
    assert_eq!(m["id"], 1);
    // A legacy version in _meta is not a per-request version either.
    body["params"]["_meta"]["io.modelcontextprotocol/protocolVersion"] = json!("2025-11-25");
    let (s, m) = modern_extra(&sim, T, &body, &[]).await;
    assert_eq!(
        (s, m["error"]["code"].clone()),
        (StatusCode::BAD_REQUEST, json!(-32022))
    );
    // clientCapabilities is required: 400 + -32602.
    let mut body = modern_body(2, "tools/list", json!({}));
    body["params"]["_meta"]
        .as_object_mut()
        .unwrap()
        .remove("io.modelcontextprotocol/clientCapabilities");
    let (s, m) = modern_extra(&sim, T, &body, &[]).await;
    assert_eq!(
        (s, m["error"]["code"].clone()),
        (StatusCode::BAD_REQUEST, json!(-32602))
    );
    // A modern header without _meta (and without a session): the envelope is missing.
    let plain = json!({"jsonrpc": "2.0", "id": 3, "method": "tools/list", "params": {}});
    let h = vec![
        ("mcp-protocol-version".to_string(), MODERN.to_string()),
        ("mcp-method".to_string(), "tools/list".to_string()),
    ];
    let (s, m) = status_and_body(post_with(&sim, T, &plain, &h).await).await;
    assert_eq!(
        (s, m["error"]["code"].clone()),
        (StatusCode::BAD_REQUEST, json!(-32602))
    );
    // Unknown and removed methods: 404 + -32601.
    for (i, method) in [
        "bogus/method",
        "ping",
        "logging/setLevel",
        "resources/subscribe",
    ]
    .iter()
    .enumerate()
    {
        let (s, m) = modern(
            &sim,
            T,
            10 + i as u64,
            method,
            json!({"level": "info", "uri": "x"}),
        )
        .await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{method}");
        assert_eq!(m["error"]["code"], -32601, "{method}");
    }
    // Unknown tool: an in-band error (HTTP 200).
    let (s, m) = modern(&sim, T, 20, "tools/call", json!({"name": "nope"})).await;
    assert_eq!(
        (s, m["error"]["code"].clone()),
        (StatusCode::OK, json!(-32602))
    );
    // A per-request log level that is not a syslog level.
    let mut body = modern_body(21, "tools/list", json!({}));
    body["params"]["_meta"]["io.modelcontextprotocol/logLevel"] = json!("loud");
    let (s, m) = modern_extra(&sim, T, &body, &[]).await;
    assert_eq!(
        (s, m["error"]["code"].clone()),
        (StatusCode::BAD_REQUEST, json!(-32602))
    );
    let c = sim.counters();
    assert_eq!(c.get("mcp:rejected:-32022"), 2);
    assert_eq!(c.get("mcp:rejected:-32602"), 3);
    assert_eq!(c.get("mcp:rejected:-32601"), 4);
}

#[tokio::test]
async fn modern_only_rejects_initialize_and_has_no_sessions() {
    let sim = start(era(Era::Modern)).await;
    let r = mcp_raw(&sim, T, None, &init_body("2025-11-25")).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.headers().get("mcp-session-id").is_none());
    let m: Value = r.json().await.unwrap();
    assert_eq!(m["id"], 1);
    assert_eq!(m["error"]["code"], -32022);
    assert_eq!(m["error"]["data"]["supported"], json!(["2026-07-28"]));
    assert_eq!(m["error"]["data"]["requested"], "2025-11-25");
    assert!(m["error"]["message"]
        .as_str()
        .unwrap()
        .contains("2026-07-28"));
    assert_eq!(sim.session_count(), 0);
    // GET and DELETE: 405.
    for req in [http().get(sim.mcp_url()), http().delete(sim.mcp_url())] {
        let r = req
            .header("authorization", format!("Bearer {T}"))
            .header("accept", "text/event-stream")
            .header("mcp-session-id", "mcps_whatever")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
    }
    // Mcp-Session-Id is ignored (not validated, not echoed).
    let body = modern_body(2, "tools/list", json!({}));
    let mut h = modern_headers(&body);
    h.push(("mcp-session-id".to_string(), "mcps_unknown".to_string()));
    let r = post_with(&sim, T, &body, &h).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers().get("mcp-session-id").is_none());
    // A legacy-shaped request (no _meta) is a malformed modern request.
    let r = mcp_raw(
        &sim,
        T,
        None,
        &json!({"jsonrpc": "2.0", "id": 3, "method": "tools/list"}),
    )
    .await;
    let (s, m) = status_and_body(r).await;
    assert_eq!(
        (s, m["error"]["code"].clone()),
        (StatusCode::BAD_REQUEST, json!(-32602))
    );
    // A notification (closing a listen stream sends notifications/cancelled) needs no
    // headers: 202 Accepted.
    let cancelled = json!({"jsonrpc": "2.0", "method": "notifications/cancelled",
        "params": with_meta(json!({"requestId": 9}), json!({}))});
    let r = mcp_raw(&sim, T, None, &cancelled).await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    assert!(r.text().await.unwrap().is_empty());
    let c = sim.counters();
    assert_eq!(c.get("mcp:initialize"), 1);
    assert_eq!(c.get("mcp:rejected:-32022"), 1);
    assert_eq!(c.get("mcp:rejected:405"), 2);
    assert_eq!(c.get("mcp:modern:notifications/cancelled"), 1);
}

#[tokio::test]
async fn legacy_only_answers_modern_requests_like_a_legacy_server() {
    let sim = start(era(Era::Legacy)).await;
    let body = modern_body(1, "server/discover", json!({}));
    let r = post_with(&sim, T, &body, &modern_headers(&body)).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let m: Value = r.json().await.unwrap();
    // Not a modern error: a dual-era client falls back to initialize.
    assert_eq!(m["id"], Value::Null);
    assert_eq!(m["error"]["code"], -32000);
    assert_eq!(m["error"]["message"], "Bad Request: Server not initialized");
    assert!(m["error"].get("data").is_none());
    assert_eq!(sim.counters().get("mcp:rejected:not_initialized"), 1);
    // initialize is the way in; then the session works as before.
    let sid = mcp_session(&sim, T).await;
    let list = call(&sim, T, &sid, 2, "tools/list", json!({})).await;
    assert_eq!(list["result"]["tools"].as_array().unwrap().len(), 5);
    assert!(list["result"].get("resultType").is_none());
    let ping = call(&sim, T, &sid, 3, "ping", json!({})).await;
    assert_eq!(ping["result"], json!({}));
    // server/discover is not a legacy method.
    let d = call(&sim, T, &sid, 4, "server/discover", json!({})).await;
    assert_eq!(d["error"]["code"], -32601);
    assert_eq!(sim.counters().get("mcp:discover"), 0);
}

#[tokio::test]
async fn dual_era_serves_both_eras_side_by_side() {
    let sim = start(SimConfig::default()).await;
    let sid = mcp_session(&sim, T).await;
    // Legacy semantics on the session: ping and logging/setLevel exist, no resultType.
    assert_eq!(
        call(&sim, T, &sid, 2, "ping", json!({})).await["result"],
        json!({})
    );
    let lvl = call(
        &sim,
        T,
        &sid,
        3,
        "logging/setLevel",
        json!({"level": "debug"}),
    )
    .await;
    assert_eq!(lvl["result"], json!({}));
    let list = call(&sim, T, &sid, 4, "tools/list", json!({})).await;
    assert!(list["result"].get("resultType").is_none());
    // Modern semantics for requests that carry _meta, even beside the session.
    let (s, m) = modern(&sim, T, 5, "ping", json!({})).await;
    assert_eq!(
        (s, m["error"]["code"].clone()),
        (StatusCode::NOT_FOUND, json!(-32601))
    );
    let body = modern_body(6, "tools/list", json!({}));
    let mut h = modern_headers(&body);
    h.push(("mcp-session-id".to_string(), sid.clone()));
    let (s, m) = status_and_body(post_with(&sim, T, &body, &h).await).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(m["result"]["resultType"], "complete");
    // A legacy request without a session keeps the legacy error.
    let r = mcp_raw(
        &sim,
        T,
        None,
        &json!({"jsonrpc": "2.0", "id": 7, "method": "tools/list"}),
    )
    .await;
    let (s, m) = status_and_body(r).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(m["error"]["code"], -32600);
    assert_eq!(sim.session_count(), 1);
    let c = sim.counters();
    assert_eq!(c.get("mcp:initialize"), 1);
    assert_eq!(c.get("mcp:modern:tools/list"), 1);
    assert_eq!(c.get("mcp:tools/list"), 2);
}

#[tokio::test]
async fn the_control_endpoint_switches_the_era_at_runtime() {
    let sim = start(SimConfig::default()).await;
    let set = |e: &str| {
        http()
            .post(format!("{}/__sim/config", sim.base_url()))
            .body(json!({"era": e}).to_string())
            .send()
    };
    let r = set("modern").await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap()["era"], "modern");
    assert_eq!(sim.era(), Era::Modern);
    let m: Value = mcp_raw(&sim, T, None, &init_body("2025-06-18"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(m["error"]["code"], -32022);
    set("legacy").await.unwrap();
    let body = modern_body(1, "tools/list", json!({}));
    let r = post_with(&sim, T, &body, &modern_headers(&body)).await;
    assert_eq!(r.json::<Value>().await.unwrap()["error"]["code"], -32000);
    let bad = set("retro").await.unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    assert!(bad.text().await.unwrap().contains("modern, legacy or dual"));
    let stats = get_json(&format!("{}/__sim/stats", sim.base_url())).await;
    assert_eq!(stats["era"], "legacy");
    sim.set_era(Era::Dual);
    let (s, _) = modern(&sim, T, 2, "tools/list", json!({})).await;
    assert_eq!(s, StatusCode::OK);
}

#[tokio::test]
async fn auth_step_up_and_faults_work_in_every_era() {
    for e in [Era::Modern, Era::Dual, Era::Legacy] {
        let sim = start(era(e)).await;
        // No token: 401 with the resource metadata challenge, whatever the era.
        let body = modern_body(1, "tools/list", json!({}));
        // (An empty bearer token is no token.)
        let r = post_with(&sim, "", &body, &modern_headers(&body)).await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{e:?}");
        assert!(header(r.headers(), "www-authenticate").contains("resource_metadata="));
        let r = mcp_raw(&sim, "wbp_unknown", None, &init_body("2025-11-25")).await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{e:?}");
        // Faults apply before the era is looked at.
        sim.faults().fail_next(Some("mcp"), 1, 503);
        let r = post_with(&sim, T, &body, &modern_headers(&body)).await;
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE, "{e:?}");
        // Step-up: a read-only token calling a write tool gets 403 insufficient_scope.
        let ro = sim.issue_personal_token("ada@example.com", Role::ReadOnly);
        let args = json!({"name": "update_key_result", "arguments": {"key_result_id": 401, "value": 99.91}});
        let r = if e == Era::Legacy {
            let sid = mcp_session(&sim, &ro).await;
            mcp_raw(
                &sim,
                &ro,
                Some(&sid),
                &json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": args}),
            )
            .await
        } else {
            let b = modern_body(2, "tools/call", args);
            post_with(&sim, &ro, &b, &modern_headers(&b)).await
        };
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{e:?}");
        let h = header(r.headers(), "www-authenticate");
        assert!(h.contains("error=\"insufficient_scope\""), "{h}");
    }
}

#[tokio::test]
async fn log_level_in_meta_emits_messages_on_the_sse_response() {
    let sim = start(SimConfig {
        response_mode: ResponseMode::Sse,
        ..SimConfig::default()
    })
    .await;
    for (level, expected) in [
        (Some("debug"), 2),
        (Some("info"), 1),
        (Some("error"), 0),
        (None, 0),
    ] {
        let mut body = modern_body(1, "tools/list", json!({}));
        if let Some(l) = level {
            body["params"]["_meta"]["io.modelcontextprotocol/logLevel"] = json!(l);
        }
        let r = post_with(&sim, T, &body, &modern_headers(&body)).await;
        assert_eq!(header(r.headers(), "content-type"), "text/event-stream");
        assert_eq!(header(r.headers(), "x-accel-buffering"), "no");
        let events = sse_events(&r.text().await.unwrap());
        let messages: Vec<Value> = events
            .iter()
            .map(|e| serde_json::from_str(&e.2).unwrap())
            .collect();
        assert_eq!(messages.len(), expected + 1, "{level:?}");
        for n in &messages[..expected] {
            assert_eq!(n["method"], "notifications/message");
            assert_eq!(n["params"]["logger"], "workboard-sim");
        }
        // No resumable ids in the modern era; the response comes last.
        assert!(events.iter().all(|e| e.0.is_none()));
        assert_eq!(messages[expected]["id"], 1);
        assert_eq!(messages[expected]["result"]["resultType"], "complete");
    }
    assert_eq!(sim.counters().get("mcp:log_message"), 3);
    // JSON mode: the log level is accepted, no message can be sent.
    sim.set_response_mode(ResponseMode::Json);
    let mut body = modern_body(2, "tools/list", json!({}));
    body["params"]["_meta"]["io.modelcontextprotocol/logLevel"] = json!("debug");
    let r = post_with(&sim, T, &body, &modern_headers(&body)).await;
    assert_eq!(header(r.headers(), "content-type"), "application/json");
}

#[tokio::test]
async fn browser_preflights_allow_the_modern_headers() {
    let sim = start(SimConfig::default()).await;
    let r = http()
        .request(reqwest::Method::OPTIONS, sim.mcp_url())
        .header("origin", "http://localhost:5173")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization, content-type, mcp-protocol-version, mcp-method, mcp-name, mcp-param-workspace, x-evil, mcp-param-a;b",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let allow = header(r.headers(), "access-control-allow-headers").to_ascii_lowercase();
    for h in [
        "mcp-protocol-version",
        "mcp-method",
        "mcp-name",
        "mcp-param-workspace",
    ] {
        assert!(allow.contains(h), "{allow}");
    }
    assert!(
        !allow.contains("x-evil") && !allow.contains("a;b"),
        "{allow}"
    );
}

#[test]
fn binary_era_flag_selects_the_era_and_help_documents_it() {
    let help = Command::new(env!("CARGO_BIN_EXE_workboard-sim"))
        .arg("--help")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&help.stdout);
    assert!(text.contains("--era modern|legacy|dual"), "{text}");
    assert!(text.contains("/__sim/notify"), "{text}");
    let bad = Command::new(env!("CARGO_BIN_EXE_workboard-sim"))
        .args(["--era", "future"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unknown era"));
    for args in [
        vec!["--era"],
        vec!["--keepalive-ms", "x"],
        vec!["--listen-max-secs", "-1"],
        vec!["--input-timeout-ms", ""],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_workboard-sim"))
            .args(&args)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }

    for (flag, init_status) in [("modern", 400u16), ("legacy", 200), ("dual", 200)] {
        let (mut child, base) = spawn_binary(&[
            "--era",
            flag,
            "--listen-max-secs",
            "0",
            "--keepalive-ms",
            "50",
            "--input-timeout-ms",
            "100",
        ]);
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let url = format!("{base}/wb/mcp");
            let r = post_to(&url, T, &init_body("2025-11-25"), &[]).await;
            assert_eq!(r.status().as_u16(), init_status, "--era {flag}");
            let stats = get_json(&format!("{base}/__sim/stats")).await;
            assert_eq!(stats["era"], flag);
            if flag == "modern" {
                // --listen-max-secs 0: acknowledged, then closed gracefully at once.
                let body = modern_body(3, "subscriptions/listen", json!({"notifications": {}}));
                let r = post_to(&url, T, &body, &modern_headers(&body)).await;
                let events = sse_events(&r.text().await.unwrap());
                assert_eq!(events.len(), 2, "acknowledgment and closing response");
                let last: Value = serde_json::from_str(&events[1].2).unwrap();
                assert_eq!(last["id"], 3);
                assert_eq!(last["result"]["resultType"], "complete");
            }
        });
        drop(child.stdin.take());
        assert!(child.wait().unwrap().success());
    }
}
