//! Diagnostics: the seed's troubleshooting table, automated.
//!
//! | Problem | Fix |
//! |---|---|
//! | 401 Unauthorized | token expired or wrong environment ([`HINT_401`]) |
//! | No tools listed | the role lacks access ([`HINT_NO_TOOLS`]) |
//! | Claude Desktop won't connect | Node.js 18+ ([`HINT_NODE`]) |
//! | Redirect URL error (OAuth) | exact redirect URI match ([`HINT_REDIRECT`]) |
//!
//! Three entry points, all pure:
//! - [`diagnose`] turns observed facts ([`Observation`]) into [`Diagnosis`] values;
//! - [`diagnose_error`] maps one [`Error`] to its row;
//! - [`Doctor`] is a sans-IO machine ([`SansIo`]) that emits the probe requests (protected
//!   resource metadata, an unauthenticated `POST`, an authenticated `initialize` +
//!   `notifications/initialized` + `tools/list`, and — after a 401 on WorkBoard US or EU —
//!   the same `initialize` on the other environment), records what came back into an
//!   [`Observation`], and returns the diagnoses. The CLI's `doctor` only runs it with
//!   [`workboard_core::drive`] and prints the result. [`probe_plan`] lists the first requests.
//!
//! ```
//! use workboard_config::diagnose::{diagnose, Observation, TroubleshootingRow};
//! let obs = Observation { node_version: Some("v16.20.2".into()), ..Default::default() };
//! let d = diagnose(&obs);
//! assert_eq!(d[0].row, TroubleshootingRow::ClaudeDesktopWontConnect);
//! ```

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use crate::CLAUDE_REDIRECT_URI;
use workboard_core::driver::SansIo;
use workboard_core::env::{check_secure_url, Environment, EU_BASE, US_BASE};
use workboard_core::error::{
    first_difference, hint_401, Error, HINT_401, HINT_NODE, HINT_NO_TOOLS, HINT_REDIRECT,
};
use workboard_core::http::{HttpRequest, HttpResponse, Method, RequestId, TransportError};
use workboard_core::mcp::jsonrpc::Implementation;
use workboard_core::mcp::SessionInfo;
use workboard_core::probe;
use workboard_core::secret::SecretString;
use workboard_core::untrusted::Clip;

/// A server that accepts `initialize` and then refuses the session's requests (HTTP 4xx) most
/// often speaks another MCP revision: a modern-only (2026-07-28) server rejects the legacy
/// session this SDK opens.
const HINT_PROTOCOL_REFUSED: &str = "The server accepted initialize but refuses the session's requests: it may speak only another MCP protocol revision (a 2026-07-28-only server rejects the 2025-11-25 session this version opens). Check the server's supported versions (or its legacy mode), or the server URL.";

/// A row of the seed's troubleshooting table (or `Other`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TroubleshootingRow {
    /// "401 Unauthorized" (`unauthorized_401` in JSON).
    #[serde(rename = "unauthorized_401")]
    Unauthorized401,
    /// "No tools listed".
    NoToolsListed,
    /// "Claude Desktop won't connect".
    ClaudeDesktopWontConnect,
    /// "Redirect URL error (OAuth)".
    RedirectUrlError,
    /// Anything else (network, wrong URL, server errors, protocol).
    Other,
}

impl TroubleshootingRow {
    /// The Problem column as the seed writes it.
    pub fn title(&self) -> &'static str {
        match self {
            TroubleshootingRow::Unauthorized401 => "401 Unauthorized",
            TroubleshootingRow::NoToolsListed => "No tools listed",
            TroubleshootingRow::ClaudeDesktopWontConnect => "Claude Desktop won't connect",
            TroubleshootingRow::RedirectUrlError => "Redirect URL error (OAuth)",
            TroubleshootingRow::Other => "Other",
        }
    }
}

/// How bad a diagnosis is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DiagnosisSeverity {
    /// Connecting fails.
    Error,
    /// Something is off; connecting may still work.
    Warning,
}

/// One diagnosis.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnosis {
    /// The troubleshooting row.
    pub row: TroubleshootingRow,
    /// Error or warning.
    pub severity: DiagnosisSeverity,
    /// Stable snake_case code (`token_rejected`, `wrong_environment`, `node_too_old`, ...).
    pub code: String,
    /// What was observed (never a token).
    pub summary: String,
    /// What to do: the seed's Fix column, plus specifics.
    pub fix: String,
}

/// Facts observed by a probe (the [`Doctor`] fills this; hosts may fill it themselves).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Observation {
    /// Label of the environment in use (`US (www.myworkboard.com)`, a URL...).
    pub environment: Option<String>,
    /// The MCP server URL probed.
    pub server_url: Option<String>,
    /// Status of the unauthenticated MCP `POST` (a healthy server says 401).
    pub unauthenticated_status: Option<u16>,
    /// `WWW-Authenticate` of that response.
    pub www_authenticate: Option<String>,
    /// Status of the protected resource metadata fetch.
    pub prm_status: Option<u16>,
    /// Whether a token was available for the authenticated probes.
    pub token_present: bool,
    /// Status of the authenticated `initialize`.
    pub initialize_status: Option<u16>,
    /// A problem with the `initialize` response body (protocol error), if any.
    pub initialize_problem: Option<String>,
    /// Status of `notifications/initialized` (a server that accepts the session answers 2xx).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initialized_status: Option<u16>,
    /// Status of `tools/list`.
    pub tools_list_status: Option<u16>,
    /// Number of tools on the first `tools/list` page.
    pub tools_count: Option<usize>,
    /// The server's MCP era: `modern` (2026-07-28: it answered a modern request, or refused
    /// it with a modern error) or `legacy` (`initialize` worked and the modern request did
    /// not); `None` when neither could tell.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub era: Option<String>,
    /// The protocol versions the server said it speaks (`server/discover`, a modern error, or
    /// the version `initialize` negotiated).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub server_versions: Vec<String>,
    /// Status of the modern `server/discover` probe.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discover_status: Option<u16>,
    /// Output of `node --version` (e.g. `v20.11.1`), when the host ran it.
    pub node_version: Option<String>,
    /// The host looked for `node` and did not find it.
    pub node_missing: bool,
    /// Redirect URI registered in WorkBoard (or configured in the app).
    pub redirect_uri_configured: Option<String>,
    /// Redirect URI the client actually uses.
    pub redirect_uri_used: Option<String>,
    /// Label of another environment where the same token was accepted (wrong environment).
    pub token_accepted_in: Option<String>,
    /// Transport failures (`could not connect: …`), in probe order.
    pub transport_errors: Vec<String>,
}

/// Turns observed facts into diagnoses (empty = nothing wrong was observed).
pub fn diagnose(o: &Observation) -> Vec<Diagnosis> {
    let mut out = Vec::new();
    // WorkBoard's hint (personal tokens, US/EU) only for WorkBoard; unknown: WorkBoard.
    let h401 = o.server_url.as_deref().map_or(HINT_401, hint_401);
    let env = o
        .environment
        .clone()
        .unwrap_or_else(|| "the configured environment".into());
    let mut d = |row, severity, code: &str, summary: String, fix: String| {
        out.push(Diagnosis {
            row,
            severity,
            code: code.into(),
            // Observations hold foreign text (server URLs, transport errors, `node
            // --version`, redirect URIs): every diagnosis is bounded.
            summary: workboard_core::untrusted::cut(
                &summary,
                workboard_core::untrusted::MAX_HINT_BYTES,
            ),
            fix: workboard_core::untrusted::cut(&fix, workboard_core::untrusted::MAX_HINT_BYTES),
        })
    };
    use DiagnosisSeverity::{Error as E, Warning as W};
    use TroubleshootingRow as R;

    if let Some(first) = o.transport_errors.first() {
        d(
            R::Other,
            E,
            "unreachable",
            format!("the server could not be reached: {first}"),
            format!(
                "Check the network connection and the server URL ({}).",
                o.server_url.as_deref().unwrap_or("?")
            ),
        );
    }
    match o.unauthenticated_status {
        Some(404) | Some(405) => d(R::Other, E, "not_mcp_endpoint", format!("the server URL answered {} to an MCP POST: it is not an MCP endpoint", o.unauthenticated_status.unwrap_or(0)), "Use https://www.myworkboard.com/wb/mcp (US) or https://www.myworkboard.eu/wb/mcp (EU), exactly.".into()),
        Some(s) if s >= 500 => d(R::Other, E, "server_error", format!("the server answered HTTP {s}"), "WorkBoard's MCP server has a problem: retry later.".into()),
        Some(401) if o.www_authenticate.as_deref().is_none_or(|w| !w.to_ascii_lowercase().contains("resource_metadata")) => d(R::Other, W, "no_resource_metadata", "the 401 carries no `resource_metadata` in WWW-Authenticate: OAuth clients must fall back to well-known URLs".into(), "Nothing to do for a personal token; OAuth clients that need the hint may fail to discover the authorization server.".into()),
        _ => {}
    }
    if let Some(s) = o.prm_status.filter(|s| !(200..300).contains(s)) {
        d(
            R::Other,
            W,
            "no_protected_resource_metadata",
            format!("protected resource metadata answered HTTP {s}"),
            "OAuth connectors (Option 1) need it; personal tokens (Option 2) do not.".into(),
        );
    }
    if !o.token_present && o.unauthenticated_status.is_some() {
        d(
            R::Unauthorized401,
            W,
            "no_token",
            "no token was given, so only the unauthenticated probes ran".into(),
            format!("Pass a personal token (or sign in) to test the connection. {h401}"),
        );
    }
    let modern = o.era.as_deref() == Some("modern");
    match o.initialize_status {
        // A modern-only server refuses `initialize` (4xx): that is its era, not a fault.
        Some(s) if modern && (400..500).contains(&s) && s != 401 && s != 403 => {}
        Some(401) => match &o.token_accepted_in {
            Some(other) => d(
                R::Unauthorized401,
                E,
                "wrong_environment",
                format!(
                    "the token is rejected on {env} but accepted on {other}: wrong environment"
                ),
                format!("Use {other}. {h401}"),
            ),
            None => d(
                R::Unauthorized401,
                E,
                "token_rejected",
                format!("the token was rejected (401) on {env}"),
                h401.into(),
            ),
        },
        Some(403) => d(
            R::NoToolsListed,
            E,
            "forbidden",
            format!("the token is valid but MCP access is forbidden (403) on {env}"),
            HINT_NO_TOOLS.into(),
        ),
        Some(s) if s >= 500 => d(
            R::Other,
            E,
            "server_error",
            format!("initialize answered HTTP {s}"),
            "WorkBoard's MCP server has a problem: retry later.".into(),
        ),
        Some(s) if !(200..300).contains(&s) => d(
            R::Other,
            E,
            "initialize_failed",
            format!("initialize answered HTTP {s}"),
            "Check the server URL; if it is right, report the status to WorkBoard support.".into(),
        ),
        _ => {}
    }
    if let Some(p) = o.initialize_problem.as_ref().filter(|_| !modern) {
        d(
            R::Other,
            E,
            "protocol_error",
            format!("the initialize response could not be used: {p}"),
            "The server does not speak a supported MCP version; check the server URL.".into(),
        );
    }
    match (o.tools_list_status, o.tools_count) {
        (_, Some(0)) => d(
            R::NoToolsListed,
            E,
            "no_tools",
            format!("tools/list returned no tools on {env}"),
            HINT_NO_TOOLS.into(),
        ),
        (Some(403), _) => d(
            R::NoToolsListed,
            E,
            "forbidden",
            "tools/list was forbidden (403)".into(),
            HINT_NO_TOOLS.into(),
        ),
        // Every tool call fails the same way: an error, not a warning; WorkBoard's role hint
        // only where the server refused the token's access (401 after initialize).
        (Some(401), None) => d(
            R::NoToolsListed,
            E,
            "tools_list_failed",
            "tools/list answered HTTP 401 after initialize".into(),
            HINT_NO_TOOLS.into(),
        ),
        (Some(s), None) if !(200..300).contains(&s) => d(
            R::Other,
            E,
            "tools_list_failed",
            format!("tools/list answered HTTP {s}: every tool call will fail the same way"),
            HINT_PROTOCOL_REFUSED.into(),
        ),
        _ => {}
    }
    if let Some(s) = o
        .initialized_status
        .filter(|s| !(200..300).contains(s) && !modern)
    {
        d(
            R::Other,
            E,
            "initialized_refused",
            format!("notifications/initialized answered HTTP {s}: the server does not accept this MCP session"),
            HINT_PROTOCOL_REFUSED.into(),
        );
    }
    if o.node_missing {
        d(
            R::ClaudeDesktopWontConnect,
            E,
            "node_missing",
            "Node.js was not found (`node --version` failed)".into(),
            format!("Install Node.js 18 or higher. {HINT_NODE}"),
        );
    } else if let Some(raw) = &o.node_version {
        match parse_node_version(raw) {
            Some((major, _, _)) if major < 18 => d(
                R::ClaudeDesktopWontConnect,
                E,
                "node_too_old",
                format!("Node.js {} is older than 18", raw.trim()),
                format!("Upgrade Node.js to 18 or higher. {HINT_NODE}"),
            ),
            Some(_) => {}
            None => d(
                R::ClaudeDesktopWontConnect,
                W,
                "node_version_unknown",
                format!(
                    "`node --version` printed `{}`, not a version",
                    raw.trim().chars().take(40).collect::<String>()
                ),
                HINT_NODE.into(),
            ),
        }
    }
    if let Some(used) = &o.redirect_uri_used {
        let expected = o.redirect_uri_configured.as_deref();
        if let Some(expected) = expected.filter(|e| *e != used) {
            let at = first_difference(expected, used);
            d(R::RedirectUrlError, E, "redirect_uri_mismatch", format!("the redirect URI registered in WorkBoard differs from the one the client uses, at character {at}\n  registered: {}\n  used:       {}{}", Clip(expected), Clip(used), if at < 100 { format!("\n              {}^", " ".repeat(at)) } else { String::new() }), HINT_REDIRECT.into());
        }
    }
    if let Some(conf) = &o.redirect_uri_configured {
        let claude_like = conf.contains("claude.ai")
            || o.redirect_uri_used.as_deref() == Some(CLAUDE_REDIRECT_URI);
        if claude_like
            && conf != CLAUDE_REDIRECT_URI
            && o.redirect_uri_used.as_deref().is_none_or(|u| u == conf)
        {
            let at = first_difference(CLAUDE_REDIRECT_URI, conf);
            d(R::RedirectUrlError, E, "redirect_uri_not_claude", format!("the registered redirect URI is not Claude's callback, at character {at}\n  expected:   {CLAUDE_REDIRECT_URI}\n  registered: {conf}\n              {}^", " ".repeat(at)), HINT_REDIRECT.into());
        }
    }
    out
}

/// Parses `node --version` output (`v20.11.1`, `20.11.1`, `v18`): (major, minor, patch).
pub fn parse_node_version(raw: &str) -> Option<(u32, u32, u32)> {
    let t = raw.trim();
    let t = t.strip_prefix(['v', 'V']).unwrap_or(t);
    let t = t.split(['-', '+', ' ']).next()?;
    let mut parts = t.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next().map(str::parse).transpose().ok()?.unwrap_or(0);
    let patch = parts.next().map(str::parse).transpose().ok()?.unwrap_or(0);
    Some((major, minor, patch))
}

/// The troubleshooting row of an error, when one applies.
pub fn diagnose_error(e: &Error) -> Option<Diagnosis> {
    use DiagnosisSeverity::Error as E;
    use TroubleshootingRow as R;
    let mk = |row, code: &str, fix: String| Diagnosis {
        row,
        severity: E,
        code: code.into(),
        summary: e.info().message,
        fix,
    };
    Some(match e {
        Error::Unauthorized { .. } | Error::NotSignedIn => mk(R::Unauthorized401, "token_rejected", e.hint().unwrap_or_else(|| HINT_401.into())),
        Error::TokenEndpoint { error, .. } if error == "invalid_grant" => mk(R::Unauthorized401, "token_rejected", HINT_401.into()),
        Error::Forbidden { .. } | Error::InsufficientScope { .. } => mk(R::NoToolsListed, "forbidden", HINT_NO_TOOLS.into()),
        Error::RedirectUriMismatch { .. } => mk(R::RedirectUrlError, "redirect_uri_mismatch", e.hint().unwrap_or_else(|| HINT_REDIRECT.into())),
        Error::Transport(TransportError::BodyTooLarge { .. }) => return None,
        Error::Transport(_) | Error::RetriesExhausted { .. } => mk(R::Other, "unreachable", "Check the network connection and the server URL.".into()),
        Error::TokenEndpointUnreachable { .. } | Error::Timeout { .. } => mk(R::Other, "unreachable", e.hint().unwrap_or_default()),
        Error::HttpStatus { status: 404, .. } => mk(R::Other, "not_mcp_endpoint", "Use https://www.myworkboard.com/wb/mcp (US) or https://www.myworkboard.eu/wb/mcp (EU), exactly.".into()),
        _ => return None,
    })
}

/// What a probe request is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProbeKind {
    /// `GET` protected resource metadata (RFC 9728).
    ProtectedResourceMetadata,
    /// `POST` `initialize` without credentials (expects 401 + `WWW-Authenticate`).
    UnauthenticatedPost,
    /// `POST` `initialize` with the token.
    Initialize,
    /// `POST` `notifications/initialized`.
    Initialized,
    /// `POST` `tools/list`.
    ToolsList,
    /// `POST` `server/discover` as a modern (2026-07-28) request: tells the eras apart.
    Discover,
    /// `POST` `initialize` with the token on the other WorkBoard environment (after a 401).
    OtherEnvironment,
}

/// One probe request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProbeStep {
    /// What it is for.
    pub kind: ProbeKind,
    /// The request (its `Debug` hides the token).
    pub request: HttpRequest,
}

/// The first probe requests for `server_url` (later ones depend on the answers: see
/// [`Doctor`], which emits these same requests first).
pub fn probe_plan(server_url: &str, token: Option<&SecretString>) -> Result<Vec<ProbeStep>, Error> {
    let mut doc = Doctor::new(DoctorParams {
        token: token.cloned(),
        ..DoctorParams::for_url(server_url)
    })?;
    let mut out = Vec::new();
    while let Some(request) = doc.poll_request() {
        let kind = doc
            .kind_of(request.id)
            .unwrap_or(ProbeKind::UnauthenticatedPost);
        out.push(ProbeStep { kind, request });
    }
    Ok(out)
}

/// Inputs of a [`Doctor`] run.
#[derive(Clone, Debug, Default)]
pub struct DoctorParams {
    /// The MCP endpoint.
    pub server_url: String,
    /// Label for messages (defaults to the environment's label or the URL).
    pub environment_label: Option<String>,
    /// The personal or OAuth access token (without `Bearer `; a leading `Bearer ` is removed).
    pub token: Option<SecretString>,
    /// Output of `node --version`, if the host ran it (`None` = not checked).
    pub node_version: Option<String>,
    /// The host looked for `node` and did not find it.
    pub node_missing: bool,
    /// Redirect URI registered in WorkBoard, if known.
    pub redirect_uri_configured: Option<String>,
    /// Redirect URI the client uses, if known.
    pub redirect_uri_used: Option<String>,
    /// After a 401 on WorkBoard US or EU, try the token on the other one (default true via
    /// [`DoctorParams::for_environment`] / [`DoctorParams::for_url`]).
    pub try_other_environment: bool,
}

impl DoctorParams {
    /// For an environment's MCP endpoint.
    pub fn for_environment(env: &Environment) -> DoctorParams {
        DoctorParams {
            server_url: env.mcp_url(),
            environment_label: Some(env.label()),
            try_other_environment: true,
            ..Default::default()
        }
    }

    /// For any MCP server URL.
    pub fn for_url(server_url: &str) -> DoctorParams {
        DoctorParams {
            server_url: server_url.into(),
            try_other_environment: true,
            ..Default::default()
        }
    }
}

/// The sans-IO doctor: emits probes, records the answers, diagnoses.
///
/// Run it with [`workboard_core::drive`] (or any loop honouring [`SansIo`]); when
/// [`Doctor::is_done`], read [`Doctor::diagnoses`] and [`Doctor::observation`].
#[derive(Debug)]
pub struct Doctor {
    server_url: String,
    token: Option<SecretString>,
    other_env: Option<Environment>,
    obs: Observation,
    queue: VecDeque<HttpRequest>,
    in_flight: Vec<(RequestId, ProbeKind)>,
    next_id: u64,
    session: SessionInfo,
    prm_candidates: VecDeque<String>,
    prm_tried: Vec<String>,
}

impl Doctor {
    /// A doctor for `params`. Fails on an unparseable or insecure server URL.
    pub fn new(params: DoctorParams) -> Result<Doctor, Error> {
        let url = url::Url::parse(params.server_url.trim()).map_err(|e| Error::InvalidUrl {
            what: "MCP server URL".into(),
            reason: e.to_string(),
        })?;
        check_secure_url(&url, "MCP server URL")?;
        let server_url = url.to_string();
        let env = Environment::parse(url.origin().ascii_serialization().as_str()).ok();
        let other_env = match env {
            Some(Environment::Us) if params.try_other_environment && url.path() == "/wb/mcp" => {
                Some(Environment::Eu)
            }
            Some(Environment::Eu) if params.try_other_environment && url.path() == "/wb/mcp" => {
                Some(Environment::Us)
            }
            _ => None,
        };
        let label = params
            .environment_label
            .clone()
            .or_else(|| env.as_ref().map(Environment::label))
            .unwrap_or_else(|| workboard_core::http::redact_url(&server_url));
        let token = params
            .token
            .map(|t| {
                let raw = t.expose().trim();
                let raw = match (raw.get(..7), raw.get(7..)) {
                    (Some(head), Some(rest)) if head.eq_ignore_ascii_case("bearer ") => rest.trim(),
                    _ => raw,
                };
                SecretString::new(raw)
            })
            .filter(|t| !t.is_empty());
        let obs = Observation {
            environment: Some(label),
            // Shown to users and logged: without user info or secret query values.
            server_url: Some(workboard_core::http::redact_url(&server_url)),
            token_present: token.is_some(),
            node_version: params.node_version,
            node_missing: params.node_missing,
            redirect_uri_configured: params.redirect_uri_configured,
            redirect_uri_used: params.redirect_uri_used,
            ..Default::default()
        };
        let mut d = Doctor {
            server_url,
            token,
            other_env,
            obs,
            queue: VecDeque::new(),
            in_flight: Vec::new(),
            next_id: 1,
            session: SessionInfo::default(),
            prm_candidates: VecDeque::new(),
            prm_tried: Vec::new(),
        };
        let unauthenticated = probe::initialize_request(&d.server_url, None, &client_info());
        d.push(ProbeKind::UnauthenticatedPost, unauthenticated);
        d.prm_candidates = probe::protected_resource_metadata_urls(&url).into();
        d.next_prm();
        let auth = d.auth();
        if let Some(auth) = &auth {
            let initialize = probe::initialize_request(&d.server_url, Some(auth), &client_info());
            d.push(ProbeKind::Initialize, initialize);
        }
        let discover = probe::discover_request(&d.server_url, auth.as_ref(), &client_info());
        d.push(ProbeKind::Discover, discover);
        Ok(d)
    }

    /// Whether every probe has been answered.
    pub fn is_done(&self) -> bool {
        self.queue.is_empty() && self.in_flight.is_empty()
    }

    /// What was observed so far.
    pub fn observation(&self) -> &Observation {
        &self.obs
    }

    /// The diagnoses of what was observed (empty = healthy).
    pub fn diagnoses(&self) -> Vec<Diagnosis> {
        diagnose(&self.obs)
    }

    /// What request `id` (emitted and not yet answered) is for.
    pub fn kind_of(&self, id: RequestId) -> Option<ProbeKind> {
        self.in_flight
            .iter()
            .find(|(i, _)| *i == id)
            .map(|(_, k)| *k)
    }

    fn prm_pending(&self) -> bool {
        self.in_flight
            .iter()
            .any(|(_, k)| *k == ProbeKind::ProtectedResourceMetadata)
    }

    fn next_prm(&mut self) {
        if let Some(u) = self.prm_candidates.pop_front() {
            self.prm_tried.push(u.clone());
            self.push(ProbeKind::ProtectedResourceMetadata, get(&u));
        }
    }

    fn auth(&self) -> Option<SecretString> {
        self.token
            .as_ref()
            .map(|t| SecretString::new(format!("Bearer {}", t.expose())))
    }

    fn push(&mut self, kind: ProbeKind, mut req: HttpRequest) {
        req.id = RequestId(self.next_id);
        self.next_id += 1;
        self.in_flight.push((req.id, kind));
        self.queue.push_back(req);
    }

    fn on_response(&mut self, kind: ProbeKind, r: &HttpResponse) {
        let status = r.status;
        match kind {
            ProbeKind::UnauthenticatedPost => {
                self.obs.unauthenticated_status = Some(status);
                self.obs.www_authenticate = r
                    .header("www-authenticate")
                    .map(|w| w.chars().take(512).collect());
                let rm = probe::resource_metadata_url(r);
                let usable = rm.filter(|rm| {
                    url::Url::parse(rm)
                        .is_ok_and(|u| check_secure_url(&u, "resource_metadata").is_ok())
                });
                if let Some(rm) = usable {
                    // The 401's resource_metadata goes first among the URLs still to try.
                    if !self.prm_tried.contains(&rm) && !self.prm_candidates.contains(&rm) {
                        self.prm_candidates.push_front(rm);
                    }
                    if !self.prm_pending() {
                        self.next_prm();
                    }
                }
            }
            ProbeKind::ProtectedResourceMetadata => {
                let ok =
                    (200..300).contains(&status) && probe::is_protected_resource_metadata(&r.body);
                let had_ok = self.obs.prm_status.is_some_and(|s| (200..300).contains(&s));
                if !had_ok {
                    // A 2xx whose body is not metadata counts as a failure (502).
                    self.obs.prm_status = Some(if ok || !(200..300).contains(&status) {
                        status
                    } else {
                        502
                    });
                    if !ok {
                        self.next_prm();
                    }
                }
            }
            ProbeKind::Initialize => {
                self.obs.initialize_status = Some(status);
                if status == 401 {
                    if let (Some(env), Some(auth)) = (self.other_env.clone(), self.auth()) {
                        let other =
                            probe::initialize_request(&env.mcp_url(), Some(&auth), &client_info());
                        self.push(ProbeKind::OtherEnvironment, other);
                    }
                    return;
                }
                if !(200..300).contains(&status) {
                    return;
                }
                match probe::read_initialize(r) {
                    Ok(session) => {
                        if self.obs.era.as_deref() != Some("modern") {
                            self.obs.era = Some("legacy".into());
                            self.obs.server_versions =
                                session.protocol_version.clone().into_iter().collect();
                        }
                        self.session = session;
                        let auth = self.auth();
                        let n = probe::initialized_request(
                            &self.session,
                            &self.server_url,
                            auth.as_ref(),
                        );
                        self.push(ProbeKind::Initialized, n);
                        let t = probe::list_tools_request(
                            &self.session,
                            &self.server_url,
                            auth.as_ref(),
                        );
                        self.push(ProbeKind::ToolsList, t);
                    }
                    Err(e) => self.obs.initialize_problem = Some(e.to_string()),
                }
            }
            ProbeKind::Initialized => self.obs.initialized_status = Some(status),
            ProbeKind::Discover => {
                self.obs.discover_status = Some(status);
                if let Some(versions) = probe::modern_versions(r) {
                    self.obs.era = Some("modern".into());
                    if !versions.is_empty() {
                        self.obs.server_versions = versions;
                    }
                    // A modern server's tools are listed with a modern request.
                    if (200..300).contains(&status) && self.token.is_some() {
                        let auth = self.auth();
                        let t = probe::modern_list_tools_request(
                            &self.server_url,
                            auth.as_ref(),
                            &client_info(),
                        );
                        self.push(ProbeKind::ToolsList, t);
                    }
                }
            }
            ProbeKind::ToolsList => {
                self.obs.tools_list_status = Some(status);
                if (200..300).contains(&status) {
                    self.obs.tools_count = probe::read_tool_count(r).ok();
                }
            }
            ProbeKind::OtherEnvironment => {
                if (200..300).contains(&status) {
                    self.obs.token_accepted_in = self.other_env.as_ref().map(Environment::label);
                }
            }
        }
    }
}

/// Who the doctor says it is in `initialize`.
fn client_info() -> Implementation {
    Implementation::new("workboard-doctor", env!("CARGO_PKG_VERSION"))
}

fn get(url: &str) -> HttpRequest {
    HttpRequest {
        id: RequestId(0),
        method: Method::Get,
        url: url.into(),
        headers: vec![("Accept".into(), "application/json".into())],
        body: Vec::new(),
    }
}

impl SansIo for Doctor {
    fn poll_request(&mut self) -> Option<HttpRequest> {
        self.queue.pop_front()
    }

    fn handle_response(
        &mut self,
        id: RequestId,
        response: Result<HttpResponse, TransportError>,
        _now_ms: u64,
    ) {
        let Some(pos) = self.in_flight.iter().position(|(i, _)| *i == id) else {
            return;
        };
        let (_, kind) = self.in_flight.remove(pos);
        match response {
            Ok(r) => self.on_response(kind, &r),
            Err(e) => {
                if kind != ProbeKind::OtherEnvironment {
                    self.obs.transport_errors.push(e.to_string());
                }
            }
        }
    }
}

/// Base URLs of the two public WorkBoard environments.
pub const WORKBOARD_BASES: [&str; 2] = [US_BASE, EU_BASE];
