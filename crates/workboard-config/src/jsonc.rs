//! JSON with comments (JSONC), as VS Code reads `settings.json` and `mcp.json`: `//` and
//! `/* */` comments and trailing commas in objects and arrays, nothing else (no single-quoted
//! strings, unquoted keys or hexadecimal numbers: a file that has them fails in the clients
//! too).
//!
//! The reader is [`serde_json_lenient`], Google's maintained fork of `serde_json` (Chromium
//! and the Zed editor read their JSONC settings with it), with exactly those two extensions
//! switched on. Being `serde_json` underneath, it keeps what the hand-written comment stripper
//! it replaced relied on: errors say what was expected and where (1-based line and column),
//! never the text; nesting is limited to 128 levels (no stack overflow on `[[[[…`); and the
//! result is a `serde_json::Value`. Other candidates did not fit: `jsonc-parser` has a nesting
//! limit and reads escaped surrogate pairs (`"\ud83d\ude00"`) only from 0.30 on, which needs
//! Rust 1.88 (the workspace builds with 1.85); `json5` accepts far more than the clients do
//! (single quotes, unquoted keys, `Infinity`) and has no nesting limit; `serde_jsonrc` has not
//! been updated since 2020 (`serde_json_lenient` is its continuation); `json_comments` keeps no
//! line numbers across block comments and leaves trailing commas in.
//!
//! A file is first read as strict JSON, then (if that fails) as JSONC, so [`parse_detailed`]
//! also tells which one the file is: Claude Desktop and Cursor read strict JSON only.

use serde::Deserialize;
use serde_json::Value;

use workboard_core::Error;

/// Largest config file accepted: 1 MiB.
pub const MAX_CONFIG_BYTES: usize = 1024 * 1024;

/// Which dialect a file needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Syntax {
    /// Strict JSON (RFC 8259): every client reads it.
    Json,
    /// JSONC: the file has comments or trailing commas, which only VS Code accepts.
    Jsonc,
}

/// Parses JSON or JSONC into a value.
///
/// Errors: [`Error::ConfigSyntax`] with 1-based line and column (the message never quotes
/// the file), [`Error::Config`] when the file is larger than [`MAX_CONFIG_BYTES`].
pub fn parse(input: &str) -> Result<Value, Error> {
    Ok(parse_detailed(input)?.0)
}

/// Like [`parse`], and also tells whether the file needs JSONC. A leading byte order mark is
/// skipped.
pub fn parse_detailed(input: &str) -> Result<(Value, Syntax), Error> {
    if input.len() > MAX_CONFIG_BYTES {
        return Err(Error::Config {
            reason: format!("the file is larger than {MAX_CONFIG_BYTES} bytes"),
        });
    }
    let input = input.strip_prefix('\u{feff}').unwrap_or(input);
    if let Ok(v) = serde_json::from_str::<Value>(input) {
        return Ok((v, Syntax::Json));
    }
    let mut de = serde_json_lenient::Deserializer::from_str(input);
    de.set_allow_comments(true);
    de.set_ignore_trailing_commas(true);
    match Value::deserialize(&mut de).and_then(|v| de.end().map(|()| v)) {
        Ok(v) => Ok((v, Syntax::Jsonc)),
        Err(e) => {
            // serde_json's wording: "expected `,` or `}` at line 3 column 5"; the position
            // goes into the error's fields, the rest names what was expected, never the text.
            let msg = e.to_string();
            let reason = msg
                .split(" at line ")
                .next()
                .unwrap_or("syntax error")
                .to_string();
            Err(Error::ConfigSyntax {
                line: e.line(),
                column: e.column(),
                reason,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;

    #[test]
    fn comments_and_trailing_commas_but_not_inside_strings() {
        let text = "{\n // c\n \"a\": \"http://x//y /* z */\", /* b */\n \"b\": [1, 2,],\n}";
        let (v, syntax) = parse_detailed(text).unwrap();
        assert_eq!(syntax, Syntax::Jsonc);
        assert_eq!(v["a"], "http://x//y /* z */");
        assert_eq!(v["b"][1], 2);
        let (_, syntax) = parse_detailed("{\"a\": \"// not a comment\"}").unwrap();
        assert_eq!(syntax, Syntax::Json);
    }

    #[test]
    fn only_the_vscode_extensions() {
        for text in [
            "{'a': 1}",
            "{a: 1}",
            "{\"a\": 0x10}",
            "{\"a\": Infinity}",
            "# shell comment\n{}",
            "{\"a\": \"\\v\"}",
        ] {
            assert_eq!(
                parse(text).unwrap_err().code(),
                "invalid_config_json",
                "{text}"
            );
        }
    }

    #[test]
    fn syntax_error_has_position() {
        let err = parse("{\n  \"a\": 1\n  \"b\": 2\n}").unwrap_err();
        match err {
            Error::ConfigSyntax { line, column, .. } => assert_eq!((line, column), (3, 3)),
            other => panic!("{other:?}"),
        }
        // Positions count the lines of comments before the error.
        let err = parse("{\n /* one\n two */ \"a\": 1,\n // three\n \"b\" 2\n}").unwrap_err();
        match err {
            Error::ConfigSyntax { line, column, .. } => assert_eq!((line, column), (5, 6)),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn unterminated_block_comment() {
        assert_eq!(parse("{ /* x").unwrap_err().code(), "invalid_config_json");
    }

    #[test]
    fn escaped_surrogate_pairs_and_deep_nesting() {
        let (v, _) = parse_detailed("{\"a\": \"\\ud83d\\ude00\", // smile\n}").unwrap();
        assert_eq!(v["a"], "\u{1F600}");
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert_eq!(parse(&deep).unwrap_err().code(), "invalid_config_json");
        let deep = format!("// x\n{}", "{\"a\":".repeat(100_000));
        assert_eq!(parse(&deep).unwrap_err().code(), "invalid_config_json");
    }
}
