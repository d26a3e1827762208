//! Single MCP and OAuth discovery requests, and what their answers say, for diagnostic tools
//! that need each request's own status rather than a call's outcome (the `workboard-config`
//! crate's `Doctor`, which maps them to the troubleshooting table). An app calls tools
//! through [`crate::connection::Connection`], which retries, refreshes and re-initializes;
//! nothing here does: one request, one answer.
//!
//! The requests are what the connection sends (Streamable HTTP headers, JSON-RPC bodies with
//! ids 1 for `initialize` and 2 for `tools/list`, and the modern (2026-07-28) `server/discover`
//! (3) and `tools/list` (4)); their [`RequestId`] is 0, for the caller to replace. Bodies are read as the connection reads them (JSON or SSE, size-limited), and
//! errors are the same [`Error`] values.
//!
//! ```
//! use workboard_core::mcp::jsonrpc::Implementation;
//! use workboard_core::{probe, HttpResponse};
//!
//! let client = Implementation::new("my-doctor", "1.0");
//! let req = probe::initialize_request("https://mcp.example.com/mcp", None, &client);
//! assert_eq!(req.header("accept"), Some("application/json, text/event-stream"));
//!
//! let answer = HttpResponse::json(200, &serde_json::json!({
//!     "jsonrpc": "2.0", "id": 1, "result": {
//!         "protocolVersion": "2025-11-25", "capabilities": {},
//!         "serverInfo": {"name": "s", "version": "1"}}}));
//! let session = probe::read_initialize(&answer).unwrap();
//! assert_eq!(session.protocol_version.as_deref(), Some("2025-11-25"));
//! let list = probe::list_tools_request(&session, "https://mcp.example.com/mcp", None);
//! assert_eq!(list.header("mcp-protocol-version"), Some("2025-11-25"));
//! ```

use url::Url;

use crate::error::Error;
use crate::http::{HttpRequest, HttpResponse, RequestId};
use crate::mcp::jsonrpc::{self, Implementation, JsonRpcId, Message};
use crate::mcp::modern;
use crate::mcp::session::{decode_body, Limits, SESSION_HEADER};
use crate::mcp::SessionInfo;
use crate::oauth::metadata::ProtectedResourceMetadata;
use crate::secret::SecretString;

/// An `initialize` `POST` (JSON-RPC id 1) for `server_url`, with `authorization` (the whole
/// `Authorization` value, e.g. `Bearer …`) if given.
pub fn initialize_request(
    server_url: &str,
    authorization: Option<&SecretString>,
    client: &Implementation,
) -> HttpRequest {
    let body = jsonrpc::initialize_body(&JsonRpcId::Number(1), client);
    SessionInfo::default().post(RequestId(0), server_url, body, authorization)
}

/// Reads the answer to [`initialize_request`]: the negotiated protocol version and the
/// session id the server assigned (`Mcp-Session-Id`), if any.
///
/// Errors: the body holds no usable JSON-RPC response ([`Error::Protocol`], a size or syntax
/// error), the server answered with a JSON-RPC error ([`Error::JsonRpc`], message cut to 200
/// characters), or the result is not an `initialize` result of a supported version.
pub fn read_initialize(response: &HttpResponse) -> Result<SessionInfo, Error> {
    let init = jsonrpc::parse_initialize_result(first_result(response)?)?;
    Ok(SessionInfo {
        protocol_version: Some(init.protocol_version),
        session_id: response.header(SESSION_HEADER).map(str::to_string),
        ..SessionInfo::default()
    })
}

/// The `notifications/initialized` `POST` of `session`.
pub fn initialized_request(
    session: &SessionInfo,
    server_url: &str,
    authorization: Option<&SecretString>,
) -> HttpRequest {
    session.post(
        RequestId(0),
        server_url,
        jsonrpc::initialized_body(),
        authorization,
    )
}

/// A `tools/list` `POST` (JSON-RPC id 2, first page) of `session`.
pub fn list_tools_request(
    session: &SessionInfo,
    server_url: &str,
    authorization: Option<&SecretString>,
) -> HttpRequest {
    let body = jsonrpc::list_tools_body(&JsonRpcId::Number(2), None);
    session.post(RequestId(0), server_url, body, authorization)
}

/// A modern (2026-07-28) `server/discover` `POST` (JSON-RPC id 3): `_meta` and the request
/// metadata headers, no session.
pub fn discover_request(
    server_url: &str,
    authorization: Option<&SecretString>,
    client: &Implementation,
) -> HttpRequest {
    modern_request(server_url, authorization, client, "server/discover", 3)
}

/// A modern (2026-07-28) `tools/list` `POST` (JSON-RPC id 4, first page).
pub fn modern_list_tools_request(
    server_url: &str,
    authorization: Option<&SecretString>,
    client: &Implementation,
) -> HttpRequest {
    modern_request(server_url, authorization, client, "tools/list", 4)
}

fn modern_request(
    server_url: &str,
    authorization: Option<&SecretString>,
    client: &Implementation,
    method: &str,
    id: i64,
) -> HttpRequest {
    let version = modern::MODERN_PROTOCOL_VERSIONS[0];
    let caps = serde_json::Value::Object(Default::default());
    let meta = modern::RequestMeta {
        version,
        client_info: client,
        capabilities: &caps,
        log_level: None,
        progress_token: None,
    };
    let body = modern::request_body(&JsonRpcId::Number(id), method, &modern::NoParams {}, &meta);
    SessionInfo::post_modern(
        RequestId(0),
        server_url,
        body,
        authorization,
        modern::request_headers(version, method, None),
    )
}

/// What an answer to a modern request says of the server's era: `Some(versions)` when the
/// server is modern — a `server/discover` result (its `supportedVersions`) or a modern error
/// (`UnsupportedProtocolVersionError` names them; others leave the list empty) —, `None` when
/// the answer is not a modern one (a legacy server, or no answer worth reading).
pub fn modern_versions(response: &HttpResponse) -> Option<Vec<String>> {
    if !(200..300).contains(&response.status) {
        let (code, _, data) = modern::modern_error(response.status, &response.body)?;
        return Some(if code == modern::UNSUPPORTED_PROTOCOL_VERSION {
            modern::supported_versions(data.as_ref())
        } else {
            Vec::new()
        });
    }
    let d = decode_body(response, Limits::default()).ok()?;
    d.messages.into_iter().find_map(|m| match m {
        Message::Response {
            outcome: Ok(result),
            ..
        } => Some(modern::supported_versions(Some(&serde_json::json!({
            "supported": result.get("supportedVersions").cloned().unwrap_or_default()
        })))),
        Message::Response {
            outcome: Err(e), ..
        } if e.code == modern::UNSUPPORTED_PROTOCOL_VERSION => {
            Some(modern::supported_versions(e.data.as_ref()))
        }
        _ => None,
    })
}

/// The number of tools on the page a `tools/list` response holds; errors as
/// [`read_initialize`].
pub fn read_tool_count(response: &HttpResponse) -> Result<usize, Error> {
    Ok(jsonrpc::parse_list_tools_result(first_result(response)?)?
        .tools
        .len())
}

/// The `resource_metadata` URL of the first `Bearer` challenge in the response's
/// `WWW-Authenticate` headers (RFC 9728), as sent (not checked).
pub fn resource_metadata_url(response: &HttpResponse) -> Option<String> {
    crate::oauth::www_authenticate::bearer_from_response(response).and_then(|b| b.resource_metadata)
}

/// The protected resource metadata URLs OAuth discovery tries for `server_url`, in order
/// (path-specific well-known URL first, then the root one).
pub fn protected_resource_metadata_urls(server_url: &Url) -> Vec<String> {
    crate::oauth::discovery::prm_candidates(server_url, None)
        .map(|c| c.into_iter().map(|u| u.to_string()).collect())
        .unwrap_or_default()
}

/// Whether `body` is a protected resource metadata document this SDK can use (RFC 9728;
/// size-limited, known fields of the right types).
pub fn is_protected_resource_metadata(body: &[u8]) -> bool {
    ProtectedResourceMetadata::parse(body).is_ok()
}

/// The result of the first JSON-RPC response in a body (JSON or SSE).
fn first_result(r: &HttpResponse) -> Result<serde_json::Value, Error> {
    let d = decode_body(r, Limits::default())?;
    for m in d.messages {
        if let Message::Response { outcome, .. } = m {
            return outcome.map_err(|e| Error::JsonRpc {
                code: e.code,
                message: e.message.chars().take(200).collect(),
            });
        }
    }
    Err(Error::Protocol {
        reason: "no JSON-RPC response in the body".into(),
    })
}
