//! Plain HTTP values exchanged between the sans-IO machines and the host's transport.
//!
//! A machine never performs I/O: it emits an [`HttpRequest`] (with a [`RequestId`]) and
//! later receives the matching [`HttpResponse`] through its `handle_response` method.
//! Both types serialize to the transcript format of `tests/vectors` (see `tests/vectors/README.md`).

use std::fmt;

use serde::{Deserialize, Serialize};

/// Largest response body the SDK's transports read: 16 MiB (the native `ReqwestTransport`,
/// hence ffi's built-in transport, and the wasm `fetch` transport). A larger body fails with
/// [`TransportError::BodyTooLarge`] (error code `response_too_large`) and is read no further.
pub const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// Identifies one outgoing request so that its response can be matched to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RequestId(pub u64);

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// HTTP methods the SDK uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Method {
    /// GET
    Get,
    /// POST
    Post,
    /// DELETE
    Delete,
}

impl Method {
    /// The method name as sent on the wire.
    pub fn as_str(&self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Delete => "DELETE",
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A request the host must send. Headers keep their order; names are sent as written.
///
/// `Debug` never shows the body or the value of credential-bearing headers.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HttpRequest {
    /// Matches the response to this request.
    pub id: RequestId,
    /// HTTP method.
    pub method: Method,
    /// Absolute URL.
    pub url: String,
    /// Header name/value pairs in sending order.
    pub headers: Vec<(String, String)>,
    /// Body bytes (empty for none). Serialized as a UTF-8 string in transcripts.
    #[serde(with = "body_serde")]
    pub body: Vec<u8>,
}

impl HttpRequest {
    /// First header value with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }

    /// Whether this request may be retried without side effects on the server beyond the
    /// first attempt (GET and DELETE).
    pub fn is_idempotent(&self) -> bool {
        matches!(self.method, Method::Get | Method::Delete)
    }
}

impl fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpRequest")
            .field("id", &self.id)
            .field("method", &self.method)
            .field("url", &redact_url(&self.url))
            .field("headers", &RedactedHeaders(&self.headers))
            .field("body", &format_args!("<{} bytes>", self.body.len()))
            .finish()
    }
}

/// A response the host received (or the whole of a streamed body).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HttpResponse {
    /// HTTP status code.
    pub status: u16,
    /// Header name/value pairs as received.
    pub headers: Vec<(String, String)>,
    /// Body bytes. Serialized as a UTF-8 string in transcripts.
    #[serde(with = "body_serde")]
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// A response with a status, headers and body.
    pub fn new(status: u16, headers: Vec<(String, String)>, body: impl Into<Vec<u8>>) -> Self {
        HttpResponse {
            status,
            headers,
            body: body.into(),
        }
    }

    /// A JSON response (`Content-Type: application/json`).
    pub fn json(status: u16, body: &serde_json::Value) -> Self {
        HttpResponse {
            status,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: body.to_string().into_bytes(),
        }
    }

    /// First header value with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }

    /// All values of a header (case-insensitive name), in order.
    pub fn headers_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The media type of `Content-Type`, lower-cased, without parameters.
    pub fn media_type(&self) -> Option<String> {
        self.header("content-type").map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
    }

    /// 2xx status.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

impl fmt::Debug for HttpResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpResponse")
            .field("status", &self.status)
            .field("headers", &RedactedHeaders(&self.headers))
            .field("body", &format_args!("<{} bytes>", self.body.len()))
            .finish()
    }
}

/// Why the host could not obtain a response. Carries no request content.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[non_exhaustive]
pub enum TransportError {
    /// Could not connect (refused, DNS failure, TLS failure).
    #[error("could not connect: {0}")]
    Connect(String),
    /// No response within the host's time limit.
    #[error("the request timed out")]
    Timeout,
    /// The connection broke while the response was being read.
    #[error("the connection was closed before the response was complete: {0}")]
    Interrupted(String),
    /// The request was cancelled by the application.
    #[error("the request was cancelled")]
    Cancelled,
    /// Any other transport failure.
    #[error("transport failure: {0}")]
    Other(String),
    /// The response body exceeded the transport's limit (it was not read further). Not a
    /// network failure: never replayed (the next answer would be as large).
    #[error("response body larger than {limit} bytes")]
    BodyTooLarge {
        /// The limit, in bytes.
        limit: u64,
    },
}

/// Header names whose values are credentials and never shown.
pub(crate) const SECRET_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "x-api-key",
];

pub(crate) fn find_header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

struct RedactedHeaders<'a>(&'a [(String, String)]);

impl fmt::Debug for RedactedHeaders<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut list = f.debug_list();
        for (name, value) in self.0 {
            if SECRET_HEADERS.iter().any(|s| name.eq_ignore_ascii_case(s)) {
                list.entry(&format_args!("{name}: <redacted>"));
            } else {
                list.entry(&format_args!("{name}: {value}"));
            }
        }
        list.finish()
    }
}

/// Query parameter names whose values are secrets (codes, tokens, PKCE material, state).
pub(crate) const SECRET_PARAMS: &[&str] = &[
    "code",
    "state",
    "access_token",
    "refresh_token",
    "token",
    "client_secret",
    "client_hash",
    "code_verifier",
    "id_token",
];

/// A URL for messages, output and `Debug`: user info (name and password) removed, the values
/// of secret query parameters replaced by `<redacted>`, a fragment redacted. Unparseable
/// input is cut before its query and user info.
pub fn redact_url(raw: &str) -> String {
    let Ok(mut url) = url::Url::parse(raw) else {
        let cut = raw.find(['?', '#']).unwrap_or(raw.len());
        let head = &raw[..cut];
        // `scheme://user:secret@host` that did not parse: drop what precedes the last `@`
        // of the authority.
        let head = match (head.find("://"), head.rfind('@')) {
            (Some(s), Some(at)) if at > s => {
                format!("{}<redacted>@{}", &head[..s + 3], &head[at + 1..])
            }
            _ => head.to_string(),
        };
        return format!(
            "{}{}",
            head,
            if cut < raw.len() { "?<redacted>" } else { "" }
        );
    };
    let _ = url.set_username("");
    let _ = url.set_password(None);
    if url.query().is_some() {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| {
                let secret = SECRET_PARAMS.iter().any(|s| k.eq_ignore_ascii_case(s));
                (
                    k.into_owned(),
                    if secret {
                        "<redacted>".to_string()
                    } else {
                        v.into_owned()
                    },
                )
            })
            .collect();
        url.query_pairs_mut().clear().extend_pairs(pairs);
    }
    if url.fragment().is_some() {
        url.set_fragment(Some("<redacted>"));
    }
    url.to_string()
}

mod body_serde {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(body: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&String::from_utf8_lossy(body))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        Ok(String::deserialize(d)?.into_bytes())
    }
}

/// Encodes `application/x-www-form-urlencoded` bodies.
pub(crate) fn form_body<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Vec<u8> {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
        .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_authorization_and_body() {
        let req = HttpRequest {
            id: RequestId(1),
            method: Method::Post,
            url: "https://h/x?code=SECRETCODE&x=1".into(),
            headers: vec![("Authorization".into(), "Bearer SECRETTOKEN".into())],
            body: b"client_hash=SECRETHASH".to_vec(),
        };
        let dbg = format!("{req:?}");
        assert!(!dbg.contains("SECRET"), "{dbg}");
        assert!(dbg.contains("x=1"));
    }

    #[test]
    fn redact_url_handles_garbage() {
        assert_eq!(redact_url("not a url?code=abc"), "not a url?<redacted>");
        assert!(!redact_url("https://a/b#access_token=zzz").contains("zzz"));
        assert_eq!(
            redact_url("https://user:pw@h.example:8443/wb/mcp?access_token=tok&x=1"),
            "https://h.example:8443/wb/mcp?access_token=%3Credacted%3E&x=1"
        );
        assert_eq!(
            redact_url("https://user@h.example/p"),
            "https://h.example/p"
        );
        let bad = redact_url("https://us:pw@[bad/x?token=t");
        assert!(!bad.contains("pw") && !bad.contains("t=t"), "{bad}");
    }
}
