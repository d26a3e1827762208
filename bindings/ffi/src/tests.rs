//! Rust-side tests of the conversions and the client with an in-process "foreign" transport.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::{Arc, Mutex};

use crate::host::parse_seed;
use crate::*;

struct Recorded {
    sent: Mutex<Vec<HttpRequest>>,
    reply: HttpResponse,
}

#[async_trait::async_trait]
impl Transport for Recorded {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, HostError> {
        self.sent.lock().unwrap().push(request);
        Ok(self.reply.clone())
    }
}

struct Refusing;

#[async_trait::async_trait]
impl Transport for Refusing {
    async fn send(&self, _request: HttpRequest) -> Result<HttpResponse, HostError> {
        Err(HostError::Connect {
            reason: "refused".into(),
        })
    }
}

fn code<T>(r: Result<T, WorkboardError>) -> String {
    match r {
        Ok(_) => panic!("expected an error"),
        Err(e) => e.code().to_string(),
    }
}

#[test]
fn seed_parsing_rejects_garbage() {
    assert_eq!(parse_seed(&"0a".repeat(32)).unwrap(), [10u8; 32]);
    assert_eq!(code(parse_seed("abc")), "invalid_input");
    assert_eq!(code(parse_seed(&"zz".repeat(32))), "invalid_input");
    assert_eq!(code(parse_seed(&"é".repeat(32))), "invalid_input");
}

#[test]
fn host_errors_map_to_transport_errors() {
    use workboard_core::TransportError as T;
    assert_eq!(T::from(HostError::Timeout), T::Timeout);
    assert_eq!(
        T::from(HostError::Connect { reason: "x".into() }),
        T::Connect("x".into())
    );
    let e: HostError = uniffi::UnexpectedUniFFICallbackError {
        reason: "boom".into(),
    }
    .into();
    assert!(matches!(e, HostError::Other { reason } if reason.contains("boom")));
}

#[test]
fn v1_exchange_and_revoke_through_a_foreign_transport() {
    let clock = ManualClock::new(1_764_000_000_000);
    let body =
        br#"{"success":true,"access_token":"the-token","scope":"all","token_type":"bearer"}"#
            .to_vec();
    let t = Arc::new(Recorded {
        sent: Mutex::new(vec![]),
        reply: HttpResponse {
            status: 200,
            headers: vec![HttpHeader {
                name: "Content-Type".into(),
                value: "application/json".into(),
            }],
            body,
        },
    });
    let app = WorkboardClient::new(
        ClientOptions {
            entropy_seed_hex: Some("07".repeat(32)),
            allow_client_secret: true,
            ..Default::default()
        },
        Some(t.clone()),
        None,
        Some(clock.clone()),
    )
    .unwrap();
    let start = app
        .start_v1_sign_in(V1SignInOptions {
            client_id: "cid".into(),
            redirect_uri: "https://app.example/cb".into(),
            scopes: vec![],
            json_code: false,
            environment: None,
        })
        .unwrap();
    let state = url::Url::parse(&start.url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .into_owned();
    let code_v = app
        .handle_v1_redirect(
            None,
            format!("https://app.example/cb?code=c1&state={state}"),
        )
        .unwrap();
    let summary =
        futures_executor::block_on(app.clone().exchange_v1_code(code_v.clone(), "hash".into()))
            .unwrap();
    assert_eq!(summary.kind, "oauth");
    assert_eq!(summary.scope.as_deref(), Some("all"));
    {
        let sent = t.sent.lock().unwrap();
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].method, "POST");
        assert_eq!(sent[0].url, "https://www.myworkboard.com/wb/oauth/token");
        let body = String::from_utf8(sent[0].body.clone()).unwrap();
        assert_eq!(
            body,
            "client_id=cid&client_hash=hash&code=c1&redirect_uri=https%3A%2F%2Fapp.example%2Fcb"
        );
    }
    // The Client Hash is never sent to a token endpoint the code names from elsewhere.
    let mut forged = code_v.clone();
    forged.token_endpoint = "https://attacker.example/token".into();
    assert_eq!(
        code(futures_executor::block_on(
            app.clone().exchange_v1_code(forged, "hash".into())
        )),
        "invalid_input"
    );
    assert_eq!(t.sent.lock().unwrap().len(), 1);
    // Five minutes later the code is refused without a request.
    clock.advance_ms(300_000);
    assert_eq!(
        code(futures_executor::block_on(
            app.clone().exchange_v1_code(code_v, "hash".into())
        )),
        "authorization_expired"
    );
    assert_eq!(t.sent.lock().unwrap().len(), 1);
    assert_eq!(
        futures_executor::block_on(app.clone().revoke_v1_credentials()).unwrap(),
        "revoked"
    );
    assert!(app.credentials_json().is_none());
}

#[test]
fn a_failing_foreign_transport_is_a_typed_error() {
    let c = WorkboardClient::new(
        ClientOptions {
            token: Some("tok".into()),
            ..Default::default()
        },
        Some(Arc::new(Refusing)),
        None,
        None,
    )
    .unwrap();
    assert_eq!(
        code(futures_executor::block_on(c.clone().list_tools())),
        "transport"
    );
    assert_eq!(
        code(futures_executor::block_on(
            c.clone().call_tool("t".into(), "[]".into())
        )),
        "invalid_input"
    );
    // Closing a connection that never opened a session sends nothing.
    futures_executor::block_on(c.clone().close()).unwrap();
}

#[test]
fn errors_never_carry_secrets() {
    let c = WorkboardClient::new(
        ClientOptions {
            token: Some("SECRETTOKEN".into()),
            ..Default::default()
        },
        Some(Arc::new(Refusing)),
        None,
        None,
    )
    .unwrap();
    let e = futures_executor::block_on(c.clone().list_tools()).unwrap_err();
    assert!(!format!("{e:?} {e}").contains("SECRETTOKEN"));
    assert!(!format!("{:?}", c.credentials_summary()).contains("SECRETTOKEN"));
    let r = redact_url("https://h/cb?code=SECRETCODE&state=SECRETSTATE".into());
    assert!(!r.contains("SECRET"));
}
