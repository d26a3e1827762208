//! Records (plain values) crossing the boundary, and their conversions to and from the
//! client layer's and the core's types.

use std::collections::HashMap;

use serde_json::Value;
use workboard_client as client;
use workboard_core as wb;
use workboard_core::connection::Discovery;
use workboard_core::mcp::jsonrpc::{CallToolResult, ContentBlock, Implementation, Tool};
use workboard_core::mcp::surface::{
    Completion, CompletionRef, GetPromptResult, Prompt, Resource, ResourceContents,
    ResourceTemplate,
};
use workboard_core::oauth::flow::AuthContext;
use workboard_core::oauth::pending::AuthorizationCode;
use workboard_core::{Credentials, Dialect, Environment, SecretString};

use crate::error::{invalid, WorkboardError};

type Res<T> = Result<T, WorkboardError>;

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
    /// Which MCP era to speak (default `Auto`: 2026-07-28 first, `initialize` for a legacy
    /// server).
    #[uniffi(default = None)]
    pub era: Option<McpEra>,
    /// The minimum level of the log messages the server should send about each 2026-07-28
    /// request (`debug`, `info`, `notice`, `warning`, `error`, `critical`, `alert`,
    /// `emergency`); they arrive on `notifications()`.
    #[uniffi(default = None)]
    pub log_level: Option<String>,
    /// With an elicitation handler: also declare URL-mode elicitation (the user is sent to a
    /// URL; `McpElicitation.url`). Default: form mode only.
    #[uniffi(default = false)]
    pub elicitation_url_mode: bool,
}

/// Which MCP era a client speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum McpEra {
    /// 2026-07-28 first; `initialize` (a legacy session) when the server does not speak it.
    Auto,
    /// 2026-07-28 only: a server that does not speak it is an error.
    Modern,
    /// Legacy sessions only (`initialize`: 2025-11-25 down to 2025-03-26).
    Legacy,
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

/// One HTTP header.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct HttpHeader {
    /// Name as written.
    pub name: String,
    /// Value.
    pub value: String,
}

/// A request the app's [`Transport`] must send exactly as given (method, URL, headers in
/// order, body). Do not follow redirects: return 3xx responses as they are.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct HttpRequest {
    /// `GET`, `POST` or `DELETE`.
    pub method: String,
    /// Absolute URL.
    pub url: String,
    /// Headers in sending order. `Authorization` values are secrets: never log them.
    pub headers: Vec<HttpHeader>,
    /// Body bytes (empty for none).
    pub body: Vec<u8>,
    /// Where a transport that can stream hands an event-stream response (`Content-Type:
    /// text/event-stream`) over while it arrives: `head(status, headers)` once, then
    /// `chunk(bytes)` for each piece read, before returning the whole response as usual. A
    /// transport that ignores it works for everything but what needs an open stream (a
    /// subscription's notifications, a legacy server's requests on a call's stream), which
    /// it then delivers only when the stream ends.
    #[uniffi(default = None)]
    pub stream: Option<std::sync::Arc<crate::host::ResponseStream>>,
}

/// The complete response.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// Headers as received.
    pub headers: Vec<HttpHeader>,
    /// Body bytes.
    pub body: Vec<u8>,
}

impl From<wb::HttpRequest> for HttpRequest {
    fn from(r: wb::HttpRequest) -> Self {
        HttpRequest {
            method: r.method.as_str().to_string(),
            url: r.url,
            headers: r
                .headers
                .into_iter()
                .map(|(name, value)| HttpHeader { name, value })
                .collect(),
            body: r.body,
            stream: None,
        }
    }
}

impl From<HttpResponse> for wb::HttpResponse {
    fn from(r: HttpResponse) -> Self {
        wb::HttpResponse::new(
            r.status,
            r.headers.into_iter().map(|h| (h.name, h.value)).collect(),
            r.body,
        )
    }
}

/// An MCP tool as listed by the server (`tools/list`).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct McpTool {
    /// The tool's name (pass it to `call_tool`).
    pub name: String,
    /// Display title, if any.
    pub title: Option<String>,
    /// Description, if any.
    pub description: Option<String>,
    /// The JSON Schema of the arguments, as JSON text.
    pub input_schema_json: String,
    /// The whole tool object as sent by the server, as JSON text.
    pub json: String,
}

/// The result of `tools/call`. `is_error` is a tool-level failure (not an exception).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct McpToolResult {
    /// Whether the tool reported a failure.
    pub is_error: bool,
    /// The text blocks joined by `\n`.
    pub text: String,
    /// Every content block, as a JSON array text (`[{"type":"text","text":..}, ...]`).
    pub content_json: String,
    /// `structuredContent` as JSON text, if any.
    pub structured_content_json: Option<String>,
}

/// What `connect` learned about the MCP server.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct McpServerInfo {
    /// `serverInfo.name`.
    pub name: String,
    /// `serverInfo.version`.
    pub version: String,
    /// The negotiated MCP protocol version.
    pub protocol_version: String,
}

/// A resource as listed by the MCP server (`resources/list`).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct McpResource {
    /// Its URI (pass it to `read_resource`).
    pub uri: String,
    /// Name.
    pub name: String,
    /// Display title, if any.
    pub title: Option<String>,
    /// Description, if any.
    pub description: Option<String>,
    /// MIME type, if known.
    pub mime_type: Option<String>,
    /// Size in bytes, when the server says.
    pub size: Option<u64>,
}

/// A resource template (`resources/templates/list`; an RFC 6570 URI template).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct McpResourceTemplate {
    /// The URI template.
    pub uri_template: String,
    /// Name.
    pub name: String,
    /// Display title, if any.
    pub title: Option<String>,
    /// Description, if any.
    pub description: Option<String>,
    /// MIME type, if known.
    pub mime_type: Option<String>,
}

/// One item of `resources/read`: `text`, or `blob` (base64).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct McpResourceContents {
    /// The URI these contents are of.
    pub uri: String,
    /// MIME type, if known.
    pub mime_type: Option<String>,
    /// Text contents.
    pub text: Option<String>,
    /// Binary contents, base64.
    pub blob: Option<String>,
}

/// An argument a prompt takes.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct McpPromptArgument {
    /// Name.
    pub name: String,
    /// Description, if any.
    pub description: Option<String>,
    /// Whether it must be given.
    pub required: bool,
}

/// A prompt as listed by the MCP server (`prompts/list`).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct McpPrompt {
    /// Name (pass it to `get_prompt`).
    pub name: String,
    /// Display title, if any.
    pub title: Option<String>,
    /// Description, if any.
    pub description: Option<String>,
    /// Its arguments.
    pub arguments: Vec<McpPromptArgument>,
}

/// One message of a prompt.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct McpPromptMessage {
    /// `user` or `assistant`.
    pub role: String,
    /// The content block as sent (text, image, audio, resource...), as JSON text.
    pub content_json: String,
}

/// The result of `prompts/get`.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct McpPromptResult {
    /// Description, if any.
    pub description: Option<String>,
    /// The messages.
    pub messages: Vec<McpPromptMessage>,
}

/// What a completion is for.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum McpCompletionRef {
    /// A prompt's argument (`ref/prompt`).
    Prompt {
        /// The prompt's name.
        name: String,
    },
    /// A resource template's variable (`ref/resource`).
    ResourceTemplate {
        /// The template's URI.
        uri: String,
    },
}

/// The result of `completion/complete` (at most 100 values).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct McpCompletion {
    /// The suggested values.
    pub values: Vec<String>,
    /// How many there are in all, when the server says.
    pub total: Option<u64>,
    /// Whether there are more than `values`.
    pub has_more: bool,
}

/// What an MCP server speaks (`discover`).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct McpDiscovery {
    /// `true` for a 2026-07-28 server, `false` for a legacy (`initialize`) one.
    pub modern: bool,
    /// The protocol versions it said it supports (legacy: the negotiated one).
    pub supported_versions: Vec<String>,
    /// The version this client speaks with it.
    pub protocol_version: String,
    /// Its `serverInfo.name`, when it said.
    pub server_name: Option<String>,
    /// Its `serverInfo.version`, when it said.
    pub server_version: Option<String>,
    /// Its capabilities as sent, as JSON text.
    pub capabilities_json: String,
}

// ---------------------------------------------------------------- conversions

impl ClientOptions {
    /// The client layer's configuration.
    pub(crate) fn config(&self) -> Res<client::ClientConfig> {
        let environment = match self.environment.as_deref() {
            Some(e) => Environment::parse(e)?,
            None => Environment::Us,
        };
        let mut c = client::ClientConfig::new(environment);
        c.server_url = self.mcp_url.clone();
        c.credentials = match (&self.token, &self.credentials_json) {
            (Some(t), _) => Some(personal(t)?),
            (None, Some(j)) => Some(Credentials::from_json(j)?),
            (None, None) => None,
        };
        c.auth = self
            .auth_context_json
            .as_deref()
            .map(AuthContext::from_json)
            .transpose()?;
        c.client_info = Implementation::new(
            self.client_name.as_deref().unwrap_or("workboard-connect"),
            self.client_version
                .as_deref()
                .unwrap_or(env!("CARGO_PKG_VERSION")),
        );
        c.allow_client_secret = self.allow_client_secret;
        c.era = match self.era.unwrap_or(McpEra::Auto) {
            McpEra::Auto => client::EraPolicy::Auto,
            McpEra::Modern => client::EraPolicy::Modern,
            McpEra::Legacy => client::EraPolicy::Legacy,
        };
        c.log_level = self.log_level.clone();
        Ok(c)
    }
}

/// A personal token (a leading `Bearer ` is removed); empty is `invalid_input`.
pub(crate) fn personal(token: &str) -> Res<Credentials> {
    let c = Credentials::personal(token);
    if c.access_token().is_empty() {
        return Err(invalid("token", "empty"));
    }
    Ok(c)
}

impl V1SignInOptions {
    /// The v1 configuration (`environment` defaults to the client's).
    pub(crate) fn config(self, client_env: &Environment) -> Res<wb::oauth::v1::V1Config> {
        let environment = match self.environment.as_deref() {
            Some(e) => Environment::parse(e)?,
            None => client_env.clone(),
        };
        let mut c = wb::oauth::v1::V1Config::new(environment, self.client_id, self.redirect_uri);
        c.scopes = self.scopes;
        c.json_code = self.json_code;
        Ok(c)
    }
}

impl From<client::V1SignInStart> for V1SignInStart {
    fn from(s: client::V1SignInStart) -> Self {
        V1SignInStart {
            url: s.url,
            pending_json: s.pending_json,
        }
    }
}

impl From<AuthorizationCode> for V1Code {
    fn from(c: AuthorizationCode) -> Self {
        V1Code {
            code: c.code.expose().to_string(),
            redirect_uri: c.redirect_uri,
            client_id: c.client_id,
            token_endpoint: c.token_endpoint,
            scopes: c.scopes,
            received_at_ms: c.received_at_ms,
            expires_at_ms: c.expires_at_ms,
        }
    }
}

impl From<V1Code> for AuthorizationCode {
    fn from(c: V1Code) -> Self {
        AuthorizationCode {
            code: SecretString::new(c.code),
            dialect: Dialect::WorkboardV1,
            redirect_uri: c.redirect_uri,
            client_id: c.client_id,
            pkce_verifier: None,
            resource: None,
            token_endpoint: c.token_endpoint,
            scopes: c.scopes,
            received_at_ms: c.received_at_ms,
            expires_at_ms: c.expires_at_ms,
            extra: Value::Null,
        }
    }
}

impl McpSignInOptions {
    /// The client layer's options.
    pub(crate) fn options(self) -> Res<client::McpSignInOptions> {
        let mut o = client::McpSignInOptions::new(self.redirect_uri);
        o.server_url = self.server_url;
        o.client_id = self.client_id;
        o.client_secret = self.client_secret.map(SecretString::new);
        o.client_metadata_url = self.client_metadata_url;
        o.www_authenticate = self.www_authenticate;
        o.workboard_environment = self
            .workboard_environment
            .as_deref()
            .map(Environment::parse)
            .transpose()?;
        Ok(o)
    }
}

impl From<client::McpSignInStart> for McpSignInStart {
    fn from(s: client::McpSignInStart) -> Self {
        McpSignInStart {
            url: s.url,
            pending_json: s.pending_json,
            client_id: s.client_id,
            token_endpoint_auth: s.token_endpoint_auth,
            allowance: s.allowance,
        }
    }
}

impl From<&Tool> for McpTool {
    fn from(t: &Tool) -> Self {
        McpTool {
            name: t.name.clone(),
            title: t.title.clone(),
            description: t.description.clone(),
            input_schema_json: t.input_schema.to_string(),
            json: serde_json::to_string(t).unwrap_or_default(),
        }
    }
}

impl From<CallToolResult> for McpToolResult {
    fn from(r: CallToolResult) -> Self {
        McpToolResult {
            is_error: r.is_error,
            text: r.text(),
            content_json: Value::Array(r.content.iter().map(ContentBlock::to_value).collect())
                .to_string(),
            structured_content_json: r.structured_content.as_ref().map(Value::to_string),
        }
    }
}

impl From<client::ServerInfo> for McpServerInfo {
    fn from(s: client::ServerInfo) -> Self {
        McpServerInfo {
            name: s.name,
            version: s.version,
            protocol_version: s.protocol_version,
        }
    }
}

/// A list of the layer's values as records.
pub(crate) fn records<T, R: From<T>>(v: Vec<T>) -> Vec<R> {
    v.into_iter().map(R::from).collect()
}

/// Prompt arguments or completion context (strings by name) as JSON (`None`: none).
pub(crate) fn string_map(m: Option<HashMap<String, String>>) -> Value {
    m.map_or(Value::Null, |m| {
        Value::Object(m.into_iter().map(|(k, v)| (k, Value::String(v))).collect())
    })
}

impl From<Resource> for McpResource {
    fn from(r: Resource) -> Self {
        McpResource {
            uri: r.uri,
            name: r.name,
            title: r.title,
            description: r.description,
            mime_type: r.mime_type,
            size: r.size,
        }
    }
}

impl From<ResourceTemplate> for McpResourceTemplate {
    fn from(t: ResourceTemplate) -> Self {
        McpResourceTemplate {
            uri_template: t.uri_template,
            name: t.name,
            title: t.title,
            description: t.description,
            mime_type: t.mime_type,
        }
    }
}

impl From<ResourceContents> for McpResourceContents {
    fn from(c: ResourceContents) -> Self {
        McpResourceContents {
            uri: c.uri,
            mime_type: c.mime_type,
            text: c.text,
            blob: c.blob,
        }
    }
}

impl From<Prompt> for McpPrompt {
    fn from(p: Prompt) -> Self {
        McpPrompt {
            name: p.name,
            title: p.title,
            description: p.description,
            arguments: p
                .arguments
                .into_iter()
                .map(|a| McpPromptArgument {
                    name: a.name,
                    description: a.description,
                    required: a.required,
                })
                .collect(),
        }
    }
}

impl From<GetPromptResult> for McpPromptResult {
    fn from(p: GetPromptResult) -> Self {
        McpPromptResult {
            description: p.description,
            messages: p
                .messages
                .into_iter()
                .map(|m| McpPromptMessage {
                    role: m.role,
                    content_json: m.content.to_string(),
                })
                .collect(),
        }
    }
}

impl From<McpCompletionRef> for CompletionRef {
    fn from(r: McpCompletionRef) -> Self {
        match r {
            McpCompletionRef::Prompt { name } => CompletionRef::Prompt(name),
            McpCompletionRef::ResourceTemplate { uri } => CompletionRef::ResourceTemplate(uri),
        }
    }
}

impl From<Completion> for McpCompletion {
    fn from(c: Completion) -> Self {
        McpCompletion {
            values: c.values,
            total: c.total,
            has_more: c.has_more,
        }
    }
}

impl From<Discovery> for McpDiscovery {
    fn from(d: Discovery) -> Self {
        let (server_name, server_version) = d
            .server_info
            .map_or((None, None), |i| (Some(i.name), Some(i.version)));
        McpDiscovery {
            modern: d.modern,
            supported_versions: d.supported_versions,
            protocol_version: d.protocol_version,
            server_name,
            server_version,
            capabilities_json: d.capabilities.to_string(),
        }
    }
}

// ---------------------------------------------------------------- notifications

/// What a subscription asks for (at least one kind; at most 64 resource URIs).
#[derive(Debug, Clone, Default, PartialEq, Eq, uniffi::Record)]
pub struct McpSubscriptionFilter {
    /// `notifications/tools/list_changed`.
    #[uniffi(default = false)]
    pub tools_list_changed: bool,
    /// `notifications/prompts/list_changed`.
    #[uniffi(default = false)]
    pub prompts_list_changed: bool,
    /// `notifications/resources/list_changed`.
    #[uniffi(default = false)]
    pub resources_list_changed: bool,
    /// `notifications/resources/updated` for these resource URIs.
    #[uniffi(default = [])]
    pub resource_uris: Vec<String>,
}

impl From<McpSubscriptionFilter> for client::SubscriptionFilter {
    fn from(f: McpSubscriptionFilter) -> Self {
        client::SubscriptionFilter {
            tools_list_changed: f.tools_list_changed,
            prompts_list_changed: f.prompts_list_changed,
            resources_list_changed: f.resources_list_changed,
            resource_subscriptions: f.resource_uris,
        }
    }
}

/// A server notification (`notifications/resources/updated`, `notifications/message`,
/// `notifications/progress`, `notifications/subscriptions/acknowledged`, ...).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct McpNotification {
    /// Its method.
    pub method: String,
    /// Its params as sent, as JSON text (`{}` when it had none).
    pub params_json: String,
}

impl From<client::Notification> for McpNotification {
    fn from(n: client::Notification) -> Self {
        let params = if n.params.is_null() {
            Value::Object(Default::default())
        } else {
            n.params
        };
        McpNotification {
            method: n.method,
            params_json: params.to_string(),
        }
    }
}

// ---------------------------------------------------------------- input requests

/// A server asks the user for input (`elicitation/create`): a form (`requested_schema_json`)
/// or, in URL mode, a page to open (`url`).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct McpElicitation {
    /// `form` or `url`.
    pub mode: String,
    /// What to tell the user.
    pub message: String,
    /// Form mode: the JSON Schema of the answer (an object of primitive fields), as JSON text.
    pub requested_schema_json: Option<String>,
    /// URL mode: the page the user should open.
    pub url: Option<String>,
    /// URL mode: the server's id for this elicitation.
    pub elicitation_id: Option<String>,
    /// The request's params as sent, as JSON text.
    pub params_json: String,
}

/// What the user did with an elicitation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum McpElicitationAction {
    /// Answered (form mode: `content_json` holds the answer).
    Accept,
    /// Refused to answer.
    Decline,
    /// Dismissed it without choosing.
    Cancel,
}

/// The answer to an [`McpElicitation`].
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct McpElicitationResult {
    /// What the user did.
    pub action: McpElicitationAction,
    /// With `Accept` in form mode: the answer, a JSON object text matching the schema.
    #[uniffi(default = None)]
    pub content_json: Option<String>,
}

/// A server asks the app's language model for a message (`sampling/createMessage`).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct McpSamplingRequest {
    /// The conversation (`[{role, content}]`), as JSON text.
    pub messages_json: String,
    /// The system prompt, if any.
    pub system_prompt: Option<String>,
    /// The most tokens to generate, if given.
    pub max_tokens: Option<u64>,
    /// The request's params as sent (model preferences, ...), as JSON text.
    pub params_json: String,
}

/// The app's model's answer to an [`McpSamplingRequest`].
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct McpSamplingResult {
    /// Usually `assistant`.
    pub role: String,
    /// The content block (`{"type": "text", "text": ...}`), as JSON text.
    pub content_json: String,
    /// The model that answered.
    pub model: String,
    /// Why it stopped (`endTurn`, `maxTokens`, ...), if known.
    #[uniffi(default = None)]
    pub stop_reason: Option<String>,
}

/// A root the app exposes to servers (`roots/list`).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct McpRoot {
    /// Its URI (`file:///...`).
    pub uri: String,
    /// A display name, if any.
    #[uniffi(default = None)]
    pub name: Option<String>,
}

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_string)
}

/// A JSON text the app gave, parsed (`invalid_input` naming `what`, never quoting it).
fn app_json(what: &str, text: &str) -> Result<Value, wb::Error> {
    serde_json::from_str(text).map_err(|e| wb::Error::InvalidInput {
        what: what.into(),
        reason: format!("not JSON: {}", wb::untrusted::describe_json_error(&e)),
    })
}

/// Params given as JSON text: empty is none (`null`); otherwise a JSON object.
pub(crate) fn params_from_json(text: &str) -> Result<Value, wb::Error> {
    if text.trim().is_empty() {
        return Ok(Value::Null);
    }
    match app_json("request params_json", text)? {
        v @ Value::Object(_) => Ok(v),
        _ => Err(invalid_core("request params_json", "must be a JSON object")),
    }
}

impl McpElicitation {
    pub(crate) fn of(params: &Value) -> Self {
        McpElicitation {
            mode: text(params, "mode").unwrap_or_else(|| "form".into()),
            message: text(params, "message").unwrap_or_default(),
            requested_schema_json: params.get("requestedSchema").map(Value::to_string),
            url: text(params, "url"),
            elicitation_id: text(params, "elicitationId"),
            params_json: params.to_string(),
        }
    }
}

impl McpElicitationResult {
    /// The `ElicitResult`.
    pub(crate) fn to_value(&self) -> Result<Value, wb::Error> {
        let action = match self.action {
            McpElicitationAction::Accept => "accept",
            McpElicitationAction::Decline => "decline",
            McpElicitationAction::Cancel => "cancel",
        };
        let mut m = serde_json::Map::new();
        m.insert("action".into(), action.into());
        if let (McpElicitationAction::Accept, Some(c)) = (self.action, &self.content_json) {
            let content = app_json("elicitation content_json", c)?;
            if !content.is_object() {
                return Err(invalid_core(
                    "elicitation content_json",
                    "must be a JSON object",
                ));
            }
            m.insert("content".into(), content);
        }
        Ok(Value::Object(m))
    }
}

impl McpSamplingRequest {
    pub(crate) fn of(params: &Value) -> Self {
        McpSamplingRequest {
            messages_json: params.get("messages").map_or("[]".into(), Value::to_string),
            system_prompt: text(params, "systemPrompt"),
            max_tokens: params.get("maxTokens").and_then(Value::as_u64),
            params_json: params.to_string(),
        }
    }
}

impl McpSamplingResult {
    /// The `CreateMessageResult`.
    pub(crate) fn to_value(&self) -> Result<Value, wb::Error> {
        let mut m = serde_json::Map::new();
        m.insert("role".into(), self.role.clone().into());
        m.insert(
            "content".into(),
            app_json("sampling content_json", &self.content_json)?,
        );
        m.insert("model".into(), self.model.clone().into());
        if let Some(r) = &self.stop_reason {
            m.insert("stopReason".into(), r.clone().into());
        }
        Ok(Value::Object(m))
    }
}

/// The `ListRootsResult`.
pub(crate) fn roots_value(roots: Vec<McpRoot>) -> Value {
    let roots = roots
        .into_iter()
        .map(|r| {
            let mut m = serde_json::Map::new();
            m.insert("uri".into(), r.uri.into());
            if let Some(n) = r.name {
                m.insert("name".into(), n.into());
            }
            Value::Object(m)
        })
        .collect();
    serde_json::json!({ "roots": Value::Array(roots) })
}

fn invalid_core(what: &str, reason: &str) -> wb::Error {
    wb::Error::InvalidInput {
        what: what.into(),
        reason: reason.into(),
    }
}
