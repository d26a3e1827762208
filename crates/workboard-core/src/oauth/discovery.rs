//! OAuth 2.1 for MCP: discovery (in progress).
