//! Fault injection: knobs settable at runtime (through [`Faults`] or `POST /__sim/faults`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::state::{lock, SimClock, Store};

/// "Fail the next `count` requests" on one route (or every route when `route` is `None`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FailSpec {
    /// How many requests.
    pub count: u32,
    /// HTTP status to answer (default 503).
    #[serde(default = "default_status")]
    pub status: u16,
    /// Route key (see [`crate::Counters`]), e.g. `mcp`, `token`; `None` = any route.
    #[serde(default)]
    pub route: Option<String>,
}

/// "Answer the next `count` requests with 429 and `Retry-After`".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitSpec {
    /// How many requests.
    pub count: u32,
    /// Value of the `Retry-After` header, in seconds.
    #[serde(default = "default_retry_after")]
    pub retry_after_secs: u64,
    /// Route key; `None` = any route.
    #[serde(default)]
    pub route: Option<String>,
}

/// "Close the connection of the next `count` requests without any response".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DropSpec {
    /// How many requests.
    pub count: u32,
    /// Route key; `None` = any route.
    #[serde(default)]
    pub route: Option<String>,
}

fn default_status() -> u16 {
    503
}

fn default_retry_after() -> u64 {
    1
}

/// A fault specification, as JSON for `--faults` and `POST /__sim/faults`. Every field is
/// optional; fields present are applied in this order: `clear`, `latency_ms`, `fail_next`,
/// `rate_limit_next`, `drop_next`, `truncate_sse_next`, `expire_sessions`, `expire_tokens`,
/// `revoke_tokens`. Unknown fields are rejected.
///
/// ```json
/// {"latency_ms": 20, "fail_next": {"count": 2, "status": 503, "route": "mcp"},
///  "rate_limit_next": {"count": 1, "retry_after_secs": 2, "route": "token"},
///  "drop_next": {"count": 1}, "truncate_sse_next": 1,
///  "expire_sessions": true, "expire_tokens": true, "revoke_tokens": false}
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    /// Remove every armed fault and set latency to 0 first.
    #[serde(default)]
    pub clear: bool,
    /// Delay before every response (control routes excepted), in milliseconds.
    #[serde(default)]
    pub latency_ms: Option<u64>,
    /// Fail the next requests with a 5xx status.
    #[serde(default)]
    pub fail_next: Option<FailSpec>,
    /// Answer the next requests with 429 + `Retry-After`.
    #[serde(default)]
    pub rate_limit_next: Option<RateLimitSpec>,
    /// Drop the connection of the next requests.
    #[serde(default)]
    pub drop_next: Option<DropSpec>,
    /// Cut the next N SSE responses of `POST /wb/mcp` in the middle of the response event.
    #[serde(default)]
    pub truncate_sse_next: Option<u32>,
    /// Forget every MCP session now (the next request with an old session id gets 404).
    #[serde(default)]
    pub expire_sessions: bool,
    /// Make every access token expired now (refresh tokens stay valid).
    #[serde(default)]
    pub expire_tokens: bool,
    /// Revoke every access and refresh token now (personal tokens included).
    #[serde(default)]
    pub revoke_tokens: bool,
}

impl FaultSpec {
    /// Parses the JSON form.
    pub fn from_json(s: &str) -> Result<Self, String> {
        serde_json::from_str(s).map_err(|e| format!("invalid fault spec: {e}"))
    }
}

/// What the fault layer decided for one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Injected {
    Status(u16),
    RateLimit(u64),
    /// Close the connection without a response, after holding the request this many ms.
    Drop(u64),
}

#[derive(Debug, Clone)]
enum RuleKind {
    Status(u16),
    RateLimit(u64),
    Drop(u64),
}

#[derive(Debug, Clone)]
struct Rule {
    route: Option<String>,
    remaining: u32,
    kind: RuleKind,
}

/// Thread-safe fault knobs of a running simulator (see [`crate::SimHandle::faults`]).
#[derive(Debug)]
pub struct Faults {
    latency_ms: AtomicU64,
    rules: Mutex<Vec<Rule>>,
    truncate_sse: Mutex<u32>,
    store: Arc<Mutex<Store>>,
    clock: Arc<SimClock>,
    sessions_epoch: tokio::sync::watch::Sender<u64>,
}

impl Faults {
    pub(crate) fn new(
        store: Arc<Mutex<Store>>,
        clock: Arc<SimClock>,
        sessions_epoch: tokio::sync::watch::Sender<u64>,
    ) -> Self {
        Faults {
            latency_ms: AtomicU64::new(0),
            rules: Mutex::new(Vec::new()),
            truncate_sse: Mutex::new(0),
            store,
            clock,
            sessions_epoch,
        }
    }

    /// Delay every response (control routes excepted) by this much.
    pub fn set_latency(&self, latency: Duration) {
        let ms = u64::try_from(latency.as_millis()).unwrap_or(u64::MAX);
        self.latency_ms.store(ms, Ordering::SeqCst);
    }

    /// The configured latency.
    pub fn latency(&self) -> Duration {
        Duration::from_millis(self.latency_ms.load(Ordering::SeqCst))
    }

    /// Answer the next `count` requests to `route` (or any route) with `status`.
    pub fn fail_next(&self, route: Option<&str>, count: u32, status: u16) {
        self.push(route, count, RuleKind::Status(status));
    }

    /// Answer the next `count` requests to `route` (or any route) with 429 and
    /// `Retry-After: retry_after_secs`.
    pub fn rate_limit_next(&self, route: Option<&str>, count: u32, retry_after_secs: u64) {
        self.push(route, count, RuleKind::RateLimit(retry_after_secs));
    }

    /// Close the connection of the next `count` requests to `route` (or any route) without
    /// writing a response.
    pub fn drop_next(&self, route: Option<&str>, count: u32) {
        self.push(route, count, RuleKind::Drop(0));
    }

    /// Hold the next `count` requests to `route` (or any route) for `hold`, then close their
    /// connections without processing them: a request in flight when its sender died (a
    /// token request of a process killed mid-refresh never reaches the grant logic, so its
    /// refresh token is not rotated).
    pub fn stall_next(&self, route: Option<&str>, count: u32, hold: Duration) {
        let ms = u64::try_from(hold.as_millis()).unwrap_or(u64::MAX);
        self.push(route, count, RuleKind::Drop(ms));
    }

    /// Cut the next `count` SSE responses of `POST /wb/mcp` in the middle of the response
    /// event (the priming event is sent; the event can be replayed with `GET` +
    /// `Last-Event-ID`).
    pub fn truncate_sse_next(&self, count: u32) {
        *lock(&self.truncate_sse) += count;
    }

    /// Forget every MCP session: the next request with an old `Mcp-Session-Id` gets 404.
    pub fn expire_sessions(&self) {
        lock(&self.store).sessions.clear();
        self.sessions_epoch.send_modify(|e| *e += 1);
    }

    /// Make every access token (personal ones included) expired now; refresh tokens stay
    /// valid, so a refresh recovers.
    pub fn expire_tokens(&self) {
        let now = self.clock.now_ms();
        for t in lock(&self.store).tokens.values_mut() {
            t.expires_at_ms = Some(now);
        }
    }

    /// Revoke every access and refresh token (personal ones included).
    pub fn revoke_tokens(&self) {
        let mut store = lock(&self.store);
        store.tokens.clear();
        store.refresh.clear();
    }

    /// Make one access token expired now; returns whether the token was known.
    pub fn expire_token(&self, token: &str) -> bool {
        let now = self.clock.now_ms();
        match lock(&self.store).tokens.get_mut(token) {
            Some(t) => {
                t.expires_at_ms = Some(now);
                true
            }
            None => false,
        }
    }

    /// Revoke one access or refresh token and everything issued with it (its grant); returns
    /// whether the token was known.
    pub fn revoke_token(&self, token: &str) -> bool {
        let mut store = lock(&self.store);
        let grant = store
            .tokens
            .get(token)
            .map(|t| t.grant_id)
            .or_else(|| store.refresh.get(token).map(|r| r.grant_id));
        match grant {
            Some(g) => {
                store.revoke_grant(g);
                true
            }
            None => false,
        }
    }

    /// Remove every armed fault and the latency.
    pub fn clear(&self) {
        self.latency_ms.store(0, Ordering::SeqCst);
        lock(&self.rules).clear();
        *lock(&self.truncate_sse) = 0;
    }

    /// Applies a [`FaultSpec`].
    pub fn apply(&self, spec: &FaultSpec) {
        if spec.clear {
            self.clear();
        }
        if let Some(ms) = spec.latency_ms {
            self.set_latency(Duration::from_millis(ms));
        }
        if let Some(f) = &spec.fail_next {
            self.fail_next(f.route.as_deref(), f.count, f.status);
        }
        if let Some(r) = &spec.rate_limit_next {
            self.rate_limit_next(r.route.as_deref(), r.count, r.retry_after_secs);
        }
        if let Some(d) = &spec.drop_next {
            self.drop_next(d.route.as_deref(), d.count);
        }
        if let Some(n) = spec.truncate_sse_next {
            self.truncate_sse_next(n);
        }
        if spec.expire_sessions {
            self.expire_sessions();
        }
        if spec.expire_tokens {
            self.expire_tokens();
        }
        if spec.revoke_tokens {
            self.revoke_tokens();
        }
    }

    /// Parses and applies the JSON form of a [`FaultSpec`].
    pub fn apply_json(&self, json: &str) -> Result<(), String> {
        let spec = FaultSpec::from_json(json)?;
        self.apply(&spec);
        Ok(())
    }

    fn push(&self, route: Option<&str>, count: u32, kind: RuleKind) {
        if count == 0 {
            return;
        }
        lock(&self.rules).push(Rule {
            route: route.map(str::to_string),
            remaining: count,
            kind,
        });
    }

    /// Consumes the first armed rule matching `route`.
    pub(crate) fn take(&self, route: &str) -> Option<Injected> {
        let mut rules = lock(&self.rules);
        let idx = rules
            .iter()
            .position(|r| r.remaining > 0 && r.route.as_deref().is_none_or(|x| x == route))?;
        let rule = &mut rules[idx];
        rule.remaining -= 1;
        let out = match rule.kind {
            RuleKind::Status(s) => Injected::Status(s),
            RuleKind::RateLimit(s) => Injected::RateLimit(s),
            RuleKind::Drop(ms) => Injected::Drop(ms),
        };
        if rule.remaining == 0 {
            rules.remove(idx);
        }
        Some(out)
    }

    /// Consumes one armed SSE truncation.
    pub(crate) fn take_truncate(&self) -> bool {
        let mut n = lock(&self.truncate_sse);
        if *n == 0 {
            return false;
        }
        *n -= 1;
        true
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn spec_rejects_unknown_fields_and_bad_json() {
        assert!(FaultSpec::from_json(r#"{"fail_nxt": {"count": 1}}"#).is_err());
        assert!(FaultSpec::from_json("{").is_err());
        let s = FaultSpec::from_json(r#"{"fail_next": {"count": 2}, "latency_ms": 5}"#).unwrap();
        assert_eq!(s.fail_next.as_ref().map(|f| f.status), Some(503));
        assert_eq!(s.latency_ms, Some(5));
    }

    #[test]
    fn rules_are_consumed_per_route() {
        let store = Arc::new(Mutex::new(Store::new()));
        let (tx, _) = tokio::sync::watch::channel(0);
        let f = Faults::new(store, Arc::new(SimClock::default()), tx);
        f.fail_next(Some("mcp"), 2, 502);
        assert_eq!(f.take("token"), None);
        assert_eq!(f.take("mcp"), Some(Injected::Status(502)));
        assert_eq!(f.take("mcp"), Some(Injected::Status(502)));
        assert_eq!(f.take("mcp"), None);
        f.rate_limit_next(None, 1, 7);
        assert_eq!(f.take("rest"), Some(Injected::RateLimit(7)));
        assert_eq!(f.take("rest"), None);
        f.drop_next(Some("mcp"), 1);
        f.stall_next(Some("token"), 1, Duration::from_millis(1_500));
        assert_eq!(f.take("token"), Some(Injected::Drop(1_500)));
        assert_eq!(f.take("mcp"), Some(Injected::Drop(0)));
        assert_eq!(f.take("token"), None);
    }
}
