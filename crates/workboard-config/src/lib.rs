//! # workboard-config
//!
//! What a WorkBoard user's AI client needs around the connection itself, as pure functions
//! and one sans-IO machine on top of `workboard-core` (no I/O, no clock, no OS randomness,
//! no tokio or reqwest: the CLI reads and writes the files and runs the probes).
//!
//! - AI-client configuration files (this module): [`generate`] writes the configuration block
//!   for Claude Desktop (`npx mcp-remote` with `"--header", "Authorization:${AUTH_HEADER}"` in
//!   `args` and the `Bearer` value in `env`, so the token is never on a command line), Cursor,
//!   VS Code (`.vscode/mcp.json`, with a `promptString` password input by default so the token
//!   is not written into the file) or any other MCP client (`type: http`). The header is
//!   always spelled `Authorization` (the seed's Cursor snippet says `Authorisation`, a header
//!   no server reads: such configs fail with 401). [`merge_into`] adds or replaces the
//!   WorkBoard entry of an existing file and keeps every other server and top-level key.
//! - [`lint()`](lint::lint) finds the mistakes that make a connection fail (see [`lint`]).
//! - [`jsonc`] reads the files (JSON, or JSON with comments and trailing commas as VS Code
//!   writes them).
//! - [`diagnose`]: the seed's troubleshooting table, automated — the sans-IO
//!   [`diagnose::Doctor`] probes an MCP server and maps what it observed to rows of the table.
//!
//! Errors are the core's [`workboard_core::Error`] (`invalid_config_json`, `invalid_config`,
//! `invalid_input`, `invalid_url`, `insecure_url`), so codes, kinds and hints are the same
//! on every surface.
//!
//! ```
//! use workboard_config::{generate, lint::lint, AiClient, ConfigParams};
//! use workboard_core::Environment;
//!
//! let params = ConfigParams::for_environment(&Environment::Eu);
//! let text = generate(AiClient::Cursor, &params).unwrap();
//! assert!(text.contains("\"Authorization\": \"Bearer YOUR_WB_TOKEN\""));
//! assert!(text.contains("https://www.myworkboard.eu/wb/mcp"));
//! // The only finding on a fresh template: the placeholder is still there.
//! let findings = lint(&text).unwrap();
//! assert_eq!(findings.len(), 1);
//! assert_eq!(findings[0].code, "token_placeholder");
//! ```

pub mod diagnose;
pub mod jsonc;
pub mod lint;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use workboard_core::env::{check_secure_url, Environment};
use workboard_core::Error;
use workboard_core::SecretString;

/// The placeholder the seed uses for the personal token.
pub const TOKEN_PLACEHOLDER: &str = "YOUR_WB_TOKEN";
/// Default name of the server entry.
pub const DEFAULT_SERVER_NAME: &str = "workboard";
/// Id of the VS Code `promptString` input holding the token.
pub const VSCODE_INPUT_ID: &str = "workboard-token";
/// The environment variable that carries the `Authorization` value for `npx mcp-remote`
/// (Claude Desktop): the token goes in the entry's `env`, never in `args` (a process's
/// command line is readable by every local process).
pub const AUTH_HEADER_ENV: &str = "AUTH_HEADER";
/// The Claude Desktop `--header` argument: mcp-remote's documented form, with no space after
/// the colon (spaces inside `args` are mangled by `npx` on Windows).
pub const AUTH_HEADER_ARG: &str = "Authorization:${AUTH_HEADER}";
/// The redirect URI Claude uses for custom connectors (register exactly this in WorkBoard).
pub const CLAUDE_REDIRECT_URI: &str = "https://claude.ai/api/mcp/auth_callback";

/// The environment variable an HTTP-form config reads the token from, where the client
/// interpolates variables (Claude Code, Codex, Gemini CLI, Windsurf).
pub const TOKEN_ENV: &str = "WORKBOARD_TOKEN";
/// The command that runs the bridge (`workboard bridge`).
pub const BRIDGE_COMMAND: &str = "workboard";

/// An AI client whose configuration format this module knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AiClient {
    /// Claude Desktop: `claude_desktop_config.json`; `workboard bridge` (default) or
    /// `npx -y mcp-remote <url> --header ...`.
    ClaudeDesktop,
    /// Cursor: `mcpServers.<name>.url` + `headers`.
    Cursor,
    /// VS Code: `.vscode/mcp.json` with `servers` and `inputs`.
    VsCode,
    /// Any other MCP client: `mcpServers.<name>` with `type: http`.
    Generic,
    /// Claude Code: `.mcp.json` (project) or `claude mcp add` ([`claude_code_command`]).
    ClaudeCode,
    /// OpenAI Codex CLI: `~/.codex/config.toml`, `[mcp_servers.<name>]` (TOML).
    Codex,
    /// Gemini CLI: `~/.gemini/settings.json`, `mcpServers` (`httpUrl` for HTTP).
    Gemini,
    /// Windsurf: `~/.codeium/windsurf/mcp_config.json`, `mcpServers` (`serverUrl` for HTTP).
    Windsurf,
    /// Zed: `settings.json`, `context_servers`.
    Zed,
}

/// How an AI client reaches the MCP server.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConfigForm {
    /// `workboard bridge` on stdio: nothing secret in the file (the CLI's store holds the
    /// sign-in: a personal token, or OAuth refreshed once for every copy); no Node.js.
    Bridge,
    /// The client speaks Streamable HTTP itself, with an `Authorization` header.
    Http,
    /// `npx -y mcp-remote <url>` (Claude Desktop's older form): needs Node.js 18+.
    McpRemote,
}

impl ConfigForm {
    /// Parses `bridge`, `http` or `mcp-remote`, case-insensitively.
    pub fn parse(name: &str) -> Result<ConfigForm, Error> {
        match name.trim().to_ascii_lowercase().replace('_', "-").as_str() {
            "bridge" | "stdio" => Ok(ConfigForm::Bridge),
            "http" | "url" => Ok(ConfigForm::Http),
            "mcp-remote" | "npx" => Ok(ConfigForm::McpRemote),
            _ => Err(Error::InvalidInput {
                what: "config form".into(),
                reason: "unknown form (expected bridge, http or mcp-remote)".into(),
            }),
        }
    }

    /// Whether this form runs Node.js (the troubleshooting table's Node.js row applies).
    pub fn needs_node(self) -> bool {
        self == ConfigForm::McpRemote
    }

    /// Stable short name.
    pub fn name(self) -> &'static str {
        match self {
            ConfigForm::Bridge => "bridge",
            ConfigForm::Http => "http",
            ConfigForm::McpRemote => "mcp-remote",
        }
    }
}

impl AiClient {
    /// Every client, in display order.
    pub const ALL: [AiClient; 9] = [
        AiClient::ClaudeDesktop,
        AiClient::Cursor,
        AiClient::VsCode,
        AiClient::Generic,
        AiClient::ClaudeCode,
        AiClient::Codex,
        AiClient::Gemini,
        AiClient::Windsurf,
        AiClient::Zed,
    ];

    /// The form [`generate`] writes unless told otherwise: the bridge for the clients this
    /// SDK's bridge serves best (no token in the file, one refresh for all), HTTP for Cursor,
    /// VS Code and generic clients (as the seed shows them).
    pub fn default_form(&self) -> ConfigForm {
        match self {
            AiClient::Cursor | AiClient::VsCode | AiClient::Generic => ConfigForm::Http,
            _ => ConfigForm::Bridge,
        }
    }

    /// Whether this client can use `form` (mcp-remote is Claude Desktop's only).
    pub fn supports(&self, form: ConfigForm) -> bool {
        form != ConfigForm::McpRemote || *self == AiClient::ClaudeDesktop
    }

    /// How this client reads an environment variable in an HTTP header value, if it does:
    /// the `Authorization` value written for [`ConfigToken::Env`].
    fn env_reference(&self, var: &str) -> Option<String> {
        match self {
            AiClient::ClaudeCode => Some(format!("${{{var}}}")),
            AiClient::Gemini => Some(format!("${var}")),
            AiClient::Windsurf => Some(format!("${{env:{var}}}")),
            AiClient::Codex => Some(var.to_string()),
            _ => None,
        }
    }

    /// Whether the config file is TOML (Codex) rather than JSON.
    pub fn is_toml(&self) -> bool {
        *self == AiClient::Codex
    }

    /// Parses a client name (`claude`, `claude-desktop`, `cursor`, `vscode`, `vs-code`,
    /// `code`, `generic`, `other`), case-insensitively.
    pub fn parse(name: &str) -> Result<AiClient, Error> {
        let n = name.trim().to_ascii_lowercase().replace(['_', ' '], "-");
        Ok(match n.as_str() {
            "claude" | "claude-desktop" | "claudedesktop" => AiClient::ClaudeDesktop,
            "cursor" => AiClient::Cursor,
            "vscode" | "vs-code" | "code" => AiClient::VsCode,
            "generic" | "other" | "http" => AiClient::Generic,
            "claude-code" | "claudecode" => AiClient::ClaudeCode,
            "codex" | "codex-cli" => AiClient::Codex,
            "gemini" | "gemini-cli" => AiClient::Gemini,
            "windsurf" => AiClient::Windsurf,
            "zed" => AiClient::Zed,
            _ => {
                return Err(Error::InvalidInput {
                    what: "AI client".into(),
                    // Not echoed: the argument may be anything, a token pasted in the
                    // wrong place included.
                    reason: "unknown client (expected claude-desktop, claude-code, codex, cursor, gemini, vscode, windsurf, zed or generic)"
                        .into(),
                });
            }
        })
    }

    /// Stable short name (`claude-desktop`, `cursor`, `vscode`, `generic`, `claude-code`,
    /// `codex`, `gemini`, `windsurf`, `zed`).
    pub fn name(&self) -> &'static str {
        match self {
            AiClient::ClaudeDesktop => "claude-desktop",
            AiClient::Cursor => "cursor",
            AiClient::VsCode => "vscode",
            AiClient::Generic => "generic",
            AiClient::ClaudeCode => "claude-code",
            AiClient::Codex => "codex",
            AiClient::Gemini => "gemini",
            AiClient::Windsurf => "windsurf",
            AiClient::Zed => "zed",
        }
    }

    /// Where this client's config file usually lives, per OS, as data (no I/O).
    pub fn config_locations(&self) -> Vec<ConfigLocation> {
        let loc = |os: Os, path: &'static str| ConfigLocation { os, path };
        match self {
            AiClient::ClaudeDesktop => vec![
                loc(
                    Os::MacOs,
                    "~/Library/Application Support/Claude/claude_desktop_config.json",
                ),
                loc(Os::Windows, "%APPDATA%\\Claude\\claude_desktop_config.json"),
                loc(Os::Linux, "~/.config/Claude/claude_desktop_config.json"),
            ],
            AiClient::Cursor => vec![
                loc(Os::MacOs, "~/.cursor/mcp.json"),
                loc(Os::Windows, "%USERPROFILE%\\.cursor\\mcp.json"),
                loc(Os::Linux, "~/.cursor/mcp.json"),
            ],
            AiClient::VsCode => vec![
                loc(Os::MacOs, ".vscode/mcp.json"),
                loc(Os::Windows, ".vscode\\mcp.json"),
                loc(Os::Linux, ".vscode/mcp.json"),
            ],
            AiClient::Generic => Vec::new(),
            AiClient::ClaudeCode => vec![
                loc(Os::MacOs, ".mcp.json"),
                loc(Os::Windows, ".mcp.json"),
                loc(Os::Linux, ".mcp.json"),
            ],
            AiClient::Codex => vec![
                loc(Os::MacOs, "~/.codex/config.toml"),
                loc(Os::Windows, "%USERPROFILE%\\.codex\\config.toml"),
                loc(Os::Linux, "~/.codex/config.toml"),
            ],
            AiClient::Gemini => vec![
                loc(Os::MacOs, "~/.gemini/settings.json"),
                loc(Os::Windows, "%USERPROFILE%\\.gemini\\settings.json"),
                loc(Os::Linux, "~/.gemini/settings.json"),
            ],
            AiClient::Windsurf => vec![
                loc(Os::MacOs, "~/.codeium/windsurf/mcp_config.json"),
                loc(
                    Os::Windows,
                    "%USERPROFILE%\\.codeium\\windsurf\\mcp_config.json",
                ),
                loc(Os::Linux, "~/.codeium/windsurf/mcp_config.json"),
            ],
            AiClient::Zed => vec![
                loc(Os::MacOs, "~/.config/zed/settings.json"),
                loc(Os::Windows, "%APPDATA%\\Zed\\settings.json"),
                loc(Os::Linux, "~/.config/zed/settings.json"),
            ],
        }
    }

    /// The default config path on `os`, if this client has one.
    pub fn default_path(&self, os: Os) -> Option<&'static str> {
        self.config_locations()
            .into_iter()
            .find(|l| l.os == os)
            .map(|l| l.path)
    }

    /// The key holding the server map: `servers` for VS Code, `context_servers` for Zed,
    /// `mcp_servers` for Codex (a TOML table), `mcpServers` otherwise.
    pub fn servers_key(&self) -> &'static str {
        match self {
            AiClient::VsCode => "servers",
            AiClient::Zed => "context_servers",
            AiClient::Codex => "mcp_servers",
            _ => "mcpServers",
        }
    }
}

/// An operating system, for [`AiClient::config_locations`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Os {
    /// macOS.
    MacOs,
    /// Windows.
    Windows,
    /// Linux and other Unix desktops.
    Linux,
}

/// A config file's usual path on one OS (`~` = home; `%VAR%` = Windows environment variable;
/// relative paths are relative to the project folder).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct ConfigLocation {
    /// The OS.
    pub os: Os,
    /// The path, unexpanded.
    pub path: &'static str,
}

/// Which token goes into the generated file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum ConfigToken {
    /// `YOUR_WB_TOKEN`, to be replaced by hand.
    Placeholder,
    /// A real token, written into the file.
    Token(SecretString),
    /// VS Code only: a `promptString` password input; VS Code asks once and stores it
    /// securely, so the token is never written into the file.
    Prompt,
    /// An environment variable the client reads (Claude Code `${VAR}`, Gemini CLI `$VAR`,
    /// Windsurf `${env:VAR}`, Codex `bearer_token_env_var`), so the token is never written
    /// into the file.
    Env(String),
}

/// What [`generate`] and [`merge_into`] need.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigParams {
    /// The MCP endpoint (e.g. `https://www.myworkboard.com/wb/mcp`).
    pub server_url: String,
    /// The token; `None` = the client's default ([`ConfigToken::Prompt`] for VS Code,
    /// [`ConfigToken::Placeholder`] for the others).
    pub token: Option<ConfigToken>,
    /// Name of the server entry (default `workboard`).
    pub server_name: String,
    /// The form; `None` = the client's default ([`AiClient::default_form`]).
    #[serde(default)]
    pub form: Option<ConfigForm>,
}

impl ConfigParams {
    /// Parameters for the MCP endpoint of `env`, default token and name.
    pub fn for_environment(env: &Environment) -> ConfigParams {
        ConfigParams {
            server_url: env.mcp_url(),
            token: None,
            server_name: DEFAULT_SERVER_NAME.into(),
            form: None,
        }
    }

    /// Parameters for any MCP server URL (checked when generating).
    pub fn for_url(server_url: impl Into<String>) -> ConfigParams {
        ConfigParams {
            server_url: server_url.into(),
            token: None,
            server_name: DEFAULT_SERVER_NAME.into(),
            form: None,
        }
    }

    /// With a real token written into the file.
    pub fn with_token(mut self, token: SecretString) -> ConfigParams {
        self.token = Some(ConfigToken::Token(token));
        self
    }

    /// With an explicit token choice.
    pub fn with_token_choice(mut self, token: ConfigToken) -> ConfigParams {
        self.token = Some(token);
        self
    }

    /// With a form ([`ConfigForm`]).
    pub fn with_form(mut self, form: ConfigForm) -> ConfigParams {
        self.form = Some(form);
        self
    }

    /// The form for `client`.
    pub fn form_for(&self, client: AiClient) -> ConfigForm {
        self.form.unwrap_or_else(|| client.default_form())
    }

    /// With another entry name.
    pub fn with_server_name(mut self, name: impl Into<String>) -> ConfigParams {
        self.server_name = name.into();
        self
    }

    fn token_for(&self, client: AiClient) -> ConfigToken {
        match &self.token {
            Some(t) => t.clone(),
            None if client == AiClient::VsCode => ConfigToken::Prompt,
            None if client.env_reference(TOKEN_ENV).is_some() => {
                ConfigToken::Env(TOKEN_ENV.to_string())
            }
            None => ConfigToken::Placeholder,
        }
    }
}

/// The configuration file for `client` (pretty JSON, two-space indent, trailing newline;
/// TOML for Codex).
pub fn generate(client: AiClient, params: &ConfigParams) -> Result<String, Error> {
    if client.is_toml() {
        return toml_config::merge("", params);
    }
    let (entry, inputs) = entry(client, params)?;
    let mut servers = Map::new();
    servers.insert(params.server_name.clone(), entry);
    let mut root = Map::new();
    if let Some(inputs) = inputs {
        root.insert("inputs".into(), Value::Array(vec![inputs]));
    }
    root.insert(client.servers_key().into(), Value::Object(servers));
    Ok(to_pretty(&Value::Object(root)))
}

/// Adds (or replaces) the WorkBoard entry in an existing config file for `client`, keeping
/// every other server and top-level key. An empty (or whitespace-only) `existing` is treated
/// as `{}`. JSONC comments and trailing commas are accepted on input (and dropped on output).
/// Keys are written in sorted order (serde_json without `preserve_order`), so a merged file
/// may list its keys in another order than before; values are unchanged.
///
/// Errors: [`Error::ConfigSyntax`] (with line and column) on invalid JSON,
/// [`Error::Config`] when the root or the server map is not an object.
pub fn merge_into(
    existing: &str,
    client: AiClient,
    params: &ConfigParams,
) -> Result<String, Error> {
    if client.is_toml() {
        return toml_config::merge(existing, params);
    }
    let (entry, input) = entry(client, params)?;
    let mut root = if existing.trim().is_empty() {
        Map::new()
    } else {
        match jsonc::parse(existing)? {
            Value::Object(m) => m,
            other => {
                return Err(Error::Config {
                    reason: format!(
                        "the file's root must be a JSON object, not {}",
                        kind_of(&other)
                    ),
                })
            }
        }
    };
    let key = client.servers_key();
    let servers = root
        .entry(key.to_string())
        .or_insert_with(|| Value::Object(Map::new()));
    let Value::Object(servers) = servers else {
        return Err(Error::Config {
            reason: format!("`{key}` must be a JSON object, not {}", kind_of(servers)),
        });
    };
    servers.insert(params.server_name.clone(), entry);
    if let Some(input) = input {
        let inputs = root
            .entry("inputs".to_string())
            .or_insert_with(|| Value::Array(Vec::new()));
        let Value::Array(list) = inputs else {
            return Err(Error::Config {
                reason: format!("`inputs` must be a JSON array, not {}", kind_of(inputs)),
            });
        };
        list.retain(|i| i.get("id").and_then(Value::as_str) != Some(VSCODE_INPUT_ID));
        list.push(input);
    }
    Ok(to_pretty(&Value::Object(root)))
}

/// The arguments of `workboard bridge` for the server of `params`: none for WorkBoard US
/// (the CLI's default), `--env eu` for EU, `--server <url>` for any other.
pub fn bridge_args(params: &ConfigParams) -> Vec<String> {
    let url = params.server_url.trim();
    let mut args = Vec::new();
    if url == Environment::Eu.mcp_url() {
        args.extend(["--env".to_string(), "eu".to_string()]);
    } else if url != Environment::Us.mcp_url() {
        args.extend(["--server".to_string(), url.to_string()]);
    }
    args.push("bridge".into());
    args
}

/// The `claude mcp add` command line that registers the entry with Claude Code (user
/// scope), as [`generate`] writes it for `.mcp.json`: `--transport stdio ... -- workboard
/// bridge`, or `--transport http <url> --header "Authorization: Bearer $WORKBOARD_TOKEN"`
/// (the shell expands the variable; a token itself is never put on a command line).
pub fn claude_code_command(params: &ConfigParams) -> Result<String, Error> {
    check_params(params)?;
    let name = shell_word(&params.server_name);
    Ok(match params.form_for(AiClient::ClaudeCode) {
        ConfigForm::Bridge => {
            let args: Vec<String> = bridge_args(params).iter().map(|a| shell_word(a)).collect();
            format!(
                "claude mcp add --scope user --transport stdio {name} -- {BRIDGE_COMMAND} {}",
                args.join(" ")
            )
        }
        ConfigForm::Http => {
            let var = match params.token_for(AiClient::ClaudeCode) {
                ConfigToken::Env(v) => v,
                _ => TOKEN_ENV.to_string(),
            };
            format!(
                "claude mcp add --scope user --transport http {name} {} --header \"Authorization: Bearer ${var}\"",
                shell_word(params.server_url.trim())
            )
        }
        ConfigForm::McpRemote => {
            return Err(unsupported(AiClient::ClaudeCode, ConfigForm::McpRemote))
        }
    })
}

/// A word for a POSIX shell: as is when plain, else single-quoted.
fn shell_word(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:@%+=,".contains(c));
    if plain {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

fn unsupported(client: AiClient, form: ConfigForm) -> Error {
    Error::InvalidInput {
        what: "config form".into(),
        reason: format!(
            "{} does not take the {} form (Claude Desktop takes bridge or mcp-remote; the others bridge or http)",
            client.name(),
            form.name()
        ),
    }
}

/// The `Authorization` value and the VS Code input (if any) of an HTTP-form entry.
fn authorization(
    client: AiClient,
    params: &ConfigParams,
) -> Result<(String, Option<Value>), Error> {
    let token = params.token_for(client);
    let (token_text, input) = match &token {
        ConfigToken::Placeholder => (TOKEN_PLACEHOLDER.to_string(), None),
        ConfigToken::Token(t) => (t.expose().trim().to_string(), None),
        ConfigToken::Env(var) => match client.env_reference(var) {
            Some(r) => (r, None),
            None => {
                return Err(Error::InvalidInput {
                    what: "token".into(),
                    reason: format!(
                        "{} reads no environment variable in its config; pass a token or use the placeholder (or the bridge form)",
                        client.name()
                    ),
                })
            }
        },
        ConfigToken::Prompt => {
            if client != AiClient::VsCode {
                return Err(Error::InvalidInput {
                    what: "token".into(),
                    reason: format!(
                        "{} has no prompt inputs; pass a token or use the placeholder",
                        client.name()
                    ),
                });
            }
            let mut input = Map::new();
            input.insert("type".into(), "promptString".into());
            input.insert("id".into(), VSCODE_INPUT_ID.into());
            input.insert("description".into(), "WorkBoard personal token".into());
            input.insert("password".into(), Value::Bool(true));
            (
                format!("${{input:{VSCODE_INPUT_ID}}}"),
                Some(Value::Object(input)),
            )
        }
    };
    Ok((format!("Bearer {token_text}"), input))
}

/// The server entry (and the VS Code input, if any) for `client`.
fn entry(client: AiClient, params: &ConfigParams) -> Result<(Value, Option<Value>), Error> {
    check_params(params)?;
    let form = params.form_for(client);
    if !client.supports(form) || (client == AiClient::ClaudeDesktop && form == ConfigForm::Http) {
        return Err(unsupported(client, form));
    }
    if form == ConfigForm::Bridge {
        let mut e = Map::new();
        if matches!(client, AiClient::ClaudeCode | AiClient::VsCode) {
            e.insert("type".into(), "stdio".into());
        }
        e.insert("command".into(), BRIDGE_COMMAND.into());
        let args = bridge_args(params).into_iter().map(Value::String).collect();
        e.insert("args".into(), Value::Array(args));
        if client == AiClient::Zed {
            e.insert("env".into(), Value::Object(Map::new()));
        }
        return Ok((Value::Object(e), None));
    }
    let (auth, input) = authorization(client, params)?;
    let headers = || {
        let mut h = Map::new();
        h.insert("Authorization".into(), Value::String(auth.clone()));
        Value::Object(h)
    };
    let mut e = Map::new();
    match client {
        AiClient::ClaudeDesktop => {
            e.insert("command".into(), "npx".into());
            let args = [
                "-y",
                "mcp-remote",
                params.server_url.as_str(),
                "--header",
                AUTH_HEADER_ARG,
            ]
            .iter()
            .map(|s| Value::String((*s).to_string()))
            .collect();
            e.insert("args".into(), Value::Array(args));
            let mut env = Map::new();
            env.insert(AUTH_HEADER_ENV.into(), Value::String(auth.clone()));
            e.insert("env".into(), Value::Object(env));
        }
        AiClient::Cursor => {
            e.insert("url".into(), params.server_url.clone().into());
            e.insert("headers".into(), headers());
        }
        AiClient::VsCode | AiClient::Generic | AiClient::ClaudeCode => {
            e.insert("type".into(), "http".into());
            e.insert("url".into(), params.server_url.clone().into());
            e.insert("headers".into(), headers());
        }
        AiClient::Gemini => {
            e.insert("httpUrl".into(), params.server_url.clone().into());
            e.insert("headers".into(), headers());
        }
        AiClient::Windsurf => {
            e.insert("serverUrl".into(), params.server_url.clone().into());
            e.insert("headers".into(), headers());
        }
        AiClient::Zed => {
            e.insert("url".into(), params.server_url.clone().into());
            e.insert("headers".into(), headers());
        }
        AiClient::Codex => return Err(unsupported(client, form)), // TOML: `toml_config`
    }
    Ok((Value::Object(e), input))
}

/// Codex's `config.toml` (`[mcp_servers.<name>]`), written and merged with `toml_edit` so a
/// user's comments and layout survive the merge.
pub(crate) use toml_config::line_col;

mod toml_config {
    use super::*;
    use toml_edit::{value, Array, DocumentMut, InlineTable, Item, Table};

    pub(super) fn merge(existing: &str, params: &ConfigParams) -> Result<String, Error> {
        check_params(params)?;
        let mut doc: DocumentMut = existing.parse().map_err(|e: toml_edit::TomlError| {
            let span = e.span().map(|s| s.start).unwrap_or(0);
            let (line, column) = line_col(existing, span);
            Error::ConfigSyntax {
                line,
                column,
                // The parser's text may quote the file (a token included): not kept.
                reason: "not valid TOML (check quotes, brackets and `=` around this place)".into(),
            }
        })?;
        let servers = doc.entry("mcp_servers").or_insert_with(|| {
            let mut t = Table::new();
            t.set_implicit(true);
            Item::Table(t)
        });
        let Some(servers) = servers.as_table_mut() else {
            return Err(Error::Config {
                reason: "`mcp_servers` must be a TOML table".into(),
            });
        };
        let mut t = Table::new();
        match params.form_for(AiClient::Codex) {
            ConfigForm::Bridge => {
                t["command"] = value(BRIDGE_COMMAND);
                let mut args = Array::new();
                for a in bridge_args(params) {
                    args.push(a);
                }
                t["args"] = value(args);
            }
            ConfigForm::Http => {
                t["url"] = value(params.server_url.trim());
                match params.token_for(AiClient::Codex) {
                    // Codex reads the token from the variable (and refuses one inline).
                    ConfigToken::Env(var) => t["bearer_token_env_var"] = value(var),
                    _ => {
                        let (auth, _) = authorization(AiClient::Codex, params)?;
                        let mut h = InlineTable::new();
                        h.insert("Authorization", auth.into());
                        t["http_headers"] = value(h);
                    }
                }
            }
            ConfigForm::McpRemote => {
                return Err(unsupported(AiClient::Codex, ConfigForm::McpRemote))
            }
        }
        servers.insert(&params.server_name, Item::Table(t));
        let mut out = doc.to_string();
        if !out.ends_with('\n') {
            out.push('\n');
        }
        Ok(out)
    }

    /// 1-based line and column of a byte offset.
    pub(crate) fn line_col(text: &str, offset: usize) -> (usize, usize) {
        let before = &text[..offset.min(text.len())];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        (line, column)
    }
}

fn check_params(params: &ConfigParams) -> Result<(), Error> {
    let url = url::Url::parse(params.server_url.trim()).map_err(|e| Error::InvalidUrl {
        what: "MCP server URL".into(),
        reason: e.to_string(),
    })?;
    check_secure_url(&url, "MCP server URL")?;
    if params.server_name.trim().is_empty() {
        return Err(Error::InvalidInput {
            what: "server name".into(),
            reason: "empty".into(),
        });
    }
    if let Some(ConfigToken::Token(t)) = &params.token {
        let t = t.expose().trim();
        if t.is_empty() {
            return Err(Error::InvalidInput {
                what: "token".into(),
                reason: "empty".into(),
            });
        }
        if t.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(Error::InvalidInput {
                what: "token".into(),
                reason: "contains whitespace or control characters (copy it again)".into(),
            });
        }
    }
    Ok(())
}

fn to_pretty(v: &Value) -> String {
    let mut s = serde_json::to_string_pretty(v).unwrap_or_default();
    s.push('\n');
    s
}

pub(crate) fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// `…` and the last four characters of a secret (or `****` when it is 8 characters or
/// shorter), for messages about a token.
pub fn mask_secret(secret: &str) -> String {
    let n = secret.chars().count();
    if n <= 8 {
        return "****".into();
    }
    let tail: String = secret.chars().skip(n - 4).collect();
    format!("…{tail}")
}
