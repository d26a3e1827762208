//! Runs the exchange service on 127.0.0.1: `WORKBOARD_CLIENT_ID`, `WORKBOARD_CLIENT_HASH`,
//! `WORKBOARD_REDIRECT_URI`, optional `WORKBOARD_ENV` (us, eu, or a base URL; default us) and
//! `PORT` (default 3000). Exit status 2 for a missing or invalid setting.

use example_rust_service::{router, ServiceConfig};
use workboard_core::{Environment, SecretString};

fn fail(status: i32, message: &str) -> ! {
    eprintln!("{message}");
    std::process::exit(status)
}

#[tokio::main]
async fn main() {
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
    let (Some(client_id), Some(hash), Some(redirect_uri)) = (
        var("WORKBOARD_CLIENT_ID"),
        var("WORKBOARD_CLIENT_HASH"),
        var("WORKBOARD_REDIRECT_URI"),
    ) else {
        fail(
            2,
            "set WORKBOARD_CLIENT_ID, WORKBOARD_CLIENT_HASH and WORKBOARD_REDIRECT_URI",
        );
    };
    let environment = Environment::parse(&var("WORKBOARD_ENV").unwrap_or_default())
        .unwrap_or_else(|e| fail(2, &format!("WORKBOARD_ENV: {e}")));
    let port = match var("PORT") {
        None => 3000,
        Some(p) => p
            .trim()
            .parse::<u16>()
            .unwrap_or_else(|_| fail(2, "PORT must be a number from 0 to 65535")),
    };
    let config = ServiceConfig {
        environment,
        client_id,
        client_hash: SecretString::new(hash),
        redirect_uri,
    };
    let app = router(config).unwrap_or_else(|e| fail(2, &e.info().to_string()));
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
