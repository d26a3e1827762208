//! The sans-IO doctor (`workboard-config`, `diagnose.rs`) answered by an arbitrary server: it must finish in a
//! bounded number of requests and never put the token in a diagnosis or observation.
#![no_main]

use libfuzzer_sys::fuzz_target;
use workboard_config::diagnose::{Doctor, DoctorParams};
use workboard_core::{Environment, HttpResponse, SansIo, SecretString, TransportError};

const TOKEN: &str = "fuzzdoctortoken0123456789";

fuzz_target!(|data: &[u8]| {
    let params = DoctorParams {
        token: Some(SecretString::new(TOKEN)),
        node_version: Some(String::from_utf8_lossy(data.get(..8).unwrap_or(b"")).into_owned()),
        ..DoctorParams::for_environment(&Environment::Us)
    };
    let Ok(mut doc) = Doctor::new(params) else {
        return;
    };
    // Responses: [status selector, content-type selector, len, body...] repeated.
    let mut rest = data;
    let mut sent = 0;
    while let Some(req) = doc.poll_request() {
        sent += 1;
        assert!(sent <= 16, "the doctor keeps sending requests");
        let response = if rest.len() < 3 {
            Err(TransportError::Timeout)
        } else {
            let status = [200u16, 401, 403, 404, 500, 202, 400, 302][usize::from(rest[0] & 7)];
            let ct = ["application/json", "text/event-stream", "text/html", ""][usize::from(rest[1] & 3)];
            let len = usize::from(rest[2]).min(rest.len() - 3);
            let body = rest[3..3 + len].to_vec();
            let mut headers = vec![("Content-Type".to_string(), ct.to_string())];
            if rest[1] & 4 != 0 {
                headers.push(("WWW-Authenticate".into(), String::from_utf8_lossy(&body).into_owned()));
            }
            if rest[1] & 8 != 0 {
                headers.push(("Mcp-Session-Id".into(), "s1".into()));
            }
            rest = &rest[3 + len..];
            Ok(HttpResponse::new(status, headers, body))
        };
        doc.handle_response(req.id, response, 0);
    }
    assert!(doc.is_done());
    let d = doc.diagnoses();
    if data.windows(TOKEN.len()).any(|w| w == TOKEN.as_bytes()) {
        return; // the "server" echoed the token itself
    }
    let all = format!("{d:?}{:?}", doc.observation());
    assert!(!all.contains(TOKEN));
});
