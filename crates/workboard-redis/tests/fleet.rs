//! The fleet in the test command: K processes, each a native `Client` on one shared store,
//! call a tool while the simulator expires every access token again and again; refresh
//! tokens rotate and a reused one revokes the grant. Through the store's lease: 0 failed
//! calls, exactly one refresh per expiry (not K per expiry), no reuse, and the rotated
//! refresh token is never lost (the stored credentials still refresh afterwards). Then the
//! lease holder is killed mid-refresh and the others recover once its lease ends.
//! Figures with and without coordination: examples/fleet_bench.rs (scripts/bench-fleet.sh).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use support::fleet::{run_fleet, seed, simulator, Worker, WorkerOptions};
use workboard_client::store::SharedStore;
use workboard_core::Environment;
use workboard_native::{Client, FileStore};
use workboard_redis::RedisStore;
use workboard_sim::SimHandle;

const EXPIRIES: u64 = 4;

/// Makes this test binary a fleet worker when started as one (see support/fleet.rs).
#[test]
fn fleet_worker_entry() {
    support::fleet::worker_main();
}

fn options() -> WorkerOptions {
    WorkerOptions {
        args: [
            "--exact",
            "fleet_worker_entry",
            "--nocapture",
            "--test-threads=1",
        ]
        .map(String::from)
        .to_vec(),
        ..WorkerOptions::default()
    }
}

/// After the fleet: every access token expires once more, and a new client on the store
/// refreshes with the stored refresh token, which must be the live one (a lost rotation
/// would be a reuse: invalid_grant, the grant revoked).
fn stored_credentials_still_refresh(sim: &SimHandle, store: Arc<dyn SharedStore + Send + Sync>) {
    sim.faults().expire_tokens();
    let before = sim.counters().get("token:refresh_token");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let result = rt.block_on(async {
        let client = Client::builder()
            .environment(Environment::parse(sim.base_url()).unwrap())
            .shared_store(store)
            .build()
            .unwrap();
        client
            .call_tool("get_current_user", serde_json::json!({}))
            .await
    });
    let result = result.unwrap();
    assert!(!result.is_error, "{}", result.text());
    assert_eq!(sim.counters().get("token:refresh_token") - before, 1);
    assert_eq!(sim.counters().get("token:refresh_reuse"), 0);
}

fn fleet(spec: &str, store: Arc<dyn SharedStore + Send + Sync>, k: usize) {
    let (rt, sim) = simulator();
    let report = run_fleet(
        &sim,
        spec,
        &*store,
        k,
        EXPIRIES,
        Duration::from_millis(700),
        &options(),
    );
    println!("{spec}: {report:?}");
    assert_eq!(
        report.failed, 0,
        "{spec}: calls failed ({})",
        report.last_error
    );
    assert!(report.ok >= k as u64);
    assert_eq!(report.reuses, 0, "{spec}: a refresh token was used twice");
    assert_eq!(
        report.refreshes, EXPIRIES,
        "{spec}: {k} holders refreshed {} times for {EXPIRIES} expiries",
        report.refreshes
    );
    stored_credentials_still_refresh(&sim, store);
    rt.block_on(sim.shutdown());
}

#[test]
fn four_processes_on_one_file_store_refresh_once_per_expiry() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("credentials.json");
    fleet(
        &format!("file:{}", path.display()),
        Arc::new(FileStore::new(&path)),
        4,
    );
}

#[test]
fn eight_processes_on_one_redis_refresh_once_per_expiry() {
    let redis = support::redis();
    let prefix = support::prefix("fleet");
    let store = RedisStore::open(&redis.url, &prefix).unwrap();
    fleet(&format!("redis:{prefix}|{}", redis.url), Arc::new(store), 8);
}

/// The holder of the lease is killed while its token request is in flight (the simulator
/// holds that request, then drops it unprocessed: its refresh token is not rotated). The
/// others wait for the stored result, take the lease when the dead holder's lease ends (its
/// TTL; on a file store at once: the OS frees a dead process's lock), refresh once and go
/// on: no call fails.
fn killed_holder(spec: &str, store: &dyn SharedStore, ttl: Duration, at_once: bool) {
    let (rt, sim) = simulator();
    seed(&sim, store);
    let opts = WorkerOptions {
        lease_ttl: Some(ttl),
        wait_for_go: true,
        ..options()
    };
    let mut holder = Worker::start(spec, sim.base_url(), &opts);
    let mut others: Vec<Worker> = (0..3)
        .map(|_| Worker::start(spec, sim.base_url(), &opts))
        .collect();
    for w in others.iter_mut().chain(std::iter::once(&mut holder)) {
        w.line_with("READY");
    }
    // Only the holder calls: it meets the expiry first and takes the lease.
    holder.send("go");
    holder.line_with("CALLED");
    sim.faults()
        .stall_next(Some("token"), 1, Duration::from_secs(30));
    let tokens_before = sim.counters().get("token");
    let refreshes_before = sim.counters().get("token:refresh_token");
    sim.faults().expire_tokens();
    let deadline = Instant::now() + Duration::from_secs(20);
    while sim.counters().get("token") == tokens_before {
        assert!(
            Instant::now() < deadline,
            "the holder never asked for a token"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    holder.child.kill().unwrap();
    holder.child.wait().unwrap();
    let killed = Instant::now();
    for w in &mut others {
        w.send("go");
    }
    for w in &mut others {
        w.line_with("CALLED");
    }
    let recovered = killed.elapsed();
    let mut ok = 0;
    for w in others {
        let r = w.finish();
        assert_eq!(r.failed, 0, "{spec}: {}", r.last_error);
        ok += r.ok;
    }
    assert!(ok >= 3);
    let counters = sim.counters();
    assert_eq!(
        counters.get("token:refresh_token") - refreshes_before,
        1,
        "{spec}: one refresh after the holder died"
    );
    assert_eq!(counters.get("token:refresh_reuse"), 0);
    // Within the dead holder's lease TTL (from its refresh, so less from the kill) plus
    // the waiters' polling and one refresh; far below their give-up (TTL + 30 s). A file
    // store's dead holder is seen at once: well before its TTL.
    let bound = if at_once {
        ttl
    } else {
        ttl + Duration::from_secs(10)
    };
    assert!(recovered < bound, "{spec}: recovered after {recovered:?}");
    println!("{spec}: holder killed mid-refresh; the others recovered {recovered:?} after (lease TTL {ttl:?})");
    rt.block_on(sim.shutdown());
}

#[test]
fn a_holder_killed_mid_refresh_on_a_file_store_is_replaced_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("credentials.json");
    let spec = format!("file:{}", path.display());
    killed_holder(&spec, &FileStore::new(&path), Duration::from_secs(20), true);
}

#[test]
fn a_holder_killed_mid_refresh_on_redis_is_replaced_when_its_lease_ends() {
    let redis = support::redis();
    let prefix = support::prefix("fleet-kill");
    let store = RedisStore::open(&redis.url, &prefix).unwrap();
    let spec = format!("redis:{prefix}|{}", redis.url);
    killed_holder(&spec, &store, Duration::from_secs(2), false);
}
