//! OAuth 2.1 for MCP: pkce (in progress).
