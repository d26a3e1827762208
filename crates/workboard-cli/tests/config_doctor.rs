//! End to end: the built `workboard` binary's `config` and `doctor` commands, against an
//! in-process WorkBoard simulator on 127.0.0.1.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use serde_json::{json, Value};
use workboard_core::{Credentials, Dialect, SecretString, TokenSet};
use workboard_native::{CredentialStore, FileStore};
use workboard_sim::{Role, SimConfig, SimHandle, Simulator, DEMO_PERSONAL_TOKEN};

const BIN: &str = env!("CARGO_BIN_EXE_workboard");

/// A simulator with the runtime that serves it (multi-threaded: it keeps serving while the
/// test waits for the binary).
struct Sim {
    handle: SimHandle,
    _rt: tokio::runtime::Runtime,
}

impl Sim {
    fn start() -> Sim {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let handle = rt.block_on(Simulator::start(SimConfig::default())).unwrap();
        Sim { handle, _rt: rt }
    }
    fn base(&self) -> &str {
        self.handle.base_url()
    }
}

/// Directories holding a fake `node` for `doctor` (so the Node.js row does not depend on the
/// machine): `v20/node` prints v20.11.1, `v16/node` prints v16.20.2, `none` has no node.
/// Every spawn goes through [`Out::run`], which calls this first: the scripts are written
/// and closed before any child process is forked (no ETXTBSY).
struct NodeDirs {
    v20: PathBuf,
    v16: PathBuf,
    none: PathBuf,
}

fn node_dirs() -> &'static NodeDirs {
    static DIRS: OnceLock<NodeDirs> = OnceLock::new();
    DIRS.get_or_init(|| {
        let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join("config_doctor_node");
        let mk = |name: &str, script: Option<&str>| {
            let dir = root.join(name);
            std::fs::create_dir_all(&dir).unwrap();
            if let Some(script) = script {
                let path = dir.join("node");
                std::fs::write(&path, script).unwrap();
                #[cfg(unix)]
                {
                    use std::os::unix::fs::PermissionsExt;
                    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
                        .unwrap();
                }
            }
            dir
        };
        NodeDirs {
            v20: mk("v20", Some("#!/bin/sh\necho v20.11.1\n")),
            v16: mk("v16", Some("#!/bin/sh\necho v16.20.2\n")),
            none: mk("none", None),
        }
    })
}

/// A finished run of the binary.
struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Out {
    fn run(store: &Path, args: &[&str], stdin: Option<&str>, path_env: Option<&Path>) -> Out {
        let dirs = node_dirs();
        let mut cmd = Command::new(BIN);
        cmd.arg("--store").arg(store).args(args);
        cmd.env_remove("WORKBOARD_ENV")
            .env_remove("WORKBOARD_SERVER");
        cmd.env("PATH", path_env.unwrap_or(&dirs.v20));
        cmd.stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        if let Some(input) = stdin {
            child
                .stdin
                .take()
                .unwrap()
                .write_all(input.as_bytes())
                .unwrap();
        }
        let out = child.wait_with_output().unwrap();
        let o = Out {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8(out.stdout).unwrap(),
            stderr: String::from_utf8(out.stderr).unwrap(),
        };
        assert!(!o.stderr.contains("panicked"), "panic: {}", o.stderr);
        o
    }

    /// The first stdout line as JSON (`--json` output).
    fn json(&self) -> Value {
        let line = self.stdout.lines().next().unwrap_or_default();
        serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {}", self.stdout))
    }

    /// The `error` object of a failed `--json` run (the last stdout line).
    fn json_error(&self) -> Value {
        let line = self.stdout.lines().last().unwrap_or_default();
        let v: Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {}", self.stdout));
        assert_eq!(v["ok"], false, "{v}");
        v["error"].clone()
    }

    fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

/// A temp dir with a credential store path in it.
struct Home {
    dir: tempfile::TempDir,
}

impl Home {
    fn new() -> Home {
        Home {
            dir: tempfile::tempdir().unwrap(),
        }
    }
    fn store(&self) -> PathBuf {
        self.dir.path().join("credentials.json")
    }
    fn file(&self, name: &str, content: &str) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::write(&p, content).unwrap();
        p
    }
    fn run(&self, args: &[&str]) -> Out {
        Out::run(&self.store(), args, None, None)
    }
    fn run_path(&self, args: &[&str], path_env: &Path) -> Out {
        Out::run(&self.store(), args, None, Some(path_env))
    }
    /// `token set` for the default environment (US).
    fn set_token(&self, token: &str) {
        self.set_token_for("us", token);
    }
    /// `--env <env> token set`: the token is bound to that environment's server.
    fn set_token_for(&self, env: &str, token: &str) {
        let o = Out::run(
            &self.store(),
            &["--env", env, "token", "set"],
            Some(token),
            None,
        );
        assert_eq!(o.code, 0, "{}", o.stderr);
        assert!(!o.all().contains(token));
    }
}

fn codes(findings: &Value) -> Vec<String> {
    findings
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect()
}

/// The `Authorization` value of the WorkBoard entry in a generated config of any format.
fn auth_and_url(client: &str, config: &Value) -> (String, String) {
    if client == "claude-desktop" {
        let e = &config["mcpServers"]["workboard"];
        assert_eq!(e["command"], "npx");
        let args: Vec<&str> = e["args"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap())
            .collect();
        assert_eq!(&args[..2], &["-y", "mcp-remote"]);
        assert_eq!(args[3], "--header");
        // The token is never on mcp-remote's command line: it comes from `env`.
        assert_eq!(args[4], "Authorization:${AUTH_HEADER}");
        let auth = e["env"]["AUTH_HEADER"].as_str().unwrap();
        return (auth.to_string(), args[2].to_string());
    }
    let e = if client == "vscode" {
        &config["servers"]["workboard"]
    } else {
        &config["mcpServers"]["workboard"]
    };
    let headers = e["headers"].as_object().unwrap();
    assert_eq!(headers.keys().collect::<Vec<_>>(), vec!["Authorization"]);
    (
        headers["Authorization"].as_str().unwrap().to_string(),
        e["url"].as_str().unwrap().to_string(),
    )
}

const CLIENTS: [&str; 4] = ["claude-desktop", "cursor", "vscode", "generic"];

/// The form these tests check for `client`: Claude Desktop's token-carrying form is
/// mcp-remote (its default, the bridge, carries none: `the_bridge_form_*`).
fn form_of(client: &str) -> &'static str {
    if client == "claude-desktop" {
        "mcp-remote"
    } else {
        "http"
    }
}

#[test]
fn generators_emit_json_with_authorization_bearer_and_the_environment_url() {
    let sim = Sim::start();
    let home = Home::new();
    for (env, url) in [
        ("us", "https://www.myworkboard.com/wb/mcp".to_string()),
        ("eu", "https://www.myworkboard.eu/wb/mcp".to_string()),
        (sim.base(), sim.handle.mcp_url()),
    ] {
        for client in CLIENTS {
            let o = home.run(&["--env", env, "config", client, "--form", form_of(client)]);
            assert_eq!(o.code, 0, "{client} {env}: {}", o.stderr);
            // Human output is the file itself.
            let config: Value = serde_json::from_str(&o.stdout).unwrap();
            assert!(!o.stdout.contains("Authorisation"));
            let (auth, got_url) = auth_and_url(client, &config);
            assert_eq!(got_url, url, "{client}");
            let expected = if client == "vscode" {
                "Bearer ${input:workboard-token}"
            } else {
                "Bearer YOUR_WB_TOKEN"
            };
            assert_eq!(auth, expected, "{client}");
            if client == "vscode" {
                assert_eq!(config["inputs"][0]["id"], "workboard-token");
                assert_eq!(config["inputs"][0]["password"], true);
            } else if client == "generic" {
                assert_eq!(config["mcpServers"]["workboard"]["type"], "http");
            }
            // --json wraps the same config.
            let j = home
                .run(&[
                    "--env",
                    env,
                    "--json",
                    "config",
                    client,
                    "--form",
                    form_of(client),
                ])
                .json();
            assert_eq!(j["ok"], true);
            assert_eq!(j["result"]["config"], config);
            assert_eq!(j["result"]["client"], client);
            assert_eq!(j["result"]["server_url"], url.as_str());
        }
    }
    // --server overrides the environment's URL.
    let o = home.run(&[
        "--server",
        "https://mcp.example.com/mcp",
        "config",
        "cursor",
    ]);
    let config: Value = serde_json::from_str(&o.stdout).unwrap();
    assert_eq!(
        config["mcpServers"]["workboard"]["url"],
        "https://mcp.example.com/mcp"
    );
}

#[test]
fn with_stored_token_writes_the_token_and_refuses_without_a_personal_token() {
    let home = Home::new();
    // Nothing stored: a typed refusal, nothing on stdout.
    let o = home.run(&["config", "cursor", "--with-stored-token"]);
    assert_eq!(o.code, 3, "{}", o.stderr);
    assert!(o.stdout.is_empty());
    assert!(
        o.stderr.contains("[not_signed_in]") && o.stderr.contains("workboard token set"),
        "{}",
        o.stderr
    );
    let e = home
        .run(&["--json", "config", "cursor", "--with-stored-token"])
        .json_error();
    assert_eq!(e["code"], "not_signed_in");

    let token = "wbp_stored_token_0123456789";
    home.set_token(token);
    for client in CLIENTS {
        let o = home.run(&[
            "config",
            client,
            "--form",
            form_of(client),
            "--with-stored-token",
        ]);
        assert_eq!(o.code, 0, "{}", o.stderr);
        let config: Value = serde_json::from_str(&o.stdout).unwrap();
        let (auth, _) = auth_and_url(client, &config);
        assert_eq!(auth, format!("Bearer {token}"), "{client}");
        assert!(!o.stdout.contains("YOUR_WB_TOKEN"));
        assert!(config.get("inputs").is_none(), "{client}");
        assert!(!o.stderr.contains(token));
    }

    // OAuth credentials are refused (config files need a personal token).
    let oauth = Credentials::OAuth(TokenSet {
        access_token: SecretString::new("oauth_access_0123456789"),
        refresh_token: Some(SecretString::new("oauth_refresh_0123456789")),
        token_type: "Bearer".into(),
        scope: Some("all".into()),
        issued_at_ms: 0,
        expires_at_ms: None,
        dialect: Dialect::OAuth2,
        bound_to: None,
    });
    FileStore::new(home.store())
        .save("credentials", &oauth.to_json())
        .unwrap();
    let o = home.run(&["config", "generic", "--with-stored-token"]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(o.stdout.is_empty());
    assert!(
        o.stderr.contains("[not_a_personal_token]") && o.stderr.contains("workboard token set")
    );
    assert!(!o.all().contains("oauth_access_0123456789"));
}

#[test]
fn merge_keeps_other_servers_and_replaces_the_workboard_entry() {
    let home = Home::new();
    let existing = json!({
        "globalShortcut": "Ctrl+Space",
        "mcpServers": {
            "filesystem": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem", "/tmp"]},
            "workboard": {"url": "https://www.myworkboard.com/wb/mcp", "headers": {"Authorisation": "Bearer YOUR_WB_TOKEN"}}
        }
    });
    let file = home.file("cursor.json", &existing.to_string());
    home.set_token("wbp_merge_token_0123456789");
    let o = home.run(&[
        "config",
        "cursor",
        "--with-stored-token",
        "--merge",
        file.to_str().unwrap(),
    ]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let merged: Value = serde_json::from_str(&o.stdout).unwrap();
    assert_eq!(merged["globalShortcut"], "Ctrl+Space");
    assert_eq!(
        merged["mcpServers"]["filesystem"],
        existing["mcpServers"]["filesystem"]
    );
    assert_eq!(
        merged["mcpServers"]["workboard"],
        json!({"url": "https://www.myworkboard.com/wb/mcp", "headers": {"Authorization": "Bearer wbp_merge_token_0123456789"}})
    );
    // The merged file lints clean (the filesystem server is not WorkBoard's business).
    let merged_file = home.file("merged.json", &o.stdout);
    let l = home.run(&["config", "lint", merged_file.to_str().unwrap()]);
    assert_eq!(l.code, 0, "{}{}", l.stdout, l.stderr);

    // VS Code: into a file with other servers and inputs.
    let vs = home.file("mcp.json", r#"{"inputs":[{"type":"promptString","id":"other"}],"servers":{"github":{"type":"http","url":"https://api.githubcopilot.com/mcp/"}}}"#);
    let o = home.run(&[
        "--json",
        "config",
        "vscode",
        "--merge",
        vs.to_str().unwrap(),
    ]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let merged = &o.json()["result"]["config"];
    assert_eq!(
        merged["servers"]["github"]["url"],
        "https://api.githubcopilot.com/mcp/"
    );
    assert_eq!(
        merged["servers"]["workboard"]["headers"]["Authorization"],
        "Bearer ${input:workboard-token}"
    );
    let ids: Vec<&str> = merged["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["other", "workboard-token"]);

    // Unusable files: typed errors, exit 2.
    let garbage = home.file("garbage.json", "{\"mcpServers\": {");
    let o = home.run(&["config", "cursor", "--merge", garbage.to_str().unwrap()]);
    assert_eq!(o.code, 2);
    assert!(
        o.stdout.is_empty() && o.stderr.contains("[invalid_config_json]"),
        "{}",
        o.stderr
    );
    let wrong = home.file("wrong.json", r#"{"mcpServers": []}"#);
    let o = home.run(&["config", "cursor", "--merge", wrong.to_str().unwrap()]);
    assert_eq!(o.code, 2);
    assert!(o.stderr.contains("[invalid_config]"), "{}", o.stderr);
    let missing = home.dir.path().join("missing.json");
    let o = home.run(&["config", "cursor", "--merge", missing.to_str().unwrap()]);
    assert_eq!(o.code, 2);
    assert!(o.stderr.contains("[config_unreadable]"), "{}", o.stderr);
}

/// Lints `content` with `--json`; returns (exit code, result).
fn lint_json(home: &Home, name: &str, content: &str) -> (i32, Value) {
    let f = home.file(name, content);
    let o = home.run(&["--json", "config", "lint", f.to_str().unwrap()]);
    let j = o.json();
    // One line: the result, and with error-level findings also the error.
    assert_eq!(o.stdout.lines().count(), 1, "{}", o.stdout);
    assert_eq!(j["ok"], o.code != 6, "{j}");
    if o.code == 6 {
        assert_eq!(o.json_error()["code"], "findings");
    }
    (o.code, j["result"].clone())
}

/// The seed's Cursor snippet, as published.
const SEED_CURSOR: &str = r#"{ "mcpServers": {
"workboard": {
"url": "https://www.myworkboard.com/wb/mcp",
"headers": {
"Authorisation": "Bearer YOUR_WB_TOKEN"
}
}
}
}"#;

#[test]
fn lint_flags_the_seeds_authorisation_misspelling() {
    let home = Home::new();
    let (code, r) = lint_json(&home, "seed.json", SEED_CURSOR);
    assert_eq!(code, 6);
    let c = codes(&r["findings"]);
    assert!(
        c.contains(&"authorization_header_misspelled".to_string()),
        "{c:?}"
    );
    let f = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "authorization_header_misspelled")
        .unwrap();
    assert_eq!(f["severity"], "error");
    assert_eq!(f["path"], "/mcpServers/workboard/headers/Authorisation");
    assert!(f["hint"].as_str().unwrap().contains("Authorization"));
    assert_eq!(r["clean"], false);
    assert!(r["errors"].as_u64().unwrap() >= 1);

    // Human form: code, severity, message and hint, then a summary; exit 6.
    let f = home.file("seed.json", SEED_CURSOR);
    let o = home.run(&["config", "lint", f.to_str().unwrap()]);
    assert_eq!(o.code, 6);
    assert!(
        o.stdout.contains("error[authorization_header_misspelled]"),
        "{}",
        o.stdout
    );
    assert!(
        o.stdout
            .contains("hint: Rename the header to `Authorization`"),
        "{}",
        o.stdout
    );
    assert!(o.stdout.contains("error(s)"));
    assert!(o.stderr.contains("[findings]"));
}

#[test]
fn lint_flags_missing_bearer_and_wrong_host_and_path() {
    let home = Home::new();
    let token = "wbp_lint_secret_0123456789";
    let no_bearer = json!({"mcpServers": {"workboard": {"type": "http", "url": "https://www.myworkboard.com/wb/mcp", "headers": {"Authorization": token}}}});
    let (code, r) = lint_json(&home, "nobearer.json", &no_bearer.to_string());
    assert_eq!(
        (code, codes(&r["findings"])),
        (6, vec!["bearer_missing".to_string()])
    );

    // Claude Desktop's header argument without Bearer.
    let claude = json!({"mcpServers": {"workboard": {"command": "npx", "args": ["-y", "mcp-remote", "https://www.myworkboard.com/wb/mcp", "--header", "Authorization:${AUTH_HEADER}"], "env": {"AUTH_HEADER": token}}}});
    let (code, r) = lint_json(&home, "claude.json", &claude.to_string());
    assert_eq!(
        (code, codes(&r["findings"])),
        (6, vec!["bearer_missing".to_string()])
    );
    // The token on mcp-remote's command line (what older versions generated).
    let in_args = json!({"mcpServers": {"workboard": {"command": "npx", "args": ["-y", "mcp-remote", "https://www.myworkboard.com/wb/mcp", "--header", format!("Authorization: Bearer {token}")]}}});
    let (code, r) = lint_json(&home, "claude-args.json", &in_args.to_string());
    assert_eq!(
        (code, codes(&r["findings"])),
        (6, vec!["token_in_args".to_string()])
    );

    let wrong_host = json!({"mcpServers": {"workboard": {"url": "https://myworkboard.com/wb/mcp", "headers": {"Authorization": format!("Bearer {token}")}}}});
    let (code, r) = lint_json(&home, "host.json", &wrong_host.to_string());
    assert_eq!(
        (code, codes(&r["findings"])),
        (6, vec!["wrong_host".to_string()])
    );

    let wrong_path = json!({"mcpServers": {"workboard": {"url": "https://www.myworkboard.com/mcp", "headers": {"Authorization": format!("Bearer {token}")}}}});
    let (code, r) = lint_json(&home, "path.json", &wrong_path.to_string());
    assert_eq!(
        (code, codes(&r["findings"])),
        (6, vec!["wrong_path".to_string()])
    );

    let slash = json!({"mcpServers": {"workboard": {"url": "https://www.myworkboard.eu/wb/mcp/", "headers": {"Authorization": format!("Bearer {token}")}}}});
    let (code, r) = lint_json(&home, "slash.json", &slash.to_string());
    assert_eq!(
        (code, codes(&r["findings"])),
        (6, vec!["wrong_path".to_string()])
    );

    // Warnings alone do not fail: a non-WorkBoard host is fine for a private deployment.
    let private = json!({"mcpServers": {"workboard": {"url": "https://mcp.internal.example/wb/mcp", "headers": {"Authorization": format!("Bearer {token}")}}}});
    let (code, r) = lint_json(&home, "private.json", &private.to_string());
    assert_eq!(
        (code, codes(&r["findings"])),
        (0, vec!["unknown_host".to_string()])
    );
    assert_eq!(r["warnings"], 1);
}

#[test]
fn lint_passes_generated_configs() {
    let sim = Sim::start();
    let home = Home::new();
    for env in ["us", "eu", sim.base()] {
        home.set_token_for(env, DEMO_PERSONAL_TOKEN);
        for client in CLIENTS {
            let o = home.run(&[
                "--env",
                env,
                "config",
                client,
                "--form",
                form_of(client),
                "--with-stored-token",
            ]);
            assert_eq!(o.code, 0, "{}", o.stderr);
            let (code, r) = lint_json(&home, &format!("{client}.json"), &o.stdout);
            assert_eq!(code, 0, "{client} {env}: {r}");
            assert_eq!(r["clean"], true, "{client} {env}: {r}");
        }
    }
    // VS Code's default (a password input, no token in the file) is clean too.
    let o = home.run(&["config", "vscode"]);
    let (code, r) = lint_json(&home, "vscode-prompt.json", &o.stdout);
    assert_eq!((code, r["clean"].clone()), (0, json!(true)), "{r}");
    // The placeholder is an error until replaced.
    let o = home.run(&["config", "cursor"]);
    let (code, r) = lint_json(&home, "placeholder.json", &o.stdout);
    assert_eq!(
        (code, codes(&r["findings"])),
        (6, vec!["token_placeholder".to_string()])
    );
    // Human form of a clean file (the token set for the default environment again).
    home.set_token(DEMO_PERSONAL_TOKEN);
    let o = home.run(&["config", "generic", "--with-stored-token"]);
    let f = home.file("clean.json", &o.stdout);
    let l = home.run(&["config", "lint", f.to_str().unwrap()]);
    assert_eq!(l.code, 0);
    assert!(l.stdout.contains("no problems found"), "{}", l.stdout);
}

#[test]
fn lint_of_unreadable_or_malformed_files_is_a_typed_error_with_exit_2() {
    let home = Home::new();
    let missing = home.dir.path().join("nope.json");
    let garbage = home.file(
        "garbage.json",
        "{\"mcpServers\": {\"workboard\": {\"url\": ",
    );
    let binary = home.file("binary.json", "\u{0}\u{1}not json at all");
    let array = home.file("array.json", "[1, 2, 3]");
    let empty = home.file("empty.json", "");
    for (file, code) in [
        (&missing, "config_unreadable"),
        (&garbage, "invalid_config_json"),
        (&binary, "invalid_config_json"),
        (&array, "invalid_config"),
        (&empty, "invalid_config_json"),
    ] {
        let path = file.to_str().unwrap();
        let o = home.run(&["config", "lint", path]);
        assert_eq!(o.code, 2, "{path}: {}", o.stderr);
        assert!(o.stdout.is_empty());
        assert!(
            o.stderr.starts_with("error: ") && o.stderr.contains(&format!("[{code}]")),
            "{}",
            o.stderr
        );
        let j = home.run(&["--json", "config", "lint", path]);
        assert_eq!(j.code, 2);
        assert_eq!(j.stdout.lines().count(), 1);
        assert_eq!(j.json_error()["code"], code);
    }
    // A directory is unreadable as a file.
    let o = home.run(&["config", "lint", home.dir.path().to_str().unwrap()]);
    assert_eq!(o.code, 2);
    assert!(o.stderr.contains("[config_unreadable]"));
}

#[test]
fn lint_output_never_contains_the_token() {
    let home = Home::new();
    let token = "wbp_TOPSECRET_abcdef0123456789";
    // Every kind of mistake that quotes a value: misspelled header, no Bearer, glued
    // Bearer, token in the URL, malformed and split mcp-remote header arguments.
    let configs = [
        json!({"mcpServers": {"workboard": {"url": "https://www.myworkboard.com/wb/mcp", "headers": {"Authorisation": format!("Bearer {token}")}}}}),
        json!({"mcpServers": {"workboard": {"url": "https://www.myworkboard.com/wb/mcp", "headers": {"Authorization": token}}}}),
        json!({"mcpServers": {"workboard": {"url": "https://www.myworkboard.com/wb/mcp", "headers": {"Authorization": format!("Bearer{token}")}}}}),
        json!({"mcpServers": {"workboard": {"url": format!("https://www.myworkboard.com/wb/mcp?token={token}"), "headers": {"Authorization": format!("Bearer {token}")}}}}),
        json!({"mcpServers": {"workboard": {"command": "npx", "args": ["mcp-remote", "https://www.myworkboard.com/wb/mcp", "--header", format!("Authorization Bearer {token}")]}}}),
        json!({"mcpServers": {"workboard": {"command": "npx", "args": ["-y", "mcp-remote", "https://www.myworkboard.com/wb/mcp", "--header", "Authorization:", format!("Bearer {token}")]}}}),
        json!({"mcpServers": {"workboard": {"command": "npx", "args": ["-y", "mcp-remote", "https://www.myworkboard.com/wb/mcp", "--header", format!("Token: {token}")]}}}),
    ];
    for (i, c) in configs.iter().enumerate() {
        let f = home.file(
            &format!("c{i}.json"),
            &serde_json::to_string_pretty(c).unwrap(),
        );
        for json_flag in [false, true] {
            let mut args = vec!["config", "lint", f.to_str().unwrap()];
            if json_flag {
                args.insert(0, "--json");
            }
            let o = home.run(&args);
            assert_eq!(o.code, 6, "config {i}: {}", o.all());
            assert!(
                !o.all().contains(token),
                "config {i} leaked the token: {}",
                o.all()
            );
            assert!(!o.all().contains("TOPSECRET"), "config {i}: {}", o.all());
        }
    }
    // A syntax error near the token does not quote it either.
    let f = home.file(
        "broken.json",
        &format!("{{\"headers\": {{\"Authorization\": \"Bearer {token}\" \"x\": 1}}}}"),
    );
    let o = home.run(&["config", "lint", f.to_str().unwrap()]);
    assert_eq!(o.code, 2);
    assert!(!o.all().contains("TOPSECRET"), "{}", o.all());
}

/// Runs `doctor --json` against `env` with the fake node in `path_env`.
/// `doctor --json` for the mcp-remote form (the one that runs Node.js, so the Node.js row
/// is checked).
fn doctor(home: &Home, env: &str, path_env: &Path) -> (Out, Value) {
    doctor_with(home, env, path_env, &["--form", "mcp-remote"])
}

/// `doctor --json` with more arguments.
fn doctor_with(home: &Home, env: &str, path_env: &Path, extra: &[&str]) -> (Out, Value) {
    let mut args = vec!["--env", env, "--json", "doctor"];
    args.extend_from_slice(extra);
    let o = home.run_path(&args, path_env);
    let j = o.json();
    assert_eq!(o.stdout.lines().count(), 1, "{}", o.stdout);
    assert_eq!(j["ok"], o.code != 6, "{j}");
    let r = j["result"].clone();
    if o.code == 6 {
        assert_eq!(r["healthy"], false);
        assert_eq!(o.json_error()["code"], "findings");
    }
    (o, r)
}

fn diag<'a>(r: &'a Value, code: &str) -> &'a Value {
    r["diagnoses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == code)
        .unwrap_or_else(|| panic!("no {code} in {r}"))
}

#[cfg(unix)]
#[test]
fn doctor_is_healthy_against_the_simulator_with_a_valid_token() {
    let sim = Sim::start();
    let home = Home::new();
    home.set_token_for(sim.base(), DEMO_PERSONAL_TOKEN);
    let (o, r) = doctor(&home, sim.base(), &node_dirs().v20);
    assert_eq!(o.code, 0, "{}", o.all());
    assert_eq!(r["healthy"], true);
    assert_eq!(r["diagnoses"], json!([]), "{r}");
    assert_eq!(r["server_url"], sim.handle.mcp_url());
    let obs = &r["observation"];
    assert_eq!(obs["unauthenticated_status"], 401);
    assert_eq!(obs["prm_status"], 200);
    assert_eq!(obs["initialize_status"], 200);
    assert_eq!(obs["tools_list_status"], 200);
    assert!(obs["tools_count"].as_u64().unwrap() > 0);
    assert_eq!(obs["node_version"], "v20.11.1");
    assert_eq!(obs["token_present"], true);
    assert!(!o.all().contains(DEMO_PERSONAL_TOKEN));
    assert!(sim.handle.counters().get("mcp:tools/list") >= 1);

    // Human form: a summary line, progress on stderr.
    let o = home.run_path(
        &["--env", sim.base(), "doctor", "--form", "mcp-remote"],
        &node_dirs().v20,
    );
    assert_eq!(o.code, 0, "{}", o.all());
    assert!(o.stdout.starts_with("Healthy: "), "{}", o.stdout);
    assert!(o.stdout.contains("tool(s) listed") && o.stdout.contains("Node.js v20.11.1"));
    assert!(o.stderr.contains("probing"), "{}", o.stderr);
    // --quiet: no progress.
    let o = home.run_path(
        &["--env", sim.base(), "--quiet", "doctor"],
        &node_dirs().v20,
    );
    assert_eq!(o.code, 0);
    assert!(o.stderr.is_empty(), "{}", o.stderr);

    // Without a token: only the unauthenticated probes, a warning, still exit 0.
    let fresh = Home::new();
    let (o, r) = doctor(&fresh, sim.base(), &node_dirs().v20);
    assert_eq!(o.code, 0, "{}", o.all());
    let d = diag(&r, "no_token");
    assert_eq!(
        (d["severity"].as_str(), d["row"].as_str()),
        (Some("warning"), Some("unauthorized_401"))
    );
    assert_eq!(r["warnings"], 1);
}

#[cfg(unix)]
#[test]
fn doctor_reports_the_401_row_for_unknown_and_revoked_tokens() {
    let sim = Sim::start();
    let home = Home::new();
    home.set_token_for(sim.base(), "wbp_not_a_token_the_server_knows");
    let (o, r) = doctor(&home, sim.base(), &node_dirs().v20);
    assert_eq!(o.code, 6, "{}", o.all());
    let d = diag(&r, "token_rejected");
    assert_eq!(d["row"], "unauthorized_401");
    assert_eq!(d["title"], "401 Unauthorized");
    assert_eq!(d["severity"], "error");
    assert!(d["fix"]
        .as_str()
        .unwrap()
        .contains("Token expired or wrong environment"));
    assert_eq!(r["observation"]["initialize_status"], 401);
    assert!(!o.all().contains("wbp_not_a_token_the_server_knows"));

    // Human form names the row and the seed's fix.
    let h = home.run_path(&["--env", sim.base(), "doctor"], &node_dirs().v20);
    assert_eq!(h.code, 6);
    assert!(
        h.stdout.contains("error[token_rejected] 401 Unauthorized"),
        "{}",
        h.stdout
    );
    assert!(
        h.stdout.contains("fix: Token expired or wrong environment"),
        "{}",
        h.stdout
    );
    assert!(h.stderr.contains("[findings]"));

    // A token that worked, then was revoked.
    let token = sim
        .handle
        .issue_personal_token("grace@example.com", Role::Member);
    let home = Home::new();
    home.set_token_for(sim.base(), &token);
    let (o, _) = doctor(&home, sim.base(), &node_dirs().v20);
    assert_eq!(o.code, 0, "{}", o.all());
    assert!(sim.handle.faults().revoke_token(&token));
    let (o, r) = doctor(&home, sim.base(), &node_dirs().v20);
    assert_eq!(o.code, 6, "{}", o.all());
    assert_eq!(diag(&r, "token_rejected")["row"], "unauthorized_401");
    assert!(!o.all().contains(&token));
}

#[cfg(unix)]
#[test]
fn doctor_reports_no_tools_listed_for_a_role_without_access() {
    let sim = Sim::start();
    let home = Home::new();
    let token = sim
        .handle
        .issue_personal_token("noaccess@example.com", Role::NoAccess);
    home.set_token_for(sim.base(), &token);
    let (o, r) = doctor(&home, sim.base(), &node_dirs().v20);
    assert_eq!(o.code, 6, "{}", o.all());
    let d = diag(&r, "no_tools");
    assert_eq!(d["row"], "no_tools_listed");
    assert_eq!(d["title"], "No tools listed");
    assert!(d["fix"]
        .as_str()
        .unwrap()
        .contains("Contact your WorkBoard admin"));
    assert_eq!(r["observation"]["tools_count"], 0);
    assert!(!o.all().contains(&token));
}

#[cfg(unix)]
#[test]
fn doctor_reports_the_node_row_when_node_is_missing_or_too_old() {
    let sim = Sim::start();
    let home = Home::new();
    home.set_token_for(sim.base(), DEMO_PERSONAL_TOKEN);
    let (o, r) = doctor(&home, sim.base(), &node_dirs().none);
    assert_eq!(o.code, 6, "{}", o.all());
    let d = diag(&r, "node_missing");
    assert_eq!(d["row"], "claude_desktop_wont_connect");
    assert_eq!(r["errors"], 1, "{r}");
    assert_eq!(r["observation"]["node_missing"], true);

    let (o, r) = doctor(&home, sim.base(), &node_dirs().v16);
    assert_eq!(o.code, 6, "{}", o.all());
    let d = diag(&r, "node_too_old");
    assert_eq!(d["title"], "Claude Desktop won't connect");
    assert!(d["summary"].as_str().unwrap().contains("v16.20.2"));

    // Clients that connect to the URL themselves, and every client through the bridge (the
    // default for Claude Desktop and the 2026 clients), do not need Node.js: not checked.
    for client in [
        "cursor",
        "vscode",
        "generic",
        "claude-desktop",
        "claude-code",
        "codex",
        "gemini",
        "windsurf",
        "zed",
    ] {
        let (o, r) = doctor_with(&home, sim.base(), &node_dirs().none, &["--client", client]);
        assert_eq!(o.code, 0, "{client}: {}", o.all());
        assert_eq!(r["healthy"], true, "{r}");
        assert_eq!(r["client"], client);
        assert_eq!(r["observation"]["node_missing"], false);
    }
    let (o, r) = doctor_with(
        &home,
        sim.base(),
        &node_dirs().none,
        &["--client", "claude", "--form", "mcp-remote"],
    );
    assert_eq!(o.code, 6, "{}", o.all());
    diag(&r, "node_missing");
    assert_eq!(r["client"], "claude-desktop");
    // Without a form or a client: Node.js is not checked either.
    let (o, r) = doctor_with(&home, sim.base(), &node_dirs().none, &[]);
    assert_eq!(o.code, 0, "{}", o.all());
    assert_eq!(r["observation"]["node_missing"], false);
    let o = home.run_path(
        &["--env", sim.base(), "doctor", "--client", "emacs"],
        &node_dirs().none,
    );
    assert_eq!(o.code, 2, "{}", o.all());
    assert!(o.stderr.contains("unknown client"), "{}", o.stderr);
}

#[test]
fn doctor_against_a_closed_port_reports_a_network_problem() {
    let (_socket, port) = closed_port();
    let home = Home::new();
    let env = format!("http://127.0.0.1:{port}");
    home.set_token_for(&env, DEMO_PERSONAL_TOKEN);
    let (o, r) = doctor(&home, &env, &node_dirs().v20);
    assert_eq!(o.code, 6, "{}", o.all());
    let d = diag(&r, "unreachable");
    assert_eq!(
        (d["row"].as_str(), d["severity"].as_str()),
        (Some("other"), Some("error"))
    );
    assert!(
        d["summary"].as_str().unwrap().contains("could not connect"),
        "{d}"
    );
    assert!(!r["observation"]["transport_errors"]
        .as_array()
        .unwrap()
        .is_empty());

    let h = home.run_path(&["--env", &env, "doctor"], &node_dirs().v20);
    assert_eq!(h.code, 6);
    assert!(h.stdout.contains("error[unreachable]"), "{}", h.stdout);
    assert!(!h.all().contains(DEMO_PERSONAL_TOKEN));
}

/// A loopback port that refuses connections for as long as the returned socket lives: bound,
/// never listening, so no other test can take it meanwhile (a port freed by dropping a
/// listener can be handed to the next simulator that starts).
fn closed_port() -> (tokio::net::TcpSocket, u16) {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let port = socket.local_addr().unwrap().port();
    (socket, port)
}

/// Claude Desktop and the AI clients of 2026 get the bridge by default: `workboard bridge`
/// (with the environment or server the CLI was given), no token in the file; the files lint
/// clean; the HTTP forms read WORKBOARD_TOKEN; Codex's is TOML.
#[test]
fn the_bridge_form_is_the_default_for_claude_desktop_and_the_2026_clients() {
    let sim = Sim::start();
    let home = Home::new();
    home.set_token_for(sim.base(), DEMO_PERSONAL_TOKEN);
    for (client, ext) in [
        ("claude-desktop", "json"),
        ("claude-code", "json"),
        ("gemini", "json"),
        ("windsurf", "json"),
        ("zed", "json"),
        ("codex", "toml"),
    ] {
        let o = home.run(&["--env", sim.base(), "config", client]);
        assert_eq!(o.code, 0, "{client}: {}", o.stderr);
        assert!(!o.stdout.contains(DEMO_PERSONAL_TOKEN), "{client}");
        let want = format!("\"--server\", \"{}\", \"bridge\"", sim.handle.mcp_url());
        let compact: String = o.stdout.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            compact.contains(&want) || compact.contains(&want.replace(", ", ",")),
            "{client}: {}",
            o.stdout
        );
        let (code, r) = lint_json(&home, &format!("{client}-bridge.{ext}"), &o.stdout);
        assert_eq!(
            (code, r["clean"].clone()),
            (0, json!(true)),
            "{client}: {r}"
        );
        // --with-stored-token makes no sense for the bridge: refused.
        let refused = home.run(&["config", client, "--with-stored-token"]);
        assert_eq!(refused.code, 2, "{client}: {}", refused.stderr);
    }
    // The JSON output: the form, and Claude Code's registration command.
    let j = home.run(&["--json", "config", "claude-code"]).json();
    assert_eq!(j["result"]["form"], "bridge");
    assert_eq!(
        j["result"]["command"],
        "claude mcp add --scope user --transport stdio workboard -- workboard bridge"
    );
    let j = home
        .run(&["--json", "config", "codex", "--form", "http"])
        .json();
    let toml = j["result"]["config"].as_str().unwrap();
    assert!(
        toml.contains("bearer_token_env_var = \"WORKBOARD_TOKEN\""),
        "{toml}"
    );
    // The mcp-remote form is Claude Desktop's only.
    let o = home.run(&["config", "zed", "--form", "mcp-remote"]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    let o = home.run(&["config", "cursor", "--form", "sideways"]);
    assert_eq!(o.code, 2, "{}", o.stderr);
}
