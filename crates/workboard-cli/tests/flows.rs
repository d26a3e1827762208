//! End to end: the built `workboard` binary's sign-in, MCP and REST commands against an
//! in-process WorkBoard simulator (consent, denial, state and expiry errors, refresh with
//! rotation, wrong environment, revocation, a role without tools, every injected fault), and
//! against an independent MCP server built on the official TypeScript SDK
//! (`tests/ts-sdk/server.mjs`).
//!
//! Every run of the binary is bounded ([`TIMEOUT`]: killed and failed after it), asserts that
//! nothing panicked, and is recorded by its [`Case`]: when the case ends, no output of any of its
//! runs may contain one of the secrets the case learned (tokens, client hash, codes).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::cell::RefCell;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use serde_json::Value;
use workboard_sim::{
    ClientConfig, ResponseMode, Role, SimConfig, SimHandle, Simulator, DEMO_CLIENT_HASH,
    DEMO_CLIENT_ID, DEMO_PERSONAL_TOKEN, DEMO_REDIRECT_URI,
};

const BIN: &str = env!("CARGO_BIN_EXE_workboard");

/// Longest time any child process may run.
const TIMEOUT: Duration = Duration::from_secs(60);

/// Environment variables the binary reads; removed from every child so the machine running
/// the tests cannot change them.
const CLI_ENV: &[&str] = &[
    "WORKBOARD_ENV",
    "WORKBOARD_SERVER",
    "WORKBOARD_STORE",
    "WORKBOARD_CLIENT_ID",
    "WORKBOARD_CLIENT_HASH",
    "WORKBOARD_CONFIG_DIR",
];

// ---------------------------------------------------------------------------------------------
// Simulator
// ---------------------------------------------------------------------------------------------

/// A simulator with the (multi-threaded) runtime serving it while the test waits on a child.
struct Sim {
    handle: SimHandle,
    rt: tokio::runtime::Runtime,
}

impl Sim {
    fn start() -> Sim {
        Sim::start_with(SimConfig::default())
    }
    fn start_with(config: SimConfig) -> Sim {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let handle = rt.block_on(Simulator::start(config)).unwrap();
        Sim { handle, rt }
    }
    fn base(&self) -> String {
        self.handle.base_url().to_string()
    }
    fn count(&self, key: &str) -> u64 {
        self.handle.counters().get(key)
    }
}

impl std::ops::Deref for Sim {
    type Target = SimHandle;
    fn deref(&self) -> &SimHandle {
        &self.handle
    }
}

/// A loopback port reserved while the returned socket lives: bound with SO_REUSEADDR and never
/// listening. Connections to it are refused, the kernel gives it to no one asking for any free
/// port, and the CLI's redirect listener (also SO_REUSEADDR) can still bind it.
fn reserved_port() -> (tokio::net::TcpSocket, u16) {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_reuseaddr(true).unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let port = socket.local_addr().unwrap().port();
    (socket, port)
}

// ---------------------------------------------------------------------------------------------
// Running the binary
// ---------------------------------------------------------------------------------------------

/// A finished run.
#[derive(Debug)]
struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Out {
    fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }

    /// The last stdout line as JSON (the `--json` result or error).
    fn json(&self) -> Value {
        let line = self.stdout.lines().last().unwrap_or_default();
        serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {self:?}"))
    }

    /// The `result` of a successful `--json` run.
    fn result(&self) -> Value {
        assert_eq!(self.code, 0, "{self:?}");
        let v = self.json();
        assert_eq!(v["ok"], true, "{v}");
        v["result"].clone()
    }

    /// The `error` of a failed `--json` run, checking its exit code and stable code.
    fn error(&self, exit: i32, code: &str) -> Value {
        let v = self.json();
        assert_eq!(v["ok"], false, "{self:?}");
        assert_eq!(v["error"]["code"], code, "{self:?}");
        assert_eq!(self.code, exit, "{self:?}");
        v["error"].clone()
    }
}

enum Line {
    Stdout(String),
    Stderr(String),
    StdoutEnd,
    StderrEnd,
}

/// A child process whose output is read line by line on two threads.
struct Running {
    child: Child,
    lines: Receiver<Line>,
    stdout: String,
    stderr: String,
    open: u8,
    deadline: Instant,
    what: String,
}

fn read_lines(
    pipe: impl Read + Send + 'static,
    tx: std::sync::mpsc::Sender<Line>,
    line: fn(String) -> Line,
    end: Line,
) {
    std::thread::spawn(move || {
        let mut r = BufReader::new(pipe);
        loop {
            let mut s = String::new();
            match r.read_line(&mut s) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    if tx.send(line(s)).is_err() {
                        return;
                    }
                }
            }
        }
        let _ = tx.send(end);
    });
}

impl Running {
    fn spawn(mut cmd: Command, stdin: Option<&str>, what: String) -> Running {
        cmd.stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        if let Some(input) = stdin {
            let mut pipe = child.stdin.take().unwrap();
            pipe.write_all(input.as_bytes()).unwrap();
        }
        let (tx, rx) = channel();
        read_lines(
            child.stdout.take().unwrap(),
            tx.clone(),
            Line::Stdout,
            Line::StdoutEnd,
        );
        read_lines(
            child.stderr.take().unwrap(),
            tx,
            Line::Stderr,
            Line::StderrEnd,
        );
        Running {
            child,
            lines: rx,
            stdout: String::new(),
            stderr: String::new(),
            open: 2,
            deadline: Instant::now() + TIMEOUT,
            what,
        }
    }

    /// Takes the next output line (both streams are collected); `None` once both ended.
    fn next(&mut self) -> Option<Line> {
        if self.open == 0 {
            return None;
        }
        let left = self.deadline.saturating_duration_since(Instant::now());
        match self.lines.recv_timeout(left) {
            Ok(line) => {
                match &line {
                    Line::Stdout(s) => self.stdout.push_str(s),
                    Line::Stderr(s) => self.stderr.push_str(s),
                    Line::StdoutEnd | Line::StderrEnd => self.open -= 1,
                }
                Some(line)
            }
            Err(RecvTimeoutError::Timeout) => {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!(
                    "`{}` did not finish within {TIMEOUT:?} (killed)\nstdout: {}\nstderr: {}",
                    self.what, self.stdout, self.stderr
                );
            }
            Err(RecvTimeoutError::Disconnected) => {
                self.open = 0;
                None
            }
        }
    }

    /// Waits for a stderr line satisfying `want` and returns it (trimmed).
    fn stderr_line(&mut self, want: impl Fn(&str) -> bool) -> String {
        loop {
            match self.next() {
                Some(Line::Stderr(s)) if want(s.trim()) => return s.trim().to_string(),
                Some(_) => {}
                None => panic!(
                    "`{}` ended without the expected stderr line\nstdout: {}\nstderr: {}",
                    self.what, self.stdout, self.stderr
                ),
            }
        }
    }

    /// Waits for the process to end.
    fn finish(mut self) -> Out {
        while self.next().is_some() {}
        let status = self.child.wait().unwrap();
        let out = Out {
            code: status.code().unwrap_or(-1),
            stdout: std::mem::take(&mut self.stdout),
            stderr: std::mem::take(&mut self.stderr),
        };
        assert!(
            !out.stderr.contains("panicked"),
            "`{}` panicked: {}",
            self.what,
            out.stderr
        );
        out
    }
}

/// One test's runs of the binary: a private credential store, the global options every run
/// gets, every output, and the secrets none of them may contain (checked when the case ends).
struct Case {
    dir: tempfile::TempDir,
    global: Vec<String>,
    outputs: RefCell<Vec<String>>,
    secrets: RefCell<Vec<String>>,
}

impl Case {
    /// A case whose runs get `--store <tmp> <global...>`.
    fn new(global: &[&str]) -> Case {
        Case {
            dir: tempfile::tempdir().unwrap(),
            global: global.iter().map(|s| s.to_string()).collect(),
            outputs: RefCell::new(Vec::new()),
            secrets: RefCell::new(vec![DEMO_CLIENT_HASH.to_string()]),
        }
    }

    /// A case against a simulator (`--env <base>`).
    fn sim(sim: &Sim) -> Case {
        Case::new(&["--env", &sim.base()])
    }

    fn store(&self) -> PathBuf {
        self.dir.path().join("credentials.json")
    }

    /// Records a value no output may ever contain.
    fn secret(&self, s: &str) {
        assert!(s.len() >= 8, "too short to check as a secret: {s:?}");
        self.secrets.borrow_mut().push(s.to_string());
    }

    fn command(&self, args: &[&str], env: &[(&str, &str)]) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.arg("--store").arg(self.store());
        cmd.args(&self.global).args(args);
        for k in CLI_ENV {
            cmd.env_remove(k);
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd
    }

    fn spawn(&self, args: &[&str], env: &[(&str, &str)]) -> Running {
        Running::spawn(self.command(args, env), None, args.join(" "))
    }

    /// Records a finished run.
    fn finish(&self, running: Running) -> Out {
        let out = running.finish();
        self.outputs.borrow_mut().push(out.all());
        out
    }

    fn run(&self, args: &[&str]) -> Out {
        self.run_with(args, None, &[])
    }

    fn run_with(&self, args: &[&str], stdin: Option<&str>, env: &[(&str, &str)]) -> Out {
        let running = Running::spawn(self.command(args, env), stdin, args.join(" "));
        self.finish(running)
    }

    /// `token set` from stdin; the token becomes a secret of the case.
    fn set_token(&self, token: &str) {
        self.secret(token);
        let o = self.run_with(&["token", "set"], Some(&format!("{token}\n")), &[]);
        assert_eq!(o.code, 0, "{o:?}");
    }

    /// The store file as key → value (values are JSON strings themselves).
    /// The stored values (without the store's own versions and leases, `.workboard`).
    fn stored(&self) -> serde_json::Map<String, Value> {
        match std::fs::read_to_string(self.store()) {
            Ok(s) => {
                let mut all: serde_json::Map<String, Value> = serde_json::from_str(&s).unwrap();
                all.remove(".workboard");
                all
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => serde_json::Map::new(),
            Err(e) => panic!("{e}"),
        }
    }

    /// A stored value, parsed.
    fn stored_json(&self, key: &str) -> Option<Value> {
        self.stored()
            .get(key)
            .map(|v| serde_json::from_str(v.as_str().unwrap()).unwrap())
    }

    /// The stored credentials' (access token, refresh token), recorded as secrets.
    fn stored_tokens(&self) -> (String, Option<String>) {
        let c = self.stored_json("credentials").expect("credentials stored");
        let access = c["access_token"]
            .as_str()
            .or_else(|| c["token"].as_str())
            .unwrap()
            .to_string();
        let refresh = c["refresh_token"].as_str().map(str::to_string);
        self.secret(&access);
        if let Some(r) = &refresh {
            self.secret(r);
        }
        (access, refresh)
    }
}

impl Drop for Case {
    fn drop(&mut self) {
        if std::thread::panicking() {
            return;
        }
        let outputs = self.outputs.borrow();
        assert!(!outputs.is_empty(), "the case ran nothing");
        for secret in self.secrets.borrow().iter() {
            for out in outputs.iter() {
                assert!(
                    !out.contains(secret.as_str()),
                    "an output contains a secret ({} chars):\n{out}",
                    secret.len()
                );
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The browser (for loopback sign-in)
// ---------------------------------------------------------------------------------------------

fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// GET `url`: (status, Location, body).
async fn get(url: &str) -> (u16, Option<String>, String) {
    let r = browser().get(url).send().await.unwrap();
    let status = r.status().as_u16();
    let location = r
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_string());
    (status, location, r.text().await.unwrap())
}

/// The hidden `request_id` of the consent page.
fn request_id(html: &str) -> String {
    let marker = "name=\"request_id\" value=\"";
    let start = html.find(marker).expect("request_id field") + marker.len();
    let end = html[start..].find('"').expect("end quote") + start;
    html[start..end].to_string()
}

/// Opens the consent page at `url` and answers it with `decision`; returns the redirect.
async fn consent(base: &str, url: &str, decision: &str) -> String {
    let (status, _, html) = get(url).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("Demo App"), "{html}");
    let rid = request_id(&html);
    let r = browser()
        .post(format!("{base}/wb/oauth/authorize/decision"))
        .form(&[("request_id", rid.as_str()), ("decision", decision)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 302);
    r.headers()
        .get("location")
        .expect("Location")
        .to_str()
        .unwrap()
        .to_string()
}

fn query(url: &str, key: &str) -> Option<String> {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.to_string())
}

/// A loopback sign-in in progress: the CLI waits on `redirect`, the URL was printed.
struct Loopback {
    running: Running,
    url: String,
    redirect: String,
}

/// Starts `login` (v1, `--no-browser`) on a fresh loopback redirect URI registered for the demo
/// client, and waits until the authorization URL is printed.
fn start_loopback_login(sim: &Sim, case: &Case) -> Loopback {
    let (_reserved, port) = reserved_port();
    let redirect = format!("http://127.0.0.1:{port}/callback");
    sim.add_client(ClientConfig::new(
        DEMO_CLIENT_ID,
        DEMO_CLIENT_HASH,
        &redirect,
    ));
    let mut running = case.spawn(
        &[
            "--json",
            "login",
            "--client-id",
            DEMO_CLIENT_ID,
            "--redirect-uri",
            &redirect,
            "--no-browser",
            "--timeout",
            "60",
        ],
        &[("WORKBOARD_CLIENT_HASH", DEMO_CLIENT_HASH)],
    );
    let prefix = format!("{}/wb/oauth/authorize?", sim.base());
    let url = running.stderr_line(|l| l.starts_with(&prefix));
    assert_eq!(
        query(&url, "redirect_uri").as_deref(),
        Some(redirect.as_str())
    );
    assert_eq!(query(&url, "client_id").as_deref(), Some(DEMO_CLIENT_ID));
    assert!(query(&url, "state").is_some_and(|s| s.len() >= 16), "{url}");
    Loopback {
        running,
        url,
        redirect,
    }
}

/// Delivers `location` to the CLI's loopback listener as the browser would.
fn deliver(sim: &Sim, location: &str) {
    let (status, _, body) = sim.rt.block_on(get(location));
    assert_eq!(status, 200, "{body}");
}

// ---------------------------------------------------------------------------------------------
// demo
// ---------------------------------------------------------------------------------------------

const DEMO_STEPS: &[&str] = &[
    "start simulator",
    "v1 authorize URL",
    "v1 consent page",
    "v1 approve",
    "v1 code exchange",
    "MCP connect",
    "MCP list tools",
    "MCP call get_current_user",
    "REST GET /wb/apis/goal/301",
    "v1 revoke",
    "revoked token is refused",
];

#[test]
fn demo_runs_every_step_in_text_and_json() {
    let case = Case::new(&[]);
    let text = case.run(&["demo"]);
    assert_eq!(text.code, 0, "{text:?}");
    for step in DEMO_STEPS {
        assert!(
            text.stdout
                .lines()
                .any(|l| l.starts_with("✓ ") && l.contains(step) && l.contains(" ms")),
            "step `{step}` missing:\n{}",
            text.stdout
        );
    }
    assert!(text.stdout.contains("Demo complete in "), "{}", text.stdout);
    assert!(text
        .stdout
        .contains(&format!("({} steps", DEMO_STEPS.len())));

    let json = case.run(&["--json", "demo"]);
    assert_eq!(json.stdout.lines().count(), 1, "{json:?}");
    let result = json.result();
    let steps = result["steps"].as_array().unwrap();
    let names: Vec<&str> = steps.iter().map(|s| s["step"].as_str().unwrap()).collect();
    assert_eq!(names, DEMO_STEPS);
    for required in ["v1 code exchange", "MCP list tools", "v1 revoke"] {
        assert!(names.contains(&required));
    }
    for s in steps {
        assert!(s["ms"].as_f64().unwrap() >= 0.0, "{s}");
        assert!(!s["detail"].as_str().unwrap().is_empty(), "{s}");
    }
    assert!(result["total_ms"].as_f64().unwrap() > 0.0);
    assert!(result["server_requests"].as_u64().unwrap() >= 8);
}

// ---------------------------------------------------------------------------------------------
// WorkBoard OAuth v1
// ---------------------------------------------------------------------------------------------

fn v1_login_headless(case: &Case) -> Out {
    case.run_with(
        &[
            "--json",
            "login",
            "--client-id",
            DEMO_CLIENT_ID,
            "--redirect-uri",
            DEMO_REDIRECT_URI,
            "--headless",
        ],
        None,
        &[("WORKBOARD_CLIENT_HASH", DEMO_CLIENT_HASH)],
    )
}

/// `login --flow mcp --headless` with the demo client id (and the client hash in the
/// environment), plus `extra` arguments before `--headless`.
fn mcp_login_headless(case: &Case, extra: &[&str]) -> Out {
    let mut args = vec![
        "--json",
        "login",
        "--flow",
        "mcp",
        "--client-id",
        DEMO_CLIENT_ID,
    ];
    args.extend_from_slice(extra);
    args.push("--headless");
    case.run_with(&args, None, &[("WORKBOARD_CLIENT_HASH", DEMO_CLIENT_HASH)])
}

#[test]
fn v1_headless_login_then_status_tools_call_rest_and_logout_revokes() {
    let sim = Sim::start();
    let case = Case::sim(&sim);

    // A consent page cannot be followed headlessly: a typed error, nothing stored.
    let refused = v1_login_headless(&case);
    let err = refused.error(3, "authorization_denied");
    assert!(
        err["message"].as_str().unwrap().contains("--headless"),
        "{err}"
    );
    assert!(case.stored_json("credentials").is_none());

    sim.set_auto_approve(true);
    let login = v1_login_headless(&case);
    assert_eq!(login.result()["signed_in"], "workboard_v1");
    assert_eq!(sim.count("token:v1"), 1);
    let (access, refresh) = case.stored_tokens();
    assert!(refresh.is_none());

    let status = case.run(&["--json", "status"]);
    let st = status.result();
    assert_eq!(st["credentials"], "oauth", "{st}");
    assert_eq!(st["oauth"]["dialect"], "workboard_v1", "{st}");
    assert_eq!(st["oauth"]["expired"], false, "{st}");
    assert_eq!(st["mcp_url"], sim.mcp_url(), "{st}");
    let human = case.run(&["status"]);
    assert_eq!(human.code, 0);
    assert!(human.stdout.contains("Signed in with oauth"), "{human:?}");

    let tools = case.run(&["tools"]);
    assert_eq!(tools.code, 0, "{tools:?}");
    assert!(tools.stdout.contains("get_current_user"), "{tools:?}");
    assert!(tools.stdout.contains("tool(s)"), "{tools:?}");

    let call = case.run(&["--json", "call", "get_current_user"]);
    let r = call.result();
    assert_ne!(r["isError"], true, "{r}");
    assert!(r.to_string().contains("ada@example.com"), "{r}");

    let rest = case.run(&["--json", "rest", "goal/301"]);
    let goal = rest.result();
    assert!(goal.to_string().contains("301"), "{goal}");
    let seed_form = case.run(&["--json", "rest", "/wb/goal/301"]);
    assert_eq!(seed_form.result(), goal);

    let revokes = sim.count("revoke");
    let logout = case.run(&["--json", "logout"]);
    let lo = logout.result();
    assert_eq!(lo["revoked"], true, "{lo}");
    assert_eq!(lo["forgotten"], true, "{lo}");
    assert_eq!(sim.count("revoke"), revokes + 1);
    assert!(case.stored_json("credentials").is_none());

    // Nothing stored any more.
    let after = case.run(&["--json", "tools"]);
    after.error(3, "not_signed_in");

    // And the server no longer accepts the revoked token itself.
    case.set_token(&access);
    let revoked = case.run(&["--json", "tools"]);
    revoked.error(3, "unauthorized");
}

#[test]
fn v1_loopback_approved_signs_in() {
    let sim = Sim::start();
    let case = Case::sim(&sim);
    let lb = start_loopback_login(&sim, &case);
    let location = sim.rt.block_on(consent(&sim.base(), &lb.url, "approve"));
    assert!(location.starts_with(&lb.redirect), "{location}");
    let code = query(&location, "code").expect("a code");
    case.secret(&code);
    deliver(&sim, &location);
    let out = case.finish(lb.running);
    assert_eq!(out.result()["signed_in"], "workboard_v1");
    case.stored_tokens();
    let tools = case.run(&["--json", "tools"]);
    assert!(!tools.result()["tools"].as_array().unwrap().is_empty());
}

#[test]
fn v1_loopback_consent_denied_is_authorization_denied() {
    let sim = Sim::start();
    let case = Case::sim(&sim);
    let lb = start_loopback_login(&sim, &case);
    let location = sim.rt.block_on(consent(&sim.base(), &lb.url, "deny"));
    assert!(location.starts_with(&lb.redirect), "{location}");
    assert_eq!(query(&location, "error").as_deref(), Some("access_denied"));
    deliver(&sim, &location);
    let out = case.finish(lb.running);
    let err = out.error(3, "authorization_denied");
    assert!(
        err["message"].as_str().unwrap().contains("access_denied"),
        "{err}"
    );
    assert!(err["hint"].as_str().unwrap().contains("declined"), "{err}");
    assert_eq!(sim.count("token"), 0);
    assert!(case.stored_json("credentials").is_none());
}

#[test]
fn v1_loopback_without_a_redirect_times_out_with_a_typed_error() {
    let sim = Sim::start();
    let case = Case::sim(&sim);
    let (_reserved, port) = reserved_port();
    let redirect = format!("http://127.0.0.1:{port}/callback");
    let out = case.run_with(
        &[
            "--json",
            "login",
            "--client-id",
            DEMO_CLIENT_ID,
            "--redirect-uri",
            &redirect,
            "--no-browser",
            "--timeout",
            "1",
        ],
        None,
        &[("WORKBOARD_CLIENT_HASH", DEMO_CLIENT_HASH)],
    );
    out.error(3, "redirect_timeout");
    assert!(out.stderr.contains("/wb/oauth/authorize?"), "{out:?}");
    assert_eq!(sim.count("token"), 0);
    assert!(case.stored_json("credentials").is_none());
}

/// A wrong `state` (a forged or stale redirect) does not end the sign-in: the browser gets an
/// error page, nothing is exchanged, and the genuine redirect still completes it.
#[test]
fn v1_loopback_wrong_state_is_ignored_and_the_genuine_redirect_signs_in() {
    let sim = Sim::start();
    let case = Case::sim(&sim);
    let lb = start_loopback_login(&sim, &case);
    for forged in ["?code=x&state=tampered", "?error=access_denied", ""] {
        let (status, _, body) = sim.rt.block_on(get(&format!("{}{forged}", lb.redirect)));
        assert_eq!(status, 400, "{forged}: {body}");
        assert!(body.contains("Not the sign-in"), "{body}");
    }
    assert_eq!(
        sim.count("token"),
        0,
        "no code exchange for a foreign state"
    );
    let location = sim.rt.block_on(consent(&sim.base(), &lb.url, "approve"));
    case.secret(&query(&location, "code").expect("a code"));
    deliver(&sim, &location);
    let out = case.finish(lb.running);
    assert_eq!(out.result()["signed_in"], "workboard_v1");
    case.stored_tokens();
}

#[test]
fn v1_loopback_expired_code_is_a_token_endpoint_error_and_nothing_is_stored() {
    let sim = Sim::start();
    let case = Case::sim(&sim);
    let lb = start_loopback_login(&sim, &case);
    let location = sim.rt.block_on(consent(&sim.base(), &lb.url, "approve"));
    let code = query(&location, "code").expect("a code");
    case.secret(&code);
    sim.advance_clock(Duration::from_secs(301));
    deliver(&sim, &location);
    let out = case.finish(lb.running);
    let err = out.error(3, "token_endpoint_error");
    let message = err["message"].as_str().unwrap();
    assert!(message.contains("invalid_grant"), "{err}");
    assert!(message.contains("expired"), "{err}");
    // The simulator echoes the code in its error text, as WorkBoard does: the CLI shows it
    // scrubbed (the case checks that the code appears in no output).
    assert!(message.contains("code <redacted> rejected"), "{err}");
    assert!(
        err["hint"].as_str().unwrap().contains("sign in again"),
        "{err}"
    );
    assert_eq!(sim.count("token:v1"), 1);
    assert!(case.stored_json("credentials").is_none());
}

// ---------------------------------------------------------------------------------------------
// OAuth 2.1 for MCP
// ---------------------------------------------------------------------------------------------

#[test]
fn mcp_oauth_login_refreshes_on_401_and_stores_the_rotated_tokens_before_using_them() {
    let sim = Sim::start();
    sim.set_auto_approve(true);
    let case = Case::sim(&sim);
    let login = mcp_login_headless(&case, &[]);
    let r = login.result();
    assert_eq!(r["signed_in"], "oauth2", "{r}");
    assert_eq!(r["refreshable"], true, "{r}");
    assert_eq!(sim.count("token:authorization_code"), 1);
    let creds = case.stored_json("credentials").unwrap();
    assert_eq!(creds["kind"], "oauth", "{creds}");
    assert_ne!(creds["dialect"], "workboard_v1", "{creds}");
    assert!(case.stored_json("auth_context").is_some());
    let (access1, refresh1) = case.stored_tokens();
    let refresh1 = refresh1.expect("a refresh token");

    let first = case.run(&["--json", "tools"]);
    assert!(!first.result()["tools"].as_array().unwrap().is_empty());
    assert_eq!(sim.count("token:refresh_token"), 0);

    sim.faults().expire_tokens();
    // (A call: the tool list itself is cached for its ttl.)
    let refreshed = case.run(&["--json", "call", "get_current_user"]);
    assert_ne!(refreshed.result()["isError"], true);
    assert_eq!(sim.count("token:refresh_token"), 1);
    let (access2, refresh2) = case.stored_tokens();
    let refresh2 = refresh2.expect("the rotated refresh token is stored");
    assert_ne!(access2, access1);
    assert_ne!(refresh2, refresh1, "the refresh token rotates");
    assert!(case.stored_json("auth_context").is_some());

    // The next process uses the stored rotated token: no second refresh.
    let again = case.run(&["--json", "call", "get_current_user"]);
    assert_ne!(again.result()["isError"], true);
    assert_eq!(sim.count("token:refresh_token"), 1);
    assert_eq!(case.stored_tokens().0, access2);

    // Once revoked, the refresh token cannot help: a typed 401, not a loop.
    sim.faults().revoke_tokens();
    let refreshes = sim.count("token:refresh_token");
    let revoked = case.run(&["--json", "call", "get_current_user"]);
    revoked.error(3, "unauthorized");
    assert!(sim.count("token:refresh_token") <= refreshes + 1);

    // WorkBoard's metadata has no revocation endpoint: logout forgets locally and says so.
    let logout = case.run(&["--json", "logout"]);
    let lo = logout.result();
    assert_eq!(lo["revoked"], false, "{lo}");
    assert_eq!(lo["forgotten"], true, "{lo}");
    assert!(
        lo["outcome"]
            .as_str()
            .unwrap()
            .contains("no revocation endpoint"),
        "{lo}"
    );
    assert!(case.stored().is_empty(), "{:?}", case.stored());
}

/// `login --flow mcp --client-metadata-url`: where the authorization server advertises client
/// ID metadata documents, the URL is the client_id (no dynamic registration, although the
/// server offers it); where it does not, the CLI registers dynamically.
#[test]
fn mcp_login_uses_the_client_metadata_document_url_before_registration() {
    const CIMD_URL: &str = "https://app.example/workboard-cli.json";
    let mut config = SimConfig {
        dcr: true,
        auto_approve: true,
        ..SimConfig::default()
    };
    config.clients.push(ClientConfig {
        client_id: CIMD_URL.into(),
        client_hash: None,
        redirect_uris: vec!["http://127.0.0.1:8765/callback".into()],
        name: "CIMD app".into(),
    });
    let sim = Sim::start_with(config);
    let case = Case::sim(&sim);
    let login = case.run(&[
        "--json",
        "login",
        "--flow",
        "mcp",
        "--client-metadata-url",
        CIMD_URL,
        "--headless",
    ]);
    let r = login.result();
    assert_eq!(r["signed_in"], "oauth2", "{r}");
    let ctx = case.stored_json("auth_context").unwrap();
    assert_eq!(ctx["client_id"], CIMD_URL, "{ctx}");
    assert_eq!(ctx["identity_source"], "metadata_document", "{ctx}");
    assert_eq!(sim.count("register"), 0, "no dynamic registration");
    let tools = case.run(&["--json", "tools"]);
    assert!(!tools.result()["tools"].as_array().unwrap().is_empty());

    // Without CIMD support at the server, the URL is not used: dynamic registration.
    let sim = Sim::start_with(SimConfig {
        dcr: true,
        auto_approve: true,
        ..SimConfig::default()
    });
    let case = Case::sim(&sim);
    let r = case
        .run(&[
            "--json",
            "login",
            "--flow",
            "mcp",
            "--client-metadata-url",
            CIMD_URL,
            "--headless",
        ])
        .result();
    assert_eq!(r["signed_in"], "oauth2", "{r}");
    let ctx = case.stored_json("auth_context").unwrap();
    assert_eq!(ctx["identity_source"], "dynamic_registration", "{ctx}");
    assert_ne!(ctx["client_id"], CIMD_URL);
    assert_eq!(sim.count("register"), 1);
}

/// A client registered by one `login --flow mcp` is used again by the next at the same
/// authorization server (registrations are keyed by issuer), instead of registering anew.
#[test]
fn a_second_mcp_login_reuses_the_registration_of_the_same_issuer() {
    let sim = Sim::start_with(SimConfig {
        dcr: true,
        auto_approve: true,
        ..SimConfig::default()
    });
    let case = Case::sim(&sim);
    let login = || {
        case.run(&["--json", "login", "--flow", "mcp", "--headless"])
            .result()
    };
    assert_eq!(login()["signed_in"], "oauth2");
    let first = case.stored_json("auth_context").unwrap();
    assert_eq!(first["identity_source"], "dynamic_registration", "{first}");
    assert_eq!(sim.count("register"), 1);
    assert_eq!(login()["signed_in"], "oauth2");
    let second = case.stored_json("auth_context").unwrap();
    assert_eq!(second["client_id"], first["client_id"]);
    assert_eq!(sim.count("register"), 1, "no second registration");
    assert_eq!(sim.count("token:authorization_code"), 2);
}

/// `login --flow client-credentials`: the OAuth client credentials grant (MCP extension) with
/// the secret read from a named environment variable, basic and post; the stored context
/// serves later commands; bad input is a typed usage error before any request.
#[test]
fn client_credentials_login_with_basic_and_post_then_tools() {
    let sim = Sim::start();
    let case = Case::sim(&sim);
    let secret_env = [("SVC_SECRET", DEMO_CLIENT_HASH)];
    for (n, method) in [(1, "basic"), (2, "post")] {
        let login = case.run_with(
            &[
                "--json",
                "login",
                "--flow",
                "client-credentials",
                "--client-id",
                DEMO_CLIENT_ID,
                "--client-secret-env",
                "SVC_SECRET",
                "--auth-method",
                method,
            ],
            None,
            &secret_env,
        );
        let r = login.result();
        assert_eq!(r["signed_in"], "client_credentials", "{r}");
        assert_eq!(r["auth_method"], format!("client_secret_{method}"), "{r}");
        assert!(!login.all().contains(DEMO_CLIENT_HASH));
        assert_eq!(sim.count("token:client_credentials"), n);
        let ctx = case.stored_json("auth_context").unwrap();
        assert_eq!(ctx["identity_source"], "client_credentials", "{ctx}");
        let tools = case.run(&["--json", "tools"]);
        assert!(!tools.result()["tools"].as_array().unwrap().is_empty());
    }
    // A wrong secret: the token endpoint's typed error, secret not echoed.
    let wrong = case.run_with(
        &[
            "--json",
            "login",
            "--flow",
            "client-credentials",
            "--client-id",
            DEMO_CLIENT_ID,
            "--client-secret-env",
            "SVC_SECRET",
        ],
        None,
        &[("SVC_SECRET", "WRONG-SECRET-MARKER")],
    );
    case.secret("WRONG-SECRET-MARKER");
    wrong.error(3, "token_endpoint_error");
    assert!(!wrong.all().contains("WRONG-SECRET-MARKER"));
    let before = sim.count("token:client_credentials");
    // Missing variable, no credentials, both, a key file that is no key: usage errors.
    for (args, env) in [
        (vec!["--client-secret-env", "SVC_UNSET"], vec![]),
        (vec![], vec![]),
        (
            vec![
                "--client-secret-env",
                "SVC_SECRET",
                "--private-key",
                "/nonexistent",
            ],
            secret_env.to_vec(),
        ),
        (
            vec![
                "--client-secret-env",
                "SVC_SECRET",
                "--auth-method",
                "private_key_jwt",
            ],
            secret_env.to_vec(),
        ),
    ] {
        let mut all = vec![
            "--json",
            "login",
            "--flow",
            "client-credentials",
            "--client-id",
            DEMO_CLIENT_ID,
        ];
        all.extend(args);
        case.run_with(&all, None, &env).error(2, "usage");
    }
    let key = case.dir.path().join("not-a-key.pem");
    std::fs::write(
        &key,
        "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
    )
    .unwrap();
    case.run(&[
        "--json",
        "login",
        "--flow",
        "client-credentials",
        "--client-id",
        DEMO_CLIENT_ID,
        "--private-key",
        key.to_str().unwrap(),
    ])
    .error(2, "invalid_input");
    assert_eq!(sim.count("token:client_credentials"), before);
}

// ---------------------------------------------------------------------------------------------
// Wrong host, closed port, revoked token, role without tools
// ---------------------------------------------------------------------------------------------

#[test]
fn a_token_of_another_environment_is_unauthorized_with_the_environment_in_the_hint() {
    let home = Sim::start();
    let other = Sim::start();
    let token = home.issue_personal_token("ada@example.com", Role::Member);
    let case = Case::sim(&other);
    case.set_token(&token);
    let out = case.run(&["--json", "tools"]);
    let err = out.error(3, "unauthorized");
    let hint = err["hint"].as_str().unwrap();
    assert!(hint.contains("wrong environment"), "{hint}");
    assert!(
        hint.contains(&format!("Environment in use: {}", other.base())),
        "{hint}"
    );
    // Human form: the hint goes to stderr.
    let text = case.run(&["tools"]);
    assert_eq!(text.code, 3);
    assert!(text.stderr.contains("[unauthorized]"), "{text:?}");
    assert!(text.stderr.contains(&other.base()), "{text:?}");
    // The same token works where it was issued.
    let at_home = Case::sim(&home);
    at_home.set_token(&token);
    assert_eq!(at_home.run(&["tools"]).code, 0);
}

#[test]
fn a_closed_port_is_a_transport_error() {
    let (_socket, port) = reserved_port();
    let base = format!("http://127.0.0.1:{port}");
    let case = Case::new(&["--env", &base]);
    case.set_token(DEMO_PERSONAL_TOKEN);
    let out = case.run(&["--json", "tools"]);
    let err = out.error(4, "transport");
    assert!(err["hint"].as_str().unwrap().contains("network"), "{err}");
}

#[test]
fn a_revoked_personal_token_is_unauthorized() {
    let sim = Sim::start();
    let case = Case::sim(&sim);
    case.set_token(DEMO_PERSONAL_TOKEN);
    assert_eq!(case.run(&["tools"]).code, 0);
    sim.faults().revoke_tokens();
    let call = case.run(&["--json", "call", "get_current_user"]);
    call.error(3, "unauthorized");
    // Without the cached tool list (its ttl), listing asks the server: refused too.
    let fresh = Case::sim(&sim);
    fresh.set_token(DEMO_PERSONAL_TOKEN);
    fresh.run(&["--json", "tools"]).error(3, "unauthorized");
}

#[test]
fn the_modern_era_lists_tools_in_one_request_then_from_the_cache_and_mirrors_x_mcp_header() {
    // The simulator is dual-era by default: the CLI speaks 2026-07-28 to it.
    let sim = Sim::start();
    let case = Case::sim(&sim);
    case.set_token(DEMO_PERSONAL_TOKEN);
    let first = case.run(&["--json", "tools"]);
    assert!(!first.result()["tools"].as_array().unwrap().is_empty());
    assert_eq!(sim.count("mcp:initialize"), 0);
    let pages = sim.count("mcp:modern:tools/list");
    assert!(pages >= 1);
    let session = case.stored_json("session").expect("the era is stored");
    assert_eq!(session["protocol_version"], "2026-07-28", "{session}");
    // A second process: the stored list is fresh (ttlMs), no request at all.
    let again = case.run(&["--json", "tools"]);
    assert_eq!(again.result()["tools"], first.result()["tools"]);
    assert_eq!(sim.count("mcp:modern:tools/list"), pages);
    // A call whose argument the tool marks x-mcp-header: the simulator checks the header.
    let out = case.run(&[
        "--json",
        "call",
        "search",
        "--args",
        r#"{"query":"growth","workspace":"Zürich"}"#,
    ]);
    assert_ne!(out.result()["isError"], true, "{out:?}");
    assert_eq!(sim.count("mcp:modern:tools/call"), 1);
    assert_eq!(sim.count("mcp:initialize"), 0);
}

#[test]
fn a_modern_only_server_refuses_a_legacy_only_client_with_its_versions() {
    let sim = Sim::start();
    sim.set_era(workboard_sim::Era::Modern);
    let case = Case::sim(&sim);
    case.set_token(DEMO_PERSONAL_TOKEN);
    let out = case.run(&["--json", "--era", "legacy", "tools"]);
    let e = out.error(out.code, "unsupported_protocol_version");
    assert!(e["message"].as_str().unwrap().contains("2026-07-28"), "{e}");
    // In the default era it works, without initialize.
    let refused = sim.count("mcp:initialize");
    assert!(case.run(&["--json", "tools"]).result()["tools"]
        .as_array()
        .is_some());
    assert!(sim.count("mcp:modern:tools/list") >= 1);
    assert_eq!(sim.count("mcp:initialize"), refused);
}

#[test]
fn a_role_without_tools_lists_none_with_the_role_hint() {
    let sim = Sim::start();
    let token = sim.issue_personal_token("nora@example.com", Role::NoAccess);
    let case = Case::sim(&sim);
    case.set_token(&token);
    let text = case.run(&["tools"]);
    assert_eq!(text.code, 0, "{text:?}");
    // The seed's troubleshooting row, word for word.
    assert_eq!(
        text.stdout.trim(),
        format!("No tools listed. {}", workboard_core::error::HINT_NO_TOOLS),
        "{text:?}"
    );
    assert!(text
        .stdout
        .contains("role may not have access to OKRs, Scorecards"));
    let json = case.run(&["--json", "tools"]);
    assert_eq!(json.result()["tools"], serde_json::json!([]));
}

// ---------------------------------------------------------------------------------------------
// Faults: each recovered, or reported with a stable code and exit status
// ---------------------------------------------------------------------------------------------

/// A simulator in `mode` and a case signed in with the demo personal token, with one
/// `tools` already run (the session is stored, so later runs restore it).
fn fault_case(mode: ResponseMode) -> (Sim, Case) {
    // Sessions, their expiry and stream resumption are the legacy era's.
    let sim = Sim::start();
    sim.set_era(workboard_sim::Era::Legacy);
    sim.set_response_mode(mode);
    let case = Case::sim(&sim);
    case.set_token(DEMO_PERSONAL_TOKEN);
    let first = case.run(&["--json", "tools"]);
    assert!(!first.result()["tools"].as_array().unwrap().is_empty());
    assert_eq!(sim.count("mcp:initialize"), 1);
    assert!(case.stored().contains_key("session"));
    (sim, case)
}

fn call_ok(case: &Case) -> Out {
    let out = case.run(&["--json", "call", "get_current_user"]);
    assert_ne!(out.result()["isError"], true, "{out:?}");
    out
}

fn tools_ok(case: &Case) -> Out {
    let out = case.run(&["--json", "tools"]);
    assert!(
        !out.result()["tools"].as_array().unwrap().is_empty(),
        "{out:?}"
    );
    out
}

#[test]
fn fault_latency_is_waited_out() {
    let (sim, case) = fault_case(ResponseMode::Json);
    sim.faults().set_latency(Duration::from_millis(300));
    let started = Instant::now();
    tools_ok(&case);
    assert!(started.elapsed() >= Duration::from_millis(300));
    call_ok(&case);
}

#[test]
fn fault_503_without_retry_after_replays_a_list_once_but_never_a_tool_call() {
    // The core replays a request without effects once after a 503 that says nothing of
    // when to come back (after SAFE_REPLAY_DELAY_MS); a tool call fails with a typed error.
    let (sim, case) = fault_case(ResponseMode::Json);
    sim.faults().fail_next(Some("mcp"), 1, 503);
    tools_ok(&case);
    assert_eq!(sim.count("fault:status"), 1);

    sim.faults().fail_next(Some("mcp"), 2, 503);
    let out = case.run(&["--json", "tools"]);
    let err = out.error(5, "http_status");
    assert!(err["message"].as_str().unwrap().contains("503"), "{err}");
    assert_eq!(sim.count("fault:status"), 3, "one replay, not a loop");

    sim.faults().fail_next(Some("mcp"), 1, 503);
    let out = case.run(&["--json", "call", "get_current_user"]);
    out.error(5, "http_status");
    assert_eq!(sim.count("fault:status"), 4);
    call_ok(&case);
    assert_eq!(sim.count("mcp:initialize"), 1, "the session survived");
}

#[test]
fn fault_dropped_connection_replays_a_list_once_but_never_a_tool_call() {
    // A connection closed without an answer: `tools/list` has no effects and is sent again;
    // a `tools/call` may have run on the server, so it is a typed transport error.
    let (sim, case) = fault_case(ResponseMode::Json);
    sim.faults().drop_next(Some("mcp"), 1);
    tools_ok(&case);
    assert_eq!(sim.count("fault:drop"), 1);

    sim.faults().drop_next(Some("mcp"), 1);
    let out = case.run(&["--json", "call", "get_current_user"]);
    out.error(4, "transport");
    assert_eq!(sim.count("fault:drop"), 2);
    call_ok(&case);
}

#[test]
fn fault_429_with_retry_after_is_retried_and_too_many_are_rate_limited() {
    let (sim, case) = fault_case(ResponseMode::Json);
    sim.faults().rate_limit_next(Some("mcp"), 1, 1);
    let started = Instant::now();
    tools_ok(&case);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After is honoured"
    );
    assert_eq!(sim.count("fault:rate_limit"), 1);

    // More 429s than the core's retry budget (2 retries): reported, not looped.
    sim.faults().rate_limit_next(Some("mcp"), 3, 1);
    let out = case.run(&["--json", "tools"]);
    out.error(5, "rate_limited");
    assert_eq!(sim.count("fault:rate_limit"), 4);
}

#[test]
fn fault_truncated_sse_is_resumed() {
    let (sim, case) = fault_case(ResponseMode::Sse);
    sim.faults().truncate_sse_next(1);
    tools_ok(&case);
    assert_eq!(sim.count("fault:truncate_sse"), 1);
    assert_eq!(sim.count("mcp:resume"), 1, "resumed with Last-Event-ID");
}

#[test]
fn fault_session_expiry_reinitializes_once() {
    let (sim, case) = fault_case(ResponseMode::Json);
    tools_ok(&case);
    assert_eq!(
        sim.count("mcp:initialize"),
        1,
        "the stored session is restored"
    );
    sim.faults().expire_sessions();
    tools_ok(&case);
    assert_eq!(sim.count("mcp:initialize"), 2);
    call_ok(&case);
    assert_eq!(sim.count("mcp:initialize"), 2, "the new session was stored");
}

// ---------------------------------------------------------------------------------------------
// token set, status, bad input
// ---------------------------------------------------------------------------------------------

#[test]
fn token_set_refuses_empty_stdin_and_never_takes_the_token_from_argv() {
    let case = Case::new(&["--env", "http://127.0.0.1:9"]);
    for input in ["", "\n", "   \n"] {
        let out = case.run_with(&["--json", "token", "set"], Some(input), &[]);
        out.error(2, "usage");
    }
    // stdin closed without a byte (not a terminal): same.
    let out = case.run(&["token", "set"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("no personal token given"), "{out:?}");

    let argv_token = "wbp_token_on_the_command_line";
    for args in [
        vec!["token", "set", argv_token],
        vec!["token", "set", "--token", argv_token],
    ] {
        let out = case.run(&args);
        assert_eq!(out.code, 2, "{out:?}");
    }
    assert!(case.stored_json("credentials").is_none());

    // --file works.
    let file = case.dir.path().join("token.txt");
    std::fs::write(&file, format!("{DEMO_PERSONAL_TOKEN}\n")).unwrap();
    case.secret(DEMO_PERSONAL_TOKEN);
    let out = case.run(&["token", "set", "--file", file.to_str().unwrap()]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        case.stored_json("credentials").unwrap()["token"],
        DEMO_PERSONAL_TOKEN
    );
}

#[test]
fn status_never_prints_the_token() {
    let case = Case::new(&["--env", "http://127.0.0.1:9"]);
    let none = case.run(&["--json", "status"]);
    assert_eq!(none.result()["credentials"], "none");
    let token = "wbp_status_secret_0123456789";
    case.set_token(token);
    let json = case.run(&["--json", "status"]);
    assert_eq!(json.result()["credentials"], "personal_token");
    let text = case.run(&["status"]);
    assert_eq!(text.code, 0);
    assert!(text.stdout.contains("personal token"), "{text:?}");
    // (the secret check when the case ends covers every output above)
}

#[test]
fn bad_input_is_a_usage_error_without_panics() {
    let sim = Sim::start();
    let case = Case::sim(&sim);
    case.set_token(DEMO_PERSONAL_TOKEN);

    let out = case.run(&["--json", "call", "x", "--args", "not json"]);
    let err = out.error(2, "usage");
    assert!(err["message"].as_str().unwrap().contains("--args"), "{err}");
    let out = case.run(&["--json", "call", "x", "--args", "[1, 2]"]);
    out.error(2, "usage");
    assert_eq!(sim.count("mcp"), 0, "nothing was sent");

    let ftp = Case::new(&["--env", "ftp://x"]);
    let out = ftp.run(&["--json", "tools"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert_eq!(out.json()["ok"], false);

    let insecure = Case::new(&["--server", "http://example.com/mcp"]);
    let out = insecure.run(&["--json", "tools"]);
    out.error(2, "insecure_url");
    let out = insecure.run(&["tools"]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("[insecure_url]"), "{out:?}");

    let garbage = Case::new(&["--server", "not a url"]);
    garbage.run(&["--json", "tools"]).error(2, "usage");

    let flow = case.run(&["--json", "login", "--flow", "saml", "--client-id", "x"]);
    flow.error(2, "usage");
    let unknown = case.run(&["frobnicate"]);
    assert_eq!(unknown.code, 2);
}

// ---------------------------------------------------------------------------------------------
// An independent MCP server: the official TypeScript SDK
// ---------------------------------------------------------------------------------------------

/// `tests/ts-sdk/server.mjs`, running until dropped (its stdin is kept open).
struct TsServer {
    child: Child,
    _stdin: ChildStdin,
    url: String,
    stats_url: String,
}

impl TsServer {
    fn start(token: &str, json_response: bool) -> TsServer {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/ts-sdk");
        let sdk = dir.join("node_modules/@modelcontextprotocol/sdk/package.json");
        assert!(
            sdk.is_file(),
            "the TypeScript SDK peer is not installed ({} is missing): run `bash tests/ts-sdk/test.sh` \
             (npm ci of the pinned @modelcontextprotocol/sdk) from the repository root, then rerun",
            sdk.display()
        );
        let mut cmd = Command::new("node");
        cmd.arg(dir.join("server.mjs"))
            .args(["--port", "0", "--token", token]);
        if json_response {
            cmd.arg("--json-response");
        }
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut child = cmd.spawn().unwrap_or_else(|e| {
            panic!("cannot run `node` ({e}): Node.js 18+ is needed for the TypeScript SDK peer")
        });
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = match rx.recv_timeout(TIMEOUT) {
            Ok(l) => l,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("server.mjs printed nothing within {TIMEOUT:?}");
            }
        };
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line from server.mjs: {line:?}"))
            .to_string();
        assert!(
            url.starts_with("http://127.0.0.1:") && url.ends_with("/mcp"),
            "{url}"
        );
        let stats_url = url.replace("/mcp", "/__stats");
        TsServer {
            child,
            _stdin: stdin,
            url,
            stats_url,
        }
    }

    fn stats(&self, rt: &tokio::runtime::Runtime) -> Value {
        let (status, _, body) = rt.block_on(get(&self.stats_url));
        assert_eq!(status, 200);
        serde_json::from_str(&body).unwrap()
    }
}

impl Drop for TsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn typescript_sdk_server_initialize_list_and_call_in_sse_and_json_modes() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    for json_response in [false, true] {
        let token = "ts-peer-token-0123456789";
        let server = TsServer::start(token, json_response);
        let case = Case::new(&["--server", &server.url]);
        let mode = if json_response { "json" } else { "sse" };

        // Before a token is stored: the server answers 401 to a request without one.
        case.run(&["--json", "tools"]).error(3, "not_signed_in");

        case.set_token(token);
        let tools = case.run(&["--json", "tools"]);
        let list = tools.result()["tools"].clone();
        let mut names: Vec<&str> = list
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap())
            .collect();
        names.sort_unstable();
        assert_eq!(names, ["add", "echo", "fail", "notify"], "{mode}");
        let stats = server.stats(&rt);
        assert_eq!(stats["sessions_opened"], 1, "{mode}: {stats}");

        let text = case.run(&["tools"]);
        assert_eq!(text.code, 0, "{mode}: {text:?}");
        assert!(text.stdout.contains("echo") && text.stdout.contains("4 tool(s)"));

        let add = case.run(&["--json", "call", "add", "--args", r#"{"a": 2, "b": 40}"#]);
        let r = add.result();
        assert_eq!(r["structuredContent"]["sum"], 42, "{mode}: {r}");
        assert_eq!(r["content"][0]["text"], "42", "{mode}: {r}");

        let echo = case.run(&["call", "echo", "--args", r#"{"text": "hello from rust"}"#]);
        assert_eq!(echo.code, 0, "{mode}: {echo:?}");
        assert_eq!(echo.stdout.trim(), "hello from rust", "{mode}");

        let notify = case.run(&["call", "notify", "--args", r#"{"count": 3}"#]);
        assert_eq!(notify.code, 0, "{mode}: {notify:?}");
        assert_eq!(notify.stdout.trim(), "done", "{mode}");

        // A tool-level error is the tool's result, with a non-zero exit.
        let fail = case.run(&["--json", "call", "fail", "--args", r#"{"message": "nope"}"#]);
        assert_eq!(fail.code, 5, "{mode}: {fail:?}");
        assert_eq!(fail.json()["result"]["isError"], true, "{mode}");

        // Every run after the first reused the stored session.
        let stats = server.stats(&rt);
        assert_eq!(stats["sessions_opened"], 1, "{mode}: {stats}");

        // A wrong token: a typed 401 naming the server's origin.
        let wrong = Case::new(&["--server", &server.url]);
        wrong.set_token("not-the-ts-peer-token");
        let err = wrong.run(&["--json", "tools"]).error(3, "unauthorized");
        let origin = server.url.trim_end_matches("/mcp");
        assert!(err["hint"].as_str().unwrap().contains(origin), "{err}");
    }
}

// ---------------------------------------------------------------------------------------------
// Credentials and secrets go only where they belong (issue 11: items 2, 3, 5)
// ---------------------------------------------------------------------------------------------

/// A hostile server on 127.0.0.1 that records every request head (and body) it receives and
/// answers 401 with a bearer challenge. Bounded: at most 64 connections, 64 KiB per request,
/// 2 s per read; it stops when dropped.
struct Recorder {
    port: u16,
    seen: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

/// What the recorder answers: `(status, extra headers, JSON body)` for a request line.
type Answer = fn(base: &str, request_line: &str) -> (u16, Vec<(String, String)>, String);

/// A 401 with a bearer challenge, whatever is asked.
fn always_401(_: &str, _: &str) -> (u16, Vec<(String, String)>, String) {
    (
        401,
        vec![(
            "WWW-Authenticate".into(),
            "Bearer error=\"invalid_token\"".into(),
        )],
        r#"{"error":"invalid_token"}"#.into(),
    )
}

/// A complete, auto-approving OAuth 2.1 authorization server of its own (metadata, an
/// authorize endpoint that redirects at once with the `state` it got, a token endpoint):
/// everything a client needs to send it a client secret.
fn hostile_oauth(base: &str, line: &str) -> (u16, Vec<(String, String)>, String) {
    let target = line.split(' ').nth(1).unwrap_or("/");
    let path = target.split('?').next().unwrap_or("/");
    let json = |v: Value| (200, vec![], v.to_string());
    match path {
        "/mcp" => always_401(base, line),
        p if p.starts_with("/.well-known/oauth-protected-resource") => json(serde_json::json!({
            "resource": format!("{base}/mcp"),
            "authorization_servers": [base],
        })),
        p if p.starts_with("/.well-known/oauth-authorization-server") => json(serde_json::json!({
            "issuer": base,
            "authorization_endpoint": format!("{base}/authorize"),
            "token_endpoint": format!("{base}/token"),
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_post"],
        })),
        "/authorize" => {
            let url = url::Url::parse(&format!("{base}{target}")).unwrap();
            let get = |k: &str| {
                url.query_pairs()
                    .find(|(n, _)| n == k)
                    .map(|(_, v)| v.into_owned())
                    .unwrap_or_default()
            };
            let mut to = url::Url::parse(&get("redirect_uri")).unwrap();
            to.query_pairs_mut()
                .append_pair("code", "hostile-code")
                .append_pair("state", &get("state"));
            (302, vec![("Location".into(), to.to_string())], "{}".into())
        }
        "/token" => json(serde_json::json!({
            "access_token": "hostile-access", "token_type": "Bearer", "expires_in": 3600
        })),
        _ => (404, vec![], "{}".into()),
    }
}

impl Recorder {
    fn start() -> Recorder {
        Recorder::start_with(always_401)
    }

    fn start_with(answer: Answer) -> Recorder {
        use std::sync::atomic::Ordering;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let base = format!("http://127.0.0.1:{port}");
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (s, st) = (seen.clone(), stop.clone());
        std::thread::spawn(move || {
            let started = Instant::now();
            let mut served = 0;
            while served < 64 && !st.load(Ordering::SeqCst) && started.elapsed() < TIMEOUT * 2 {
                let Ok((mut conn, _)) = listener.accept() else {
                    std::thread::sleep(Duration::from_millis(5));
                    continue;
                };
                served += 1;
                conn.set_nonblocking(false).unwrap();
                conn.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                // Head, then as much body as Content-Length says (bounded).
                while buf.len() < 64 * 1024 {
                    match conn.read(&mut chunk) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                    let text = String::from_utf8_lossy(&buf).to_string();
                    if let Some(end) = text.find("\r\n\r\n") {
                        let len = text[..end]
                            .lines()
                            .find_map(|l| {
                                let (k, v) = l.split_once(':')?;
                                k.eq_ignore_ascii_case("content-length")
                                    .then(|| v.trim().parse::<usize>().ok())?
                            })
                            .unwrap_or(0);
                        if buf.len() >= end + 4 + len.min(64 * 1024) {
                            break;
                        }
                    }
                }
                let text = String::from_utf8_lossy(&buf).to_string();
                let (status, headers, body) = answer(&base, text.lines().next().unwrap_or(""));
                s.lock().unwrap().push(text);
                let mut head = format!("HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n", body.len());
                for (k, v) in headers {
                    head.push_str(&format!("{k}: {v}\r\n"));
                }
                let _ = write!(conn, "{head}\r\n{body}");
            }
        });
        Recorder { port, seen, stop }
    }
    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn requests(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }

    /// Asserts no request carried an Authorization header or any of `secrets`.
    fn assert_clean(&self, secrets: &[&str]) {
        for r in self.requests() {
            assert!(
                !r.to_ascii_lowercase().contains("\r\nauthorization:"),
                "the hostile server received an Authorization header:\n{r}"
            );
            for s in secrets {
                assert!(!r.contains(s), "the hostile server received a secret:\n{r}");
            }
        }
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

#[test]
fn stored_credentials_are_never_sent_to_another_server() {
    let sim = Sim::start();
    sim.set_auto_approve(true);
    let hostile = Recorder::start();
    let foreign = hostile.url("/mcp");

    // A personal token set for the simulator.
    let case = Case::sim(&sim);
    case.set_token(DEMO_PERSONAL_TOKEN);
    assert_eq!(case.run(&["tools"]).code, 0);
    for cmd in [&["tools"][..], &["call", "get_current_user"][..]] {
        let mut args = vec!["--json", "--server", &foreign];
        args.extend_from_slice(cmd);
        let err = case.run(&args).error(3, "credentials_not_for_server");
        let hint = err["hint"].as_str().unwrap();
        assert!(
            hint.contains(&sim.base()) && hint.contains("token set"),
            "{hint}"
        );
    }
    // Not written into a config for the other server either.
    let cfg = case.run(&[
        "--json",
        "--server",
        &foreign,
        "config",
        "generic",
        "--with-stored-token",
    ]);
    cfg.error(3, "credentials_not_for_server");
    // The doctor probes the other server without them.
    let _ = case.run(&[
        "--json", "--server", &foreign, "doctor", "--client", "cursor",
    ]);
    assert!(
        !hostile.requests().is_empty(),
        "the doctor probed the server"
    );
    hostile.assert_clean(&[DEMO_PERSONAL_TOKEN]);

    // A legacy store (written before bindings): the token is the environment's.
    let legacy = Case::sim(&sim);
    legacy.secret(DEMO_PERSONAL_TOKEN);
    let token_json =
        serde_json::json!({"kind": "personal", "token": DEMO_PERSONAL_TOKEN}).to_string();
    std::fs::write(
        legacy.store(),
        serde_json::json!({ "credentials": token_json }).to_string(),
    )
    .unwrap();
    assert_eq!(
        legacy.run(&["tools"]).code,
        0,
        "nothing breaks where it was stored"
    );
    legacy
        .run(&["--json", "--server", &foreign, "tools"])
        .error(3, "credentials_not_for_server");

    // OAuth 2.1 tokens and their context: refused for the other server, so no refresh at
    // the simulator for it either.
    let oauth = Case::sim(&sim);
    let login = mcp_login_headless(&oauth, &[]);
    assert_eq!(login.result()["signed_in"], "oauth2");
    let (access, refresh) = oauth.stored_tokens();
    sim.faults().expire_tokens();
    let refreshes = sim.count("token:refresh_token");
    oauth
        .run(&["--json", "--server", &foreign, "tools"])
        .error(3, "credentials_not_for_server");
    assert_eq!(
        sim.count("token:refresh_token"),
        refreshes,
        "no refresh for another server"
    );
    let mut secrets = vec![DEMO_PERSONAL_TOKEN, access.as_str()];
    if let Some(r) = &refresh {
        secrets.push(r);
    }
    hostile.assert_clean(&secrets);
}

#[test]
fn the_client_hash_never_reaches_another_servers_token_endpoint() {
    let hostile = Recorder::start_with(hostile_oauth);
    let foreign = hostile.url("/mcp");
    let case = Case::new(&["--server", &foreign]);
    let (_socket, port) = reserved_port();
    let redirect = format!("http://127.0.0.1:{port}/callback");
    let out = mcp_login_headless(&case, &["--redirect-uri", &redirect]);
    let err = out.error(3, "client_secret_not_for_server");
    assert!(
        err["hint"]
            .as_str()
            .unwrap()
            .contains("WORKBOARD_CLIENT_HASH"),
        "{err}"
    );
    // Discovery reached the hostile server, the hash never did, nothing was stored.
    assert!(hostile.requests().len() >= 3, "{:?}", hostile.requests());
    hostile.assert_clean(&[DEMO_CLIENT_HASH]);
    assert!(hostile
        .requests()
        .iter()
        .all(|r| !r.starts_with("POST /token")));
    assert!(case.stored_json("credentials").is_none());

    // Named explicitly for that token endpoint, the user's choice is honoured.
    let named = mcp_login_headless(
        &case,
        &[
            "--client-hash-for",
            &hostile.url("/token"),
            "--redirect-uri",
            &redirect,
        ],
    );
    assert_eq!(named.result()["signed_in"], "oauth2");
    let token_post = hostile
        .requests()
        .into_iter()
        .find(|r| r.starts_with("POST /token"))
        .expect("the code exchange");
    assert!(token_post.contains("client_secret="), "{token_post}");
}

#[test]
fn status_and_progress_lines_never_print_user_info_or_secret_query_values() {
    let sim = Sim::start();
    let server = format!(
        "http://ada:pa55word@127.0.0.1:{}/wb/mcp?access_token=Q-SECRET-TOKEN&x=1",
        url::Url::parse(&sim.base()).unwrap().port().unwrap()
    );
    let case = Case::new(&["--server", &server]);
    case.secret("pa55word");
    case.secret("Q-SECRET-TOKEN");
    for args in [
        &["status"][..],
        &["--json", "status"][..],
        &["tools"][..],
        &["--json", "doctor", "--client", "cursor"][..],
    ] {
        let out = case.run(args);
        assert!(
            !out.all().contains("ada:") && !out.all().contains("ada@"),
            "{out:?}"
        );
        if args == ["status"] {
            assert!(out.stdout.contains("127.0.0.1"), "{out:?}");
        }
    }
}

#[test]
fn a_401_from_another_server_gets_a_hint_without_workboard_personal_tokens() {
    let other = Recorder::start();
    let case = Case::new(&["--server", &other.url("/mcp")]);
    case.set_token("token-for-the-other-server");
    let err = case.run(&["--json", "tools"]).error(3, "unauthorized");
    let hint = err["hint"].as_str().unwrap();
    assert!(
        !hint.contains("personal token") && !hint.contains("myworkboard"),
        "{hint}"
    );
    assert!(hint.contains("this server"), "{hint}");
}

#[test]
fn resources_prompts_and_completion_work_in_both_eras() {
    for era in ["auto", "legacy"] {
        let sim = Sim::start();
        let case = Case::sim(&sim);
        case.set_token(DEMO_PERSONAL_TOKEN);
        let listed = case.run(&["--json", "--era", era, "resources"]).result();
        let resources = listed["resources"].as_array().unwrap();
        assert!(!resources.is_empty(), "{era}: {listed}");
        assert!(!listed["resourceTemplates"].as_array().unwrap().is_empty());
        let uri = resources[0]["uri"].as_str().unwrap();
        let read = case.run(&["--json", "--era", era, "read", uri]).result();
        assert_eq!(read["contents"][0]["uri"], uri, "{era}: {read}");
        // An unknown resource is the server's typed refusal.
        case.run(&["--json", "--era", era, "read", "workboard://goal/999999"])
            .error(5, "jsonrpc_error");
        let prompts = case.run(&["--json", "--era", era, "prompts"]).result();
        let first = &prompts["prompts"][0];
        let name = first["name"].as_str().unwrap();
        let arg = first["arguments"][0]["name"].as_str().unwrap();
        // An id the simulator knows: the first goal resource's.
        let goal = resources
            .iter()
            .filter_map(|r| r["uri"].as_str()?.strip_prefix("workboard://goal/"))
            .next()
            .unwrap();
        let args = serde_json::json!({ arg: goal }).to_string();
        let got = case
            .run(&["--json", "--era", era, "prompt", name, "--args", &args])
            .result();
        assert!(
            !got["messages"].as_array().unwrap().is_empty(),
            "{era}: {got}"
        );
        let done = case
            .run(&[
                "--json",
                "--era",
                era,
                "complete",
                &format!("prompt:{name}"),
                arg,
                "",
            ])
            .result();
        assert!(done["values"].is_array(), "{era}: {done}");
        // Bad input is a usage error before anything is sent.
        case.run(&["--json", "prompt", name, "--args", "[1]"])
            .error(2, "usage");
        case.run(&["--json", "complete", "nothing", "x"])
            .error(2, "usage");
        let modern = sim.count("mcp:modern:resources/read");
        assert_eq!(modern > 0, era == "auto", "{era}");
    }
}

#[test]
fn a_form_the_server_asks_for_is_answered_from_input_and_undeclared_input_is_refused() {
    let sim = Sim::start();
    let case = Case::sim(&sim);
    case.set_token(DEMO_PERSONAL_TOKEN);
    let dir = tempfile::tempdir().unwrap();
    let answers = dir.path().join("answers.json");
    std::fs::write(&answers, r#"{"confidence": 7, "note": "on track"}"#).unwrap();
    let answers = answers.to_str().unwrap();
    // 2026-07-28 (MRTR): the call comes back asking, the CLI answers, the call completes.
    let out = case
        .run(&[
            "--json",
            "call",
            "draft_check_in",
            "--args",
            r#"{"key_result_id":401}"#,
            "--input",
            answers,
        ])
        .result();
    let text = out["content"][0]["text"].as_str().unwrap();
    assert!(text.contains("confidence 7/10"), "{out}");
    assert_eq!(sim.count("mcp:input_required"), 1);
    // Without --input (no terminal here): nothing is declared, the server says what it needs.
    let refused = case.run(&[
        "--json",
        "call",
        "draft_check_in",
        "--args",
        r#"{"key_result_id":401}"#,
    ]);
    let e = refused.error(5, "jsonrpc_error");
    assert!(
        e["message"].as_str().unwrap().contains("elicitation"),
        "{e}"
    );
    // Sampling is never declared: refused the same way.
    let refused = case.run(&[
        "--json",
        "call",
        "suggest_key_result",
        "--args",
        r#"{"objective_id":301}"#,
        "--input",
        answers,
    ]);
    let e = refused.error(5, "jsonrpc_error");
    assert!(e["message"].as_str().unwrap().contains("sampling"), "{e}");
    // A bad --input is a usage error before anything is sent.
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "[1, 2]").unwrap();
    case.run(&[
        "--json",
        "call",
        "draft_check_in",
        "--input",
        bad.to_str().unwrap(),
    ])
    .error(2, "usage");
}

#[test]
fn a_legacy_server_asking_on_its_open_stream_is_answered_before_the_stream_ends() {
    // SSE responses, legacy sessions: the simulator sends elicitation/create on the call's
    // stream and waits (30 s) for the answer before it ends the stream.
    let sim = Sim::start();
    sim.set_era(workboard_sim::Era::Legacy);
    sim.set_response_mode(ResponseMode::Sse);
    let case = Case::sim(&sim);
    case.set_token(DEMO_PERSONAL_TOKEN);
    // A session opened without the capability (a plain `tools`)...
    assert!(case.run(&["--json", "tools"]).result()["tools"].is_array());
    let dir = tempfile::tempdir().unwrap();
    let answers = dir.path().join("answers.json");
    std::fs::write(&answers, r#"{"confidence": 4}"#).unwrap();
    // ...is not reused by a call that can answer: a new one declares elicitation, and the
    // form is answered while the stream is open (an answer after the simulator's wait would
    // be a tool error, "no answer to elicitation/create").
    let out = case
        .run(&[
            "--json",
            "call",
            "draft_check_in",
            "--args",
            r#"{"key_result_id":401}"#,
            "--input",
            answers.to_str().unwrap(),
        ])
        .result();
    assert!(
        out["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("confidence 4/10"),
        "{out}"
    );
    assert_eq!(sim.count("mcp:initialize"), 2);
}

#[test]
fn listen_prints_the_notifications_of_a_subscription_as_they_arrive() {
    for era in ["auto", "legacy"] {
        let sim = Sim::start();
        // A legacy session's notifications come on its GET stream (SSE mode).
        sim.set_response_mode(ResponseMode::Sse);
        let case = Case::sim(&sim);
        case.set_token(DEMO_PERSONAL_TOKEN);
        let args = [
            "--json",
            "--era",
            era,
            "listen",
            "--tools",
            "--resource",
            "workboard://goal/301",
            "--count",
            "2",
        ];
        let mut running = Running::spawn(case.command(&args, &[]), None, args.join(" "));
        // Established: the modern acknowledgment line, or (legacy) the simulator's GET stream.
        if era == "auto" {
            while let Some(line) = running.next() {
                if matches!(&line, Line::Stdout(s) if s.contains("acknowledged")) {
                    break;
                }
            }
        } else {
            let mut waited = 0;
            while sim.count("mcp:get_stream:open") == 0 || sim.count("mcp:resources/subscribe") == 0
            {
                waited += 1;
                assert!(waited < 500, "the legacy subscription never opened");
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
        }
        sim.notify_tools_list_changed();
        sim.notify_resource_updated("workboard://goal/302"); // not asked for
        sim.notify_resource_updated("workboard://goal/301");
        let out = case.finish(running);
        assert_eq!(out.code, 0, "{era}: {out:?}");
        let methods: Vec<String> = out
            .stdout
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .map(|v| v["method"].as_str().unwrap_or_default().to_string())
            .filter(|m| m != "notifications/subscriptions/acknowledged")
            .collect();
        assert_eq!(
            methods,
            [
                "notifications/tools/list_changed",
                "notifications/resources/updated"
            ],
            "{era}: {out:?}"
        );
        assert!(
            !out.stdout.contains("goal/302"),
            "{era}: only what was asked"
        );
    }
}
