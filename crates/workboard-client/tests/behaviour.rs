//! The behaviour suite (`tests/behaviour/*.json`) run on the client layer itself, on a
//! single-threaded executor with a simulated clock (as on WebAssembly), plus the Rust-only
//! behaviours: cancel by drop, a stopped driver, `Send` handles.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::type_complexity
)]

#[path = "behaviour/runner.rs"]
mod runner;

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;

use futures_executor::LocalPool;
use futures_util::task::LocalSpawnExt;
use runner::{token_of, Adapter, BoxFut, Outcome, ScenarioStore, ScenarioTransport};
use serde_json::{json, Value};
use workboard_client::{Client, ClientConfig, Host};
use workboard_core::oauth::flow::AuthContext;
use workboard_core::testing::{SimClock, T0};
use workboard_core::{Credentials, Error, SecretString};

struct TestHost {
    transport: ScenarioTransport,
    clock: SimClock,
    store: ScenarioStore,
    input: (
        workboard_client::ClientCapabilities,
        serde_json::Map<String, Value>,
    ),
}

impl Host for TestHost {
    type Transport = ScenarioTransport;
    type Clock = SimClock;
    fn transport(&self) -> &ScenarioTransport {
        &self.transport
    }
    fn clock(&self) -> &SimClock {
        &self.clock
    }
    fn fill_random(&self, buf: &mut [u8]) {
        buf.fill(0x42)
    }
    fn load(&self, key: &str) -> Result<Option<String>, String> {
        self.store.load(key)
    }
    fn save(&self, key: &str, value: &str) -> Result<(), String> {
        self.store.save(key, value)
    }
    fn remove(&self, key: &str) -> Result<(), String> {
        self.store.remove(key)
    }
    fn input_capabilities(&self) -> workboard_client::ClientCapabilities {
        self.input.0
    }
    fn answer_input(
        &self,
        request: workboard_client::InputRequest,
    ) -> workboard_client::InputAnswer {
        Box::pin(std::future::ready(runner::input_answer(
            &self.input.1,
            &request,
        )))
    }
}

struct Layer {
    client: Client<TestHost>,
    pool: RefCell<LocalPool>,
}

fn err(e: Error) -> (String, String) {
    runner::outcome_error(e)
}

impl Adapter for Layer {
    fn new(c: &Value, transport: ScenarioTransport, store: ScenarioStore) -> Self {
        let mut config = ClientConfig::for_server(c["server_url"].as_str().unwrap())
            .allow_client_secret(c["allow_client_secret"].as_bool().unwrap_or(false));
        if !c["credentials"].is_null() {
            config =
                config.credentials(Credentials::from_json(&c["credentials"].to_string()).unwrap());
        }
        if !c["auth_context"].is_null() {
            config = config.auth(AuthContext::from_json(&c["auth_context"].to_string()).unwrap());
        }
        let host = TestHost {
            transport,
            clock: SimClock::at(T0),
            store,
            input: runner::input_of(c),
        };
        let (client, driver) = Client::new(config, host).unwrap();
        let pool = LocalPool::new();
        pool.spawner().spawn_local(driver.run()).unwrap();
        Layer {
            client,
            pool: RefCell::new(pool),
        }
    }

    fn call(&self, call: &str, args: &Value) -> (BoxFut<'static>, Box<dyn Fn()>) {
        let c = self.client.clone();
        macro_rules! go {
            ($call:expr, $map:expr) => {{
                let call = $call;
                let cancel = call.canceller();
                let f: BoxFut<'static> = Box::pin(async move { call.await.map($map).map_err(err) });
                (
                    f,
                    Box::new(move || {
                        if let Some(c) = &cancel {
                            c.cancel()
                        }
                    }) as Box<dyn Fn()>,
                )
            }};
        }
        match call {
            "list_tools" => go!(c.list_tools(), |t: Vec<
                workboard_core::mcp::jsonrpc::Tool,
            >| {
                json!({"names": t.iter().map(|t| t.name.clone()).collect::<Vec<_>>()})
            }),
            "call_tool" => go!(
                c.call_tool(args["name"].as_str().unwrap(), args["arguments"].clone()),
                |r: workboard_core::mcp::jsonrpc::CallToolResult| json!({"text": r.text(), "is_error": r.is_error})
            ),
            "ping" => go!(c.ping(), |()| json!({})),
            "request" => go!(
                c.request(args["method"].as_str().unwrap(), args["params"].clone()),
                |v: Value| json!({ "result": v })
            ),
            "connect" => (
                Box::pin({
                    let f = c.connect();
                    async move { f.await.map(|_| json!({})).map_err(err) }
                }),
                Box::new(|| {}),
            ),
            "refresh" => (
                Box::pin({
                    let f = c.refresh();
                    async move {
                        f.await
                            .map(|c| json!({"access_token": token_of(&c)}))
                            .map_err(err)
                    }
                }),
                Box::new(|| {}),
            ),
            "close" => (
                Box::pin({
                    let f = c.close();
                    async move { f.await.map(|()| json!({})).map_err(err) }
                }),
                Box::new(|| {}),
            ),
            other => panic!("unknown call `{other}`"),
        }
    }

    fn block_on<'a, T>(&'a self, f: Pin<Box<dyn Future<Output = T> + 'a>>) -> T {
        self.pool.borrow_mut().run_until(f)
    }

    fn set_credentials(&self, credentials: Option<&str>) -> Outcome {
        let c = credentials.map(|j| Credentials::from_json(j).unwrap());
        self.client
            .set_credentials(c, None)
            .map(|()| json!({}))
            .map_err(err)
    }

    fn start_mcp_sign_in<'a>(
        &'a self,
        o: &Value,
    ) -> Pin<Box<dyn Future<Output = Result<(String, String, String), (String, String)>> + 'a>>
    {
        let opts = runner::mcp_options(o);
        Box::pin(async move {
            match self.client.start_mcp_sign_in(opts).await {
                Ok(Some(s)) => Ok((s.url, s.pending_json, s.client_id)),
                Ok(None) => Err(("not_required".into(), "wrong_state".into())),
                Err(e) => Err(err(e)),
            }
        })
    }

    fn complete_mcp_sign_in<'a>(&'a self, pending: Option<String>, redirect: String) -> BoxFut<'a> {
        Box::pin(async move {
            self.client
                .complete_mcp_sign_in(pending.as_deref(), &redirect)
                .await
                .map(|c| json!({"access_token": token_of(&c)}))
                .map_err(err)
        })
    }

    fn exchange_v1_code<'a>(&'a self, code: &Value, client_hash: &str) -> BoxFut<'a> {
        let ac = runner::v1_code(code, code["received_at_ms"].as_u64().unwrap());
        let hash = SecretString::new(client_hash);
        Box::pin(async move {
            self.client
                .exchange_v1_code(&ac, hash)
                .await
                .map(|c| json!({"access_token": token_of(&c)}))
                .map_err(err)
        })
    }

    fn access_token(&self) -> Option<String> {
        self.client.credentials().map(|c| token_of(&c))
    }

    fn store_error_code(&self) -> Option<String> {
        self.client.store_error().map(|e| e.code().to_string())
    }

    fn notifications(&self) -> workboard_client::NotificationStream {
        self.client.notification_stream()
    }
}

#[test]
fn behaviour_suite_on_the_client_layer() {
    let ran = runner::run_all::<Layer>();
    assert!(ran.contains("persist_before_replay"), "{ran:?}");
}
