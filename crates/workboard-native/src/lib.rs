//! # workboard-native
//!
//! The native adapter of workboard-connect for Rust services and tools: it supplies the
//! core's host capabilities — [`ReqwestTransport`], [`SystemClock`], [`OsEntropy`] — plus
//! credential stores, an RFC 8252 loopback redirect listener and an async [`Client`].

mod approve;
pub mod client;
pub mod host;
#[cfg(feature = "keychain")]
pub mod keychain;
pub mod loopback;
pub mod reactor;
pub mod runtime;
pub mod signin;
pub mod store;
pub mod transport;

pub use client::{Client, ClientBuilder, CredentialsHook, ServerInfo};
pub use host::{HostTransport, InputHandler, NativeHost};
#[cfg(feature = "keychain")]
pub use keychain::{keychain_or_file, KeychainStore, StoreChoice};
pub use reactor::Reactor;
pub use runtime::{OsEntropy, SystemClock};
pub use signin::{
    revoke_mcp, revoke_v1, sign_in_client_credentials, sign_in_mcp, sign_in_v1, step_up_mcp,
    Approver, McpSignIn,
};
pub use store::{CredentialStore, FileStore, MemoryStore, StoreError};
pub use transport::{ReqwestTransport, TransportOptions};
pub use workboard_client;
pub use workboard_client::EraPolicy;
pub use workboard_core;
