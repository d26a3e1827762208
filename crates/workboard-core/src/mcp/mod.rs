//! MCP client session over Streamable HTTP. The machine is [`crate::connection::Connection`];
//! this module holds the values it hands out: tools, tool results and implementation info
//! ([`jsonrpc`]) and what it knows about its session ([`SessionInfo`]). The SSE decoder, the
//! JSON-RPC framing and the Streamable HTTP body rules behind them are internal.

pub mod jsonrpc {
    //! The MCP values an app sees (spec 2025-11-25): a tool ([`Tool`]), a tool's result
    //! ([`CallToolResult`] and its [`ContentBlock`]s), client and server implementation info
    //! ([`Implementation`]), and the protocol versions this SDK speaks. The JSON-RPC framing
    //! and message parsing behind them are internal.

    pub(crate) use super::jsonrpc_impl::*;
    pub use super::jsonrpc_impl::{
        CallToolResult, ClientCapabilities, ContentBlock, Implementation, JsonRpcId, Tool,
        LATEST_PROTOCOL_VERSION, SUPPORTED_PROTOCOL_VERSIONS,
    };
    pub use super::modern::{LEGACY_PROTOCOL_VERSIONS, MODERN_PROTOCOL_VERSIONS};
}
#[path = "jsonrpc.rs"]
pub(crate) mod jsonrpc_impl;

pub(crate) mod modern;
pub(crate) mod session;
pub(crate) mod sse;
pub mod surface;

pub use session::SessionInfo;
