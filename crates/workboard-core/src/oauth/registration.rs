//! OAuth 2.1 for MCP: registration (in progress).
