//! Text from outside (caller arguments, server bodies and headers, config files) made safe for
//! error messages, in one place for every platform.
//!
//! Rules:
//! - A message never carries more than a short excerpt of foreign text: every string field of
//!   [`crate::Error`] is shown through [`Clip`] (at most [`MAX_FIELD_BYTES`] bytes, control
//!   characters dropped), and [`crate::ErrorInfo`]'s message is at most [`MAX_MESSAGE_BYTES`].
//! - A serde error never echoes the value it refused: [`describe_serde_error`] keeps what was
//!   expected (and [`describe_json_error`] the line and column) and drops the value, because a
//!   value in the wrong place may be a secret (a token passed as the environment, say).
//! - Server-provided text never shows a secret the request carried: the machines list the
//!   request's secrets and [`crate::Error::redact`] replaces them (codes, PKCE verifiers,
//!   refresh tokens, client secrets, bearer tokens).

use std::fmt::{self, Write as _};

use crate::http::HttpRequest;
use crate::secret::SecretString;

/// Largest excerpt of one piece of foreign text in a message, in bytes.
pub const MAX_FIELD_BYTES: usize = 200;
/// Largest [`crate::ErrorInfo::message`], in bytes (and so in UTF-16 code units).
pub const MAX_MESSAGE_BYTES: usize = 512;
/// Largest [`crate::ErrorInfo::hint`], in bytes.
pub const MAX_HINT_BYTES: usize = 1024;

/// Shows a value through [`fmt::Display`] with at most [`MAX_FIELD_BYTES`] bytes of its text
/// (cut at a character boundary, then `…`) and without control characters. Formatting stops
/// as soon as the limit is reached, so a 2 MB value costs no more than a short one.
pub struct Clip<'a, T: ?Sized>(pub &'a T);

impl<T: fmt::Display + ?Sized> fmt::Display for Clip<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        clip_fmt(f, self.0, MAX_FIELD_BYTES)
    }
}

fn clip_fmt(
    f: &mut fmt::Formatter<'_>,
    v: &(impl fmt::Display + ?Sized),
    max: usize,
) -> fmt::Result {
    let mut w = Bounded {
        out: f,
        left: max,
        cut: false,
    };
    match write!(w, "{v}") {
        Err(_) if w.cut => w.out.write_str("…"),
        r => r,
    }
}

struct Bounded<'a, 'b> {
    out: &'a mut fmt::Formatter<'b>,
    left: usize,
    cut: bool,
}

impl fmt::Write for Bounded<'_, '_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for c in s.chars().filter(|c| !c.is_control()) {
            let n = c.len_utf8();
            if n > self.left {
                self.cut = true;
                return Err(fmt::Error);
            }
            self.left -= n;
            self.out.write_char(c)?;
        }
        Ok(())
    }
}

/// `s` cut to at most `max` bytes (at a character boundary, `…` added when cut), control
/// characters dropped.
pub fn excerpt(s: &str, max: usize) -> String {
    let mut out = String::with_capacity(s.len().min(max) + 3);
    let mut left = max;
    for c in s.chars().filter(|c| !c.is_control()) {
        if c.len_utf8() > left {
            out.push('…');
            break;
        }
        left -= c.len_utf8();
        out.push(c);
    }
    out
}

/// `s` cut to at most `max` bytes at a character boundary (`…` added when cut), line breaks
/// kept: for multi-line texts built from already-bounded parts.
pub fn cut(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

/// `text` with every occurrence of the given secrets (those of 4 bytes or more) replaced by
/// `<redacted>`.
pub(crate) fn scrub<S: AsRef<str>>(text: &str, secrets: &[S]) -> String {
    let mut out = text.to_string();
    for s in secrets.iter().map(AsRef::as_ref).filter(|s| s.len() >= 4) {
        if out.contains(s) {
            out = out.replace(s, "<redacted>");
        }
    }
    out
}

/// The form fields and headers of a request that carry secrets: `code`, `code_verifier`,
/// `refresh_token`, `client_secret`, `client_hash`, `token`, `access_token`, `assertion`,
/// `password`, and the credentials of an `Authorization` header (a bearer token, Basic's
/// encoded pair). Longest first, so a secret containing another is replaced whole. (The
/// client secret inside a Basic pair is added by its owner, [`crate::oauth::flow::AuthContext`],
/// which knows it: no base64 decoder in the wasm package for this.)
pub(crate) fn request_secrets(request: &HttpRequest) -> Vec<SecretString> {
    const SECRET_FIELDS: &[&str] = &[
        "code",
        "code_verifier",
        "refresh_token",
        "client_secret",
        "client_hash",
        "token",
        "assertion",
        "client_assertion",
        "password",
        "access_token",
    ];
    let mut out: Vec<String> = Vec::new();
    // A sorted insert: no sort routine compiled into the wasm package for a handful of items.
    let mut add = |v: &str| {
        if v.len() >= 4 && !out.iter().any(|o| o == v) {
            let at = out
                .iter()
                .position(|o| o.len() < v.len())
                .unwrap_or(out.len());
            out.insert(at, v.to_string());
        }
    };
    let is_form = request.headers.iter().any(|(k, v)| {
        k.eq_ignore_ascii_case("content-type")
            && v.to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
    });
    if is_form {
        for (k, v) in url::form_urlencoded::parse(&request.body) {
            if SECRET_FIELDS.contains(&k.as_ref()) {
                add(&v);
            }
        }
    }
    for (k, v) in &request.headers {
        if k.eq_ignore_ascii_case("authorization") {
            let v = v.trim();
            add(v.split_once(' ').map_or(v, |(_, cred)| cred.trim()));
        }
    }
    out.into_iter().map(SecretString::new).collect()
}

/// A `serde_json` error described without the text it refused: the category's message or,
/// for a value of the wrong shape, [`describe_serde_error`]; then the line and column when
/// the error has a position.
pub fn describe_json_error(e: &serde_json::Error) -> String {
    let full = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    let msg = full.strip_suffix(&suffix).unwrap_or(&full);
    let mut out = match e.classify() {
        serde_json::error::Category::Data => describe_serde_error(msg),
        // Syntax, EOF and I/O messages are fixed texts ("expected value", "EOF while parsing
        // a string", ...) with no input in them; cut anyway.
        _ => excerpt(msg, 120),
    };
    if e.line() > 0 {
        out.push_str(&format!(" at line {} column {}", e.line(), e.column()));
    }
    out
}

/// The message of a serde deserialization error (`serde_json`, `serde_wasm_bindgen`, ...)
/// without the value it refused: `invalid type: string "…", expected X` becomes `invalid type:
/// string, expected X`; the names in `unknown variant` / `unknown field` are dropped (they
/// are input too); what was expected comes from the target type and is kept (cut to 160
/// bytes). A message of another form (a custom one) is cut to a short excerpt.
pub fn describe_serde_error(msg: &str) -> String {
    const EXPECTED: &str = ", expected ";
    // What the type expected: after the last ", expected " (the value, if it contains the
    // same words, comes before).
    let expected = |m: &str| {
        m.rfind(EXPECTED)
            .map(|i| format!(", expected {}", excerpt(&m[i + EXPECTED.len()..], 160)))
            .unwrap_or_default()
    };
    for prefix in ["invalid type: ", "invalid value: "] {
        if let Some(rest) = msg.strip_prefix(prefix) {
            // serde's `Unexpected` shows the value's kind first: `string "…"`,
            // `integer `5``, `floating point `1.5``, `map`, `sequence`, `unit value`, ...
            let kind = rest.split([' ', ',']).next().unwrap_or("");
            let kind = match kind {
                "boolean" | "integer" | "character" | "string" | "map" | "sequence" | "enum"
                | "null" => kind,
                "floating" => "floating point number",
                "byte" => "byte array",
                "unit" => "unit value",
                "Option" => "option",
                "newtype" => "newtype",
                _ => "value",
            };
            return format!("{prefix}{kind}{}", expected(msg));
        }
    }
    if msg.starts_with("unknown variant ") {
        return format!("unknown variant{}", expected(msg));
    }
    if msg.starts_with("unknown field ") {
        return format!("unknown field{}", expected(msg));
    }
    if msg.starts_with("invalid length ")
        || msg.starts_with("missing field ")
        || msg.starts_with("duplicate field ")
        || msg.starts_with("data did not match any variant")
    {
        // Numbers and names from the target type only.
        return excerpt(msg, 160);
    }
    excerpt(msg, 80)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::http::Method;

    #[test]
    fn clip_bounds_and_drops_controls() {
        struct C<'a>(&'a str, usize);
        impl fmt::Display for C<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                clip_fmt(f, self.0, self.1)
            }
        }
        let huge = "é".repeat(1_000_000);
        assert_eq!(C(&huge, 11).to_string(), "ééééé…");
        assert_eq!(C("a\nb\u{1b}[31mc", 10).to_string(), "ab[31mc");
        assert_eq!(C("abc", 3).to_string(), "abc");
        assert_eq!(Clip(&huge).to_string().len(), MAX_FIELD_BYTES + "…".len());
    }

    #[test]
    fn excerpt_cuts_at_char_boundary() {
        assert_eq!(excerpt("aé", 2), "a…");
        assert_eq!(excerpt("abc", 3), "abc");
        assert_eq!(excerpt("a\r\nb", 3), "ab");
    }

    #[test]
    fn serde_errors_never_show_the_value() {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Opts {
            environment: String,
            #[serde(default)]
            kind: Option<Kind>,
        }
        #[derive(Debug, serde::Deserialize)]
        #[serde(rename_all = "snake_case")]
        enum Kind {
            A,
        }
        let secret = "tok_live_0123456789abcdef, expected nothing";
        for doc in [
            serde_json::json!(secret),
            serde_json::json!({ "environment": 5, "kind": secret }),
            serde_json::json!({ "environment": [secret] }),
            serde_json::json!({ "environment": "us", "kind": secret }),
        ] {
            let e = serde_json::from_value::<Opts>(doc).unwrap_err();
            let d = describe_json_error(&e);
            assert!(!d.contains("tok_live"), "{d} (from {e})");
            assert!(d.contains("expected") || d.contains("missing"), "{d}");
        }
        let e = serde_json::from_str::<Opts>(&format!("{{\"environment\": 5, \"x\": \"{secret}"))
            .unwrap_err();
        let d = describe_json_error(&e);
        assert!(
            d.contains("line 1 column") && !d.contains("tok_live"),
            "{d}"
        );
        let d = describe_serde_error(&format!(
            "invalid type: string {secret:?}, expected struct Opts"
        ));
        assert_eq!(d, "invalid type: string, expected struct Opts");
        assert_eq!(
            describe_serde_error("unknown variant `tok_live`, expected `a`"),
            "unknown variant, expected `a`"
        );
        assert_eq!(
            describe_serde_error("missing field `environment`"),
            "missing field `environment`"
        );
        assert!(describe_serde_error(&"x".repeat(2_000_000)).len() < 100);
    }

    #[test]
    fn request_secrets_cover_form_and_authorization() {
        use base64::Engine as _;
        let basic = base64::engine::general_purpose::STANDARD.encode("client:s3cr%2Bt");
        let req = HttpRequest {
            id: crate::RequestId(1),
            method: Method::Post,
            url: "https://as.example/token".into(),
            headers: vec![
                (
                    "Content-Type".into(),
                    "application/x-www-form-urlencoded".into(),
                ),
                ("Authorization".into(), format!("Basic {basic}")),
            ],
            body: crate::http::form_body([
                ("grant_type", "authorization_code"),
                ("code", "CODE-123"),
                ("code_verifier", "VERIFIER-456"),
                ("redirect_uri", "https://app.example/cb"),
            ]),
        };
        let s: Vec<String> = request_secrets(&req)
            .iter()
            .map(|s| s.expose().to_string())
            .collect();
        for want in ["CODE-123", "VERIFIER-456", basic.as_str()] {
            assert!(s.iter().any(|x| x == want), "{want} not in the list");
        }
        assert!(!s
            .iter()
            .any(|x| x.contains("app.example") || x == "authorization_code"));
    }
}
