//! Replays `tests/vectors/mcpauth_*.json` (OAuth 2.1 for MCP) through the core API.
//!
//! Ops (documented in tests/vectors/README.md):
//! - `mcp_oauth_start` {server_url, redirect_uri, client_id?, client_secret?,
//!   client_metadata_url?, www_authenticate?, workboard_environment?}
//!   → {authorize_url, client_id, token_endpoint_auth, allowance}
//! - `mcp_oauth_redirect` {input} → credentials summary
//! - `mcp_refresh` {} → credentials summary
//! - `mcp_step_up` {scope} → {authorize_url}
//! - `mcp_revoke` {} → {requests}
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use serde_json::{json, Value};
use support::{block_on, replay_all, Ctx, Step};
use workboard_core::oauth::flow::{McpAuthConfig, McpAuthEvent, McpAuthFlow};
use workboard_core::oauth::metadata::IssuerPolicy;
use workboard_core::{
    drive, Clock, Credentials, Environment, Error, ErrorInfo, SecretString, TokenSet, Transport,
};

#[derive(Default)]
struct State {
    flow: Option<McpAuthFlow>,
    creds: Option<TokenSet>,
}

fn arg<'a>(step: &'a Step, name: &str) -> Option<&'a str> {
    step.args.get(name).and_then(Value::as_str)
}

fn summary(set: &TokenSet) -> Value {
    json!({
        "access_token": set.access_token.expose(),
        "refresh_token": set.refresh_token.as_ref().map(|r| r.expose().to_string()),
        "token_type": set.token_type,
        "scope": set.scope,
        "expires_at_ms": set.expires_at_ms,
    })
}

fn drain(flow: &mut McpAuthFlow) -> Result<Vec<McpAuthEvent>, ErrorInfo> {
    let events: Vec<_> = std::iter::from_fn(|| flow.poll_event()).collect();
    for e in &events {
        if let McpAuthEvent::Failed(err) = e {
            return Err(err.info());
        }
    }
    Ok(events)
}

fn authorize_url(events: &[McpAuthEvent]) -> Result<String, ErrorInfo> {
    events
        .iter()
        .find_map(|e| match e {
            McpAuthEvent::AuthorizationUrl { url } => Some(url.clone()),
            _ => None,
        })
        .ok_or_else(|| {
            Error::WrongState {
                action: "authorize".into(),
                state: "no authorization URL".into(),
            }
            .info()
        })
}

fn no_flow() -> ErrorInfo {
    Error::WrongState {
        action: "continue".into(),
        state: "no flow started".into(),
    }
    .info()
}

fn run_op(state: &mut State, ctx: &mut Ctx, step: &Step) -> Result<Value, ErrorInfo> {
    let now = ctx.clock.now_ms();
    match step.op.as_str() {
        "mcp_oauth_start" => {
            let mut cfg = McpAuthConfig::new(
                arg(step, "server_url").unwrap_or_default(),
                arg(step, "redirect_uri").unwrap_or_default(),
            );
            cfg.client.client_id = arg(step, "client_id").map(str::to_string);
            cfg.client.client_secret = arg(step, "client_secret").map(SecretString::new);
            cfg.client.client_metadata_url = arg(step, "client_metadata_url").map(str::to_string);
            cfg.www_authenticate = arg(step, "www_authenticate").map(str::to_string);
            if let Some(base) = arg(step, "workboard_environment") {
                let env = Environment::parse(base).map_err(|e| e.info())?;
                cfg.issuer_policy = IssuerPolicy::default().with_environment(&env);
            }
            let mut flow = McpAuthFlow::new(cfg, &mut ctx.entropy, now).map_err(|e| e.info())?;
            block_on(drive(&mut flow, &ctx.transport, &ctx.clock));
            let events = drain(&mut flow)?;
            let url = authorize_url(&events)?;
            let c = flow.context().cloned();
            state.flow = Some(flow);
            Ok(json!({
                "authorize_url": url,
                "client_id": c.as_ref().map(|c| c.client_id.clone()),
                "token_endpoint_auth": c.as_ref().map(|c| c.token_endpoint_auth.as_str()),
                "allowance": c.as_ref().and_then(|c| c.allowance).map(|a| a.name()),
            }))
        }
        "mcp_oauth_redirect" => {
            let flow = state.flow.as_mut().ok_or_else(no_flow)?;
            flow.handle_redirect(arg(step, "input").unwrap_or_default(), now)
                .map_err(|e| e.info())?;
            block_on(drive(flow, &ctx.transport, &ctx.clock));
            for e in drain(flow)? {
                if let McpAuthEvent::CredentialsChanged(Credentials::OAuth(set)) = e {
                    let out = summary(&set);
                    state.creds = Some(set);
                    return Ok(out);
                }
            }
            Err(Error::NotSignedIn.info())
        }
        "mcp_refresh" => {
            let flow = state.flow.as_ref().ok_or_else(no_flow)?;
            let auth = flow.context().ok_or_else(no_flow)?.clone();
            let prev = state
                .creds
                .clone()
                .ok_or_else(|| Error::NotSignedIn.info())?;
            let rt = prev
                .refresh_token
                .clone()
                .ok_or_else(|| Error::NotSignedIn.info())?;
            let req = auth.refresh_request(ctx.next_id(), &rt);
            let resp = block_on(ctx.transport.send(req)).map_err(|e| Error::Transport(e).info())?;
            let set = auth
                .handle_refresh_response(&resp, &prev, ctx.clock.now_ms())
                .map_err(|e| e.info())?;
            let out = summary(&set);
            state.creds = Some(set);
            Ok(out)
        }
        "mcp_step_up" => {
            let flow = state.flow.as_mut().ok_or_else(no_flow)?;
            flow.step_up(
                arg(step, "scope").unwrap_or_default(),
                &mut ctx.entropy,
                now,
            )
            .map_err(|e| e.info())?;
            let events = drain(flow)?;
            Ok(json!({ "authorize_url": authorize_url(&events)? }))
        }
        "mcp_revoke" => {
            let flow = state.flow.as_ref().ok_or_else(no_flow)?;
            let auth = flow.context().ok_or_else(no_flow)?.clone();
            let creds = Credentials::OAuth(
                state
                    .creds
                    .clone()
                    .ok_or_else(|| Error::NotSignedIn.info())?,
            );
            let mut n = 1000;
            let reqs = auth.revoke_requests(
                &mut || {
                    n += 1;
                    workboard_core::RequestId(n)
                },
                &creds,
            );
            let count = reqs.len();
            for r in reqs {
                let resp =
                    block_on(ctx.transport.send(r)).map_err(|e| Error::Transport(e).info())?;
                if !resp.is_success() {
                    return Err(Error::HttpStatus {
                        status: resp.status,
                        url: "revocation".into(),
                        detail: None,
                    }
                    .info());
                }
            }
            state.creds = None;
            Ok(json!({ "requests": count }))
        }
        other => panic!("unknown op {other}"),
    }
}

#[test]
fn replay_mcpauth_vectors() {
    let n = replay_all("mcpauth_", run_op);
    assert!(n >= 3, "expected at least 3 mcpauth vectors, found {n}");
}
