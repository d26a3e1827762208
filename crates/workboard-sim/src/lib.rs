//! # workboard-sim
//!
//! A local WorkBoard-compatible server for demos and end-to-end tests: WorkBoard OAuth v1
//! (consent page, `json_code`, `client_hash`, 5-minute codes, `/wb/oauth/revoke/`), OAuth 2.1
//! for MCP (RFC 9728 and RFC 8414 metadata with WorkBoard's issuer quirk, PKCE S256, refresh
//! rotation, optional RFC 7591 registration), MCP Streamable HTTP at `/wb/mcp` (both protocol
//! eras, JSON or SSE responses, paginated tools, resources, prompts and completions over seeded
//! OKR data) and the REST API, with fault injection and a movable clock. It is written
//! independently of `workboard-core`, so the SDK is not only tested against itself.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use workboard_sim::{Era, Role, SimConfig, Simulator};
//! let sim = Simulator::start(SimConfig::default()).await?;
//! let token = sim.issue_personal_token("ada@example.com", Role::Member);
//! println!("MCP at {} (token {} chars)", sim.mcp_url(), token.len());
//! sim.faults().fail_next(Some("mcp"), 1, 503); // the next MCP request gets a 503
//! sim.advance_clock(std::time::Duration::from_secs(301)); // codes issued so far expire
//! sim.set_era(Era::Modern); // 2026-07-28 only from now on
//! sim.notify_tools_list_changed(); // to every subscriptions/listen stream that opted in
//! assert_eq!(sim.counters().get("mcp:initialize"), 0);
//! sim.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! ## Eras
//!
//! [`Era::Dual`] (the default) serves a request whose `params._meta` carries
//! `io.modelcontextprotocol/protocolVersion` statelessly as protocol 2026-07-28
//! ([`MODERN_PROTOCOL_VERSIONS`]) and an `initialize` request as a legacy session
//! ([`SUPPORTED_PROTOCOL_VERSIONS`]). [`Era::Modern`] answers `initialize` with 400 and
//! [`UNSUPPORTED_PROTOCOL_VERSION`] naming the supported versions, ignores `Mcp-Session-Id` and
//! answers `GET`/`DELETE` with 405. [`Era::Legacy`] answers a modern request without a session as
//! a legacy-only server does (400, JSON-RPC `-32000` "Bad Request: Server not initialized").
//!
//! Modern requests are checked as the specification asks: the `_meta` version
//! ([`UNSUPPORTED_PROTOCOL_VERSION`], 400), the required `clientCapabilities` (`-32602`, 400), the
//! mirrored headers `MCP-Protocol-Version`, `Mcp-Method`, `Mcp-Name` (Base64 sentinel decoded)
//! and `Mcp-Param-{Name}` for `x-mcp-header` arguments ([`HEADER_MISMATCH`], 400), unknown
//! methods (`-32601`, 404). Results carry `resultType`, the server info in `_meta` and, for list
//! and read results, `ttlMs` and `cacheScope`. `server/discover`, `subscriptions/listen` (acknowledged,
//! tagged notifications, keep-alive comments, bounded in number and duration) and multi
//! round-trip tool calls (`draft_check_in`: elicitation, `suggest_key_result`: sampling,
//! `list_workspace_roots`: roots;
//! [`MISSING_REQUIRED_CLIENT_CAPABILITY`] when the capability is not declared) are served;
//! in legacy sessions the same tools send the server's own request on the call's SSE stream, and
//! `resources/subscribe` updates arrive on the `GET` stream. The crate's README has every rule
//! and counter.
//!
//! The binary `workboard-sim` wraps the same library for tests in other languages; see
//! `workboard-sim --help` (`--era modern|legacy|dual`). Control endpoints (`GET /__sim/stats`,
//! `POST /__sim/faults`, `POST /__sim/clock`, `POST /__sim/config` (with `"era"`),
//! `POST /__sim/tokens`, `POST /__sim/notify`) drive it over HTTP.

// Handlers return early with a ready response; boxing it would only add noise.
#![allow(clippy::result_large_err)]

mod config;
mod control;
mod data;
mod faults;
mod features;
mod input;
mod mcp;
mod modern;
mod oauth;
mod rest;
mod server;
mod state;
mod subs;
mod tools;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

pub use config::{
    ClientConfig, Era, PersonalTokenConfig, ResponseMode, Role, SimConfig, DEMO_CLIENT_HASH,
    DEMO_CLIENT_ID, DEMO_PERSONAL_TOKEN, DEMO_REDIRECT_URI, DEMO_USER,
};
pub use faults::{DropSpec, FailSpec, FaultSpec, Faults, RateLimitSpec};
pub use features::RESOURCES_PAGE_SIZE;
pub use input::{INPUT_KEY_ELICIT, INPUT_KEY_SAMPLE, INPUT_STATE_TTL_MS, MAX_INPUT_STATES};
pub use mcp::{
    MODERN_PROTOCOL_VERSIONS, SSE_RETRY_MS, SUPPORTED_PROTOCOL_VERSIONS, TOOLS_PAGE_SIZE,
};
pub use modern::{
    HEADER_MISMATCH, MISSING_REQUIRED_CLIENT_CAPABILITY, UNSUPPORTED_PROTOCOL_VERSION,
};
pub use state::Counters;
pub use subs::MAX_LISTENERS;

use state::{random_token, Change, Shared};

/// Starts simulators.
#[derive(Debug)]
pub struct Simulator;

impl Simulator {
    /// Binds `127.0.0.1:<config.port>` (0 = a free port) and serves until
    /// [`SimHandle::shutdown`] or the handle is dropped. Needs a Tokio runtime.
    pub async fn start(config: SimConfig) -> std::io::Result<SimHandle> {
        let listener =
            tokio::net::TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, config.port)))
                .await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::new(&config, format!("http://{addr}")));
        let (tx, rx) = tokio::sync::watch::channel(false);
        let task = tokio::spawn(server::serve(listener, shared.clone(), rx));
        Ok(SimHandle {
            shared,
            addr,
            shutdown: tx,
            task: Some(task),
        })
    }
}

/// A running simulator. Dropping it stops the server (without waiting).
#[derive(Debug)]
pub struct SimHandle {
    shared: Arc<Shared>,
    addr: SocketAddr,
    shutdown: tokio::sync::watch::Sender<bool>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl SimHandle {
    /// `http://127.0.0.1:<port>` (no trailing slash).
    pub fn base_url(&self) -> &str {
        &self.shared.base_url
    }

    /// `<base>/wb/mcp`.
    pub fn mcp_url(&self) -> String {
        self.shared.mcp_url()
    }

    /// The bound socket address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Registers a client (or adds redirect URIs to an existing one and replaces its hash).
    pub fn add_client(&self, client: ClientConfig) {
        self.shared.store().add_client(client);
    }

    /// Creates a personal token (no expiry, scoped to MCP only) for `user` (an email; unknown
    /// emails become new users) with `role`.
    pub fn issue_personal_token(&self, user: &str, role: Role) -> String {
        let token = random_token("wbp");
        self.shared
            .store()
            .personal_token(token.clone(), user, role);
        token
    }

    /// Consent page (false) or immediate redirect (true).
    pub fn set_auto_approve(&self, on: bool) {
        self.shared.auto_approve.store(on, Ordering::SeqCst);
    }

    /// JSON or SSE answers on `POST /wb/mcp`.
    pub fn set_response_mode(&self, mode: ResponseMode) {
        self.shared.set_response_mode(mode);
    }

    /// Issuer `<base>/wb` (true, WorkBoard's behaviour) or `<base>/wb/oauth` (false).
    pub fn set_issuer_quirk(&self, on: bool) {
        self.shared.issuer_quirk.store(on, Ordering::SeqCst);
    }

    /// Dynamic client registration on or off.
    pub fn set_dcr(&self, on: bool) {
        self.shared.dcr.store(on, Ordering::SeqCst);
    }

    /// The fault knobs.
    pub fn faults(&self) -> &Faults {
        &self.shared.faults
    }

    /// Moves the server clock forward (code, token and refresh-token expiry).
    pub fn advance_clock(&self, by: Duration) {
        self.shared.clock.advance(by);
    }

    /// The server clock, unix milliseconds.
    pub fn now_ms(&self) -> u64 {
        self.shared.now_ms()
    }

    /// A snapshot of the request counters (see [`Counters`] for the keys).
    pub fn counters(&self) -> Counters {
        self.shared.counters()
    }

    /// Which era(s) `/wb/mcp` speaks from now on (open streams are not touched).
    pub fn set_era(&self, era: Era) {
        self.shared.set_era(era);
    }

    /// The current era setting.
    pub fn era(&self) -> Era {
        self.shared.era()
    }

    /// Announces that the tool list changed: `notifications/tools/list_changed` on every
    /// `subscriptions/listen` stream that opted in (`toolsListChanged`) and on every legacy
    /// `GET` stream.
    pub fn notify_tools_list_changed(&self) {
        self.shared.announce(Change::ToolsList);
    }

    /// Announces that the prompt list changed (`notifications/prompts/list_changed`).
    pub fn notify_prompts_list_changed(&self) {
        self.shared.announce(Change::PromptsList);
    }

    /// Announces that the resource list changed (`notifications/resources/list_changed`).
    pub fn notify_resources_list_changed(&self) {
        self.shared.announce(Change::ResourcesList);
    }

    /// Announces that a resource changed: `notifications/resources/updated` on listen streams
    /// that named `uri` in `resourceSubscriptions` and on `GET` streams of legacy sessions
    /// that subscribed to it. (Successful `update_key_result` and `log_kpi_data` calls announce
    /// their goal or KPI resource by themselves.)
    pub fn notify_resource_updated(&self, uri: &str) {
        self.shared
            .announce(Change::ResourceUpdated(uri.to_string()));
    }

    /// Open `subscriptions/listen` streams.
    pub fn listener_count(&self) -> usize {
        self.shared.listeners.load(Ordering::SeqCst)
    }

    /// Number of live MCP sessions.
    pub fn session_count(&self) -> usize {
        self.shared.store().sessions.len()
    }

    /// Stops accepting, closes every connection and waits for the server task.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
    }
}
