//! The implementation behind [`crate::oauth::registration`] (its docs say what it does). Items
//! not re-exported there are internal.

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use url::Url;

use crate::error::Error;
use crate::http::{HttpRequest, HttpResponse, Method, RequestId};
use crate::oauth::metadata::{parse_url, short, AuthorizationServerMetadata};
use crate::secret::SecretString;

/// Registration responses larger than this are refused.
pub const MAX_REGISTRATION_BYTES: usize = 64 * 1024;

/// How the client authenticates at the token (and revocation) endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenEndpointAuth {
    /// Public client: `client_id` in the form, no secret.
    None,
    /// `Authorization: Basic` with the form-urlencoded id and secret.
    ClientSecretBasic,
    /// `client_id` and `client_secret` in the form body.
    ClientSecretPost,
    /// An RFC 7523 JWT assertion signed with the client's private key (the client
    /// credentials grant only; the key never leaves the client).
    PrivateKeyJwt,
}

impl TokenEndpointAuth {
    /// The RFC 7591 name.
    pub fn as_str(&self) -> &'static str {
        match self {
            TokenEndpointAuth::None => "none",
            TokenEndpointAuth::ClientSecretBasic => "client_secret_basic",
            TokenEndpointAuth::ClientSecretPost => "client_secret_post",
            TokenEndpointAuth::PrivateKeyJwt => "private_key_jwt",
        }
    }

    /// Parses an RFC 7591 name this SDK implements.
    pub fn from_name(s: &str) -> Option<TokenEndpointAuth> {
        match s {
            "none" => Some(TokenEndpointAuth::None),
            "client_secret_basic" => Some(TokenEndpointAuth::ClientSecretBasic),
            "client_secret_post" => Some(TokenEndpointAuth::ClientSecretPost),
            "private_key_jwt" => Some(TokenEndpointAuth::PrivateKeyJwt),
            _ => None,
        }
    }
}

/// Chooses the token endpoint auth method from `token_endpoint_auth_methods_supported`
/// (absent means `["client_secret_basic"]`, RFC 8414 §2).
///
/// With a secret: `client_secret_basic` if supported, else `client_secret_post`, else `none`
/// if supported (the secret is then not sent), else an error. Without a secret: `none`.
pub fn choose_auth_method(
    supported: Option<&[String]>,
    has_secret: bool,
) -> Result<TokenEndpointAuth, Error> {
    if !has_secret {
        return Ok(TokenEndpointAuth::None);
    }
    let default = ["client_secret_basic".to_string()];
    let list = supported.unwrap_or(&default);
    let has = |m: &str| list.iter().any(|x| x == m);
    if has("client_secret_basic") {
        return Ok(TokenEndpointAuth::ClientSecretBasic);
    }
    if has("client_secret_post") {
        return Ok(TokenEndpointAuth::ClientSecretPost);
    }
    if has("none") {
        return Ok(TokenEndpointAuth::None);
    }
    Err(Error::Discovery {
        reason: format!(
            "the authorization server supports no client authentication this SDK implements (it lists: {})",
            short(&list.join(", "))
        ),
    })
}

/// `Basic base64(urlencode(id) ":" urlencode(secret))` (RFC 6749 §2.3.1).
pub fn basic_auth_header(client_id: &str, secret: &SecretString) -> SecretString {
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let raw = format!("{}:{}", enc(client_id), enc(secret.expose()));
    SecretString::new(format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(raw)
    ))
}

/// Adds client authentication to a token/revocation request: a header for basic, form
/// fields otherwise. A secret-based method without a secret degrades to `none`;
/// `private_key_jwt` (whose "secret" is the private key) sends `client_id` only here — the
/// client credentials grant signs its own assertion.
pub fn apply_client_auth(
    auth: TokenEndpointAuth,
    client_id: &str,
    secret: Option<&SecretString>,
    headers: &mut Vec<(String, String)>,
    form: &mut Vec<(String, String)>,
) {
    match (auth, secret) {
        (TokenEndpointAuth::ClientSecretBasic, Some(s)) => {
            headers.push((
                "Authorization".into(),
                basic_auth_header(client_id, s).expose().to_string(),
            ));
        }
        (TokenEndpointAuth::ClientSecretPost, Some(s)) => {
            form.push(("client_id".into(), client_id.into()));
            form.push(("client_secret".into(), s.expose().into()));
        }
        _ => form.push(("client_id".into(), client_id.into())),
    }
}

/// What the application knows about its client.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ClientConfig {
    /// Pre-registered client id (e.g. a WorkBoard app's Client ID).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// Its secret (WorkBoard's Client Hash). Only for confidential clients on a server.
    /// Sent only to a token endpoint on a WorkBoard host of the flow's
    /// [`crate::oauth::metadata::IssuerPolicy`] (US, EU, the configured environment), or to
    /// [`ClientConfig::client_secret_for`]: the flow fails with
    /// [`Error::ClientSecretNotForServer`] before anything is sent elsewhere.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<SecretString>,
    /// The token endpoint `client_secret` belongs to, when it is not WorkBoard's (named
    /// explicitly by the user).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret_for: Option<String>,
    /// The app (its user) gave `client_secret` for this very server: it may also go to a token
    /// endpoint on the MCP server's own host. Leave it off for a secret that may be set for
    /// another server (such as WorkBoard's Client Hash in the environment).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub client_secret_for_server_host: bool,
    /// An https URL of this app's client ID metadata document, used as `client_id` where the
    /// authorization server supports CIMD.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_metadata_url: Option<String>,
    /// The redirect URI (exact, as registered).
    pub redirect_uri: String,
    /// `client_name` for dynamic registration.
    #[serde(default = "default_client_name")]
    pub client_name: String,
    /// The OpenID Connect `application_type` sent in dynamic registration; `None`: derived
    /// from the redirect URI ([`ApplicationType::for_redirect_uri`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application_type: Option<ApplicationType>,
}

/// The OpenID Connect Dynamic Client Registration `application_type`, which MCP clients must
/// send (MCP 2026-07-28, client registration): an authorization server that implements OIDC
/// defaults a registration without it to `web` and may then refuse a loopback redirect URI.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApplicationType {
    /// Desktop and mobile apps, CLI tools, web apps served from `localhost`.
    Native,
    /// Browser apps served from a non-local host.
    Web,
}

impl ApplicationType {
    /// The registration value (`native` or `web`).
    pub fn as_str(&self) -> &'static str {
        match self {
            ApplicationType::Native => "native",
            ApplicationType::Web => "web",
        }
    }

    /// What the redirect URI says about the app: a loopback URI (`http://127.0.0.1:…`,
    /// `localhost`, `[::1]`; RFC 8252 §7.3) or a private-use scheme (`com.example.app:/cb`,
    /// RFC 8252 §7.1) is a native app's; an `https` URI on any other host is a web app's.
    /// Unparseable input counts as native (the flow refuses it before registering anyway).
    pub fn for_redirect_uri(redirect_uri: &str) -> ApplicationType {
        match Url::parse(redirect_uri.trim()) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && !crate::env::is_loopback(&u) => {
                ApplicationType::Web
            }
            _ => ApplicationType::Native,
        }
    }
}

impl ClientConfig {
    /// The `application_type` this client registers with: the configured one, else the
    /// redirect URI's.
    pub fn effective_application_type(&self) -> ApplicationType {
        self.application_type
            .unwrap_or_else(|| ApplicationType::for_redirect_uri(&self.redirect_uri))
    }
}

fn default_client_name() -> String {
    "workboard-connect".into()
}

/// Where the client identity came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdentitySource {
    /// Given by the application.
    PreRegistered,
    /// A client ID metadata document URL.
    MetadataDocument,
    /// Registered dynamically (RFC 7591).
    DynamicRegistration,
    /// A service's own credentials for the client credentials grant (MCP extension
    /// `io.modelcontextprotocol/oauth-client-credentials`): its tokens are renewed by
    /// running the grant again.
    ClientCredentials,
}

/// A client identity ready for use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientIdentity {
    /// `client_id`.
    pub client_id: String,
    /// Secret, if confidential.
    pub client_secret: Option<SecretString>,
    /// Where it came from.
    pub source: IdentitySource,
    /// Auth method the registration response named, if any.
    pub registered_auth_method: Option<TokenEndpointAuth>,
}

/// The outcome of [`plan_identity`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IdentityPlan {
    /// Use this identity.
    Ready(ClientIdentity),
    /// Register dynamically at this endpoint first.
    Register(Url),
}

/// Chooses the client identity: pre-registered, else CIMD (if the server supports it and the
/// app supplied an https URL), else dynamic registration (if there is an endpoint), else
/// [`Error::NoClientIdentity`].
pub fn plan_identity(
    cfg: &ClientConfig,
    metadata: Option<&AuthorizationServerMetadata>,
    registration_endpoint: Option<&Url>,
) -> Result<IdentityPlan, Error> {
    if let Some(id) = cfg
        .client_id
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        return Ok(IdentityPlan::Ready(ClientIdentity {
            client_id: id.to_string(),
            client_secret: cfg.client_secret.clone().filter(|s| !s.is_empty()),
            source: IdentitySource::PreRegistered,
            registered_auth_method: None,
        }));
    }
    let cimd_supported = metadata.is_some_and(AuthorizationServerMetadata::supports_cimd);
    if let (true, Some(raw)) = (cimd_supported, cfg.client_metadata_url.as_deref()) {
        let u = parse_url(raw, "client ID metadata document URL")?;
        if u.scheme() != "https" || u.path().trim_end_matches('/').is_empty() {
            return Err(Error::InvalidUrl {
                what: "client ID metadata document URL".into(),
                reason: "must be an https URL with a path".into(),
            });
        }
        return Ok(IdentityPlan::Ready(ClientIdentity {
            client_id: u.to_string(),
            client_secret: None,
            source: IdentitySource::MetadataDocument,
            registered_auth_method: None,
        }));
    }
    if let Some(ep) = registration_endpoint {
        return Ok(IdentityPlan::Register(ep.clone()));
    }
    let mut reason = String::from("no client_id was given");
    if cfg.client_metadata_url.is_some() {
        reason.push_str(", the authorization server does not support client ID metadata documents");
    } else if cimd_supported {
        reason
            .push_str(", no client ID metadata document URL was given (the server supports them)");
    }
    reason.push_str(" and the authorization server has no registration endpoint");
    Err(Error::NoClientIdentity { reason })
}

/// The RFC 7591 registration request body (field order is fixed, so transcripts are stable
/// whatever serde_json features the build enables).
#[derive(Serialize)]
struct RegistrationRequestBody<'a> {
    redirect_uris: [&'a str; 1],
    client_name: &'a str,
    application_type: &'static str,
    grant_types: [&'static str; 2],
    response_types: [&'static str; 1],
    token_endpoint_auth_method: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<&'a str>,
}

/// The RFC 7591 registration request for a public client: JSON with `redirect_uris`,
/// `client_name`, `application_type` ([`ClientConfig::effective_application_type`]),
/// `grant_types` (authorization_code, refresh_token), `response_types` (code),
/// `token_endpoint_auth_method` `none`, and `scope` when one was chosen.
pub fn registration_request(
    id: RequestId,
    endpoint: &Url,
    cfg: &ClientConfig,
    scope: Option<&str>,
) -> HttpRequest {
    let body = RegistrationRequestBody {
        redirect_uris: [&cfg.redirect_uri],
        client_name: &cfg.client_name,
        application_type: cfg.effective_application_type().as_str(),
        grant_types: ["authorization_code", "refresh_token"],
        response_types: ["code"],
        token_endpoint_auth_method: "none",
        scope,
    };
    HttpRequest {
        id,
        method: Method::Post,
        url: endpoint.to_string(),
        headers: vec![
            ("Content-Type".into(), "application/json".into()),
            ("Accept".into(), "application/json".into()),
        ],
        body: serde_json::to_vec(&body).unwrap_or_default(),
    }
}

/// The fields of a registration response this SDK reads (read by hand: `json::object`).
struct RegistrationBody {
    client_id: Option<String>,
    client_secret: Option<String>,
    token_endpoint_auth_method: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

impl<'de> Deserialize<'de> for RegistrationBody {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        crate::json::object(d, "struct RegistrationBody", |f| {
            Ok(RegistrationBody {
                client_id: f.opt("client_id")?,
                client_secret: f.opt("client_secret")?,
                token_endpoint_auth_method: f.opt("token_endpoint_auth_method")?,
                error: f.opt("error")?,
                error_description: f.opt("error_description")?,
            })
        })
    }
}

/// Parses the registration response (201/200 with `client_id`; errors per RFC 7591 §3.2.2).
pub fn parse_registration_response(resp: &HttpResponse) -> Result<ClientIdentity, Error> {
    parse_registration_response_for(resp, None)
}

/// [`parse_registration_response`], naming in a refusal the `application_type` that was
/// registered (an OIDC server may refuse a redirect URI for it).
pub fn parse_registration_response_for(
    resp: &HttpResponse,
    application_type: Option<ApplicationType>,
) -> Result<ClientIdentity, Error> {
    let what = "client registration response";
    if resp.body.len() > MAX_REGISTRATION_BYTES {
        return Err(Error::ResponseTooLarge {
            what: what.into(),
            limit: MAX_REGISTRATION_BYTES,
        });
    }
    let parsed: Result<RegistrationBody, _> = crate::json::from_bytes(&resp.body);
    if !resp.is_success() {
        let (error, desc) = match &parsed {
            Ok(b) => (b.error.clone(), b.error_description.clone()),
            Err(_) => (None, None),
        };
        return Err(Error::NoClientIdentity {
            reason: format!(
                "dynamic client registration failed with HTTP {}{}{}{}",
                resp.status,
                error
                    .map(|e| format!(": {}", short(&e)))
                    .unwrap_or_default(),
                desc.map(|d| format!(" ({})", short(&d)))
                    .unwrap_or_default(),
                application_type
                    .map(|t| format!(" [registered as application_type `{}`]", t.as_str()))
                    .unwrap_or_default()
            ),
        });
    }
    let body = parsed.map_err(|e| Error::InvalidResponse {
        what: what.into(),
        reason: format!("not a registration JSON object ({})", e.classify_str()),
    })?;
    let client_id =
        body.client_id
            .filter(|s| !s.is_empty())
            .ok_or_else(|| Error::InvalidResponse {
                what: what.into(),
                reason: "`client_id` is missing".into(),
            })?;
    Ok(ClientIdentity {
        client_id,
        client_secret: body
            .client_secret
            .filter(|s| !s.is_empty())
            .map(SecretString::new),
        source: IdentitySource::DynamicRegistration,
        registered_auth_method: body
            .token_endpoint_auth_method
            .as_deref()
            .and_then(TokenEndpointAuth::from_name),
    })
}

trait ClassifyStr {
    fn classify_str(&self) -> &'static str;
}

impl ClassifyStr for serde_json::Error {
    fn classify_str(&self) -> &'static str {
        match self.classify() {
            serde_json::error::Category::Io => "I/O",
            serde_json::error::Category::Syntax => "syntax error",
            serde_json::error::Category::Data => "wrong shape",
            serde_json::error::Category::Eof => "truncated",
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;
    use serde_json::json;

    fn list(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn auth_method_choice() {
        assert_eq!(
            choose_auth_method(None, false).unwrap(),
            TokenEndpointAuth::None
        );
        assert_eq!(
            choose_auth_method(None, true).unwrap(),
            TokenEndpointAuth::ClientSecretBasic
        );
        let wb = list(&["client_secret_post"]);
        assert_eq!(
            choose_auth_method(Some(&wb), true).unwrap(),
            TokenEndpointAuth::ClientSecretPost
        );
        let both = list(&["client_secret_post", "client_secret_basic"]);
        assert_eq!(
            choose_auth_method(Some(&both), true).unwrap(),
            TokenEndpointAuth::ClientSecretBasic
        );
        assert_eq!(
            choose_auth_method(Some(&list(&["none"])), true).unwrap(),
            TokenEndpointAuth::None
        );
        let jwt = list(&["private_key_jwt"]);
        let e = choose_auth_method(Some(&jwt), true).unwrap_err();
        assert_eq!(e.code(), "discovery_failed");
        assert_eq!(
            choose_auth_method(Some(&jwt), false).unwrap(),
            TokenEndpointAuth::None
        );
    }

    #[test]
    fn basic_header_form_encodes_first() {
        // RFC 6749 §2.3.1: "a b" -> "a+b", ":" -> "%3A", then base64.
        let h = basic_auth_header("my client", &SecretString::new("p:w/ä"));
        let b64 = h.expose().strip_prefix("Basic ").unwrap();
        let raw = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap();
        assert_eq!(String::from_utf8(raw).unwrap(), "my+client:p%3Aw%2F%C3%A4");
    }

    #[test]
    fn apply_auth_variants() {
        let s = SecretString::new("sec");
        for (auth, secret, want_header, want_form) in [
            (TokenEndpointAuth::None, Some(&s), false, vec!["client_id"]),
            (
                TokenEndpointAuth::ClientSecretPost,
                Some(&s),
                false,
                vec!["client_id", "client_secret"],
            ),
            (TokenEndpointAuth::ClientSecretBasic, Some(&s), true, vec![]),
            (
                TokenEndpointAuth::ClientSecretBasic,
                None,
                false,
                vec!["client_id"],
            ),
        ] {
            let (mut h, mut f) = (vec![], vec![]);
            apply_client_auth(auth, "cid", secret, &mut h, &mut f);
            assert_eq!(!h.is_empty(), want_header);
            assert_eq!(
                f.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(),
                want_form
            );
        }
    }

    fn meta(cimd: bool, reg: bool) -> AuthorizationServerMetadata {
        AuthorizationServerMetadata {
            issuer: "https://a.example".into(),
            client_id_metadata_document_supported: Some(cimd),
            registration_endpoint: reg.then(|| "https://a.example/register".into()),
            ..Default::default()
        }
    }

    #[test]
    fn identity_order() {
        let reg = Url::parse("https://a.example/register").unwrap();
        let mut cfg = ClientConfig {
            redirect_uri: "http://127.0.0.1/cb".into(),
            ..Default::default()
        };
        // Nothing at all.
        let e = plan_identity(&cfg, Some(&meta(false, false)), None).unwrap_err();
        assert_eq!(e.code(), "no_client_identity");
        assert!(e.hint().is_some());
        // DCR.
        assert_eq!(
            plan_identity(&cfg, Some(&meta(false, true)), Some(&reg)).unwrap(),
            IdentityPlan::Register(reg.clone())
        );
        // CIMD beats DCR when supported and given.
        cfg.client_metadata_url = Some("https://app.example/client.json".into());
        match plan_identity(&cfg, Some(&meta(true, true)), Some(&reg)).unwrap() {
            IdentityPlan::Ready(c) => {
                assert_eq!(c.source, IdentitySource::MetadataDocument);
                assert_eq!(c.client_id, "https://app.example/client.json");
            }
            other => panic!("{other:?}"),
        }
        // CIMD given but unsupported: DCR.
        assert!(matches!(
            plan_identity(&cfg, Some(&meta(false, true)), Some(&reg)).unwrap(),
            IdentityPlan::Register(_)
        ));
        // Insecure CIMD URL refused.
        cfg.client_metadata_url = Some("http://app.example/client.json".into());
        assert_eq!(
            plan_identity(&cfg, Some(&meta(true, true)), Some(&reg))
                .unwrap_err()
                .code(),
            "invalid_url"
        );
        // Pre-registered beats everything.
        cfg.client_id = Some("cid".into());
        cfg.client_secret = Some("hash".into());
        match plan_identity(&cfg, Some(&meta(true, true)), Some(&reg)).unwrap() {
            IdentityPlan::Ready(c) => {
                assert_eq!(c.source, IdentitySource::PreRegistered);
                assert_eq!(c.client_secret.unwrap().expose(), "hash");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn application_type_follows_the_redirect_uri() {
        for (uri, want) in [
            ("http://127.0.0.1:8765/callback", "native"),
            ("http://localhost:3000/cb", "native"),
            ("http://[::1]:9/cb", "native"),
            ("com.example.app:/oauth2redirect", "native"),
            ("https://app.example.com/callback", "web"),
            ("https://LOCALHOST/cb", "native"),
        ] {
            let cfg = ClientConfig {
                redirect_uri: uri.into(),
                ..Default::default()
            };
            let req = registration_request(
                RequestId(1),
                &Url::parse("https://a.example/register").unwrap(),
                &cfg,
                None,
            );
            let v: serde_json::Value = serde_json::from_slice(&req.body).unwrap();
            assert_eq!(v["application_type"], want, "{uri}");
        }
        // The app may say what it is (a web app on a loopback development server).
        let cfg = ClientConfig {
            redirect_uri: "http://127.0.0.1:8765/callback".into(),
            application_type: Some(ApplicationType::Web),
            ..Default::default()
        };
        assert_eq!(cfg.effective_application_type(), ApplicationType::Web);
        // A refusal names what was registered (OIDC servers constrain redirect URIs by it).
        let e = parse_registration_response_for(
            &HttpResponse::json(400, &json!({"error": "invalid_redirect_uri"})),
            Some(ApplicationType::Native),
        )
        .unwrap_err();
        assert!(e.to_string().contains("application_type `native`"), "{e}");
    }

    #[test]
    fn registration_round_trip() {
        let cfg = ClientConfig {
            redirect_uri: "http://127.0.0.1:8765/callback".into(),
            client_name: "test app".into(),
            ..Default::default()
        };
        let req = registration_request(
            RequestId(1),
            &Url::parse("https://a.example/register").unwrap(),
            &cfg,
            Some("a b"),
        );
        let v: serde_json::Value = serde_json::from_slice(&req.body).unwrap();
        assert_eq!(
            v["redirect_uris"],
            json!(["http://127.0.0.1:8765/callback"])
        );
        assert_eq!(v["token_endpoint_auth_method"], "none");
        assert_eq!(
            v["grant_types"],
            json!(["authorization_code", "refresh_token"])
        );
        assert_eq!(v["response_types"], json!(["code"]));
        assert_eq!(v["scope"], "a b");
        // MCP 2026-07-28: a loopback redirect URI registers a native app.
        assert_eq!(v["application_type"], "native");
        let ok = parse_registration_response(&HttpResponse::json(
            201,
            &json!({"client_id": "dyn-1", "client_secret": "dyn-secret", "token_endpoint_auth_method": "client_secret_post"}),
        ))
        .unwrap();
        assert_eq!(ok.client_id, "dyn-1");
        assert_eq!(
            ok.registered_auth_method,
            Some(TokenEndpointAuth::ClientSecretPost)
        );
        assert!(!format!("{ok:?}").contains("dyn-secret"));
        let e = parse_registration_response(&HttpResponse::json(
            400,
            &json!({"error": "invalid_redirect_uri"}),
        ))
        .unwrap_err();
        assert_eq!(e.code(), "no_client_identity");
        assert!(e.to_string().contains("invalid_redirect_uri"));
        for bad in ["", "<html>", "{}", "{\"client_id\":5}"] {
            let e = parse_registration_response(&HttpResponse::new(201, vec![], bad)).unwrap_err();
            assert_eq!(e.code(), "invalid_response", "{bad}");
        }
    }
}
