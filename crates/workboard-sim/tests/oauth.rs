//! OAuth v1 and OAuth 2.1 endpoints.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::*;
use reqwest::StatusCode;
use serde_json::{json, Value};
use workboard_sim::{ClientConfig, SimConfig};

#[tokio::test]
async fn v1_consent_page_approve_exchange_use_and_revoke() {
    let sim = start(SimConfig::default()).await;
    let page = http()
        .get(format!("{}/wb/oauth/authorize?client_id=demo-client&redirect_uri=http://127.0.0.1:8765/callback&scope=read,write&state=xyz", sim.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("id=\"approve\"") && html.contains("id=\"deny\""));
    assert!(html.contains("Demo App"));
    assert!(html.contains("<li class=\"scope\">read</li>"));
    let resp = http()
        .post(format!("{}/wb/oauth/authorize/decision", sim.base_url()))
        .form(&[
            ("request_id", request_id(&html).as_str()),
            ("decision", "approve"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FOUND);
    let loc = location(&resp);
    assert!(loc.starts_with("http://127.0.0.1:8765/callback?"));
    let q = query_of(&loc);
    assert_eq!(q["state"], "xyz");

    let (status, body) = v1_exchange(&sim, &q["code"]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["success"], true);
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["scope"], "read,write");
    assert!(body.get("expires_in").is_none() && body.get("refresh_token").is_none());
    let token = body["access_token"].as_str().unwrap().to_string();

    // Lower-case "bearer" as in the seed's sample request.
    let goal = http()
        .get(format!("{}/wb/goal/301", sim.base_url()))
        .header("authorization", format!("bearer {token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(goal.status(), StatusCode::OK);
    let goal: Value = goal.json().await.unwrap();
    assert_eq!(goal["success"], true);
    assert_eq!(goal["data"]["goal"]["goal_id"], 301);

    let revoke = http()
        .post(format!("{}/wb/oauth/revoke/", sim.base_url()))
        .header("authorization", format!("bearer {token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(revoke.status(), StatusCode::OK);
    let after = http()
        .get(format!("{}/wb/apis/user", sim.base_url()))
        .header("authorization", format!("bearer {token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(after.status(), StatusCode::UNAUTHORIZED);
    // The documented path has a trailing slash; the other spelling is not an endpoint.
    let no_slash = http()
        .post(format!("{}/wb/oauth/revoke", sim.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(no_slash.status(), StatusCode::NOT_FOUND);
    assert_eq!(sim.counters().get("token:v1"), 1);
}

#[tokio::test]
async fn v1_deny_redirects_with_access_denied_and_request_is_single_use() {
    let sim = start(SimConfig::default()).await;
    let html = http()
        .get(format!(
            "{}/wb/oauth/authorize?client_id=demo-client&state=s1",
            sim.base_url()
        ))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let rid = request_id(&html);
    let decide = || {
        http()
            .post(format!("{}/wb/oauth/authorize/decision", sim.base_url()))
            .form(&[("request_id", rid.as_str()), ("decision", "deny")])
            .send()
    };
    let resp = decide().await.unwrap();
    assert_eq!(resp.status(), StatusCode::FOUND);
    let q = query_of(&location(&resp));
    assert_eq!(q["error"], "access_denied");
    assert_eq!(q["state"], "s1");
    assert!(q.contains_key("error_message"));
    assert!(!q.contains_key("code"));
    let again = decide().await.unwrap();
    assert_eq!(again.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn v1_json_code_answers_json() {
    let sim = start(SimConfig::default()).await;
    let ok: Value = http()
        .get(format!(
            "{}/wb/oauth/authorize?client_id=demo-client&state=j1&response_type=json_code",
            sim.base_url()
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ok["success"], true);
    assert_eq!(ok["state"], "j1");
    let code = ok["code"].as_str().unwrap();
    assert_eq!(v1_exchange(&sim, code).await.0, StatusCode::OK);

    let bad = http()
        .get(format!(
            "{}/wb/oauth/authorize?client_id=nope&state=j2&response_type=json_code",
            sim.base_url()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    let bad: Value = bad.json().await.unwrap();
    assert_eq!(bad["success"], false);
    assert_eq!(bad["error"], "invalid_client_id");
    assert_eq!(bad["state"], "j2");
    assert!(bad["error_message"].is_string());

    let scope: Value = http()
        .get(format!(
            "{}/wb/oauth/authorize?client_id=demo-client&scope=admin&response_type=json_code",
            sim.base_url()
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(scope["error"], "invalid_scope");
}

#[tokio::test]
async fn unknown_client_redirects_only_to_a_registered_redirect_uri() {
    let sim = start(SimConfig::default()).await;
    let resp = http()
        .get(format!("{}/wb/oauth/authorize?client_id=typo&redirect_uri=http://127.0.0.1:8765/callback&state=q", sim.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FOUND);
    let q = query_of(&location(&resp));
    assert_eq!(q["error"], "invalid_client_id");
    assert_eq!(q["state"], "q");
    assert!(!q["error_message"].is_empty());

    let page = http()
        .get(format!(
            "{}/wb/oauth/authorize?client_id=typo&redirect_uri=https://evil.example/cb",
            sim.base_url()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::BAD_REQUEST);
    assert!(page.headers().get("location").is_none());
}

#[tokio::test]
async fn redirect_uri_mismatch_shows_an_error_page_not_a_redirect() {
    let sim = start(SimConfig::default()).await;
    for wrong in [
        "http://127.0.0.1:8765/callback/",
        "http://localhost:8765/callback",
        "http://127.0.0.1:8765/Callback",
        "https://claude.ai/api/mcp/auth_callback",
    ] {
        let resp = http()
            .get(format!("{}/wb/oauth/authorize", sim.base_url()))
            .query(&[
                ("client_id", "demo-client"),
                ("redirect_uri", wrong),
                ("state", "s"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{wrong}");
        assert!(resp.headers().get("location").is_none());
        assert!(resp.text().await.unwrap().contains("Redirect URL error"));
    }
}

#[tokio::test]
async fn invalid_scope_redirects_with_invalid_scope() {
    let sim = start(SimConfig::default()).await;
    let resp = http()
        .get(format!(
            "{}/wb/oauth/authorize?client_id=demo-client&scope=all,root&state=z",
            sim.base_url()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FOUND);
    let q = query_of(&location(&resp));
    assert_eq!(q["error"], "invalid_scope");
    assert_eq!(q["state"], "z");
}

#[tokio::test]
async fn codes_are_single_use() {
    let sim = start(SimConfig::default()).await;
    let code = v1_code(&sim, "a").await;
    assert_eq!(v1_exchange(&sim, &code).await.0, StatusCode::OK);
    let (status, body) = v1_exchange(&sim, &code).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["success"], false);
    assert_eq!(body["error"], "invalid_grant");
    assert!(body["error_description"].is_string());
}

#[tokio::test]
async fn codes_expire_after_five_minutes_on_the_sim_clock() {
    let sim = start(SimConfig::default()).await;
    let fresh = v1_code(&sim, "a").await;
    let stale = v1_code(&sim, "b").await;
    sim.advance_clock(Duration::from_secs(299));
    assert_eq!(v1_exchange(&sim, &fresh).await.0, StatusCode::OK);
    sim.advance_clock(Duration::from_secs(2));
    let (status, body) = v1_exchange(&sim, &stale).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_grant");
    assert!(body["error_description"]
        .as_str()
        .unwrap()
        .contains("expired"));
}

#[tokio::test]
async fn v1_token_errors() {
    let sim = start(SimConfig::default()).await;
    let code = v1_code(&sim, "a").await;
    let (s, b) = token_form(
        &sim,
        &[
            ("client_id", "demo-client"),
            ("client_hash", "wrong"),
            ("code", &code),
        ],
    )
    .await;
    assert_eq!(
        (s, b["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_client"))
    );
    let (s, b) = token_form(&sim, &[("client_id", "demo-client"), ("code", &code)]).await;
    assert_eq!(
        (s, b["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_request"))
    );
    // The failed attempts above did not consume the code (client authentication failed first).
    let (s, b) = token_form(
        &sim,
        &[
            ("client_id", "demo-client"),
            ("client_hash", "demo-hash"),
            ("code", &code),
            ("redirect_uri", "http://127.0.0.1:8765/other"),
        ],
    )
    .await;
    assert_eq!(
        (s, b["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant"))
    );
}

#[tokio::test]
async fn oauth2_pkce_flow_with_refresh_rotation_and_reuse_detection() {
    let sim = start(SimConfig::default()).await;
    let (verifier, challenge) = pkce_pair();
    let code = oauth2_code(&sim, &challenge, "all").await;
    let basic = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        "demo-client:demo-hash",
    );
    let resp = http()
        .post(format!("{}/wb/oauth/token", sim.base_url()))
        .header("authorization", format!("Basic {basic}"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", "http://127.0.0.1:8765/callback"),
            ("code_verifier", verifier.as_str()),
            ("resource", sim.mcp_url().as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let t: Value = resp.json().await.unwrap();
    assert_eq!(t["token_type"], "Bearer");
    assert_eq!(t["expires_in"], 3600);
    assert!(t.get("success").is_none());
    let access = t["access_token"].as_str().unwrap().to_string();
    let refresh1 = t["refresh_token"].as_str().unwrap().to_string();
    let sid = mcp_session(&sim, &access).await;
    assert!(!sid.is_empty());

    let (s, t2) = token_form(
        &sim,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &refresh1),
            ("client_id", "demo-client"),
            ("client_secret", "demo-hash"),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let refresh2 = t2["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(refresh1, refresh2);
    assert_ne!(t2["access_token"], t["access_token"]);

    // A wrong resource on refresh is refused without consuming the token.
    let (s, e) = token_form(
        &sim,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &refresh2),
            ("resource", "https://elsewhere.example/mcp"),
            ("client_id", "demo-client"),
            ("client_secret", "demo-hash"),
        ],
    )
    .await;
    assert_eq!(
        (s, e["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_target"))
    );
    // Reuse of the rotated token fails and revokes the whole grant.
    let (s, e) = token_form(
        &sim,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &refresh1),
            ("client_id", "demo-client"),
            ("client_secret", "demo-hash"),
        ],
    )
    .await;
    assert_eq!(
        (s, e["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant"))
    );
    let (s, e) = token_form(
        &sim,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &refresh2),
            ("client_id", "demo-client"),
            ("client_secret", "demo-hash"),
        ],
    )
    .await;
    assert_eq!(
        (s, e["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant"))
    );
    assert_eq!(sim.counters().get("token:refresh_token"), 4);
}

#[tokio::test]
async fn oauth2_access_tokens_expire_and_refresh_recovers() {
    let sim = start(SimConfig::default()).await;
    let (verifier, challenge) = pkce_pair();
    let code = oauth2_code(&sim, &challenge, "all").await;
    let (_, t) = token_form(
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
    let access = t["access_token"].as_str().unwrap();
    sim.advance_clock(Duration::from_secs(3601));
    let r = mcp_raw(&sim, access, None, &json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-11-25"}})).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(header(r.headers(), "www-authenticate").contains("error=\"invalid_token\""));
    let (s, t2) = token_form(
        &sim,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", t["refresh_token"].as_str().unwrap()),
            ("client_id", "demo-client"),
            ("client_secret", "demo-hash"),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    mcp_session(&sim, t2["access_token"].as_str().unwrap()).await;
}

#[tokio::test]
async fn oauth2_pkce_rules() {
    let sim = start(SimConfig::default()).await;
    sim.set_auto_approve(true);
    let (verifier, challenge) = pkce_pair();
    let authorize = |extra: Vec<(&'static str, String)>| {
        let mut q: Vec<(&str, String)> = vec![
            ("response_type", "code".into()),
            ("client_id", "demo-client".into()),
            ("redirect_uri", "http://127.0.0.1:8765/callback".into()),
            ("state", "p".into()),
        ];
        q.extend(extra);
        http()
            .get(format!("{}/wb/oauth/authorize", sim.base_url()))
            .query(&q)
            .send()
    };
    for (extra, expected) in [
        (vec![], "invalid_request"),
        (
            vec![
                ("code_challenge", challenge.clone()),
                ("code_challenge_method", "plain".to_string()),
            ],
            "invalid_request",
        ),
        (
            vec![("code_challenge", challenge.clone())],
            "invalid_request",
        ),
        (
            vec![
                ("code_challenge", challenge.clone()),
                ("code_challenge_method", "S256".to_string()),
                ("resource", "https://other.example/mcp".to_string()),
            ],
            "invalid_target",
        ),
    ] {
        let resp = authorize(extra).await.unwrap();
        assert_eq!(resp.status(), StatusCode::FOUND);
        let q = query_of(&location(&resp));
        assert_eq!(q["error"], expected);
        assert_eq!(q["state"], "p");
        assert!(q.contains_key("error_description"));
    }
    // Wrong verifier: invalid_grant, and the code is consumed.
    let code = oauth2_code(&sim, &challenge, "all").await;
    let base = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", "http://127.0.0.1:8765/callback"),
        ("client_id", "demo-client"),
        ("client_secret", "demo-hash"),
    ];
    let mut wrong = base.to_vec();
    wrong.push((
        "code_verifier",
        "x-wrong-verifier-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    ));
    let (s, e) = token_form(&sim, &wrong).await;
    assert_eq!(
        (s, e["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant"))
    );
    let mut right = base.to_vec();
    right.push(("code_verifier", verifier.as_str()));
    assert_eq!(token_form(&sim, &right).await.1["error"], "invalid_grant");
    // Missing client secret for a confidential client: invalid_client with 401.
    let code = oauth2_code(&sim, &challenge, "all").await;
    let (s, e) = token_form(
        &sim,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", "http://127.0.0.1:8765/callback"),
            ("client_id", "demo-client"),
            ("code_verifier", &verifier),
        ],
    )
    .await;
    assert_eq!(
        (s, e["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("invalid_client"))
    );
    let (s, e) = token_form(&sim, &[("grant_type", "password")]).await;
    assert_eq!(
        (s, e["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("unsupported_grant_type"))
    );
}

#[tokio::test]
async fn metadata_with_issuer_quirk_on_and_off() {
    let sim = start(SimConfig::default()).await;
    let base = sim.base_url().to_string();
    for path in [
        "/.well-known/oauth-protected-resource",
        "/.well-known/oauth-protected-resource/wb/mcp",
    ] {
        let prm: Value = http()
            .get(format!("{base}{path}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            prm,
            json!({"resource": format!("{base}/wb/mcp"), "authorization_servers": [format!("{base}/wb/oauth")],
                   "scopes_supported": ["all"], "bearer_methods_supported": ["header"]})
        );
    }
    let url = format!("{base}/.well-known/oauth-authorization-server/wb/oauth");
    let m: Value = http().get(&url).send().await.unwrap().json().await.unwrap();
    assert_eq!(m["issuer"], format!("{base}/wb"));
    assert_eq!(
        m["authorization_endpoint"],
        format!("{base}/wb/oauth/authorize")
    );
    assert_eq!(m["token_endpoint"], format!("{base}/wb/oauth/token"));
    assert_eq!(
        m["grant_types_supported"],
        json!(["authorization_code", "refresh_token"])
    );
    assert_eq!(
        m["token_endpoint_auth_methods_supported"],
        json!(["client_secret_post"])
    );
    assert_eq!(m["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(m["response_types_supported"], json!(["code"]));
    assert!(m.get("registration_endpoint").is_none());
    assert!(m.get("revocation_endpoint").is_none());
    sim.set_issuer_quirk(false);
    let m: Value = http().get(&url).send().await.unwrap().json().await.unwrap();
    assert_eq!(m["issuer"], format!("{base}/wb/oauth"));
    let oidc = http()
        .get(format!("{base}/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap();
    assert_eq!(oidc.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn dcr_off_then_on_registers_a_public_client_that_completes_pkce() {
    let sim = start(SimConfig::default()).await;
    let base = sim.base_url().to_string();
    let meta = json!({"redirect_uris": ["http://127.0.0.1:9999/cb"], "token_endpoint_auth_method": "none",
                      "grant_types": ["authorization_code", "refresh_token"], "client_name": "Public App"});
    let off = http()
        .post(format!("{base}/wb/oauth/register"))
        .json(&meta)
        .send()
        .await
        .unwrap();
    assert_eq!(off.status(), StatusCode::NOT_FOUND);

    sim.set_dcr(true);
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
    assert_eq!(
        m["registration_endpoint"],
        format!("{base}/wb/oauth/register")
    );
    assert_eq!(
        m["token_endpoint_auth_methods_supported"],
        json!(["client_secret_post", "none"])
    );
    let bad = http()
        .post(format!("{base}/wb/oauth/register"))
        .json(&json!({"redirect_uris": ["http://evil.example/cb"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        bad.json::<Value>().await.unwrap()["error"],
        "invalid_redirect_uri"
    );

    let reg = http()
        .post(format!("{base}/wb/oauth/register"))
        .json(&meta)
        .send()
        .await
        .unwrap();
    assert_eq!(reg.status(), StatusCode::CREATED);
    let reg: Value = reg.json().await.unwrap();
    assert!(reg.get("client_secret").is_none());
    let client_id = reg["client_id"].as_str().unwrap().to_string();

    sim.set_auto_approve(true);
    let (verifier, challenge) = pkce_pair();
    let resp = http()
        .get(format!("{base}/wb/oauth/authorize"))
        .query(&[
            ("response_type", "code"),
            ("client_id", &client_id),
            ("redirect_uri", "http://127.0.0.1:9999/cb"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ])
        .send()
        .await
        .unwrap();
    let code = query_of(&location(&resp))["code"].clone();
    let (s, t) = token_form(
        &sim,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", "http://127.0.0.1:9999/cb"),
            ("client_id", &client_id),
            ("code_verifier", &verifier),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{t}");
    assert!(t["refresh_token"].is_string());
}

#[tokio::test]
async fn clients_added_at_runtime_are_matched_exactly() {
    let sim = start(SimConfig::default()).await;
    sim.add_client(ClientConfig::new(
        "claude",
        "claude-hash",
        "https://claude.ai/api/mcp/auth_callback",
    ));
    sim.set_auto_approve(true);
    let resp = http()
        .get(format!("{}/wb/oauth/authorize", sim.base_url()))
        .query(&[
            ("client_id", "claude"),
            ("redirect_uri", "https://claude.ai/api/mcp/auth_callback"),
            ("state", "c"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FOUND);
    assert!(location(&resp).starts_with("https://claude.ai/api/mcp/auth_callback?code="));
}

#[tokio::test]
async fn rfc7009_form_revocation_revokes_the_grant() {
    let sim = start(SimConfig::default()).await;
    let (verifier, challenge) = pkce_pair();
    let code = oauth2_code(&sim, &challenge, "all").await;
    let (_, t) = token_form(
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
    let rt = t["refresh_token"].as_str().unwrap();
    let r = http()
        .post(format!("{}/wb/oauth/revoke/", sim.base_url()))
        .form(&[("token", rt), ("token_type_hint", "refresh_token")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let init = mcp_raw(&sim, t["access_token"].as_str().unwrap(), None, &json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-11-25"}})).await;
    assert_eq!(init.status(), StatusCode::UNAUTHORIZED);
    let missing = http()
        .post(format!("{}/wb/oauth/revoke/", sim.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::BAD_REQUEST);
}
