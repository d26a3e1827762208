//! Scenario tests of OAuth 2.1 for MCP ([`McpAuthFlow`], [`AuthContext`]) against a scripted
//! server with a simulated clock.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;

use serde_json::{json, Value};
use url::Url;
use workboard_core::env::Environment;
use workboard_core::fuzzing::challenge_s256;
use workboard_core::oauth::flow::{
    AuthContext, McpAuthConfig, McpAuthEvent, McpAuthFlow, MAX_AUTHORIZATION_ATTEMPTS,
    PENDING_LIFETIME_MS,
};
use workboard_core::oauth::metadata::KnownIssuerQuirk;
use workboard_core::oauth::registration::{IdentitySource, TokenEndpointAuth};
use workboard_core::testing::T0;
use workboard_core::{
    Credentials, Error, HttpRequest, HttpResponse, Method, RequestId, SansIo, SecretString,
    SeededEntropy, TokenSet, TransportError,
};

const WB: &str = "https://www.myworkboard.com";
const WB_MCP: &str = "https://www.myworkboard.com/wb/mcp";
const REDIRECT: &str = "http://127.0.0.1:8765/callback";

/// A scripted server: exact URL → queue of responses (the last one repeats); anything else 404.
#[derive(Default)]
struct Server {
    routes: BTreeMap<String, Vec<Result<HttpResponse, TransportError>>>,
    log: Vec<HttpRequest>,
}

impl Server {
    fn on(&mut self, url: &str, resp: HttpResponse) -> &mut Self {
        self.routes
            .entry(url.to_string())
            .or_default()
            .push(Ok(resp));
        self
    }
    fn fail(&mut self, url: &str, e: TransportError) -> &mut Self {
        self.routes.entry(url.to_string()).or_default().push(Err(e));
        self
    }
    fn respond(&mut self, req: &HttpRequest) -> Result<HttpResponse, TransportError> {
        self.log.push(req.clone());
        match self.routes.get_mut(&req.url) {
            Some(q) if q.len() > 1 => q.remove(0),
            Some(q) if q.len() == 1 => q[0].clone(),
            _ => Ok(HttpResponse::new(404, vec![], "not found")),
        }
    }
    fn urls(&self) -> Vec<String> {
        self.log
            .iter()
            .map(|r| format!("{} {}", r.method, r.url))
            .collect()
    }
    fn last_body(&self) -> String {
        String::from_utf8(self.log.last().unwrap().body.clone()).unwrap()
    }
}

/// Runs the flow until it has nothing to send; returns its events.
fn run(flow: &mut McpAuthFlow, server: &mut Server, now: u64) -> Vec<McpAuthEvent> {
    let mut guard = 0;
    while let Some(req) = flow.poll_request() {
        guard += 1;
        assert!(guard < 50, "flow loops");
        let resp = server.respond(&req);
        flow.handle_response(req.id, resp, now);
    }
    std::iter::from_fn(|| flow.poll_event()).collect()
}

fn authorize_url(events: &[McpAuthEvent]) -> Url {
    for e in events {
        if let McpAuthEvent::AuthorizationUrl { url } = e {
            return Url::parse(url).unwrap();
        }
    }
    panic!("no authorization URL in {events:?}");
}

fn failure(events: &[McpAuthEvent]) -> &Error {
    for e in events {
        if let McpAuthEvent::Failed(err) = e {
            return err;
        }
    }
    panic!("no failure in {events:?}");
}

fn credentials(events: &[McpAuthEvent]) -> TokenSet {
    for e in events {
        if let McpAuthEvent::CredentialsChanged(Credentials::OAuth(set)) = e {
            return set.clone();
        }
    }
    panic!("no credentials in {events:?}");
}

fn q(url: &Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

fn form(body: &str) -> BTreeMap<String, String> {
    url::form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect()
}

fn entropy() -> SeededEntropy {
    SeededEntropy::new([42; 32])
}

fn wb_prm(base: &str) -> Value {
    json!({
        "resource": format!("{base}/wb/mcp"),
        "authorization_servers": [format!("{base}/wb/oauth")],
        "scopes_supported": ["all"],
        "bearer_methods_supported": ["header"]
    })
}

fn wb_as(base: &str) -> Value {
    json!({
        "issuer": format!("{base}/wb"),
        "authorization_endpoint": format!("{base}/wb/oauth/authorize"),
        "token_endpoint": format!("{base}/wb/oauth/token"),
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "response_types_supported": ["code"],
        "token_endpoint_auth_methods_supported": ["client_secret_post"],
        "code_challenge_methods_supported": ["S256"]
    })
}

fn wb_401(base: &str) -> HttpResponse {
    HttpResponse::new(
        401,
        vec![(
            "WWW-Authenticate".into(),
            format!(r#"Bearer resource_metadata="{base}/.well-known/oauth-protected-resource""#),
        )],
        "",
    )
}

fn token_json() -> HttpResponse {
    HttpResponse::json(
        200,
        &json!({"access_token": "AT-SECRET-1", "token_type": "bearer", "expires_in": 3600, "refresh_token": "RT-SECRET-1", "scope": "all"}),
    )
}

fn wb_server(base: &str) -> Server {
    let mut s = Server::default();
    s.on(&format!("{base}/wb/mcp"), wb_401(base))
        .on(
            &format!("{base}/.well-known/oauth-protected-resource"),
            HttpResponse::json(200, &wb_prm(base)),
        )
        .on(
            &format!("{base}/.well-known/oauth-authorization-server/wb/oauth"),
            HttpResponse::json(200, &wb_as(base)),
        )
        .on(&format!("{base}/wb/oauth/token"), token_json());
    s
}

fn wb_config(base: &str) -> McpAuthConfig {
    let mut c = McpAuthConfig::new(format!("{base}/wb/mcp"), REDIRECT);
    c.client.client_id = Some("wb-client".into());
    c.client.client_secret = Some(SecretString::new("HASH-SECRET-MARKER"));
    c
}

fn redirect_for(url: &Url, code: &str) -> String {
    format!("{REDIRECT}?code={code}&state={}", q(url, "state").unwrap())
}

#[test]
fn workboard_issuer_quirk_happy_path() {
    let mut server = wb_server(WB);
    let mut flow = McpAuthFlow::new(wb_config(WB), &mut entropy(), T0).unwrap();
    let events = run(&mut flow, &mut server, T0);
    assert_eq!(
        server.urls(),
        [
            "POST https://www.myworkboard.com/wb/mcp",
            "GET https://www.myworkboard.com/.well-known/oauth-protected-resource",
            "GET https://www.myworkboard.com/.well-known/oauth-authorization-server/wb/oauth",
        ]
    );
    let ctx = flow.context().unwrap().clone();
    assert_eq!(ctx.allowance, Some(KnownIssuerQuirk::WorkboardWbIssuer));
    assert_eq!(
        ctx.issuer.as_deref(),
        Some("https://www.myworkboard.com/wb")
    );
    assert_eq!(ctx.token_endpoint_auth, TokenEndpointAuth::ClientSecretPost);
    assert!(events
        .iter()
        .any(|e| matches!(e, McpAuthEvent::ContextChanged(_))));
    let url = authorize_url(&events);
    assert_eq!(
        url.as_str().split('?').next().unwrap(),
        "https://www.myworkboard.com/wb/oauth/authorize"
    );
    assert_eq!(q(&url, "response_type").as_deref(), Some("code"));
    assert_eq!(q(&url, "client_id").as_deref(), Some("wb-client"));
    assert_eq!(q(&url, "redirect_uri").as_deref(), Some(REDIRECT));
    assert_eq!(q(&url, "code_challenge_method").as_deref(), Some("S256"));
    assert_eq!(q(&url, "resource").as_deref(), Some(WB_MCP));
    assert_eq!(q(&url, "scope").as_deref(), Some("all"));
    assert!(!url.as_str().contains("HASH-SECRET-MARKER"));
    assert!(flow.is_awaiting_redirect());

    flow.handle_redirect(&redirect_for(&url, "CODE-1"), T0 + 30_000)
        .unwrap();
    let events = run(&mut flow, &mut server, T0 + 31_000);
    let body = form(&server.last_body());
    assert_eq!(
        server.log.last().unwrap().url,
        "https://www.myworkboard.com/wb/oauth/token"
    );
    assert_eq!(body["grant_type"], "authorization_code");
    assert_eq!(body["code"], "CODE-1");
    assert_eq!(body["redirect_uri"], REDIRECT);
    assert_eq!(body["resource"], WB_MCP);
    assert_eq!(body["client_id"], "wb-client");
    assert_eq!(body["client_secret"], "HASH-SECRET-MARKER");
    // PKCE: the verifier sent matches the challenge sent.
    assert_eq!(
        challenge_s256(&body["code_verifier"]),
        q(&url, "code_challenge").unwrap()
    );
    assert!((43..=128).contains(&body["code_verifier"].len()));
    let set = credentials(&events);
    assert_eq!(set.access_token.expose(), "AT-SECRET-1");
    assert_eq!(set.expires_at_ms, Some(T0 + 31_000 + 3_600_000));
    assert!(flow.is_finished());
}

#[test]
fn workboard_quirk_on_simulator_needs_registered_environment() {
    let base = "http://127.0.0.1:18080";
    // Not registered: refused like any other server.
    let mut server = wb_server(base);
    let mut flow = McpAuthFlow::new(wb_config(base), &mut entropy(), T0).unwrap();
    let events = run(&mut flow, &mut server, T0);
    assert_eq!(failure(&events).code(), "issuer_mismatch");
    // Registered as a WorkBoard environment: the named allowance applies.
    let mut server = wb_server(base);
    let mut cfg = McpAuthConfig::workboard(&Environment::Custom(base.into()), REDIRECT);
    assert_eq!(cfg.server_url, format!("{base}/wb/mcp"));
    cfg.client = wb_config(base).client;
    let mut flow = McpAuthFlow::new(cfg, &mut entropy(), T0).unwrap();
    let events = run(&mut flow, &mut server, T0);
    authorize_url(&events);
    assert_eq!(
        flow.context().unwrap().allowance,
        Some(KnownIssuerQuirk::WorkboardWbIssuer)
    );
}

#[test]
fn same_issuer_mismatch_on_another_host_is_refused() {
    let base = "https://mcp.example.com";
    let mut server = wb_server(base);
    let mut flow = McpAuthFlow::new(wb_config(base), &mut entropy(), T0).unwrap();
    let events = run(&mut flow, &mut server, T0);
    let e = failure(&events);
    assert_eq!(e.code(), "issuer_mismatch");
    assert!(e.info().hint.is_some());
    assert!(flow.context().is_none());
    assert!(!events
        .iter()
        .any(|e| matches!(e, McpAuthEvent::AuthorizationUrl { .. })));
}

// ---- generic spec-compliant server fixtures ----

const MCP: &str = "https://mcp.example.com/v1/mcp";
const AS: &str = "https://auth.example.com";

fn prm(scopes: Option<Value>) -> Value {
    let mut v = json!({"resource": MCP, "authorization_servers": [AS]});
    if let Some(s) = scopes {
        v["scopes_supported"] = s;
    }
    v
}

fn as_meta(extra: Value) -> Value {
    let mut v = json!({
        "issuer": AS,
        "authorization_endpoint": format!("{AS}/authorize"),
        "token_endpoint": format!("{AS}/token"),
        "revocation_endpoint": format!("{AS}/revoke"),
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"]
    });
    for (k, val) in extra.as_object().unwrap() {
        v[k] = val.clone();
    }
    v
}

fn generic_server(prm_body: Value, as_body: Value) -> Server {
    let mut s = Server::default();
    s.on(
        "https://mcp.example.com/.well-known/oauth-protected-resource/v1/mcp",
        HttpResponse::json(200, &prm_body),
    )
    .on(
        &format!("{AS}/.well-known/oauth-authorization-server"),
        HttpResponse::json(200, &as_body),
    )
    .on(&format!("{AS}/token"), token_json());
    s
}

fn generic_config(www: Option<&str>) -> McpAuthConfig {
    let mut c = McpAuthConfig::new(MCP, REDIRECT);
    c.client.client_id = Some("pub-client".into());
    c.www_authenticate = www.map(str::to_string);
    c
}

fn start(cfg: McpAuthConfig, server: &mut Server) -> (McpAuthFlow, Vec<McpAuthEvent>) {
    let mut flow = McpAuthFlow::new(cfg, &mut entropy(), T0).unwrap();
    let events = run(&mut flow, server, T0);
    (flow, events)
}

fn complete(flow: &mut McpAuthFlow, server: &mut Server, events: &[McpAuthEvent]) -> TokenSet {
    let url = authorize_url(events);
    flow.handle_redirect(&redirect_for(&url, "C"), T0 + 1000)
        .unwrap();
    credentials(&run(flow, server, T0 + 2000))
}

#[test]
fn prm_from_header_url_first() {
    let mut s = generic_server(prm(None), as_meta(json!({})));
    s.on(
        "https://meta.example.com/prm",
        HttpResponse::json(200, &prm(None)),
    );
    let (_, events) = start(
        generic_config(Some(
            r#"Bearer resource_metadata="https://meta.example.com/prm""#,
        )),
        &mut s,
    );
    authorize_url(&events);
    assert_eq!(s.urls()[0], "GET https://meta.example.com/prm");
    assert_eq!(s.urls().len(), 2);
}

#[test]
fn prm_header_url_404_falls_back_to_path_then_root() {
    // header 404 -> path-based 404 -> root 200
    let mut s = Server::default();
    s.on(
        "https://mcp.example.com/.well-known/oauth-protected-resource",
        HttpResponse::json(200, &prm(None)),
    )
    .on(
        &format!("{AS}/.well-known/oauth-authorization-server"),
        HttpResponse::json(200, &as_meta(json!({}))),
    );
    let (_, events) = start(
        generic_config(Some(
            r#"Bearer resource_metadata="https://meta.example.com/gone""#,
        )),
        &mut s,
    );
    authorize_url(&events);
    assert_eq!(
        s.urls(),
        [
            "GET https://meta.example.com/gone",
            "GET https://mcp.example.com/.well-known/oauth-protected-resource/v1/mcp",
            "GET https://mcp.example.com/.well-known/oauth-protected-resource",
            "GET https://auth.example.com/.well-known/oauth-authorization-server",
        ]
    );
    // Discovery requests carry the protocol version header.
    assert_eq!(s.log[0].header("MCP-Protocol-Version"), Some("2025-11-25"));
}

#[test]
fn prm_path_based_without_header() {
    let mut s = generic_server(prm(None), as_meta(json!({})));
    s.on(
        MCP,
        HttpResponse::new(
            401,
            vec![("WWW-Authenticate".into(), "Bearer realm=\"x\"".into())],
            "",
        ),
    );
    let (_, events) = start(generic_config(None), &mut s);
    authorize_url(&events);
    assert_eq!(s.urls()[0], "POST https://mcp.example.com/v1/mcp");
    assert_eq!(
        s.urls()[1],
        "GET https://mcp.example.com/.well-known/oauth-protected-resource/v1/mcp"
    );
    assert!(s.log[0].header("authorization").is_none());
}

#[test]
fn probe_success_means_not_required() {
    let mut s = Server::default();
    s.on(
        MCP,
        HttpResponse::json(200, &json!({"jsonrpc": "2.0", "id": 0, "result": {}})),
    );
    let (flow, events) = start(generic_config(None), &mut s);
    assert!(matches!(events[..], [McpAuthEvent::NotRequired]));
    assert!(flow.is_finished());
}

#[test]
fn as_metadata_each_form() {
    let issuer = "https://auth.example.com/tenant1";
    let mk = |iss: &str| {
        json!({"issuer": iss, "authorization_endpoint": format!("{iss}/authorize"), "token_endpoint": format!("{iss}/token"),
               "code_challenge_methods_supported": ["S256"]})
    };
    let prm_t = json!({"resource": MCP, "authorization_servers": [issuer]});
    for (found_at, tried) in [
        (
            "https://auth.example.com/.well-known/oauth-authorization-server/tenant1",
            1,
        ),
        (
            "https://auth.example.com/.well-known/openid-configuration/tenant1",
            2,
        ),
        (
            "https://auth.example.com/tenant1/.well-known/openid-configuration",
            3,
        ),
    ] {
        let mut s = Server::default();
        s.on(
            "https://mcp.example.com/.well-known/oauth-protected-resource/v1/mcp",
            HttpResponse::json(200, &prm_t),
        )
        .on(found_at, HttpResponse::json(200, &mk(issuer)));
        let (flow, events) = start(generic_config(Some("Bearer")), &mut s);
        let url = authorize_url(&events);
        assert!(url
            .as_str()
            .starts_with("https://auth.example.com/tenant1/authorize?"));
        assert_eq!(s.urls().len(), 1 + tried, "{found_at}: {:?}", s.urls());
        assert_eq!(flow.context().unwrap().issuer.as_deref(), Some(issuer));
    }
    // Root issuer: RFC 8414 first, then OIDC.
    let mut s = Server::default();
    s.on(
        "https://mcp.example.com/.well-known/oauth-protected-resource/v1/mcp",
        HttpResponse::json(200, &prm(None)),
    )
    .on(
        "https://auth.example.com/.well-known/openid-configuration",
        HttpResponse::json(200, &as_meta(json!({}))),
    );
    let (_, events) = start(generic_config(Some("Bearer")), &mut s);
    authorize_url(&events);
    assert_eq!(
        &s.urls()[1..],
        [
            "GET https://auth.example.com/.well-known/oauth-authorization-server",
            "GET https://auth.example.com/.well-known/openid-configuration"
        ]
    );
    // Nothing anywhere for a named AS: typed failure.
    let mut s = Server::default();
    s.on(
        "https://mcp.example.com/.well-known/oauth-protected-resource/v1/mcp",
        HttpResponse::json(200, &prm(None)),
    );
    let (_, events) = start(generic_config(Some("Bearer")), &mut s);
    assert_eq!(failure(&events).code(), "discovery_failed");
}

#[test]
fn legacy_2025_03_26_defaults_with_dcr() {
    let mut s = Server::default();
    s.on(
        "https://mcp.example.com/register",
        HttpResponse::json(
            201,
            &json!({"client_id": "dyn-legacy", "token_endpoint_auth_method": "none"}),
        ),
    )
    .on("https://mcp.example.com/token", token_json());
    let mut cfg = generic_config(Some("Bearer"));
    cfg.client.client_id = None;
    let (mut flow, events) = start(cfg, &mut s);
    assert_eq!(
        s.urls(),
        [
            "GET https://mcp.example.com/.well-known/oauth-protected-resource/v1/mcp",
            "GET https://mcp.example.com/.well-known/oauth-protected-resource",
            "GET https://mcp.example.com/.well-known/oauth-authorization-server",
            "GET https://mcp.example.com/.well-known/openid-configuration",
            "POST https://mcp.example.com/register",
        ]
    );
    let url = authorize_url(&events);
    assert!(url
        .as_str()
        .starts_with("https://mcp.example.com/authorize?"));
    let ctx = flow.context().unwrap().clone();
    assert!(ctx.legacy_defaults);
    assert_eq!(ctx.issuer, None);
    assert_eq!(ctx.client_id, "dyn-legacy");
    assert_eq!(q(&url, "resource").as_deref(), Some(MCP));
    let set = complete(&mut flow, &mut s, &events);
    assert_eq!(s.log.last().unwrap().url, "https://mcp.example.com/token");
    assert_eq!(set.refresh_token.unwrap().expose(), "RT-SECRET-1");
}

#[test]
fn legacy_origin_with_metadata() {
    let origin_meta = json!({"issuer": "https://mcp.example.com", "authorization_endpoint": "https://mcp.example.com/oauth/authorize",
        "token_endpoint": "https://mcp.example.com/oauth/token", "code_challenge_methods_supported": ["S256"]});
    let mut s = Server::default();
    s.on(
        "https://mcp.example.com/.well-known/oauth-authorization-server",
        HttpResponse::json(200, &origin_meta),
    );
    let (flow, events) = start(generic_config(Some("Bearer")), &mut s);
    assert!(authorize_url(&events)
        .as_str()
        .starts_with("https://mcp.example.com/oauth/authorize?"));
    assert!(!flow.context().unwrap().legacy_defaults);
}

#[test]
fn resource_mismatch_refused() {
    let bad =
        json!({"resource": "https://other.example.com/v1/mcp", "authorization_servers": [AS]});
    let mut s = generic_server(bad, as_meta(json!({})));
    let (_, events) = start(generic_config(Some("Bearer")), &mut s);
    assert_eq!(failure(&events).code(), "resource_mismatch");
}

#[test]
fn non_https_endpoint_refused() {
    let mut s = generic_server(
        prm(None),
        as_meta(json!({"token_endpoint": "http://auth.example.com/token"})),
    );
    let (_, events) = start(generic_config(Some("Bearer")), &mut s);
    assert_eq!(failure(&events).code(), "insecure_url");
    let mut s = generic_server(
        prm(None),
        as_meta(json!({"authorization_endpoint": "javascript:alert(1)"})),
    );
    let (_, events) = start(generic_config(Some("Bearer")), &mut s);
    assert_eq!(failure(&events).code(), "insecure_url");
    // An insecure resource_metadata URL in the challenge is refused before any fetch.
    let mut s = Server::default();
    let (_, events) = start(
        generic_config(Some(
            r#"Bearer resource_metadata="http://evil.example/prm""#,
        )),
        &mut s,
    );
    assert_eq!(failure(&events).code(), "insecure_url");
    assert!(s.log.is_empty());
}

/// Issue 11 item 14: hostile metadata of a public server naming internal addresses.
#[test]
fn hostile_metadata_naming_internal_addresses_is_refused_before_any_fetch_there() {
    let internal = [
        "https://169.254.169.254",
        "https://10.0.0.1",
        "https://192.168.1.1",
        "https://172.20.0.1",
        "https://127.0.0.1:8443",
        "https://localhost",
        "https://admin.localhost",
        "https://[::1]",
        "https://[fd00::1]",
        "https://[fe80::1]",
        "https://[::ffff:169.254.169.254]",
        "https://2852039166", // 169.254.169.254 as one number
    ];
    for host in internal {
        // 1. The protected resource metadata names an internal authorization server.
        let bad = json!({"resource": MCP, "authorization_servers": [format!("{host}/oauth")]});
        let mut s = generic_server(bad, as_meta(json!({})));
        let (_, events) = start(generic_config(Some("Bearer")), &mut s);
        let e = failure(&events);
        assert_eq!(e.code(), "private_address", "{host}: {e}");
        assert!(e.hint().unwrap().contains("own network"), "{host}");
        assert!(e.to_string().contains("authorization server URL"), "{e}");
        assert!(
            s.urls().iter().all(|u| u.contains("mcp.example.com")),
            "{host}: {:?}",
            s.urls()
        );
        // 2. The authorization server metadata names internal endpoints.
        for field in [
            "authorization_endpoint",
            "token_endpoint",
            "registration_endpoint",
            "revocation_endpoint",
        ] {
            let mut s = generic_server(prm(None), as_meta(json!({ field: format!("{host}/x") })));
            let (_, events) = start(generic_config(Some("Bearer")), &mut s);
            let e = failure(&events);
            assert_eq!(e.code(), "private_address", "{host} {field}: {e}");
            assert!(e.to_string().contains(field), "{e}");
            assert!(s.urls().iter().all(|u| !u.contains("/x")));
        }
        // 3. The 401's resource_metadata URL points inside.
        let mut s = Server::default();
        let (_, events) = start(
            generic_config(Some(&format!(r#"Bearer resource_metadata="{host}/prm""#))),
            &mut s,
        );
        assert_eq!(failure(&events).code(), "private_address", "{host}");
        assert!(s.log.is_empty());
    }
}

/// A server on an internal address may use addresses of the same kind (a simulator on
/// 127.0.0.1, a deployment on 10.x), but not another kind.
#[test]
fn internal_servers_may_use_addresses_of_their_own_kind() {
    let mcp = "https://10.0.0.5/v1/mcp";
    let asu = "https://10.0.0.6";
    let meta = |token: &str| {
        json!({
            "issuer": asu,
            "authorization_endpoint": format!("{asu}/authorize"),
            "token_endpoint": token,
            "code_challenge_methods_supported": ["S256"],
        })
    };
    let server = |token: &str| {
        let mut s = Server::default();
        s.on(
            "https://10.0.0.5/.well-known/oauth-protected-resource/v1/mcp",
            HttpResponse::json(
                200,
                &json!({"resource": mcp, "authorization_servers": [asu]}),
            ),
        )
        .on(
            &format!("{asu}/.well-known/oauth-authorization-server"),
            HttpResponse::json(200, &meta(token)),
        );
        s
    };
    let mut cfg = McpAuthConfig::new(mcp, REDIRECT);
    cfg.client.client_id = Some("pub-client".into());
    cfg.www_authenticate = Some("Bearer".into());
    let (_, events) = start(cfg.clone(), &mut server("https://10.0.0.6/token"));
    authorize_url(&events);
    let (_, events) = start(cfg, &mut server("https://169.254.169.254/token"));
    assert_eq!(failure(&events).code(), "private_address");
}

#[test]
fn pkce_unsupported_refused() {
    let mut meta = as_meta(json!({}));
    meta.as_object_mut()
        .unwrap()
        .remove("code_challenge_methods_supported");
    let mut s = generic_server(prm(None), meta);
    let (_, events) = start(generic_config(Some("Bearer")), &mut s);
    assert_eq!(failure(&events).code(), "pkce_unsupported");
}

#[test]
fn dynamic_registration() {
    let mut s = generic_server(
        prm(Some(json!(["mcp:read"]))),
        as_meta(json!({"registration_endpoint": format!("{AS}/register")})),
    );
    s.on(
        &format!("{AS}/register"),
        HttpResponse::json(
            201,
            &json!({"client_id": "dyn-7", "client_id_issued_at": 1}),
        ),
    );
    let mut cfg = generic_config(Some("Bearer"));
    cfg.client.client_id = None;
    let (mut flow, events) = start(cfg, &mut s);
    let reg = s.log.iter().find(|r| r.url.ends_with("/register")).unwrap();
    assert_eq!(reg.method, Method::Post);
    let v: Value = serde_json::from_slice(&reg.body).unwrap();
    assert_eq!(v["redirect_uris"], json!([REDIRECT]));
    assert_eq!(v["token_endpoint_auth_method"], "none");
    assert_eq!(v["client_name"], "workboard-connect");
    let ctx = flow.context().unwrap().clone();
    assert_eq!(ctx.client_id, "dyn-7");
    assert_eq!(ctx.identity_source, IdentitySource::DynamicRegistration);
    assert_eq!(ctx.token_endpoint_auth, TokenEndpointAuth::None);
    complete(&mut flow, &mut s, &events);
    assert_eq!(form(&s.last_body())["client_id"], "dyn-7");
    assert!(s.log.last().unwrap().header("authorization").is_none());
}

/// MCP 2026-07-28, authorization server binding: a dynamically registered client is used
/// again at the issuer that registered it, and never at another one.
#[test]
fn registrations_are_keyed_by_issuer() {
    const AS2: &str = "https://auth2.example.com";
    let server_at = |asu: &str, client: &str, secret: &str| {
        let mut s = Server::default();
        let mut meta = as_meta(json!({"registration_endpoint": format!("{asu}/register")}));
        meta["issuer"] = json!(asu);
        meta["authorization_endpoint"] = json!(format!("{asu}/authorize"));
        meta["token_endpoint"] = json!(format!("{asu}/token"));
        meta["revocation_endpoint"] = json!(format!("{asu}/revoke"));
        s.on(
            "https://mcp.example.com/.well-known/oauth-protected-resource/v1/mcp",
            HttpResponse::json(200, &json!({"resource": MCP, "authorization_servers": [asu]})),
        )
        .on(
            &format!("{asu}/.well-known/oauth-authorization-server"),
            HttpResponse::json(200, &meta),
        )
        .on(&format!("{asu}/register"), HttpResponse::json(201, &json!({"client_id": client, "client_secret": secret, "token_endpoint_auth_method": "client_secret_post"})))
        .on(&format!("{asu}/token"), token_json());
        s
    };
    let mut cfg = generic_config(Some("Bearer"));
    cfg.client.client_id = None;
    // First sign-in: registers at AS.
    let mut s1 = server_at(AS, "as1-client", "AS1-SECRET-MARKER");
    let (mut flow, events) = start(cfg.clone(), &mut s1);
    complete(&mut flow, &mut s1, &events);
    let ctx1 = flow.context().unwrap().clone();
    assert_eq!(ctx1.client_id, "as1-client");
    assert_eq!(ctx1.registration_key(), AS);
    // Again at the same issuer: the stored registration is used, no new one.
    let mut again = server_at(AS, "as1-client-NEW", "unused");
    let mut with_prev = cfg.clone();
    with_prev.previous = Some(ctx1.clone());
    let (mut flow, events) = start(with_prev.clone(), &mut again);
    assert!(again.log.iter().all(|r| !r.url.ends_with("/register")));
    assert_eq!(
        q(&authorize_url(&events), "client_id").as_deref(),
        Some("as1-client")
    );
    complete(&mut flow, &mut again, &events);
    let f = form(&again.last_body());
    assert_eq!(f["client_secret"], "AS1-SECRET-MARKER");
    // The resource metadata now names AS2: register there; AS1's client never goes there.
    let mut s2 = server_at(AS2, "as2-client", "AS2-SECRET");
    let (mut flow, events) = start(with_prev.clone(), &mut s2);
    assert!(s2.log.iter().any(|r| r.url == format!("{AS2}/register")));
    assert_eq!(
        q(&authorize_url(&events), "client_id").as_deref(),
        Some("as2-client")
    );
    complete(&mut flow, &mut s2, &events);
    assert_eq!(flow.context().unwrap().registration_key(), AS2);
    for r in &s2.log {
        let all = format!(
            "{} {:?} {}",
            r.url,
            r.headers,
            String::from_utf8_lossy(&r.body)
        );
        assert!(!all.contains("as1-client"), "{all}");
        assert!(!all.contains("AS1-SECRET-MARKER"), "{all}");
    }
    // Another redirect URI: the old registration does not cover it, register anew.
    let mut other_uri = with_prev.clone();
    other_uri.client.redirect_uri = "http://127.0.0.1:9999/callback".into();
    let mut s3 = server_at(AS, "as1-client-2", "x");
    let (_, events) = start(other_uri, &mut s3);
    assert_eq!(
        q(&authorize_url(&events), "client_id").as_deref(),
        Some("as1-client-2")
    );
    // A context of another MCP server is ignored.
    let mut foreign = ctx1.clone();
    foreign.server_url = "https://other.example.com/mcp".into();
    let mut cfg_foreign = cfg.clone();
    cfg_foreign.previous = Some(foreign);
    let mut s4 = server_at(AS, "fresh-client", "x");
    let (_, events) = start(cfg_foreign, &mut s4);
    assert_eq!(
        q(&authorize_url(&events), "client_id").as_deref(),
        Some("fresh-client")
    );
    // A pre-registered client recorded at AS is not tried at AS2: a clear error instead.
    let mut pre = ctx1;
    pre.identity_source = IdentitySource::PreRegistered;
    pre.client_id = "pub-client".into();
    let mut cfg_pre = generic_config(Some("Bearer"));
    cfg_pre.previous = Some(pre);
    let mut s5 = server_at(AS2, "unused", "unused");
    let (_, events) = start(cfg_pre.clone(), &mut s5);
    let e = failure(&events);
    assert_eq!(e.code(), "no_client_identity");
    assert!(e.to_string().contains(AS2), "{e}");
    assert!(e.hint().unwrap().contains("another authorization server"));
    assert!(s5
        .log
        .iter()
        .all(|r| !r.url.starts_with(AS2) || r.url.contains("/.well-known/")));
    // ... while at its own issuer it is used as before.
    let (_, events) = start(cfg_pre, &mut server_at(AS, "unused", "unused"));
    assert_eq!(
        q(&authorize_url(&events), "client_id").as_deref(),
        Some("pub-client")
    );
}

/// A pre-registered secret goes to a token endpoint on the MCP server's own host only when
/// the app gave it for this server (`client_secret_for_server_host`); never to another host.
#[test]
fn a_secret_given_for_the_server_may_go_to_its_host() {
    let server_with_as = |asu: &str| {
        let mut s = Server::default();
        let mut meta = as_meta(json!({}));
        meta["issuer"] = json!(asu);
        meta["authorization_endpoint"] = json!(format!("{asu}/authorize"));
        meta["token_endpoint"] = json!(format!("{asu}/token"));
        let u = Url::parse(asu).unwrap();
        s.on(
            "https://mcp.example.com/.well-known/oauth-protected-resource/v1/mcp",
            HttpResponse::json(
                200,
                &json!({"resource": MCP, "authorization_servers": [asu]}),
            ),
        )
        .on(
            &format!(
                "{}/.well-known/oauth-authorization-server{}",
                u.origin().ascii_serialization(),
                u.path().trim_end_matches('/')
            ),
            HttpResponse::json(200, &meta),
        );
        s
    };
    let cfg = |for_host: bool| {
        let mut c = generic_config(Some("Bearer"));
        c.client.client_secret = Some(SecretString::new("PRE-SECRET-MARKER"));
        c.client.client_secret_for_server_host = for_host;
        c
    };
    let same_host = "https://mcp.example.com:8443/oauth";
    // Not given for this server: refused before anything carries it.
    let (_, events) = start(cfg(false), &mut server_with_as(same_host));
    assert_eq!(failure(&events).code(), "client_secret_not_for_server");
    // Given for it: the server's own host is fine (another port included).
    let (_, events) = start(cfg(true), &mut server_with_as(same_host));
    authorize_url(&events);
    // ... but never another host.
    let (_, events) = start(cfg(true), &mut server_with_as("https://auth.other.example"));
    assert_eq!(failure(&events).code(), "client_secret_not_for_server");
}

#[test]
fn registration_refused_and_no_identity() {
    let mut s = generic_server(
        prm(None),
        as_meta(json!({"registration_endpoint": format!("{AS}/register")})),
    );
    s.on(
        &format!("{AS}/register"),
        HttpResponse::json(400, &json!({"error": "invalid_redirect_uri"})),
    );
    let mut cfg = generic_config(Some("Bearer"));
    cfg.client.client_id = None;
    let (_, events) = start(cfg.clone(), &mut s);
    assert_eq!(failure(&events).code(), "no_client_identity");
    let mut s = generic_server(prm(None), as_meta(json!({})));
    let (_, events) = start(cfg, &mut s);
    let e = failure(&events);
    assert_eq!(e.code(), "no_client_identity");
    assert!(e.hint().unwrap().contains("client_id"));
}

#[test]
fn client_id_metadata_document() {
    let mut s = generic_server(
        prm(None),
        as_meta(
            json!({"client_id_metadata_document_supported": true, "registration_endpoint": format!("{AS}/register")}),
        ),
    );
    let mut cfg = generic_config(Some("Bearer"));
    cfg.client.client_id = None;
    cfg.client.client_metadata_url = Some("https://app.example.com/oauth/client.json".into());
    let (flow, events) = start(cfg, &mut s);
    let url = authorize_url(&events);
    assert_eq!(
        q(&url, "client_id").as_deref(),
        Some("https://app.example.com/oauth/client.json")
    );
    assert_eq!(
        flow.context().unwrap().identity_source,
        IdentitySource::MetadataDocument
    );
    assert!(!s.urls().iter().any(|u| u.contains("/register")));
}

#[test]
fn pre_registered_basic_and_post_and_public() {
    // Basic: supported by the AS and a secret given.
    let mut s = generic_server(prm(None), as_meta(json!({})));
    let mut cfg = generic_config(Some("Bearer"));
    cfg.client.client_secret = Some("S3CRET".into());
    // Not WorkBoard's: the secret's token endpoint is named explicitly.
    cfg.client.client_secret_for = Some(format!("{AS}/token"));
    let (mut flow, events) = start(cfg.clone(), &mut s);
    assert_eq!(
        flow.context().unwrap().token_endpoint_auth,
        TokenEndpointAuth::ClientSecretBasic
    );
    complete(&mut flow, &mut s, &events);
    let last = s.log.last().unwrap();
    assert_eq!(
        last.header("Authorization"),
        Some("Basic cHViLWNsaWVudDpTM0NSRVQ=")
    );
    assert!(!form(&s.last_body()).contains_key("client_secret"));
    // Post only.
    let mut s = generic_server(
        prm(None),
        as_meta(json!({"token_endpoint_auth_methods_supported": ["client_secret_post"]})),
    );
    let (mut flow, events) = start(cfg, &mut s);
    complete(&mut flow, &mut s, &events);
    let body = form(&s.last_body());
    assert_eq!(body["client_secret"], "S3CRET");
    assert_eq!(body["client_id"], "pub-client");
    // Public client.
    let mut s = generic_server(prm(None), as_meta(json!({})));
    let (mut flow, events) = start(generic_config(Some("Bearer")), &mut s);
    assert_eq!(
        flow.context().unwrap().token_endpoint_auth,
        TokenEndpointAuth::None
    );
    complete(&mut flow, &mut s, &events);
    assert!(s.log.last().unwrap().header("authorization").is_none());
    assert_eq!(form(&s.last_body())["client_id"], "pub-client");
}

#[test]
fn a_client_secret_goes_only_to_workboard_or_the_token_endpoint_named_for_it() {
    const HASH: &str = "WB-CLIENT-HASH-MARKER";
    let never_sent = |s: &Server| {
        for r in &s.log {
            let text = format!(
                "{} {:?} {}",
                r.url,
                r.headers,
                String::from_utf8_lossy(&r.body)
            );
            assert!(!text.contains(HASH), "the secret was sent: {text}");
            // Basic auth would carry it base64-encoded.
            assert!(r.header("authorization").is_none(), "{text}");
        }
    };
    // A foreign MCP server whose authorization server is not WorkBoard's.
    let mut s = generic_server(prm(None), as_meta(json!({})));
    let mut cfg = generic_config(Some("Bearer"));
    cfg.client.client_secret = Some(HASH.into());
    let (flow, events) = start(cfg.clone(), &mut s);
    let e = failure(&events);
    assert_eq!(e.code(), "client_secret_not_for_server");
    assert!(
        e.to_string().contains("https://auth.example.com/token"),
        "{e}"
    );
    assert!(e.hint().unwrap().contains("WORKBOARD_CLIENT_HASH"));
    assert!(flow.is_finished() && flow.pending_json().is_none());
    never_sent(&s);
    // Naming another endpoint than the one discovered does not help.
    let mut s = generic_server(prm(None), as_meta(json!({})));
    cfg.client.client_secret_for = Some("https://auth.example.com/other-token".into());
    let (_, events) = start(cfg.clone(), &mut s);
    assert_eq!(failure(&events).code(), "client_secret_not_for_server");
    never_sent(&s);
    // WorkBoard (and a registered WorkBoard environment) get it.
    let mut s = wb_server(WB);
    let (mut flow, events) = start(wb_config(WB), &mut s);
    complete(&mut flow, &mut s, &events);
    assert_eq!(form(&s.last_body())["client_secret"], "HASH-SECRET-MARKER");
    // Without a secret, the foreign server signs in as a public client.
    let mut s = generic_server(prm(None), as_meta(json!({})));
    let (mut flow, events) = start(generic_config(Some("Bearer")), &mut s);
    complete(&mut flow, &mut s, &events);
}

#[test]
fn scope_selection() {
    type Case<'a> = (
        Option<&'a str>,
        Option<Value>,
        Option<Value>,
        Option<&'a str>,
    );
    let cases: [Case; 5] = [
        // challenge scope wins over PRM
        (
            Some(r#"Bearer scope="files:read files:write""#),
            Some(json!(["a", "b"])),
            None,
            Some("files:read files:write"),
        ),
        // PRM scopes_supported joined
        (Some("Bearer"), Some(json!(["a", "b"])), None, Some("a b")),
        // nothing: omitted
        (Some("Bearer"), None, None, None),
        // offline_access added when the AS advertises it
        (
            Some("Bearer"),
            Some(json!(["mcp"])),
            Some(json!(["mcp", "offline_access"])),
            Some("mcp offline_access"),
        ),
        // ... and not when it does not
        (
            Some("Bearer"),
            Some(json!(["mcp"])),
            Some(json!(["mcp", "profile"])),
            Some("mcp"),
        ),
    ];
    for (www, prm_scopes, as_scopes, want) in cases {
        let extra = as_scopes
            .map(|s| json!({"scopes_supported": s}))
            .unwrap_or(json!({}));
        let mut s = generic_server(prm(prm_scopes), as_meta(extra));
        let (_, events) = start(generic_config(www), &mut s);
        assert_eq!(
            q(&authorize_url(&events), "scope").as_deref(),
            want,
            "{www:?}"
        );
    }
}

#[test]
fn rfc9207_iss() {
    let meta = as_meta(json!({"authorization_response_iss_parameter_supported": true}));
    // Correct iss accepted.
    let mut s = generic_server(prm(None), meta.clone());
    let (mut flow, events) = start(generic_config(Some("Bearer")), &mut s);
    let url = authorize_url(&events);
    let iss = url::form_urlencoded::byte_serialize(AS.as_bytes()).collect::<String>();
    flow.handle_redirect(&format!("{}&iss={iss}", redirect_for(&url, "C")), T0)
        .unwrap();
    // Wrong iss refused (mix-up attack).
    let mut s = generic_server(prm(None), meta.clone());
    let (mut flow, events) = start(generic_config(Some("Bearer")), &mut s);
    let url = authorize_url(&events);
    let e = flow
        .handle_redirect(
            &format!("{}&iss=https%3A%2F%2Fevil.example", redirect_for(&url, "C")),
            T0,
        )
        .unwrap_err();
    assert_eq!(e.code(), "iss_mismatch");
    assert!(s.log.iter().all(|r| !r.url.ends_with("/token")));
    // Missing iss when promised: refused.
    let mut s = generic_server(prm(None), meta);
    let (mut flow, events) = start(generic_config(Some("Bearer")), &mut s);
    let url = authorize_url(&events);
    assert_eq!(
        flow.handle_redirect(&redirect_for(&url, "C"), T0)
            .unwrap_err()
            .code(),
        "iss_mismatch"
    );
    assert!(flow.poll_request().is_none(), "no code exchange");
    // Not advertised: absent iss proceeds; a present one must still match, exactly.
    let plain = as_meta(json!({}));
    let mut s = generic_server(prm(None), plain.clone());
    let (mut flow, events) = start(generic_config(Some("Bearer")), &mut s);
    flow.handle_redirect(&redirect_for(&authorize_url(&events), "C"), T0)
        .unwrap();
    for wrong in ["https%3A%2F%2Fevil.example", &format!("{iss}%2F")] {
        let mut s = generic_server(prm(None), plain.clone());
        let (mut flow, events) = start(generic_config(Some("Bearer")), &mut s);
        let url = authorize_url(&events);
        let e = flow
            .handle_redirect(&format!("{}&iss={wrong}", redirect_for(&url, "C")), T0)
            .unwrap_err();
        assert_eq!(e.code(), "iss_mismatch", "{wrong}");
        assert!(flow.poll_request().is_none(), "no code exchange");
        assert!(flow.is_finished());
    }
    // WorkBoard: iss equal to the declared (quirky) issuer is accepted.
    let mut server = wb_server(WB);
    let mut flow = McpAuthFlow::new(wb_config(WB), &mut entropy(), T0).unwrap();
    let url = authorize_url(&run(&mut flow, &mut server, T0));
    flow.handle_redirect(
        &format!(
            "{}&iss=https%3A%2F%2Fwww.myworkboard.com%2Fwb",
            redirect_for(&url, "C")
        ),
        T0,
    )
    .unwrap();
}

#[test]
fn redirect_state_expiry_reuse_and_denial() {
    let mut s = generic_server(prm(None), as_meta(json!({})));
    let (mut flow, events) = start(generic_config(Some("Bearer")), &mut s);
    let url = authorize_url(&events);
    // Wrong state: refused, pending kept.
    assert_eq!(
        flow.handle_redirect(&format!("{REDIRECT}?code=C&state=forged"), T0)
            .unwrap_err()
            .code(),
        "state_mismatch"
    );
    assert_eq!(
        flow.handle_redirect(&format!("{REDIRECT}?code=C"), T0)
            .unwrap_err()
            .code(),
        "state_missing"
    );
    // Wrong redirect URI base.
    let other = redirect_for(&url, "C").replace("8765", "9999");
    assert_eq!(
        flow.handle_redirect(&other, T0).unwrap_err().code(),
        "redirect_uri_mismatch"
    );
    // Bare query string works.
    let query = redirect_for(&url, "C")
        .split_once('?')
        .unwrap()
        .1
        .to_string();
    flow.handle_redirect(&query, T0 + 1000).unwrap();
    assert_eq!(
        flow.handle_redirect(&query, T0 + 1000).unwrap_err().code(),
        "authorization_reused"
    );
    // Expired.
    let mut s = generic_server(prm(None), as_meta(json!({})));
    let (mut flow, events) = start(generic_config(Some("Bearer")), &mut s);
    let url = authorize_url(&events);
    let e = flow
        .handle_redirect(&redirect_for(&url, "C"), T0 + PENDING_LIFETIME_MS + 1)
        .unwrap_err();
    assert_eq!(e.code(), "authorization_expired");
    // Denied.
    let mut s = generic_server(prm(None), as_meta(json!({})));
    let (mut flow, events) = start(generic_config(Some("Bearer")), &mut s);
    let url = authorize_url(&events);
    let denied = format!(
        "{REDIRECT}?error=access_denied&state={}",
        q(&url, "state").unwrap()
    );
    assert_eq!(
        flow.handle_redirect(&denied, T0).unwrap_err().code(),
        "authorization_denied"
    );
    assert_eq!(
        failure(&std::iter::from_fn(|| flow.poll_event()).collect::<Vec<_>>()).code(),
        "authorization_denied"
    );
}

#[test]
fn token_exchange_error_is_typed() {
    let mut s = generic_server(prm(None), as_meta(json!({})));
    s.routes.remove(&format!("{AS}/token"));
    s.on(
        &format!("{AS}/token"),
        HttpResponse::json(
            400,
            &json!({"error": "invalid_grant", "error_description": "code used"}),
        ),
    );
    let (mut flow, events) = start(generic_config(Some("Bearer")), &mut s);
    let url = authorize_url(&events);
    flow.handle_redirect(&redirect_for(&url, "C"), T0).unwrap();
    let events = run(&mut flow, &mut s, T0);
    let e = failure(&events);
    assert_eq!(e.code(), "token_endpoint_error");
    assert!(e.hint().unwrap().contains("sign in again"));
}

#[test]
fn metadata_http_and_transport_failures_are_typed() {
    let mut s = Server::default();
    s.on(
        "https://mcp.example.com/.well-known/oauth-protected-resource/v1/mcp",
        HttpResponse::new(500, vec![], "boom"),
    );
    let (_, events) = start(generic_config(Some("Bearer")), &mut s);
    assert_eq!(failure(&events).code(), "http_status");
    let mut s = Server::default();
    s.fail(
        "https://mcp.example.com/.well-known/oauth-protected-resource/v1/mcp",
        TransportError::Timeout,
    );
    let (_, events) = start(generic_config(Some("Bearer")), &mut s);
    assert_eq!(failure(&events).code(), "transport");
    let mut s = Server::default();
    s.on(
        "https://mcp.example.com/.well-known/oauth-protected-resource/v1/mcp",
        HttpResponse::new(200, vec![], "<html>"),
    );
    let (_, events) = start(generic_config(Some("Bearer")), &mut s);
    assert_eq!(failure(&events).code(), "invalid_response");
    // Bad inputs to the constructor.
    for bad in ["not a url", "http://mcp.example.com/mcp", "ftp://x/y"] {
        let e =
            McpAuthFlow::new(McpAuthConfig::new(bad, REDIRECT), &mut entropy(), T0).unwrap_err();
        assert!(
            ["invalid_url", "insecure_url"].contains(&e.code()),
            "{bad}: {e:?}"
        );
    }
}

#[test]
fn stale_and_unknown_responses_are_ignored() {
    let mut s = generic_server(prm(None), as_meta(json!({})));
    let mut flow = McpAuthFlow::new(generic_config(Some("Bearer")), &mut entropy(), T0).unwrap();
    let req = flow.poll_request().unwrap();
    flow.handle_response(RequestId(999), Ok(HttpResponse::new(500, vec![], "")), T0);
    let resp = s.respond(&req);
    flow.handle_response(req.id, resp, T0);
    // A duplicate of the same response is ignored too.
    flow.handle_response(req.id, Ok(HttpResponse::new(500, vec![], "")), T0);
    let events = run(&mut flow, &mut s, T0);
    authorize_url(&events);
}

#[test]
fn resource_on_authorize_token_and_refresh() {
    let mut s = generic_server(prm(None), as_meta(json!({})));
    let (mut flow, events) = start(generic_config(Some("Bearer")), &mut s);
    assert_eq!(q(&authorize_url(&events), "resource").as_deref(), Some(MCP));
    let set = complete(&mut flow, &mut s, &events);
    assert_eq!(form(&s.last_body())["resource"], MCP);
    let ctx = flow.context().unwrap();
    let req = ctx.refresh_request(RequestId(77), set.refresh_token.as_ref().unwrap());
    let body = form(&String::from_utf8(req.body).unwrap());
    assert_eq!(body["resource"], MCP);
    assert_eq!(body["grant_type"], "refresh_token");
    assert_eq!(body["refresh_token"], "RT-SECRET-1");
}

#[test]
fn refresh_with_and_without_rotation() {
    let mut s = generic_server(prm(None), as_meta(json!({})));
    let (mut flow, events) = start(generic_config(Some("Bearer")), &mut s);
    let set = complete(&mut flow, &mut s, &events);
    let ctx = flow.context().unwrap();
    let rotated = ctx
        .handle_refresh_response(
            &HttpResponse::json(200, &json!({"access_token": "AT-2", "token_type": "Bearer", "refresh_token": "RT-2", "expires_in": 60})),
            &set,
            T0 + 5000,
        )
        .unwrap();
    assert_eq!(rotated.refresh_token.as_ref().unwrap().expose(), "RT-2");
    assert_eq!(rotated.expires_at_ms, Some(T0 + 5000 + 60_000));
    let kept = ctx
        .handle_refresh_response(
            &HttpResponse::json(
                200,
                &json!({"access_token": "AT-3", "token_type": "Bearer"}),
            ),
            &rotated,
            T0,
        )
        .unwrap();
    assert_eq!(kept.refresh_token.as_ref().unwrap().expose(), "RT-2");
    assert_eq!(kept.access_token.expose(), "AT-3");
}

#[test]
fn step_up_bounded_at_three_authorizations() {
    let mut s = generic_server(prm(Some(json!(["read"]))), as_meta(json!({})));
    let (mut flow, events) = start(generic_config(Some("Bearer")), &mut s);
    complete(&mut flow, &mut s, &events);
    assert_eq!(flow.attempts(), 1);
    let mut e = entropy();
    flow.step_up("write", &mut e, T0 + 10_000).unwrap();
    let ev: Vec<_> = std::iter::from_fn(|| flow.poll_event()).collect();
    let url = authorize_url(&ev);
    assert_eq!(q(&url, "scope").as_deref(), Some("read write"));
    assert_eq!(
        flow.context().unwrap().scopes.as_deref(),
        Some("read write")
    );
    flow.handle_redirect(&redirect_for(&url, "C2"), T0 + 11_000)
        .unwrap();
    let set = credentials(&run(&mut flow, &mut s, T0 + 11_000));
    assert_eq!(set.access_token.expose(), "AT-SECRET-1");
    flow.step_up("admin", &mut e, T0 + 20_000).unwrap();
    assert_eq!(flow.attempts(), MAX_AUTHORIZATION_ATTEMPTS);
    let err = flow.step_up("more", &mut e, T0 + 30_000).unwrap_err();
    assert_eq!(err.code(), "insufficient_scope");
    assert!(flow.is_finished());
    // Before discovery there is nothing to step up.
    let mut fresh = McpAuthFlow::new(generic_config(Some("Bearer")), &mut entropy(), T0).unwrap();
    assert_eq!(
        fresh.step_up("x", &mut e, T0).unwrap_err().code(),
        "wrong_state"
    );
}

#[test]
fn revocation_requests() {
    let mut s = generic_server(prm(None), as_meta(json!({})));
    let (mut flow, events) = start(generic_config(Some("Bearer")), &mut s);
    let set = complete(&mut flow, &mut s, &events);
    let ctx = flow.context().unwrap();
    let mut n = 100;
    let mut ids = || {
        n += 1;
        RequestId(n)
    };
    let reqs = ctx.revoke_requests(&mut ids, &Credentials::OAuth(set.clone()));
    assert_eq!(reqs.len(), 2);
    assert!(reqs
        .iter()
        .all(|r| r.url == "https://auth.example.com/revoke" && r.method == Method::Post));
    let b0 = form(&String::from_utf8(reqs[0].body.clone()).unwrap());
    let b1 = form(&String::from_utf8(reqs[1].body.clone()).unwrap());
    assert_eq!(
        (b0["token"].as_str(), b0["token_type_hint"].as_str()),
        ("RT-SECRET-1", "refresh_token")
    );
    assert_eq!(
        (b1["token"].as_str(), b1["token_type_hint"].as_str()),
        ("AT-SECRET-1", "access_token")
    );
    // WorkBoard advertises no revocation endpoint: nothing to send.
    let mut server = wb_server(WB);
    let mut wb = McpAuthFlow::new(wb_config(WB), &mut entropy(), T0).unwrap();
    run(&mut wb, &mut server, T0);
    assert!(wb
        .context()
        .unwrap()
        .revoke_requests(&mut ids, &Credentials::OAuth(set))
        .is_empty());
}

#[test]
fn resume_from_serialized_pending_state() {
    let mut s = generic_server(prm(None), as_meta(json!({})));
    let (flow, events) = start(generic_config(Some("Bearer")), &mut s);
    let url = authorize_url(&events);
    let saved = flow.pending_json().unwrap();
    drop(flow); // the app is killed
    let mut resumed = McpAuthFlow::resume(&saved).unwrap();
    assert!(resumed.is_awaiting_redirect());
    resumed
        .handle_redirect(&redirect_for(&url, "C9"), T0 + 60_000)
        .unwrap();
    let set = credentials(&run(&mut resumed, &mut s, T0 + 61_000));
    assert_eq!(set.access_token.expose(), "AT-SECRET-1");
    assert_eq!(
        challenge_s256(&form(&s.last_body())["code_verifier"]),
        q(&url, "code_challenge").unwrap()
    );
    assert!(resumed.pending_json().is_none());
    for bad in ["", "{}", "[1]", "{\"version\":2}"] {
        assert_eq!(
            McpAuthFlow::resume(bad).unwrap_err().code(),
            "invalid_input",
            "{bad}"
        );
    }
}

#[test]
fn from_saved_context_skips_discovery() {
    let mut s = generic_server(prm(None), as_meta(json!({})));
    let (mut flow, events) = start(generic_config(Some("Bearer")), &mut s);
    complete(&mut flow, &mut s, &events);
    let json = flow.context().unwrap().to_json();
    let ctx = AuthContext::from_json(&json).unwrap();
    let mut s2 = generic_server(prm(None), as_meta(json!({})));
    let mut again = McpAuthFlow::from_context(ctx, &mut entropy(), T0).unwrap();
    let events: Vec<_> = std::iter::from_fn(|| again.poll_event()).collect();
    let url = authorize_url(&events);
    again.handle_redirect(&redirect_for(&url, "C"), T0).unwrap();
    credentials(&run(&mut again, &mut s2, T0));
    assert_eq!(s2.urls(), ["POST https://auth.example.com/token"]);
}

#[test]
fn secrets_never_in_debug_or_errors() {
    let marker = "HASH-SECRET-MARKER";
    let mut server = wb_server(WB);
    let mut flow = McpAuthFlow::new(wb_config(WB), &mut entropy(), T0).unwrap();
    let events = run(&mut flow, &mut server, T0);
    let url = authorize_url(&events);
    let state = q(&url, "state").unwrap();
    let saved = flow.pending_json().unwrap();
    let verifier: Value = serde_json::from_str(&saved).unwrap();
    let verifier = verifier["pkce_verifier"].as_str().unwrap().to_string();
    let mut dumps = vec![
        format!("{events:?}"),
        format!("{flow:?}"),
        format!("{:?}", flow.context()),
    ];
    assert_eq!(
        flow.handle_redirect(&format!("{REDIRECT}?code=CODE-MARKER&state=zzz"), T0)
            .unwrap_err()
            .code(),
        "state_mismatch"
    );
    flow.handle_redirect(&format!("{REDIRECT}?code=CODE-MARKER&state={state}"), T0)
        .unwrap();
    let req = flow.poll_request().unwrap();
    dumps.push(format!("{req:?}"));
    flow.handle_response(
        req.id,
        Ok(HttpResponse::json(
            400,
            &json!({"error": "invalid_grant", "error_description": "bad"}),
        )),
        T0,
    );
    let events: Vec<_> = std::iter::from_fn(|| flow.poll_event()).collect();
    dumps.push(format!("{events:?}"));
    dumps.push(failure(&events).to_string());
    dumps.push(format!("{:?}", failure(&events).info()));
    dumps.push(format!("{flow:?}"));
    let ok = McpAuthEvent::CredentialsChanged(Credentials::OAuth(
        AuthContext::from_json(&flow.context().unwrap().to_json())
            .unwrap()
            .handle_code_response(
                &workboard_core::HttpRequest {
                    id: workboard_core::RequestId(1),
                    method: workboard_core::Method::Post,
                    url: "https://as.example/token".into(),
                    headers: Vec::new(),
                    body: Vec::new(),
                },
                &token_json(),
                T0,
            )
            .unwrap(),
    ));
    dumps.push(format!("{ok:?}"));
    for d in &dumps {
        for secret in [
            marker,
            "CODE-MARKER",
            state.as_str(),
            verifier.as_str(),
            "AT-SECRET-1",
            "RT-SECRET-1",
        ] {
            assert!(!d.contains(secret), "`{secret}` leaked in {d}");
        }
    }
}

#[test]
fn probe_request_shape_and_parent_resource() {
    // The PRM names the server's origin (a same-origin parent): accepted, and that resource is
    // what the token is requested for.
    let mut s = Server::default();
    s.on(
        MCP,
        HttpResponse::new(
            401,
            vec![(
                "WWW-Authenticate".into(),
                r#"Basic realm="x", Bearer scope="s1""#.into(),
            )],
            "",
        ),
    )
    .on(
        "https://mcp.example.com/.well-known/oauth-protected-resource/v1/mcp",
        HttpResponse::json(
            200,
            &json!({"resource": "https://mcp.example.com/", "authorization_servers": [AS]}),
        ),
    )
    .on(
        &format!("{AS}/.well-known/oauth-authorization-server"),
        HttpResponse::json(200, &as_meta(json!({}))),
    );
    let (flow, events) = start(generic_config(None), &mut s);
    let probe = &s.log[0];
    assert_eq!(probe.method, Method::Post);
    assert_eq!(probe.url, MCP);
    assert!(probe.header("authorization").is_none());
    let body: Value = serde_json::from_slice(&probe.body).unwrap();
    // The dual-era probe: a modern (2026-07-28) tools/list.
    assert_eq!(body["method"], "tools/list");
    assert_eq!(
        body["params"]["_meta"]["io.modelcontextprotocol/protocolVersion"],
        "2026-07-28"
    );
    let url = authorize_url(&events);
    assert_eq!(
        q(&url, "resource").as_deref(),
        Some("https://mcp.example.com")
    );
    assert_eq!(q(&url, "scope").as_deref(), Some("s1"));
    assert_eq!(flow.context().unwrap().resource, "https://mcp.example.com");
}

#[test]
fn starts_from_a_received_401() {
    let resp = HttpResponse::new(
        401,
        vec![
            ("WWW-Authenticate".into(), r#"Basic realm="legacy""#.into()),
            (
                "www-authenticate".into(),
                r#"Bearer resource_metadata="https://meta.example.com/prm", scope="s2""#.into(),
            ),
        ],
        "",
    );
    let mut s = generic_server(prm(None), as_meta(json!({})));
    s.on(
        "https://meta.example.com/prm",
        HttpResponse::json(200, &prm(None)),
    );
    let cfg = generic_config(None).with_challenge_from(&resp);
    let (_, events) = start(cfg, &mut s);
    assert_eq!(s.urls()[0], "GET https://meta.example.com/prm");
    assert_eq!(q(&authorize_url(&events), "scope").as_deref(), Some("s2"));
    // A response without challenges leaves the config as it was (the flow will probe).
    let cfg = generic_config(None).with_challenge_from(&HttpResponse::new(401, vec![], ""));
    assert_eq!(cfg.www_authenticate, None);
}

/// Every text a token endpoint sends back (error_description, an HTML page's title) may echo
/// the request's secrets: the code, the PKCE verifier, the refresh token, the client secret.
/// None of them reaches the error's message, hint, Display or Debug.
#[test]
fn token_endpoint_errors_never_echo_request_secrets() {
    fn assert_clean(e: &Error, secrets: &[&str]) {
        let info = e.info();
        let text = format!("{e} {e:?} {} {:?} {info:?}", info.message, info.hint);
        for s in secrets {
            assert!(!text.contains(s), "`{s}` in the error: {text}");
        }
        assert!(text.contains("<redacted>"), "{text}");
    }
    // The code exchange of a flow: the server's error echoes everything it was sent.
    for status in [400u16, 502] {
        let mut server = wb_server(WB);
        let mut flow = McpAuthFlow::new(wb_config(WB), &mut entropy(), T0).unwrap();
        let events = run(&mut flow, &mut server, T0);
        let url = authorize_url(&events);
        flow.handle_redirect(&redirect_for(&url, "CODE-ECHOED-1234"), T0 + 30_000)
            .unwrap();
        let req = flow.poll_request().unwrap();
        let body = form(&String::from_utf8(req.body.clone()).unwrap());
        let echo = format!(
            "code {} rejected (verifier {}, client_secret {})",
            body["code"], body["code_verifier"], body["client_secret"]
        );
        let resp = if status == 400 {
            HttpResponse::json(
                400,
                &json!({"error": "invalid_grant", "error_description": echo}),
            )
        } else {
            HttpResponse::new(502, vec![], format!("<html><title>{echo}</title></html>"))
        };
        flow.handle_response(req.id, Ok(resp), T0 + 31_000);
        let events: Vec<_> = std::iter::from_fn(|| flow.poll_event()).collect();
        let e = failure(&events);
        let secrets = [
            "CODE-ECHOED-1234",
            body["code_verifier"].as_str(),
            "HASH-SECRET-MARKER",
        ];
        assert_clean(e, &secrets);
        assert!(!format!("{events:?} {flow:?}").contains("CODE-ECHOED-1234"));
    }
    // A refresh: the refresh token, the access token and the client secret.
    let mut server = wb_server(WB);
    let mut flow = McpAuthFlow::new(wb_config(WB), &mut entropy(), T0).unwrap();
    let events = run(&mut flow, &mut server, T0);
    flow.handle_redirect(
        &redirect_for(&authorize_url(&events), "CODE-1"),
        T0 + 30_000,
    )
    .unwrap();
    let set = credentials(&run(&mut flow, &mut server, T0 + 31_000));
    let ctx = flow.context().unwrap();
    let e = ctx
        .handle_refresh_response(
            &HttpResponse::json(
                400,
                &json!({"error": "invalid_grant", "error_description": "refresh token RT-SECRET-1 for AT-SECRET-1 (client HASH-SECRET-MARKER) revoked"}),
            ),
            &set,
            T0 + 60_000,
        )
        .unwrap_err();
    assert_clean(&e, &["RT-SECRET-1", "AT-SECRET-1", "HASH-SECRET-MARKER"]);
    // The stateless handler, with the request that was sent (client_secret_basic).
    let req = ctx.code_exchange_request(
        RequestId(9),
        &SecretString::new("CODE-STATELESS-9"),
        &SecretString::new("VERIFIER-STATELESS-9"),
    );
    let e = ctx
        .handle_code_response(
            &req,
            &HttpResponse::json(
                400,
                &json!({"error": "invalid_grant", "error_description": "CODE-STATELESS-9 / VERIFIER-STATELESS-9"}),
            ),
            T0,
        )
        .unwrap_err();
    assert_clean(&e, &["CODE-STATELESS-9", "VERIFIER-STATELESS-9"]);
}

/// A server that opens a session to anyone and protects its tools: the probe's anonymous
/// `initialize` succeeds, its `tools/list` on that session answers 401, and discovery starts
/// from that challenge (was: "the server did not ask for authorization").
#[test]
fn a_session_open_to_anyone_with_protected_tools_still_asks_for_sign_in() {
    let mut s = generic_server(prm(None), as_meta(json!({})));
    s.routes.remove(MCP);
    // A legacy server: the modern probe is refused, the legacy one opens a session.
    s.on(MCP, legacy_refusal());
    s.on(
        MCP,
        HttpResponse::new(
            200,
            vec![
                ("Content-Type".into(), "application/json".into()),
                ("Mcp-Session-Id".into(), "anon-1".into()),
            ],
            r#"{"jsonrpc":"2.0","id":0,"result":{"protocolVersion":"2025-11-25","capabilities":{},"serverInfo":{"name":"s","version":"1"}}}"#,
        ),
    )
    .on(
        MCP,
        HttpResponse::new(
            401,
            vec![(
                "WWW-Authenticate".into(),
                "Bearer error=\"invalid_token\", scope=\"tools:read\"".into(),
            )],
            "",
        ),
    );
    let (_, events) = start(generic_config(None), &mut s);
    let url = authorize_url(&events);
    let tools_probe = &s.log[2];
    assert_eq!(tools_probe.url, MCP);
    assert!(String::from_utf8_lossy(&tools_probe.body).contains("tools/list"));
    assert_eq!(tools_probe.header("Mcp-Session-Id"), Some("anon-1"));
    assert!(tools_probe.header("authorization").is_none());
    let scope = url
        .query_pairs()
        .find(|(k, _)| k == "scope")
        .map(|(_, v)| v.to_string())
        .unwrap_or_default();
    assert!(
        scope.contains("tools:read"),
        "the challenge's scope is asked for: {scope}"
    );
}

#[test]
fn a_server_whose_tools_need_no_sign_in_is_not_required() {
    let mut s = Server::default();
    s.on(MCP, legacy_refusal())
        .on(
            MCP,
            HttpResponse::json(200, &json!({"jsonrpc": "2.0", "id": 0, "result": {}})),
        )
        .on(
            MCP,
            HttpResponse::json(
                200,
                &json!({"jsonrpc": "2.0", "id": 1, "result": {"tools": []}}),
            ),
        );
    let (flow, events) = start(generic_config(None), &mut s);
    assert!(matches!(events[..], [McpAuthEvent::NotRequired]));
    assert!(flow.is_finished());
    assert_eq!(
        s.log.len(),
        3,
        "the modern probe, initialize, then tools/list"
    );
}

/// What a legacy server (TypeScript SDK 1.x) answers a modern request: 400 without a
/// modern error.
fn legacy_refusal() -> HttpResponse {
    HttpResponse::json(
        400,
        &json!({"jsonrpc": "2.0", "id": null, "error": {"code": -32000, "message": "Bad Request: No valid session ID provided"}}),
    )
}

#[test]
fn the_probe_is_dual_era_and_a_modern_challenge_gives_the_scope() {
    // A modern server: the anonymous modern tools/list gets the 401 with its scope.
    let mut s = generic_server(prm(Some(json!(["a", "b"]))), as_meta(json!({})));
    s.on(
        MCP,
        HttpResponse::new(
            401,
            vec![("WWW-Authenticate".into(), "Bearer scope=\"a\"".into())],
            "",
        ),
    );
    let (_flow, events) = start(generic_config(None), &mut s);
    let probe = &s.log[0];
    assert_eq!(probe.header("mcp-method"), Some("tools/list"));
    assert_eq!(probe.header("mcp-protocol-version"), Some("2026-07-28"));
    assert!(probe.header("authorization").is_none());
    assert!(!s
        .log
        .iter()
        .any(|r| String::from_utf8_lossy(&r.body).contains("initialize")));
    assert_eq!(q(&authorize_url(&events), "scope").as_deref(), Some("a"));

    // A legacy server refuses the modern request without a modern error: the initialize
    // probe follows, and its 401 starts discovery.
    let mut s = generic_server(prm(Some(json!(["a", "b"]))), as_meta(json!({})));
    s.on(
        MCP,
        HttpResponse::json(
            400,
            &json!({"jsonrpc": "2.0", "id": null, "error": {"code": -32000, "message": "Bad Request: No valid session ID provided"}}),
        ),
    )
    .on(
        MCP,
        HttpResponse::new(
            401,
            vec![("WWW-Authenticate".into(), "Bearer scope=\"b\"".into())],
            "",
        ),
    );
    let (_flow, events) = start(generic_config(None), &mut s);
    assert!(String::from_utf8_lossy(&s.log[1].body).contains("\"initialize\""));
    assert_eq!(q(&authorize_url(&events), "scope").as_deref(), Some("b"));
}
