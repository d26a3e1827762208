//! The Redis store against a real redis-server (see `support`: never skipped).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use workboard_client::store::{
    check_contract, lead_or_follow, Acquire, SharedStore, StoreErrorKind, Swap, Turn, Version,
    AUTH_LEASE,
};
use workboard_redis::RedisStore;

fn store(url: &str, prefix: &str) -> RedisStore {
    RedisStore::open(url, prefix).unwrap()
}

#[test]
fn passes_the_contract_check_over_two_connections() {
    let r = support::redis();
    let p = support::prefix("contract");
    let (a, b) = (store(&r.url, &p), store(&r.url, &p));
    check_contract(&a, &b, &|ms| std::thread::sleep(Duration::from_millis(ms))).unwrap();
}

/// N threads, each with its own connection, make M compare-and-swap increments of one
/// counter: it ends at N × M.
#[test]
fn concurrent_cas_increments_lose_nothing() {
    const N: u64 = 6;
    const M: u64 = 50;
    let r = support::redis();
    let p = support::prefix("cas");
    let threads: Vec<_> = (0..N)
        .map(|_| {
            let s = store(&r.url, &p);
            std::thread::spawn(move || {
                for _ in 0..M {
                    for attempt in 0.. {
                        assert!(attempt < 10_000, "no progress");
                        let v = s.get("counter").unwrap();
                        let next = v.value.map_or(0, |x| x.parse::<u64>().unwrap()) + 1;
                        if let Swap::Done(_) = s
                            .compare_and_swap("counter", v.version, Some(&next.to_string()), None)
                            .unwrap()
                        {
                            break;
                        }
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let v = store(&r.url, &p).get("counter").unwrap();
    assert_eq!(v.value.as_deref(), Some((N * M).to_string().as_str()));
    assert_eq!(v.version, Version(N * M));
}

/// A clock on this thread: sleeping blocks it (each holder runs on its own thread).
struct ThreadClock;
impl workboard_core::Clock for ThreadClock {
    fn now_ms(&self) -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64
    }
    async fn sleep_ms(&self, ms: u64) {
        std::thread::sleep(Duration::from_millis(ms))
    }
}

/// How the client layer uses the contract: K holders find their credentials expired at
/// once; exactly one refreshes (leads), the others wait and take what it stored.
#[test]
fn k_holders_one_refresh_the_others_use_the_stored_result() {
    const K: usize = 8;
    let r = support::redis();
    let p = support::prefix("fleet");
    let seed = store(&r.url, &p);
    let Swap::Done(seen) = seed
        .compare_and_swap("credentials", Version(0), Some("token-1"), None)
        .unwrap()
    else {
        panic!()
    };
    let refreshes = Arc::new(AtomicU32::new(0));
    let barrier = Arc::new(std::sync::Barrier::new(K));
    let holders: Vec<_> = (0..K)
        .map(|_| {
            let s = store(&r.url, &p);
            let (refreshes, barrier) = (refreshes.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                let turn = futures_executor::block_on(lead_or_follow(
                    &s,
                    &ThreadClock,
                    "credentials",
                    seen,
                    AUTH_LEASE,
                    10_000,
                    30_000,
                ))
                .unwrap();
                match turn {
                    Turn::Lead(lease) => {
                        refreshes.fetch_add(1, Ordering::SeqCst);
                        // The refresh itself (a token request) takes a while.
                        std::thread::sleep(Duration::from_millis(100));
                        let done = s
                            .compare_and_swap("credentials", seen, Some("token-2"), Some(&lease))
                            .unwrap();
                        assert!(matches!(done, Swap::Done(_)), "{done:?}");
                        s.release(&lease).unwrap();
                        "token-2".to_string()
                    }
                    Turn::Stored(v) => v.value.unwrap(),
                }
            })
        })
        .collect();
    for h in holders {
        assert_eq!(h.join().unwrap(), "token-2");
    }
    assert_eq!(refreshes.load(Ordering::SeqCst), 1);
}

/// A holder that dies without releasing (its connection closed): the lease stays held
/// until its TTL ends on the Redis server's clock, then the next caller gets a larger
/// generation and the dead one's fenced write is refused.
#[test]
fn a_dead_holder_frees_the_lease_when_its_ttl_ends() {
    let r = support::redis();
    let p = support::prefix("dead");
    let dead = {
        let s = store(&r.url, &p);
        let Acquire::Granted(l) = s.try_acquire(AUTH_LEASE, 300).unwrap() else {
            panic!()
        };
        l
    };
    let s = store(&r.url, &p);
    let Acquire::Held { remaining_ms } = s.try_acquire(AUTH_LEASE, 300).unwrap() else {
        panic!("held until the TTL ends")
    };
    assert!(remaining_ms <= 300);
    let mut granted = None;
    for _ in 0..500 {
        std::thread::sleep(Duration::from_millis(10));
        if let Acquire::Granted(l) = s.try_acquire(AUTH_LEASE, 10_000).unwrap() {
            granted = Some(l);
            break;
        }
    }
    let next = granted.expect("granted after the TTL");
    assert_eq!(next.generation, dead.generation + 1);
    assert_eq!(
        s.compare_and_swap("credentials", Version(0), Some("x"), Some(&dead))
            .unwrap(),
        Swap::Fenced
    );
    s.release(&next).unwrap();
}

/// Prefixes isolate credentials, and every key the store writes carries its prefix as a
/// Redis Cluster hash tag.
#[test]
fn prefixes_isolate_and_tag_every_key() {
    let r = support::redis();
    let (p1, p2) = (support::prefix("iso1"), support::prefix("iso2"));
    let (a, b) = (store(&r.url, &p1), store(&r.url, &p2));
    a.compare_and_swap("credentials", Version(0), Some("A"), None)
        .unwrap();
    let Acquire::Granted(l) = a.try_acquire(AUTH_LEASE, 10_000).unwrap() else {
        panic!()
    };
    assert_eq!(b.get("credentials").unwrap().value, None);
    assert!(matches!(
        b.try_acquire(AUTH_LEASE, 10_000).unwrap(),
        Acquire::Granted(_)
    ));
    let mut raw = redis::Client::open(r.url.as_str())
        .unwrap()
        .get_connection()
        .unwrap();
    let mut keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("wb:{{{p1}}}:*"))
        .query(&mut raw)
        .unwrap();
    keys.sort();
    assert_eq!(
        keys,
        [
            format!("wb:{{{p1}}}:gen:auth"),
            format!("wb:{{{p1}}}:lease:auth"),
            format!("wb:{{{p1}}}:val:credentials"),
        ]
    );
    // The lease's TTL is the server's: PTTL is set.
    let pttl: i64 = redis::cmd("PTTL")
        .arg(format!("wb:{{{p1}}}:lease:auth"))
        .query(&mut raw)
        .unwrap();
    assert!(pttl > 0 && pttl <= 10_000, "{pttl}");
    a.release(&l).unwrap();
}

/// An unreachable server is a typed, transient error naming host:port, never the URL's
/// password; bad prefixes and a TLS URL without the `tls` feature are invalid input.
#[test]
fn unreachable_and_invalid_configurations_are_typed_errors() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port(); // closed again: nothing listens there
    let s = RedisStore::open(&format!("redis://:hunter2@127.0.0.1:{port}"), "p")
        .unwrap()
        .with_timeout(Duration::from_millis(500));
    let e = s.get("credentials").unwrap_err();
    assert_eq!(e.kind(), StoreErrorKind::Unreachable, "{e}");
    assert!(e.is_transient());
    assert!(e.message().contains(&format!("127.0.0.1:{port}")), "{e}");
    assert!(!e.message().contains("hunter2"));
    let e = s.try_acquire(AUTH_LEASE, 1_000).unwrap_err();
    assert_eq!(e.kind(), StoreErrorKind::Unreachable);
    for bad in ["", "a{b}", &"p".repeat(65)] {
        assert_eq!(
            RedisStore::open("redis://127.0.0.1:1", bad)
                .unwrap_err()
                .kind(),
            StoreErrorKind::InvalidInput
        );
    }
    assert_eq!(
        RedisStore::open("not a url", "p").unwrap_err().kind(),
        StoreErrorKind::InvalidInput
    );
    #[cfg(not(feature = "tls"))]
    assert_eq!(
        RedisStore::open("rediss://127.0.0.1:1", "p")
            .unwrap_err()
            .kind(),
        StoreErrorKind::InvalidInput
    );
}

/// A server that goes away and comes back: calls fail as unreachable meanwhile, and the
/// same store object works again once it is back (a new connection). Needs a server this
/// test controls, so it always starts its own (still never skipped: without redis-server
/// on PATH it fails).
#[test]
fn the_store_reconnects_after_the_server_restarts() {
    let r = support::redis_own();
    let p = support::prefix("restart");
    let s = store(&r.url, &p).with_timeout(Duration::from_millis(500));
    s.compare_and_swap("credentials", Version(0), Some("A"), None)
        .unwrap();
    let r = r.restart_after(|| {
        let e = s.get("credentials").unwrap_err();
        assert_eq!(e.kind(), StoreErrorKind::Unreachable);
    });
    // A fresh server (no persistence): empty, but the store talks to it again.
    assert_eq!(s.get("credentials").unwrap().value, None);
    drop(r);
}
