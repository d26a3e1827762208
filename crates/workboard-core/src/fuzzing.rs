//! The core's internal parsers, for its fuzz targets (`fuzz/`) and property tests only.
//!
//! Not part of the public API: no stability promise, hidden from the docs. Apps reach these
//! parsers through the machines ([`crate::connection::Connection`],
//! [`crate::oauth::flow::McpAuthFlow`], [`crate::oauth::v1`]), which apply the policies around
//! them.

pub use crate::mcp::jsonrpc_impl::{
    negotiate, parse_call_tool_result, parse_initialize_result, parse_list_tools_result,
    parse_messages, InitializeResult, JsonRpcId, ListToolsResult, Message, RpcError,
};
pub use crate::mcp::session::{decode_body, decode_sse, Decoded, Limits};
pub use crate::mcp::sse::{SseDecoder, SseEvent};
pub use crate::oauth::discovery::{as_metadata_candidates, prm_candidates, MetadataKind};
pub use crate::oauth::metadata_impl::{
    resource_matches, AuthorizationServerMetadata, ProtectedResourceMetadata, ValidatedServer,
};
pub use crate::oauth::pending_impl::{parse_authorization_response, AuthorizationResponse};
pub use crate::oauth::pkce::{challenge_s256, validate_verifier, Pkce};
pub use crate::oauth::registration_impl::{parse_registration_response, ClientIdentity};
pub use crate::oauth::token::{parse_token_body, parse_token_response};
pub use crate::oauth::v1_impl::{
    checked_exchange_request, checked_exchange_request_for, exchange_request,
    exchange_request_from_parts, handle_exchange_response, revoke_request,
};
pub use crate::oauth::www_authenticate::{
    bearer_from_response, parse_bearer, parse_challenges, BearerChallenge, Challenge,
    MAX_CHALLENGES, MAX_PARAMS,
};

/// `Bearer xyz` → `xyz` (the credentials' tolerant reading of a pasted token).
pub fn strip_bearer(token: &str) -> &str {
    crate::credentials::strip_bearer(token)
}
