//! Credentials: a personal token or an OAuth token set, with expiry against the injected clock.

use serde::{Deserialize, Serialize};

use crate::env::Environment;
use crate::error::Error;
use crate::oauth::flow::AuthContext;
use crate::oauth::metadata::{canonical_resource, resource_matches};
use crate::secret::SecretString;

/// One year in milliseconds: the documented lifetime of WorkBoard v1 access tokens.
pub const V1_TOKEN_LIFETIME_MS: u64 = 365 * 24 * 60 * 60 * 1000;

/// Refresh this long before expiry (clock skew and request latency).
pub const REFRESH_MARGIN_MS: u64 = 60 * 1000;

/// Which flow produced a token set (decides how it is refreshed and revoked).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dialect {
    /// WorkBoard OAuth v1 (`client_hash`, `success` envelopes, one-year tokens).
    WorkboardV1,
    /// Standard OAuth 2.1 as used by MCP authorization.
    OAuth2,
}

/// Credentials the connection attaches to requests.
///
/// `Debug` never shows token values. Serde round-trips (credential stores need the values).
///
/// # Binding
///
/// Credentials are bound to the server they were issued or set for (`bound_to`: a canonical
/// resource URI, RFC 8707 form: scheme, host, port and path, no query). They are only ever
/// sent to that server (or a path below it): [`bind_for_server`] — used by
/// [`crate::connection::Connection::new`], [`crate::connection::Connection::set_credentials`] and every adapter —
/// refuses them anywhere else with [`Error::CredentialsNotForServer`].
///
/// - OAuth 2.1 tokens are bound to their [`AuthContext`]'s `resource` when issued.
/// - WorkBoard v1 tokens from [`crate::oauth::v1::V1SignIn`] are bound to their environment.
/// - A personal token made with [`Credentials::personal`] is unbound until it is paired with
///   a server: an application that hands unbound credentials to a connection chose that
///   server explicitly, so they are bound to it there (and stay bound: what the connection
///   reports and persists carries the binding).
/// - Unbound credentials read from storage (written before bindings existed) mean what
///   [`Credentials::or_bound_to_environment`] says: bound to the WorkBoard environment they
///   were stored for (or to the stored OAuth context's resource), never to whatever server a
///   later run names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Credentials {
    /// A personal ("instant") token from WorkBoard's App tab. Scoped to MCP only; no refresh.
    Personal {
        /// The token.
        token: SecretString,
        /// The server it was set for (canonical resource URI); `None`: not yet paired.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        bound_to: Option<String>,
    },
    /// Tokens from an OAuth flow.
    #[serde(rename = "oauth")]
    OAuth(TokenSet),
}

/// Read as written (`{"kind": "personal", "token", "bound_to"?}` or `{"kind": "oauth", ...the
/// token set}`), by hand rather than by serde's `tag` (see `json::variant_of`).
impl<'de> Deserialize<'de> for Credentials {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        /// The fields of a personal token.
        #[derive(Deserialize)]
        struct Personal {
            token: SecretString,
            #[serde(default)]
            bound_to: Option<String>,
        }
        let value = serde_json::Value::deserialize(d)?;
        let read = |e: serde_json::Error| D::Error::custom(e);
        match crate::json::variant_of(&value, "kind", "internally tagged enum Credentials")? {
            "personal" => {
                let p: Personal = crate::json::from_value(value).map_err(read)?;
                Ok(Credentials::Personal {
                    token: p.token,
                    bound_to: p.bound_to,
                })
            }
            "oauth" => crate::json::from_value(value)
                .map(Credentials::OAuth)
                .map_err(read),
            other => Err(D::Error::unknown_variant(other, &["personal", "oauth"])),
        }
    }
}

/// An OAuth token set.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TokenSet {
    /// Access token.
    pub access_token: SecretString,
    /// Refresh token, if the server issued one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<SecretString>,
    /// Token type as issued (compared case-insensitively; always bearer).
    pub token_type: String,
    /// Granted scope as the server wrote it (comma list for v1, space list for OAuth 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// When the token was issued (unix ms, injected clock).
    pub issued_at_ms: u64,
    /// When the access token expires (unix ms), if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at_ms: Option<u64>,
    /// Which flow issued it.
    pub dialect: Dialect,
    /// The server it was issued for (canonical resource URI); `None`: legacy or not yet
    /// paired (see [`Credentials`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bound_to: Option<String>,
}

/// Read by hand (`json::object`), as the `Serialize` derive above writes it.
impl<'de> Deserialize<'de> for TokenSet {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        crate::json::object(d, "struct TokenSet", |f| {
            Ok(TokenSet {
                access_token: f.req("access_token")?,
                refresh_token: f.opt("refresh_token")?,
                token_type: f.req("token_type")?,
                scope: f.opt("scope")?,
                issued_at_ms: f.req("issued_at_ms")?,
                expires_at_ms: f.opt("expires_at_ms")?,
                dialect: f.req("dialect")?,
                bound_to: f.opt("bound_to")?,
            })
        })
    }
}

impl Credentials {
    /// A personal token (trimmed; a leading `Bearer ` is removed).
    pub fn personal(token: impl Into<String>) -> Credentials {
        let raw: String = token.into();
        let t = raw.trim();
        let t = strip_bearer(t);
        Credentials::Personal {
            token: SecretString::new(t),
            bound_to: None,
        }
    }

    /// The server these credentials are bound to (canonical resource URI), if any.
    pub fn bound_to(&self) -> Option<&str> {
        match self {
            Credentials::Personal { bound_to, .. } => bound_to.as_deref(),
            Credentials::OAuth(set) => set.bound_to.as_deref(),
        }
    }

    fn binding_mut(&mut self) -> &mut Option<String> {
        match self {
            Credentials::Personal { bound_to, .. } => bound_to,
            Credentials::OAuth(set) => &mut set.bound_to,
        }
    }

    /// Binds the credentials to `server_url` (replacing any binding): use it where a token
    /// is set for a server (e.g. a personal token the user pasted for that server).
    pub fn bind_to(mut self, server_url: &str) -> Result<Credentials, Error> {
        *self.binding_mut() = Some(binding_of(server_url)?);
        Ok(self)
    }

    /// Whether these credentials may be sent to `server_url`: `Ok` when bound to it (or to a
    /// resource it lies under) or unbound, else [`Error::CredentialsNotForServer`].
    pub fn check_server(&self, server_url: &str) -> Result<(), Error> {
        match self.bound_to() {
            None => Ok(()),
            Some(bound) => check_bound(bound, server_url),
        }
    }

    /// Whether these credentials may be sent to another API of the deployment they belong to
    /// (WorkBoard's REST API, v1 revocation at `url`): `Ok` when unbound or bound to a server
    /// on `url`'s origin, else [`Error::CredentialsNotForServer`].
    pub fn check_origin(&self, url: &str) -> Result<(), Error> {
        let Some(bound) = self.bound_to() else {
            return Ok(());
        };
        let same = match (url::Url::parse(bound), url::Url::parse(url.trim())) {
            (Ok(b), Ok(u)) => b.origin() == u.origin(),
            _ => false,
        };
        if same {
            Ok(())
        } else {
            Err(Error::credentials_not_for_server(bound, url))
        }
    }

    /// What unbound credentials read from storage mean: bound to the stored OAuth context's
    /// `resource` (OAuth 2.1 tokens with a context), else to the WorkBoard environment the
    /// store belongs to (personal and v1 tokens: WorkBoard issued them). Bound credentials are
    /// returned as they are. Stores apply this to what they load, so a legacy file keeps
    /// working for its environment and is never sent to another server.
    pub fn or_bound_to_environment(
        mut self,
        environment: &Environment,
        auth: Option<&AuthContext>,
    ) -> Credentials {
        if self.bound_to().is_some() {
            return self;
        }
        let oauth2 = matches!(&self, Credentials::OAuth(s) if s.dialect == Dialect::OAuth2);
        let target = match auth {
            Some(a) if oauth2 => binding_of(&a.resource).ok(),
            _ => None,
        }
        .or_else(|| binding_of(environment.base_url()).ok());
        *self.binding_mut() = target;
        self
    }

    /// The access token.
    pub fn access_token(&self) -> &SecretString {
        match self {
            Credentials::Personal { token, .. } => token,
            Credentials::OAuth(set) => &set.access_token,
        }
    }

    /// The `Authorization` header value: `Bearer <token>`.
    pub fn authorization_header(&self) -> SecretString {
        SecretString::new(format!("Bearer {}", self.access_token().expose()))
    }

    /// Whether a refresh token is present.
    pub fn can_refresh(&self) -> bool {
        matches!(
            self,
            Credentials::OAuth(TokenSet {
                refresh_token: Some(_),
                ..
            })
        )
    }

    /// Expiry time (unix ms), if known.
    pub fn expires_at_ms(&self) -> Option<u64> {
        match self {
            Credentials::Personal { .. } => None,
            Credentials::OAuth(set) => set.expires_at_ms,
        }
    }

    /// Expired at `now_ms`.
    pub fn is_expired(&self, now_ms: u64) -> bool {
        self.expires_at_ms().is_some_and(|e| now_ms >= e)
    }

    /// Should be refreshed before use at `now_ms` and can be: expired, or within
    /// [`REFRESH_MARGIN_MS`] of expiry — or within half its lifetime of expiry when it was
    /// issued for less than twice the margin, so a short-lived token is not refreshed again
    /// the moment it arrives.
    pub fn should_refresh(&self, now_ms: u64) -> bool {
        let Credentials::OAuth(set) = self else {
            return false;
        };
        let Some(expires) = set.expires_at_ms else {
            return false;
        };
        let lifetime = expires.saturating_sub(set.issued_at_ms);
        let margin = REFRESH_MARGIN_MS.min(lifetime / 2);
        self.can_refresh() && now_ms.saturating_add(margin) >= expires
    }

    /// Granted scope, if known.
    pub fn scope(&self) -> Option<&str> {
        match self {
            Credentials::Personal { .. } => None,
            Credentials::OAuth(set) => set.scope.as_deref(),
        }
    }

    /// Serializes to JSON for a credential store (contains secrets: store it safely).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Parses what [`Credentials::to_json`] wrote.
    pub fn from_json(json: &str) -> Result<Credentials, crate::Error> {
        crate::json::from_bytes(json.as_bytes()).map_err(|e| crate::Error::InvalidInput {
            what: "stored credentials".into(),
            reason: format!("not valid credentials JSON ({})", e.classify_name()),
        })
    }
}

/// The binding form of a server URL: canonical resource URI (lower-case scheme and host,
/// explicit non-default port, path without trailing `/`), without user info, query or
/// fragment (a binding never holds a secret).
pub(crate) fn binding_of(server_url: &str) -> Result<String, Error> {
    let mut u = url::Url::parse(server_url.trim()).map_err(|e| Error::InvalidUrl {
        what: "server URL".into(),
        reason: e.to_string(),
    })?;
    let _ = u.set_username("");
    let _ = u.set_password(None);
    u.set_query(None);
    u.set_fragment(None);
    Ok(canonical_resource(&u))
}

/// `Ok` when `server_url` is the bound resource or lies under it (same origin, path equal or
/// below at a `/` boundary; query ignored), else [`Error::CredentialsNotForServer`].
fn check_bound(bound: &str, server_url: &str) -> Result<(), Error> {
    let refused = || Error::credentials_not_for_server(bound, server_url);
    let mut server = url::Url::parse(server_url.trim()).map_err(|_| refused())?;
    server.set_query(None);
    server.set_fragment(None);
    if resource_matches(&server, bound) {
        Ok(())
    } else {
        Err(refused())
    }
}

/// Checks credentials and an OAuth context against the MCP server `server_url` and returns
/// the credentials bound to it — the one rule every platform applies before a credential
/// is attached to a request (see [`Credentials`] for what a binding is).
///
/// - An `auth` context whose `resource` does not cover `server_url` is refused: its
///   refresh token must never be used for another server's connection.
/// - Bound credentials must be bound to `server_url` (or a resource it lies under).
/// - Unbound credentials are bound here: to `auth`'s resource for OAuth 2.1 tokens with a
///   context, else to `server_url` (the application paired them explicitly).
///
/// Refusals are [`Error::CredentialsNotForServer`]; a bad URL is [`Error::InvalidUrl`].
pub fn bind_for_server(
    server_url: &str,
    credentials: Option<Credentials>,
    auth: Option<&AuthContext>,
) -> Result<Option<Credentials>, Error> {
    let server = url::Url::parse(server_url.trim()).map_err(|e| Error::InvalidUrl {
        what: "MCP server URL".into(),
        reason: e.to_string(),
    })?;
    if let Some(a) = auth {
        if !resource_matches(&server, &a.resource) {
            return Err(Error::credentials_not_for_server(&a.resource, server_url));
        }
    }
    let Some(mut creds) = credentials else {
        return Ok(None);
    };
    match creds.bound_to() {
        Some(bound) => check_bound(bound, server_url)?,
        None => {
            let oauth2 = matches!(&creds, Credentials::OAuth(s) if s.dialect == Dialect::OAuth2);
            let target = match auth {
                Some(a) if oauth2 => binding_of(&a.resource)?,
                _ => binding_of(server_url)?,
            };
            *creds.binding_mut() = Some(target);
        }
    }
    Ok(Some(creds))
}

/// Removes a leading `Bearer ` (any case) that users paste along with a token.
pub(crate) fn strip_bearer(t: &str) -> &str {
    // `get`, not indexing: byte 7 may fall inside a multi-byte character.
    match (t.get(..7), t.get(7..)) {
        (Some(p), Some(rest)) if !rest.is_empty() && p.eq_ignore_ascii_case("bearer ") => {
            rest.trim_start()
        }
        _ => t,
    }
}

trait ClassifyName {
    fn classify_name(&self) -> &'static str;
}

impl ClassifyName for serde_json::Error {
    fn classify_name(&self) -> &'static str {
        match self.classify() {
            serde_json::error::Category::Io => "I/O",
            serde_json::error::Category::Syntax => "syntax error",
            serde_json::error::Category::Data => "wrong shape",
            serde_json::error::Category::Eof => "truncated",
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn personal_token_roundtrip_and_redaction() {
        let c = Credentials::personal("  Bearer tok123  ");
        assert_eq!(c.access_token().expose(), "tok123");
        assert_eq!(c.authorization_header().expose(), "Bearer tok123");
        assert!(!format!("{c:?}").contains("tok123"));
        let back = Credentials::from_json(&c.to_json()).unwrap();
        assert_eq!(back, c);
    }

    #[test]
    fn expiry_and_refresh() {
        let c = Credentials::OAuth(TokenSet {
            access_token: "a".into(),
            refresh_token: Some("r".into()),
            token_type: "bearer".into(),
            scope: Some("all".into()),
            issued_at_ms: 0,
            expires_at_ms: Some(100_000),
            dialect: Dialect::OAuth2,
            bound_to: None,
        });
        assert!(!c.should_refresh(0));
        // A 100 s token: refreshed in the second half of its life (the margin is 60 s for
        // tokens that live two minutes or more).
        assert!(!c.should_refresh(49_999));
        assert!(c.should_refresh(50_000));
        // A 1-second token is not refreshed again as soon as it is issued.
        let short = Credentials::OAuth(TokenSet {
            access_token: "a".into(),
            refresh_token: Some("r".into()),
            token_type: "bearer".into(),
            scope: None,
            issued_at_ms: 5_000,
            expires_at_ms: Some(6_000),
            dialect: Dialect::OAuth2,
            bound_to: None,
        });
        assert!(!short.should_refresh(5_000));
        assert!(!short.should_refresh(5_499));
        assert!(short.should_refresh(5_500));
        // Extreme values never overflow.
        assert!(c.should_refresh(u64::MAX));
        assert!(c.is_expired(100_000));
        assert!(Credentials::from_json("{\"kind\":").is_err());
    }

    #[test]
    fn bearer_prefix_is_removed_and_other_text_never_splits_a_character() {
        assert_eq!(strip_bearer("Bearer tok"), "tok");
        assert_eq!(strip_bearer("bEaReR    tok"), "tok");
        assert_eq!(strip_bearer("Bearer "), "Bearer ");
        assert_eq!(strip_bearer("tok"), "tok");
        // Byte 7 falls inside a multi-byte character: kept as it is, no panic.
        for t in [
            "a\u{FFFD}b\u{FFFD}c",
            "ééééé",
            "Beare\u{e9}x",
            "\u{1F600}\u{1F600}x",
        ] {
            assert_eq!(strip_bearer(t), t);
            assert_eq!(Credentials::personal(t).access_token().expose(), t);
        }
        assert_eq!(strip_bearer("Bearer \u{e9}t\u{e9}"), "\u{e9}t\u{e9}");
    }
}
