//! Credential storage: the [`CredentialStore`] trait, a [`FileStore`] (one JSON file, mode
//! 0600, atomic replace, OS file locks between processes) and a [`MemoryStore`].
//!
//! Stores hold string values by key (`credentials`, `auth_context`, `session`, ...). Values
//! contain secrets: the file store keeps them readable by the owner only, and nothing here
//! logs a value. Both stores also implement the client layer's shared-store contract
//! ([`SharedStore`]: versioned reads, compare-and-swap writes, a fenced lease; see
//! ARCHITECTURE.md, "Shared stores"): the file store for every process of the machine, the
//! memory store within its process.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use workboard_client::store::{
    check_name, check_ttl, Acquire, Coordination, Lease, PlainStore, ProcessLocal, SharedStore,
    StoreErrorKind, Swap, Version, Versioned,
};

/// The keys the SDK uses in a [`CredentialStore`].
pub mod keys {
    /// [`workboard_core::Credentials`] JSON.
    pub const CREDENTIALS: &str = "credentials";
    /// [`workboard_core::oauth::flow::AuthContext`] JSON (MCP OAuth: endpoints, client).
    pub const AUTH_CONTEXT: &str = "auth_context";
    /// The MCP session state ([`workboard_core::connection::Connection::save_state`]).
    pub const SESSION: &str = "session";
    /// A pending sign-in (resumable after a restart).
    pub const PENDING: &str = "pending";
}

/// Why a store operation failed. Messages name the path, never a value.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// File system error.
    #[error("credential store {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The file is not a valid store.
    #[error("credential store {path} is corrupt ({reason}); remove it and sign in again")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The file or its directory could be read or replaced by another user (or is a symlink
    /// someone else planted): nothing is read from or written to it.
    #[error("credential store {path} is not private: {reason}")]
    Unsafe {
        /// The file or directory.
        path: PathBuf,
        /// Why, with what to do about it.
        reason: String,
    },
    /// A lock was poisoned by a panic elsewhere.
    #[error("credential store lock poisoned")]
    Poisoned,
    /// Another process kept the store's lock file locked longer than the store waits
    /// ([`FileStore::LOCK_WAIT`]): nothing was written.
    #[error("credential store {path} is locked by another process (waited {waited_ms} ms); try again, or look for a stopped `workboard` process")]
    Busy {
        /// The lock file.
        path: PathBuf,
        /// How long this call waited.
        waited_ms: u64,
    },
    /// The OS keychain failed (no secret values in the message).
    #[error("OS keychain: {reason}")]
    Keychain {
        /// Why (the keychain's own error, bounded).
        reason: String,
    },
    /// A key or lease the shared-store contract refuses, or another contract error.
    #[error("{0}")]
    Contract(workboard_client::store::StoreError),
}

impl From<StoreError> for workboard_client::store::StoreError {
    fn from(e: StoreError) -> Self {
        let kind = match &e {
            StoreError::Busy { .. } => StoreErrorKind::Unreachable,
            StoreError::Corrupt { .. } => StoreErrorKind::Corrupt,
            StoreError::Unsafe { .. } => StoreErrorKind::Unsafe,
            StoreError::Contract(inner) => return inner.clone(),
            StoreError::Io { .. } | StoreError::Poisoned | StoreError::Keychain { .. } => {
                StoreErrorKind::Failed
            }
        };
        workboard_client::store::StoreError::new(kind, e.to_string())
    }
}

impl From<workboard_client::store::StoreError> for StoreError {
    fn from(e: workboard_client::store::StoreError) -> Self {
        StoreError::Contract(e)
    }
}

/// Where the SDK keeps credentials and session state. Implement it over the Keychain,
/// Keystore, a database, or a secrets manager. A store shared by several processes also
/// implements [`SharedStore`] (the file store, the keychain store, `workboard-redis`); any
/// other store gets single-process semantics through [`ProcessLocal`] ([`local_shared`]).
pub trait CredentialStore: Send + Sync {
    /// The value for `key`, if any.
    fn load(&self, key: &str) -> Result<Option<String>, StoreError>;
    /// Stores `value` under `key` durably before returning.
    fn save(&self, key: &str, value: &str) -> Result<(), StoreError>;
    /// Removes `key`.
    fn remove(&self, key: &str) -> Result<(), StoreError>;
    /// A short name of the store for diagnostics (`file`, `keychain`, `memory`, ...).
    fn kind(&self) -> &'static str {
        "custom"
    }
    /// Where it keeps its data, for diagnostics (a path, a keychain service); never a
    /// secret.
    fn location(&self) -> String {
        String::new()
    }
}

/// A [`CredentialStore`] seen as a [`PlainStore`] (for [`ProcessLocal`]).
pub struct Plain<S>(pub S);

impl<S: std::ops::Deref<Target = T>, T: CredentialStore + ?Sized> PlainStore for Plain<S> {
    fn load(&self, key: &str) -> Result<Option<String>, workboard_client::store::StoreError> {
        Ok(self.0.load(key)?)
    }
    fn save(&self, key: &str, value: &str) -> Result<(), workboard_client::store::StoreError> {
        Ok(self.0.save(key, value)?)
    }
    fn remove(&self, key: &str) -> Result<(), workboard_client::store::StoreError> {
        Ok(self.0.remove(key)?)
    }
}

/// Any [`CredentialStore`] with the shared-store contract, single-process semantics
/// ([`Coordination::Process`]); lease TTLs on the system clock.
pub fn local_shared<S>(store: S) -> ProcessLocal<Plain<S>>
where
    S: std::ops::Deref + Send + Sync + 'static,
    S::Target: CredentialStore,
{
    ProcessLocal::new(Plain(store), || {
        workboard_core::Clock::now_ms(&crate::SystemClock)
    })
}

/// Any [`SharedStore`] (a Redis store, ...) used where a [`CredentialStore`] is expected
/// (the native client's store): `load` reads the value, `save` and `remove` write it
/// whatever its version ([`workboard_client::store::put`]), so the version moves and
/// holders waiting on it see the change.
#[derive(Debug)]
pub struct Shared<S>(pub S);

impl<S: SharedStore + Send + Sync> CredentialStore for Shared<S> {
    fn load(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(self.0.get(key)?.value)
    }
    fn save(&self, key: &str, value: &str) -> Result<(), StoreError> {
        workboard_client::store::put(&self.0, key, Some(value))?;
        Ok(())
    }
    fn remove(&self, key: &str) -> Result<(), StoreError> {
        workboard_client::store::put(&self.0, key, None)?;
        Ok(())
    }
    fn kind(&self) -> &'static str {
        self.0.backend()
    }
}

/// In-memory store (lost at exit). Its [`SharedStore`] side coordinates the clients of this
/// process that share it ([`Coordination::Process`]).
pub struct MemoryStore {
    shared: ProcessLocal<MemoryValues>,
}

#[derive(Default)]
struct MemoryValues(Mutex<BTreeMap<String, String>>);

impl PlainStore for MemoryValues {
    fn load(&self, key: &str) -> Result<Option<String>, workboard_client::store::StoreError> {
        Ok(self
            .0
            .lock()
            .map_err(|_| StoreError::Poisoned)?
            .get(key)
            .cloned())
    }
    fn save(&self, key: &str, value: &str) -> Result<(), workboard_client::store::StoreError> {
        self.0
            .lock()
            .map_err(|_| StoreError::Poisoned)?
            .insert(key.into(), value.into());
        Ok(())
    }
    fn remove(&self, key: &str) -> Result<(), workboard_client::store::StoreError> {
        self.0.lock().map_err(|_| StoreError::Poisoned)?.remove(key);
        Ok(())
    }
}

impl std::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MemoryStore")
    }
}

impl Default for MemoryStore {
    fn default() -> Self {
        MemoryStore {
            shared: ProcessLocal::new(MemoryValues::default(), || {
                workboard_core::Clock::now_ms(&crate::SystemClock)
            }),
        }
    }
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

impl CredentialStore for MemoryStore {
    fn load(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.shared.inner().load(key).map_err(StoreError::Contract)
    }
    fn save(&self, key: &str, value: &str) -> Result<(), StoreError> {
        workboard_client::store::put(&self.shared, key, Some(value))?;
        Ok(())
    }
    fn remove(&self, key: &str) -> Result<(), StoreError> {
        workboard_client::store::put(&self.shared, key, None)?;
        Ok(())
    }
    fn kind(&self) -> &'static str {
        "memory"
    }
}

impl SharedStore for MemoryStore {
    fn backend(&self) -> &'static str {
        "memory"
    }
    fn coordination(&self) -> Coordination {
        Coordination::Process
    }
    fn get(&self, key: &str) -> Result<Versioned, workboard_client::store::StoreError> {
        self.shared.get(key)
    }
    fn compare_and_swap(
        &self,
        key: &str,
        expected: Version,
        value: Option<&str>,
        fence: Option<&Lease>,
    ) -> Result<Swap, workboard_client::store::StoreError> {
        self.shared.compare_and_swap(key, expected, value, fence)
    }
    fn try_acquire(
        &self,
        name: &str,
        ttl_ms: u64,
    ) -> Result<Acquire, workboard_client::store::StoreError> {
        self.shared.try_acquire(name, ttl_ms)
    }
    fn renew(
        &self,
        lease: &Lease,
        ttl_ms: u64,
    ) -> Result<bool, workboard_client::store::StoreError> {
        self.shared.renew(lease, ttl_ms)
    }
    fn release(&self, lease: &Lease) -> Result<(), workboard_client::store::StoreError> {
        self.shared.release(lease)
    }
}

/// Where a [`FileStore`] keeps values other than in its file (the OS keychain): the file then
/// holds only versions and leases.
pub(crate) trait ValueBackend: Send + Sync {
    fn kind(&self) -> &'static str;
    fn location(&self) -> String;
    fn get(&self, key: &str) -> Result<Option<String>, StoreError>;
    fn set(&self, key: &str, value: &str) -> Result<(), StoreError>;
    fn delete(&self, key: &str) -> Result<(), StoreError>;
}

/// The reserved key of the store file holding versions and leases (a JSON string, so that
/// the file stays a JSON object of strings for older readers).
const META_KEY: &str = ".workboard";

#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
struct Meta {
    /// Version of each key ever written.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    versions: BTreeMap<String, u64>,
    /// Last generation granted for each lease name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    generations: BTreeMap<String, u64>,
    /// Leases granted and not released.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    leases: BTreeMap<String, LeaseRecord>,
}

#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct LeaseRecord {
    generation: u64,
    holder: String,
    /// On the machine's monotonic clock ([`machine_now_ms`]): the same for every process of
    /// the machine, and not moved by wall-clock changes.
    expires_ms: u64,
}

/// Milliseconds on the machine's monotonic clock (Linux: `CLOCK_BOOTTIME`, which counts
/// suspend; other Unix: `CLOCK_MONOTONIC`), shared by every process of the machine. After a
/// reboot every holder is gone, which the lease's file lock shows first.
#[cfg(unix)]
fn machine_now_ms() -> u64 {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    let id = rustix::time::ClockId::Boottime;
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    let id = rustix::time::ClockId::Monotonic;
    let t = rustix::time::clock_gettime(id);
    (t.tv_sec.max(0) as u64)
        .saturating_mul(1000)
        .saturating_add(t.tv_nsec.max(0) as u64 / 1_000_000)
}

/// Wall-clock milliseconds (no machine-wide monotonic clock in std here).
#[cfg(not(unix))]
fn machine_now_ms() -> u64 {
    workboard_core::Clock::now_ms(&crate::SystemClock)
}

/// A JSON file readable by its owner only (0600 on Unix), replaced atomically on each save,
/// shared safely by the processes of one machine.
///
/// Each save writes an exclusively created, randomly named temporary file in the store's
/// directory (`tempfile`: `O_CREAT | O_EXCL`, mode 0600 before any byte is written), fsyncs
/// it, renames it over the store file and fsyncs the directory. A symlink planted at the
/// store path is replaced, never written through. On Unix the directory must be private
/// enough ([`StoreError::Unsafe`] otherwise): not writable by others unless sticky, not
/// group/world-writable unless owned by the user, owned by the user or root. The store file
/// is opened without following a symlink unless the user owns the symlink, and must belong to
/// the user.
///
/// **Between processes** every write happens under an exclusive OS file lock (`flock` on
/// Unix, `LockFileEx` on Windows, through `fs4`) on `.<name>.lock` beside the file, so
/// read-modify-write cycles of several processes never lose an update. The
/// [`SharedStore`] side keeps a version per key and the lease records in the file itself
/// (under the reserved key `.workboard`, a JSON string, so older readers still see a JSON
/// object of strings); each lease holder also holds an OS lock on its own file
/// `.<name>.lease-<lease>-<generation>`, which the OS releases when the holder's process
/// ends however it ends: the next [`SharedStore::try_acquire`] sees it and grants the lease
/// at once instead of waiting for the TTL. TTLs are measured on the machine's monotonic
/// clock. The file store coordinates one machine ([`Coordination::Machine`]): file locks on
/// network file systems are not reliable, so several machines use a distributed store
/// (`workboard-redis`).
pub struct FileStore {
    path: PathBuf,
    /// Serializes this object's users (file locks exclude other open files, not threads
    /// sharing one) and caches the lock file.
    lock: Mutex<Option<File>>,
    /// The lease files this object holds locked: (lease name, generation) → file.
    held: Mutex<BTreeMap<(String, u64), File>>,
    values: Option<Box<dyn ValueBackend>>,
}

impl std::fmt::Debug for FileStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileStore")
            .field("path", &self.path)
            .finish()
    }
}

struct Doc {
    values: BTreeMap<String, String>,
    meta: Meta,
}

impl FileStore {
    /// How long a write waits for another process's lock before [`StoreError::Busy`].
    pub const LOCK_WAIT: Duration = Duration::from_secs(5);

    /// A store at `path` (created on first save, with its directory at mode 0700).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        FileStore {
            path: path.into(),
            lock: Mutex::new(None),
            held: Mutex::new(BTreeMap::new()),
            values: None,
        }
    }

    #[cfg_attr(not(feature = "keychain"), allow(dead_code))]
    pub(crate) fn with_values(path: impl Into<PathBuf>, values: Box<dyn ValueBackend>) -> Self {
        FileStore {
            values: Some(values),
            ..FileStore::new(path)
        }
    }

    /// The default location: `$WORKBOARD_CONFIG_DIR/credentials.json`, else
    /// `$XDG_CONFIG_HOME/workboard/credentials.json`, else `~/.config/workboard/credentials.json`.
    pub fn default_path() -> PathBuf {
        Self::default_dir().join("credentials.json")
    }

    pub(crate) fn default_dir() -> PathBuf {
        if let Some(dir) = std::env::var_os("WORKBOARD_CONFIG_DIR") {
            return PathBuf::from(dir);
        }
        let base = std::env::var_os("XDG_CONFIG_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))
            .unwrap_or_else(|| PathBuf::from("."));
        base.join("workboard")
    }

    /// The file path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn dir(&self) -> &Path {
        self.path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
    }

    fn file_name(&self) -> String {
        self.path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    }

    fn lock_path(&self) -> PathBuf {
        self.dir().join(format!(".{}.lock", self.file_name()))
    }

    fn lease_path(&self, name: &str, generation: u64) -> PathBuf {
        // ':' is not allowed in Windows file names; '+' is not allowed in lease names.
        self.dir().join(format!(
            ".{}.lease-{}-{generation}",
            self.file_name(),
            name.replace(':', "+")
        ))
    }

    fn io(&self, source: std::io::Error) -> StoreError {
        StoreError::Io {
            path: self.path.clone(),
            source,
        }
    }

    fn read_doc(&self) -> Result<Doc, StoreError> {
        let mut values = self.read_all()?;
        let meta = match values.remove(META_KEY) {
            None => Meta::default(),
            Some(text) => serde_json::from_str(&text).map_err(|e| StoreError::Corrupt {
                path: self.path.clone(),
                reason: format!(
                    "its versions and leases are unreadable ({})",
                    workboard_core::untrusted::describe_json_error(&e)
                ),
            })?,
        };
        Ok(Doc { values, meta })
    }

    fn write_doc(&self, doc: &Doc) -> Result<(), StoreError> {
        let mut all = doc.values.clone();
        let meta = serde_json::to_string(&doc.meta).unwrap_or_else(|_| "{}".into());
        if meta != "{}" {
            all.insert(META_KEY.into(), meta);
        }
        self.write_all(&all)
    }

    fn read_all(&self) -> Result<BTreeMap<String, String>, StoreError> {
        match std::fs::metadata(self.dir()) {
            Ok(_) => private::check_dir(self.dir())?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
            Err(source) => {
                return Err(StoreError::Io {
                    path: self.dir().to_path_buf(),
                    source,
                })
            }
        }
        let Some(mut file) = private::open_for_read(&self.path)? else {
            return Ok(BTreeMap::new());
        };
        let mut text = String::new();
        file.read_to_string(&mut text).map_err(|e| self.io(e))?;
        serde_json::from_str(&text).map_err(|e| StoreError::Corrupt {
            path: self.path.clone(),
            reason: format!("not a JSON object of strings at line {}", e.line()),
        })
    }

    fn write_all(&self, values: &BTreeMap<String, String>) -> Result<(), StoreError> {
        let dir = self.dir();
        create_private_dir(dir).map_err(|e| self.io(e))?;
        private::check_dir(dir)?;
        let text = serde_json::to_string_pretty(values).unwrap_or_else(|_| "{}".into());
        // Exclusive creation under a random name: nothing planted in advance can be opened.
        let mut tmp = tempfile::Builder::new()
            .prefix(&format!(".{}.", self.file_name()))
            .suffix(".tmp")
            .tempfile_in(dir)
            .map_err(|e| self.io(e))?;
        private::restrict(tmp.as_file()).map_err(|e| self.io(e))?;
        tmp.write_all(text.as_bytes()).map_err(|e| self.io(e))?;
        tmp.as_file().sync_all().map_err(|e| self.io(e))?;
        // rename(2) replaces whatever is at the path (a symlink included) without following it.
        tmp.persist(&self.path).map_err(|e| self.io(e.error))?;
        private::sync_dir(dir).map_err(|e| self.io(e))?;
        Ok(())
    }

    /// Runs `f` on the stored document under the in-process mutex and the OS lock of the
    /// lock file; `f` returns whether to write the document back.
    fn locked<T>(
        &self,
        f: impl FnOnce(&mut Doc) -> Result<(T, bool), StoreError>,
    ) -> Result<T, StoreError> {
        let mut guard = self.lock.lock().map_err(|_| StoreError::Poisoned)?;
        if guard.is_none() {
            let dir = self.dir();
            create_private_dir(dir).map_err(|e| self.io(e))?;
            private::check_dir(dir)?;
            *guard = Some(private::open_lock_file(&self.lock_path())?);
        }
        let Some(file) = guard.as_ref() else {
            return Err(StoreError::Poisoned);
        };
        let start = std::time::Instant::now();
        let mut nap = Duration::from_millis(1);
        loop {
            match fs4::FileExt::try_lock(file) {
                Ok(()) => break,
                Err(fs4::TryLockError::WouldBlock) => {
                    if start.elapsed() >= Self::LOCK_WAIT {
                        return Err(StoreError::Busy {
                            path: self.lock_path(),
                            waited_ms: start.elapsed().as_millis() as u64,
                        });
                    }
                    std::thread::sleep(nap);
                    nap = (nap * 2).min(Duration::from_millis(20));
                }
                Err(fs4::TryLockError::Error(source)) => {
                    return Err(StoreError::Io {
                        path: self.lock_path(),
                        source,
                    })
                }
            }
        }
        let result = self.read_doc().and_then(|mut doc| {
            let (out, write) = f(&mut doc)?;
            if write {
                self.write_doc(&doc)?;
            }
            Ok(out)
        });
        let _ = fs4::FileExt::unlock(file);
        result
    }

    fn value_of(&self, doc: &Doc, key: &str) -> Result<Option<String>, StoreError> {
        match &self.values {
            None => Ok(doc.values.get(key).cloned()),
            Some(backend) => backend.get(key),
        }
    }

    /// Writes `value` (or removes) and bumps the key's version, inside [`Self::locked`].
    fn write_value(
        &self,
        doc: &mut Doc,
        key: &str,
        value: Option<&str>,
    ) -> Result<u64, StoreError> {
        match (&self.values, value) {
            (None, Some(v)) => {
                doc.values.insert(key.to_string(), v.to_string());
            }
            (None, None) => {
                doc.values.remove(key);
            }
            // The value first: a crash before the version is written leaves a value with its
            // old version, which a later compare-and-swap may overwrite (as if this write
            // never happened), never a new version over an old value.
            (Some(backend), Some(v)) => backend.set(key, v)?,
            (Some(backend), None) => backend.delete(key)?,
        }
        let version = doc.meta.versions.entry(key.to_string()).or_insert(0);
        *version = version.saturating_add(1);
        Ok(*version)
    }

    /// Whether the holder of `generation` still holds its lease file locked.
    fn holder_alive(&self, name: &str, generation: u64) -> Result<bool, StoreError> {
        let path = self.lease_path(name, generation);
        let file = match private::open_existing(&path) {
            Ok(Some(f)) => f,
            Ok(None) => return Ok(false),
            Err(e) => return Err(e),
        };
        match fs4::FileExt::try_lock(&file) {
            Ok(()) => {
                // Nobody holds it: the holder's process ended. Remove the leftover.
                let _ = std::fs::remove_file(&path);
                let _ = fs4::FileExt::unlock(&file);
                Ok(false)
            }
            Err(fs4::TryLockError::WouldBlock) => Ok(true),
            Err(fs4::TryLockError::Error(source)) => Err(StoreError::Io { path, source }),
        }
    }

    fn forget_held(&self, name: &str, generation: u64) {
        let file = self
            .held
            .lock()
            .ok()
            .and_then(|mut held| held.remove(&(name.to_string(), generation)));
        if let Some(file) = file {
            // Removed while still locked, so no other process opens it as a live holder's.
            let _ = std::fs::remove_file(self.lease_path(name, generation));
            drop(file);
        }
    }
}

fn random_holder() -> String {
    let mut bytes = [0u8; 8];
    workboard_core::Entropy::fill_bytes(&mut crate::OsEntropy, &mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(unix)]
mod private {
    use std::fs::File;
    use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
    use std::path::Path;

    use super::StoreError;

    fn me() -> u32 {
        rustix::process::geteuid().as_raw()
    }

    /// Why a directory with this `mode` and `owner` must not hold credentials of user `me`.
    pub(super) fn dir_problem(mode: u32, owner: u32, me: u32) -> Option<&'static str> {
        let sticky = mode & 0o1000 != 0;
        if mode & 0o002 != 0 && !sticky {
            return Some("the directory is writable by every user (anyone could replace the file); run `chmod 700` on it or choose another directory");
        }
        if owner != me && mode & 0o022 != 0 {
            return Some("the directory is writable by other users and is not yours; keep credentials in a directory of your own (e.g. ~/.config/workboard, mode 700)");
        }
        if owner != me && owner != 0 {
            return Some("the directory belongs to another user; keep credentials in a directory of your own (e.g. ~/.config/workboard, mode 700)");
        }
        None
    }

    /// Why a store file (or the symlink at its path) owned by `owner` must not be read by `me`.
    pub(super) fn file_problem(owner: u32, me: u32) -> Option<&'static str> {
        (owner != me).then_some("the file (or a symlink at its path) belongs to another user, who may have planted it; remove it and sign in again")
    }

    pub(super) fn check_dir(dir: &Path) -> Result<(), StoreError> {
        let meta = std::fs::metadata(dir).map_err(|source| StoreError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        match dir_problem(meta.mode(), meta.uid(), me()) {
            Some(reason) => Err(StoreError::Unsafe {
                path: dir.to_path_buf(),
                reason: reason.into(),
            }),
            None => Ok(()),
        }
    }

    /// Opens the store file for reading: a symlink is followed only when the user owns it,
    /// and the file opened must be the user's. `None` when there is no file.
    pub(super) fn open_for_read(path: &Path) -> Result<Option<File>, StoreError> {
        let io = |source| StoreError::Io {
            path: path.to_path_buf(),
            source,
        };
        let unsafe_file = |reason: &str| StoreError::Unsafe {
            path: path.to_path_buf(),
            reason: reason.into(),
        };
        let link = match std::fs::symlink_metadata(path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io(e)),
        };
        let mut options = std::fs::OpenOptions::new();
        options.read(true);
        if link.file_type().is_symlink() {
            if let Some(reason) = file_problem(link.uid(), me()) {
                return Err(unsafe_file(reason));
            }
        } else {
            // Not a symlink a moment ago: if one appears now, do not follow it.
            options.custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32);
        }
        let file = match options.open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io(e)),
        };
        let meta = file.metadata().map_err(io)?;
        if let Some(reason) = file_problem(meta.uid(), me()) {
            return Err(unsafe_file(reason));
        }
        if !meta.is_file() {
            return Err(unsafe_file("it is not a regular file"));
        }
        Ok(Some(file))
    }

    fn private_options() -> std::fs::OpenOptions {
        let mut options = std::fs::OpenOptions::new();
        options
            .mode(0o600)
            .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32);
        options
    }

    fn check_owned_file(path: &Path, file: &File) -> Result<(), StoreError> {
        let meta = file.metadata().map_err(|source| StoreError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let problem = file_problem(meta.uid(), me())
            .or((!meta.is_file()).then_some("it is not a regular file"));
        match problem {
            Some(reason) => Err(StoreError::Unsafe {
                path: path.to_path_buf(),
                reason: reason.into(),
            }),
            None => Ok(()),
        }
    }

    /// Opens (creating it, 0600) the lock file; never through a symlink, and it must be the
    /// user's.
    pub(super) fn open_lock_file(path: &Path) -> Result<File, StoreError> {
        let file = private_options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(|source| StoreError::Io {
                path: path.to_path_buf(),
                source,
            })?;
        check_owned_file(path, &file)?;
        Ok(file)
    }

    /// Creates a lease file that must not exist yet (0600, `O_EXCL`).
    pub(super) fn create_lease_file(path: &Path) -> Result<File, StoreError> {
        private_options()
            .read(true)
            .write(true)
            .create_new(true)
            .open(path)
            .map_err(|source| StoreError::Io {
                path: path.to_path_buf(),
                source,
            })
    }

    /// Opens an existing lease file (`None` when there is none); never through a symlink.
    pub(super) fn open_existing(path: &Path) -> Result<Option<File>, StoreError> {
        match private_options().read(true).open(path) {
            Ok(file) => {
                check_owned_file(path, &file)?;
                Ok(Some(file))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(StoreError::Io {
                path: path.to_path_buf(),
                source,
            }),
        }
    }

    pub(super) fn restrict(file: &File) -> std::io::Result<()> {
        file.set_permissions(std::fs::Permissions::from_mode(0o600))
    }

    pub(super) fn sync_dir(dir: &Path) -> std::io::Result<()> {
        File::open(dir)?.sync_all()
    }
}

#[cfg(not(unix))]
mod private {
    use std::fs::File;
    use std::path::Path;

    use super::StoreError;

    pub(super) fn check_dir(_dir: &Path) -> Result<(), StoreError> {
        Ok(())
    }

    pub(super) fn open_for_read(path: &Path) -> Result<Option<File>, StoreError> {
        match File::open(path) {
            Ok(f) => Ok(Some(f)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(StoreError::Io {
                path: path.to_path_buf(),
                source,
            }),
        }
    }

    pub(super) fn open_lock_file(path: &Path) -> Result<File, StoreError> {
        std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(|source| StoreError::Io {
                path: path.to_path_buf(),
                source,
            })
    }

    pub(super) fn create_lease_file(path: &Path) -> Result<File, StoreError> {
        std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(path)
            .map_err(|source| StoreError::Io {
                path: path.to_path_buf(),
                source,
            })
    }

    pub(super) fn open_existing(path: &Path) -> Result<Option<File>, StoreError> {
        match std::fs::OpenOptions::new().read(true).open(path) {
            Ok(f) => Ok(Some(f)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(StoreError::Io {
                path: path.to_path_buf(),
                source,
            }),
        }
    }

    pub(super) fn restrict(_file: &File) -> std::io::Result<()> {
        Ok(())
    }

    pub(super) fn sync_dir(_dir: &Path) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    if dir.exists() {
        return Ok(());
    }
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)
}

impl CredentialStore for FileStore {
    fn load(&self, key: &str) -> Result<Option<String>, StoreError> {
        if key == META_KEY {
            return Ok(None);
        }
        match &self.values {
            None => {
                let _g = self.lock.lock().map_err(|_| StoreError::Poisoned)?;
                Ok(self.read_all()?.remove(key))
            }
            Some(backend) => backend.get(key),
        }
    }

    fn save(&self, key: &str, value: &str) -> Result<(), StoreError> {
        check_name("key", key)?;
        self.locked(|doc| {
            self.write_value(doc, key, Some(value))?;
            Ok(((), true))
        })
    }

    fn remove(&self, key: &str) -> Result<(), StoreError> {
        check_name("key", key)?;
        self.locked(|doc| {
            let present = self.values.is_some() || doc.values.contains_key(key);
            if present {
                self.write_value(doc, key, None)?;
            }
            Ok(((), present))
        })
    }

    fn kind(&self) -> &'static str {
        self.values.as_ref().map_or("file", |b| b.kind())
    }

    fn location(&self) -> String {
        match &self.values {
            None => self.path.display().to_string(),
            Some(b) => format!(
                "{} (versions and leases: {})",
                b.location(),
                self.path.display()
            ),
        }
    }
}

type ContractResult<T> = Result<T, workboard_client::store::StoreError>;

impl SharedStore for FileStore {
    fn backend(&self) -> &'static str {
        CredentialStore::kind(self)
    }

    fn coordination(&self) -> Coordination {
        Coordination::Machine
    }

    fn get(&self, key: &str) -> ContractResult<Versioned> {
        check_name("key", key)?;
        // One read of the file: value and version together (it is replaced atomically). With
        // a keychain, the version is read first: a write in between then shows as a newer
        // value under the older version, which makes a compare-and-swap fail (safe), never
        // an older value under a newer version (a lost update).
        let doc = {
            let _g = self.lock.lock().map_err(|_| StoreError::Poisoned)?;
            self.read_doc()?
        };
        let version = Version(doc.meta.versions.get(key).copied().unwrap_or(0));
        Ok(Versioned {
            value: self.value_of(&doc, key)?,
            version,
        })
    }

    fn compare_and_swap(
        &self,
        key: &str,
        expected: Version,
        value: Option<&str>,
        fence: Option<&Lease>,
    ) -> ContractResult<Swap> {
        check_name("key", key)?;
        Ok(self.locked(|doc| {
            if let Some(lease) = fence {
                if doc.meta.generations.get(&lease.name).copied() != Some(lease.generation) {
                    return Ok((Swap::Fenced, false));
                }
            }
            let current = doc.meta.versions.get(key).copied().unwrap_or(0);
            if current != expected.0 {
                let value = self.value_of(doc, key)?;
                return Ok((
                    Swap::Conflict(Versioned {
                        value,
                        version: Version(current),
                    }),
                    false,
                ));
            }
            let next = self.write_value(doc, key, value)?;
            Ok((Swap::Done(Version(next)), true))
        })?)
    }

    fn try_acquire(&self, name: &str, ttl_ms: u64) -> ContractResult<Acquire> {
        check_name("lease name", name)?;
        check_ttl(ttl_ms)?;
        Ok(self
            .locked(|doc| {
                let now = machine_now_ms();
                if let Some(record) = doc.meta.leases.get(name) {
                    let alive = self.holder_alive(name, record.generation)?;
                    if alive && record.expires_ms > now {
                        return Ok((
                            Acquire::Held {
                                remaining_ms: record.expires_ms - now,
                            },
                            false,
                        ));
                    }
                    // Dead (its process ended: granted at once) or past its TTL (a stopped or
                    // slow holder: fenced out by the new generation).
                }
                let generation = doc
                    .meta
                    .generations
                    .get(name)
                    .copied()
                    .unwrap_or(0)
                    .saturating_add(1);
                let path = self.lease_path(name, generation);
                let file = private::create_lease_file(&path).or_else(|_| {
                    // A leftover of a holder that crashed between creating it and recording the
                    // grant (never locked by anyone alive: the record would name it).
                    let _ = std::fs::remove_file(&path);
                    private::create_lease_file(&path)
                })?;
                if let Err(e) = fs4::FileExt::try_lock(&file) {
                    let _ = std::fs::remove_file(&path);
                    return Err(StoreError::Io {
                        path,
                        source: e.into(),
                    });
                }
                let holder = random_holder();
                doc.meta.generations.insert(name.to_string(), generation);
                doc.meta.leases.insert(
                    name.to_string(),
                    LeaseRecord {
                        generation,
                        holder: holder.clone(),
                        expires_ms: now.saturating_add(ttl_ms),
                    },
                );
                self.held
                    .lock()
                    .map_err(|_| StoreError::Poisoned)?
                    .insert((name.to_string(), generation), file);
                Ok((
                    Acquire::Granted(Lease {
                        name: name.to_string(),
                        generation,
                        holder,
                        ttl_ms,
                    }),
                    true,
                ))
            })
            .inspect_err(|_| {
                // The grant was not recorded: let go of its file (if it was created).
                if let Ok(generations) = self.read_doc().map(|d| d.meta.generations) {
                    let next = generations
                        .get(name)
                        .copied()
                        .unwrap_or(0)
                        .saturating_add(1);
                    self.forget_held(name, next);
                }
            })?)
    }

    fn renew(&self, lease: &Lease, ttl_ms: u64) -> ContractResult<bool> {
        check_ttl(ttl_ms)?;
        Ok(self.locked(|doc| {
            let now = machine_now_ms();
            match doc.meta.leases.get_mut(&lease.name) {
                Some(r) if r.generation == lease.generation && r.expires_ms > now => {
                    r.expires_ms = now.saturating_add(ttl_ms);
                    Ok((true, true))
                }
                _ => Ok((false, false)),
            }
        })?)
    }

    fn release(&self, lease: &Lease) -> ContractResult<()> {
        let result = self.locked(|doc| {
            let mine = doc
                .meta
                .leases
                .get(&lease.name)
                .is_some_and(|r| r.generation == lease.generation);
            if mine {
                doc.meta.leases.remove(&lease.name);
            }
            Ok(((), mine))
        });
        self.forget_held(&lease.name, lease.generation);
        Ok(result?)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;

    #[test]
    fn file_store_roundtrip_private_and_atomic() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/creds.json");
        let store = FileStore::new(&path);
        assert_eq!(store.load("credentials").unwrap(), None);
        store.save("credentials", "SECRET-VALUE").unwrap();
        store.save("session", "s").unwrap();
        assert_eq!(
            store.load("credentials").unwrap().as_deref(),
            Some("SECRET-VALUE")
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        // No temporary file is left behind: the store and its lock file.
        let mut leftovers: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        leftovers.sort();
        assert_eq!(leftovers, [".creds.json.lock", "creds.json"]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let lock = path.parent().unwrap().join(".creds.json.lock");
            let mode = std::fs::metadata(lock).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        store.remove("credentials").unwrap();
        assert_eq!(store.load("credentials").unwrap(), None);
        assert_eq!(store.load("session").unwrap().as_deref(), Some("s"));
    }

    /// Issue 11 item 15: symlinks planted at the old predictable temporary name and at the
    /// store path never receive the token.
    #[cfg(unix)]
    #[test]
    fn planted_symlinks_never_receive_the_token() {
        use std::os::unix::fs::{symlink, PermissionsExt};
        let dir = tempfile::tempdir().unwrap();
        let elsewhere = tempfile::tempdir().unwrap();
        let path = dir.path().join("creds.json");
        let decoy_tmp = elsewhere.path().join("tmp-target");
        let decoy_store = elsewhere.path().join("store-target");
        for decoy in [&decoy_tmp, &decoy_store] {
            std::fs::write(decoy, "{}").unwrap();
            std::fs::set_permissions(decoy, std::fs::Permissions::from_mode(0o644)).unwrap();
        }
        // The name the store used to write through (`.<name>.tmp-<pid>`), and the store path.
        let old_tmp = dir
            .path()
            .join(format!(".creds.json.tmp-{}", std::process::id()));
        symlink(&decoy_tmp, &old_tmp).unwrap();
        symlink(&decoy_store, &path).unwrap();
        let store = FileStore::new(&path);
        store.save("credentials", "SECRET-VALUE").unwrap();
        for decoy in [&decoy_tmp, &decoy_store] {
            assert_eq!(std::fs::read_to_string(decoy).unwrap(), "{}");
        }
        let meta = std::fs::symlink_metadata(&path).unwrap();
        assert!(meta.file_type().is_file());
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        assert_eq!(
            store.load("credentials").unwrap().as_deref(),
            Some("SECRET-VALUE")
        );
        // The planted temp-name symlink is left alone, and no temporary file is left.
        let mut names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(
            names,
            [
                ".creds.json.lock".to_string(),
                format!(".creds.json.tmp-{}", std::process::id()),
                "creds.json".into()
            ]
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_directory_others_can_write_is_refused_with_a_hint() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("creds.json");
        let store = FileStore::new(&path);
        store.save("session", "s").unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
        let e = store.save("credentials", "SECRET-VALUE").unwrap_err();
        assert!(matches!(e, StoreError::Unsafe { .. }), "{e}");
        assert!(e.to_string().contains("chmod 700"), "{e}");
        assert!(!e.to_string().contains("SECRET"));
        assert!(matches!(
            store.load("session").unwrap_err(),
            StoreError::Unsafe { .. }
        ));
        assert!(!std::fs::read_to_string(&path).unwrap().contains("SECRET"));
        // Sticky (like /tmp) and owned by the user, or writable by the user's group only: fine.
        for mode in [0o1777, 0o770, 0o700] {
            std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(mode)).unwrap();
            store.save("credentials", "SECRET-VALUE").unwrap();
        }
    }

    #[cfg(unix)]
    #[test]
    fn ownership_rules() {
        use super::private::{dir_problem, file_problem};
        let (me, other, root) = (1000, 1001, 0);
        assert_eq!(dir_problem(0o40700, me, me), None);
        assert_eq!(dir_problem(0o40770, me, me), None);
        assert_eq!(dir_problem(0o41777, me, me), None);
        assert_eq!(dir_problem(0o40755, root, me), None);
        assert!(dir_problem(0o40777, me, me).is_some());
        assert!(dir_problem(0o41777, root, me).is_some()); // /tmp itself
        assert!(dir_problem(0o40775, other, me).is_some());
        assert!(dir_problem(0o40755, other, me).is_some());
        assert_eq!(file_problem(me, me), None);
        assert!(file_problem(other, me).is_some());
        assert!(file_problem(root, me).is_some());
    }

    /// A symlink at the store path that another user planted is not followed when reading.
    /// Creating another user's symlink needs root: as any other user, `ownership_rules`
    /// covers the decision.
    #[cfg(unix)]
    #[test]
    fn a_symlink_planted_by_another_user_is_not_read() {
        use std::os::unix::fs::symlink;
        if !rustix::process::geteuid().is_root() {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("creds.json");
        let decoy = dir.path().join("attacker.json");
        std::fs::write(&decoy, r#"{"credentials":"ATTACKER"}"#).unwrap();
        symlink(&decoy, &path).unwrap();
        std::os::unix::fs::lchown(&path, Some(65534), Some(65534)).unwrap();
        let store = FileStore::new(&path);
        assert!(matches!(
            store.load("credentials").unwrap_err(),
            StoreError::Unsafe { .. }
        ));
    }

    #[test]
    fn corrupt_file_is_a_typed_error_without_content() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.json");
        std::fs::write(&path, "{\"credentials\": \"SECRET-VALUE\"").unwrap();
        let err = FileStore::new(&path).load("credentials").unwrap_err();
        assert!(matches!(err, StoreError::Corrupt { .. }));
        assert!(!err.to_string().contains("SECRET"));
    }

    #[test]
    fn file_store_passes_the_contract_check_across_two_instances() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("shared.json");
        let (a, b) = (FileStore::new(&path), FileStore::new(&path));
        workboard_client::store::check_contract(&a, &b, &|ms| {
            std::thread::sleep(Duration::from_millis(ms))
        })
        .unwrap();
        // Nothing but the store and its lock file is left (lease files are removed).
        let mut names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, [".shared.json.lock", "shared.json"]);
    }

    #[test]
    fn memory_store_passes_the_contract_check() {
        let m = MemoryStore::new();
        workboard_client::store::check_contract(&m, &m, &|ms| {
            std::thread::sleep(Duration::from_millis(ms))
        })
        .unwrap();
        // Plain saves move the version too.
        let before = m.get("credentials").unwrap().version;
        m.save("credentials", "x").unwrap();
        assert!(m.get("credentials").unwrap().version > before);
    }

    /// A file written by an earlier version (a plain JSON object of strings) reads as
    /// version 0; a plain save moves the version; the reserved key is never a value.
    #[test]
    fn plain_files_and_plain_saves_keep_working_with_versions() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.json");
        std::fs::write(&path, r#"{"credentials": "OLD"}"#).unwrap();
        let s = FileStore::new(&path);
        let v = s.get("credentials").unwrap();
        assert_eq!((v.value.as_deref(), v.version), (Some("OLD"), Version(0)));
        s.save("credentials", "NEW").unwrap();
        let v = s.get("credentials").unwrap();
        assert_eq!((v.value.as_deref(), v.version), (Some("NEW"), Version(1)));
        assert!(matches!(
            s.compare_and_swap("credentials", Version(0), Some("X"), None)
                .unwrap(),
            Swap::Conflict(_)
        ));
        assert_eq!(s.load(META_KEY).unwrap(), None);
        assert!(s.save(META_KEY, "x").is_err());
        // Still a JSON object of strings for older readers.
        let raw: BTreeMap<String, String> =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(raw["credentials"], "NEW");
        s.remove("credentials").unwrap();
        assert_eq!(s.get("credentials").unwrap().version, Version(2));
    }

    /// A process stopped (not dead) past its TTL: the lease goes to the next caller and the
    /// old holder's fenced write is refused.
    #[test]
    fn a_live_holder_past_its_ttl_is_fenced_out() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.json");
        let (a, b) = (FileStore::new(&path), FileStore::new(&path));
        let Acquire::Granted(old) = a.try_acquire("auth", 1).unwrap() else {
            panic!("granted")
        };
        let start = machine_now_ms();
        while machine_now_ms() < start + 3 {
            std::thread::sleep(Duration::from_millis(1));
        }
        let Acquire::Granted(new) = b.try_acquire("auth", 60_000).unwrap() else {
            panic!("granted after the TTL")
        };
        assert_eq!(new.generation, old.generation + 1);
        assert_eq!(
            a.compare_and_swap("credentials", Version(0), Some("x"), Some(&old))
                .unwrap(),
            Swap::Fenced
        );
        a.release(&old).unwrap();
        assert!(matches!(
            a.try_acquire("auth", 10).unwrap(),
            Acquire::Held { .. }
        ));
        b.release(&new).unwrap();
    }

    #[test]
    fn a_corrupt_meta_record_is_a_typed_error_without_content() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.json");
        std::fs::write(
            &path,
            r#"{"credentials": "SECRET-VALUE", ".workboard": "nope"}"#,
        )
        .unwrap();
        let e = FileStore::new(&path).get("credentials").unwrap_err();
        assert_eq!(e.kind(), StoreErrorKind::Corrupt);
        assert!(!e.to_string().contains("SECRET"));
    }
}
