//! Credential storage: the [`CredentialStore`] trait, a [`FileStore`] (one JSON file, mode
//! 0600, atomic replace) and a [`MemoryStore`].
//!
//! Stores hold string values by key (`credentials`, `auth_context`, `session`, ...). Values
//! contain secrets: the file store keeps them readable by the owner only, and nothing here
//! logs a value.

use std::collections::BTreeMap;
use std::io::{Read, Write};
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

/// A JSON file readable by its owner only (0600 on Unix), replaced atomically on each save.
///
/// Each save writes an exclusively created, randomly named temporary file in the store's
/// directory (`tempfile`: `O_CREAT | O_EXCL`, mode 0600 before any byte is written), fsyncs
/// it, renames it over the store file and fsyncs the directory. A symlink planted at the
/// store path is replaced, never written through. On Unix the directory must be private
/// enough ([`StoreError::Unsafe`] otherwise): not writable by others unless sticky, not
/// group/world-writable unless owned by the user, owned by the user or root. The store file
/// is opened without following a symlink unless the user owns the symlink, and must belong to
/// the user.
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

    fn dir(&self) -> &Path {
        self.path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
    }

    fn io(&self, source: std::io::Error) -> StoreError {
        StoreError::Io {
            path: self.path.clone(),
            source,
        }
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
        let file_name = self
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        // Exclusive creation under a random name: nothing planted in advance can be opened.
        let mut tmp = tempfile::Builder::new()
            .prefix(&format!(".{file_name}."))
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
}
