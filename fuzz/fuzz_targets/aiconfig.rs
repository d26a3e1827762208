//! AI-client config files (`workboard-config`): JSONC parsing, lint, format detection and merge.
//! A merged file must lint without a syntax error, and keep the WorkBoard entry.
#![no_main]

use libfuzzer_sys::fuzz_target;
use workboard_config::lint::{detect, lint, lint_as};
use workboard_config::{jsonc, merge_into, AiClient, ConfigParams};
use workboard_core::SecretString;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = jsonc::parse_detailed(text);
    let _ = lint(text);
    let _ = detect(text);
    let _ = lint_as(text, Some(AiClient::Generic));
    let params = ConfigParams::for_url("https://www.myworkboard.com/wb/mcp")
        .with_token(SecretString::new("fuzz0token0value0with0tail1234"));
    for client in AiClient::ALL {
        if let Ok(out) = merge_into(text, client, &params) {
            let findings = lint(&out).expect("a merged file always parses");
            assert!(!serde_json::to_string(&findings).unwrap_or_default().contains("fuzz0token0value0with0tail1234"));
        }
    }
});
