//! The implementation behind [`crate::oauth::pending`] (its docs say what it does). Items
//! not re-exported there are internal.

use std::fmt;

use serde::{Deserialize, Serialize};
use url::Url;

use crate::credentials::Dialect;
use crate::error::{check_redirect_uri, Error};
use crate::random::{random_token, Entropy};
use crate::secret::SecretString;

/// Lifetime of a WorkBoard v1 authorization code (and so of a v1 pending authorization):
/// 5 minutes.
pub const V1_CODE_LIFETIME_MS: u64 = 5 * 60 * 1000;

/// Default lifetime of an OAuth 2 pending authorization: 10 minutes (the maximum code lifetime
/// RFC 6749 §4.1.2 recommends).
pub const DEFAULT_OAUTH2_LIFETIME_MS: u64 = 10 * 60 * 1000;

/// Largest redirect input [`PendingAuthorization::handle_redirect`] accepts: 64 KiB.
pub const MAX_REDIRECT_INPUT_BYTES: usize = 64 * 1024;

/// Random bytes in a generated `state` (base64url: 43 characters).
pub const STATE_BYTES: usize = 32;

const WHAT: &str = "authorization response";

/// An authorization the user is completing at the authorization server.
///
/// `Debug` shows no secret (`state`, PKCE verifier). Serde round-trips everything (the app
/// persists it while the user is away; store it like a credential).
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct PendingAuthorization {
    /// Which OAuth dialect started it.
    pub dialect: Dialect,
    /// The `state` sent in the authorize URL (32 random bytes, base64url).
    pub state: SecretString,
    /// When it started (unix ms).
    pub created_at_ms: u64,
    /// When it expires (unix ms): refused at and after this instant.
    pub expires_at_ms: u64,
    /// The redirect URI exactly as sent in the authorize URL.
    pub redirect_uri: String,
    /// The client id.
    pub client_id: String,
    /// PKCE code verifier (OAuth 2), sent with the code exchange.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pkce_verifier: Option<SecretString>,
    /// RFC 8707 resource indicator, sent with the code exchange.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// RFC 9207: the issuer recorded from the authorization server's validated metadata. An
    /// `iss` in the response must equal it exactly (no normalization); when
    /// [`PendingAuthorization::iss_optional`] is false, `iss` must also be present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_issuer: Option<String>,
    /// RFC 9207 with a server that does not advertise
    /// `authorization_response_iss_parameter_supported`: a response without `iss` proceeds
    /// (one with `iss` is still compared). `false` (also in JSON saved before this field
    /// existed): `iss` is required whenever an issuer is expected.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub iss_optional: bool,
    /// Where the code is exchanged.
    pub token_endpoint: String,
    /// Scopes requested.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Set once a redirect carrying the right `state` was handled (single use).
    #[serde(default)]
    pub(crate) completed: bool,
    /// Opaque data for the flow that created it (the MCP flow keeps its context here).
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub extra: serde_json::Value,
}

/// What to start a pending authorization with (see [`PendingAuthorization::new`]).
#[derive(Clone, Debug)]
pub struct PendingParams {
    /// Which OAuth dialect.
    pub dialect: Dialect,
    /// The client id.
    pub client_id: String,
    /// The redirect URI exactly as it goes into the authorize URL.
    pub redirect_uri: String,
    /// Where the code will be exchanged.
    pub token_endpoint: String,
    /// Scopes requested.
    pub scopes: Vec<String>,
    /// PKCE code verifier, if PKCE is used.
    pub pkce_verifier: Option<SecretString>,
    /// RFC 8707 resource indicator.
    pub resource: Option<String>,
    /// RFC 9207 expected issuer.
    pub expected_issuer: Option<String>,
    /// Whether a response may omit `iss` (the server did not advertise it); a present `iss`
    /// is compared either way.
    pub iss_optional: bool,
    /// Lifetime in ms; `None`: [`V1_CODE_LIFETIME_MS`] for v1, [`DEFAULT_OAUTH2_LIFETIME_MS`]
    /// for OAuth 2.
    pub lifetime_ms: Option<u64>,
    /// Opaque data kept with the pending authorization.
    pub extra: serde_json::Value,
}

impl PendingParams {
    /// Parameters with no PKCE, resource, issuer check or extra data, and the default lifetime.
    pub fn new(
        dialect: Dialect,
        client_id: impl Into<String>,
        redirect_uri: impl Into<String>,
        token_endpoint: impl Into<String>,
        scopes: Vec<String>,
    ) -> PendingParams {
        PendingParams {
            dialect,
            client_id: client_id.into(),
            redirect_uri: redirect_uri.into(),
            token_endpoint: token_endpoint.into(),
            scopes,
            pkce_verifier: None,
            resource: None,
            expected_issuer: None,
            iss_optional: false,
            lifetime_ms: None,
            extra: serde_json::Value::Null,
        }
    }
}

/// An authorization code received on the redirect, with everything its exchange needs.
///
/// `Debug` shows no secret (code, PKCE verifier).
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct AuthorizationCode {
    /// The code.
    pub code: SecretString,
    /// Which dialect issued it.
    pub dialect: Dialect,
    /// The redirect URI used in the authorize URL (sent again with the exchange).
    pub redirect_uri: String,
    /// The client id.
    pub client_id: String,
    /// PKCE code verifier, if PKCE was used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pkce_verifier: Option<SecretString>,
    /// RFC 8707 resource indicator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// Where to exchange it.
    pub token_endpoint: String,
    /// Scopes requested.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// When the redirect was handled (unix ms).
    pub received_at_ms: u64,
    /// When the code expires (unix ms), if the dialect documents a lifetime: v1 codes are
    /// valid 5 minutes from the redirect. `None` for OAuth 2 (the server decides).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at_ms: Option<u64>,
    /// The pending authorization's opaque data.
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub extra: serde_json::Value,
}

// Read by hand (`json::object`: serde's derive would compile a visitor per type), as the
// `Serialize` derives above write them (`tests/json_readers.rs`).

impl<'de> Deserialize<'de> for PendingAuthorization {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        crate::json::object(d, "struct PendingAuthorization", |f| {
            Ok(PendingAuthorization {
                dialect: f.req("dialect")?,
                state: f.req("state")?,
                created_at_ms: f.req("created_at_ms")?,
                expires_at_ms: f.req("expires_at_ms")?,
                redirect_uri: f.req("redirect_uri")?,
                client_id: f.req("client_id")?,
                pkce_verifier: f.opt("pkce_verifier")?,
                resource: f.opt("resource")?,
                expected_issuer: f.opt("expected_issuer")?,
                iss_optional: f.or_default("iss_optional")?,
                token_endpoint: f.req("token_endpoint")?,
                scopes: f.or_default("scopes")?,
                completed: f.or_default("completed")?,
                extra: f.or_default("extra")?,
            })
        })
    }
}

impl<'de> Deserialize<'de> for AuthorizationCode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        crate::json::object(d, "struct AuthorizationCode", |f| {
            Ok(AuthorizationCode {
                code: f.req("code")?,
                dialect: f.req("dialect")?,
                redirect_uri: f.req("redirect_uri")?,
                client_id: f.req("client_id")?,
                pkce_verifier: f.opt("pkce_verifier")?,
                resource: f.opt("resource")?,
                token_endpoint: f.req("token_endpoint")?,
                scopes: f.or_default("scopes")?,
                received_at_ms: f.req("received_at_ms")?,
                expires_at_ms: f.opt("expires_at_ms")?,
                extra: f.or_default("extra")?,
            })
        })
    }
}

impl AuthorizationCode {
    /// `Ok` while the code may still be exchanged at `now_ms`; otherwise
    /// [`Error::AuthorizationExpired`] (nothing should be sent).
    pub fn check_fresh(&self, now_ms: u64) -> Result<(), Error> {
        match self.expires_at_ms {
            Some(exp) if now_ms >= exp => Err(Error::AuthorizationExpired {
                age_secs: now_ms.saturating_sub(self.received_at_ms) / 1000,
                limit_secs: exp.saturating_sub(self.received_at_ms) / 1000,
            }),
            _ => Ok(()),
        }
    }
}

impl PendingAuthorization {
    /// Starts a pending authorization with a fresh random `state` (32 bytes from `entropy`).
    ///
    /// Fails with [`Error::InvalidInput`] on an empty client id or zero lifetime, and with
    /// [`Error::InvalidUrl`] when the redirect URI or token endpoint is not an absolute URL.
    pub fn new(
        params: PendingParams,
        entropy: &mut dyn Entropy,
        now_ms: u64,
    ) -> Result<PendingAuthorization, Error> {
        if params.client_id.trim().is_empty() {
            return Err(Error::InvalidInput {
                what: "client_id".into(),
                reason: "must not be empty".into(),
            });
        }
        parse_absolute(&params.redirect_uri, "redirect_uri")?;
        parse_absolute(&params.token_endpoint, "token endpoint")?;
        let lifetime = params.lifetime_ms.unwrap_or(match params.dialect {
            Dialect::WorkboardV1 => V1_CODE_LIFETIME_MS,
            Dialect::OAuth2 => DEFAULT_OAUTH2_LIFETIME_MS,
        });
        if lifetime == 0 {
            return Err(Error::InvalidInput {
                what: "pending authorization lifetime".into(),
                reason: "must be positive".into(),
            });
        }
        Ok(PendingAuthorization {
            dialect: params.dialect,
            state: SecretString::new(random_token(entropy, STATE_BYTES)),
            created_at_ms: now_ms,
            expires_at_ms: now_ms.saturating_add(lifetime),
            redirect_uri: params.redirect_uri,
            client_id: params.client_id,
            pkce_verifier: params.pkce_verifier,
            resource: params.resource,
            expected_issuer: params.expected_issuer,
            iss_optional: params.iss_optional,
            token_endpoint: params.token_endpoint,
            scopes: params.scopes,
            completed: false,
            extra: params.extra,
        })
    }

    /// A WorkBoard v1 pending authorization (5-minute lifetime, no PKCE).
    pub fn new_v1(
        client_id: impl Into<String>,
        redirect_uri: impl Into<String>,
        token_endpoint: impl Into<String>,
        scopes: Vec<String>,
        entropy: &mut dyn Entropy,
        now_ms: u64,
    ) -> Result<PendingAuthorization, Error> {
        let params = PendingParams::new(
            Dialect::WorkboardV1,
            client_id,
            redirect_uri,
            token_endpoint,
            scopes,
        );
        PendingAuthorization::new(params, entropy, now_ms)
    }

    /// Whether a redirect with its `state` was handled (single use: it is spent). Set only by
    /// [`PendingAuthorization::handle_redirect`]; kept across [`PendingAuthorization::to_json`].
    pub fn is_completed(&self) -> bool {
        self.completed
    }

    /// Whether it has expired at `now_ms`.
    pub fn is_expired(&self, now_ms: u64) -> bool {
        now_ms >= self.expires_at_ms
    }

    /// Whether a redirect may still complete it at `now_ms`: not completed and not expired.
    /// After [`PendingAuthorization::handle_redirect`] failed, `true` means the input was not
    /// the answer to this authorization (forged, stale, malformed) and the genuine one can
    /// still come: a redirect listener keeps waiting.
    pub fn is_awaiting_redirect(&self, now_ms: u64) -> bool {
        !self.completed && !self.is_expired(now_ms)
    }

    /// Serializes for storage while the user is away (contains the `state` and PKCE
    /// verifier: store it like a credential).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Parses what [`PendingAuthorization::to_json`] wrote. Bad JSON →
    /// [`Error::InvalidInput`].
    pub fn from_json(json: &str) -> Result<PendingAuthorization, Error> {
        if json.len() > MAX_REDIRECT_INPUT_BYTES {
            return Err(Error::InvalidInput {
                what: "saved pending authorization".into(),
                reason: "larger than 64 KiB".into(),
            });
        }
        crate::json::from_bytes(json.as_bytes()).map_err(|e| Error::InvalidInput {
            what: "saved pending authorization".into(),
            reason: format!(
                "not valid pending-authorization JSON ({})",
                json_error_kind(&e)
            ),
        })
    }

    /// Handles what the authorization server sent back: a full redirect URL, a query string
    /// (with or without a leading `?`), a fragment (with or without `#`), or a `json_code`
    /// JSON body (`{"success":true,"code":..,"state":..}` /
    /// `{"success":false,"error":..,"error_message":..,"state":..}`).
    ///
    /// Checks, in order: size (≤ 64 KiB, else [`Error::ResponseTooLarge`]), single use
    /// ([`Error::AuthorizationReused`]), expiry ([`Error::AuthorizationExpired`]), syntax and
    /// duplicate `code`/`state`/`error`/`iss` parameters ([`Error::InvalidResponse`]), the
    /// redirect URI when a full URL is given ([`Error::RedirectUriMismatch`]), `state`
    /// ([`Error::StateMissing`], [`Error::StateMismatch`]; constant-time). From here the
    /// authorization is consumed (see the module docs), then: RFC 9207 `iss` when an issuer
    /// is expected ([`Error::IssParameterMismatch`]: a present `iss` must equal it exactly,
    /// and an absent one is refused unless [`PendingAuthorization::iss_optional`]) — before
    /// an `error` is read, so a response from another server is never acted on — an `error`
    /// ([`Error::AuthorizationDenied`] with `error_message` (v1) or `error_description`), and
    /// finally the code ([`Error::CodeMissing`]).
    pub fn handle_redirect(
        &mut self,
        input: &str,
        now_ms: u64,
    ) -> Result<AuthorizationCode, Error> {
        if input.len() > MAX_REDIRECT_INPUT_BYTES {
            return Err(Error::ResponseTooLarge {
                what: WHAT.into(),
                limit: MAX_REDIRECT_INPUT_BYTES,
            });
        }
        if self.completed {
            return Err(Error::AuthorizationReused);
        }
        if self.is_expired(now_ms) {
            return Err(Error::AuthorizationExpired {
                age_secs: now_ms.saturating_sub(self.created_at_ms) / 1000,
                limit_secs: self.expires_at_ms.saturating_sub(self.created_at_ms) / 1000,
            });
        }
        let params = parse_authorization_response(input, &self.redirect_uri)?;
        let Some(state) = params.state.as_deref() else {
            return Err(Error::StateMissing);
        };
        if !self.state.ct_eq(state) {
            return Err(Error::StateMismatch);
        }
        self.completed = true;
        // Server-supplied text is shown to users: it must not echo the state or the code.
        let secrets = [Some(state), params.code.as_deref()];
        let safe = |text: &str, max: usize| short(&scrub(text, &secrets), max);
        // RFC 9207 §2.4 as MCP 2026-07-28 applies it: simple string comparison (no case
        // folding, port elision, trailing-slash or percent-encoding normalization).
        if let Some(expected) = &self.expected_issuer {
            match params.iss.as_deref() {
                Some(iss) if iss == expected => {}
                Some(iss) => {
                    return Err(Error::IssParameterMismatch {
                        expected: expected.clone(),
                        actual: Some(safe(iss, 200)),
                    })
                }
                None if self.iss_optional => {}
                None => {
                    return Err(Error::IssParameterMismatch {
                        expected: expected.clone(),
                        actual: None,
                    })
                }
            }
        }
        if params.error.is_some() || params.success == Some(false) {
            let error = params
                .error
                .as_deref()
                .map(|e| safe(e, 64))
                .unwrap_or_else(|| "unknown_error".into());
            let description = params
                .error_message
                .as_deref()
                .or(params.error_description.as_deref())
                .map(|d| safe(d, 300))
                .filter(|d| !d.is_empty());
            return Err(Error::AuthorizationDenied { error, description });
        }
        let code = match params.code {
            Some(c) if !c.is_empty() => c,
            _ => return Err(Error::CodeMissing),
        };
        Ok(AuthorizationCode {
            code: SecretString::new(code),
            dialect: self.dialect,
            redirect_uri: self.redirect_uri.clone(),
            client_id: self.client_id.clone(),
            pkce_verifier: self.pkce_verifier.clone(),
            resource: self.resource.clone(),
            token_endpoint: self.token_endpoint.clone(),
            scopes: self.scopes.clone(),
            received_at_ms: now_ms,
            expires_at_ms: match self.dialect {
                Dialect::WorkboardV1 => Some(now_ms.saturating_add(V1_CODE_LIFETIME_MS)),
                Dialect::OAuth2 => None,
            },
            extra: self.extra.clone(),
        })
    }
}

impl fmt::Debug for PendingAuthorization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PendingAuthorization")
            .field("dialect", &self.dialect)
            .field("state", &self.state)
            .field("created_at_ms", &self.created_at_ms)
            .field("expires_at_ms", &self.expires_at_ms)
            .field("redirect_uri", &self.redirect_uri)
            .field("client_id", &self.client_id)
            .field(
                "pkce_verifier",
                &self.pkce_verifier.as_ref().map(|_| "<redacted>"),
            )
            .field("resource", &self.resource)
            .field("expected_issuer", &self.expected_issuer)
            .field("token_endpoint", &self.token_endpoint)
            .field("scopes", &self.scopes)
            .field("completed", &self.completed)
            .field(
                "extra",
                &if self.extra.is_null() {
                    "none"
                } else {
                    "<opaque>"
                },
            )
            .finish()
    }
}

impl fmt::Debug for AuthorizationCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthorizationCode")
            .field("code", &self.code)
            .field("dialect", &self.dialect)
            .field("redirect_uri", &self.redirect_uri)
            .field("client_id", &self.client_id)
            .field(
                "pkce_verifier",
                &self.pkce_verifier.as_ref().map(|_| "<redacted>"),
            )
            .field("resource", &self.resource)
            .field("token_endpoint", &self.token_endpoint)
            .field("scopes", &self.scopes)
            .field("received_at_ms", &self.received_at_ms)
            .field("expires_at_ms", &self.expires_at_ms)
            .finish()
    }
}

/// The parameters of an authorization response, whatever form it came in (see
/// [`parse_authorization_response`]). `Debug` shows no code or state.
#[derive(Default, Clone, PartialEq, Eq)]
pub struct AuthorizationResponse {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
    error_message: Option<String>,
    iss: Option<String>,
    success: Option<bool>,
}

impl AuthorizationResponse {
    /// Whether a non-empty `code` is present.
    pub fn has_code(&self) -> bool {
        self.code.as_deref().is_some_and(|c| !c.is_empty())
    }

    /// Whether a `state` is present.
    pub fn has_state(&self) -> bool {
        self.state.is_some()
    }

    /// The `error` parameter, if any.
    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    /// `error_message` (v1) or `error_description` (OAuth 2), if any.
    pub fn error_text(&self) -> Option<&str> {
        self.error_message
            .as_deref()
            .or(self.error_description.as_deref())
    }

    /// The RFC 9207 `iss` parameter, if any.
    pub fn iss(&self) -> Option<&str> {
        self.iss.as_deref()
    }

    /// The `success` member of a `json_code` body, if any.
    pub fn success(&self) -> Option<bool> {
        self.success
    }

    fn set(&mut self, name: &str, value: String) -> Result<(), Error> {
        let slot = match name {
            "code" => &mut self.code,
            "state" => &mut self.state,
            "error" => &mut self.error,
            "error_description" => &mut self.error_description,
            "error_message" => &mut self.error_message,
            "iss" => &mut self.iss,
            _ => return Ok(()),
        };
        if slot.is_some() {
            return Err(Error::InvalidResponse {
                what: WHAT.into(),
                reason: format!("duplicate `{name}` parameter"),
            });
        }
        *slot = Some(value);
        Ok(())
    }

    fn from_form(form: &str) -> Result<AuthorizationResponse, Error> {
        let mut p = AuthorizationResponse::default();
        for (k, v) in url::form_urlencoded::parse(form.as_bytes()) {
            p.set(&k, v.into_owned())?;
        }
        Ok(p)
    }

    fn is_empty(&self) -> bool {
        self.code.is_none() && self.state.is_none() && self.error.is_none()
    }
}

/// Parses the input of [`PendingAuthorization::handle_redirect`] without checking it against
/// a pending authorization (a pure function, for fuzzing and diagnostics): size limit,
/// syntax, duplicate parameters, and — for a full URL — the redirect URI.
pub fn parse_authorization_response(
    input: &str,
    redirect_uri: &str,
) -> Result<AuthorizationResponse, Error> {
    if input.len() > MAX_REDIRECT_INPUT_BYTES {
        return Err(Error::ResponseTooLarge {
            what: WHAT.into(),
            limit: MAX_REDIRECT_INPUT_BYTES,
        });
    }
    let t = input.trim();
    if t.starts_with('{') {
        return parse_json_code(t);
    }
    if let Some(rest) = t.strip_prefix('?').or_else(|| t.strip_prefix('#')) {
        return AuthorizationResponse::from_form(rest);
    }
    let Ok(url) = Url::parse(t) else {
        return AuthorizationResponse::from_form(t);
    };
    check_same_endpoint(&url, redirect_uri)?;
    let from_query = AuthorizationResponse::from_form(url.query().unwrap_or(""))?;
    if !from_query.is_empty() {
        return Ok(from_query);
    }
    AuthorizationResponse::from_form(url.fragment().unwrap_or(""))
}

/// The redirect landed on `url`: its scheme, host, port and path must be the pending
/// redirect URI's (its query may carry more parameters than the registered URI's).
fn check_same_endpoint(url: &Url, redirect_uri: &str) -> Result<(), Error> {
    let strip = |u: &Url| {
        let mut u = u.clone();
        u.set_query(None);
        u.set_fragment(None);
        u.to_string()
    };
    let actual = strip(url);
    let expected = match Url::parse(redirect_uri) {
        Ok(u) => strip(&u),
        Err(_) => redirect_uri.to_string(),
    };
    check_redirect_uri(&expected, &actual)
}

impl fmt::Debug for AuthorizationResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redacted = |v: &Option<String>| v.as_ref().map(|_| "<redacted>");
        f.debug_struct("AuthorizationResponse")
            .field("code", &redacted(&self.code))
            .field("state", &redacted(&self.state))
            .field("error", &self.error)
            .field(
                "error_text",
                &self
                    .error_text()
                    .map(|t| scrub(t, &[self.code.as_deref(), self.state.as_deref()])),
            )
            .field("iss", &self.iss)
            .field("success", &self.success)
            .finish()
    }
}

/// A `json_code` body: an object whose values are strings (`success` a boolean).
fn parse_json_code(input: &str) -> Result<AuthorizationResponse, Error> {
    // Straight from the bytes, not through a `Value`: a repeated key must stay visible here.
    let pairs: JsonPairs =
        serde_json::from_slice(input.as_bytes()).map_err(|e| Error::InvalidResponse {
            what: WHAT.into(),
            reason: format!("not a JSON object ({})", json_error_kind(&e)),
        })?;
    let mut p = AuthorizationResponse::default();
    let mut seen_success = false;
    for (k, v) in pairs.0 {
        if k == "success" {
            if seen_success {
                return Err(Error::InvalidResponse {
                    what: WHAT.into(),
                    reason: "duplicate `success` field".into(),
                });
            }
            seen_success = true;
            p.success = match v {
                serde_json::Value::Bool(b) => Some(b),
                serde_json::Value::String(s) if s == "true" => Some(true),
                serde_json::Value::String(s) if s == "false" => Some(false),
                _ => {
                    return Err(Error::InvalidResponse {
                        what: WHAT.into(),
                        reason: "`success` is not a boolean".into(),
                    })
                }
            };
            continue;
        }
        match v {
            serde_json::Value::String(s) => p.set(&k, s)?,
            serde_json::Value::Null => {}
            _ if matches!(k.as_str(), "code" | "state" | "error" | "iss") => {
                return Err(Error::InvalidResponse {
                    what: WHAT.into(),
                    reason: format!("`{}` is not a string", short(&k, 32)),
                })
            }
            _ => {}
        }
    }
    Ok(p)
}

/// A JSON object as its key/value pairs in order, duplicates kept (serde_json's map would
/// silently keep only the last one).
struct JsonPairs(Vec<(String, serde_json::Value)>);

impl<'de> Deserialize<'de> for JsonPairs {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = JsonPairs;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<JsonPairs, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, serde_json::Value>()? {
                    out.push((k, v));
                }
                Ok(JsonPairs(out))
            }
            // Anything but an object: refused without serde's `invalid type` message, whose
            // printing of the value links float formatting into the WebAssembly build
            // (`deserialize_any` below, not `deserialize_map`, for the same reason).
            fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<JsonPairs, E> {
                Err(not_an_object())
            }
            fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<JsonPairs, E> {
                Err(not_an_object())
            }
            fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<JsonPairs, E> {
                Err(not_an_object())
            }
            fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<JsonPairs, E> {
                Err(not_an_object())
            }
            fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<JsonPairs, E> {
                Err(not_an_object())
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<JsonPairs, E> {
                Err(not_an_object())
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, _: A) -> Result<JsonPairs, A::Error> {
                Err(not_an_object())
            }
        }
        fn not_an_object<E: serde::de::Error>() -> E {
            E::custom("invalid type: expected a JSON object")
        }
        d.deserialize_any(V)
    }
}

fn parse_absolute(raw: &str, what: &str) -> Result<Url, Error> {
    Url::parse(raw).map_err(|e| Error::InvalidUrl {
        what: what.into(),
        reason: e.to_string(),
    })
}

/// A server- or attacker-supplied string made safe to show: control characters dropped,
/// cut to `max` characters.
pub(crate) fn short(s: &str, max: usize) -> String {
    let mut out: String = s.chars().filter(|c| !c.is_control()).take(max).collect();
    if s.chars().filter(|c| !c.is_control()).count() > max {
        out.push('…');
    }
    out
}

/// `text` with every occurrence of the (non-empty) `secrets` replaced by `<redacted>`.
pub(crate) fn scrub(text: &str, secrets: &[Option<&str>]) -> String {
    let present: Vec<&str> = secrets.iter().flatten().copied().collect();
    crate::untrusted::scrub(text, &present)
}

/// A short name for why JSON did not parse.
pub(crate) fn json_error_kind(e: &serde_json::Error) -> &'static str {
    match e.classify() {
        serde_json::error::Category::Io => "I/O error",
        serde_json::error::Category::Syntax => "syntax error",
        serde_json::error::Category::Data => "wrong shape",
        serde_json::error::Category::Eof => "truncated",
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::random::SeededEntropy;

    const T0: u64 = 1_764_000_000_000;

    fn pending() -> PendingAuthorization {
        let mut e = SeededEntropy::new([1; 32]);
        PendingAuthorization::new_v1(
            "cid",
            "https://app.example/cb",
            "https://www.myworkboard.com/wb/oauth/token",
            vec!["all".into()],
            &mut e,
            T0,
        )
        .unwrap()
    }

    #[test]
    fn accepts_url_query_fragment_and_json() {
        for form in [
            "https://app.example/cb?code=C1&state={S}",
            "?code=C1&state={S}",
            "code=C1&state={S}",
            "#code=C1&state={S}",
            "https://app.example/cb#code=C1&state={S}",
            r#"{"success":true,"code":"C1","state":"{S}"}"#,
        ] {
            let mut p = pending();
            let input = form.replace("{S}", p.state.expose());
            let code = p.handle_redirect(&input, T0 + 1).unwrap();
            assert_eq!(code.code.expose(), "C1", "{form}");
            assert_eq!(code.expires_at_ms, Some(T0 + 1 + V1_CODE_LIFETIME_MS));
            assert!(p.completed);
        }
    }

    #[test]
    fn forged_state_does_not_consume() {
        let mut p = pending();
        assert_eq!(
            p.handle_redirect("code=x&state=forged", T0).unwrap_err(),
            Error::StateMismatch
        );
        assert_eq!(
            p.handle_redirect("code=x", T0).unwrap_err(),
            Error::StateMissing
        );
        let dup = format!("code=x&state={0}&state={0}", p.state.expose());
        assert_eq!(
            p.handle_redirect(&dup, T0).unwrap_err().code(),
            "invalid_response"
        );
        assert!(!p.completed);
        assert!(p.is_awaiting_redirect(T0));
        let ok = format!("code=x&state={}", p.state.expose());
        assert!(p.handle_redirect(&ok, T0).is_ok());
        assert!(!p.is_awaiting_redirect(T0));
        assert_eq!(
            p.handle_redirect(&ok, T0).unwrap_err(),
            Error::AuthorizationReused
        );
    }

    #[test]
    fn awaiting_redirect_ends_with_a_matching_error_redirect_or_expiry() {
        let mut p = pending();
        let declined = format!("error=access_denied&state={}", p.state.expose());
        assert_eq!(
            p.handle_redirect(&declined, T0).unwrap_err().code(),
            "authorization_denied"
        );
        assert!(!p.is_awaiting_redirect(T0));
        let p = pending();
        assert!(p.is_awaiting_redirect(T0 + V1_CODE_LIFETIME_MS - 1));
        assert!(!p.is_awaiting_redirect(T0 + V1_CODE_LIFETIME_MS));
    }

    #[test]
    fn parsed_response_debug_is_redacted() {
        let r = parse_authorization_response(
            "code=CODE123&state=STATE456&error=e&error_message=bad+CODE123",
            "https://app.example/cb",
        )
        .unwrap();
        assert!(r.has_code() && r.has_state());
        assert_eq!(r.error(), Some("e"));
        let dbg = format!("{r:?}");
        assert!(
            !dbg.contains("CODE123") && !dbg.contains("STATE456"),
            "{dbg}"
        );
    }

    #[test]
    fn json_roundtrip_and_redacted_debug() {
        let p = pending();
        let back = PendingAuthorization::from_json(&p.to_json()).unwrap();
        assert_eq!(back, p);
        assert!(!format!("{p:?}").contains(p.state.expose()));
        assert_eq!(
            PendingAuthorization::from_json("{\"dialect\":")
                .unwrap_err()
                .code(),
            "invalid_input"
        );
    }
}
