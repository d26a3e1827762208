//! `workboard demo` (the whole flow against an embedded simulator) and `workboard sim`.

use std::sync::Arc;

use serde_json::{json, Value};
use workboard_core::oauth::v1::{RevokeOutcome, V1Config, V1Outcome, V1SignIn};
use workboard_core::{
    drive, Clock, Environment, HttpRequest, Method, RequestId, SecretString, Transport,
};
use workboard_native::{revoke_v1, Client, MemoryStore, OsEntropy, ReqwestTransport, SystemClock};
use workboard_sim::{SimConfig, Simulator, DEMO_CLIENT_HASH, DEMO_CLIENT_ID, DEMO_REDIRECT_URI};

use crate::app::{Ctx, SimArgs};
use crate::output::{exit, CliError, Step};

/// One finished step of the demo.
struct Done {
    name: &'static str,
    ms: f64,
    detail: String,
}

struct Steps<'a> {
    ctx: &'a Ctx,
    done: Vec<Done>,
}

impl Steps<'_> {
    /// Runs `f` as the step `name`, printing its timing as it finishes.
    async fn run<T>(
        &mut self,
        name: &'static str,
        f: impl std::future::Future<Output = Result<(T, String), CliError>>,
    ) -> Result<T, CliError> {
        let step = Step::start();
        let (value, detail) = f.await.map_err(|mut e| {
            e.info.message = format!("demo step `{name}` failed: {}", e.info.message);
            e
        })?;
        let ms = step.ms();
        if !self.ctx.json {
            crate::outln!("✓ {name:<28} {ms:>8.1} ms  {detail}");
        }
        self.done.push(Done { name, ms, detail });
        Ok(value)
    }
}

/// `workboard demo`.
pub async fn run(ctx: &Ctx) -> Result<(), CliError> {
    let total = Step::start();
    let mut steps = Steps {
        ctx,
        done: Vec::new(),
    };
    let sim = steps
        .run("start simulator", async {
            let sim = Simulator::start(SimConfig {
                port: 0,
                ..SimConfig::default()
            })
            .await
            .map_err(|e| {
                CliError::new(
                    "simulator",
                    format!("cannot start the simulator on 127.0.0.1: {e}"),
                    None,
                    exit::OTHER,
                )
            })?;
            let url = sim.base_url().to_string();
            Ok((sim, url))
        })
        .await?;
    let env = Environment::parse(sim.base_url())?;
    let transport = ReqwestTransport::new().map_err(workboard_core::Error::from)?;
    let clock = SystemClock;

    let config = V1Config::new(env.clone(), DEMO_CLIENT_ID, DEMO_REDIRECT_URI);
    let mut signin = V1SignIn::new(config, SecretString::new(DEMO_CLIENT_HASH))?;
    let url = steps
        .run("v1 authorize URL", async {
            let url = signin.start(&mut OsEntropy, clock.now_ms())?;
            Ok((
                url,
                format!("client_id={DEMO_CLIENT_ID}, state and redirect_uri set"),
            ))
        })
        .await?;
    let request_id = steps
        .run("v1 consent page", async {
            let page = send(&transport, Method::Get, &url, None).await?;
            let body = String::from_utf8_lossy(&page.body).into_owned();
            let rid = hidden_field(&body, "request_id")
                .ok_or_else(|| demo_error("the consent page has no request_id"))?;
            let app = between(&body, "<p id=\"app-name\">", "</p>")
                .unwrap_or("the app")
                .to_string();
            Ok((
                rid,
                format!("HTTP {} — \"{app}\" asks for access", page.status),
            ))
        })
        .await?;
    let redirect = steps
        .run("v1 approve", async {
            let form = format!("request_id={request_id}&decision=approve");
            let decision = format!("{}/wb/oauth/authorize/decision", sim.base_url());
            let resp = send(&transport, Method::Post, &decision, Some(form)).await?;
            let location = resp
                .header("location")
                .ok_or_else(|| {
                    demo_error(&format!(
                        "approval answered HTTP {} without a redirect",
                        resp.status
                    ))
                })?
                .to_string();
            Ok((
                location,
                format!("HTTP {} → redirect URI with code and state", resp.status),
            ))
        })
        .await?;
    let creds = steps
        .run("v1 code exchange", async {
            signin.handle_redirect(&redirect, clock.now_ms())?;
            drive(&mut signin, &transport, &clock).await;
            match signin.poll_result() {
                Some(Ok(V1Outcome::SignedIn(c))) => {
                    let detail = format!(
                        "access token received (scope {})",
                        c.scope().unwrap_or("all")
                    );
                    Ok((c, detail))
                }
                Some(Err(e)) => Err(e.into()),
                _ => Err(demo_error("the exchange did not complete")),
            }
        })
        .await?;

    let client = Client::builder()
        .environment(env.clone())
        .credentials(creds.clone())
        .store(Arc::new(MemoryStore::new()))
        .client_info("workboard-cli-demo", env!("CARGO_PKG_VERSION"))
        .build()?;
    steps
        .run("MCP connect", async {
            let info = client.connect().await?;
            let detail = match info {
                Some(i) => format!("{} {} (protocol {})", i.name, i.version, i.protocol_version),
                None => "session restored".into(),
            };
            Ok(((), detail))
        })
        .await?;
    steps
        .run("MCP list tools", async {
            let tools = client.list_tools().await?;
            let names: Vec<&str> = tools.iter().take(4).map(|t| t.name.as_str()).collect();
            Ok((
                (),
                format!("{} tools: {}, …", tools.len(), names.join(", ")),
            ))
        })
        .await?;
    steps
        .run("MCP call get_current_user", async {
            let r = client.call_tool("get_current_user", json!({})).await?;
            if r.is_error {
                return Err(demo_error(&format!(
                    "the tool reported an error: {}",
                    r.text()
                )));
            }
            let text: String = r.text().chars().take(60).collect();
            Ok(((), text.replace('\n', " ")))
        })
        .await?;
    steps
        .run("REST GET /wb/apis/goal/301", async {
            let data = client.rest_get("goal/301").await?;
            let name = data
                .pointer("/goal/goal_name")
                .or_else(|| data.pointer("/goal/name"))
                .and_then(Value::as_str);
            Ok(((), format!("goal: {}", name.unwrap_or("(unnamed)"))))
        })
        .await?;
    steps
        .run("v1 revoke", async {
            let outcome = revoke_v1(&transport, &env, &creds).await?;
            if outcome != RevokeOutcome::Revoked {
                return Err(demo_error(&format!("revocation answered {outcome:?}")));
            }
            Ok(((), "token revoked at /wb/oauth/revoke/".to_string()))
        })
        .await?;
    steps
        .run("revoked token is refused", async {
            let after = Client::builder()
                .environment(env.clone())
                .credentials(creds.clone())
                .build()?;
            match after.list_tools().await {
                Err(e) if e.code() == "unauthorized" => {
                    Ok(((), "401 → unauthorized, as expected".to_string()))
                }
                Err(e) => Err(e.into()),
                Ok(_) => Err(demo_error("the revoked token still works")),
            }
        })
        .await?;
    let counters = sim.counters();
    let requests = counters.get("mcp")
        + counters.get("token")
        + counters.get("authorize")
        + counters.get("rest");
    sim.shutdown().await;
    let total_ms = total.ms();
    if ctx.json {
        let steps: Vec<Value> = steps
            .done
            .iter()
            .map(|d| json!({ "step": d.name, "ms": d.ms, "detail": d.detail }))
            .collect();
        crate::outln!(
            "{}",
            json!({ "ok": true, "result": { "steps": steps, "total_ms": total_ms, "server_requests": requests } })
        );
    } else {
        crate::outln!(
            "Demo complete in {total_ms:.0} ms ({} steps, {requests} requests to the simulator).",
            steps.done.len()
        );
    }
    Ok(())
}

/// `workboard sim`.
pub async fn sim(ctx: &Ctx, args: SimArgs) -> Result<(), CliError> {
    let config = SimConfig {
        port: args.port,
        auto_approve: args.auto_approve,
        ..SimConfig::default()
    };
    let sim = Simulator::start(config).await.map_err(|e| {
        CliError::new(
            "simulator",
            format!("cannot listen on 127.0.0.1:{}: {e}", args.port),
            Some("Pick another port with --port (0 = any free port).".into()),
            exit::USAGE,
        )
    })?;
    let base = sim.base_url().to_string();
    if ctx.json {
        crate::outln!(
            "{}",
            json!({ "ok": true, "result": { "listening": base, "mcp_url": sim.mcp_url() } })
        );
    } else {
        crate::outln!("listening on {base}");
        eprintln!(
            "WorkBoard simulator: MCP at {}\n  personal token: {}\n  v1 client: {DEMO_CLIENT_ID} / hash {DEMO_CLIENT_HASH} / redirect {DEMO_REDIRECT_URI}\n  try: workboard --env {base} token set <<< {}\nCtrl-C stops it.",
            sim.mcp_url(),
            workboard_sim::DEMO_PERSONAL_TOKEN,
            workboard_sim::DEMO_PERSONAL_TOKEN,
        );
    }
    let _ = tokio::signal::ctrl_c().await;
    sim.shutdown().await;
    Ok(())
}

async fn send(
    transport: &ReqwestTransport,
    method: Method,
    url: &str,
    form: Option<String>,
) -> Result<workboard_core::HttpResponse, CliError> {
    let mut headers = vec![("Accept".to_string(), "text/html".to_string())];
    if form.is_some() {
        headers.push((
            "Content-Type".into(),
            "application/x-www-form-urlencoded".into(),
        ));
    }
    let request = HttpRequest {
        id: RequestId(1),
        method,
        url: url.to_string(),
        headers,
        body: form.unwrap_or_default().into_bytes(),
    };
    Ok(transport
        .send(request)
        .await
        .map_err(workboard_core::Error::from)?)
}

fn hidden_field(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')?;
    Some(html[start..start + end].to_string())
}

fn between<'a>(s: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let i = s.find(start)? + start.len();
    let j = s[i..].find(end)?;
    Some(&s[i..i + j])
}

fn demo_error(message: &str) -> CliError {
    CliError::new("demo", message.to_string(), None, exit::OTHER)
}
