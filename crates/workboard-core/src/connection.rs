//! The connection machine: credentials + MCP session + the policies every platform shares.
//!
//! [`Connection`] is sans-IO (it implements [`SansIo`], so [`crate::drive`] runs it). The app
//! submits calls ([`Connection::list_tools`], [`Connection::call_tool`], [`Connection::ping`],
//! [`Connection::discover`], the resources, prompts and completion calls,
//! [`Connection::subscribe`], [`Connection::open_server_stream`], [`Connection::close`]); each
//! returns a [`CallHandle`]
//! whose result is taken with [`Connection::poll_result`] once
//! [`ConnectionEvent::CallCompleted`] was seen (or at any time: `None` means not yet).
//!
//! Policies, in one place for every platform:
//! - **Both MCP eras** ([`EraPolicy`], basic/versioning.mdx). The first call goes out as a
//!   modern (2026-07-28) request while the others wait: a result or a modern error means a
//!   modern server (no `initialize`, no session: from valid credentials to the first tool
//!   list, 1 request in 1 round trip per page); a 4xx without a modern error, or a result
//!   without `resultType`, means a legacy one, initialized as below. `-32022` retries with a
//!   version both speak (bounded by [`MAX_ERA_SWITCHES`]). The era is kept in
//!   [`Connection::save_state`] and probed again when it fails. The modern rules (request
//!   `_meta` and headers, `x-mcp-header`, `resultType`, the `ttlMs` tools cache, input rounds,
//!   stream cancellation) are described on [`ConnectionConfig`]'s fields and the methods.
//! - **Lazy, single initialization (legacy era).** The first call sends `initialize`; later
//!   calls queue behind it. When the result arrives, `notifications/initialized` and the queued calls are
//!   sent *together*: the lifecycle only asks the client not to send requests (other than
//!   pings) before the server has *responded* to `initialize`, and Streamable HTTP carries each
//!   message in its own POST, so nothing orders them anyway. From valid credentials to the
//!   first tool list: the probe, then 3 requests in 2 round trips (the era is stored: the next
//!   start sends the 3 at once); the GET stream opens only while calls run and the app can
//!   answer server requests, or when the app asks for it.
//! - **Credentials bound to their server.** Credentials and an OAuth context issued or set
//!   for another server are refused with [`Error::CredentialsNotForServer`] by
//!   [`Connection::new`] and [`Connection::set_credentials`]
//!   ([`crate::credentials::bind_for_server`]), so a token is never sent to a server it was
//!   not issued for and a refresh never happens at another server's token endpoint.
//! - **Credentials.** `Authorization: Bearer <token>` on every request. Refreshes proactively
//!   when [`Credentials::should_refresh`] says so. On 401 with a refresh token and an
//!   [`AuthContext`]: refresh once and replay — a single refresh for any number of calls
//!   waiting on it. A 401 after a refresh, or without the means to refresh, fails the call
//!   with [`Error::Unauthorized`] and emits [`ConnectionEvent::AuthorizationRequired`]: never a
//!   loop. [`ConnectionEvent::CredentialsChanged`] is emitted as soon as a refresh succeeds,
//!   before the rotated refresh token can ever be used, so the app persists it first.
//!   A token fresh from a refresh is used by at least one request before it is refreshed
//!   again, whatever its lifetime (a token endpoint issuing 1-second tokens cannot cause a
//!   refresh loop). With [`ConnectionConfig::coordinate_refresh`] (credentials shared by
//!   several holders through a store with a refresh lease) a due refresh first waits for the
//!   app: [`ConnectionEvent::RefreshDue`], then [`Connection::refresh_with_lease`] or the
//!   credentials another holder stored ([`Connection::set_credentials`]), and
//!   [`ConnectionEvent::RefreshEnded`] when the lease can go.
//! - **Unreachable token endpoint.** A refresh that fails in transport, or that the token
//!   endpoint answers with a transient failure (HTTP 5xx, 429 or 408, whatever the body), is
//!   not a verdict on the credentials: calls that need a new token (it expired, or the server
//!   refused it) wait for another attempt after [`REFRESH_BACKOFF_MS`] (doubled each time; at
//!   least the endpoint's `Retry-After` on 429/503, clamped to [`MAX_RETRY_AFTER_MS`]), and a
//!   call that has waited for [`MAX_REFRESH_ATTEMPTS`] fails with
//!   [`Error::TokenEndpointUnreachable`] — not a sign-in. A token that has not expired yet is
//!   used meanwhile. A refusal (400 `invalid_grant`, ...) needs a new sign-in.
//! - **Session expiry.** A 404 on a request that carried a session id re-initializes once and
//!   replays the call; a second 404 fails with [`Error::SessionExpired`].
//! - **Step-up.** 403 with `error="insufficient_scope"` emits
//!   [`ConnectionEvent::StepUpRequired`] and fails the call with [`Error::InsufficientScope`].
//! - **Back-off.** 429/503 with `Retry-After` (seconds, at most [`MAX_RETRY_AFTER_MS`]) are
//!   retried at most [`MAX_RETRIES`] times, on the machine's timer ([`SansIo::poll_timeout`]).
//! - **Safe replays.** A request without effects (`initialize`, `tools/list`, `ping`) is
//!   replayed once ([`MAX_SAFE_REPLAYS`]) when its connection failed (refused, or closed
//!   before the answer: a stale keep-alive connection, a restarting proxy) or when it was
//!   answered 503 without `Retry-After` (after [`SAFE_REPLAY_DELAY_MS`]). A timeout is not
//!   replayed (it already took the whole time limit), nor is a `tools/call`, which the server
//!   may have run: those fail with a typed error for the app to decide.
//! - **Resumption (legacy era).** When an SSE response ends before the answer, the call is resumed with
//!   `GET` + `Last-Event-ID` after the server's `retry` delay (at most
//!   [`MAX_RESUME_DELAY_MS`]), at most [`MAX_RESUMES`] times per call.
//!   Transports should therefore hand back what they read of a `text/event-stream` body that
//!   broke after the headers as `Ok` (the decoder drops the unfinished event; the last event
//!   id drives the resumption); an `Err` loses the event ids and fails the call.
//! - **Deadlines.** Every call but the GET stream has a whole-call deadline, from submission
//!   to result, whatever retries, refreshes and resumptions happen in between:
//!   [`ConnectionConfig::call_timeout_ms`] for `tools/call` (default 5 minutes),
//!   [`ConnectionConfig::request_timeout_ms`] for the others (default 2 minutes). A call past
//!   it fails with [`Error::Timeout`] (and `notifications/cancelled` if its request is in
//!   flight). All time arithmetic saturates: no input or clock value can overflow it.
//! - **Limits.** `tools/list` stops with [`Error::ToolListTooLarge`] beyond
//!   [`ConnectionConfig::max_tools`] tools, [`ConnectionConfig::max_tool_list_bytes`] response
//!   bytes or [`MAX_TOOL_PAGES`] pages. A body the transport refused as too large
//!   ([`TransportError::BodyTooLarge`]) fails the call as `response_too_large`, never replayed
//!   or resumed (the answer would be as large again).
//! - **Server requests** on any stream are answered: a request for input the app declared
//!   ([`ConnectionConfig::capabilities`]) goes to the app ([`ConnectionEvent::ServerRequest`]),
//!   `ping` gets `{}`, anything else JSON-RPC `-32601`, so the server never waits on this
//!   client. With a streaming transport ([`crate::Transport::send_streaming`]) they are read
//!   while the stream is open.

use crate::vecmap::VecMap;
use std::collections::VecDeque;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::credentials::{bind_for_server, Credentials};
use crate::driver::SansIo;
use crate::env::{check_secure_url, Environment, EU_BASE, US_BASE};
use crate::error::Error;
use crate::http::{redact_url, HttpRequest, HttpResponse, RequestId, TransportError};
use crate::mcp::jsonrpc::{
    self, CallToolResult, ClientCapabilities, Implementation, JsonRpcId, Message, Tool,
};
use crate::mcp::modern::{self, ParamHeader, ResultType, VersionEra};
use crate::mcp::session::{self, Limits, SessionInfo, SESSION_HEADER};
use crate::mcp::surface::{
    self, Completion, CompletionRef, GetPromptResult, ListKind, Prompt, Resource, ResourceContents,
    ResourceTemplate,
};
use crate::oauth::flow::AuthContext;
use crate::oauth::www_authenticate::parse_bearer;
use crate::states::{AuthInput, AuthState, SessionInput, SessionState, Slot};

/// Retries of a call answered 429/503 with `Retry-After`.
pub const MAX_RETRIES: u32 = 2;
/// Replays of a request without effects (`initialize`, `tools/list`, `ping`) whose connection
/// failed, or that was answered 503 without `Retry-After`. A `tools/call` is never replayed:
/// the server may have run it.
pub const MAX_SAFE_REPLAYS: u32 = 1;
/// Wait before the replay that follows a 503 without `Retry-After`.
pub const SAFE_REPLAY_DELAY_MS: u64 = 500;
/// Longest `Retry-After` honoured; longer waits fail the call at once.
pub const MAX_RETRY_AFTER_MS: u64 = 60_000;
/// Reconnections (`GET` + `Last-Event-ID`) of one call's broken stream.
pub const MAX_RESUMES: u32 = 3;
/// Reconnection delay when the server sent no `retry` field.
pub const DEFAULT_RESUME_DELAY_MS: u64 = 1_000;
/// Pages of `tools/list` followed before giving up.
pub const MAX_TOOL_PAGES: usize = 1_000;
/// Longest reconnection delay taken from an SSE `retry` field; longer values are clamped.
pub const MAX_RESUME_DELAY_MS: u64 = 30_000;
/// Refresh requests one call waits for while the token endpoint cannot be reached (or
/// answers 5xx, 429 or 408); then the call fails with [`Error::TokenEndpointUnreachable`].
pub const MAX_REFRESH_ATTEMPTS: u32 = 3;
/// Wait after the first failed refresh attempt; doubled after each further one.
pub const REFRESH_BACKOFF_MS: u64 = 1_000;
/// Default [`ConnectionConfig::max_tools`].
pub const DEFAULT_MAX_TOOLS: usize = 10_000;
/// Default [`ConnectionConfig::max_tool_list_bytes`]: 32 MiB.
pub const DEFAULT_MAX_TOOL_LIST_BYTES: usize = 32 * 1024 * 1024;
/// Default [`ConnectionConfig::call_timeout_ms`] (`tools/call`): 5 minutes.
pub const DEFAULT_CALL_TIMEOUT_MS: u64 = 5 * 60 * 1000;
/// Default [`ConnectionConfig::request_timeout_ms`] (`initialize`, `tools/list`, `ping`):
/// 2 minutes.
pub const DEFAULT_REQUEST_TIMEOUT_MS: u64 = 2 * 60 * 1000;
/// Era or version changes one call may go through (a fallback to `initialize`, a retry with
/// a version the server named): then the call fails with the server's answer.
pub const MAX_ERA_SWITCHES: u32 = 2;
/// Longest a `tools/list` result is cached, whatever `ttlMs` the server gave: 24 hours.
pub const MAX_TOOLS_TTL_MS: u64 = 24 * 60 * 60 * 1000;
/// Input rounds (MRTR) one call may go through; then it fails.
pub const MAX_INPUT_ROUNDS: u32 = 8;
/// Most input requests one round may carry.
pub const MAX_INPUT_REQUESTS: usize = 16;
/// Largest `requestState` echoed back (bytes).
pub const MAX_REQUEST_STATE_BYTES: usize = 256 * 1024;
/// Largest tool list (serialized) kept in [`Connection::save_state`].
pub const MAX_SAVED_TOOLS_BYTES: usize = 256 * 1024;

/// Which MCP era a connection speaks (basic/versioning.mdx).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum EraPolicy {
    /// Dual-era (default): a modern request first; when the server answers it with a 4xx
    /// without a modern error body, `initialize` (legacy) and the call again. The era found
    /// is kept with the session state ([`Connection::save_state`]) and probed again when it
    /// stops working.
    #[default]
    Auto,
    /// Modern only (2026-07-28): a server that does not speak it is an error.
    Modern,
    /// Legacy only: always `initialize` (2025-11-25, then what the server offers down to
    /// 2025-03-26).
    Legacy,
}

/// Identifies one call submitted by the app.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CallHandle(pub u64);

/// The successful result of a call.
#[derive(Clone, Debug, PartialEq)]
pub enum CallOutput {
    /// `list_tools`: every page, in order.
    Tools(Vec<Tool>),
    /// `call_tool` (a tool-level failure is `is_error: true` here).
    ToolResult(CallToolResult),
    /// `ping` answered.
    Pong,
    /// `close` done (the session was deleted, or the server does not support deletion).
    Closed,
    /// `open_server_stream` ended; `supported` is false when the server answered 405.
    ServerStreamEnded {
        /// Whether the server offers a GET stream.
        supported: bool,
    },
    /// `refresh` done: the new credentials were announced with
    /// [`ConnectionEvent::CredentialsChanged`] before this result.
    Refreshed,
    /// `discover`: what the server speaks.
    Discovered(Discovery),
    /// `list_resources`: every page, in order.
    Resources(Vec<Resource>),
    /// `list_resource_templates`: every page, in order.
    ResourceTemplates(Vec<ResourceTemplate>),
    /// `read_resource`: the contents.
    Contents(Vec<ResourceContents>),
    /// `list_prompts`: every page, in order.
    Prompts(Vec<Prompt>),
    /// `get_prompt`.
    Prompt(GetPromptResult),
    /// `complete`.
    Completion(Completion),
    /// [`Connection::request`]: the server's result as sent.
    Raw(Value),
    /// `subscribe`: the subscription ended (the server closed it; `graceful` when it said
    /// so with a result, which a client may take as "do not reconnect at once").
    SubscriptionEnded {
        /// The server ended it with a result (not a dropped stream).
        graceful: bool,
    },
}

/// One request of a server for input: `elicitation/create`, `sampling/createMessage` or
/// `roots/list`, with its params as sent.
#[derive(Clone, Debug, PartialEq)]
pub struct InputRequest {
    /// The server's key for it (MRTR); empty for a legacy server request.
    pub key: String,
    /// The method.
    pub method: String,
    /// Its params.
    pub params: Value,
}

/// The answers of one input round, and the state to echo.
#[derive(Clone, Debug)]
struct InputRound {
    responses: serde_json::Map<String, Value>,
    state: Option<String>,
}

/// What a subscription asks for (basic/patterns/subscriptions.mdx).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SubscriptionFilter {
    /// `notifications/tools/list_changed`.
    #[serde(
        rename = "toolsListChanged",
        skip_serializing_if = "std::ops::Not::not"
    )]
    pub tools_list_changed: bool,
    /// `notifications/prompts/list_changed`.
    #[serde(
        rename = "promptsListChanged",
        skip_serializing_if = "std::ops::Not::not"
    )]
    pub prompts_list_changed: bool,
    /// `notifications/resources/list_changed`.
    #[serde(
        rename = "resourcesListChanged",
        skip_serializing_if = "std::ops::Not::not"
    )]
    pub resources_list_changed: bool,
    /// `notifications/resources/updated` for these URIs (at most
    /// [`MAX_SUBSCRIBED_RESOURCES`]).
    #[serde(
        rename = "resourceSubscriptions",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub resource_subscriptions: Vec<String>,
}

/// Most resources one subscription follows.
pub const MAX_SUBSCRIBED_RESOURCES: usize = 64;

impl SubscriptionFilter {
    /// Whether a notification is one this filter asked for (a legacy server's GET stream
    /// carries every kind).
    fn wants(&self, method: &str, params: &Value) -> bool {
        match method {
            "notifications/tools/list_changed" => self.tools_list_changed,
            "notifications/prompts/list_changed" => self.prompts_list_changed,
            "notifications/resources/list_changed" => self.resources_list_changed,
            "notifications/resources/updated" => params
                .get("uri")
                .and_then(Value::as_str)
                .is_some_and(|u| self.resource_subscriptions.iter().any(|r| r == u)),
            _ => false,
        }
    }
}

#[derive(Serialize)]
struct ListenParams<'a> {
    notifications: &'a SubscriptionFilter,
}

#[derive(Serialize)]
struct UriParams<'a> {
    uri: &'a str,
}

/// What a server speaks ([`Connection::discover`]).
#[derive(Clone, Debug, PartialEq)]
pub struct Discovery {
    /// `true` for a modern (2026-07-28) server, `false` for a legacy (`initialize`) one.
    pub modern: bool,
    /// The protocol versions it said it supports (legacy: the negotiated one).
    pub supported_versions: Vec<String>,
    /// The version this connection speaks with it.
    pub protocol_version: String,
    /// Its name and version, when it said.
    pub server_info: Option<Implementation>,
    /// Its capabilities as sent.
    pub capabilities: Value,
}

/// What the app hears about, drained with [`Connection::poll_event`].
#[derive(Clone, Debug, PartialEq)]
pub enum ConnectionEvent {
    /// A call finished: take its result with [`Connection::poll_result`].
    CallCompleted(CallHandle),
    /// `initialize` completed.
    Initialized {
        /// The negotiated version.
        protocol_version: String,
        /// The server's `serverInfo`.
        server_info: Implementation,
    },
    /// New credentials (after a refresh): persist them now. Contains secrets.
    CredentialsChanged(Credentials),
    /// A refresh is due and [`ConnectionConfig::coordinate_refresh`] is on: take the store's
    /// refresh lease, then call [`Connection::refresh_with_lease`] — or, when another holder
    /// stored newer credentials meanwhile, hand them over with
    /// [`Connection::set_credentials`] (no refresh then). Calls that need the new token wait.
    RefreshDue,
    /// The refresh this connection made ended (with new credentials, announced before, or
    /// not): with [`ConnectionConfig::coordinate_refresh`], release the lease now.
    RefreshEnded,
    /// The server refused the credentials and they cannot be refreshed: sign in again
    /// (pass `www_authenticate` to the OAuth flow).
    AuthorizationRequired {
        /// The 401's `WWW-Authenticate` header, if any.
        www_authenticate: Option<String>,
    },
    /// The token lacks a scope: authorize again with `scope` (step-up).
    StepUpRequired {
        /// The scope the server asked for.
        scope: Option<String>,
        /// The 403's `WWW-Authenticate` header.
        www_authenticate: Option<String>,
    },
    /// The server needs input to go on with a call (a multi round-trip request,
    /// 2026-07-28): obtain each answer (elicitation from the user, sampling from the app's
    /// LLM, roots) and give them with [`Connection::provide_input`], or cancel the call.
    /// Only requests the configured [`ClientCapabilities`] allow ever reach the app.
    InputRequired {
        /// The call that waits.
        call: CallHandle,
        /// What the server asks, by key.
        requests: Vec<InputRequest>,
    },
    /// A legacy server asks for input with a request of its own (elicitation, sampling,
    /// roots): answer with [`Connection::answer_server_request`].
    ServerRequest {
        /// The server's request id.
        request_id: JsonRpcId,
        /// What it asks.
        request: InputRequest,
    },
    /// A notification about one call, on that call's own stream: its progress
    /// (`notifications/progress`) or a log message (`notifications/message`, at the
    /// [`ConnectionConfig::log_level`] asked for). Other notifications are
    /// [`ConnectionEvent::ServerNotification`].
    CallNotification {
        /// The call.
        call: CallHandle,
        /// Method.
        method: String,
        /// Params.
        params: Value,
    },
    /// What [`Connection::save_state`] returns changed (the server's era was found, a session
    /// began or ended, the tool list was cached): persist it now if you persist it at all.
    StateChanged,
    /// A notification from the server.
    ServerNotification {
        /// Method.
        method: String,
        /// Params.
        params: Value,
    },
    /// The server's tool list changed (`notifications/tools/list_changed`).
    ToolsListChanged,
    /// Something worth logging (never contains secrets).
    Diagnostic(String),
}

/// How to build a [`Connection`].
#[derive(Clone, Debug)]
pub struct ConnectionConfig {
    /// The MCP endpoint (https, or http on loopback).
    pub server_url: String,
    /// Sent as `clientInfo`.
    pub client_info: Implementation,
    /// Credentials to attach (none: the server may answer 401, then sign in). Only
    /// credentials of this server are accepted ([`crate::credentials::bind_for_server`]).
    pub credentials: Option<Credentials>,
    /// OAuth context used to refresh OAuth credentials.
    pub auth: Option<AuthContext>,
    /// What [`Connection::save_state`] returned earlier (skips `initialize`).
    pub restored_state: Option<String>,
    /// Body limits.
    pub limits: Limits,
    /// Most tools `list_tools` accepts across all pages (then [`Error::ToolListTooLarge`]).
    pub max_tools: usize,
    /// Most response bytes `list_tools` accepts across all pages (then
    /// [`Error::ToolListTooLarge`]).
    pub max_tool_list_bytes: usize,
    /// Whole-call deadline of a `tools/call`, from submission to result, whatever the
    /// retries, refreshes and stream resumptions in between (then [`Error::Timeout`]).
    /// `u64::MAX`: none.
    pub call_timeout_ms: u64,
    /// Whole-call deadline of `initialize`, `tools/list` (all pages) and `ping`.
    /// `u64::MAX`: none. The GET stream ([`Connection::open_server_stream`]) has none.
    pub request_timeout_ms: u64,
    /// Which era to speak ([`EraPolicy::Auto`]: both).
    pub era: EraPolicy,
    /// The minimum level of log messages the server should send about each modern request
    /// (`debug`, `info`, `notice`, `warning`, `error`, `critical`, `alert`, `emergency`);
    /// they arrive as [`ConnectionEvent::ServerNotification`] (`notifications/message`).
    pub log_level: Option<String>,
    /// The input this client can give (declared to servers; default: none).
    pub capabilities: ClientCapabilities,
    /// The credentials are shared with other holders (processes, machines) through a store
    /// with a refresh lease: a due refresh waits for the app
    /// ([`ConnectionEvent::RefreshDue`]) to take the lease and call
    /// [`Connection::refresh_with_lease`], or to hand over the credentials another holder
    /// stored meanwhile ([`Connection::set_credentials`]), so a rotating refresh token is
    /// used once across all of them. Default: `false` (this connection refreshes alone).
    pub coordinate_refresh: bool,
}

impl ConnectionConfig {
    /// A configuration for `server_url` with default client info and no credentials.
    pub fn new(server_url: impl Into<String>) -> Self {
        ConnectionConfig {
            server_url: server_url.into(),
            client_info: Implementation::default(),
            credentials: None,
            auth: None,
            restored_state: None,
            limits: Limits::default(),
            max_tools: DEFAULT_MAX_TOOLS,
            max_tool_list_bytes: DEFAULT_MAX_TOOL_LIST_BYTES,
            call_timeout_ms: DEFAULT_CALL_TIMEOUT_MS,
            request_timeout_ms: DEFAULT_REQUEST_TIMEOUT_MS,
            era: EraPolicy::Auto,
            log_level: None,
            capabilities: ClientCapabilities::default(),
            coordinate_refresh: false,
        }
    }

    /// With refreshes coordinated through the app's store
    /// ([`ConnectionConfig::coordinate_refresh`]).
    pub fn coordinate_refresh(mut self, coordinate: bool) -> Self {
        self.coordinate_refresh = coordinate;
        self
    }

    /// With an era policy ([`ConnectionConfig::era`]).
    pub fn era(mut self, era: EraPolicy) -> Self {
        self.era = era;
        self
    }

    /// With a per-request log level ([`ConnectionConfig::log_level`]).
    pub fn log_level(mut self, level: impl Into<String>) -> Self {
        self.log_level = Some(level.into());
        self
    }

    /// The MCP endpoint of a WorkBoard environment.
    pub fn for_environment(env: &Environment) -> Self {
        ConnectionConfig::new(env.mcp_url())
    }

    /// With credentials.
    pub fn credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = Some(credentials);
        self
    }

    /// With an OAuth context for refresh.
    pub fn auth(mut self, auth: AuthContext) -> Self {
        self.auth = Some(auth);
        self
    }

    /// With a saved state.
    pub fn restored_state(mut self, state: impl Into<String>) -> Self {
        self.restored_state = Some(state.into());
        self
    }

    /// With client info.
    pub fn client_info(mut self, info: Implementation) -> Self {
        self.client_info = info;
        self
    }

    /// With a whole-call deadline for `tools/call` ([`ConnectionConfig::call_timeout_ms`];
    /// whole milliseconds, saturating: `Duration::MAX` means none).
    pub fn call_timeout(mut self, timeout: std::time::Duration) -> Self {
        self.call_timeout_ms = duration_ms(timeout);
        self
    }

    /// With a whole-call deadline for `initialize`, `tools/list` and `ping`
    /// ([`ConnectionConfig::request_timeout_ms`]; `Duration::MAX` means none).
    pub fn request_timeout(mut self, timeout: std::time::Duration) -> Self {
        self.request_timeout_ms = duration_ms(timeout);
        self
    }

    /// With a cap on the tools `list_tools` accepts ([`ConnectionConfig::max_tools`]).
    pub fn max_tools(mut self, max_tools: usize) -> Self {
        self.max_tools = max_tools;
        self
    }

    /// With a cap on the response bytes `list_tools` accepts across its pages
    /// ([`ConnectionConfig::max_tool_list_bytes`]).
    pub fn max_tool_list_bytes(mut self, max_bytes: usize) -> Self {
        self.max_tool_list_bytes = max_bytes;
        self
    }
}

/// A duration in whole milliseconds, saturating at `u64::MAX` (no deadline).
fn duration_ms(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// What `save_state` writes: the session's fields at the top level (`flatten`). Read back as
/// [`SavedRest`] and [`SessionInfo`] from the same object, without serde's `flatten` (its
/// buffering code is the largest part of reading it, in the WebAssembly build).
#[derive(Serialize)]
struct SavedState {
    server_url: String,
    #[serde(flatten)]
    session: SessionInfo,
    /// The last tool list while its `ttlMs` lasts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tools: Option<CachedTools>,
    /// The capabilities a legacy session was opened with (`initialize` declared them for
    /// the session's lifetime).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    capabilities: Option<Value>,
}

/// [`SavedState`] but its session (read from the same object).
struct SavedRest {
    server_url: String,
    tools: Option<CachedTools>,
    capabilities: Option<Value>,
}

impl SavedState {
    fn parse(json: &str) -> Result<SavedState, serde_json::Error> {
        let value: Value = serde_json::from_slice(json.as_bytes())?;
        let rest = crate::json::from_object(value.clone(), "saved connection state", |f| {
            Ok(SavedRest {
                server_url: f.req("server_url")?,
                tools: f.opt("tools")?,
                capabilities: f.opt("capabilities")?,
            })
        })?;
        Ok(SavedState {
            server_url: rest.server_url,
            session: crate::json::from_value(value)?,
            tools: rest.tools,
            capabilities: rest.capabilities,
        })
    }
}

#[derive(Clone, Debug, Serialize)]
struct CachedTools {
    tools: Vec<Tool>,
    expires_at_ms: u64,
}

/// Read by hand (`json::object`), as the `Serialize` derive above writes it.
impl<'de> Deserialize<'de> for CachedTools {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        crate::json::object(d, "struct CachedTools", |f| {
            Ok(CachedTools {
                tools: f.req("tools")?,
                expires_at_ms: f.req("expires_at_ms")?,
            })
        })
    }
}

#[derive(Clone, Debug)]
enum Op {
    Initialize,
    ListTools {
        acc: Vec<Tool>,
        cursor: Option<String>,
        seen: Vec<String>,
        /// Response bytes read for this call so far (all pages).
        bytes: usize,
        /// The smallest `ttlMs` of its pages so far (`u64::MAX` before the first; a page
        /// without one counts as 0: the list is not cached).
        ttl_ms: u64,
    },
    CallTool {
        name: String,
        arguments: Value,
    },
    Ping,
    /// `server/discover` (modern), or what `initialize` said (legacy).
    Discover,
    /// A subscription: `subscriptions/listen` (modern), or the GET stream after
    /// `resources/subscribe` (legacy).
    Listen {
        filter: SubscriptionFilter,
        /// Legacy: the `resources/subscribe` requests were sent.
        subscribed: bool,
    },
    /// A paginated list of the surface (resources, templates, prompts).
    List {
        kind: ListKind,
        acc: Vec<Value>,
        cursor: Option<String>,
        seen: Vec<String>,
    },
    Read {
        uri: String,
    },
    GetPrompt {
        name: String,
        arguments: serde_json::Map<String, Value>,
    },
    Complete {
        reference: CompletionRef,
        argument: String,
        value: String,
        context: Option<serde_json::Map<String, Value>>,
    },
    ServerStream,
    /// A refresh the app asked for: joins the single flight (never sent as JSON-RPC).
    Refresh,
    /// A request this machine does not interpret ([`Connection::request`]).
    Raw {
        method: String,
        params: serde_json::Map<String, Value>,
        /// The app's client runs the input rounds
        /// ([`Connection::request_with_client_input`]).
        client_input: bool,
        /// What that client declared it can answer (its request's
        /// `io.modelcontextprotocol/clientCapabilities`), declared for it.
        client_capabilities: Option<Value>,
    },
}

#[derive(Clone, Debug, PartialEq)]
enum Phase {
    Queued,
    Sent {
        http: RequestId,
        resume: bool,
    },
    RetryAt(u64),
    ResumeAt(u64),
    /// A tool call refused with `HeaderMismatch`: it waits for the tool list
    /// ([`Slot::Relist`]) to
    /// learn the tool's `x-mcp-header` annotations, then goes again.
    AwaitingTools,
    /// The server asked for input: the call waits for [`Connection::provide_input`].
    AwaitingInput,
}

#[derive(Debug)]
struct Call {
    op: Op,
    phase: Phase,
    rpc_id: Option<JsonRpcId>,
    retries: u32,
    replays: u32,
    resumes: u32,
    last_event_id: Option<String>,
    retry_ms: Option<u64>,
    refresh_used: bool,
    reinit_used: bool,
    sent_generation: u64,
    sent_session: Option<String>,
    /// Failed refresh attempts (token endpoint unreachable) this call waited for.
    refresh_attempts: u32,
    /// Its last request was answered 401: it waits for new credentials.
    refused: bool,
    /// When the whole call times out (unix ms), if ever.
    deadline: Option<u64>,
    /// The version of its last request when it went out modern.
    sent_modern: Option<&'static str>,
    /// Era or version changes it went through ([`MAX_ERA_SWITCHES`]).
    era_switches: u32,
    /// It was sent again after a `HeaderMismatch` (once).
    relisted: bool,
    /// The answers its next request carries (MRTR).
    input: Option<InputRound>,
    /// Input rounds so far ([`MAX_INPUT_ROUNDS`]).
    input_rounds: u32,
    /// While it waits for input: the keys asked and the state to echo.
    awaiting: Option<(Vec<String>, Option<String>)>,
}

#[derive(Debug, Clone, Copy)]
enum Flight {
    Call(Slot),
    Initialized,
    Notification,
    Refresh(u64),
    Delete(CallHandle),
}

/// Times the connection opens that stream at most.
pub const MAX_LISTEN_STREAMS: u32 = 16;
/// How long calls wait for that stream to open (its response head) before they go anyway
/// (a whole-body transport never hands the head over).
pub const LISTEN_WAIT_MS: u64 = 2_000;

/// The connection machine. See the module docs.
#[derive(Debug)]
pub struct Connection {
    url: String,
    env_label: String,
    client_info: Implementation,
    credentials: Option<Credentials>,
    auth: Option<AuthContext>,
    limits: Limits,
    max_tools: usize,
    max_tool_list_bytes: usize,
    call_timeout_ms: u64,
    request_timeout_ms: u64,
    /// The era and the session ([`SessionState::step`]).
    state: SessionState,
    /// The credentials' state ([`AuthState::step`]).
    auth_state: AuthState,
    /// Bumped whenever the credentials change: a request sent with older ones that is
    /// refused goes again with the current ones.
    generation: u64,
    calls: VecMap<Slot, Call>,
    rpc_index: VecMap<JsonRpcId, Slot>,
    flights: VecMap<RequestId, Flight>,
    outbox: VecDeque<HttpRequest>,
    events: VecDeque<ConnectionEvent>,
    results: VecMap<CallHandle, Result<CallOutput, Error>>,
    next_handle: u64,
    next_http: u64,
    next_rpc: i64,
    last_now_ms: u64,
    policy: EraPolicy,
    /// The legacy version `initialize` asks for.
    legacy_version: &'static str,
    /// The modern version requests declare.
    modern_version: &'static str,
    log_level: Option<String>,
    /// `clientCapabilities` as sent.
    capabilities: Value,
    caps: ClientCapabilities,
    /// [`ConnectionConfig::coordinate_refresh`].
    coordinate_refresh: bool,
    /// `initialize`'s `capabilities` (legacy) or `server/discover`'s (modern).
    server_capabilities: Value,
    tools_cache: Option<CachedTools>,
    /// `x-mcp-header` annotations of the tools last listed (modern).
    tool_headers: VecMap<String, Vec<ParamHeader>>,
    /// Event streams being read while they arrive (streaming transports), by request.
    streams: VecMap<RequestId, session::SseStream>,
    /// GET streams opened for the server's requests ([`MAX_LISTEN_STREAMS`]).
    listens: u32,
    /// The server answered the GET stream with 405: it has none.
    no_get_stream: bool,
    /// Calls wait until then for the GET stream to open (see [`LISTEN_WAIT_MS`]).
    listen_wait: Option<u64>,
}

impl Connection {
    /// A connection to `config.server_url` (validated: https, or http on loopback).
    ///
    /// Credentials or an OAuth context bound to another server fail with
    /// [`Error::CredentialsNotForServer`]; unbound credentials are bound to this server (see
    /// [`crate::credentials::bind_for_server`]).
    pub fn new(config: ConnectionConfig) -> Result<Connection, Error> {
        let parsed = url::Url::parse(config.server_url.trim()).map_err(|e| Error::InvalidUrl {
            what: "MCP server URL".into(),
            reason: e.to_string(),
        })?;
        check_secure_url(&parsed, "MCP server URL")?;
        let url = parsed.to_string();
        let credentials = bind_for_server(&url, config.credentials, config.auth.as_ref())?;
        let env_label = environment_label(&parsed);
        if let Some(level) = &config.log_level {
            if !modern::LOG_LEVELS.contains(&level.as_str()) {
                return Err(Error::InvalidInput {
                    what: "log level".into(),
                    reason: format!("must be one of {}", modern::LOG_LEVELS.join(", ")),
                });
            }
        }
        let state = match config.era {
            EraPolicy::Auto => SessionState::Unknown,
            EraPolicy::Modern => SessionState::Modern {
                version: modern::MODERN_PROTOCOL_VERSIONS[0],
                info: SessionInfo {
                    protocol_version: Some(modern::MODERN_PROTOCOL_VERSIONS[0].to_string()),
                    ..SessionInfo::default()
                },
            },
            EraPolicy::Legacy => SessionState::LegacyInitializing { session_id: None },
        };
        let mut conn = Connection {
            url,
            env_label,
            client_info: config.client_info,
            credentials,
            auth: config.auth,
            limits: config.limits,
            max_tools: config.max_tools,
            max_tool_list_bytes: config.max_tool_list_bytes,
            call_timeout_ms: config.call_timeout_ms,
            request_timeout_ms: config.request_timeout_ms,
            state,
            auth_state: AuthState::START,
            generation: 0,
            calls: VecMap::new(),
            rpc_index: VecMap::new(),
            flights: VecMap::new(),
            outbox: VecDeque::new(),
            events: VecDeque::new(),
            results: VecMap::new(),
            next_handle: 1,
            next_http: 0,
            next_rpc: 0,
            last_now_ms: 0,
            policy: config.era,
            legacy_version: modern::LEGACY_PROTOCOL_VERSIONS[0],
            modern_version: modern::MODERN_PROTOCOL_VERSIONS[0],
            log_level: config.log_level,
            capabilities: config.capabilities.to_value(),
            caps: config.capabilities,
            coordinate_refresh: config.coordinate_refresh,
            server_capabilities: Value::Null,
            tools_cache: None,
            tool_headers: VecMap::new(),
            streams: VecMap::new(),
            listens: 0,
            no_get_stream: false,
            listen_wait: None,
        };
        if let Some(state) = config.restored_state {
            let saved = SavedState::parse(&state).map_err(|_| Error::InvalidInput {
                what: "saved connection state".into(),
                reason: "not the JSON written by Connection::save_state".into(),
            })?;
            if saved.server_url == conn.url {
                let era = match &saved.session.protocol_version {
                    Some(v) => Some(modern::version_era(v).ok_or_else(|| {
                        Error::UnsupportedProtocolVersion(v.chars().take(40).collect())
                    })?),
                    None => None,
                };
                let fits = match (conn.policy, era) {
                    (_, None) => false,
                    (EraPolicy::Auto, Some(_)) => true,
                    (EraPolicy::Modern, Some(e)) => e == VersionEra::Modern,
                    (EraPolicy::Legacy, Some(e)) => e == VersionEra::Legacy,
                };
                if fits {
                    let mut session = saved.session;
                    if era == Some(VersionEra::Modern) {
                        let v = session.protocol_version.as_deref().unwrap_or_default();
                        let v = modern::MODERN_PROTOCOL_VERSIONS
                            .iter()
                            .copied()
                            .find(|m| *m == v)
                            .unwrap_or(conn.modern_version);
                        conn.modern_version = v;
                        session.session_id = None;
                        session.protocol_version = Some(v.to_string());
                        conn.state = SessionState::Modern {
                            version: v,
                            info: session,
                        };
                    } else {
                        // A legacy session knows only the capabilities its `initialize`
                        // declared: with other ones, a new session declares them.
                        let declared = saved
                            .capabilities
                            .clone()
                            .unwrap_or_else(|| Value::Object(Default::default()));
                        conn.state = if declared != conn.capabilities {
                            conn.diag("the saved MCP session was opened with other client capabilities: opening a new one".into());
                            SessionState::LegacyInitializing { session_id: None }
                        } else {
                            SessionState::LegacyReady {
                                info: session,
                                continue_ids: true,
                            }
                        };
                    }
                    if let Some(cache) = &saved.tools {
                        for tool in &cache.tools {
                            if let Ok(a) = modern::param_headers(tool) {
                                if !a.is_empty() {
                                    conn.tool_headers.insert(tool.name.clone(), a);
                                }
                            }
                        }
                    }
                    conn.tools_cache = saved.tools;
                } else if era.is_some() {
                    conn.diag(
                        "saved state is for another MCP era than the one asked for; ignoring it"
                            .into(),
                    );
                }
            } else {
                conn.diag("saved state is for another server URL; ignoring it".into());
            }
        }
        Ok(conn)
    }

    /// Lists every tool, following `nextCursor` to the end (a repeated cursor fails the call).
    /// While the `ttlMs` of the last list lasts (modern servers), the cached list is the
    /// answer and no request is sent; `notifications/tools/list_changed` ends it.
    pub fn list_tools(&mut self, now_ms: u64) -> CallHandle {
        if let Some(cache) = &self.tools_cache {
            if now_ms < cache.expires_at_ms && !self.state.is_shut() {
                let tools = cache.tools.clone();
                let h = self.new_handle();
                self.finish(Slot::App(h), Ok(CallOutput::Tools(tools)));
                return h;
            }
        }
        self.submit(
            Op::ListTools {
                acc: Vec::new(),
                cursor: None,
                seen: Vec::new(),
                bytes: 0,
                ttl_ms: u64::MAX,
            },
            now_ms,
        )
    }

    /// Calls a tool. `arguments` should be a JSON object (`null` is sent as `{}`).
    pub fn call_tool(&mut self, name: &str, arguments: Value, now_ms: u64) -> CallHandle {
        let arguments = if arguments.is_null() {
            Value::Object(Default::default())
        } else {
            arguments
        };
        if name.trim().is_empty() || !arguments.is_object() {
            let h = self.new_handle();
            self.finish(
                Slot::App(h),
                Err(Error::InvalidInput {
                    what: "tool call".into(),
                    reason: "a tool name and an object of arguments are required".into(),
                }),
            );
            return h;
        }
        self.submit(
            Op::CallTool {
                name: name.to_string(),
                arguments,
            },
            now_ms,
        )
    }

    /// Checks the server answers: `ping` (legacy); `server/discover` on a modern server,
    /// which has no `ping`.
    pub fn ping(&mut self, now_ms: u64) -> CallHandle {
        self.submit(Op::Ping, now_ms)
    }

    /// Subscribes to change notifications (basic/patterns/subscriptions.mdx): a modern
    /// server's `subscriptions/listen` stream, or, on a legacy one, `resources/subscribe`
    /// for each URI and the GET stream (filtered to what was asked). Each notification is a
    /// [`ConnectionEvent::CallNotification`] of this handle (the modern acknowledgment too:
    /// `notifications/subscriptions/acknowledged`, with what the server agreed to). It lasts
    /// until [`Connection::cancel`] (which closes the stream) or the server ends it
    /// ([`CallOutput::SubscriptionEnded`]); it has no deadline. Needs a streaming transport
    /// to hear notifications before the stream ends.
    pub fn subscribe(&mut self, filter: SubscriptionFilter, now_ms: u64) -> CallHandle {
        let empty = !filter.tools_list_changed
            && !filter.prompts_list_changed
            && !filter.resources_list_changed
            && filter.resource_subscriptions.is_empty();
        if empty {
            return self.refuse("subscription", "ask for at least one kind of notification");
        }
        if filter.resource_subscriptions.len() > MAX_SUBSCRIBED_RESOURCES
            || filter
                .resource_subscriptions
                .iter()
                .any(|u| u.trim().is_empty() || u.len() > 8 * 1024)
        {
            return self.refuse(
                "subscription",
                "at most 64 resource URIs, each non-empty and at most 8 KiB",
            );
        }
        self.submit(
            Op::Listen {
                filter,
                subscribed: false,
            },
            now_ms,
        )
    }

    /// Lists every resource ([`CallOutput::Resources`]), following `nextCursor`.
    pub fn list_resources(&mut self, now_ms: u64) -> CallHandle {
        self.submit_list(ListKind::Resources, now_ms)
    }

    /// Lists every resource template ([`CallOutput::ResourceTemplates`]).
    pub fn list_resource_templates(&mut self, now_ms: u64) -> CallHandle {
        self.submit_list(ListKind::Templates, now_ms)
    }

    /// Lists every prompt ([`CallOutput::Prompts`]).
    pub fn list_prompts(&mut self, now_ms: u64) -> CallHandle {
        self.submit_list(ListKind::Prompts, now_ms)
    }

    fn submit_list(&mut self, kind: ListKind, now_ms: u64) -> CallHandle {
        self.submit(
            Op::List {
                kind,
                acc: Vec::new(),
                cursor: None,
                seen: Vec::new(),
            },
            now_ms,
        )
    }

    /// Sends a request this SDK does not model (a proxy forwarding what it does not need to
    /// understand): `method` with `params` (an object, or `null`; its `_meta`,
    /// `inputResponses` and `requestState` are the connection's own), through the same
    /// machine as every call: era, credentials, retries, the deadline
    /// ([`ConnectionConfig::call_timeout_ms`]), input rounds (MRTR, answered through
    /// [`ConnectionEvent::InputRequired`]), and for `tools/call`, `resources/read` and
    /// `prompts/get` the headers the modelled calls send (`Mcp-Name`, `x-mcp-header`
    /// arguments; a raw `tools/list` teaches the connection those annotations). Its result is
    /// [`CallOutput::Raw`], as the server sent it; it is never replayed (its effects are
    /// unknown). `initialize`, notifications and a method that is not visible ASCII of at
    /// most 200 bytes fail with [`Error::InvalidInput`].
    pub fn request(&mut self, method: &str, params: Value, now_ms: u64) -> CallHandle {
        self.raw(method, params, false, now_ms)
    }

    /// [`Connection::request`] for a proxy whose own client runs the input rounds: the
    /// request's `inputResponses` and `requestState` go to the server as given, so do the
    /// capabilities its `_meta` declares (`io.modelcontextprotocol/clientCapabilities`, an
    /// object of at most 64 KiB; else the connection's), and an
    /// `input_required` result is the call's result ([`CallOutput::Raw`]) for that client to
    /// answer, never [`ConnectionEvent::InputRequired`].
    pub fn request_with_client_input(
        &mut self,
        method: &str,
        params: Value,
        now_ms: u64,
    ) -> CallHandle {
        self.raw(method, params, true, now_ms)
    }

    fn raw(&mut self, method: &str, params: Value, client_input: bool, now_ms: u64) -> CallHandle {
        let ok_name = !method.is_empty()
            && method.len() <= 200
            && method.bytes().all(|b| (0x21..=0x7e).contains(&b));
        if !ok_name || method == "initialize" || method.starts_with("notifications/") {
            return self.refuse(
                "request method",
                "a method name of visible ASCII (at most 200 bytes), not `initialize` or a notification",
            );
        }
        let mut params = match params {
            Value::Null => serde_json::Map::new(),
            Value::Object(m) => m,
            _ => return self.refuse("request params", "an object (or null) is required"),
        };
        // The connection owns its own `_meta` (but for the capabilities of a client that runs
        // its own input rounds), and the answers of the input rounds it runs.
        let meta = params.remove("_meta");
        let client_capabilities = meta
            .filter(|_| client_input)
            .and_then(|mut m| {
                m.get_mut("io.modelcontextprotocol/clientCapabilities")
                    .map(Value::take)
            })
            .filter(|c| c.is_object() && c.to_string().len() <= 64 * 1024);
        if !client_input {
            params.remove("inputResponses");
            params.remove("requestState");
        }
        self.submit(
            Op::Raw {
                method: method.to_string(),
                params,
                client_input,
                client_capabilities,
            },
            now_ms,
        )
    }

    /// Reads a resource ([`CallOutput::Contents`]). A URI that is empty or longer than 8 KiB
    /// fails with [`Error::InvalidInput`].
    pub fn read_resource(&mut self, uri: &str, now_ms: u64) -> CallHandle {
        if uri.trim().is_empty() || uri.len() > 8 * 1024 {
            return self.refuse("resource URI", "a URI of at most 8 KiB is required");
        }
        self.submit(
            Op::Read {
                uri: uri.to_string(),
            },
            now_ms,
        )
    }

    /// Gets a prompt with its arguments (an object of strings, or `null`)
    /// ([`CallOutput::Prompt`]).
    pub fn get_prompt(&mut self, name: &str, arguments: Value, now_ms: u64) -> CallHandle {
        let arguments = match arguments {
            Value::Null => serde_json::Map::new(),
            Value::Object(m) if m.values().all(Value::is_string) => m,
            _ => {
                return self.refuse(
                    "prompt arguments",
                    "an object whose values are strings is required",
                )
            }
        };
        if name.trim().is_empty() {
            return self.refuse("prompt", "a prompt name is required");
        }
        self.submit(
            Op::GetPrompt {
                name: name.to_string(),
                arguments,
            },
            now_ms,
        )
    }

    /// Completion suggestions for `argument` (typed so far: `value`) of a prompt or a
    /// resource template, with the other arguments already given as `context` (an object of
    /// strings, or `null`) ([`CallOutput::Completion`]).
    pub fn complete(
        &mut self,
        reference: CompletionRef,
        argument: &str,
        value: &str,
        context: Value,
        now_ms: u64,
    ) -> CallHandle {
        let context = match context {
            Value::Null => None,
            Value::Object(m) if m.values().all(Value::is_string) => Some(m),
            _ => {
                return self.refuse(
                    "completion context",
                    "an object whose values are strings is required",
                )
            }
        };
        if argument.trim().is_empty() {
            return self.refuse("completion", "an argument name is required");
        }
        self.submit(
            Op::Complete {
                reference,
                argument: argument.to_string(),
                value: value.to_string(),
                context,
            },
            now_ms,
        )
    }

    /// Answers the input a call waits for ([`ConnectionEvent::InputRequired`]): one response
    /// per requested key (an `ElicitResult` such as `{"action": "accept", "content": {...}}`,
    /// a `CreateMessageResult`, a `ListRootsResult`). The call goes again with a new id, the
    /// responses and the server's `requestState` as it was sent. Fails with
    /// [`Error::WrongState`] when the call does not wait for input, and with
    /// [`Error::InvalidInput`] when the keys are not exactly those asked (nothing is sent).
    pub fn provide_input(
        &mut self,
        handle: CallHandle,
        responses: serde_json::Map<String, Value>,
    ) -> Result<(), Error> {
        let Some(call) = self.calls.get_mut(&Slot::App(handle)) else {
            return Err(Error::WrongState {
                action: "provide input".into(),
                state: "no such pending call".into(),
            });
        };
        let Some((keys, _)) = call
            .awaiting
            .as_ref()
            .filter(|_| call.phase == Phase::AwaitingInput)
        else {
            return Err(Error::WrongState {
                action: "provide input".into(),
                state: "the call does not wait for input".into(),
            });
        };
        if responses.len() != keys.len() || !keys.iter().all(|k| responses.contains_key(k)) {
            return Err(Error::InvalidInput {
                what: "input responses".into(),
                reason: format!(
                    "one response per requested key is needed ({} asked)",
                    keys.len()
                ),
            });
        }
        let (_, state) = call.awaiting.take().unwrap_or_default();
        call.input = Some(InputRound { responses, state });
        self.requeue(Slot::App(handle));
        let now = self.last_now_ms;
        self.pump(now);
        Ok(())
    }

    /// The app could not answer the input a call waits for: the call fails with `error`.
    /// Nothing happens when the call does not wait for input.
    pub fn decline_input(&mut self, handle: CallHandle, error: Error) {
        let waiting = self
            .calls
            .get(&Slot::App(handle))
            .is_some_and(|c| c.phase == Phase::AwaitingInput);
        if waiting {
            self.fail(Slot::App(handle), error);
        }
    }

    /// Answers a legacy server's request ([`ConnectionEvent::ServerRequest`]) with `result`,
    /// or with a JSON-RPC error (`Err((code, message))`, e.g. the user declined to answer).
    pub fn answer_server_request(
        &mut self,
        request_id: &JsonRpcId,
        result: Result<Value, (i64, String)>,
    ) {
        let body = match result {
            Ok(v) => jsonrpc::result_body(request_id, &v),
            Err((code, message)) => {
                let message: String = message.chars().take(500).collect();
                jsonrpc::error_body(request_id, code, &message)
            }
        };
        self.post(Flight::Notification, body);
    }

    /// A call refused before anything is sent.
    fn refuse(&mut self, what: &str, reason: &str) -> CallHandle {
        let h = self.new_handle();
        self.finish(
            Slot::App(h),
            Err(Error::InvalidInput {
                what: what.into(),
                reason: reason.into(),
            }),
        );
        h
    }

    /// What the server speaks: [`CallOutput::Discovered`]. Modern servers answer
    /// `server/discover`; for a legacy server, what `initialize` said.
    pub fn discover(&mut self, now_ms: u64) -> CallHandle {
        self.submit(Op::Discover, now_ms)
    }

    /// Opens the optional GET stream for server-initiated messages (delivered as events).
    /// A server without one (405) is not an error: the result is
    /// `ServerStreamEnded { supported: false }`. The stream is not reopened automatically.
    ///
    /// With a [`crate::Transport`] that returns whole bodies, the messages arrive when the
    /// server ends the stream, and a run loop waits for it: open it only when the app wants
    /// server-initiated messages (never needed for tools).
    pub fn open_server_stream(&mut self, now_ms: u64) -> CallHandle {
        self.submit(Op::ServerStream, now_ms)
    }

    /// Refreshes the OAuth credentials now, through the same single flight as the refreshes
    /// the machine makes itself: while a refresh is in flight (a 401, an expiring token, or
    /// another `refresh`), this call waits for it and completes with it instead of sending a
    /// second one, so a rotating refresh token is never used twice. Completes with
    /// [`CallOutput::Refreshed`] after [`ConnectionEvent::CredentialsChanged`]; fails with
    /// the token endpoint's error, [`Error::TokenEndpointUnreachable`] after the usual
    /// back-off, [`Error::NotSignedIn`] without credentials, or [`Error::WrongState`] when
    /// the credentials cannot be refreshed (a personal token, no refresh token or OAuth
    /// context, or a refresh token already refused).
    pub fn refresh(&mut self, now_ms: u64) -> CallHandle {
        let refreshable = match (&self.auth, &self.credentials) {
            (Some(auth), Some(c)) => auth.can_renew(c),
            _ => false,
        };
        let live = !self.state.is_shut();
        if live && self.credentials.is_none() {
            let h = self.new_handle();
            self.finish(Slot::App(h), Err(Error::NotSignedIn));
            return h;
        }
        if live && (!refreshable || self.auth_state.refresh_refused()) {
            let h = self.new_handle();
            let state = if self.auth_state.refresh_refused() {
                "the refresh token was refused: sign in again"
            } else {
                "no refreshable OAuth credentials (a personal token, or no refresh token or OAuth context)"
            };
            self.finish(
                Slot::App(h),
                Err(Error::WrongState {
                    action: "refresh credentials".into(),
                    state: state.into(),
                }),
            );
            return h;
        }
        self.submit(Op::Refresh, now_ms)
    }

    /// Cancels a call: its result becomes [`Error::Cancelled`] and, if its request is in
    /// flight, `notifications/cancelled` is sent. Fails for unknown or finished handles.
    pub fn cancel(&mut self, handle: CallHandle) -> Result<(), Error> {
        let Some(call) = self.calls.get(&Slot::App(handle)) else {
            return Err(Error::InvalidInput {
                what: "call handle".into(),
                reason: "no such pending call".into(),
            });
        };
        // Modern: the driver closes the request's stream (the response is abandoned), which
        // is the cancellation. Legacy: `notifications/cancelled`.
        if let (Phase::Sent { .. } | Phase::ResumeAt(_), Some(rpc), None) =
            (&call.phase, &call.rpc_id, call.sent_modern)
        {
            let body = jsonrpc::cancelled_body(rpc, "cancelled by the application");
            self.post(Flight::Notification, body);
        }
        self.fail(Slot::App(handle), Error::Cancelled);
        Ok(())
    }

    fn expire_deadlines(&mut self, now_ms: u64) {
        let expired: Vec<Slot> = self
            .calls
            .iter()
            .filter(|(_, c)| c.deadline.is_some_and(|d| d <= now_ms))
            .map(|(h, _)| *h)
            .collect();
        for h in expired {
            self.time_out(h);
        }
    }

    /// The whole-call deadline passed: the call fails with [`Error::Timeout`] (and, if its
    /// request is in flight, `notifications/cancelled` tells the server).
    fn time_out(&mut self, h: Slot) {
        let Some(call) = self.calls.get(&h) else {
            return;
        };
        let after_ms = match call.op {
            Op::CallTool { .. } | Op::Raw { .. } => self.call_timeout_ms,
            _ => self.request_timeout_ms,
        };
        let what = call.op.method().to_string();
        if let (Phase::Sent { .. } | Phase::ResumeAt(_), Some(rpc), None) =
            (&call.phase, &call.rpc_id, call.sent_modern)
        {
            let body = jsonrpc::cancelled_body(rpc, "timed out");
            self.post(Flight::Notification, body);
        }
        self.fail(h, Error::Timeout { what, after_ms });
    }

    /// Ends the session: pending calls are cancelled and the session is deleted (`DELETE`;
    /// 405 is fine). Later calls fail with [`Error::WrongState`].
    pub fn close(&mut self) -> CallHandle {
        let h = self.new_handle();
        if self.state.is_shut() {
            self.finish(
                Slot::App(h),
                Err(Error::WrongState {
                    action: "close".into(),
                    state: "closed".into(),
                }),
            );
            return h;
        }
        let pending: Vec<Slot> = self.calls.keys().copied().collect();
        for p in pending {
            match p {
                Slot::App(_) => self.fail(p, Error::Cancelled),
                _ => {
                    self.calls.remove(&p);
                }
            }
        }
        self.auth_to(AuthInput::Idle);
        if self.state.info().session_id.is_some() {
            let id = self.http_id();
            let auth = self.auth_header();
            let req = self.state.info().delete(id, &self.url, auth.as_ref());
            self.flights.insert(id, Flight::Delete(h));
            self.outbox.push_back(req);
            self.session_to(SessionInput::Closing(h));
        } else {
            self.closed_done(h);
        }
        h
    }

    /// Replaces the credentials (after a new sign-in or a step-up), resets the refresh state
    /// and sends the calls that were waiting. `auth: None` keeps the current OAuth context.
    ///
    /// Credentials or a context bound to another server are refused with
    /// [`Error::CredentialsNotForServer`] and change nothing.
    pub fn set_credentials(
        &mut self,
        credentials: Option<Credentials>,
        auth: Option<AuthContext>,
    ) -> Result<(), Error> {
        let context = auth.as_ref().or(self.auth.as_ref());
        let credentials = bind_for_server(&self.url, credentials, context)?;
        self.credentials = credentials;
        if auth.is_some() {
            self.auth = auth;
        }
        self.generation += 1;
        self.auth_to(AuthInput::Replaced);
        self.pump(self.last_now_ms);
        Ok(())
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<ConnectionEvent> {
        self.events.pop_front()
    }

    /// Takes the result of a call, once it has completed.
    pub fn poll_result(&mut self, handle: CallHandle) -> Option<Result<CallOutput, Error>> {
        self.results.remove(&handle)
    }

    /// Whether a call is still pending.
    pub fn is_pending(&self, handle: CallHandle) -> bool {
        self.calls.contains_key(&Slot::App(handle))
    }

    /// Whether the response to request `id` is no longer wanted: it was sent for a call that
    /// has since completed or been cancelled, so the response would be ignored. A run loop
    /// that must not wait for it (a server need not answer a cancelled request) may feed
    /// [`TransportError::Cancelled`] for it instead. `false` for requests that still matter
    /// (other calls, `initialize`, a refresh, notifications) and for unknown ids.
    pub fn is_request_abandoned(&self, id: RequestId) -> bool {
        match self.flights.get(&id) {
            Some(Flight::Call(h)) => !self
                .calls
                .get(h)
                .is_some_and(|c| matches!(c.phase, Phase::Sent { http, .. } if http == id)),
            _ => false,
        }
    }

    /// Whether request `id` is a notification or an answer to the server (no response to
    /// wait for beyond its 202): a run loop hands a call's result over once those sent on
    /// its behalf (`notifications/initialized`, `notifications/cancelled`) are out.
    pub fn is_notification_request(&self, id: RequestId) -> bool {
        matches!(
            self.flights.get(&id),
            Some(Flight::Initialized | Flight::Notification)
        )
    }

    /// The current credentials.
    pub fn credentials(&self) -> Option<&Credentials> {
        self.credentials.as_ref()
    }

    /// What is known about the session.
    pub fn session(&self) -> &SessionInfo {
        self.state.info()
    }

    /// Whether `close` completed.
    pub fn is_closed(&self) -> bool {
        self.state == SessionState::Closed
    }

    /// The era and session state's name (`Unknown`, `Probing`, `Modern`,
    /// `LegacyInitializing`, `LegacyReady`, `Closing`, `Closed`: the states of
    /// [`crate::states::Machine::Session`]), for diagnostics.
    pub fn session_state(&self) -> &'static str {
        self.state.kind()
    }

    /// The credentials' state's name (`Valid`, `Refreshing`, `BackingOff`,
    /// `NeedsAuthorization`, `StepUp`: the states of [`crate::states::Machine::Auth`]), for
    /// diagnostics.
    pub fn auth_state(&self) -> &'static str {
        self.auth_state.kind()
    }

    /// The MCP endpoint (canonical form).
    pub fn server_url(&self) -> &str {
        &self.url
    }

    /// Session id, negotiated version and server info as JSON (no credentials), for
    /// [`ConnectionConfig::restored_state`].
    pub fn save_state(&self) -> String {
        let tools = self.tools_cache.clone().filter(|c| {
            serde_json::to_vec(&c.tools).is_ok_and(|b| b.len() <= MAX_SAVED_TOOLS_BYTES)
        });
        let legacy_session = matches!(self.state, SessionState::LegacyReady { .. });
        serde_json::to_string(&SavedState {
            server_url: self.url.clone(),
            session: self.state.info().clone(),
            tools,
            capabilities: legacy_session.then(|| self.capabilities.clone()),
        })
        .unwrap_or_default()
    }

    // ---------------------------------------------------------------- internals

    fn new_handle(&mut self) -> CallHandle {
        let h = CallHandle(self.next_handle);
        self.next_handle += 1;
        h
    }

    fn http_id(&mut self) -> RequestId {
        self.next_http += 1;
        RequestId(self.next_http)
    }

    fn diag(&mut self, msg: String) {
        self.events.push_back(ConnectionEvent::Diagnostic(msg));
    }

    fn auth_header(&self) -> Option<crate::secret::SecretString> {
        self.credentials
            .as_ref()
            .map(Credentials::authorization_header)
    }

    /// Moves the era and session machine ([`SessionState::step`]); an input that does not
    /// apply leaves it as it is.
    fn session_to(&mut self, input: SessionInput) {
        if let Some(next) = self.state.step(&input) {
            self.state = next;
        }
    }

    /// Moves the credentials' machine ([`AuthState::step`]).
    fn auth_to(&mut self, input: AuthInput) {
        if let Some(next) = self.auth_state.step(&input) {
            self.auth_state = next;
        }
    }

    fn submit(&mut self, op: Op, now_ms: u64) -> CallHandle {
        let h = self.new_handle();
        if self.state.is_shut() {
            self.finish(
                Slot::App(h),
                Err(Error::WrongState {
                    action: "call".into(),
                    state: "the connection is closed".into(),
                }),
            );
            return h;
        }
        let timeout = match op {
            Op::CallTool { .. } | Op::Raw { .. } => self.call_timeout_ms,
            Op::ServerStream | Op::Listen { .. } => u64::MAX,
            _ => self.request_timeout_ms,
        };
        let mut call = new_call(op);
        call.deadline = (timeout != u64::MAX).then(|| now_ms.saturating_add(timeout));
        self.calls.insert(Slot::App(h), call);
        self.pump(now_ms);
        h
    }

    fn finish(&mut self, h: Slot, result: Result<CallOutput, Error>) {
        if let Some(call) = self.calls.remove(&h) {
            if let Some(rpc) = call.rpc_id {
                self.rpc_index.remove(&rpc);
            }
        }
        match h {
            Slot::App(h) => {
                self.results.insert(h, result);
                self.events.push_back(ConnectionEvent::CallCompleted(h));
            }
            Slot::Relist => self.relisted(result.map(|_| ())),
            Slot::Listen => {
                if matches!(
                    result,
                    Ok(CallOutput::ServerStreamEnded { supported: false })
                ) {
                    self.no_get_stream = true;
                }
                self.listen_wait = None;
            }
            Slot::Initialize | Slot::Probe => {}
        }
    }

    fn fail(&mut self, h: Slot, e: Error) {
        if let Slot::Initialize | Slot::Probe = h {
            // The waiting calls fail with initialize (or the probe).
            self.calls.remove(&h);
            if h == Slot::Initialize {
                self.session_to(SessionInput::InitializeFailed);
            }
            let waiting: Vec<Slot> = self
                .calls
                .iter()
                .filter(|(_, c)| c.phase == Phase::Queued)
                .map(|(h, _)| *h)
                .collect();
            for w in waiting {
                self.finish(w, Err(e.clone()));
            }
            return;
        }
        self.finish(h, Err(e));
    }

    /// Whether the credentials can be renewed: a refresh token, or a client credentials
    /// context (the grant runs again).
    fn can_refresh(&self) -> bool {
        !self.auth_state.refresh_refused()
            && match (&self.auth, &self.credentials) {
                (Some(auth), Some(c)) => auth.can_renew(c),
                _ => false,
            }
    }

    /// Sends what can be sent.
    fn pump(&mut self, now_ms: u64) {
        self.last_now_ms = self.last_now_ms.max(now_ms);
        if !self.calls.keys().any(|h| h.app().is_some()) {
            // No call left: the GET stream opened for them is no longer wanted.
            self.calls.remove(&Slot::Listen);
            self.listen_wait = None;
        }
        if self.state.is_shut()
            || self.auth_state.refreshing().is_some()
            || matches!(self.auth_state, AuthState::AwaitingLease { .. })
        {
            return;
        }
        if self.calls.values().any(|c| matches!(c.op, Op::Refresh)) {
            if self.backing_off(now_ms) {
                return; // the timer resumes
            }
            if self.can_refresh() {
                self.start_refresh();
                return;
            }
            // Credentials replaced meanwhile by ones that cannot be refreshed.
            self.fail_asked_refreshes(&Error::WrongState {
                action: "refresh credentials".into(),
                state: "the credentials changed and cannot be refreshed".into(),
            });
        }
        let waiting = self.calls.iter().any(|(h, c)| {
            matches!(h, Slot::App(_) | Slot::Relist)
                && c.phase == Phase::Queued
                && !matches!(c.op, Op::Refresh)
        });
        if !waiting {
            // Nobody waits: no initialize, probe or refresh on their behalf.
            for i in [Slot::Initialize, Slot::Probe] {
                if self.calls.get(&i).is_some_and(|c| c.phase == Phase::Queued) {
                    self.calls.remove(&i);
                }
            }
            self.auth_to(AuthInput::Idle);
            return;
        }
        if self.backing_off(now_ms) {
            return; // the timer resumes
        }
        if self.needs_refresh(now_ms) {
            self.start_refresh();
            return;
        }
        if !self.era_ready() {
            return;
        }
        self.listen_while_busy(now_ms);
        if self.listen_wait.is_some_and(|t| now_ms < t) {
            return; // the GET stream first: its head (or the timer) lets the calls go
        }
        self.listen_wait = None;
        let queued: Vec<Slot> = self
            .calls
            .iter()
            .filter(|(_, c)| c.phase == Phase::Queued && !matches!(c.op, Op::Refresh))
            .map(|(h, _)| *h)
            .collect();
        for h in queued {
            self.send_call(h);
        }
    }

    /// Whether a refresh waits for its back-off (ended back-offs end here too).
    fn backing_off(&mut self, now_ms: u64) -> bool {
        match self.auth_state.backing_off() {
            Some(t) if now_ms < t => true,
            Some(_) => {
                self.auth_to(AuthInput::BackoffElapsed);
                false
            }
            None => false,
        }
    }

    /// A legacy server sends its requests (elicitation, sampling, roots) on the GET stream
    /// unless it ties them to a request's own stream: while calls are in flight and the app
    /// can answer such requests (it declared capabilities), the stream is open; it is
    /// closed (abandoned) when the last call ends, so nothing outlives the calls.
    fn listen_while_busy(&mut self, now_ms: u64) {
        let busy = self.calls.keys().any(|h| h.app().is_some());
        // A subscription's own GET stream serves as well (a server allows one per session).
        let subscribed = self
            .calls
            .values()
            .any(|c| matches!(c.op, Op::Listen { .. }));
        let wanted = busy
            && !subscribed
            && self.caps != ClientCapabilities::default()
            && matches!(self.state, SessionState::LegacyReady { .. })
            && !self.no_get_stream;
        let open = self.calls.contains_key(&Slot::Listen);
        if wanted && !open && self.listens < MAX_LISTEN_STREAMS {
            self.listens += 1;
            self.calls.insert(Slot::Listen, new_call(Op::ServerStream));
            // Open before the calls go: a server drops what it would send on a stream that
            // is not open yet.
            self.send_call(Slot::Listen);
            self.listen_wait = Some(now_ms.saturating_add(LISTEN_WAIT_MS));
        } else if !busy && open {
            self.calls.remove(&Slot::Listen);
        }
    }

    /// The refreshes the app asked for ([`Connection::refresh`]) end with the single flight.
    fn finish_asked_refreshes(&mut self) {
        for h in self.asked_refreshes() {
            self.finish(h, Ok(CallOutput::Refreshed));
        }
    }

    fn fail_asked_refreshes(&mut self, e: &Error) {
        for h in self.asked_refreshes() {
            self.finish(h, Err(e.clone()));
        }
    }

    fn asked_refreshes(&self) -> Vec<Slot> {
        self.calls
            .iter()
            .filter(|(_, c)| matches!(c.op, Op::Refresh))
            .map(|(h, _)| *h)
            .collect()
    }

    /// Whether the queued calls must wait for a refresh: one of them was refused with the
    /// current token, or the token expired, or it is about to (unless a refresh of it could
    /// not reach the token endpoint). A token fresh from a refresh is used at least once.
    fn needs_refresh(&self, now_ms: u64) -> bool {
        let Some(creds) = self.credentials.as_ref() else {
            return false;
        };
        if !self.can_refresh() || self.auth_state.fresh() {
            return false;
        }
        let refused = self
            .calls
            .values()
            .any(|c| c.phase == Phase::Queued && self.refused_with_current_token(c));
        refused
            || creds.is_expired(now_ms)
            || (!self.auth_state.proactive_failed() && creds.should_refresh(now_ms))
    }

    fn refused_with_current_token(&self, c: &Call) -> bool {
        c.refused && c.sent_generation == self.generation
    }

    fn post(&mut self, flight: Flight, body: Vec<u8>) -> RequestId {
        let id = self.http_id();
        let auth = self.auth_header();
        let req = self.state.info().post(id, &self.url, body, auth.as_ref());
        self.flights.insert(id, flight);
        self.outbox.push_back(req);
        id
    }

    /// Gets the era settled before calls go out: probes an unknown server with the first
    /// waiting call (sent modern), waits for the probe's verdict, or initializes a legacy
    /// session. `true` when the waiting calls may be sent.
    fn era_ready(&mut self) -> bool {
        loop {
            match self.state {
                SessionState::Modern { .. } | SessionState::LegacyReady { .. } => return true,
                SessionState::LegacyInitializing { .. } => {
                    let init = self
                        .calls
                        .get_or_insert_with(Slot::Initialize, || new_call(Op::Initialize));
                    if init.phase == Phase::Queued {
                        self.send_call(Slot::Initialize);
                    }
                    return false;
                }
                SessionState::Probing { probe } => {
                    match self.calls.get(&probe).map(|c| c.phase == Phase::Queued) {
                        // The probe ended without a verdict (cancelled, timed out): the next
                        // waiting call probes.
                        None => self.session_to(SessionInput::ProbeLost),
                        Some(true) => {
                            self.send_call(probe);
                            return false;
                        }
                        Some(false) => return false,
                    }
                }
                SessionState::Unknown => {
                    let first = self
                        .calls
                        .iter()
                        .filter(|(h, c)| {
                            h.app().is_some()
                                && c.phase == Phase::Queued
                                && !matches!(
                                    c.op,
                                    Op::Refresh | Op::ServerStream | Op::Listen { .. }
                                )
                        })
                        .map(|(h, _)| *h)
                        .min();
                    let probe = first.unwrap_or_else(|| {
                        self.calls.insert(Slot::Probe, new_call(Op::Discover));
                        Slot::Probe
                    });
                    self.session_to(SessionInput::ProbeSent(probe));
                    self.send_call(probe);
                    return false;
                }
                SessionState::Closing { .. } | SessionState::Closed => return false,
            }
        }
    }

    /// The version a request of call `h` declares when it goes out modern.
    fn modern_version_for(&self, h: Slot) -> Option<&'static str> {
        match self.state {
            SessionState::Modern { version, .. } => Some(version),
            SessionState::Probing { probe } if probe == h => Some(self.modern_version),
            _ => None,
        }
    }

    fn send_call(&mut self, h: Slot) {
        let generation = self.generation;
        let session_id = self.state.info().session_id.clone();
        let modern_version = self.modern_version_for(h);
        let Some(call) = self.calls.get(&h) else {
            return;
        };
        match (&call.op, modern_version) {
            (Op::Refresh, _) => return, // never a request of its own: it waits for the refresh
            (Op::ServerStream, Some(_)) => {
                self.diag(
                    "a modern MCP server has no GET stream (subscriptions replace it)".into(),
                );
                self.finish(h, Ok(CallOutput::ServerStreamEnded { supported: false }));
                return;
            }
            (Op::Discover, None) => {
                let d = self.legacy_discovery();
                self.finish(h, Ok(CallOutput::Discovered(d)));
                return;
            }
            _ => {}
        }
        if let SessionState::LegacyReady {
            continue_ids: continue_ids @ true,
            ..
        } = &mut self.state
        {
            *continue_ids = false;
            // Ids must not repeat within a session, and a restored session was used by an
            // earlier process whose counter is lost: continue from the clock (ms × 1000), so
            // a later process starts above every id an earlier one could have sent at up to
            // 1000 requests per ms. Below 2^53 (JavaScript peers) for dates before 2248.
            let base = i64::try_from(self.last_now_ms.min(1 << 43)).unwrap_or(0) * 1000;
            self.next_rpc = self.next_rpc.max(base);
        }
        self.next_rpc += 1;
        let rpc = JsonRpcId::Number(self.next_rpc);
        let modern_parts = match modern_version {
            Some(version) => {
                // A proxy's client declares its own capabilities for the rounds it runs.
                let capabilities = match &call.op {
                    Op::Raw {
                        client_input: true,
                        client_capabilities: Some(c),
                        ..
                    } => c,
                    _ => &self.capabilities,
                };
                let meta = modern::RequestMeta {
                    version,
                    client_info: &self.client_info,
                    capabilities,
                    log_level: self.log_level.as_deref(),
                    progress_token: None,
                };
                match modern_request(
                    &call.op,
                    call.input.as_ref(),
                    &rpc,
                    &meta,
                    &self.tool_headers,
                ) {
                    Ok(parts) => Some(parts),
                    Err(e) => {
                        self.fail(h, e);
                        return;
                    }
                }
            }
            None => None,
        };
        self.auth_to(AuthInput::TokenUsed);
        let Some(call) = self.calls.get_mut(&h) else {
            return;
        };
        if let Some(old) = call.rpc_id.take() {
            self.rpc_index.remove(&old);
        }
        call.sent_generation = generation;
        call.sent_session = if modern_version.is_some() {
            None
        } else {
            session_id
        };
        call.sent_modern = modern_version;
        call.refused = false;
        let id = if let Some((body, headers)) = modern_parts {
            call.rpc_id = Some(rpc.clone());
            self.rpc_index.insert(rpc, h);
            let id = self.http_id();
            let auth = self.auth_header();
            let req =
                session::SessionInfo::post_modern(id, &self.url, body, auth.as_ref(), headers);
            self.flights.insert(id, Flight::Call(h));
            self.outbox.push_back(req);
            id
        } else {
            let body = match &call.op {
                Op::Initialize => Some(jsonrpc::initialize_body_for(
                    &rpc,
                    &self.client_info,
                    self.legacy_version,
                    &self.capabilities,
                )),
                Op::ListTools { cursor, .. } => {
                    Some(jsonrpc::list_tools_body(&rpc, cursor.as_deref()))
                }
                Op::CallTool { name, arguments } => {
                    Some(jsonrpc::call_tool_body(&rpc, name, arguments))
                }
                Op::Ping => Some(jsonrpc::ping_body(&rpc)),
                Op::List { .. } | Op::Read { .. } | Op::GetPrompt { .. } | Op::Complete { .. } => {
                    Some(surface_body(&call.op, None, &rpc, None))
                }
                Op::Raw { method, params, .. } if params.is_empty() => Some(
                    jsonrpc::request_body::<modern::NoParams>(&rpc, method, None),
                ),
                Op::Raw { method, params, .. } => {
                    Some(jsonrpc::request_body(&rpc, method, Some(params)))
                }
                Op::ServerStream | Op::Refresh | Op::Discover | Op::Listen { .. } => None,
            };
            if let Op::Listen {
                filter,
                subscribed: subscribed @ false,
            } = &mut call.op
            {
                // Legacy: one `resources/subscribe` per resource, then the GET stream that
                // carries the updates (answers to the subscribe requests are not awaited).
                *subscribed = true;
                let uris = filter.resource_subscriptions.clone();
                for uri in &uris {
                    self.next_rpc += 1;
                    let sub_id = JsonRpcId::Number(self.next_rpc);
                    let body = jsonrpc::request_body(
                        &sub_id,
                        "resources/subscribe",
                        Some(&UriParams { uri }),
                    );
                    self.post(Flight::Notification, body);
                }
            }
            let Some(call) = self.calls.get_mut(&h) else {
                return;
            };
            match body {
                Some(body) => {
                    call.rpc_id = Some(rpc.clone());
                    self.rpc_index.insert(rpc, h);
                    self.post(Flight::Call(h), body)
                }
                None => {
                    let id = self.http_id();
                    let auth = self.auth_header();
                    let req = self
                        .state
                        .info()
                        .get_stream(id, &self.url, None, auth.as_ref());
                    self.flights.insert(id, Flight::Call(h));
                    self.outbox.push_back(req);
                    id
                }
            }
        };
        if let Some(call) = self.calls.get_mut(&h) {
            call.phase = Phase::Sent {
                http: id,
                resume: false,
            };
        }
    }

    /// What `initialize` said, as a [`Discovery`] (legacy servers have no `server/discover`).
    fn legacy_discovery(&self) -> Discovery {
        let info = self.state.info();
        let version = info.protocol_version.clone().unwrap_or_default();
        Discovery {
            modern: false,
            supported_versions: vec![version.clone()],
            protocol_version: version,
            server_info: info.server_info.clone(),
            capabilities: self.server_capabilities.clone(),
        }
    }

    fn send_resume(&mut self, h: Slot) {
        let id = self.http_id();
        let auth = self.auth_header();
        self.auth_to(AuthInput::TokenUsed);
        let Some(call) = self.calls.get_mut(&h) else {
            return;
        };
        call.resumes += 1;
        call.refused = false;
        // An `initialize` resumed before its result: the session it opened is known from
        // the answer's head only, and the server resumes nothing without it.
        let initializing;
        let info = match &self.state {
            SessionState::LegacyInitializing {
                session_id: Some(sid),
            } => {
                initializing = SessionInfo {
                    session_id: Some(sid.clone()),
                    ..SessionInfo::default()
                };
                &initializing
            }
            state => state.info(),
        };
        let req = info.get_stream(id, &self.url, call.last_event_id.as_deref(), auth.as_ref());
        call.phase = Phase::Sent {
            http: id,
            resume: true,
        };
        self.flights.insert(id, Flight::Call(h));
        self.outbox.push_back(req);
    }

    /// The store's refresh lease is held ([`ConnectionEvent::RefreshDue`]): the refresh goes
    /// now. Fails with [`Error::WrongState`] when no refresh waits for the lease.
    pub fn refresh_with_lease(&mut self, now_ms: u64) -> Result<(), Error> {
        if !matches!(self.auth_state, AuthState::AwaitingLease { .. }) {
            return Err(Error::WrongState {
                action: "refresh with the lease".into(),
                state: "no refresh waits for the lease".into(),
            });
        }
        self.last_now_ms = self.last_now_ms.max(now_ms);
        self.send_refresh();
        self.pump(now_ms);
        Ok(())
    }

    /// The store could not be reached for the refresh lease (`reason`, bounded here): as
    /// when the token endpoint cannot be reached, the calls that need a new token wait for
    /// another attempt after a back-off and fail after [`MAX_REFRESH_ATTEMPTS`] (the next
    /// attempt emits [`ConnectionEvent::RefreshDue`] again). Nothing happens when no refresh
    /// waits for the lease.
    pub fn refresh_lease_failed(&mut self, reason: &str, now_ms: u64) {
        if !matches!(self.auth_state, AuthState::AwaitingLease { .. }) {
            return;
        }
        let reason: String = reason.chars().take(200).collect();
        self.refresh_unreachable(
            format!("the credential store could not be reached: {reason}"),
            None,
            now_ms,
        );
        self.pump(now_ms);
    }

    fn start_refresh(&mut self) {
        if self.coordinate_refresh {
            self.auth_to(AuthInput::LeaseAsked);
            self.events.push_back(ConnectionEvent::RefreshDue);
            return;
        }
        self.send_refresh();
    }

    fn send_refresh(&mut self) {
        let (Some(auth), Some(Credentials::OAuth(set))) = (&self.auth, &self.credentials) else {
            return;
        };
        let id = RequestId(self.next_http.saturating_add(1));
        let Some(req) = auth.refresh_request_for(id, set, self.last_now_ms) else {
            // Nothing to renew with after all: the calls go with the current token (a 401
            // then asks for a sign-in), the app's refreshes fail.
            self.auth_to(AuthInput::Refused);
            self.fail_asked_refreshes(&Error::WrongState {
                action: "refresh credentials".into(),
                state: "the credentials cannot be renewed: sign in again".into(),
            });
            let now = self.last_now_ms;
            self.pump(now);
            return;
        };
        self.next_http += 1;
        self.auth_to(AuthInput::RefreshSent(id));
        self.flights.insert(id, Flight::Refresh(self.generation));
        self.outbox.push_back(req);
    }

    fn handle_refresh(&mut self, response: Result<HttpResponse, TransportError>, now_ms: u64) {
        // A busy or failing token endpoint (5xx, 429, 408, whatever the body: often an HTML
        // page) has not judged the credentials: back off as if it could not be reached.
        if let Ok(resp) = &response {
            if matches!(resp.status, 408 | 429 | 500..=599) {
                let after = retry_after_ms(resp)
                    .filter(|_| matches!(resp.status, 429 | 503))
                    .map(|ms| ms.min(MAX_RETRY_AFTER_MS));
                let reason = format!(
                    "the token endpoint answered HTTP {} (temporarily unavailable)",
                    resp.status
                );
                self.refresh_unreachable(reason, after, now_ms);
                self.refresh_ended();
                self.pump(now_ms);
                return;
            }
        }
        let outcome = match (&self.auth, &self.credentials, response) {
            (Some(auth), Some(Credentials::OAuth(prev)), Ok(resp)) => {
                auth.handle_refresh_response(&resp, prev, now_ms)
            }
            (_, _, Err(e)) => Err(Error::Transport(e)),
            _ => Err(Error::NotSignedIn),
        };
        match outcome {
            Ok(set) => {
                let creds = Credentials::OAuth(set);
                self.credentials = Some(creds.clone());
                self.generation += 1;
                self.auth_to(AuthInput::Refreshed);
                self.events
                    .push_back(ConnectionEvent::CredentialsChanged(creds));
                self.finish_asked_refreshes();
            }
            Err(Error::Transport(t)) => {
                let reason = t.to_string().chars().take(200).collect();
                self.refresh_unreachable(reason, None, now_ms);
            }
            Err(e) => {
                self.auth_to(AuthInput::Refused);
                self.diag(format!("token refresh failed: {e}"));
                self.fail_asked_refreshes(&e);
                // Calls that were refused with the current token fail now; others go out
                // with it (a 401 then fails them without another refresh).
                let refused: Vec<Slot> = self
                    .calls
                    .iter()
                    .filter(|(_, c)| c.phase == Phase::Queued && c.refused)
                    .map(|(h, _)| *h)
                    .collect();
                if !refused.is_empty() {
                    self.authorization_required(None);
                }
                for h in refused {
                    let err = self.unauthorized(None);
                    self.fail(h, err);
                }
            }
        }
        self.refresh_ended();
        self.pump(now_ms);
    }

    /// The refresh this connection made is over: a coordinating app releases the lease.
    fn refresh_ended(&mut self) {
        if self.coordinate_refresh {
            self.events.push_back(ConnectionEvent::RefreshEnded);
        }
    }

    /// The token endpoint could not be reached, or answered with a transient failure (not a
    /// verdict on the credentials). Calls that need a new token wait for another attempt after
    /// a back-off (at least `retry_after_ms`, the endpoint's clamped `Retry-After`); one that
    /// has waited for [`MAX_REFRESH_ATTEMPTS`] fails with [`Error::TokenEndpointUnreachable`].
    /// A token that has not expired yet is used meanwhile by the calls it was not refused for.
    fn refresh_unreachable(&mut self, reason: String, retry_after_ms: Option<u64>, now_ms: u64) {
        self.diag(format!("token refresh failed: {reason}"));
        let expired = self
            .credentials
            .as_ref()
            .is_none_or(|c| c.is_expired(now_ms));
        let generation = self.generation;
        let mut needy: Vec<(Slot, u32)> = Vec::new();
        for (h, c) in self.calls.iter_mut() {
            let refused = c.refused && c.sent_generation == generation;
            let asked = matches!(c.op, Op::Refresh);
            if c.phase == Phase::Queued && (expired || refused || asked) {
                c.refresh_attempts = c.refresh_attempts.saturating_add(1);
                needy.push((*h, c.refresh_attempts));
            }
        }
        let mut still_waiting = false;
        for (h, attempts) in needy {
            if !self.calls.contains_key(&h) {
                continue; // failed with `initialize`, which it waited for
            }
            if attempts >= MAX_REFRESH_ATTEMPTS {
                // For `initialize` this fails every call waiting for it.
                self.fail(
                    h,
                    Error::TokenEndpointUnreachable {
                        attempts,
                        reason: reason.clone(),
                    },
                );
            } else {
                still_waiting = true;
            }
        }
        // Attempts in a row that failed so far, this one included.
        let failures = match self.auth_state {
            AuthState::Refreshing { failures, .. } | AuthState::AwaitingLease { failures, .. } => {
                failures.saturating_add(1)
            }
            _ => 1,
        };
        let retry_at = still_waiting.then(|| {
            let shift = failures.saturating_sub(1).min(16);
            let wait = REFRESH_BACKOFF_MS
                .saturating_mul(1 << shift)
                .max(retry_after_ms.unwrap_or(0));
            now_ms.saturating_add(wait)
        });
        self.auth_to(AuthInput::Unreachable { retry_at, expired });
    }

    fn unauthorized(&self, www: Option<&str>) -> Error {
        // Nothing was presented: the server wants a sign-in, the token was not "wrong".
        if self.credentials.is_none() {
            return Error::NotSignedIn;
        }
        Error::Unauthorized {
            url: redact_url(&self.url),
            error: www.and_then(parse_bearer).and_then(|b| b.error),
            environment: self.env_label.clone(),
        }
    }

    /// A 401 no refresh answers: the app is told to sign in (once, until the credentials
    /// change).
    fn authorization_required(&mut self, www: Option<String>) {
        if !self.auth_state.announced() {
            self.events
                .push_back(ConnectionEvent::AuthorizationRequired {
                    www_authenticate: www,
                });
        }
        self.auth_to(AuthInput::Rejected);
    }

    fn handle_call_response(
        &mut self,
        h: Slot,
        http_id: RequestId,
        response: Result<HttpResponse, TransportError>,
        stream: Option<session::SseStream>,
        now_ms: u64,
    ) {
        let Some(call) = self.calls.get(&h) else {
            return;
        };
        let resume = matches!(call.phase, Phase::Sent { resume: true, .. });
        let is_stream = matches!(call.op, Op::ServerStream);
        let is_listen = matches!(call.op, Op::Listen { .. });
        let resp = match response {
            Ok(r) => r,
            Err(e) => {
                let too_large = matches!(e, TransportError::BodyTooLarge { .. });
                if resume && call.resumes < MAX_RESUMES && !too_large {
                    let at =
                        now_ms.saturating_add(call.retry_ms.unwrap_or(DEFAULT_RESUME_DELAY_MS));
                    if let Some(c) = self.calls.get_mut(&h) {
                        c.phase = Phase::ResumeAt(at);
                    }
                } else if !resume && call.may_replay() && replayable_failure(&e) {
                    self.diag(format!(
                        "replaying {} once: {}",
                        call.op.method(),
                        failure_kind(&e)
                    ));
                    if let Some(c) = self.calls.get_mut(&h) {
                        c.replays += 1;
                    }
                    self.requeue(h);
                } else {
                    self.fail(h, Error::Transport(e));
                }
                return;
            }
        };
        let www = resp.header("www-authenticate").map(str::to_string);
        match resp.status {
            401 => {
                let stale = call.sent_generation < self.generation;
                let refresh_used = call.refresh_used;
                if stale {
                    self.requeue(h);
                } else if !refresh_used && self.can_refresh() {
                    if let Some(c) = self.calls.get_mut(&h) {
                        c.refresh_used = true;
                        c.refused = true;
                    }
                    // `pump` (after every response) starts the refresh, or the back-off
                    // timer does when the token endpoint just failed.
                    self.requeue(h);
                } else {
                    let err = self.unauthorized(www.as_deref());
                    self.authorization_required(www);
                    self.fail(h, err);
                }
                return;
            }
            403 => {
                let bearer = www.as_deref().and_then(parse_bearer);
                if bearer.as_ref().is_some_and(|b| b.is_insufficient_scope()) {
                    let scope = bearer.and_then(|b| b.scope);
                    self.auth_to(AuthInput::ScopeInsufficient(scope.clone()));
                    self.events.push_back(ConnectionEvent::StepUpRequired {
                        scope: scope.clone(),
                        www_authenticate: www,
                    });
                    self.fail(h, Error::InsufficientScope { scope });
                } else {
                    self.fail(
                        h,
                        Error::Forbidden {
                            url: redact_url(&self.url),
                        },
                    );
                }
                return;
            }
            404 if call.sent_session.is_some() && !matches!(call.op, Op::Initialize) => {
                if call.reinit_used {
                    self.fail(h, Error::SessionExpired);
                    return;
                }
                let same_session = self.state.info().session_id == call.sent_session;
                if let Some(c) = self.calls.get_mut(&h) {
                    c.reinit_used = true;
                }
                if same_session {
                    self.diag("the MCP session expired (404): initializing a new one".into());
                    self.session_to(SessionInput::SessionExpired);
                }
                self.requeue(h);
                return;
            }
            405 if is_stream => {
                self.diag("the server offers no GET stream (405)".into());
                self.finish(h, Ok(CallOutput::ServerStreamEnded { supported: false }));
                return;
            }
            405 if is_listen => {
                self.fail(
                    h,
                    Error::Protocol {
                        reason: "the server offers no notification stream (405 on GET): it sends no change notifications".into(),
                    },
                );
                return;
            }
            405 if resume => {
                self.fail(h, Error::Protocol { reason: "the stream broke and the server does not allow resuming it (405 on GET)".into() });
                return;
            }
            429 | 503 => {
                let after = retry_after_ms(&resp);
                let retries = call.retries;
                match after {
                    Some(ms) if retries < MAX_RETRIES && ms <= MAX_RETRY_AFTER_MS => {
                        if let Some(c) = self.calls.get_mut(&h) {
                            c.retries += 1;
                            c.phase = Phase::RetryAt(now_ms.saturating_add(ms));
                        }
                    }
                    None if resp.status == 503 && call.may_replay() => {
                        self.diag(format!(
                            "replaying {} once: HTTP 503 without Retry-After",
                            call.op.method()
                        ));
                        if let Some(c) = self.calls.get_mut(&h) {
                            c.replays += 1;
                            c.phase = Phase::RetryAt(now_ms.saturating_add(SAFE_REPLAY_DELAY_MS));
                        }
                    }
                    _ if resp.status == 429 => self.fail(
                        h,
                        Error::RateLimited {
                            retry_after_ms: after,
                        },
                    ),
                    _ if retries > 0 => self.fail(
                        h,
                        Error::RetriesExhausted {
                            attempts: retries + 1,
                            last: "HTTP 503".into(),
                        },
                    ),
                    _ => self.fail(h, http_status(&resp, &self.url)),
                }
                return;
            }
            s if !(200..300).contains(&s) => {
                if self.era_verdict_on_error(h, &resp) {
                    return;
                }
                let err = http_status(&resp, &self.url);
                self.fail(h, err);
                return;
            }
            _ => {}
        }
        if matches!(call.op, Op::Initialize) {
            self.take_session_id(resp.header(SESSION_HEADER));
        }
        let max_bytes = self.max_tool_list_bytes;
        if let Some(Call {
            op: Op::ListTools { bytes, .. },
            ..
        }) = self.calls.get_mut(&h)
        {
            *bytes = bytes.saturating_add(resp.body.len());
            if *bytes > max_bytes {
                let reason = format!("more than {max_bytes} response bytes across its pages");
                self.fail(h, Error::ToolListTooLarge { reason });
                return;
            }
        }
        let read = match stream {
            Some(st) if resp.is_success() => st.finish(&resp.body),
            _ => session::decode_body(&resp, self.limits),
        };
        let decoded = match read {
            Ok(d) => d,
            Err(e) => {
                self.fail(h, e);
                return;
            }
        };
        for s in &decoded.skipped {
            self.diag(s.clone());
        }
        let origin = (!is_stream).then_some(h);
        self.process_messages(decoded.messages, now_ms, origin);
        if is_stream {
            if self.calls.contains_key(&h) {
                self.finish(h, Ok(CallOutput::ServerStreamEnded { supported: true }));
            }
            return;
        }
        if is_listen {
            // Ended without the server's closing result: dropped, not closed.
            if self.calls.contains_key(&h) {
                self.finish(h, Ok(CallOutput::SubscriptionEnded { graceful: false }));
            }
            return;
        }
        let Some(call) = self.calls.get_mut(&h) else {
            return;
        };
        if !matches!(call.phase, Phase::Sent { http, .. } if http == http_id) {
            return; // answered (and maybe the next page already sent)
        }
        if decoded.last_event_id.is_some() {
            call.last_event_id = decoded.last_event_id;
        }
        if let Some(ms) = decoded.retry_ms {
            call.retry_ms = Some(ms.min(MAX_RESUME_DELAY_MS));
        }
        if call.sent_modern.is_some() && resp.status != 202 {
            // Modern streams cannot be resumed: a request without effects goes again with a
            // new id; one with effects fails (the server may have run it).
            if call.may_replay() {
                call.replays += 1;
                let method = call.op.method();
                self.diag(format!(
                    "the response stream of {method} ended before the answer: sending it again"
                ));
                self.requeue(h);
                return;
            }
            self.fail(
                h,
                Error::Protocol {
                    reason: "the response stream ended before the answer (a modern MCP stream cannot be resumed; the tool may have run)".into(),
                },
            );
            return;
        }
        if (decoded.sse || resume) && call.last_event_id.is_some() && call.resumes < MAX_RESUMES {
            let at = now_ms.saturating_add(call.retry_ms.unwrap_or(DEFAULT_RESUME_DELAY_MS));
            call.phase = Phase::ResumeAt(at);
            self.diag(
                "the response stream ended before the answer: resuming with Last-Event-ID".into(),
            );
            return;
        }
        let reason = if resp.status == 202 {
            "the server answered a request with 202 Accepted and no response".to_string()
        } else {
            "the server closed the stream without answering the request".to_string()
        };
        self.fail(h, Error::Protocol { reason });
    }

    /// A non-2xx answer may say which era the server speaks (streamable-http.mdx, "Backward
    /// Compatibility"): a modern JSON-RPC error in the body means modern (retry with a
    /// version it named, or fail with its error); a 4xx without one to a modern request means
    /// legacy: `initialize`, then the call again. `true` when the response was handled.
    fn era_verdict_on_error(&mut self, h: Slot, resp: &HttpResponse) -> bool {
        let Some(call) = self.calls.get(&h) else {
            return false;
        };
        let sent_modern = call.sent_modern;
        let switches = call.era_switches;
        if let Some((code, message, data)) = modern::modern_error(resp.status, &resp.body) {
            if code == modern::UNSUPPORTED_PROTOCOL_VERSION {
                self.renegotiate(h, data.as_ref());
                return true;
            }
            if sent_modern.is_none() {
                return false;
            }
            self.confirm_modern(h, None);
            if code == modern::HEADER_MISMATCH && self.relist_for(h) {
                return true;
            }
            self.fail(h, Error::JsonRpc { code, message });
            return true;
        }
        let legacy_sign = matches!(resp.status, 400 | 404 | 405 | 406 | 415 | 422);
        if sent_modern.is_none() || !legacy_sign {
            return false;
        }
        if self.policy == EraPolicy::Modern || switches >= MAX_ERA_SWITCHES {
            self.diag(format!(
                "the server answered a modern (2026-07-28) request with HTTP {} and no modern error: it does not speak the modern era",
                resp.status
            ));
            return false;
        }
        self.diag(format!(
            "the server answered a modern request with HTTP {} without a modern error: it speaks a legacy MCP version; initializing",
            resp.status
        ));
        self.switch_era(h, SessionInput::Legacy);
        true
    }

    /// A tool call refused with `HeaderMismatch` (its `x-mcp-header` annotations were not
    /// known, or changed): list the tools, then send it again, once (streamable-http.mdx,
    /// "Client Behavior"). `false` when it already went again.
    fn relist_for(&mut self, h: Slot) -> bool {
        let Some(call) = self.calls.get_mut(&h) else {
            return false;
        };
        let tool_call = match &call.op {
            Op::CallTool { .. } => true,
            Op::Raw { method, .. } => method == "tools/call",
            _ => false,
        };
        if call.relisted || !tool_call {
            return false;
        }
        call.relisted = true;
        call.phase = Phase::AwaitingTools;
        if let Some(rpc) = call.rpc_id.take() {
            self.rpc_index.remove(&rpc);
        }
        self.diag("the server wants Mcp-Param headers this client did not know of: listing the tools, then calling again".into());
        if !self.calls.contains_key(&Slot::Relist) {
            let mut list = new_call(Op::ListTools {
                acc: Vec::new(),
                cursor: None,
                seen: Vec::new(),
                bytes: 0,
                ttl_ms: u64::MAX,
            });
            list.deadline = Some(self.last_now_ms.saturating_add(self.request_timeout_ms));
            self.calls.insert(Slot::Relist, list);
        }
        true
    }

    /// The tool list of [`Slot::Relist`] arrived (or failed): the calls that waited for it go again
    /// (or fail).
    fn relisted(&mut self, outcome: Result<(), Error>) {
        let parked: Vec<Slot> = self
            .calls
            .iter()
            .filter(|(_, c)| c.phase == Phase::AwaitingTools)
            .map(|(h, _)| *h)
            .collect();
        for h in parked {
            match &outcome {
                Ok(()) => self.requeue(h),
                Err(e) => self.finish(h, Err(e.clone())),
            }
        }
    }

    /// The server named the versions it supports (`UnsupportedProtocolVersionError`): retry
    /// with the best one both speak (a legacy one means `initialize`), or fail with an error
    /// that names them.
    fn renegotiate(&mut self, h: Slot, data: Option<&Value>) {
        let Some(call) = self.calls.get(&h) else {
            return;
        };
        let supported = modern::supported_versions(data);
        let switches = call.era_switches;
        // The version it names may be the one just sent (a server that refused it for the
        // moment): that retry is bounded like the others, by MAX_ERA_SWITCHES.
        let choice = modern::choose_version(&supported).filter(|(_, era)| match era {
            VersionEra::Modern => self.policy != EraPolicy::Legacy,
            VersionEra::Legacy => self.policy != EraPolicy::Modern,
        });
        match choice {
            Some((v, era)) if switches < MAX_ERA_SWITCHES => {
                self.diag(format!(
                    "the server does not support the requested MCP version; retrying with {v}"
                ));
                match era {
                    VersionEra::Modern => {
                        self.modern_version = v;
                        let to = SessionInput::Modern {
                            version: v,
                            info: None,
                        };
                        self.switch_era(h, to);
                    }
                    VersionEra::Legacy => {
                        self.legacy_version = v;
                        self.switch_era(h, SessionInput::Legacy);
                    }
                }
            }
            _ => {
                if matches!(self.state, SessionState::Probing { probe } if probe == h) {
                    self.session_to(SessionInput::ProbeLost);
                }
                let mut e = unsupported_version(data);
                // A version both speak, refused only by the era this connection is held to.
                if self.policy != EraPolicy::Auto && modern::choose_version(&supported).is_some() {
                    if let Error::UnsupportedProtocolVersion(named) = &mut e {
                        named.push_str("; this SDK speaks it, but the connection is held to the other era (use the automatic era: EraPolicy::Auto, --era auto)");
                    }
                }
                self.fail(h, e);
            }
        }
    }

    /// The probe was answered with a result without `resultType`, which every modern result
    /// carries: a legacy server served the modern request under legacy semantics (a stateless
    /// one needs no session). The era is legacy: a request without effects goes again after
    /// `initialize` (`true`: handled); a tool call's result stands (it ran), and the calls
    /// after it initialize first.
    /// `None`: not that case; `Some(true)`: handled (sent again); `Some(false)`: the result
    /// stands, the era is now legacy.
    fn served_as_legacy(&mut self, h: Slot, value: &Value) -> Option<bool> {
        if !matches!(self.state, SessionState::Probing { probe } if probe == h)
            || value.get("resultType").is_some()
        {
            return None;
        }
        let call = self.calls.get(&h)?;
        let again = call.may_replay() && call.era_switches < MAX_ERA_SWITCHES;
        if self.policy == EraPolicy::Modern {
            return None;
        }
        self.diag(
            "the server answered a modern request without resultType: it speaks a legacy MCP version; initializing".into(),
        );
        if again {
            self.switch_era(h, SessionInput::Legacy);
            return Some(true);
        }
        self.session_to(SessionInput::Legacy);
        Some(false)
    }

    /// Moves to another era (`to`: [`SessionInput::Modern`] or [`SessionInput::Legacy`]) and
    /// sends call `h` again in it (the waiting calls follow).
    fn switch_era(&mut self, h: Slot, to: SessionInput) {
        let modern = matches!(to, SessionInput::Modern { .. });
        self.session_to(to);
        self.tool_headers = VecMap::new();
        if modern {
            // Settled (a legacy era is, once `initialize` answers).
            self.events.push_back(ConnectionEvent::StateChanged);
        }
        if h == Slot::Initialize && modern {
            // `initialize` itself was refused by a modern server: no initialize needed.
            self.calls.remove(&Slot::Initialize);
            return;
        }
        if let Some(c) = self.calls.get_mut(&h) {
            c.era_switches += 1;
        }
        self.requeue(h);
    }

    /// A modern request of call `h` was answered by a modern server: the probe's verdict
    /// (with the server's info from the result's `_meta`, when there).
    fn confirm_modern(&mut self, h: Slot, result: Option<&Value>) {
        let Some(version) = self.calls.get(&h).and_then(|c| c.sent_modern) else {
            return;
        };
        let info = result.and_then(modern::server_info);
        let newly = !matches!(self.state, SessionState::Modern { version: v, .. } if v == version);
        let info_changed = info.is_some() && (newly || info != self.state.info().server_info);
        self.session_to(SessionInput::Modern {
            version,
            info: info.clone(),
        });
        if let Some(info) = info.filter(|_| info_changed) {
            self.events.push_back(ConnectionEvent::Initialized {
                protocol_version: version.to_string(),
                server_info: info,
            });
        }
        if newly || info_changed {
            self.events.push_back(ConnectionEvent::StateChanged);
        }
    }

    fn requeue(&mut self, h: Slot) {
        if let Some(c) = self.calls.get_mut(&h) {
            c.phase = Phase::Queued;
            if let Some(rpc) = c.rpc_id.take() {
                self.rpc_index.remove(&rpc);
            }
        }
    }

    /// Handles the messages of a body; `origin`: the call whose own stream carried them
    /// (its progress and log notifications are announced with it).
    fn process_messages(&mut self, messages: Vec<Message>, now_ms: u64, origin: Option<Slot>) {
        for m in messages {
            match m {
                Message::Response {
                    id: Some(id),
                    outcome,
                } => match self.rpc_index.get(&id).copied() {
                    Some(h) => self.on_result(h, outcome, now_ms),
                    None => self.diag(format!("ignoring a response to unknown request id {id}")),
                },
                Message::Response { id: None, outcome } => {
                    let msg = match outcome {
                        Err(e) => {
                            format!("server error without request id: {} {}", e.code, e.message)
                        }
                        Ok(_) => "ignoring a result without request id".into(),
                    };
                    self.diag(msg);
                }
                Message::Request { id, method, params } if self.caps.allows(&method, &params) => {
                    self.events.push_back(ConnectionEvent::ServerRequest {
                        request_id: id,
                        request: InputRequest {
                            key: String::new(),
                            method,
                            params,
                        },
                    });
                }
                Message::Request { id, method, .. } => {
                    if method != "ping" {
                        self.diag(format!(
                            "answering unsupported server request `{method}` with -32601"
                        ));
                    }
                    let body = jsonrpc::answer_server_request(&id, &method);
                    self.post(Flight::Notification, body);
                }
                Message::Notification { method, params } => {
                    if method == "notifications/tools/list_changed" {
                        if self.tools_cache.take().is_some() {
                            self.events.push_back(ConnectionEvent::StateChanged);
                        }
                        self.events.push_back(ConnectionEvent::ToolsListChanged);
                    }
                    let listen = origin.and_then(|h| match self.calls.get(&h).map(|c| &c.op) {
                        Some(Op::Listen { filter, .. }) => Some(filter),
                        _ => None,
                    });
                    let about_call = match listen {
                        // A subscription's stream: what it asked for, and its acknowledgment.
                        Some(filter) => {
                            method == "notifications/subscriptions/acknowledged"
                                || filter.wants(&method, &params)
                        }
                        None => matches!(
                            method.as_str(),
                            "notifications/progress" | "notifications/message"
                        ),
                    };
                    match origin.and_then(Slot::app).filter(|_| about_call) {
                        Some(call) => self.events.push_back(ConnectionEvent::CallNotification {
                            call,
                            method,
                            params,
                        }),
                        None => self
                            .events
                            .push_back(ConnectionEvent::ServerNotification { method, params }),
                    }
                }
            }
        }
    }

    fn on_result(&mut self, h: Slot, outcome: Result<Value, jsonrpc::RpcError>, now_ms: u64) {
        let value = match outcome {
            Ok(v) => v,
            Err(e) if e.code == UNSUPPORTED_PROTOCOL_VERSION => {
                self.renegotiate(h, e.data.as_ref());
                return;
            }
            Err(e) => {
                self.confirm_modern(h, None);
                self.fail(
                    h,
                    Error::JsonRpc {
                        code: e.code,
                        message: e.message.chars().take(500).collect(),
                    },
                );
                return;
            }
        };
        match self.served_as_legacy(h, &value) {
            Some(true) => return,
            Some(false) => {}
            None => self.confirm_modern(h, Some(&value)),
        }
        match modern::result_type(&value) {
            Ok(ResultType::Complete) => {}
            Ok(ResultType::InputRequired) => {
                let theirs = self.calls.get(&h).is_some_and(|c| {
                    matches!(
                        c.op,
                        Op::Raw {
                            client_input: true,
                            ..
                        }
                    )
                });
                if theirs {
                    // The proxy's own client answers this round.
                    self.finish(h, Ok(CallOutput::Raw(value)));
                } else {
                    self.input_required(h, value, now_ms);
                }
                return;
            }
            Err(reason) => {
                self.fail(
                    h,
                    Error::InvalidResponse {
                        what: "MCP result".into(),
                        reason,
                    },
                );
                return;
            }
        }
        let Some(call) = self.calls.get(&h) else {
            return;
        };
        let modern = call.sent_modern.is_some();
        match &call.op {
            Op::Initialize => match jsonrpc::parse_initialize_result(value) {
                Ok(r) => {
                    self.finish(Slot::Initialize, Ok(CallOutput::Pong));
                    if !matches!(self.state, SessionState::LegacyInitializing { .. }) {
                        self.diag(
                            "ignoring an initialize result: the era changed meanwhile".into(),
                        );
                        return;
                    }
                    self.session_to(SessionInput::Initialized {
                        protocol_version: r.protocol_version.clone(),
                        server_info: r.server_info.clone(),
                    });
                    self.server_capabilities = r.capabilities.clone();
                    self.events.push_back(ConnectionEvent::StateChanged);
                    self.events.push_back(ConnectionEvent::Initialized {
                        protocol_version: r.protocol_version,
                        server_info: r.server_info,
                    });
                    self.post(Flight::Initialized, jsonrpc::initialized_body());
                    self.pump(now_ms);
                }
                Err(e) => self.fail(Slot::Initialize, e),
            },
            Op::ListTools { .. } => {
                let ttl_ms = value.get("ttlMs").and_then(Value::as_u64);
                match jsonrpc::parse_list_tools_result(value) {
                    Ok(page) => self.tools_page(h, page, modern, ttl_ms, now_ms),
                    Err(e) => self.fail(h, e),
                }
            }
            Op::CallTool { .. } => {
                let r = jsonrpc::parse_call_tool_result(value).map(CallOutput::ToolResult);
                self.finish(h, r);
            }
            Op::Ping => self.finish(h, Ok(CallOutput::Pong)),
            Op::Discover => {
                let d = discovery(&value, self.state.info().protocol_version.as_deref());
                self.server_capabilities = d.capabilities.clone();
                self.finish(h, Ok(CallOutput::Discovered(d)));
            }
            Op::List { kind, .. } => {
                let kind = *kind;
                match surface::page(kind, value) {
                    Ok((items, next)) => self.surface_page(h, kind, items, next, now_ms),
                    Err(e) => self.fail(h, e),
                }
            }
            Op::Read { .. } => {
                let r = surface::parse_read(value).map(CallOutput::Contents);
                self.finish(h, r);
            }
            Op::GetPrompt { .. } => {
                let r = surface::parse_prompt(value).map(CallOutput::Prompt);
                self.finish(h, r);
            }
            Op::Complete { .. } => {
                let r = surface::parse_completion(value).map(CallOutput::Completion);
                self.finish(h, r);
            }
            Op::Listen { .. } => {
                self.finish(h, Ok(CallOutput::SubscriptionEnded { graceful: true }))
            }
            Op::Raw { method, .. } => {
                if modern && method == "tools/list" {
                    self.learn_tool_headers(&value);
                }
                self.finish(h, Ok(CallOutput::Raw(value)))
            }
            Op::ServerStream | Op::Refresh => {}
        }
    }

    /// The `x-mcp-header` annotations of a tool list forwarded as is ([`Connection::request`]),
    /// kept for the tool calls that follow (a tool whose annotations break the rules keeps
    /// none: the server then refuses its calls with `HeaderMismatch`, as it should).
    fn learn_tool_headers(&mut self, value: &Value) {
        let Some(tools) = value.get("tools").and_then(Value::as_array) else {
            return;
        };
        for tool in tools.iter().take(self.max_tools) {
            let Ok(tool) = crate::json::from_value::<Tool>(tool.clone()) else {
                continue;
            };
            match modern::param_headers(&tool) {
                Ok(a) if !a.is_empty() => {
                    self.tool_headers.insert(tool.name.clone(), a);
                }
                _ => {
                    self.tool_headers.remove(&tool.name);
                }
            }
        }
    }

    fn tools_page(
        &mut self,
        h: Slot,
        mut page: jsonrpc::ListToolsResult,
        modern: bool,
        ttl_ms: Option<u64>,
        now_ms: u64,
    ) {
        if modern {
            // Tools whose `x-mcp-header` annotations break the rules are left out
            // (streamable-http.mdx, "Schema Extension"); the others' are kept for the calls.
            let mut kept = Vec::with_capacity(page.tools.len());
            for tool in std::mem::take(&mut page.tools) {
                match modern::param_headers(&tool) {
                    Ok(a) => {
                        if a.is_empty() {
                            self.tool_headers.remove(&tool.name);
                        } else {
                            self.tool_headers.insert(tool.name.clone(), a);
                        }
                        kept.push(tool);
                    }
                    Err(reason) => self.diag(format!(
                        "leaving out tool `{}`: {reason}",
                        tool.name.chars().take(64).collect::<String>()
                    )),
                }
            }
            page.tools = kept;
        }
        let ttl = self.page_ttl(h, ttl_ms);
        let Some(call) = self.calls.get_mut(&h) else {
            return;
        };
        let Op::ListTools {
            acc, cursor, seen, ..
        } = &mut call.op
        else {
            return;
        };
        if acc.len().saturating_add(page.tools.len()) > self.max_tools {
            let reason = format!("more than {} tools", self.max_tools);
            self.fail(h, Error::ToolListTooLarge { reason });
            return;
        }
        acc.extend(page.tools);
        match page.next_cursor.filter(|c| !c.is_empty()) {
            None => {
                let tools = std::mem::take(acc);
                if tools.is_empty() {
                    self.diag(format!(
                        "the server lists no tools. {}",
                        crate::error::HINT_NO_TOOLS
                    ));
                }
                if let Some(ttl) = ttl.filter(|t| *t > 0) {
                    self.tools_cache = Some(CachedTools {
                        tools: tools.clone(),
                        expires_at_ms: now_ms.saturating_add(ttl.min(MAX_TOOLS_TTL_MS)),
                    });
                    self.events.push_back(ConnectionEvent::StateChanged);
                }
                self.finish(h, Ok(CallOutput::Tools(tools)));
            }
            Some(next) => {
                if seen.contains(&next) {
                    self.fail(
                        h,
                        Error::Protocol {
                            reason: "tools/list pagination repeats a cursor (loop)".into(),
                        },
                    );
                    return;
                }
                if seen.len() >= MAX_TOOL_PAGES {
                    let reason = format!("more than {MAX_TOOL_PAGES} pages");
                    self.fail(h, Error::ToolListTooLarge { reason });
                    return;
                }
                seen.push(next.clone());
                *cursor = Some(next);
                // Retries are per page; resumptions per call (MAX_RESUMES in all).
                call.retries = 0;
                call.last_event_id = None;
                self.requeue(h);
                self.pump(now_ms);
            }
        }
    }

    /// A multi round-trip request (basic/patterns/mrtr.mdx): the server needs input before
    /// it completes call `h`. Checked (bounded rounds and sizes; only input this client
    /// declared; only on tools/call, resources/read, prompts/get), then handed to the app
    /// ([`ConnectionEvent::InputRequired`]), or, with only a `requestState`, retried at once.
    fn input_required(&mut self, h: Slot, value: Value, now_ms: u64) {
        let Some(call) = self.calls.get(&h) else {
            return;
        };
        let refuse = |reason: String| Error::Protocol { reason };
        if !matches!(
            call.op,
            Op::CallTool { .. } | Op::Read { .. } | Op::GetPrompt { .. } | Op::Raw { .. }
        ) {
            let e = refuse(format!(
                "the server asked for input on {}, which cannot carry it",
                call.op.method()
            ));
            self.fail(h, e);
            return;
        }
        if call.input_rounds >= MAX_INPUT_ROUNDS {
            let e = refuse(format!(
                "the server asked for input more than {MAX_INPUT_ROUNDS} times"
            ));
            self.fail(h, e);
            return;
        }
        let state = match value.get("requestState") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if s.len() <= MAX_REQUEST_STATE_BYTES => Some(s.clone()),
            Some(_) => {
                let e = refuse(format!(
                    "requestState is not a string of at most {MAX_REQUEST_STATE_BYTES} bytes"
                ));
                self.fail(h, e);
                return;
            }
        };
        let requests: Vec<InputRequest> = match value.get("inputRequests") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Object(m)) if m.len() <= MAX_INPUT_REQUESTS => {
                let mut out = Vec::with_capacity(m.len());
                for (key, req) in m {
                    let method = req.get("method").and_then(Value::as_str).unwrap_or("");
                    let params = req.get("params").cloned().unwrap_or(Value::Null);
                    if !self.caps.allows(method, &params) {
                        let e = refuse(format!(
                            "the server asked for `{}`, which this client did not declare it can answer",
                            method.chars().take(64).collect::<String>()
                        ));
                        self.fail(h, e);
                        return;
                    }
                    out.push(InputRequest {
                        key: key.chars().take(256).collect(),
                        method: method.to_string(),
                        params,
                    });
                }
                out
            }
            Some(_) => {
                let e = refuse(format!(
                    "inputRequests is not an object of at most {MAX_INPUT_REQUESTS} requests"
                ));
                self.fail(h, e);
                return;
            }
        };
        if requests.is_empty() && state.is_none() {
            self.fail(
                h,
                refuse("the server asked for input without saying what".into()),
            );
            return;
        }
        let Some(call) = self.calls.get_mut(&h) else {
            return;
        };
        call.input_rounds += 1;
        if let Some(rpc) = call.rpc_id.take() {
            self.rpc_index.remove(&rpc);
        }
        if requests.is_empty() {
            // Only state to carry: the request goes again at once (a new id).
            call.input = Some(InputRound {
                responses: serde_json::Map::new(),
                state,
            });
            self.requeue(h);
            self.pump(now_ms);
            return;
        }
        let Some(handle) = h.app() else {
            // Only the app's calls can carry input (the ops above).
            return;
        };
        call.phase = Phase::AwaitingInput;
        call.input = None;
        call.awaiting = Some((requests.iter().map(|r| r.key.clone()).collect(), state));
        self.events.push_back(ConnectionEvent::InputRequired {
            call: handle,
            requests,
        });
    }

    /// One page of a surface list: the next one, or the whole list.
    fn surface_page(
        &mut self,
        h: Slot,
        kind: ListKind,
        items: Vec<Value>,
        next: Option<String>,
        now_ms: u64,
    ) {
        let max = self.max_tools;
        let Some(Call {
            op: Op::List {
                acc, cursor, seen, ..
            },
            retries,
            last_event_id,
            ..
        }) = self.calls.get_mut(&h)
        else {
            return;
        };
        if acc.len().saturating_add(items.len()) > max {
            let reason = format!("{} lists more than {max} items", kind.method());
            self.fail(h, Error::Protocol { reason });
            return;
        }
        acc.extend(items);
        match next {
            None => {
                let all = std::mem::take(acc);
                let out = match kind {
                    ListKind::Resources => surface::items(kind, all).map(CallOutput::Resources),
                    ListKind::Templates => {
                        surface::items(kind, all).map(CallOutput::ResourceTemplates)
                    }
                    ListKind::Prompts => surface::items(kind, all).map(CallOutput::Prompts),
                };
                self.finish(h, out);
            }
            Some(next) => {
                if seen.contains(&next) || seen.len() >= MAX_TOOL_PAGES {
                    let reason = format!(
                        "{} pagination repeats a cursor or never ends",
                        kind.method()
                    );
                    self.fail(h, Error::Protocol { reason });
                    return;
                }
                seen.push(next.clone());
                *cursor = Some(next);
                *retries = 0;
                *last_event_id = None;
                self.requeue(h);
                self.pump(now_ms);
            }
        }
    }

    /// Takes one page's `ttlMs` into the list's; returns the list's so far.
    fn page_ttl(&mut self, h: Slot, page_ttl: Option<u64>) -> Option<u64> {
        match self.calls.get_mut(&h) {
            Some(Call {
                op: Op::ListTools { ttl_ms, .. },
                ..
            }) => {
                *ttl_ms = (*ttl_ms).min(page_ttl.unwrap_or(0));
                Some(*ttl_ms)
            }
            _ => None,
        }
    }

    /// The `Mcp-Session-Id` of an `initialize` answer (visible ASCII only).
    fn take_session_id(&mut self, sid: Option<&str>) {
        let Some(sid) = sid else { return };
        if !sid.is_empty() && sid.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
            self.session_to(SessionInput::SessionId(sid.to_string()));
        } else {
            self.diag("ignoring an Mcp-Session-Id with characters outside visible ASCII".into());
        }
    }

    fn closed_done(&mut self, h: CallHandle) {
        self.session_to(SessionInput::Closed);
        self.finish(Slot::App(h), Ok(CallOutput::Closed));
    }
}

impl SansIo for Connection {
    fn poll_request(&mut self) -> Option<HttpRequest> {
        self.outbox.pop_front()
    }

    fn handle_response(
        &mut self,
        id: RequestId,
        response: Result<HttpResponse, TransportError>,
        now_ms: u64,
    ) {
        let stream = self.streams.remove(&id);
        let Some(flight) = self.flights.remove(&id) else {
            return;
        };
        match flight {
            Flight::Call(h) => {
                let current = self
                    .calls
                    .get(&h)
                    .is_some_and(|c| matches!(c.phase, Phase::Sent { http, .. } if http == id));
                if current {
                    self.handle_call_response(h, id, response, stream, now_ms);
                }
            }
            Flight::Refresh(generation) if generation != self.generation => {
                self.diag(
                    "ignoring a refresh result: the credentials were replaced meanwhile".into(),
                );
                self.refresh_ended();
            }
            Flight::Refresh(_) => self.handle_refresh(response, now_ms),
            Flight::Initialized | Flight::Notification => match response {
                Ok(r) if r.is_success() => {
                    if let Ok(d) = session::decode_body(&r, self.limits) {
                        self.process_messages(d.messages, now_ms, None);
                    }
                }
                Ok(r) => self.diag(format!(
                    "a notification was answered with HTTP {}",
                    r.status
                )),
                Err(e) => self.diag(format!("a notification could not be sent: {e}")),
            },
            Flight::Delete(h) => {
                match response {
                    Ok(r) if r.is_success() || r.status == 405 || r.status == 404 => {}
                    Ok(r) => self.diag(format!("session DELETE answered HTTP {}", r.status)),
                    Err(e) => self.diag(format!("session DELETE failed: {e}")),
                }
                self.closed_done(h);
            }
        }
        // Deadlines are checked on every input, not only on the timer: a run loop whose
        // responses are always ready first must still see them pass.
        self.expire_deadlines(now_ms);
        self.pump(now_ms);
    }

    /// Reads a call's event stream while it arrives (streaming transports): server
    /// requests are answered, notifications announced and results delivered before the
    /// stream ends — a server that waits on its own stream for an answer, or a result on a
    /// stream that stays open (a resumed one), no longer waits for the end.
    fn handle_response_part(&mut self, id: RequestId, part: crate::driver::BodyPart, now_ms: u64) {
        let Some(Flight::Call(h)) = self.flights.get(&id).copied() else {
            return;
        };
        let current = self
            .calls
            .get(&h)
            .is_some_and(|c| matches!(c.phase, Phase::Sent { http, .. } if http == id));
        if !current {
            return;
        }
        if h == Slot::Listen && matches!(part, crate::driver::BodyPart::Head { .. }) {
            // The GET stream is open (or refused): the waiting calls go.
            self.listen_wait = None;
            self.pump(now_ms);
        }
        match part {
            crate::driver::BodyPart::Head { status, headers } => {
                let sse = headers.iter().any(|(n, v)| {
                    n.eq_ignore_ascii_case("content-type")
                        && v.trim()
                            .to_ascii_lowercase()
                            .starts_with("text/event-stream")
                });
                if (200..300).contains(&status) && sse {
                    // An `initialize` answered on a stream: its session id comes with the
                    // head, before the result that lets the waiting calls go.
                    if self
                        .calls
                        .get(&h)
                        .is_some_and(|c| matches!(c.op, Op::Initialize))
                    {
                        let sid = headers
                            .iter()
                            .find(|(n, _)| n.eq_ignore_ascii_case(SESSION_HEADER))
                            .map(|(_, v)| v.clone());
                        self.take_session_id(sid.as_deref());
                    }
                    self.streams
                        .insert(id, session::SseStream::new(self.limits));
                }
            }
            crate::driver::BodyPart::Chunk(bytes) => {
                let Some(st) = self.streams.get_mut(&id) else {
                    return;
                };
                match st.push(&bytes) {
                    Ok(messages) => {
                        let last = st.last_event_id().map(str::to_string);
                        let retry = st.retry_ms();
                        if let Some(c) = self.calls.get_mut(&h) {
                            if last.is_some() {
                                c.last_event_id = last;
                            }
                            if let Some(ms) = retry {
                                c.retry_ms = Some(ms.min(MAX_RESUME_DELAY_MS));
                            }
                        }
                        self.process_messages(messages, now_ms, Some(h));
                    }
                    Err(e) => {
                        self.streams.remove(&id);
                        self.fail(h, e);
                    }
                }
                self.expire_deadlines(now_ms);
                self.pump(now_ms);
            }
        }
    }

    fn poll_timeout(&self) -> Option<u64> {
        self.calls
            .values()
            .flat_map(|c| {
                let timer = match c.phase {
                    Phase::RetryAt(t) | Phase::ResumeAt(t) => Some(t),
                    _ => None,
                };
                [timer, c.deadline]
            })
            .chain([self.auth_state.backing_off(), self.listen_wait])
            .flatten()
            .min()
    }

    fn handle_timeout(&mut self, now_ms: u64) {
        self.expire_deadlines(now_ms);
        self.backing_off(now_ms);
        let due: Vec<(Slot, bool)> = self
            .calls
            .iter()
            .filter_map(|(h, c)| match c.phase {
                Phase::RetryAt(t) if t <= now_ms => Some((*h, false)),
                Phase::ResumeAt(t) if t <= now_ms => Some((*h, true)),
                _ => None,
            })
            .collect();
        for (h, resume) in due {
            if resume {
                self.send_resume(h);
            } else {
                self.requeue(h);
            }
        }
        self.pump(now_ms);
    }
}

impl Call {
    /// Whether this call may be sent again after a failure: only requests without effects,
    /// and only [`MAX_SAFE_REPLAYS`] times.
    fn may_replay(&self) -> bool {
        matches!(
            self.op,
            Op::Initialize
                | Op::ListTools { .. }
                | Op::Ping
                | Op::Discover
                | Op::List { .. }
                | Op::Read { .. }
                | Op::GetPrompt { .. }
                | Op::Complete { .. }
        ) && self.replays < MAX_SAFE_REPLAYS
    }
}

impl Op {
    fn method(&self) -> &'static str {
        match self {
            Op::Initialize => "initialize",
            Op::ListTools { .. } => "tools/list",
            Op::CallTool { .. } => "tools/call",
            Op::Ping => "ping",
            Op::Discover => "server/discover",
            Op::List { kind, .. } => kind.method(),
            Op::Read { .. } => "resources/read",
            Op::GetPrompt { .. } => "prompts/get",
            Op::Complete { .. } => "completion/complete",
            Op::ServerStream => "the GET stream",
            Op::Raw { .. } => "a forwarded request",
            Op::Listen { .. } => "subscriptions/listen",
            Op::Refresh => "token refresh",
        }
    }
}

/// The body of a surface request (legacy without `meta`, modern with it).
fn surface_body(
    op: &Op,
    input: Option<&InputRound>,
    rpc: &JsonRpcId,
    meta: Option<&modern::RequestMeta<'_>>,
) -> Vec<u8> {
    fn with<'a, P: serde::Serialize>(
        p: &'a P,
        input: Option<&'a InputRound>,
    ) -> jsonrpc::WithInput<'a, P> {
        jsonrpc::WithInput {
            params: p,
            responses: input.map(|i| &i.responses),
            state: input.and_then(|i| i.state.as_deref()),
        }
    }
    fn body<P: serde::Serialize>(
        rpc: &JsonRpcId,
        method: &str,
        params: Option<&P>,
        meta: Option<&modern::RequestMeta<'_>>,
    ) -> Vec<u8> {
        match (meta, params) {
            (Some(meta), Some(p)) => modern::request_body(rpc, method, p, meta),
            (Some(meta), None) => modern::request_body(rpc, method, &modern::NoParams {}, meta),
            (None, p) => jsonrpc::request_body(rpc, method, p),
        }
    }
    match op {
        Op::List { kind, cursor, .. } => match cursor {
            Some(cursor) => body(
                rpc,
                kind.method(),
                Some(&jsonrpc::CursorParams { cursor }),
                meta,
            ),
            None => body::<modern::NoParams>(rpc, kind.method(), None, meta),
        },
        Op::Read { uri } => {
            let p = surface::ReadParams { uri };
            body(rpc, "resources/read", Some(&with(&p, input)), meta)
        }
        Op::GetPrompt { name, arguments } => {
            let p = surface::GetPromptParams { name, arguments };
            body(rpc, "prompts/get", Some(&with(&p, input)), meta)
        }
        Op::Complete {
            reference,
            argument,
            value,
            context,
        } => body(
            rpc,
            "completion/complete",
            Some(&surface::CompleteParams {
                reference: reference.param(),
                argument: surface::ArgumentParam {
                    name: argument,
                    value,
                },
                context: context
                    .as_ref()
                    .map(|arguments| surface::ContextParam { arguments }),
            }),
            meta,
        ),
        _ => Vec::new(),
    }
}

/// A modern request's body and metadata headers.
type ModernRequest = (Vec<u8>, Vec<(String, String)>);

/// The body and the metadata headers of a call's modern request.
fn modern_request(
    op: &Op,
    input: Option<&InputRound>,
    rpc: &JsonRpcId,
    meta: &modern::RequestMeta<'_>,
    tool_headers: &VecMap<String, Vec<ParamHeader>>,
) -> Result<ModernRequest, Error> {
    let (method, body, name, params) = match op {
        Op::ListTools {
            cursor: Some(cursor),
            ..
        } => {
            let p = jsonrpc::CursorParams { cursor };
            let body = modern::request_body(rpc, "tools/list", &p, meta);
            ("tools/list", body, None, Vec::new())
        }
        Op::ListTools { cursor: None, .. } => {
            let body = modern::request_body(rpc, "tools/list", &modern::NoParams {}, meta);
            ("tools/list", body, None, Vec::new())
        }
        Op::CallTool { name, arguments } => {
            let params = match tool_headers.get(name) {
                Some(a) => modern::param_header_values(a, arguments).map_err(|reason| {
                    Error::InvalidInput {
                        what: "tool arguments".into(),
                        reason,
                    }
                })?,
                None => Vec::new(),
            };
            let p = jsonrpc::WithInput {
                params: &jsonrpc::CallParams { name, arguments },
                responses: input.map(|i| &i.responses),
                state: input.and_then(|i| i.state.as_deref()),
            };
            let body = modern::request_body(rpc, "tools/call", &p, meta);
            ("tools/call", body, Some(name.as_str()), params)
        }
        Op::Ping | Op::Discover => {
            let body = modern::request_body(rpc, "server/discover", &modern::NoParams {}, meta);
            ("server/discover", body, None, Vec::new())
        }
        Op::List { kind, .. } => (
            kind.method(),
            surface_body(op, None, rpc, Some(meta)),
            None,
            Vec::new(),
        ),
        Op::Read { uri } => (
            "resources/read",
            surface_body(op, input, rpc, Some(meta)),
            Some(uri.as_str()),
            Vec::new(),
        ),
        Op::GetPrompt { name, .. } => (
            "prompts/get",
            surface_body(op, input, rpc, Some(meta)),
            Some(name.as_str()),
            Vec::new(),
        ),
        Op::Complete { .. } => (
            "completion/complete",
            surface_body(op, None, rpc, Some(meta)),
            None,
            Vec::new(),
        ),
        Op::Listen { filter, .. } => {
            let p = ListenParams {
                notifications: filter,
            };
            let body = modern::request_body(rpc, "subscriptions/listen", &p, meta);
            ("subscriptions/listen", body, None, Vec::new())
        }
        Op::Raw { method, params, .. } => {
            // What the modelled calls send for these methods: `Mcp-Name`, the tool's
            // `x-mcp-header` arguments, and the answers of an input round.
            let str_param = |k: &str| params.get(k).and_then(Value::as_str);
            let (name, mirrored) = match method.as_str() {
                "tools/call" => {
                    let tool = str_param("name");
                    let arguments = params
                        .get("arguments")
                        .cloned()
                        .unwrap_or_else(|| Value::Object(Default::default()));
                    let mirrored = match tool.and_then(|t| tool_headers.get(&t.to_string())) {
                        Some(a) => {
                            modern::param_header_values(a, &arguments).map_err(|reason| {
                                Error::InvalidInput {
                                    what: "tool arguments".into(),
                                    reason,
                                }
                            })?
                        }
                        None => Vec::new(),
                    };
                    (tool, mirrored)
                }
                "resources/read" => (str_param("uri"), Vec::new()),
                "prompts/get" => (str_param("name"), Vec::new()),
                _ => (None, Vec::new()),
            };
            let p = jsonrpc::WithInput {
                params,
                responses: input.map(|i| &i.responses),
                state: input.and_then(|i| i.state.as_deref()),
            };
            let body = modern::request_body(rpc, method, &p, meta);
            let mut headers = modern::request_headers(meta.version, method, name);
            headers.extend(mirrored);
            return Ok((body, headers));
        }
        Op::Initialize | Op::ServerStream | Op::Refresh => {
            return Err(Error::Protocol {
                reason: "internal: this call has no modern request".into(),
            })
        }
    };
    let mut headers = modern::request_headers(meta.version, method, name);
    headers.extend(params);
    Ok((body, headers))
}

/// What went wrong, without the transport's text (which may quote the request).
fn failure_kind(e: &TransportError) -> &'static str {
    match e {
        TransportError::Connect(_) => "could not connect",
        TransportError::Interrupted(_) => "the connection closed before the answer",
        _ => "the transport failed",
    }
}

/// Transport failures after which a request without effects is sent again.
fn replayable_failure(e: &TransportError) -> bool {
    matches!(
        e,
        TransportError::Connect(_) | TransportError::Interrupted(_) | TransportError::Other(_)
    )
}

fn new_call(op: Op) -> Call {
    Call {
        op,
        phase: Phase::Queued,
        rpc_id: None,
        retries: 0,
        replays: 0,
        resumes: 0,
        last_event_id: None,
        retry_ms: None,
        refresh_used: false,
        reinit_used: false,
        sent_generation: 0,
        sent_session: None,
        refresh_attempts: 0,
        refused: false,
        deadline: None,
        sent_modern: None,
        era_switches: 0,
        relisted: false,
        input: None,
        input_rounds: 0,
        awaiting: None,
    }
}

fn environment_label(url: &url::Url) -> String {
    let origin = url.origin().ascii_serialization();
    if origin == US_BASE {
        Environment::Us.label()
    } else if origin == EU_BASE {
        Environment::Eu.label()
    } else {
        origin
    }
}

/// `Retry-After` in ms: delta-seconds only (an HTTP date cannot be read without a clock
/// source of truth; it counts as absent).
fn retry_after_ms(resp: &HttpResponse) -> Option<u64> {
    resp.header("retry-after")?
        .trim()
        .parse::<u64>()
        .ok()
        .map(|s| s.saturating_mul(1000))
}

fn http_status(resp: &HttpResponse, url: &str) -> Error {
    let json = serde_json::from_slice::<Value>(&resp.body).ok();
    if let Some(e) = json.as_ref().and_then(|v| v.get("error")) {
        if e.get("code").and_then(Value::as_i64) == Some(UNSUPPORTED_PROTOCOL_VERSION) {
            return unsupported_version(e.get("data"));
        }
    }
    let detail = match &json {
        Some(v) => v
            .pointer("/error/message")
            .or_else(|| v.get("error_description"))
            .or_else(|| v.get("error"))
            .and_then(Value::as_str)
            .map(|s| s.chars().take(200).collect::<String>()),
        None => plain_text_detail(&resp.body),
    };
    Error::HttpStatus {
        status: resp.status,
        url: redact_url(url),
        detail,
    }
}

/// MCP's `UnsupportedProtocolVersionError` (2026-07-28; also sent by dual-era servers to a
/// legacy `initialize`).
const UNSUPPORTED_PROTOCOL_VERSION: i64 = modern::UNSUPPORTED_PROTOCOL_VERSION;

/// A `server/discover` result (server/discover.mdx), read leniently: what is missing or
/// malformed is left empty.
fn discovery(result: &Value, version: Option<&str>) -> Discovery {
    let supported_versions = modern::version_list(
        result
            .get("supportedVersions")
            .or_else(|| result.get("protocolVersions")),
    );
    let server_info = result
        .get("serverInfo")
        .and_then(|v| crate::json::from_value(v.clone()).ok())
        .or_else(|| modern::server_info(result));
    Discovery {
        modern: true,
        supported_versions,
        protocol_version: version.unwrap_or_default().to_string(),
        server_info,
        capabilities: result.get("capabilities").cloned().unwrap_or(Value::Null),
    }
}

/// The versions a server said it supports (`data.supported`), as an error that names them.
fn unsupported_version(data: Option<&Value>) -> Error {
    let supported = modern::supported_versions(data);
    let named = if supported.is_empty() {
        "(the server did not say which)".to_string()
    } else {
        supported.join(", ")
    };
    Error::UnsupportedProtocolVersion(named)
}

/// The first line of a short plain-text body (a proxy's or a server's own words), without
/// control characters; none for HTML pages or binary bodies.
fn plain_text_detail(body: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(body.get(..body.len().min(1024))?).ok()?;
    let line = text.trim().lines().next()?.trim();
    if line.is_empty() || line.starts_with('<') {
        return None;
    }
    Some(line.chars().filter(|c| !c.is_control()).take(200).collect())
}
