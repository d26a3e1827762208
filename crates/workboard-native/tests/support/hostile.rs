//! A hostile HTTP/1.1 server on 127.0.0.1 for end-to-end tests: each test gives it a handler
//! that decides, per request, what to answer — a status with a body (of any size, with or
//! without `Content-Length`), a hang-up without an answer, or no answer at all (the connection
//! held open). It records every request.
//!
//! Bounded by construction: it accepts at most `max_connections` connections, one request
//! each (`Connection: close`), reads at most 64 KiB of headers and 1 MiB of body, and stops
//! by itself when `lifetime` has passed (every read, write and accept waits at most until
//! then). It never binds anything but 127.0.0.1.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::{timeout_at, Instant};

const MAX_HEAD: usize = 64 * 1024;
const MAX_BODY: usize = 1024 * 1024;

/// One request as received.
#[derive(Clone, Debug)]
pub struct Request {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The request target (path and query).
    pub path: String,
    /// Header name/value pairs.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Request {
    /// The JSON-RPC `method` of a POSTed message, if any.
    pub fn rpc_method(&self) -> Option<String> {
        let v: Value = serde_json::from_slice(&self.body).ok()?;
        v.get("method")?.as_str().map(str::to_string)
    }

    /// The JSON-RPC `id` of a POSTed message (`null` if none).
    pub fn rpc_id(&self) -> Value {
        serde_json::from_slice::<Value>(&self.body)
            .ok()
            .and_then(|v| v.get("id").cloned())
            .unwrap_or(Value::Null)
    }

    /// First header value with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// What the server does with a request.
#[derive(Clone, Debug)]
pub enum Reply {
    /// Answers with a status, headers and a body.
    Respond {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
        /// Sends `Content-Length` (otherwise the body ends when the connection closes).
        content_length: bool,
    },
    /// Closes the connection without answering.
    HangUp,
    /// Keeps the connection open without answering, until the server's lifetime ends.
    Hang,
}

impl Reply {
    /// A JSON body with `Content-Length`.
    pub fn json(status: u16, v: &Value) -> Reply {
        Reply::Respond {
            status,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: v.to_string().into_bytes(),
            content_length: true,
        }
    }

    /// A JSON-RPC result for `req`.
    pub fn rpc_result(req: &Request, result: Value) -> Reply {
        Reply::json(
            200,
            &json!({"jsonrpc": "2.0", "id": req.rpc_id(), "result": result}),
        )
    }

    /// An empty answer with this status.
    pub fn status(status: u16) -> Reply {
        Reply::Respond {
            status,
            headers: Vec::new(),
            body: Vec::new(),
            content_length: true,
        }
    }
}

/// A minimal MCP server's answers (one tool, `echo`), for handlers to fall back on.
pub fn mcp_basics(req: &Request) -> Reply {
    if req.header("Mcp-Method").is_some() {
        // A legacy server: the client's modern probe is refused, so it initializes.
        return Reply::status(400);
    }
    match req.rpc_method().as_deref() {
        Some("initialize") => Reply::rpc_result(
            req,
            json!({"protocolVersion": "2025-11-25", "capabilities": {"tools": {}},
                   "serverInfo": {"name": "hostile", "version": "1"}}),
        ),
        Some("tools/list") => Reply::rpc_result(
            req,
            json!({"tools": [{"name": "echo", "inputSchema": {"type": "object"}}]}),
        ),
        Some("tools/call") => Reply::rpc_result(req, json!({"content": []})),
        Some("ping") => Reply::rpc_result(req, json!({})),
        _ => Reply::status(202),
    }
}

type Handler = Arc<dyn Fn(&Request) -> Reply + Send + Sync>;

/// A running hostile server. See the module docs.
pub struct HostileServer {
    port: u16,
    log: Arc<Mutex<Vec<Request>>>,
}

impl HostileServer {
    /// Starts a server on 127.0.0.1 (a free port) that serves at most `max_connections`
    /// requests and stops after `lifetime`.
    pub async fn start(
        max_connections: usize,
        lifetime: Duration,
        handler: impl Fn(&Request) -> Reply + Send + Sync + 'static,
    ) -> HostileServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let log = Arc::new(Mutex::new(Vec::new()));
        let handler: Handler = Arc::new(handler);
        let deadline = Instant::now() + lifetime;
        let accept_log = log.clone();
        tokio::spawn(async move {
            for _ in 0..max_connections {
                let Ok(Ok((socket, _))) = timeout_at(deadline, listener.accept()).await else {
                    break;
                };
                let (log, handler) = (accept_log.clone(), handler.clone());
                tokio::spawn(async move {
                    let _ = timeout_at(deadline, serve_one(socket, &log, &handler)).await;
                });
            }
        });
        HostileServer { port, log }
    }

    /// `http://127.0.0.1:<port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<Request> {
        self.log.lock().unwrap().clone()
    }

    /// How many requests went to `path`.
    pub fn count_path(&self, path: &str) -> usize {
        self.requests().iter().filter(|r| r.path == path).count()
    }

    /// How many JSON-RPC messages with this method were received.
    pub fn count_rpc(&self, method: &str) -> usize {
        self.requests()
            .iter()
            .filter(|r| r.rpc_method().as_deref() == Some(method))
            .count()
    }
}

async fn serve_one(mut socket: TcpStream, log: &Mutex<Vec<Request>>, handler: &Handler) {
    let Some(req) = read_request(&mut socket).await else {
        return;
    };
    log.lock().unwrap().push(req.clone());
    match handler(&req) {
        Reply::HangUp => {}
        // Bounded: `serve_one` runs under the server's lifetime deadline.
        Reply::Hang => std::future::pending::<()>().await,
        Reply::Respond {
            status,
            headers,
            body,
            content_length,
        } => {
            let mut head = format!("HTTP/1.1 {status} Hostile\r\nConnection: close\r\n");
            for (n, v) in &headers {
                head.push_str(&format!("{n}: {v}\r\n"));
            }
            if content_length {
                head.push_str(&format!("Content-Length: {}\r\n", body.len()));
            }
            head.push_str("\r\n");
            if socket.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            // In pieces: a client that stops reading makes a write fail, which ends this.
            for piece in body.chunks(64 * 1024) {
                if socket.write_all(piece).await.is_err() {
                    return;
                }
            }
            let _ = socket.shutdown().await;
        }
    }
}

async fn read_request(socket: &mut TcpStream) -> Option<Request> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        if buf.len() > MAX_HEAD {
            return None;
        }
        let n = socket.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let method = first.next()?.to_string();
    let path = first.next()?.to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect();
    let len = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .unwrap_or(0)
        .min(MAX_BODY);
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < len {
        let n = socket.read(&mut chunk).await.ok()?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    body.truncate(len);
    Some(Request {
        method,
        path,
        headers,
        body,
    })
}

/// A loopback port reserved while the returned socket lives: bound (SO_REUSEADDR) and never
/// listening, so connections to it are refused and no one else is given it.
pub fn reserved_port() -> (tokio::net::TcpSocket, u16) {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_reuseaddr(true).unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let port = socket.local_addr().unwrap().port();
    (socket, port)
}
