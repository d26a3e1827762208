//! Two instances of the service on one Redis (a real redis-server: `workboard_redis::testing`)
//! sharing one sign-in: `sign_in` stores the credentials once; both instances answer
//! `GET /api/workboard/me`; when every access token expires, the two refresh once between
//! them (the simulator rotates refresh tokens and revokes the grant on reuse).
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use axum::Router;
use reqwest::StatusCode;
use serde_json::Value;
use workboard_core::Environment;
use workboard_sim::{SimConfig, SimHandle, Simulator};

use example_rust_service::shared::{self, ME_PATH};

async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}{ME_PATH}")
}

/// One instance: its own Redis connection and client, as a separate process would have.
async fn instance(sim: &SimHandle, redis_url: &str, prefix: &str) -> String {
    let env = Environment::parse(sim.base_url()).unwrap();
    let store = shared::open_store(redis_url, prefix).unwrap();
    let client = shared::client(env, store).unwrap();
    serve(shared::routes(Arc::new(client))).await
}

async fn me(url: &str) -> (StatusCode, Value) {
    let r = reqwest::get(url).await.unwrap();
    let status = r.status();
    assert_eq!(r.headers()["cache-control"], "no-store");
    (status, r.json().await.unwrap())
}

fn prefix(name: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("svc-{name}-{}-{nanos}", std::process::id())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_share_one_sign_in_and_refresh_once_per_expiry() {
    let redis = workboard_redis::testing::redis();
    let sim = Simulator::start(SimConfig {
        dcr: true,
        auto_approve: true,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let prefix = prefix("two");
    let env = Environment::parse(sim.base_url()).unwrap();
    let store = shared::open_store(&redis.url, &prefix).unwrap();
    shared::sign_in(&env, &store, true).await.unwrap();
    assert_eq!(sim.counters().get("token:authorization_code"), 1);

    let a = instance(&sim, &redis.url, &prefix).await;
    let b = instance(&sim, &redis.url, &prefix).await;
    for url in [&a, &b] {
        let (status, body) = me(url).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(body["user"].to_string().contains('@'), "{body}");
    }

    for expiry in 1..=3 {
        sim.faults().expire_tokens();
        // Both instances, several requests each, at once.
        let calls = (0..4).flat_map(|_| [me(&a), me(&b)]);
        for (status, body) in futures_util::future::join_all(calls).await {
            assert_eq!(status, StatusCode::OK, "{body}");
        }
        let c = sim.counters();
        assert_eq!(
            c.get("token:refresh_token"),
            expiry,
            "one refresh per expiry"
        );
        assert_eq!(c.get("token:refresh_reuse"), 0);
    }
    // Still one sign-in for both.
    assert_eq!(sim.counters().get("token:authorization_code"), 1);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_without_a_stored_sign_in_answers_503_with_a_hint() {
    let redis = workboard_redis::testing::redis();
    let sim = Simulator::start(SimConfig::default()).await.unwrap();
    let url = instance(&sim, &redis.url, &prefix("none")).await;
    let (status, body) = me(&url).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert!(body["error"]["code"].is_string(), "{body}");
    assert!(body["error"]["hint"].is_string(), "{body}");
    sim.shutdown().await;
}

#[test]
fn a_bad_redis_url_is_a_typed_error_naming_the_setting() {
    let e = shared::open_store("http://127.0.0.1:1", "p").unwrap_err();
    assert_eq!(e.code(), "invalid_input");
    assert!(e.to_string().contains("WORKBOARD_REDIS_URL"), "{e}");
}
