//! Command-line definitions and dispatch.

use std::path::PathBuf;
use std::sync::Arc;

use clap::{Args, Parser, Subcommand};
use workboard_core::{Credentials, Environment};
use workboard_native::workboard_client::store::SharedStore;
use workboard_native::{CredentialStore, FileStore, StoreChoice};

use crate::output::CliError;

/// Connect to WorkBoard's MCP server and API.
#[derive(Debug, Parser)]
#[command(name = "workboard", version, about, long_about = None)]
pub struct Cli {
    /// WorkBoard environment: `us` (default), `eu`, or a base URL such as
    /// http://127.0.0.1:8080 (a simulator).
    #[arg(long, global = true, env = "WORKBOARD_ENV", default_value = "us")]
    pub env: String,

    /// Any MCP server URL (overrides the environment's /wb/mcp): makes every command work
    /// against other MCP servers too.
    #[arg(long, global = true, env = "WORKBOARD_SERVER")]
    pub server: Option<String>,

    /// Credential store file (default: ~/.config/workboard/credentials.json, mode 0600).
    /// Given, the file store is used.
    #[arg(long, global = true, env = "WORKBOARD_STORE")]
    pub store: Option<PathBuf>,

    /// Where credentials live without --store: `auto` (the OS keychain when there is one and
    /// the credentials file holds none, else the file), `keychain` or `file`.
    #[arg(long, global = true, env = "WORKBOARD_STORE_BACKEND", value_enum, default_value_t = StoreBackendArg::Auto)]
    pub store_backend: StoreBackendArg,

    /// Which MCP era to speak: `auto` (modern 2026-07-28 first, `initialize` for a legacy
    /// server; the era found is remembered with the session), `modern` or `legacy`.
    #[arg(long, global = true, env = "WORKBOARD_MCP_ERA", value_enum, default_value_t = EraArg::Auto)]
    pub era: EraArg,

    /// When a call needs a scope the token lacks (403 insufficient_scope) after an MCP OAuth
    /// sign-in: `auto` (authorize again in the browser when run from a terminal, else
    /// report it), `browser`, `print` (show the URL, wait for the redirect), `headless`
    /// (follow an auto-approving server's redirect: CI, tests) or `never`. Then the call
    /// is made once more.
    #[arg(long, global = true, env = "WORKBOARD_STEP_UP", value_enum, default_value_t = StepUpArg::Auto)]
    pub step_up: StepUpArg,

    /// Machine-readable JSON output on stdout.
    #[arg(long, global = true)]
    pub json: bool,

    /// No progress output.
    #[arg(long, short, global = true)]
    pub quiet: bool,

    #[command(subcommand)]
    pub command: Command,
}

/// `--step-up`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum StepUpArg {
    /// `browser` from a terminal, else `never`.
    Auto,
    /// Open the browser.
    Browser,
    /// Print the URL.
    Print,
    /// Follow the redirect without a browser.
    Headless,
    /// Report the missing scope.
    Never,
}

/// `--store-backend`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum StoreBackendArg {
    /// The keychain when usable and the file holds no credentials, else the file.
    Auto,
    /// The OS keychain only (an error where there is none).
    Keychain,
    /// The credentials file.
    File,
}

/// `--era`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum EraArg {
    /// Modern first, legacy fallback.
    Auto,
    /// 2026-07-28 only.
    Modern,
    /// `initialize` (2025-11-25 and older) only.
    Legacy,
}

impl EraArg {
    /// The client layer's policy.
    pub fn policy(self) -> workboard_native::EraPolicy {
        match self {
            EraArg::Auto => workboard_native::EraPolicy::Auto,
            EraArg::Modern => workboard_native::EraPolicy::Modern,
            EraArg::Legacy => workboard_native::EraPolicy::Legacy,
        }
    }
}

// Parsed once per process: the size of the largest variant (login's options) costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the whole flow against an embedded simulator on 127.0.0.1: v1 consent and code
    /// exchange, MCP connect, list tools, call a tool, REST goal, revoke.
    Demo,
    /// Sign in with OAuth (WorkBoard v1 or MCP OAuth 2.1) and store the credentials.
    Login(LoginArgs),
    /// Manage a personal token.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Show what is stored (never the token itself).
    Status,
    /// List the MCP server's tools.
    Tools,
    /// Call an MCP tool.
    Call {
        /// Tool name.
        name: String,
        /// Arguments as a JSON object.
        #[arg(long, default_value = "{}")]
        args: String,
        /// Answers to a form the server may ask for (elicitation): a JSON object of field
        /// values (the schema's defaults fill the rest), or a whole answer
        /// (`{"action": "decline"}`). Without it, a form is asked in the terminal.
        #[arg(long)]
        input: Option<PathBuf>,
    },
    /// List the MCP server's resources (and resource templates).
    Resources,
    /// Read an MCP resource.
    Read {
        /// Resource URI (from `resources`).
        uri: String,
    },
    /// List the MCP server's prompts.
    Prompts,
    /// Subscribe to change notifications and print them as they arrive (one JSON object per
    /// line with --json), until the server ends the subscription, --count is reached, or
    /// Ctrl-C.
    Listen {
        /// Tool list changes.
        #[arg(long)]
        tools: bool,
        /// Prompt list changes.
        #[arg(long)]
        prompts: bool,
        /// Resource list changes.
        #[arg(long)]
        resources: bool,
        /// Updates of this resource (repeatable).
        #[arg(long = "resource")]
        resource: Vec<String>,
        /// Stop after this many notifications (the server's acknowledgment not counted).
        #[arg(long)]
        count: Option<u64>,
    },
    /// Get an MCP prompt with its arguments.
    Prompt {
        /// Prompt name.
        name: String,
        /// Arguments as a JSON object of strings.
        #[arg(long, default_value = "{}")]
        args: String,
    },
    /// Completion suggestions for a prompt argument or a resource template variable.
    Complete {
        /// `prompt:NAME` or `resource:URI_TEMPLATE`.
        reference: String,
        /// The argument (or template variable) to complete.
        argument: String,
        /// What was typed so far.
        #[arg(default_value = "")]
        value: String,
    },
    /// GET a WorkBoard REST resource (`goal/123`, `user`, or `/wb/goal/123`).
    Rest {
        /// Path under /wb/apis, or an absolute /wb/... path.
        path: String,
    },
    /// Revoke the stored OAuth token (when possible), then forget the credentials.
    Logout,
    /// Generate or lint AI-client configurations.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Probe the server and map each failure to the troubleshooting table.
    Doctor {
        /// The AI client to check for (claude-desktop, claude-code, codex, cursor, gemini,
        /// vscode, windsurf, zed, generic).
        #[arg(long)]
        client: Option<String>,
        /// How that client connects (`bridge`, `http`, `mcp-remote`; default: the client's
        /// default form). Node.js is checked only for `mcp-remote` (`npx`).
        #[arg(long)]
        form: Option<String>,
    },
    /// Serve MCP on stdio for an AI client (Claude Desktop, ...), forwarding to the MCP
    /// server with the stored credentials: `"command": "workboard", "args": ["bridge"]`.
    /// stdout carries protocol messages only; logs go to stderr.
    Bridge {
        /// A header for the server, as mcp-remote takes it: `Authorization: Bearer ${VAR}`
        /// (or `Authorization:${VAR}`), the variable read from the environment so the token
        /// is not on the command line. Used instead of the stored credentials. Only
        /// Authorization is taken.
        #[arg(long)]
        header: Vec<String>,
    },
    /// Run the WorkBoard simulator until interrupted.
    Sim(SimArgs),
}

#[derive(Debug, Args)]
pub struct LoginArgs {
    /// `v1` (WorkBoard OAuth, needs the client hash), `mcp` (OAuth 2.1 discovery, browser)
    /// or `client-credentials` (a service's own credentials, no browser: needs --client-id
    /// and --client-secret-env or --private-key).
    #[arg(long, default_value = "v1")]
    pub flow: String,
    /// The name of the environment variable holding the client secret (the secret itself
    /// never goes on the command line). `--flow client-credentials`: the service's secret.
    /// `--flow mcp`: a pre-registered client's secret given for this server, which may then
    /// also go to a token endpoint on the server's host (WORKBOARD_CLIENT_HASH goes only to
    /// WorkBoard's).
    #[arg(long, value_name = "VAR")]
    pub client_secret_env: Option<String>,
    /// `--flow client-credentials`: a PEM private key file (P-256 or RSA) that signs the
    /// client assertion (private_key_jwt, RFC 7523).
    #[arg(long, value_name = "FILE")]
    pub private_key: Option<PathBuf>,
    /// `--flow client-credentials`: `basic` (default with a secret), `post`, or
    /// `private_key_jwt` (default with --private-key).
    #[arg(long, value_name = "METHOD")]
    pub auth_method: Option<String>,
    /// Client ID from WorkBoard → Settings → Custom Integrations → App.
    #[arg(long, env = "WORKBOARD_CLIENT_ID")]
    pub client_id: Option<String>,
    /// Read the client hash (secret) from this file; default: the WORKBOARD_CLIENT_HASH
    /// environment variable, else stdin. Never from the command line.
    #[arg(long)]
    pub client_hash_file: Option<PathBuf>,
    /// `--flow mcp`: the token endpoint the client hash belongs to when it is not
    /// WorkBoard's. Without it, the hash goes only to WorkBoard's token endpoints.
    /// `--flow client-credentials`: the token endpoint the client secret belongs to when it
    /// is on another host than the server.
    #[arg(long)]
    pub client_hash_for: Option<String>,
    /// `--flow mcp`: the https URL of this client's ID metadata document (CIMD). Used as the
    /// client_id where the authorization server advertises
    /// `client_id_metadata_document_supported` (preferred over dynamic registration; a
    /// `--client-id` still comes first).
    #[arg(long, env = "WORKBOARD_CLIENT_METADATA_URL")]
    pub client_metadata_url: Option<String>,
    /// Redirect URI registered for the app (must match exactly); a loopback URI is served by
    /// this command.
    #[arg(long, default_value = "http://127.0.0.1:8765/callback")]
    pub redirect_uri: String,
    /// Scopes (comma-separated for v1; space-separated for --flow client-credentials; with
    /// --flow mcp they come from the server).
    #[arg(long)]
    pub scope: Option<String>,
    /// Don't open a browser: follow an auto-approving server's redirect directly (CI, tests).
    #[arg(long)]
    pub headless: bool,
    /// Print the authorization URL instead of opening a browser.
    #[arg(long)]
    pub no_browser: bool,
    /// Seconds to wait for the browser redirect.
    #[arg(long, default_value_t = 300)]
    pub timeout: u64,
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Store a personal token read from stdin (or --file). Never from the command line.
    Set {
        /// Read the token from this file instead of stdin.
        #[arg(long)]
        file: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Claude Desktop (`workboard bridge`; `--form mcp-remote`: `npx mcp-remote` with an
    /// Authorization header).
    ClaudeDesktop(GenArgs),
    /// Claude Code (`.mcp.json`; the `claude mcp add` command is printed on stderr).
    ClaudeCode(GenArgs),
    /// OpenAI Codex CLI (`~/.codex/config.toml`).
    Codex(GenArgs),
    /// Cursor (`url` + `headers`).
    Cursor(GenArgs),
    /// Gemini CLI (`~/.gemini/settings.json`).
    Gemini(GenArgs),
    /// VS Code (`.vscode/mcp.json`).
    Vscode(GenArgs),
    /// Windsurf (`~/.codeium/windsurf/mcp_config.json`).
    Windsurf(GenArgs),
    /// Zed (`settings.json`, `context_servers`).
    Zed(GenArgs),
    /// Any other MCP client (`type: http`).
    Generic(GenArgs),
    /// Check a config file: header spelling, Bearer, host, path, redirect URI.
    Lint {
        /// The config file.
        file: PathBuf,
    },
}

#[derive(Debug, Args)]
pub struct GenArgs {
    /// How the client connects: `bridge` (runs `workboard bridge`: no token in the file,
    /// the CLI's sign-in and refresh; the default for Claude Desktop, Claude Code, Codex,
    /// Gemini, Windsurf and Zed), `http` (the client sends the token itself; the default for
    /// Cursor, VS Code and generic) or `mcp-remote` (Claude Desktop through `npx`, needs
    /// Node.js).
    #[arg(long)]
    pub form: Option<String>,
    /// Put the stored personal token in the config instead of the YOUR_WB_TOKEN placeholder
    /// (only a token set for this server: it is never written into another server's config).
    #[arg(long)]
    pub with_stored_token: bool,
    /// Merge into this existing config file (other servers are kept), printing the result.
    #[arg(long)]
    pub merge: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct SimArgs {
    /// Port on 127.0.0.1 (0 = any free port).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// Approve consent automatically (no page).
    #[arg(long)]
    pub auto_approve: bool,
}

/// Resolved global options shared by commands.
pub struct Ctx {
    pub environment: Environment,
    pub mcp_url: String,
    /// `--server`, when given.
    pub server_override: Option<String>,
    pub store: Arc<dyn CredentialStore>,
    /// The same store through the shared-store contract: clients refresh and sign in through
    /// its lease, once for every `workboard` process of the machine.
    pub shared: Arc<dyn SharedStore + Send + Sync>,
    pub store_path: PathBuf,
    /// `file` or `keychain`, where it keeps the data, and why the keychain was not used.
    pub store_kind: &'static str,
    pub store_location: String,
    pub store_fallback: Option<String>,
    pub json: bool,
    pub quiet: bool,
    pub era: EraArg,
    pub step_up: StepUpArg,
}

use workboard_native::store::keys::{
    AUTH_CONTEXT as KEY_AUTH_CONTEXT, CREDENTIALS as KEY_CREDENTIALS, SESSION as KEY_SESSION,
};

impl Ctx {
    fn new(cli: &Cli) -> Result<Ctx, CliError> {
        let environment = Environment::parse(&cli.env)?;
        let mcp_url = match &cli.server {
            Some(s) => {
                let url = url::Url::parse(s).map_err(|e| {
                    CliError::usage(
                        format!("invalid --server URL: {e}"),
                        Some(
                            "Pass an absolute URL such as https://www.myworkboard.com/wb/mcp"
                                .into(),
                        ),
                    )
                })?;
                workboard_core::env::check_secure_url(&url, "MCP server URL")?;
                s.clone()
            }
            None => environment.mcp_url(),
        };
        let store_path = cli.store.clone().unwrap_or_else(FileStore::default_path);
        let choice = match (&cli.store, cli.store_backend) {
            (Some(_), _) | (None, StoreBackendArg::File) => {
                StoreChoice::file(FileStore::new(store_path.clone()), None)
            }
            (None, StoreBackendArg::Auto) => workboard_native::keychain_or_file(&store_path),
            (None, StoreBackendArg::Keychain) => {
                workboard_native::KeychainStore::probe()?;
                let meta = store_path.with_file_name("keychain.json");
                StoreChoice::keychain(workboard_native::KeychainStore::new("default", meta)?)
            }
        };
        Ok(Ctx {
            environment,
            mcp_url,
            server_override: cli.server.clone(),
            store: choice.store,
            shared: choice.shared,
            store_path,
            store_kind: choice.kind,
            store_location: choice.location,
            store_fallback: choice.fallback,
            json: cli.json,
            quiet: cli.quiet || cli.json,
            era: cli.era,
            step_up: cli.step_up,
        })
    }

    /// The stored credentials. Credentials stored before bindings existed are taken as
    /// bound to this environment (or to their stored OAuth context's resource): the core's
    /// [`Credentials::or_bound_to_environment`].
    pub fn load_credentials(&self) -> Result<Option<Credentials>, CliError> {
        let Some(s) = self.store.load(KEY_CREDENTIALS)? else {
            return Ok(None);
        };
        let creds = Credentials::from_json(&s)?;
        if creds.bound_to().is_some() {
            return Ok(Some(creds));
        }
        let auth = self
            .store
            .load(KEY_AUTH_CONTEXT)?
            .and_then(|j| workboard_core::oauth::flow::AuthContext::from_json(&j).ok());
        Ok(Some(
            creds.or_bound_to_environment(&self.environment, auth.as_ref()),
        ))
    }

    /// `--server` (or the environment's MCP URL) for output: user info and secret query
    /// values redacted.
    pub fn shown_url(&self) -> String {
        workboard_core::http::redact_url(&self.mcp_url)
    }

    /// Prints a result that may also be a failure (findings, a tool error): without a
    /// failure as [`Ctx::print`]; with one, `--json` prints a single line
    /// `{"ok":false,"error":..,"result":..}` and the human form prints the text, then the
    /// error on stderr.
    pub fn finish(
        &self,
        json: serde_json::Value,
        human: impl FnOnce() -> String,
        failure: Option<CliError>,
    ) -> Result<(), CliError> {
        let Some(failure) = failure else {
            self.print(json, human);
            return Ok(());
        };
        if self.json {
            return Err(failure.with_result(json));
        }
        crate::outln!("{}", human());
        Err(failure)
    }

    /// Prints a result: JSON when --json, else the human text.
    pub fn print(&self, json: serde_json::Value, human: impl FnOnce() -> String) {
        if self.json {
            crate::outln!("{}", serde_json::json!({ "ok": true, "result": json }));
        } else {
            crate::outln!("{}", human());
        }
    }
}

pub async fn run(cli: Cli) -> Result<(), CliError> {
    let ctx = Ctx::new(&cli)?;
    match cli.command {
        Command::Token(TokenCommand::Set { file }) => token_set(&ctx, file),
        Command::Status => status(&ctx),
        Command::Config(cmd) => crate::cmd_config::run(&ctx, cmd).await,
        Command::Doctor { client, form } => {
            crate::cmd_doctor::run(&ctx, client.as_deref(), form.as_deref()).await
        }
        Command::Tools => crate::cmd_mcp::tools(&ctx).await,
        Command::Call { name, args, input } => {
            crate::cmd_mcp::call(&ctx, &name, &args, input.as_deref()).await
        }
        Command::Resources => crate::cmd_mcp::resources(&ctx).await,
        Command::Read { uri } => crate::cmd_mcp::read(&ctx, &uri).await,
        Command::Prompts => crate::cmd_mcp::prompts(&ctx).await,
        Command::Listen {
            tools,
            prompts,
            resources,
            resource,
            count,
        } => {
            let filter = workboard_native::workboard_client::SubscriptionFilter {
                tools_list_changed: tools,
                prompts_list_changed: prompts,
                resources_list_changed: resources,
                resource_subscriptions: resource,
            };
            crate::cmd_mcp::listen(&ctx, filter, count).await
        }
        Command::Prompt { name, args } => crate::cmd_mcp::prompt(&ctx, &name, &args).await,
        Command::Complete {
            reference,
            argument,
            value,
        } => crate::cmd_mcp::complete(&ctx, &reference, &argument, &value).await,
        Command::Rest { path } => crate::cmd_mcp::rest(&ctx, &path).await,
        Command::Login(args) => crate::cmd_auth::login(&ctx, args).await,
        Command::Logout => crate::cmd_auth::logout(&ctx).await,
        Command::Demo => crate::cmd_demo::run(&ctx).await,
        Command::Bridge { header } => crate::cmd_bridge::run(ctx, header).await,
        Command::Sim(args) => crate::cmd_demo::sim(&ctx, args).await,
    }
}

fn read_secret_input(file: Option<&PathBuf>, what: &str) -> Result<String, CliError> {
    let raw = match file {
        Some(p) => std::fs::read_to_string(p).map_err(|e| {
            CliError::usage(
                format!("cannot read {what} from {}: {e}", p.display()),
                None,
            )
        })?,
        None => {
            use std::io::Read;
            let mut s = String::new();
            std::io::stdin()
                .take(64 * 1024)
                .read_to_string(&mut s)
                .map_err(|e| {
                    CliError::usage(format!("cannot read {what} from stdin: {e}"), None)
                })?;
            s
        }
    };
    let t = raw.trim().to_string();
    if t.is_empty() {
        return Err(CliError::usage(
            format!("no {what} given"),
            Some(format!(
                "Pipe the {what} on stdin (e.g. `pbpaste | workboard token set`) or pass --file."
            )),
        ));
    }
    if t.chars().any(char::is_whitespace) && !t.to_ascii_lowercase().starts_with("bearer ") {
        return Err(CliError::usage(
            format!("the {what} contains whitespace"),
            Some("Copy the token exactly as WorkBoard shows it, on one line.".into()),
        ));
    }
    Ok(t)
}

fn token_set(ctx: &Ctx, file: Option<PathBuf>) -> Result<(), CliError> {
    let token = read_secret_input(file.as_ref(), "personal token")?;
    // Bound to the server it is set for: never sent to another one.
    let creds = Credentials::personal(token).bind_to(&ctx.mcp_url)?;
    ctx.store.save(KEY_CREDENTIALS, &creds.to_json())?;
    ctx.store.remove(KEY_AUTH_CONTEXT)?;
    ctx.store.remove(KEY_SESSION)?;
    ctx.print(
        serde_json::json!({ "stored": "personal_token", "store": ctx.store_location, "store_kind": ctx.store_kind, "bound_to": creds.bound_to() }),
        || {
            format!(
                "Personal token stored in {}{}, for {}.",
                ctx.store_location,
                if ctx.store_kind == "file" { " (mode 0600)" } else { "" },
                creds.bound_to().unwrap_or_default()
            )
        },
    );
    Ok(())
}

fn status(ctx: &Ctx) -> Result<(), CliError> {
    let creds = ctx.load_credentials()?;
    let now = workboard_core::Clock::now_ms(&workboard_native::SystemClock);
    let (kind, detail) = match &creds {
        None => ("none", serde_json::json!(null)),
        Some(Credentials::Personal { .. }) => ("personal_token", serde_json::json!(null)),
        Some(Credentials::OAuth(set)) => (
            "oauth",
            serde_json::json!({
                "dialect": set.dialect,
                "scope": set.scope,
                "expires_at_ms": set.expires_at_ms,
                "expired": creds.as_ref().is_some_and(|c| c.is_expired(now)),
                "has_refresh_token": set.refresh_token.is_some(),
            }),
        ),
    };
    let shown = ctx.shown_url();
    let bound_to = creds
        .as_ref()
        .and_then(|c| c.bound_to().map(str::to_string));
    let usable = creds.as_ref().map(|c| c.check_server(&ctx.mcp_url).is_ok());
    ctx.print(
        serde_json::json!({ "credentials": kind, "oauth": detail, "mcp_url": shown, "bound_to": bound_to, "usable_for_server": usable, "store": ctx.store_location, "store_kind": ctx.store_kind, "store_fallback": ctx.store_fallback, "store_coordination": ctx.shared.coordination().as_str() }),
        || match &creds {
            None => format!("Not signed in. MCP server: {shown}\nStore: {}", store_line(ctx)),
            Some(c) => format!(
                "Signed in with {}{}.\nCredentials for: {}{}\nMCP server: {shown}\nStore: {}",
                kind.replace('_', " "),
                match c.expires_at_ms() {
                    Some(e) if e <= now => " (EXPIRED)".to_string(),
                    Some(e) => format!(", expires in {}", human_duration(e - now)),
                    None => String::new(),
                },
                c.bound_to().unwrap_or("any server"),
                if usable == Some(false) {
                    " (not this MCP server: they are not sent to it)"
                } else {
                    ""
                },
                store_line(ctx)
            ),
        },
    );
    Ok(())
}

/// `file /path` or `keychain ...`, why not the keychain when it fell back, and how far the
/// store coordinates refreshes and sign-ins.
fn store_line(ctx: &Ctx) -> String {
    use workboard_native::workboard_client::store::Coordination;
    let mut line = format!("{} {}", ctx.store_kind, ctx.store_location);
    if let Some(why) = &ctx.store_fallback {
        line.push_str(&format!(" ({why})"));
    }
    line.push_str(match ctx.shared.coordination() {
        Coordination::Process => "\nShared: within this process only",
        Coordination::Machine => "\nShared: by every workboard process of this machine (commands, bridges): one refresh and one sign-in at a time",
        Coordination::Distributed => "\nShared: by every process that reaches the store: one refresh and one sign-in at a time",
    });
    line
}

/// `3 days`, `5 hours`, `12 minutes`, `40 seconds`.
fn human_duration(ms: u64) -> String {
    let s = ms / 1000;
    let (n, unit) = match s {
        0..=119 => (s, "second"),
        120..=7_199 => (s / 60, "minute"),
        7_200..=172_799 => (s / 3600, "hour"),
        _ => (s / 86_400, "day"),
    };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

#[cfg(test)]
mod tests {
    use super::human_duration;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(human_duration(1_000), "1 second");
        assert_eq!(human_duration(90_000), "90 seconds");
        assert_eq!(human_duration(3_600_000), "60 minutes");
        assert_eq!(human_duration(5 * 3_600_000), "5 hours");
        assert_eq!(human_duration(365 * 86_400_000), "365 days");
    }
}
