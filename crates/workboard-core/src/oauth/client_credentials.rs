//! The implementation behind [`crate::oauth::client_credentials`] (its docs say what it does).

use base64::Engine as _;
use sha2::Digest as _;

use crate::error::Error;
use crate::http::{HttpRequest, RequestId};
use crate::oauth::registration::{basic_auth_header, TokenEndpointAuth};
use crate::oauth::token::form_post;
use crate::secret::SecretString;

/// `client_assertion_type` of an RFC 7523 JWT client assertion.
pub const CLIENT_ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// Lifetime of a client assertion (`exp` − `iat`), in seconds.
pub const ASSERTION_LIFETIME_SECS: u64 = 300;
/// PEM input larger than this is refused (an RSA-4096 PKCS#8 key is about 3.3 KB).
pub const MAX_KEY_PEM_BYTES: usize = 16 * 1024;

/// The JWS algorithm of a client assertion, decided by the key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AssertionAlgorithm {
    /// ECDSA P-256 with SHA-256 (deterministic nonces, RFC 6979).
    Es256,
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    Rs256,
}

impl AssertionAlgorithm {
    /// The JWS `alg` name.
    pub fn as_str(&self) -> &'static str {
        match self {
            AssertionAlgorithm::Es256 => "ES256",
            AssertionAlgorithm::Rs256 => "RS256",
        }
    }
}

/// A private key that signs RFC 7523 client assertions (`private_key_jwt`): a PEM P-256 key
/// (PKCS#8 `PRIVATE KEY` or SEC1 `EC PRIVATE KEY`, signs ES256) or RSA key (PKCS#8 or
/// PKCS#1 `RSA PRIVATE KEY`, signs RS256). `Debug` shows only the algorithm.
///
/// Needs the core's `private-key-jwt` feature; without it [`AssertionKey::from_pem`] fails
/// with `invalid_input`.
#[derive(Clone, PartialEq, Eq)]
pub struct AssertionKey {
    pem: SecretString,
    alg: AssertionAlgorithm,
    kid: Option<String>,
}

impl std::fmt::Debug for AssertionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AssertionKey")
            .field("alg", &self.alg)
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

fn key_error(reason: &str) -> Error {
    Error::InvalidInput {
        what: "private key".into(),
        reason: reason.into(),
    }
}

impl AssertionKey {
    /// Parses a PEM private key and checks that it can sign.
    pub fn from_pem(pem: &str) -> Result<AssertionKey, Error> {
        if pem.len() > MAX_KEY_PEM_BYTES {
            return Err(key_error("the PEM is larger than 16 KiB"));
        }
        let alg = detect(pem.trim())?;
        Ok(AssertionKey {
            pem: SecretString::new(pem.trim()),
            alg,
            kid: None,
        })
    }

    /// Adds a `kid` header (the key's id in the client's JWKS), for servers that need it.
    pub fn with_kid(mut self, kid: impl Into<String>) -> AssertionKey {
        self.kid = Some(kid.into());
        self
    }

    /// The algorithm its assertions are signed with.
    pub fn algorithm(&self) -> AssertionAlgorithm {
        self.alg
    }

    /// The PEM (a secret: persisted only in the OAuth context, like a client secret).
    pub(crate) fn pem(&self) -> &SecretString {
        &self.pem
    }

    /// A signed client assertion for `client_id` at the authorization server `audience`
    /// (its issuer identifier, RFC 7523bis; the token endpoint when it has none), valid
    /// [`ASSERTION_LIFETIME_SECS`] from `now_ms`, with the unique `jti`.
    pub fn assertion(
        &self,
        client_id: &str,
        audience: &str,
        now_ms: u64,
        jti: &str,
    ) -> Result<SecretString, Error> {
        let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
        let mut header = serde_json::json!({"alg": self.alg.as_str(), "typ": "JWT"});
        if let Some(kid) = &self.kid {
            header["kid"] = serde_json::Value::String(kid.clone());
        }
        let iat = now_ms / 1000;
        let claims = serde_json::json!({
            "iss": client_id,
            "sub": client_id,
            "aud": audience,
            "iat": iat,
            "exp": iat.saturating_add(ASSERTION_LIFETIME_SECS),
            "jti": jti,
        });
        let signing_input = format!(
            "{}.{}",
            b64(header.to_string().as_bytes()),
            b64(claims.to_string().as_bytes())
        );
        let signature = sign(self.alg, &self.pem, signing_input.as_bytes())?;
        Ok(SecretString::new(format!(
            "{signing_input}.{}",
            b64(&signature)
        )))
    }
}

#[cfg(feature = "private-key-jwt")]
fn detect(pem: &str) -> Result<AssertionAlgorithm, Error> {
    use p256::pkcs8::DecodePrivateKey as _;
    use rsa::pkcs1::DecodeRsaPrivateKey as _;
    if pem.starts_with("-----BEGIN EC PRIVATE KEY-----") {
        return p256::SecretKey::from_sec1_pem(pem)
            .map(|_| AssertionAlgorithm::Es256)
            .map_err(|_| key_error("not a P-256 key in SEC1 PEM (only P-256 is supported)"));
    }
    if pem.starts_with("-----BEGIN RSA PRIVATE KEY-----") {
        return rsa::RsaPrivateKey::from_pkcs1_pem(pem)
            .map(|_| AssertionAlgorithm::Rs256)
            .map_err(|_| key_error("not a valid PKCS#1 RSA key"));
    }
    if pem.starts_with("-----BEGIN PRIVATE KEY-----") {
        if p256::SecretKey::from_pkcs8_pem(pem).is_ok() {
            return Ok(AssertionAlgorithm::Es256);
        }
        if rsa::RsaPrivateKey::from_pkcs8_pem(pem).is_ok() {
            return Ok(AssertionAlgorithm::Rs256);
        }
        return Err(key_error(
            "a PKCS#8 key that is neither P-256 nor RSA (or is damaged)",
        ));
    }
    Err(key_error(
        "expected an unencrypted PEM private key (PRIVATE KEY, EC PRIVATE KEY or RSA PRIVATE KEY)",
    ))
}

#[cfg(not(feature = "private-key-jwt"))]
fn detect(_pem: &str) -> Result<AssertionAlgorithm, Error> {
    Err(key_error(
        "private_key_jwt needs workboard-core's `private-key-jwt` feature, which this build leaves out",
    ))
}

#[cfg(feature = "private-key-jwt")]
fn sign(alg: AssertionAlgorithm, pem: &SecretString, msg: &[u8]) -> Result<Vec<u8>, Error> {
    use p256::pkcs8::DecodePrivateKey as _;
    use rsa::pkcs1::DecodeRsaPrivateKey as _;
    use rsa::signature::{SignatureEncoding as _, Signer as _};
    let pem = pem.expose();
    match alg {
        AssertionAlgorithm::Es256 => {
            let key = if pem.starts_with("-----BEGIN EC PRIVATE KEY-----") {
                p256::SecretKey::from_sec1_pem(pem)
            } else {
                p256::SecretKey::from_pkcs8_pem(pem).map_err(|_| p256::elliptic_curve::Error)
            }
            .map_err(|_| key_error("the P-256 key can no longer be read"))?;
            let signer = p256::ecdsa::SigningKey::from(key);
            let sig: p256::ecdsa::Signature = signer.sign(msg);
            Ok(sig.to_bytes().to_vec())
        }
        AssertionAlgorithm::Rs256 => {
            let key = if pem.starts_with("-----BEGIN RSA PRIVATE KEY-----") {
                rsa::RsaPrivateKey::from_pkcs1_pem(pem).ok()
            } else {
                rsa::RsaPrivateKey::from_pkcs8_pem(pem).ok()
            }
            .ok_or_else(|| key_error("the RSA key can no longer be read"))?;
            let signer = rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(key);
            let sig = signer
                .try_sign(msg)
                .map_err(|_| key_error("the RSA key cannot sign"))?;
            Ok(sig.to_vec())
        }
    }
}

#[cfg(not(feature = "private-key-jwt"))]
fn sign(_alg: AssertionAlgorithm, _pem: &SecretString, _msg: &[u8]) -> Result<Vec<u8>, Error> {
    detect("").map(|_| Vec::new())
}

/// How a service authenticates at the token endpoint in the client credentials grant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientAuthentication {
    /// `Authorization: Basic` with the client id and secret (RFC 6749 §2.3.1).
    ClientSecretBasic(SecretString),
    /// `client_id` and `client_secret` in the form.
    ClientSecretPost(SecretString),
    /// A JWT signed with the client's private key (RFC 7523 §2.2); nothing secret is sent.
    PrivateKeyJwt(AssertionKey),
}

impl ClientAuthentication {
    /// The RFC 7591 method name.
    pub fn method(&self) -> TokenEndpointAuth {
        match self {
            ClientAuthentication::ClientSecretBasic(_) => TokenEndpointAuth::ClientSecretBasic,
            ClientAuthentication::ClientSecretPost(_) => TokenEndpointAuth::ClientSecretPost,
            ClientAuthentication::PrivateKeyJwt(_) => TokenEndpointAuth::PrivateKeyJwt,
        }
    }

    /// What the OAuth context keeps to run the grant again: the secret, or the key's PEM.
    pub(crate) fn credential(&self) -> SecretString {
        match self {
            ClientAuthentication::ClientSecretBasic(s)
            | ClientAuthentication::ClientSecretPost(s) => s.clone(),
            ClientAuthentication::PrivateKeyJwt(k) => k.pem().clone(),
        }
    }
}

/// What one client credentials token request needs.
pub(crate) struct GrantRequest<'a> {
    pub token_endpoint: &'a str,
    pub client_id: &'a str,
    pub method: TokenEndpointAuth,
    /// The secret, or the PEM for `private_key_jwt`.
    pub credential: Option<&'a SecretString>,
    pub scope: Option<&'a str>,
    pub resource: &'a str,
    /// The assertion's `aud`: the issuer (else the token endpoint).
    pub audience: &'a str,
    pub now_ms: u64,
    pub jti: &'a str,
}

/// `POST token_endpoint` with `grant_type=client_credentials`, `scope` (when chosen),
/// `resource` (RFC 8707) and the client authentication.
pub(crate) fn grant_request(id: RequestId, g: &GrantRequest<'_>) -> Result<HttpRequest, Error> {
    let mut form: Vec<(String, String)> = vec![("grant_type".into(), "client_credentials".into())];
    if let Some(s) = g.scope.filter(|s| !s.trim().is_empty()) {
        form.push(("scope".into(), s.to_string()));
    }
    form.push(("resource".into(), g.resource.to_string()));
    let mut headers = Vec::new();
    let missing = || Error::InvalidInput {
        what: "client credentials".into(),
        reason: "no secret or private key".into(),
    };
    match g.method {
        TokenEndpointAuth::ClientSecretBasic => {
            let secret = g.credential.ok_or_else(missing)?;
            headers.push((
                "Authorization".to_string(),
                basic_auth_header(g.client_id, secret).expose().to_string(),
            ));
        }
        TokenEndpointAuth::ClientSecretPost => {
            let secret = g.credential.ok_or_else(missing)?;
            form.push(("client_id".into(), g.client_id.to_string()));
            form.push(("client_secret".into(), secret.expose().to_string()));
        }
        TokenEndpointAuth::PrivateKeyJwt => {
            let key = AssertionKey::from_pem(g.credential.ok_or_else(missing)?.expose())?;
            let assertion = key.assertion(g.client_id, g.audience, g.now_ms, g.jti)?;
            form.push(("client_id".into(), g.client_id.to_string()));
            form.push(("client_assertion_type".into(), CLIENT_ASSERTION_TYPE.into()));
            form.push(("client_assertion".into(), assertion.expose().to_string()));
        }
        TokenEndpointAuth::None => {
            return Err(Error::InvalidInput {
                what: "client credentials".into(),
                reason: "the client credentials grant needs client authentication".into(),
            })
        }
    }
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    Ok(form_post(id, g.token_endpoint, &pairs, &headers))
}

/// A `jti` for a grant re-run without host entropy (a refresh inside the connection):
/// SHA-256 over the previous access token, the time and the client id — unique per refresh
/// (each refresh replaces the token) and unguessable without the token.
pub(crate) fn derived_jti(previous_token: &SecretString, now_ms: u64, client_id: &str) -> String {
    let mut h = sha2::Sha256::new();
    h.update(previous_token.expose().as_bytes());
    h.update(now_ms.to_be_bytes());
    h.update(client_id.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&h.finalize()[..18])
}
