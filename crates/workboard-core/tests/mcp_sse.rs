//! SSE decoder rules (WHATWG) and property tests for the SSE and JSON-RPC parsers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use proptest::prelude::*;
use workboard_core::fuzzing::parse_messages;
use workboard_core::fuzzing::{decode_sse, Limits};
use workboard_core::fuzzing::{SseDecoder, SseEvent};

fn decode_all(chunks: &[&[u8]]) -> Vec<SseEvent> {
    let mut d = SseDecoder::new(1 << 20);
    let mut out = Vec::new();
    for c in chunks {
        out.extend(d.push(c).unwrap());
    }
    d.finish();
    out
}

fn ev(event: &str, data: &str, id: Option<&str>) -> SseEvent {
    SseEvent {
        event: event.into(),
        data: data.into(),
        id: id.map(Into::into),
    }
}

#[test]
fn line_endings_crlf_lf_cr() {
    let e = decode_all(&[b"data: a\r\n\r\ndata: b\n\ndata: c\r\rdata: d\r\n\n"]);
    assert_eq!(
        e,
        vec![
            ev("message", "a", None),
            ev("message", "b", None),
            ev("message", "c", None),
            ev("message", "d", None)
        ]
    );
}

#[test]
fn crlf_split_across_chunks_is_one_line_end() {
    let e = decode_all(&[b"data: a\r", b"\n", b"\r", b"\ndata: b\n\n"]);
    assert_eq!(e, vec![ev("message", "a", None), ev("message", "b", None)]);
}

#[test]
fn utf8_character_split_across_chunks() {
    let text = "data: héllo €\n\n".as_bytes();
    let cut = text.iter().position(|b| *b == 0xE2).unwrap() + 1; // inside the euro sign
    let e = decode_all(&[&text[..cut], &text[cut..]]);
    assert_eq!(e[0].data, "héllo €");
}

#[test]
fn multi_line_data_comments_and_event_type() {
    let e = decode_all(&[b": comment\nevent: update\ndata: line1\ndata:line2\ndata\n\n"]);
    assert_eq!(e, vec![ev("update", "line1\nline2\n", None)]);
}

#[test]
fn id_persists_and_nul_ids_are_ignored() {
    let mut d = SseDecoder::new(1024);
    let e = d
        .push(b"id: 1\ndata: a\n\nid: bad\0id\ndata: b\n\nid\ndata: c\n\n")
        .unwrap();
    assert_eq!(e[0].id.as_deref(), Some("1"));
    assert_eq!(e[1].id.as_deref(), Some("1"), "NUL id ignored");
    assert_eq!(e[2].id, None, "empty id resets");
}

#[test]
fn retry_takes_digits_only() {
    let mut d = SseDecoder::new(1024);
    d.push(b"retry: 3000\n\nretry: 12x\n\nretry: -5\n\n")
        .unwrap();
    assert_eq!(d.retry_ms(), Some(3000));
}

#[test]
fn leading_bom_is_skipped_even_when_split() {
    let e = decode_all(&[b"\xEF", b"\xBB\xBFdata: x\n\n"]);
    assert_eq!(e, vec![ev("message", "x", None)]);
    // A BOM later in the stream is data, not skipped.
    let e = decode_all(&[b"data: a\n\n\xEF\xBB\xBFdata: b\n\n"]);
    assert_eq!(e.len(), 1);
}

#[test]
fn priming_event_updates_last_id_without_data() {
    let mut d = SseDecoder::new(1024);
    let e = d.push(b"id: p-1\nretry: 100\n\n").unwrap();
    assert!(e.is_empty());
    assert_eq!(d.last_event_id(), Some("p-1"));
    let e = d.push(b"id: p-2\ndata:\n\n").unwrap();
    assert_eq!(e, vec![ev("message", "", Some("p-2"))]);
    let body = decode_sse(b"id: p-2\ndata:\n\n", Limits::default()).unwrap();
    assert!(
        body.messages.is_empty() && body.skipped.is_empty(),
        "priming skipped silently"
    );
}

#[test]
fn unterminated_event_is_discarded_at_end() {
    let mut d = SseDecoder::new(1024);
    assert!(d.push(b"data: never finished").unwrap().is_empty());
    assert!(d.finish());
}

#[test]
fn oversized_event_is_a_typed_error_with_bounded_memory() {
    let mut d = SseDecoder::new(1000);
    let chunk = vec![b'a'; 600];
    d.push(b"data: ").unwrap();
    d.push(&chunk).unwrap();
    let e = d.push(&chunk).unwrap_err();
    assert_eq!(e.code(), "sse_event_too_large");
    assert_eq!(
        d.push(b"\n\n").unwrap_err().code(),
        "sse_event_too_large",
        "stays failed"
    );
    // Many data lines that are each small but add up also hit the limit.
    let mut d = SseDecoder::new(1000);
    let mut failed = false;
    for _ in 0..100 {
        if d.push(b"data: 0123456789012345678901234567890123456789\n")
            .is_err()
        {
            failed = true;
            break;
        }
    }
    assert!(failed);
}

fn arb_sse() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        Just(b"data: ".to_vec()),
        Just(b"data:".to_vec()),
        Just(b"id: ".to_vec()),
        Just(b"event: x".to_vec()),
        Just(b"retry: 10".to_vec()),
        Just(b": c".to_vec()),
        Just(b"\n".to_vec()),
        Just(b"\r".to_vec()),
        Just(b"\r\n".to_vec()),
        Just("é€\u{FEFF}".as_bytes().to_vec()),
        Just(b"\xEF\xBB\xBF".to_vec()),
        Just(b"\0".to_vec()),
        proptest::collection::vec(any::<u8>(), 0..8),
        "[a-z{}\":, ]{0,12}".prop_map(String::into_bytes),
    ];
    proptest::collection::vec(piece, 0..40).prop_map(|v| v.concat())
}

proptest! {
    #[test]
    fn chunking_never_changes_decoded_events(input in arb_sse(), cuts in proptest::collection::vec(any::<usize>(), 0..8)) {
        let whole = {
            let mut d = SseDecoder::new(1 << 16);
            let e = d.push(&input).unwrap();
            (e, d.last_event_id().map(str::to_string), d.retry_ms())
        };
        let mut points: Vec<usize> = cuts.iter().map(|c| c % (input.len() + 1)).collect();
        points.sort_unstable();
        let mut d = SseDecoder::new(1 << 16);
        let mut events = Vec::new();
        let mut prev = 0;
        for p in points.into_iter().chain([input.len()]) {
            events.extend(d.push(&input[prev..p]).unwrap());
            prev = p;
        }
        prop_assert_eq!(whole, (events, d.last_event_id().map(str::to_string), d.retry_ms()));
    }

    #[test]
    fn sse_never_panics_on_arbitrary_bytes(input in proptest::collection::vec(any::<u8>(), 0..2048), limit in 1usize..512) {
        let mut d = SseDecoder::new(limit);
        for chunk in input.chunks(7) {
            if d.push(chunk).is_err() { break; }
        }
        d.finish();
        let _ = decode_sse(&input, Limits { max_message_bytes: 1024, max_event_bytes: limit });
    }

    #[test]
    fn jsonrpc_never_panics_on_arbitrary_input(input in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = parse_messages(&input, 4096);
    }

    #[test]
    fn jsonrpc_never_panics_on_json_shaped_input(s in r#"[\[\]{}",:0-9a-z.\- ]{0,200}"#, id in prop_oneof![Just("1".to_string()), Just("\"a\"".to_string()), Just("null".to_string()), Just("1.5".to_string()), Just("[]".to_string())]) {
        let _ = parse_messages(s.as_bytes(), 4096);
        let msg = format!(r#"{{"jsonrpc":"2.0","id":{id},"result":{s}}}"#);
        let _ = parse_messages(msg.as_bytes(), 4096);
        let msg = format!(r#"[{{"jsonrpc":"2.0","id":{id},"error":{s}}},{{"jsonrpc":"2.0","method":{s}}}]"#);
        let _ = parse_messages(msg.as_bytes(), 4096);
    }
}

#[test]
fn an_id_counts_only_once_its_event_completes() {
    let mut d = SseDecoder::new(1024);
    d.push(b"id: 1\ndata: a\n\nid: 2\ndata: b").unwrap();
    assert_eq!(d.last_event_id(), Some("1"));
    d.finish();
    assert_eq!(d.last_event_id(), Some("1"));
    let e = d.push(b"data: c\n\n").unwrap();
    assert_eq!(e[0].id.as_deref(), Some("1"), "the cut id is forgotten");
}
