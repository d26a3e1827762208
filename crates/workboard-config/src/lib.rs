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

/// An AI client whose configuration format this module knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AiClient {
    /// Claude Desktop: `claude_desktop_config.json`, `npx -y mcp-remote <url> --header ...`.
    ClaudeDesktop,
    /// Cursor: `mcpServers.<name>.url` + `headers`.
    Cursor,
    /// VS Code: `.vscode/mcp.json` with `servers` and `inputs`.
    VsCode,
    /// Any other MCP client: `mcpServers.<name>` with `type: http`.
    Generic,
}

impl AiClient {
    /// Every client, in display order.
    pub const ALL: [AiClient; 4] = [
        AiClient::ClaudeDesktop,
        AiClient::Cursor,
        AiClient::VsCode,
        AiClient::Generic,
    ];

    /// Parses a client name (`claude`, `claude-desktop`, `cursor`, `vscode`, `vs-code`,
    /// `code`, `generic`, `other`), case-insensitively.
    pub fn parse(name: &str) -> Result<AiClient, Error> {
        let n = name.trim().to_ascii_lowercase().replace(['_', ' '], "-");
        Ok(match n.as_str() {
            "claude" | "claude-desktop" | "claudedesktop" => AiClient::ClaudeDesktop,
            "cursor" => AiClient::Cursor,
            "vscode" | "vs-code" | "code" => AiClient::VsCode,
            "generic" | "other" | "http" => AiClient::Generic,
            _ => {
                return Err(Error::InvalidInput {
                    what: "AI client".into(),
                    // Not echoed: the argument may be anything, a token pasted in the
                    // wrong place included.
                    reason: "unknown client (expected claude-desktop, cursor, vscode or generic)"
                        .into(),
                });
            }
        })
    }

    /// Whether the generated configuration runs Node.js (`npx mcp-remote`): only Claude
    /// Desktop's; the others connect to the URL themselves.
    pub fn needs_node(&self) -> bool {
        matches!(self, AiClient::ClaudeDesktop)
    }

    /// Stable short name (`claude-desktop`, `cursor`, `vscode`, `generic`).
    pub fn name(&self) -> &'static str {
        match self {
            AiClient::ClaudeDesktop => "claude-desktop",
            AiClient::Cursor => "cursor",
            AiClient::VsCode => "vscode",
            AiClient::Generic => "generic",
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
        }
    }

    /// The default config path on `os`, if this client has one.
    pub fn default_path(&self, os: Os) -> Option<&'static str> {
        self.config_locations()
            .into_iter()
            .find(|l| l.os == os)
            .map(|l| l.path)
    }

    /// The key holding the server map: `servers` for VS Code, `mcpServers` otherwise.
    pub fn servers_key(&self) -> &'static str {
        match self {
            AiClient::VsCode => "servers",
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
}

impl ConfigParams {
    /// Parameters for the MCP endpoint of `env`, default token and name.
    pub fn for_environment(env: &Environment) -> ConfigParams {
        ConfigParams {
            server_url: env.mcp_url(),
            token: None,
            server_name: DEFAULT_SERVER_NAME.into(),
        }
    }

    /// Parameters for any MCP server URL (checked when generating).
    pub fn for_url(server_url: impl Into<String>) -> ConfigParams {
        ConfigParams {
            server_url: server_url.into(),
            token: None,
            server_name: DEFAULT_SERVER_NAME.into(),
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

    /// With another entry name.
    pub fn with_server_name(mut self, name: impl Into<String>) -> ConfigParams {
        self.server_name = name.into();
        self
    }

    fn token_for(&self, client: AiClient) -> ConfigToken {
        match &self.token {
            Some(t) => t.clone(),
            None if client == AiClient::VsCode => ConfigToken::Prompt,
            None => ConfigToken::Placeholder,
        }
    }
}

/// The configuration file for `client` (pretty JSON, two-space indent, trailing newline).
pub fn generate(client: AiClient, params: &ConfigParams) -> Result<String, Error> {
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

/// The server entry (and the VS Code input, if any) for `client`.
fn entry(client: AiClient, params: &ConfigParams) -> Result<(Value, Option<Value>), Error> {
    check_params(params)?;
    let token = params.token_for(client);
    let (token_text, input) = match &token {
        ConfigToken::Placeholder => (TOKEN_PLACEHOLDER.to_string(), None),
        ConfigToken::Token(t) => (t.expose().trim().to_string(), None),
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
    let auth = format!("Bearer {token_text}");
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
        AiClient::VsCode | AiClient::Generic => {
            e.insert("type".into(), "http".into());
            e.insert("url".into(), params.server_url.clone().into());
            e.insert("headers".into(), headers());
        }
    }
    Ok((Value::Object(e), input))
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
