//! JSON with comments (JSONC, as VS Code reads `mcp.json`): `//` and `/* */` comments and
//! trailing commas are blanked out (same length, newlines kept, so line and column numbers
//! of errors stay right), then the text is parsed as JSON.

use serde_json::Value;

use workboard_core::Error;

/// Largest config file accepted: 1 MiB.
pub const MAX_CONFIG_BYTES: usize = 1024 * 1024;

/// What [`strip`] removed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stripped {
    /// The text with comments and trailing commas replaced by spaces.
    pub text: String,
    /// Whether a comment was found.
    pub had_comments: bool,
    /// Whether a trailing comma was found.
    pub had_trailing_commas: bool,
    /// Whether a block comment was left open at the end of the text.
    pub unterminated_comment: bool,
}

/// Blanks out comments and trailing commas. Strings (with escapes) are left untouched.
pub fn strip(input: &str) -> Stripped {
    let mut out: Vec<char> = Vec::with_capacity(input.len());
    let chars: Vec<char> = input.chars().collect();
    let mut s = Stripped::default();
    let mut i = 0;
    // Index in `out` of the last comma outside strings with only whitespace/comments after it.
    let mut pending_comma: Option<usize> = None;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '"' => {
                pending_comma = None;
                out.push(c);
                i += 1;
                while i < chars.len() {
                    let d = chars[i];
                    out.push(d);
                    i += 1;
                    if d == '\\' {
                        if i < chars.len() {
                            out.push(chars[i]);
                            i += 1;
                        }
                    } else if d == '"' || d == '\n' {
                        break;
                    }
                }
            }
            '/' if chars.get(i + 1) == Some(&'/') => {
                s.had_comments = true;
                while i < chars.len() && chars[i] != '\n' {
                    out.push(' ');
                    i += 1;
                }
            }
            '/' if chars.get(i + 1) == Some(&'*') => {
                s.had_comments = true;
                out.push(' ');
                out.push(' ');
                i += 2;
                let mut closed = false;
                while i < chars.len() {
                    if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                        out.push(' ');
                        out.push(' ');
                        i += 2;
                        closed = true;
                        break;
                    }
                    out.push(if chars[i] == '\n' { '\n' } else { ' ' });
                    i += 1;
                }
                if !closed {
                    s.unterminated_comment = true;
                }
            }
            ',' => {
                pending_comma = Some(out.len());
                out.push(c);
                i += 1;
            }
            '}' | ']' => {
                if let Some(p) = pending_comma.take() {
                    out[p] = ' ';
                    s.had_trailing_commas = true;
                }
                out.push(c);
                i += 1;
            }
            c if c.is_whitespace() => {
                out.push(c);
                i += 1;
            }
            _ => {
                pending_comma = None;
                out.push(c);
                i += 1;
            }
        }
    }
    s.text = out.into_iter().collect();
    s
}

/// Parses JSON or JSONC into a value.
///
/// Errors: [`Error::ConfigSyntax`] with 1-based line and column (the message never quotes
/// the file), [`Error::Config`] when the file is larger than [`MAX_CONFIG_BYTES`].
pub fn parse(input: &str) -> Result<Value, Error> {
    Ok(parse_detailed(input)?.0)
}

/// Like [`parse`], and also returns what was stripped.
pub fn parse_detailed(input: &str) -> Result<(Value, Stripped), Error> {
    if input.len() > MAX_CONFIG_BYTES {
        return Err(Error::Config {
            reason: format!("the file is larger than {MAX_CONFIG_BYTES} bytes"),
        });
    }
    let input = input.strip_prefix('\u{feff}').unwrap_or(input);
    let stripped = strip(input);
    if stripped.unterminated_comment {
        let (line, column) = end_position(input);
        return Err(Error::ConfigSyntax {
            line,
            column,
            reason: "unterminated /* comment".into(),
        });
    }
    match serde_json::from_str::<Value>(&stripped.text) {
        Ok(v) => Ok((v, stripped)),
        Err(e) => {
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

fn end_position(input: &str) -> (usize, usize) {
    let line = input.matches('\n').count() + 1;
    let column = input
        .rsplit('\n')
        .next()
        .map(|l| l.chars().count())
        .unwrap_or(0)
        + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;

    #[test]
    fn strips_comments_and_trailing_commas_but_not_strings() {
        let text = "{\n // c\n \"a\": \"http://x//y /* z */\", /* b */\n \"b\": [1, 2,],\n}";
        let s = strip(text);
        assert!(s.had_comments && s.had_trailing_commas);
        assert_eq!(s.text.len(), text.len());
        let v: Value = serde_json::from_str(&s.text).unwrap();
        assert_eq!(v["a"], "http://x//y /* z */");
        assert_eq!(v["b"][1], 2);
    }

    #[test]
    fn syntax_error_has_position() {
        let err = parse("{\n  \"a\": 1\n  \"b\": 2\n}").unwrap_err();
        match err {
            Error::ConfigSyntax { line, column, .. } => assert_eq!((line, column), (3, 3)),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn unterminated_block_comment() {
        assert_eq!(parse("{ /* x").unwrap_err().code(), "invalid_config_json");
    }
}
