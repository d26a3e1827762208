//! JSON-RPC / MCP messages (`mcp/jsonrpc.rs`) and Streamable HTTP body decoding
//! (`mcp/session.rs`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use workboard_core::fuzzing::{
    parse_call_tool_result, parse_initialize_result, parse_list_tools_result, parse_messages, Message,
};
use workboard_core::fuzzing::{decode_body, Limits};
use workboard_core::HttpResponse;

fuzz_target!(|data: &[u8]| {
    if let Ok(msgs) = parse_messages(data, 64 * 1024) {
        for m in msgs {
            if let Message::Response { outcome: Ok(v), .. } = m {
                let _ = parse_initialize_result(v.clone());
                let _ = parse_list_tools_result(v.clone());
                if let Ok(r) = parse_call_tool_result(v) {
                    let _ = r.text();
                }
            }
        }
    }
    let limits = Limits { max_message_bytes: 64 * 1024, max_event_bytes: 64 * 1024 };
    for ct in ["application/json", "text/event-stream", "text/html", "application/json; charset=utf-8"] {
        let resp = HttpResponse::new(200, vec![("Content-Type".into(), ct.into())], data.to_vec());
        let _ = decode_body(&resp, limits);
    }
});
