//! Candidate URLs for OAuth discovery, in the order the MCP authorization spec (2025-11-25)
//! prescribes, plus the 2025-03-26 fallback.
//!
//! - Protected resource metadata (RFC 9728): the `resource_metadata` URL from the 401's
//!   `WWW-Authenticate` first, then `/.well-known/oauth-protected-resource/<path>`, then
//!   `/.well-known/oauth-protected-resource` at the root.
//! - Authorization server metadata for an issuer with a path: RFC 8414 path insertion
//!   (`/.well-known/oauth-authorization-server/<path>`), OIDC path insertion
//!   (`/.well-known/openid-configuration/<path>`), OIDC path appending
//!   (`<path>/.well-known/openid-configuration`); without a path, the two root forms.
//! - When the MCP server publishes no resource metadata at all (2025-03-26 servers), the
//!   authorization base URL is the server's origin; if that has no metadata either, the
//!   default endpoints `/authorize`, `/token` and `/register` at the origin are used.

use url::Url;

use crate::error::Error;
use crate::oauth::metadata::{check_endpoint, parse_url};
use crate::urlpolicy::check_reachable_from;

/// Well-known suffix of protected resource metadata (RFC 9728).
pub const PRM_WELL_KNOWN: &str = "/.well-known/oauth-protected-resource";
/// Well-known suffix of authorization server metadata (RFC 8414).
pub const OAUTH_WELL_KNOWN: &str = "/.well-known/oauth-authorization-server";
/// Well-known suffix of OpenID Connect discovery.
pub const OIDC_WELL_KNOWN: &str = "/.well-known/openid-configuration";

/// Which kind of authorization server metadata a candidate URL serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MetadataKind {
    /// RFC 8414.
    OAuth,
    /// OpenID Connect Discovery 1.0.
    OpenId,
}

/// Protected resource metadata URLs to try, in order (duplicates removed).
///
/// `resource_metadata` is the URL from `WWW-Authenticate`, if any; it must be https (or
/// loopback http) — an insecure or unparseable one is an error, not silently skipped — and
/// not on an internal address unless `server_url` is on the same kind of address
/// ([`Error::PrivateAddress`]).
pub fn prm_candidates(
    server_url: &Url,
    resource_metadata: Option<&str>,
) -> Result<Vec<Url>, Error> {
    let mut out = Vec::new();
    if let Some(raw) = resource_metadata {
        let u = parse_url(raw.trim(), "resource_metadata URL")?;
        check_endpoint(&u, "resource_metadata URL")?;
        check_reachable_from(&u, server_url, "resource_metadata URL")?;
        out.push(u);
    }
    let path = server_url.path().trim_end_matches('/');
    if !path.is_empty() {
        push_unique(
            &mut out,
            with_path(
                server_url,
                &format!("{PRM_WELL_KNOWN}{path}"),
                server_url.query(),
            ),
        );
    }
    push_unique(&mut out, with_path(server_url, PRM_WELL_KNOWN, None));
    Ok(out)
}

/// Authorization server metadata URLs to try for `issuer`, in order.
pub fn as_metadata_candidates(issuer: &Url) -> Vec<(Url, MetadataKind)> {
    let path = issuer.path().trim_end_matches('/');
    if path.is_empty() {
        return vec![
            (
                with_path(issuer, OAUTH_WELL_KNOWN, None),
                MetadataKind::OAuth,
            ),
            (
                with_path(issuer, OIDC_WELL_KNOWN, None),
                MetadataKind::OpenId,
            ),
        ];
    }
    vec![
        (
            with_path(issuer, &format!("{OAUTH_WELL_KNOWN}{path}"), None),
            MetadataKind::OAuth,
        ),
        (
            with_path(issuer, &format!("{OIDC_WELL_KNOWN}{path}"), None),
            MetadataKind::OpenId,
        ),
        (
            with_path(issuer, &format!("{path}{OIDC_WELL_KNOWN}"), None),
            MetadataKind::OpenId,
        ),
    ]
}

/// The 2025-03-26 authorization base URL: the MCP server URL without its path.
pub fn legacy_authorization_base(server_url: &Url) -> Url {
    with_path(server_url, "/", None)
}

/// Default endpoints of a 2025-03-26 server that publishes no metadata.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LegacyEndpoints {
    /// `<origin>/authorize`.
    pub authorization_endpoint: Url,
    /// `<origin>/token`.
    pub token_endpoint: Url,
    /// `<origin>/register`.
    pub registration_endpoint: Url,
}

/// The default endpoints at the server's origin.
pub fn legacy_endpoints(server_url: &Url) -> LegacyEndpoints {
    LegacyEndpoints {
        authorization_endpoint: with_path(server_url, "/authorize", None),
        token_endpoint: with_path(server_url, "/token", None),
        registration_endpoint: with_path(server_url, "/register", None),
    }
}

fn with_path(base: &Url, path: &str, query: Option<&str>) -> Url {
    let mut u = base.clone();
    u.set_path(path);
    u.set_query(query);
    u.set_fragment(None);
    let _ = u.set_username("");
    let _ = u.set_password(None);
    u
}

fn push_unique(v: &mut Vec<Url>, u: Url) {
    if !v.contains(&u) {
        v.push(u);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn u(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    fn strs(v: &[Url]) -> Vec<&str> {
        v.iter().map(Url::as_str).collect()
    }

    #[test]
    fn prm_order() {
        let s = u("https://www.myworkboard.com/wb/mcp");
        assert_eq!(
            strs(
                &prm_candidates(
                    &s,
                    Some("https://www.myworkboard.com/.well-known/oauth-protected-resource")
                )
                .unwrap()
            ),
            [
                "https://www.myworkboard.com/.well-known/oauth-protected-resource",
                "https://www.myworkboard.com/.well-known/oauth-protected-resource/wb/mcp",
            ]
        );
        assert_eq!(
            strs(&prm_candidates(&s, None).unwrap()),
            [
                "https://www.myworkboard.com/.well-known/oauth-protected-resource/wb/mcp",
                "https://www.myworkboard.com/.well-known/oauth-protected-resource",
            ]
        );
        assert_eq!(
            strs(&prm_candidates(&u("https://mcp.example.com/"), None).unwrap()),
            ["https://mcp.example.com/.well-known/oauth-protected-resource"]
        );
        assert_eq!(
            prm_candidates(&s, Some("http://evil.example/prm"))
                .unwrap_err()
                .code(),
            "insecure_url"
        );
        assert_eq!(
            prm_candidates(&s, Some("javascript:x")).unwrap_err().code(),
            "insecure_url"
        );
        assert_eq!(
            prm_candidates(&s, Some("::")).unwrap_err().code(),
            "invalid_url"
        );
    }

    #[test]
    fn as_order() {
        let c = as_metadata_candidates(&u("https://www.myworkboard.com/wb/oauth"));
        let got: Vec<(&str, MetadataKind)> = c.iter().map(|(u, k)| (u.as_str(), *k)).collect();
        assert_eq!(
            got,
            [
                (
                    "https://www.myworkboard.com/.well-known/oauth-authorization-server/wb/oauth",
                    MetadataKind::OAuth
                ),
                (
                    "https://www.myworkboard.com/.well-known/openid-configuration/wb/oauth",
                    MetadataKind::OpenId
                ),
                (
                    "https://www.myworkboard.com/wb/oauth/.well-known/openid-configuration",
                    MetadataKind::OpenId
                ),
            ]
        );
        let c = as_metadata_candidates(&u("https://auth.example.com"));
        let got: Vec<&str> = c.iter().map(|(u, _)| u.as_str()).collect();
        assert_eq!(
            got,
            [
                "https://auth.example.com/.well-known/oauth-authorization-server",
                "https://auth.example.com/.well-known/openid-configuration",
            ]
        );
    }

    #[test]
    fn legacy() {
        let s = u("https://mcp.example.com:8443/v1/mcp?x=1");
        assert_eq!(
            legacy_authorization_base(&s).as_str(),
            "https://mcp.example.com:8443/"
        );
        let e = legacy_endpoints(&s);
        assert_eq!(
            e.authorization_endpoint.as_str(),
            "https://mcp.example.com:8443/authorize"
        );
        assert_eq!(
            e.token_endpoint.as_str(),
            "https://mcp.example.com:8443/token"
        );
        assert_eq!(
            e.registration_endpoint.as_str(),
            "https://mcp.example.com:8443/register"
        );
    }
}
