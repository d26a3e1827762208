//! The implementation behind [`crate::oauth::metadata`] (its docs say what it does). Items
//! not re-exported there are internal.

use serde::{Deserialize, Serialize};
use url::Url;

use crate::env::{check_secure_url, Environment, EU_BASE, US_BASE};
use crate::error::Error;
use crate::urlpolicy::check_reachable_from;

/// Metadata documents larger than this are refused.
pub const MAX_METADATA_BYTES: usize = 256 * 1024;

/// RFC 9728 protected resource metadata (fields this SDK reads; others are ignored).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ProtectedResourceMetadata {
    /// The protected resource's identifier.
    pub resource: String,
    /// Authorization server issuer URLs.
    #[serde(default)]
    pub authorization_servers: Option<Vec<String>>,
    /// Scopes the resource understands.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scopes_supported: Option<Vec<String>>,
    /// How bearer tokens may be sent (`header`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bearer_methods_supported: Option<Vec<String>>,
    /// Human-readable name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_name: Option<String>,
}

impl ProtectedResourceMetadata {
    /// Parses a metadata document.
    pub fn parse(body: &[u8]) -> Result<ProtectedResourceMetadata, Error> {
        parse_json(body, "protected resource metadata")
    }

    /// Checks that this document describes `server_url` and names a usable authorization
    /// server; returns the first authorization server's URL.
    pub fn validate(&self, server_url: &Url) -> Result<Url, Error> {
        if !resource_matches(server_url, &self.resource) {
            return Err(Error::ResourceMismatch {
                expected: server_url.to_string(),
                actual: short(&self.resource),
            });
        }
        let first = self
            .authorization_servers
            .as_ref()
            .and_then(|v| v.first())
            .ok_or_else(|| Error::Discovery {
                reason: "protected resource metadata lists no authorization_servers".into(),
            })?;
        let url = parse_url(first, "authorization server URL")?;
        check_endpoint(&url, "authorization server URL")?;
        check_reachable_from(&url, server_url, "authorization server URL")?;
        Ok(url)
    }
}

/// RFC 8414 / OpenID Connect provider metadata (fields this SDK reads; others are ignored).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Default)]
pub struct AuthorizationServerMetadata {
    /// Issuer identifier.
    pub issuer: String,
    /// Authorization endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_endpoint: Option<String>,
    /// Token endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_endpoint: Option<String>,
    /// RFC 7591 registration endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration_endpoint: Option<String>,
    /// RFC 7009 revocation endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revocation_endpoint: Option<String>,
    /// Scopes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scopes_supported: Option<Vec<String>>,
    /// Response types.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_types_supported: Option<Vec<String>>,
    /// Grant types (default per RFC 8414: authorization_code, implicit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant_types_supported: Option<Vec<String>>,
    /// Token endpoint client authentication methods (default: client_secret_basic).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_endpoint_auth_methods_supported: Option<Vec<String>>,
    /// Revocation endpoint client authentication methods.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revocation_endpoint_auth_methods_supported: Option<Vec<String>>,
    /// PKCE methods. Absent means no PKCE: MCP clients must refuse.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_challenge_methods_supported: Option<Vec<String>>,
    /// Client ID metadata documents supported (MCP 2025-11-25).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id_metadata_document_supported: Option<bool>,
    /// RFC 9207: the authorization response carries `iss`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_response_iss_parameter_supported: Option<bool>,
}

// Read by hand (`json::object`: serde's derive would compile a visitor per type), as the
// `Serialize` derives above write them (`tests/json_readers.rs`).

impl<'de> Deserialize<'de> for ProtectedResourceMetadata {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        crate::json::object(d, "struct ProtectedResourceMetadata", |f| {
            Ok(ProtectedResourceMetadata {
                resource: f.req("resource")?,
                authorization_servers: f.opt("authorization_servers")?,
                scopes_supported: f.opt("scopes_supported")?,
                bearer_methods_supported: f.opt("bearer_methods_supported")?,
                resource_name: f.opt("resource_name")?,
            })
        })
    }
}

impl<'de> Deserialize<'de> for AuthorizationServerMetadata {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        crate::json::object(d, "struct AuthorizationServerMetadata", |f| {
            Ok(AuthorizationServerMetadata {
                issuer: f.req("issuer")?,
                authorization_endpoint: f.opt("authorization_endpoint")?,
                token_endpoint: f.opt("token_endpoint")?,
                registration_endpoint: f.opt("registration_endpoint")?,
                revocation_endpoint: f.opt("revocation_endpoint")?,
                scopes_supported: f.opt("scopes_supported")?,
                response_types_supported: f.opt("response_types_supported")?,
                grant_types_supported: f.opt("grant_types_supported")?,
                token_endpoint_auth_methods_supported: f
                    .opt("token_endpoint_auth_methods_supported")?,
                revocation_endpoint_auth_methods_supported: f
                    .opt("revocation_endpoint_auth_methods_supported")?,
                code_challenge_methods_supported: f.opt("code_challenge_methods_supported")?,
                client_id_metadata_document_supported: f
                    .opt("client_id_metadata_document_supported")?,
                authorization_response_iss_parameter_supported: f
                    .opt("authorization_response_iss_parameter_supported")?,
            })
        })
    }
}

/// A known, named deviation from RFC 8414 that this SDK tolerates on specific hosts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum KnownIssuerQuirk {
    /// WorkBoard (observed 2026-09): the authorization server is `https://<host>/wb/oauth`,
    /// its metadata is at `/.well-known/oauth-authorization-server/wb/oauth`, but the metadata
    /// says `issuer` = `https://<host>/wb` — the AS URL without its trailing `/oauth` segment.
    /// Accepted only on WorkBoard hosts (see [`IssuerPolicy`]) and only in exactly this form.
    WorkboardWbIssuer,
}

impl KnownIssuerQuirk {
    /// Stable name for logs and diagnostics.
    pub fn name(&self) -> &'static str {
        match self {
            KnownIssuerQuirk::WorkboardWbIssuer => "workboard_wb_issuer",
        }
    }
}

/// Which hosts may use [`KnownIssuerQuirk::WorkboardWbIssuer`].
///
/// The default allows WorkBoard's US and EU hosts only. A simulator or private deployment is
/// added by registering its [`Environment::Custom`] with [`IssuerPolicy::with_environment`];
/// nothing else relaxes the issuer check.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuerPolicy {
    workboard_origins: Vec<String>,
}

impl Default for IssuerPolicy {
    fn default() -> Self {
        IssuerPolicy {
            workboard_origins: vec![origin_of(US_BASE), origin_of(EU_BASE)],
        }
    }
}

impl IssuerPolicy {
    /// No allowance at all (strict RFC 8414 everywhere).
    pub fn strict() -> IssuerPolicy {
        IssuerPolicy {
            workboard_origins: Vec::new(),
        }
    }

    /// Also treats `env`'s host as a WorkBoard host (for `Custom` base URLs).
    pub fn with_environment(mut self, env: &Environment) -> IssuerPolicy {
        let o = origin_of(env.base_url());
        if !o.is_empty() && !self.workboard_origins.contains(&o) {
            self.workboard_origins.push(o);
        }
        self
    }

    /// The registered WorkBoard origins (`https://www.myworkboard.com`, ...).
    pub fn workboard_origins(&self) -> &[String] {
        &self.workboard_origins
    }

    /// Whether `url` is on a registered WorkBoard host.
    pub fn is_workboard_host(&self, url: &Url) -> bool {
        let o = url.origin().ascii_serialization();
        self.workboard_origins.contains(&o)
    }

    /// Checks `actual` against the issuer we derived the metadata URL from. Returns the
    /// allowance used, if any.
    pub fn check_issuer(
        &self,
        expected: &Url,
        actual: &str,
    ) -> Result<Option<KnownIssuerQuirk>, Error> {
        let exp = normalized(expected.as_str());
        let act = Url::parse(actual)
            .map(|u| normalized(u.as_str()))
            .unwrap_or_default();
        if !act.is_empty() && act == exp {
            return Ok(None);
        }
        if self.is_workboard_host(expected) {
            // Exactly the AS URL minus its final `/oauth` segment, character for character.
            if let Some(stripped) = exp.strip_suffix("/oauth") {
                if actual == stripped
                    && stripped.len() > expected.origin().ascii_serialization().len()
                {
                    return Ok(Some(KnownIssuerQuirk::WorkboardWbIssuer));
                }
            }
        }
        Err(Error::IssuerMismatch {
            expected: exp,
            actual: short(actual),
        })
    }
}

/// The authorization server metadata after validation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidatedServer {
    /// The metadata.
    pub metadata: AuthorizationServerMetadata,
    /// The allowance that made the issuer acceptable, if any.
    pub allowance: Option<KnownIssuerQuirk>,
}

impl AuthorizationServerMetadata {
    /// Parses a metadata document.
    pub fn parse(body: &[u8]) -> Result<AuthorizationServerMetadata, Error> {
        parse_json(body, "authorization server metadata")
    }

    /// Validates issuer (against `as_url`, the URL the metadata URL was derived from),
    /// endpoints and PKCE support.
    pub fn validate(self, as_url: &Url, policy: &IssuerPolicy) -> Result<ValidatedServer, Error> {
        let allowance = policy.check_issuer(as_url, &self.issuer)?;
        let issuer = parse_url(&self.issuer, "issuer")?;
        check_endpoint(&issuer, "issuer")?;
        for (name, value) in [
            ("authorization_endpoint", &self.authorization_endpoint),
            ("token_endpoint", &self.token_endpoint),
            ("registration_endpoint", &self.registration_endpoint),
            ("revocation_endpoint", &self.revocation_endpoint),
        ] {
            if let Some(v) = value {
                let url = parse_url(v, name)?;
                check_endpoint(&url, name)?;
                // `as_url` was itself checked against the MCP server's address.
                check_reachable_from(&url, as_url, name)?;
            }
        }
        for (name, value) in [
            ("authorization_endpoint", &self.authorization_endpoint),
            ("token_endpoint", &self.token_endpoint),
        ] {
            if value.is_none() {
                return Err(Error::InvalidResponse {
                    what: "authorization server metadata".into(),
                    reason: format!("`{name}` is missing"),
                });
            }
        }
        self.require_s256()?;
        Ok(ValidatedServer {
            metadata: self,
            allowance,
        })
    }

    /// MCP: refuse a server whose metadata does not list `S256` (absence means no PKCE).
    pub fn require_s256(&self) -> Result<(), Error> {
        let ok = self
            .code_challenge_methods_supported
            .as_ref()
            .is_some_and(|m| m.iter().any(|x| x == crate::oauth::pkce::METHOD_S256));
        if ok {
            Ok(())
        } else {
            Err(Error::PkceUnsupported {
                issuer: short(&self.issuer),
            })
        }
    }

    /// Whether `scope` is listed in `scopes_supported`.
    pub fn supports_scope(&self, scope: &str) -> bool {
        self.scopes_supported
            .as_ref()
            .is_some_and(|s| s.iter().any(|x| x == scope))
    }

    /// `client_id_metadata_document_supported` is `true`.
    pub fn supports_cimd(&self) -> bool {
        self.client_id_metadata_document_supported == Some(true)
    }
}

/// RFC 9728 §3.3 comparison of our server URL with a metadata `resource` (see module docs).
pub fn resource_matches(server_url: &Url, resource: &str) -> bool {
    let Ok(r) = Url::parse(resource) else {
        return false;
    };
    if r.fragment().is_some()
        || r.origin() != server_url.origin()
        || r.query() != server_url.query()
    {
        return false;
    }
    let rp = r.path().trim_end_matches('/');
    let sp = server_url.path().trim_end_matches('/');
    rp == sp || (sp.starts_with(rp) && sp.as_bytes().get(rp.len()) == Some(&b'/'))
}

/// The canonical form of a resource URL for the RFC 8707 `resource` parameter: lower-case
/// scheme and host, no fragment, no trailing `/` (except for a bare origin's path).
pub fn canonical_resource(url: &Url) -> String {
    let mut u = url.clone();
    u.set_fragment(None);
    let s = u.to_string();
    if u.path() == "/" && u.query().is_none() {
        return s.trim_end_matches('/').to_string();
    }
    match s.strip_suffix('/') {
        Some(t) if u.query().is_none() => t.to_string(),
        _ => s,
    }
}

/// Requires https (or loopback http), no userinfo, no fragment.
pub fn check_endpoint(url: &Url, what: &str) -> Result<(), Error> {
    check_secure_url(url, what)?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::InvalidUrl {
            what: what.into(),
            reason: "must not contain user information".into(),
        });
    }
    if url.fragment().is_some() {
        return Err(Error::InvalidUrl {
            what: what.into(),
            reason: "must not contain a fragment".into(),
        });
    }
    Ok(())
}

pub(crate) fn parse_url(raw: &str, what: &str) -> Result<Url, Error> {
    Url::parse(raw).map_err(|e| Error::InvalidUrl {
        what: what.into(),
        reason: e.to_string(),
    })
}

fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8], what: &str) -> Result<T, Error> {
    if body.len() > MAX_METADATA_BYTES {
        return Err(Error::ResponseTooLarge {
            what: what.into(),
            limit: MAX_METADATA_BYTES,
        });
    }
    crate::json::from_bytes(body).map_err(|e| Error::InvalidResponse {
        what: what.into(),
        reason: format!(
            "not valid metadata JSON: {}",
            crate::untrusted::describe_json_error(&e)
        ),
    })
}

fn normalized(s: &str) -> String {
    s.trim_end_matches('/').to_string()
}

fn origin_of(base: &str) -> String {
    Url::parse(base)
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_default()
}

/// Cuts untrusted text for messages.
pub(crate) fn short(s: &str) -> String {
    crate::untrusted::excerpt(s, crate::untrusted::MAX_FIELD_BYTES)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    fn u(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    fn wb_meta(issuer: &str, base: &str) -> AuthorizationServerMetadata {
        AuthorizationServerMetadata::parse(
            json!({
                "issuer": issuer,
                "authorization_endpoint": format!("{base}/wb/oauth/authorize"),
                "token_endpoint": format!("{base}/wb/oauth/token"),
                "grant_types_supported": ["authorization_code", "refresh_token"],
                "token_endpoint_auth_methods_supported": ["client_secret_post"],
                "code_challenge_methods_supported": ["S256"],
                "some_future_field": {"x": 1}
            })
            .to_string()
            .as_bytes(),
        )
        .unwrap()
    }

    #[test]
    fn workboard_quirk_is_named_and_narrow() {
        let p = IssuerPolicy::default();
        let as_url = u("https://www.myworkboard.com/wb/oauth");
        let v = wb_meta(
            "https://www.myworkboard.com/wb",
            "https://www.myworkboard.com",
        )
        .validate(&as_url, &p)
        .unwrap();
        assert_eq!(v.allowance, Some(KnownIssuerQuirk::WorkboardWbIssuer));
        // EU too.
        let eu = u("https://www.myworkboard.eu/wb/oauth");
        assert!(wb_meta(
            "https://www.myworkboard.eu/wb",
            "https://www.myworkboard.eu"
        )
        .validate(&eu, &p)
        .is_ok());
        // Same mismatch on another host: refused.
        let other = u("https://auth.example.com/wb/oauth");
        let e = wb_meta("https://auth.example.com/wb", "https://auth.example.com")
            .validate(&other, &p)
            .unwrap_err();
        assert_eq!(e.code(), "issuer_mismatch");
        // Strict policy: refused even on WorkBoard.
        let e = wb_meta(
            "https://www.myworkboard.com/wb",
            "https://www.myworkboard.com",
        )
        .validate(&as_url, &IssuerPolicy::strict())
        .unwrap_err();
        assert_eq!(e.code(), "issuer_mismatch");
        // Another shape of mismatch on WorkBoard: refused.
        for bad in [
            "https://www.myworkboard.com",
            "https://www.myworkboard.com/x",
            "https://evil.example/wb",
            "https://www.myworkboard.com/wb/",
        ] {
            let r = wb_meta(bad, "https://www.myworkboard.com").validate(&as_url, &p);
            assert_eq!(r.unwrap_err().code(), "issuer_mismatch", "{bad}");
        }
        // A custom base registered as a WorkBoard environment (the simulator).
        let sim = Environment::Custom("http://127.0.0.1:8123".into());
        let sim_as = u("http://127.0.0.1:8123/wb/oauth");
        let m = wb_meta("http://127.0.0.1:8123/wb", "http://127.0.0.1:8123");
        assert_eq!(
            m.clone().validate(&sim_as, &p).unwrap_err().code(),
            "issuer_mismatch"
        );
        let p2 = IssuerPolicy::default().with_environment(&sim);
        assert_eq!(
            m.validate(&sim_as, &p2).unwrap().allowance,
            Some(KnownIssuerQuirk::WorkboardWbIssuer)
        );
    }

    #[test]
    fn exact_issuer_and_trailing_slash() {
        let p = IssuerPolicy::strict();
        let m = wb_meta("https://auth.example.com/", "https://auth.example.com");
        assert_eq!(
            m.validate(&u("https://auth.example.com"), &p)
                .unwrap()
                .allowance,
            None
        );
    }

    #[test]
    fn hostile_endpoints_refused() {
        let p = IssuerPolicy::strict();
        let as_url = u("https://auth.example.com");
        for (field, value, code) in [
            (
                "authorization_endpoint",
                "javascript:alert(1)",
                "insecure_url",
            ),
            ("token_endpoint", "file:///etc/passwd", "insecure_url"),
            (
                "token_endpoint",
                "http://auth.example.com/token",
                "insecure_url",
            ),
            (
                "revocation_endpoint",
                "http://evil.example/r",
                "insecure_url",
            ),
            (
                "registration_endpoint",
                "https://user:pw@auth.example.com/r",
                "invalid_url",
            ),
            (
                "authorization_endpoint",
                "https://auth.example.com/a#frag",
                "invalid_url",
            ),
            ("token_endpoint", "not a url", "invalid_url"),
        ] {
            let mut v = json!({
                "issuer": "https://auth.example.com",
                "authorization_endpoint": "https://auth.example.com/a",
                "token_endpoint": "https://auth.example.com/t",
                "code_challenge_methods_supported": ["S256"],
            });
            v[field] = json!(value);
            let m = AuthorizationServerMetadata::parse(v.to_string().as_bytes()).unwrap();
            assert_eq!(
                m.validate(&as_url, &p).unwrap_err().code(),
                code,
                "{field}={value}"
            );
        }
        // Loopback http is fine; another https origin is fine (documented).
        let m = AuthorizationServerMetadata::parse(
            json!({"issuer": "http://127.0.0.1:9/", "authorization_endpoint": "http://127.0.0.1:9/a",
                   "token_endpoint": "https://tokens.example.net/t", "code_challenge_methods_supported": ["S256"]})
            .to_string()
            .as_bytes(),
        )
        .unwrap();
        assert!(m.validate(&u("http://127.0.0.1:9"), &p).is_ok());
    }

    #[test]
    fn pkce_required() {
        let p = IssuerPolicy::strict();
        let as_url = u("https://a.example");
        for methods in [json!(null), json!([]), json!(["plain"])] {
            let mut v = json!({"issuer": "https://a.example", "authorization_endpoint": "https://a.example/a",
                               "token_endpoint": "https://a.example/t"});
            if !methods.is_null() {
                v["code_challenge_methods_supported"] = methods;
            }
            let m = AuthorizationServerMetadata::parse(v.to_string().as_bytes()).unwrap();
            assert_eq!(
                m.validate(&as_url, &p).unwrap_err().code(),
                "pkce_unsupported"
            );
        }
    }

    #[test]
    fn strict_types_lenient_unknowns() {
        assert!(
            AuthorizationServerMetadata::parse(br#"{"issuer":"https://a","x":[1,{}]}"#).is_ok()
        );
        for bad in [
            &br#"{"issuer":5}"#[..],
            br#"{"issuer":"https://a","scopes_supported":"all"}"#,
            br#"{"issuer":"https://a","client_id_metadata_document_supported":"yes"}"#,
            br#"[]"#,
            b"<html>",
            b"",
        ] {
            assert_eq!(
                AuthorizationServerMetadata::parse(bad).unwrap_err().code(),
                "invalid_response"
            );
        }
        let big = vec![b' '; MAX_METADATA_BYTES + 1];
        assert_eq!(
            ProtectedResourceMetadata::parse(&big).unwrap_err().code(),
            "response_too_large"
        );
        assert_eq!(
            ProtectedResourceMetadata::parse(
                br#"{"resource":"https://h","authorization_servers":"x"}"#
            )
            .unwrap_err()
            .code(),
            "invalid_response"
        );
    }

    #[test]
    fn resource_matching() {
        let s = u("https://www.myworkboard.com/wb/mcp");
        assert!(resource_matches(&s, "https://www.myworkboard.com/wb/mcp"));
        assert!(resource_matches(
            &s,
            "https://WWW.MyWorkboard.com:443/wb/mcp/"
        ));
        assert!(resource_matches(&s, "https://www.myworkboard.com/"));
        assert!(resource_matches(&s, "https://www.myworkboard.com/wb"));
        assert!(!resource_matches(&s, "https://www.myworkboard.com/w"));
        assert!(!resource_matches(&s, "https://www.myworkboard.com/wb/mcp2"));
        assert!(!resource_matches(&s, "https://www.myworkboard.eu/wb/mcp"));
        assert!(!resource_matches(&s, "http://www.myworkboard.com/wb/mcp"));
        assert!(!resource_matches(
            &s,
            "https://www.myworkboard.com:8443/wb/mcp"
        ));
        assert!(!resource_matches(&s, "not a url"));
        let prm = ProtectedResourceMetadata::parse(
            br#"{"resource":"https://evil.example/wb/mcp","authorization_servers":["https://evil.example/oauth"]}"#,
        )
        .unwrap();
        assert_eq!(prm.validate(&s).unwrap_err().code(), "resource_mismatch");
        assert_eq!(
            canonical_resource(&u("https://H.example/mcp/")),
            "https://h.example/mcp"
        );
        assert_eq!(
            canonical_resource(&u("https://h.example")),
            "https://h.example"
        );
        assert_eq!(
            canonical_resource(&u("https://h.example/mcp#x")),
            "https://h.example/mcp"
        );
    }

    #[test]
    fn prm_validation() {
        let s = u("https://www.myworkboard.com/wb/mcp");
        let ok = ProtectedResourceMetadata::parse(
            br#"{"resource":"https://www.myworkboard.com/wb/mcp","authorization_servers":["https://www.myworkboard.com/wb/oauth"],"scopes_supported":["all"],"bearer_methods_supported":["header"]}"#,
        )
        .unwrap();
        assert_eq!(
            ok.validate(&s).unwrap().as_str(),
            "https://www.myworkboard.com/wb/oauth"
        );
        let none = ProtectedResourceMetadata::parse(
            br#"{"resource":"https://www.myworkboard.com/wb/mcp"}"#,
        )
        .unwrap();
        assert_eq!(none.validate(&s).unwrap_err().code(), "discovery_failed");
        let insecure = ProtectedResourceMetadata::parse(
            br#"{"resource":"https://www.myworkboard.com/wb/mcp","authorization_servers":["http://www.myworkboard.com/wb/oauth"]}"#,
        )
        .unwrap();
        assert_eq!(insecure.validate(&s).unwrap_err().code(), "insecure_url");
    }
}
