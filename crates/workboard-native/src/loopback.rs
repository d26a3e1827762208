//! RFC 8252 loopback redirect listener.
//!
//! WorkBoard apps register one exact redirect URI, so the port is fixed and configurable
//! (e.g. `http://127.0.0.1:8765/callback`). [`LoopbackListener::bind`] binds it before the
//! browser is opened; [`LoopbackListener::wait_for_redirect`] answers the browser with a small
//! page and returns the full redirect URL for the core's `handle_redirect`.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Why the listener failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoopbackError {
    /// The redirect URI is not a loopback http URL with a port.
    #[error("redirect URI `{0}` is not an http loopback URL with an explicit port (e.g. http://127.0.0.1:8765/callback)")]
    NotLoopback(String),
    /// The port is taken.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// Address.
        addr: String,
        /// Error.
        source: std::io::Error,
    },
    /// No redirect arrived in time.
    #[error("no browser redirect arrived within {0} s")]
    Timeout(u64),
    /// Socket error.
    #[error("loopback listener: {0}")]
    Io(#[from] std::io::Error),
}

/// A bound listener for one redirect.
#[derive(Debug)]
pub struct LoopbackListener {
    listener: TcpListener,
    path: String,
    redirect_uri: String,
}

impl LoopbackListener {
    /// Binds the host and port of `redirect_uri` (must be `http://127.0.0.1:PORT/...`,
    /// `http://[::1]:PORT/...` or `http://localhost:PORT/...`).
    pub async fn bind(redirect_uri: &str) -> Result<Self, LoopbackError> {
        let url = url::Url::parse(redirect_uri)
            .map_err(|_| LoopbackError::NotLoopback(redirect_uri.into()))?;
        let port = url
            .port()
            .ok_or_else(|| LoopbackError::NotLoopback(redirect_uri.into()))?;
        if url.scheme() != "http" || !workboard_core::env::is_loopback(&url) {
            return Err(LoopbackError::NotLoopback(redirect_uri.into()));
        }
        let host = match url.host() {
            Some(url::Host::Ipv6(ip)) => format!("[{ip}]"),
            Some(url::Host::Ipv4(ip)) => ip.to_string(),
            _ => "127.0.0.1".to_string(),
        };
        let addr = format!("{host}:{port}");
        let listener = TcpListener::bind(&addr)
            .await
            .map_err(|source| LoopbackError::Bind {
                addr: addr.clone(),
                source,
            })?;
        Ok(LoopbackListener {
            listener,
            path: url.path().to_string(),
            redirect_uri: redirect_uri.into(),
        })
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    /// Waits for the browser to arrive at the redirect path; returns the full redirect URL.
    /// Requests to other paths (favicon, probes) get 404 and are ignored.
    pub async fn wait_for_redirect(self, timeout: Duration) -> Result<String, LoopbackError> {
        let secs = timeout.as_secs();
        tokio::time::timeout(timeout, self.accept_loop())
            .await
            .map_err(|_| LoopbackError::Timeout(secs))?
    }

    async fn accept_loop(self) -> Result<String, LoopbackError> {
        loop {
            let (mut sock, _) = self.listener.accept().await?;
            let mut buf = Vec::with_capacity(2048);
            let mut chunk = [0u8; 2048];
            // Read the request head (bounded to 16 KiB).
            while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < 16 * 1024 {
                let n = match tokio::time::timeout(Duration::from_secs(5), sock.read(&mut chunk))
                    .await
                {
                    Ok(Ok(n)) => n,
                    _ => 0,
                };
                if n == 0 {
                    break;
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            let head = String::from_utf8_lossy(&buf);
            let target = head
                .lines()
                .next()
                .and_then(|l| {
                    let mut parts = l.split(' ');
                    match (parts.next(), parts.next()) {
                        (Some("GET"), Some(t)) => Some(t.to_string()),
                        _ => None,
                    }
                })
                .unwrap_or_default();
            let path = target.split('?').next().unwrap_or("");
            if path != self.path {
                let _ = sock
                    .write_all(
                        b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                    )
                    .await;
                continue;
            }
            // The listener cannot know whether the sign-in succeeded (the application checks
            // `state` and exchanges the code next): say only what is known.
            let declined = target.contains("?error=") || target.contains("&error=");
            let heading = if declined {
                "Sign-in not completed"
            } else {
                "Redirect received"
            };
            let page = format!(
                "<!doctype html><meta charset=utf-8><title>WorkBoard sign-in</title>\
                <body style=\"font-family:sans-serif\"><h1>{heading}</h1>\
                <p>You can close this window; the application shows the result.</p></body>"
            );
            let resp = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: text/html; charset=utf-8\r\ncache-control: no-store\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{page}",
                page.len()
            );
            let _ = sock.write_all(resp.as_bytes()).await;
            let _ = sock.shutdown().await;
            let base = self.redirect_uri.split(['?', '#']).next().unwrap_or("");
            let query = target.find('?').map(|i| &target[i..]).unwrap_or("");
            return Ok(format!("{base}{query}"));
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[tokio::test]
    async fn returns_redirect_url_and_ignores_other_paths() {
        let l = LoopbackListener::bind("http://127.0.0.1:0/callback").await;
        // Port 0 is not "an explicit port" for a registered URI, but binding it is useful here.
        let l = l.unwrap();
        let port = l.port();
        let task = tokio::spawn(l.wait_for_redirect(Duration::from_secs(5)));
        let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .unwrap();
        s.write_all(b"GET /favicon.ico HTTP/1.1\r\nhost: x\r\n\r\n")
            .await
            .unwrap();
        let mut out = Vec::new();
        s.read_to_end(&mut out).await.unwrap();
        assert!(String::from_utf8_lossy(&out).starts_with("HTTP/1.1 404"));
        let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .unwrap();
        s.write_all(b"GET /callback?code=c&state=s HTTP/1.1\r\nhost: x\r\n\r\n")
            .await
            .unwrap();
        let mut out = Vec::new();
        s.read_to_end(&mut out).await.unwrap();
        assert!(String::from_utf8_lossy(&out).contains("Redirect received"));
        let url = task.await.unwrap().unwrap();
        assert_eq!(url, "http://127.0.0.1:0/callback?code=c&state=s");
    }

    #[tokio::test]
    async fn refuses_non_loopback() {
        assert!(matches!(
            LoopbackListener::bind("https://app.example/cb").await,
            Err(LoopbackError::NotLoopback(_))
        ));
    }
}
