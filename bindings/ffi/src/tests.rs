//! Rust-side tests of the conversions and the client with an in-process "foreign" transport.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::{Arc, Mutex};

use crate::host::parse_seed;
use crate::*;

struct Recorded {
    sent: Mutex<Vec<HttpRequest>>,
    reply: HttpResponse,
}

#[async_trait::async_trait]
impl Transport for Recorded {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, HostError> {
        self.sent.lock().unwrap().push(request);
        Ok(self.reply.clone())
    }
}

struct Refusing;

#[async_trait::async_trait]
impl Transport for Refusing {
    async fn send(&self, _request: HttpRequest) -> Result<HttpResponse, HostError> {
        Err(HostError::Connect {
            reason: "refused".into(),
        })
    }
}

fn code<T>(r: Result<T, WorkboardError>) -> String {
    match r {
        Ok(_) => panic!("expected an error"),
        Err(e) => e.code().to_string(),
    }
}

#[test]
fn seed_parsing_rejects_garbage() {
    assert_eq!(parse_seed(&"0a".repeat(32)).unwrap(), [10u8; 32]);
    assert_eq!(code(parse_seed("abc")), "invalid_input");
    assert_eq!(code(parse_seed(&"zz".repeat(32))), "invalid_input");
    assert_eq!(code(parse_seed(&"é".repeat(32))), "invalid_input");
}

#[test]
fn host_errors_map_to_transport_errors() {
    use workboard_core::TransportError as T;
    assert_eq!(T::from(HostError::Timeout), T::Timeout);
    assert_eq!(
        T::from(HostError::Connect { reason: "x".into() }),
        T::Connect("x".into())
    );
    assert_eq!(
        T::from(HostError::BodyTooLarge { limit: 7 }),
        T::BodyTooLarge { limit: 7 }
    );
    let e: HostError = uniffi::UnexpectedUniFFICallbackError {
        reason: "boom".into(),
    }
    .into();
    assert!(matches!(e, HostError::Other { reason } if reason.contains("boom")));
}

#[test]
fn v1_exchange_and_revoke_through_a_foreign_transport() {
    let clock = ManualClock::new(1_764_000_000_000);
    let body =
        br#"{"success":true,"access_token":"the-token","scope":"all","token_type":"bearer"}"#
            .to_vec();
    let t = Arc::new(Recorded {
        sent: Mutex::new(vec![]),
        reply: HttpResponse {
            status: 200,
            headers: vec![HttpHeader {
                name: "Content-Type".into(),
                value: "application/json".into(),
            }],
            body,
        },
    });
    let app = WorkboardClient::new(
        ClientOptions {
            entropy_seed_hex: Some("07".repeat(32)),
            allow_client_secret: true,
            ..Default::default()
        },
        Some(t.clone()),
        None,
        Some(clock.clone()),
        None,
        None,
        None,
    )
    .unwrap();
    let start = app
        .start_v1_sign_in(V1SignInOptions {
            client_id: "cid".into(),
            redirect_uri: "https://app.example/cb".into(),
            scopes: vec![],
            json_code: false,
            environment: None,
        })
        .unwrap();
    let state = url::Url::parse(&start.url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .into_owned();
    let code_v = app
        .handle_v1_redirect(
            None,
            format!("https://app.example/cb?code=c1&state={state}"),
        )
        .unwrap();
    let summary =
        futures_executor::block_on(app.clone().exchange_v1_code(code_v.clone(), "hash".into()))
            .unwrap();
    assert_eq!(summary.kind, "oauth");
    assert_eq!(summary.scope.as_deref(), Some("all"));
    {
        let sent = t.sent.lock().unwrap();
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].method, "POST");
        assert_eq!(sent[0].url, "https://www.myworkboard.com/wb/oauth/token");
        let body = String::from_utf8(sent[0].body.clone()).unwrap();
        assert_eq!(
            body,
            "client_id=cid&client_hash=hash&code=c1&redirect_uri=https%3A%2F%2Fapp.example%2Fcb"
        );
    }
    // The Client Hash is never sent to a token endpoint the code names from elsewhere.
    let mut forged = code_v.clone();
    forged.token_endpoint = "https://attacker.example/token".into();
    assert_eq!(
        code(futures_executor::block_on(
            app.clone().exchange_v1_code(forged, "hash".into())
        )),
        "client_secret_not_for_server"
    );
    assert_eq!(t.sent.lock().unwrap().len(), 1);
    // Five minutes later the code is refused without a request.
    clock.advance_ms(300_000);
    assert_eq!(
        code(futures_executor::block_on(
            app.clone().exchange_v1_code(code_v, "hash".into())
        )),
        "authorization_expired"
    );
    assert_eq!(t.sent.lock().unwrap().len(), 1);
    assert_eq!(
        futures_executor::block_on(app.clone().revoke_v1_credentials()).unwrap(),
        "revoked"
    );
    assert!(app.credentials_json().is_none());
}

#[test]
fn a_failing_foreign_transport_is_a_typed_error() {
    let c = WorkboardClient::new(
        ClientOptions {
            token: Some("tok".into()),
            ..Default::default()
        },
        Some(Arc::new(Refusing)),
        None,
        None,
        None,
        None,
        None,
    )
    .unwrap();
    assert_eq!(
        code(futures_executor::block_on(c.clone().list_tools())),
        "transport"
    );
    assert_eq!(
        code(futures_executor::block_on(
            c.clone().call_tool("t".into(), "[]".into())
        )),
        "invalid_input"
    );
    // Closing a connection that never opened a session sends nothing.
    futures_executor::block_on(c.clone().close()).unwrap();
}

/// Refuses every response as larger than it reads, counting the requests.
#[derive(Default)]
struct Oversized {
    sends: std::sync::atomic::AtomicUsize,
}

#[async_trait::async_trait]
impl Transport for Oversized {
    async fn send(&self, _request: HttpRequest) -> Result<HttpResponse, HostError> {
        self.sends.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Err(HostError::BodyTooLarge { limit: 1 << 20 })
    }
}

#[test]
fn a_foreign_transport_refusing_an_oversized_body_fails_the_call_once_not_replayed() {
    let t = Arc::new(Oversized::default());
    let c = WorkboardClient::new(
        ClientOptions {
            token: Some("tok".into()),
            ..Default::default()
        },
        Some(t.clone()),
        None,
        None,
        None,
        None,
        None,
    )
    .unwrap();
    // `initialize` (the first request of `list_tools`) is one the core replays after a
    // network failure: an oversized body is not one.
    let e = futures_executor::block_on(c.clone().list_tools()).unwrap_err();
    let WorkboardError::Failed { code, message, .. } = &e;
    assert_eq!(code, "response_too_large");
    assert!(message.contains("1048576"), "{message}");
    assert_eq!(t.sends.load(std::sync::atomic::Ordering::SeqCst), 1);
}

/// Answers after giving the runtime a turn, as a foreign transport answering from its own
/// executor does.
struct Later(Arc<SlowServer>);

#[async_trait::async_trait]
impl Transport for Later {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, HostError> {
        tokio::task::yield_now().await;
        self.0.send(request).await
    }
}

#[test]
fn a_manual_clock_does_not_time_out_a_call_whose_answer_is_on_its_way() {
    let clock = ManualClock::new(1_764_000_000_000);
    let server = Arc::new(SlowServer::default());
    let c = WorkboardClient::new(
        ClientOptions {
            token: Some("tok".into()),
            ..Default::default()
        },
        Some(Arc::new(Later(server.clone()))),
        None,
        Some(clock.clone()),
        None,
        None,
        None,
    )
    .unwrap();
    let tools = futures_executor::block_on(c.clone().list_tools()).unwrap();
    assert_eq!(tools.len(), 1);
    assert_eq!(server.count("notifications/cancelled"), 0);
    // No timer fired while the answers were on their way: the clock did not move.
    assert_eq!(clock.now_ms(), 1_764_000_000_000);
}

#[test]
fn errors_never_carry_secrets() {
    let c = WorkboardClient::new(
        ClientOptions {
            token: Some("SECRETTOKEN".into()),
            ..Default::default()
        },
        Some(Arc::new(Refusing)),
        None,
        None,
        None,
        None,
        None,
    )
    .unwrap();
    let e = futures_executor::block_on(c.clone().list_tools()).unwrap_err();
    assert!(!format!("{e:?} {e}").contains("SECRETTOKEN"));
    assert!(!format!("{:?}", c.credentials_summary()).contains("SECRETTOKEN"));
    let r = redact_url("https://h/cb?code=SECRETCODE&state=SECRETSTATE".into());
    assert!(!r.contains("SECRET"));
}

/// A minimal MCP server as a foreign transport: answers `initialize`, notifications (202),
/// `ping` and `tools/list`, and never answers the methods in `hang` (their futures stay
/// pending until dropped).
#[derive(Default)]
struct SlowServer {
    hang: Mutex<Vec<String>>,
    /// Every JSON-RPC message received, in order.
    seen: Mutex<Vec<serde_json::Value>>,
    /// Hanging requests whose future was dropped (the client stopped waiting).
    dropped: std::sync::atomic::AtomicUsize,
    /// Told the method of every request that starts hanging.
    hanging: Mutex<Option<std::sync::mpsc::Sender<String>>>,
}

struct DropCount<'a>(&'a std::sync::atomic::AtomicUsize);

impl Drop for DropCount<'_> {
    fn drop(&mut self) {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}

#[async_trait::async_trait]
impl Transport for SlowServer {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, HostError> {
        use serde_json::json;
        let msg: serde_json::Value = serde_json::from_slice(&request.body).unwrap_or_default();
        self.seen.lock().unwrap().push(msg.clone());
        let method = msg["method"].as_str().unwrap_or_default().to_string();
        let json_headers = vec![
            HttpHeader {
                name: "Content-Type".into(),
                value: "application/json".into(),
            },
            HttpHeader {
                name: "Mcp-Session-Id".into(),
                value: "s1".into(),
            },
        ];
        if request
            .headers
            .iter()
            .any(|h| h.name.eq_ignore_ascii_case("mcp-method"))
        {
            // A legacy server: the dual-era probe (a modern request) is refused.
            return Ok(HttpResponse {
                status: 400,
                headers: vec![],
                body: br#"{"jsonrpc":"2.0","id":null,"error":{"code":-32000,"message":"Bad Request: no session"}}"#.to_vec(),
            });
        }
        if msg.get("id").is_none() {
            return Ok(HttpResponse {
                status: 202,
                headers: vec![],
                body: vec![],
            });
        }
        if self.hang.lock().unwrap().contains(&method) {
            let _count = DropCount(&self.dropped);
            if let Some(tx) = self.hanging.lock().unwrap().as_ref() {
                let _ = tx.send(method.clone());
            }
            std::future::pending::<()>().await;
        }
        let result = match method.as_str() {
            "initialize" => json!({
                "protocolVersion": msg["params"]["protocolVersion"],
                "capabilities": {"tools": {}},
                "serverInfo": {"name": "slow", "version": "1"}
            }),
            "tools/list" => json!({"tools": [{"name": "echo", "inputSchema": {"type": "object"}}]}),
            "tools/call" => json!({"content": [{"type": "text", "text": "done"}]}),
            _ => json!({}),
        };
        let body = json!({"jsonrpc": "2.0", "id": msg["id"], "result": result});
        Ok(HttpResponse {
            status: 200,
            headers: json_headers,
            body: body.to_string().into_bytes(),
        })
    }
}

impl SlowServer {
    /// How many messages with `method` arrived.
    fn count(&self, method: &str) -> usize {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .filter(|m| m["method"] == method)
            .count()
    }

    fn cancelled_notifications(&self) -> Vec<serde_json::Value> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .filter(|m| m["method"] == "notifications/cancelled")
            .cloned()
            .collect()
    }

    fn id_of(&self, method: &str) -> serde_json::Value {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .rev()
            .find(|m| m["method"] == method)
            .map(|m| m["id"].clone())
            .unwrap()
    }
}

type Caller<T> = std::thread::JoinHandle<Result<T, WorkboardError>>;

/// A personal-token client of a `SlowServer` with a `tools/call` hanging on another thread
/// (returned once the server has it); the receiver hears of later hanging requests.
fn client_with_a_hanging_tool_call() -> (
    Arc<SlowServer>,
    Arc<WorkboardClient>,
    std::sync::mpsc::Receiver<String>,
    Caller<McpToolResult>,
) {
    let server = Arc::new(SlowServer::default());
    let (tx, hanging) = std::sync::mpsc::channel();
    *server.hanging.lock().unwrap() = Some(tx);
    server.hang.lock().unwrap().push("tools/call".into());
    let c = WorkboardClient::new(
        ClientOptions {
            token: Some("tok".into()),
            ..Default::default()
        },
        Some(server.clone()),
        None,
        None,
        None,
        None,
        None,
    )
    .unwrap();
    let caller = {
        let c = c.clone();
        std::thread::spawn(move || {
            futures_executor::block_on(c.call_tool("slow".into(), "{}".into()))
        })
    };
    assert_eq!(
        hanging
            .recv_timeout(std::time::Duration::from_secs(10))
            .unwrap(),
        "tools/call"
    );
    (server, c, hanging, caller)
}

#[test]
fn cancel_calls_cancels_the_call_in_flight_and_the_waiting_ones() {
    use futures_util::FutureExt;
    use std::sync::atomic::Ordering::SeqCst;
    use std::time::Duration;

    // A tool call that the server never answers, awaited on another thread.
    let (server, c, hanging, caller) = client_with_a_hanging_tool_call();
    // A ping that the server does not answer either (polled once: it has started; whether
    // the loop has sent it yet or not, it is cancelled too).
    server.hang.lock().unwrap().push("ping".into());
    let mut queued = Box::pin(c.clone().ping());
    assert!((&mut queued).now_or_never().is_none());

    c.cancel_calls();
    assert_eq!(code(caller.join().unwrap()), "cancelled");
    assert_eq!(code(futures_executor::block_on(queued)), "cancelled");

    // The client stays usable; by the time the next call's answer is in, the notifications
    // went out and the client stopped waiting for the cancelled requests (a request the
    // loop had sent reached the app's transport, which then saw its task dropped).
    let tools = futures_executor::block_on(c.clone().list_tools()).unwrap();
    assert_eq!(tools[0].name, "echo");
    let sent_ping = server
        .seen
        .lock()
        .unwrap()
        .iter()
        .any(|m| m["method"] == "ping");
    if sent_ping {
        // It had started hanging before it was cancelled.
        assert_eq!(
            hanging.recv_timeout(Duration::from_secs(10)).unwrap(),
            "ping"
        );
    }
    server.hang.lock().unwrap().retain(|m| m != "ping");
    let notes = server.cancelled_notifications();
    assert_eq!(notes.len(), 1 + usize::from(sent_ping), "{notes:?}");
    let cancelled: Vec<_> = notes
        .iter()
        .map(|n| n["params"]["requestId"].clone())
        .collect();
    assert!(cancelled.contains(&server.id_of("tools/call")), "{notes:?}");
    if sent_ping {
        assert!(cancelled.contains(&server.id_of("ping")), "{notes:?}");
    }
    assert_eq!(server.dropped.load(SeqCst), 1 + usize::from(sent_ping));

    // list_tools is cancellable the same way; calls made after the cancellation are not.
    *server.hang.lock().unwrap() = vec!["tools/list".into()];
    let caller = {
        let c = c.clone();
        std::thread::spawn(move || futures_executor::block_on(c.list_tools()))
    };
    assert_eq!(
        hanging.recv_timeout(Duration::from_secs(10)).unwrap(),
        "tools/list"
    );
    c.cancel_calls();
    assert_eq!(code(caller.join().unwrap()), "cancelled");
    server.hang.lock().unwrap().clear();
    let r = futures_executor::block_on(c.clone().call_tool("echo".into(), "{}".into())).unwrap();
    assert_eq!(r.text, "done");
    let notes = server.cancelled_notifications();
    assert_eq!(notes.len(), 2 + usize::from(sent_ping), "{notes:?}");
    assert_eq!(
        notes.last().unwrap()["params"]["requestId"],
        server.id_of("tools/list")
    );
    assert_eq!(server.dropped.load(SeqCst), 2 + usize::from(sent_ping));
    futures_executor::block_on(c.clone().ping()).unwrap();
    // Cancelling with nothing in progress does nothing.
    c.cancel_calls();
    futures_executor::block_on(c.clone().ping()).unwrap();
}

/// A store keeping every value saved under `credentials` (or refusing to save, with `.1`
/// set); other keys are kept in `.2`.
#[derive(Default)]
struct Saved(
    Mutex<Vec<String>>,
    std::sync::atomic::AtomicBool,
    Mutex<std::collections::BTreeMap<String, String>>,
);

impl CredentialStore for Saved {
    fn load(&self, key: String) -> Result<Option<String>, HostError> {
        Ok(match key.as_str() {
            "credentials" => self.0.lock().unwrap().last().cloned(),
            _ => self.2.lock().unwrap().get(&key).cloned(),
        })
    }
    fn save(&self, key: String, value: String) -> Result<(), HostError> {
        if self.1.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(HostError::Other {
                reason: "keychain locked".into(),
            });
        }
        match key.as_str() {
            "credentials" => self.0.lock().unwrap().push(value),
            _ => drop(self.2.lock().unwrap().insert(key, value)),
        }
        Ok(())
    }
    fn remove(&self, key: String) -> Result<(), HostError> {
        match key.as_str() {
            "credentials" => self.0.lock().unwrap().clear(),
            _ => drop(self.2.lock().unwrap().remove(&key)),
        }
        Ok(())
    }
}

/// An MCP server that refuses the old access token and an authorization server that rotates
/// the tokens; on the replayed request it notes what the store held at that moment.
struct RotatingServer {
    store: Arc<Saved>,
    store_at_replay: Mutex<Option<String>>,
    sent: Mutex<Vec<String>>,
}

#[async_trait::async_trait]
impl Transport for RotatingServer {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, HostError> {
        use serde_json::json;
        let auth = request
            .headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case("authorization"))
            .map(|h| h.value.clone())
            .unwrap_or_default();
        let reply = |status: u16, body: serde_json::Value| HttpResponse {
            status,
            headers: vec![HttpHeader {
                name: "Content-Type".into(),
                value: "application/json".into(),
            }],
            body: body.to_string().into_bytes(),
        };
        if request.url == "https://auth.example.com/token" {
            self.sent.lock().unwrap().push("token".into());
            return Ok(reply(
                200,
                json!({"access_token": "new-access", "refresh_token": "new-refresh",
                       "token_type": "Bearer", "expires_in": 3600}),
            ));
        }
        let msg: serde_json::Value = serde_json::from_slice(&request.body).unwrap_or_default();
        let method = msg["method"].as_str().unwrap_or_default().to_string();
        self.sent.lock().unwrap().push(format!("{method} {auth}"));
        if auth == "Bearer old-access" {
            let mut r = reply(401, json!({}));
            r.headers.push(HttpHeader {
                name: "WWW-Authenticate".into(),
                value: "Bearer error=\"invalid_token\"".into(),
            });
            return Ok(r);
        }
        if self.store_at_replay.lock().unwrap().is_none() {
            // The first request with the new token: the replay of the refused one.
            *self.store_at_replay.lock().unwrap() = self.store.0.lock().unwrap().last().cloned();
        }
        if msg.get("id").is_none() {
            return Ok(HttpResponse {
                status: 202,
                headers: vec![],
                body: vec![],
            });
        }
        let result = match method.as_str() {
            "initialize" => json!({
                "protocolVersion": msg["params"]["protocolVersion"],
                "capabilities": {"tools": {}},
                "serverInfo": {"name": "rotating", "version": "1"}
            }),
            "tools/list" => json!({"tools": [{"name": "echo", "inputSchema": {"type": "object"}}]}),
            _ => json!({}),
        };
        Ok(reply(
            200,
            json!({"jsonrpc": "2.0", "id": msg["id"], "result": result}),
        ))
    }
}

/// A client with expiring OAuth credentials (refreshable) of a `RotatingServer`.
fn rotating_client() -> (Arc<RotatingServer>, Arc<Saved>, Arc<WorkboardClient>) {
    use workboard_core::oauth::flow::AuthContext;
    use workboard_core::oauth::registration::{IdentitySource, TokenEndpointAuth};
    use workboard_core::{Dialect, TokenSet};

    let url = "https://mcp.example.com/mcp";
    let context = AuthContext {
        server_url: url.into(),
        resource: url.into(),
        issuer: Some("https://auth.example.com".into()),
        authorization_endpoint: "https://auth.example.com/authorize".into(),
        token_endpoint: "https://auth.example.com/token".into(),
        revocation_endpoint: None,
        registration_endpoint: None,
        token_endpoint_auth: TokenEndpointAuth::None,
        client_id: "cid".into(),
        client_secret: None,
        identity_source: IdentitySource::PreRegistered,
        redirect_uri: "https://app.example/cb".into(),
        scopes: None,
        as_scopes_supported: None,
        iss_parameter_supported: false,
        allowance: None,
        legacy_defaults: false,
    };
    let old = workboard_core::Credentials::OAuth(TokenSet {
        access_token: "old-access".into(),
        refresh_token: Some("old-refresh".into()),
        token_type: "Bearer".into(),
        scope: None,
        issued_at_ms: 0,
        expires_at_ms: None,
        dialect: Dialect::OAuth2,
        bound_to: None,
    });
    let store = Arc::new(Saved::default());
    let server = Arc::new(RotatingServer {
        store: store.clone(),
        store_at_replay: Mutex::new(None),
        sent: Mutex::new(Vec::new()),
    });
    let c = WorkboardClient::new(
        ClientOptions {
            mcp_url: Some(url.into()),
            credentials_json: Some(old.to_json()),
            auth_context_json: Some(context.to_json()),
            ..Default::default()
        },
        Some(server.clone()),
        Some(store.clone()),
        None,
        None,
        None,
        None,
    )
    .unwrap();
    (server, store, c)
}

#[test]
fn refreshed_credentials_are_stored_before_the_replayed_request_is_sent() {
    let (server, _store, c) = rotating_client();
    let tools = futures_executor::block_on(c.clone().list_tools()).unwrap();
    assert_eq!(tools[0].name, "echo");
    let sent = server.sent.lock().unwrap().clone();
    assert_eq!(
        sent[..3],
        [
            "tools/list Bearer old-access".to_string(),
            "token".to_string(),
            "tools/list Bearer new-access".to_string()
        ],
        "{sent:?}"
    );
    let at_replay = server
        .store_at_replay
        .lock()
        .unwrap()
        .clone()
        .expect("stored");
    assert!(at_replay.contains("new-refresh"), "{at_replay}");
    assert!(at_replay.contains("new-access"), "{at_replay}");
}

#[test]
fn calls_run_concurrently_a_slow_call_does_not_hold_the_others() {
    let (server, c, _hanging, slow) = client_with_a_hanging_tool_call();
    // While the tool call hangs, other calls of the same client complete, on one session.
    let tools = futures_executor::block_on(c.clone().list_tools()).unwrap();
    assert_eq!(tools[0].name, "echo");
    futures_executor::block_on(c.clone().ping()).unwrap();
    let info = futures_executor::block_on(c.clone().connect()).unwrap();
    assert_eq!(info.name, "slow");
    assert!(!slow.is_finished());
    assert_eq!(server.count("initialize"), 1);

    c.cancel_calls();
    assert_eq!(code(slow.join().unwrap()), "cancelled");
    futures_executor::block_on(c.clone().close()).unwrap();
    // Closing is final.
    let e = futures_executor::block_on(c.clone().ping()).unwrap_err();
    assert_eq!((e.code(), e.kind()), ("client_stopped", ErrorKind::Stopped));
    futures_executor::block_on(c.clone().close()).unwrap();
    assert_eq!(server.count("initialize"), 1);
}

#[test]
fn a_store_that_cannot_save_refreshed_credentials_keeps_them_in_memory_and_reports_it() {
    let (server, store, c) = rotating_client();
    store.1.store(true, std::sync::atomic::Ordering::SeqCst);
    // The call that needed the refresh gets its result; the failure is kept.
    let tools = futures_executor::block_on(c.clone().list_tools()).unwrap();
    assert_eq!(tools[0].name, "echo");
    let e = c.store_error().expect("the failed save");
    assert_eq!(e.code(), "credential_store_failed");
    assert_eq!(e.kind(), ErrorKind::Storage);
    assert!(!format!("{e:?}").contains("new-refresh"), "{e:?}");
    assert!(c.credentials_json().unwrap().contains("new-access"));
    // The refreshed tokens are used from memory: no second refresh.
    store.1.store(false, std::sync::atomic::Ordering::SeqCst);
    let tools = futures_executor::block_on(c.clone().list_tools()).unwrap();
    assert_eq!(tools[0].name, "echo");
    let tokens = server
        .sent
        .lock()
        .unwrap()
        .iter()
        .filter(|s| *s == "token")
        .count();
    assert_eq!(tokens, 1, "no second refresh");
}

#[test]
fn credentials_of_another_server_are_refused_by_the_core_rule_and_never_sent() {
    let foreign = workboard_core::Credentials::personal("FOREIGN-TOKEN")
        .bind_to("https://other.example/mcp")
        .unwrap();
    let server = Arc::new(SlowServer::default());
    // Given at construction: refused there, before anything is sent.
    let made = WorkboardClient::new(
        ClientOptions {
            credentials_json: Some(foreign.to_json()),
            ..Default::default()
        },
        Some(server.clone()),
        None,
        None,
        None,
        None,
        None,
    );
    assert_eq!(code(made), "credentials_not_for_server");
    // Set while a connection runs with valid credentials: refused, and nothing changes.
    let c = WorkboardClient::new(
        ClientOptions {
            token: Some("own-token".into()),
            ..Default::default()
        },
        Some(server.clone()),
        None,
        None,
        None,
        None,
        None,
    )
    .unwrap();
    assert!(futures_executor::block_on(c.clone().list_tools()).is_ok());
    assert_eq!(
        code(c.set_credentials_json(foreign.to_json())),
        "credentials_not_for_server"
    );
    assert!(futures_executor::block_on(c.clone().list_tools()).is_ok());
    assert!(c.credentials_json().unwrap().contains("own-token"));
}

/// Every kind of the core, by hand.
const ALL_CORE_KINDS: [workboard_core::ErrorKind; 15] = {
    use workboard_core::ErrorKind as K;
    [
        K::NeedsSignIn,
        K::StepUpRequired,
        K::Unauthorized,
        K::SignInFailed,
        K::Network,
        K::Timeout,
        K::RateLimited,
        K::Server,
        K::Protocol,
        K::InvalidInput,
        K::WrongState,
        K::Cancelled,
        K::Stopped,
        K::Storage,
        K::Internal,
    ]
};

/// The variants of the core's `ErrorKind`, read from its source (the enum is
/// `#[non_exhaustive]`, so no match outside the core can prove the list complete).
fn core_kind_variants() -> Vec<String> {
    let src = include_str!("../../../crates/workboard-core/src/error.rs");
    let start = src
        .find("pub enum ErrorKind {")
        .expect("the core's ErrorKind");
    let body = &src[start..];
    body[..body.find("\n}").expect("its end")]
        .lines()
        .skip(1)
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("//") && !l.starts_with("#["))
        .map(|l| l.trim_end_matches(',').to_string())
        .collect()
}

#[test]
fn every_core_error_kind_has_its_ffi_variant() {
    let listed: Vec<String> = ALL_CORE_KINDS.iter().map(|k| format!("{k:?}")).collect();
    assert_eq!(
        listed,
        core_kind_variants(),
        "the list is every core ErrorKind"
    );
    for k in ALL_CORE_KINDS {
        // Same name, so no kind falls through to the `Internal` fallback.
        assert_eq!(format!("{:?}", ErrorKind::from(k)), format!("{k:?}"));
    }
}

#[test]
fn errors_carry_the_core_kind_of_their_code() {
    let e = parse_credentials("{\"kind\":".into()).unwrap_err();
    assert_eq!(
        (e.code(), e.kind()),
        ("invalid_input", ErrorKind::InvalidInput)
    );
    let e = parse_seed("abc").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    let c =
        WorkboardClient::new(ClientOptions::default(), None, None, None, None, None, None).unwrap();
    let Err(e) = c.step_up_mcp_sign_in("write".into()) else {
        panic!("step-up without a sign-in")
    };
    assert_eq!((e.code(), e.kind()), ("wrong_state", ErrorKind::WrongState));
    let e = WorkboardError::from(workboard_core::Error::Unauthorized {
        url: "https://www.myworkboard.com/wb/mcp".into(),
        error: None,
        environment: "US".into(),
    });
    assert_eq!(
        (e.code(), e.kind()),
        ("unauthorized", ErrorKind::NeedsSignIn)
    );
}

// ---------------------------------------------------------------- input handlers

struct Handlers;

#[async_trait::async_trait]
impl ElicitationHandler for Handlers {
    async fn elicit(&self, r: McpElicitation) -> Result<McpElicitationResult, HostError> {
        match r.message.as_str() {
            "cancel me" => Err(HostError::Cancelled),
            "throw" => Err(HostError::Other {
                reason: "the user typed hunter2".into(),
            }),
            "decline" => Ok(McpElicitationResult {
                action: McpElicitationAction::Decline,
                content_json: Some(r#"{"ignored": true}"#.into()),
            }),
            "broken" => Ok(McpElicitationResult {
                action: McpElicitationAction::Accept,
                content_json: Some(r#"{"token": "sk-secret-value""#.into()),
            }),
            "array" => Ok(McpElicitationResult {
                action: McpElicitationAction::Accept,
                content_json: Some("[1]".into()),
            }),
            _ => Ok(McpElicitationResult {
                action: McpElicitationAction::Accept,
                // Echoes what the handler was given, to check the conversion.
                content_json: Some(
                    serde_json::json!({
                        "mode": r.mode, "schema": r.requested_schema_json, "url": r.url,
                        "id": r.elicitation_id,
                    })
                    .to_string(),
                ),
            }),
        }
    }
}

#[async_trait::async_trait]
impl SamplingHandler for Handlers {
    async fn create_message(&self, r: McpSamplingRequest) -> Result<McpSamplingResult, HostError> {
        Ok(McpSamplingResult {
            role: "assistant".into(),
            content_json: serde_json::json!({"type": "text", "text": format!(
                "{} {:?} {:?}", r.messages_json, r.system_prompt, r.max_tokens)})
            .to_string(),
            model: "m1".into(),
            stop_reason: Some("endTurn".into()),
        })
    }
}

#[async_trait::async_trait]
impl RootsHandler for Handlers {
    async fn list_roots(&self) -> Result<Vec<McpRoot>, HostError> {
        Ok(vec![
            McpRoot {
                uri: "file:///work".into(),
                name: Some("work".into()),
            },
            McpRoot {
                uri: "file:///tmp".into(),
                name: None,
            },
        ])
    }
}

fn host_with(handlers: bool, url_mode: bool) -> crate::host::FfiHost {
    let h = Arc::new(Handlers);
    let e: Option<Arc<dyn ElicitationHandler>> = handlers.then(|| h.clone() as _);
    let s: Option<Arc<dyn SamplingHandler>> = handlers.then(|| h.clone() as _);
    let r: Option<Arc<dyn RootsHandler>> = handlers.then_some(h as _);
    crate::host::FfiHost {
        transport: crate::host::transport(None).unwrap(),
        clock: crate::host::HostClock::Manual(ManualClock::new(0)),
        entropy: Mutex::new(crate::host::entropy(None).unwrap()),
        store: None,
        listener: Default::default(),
        input: crate::host::input(e, s, r, url_mode),
    }
}

fn ask(
    host: &crate::host::FfiHost,
    method: &str,
    params: serde_json::Value,
) -> Result<serde_json::Value, workboard_core::Error> {
    use workboard_client::Host;
    futures_executor::block_on(host.answer_input(workboard_client::InputRequest {
        key: "k".into(),
        method: method.into(),
        params,
    }))
}

#[test]
fn the_handlers_given_are_the_capabilities_declared() {
    use workboard_client::Host;
    let all = host_with(true, false).input_capabilities();
    assert!(all.elicitation_form && all.sampling && all.roots && !all.elicitation_url);
    assert!(host_with(true, true).input_capabilities().elicitation_url);
    assert_eq!(
        host_with(false, true).input_capabilities(),
        workboard_client::ClientCapabilities::default()
    );
    // Not declared, not answered.
    let none = host_with(false, false);
    let e = ask(&none, "roots/list", serde_json::json!({})).unwrap_err();
    assert_eq!(e.code(), "protocol_error");
}

#[test]
fn elicitation_requests_and_answers_convert_both_ways() {
    use serde_json::json;
    let host = host_with(true, false);
    let form = json!({"message": "hi", "requestedSchema": {"type": "object"}});
    let v = ask(&host, "elicitation/create", form).unwrap();
    assert_eq!(v["action"], "accept");
    let content = &v["content"];
    assert_eq!(content["mode"], "form"); // absent mode is form
    assert_eq!(content["schema"], r#"{"type":"object"}"#);
    assert_eq!(content["url"], serde_json::Value::Null);
    let url = json!({"mode": "url", "message": "go", "url": "https://x.example/a", "elicitationId": "e1"});
    let v = ask(&host, "elicitation/create", url).unwrap();
    assert_eq!(
        (
            &v["content"]["mode"],
            &v["content"]["url"],
            &v["content"]["id"]
        ),
        (&json!("url"), &json!("https://x.example/a"), &json!("e1"))
    );
    // Decline carries no content, whatever the handler put there.
    let v = ask(&host, "elicitation/create", json!({"message": "decline"})).unwrap();
    assert_eq!(v, json!({"action": "decline"}));
    // Bad answers are typed errors that do not quote the answer.
    let e = ask(&host, "elicitation/create", json!({"message": "broken"})).unwrap_err();
    assert_eq!(e.code(), "invalid_input");
    assert!(
        !e.info().message.contains("sk-secret"),
        "{}",
        e.info().message
    );
    let e = ask(&host, "elicitation/create", json!({"message": "array"})).unwrap_err();
    assert_eq!(e.code(), "invalid_input");
    // A handler that throws: invalid_input, without the handler's text.
    let e = ask(&host, "elicitation/create", json!({"message": "throw"})).unwrap_err();
    assert_eq!(e.code(), "invalid_input");
    assert!(
        !e.info().message.contains("hunter2"),
        "{}",
        e.info().message
    );
    // A handler that throws Cancelled cancels the call that waited.
    let e = ask(&host, "elicitation/create", json!({"message": "cancel me"})).unwrap_err();
    assert_eq!(e.code(), "cancelled");
}

#[test]
fn sampling_and_roots_answers_have_the_mcp_shapes() {
    use serde_json::json;
    let host = host_with(true, false);
    let v = ask(
        &host,
        "sampling/createMessage",
        json!({"messages": [{"role": "user", "content": {"type": "text", "text": "q"}}],
               "systemPrompt": "be brief", "maxTokens": 20}),
    )
    .unwrap();
    assert_eq!(v["role"], "assistant");
    assert_eq!(v["model"], "m1");
    assert_eq!(v["stopReason"], "endTurn");
    let text = v["content"]["text"].as_str().unwrap();
    assert!(
        text.contains(r#""text":"q""#) && text.contains("be brief") && text.contains("20"),
        "{text}"
    );
    let v = ask(&host, "roots/list", json!({})).unwrap();
    assert_eq!(
        v,
        json!({"roots": [{"uri": "file:///work", "name": "work"}, {"uri": "file:///tmp"}]})
    );
}

#[test]
fn a_client_with_handlers_declares_them_to_the_server() {
    let t = Arc::new(Recorded {
        sent: Mutex::new(vec![]),
        reply: HttpResponse {
            status: 500,
            headers: vec![],
            body: vec![],
        },
    });
    let c = WorkboardClient::new(
        ClientOptions {
            token: Some("tok".into()),
            mcp_url: Some("https://mcp.example.com/mcp".into()),
            era: Some(McpEra::Modern),
            ..Default::default()
        },
        Some(t.clone()),
        None,
        Some(ManualClock::new(0)),
        Some(Arc::new(Handlers)),
        None,
        Some(Arc::new(Handlers)),
    )
    .unwrap();
    let _ = futures_executor::block_on(c.clone().list_tools());
    let sent = t.sent.lock().unwrap();
    let body: serde_json::Value = serde_json::from_slice(&sent[0].body).unwrap();
    assert_eq!(
        body["params"]["_meta"]["io.modelcontextprotocol/clientCapabilities"],
        serde_json::json!({"elicitation": {"form": {}}, "roots": {}})
    );
}
