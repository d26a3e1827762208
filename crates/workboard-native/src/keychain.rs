//! [`KeychainStore`]: credentials in the OS keychain (macOS Keychain, Windows Credential
//! Manager, the Linux Secret Service: GNOME Keyring, KWallet) through the `keyring` crate, and
//! [`keychain_or_file`], the CLI's and desktop apps' choice with its fallback to the
//! [`FileStore`] where there is no keychain (headless Linux, containers, CI).
//!
//! Each value is one keychain item: service [`KeychainStore::SERVICE`], account
//! `ACCOUNT:KEY`. The shared-store side (versions, leases) lives in a small file beside the
//! file store's (`keychain.json`: no secret in it), under the same OS file locks, so the
//! processes of one machine that share the keychain (the CLI beside a desktop app)
//! coordinate as with the file store ([`workboard_client::store::Coordination::Machine`]).

use std::path::{Path, PathBuf};

use crate::store::{CredentialStore, FileStore, StoreError, ValueBackend};

/// Longest keychain error text kept in a message (bytes).
const MAX_REASON: usize = 300;

fn reason(e: &keyring::Error) -> String {
    let mut text = e.to_string();
    if text.len() > MAX_REASON {
        let mut end = MAX_REASON;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    text
}

struct Keyring {
    account: String,
}

impl Keyring {
    fn entry(&self, key: &str) -> Result<keyring::Entry, StoreError> {
        keyring::Entry::new(KeychainStore::SERVICE, &format!("{}:{key}", self.account))
            .map_err(|e| StoreError::Keychain { reason: reason(&e) })
    }
}

impl ValueBackend for Keyring {
    fn kind(&self) -> &'static str {
        "keychain"
    }
    fn location(&self) -> String {
        format!(
            "OS keychain (service {}, account {}:*)",
            KeychainStore::SERVICE,
            self.account
        )
    }
    fn get(&self, key: &str) -> Result<Option<String>, StoreError> {
        match self.entry(key)?.get_password() {
            Ok(v) => Ok(Some(v)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(StoreError::Keychain { reason: reason(&e) }),
        }
    }
    fn set(&self, key: &str, value: &str) -> Result<(), StoreError> {
        self.entry(key)?
            .set_password(value)
            .map_err(|e| StoreError::Keychain { reason: reason(&e) })
    }
    fn delete(&self, key: &str) -> Result<(), StoreError> {
        match self.entry(key)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(StoreError::Keychain { reason: reason(&e) }),
        }
    }
}

/// Credentials in the OS keychain, with the shared-store contract through a file of
/// versions and leases (no secrets) under OS file locks. See the module docs.
///
/// Dereferences to the [`FileStore`] that coordinates it, which implements
/// [`CredentialStore`] and [`workboard_client::store::SharedStore`] with its values in the
/// keychain.
#[derive(Debug)]
pub struct KeychainStore {
    inner: FileStore,
}

impl KeychainStore {
    /// The keychain service name of every item.
    pub const SERVICE: &'static str = "workboard-connect";

    /// A store whose items are `ACCOUNT:KEY` (`account`: 1 to 64 ASCII letters, digits,
    /// `_`, `-`, `.`) and whose versions and leases are kept in the file `meta_path`.
    pub fn new(account: &str, meta_path: impl Into<PathBuf>) -> Result<KeychainStore, StoreError> {
        workboard_client::store::check_name("keychain account", account)?;
        if account.len() > 64 || account.contains(':') {
            return Err(StoreError::Contract(
                workboard_client::store::StoreError::new(
                    workboard_client::store::StoreErrorKind::InvalidInput,
                    "a keychain account has at most 64 bytes and no ':'",
                ),
            ));
        }
        Ok(KeychainStore {
            inner: FileStore::with_values(
                meta_path,
                Box::new(Keyring {
                    account: account.to_string(),
                }),
            ),
        })
    }

    /// Whether a keychain can be used here: one read of an item that need not exist.
    /// `Err` says why not (no D-Bus session bus, no Secret Service, access refused).
    pub fn probe() -> Result<(), StoreError> {
        let entry = keyring::Entry::new(Self::SERVICE, "probe")
            .map_err(|e| StoreError::Keychain { reason: reason(&e) })?;
        match entry.get_password() {
            Ok(_) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(StoreError::Keychain { reason: reason(&e) }),
        }
    }
}

impl std::ops::Deref for KeychainStore {
    type Target = FileStore;
    fn deref(&self) -> &FileStore {
        &self.inner
    }
}

/// Which store [`keychain_or_file`] chose, and why.
pub struct StoreChoice {
    /// The store.
    pub store: std::sync::Arc<dyn CredentialStore>,
    /// `keychain` or `file`.
    pub kind: &'static str,
    /// Where it keeps its data (a path, the keychain service).
    pub location: String,
    /// Why the file store was used instead of the keychain, when the keychain was wanted.
    pub fallback: Option<String>,
}

/// The CLI's and desktop apps' choice: the OS keychain when one can be used, else the
/// [`FileStore`] at `file_path` (headless Linux, containers). A file store that already
/// holds credentials keeps being used (nothing is moved behind the user's back: sign out
/// and in again to move to the keychain). The keychain's versions and leases go to
/// `keychain.json` beside `file_path`.
pub fn keychain_or_file(file_path: &Path) -> StoreChoice {
    let file = FileStore::new(file_path);
    let file_choice = |fallback: Option<String>, file: FileStore| StoreChoice {
        location: file.path().display().to_string(),
        store: std::sync::Arc::new(file),
        kind: "file",
        fallback,
    };
    if matches!(file.load(crate::store::keys::CREDENTIALS), Ok(Some(_))) {
        return file_choice(None, file);
    }
    if let Err(e) = KeychainStore::probe() {
        return file_choice(Some(format!("no usable OS keychain ({e})")), file);
    }
    let meta = file_path
        .parent()
        .unwrap_or(Path::new("."))
        .join("keychain.json");
    match KeychainStore::new("default", meta) {
        Ok(k) => StoreChoice {
            location: k.location(),
            store: std::sync::Arc::new(k),
            kind: "keychain",
            fallback: None,
        },
        Err(e) => file_choice(Some(e.to_string()), file),
    }
}

impl CredentialStore for KeychainStore {
    fn load(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.inner.load(key)
    }
    fn save(&self, key: &str, value: &str) -> Result<(), StoreError> {
        self.inner.save(key, value)
    }
    fn remove(&self, key: &str) -> Result<(), StoreError> {
        self.inner.remove(key)
    }
    fn kind(&self) -> &'static str {
        "keychain"
    }
    fn location(&self) -> String {
        self.inner.location()
    }
}
