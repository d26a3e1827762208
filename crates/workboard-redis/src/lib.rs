//! # workboard-redis
//!
//! A Redis credential store implementing the client layer's shared-store contract
//! ([`workboard_client::store::SharedStore`]) for every process on every machine that reaches
//! one Redis: a Rust service's instances behind a load balancer refresh its credentials once
//! per expiry, and the others use what the refresher stored.
//!
//! - **Values**: one hash per key, `wb:{PREFIX}:val:KEY` with fields `val` and `ver`; reads
//!   are one `HMGET`.
//! - **Compare-and-swap**: one Lua script (atomic in Redis) checks the version, and the
//!   lease's fencing generation when the write names one, then writes and bumps `ver`.
//! - **Lease**: `SET wb:{PREFIX}:lease:NAME GEN:HOLDER NX PX TTL` inside a script that
//!   also records the generation (`wb:{PREFIX}:gen:NAME`, only ever increased). The TTL is
//!   measured by the Redis server's clock, never the holders'. A holder that dies frees the
//!   lease when its TTL ends (Redis cannot see a client's process end). Renew and release
//!   are scripts that act only when the lease still holds the caller's `GEN:HOLDER`.
//! - **Key prefix**: every key carries `{PREFIX}` as a Redis Cluster hash tag, so one
//!   prefix's keys (and each script's keys) share a slot. One prefix per set of
//!   credentials (an account, a tenant).
//! - **TLS**: `rediss://` URLs with the `tls` feature (rustls, webpki roots).
//! - **Failures**: a connection refused, dropped or timed out is
//!   [`StoreErrorKind::Unreachable`] (the connection is opened again on the next call);
//!   messages name the server's `host:port`, never the URL (it may hold a password) or a
//!   value.
//!
//! ```no_run
//! use workboard_client::store::SharedStore;
//! let store = workboard_redis::RedisStore::open("redis://127.0.0.1:6379", "acme")?;
//! let creds = store.get("credentials")?;
//! # Ok::<(), workboard_client::store::StoreError>(())
//! ```

#[cfg(feature = "testing")]
pub mod testing;

use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use redis::{Connection, RedisError, Script, Value};
use workboard_client::store::{
    check_name, check_ttl, Acquire, Coordination, Lease, SharedStore, StoreError, StoreErrorKind,
    Swap, Version, Versioned,
};

/// Longest prefix accepted (bytes).
pub const MAX_PREFIX: usize = 64;

const CAS: &str = r"
local cur = redis.call('HMGET', KEYS[1], 'val', 'ver')
local ver = tonumber(cur[2]) or 0
if ARGV[4] ~= '' then
  if redis.call('GET', KEYS[2]) ~= ARGV[4] then return {'fenced'} end
end
if ver ~= tonumber(ARGV[1]) then return {'conflict', tostring(ver), cur[1]} end
ver = ver + 1
if ARGV[2] == '1' then
  redis.call('HSET', KEYS[1], 'val', ARGV[3], 'ver', ver)
else
  redis.call('HDEL', KEYS[1], 'val')
  redis.call('HSET', KEYS[1], 'ver', ver)
end
return {'done', tostring(ver)}
";

const ACQUIRE: &str = r"
local gen = (tonumber(redis.call('GET', KEYS[2])) or 0) + 1
if redis.call('SET', KEYS[1], gen .. ':' .. ARGV[2], 'NX', 'PX', ARGV[1]) then
  redis.call('SET', KEYS[2], gen)
  return {'granted', tostring(gen)}
end
return {'held', tostring(redis.call('PTTL', KEYS[1]))}
";

const RENEW: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
";

const RELEASE: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
";

/// A Redis-backed [`SharedStore`] ([`Coordination::Distributed`]).
pub struct RedisStore {
    client: redis::Client,
    conn: Mutex<Option<Connection>>,
    prefix: String,
    timeout: Duration,
    server: String,
    cas: Script,
    acquire: Script,
    renew: Script,
    release: Script,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("server", &self.server)
            .field("prefix", &self.prefix)
            .finish()
    }
}

impl RedisStore {
    /// Connect and I/O timeout by default.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(2);

    /// A store on the Redis at `url` (`redis://[user:password@]host:port[/db]`, or
    /// `rediss://` with the `tls` feature) for the credentials named `prefix` (1 to 64 ASCII
    /// letters, digits, `_`, `-`, `.`, `:`). Connects on first use.
    pub fn open(url: &str, prefix: &str) -> Result<RedisStore, StoreError> {
        check_name("key prefix", prefix)?;
        if prefix.len() > MAX_PREFIX {
            return Err(StoreError::new(
                StoreErrorKind::InvalidInput,
                format!(
                    "the key prefix is {} bytes; at most {MAX_PREFIX}",
                    prefix.len()
                ),
            ));
        }
        let scheme = url.split("://").next().unwrap_or_default();
        if scheme.eq_ignore_ascii_case("rediss") && !cfg!(feature = "tls") {
            return Err(StoreError::new(
                StoreErrorKind::InvalidInput,
                "a rediss:// (TLS) URL needs workboard-redis built with the `tls` feature",
            ));
        }
        // The URL may hold a password: never quoted.
        let client = redis::Client::open(url).map_err(|e| {
            StoreError::new(
                StoreErrorKind::InvalidInput,
                format!(
                    "not a Redis URL ({:?}); use redis://host:port or rediss://host:port",
                    e.kind()
                ),
            )
        })?;
        let server = client.get_connection_info().addr().to_string();
        Ok(RedisStore {
            client,
            conn: Mutex::new(None),
            prefix: prefix.to_string(),
            timeout: Self::DEFAULT_TIMEOUT,
            server,
            cas: Script::new(CAS),
            acquire: Script::new(ACQUIRE),
            renew: Script::new(RENEW),
            release: Script::new(RELEASE),
        })
    }

    /// Sets the connect, read and write timeout (default 2 s).
    pub fn with_timeout(mut self, timeout: Duration) -> RedisStore {
        self.timeout = timeout.max(Duration::from_millis(1));
        self
    }

    /// The server's `host:port` (never the URL's password).
    pub fn server(&self) -> &str {
        &self.server
    }

    /// The key prefix.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Connects now (and checks the server answers `PING`).
    pub fn connect(&self) -> Result<(), StoreError> {
        self.with_conn(|c| redis::cmd("PING").query::<String>(c).map(|_| ()))
    }

    fn key(&self, kind: &str, name: &str) -> String {
        format!("wb:{{{}}}:{kind}:{name}", self.prefix)
    }

    fn error(&self, e: &RedisError) -> StoreError {
        let unreachable = e.is_io_error()
            || e.is_connection_refusal()
            || e.is_timeout()
            || e.is_connection_dropped();
        let kind = if unreachable {
            StoreErrorKind::Unreachable
        } else {
            StoreErrorKind::Failed
        };
        StoreError::new(kind, format!("Redis store at {}: {e}", self.server))
    }

    fn conn(&self) -> Result<MutexGuard<'_, Option<Connection>>, StoreError> {
        let mut guard = self
            .conn
            .lock()
            .map_err(|_| StoreError::new(StoreErrorKind::Failed, "Redis store lock poisoned"))?;
        if guard.is_none() {
            let c = self
                .client
                .get_connection_with_timeout(self.timeout)
                .map_err(|e| self.error(&e))?;
            c.set_read_timeout(Some(self.timeout))
                .and_then(|()| c.set_write_timeout(Some(self.timeout)))
                .map_err(|e| self.error(&e))?;
            *guard = Some(c);
        }
        Ok(guard)
    }

    /// Runs `f` on the connection; a connection error drops it (the next call connects
    /// again).
    fn with_conn<T>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, RedisError>,
    ) -> Result<T, StoreError> {
        let mut guard = self.conn()?;
        let Some(c) = guard.as_mut() else {
            return Err(StoreError::new(StoreErrorKind::Failed, "no connection"));
        };
        match f(c) {
            Ok(v) => Ok(v),
            Err(e) => {
                let err = self.error(&e);
                if err.kind() == StoreErrorKind::Unreachable || e.is_unrecoverable_error() {
                    *guard = None;
                }
                Err(err)
            }
        }
    }

    fn protocol(&self, what: &str) -> StoreError {
        StoreError::new(
            StoreErrorKind::Failed,
            format!("Redis store at {}: unexpected reply to {what}", self.server),
        )
    }

    fn read(&self, key: &str) -> Result<Versioned, StoreError> {
        let k = self.key("val", key);
        let (value, version): (Option<String>, Option<u64>) =
            self.with_conn(|c| redis::cmd("HMGET").arg(&k).arg("val").arg("ver").query(c))?;
        Ok(Versioned {
            value,
            version: Version(version.unwrap_or(0)),
        })
    }
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::BulkString(b) => String::from_utf8(b.clone()).ok(),
        Value::SimpleString(s) => Some(s.clone()),
        Value::Int(i) => Some(i.to_string()),
        _ => None,
    }
}

impl SharedStore for RedisStore {
    fn backend(&self) -> &'static str {
        "redis"
    }

    fn coordination(&self) -> Coordination {
        Coordination::Distributed
    }

    fn get(&self, key: &str) -> Result<Versioned, StoreError> {
        check_name("key", key)?;
        match self.read(key) {
            // A pooled connection the server closed (restart, idle timeout): once more on a
            // new one (a read has no effect).
            Err(e) if e.kind() == StoreErrorKind::Unreachable => self.read(key),
            other => other,
        }
    }

    fn compare_and_swap(
        &self,
        key: &str,
        expected: Version,
        value: Option<&str>,
        fence: Option<&Lease>,
    ) -> Result<Swap, StoreError> {
        check_name("key", key)?;
        if let Some(l) = fence {
            check_name("lease name", &l.name)?;
        }
        let vk = self.key("val", key);
        let gk = fence.map_or_else(|| vk.clone(), |l| self.key("gen", &l.name));
        let reply: Vec<Value> = self.with_conn(|c| {
            self.cas
                .key(&vk)
                .key(&gk)
                .arg(expected.0)
                .arg(if value.is_some() { "1" } else { "0" })
                .arg(value.unwrap_or(""))
                .arg(fence.map_or_else(String::new, |l| l.generation.to_string()))
                .invoke(c)
        })?;
        let tag = reply.first().and_then(text);
        let num = |i: usize| {
            reply
                .get(i)
                .and_then(text)
                .and_then(|s| s.parse::<u64>().ok())
        };
        match tag.as_deref() {
            Some("done") => num(1)
                .map(|v| Swap::Done(Version(v)))
                .ok_or_else(|| self.protocol("compare-and-swap")),
            Some("conflict") => Ok(Swap::Conflict(Versioned {
                version: Version(num(1).ok_or_else(|| self.protocol("compare-and-swap"))?),
                value: reply.get(2).and_then(text),
            })),
            Some("fenced") => Ok(Swap::Fenced),
            _ => Err(self.protocol("compare-and-swap")),
        }
    }

    fn try_acquire(&self, name: &str, ttl_ms: u64) -> Result<Acquire, StoreError> {
        check_name("lease name", name)?;
        check_ttl(ttl_ms)?;
        let holder = random_holder();
        let reply: Vec<Value> = self.with_conn(|c| {
            self.acquire
                .key(self.key("lease", name))
                .key(self.key("gen", name))
                .arg(ttl_ms)
                .arg(&holder)
                .invoke(c)
        })?;
        let tag = reply.first().and_then(text);
        let n = reply
            .get(1)
            .and_then(text)
            .and_then(|s| s.parse::<i64>().ok());
        match (tag.as_deref(), n) {
            (Some("granted"), Some(generation)) if generation > 0 => Ok(Acquire::Granted(Lease {
                name: name.to_string(),
                generation: generation as u64,
                holder,
                ttl_ms,
            })),
            // -1 (a key without expiry, not ours) counts as just expiring: the caller polls.
            (Some("held"), Some(remaining)) => Ok(Acquire::Held {
                remaining_ms: remaining.max(0) as u64,
            }),
            _ => Err(self.protocol("lease acquisition")),
        }
    }

    fn renew(&self, lease: &Lease, ttl_ms: u64) -> Result<bool, StoreError> {
        check_name("lease name", &lease.name)?;
        check_ttl(ttl_ms)?;
        let mine = format!("{}:{}", lease.generation, lease.holder);
        let n: i64 = self.with_conn(|c| {
            self.renew
                .key(self.key("lease", &lease.name))
                .arg(&mine)
                .arg(ttl_ms)
                .invoke(c)
        })?;
        Ok(n == 1)
    }

    fn release(&self, lease: &Lease) -> Result<(), StoreError> {
        check_name("lease name", &lease.name)?;
        let mine = format!("{}:{}", lease.generation, lease.holder);
        let _: i64 = self.with_conn(|c| {
            self.release
                .key(self.key("lease", &lease.name))
                .arg(&mine)
                .invoke(c)
        })?;
        Ok(())
    }
}

fn random_holder() -> String {
    let mut bytes = [0u8; 12];
    // Without OS randomness the holder id is still unique enough with the generation
    // (renew and release compare `generation:holder`).
    let _ = getrandom::fill(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
