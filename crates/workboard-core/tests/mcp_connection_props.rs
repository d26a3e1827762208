//! Property: whatever the server answers (any status, content type, body, order), the
//! connection machine never panics, never loops, and every call gets a result.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod mcp_common;

use mcp_common::*;
use proptest::prelude::*;
use serde_json::Value;
use workboard_core::{HttpResponse, SansIo, TransportError};

#[derive(Clone, Debug)]
enum Reply {
    Transport,
    Http {
        status: u16,
        ct: u8,
        body: u8,
        header: u8,
    },
}

fn reply() -> impl Strategy<Value = Reply> {
    prop_oneof![
        1 => Just(Reply::Transport),
        8 => (
            prop::sample::select(vec![200u16, 200, 200, 202, 401, 403, 404, 405, 429, 500, 503]),
            0u8..4,
            0u8..9,
            0u8..5
        )
            .prop_map(|(status, ct, body, header)| Reply::Http { status, ct, body, header }),
    ]
}

fn build(r: &Reply, req: &workboard_core::HttpRequest) -> Result<HttpResponse, TransportError> {
    let Reply::Http {
        status,
        ct,
        body,
        header,
    } = r
    else {
        return Err(TransportError::Interrupted("prop".into()));
    };
    let id = rpc_id(req);
    let id = if id.is_null() { Value::from(1) } else { id };
    let body = match body {
        0 => format!(
            r#"{{"jsonrpc":"2.0","id":{id},"result":{{"protocolVersion":"2025-11-25","capabilities":{{}},"serverInfo":{{"name":"s","version":"1"}}}}}}"#
        ),
        1 => format!(
            r#"{{"jsonrpc":"2.0","id":{id},"result":{{"tools":[{{"name":"a"}}],"nextCursor":"c{id}"}}}}"#
        ),
        2 => format!(r#"{{"jsonrpc":"2.0","id":{id},"result":{{"content":[],"isError":true}}}}"#),
        3 => format!(r#"{{"jsonrpc":"2.0","id":{id},"error":{{"code":-1,"message":"x"}}}}"#),
        4 => "id: 5\nretry: 10\ndata:\n\n".to_string(),
        5 => format!("id: 6\ndata: {{\"jsonrpc\":\"2.0\",\"id\":{id},\"result\":{{}}}}\n\n"),
        6 => r#"{"jsonrpc":"2.0","id":"srv","method":"sampling/createMessage"}"#.to_string(),
        7 => r#"{"access_token":"n","token_type":"bearer","refresh_token":"r2","expires_in":60}"#
            .to_string(),
        _ => "<html>oops".to_string(),
    };
    let mut headers = vec![];
    match ct {
        0 => headers.push(("Content-Type".to_string(), "application/json".to_string())),
        1 => headers.push(("Content-Type".to_string(), "text/event-stream".to_string())),
        2 => headers.push(("Content-Type".to_string(), "text/html".to_string())),
        _ => {}
    }
    match header {
        0 => headers.push(("Retry-After".into(), "1".into())),
        1 => headers.push((
            "WWW-Authenticate".into(),
            "Bearer error=\"insufficient_scope\", scope=\"x\"".into(),
        )),
        2 => headers.push(("Mcp-Session-Id".into(), "s-prop".into())),
        3 => headers.push(("Retry-After".into(), "99999".into())),
        _ => {}
    }
    Ok(HttpResponse::new(*status, headers, body.into_bytes()))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]
    #[test]
    fn every_call_ends_whatever_the_server_does(replies in proptest::collection::vec(reply(), 0..60), refreshable in any::<bool>()) {
        let mut c = if refreshable { with_refresh("a", "r") } else { personal() };
        let mut now = T0;
        let handles = [c.list_tools(now), c.call_tool("t", serde_json::json!({}), now), c.ping(now)];
        let mut next = replies.iter();
        let mut steps = 0;
        loop {
            let reqs = drain(&mut c);
            if reqs.is_empty() {
                match c.poll_timeout() {
                    Some(t) => { now = now.max(t); c.handle_timeout(now); continue; }
                    None => break,
                }
            }
            for r in reqs {
                steps += 1;
                prop_assert!(steps < 500, "no end in sight");
                let resp = match next.next() { Some(rep) => build(rep, &r), None => Err(TransportError::Connect("done".into())) };
                c.handle_response(r.id, resp, now);
            }
        }
        for h in handles {
            prop_assert!(c.poll_result(h).is_some(), "call {h:?} never completed");
        }
        while c.poll_event().is_some() {}
        let close = c.close();
        for r in drain(&mut c) { c.handle_response(r.id, Ok(HttpResponse::new(405, vec![], Vec::new())), now); }
        prop_assert!(c.poll_result(close).is_some());
    }
}
