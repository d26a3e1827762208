//! The file store's shared-store contract between real processes: this test binary runs
//! itself again as workers (`WB_STORE_WORKER` names the role), so every worker is a separate
//! process with its own open files and locks.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use workboard_client::store::{lead_or_follow, Acquire, SharedStore, Swap, Turn, Version};
use workboard_native::FileStore;

const COUNTER: &str = "counter";

/// Starts this test binary as a worker running `role` on the store at `path`.
fn worker(role: &str, path: &Path, n: u32) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "worker_entry", "--nocapture", "--test-threads=1"])
        .env("WB_STORE_WORKER", role)
        .env("WB_STORE_PATH", path)
        .env("WB_STORE_N", n.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap()
}

/// Compare-and-swap increments of `COUNTER`: read, add one, write at the version read; on a
/// conflict read again. Returns the number of conflicts met.
fn cas_increments(store: &FileStore, n: u32) -> u32 {
    let mut conflicts = 0;
    for _ in 0..n {
        let mut attempts = 0;
        loop {
            attempts += 1;
            assert!(attempts < 10_000, "no progress");
            let v = store.get(COUNTER).unwrap();
            let next = v.value.map_or(0, |s| s.parse::<u64>().unwrap()) + 1;
            match store
                .compare_and_swap(COUNTER, v.version, Some(&next.to_string()), None)
                .unwrap()
            {
                Swap::Done(_) => break,
                Swap::Conflict(_) => conflicts += 1,
                Swap::Fenced => unreachable!("no fence given"),
            }
        }
    }
    conflicts
}

/// Increments under the lease with plain (unconditional) writes: only the lease's mutual
/// exclusion keeps them from losing updates. Waits for the lease by polling, bounded.
fn leased_increments(store: &FileStore, n: u32) {
    let deadline = Instant::now() + Duration::from_secs(60);
    for _ in 0..n {
        let lease = loop {
            match store.try_acquire("auth", 30_000).unwrap() {
                Acquire::Granted(l) => break l,
                Acquire::Held { .. } => {
                    assert!(Instant::now() < deadline, "lease never granted");
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
        };
        let v = store.get(COUNTER).unwrap();
        let next = v.value.map_or(0, |s| s.parse::<u64>().unwrap()) + 1;
        // Last-writer-wins: the version read is ignored on purpose.
        workboard_native::CredentialStore::save(store, COUNTER, &next.to_string()).unwrap();
        store.release(&lease).unwrap();
    }
}

/// A clock whose sleep blocks the worker's thread (each worker is its own process).
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

/// What a holder does when its credentials (version `seen`) expired, as the client layer
/// will: lead the refresh or take the stored result. `hang` leads and then never finishes
/// (to be killed mid-refresh). Returns the credentials it ends with.
fn refresh(store: &FileStore, hang: bool) -> String {
    let seen = Version(1);
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    // A 10-minute TTL: only the OS's release of a dead holder's lock lets the others in
    // within the one-minute bound.
    let turn = rt
        .block_on(lead_or_follow(
            store,
            &ThreadClock,
            "credentials",
            seen,
            "auth",
            600_000,
            60_000,
        ))
        .unwrap();
    match turn {
        Turn::Lead(lease) => {
            println!("LEADING");
            if hang {
                std::thread::sleep(Duration::from_secs(120));
                std::process::exit(3);
            }
            // The token request.
            std::thread::sleep(Duration::from_millis(150));
            workboard_client::store::put(store, "refreshes", Some("one more")).unwrap();
            let done = store
                .compare_and_swap("credentials", seen, Some("token-2"), Some(&lease))
                .unwrap();
            assert!(matches!(done, Swap::Done(_)), "{done:?}");
            store.release(&lease).unwrap();
            "token-2".into()
        }
        Turn::Stored(v) => v.value.unwrap(),
    }
}

/// The worker side when run as a worker; run plainly, the same increments in this process
/// (so this entry is a test of its own too).
#[test]
fn worker_entry() {
    let Ok(role) = std::env::var("WB_STORE_WORKER") else {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::new(dir.path().join("c.json"));
        assert_eq!(cas_increments(&store, 20), 0);
        leased_increments(&store, 5);
        let v = store.get(COUNTER).unwrap();
        assert_eq!(v.value.as_deref(), Some("25"));
        assert_eq!(v.version, Version(25));
        return;
    };
    let store = FileStore::new(std::env::var("WB_STORE_PATH").unwrap());
    let n: u32 = std::env::var("WB_STORE_N").unwrap().parse().unwrap();
    let mut out = std::io::stdout();
    match role.as_str() {
        "hold" => {
            let Acquire::Granted(lease) = store.try_acquire("auth", 600_000).unwrap() else {
                panic!("the lease was free")
            };
            writeln!(out, "HELD {}", lease.generation).unwrap();
            out.flush().unwrap();
            // Keep it until killed, the parent closes stdin, or two minutes have passed.
            std::thread::spawn(|| {
                std::thread::sleep(Duration::from_secs(120));
                std::process::exit(3);
            });
            let mut line = String::new();
            let _ = std::io::stdin().read_line(&mut line);
        }
        "cas" => {
            let conflicts = cas_increments(&store, n);
            writeln!(out, "CONFLICTS {conflicts}").unwrap();
        }
        "leased" => leased_increments(&store, n),
        "refresh" => writeln!(out, "GOT {}", refresh(&store, false)).unwrap(),
        "refresh-hang" => {
            refresh(&store, true);
        }
        other => panic!("unknown role {other}"),
    }
}

/// Reads the worker's stdout until a line starting with `prefix` (bounded by the worker's
/// output: it ends when the worker does).
fn line_with(child: &mut Child, prefix: &str) -> String {
    let out = child.stdout.as_mut().unwrap();
    for line in BufReader::new(out).lines() {
        let line = line.unwrap();
        // The harness may have printed "test worker_entry ... " on the same line.
        if let Some((_, rest)) = line.split_once(prefix) {
            return rest.trim().to_string();
        }
    }
    panic!("the worker ended without printing {prefix}")
}

/// A process killed while holding the lease (SIGKILL: no clean-up of its own) frees it at
/// once: the OS released its file lock, so the next caller is granted the lease without
/// waiting for the 10-minute TTL, with a larger generation, and the dead holder's
/// generation can no longer write.
#[test]
fn a_killed_holder_frees_the_lease_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("creds.json");
    let store = FileStore::new(&path);
    let mut holder = worker("hold", &path, 0);
    let generation: u64 = line_with(&mut holder, "HELD").parse().unwrap();
    match store.try_acquire("auth", 10_000).unwrap() {
        Acquire::Held { remaining_ms } => assert!(remaining_ms > 500_000, "{remaining_ms}"),
        other => panic!("a live holder's lease was granted: {other:?}"),
    }
    holder.kill().unwrap();
    holder.wait().unwrap();
    let Acquire::Granted(lease) = store.try_acquire("auth", 10_000).unwrap() else {
        panic!("the dead holder's lease was not granted at once")
    };
    assert_eq!(lease.generation, generation + 1);
    let dead = workboard_client::store::Lease {
        generation,
        ..lease.clone()
    };
    assert_eq!(
        store
            .compare_and_swap("credentials", Version(0), Some("x"), Some(&dead))
            .unwrap(),
        Swap::Fenced
    );
    store.release(&lease).unwrap();
    // The dead holder's lease file was cleaned up; only the store and its lock remain.
    let mut names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, [".creds.json.lock", "creds.json"]);
}

/// N processes each make M compare-and-swap increments of one counter at the same time:
/// the counter ends at N × M (no update lost) and its version too.
#[test]
fn concurrent_cas_increments_from_processes_lose_nothing() {
    const N: u32 = 4;
    const M: u32 = 40;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("creds.json");
    let mut workers: Vec<_> = (0..N).map(|_| worker("cas", &path, M)).collect();
    let mut conflicts = 0u32;
    for w in &mut workers {
        conflicts += line_with(w, "CONFLICTS").parse::<u32>().unwrap();
        assert!(w.wait().unwrap().success());
    }
    let v = FileStore::new(&path).get(COUNTER).unwrap();
    assert_eq!(v.value.as_deref(), Some((N * M).to_string().as_str()));
    assert_eq!(v.version, Version(u64::from(N * M)));
    eprintln!("{N} processes x {M} CAS increments: {conflicts} conflicts retried");
}

/// N processes increment with plain writes, each under the lease: the lease alone excludes
/// them from each other, so no update is lost.
#[test]
fn the_lease_excludes_other_processes() {
    const N: u32 = 3;
    const M: u32 = 15;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("creds.json");
    let mut workers: Vec<_> = (0..N).map(|_| worker("leased", &path, M)).collect();
    for w in &mut workers {
        assert!(w.wait().unwrap().success());
    }
    let v = FileStore::new(&path).get(COUNTER).unwrap();
    assert_eq!(v.value.as_deref(), Some((N * M).to_string().as_str()));
}

fn seed_credentials(path: &Path) {
    let store = FileStore::new(path);
    assert_eq!(
        store
            .compare_and_swap("credentials", Version(0), Some("token-1"), None)
            .unwrap(),
        Swap::Done(Version(1))
    );
}

/// K processes find their credentials expired at once: one refreshes, the others wait and
/// use what it stored.
#[test]
fn k_processes_one_refresh() {
    const K: u32 = 4;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("creds.json");
    seed_credentials(&path);
    let mut workers: Vec<_> = (0..K).map(|_| worker("refresh", &path, 0)).collect();
    for w in &mut workers {
        assert_eq!(line_with(w, "GOT"), "token-2");
        assert!(w.wait().unwrap().success());
    }
    let refreshes = FileStore::new(&path).get("refreshes").unwrap().version;
    assert_eq!(refreshes, Version(1));
}

/// The leader is killed mid-refresh: the waiting processes are let in as soon as it is
/// dead (not after the 10-minute TTL), one of them refreshes, the others use its result.
#[test]
fn a_leader_killed_mid_refresh_is_replaced_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("creds.json");
    seed_credentials(&path);
    let mut leader = worker("refresh-hang", &path, 0);
    line_with(&mut leader, "LEADING");
    let mut waiting: Vec<_> = (0..3).map(|_| worker("refresh", &path, 0)).collect();
    // They are waiting: the lease is held and nobody stored anything yet.
    let store = FileStore::new(&path);
    assert!(matches!(
        store.try_acquire("auth", 1_000).unwrap(),
        Acquire::Held { .. }
    ));
    leader.kill().unwrap();
    leader.wait().unwrap();
    for w in &mut waiting {
        assert_eq!(line_with(w, "GOT"), "token-2");
        assert!(w.wait().unwrap().success());
    }
    assert_eq!(store.get("refreshes").unwrap().version, Version(1));
}
