//! Figures for the shared stores (printed, not asserted): compare-and-swap operations per
//! second (one holder, then 4 holders on one key) and lease acquire + release latency, for
//! the file store (a temporary directory) and the Redis store (`WORKBOARD_TEST_REDIS_URL`;
//! scripts/bench-stores.sh starts a redis-server and sets it).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use workboard_client::store::{Acquire, SharedStore, Swap};

const CAS_OPS: u32 = 2_000;
const LEASES: u32 = 500;

/// One increment by compare-and-swap; returns the conflicts met.
fn increment(s: &dyn SharedStore) -> u32 {
    let mut conflicts = 0;
    loop {
        let v = s.get("counter").unwrap();
        let next = v.value.map_or(0, |x| x.parse::<u64>().unwrap()) + 1;
        match s
            .compare_and_swap("counter", v.version, Some(&next.to_string()), None)
            .unwrap()
        {
            Swap::Done(_) => return conflicts,
            _ => conflicts += 1,
        }
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn bench(name: &str, make: &(dyn Fn() -> Box<dyn SharedStore + Send> + Sync), ops: u32) {
    // One holder: read + compare-and-swap, sequentially.
    let s = make();
    let start = Instant::now();
    for _ in 0..ops {
        increment(&*s);
    }
    let one = f64::from(ops) / start.elapsed().as_secs_f64();

    // Four holders (threads, each its own store object) on the same key.
    let start = Instant::now();
    let conflicts: u32 = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let s = make();
                scope.spawn(move || (0..ops / 4).map(|_| increment(&*s)).sum::<u32>())
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    });
    let four = f64::from(ops) / start.elapsed().as_secs_f64();

    // Lease: acquire then release, sequentially.
    let mut times = Vec::with_capacity(LEASES as usize);
    for _ in 0..LEASES {
        let t = Instant::now();
        let Acquire::Granted(l) = s.try_acquire("bench", 10_000).unwrap() else {
            panic!("the bench lease is free")
        };
        s.release(&l).unwrap();
        times.push(t.elapsed());
    }
    times.sort();
    println!(
        "{name:<6} CAS: {one:>8.0} ops/s (1 holder), {four:>8.0} ops/s (4 holders, one key; {conflicts} conflicts retried) | lease acquire+release: p50 {:>7.3} ms, p99 {:>7.3} ms",
        percentile(&times, 0.5).as_secs_f64() * 1e3,
        percentile(&times, 0.99).as_secs_f64() * 1e3,
    );
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bench.json");
    bench(
        "file",
        &|| Box::new(workboard_native::FileStore::new(&path)),
        CAS_OPS / 4,
    );
    let url = std::env::var("WORKBOARD_TEST_REDIS_URL")
        .expect("WORKBOARD_TEST_REDIS_URL (scripts/bench-stores.sh starts a redis-server)");
    let prefix = format!("bench-{}", std::process::id());
    bench(
        "redis",
        &|| Box::new(workboard_redis::RedisStore::open(&url, &prefix).unwrap()),
        CAS_OPS,
    );
}
