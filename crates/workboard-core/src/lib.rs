//! # workboard-core
//!
//! The sans-IO heart of workboard-connect: every flow of the SDK as a state machine with no
//! I/O, no clock and no OS randomness. Hosts (the native adapter, the WebAssembly package,
//! the UniFFI bindings) supply a [`driver::Transport`], a [`driver::Clock`] and an
//! [`random::Entropy`] source; everything else — WorkBoard OAuth v1, OAuth 2.1 for MCP,
//! credentials, the MCP session — lives here and is tested once.
//!
//! Vocabulary: `handle_*` methods take inputs (each carries `now_ms`, unix milliseconds),
//! `poll_*` methods return outputs and are drained until `None`.

pub mod credentials;
pub mod driver;
pub mod env;
pub mod error;
pub mod http;
pub mod random;
pub mod secret;

pub mod oauth;
pub mod mcp;
pub mod connection;
pub mod aiconfig;
pub mod diagnose;
pub mod rest;

pub use credentials::{Credentials, Dialect, TokenSet};
pub use driver::{drive, Clock, SansIo, Transport};
pub use env::Environment;
pub use error::{Error, ErrorInfo};
pub use http::{HttpRequest, HttpResponse, Method, RequestId, TransportError};
pub use random::{Entropy, SeededEntropy};
pub use secret::SecretString;
