//! Property test over the connection driver shared with the fuzz target
//! (`tests/conn_driver/mod.rs`, `fuzz/fuzz_targets/connection.rs`): arbitrary sequences of
//! calls, answers, timer firings and clock jumps with extreme numbers, in `cargo test`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod conn_driver;

use conn_driver::*;
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 1024, ..ProptestConfig::default() })]

    /// Whatever the sequence, the machine never panics, never spins, bounds its refreshes and
    /// gives every call exactly one result.
    #[test]
    fn any_sequence_of_calls_answers_timers_and_clock_jumps(
        data in prop::collection::vec(any::<u8>(), 0..3000)
    ) {
        run_bytes(&data);
    }
}

fn http(status: Status, headers: Vec<Header>, body: Body) -> Answer {
    Answer::Http {
        status,
        headers,
        body,
        other_id: None,
    }
}

fn init() -> Step {
    Step::Answer(
        0,
        http(
            Status::Ok,
            vec![Header::SessionId("s1".into())],
            Body::Json(Msg::InitResult { version: 0 }),
        ),
    )
}

fn setup(creds: Creds) -> Setup {
    Setup {
        creds,
        with_auth: true,
        start: Num::Secs(1_764_000_000),
        max_tools: None,
        max_tool_list_bytes: None,
        call_timeout: None,
        request_timeout: None,
    }
}

/// The values the issue names, one by one: `retry: u64::MAX`, `Retry-After: u64::MAX`,
/// `expires_in: u64::MAX`, deadlines of `u64::MAX`, and clock jumps to both ends of time.
#[test]
fn extreme_values_named_in_the_issue() {
    let expired_oauth = Creds::OAuth {
        expires_in: Some(Num::Secs(60)),
        expired: true,
        lifetime: Num::Secs(3600),
        refresh: true,
    };
    let sse_max_retry = http(
        Status::Ok,
        vec![],
        Body::Sse(vec![
            SseField::Retry(Num::Max),
            SseField::NumericId(1),
            SseField::Blank,
        ]),
    );
    let inputs = vec![
        // SSE retry: u64::MAX, then the timer and a jump to the end of time.
        Input {
            setup: setup(Creds::Personal),
            steps: vec![
                Step::CallTool { valid: true },
                init(),
                Step::Answer(1, sse_max_retry.clone()),
                Step::Timer,
                Step::Answer(1, sse_max_retry.clone()),
                Step::JumpTo(Num::Max),
                Step::Timer,
                Step::TimerNow,
            ],
        },
        // Retry-After: u64::MAX and near it, on a clock near the end of time.
        Input {
            setup: Setup {
                start: Num::NearMax(3),
                ..setup(Creds::Personal)
            },
            steps: vec![
                Step::ListTools,
                init(),
                Step::Answer(
                    1,
                    http(
                        Status::TooMany,
                        vec![Header::RetryAfter(Num::Max)],
                        Body::Empty,
                    ),
                ),
                Step::Ping,
                Step::Answer(
                    1,
                    http(
                        Status::Unavailable,
                        vec![Header::RetryAfter(Num::NearMax(1))],
                        Body::Empty,
                    ),
                ),
                Step::Timer,
                Step::Advance(Num::Max),
                Step::Timer,
            ],
        },
        // expires_in: u64::MAX from the token endpoint, then clock jumps back and forth.
        Input {
            setup: setup(expired_oauth.clone()),
            steps: vec![
                Step::Ping,
                Step::Answer(
                    0,
                    http(
                        Status::Ok,
                        vec![],
                        Body::Token {
                            expires_in: Some(Num::Max),
                            rotate: true,
                            token_type_bearer: true,
                        },
                    ),
                ),
                init(),
                Step::JumpTo(Num::Zero),
                Step::Ping,
                Step::JumpTo(Num::Max),
                Step::Ping,
                Step::Answer(
                    1,
                    http(
                        Status::Unauthorized,
                        vec![Header::WwwInvalidToken],
                        Body::Empty,
                    ),
                ),
                Step::Timer,
            ],
        },
        // Deadlines of u64::MAX and 0, an unreachable token endpoint, timers fired early.
        Input {
            setup: Setup {
                call_timeout: Some(Num::Max),
                request_timeout: Some(Num::Zero),
                ..setup(expired_oauth.clone())
            },
            steps: vec![
                Step::CallTool { valid: true },
                Step::ListTools,
                Step::Answer(0, Answer::Fail(Failure::Connect)),
                Step::TimerNow,
                Step::Timer,
                Step::Answer(0, Answer::Fail(Failure::BodyTooLarge(Num::Max))),
                Step::Timer,
                Step::Answer(0, Answer::Fail(Failure::Timeout)),
                Step::Timer,
            ],
        },
        // A token endpoint answering 503/429 with Retry-After: u64::MAX (and near it) and an
        // HTML 502, near the end of time: backed off like an unreachable endpoint.
        Input {
            setup: Setup {
                start: Num::NearMax(5),
                ..setup(expired_oauth.clone())
            },
            steps: vec![
                Step::ListTools,
                Step::CallTool { valid: true },
                Step::Answer(
                    0,
                    http(
                        Status::Unavailable,
                        vec![Header::RetryAfter(Num::Max)],
                        Body::Empty,
                    ),
                ),
                Step::Timer,
                Step::Answer(
                    0,
                    http(
                        Status::TooMany,
                        vec![Header::RetryAfter(Num::NearMax(1))],
                        Body::Raw(b"<html><title>busy</title></html>".to_vec()),
                    ),
                ),
                Step::TimerNow,
                Step::Timer,
                Step::Answer(0, http(Status::Raw(502), vec![], Body::Empty)),
                Step::Timer,
                Step::Advance(Num::Max),
                Step::Timer,
            ],
        },
        // Tool-list caps of zero and one-second tokens.
        Input {
            setup: Setup {
                max_tools: Some(0),
                max_tool_list_bytes: Some(0),
                ..setup(Creds::OAuth {
                    expires_in: Some(Num::One),
                    expired: false,
                    lifetime: Num::One,
                    refresh: true,
                })
            },
            steps: vec![
                Step::ListTools,
                Step::Answer(
                    0,
                    http(
                        Status::Ok,
                        vec![],
                        Body::Token {
                            expires_in: Some(Num::Zero),
                            rotate: false,
                            token_type_bearer: true,
                        },
                    ),
                ),
                init(),
                Step::Answer(
                    1,
                    http(
                        Status::Ok,
                        vec![],
                        Body::Json(Msg::ToolsPage {
                            count: 3,
                            cursor: Some(1),
                        }),
                    ),
                ),
                Step::Timer,
            ],
        },
    ];
    for input in &inputs {
        run(input);
    }
}
