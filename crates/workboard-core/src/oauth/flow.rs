//! OAuth 2.1 for MCP: flow (in progress).
