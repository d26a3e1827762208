//! The connection machine: credentials + MCP session + shared policies.
