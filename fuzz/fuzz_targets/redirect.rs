//! Redirect handling (`oauth/pending.rs`): the pure parser, a pending authorization with a
//! known `state` (so the fuzzer can get past the state check), and the saved-state parser.
#![no_main]

use libfuzzer_sys::fuzz_target;
use workboard_core::fuzzing::parse_authorization_response;
use workboard_core::oauth::pending::PendingAuthorization;

const STATE: &str = "fuzzSTATEfuzzSTATEfuzzSTATE0123456789abcdef";
const REDIRECT: &str = "http://127.0.0.1:8765/callback";

fn pending(dialect: &str, issuer: bool) -> Option<PendingAuthorization> {
    let iss = if issuer { r#","expected_issuer":"https://as.example.com""# } else { "" };
    let json = format!(
        r#"{{"dialect":"{dialect}","state":"{STATE}","created_at_ms":1000,"expires_at_ms":400000,"redirect_uri":"{REDIRECT}","client_id":"cid","token_endpoint":"https://as.example.com/token","scopes":["all"],"pkce_verifier":"verifierverifierverifierverifierverifier12"{iss}}}"#
    );
    PendingAuthorization::from_json(&json).ok()
}

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    let _ = parse_authorization_response(input, REDIRECT);
    let _ = PendingAuthorization::from_json(input);
    for (dialect, issuer) in [("workboard_v1", false), ("o_auth2", true), ("oauth2", true)] {
        if let Some(mut p) = pending(dialect, issuer) {
            match p.handle_redirect(input, 2000) {
                Ok(code) => {
                    // Debug never shows the code or the state.
                    let dbg = format!("{code:?}");
                    assert!(!dbg.contains(STATE));
                }
                Err(e) => {
                    let _ = (e.code(), e.hint());
                }
            }
            // Single use: a second redirect after success is refused.
            if p.completed {
                assert!(p.handle_redirect(input, 2000).is_err());
            }
        }
    }
});
