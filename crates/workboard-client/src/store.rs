//! The shared-store contract: how many holders of the same credentials (processes of one
//! machine, instances of a service) refresh or sign in once and hand the result to each other.
//!
//! A [`SharedStore`] keeps string values by key (the [`crate::keys`]) with a [`Version`] per
//! key, writes them by compare-and-swap, and grants a named [`Lease`] (acquired with a TTL the
//! store measures, fenced by a generation that only grows). The rule the client layer applies
//! with it:
//!
//! 1. a holder whose credentials need a refresh (or a sign-in) remembers the [`Version`] of
//!    what it used and calls [`lead_or_follow`];
//! 2. the one that gets [`Turn::Lead`] refreshes, writes the result with
//!    [`SharedStore::compare_and_swap`] fenced by its lease, and releases the lease;
//! 3. every other holder gets [`Turn::Stored`]: the value another holder stored since, which
//!    it uses without refreshing.
//!
//! Everything here is synchronous and runtime-free like [`crate::Host::load`]: a store call
//! is short (a file lock held for one write, one Redis round trip). Waiting for another
//! holder's result is the only long operation, and [`lead_or_follow`] does it on the
//! client's [`Clock`] between short calls, so it never blocks an executor.
//!
//! Stores without coordination (an app's key-value store, a JavaScript store, the memory
//! store) get the same contract with single-process semantics through [`ProcessLocal`]:
//! versions and leases live in the process, which is exactly what the connection's single
//! flight already gives one process ([`Coordination::Process`]).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Mutex;

use workboard_core::Clock;

/// The lease the client layer takes before refreshing or signing in (one per store prefix,
/// so one per set of credentials).
pub const AUTH_LEASE: &str = "auth";

/// Longest error message kept (bytes); longer ones are cut on a character boundary.
const MAX_MESSAGE: usize = 512;
/// Longest key or lease name accepted (bytes).
pub const MAX_NAME: usize = 128;

/// A value's version in its store: 0 for a key never written; every write (a removal too)
/// makes it larger. Versions are per key and never reused while the store keeps its data.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version(pub u64);

/// A value read with its version. `Debug` never shows the value (it holds secrets).
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Versioned {
    /// The value; `None` when absent (never written, or removed).
    pub value: Option<String>,
    /// Its version.
    pub version: Version,
}

impl fmt::Debug for Versioned {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Versioned")
            .field("value", &self.value.as_ref().map(|_| "<redacted>"))
            .field("version", &self.version)
            .finish()
    }
}

/// A granted lease. Plain data (no secret): what [`SharedStore::release`],
/// [`SharedStore::renew`] and fenced writes name. A store may keep an OS handle for it (the
/// file store keeps a file lock so that the lease ends with the process).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lease {
    /// The lease's name ([`AUTH_LEASE`]).
    pub name: String,
    /// Its fencing token: larger than every generation granted before under this name.
    pub generation: u64,
    /// A random id of the holder (tells a holder's own lease from a later one).
    pub holder: String,
    /// The TTL it was granted (or last renewed) with, in ms, as measured by the store.
    pub ttl_ms: u64,
}

/// The answer to [`SharedStore::try_acquire`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Acquire {
    /// The lease is yours until you release it, its TTL runs out, or your process ends
    /// (file store).
    Granted(Lease),
    /// Another holder has it; it ends at the latest in `remaining_ms` (the store's measure).
    Held {
        /// Time left on the holder's TTL, in ms.
        remaining_ms: u64,
    },
}

/// The answer to [`SharedStore::compare_and_swap`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Swap {
    /// Written; the key's new version.
    Done(Version),
    /// The key had another version: nothing written; what is stored now.
    Conflict(Versioned),
    /// The write named a lease and a later lease was granted since (the writer's lease
    /// expired and someone else took over): nothing written.
    Fenced,
}

/// How far a store's versions and leases reach.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Coordination {
    /// Within one process only (memory store, an app's own store wrapped in
    /// [`ProcessLocal`]): other processes using the same data are not coordinated.
    Process,
    /// Processes of one machine (file store, OS keychain: OS file locks).
    Machine,
    /// Every process on every machine that reaches the store (Redis).
    Distributed,
}

impl Coordination {
    /// `process`, `machine`, `distributed`.
    pub fn as_str(self) -> &'static str {
        match self {
            Coordination::Process => "process",
            Coordination::Machine => "machine",
            Coordination::Distributed => "distributed",
        }
    }
}

/// What went wrong in a store, by what the client should do about it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoreErrorKind {
    /// The store cannot be reached now (network, daemon, a lock held too long): try again
    /// later; nothing was written.
    Unreachable,
    /// The store refused the operation or failed (I/O error, permissions): not transient.
    Failed,
    /// The stored data is not readable by this version.
    Corrupt,
    /// The store's location is not private (file store): nothing read or written.
    Unsafe,
    /// A key, lease name, TTL or prefix the contract does not accept.
    InvalidInput,
    /// [`lead_or_follow`] waited its whole bound while another holder kept the lease.
    LeaseWait,
}

/// A store failure: its kind and a bounded message that never quotes a stored value.
#[derive(Clone, PartialEq, Eq)]
pub struct StoreError {
    kind: StoreErrorKind,
    message: String,
}

impl StoreError {
    /// An error of `kind` (the message is cut at 512 bytes).
    pub fn new(kind: StoreErrorKind, message: impl Into<String>) -> StoreError {
        let mut message = message.into();
        if message.len() > MAX_MESSAGE {
            let mut end = MAX_MESSAGE;
            while !message.is_char_boundary(end) {
                end -= 1;
            }
            message.truncate(end);
        }
        StoreError { kind, message }
    }
    /// Its kind.
    pub fn kind(&self) -> StoreErrorKind {
        self.kind
    }
    /// Its message.
    pub fn message(&self) -> &str {
        &self.message
    }
    /// Whether trying again later may succeed ([`StoreErrorKind::Unreachable`]).
    pub fn is_transient(&self) -> bool {
        self.kind == StoreErrorKind::Unreachable
    }
}

impl fmt::Debug for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StoreError({:?}: {})", self.kind, self.message)
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for StoreError {}

/// Checks a key or lease name: 1..=128 bytes of ASCII letters, digits, `_`, `-`, `.`, `:`
/// (not starting with `.`, which stores may reserve).
pub fn check_name(what: &str, name: &str) -> Result<(), StoreError> {
    let ok = !name.is_empty()
        && name.len() <= MAX_NAME
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b':'));
    if ok {
        Ok(())
    } else {
        Err(StoreError::new(
            StoreErrorKind::InvalidInput,
            format!(
                "invalid {what} ({} bytes): use 1 to {MAX_NAME} ASCII letters, digits, '_', '-', '.', ':' (not starting with '.')",
                name.len()
            ),
        ))
    }
}

/// Checks a lease TTL: 1 ms to 24 hours.
pub fn check_ttl(ttl_ms: u64) -> Result<(), StoreError> {
    if (1..=86_400_000).contains(&ttl_ms) {
        Ok(())
    } else {
        Err(StoreError::new(
            StoreErrorKind::InvalidInput,
            format!("invalid lease TTL {ttl_ms} ms: use 1 ms to 24 hours"),
        ))
    }
}

/// A store shared by every holder of the same credentials: versioned values,
/// compare-and-swap writes and a fenced lease.
///
/// Contract (every implementation; the tests of each backend check it):
/// - [`get`](SharedStore::get) returns the latest value written and its version;
/// - [`compare_and_swap`](SharedStore::compare_and_swap) writes only when the key's version
///   is `expected`, atomically with the check, and returns a larger version; with a `fence`
///   it also writes only while no lease of that name was granted after it (fencing token);
///   a write is durable when it returns;
/// - [`try_acquire`](SharedStore::try_acquire) never waits: at most one holder has a lease
///   (within [`coordination`](SharedStore::coordination)'s reach), its TTL is measured by the
///   store (Redis: the server's clock; file store: the machine's monotonic clock), each
///   grant's generation is larger than every earlier one, and a lease ends with its holder's
///   process where the store can tell (file store: the OS releases the file lock);
/// - [`release`](SharedStore::release) and [`renew`](SharedStore::renew) act only on the
///   caller's own grant (a lease taken over after its TTL is left to its new holder).
///
/// Errors are [`StoreError`]s; no method quotes a stored value.
pub trait SharedStore {
    /// A short name of the backend for diagnostics (`file`, `redis`, `keychain`, `memory`).
    fn backend(&self) -> &'static str;
    /// How far the guarantees reach.
    fn coordination(&self) -> Coordination;
    /// The value of `key` and its version.
    fn get(&self, key: &str) -> Result<Versioned, StoreError>;
    /// Writes `value` (`None` removes the key) if the key's version is `expected`, and, with a
    /// `fence`, no later lease of its name was granted.
    fn compare_and_swap(
        &self,
        key: &str,
        expected: Version,
        value: Option<&str>,
        fence: Option<&Lease>,
    ) -> Result<Swap, StoreError>;
    /// Takes the lease `name` for `ttl_ms` if nobody holds it. Never waits.
    fn try_acquire(&self, name: &str, ttl_ms: u64) -> Result<Acquire, StoreError>;
    /// Extends the caller's lease to `ttl_ms` from now; `false` when it is no longer the
    /// caller's (expired and taken over, or released).
    fn renew(&self, lease: &Lease, ttl_ms: u64) -> Result<bool, StoreError>;
    /// Gives the lease back (nothing when it is no longer the caller's).
    fn release(&self, lease: &Lease) -> Result<(), StoreError>;
    /// How often a waiting holder should read the store again (ms).
    fn poll_interval_ms(&self) -> u64 {
        25
    }
}

impl<S: SharedStore + ?Sized> SharedStore for std::sync::Arc<S> {
    fn backend(&self) -> &'static str {
        (**self).backend()
    }
    fn coordination(&self) -> Coordination {
        (**self).coordination()
    }
    fn get(&self, key: &str) -> Result<Versioned, StoreError> {
        (**self).get(key)
    }
    fn compare_and_swap(
        &self,
        key: &str,
        expected: Version,
        value: Option<&str>,
        fence: Option<&Lease>,
    ) -> Result<Swap, StoreError> {
        (**self).compare_and_swap(key, expected, value, fence)
    }
    fn try_acquire(&self, name: &str, ttl_ms: u64) -> Result<Acquire, StoreError> {
        (**self).try_acquire(name, ttl_ms)
    }
    fn renew(&self, lease: &Lease, ttl_ms: u64) -> Result<bool, StoreError> {
        (**self).renew(lease, ttl_ms)
    }
    fn release(&self, lease: &Lease) -> Result<(), StoreError> {
        (**self).release(lease)
    }
    fn poll_interval_ms(&self) -> u64 {
        (**self).poll_interval_ms()
    }
}

impl<S: SharedStore + ?Sized> SharedStore for &S {
    fn backend(&self) -> &'static str {
        (**self).backend()
    }
    fn coordination(&self) -> Coordination {
        (**self).coordination()
    }
    fn get(&self, key: &str) -> Result<Versioned, StoreError> {
        (**self).get(key)
    }
    fn compare_and_swap(
        &self,
        key: &str,
        expected: Version,
        value: Option<&str>,
        fence: Option<&Lease>,
    ) -> Result<Swap, StoreError> {
        (**self).compare_and_swap(key, expected, value, fence)
    }
    fn try_acquire(&self, name: &str, ttl_ms: u64) -> Result<Acquire, StoreError> {
        (**self).try_acquire(name, ttl_ms)
    }
    fn renew(&self, lease: &Lease, ttl_ms: u64) -> Result<bool, StoreError> {
        (**self).renew(lease, ttl_ms)
    }
    fn release(&self, lease: &Lease) -> Result<(), StoreError> {
        (**self).release(lease)
    }
    fn poll_interval_ms(&self) -> u64 {
        (**self).poll_interval_ms()
    }
}

/// Writes `value` (`None` removes) whatever the stored version (last writer wins), by
/// compare-and-swap so that the version moves: what a plain `save` or `remove` means on a
/// shared store. Gives up after 64 conflicts in a row ([`StoreErrorKind::Unreachable`]).
pub fn put<S: SharedStore + ?Sized>(
    store: &S,
    key: &str,
    value: Option<&str>,
) -> Result<Version, StoreError> {
    for _ in 0..64 {
        let current = store.get(key)?;
        if let Swap::Done(version) = store.compare_and_swap(key, current.version, value, None)? {
            return Ok(version);
        }
    }
    Err(StoreError::new(
        StoreErrorKind::Unreachable,
        format!("the key '{key}' kept changing during 64 attempts to write it"),
    ))
}

/// What [`lead_or_follow`] decided.
#[derive(Debug)]
pub enum Turn {
    /// This holder refreshes (or signs in): write the result with
    /// `compare_and_swap(key, seen, Some(new), Some(&lease))`, then release the lease (also
    /// when the refresh failed, so the next holder tries at once).
    Lead(Lease),
    /// Another holder stored a newer value since `seen` (new credentials, or `None`: signed
    /// out): use it, do not refresh.
    Stored(Versioned),
}

/// Takes the lease `lease` to refresh or sign in, or waits for another holder's result.
///
/// `seen` is the version of `key` the caller's credentials came from. Returns
/// [`Turn::Stored`] as soon as the key's version differs from `seen`, [`Turn::Lead`] when
/// this caller got the lease and the key is still at `seen`. While another holder has the
/// lease it reads the store every [`SharedStore::poll_interval_ms`] (sleeping on `clock`,
/// never blocking the executor); a holder that died frees the lease at the latest when its
/// TTL ends, and one of the waiters then takes it. Gives up after `max_wait_ms` with
/// [`StoreErrorKind::LeaseWait`]. Store errors are returned at once (the caller decides:
/// see ARCHITECTURE.md, "Shared stores").
pub async fn lead_or_follow<S, C>(
    store: &S,
    clock: &C,
    key: &str,
    seen: Version,
    lease: &str,
    ttl_ms: u64,
    max_wait_ms: u64,
) -> Result<Turn, StoreError>
where
    S: SharedStore + ?Sized,
    C: Clock + ?Sized,
{
    let start = clock.now_ms();
    loop {
        let current = store.get(key)?;
        if current.version != seen {
            return Ok(Turn::Stored(current));
        }
        match store.try_acquire(lease, ttl_ms)? {
            Acquire::Granted(granted) => {
                // Someone may have stored a result between the read and the grant.
                let after = store.get(key);
                return match after {
                    Ok(now) if now.version == seen => Ok(Turn::Lead(granted)),
                    Ok(now) => {
                        store.release(&granted)?;
                        Ok(Turn::Stored(now))
                    }
                    Err(e) => {
                        let _ = store.release(&granted);
                        Err(e)
                    }
                };
            }
            Acquire::Held { remaining_ms } => {
                let waited = clock.now_ms().saturating_sub(start);
                if waited >= max_wait_ms {
                    return Err(StoreError::new(
                        StoreErrorKind::LeaseWait,
                        format!(
                            "another holder kept the '{lease}' lease for {waited} ms without storing a result; try again later"
                        ),
                    ));
                }
                let nap = store
                    .poll_interval_ms()
                    .clamp(1, 1_000)
                    .min(remaining_ms.max(1))
                    .min(max_wait_ms - waited);
                clock.sleep_ms(nap.max(1)).await;
            }
        }
    }
}

/// A plain key-value store (load, save, remove), such as an app's own store.
pub trait PlainStore {
    /// The value for `key`, if any.
    fn load(&self, key: &str) -> Result<Option<String>, StoreError>;
    /// Stores `value` under `key`, durably.
    fn save(&self, key: &str, value: &str) -> Result<(), StoreError>;
    /// Removes `key`.
    fn remove(&self, key: &str) -> Result<(), StoreError>;
}

/// The shared-store contract over a [`PlainStore`], with single-process semantics
/// ([`Coordination::Process`]): versions and leases live in this object, so they coordinate
/// the clients of this process that share it and nobody else. Versions start at 0 for
/// every key when the process starts; a value another process wrote is read, but not
/// noticed as a change. TTLs are measured with `now_ms` (the adapter's clock).
pub struct ProcessLocal<S> {
    inner: S,
    now_ms: Box<dyn Fn() -> u64 + Send + Sync>,
    state: Mutex<LocalState>,
}

#[derive(Default)]
struct LocalState {
    versions: BTreeMap<String, u64>,
    generations: BTreeMap<String, u64>,
    leases: BTreeMap<String, (u64, String, u64)>, // name -> (generation, holder, expires_at_ms)
    next_holder: u64,
}

impl<S> fmt::Debug for ProcessLocal<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ProcessLocal")
    }
}

impl<S: PlainStore> ProcessLocal<S> {
    /// Wraps `inner`; `now_ms` measures lease TTLs.
    pub fn new(inner: S, now_ms: impl Fn() -> u64 + Send + Sync + 'static) -> Self {
        ProcessLocal {
            inner,
            now_ms: Box::new(now_ms),
            state: Mutex::new(LocalState::default()),
        }
    }
    /// The wrapped store.
    pub fn inner(&self) -> &S {
        &self.inner
    }
    fn state(&self) -> Result<std::sync::MutexGuard<'_, LocalState>, StoreError> {
        self.state
            .lock()
            .map_err(|_| StoreError::new(StoreErrorKind::Failed, "store lock poisoned"))
    }
}

impl<S: PlainStore> SharedStore for ProcessLocal<S> {
    fn backend(&self) -> &'static str {
        "process-local"
    }
    fn coordination(&self) -> Coordination {
        Coordination::Process
    }
    fn get(&self, key: &str) -> Result<Versioned, StoreError> {
        check_name("key", key)?;
        let state = self.state()?;
        Ok(Versioned {
            value: self.inner.load(key)?,
            version: Version(state.versions.get(key).copied().unwrap_or(0)),
        })
    }
    fn compare_and_swap(
        &self,
        key: &str,
        expected: Version,
        value: Option<&str>,
        fence: Option<&Lease>,
    ) -> Result<Swap, StoreError> {
        check_name("key", key)?;
        let mut state = self.state()?;
        if let Some(lease) = fence {
            if state.generations.get(&lease.name).copied() != Some(lease.generation) {
                return Ok(Swap::Fenced);
            }
        }
        let current = state.versions.get(key).copied().unwrap_or(0);
        if current != expected.0 {
            return Ok(Swap::Conflict(Versioned {
                value: self.inner.load(key)?,
                version: Version(current),
            }));
        }
        match value {
            Some(v) => self.inner.save(key, v)?,
            None => self.inner.remove(key)?,
        }
        let next = current.saturating_add(1);
        state.versions.insert(key.to_string(), next);
        Ok(Swap::Done(Version(next)))
    }
    fn try_acquire(&self, name: &str, ttl_ms: u64) -> Result<Acquire, StoreError> {
        check_name("lease name", name)?;
        check_ttl(ttl_ms)?;
        let now = (self.now_ms)();
        let mut state = self.state()?;
        if let Some((_, _, expires)) = state.leases.get(name) {
            if *expires > now {
                return Ok(Acquire::Held {
                    remaining_ms: expires - now,
                });
            }
        }
        let generation = state
            .generations
            .get(name)
            .copied()
            .unwrap_or(0)
            .saturating_add(1);
        state.next_holder += 1;
        let holder = format!("local-{}", state.next_holder);
        state.generations.insert(name.to_string(), generation);
        state.leases.insert(
            name.to_string(),
            (generation, holder.clone(), now.saturating_add(ttl_ms)),
        );
        Ok(Acquire::Granted(Lease {
            name: name.to_string(),
            generation,
            holder,
            ttl_ms,
        }))
    }
    fn renew(&self, lease: &Lease, ttl_ms: u64) -> Result<bool, StoreError> {
        check_ttl(ttl_ms)?;
        let now = (self.now_ms)();
        let mut state = self.state()?;
        match state.leases.get_mut(&lease.name) {
            Some((generation, _, expires)) if *generation == lease.generation && *expires > now => {
                *expires = now.saturating_add(ttl_ms);
                Ok(true)
            }
            _ => Ok(false),
        }
    }
    fn release(&self, lease: &Lease) -> Result<(), StoreError> {
        let mut state = self.state()?;
        if state
            .leases
            .get(&lease.name)
            .is_some_and(|(generation, _, _)| *generation == lease.generation)
        {
            state.leases.remove(&lease.name);
        }
        Ok(())
    }
}

/// The contract as a check any implementation can run against itself (each backend's tests
/// do): `a` and `b` are two handles on the same data (two processes' views: two file stores
/// on one path, two Redis connections), with no value under the keys `conformance-*` and no
/// lease `conformance-*` in use. `sleep_ms` waits (the expiry check waits for a 50 ms TTL,
/// polling at most 5 s). Returns the first broken rule.
#[doc(hidden)]
pub fn check_contract(
    a: &dyn SharedStore,
    b: &dyn SharedStore,
    sleep_ms: &dyn Fn(u64),
) -> Result<(), String> {
    fn expect(ok: bool, what: &str) -> Result<(), String> {
        if ok {
            Ok(())
        } else {
            Err(what.to_string())
        }
    }
    let e = |e: StoreError| format!("store error: {e}");
    let key = "conformance-value";
    let v0 = a.get(key).map_err(e)?;
    expect(v0.value.is_none(), "a fresh key has no value")?;
    let Swap::Done(v1) = a
        .compare_and_swap(key, v0.version, Some("a"), None)
        .map_err(e)?
    else {
        return Err("a write at the current version is done".into());
    };
    expect(v1 > v0.version, "a write makes the version larger")?;
    let seen = b.get(key).map_err(e)?;
    expect(
        seen.value.as_deref() == Some("a") && seen.version == v1,
        "the other handle reads the write and its version",
    )?;
    match b
        .compare_and_swap(key, v0.version, Some("b"), None)
        .map_err(e)?
    {
        Swap::Conflict(now) => expect(
            now.value.as_deref() == Some("a") && now.version == v1,
            "a conflict returns what is stored",
        )?,
        _ => return Err("a write at an old version is a conflict".into()),
    }
    let Swap::Done(v2) = b.compare_and_swap(key, v1, None, None).map_err(e)? else {
        return Err("a removal at the current version is done".into());
    };
    let gone = a.get(key).map_err(e)?;
    expect(
        v2 > v1 && gone.value.is_none() && gone.version == v2,
        "a removal is a write: no value, a larger version",
    )?;

    let lease = "conformance-lease";
    let Acquire::Granted(g1) = a.try_acquire(lease, 60_000).map_err(e)? else {
        return Err("a free lease is granted".into());
    };
    match b.try_acquire(lease, 60_000).map_err(e)? {
        Acquire::Held { remaining_ms } => expect(
            remaining_ms > 0 && remaining_ms <= 60_000,
            "a held lease tells the time left on its TTL",
        )?,
        Acquire::Granted(_) => return Err("a held lease is not granted twice".into()),
    }
    let Swap::Done(v3) = a
        .compare_and_swap(key, v2, Some("c"), Some(&g1))
        .map_err(e)?
    else {
        return Err("the holder's fenced write is done".into());
    };
    let forged = Lease {
        generation: g1.generation.wrapping_add(1_000),
        ..g1.clone()
    };
    expect(
        !b.renew(&forged, 60_000).map_err(e)?,
        "renewing another generation fails",
    )?;
    expect(a.renew(&g1, 60_000).map_err(e)?, "the holder renews")?;
    a.release(&g1).map_err(e)?;
    let Acquire::Granted(g2) = b.try_acquire(lease, 60_000).map_err(e)? else {
        return Err("a released lease is granted".into());
    };
    expect(g2.generation > g1.generation, "generations grow")?;
    expect(
        a.compare_and_swap(key, v3, Some("stale"), Some(&g1))
            .map_err(e)?
            == Swap::Fenced,
        "a write fenced by an earlier generation is refused",
    )?;
    a.release(&g1).map_err(e)?;
    expect(
        matches!(
            a.try_acquire(lease, 60_000).map_err(e)?,
            Acquire::Held { .. }
        ),
        "releasing an earlier generation leaves the holder's lease",
    )?;
    expect(
        matches!(
            b.compare_and_swap(key, v3, Some("d"), Some(&g2))
                .map_err(e)?,
            Swap::Done(_)
        ),
        "the new holder's fenced write is done",
    )?;
    b.release(&g2).map_err(e)?;

    // TTL: an expired lease goes to the next caller; the old holder is fenced out.
    let short = "conformance-ttl";
    let Acquire::Granted(t1) = a.try_acquire(short, 50).map_err(e)? else {
        return Err("a free lease is granted (50 ms)".into());
    };
    expect(
        matches!(b.try_acquire(short, 50).map_err(e)?, Acquire::Held { .. }),
        "a lease is held until its TTL ends",
    )?;
    let mut t2 = None;
    for _ in 0..500 {
        sleep_ms(10);
        if let Acquire::Granted(l) = b.try_acquire(short, 60_000).map_err(e)? {
            t2 = Some(l);
            break;
        }
    }
    let Some(t2) = t2 else {
        return Err("a lease is granted again within 5 s of a 50 ms TTL".into());
    };
    expect(
        t2.generation > t1.generation,
        "a takeover has a larger generation",
    )?;
    expect(
        !a.renew(&t1, 60_000).map_err(e)?,
        "an expired holder cannot renew",
    )?;
    let now = a.get(key).map_err(e)?;
    expect(
        a.compare_and_swap(key, now.version, Some("late"), Some(&t1))
            .map_err(e)?
            == Swap::Fenced,
        "an expired holder's fenced write is refused once another holder has the lease",
    )?;
    a.release(&t1).map_err(e)?;
    expect(
        matches!(a.try_acquire(short, 50).map_err(e)?, Acquire::Held { .. }),
        "an expired holder's release leaves the new holder's lease",
    )?;
    b.release(&t2).map_err(e)?;

    for bad in ["", ".x", "a b"] {
        expect(
            a.get(bad).map_err(|e| e.kind()) == Err(StoreErrorKind::InvalidInput),
            "an invalid key is invalid_input",
        )?;
    }
    expect(
        a.try_acquire(lease, 0).map_err(|e| e.kind()) == Err(StoreErrorKind::InvalidInput),
        "a zero TTL is invalid_input",
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;
    use std::sync::Arc;
    use workboard_core::testing::SimClock;

    #[derive(Default)]
    struct Map(Mutex<BTreeMap<String, String>>);
    impl PlainStore for Map {
        fn load(&self, key: &str) -> Result<Option<String>, StoreError> {
            Ok(self.0.lock().unwrap().get(key).cloned())
        }
        fn save(&self, key: &str, value: &str) -> Result<(), StoreError> {
            self.0.lock().unwrap().insert(key.into(), value.into());
            Ok(())
        }
        fn remove(&self, key: &str) -> Result<(), StoreError> {
            self.0.lock().unwrap().remove(key);
            Ok(())
        }
    }

    /// A simulated clock whose sleep lets the other futures of the test run.
    struct Yielding(SimClock);
    impl Clock for Yielding {
        fn now_ms(&self) -> u64 {
            self.0.now_ms()
        }
        async fn sleep_ms(&self, ms: u64) {
            self.0.advance(ms);
            let mut yielded = false;
            std::future::poll_fn(|cx| {
                if yielded {
                    std::task::Poll::Ready(())
                } else {
                    yielded = true;
                    cx.waker().wake_by_ref();
                    std::task::Poll::Pending
                }
            })
            .await
        }
    }

    fn local(clock: &SimClock) -> ProcessLocal<Map> {
        let c = clock.clone();
        ProcessLocal::new(Map::default(), move || c.now_ms())
    }

    #[test]
    fn cas_detects_a_concurrent_write_and_fencing_refuses_a_stale_holder() {
        let clock = SimClock::at(1_000);
        let s = local(&clock);
        assert_eq!(s.get("credentials").unwrap(), Versioned::default());
        assert_eq!(
            s.compare_and_swap("credentials", Version(0), Some("a"), None)
                .unwrap(),
            Swap::Done(Version(1))
        );
        match s
            .compare_and_swap("credentials", Version(0), Some("b"), None)
            .unwrap()
        {
            Swap::Conflict(now) => {
                assert_eq!(now.value.as_deref(), Some("a"));
                assert_eq!(now.version, Version(1));
            }
            other => panic!("{other:?}"),
        }
        let Acquire::Granted(first) = s.try_acquire(AUTH_LEASE, 100).unwrap() else {
            panic!()
        };
        assert_eq!(
            s.try_acquire(AUTH_LEASE, 100).unwrap(),
            Acquire::Held { remaining_ms: 100 }
        );
        clock.advance(100);
        let Acquire::Granted(second) = s.try_acquire(AUTH_LEASE, 100).unwrap() else {
            panic!()
        };
        assert!(second.generation > first.generation);
        assert!(!s.renew(&first, 100).unwrap());
        assert_eq!(
            s.compare_and_swap("credentials", Version(1), Some("stale"), Some(&first))
                .unwrap(),
            Swap::Fenced
        );
        // Releasing the expired grant leaves the new holder's lease alone.
        s.release(&first).unwrap();
        assert!(matches!(
            s.try_acquire(AUTH_LEASE, 100).unwrap(),
            Acquire::Held { .. }
        ));
        assert_eq!(
            s.compare_and_swap("credentials", Version(1), None, Some(&second))
                .unwrap(),
            Swap::Done(Version(2))
        );
        assert_eq!(s.get("credentials").unwrap().value, None);
    }

    #[test]
    fn bad_names_and_ttls_are_typed_errors_that_do_not_echo_the_input() {
        let clock = SimClock::at(0);
        let s = local(&clock);
        let long = "k".repeat(10_000);
        for key in ["", ".meta", "a b", long.as_str()] {
            let e = s.get(key).unwrap_err();
            assert_eq!(e.kind(), StoreErrorKind::InvalidInput);
            assert!(!e.message().contains(&long[..200]));
        }
        assert_eq!(
            s.try_acquire("auth", 0).unwrap_err().kind(),
            StoreErrorKind::InvalidInput
        );
        assert_eq!(
            StoreError::new(StoreErrorKind::Failed, "é".repeat(1000))
                .message()
                .len(),
            512
        );
    }

    #[test]
    fn process_local_passes_the_contract_check() {
        let clock = SimClock::at(0);
        let s = local(&clock);
        let c = clock.clone();
        check_contract(&s, &s, &move |ms| c.advance(ms)).unwrap();
    }

    #[test]
    fn versioned_debug_redacts_the_value() {
        let v = Versioned {
            value: Some("SECRET-TOKEN".into()),
            version: Version(3),
        };
        assert!(!format!("{v:?}").contains("SECRET"));
    }

    /// Two holders: the first leads; the second waits (on the simulated clock) and gets the
    /// first's stored result without refreshing.
    #[test]
    fn one_leads_the_other_follows_with_the_stored_result() {
        let clock = SimClock::at(0);
        let s = Arc::new(local(&clock));
        s.compare_and_swap("credentials", Version(0), Some("old"), None)
            .unwrap();
        let yielding = Yielding(clock.clone());
        let mut pool = futures_executor::LocalPool::new();
        let lead = pool
            .run_until(lead_or_follow(
                &*s,
                &clock,
                "credentials",
                Version(1),
                AUTH_LEASE,
                5_000,
                10_000,
            ))
            .unwrap();
        let Turn::Lead(lease) = lead else { panic!() };
        // The follower polls; the leader stores its result while it waits.
        let follower = lead_or_follow(
            &*s,
            &yielding,
            "credentials",
            Version(1),
            AUTH_LEASE,
            5_000,
            10_000,
        );
        let store = s.clone();
        let writer = async move {
            // Let the follower find the lease held first.
            Yielding(SimClock::at(0)).sleep_ms(1).await;
            assert_eq!(
                store
                    .compare_and_swap("credentials", Version(1), Some("new"), Some(&lease))
                    .unwrap(),
                Swap::Done(Version(2))
            );
            store.release(&lease).unwrap();
        };
        let (turn, ()) = pool.run_until(futures_util::future::join(follower, writer));
        match turn.unwrap() {
            Turn::Stored(v) => assert_eq!(v.value.as_deref(), Some("new")),
            other => panic!("{other:?}"),
        }
    }

    /// A leader that never stores a result (it died): the waiter takes the lease once the
    /// TTL has run out, measured by the store, and not before.
    #[test]
    fn a_dead_leader_is_replaced_when_its_ttl_ends() {
        let clock = SimClock::at(0);
        let s = local(&clock);
        let Acquire::Granted(dead) = s.try_acquire(AUTH_LEASE, 3_000).unwrap() else {
            panic!()
        };
        let mut pool = futures_executor::LocalPool::new();
        let turn = pool
            .run_until(lead_or_follow(
                &s,
                &clock,
                "credentials",
                Version(0),
                AUTH_LEASE,
                3_000,
                60_000,
            ))
            .unwrap();
        let Turn::Lead(lease) = turn else { panic!() };
        assert_eq!(lease.generation, dead.generation + 1);
        assert!(clock.now_ms() >= 3_000, "took it at {}", clock.now_ms());
        assert!(clock.now_ms() < 3_000 + 1_000);
        // A bounded wait: a lease kept forever fails with a typed error.
        let mut pool = futures_executor::LocalPool::new();
        let e = pool
            .run_until(lead_or_follow(
                &s,
                &clock,
                "credentials",
                Version(0),
                AUTH_LEASE,
                3_000,
                500,
            ))
            .unwrap_err();
        assert_eq!(e.kind(), StoreErrorKind::LeaseWait);
    }
}
