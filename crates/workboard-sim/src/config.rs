//! Configuration of a simulator instance.

use std::fmt;
use std::str::FromStr;

use crate::faults::FaultSpec;

/// Client ID of the client registered by [`SimConfig::default`].
pub const DEMO_CLIENT_ID: &str = "demo-client";
/// Client hash (secret) of the client registered by [`SimConfig::default`].
pub const DEMO_CLIENT_HASH: &str = "demo-hash";
/// Redirect URI of the client registered by [`SimConfig::default`].
pub const DEMO_REDIRECT_URI: &str = "http://127.0.0.1:8765/callback";
/// Personal token seeded by [`SimConfig::default`] (user `ada@example.com`, role member).
pub const DEMO_PERSONAL_TOKEN: &str = "wbp_demo_personal_token";
/// The user who "signs in" on the consent page unless configured otherwise.
pub const DEMO_USER: &str = "ada@example.com";

/// How `POST /wb/mcp` answers JSON-RPC requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ResponseMode {
    /// `Content-Type: application/json`, one JSON-RPC response.
    #[default]
    Json,
    /// `Content-Type: text/event-stream`: a priming event (id, empty data, `retry:`), then the
    /// response as the last event. `GET /wb/mcp` opens a standalone stream in this mode.
    Sse,
}

/// A user's role: decides which tools the user sees and which scope personal tokens get.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Role {
    /// Full access to every tool; personal tokens get scope `all`.
    #[default]
    Member,
    /// Sees every tool; personal tokens get scope `read` (write tools answer 403).
    ReadOnly,
    /// The role has no access to OKRs or Scorecards: `tools/list` is empty (the seed's
    /// "No tools listed").
    NoAccess,
}

impl Role {
    /// The stable name used on the command line and in JSON (`member`, `read_only`, `no_access`).
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Member => "member",
            Role::ReadOnly => "read_only",
            Role::NoAccess => "no_access",
        }
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "member" | "admin" => Ok(Role::Member),
            "read_only" | "read" => Ok(Role::ReadOnly),
            "no_access" | "none" => Ok(Role::NoAccess),
            other => Err(format!(
                "unknown role `{other}` (expected member, read_only or no_access)"
            )),
        }
    }
}

/// A registered OAuth client (WorkBoard "App").
#[derive(Clone, PartialEq, Eq)]
pub struct ClientConfig {
    /// The client ID.
    pub client_id: String,
    /// The client hash (the secret; `client_secret` in OAuth 2.1 terms). `None` for a public
    /// client (no secret, PKCE only).
    pub client_hash: Option<String>,
    /// Registered redirect URIs, matched byte for byte.
    pub redirect_uris: Vec<String>,
    /// App name shown on the consent page.
    pub name: String,
}

impl ClientConfig {
    /// A confidential client with one redirect URI; the app name is the client ID.
    pub fn new(client_id: &str, client_hash: &str, redirect_uri: &str) -> Self {
        ClientConfig {
            client_id: client_id.to_string(),
            client_hash: Some(client_hash.to_string()),
            redirect_uris: vec![redirect_uri.to_string()],
            name: client_id.to_string(),
        }
    }

    /// Parses the command-line form `ID:HASH:REDIRECT_URI` (the redirect URI may contain
    /// colons; an empty HASH makes a public client).
    pub fn parse_cli(spec: &str) -> Result<Self, String> {
        let mut parts = spec.splitn(3, ':');
        let id = parts.next().unwrap_or_default();
        let hash = parts.next();
        let uri = parts.next();
        match (hash, uri) {
            (Some(hash), Some(uri)) if !id.is_empty() && !uri.is_empty() => Ok(ClientConfig {
                client_id: id.to_string(),
                client_hash: (!hash.is_empty()).then(|| hash.to_string()),
                redirect_uris: vec![uri.to_string()],
                name: id.to_string(),
            }),
            _ => Err("expected --client ID:HASH:REDIRECT_URI".to_string()),
        }
    }
}

impl fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientConfig")
            .field("client_id", &self.client_id)
            .field(
                "client_hash",
                &self.client_hash.as_ref().map(|_| "[redacted]"),
            )
            .field("redirect_uris", &self.redirect_uris)
            .field("name", &self.name)
            .finish()
    }
}

/// A personal token known to the simulator from the start.
#[derive(Clone, PartialEq, Eq)]
pub struct PersonalTokenConfig {
    /// The token value.
    pub token: String,
    /// The user's email (a seeded user, or a new user is created).
    pub user: String,
    /// The user's role.
    pub role: Role,
}

impl fmt::Debug for PersonalTokenConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PersonalTokenConfig")
            .field("token", &"[redacted]")
            .field("user", &self.user)
            .field("role", &self.role)
            .finish()
    }
}

/// Everything a simulator instance needs. [`Default`] gives the demo setup: client
/// `demo-client` / `demo-hash` / `http://127.0.0.1:8765/callback`, personal token
/// [`DEMO_PERSONAL_TOKEN`], issuer quirk on, DCR off, consent page, JSON responses.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// TCP port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Registered clients.
    pub clients: Vec<ClientConfig>,
    /// Personal tokens valid from the start.
    pub personal_tokens: Vec<PersonalTokenConfig>,
    /// Authorization server metadata reports `issuer` = `<base>/wb` (as WorkBoard does) instead
    /// of `<base>/wb/oauth`.
    pub issuer_quirk: bool,
    /// Dynamic client registration (RFC 7591) at `POST /wb/oauth/register`.
    pub dcr: bool,
    /// Skip the consent page: `GET /wb/oauth/authorize` redirects at once.
    pub auto_approve: bool,
    /// JSON or SSE answers on `POST /wb/mcp`.
    pub response_mode: ResponseMode,
    /// Email of the user who approves on the consent page.
    pub login_user: String,
    /// Extra allowed browser origins besides loopback ones (`*` allows every origin).
    pub extra_origins: Vec<String>,
    /// Faults armed at start.
    pub faults: Option<FaultSpec>,
    /// Print `METHOD PATH STATUS` per request on stderr (never a query string or header).
    pub log_requests: bool,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            port: 0,
            clients: vec![ClientConfig {
                client_id: DEMO_CLIENT_ID.to_string(),
                client_hash: Some(DEMO_CLIENT_HASH.to_string()),
                redirect_uris: vec![DEMO_REDIRECT_URI.to_string()],
                name: "Demo App".to_string(),
            }],
            personal_tokens: vec![PersonalTokenConfig {
                token: DEMO_PERSONAL_TOKEN.to_string(),
                user: DEMO_USER.to_string(),
                role: Role::Member,
            }],
            issuer_quirk: true,
            dcr: false,
            auto_approve: false,
            response_mode: ResponseMode::Json,
            login_user: DEMO_USER.to_string(),
            extra_origins: Vec::new(),
            faults: None,
            log_requests: false,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn client_spec_keeps_colons_of_the_redirect_uri() {
        let c = ClientConfig::parse_cli("app:h4sh:http://127.0.0.1:9000/cb").unwrap();
        assert_eq!(c.client_id, "app");
        assert_eq!(c.client_hash.as_deref(), Some("h4sh"));
        assert_eq!(
            c.redirect_uris,
            vec!["http://127.0.0.1:9000/cb".to_string()]
        );
        let public = ClientConfig::parse_cli("pub::http://localhost/cb").unwrap();
        assert_eq!(public.client_hash, None);
        assert!(ClientConfig::parse_cli("only-id").is_err());
        assert!(ClientConfig::parse_cli("id:hash:").is_err());
    }

    #[test]
    fn debug_output_redacts_secrets() {
        let cfg = SimConfig::default();
        let dbg = format!("{cfg:?}");
        assert!(!dbg.contains(DEMO_CLIENT_HASH));
        assert!(!dbg.contains(DEMO_PERSONAL_TOKEN));
        assert!(dbg.contains(DEMO_CLIENT_ID));
    }

    #[test]
    fn roles_parse() {
        assert_eq!("no_access".parse::<Role>().unwrap(), Role::NoAccess);
        assert_eq!("read_only".parse::<Role>().unwrap(), Role::ReadOnly);
        assert!("boss".parse::<Role>().is_err());
    }
}
