//! Sign-in against hostile parties on 127.0.0.1 (issue 11, items 11–13): forged redirects
//! and a slow client at the loopback listener, an authorization endpoint that redirects into
//! the local network. Every hostile server here binds 127.0.0.1, serves a bounded number of
//! connections within a bounded time and stops by itself.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use workboard_core::oauth::flow::McpAuthConfig;
use workboard_core::oauth::v1::V1Config;
use workboard_core::{Credentials, Environment, SecretString};
use workboard_native::{sign_in_mcp, sign_in_v1, Approver, ReqwestTransport};
use workboard_sim::{ClientConfig, SimConfig, Simulator, DEMO_CLIENT_HASH, DEMO_CLIENT_ID};

/// A loopback port reserved while the returned socket lives (bound with SO_REUSEADDR and never
/// listening), for this test's redirect URI (see tests/client.rs).
fn reserved_port() -> (tokio::net::TcpSocket, u16) {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_reuseaddr(true).unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let port = socket.local_addr().unwrap().port();
    (socket, port)
}

/// A simulator that approves at once, with the demo client registered for a loopback
/// redirect URI on a reserved port.
async fn sim_with_loopback_client() -> (workboard_sim::SimHandle, tokio::net::TcpSocket, u16) {
    let sim = Simulator::start(SimConfig::default()).await.unwrap();
    sim.set_auto_approve(true);
    let (reserved, port) = reserved_port();
    sim.add_client(ClientConfig::new(
        DEMO_CLIENT_ID,
        DEMO_CLIENT_HASH,
        &format!("http://127.0.0.1:{port}/callback"),
    ));
    (sim, reserved, port)
}

/// One GET on a fresh connection; the raw answer (bounded in time).
async fn raw_get(port: u16, target: &str) -> String {
    let exchange = async {
        let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        s.write_all(format!("GET {target} HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n").as_bytes())
            .await
            .unwrap();
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out).await;
        String::from_utf8_lossy(&out).into_owned()
    };
    tokio::time::timeout(Duration::from_secs(10), exchange)
        .await
        .unwrap_or_default()
}

/// What a hostile web page can make the browser send to the redirect URI: no state, a wrong
/// state, a "declined" with a wrong or no state, a stolen-looking code.
const FORGED: [&str; 6] = [
    "/callback",
    "/callback?code=stolen",
    "/callback?code=x&state=wrong",
    "/callback?error=access_denied&state=wrong",
    "/callback?error=access_denied",
    "/callback?code=a&code=b&state=s",
];

/// The "browser": first the forged requests (their answers go to `pages`), then it follows
/// the authorization URL, which the simulator redirects to the listener.
fn forging_browser(port: u16, pages: oneshot::Sender<Vec<String>>) -> Approver {
    let open = Box::new(move |url: &str| {
        let url = url.to_string();
        tokio::spawn(async move {
            let mut answers = Vec::new();
            for target in FORGED {
                answers.push(raw_get(port, target).await);
            }
            let _ = pages.send(answers);
            let browser = reqwest::Client::new();
            let _ = browser.get(url).send().await;
        });
    });
    Approver::Loopback {
        open,
        timeout: Duration::from_secs(60),
    }
}

fn assert_forged_pages(pages: &[String]) {
    assert_eq!(pages.len(), FORGED.len());
    for (page, target) in pages.iter().zip(FORGED) {
        assert!(page.starts_with("HTTP/1.1 400"), "{target}: {page}");
        assert!(page.contains("Not the sign-in"), "{target}: {page}");
    }
}

/// The demo v1 client at the simulator, redirected to the loopback listener on `port`.
fn loopback_v1_config(sim: &workboard_sim::SimHandle, port: u16) -> V1Config {
    V1Config::new(
        Environment::parse(sim.base_url()).unwrap(),
        DEMO_CLIENT_ID,
        format!("http://127.0.0.1:{port}/callback"),
    )
}

/// Issue 11 item 11: forged GETs to `/callback` do not end a v1 sign-in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_redirects_do_not_end_a_v1_loopback_sign_in() {
    let (sim, _reserved, port) = sim_with_loopback_client().await;
    let transport = ReqwestTransport::new().unwrap();
    let config = loopback_v1_config(&sim, port);
    let (tx, rx) = oneshot::channel();
    let creds = sign_in_v1(
        &transport,
        config,
        SecretString::new(DEMO_CLIENT_HASH),
        forging_browser(port, tx),
    )
    .await
    .unwrap();
    assert!(matches!(creds, Credentials::OAuth(_)));
    assert_forged_pages(&rx.await.unwrap());
    sim.shutdown().await;
}

/// Issue 11 item 11, OAuth 2.1 for MCP: the same forged GETs, then the genuine redirect.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_redirects_do_not_end_an_mcp_loopback_sign_in() {
    let (sim, _reserved, port) = sim_with_loopback_client().await;
    let transport = ReqwestTransport::new().unwrap();
    let env = Environment::parse(sim.base_url()).unwrap();
    let mut config = McpAuthConfig::workboard(&env, format!("http://127.0.0.1:{port}/callback"));
    config.client.client_id = Some(DEMO_CLIENT_ID.into());
    config.client.client_secret = Some(SecretString::new(DEMO_CLIENT_HASH));
    let (tx, rx) = oneshot::channel();
    let signed = sign_in_mcp(&transport, config, forging_browser(port, tx))
        .await
        .unwrap()
        .unwrap();
    assert!(signed.credentials.can_refresh());
    assert_forged_pages(&rx.await.unwrap());
    sim.shutdown().await;
}

/// A declined consent carrying the right state does end the sign-in (with its error), and the
/// browser is told so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_genuine_declined_redirect_ends_the_sign_in() {
    let (sim, _reserved, port) = sim_with_loopback_client().await;
    let transport = ReqwestTransport::new().unwrap();
    let config = loopback_v1_config(&sim, port);
    let (tx, rx) = oneshot::channel();
    let open = Box::new(move |url: &str| {
        let state = url::Url::parse(url)
            .unwrap()
            .query_pairs()
            .find(|(k, _)| k == "state")
            .map(|(_, v)| v.into_owned())
            .unwrap();
        tokio::spawn(async move {
            let page = raw_get(
                port,
                &format!("/callback?error=access_denied&state={state}"),
            )
            .await;
            let _ = tx.send(page);
        });
    });
    let e = sign_in_v1(
        &transport,
        config,
        SecretString::new(DEMO_CLIENT_HASH),
        Approver::Loopback {
            open,
            timeout: Duration::from_secs(60),
        },
    )
    .await
    .unwrap_err();
    assert_eq!(e.code(), "authorization_denied");
    assert!(rx.await.unwrap().contains("Sign-in not completed"));
    sim.shutdown().await;
}

/// Issue 11 item 12: a client trickling a request head one byte at a time does not hold the
/// listener: the genuine redirect, arriving after it connected, completes the sign-in while
/// the slow client is still sending, and the slow client is never answered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_client_does_not_hold_the_loopback_listener() {
    const MAX_DRIPS: usize = 300; // 30 s at most
    let (sim, _reserved, port) = sim_with_loopback_client().await;
    let transport = ReqwestTransport::new().unwrap();
    let config = loopback_v1_config(&sim, port);
    let drips = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let (slow_tx, slow_rx) = oneshot::channel();
    let (d, s) = (drips.clone(), stop.clone());
    let open = Box::new(move |url: &str| {
        let url = url.to_string();
        tokio::spawn(async move {
            // Connects first: the listener accepts it before the browser's connection.
            let mut slow = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
            slow.write_all(b"GET /callback?state=").await.unwrap();
            let slow_task = tokio::spawn(async move {
                for _ in 0..MAX_DRIPS {
                    if s.load(Ordering::SeqCst) {
                        break;
                    }
                    if slow.write_all(b"a").await.is_err() {
                        break;
                    }
                    d.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                // Whatever the listener answered this connection (nothing expected).
                let mut out = Vec::new();
                let _ =
                    tokio::time::timeout(Duration::from_secs(10), slow.read_to_end(&mut out)).await;
                out
            });
            let _ = slow_tx.send(slow_task);
            let browser = reqwest::Client::new();
            let _ = browser.get(url).send().await;
        });
    });
    let creds = sign_in_v1(
        &transport,
        config,
        SecretString::new(DEMO_CLIENT_HASH),
        Approver::Loopback {
            open,
            timeout: Duration::from_secs(60),
        },
    )
    .await
    .unwrap();
    assert!(matches!(creds, Credentials::OAuth(_)));
    // Ordering, not timing: the slow client had not run out of bytes to send when the sign-in
    // returned (its request head was never complete).
    let sent = drips.load(Ordering::SeqCst);
    stop.store(true, Ordering::SeqCst);
    assert!(sent < MAX_DRIPS, "{sent}");
    let answered = slow_rx.await.unwrap().await.unwrap();
    assert!(
        answered.is_empty(),
        "{}",
        String::from_utf8_lossy(&answered)
    );
    sim.shutdown().await;
}

/// A hostile authorization endpoint on 127.0.0.1: answers every request with a 302 to
/// `location`; counts the requests. Serves at most 20 connections, stops after 30 s.
async fn redirecting_server(location: String) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let count = Arc::new(AtomicUsize::new(0));
    let c = count.clone();
    tokio::spawn(tokio::time::timeout(Duration::from_secs(30), async move {
        for _ in 0..20 {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let mut buf = Vec::new();
            let mut chunk = [0u8; 1024];
            while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < 16 * 1024 {
                match sock.read(&mut chunk).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                }
            }
            c.fetch_add(1, Ordering::SeqCst);
            let resp = format!(
                "HTTP/1.1 302 Found\r\nlocation: {location}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
            );
            let _ = sock.write_all(resp.as_bytes()).await;
            let _ = sock.shutdown().await;
        }
    }));
    (base, count)
}

/// Issue 11 item 13: headless sign-in checks every redirect hop with the core's policy before
/// requesting it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headless_sign_in_refuses_redirects_into_the_local_network() {
    let transport = ReqwestTransport::new().unwrap();
    for (location, code) in [
        ("http://169.254.169.254/latest/meta-data/", "insecure_url"),
        (
            "https://169.254.169.254/latest/meta-data/",
            "private_address",
        ),
        ("https://[fe80::1]/", "private_address"),
        ("https://10.0.0.1/admin", "private_address"),
        ("https://192.168.1.1/", "private_address"),
        ("http://192.168.1.1/", "insecure_url"),
    ] {
        let (base, count) = redirecting_server(location.into()).await;
        let e = headless_v1_error(&transport, &base).await;
        assert_eq!(e.code(), code, "{location}: {e}");
        assert!(e.hint().is_some(), "{location}");
        // Only the authorization endpoint itself was asked.
        assert_eq!(count.load(Ordering::SeqCst), 1, "{location}");
    }
}

/// A headless v1 sign-in at `base` (the demo client), which must fail.
async fn headless_v1_error(transport: &ReqwestTransport, base: &str) -> workboard_core::Error {
    let config = V1Config::new(
        Environment::parse(base).unwrap(),
        DEMO_CLIENT_ID,
        "http://127.0.0.1:8765/callback",
    );
    sign_in_v1(
        transport,
        config,
        SecretString::new(DEMO_CLIENT_HASH),
        Approver::Headless,
    )
    .await
    .unwrap_err()
}

/// Issue 11 item 13: an endpoint that keeps redirecting is asked a bounded number of times.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headless_sign_in_follows_a_bounded_number_of_hops() {
    let transport = ReqwestTransport::new().unwrap();
    let (base, count) = redirecting_server("/wb/oauth/authorize?again=1".into()).await;
    let e = headless_v1_error(&transport, &base).await;
    assert_eq!(e.code(), "too_many_redirects");
    assert_eq!(
        count.load(Ordering::SeqCst),
        1 + workboard_core::urlpolicy::MAX_REDIRECT_HOPS
    );
}
