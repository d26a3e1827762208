//! `workboard login` and `workboard logout`.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

use workboard_core::oauth::flow::McpAuthConfig;
use workboard_core::oauth::v1::{RevokeOutcome, V1Config};
use workboard_core::{Credentials, Dialect, SecretString};
use workboard_native::store::keys;
use workboard_native::{
    revoke_mcp, revoke_v1, sign_in_client_credentials, sign_in_mcp, sign_in_v1, Approver,
    ReqwestTransport,
};

use crate::app::{Ctx, LoginArgs};
use crate::output::{progress, CliError};

/// `workboard login`.
pub async fn login(ctx: &Ctx, args: LoginArgs) -> Result<(), CliError> {
    let transport = ReqwestTransport::new().map_err(workboard_core::Error::from)?;
    let approver = approver(ctx, &args);
    match args.flow.as_str() {
        "v1" => {
            let client_id = args.client_id.clone().ok_or_else(|| {
                CliError::usage(
                    "--client-id is required for WorkBoard OAuth v1",
                    Some("Find it in WorkBoard → Settings → Custom Integrations → App (or set WORKBOARD_CLIENT_ID).".into()),
                )
            })?;
            let hash = client_hash(args.client_hash_file.as_ref(), true)?
                .ok_or_else(|| CliError::usage("no client hash given", None))?;
            let mut config = V1Config::new(
                ctx.environment.clone(),
                client_id,
                args.redirect_uri.clone(),
            );
            if let Some(s) = &args.scope {
                config.scopes = s
                    .split(',')
                    .map(|x| x.trim().to_string())
                    .filter(|x| !x.is_empty())
                    .collect();
            }
            progress(ctx.quiet, "signing in with WorkBoard OAuth v1");
            let creds = sign_in_v1(&transport, config, hash, approver).await?;
            save_signed_in(ctx, &creds, None)?;
            ctx.print(
                serde_json::json!({ "signed_in": "workboard_v1", "scope": creds.scope() }),
                || {
                    format!(
                        "Signed in (WorkBoard OAuth v1). Credentials stored in {}.",
                        ctx.store_location
                    )
                },
            );
        }
        "mcp" => {
            let mut config = match &ctx.server_override {
                Some(url) => McpAuthConfig::new(url.clone(), args.redirect_uri.clone()),
                None => McpAuthConfig::workboard(&ctx.environment, args.redirect_uri.clone()),
            };
            config.client.client_id = args.client_id.clone();
            match &args.client_secret_env {
                // A secret named for this server: it may go to a token endpoint on its host.
                Some(var) => {
                    if args.client_hash_file.is_some() {
                        return Err(CliError::usage(
                            "give either --client-secret-env or --client-hash-file, not both",
                            None,
                        ));
                    }
                    config.client.client_secret = Some(secret_from_env(var)?);
                    config.client.client_secret_for_server_host = true;
                }
                // The core sends it only to WorkBoard's token endpoints, or to the one named
                // here.
                None => {
                    config.client.client_secret =
                        client_hash(args.client_hash_file.as_ref(), false)?
                }
            }
            config.client.client_secret_for = args.client_hash_for.clone();
            config.client.client_name = "workboard-cli".into();
            config.client.client_metadata_url = args.client_metadata_url.clone();
            // A client registered by an earlier login is used again at the same issuer only.
            config.previous = match ctx.store.load(keys::AUTH_CONTEXT)? {
                Some(json) => workboard_core::oauth::flow::AuthContext::from_json(&json).ok(),
                None => None,
            };
            if args.scope.is_some() {
                return Err(CliError::usage(
                    "--scope applies to --flow v1 only",
                    Some("With OAuth 2.1 the scopes come from the server's challenge and metadata (MCP authorization spec).".into()),
                ));
            }
            progress(
                ctx.quiet,
                &format!(
                    "discovering the authorization server of {}",
                    ctx.shown_url()
                ),
            );
            match sign_in_mcp(&transport, config, approver).await? {
                None => ctx.print(
                    serde_json::json!({ "signed_in": false, "reason": "not_required" }),
                    || "The server does not ask for authorization: nothing to sign in to.".into(),
                ),
                Some(signed) => {
                    save_signed_in(ctx, &signed.credentials, Some(&signed.context.to_json()))?;
                    ctx.print(
                        serde_json::json!({ "signed_in": "oauth2", "scope": signed.credentials.scope(), "refreshable": signed.credentials.can_refresh() }),
                        || format!("Signed in (OAuth 2.1). Credentials stored in {}.", ctx.store_location),
                    );
                }
            }
        }
        "client-credentials" => login_client_credentials(ctx, &transport, &args).await?,
        other => {
            return Err(CliError::usage(
                format!(
                    "unknown --flow `{}`",
                    workboard_core::untrusted::excerpt(other, 20)
                ),
                Some("Use --flow v1 (WorkBoard OAuth), --flow mcp (OAuth 2.1 for MCP) or --flow client-credentials (a service's own credentials).".into()),
            ))
        }
    }
    Ok(())
}

/// `login --flow client-credentials`: the OAuth client credentials grant (MCP extension), with
/// the secret from an environment variable or a private key from a file — never from argv.
async fn login_client_credentials(
    ctx: &Ctx,
    transport: &ReqwestTransport,
    args: &LoginArgs,
) -> Result<(), CliError> {
    use workboard_core::oauth::client_credentials::{
        AssertionKey, ClientAuthentication, ClientCredentialsConfig,
    };
    let client_id = args.client_id.clone().ok_or_else(|| {
        CliError::usage(
            "--client-id is required for --flow client-credentials",
            Some("Pass the client id the authorization server issued to this service.".into()),
        )
    })?;
    let method = args.auth_method.as_deref();
    let authentication = match (&args.client_secret_env, &args.private_key) {
        (Some(_), Some(_)) => {
            return Err(CliError::usage(
                "give either --client-secret-env or --private-key, not both",
                None,
            ))
        }
        (Some(var), None) => {
            let secret = secret_from_env(var)?;
            match method {
                None | Some("basic") | Some("client_secret_basic") => {
                    ClientAuthentication::ClientSecretBasic(secret)
                }
                Some("post") | Some("client_secret_post") => {
                    ClientAuthentication::ClientSecretPost(secret)
                }
                Some(_) => return Err(auth_method_error(true)),
            }
        }
        (None, Some(path)) => {
            if !matches!(method, None | Some("private_key_jwt")) {
                return Err(auth_method_error(false));
            }
            let meta = std::fs::metadata(path).map_err(|e| {
                CliError::usage(format!("cannot read the private key {}: {e}", path.display()), None)
            })?;
            if meta.len() > workboard_core::oauth::client_credentials::MAX_KEY_PEM_BYTES as u64 {
                return Err(CliError::usage(
                    format!("{} is too large for a PEM private key", path.display()),
                    None,
                ));
            }
            let pem = std::fs::read_to_string(path).map_err(|e| {
                CliError::usage(format!("cannot read the private key {}: {e}", path.display()), None)
            })?;
            ClientAuthentication::PrivateKeyJwt(AssertionKey::from_pem(&pem)?)
        }
        (None, None) => {
            return Err(CliError::usage(
                "--flow client-credentials needs --client-secret-env VAR or --private-key FILE",
                Some("The secret is read from the named environment variable; the key from a PEM file. Neither is accepted on the command line.".into()),
            ))
        }
    };
    let server = ctx
        .server_override
        .clone()
        .unwrap_or_else(|| ctx.environment.mcp_url());
    let mut config = ClientCredentialsConfig::new(server, client_id, authentication);
    config.scope = args.scope.clone();
    config.token_endpoint_for = args.client_hash_for.clone();
    config.issuer_policy =
        workboard_core::oauth::metadata::IssuerPolicy::default().with_environment(&ctx.environment);
    progress(
        ctx.quiet,
        &format!(
            "discovering the authorization server of {} (client credentials)",
            ctx.shown_url()
        ),
    );
    match sign_in_client_credentials(transport, config).await? {
        None => ctx.print(
            serde_json::json!({ "signed_in": false, "reason": "not_required" }),
            || "The server does not ask for authorization: nothing to sign in to.".into(),
        ),
        Some(signed) => {
            save_signed_in(ctx, &signed.credentials, Some(&signed.context.to_json()))?;
            ctx.print(
                serde_json::json!({
                    "signed_in": "client_credentials",
                    "auth_method": signed.context.token_endpoint_auth.as_str(),
                    "scope": signed.credentials.scope(),
                }),
                || {
                    format!(
                        "Signed in (OAuth client credentials). Credentials stored in {}.",
                        ctx.store_location
                    )
                },
            );
        }
    }
    Ok(())
}

/// The secret in the environment variable `var` (`--client-secret-env`): never from argv.
fn secret_from_env(var: &str) -> Result<SecretString, CliError> {
    std::env::var(var)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .map(|v| SecretString::new(v.trim().to_string()))
        .ok_or_else(|| {
            CliError::usage(
                format!(
                    "the environment variable `{}` is not set or empty",
                    workboard_core::untrusted::excerpt(var, 64)
                ),
                Some(
                    "--client-secret-env names the variable that holds the secret (export it first)."
                        .into(),
                ),
            )
        })
}

fn auth_method_error(secret: bool) -> CliError {
    CliError::usage(
        "this --auth-method does not fit the credentials given",
        Some(if secret {
            "With --client-secret-env use --auth-method basic or post.".into()
        } else {
            "With --private-key the method is private_key_jwt.".into()
        }),
    )
}

/// `workboard logout`: revoke what can be revoked, then forget everything stored.
pub async fn logout(ctx: &Ctx) -> Result<(), CliError> {
    let Some(creds) = ctx.load_credentials()? else {
        forget(ctx)?;
        ctx.print(
            serde_json::json!({ "revoked": false, "forgotten": true }),
            || "Not signed in; nothing to revoke.".into(),
        );
        return Ok(());
    };
    let transport = ReqwestTransport::new().map_err(workboard_core::Error::from)?;
    progress(ctx.quiet, "revoking the stored credentials");
    let revoked: Result<&str, workboard_core::Error> = match &creds {
        Credentials::Personal { .. } => {
            Ok("personal tokens are revoked in WorkBoard's Apps tab; forgotten locally")
        }
        Credentials::OAuth(set) if set.dialect == Dialect::WorkboardV1 => {
            revoke_v1(&transport, &ctx.environment, &creds)
                .await
                .map(|o| match o {
                    RevokeOutcome::Revoked => "revoked",
                    _ => "the server no longer knew the token",
                })
        }
        Credentials::OAuth(_) => match ctx.store.load(keys::AUTH_CONTEXT)? {
            None => Ok("no OAuth context stored; forgotten locally"),
            Some(json) => {
                let context = workboard_core::oauth::flow::AuthContext::from_json(&json)?;
                revoke_mcp(&transport, &context, &creds).await.map(|n| {
                    if n == 0 {
                        "the server offers no revocation endpoint; forgotten locally"
                    } else {
                        "revoked"
                    }
                })
            }
        },
    };
    // Forget in every case: a user who logs out does not want the token kept because the
    // network was down. The revocation failure is still reported (non-zero exit).
    forget(ctx)?;
    match revoked {
        Ok(outcome) => {
            ctx.print(serde_json::json!({ "revoked": outcome == "revoked", "outcome": outcome, "forgotten": true }), || {
                format!("Logged out: {outcome}.")
            });
            Ok(())
        }
        Err(e) => {
            let mut err = CliError::from(e);
            err.info.message = format!(
                "credentials forgotten locally, but revocation failed: {}",
                err.info.message
            );
            Err(err)
        }
    }
}

fn forget(ctx: &Ctx) -> Result<(), CliError> {
    for key in [
        keys::CREDENTIALS,
        keys::AUTH_CONTEXT,
        keys::SESSION,
        keys::PENDING,
    ] {
        ctx.store.remove(key)?;
    }
    Ok(())
}

fn save_signed_in(ctx: &Ctx, creds: &Credentials, context: Option<&str>) -> Result<(), CliError> {
    ctx.store.save(keys::CREDENTIALS, &creds.to_json())?;
    match context {
        Some(c) => ctx.store.save(keys::AUTH_CONTEXT, c)?,
        None => ctx.store.remove(keys::AUTH_CONTEXT)?,
    }
    ctx.store.remove(keys::SESSION)?;
    Ok(())
}

fn approver(ctx: &Ctx, args: &LoginArgs) -> Approver {
    if args.headless {
        return Approver::Headless;
    }
    let quiet = ctx.quiet;
    let launch = !args.no_browser;
    Approver::Loopback {
        open: Box::new(move |url: &str| {
            // The URL carries only `state` and the PKCE challenge: safe to show.
            eprintln!("Open this URL to sign in:\n  {url}");
            if launch && !open_browser(url) && !quiet {
                eprintln!("(could not start a browser; open the URL yourself)");
            }
            if !quiet {
                eprintln!("… waiting for the browser to come back");
            }
        }),
        timeout: Duration::from_secs(args.timeout.max(1)),
    }
}

pub(crate) fn open_browser(url: &str) -> bool {
    let candidates: &[&str] = if cfg!(target_os = "macos") {
        &["open"]
    } else if cfg!(windows) {
        &["explorer"]
    } else {
        &["xdg-open", "sensible-browser"]
    };
    candidates.iter().any(|cmd| {
        std::process::Command::new(cmd)
            .arg(url)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .is_ok()
    })
}

/// The client hash (secret): from `--client-hash-file`, else `WORKBOARD_CLIENT_HASH`, else
/// (when `required`) stdin. Never from the command line.
fn client_hash(file: Option<&PathBuf>, required: bool) -> Result<Option<SecretString>, CliError> {
    if let Some(path) = file {
        let raw = std::fs::read_to_string(path).map_err(|e| {
            CliError::usage(
                format!("cannot read the client hash from {}: {e}", path.display()),
                None,
            )
        })?;
        return non_empty(raw).map(Some);
    }
    if let Ok(v) = std::env::var("WORKBOARD_CLIENT_HASH") {
        if !v.trim().is_empty() {
            return non_empty(v).map(Some);
        }
    }
    if !required {
        return Ok(None);
    }
    let stdin = std::io::stdin();
    let mut raw = String::new();
    if stdin.is_terminal() {
        eprint!(
            "Client hash (input is shown; prefer WORKBOARD_CLIENT_HASH or --client-hash-file): "
        );
        stdin
            .read_line(&mut raw)
            .map_err(|e| CliError::usage(format!("cannot read stdin: {e}"), None))?;
    } else {
        use std::io::Read;
        stdin
            .take(64 * 1024)
            .read_to_string(&mut raw)
            .map_err(|e| CliError::usage(format!("cannot read stdin: {e}"), None))?;
    }
    non_empty(raw).map(Some)
}

fn non_empty(raw: String) -> Result<SecretString, CliError> {
    let t = raw.trim();
    if t.is_empty() {
        return Err(CliError::usage(
            "the client hash is empty",
            Some("Set WORKBOARD_CLIENT_HASH, pass --client-hash-file, or pipe it on stdin.".into()),
        ));
    }
    Ok(SecretString::new(t.to_string()))
}
