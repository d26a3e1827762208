//! `workboard tools`, `call`, `rest`: MCP and REST through the native [`Client`], with the
//! credentials, OAuth context and session kept in the store.

use workboard_native::{Client, Reactor};

use crate::app::Ctx;
use crate::output::{progress, CliError};

/// A client on the stored credentials. The store is shared with the machine's other
/// `workboard` processes (commands, bridges): a refresh goes through its lease, once per
/// expiry for all of them, and its result is saved back before it is used. Without
/// credentials, it still talks to the server (one that needs no sign-in answers; one that
/// does answers 401: `not_signed_in`).
pub fn client(ctx: &Ctx) -> Result<Client, CliError> {
    client_with_input(ctx, None)
}

/// [`client`] with an input handler: elicitation forms from `--input` or the terminal.
pub fn client_with_input(ctx: &Ctx, input: Option<&std::path::Path>) -> Result<Client, CliError> {
    // A store that cannot be read is an error here, before anything is sent.
    ctx.load_credentials()?;
    // One short-lived reactor thread for this process (the CLI makes one client).
    let reactor = Reactor::new(1)?;
    let mut builder = Client::builder();
    if let Some(handler) = crate::input::CliInput::new(input)? {
        builder = builder.input_handler(handler);
    }
    Ok(builder
        .environment(ctx.environment.clone())
        .server_url(ctx.mcp_url.clone())
        .shared_store(ctx.shared.clone())
        .reactor(reactor)
        .client_info("workboard-cli", env!("CARGO_PKG_VERSION"))
        .era(ctx.era.policy())
        .build()?)
}

/// Runs `op`; when it fails for a missing scope (403 `insufficient_scope`) and the client
/// holds an MCP OAuth sign-in, authorizes again for that scope as `--step-up` says, then
/// runs `op` once more.
async fn with_step_up<T, F, Fut>(ctx: &Ctx, client: &Client, mut op: F) -> Result<T, CliError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, workboard_core::Error>>,
{
    let scope = match op().await {
        Err(workboard_core::Error::InsufficientScope { scope })
            if client.auth_context().is_some() =>
        {
            scope
        }
        other => return other.map_err(Into::into),
    };
    use crate::app::StepUpArg;
    use std::io::IsTerminal;
    let mode = match ctx.step_up {
        StepUpArg::Auto if std::io::stdin().is_terminal() && std::io::stderr().is_terminal() => {
            StepUpArg::Browser
        }
        StepUpArg::Auto => StepUpArg::Never,
        m => m,
    };
    let missing = workboard_core::Error::InsufficientScope {
        scope: scope.clone(),
    };
    let approver = match mode {
        StepUpArg::Never | StepUpArg::Auto => return Err(missing.into()),
        StepUpArg::Headless => workboard_native::Approver::Headless,
        StepUpArg::Browser | StepUpArg::Print => {
            let launch = mode == StepUpArg::Browser;
            workboard_native::Approver::Loopback {
                open: Box::new(move |url: &str| {
                    // The URL carries only `state` and the PKCE challenge: safe to show.
                    eprintln!("This call needs more access. Open this URL to grant it:\n  {url}");
                    if launch && !crate::cmd_auth::open_browser(url) {
                        eprintln!("(could not start a browser; open the URL yourself)");
                    }
                }),
                timeout: std::time::Duration::from_secs(300),
            }
        }
    };
    progress(
        ctx.quiet,
        &format!(
            "authorizing again for scope `{}`",
            scope.as_deref().unwrap_or("(unnamed)")
        ),
    );
    let transport =
        workboard_native::ReqwestTransport::new().map_err(workboard_core::Error::Transport)?;
    workboard_native::step_up_mcp(client, &transport, scope.as_deref().unwrap_or(""), approver)
        .await?;
    op().await.map_err(Into::into)
}

/// `workboard tools`.
pub async fn tools(ctx: &Ctx) -> Result<(), CliError> {
    let client = client(ctx)?;
    progress(ctx.quiet, &format!("listing tools of {}", ctx.shown_url()));
    let tools = with_step_up(ctx, &client, || client.list_tools()).await?;
    let json = serde_json::to_value(&tools).unwrap_or_default();
    ctx.print(serde_json::json!({ "tools": json }), || {
        if tools.is_empty() {
            return format!("No tools listed. {}", workboard_core::error::HINT_NO_TOOLS);
        }
        let width = tools.iter().map(|t| t.name.len()).max().unwrap_or(0);
        let mut out: Vec<String> = tools
            .iter()
            .map(|t| {
                let about = t
                    .title
                    .as_deref()
                    .or(t.description.as_deref())
                    .unwrap_or("");
                let about = about.lines().next().unwrap_or("");
                format!("{:width$}  {about}", t.name)
            })
            .collect();
        out.push(format!("{} tool(s)", tools.len()));
        out.join("\n")
    });
    Ok(())
}

/// `workboard call NAME --args JSON`.
pub async fn call(
    ctx: &Ctx,
    name: &str,
    args: &str,
    input: Option<&std::path::Path>,
) -> Result<(), CliError> {
    let arguments: serde_json::Value = serde_json::from_str(args).map_err(|e| {
        CliError::usage(
            format!(
                "--args is not JSON: {}",
                workboard_core::untrusted::describe_json_error(&e)
            ),
            Some(r#"Pass a JSON object, e.g. --args '{"team_id": 201}'"#.into()),
        )
    })?;
    if !arguments.is_object() {
        return Err(CliError::usage(
            "--args must be a JSON object",
            Some(r#"e.g. --args '{}'"#.into()),
        ));
    }
    let client = client_with_input(ctx, input)?;
    progress(ctx.quiet, &format!("calling {name}"));
    let result = with_step_up(ctx, &client, || client.call_tool(name, arguments.clone())).await?;
    let json = result.to_value();
    let failure = result.is_error.then(|| {
        CliError::new(
            "tool_error",
            format!("{name} reported an error"),
            None,
            crate::output::exit::SERVER,
        )
    });
    ctx.finish(
        json,
        || {
            let text = result.text();
            let body = match (&result.structured_content, text.is_empty()) {
                (Some(s), true) => serde_json::to_string_pretty(s).unwrap_or_default(),
                _ => text,
            };
            if result.is_error {
                format!("The tool reported an error:\n{body}")
            } else {
                body
            }
        },
        failure,
    )
}

/// A JSON object from `--args` (usage error otherwise).
fn json_object(args: &str, example: &str) -> Result<serde_json::Value, CliError> {
    let v: serde_json::Value = serde_json::from_str(args).map_err(|e| {
        CliError::usage(
            format!(
                "--args is not JSON: {}",
                workboard_core::untrusted::describe_json_error(&e)
            ),
            Some(format!("Pass a JSON object, e.g. --args '{example}'")),
        )
    })?;
    if !v.is_object() {
        return Err(CliError::usage(
            "--args must be a JSON object",
            Some(format!("e.g. --args '{example}'")),
        ));
    }
    Ok(v)
}

/// `workboard resources`: resources, then resource templates (a server without templates,
/// or without resources at all, lists none).
pub async fn resources(ctx: &Ctx) -> Result<(), CliError> {
    let client = client(ctx)?;
    progress(
        ctx.quiet,
        &format!("listing resources of {}", ctx.shown_url()),
    );
    let resources = client.list_resources().await?;
    let templates = match client.list_resource_templates().await {
        Ok(t) => t,
        // A server with resources but no templates may not know the method.
        Err(e) if e.code() == "jsonrpc_error" => Vec::new(),
        Err(e) => return Err(e.into()),
    };
    let json = serde_json::json!({"resources": resources, "resourceTemplates": templates});
    ctx.print(json, || {
        let mut out: Vec<String> = resources
            .iter()
            .map(|r| format!("{}  {}", r.uri, r.title.as_deref().unwrap_or(&r.name)))
            .collect();
        out.extend(templates.iter().map(|t| {
            format!(
                "{}  {} (template)",
                t.uri_template,
                t.title.as_deref().unwrap_or(&t.name)
            )
        }));
        out.push(format!(
            "{} resource(s), {} template(s)",
            resources.len(),
            templates.len()
        ));
        out.join("\n")
    });
    Ok(())
}

/// `workboard read URI`.
pub async fn read(ctx: &Ctx, uri: &str) -> Result<(), CliError> {
    let client = client(ctx)?;
    progress(ctx.quiet, &format!("reading {uri}"));
    let contents = with_step_up(ctx, &client, || client.read_resource(uri)).await?;
    let json = serde_json::json!({ "contents": contents });
    ctx.print(json, || {
        contents
            .iter()
            .map(|c| match (&c.text, &c.blob) {
                (Some(t), _) => t.clone(),
                (None, Some(b)) => format!(
                    "({} bytes of {} as base64)",
                    b.len(),
                    c.mime_type.as_deref().unwrap_or("binary data")
                ),
                (None, None) => String::new(),
            })
            .collect::<Vec<_>>()
            .join("\n")
    });
    Ok(())
}

/// `workboard listen`: notifications as they arrive.
pub async fn listen(
    ctx: &Ctx,
    filter: workboard_native::workboard_client::SubscriptionFilter,
    count: Option<u64>,
) -> Result<(), CliError> {
    use futures_util::StreamExt;
    let client = client(ctx)?;
    progress(ctx.quiet, &format!("listening to {}", ctx.shown_url()));
    let mut sub = client.subscribe(filter);
    let mut seen = 0u64;
    loop {
        if count.is_some_and(|n| seen >= n) {
            return Ok(()); // dropping the subscription closes its stream
        }
        let next = futures_util::future::select(sub.notifications.next(), &mut sub.end).await;
        match next {
            futures_util::future::Either::Left((Some(n), _)) => {
                if n.method != "notifications/subscriptions/acknowledged" {
                    seen += 1;
                }
                if ctx.json {
                    println!(
                        "{}",
                        serde_json::json!({"method": n.method, "params": n.params})
                    );
                } else {
                    println!("{} {}", n.method, n.params);
                }
            }
            futures_util::future::Either::Left((None, _)) => {
                // The stream ended with the subscription: its result says how.
                return match (&mut sub.end).await {
                    Ok(_) => Ok(()),
                    Err(e) => Err(e.into()),
                };
            }
            futures_util::future::Either::Right((end, _)) => {
                let graceful = end?;
                progress(
                    ctx.quiet,
                    if graceful {
                        "the server closed the subscription"
                    } else {
                        "the subscription's stream ended"
                    },
                );
                return Ok(());
            }
        }
    }
}

/// `workboard prompts`.
pub async fn prompts(ctx: &Ctx) -> Result<(), CliError> {
    let client = client(ctx)?;
    progress(
        ctx.quiet,
        &format!("listing prompts of {}", ctx.shown_url()),
    );
    let prompts = client.list_prompts().await?;
    let json = serde_json::json!({ "prompts": prompts });
    ctx.print(json, || {
        let mut out: Vec<String> = prompts
            .iter()
            .map(|p| {
                let args: Vec<String> = p
                    .arguments
                    .iter()
                    .map(|a| {
                        if a.required {
                            a.name.clone()
                        } else {
                            format!("[{}]", a.name)
                        }
                    })
                    .collect();
                format!(
                    "{} {}  {}",
                    p.name,
                    args.join(" "),
                    p.description.as_deref().unwrap_or("")
                )
            })
            .collect();
        out.push(format!("{} prompt(s)", prompts.len()));
        out.join("\n")
    });
    Ok(())
}

/// `workboard prompt NAME --args JSON`.
pub async fn prompt(ctx: &Ctx, name: &str, args: &str) -> Result<(), CliError> {
    let arguments = json_object(args, r#"{"goal_id": "42"}"#)?;
    let client = client(ctx)?;
    progress(ctx.quiet, &format!("getting prompt {name}"));
    let prompt = with_step_up(ctx, &client, || client.get_prompt(name, arguments.clone())).await?;
    let json = serde_json::to_value(&prompt).unwrap_or_default();
    ctx.print(json, || {
        prompt
            .messages
            .iter()
            .map(|m| {
                let text = m
                    .content
                    .get("text")
                    .and_then(serde_json::Value::as_str)
                    .map(str::to_string)
                    .unwrap_or_else(|| m.content.to_string());
                format!("{}: {text}", m.role)
            })
            .collect::<Vec<_>>()
            .join("\n")
    });
    Ok(())
}

/// `workboard complete prompt:NAME|resource:TEMPLATE ARGUMENT [VALUE]`.
pub async fn complete(
    ctx: &Ctx,
    reference: &str,
    argument: &str,
    value: &str,
) -> Result<(), CliError> {
    use workboard_core::mcp::surface::CompletionRef;
    let reference = match reference.split_once(':') {
        Some(("prompt", name)) if !name.is_empty() => CompletionRef::Prompt(name.into()),
        Some(("resource", uri)) if !uri.is_empty() => CompletionRef::ResourceTemplate(uri.into()),
        _ => {
            return Err(CliError::usage(
                "the reference must be prompt:NAME or resource:URI_TEMPLATE",
                Some("e.g. workboard complete prompt:objective_review goal_id 1".into()),
            ))
        }
    };
    let client = client(ctx)?;
    let c = client
        .complete(reference, argument, value, serde_json::Value::Null)
        .await?;
    let json = serde_json::to_value(&c).unwrap_or_default();
    ctx.print(json, || c.values.join("\n"));
    Ok(())
}

/// `workboard rest PATH`.
pub async fn rest(ctx: &Ctx, path: &str) -> Result<(), CliError> {
    let client = client(ctx)?;
    progress(ctx.quiet, &format!("GET {path}"));
    let personal = matches!(
        ctx.load_credentials()?,
        Some(workboard_core::Credentials::Personal { .. })
    );
    let data = match client.rest_get(path).await {
        Err(e) if personal && e.code() == "forbidden" => {
            let mut err = CliError::from(e);
            err.info.hint = Some("Personal tokens are scoped to MCP only; the REST API needs an OAuth sign-in (`workboard login`).".into());
            return Err(err);
        }
        other => other?,
    };
    ctx.print(data.clone(), || {
        serde_json::to_string_pretty(&data).unwrap_or_default()
    });
    Ok(())
}
