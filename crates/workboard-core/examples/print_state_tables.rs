//! Prints the machines' transition tables as mermaid edges (what ARCHITECTURE.md's state
//! diagrams must list): `cargo run -p workboard-core --example print_state_tables`.
use workboard_core::states::{transitions, Machine};

fn main() {
    for (name, m) in [
        ("session", Machine::Session),
        ("auth", Machine::Auth),
        ("mcp-auth-flow", Machine::McpAuthFlow),
    ] {
        println!("<!-- states: {name} -->");
        for t in transitions(m) {
            if t.from == "[*]" {
                println!("  [*] --> {}", t.to);
            } else {
                println!("  {} --> {}: {}", t.from, t.to, t.input);
            }
        }
    }
}
