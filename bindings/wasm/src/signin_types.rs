//! Argument and result shapes of the sign-in methods (OAuth 2.1 for MCP and WorkBoard v1),
//! with their TypeScript declarations: compiled with the `sign-in` feature only, so the
//! `token` build (personal tokens and saved credentials) carries none of them.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tsify::Tsify;
use wasm_bindgen::JsValue;
use workboard_core::oauth::pending::AuthorizationCode;
use workboard_core::oauth::v1::V1Config;
use workboard_core::{Dialect, Environment, Error, SecretString};

use crate::error::to_js;
use crate::types::to_ts;

/// Options of `startMcpSignIn` (OAuth 2.1 for MCP, public client with PKCE by default).
#[derive(Tsify)]
#[serde(rename_all = "camelCase")]
pub struct McpSignInOptions {
    /// The MCP server URL (default: the client's MCP URL).
    #[tsify(optional)]
    #[serde(default)]
    pub server_url: Option<String>,
    /// Where the authorization server sends the browser back (exact, as registered).
    pub redirect_uri: String,
    /// A pre-registered client id (else a client ID metadata document or dynamic registration).
    #[tsify(optional)]
    #[serde(default)]
    pub client_id: Option<String>,
    /// A client secret: refused unless `dangerouslyAllowClientSecretInBrowser`.
    #[tsify(optional)]
    #[serde(default)]
    pub client_secret: Option<String>,
    /// An https URL of this app's client ID metadata document.
    #[tsify(optional)]
    #[serde(default)]
    pub client_metadata_url: Option<String>,
    /// A `WWW-Authenticate` value from a 401 already received (skips the probe).
    #[tsify(optional)]
    #[serde(default)]
    pub www_authenticate: Option<String>,
    /// A WorkBoard base URL whose issuer quirk is allowed (US and EU always are).
    #[tsify(optional)]
    #[serde(default)]
    pub workboard_environment: Option<String>,
}

impl McpSignInOptions {
    pub(crate) fn into_layer(self) -> Result<workboard_client::McpSignInOptions, Error> {
        let mut o = workboard_client::McpSignInOptions::new(self.redirect_uri);
        o.server_url = self.server_url;
        o.client_id = self.client_id;
        o.client_secret = self.client_secret.map(SecretString::new);
        o.client_metadata_url = self.client_metadata_url;
        o.www_authenticate = self.www_authenticate;
        o.workboard_environment = self
            .workboard_environment
            .as_deref()
            .map(Environment::parse)
            .transpose()?;
        Ok(o)
    }
}

/// Result of `startMcpSignIn`: open `url`; keep `pendingJson` (e.g. in sessionStorage) for
/// `completeMcpSignIn` after the redirect. `pendingJson` contains secrets (state, PKCE
/// verifier): never log it or put it in a URL.
#[derive(Tsify, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct McpSignInStart {
    /// The authorization URL.
    pub url: String,
    /// The pending authorization to keep until the redirect.
    pub pending_json: String,
    /// The client id in use (pre-registered, metadata document URL or registered).
    pub client_id: String,
    /// Token endpoint authentication: `none`, `client_secret_basic` or `client_secret_post`.
    pub token_endpoint_auth: String,
    /// A named issuer allowance in use (`workboard_wb_issuer`), if any.
    #[tsify(optional)]
    pub allowance: Option<String>,
}

impl McpSignInStart {
    /// A sign-in start as a JS value; `None` (the server asks for no authorization) is
    /// `wrong_state`.
    pub(crate) fn to_js(
        start: Option<workboard_client::McpSignInStart>,
    ) -> Result<JsValue, JsValue> {
        let s = start.ok_or_else(|| {
            to_js(Error::WrongState {
                action: "start sign-in".into(),
                state: "the server did not ask for authorization".into(),
            })
        })?;
        to_ts(&McpSignInStart {
            url: s.url,
            pending_json: s.pending_json,
            client_id: s.client_id,
            token_endpoint_auth: s.token_endpoint_auth,
            allowance: s.allowance,
        })
    }
}

/// Options of `startV1SignIn` (WorkBoard OAuth v1).
#[derive(Tsify)]
#[serde(rename_all = "camelCase")]
pub struct V1SignInOptions {
    /// `"us"`, `"eu"` or a base URL (default: the client's environment).
    #[tsify(optional)]
    #[serde(default)]
    pub environment: Option<String>,
    /// The Client ID of the app registered in WorkBoard.
    pub client_id: String,
    /// The App Redirect URI registered in WorkBoard, character for character.
    pub redirect_uri: String,
    /// Scopes (default: the server's `all`).
    #[tsify(optional)]
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Ask for the code as a JSON body (`response_type=json_code`).
    #[tsify(optional)]
    #[serde(default)]
    pub json_code: bool,
    /// Refused: the Client Hash must stay on your server (see `exchangeV1Code`).
    #[tsify(optional)]
    #[serde(default)]
    pub client_hash: Option<String>,
}

impl V1SignInOptions {
    /// The sign-in's configuration (`environment`: the client's unless given). A Client Hash
    /// is refused (`secret_in_browser`): the exchange belongs on the app's server.
    pub(crate) fn config(self, environment: &Environment) -> Result<V1Config, Error> {
        if self.client_hash.as_deref().is_some_and(|h| !h.is_empty()) {
            return Err(Error::SecretInBrowser);
        }
        let environment = match self.environment.as_deref() {
            Some(e) => Environment::parse(e)?,
            None => environment.clone(),
        };
        let mut config = V1Config::new(environment, self.client_id, self.redirect_uri);
        config.scopes = self.scopes;
        config.json_code = self.json_code;
        Ok(config)
    }
}

/// Result of `startV1SignIn`: open `url`; keep `pendingJson` (sessionStorage) until the
/// redirect. `pendingJson` holds the `state`: never log it or put it in a URL.
#[derive(Tsify, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct V1SignInStart {
    /// The authorize URL.
    pub url: String,
    /// The pending authorization (expires after 5 minutes, single use).
    pub pending_json: String,
}

impl From<workboard_client::V1SignInStart> for V1SignInStart {
    fn from(s: workboard_client::V1SignInStart) -> Self {
        V1SignInStart {
            url: s.url,
            pending_json: s.pending_json,
        }
    }
}

/// The checked authorization code from `handleV1Redirect`. Send `code` and `redirectUri` to
/// your server, which exchanges them with the Client Hash (e.g. `POST /api/workboard/exchange`
/// `{code, redirect_uri}`), within `expiresAtMs`.
#[derive(Tsify, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct V1Code {
    /// The authorization code (a secret: send it only to your own server).
    pub code: String,
    /// The redirect URI to send again with the exchange.
    pub redirect_uri: String,
    /// The Client ID.
    pub client_id: String,
    /// The token endpoint.
    pub token_endpoint: String,
    /// Scopes requested.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// When the redirect was handled (unix ms).
    pub received_at_ms: f64,
    /// When the code expires (unix ms): 5 minutes after the redirect.
    #[tsify(optional)]
    #[serde(default)]
    pub expires_at_ms: Option<f64>,
}

impl From<&AuthorizationCode> for V1Code {
    fn from(c: &AuthorizationCode) -> Self {
        V1Code {
            code: c.code.expose().to_string(),
            redirect_uri: c.redirect_uri.clone(),
            client_id: c.client_id.clone(),
            token_endpoint: c.token_endpoint.clone(),
            scopes: c.scopes.clone(),
            received_at_ms: c.received_at_ms as f64,
            expires_at_ms: c.expires_at_ms.map(|v| v as f64),
        }
    }
}

impl From<V1Code> for AuthorizationCode {
    fn from(c: V1Code) -> Self {
        AuthorizationCode {
            code: SecretString::new(c.code),
            dialect: Dialect::WorkboardV1,
            redirect_uri: c.redirect_uri,
            client_id: c.client_id,
            pkce_verifier: None,
            resource: None,
            token_endpoint: c.token_endpoint,
            scopes: c.scopes,
            received_at_ms: ms(c.received_at_ms),
            expires_at_ms: c.expires_at_ms.map(ms),
            extra: Value::Null,
        }
    }
}

fn ms(v: f64) -> u64 {
    if v.is_finite() && v > 0.0 {
        v as u64
    } else {
        0
    }
}

// The argument objects read by hand (the core's `json::object`: no derived visitor in the
// package), with the names the `serde` attributes above give them (camelCase).

impl<'de> Deserialize<'de> for McpSignInOptions {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        workboard_core::json::object(d, "MCP sign-in options", |f| {
            Ok(McpSignInOptions {
                server_url: f.opt("serverUrl")?,
                redirect_uri: f.req("redirectUri")?,
                client_id: f.opt("clientId")?,
                client_secret: f.opt("clientSecret")?,
                client_metadata_url: f.opt("clientMetadataUrl")?,
                www_authenticate: f.opt("wwwAuthenticate")?,
                workboard_environment: f.opt("workboardEnvironment")?,
            })
        })
    }
}

impl<'de> Deserialize<'de> for V1SignInOptions {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        workboard_core::json::object(d, "v1 sign-in options", |f| {
            Ok(V1SignInOptions {
                environment: f.opt("environment")?,
                client_id: f.req("clientId")?,
                redirect_uri: f.req("redirectUri")?,
                scopes: f.or_default("scopes")?,
                json_code: f.or_default("jsonCode")?,
                client_hash: f.opt("clientHash")?,
            })
        })
    }
}

impl<'de> Deserialize<'de> for V1Code {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        workboard_core::json::object(d, "v1 code", |f| {
            Ok(V1Code {
                code: f.req("code")?,
                redirect_uri: f.req("redirectUri")?,
                client_id: f.req("clientId")?,
                token_endpoint: f.req("tokenEndpoint")?,
                scopes: f.or_default("scopes")?,
                received_at_ms: f.req("receivedAtMs")?,
                expires_at_ms: f.opt("expiresAtMs")?,
            })
        })
    }
}
