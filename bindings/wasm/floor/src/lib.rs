//! # workboard-wasm-floor
//!
//! A measurement, not a library: the smallest WebAssembly module that uses the dependencies the
//! SDK's design names (wasm-bindgen, serde/serde_json, url) the way any build of the SDK has
//! to — an exported async call, a JS `fetch`-like callback awaited as a promise, a JSON body
//! parsed and read into a few typed documents, a URL parsed, joined and given a query — and
//! holds no flow logic at all. `bindings/wasm/floor.sh` builds it with the package's own
//! recipe (`build.sh`) and prints its gzipped size with each dependency switched on, which is
//! the size floor under the package's budget (see bindings/wasm/README.md, "Size").
#![allow(unsafe_code)] // wasm-bindgen's generated glue

use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{future_to_promise, JsFuture};

/// Calls `fetch(url, body)` (any JS function returning a promise of a string), reads the
/// answer, and resolves to a string built from it.
#[wasm_bindgen]
pub fn roundtrip(fetch: js_sys::Function, url: String, body: String) -> js_sys::Promise {
    future_to_promise(async move {
        let target = target_url(&url, &body)?;
        let answer = fetch.call2(
            &JsValue::NULL,
            &JsValue::from_str(&target),
            &JsValue::from_str(&body),
        )?;
        let text = JsFuture::from(js_sys::Promise::resolve(&answer))
            .await?
            .as_string()
            .unwrap_or_default();
        Ok(JsValue::from_str(&read_documents(&text)?))
    })
}

#[cfg(feature = "url")]
fn target_url(base: &str, body: &str) -> Result<String, JsValue> {
    let bad = |e: url::ParseError| JsValue::from_str(&e.to_string());
    let base = url::Url::parse(base).map_err(bad)?;
    let mut target = base
        .join("/.well-known/oauth-protected-resource")
        .map_err(bad)?;
    target.query_pairs_mut().append_pair("resource", body);
    if target.origin() != base.origin() || target.host_str().is_none() {
        return Err(JsValue::from_str("cross-origin"));
    }
    Ok(target.into())
}

#[cfg(not(feature = "url"))]
fn target_url(base: &str, body: &str) -> Result<String, JsValue> {
    Ok(format!(
        "{base}/.well-known/oauth-protected-resource?resource={body}"
    ))
}

#[cfg(feature = "json")]
mod documents {
    use serde::{Deserialize, Serialize};
    use serde_json::Value;

    #[derive(Serialize, Deserialize, Default)]
    pub struct Token {
        pub access_token: String,
        pub refresh_token: Option<String>,
        pub expires_in: Option<u64>,
        pub scope: Option<String>,
        pub token_type: String,
    }

    #[derive(Serialize, Deserialize, Default)]
    pub struct ServerMetadata {
        pub issuer: String,
        pub authorization_endpoint: String,
        pub token_endpoint: String,
        pub registration_endpoint: Option<String>,
        pub scopes_supported: Vec<String>,
        pub code_challenge_methods_supported: Vec<String>,
    }

    #[derive(Serialize, Deserialize, Default)]
    pub struct ResourceMetadata {
        pub resource: String,
        pub authorization_servers: Vec<String>,
        pub scopes_supported: Option<Vec<String>>,
    }

    #[derive(Serialize, Deserialize, Default)]
    pub struct Tool {
        pub name: String,
        pub description: Option<String>,
        #[serde(rename = "inputSchema")]
        pub input_schema: Value,
    }

    #[derive(Serialize, Deserialize, Default)]
    pub struct ToolPage {
        pub tools: Vec<Tool>,
        #[serde(rename = "nextCursor")]
        pub next_cursor: Option<String>,
    }

    #[derive(Serialize, Deserialize, Default)]
    pub struct Saved {
        pub token: Token,
        pub server: Option<ServerMetadata>,
        pub resource: Option<ResourceMetadata>,
        pub saved_at_ms: u64,
    }

    fn field<T: for<'de> Deserialize<'de>>(v: &Value, key: &str) -> Result<T, serde_json::Error> {
        T::deserialize(v.get(key).cloned().unwrap_or(Value::Null))
    }

    /// Parses `text` to a `Value`, reads the typed documents from it, and writes one back.
    pub fn read(text: &str) -> Result<String, serde_json::Error> {
        let v: Value = serde_json::from_slice(text.as_bytes())?;
        let page: ToolPage = field(&v, "page")?;
        let saved = Saved {
            token: field(&v, "token")?,
            server: field(&v, "server")?,
            resource: field(&v, "resource")?,
            saved_at_ms: page.tools.len() as u64,
        };
        let out = serde_json::to_string(&saved)?;
        let again: Saved =
            serde_json::from_slice::<Value>(out.as_bytes()).and_then(Saved::deserialize)?;
        Ok(format!("{out} {}", again.saved_at_ms))
    }
}

#[cfg(feature = "json")]
fn read_documents(text: &str) -> Result<String, JsValue> {
    documents::read(text).map_err(|e| JsValue::from_str(&e.to_string()))
}

#[cfg(not(feature = "json"))]
fn read_documents(text: &str) -> Result<String, JsValue> {
    Ok(format!("{text} {}", text.len()))
}
