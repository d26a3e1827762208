//! RFC 8252 loopback redirect listener.
//!
//! WorkBoard apps register one exact redirect URI, so the port is fixed and configurable
//! (e.g. `http://127.0.0.1:8765/callback`). [`LoopbackListener::bind`] binds it before the
//! browser is opened; [`LoopbackListener::wait_for_redirect`] hands every request to the
//! redirect path to the application's check (the core's `handle_redirect`) and answers the
//! browser with a small page.
//!
//! Anything on this machine — a web page with an `<img src="http://127.0.0.1:8765/callback">`
//! included — can send requests to the listener. So:
//! - a request whose redirect the check does not accept as *the* answer to the pending
//!   authorization (no or wrong `state`, malformed: [`Verdict::Forged`]) gets an error page
//!   and the listener goes on waiting (the core's pending authorization is not used up by
//!   it, see `workboard_core::oauth::pending`);
//! - connections are served concurrently (at most [`MAX_CONNECTIONS`] at once), each must
//!   send its request head within [`READ_DEADLINE`] and [`MAX_HEAD_BYTES`], so a client that
//!   trickles bytes holds only its own connection, never the sign-in.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

/// Connections served at once; more wait in the kernel's backlog until one is done.
pub const MAX_CONNECTIONS: usize = 16;
/// Largest request head read from a connection (larger: the connection is dropped).
pub const MAX_HEAD_BYTES: usize = 16 * 1024;
/// Time a connection has to send its whole request head.
pub const READ_DEADLINE: Duration = Duration::from_secs(5);
/// Time the answer page may take to be written.
const WRITE_DEADLINE: Duration = Duration::from_secs(2);

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

/// What the application's check says about a redirect that reached the listener.
#[derive(Debug)]
pub enum Verdict<E> {
    /// The awaited authorization response, accepted: the sign-in goes on.
    Accepted,
    /// The awaited authorization response (its `state` matched), but it ends the sign-in
    /// with this error (declined, issuer mismatch, expired, ...).
    Rejected(E),
    /// Not the awaited response (forged, stale, malformed): the pending authorization is
    /// untouched and the listener keeps waiting.
    Forged(E),
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

    /// Waits at most `timeout` for the authorization response: every GET to the redirect
    /// path is turned into the full redirect URL and given to `check`; the first one it does
    /// not call [`Verdict::Forged`] ends the wait (`Ok(Ok(()))` when accepted,
    /// `Ok(Err(e))` when rejected). Requests to other paths (favicon, probes) get 404.
    pub async fn wait_for_redirect<E>(
        self,
        timeout: Duration,
        check: impl FnMut(&str) -> Verdict<E>,
    ) -> Result<Result<(), E>, LoopbackError> {
        let secs = timeout.as_secs();
        tokio::time::timeout(timeout, self.accept_loop(check))
            .await
            .map_err(|_| LoopbackError::Timeout(secs))?
    }

    async fn accept_loop<E>(
        self,
        mut check: impl FnMut(&str) -> Verdict<E>,
    ) -> Result<Result<(), E>, LoopbackError> {
        // Connections whose request head is being read; dropped (and so closed) when the wait
        // ends.
        let mut reading: JoinSet<Option<(TcpStream, String)>> = JoinSet::new();
        // Out of file descriptors: accept again once a connection of ours is done.
        let mut paused = false;
        loop {
            tokio::select! {
                accepted = self.listener.accept(), if !paused && reading.len() < MAX_CONNECTIONS => {
                    match accepted {
                        Ok((sock, _)) => {
                            reading.spawn(read_request_target(sock));
                        }
                        // A connection reset before it was accepted: the listener is fine.
                        Err(e) if is_per_connection(&e) => continue,
                        Err(e) if is_out_of_descriptors(&e) && !reading.is_empty() => paused = true,
                        Err(e) => return Err(e.into()),
                    }
                }
                Some(joined) = reading.join_next() => {
                    paused = false;
                    let Ok(Some((mut sock, target))) = joined else { continue };
                    let path = target.split('?').next().unwrap_or("");
                    if path != self.path {
                        respond(&mut sock, "404 Not Found", None).await;
                        continue;
                    }
                    let base = self.redirect_uri.split(['?', '#']).next().unwrap_or("");
                    let query = target.find('?').map(|i| &target[i..]).unwrap_or("");
                    match check(&format!("{base}{query}")) {
                        Verdict::Forged(_) => {
                            respond(&mut sock, "400 Bad Request", Some((
                                "Not the sign-in this application is waiting for",
                                "This request does not answer the sign-in in progress; it was ignored. If you are signing in, finish it in the window the application opened.",
                            ))).await;
                        }
                        Verdict::Accepted => {
                            // The code exchange comes next: say only what is known.
                            respond(&mut sock, "200 OK", Some((
                                "Redirect received",
                                "You can close this window; the application shows the result.",
                            ))).await;
                            return Ok(Ok(()));
                        }
                        Verdict::Rejected(e) => {
                            respond(&mut sock, "200 OK", Some((
                                "Sign-in not completed",
                                "You can close this window; the application shows why.",
                            ))).await;
                            return Ok(Err(e));
                        }
                    }
                }
            }
        }
    }
}

fn is_per_connection(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(e.kind(), ConnectionAborted | ConnectionReset | Interrupted)
}

fn is_out_of_descriptors(e: &std::io::Error) -> bool {
    // EMFILE, ENFILE (the same numbers on Linux and macOS).
    e.raw_os_error().is_some_and(|c| c == 24 || c == 23)
}

/// Reads one request head within [`READ_DEADLINE`] and [`MAX_HEAD_BYTES`]; returns the
/// connection and the target of a GET, or `None` (the connection is then dropped).
async fn read_request_target(mut sock: TcpStream) -> Option<(TcpStream, String)> {
    let mut buf = Vec::with_capacity(2048);
    let read = async {
        let mut chunk = [0u8; 2048];
        while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
            if buf.len() >= MAX_HEAD_BYTES {
                return false;
            }
            match sock.read(&mut chunk).await {
                Ok(0) | Err(_) => return false,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        true
    };
    if !tokio::time::timeout(READ_DEADLINE, read)
        .await
        .unwrap_or(false)
    {
        return None;
    }
    let head = String::from_utf8_lossy(&buf);
    let line = head.lines().next()?;
    let mut parts = line.split(' ');
    match (parts.next(), parts.next()) {
        (Some("GET"), Some(t)) => {
            let t = t.to_string();
            Some((sock, t))
        }
        _ => None,
    }
}

/// Writes a short answer (a page when `page` is given) within a deadline and closes.
async fn respond(sock: &mut TcpStream, status: &str, page: Option<(&str, &str)>) {
    let body = match page {
        Some((heading, text)) => format!(
            "<!doctype html><meta charset=utf-8><title>WorkBoard sign-in</title>\
            <body style=\"font-family:sans-serif\"><h1>{heading}</h1><p>{text}</p></body>"
        ),
        None => String::new(),
    };
    let resp = format!(
        "HTTP/1.1 {status}\r\ncontent-type: text/html; charset=utf-8\r\ncache-control: no-store\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = tokio::time::timeout(WRITE_DEADLINE, async {
        let _ = sock.write_all(resp.as_bytes()).await;
        let _ = sock.shutdown().await;
    })
    .await;
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    async fn get(port: u16, target: &str) -> String {
        let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .unwrap();
        s.write_all(format!("GET {target} HTTP/1.1\r\nhost: x\r\n\r\n").as_bytes())
            .await
            .unwrap();
        let mut out = Vec::new();
        s.read_to_end(&mut out).await.unwrap();
        String::from_utf8_lossy(&out).into_owned()
    }

    #[tokio::test]
    async fn hands_redirects_to_the_check_until_one_is_not_forged() {
        let l = LoopbackListener::bind("http://127.0.0.1:0/callback").await;
        // Port 0 is not "an explicit port" for a registered URI, but binding it is useful here.
        let l = l.unwrap();
        let port = l.port();
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
        let log = seen.clone();
        let task = tokio::spawn(l.wait_for_redirect(Duration::from_secs(20), move |url| {
            log.lock().unwrap().push(url.to_string());
            if url.contains("state=s") {
                Verdict::Accepted
            } else {
                Verdict::Forged("forged")
            }
        }));
        assert!(get(port, "/favicon.ico").await.starts_with("HTTP/1.1 404"));
        let forged = get(port, "/callback?code=x&state=wrong").await;
        assert!(forged.starts_with("HTTP/1.1 400"), "{forged}");
        assert!(forged.contains("Not the sign-in"));
        assert!(!task.is_finished());
        let real = get(port, "/callback?code=c&state=s").await;
        assert!(real.contains("Redirect received"), "{real}");
        assert_eq!(task.await.unwrap().unwrap(), Ok(()));
        assert_eq!(
            *seen.lock().unwrap(),
            [
                "http://127.0.0.1:0/callback?code=x&state=wrong",
                "http://127.0.0.1:0/callback?code=c&state=s"
            ]
        );
    }

    #[tokio::test]
    async fn a_rejected_redirect_ends_the_wait_with_its_error() {
        let l = LoopbackListener::bind("http://127.0.0.1:0/callback")
            .await
            .unwrap();
        let port = l.port();
        let task = tokio::spawn(
            l.wait_for_redirect(Duration::from_secs(20), |_| Verdict::Rejected("declined")),
        );
        let page = get(port, "/callback?error=access_denied&state=s").await;
        assert!(page.contains("Sign-in not completed"), "{page}");
        assert_eq!(task.await.unwrap().unwrap(), Err("declined"));
    }

    #[tokio::test]
    async fn oversized_and_non_get_requests_are_dropped_without_reaching_the_check() {
        let l = LoopbackListener::bind("http://127.0.0.1:0/callback")
            .await
            .unwrap();
        let port = l.port();
        let task = tokio::spawn(l.wait_for_redirect(Duration::from_secs(20), |url| {
            if url.ends_with("?state=s") {
                Verdict::Accepted
            } else {
                Verdict::Rejected(url.len())
            }
        }));
        let huge = format!("/callback?state={}", "a".repeat(MAX_HEAD_BYTES));
        let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .unwrap();
        // The listener stops reading and drops the connection: writing may fail, reading ends.
        let _ = s
            .write_all(format!("GET {huge} HTTP/1.1\r\n\r\n").as_bytes())
            .await;
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out).await;
        assert!(out.is_empty());
        let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .unwrap();
        s.write_all(b"POST /callback?state=x HTTP/1.1\r\n\r\n")
            .await
            .unwrap();
        let mut out = Vec::new();
        s.read_to_end(&mut out).await.unwrap();
        assert!(out.is_empty());
        assert!(get(port, "/callback?state=s")
            .await
            .contains("Redirect received"));
        assert_eq!(task.await.unwrap().unwrap(), Ok(()));
    }

    #[tokio::test]
    async fn refuses_non_loopback() {
        assert!(matches!(
            LoopbackListener::bind("https://app.example/cb").await,
            Err(LoopbackError::NotLoopback(_))
        ));
    }
}
