//! AI-client configs: generation (seed formats), merge, lint rules, secrets masked.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::{json, Value};
use workboard_config::lint::{detect, lint, lint_as, lint_toml, Finding, Severity};
use workboard_config::{
    bridge_args, claude_code_command, generate, merge_into, AiClient, ConfigForm, ConfigParams,
    ConfigToken, Os, CLAUDE_REDIRECT_URI, TOKEN_PLACEHOLDER,
};
use workboard_core::{Environment, Error, SecretString};

const TOKEN: &str = "wbtok_9f8e7d6c5b4a3210ZZQX";

fn us() -> ConfigParams {
    ConfigParams::for_environment(&Environment::Us)
}

/// Claude Desktop's `npx mcp-remote` form (the seed's).
fn remote() -> ConfigParams {
    us().with_form(ConfigForm::McpRemote)
}

/// The clients whose generated file is JSON and holds an HTTP entry with the token.
fn http_json_clients() -> Vec<AiClient> {
    AiClient::ALL
        .into_iter()
        .filter(|c| !c.is_toml() && c.supports(ConfigForm::Http) && *c != AiClient::ClaudeDesktop)
        .collect()
}

fn parse(s: &str) -> Value {
    serde_json::from_str(s).unwrap()
}

fn codes(f: &[Finding]) -> Vec<&str> {
    f.iter().map(|f| f.code.as_str()).collect()
}

#[test]
fn claude_desktop_matches_seed() {
    let v = parse(&generate(AiClient::ClaudeDesktop, &remote()).unwrap());
    assert_eq!(
        v,
        json!({"mcpServers": {"workboard": {"command": "npx", "args": [
            "-y", "mcp-remote", "https://www.myworkboard.com/wb/mcp", "--header",
            "Authorization:${AUTH_HEADER}"],
            "env": {"AUTH_HEADER": "Bearer YOUR_WB_TOKEN"}}}})
    );
}

#[test]
fn claude_desktop_keeps_the_token_out_of_args() {
    let text = generate(
        AiClient::ClaudeDesktop,
        &remote().with_token(SecretString::new(TOKEN)),
    )
    .unwrap();
    let v = parse(&text);
    let e = &v["mcpServers"]["workboard"];
    assert!(!e["args"].to_string().contains(TOKEN), "{text}");
    assert_eq!(e["args"][4], "Authorization:${AUTH_HEADER}");
    assert_eq!(e["env"]["AUTH_HEADER"], format!("Bearer {TOKEN}"));
    assert!(lint(&text).unwrap().is_empty(), "{:?}", lint(&text));

    // A real token in `args` (what older versions generated) is an error, masked.
    let in_args = claude_literal(&format!("Authorization: Bearer {TOKEN}"));
    let f = only(&in_args, "token_in_args");
    assert_eq!(f.severity, Severity::Error);
    assert_eq!(f.path, "/mcpServers/workboard/args/4");
    assert!(!f.message.contains(TOKEN) && f.hint.unwrap().contains("AUTH_HEADER"));

    // The env form is checked through `env`.
    let with_env = |env: Value| {
        json!({"mcpServers": {"workboard": {"command": "npx", "args": [
            "-y", "mcp-remote", "https://www.myworkboard.com/wb/mcp", "--header",
            "Authorization:${AUTH_HEADER}"], "env": env}}})
        .to_string()
    };
    let f = only(&with_env(json!({})), "header_env_undefined");
    assert_eq!(f.path, "/mcpServers/workboard/args/4");
    only(&with_env(json!({"AUTH_HEADER": 5})), "header_env_undefined");
    let f = only(
        &with_env(json!({"AUTH_HEADER": "Bearer YOUR_WB_TOKEN"})),
        "token_placeholder",
    );
    assert_eq!(f.path, "/mcpServers/workboard/env/AUTH_HEADER");
    let f = only(&with_env(json!({"AUTH_HEADER": TOKEN})), "bearer_missing");
    assert!(!f.message.contains(TOKEN));
    only(&with_env(json!({"AUTH_HEADER": "Bearer"})), "token_empty");
}

fn claude_literal(header: &str) -> String {
    json!({"mcpServers": {"workboard": {"command": "npx", "args": [
        "-y", "mcp-remote", "https://www.myworkboard.com/wb/mcp", "--header", header]}}})
    .to_string()
}

#[test]
fn cursor_uses_authorization_not_the_seeds_authorisation() {
    let text = generate(AiClient::Cursor, &us()).unwrap();
    assert!(!text.contains("Authorisation"));
    assert_eq!(
        parse(&text),
        json!({"mcpServers": {"workboard": {"url": "https://www.myworkboard.com/wb/mcp",
            "headers": {"Authorization": "Bearer YOUR_WB_TOKEN"}}}})
    );
}

#[test]
fn generic_matches_seed() {
    let v = parse(&generate(AiClient::Generic, &us()).unwrap());
    assert_eq!(
        v,
        json!({"mcpServers": {"workboard": {"type": "http", "url": "https://www.myworkboard.com/wb/mcp",
            "headers": {"Authorization": "Bearer YOUR_WB_TOKEN"}}}})
    );
}

#[test]
fn vscode_defaults_to_a_password_prompt_input() {
    let text = generate(
        AiClient::VsCode,
        &ConfigParams::for_environment(&Environment::Eu),
    )
    .unwrap();
    let v = parse(&text);
    assert_eq!(
        v,
        json!({
            "inputs": [{"type": "promptString", "id": "workboard-token",
                        "description": "WorkBoard personal token", "password": true}],
            "servers": {"workboard": {"type": "http", "url": "https://www.myworkboard.eu/wb/mcp",
                "headers": {"Authorization": "Bearer ${input:workboard-token}"}}}
        })
    );
    assert!(lint(&text).unwrap().is_empty(), "{:?}", lint(&text));
}

#[test]
fn vscode_can_write_a_token_or_placeholder() {
    let p = us().with_token_choice(ConfigToken::Placeholder);
    let v = parse(&generate(AiClient::VsCode, &p).unwrap());
    assert!(v.get("inputs").is_none());
    assert_eq!(
        v["servers"]["workboard"]["headers"]["Authorization"],
        "Bearer YOUR_WB_TOKEN"
    );
}

#[test]
fn generated_configs_with_a_token_lint_clean() {
    for client in http_json_clients() {
        let p = us()
            .with_form(ConfigForm::Http)
            .with_token(SecretString::new(TOKEN));
        let text = generate(client, &p).unwrap();
        assert!(text.contains(TOKEN), "{client:?} writes the real token");
        assert_eq!(lint(&text).unwrap(), vec![], "{client:?}");
        assert_eq!(
            lint_as(&text, Some(client)).unwrap(),
            vec![],
            "{client:?} strict"
        );
        let expected = match client {
            // Same shape as the generic form.
            AiClient::ClaudeCode => AiClient::Generic,
            c => c,
        };
        assert_eq!(detect(&text).unwrap(), Some(expected));
    }
    let text = generate(
        AiClient::ClaudeDesktop,
        &remote().with_token(SecretString::new(TOKEN)),
    )
    .unwrap();
    assert!(lint(&text).unwrap().is_empty());
    let toml = generate(
        AiClient::Codex,
        &us()
            .with_form(ConfigForm::Http)
            .with_token(SecretString::new(TOKEN)),
    )
    .unwrap();
    assert!(toml.contains(TOKEN), "{toml}");
    assert_eq!(lint_toml(&toml).unwrap(), vec![], "{toml}");
}

#[test]
fn generated_templates_only_flag_the_placeholder() {
    for (client, p) in [
        (AiClient::ClaudeDesktop, remote()),
        (AiClient::Cursor, us()),
        (AiClient::Generic, us()),
        (AiClient::Zed, us().with_form(ConfigForm::Http)),
    ] {
        let f = lint(&generate(client, &p).unwrap()).unwrap();
        assert_eq!(codes(&f), vec!["token_placeholder"], "{client:?}");
        assert_eq!(f[0].severity, Severity::Error);
    }
}

#[test]
fn custom_server_name_and_loopback_url() {
    let p = ConfigParams::for_url("http://127.0.0.1:8080/wb/mcp")
        .with_server_name("wb-sim")
        .with_token(SecretString::new(TOKEN));
    let v = parse(&generate(AiClient::Cursor, &p).unwrap());
    assert_eq!(
        v["mcpServers"]["wb-sim"]["url"],
        "http://127.0.0.1:8080/wb/mcp"
    );
}

#[test]
fn generate_refuses_bad_params() {
    let e = generate(
        AiClient::Cursor,
        &ConfigParams::for_url("http://www.myworkboard.com/wb/mcp"),
    )
    .unwrap_err();
    assert_eq!(e.code(), "insecure_url");
    let e = generate(AiClient::Cursor, &ConfigParams::for_url("not a url")).unwrap_err();
    assert_eq!(e.code(), "invalid_url");
    let e = generate(
        AiClient::Cursor,
        &us().with_token(SecretString::new("abc def")),
    )
    .unwrap_err();
    assert_eq!(e.code(), "invalid_input");
    assert!(!e.to_string().contains("abc def"));
    let e = generate(AiClient::Cursor, &us().with_token(SecretString::new("  "))).unwrap_err();
    assert_eq!(e.code(), "invalid_input");
    let e = generate(
        AiClient::ClaudeDesktop,
        &remote().with_token_choice(ConfigToken::Prompt),
    )
    .unwrap_err();
    assert_eq!(e.code(), "invalid_input");
    let e = generate(AiClient::Generic, &us().with_server_name(" ")).unwrap_err();
    assert_eq!(e.code(), "invalid_input");
}

#[test]
fn params_debug_hides_token() {
    let p = us().with_token(SecretString::new(TOKEN));
    assert!(!format!("{p:?}").contains(TOKEN));
}

#[test]
fn client_names_and_paths() {
    assert_eq!(
        AiClient::parse("Claude-Desktop").unwrap(),
        AiClient::ClaudeDesktop
    );
    assert_eq!(AiClient::parse("vs code").unwrap(), AiClient::VsCode);
    assert_eq!(AiClient::parse("other").unwrap(), AiClient::Generic);
    assert_eq!(
        AiClient::parse("emacs").unwrap_err().code(),
        "invalid_input"
    );
    for c in AiClient::ALL {
        assert_eq!(AiClient::parse(c.name()).unwrap(), c);
    }
    let cd = AiClient::ClaudeDesktop;
    assert_eq!(
        cd.default_path(Os::MacOs),
        Some("~/Library/Application Support/Claude/claude_desktop_config.json")
    );
    assert_eq!(
        cd.default_path(Os::Windows),
        Some("%APPDATA%\\Claude\\claude_desktop_config.json")
    );
    assert_eq!(
        cd.default_path(Os::Linux),
        Some("~/.config/Claude/claude_desktop_config.json")
    );
    assert_eq!(
        AiClient::VsCode.default_path(Os::Linux),
        Some(".vscode/mcp.json")
    );
    assert_eq!(AiClient::Generic.default_path(Os::Linux), None);
}

// ---------------------------------------------------------------- merge

#[test]
fn merge_keeps_other_servers_and_keys() {
    let existing = r#"{
      "globalShortcut": "Ctrl+Space",
      "mcpServers": {
        "filesystem": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem", "/tmp"]},
        "workboard": {"url": "https://old.example/wb/mcp"}
      }
    }"#;
    let out = merge_into(
        existing,
        AiClient::Cursor,
        &us().with_token(SecretString::new(TOKEN)),
    )
    .unwrap();
    let v = parse(&out);
    assert_eq!(v["globalShortcut"], "Ctrl+Space");
    assert_eq!(v["mcpServers"]["filesystem"]["args"][2], "/tmp");
    assert_eq!(
        v["mcpServers"]["workboard"]["url"],
        "https://www.myworkboard.com/wb/mcp"
    );
    assert_eq!(
        v["mcpServers"]["workboard"]["headers"]["Authorization"],
        format!("Bearer {TOKEN}")
    );
    assert_eq!(v["mcpServers"].as_object().unwrap().len(), 2);
}

#[test]
fn merge_into_empty_equals_generate() {
    for c in AiClient::ALL.into_iter().filter(|c| !c.is_toml()) {
        assert_eq!(
            parse(&merge_into("  \n", c, &us()).unwrap()),
            parse(&generate(c, &us()).unwrap())
        );
    }
}

#[test]
fn merge_vscode_jsonc_keeps_inputs_without_duplicates() {
    let existing = r#"{
      // my servers
      "inputs": [{"type": "promptString", "id": "gh", "password": true},
                 {"type": "promptString", "id": "workboard-token", "password": false},],
      "servers": {"github": {"type": "http", "url": "https://api.githubcopilot.com/mcp/"}},
    }"#;
    let v = parse(&merge_into(existing, AiClient::VsCode, &us()).unwrap());
    let inputs = v["inputs"].as_array().unwrap();
    assert_eq!(inputs.len(), 2);
    assert_eq!(inputs[0]["id"], "gh");
    assert_eq!(inputs[1]["id"], "workboard-token");
    assert_eq!(inputs[1]["password"], true);
    assert!(v["servers"]["github"].is_object() && v["servers"]["workboard"].is_object());
}

#[test]
fn merge_errors_are_typed() {
    let e = merge_into(
        "{\n  \"mcpServers\": {\n    \"a\": 1\n    \"b\": 2\n  }\n}",
        AiClient::Cursor,
        &us(),
    )
    .unwrap_err();
    assert_eq!(
        e,
        Error::ConfigSyntax {
            line: 4,
            column: 5,
            reason: "expected `,` or `}`".into()
        }
    );
    assert_eq!(e.code(), "invalid_config_json");
    assert_eq!(
        merge_into("[1]", AiClient::Cursor, &us())
            .unwrap_err()
            .code(),
        "invalid_config"
    );
    assert_eq!(
        merge_into(r#"{"mcpServers": []}"#, AiClient::Cursor, &us())
            .unwrap_err()
            .code(),
        "invalid_config"
    );
    assert_eq!(
        merge_into(r#"{"inputs": {}}"#, AiClient::VsCode, &us())
            .unwrap_err()
            .code(),
        "invalid_config"
    );
}

// ---------------------------------------------------------------- lint rules

fn cursor_with(headers: Value) -> String {
    json!({"mcpServers": {"workboard": {"url": "https://www.myworkboard.com/wb/mcp", "headers": headers}}})
        .to_string()
}

fn cursor_url(url: &str) -> String {
    json!({"mcpServers": {"workboard": {"url": url, "headers": {"Authorization": format!("Bearer {TOKEN}")}}}})
        .to_string()
}

/// A Claude Desktop entry with these `args` and the token in `env` (`AUTH_HEADER`).
fn claude_args(args: Value) -> String {
    json!({"mcpServers": {"workboard": {"command": "npx", "args": args,
        "env": {"AUTH_HEADER": format!("Bearer {TOKEN}")}}}})
    .to_string()
}

fn only(text: &str, code: &str) -> Finding {
    let f = lint(text).unwrap();
    assert_eq!(codes(&f), vec![code], "{text}\n{f:#?}");
    f.into_iter().next().unwrap()
}

#[test]
fn the_seeds_cursor_snippet_is_flagged() {
    let seed = "{ \"mcpServers\": {\n\"workboard\": {\n\"url\": \"https://www.myworkboard.com/wb/mcp\",\n\"headers\": {\n\"Authorisation\": \"Bearer YOUR_WB_TOKEN\"\n}\n}\n}\n}";
    let f = lint(seed).unwrap();
    assert_eq!(
        codes(&f),
        vec!["authorization_header_misspelled", "token_placeholder"]
    );
    assert_eq!(f[0].path, "/mcpServers/workboard/headers/Authorisation");
    assert!(f[0].message.contains("British"));
}

#[test]
fn header_name_rules() {
    // Case does not matter.
    assert!(lint(&cursor_with(
        json!({"authorization": format!("bearer {TOKEN}")})
    ))
    .unwrap()
    .is_empty());
    for bad in [
        "Auth",
        "Authorisation",
        "Autorization",
        "Authorizaton",
        "Token",
        "X-Auth",
    ] {
        let f = only(
            &cursor_with(json!({bad: format!("Bearer {TOKEN}")})),
            "authorization_header_misspelled",
        );
        assert_eq!(f.severity, Severity::Error);
    }
    // A header carrying a Bearer value under an unrelated name.
    only(
        &cursor_with(json!({"X-Key": format!("Bearer {TOKEN}")})),
        "authorization_header_misspelled",
    );
    // Spaces around the name.
    only(
        &cursor_with(json!({"Authorization ": format!("Bearer {TOKEN}")})),
        "authorization_header_misspelled",
    );
    let f = only(
        &cursor_with(json!({"X-Trace": "1"})),
        "authorization_header_missing",
    );
    assert_eq!(f.severity, Severity::Warning);
    only(
        &json!({"mcpServers": {"workboard": {"url": "https://www.myworkboard.com/wb/mcp"}}})
            .to_string(),
        "authorization_header_missing",
    );
}

#[test]
fn bearer_and_token_rules() {
    only(
        &cursor_with(json!({"Authorization": TOKEN})),
        "bearer_missing",
    );
    only(
        &cursor_with(json!({"Authorization": format!("Token {TOKEN}")})),
        "bearer_missing",
    );
    only(&cursor_with(json!({"Authorization": 5})), "bearer_missing");
    only(
        &cursor_with(json!({"Authorization": format!("Bearer{TOKEN}")})),
        "bearer_spacing",
    );
    let f = only(
        &cursor_with(json!({"Authorization": format!("Bearer   {TOKEN}")})),
        "bearer_spacing",
    );
    assert_eq!(f.severity, Severity::Warning);
    only(
        &cursor_with(json!({"Authorization": "Bearer "})),
        "token_empty",
    );
    only(
        &cursor_with(json!({"Authorization": "Bearer"})),
        "token_empty",
    );
    only(
        &cursor_with(json!({"Authorization": "Bearer YOUR_WB_TOKEN"})),
        "token_placeholder",
    );
    only(
        &cursor_with(json!({"Authorization": "Bearer <token>"})),
        "token_placeholder",
    );
    only(
        &cursor_with(json!({"Authorization": format!("Bearer {TOKEN}\n")})),
        "token_whitespace",
    );
    only(
        &cursor_with(json!({"Authorization": "Bearer abcd efgh ijkl mnop"})),
        "token_whitespace",
    );
    // Environment interpolation is left to the client.
    assert!(lint(&cursor_with(
        json!({"Authorization": "Bearer ${env:WB_TOKEN}"})
    ))
    .unwrap()
    .is_empty());
}

#[test]
fn vscode_input_rules() {
    let doc = |inputs: Value| {
        json!({"inputs": inputs, "servers": {"workboard": {"type": "http",
            "url": "https://www.myworkboard.com/wb/mcp",
            "headers": {"Authorization": "Bearer ${input:workboard-token}"}}}})
        .to_string()
    };
    only(&doc(json!([])), "input_undefined");
    only(
        &doc(json!([{"type": "promptString", "id": "workboard-token"}])),
        "input_not_password",
    );
    assert!(lint(&doc(
        json!([{"type": "promptString", "id": "workboard-token", "password": true}])
    ))
    .unwrap()
    .is_empty());
}

#[test]
fn url_rules() {
    for (url, code) in [
        ("https://myworkboard.com/wb/mcp", "wrong_host"),
        ("https://app.myworkboard.com/wb/mcp", "wrong_host"),
        ("https://www.myworkboard.com:8443/wb/mcp", "wrong_host"),
        ("https://www.myworkboard.com/mcp", "wrong_path"),
        ("https://www.myworkboard.com/wb/mcp/", "wrong_path"),
        ("https://example.com/wb/mcp", "unknown_host"),
        ("ftp://www.myworkboard.com/wb/mcp", "url_invalid"),
        ("not a url", "url_invalid"),
        (
            "https://www.myworkboard.com/wb/mcp?token=abc",
            "token_in_url",
        ),
    ] {
        let f = only(&cursor_url(url), code);
        assert_eq!(f.path, "/mcpServers/workboard/url", "{url}");
    }
    let f = lint(&cursor_url("http://www.myworkboard.com/wb/mcp")).unwrap();
    assert_eq!(codes(&f), vec!["url_insecure"]);
    let f = only(
        &cursor_url("https://www.myworkboard.com/wb/mcp/"),
        "wrong_path",
    );
    assert!(f.message.contains("trailing slash"));
    let f = only(&cursor_url("https://myworkboard.eu/wb/mcp"), "wrong_host");
    assert!(f.message.contains("www.myworkboard.eu"));
    // Loopback (the simulator) is fine, over http too.
    assert!(lint(&cursor_url("http://127.0.0.1:9000/wb/mcp"))
        .unwrap()
        .is_empty());
    assert!(lint(&cursor_url("https://www.myworkboard.eu/wb/mcp"))
        .unwrap()
        .is_empty());
    only(
        &json!({"mcpServers": {"workboard": {"url": 3}}})
            .to_string()
            .replace(
                "}}}",
                ",\"headers\":{\"Authorization\":\"Bearer abcdefghijkl\"}}}}",
            ),
        "url_invalid",
    );
    only(
        &json!({"mcpServers": {"workboard": {"headers": {}}}}).to_string(),
        "url_missing",
    );
}

#[test]
fn type_rules_for_the_generic_format() {
    let with_type = |t: Value| {
        json!({"mcpServers": {"workboard": {"type": t, "url": "https://www.myworkboard.com/wb/mcp",
            "headers": {"Authorization": format!("Bearer {TOKEN}")}}}})
        .to_string()
    };
    let f = only(&with_type(json!("sse")), "type_wrong");
    assert_eq!(f.severity, Severity::Warning);
    let f = only(&with_type(json!("stdio")), "type_wrong");
    assert_eq!(f.severity, Severity::Error);
    only(&with_type(json!(1)), "type_wrong");
    assert!(lint(&with_type(json!("streamable-http")))
        .unwrap()
        .is_empty());
    // Without type: Cursor's format (fine), unless the file is known to be generic.
    let no_type = cursor_url("https://www.myworkboard.com/wb/mcp");
    assert!(lint(&no_type).unwrap().is_empty());
    assert_eq!(
        codes(&lint_as(&no_type, Some(AiClient::Generic)).unwrap()),
        vec!["type_missing"]
    );
    let vs = json!({"servers": {"workboard": {"url": "https://www.myworkboard.com/wb/mcp",
        "headers": {"Authorization": format!("Bearer {TOKEN}")}}}})
    .to_string();
    assert_eq!(codes(&lint(&vs).unwrap()), vec!["type_missing"]);
}

#[test]
fn mcp_remote_rules() {
    let url = "https://www.myworkboard.com/wb/mcp";
    let auth = "Authorization:${AUTH_HEADER}";
    only(
        &claude_args(json!(["mcp-remote", url, "--header", auth])),
        "npx_missing_yes",
    );
    only(
        &claude_args(json!(["-y", url, "--header", auth])),
        "mcp_remote_missing",
    );
    let f = only(
        &claude_args(json!(["-y", "mcp-remote", url, "--header"])),
        "header_arg_missing_value",
    );
    assert_eq!(f.path, "/mcpServers/workboard/args/3");
    let f = lint(&claude_args(json!([
        "-y",
        "mcp-remote",
        url,
        "--header",
        "--debug"
    ])))
    .unwrap();
    assert_eq!(codes(&f), vec!["header_arg_missing_value"]);
    only(
        &claude_args(json!([
            "-y",
            "mcp-remote",
            url,
            "--header",
            format!("Authorization Bearer {TOKEN}")
        ])),
        "header_arg_malformed",
    );
    let f = lint(&claude_args(json!([
        "-y",
        "mcp-remote",
        url,
        "--header",
        format!("Authorization:Bearer {TOKEN}")
    ])))
    .unwrap();
    assert_eq!(codes(&f), vec!["header_arg_spacing", "token_in_args"]);
    only(
        &claude_args(json!([
            "-y",
            "mcp-remote",
            url,
            "--header",
            "Authorization:",
            format!("Bearer {TOKEN}")
        ])),
        "header_arg_split",
    );
    let f = lint(&claude_args(json!([
        "-y",
        "mcp-remote",
        url,
        "--header",
        format!("Authorisation: Bearer {TOKEN}")
    ])))
    .unwrap();
    assert_eq!(
        codes(&f),
        vec!["authorization_header_misspelled", "token_in_args"]
    );
    only(
        &claude_args(json!([
            "-y",
            "mcp-remote",
            url,
            "--header",
            "Authorization: Bearer YOUR_WB_TOKEN"
        ])),
        "token_placeholder",
    );
    only(
        &claude_args(json!([
            "-y",
            "mcp-remote",
            "https://www.myworkboard.com/wb/mcp/",
            "--header",
            auth
        ])),
        "wrong_path",
    );
    only(
        &claude_args(json!(["-y", "mcp-remote", "--header", auth])),
        "url_missing",
    );
    only(
        &claude_args(json!(["-y", "mcp-remote", url])),
        "authorization_header_missing",
    );
    only(&claude_args(json!("-y mcp-remote")), "args_invalid");
    only(&claude_args(json!(["-y", 5])), "args_invalid");
    // A pinned version and a path to npx are fine.
    let ok = json!({"mcpServers": {"workboard": {"command": "/usr/local/bin/npx",
        "args": ["--yes", "mcp-remote@0.1.29", url, "--header", auth],
        "env": {"AUTH_HEADER": format!("Bearer {TOKEN}")}}}});
    assert!(lint(&ok.to_string()).unwrap().is_empty());
}

#[test]
fn redirect_uri_rules() {
    let doc = |r: &str| json!({"oauth": {"client_id": "abc", "redirect_uri": r}}).to_string();
    assert!(lint(&doc(CLAUDE_REDIRECT_URI)).unwrap().is_empty());
    for (bad, at) in [
        ("https://claude.ai/api/mcp/auth_callback/", 39),
        ("http://claude.ai/api/mcp/auth_callback", 4),
        ("https://claude.com/api/mcp/auth_callback", 15),
    ] {
        let f = only(&doc(bad), "redirect_uri_mismatch");
        assert_eq!(f.path, "/oauth/redirect_uri");
        assert!(
            f.message.contains(&format!("differ at character {at}")),
            "{}",
            f.message
        );
        assert!(f.message.contains(CLAUDE_REDIRECT_URI) && f.message.contains(bad));
        let caret = f.message.lines().last().unwrap();
        assert_eq!(caret.find('^'), Some(12 + at), "{}", f.message);
        assert!(f.hint.as_deref().unwrap().contains("exactly"));
    }
    // Inside a server entry, camelCase, and in arrays.
    let in_entry = json!({"mcpServers": {"workboard": {"url": "https://www.myworkboard.com/wb/mcp",
        "headers": {"Authorization": format!("Bearer {TOKEN}")},
        "oauth": {"redirectUris": ["https://claude.ai/api/mcp/auth_callback", "https://claude.ai/cb"]}}}});
    let f = only(&in_entry.to_string(), "redirect_uri_mismatch");
    assert_eq!(f.path, "/mcpServers/workboard/oauth/redirectUris/1");
}

#[test]
fn format_rules() {
    only(r#"{"foo": 1}"#, "unknown_format");
    let f = only(
        r#"{"mcpServers": {"other": {"command": "uvx", "args": ["x"]}}}"#,
        "workboard_server_missing",
    );
    assert_eq!(f.path, "/mcpServers");
    only(
        r#"{"mcpServers": {"workboard": "https://www.myworkboard.com/wb/mcp"}}"#,
        "entry_invalid",
    );
    // A bare entry (as pasted into Cursor's dialog) and a bare server map.
    only(&json!({"url": "https://www.myworkboard.com/wb/mcp", "headers": {"Authorization": "Bearer YOUR_WB_TOKEN"}}).to_string(), "token_placeholder");
    only(&json!({"workboard": {"url": "https://www.myworkboard.com/mcp", "headers": {"Authorization": format!("Bearer {TOKEN}")}}}).to_string(), "wrong_path");
    // An entry with another name that points at WorkBoard is checked.
    only(
        &json!({"mcpServers": {"wb": {"url": "https://www.myworkboard.com/wb/mcp/"}}})
            .to_string()
            .replace(
                "/\"}",
                "/\", \"headers\": {\"Authorization\": \"Bearer abcdefghijkl\"}}",
            ),
        "wrong_path",
    );
}

#[test]
fn comments_are_fine_for_vscode_only() {
    let cursor = format!("{{\n  // WorkBoard\n  \"mcpServers\": {{\"workboard\": {{\"url\": \"https://www.myworkboard.com/wb/mcp\", \"headers\": {{\"Authorization\": \"Bearer {TOKEN}\"}},}}}}\n}}");
    let f = only(&cursor, "comments_in_strict_json");
    assert_eq!(f.severity, Severity::Warning);
    let vscode = format!("{{\n  /* inputs below */\n  \"servers\": {{\"workboard\": {{\"type\": \"http\", \"url\": \"https://www.myworkboard.com/wb/mcp\", \"headers\": {{\"Authorization\": \"Bearer {TOKEN}\"}},}},}},\n}}");
    assert!(lint(&vscode).unwrap().is_empty());
}

#[test]
fn invalid_json_is_a_typed_error_with_position() {
    let e = lint("{\n  \"mcpServers\": {\n    \"workboard\": {\"url\": \"x\" \"y\"}\n  }\n}")
        .unwrap_err();
    match &e {
        Error::ConfigSyntax { line, column, .. } => assert_eq!((*line, *column), (3, 30)),
        other => panic!("{other:?}"),
    }
    assert_eq!(lint("").unwrap_err().code(), "invalid_config_json");
    assert_eq!(lint("[]").unwrap_err().code(), "invalid_config");
    assert_eq!(lint("{ /* open").unwrap_err().code(), "invalid_config_json");
    // The error never quotes the file (which may hold a token).
    let e = lint(&format!("{{\"a\": \"Bearer {TOKEN}\" x}}")).unwrap_err();
    assert!(!e.to_string().contains(TOKEN));
    let big = format!("{{\"a\": \"{}\"}}", "x".repeat(2 * 1024 * 1024));
    assert_eq!(lint(&big).unwrap_err().code(), "invalid_config");
}

#[test]
fn findings_never_echo_a_real_token() {
    let t = TOKEN;
    let cases = vec![
        cursor_with(json!({"Authorisation": format!("Bearer {t}")})),
        cursor_with(json!({"Authorization": t})),
        cursor_with(json!({"Authorization": format!("Bearer{t}")})),
        cursor_with(json!({"Authorization": format!("Bearer {t} ")})),
        cursor_with(json!({"Authorization": format!("Bearer {}\n{}", &t[..10], &t[10..])})),
        cursor_with(json!({"Authorization": format!("Token {t}")})),
        claude_args(json!([
            "-y",
            "mcp-remote",
            "https://www.myworkboard.com/wb/mcp",
            "--header",
            format!("Authorization Bearer {t}")
        ])),
        cursor_url(&format!("https://www.myworkboard.com/wb/mcp?token={t}")),
        cursor_url(&format!(
            "https://www.myworkboard.com/wb/mcp?access_token={t}&x=1"
        )),
    ];
    for c in cases {
        let f = lint(&c).unwrap();
        assert!(!f.is_empty(), "{c}");
        let all = serde_json::to_string(&f).unwrap();
        assert!(
            !all.contains(t) && !all.contains(&t[..10]) && !all.contains(&t[10..]),
            "{all}"
        );
    }
    // The masked form shows the last four characters only.
    let f = lint(&cursor_with(json!({"Authorization": t}))).unwrap();
    assert!(f[0].message.contains("…ZZQX"), "{}", f[0].message);
}

#[test]
fn detect_formats() {
    assert_eq!(
        detect(r#"{"servers": {}}"#).unwrap(),
        Some(AiClient::VsCode)
    );
    assert_eq!(detect(r#"{"foo": {}}"#).unwrap(), None);
    assert_eq!(detect(r#"{"mcpServers": {}}"#).unwrap(), None);
    assert_eq!(
        detect(&cursor_url("https://www.myworkboard.com/wb/mcp")).unwrap(),
        Some(AiClient::Cursor)
    );
    assert!(detect("nope").is_err());
    assert_eq!(TOKEN_PLACEHOLDER, "YOUR_WB_TOKEN");
}

mod props {
    use super::*;
    use proptest::prelude::*;

    fn arb_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| json!(n)),
            prop_oneof![
                "[ -~]{0,20}",
                Just("Bearer YOUR_WB_TOKEN".to_string()),
                Just("https://www.myworkboard.com/wb/mcp".to_string()),
                Just("--header".to_string()),
                Just("mcp-remote".to_string()),
                Just("Authorization:".to_string()),
                Just("${input:workboard-token}".to_string()),
            ]
            .prop_map(Value::String),
        ];
        let keys = prop_oneof![
            Just("mcpServers".to_string()),
            Just("servers".to_string()),
            Just("workboard".to_string()),
            Just("url".to_string()),
            Just("command".to_string()),
            Just("args".to_string()),
            Just("headers".to_string()),
            Just("Authorization".to_string()),
            Just("type".to_string()),
            Just("inputs".to_string()),
            Just("id".to_string()),
            Just("redirect_uri".to_string()),
            "[a-zA-Z/~]{0,8}",
        ];
        leaf.prop_recursive(6, 64, 8, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::vec((keys.clone(), inner), 0..6)
                    .prop_map(|kv| Value::Object(kv.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn lint_never_panics_on_text(s in "\\PC{0,300}") {
            let _ = lint(&s);
            let _ = detect(&s);
            let _ = merge_into(&s, AiClient::VsCode, &us());
        }

        #[test]
        fn lint_never_panics_on_json_shapes(v in arb_json(), comment in any::<bool>()) {
            let mut text = serde_json::to_string_pretty(&v).unwrap();
            if comment { text = format!("// c\n{text}"); }
            for c in [None, Some(AiClient::ClaudeDesktop), Some(AiClient::Generic), Some(AiClient::VsCode)] {
                let _ = lint_as(&text, c);
            }
            for c in AiClient::ALL {
                if let Ok(out) = merge_into(&text, c, &us()) {
                    // Merging yields a file that parses and holds the entry.
                    let v = parse(&out);
                    prop_assert!(v[c.servers_key()]["workboard"].is_object());
                }
            }
        }

        #[test]
        fn masked_tokens_stay_masked(token in "[A-Za-z0-9]{12,40}", variant in 0usize..5) {
            let headers = match variant {
                0 => json!({"Authorisation": format!("Bearer {token}")}),
                1 => json!({"Authorization": token.clone()}),
                2 => json!({"Authorization": format!("Bearer{token}")}),
                3 => json!({"Authorization": format!("Bearer {token}\t")}),
                _ => json!({"Auth": format!("bearer  {token}")}),
            };
            let f = lint(&cursor_with(headers)).unwrap();
            prop_assert!(!f.is_empty());
            let all = serde_json::to_string(&f).unwrap();
            prop_assert!(!all.contains(&token));
        }
    }
}

// ---------------------------------------------------------------- the bridge and 2026's clients

/// The default for Claude Desktop and the clients added in 2026 is the bridge: `workboard
/// bridge` on stdio, nothing secret in the file, the server named only when it is not US.
#[test]
fn the_bridge_form_is_the_default_and_carries_no_secret() {
    for client in [
        AiClient::ClaudeDesktop,
        AiClient::ClaudeCode,
        AiClient::Gemini,
        AiClient::Windsurf,
        AiClient::Zed,
    ] {
        assert_eq!(client.default_form(), ConfigForm::Bridge);
        let text = generate(client, &us().with_token(SecretString::new(TOKEN))).unwrap();
        assert!(
            !text.contains(TOKEN),
            "{client:?}: the bridge reads the store: {text}"
        );
        let v = parse(&text);
        let e = &v[client.servers_key()]["workboard"];
        assert_eq!(e["command"], "workboard", "{client:?}: {text}");
        assert_eq!(e["args"], json!(["bridge"]));
        assert_eq!(lint(&text).unwrap(), vec![], "{client:?}: {text}");
        assert_eq!(
            lint_as(&text, Some(client)).unwrap(),
            vec![],
            "{client:?} strict"
        );
    }
    assert_eq!(
        parse(&generate(AiClient::ClaudeCode, &us()).unwrap())["mcpServers"]["workboard"]["type"],
        "stdio"
    );
    let eu = ConfigParams::for_environment(&Environment::Eu);
    assert_eq!(bridge_args(&eu), ["--env", "eu", "bridge"]);
    let sim = ConfigParams::for_url("http://127.0.0.1:8080/wb/mcp");
    assert_eq!(
        bridge_args(&sim),
        ["--server", "http://127.0.0.1:8080/wb/mcp", "bridge"]
    );
    // Codex: TOML.
    let toml = generate(AiClient::Codex, &us()).unwrap();
    assert_eq!(
        toml,
        "[mcp_servers.workboard]\ncommand = \"workboard\"\nargs = [\"bridge\"]\n"
    );
    assert_eq!(lint_toml(&toml).unwrap(), vec![]);
    // Forms a client cannot take are refused.
    for (c, f) in [
        (AiClient::ClaudeDesktop, ConfigForm::Http),
        (AiClient::Cursor, ConfigForm::McpRemote),
        (AiClient::Codex, ConfigForm::McpRemote),
    ] {
        assert_eq!(
            generate(c, &us().with_form(f)).unwrap_err().code(),
            "invalid_input",
            "{c:?} {f:?}"
        );
    }
    assert!(ConfigForm::McpRemote.needs_node() && !ConfigForm::Bridge.needs_node());
}

/// The HTTP form of the clients that read environment variables names one (never the
/// token), each in its client's own syntax.
#[test]
fn the_http_form_reads_the_token_from_the_environment_where_the_client_can() {
    let http = us().with_form(ConfigForm::Http);
    let auth = |c: AiClient| {
        let v = parse(&generate(c, &http).unwrap());
        v["mcpServers"]["workboard"]["headers"]["Authorization"].clone()
    };
    assert_eq!(auth(AiClient::ClaudeCode), "Bearer ${WORKBOARD_TOKEN}");
    assert_eq!(auth(AiClient::Gemini), "Bearer $WORKBOARD_TOKEN");
    assert_eq!(auth(AiClient::Windsurf), "Bearer ${env:WORKBOARD_TOKEN}");
    let g = parse(&generate(AiClient::Gemini, &http).unwrap());
    assert_eq!(
        g["mcpServers"]["workboard"]["httpUrl"],
        "https://www.myworkboard.com/wb/mcp"
    );
    let w = parse(&generate(AiClient::Windsurf, &http).unwrap());
    assert_eq!(
        w["mcpServers"]["workboard"]["serverUrl"],
        "https://www.myworkboard.com/wb/mcp"
    );
    let z = parse(&generate(AiClient::Zed, &http).unwrap());
    assert_eq!(
        z["context_servers"]["workboard"]["url"],
        "https://www.myworkboard.com/wb/mcp"
    );
    // Zed interpolates nothing: the placeholder, and an env token choice is refused.
    assert_eq!(
        z["context_servers"]["workboard"]["headers"]["Authorization"],
        "Bearer YOUR_WB_TOKEN"
    );
    let e = generate(
        AiClient::Zed,
        &http.clone().with_token_choice(ConfigToken::Env("X".into())),
    )
    .unwrap_err();
    assert_eq!(e.code(), "invalid_input");
    for c in [AiClient::ClaudeCode, AiClient::Gemini, AiClient::Windsurf] {
        let text = generate(c, &http).unwrap();
        assert_eq!(lint_as(&text, Some(c)).unwrap(), vec![], "{c:?}: {text}");
    }
    let toml = generate(AiClient::Codex, &http).unwrap();
    assert_eq!(
        toml,
        "[mcp_servers.workboard]\nurl = \"https://www.myworkboard.com/wb/mcp\"\nbearer_token_env_var = \"WORKBOARD_TOKEN\"\n"
    );
    assert_eq!(lint_toml(&toml).unwrap(), vec![]);
    // The Claude Code command: the variable, never a token, on the command line.
    let cmd = claude_code_command(&http.clone().with_token(SecretString::new(TOKEN))).unwrap();
    assert_eq!(
        cmd,
        "claude mcp add --scope user --transport http workboard https://www.myworkboard.com/wb/mcp --header \"Authorization: Bearer $WORKBOARD_TOKEN\""
    );
    assert_eq!(
        claude_code_command(&ConfigParams::for_environment(&Environment::Eu)).unwrap(),
        "claude mcp add --scope user --transport stdio workboard -- workboard --env eu bridge"
    );
}

/// Codex's file is merged keeping the user's comments, other servers and settings.
#[test]
fn codex_toml_merges_keep_what_is_there_and_bad_toml_is_a_typed_error() {
    let existing = "# my Codex settings\nmodel = \"o5\"\n\n[mcp_servers.github]\nurl = \"https://api.githubcopilot.com/mcp/\" # keep me\n\n[mcp_servers.workboard]\nurl = \"https://old.example/wb/mcp\"\nbearer_token = \"old-secret-token-1234\"\n";
    let out = merge_into(existing, AiClient::Codex, &us()).unwrap();
    assert!(
        out.contains("# my Codex settings") && out.contains("# keep me"),
        "{out}"
    );
    assert!(out.contains("model = \"o5\"") && out.contains("[mcp_servers.github]"));
    assert!(
        !out.contains("old-secret-token"),
        "the old entry is replaced: {out}"
    );
    assert!(out.contains("command = \"workboard\""));
    assert_eq!(lint_toml(&out).unwrap(), vec![], "{out}");
    // The old file lints with the inline token as an error, masked.
    let f = lint_toml(existing).unwrap();
    assert!(codes(&f).contains(&"bearer_token_inline"), "{f:?}");
    assert!(f
        .iter()
        .all(|f| !f.message.contains("old-secret-token-1234")));
    let e = merge_into("[mcp_servers\nsecret-token-5678 =", AiClient::Codex, &us()).unwrap_err();
    assert_eq!(e.code(), "invalid_config_json");
    assert!(!e.to_string().contains("secret-token-5678"), "{e}");
    let e = lint_toml("x = [1,\nbearer = \"abcdefgh12345\"").unwrap_err();
    assert!(!e.to_string().contains("abcdefgh12345"));
    let e = merge_into("mcp_servers = 5\n", AiClient::Codex, &us()).unwrap_err();
    assert_eq!(e.code(), "invalid_config");
}

/// What the bridge lint catches: no `bridge`, a credential on its command line, a bad
/// `--server`.
#[test]
fn a_bridge_entry_is_linted() {
    let with_args = |args: Value| {
        json!({"mcpServers": {"workboard": {"command": "workboard", "args": args}}}).to_string()
    };
    let f = lint(&with_args(json!([]))).unwrap();
    assert_eq!(codes(&f), ["bridge_arg_missing"]);
    let f = lint(&with_args(json!([
        "bridge",
        "--header",
        format!("Authorization: Bearer {TOKEN}")
    ])))
    .unwrap();
    assert!(codes(&f).contains(&"token_in_args"), "{f:?}");
    assert!(f.iter().all(|f| !f.message.contains(TOKEN)));
    let f = lint(&with_args(json!([
        "--server",
        "http://example.com/wb/mcp",
        "bridge"
    ])))
    .unwrap();
    assert!(codes(&f).contains(&"url_insecure"), "{f:?}");
    let f = lint(&with_args(json!(["--server"]))).unwrap();
    assert!(codes(&f).contains(&"url_missing"), "{f:?}");
    // Zed's map is found too.
    let z = json!({"context_servers": {"workboard": {"command": "workboard", "args": ["bridge"]}}})
        .to_string();
    assert_eq!(lint(&z).unwrap(), vec![]);
    assert_eq!(detect(&z).unwrap(), Some(AiClient::Zed));
}
