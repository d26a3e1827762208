//! The state diagrams of ARCHITECTURE.md are the machines' transition tables: each diagram
//! marked `<!-- states: NAME -->` must list exactly the edges `states::transitions` exports
//! (an edge's input is the first word of its label; `[*] --> X` is a start state).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use workboard_core::states::{transitions, Machine};

type Edge = (String, String, String);

fn architecture() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../ARCHITECTURE.md");
    std::fs::read_to_string(path).expect("ARCHITECTURE.md at the repository root")
}

/// The edges of the mermaid block that follows `<!-- states: {name} -->`.
fn diagram(doc: &str, name: &str) -> BTreeSet<Edge> {
    let marker = format!("<!-- states: {name} -->");
    let at = doc
        .find(&marker)
        .unwrap_or_else(|| panic!("ARCHITECTURE.md has no `{marker}`"));
    let rest = &doc[at + marker.len()..];
    let start = rest
        .find("```mermaid")
        .expect("a mermaid block after the marker");
    let body = &rest[start + "```mermaid".len()..];
    let body = &body[..body.find("```").expect("the block ends")];
    let mut edges = BTreeSet::new();
    for line in body.lines().map(str::trim) {
        let Some((from, rest)) = line.split_once("-->") else {
            continue;
        };
        let (to, label) = match rest.split_once(':') {
            Some((to, label)) => (to.trim(), label.trim()),
            None => (rest.trim(), ""),
        };
        let input = label.split_whitespace().next().unwrap_or("start");
        edges.insert((from.trim().to_string(), input.to_string(), to.to_string()));
    }
    edges
}

fn table(machine: Machine) -> BTreeSet<Edge> {
    transitions(machine)
        .into_iter()
        .map(|t| (t.from.to_string(), t.input.to_string(), t.to.to_string()))
        .collect()
}

fn check(name: &str, machine: Machine) {
    let doc = architecture();
    let drawn = diagram(&doc, name);
    let code = table(machine);
    let missing: Vec<_> = code.difference(&drawn).collect();
    let extra: Vec<_> = drawn.difference(&code).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "the `{name}` diagram in ARCHITECTURE.md differs from the code's table\n\
         in the code, not drawn: {missing:#?}\n drawn, not in the code: {extra:#?}"
    );
}

#[test]
fn the_session_diagram_is_the_connections_era_and_session_table() {
    check("session", Machine::Session);
}

#[test]
fn the_auth_diagram_is_the_connections_credentials_table() {
    check("auth", Machine::Auth);
}

#[test]
fn the_mcp_authorization_diagram_is_the_flows_table() {
    check("mcp-auth-flow", Machine::McpAuthFlow);
}

#[test]
fn the_check_sees_a_missing_edge() {
    // The parser reads labels and start states as the tables name them.
    let doc =
        "<!-- states: t -->\n```mermaid\nstateDiagram-v2\n  [*] --> A\n  A --> B: go — why\n```\n";
    let edges = diagram(doc, "t");
    let want: BTreeSet<Edge> = [
        ("[*]".into(), "start".into(), "A".into()),
        ("A".into(), "go".into(), "B".into()),
    ]
    .into_iter()
    .collect();
    assert_eq!(edges, want);
    // Every machine's table is non-trivial: each has a start and some edges.
    for m in [Machine::Session, Machine::Auth, Machine::McpAuthFlow] {
        let t = table(m);
        assert!(t.iter().any(|(f, _, _)| f == "[*]"), "{m:?} has a start");
        assert!(t.len() > 5, "{m:?} has edges");
    }
}
