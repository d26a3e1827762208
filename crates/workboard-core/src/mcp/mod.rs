//! MCP client session over Streamable HTTP.
