//! Figures for a fleet sharing one sign-in (printed, not asserted): K processes, each a
//! native `Client`, call a tool every 15 ms while the simulator expires every access token
//! once a second; refresh tokens rotate and a reused one revokes the grant. With
//! coordination (the shared store's lease) and without it (each process refreshes on its
//! own from the same store), on a file store (4 processes) and on Redis (8 processes,
//! `WORKBOARD_TEST_REDIS_URL`; scripts/bench-fleet.sh starts a redis-server and sets it).
//! Prints refreshes, refresh-token reuses, failed calls and call latency (p99 and max of
//! the worst process) across the refreshes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../tests/support/fleet.rs"]
mod fleet;

use std::sync::Arc;
use std::time::Duration;

use fleet::{run_fleet, simulator, FleetReport, WorkerOptions};
use workboard_client::store::SharedStore;
use workboard_native::FileStore;
use workboard_redis::RedisStore;

const EXPIRIES: u64 = 5;
const EVERY: Duration = Duration::from_secs(1);

fn row(store: &str, coordinated: bool, r: &FleetReport) {
    #[allow(clippy::cast_precision_loss)]
    let ms = |us: u64| us as f64 / 1000.0;
    println!(
        "{store:<6} {:>2} {:<14} {:>8} {:>9} {:>6} {:>7} {:>7} {:>9.1} {:>9.1}",
        r.processes,
        if coordinated { "lease" } else { "none" },
        r.expiries,
        r.refreshes,
        r.reuses,
        r.ok,
        r.failed,
        ms(r.p99_us),
        ms(r.max_us),
    );
}

fn bench(store: &str, spec: &str, make: &dyn Fn() -> Arc<dyn SharedStore + Send + Sync>, k: usize) {
    for coordinated in [true, false] {
        let (rt, sim) = simulator();
        let options = WorkerOptions {
            uncoordinated: !coordinated,
            ..WorkerOptions::default()
        };
        let report = run_fleet(&sim, spec, &*make(), k, EXPIRIES, EVERY, &options);
        row(store, coordinated, &report);
        rt.block_on(sim.shutdown());
    }
}

fn main() {
    if fleet::worker_main() {
        return;
    }
    println!(
        "{EXPIRIES} expiries, {} s apart; each process calls a tool every 15 ms",
        EVERY.as_secs()
    );
    println!(
        "{:<6} {:>2} {:<14} {:>8} {:>9} {:>6} {:>7} {:>7} {:>9} {:>9}",
        "store",
        "K",
        "coordination",
        "expiries",
        "refreshes",
        "reuses",
        "calls",
        "failed",
        "p99 ms",
        "max ms"
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("credentials.json");
    let file_spec = format!("file:{}", path.display());
    bench("file", &file_spec, &|| Arc::new(FileStore::new(&path)), 4);
    match std::env::var("WORKBOARD_TEST_REDIS_URL") {
        Ok(url) => {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos();
            let prefix = format!("bench-fleet-{nanos}");
            let spec = format!("redis:{prefix}|{url}");
            bench(
                "redis",
                &spec,
                &|| Arc::new(RedisStore::open(&url, &prefix).unwrap()),
                8,
            );
        }
        Err(_) => {
            println!("redis: WORKBOARD_TEST_REDIS_URL is not set (scripts/bench-fleet.sh sets it)")
        }
    }
}
