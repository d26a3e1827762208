//! JSON-RPC 2.0 framing and the MCP messages a client needs (spec 2025-11-25):
//! `initialize` with version negotiation, `notifications/initialized`, `tools/list`,
//! `tools/call`, `ping`, `notifications/cancelled`, and answers to server requests.
//!
//! Parsing is size-limited and returns typed errors; tool schemas stay `serde_json::Value`.
//! Bodies are serialized from structs, so the bytes are stable whatever `serde_json`
//! features the final build enables (transcripts compare them byte for byte).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::Error;

/// The protocol version this SDK requests.
pub const LATEST_PROTOCOL_VERSION: &str = "2025-11-25";

/// Versions accepted from a server, newest first.
pub const SUPPORTED_PROTOCOL_VERSIONS: &[&str] = &["2025-11-25", "2025-06-18", "2025-03-26"];

/// Default limit for one JSON-RPC body: 16 MiB.
pub const DEFAULT_MAX_MESSAGE_BYTES: usize = 16 * 1024 * 1024;

/// JSON-RPC: method not found.
pub const METHOD_NOT_FOUND: i64 = -32601;

/// A JSON-RPC id: a number or a string.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(untagged)]
pub enum JsonRpcId {
    /// Numeric id.
    Number(i64),
    /// String id.
    String(String),
}

impl std::fmt::Display for JsonRpcId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            JsonRpcId::Number(n) => write!(f, "{n}"),
            JsonRpcId::String(s) => write!(f, "\"{s}\""),
        }
    }
}

/// A JSON-RPC error object.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RpcError {
    /// Error code.
    pub code: i64,
    /// Message.
    pub message: String,
    /// Optional data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
}

/// One incoming JSON-RPC message.
#[derive(Clone, Debug, PartialEq)]
pub enum Message {
    /// A request from the server (expects an answer).
    Request {
        /// Id to answer with.
        id: JsonRpcId,
        /// Method.
        method: String,
        /// Params (`Null` when absent).
        params: Value,
    },
    /// A notification from the server.
    Notification {
        /// Method.
        method: String,
        /// Params (`Null` when absent).
        params: Value,
    },
    /// A response to one of our requests.
    Response {
        /// The id of our request (`None` only for error responses to unparseable requests).
        id: Option<JsonRpcId>,
        /// Result or error.
        outcome: Result<Value, RpcError>,
    },
}

fn protocol(reason: impl Into<String>) -> Error {
    Error::Protocol {
        reason: reason.into(),
    }
}

/// Parses a body holding one message or a batch (array) of messages.
pub fn parse_messages(body: &[u8], max_bytes: usize) -> Result<Vec<Message>, Error> {
    if body.len() > max_bytes {
        return Err(Error::ResponseTooLarge {
            what: "JSON-RPC message".into(),
            limit: max_bytes,
        });
    }
    let value: Value = serde_json::from_slice(body).map_err(|e| Error::InvalidResponse {
        what: "JSON-RPC message".into(),
        reason: format!("not JSON (line {}, column {})", e.line(), e.column()),
    })?;
    match value {
        Value::Array(items) => {
            if items.is_empty() {
                return Err(protocol("empty JSON-RPC batch"));
            }
            items.into_iter().map(message_from_value).collect()
        }
        v => Ok(vec![message_from_value(v)?]),
    }
}

/// Interprets one JSON value as a JSON-RPC message.
pub fn message_from_value(value: Value) -> Result<Message, Error> {
    let Value::Object(mut obj) = value else {
        return Err(protocol("a JSON-RPC message must be an object"));
    };
    if obj.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
        return Err(protocol(
            "missing or wrong `jsonrpc` version (expected \"2.0\")",
        ));
    }
    let id = match obj.remove("id") {
        None | Some(Value::Null) => None,
        Some(v) => Some(parse_id(v)?),
    };
    if let Some(method) = obj.remove("method") {
        let Value::String(method) = method else {
            return Err(protocol("`method` must be a string"));
        };
        let params = obj.remove("params").unwrap_or(Value::Null);
        return Ok(match id {
            Some(id) => Message::Request { id, method, params },
            None => Message::Notification { method, params },
        });
    }
    if let Some(err) = obj.remove("error") {
        let err: RpcError = crate::json::from_value(err)
            .map_err(|_| protocol("malformed JSON-RPC error object"))?;
        return Ok(Message::Response {
            id,
            outcome: Err(err),
        });
    }
    match (id, obj.remove("result")) {
        (Some(id), Some(result)) => Ok(Message::Response {
            id: Some(id),
            outcome: Ok(result),
        }),
        (None, Some(_)) => Err(protocol("a JSON-RPC result without an id")),
        _ => Err(protocol(
            "a JSON-RPC message with neither method, result nor error",
        )),
    }
}

fn parse_id(v: Value) -> Result<JsonRpcId, Error> {
    match v {
        Value::String(s) => Ok(JsonRpcId::String(s)),
        Value::Number(n) => n
            .as_i64()
            .map(JsonRpcId::Number)
            .ok_or_else(|| protocol("a JSON-RPC id must be an integer or a string")),
        _ => Err(protocol("a JSON-RPC id must be a number or a string")),
    }
}

#[derive(Serialize)]
struct RequestOut<'a, P: Serialize> {
    jsonrpc: &'static str,
    id: &'a JsonRpcId,
    method: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    params: Option<&'a P>,
}

#[derive(Serialize)]
struct NotificationOut<'a, P: Serialize> {
    jsonrpc: &'static str,
    method: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    params: Option<&'a P>,
}

#[derive(Serialize)]
struct ResultOut<'a> {
    jsonrpc: &'static str,
    id: &'a JsonRpcId,
    result: &'a Value,
}

#[derive(Serialize)]
struct ErrorOut<'a> {
    jsonrpc: &'static str,
    id: &'a JsonRpcId,
    error: &'a RpcError,
}

fn to_bytes<T: Serialize>(v: &T) -> Vec<u8> {
    serde_json::to_vec(v).unwrap_or_default()
}

/// Serializes a request.
pub fn request_body<P: Serialize>(id: &JsonRpcId, method: &str, params: Option<&P>) -> Vec<u8> {
    to_bytes(&RequestOut {
        jsonrpc: "2.0",
        id,
        method,
        params,
    })
}

/// Serializes a notification.
pub fn notification_body<P: Serialize>(method: &str, params: Option<&P>) -> Vec<u8> {
    to_bytes(&NotificationOut {
        jsonrpc: "2.0",
        method,
        params,
    })
}

/// Serializes a success response (to a server request).
pub fn result_body(id: &JsonRpcId, result: &Value) -> Vec<u8> {
    to_bytes(&ResultOut {
        jsonrpc: "2.0",
        id,
        result,
    })
}

/// Serializes an error response (to a server request).
pub fn error_body(id: &JsonRpcId, code: i64, message: &str) -> Vec<u8> {
    to_bytes(&ErrorOut {
        jsonrpc: "2.0",
        id,
        error: &RpcError {
            code,
            message: message.into(),
            data: None,
        },
    })
}

/// The answer to a server→client request: `ping` gets `{}`; every other method gets
/// `-32601 Method not found` (this client offers no sampling, roots or elicitation), so the
/// server never waits on us.
pub fn answer_server_request(id: &JsonRpcId, method: &str) -> Vec<u8> {
    if method == "ping" {
        result_body(id, &Value::Object(Map::new()))
    } else {
        error_body(id, METHOD_NOT_FOUND, &format!("Method not found: {method}"))
    }
}

// ---------------------------------------------------------------------------------------
// MCP messages
// ---------------------------------------------------------------------------------------

/// `clientInfo` / `serverInfo`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Implementation {
    /// Name.
    pub name: String,
    /// Version.
    pub version: String,
    /// Display title, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

impl Implementation {
    /// An implementation description.
    pub fn new(name: impl Into<String>, version: impl Into<String>) -> Self {
        Implementation {
            name: name.into(),
            version: version.into(),
            title: None,
        }
    }
}

impl Default for Implementation {
    fn default() -> Self {
        Implementation::new("workboard-connect", env!("CARGO_PKG_VERSION"))
    }
}

/// What a client can answer when a server asks it for input (MCP client capabilities):
/// declared only for the handlers an app gave.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ClientCapabilities {
    /// Elicitation in form mode (`elicitation/create` with a schema).
    pub elicitation_form: bool,
    /// Elicitation in URL mode (the user is sent to a URL).
    pub elicitation_url: bool,
    /// `sampling/createMessage` (the app's LLM).
    pub sampling: bool,
    /// `roots/list`.
    pub roots: bool,
}

impl ClientCapabilities {
    /// The `capabilities` object (modern: `io.modelcontextprotocol/clientCapabilities`).
    pub fn to_value(&self) -> Value {
        let mut m = Map::new();
        if self.elicitation_form || self.elicitation_url {
            let mut e = Map::new();
            if self.elicitation_form {
                e.insert("form".into(), Value::Object(Map::new()));
            }
            if self.elicitation_url {
                e.insert("url".into(), Value::Object(Map::new()));
            }
            m.insert("elicitation".into(), Value::Object(e));
        }
        if self.roots {
            m.insert("roots".into(), Value::Object(Map::new()));
        }
        if self.sampling {
            m.insert("sampling".into(), Value::Object(Map::new()));
        }
        Value::Object(m)
    }

    /// Whether a server may ask this client for `method` (an input request's method), given
    /// its `params` (elicitation's `mode`: `form` unless said).
    pub fn allows(&self, method: &str, params: &Value) -> bool {
        match method {
            "elicitation/create" => match params.get("mode").and_then(Value::as_str) {
                Some("url") => self.elicitation_url,
                _ => self.elicitation_form,
            },
            "sampling/createMessage" => self.sampling,
            "roots/list" => self.roots,
            _ => false,
        }
    }
}

/// `initialize` params.
#[derive(Clone, Debug, Serialize)]
pub struct InitializeParams<'a> {
    /// Requested version.
    #[serde(rename = "protocolVersion")]
    pub protocol_version: &'a str,
    /// Capabilities.
    pub capabilities: &'a Value,
    /// Who we are.
    #[serde(rename = "clientInfo")]
    pub client_info: &'a Implementation,
}

/// The `initialize` request body.
pub fn initialize_body(id: &JsonRpcId, client_info: &Implementation) -> Vec<u8> {
    initialize_body_for(
        id,
        client_info,
        LATEST_PROTOCOL_VERSION,
        &Value::Object(Map::new()),
    )
}

/// The `initialize` request body asking for `version`.
pub fn initialize_body_for(
    id: &JsonRpcId,
    client_info: &Implementation,
    version: &str,
    capabilities: &Value,
) -> Vec<u8> {
    let params = InitializeParams {
        protocol_version: version,
        capabilities,
        client_info,
    };
    request_body(id, "initialize", Some(&params))
}

/// The `notifications/initialized` body.
pub fn initialized_body() -> Vec<u8> {
    notification_body::<Value>("notifications/initialized", None)
}

#[derive(Serialize)]
pub(crate) struct CursorParams<'a> {
    pub(crate) cursor: &'a str,
}

/// The `tools/list` body (with a pagination cursor after the first page).
pub fn list_tools_body(id: &JsonRpcId, cursor: Option<&str>) -> Vec<u8> {
    match cursor {
        Some(cursor) => request_body(id, "tools/list", Some(&CursorParams { cursor })),
        None => request_body::<Value>(id, "tools/list", None),
    }
}

#[derive(Serialize)]
pub(crate) struct CallParams<'a> {
    pub(crate) name: &'a str,
    pub(crate) arguments: &'a Value,
}

/// A request's params with the answers of an input round (MRTR): `inputResponses` and the
/// exact `requestState` the server sent (none when it sent none).
#[derive(Serialize)]
pub(crate) struct WithInput<'a, P: Serialize> {
    #[serde(flatten)]
    pub(crate) params: &'a P,
    #[serde(rename = "inputResponses", skip_serializing_if = "Option::is_none")]
    pub(crate) responses: Option<&'a Map<String, Value>>,
    #[serde(rename = "requestState", skip_serializing_if = "Option::is_none")]
    pub(crate) state: Option<&'a str>,
}

/// The `tools/call` body.
pub fn call_tool_body(id: &JsonRpcId, name: &str, arguments: &Value) -> Vec<u8> {
    request_body(id, "tools/call", Some(&CallParams { name, arguments }))
}

/// The `ping` body.
pub fn ping_body(id: &JsonRpcId) -> Vec<u8> {
    request_body::<Value>(id, "ping", None)
}

#[derive(Serialize)]
struct CancelParams<'a> {
    #[serde(rename = "requestId")]
    request_id: &'a JsonRpcId,
    reason: &'a str,
}

/// The `notifications/cancelled` body.
pub fn cancelled_body(request_id: &JsonRpcId, reason: &str) -> Vec<u8> {
    notification_body(
        "notifications/cancelled",
        Some(&CancelParams { request_id, reason }),
    )
}

/// The result of `initialize`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct InitializeResult {
    /// The negotiated protocol version.
    #[serde(rename = "protocolVersion")]
    pub protocol_version: String,
    /// Server capabilities as sent.
    #[serde(default)]
    pub capabilities: Value,
    /// Server implementation.
    #[serde(rename = "serverInfo")]
    pub server_info: Implementation,
    /// Instructions for the model, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instructions: Option<String>,
}

/// Parses an `initialize` result and checks the version the server chose.
pub fn parse_initialize_result(result: Value) -> Result<InitializeResult, Error> {
    let r: InitializeResult = crate::json::from_value(result).map_err(|e| {
        protocol(format!(
            "malformed initialize result: {}",
            crate::untrusted::describe_json_error(&e)
        ))
    })?;
    negotiate(&r.protocol_version)?;
    Ok(r)
}

/// Accepts a version the server chose, or fails with [`Error::UnsupportedProtocolVersion`].
pub fn negotiate(server_version: &str) -> Result<&'static str, Error> {
    SUPPORTED_PROTOCOL_VERSIONS
        .iter()
        .find(|v| **v == server_version)
        .copied()
        .ok_or_else(|| Error::UnsupportedProtocolVersion(short(server_version)))
}

fn short(s: &str) -> String {
    s.chars().take(64).collect()
}

/// One tool from `tools/list`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Tool {
    /// Name (call it with this).
    pub name: String,
    /// Display title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// JSON Schema of the arguments.
    #[serde(rename = "inputSchema", default)]
    pub input_schema: Value,
    /// JSON Schema of `structuredContent`, if declared.
    #[serde(
        rename = "outputSchema",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub output_schema: Option<Value>,
    /// Annotations as sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<Value>,
}

/// One page of `tools/list`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ListToolsResult {
    /// Tools on this page.
    pub tools: Vec<Tool>,
    /// Cursor of the next page.
    #[serde(
        rename = "nextCursor",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub next_cursor: Option<String>,
}

// Read by hand (`json::object`): serde's derive would compile a visitor per type. The field
// names are the ones the `Serialize` derives above write (`tests::read_what_is_written`).

impl<'de> Deserialize<'de> for RpcError {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        crate::json::object(d, "struct RpcError", |f| {
            Ok(RpcError {
                code: f.req("code")?,
                message: f.req("message")?,
                data: f.opt("data")?,
            })
        })
    }
}

impl<'de> Deserialize<'de> for Implementation {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        crate::json::object(d, "struct Implementation", |f| {
            Ok(Implementation {
                name: f.req("name")?,
                version: f.req("version")?,
                title: f.opt("title")?,
            })
        })
    }
}

impl<'de> Deserialize<'de> for InitializeResult {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        crate::json::object(d, "struct InitializeResult", |f| {
            Ok(InitializeResult {
                protocol_version: f.req("protocolVersion")?,
                capabilities: f.or_default("capabilities")?,
                server_info: f.req("serverInfo")?,
                instructions: f.opt("instructions")?,
            })
        })
    }
}

impl<'de> Deserialize<'de> for Tool {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        crate::json::object(d, "struct Tool", |f| {
            Ok(Tool {
                name: f.req("name")?,
                title: f.opt("title")?,
                description: f.opt("description")?,
                input_schema: f.or_default("inputSchema")?,
                output_schema: f.opt("outputSchema")?,
                annotations: f.opt("annotations")?,
            })
        })
    }
}

impl<'de> Deserialize<'de> for ListToolsResult {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        crate::json::object(d, "struct ListToolsResult", |f| {
            Ok(ListToolsResult {
                tools: f.req("tools")?,
                next_cursor: f.opt("nextCursor")?,
            })
        })
    }
}

/// Parses one `tools/list` page.
pub fn parse_list_tools_result(result: Value) -> Result<ListToolsResult, Error> {
    crate::json::from_value(result).map_err(|e| {
        protocol(format!(
            "malformed tools/list result: {}",
            crate::untrusted::describe_json_error(&e)
        ))
    })
}

/// A content block of a tool result.
#[derive(Clone, Debug, PartialEq)]
pub enum ContentBlock {
    /// `text`.
    Text {
        /// The text.
        text: String,
    },
    /// `image` (base64 data).
    Image {
        /// Base64 data.
        data: String,
        /// MIME type.
        mime_type: String,
    },
    /// `audio` (base64 data).
    Audio {
        /// Base64 data.
        data: String,
        /// MIME type.
        mime_type: String,
    },
    /// `resource` (embedded resource, as sent).
    Resource {
        /// The `resource` object.
        resource: Value,
    },
    /// `resource_link`.
    ResourceLink {
        /// URI.
        uri: String,
        /// Name, if any.
        name: Option<String>,
    },
    /// Any other block type, kept as sent.
    Other(Value),
}

impl ContentBlock {
    /// The block in MCP's wire form (`{"type": "text", "text": ..}`, ...).
    pub fn to_value(&self) -> Value {
        match self {
            ContentBlock::Text { text } => serde_json::json!({"type": "text", "text": text}),
            ContentBlock::Image { data, mime_type } => {
                serde_json::json!({"type": "image", "data": data, "mimeType": mime_type})
            }
            ContentBlock::Audio { data, mime_type } => {
                serde_json::json!({"type": "audio", "data": data, "mimeType": mime_type})
            }
            ContentBlock::Resource { resource } => {
                serde_json::json!({"type": "resource", "resource": resource})
            }
            ContentBlock::ResourceLink { uri, name: Some(n) } => {
                serde_json::json!({"type": "resource_link", "uri": uri, "name": n})
            }
            ContentBlock::ResourceLink { uri, name: None } => {
                serde_json::json!({"type": "resource_link", "uri": uri})
            }
            ContentBlock::Other(v) => v.clone(),
        }
    }

    fn from_value(v: Value) -> ContentBlock {
        let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
        match v.get("type").and_then(Value::as_str) {
            Some("text") => match s("text") {
                Some(text) => ContentBlock::Text { text },
                None => ContentBlock::Other(v),
            },
            Some(t @ ("image" | "audio")) => match (s("data"), s("mimeType")) {
                (Some(data), Some(mime_type)) if t == "image" => {
                    ContentBlock::Image { data, mime_type }
                }
                (Some(data), Some(mime_type)) => ContentBlock::Audio { data, mime_type },
                _ => ContentBlock::Other(v),
            },
            Some("resource") => match v.get("resource") {
                Some(r) => ContentBlock::Resource {
                    resource: r.clone(),
                },
                None => ContentBlock::Other(v),
            },
            Some("resource_link") => match s("uri") {
                Some(uri) => ContentBlock::ResourceLink {
                    uri,
                    name: s("name"),
                },
                None => ContentBlock::Other(v),
            },
            _ => ContentBlock::Other(v),
        }
    }
}

/// The result of `tools/call`. A tool-level failure is `is_error: true` here, not an `Err`.
#[derive(Clone, Debug, PartialEq)]
pub struct CallToolResult {
    /// Content blocks.
    pub content: Vec<ContentBlock>,
    /// `structuredContent`, if any.
    pub structured_content: Option<Value>,
    /// `isError`: the tool ran and reported a failure.
    pub is_error: bool,
}

impl CallToolResult {
    /// The result in MCP's wire form: `content`, `isError`, and `structuredContent` when
    /// present.
    pub fn to_value(&self) -> Value {
        let mut v = serde_json::json!({
            "content": self.content.iter().map(ContentBlock::to_value).collect::<Vec<_>>(),
            "isError": self.is_error,
        });
        if let (Some(s), Some(obj)) = (&self.structured_content, v.as_object_mut()) {
            obj.insert("structuredContent".into(), s.clone());
        }
        v
    }

    /// All text blocks joined by `\n`.
    pub fn text(&self) -> String {
        let texts: Vec<&str> = self
            .content
            .iter()
            .filter_map(|b| match b {
                ContentBlock::Text { text } => Some(text.as_str()),
                _ => None,
            })
            .collect();
        texts.join("\n")
    }
}

/// Parses a `tools/call` result.
pub fn parse_call_tool_result(result: Value) -> Result<CallToolResult, Error> {
    let Value::Object(mut obj) = result else {
        return Err(protocol("tools/call result must be an object"));
    };
    let content = match obj.remove("content") {
        Some(Value::Array(items)) => items.into_iter().map(ContentBlock::from_value).collect(),
        None | Some(Value::Null) => Vec::new(),
        Some(_) => return Err(protocol("tools/call `content` must be an array")),
    };
    let is_error = match obj.remove("isError") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => b,
        Some(_) => return Err(protocol("tools/call `isError` must be a boolean")),
    };
    let structured_content = obj.remove("structuredContent").filter(|v| !v.is_null());
    Ok(CallToolResult {
        content,
        structured_content,
        is_error,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn bodies_are_stable() {
        let id = JsonRpcId::Number(1);
        assert_eq!(
            String::from_utf8(initialize_body(&id, &Implementation::new("a", "1"))).unwrap(),
            r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"a","version":"1"}}}"#
        );
        assert_eq!(
            String::from_utf8(list_tools_body(&JsonRpcId::String("x".into()), Some("c2"))).unwrap(),
            r#"{"jsonrpc":"2.0","id":"x","method":"tools/list","params":{"cursor":"c2"}}"#
        );
        assert_eq!(
            String::from_utf8(cancelled_body(&id, "user")).unwrap(),
            r#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":1,"reason":"user"}}"#
        );
    }

    #[test]
    fn version_negotiation() {
        assert_eq!(negotiate("2025-06-18").unwrap(), "2025-06-18");
        assert_eq!(negotiate("2025-03-26").unwrap(), "2025-03-26");
        assert_eq!(
            negotiate("2024-11-05").unwrap_err().code(),
            "unsupported_protocol_version"
        );
    }

    #[test]
    fn batch_and_string_ids() {
        let msgs = parse_messages(
            br#"[{"jsonrpc":"2.0","id":"a","result":{}},{"jsonrpc":"2.0","method":"notifications/x"},{"jsonrpc":"2.0","id":3,"method":"ping"}]"#,
            1 << 20,
        )
        .unwrap();
        assert_eq!(msgs.len(), 3);
        assert!(
            matches!(&msgs[0], Message::Response { id: Some(JsonRpcId::String(s)), .. } if s == "a")
        );
        assert!(matches!(
            &msgs[2],
            Message::Request {
                id: JsonRpcId::Number(3),
                ..
            }
        ));
        assert_eq!(
            parse_messages(b"[]", 100).unwrap_err().code(),
            "protocol_error"
        );
        assert_eq!(
            parse_messages(b"{}", 1).unwrap_err().code(),
            "response_too_large"
        );
        assert_eq!(
            parse_messages(b"{\"jsonrpc\":\"2.0\",\"id\":1.5,\"result\":1}", 100)
                .unwrap_err()
                .code(),
            "protocol_error"
        );
    }

    #[test]
    fn server_requests_are_answered() {
        let id = JsonRpcId::Number(9);
        assert_eq!(
            String::from_utf8(answer_server_request(&id, "ping")).unwrap(),
            r#"{"jsonrpc":"2.0","id":9,"result":{}}"#
        );
        let e = String::from_utf8(answer_server_request(&id, "sampling/createMessage")).unwrap();
        assert!(e.contains("-32601"), "{e}");
    }

    #[test]
    fn tool_error_is_a_result() {
        let r = parse_call_tool_result(json!({"content":[{"type":"text","text":"boom"},{"type":"image","data":"AA==","mimeType":"image/png"},{"type":"weird"}],"isError":true})).unwrap();
        assert!(r.is_error);
        assert_eq!(r.text(), "boom");
        assert!(matches!(r.content[1], ContentBlock::Image { .. }));
        assert!(matches!(r.content[2], ContentBlock::Other(_)));
    }
}

#[cfg(test)]
mod wire_form_tests {
    #![allow(clippy::panic)]
    use super::*;

    #[test]
    fn call_tool_results_round_trip_through_their_wire_form() {
        let wire = serde_json::json!({
            "content": [
                {"type": "text", "text": "hi"},
                {"type": "image", "data": "AA==", "mimeType": "image/png"},
                {"type": "resource_link", "uri": "wb://goal/1"},
                {"type": "future_block", "x": 1}
            ],
            "structuredContent": {"n": 1},
            "isError": true
        });
        let parsed = parse_call_tool_result(wire.clone()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(parsed.to_value(), wire);
    }
}
