use std::collections::VecDeque;

use serde::{Deserialize, Serialize};
use url::Url;

use crate::credentials::{Credentials, Dialect};
use crate::driver::SansIo;
use crate::env::{check_secure_url, is_loopback, Environment};
use crate::error::Error;
use crate::http::{HttpRequest, HttpResponse, Method, RequestId, TransportError};
use crate::oauth::pending::{short, AuthorizationCode, PendingAuthorization};
use crate::oauth::token::{form_post, oauth_error, parse_json_object, parse_token_response};
use crate::random::Entropy;
use crate::secret::SecretString;

/// What a WorkBoard v1 sign-in needs (everything but the Client Hash).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct V1Config {
    /// Where WorkBoard lives (US, EU or a custom base URL).
    pub environment: Environment,
    /// The Client ID of the app registered in WorkBoard.
    pub client_id: String,
    /// The App Redirect URI registered in WorkBoard, character for character (it is sent
    /// exactly as written, without normalization).
    pub redirect_uri: String,
    /// Scopes; empty means the server default (`all`).
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Ask for the code as a JSON body (`response_type=json_code`; WorkBoard does not
    /// recommend it).
    #[serde(default)]
    pub json_code: bool,
}

impl V1Config {
    /// A configuration with default scopes and a redirect (not `json_code`).
    pub fn new(
        environment: Environment,
        client_id: impl Into<String>,
        redirect_uri: impl Into<String>,
    ) -> V1Config {
        V1Config {
            environment,
            client_id: client_id.into(),
            redirect_uri: redirect_uri.into(),
            scopes: Vec::new(),
            json_code: false,
        }
    }

    /// Checks the configuration: non-empty client id; a secure environment base URL; an
    /// absolute redirect URI without fragment (https, http on loopback only, or a private-use
    /// scheme such as `com.example.app:/cb` for mobile apps); scopes that are non-empty and
    /// contain no comma or whitespace (the list is comma-separated on the wire).
    pub fn validate(&self) -> Result<(), Error> {
        if self.client_id.trim().is_empty() {
            return Err(Error::InvalidInput {
                what: "client_id".into(),
                reason: "must not be empty".into(),
            });
        }
        if self
            .client_id
            .chars()
            .any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(Error::InvalidInput {
                what: "client_id".into(),
                reason: "must not contain whitespace".into(),
            });
        }
        let base = Url::parse(self.environment.base_url()).map_err(|e| Error::InvalidUrl {
            what: "environment base URL".into(),
            reason: e.to_string(),
        })?;
        check_secure_url(&base, "environment base URL")?;
        let redirect = Url::parse(&self.redirect_uri).map_err(|e| Error::InvalidUrl {
            what: "redirect_uri".into(),
            reason: format!("{e} (an absolute URL is required)"),
        })?;
        if redirect.fragment().is_some() {
            return Err(Error::InvalidUrl {
                what: "redirect_uri".into(),
                reason: "must not contain a fragment (#...)".into(),
            });
        }
        if redirect.scheme() == "http" && !is_loopback(&redirect) {
            return Err(Error::InsecureUrl {
                what: "redirect_uri".into(),
                reason:
                    "http on a non-loopback host would expose the authorization code; use https"
                        .into(),
            });
        }
        for s in &self.scopes {
            if s.is_empty()
                || s.contains(',')
                || s.chars().any(|c| c.is_whitespace() || c.is_control())
            {
                return Err(Error::InvalidInput {
                    what: "scope".into(),
                    reason: format!(
                        "`{}` must be one non-empty scope without commas or spaces",
                        short(s, 64)
                    ),
                });
            }
        }
        Ok(())
    }
}

/// Starts a sign-in: the authorize URL to open in the browser, and the pending authorization
/// to keep (5-minute lifetime) until the redirect arrives.
///
/// The URL is `{base}/wb/oauth/authorize?client_id=..&redirect_uri=..&scope=a,b&state=..`
/// (`scope` omitted when no scope is configured, so the server default `all` applies;
/// `response_type=json_code` only when asked). The `state` is 32 random bytes from `entropy`.
pub fn start_authorization(
    cfg: &V1Config,
    entropy: &mut dyn Entropy,
    now_ms: u64,
) -> Result<(String, PendingAuthorization), Error> {
    cfg.validate()?;
    let pending = PendingAuthorization::new_v1(
        cfg.client_id.clone(),
        cfg.redirect_uri.clone(),
        cfg.environment.token_url(),
        cfg.scopes.clone(),
        entropy,
        now_ms,
    )?;
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    query.append_pair("client_id", &cfg.client_id);
    query.append_pair("redirect_uri", &cfg.redirect_uri);
    if !cfg.scopes.is_empty() {
        query.append_pair("scope", &cfg.scopes.join(","));
    }
    query.append_pair("state", pending.state.expose());
    if cfg.json_code {
        query.append_pair("response_type", "json_code");
    }
    Ok((
        format!("{}?{}", cfg.environment.authorize_url(), query.finish()),
        pending,
    ))
}

/// The code exchange for a code from [`PendingAuthorization::handle_redirect`]:
/// `POST {token endpoint}` with `client_id`, `client_hash`, `code`, `redirect_uri`.
///
/// Does not check the code's age: call [`AuthorizationCode::check_fresh`] first, or use
/// [`checked_exchange_request`].
pub fn exchange_request(
    code: &AuthorizationCode,
    client_hash: &SecretString,
    id: RequestId,
) -> HttpRequest {
    exchange_to(
        &code.token_endpoint,
        &code.client_id,
        client_hash,
        &code.code,
        &code.redirect_uri,
        id,
    )
}

/// [`exchange_request`], refusing a code received 5 minutes or more before `now_ms` with
/// [`Error::AuthorizationExpired`] (nothing is sent).
pub fn checked_exchange_request(
    code: &AuthorizationCode,
    client_hash: &SecretString,
    id: RequestId,
    now_ms: u64,
) -> Result<HttpRequest, Error> {
    code.check_fresh(now_ms)?;
    Ok(exchange_request(code, client_hash, id))
}

/// [`checked_exchange_request`] for a code that may come from outside (an app, a browser):
/// the Client Hash goes only to `environment`'s token endpoint, or to that of `started`, a v1
/// sign-in the caller started itself (its token endpoint came from the caller's own
/// configuration). A code naming another token endpoint fails with
/// [`Error::ClientSecretNotForServer`] and nothing is sent. Every platform's code exchange
/// goes through this rule.
pub fn checked_exchange_request_for(
    environment: &Environment,
    started: Option<&PendingAuthorization>,
    code: &AuthorizationCode,
    client_hash: &SecretString,
    id: RequestId,
    now_ms: u64,
) -> Result<HttpRequest, Error> {
    let own = environment.token_url();
    let same = |allowed: &str| match (Url::parse(code.token_endpoint.trim()), Url::parse(allowed)) {
        (Ok(a), Ok(b)) => {
            a.origin() == b.origin()
                && a.path() == b.path()
                && a.query().is_none()
                && a.fragment().is_none()
        }
        _ => false,
    };
    let ours = same(&own)
        || started.is_some_and(|p| p.dialect == Dialect::WorkboardV1 && same(&p.token_endpoint));
    if !ours {
        return Err(Error::client_secret_not_for_server(
            &code.token_endpoint,
            &own,
        ));
    }
    checked_exchange_request(code, client_hash, id, now_ms)
}

/// The code exchange from its parts, for a server that received the code from a browser or
/// mobile app (stateless: the app already checked `state`). Check the code and redirect URI
/// you received before calling this; the token endpoint checks them again.
pub fn exchange_request_from_parts(
    environment: &Environment,
    client_id: &str,
    client_hash: &SecretString,
    code: &SecretString,
    redirect_uri: &str,
    id: RequestId,
) -> HttpRequest {
    exchange_to(
        &environment.token_url(),
        client_id,
        client_hash,
        code,
        redirect_uri,
        id,
    )
}

fn exchange_to(
    url: &str,
    client_id: &str,
    client_hash: &SecretString,
    code: &SecretString,
    redirect_uri: &str,
    id: RequestId,
) -> HttpRequest {
    form_post(
        id,
        url,
        &[
            ("client_id", client_id),
            ("client_hash", client_hash.expose()),
            ("code", code.expose()),
            ("redirect_uri", redirect_uri),
        ],
        &[],
    )
}

/// Parses the token endpoint's answer to a code exchange into v1 [`Credentials`] issued at
/// `now_ms` (one-year expiry when the server gives none). See
/// [`crate::oauth::token::parse_token_response`] for the errors. `request` is the exchange
/// request that was sent: the secrets it carried (the code, the client hash) are scrubbed
/// from the server's error text, which may echo them.
pub fn handle_exchange_response(
    request: &HttpRequest,
    resp: &HttpResponse,
    now_ms: u64,
) -> Result<Credentials, Error> {
    exchange_response(resp, now_ms, &crate::untrusted::request_secrets(request))
}

fn exchange_response(
    resp: &HttpResponse,
    now_ms: u64,
    secrets: &[SecretString],
) -> Result<Credentials, Error> {
    parse_token_response(resp, Dialect::WorkboardV1, now_ms, None)
        .map(Credentials::OAuth)
        .map_err(|e| e.redact_secrets(secrets))
}

/// [`revoke_request`], refusing credentials that belong to another deployment than
/// `environment` ([`Credentials::check_origin`]): a token is revoked only where it was issued.
pub fn checked_revoke_request(
    environment: &Environment,
    credentials: &Credentials,
    id: RequestId,
) -> Result<HttpRequest, Error> {
    credentials.check_origin(environment.base_url())?;
    Ok(revoke_request(environment, credentials, id))
}

/// Revocation: `POST {base}/wb/oauth/revoke/` (trailing slash as documented) with the token in
/// `Authorization: bearer <token>` — never in the URL or body. Does not check where the
/// credentials belong: see [`checked_revoke_request`].
pub fn revoke_request(
    environment: &Environment,
    credentials: &Credentials,
    id: RequestId,
) -> HttpRequest {
    HttpRequest {
        id,
        method: Method::Post,
        url: environment.revoke_url(),
        headers: vec![
            (
                "Authorization".into(),
                format!("bearer {}", credentials.access_token().expose()),
            ),
            ("Accept".into(), "application/json".into()),
        ],
        body: Vec::new(),
    }
}

/// How a revocation ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RevokeOutcome {
    /// The server revoked the token.
    Revoked,
    /// The server says the token was already invalid (401, or 400 `invalid_token` /
    /// `invalid_grant`): it no longer works, which is what revocation is for.
    AlreadyInvalid,
}

/// Reads the revocation response.
///
/// - 2xx without `success:false` → [`RevokeOutcome::Revoked`] (the body may be empty or not
///   JSON: a 2xx is the server's word).
/// - 401, or 400 / `success:false` with `invalid_token` or `invalid_grant` →
///   [`RevokeOutcome::AlreadyInvalid`]: the token is already unusable, so the goal — that it
///   no longer grants access — is met, and RFC 7009 §2.2 likewise treats an invalid token as
///   success. The app can then forget the credentials safely.
/// - Anything else → an error ([`Error::TokenEndpoint`], [`Error::HttpStatus`],
///   [`Error::ResponseTooLarge`]); the token may still be valid, so keep it and retry later.
///
/// `request` is the revocation request that was sent: its token is scrubbed from the server's
/// error text.
pub fn handle_revoke_response(
    request: &HttpRequest,
    resp: &HttpResponse,
) -> Result<RevokeOutcome, Error> {
    revoke_response(resp).map_err(|e| e.redact_secrets(&crate::untrusted::request_secrets(request)))
}

fn revoke_response(resp: &HttpResponse) -> Result<RevokeOutcome, Error> {
    const WHAT: &str = "revocation response";
    if resp.status == 401 {
        return Ok(RevokeOutcome::AlreadyInvalid);
    }
    let already_invalid = |e: &Error| matches!(e, Error::TokenEndpoint { error, .. } if error == "invalid_token" || error == "invalid_grant");
    if resp.is_success() {
        if resp.body.iter().all(|b| b.is_ascii_whitespace()) {
            return Ok(RevokeOutcome::Revoked);
        }
        return match parse_json_object(resp.status, &resp.body, WHAT, "revoke endpoint") {
            Ok(obj) => match oauth_error(resp.status, &obj) {
                None => Ok(RevokeOutcome::Revoked),
                Some(e) if already_invalid(&e) => Ok(RevokeOutcome::AlreadyInvalid),
                Some(e) => Err(e),
            },
            Err(Error::ResponseTooLarge { what, limit }) => {
                Err(Error::ResponseTooLarge { what, limit })
            }
            Err(_) => Ok(RevokeOutcome::Revoked),
        };
    }
    let obj = parse_json_object(resp.status, &resp.body, WHAT, "revoke endpoint")?;
    match oauth_error(resp.status, &obj) {
        Some(e) if resp.status == 400 && already_invalid(&e) => Ok(RevokeOutcome::AlreadyInvalid),
        Some(e) => Err(e),
        None => Err(Error::HttpStatus {
            status: resp.status,
            url: "revoke endpoint".into(),
            detail: None,
        }),
    }
}

/// What a [`V1SignIn`] produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum V1Outcome {
    /// The code exchange succeeded: persist these credentials.
    SignedIn(Credentials),
    /// The revocation finished: forget the credentials.
    Revoked(RevokeOutcome),
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Op {
    /// With the secrets the request carried, scrubbed from the server's error text.
    Exchange(Vec<SecretString>),
    Revoke(Vec<SecretString>),
}

/// WorkBoard v1 sign-in and revocation as a sans-IO machine for [`crate::drive`].
///
/// Call order: [`V1SignIn::start`] (open the URL; persist [`V1SignIn::pending_json`]),
/// [`V1SignIn::handle_redirect`] (queues the code exchange), then run the machine until idle
/// and read [`V1SignIn::poll_result`]. [`V1SignIn::revoke`] queues a revocation the same way.
/// `Debug` shows no secret.
#[derive(Debug)]
pub struct V1SignIn {
    config: V1Config,
    client_hash: SecretString,
    pending: Option<PendingAuthorization>,
    queue: VecDeque<(HttpRequest, Op)>,
    in_flight: Vec<(RequestId, Op)>,
    results: VecDeque<Result<V1Outcome, Error>>,
    next_id: u64,
}

impl V1SignIn {
    /// A machine for `config` (validated) with the app's Client Hash.
    pub fn new(config: V1Config, client_hash: SecretString) -> Result<V1SignIn, Error> {
        config.validate()?;
        if client_hash.expose().trim().is_empty() {
            return Err(Error::InvalidInput {
                what: "client_hash".into(),
                reason: "must not be empty".into(),
            });
        }
        Ok(V1SignIn {
            config,
            client_hash,
            pending: None,
            queue: VecDeque::new(),
            in_flight: Vec::new(),
            results: VecDeque::new(),
            next_id: 0,
        })
    }

    /// Restores a machine after a restart, with the JSON from [`V1SignIn::pending_json`].
    /// Fails on bad JSON, on a non-v1 authorization, or when it belongs to another client or
    /// redirect URI.
    pub fn resume(
        config: V1Config,
        client_hash: SecretString,
        pending_json: &str,
    ) -> Result<V1SignIn, Error> {
        let pending = PendingAuthorization::from_json(pending_json)?;
        if pending.dialect != Dialect::WorkboardV1
            || pending.client_id != config.client_id
            || pending.redirect_uri != config.redirect_uri
        {
            return Err(Error::InvalidInput {
                what: "saved pending authorization".into(),
                reason: "it belongs to another client, redirect URI or OAuth dialect".into(),
            });
        }
        let mut m = V1SignIn::new(config, client_hash)?;
        m.pending = Some(pending);
        Ok(m)
    }

    /// The configuration.
    pub fn config(&self) -> &V1Config {
        &self.config
    }

    /// Starts (or restarts) a sign-in; returns the authorize URL to open. Replaces any
    /// pending authorization.
    pub fn start(&mut self, entropy: &mut dyn Entropy, now_ms: u64) -> Result<String, Error> {
        let (url, pending) = start_authorization(&self.config, entropy, now_ms)?;
        self.pending = Some(pending);
        Ok(url)
    }

    /// The pending authorization, if a sign-in was started.
    pub fn pending(&self) -> Option<&PendingAuthorization> {
        self.pending.as_ref()
    }

    /// The pending authorization as JSON to persist while the user is away (contains the
    /// `state`: store it like a credential). `None` when there is none or it was completed.
    pub fn pending_json(&self) -> Option<String> {
        self.pending
            .as_ref()
            .filter(|p| !p.completed)
            .map(PendingAuthorization::to_json)
    }

    /// Handles the redirect (or `json_code` body) and queues the code exchange. Errors are
    /// those of [`PendingAuthorization::handle_redirect`]; with no sign-in started,
    /// [`Error::WrongState`].
    pub fn handle_redirect(&mut self, input: &str, now_ms: u64) -> Result<(), Error> {
        let Some(pending) = self.pending.as_mut() else {
            return Err(Error::WrongState {
                action: "handle a redirect".into(),
                state: "no sign-in was started".into(),
            });
        };
        let code = pending.handle_redirect(input, now_ms)?;
        self.exchange_code(&code, now_ms)
    }

    /// Queues the exchange of a code obtained elsewhere. A code received 5 minutes or more
    /// before `now_ms` fails with [`Error::AuthorizationExpired`] and nothing is queued.
    pub fn exchange_code(&mut self, code: &AuthorizationCode, now_ms: u64) -> Result<(), Error> {
        if code.dialect != Dialect::WorkboardV1 {
            return Err(Error::InvalidInput {
                what: "authorization code".into(),
                reason: "it was issued by an OAuth 2 flow, not WorkBoard v1".into(),
            });
        }
        let id = self.alloc_id();
        let req = checked_exchange_request_for(
            &self.config.environment,
            self.pending.as_ref(),
            code,
            &self.client_hash,
            id,
            now_ms,
        )?;
        let secrets = crate::untrusted::request_secrets(&req);
        self.queue.push_back((req, Op::Exchange(secrets)));
        Ok(())
    }

    /// Queues the revocation of `credentials` (v1 tokens only).
    pub fn revoke(&mut self, credentials: &Credentials) -> Result<(), Error> {
        if !matches!(credentials, Credentials::OAuth(t) if t.dialect == Dialect::WorkboardV1) {
            return Err(Error::InvalidInput {
                what: "credentials to revoke".into(),
                reason: "only WorkBoard v1 OAuth tokens are revoked at /wb/oauth/revoke/".into(),
            });
        }
        let id = self.alloc_id();
        let req = checked_revoke_request(&self.config.environment, credentials, id)?;
        let secrets = crate::untrusted::request_secrets(&req);
        self.queue.push_back((req, Op::Revoke(secrets)));
        Ok(())
    }

    /// Next result (one per exchange or revocation), in completion order.
    pub fn poll_result(&mut self) -> Option<Result<V1Outcome, Error>> {
        self.results.pop_front()
    }

    /// Whether requests are queued or in flight.
    pub fn is_busy(&self) -> bool {
        !self.queue.is_empty() || !self.in_flight.is_empty()
    }

    fn alloc_id(&mut self) -> RequestId {
        self.next_id += 1;
        RequestId(self.next_id)
    }
}

impl SansIo for V1SignIn {
    fn poll_request(&mut self) -> Option<HttpRequest> {
        let (req, op) = self.queue.pop_front()?;
        self.in_flight.push((req.id, op));
        Some(req)
    }

    fn handle_response(
        &mut self,
        id: RequestId,
        response: Result<HttpResponse, TransportError>,
        now_ms: u64,
    ) {
        let Some(pos) = self.in_flight.iter().position(|(i, _)| *i == id) else {
            return;
        };
        let (_, op) = self.in_flight.remove(pos);
        let result = match (response, op) {
            (Err(e), _) => Err(Error::Transport(e)),
            (Ok(resp), Op::Exchange(secrets)) => exchange_response(&resp, now_ms, &secrets)
                .and_then(|c| c.bind_to(self.config.environment.base_url()))
                .map(V1Outcome::SignedIn),
            (Ok(resp), Op::Revoke(secrets)) => revoke_response(&resp)
                .map(V1Outcome::Revoked)
                .map_err(|e| e.redact_secrets(&secrets)),
        };
        self.results.push_back(result);
    }
}
