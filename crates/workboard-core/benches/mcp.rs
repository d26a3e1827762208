//! MCP hot paths: SSE decoding, JSON-RPC parsing, and the CPU cost of one tool call through
//! the connection machine (request build + response parse, no I/O).
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use serde_json::json;
use workboard_core::connection::{CallOutput, Connection, ConnectionConfig};
use workboard_core::fuzzing::parse_messages;
use workboard_core::fuzzing::SseDecoder;
use workboard_core::{Credentials, HttpResponse, SansIo};

fn tools_list_json(n: usize) -> String {
    let tools: Vec<_> = (0..n)
        .map(|i| {
            json!({
                "name": format!("tool_{i}"),
                "description": "Returns the objectives of a team, filtered by owner, period and status, with their key results.",
                "inputSchema": {"type": "object", "properties": {
                    "team_id": {"type": "integer", "description": "WorkBoard team id"},
                    "period": {"type": "string", "enum": ["Q1", "Q2", "Q3", "Q4"]},
                    "status": {"type": "string"}}, "required": ["team_id"]}
            })
        })
        .collect();
    json!({"jsonrpc": "2.0", "id": 2, "result": {"tools": tools}}).to_string()
}

fn sse_body() -> Vec<u8> {
    let msg = tools_list_json(4);
    let mut body = String::new();
    let mut i = 0;
    while body.len() < 1 << 20 {
        body.push_str(&format!(
            "id: {i}\r\nevent: message\r\ndata: {msg}\r\n\r\n: keep-alive\r\n\r\n"
        ));
        i += 1;
    }
    body.into_bytes()
}

fn bench_sse(c: &mut Criterion) {
    let body = sse_body();
    let mut g = c.benchmark_group("sse_decode");
    g.throughput(Throughput::Bytes(body.len() as u64));
    g.bench_function("1MiB_16KiB_chunks", |b| {
        b.iter(|| {
            let mut d = SseDecoder::new(1 << 20);
            let mut out = Vec::new();
            for chunk in body.chunks(16 * 1024) {
                d.push_into(chunk, &mut out).unwrap();
            }
            black_box(out.len())
        })
    });
    g.finish();
}

fn bench_jsonrpc(c: &mut Criterion) {
    let body = tools_list_json(80).into_bytes();
    let mut g = c.benchmark_group("jsonrpc_parse");
    g.throughput(Throughput::Bytes(body.len() as u64));
    g.bench_function("tools_list_80_tools", |b| {
        b.iter(|| black_box(parse_messages(&body, 1 << 24).unwrap()))
    });
    g.finish();
}

fn bench_tool_call(c: &mut Criterion) {
    let url = "https://www.myworkboard.com/wb/mcp";
    let state = json!({"server_url": url, "session_id": "s1", "protocol_version": "2025-11-25"})
        .to_string();
    let mut conn = Connection::new(
        ConnectionConfig::new(url)
            .credentials(Credentials::personal("token"))
            .restored_state(state),
    )
    .unwrap();
    let mut rpc = 0u64;
    let now = 1_764_000_000_000;
    c.bench_function("tool_call_cpu", |b| {
        b.iter(|| {
            let h = conn.call_tool("get_current_user", json!({"verbose": true}), now);
            let req = conn.poll_request().unwrap();
            rpc += 1;
            let body = format!(
                r#"{{"jsonrpc":"2.0","id":{rpc},"result":{{"content":[{{"type":"text","text":"Ada Lovelace"}}],"structuredContent":{{"user_id":42}}}}}}"#
            );
            let resp = HttpResponse::new(200, vec![("Content-Type".into(), "application/json".into())], body.into_bytes());
            conn.handle_response(req.id, Ok(resp), now);
            while conn.poll_event().is_some() {}
            match conn.poll_result(h) {
                Some(Ok(CallOutput::ToolResult(r))) => black_box(r.is_error),
                other => panic!("{other:?}"),
            }
        })
    });
}

criterion_group!(benches, bench_sse, bench_jsonrpc, bench_tool_call);
criterion_main!(benches);
