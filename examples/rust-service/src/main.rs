//! Runs the service on 127.0.0.1 (`PORT`, default 3000). Exit status 2 for a missing or
//! invalid setting.
//!
//! - The v1 code exchange (`POST /api/workboard/exchange`): `WORKBOARD_CLIENT_ID`,
//!   `WORKBOARD_CLIENT_HASH`, `WORKBOARD_REDIRECT_URI`.
//! - The service's own MCP access shared by every instance (`GET /api/workboard/me`):
//!   `WORKBOARD_REDIS_URL`, optional `WORKBOARD_REDIS_PREFIX` (default `workboard-service`).
//!   `example-rust-service sign-in [--headless]` signs the service in once and stores the
//!   credentials there.
//!
//! At least one of the two; both need `WORKBOARD_ENV` (us, eu, or a base URL; default us).

use std::sync::Arc;

use example_rust_service::{router, shared, ServiceConfig};
use workboard_core::{Environment, SecretString};

fn fail(status: i32, message: &str) -> ! {
    eprintln!("{message}");
    std::process::exit(status)
}

fn var(k: &str) -> Option<String> {
    std::env::var(k).ok().filter(|v| !v.trim().is_empty())
}

fn shared_store() -> Option<Arc<workboard_redis::RedisStore>> {
    let url = var("WORKBOARD_REDIS_URL")?;
    let prefix = var("WORKBOARD_REDIS_PREFIX").unwrap_or_else(|| "workboard-service".into());
    Some(shared::open_store(&url, &prefix).unwrap_or_else(|e| fail(2, &e.to_string())))
}

#[tokio::main]
async fn main() {
    let environment = Environment::parse(&var("WORKBOARD_ENV").unwrap_or_default())
        .unwrap_or_else(|e| fail(2, &format!("WORKBOARD_ENV: {e}")));
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        None => {}
        Some("sign-in") => {
            let headless = match args.get(1).map(String::as_str) {
                None => false,
                Some("--headless") if args.len() == 2 => true,
                Some(_) => fail(2, "usage: example-rust-service sign-in [--headless]"),
            };
            let Some(store) = shared_store() else {
                fail(
                    2,
                    "sign-in stores the credentials in Redis: set WORKBOARD_REDIS_URL",
                );
            };
            match shared::sign_in(&environment, &store, headless).await {
                Ok(()) => {
                    println!("signed in; the credentials are in the shared store");
                    return;
                }
                Err(e) => fail(1, &e.info().to_string()),
            }
        }
        Some(_) => fail(2, "usage: example-rust-service [sign-in [--headless]]"),
    }

    let v1 = (
        var("WORKBOARD_CLIENT_ID"),
        var("WORKBOARD_CLIENT_HASH"),
        var("WORKBOARD_REDIRECT_URI"),
    );
    let store = shared_store();
    let mut app = match v1 {
        (Some(client_id), Some(hash), Some(redirect_uri)) => Some(
            router(ServiceConfig {
                environment: environment.clone(),
                client_id,
                client_hash: SecretString::new(hash),
                redirect_uri,
            })
            .unwrap_or_else(|e| fail(2, &e.info().to_string())),
        ),
        (None, None, None) if store.is_some() => None,
        _ => fail(
            2,
            "set WORKBOARD_CLIENT_ID, WORKBOARD_CLIENT_HASH and WORKBOARD_REDIRECT_URI (the v1 code exchange), WORKBOARD_REDIS_URL (the service's own shared MCP access), or both",
        ),
    };
    if let Some(store) = store {
        let client =
            shared::client(environment, store).unwrap_or_else(|e| fail(2, &e.info().to_string()));
        let routes = shared::routes(Arc::new(client));
        app = Some(match app {
            Some(app) => app.merge(routes),
            None => routes,
        });
    }
    let app = app.unwrap_or_else(|| fail(2, "nothing to serve"));
    let port = match var("PORT") {
        None => 3000,
        Some(p) => p
            .trim()
            .parse::<u16>()
            .unwrap_or_else(|_| fail(2, "PORT must be a number from 0 to 65535")),
    };
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap_or_else(|e| fail(1, &format!("cannot listen on 127.0.0.1:{port}: {e}")));
    if let Ok(addr) = listener.local_addr() {
        println!("listening on http://{addr}");
    }
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    if let Err(e) = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
    {
        fail(1, &format!("server error: {e}"));
    }
}
