//! OAuth flows: WorkBoard's v1 dialect ([`v1`]) and OAuth 2.1 for MCP ([`flow`]), sharing
//! the pending-authorization state ([`pending`]) and token response parsing ([`token`]).

pub mod discovery;
pub mod flow;
pub mod metadata;
pub mod pending;
pub mod pkce;
pub mod registration;
pub mod token;
pub mod v1;
pub mod www_authenticate;
