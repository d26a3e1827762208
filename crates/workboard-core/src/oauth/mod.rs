//! OAuth flows: WorkBoard v1 ([`v1`]) and OAuth 2.1 for MCP.
