//! The behaviour suite (`tests/behaviour/*.json`) through the native adapter: the public
//! `workboard_native::Client` on its reactor thread with a real clock, driven from a
//! multi-thread Tokio runtime.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::type_complexity
)]

#[path = "../../workboard-client/tests/behaviour/runner.rs"]
mod runner;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use runner::{token_of, Adapter, BoxFut, Outcome, ScenarioStore, ScenarioTransport};
use serde_json::{json, Value};
use workboard_core::oauth::flow::AuthContext;
use workboard_core::{Credentials, Error, SecretString};
use workboard_native::{Client, CredentialStore, StoreError};

struct Store(ScenarioStore);

fn io(e: String) -> StoreError {
    StoreError::Io {
        path: "scenario store".into(),
        source: std::io::Error::other(e),
    }
}

impl CredentialStore for Store {
    fn load(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.0.load(key).map_err(io)
    }
    fn save(&self, key: &str, value: &str) -> Result<(), StoreError> {
        self.0.save(key, value).map_err(io)
    }
    fn remove(&self, key: &str) -> Result<(), StoreError> {
        self.0.remove(key).map_err(io)
    }
}

/// The scenario's `input`: each handler answers with its answer.
struct Input(
    workboard_client::ClientCapabilities,
    serde_json::Map<String, Value>,
);

impl workboard_native::InputHandler for Input {
    fn capabilities(&self) -> workboard_client::ClientCapabilities {
        self.0
    }
    fn answer(
        &self,
        request: workboard_client::InputRequest,
    ) -> Pin<Box<dyn Future<Output = Result<Value, Error>> + Send>> {
        Box::pin(std::future::ready(runner::input_answer(&self.1, &request)))
    }
}

struct Native {
    client: Client,
    rt: tokio::runtime::Runtime,
}

fn err(e: Error) -> (String, String) {
    runner::outcome_error(e)
}

impl Adapter for Native {
    fn new(c: &Value, transport: ScenarioTransport, store: ScenarioStore) -> Self {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let mut b = Client::builder()
            .server_url(c["server_url"].as_str().unwrap())
            .allow_client_secret(c["allow_client_secret"].as_bool().unwrap_or(false))
            .custom_transport(transport)
            .store(Arc::new(Store(store)));
        let (caps, answers) = runner::input_of(c);
        b = b.input_handler(Arc::new(Input(caps, answers)));
        if !c["credentials"].is_null() {
            b = b.credentials(Credentials::from_json(&c["credentials"].to_string()).unwrap());
        }
        if !c["auth_context"].is_null() {
            b = b.auth_context(AuthContext::from_json(&c["auth_context"].to_string()).unwrap());
        }
        let client = rt.block_on(async { b.build() }).unwrap();
        Native { client, rt }
    }

    fn call(&self, call: &str, args: &Value) -> (BoxFut<'static>, Box<dyn Fn()>) {
        let c = &self.client;
        let none: Box<dyn Fn()> = Box::new(|| {});
        match call {
            "list_tools" => {
                let f = c.list_tools();
                let cancel = f.canceller().unwrap();
                (
                    Box::pin(async move {
                        f.await
                            .map(|t| json!({"names": t.iter().map(|t| t.name.clone()).collect::<Vec<_>>()}))
                            .map_err(err)
                    }),
                    Box::new(move || cancel.cancel()),
                )
            }
            "call_tool" => {
                let f = c.call_tool(args["name"].as_str().unwrap(), args["arguments"].clone());
                let cancel = f.canceller();
                (
                    Box::pin(async move {
                        f.await
                            .map(|r| json!({"text": r.text(), "is_error": r.is_error}))
                            .map_err(err)
                    }),
                    Box::new(move || {
                        if let Some(c) = &cancel {
                            c.cancel()
                        }
                    }),
                )
            }
            "ping" => {
                let f = c.ping();
                (
                    Box::pin(async move { f.await.map(|()| json!({})).map_err(err) }),
                    none,
                )
            }
            "connect" => {
                let f = c.connect();
                (
                    Box::pin(async move { f.await.map(|_| json!({})).map_err(err) }),
                    none,
                )
            }
            "refresh" => {
                let f = c.refresh();
                (
                    Box::pin(async move {
                        f.await
                            .map(|c| json!({"access_token": token_of(&c)}))
                            .map_err(err)
                    }),
                    none,
                )
            }
            "request" => {
                let f = c.request(args["method"].as_str().unwrap(), args["params"].clone());
                (
                    Box::pin(async move { f.await.map(|v| json!({"result": v})).map_err(err) }),
                    none,
                )
            }
            "close" => {
                let f = c.close();
                (
                    Box::pin(async move { f.await.map(|()| json!({})).map_err(err) }),
                    none,
                )
            }
            other => panic!("unknown call `{other}`"),
        }
    }

    fn block_on<'a, T>(&'a self, f: Pin<Box<dyn Future<Output = T> + 'a>>) -> T {
        self.rt.block_on(f)
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
        // A real clock: the code was received now (the README's rule for such runners).
        assert!(code["received_at_ms"].is_u64());
        let now = workboard_core::Clock::now_ms(&workboard_native::SystemClock);
        let ac = runner::v1_code(code, now);
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
fn behaviour_suite_through_the_native_adapter() {
    let ran = runner::run_all::<Native>();
    assert!(ran.contains("cancel_in_flight"), "{ran:?}");
}
