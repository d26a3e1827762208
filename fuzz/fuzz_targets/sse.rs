//! SSE (`mcp/sse.rs`): the incremental decoder must give the same events (and the same
//! error) whether the body arrives in one piece or split at arbitrary points.
#![no_main]

use libfuzzer_sys::fuzz_target;
use workboard_core::fuzzing::{decode_sse, Limits};
use workboard_core::fuzzing::SseDecoder;

fuzz_target!(|data: &[u8]| {
    if data.is_empty() {
        return;
    }
    let step = usize::from(data[0] % 17) + 1;
    let body = &data[1..];
    let max = 512;

    let mut whole = SseDecoder::new(max);
    let one = whole.push(body);
    let one_discarded = whole.finish();

    let mut chunked = SseDecoder::new(max);
    let mut events = Vec::new();
    let mut err = None;
    for chunk in body.chunks(step) {
        match chunked.push(chunk) {
            Ok(ev) => events.extend(ev),
            Err(e) => {
                err = Some(e);
                break;
            }
        }
    }
    match (&one, &err) {
        (Ok(ev), None) => {
            assert_eq!(ev, &events, "chunking changed the events (step {step})");
            assert_eq!(one_discarded, chunked.finish());
            assert_eq!(whole.last_event_id(), chunked.last_event_id());
            assert_eq!(whole.retry_ms(), chunked.retry_ms());
        }
        (Err(a), Some(b)) => assert_eq!(a.code(), b.code()),
        // The one-shot error may come after events the chunked run already returned, and
        // vice versa; both must fail.
        (Ok(_), Some(e)) => panic!("only the chunked run failed: {e}"),
        (Err(e), None) => panic!("only the one-shot run failed: {e}"),
    }
    let _ = decode_sse(body, Limits { max_message_bytes: 4096, max_event_bytes: max });
});
