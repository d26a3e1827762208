//! Rust-only behaviours of the client layer: cancel by drop, a stopped driver, `Send`
//! handles, session restore, sign-out, argument checks, one sign-in through a shared store.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use futures_executor::LocalPool;
use futures_util::task::LocalSpawnExt;
use serde_json::json;
use workboard_client::{tool_arguments_from_json, Client, ClientConfig, Host};
use workboard_core::testing::{
    auth_context, oauth_credentials, FakeMcpServer, ScriptedTransport, SimClock, MCP_URL, T0,
};
use workboard_core::{Credentials, ErrorKind};

struct TestHost {
    transport: ScriptedTransport,
    clock: SimClock,
    store: std::sync::Mutex<std::collections::BTreeMap<String, String>>,
}

impl Host for TestHost {
    type Transport = ScriptedTransport;
    type Clock = SimClock;
    fn transport(&self) -> &ScriptedTransport {
        &self.transport
    }
    fn clock(&self) -> &SimClock {
        &self.clock
    }
    fn fill_random(&self, buf: &mut [u8]) {
        buf.fill(9)
    }
    fn load(&self, key: &str) -> Result<Option<String>, String> {
        Ok(self.store.lock().unwrap().get(key).cloned())
    }
    fn save(&self, key: &str, value: &str) -> Result<(), String> {
        self.store.lock().unwrap().insert(key.into(), value.into());
        Ok(())
    }
    fn remove(&self, key: &str) -> Result<(), String> {
        self.store.lock().unwrap().remove(key);
        Ok(())
    }
}

fn host(transport: ScriptedTransport) -> TestHost {
    TestHost {
        transport,
        clock: SimClock::at(T0),
        store: Default::default(),
    }
}

fn personal() -> ClientConfig {
    ClientConfig::for_server(MCP_URL).credentials(Credentials::personal("personal-token"))
}

fn start(config: ClientConfig, host: TestHost) -> (Client<TestHost>, LocalPool) {
    let (client, driver) = Client::new(config, host).unwrap();
    let pool = LocalPool::new();
    pool.spawner().spawn_local(driver.run()).unwrap();
    (client, pool)
}

#[test]
fn dropping_a_call_cancels_it_and_tells_the_server() {
    let server = FakeMcpServer::new();
    let transport = server.transport();
    let (client, mut pool) = start(personal(), host(transport.clone()));
    // probe (refused by this legacy server), initialize, initialized, ping
    pool.run_until(client.ping()).unwrap();
    transport.hold();
    let call = client.call_tool("echo", json!({"slow": true}));
    pool.run_until(transport.until_requests(5));
    assert_eq!(transport.in_flight(), 1);
    drop(call);
    transport.release();
    pool.run_until_stalled();
    let methods = transport.mcp_methods();
    assert_eq!(
        methods
            .iter()
            .filter(|m| *m == "notifications/cancelled")
            .count(),
        1,
        "{methods:?}"
    );
    // The abandoned request's future was dropped; the client stays usable.
    assert_eq!(transport.in_flight(), 0);
    pool.run_until(client.ping()).unwrap();
}

#[test]
fn a_client_whose_driver_is_gone_fails_calls_with_client_stopped() {
    let server = FakeMcpServer::new();
    let (client, driver) = Client::new(personal(), host(server.transport())).unwrap();
    drop(driver);
    let e = futures_executor::block_on(client.list_tools()).unwrap_err();
    assert_eq!(e.code(), "client_stopped");
    assert_eq!(e.kind(), ErrorKind::Stopped);
    let e = futures_executor::block_on(client.refresh()).unwrap_err();
    assert_eq!(e.code(), "client_stopped");
}

#[test]
fn handles_and_calls_are_send_with_a_send_host() {
    fn send_sync<T: Send + Sync>(_: &T) {}
    fn send<T: Send>(_: &T) {}
    let server = FakeMcpServer::new();
    let (client, driver) = Client::new(personal(), host(server.transport())).unwrap();
    send_sync(&client);
    send(&driver);
    let call = client.ping();
    send(&call);
    send(&client.refresh());
}

#[test]
fn a_restarted_client_restores_the_session_from_the_store() {
    let server = FakeMcpServer::new();
    let transport = server.transport();
    let h = host(transport.clone());
    let (client, mut pool) = start(personal(), h);
    pool.run_until(client.list_tools()).unwrap();
    let saved = client.host().store.lock().unwrap().clone();
    assert!(saved.contains_key("session"), "{saved:?}");
    drop(client);
    pool.run_until_stalled();
    // A second process with the same store: no initialize.
    let h2 = host(transport.clone());
    *h2.store.lock().unwrap() = saved;
    let (again, mut pool) = start(personal(), h2);
    let info = again
        .server_info()
        .expect("the restored session's server info");
    assert_eq!(info.name, "fake-mcp");
    pool.run_until(again.list_tools()).unwrap();
    let inits = transport
        .mcp_methods()
        .iter()
        .filter(|m| *m == "initialize")
        .count();
    assert_eq!(inits, 1, "{:?}", transport.mcp_methods());
}

#[test]
fn signing_out_clears_the_store_and_calls_fail_as_not_signed_in() {
    let server = FakeMcpServer::new();
    let config = ClientConfig::for_server(MCP_URL)
        .credentials(oauth_credentials("at-0", Some("rt-0"), None))
        .auth(auth_context());
    let (client, mut pool) = start(config, host(server.transport()));
    pool.run_until(client.ping()).unwrap();
    client.set_credentials(None, None).unwrap();
    assert!(client.credentials().is_none());
    assert!(!client
        .host()
        .store
        .lock()
        .unwrap()
        .contains_key("credentials"));
    let e = pool.run_until(client.refresh()).unwrap_err();
    assert_eq!(e.code(), "not_signed_in");
    assert_eq!(e.kind(), ErrorKind::NeedsSignIn);
    // Closing ends the session, not the credentials: signing out still clears the store.
    pool.run_until(client.close()).unwrap();
    client
        .set_credentials(Some(Credentials::personal("personal-token")), None)
        .unwrap();
    assert!(client
        .host()
        .store
        .lock()
        .unwrap()
        .contains_key("credentials"));
    client.set_credentials(None, None).unwrap();
    assert!(!client
        .host()
        .store
        .lock()
        .unwrap()
        .contains_key("credentials"));
}

#[test]
fn a_v1_code_is_not_spent_for_a_client_that_could_not_use_its_tokens() {
    use workboard_core::oauth::pending::AuthorizationCode;
    use workboard_core::{Dialect, Environment, SecretString};
    let server = FakeMcpServer::new();
    let transport = server.transport();
    // An MCP server that is not the environment's: v1 tokens are bound to the environment.
    let config = ClientConfig::new(Environment::Us)
        .server_url(MCP_URL)
        .allow_client_secret(true);
    let (client, mut pool) = start(config, host(transport.clone()));
    let code = AuthorizationCode {
        code: SecretString::new("code-1"),
        dialect: Dialect::WorkboardV1,
        redirect_uri: "https://app.example/cb".into(),
        client_id: "cid".into(),
        pkce_verifier: None,
        resource: None,
        token_endpoint: Environment::Us.token_url(),
        scopes: vec![],
        received_at_ms: T0,
        expires_at_ms: None,
        extra: serde_json::Value::Null,
    };
    let e = pool
        .run_until(client.exchange_v1_code(&code, SecretString::new("hash-1234")))
        .unwrap_err();
    assert_eq!(e.code(), "credentials_not_for_server");
    assert!(transport.requests().is_empty(), "the code was not sent");
}

#[test]
fn tool_arguments_are_checked_once_before_anything_is_sent() {
    assert_eq!(tool_arguments_from_json("  ").unwrap(), json!({}));
    assert_eq!(
        tool_arguments_from_json("{\"a\":1}").unwrap(),
        json!({"a": 1})
    );
    let e = tool_arguments_from_json("[1]").unwrap_err();
    assert_eq!(e.code(), "invalid_input");
    let secret = "sk-live-0123456789";
    let e = tool_arguments_from_json(&format!("{{\"k\": \"{secret}\"")).unwrap_err();
    assert!(!e.to_string().contains(secret), "{e}");
    let server = FakeMcpServer::new();
    let transport = server.transport();
    let (client, mut pool) = start(personal(), host(transport.clone()));
    let e = pool
        .run_until(client.call_tool("echo", json!([1, 2])))
        .unwrap_err();
    assert_eq!(e.code(), "invalid_input");
    assert!(transport.requests().is_empty());
}

#[test]
fn credentials_for_another_server_are_refused_and_change_nothing() {
    let server = FakeMcpServer::new();
    let (client, _pool) = start(personal(), host(server.transport()));
    let foreign = Credentials::personal("other")
        .bind_to("https://elsewhere.example/mcp")
        .unwrap();
    let e = client.set_credentials(Some(foreign), None).unwrap_err();
    assert_eq!(e.code(), "credentials_not_for_server");
    let now = client.credentials().unwrap();
    assert_eq!(now.access_token().expose(), "personal-token");
}

/// A 403 `insufficient_scope` after a restart (no sign-in held by this client, only the stored
/// OAuth context): step-up starts from the context and asks for the new scope too.
#[test]
fn step_up_after_a_restart_starts_from_the_stored_context() {
    use workboard_core::testing::status_response;
    let transport = ScriptedTransport::new(|r| {
        let m = workboard_core::testing::rpc_method(r);
        Ok(match m.as_str() {
            "initialize" => workboard_core::testing::json_response(
                200,
                &json!({"jsonrpc": "2.0", "id": 1, "result": {"protocolVersion": "2025-11-25",
                    "capabilities": {}, "serverInfo": {"name": "s", "version": "1"}}}),
            ),
            "tools/call" => status_response(
                403,
                &[(
                    "WWW-Authenticate",
                    "Bearer error=\"insufficient_scope\", scope=\"goals:write\"",
                )],
            ),
            _ => status_response(202, &[]),
        })
    });
    let mut ctx = auth_context();
    ctx.scopes = Some("goals:read".into());
    let config = ClientConfig::for_server(MCP_URL)
        .credentials(oauth_credentials("at-0", Some("rt-0"), None))
        .auth(ctx);
    let (client, mut pool) = start(config, host(transport));
    let e = pool
        .run_until(client.call_tool("update_goal", json!({})))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::StepUpRequired);
    let start = client.step_up_mcp_sign_in("goals:write").unwrap();
    let url = url::Url::parse(&start.url).unwrap();
    let scope: String = url
        .query_pairs()
        .find(|(k, _)| k == "scope")
        .map(|(_, v)| v.into_owned())
        .unwrap();
    assert!(
        scope.contains("goals:read") && scope.contains("goals:write"),
        "{scope}"
    );
}

/// Answers like `FakeMcpServer`, but holds `notifications/initialized` until released.
struct GatedTransport {
    server: FakeMcpServer,
    gate: std::sync::Mutex<Option<futures_channel::oneshot::Receiver<()>>>,
}

impl workboard_core::Transport for GatedTransport {
    async fn send(
        &self,
        request: workboard_core::HttpRequest,
    ) -> Result<workboard_core::HttpResponse, workboard_core::TransportError> {
        if String::from_utf8_lossy(&request.body).contains("notifications/initialized") {
            let gate = self.gate.lock().unwrap().take();
            if let Some(gate) = gate {
                let _ = gate.await;
            }
        }
        Ok(self.server.answer(&request))
    }
}

struct GatedHost(GatedTransport, SimClock);

impl Host for GatedHost {
    type Transport = GatedTransport;
    type Clock = SimClock;
    fn transport(&self) -> &GatedTransport {
        &self.0
    }
    fn clock(&self) -> &SimClock {
        &self.1
    }
    fn fill_random(&self, buf: &mut [u8]) {
        buf.fill(9)
    }
}

#[test]
fn a_call_completes_after_the_notifications_sent_on_its_behalf() {
    // The first call opens the session: its result waits for `notifications/initialized`
    // (an app's transport may need the app's executor to send it: Python's loop, a JS page).
    let (tx, rx) = futures_channel::oneshot::channel();
    let transport = GatedTransport {
        server: FakeMcpServer::new(),
        gate: std::sync::Mutex::new(Some(rx)),
    };
    let (client, driver) = Client::new(personal(), GatedHost(transport, SimClock::at(T0))).unwrap();
    let mut pool = LocalPool::new();
    pool.spawner().spawn_local(driver.run()).unwrap();
    let list = client.list_tools();
    let done = std::rc::Rc::new(std::cell::Cell::new(false));
    let flag = done.clone();
    pool.spawner()
        .spawn_local(async move {
            list.await.unwrap();
            flag.set(true);
        })
        .unwrap();
    pool.run_until_stalled();
    assert!(
        !done.get(),
        "handed over before notifications/initialized went out"
    );
    tx.send(()).unwrap();
    pool.run_until_stalled();
    assert!(done.get());
}

/// A clock on a [`SimClock`] whose sleep lets the other futures of the test run (a lease
/// waiter polls between sleeps).
#[derive(Clone)]
struct Yielding(SimClock);

impl workboard_core::Clock for Yielding {
    fn now_ms(&self) -> u64 {
        self.0.now_ms()
    }
    async fn sleep_ms(&self, ms: u64) {
        self.0.advance(ms);
        yield_now().await;
    }
}

/// Lets the other futures of the pool run once.
async fn yield_now() {
    let mut yielded = false;
    std::future::poll_fn(|cx| {
        if yielded {
            std::task::Poll::Ready(())
        } else {
            yielded = true;
            cx.waker().wake_by_ref();
            std::task::Poll::Pending
        }
    })
    .await
}

#[derive(Default)]
struct Values(std::sync::Mutex<std::collections::BTreeMap<String, String>>);

impl workboard_client::store::PlainStore for Values {
    fn load(&self, key: &str) -> Result<Option<String>, workboard_client::store::StoreError> {
        Ok(self.0.lock().unwrap().get(key).cloned())
    }
    fn save(&self, key: &str, value: &str) -> Result<(), workboard_client::store::StoreError> {
        self.0.lock().unwrap().insert(key.into(), value.into());
        Ok(())
    }
    fn remove(&self, key: &str) -> Result<(), workboard_client::store::StoreError> {
        self.0.lock().unwrap().remove(key);
        Ok(())
    }
}

type Local = std::sync::Arc<workboard_client::store::ProcessLocal<Values>>;

/// A holder of credentials shared through a store with others.
struct SharedHost {
    transport: ScriptedTransport,
    clock: Yielding,
    store: Local,
}

impl Host for SharedHost {
    type Transport = ScriptedTransport;
    type Clock = Yielding;
    fn transport(&self) -> &ScriptedTransport {
        &self.transport
    }
    fn clock(&self) -> &Yielding {
        &self.clock
    }
    fn fill_random(&self, buf: &mut [u8]) {
        buf.fill(7)
    }
    fn load(&self, key: &str) -> Result<Option<String>, String> {
        use workboard_client::store::SharedStore;
        self.store
            .get(key)
            .map(|v| v.value)
            .map_err(|e| e.to_string())
    }
    fn save(&self, key: &str, value: &str) -> Result<(), String> {
        workboard_client::store::put(&*self.store, key, Some(value))
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
    fn remove(&self, key: &str) -> Result<(), String> {
        workboard_client::store::put(&*self.store, key, None)
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
    fn shared_store(&self) -> Option<&dyn workboard_client::store::SharedStore> {
        Some(&*self.store)
    }
}

/// Two clients on one shared store (no credentials yet), `lease_ttl_ms` for each.
fn two_holders(lease_ttl_ms: u64) -> (Client<SharedHost>, Client<SharedHost>, Local, SimClock) {
    let clock = SimClock::at(T0);
    let c = clock.clone();
    let store: Local = std::sync::Arc::new(workboard_client::store::ProcessLocal::new(
        Values::default(),
        move || workboard_core::Clock::now_ms(&c),
    ));
    let server = FakeMcpServer::new();
    let holder = || {
        let mut config = ClientConfig::for_server(MCP_URL);
        config.refresh_lease_ttl_ms = Some(lease_ttl_ms);
        let host = SharedHost {
            transport: server.transport(),
            clock: Yielding(clock.clone()),
            store: store.clone(),
        };
        Client::new(config, host).unwrap().0
    };
    (holder(), holder(), store, clock)
}

fn stored_access(store: &Local) -> Option<String> {
    use workboard_client::store::SharedStore;
    store
        .get(workboard_client::keys::CREDENTIALS)
        .unwrap()
        .value
        .map(|j| {
            Credentials::from_json(&j)
                .unwrap()
                .access_token()
                .expose()
                .to_string()
        })
}

/// Two holders that both need a sign-in: the first leads (its sign-in runs, its result is
/// stored with its context), the second waits under the lease and uses the stored result
/// without signing in.
#[test]
fn a_sign_in_through_a_shared_store_runs_once_for_every_holder() {
    use workboard_client::SharedSignIn;
    let (a, b, store, _clock) = two_holders(60_000);
    let runs = std::cell::Cell::new(0);
    let sign_in = |token: &'static str| {
        let runs = &runs;
        move || async move {
            runs.set(runs.get() + 1);
            // The sign-in takes a while (a browser): the other holder comes meanwhile.
            for _ in 0..5 {
                yield_now().await;
            }
            Ok((
                oauth_credentials(token, Some("refresh"), Some(T0 + 3_600_000)),
                auth_context(),
            ))
        }
    };
    // (Each sleep of this clock moves it for everyone: the leader's lease renewals too.)
    let wait = 3_600_000;
    let mut pool = LocalPool::new();
    let (led, adopted) = pool.run_until(futures_util::future::join(
        a.sign_in_shared(sign_in("first"), wait),
        b.sign_in_shared(sign_in("second"), wait),
    ));
    assert_eq!(led.unwrap(), SharedSignIn::Led);
    assert_eq!(adopted.unwrap(), SharedSignIn::Adopted);
    assert_eq!(runs.get(), 1, "one sign-in for both");
    assert_eq!(stored_access(&store).as_deref(), Some("first"));
    for c in [&a, &b] {
        assert_eq!(c.credentials().unwrap().access_token().expose(), "first");
        assert_eq!(c.auth_context().unwrap().client_id, "cid");
    }
    // The lease was given back: a later sign-in leads at once.
    let again = pool.run_until(b.sign_in_shared(sign_in("third"), wait));
    assert_eq!(again.unwrap(), SharedSignIn::Led);
    assert_eq!(stored_access(&store).as_deref(), Some("third"));
}

/// The leader's write is a compare-and-swap fenced by its lease: a writer that takes no
/// lease and came first (a user's `login`) wins, and so does a successor that took the
/// lease after it lapsed; the leader then uses what the store holds.
#[test]
fn a_shared_sign_in_leaves_a_newer_write_and_a_successors_lease_alone() {
    use workboard_client::store::{put, Acquire, SharedStore, AUTH_LEASE};
    use workboard_client::SharedSignIn;
    let (a, _b, store, clock) = two_holders(1_000);
    let mut pool = LocalPool::new();
    let s = store.clone();
    let turn = pool.run_until(a.sign_in_shared(
        move || async move {
            let other = oauth_credentials("written-meanwhile", None, None);
            put(
                &*s,
                workboard_client::keys::CREDENTIALS,
                Some(&other.to_json()),
            )
            .unwrap();
            Ok((oauth_credentials("mine", None, None), auth_context()))
        },
        60_000,
    ));
    assert_eq!(turn.unwrap(), SharedSignIn::Adopted);
    assert_eq!(
        a.credentials().unwrap().access_token().expose(),
        "written-meanwhile"
    );
    assert_eq!(stored_access(&store).as_deref(), Some("written-meanwhile"));

    // The lease lapses mid-sign-in (no renewal ran) and a successor takes it.
    let s = store.clone();
    let c = clock.clone();
    let turn = pool.run_until(a.sign_in_shared(
        move || async move {
            c.advance(5_000);
            assert!(matches!(
                s.try_acquire(AUTH_LEASE, 60_000).unwrap(),
                Acquire::Granted(_)
            ));
            Ok((oauth_credentials("late", None, None), auth_context()))
        },
        60_000,
    ));
    assert_eq!(turn.unwrap(), SharedSignIn::Adopted);
    assert_eq!(stored_access(&store).as_deref(), Some("written-meanwhile"));
    assert_eq!(
        a.credentials().unwrap().access_token().expose(),
        "written-meanwhile"
    );
}

/// A host whose app answers elicitations after yielding to the executor a few times (a form
/// the user fills in), on a simulated clock.
struct SlowFormHost(TestHost);

impl Host for SlowFormHost {
    type Transport = ScriptedTransport;
    type Clock = SimClock;
    fn transport(&self) -> &ScriptedTransport {
        &self.0.transport
    }
    fn clock(&self) -> &SimClock {
        &self.0.clock
    }
    fn fill_random(&self, buf: &mut [u8]) {
        buf.fill(9)
    }
    fn input_capabilities(&self) -> workboard_client::ClientCapabilities {
        workboard_client::ClientCapabilities {
            elicitation_form: true,
            ..Default::default()
        }
    }
    fn answer_input(
        &self,
        _request: workboard_client::InputRequest,
    ) -> workboard_client::InputAnswer {
        let mut yields = 5;
        Box::pin(std::future::poll_fn(move |cx| {
            if yields == 0 {
                return std::task::Poll::Ready(Ok(
                    json!({"action": "accept", "content": {"ok": true}}),
                ));
            }
            yields -= 1;
            cx.waker().wake_by_ref();
            std::task::Poll::Pending
        }))
    }
}

/// On a simulated clock no time passes while the app answers an input request (as none
/// passes while a request is in flight): the call's deadline does not fire meanwhile.
#[test]
fn a_simulated_clock_waits_for_the_app_s_answer_to_an_input_round() {
    let transport = ScriptedTransport::new(|r| {
        let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        let id = body["id"].clone();
        let result = match body["params"].get("inputResponses") {
            None => json!({"resultType": "input_required", "requestState": "s",
                "inputRequests": {"q": {"method": "elicitation/create",
                    "params": {"message": "ok?", "requestedSchema": {"type": "object", "properties": {}}}}}}),
            Some(a) => {
                json!({"resultType": "complete", "content": [{"type": "text", "text": a.to_string()}]})
            }
        };
        Ok(workboard_core::testing::json_response(
            200,
            &json!({"jsonrpc": "2.0", "id": id, "result": result}),
        ))
    });
    let clock = SimClock::at(T0);
    let host = SlowFormHost(TestHost {
        transport: transport.clone(),
        clock: clock.clone(),
        store: Default::default(),
    });
    let (client, driver) = Client::new(personal(), host).unwrap();
    let mut pool = LocalPool::new();
    pool.spawner().spawn_local(driver.run()).unwrap();
    let r = pool.run_until(client.call_tool("ask", json!({}))).unwrap();
    assert_eq!(
        r.text(),
        r#"{"q":{"action":"accept","content":{"ok":true}}}"#
    );
    assert_eq!(transport.requests().len(), 2);
    assert_eq!(workboard_core::Clock::now_ms(&clock), T0, "no time passed");
}
