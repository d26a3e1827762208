//! Where WorkBoard lives: [`Environment`] (US by default, EU, or any base URL).

use serde::{Deserialize, Serialize};
use url::Url;

use crate::error::Error;

/// A WorkBoard deployment. A wrong environment is one of the seed's two causes of 401.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Default)]
#[serde(tag = "kind", content = "base_url", rename_all = "snake_case")]
pub enum Environment {
    /// `https://www.myworkboard.com` (default).
    #[default]
    Us,
    /// `https://www.myworkboard.eu`.
    Eu,
    /// Any base URL (a simulator on loopback, a private deployment). No trailing path
    /// other than `/` is expected; `https` is required except on loopback.
    Custom(String),
}

/// Read as written (`{"kind": "us"}`, `{"kind": "eu"}`, `{"kind": "custom", "base_url": …}`),
/// by hand rather than by serde's `tag`/`content` (see `json::variant_of`).
impl<'de> Deserialize<'de> for Environment {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        let value = serde_json::Value::deserialize(d)?;
        match crate::json::variant_of(&value, "kind", "adjacently tagged enum Environment")? {
            "us" => Ok(Environment::Us),
            "eu" => Ok(Environment::Eu),
            "custom" => match value.get("base_url") {
                Some(serde_json::Value::String(url)) => Ok(Environment::Custom(url.clone())),
                Some(other) => Err(D::Error::invalid_type(
                    crate::json::unexpected(other),
                    &"a string",
                )),
                None => Err(D::Error::missing_field("base_url")),
            },
            other => Err(D::Error::unknown_variant(other, &["us", "eu", "custom"])),
        }
    }
}

/// Base URL of the US deployment.
pub const US_BASE: &str = "https://www.myworkboard.com";
/// Base URL of the EU deployment.
pub const EU_BASE: &str = "https://www.myworkboard.eu";

impl Environment {
    /// Parses `us`, `eu` or an absolute URL.
    pub fn parse(input: &str) -> Result<Environment, Error> {
        let t = input.trim();
        match t.to_ascii_lowercase().as_str() {
            "us" | "" => return Ok(Environment::Us),
            "eu" => return Ok(Environment::Eu),
            _ => {}
        }
        let url = Url::parse(t).map_err(|e| Error::InvalidUrl {
            what: "environment base URL".into(),
            reason: e.to_string(),
        })?;
        check_secure_url(&url, "environment base URL")?;
        if url.query().is_some()
            || url.fragment().is_some()
            || !url.username().is_empty()
            || url.password().is_some()
        {
            return Err(Error::InvalidUrl {
                what: "environment base URL".into(),
                reason: "expected a base URL such as https://www.myworkboard.com (no query, fragment or user info)".into(),
            });
        }
        if url.path().trim_end_matches('/').ends_with("/wb") || url.path().contains("/wb/") {
            return Err(Error::InvalidUrl {
                what: "environment base URL".into(),
                reason: format!(
                    "`{t}` contains WorkBoard's /wb path: pass the base URL ({}://{}), or give an MCP endpoint as the server URL instead",
                    url.scheme(),
                    url.host_str().unwrap_or("host")
                ),
            });
        }
        let s = url.as_str().trim_end_matches('/').to_string();
        if s == US_BASE {
            return Ok(Environment::Us);
        }
        if s == EU_BASE {
            return Ok(Environment::Eu);
        }
        Ok(Environment::Custom(s))
    }

    /// The base URL without a trailing slash.
    pub fn base_url(&self) -> &str {
        match self {
            Environment::Us => US_BASE,
            Environment::Eu => EU_BASE,
            Environment::Custom(s) => s.trim_end_matches('/'),
        }
    }

    /// `…/wb/mcp`: the MCP endpoint.
    pub fn mcp_url(&self) -> String {
        format!("{}/wb/mcp", self.base_url())
    }

    /// `…/wb/oauth/authorize` (v1).
    pub fn authorize_url(&self) -> String {
        format!("{}/wb/oauth/authorize", self.base_url())
    }

    /// `…/wb/oauth/token` (v1).
    pub fn token_url(&self) -> String {
        format!("{}/wb/oauth/token", self.base_url())
    }

    /// `…/wb/oauth/revoke/` (v1, trailing slash as documented).
    pub fn revoke_url(&self) -> String {
        format!("{}/wb/oauth/revoke/", self.base_url())
    }

    /// `…/wb/apis`: REST API root.
    pub fn api_root(&self) -> String {
        format!("{}/wb/apis", self.base_url())
    }

    /// A short name for messages: `US`, `EU` or the host.
    pub fn label(&self) -> String {
        match self {
            Environment::Us => "US (www.myworkboard.com)".into(),
            Environment::Eu => "EU (www.myworkboard.eu)".into(),
            Environment::Custom(s) => s.clone(),
        }
    }
}

/// Whether an MCP server URL is WorkBoard's: on WorkBoard US or EU, or WorkBoard's MCP path
/// `/wb/mcp` on another host (a private deployment, the simulator). Decides which 401 hint
/// applies (WorkBoard's personal tokens and environments mean nothing to other servers).
pub(crate) fn is_workboard_server(server_url: &str) -> bool {
    let Ok(u) = Url::parse(server_url.trim()) else {
        return false;
    };
    let origin = u.origin().ascii_serialization();
    origin == US_BASE || origin == EU_BASE || u.path().trim_end_matches('/').ends_with("/wb/mcp")
}

/// Whether a URL is on the loopback interface (`localhost`, 127.0.0.0/8, `[::1]`).
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// Requires `https`, or `http` on loopback only. Everything the SDK sends a credential to
/// passes this check.
pub fn check_secure_url(url: &Url, what: &str) -> Result<(), Error> {
    match url.scheme() {
        "https" => Ok(()),
        "http" if is_loopback(url) => Ok(()),
        other => Err(Error::InsecureUrl {
            what: what.into(),
            reason: format!("scheme `{other}` on a non-loopback host; https is required"),
        }),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn parses_names_known_hosts_and_custom_base_urls() {
        assert_eq!(Environment::parse(" US ").unwrap(), Environment::Us);
        assert_eq!(Environment::parse("").unwrap(), Environment::Us);
        assert_eq!(Environment::parse("eu").unwrap(), Environment::Eu);
        assert_eq!(
            Environment::parse("https://www.myworkboard.com/").unwrap(),
            Environment::Us
        );
        assert_eq!(
            Environment::parse("https://www.myworkboard.eu").unwrap(),
            Environment::Eu
        );
        let sim = Environment::parse("http://127.0.0.1:8080/").unwrap();
        assert_eq!(sim, Environment::Custom("http://127.0.0.1:8080".into()));
        assert_eq!(sim.mcp_url(), "http://127.0.0.1:8080/wb/mcp");
        assert_eq!(sim.revoke_url(), "http://127.0.0.1:8080/wb/oauth/revoke/");
        let private = Environment::parse("https://okr.example.com").unwrap();
        assert_eq!(private.api_root(), "https://okr.example.com/wb/apis");
    }

    #[test]
    fn refuses_bad_base_urls_with_typed_errors() {
        for (input, code) in [
            ("not a url", "invalid_url"),
            ("ftp://x.example", "insecure_url"),
            ("http://okr.example.com", "insecure_url"),
            ("https://www.myworkboard.com/wb/mcp", "invalid_url"),
            ("https://www.myworkboard.com/wb", "invalid_url"),
            ("https://x.example/?token=abc", "invalid_url"),
            ("https://user:pw@x.example", "invalid_url"),
        ] {
            let e = Environment::parse(input).unwrap_err();
            assert_eq!(e.code(), code, "{input}: {e}");
            assert!(!e.to_string().contains("pw@"), "{e}");
        }
        let e = Environment::parse("https://www.myworkboard.com/wb/mcp").unwrap_err();
        assert!(e.to_string().contains("https://www.myworkboard.com"), "{e}");
    }
}
