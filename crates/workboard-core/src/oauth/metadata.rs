//! OAuth 2.1 for MCP: metadata (in progress).
