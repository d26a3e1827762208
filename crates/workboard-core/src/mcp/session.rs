//! Streamable HTTP client rules (MCP 2025-11-25, basic/transports): how requests look and
//! how response bodies are read. The policies (retries, refresh, re-initialization,
//! resumption) live in [`crate::connection`].
//!
//! - Every message is a `POST` with `Accept: application/json, text/event-stream` and
//!   `Content-Type: application/json`.
//! - The `Mcp-Session-Id` the server returns on the `initialize` response is echoed on every
//!   later request; `MCP-Protocol-Version: <negotiated>` goes on every request after
//!   `initialize`.
//! - A response is `application/json` (one message or a batch) or `text/event-stream` (any
//!   number of server requests and notifications, then the response); notifications get
//!   `202 Accepted` with no body.
//! - `GET` (with `Accept: text/event-stream`) opens a server stream or resumes a broken one
//!   with `Last-Event-ID`; `DELETE` ends the session. Servers may answer both with 405.

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::http::{HttpRequest, HttpResponse, Method, RequestId};
use crate::mcp::jsonrpc::{self, Implementation, Message};
use crate::mcp::sse::SseDecoder;
use crate::secret::SecretString;

/// Header carrying the session id.
pub const SESSION_HEADER: &str = "Mcp-Session-Id";
/// Header carrying the negotiated protocol version.
pub const VERSION_HEADER: &str = "MCP-Protocol-Version";

/// What the client knows about its session; persisted by [`crate::connection::Connection::save_state`].
/// Holds no credential.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SessionInfo {
    /// `Mcp-Session-Id` from the server (stateless servers send none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    /// Negotiated protocol version (`None` before `initialize` completed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol_version: Option<String>,
    /// The server's `serverInfo`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_info: Option<Implementation>,
}

/// Read by hand (`json::object`), as the `Serialize` derive above writes it.
impl<'de> Deserialize<'de> for SessionInfo {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        crate::json::object(d, "struct SessionInfo", |f| {
            Ok(SessionInfo {
                session_id: f.opt("session_id")?,
                protocol_version: f.opt("protocol_version")?,
                server_info: f.opt("server_info")?,
            })
        })
    }
}

impl SessionInfo {
    /// Whether `initialize` completed.
    pub fn is_initialized(&self) -> bool {
        self.protocol_version.is_some()
    }

    fn common_headers(&self, headers: &mut Vec<(String, String)>, auth: Option<&SecretString>) {
        if let Some(a) = auth {
            headers.push(("Authorization".into(), a.expose().to_string()));
        }
        if let Some(s) = &self.session_id {
            headers.push((SESSION_HEADER.into(), s.clone()));
        }
        if let Some(v) = &self.protocol_version {
            headers.push((VERSION_HEADER.into(), v.clone()));
        }
    }

    /// A `POST` of one JSON-RPC message. `auth` is the whole `Authorization` value.
    pub(crate) fn post(
        &self,
        id: RequestId,
        url: &str,
        body: Vec<u8>,
        auth: Option<&SecretString>,
    ) -> HttpRequest {
        let mut headers = post_headers();
        self.common_headers(&mut headers, auth);
        HttpRequest {
            id,
            method: Method::Post,
            url: url.to_string(),
            headers,
            body,
        }
    }

    /// A modern `POST` (2026-07-28): no session; `MCP-Protocol-Version`, `Mcp-Method`,
    /// `Mcp-Name` and the `Mcp-Param-*` headers come in `meta_headers`.
    pub(crate) fn post_modern(
        id: RequestId,
        url: &str,
        body: Vec<u8>,
        auth: Option<&SecretString>,
        meta_headers: Vec<(String, String)>,
    ) -> HttpRequest {
        let mut headers = post_headers();
        if let Some(a) = auth {
            headers.push(("Authorization".into(), a.expose().to_string()));
        }
        headers.extend(meta_headers);
        HttpRequest {
            id,
            method: Method::Post,
            url: url.to_string(),
            headers,
            body,
        }
    }

    /// A `GET` that opens a server stream, or resumes one after `last_event_id`.
    pub(crate) fn get_stream(
        &self,
        id: RequestId,
        url: &str,
        last_event_id: Option<&str>,
        auth: Option<&SecretString>,
    ) -> HttpRequest {
        let mut headers = vec![("Accept".to_string(), "text/event-stream".to_string())];
        self.common_headers(&mut headers, auth);
        if let Some(l) = last_event_id {
            headers.push(("Last-Event-ID".into(), l.to_string()));
        }
        HttpRequest {
            id,
            method: Method::Get,
            url: url.to_string(),
            headers,
            body: Vec::new(),
        }
    }

    /// The `DELETE` that ends the session.
    pub(crate) fn delete(
        &self,
        id: RequestId,
        url: &str,
        auth: Option<&SecretString>,
    ) -> HttpRequest {
        let mut headers = Vec::new();
        self.common_headers(&mut headers, auth);
        HttpRequest {
            id,
            method: Method::Delete,
            url: url.to_string(),
            headers,
            body: Vec::new(),
        }
    }
}

/// `Accept` and `Content-Type` of every `POST`.
fn post_headers() -> Vec<(String, String)> {
    vec![
        (
            "Accept".to_string(),
            "application/json, text/event-stream".to_string(),
        ),
        ("Content-Type".to_string(), "application/json".to_string()),
    ]
}

/// Limits applied when reading bodies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest JSON body.
    pub max_message_bytes: usize,
    /// Largest single SSE event.
    pub max_event_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_message_bytes: jsonrpc::DEFAULT_MAX_MESSAGE_BYTES,
            max_event_bytes: crate::mcp::sse::DEFAULT_MAX_EVENT_BYTES,
        }
    }
}

/// A response body, read.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Decoded {
    /// Messages in arrival order.
    pub messages: Vec<Message>,
    /// Whether the body was an event stream.
    pub sse: bool,
    /// The last SSE event id seen (for `Last-Event-ID` on reconnection).
    pub last_event_id: Option<String>,
    /// The server's `retry` delay, if sent.
    pub retry_ms: Option<u64>,
    /// Events that could not be read as JSON-RPC (skipped), for diagnostics.
    pub skipped: Vec<String>,
}

/// Reads a successful response body: JSON, SSE, or empty (202).
pub fn decode_body(resp: &HttpResponse, limits: Limits) -> Result<Decoded, Error> {
    let media = resp.media_type().unwrap_or_default();
    if media == "text/event-stream" {
        return decode_sse(&resp.body, limits);
    }
    if resp.body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Decoded::default());
    }
    if media != "application/json" && !media.ends_with("+json") && !media.is_empty() {
        return Err(Error::InvalidResponse {
            what: "MCP response".into(),
            reason: format!(
                "unexpected content type `{}`",
                media.chars().take(64).collect::<String>()
            ),
        });
    }
    Ok(Decoded {
        messages: jsonrpc::parse_messages(&resp.body, limits.max_message_bytes)?,
        ..Default::default()
    })
}

/// Reads an event stream body (events with empty data — MCP priming events — are skipped).
pub fn decode_sse(body: &[u8], limits: Limits) -> Result<Decoded, Error> {
    SseStream::new(limits).finish(body)
}

/// An event stream read while it arrives (a streaming transport's parts), then finished
/// with the whole body: the messages of each part at once, the rest at the end.
#[derive(Debug)]
pub(crate) struct SseStream {
    dec: SseDecoder,
    limits: Limits,
    /// Body bytes already read from parts.
    consumed: usize,
    skipped: Vec<String>,
}

impl SseStream {
    pub(crate) fn new(limits: Limits) -> SseStream {
        SseStream {
            dec: SseDecoder::new(limits.max_event_bytes),
            limits,
            consumed: 0,
            skipped: Vec::new(),
        }
    }

    /// The messages the events completed by `bytes` carry.
    pub(crate) fn push(&mut self, bytes: &[u8]) -> Result<Vec<Message>, Error> {
        self.consumed = self.consumed.saturating_add(bytes.len());
        let events = self.dec.push(bytes)?;
        let mut out = Vec::new();
        for ev in events {
            if ev.data.trim().is_empty() || ev.event != "message" {
                continue;
            }
            match jsonrpc::parse_messages(ev.data.as_bytes(), self.limits.max_message_bytes) {
                Ok(msgs) => out.extend(msgs),
                Err(e) => self.skipped.push(format!("skipped SSE event: {e}")),
            }
        }
        Ok(out)
    }

    /// The last event id so far.
    pub(crate) fn last_event_id(&self) -> Option<&str> {
        self.dec.last_event_id()
    }

    /// The server's `retry` so far.
    pub(crate) fn retry_ms(&self) -> Option<u64> {
        self.dec.retry_ms()
    }

    /// The end: reads what the parts did not carry of `whole_body`; the messages are those
    /// of that rest only.
    pub(crate) fn finish(mut self, whole_body: &[u8]) -> Result<Decoded, Error> {
        let rest = whole_body.get(self.consumed..).unwrap_or_default();
        let messages = self.push(rest)?;
        let discarded = self.dec.finish();
        let mut skipped = std::mem::take(&mut self.skipped);
        if discarded {
            skipped.push("the event stream ended inside an event (discarded)".into());
        }
        Ok(Decoded {
            messages,
            sse: true,
            last_event_id: self.dec.last_event_id().map(str::to_string),
            retry_ms: self.dec.retry_ms(),
            skipped,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn headers_follow_the_session() {
        let mut s = SessionInfo::default();
        let r = s.post(RequestId(1), "https://h/mcp", b"{}".to_vec(), None);
        assert_eq!(
            r.header("accept"),
            Some("application/json, text/event-stream")
        );
        assert!(r.header(SESSION_HEADER).is_none() && r.header(VERSION_HEADER).is_none());
        s.session_id = Some("abc".into());
        s.protocol_version = Some("2025-11-25".into());
        let r = s.get_stream(
            RequestId(2),
            "https://h/mcp",
            Some("e9"),
            Some(&"Bearer t".into()),
        );
        assert_eq!(r.header("mcp-session-id"), Some("abc"));
        assert_eq!(r.header("mcp-protocol-version"), Some("2025-11-25"));
        assert_eq!(r.header("last-event-id"), Some("e9"));
    }

    #[test]
    fn sse_body_with_priming_and_server_request() {
        let body = b"id: 0\nretry: 500\ndata:\n\nid: 1\ndata: {\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"ping\"}\n\nid: 2\ndata: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}\n\n";
        let resp = HttpResponse::new(
            200,
            vec![("Content-Type".into(), "text/event-stream".into())],
            body.to_vec(),
        );
        let d = decode_body(&resp, Limits::default()).unwrap();
        assert_eq!(d.messages.len(), 2);
        assert_eq!(d.last_event_id.as_deref(), Some("2"));
        assert_eq!(d.retry_ms, Some(500));
        assert!(d.skipped.is_empty());
    }

    #[test]
    fn html_is_refused() {
        let resp = HttpResponse::new(
            200,
            vec![("Content-Type".into(), "text/html".into())],
            b"<html>".to_vec(),
        );
        assert_eq!(
            decode_body(&resp, Limits::default()).unwrap_err().code(),
            "invalid_response"
        );
    }
}
