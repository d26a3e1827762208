//! Drives a [`Connection`] with an arbitrary sequence of app calls, server answers (any
//! status, headers, SSE fields, JSON-RPC bodies, token responses, transport failures), timer
//! firings and clock jumps, in any order, with numbers biased to the extremes (0, 1,
//! `u64::MAX`, values near it). Shared by the cargo-fuzz target `fuzz/fuzz_targets/connection.rs`
//! (libFuzzer) and the property test `tests/connection_driver_props.rs` (`cargo test`).
//!
//! Besides "no panic", it checks after every step:
//! - each call completes at most once, and every call completes once the machine is run to
//!   the end (a final `drive` with a failing transport: nothing is left waiting forever);
//! - after `handle_timeout(now)` the next deadline is later than `now` (a run loop never spins
//!   on a deadline that is already past);
//! - the token endpoint is asked a bounded number of times: at most
//!   `MAX_REFRESH_ATTEMPTS` failures per call plus two per MCP request, credential change or
//!   start (a fresh token is used before another refresh);
//! - the final `drive` ends within a bounded number of requests;
//! - no access or refresh token appears in a diagnostic, an error or `Debug` output.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::cell::RefCell;

use arbitrary::Arbitrary;
use serde_json::{json, Value};
use workboard_core::connection::{
    CallHandle, Connection, ConnectionConfig, ConnectionEvent, MAX_REFRESH_ATTEMPTS,
};
use workboard_core::testing::{auth_context, ScriptedTransport, SimClock, MCP_URL, TOKEN_URL};
use workboard_core::{
    Credentials, Dialect, HttpRequest, HttpResponse, Method, SansIo, TokenSet, TransportError,
};

const AT: &str = "drv-secret-access-token-0123";
const RT: &str = "drv-secret-refresh-token-4567";

/// A number, biased to the values that break arithmetic.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Num {
    Zero,
    One,
    Small(u8),
    Millis(u16),
    Secs(u32),
    NearMax(u16),
    Max,
    Raw(u64),
}

impl Num {
    pub fn get(self) -> u64 {
        match self {
            Num::Zero => 0,
            Num::One => 1,
            Num::Small(n) => u64::from(n),
            Num::Millis(n) => u64::from(n),
            Num::Secs(n) => u64::from(n).saturating_mul(1000),
            Num::NearMax(n) => u64::MAX - u64::from(n),
            Num::Max => u64::MAX,
            Num::Raw(n) => n,
        }
    }
}

#[derive(Arbitrary, Debug, Clone)]
pub enum Creds {
    None,
    Personal,
    OAuth {
        /// Expiry relative to `now` (may be in the past).
        expires_in: Option<Num>,
        expired: bool,
        lifetime: Num,
        refresh: bool,
    },
}

#[derive(Arbitrary, Debug, Clone)]
pub struct Setup {
    pub creds: Creds,
    pub with_auth: bool,
    pub start: Num,
    pub max_tools: Option<u16>,
    pub max_tool_list_bytes: Option<u32>,
    pub call_timeout: Option<Num>,
    pub request_timeout: Option<Num>,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Status {
    Ok,
    Accepted,
    Unauthorized,
    Forbidden,
    NotFound,
    NotAllowed,
    TooMany,
    Unavailable,
    ServerError,
    Raw(u16),
}

impl Status {
    fn code(self) -> u16 {
        match self {
            Status::Ok => 200,
            Status::Accepted => 202,
            Status::Unauthorized => 401,
            Status::Forbidden => 403,
            Status::NotFound => 404,
            Status::NotAllowed => 405,
            Status::TooMany => 429,
            Status::Unavailable => 503,
            Status::ServerError => 500,
            Status::Raw(n) => n,
        }
    }
}

#[derive(Arbitrary, Debug, Clone)]
pub enum Header {
    RetryAfter(Num),
    RetryAfterText(String),
    WwwInvalidToken,
    WwwInsufficientScope,
    WwwText(String),
    SessionId(String),
    ContentJson,
    ContentSse,
    ContentOther(String),
}

/// A JSON-RPC message (ids refer to the request answered, or to another outstanding one).
#[derive(Arbitrary, Debug, Clone)]
pub enum Msg {
    InitResult { version: u8 },
    ToolsPage { count: u8, cursor: Option<u8> },
    CallResult { is_error: bool },
    EmptyResult,
    RpcError { code: i32 },
    Notification { list_changed: bool },
    ServerRequest { ping: bool },
    Garbage(String),
}

#[derive(Arbitrary, Debug, Clone)]
pub enum SseField {
    Id(String),
    NumericId(u8),
    Retry(Num),
    RetryText(String),
    Data(Msg),
    DataText(String),
    Event(String),
    Comment,
    Blank,
    Raw(Vec<u8>),
}

#[derive(Arbitrary, Debug, Clone)]
pub enum Body {
    Empty,
    Json(Msg),
    Batch(Vec<Msg>),
    Sse(Vec<SseField>),
    Token {
        expires_in: Option<Num>,
        rotate: bool,
        token_type_bearer: bool,
    },
    TokenError(String),
    Raw(Vec<u8>),
}

#[derive(Arbitrary, Debug, Clone)]
pub enum Failure {
    Connect,
    Timeout,
    Interrupted,
    Cancelled,
    Other,
    BodyTooLarge(Num),
}

impl Failure {
    fn error(&self) -> TransportError {
        match self {
            Failure::Connect => TransportError::Connect("refused".into()),
            Failure::Timeout => TransportError::Timeout,
            Failure::Interrupted => TransportError::Interrupted("closed".into()),
            Failure::Cancelled => TransportError::Cancelled,
            Failure::Other => TransportError::Other("other".into()),
            Failure::BodyTooLarge(n) => TransportError::BodyTooLarge { limit: n.get() },
        }
    }
}

#[derive(Arbitrary, Debug, Clone)]
pub enum Answer {
    Http {
        status: Status,
        headers: Vec<Header>,
        body: Body,
        /// Use another outstanding request's JSON-RPC id.
        other_id: Option<u8>,
    },
    Fail(Failure),
}

/// A plausible answer to whatever the request was (so that flows get deep), with the
/// hostile parts left to chance: an event stream that may stop before the answer, its `retry`
/// and ids, token lifetimes, a next page.
#[derive(Arbitrary, Debug, Clone)]
pub struct Serve {
    pub sse: bool,
    pub answer: bool,
    pub retry: Option<Num>,
    pub expires_in: Option<Num>,
    pub next_page: Option<u8>,
    pub status: Option<Status>,
    pub retry_after: Option<Num>,
}

#[derive(Arbitrary, Debug, Clone)]
pub enum Step {
    /// Answers the n-th outstanding request plausibly.
    Serve(u8, Serve),
    ListTools,
    CallTool {
        valid: bool,
    },
    Ping,
    OpenStream,
    Cancel(u8),
    Close,
    SetCredentials(Creds),
    /// Answers the n-th outstanding request (modulo their number).
    Answer(u8, Answer),
    /// Fires the timer at the machine's deadline.
    Timer,
    /// Fires the timer now, whatever the deadline.
    TimerNow,
    Advance(Num),
    JumpTo(Num),
    SaveState,
}

#[derive(Arbitrary, Debug, Clone)]
pub struct Input {
    pub setup: Setup,
    pub steps: Vec<Step>,
}

fn credentials(c: &Creds, now: u64) -> Option<Credentials> {
    match c {
        Creds::None => None,
        Creds::Personal => Some(Credentials::personal(AT)),
        Creds::OAuth {
            expires_in,
            expired,
            lifetime,
            refresh,
        } => {
            let expires_at_ms = expires_in.map(|n| {
                if *expired {
                    now.saturating_sub(n.get())
                } else {
                    now.saturating_add(n.get())
                }
            });
            let issued_at_ms = expires_at_ms.unwrap_or(now).saturating_sub(lifetime.get());
            Some(Credentials::OAuth(TokenSet {
                access_token: AT.into(),
                refresh_token: refresh.then(|| RT.into()),
                token_type: "Bearer".into(),
                scope: None,
                issued_at_ms,
                expires_at_ms,
                dialect: Dialect::OAuth2,
                bound_to: None,
            }))
        }
    }
}

fn rpc_id_of(req: &HttpRequest) -> Value {
    serde_json::from_slice::<Value>(&req.body)
        .ok()
        .and_then(|v| v.get("id").cloned())
        .unwrap_or(Value::Null)
}

fn msg_json(m: &Msg, id: &Value) -> Value {
    match m {
        Msg::InitResult { version } => {
            let v = ["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05", ""]
                [usize::from(*version % 5)];
            json!({"jsonrpc": "2.0", "id": id, "result": {"protocolVersion": v,
                   "capabilities": {"tools": {"listChanged": true}},
                   "serverInfo": {"name": "drv", "version": "1"}}})
        }
        Msg::ToolsPage { count, cursor } => {
            let tools: Vec<Value> = (0..*count)
                .map(|i| json!({"name": format!("t{i}"), "inputSchema": {"type": "object"}}))
                .collect();
            let mut result = json!({"tools": tools});
            if let Some(c) = cursor {
                result["nextCursor"] = json!(format!("c{c}"));
            }
            json!({"jsonrpc": "2.0", "id": id, "result": result})
        }
        Msg::CallResult { is_error } => {
            json!({"jsonrpc": "2.0", "id": id, "result": {"content": [{"type": "text", "text": "x"}], "isError": is_error}})
        }
        Msg::EmptyResult => json!({"jsonrpc": "2.0", "id": id, "result": {}}),
        Msg::RpcError { code } => {
            json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": "no"}})
        }
        Msg::Notification { list_changed } => {
            let method = if *list_changed {
                "notifications/tools/list_changed"
            } else {
                "notifications/message"
            };
            json!({"jsonrpc": "2.0", "method": method, "params": {}})
        }
        Msg::ServerRequest { ping } => {
            let method = if *ping {
                "ping"
            } else {
                "sampling/createMessage"
            };
            json!({"jsonrpc": "2.0", "id": "srv-1", "method": method})
        }
        Msg::Garbage(s) => Value::String(s.clone()),
    }
}

fn body_bytes(b: &Body, id: &Value) -> Vec<u8> {
    match b {
        Body::Empty => Vec::new(),
        Body::Json(m) => msg_json(m, id).to_string().into_bytes(),
        Body::Batch(ms) => Value::Array(ms.iter().map(|m| msg_json(m, id)).collect())
            .to_string()
            .into_bytes(),
        Body::Sse(fields) => {
            let mut out = Vec::new();
            for f in fields {
                match f {
                    SseField::Id(s) => out.extend_from_slice(format!("id: {s}\n").as_bytes()),
                    SseField::NumericId(n) => {
                        out.extend_from_slice(format!("id: {n}\n").as_bytes())
                    }
                    SseField::Retry(n) => {
                        out.extend_from_slice(format!("retry: {}\n", n.get()).as_bytes())
                    }
                    SseField::RetryText(s) => {
                        out.extend_from_slice(format!("retry: {s}\n").as_bytes())
                    }
                    SseField::Data(m) => {
                        out.extend_from_slice(format!("data: {}\n\n", msg_json(m, id)).as_bytes())
                    }
                    SseField::DataText(s) => {
                        out.extend_from_slice(format!("data: {s}\n").as_bytes())
                    }
                    SseField::Event(s) => out.extend_from_slice(format!("event: {s}\n").as_bytes()),
                    SseField::Comment => out.extend_from_slice(b": keep-alive\n"),
                    SseField::Blank => out.push(b'\n'),
                    SseField::Raw(r) => out.extend_from_slice(r),
                }
            }
            out
        }
        Body::Token {
            expires_in,
            rotate,
            token_type_bearer,
        } => {
            let mut v = json!({"access_token": "drv-new-access",
                               "token_type": if *token_type_bearer { "Bearer" } else { "mac" }});
            if let Some(e) = expires_in {
                v["expires_in"] = json!(e.get());
            }
            if *rotate {
                v["refresh_token"] = json!("drv-new-refresh");
            }
            v.to_string().into_bytes()
        }
        Body::TokenError(e) => json!({"error": e}).to_string().into_bytes(),
        Body::Raw(r) => r.clone(),
    }
}

fn response(
    answer: &Answer,
    req: &HttpRequest,
    outstanding: &[HttpRequest],
) -> Result<HttpResponse, TransportError> {
    let (status, headers, body, other_id) = match answer {
        Answer::Fail(f) => return Err(f.error()),
        Answer::Http {
            status,
            headers,
            body,
            other_id,
        } => (status, headers, body, other_id),
    };
    let id = match other_id {
        Some(n) if !outstanding.is_empty() => {
            rpc_id_of(&outstanding[usize::from(*n) % outstanding.len()])
        }
        _ => rpc_id_of(req),
    };
    let id = if id.is_null() { json!(1) } else { id };
    let mut hs: Vec<(String, String)> = Vec::new();
    let default_ct = match body {
        Body::Sse(_) => "text/event-stream",
        _ => "application/json",
    };
    if !headers.iter().any(|h| {
        matches!(
            h,
            Header::ContentJson | Header::ContentSse | Header::ContentOther(_)
        )
    }) {
        hs.push(("Content-Type".into(), default_ct.into()));
    }
    for h in headers {
        let (n, v) = match h {
            Header::RetryAfter(n) => ("Retry-After", n.get().to_string()),
            Header::RetryAfterText(s) => ("Retry-After", s.clone()),
            Header::WwwInvalidToken => (
                "WWW-Authenticate",
                "Bearer error=\"invalid_token\"".to_string(),
            ),
            Header::WwwInsufficientScope => (
                "WWW-Authenticate",
                "Bearer error=\"insufficient_scope\", scope=\"more\"".to_string(),
            ),
            Header::WwwText(s) => ("WWW-Authenticate", s.clone()),
            Header::SessionId(s) => ("Mcp-Session-Id", s.clone()),
            Header::ContentJson => ("Content-Type", "application/json".to_string()),
            Header::ContentSse => ("Content-Type", "text/event-stream".to_string()),
            Header::ContentOther(s) => ("Content-Type", s.clone()),
        };
        hs.push((n.to_string(), v));
    }
    Ok(HttpResponse::new(status.code(), hs, body_bytes(body, &id)))
}

fn serve(s: &Serve, req: &HttpRequest) -> Result<HttpResponse, TransportError> {
    let id = rpc_id_of(req);
    let method = serde_json::from_slice::<Value>(&req.body)
        .ok()
        .and_then(|v| v.get("method").and_then(Value::as_str).map(str::to_string))
        .unwrap_or_default();
    let mut headers = Vec::new();
    if let Some(n) = s.retry_after {
        headers.push(Header::RetryAfter(n));
    }
    let status = s.status.unwrap_or(Status::Ok);
    if req.url == TOKEN_URL {
        let body = Body::Token {
            expires_in: s.expires_in,
            rotate: s.answer,
            token_type_bearer: true,
        };
        return response(
            &Answer::Http {
                status,
                headers,
                body,
                other_id: None,
            },
            req,
            &[],
        );
    }
    let msg = match method.as_str() {
        "initialize" => {
            headers.push(Header::SessionId("s1".into()));
            Some(Msg::InitResult { version: 0 })
        }
        "tools/list" => Some(Msg::ToolsPage {
            count: 2,
            cursor: s.next_page,
        }),
        "tools/call" => Some(Msg::CallResult { is_error: false }),
        "ping" => Some(Msg::EmptyResult),
        _ if req.method == Method::Get => Some(Msg::Notification { list_changed: true }),
        _ => None,
    };
    let body = match msg {
        None => Body::Empty,
        Some(m) if !s.sse && s.answer => Body::Json(m),
        Some(m) => {
            let mut fields = Vec::new();
            if let Some(r) = s.retry {
                fields.push(SseField::Retry(r));
            }
            fields.push(SseField::NumericId(1));
            fields.push(SseField::Data(Msg::Notification {
                list_changed: false,
            }));
            if s.answer {
                fields.push(SseField::NumericId(2));
                fields.push(SseField::Data(m));
            }
            Body::Sse(fields)
        }
    };
    let status = if matches!(body, Body::Empty) && s.status.is_none() {
        Status::Accepted
    } else {
        status
    };
    let _ = id;
    response(
        &Answer::Http {
            status,
            headers,
            body,
            other_id: None,
        },
        req,
        &[],
    )
}

const FINAL_DRIVE_LIMIT: u32 = 500;

/// Every request fails: the connection must wind down (within `FINAL_DRIVE_LIMIT` requests).
fn failing() -> ScriptedTransport {
    let mut sent = 0u32;
    ScriptedTransport::new(move |_| {
        sent += 1;
        assert!(
            sent <= FINAL_DRIVE_LIMIT,
            "the connection keeps sending requests to a server that always fails"
        );
        Err(TransportError::Connect("down".into()))
    })
}

/// The bookkeeping of one run.
struct Run {
    conn: Connection,
    now: u64,
    outstanding: Vec<HttpRequest>,
    handles: Vec<CallHandle>,
    completed: RefCell<Vec<CallHandle>>,
    token_requests: u64,
    mcp_requests: u64,
    credential_changes: u64,
}

impl Run {
    fn drain(&mut self) {
        while let Some(r) = self.conn.poll_request() {
            if r.url == TOKEN_URL {
                self.token_requests += 1;
            } else {
                self.mcp_requests += 1;
            }
            self.outstanding.push(r);
        }
        while let Some(e) = self.conn.poll_event() {
            let text = format!("{e:?}");
            match &e {
                ConnectionEvent::CredentialsChanged(_) => {}
                _ => assert_no_secret(&text),
            }
            if let ConnectionEvent::CallCompleted(h) = e {
                let res = self
                    .conn
                    .poll_result(h)
                    .expect("a completed call has a result");
                if let Err(err) = &res {
                    assert_no_secret(&err.to_string());
                    assert_no_secret(&format!("{:?}", err.info()));
                }
                let mut done = self.completed.borrow_mut();
                assert!(!done.contains(&h), "call {h:?} completed twice");
                done.push(h);
            }
        }
        // Failed refreshes: at most MAX_REFRESH_ATTEMPTS per call; other refreshes: at most
        // two per MCP request sent (a fresh token is used first), credential change or start.
        let bound = u64::from(MAX_REFRESH_ATTEMPTS) * (self.handles.len() as u64 + 1)
            + 2 * (self.mcp_requests + self.credential_changes + 1);
        assert!(
            self.token_requests <= bound,
            "{} token requests for {} calls and {} MCP requests",
            self.token_requests,
            self.handles.len(),
            self.mcp_requests
        );
    }

    fn timer(&mut self, at: u64) {
        self.now = at;
        self.conn.handle_timeout(at);
        if let Some(next) = self.conn.poll_timeout() {
            assert!(
                next > at,
                "after handle_timeout({at}) the deadline is still {next}: a run loop would spin"
            );
        }
    }
}

fn assert_no_secret(text: &str) {
    assert!(
        !text.contains(AT) && !text.contains(RT) && !text.contains("drv-new-"),
        "a secret leaked: {text}"
    );
}

/// Runs one input. Panics (an assertion) on a broken invariant.
pub fn run(input: &Input) {
    let now = input.setup.start.get();
    let mut config = ConnectionConfig::new(MCP_URL);
    config.credentials = credentials(&input.setup.creds, now);
    if input.setup.with_auth {
        config.auth = Some(auth_context());
    }
    if let Some(n) = input.setup.max_tools {
        config.max_tools = usize::from(n);
    }
    if let Some(n) = input.setup.max_tool_list_bytes {
        config.max_tool_list_bytes = n as usize;
    }
    if let Some(n) = input.setup.call_timeout {
        config.call_timeout_ms = n.get();
    }
    if let Some(n) = input.setup.request_timeout {
        config.request_timeout_ms = n.get();
    }
    let conn = Connection::new(config).expect("a valid configuration");
    let mut run = Run {
        conn,
        now,
        outstanding: Vec::new(),
        handles: Vec::new(),
        completed: RefCell::new(Vec::new()),
        token_requests: 0,
        mcp_requests: 0,
        credential_changes: 0,
    };
    for step in &input.steps {
        let now = run.now;
        match step {
            Step::ListTools => {
                let h = run.conn.list_tools(now);
                run.handles.push(h);
            }
            Step::CallTool { valid } => {
                let args = if *valid { json!({"q": 1}) } else { json!([1]) };
                let h = run.conn.call_tool("tool", args, now);
                run.handles.push(h);
            }
            Step::Ping => {
                let h = run.conn.ping(now);
                run.handles.push(h);
            }
            Step::OpenStream => {
                let h = run.conn.open_server_stream(now);
                run.handles.push(h);
            }
            Step::Cancel(n) => {
                if !run.handles.is_empty() {
                    let h = run.handles[usize::from(*n) % run.handles.len()];
                    let _ = run.conn.cancel(h);
                }
            }
            Step::Close => {
                let h = run.conn.close();
                run.handles.push(h);
            }
            Step::SetCredentials(c) => {
                run.credential_changes += 1;
                let set = run
                    .conn
                    .set_credentials(credentials(c, now), Some(auth_context()));
                assert!(
                    set.is_ok(),
                    "credentials of the connection's own server are accepted"
                );
            }
            Step::Serve(n, how) => {
                if !run.outstanding.is_empty() {
                    let i = usize::from(*n) % run.outstanding.len();
                    let req = run.outstanding.remove(i);
                    let resp = serve(how, &req);
                    run.conn.handle_response(req.id, resp, now);
                }
            }
            Step::Answer(n, answer) => {
                if !run.outstanding.is_empty() {
                    let i = usize::from(*n) % run.outstanding.len();
                    let req = run.outstanding.remove(i);
                    let resp = response(answer, &req, &run.outstanding);
                    let _ = format!("{:?}", resp);
                    run.conn.handle_response(req.id, resp, now);
                }
            }
            Step::Timer => {
                if let Some(t) = run.conn.poll_timeout() {
                    run.timer(t.max(now));
                }
            }
            Step::TimerNow => run.timer(now),
            Step::Advance(n) => run.now = now.saturating_add(n.get()),
            Step::JumpTo(n) => run.now = n.get(),
            Step::SaveState => {
                let s = run.conn.save_state();
                assert_no_secret(&s);
            }
        }
        run.drain();
        assert_no_secret(&format!("{:?}", run.conn));
        for r in &run.outstanding {
            assert_no_secret(&format!("{r:?}"));
            assert!(r.method != Method::Post || !r.body.is_empty() || r.url == TOKEN_URL);
        }
    }
    // Wind down: what is outstanding fails, then the run loop goes on with a transport that
    // always fails, until the machine is idle. Every call must have its result then.
    for _ in 0..64 {
        if run.outstanding.is_empty() {
            break;
        }
        for req in std::mem::take(&mut run.outstanding) {
            run.conn
                .handle_response(req.id, Err(TransportError::Connect("down".into())), run.now);
        }
        run.drain();
    }
    assert!(
        run.outstanding.is_empty(),
        "requests keep coming while every one fails"
    );
    let failing = failing();
    let clock = SimClock::at(run.now);
    let mut drained = Vec::new();
    futures_executor::block_on(workboard_core::driver::run(
        &mut run.conn,
        &failing,
        &clock,
        futures_util::stream::empty::<fn(&mut Connection)>(),
        |c| {
            while let Some(e) = c.poll_event() {
                if let ConnectionEvent::CallCompleted(h) = e {
                    drained.push((h, c.poll_result(h).is_some()));
                }
            }
        },
    ));
    for (h, had_result) in drained {
        assert!(had_result, "call {h:?} completed without a result");
        let mut done = run.completed.borrow_mut();
        assert!(!done.contains(&h), "call {h:?} completed twice");
        done.push(h);
    }
    for h in &run.handles {
        if run.conn.is_pending(*h) {
            // Only the GET stream may stay open while it is being read; nothing else waits
            // forever once the machine is idle.
            panic!("call {h:?} still pending after the machine went idle");
        }
    }
}

/// Entry point for byte-oriented harnesses (libFuzzer, proptest over bytes).
pub fn run_bytes(data: &[u8]) {
    let u = arbitrary::Unstructured::new(data);
    if let Ok(input) = Input::arbitrary_take_rest(u) {
        run(&input);
    }
}
