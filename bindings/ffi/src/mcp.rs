//! MCP calls (`list_tools`, `call_tool`, `ping`, `close`) through the core's [`Connection`]
//! machine. Calls on one client are run one after another on the library's runtime (one
//! `initialize`, one session, refresh on 401 handled by the machine); refreshed credentials
//! reach the store and the listener. The binding only converts values.

use std::sync::Arc;

use serde_json::Value;
use workboard_core::connection::{
    CallHandle, CallOutput, Connection, ConnectionConfig, ConnectionEvent,
};
use workboard_core::mcp::jsonrpc::{CallToolResult, ContentBlock, Implementation, Tool};
use workboard_core::{drive, Clock, Error};

use crate::client::WorkboardClient;
use crate::error::{invalid, wrong_state, WorkboardError};
use crate::host;

type Res<T> = Result<T, WorkboardError>;

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

/// Connection state of a client.
#[derive(Default)]
pub(crate) struct McpState {
    conn: Option<Connection>,
    server: Option<McpServerInfo>,
    /// The credentials generation the connection last received.
    seen_generation: u64,
}

fn tool(t: &Tool) -> McpTool {
    McpTool {
        name: t.name.clone(),
        title: t.title.clone(),
        description: t.description.clone(),
        input_schema_json: t.input_schema.to_string(),
        json: serde_json::to_string(t).unwrap_or_default(),
    }
}

fn tool_result(r: &CallToolResult) -> McpToolResult {
    McpToolResult {
        is_error: r.is_error,
        text: r.text(),
        content_json: Value::Array(r.content.iter().map(ContentBlock::to_value).collect())
            .to_string(),
        structured_content_json: r.structured_content.as_ref().map(Value::to_string),
    }
}

fn unexpected(what: &str) -> WorkboardError {
    Error::Protocol {
        reason: format!("unexpected result for {what}"),
    }
    .into()
}

impl WorkboardClient {
    fn new_connection(&self) -> Res<Connection> {
        let (creds, auth) = self.credentials_and_auth();
        let mut config = ConnectionConfig::new(self.mcp_url());
        config.client_info =
            Implementation::new(self.client_name.clone(), self.client_version.clone());
        config.credentials = creds;
        config.auth = auth;
        Ok(Connection::new(config)?)
    }

    /// Submits one call to the connection (created on first use) and drives it to the end.
    async fn submit(
        &self,
        what: &str,
        call: impl FnOnce(&mut Connection, u64) -> CallHandle,
    ) -> Res<CallOutput> {
        let mut guard = self.mcp.lock().await;
        let generation = self.credentials_generation();
        if guard.conn.is_none() {
            guard.conn = Some(self.new_connection()?);
            guard.seen_generation = generation;
        }
        if guard.seen_generation != generation {
            let (creds, auth) = self.credentials_and_auth();
            if let Some(c) = guard.conn.as_mut() {
                c.set_credentials(creds, auth);
            }
            guard.seen_generation = generation;
        }
        let conn = guard
            .conn
            .as_mut()
            .ok_or_else(|| wrong_state(what, "no connection"))?;
        let handle = call(conn, self.clock.now_ms());
        drive(conn, &self.transport, &self.clock).await;
        let mut server = None;
        while let Some(ev) = conn.poll_event() {
            match ev {
                // Refreshed by the connection: persist and announce (the machine has them).
                ConnectionEvent::CredentialsChanged(c) => self.credentials_from_connection(c)?,
                ConnectionEvent::Initialized {
                    protocol_version,
                    server_info,
                } => {
                    server = Some(McpServerInfo {
                        name: server_info.name,
                        version: server_info.version,
                        protocol_version,
                    });
                }
                _ => {}
            }
        }
        let result = conn.poll_result(handle);
        if server.is_some() {
            guard.server = server;
        }
        match result {
            Some(r) => Ok(r?),
            None => Err(wrong_state(what, "the call did not complete")),
        }
    }
}

#[uniffi::export]
impl WorkboardClient {
    /// Opens the MCP session with the current credentials (personal token, stored or
    /// signed-in OAuth credentials): `initialize`, then a `ping`. Returns what the server
    /// said about itself. Optional: the first call of any kind connects too. Fails with
    /// `unauthorized` (wrong token or environment), `not_signed_in`-style errors, or a
    /// transport error.
    pub async fn connect(self: Arc<Self>) -> Res<McpServerInfo> {
        host::on_runtime(move || async move {
            self.submit("connect", |c, now| c.ping(now)).await?;
            self.mcp.lock().await.server.clone().ok_or_else(|| {
                wrong_state("connect", "the session was restored without initialize")
            })
        })
        .await
    }

    /// Lists every tool of the MCP server (all pages). The first call opens the session
    /// (`initialize`); a 401 with a refreshable OAuth token is refreshed once and retried.
    pub async fn list_tools(self: Arc<Self>) -> Res<Vec<McpTool>> {
        host::on_runtime(move || async move {
            match self
                .submit("list tools", |c, now| c.list_tools(now))
                .await?
            {
                CallOutput::Tools(tools) => Ok(tools.iter().map(tool).collect()),
                _ => Err(unexpected("tools/list")),
            }
        })
        .await
    }

    /// Calls a tool. `arguments_json` is a JSON object text (`"{}"` for none); malformed
    /// JSON fails with `invalid_input` before anything is sent.
    pub async fn call_tool(
        self: Arc<Self>,
        name: String,
        arguments_json: String,
    ) -> Res<McpToolResult> {
        let arguments: Value = if arguments_json.trim().is_empty() {
            Value::Object(Default::default())
        } else {
            serde_json::from_str(&arguments_json)
                .map_err(|e| invalid("tool arguments", format!("not JSON: {e}")))?
        };
        if !arguments.is_object() {
            return Err(invalid("tool arguments", "must be a JSON object"));
        }
        host::on_runtime(move || async move {
            match self
                .submit("call a tool", move |c, now| {
                    c.call_tool(&name, arguments, now)
                })
                .await?
            {
                CallOutput::ToolResult(r) => Ok(tool_result(&r)),
                _ => Err(unexpected("tools/call")),
            }
        })
        .await
    }

    /// Sends an MCP `ping` (opening the session first if needed).
    pub async fn ping(self: Arc<Self>) -> Res<()> {
        host::on_runtime(move || async move {
            self.submit("ping", |c, now| c.ping(now)).await.map(|_| ())
        })
        .await
    }

    /// Ends the MCP session (`DELETE` when the server gave a session id). A later call opens
    /// a new session. Closing a client that never connected does nothing.
    pub async fn close(self: Arc<Self>) -> Res<()> {
        host::on_runtime(move || async move {
            if self.mcp.lock().await.conn.is_none() {
                return Ok(());
            }
            let r = self.submit("close", |c, _| c.close()).await;
            let mut st = self.mcp.lock().await;
            st.conn = None;
            st.server = None;
            r.map(|_| ())
        })
        .await
    }
}
