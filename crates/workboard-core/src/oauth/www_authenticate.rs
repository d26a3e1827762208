//! OAuth 2.1 for MCP: www_authenticate (in progress).
