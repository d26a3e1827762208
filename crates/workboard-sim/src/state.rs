//! Server state: clock, counters, the store of clients, codes, tokens and sessions.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};

use crate::config::{ClientConfig, Era, ResponseMode, Role, SimConfig};
use crate::data::Data;
use crate::faults::Faults;

/// Locks a mutex, recovering the data if a previous holder panicked.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The simulator's clock: real time plus an offset moved by `advance_clock`.
#[derive(Debug, Default)]
pub(crate) struct SimClock {
    offset_ms: AtomicI64,
}

impl SimClock {
    /// Unix milliseconds on the simulated clock.
    pub fn now_ms(&self) -> u64 {
        let real = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        (real + self.offset_ms.load(Ordering::SeqCst)).max(0) as u64
    }

    pub fn advance(&self, by: Duration) {
        let ms = i64::try_from(by.as_millis()).unwrap_or(i64::MAX / 4);
        self.offset_ms.fetch_add(ms, Ordering::SeqCst);
    }
}

/// Random URL-safe token with a prefix (`prefix_` + 32 hex chars).
pub(crate) fn random_token(prefix: &str) -> String {
    let mut bytes = [0u8; 16];
    if getrandom::fill(&mut bytes).is_err() {
        // Fallback that never panics: hash of time and a process-wide counter.
        static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let t = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let digest = Sha256::digest(format!("{t}:{n}").as_bytes());
        bytes.copy_from_slice(&digest[..16]);
    }
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("{prefix}_{hex}")
}

/// Which flow issued an access token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenKind {
    Personal,
    V1,
    OAuth2,
}

#[derive(Debug, Clone)]
pub(crate) struct TokenRecord {
    pub kind: TokenKind,
    pub user_id: u64,
    pub role: Role,
    pub scopes: Vec<String>,
    pub expires_at_ms: Option<u64>,
    pub grant_id: u64,
}

#[derive(Debug, Clone)]
pub(crate) struct RefreshRecord {
    pub client_id: String,
    pub user_id: u64,
    pub scopes: Vec<String>,
    pub expires_at_ms: u64,
    pub grant_id: u64,
}

#[derive(Debug, Clone)]
pub(crate) struct CodeRecord {
    pub client_id: String,
    pub redirect_uri: String,
    /// Whether the authorize request named the redirect URI (then the token request must too).
    pub redirect_explicit: bool,
    pub scopes: Vec<String>,
    pub user_id: u64,
    pub expires_at_ms: u64,
    pub code_challenge: Option<String>,
    pub resource: Option<String>,
}

/// An authorization request waiting for Approve/Deny on the consent page.
#[derive(Debug, Clone)]
pub(crate) struct PendingAuthz {
    pub oauth2: bool,
    pub client_id: String,
    pub redirect_uri: String,
    pub redirect_explicit: bool,
    pub scopes: Vec<String>,
    pub state: Option<String>,
    pub code_challenge: Option<String>,
    pub resource: Option<String>,
    pub expires_at_ms: u64,
}

#[derive(Debug, Clone)]
pub(crate) struct Session {
    pub user_id: u64,
    pub protocol_version: String,
    /// Events of SSE response streams by stream number: (sequence, JSON-RPC message).
    pub stream_events: HashMap<u64, Vec<(u64, String)>>,
    /// The client's `capabilities` from `initialize`.
    pub capabilities: serde_json::Value,
    /// Resource URIs subscribed with `resources/subscribe` (bounded).
    pub subscriptions: std::collections::BTreeSet<String>,
}

/// A change the server announces: on `subscriptions/listen` streams (modern) and on legacy
/// `GET` streams.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Change {
    ToolsList,
    PromptsList,
    ResourcesList,
    ResourceUpdated(String),
}

/// An interim MRTR state (`requestState` is the key of a server-side table).
#[derive(Debug, Clone)]
pub(crate) struct InputState {
    pub user_id: u64,
    pub tool: String,
    /// SHA-256 (hex) of the call's arguments as canonical JSON (sorted keys).
    pub args: String,
    pub expires_at_ms: u64,
    pub created: u64,
}

/// Registered client with its kind.
#[derive(Debug, Clone)]
pub(crate) struct Client {
    pub config: ClientConfig,
}

/// Everything mutable behind one lock.
#[derive(Debug)]
pub(crate) struct Store {
    pub clients: HashMap<String, Client>,
    pub codes: HashMap<String, CodeRecord>,
    pub pending: HashMap<String, PendingAuthz>,
    pub tokens: HashMap<String, TokenRecord>,
    pub refresh: HashMap<String, RefreshRecord>,
    /// Used refresh tokens → grant, to detect reuse (which revokes the grant).
    pub used_refresh: HashMap<String, u64>,
    pub sessions: HashMap<String, Session>,
    pub data: Data,
    pub next_grant: u64,
    pub next_stream: u64,
}

impl Store {
    pub fn new() -> Self {
        Store {
            clients: HashMap::new(),
            codes: HashMap::new(),
            pending: HashMap::new(),
            tokens: HashMap::new(),
            refresh: HashMap::new(),
            used_refresh: HashMap::new(),
            sessions: HashMap::new(),
            data: Data::seeded(),
            next_grant: 1,
            next_stream: 1,
        }
    }

    pub fn new_grant(&mut self) -> u64 {
        self.next_grant += 1;
        self.next_grant
    }

    pub fn add_client(&mut self, c: ClientConfig) {
        match self.clients.get_mut(&c.client_id) {
            Some(existing) => {
                for uri in c.redirect_uris {
                    if !existing.config.redirect_uris.contains(&uri) {
                        existing.config.redirect_uris.push(uri);
                    }
                }
                existing.config.client_hash = c.client_hash;
            }
            None => {
                self.clients
                    .insert(c.client_id.clone(), Client { config: c });
            }
        }
    }

    /// Revokes every access and refresh token of a grant.
    pub fn revoke_grant(&mut self, grant_id: u64) {
        self.tokens.retain(|_, t| t.grant_id != grant_id);
        self.refresh.retain(|_, r| r.grant_id != grant_id);
    }

    pub fn personal_token(&mut self, token: String, user: &str, role: Role) {
        let user_id = self.data.user_id_for(user);
        let grant_id = self.new_grant();
        let scopes = match role {
            Role::ReadOnly => vec!["read".to_string()],
            _ => vec!["all".to_string()],
        };
        self.tokens.insert(
            token,
            TokenRecord {
                kind: TokenKind::Personal,
                user_id,
                role,
                scopes,
                expires_at_ms: None,
                grant_id,
            },
        );
    }
}

/// A snapshot of the per-route request counters.
///
/// Keys: the route (`authorize`, `authorize_decision`, `token`, `revoke`, `register`,
/// `resource_metadata`, `auth_server_metadata`, `mcp`, `rest`, `preflight`, `sim`, `other`),
/// MCP methods as `mcp:<method>` in every era (e.g. `mcp:initialize`, `mcp:tools/list`), modern
/// requests also as `mcp:modern:<method>` (and `mcp:discover`), rejections of modern-era
/// rules as `mcp:rejected:<code>` (e.g. `mcp:rejected:-32020`), MRTR rounds as
/// `mcp:input_required` and `mcp:input_completed`, legacy server requests as
/// `mcp:server_request:<method>`, `subscriptions/listen` streams as `mcp:listen:open` and
/// `mcp:listen:closed`, announced changes as `notify:<kind>`, token grants as
/// `token:v1`, `token:authorization_code`, `token:refresh_token` (a refresh token used
/// twice also as `token:refresh_reuse`: the grant is revoked), and injected faults as
/// `fault:<kind>`.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Counters(pub BTreeMap<String, u64>);

impl Counters {
    /// The count for a key (0 when never seen).
    pub fn get(&self, key: &str) -> u64 {
        self.0.get(key).copied().unwrap_or(0)
    }
}

/// State shared by every handler.
#[derive(Debug)]
pub(crate) struct Shared {
    pub base_url: String,
    pub issuer_quirk: AtomicBool,
    pub dcr: AtomicBool,
    pub auto_approve: AtomicBool,
    response_mode: AtomicU8,
    pub login_user: String,
    pub extra_origins: Vec<String>,
    pub log_requests: bool,
    pub store: Arc<Mutex<Store>>,
    pub clock: Arc<SimClock>,
    pub faults: Faults,
    counters: Mutex<BTreeMap<String, u64>>,
    /// Bumped whenever sessions disappear; open GET streams re-check their session.
    pub sessions_epoch: tokio::sync::watch::Sender<u64>,
    era: AtomicU8,
    /// Change announcements (tool list, resource updates, ...).
    pub changes: tokio::sync::broadcast::Sender<Change>,
    /// Open `subscriptions/listen` streams.
    pub listeners: AtomicUsize,
    /// MRTR states by `requestState` (bounded by `MAX_INPUT_STATES`).
    pub input_states: Mutex<HashMap<String, InputState>>,
    /// Legacy server-initiated requests waiting for the client's answer, by request id.
    pub pending_requests:
        Mutex<HashMap<String, (String, tokio::sync::oneshot::Sender<serde_json::Value>)>>,
    pub keepalive: Duration,
    pub listen_max: Duration,
    pub input_timeout: Duration,
    /// Mints ids (MRTR states, server requests).
    pub next_id: std::sync::atomic::AtomicU64,
}

impl Shared {
    pub fn new(config: &SimConfig, base_url: String) -> Self {
        let mut store = Store::new();
        for c in &config.clients {
            store.add_client(c.clone());
        }
        for p in &config.personal_tokens {
            store.personal_token(p.token.clone(), &p.user, p.role);
        }
        let store = Arc::new(Mutex::new(store));
        let clock = Arc::new(SimClock::default());
        let (sessions_epoch, _) = tokio::sync::watch::channel(0);
        let shared = Shared {
            base_url,
            issuer_quirk: AtomicBool::new(config.issuer_quirk),
            dcr: AtomicBool::new(config.dcr),
            auto_approve: AtomicBool::new(config.auto_approve),
            response_mode: AtomicU8::new(0),
            login_user: config.login_user.clone(),
            extra_origins: config.extra_origins.clone(),
            log_requests: config.log_requests,
            faults: Faults::new(store.clone(), clock.clone(), sessions_epoch.clone()),
            store,
            clock,
            counters: Mutex::new(BTreeMap::new()),
            sessions_epoch,
            era: AtomicU8::new(0),
            changes: tokio::sync::broadcast::channel(64).0,
            listeners: AtomicUsize::new(0),
            input_states: Mutex::new(HashMap::new()),
            pending_requests: Mutex::new(HashMap::new()),
            keepalive: config.keepalive.max(Duration::from_millis(10)),
            listen_max: config.listen_max,
            input_timeout: config.input_timeout,
            next_id: std::sync::atomic::AtomicU64::new(1),
        };
        shared.set_era(config.era);
        shared.set_response_mode(config.response_mode);
        if let Some(spec) = &config.faults {
            shared.faults.apply(spec);
        }
        shared
    }

    pub fn response_mode(&self) -> ResponseMode {
        match self.response_mode.load(Ordering::SeqCst) {
            1 => ResponseMode::Sse,
            _ => ResponseMode::Json,
        }
    }

    pub fn set_response_mode(&self, mode: ResponseMode) {
        let v = match mode {
            ResponseMode::Json => 0,
            ResponseMode::Sse => 1,
        };
        self.response_mode.store(v, Ordering::SeqCst);
    }

    pub fn era(&self) -> Era {
        match self.era.load(Ordering::SeqCst) {
            1 => Era::Modern,
            2 => Era::Legacy,
            _ => Era::Dual,
        }
    }

    pub fn set_era(&self, era: Era) {
        let v = match era {
            Era::Dual => 0,
            Era::Modern => 1,
            Era::Legacy => 2,
        };
        self.era.store(v, Ordering::SeqCst);
    }

    /// Announces a change to open listen and GET streams.
    pub fn announce(&self, change: Change) {
        self.count(match &change {
            Change::ToolsList => "notify:tools_list_changed",
            Change::PromptsList => "notify:prompts_list_changed",
            Change::ResourcesList => "notify:resources_list_changed",
            Change::ResourceUpdated(_) => "notify:resource_updated",
        });
        // No receiver is not an error: nobody listens.
        let _ = self.changes.send(change);
    }

    pub fn count(&self, key: &str) {
        *lock(&self.counters).entry(key.to_string()).or_insert(0) += 1;
    }

    pub fn counters(&self) -> Counters {
        Counters(lock(&self.counters).clone())
    }

    pub fn store(&self) -> MutexGuard<'_, Store> {
        lock(&self.store)
    }

    pub fn now_ms(&self) -> u64 {
        self.clock.now_ms()
    }

    pub fn mcp_url(&self) -> String {
        format!("{}/wb/mcp", self.base_url)
    }

    pub fn resource_metadata_url(&self) -> String {
        format!(
            "{}/.well-known/oauth-protected-resource/wb/mcp",
            self.base_url
        )
    }

    /// Signals open GET streams that sessions changed.
    pub fn sessions_changed(&self) {
        self.sessions_epoch.send_modify(|e| *e += 1);
    }
}
