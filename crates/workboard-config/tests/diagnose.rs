//! Diagnostics: each troubleshooting row, error mapping, and the sans-IO doctor driven
//! against a scripted server.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::json;
use workboard_config::diagnose::{
    diagnose, diagnose_error, parse_node_version, probe_plan, Diagnosis, DiagnosisSeverity, Doctor,
    DoctorParams, Observation, ProbeKind, TroubleshootingRow as R,
};
use workboard_core::error::{HINT_401, HINT_NODE, HINT_NO_TOOLS, HINT_REDIRECT};
use workboard_core::testing::{rpc_method, ScriptedTransport, SimClock};
use workboard_core::{
    drive, Environment, Error, HttpRequest, HttpResponse, Method, SecretString, TransportError,
};

const TOKEN: &str = "wbtok_SECRET_0123456789abcd";

fn codes(d: &[Diagnosis]) -> Vec<&str> {
    d.iter().map(|d| d.code.as_str()).collect()
}

fn healthy() -> Observation {
    Observation {
        environment: Some("US (www.myworkboard.com)".into()),
        server_url: Some("https://www.myworkboard.com/wb/mcp".into()),
        unauthenticated_status: Some(401),
        www_authenticate: Some("Bearer resource_metadata=\"https://www.myworkboard.com/.well-known/oauth-protected-resource\"".into()),
        prm_status: Some(200),
        token_present: true,
        initialize_status: Some(200),
        tools_list_status: Some(200),
        tools_count: Some(80),
        node_version: Some("v20.11.1\n".into()),
        ..Default::default()
    }
}

fn one(o: &Observation) -> Diagnosis {
    let d = diagnose(o);
    assert_eq!(d.len(), 1, "{d:#?}");
    d.into_iter().next().unwrap()
}

#[test]
fn healthy_observation_has_no_diagnosis() {
    assert_eq!(diagnose(&healthy()), vec![]);
    assert_eq!(diagnose(&Observation::default()), vec![]);
}

#[test]
fn row_401_token_rejected() {
    let d = one(&Observation {
        initialize_status: Some(401),
        tools_list_status: None,
        tools_count: None,
        ..healthy()
    });
    assert_eq!(
        (d.row, d.code.as_str(), d.severity),
        (
            R::Unauthorized401,
            "token_rejected",
            DiagnosisSeverity::Error
        )
    );
    assert_eq!(d.fix, HINT_401);
    assert!(d.summary.contains("US"));
}

#[test]
fn row_401_wrong_environment() {
    let o = Observation {
        initialize_status: Some(401),
        tools_list_status: None,
        tools_count: None,
        token_accepted_in: Some(Environment::Eu.label()),
        ..healthy()
    };
    let d = one(&o);
    assert_eq!(
        (d.row, d.code.as_str()),
        (R::Unauthorized401, "wrong_environment")
    );
    assert!(d.summary.contains("wrong environment") && d.summary.contains("EU"));
    assert!(d.fix.starts_with("Use EU") && d.fix.contains(HINT_401));
}

#[test]
fn row_401_no_token() {
    let o = Observation {
        token_present: false,
        initialize_status: None,
        tools_list_status: None,
        tools_count: None,
        ..healthy()
    };
    let d = one(&o);
    assert_eq!(
        (d.row, d.code.as_str(), d.severity),
        (R::Unauthorized401, "no_token", DiagnosisSeverity::Warning)
    );
}

#[test]
fn row_no_tools() {
    let d = one(&Observation {
        tools_count: Some(0),
        ..healthy()
    });
    assert_eq!((d.row, d.code.as_str()), (R::NoToolsListed, "no_tools"));
    assert_eq!(d.fix, HINT_NO_TOOLS);
    let d = one(&Observation {
        initialize_status: Some(403),
        tools_list_status: None,
        tools_count: None,
        ..healthy()
    });
    assert_eq!((d.row, d.code.as_str()), (R::NoToolsListed, "forbidden"));
    let d = one(&Observation {
        tools_list_status: Some(403),
        tools_count: None,
        ..healthy()
    });
    assert_eq!((d.row, d.code.as_str()), (R::NoToolsListed, "forbidden"));
    // A 400 after initialize is not a WorkBoard role problem: every tool call fails the same
    // way (a modern-only server refusing the legacy session), so it is an error.
    let d = one(&Observation {
        tools_list_status: Some(400),
        tools_count: None,
        ..healthy()
    });
    assert_eq!((d.row, d.code.as_str()), (R::Other, "tools_list_failed"));
    assert_eq!(d.severity, DiagnosisSeverity::Error);
    assert!(d.fix.contains("2026-07-28"), "{}", d.fix);
    let d = one(&Observation {
        initialized_status: Some(400),
        ..healthy()
    });
    assert_eq!((d.row, d.code.as_str()), (R::Other, "initialized_refused"));
    assert_eq!(d.severity, DiagnosisSeverity::Error);
}

#[test]
fn row_node() {
    for (v, code) in [
        ("v16.20.2", Some("node_too_old")),
        ("v17.9.1", Some("node_too_old")),
        ("v18.0.0", None),
        ("v22.1.0", None),
        ("garbage", Some("node_version_unknown")),
    ] {
        let d = diagnose(&Observation {
            node_version: Some(v.into()),
            ..healthy()
        });
        assert_eq!(codes(&d), code.into_iter().collect::<Vec<_>>(), "{v}");
        if let Some(d) = d.first() {
            assert_eq!(d.row, R::ClaudeDesktopWontConnect);
            assert!(d.fix.contains(HINT_NODE));
        }
    }
    let d = one(&Observation {
        node_version: None,
        node_missing: true,
        ..healthy()
    });
    assert_eq!(
        (d.row, d.code.as_str()),
        (R::ClaudeDesktopWontConnect, "node_missing")
    );
}

#[test]
fn node_versions_parse() {
    assert_eq!(parse_node_version("v20.11.1\n"), Some((20, 11, 1)));
    assert_eq!(parse_node_version("18"), Some((18, 0, 0)));
    assert_eq!(parse_node_version("v21.0.0-nightly2023"), Some((21, 0, 0)));
    assert_eq!(parse_node_version(""), None);
    assert_eq!(parse_node_version("v1x.2"), None);
    assert_eq!(parse_node_version("command not found: node"), None);
}

#[test]
fn row_redirect_mismatch_points_at_difference() {
    let o = Observation {
        redirect_uri_configured: Some("https://claude.ai/api/mcp/auth_callback".into()),
        redirect_uri_used: Some("https://claude.ai/api/mcp/auth_callback/".into()),
        ..healthy()
    };
    let d = one(&o);
    assert_eq!(
        (d.row, d.code.as_str()),
        (R::RedirectUrlError, "redirect_uri_mismatch")
    );
    assert_eq!(d.fix, HINT_REDIRECT);
    assert!(d.summary.contains("character 39"));
    let caret = d.summary.lines().last().unwrap();
    assert_eq!(caret.find('^'), Some(14 + 39));
    // Registered URI is not Claude's callback (and the client is Claude).
    let o = Observation {
        redirect_uri_configured: Some("http://claude.ai/api/mcp/auth_callback".into()),
        ..healthy()
    };
    let d = one(&o);
    assert_eq!(
        (d.row, d.code.as_str()),
        (R::RedirectUrlError, "redirect_uri_not_claude")
    );
    assert!(d.summary.contains("character 4"));
    // Equal URIs: nothing.
    let o = Observation {
        redirect_uri_configured: Some("https://claude.ai/api/mcp/auth_callback".into()),
        redirect_uri_used: Some("https://claude.ai/api/mcp/auth_callback".into()),
        ..healthy()
    };
    assert_eq!(diagnose(&o), vec![]);
}

#[test]
fn row_other() {
    let d = one(&Observation {
        transport_errors: vec!["could not connect: dns".into()],
        ..healthy()
    });
    assert_eq!((d.row, d.code.as_str()), (R::Other, "unreachable"));
    let d = one(&Observation {
        unauthenticated_status: Some(404),
        ..healthy()
    });
    assert_eq!(d.code, "not_mcp_endpoint");
    let d = one(&Observation {
        unauthenticated_status: Some(503),
        ..healthy()
    });
    assert_eq!(d.code, "server_error");
    let d = one(&Observation {
        www_authenticate: Some("Bearer realm=\"wb\"".into()),
        ..healthy()
    });
    assert_eq!(
        (d.code.as_str(), d.severity),
        ("no_resource_metadata", DiagnosisSeverity::Warning)
    );
    let d = one(&Observation {
        prm_status: Some(404),
        ..healthy()
    });
    assert_eq!(d.code, "no_protected_resource_metadata");
    let d = one(&Observation {
        initialize_status: Some(500),
        tools_list_status: None,
        tools_count: None,
        ..healthy()
    });
    assert_eq!(d.code, "server_error");
    let d = one(&Observation {
        initialize_status: Some(400),
        tools_list_status: None,
        tools_count: None,
        ..healthy()
    });
    assert_eq!(d.code, "initialize_failed");
    let d = one(&Observation {
        initialize_problem: Some("bad version".into()),
        tools_list_status: None,
        tools_count: None,
        ..healthy()
    });
    assert_eq!(d.code, "protocol_error");
}

#[test]
fn errors_map_to_rows() {
    let e = Error::Unauthorized {
        url: "https://www.myworkboard.eu/wb/mcp".into(),
        error: None,
        environment: "EU".into(),
    };
    let d = diagnose_error(&e).unwrap();
    assert_eq!(d.row, R::Unauthorized401);
    assert!(d.fix.contains(HINT_401) && d.fix.contains("EU"));
    assert_eq!(
        diagnose_error(&Error::NotSignedIn).unwrap().row,
        R::Unauthorized401
    );
    assert_eq!(
        diagnose_error(&Error::Forbidden { url: "u".into() })
            .unwrap()
            .row,
        R::NoToolsListed
    );
    assert_eq!(
        diagnose_error(&Error::InsufficientScope { scope: None })
            .unwrap()
            .fix,
        HINT_NO_TOOLS
    );
    let e = workboard_core::error::check_redirect_uri(
        "https://claude.ai/api/mcp/auth_callback",
        "https://claude.ai/x",
    )
    .unwrap_err();
    let d = diagnose_error(&e).unwrap();
    assert_eq!(d.row, R::RedirectUrlError);
    assert!(d.fix.contains(HINT_REDIRECT) && d.fix.contains("differs here"));
    assert_eq!(
        diagnose_error(&Error::Transport(TransportError::Timeout))
            .unwrap()
            .code,
        "unreachable"
    );
    assert_eq!(diagnose_error(&Error::StateMismatch), None);
    // An oversized body is no network problem; an unreachable token endpoint is.
    assert_eq!(
        diagnose_error(&Error::Transport(TransportError::BodyTooLarge { limit: 1 })),
        None
    );
    let d = diagnose_error(&Error::TokenEndpointUnreachable {
        attempts: 3,
        reason: "could not connect".into(),
    })
    .unwrap();
    assert_eq!(d.code, "unreachable");
    assert!(d.fix.contains("network"), "{}", d.fix);
}

// ---------------------------------------------------------------- the doctor

type Handler = Box<dyn Fn(&HttpRequest) -> Result<HttpResponse, TransportError> + Send>;

/// WorkBoard-like: `valid_on` lists the hosts where TOKEN is accepted.
fn workboard(valid_on: &'static [&'static str], tools: usize, sse: bool) -> Handler {
    Box::new(move |r: &HttpRequest| {
        let host = url::Url::parse(&r.url)
            .unwrap()
            .host_str()
            .unwrap()
            .to_string();
        let base = format!("https://{host}");
        if r.method == Method::Get {
            if r.url == format!("{base}/.well-known/oauth-protected-resource") {
                return Ok(HttpResponse::json(
                    200,
                    &json!({"resource": format!("{base}/wb/mcp"), "authorization_servers": [format!("{base}/wb/oauth")]}),
                ));
            }
            return Ok(HttpResponse::new(404, vec![], "not found"));
        }
        let ok_auth = r.header("authorization") == Some(&format!("Bearer {TOKEN}"))
            && valid_on.contains(&host.as_str());
        if !ok_auth {
            return Ok(HttpResponse::new(
                401,
                vec![(
                    "WWW-Authenticate".into(),
                    format!(
                        "Bearer resource_metadata=\"{base}/.well-known/oauth-protected-resource\""
                    ),
                )],
                "",
            ));
        }
        let body = match rpc_method(r).as_str() {
            "initialize" => {
                json!({"jsonrpc": "2.0", "id": 1, "result": {"protocolVersion": "2025-06-18", "capabilities": {"tools": {}}, "serverInfo": {"name": "wb", "version": "1"}}})
            }
            "notifications/initialized" => return Ok(HttpResponse::new(202, vec![], "")),
            "tools/list" => {
                if r.header("mcp-session-id") != Some("sess-1")
                    || r.header("mcp-protocol-version") != Some("2025-06-18")
                {
                    return Ok(HttpResponse::new(400, vec![], "no session"));
                }
                let list: Vec<_> = (0..tools)
                    .map(
                        |i| json!({"name": format!("tool_{i}"), "inputSchema": {"type": "object"}}),
                    )
                    .collect();
                json!({"jsonrpc": "2.0", "id": 2, "result": {"tools": list}})
            }
            _ => return Ok(HttpResponse::new(400, vec![], "")),
        };
        let mut resp = if sse {
            HttpResponse::new(
                200,
                vec![("Content-Type".into(), "text/event-stream".into())],
                format!("id: 1\ndata: {body}\n\n"),
            )
        } else {
            HttpResponse::json(200, &body)
        };
        resp.headers
            .push(("Mcp-Session-Id".into(), "sess-1".into()));
        Ok(resp)
    })
}

fn run(params: DoctorParams, handler: Handler) -> (Doctor, Vec<HttpRequest>) {
    // A scripted WorkBoard: records requests, answers with `handler`.
    let server = ScriptedTransport::new(move |r| handler(r));
    let mut doc = Doctor::new(params).unwrap();
    futures_executor::block_on(drive(&mut doc, &server, &SimClock::at(1_700_000_000_000)));
    assert!(doc.is_done());
    (doc, server.requests())
}

fn us_with_token() -> DoctorParams {
    DoctorParams {
        token: Some(SecretString::new(TOKEN)),
        ..DoctorParams::for_environment(&Environment::Us)
    }
}

#[test]
fn doctor_healthy_run() {
    for sse in [false, true] {
        let (doc, seen) = run(us_with_token(), workboard(&["www.myworkboard.com"], 3, sse));
        assert_eq!(doc.diagnoses(), vec![], "{:#?}", doc.observation());
        let o = doc.observation();
        assert_eq!(o.unauthenticated_status, Some(401));
        assert_eq!(o.prm_status, Some(200));
        assert_eq!(o.initialize_status, Some(200));
        assert_eq!(o.tools_count, Some(3));
        let methods: Vec<String> = seen
            .iter()
            .filter(|r| r.method == Method::Post)
            .map(rpc_method)
            .collect();
        assert_eq!(
            methods,
            [
                "initialize",
                "initialize",
                "server/discover",
                "notifications/initialized",
                "tools/list"
            ]
        );
        // The modern probe was refused without a modern error: a legacy server.
        assert_eq!(o.era.as_deref(), Some("legacy"));
        assert_eq!(o.server_versions, ["2025-06-18"]);
        assert_eq!(o.discover_status, Some(400));
        // The unauthenticated probe carries no credentials; the others do.
        assert!(seen[0].header("authorization").is_none());
        assert!(seen
            .iter()
            .all(|r| r.url.starts_with("https://www.myworkboard.com/")));
    }
}

/// A modern-only (2026-07-28) server: `initialize` is refused with the modern error naming its
/// versions (as the TypeScript SDK 2.x and go-sdk do), modern requests are served.
fn modern_only(tools: usize) -> Handler {
    Box::new(move |r: &HttpRequest| {
        if r.method == Method::Get {
            return Ok(HttpResponse::new(405, vec![], ""));
        }
        if r.header("authorization") != Some(&format!("Bearer {TOKEN}")) {
            return Ok(HttpResponse::new(
                401,
                vec![("WWW-Authenticate".into(), "Bearer".into())],
                "",
            ));
        }
        let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap_or_default();
        let id = v["id"].clone();
        if r.header("mcp-method").is_none() {
            return Ok(HttpResponse::json(
                400,
                &json!({"jsonrpc": "2.0", "id": id, "error": {"code": -32022,
                    "message": "Unsupported protocol version", "data": {"supported": ["2026-07-28"]}}}),
            ));
        }
        let result = match rpc_method(r).as_str() {
            "server/discover" => {
                json!({"resultType": "complete", "supportedVersions": ["2026-07-28"], "capabilities": {"tools": {}}})
            }
            "tools/list" => {
                let list: Vec<_> = (0..tools)
                    .map(|i| json!({"name": format!("t{i}"), "inputSchema": {"type": "object"}}))
                    .collect();
                json!({"resultType": "complete", "tools": list})
            }
            _ => return Ok(HttpResponse::new(404, vec![], "")),
        };
        Ok(HttpResponse::json(
            200,
            &json!({"jsonrpc": "2.0", "id": id, "result": result}),
        ))
    })
}

#[test]
fn doctor_on_a_modern_only_server_reports_its_era_and_does_not_blame_initialize() {
    let params = DoctorParams {
        token: Some(SecretString::new(TOKEN)),
        ..DoctorParams::for_url("https://mcp.example.com/mcp")
    };
    let (doc, seen) = run(params.clone(), modern_only(2));
    let o = doc.observation();
    // Only the OAuth-discovery warnings of a server without metadata: nothing about the era.
    assert_eq!(
        codes(&doc.diagnoses()),
        vec!["no_resource_metadata", "no_protected_resource_metadata"],
        "{o:#?}"
    );
    assert_eq!(o.era.as_deref(), Some("modern"));
    assert_eq!(o.server_versions, ["2026-07-28"]);
    assert_eq!(o.initialize_status, Some(400));
    assert_eq!(o.tools_count, Some(2));
    let list = seen.iter().find(|r| rpc_method(r) == "tools/list").unwrap();
    assert_eq!(list.header("mcp-method"), Some("tools/list"));
    // Its tool list is still checked: none is the "No tools listed" row.
    let (doc, _) = run(params, modern_only(0));
    assert!(codes(&doc.diagnoses()).contains(&"no_tools"));
}

#[test]
fn doctor_finds_the_wrong_environment() {
    let (doc, seen) = run(
        us_with_token(),
        workboard(&["www.myworkboard.eu"], 3, false),
    );
    let d = doc.diagnoses();
    assert_eq!(codes(&d), vec!["wrong_environment"]);
    assert!(d[0].summary.contains("www.myworkboard.eu"));
    assert!(seen
        .iter()
        .any(|r| r.url == "https://www.myworkboard.eu/wb/mcp"));
}

#[test]
fn doctor_token_rejected_everywhere() {
    let (doc, _) = run(us_with_token(), workboard(&[], 3, false));
    assert_eq!(codes(&doc.diagnoses()), vec!["token_rejected"]);
}

#[test]
fn doctor_no_tools_and_node() {
    let p = DoctorParams {
        node_version: Some("v16.3.0".into()),
        ..us_with_token()
    };
    let (doc, _) = run(p, workboard(&["www.myworkboard.com"], 0, false));
    let d = doc.diagnoses();
    assert_eq!(codes(&d), vec!["no_tools", "node_too_old"]);
    assert_eq!(d[0].row, R::NoToolsListed);
    assert_eq!(d[1].row, R::ClaudeDesktopWontConnect);
}

#[test]
fn doctor_redirect_inputs_reach_the_diagnosis() {
    let p = DoctorParams {
        redirect_uri_configured: Some("https://claude.ai/api/mcp/auth_callback".into()),
        redirect_uri_used: Some("https://claude.ai/api/mcp/auth_callback/".into()),
        ..us_with_token()
    };
    let (doc, _) = run(p, workboard(&["www.myworkboard.com"], 1, false));
    assert_eq!(codes(&doc.diagnoses()), vec!["redirect_uri_mismatch"]);
}

#[test]
fn doctor_unreachable() {
    let (doc, _) = run(
        us_with_token(),
        Box::new(|_| Err(TransportError::Connect("dns failure".into()))),
    );
    let d = doc.diagnoses();
    assert_eq!(codes(&d), vec!["unreachable"]);
    assert!(d[0].summary.contains("dns failure"));
}

#[test]
fn doctor_without_token_only_probes() {
    let p = DoctorParams::for_environment(&Environment::Eu);
    let (doc, seen) = run(p, workboard(&["www.myworkboard.eu"], 1, false));
    assert!(seen.iter().all(|r| r.header("authorization").is_none()));
    assert_eq!(codes(&doc.diagnoses()), vec!["no_token"]);
}

#[test]
fn doctor_follows_resource_metadata_from_the_401() {
    // Path-inserted well-known fails; the 401 names a custom PRM URL.
    let handler: Handler = Box::new(|r: &HttpRequest| {
        if r.method == Method::Get {
            if r.url == "https://mcp.example.com/meta/prm" {
                return Ok(HttpResponse::json(
                    200,
                    &json!({"resource": "https://mcp.example.com/mcp", "authorization_servers": ["https://as.example.com"]}),
                ));
            }
            return Ok(HttpResponse::new(404, vec![], ""));
        }
        Ok(HttpResponse::new(
            401,
            vec![(
                "WWW-Authenticate".into(),
                "Bearer resource_metadata=\"https://mcp.example.com/meta/prm\"".into(),
            )],
            "",
        ))
    });
    let (doc, seen) = run(
        DoctorParams::for_url("https://mcp.example.com/mcp"),
        handler,
    );
    assert_eq!(doc.observation().prm_status, Some(200));
    assert!(seen
        .iter()
        .any(|r| r.url == "https://mcp.example.com/meta/prm"));
    assert_eq!(codes(&doc.diagnoses()), vec!["no_token"]);
}

#[test]
fn probe_plan_lists_the_first_requests_without_leaking_the_token() {
    let t = SecretString::new(format!("Bearer {TOKEN}"));
    let plan = probe_plan("https://www.myworkboard.com/wb/mcp", Some(&t)).unwrap();
    let kinds: Vec<ProbeKind> = plan.iter().map(|s| s.kind).collect();
    assert_eq!(
        kinds,
        vec![
            ProbeKind::UnauthenticatedPost,
            ProbeKind::ProtectedResourceMetadata,
            ProbeKind::Initialize,
            ProbeKind::Discover
        ]
    );
    // The modern probe carries the token too, and the 2026-07-28 headers.
    let discover = &plan[3].request;
    assert_eq!(discover.header("mcp-method"), Some("server/discover"));
    assert_eq!(discover.header("mcp-protocol-version"), Some("2026-07-28"));
    assert_eq!(
        discover.header("authorization").map(str::to_string),
        Some(format!("Bearer {TOKEN}"))
    );
    assert_eq!(plan[0].request.header("authorization"), None);
    assert_eq!(
        plan[1].request.url,
        "https://www.myworkboard.com/.well-known/oauth-protected-resource/wb/mcp"
    );
    // A token passed with its `Bearer ` prefix is not doubled.
    assert_eq!(
        plan[2].request.header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    assert_eq!(
        plan[2].request.header("accept"),
        Some("application/json, text/event-stream")
    );
    let dbg = format!("{plan:?}");
    assert!(!dbg.contains(TOKEN), "{dbg}");
    let doc = Doctor::new(us_with_token()).unwrap();
    assert!(!format!("{doc:?}").contains(TOKEN));
    assert_eq!(
        probe_plan("http://www.myworkboard.com/wb/mcp", None)
            .unwrap_err()
            .code(),
        "insecure_url"
    );
    assert_eq!(probe_plan("::", None).unwrap_err().code(), "invalid_url");
    // Without a token: the unauthenticated POST, the metadata and the modern probe.
    assert_eq!(probe_plan("https://h/wb/mcp", None).unwrap().len(), 3);
}

#[test]
fn diagnoses_never_contain_the_token() {
    let (doc, _) = run(
        us_with_token(),
        workboard(&["www.myworkboard.eu"], 0, false),
    );
    let all = serde_json::to_string(&doc.diagnoses()).unwrap()
        + &serde_json::to_string(doc.observation()).unwrap();
    assert!(!all.contains(TOKEN));
}

#[test]
fn troubleshooting_rows_have_snake_case_names_in_json() {
    assert_eq!(
        serde_json::to_value(R::Unauthorized401).unwrap(),
        "unauthorized_401"
    );
    assert_eq!(
        serde_json::to_value(R::ClaudeDesktopWontConnect).unwrap(),
        "claude_desktop_wont_connect"
    );
    let back: R = serde_json::from_value(serde_json::json!("unauthorized_401")).unwrap();
    assert_eq!(back, R::Unauthorized401);
}

#[test]
fn the_401_hint_speaks_of_workboard_only_for_workboard_servers() {
    use workboard_core::error::HINT_401_OTHER_SERVER;
    let other = one(&Observation {
        environment: Some("https://mcp.example.com".into()),
        server_url: Some("https://mcp.example.com/mcp".into()),
        initialize_status: Some(401),
        tools_list_status: None,
        tools_count: None,
        ..healthy()
    });
    assert_eq!(other.fix, HINT_401_OTHER_SERVER);
    assert!(!other.fix.contains("WorkBoard") && !other.fix.contains("myworkboard"));
    // WorkBoard's MCP path on another host (a private deployment, the simulator): WorkBoard.
    let private = one(&Observation {
        server_url: Some("http://127.0.0.1:8080/wb/mcp".into()),
        initialize_status: Some(401),
        tools_list_status: None,
        tools_count: None,
        ..healthy()
    });
    assert_eq!(private.fix, HINT_401);
    // The error's own hint follows the same rule.
    let e = |url: &str| workboard_core::Error::Unauthorized {
        url: url.into(),
        error: None,
        environment: "label".into(),
    };
    let foreign = e("https://mcp.example.com/mcp").hint().unwrap();
    assert!(foreign.starts_with(HINT_401_OTHER_SERVER), "{foreign}");
    assert!(!foreign.contains("personal token"), "{foreign}");
    let wb = e("https://www.myworkboard.eu/wb/mcp").hint().unwrap();
    assert!(
        wb.starts_with(HINT_401) && wb.contains("Environment in use"),
        "{wb}"
    );
}

#[test]
fn the_observation_never_holds_user_info_or_secret_query_values() {
    let d =
        workboard_config::diagnose::Doctor::new(workboard_config::diagnose::DoctorParams::for_url(
            "https://ada:pa55word@mcp.example.com/mcp?access_token=QSECRET&x=1",
        ))
        .unwrap();
    let o = d.observation();
    let shown = format!("{:?} {:?}", o.server_url, o.environment);
    assert!(
        !shown.contains("pa55word") && !shown.contains("ada") && !shown.contains("QSECRET"),
        "{shown}"
    );
    assert!(shown.contains("mcp.example.com/mcp"), "{shown}");
}
