//! The native [`Client`] against an independent MCP 2026-07-28 server built on the official
//! TypeScript SDK 2.x (`tests/ts-sdk/server2.mjs`, `@modelcontextprotocol/server` 2.4), in its
//! modern-only (`legacy: 'reject'`) and dual-era modes: tools (list; a call with
//! `structuredContent`; a tool error; an `x-mcp-header` argument, plain and Base64), a
//! resource, a prompt and the completion of its argument, and elicitation answered by an [`InputHandler`] (MRTR on the modern
//! era, a server request on the legacy one). What was sent is read from the server's own
//! counters (`GET /__stats`).
//!
//! Needs Node.js ≥ 20 and the peer's npm packages (`bash tests/ts-sdk/test.sh` installs them):
//! without them every test fails with a message saying so (nothing is skipped).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::pin::Pin;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::channel;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use workboard_core::mcp::surface::CompletionRef;
use workboard_core::Credentials;
use workboard_native::workboard_client::{ClientCapabilities, InputRequest};
use workboard_native::{Client, EraPolicy, InputHandler};

const TOKEN: &str = "peer2-native-token";
/// Longest wait for the server to start, and for any one client call.
const TIMEOUT: Duration = Duration::from_secs(30);

/// `tests/ts-sdk/server2.mjs`, running until dropped (its stdin is kept open).
struct Server2 {
    child: Child,
    _stdin: ChildStdin,
    url: String,
}

impl Server2 {
    fn start(mode: &str, token: Option<&str>) -> Server2 {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/ts-sdk");
        let sdk = dir.join("node_modules/@modelcontextprotocol/server/package.json");
        assert!(
            sdk.is_file(),
            "the TypeScript SDK 2.x peer is not installed ({} is missing): run `bash tests/ts-sdk/test.sh` \
             (npm ci of the pinned @modelcontextprotocol/server) from the repository root, then rerun",
            sdk.display()
        );
        let mut cmd = Command::new("node");
        cmd.arg(dir.join("server2.mjs"))
            .args(["--mode", mode, "--port", "0"]);
        if let Some(t) = token {
            cmd.args(["--token", t]);
        }
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut child = cmd.spawn().unwrap_or_else(|e| {
            panic!("cannot run `node` ({e}): Node.js 20+ is needed for the TypeScript SDK 2.x peer")
        });
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = match rx.recv_timeout(TIMEOUT) {
            Ok(l) => l,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("server2.mjs printed nothing within {TIMEOUT:?}");
            }
        };
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| {
                panic!("unexpected first line from server2.mjs (Node.js 20+ needed): {line:?}")
            })
            .to_string();
        assert!(
            url.starts_with("http://127.0.0.1:") && url.ends_with("/mcp"),
            "{url}"
        );
        Server2 {
            child,
            _stdin: stdin,
            url,
        }
    }

    /// The server's counters (`reset`: zeroed after this snapshot).
    async fn stats(&self, reset: bool) -> Value {
        let url = self.url.replace(
            "/mcp",
            if reset {
                "/__stats?reset=1"
            } else {
                "/__stats"
            },
        );
        let res = reqwest::Client::new()
            .get(url)
            .timeout(TIMEOUT)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        serde_json::from_str(&res.text().await.unwrap()).unwrap()
    }
}

impl Drop for Server2 {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Answers every form elicitation with `{confirm: <answer>}`, counting the requests.
struct Confirm {
    answer: bool,
    asked: AtomicUsize,
}

impl InputHandler for Confirm {
    fn capabilities(&self) -> ClientCapabilities {
        ClientCapabilities {
            elicitation_form: true,
            ..ClientCapabilities::default()
        }
    }

    fn answer(
        &self,
        request: InputRequest,
    ) -> Pin<Box<dyn std::future::Future<Output = Result<Value, workboard_core::Error>> + Send>>
    {
        self.asked.fetch_add(1, Ordering::SeqCst);
        assert_eq!(request.method, "elicitation/create", "{request:?}");
        assert_eq!(request.params["message"], "Confirm deploy?", "{request:?}");
        let answer = json!({"action": "accept", "content": {"confirm": self.answer}});
        Box::pin(std::future::ready(Ok(answer)))
    }
}

fn client(srv: &Server2, era: EraPolicy, input: Option<Arc<Confirm>>) -> Client {
    let mut b = Client::builder()
        .server_url(srv.url.clone())
        .credentials(Credentials::personal(TOKEN))
        .era(era);
    if let Some(h) = input {
        b = b.input_handler(h);
    }
    b.build().unwrap()
}

async fn within<T>(what: &str, f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(TIMEOUT, f)
        .await
        .unwrap_or_else(|_| panic!("{what} did not finish within {TIMEOUT:?}"))
}

/// Every flow on one client; `modern`: the era it must speak.
async fn flows(srv: &Server2, era: EraPolicy, modern: bool) {
    let ctx = format!("era {era:?} against {}", srv.url);
    srv.stats(true).await;
    let c = client(srv, era, None);

    // The first tools/list from credentials: on the modern era one request, no initialize.
    let tools = within("tools/list", c.list_tools()).await.unwrap();
    let mut names: Vec<_> = tools.iter().map(|t| t.name.as_str()).collect();
    names.sort_unstable();
    assert_eq!(names, ["add", "confirm", "echo", "fail", "route"], "{ctx}");
    let add = tools.iter().find(|t| t.name == "add").unwrap();
    assert!(add.output_schema.is_some(), "{ctx}: {add:?}");
    let route = tools.iter().find(|t| t.name == "route").unwrap();
    assert_eq!(
        route.input_schema["properties"]["region"]["x-mcp-header"], "Region",
        "{ctx}: {route:?}"
    );
    let stats = srv.stats(true).await;
    if modern {
        assert_eq!(stats["rpc"].get("initialize"), None, "{ctx}: {stats}");
        assert_eq!(stats["POST"], 1, "{ctx}: more than one request: {stats}");
        assert_eq!(stats["rpc"]["tools/list"], 1, "{ctx}: {stats}");
        assert_eq!(stats["versions"]["2026-07-28"], 1, "{ctx}: {stats}");
    } else {
        assert_eq!(stats["rpc"]["initialize"], 1, "{ctx}: {stats}");
        assert_eq!(stats["versions"].get("2026-07-28"), None, "{ctx}: {stats}");
    }
    assert_eq!(stats["unauthorized"], 0, "{ctx}: {stats}");

    let sum = within("call add", c.call_tool("add", json!({"a": 2, "b": 40})))
        .await
        .unwrap();
    assert!(!sum.is_error, "{ctx}: {sum:?}");
    assert_eq!(sum.structured_content, Some(json!({"sum": 42})), "{ctx}");
    assert_eq!(sum.text(), "42", "{ctx}");

    let echo = within(
        "call echo",
        c.call_tool("echo", json!({"text": "héllo, 世界"})),
    )
    .await
    .unwrap();
    assert_eq!(echo.text(), "héllo, 世界", "{ctx}");

    let fail = within("call fail", c.call_tool("fail", json!({"message": "nope"})))
        .await
        .unwrap();
    assert!(fail.is_error, "{ctx}: {fail:?}");
    assert_eq!(fail.text(), "nope", "{ctx}");

    // SEP-2243: on the modern era the server rejects a call whose Mcp-Param-Region header is
    // missing or differs from the argument; the second value needs the Base64 sentinel.
    for region in ["us-west1", " Zürich\n"] {
        let r = within(
            "call route",
            c.call_tool("route", json!({"region": region, "query": "q"})),
        )
        .await
        .unwrap_or_else(|e| panic!("{ctx}: route {region:?}: {e}"));
        assert!(!r.is_error, "{ctx}: {r:?}");
        assert_eq!(r.text(), format!("routed to {region}: q"), "{ctx}");
    }

    let resources = within("resources/list", c.list_resources()).await.unwrap();
    assert!(
        resources.iter().any(|r| r.uri == "note://readme"),
        "{ctx}: {resources:?}"
    );
    let contents = within("resources/read", c.read_resource("note://readme"))
        .await
        .unwrap();
    assert_eq!(contents.len(), 1, "{ctx}: {contents:?}");
    assert_eq!(contents[0].uri, "note://readme", "{ctx}");
    assert_eq!(
        contents[0].mime_type.as_deref(),
        Some("text/plain"),
        "{ctx}"
    );
    assert_eq!(
        contents[0].text.as_deref(),
        Some("hello from the TypeScript SDK 2.x peer"),
        "{ctx}"
    );

    let prompts = within("prompts/list", c.list_prompts()).await.unwrap();
    let greet = prompts.iter().find(|p| p.name == "greet");
    assert!(greet.is_some(), "{ctx}: {prompts:?}");
    let got = within("prompts/get", c.get_prompt("greet", json!({"name": "Ann"})))
        .await
        .unwrap();
    assert_eq!(got.messages.len(), 1, "{ctx}: {got:?}");
    assert_eq!(got.messages[0].role, "user", "{ctx}");
    assert_eq!(
        got.messages[0].content,
        json!({"type": "text", "text": "Say hello to Ann."}),
        "{ctx}"
    );

    let completion = within(
        "completion/complete",
        c.complete(
            CompletionRef::Prompt("greet".into()),
            "name",
            "An",
            Value::Null,
        ),
    )
    .await
    .unwrap();
    assert_eq!(completion.values, ["Ann", "Anna"], "{ctx}: {completion:?}");

    // Nothing after the first tools/list opened a session or left the era.
    let stats = srv.stats(false).await;
    if modern {
        assert_eq!(stats["rpc"].get("initialize"), None, "{ctx}: {stats}");
        assert_eq!(
            stats["versions"]
                .as_object()
                .unwrap()
                .keys()
                .collect::<Vec<_>>(),
            ["2026-07-28"],
            "{ctx}: {stats}"
        );
    } else {
        assert_eq!(stats["rpc"].get("initialize"), None, "{ctx}: {stats}");
        assert_eq!(stats["versions"].get("2026-07-28"), None, "{ctx}: {stats}");
    }

    // Elicitation (MRTR): answered by the app's handler, once per call, yes then no. Only on
    // the modern era: the SDK serves 2025-era requests statelessly (a fresh server per request
    // that never saw `initialize`), so it refuses to elicit from a legacy client ("Client does
    // not support form elicitation."); legacy server requests are tested against workboard-sim.
    if !modern {
        return;
    }
    for (answer, expected) in [
        (true, "confirmed deploy"),
        (false, "not confirmed (accept)"),
    ] {
        let handler = Arc::new(Confirm {
            answer,
            asked: AtomicUsize::new(0),
        });
        let c = client(srv, era, Some(handler.clone()));
        let r = within(
            "call confirm",
            c.call_tool("confirm", json!({"action": "deploy"})),
        )
        .await
        .unwrap_or_else(|e| panic!("{ctx}: confirm: {e}"));
        assert_eq!(r.text(), expected, "{ctx}");
        assert_eq!(handler.asked.load(Ordering::SeqCst), 1, "{ctx}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn modern_only_server_every_flow_over_2026_07_28_without_initialize() {
    let srv = Server2::start("modern", Some(TOKEN));
    flows(&srv, EraPolicy::Auto, true).await;
    flows(&srv, EraPolicy::Modern, true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dual_era_server_modern_first_and_legacy_when_asked() {
    let srv = Server2::start("dual", Some(TOKEN));
    flows(&srv, EraPolicy::Auto, true).await;
    flows(&srv, EraPolicy::Legacy, false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legacy_only_client_against_modern_only_server_lists_the_versions() {
    let srv = Server2::start("modern", Some(TOKEN));
    let c = client(&srv, EraPolicy::Legacy, None);
    let err = within("tools/list", c.list_tools()).await.unwrap_err();
    let shown = err.to_string();
    assert!(shown.contains("2026-07-28"), "{err:?}: {shown}");
    let stats = srv.stats(false).await;
    assert_eq!(stats["rpc"].get("tools/list"), None, "{stats}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_token_is_unauthorized_not_a_legacy_fallback() {
    let srv = Server2::start("modern", Some(TOKEN));
    let c = Client::builder()
        .server_url(srv.url.clone())
        .credentials(Credentials::personal("not-the-token"))
        .build()
        .unwrap();
    let err = within("tools/list", c.list_tools()).await.unwrap_err();
    assert_eq!(err.code(), "unauthorized", "{err:?}");
    // One request: a 401 is about the credentials, not the era (no `initialize` retry).
    let stats = srv.stats(false).await;
    assert_eq!(stats["unauthorized"], 1, "{err:?}: {stats}");
    assert!(!err.to_string().contains("not-the-token"), "{err}");
}
