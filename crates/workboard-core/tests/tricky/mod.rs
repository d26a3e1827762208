//! Input generator shared by the property tests that feed public entry points hostile text
//! (`crates/workboard-core/tests/api_no_panic_props.rs` and
//! `crates/workboard-config/tests/api_no_panic_props.rs`, which includes this file by path).

use proptest::prelude::*;

/// Text made of pieces that steer parsers into their deeper paths.
pub fn tricky() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        prop::sample::select(vec![
            "Bearer ",
            "bearer",
            "https://",
            "http://",
            "127.0.0.1",
            "localhost",
            ":8080",
            "/",
            "/wb/mcp",
            "/wb",
            "?",
            "#",
            "&",
            "=",
            "%",
            "%zz",
            "%C3%A9",
            "@",
            "[::1]",
            "\"",
            "{",
            "}",
            "[",
            "]",
            ",",
            ":",
            "\\",
            "code=",
            "state=",
            "error=",
            "realm=",
            "scope=\"",
            "resource_metadata=",
            "us",
            "eu",
            "\u{e9}",
            "\u{FFFD}",
            "\u{1F600}",
            "\u{200B}",
            "\0",
            "\r\n",
            " ",
            "\t",
            "{\"kind\":\"oauth\"",
            "{\"kind\":\"personal\",\"token\":",
            "true",
            "null",
            "2025-11-25",
            "mcpServers",
            "Authorization",
            "Authorisation",
            "npx",
            "mcp-remote",
            "v18.",
            "1.2.3",
        ])
        .prop_map(str::to_string),
        any::<char>().prop_map(String::from),
        "[a-z0-9]{1,8}",
    ];
    prop::collection::vec(piece, 0..24).prop_map(|v| v.concat())
}
