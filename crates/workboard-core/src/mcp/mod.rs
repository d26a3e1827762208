//! MCP client session over Streamable HTTP: SSE decoding ([`sse`]), JSON-RPC and MCP
//! message types ([`jsonrpc`]) and the session machine ([`session`]).

pub mod jsonrpc;
pub mod session;
pub mod sse;
