//! Where WorkBoard lives: [`Environment`] (US by default, EU, or any base URL).

use serde::{Deserialize, Serialize};
use url::Url;

use crate::error::Error;

/// A WorkBoard deployment. A wrong environment is one of the seed's two causes of 401.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
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
