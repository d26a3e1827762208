//! # workboard-native
//!
//! The native adapter of workboard-connect for Rust services and tools: it supplies the
//! core's host capabilities — [`ReqwestTransport`], [`SystemClock`], [`OsEntropy`] — plus
//! credential stores, an RFC 8252 loopback redirect listener and an async [`Client`].

pub mod loopback;
pub mod runtime;
pub mod store;
pub mod transport;

pub use runtime::{OsEntropy, SystemClock};
pub use store::{CredentialStore, FileStore, MemoryStore, StoreError};
pub use transport::{ReqwestTransport, TransportOptions};
pub use workboard_core;
