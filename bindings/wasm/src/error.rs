//! Errors cross into JavaScript as `Error` objects carrying the core's flat
//! [`ErrorInfo`]: `name = "WorkboardError"`, a stable `code`, the `message` and a `hint`.

use js_sys::Reflect;
use wasm_bindgen::{JsCast, JsValue};
use workboard_core::{Error, ErrorInfo};

/// The JS exception for a core error.
pub(crate) fn to_js(err: Error) -> JsValue {
    info_to_js(&err.info())
}

/// The JS exception for a flat error.
pub(crate) fn info_to_js(info: &ErrorInfo) -> JsValue {
    let e = js_sys::Error::new(&info.message);
    e.set_name("WorkboardError");
    let obj: &JsValue = e.as_ref();
    let _ = Reflect::set(obj, &"code".into(), &JsValue::from_str(&info.code));
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
