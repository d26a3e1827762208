//! Records (plain values) crossing the boundary.

use workboard_core as wb;

/// Options of [`crate::WorkboardClient::new`]. Every field is optional.
#[derive(Debug, Clone, Default, uniffi::Record)]
pub struct ClientOptions {
    /// `"us"` (default), `"eu"`, or a base URL such as `http://127.0.0.1:8080`.
    #[uniffi(default = None)]
    pub environment: Option<String>,
    /// The MCP endpoint (default: the environment's `/wb/mcp`).
    #[uniffi(default = None)]
    pub mcp_url: Option<String>,
    /// A personal ("instant") token from WorkBoard → Settings → Custom Integrations → App.
    #[uniffi(default = None)]
    pub token: Option<String>,
    /// Credentials JSON saved earlier (from the listener or `credentials_json()`). Without
    /// `token` and this, the credential store (if any) is read.
    #[uniffi(default = None)]
    pub credentials_json: Option<String>,
    /// The MCP OAuth context saved earlier from `auth_context_json()` (refresh/revoke).
    #[uniffi(default = None)]
    pub auth_context_json: Option<String>,
    /// Tests and transcript replay only: 64 hex characters seeding the random generator
    /// (default: the operating system's RNG).
    #[uniffi(default = None)]
    pub entropy_seed_hex: Option<String>,
    /// Allows a client secret (WorkBoard's Client Hash) in this process. Set it only in
    /// server-side code (a Python service): a secret shipped inside a mobile or desktop app
    /// can be extracted by anyone. Default false: such calls fail with `secret_in_browser`.
    #[uniffi(default = false)]
    pub allow_client_secret: bool,
    /// MCP `clientInfo.name` (default `workboard-connect`).
    #[uniffi(default = None)]
    pub client_name: Option<String>,
    /// MCP `clientInfo.version` (default: this library's version).
    #[uniffi(default = None)]
    pub client_version: Option<String>,
}

/// What the client holds, without any secret value.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CredentialsSummary {
    /// `personal` or `oauth`.
    pub kind: String,
    /// Token type (`bearer`).
    pub token_type: String,
    /// Granted scope, if known.
    pub scope: Option<String>,
    /// Expiry (unix ms), if known.
    pub expires_at_ms: Option<u64>,
    /// Whether a refresh token is held.
    pub has_refresh_token: bool,
}

impl CredentialsSummary {
    pub(crate) fn of(c: &wb::Credentials) -> CredentialsSummary {
        match c {
            wb::Credentials::OAuth(set) => CredentialsSummary {
                kind: "oauth".into(),
                token_type: set.token_type.clone(),
                scope: set.scope.clone(),
                expires_at_ms: set.expires_at_ms,
                has_refresh_token: set.refresh_token.is_some(),
            },
            _ => CredentialsSummary {
                kind: "personal".into(),
                token_type: "bearer".into(),
                scope: None,
                expires_at_ms: None,
                has_refresh_token: false,
            },
        }
    }
}

/// Options of `start_v1_sign_in` (WorkBoard OAuth v1).
#[derive(Debug, Clone, uniffi::Record)]
pub struct V1SignInOptions {
    /// The Client ID of the app registered in WorkBoard.
    pub client_id: String,
    /// The App Redirect URI registered in WorkBoard, character for character (an app link,
    /// a private-use scheme such as `com.example.app:/callback`, or loopback http).
    pub redirect_uri: String,
    /// Scopes; empty means the server default (`all`).
    #[uniffi(default = [])]
    pub scopes: Vec<String>,
    /// Ask for the code as a JSON body (`response_type=json_code`).
    #[uniffi(default = false)]
    pub json_code: bool,
    /// `"us"`, `"eu"` or a base URL (default: the client's environment).
    #[uniffi(default = None)]
    pub environment: Option<String>,
}

/// Result of `start_v1_sign_in`: open `url`; persist `pending_json` (it survives an app
/// restart; it contains the `state`: store it like a credential) until the redirect.
#[derive(Clone, uniffi::Record)]
pub struct V1SignInStart {
    /// The authorize URL to open in the browser.
    pub url: String,
    /// The pending authorization (5-minute lifetime).
    pub pending_json: String,
}

/// A checked v1 authorization code, to send to the app's server for the exchange (the
/// exchange needs the Client Hash, which must never ship inside an app). `code` is a secret.
#[derive(Clone, uniffi::Record)]
pub struct V1Code {
    /// The authorization code (valid 5 minutes).
    pub code: String,
    /// The redirect URI used (sent again with the exchange).
    pub redirect_uri: String,
    /// The client id.
    pub client_id: String,
    /// Where the code is exchanged.
    pub token_endpoint: String,
    /// Scopes requested.
    pub scopes: Vec<String>,
    /// When the redirect was handled (unix ms).
    pub received_at_ms: u64,
    /// When the code expires (unix ms).
    pub expires_at_ms: Option<u64>,
}

/// Options of `start_mcp_sign_in` (OAuth 2.1 for MCP; public client with PKCE by default).
#[derive(Debug, Clone, uniffi::Record)]
pub struct McpSignInOptions {
    /// Where the authorization server sends the browser back (exact, as registered).
    pub redirect_uri: String,
    /// The MCP server URL (default: the client's MCP URL).
    #[uniffi(default = None)]
    pub server_url: Option<String>,
    /// A pre-registered client id (else a client ID metadata document or dynamic
    /// registration).
    #[uniffi(default = None)]
    pub client_id: Option<String>,
    /// A client secret: refused unless `allow_client_secret` (server-side code only).
    #[uniffi(default = None)]
    pub client_secret: Option<String>,
    /// An https URL of this app's client ID metadata document.
    #[uniffi(default = None)]
    pub client_metadata_url: Option<String>,
    /// A `WWW-Authenticate` value from a 401 already received (skips the probe).
    #[uniffi(default = None)]
    pub www_authenticate: Option<String>,
    /// A WorkBoard base URL whose issuer quirk is allowed (US and EU always are).
    #[uniffi(default = None)]
    pub workboard_environment: Option<String>,
}

/// Result of `start_mcp_sign_in` / `step_up_mcp_sign_in`: open `url`; keep `pending_json`
/// (secrets inside: state, PKCE verifier) for `complete_mcp_sign_in`.
#[derive(Clone, uniffi::Record)]
pub struct McpSignInStart {
    /// The authorization URL.
    pub url: String,
    /// The pending authorization to keep until the redirect.
    pub pending_json: String,
    /// The client id in use.
    pub client_id: String,
    /// Token endpoint authentication: `none`, `client_secret_basic` or `client_secret_post`.
    pub token_endpoint_auth: String,
    /// A named issuer allowance in use (`workboard_wb_issuer`), if any.
    pub allowance: Option<String>,
}
