//! Lint of AI-client config files: finds what makes a WorkBoard MCP connection fail.
//!
//! [`lint`] detects the format (Claude Desktop `npx mcp-remote`, Cursor, VS Code `servers`,
//! generic `type: http`, or a bare server entry), checks the WorkBoard entry (named
//! `workboard`, or any entry pointing at a WorkBoard host or `/wb/mcp`) and every redirect
//! URI field. Each [`Finding`] has a stable snake_case `code`:
//!
//! | code | severity | what |
//! |---|---|---|
//! | `unknown_format` | error | no `mcpServers`/`servers` map and no server entry |
//! | `workboard_server_missing` | warning | no entry for WorkBoard |
//! | `comments_in_strict_json` | warning | comments/trailing commas in a file only VS Code reads as JSONC |
//! | `entry_invalid` | error | the entry is not an object |
//! | `url_missing` / `url_invalid` / `url_insecure` | error | server URL absent, unparseable, `http://` |
//! | `wrong_host` | error | a WorkBoard-looking host other than `www.myworkboard.com` / `.eu` |
//! | `unknown_host` | warning | not a WorkBoard host (fine for a private deployment or simulator) |
//! | `wrong_path` | error | path is not exactly `/wb/mcp` (e.g. `/mcp`, `/wb/mcp/`) |
//! | `token_in_url` | error | a token in the URL's query (WorkBoard reads the header only) |
//! | `type_missing` | warning | no `type` where the format needs it (generic, VS Code) |
//! | `type_wrong` | error/warning | `type` is not `http` (`sse` is a warning) |
//! | `authorization_header_missing` | warning | no `Authorization` header (OAuth would be needed) |
//! | `authorization_header_misspelled` | error | `Authorisation`, `Auth`, `Token`... instead of `Authorization` |
//! | `bearer_missing` | error | the value is not `Bearer <token>` |
//! | `bearer_spacing` | error/warning | `Bearer` glued to the token (error) or several spaces (warning) |
//! | `token_empty` | error | nothing after `Bearer` |
//! | `token_placeholder` | error | still `YOUR_WB_TOKEN` (or `<token>`...) |
//! | `token_whitespace` | error | whitespace or a line break inside the token |
//! | `input_undefined` | error | `${input:id}` without a matching VS Code input |
//! | `input_not_password` | warning | the token input is not `password: true` |
//! | `mcp_remote_missing` | error | `npx` without `mcp-remote` |
//! | `npx_missing_yes` | warning | `npx` without `-y` (npx waits for a confirmation nobody sees) |
//! | `args_invalid` | error | `args` is not an array of strings |
//! | `header_arg_missing_value` | error | `--header` is the last argument or followed by an option |
//! | `header_arg_malformed` | error | the `--header` value has no `Name: value` colon |
//! | `header_arg_split` | error | `Authorization:` and `Bearer ...` given as two arguments |
//! | `header_arg_spacing` | warning | no space after the colon (`Authorization:Bearer ...`) |
//! | `token_in_args` | error | a real token in `args`: the command line, readable by every local process |
//! | `header_env_undefined` | error | `Authorization:${VAR}` without a string `VAR` in the entry's `env` |
//! | `redirect_uri_mismatch` | error | a redirect URI field that is not exactly Claude's callback |
//!
//! Findings never contain a real token: at most its last four characters.
//! Invalid JSON is an error value ([`Error::ConfigSyntax`] with line and column), not a finding.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{
    jsonc, mask_secret, AiClient, CLAUDE_REDIRECT_URI, DEFAULT_SERVER_NAME, TOKEN_PLACEHOLDER,
};
use workboard_core::env::is_loopback;
use workboard_core::error::{first_difference, Error, HINT_401, HINT_REDIRECT};

/// How bad a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// The connection will fail (or leak a secret).
    Error,
    /// Suspicious; may work.
    Warning,
}

/// One problem found in a config file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// Error or warning.
    pub severity: Severity,
    /// Stable snake_case code (see the module docs).
    pub code: String,
    /// What is wrong (never contains a token).
    pub message: String,
    /// JSON pointer of the offending value (`/mcpServers/workboard/headers/Authorisation`;
    /// `/…/args/4` for an argument).
    pub path: String,
    /// How to fix it.
    pub hint: Option<String>,
}

/// Lints a config file of any supported format. See the module docs for the codes.
pub fn lint(text: &str) -> Result<Vec<Finding>, Error> {
    lint_as(text, None)
}

/// Lints a config file, optionally knowing which client reads it (which makes the format
/// checks stricter: e.g. `type` is required for [`AiClient::Generic`] and
/// [`AiClient::VsCode`], and comments are fine only for VS Code).
pub fn lint_as(text: &str, client: Option<AiClient>) -> Result<Vec<Finding>, Error> {
    let (root, syntax) = jsonc::parse_detailed(text)?;
    let Value::Object(root) = root else {
        return Err(Error::Config {
            reason: format!(
                "the file's root must be a JSON object, not {}",
                super::kind_of(&root)
            ),
        });
    };
    let mut l = Linter {
        out: Vec::new(),
        client,
        inputs: inputs_of(&root),
    };
    let vscode_file = root.contains_key("servers") || client == Some(AiClient::VsCode);
    if syntax == jsonc::Syntax::Jsonc && !vscode_file {
        l.push(
            Severity::Warning,
            "comments_in_strict_json",
            "the file has comments or trailing commas, which only VS Code accepts".into(),
            "",
            Some(
                "Claude Desktop and Cursor read strict JSON: remove comments and trailing commas."
                    .into(),
            ),
        );
    }
    let maps: Vec<(String, &Map<String, Value>)> = ["mcpServers", "servers", "context_servers"]
        .iter()
        .filter_map(|k| match root.get(*k) {
            Some(Value::Object(m)) => Some((format!("/{k}"), m)),
            _ => None,
        })
        .collect();
    let mut entries: Vec<(String, String, &Value)> = Vec::new();
    let mut bare = false;
    if !maps.is_empty() {
        for (base, m) in &maps {
            for (name, v) in m.iter() {
                entries.push((name.clone(), format!("{base}/{}", pointer_escape(name)), v));
            }
        }
    } else if is_entry(&root) {
        bare = true;
    } else if root.values().any(|v| v.as_object().is_some_and(is_entry)) {
        for (name, v) in root.iter() {
            entries.push((name.clone(), format!("/{}", pointer_escape(name)), v));
        }
    } else if !has_redirect_field(&root) {
        l.push(
            Severity::Error,
            "unknown_format",
            "no `mcpServers` or `servers` object and no server entry (`url` or `command`)".into(),
            "",
            Some("Start from `workboard config <client>`, which writes a working file.".into()),
        );
    }
    let selected: Vec<_> = entries
        .into_iter()
        .filter(|(name, _, v)| {
            name.eq_ignore_ascii_case(DEFAULT_SERVER_NAME) || mentions_workboard(v)
        })
        .collect();
    if bare {
        l.entry_map("", &root, false);
    } else if selected.is_empty()
        && (!maps.is_empty() || l.out.is_empty() && !has_redirect_field(&root))
        && !l.out.iter().any(|f| f.code == "unknown_format")
    {
        l.push(
            Severity::Warning,
            "workboard_server_missing",
            "no server entry named `workboard` or pointing at WorkBoard's MCP endpoint".into(),
            &maps.first().map(|(p, _)| p.clone()).unwrap_or_default(),
            Some("Add the entry with `workboard config <client> --merge <file>`.".into()),
        );
    }
    for (_, path, v) in selected {
        l.entry(
            &path,
            v,
            maps.iter().any(|(p, _)| p == "/servers") && path.starts_with("/servers"),
        );
    }
    l.redirects(&Value::Object(root.clone()), "");
    Ok(l.out)
}

/// Lints Codex's `config.toml`: each `[mcp_servers.<name>]` for WorkBoard is checked as the
/// JSON entries are (URL, bridge arguments, the `Authorization` header of `http_headers`,
/// `bearer_token_env_var`), plus `bearer_token_inline`: a token written into the file, which
/// Codex refuses. Invalid TOML is [`Error::ConfigSyntax`] (no text of the file in it).
pub fn lint_toml(text: &str) -> Result<Vec<Finding>, Error> {
    let root: Value = toml_edit::de::from_str(text).map_err(|e| {
        let (line, column) = e
            .span()
            .map(|s| super::line_col(text, s.start))
            .unwrap_or((1, 1));
        Error::ConfigSyntax {
            line,
            column,
            reason: "not valid TOML (check quotes, brackets and `=` around this place)".into(),
        }
    })?;
    let mut l = Linter {
        out: Vec::new(),
        client: Some(AiClient::Codex),
        inputs: Vec::new(),
    };
    let Some(servers) = root.get("mcp_servers").and_then(Value::as_object) else {
        l.push(
            Severity::Warning,
            "workboard_server_missing",
            "no `[mcp_servers.<name>]` table".into(),
            "",
            Some(
                "Add the entry with `workboard config codex --merge ~/.codex/config.toml`.".into(),
            ),
        );
        return Ok(l.out);
    };
    let selected: Vec<_> = servers
        .iter()
        .filter(|(name, v)| name.eq_ignore_ascii_case(DEFAULT_SERVER_NAME) || mentions_workboard(v))
        .collect();
    if selected.is_empty() {
        l.push(
            Severity::Warning,
            "workboard_server_missing",
            "no `[mcp_servers.<name>]` named `workboard` or pointing at WorkBoard".into(),
            "/mcp_servers",
            Some(
                "Add the entry with `workboard config codex --merge ~/.codex/config.toml`.".into(),
            ),
        );
    }
    for (name, v) in selected {
        let path = format!("/mcp_servers/{}", pointer_escape(name));
        let Some(e) = v.as_object() else {
            l.push(
                Severity::Error,
                "entry_invalid",
                "the server entry is not a table".into(),
                &path,
                None,
            );
            continue;
        };
        if e.contains_key("bearer_token") {
            l.push(
                Severity::Error,
                "bearer_token_inline",
                "`bearer_token` writes the token into config.toml, which Codex refuses".into(),
                &format!("{path}/bearer_token"),
                Some(format!("Use `bearer_token_env_var = \"{}\"` and set that variable, or the bridge form (`workboard config codex`).", super::TOKEN_ENV)),
            );
        }
        // As a JSON entry: the header Codex would send.
        let mut json_entry = e.clone();
        if let Some(var) = e.get("bearer_token_env_var").and_then(Value::as_str) {
            let mut h = Map::new();
            h.insert(
                "Authorization".into(),
                Value::String(format!("Bearer ${{{var}}}")),
            );
            json_entry.insert("headers".into(), Value::Object(h));
        } else if let Some(h) = e.get("http_headers").or_else(|| e.get("env_http_headers")) {
            json_entry.insert("headers".into(), h.clone());
        } else if e.contains_key("bearer_token") {
            json_entry.insert("headers".into(), Value::Object(Map::new()));
        }
        l.entry_map(&path, &json_entry, false);
    }
    Ok(l.out)
}

/// The client whose format this text uses, if recognizable (a `mcpServers` entry with a
/// `url` and no `type` is Cursor's format; with `type`, the generic one).
pub fn detect(text: &str) -> Result<Option<AiClient>, Error> {
    let root = jsonc::parse(text)?;
    if root.get("servers").is_some_and(Value::is_object) {
        return Ok(Some(AiClient::VsCode));
    }
    if root.get("context_servers").is_some_and(Value::is_object) {
        return Ok(Some(AiClient::Zed));
    }
    let Some(Value::Object(m)) = root.get("mcpServers") else {
        return Ok(None);
    };
    let entry = m
        .get(DEFAULT_SERVER_NAME)
        .or_else(|| m.values().find(|v| mentions_workboard(v)))
        .or_else(|| m.values().next());
    Ok(entry.and_then(|e| {
        if e.get("command").is_some() {
            Some(AiClient::ClaudeDesktop)
        } else if e.get("httpUrl").is_some() {
            Some(AiClient::Gemini)
        } else if e.get("serverUrl").is_some() {
            Some(AiClient::Windsurf)
        } else if e.get("type").is_some() {
            Some(AiClient::Generic)
        } else if e.get("url").is_some() {
            Some(AiClient::Cursor)
        } else {
            None
        }
    }))
}

struct Linter {
    out: Vec<Finding>,
    client: Option<AiClient>,
    /// VS Code inputs: id → password flag.
    inputs: Vec<(String, bool)>,
}

impl Linter {
    fn push(
        &mut self,
        severity: Severity,
        code: &str,
        message: String,
        path: &str,
        hint: Option<String>,
    ) {
        self.out.push(Finding {
            severity,
            code: code.into(),
            message,
            path: path.into(),
            hint,
        });
    }

    fn entry(&mut self, path: &str, v: &Value, vscode: bool) {
        let Value::Object(e) = v else {
            self.push(
                Severity::Error,
                "entry_invalid",
                format!("the server entry is {}, not an object", super::kind_of(v)),
                path,
                None,
            );
            return;
        };
        self.entry_map(path, e, vscode);
    }

    fn entry_map(&mut self, path: &str, e: &Map<String, Value>, vscode: bool) {
        if let Some(cmd) = e.get("command") {
            self.stdio(path, cmd, e.get("args"), e.get("env"));
            return;
        }
        let url_key = ["url", "serverUrl", "httpUrl"]
            .into_iter()
            .find(|k| e.contains_key(*k));
        let Some(url_key) = url_key else {
            self.push(Severity::Error, "url_missing", "the entry has neither `url` nor `command`".into(), path, Some("Set `url` to https://www.myworkboard.com/wb/mcp (US) or https://www.myworkboard.eu/wb/mcp (EU).".into()));
            return;
        };
        let url_path = format!("{path}/{url_key}");
        match e.get(url_key) {
            Some(Value::String(u)) => self.url(&url_path, u),
            _ => self.push(
                Severity::Error,
                "url_invalid",
                "`url` is not a string".into(),
                &url_path,
                None,
            ),
        }
        let needs_type = vscode
            || matches!(
                self.client,
                Some(AiClient::Generic) | Some(AiClient::VsCode)
            );
        match e.get("type") {
            None if needs_type => self.push(
                Severity::Warning,
                "type_missing",
                "no `type`: this format expects `\"type\": \"http\"`".into(),
                path,
                Some("Add `\"type\": \"http\"` (WorkBoard speaks MCP Streamable HTTP).".into()),
            ),
            None => {}
            Some(Value::String(t)) => {
                let tl = t.to_ascii_lowercase();
                if tl == "sse" {
                    self.push(
                        Severity::Warning,
                        "type_wrong",
                        "`type` is `sse`, the legacy transport; WorkBoard speaks Streamable HTTP"
                            .into(),
                        &format!("{path}/type"),
                        Some("Use `\"type\": \"http\"`.".into()),
                    );
                } else if !matches!(
                    tl.as_str(),
                    "http" | "streamable-http" | "streamablehttp" | "streamable_http"
                ) {
                    self.push(
                        Severity::Error,
                        "type_wrong",
                        format!("`type` is `{}`; a remote server needs `http`", short(t)),
                        &format!("{path}/type"),
                        Some("Use `\"type\": \"http\"`.".into()),
                    );
                }
            }
            Some(_) => self.push(
                Severity::Error,
                "type_wrong",
                "`type` is not a string".into(),
                &format!("{path}/type"),
                Some("Use `\"type\": \"http\"`.".into()),
            ),
        }
        let hpath = format!("{path}/headers");
        match e.get("headers") {
            Some(Value::Object(h)) => {
                let mut found = false;
                for (name, value) in h {
                    let p = format!("{hpath}/{}", pointer_escape(name));
                    let value_str = value.as_str();
                    if self.header_name(name, value_str, &p) {
                        found = true;
                        match value_str {
                            Some(s) => self.auth_value(s, &p),
                            None => self.push(
                                Severity::Error,
                                "bearer_missing",
                                "the Authorization value is not a string".into(),
                                &p,
                                Some(bearer_hint()),
                            ),
                        }
                    }
                }
                if !found {
                    self.missing_auth(&hpath);
                }
            }
            Some(_) => self.push(
                Severity::Error,
                "authorization_header_missing",
                "`headers` is not an object".into(),
                &hpath,
                Some(bearer_hint()),
            ),
            None => self.missing_auth(path),
        }
    }

    /// `workboard ... bridge`: the bridge subcommand is there, the server it names (if any)
    /// is a good one, and nothing secret is on its command line (it reads the store).
    fn bridge(&mut self, apath: &str, args: Option<&Value>) {
        let fix = "Use `\"args\": [\"bridge\"]` (US), `[\"--env\", \"eu\", \"bridge\"]` (EU) or `[\"--server\", \"<url>\", \"bridge\"]`; sign in once with `workboard login` or `workboard token set`.";
        let args: Vec<&str> = match args {
            Some(Value::Array(a)) if a.iter().all(Value::is_string) => {
                a.iter().filter_map(Value::as_str).collect()
            }
            None => Vec::new(),
            Some(_) => {
                self.push(
                    Severity::Error,
                    "args_invalid",
                    "`args` is not an array of strings".into(),
                    apath,
                    Some(fix.into()),
                );
                return;
            }
        };
        if !args.contains(&"bridge") {
            self.push(
                Severity::Error,
                "bridge_arg_missing",
                "`workboard` is run without `bridge`: the AI client gets no MCP server on stdio"
                    .into(),
                apath,
                Some(fix.into()),
            );
        }
        for (i, a) in args.iter().enumerate() {
            let p = format!("{apath}/{i}");
            let lower = a.to_ascii_lowercase();
            if lower.contains("bearer ") || lower.starts_with("authorization") {
                self.push(
                    Severity::Error,
                    "token_in_args",
                    format!("a credential (`{}`) on the bridge's command line, readable by every local process", mask_value(a)),
                    &p,
                    Some("The bridge reads the credentials from its store: remove it from `args` and run `workboard token set` (stdin) once.".into()),
                );
            }
            if *a == "--server" {
                match args.get(i + 1) {
                    Some(u) => self.url(&format!("{apath}/{}", i + 1), u),
                    None => self.push(
                        Severity::Error,
                        "url_missing",
                        "`--server` is the last argument".into(),
                        &p,
                        Some(fix.into()),
                    ),
                }
            }
        }
    }

    fn missing_auth(&mut self, path: &str) {
        self.push(
            Severity::Warning,
            "authorization_header_missing",
            "no `Authorization` header: the client must sign in with OAuth, and WorkBoard has no dynamic client registration".into(),
            path,
            Some(bearer_hint()),
        );
    }

    /// Whether this header is (meant to be) the Authorization header; pushes a finding if
    /// its name is misspelled.
    fn header_name(&mut self, name: &str, value: Option<&str>, path: &str) -> bool {
        if name.trim().eq_ignore_ascii_case("authorization") {
            if name.trim() != name {
                self.push(
                    Severity::Error,
                    "authorization_header_misspelled",
                    "the header name has spaces around it".into(),
                    path,
                    Some("Write the name as `Authorization`, without spaces.".into()),
                );
            }
            return true;
        }
        let norm: String = name
            .to_ascii_lowercase()
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .collect();
        let looks_bearer =
            value.is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("bearer"));
        let close = norm.starts_with("auth")
            || norm.starts_with("autor")
            || edit_distance(&norm, "authorization") <= 3
            || norm == "bearer"
            || norm == "token";
        if close || looks_bearer {
            let british = norm == "authorisation";
            self.push(
                Severity::Error,
                "authorization_header_misspelled",
                format!(
                    "header `{}` is not `Authorization`{}: the server never sees the token, so every request fails with 401",
                    short(name),
                    if british { " (British spelling, as in WorkBoard's Cursor example)" } else { "" }
                ),
                path,
                Some("Rename the header to `Authorization` (the spelling HTTP uses; case does not matter).".into()),
            );
            return true;
        }
        false
    }

    /// Checks `Bearer <token>`.
    fn auth_value(&mut self, value: &str, path: &str) {
        let v = value.trim_start();
        let lower = v.to_ascii_lowercase();
        if !lower.starts_with("bearer") {
            self.push(
                Severity::Error,
                "bearer_missing",
                format!(
                    "the Authorization value `{}` does not start with `Bearer `",
                    mask_value(v)
                ),
                path,
                Some(bearer_hint()),
            );
            return;
        }
        let rest = &v[6..];
        if rest.trim().is_empty() {
            self.push(
                Severity::Error,
                "token_empty",
                "nothing follows `Bearer`: the token is empty".into(),
                path,
                Some(format!(
                    "Paste your personal token after `Bearer `. {HINT_401}"
                )),
            );
            return;
        }
        if !rest.starts_with([' ', '\t']) {
            self.push(
                Severity::Error,
                "bearer_spacing",
                format!("`Bearer` is glued to the token (`{}`)", mask_value(v)),
                path,
                Some("Put exactly one space between `Bearer` and the token.".into()),
            );
            self.token(rest, path);
            return;
        }
        let token = rest.trim_start_matches([' ', '\t']);
        if rest.len() - token.len() > 1 {
            self.push(
                Severity::Warning,
                "bearer_spacing",
                "several spaces between `Bearer` and the token".into(),
                path,
                Some("Put exactly one space between `Bearer` and the token.".into()),
            );
        }
        self.token(token, path);
    }

    fn token(&mut self, token: &str, path: &str) {
        if let Some(id) = token
            .strip_prefix("${input:")
            .and_then(|t| t.strip_suffix('}'))
        {
            match self.inputs.iter().find(|(i, _)| i == id) {
                None => self.push(Severity::Error, "input_undefined", format!("`${{input:{}}}` names no entry of `inputs`", short(id)), path, Some("Add a `promptString` input with this id and `\"password\": true` to `inputs`.".into())),
                Some((_, false)) => self.push(Severity::Warning, "input_not_password", format!("the input `{}` holding the token is not `\"password\": true`", short(id)), path, Some("Set `\"password\": true` so VS Code masks the token and stores it securely.".into())),
                Some(_) => {}
            }
            return;
        }
        if token.starts_with("${") && token.ends_with('}') && !token.contains(char::is_whitespace) {
            return; // ${env:VAR} and similar: resolved by the client.
        }
        let bare_var = token.strip_prefix('$').is_some_and(|v| {
            !v.is_empty() && v.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        });
        if bare_var {
            return; // $VAR (Gemini CLI): resolved by the client.
        }
        if token.chars().any(|c| c.is_whitespace() || c.is_control()) {
            self.push(
                Severity::Error,
                "token_whitespace",
                format!(
                    "the token (`{}`) contains whitespace or a line break",
                    mask_secret(token.trim())
                ),
                path,
                Some("Copy the token again: it is one word, with no spaces or line breaks.".into()),
            );
            return;
        }
        if is_placeholder(token) {
            self.push(
                Severity::Error,
                "token_placeholder",
                format!("the token is still the placeholder `{}`", short(token)),
                path,
                Some("Replace it with your personal token (WorkBoard → Settings → Custom Integrations → App → Instant Token).".into()),
            );
        }
    }

    fn url(&mut self, path: &str, raw: &str) {
        let fix = "Use https://www.myworkboard.com/wb/mcp (US) or https://www.myworkboard.eu/wb/mcp (EU).";
        let Ok(u) = url::Url::parse(raw.trim()) else {
            self.push(
                Severity::Error,
                "url_invalid",
                format!(
                    "`{}` is not a URL",
                    short(&workboard_core::http::redact_url(raw))
                ),
                path,
                Some(fix.into()),
            );
            return;
        };
        let shown = short(&workboard_core::http::redact_url(u.as_str()));
        match u.scheme() {
            "https" => {}
            "http" if is_loopback(&u) => {}
            "http" => self.push(
                Severity::Error,
                "url_insecure",
                format!("`{shown}` uses http: the token would travel in clear text"),
                path,
                Some(fix.into()),
            ),
            other => {
                self.push(
                    Severity::Error,
                    "url_invalid",
                    format!("`{shown}` has scheme `{}`, not https", short(other)),
                    path,
                    Some(fix.into()),
                );
                return;
            }
        }
        if u.query_pairs().any(|(k, _)| {
            let k = k.to_ascii_lowercase();
            k == "token" || k == "access_token" || k == "bearer"
        }) {
            self.push(Severity::Error, "token_in_url", "the URL carries a token in its query; WorkBoard reads tokens only from the Authorization header".into(), path, Some(fix.into()));
        }
        let host = u.host_str().unwrap_or("").to_ascii_lowercase();
        if !is_loopback(&u) {
            if host == "www.myworkboard.com" || host == "www.myworkboard.eu" {
                if u.port().is_some() {
                    self.push(
                        Severity::Error,
                        "wrong_host",
                        format!(
                            "`{shown}` names a port; WorkBoard listens on the default https port"
                        ),
                        path,
                        Some(fix.into()),
                    );
                }
            } else if host.contains("myworkboard") || host.contains("workboard") {
                let eu = host.ends_with(".eu");
                self.push(
                    Severity::Error,
                    "wrong_host",
                    format!(
                        "host `{}` is not WorkBoard's MCP host (expected `{}`)",
                        short(&host),
                        if eu {
                            "www.myworkboard.eu"
                        } else {
                            "www.myworkboard.com"
                        }
                    ),
                    path,
                    Some(format!(
                        "{fix} A wrong host is the \"wrong environment\" cause of 401."
                    )),
                );
            } else {
                self.push(
                    Severity::Warning,
                    "unknown_host",
                    format!("host `{}` is not a WorkBoard host", short(&host)),
                    path,
                    Some(format!("Fine for a private deployment; otherwise: {fix}")),
                );
            }
        }
        let p = u.path();
        if p != "/wb/mcp" {
            let why = if p == "/wb/mcp/" {
                "has a trailing slash".to_string()
            } else {
                format!("is `{}`", short(p))
            };
            self.push(
                Severity::Error,
                "wrong_path",
                format!("the path {why}; WorkBoard's MCP endpoint is exactly `/wb/mcp`"),
                path,
                Some(fix.into()),
            );
        }
    }

    /// `command` + `args` (Claude Desktop with `npx -y mcp-remote <url> --header ...`).
    fn stdio(&mut self, path: &str, cmd: &Value, args: Option<&Value>, env: Option<&Value>) {
        let cmd = cmd.as_str().unwrap_or("").trim();
        let base = cmd
            .rsplit(['/', '\\'])
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        let is_npx = matches!(base.as_str(), "npx" | "npx.cmd" | "npx.exe");
        let apath = format!("{path}/args");
        if matches!(base.as_str(), "workboard" | "workboard.exe") {
            self.bridge(&apath, args);
            return;
        }
        let args: Vec<&str> = match args {
            None => Vec::new(),
            Some(Value::Array(a)) => {
                let strs: Vec<&str> = a.iter().filter_map(Value::as_str).collect();
                if strs.len() != a.len() {
                    self.push(
                        Severity::Error,
                        "args_invalid",
                        "`args` holds values that are not strings".into(),
                        &apath,
                        None,
                    );
                    return;
                }
                strs
            }
            Some(_) => {
                self.push(
                    Severity::Error,
                    "args_invalid",
                    "`args` is not an array".into(),
                    &apath,
                    None,
                );
                return;
            }
        };
        let remote_at = args.iter().position(|a| {
            let a = a.to_ascii_lowercase();
            a == "mcp-remote" || a.starts_with("mcp-remote@")
        });
        let start = match (remote_at, base.starts_with("mcp-remote")) {
            (Some(i), _) => i + 1,
            (None, true) => 0,
            (None, false) => {
                if is_npx {
                    self.push(Severity::Error, "mcp_remote_missing", "`npx` is not given `mcp-remote`".into(), &apath, Some("Use `\"args\": [\"-y\", \"mcp-remote\", \"https://www.myworkboard.com/wb/mcp\", \"--header\", \"Authorization:${AUTH_HEADER}\"]` with `\"env\": {\"AUTH_HEADER\": \"Bearer <token>\"}`.".into()));
                }
                return;
            }
        };
        if is_npx
            && !args[..start.saturating_sub(1)]
                .iter()
                .any(|a| *a == "-y" || *a == "--yes")
        {
            self.push(Severity::Warning, "npx_missing_yes", "`npx` without `-y`: it waits for an install confirmation that Claude Desktop never shows".into(), &apath, Some("Put `\"-y\"` before `\"mcp-remote\"`.".into()));
        }
        let mut url_seen = false;
        let mut auth_seen = false;
        let mut i = start;
        while i < args.len() {
            let a = args[i];
            let p = format!("{apath}/{i}");
            if a == "--header" || a == "-H" {
                let Some(v) = args.get(i + 1).filter(|v| !v.starts_with("--")) else {
                    auth_seen = true;
                    self.push(
                        Severity::Error,
                        "header_arg_missing_value",
                        "`--header` is not followed by a `Name: value` argument".into(),
                        &p,
                        Some(header_arg_hint()),
                    );
                    i += 1;
                    continue;
                };
                let vp = format!("{apath}/{}", i + 1);
                i += 2;
                let Some((name, value)) = v.split_once(':') else {
                    auth_seen = true;
                    self.push(
                        Severity::Error,
                        "header_arg_malformed",
                        format!(
                            "`--header` value `{}` has no `:` between name and value",
                            mask_value(v)
                        ),
                        &vp,
                        Some(header_arg_hint()),
                    );
                    continue;
                };
                if !self.header_name(name, Some(value), &vp) {
                    continue;
                }
                auth_seen = true;
                if value.trim().is_empty() {
                    if let Some(next) = args
                        .get(i)
                        .filter(|n| n.trim_start().to_ascii_lowercase().starts_with("bearer"))
                    {
                        self.push(Severity::Error, "header_arg_split", "`Authorization:` and the `Bearer` value are two arguments; mcp-remote reads them as one header with an empty value".into(), &vp, Some(header_arg_hint()));
                        let np = format!("{apath}/{i}");
                        let next = next.to_string();
                        i += 1;
                        self.auth_value(&next, &np);
                        continue;
                    }
                }
                // mcp-remote's documented form: `Authorization:${AUTH_HEADER}` with the value
                // in the entry's `env` (the token stays off the command line).
                if let Some(var) = env_reference(value) {
                    match env.and_then(|e| e.get(var)).and_then(Value::as_str) {
                        Some(v) => {
                            let ep = format!("{path}/env/{}", pointer_escape(var));
                            self.auth_value(v, &ep);
                        }
                        None => self.push(
                            Severity::Error,
                            "header_env_undefined",
                            format!(
                                "`--header` uses `${{{}}}` but the entry's `env` sets no such string",
                                short(var)
                            ),
                            &vp,
                            Some(format!("Add `\"env\": {{\"{}\": \"Bearer <token>\"}}` to the entry.", short(var))),
                        ),
                    }
                    continue;
                }
                if !value.starts_with(' ') && !value.is_empty() {
                    self.push(
                        Severity::Warning,
                        "header_arg_spacing",
                        "no space after the colon (`Authorization:Bearer …`)".into(),
                        &vp,
                        Some(header_arg_hint()),
                    );
                }
                if holds_real_token(value) {
                    self.push(
                        Severity::Error,
                        "token_in_args",
                        format!(
                            "the token (`{}`) is in `args`: the command line of `npx mcp-remote`, which every local process can read",
                            mask_value(value)
                        ),
                        &vp,
                        Some(header_arg_hint()),
                    );
                }
                self.auth_value(value, &vp);
                continue;
            }
            if !a.starts_with('-') && !url_seen {
                url_seen = true;
                self.url(&p, a);
            }
            i += 1;
        }
        if !url_seen {
            self.push(
                Severity::Error,
                "url_missing",
                "`mcp-remote` is given no server URL".into(),
                &apath,
                Some("Put https://www.myworkboard.com/wb/mcp after `mcp-remote`.".into()),
            );
        }
        if !auth_seen {
            self.missing_auth(&apath);
        }
    }

    /// Every redirect URI field anywhere in the document must be Claude's callback, exactly.
    fn redirects(&mut self, v: &Value, path: &str) {
        match v {
            Value::Object(m) => {
                for (k, child) in m {
                    let p = format!("{path}/{}", pointer_escape(k));
                    let norm: String = k
                        .to_ascii_lowercase()
                        .chars()
                        .filter(|c| c.is_ascii_alphanumeric())
                        .collect();
                    if matches!(
                        norm.as_str(),
                        "redirecturi"
                            | "redirecturl"
                            | "callbackurl"
                            | "callbackuri"
                            | "redirecturis"
                    ) {
                        match child {
                            Value::String(s) => self.redirect(s, &p),
                            Value::Array(a) => {
                                for (i, s) in a.iter().enumerate() {
                                    if let Value::String(s) = s {
                                        self.redirect(s, &format!("{p}/{i}"));
                                    }
                                }
                            }
                            _ => {}
                        }
                    } else {
                        self.redirects(child, &p);
                    }
                }
            }
            Value::Array(a) => {
                for (i, child) in a.iter().enumerate() {
                    self.redirects(child, &format!("{path}/{i}"));
                }
            }
            _ => {}
        }
    }

    fn redirect(&mut self, actual: &str, path: &str) {
        if actual == CLAUDE_REDIRECT_URI {
            return;
        }
        let at = first_difference(CLAUDE_REDIRECT_URI, actual);
        let shown = workboard_core::http::redact_url(actual);
        self.push(
            Severity::Error,
            "redirect_uri_mismatch",
            format!(
                "redirect URI `{}` is not `{CLAUDE_REDIRECT_URI}`: they differ at character {at}\n  expected: {CLAUDE_REDIRECT_URI}\n  found:    {}\n            {}^",
                short(&shown),
                short(&shown),
                " ".repeat(at)
            ),
            path,
            Some(HINT_REDIRECT.into()),
        );
    }
}

fn inputs_of(root: &Map<String, Value>) -> Vec<(String, bool)> {
    root.get("inputs")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|i| {
                    let id = i.get("id")?.as_str()?.to_string();
                    Some((
                        id,
                        i.get("password").and_then(Value::as_bool).unwrap_or(false),
                    ))
                })
                .collect()
        })
        .unwrap_or_default()
}

fn is_entry(m: &Map<String, Value>) -> bool {
    m.contains_key("url")
        || m.contains_key("command")
        || m.contains_key("serverUrl")
        || m.contains_key("httpUrl")
}

fn has_redirect_field(m: &Map<String, Value>) -> bool {
    let s = Value::Object(m.clone()).to_string().to_ascii_lowercase();
    s.contains("redirect_uri")
        || s.contains("redirecturi")
        || s.contains("redirect_url")
        || s.contains("redirecturl")
        || s.contains("callback_ur")
        || s.contains("callbackur")
}

fn mentions_workboard(v: &Value) -> bool {
    let s = v.to_string().to_ascii_lowercase();
    let bridge = v
        .get("command")
        .and_then(Value::as_str)
        .and_then(|c| c.rsplit(['/', '\\']).next())
        .is_some_and(|c| {
            matches!(
                c.to_ascii_lowercase().as_str(),
                "workboard" | "workboard.exe"
            )
        });
    bridge || s.contains("myworkboard") || s.contains("/wb/mcp")
}

fn is_placeholder(token: &str) -> bool {
    let t = token.to_ascii_lowercase();
    t == TOKEN_PLACEHOLDER.to_ascii_lowercase()
        || (t.starts_with('<') && t.ends_with('>'))
        || t.starts_with("your_")
        || t.starts_with("your-")
        || t.contains("token_here")
        || t.contains("your_token")
        || t == "token"
        || t == "xxx"
        || t == "..."
        || t == "changeme"
}

/// `Bearer …abcd` / the value with anything token-like masked.
fn mask_value(v: &str) -> String {
    let v = v.trim();
    let lower = v.to_ascii_lowercase();
    if lower.starts_with("bearer") {
        let rest = v[6..].trim();
        if rest.is_empty() {
            return "Bearer".into();
        }
        return format!("Bearer {}", mask_secret(rest));
    }
    if let Some((name, value)) = v.split_once(':') {
        if !value.trim().is_empty() {
            return format!("{}: {}", short(name.trim()), mask_value(value));
        }
        return format!("{}:", short(name.trim()));
    }
    mask_secret(v)
}

fn bearer_hint() -> String {
    "Send `Authorization: Bearer <your personal token>` (one space after `Bearer`).".into()
}

fn header_arg_hint() -> String {
    "Pass the header as mcp-remote documents it: `\"--header\", \"Authorization:${AUTH_HEADER}\"` in `args` (no space after the colon) and `\"env\": {\"AUTH_HEADER\": \"Bearer <token>\"}` in the entry, so the token is not on the command line.".into()
}

/// `${NAME}` (the whole value, trimmed): the environment variable it names.
fn env_reference(value: &str) -> Option<&str> {
    let v = value.trim();
    let name = v.strip_prefix("${")?.strip_suffix('}')?;
    (!name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        .then_some(name)
}

/// Whether an `Authorization` value written in `args` carries a real token (not empty, not a
/// placeholder, not a `${...}` reference).
fn holds_real_token(value: &str) -> bool {
    let v = value.trim();
    let t = if v.len() >= 6 && v[..6].eq_ignore_ascii_case("bearer") {
        v[6..].trim()
    } else {
        v
    };
    !t.is_empty() && !is_placeholder(t) && !t.contains("${")
}

fn short(s: &str) -> String {
    let mut out: String = s.chars().take(80).collect();
    if s.chars().count() > 80 {
        out.push('…');
    }
    out
}

fn pointer_escape(s: &str) -> String {
    s.replace('~', "~0").replace('/', "~1")
}

/// Levenshtein distance, bounded inputs (header names).
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().take(64).collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}
