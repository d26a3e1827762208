//! Seeded WorkBoard data: users, teams, objectives, key results, KPIs, scorecards, business
//! reviews and activities. Mutated by the write tools.

use serde_json::{json, Value};

/// A WorkBoard user.
#[derive(Debug, Clone)]
pub(crate) struct User {
    pub id: u64,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
}

/// A team.
#[derive(Debug, Clone)]
pub(crate) struct Team {
    pub id: u64,
    pub name: String,
    pub manager_id: u64,
}

/// An objective (a "goal" in the REST API).
#[derive(Debug, Clone)]
pub(crate) struct Objective {
    pub id: u64,
    pub team_id: u64,
    pub owner_id: u64,
    pub title: String,
}

/// A key result of an objective.
#[derive(Debug, Clone)]
pub(crate) struct KeyResult {
    pub id: u64,
    pub objective_id: u64,
    pub name: String,
    pub start: f64,
    pub target: f64,
    pub current: f64,
    pub unit: String,
    pub comments: Vec<String>,
}

/// A KPI (metric) with its logged data points.
#[derive(Debug, Clone)]
pub(crate) struct Kpi {
    pub id: u64,
    pub team_id: u64,
    pub name: String,
    pub unit: String,
    pub points: Vec<(String, f64)>,
}

/// An activity (action item).
#[derive(Debug, Clone)]
pub(crate) struct Activity {
    pub id: u64,
    pub title: String,
    pub owner_id: u64,
    pub due_date: Option<String>,
    pub key_result_id: Option<u64>,
}

/// All seeded data.
#[derive(Debug, Clone)]
pub(crate) struct Data {
    pub users: Vec<User>,
    pub teams: Vec<Team>,
    pub objectives: Vec<Objective>,
    pub key_results: Vec<KeyResult>,
    pub kpis: Vec<Kpi>,
    pub activities: Vec<Activity>,
}

impl KeyResult {
    /// Progress in percent (0..=100), from start to target.
    pub fn progress(&self) -> u64 {
        let span = self.target - self.start;
        if span.abs() < f64::EPSILON {
            return 100;
        }
        let p = ((self.current - self.start) / span * 100.0).clamp(0.0, 100.0);
        p.round() as u64
    }

    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "objective_id": self.objective_id,
            "name": self.name,
            "start_value": self.start,
            "target_value": self.target,
            "current_value": self.current,
            "unit": self.unit,
            "progress": self.progress(),
            "comments": self.comments,
        })
    }
}

fn kr(
    id: u64,
    objective_id: u64,
    name: &str,
    start: f64,
    target: f64,
    current: f64,
    unit: &str,
) -> KeyResult {
    KeyResult {
        id,
        objective_id,
        name: name.to_string(),
        start,
        target,
        current,
        unit: unit.to_string(),
        comments: Vec::new(),
    }
}

impl Data {
    /// The seed: 2 users, 2 teams, 4 objectives, 8 key results, 3 KPIs.
    pub fn seeded() -> Self {
        let user = |id: u64, email: &str, first: &str, last: &str| User {
            id,
            email: email.to_string(),
            first_name: first.to_string(),
            last_name: last.to_string(),
        };
        let obj = |id: u64, team_id: u64, owner_id: u64, title: &str| Objective {
            id,
            team_id,
            owner_id,
            title: title.to_string(),
        };
        let kpi = |id: u64, team_id: u64, name: &str, unit: &str, points: &[(&str, f64)]| Kpi {
            id,
            team_id,
            name: name.to_string(),
            unit: unit.to_string(),
            points: points.iter().map(|(d, v)| (d.to_string(), *v)).collect(),
        };
        Data {
            users: vec![
                user(1001, "ada@example.com", "Ada", "Lovelace"),
                user(1002, "grace@example.com", "Grace", "Hopper"),
            ],
            teams: vec![
                Team {
                    id: 201,
                    name: "Platform".to_string(),
                    manager_id: 1001,
                },
                Team {
                    id: 202,
                    name: "Growth".to_string(),
                    manager_id: 1002,
                },
            ],
            objectives: vec![
                obj(301, 201, 1001, "Ship a reliable API platform"),
                obj(302, 201, 1001, "Cut infrastructure cost"),
                obj(303, 202, 1002, "Grow weekly active teams"),
                obj(304, 202, 1002, "Improve onboarding conversion"),
            ],
            key_results: vec![
                kr(401, 301, "API availability", 99.0, 99.95, 99.9, "%"),
                kr(
                    402,
                    301,
                    "p95 latency under target",
                    400.0,
                    200.0,
                    260.0,
                    "ms",
                ),
                kr(
                    403,
                    302,
                    "Monthly cloud spend",
                    120000.0,
                    90000.0,
                    105000.0,
                    "USD",
                ),
                kr(
                    404,
                    302,
                    "Idle instances removed",
                    0.0,
                    50.0,
                    20.0,
                    "instances",
                ),
                kr(
                    405,
                    303,
                    "Weekly active teams",
                    1200.0,
                    2000.0,
                    1500.0,
                    "teams",
                ),
                kr(406, 303, "Net revenue retention", 100.0, 115.0, 108.0, "%"),
                kr(407, 304, "Trial to paid conversion", 8.0, 12.0, 9.0, "%"),
                kr(408, 304, "Time to first value", 14.0, 3.0, 7.0, "days"),
            ],
            kpis: vec![
                kpi(
                    501,
                    201,
                    "Incidents per week",
                    "incidents",
                    &[("2026-11-02", 4.0), ("2026-11-09", 2.0)],
                ),
                kpi(
                    502,
                    202,
                    "Sign-ups per week",
                    "sign-ups",
                    &[("2026-11-02", 310.0), ("2026-11-09", 342.0)],
                ),
                kpi(
                    503,
                    202,
                    "Churned accounts",
                    "accounts",
                    &[("2026-11-09", 3.0)],
                ),
            ],
            activities: Vec::new(),
        }
    }

    pub fn user(&self, id: u64) -> Option<&User> {
        self.users.iter().find(|u| u.id == id)
    }

    /// The user with this email, created on first use.
    pub fn user_id_for(&mut self, email: &str) -> u64 {
        if let Some(u) = self.users.iter().find(|u| u.email == email) {
            return u.id;
        }
        let id = self.users.iter().map(|u| u.id).max().unwrap_or(1000) + 1;
        let local = email.split('@').next().unwrap_or(email).to_string();
        self.users.push(User {
            id,
            email: email.to_string(),
            first_name: local,
            last_name: String::new(),
        });
        id
    }

    pub fn user_json(&self, id: u64) -> Value {
        match self.user(id) {
            Some(u) => json!({
                "user_id": u.id,
                "email": u.email,
                "first_name": u.first_name,
                "last_name": u.last_name,
                "teams": self.teams.iter()
                    .filter(|t| t.manager_id == u.id)
                    .map(|t| json!({"team_id": t.id, "team_name": t.name}))
                    .collect::<Vec<_>>(),
            }),
            None => json!({ "user_id": id }),
        }
    }

    pub fn team_json(&self, t: &Team) -> Value {
        json!({ "team_id": t.id, "team_name": t.name, "manager_id": t.manager_id })
    }

    pub fn objective_json(&self, o: &Objective) -> Value {
        let krs: Vec<&KeyResult> = self
            .key_results
            .iter()
            .filter(|k| k.objective_id == o.id)
            .collect();
        let progress = if krs.is_empty() {
            0
        } else {
            krs.iter().map(|k| k.progress()).sum::<u64>() / krs.len() as u64
        };
        json!({
            "goal_id": o.id,
            "goal_name": o.title,
            "team_id": o.team_id,
            "owner_id": o.owner_id,
            "progress": progress,
            "key_results": krs.iter().map(|k| k.to_json()).collect::<Vec<_>>(),
        })
    }

    pub fn objective(&self, id: u64) -> Option<&Objective> {
        self.objectives.iter().find(|o| o.id == id)
    }

    pub fn kpi_json(&self, k: &Kpi) -> Value {
        json!({
            "kpi_id": k.id,
            "team_id": k.team_id,
            "name": k.name,
            "unit": k.unit,
            "data": k.points.iter().map(|(d, v)| json!({"date": d, "value": v})).collect::<Vec<_>>(),
        })
    }
}
