//! `workboard-sim`: the simulator as a child process for tests in other languages.
//! The first line on stdout is `listening on http://127.0.0.1:PORT`.

use std::io::Write;
use std::process::ExitCode;

use workboard_sim::{
    ClientConfig, Era, FaultSpec, PersonalTokenConfig, ResponseMode, Role, SimConfig, Simulator,
};

const HELP: &str = r#"workboard-sim: a local WorkBoard-compatible server (OAuth v1, OAuth 2.1, MCP, REST)

Usage: workboard-sim [options]
  --port N                          port on 127.0.0.1 (default 0 = any free port)
  --host 127.0.0.1                  the only accepted host
  --client ID:HASH:REDIRECT_URI     register a client (repeatable; empty HASH = public client);
                                    added to the default demo-client/demo-hash
  --seed-personal-token TOKEN[:ROLE]  a personal token (repeatable; ROLE member|read_only|no_access);
                                    replaces the default demo token
  --login-user EMAIL                user who approves on the consent page (default ada@example.com)
  --auto-approve                    skip the consent page
  --issuer-quirk on|off             AS metadata issuer <base>/wb (on, default) or <base>/wb/oauth
  --dcr on|off                      dynamic client registration (default off)
  --json-only | --sse               MCP response mode (default JSON)
  --era modern|legacy|dual          MCP protocol era(s) (default dual): modern = 2026-07-28 only
                                    (per-request _meta, no initialize, no sessions); legacy =
                                    2025-11-25/2025-06-18/2025-03-26 only (initialize + sessions);
                                    dual = both, chosen per request
  --keepalive-ms N                  keep-alive comment interval of listen/GET streams (default 15000)
  --listen-max-secs N               longest subscriptions/listen stream (default 300)
  --input-timeout-ms N              how long a legacy tool call waits for the client's answer to
                                    its elicitation/sampling request (default 30000)
  --faults JSON|@FILE               fault spec armed at start (see FaultSpec)
  --allow-origin ORIGIN             extra browser origin besides loopback ones (* = any; repeatable)
  --exit-on-stdin-close             exit when stdin reaches end of file
  --log-requests                    print METHOD PATH STATUS per request on stderr
  -h, --help                        this text

Control endpoints (for tests in other languages):
  GET  /__sim/stats     counters, sessions, listeners, era, clock
  POST /__sim/faults    a fault spec (JSON)
  POST /__sim/clock     {"advance_secs": n}
  POST /__sim/config    {"auto_approve"?, "issuer_quirk"?, "dcr"?, "response_mode"?: "json"|"sse",
                         "era"?: "modern"|"legacy"|"dual"}
  POST /__sim/tokens    {"user"?, "role"?} -> {"token": ...}
  POST /__sim/notify    {"tools_list_changed"?, "prompts_list_changed"?, "resources_list_changed"?,
                         "resource_updated"?: URI}: change notifications on listen/GET streams
"#;

struct Args {
    config: SimConfig,
    exit_on_stdin_close: bool,
}

fn on_off(v: &str) -> Result<bool, String> {
    match v {
        "on" | "true" | "1" => Ok(true),
        "off" | "false" | "0" => Ok(false),
        other => Err(format!("expected on or off, got `{other}`")),
    }
}

fn parse(mut it: impl Iterator<Item = String>) -> Result<Option<Args>, String> {
    let mut config = SimConfig::default();
    let mut exit_on_stdin_close = false;
    let mut tokens: Vec<PersonalTokenConfig> = Vec::new();
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
        match arg.as_str() {
            "-h" | "--help" => return Ok(None),
            "--port" => {
                config.port = value("--port")?
                    .parse()
                    .map_err(|_| "--port needs a number".to_string())?
            }
            "--host" => {
                let h = value("--host")?;
                if h != "127.0.0.1" {
                    return Err("--host: only 127.0.0.1 is allowed".to_string());
                }
            }
            "--client" => config
                .clients
                .push(ClientConfig::parse_cli(&value("--client")?)?),
            "--seed-personal-token" => {
                let v = value("--seed-personal-token")?;
                let (token, role) = match v.split_once(':') {
                    Some((t, r)) => (t.to_string(), r.parse::<Role>()?),
                    None => (v, Role::Member),
                };
                if token.is_empty() {
                    return Err("--seed-personal-token needs a non-empty token".to_string());
                }
                tokens.push(PersonalTokenConfig {
                    token,
                    user: config.login_user.clone(),
                    role,
                });
            }
            "--login-user" => config.login_user = value("--login-user")?,
            "--auto-approve" => config.auto_approve = true,
            "--issuer-quirk" => config.issuer_quirk = on_off(&value("--issuer-quirk")?)?,
            "--dcr" => config.dcr = on_off(&value("--dcr")?)?,
            "--json-only" => config.response_mode = ResponseMode::Json,
            "--sse" => config.response_mode = ResponseMode::Sse,
            "--era" => config.era = value("--era")?.parse::<Era>()?,
            "--keepalive-ms" => {
                let ms: u64 = value("--keepalive-ms")?
                    .parse()
                    .map_err(|_| "--keepalive-ms needs a number".to_string())?;
                config.keepalive = std::time::Duration::from_millis(ms.max(10));
            }
            "--input-timeout-ms" => {
                let ms: u64 = value("--input-timeout-ms")?
                    .parse()
                    .map_err(|_| "--input-timeout-ms needs a number".to_string())?;
                config.input_timeout = std::time::Duration::from_millis(ms);
            }
            "--listen-max-secs" => {
                let s: u64 = value("--listen-max-secs")?
                    .parse()
                    .map_err(|_| "--listen-max-secs needs a number".to_string())?;
                config.listen_max = std::time::Duration::from_secs(s);
            }
            "--faults" => {
                let v = value("--faults")?;
                let text = match v.strip_prefix('@') {
                    Some(path) => std::fs::read_to_string(path)
                        .map_err(|e| format!("--faults: cannot read {path}: {e}"))?,
                    None => v,
                };
                config.faults = Some(FaultSpec::from_json(&text)?);
            }
            "--allow-origin" => config.extra_origins.push(value("--allow-origin")?),
            "--exit-on-stdin-close" => exit_on_stdin_close = true,
            "--log-requests" => config.log_requests = true,
            other => return Err(format!("unknown option `{other}` (see --help)")),
        }
    }
    if !tokens.is_empty() {
        for t in &mut tokens {
            t.user = config.login_user.clone();
        }
        config.personal_tokens = tokens;
    }
    Ok(Some(Args {
        config,
        exit_on_stdin_close,
    }))
}

async fn wait_stdin_eof() {
    use tokio::io::AsyncReadExt;
    let mut stdin = tokio::io::stdin();
    let mut buf = [0u8; 1024];
    loop {
        match stdin.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> ExitCode {
    let args = match parse(std::env::args().skip(1)) {
        Ok(Some(a)) => a,
        Ok(None) => {
            print!("{HELP}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("workboard-sim: {e}");
            return ExitCode::from(2);
        }
    };
    let sim = match Simulator::start(args.config).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("workboard-sim: cannot listen: {e}");
            return ExitCode::from(1);
        }
    };
    let mut out = std::io::stdout();
    let _ = writeln!(out, "listening on {}", sim.base_url());
    let _ = out.flush();
    if args.exit_on_stdin_close {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = wait_stdin_eof() => {}
        }
    } else {
        let _ = tokio::signal::ctrl_c().await;
    }
    sim.shutdown().await;
    // A pending stdin read sits on a blocking thread that would delay runtime shutdown.
    std::process::exit(0)
}
