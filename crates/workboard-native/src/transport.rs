//! [`ReqwestTransport`]: the core's [`Transport`] on reqwest (rustls), with timeouts and a
//! body size cap. Redirects are not followed: the core sees every status itself.

use std::time::Duration;

use workboard_core::{
    BodyPart, BodySink, HttpRequest, HttpResponse, Method, Transport, TransportError,
};

/// Largest response body read (bytes) by default: the core's
/// [`workboard_core::http::MAX_BODY_BYTES`] (16 MiB, shared with the wasm transport); larger
/// bodies fail with [`TransportError::BodyTooLarge`] (error code `response_too_large`), read
/// no further.
pub const DEFAULT_MAX_BODY: usize = workboard_core::http::MAX_BODY_BYTES;

/// Options for [`ReqwestTransport`].
#[derive(Clone, Debug)]
pub struct TransportOptions {
    /// Time to establish a connection.
    pub connect_timeout: Duration,
    /// Time for a whole request and response.
    pub request_timeout: Duration,
    /// Largest body accepted.
    pub max_body: usize,
    /// `User-Agent` header.
    pub user_agent: String,
}

impl Default for TransportOptions {
    fn default() -> Self {
        TransportOptions {
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
            max_body: DEFAULT_MAX_BODY,
            user_agent: format!("workboard-connect/{}", env!("CARGO_PKG_VERSION")),
        }
    }
}

/// A reqwest-based transport. Cheap to clone (shares one connection pool).
#[derive(Clone, Debug)]
pub struct ReqwestTransport {
    client: reqwest::Client,
    max_body: usize,
}

impl ReqwestTransport {
    /// A transport with default options.
    pub fn new() -> Result<Self, TransportError> {
        Self::with_options(TransportOptions::default())
    }

    /// A transport with the given options.
    pub fn with_options(options: TransportOptions) -> Result<Self, TransportError> {
        let client = reqwest::Client::builder()
            .connect_timeout(options.connect_timeout)
            .timeout(options.request_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(options.user_agent)
            .build()
            .map_err(|e| TransportError::Other(format!("cannot build HTTP client: {e}")))?;
        Ok(ReqwestTransport {
            client,
            max_body: options.max_body,
        })
    }

    /// Wraps an existing reqwest client (shared pools across many connections).
    pub fn from_client(client: reqwest::Client) -> Self {
        ReqwestTransport {
            client,
            max_body: DEFAULT_MAX_BODY,
        }
    }

    /// The underlying reqwest client.
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }
}

fn map_error(e: reqwest::Error) -> TransportError {
    // reqwest's Display may include the URL; strip it so no query secret leaks.
    let e = e.without_url();
    if e.is_timeout() {
        TransportError::Timeout
    } else if e.is_connect() {
        TransportError::Connect(root_cause(&e))
    } else if e.is_body() || e.is_decode() || e.is_request() {
        TransportError::Interrupted(root_cause(&e))
    } else {
        TransportError::Other(root_cause(&e))
    }
}

fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut msg = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        msg = format!("{msg}: {s}");
        source = s.source();
    }
    msg
}

impl Transport for ReqwestTransport {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        self.send_with(request, |_| {}).await
    }

    /// Event streams are handed over chunk by chunk as they arrive (the core answers a
    /// server's request on an open stream, or takes a result from a stream that stays open).
    async fn send_streaming(
        &self,
        request: HttpRequest,
        parts: &dyn BodySink,
    ) -> Result<HttpResponse, TransportError> {
        self.send_with(request, |p| parts.part(p)).await
    }
}

impl ReqwestTransport {
    /// Sends `request`; an event stream's head and chunks also go to `on_part` as they
    /// arrive.
    pub(crate) async fn send_with<F: FnMut(BodyPart)>(
        &self,
        request: HttpRequest,
        mut on_part: F,
    ) -> Result<HttpResponse, TransportError> {
        let method = match request.method {
            Method::Get => reqwest::Method::GET,
            Method::Post => reqwest::Method::POST,
            Method::Delete => reqwest::Method::DELETE,
        };
        let url = reqwest::Url::parse(&request.url)
            .map_err(|e| TransportError::Other(format!("invalid request URL: {e}")))?;
        let mut builder = self.client.request(method, url);
        for (name, value) in &request.headers {
            let name = reqwest::header::HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| TransportError::Other(format!("invalid header name `{name}`")))?;
            let value = reqwest::header::HeaderValue::from_str(value)
                .map_err(|_| TransportError::Other(format!("invalid value for header `{name}`")))?;
            builder = builder.header(name, value);
        }
        if !request.body.is_empty() {
            builder = builder.body(request.body);
        }
        let mut response = builder.send().await.map_err(map_error)?;
        let too_large = TransportError::BodyTooLarge {
            limit: u64::try_from(self.max_body).unwrap_or(u64::MAX),
        };
        if response
            .content_length()
            .is_some_and(|n| n > u64::try_from(self.max_body).unwrap_or(u64::MAX))
        {
            return Err(too_large);
        }
        let status = response.status().as_u16();
        let headers: Vec<(String, String)> = response
            .headers()
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let sse = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim_start().starts_with("text/event-stream"));
        if sse {
            on_part(BodyPart::Head {
                status,
                headers: headers.clone(),
            });
        }
        let mut body = Vec::new();
        loop {
            let chunk = match response.chunk().await {
                Ok(Some(chunk)) => chunk,
                Ok(None) => break,
                // An event stream that breaks after the headers: hand back what arrived (the
                // core drops the unfinished event and resumes from the last event id).
                Err(_) if sse => break,
                Err(e) => return Err(map_error(e)),
            };
            if body.len().saturating_add(chunk.len()) > self.max_body {
                return Err(too_large);
            }
            if sse {
                on_part(BodyPart::Chunk(chunk.to_vec()));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(HttpResponse {
            status,
            headers,
            body,
        })
    }
}
