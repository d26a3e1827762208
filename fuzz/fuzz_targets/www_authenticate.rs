//! `WWW-Authenticate` (`oauth/www_authenticate.rs`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use workboard_core::fuzzing::{bearer_from_response, parse_bearer, parse_challenges, MAX_PARAMS};
use workboard_core::HttpResponse;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    for c in parse_challenges(s) {
        assert!(c.params.len() <= MAX_PARAMS);
        let _ = c.param("realm");
    }
    let _ = parse_bearer(s);
    let resp = HttpResponse::new(
        401,
        vec![("WWW-Authenticate".into(), s.into()), ("www-authenticate".into(), s.into())],
        Vec::new(),
    );
    let _ = bearer_from_response(&resp).map(|b| b.is_insufficient_scope());
});
