//! # workboard-wasm
//!
//! The WebAssembly binding of workboard-connect, published to npm as `workboard-connect`.
//! It holds no flow logic: it converts types (the layer's notification streams into async
//! iterators: `stream.rs`) and supplies the host capabilities the client layer
//! (`workboard-client`) needs (a streaming `fetch` transport, a clock, entropy, a store, the
//! credential listeners and the app's input handlers), and runs the layer's loop on the JS
//! event loop.
#![allow(unsafe_code)] // wasm-bindgen's generated glue

mod client;
mod error;
mod host;
mod mcp;
#[cfg(feature = "sign-in")]
mod signin;
#[cfg(feature = "sign-in")]
mod signin_types;
mod stream;
mod types;

pub use client::WorkboardClient;
#[cfg(feature = "sign-in")]
pub use signin::{handle_v1_redirect, start_v1_sign_in};
#[cfg(feature = "sign-in")]
pub use signin_types::{McpSignInOptions, McpSignInStart, V1Code, V1SignInOptions, V1SignInStart};
pub use stream::NotificationStream;
pub use types::{ClientInfo, ClientOptions, CredentialsSummary, ServerInfo};

use wasm_bindgen::prelude::*;

/// The version of this package.
#[wasm_bindgen]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}

/// A promise of `future`. Every method's future is boxed into one type first, so the
/// promise glue (`future_to_promise` and its task) is compiled once, not once per method.
pub(crate) fn promise(
    future: impl std::future::Future<Output = Result<JsValue, JsValue>> + 'static,
) -> js_sys::Promise {
    let boxed: std::pin::Pin<Box<dyn std::future::Future<Output = Result<JsValue, JsValue>>>> =
        Box::pin(future);
    wasm_bindgen_futures::future_to_promise(boxed)
}
