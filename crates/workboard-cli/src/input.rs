//! Answers to a server's requests for input: elicitation forms filled from `--input FILE` or
//! in the terminal (field by field), with the schema's defaults for what is left out
//! (SEP-1034). Sampling and roots are not offered: the CLI has no LLM and no roots, so it
//! does not declare them and a server that asks anyway gets a clear refusal from the client.

use std::io::{BufRead, IsTerminal, Write};
use std::sync::{Arc, Mutex};

use serde_json::{json, Map, Value};
use workboard_core::mcp::surface::with_elicitation_defaults;
use workboard_core::Error;
use workboard_native::workboard_client::{ClientCapabilities, InputRequest};
use workboard_native::InputHandler;

use crate::output::CliError;

/// Longest line read for one field.
const MAX_LINE: usize = 4096;
/// Most form fields asked for.
const MAX_FIELDS: usize = 32;

/// Where the answers come from.
pub enum Answers {
    /// A JSON object of field values (`--input FILE`).
    File(Map<String, Value>),
    /// Asked in the terminal.
    Terminal,
}

/// The CLI's input handler (elicitation in form mode only).
pub struct CliInput {
    answers: Answers,
    /// One form at a time on the terminal.
    lock: Mutex<()>,
}

impl CliInput {
    /// The handler for `--input FILE`, or for the terminal when stdin and stderr are one;
    /// `None` otherwise (then nothing is declared and no server asks).
    pub fn new(input: Option<&std::path::Path>) -> Result<Option<Arc<CliInput>>, CliError> {
        let answers = match input {
            Some(path) => {
                let meta = std::fs::metadata(path).map_err(|e| {
                    CliError::usage(format!("cannot read --input {}: {e}", path.display()), None)
                })?;
                if meta.len() > 1024 * 1024 {
                    return Err(CliError::usage(
                        format!("--input {} is larger than 1 MiB", path.display()),
                        None,
                    ));
                }
                let text = std::fs::read_to_string(path).map_err(|e| {
                    CliError::usage(format!("cannot read --input {}: {e}", path.display()), None)
                })?;
                match serde_json::from_str::<Value>(&text) {
                    Ok(Value::Object(m)) => Answers::File(m),
                    Ok(_) => {
                        return Err(CliError::usage(
                            "--input must hold a JSON object of form field values",
                            Some(r#"e.g. {"confidence": 3, "note": "on track"}"#.into()),
                        ))
                    }
                    Err(e) => {
                        return Err(CliError::usage(
                            format!(
                                "--input is not JSON: {}",
                                workboard_core::untrusted::describe_json_error(&e)
                            ),
                            None,
                        ))
                    }
                }
            }
            None if std::io::stdin().is_terminal() && std::io::stderr().is_terminal() => {
                Answers::Terminal
            }
            None => return Ok(None),
        };
        Ok(Some(Arc::new(CliInput {
            answers,
            lock: Mutex::new(()),
        })))
    }

    fn elicit(&self, params: &Value) -> Result<Value, Error> {
        let schema = params
            .get("requestedSchema")
            .cloned()
            .unwrap_or(Value::Null);
        let content = match &self.answers {
            // An `{"action": ..., "content": ...}` file is an answer as is; else field values.
            Answers::File(m) if m.contains_key("action") => {
                let mut answer = m.clone();
                if let Some(Value::Object(c)) = answer.remove("content") {
                    answer.insert(
                        "content".into(),
                        Value::Object(with_elicitation_defaults(&schema, c)),
                    );
                }
                return Ok(Value::Object(answer));
            }
            Answers::File(m) => m.clone(),
            Answers::Terminal => {
                let _one = self.lock.lock().unwrap_or_else(|e| e.into_inner());
                match ask_in_terminal(params, &schema) {
                    Some(c) => c,
                    None => return Ok(json!({"action": "decline"})),
                }
            }
        };
        Ok(json!({
            "action": "accept",
            "content": Value::Object(with_elicitation_defaults(&schema, content)),
        }))
    }
}

impl InputHandler for CliInput {
    fn capabilities(&self) -> ClientCapabilities {
        ClientCapabilities {
            elicitation_form: true,
            ..ClientCapabilities::default()
        }
    }

    fn answer(
        &self,
        request: InputRequest,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<Value, Error>> + Send>> {
        let result = match request.method.as_str() {
            "elicitation/create" => self.elicit(&request.params),
            other => Err(Error::Protocol {
                reason: format!(
                    "the CLI cannot answer `{}`",
                    other.chars().take(64).collect::<String>()
                ),
            }),
        };
        Box::pin(std::future::ready(result))
    }
}

/// Asks each field on the terminal (stderr prompts, stdin lines); `None` when the user
/// declines (an empty answer to the first question, or end of input).
fn ask_in_terminal(params: &Value, schema: &Value) -> Option<Map<String, Value>> {
    let message = params
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or("The server asks for input.");
    let mut err = std::io::stderr();
    let _ = writeln!(err, "{}", workboard_core::untrusted::excerpt(message, 500));
    let _ = writeln!(err, "(press Enter on an empty form to decline)");
    let props = schema.get("properties").and_then(Value::as_object)?;
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let stdin = std::io::stdin();
    let mut lines = stdin.lock();
    let mut out = Map::new();
    for (name, field) in props.iter().take(MAX_FIELDS) {
        let ty = field
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("string");
        let default = field.get("default");
        loop {
            let _ = write!(
                err,
                "  {}{} ({ty}{}): ",
                workboard_core::untrusted::excerpt(name, 64),
                if required.contains(&name.as_str()) {
                    "*"
                } else {
                    ""
                },
                default
                    .map(|d| format!(
                        ", default {}",
                        workboard_core::untrusted::excerpt(&d.to_string(), 64)
                    ))
                    .unwrap_or_default()
            );
            let _ = err.flush();
            let mut line = String::new();
            let read = std::io::Read::take(&mut lines, MAX_LINE as u64)
                .read_line(&mut line)
                .ok()?;
            if read == 0 {
                return None;
            }
            let line = line.trim();
            if line.is_empty() {
                if out.is_empty() && default.is_none() && required.contains(&name.as_str()) {
                    return None;
                }
                break; // the default (or nothing) applies
            }
            let value = match ty {
                "boolean" => match line.to_ascii_lowercase().as_str() {
                    "y" | "yes" | "true" => Some(Value::Bool(true)),
                    "n" | "no" | "false" => Some(Value::Bool(false)),
                    _ => None,
                },
                "integer" => line.parse::<i64>().ok().map(Value::from),
                "number" => line
                    .parse::<f64>()
                    .ok()
                    .and_then(serde_json::Number::from_f64)
                    .map(Value::Number),
                _ => Some(Value::String(line.to_string())),
            };
            let allowed = field
                .get("enum")
                .and_then(Value::as_array)
                .is_none_or(|e| value.as_ref().is_some_and(|v| e.contains(v)));
            match value.filter(|_| allowed) {
                Some(v) => {
                    out.insert(name.clone(), v);
                    break;
                }
                None => {
                    let _ = writeln!(err, "  (not a valid {ty}; try again)");
                }
            }
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_file_of_values_gets_the_defaults_and_an_answer_file_is_kept() {
        let schema = json!({"message": "m", "requestedSchema": {"type": "object", "properties": {
            "name": {"type": "string", "default": "John Doe"},
            "ok": {"type": "boolean"}}}});
        let h = CliInput {
            answers: Answers::File(serde_json::from_value(json!({"ok": true})).unwrap()),
            lock: Mutex::new(()),
        };
        assert_eq!(
            h.elicit(&schema).unwrap(),
            json!({"action": "accept", "content": {"ok": true, "name": "John Doe"}})
        );
        let h = CliInput {
            answers: Answers::File(serde_json::from_value(json!({"action": "decline"})).unwrap()),
            lock: Mutex::new(()),
        };
        assert_eq!(h.elicit(&schema).unwrap(), json!({"action": "decline"}));
        assert!(h.capabilities().elicitation_form && !h.capabilities().sampling);
    }
}
