//! Errors cross into JavaScript as `Error` objects carrying the core's flat
//! [`ErrorInfo`] and its [`ErrorKind`]: `name = "WorkboardError"`, a stable `code`, a `kind`
//! (snake_case, the `ErrorKind` type of the .d.ts), the `message` and a `hint`.

use js_sys::Reflect;
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};
use workboard_core::{Error, ErrorInfo, ErrorKind};

#[wasm_bindgen(typescript_custom_section)]
const TS_ERROR: &'static str = r#"
/** What an app does about a `WorkboardError` (its `code` stays the precise reason). */
export type ErrorKind =
    | "needs_sign_in"
    | "step_up_required"
    | "unauthorized"
    | "sign_in_failed"
    | "network"
    | "timeout"
    | "rate_limited"
    | "server"
    | "protocol"
    | "invalid_input"
    | "wrong_state"
    | "cancelled"
    | "stopped"
    | "storage"
    | "internal";
/** What every method throws or rejects with: an `Error` named `WorkboardError`. */
export interface WorkboardError extends Error {
    name: "WorkboardError";
    /** Stable snake_case code: `invalid_input`, `unauthorized`, `state_mismatch`, ... */
    code: string;
    /** The kind of failure: `needs_sign_in` for `unauthorized` and `not_signed_in`, ... */
    kind: ErrorKind;
    /** What to do about it, when known. */
    hint: string | null;
}
"#;

/// The `kind` property: the core's [`ErrorKind`] in snake_case (the .d.ts `ErrorKind`). A
/// match, not serde: no serializer in the package for it.
pub(crate) fn kind_name(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::NeedsSignIn => "needs_sign_in",
        ErrorKind::StepUpRequired => "step_up_required",
        ErrorKind::Unauthorized => "unauthorized",
        ErrorKind::SignInFailed => "sign_in_failed",
        ErrorKind::Network => "network",
        ErrorKind::Timeout => "timeout",
        ErrorKind::RateLimited => "rate_limited",
        ErrorKind::Server => "server",
        ErrorKind::Protocol => "protocol",
        ErrorKind::InvalidInput => "invalid_input",
        ErrorKind::WrongState => "wrong_state",
        ErrorKind::Cancelled => "cancelled",
        ErrorKind::Stopped => "stopped",
        ErrorKind::Storage => "storage",
        ErrorKind::Internal => "internal",
        // The core's enum is `#[non_exhaustive]`: a kind added there is `internal` here until
        // it gets its name (the test `every_kind_has_its_snake_case_name` fails until then).
        _ => "internal",
    }
}

/// The JS exception for a core error.
pub(crate) fn to_js(err: Error) -> JsValue {
    let kind = kind_name(err.kind());
    info_to_js(&err.info(), kind)
}

fn info_to_js(info: &ErrorInfo, kind: &str) -> JsValue {
    let e = js_sys::Error::new(&info.message);
    e.set_name("WorkboardError");
    let obj: &JsValue = e.as_ref();
    let _ = Reflect::set(obj, &"code".into(), &JsValue::from_str(&info.code));
    let _ = Reflect::set(obj, &"kind".into(), &JsValue::from_str(kind));
    let hint = info
        .hint
        .as_deref()
        .map(JsValue::from_str)
        .unwrap_or(JsValue::NULL);
    let _ = Reflect::set(obj, &"hint".into(), &hint);
    e.unchecked_into()
}

/// An argument from JavaScript that does not have the documented shape.
pub(crate) fn invalid_input(what: &str, reason: impl std::fmt::Display) -> JsValue {
    to_js(Error::InvalidInput {
        what: what.into(),
        reason: reason.to_string(),
    })
}

/// A string argument. Anything else is an `invalid_input` error; wasm-bindgen's own `String`
/// conversion would throw a bare `TypeError` (or turn a number into text) instead.
pub(crate) fn string_arg(v: &JsValue, what: &str) -> Result<String, JsValue> {
    v.as_string().ok_or_else(|| {
        let kind = v.js_typeof().as_string().unwrap_or_default();
        let kind = if v.is_null() {
            "null".to_string()
        } else {
            kind
        };
        invalid_input(what, format!("expected a string, got {kind}"))
    })
}

/// An optional string argument: `undefined` and `null` are `None`.
#[cfg(feature = "sign-in")]
pub(crate) fn opt_string_arg(v: &JsValue, what: &str) -> Result<Option<String>, JsValue> {
    if v.is_undefined() || v.is_null() {
        return Ok(None);
    }
    string_arg(v, what).map(Some)
}

/// Converts a `serde_wasm_bindgen`/`tsify` conversion failure on an argument. The message
/// says what was expected, never the value (it may be a secret passed in the wrong place, or
/// megabytes long): the core's one rule for serde errors.
pub(crate) fn bad_arg<E: std::fmt::Display>(what: &'static str) -> impl Fn(E) -> JsValue {
    move |e| {
        invalid_input(
            what,
            workboard_core::untrusted::describe_serde_error(&e.to_string()),
        )
    }
}

/// Converts a failure to build a JS value for a result (should not happen).
pub(crate) fn bad_result<E: std::fmt::Display>(e: E) -> JsValue {
    to_js(Error::InvalidResponse {
        what: "result conversion".into(),
        reason: e.to_string(),
    })
}

/// A short description of a thrown JS value (message only; never request content).
pub(crate) fn describe_js(v: &JsValue) -> String {
    if let Some(e) = v.dyn_ref::<js_sys::Error>() {
        let name: String = e.name().into();
        let msg: String = e.message().into();
        // Node's fetch wraps the socket error in `cause`.
        let cause = Reflect::get(e, &"cause".into())
            .ok()
            .and_then(|c| c.dyn_into::<js_sys::Error>().ok())
            .map(|c| format!(" ({})", String::from(c.message())))
            .unwrap_or_default();
        return format!("{name}: {msg}{cause}");
    }
    v.as_string()
        .unwrap_or_else(|| "non-Error exception".into())
}

/// The `name` of a thrown JS error, if it is one.
pub(crate) fn js_error_name(v: &JsValue) -> Option<String> {
    v.dyn_ref::<js_sys::Error>().map(|e| e.name().into())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    /// Every kind of the core, by hand.
    const ALL: [ErrorKind; 15] = [
        ErrorKind::NeedsSignIn,
        ErrorKind::StepUpRequired,
        ErrorKind::Unauthorized,
        ErrorKind::SignInFailed,
        ErrorKind::Network,
        ErrorKind::Timeout,
        ErrorKind::RateLimited,
        ErrorKind::Server,
        ErrorKind::Protocol,
        ErrorKind::InvalidInput,
        ErrorKind::WrongState,
        ErrorKind::Cancelled,
        ErrorKind::Stopped,
        ErrorKind::Storage,
        ErrorKind::Internal,
    ];

    /// The variants of the core's `ErrorKind`, read from its source (the enum is
    /// `#[non_exhaustive]`, so no match outside the core can prove `ALL` complete).
    fn core_variants() -> Vec<String> {
        let src = include_str!("../../../crates/workboard-core/src/error.rs");
        let start = src
            .find("pub enum ErrorKind {")
            .expect("the core's ErrorKind");
        let body = &src[start..];
        body[..body.find("\n}").expect("its end")]
            .lines()
            .skip(1)
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with("//") && !l.starts_with("#["))
            .map(|l| l.trim_end_matches(',').to_string())
            .collect()
    }

    #[test]
    fn every_kind_has_its_snake_case_name() {
        let listed: Vec<String> = ALL.iter().map(|k| format!("{k:?}")).collect();
        assert_eq!(listed, core_variants(), "ALL is every core ErrorKind");
        // The .d.ts union (`TS_ERROR`, which the macro consumes: read from this file):
        // exactly these names, in this order.
        let src = include_str!("error.rs");
        let union = &src[src.find("export type ErrorKind =").unwrap()..];
        let union = &union[..union.find(';').unwrap()];
        let declared: Vec<&str> = union.split('"').skip(1).step_by(2).collect();
        let names: Vec<&str> = ALL.iter().map(|k| kind_name(*k)).collect();
        assert_eq!(declared, names);
        for k in ALL {
            // The core's own serde name (snake_case), which the mapping must equal.
            let serde_name = serde_json::to_value(k).unwrap();
            assert_eq!(serde_name.as_str(), Some(kind_name(k)), "{k:?}");
        }
    }

    #[test]
    fn a_core_error_gets_its_kind_name() {
        let cases = [
            (Error::NotSignedIn, "needs_sign_in"),
            (
                Error::InvalidInput {
                    what: "w".into(),
                    reason: "r".into(),
                },
                "invalid_input",
            ),
            (
                Error::WrongState {
                    action: "a".into(),
                    state: "s".into(),
                },
                "wrong_state",
            ),
            (Error::SecretInBrowser, "unauthorized"),
            (Error::Cancelled, "cancelled"),
        ];
        for (e, name) in cases {
            assert_eq!(kind_name(e.kind()), name, "{}", e.code());
        }
    }
}
