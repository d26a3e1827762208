//! A real `redis-server` for tests (feature `testing`): `WORKBOARD_TEST_REDIS_URL` when set
//! (scripts/test-stores.sh starts one and always sets it), else a `redis-server` from PATH
//! started for the caller on 127.0.0.1 and a free port, in a temporary directory, and stopped
//! when the returned [`Redis`] is dropped. Neither: [`redis`] panics and says how to get one
//! (a test that needs Redis fails rather than skips).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const ENV: &str = "WORKBOARD_TEST_REDIS_URL";

pub struct Redis {
    pub url: String,
    server: Option<(Child, tempfile::TempDir)>,
}

impl Drop for Redis {
    fn drop(&mut self) {
        if let Some((child, _dir)) = &mut self.server {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn on_path(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// A unique key prefix per test (tests share one server when the script started it).
pub fn prefix(test: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("t-{test}-{}-{nanos}", std::process::id())
}

pub fn redis() -> Redis {
    if let Ok(url) = std::env::var(ENV) {
        return Redis { url, server: None };
    }
    redis_own()
}

fn redis_server() -> PathBuf {
    on_path("redis-server").unwrap_or_else(|| {
        panic!(
            "no Redis for the Redis store tests: set {ENV}=redis://127.0.0.1:PORT, or install \
             redis-server (bash scripts/setup-stores.sh; Debian: apt-get install redis-server), \
             or run bash scripts/test-stores.sh, which does both"
        )
    })
}

fn spawn(port: u16, dir: &std::path::Path) -> Child {
    Command::new(redis_server())
        .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
        .args([
            "--save",
            "",
            "--appendonly",
            "no",
            "--protected-mode",
            "yes",
        ])
        .arg("--dir")
        .arg(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

fn wait_ready(url: &str) {
    // Ready when it answers PING: at most 10 s.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let ok = redis::Client::open(url)
            .and_then(|c| c.get_connection_with_timeout(Duration::from_millis(200)))
            .and_then(|mut c| redis::cmd("PING").query::<String>(&mut c))
            .is_ok();
        if ok {
            return;
        }
        assert!(Instant::now() < deadline, "redis-server did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A redis-server of this test's own (from PATH), on 127.0.0.1 and a free port.
pub fn redis_own() -> Redis {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let child = spawn(port, dir.path());
    let redis = Redis {
        url: format!("redis://127.0.0.1:{port}"),
        server: Some((child, dir)),
    };
    wait_ready(&redis.url);
    redis
}

impl Redis {
    /// Stops this test's own server, runs `down` while it is gone, then starts it again
    /// on the same port.
    pub fn restart_after(mut self, down: impl FnOnce()) -> Redis {
        let (mut child, dir) = self.server.take().expect("a server of the test's own");
        child.kill().unwrap();
        child.wait().unwrap();
        down();
        let port: u16 = self.url.rsplit(':').next().unwrap().parse().unwrap();
        let child = spawn(port, dir.path());
        self.server = Some((child, dir));
        wait_ready(&self.url);
        self
    }
}
