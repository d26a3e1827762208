//! Change notifications: `subscriptions/listen` (modern) and resources/subscribe + the GET
//! stream (legacy).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::*;
use reqwest::StatusCode;
use serde_json::{json, Value};
use workboard_sim::{ResponseMode, SimConfig, SimHandle, DEMO_PERSONAL_TOKEN, MAX_LISTENERS};

const T: &str = DEMO_PERSONAL_TOKEN;

async fn open_listen(sim: &SimHandle, id: u64, filter: Value) -> reqwest::Response {
    let body = modern_body(id, "subscriptions/listen", json!({"notifications": filter}));
    post_with(sim, T, &body, &modern_headers(&body)).await
}

/// Waits (bounded) until the simulator reports `n` open listen streams.
async fn wait_listeners(sim: &SimHandle, n: usize) {
    for _ in 0..500 {
        if sim.listener_count() == n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!(
        "listener count stayed {} (wanted {n})",
        sim.listener_count()
    );
}

#[tokio::test]
async fn listen_acknowledges_then_delivers_only_opted_in_notifications() {
    let sim = start(SimConfig::default()).await; // JSON mode: listen streams anyway
    let resp = open_listen(
        &sim,
        42,
        json!({"toolsListChanged": true, "resourceSubscriptions": ["workboard://goal/301"]}),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(header(resp.headers(), "content-type"), "text/event-stream");
    let mut sse = SseReader::new(resp);
    let ack = sse.next_message().await.unwrap();
    assert_eq!(ack["method"], "notifications/subscriptions/acknowledged");
    assert_eq!(
        ack["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"],
        42
    );
    assert_eq!(
        ack["params"]["notifications"],
        json!({"toolsListChanged": true, "resourceSubscriptions": ["workboard://goal/301"]})
    );
    assert_eq!(sim.listener_count(), 1);

    // Not opted in: prompts, other resources. Opted in: tools, goal 301.
    sim.notify_prompts_list_changed();
    sim.notify_resource_updated("workboard://goal/302");
    sim.notify_tools_list_changed();
    let n = sse.next_message().await.unwrap();
    assert_eq!(n["method"], "notifications/tools/list_changed");
    assert_eq!(
        n["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"],
        42
    );
    // A write through a tool announces the goal it changed.
    let (s, m) = modern(
        &sim,
        T,
        2,
        "tools/call",
        json!({"name": "update_key_result", "arguments": {"key_result_id": 402, "value": 250}}),
    )
    .await;
    assert_eq!(
        (s, m["result"]["isError"].clone()),
        (StatusCode::OK, json!(false))
    );
    let n = sse.next_message().await.unwrap();
    assert_eq!(n["method"], "notifications/resources/updated");
    assert_eq!(n["params"]["uri"], "workboard://goal/301");
    assert_eq!(
        n["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"],
        42
    );
    // The control endpoint triggers the same.
    let r = http()
        .post(format!("{}/__sim/notify", sim.base_url()))
        .body(
            json!({"resource_updated": "workboard://goal/301", "tools_list_changed": true})
                .to_string(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let a = sse.next_message().await.unwrap();
    let b = sse.next_message().await.unwrap();
    let mut methods = vec![
        a["method"].as_str().unwrap().to_string(),
        b["method"].as_str().unwrap().to_string(),
    ];
    methods.sort();
    assert_eq!(
        methods,
        [
            "notifications/resources/updated",
            "notifications/tools/list_changed"
        ]
    );
    let bad = http()
        .post(format!("{}/__sim/notify", sim.base_url()))
        .body(json!({"bogus": true}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);

    // Closing the stream ends the subscription.
    drop(sse);
    wait_listeners(&sim, 0).await;
    let c = sim.counters();
    assert_eq!(c.get("mcp:listen:open"), 1);
    assert_eq!(c.get("mcp:listen:closed"), 1);
    assert_eq!(c.get("mcp:modern:subscriptions/listen"), 1);
}

#[tokio::test]
async fn listen_streams_keep_alive_end_gracefully_and_are_bounded() {
    let sim = start(SimConfig {
        keepalive: Duration::from_millis(20),
        listen_max: Duration::from_millis(300),
        ..SimConfig::default()
    })
    .await;
    let mut sse = SseReader::new(open_listen(&sim, 7, json!({"promptsListChanged": true})).await);
    let ack = sse.next_message().await.unwrap();
    assert_eq!(
        ack["params"]["notifications"],
        json!({"promptsListChanged": true})
    );
    // Keep-alive comments, then (at listen_max) the response to the listen request.
    let mut comments = 0;
    let mut closing = None;
    for _ in 0..1000 {
        let Some(block) = sse.next_block().await else {
            break;
        };
        if block.starts_with(':') {
            comments += 1;
        } else if block.contains("data:") {
            let data = block
                .lines()
                .find_map(|l| l.strip_prefix("data: "))
                .unwrap();
            closing = Some(serde_json::from_str::<Value>(data).unwrap());
        }
    }
    assert!(comments >= 1, "keep-alive comments");
    let closing = closing.expect("graceful closure");
    assert_eq!(closing["id"], 7);
    assert_eq!(closing["result"]["resultType"], "complete");
    assert_eq!(
        closing["result"]["_meta"]["io.modelcontextprotocol/subscriptionId"],
        7
    );
    wait_listeners(&sim, 0).await;

    // At most MAX_LISTENERS at once; the next one gets an in-band error.
    let mut open = Vec::new();
    for i in 0..MAX_LISTENERS {
        let mut s = SseReader::new(open_listen(&sim, 100 + i as u64, json!({})).await);
        s.next_message().await.unwrap();
        open.push(s);
    }
    let extra = open_listen(&sim, 999, json!({})).await;
    assert_eq!(extra.status(), StatusCode::OK);
    let m = rpc_message(extra).await;
    assert_eq!(m["error"]["code"], -32603);
    assert!(m["error"]["message"].as_str().unwrap().contains("Too many"));
    assert_eq!(sim.counters().get("mcp:listen:refused"), 1);
    // A malformed filter is an in-band -32602.
    let m = rpc_message(open_listen(&sim, 1000, json!({"resourceSubscriptions": "x"})).await).await;
    assert_eq!(m["error"]["code"], -32602);
    drop(open);
}

#[tokio::test]
async fn legacy_sessions_subscribe_and_hear_changes_on_the_get_stream() {
    let sim = start(SimConfig {
        response_mode: ResponseMode::Sse,
        ..SimConfig::default()
    })
    .await;
    let sid = mcp_session(&sim, T).await;
    let init_caps = sim.counters().get("mcp:initialize");
    assert_eq!(init_caps, 1);
    let sub = call(
        &sim,
        T,
        &sid,
        2,
        "resources/subscribe",
        json!({"uri": "workboard://goal/302"}),
    )
    .await;
    assert_eq!(sub["result"], json!({}));
    let bad = call(&sim, T, &sid, 3, "resources/subscribe", json!({})).await;
    assert_eq!(bad["error"]["code"], -32602);
    let get = get_stream(&sim, T, &sid).await;
    assert_eq!(get.status(), StatusCode::OK);
    let mut sse = SseReader::new(get);
    let prime = sse.next_block().await.unwrap();
    assert!(prime.contains("retry: 1000"));
    sim.notify_resource_updated("workboard://goal/303"); // not subscribed
    sim.notify_resource_updated("workboard://goal/302");
    sim.notify_tools_list_changed();
    let a = sse.next_message().await.unwrap();
    assert_eq!(a["method"], "notifications/resources/updated");
    assert_eq!(a["params"]["uri"], "workboard://goal/302");
    assert!(a["params"].get("_meta").is_none());
    let b = sse.next_message().await.unwrap();
    assert_eq!(b["method"], "notifications/tools/list_changed");
    let un = call(
        &sim,
        T,
        &sid,
        4,
        "resources/unsubscribe",
        json!({"uri": "workboard://goal/302"}),
    )
    .await;
    assert_eq!(un["result"], json!({}));
    sim.notify_resource_updated("workboard://goal/302");
    sim.notify_prompts_list_changed();
    let c = sse.next_message().await.unwrap();
    assert_eq!(c["method"], "notifications/prompts/list_changed");
    // Legacy initialize advertises what the GET stream delivers.
    let r = mcp_raw(&sim, T, None, &json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}}})).await;
    let m = rpc_message(r).await;
    assert_eq!(m["result"]["capabilities"]["resources"]["subscribe"], true);
    assert_eq!(m["result"]["capabilities"]["tools"]["listChanged"], true);
}
