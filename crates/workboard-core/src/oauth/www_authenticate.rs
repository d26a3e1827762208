//! A robust `WWW-Authenticate` parser (RFC 9110 §11.6.1, RFC 6750 §3, RFC 9728 §5.1).
//!
//! Handles several challenges in one header line and over several lines, quoted strings with
//! backslash escapes and commas, `token68`, case-insensitive schemes and parameter names,
//! and garbage (skipped up to the next comma). Work is linear in the input, which is cut at
//! [`MAX_HEADER_LEN`] bytes; challenges and parameters are capped. It never panics.

use crate::http::HttpResponse;

/// Input beyond this many bytes (per header value) is ignored.
pub const MAX_HEADER_LEN: usize = 16 * 1024;
/// At most this many challenges are kept.
pub const MAX_CHALLENGES: usize = 32;
/// At most this many parameters are kept per challenge.
pub const MAX_PARAMS: usize = 64;

/// One challenge: a scheme with either a `token68` or parameters.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Challenge {
    /// Auth scheme as written (compare case-insensitively; see [`Challenge::is`]).
    pub scheme: String,
    /// The `token68` form, if used.
    pub token68: Option<String>,
    /// Parameters: names lower-cased, values unquoted and unescaped, in order.
    pub params: Vec<(String, String)>,
}

impl Challenge {
    /// Whether the scheme is `scheme` (case-insensitive).
    pub fn is(&self, scheme: &str) -> bool {
        self.scheme.eq_ignore_ascii_case(scheme)
    }

    /// First value of parameter `name` (case-insensitive).
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// The parameters of a `Bearer` challenge that OAuth for MCP uses.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct BearerChallenge {
    /// RFC 9728 `resource_metadata`: URL of the protected resource metadata.
    pub resource_metadata: Option<String>,
    /// RFC 6750 `scope`: space-separated scopes needed.
    pub scope: Option<String>,
    /// RFC 6750 `error` (`invalid_token`, `insufficient_scope`, ...).
    pub error: Option<String>,
    /// RFC 6750 `error_description`.
    pub error_description: Option<String>,
    /// `realm`.
    pub realm: Option<String>,
}

impl BearerChallenge {
    /// Whether `error` is `insufficient_scope` (a step-up is possible).
    pub fn is_insufficient_scope(&self) -> bool {
        self.error.as_deref() == Some("insufficient_scope")
    }

    /// Extracts the Bearer parameters from a parsed challenge.
    pub fn from_challenge(c: &Challenge) -> BearerChallenge {
        let get = |n: &str| c.param(n).map(str::to_string);
        BearerChallenge {
            resource_metadata: get("resource_metadata"),
            scope: get("scope"),
            error: get("error"),
            error_description: get("error_description"),
            realm: get("realm"),
        }
    }
}

/// Parses one header value into its challenges.
pub fn parse_challenges(value: &str) -> Vec<Challenge> {
    let mut p = Parser {
        s: cut(value).as_bytes(),
        pos: 0,
    };
    p.challenges()
}

/// The first `Bearer` challenge in a header value.
pub fn parse_bearer(value: &str) -> Option<BearerChallenge> {
    parse_challenges(value)
        .iter()
        .find(|c| c.is("bearer"))
        .map(BearerChallenge::from_challenge)
}

/// The first `Bearer` challenge over all `WWW-Authenticate` headers of a response.
pub fn bearer_from_response(resp: &HttpResponse) -> Option<BearerChallenge> {
    resp.headers_named("www-authenticate")
        .take(MAX_CHALLENGES)
        .find_map(parse_bearer)
}

fn cut(value: &str) -> &str {
    if value.len() <= MAX_HEADER_LEN {
        return value;
    }
    let mut end = MAX_HEADER_LEN;
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    &value[..end]
}

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn is_token68_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~+/".contains(&b)
}

struct Parser<'a> {
    s: &'a [u8],
    pos: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn at_end(&self) -> bool {
        self.pos >= self.s.len()
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
    }

    fn skip_ws_and_commas(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b',')) {
            self.pos += 1;
        }
    }

    fn token(&mut self) -> &str {
        let start = self.pos;
        while self.peek().is_some_and(is_tchar) {
            self.pos += 1;
        }
        std::str::from_utf8(&self.s[start..self.pos]).unwrap_or("")
    }

    /// Skips to the next comma outside a quoted string (garbage recovery).
    fn skip_garbage(&mut self) {
        while let Some(b) = self.peek() {
            match b {
                b',' => return,
                b'"' => {
                    let _ = self.quoted();
                }
                _ => self.pos += 1,
            }
        }
    }

    /// Parses a quoted string starting at `"`; an unterminated one runs to the end.
    fn quoted(&mut self) -> String {
        self.pos += 1; // opening quote
        let mut out = Vec::new();
        while let Some(b) = self.peek() {
            self.pos += 1;
            match b {
                b'"' => break,
                b'\\' => {
                    if let Some(n) = self.peek() {
                        out.push(n);
                        self.pos += 1;
                    }
                }
                _ => out.push(b),
            }
        }
        String::from_utf8_lossy(&out).into_owned()
    }

    /// At `token BWS "="` (not followed by another `=`)? Does not move.
    fn looks_like_param(&self) -> bool {
        let mut i = self.pos;
        let start = i;
        while self.s.get(i).copied().is_some_and(is_tchar) {
            i += 1;
        }
        if i == start {
            return false;
        }
        while matches!(self.s.get(i), Some(b' ' | b'\t')) {
            i += 1;
        }
        self.s.get(i) == Some(&b'=') && self.s.get(i + 1) != Some(&b'=')
    }

    /// A token68 ending at a comma or the end? Returns it and moves past it.
    fn try_token68(&mut self) -> Option<String> {
        let start = self.pos;
        let mut i = start;
        while self.s.get(i).copied().is_some_and(is_token68_char) {
            i += 1;
        }
        if i == start {
            return None;
        }
        while self.s.get(i) == Some(&b'=') {
            i += 1;
        }
        let end = i;
        while matches!(self.s.get(i), Some(b' ' | b'\t')) {
            i += 1;
        }
        if i < self.s.len() && self.s[i] != b',' {
            return None;
        }
        self.pos = end;
        Some(String::from_utf8_lossy(&self.s[start..end]).into_owned())
    }

    /// `name BWS = BWS (token / quoted-string)`; `None` when not a parameter.
    fn param(&mut self) -> Option<(String, String)> {
        if !self.looks_like_param() {
            return None;
        }
        let name = self.token().to_ascii_lowercase();
        self.skip_ws();
        self.pos += 1; // '='
        self.skip_ws();
        let value = match self.peek() {
            Some(b'"') => self.quoted(),
            _ => self.token().to_string(),
        };
        Some((name, value))
    }

    fn challenges(&mut self) -> Vec<Challenge> {
        let mut out: Vec<Challenge> = Vec::new();
        loop {
            self.skip_ws_and_commas();
            if self.at_end() || out.len() >= MAX_CHALLENGES {
                return out;
            }
            // A parameter after a comma belongs to the current challenge.
            if !out.is_empty() && self.looks_like_param() {
                if let Some(kv) = self.param() {
                    if let Some(cur) = out.last_mut() {
                        if cur.token68.is_none() && cur.params.len() < MAX_PARAMS {
                            cur.params.push(kv);
                        }
                    }
                }
                self.after_item();
                continue;
            }
            let scheme = self.token().to_string();
            if scheme.is_empty() {
                self.pos += 1;
                self.skip_garbage();
                continue;
            }
            let mut ch = Challenge {
                scheme,
                ..Challenge::default()
            };
            if matches!(self.peek(), Some(b' ' | b'\t')) {
                self.skip_ws();
                if let Some(t) = self.try_token68() {
                    ch.token68 = Some(t);
                } else if let Some(kv) = self.param() {
                    ch.params.push(kv);
                }
            }
            out.push(ch);
            self.after_item();
        }
    }

    /// After an item: whitespace then a comma or the end; anything else is garbage.
    fn after_item(&mut self) {
        self.skip_ws();
        if !self.at_end() && self.peek() != Some(b',') {
            self.skip_garbage();
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn bearer_with_resource_metadata_and_scope() {
        let b = parse_bearer(
            r#"Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource", scope="files:read files:write""#,
        )
        .unwrap();
        assert_eq!(
            b.resource_metadata.as_deref(),
            Some("https://mcp.example.com/.well-known/oauth-protected-resource")
        );
        assert_eq!(b.scope.as_deref(), Some("files:read files:write"));
        assert_eq!(b.error, None);
    }

    #[test]
    fn multiple_challenges_token68_and_case() {
        let cs = parse_challenges(
            r#"Basic abc123==, NewAuth realm="a, b", title="say \"hi\"", bEaReR error="insufficient_scope", scope=all,error_description="needs \\ more""#,
        );
        assert_eq!(cs.len(), 3, "{cs:?}");
        assert_eq!(cs[0].token68.as_deref(), Some("abc123=="));
        assert_eq!(cs[1].param("realm"), Some("a, b"));
        assert_eq!(cs[1].param("TITLE"), Some("say \"hi\""));
        let b = BearerChallenge::from_challenge(&cs[2]);
        assert!(b.is_insufficient_scope());
        assert_eq!(b.scope.as_deref(), Some("all"));
        assert_eq!(b.error_description.as_deref(), Some("needs \\ more"));
    }

    #[test]
    fn garbage_is_skipped() {
        assert!(parse_challenges("").is_empty());
        assert!(parse_challenges(",,, ,").is_empty());
        assert!(parse_bearer("Basic realm=x").is_none());
        let b = parse_bearer(r#"@@@ !!, Bearer realm="x" junk junk, scope="s", "unterminated"#)
            .unwrap();
        assert_eq!(b.realm.as_deref(), Some("x"));
        assert_eq!(b.scope.as_deref(), Some("s"));
        let b = parse_bearer(r#"Bearer error="invalid_token"#).unwrap();
        assert_eq!(b.error.as_deref(), Some("invalid_token"));
        let b = parse_bearer("Bearer").unwrap();
        assert_eq!(b, BearerChallenge::default());
        let b = parse_bearer("Bearer scope=\"\" , error=x").unwrap();
        assert_eq!(b.scope.as_deref(), Some(""));
        assert_eq!(b.error.as_deref(), Some("x"));
        // `name=` then a comma is a token68 by the grammar.
        assert_eq!(
            parse_challenges("Bearer abc=, Basic x")[0]
                .token68
                .as_deref(),
            Some("abc=")
        );
    }

    #[test]
    fn over_several_header_lines() {
        let r = HttpResponse::new(
            401,
            vec![
                ("WWW-Authenticate".into(), "Basic realm=\"x\"".into()),
                (
                    "www-authenticate".into(),
                    "Bearer resource_metadata=\"https://h/m\"".into(),
                ),
            ],
            "",
        );
        assert_eq!(
            bearer_from_response(&r)
                .unwrap()
                .resource_metadata
                .as_deref(),
            Some("https://h/m")
        );
    }

    #[test]
    fn bounded() {
        let long = format!("Bearer scope=\"{}\"", "a".repeat(100_000));
        let b = parse_bearer(&long).unwrap();
        assert!(b.scope.unwrap().len() < MAX_HEADER_LEN);
        let many = "X, ".repeat(10_000);
        assert_eq!(parse_challenges(&many).len(), MAX_CHALLENGES);
        let multibyte = "é".repeat(20_000);
        assert!(parse_challenges(&multibyte).is_empty());
    }
}
