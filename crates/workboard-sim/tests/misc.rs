//! Faults, REST, CORS, control endpoints and the binary.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;
use reqwest::StatusCode;
use serde_json::{json, Value};
use workboard_sim::{FaultSpec, ResponseMode, SimConfig, DEMO_PERSONAL_TOKEN};

const PING: &str = r#"{"jsonrpc":"2.0","id":5,"method":"ping"}"#;

#[tokio::test]
async fn fail_next_is_per_route_and_counted() {
    let sim = start(SimConfig::default()).await;
    let t = DEMO_PERSONAL_TOKEN;
    let sid = mcp_session(&sim, t).await;
    sim.faults().fail_next(Some("mcp"), 2, 502);
    let prm = http()
        .get(format!(
            "{}/.well-known/oauth-protected-resource",
            sim.base_url()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(prm.status(), StatusCode::OK, "other routes unaffected");
    let ping: Value = serde_json::from_str(PING).unwrap();
    assert_eq!(
        mcp_raw(&sim, t, Some(&sid), &ping).await.status(),
        StatusCode::BAD_GATEWAY
    );
    assert_eq!(
        mcp_raw(&sim, t, Some(&sid), &ping).await.status(),
        StatusCode::BAD_GATEWAY
    );
    assert_eq!(
        mcp_raw(&sim, t, Some(&sid), &ping).await.status(),
        StatusCode::OK
    );
    sim.faults().fail_next(None, 1, 500);
    assert_eq!(prm_status(&sim).await, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(prm_status(&sim).await, StatusCode::OK);
    assert_eq!(sim.counters().get("fault:status"), 3);
}

async fn prm_status(sim: &workboard_sim::SimHandle) -> StatusCode {
    http()
        .get(format!(
            "{}/.well-known/oauth-protected-resource",
            sim.base_url()
        ))
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn rate_limit_sends_retry_after() {
    let sim = start(SimConfig::default()).await;
    sim.faults().rate_limit_next(Some("token"), 1, 7);
    let r = http()
        .post(format!("{}/wb/oauth/token", sim.base_url()))
        .form(&[("grant_type", "refresh_token")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(header(r.headers(), "retry-after"), "7");
    let r = http()
        .post(format!("{}/wb/oauth/token", sim.base_url()))
        .form(&[("grant_type", "refresh_token")])
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::UNAUTHORIZED,
        "next request reaches the endpoint (no client auth)"
    );
}

#[tokio::test]
async fn drop_closes_the_connection_without_a_response() {
    let sim = start(SimConfig::default()).await;
    sim.faults().drop_next(Some("resource_metadata"), 1);
    let err = http()
        .get(format!(
            "{}/.well-known/oauth-protected-resource",
            sim.base_url()
        ))
        .send()
        .await;
    assert!(err.is_err(), "no response expected");
    assert_eq!(prm_status(&sim).await, StatusCode::OK);
    assert_eq!(sim.counters().get("fault:drop"), 1);
}

#[tokio::test]
async fn truncated_sse_can_be_resumed_with_last_event_id() {
    let config = SimConfig {
        response_mode: ResponseMode::Sse,
        ..SimConfig::default()
    };
    let sim = start(config).await;
    let t = DEMO_PERSONAL_TOKEN;
    let sid = mcp_session(&sim, t).await;
    sim.faults().truncate_sse_next(1);
    let mut resp = mcp_raw(&sim, t, Some(&sid), &serde_json::from_str(PING).unwrap()).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let mut received = Vec::new();
    let mut failed = false;
    loop {
        match resp.chunk().await {
            Ok(Some(c)) => received.extend_from_slice(&c),
            Ok(None) => break,
            Err(_) => {
                failed = true;
                break;
            }
        }
    }
    assert!(failed, "the body ends with an error, not a clean end");
    let text = String::from_utf8(received).unwrap();
    let events = sse_events(&text);
    let priming_id = events[0].0.clone().expect("priming event id");
    assert!(
        !text.contains("\"result\":{}}\n\n"),
        "the response event is incomplete"
    );

    let replay = http()
        .get(sim.mcp_url())
        .header("authorization", format!("Bearer {t}"))
        .header("accept", "text/event-stream")
        .header("mcp-session-id", &sid)
        .header("last-event-id", &priming_id)
        .send()
        .await
        .unwrap();
    assert_eq!(replay.status(), StatusCode::OK);
    let events = sse_events(&replay.text().await.unwrap());
    assert_eq!(events.len(), 1);
    let m: Value = serde_json::from_str(&events[0].2).unwrap();
    assert_eq!(m["id"], 5);
    assert_eq!(m["result"], json!({}));
    assert_eq!(sim.counters().get("fault:truncate_sse"), 1);
    assert_eq!(sim.counters().get("mcp:resume"), 1);
}

#[tokio::test]
async fn expire_sessions_gives_404_then_a_new_session_works() {
    let sim = start(SimConfig::default()).await;
    let t = DEMO_PERSONAL_TOKEN;
    let sid = mcp_session(&sim, t).await;
    sim.faults().expire_sessions();
    assert_eq!(sim.session_count(), 0);
    let ping: Value = serde_json::from_str(PING).unwrap();
    assert_eq!(
        mcp_raw(&sim, t, Some(&sid), &ping).await.status(),
        StatusCode::NOT_FOUND
    );
    let sid2 = mcp_session(&sim, t).await;
    assert_eq!(
        mcp_raw(&sim, t, Some(&sid2), &ping).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn expire_and_revoke_tokens() {
    let sim = start(SimConfig::default()).await;
    let (verifier, challenge) = pkce_pair();
    let code = oauth2_code(&sim, &challenge, "all").await;
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
    let access = tok["access_token"].as_str().unwrap();
    let refresh = tok["refresh_token"].as_str().unwrap();
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-11-25"}});
    sim.faults().expire_tokens();
    let r = mcp_raw(&sim, access, None, &init).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(header(r.headers(), "www-authenticate").contains("expired"));
    assert_eq!(
        mcp_raw(&sim, DEMO_PERSONAL_TOKEN, None, &init)
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    let (s, tok2) = token_form(
        &sim,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh),
            ("client_id", "demo-client"),
            ("client_secret", "demo-hash"),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    sim.faults().revoke_tokens();
    let (s, e) = token_form(
        &sim,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", tok2["refresh_token"].as_str().unwrap()),
            ("client_id", "demo-client"),
            ("client_secret", "demo-hash"),
        ],
    )
    .await;
    assert_eq!(
        (s, e["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant"))
    );
    assert_eq!(
        mcp_raw(&sim, tok2["access_token"].as_str().unwrap(), None, &init)
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn control_endpoints_drive_faults_clock_config_and_tokens() {
    let sim = start(SimConfig::default()).await;
    let base = sim.base_url().to_string();
    let r = http()
        .post(format!("{base}/__sim/faults"))
        .body(r#"{"fail_next": {"count": 1, "status": 503, "route": "rest"}, "latency_ms": 1}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(sim.faults().latency(), Duration::from_millis(1));
    let bad = http()
        .post(format!("{base}/__sim/faults"))
        .body(r#"{"fial_next": 1}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    let user = http()
        .get(format!("{base}/wb/apis/user"))
        .send()
        .await
        .unwrap();
    assert_eq!(user.status(), StatusCode::SERVICE_UNAVAILABLE);
    let r = http()
        .post(format!("{base}/__sim/faults"))
        .body(r#"{"clear": true}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(sim.faults().latency(), Duration::ZERO);

    let before = sim.now_ms();
    let r: Value = http()
        .post(format!("{base}/__sim/clock"))
        .body(r#"{"advance_secs": 600}"#)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(r["now_ms"].as_u64().unwrap() >= before + 600_000);

    let r = http()
        .post(format!("{base}/__sim/config"))
        .body(r#"{"auto_approve": true, "response_mode": "sse", "issuer_quirk": false}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let m: Value = http()
        .get(format!(
            "{base}/.well-known/oauth-authorization-server/wb/oauth"
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(m["issuer"], format!("{base}/wb/oauth"));

    let tok: Value = http()
        .post(format!("{base}/__sim/tokens"))
        .body(r#"{"role": "no_access"}"#)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let t = tok["token"].as_str().unwrap().to_string();
    let sid = mcp_session(&sim, &t).await;
    let list = call(&sim, &t, &sid, 3, "tools/list", json!({})).await;
    assert_eq!(list["result"]["tools"], json!([]));
    let bad_role = http()
        .post(format!("{base}/__sim/tokens"))
        .body(r#"{"role": "boss"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(bad_role.status(), StatusCode::BAD_REQUEST);

    let stats: Value = http()
        .get(format!("{base}/__sim/stats"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stats["counters"]["rest"], 1);
    assert_eq!(stats["counters"]["mcp:initialize"], 1);
    assert_eq!(stats["counters"]["fault:status"], 1);
    assert_eq!(stats["sessions"], 1);
}

#[tokio::test]
async fn cors_preflight_and_headers_for_loopback_origins() {
    let sim = start(SimConfig::default()).await;
    let origin = "http://localhost:5173";
    let pre = http()
        .request(reqwest::Method::OPTIONS, sim.mcp_url())
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization, content-type, mcp-session-id, mcp-protocol-version",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(pre.status(), StatusCode::NO_CONTENT);
    assert_eq!(header(pre.headers(), "access-control-allow-origin"), origin);
    let allow = header(pre.headers(), "access-control-allow-headers").to_lowercase();
    for h in [
        "authorization",
        "content-type",
        "mcp-session-id",
        "mcp-protocol-version",
        "last-event-id",
    ] {
        assert!(allow.contains(h), "{h}");
    }
    assert!(header(pre.headers(), "access-control-allow-methods").contains("DELETE"));

    let r = http().post(sim.mcp_url()).header("origin", origin).header("authorization", format!("Bearer {DEMO_PERSONAL_TOKEN}"))
        .header("accept", ACCEPT_BOTH).header("content-type", "application/json")
        .body(json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-11-25"}}).to_string())
        .send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(header(r.headers(), "access-control-allow-origin"), origin);
    let expose = header(r.headers(), "access-control-expose-headers").to_lowercase();
    assert!(expose.contains("mcp-session-id") && expose.contains("www-authenticate"));

    // A foreign origin: no CORS grant, and MCP refuses it (DNS-rebinding protection).
    let foreign = http()
        .post(sim.mcp_url())
        .header("origin", "https://evil.example")
        .header("authorization", format!("Bearer {DEMO_PERSONAL_TOKEN}"))
        .header("accept", ACCEPT_BOTH)
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status(), StatusCode::FORBIDDEN);
    let pre = http()
        .request(reqwest::Method::OPTIONS, sim.mcp_url())
        .header("origin", "https://evil.example")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert!(pre.headers().get("access-control-allow-origin").is_none());
    assert_eq!(sim.counters().get("preflight"), 2);
}

#[tokio::test]
async fn rest_envelopes_and_header_only_tokens() {
    let sim = start(SimConfig::default()).await;
    let code = v1_code(&sim, "r").await;
    let (_, tok) = v1_exchange(&sim, &code).await;
    let token = tok["access_token"].as_str().unwrap().to_string();
    let get = |path: String| {
        http()
            .get(format!("{}{path}", sim.base_url()))
            .header("authorization", format!("Bearer {token}"))
            .send()
    };
    for (path, key) in [
        ("/wb/apis/user", "user"),
        ("/wb/apis/team", "team"),
        ("/wb/apis/goal/302", "goal"),
        ("/wb/apis/metric", "metric"),
    ] {
        let r = get(path.to_string()).await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        let b: Value = r.json().await.unwrap();
        assert_eq!(b["success"], true);
        assert!(b["message"].is_string());
        assert!(!b["data"][key].is_null(), "{path}");
    }
    let missing = get("/wb/apis/goal/999".to_string()).await.unwrap();
    assert_eq!(missing.status(), StatusCode::BAD_REQUEST);
    let b: Value = missing.json().await.unwrap();
    assert_eq!(b["success"], false);
    assert!(b["error"].is_string() && b["error_description"].is_string());
    assert_eq!(
        get("/wb/goal/abc".to_string()).await.unwrap().status(),
        StatusCode::BAD_REQUEST
    );

    let in_query = http()
        .get(format!(
            "{}/wb/goal/301?access_token={token}",
            sim.base_url()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(in_query.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        in_query.json::<Value>().await.unwrap()["error"],
        "invalid_request"
    );

    // Personal tokens are scoped to MCP only.
    let personal = http()
        .get(format!("{}/wb/apis/user", sim.base_url()))
        .header("authorization", format!("Bearer {DEMO_PERSONAL_TOKEN}"))
        .send()
        .await
        .unwrap();
    assert_eq!(personal.status(), StatusCode::FORBIDDEN);
    assert_eq!(personal.json::<Value>().await.unwrap()["success"], false);
    let anonymous = http()
        .get(format!("{}/wb/apis/team", sim.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn fault_spec_in_config_is_armed_at_start() {
    let spec = FaultSpec::from_json(r#"{"fail_next": {"count": 1, "status": 504}}"#).unwrap();
    let sim = start(SimConfig {
        faults: Some(spec),
        ..SimConfig::default()
    })
    .await;
    assert_eq!(prm_status(&sim).await, StatusCode::GATEWAY_TIMEOUT);
    assert_eq!(prm_status(&sim).await, StatusCode::OK);
}

#[tokio::test]
async fn shutdown_stops_the_server() {
    let sim = start(SimConfig::default()).await;
    let url = format!("{}/.well-known/oauth-protected-resource", sim.base_url());
    sim.shutdown().await;
    assert!(http().get(url).send().await.is_err());
}

#[test]
fn binary_prints_its_url_serves_and_exits_when_stdin_closes() {
    let (mut child, base) = spawn_binary(&[
        "--port",
        "0",
        "--host",
        "127.0.0.1",
        "--sse",
        "--dcr",
        "on",
        "--issuer-quirk",
        "off",
        "--seed-personal-token",
        "tok-123:no_access",
        "--client",
        "app:h:http://127.0.0.1:7/cb",
        "--auto-approve",
        "--faults",
        r#"{"latency_ms": 0}"#,
        "--log-requests",
    ]);
    assert!(base.starts_with("http://127.0.0.1:"));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let m: Value = http().get(format!("{base}/.well-known/oauth-authorization-server/wb/oauth")).send().await.unwrap().json().await.unwrap();
        assert_eq!(m["issuer"], format!("{base}/wb/oauth"));
        assert!(m["registration_endpoint"].is_string());
        let r = http().get(format!("{base}/wb/oauth/authorize?client_id=app&redirect_uri=http://127.0.0.1:7/cb")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::FOUND);
        let init = http().post(format!("{base}/wb/mcp")).header("authorization", "Bearer tok-123").header("accept", ACCEPT_BOTH)
            .header("content-type", "application/json")
            .body(json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-11-25"}}).to_string())
            .send().await.unwrap();
        assert_eq!(header(init.headers(), "content-type"), "text/event-stream");
        let old = http().post(format!("{base}/wb/mcp")).header("authorization", format!("Bearer {DEMO_PERSONAL_TOKEN}"))
            .header("accept", ACCEPT_BOTH).header("content-type", "application/json").body("{}").send().await.unwrap();
        assert_eq!(old.status(), StatusCode::UNAUTHORIZED, "--seed-personal-token replaces the demo token");
        let _ = http().get(format!("{base}/wb/goal/1?access_token=secret-in-query")).send().await.unwrap();
    });
    drop(child.stdin.take());
    let out = child.wait_with_output().expect("exits");
    assert!(out.status.success());
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(log.contains("GET /wb/goal/1 400"), "{log}");
    assert!(!log.contains("secret-in-query") && !log.contains("tok-123"));
}

#[test]
fn binary_rejects_bad_flags() {
    for args in [
        vec!["--host", "0.0.0.0"],
        vec!["--dcr", "maybe"],
        vec!["--faults", "{"],
        vec!["--client", "x"],
        vec!["--bogus"],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_workboard-sim"))
            .args(&args)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty());
    }
}

#[tokio::test]
async fn latency_delays_responses_but_not_control_routes() {
    let sim = start(SimConfig::default()).await;
    sim.faults().set_latency(Duration::from_secs(30));
    let slow = reqwest::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let err = slow
        .get(format!(
            "{}/.well-known/oauth-protected-resource",
            sim.base_url()
        ))
        .send()
        .await
        .expect_err("delayed far beyond the client timeout");
    assert!(err.is_timeout());
    let stats = slow
        .get(format!("{}/__sim/stats", sim.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(
        stats.status(),
        StatusCode::OK,
        "control routes are never delayed"
    );
    sim.faults().set_latency(Duration::ZERO);
    assert_eq!(prm_status(&sim).await, StatusCode::OK);
}

#[tokio::test]
async fn single_tokens_can_be_expired_or_revoked() {
    let sim = start(SimConfig::default()).await;
    let a = sim.issue_personal_token("ada@example.com", workboard_sim::Role::Member);
    let b = sim.issue_personal_token("ada@example.com", workboard_sim::Role::Member);
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-11-25"}});
    assert!(sim.faults().expire_token(&a));
    assert!(sim.faults().revoke_token(&b));
    assert!(!sim.faults().revoke_token("nope"));
    let ra = mcp_raw(&sim, &a, None, &init).await;
    assert_eq!(ra.status(), StatusCode::UNAUTHORIZED);
    assert!(header(ra.headers(), "www-authenticate").contains("expired"));
    let rb = mcp_raw(&sim, &b, None, &init).await;
    assert!(header(rb.headers(), "www-authenticate").contains("revoked"));
    assert_eq!(
        mcp_raw(&sim, DEMO_PERSONAL_TOKEN, None, &init)
            .await
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn extra_origins_and_unsupported_response_type() {
    let sim = start(SimConfig {
        extra_origins: vec!["*".to_string()],
        ..SimConfig::default()
    })
    .await;
    let r = http()
        .get(format!(
            "{}/.well-known/oauth-protected-resource",
            sim.base_url()
        ))
        .header("origin", "https://app.example")
        .send()
        .await
        .unwrap();
    assert_eq!(
        header(r.headers(), "access-control-allow-origin"),
        "https://app.example"
    );
    let r = http()
        .get(format!(
            "{}/wb/oauth/authorize?client_id=demo-client&response_type=token&state=u",
            sim.base_url()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FOUND);
    assert_eq!(
        query_of(&location(&r))["error"],
        "unsupported_response_type"
    );
}
