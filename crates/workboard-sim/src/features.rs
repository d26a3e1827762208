//! Resources, prompts and completions over the seeded data (both eras), the server's
//! capabilities and identity.

use serde_json::{json, Value};

use crate::config::Role;
use crate::mcp::{paginate, shown, Caller, RpcError, Served};
use crate::state::Shared;

/// Resources per `resources/list` page.
pub const RESOURCES_PAGE_SIZE: usize = 5;

pub(crate) const INSTRUCTIONS: &str = "Simulated WorkBoard: objectives, key results, KPIs, scorecards and business reviews of a seeded organisation.";

/// `serverInfo` (legacy `initialize`) and `_meta.io.modelcontextprotocol/serverInfo` (modern).
pub(crate) fn server_info() -> Value {
    json!({"name": "workboard-sim", "title": "WorkBoard simulator", "version": env!("CARGO_PKG_VERSION")})
}

/// The server's capabilities (both eras).
pub(crate) fn server_capabilities() -> Value {
    json!({
        "tools": {"listChanged": true},
        "resources": {"subscribe": true, "listChanged": true},
        "prompts": {"listChanged": true},
        "completions": {},
        "logging": {},
    })
}

/// Rank of a syslog level (debug = 0 .. emergency = 7).
pub(crate) fn log_level_rank(level: &str) -> Option<u8> {
    let levels = [
        "debug",
        "info",
        "notice",
        "warning",
        "error",
        "critical",
        "alert",
        "emergency",
    ];
    levels.iter().position(|l| *l == level).map(|p| p as u8)
}

const GOAL: &str = "workboard://goal/";
const TEAM: &str = "workboard://team/";
const KPI: &str = "workboard://kpi/";
const KEY_RESULT: &str = "workboard://key-result/";

/// The resource a successful write tool call changed, if any.
pub(crate) fn touched_goal(sh: &Shared, tool: &str, params: &Value) -> Option<String> {
    let args = params.get("arguments")?;
    match tool {
        "update_key_result" => {
            let kr = args.get("key_result_id")?.as_u64()?;
            let store = sh.store();
            let k = store.data.key_results.iter().find(|k| k.id == kr)?;
            Some(format!("{GOAL}{}", k.objective_id))
        }
        "log_kpi_data" => Some(format!("{KPI}{}", args.get("kpi_id")?.as_u64()?)),
        _ => None,
    }
}

pub(crate) fn resources_list(
    sh: &Shared,
    caller: &Caller,
    params: &Value,
) -> Result<Value, RpcError> {
    let mut items = Vec::new();
    if caller.role != Role::NoAccess {
        let store = sh.store();
        let d = &store.data;
        for o in &d.objectives {
            items.push(json!({"uri": format!("{GOAL}{}", o.id), "name": format!("goal-{}", o.id),
                "title": o.title, "description": "Objective with its key results", "mimeType": "application/json"}));
        }
        for t in &d.teams {
            items.push(json!({"uri": format!("{TEAM}{}", t.id), "name": format!("team-{}", t.id),
                "title": t.name, "description": "Team with its objectives", "mimeType": "application/json"}));
        }
        for k in &d.kpis {
            items.push(json!({"uri": format!("{KPI}{}", k.id), "name": format!("kpi-{}", k.id),
                "title": k.name, "description": "KPI with its data points", "mimeType": "application/json"}));
        }
    }
    paginate(items, params, RESOURCES_PAGE_SIZE, "resources")
}

fn templates() -> Vec<(&'static str, &'static str, &'static str)> {
    vec![
        ("workboard://goal/{goal_id}", "goal", "An objective (goal)"),
        ("workboard://team/{team_id}", "team", "A team"),
        ("workboard://kpi/{kpi_id}", "kpi", "A KPI"),
        (
            "workboard://key-result/{key_result_id}",
            "key-result",
            "A key result",
        ),
    ]
}

pub(crate) fn templates_list(_caller: &Caller, params: &Value) -> Result<Value, RpcError> {
    let items = templates()
        .into_iter()
        .map(|(t, name, title)| {
            json!({"uriTemplate": t, "name": name, "title": title, "mimeType": "application/json"})
        })
        .collect();
    paginate(items, params, RESOURCES_PAGE_SIZE, "resourceTemplates")
}

fn not_found(uri: &str, served: Served) -> RpcError {
    // 2026-07-28: -32602; the legacy revisions: -32002.
    let code = match served {
        Served::Modern => -32602,
        Served::Legacy => -32002,
    };
    RpcError::new(code, "Resource not found").with_data(json!({"uri": shown(uri)}))
}

pub(crate) fn resources_read(
    sh: &Shared,
    caller: &Caller,
    params: &Value,
    served: Served,
) -> Result<Value, RpcError> {
    let Some(uri) = params.get("uri").and_then(Value::as_str) else {
        return Err(RpcError::new(-32602, "Invalid params: uri is required"));
    };
    if caller.role == Role::NoAccess {
        return Err(not_found(uri, served));
    }
    let id_of = |prefix: &str| uri.strip_prefix(prefix).and_then(|r| r.parse::<u64>().ok());
    let store = sh.store();
    let d = &store.data;
    let content = if let Some(id) = id_of(GOAL) {
        d.objective(id).map(|o| d.objective_json(o))
    } else if let Some(id) = id_of(TEAM) {
        d.teams.iter().find(|t| t.id == id).map(|t| {
            let mut v = d.team_json(t);
            let goals: Vec<Value> = d
                .objectives
                .iter()
                .filter(|o| o.team_id == id)
                .map(|o| json!({"goal_id": o.id, "goal_name": o.title}))
                .collect();
            if let Some(o) = v.as_object_mut() {
                o.insert("objectives".to_string(), json!(goals));
            }
            v
        })
    } else if let Some(id) = id_of(KPI) {
        d.kpis.iter().find(|k| k.id == id).map(|k| d.kpi_json(k))
    } else if let Some(id) = id_of(KEY_RESULT) {
        d.key_results
            .iter()
            .find(|k| k.id == id)
            .map(|k| k.to_json())
    } else {
        None
    };
    let Some(content) = content else {
        return Err(not_found(uri, served));
    };
    Ok(
        json!({"contents": [{"uri": uri, "mimeType": "application/json", "text": content.to_string()}]}),
    )
}

fn prompt_defs() -> Vec<Value> {
    vec![
        json!({
            "name": "objective_review",
            "title": "Review an objective",
            "description": "Asks for a review of one objective and its key results.",
            "arguments": [
                {"name": "objective_id", "description": "Objective (goal) id", "required": true},
                {"name": "focus", "description": "risks, progress or next steps", "required": false}
            ]
        }),
        json!({
            "name": "weekly_update",
            "title": "Weekly team update",
            "description": "Drafts a weekly update of a team's objectives.",
            "arguments": [
                {"name": "team", "description": "Team name", "required": true}
            ]
        }),
    ]
}

pub(crate) fn prompts_list(_caller: &Caller, params: &Value) -> Result<Value, RpcError> {
    paginate(prompt_defs(), params, RESOURCES_PAGE_SIZE, "prompts")
}

pub(crate) fn prompts_get(
    sh: &Shared,
    _caller: &Caller,
    params: &Value,
) -> Result<Value, RpcError> {
    let Some(name) = params.get("name").and_then(Value::as_str) else {
        return Err(RpcError::new(-32602, "Invalid params: name is required"));
    };
    let args = params.get("arguments").cloned().unwrap_or(json!({}));
    let arg = |k: &str| args.get(k).and_then(Value::as_str).map(str::to_string);
    let store = sh.store();
    let d = &store.data;
    let text = match name {
        "objective_review" => {
            let Some(raw) = arg("objective_id") else {
                return Err(RpcError::new(
                    -32602,
                    "Invalid params: missing required argument objective_id",
                ));
            };
            let o = raw
                .trim()
                .parse::<u64>()
                .ok()
                .and_then(|id| d.objective(id))
                .ok_or_else(|| {
                    RpcError::new(
                        -32602,
                        format!("Invalid params: no objective `{}`", shown(&raw)),
                    )
                })?;
            let krs: Vec<String> = d
                .key_results
                .iter()
                .filter(|k| k.objective_id == o.id)
                .map(|k| format!("- {} ({}% done)", k.name, k.progress()))
                .collect();
            let focus = arg("focus").unwrap_or_else(|| "progress".to_string());
            format!(
                "Review the objective \"{}\" (id {}) with a focus on {}.\nKey results:\n{}",
                o.title,
                o.id,
                shown(&focus),
                krs.join("\n")
            )
        }
        "weekly_update" => {
            let Some(team) = arg("team") else {
                return Err(RpcError::new(
                    -32602,
                    "Invalid params: missing required argument team",
                ));
            };
            let t = d
                .teams
                .iter()
                .find(|t| t.name.eq_ignore_ascii_case(team.trim()))
                .ok_or_else(|| {
                    RpcError::new(
                        -32602,
                        format!("Invalid params: no team `{}`", shown(&team)),
                    )
                })?;
            let goals: Vec<String> = d
                .objectives
                .iter()
                .filter(|o| o.team_id == t.id)
                .map(|o| format!("- {}", o.title))
                .collect();
            format!(
                "Draft this week's update for the {} team. Objectives:\n{}",
                t.name,
                goals.join("\n")
            )
        }
        other => {
            return Err(RpcError::new(
                -32602,
                format!("Invalid params: unknown prompt `{}`", shown(other)),
            ))
        }
    };
    Ok(json!({
        "description": format!("{name} prompt"),
        "messages": [{"role": "user", "content": {"type": "text", "text": text}}]
    }))
}

/// `completion/complete` for prompt arguments and resource-template variables.
pub(crate) fn complete(sh: &Shared, _caller: &Caller, params: &Value) -> Result<Value, RpcError> {
    let reference = params.get("ref").cloned().unwrap_or(Value::Null);
    let Some(arg_name) = params
        .get("argument")
        .and_then(|a| a.get("name"))
        .and_then(Value::as_str)
    else {
        return Err(RpcError::new(
            -32602,
            "Invalid params: argument.name is required",
        ));
    };
    let prefix = params
        .get("argument")
        .and_then(|a| a.get("value"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_lowercase();
    let store = sh.store();
    let d = &store.data;
    let ids = |v: Vec<u64>| v.into_iter().map(|i| i.to_string()).collect::<Vec<_>>();
    let candidates: Vec<String> = match reference.get("type").and_then(Value::as_str) {
        Some("ref/prompt") => {
            let name = reference.get("name").and_then(Value::as_str).unwrap_or("");
            match (name, arg_name) {
                ("objective_review", "objective_id") => {
                    ids(d.objectives.iter().map(|o| o.id).collect())
                }
                ("objective_review", "focus") => {
                    vec!["risks".into(), "progress".into(), "next steps".into()]
                }
                ("weekly_update", "team") => d.teams.iter().map(|t| t.name.clone()).collect(),
                ("objective_review" | "weekly_update", _) => Vec::new(),
                _ => {
                    return Err(RpcError::new(
                        -32602,
                        format!("Invalid params: unknown prompt `{}`", shown(name)),
                    ))
                }
            }
        }
        Some("ref/resource") => {
            let uri = reference.get("uri").and_then(Value::as_str).unwrap_or("");
            match (uri, arg_name) {
                ("workboard://goal/{goal_id}", "goal_id") => {
                    ids(d.objectives.iter().map(|o| o.id).collect())
                }
                ("workboard://team/{team_id}", "team_id") => {
                    ids(d.teams.iter().map(|t| t.id).collect())
                }
                ("workboard://kpi/{kpi_id}", "kpi_id") => {
                    ids(d.kpis.iter().map(|k| k.id).collect())
                }
                ("workboard://key-result/{key_result_id}", "key_result_id") => {
                    ids(d.key_results.iter().map(|k| k.id).collect())
                }
                (u, _) if templates().iter().any(|(t, _, _)| *t == u) => Vec::new(),
                _ => {
                    return Err(RpcError::new(
                        -32602,
                        format!("Invalid params: unknown resource template `{}`", shown(uri)),
                    ))
                }
            }
        }
        _ => {
            return Err(RpcError::new(
                -32602,
                "Invalid params: ref.type must be ref/prompt or ref/resource",
            ))
        }
    };
    let values: Vec<String> = candidates
        .into_iter()
        .filter(|c| c.to_lowercase().starts_with(&prefix))
        .take(100)
        .collect();
    Ok(json!({"completion": {"values": values, "total": values.len(), "hasMore": false}}))
}
