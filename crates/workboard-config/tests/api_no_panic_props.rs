//! Property tests: every public entry point of this crate that takes text from a user, a
//! config file or a server returns (a value or a typed error) for any input and never panics,
//! and its errors are bounded and never echo the input. Inputs come from the generator the
//! core's own property tests use (`crates/workboard-core/tests/tricky`). The parsers have
//! fuzz targets too (`fuzz/`: `aiconfig`, `doctor`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;
use workboard_config::diagnose::{parse_node_version, probe_plan, Doctor, DoctorParams};
use workboard_config::lint::{detect, lint, lint_as};
use workboard_config::{jsonc, mask_secret, merge_into, AiClient, ConfigParams};
use workboard_core::{Error, SecretString};

#[path = "../../workboard-core/tests/tricky/mod.rs"]
mod tricky;
use tricky::tricky;

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn config_and_doctor_inputs(s in tricky()) {
        let _ = AiClient::parse(&s);
        let _ = mask_secret(&s);
        let _ = lint(&s);
        let _ = detect(&s);
        let _ = jsonc::parse(&s);
        let _ = parse_node_version(&s);
        let _ = probe_plan(&s, None);
        let _ = probe_plan(&s, Some(&SecretString::new(s.as_str())));
        let _ = Doctor::new(DoctorParams::for_url(&s));
    }

    #[test]
    fn config_files_with_comments_and_trailing_commas(s in tricky(), t in tricky()) {
        // JSONC pieces around arbitrary text: comments, trailing commas, unterminated ones.
        let text = format!("{{ // {s}\n \"mcpServers\": {{ /* {t} */ \"a\": [{s:?},], }}, }}");
        let _ = jsonc::parse_detailed(&text);
        let _ = lint_as(&text, Some(AiClient::VsCode));
        let params = ConfigParams::for_url("https://www.myworkboard.com/wb/mcp");
        if let Ok(merged) = merge_into(&text, AiClient::Cursor, &params) {
            prop_assert!(jsonc::parse(&merged).is_ok());
        }
        let _ = lint(&format!("{s}/*{t}"));
        let _ = lint(&format!("[{s},]{t}"));
    }
}

/// Every public entry point that parses input, given a 2 MB string or a token-like secret
/// in any shape (bare, a JSON string, inside a JSONC file): the error's message is at most
/// 512 bytes and its hint at most 1024, Display and Debug are as short, and none shows the
/// secret or more than a short excerpt of the input (a server URL is shown cut short).
#[test]
fn every_public_entry_point_bounds_its_error_messages() {
    const SECRET: &str = "tok_live_S3CR3T0123456789abcdefXYZ";
    let huge = "x".repeat(2_000_000);
    let big = "x".repeat(300_000);
    let mut inputs: Vec<String> = Vec::new();
    for v in [huge.clone(), SECRET.to_string(), format!("{SECRET}{huge}")] {
        inputs.push(v.clone());
        inputs.push(serde_json::to_string(&v).unwrap());
    }
    for v in [big.clone(), SECRET.to_string(), format!("{SECRET}{big}")] {
        inputs.push(format!("{{\"a\": \"Bearer {v}\" x}}"));
        inputs.push(format!("{{\n // {v}\n \"a\": [\"{v}\",], /* {v}"));
        inputs.push(format!("{{\"mcpServers\": {{\"{v}\": 1 \"b\": 2}}}}"));
        inputs.push(format!("{{\"a\": \"{v}\\q\"}}"));
    }
    let url_inputs: Vec<String> = vec![
        format!("https://{huge}"),
        format!("https://example.com/{huge}"),
        format!("{huge}://example.com"),
        format!("ftp://example.com/{huge}"),
    ];

    fn check(label: &str, input: &str, e: &Error, secret_free: bool) {
        let info = e.info();
        assert!(
            info.message.len() <= 512,
            "{label}: message of {} bytes",
            info.message.len()
        );
        assert!(
            info.hint.as_deref().unwrap_or("").len() <= 1024,
            "{label}: hint too long"
        );
        for s in [
            info.message.clone(),
            info.hint.clone().unwrap_or_default(),
            e.to_string(),
            format!("{e:?}"),
        ] {
            assert!(s.len() <= 1024, "{label}: {} bytes", s.len());
            assert!(!s.contains(&"x".repeat(300)), "{label}: echoes the input");
            if input.len() > 400 {
                assert!(!s.contains(input), "{label}: echoes the input");
            }
            if secret_free {
                assert!(!s.contains(SECRET), "{label}: shows the secret: {s}");
            }
        }
    }
    let mut checked = 0;
    let mut ck = |label: &str, input: &str, r: Result<(), Error>, secret_free: bool| {
        if let Err(e) = r {
            check(label, input, &e, secret_free);
            checked += 1;
        }
    };
    let params = ConfigParams::for_url("https://www.myworkboard.com/wb/mcp");
    for s in inputs.iter().chain(&url_inputs) {
        let sf = !url_inputs.contains(s);
        ck("AiClient::parse", s, AiClient::parse(s).map(drop), true);
        ck("jsonc::parse", s, jsonc::parse(s).map(drop), true);
        ck("lint", s, lint(s).map(drop), true);
        ck("detect", s, detect(s).map(drop), true);
        ck(
            "merge_into",
            s,
            merge_into(s, AiClient::VsCode, &params).map(drop),
            true,
        );
        ck(
            "Doctor::new",
            s,
            Doctor::new(DoctorParams::for_url(s)).map(drop),
            sf,
        );
        ck("probe_plan", s, probe_plan(s, None).map(drop), sf);
    }
    assert!(checked > 60, "only {checked} errors checked");
}
