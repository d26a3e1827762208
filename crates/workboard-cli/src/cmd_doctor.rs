//! `workboard doctor`: probe the server and map each failure to the troubleshooting table.
//!
//! The probes and the diagnosis are `workboard_config`'s sans-IO `Doctor`; this module supplies the
//! transport, the clock, the stored token and `node --version`, then prints.

use serde_json::json;
use workboard_config::diagnose::{Diagnosis, DiagnosisSeverity, Doctor, DoctorParams};
use workboard_config::AiClient;
use workboard_native::{ReqwestTransport, SystemClock};

use crate::app::Ctx;
use crate::output::{exit, progress, CliError};

/// Output of `node --version`: `(version, missing)`. A failing or absent `node` is data for
/// the diagnosis, never an error of this command.
fn node_version() -> (Option<String>, bool) {
    match std::process::Command::new("node").arg("--version").output() {
        Ok(out) if out.status.success() => (
            Some(String::from_utf8_lossy(&out.stdout).trim().to_string()),
            false,
        ),
        // `node` ran but failed: show what it printed (the core reports "not a version").
        Ok(out) => {
            let text = String::from_utf8_lossy(if out.stdout.is_empty() {
                &out.stderr
            } else {
                &out.stdout
            });
            (Some(text.trim().chars().take(80).collect()), false)
        }
        Err(_) => (None, true),
    }
}

fn severity_name(s: DiagnosisSeverity) -> &'static str {
    match s {
        DiagnosisSeverity::Error => "error",
        DiagnosisSeverity::Warning => "warning",
    }
}

fn human(d: &Diagnosis) -> String {
    let mut s = format!(
        "{}[{}] {}",
        severity_name(d.severity),
        d.code,
        d.row.title()
    );
    for line in d.summary.lines() {
        s.push_str(&format!("\n  {line}"));
    }
    s.push_str(&format!("\n  fix: {}", d.fix));
    s
}

/// Runs `doctor`; `client` (an AI client name) and `form` (how it connects) decide whether
/// Node.js is checked: only for the `mcp-remote` form, which runs `npx`.
pub async fn run(ctx: &Ctx, client: Option<&str>, form: Option<&str>) -> Result<(), CliError> {
    let client = client.map(AiClient::parse).transpose()?;
    let form = form.map(workboard_config::ConfigForm::parse).transpose()?;
    // Stored credentials go only to the server they belong to: for another one the probes
    // run without them.
    let token = match ctx.load_credentials()? {
        Some(c) => match c.check_server(&ctx.mcp_url) {
            Ok(()) => Some(c.access_token().clone()),
            Err(e) => {
                progress(ctx.quiet, &format!("{e}; probing without credentials"));
                None
            }
        },
        None => None,
    };
    let form = form.or(client.map(|c| c.default_form()));
    let (node_version, node_missing) = match form {
        Some(f) if f.needs_node() => node_version(),
        _ => (None, false),
    };
    let label = (ctx.mcp_url == ctx.environment.mcp_url()).then(|| ctx.environment.label());
    let mut doctor = Doctor::new(DoctorParams {
        environment_label: label,
        token,
        node_version,
        node_missing,
        ..DoctorParams::for_url(&ctx.mcp_url)
    })?;
    let transport = ReqwestTransport::new().map_err(workboard_core::Error::from)?;
    progress(ctx.quiet, &format!("probing {}", ctx.shown_url()));
    workboard_core::drive(&mut doctor, &transport, &SystemClock).await;

    let obs = doctor.observation();
    let diagnoses = doctor.diagnoses();
    let errors = diagnoses
        .iter()
        .filter(|d| d.severity == DiagnosisSeverity::Error)
        .count();
    let warnings = diagnoses.len() - errors;
    let rows: Vec<_> = diagnoses
        .iter()
        .map(|d| {
            json!({
                "row": d.row,
                "title": d.row.title(),
                "severity": d.severity,
                "code": d.code,
                "summary": d.summary,
                "fix": d.fix,
            })
        })
        .collect();
    let failure = (errors > 0).then(|| {
        let codes: Vec<&str> = diagnoses
            .iter()
            .filter(|d| d.severity == DiagnosisSeverity::Error)
            .map(|d| d.code.as_str())
            .collect();
        CliError::new(
            "findings",
            format!("doctor found {errors} problem(s): {}", codes.join(", ")),
            None,
            exit::FINDINGS,
        )
    });
    ctx.finish(
        json!({
            "server_url": ctx.shown_url(),
            "client": client.map(|c| c.name()),
            "environment": obs.environment,
            "healthy": errors == 0,
            "errors": errors,
            "warnings": warnings,
            "diagnoses": rows,
            "observation": obs,
        }),
        || {
            let mut lines: Vec<String> = diagnoses.iter().map(human).collect();
            let tools = obs
                .tools_count
                .map(|n| format!(", {n} tool(s) listed"))
                .unwrap_or_default();
            let era = match (&obs.era, obs.server_versions.is_empty()) {
                (Some(era), false) => {
                    format!(
                        ", MCP {era} era (server speaks {})",
                        obs.server_versions.join(", ")
                    )
                }
                (Some(era), true) => format!(", MCP {era} era"),
                (None, _) => String::new(),
            };
            let tools = format!("{era}{tools}");
            let node = obs
                .node_version
                .as_deref()
                .map(|v| format!(", Node.js {v}"))
                .unwrap_or_default();
            lines.push(match (errors, warnings) {
                (0, 0) => format!("Healthy: {}{tools}{node}.", ctx.shown_url()),
                (0, w) => format!(
                    "Healthy with {w} warning(s): {}{tools}{node}.",
                    ctx.shown_url()
                ),
                (e, w) => format!("{e} problem(s), {w} warning(s): {}.", ctx.shown_url()),
            });
            lines.join("\n")
        },
        failure,
    )
}
