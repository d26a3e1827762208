//! Other response and state parsers: REST envelopes (`rest.rs`), the v1 code exchange and
//! revocation (`oauth/v1.rs`), dynamic client registration (`oauth/registration.rs`),
//! saved credentials (`credentials.rs`) and environment strings (`env.rs`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use workboard_core::fuzzing::parse_registration_response;
use workboard_core::oauth::v1;
use workboard_core::{rest, Credentials, Environment, HttpResponse};

fuzz_target!(|data: &[u8]| {
    if data.is_empty() {
        return;
    }
    let status = [200u16, 201, 400, 401, 403, 404, 500, 302][usize::from(data[0] & 7)];
    let ct = ["application/json", "text/html", "", "application/json; charset=utf-8"][usize::from((data[0] >> 3) & 3)];
    let body = &data[1..];
    let resp = HttpResponse::new(status, vec![("Content-Type".into(), ct.into())], body.to_vec());
    let _ = rest::parse_response("https://www.myworkboard.com/wb/apis/user", &Environment::Us, &resp);
    let code = workboard_core::SecretString::new("CODE-0000");
    let sent = v1::exchange_request_from_parts(&Environment::Us, "cid", &code, &code, "https://app.example/cb", workboard_core::RequestId(1));
    let _ = v1::handle_exchange_response(&sent, &resp, 1_700_000_000_000);
    let _ = v1::handle_revoke_response(&sent, &resp);
    let _ = parse_registration_response(&resp);
    if let Ok(s) = std::str::from_utf8(body) {
        if let Ok(c) = Credentials::from_json(s) {
            let _ = (format!("{c:?}"), c.to_json(), c.is_expired(0), c.should_refresh(0));
        }
        if let Ok(env) = Environment::parse(s) {
            let _ = (env.mcp_url(), env.label());
        }
    }
});
