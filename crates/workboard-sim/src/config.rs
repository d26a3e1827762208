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

/// Which MCP protocol era(s) `/wb/mcp` speaks (see the crate docs, "Eras").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Era {
    /// Both: a request whose `params._meta` carries
    /// `io.modelcontextprotocol/protocolVersion` is served statelessly as 2026-07-28; an
    /// `initialize` request (or a request on an `Mcp-Session-Id`) is served as a legacy session.
    #[default]
    Dual,
    /// 2026-07-28 only: no `initialize` (400 + `-32022` naming the supported versions), no
    /// sessions (`Mcp-Session-Id` ignored), `GET`/`DELETE` answer 405.
    Modern,
    /// 2025-11-25, 2025-06-18 and 2025-03-26 only: `initialize` and sessions; a modern request
    /// without a session gets what a legacy-only server gives (400, JSON-RPC `-32000`
    /// "Bad Request: Server not initialized", id null).
    Legacy,
}

impl Era {
    /// The stable name used on the command line and in JSON (`dual`, `modern`, `legacy`).
    pub fn as_str(self) -> &'static str {
        match self {
            Era::Dual => "dual",
            Era::Modern => "modern",
            Era::Legacy => "legacy",
        }
    }
}

impl FromStr for Era {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "dual" => Ok(Era::Dual),
            "modern" => Ok(Era::Modern),
            "legacy" => Ok(Era::Legacy),
            other => {
                let shown: String = other.chars().take(32).collect();
                Err(format!(
                    "unknown era `{shown}` (expected modern, legacy or dual)"
                ))
            }
        }
    }
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
/// [`DEMO_PERSONAL_TOKEN`], issuer quirk on, DCR off, consent page, JSON responses, dual era.
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
    /// Which MCP era(s) `/wb/mcp` speaks (default [`Era::Dual`]).
    pub era: Era,
    /// Interval of the keep-alive comments (`:`) on `subscriptions/listen` and legacy `GET`
    /// streams (default 15 s).
    pub keepalive: std::time::Duration,
    /// Longest life of a `subscriptions/listen` stream; at the end the server answers the
    /// listen request (graceful closure) and closes the stream (default 300 s).
    pub listen_max: std::time::Duration,
    /// How long a legacy tool call waits for the client's answer to the server-initiated
    /// `elicitation/create` or `sampling/createMessage` request (default 30 s).
    pub input_timeout: std::time::Duration,
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
            era: Era::Dual,
            keepalive: std::time::Duration::from_secs(15),
            listen_max: std::time::Duration::from_secs(300),
            input_timeout: std::time::Duration::from_secs(30),
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
    fn eras_parse() {
        assert_eq!("modern".parse::<Era>().unwrap(), Era::Modern);
        assert_eq!("legacy".parse::<Era>().unwrap(), Era::Legacy);
        assert_eq!("dual".parse::<Era>().unwrap(), Era::Dual);
        let long = "x".repeat(1000);
        let e = long.parse::<Era>().unwrap_err();
        assert!(e.len() < 120, "bounded: {e}");
    }

    #[test]
    fn roles_parse() {
        assert_eq!("no_access".parse::<Role>().unwrap(), Role::NoAccess);
        assert_eq!("read_only".parse::<Role>().unwrap(), Role::ReadOnly);
        assert!("boss".parse::<Role>().is_err());
    }
}
