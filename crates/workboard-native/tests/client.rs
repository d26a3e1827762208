//! The native `Client` and sign-in helpers end to end against `workboard-sim` on 127.0.0.1.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use workboard_core::oauth::client_credentials::{ClientAuthentication, ClientCredentialsConfig};
use workboard_core::oauth::flow::McpAuthConfig;
use workboard_core::oauth::registration::IdentitySource;
use workboard_core::oauth::v1::{RevokeOutcome, V1Config};
use workboard_core::{Credentials, Environment, SecretString};
use workboard_native::store::keys;
use workboard_native::{
    revoke_mcp, revoke_v1, sign_in_mcp, sign_in_v1, step_up_mcp, Approver, Client, CredentialStore,
    MemoryStore, ReqwestTransport,
};
use workboard_sim::{
    Role, SimConfig, Simulator, DEMO_CLIENT_HASH, DEMO_CLIENT_ID, DEMO_PERSONAL_TOKEN,
    DEMO_REDIRECT_URI,
};

fn env(sim: &workboard_sim::SimHandle) -> Environment {
    Environment::parse(sim.base_url()).unwrap()
}

/// WorkBoard v1 sign-in of the demo client, approving headlessly.
async fn sign_in_v1_headless(
    sim: &workboard_sim::SimHandle,
    transport: &ReqwestTransport,
) -> Result<Credentials, workboard_core::Error> {
    let config = V1Config::new(env(sim), DEMO_CLIENT_ID, DEMO_REDIRECT_URI);
    sign_in_v1(
        transport,
        config,
        SecretString::new(DEMO_CLIENT_HASH),
        Approver::Headless,
    )
    .await
}

fn personal_client(sim: &workboard_sim::SimHandle, token: &str) -> Client {
    Client::builder()
        .environment(env(sim))
        .credentials(Credentials::personal(token))
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn personal_token_lists_calls_and_reads_rest_with_one_initialize_for_concurrent_calls() {
    // Sessions (and notifications/cancelled) are the legacy era's.
    let sim = Simulator::start(SimConfig {
        era: workboard_sim::Era::Legacy,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let client = personal_client(&sim, DEMO_PERSONAL_TOKEN);
    let calls: Vec<_> = (0..8)
        .map(|_| {
            let c = client.clone();
            tokio::spawn(async move { c.list_tools().await })
        })
        .collect();
    for c in calls {
        let tools = c.await.unwrap().unwrap();
        assert!(
            tools.iter().any(|t| t.name == "get_current_user"),
            "{tools:?}"
        );
    }
    assert_eq!(
        sim.counters().get("mcp:initialize"),
        1,
        "concurrent calls share one initialize"
    );
    let info = client.server_info().unwrap();
    assert!(!info.protocol_version.is_empty());

    let me = client
        .call_tool("get_current_user", serde_json::json!({}))
        .await
        .unwrap();
    assert!(!me.is_error);
    assert!(me.text().contains("ada@example.com"), "{}", me.text());
    let bad = client
        .call_tool("get_current_user", serde_json::json!([1]))
        .await
        .unwrap_err();
    assert_eq!(bad.code(), "invalid_input");

    // Personal tokens are scoped to MCP only (seed): the REST API refuses them, typed.
    assert_eq!(
        client.rest_get("goal/123").await.unwrap_err().code(),
        "forbidden"
    );

    client.close().await.unwrap();
    assert_eq!(sim.counters().get("mcp:DELETE"), 1);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_token_is_unauthorized_with_the_environment_in_the_hint_and_no_token_in_debug() {
    let sim = Simulator::start(SimConfig::default()).await.unwrap();
    let client = personal_client(&sim, "wbp_not_a_real_token");
    let e = client.list_tools().await.unwrap_err();
    assert_eq!(e.code(), "unauthorized");
    assert!(e.info().hint.unwrap().contains(sim.base_url()));
    let debug = format!("{client:?} {e:?} {}", e.info().message);
    assert!(!debug.contains("wbp_not_a_real_token"), "{debug}");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn role_without_tool_access_lists_no_tools() {
    let sim = Simulator::start(SimConfig::default()).await.unwrap();
    let token = sim.issue_personal_token("nobody@example.com", Role::NoAccess);
    let tools = personal_client(&sim, &token).list_tools().await.unwrap();
    assert!(tools.is_empty(), "{tools:?}");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_state_in_the_store_lets_a_restarted_client_skip_initialize() {
    // Sessions (and notifications/cancelled) are the legacy era's.
    let sim = Simulator::start(SimConfig {
        era: workboard_sim::Era::Legacy,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let store: Arc<dyn CredentialStore> = Arc::new(MemoryStore::new());
    store
        .save(
            keys::CREDENTIALS,
            &Credentials::personal(DEMO_PERSONAL_TOKEN).to_json(),
        )
        .unwrap();
    let first = Client::builder()
        .environment(env(&sim))
        .store(store.clone())
        .build()
        .unwrap();
    first.list_tools().await.unwrap();
    assert!(store.load(keys::SESSION).unwrap().is_some());
    drop(first);
    let second = Client::builder()
        .environment(env(&sim))
        .store(store.clone())
        .build()
        .unwrap();
    second.list_tools().await.unwrap();
    assert_eq!(
        sim.counters().get("mcp:initialize"),
        1,
        "the restored session was reused"
    );
    // The server forgets sessions: the client re-initializes once and replays.
    sim.faults().expire_sessions();
    second.list_tools().await.unwrap();
    assert_eq!(sim.counters().get("mcp:initialize"), 2);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v1_sign_in_headless_then_revoke() {
    let sim = Simulator::start(SimConfig::default()).await.unwrap();
    sim.set_auto_approve(true);
    let transport = ReqwestTransport::new().unwrap();
    let creds = sign_in_v1_headless(&sim, &transport).await.unwrap();
    let client = Client::builder()
        .environment(env(&sim))
        .credentials(creds.clone())
        .build()
        .unwrap();
    assert!(!client.list_tools().await.unwrap().is_empty());
    let goal = client.rest_get("goal/301").await.unwrap();
    assert_eq!(
        client.rest_get("goal/123").await.unwrap_err().code(),
        "http_status"
    );
    assert!(goal.is_object(), "{goal}");
    let seed_form = client.rest_get("/wb/goal/301").await.unwrap();
    assert_eq!(goal, seed_form);
    assert_eq!(
        client
            .rest_get("https://evil.example/x")
            .await
            .unwrap_err()
            .code(),
        "invalid_input"
    );
    let outcome = revoke_v1(&transport, &env(&sim), &creds).await.unwrap();
    let personal = Credentials::personal("p");
    let e = revoke_v1(&transport, &env(&sim), &personal)
        .await
        .unwrap_err();
    assert_eq!(e.code(), "invalid_input");
    assert_eq!(outcome, RevokeOutcome::Revoked);
    let after = Client::builder()
        .environment(env(&sim))
        .credentials(creds)
        .build()
        .unwrap();
    assert_eq!(after.list_tools().await.unwrap_err().code(), "unauthorized");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headless_sign_in_against_a_consent_page_is_a_typed_error() {
    let sim = Simulator::start(SimConfig::default()).await.unwrap();
    let transport = ReqwestTransport::new().unwrap();
    let e = sign_in_v1_headless(&sim, &transport).await.unwrap_err();
    assert_eq!(e.code(), "authorization_denied");
    assert!(e.to_string().contains("auto-approving"), "{e}");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v1_sign_in_through_the_loopback_listener() {
    let sim = Simulator::start(SimConfig::default()).await.unwrap();
    sim.set_auto_approve(true);
    // A port for this test's redirect URI (the registered one may be in use), reserved while
    // the test runs: bound with SO_REUSEADDR and never listening, so the loopback listener can
    // bind it and no simulator asking for any free port is given it.
    let (_reserved, port) = reserved_port();
    let redirect = format!("http://127.0.0.1:{port}/callback");
    sim.add_client(workboard_sim::ClientConfig::new(
        DEMO_CLIENT_ID,
        DEMO_CLIENT_HASH,
        &redirect,
    ));
    let transport = ReqwestTransport::new().unwrap();
    let config = V1Config::new(env(&sim), DEMO_CLIENT_ID, &redirect);
    // The "browser": follows the authorization URL and the redirect to the listener.
    let open = Box::new(|url: &str| {
        let url = url.to_string();
        tokio::spawn(async move {
            let browser = reqwest::Client::new();
            browser.get(url).send().await.unwrap();
        });
    });
    let creds = sign_in_v1(
        &transport,
        config,
        SecretString::new(DEMO_CLIENT_HASH),
        Approver::Loopback {
            open,
            timeout: Duration::from_secs(30),
        },
    )
    .await
    .unwrap();
    assert!(matches!(creds, Credentials::OAuth(_)));
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_credentials_sign_in_on_the_client_stores_and_uses_the_tokens() {
    let sim = Simulator::start(SimConfig::default()).await.unwrap();
    let store: Arc<MemoryStore> = Arc::new(MemoryStore::new());
    let secret = || ClientAuthentication::ClientSecretPost(SecretString::new(DEMO_CLIENT_HASH));
    // Client secrets are server-side material: refused unless the app allows them.
    let browser_like = Client::builder().environment(env(&sim)).build().unwrap();
    let e = browser_like
        .sign_in_client_credentials(ClientCredentialsConfig::new("", DEMO_CLIENT_ID, secret()))
        .await
        .unwrap_err();
    assert_eq!(e.code(), "secret_in_browser");
    assert_eq!(sim.counters().get("token:client_credentials"), 0);

    let client = Client::builder()
        .environment(env(&sim))
        .allow_client_secret(true)
        .store(store.clone())
        .build()
        .unwrap();
    let creds = client
        .sign_in_client_credentials(ClientCredentialsConfig::new("", DEMO_CLIENT_ID, secret()))
        .await
        .unwrap()
        .expect("the simulator asks for authorization");
    assert!(!creds.can_refresh(), "no refresh token in this grant");
    assert_eq!(sim.counters().get("token:client_credentials"), 1);
    assert!(!client.list_tools().await.unwrap().is_empty());
    let ctx = client.auth_context().unwrap();
    assert_eq!(ctx.identity_source, IdentitySource::ClientCredentials);
    assert!(ctx.can_renew(&creds), "renewed by running the grant again");
    assert_eq!(
        store.load(keys::CREDENTIALS).unwrap().unwrap(),
        creds.to_json()
    );
    assert!(store.load(keys::AUTH_CONTEXT).unwrap().is_some());
    // Expired: the grant runs again (once for concurrent calls), the new token is stored.
    sim.faults().expire_tokens();
    let calls: Vec<_> = (0..4)
        .map(|_| {
            let c = client.clone();
            tokio::spawn(
                async move { c.call_tool("get_current_user", serde_json::json!({})).await },
            )
        })
        .collect();
    for c in calls {
        assert!(!c.await.unwrap().unwrap().is_error);
    }
    assert_eq!(sim.counters().get("token:client_credentials"), 2);
    assert_ne!(
        store.load(keys::CREDENTIALS).unwrap().unwrap(),
        creds.to_json(),
        "the renewed token is stored"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn step_up_authorizes_the_missing_scope_then_the_call_goes_through() {
    let sim = Simulator::start(SimConfig::default()).await.unwrap();
    sim.set_auto_approve(true);
    let transport = ReqwestTransport::new().unwrap();
    let mut config = McpAuthConfig::workboard(&env(&sim), DEMO_REDIRECT_URI);
    config.client.client_id = Some(DEMO_CLIENT_ID.into());
    config.client.client_secret = Some(SecretString::new(DEMO_CLIENT_HASH));
    // A challenge asking for `read` only: the token lacks `write`.
    config.www_authenticate = Some("Bearer scope=\"read\"".into());
    let signed = sign_in_mcp(&transport, config, Approver::Headless)
        .await
        .unwrap()
        .unwrap();
    let store: Arc<MemoryStore> = Arc::new(MemoryStore::new());
    let client = Client::builder()
        .environment(env(&sim))
        .credentials(signed.credentials.clone())
        .auth_context(signed.context.clone())
        .store(store.clone())
        .allow_client_secret(true)
        .build()
        .unwrap();
    let write = || {
        client.call_tool(
            "create_activity",
            serde_json::json!({"title": "step-up check"}),
        )
    };
    let e = write().await.unwrap_err();
    assert_eq!(e.code(), "insufficient_scope");
    let workboard_core::Error::InsufficientScope { scope: Some(scope) } = &e else {
        unreachable!("{e:?}")
    };
    let scope = scope.clone();
    let creds = step_up_mcp(&client, &transport, &scope, Approver::Headless)
        .await
        .unwrap();
    assert_ne!(creds, signed.credentials);
    assert!(!write().await.unwrap().is_error);
    // The stepped-up credentials are the stored ones.
    assert_eq!(
        store.load(keys::CREDENTIALS).unwrap().unwrap(),
        creds.to_json()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mcp_oauth_sign_in_refreshes_once_for_concurrent_calls_and_stores_before_use() {
    let sim = Simulator::start(SimConfig::default()).await.unwrap();
    sim.set_auto_approve(true);
    let transport = ReqwestTransport::new().unwrap();
    let mut config = McpAuthConfig::workboard(&env(&sim), DEMO_REDIRECT_URI);
    config.client.client_id = Some(DEMO_CLIENT_ID.into());
    config.client.client_secret = Some(SecretString::new(DEMO_CLIENT_HASH));
    let signed = sign_in_mcp(&transport, config, Approver::Headless)
        .await
        .unwrap()
        .unwrap();
    assert!(signed.credentials.can_refresh());

    let store: Arc<MemoryStore> = Arc::new(MemoryStore::new());
    let changes = Arc::new(AtomicUsize::new(0));
    let seen = changes.clone();
    let hook_store = store.clone();
    let client = Client::builder()
        .environment(env(&sim))
        .credentials(signed.credentials.clone())
        .auth_context(signed.context.clone())
        .store(store.clone())
        .on_credentials_changed(move |c| {
            // The store already holds what the hook is told about.
            assert_eq!(
                hook_store.load(keys::CREDENTIALS).unwrap().unwrap(),
                c.to_json()
            );
            seen.fetch_add(1, Ordering::SeqCst);
        })
        .build()
        .unwrap();
    client.list_tools().await.unwrap();
    sim.faults().expire_tokens();
    // Tool calls (the tool list is cached for its ttl: listing would send nothing).
    let calls: Vec<_> = (0..5)
        .map(|_| {
            let c = client.clone();
            tokio::spawn(
                async move { c.call_tool("get_current_user", serde_json::json!({})).await },
            )
        })
        .collect();
    for c in calls {
        assert!(!c.await.unwrap().unwrap().is_error);
    }
    assert_eq!(
        sim.counters().get("token:refresh_token"),
        1,
        "one refresh for all waiting calls"
    );
    assert_eq!(changes.load(Ordering::SeqCst), 1);
    let now = client.credentials().unwrap();
    assert_ne!(now, signed.credentials, "rotated");
    assert_eq!(
        store.load(keys::CREDENTIALS).unwrap().unwrap(),
        now.to_json()
    );

    // WorkBoard's metadata (and the simulator's) advertises no RFC 7009 endpoint: nothing
    // to call, the app forgets the credentials locally.
    assert_eq!(
        revoke_mcp(&transport, &signed.context, &now).await.unwrap(),
        0
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_server_is_a_transport_error() {
    let (_socket, port) = reserved_port();
    let client = Client::builder()
        .environment(Environment::parse(&format!("http://127.0.0.1:{port}")).unwrap())
        .credentials(Credentials::personal("t"))
        .build()
        .unwrap();
    let e = client.list_tools().await.unwrap_err();
    assert!(
        matches!(e.code(), "transport" | "retries_exhausted"),
        "{e:?}"
    );
}

#[test]
fn bad_server_urls_are_refused_at_build() {
    let e = Client::builder()
        .server_url("not a url")
        .build()
        .unwrap_err();
    assert_eq!(e.code(), "invalid_url");
    let e = Client::builder()
        .server_url("http://example.com/wb/mcp")
        .build()
        .unwrap_err();
    assert_eq!(e.code(), "insecure_url");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_a_call_cancels_it_with_notifications_cancelled() {
    // Sessions (and notifications/cancelled) are the legacy era's.
    let sim = Simulator::start(SimConfig {
        era: workboard_sim::Era::Legacy,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let client = personal_client(&sim, DEMO_PERSONAL_TOKEN);
    client.connect().await.unwrap();
    sim.faults().set_latency(Duration::from_millis(400));
    let slow = tokio::time::timeout(
        Duration::from_millis(100),
        client.call_tool("get_current_user", serde_json::json!({})),
    )
    .await;
    assert!(slow.is_err(), "the timeout fired first");
    sim.faults().set_latency(Duration::ZERO);
    // The loop has sent notifications/cancelled for the abandoned call; later calls work.
    let me = client
        .call_tool("get_current_user", serde_json::json!({}))
        .await
        .unwrap();
    assert!(!me.is_error);
    let mut waited = 0;
    while sim.counters().get("mcp:notifications/cancelled") == 0 && waited < 100 {
        tokio::time::sleep(Duration::from_millis(20)).await;
        waited += 1;
    }
    assert_eq!(sim.counters().get("mcp:notifications/cancelled"), 1);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_timeout_is_a_typed_transport_error() {
    let sim = Simulator::start(SimConfig::default()).await.unwrap();
    sim.faults().set_latency(Duration::from_millis(1500));
    let transport = ReqwestTransport::with_options(workboard_native::TransportOptions {
        request_timeout: Duration::from_millis(200),
        ..Default::default()
    })
    .unwrap();
    let client = Client::builder()
        .environment(env(&sim))
        .credentials(Credentials::personal(DEMO_PERSONAL_TOKEN))
        .transport(transport)
        .build()
        .unwrap();
    // The server would answer after 1.5 s; the client gives up first.
    let e = client.list_tools().await.unwrap_err();
    assert!(
        matches!(e.code(), "transport" | "retries_exhausted"),
        "{e:?}"
    );
    assert!(e.to_string().contains("timed out"), "{e}");
    sim.shutdown().await;
}

#[test]
fn a_client_built_on_a_current_thread_runtime_works_while_that_runtime_idles() {
    let sim_rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let sim = sim_rt
        .block_on(Simulator::start(SimConfig::default()))
        .unwrap();
    // Built on a current-thread runtime that is not driven afterwards.
    let idle = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let client = idle.block_on(async { personal_client(&sim, DEMO_PERSONAL_TOKEN) });
    let caller = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let tools = caller
        .block_on(async {
            tokio::time::timeout(Duration::from_secs(20), client.list_tools()).await
        })
        .expect("the call must not wait for the idle runtime")
        .unwrap();
    assert!(!tools.is_empty());
    drop(idle);
    sim_rt.block_on(sim.shutdown());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_credentials_saves_them_and_later_calls_use_them() {
    let sim = Simulator::start(SimConfig::default()).await.unwrap();
    let store: Arc<dyn CredentialStore> = Arc::new(MemoryStore::new());
    let client = Client::builder()
        .environment(env(&sim))
        .store(store.clone())
        .build()
        .unwrap();
    // No credentials yet: the server's 401 means "sign in", not a wrong token.
    assert_eq!(
        client.list_tools().await.unwrap_err().code(),
        "not_signed_in"
    );
    // Credentials of another server are refused and nothing is saved.
    let foreign = Credentials::personal(DEMO_PERSONAL_TOKEN)
        .bind_to("https://other.example/mcp")
        .unwrap();
    assert_eq!(
        client
            .set_credentials(Some(foreign), None)
            .unwrap_err()
            .code(),
        "credentials_not_for_server"
    );
    assert!(store.load(keys::CREDENTIALS).unwrap().is_none());
    // Unbound ones are bound to this client's server, and saved so.
    let creds = Credentials::personal(DEMO_PERSONAL_TOKEN);
    client.set_credentials(Some(creds.clone()), None).unwrap();
    assert_eq!(
        store.load(keys::CREDENTIALS).unwrap().unwrap(),
        creds.bind_to(client.server_url()).unwrap().to_json()
    );
    assert!(!client.list_tools().await.unwrap().is_empty());
    client.set_credentials(None, None).unwrap();
    assert!(store.load(keys::CREDENTIALS).unwrap().is_none());
    assert!(client.credentials().is_none());
    sim.shutdown().await;
}

/// A loopback port reserved while the returned socket lives: bound with SO_REUSEADDR and never
/// listening. Connections to it are refused, the kernel gives it to no one asking for any free
/// port (a port freed by dropping a listener can go to the next simulator that starts), and a
/// listener of our own (also SO_REUSEADDR) can still bind it.
fn reserved_port() -> (tokio::net::TcpSocket, u16) {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_reuseaddr(true).unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let port = socket.local_addr().unwrap().port();
    (socket, port)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_messages_of_a_call_reach_the_app_s_notification_stream() {
    use futures_util::StreamExt;
    let sim = Simulator::start(SimConfig::default()).await.unwrap();
    sim.set_response_mode(workboard_sim::ResponseMode::Sse);
    let client = Client::builder()
        .environment(env(&sim))
        .credentials(Credentials::personal(DEMO_PERSONAL_TOKEN))
        .log_level("info")
        .build()
        .unwrap();
    let mut notifications = client.notifications();
    let r = client
        .call_tool("get_current_user", serde_json::json!({}))
        .await
        .unwrap();
    assert!(!r.is_error);
    // The log message came on the call's own stream, before its result.
    let n = notifications.next().await.expect("a notification");
    assert_eq!(n.method, "notifications/message");
    assert_eq!(n.params["level"], "info");
    assert!(sim.counters().get("mcp:log_message") >= 1);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_initialize_stream_cut_before_its_result_is_resumed_in_its_session() {
    // The session id of a resumed `initialize` is known from its answer's head only: the
    // resumption carries it, so the result arrives, one session is opened and announced
    // once (`notifications/initialized`), and the calls waiting on it are answered.
    let sim = Simulator::start(SimConfig {
        era: workboard_sim::Era::Legacy,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    sim.set_response_mode(workboard_sim::ResponseMode::Sse);
    sim.faults().truncate_sse_next(3);
    let client = personal_client(&sim, DEMO_PERSONAL_TOKEN);
    let calls: Vec<_> = (0..6)
        .map(|_| {
            let c = client.clone();
            tokio::spawn(
                async move { c.call_tool("get_current_user", serde_json::json!({})).await },
            )
        })
        .collect();
    for c in calls {
        let r = c.await.unwrap().unwrap();
        assert!(!r.is_error, "{}", r.text());
    }
    let counters = sim.counters();
    assert_eq!(counters.get("fault:truncate_sse"), 3);
    assert_eq!(counters.get("mcp:resume"), 3);
    assert_eq!(counters.get("mcp:initialize"), 1);
    assert_eq!(counters.get("mcp:notifications/initialized"), 1);
    assert_eq!(sim.session_count(), 1);
    sim.shutdown().await;
}

/// The app's roots handler: answers `roots/list` with two roots, counting the requests.
struct Roots(AtomicUsize);

impl workboard_native::InputHandler for Roots {
    fn capabilities(&self) -> workboard_client::ClientCapabilities {
        workboard_client::ClientCapabilities {
            roots: true,
            ..Default::default()
        }
    }
    fn answer(
        &self,
        request: workboard_client::InputRequest,
    ) -> std::pin::Pin<
        Box<
            dyn std::future::Future<Output = Result<serde_json::Value, workboard_core::Error>>
                + Send,
        >,
    > {
        assert_eq!(request.method, "roots/list");
        self.0.fetch_add(1, Ordering::SeqCst);
        Box::pin(std::future::ready(Ok(serde_json::json!({"roots": [
            {"uri": "file:///work/okrs", "name": "OKRs"},
            {"uri": "file:///work/reviews"}
        ]}))))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_asks_for_roots_and_the_app_s_roots_handler_answers_in_both_eras() {
    for era in [workboard_sim::Era::Modern, workboard_sim::Era::Legacy] {
        let sim = Simulator::start(SimConfig {
            era,
            ..SimConfig::default()
        })
        .await
        .unwrap();
        let roots = Arc::new(Roots(AtomicUsize::new(0)));
        let client = Client::builder()
            .environment(env(&sim))
            .credentials(Credentials::personal(DEMO_PERSONAL_TOKEN))
            .input_handler(roots.clone())
            .build()
            .unwrap();
        let r = client
            .call_tool("list_workspace_roots", serde_json::json!({}))
            .await
            .unwrap();
        assert!(!r.is_error, "{era:?}: {r:?}");
        let s = r.structured_content.unwrap();
        assert_eq!(s["count"], 2, "{era:?}");
        assert_eq!(s["roots"][0]["uri"], "file:///work/okrs");
        assert_eq!(roots.0.load(Ordering::SeqCst), 1, "{era:?}");
        let asked = match era {
            workboard_sim::Era::Modern => sim.counters().get("mcp:input_required"),
            _ => sim.counters().get("mcp:server_request:roots/list"),
        };
        assert_eq!(asked, 1, "{era:?}");
        // A client without a roots handler declares none: the server says what it needs.
        let plain = personal_client(&sim, DEMO_PERSONAL_TOKEN);
        let refused = plain
            .call_tool("list_workspace_roots", serde_json::json!({}))
            .await;
        match era {
            workboard_sim::Era::Modern => assert_eq!(refused.unwrap_err().code(), "jsonrpc_error"),
            _ => assert!(refused.unwrap().is_error),
        }
        sim.shutdown().await;
    }
}
