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
use std::sync::Arc;

use workboard_client::store::{
    Acquire, Coordination, Lease, SharedStore, StoreError as ContractError, Swap, Version,
    Versioned,
};

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
/// Implements [`CredentialStore`] and [`SharedStore`] through the [`FileStore`] that
/// coordinates it (with its values in the keychain), to which it also dereferences.
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

/// The shared-store contract of the keychain store: the coordinating [`FileStore`]'s
/// (versions and leases in its file, values in the keychain).
impl SharedStore for KeychainStore {
    fn backend(&self) -> &'static str {
        "keychain"
    }
    fn coordination(&self) -> Coordination {
        self.inner.coordination()
    }
    fn get(&self, key: &str) -> Result<Versioned, ContractError> {
        SharedStore::get(&self.inner, key)
    }
    fn compare_and_swap(
        &self,
        key: &str,
        expected: Version,
        value: Option<&str>,
        fence: Option<&Lease>,
    ) -> Result<Swap, ContractError> {
        self.inner.compare_and_swap(key, expected, value, fence)
    }
    fn try_acquire(&self, name: &str, ttl_ms: u64) -> Result<Acquire, ContractError> {
        self.inner.try_acquire(name, ttl_ms)
    }
    fn renew(&self, lease: &Lease, ttl_ms: u64) -> Result<bool, ContractError> {
        self.inner.renew(lease, ttl_ms)
    }
    fn release(&self, lease: &Lease) -> Result<(), ContractError> {
        self.inner.release(lease)
    }
    fn poll_interval_ms(&self) -> u64 {
        self.inner.poll_interval_ms()
    }
}

/// Which store [`keychain_or_file`] chose, and why.
pub struct StoreChoice {
    /// The store.
    pub store: Arc<dyn CredentialStore>,
    /// The same store seen through the shared-store contract (file and keychain: every
    /// process of the machine): what a client that refreshes and signs in once for all of
    /// them is given ([`crate::ClientBuilder::shared_store`]).
    pub shared: Arc<dyn SharedStore + Send + Sync>,
    /// `keychain` or `file`.
    pub kind: &'static str,
    /// Where it keeps its data (a path, the keychain service).
    pub location: String,
    /// Why the file store was used instead of the keychain, when the keychain was wanted.
    pub fallback: Option<String>,
}

impl StoreChoice {
    /// The file store (one object behind both views, so its lease files are its own).
    pub fn file(file: FileStore, fallback: Option<String>) -> StoreChoice {
        let file = Arc::new(file);
        StoreChoice {
            location: file.path().display().to_string(),
            store: file.clone(),
            shared: file,
            kind: "file",
            fallback,
        }
    }

    /// The keychain store.
    pub fn keychain(store: KeychainStore) -> StoreChoice {
        let store = Arc::new(store);
        StoreChoice {
            location: store.location(),
            store: store.clone(),
            shared: store,
            kind: "keychain",
            fallback: None,
        }
    }
}

/// The CLI's and desktop apps' choice: the OS keychain when one can be used, else the
/// [`FileStore`] at `file_path` (headless Linux, containers). A file store that already
/// holds credentials keeps being used (nothing is moved behind the user's back: sign out
/// and in again to move to the keychain). The keychain's versions and leases go to
/// `keychain.json` beside `file_path`.
pub fn keychain_or_file(file_path: &Path) -> StoreChoice {
    let file = FileStore::new(file_path);
    let file_choice = |fallback: Option<String>, file: FileStore| StoreChoice::file(file, fallback);
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
        Ok(k) => StoreChoice::keychain(k),
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
