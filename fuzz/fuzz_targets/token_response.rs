//! Token responses (`oauth/token.rs`): v1 and OAuth 2 dialects, any status.
#![no_main]

use libfuzzer_sys::fuzz_target;
use workboard_core::fuzzing::parse_token_body;
use workboard_core::{Dialect, SecretString};

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let status = [200u16, 201, 400, 401, 403, 500, 302, 204][usize::from(data[0] & 7)];
    let body = &data[2..];
    let prev = SecretString::new("previous-refresh-token");
    for dialect in [Dialect::WorkboardV1, Dialect::OAuth2] {
        let previous = if data[1] & 1 == 1 { Some(&prev) } else { None };
        match parse_token_body(status, body, dialect, 1_700_000_000_000, previous) {
            Ok(ts) => {
                let _ = format!("{ts:?}");
            }
            Err(e) => {
                let _ = (e.code(), e.hint(), e.to_string());
            }
        }
    }
});
