//! Resources, prompts and completions, in both eras.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::{json, Value};
use workboard_sim::{Role, SimConfig, DEMO_PERSONAL_TOKEN, RESOURCES_PAGE_SIZE};

const T: &str = DEMO_PERSONAL_TOKEN;

/// Runs a method in the modern era (a conforming request) or on a legacy session, and
/// returns the JSON-RPC message.
async fn both(
    sim: &workboard_sim::SimHandle,
    sid: Option<&str>,
    method: &str,
    params: Value,
) -> Value {
    match sid {
        Some(s) => call(sim, T, s, 7, method, params).await,
        None => {
            let (status, m) = modern(sim, T, 7, method, params).await;
            assert_eq!(status, StatusCode::OK, "{method}: {m}");
            m
        }
    }
}

#[tokio::test]
async fn resources_paginate_list_templates_and_read_in_both_eras() {
    let sim = start(SimConfig::default()).await;
    let legacy = mcp_session(&sim, T).await;
    for sid in [None, Some(legacy.as_str())] {
        let page1 = both(&sim, sid, "resources/list", json!({})).await;
        let r = &page1["result"];
        let first = r["resources"].as_array().unwrap();
        assert_eq!(first.len(), RESOURCES_PAGE_SIZE);
        assert_eq!(first[0]["uri"], "workboard://goal/301");
        assert_eq!(first[0]["mimeType"], "application/json");
        let cursor = r["nextCursor"].as_str().unwrap().to_string();
        let page2 = both(&sim, sid, "resources/list", json!({"cursor": cursor})).await;
        let second = page2["result"]["resources"].as_array().unwrap();
        assert_eq!(second.len(), 4, "4 goals + 2 teams + 3 KPIs = 9");
        assert!(page2["result"].get("nextCursor").is_none());
        let bad = both(&sim, sid, "resources/list", json!({"cursor": "nope"})).await;
        assert_eq!(bad["error"]["code"], -32602);
        if sid.is_none() {
            assert_eq!(r["resultType"], "complete");
            assert_eq!(r["cacheScope"], "private");
            assert_eq!(r["ttlMs"], 60_000);
            assert_eq!(page2["result"]["cacheScope"], "private");
        } else {
            assert!(r.get("resultType").is_none() && r.get("ttlMs").is_none());
        }

        let t = both(&sim, sid, "resources/templates/list", json!({})).await;
        let templates = t["result"]["resourceTemplates"].as_array().unwrap();
        assert_eq!(templates.len(), 4);
        assert!(templates
            .iter()
            .any(|x| x["uriTemplate"] == "workboard://goal/{goal_id}"));
        if sid.is_none() {
            assert_eq!(t["result"]["cacheScope"], "public");
        }

        let read = both(
            &sim,
            sid,
            "resources/read",
            json!({"uri": "workboard://goal/301"}),
        )
        .await;
        let c = &read["result"]["contents"][0];
        assert_eq!(c["uri"], "workboard://goal/301");
        let goal: Value = serde_json::from_str(c["text"].as_str().unwrap()).unwrap();
        assert_eq!(goal["goal_name"], "Ship a reliable API platform");
        assert_eq!(goal["key_results"].as_array().unwrap().len(), 2);
        let team = both(
            &sim,
            sid,
            "resources/read",
            json!({"uri": "workboard://team/202"}),
        )
        .await;
        let team: Value =
            serde_json::from_str(team["result"]["contents"][0]["text"].as_str().unwrap()).unwrap();
        assert_eq!(team["objectives"].as_array().unwrap().len(), 2);
        let kr = both(
            &sim,
            sid,
            "resources/read",
            json!({"uri": "workboard://key-result/405"}),
        )
        .await;
        assert!(kr["result"]["contents"][0]["text"]
            .as_str()
            .unwrap()
            .contains("Weekly active teams"));

        // Not found: -32602 in 2026-07-28, -32002 in the legacy revisions; never empty contents.
        let missing = both(
            &sim,
            sid,
            "resources/read",
            json!({"uri": "workboard://goal/999"}),
        )
        .await;
        let code = if sid.is_none() { -32602 } else { -32002 };
        assert_eq!(missing["error"]["code"], code);
        assert_eq!(missing["error"]["data"]["uri"], "workboard://goal/999");
        assert!(missing.get("result").is_none());
        // Error messages do not echo unbounded input.
        let long = format!("workboard://goal/{}", "9".repeat(5000));
        let m = both(&sim, sid, "resources/read", json!({"uri": long})).await;
        assert!(m.to_string().len() < 1000);
        if sid.is_none() {
            assert_eq!(read["result"]["cacheScope"], "private");
            assert_eq!(read["result"]["ttlMs"], 10_000);
        }
    }
    // A role without access lists and reads nothing.
    let none = sim.issue_personal_token("ada@example.com", Role::NoAccess);
    let (_, m) = modern(&sim, &none, 1, "resources/list", json!({})).await;
    assert_eq!(m["result"]["resources"], json!([]));
    let (_, m) = modern(
        &sim,
        &none,
        2,
        "resources/read",
        json!({"uri": "workboard://goal/301"}),
    )
    .await;
    assert_eq!(m["error"]["code"], -32602);
}

#[tokio::test]
async fn prompts_list_and_get_with_arguments_in_both_eras() {
    let sim = start(SimConfig::default()).await;
    let legacy = mcp_session(&sim, T).await;
    for sid in [None, Some(legacy.as_str())] {
        let list = both(&sim, sid, "prompts/list", json!({})).await;
        let prompts = list["result"]["prompts"].as_array().unwrap();
        assert_eq!(prompts.len(), 2);
        assert_eq!(prompts[0]["name"], "objective_review");
        assert_eq!(prompts[0]["arguments"][0]["required"], true);
        if sid.is_none() {
            assert_eq!(list["result"]["cacheScope"], "public");
            assert_eq!(list["result"]["ttlMs"], 300_000);
        }
        let get = both(
            &sim,
            sid,
            "prompts/get",
            json!({"name": "objective_review", "arguments": {"objective_id": "303", "focus": "risks"}}),
        )
        .await;
        let msg = &get["result"]["messages"][0];
        assert_eq!(msg["role"], "user");
        let text = msg["content"]["text"].as_str().unwrap();
        assert!(
            text.contains("Grow weekly active teams") && text.contains("risks"),
            "{text}"
        );
        assert!(text.contains("Net revenue retention"));
        let weekly = both(
            &sim,
            sid,
            "prompts/get",
            json!({"name": "weekly_update", "arguments": {"team": "platform"}}),
        )
        .await;
        assert!(weekly["result"]["messages"][0]["content"]["text"]
            .as_str()
            .unwrap()
            .contains("Cut infrastructure cost"));
        for (params, hint) in [
            (
                json!({"name": "objective_review", "arguments": {}}),
                "objective_id",
            ),
            (
                json!({"name": "objective_review", "arguments": {"objective_id": "42"}}),
                "no objective",
            ),
            (
                json!({"name": "weekly_update", "arguments": {"team": "Nope"}}),
                "no team",
            ),
            (json!({"name": "nope"}), "unknown prompt"),
        ] {
            let m = both(&sim, sid, "prompts/get", params).await;
            assert_eq!(m["error"]["code"], -32602);
            assert!(
                m["error"]["message"].as_str().unwrap().contains(hint),
                "{m}"
            );
        }
    }
}

#[tokio::test]
async fn completion_for_prompt_arguments_and_template_variables() {
    let sim = start(SimConfig::default()).await;
    let legacy = mcp_session(&sim, T).await;
    for sid in [None, Some(legacy.as_str())] {
        let complete = |r: Value, name: &str, value: &str| json!({"ref": r, "argument": {"name": name, "value": value}});
        let values = |m: &Value| -> Vec<String> {
            m["result"]["completion"]["values"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap().to_string())
                .collect()
        };
        let p = json!({"type": "ref/prompt", "name": "objective_review"});
        let m = both(
            &sim,
            sid,
            "completion/complete",
            complete(p.clone(), "objective_id", "30"),
        )
        .await;
        assert_eq!(values(&m), vec!["301", "302", "303", "304"]);
        assert_eq!(m["result"]["completion"]["hasMore"], false);
        let m = both(
            &sim,
            sid,
            "completion/complete",
            complete(p.clone(), "objective_id", "303"),
        )
        .await;
        assert_eq!(values(&m), vec!["303"]);
        let m = both(
            &sim,
            sid,
            "completion/complete",
            complete(
                json!({"type": "ref/prompt", "name": "weekly_update"}),
                "team",
                "gr",
            ),
        )
        .await;
        assert_eq!(values(&m), vec!["Growth"]);
        let m = both(
            &sim,
            sid,
            "completion/complete",
            complete(
                json!({"type": "ref/resource", "uri": "workboard://goal/{goal_id}"}),
                "goal_id",
                "302",
            ),
        )
        .await;
        assert_eq!(values(&m), vec!["302"]);
        let m = both(
            &sim,
            sid,
            "completion/complete",
            complete(
                json!({"type": "ref/resource", "uri": "workboard://kpi/{kpi_id}"}),
                "kpi_id",
                "",
            ),
        )
        .await;
        assert_eq!(values(&m), vec!["501", "502", "503"]);
        for bad in [
            complete(json!({"type": "ref/prompt", "name": "nope"}), "x", ""),
            complete(
                json!({"type": "ref/resource", "uri": "workboard://nope/{id}"}),
                "id",
                "",
            ),
            complete(json!({"type": "ref/other"}), "x", ""),
            json!({"ref": p.clone()}),
        ] {
            let m = both(&sim, sid, "completion/complete", bad).await;
            assert_eq!(m["error"]["code"], -32602, "{m}");
        }
    }
}
