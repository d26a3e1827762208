//! The typed states of the connection ([`crate::connection::Connection`]) and of the MCP
//! authorization flow ([`crate::oauth::flow::McpAuthFlow`]): one enum per concern, each state
//! carrying its own data, and one transition function per machine (`step`), pure: the machine
//! applies what `step` returns and does the rest (requests, events) itself.
//!
//! [`transitions`] exports each machine's table by running `step` over every state kind and
//! input kind; a test checks the state diagrams of ARCHITECTURE.md against it, so the
//! diagrams cannot drift from the code.

use crate::connection::CallHandle;
use crate::http::RequestId;
use crate::mcp::jsonrpc::Implementation;
use crate::mcp::session::SessionInfo;

/// The three machines whose tables [`transitions`] exports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Machine {
    /// The connection's era and session.
    Session,
    /// The connection's credentials.
    Auth,
    /// The MCP authorization flow.
    McpAuthFlow,
}

/// One edge of a machine's table: in state `from`, input `input` leads to state `to`
/// (`from` is `"[*]"` for the states a machine starts in).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Transition {
    /// The state before (its kind's name), or `"[*]"` for a start state.
    pub from: &'static str,
    /// The input's name (`"start"` for a start state).
    pub input: &'static str,
    /// The state after.
    pub to: &'static str,
}

/// The table of `machine`: every edge its transition function takes, found by running it
/// over a sample of every state kind and every input kind. Sorted, without duplicates.
pub fn transitions(machine: Machine) -> Vec<Transition> {
    let mut out = match machine {
        Machine::Session => table(
            SessionState::STARTS,
            &SessionState::samples(),
            &SessionInput::samples(),
            |s| s.kind(),
            |i| i.name(),
            |s, i| s.step(i),
        ),
        Machine::Auth => table(
            AuthState::STARTS,
            &AuthState::samples(),
            &AuthInput::samples(),
            |s| s.kind(),
            |i| i.name(),
            |s, i| s.step(i),
        ),
        Machine::McpAuthFlow => crate::oauth::flow::phase_table(),
    };
    out.sort();
    out.dedup();
    out
}

pub(crate) fn table<S, I>(
    starts: &[&'static str],
    states: &[S],
    inputs: &[I],
    kind: impl Fn(&S) -> &'static str,
    name: impl Fn(&I) -> &'static str,
    step: impl Fn(&S, &I) -> Option<S>,
) -> Vec<Transition> {
    let mut out: Vec<Transition> = starts
        .iter()
        .map(|to| Transition {
            from: "[*]",
            input: "start",
            to,
        })
        .collect();
    for s in states {
        for i in inputs {
            if let Some(next) = step(s, i) {
                out.push(Transition {
                    from: kind(s),
                    input: name(i),
                    to: kind(&next),
                });
            }
        }
    }
    out
}

/// Who a request of the connection is for: a call of the app, or the connection's own work.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Slot {
    /// A call the app submitted.
    App(CallHandle),
    /// `initialize` of a legacy session ([`SessionState::LegacyInitializing`]).
    Initialize,
    /// The era probe (`server/discover`) sent when only calls that cannot probe wait.
    Probe,
    /// The tool list fetched for calls refused with `HeaderMismatch`.
    Relist,
    /// The legacy GET stream opened while calls are in flight, for a server's requests.
    Listen,
}

impl Slot {
    /// The app's call, if it is one.
    pub(crate) fn app(self) -> Option<CallHandle> {
        match self {
            Slot::App(h) => Some(h),
            _ => None,
        }
    }
}

/// The era of the server and the session with it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum SessionState {
    /// Nothing known: the next call goes out modern as the probe.
    Unknown,
    /// The request of `probe` went out modern as the probe; the other calls wait for its
    /// verdict.
    Probing {
        /// The call (or [`Slot::Probe`]) whose request probes.
        probe: Slot,
    },
    /// A modern (2026-07-28) server: every request carries its version; no session.
    Modern {
        /// The version requests declare.
        version: &'static str,
        /// `protocol_version` and what the server said of itself (never a session id).
        info: SessionInfo,
    },
    /// A legacy server: `initialize` ([`Slot::Initialize`]) opens the session; the calls
    /// wait for it.
    LegacyInitializing {
        /// The `Mcp-Session-Id` of the answer's head, when it came before the result.
        session_id: Option<String>,
    },
    /// A legacy session the calls go out in.
    LegacyReady {
        /// Session id, negotiated version and server info.
        info: SessionInfo,
        /// Restored from a saved state: JSON-RPC ids continue above what an earlier process
        /// may have sent (ids must not repeat within a session).
        continue_ids: bool,
    },
    /// `close` sent `DELETE` for the session; `call` completes when it is answered.
    Closing {
        /// The `close` call.
        call: CallHandle,
    },
    /// Closed: every later call fails.
    Closed,
}

/// What moves [`SessionState`].
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum SessionInput {
    /// The request of this slot went out modern as the probe.
    ProbeSent(Slot),
    /// The probe ended without a verdict (cancelled, timed out).
    ProbeLost,
    /// A modern answer (or a version to retry with): modern with this version; `info`: what
    /// the server said of itself, if it did.
    Modern {
        version: &'static str,
        info: Option<Implementation>,
    },
    /// A legacy answer (4xx without a modern error, a result without `resultType`, a legacy
    /// version to retry with): `initialize` next.
    Legacy,
    /// The `Mcp-Session-Id` of `initialize`'s answer.
    SessionId(String),
    /// `initialize` answered.
    Initialized {
        protocol_version: String,
        server_info: Implementation,
    },
    /// `initialize` failed: the next call initializes again.
    InitializeFailed,
    /// A 404 to a request of this session: a new one.
    SessionExpired,
    /// `close` with a session to delete.
    Closing(CallHandle),
    /// `close` done.
    Closed,
}

impl SessionState {
    const STARTS: &'static [&'static str] =
        &["Unknown", "Modern", "LegacyInitializing", "LegacyReady"];

    /// The name of the state's kind (the diagrams' state names).
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            SessionState::Unknown => "Unknown",
            SessionState::Probing { .. } => "Probing",
            SessionState::Modern { .. } => "Modern",
            SessionState::LegacyInitializing { .. } => "LegacyInitializing",
            SessionState::LegacyReady { .. } => "LegacyReady",
            SessionState::Closing { .. } => "Closing",
            SessionState::Closed => "Closed",
        }
    }

    /// The session as requests see it (empty while the era is not settled, or closed).
    pub(crate) fn info(&self) -> &SessionInfo {
        const NONE: &SessionInfo = &SessionInfo {
            session_id: None,
            protocol_version: None,
            server_info: None,
        };
        match self {
            SessionState::Modern { info, .. } | SessionState::LegacyReady { info, .. } => info,
            _ => NONE,
        }
    }

    /// Whether the connection is closing or closed.
    pub(crate) fn is_shut(&self) -> bool {
        matches!(self, SessionState::Closing { .. } | SessionState::Closed)
    }

    /// The transition function: the state `input` leads to, or `None` when the input does
    /// not apply in this state (the machine then keeps its state).
    pub(crate) fn step(&self, input: &SessionInput) -> Option<SessionState> {
        use SessionInput as I;
        use SessionState as S;
        let live = !self.is_shut();
        Some(match (self, input) {
            (S::Unknown, I::ProbeSent(probe)) => S::Probing { probe: *probe },
            (S::Probing { .. }, I::ProbeLost) => S::Unknown,
            // A modern answer settles the era from any live state (a request sent modern
            // before another one's legacy verdict was answered as modern: the server speaks
            // it). The server info is kept when the version stays.
            (_, I::Modern { version, info }) if live => {
                let mut kept = match self {
                    S::Modern { version: v, info } if v == version => info.clone(),
                    _ => SessionInfo {
                        protocol_version: Some(version.to_string()),
                        ..SessionInfo::default()
                    },
                };
                if info.is_some() {
                    kept.server_info = info.clone();
                }
                S::Modern {
                    version,
                    info: kept,
                }
            }
            (
                S::Unknown | S::Probing { .. } | S::Modern { .. } | S::LegacyReady { .. },
                I::Legacy,
            ) => S::LegacyInitializing { session_id: None },
            (S::LegacyInitializing { .. }, I::SessionId(id)) => S::LegacyInitializing {
                session_id: Some(id.clone()),
            },
            (
                S::LegacyInitializing { session_id },
                I::Initialized {
                    protocol_version,
                    server_info,
                },
            ) => S::LegacyReady {
                info: SessionInfo {
                    session_id: session_id.clone(),
                    protocol_version: Some(protocol_version.clone()),
                    server_info: Some(server_info.clone()),
                },
                continue_ids: false,
            },
            (S::LegacyInitializing { .. }, I::InitializeFailed) => {
                S::LegacyInitializing { session_id: None }
            }
            (S::LegacyReady { .. }, I::SessionExpired) => {
                S::LegacyInitializing { session_id: None }
            }
            (_, I::Closing(call)) if live => S::Closing { call: *call },
            (_, I::Closed) if !matches!(self, S::Closed) => S::Closed,
            _ => return None,
        })
    }

    fn samples() -> Vec<SessionState> {
        let info = SessionInfo {
            session_id: Some("s".into()),
            protocol_version: Some("2025-11-25".into()),
            server_info: None,
        };
        vec![
            SessionState::Unknown,
            SessionState::Probing { probe: Slot::Probe },
            SessionState::Modern {
                version: "2026-07-28",
                info: SessionInfo::default(),
            },
            SessionState::LegacyInitializing { session_id: None },
            SessionState::LegacyReady {
                info,
                continue_ids: true,
            },
            SessionState::Closing {
                call: CallHandle(1),
            },
            SessionState::Closed,
        ]
    }
}

impl SessionInput {
    fn name(&self) -> &'static str {
        match self {
            SessionInput::ProbeSent(_) => "probe_sent",
            SessionInput::ProbeLost => "probe_lost",
            SessionInput::Modern { .. } => "modern",
            SessionInput::Legacy => "legacy",
            SessionInput::SessionId(_) => "session_id",
            SessionInput::Initialized { .. } => "initialized",
            SessionInput::InitializeFailed => "initialize_failed",
            SessionInput::SessionExpired => "session_expired",
            SessionInput::Closing(_) => "closing",
            SessionInput::Closed => "closed",
        }
    }

    fn samples() -> Vec<SessionInput> {
        let info = Implementation {
            name: "s".into(),
            version: "1".into(),
            ..Default::default()
        };
        vec![
            SessionInput::ProbeSent(Slot::App(CallHandle(1))),
            SessionInput::ProbeLost,
            SessionInput::Modern {
                version: "2026-07-28",
                info: Some(info.clone()),
            },
            SessionInput::Legacy,
            SessionInput::SessionId("s".into()),
            SessionInput::Initialized {
                protocol_version: "2025-11-25".into(),
                server_info: info,
            },
            SessionInput::InitializeFailed,
            SessionInput::SessionExpired,
            SessionInput::Closing(CallHandle(2)),
            SessionInput::Closed,
        ]
    }
}

/// The credentials' state: whether calls may go with them, or wait for a refresh.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum AuthState {
    /// The credentials are used as they are (none, a personal token, or an OAuth token).
    Valid {
        /// The token came from a refresh and no request has used it yet: never refreshed
        /// again before one has, whatever its lifetime.
        fresh: bool,
        /// A proactive refresh of this still valid token could not reach the token endpoint:
        /// it is used until it expires (or is refused).
        proactive_failed: bool,
        /// Refresh attempts in a row that could not reach the token endpoint.
        failures: u32,
    },
    /// A refresh is due, and the credentials are shared with other holders
    /// (`ConnectionConfig::coordinate_refresh`): the app takes the store's lease, then lets
    /// the refresh go (`Connection::refresh_with_lease`) or hands over what another holder
    /// stored (`Connection::set_credentials`).
    AwaitingLease {
        proactive_failed: bool,
        failures: u32,
    },
    /// A refresh is in flight (one for every call that waits).
    Refreshing {
        /// Its request.
        request: RequestId,
        proactive_failed: bool,
        failures: u32,
    },
    /// The token endpoint could not be reached: the next attempt waits until `until`.
    BackingOff {
        until: u64,
        proactive_failed: bool,
        failures: u32,
    },
    /// The server refused the credentials, or the refresh token was: a sign-in is needed.
    /// Calls still go with the current credentials (a 401 fails them).
    NeedsAuthorization {
        /// The refresh token was refused, or nothing can renew the credentials: no refresh
        /// until new credentials are set.
        refresh_refused: bool,
        /// The app was told (`ConnectionEvent::AuthorizationRequired`, once).
        announced: bool,
    },
    /// The server wants a scope the token lacks (`ConnectionEvent::StepUpRequired`): calls
    /// that need no more go on with it; new credentials end it.
    StepUp {
        /// The scope asked for.
        scope: Option<String>,
    },
}

/// What moves [`AuthState`].
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum AuthInput {
    /// A refresh is due and waits for the app to take the store's lease.
    LeaseAsked,
    /// A refresh request went out.
    RefreshSent(RequestId),
    /// New credentials from the refresh.
    Refreshed,
    /// The token endpoint could not be reached (or failed transiently); `retry_at`: when the
    /// calls that wait try again (`None`: none waits); `expired`: the token has expired.
    Unreachable {
        retry_at: Option<u64>,
        expired: bool,
    },
    /// The refresh was refused (`invalid_grant`, ...) or nothing can renew the credentials.
    Refused,
    /// The back-off ended.
    BackoffElapsed,
    /// No call waits any more: the back-off is forgotten.
    Idle,
    /// A request went out with the token.
    TokenUsed,
    /// A 401 that no refresh answers (the app was told to sign in).
    Rejected,
    /// A 403 `insufficient_scope`.
    ScopeInsufficient(Option<String>),
    /// The app set new credentials.
    Replaced,
}

impl AuthState {
    const STARTS: &'static [&'static str] = &["Valid"];

    /// The start state.
    pub(crate) const START: AuthState = AuthState::Valid {
        fresh: false,
        proactive_failed: false,
        failures: 0,
    };

    pub(crate) fn kind(&self) -> &'static str {
        match self {
            AuthState::Valid { .. } => "Valid",
            AuthState::AwaitingLease { .. } => "AwaitingLease",
            AuthState::Refreshing { .. } => "Refreshing",
            AuthState::BackingOff { .. } => "BackingOff",
            AuthState::NeedsAuthorization { .. } => "NeedsAuthorization",
            AuthState::StepUp { .. } => "StepUp",
        }
    }

    /// The refresh in flight.
    pub(crate) fn refreshing(&self) -> Option<RequestId> {
        match self {
            AuthState::Refreshing { request, .. } => Some(*request),
            _ => None,
        }
    }

    /// Until when the next refresh attempt waits.
    pub(crate) fn backing_off(&self) -> Option<u64> {
        match self {
            AuthState::BackingOff { until, .. } => Some(*until),
            _ => None,
        }
    }

    /// Whether the refresh token was refused (no refresh until new credentials).
    pub(crate) fn refresh_refused(&self) -> bool {
        matches!(
            self,
            AuthState::NeedsAuthorization {
                refresh_refused: true,
                ..
            }
        )
    }

    /// Whether the app was told to sign in again.
    pub(crate) fn announced(&self) -> bool {
        matches!(
            self,
            AuthState::NeedsAuthorization {
                announced: true,
                ..
            }
        )
    }

    /// Whether a token fresh from a refresh waits for its first use.
    pub(crate) fn fresh(&self) -> bool {
        matches!(self, AuthState::Valid { fresh: true, .. })
    }

    /// Whether a proactive refresh of the current token could not reach the endpoint.
    pub(crate) fn proactive_failed(&self) -> bool {
        matches!(
            self,
            AuthState::Valid {
                proactive_failed: true,
                ..
            } | AuthState::Refreshing {
                proactive_failed: true,
                ..
            } | AuthState::AwaitingLease {
                proactive_failed: true,
                ..
            } | AuthState::BackingOff {
                proactive_failed: true,
                ..
            }
        )
    }

    fn failures(&self) -> u32 {
        match self {
            AuthState::Valid { failures, .. }
            | AuthState::AwaitingLease { failures, .. }
            | AuthState::Refreshing { failures, .. }
            | AuthState::BackingOff { failures, .. } => *failures,
            _ => 0,
        }
    }

    /// The transition function (see [`SessionState::step`]).
    pub(crate) fn step(&self, input: &AuthInput) -> Option<AuthState> {
        use AuthInput as I;
        use AuthState as S;
        let proactive_failed = self.proactive_failed();
        let failures = self.failures();
        Some(match (self, input) {
            (
                S::Valid { .. }
                | S::StepUp { .. }
                | S::NeedsAuthorization {
                    refresh_refused: false,
                    ..
                },
                I::LeaseAsked,
            ) => S::AwaitingLease {
                proactive_failed,
                failures,
            },
            (
                S::Valid { .. }
                | S::AwaitingLease { .. }
                | S::StepUp { .. }
                | S::NeedsAuthorization {
                    refresh_refused: false,
                    ..
                },
                I::RefreshSent(request),
            ) => S::Refreshing {
                request: *request,
                proactive_failed,
                failures,
            },
            (S::Refreshing { .. }, I::Refreshed) => S::Valid {
                fresh: true,
                proactive_failed: false,
                failures: 0,
            },
            (
                S::Refreshing { .. } | S::AwaitingLease { .. },
                I::Unreachable { retry_at, expired },
            ) => {
                let proactive_failed = proactive_failed || !expired;
                let failures = failures.saturating_add(1);
                match retry_at {
                    Some(until) => S::BackingOff {
                        until: *until,
                        proactive_failed,
                        failures,
                    },
                    None => S::Valid {
                        fresh: false,
                        proactive_failed,
                        failures,
                    },
                }
            }
            (
                S::Refreshing { .. }
                | S::AwaitingLease { .. }
                | S::Valid { .. }
                | S::StepUp { .. }
                | S::NeedsAuthorization {
                    refresh_refused: false,
                    ..
                },
                I::Refused,
            ) => S::NeedsAuthorization {
                refresh_refused: true,
                announced: self.announced(),
            },
            (S::BackingOff { .. }, I::BackoffElapsed) => S::Valid {
                fresh: false,
                proactive_failed,
                failures,
            },
            (S::BackingOff { .. }, I::Idle) => S::Valid {
                fresh: false,
                proactive_failed,
                failures: 0,
            },
            (
                S::Valid {
                    fresh, failures, ..
                },
                I::Idle,
            ) if *failures > 0 => S::Valid {
                fresh: *fresh,
                proactive_failed,
                failures: 0,
            },
            (S::Valid { fresh: true, .. }, I::TokenUsed) => S::Valid {
                fresh: false,
                proactive_failed,
                failures,
            },
            (S::Valid { .. } | S::StepUp { .. }, I::Rejected) => S::NeedsAuthorization {
                refresh_refused: false,
                announced: true,
            },
            (
                S::NeedsAuthorization {
                    refresh_refused,
                    announced: false,
                },
                I::Rejected,
            ) => S::NeedsAuthorization {
                refresh_refused: *refresh_refused,
                announced: true,
            },
            (S::Valid { .. } | S::StepUp { .. }, I::ScopeInsufficient(scope)) => S::StepUp {
                scope: scope.clone(),
            },
            (_, I::Replaced) => AuthState::START,
            _ => return None,
        })
    }

    fn samples() -> Vec<AuthState> {
        vec![
            AuthState::START,
            AuthState::Valid {
                fresh: true,
                proactive_failed: false,
                failures: 1,
            },
            AuthState::Refreshing {
                request: RequestId(1),
                proactive_failed: false,
                failures: 0,
            },
            AuthState::AwaitingLease {
                proactive_failed: false,
                failures: 0,
            },
            AuthState::BackingOff {
                until: 1,
                proactive_failed: true,
                failures: 1,
            },
            AuthState::NeedsAuthorization {
                refresh_refused: false,
                announced: true,
            },
            AuthState::NeedsAuthorization {
                refresh_refused: true,
                announced: false,
            },
            AuthState::StepUp { scope: None },
        ]
    }
}

impl AuthInput {
    fn name(&self) -> &'static str {
        match self {
            AuthInput::LeaseAsked => "lease_asked",
            AuthInput::RefreshSent(_) => "refresh_sent",
            AuthInput::Refreshed => "refreshed",
            AuthInput::Unreachable { .. } => "unreachable",
            AuthInput::Refused => "refused",
            AuthInput::BackoffElapsed => "backoff_elapsed",
            AuthInput::Idle => "idle",
            AuthInput::TokenUsed => "token_used",
            AuthInput::Rejected => "rejected",
            AuthInput::ScopeInsufficient(_) => "scope_insufficient",
            AuthInput::Replaced => "replaced",
        }
    }

    fn samples() -> Vec<AuthInput> {
        vec![
            AuthInput::LeaseAsked,
            AuthInput::RefreshSent(RequestId(2)),
            AuthInput::Refreshed,
            AuthInput::Unreachable {
                retry_at: Some(5),
                expired: true,
            },
            AuthInput::Unreachable {
                retry_at: None,
                expired: false,
            },
            AuthInput::Refused,
            AuthInput::BackoffElapsed,
            AuthInput::Idle,
            AuthInput::TokenUsed,
            AuthInput::Rejected,
            AuthInput::ScopeInsufficient(Some("okr.write".into())),
            AuthInput::Replaced,
        ]
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_refresh_backs_off_with_its_count_and_new_credentials_reset_everything() {
        let s = AuthState::START
            .step(&AuthInput::RefreshSent(RequestId(7)))
            .unwrap();
        assert_eq!(s.refreshing(), Some(RequestId(7)));
        let s = s
            .step(&AuthInput::Unreachable {
                retry_at: Some(1_000),
                expired: false,
            })
            .unwrap();
        assert_eq!(s.backing_off(), Some(1_000));
        assert!(s.proactive_failed(), "a valid token is used meanwhile");
        let s = s.step(&AuthInput::BackoffElapsed).unwrap();
        let s = s.step(&AuthInput::RefreshSent(RequestId(8))).unwrap();
        assert!(matches!(s, AuthState::Refreshing { failures: 1, .. }));
        // A refused refresh token: no refresh until new credentials, announced once.
        let s = s.step(&AuthInput::Refused).unwrap();
        assert!(s.refresh_refused() && !s.announced());
        assert_eq!(s.step(&AuthInput::RefreshSent(RequestId(9))), None);
        let s = s.step(&AuthInput::Rejected).unwrap();
        assert!(s.announced());
        assert_eq!(s.step(&AuthInput::Rejected), None, "announced once");
        assert_eq!(s.step(&AuthInput::Replaced), Some(AuthState::START));
        // A fresh token is never refreshed before its first use.
        let fresh = AuthState::Valid {
            fresh: true,
            proactive_failed: false,
            failures: 0,
        };
        assert!(fresh.fresh());
        assert!(!fresh.step(&AuthInput::TokenUsed).unwrap().fresh());
    }

    #[test]
    fn the_session_keeps_its_data_through_its_transitions() {
        let s = SessionState::LegacyInitializing { session_id: None };
        let s = s.step(&SessionInput::SessionId("abc".into())).unwrap();
        let s = s
            .step(&SessionInput::Initialized {
                protocol_version: "2025-11-25".into(),
                server_info: Implementation::default(),
            })
            .unwrap();
        assert_eq!(s.info().session_id.as_deref(), Some("abc"));
        assert_eq!(s.info().protocol_version.as_deref(), Some("2025-11-25"));
        // A legacy answer to a modern probe opens a new session; a modern one keeps the
        // server info while the version stays.
        assert_eq!(
            s.step(&SessionInput::SessionExpired),
            Some(SessionState::LegacyInitializing { session_id: None })
        );
        let info = Implementation {
            name: "srv".into(),
            ..Implementation::default()
        };
        let m = SessionState::Unknown
            .step(&SessionInput::Modern {
                version: "2026-07-28",
                info: Some(info.clone()),
            })
            .unwrap();
        let again = m
            .step(&SessionInput::Modern {
                version: "2026-07-28",
                info: None,
            })
            .unwrap();
        assert_eq!(again.info().server_info.as_ref(), Some(&info));
        assert_eq!(again.info().session_id, None, "modern: no session");
        // Closed takes nothing more.
        let closed = again.step(&SessionInput::Closed).unwrap();
        assert!(closed.is_shut());
        assert_eq!(closed.step(&SessionInput::Legacy), None);
        assert_eq!(closed.step(&SessionInput::Closing(CallHandle(3))), None);
    }
}
