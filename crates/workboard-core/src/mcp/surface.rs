//! The rest of the client surface (both eras): resources, resource templates, prompts and
//! completion — the values an app gets, the request params (serialized from structs, so the
//! bytes are stable) and the result parsers (size-bounded by the body limits, lenient with
//! unknown fields, typed errors for wrong shapes).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::Error;

/// A resource from `resources/list`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Resource {
    /// Its URI (read it with this).
    pub uri: String,
    /// Name.
    pub name: String,
    /// Display title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// MIME type.
    #[serde(rename = "mimeType", default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    /// Size in bytes, when the server says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
}

/// A resource template from `resources/templates/list` (RFC 6570 URI template).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ResourceTemplate {
    /// The URI template.
    #[serde(rename = "uriTemplate")]
    pub uri_template: String,
    /// Name.
    pub name: String,
    /// Display title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// MIME type.
    #[serde(rename = "mimeType", default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
}

/// One item of a `resources/read` result: text or base64 `blob`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ResourceContents {
    /// The URI these contents are of.
    pub uri: String,
    /// MIME type.
    #[serde(rename = "mimeType", default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    /// Text contents.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Binary contents, base64.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blob: Option<String>,
}

/// An argument a prompt takes.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PromptArgument {
    /// Name.
    pub name: String,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Whether it must be given.
    #[serde(default)]
    pub required: bool,
}

/// A prompt from `prompts/list`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Prompt {
    /// Name (get it with this).
    pub name: String,
    /// Display title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Its arguments.
    #[serde(default)]
    pub arguments: Vec<PromptArgument>,
}

/// One message of a prompt.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PromptMessage {
    /// `user` or `assistant`.
    pub role: String,
    /// The content block as sent (text, image, audio, resource...).
    pub content: Value,
}

/// A `prompts/get` result.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GetPromptResult {
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The messages.
    pub messages: Vec<PromptMessage>,
}

/// A `completion/complete` result.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Completion {
    /// The suggested values (at most 100).
    pub values: Vec<String>,
    /// How many there are in all, when the server says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
    /// Whether there are more than `values`.
    #[serde(rename = "hasMore", default)]
    pub has_more: bool,
}

// Read by hand (`json::object`: serde's derive would compile a visitor per type), as the
// `Serialize` derives above write them (`tests/json_readers.rs`).

impl<'de> Deserialize<'de> for Resource {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        crate::json::object(d, "struct Resource", |f| {
            Ok(Resource {
                uri: f.req("uri")?,
                name: f.req("name")?,
                title: f.opt("title")?,
                description: f.opt("description")?,
                mime_type: f.opt("mimeType")?,
                size: f.opt("size")?,
            })
        })
    }
}

impl<'de> Deserialize<'de> for ResourceTemplate {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        crate::json::object(d, "struct ResourceTemplate", |f| {
            Ok(ResourceTemplate {
                uri_template: f.req("uriTemplate")?,
                name: f.req("name")?,
                title: f.opt("title")?,
                description: f.opt("description")?,
                mime_type: f.opt("mimeType")?,
            })
        })
    }
}

impl<'de> Deserialize<'de> for ResourceContents {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        crate::json::object(d, "struct ResourceContents", |f| {
            Ok(ResourceContents {
                uri: f.req("uri")?,
                mime_type: f.opt("mimeType")?,
                text: f.opt("text")?,
                blob: f.opt("blob")?,
            })
        })
    }
}

impl<'de> Deserialize<'de> for PromptArgument {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        crate::json::object(d, "struct PromptArgument", |f| {
            Ok(PromptArgument {
                name: f.req("name")?,
                description: f.opt("description")?,
                required: f.or_default("required")?,
            })
        })
    }
}

impl<'de> Deserialize<'de> for Prompt {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        crate::json::object(d, "struct Prompt", |f| {
            Ok(Prompt {
                name: f.req("name")?,
                title: f.opt("title")?,
                description: f.opt("description")?,
                arguments: f.or_default("arguments")?,
            })
        })
    }
}

impl<'de> Deserialize<'de> for PromptMessage {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        crate::json::object(d, "struct PromptMessage", |f| {
            Ok(PromptMessage {
                role: f.req("role")?,
                content: f.req("content")?,
            })
        })
    }
}

impl<'de> Deserialize<'de> for GetPromptResult {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        crate::json::object(d, "struct GetPromptResult", |f| {
            Ok(GetPromptResult {
                description: f.opt("description")?,
                messages: f.req("messages")?,
            })
        })
    }
}

impl<'de> Deserialize<'de> for Completion {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        crate::json::object(d, "struct Completion", |f| {
            Ok(Completion {
                values: f.req("values")?,
                total: f.opt("total")?,
                has_more: f.or_default("hasMore")?,
            })
        })
    }
}

/// What a completion is for: a prompt's argument or a resource template's variable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CompletionRef {
    /// `ref/prompt` with the prompt's name.
    Prompt(String),
    /// `ref/resource` with the template's URI.
    ResourceTemplate(String),
}

/// The paginated lists of the surface.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ListKind {
    Resources,
    Templates,
    Prompts,
}

impl ListKind {
    pub(crate) fn method(self) -> &'static str {
        match self {
            ListKind::Resources => "resources/list",
            ListKind::Templates => "resources/templates/list",
            ListKind::Prompts => "prompts/list",
        }
    }

    /// The result's array.
    pub(crate) fn key(self) -> &'static str {
        match self {
            ListKind::Resources => "resources",
            ListKind::Templates => "resourceTemplates",
            ListKind::Prompts => "prompts",
        }
    }
}

#[derive(Serialize)]
pub(crate) struct ReadParams<'a> {
    pub(crate) uri: &'a str,
}

#[derive(Serialize)]
pub(crate) struct GetPromptParams<'a> {
    pub(crate) name: &'a str,
    pub(crate) arguments: &'a Map<String, Value>,
}

#[derive(Serialize)]
pub(crate) struct RefParam<'a> {
    #[serde(rename = "type")]
    pub(crate) kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) uri: Option<&'a str>,
}

#[derive(Serialize)]
pub(crate) struct ArgumentParam<'a> {
    pub(crate) name: &'a str,
    pub(crate) value: &'a str,
}

#[derive(Serialize)]
pub(crate) struct ContextParam<'a> {
    pub(crate) arguments: &'a Map<String, Value>,
}

#[derive(Serialize)]
pub(crate) struct CompleteParams<'a> {
    #[serde(rename = "ref")]
    pub(crate) reference: RefParam<'a>,
    pub(crate) argument: ArgumentParam<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) context: Option<ContextParam<'a>>,
}

impl CompletionRef {
    pub(crate) fn param(&self) -> RefParam<'_> {
        match self {
            CompletionRef::Prompt(name) => RefParam {
                kind: "ref/prompt",
                name: Some(name),
                uri: None,
            },
            CompletionRef::ResourceTemplate(uri) => RefParam {
                kind: "ref/resource",
                name: None,
                uri: Some(uri),
            },
        }
    }
}

fn protocol(what: &str, e: serde_json::Error) -> Error {
    Error::Protocol {
        reason: format!(
            "malformed {what} result: {}",
            crate::untrusted::describe_json_error(&e)
        ),
    }
}

/// The items of one page, and its next cursor.
pub(crate) fn page(
    kind: ListKind,
    mut result: Value,
) -> Result<(Vec<Value>, Option<String>), Error> {
    let items = match result.get_mut(kind.key()).map(Value::take) {
        Some(Value::Array(a)) => a,
        None | Some(Value::Null) => Vec::new(),
        Some(_) => {
            return Err(Error::Protocol {
                reason: format!("{} `{}` must be an array", kind.method(), kind.key()),
            })
        }
    };
    let next = result
        .get("nextCursor")
        .and_then(Value::as_str)
        .filter(|c| !c.is_empty())
        .map(|c| c.chars().take(1024).collect());
    Ok((items, next))
}

/// The typed items of a whole list.
pub(crate) fn items<T: for<'de> Deserialize<'de>>(
    kind: ListKind,
    items: Vec<Value>,
) -> Result<Vec<T>, Error> {
    items
        .into_iter()
        .map(|v| crate::json::from_value(v).map_err(|e| protocol(kind.method(), e)))
        .collect()
}

/// Parses a `resources/read` result.
pub(crate) fn parse_read(result: Value) -> Result<Vec<ResourceContents>, Error> {
    crate::json::from_object(result, "a resources/read result", |f| f.req("contents"))
        .map_err(|e| protocol("resources/read", e))
}

/// Parses a `prompts/get` result.
pub(crate) fn parse_prompt(result: Value) -> Result<GetPromptResult, Error> {
    crate::json::from_value(result).map_err(|e| protocol("prompts/get", e))
}

/// Parses a `completion/complete` result.
pub(crate) fn parse_completion(result: Value) -> Result<Completion, Error> {
    crate::json::from_object(result, "a completion/complete result", |f| {
        f.req::<Completion>("completion")
    })
    .map(|mut c| {
        c.values.truncate(100);
        c
    })
    .map_err(|e| protocol("completion/complete", e))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn params_are_stable() {
        let args: Map<String, Value> = serde_json::from_value(json!({"team": "x"})).unwrap();
        let reference = CompletionRef::Prompt("review".into());
        let p = CompleteParams {
            reference: reference.param(),
            argument: ArgumentParam {
                name: "goal",
                value: "gr",
            },
            context: Some(ContextParam { arguments: &args }),
        };
        assert_eq!(
            serde_json::to_string(&p).unwrap(),
            r#"{"ref":{"type":"ref/prompt","name":"review"},"argument":{"name":"goal","value":"gr"},"context":{"arguments":{"team":"x"}}}"#
        );
    }

    #[test]
    fn results_parse_and_wrong_shapes_are_typed_errors() {
        let (items, next) = page(
            ListKind::Resources,
            json!({"resources": [{"uri": "a://1", "name": "one"}], "nextCursor": "c"}),
        )
        .unwrap();
        assert_eq!(next.as_deref(), Some("c"));
        let r: Vec<Resource> = super::items(ListKind::Resources, items).unwrap();
        assert_eq!(r[0].uri, "a://1");
        assert!(page(ListKind::Prompts, json!({"prompts": 3})).is_err());
        assert!(super::items::<Resource>(ListKind::Resources, vec![json!({"name": 1})]).is_err());
        let c = parse_read(json!({"contents": [{"uri": "a://1", "text": "hi"}]})).unwrap();
        assert_eq!(c[0].text.as_deref(), Some("hi"));
        assert!(parse_read(json!({})).is_err());
        let p = parse_prompt(
            json!({"messages": [{"role": "user", "content": {"type": "text", "text": "t"}}]}),
        )
        .unwrap();
        assert_eq!(p.messages[0].role, "user");
        let many: Vec<String> = (0..150).map(|i| i.to_string()).collect();
        let c = parse_completion(json!({"completion": {"values": many, "hasMore": true}})).unwrap();
        assert_eq!(c.values.len(), 100);
        assert!(c.has_more);
    }
}

/// Fills the properties an elicitation answer leaves out with the defaults of the
/// request's `requestedSchema` (SEP-1034: a client applies them), at most 64 properties.
/// Values given are kept as they are.
pub fn with_elicitation_defaults(
    requested_schema: &Value,
    mut content: Map<String, Value>,
) -> Map<String, Value> {
    if let Some(Value::Object(props)) = requested_schema.get("properties") {
        for (name, schema) in props.iter().take(64) {
            if content.contains_key(name) {
                continue;
            }
            if let Some(default) = schema.get("default") {
                content.insert(name.clone(), default.clone());
            }
        }
    }
    content
}

#[cfg(test)]
mod defaults_tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn defaults_fill_only_what_is_missing() {
        let schema = json!({"type": "object", "properties": {
            "name": {"type": "string", "default": "John Doe"},
            "age": {"type": "integer", "default": 30},
            "note": {"type": "string"}}});
        let given: Map<String, Value> = serde_json::from_value(json!({"age": 41})).unwrap();
        let out = with_elicitation_defaults(&schema, given);
        assert_eq!(Value::Object(out), json!({"age": 41, "name": "John Doe"}));
        assert!(with_elicitation_defaults(&json!("nonsense"), Map::new()).is_empty());
    }
}
