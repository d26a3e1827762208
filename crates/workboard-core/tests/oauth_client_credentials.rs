//! The client credentials grant (MCP extension `io.modelcontextprotocol/oauth-client-credentials`):
//! discovery, each client authentication method, the signed assertion (verified here with the
//! public key), and renewal by running the grant again.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;

use base64::Engine as _;
use serde_json::{json, Value};
use workboard_core::oauth::client_credentials::{
    AssertionAlgorithm, AssertionKey, ClientAuthentication, ClientCredentialsConfig,
    CLIENT_ASSERTION_TYPE,
};
use workboard_core::oauth::flow::{McpAuthEvent, McpAuthFlow};
use workboard_core::oauth::registration::{IdentitySource, TokenEndpointAuth};
use workboard_core::testing::T0;
use workboard_core::{
    Credentials, HttpRequest, HttpResponse, RequestId, SansIo, SecretString, SeededEntropy,
};

const MCP: &str = "https://mcp.example.com/mcp";
const AS: &str = "https://mcp.example.com/auth";
const RSA_PEM: &str = include_str!("keys/test-rsa-2048.pem");

fn p256_pem() -> (String, p256::ecdsa::VerifyingKey) {
    use p256::pkcs8::EncodePrivateKey as _;
    let sk = p256::SecretKey::from_slice(&[7u8; 32]).unwrap();
    let pem = sk.to_pkcs8_pem(Default::default()).unwrap().to_string();
    let vk = p256::ecdsa::VerifyingKey::from(p256::ecdsa::SigningKey::from(sk));
    (pem, vk)
}

struct Server {
    routes: BTreeMap<String, HttpResponse>,
    log: Vec<HttpRequest>,
}

impl Server {
    fn new(as_url: &str, scopes: Option<Value>) -> Server {
        let mut prm = json!({"resource": MCP, "authorization_servers": [as_url]});
        if let Some(s) = scopes {
            prm["scopes_supported"] = s;
        }
        let meta = json!({
            "issuer": as_url,
            "authorization_endpoint": format!("{as_url}/authorize"),
            "token_endpoint": format!("{as_url}/token"),
            "grant_types_supported": ["client_credentials"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "private_key_jwt"],
            "code_challenge_methods_supported": ["S256"],
            "scopes_supported": ["mcp", "offline_access"]
        });
        let origin = url::Url::parse(as_url).unwrap();
        let path = origin.path().trim_end_matches('/').to_string();
        let mut routes = BTreeMap::new();
        routes.insert(
            "https://mcp.example.com/.well-known/oauth-protected-resource/mcp".to_string(),
            HttpResponse::json(200, &prm),
        );
        routes.insert(
            format!(
                "{}/.well-known/oauth-authorization-server{path}",
                origin.origin().ascii_serialization()
            ),
            HttpResponse::json(200, &meta),
        );
        routes.insert(
            format!("{as_url}/token"),
            HttpResponse::json(
                200,
                &json!({"access_token": "CC-TOKEN-1", "token_type": "Bearer", "expires_in": 60}),
            ),
        );
        Server {
            routes,
            log: Vec::new(),
        }
    }

    fn run(&mut self, flow: &mut McpAuthFlow) -> Vec<McpAuthEvent> {
        for _ in 0..20 {
            let Some(req) = flow.poll_request() else {
                break;
            };
            self.log.push(req.clone());
            let resp = self
                .routes
                .get(&req.url)
                .cloned()
                .unwrap_or_else(|| HttpResponse::new(404, vec![], "nope"));
            flow.handle_response(req.id, Ok(resp), T0);
        }
        std::iter::from_fn(|| flow.poll_event()).collect()
    }

    fn token_request(&self) -> &HttpRequest {
        self.log.iter().find(|r| r.url.ends_with("/token")).unwrap()
    }
}

fn form(req: &HttpRequest) -> BTreeMap<String, String> {
    url::form_urlencoded::parse(&req.body)
        .into_owned()
        .collect()
}

fn config(auth: ClientAuthentication) -> ClientCredentialsConfig {
    let mut c = ClientCredentialsConfig::new(MCP, "svc-client", auth);
    c.www_authenticate = Some("Bearer".into());
    c
}

fn signed_in(events: &[McpAuthEvent]) -> (Credentials, workboard_core::oauth::flow::AuthContext) {
    let mut creds = None;
    let mut ctx = None;
    for e in events {
        match e {
            McpAuthEvent::CredentialsChanged(c) => creds = Some(c.clone()),
            McpAuthEvent::ContextChanged(c) => ctx = Some(c.clone()),
            McpAuthEvent::AuthorizationUrl { .. } => panic!("no browser in this grant"),
            McpAuthEvent::Failed(e) => panic!("failed: {e} / {:?}", e.hint()),
            McpAuthEvent::NotRequired => panic!("not required"),
        }
    }
    (creds.unwrap(), ctx.unwrap())
}

#[test]
fn client_secret_basic_and_post() {
    for (auth, basic) in [
        (
            ClientAuthentication::ClientSecretBasic(SecretString::new("S3CRET-MARKER")),
            true,
        ),
        (
            ClientAuthentication::ClientSecretPost(SecretString::new("S3CRET-MARKER")),
            false,
        ),
    ] {
        let mut server = Server::new(AS, Some(json!(["mcp"])));
        let mut flow =
            McpAuthFlow::client_credentials(config(auth), &mut SeededEntropy::new([1; 32]), T0)
                .unwrap();
        let (creds, ctx) = signed_in(&server.run(&mut flow));
        let Credentials::OAuth(set) = &creds else {
            panic!()
        };
        assert_eq!(set.access_token.expose(), "CC-TOKEN-1");
        assert!(set.refresh_token.is_none());
        assert_eq!(set.scope.as_deref(), Some("mcp"), "no offline_access");
        assert_eq!(ctx.identity_source, IdentitySource::ClientCredentials);
        let req = server.token_request();
        let f = form(req);
        assert_eq!(f["grant_type"], "client_credentials");
        assert_eq!(f["scope"], "mcp");
        assert_eq!(f["resource"], MCP);
        if basic {
            let h = req.header("authorization").unwrap();
            let raw = base64::engine::general_purpose::STANDARD
                .decode(h.strip_prefix("Basic ").unwrap())
                .unwrap();
            assert_eq!(raw, b"svc-client:S3CRET-MARKER");
            assert!(!f.contains_key("client_secret"));
        } else {
            assert!(req.header("authorization").is_none());
            assert_eq!(f["client_id"], "svc-client");
            assert_eq!(f["client_secret"], "S3CRET-MARKER");
        }
        assert!(!format!("{ctx:?} {flow:?}").contains("S3CRET-MARKER"));
        // Renewal: no refresh token, the grant runs again with the stored secret.
        assert!(ctx.can_renew(&creds));
        let again = ctx
            .refresh_request_for(RequestId(9), set, T0 + 60_000)
            .unwrap();
        assert_eq!(form(&again)["grant_type"], "client_credentials");
        assert_eq!(again.url, format!("{AS}/token"));
        let renewed = ctx
            .handle_refresh_response(
                &HttpResponse::json(
                    200,
                    &json!({"access_token": "CC-TOKEN-2", "token_type": "bearer"}),
                ),
                set,
                T0 + 60_000,
            )
            .unwrap();
        assert_eq!(renewed.access_token.expose(), "CC-TOKEN-2");
        // The context round-trips (a later process renews from the store).
        let restored = workboard_core::oauth::flow::AuthContext::from_json(&ctx.to_json()).unwrap();
        assert_eq!(restored, ctx);
    }
}

fn decode_jwt(jwt: &str) -> (Value, Value, Vec<u8>, String) {
    let parts: Vec<&str> = jwt.split('.').collect();
    assert_eq!(parts.len(), 3);
    let d = |s: &str| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(s)
            .unwrap()
    };
    (
        serde_json::from_slice(&d(parts[0])).unwrap(),
        serde_json::from_slice(&d(parts[1])).unwrap(),
        d(parts[2]),
        format!("{}.{}", parts[0], parts[1]),
    )
}

#[test]
fn private_key_jwt_es256_assertion_verifies() {
    use p256::ecdsa::signature::Verifier as _;
    let (pem, vk) = p256_pem();
    let key = AssertionKey::from_pem(&pem).unwrap();
    assert_eq!(key.algorithm(), AssertionAlgorithm::Es256);
    assert!(!format!("{key:?}").contains("PRIVATE"));
    let mut server = Server::new(AS, None);
    let mut flow = McpAuthFlow::client_credentials(
        config(ClientAuthentication::PrivateKeyJwt(key)),
        &mut SeededEntropy::new([2; 32]),
        T0,
    )
    .unwrap();
    let (creds, ctx) = signed_in(&server.run(&mut flow));
    assert_eq!(ctx.token_endpoint_auth, TokenEndpointAuth::PrivateKeyJwt);
    let req = server.token_request().clone();
    let body = String::from_utf8(req.body.clone()).unwrap();
    assert!(!body.contains("PRIVATE"), "the key is never sent");
    assert!(req.header("authorization").is_none());
    let f = form(&req);
    assert_eq!(f["client_assertion_type"], CLIENT_ASSERTION_TYPE);
    let (header, claims, sig, input) = decode_jwt(&f["client_assertion"]);
    assert_eq!(header["alg"], "ES256");
    assert_eq!(claims["iss"], "svc-client");
    assert_eq!(claims["sub"], "svc-client");
    assert_eq!(claims["aud"], AS, "RFC 7523bis: the issuer identifier");
    assert_eq!(claims["iat"], T0 / 1000);
    assert_eq!(claims["exp"], T0 / 1000 + 300);
    assert!(claims["jti"].as_str().unwrap().len() >= 16);
    let sig = p256::ecdsa::Signature::from_slice(&sig).unwrap();
    vk.verify(input.as_bytes(), &sig).unwrap();
    // Renewal signs a new assertion with another jti.
    let Credentials::OAuth(set) = &creds else {
        panic!()
    };
    let again = ctx
        .refresh_request_for(RequestId(5), set, T0 + 90_000)
        .unwrap();
    let (_, claims2, sig2, input2) = decode_jwt(&form(&again)["client_assertion"]);
    assert_ne!(claims2["jti"], claims["jti"]);
    assert_eq!(claims2["iat"], (T0 + 90_000) / 1000);
    vk.verify(
        input2.as_bytes(),
        &p256::ecdsa::Signature::from_slice(&sig2).unwrap(),
    )
    .unwrap();
    // A stored context holds the key's PEM: it round-trips; Debug never shows it.
    assert!(!format!("{ctx:?}").contains("PRIVATE"));
}

#[test]
fn private_key_jwt_rs256_assertion_verifies() {
    use rsa::pkcs1::DecodeRsaPrivateKey as _;
    use rsa::signature::Verifier as _;
    let key = AssertionKey::from_pem(RSA_PEM).unwrap();
    assert_eq!(key.algorithm(), AssertionAlgorithm::Rs256);
    let jwt = key
        .assertion("svc-client", "https://as.example", T0, "jti-1")
        .unwrap();
    let (header, claims, sig, input) = decode_jwt(jwt.expose());
    assert_eq!(header["alg"], "RS256");
    assert_eq!(claims["aud"], "https://as.example");
    let private = rsa::RsaPrivateKey::from_pkcs1_pem(RSA_PEM).unwrap();
    let vk = rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new(private.to_public_key());
    let sig = rsa::pkcs1v15::Signature::try_from(sig.as_slice()).unwrap();
    vk.verify(input.as_bytes(), &sig).unwrap();
}

#[test]
fn bad_keys_and_foreign_token_endpoints_are_refused() {
    for bad in [
        "",
        "not a key",
        "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----",
        "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----",
        "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----",
    ] {
        let e = AssertionKey::from_pem(bad).unwrap_err();
        assert_eq!(e.code(), "invalid_input", "{bad}");
        assert!(!e.to_string().contains("AAAA"));
    }
    let huge = "x".repeat(20_000);
    assert_eq!(
        AssertionKey::from_pem(&huge).unwrap_err().code(),
        "invalid_input"
    );
    // A secret does not go to an authorization server on another host unless named.
    let elsewhere = "https://auth.other.example";
    let secret = || ClientAuthentication::ClientSecretPost(SecretString::new("S3CRET-MARKER"));
    let mut server = Server::new(elsewhere, None);
    let mut flow =
        McpAuthFlow::client_credentials(config(secret()), &mut SeededEntropy::new([3; 32]), T0)
            .unwrap();
    let events = server.run(&mut flow);
    let failed = events.iter().find_map(|e| match e {
        McpAuthEvent::Failed(e) => Some(e.clone()),
        _ => None,
    });
    assert_eq!(failed.unwrap().code(), "client_secret_not_for_server");
    assert!(server.log.iter().all(|r| !r.url.ends_with("/token")));
    // Named: allowed.
    let mut cfg = config(secret());
    cfg.token_endpoint_for = Some(format!("{elsewhere}/token"));
    let mut server = Server::new(elsewhere, None);
    let mut flow =
        McpAuthFlow::client_credentials(cfg, &mut SeededEntropy::new([3; 32]), T0).unwrap();
    signed_in(&server.run(&mut flow));
    // An assertion is bound to its audience: any host.
    let (pem, _) = p256_pem();
    let mut server = Server::new(elsewhere, None);
    let mut flow = McpAuthFlow::client_credentials(
        config(ClientAuthentication::PrivateKeyJwt(
            AssertionKey::from_pem(&pem).unwrap(),
        )),
        &mut SeededEntropy::new([3; 32]),
        T0,
    )
    .unwrap();
    signed_in(&server.run(&mut flow));
    // An empty client id or secret is refused before anything is sent.
    let mut cfg = config(secret());
    cfg.client_id = " ".into();
    assert!(McpAuthFlow::client_credentials(cfg, &mut SeededEntropy::new([3; 32]), T0).is_err());
    let cfg = config(ClientAuthentication::ClientSecretBasic(SecretString::new(
        "",
    )));
    assert!(McpAuthFlow::client_credentials(cfg, &mut SeededEntropy::new([3; 32]), T0).is_err());
}

#[test]
fn token_endpoint_error_is_typed_and_redacted() {
    let mut server = Server::new(AS, None);
    server.routes.insert(
        format!("{AS}/token"),
        HttpResponse::json(
            401,
            &json!({"error": "invalid_client", "error_description": "bad secret S3CRET-MARKER"}),
        ),
    );
    let mut flow = McpAuthFlow::client_credentials(
        config(ClientAuthentication::ClientSecretBasic(SecretString::new(
            "S3CRET-MARKER",
        ))),
        &mut SeededEntropy::new([4; 32]),
        T0,
    )
    .unwrap();
    let events = server.run(&mut flow);
    let e = events
        .iter()
        .find_map(|e| match e {
            McpAuthEvent::Failed(e) => Some(e.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(e.code(), "token_endpoint_error");
    assert!(!e.to_string().contains("S3CRET-MARKER"), "{e}");
}
