//! Replays `tests/vectors/v1_*.json` (WorkBoard OAuth v1) through the core's public API.
//! Ops (documented in tests/vectors/README.md): `v1_authorize`, `v1_handle_redirect`,
//! `v1_exchange_code`, `v1_revoke`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use serde_json::{json, Value};
use support::{block_on, replay_all, Ctx, Step};
use workboard_core::fuzzing::{checked_exchange_request, handle_exchange_response, revoke_request};
use workboard_core::oauth::pending::{AuthorizationCode, PendingAuthorization};
use workboard_core::oauth::v1::{
    handle_revoke_response, start_authorization, RevokeOutcome, V1Config,
};
use workboard_core::{Clock, Credentials, Environment, Error, ErrorInfo, SecretString, Transport};

#[derive(Default)]
struct V1State {
    config: Option<V1Config>,
    pending: Option<PendingAuthorization>,
    code: Option<AuthorizationCode>,
    credentials: Option<Credentials>,
}

fn arg<'a>(step: &'a Step, name: &str) -> Option<&'a Value> {
    step.args.get(name)
}

fn arg_str(step: &Step, name: &str) -> Result<String, Error> {
    arg(step, name)
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| Error::InvalidInput {
            what: name.into(),
            reason: "missing in vector args".into(),
        })
}

fn wrong_state(action: &str, state: &str) -> Error {
    Error::WrongState {
        action: action.into(),
        state: state.into(),
    }
}

fn run_op(s: &mut V1State, ctx: &mut Ctx, step: &Step) -> Result<Value, ErrorInfo> {
    run(s, ctx, step).map_err(ErrorInfo::from)
}

fn run(s: &mut V1State, ctx: &mut Ctx, step: &Step) -> Result<Value, Error> {
    let now = ctx.clock.now_ms();
    match step.op.as_str() {
        "v1_authorize" => {
            let mut cfg = V1Config::new(
                Environment::parse(&arg_str(step, "environment")?)?,
                arg_str(step, "client_id")?,
                arg_str(step, "redirect_uri")?,
            );
            cfg.scopes = arg(step, "scopes")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default();
            cfg.json_code = arg(step, "json_code")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            let (url, pending) = start_authorization(&cfg, &mut ctx.entropy, now)?;
            s.config = Some(cfg);
            s.pending = Some(pending);
            Ok(json!({ "url": url }))
        }
        "v1_handle_redirect" => {
            let pending = s
                .pending
                .as_mut()
                .ok_or_else(|| wrong_state("handle a redirect", "no sign-in started"))?;
            let code = pending.handle_redirect(&arg_str(step, "input")?, now)?;
            s.code = Some(code);
            Ok(json!({ "code_received": true }))
        }
        "v1_exchange_code" => {
            let code = s
                .code
                .as_ref()
                .ok_or_else(|| wrong_state("exchange a code", "no code received"))?;
            let hash = SecretString::new(arg_str(step, "client_hash")?);
            let id = ctx.next_id();
            let request = checked_exchange_request(code, &hash, id, now)?;
            let response = block_on(ctx.transport.send(request.clone()))?;
            let credentials = handle_exchange_response(&request, &response, ctx.clock.now_ms())?;
            let Credentials::OAuth(set) = &credentials else {
                return Err(wrong_state(
                    "summarize credentials",
                    "not OAuth credentials",
                ));
            };
            let summary = json!({
                "token_type": set.token_type,
                "scope": set.scope,
                "expires_at_ms": set.expires_at_ms,
                "has_refresh": set.refresh_token.is_some(),
            });
            s.credentials = Some(credentials);
            Ok(summary)
        }
        "v1_revoke" => {
            let (Some(cfg), Some(credentials)) = (&s.config, &s.credentials) else {
                return Err(wrong_state("revoke", "not signed in"));
            };
            let id = ctx.next_id();
            let request = revoke_request(&cfg.environment, credentials, id);
            let response = block_on(ctx.transport.send(request.clone()))?;
            let outcome = handle_revoke_response(&request, &response)?;
            s.credentials = None;
            Ok(json!({ "outcome": match outcome {
                RevokeOutcome::Revoked => "revoked",
                RevokeOutcome::AlreadyInvalid => "already_invalid",
            } }))
        }
        other => panic!("unknown op {other}"),
    }
}

#[test]
fn v1_vectors_replay() {
    let n = replay_all("v1_", run_op);
    assert!(n >= 6, "expected at least 6 v1 vectors, found {n}");
}
