//! Credential storage: the [`CredentialStore`] trait, a [`FileStore`] (one JSON file, mode
//! 0600, atomic replace) and a [`MemoryStore`].
//!
//! Stores hold string values by key (`credentials`, `auth_context`, `session`, ...). Values
//! contain secrets: the file store keeps them readable by the owner only, and nothing here
//! logs a value.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

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
    /// A lock was poisoned by a panic elsewhere.
    #[error("credential store lock poisoned")]
    Poisoned,
}

/// Where the SDK keeps credentials and session state. Implement it over the Keychain,
/// Keystore, a database, or a secrets manager.
pub trait CredentialStore: Send + Sync {
    /// The value for `key`, if any.
    fn load(&self, key: &str) -> Result<Option<String>, StoreError>;
    /// Stores `value` under `key` durably before returning.
    fn save(&self, key: &str, value: &str) -> Result<(), StoreError>;
    /// Removes `key`.
    fn remove(&self, key: &str) -> Result<(), StoreError>;
}

/// In-memory store (lost at exit).
#[derive(Debug, Default)]
pub struct MemoryStore {
    values: Mutex<BTreeMap<String, String>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

impl CredentialStore for MemoryStore {
    fn load(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .values
            .lock()
            .map_err(|_| StoreError::Poisoned)?
            .get(key)
            .cloned())
    }
    fn save(&self, key: &str, value: &str) -> Result<(), StoreError> {
        self.values
            .lock()
            .map_err(|_| StoreError::Poisoned)?
            .insert(key.into(), value.into());
        Ok(())
    }
    fn remove(&self, key: &str) -> Result<(), StoreError> {
        self.values
            .lock()
            .map_err(|_| StoreError::Poisoned)?
            .remove(key);
        Ok(())
    }
}

/// A JSON file readable by its owner only (0600 on Unix), replaced atomically on each save
/// (write a temporary file in the same directory, fsync, rename).
#[derive(Debug)]
pub struct FileStore {
    path: PathBuf,
    lock: Mutex<()>,
}

impl FileStore {
    /// A store at `path` (created on first save, with its directory at mode 0700).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        FileStore {
            path: path.into(),
            lock: Mutex::new(()),
        }
    }

    /// The default location: `$WORKBOARD_CONFIG_DIR/credentials.json`, else
    /// `$XDG_CONFIG_HOME/workboard/credentials.json`, else `~/.config/workboard/credentials.json`.
    pub fn default_path() -> PathBuf {
        if let Some(dir) = std::env::var_os("WORKBOARD_CONFIG_DIR") {
            return PathBuf::from(dir).join("credentials.json");
        }
        let base = std::env::var_os("XDG_CONFIG_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))
            .unwrap_or_else(|| PathBuf::from("."));
        base.join("workboard").join("credentials.json")
    }

    /// The file path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn read_all(&self) -> Result<BTreeMap<String, String>, StoreError> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
            Err(source) => {
                return Err(StoreError::Io {
                    path: self.path.clone(),
                    source,
                })
            }
        };
        serde_json::from_str(&text).map_err(|e| StoreError::Corrupt {
            path: self.path.clone(),
            reason: format!("not a JSON object of strings at line {}", e.line()),
        })
    }

    fn write_all(&self, values: &BTreeMap<String, String>) -> Result<(), StoreError> {
        let io = |source| StoreError::Io {
            path: self.path.clone(),
            source,
        };
        let dir = self
            .path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        create_private_dir(dir).map_err(io)?;
        let text = serde_json::to_string_pretty(values).unwrap_or_else(|_| "{}".into());
        let file_name = self
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let tmp = dir.join(format!(".{file_name}.tmp-{}", std::process::id()));
        {
            let mut f = open_private(&tmp).map_err(io)?;
            f.write_all(text.as_bytes()).map_err(io)?;
            f.sync_all().map_err(io)?;
        }
        std::fs::rename(&tmp, &self.path).map_err(io)?;
        Ok(())
    }
}

#[cfg(unix)]
fn open_private(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
}

#[cfg(not(unix))]
fn open_private(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)
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
        let _g = self.lock.lock().map_err(|_| StoreError::Poisoned)?;
        Ok(self.read_all()?.get(key).cloned())
    }

    fn save(&self, key: &str, value: &str) -> Result<(), StoreError> {
        let _g = self.lock.lock().map_err(|_| StoreError::Poisoned)?;
        let mut all = self.read_all()?;
        all.insert(key.to_string(), value.to_string());
        self.write_all(&all)
    }

    fn remove(&self, key: &str) -> Result<(), StoreError> {
        let _g = self.lock.lock().map_err(|_| StoreError::Poisoned)?;
        let mut all = self.read_all()?;
        if all.remove(key).is_some() {
            self.write_all(&all)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
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
        // No temporary file is left behind.
        let leftovers: Vec<_> = std::fs::read_dir(path.parent().unwrap()).unwrap().collect();
        assert_eq!(leftovers.len(), 1);
        store.remove("credentials").unwrap();
        assert_eq!(store.load("credentials").unwrap(), None);
        assert_eq!(store.load("session").unwrap().as_deref(), Some("s"));
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
}
