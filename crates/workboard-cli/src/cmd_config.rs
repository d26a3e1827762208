//! `workboard config ...`: generate and lint AI-client configurations.
//!
//! All logic lives in `workboard_config`; this module reads files, prints and maps
//! outcomes to exit codes.

use std::path::Path;

use serde_json::{json, Value};
use workboard_config::lint::{lint, lint_toml, Finding, Severity};
use workboard_config::{
    claude_code_command, generate, merge_into, AiClient, ConfigForm, ConfigParams, ConfigToken, Os,
};
use workboard_core::Credentials;

use crate::app::{ConfigCommand, Ctx, GenArgs};
use crate::output::{exit, progress, CliError};

/// Runs a `config` subcommand.
pub async fn run(ctx: &Ctx, cmd: ConfigCommand) -> Result<(), CliError> {
    match cmd {
        ConfigCommand::ClaudeDesktop(args) => gen(ctx, AiClient::ClaudeDesktop, args),
        ConfigCommand::ClaudeCode(args) => gen(ctx, AiClient::ClaudeCode, args),
        ConfigCommand::Codex(args) => gen(ctx, AiClient::Codex, args),
        ConfigCommand::Cursor(args) => gen(ctx, AiClient::Cursor, args),
        ConfigCommand::Gemini(args) => gen(ctx, AiClient::Gemini, args),
        ConfigCommand::Vscode(args) => gen(ctx, AiClient::VsCode, args),
        ConfigCommand::Windsurf(args) => gen(ctx, AiClient::Windsurf, args),
        ConfigCommand::Zed(args) => gen(ctx, AiClient::Zed, args),
        ConfigCommand::Generic(args) => gen(ctx, AiClient::Generic, args),
        ConfigCommand::Lint { file } => lint_file(ctx, &file),
    }
}

/// A core error about a config file's content: bad input, exit 2.
fn bad_file(e: workboard_core::Error, path: &Path) -> CliError {
    let mut err = CliError::from(e);
    err.info.message = format!("{}: {}", path.display(), err.info.message);
    err.exit = exit::USAGE;
    err
}

fn read_file(path: &Path) -> Result<String, CliError> {
    std::fs::read_to_string(path).map_err(|e| {
        CliError::new(
            "config_unreadable",
            format!("cannot read {}: {e}", path.display()),
            Some("Check the path and the file's permissions.".into()),
            exit::USAGE,
        )
    })
}

/// The stored personal token, or a clear refusal. A token set for another server than the
/// config's is refused (`credentials_not_for_server`): it is never written into a config that
/// would send it there.
fn stored_personal_token(ctx: &Ctx) -> Result<ConfigToken, CliError> {
    match ctx.load_credentials()? {
        Some(c @ Credentials::Personal { .. }) => {
            c.check_server(&ctx.mcp_url)?;
            Ok(ConfigToken::Token(c.access_token().clone()))
        }
        Some(Credentials::OAuth(_)) => Err(CliError::new(
            "not_a_personal_token",
            "the stored credentials come from an OAuth sign-in, not a personal token",
            Some("AI-client config files take a personal token (OAuth tokens are refreshed by this CLI, not by the AI client). Store one with `workboard token set` (stdin), or omit --with-stored-token to get the YOUR_WB_TOKEN placeholder.".into()),
            exit::USAGE,
        )),
        None => Err(CliError::new(
            "not_signed_in",
            "--with-stored-token: no personal token is stored",
            Some(format!(
                "Store one with `workboard token set` (stdin; store {}), or omit --with-stored-token to get the YOUR_WB_TOKEN placeholder.",
                ctx.store_path.display()
            )),
            exit::AUTH,
        )),
    }
}

fn gen(ctx: &Ctx, client: AiClient, args: GenArgs) -> Result<(), CliError> {
    let mut params = ConfigParams::for_url(ctx.mcp_url.clone());
    if let Some(f) = &args.form {
        params = params.with_form(ConfigForm::parse(f)?);
    }
    let form = params.form_for(client);
    let (token_kind, note) = if form == ConfigForm::Bridge {
        if args.with_stored_token {
            return Err(CliError::new(
                "usage",
                "--with-stored-token: the bridge form writes no token (the bridge reads the store)",
                Some("Drop --with-stored-token, or pass --form http to write the token into the file.".into()),
                exit::USAGE,
            ));
        }
        (
            "none",
            "The bridge uses this CLI's sign-in (`workboard login` or `workboard token set`): no token in the file, no Node.js.",
        )
    } else if args.with_stored_token {
        params = params.with_token_choice(stored_personal_token(ctx)?);
        (
            "stored_token",
            "The config contains your token: keep the file private.",
        )
    } else if client == AiClient::VsCode {
        // The core's default for VS Code: a password input, so no token is written.
        (
            "prompt",
            "VS Code asks for the token once (password input) and stores it securely.",
        )
    } else if matches!(
        client,
        AiClient::ClaudeCode | AiClient::Codex | AiClient::Gemini | AiClient::Windsurf
    ) {
        (
            "environment",
            "The client reads the token from WORKBOARD_TOKEN: set it in the environment the client starts in.",
        )
    } else {
        ("placeholder", "Replace YOUR_WB_TOKEN with your personal token (WorkBoard → Settings → Custom Integrations → App → Instant Token), or pass --with-stored-token.")
    };
    let text = match &args.merge {
        Some(path) => {
            let existing = read_file(path)?;
            merge_into(&existing, client, &params).map_err(|e| bad_file(e, path))?
        }
        None => generate(client, &params)?,
    };
    let where_ = client
        .config_locations()
        .iter()
        .map(|l| {
            let os = match l.os {
                Os::MacOs => "macOS",
                Os::Windows => "Windows",
                Os::Linux => "Linux",
            };
            format!("{os}: {}", l.path)
        })
        .collect::<Vec<_>>();
    progress(ctx.quiet, note);
    if !where_.is_empty() {
        progress(
            ctx.quiet,
            &format!("{} reads {}", client.name(), where_.join("; ")),
        );
    }
    let command = if client == AiClient::ClaudeCode {
        let c = claude_code_command(&params)?;
        progress(ctx.quiet, &format!("or register it with: {c}"));
        Some(c)
    } else {
        None
    };
    // The JSON output carries a TOML file as text.
    let config: Value = if client.is_toml() {
        Value::String(text.clone())
    } else {
        serde_json::from_str(&text).unwrap_or(Value::Null)
    };
    ctx.print(
        json!({
            "client": client.name(),
            "form": form.name(),
            "server_url": workboard_core::http::redact_url(&ctx.mcp_url),
            "token": token_kind,
            "merged_into": args.merge,
            "config": config,
            "command": command,
        }),
        || text.trim_end().to_string(),
    );
    Ok(())
}

fn severity_name(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

fn human_finding(f: &Finding) -> String {
    let mut s = format!("{}[{}]", severity_name(f.severity), f.code);
    if !f.path.is_empty() {
        s.push_str(&format!(" at {}", f.path));
    }
    for (i, line) in f.message.lines().enumerate() {
        s.push_str(if i == 0 { ": " } else { "\n  " });
        s.push_str(line);
    }
    if let Some(h) = &f.hint {
        s.push_str(&format!("\n  hint: {h}"));
    }
    s
}

fn lint_file(ctx: &Ctx, path: &Path) -> Result<(), CliError> {
    let text = read_file(path)?;
    let toml = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("toml"));
    let findings =
        if toml { lint_toml(&text) } else { lint(&text) }.map_err(|e| bad_file(e, path))?;
    let errors = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    let warnings = findings.len() - errors;
    let failure = (errors > 0).then(|| {
        CliError::new(
            "findings",
            format!("{}: {errors} error-level finding(s)", path.display()),
            Some(format!(
                "Fix them, or regenerate the entry with `workboard config <client> --merge {}`.",
                path.display()
            )),
            exit::FINDINGS,
        )
    });
    ctx.finish(
        json!({
            "file": path,
            "clean": findings.is_empty(),
            "errors": errors,
            "warnings": warnings,
            "findings": findings,
        }),
        || {
            let mut lines: Vec<String> = findings.iter().map(human_finding).collect();
            lines.push(if findings.is_empty() {
                format!("{}: no problems found.", path.display())
            } else {
                format!(
                    "{}: {errors} error(s), {warnings} warning(s).",
                    path.display()
                )
            });
            lines.join("\n")
        },
        failure,
    )
}
