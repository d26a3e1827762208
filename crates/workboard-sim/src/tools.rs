//! The MCP tools served by the simulator: a representative subset of WorkBoard's, over the
//! seeded data.

use serde_json::{json, Map, Value};

use crate::data::{Activity, Data};

/// One tool: name, description, JSON input schema, and whether it writes.
pub(crate) struct ToolDef {
    pub name: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    pub write: bool,
    pub schema: fn() -> Value,
}

impl ToolDef {
    pub fn to_json(&self) -> Value {
        json!({
            "name": self.name,
            "title": self.title,
            "description": self.description,
            "inputSchema": (self.schema)(),
            "annotations": {"readOnlyHint": !self.write},
        })
    }
}

fn no_args() -> Value {
    json!({"type": "object", "properties": {}, "additionalProperties": false})
}

fn id_arg(name: &'static str, what: &'static str) -> Value {
    json!({
        "type": "object",
        "properties": {name: {"type": "integer", "description": what}},
        "required": [name],
        "additionalProperties": false
    })
}

fn optional_team() -> Value {
    json!({
        "type": "object",
        "properties": {"team_id": {"type": "integer", "description": "Only this team"}},
        "additionalProperties": false
    })
}

/// Every tool, in listing order. The scope `write` (or `all`) is needed for tools with
/// `write: true`.
pub(crate) const TOOLS: &[ToolDef] = &[
    ToolDef {
        name: "get_current_user",
        title: "Current user",
        description: "Profile of the signed-in WorkBoard user and the teams they manage.",
        write: false,
        schema: no_args,
    },
    ToolDef {
        name: "search",
        title: "Search",
        description: "Full-text search over objectives, key results, KPIs, teams and users.",
        write: false,
        schema: || {
            json!({
                "type": "object",
                "properties": {
                    "query": {"type": "string", "minLength": 1, "description": "Words to look for"},
                    "type": {"type": "string", "enum": ["objective", "key_result", "kpi", "team", "user"]},
                    "limit": {"type": "integer", "minimum": 1, "maximum": 50},
                    "workspace": {"type": "string", "description": "Workspace to search (mirrored into the Mcp-Param-Workspace header)", "x-mcp-header": "Workspace"}
                },
                "required": ["query"],
                "additionalProperties": false
            })
        },
    },
    ToolDef {
        name: "list_teams",
        title: "Teams",
        description: "Teams visible to the user.",
        write: false,
        schema: no_args,
    },
    ToolDef {
        name: "get_team_objectives",
        title: "Team objectives",
        description: "Objectives of a team with their progress.",
        write: false,
        schema: || {
            json!({
                "type": "object",
                "properties": {"team_id": {"type": "integer", "description": "WorkBoard team id (mirrored into the Mcp-Param-Team-Id header)", "x-mcp-header": "Team-Id"}},
                "required": ["team_id"],
                "additionalProperties": false
            })
        },
    },
    ToolDef {
        name: "get_objective_key_results",
        title: "Key results of an objective",
        description: "Key results of one objective.",
        write: false,
        schema: || id_arg("objective_id", "Objective (goal) id"),
    },
    ToolDef {
        name: "get_key_result_details",
        title: "Key result details",
        description: "One key result: start, target, current value, progress, comments.",
        write: false,
        schema: || id_arg("key_result_id", "Key result id"),
    },
    ToolDef {
        name: "get_goal",
        title: "Goal",
        description: "One objective (goal) with its key results.",
        write: false,
        schema: || id_arg("goal_id", "Objective (goal) id"),
    },
    ToolDef {
        name: "update_key_result",
        title: "Update key result",
        description: "Record a new current value of a key result.",
        write: true,
        schema: || {
            json!({
                "type": "object",
                "properties": {
                    "key_result_id": {"type": "integer"},
                    "value": {"type": "number"},
                    "comment": {"type": "string"}
                },
                "required": ["key_result_id", "value"],
                "additionalProperties": false
            })
        },
    },
    ToolDef {
        name: "log_kpi_data",
        title: "Log KPI data",
        description: "Append a data point to a KPI.",
        write: true,
        schema: || {
            json!({
                "type": "object",
                "properties": {
                    "kpi_id": {"type": "integer"},
                    "value": {"type": "number"},
                    "date": {"type": "string", "pattern": "^\\d{4}-\\d{2}-\\d{2}$"}
                },
                "required": ["kpi_id", "value"],
                "additionalProperties": false
            })
        },
    },
    ToolDef {
        name: "create_activity",
        title: "Create activity",
        description: "Create an action item, optionally linked to a key result.",
        write: true,
        schema: || {
            json!({
                "type": "object",
                "properties": {
                    "title": {"type": "string", "minLength": 1},
                    "due_date": {"type": "string", "pattern": "^\\d{4}-\\d{2}-\\d{2}$"},
                    "key_result_id": {"type": "integer"}
                },
                "required": ["title"],
                "additionalProperties": false
            })
        },
    },
    ToolDef {
        name: "get_wobo_url",
        title: "WorkBoard link",
        description: "Web link to an objective, key result, team or KPI.",
        write: false,
        schema: || {
            json!({
                "type": "object",
                "properties": {
                    "type": {"type": "string", "enum": ["objective", "key_result", "team", "kpi"]},
                    "id": {"type": "integer"}
                },
                "required": ["type", "id"],
                "additionalProperties": false
            })
        },
    },
    ToolDef {
        name: "scorecard_list",
        title: "Scorecards",
        description: "KPI scorecards, optionally of one team.",
        write: false,
        schema: optional_team,
    },
    ToolDef {
        name: "rbr_list",
        title: "Business reviews",
        description: "Recent business reviews (RBRs), optionally of one team.",
        write: false,
        schema: optional_team,
    },
    ToolDef {
        name: "draft_check_in",
        title: "Draft a check-in",
        description: "Drafts a weekly check-in of a key result; asks the user for a confidence and a note (elicitation: MRTR in 2026-07-28, a server request in legacy sessions).",
        write: false,
        schema: || id_arg("key_result_id", "Key result id"),
    },
    ToolDef {
        name: "suggest_key_result",
        title: "Suggest a key result",
        description: "Suggests a new key result for an objective; asks the client's LLM (sampling: MRTR in 2026-07-28, a server request in legacy sessions).",
        write: false,
        schema: || id_arg("objective_id", "Objective (goal) id"),
    },
    ToolDef {
        name: "list_workspace_roots",
        title: "Workspace roots",
        description: "Lists the roots (directories, workspaces) the client exposes; asks the client (roots/list: MRTR in 2026-07-28, a server request in legacy sessions).",
        write: false,
        schema: || json!({"type": "object", "properties": {}}),
    },
];

/// What a tool needs from the client before it can answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum InputKind {
    /// `elicitation/create` (form mode).
    Elicitation,
    /// `sampling/createMessage`.
    Sampling,
    /// `roots/list`.
    Roots,
}

/// The input a tool asks the client for, if any.
pub(crate) fn input_kind(name: &str) -> Option<InputKind> {
    match name {
        "draft_check_in" => Some(InputKind::Elicitation),
        "suggest_key_result" => Some(InputKind::Sampling),
        "list_workspace_roots" => Some(InputKind::Roots),
        _ => None,
    }
}

pub(crate) fn find(name: &str) -> Option<&'static ToolDef> {
    TOOLS.iter().find(|t| t.name == name)
}

type Args = Map<String, Value>;

fn check_keys(args: &Args, tool: &ToolDef) -> Result<(), String> {
    let schema = (tool.schema)();
    let props = schema.get("properties").and_then(Value::as_object);
    for k in args.keys() {
        if !props.is_some_and(|p| p.contains_key(k)) {
            return Err(format!("unknown argument `{k}`"));
        }
    }
    Ok(())
}

fn int(args: &Args, key: &str) -> Result<u64, String> {
    match args.get(key) {
        Some(v) => v
            .as_u64()
            .ok_or_else(|| format!("`{key}` must be a non-negative integer")),
        None => Err(format!("`{key}` is required")),
    }
}

fn opt_int(args: &Args, key: &str) -> Result<Option<u64>, String> {
    match args.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(_) => int(args, key).map(Some),
    }
}

fn num(args: &Args, key: &str) -> Result<f64, String> {
    match args.get(key) {
        Some(v) => v
            .as_f64()
            .ok_or_else(|| format!("`{key}` must be a number")),
        None => Err(format!("`{key}` is required")),
    }
}

fn opt_str<'a>(args: &'a Args, key: &str) -> Result<Option<&'a str>, String> {
    match args.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(format!("`{key}` must be a string")),
    }
}

fn date(args: &Args, key: &str) -> Result<Option<String>, String> {
    let Some(d) = opt_str(args, key)? else {
        return Ok(None);
    };
    let b = d.as_bytes();
    let ok = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if ok {
        Ok(Some(d.to_string()))
    } else {
        Err(format!("`{key}` must be a date YYYY-MM-DD"))
    }
}

/// Runs a tool. `Err` is a tool error (`isError: true`), not a protocol error.
pub(crate) fn call(
    data: &mut Data,
    base_url: &str,
    user_id: u64,
    tool: &ToolDef,
    args: &Args,
) -> Result<Value, String> {
    check_keys(args, tool)?;
    match tool.name {
        "get_current_user" => Ok(data.user_json(user_id)),
        "search" => {
            let query = opt_str(args, "query")?
                .ok_or("`query` is required")?
                .to_lowercase();
            if query.trim().is_empty() {
                return Err("`query` must not be empty".to_string());
            }
            let kind = opt_str(args, "type")?;
            let limit = opt_int(args, "limit")?.unwrap_or(10).clamp(1, 50) as usize;
            let mut results = Vec::new();
            let mut push = |t: &str, id: u64, title: &str| {
                if kind.is_none_or(|k| k == t) && title.to_lowercase().contains(&query) {
                    results.push(json!({"type": t, "id": id, "title": title}));
                }
            };
            for o in &data.objectives {
                push("objective", o.id, &o.title);
            }
            for k in &data.key_results {
                push("key_result", k.id, &k.name);
            }
            for k in &data.kpis {
                push("kpi", k.id, &k.name);
            }
            for t in &data.teams {
                push("team", t.id, &t.name);
            }
            for u in &data.users {
                push(
                    "user",
                    u.id,
                    &format!("{} {} <{}>", u.first_name, u.last_name, u.email),
                );
            }
            results.truncate(limit);
            Ok(json!({"query": query, "results": results}))
        }
        "list_teams" => {
            Ok(json!({"teams": data.teams.iter().map(|t| data.team_json(t)).collect::<Vec<_>>()}))
        }
        "get_team_objectives" => {
            let team_id = int(args, "team_id")?;
            if !data.teams.iter().any(|t| t.id == team_id) {
                return Err(format!("team {team_id} not found"));
            }
            let objectives: Vec<Value> = data
                .objectives
                .iter()
                .filter(|o| o.team_id == team_id)
                .map(|o| data.objective_json(o))
                .collect();
            Ok(json!({"team_id": team_id, "objectives": objectives}))
        }
        "get_objective_key_results" => {
            let id = int(args, "objective_id")?;
            if data.objective(id).is_none() {
                return Err(format!("objective {id} not found"));
            }
            let krs: Vec<Value> = data
                .key_results
                .iter()
                .filter(|k| k.objective_id == id)
                .map(|k| k.to_json())
                .collect();
            Ok(json!({"objective_id": id, "key_results": krs}))
        }
        "get_key_result_details" => {
            let id = int(args, "key_result_id")?;
            data.key_results
                .iter()
                .find(|k| k.id == id)
                .map(|k| k.to_json())
                .ok_or_else(|| format!("key result {id} not found"))
        }
        "get_goal" => {
            let id = int(args, "goal_id")?;
            data.objective(id)
                .map(|o| data.objective_json(o))
                .ok_or_else(|| format!("goal {id} not found"))
        }
        "update_key_result" => {
            let id = int(args, "key_result_id")?;
            let value = num(args, "value")?;
            let comment = opt_str(args, "comment")?.map(str::to_string);
            let kr = data
                .key_results
                .iter_mut()
                .find(|k| k.id == id)
                .ok_or_else(|| format!("key result {id} not found"))?;
            kr.current = value;
            if let Some(c) = comment {
                kr.comments.push(c);
            }
            Ok(kr.to_json())
        }
        "log_kpi_data" => {
            let id = int(args, "kpi_id")?;
            let value = num(args, "value")?;
            let d = date(args, "date")?.unwrap_or_else(|| "2026-11-24".to_string());
            let kpi = data
                .kpis
                .iter_mut()
                .find(|k| k.id == id)
                .ok_or_else(|| format!("KPI {id} not found"))?;
            kpi.points.push((d, value));
            let kpi = kpi.clone();
            Ok(data.kpi_json(&kpi))
        }
        "create_activity" => {
            let title = opt_str(args, "title")?
                .ok_or("`title` is required")?
                .trim()
                .to_string();
            if title.is_empty() {
                return Err("`title` must not be empty".to_string());
            }
            let due_date = date(args, "due_date")?;
            let key_result_id = opt_int(args, "key_result_id")?;
            if let Some(k) = key_result_id {
                if !data.key_results.iter().any(|x| x.id == k) {
                    return Err(format!("key result {k} not found"));
                }
            }
            let id = 601 + data.activities.len() as u64;
            let a = Activity {
                id,
                title,
                owner_id: user_id,
                due_date,
                key_result_id,
            };
            let out = json!({"activity_id": a.id, "title": a.title, "owner_id": a.owner_id, "due_date": a.due_date, "key_result_id": a.key_result_id});
            data.activities.push(a);
            Ok(out)
        }
        "get_wobo_url" => {
            let kind = opt_str(args, "type")?.ok_or("`type` is required")?;
            let id = int(args, "id")?;
            let (exists, path) = match kind {
                "objective" => (data.objective(id).is_some(), format!("/wb/goal/view/{id}")),
                "key_result" => (
                    data.key_results.iter().any(|k| k.id == id),
                    format!("/wb/goal/keyresult/{id}"),
                ),
                "team" => (
                    data.teams.iter().any(|t| t.id == id),
                    format!("/wb/team/view/{id}"),
                ),
                "kpi" => (
                    data.kpis.iter().any(|k| k.id == id),
                    format!("/wb/metric/view/{id}"),
                ),
                other => return Err(format!("unknown type `{other}`")),
            };
            if !exists {
                return Err(format!("{kind} {id} not found"));
            }
            Ok(json!({"url": format!("{base_url}{path}")}))
        }
        "scorecard_list" => {
            let team = opt_int(args, "team_id")?;
            let cards: Vec<Value> = data
                .teams
                .iter()
                .filter(|t| team.is_none_or(|x| x == t.id))
                .map(|t| {
                    let kpis: Vec<Value> = data.kpis.iter().filter(|k| k.team_id == t.id).map(|k| data.kpi_json(k)).collect();
                    json!({"scorecard_id": 700 + t.id, "name": format!("{} scorecard", t.name), "team_id": t.id, "kpis": kpis})
                })
                .collect();
            Ok(json!({"scorecards": cards}))
        }
        "rbr_list" => {
            let team = opt_int(args, "team_id")?;
            let reviews: Vec<Value> = data
                .teams
                .iter()
                .filter(|t| team.is_none_or(|x| x == t.id))
                .map(|t| json!({"rbr_id": 800 + t.id, "title": format!("{} Q4 business review", t.name), "team_id": t.id, "date": "2026-11-16", "status": "published"}))
                .collect();
            Ok(json!({"reviews": reviews}))
        }
        other => Err(format!("tool `{other}` is not implemented")),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn at_least_twelve_tools_with_object_schemas() {
        assert!(TOOLS.len() >= 12);
        for t in TOOLS {
            assert_eq!((t.schema)()["type"], "object", "{}", t.name);
        }
    }

    #[test]
    fn update_key_result_changes_progress() {
        let mut d = Data::seeded();
        let tool = find("update_key_result").unwrap();
        let args = json!({"key_result_id": 404, "value": 50})
            .as_object()
            .cloned()
            .unwrap();
        let out = call(&mut d, "http://x", 1001, tool, &args).unwrap();
        assert_eq!(out["progress"], 100);
        let bad = json!({"key_result_id": "404", "value": 1})
            .as_object()
            .cloned()
            .unwrap();
        assert!(call(&mut d, "http://x", 1001, tool, &bad).is_err());
    }
}
