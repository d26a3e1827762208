//! The modern era of MCP (2026-07-28): per-request `_meta`, request metadata headers, the
//! Base64 sentinel, `x-mcp-header` mirroring, `resultType`, and how a response tells the eras
//! apart (basic/versioning.mdx, basic/transports/streamable-http.mdx). Pure functions: the
//! policies (which era, when to fall back, retries) live in [`crate::connection`].

use base64::Engine as _;
use serde::Serialize;
use serde_json::Value;

use crate::mcp::jsonrpc::{Implementation, JsonRpcId, Tool};

/// Modern protocol versions this client speaks, preferred first.
pub const MODERN_PROTOCOL_VERSIONS: &[&str] = &["2026-07-28"];
/// Legacy (`initialize`-based) protocol versions this client speaks, preferred first.
pub const LEGACY_PROTOCOL_VERSIONS: &[&str] = &["2025-11-25", "2025-06-18", "2025-03-26"];

/// `_meta` key: the server's name and version (on results).
pub const META_SERVER_INFO: &str = "io.modelcontextprotocol/serverInfo";

/// JSON-RPC error: the headers do not match the body (400).
pub const HEADER_MISMATCH: i64 = -32020;
/// JSON-RPC error: the request needs a client capability it did not declare.
pub const MISSING_CLIENT_CAPABILITY: i64 = -32021;
/// JSON-RPC error: the requested protocol version is not supported (`data.supported`).
pub const UNSUPPORTED_PROTOCOL_VERSION: i64 = -32022;
/// JSON-RPC error: method not found (a modern server answers it with 404).
pub const METHOD_NOT_FOUND: i64 = -32601;

/// Log levels a request may ask for (RFC 5424 names, as MCP's logging utility lists them).
pub const LOG_LEVELS: &[&str] = &[
    "debug",
    "info",
    "notice",
    "warning",
    "error",
    "critical",
    "alert",
    "emergency",
];

/// Most `x-mcp-header` annotations read from one tool's schema (more make it invalid).
pub const MAX_PARAM_HEADERS: usize = 32;
/// Deepest `properties` chain searched for `x-mcp-header` annotations.
const MAX_SCHEMA_DEPTH: usize = 8;

/// Which era a protocol version belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VersionEra {
    /// Per-request `_meta`, no sessions (2026-07-28 and later).
    Modern,
    /// `initialize` and sessions (2025-11-25 and earlier).
    Legacy,
}

/// The era of a version this client speaks; `None` for versions it does not.
pub fn version_era(version: &str) -> Option<VersionEra> {
    if MODERN_PROTOCOL_VERSIONS.contains(&version) {
        Some(VersionEra::Modern)
    } else if LEGACY_PROTOCOL_VERSIONS.contains(&version) {
        Some(VersionEra::Legacy)
    } else {
        None
    }
}

/// The version to retry with from a server's `supported` list: the most preferred one this
/// client speaks, modern before legacy. `None` when there is no mutually supported version.
pub fn choose_version(supported: &[String]) -> Option<(&'static str, VersionEra)> {
    MODERN_PROTOCOL_VERSIONS
        .iter()
        .map(|v| (*v, VersionEra::Modern))
        .chain(
            LEGACY_PROTOCOL_VERSIONS
                .iter()
                .map(|v| (*v, VersionEra::Legacy)),
        )
        .find(|(v, _)| supported.iter().any(|s| s == v))
}

/// A server's `supported` versions from an `UnsupportedProtocolVersionError`'s `data`
/// (at most 16, each at most 40 characters).
pub fn supported_versions(data: Option<&Value>) -> Vec<String> {
    version_list(data.and_then(|d| d.get("supported")))
}

/// A list of protocol versions as sent (at most 16, each at most 40 characters; what is
/// not a string is left out).
pub fn version_list(list: Option<&Value>) -> Vec<String> {
    list.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .take(16)
                .map(|s| s.chars().take(40).collect())
                .collect()
        })
        .unwrap_or_default()
}

/// What a modern request declares about the client, in every request's `_meta`.
#[derive(Clone, Debug)]
pub struct RequestMeta<'a> {
    /// The protocol version of this request.
    pub version: &'a str,
    /// `clientInfo`.
    pub client_info: &'a Implementation,
    /// `clientCapabilities` (an object).
    pub capabilities: &'a Value,
    /// The minimum log level the server should emit for this request, if any.
    pub log_level: Option<&'a str>,
    /// Opts the request into progress notifications carrying this token.
    pub progress_token: Option<&'a JsonRpcId>,
}

#[derive(Serialize)]
struct MetaBody<'a> {
    #[serde(rename = "progressToken", skip_serializing_if = "Option::is_none")]
    progress_token: Option<&'a JsonRpcId>,
    #[serde(rename = "io.modelcontextprotocol/protocolVersion")]
    version: &'a str,
    #[serde(rename = "io.modelcontextprotocol/clientInfo")]
    client_info: &'a Implementation,
    #[serde(rename = "io.modelcontextprotocol/clientCapabilities")]
    capabilities: &'a Value,
    #[serde(
        rename = "io.modelcontextprotocol/logLevel",
        skip_serializing_if = "Option::is_none"
    )]
    log_level: Option<&'a str>,
}

#[derive(Serialize)]
struct ParamsBody<'a, P: Serialize> {
    #[serde(flatten)]
    params: &'a P,
    #[serde(rename = "_meta")]
    meta: MetaBody<'a>,
}

#[derive(Serialize)]
struct RequestBody<'a, P: Serialize> {
    jsonrpc: &'static str,
    id: &'a JsonRpcId,
    method: &'a str,
    params: ParamsBody<'a, P>,
}

/// No params but `_meta`.
#[derive(Serialize)]
pub struct NoParams {}

/// A modern request body: `params` (a struct serialized as an object) with `_meta` added.
/// Serialized from structs, so the bytes do not depend on `serde_json` features.
pub fn request_body<P: Serialize>(
    id: &JsonRpcId,
    method: &str,
    params: &P,
    meta: &RequestMeta<'_>,
) -> Vec<u8> {
    let body = RequestBody {
        jsonrpc: "2.0",
        id,
        method,
        params: ParamsBody {
            params,
            meta: MetaBody {
                progress_token: meta.progress_token,
                version: meta.version,
                client_info: meta.client_info,
                capabilities: meta.capabilities,
                log_level: meta.log_level,
            },
        },
    };
    serde_json::to_vec(&body).unwrap_or_default()
}

/// Whether `value` can go in a header as is: visible ASCII and inner spaces/tabs, no
/// leading or trailing whitespace, and not shaped like the Base64 sentinel.
fn header_safe(value: &str) -> bool {
    let visible = value
        .bytes()
        .all(|b| b == b' ' || b == b'\t' || (0x21..=0x7e).contains(&b));
    let padded = value.starts_with([' ', '\t']) || value.ends_with([' ', '\t']);
    let sentinel = value.starts_with("=?base64?") && value.ends_with("?=");
    !value.is_empty() && visible && !padded && !sentinel
}

/// A header value for `value`: as is when safe, else `=?base64?<Base64 of UTF-8>?=`
/// (streamable-http.mdx, "Value Encoding").
pub fn encode_header_value(value: &str) -> String {
    if header_safe(value) {
        value.to_string()
    } else {
        format!(
            "=?base64?{}?=",
            base64::engine::general_purpose::STANDARD.encode(value.as_bytes())
        )
    }
}

/// The request metadata headers of a modern POST: `MCP-Protocol-Version`, `Mcp-Method`, and
/// `Mcp-Name` (`params.name` of `tools/call` and `prompts/get`, `params.uri` of
/// `resources/read`: pass it as `name`).
pub fn request_headers(version: &str, method: &str, name: Option<&str>) -> Vec<(String, String)> {
    let mut headers = vec![
        ("MCP-Protocol-Version".to_string(), version.to_string()),
        ("Mcp-Method".to_string(), encode_header_value(method)),
    ];
    if let Some(name) = name {
        headers.push(("Mcp-Name".to_string(), encode_header_value(name)));
    }
    headers
}

/// One `x-mcp-header` annotation: the argument's property path and the header name part.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParamHeader {
    /// Chain of `properties` keys from the schema root.
    pub path: Vec<String>,
    /// `{name}` of `Mcp-Param-{name}`.
    pub name: String,
}

/// The `x-mcp-header` annotations of a tool's `inputSchema`, or why the tool definition is
/// invalid (a client on Streamable HTTP must then leave the tool out of `tools/list`).
pub fn param_headers(tool: &Tool) -> Result<Vec<ParamHeader>, String> {
    let mut out = Vec::new();
    collect_annotations(&tool.input_schema, &mut Vec::new(), true, 0, &mut out)?;
    for (i, a) in out.iter().enumerate() {
        if out[..i]
            .iter()
            .any(|b| b.name.eq_ignore_ascii_case(&a.name))
        {
            return Err(format!("x-mcp-header `{}` is not unique", short(&a.name)));
        }
    }
    Ok(out)
}

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Walks the schema. `reachable`: the node is reached from the root through `properties`
/// keys only, so an annotation here is allowed.
fn collect_annotations(
    node: &Value,
    path: &mut Vec<String>,
    reachable: bool,
    depth: usize,
    out: &mut Vec<ParamHeader>,
) -> Result<(), String> {
    let Value::Object(map) = node else {
        return Ok(());
    };
    if depth > MAX_SCHEMA_DEPTH * 4 {
        return Err(
            "the input schema nests too deeply to check its x-mcp-header annotations".into(),
        );
    }
    if let Some(h) = map.get("x-mcp-header") {
        if !reachable || path.is_empty() {
            return Err(
                "x-mcp-header on a property not reachable through `properties` alone".into(),
            );
        }
        let Some(name) = h.as_str() else {
            return Err("x-mcp-header is not a string".into());
        };
        if name.is_empty() || name.len() > 64 || !name.bytes().all(is_tchar) {
            return Err(format!(
                "x-mcp-header `{}` is not a header token",
                short(name)
            ));
        }
        let ty = map.get("type").and_then(Value::as_str);
        if !matches!(ty, Some("string" | "integer" | "boolean")) {
            return Err(format!(
                "x-mcp-header `{}` is on a property that is not a string, integer or boolean",
                short(name)
            ));
        }
        if out.len() >= MAX_PARAM_HEADERS {
            return Err(format!(
                "more than {MAX_PARAM_HEADERS} x-mcp-header annotations"
            ));
        }
        out.push(ParamHeader {
            path: path.clone(),
            name: name.to_string(),
        });
    }
    for (key, child) in map {
        match key.as_str() {
            "properties" => {
                if let Value::Object(props) = child {
                    for (prop, schema) in props {
                        if path.len() >= MAX_SCHEMA_DEPTH {
                            // Deeper properties are still searched, as unreachable.
                            collect_annotations(schema, path, false, depth + 1, out)?;
                            continue;
                        }
                        path.push(prop.clone());
                        let r = collect_annotations(schema, path, reachable, depth + 1, out);
                        path.pop();
                        r?;
                    }
                }
            }
            "x-mcp-header" => {}
            _ => match child {
                Value::Object(_) => collect_annotations(child, path, false, depth + 1, out)?,
                Value::Array(items) => {
                    for item in items.iter().take(256) {
                        collect_annotations(item, path, false, depth + 1, out)?;
                    }
                }
                _ => {}
            },
        }
    }
    Ok(())
}

/// The `Mcp-Param-{name}` headers for a call's arguments: one per annotation whose value is
/// present (not null). A value of the wrong type (an object, a number that is not a safe
/// integer) fails: the server would refuse the call anyway.
pub fn param_header_values(
    annotations: &[ParamHeader],
    arguments: &Value,
) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for a in annotations {
        let mut v = arguments;
        let mut present = true;
        for key in &a.path {
            match v.get(key) {
                Some(next) => v = next,
                None => {
                    present = false;
                    break;
                }
            }
        }
        if !present {
            continue;
        }
        const SAFE: i64 = (1 << 53) - 1;
        let text = match v {
            Value::Null => continue,
            Value::String(s) => s.clone(),
            Value::Bool(b) => b.to_string(),
            Value::Number(n) => match n.as_i64().or_else(|| {
                n.as_f64()
                    .filter(|f| f.fract() == 0.0 && f.abs() <= SAFE as f64)
                    .map(|f| f as i64)
            }) {
                Some(i) if (-SAFE..=SAFE).contains(&i) => i.to_string(),
                _ => {
                    return Err(format!(
                        "argument `{}` (header Mcp-Param-{}) is not a safe integer",
                        short(&a.path.join(".")),
                        a.name
                    ))
                }
            },
            _ => {
                return Err(format!(
                    "argument `{}` (header Mcp-Param-{}) is not a string, integer or boolean",
                    short(&a.path.join(".")),
                    a.name
                ))
            }
        };
        out.push((format!("Mcp-Param-{}", a.name), encode_header_value(&text)));
    }
    Ok(out)
}

/// `resultType` of a result.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResultType {
    /// The final result (also a legacy result without `resultType`).
    Complete,
    /// An `InputRequiredResult` (multi round-trip request).
    InputRequired,
}

/// Reads `resultType`: absent means complete; an unknown value is invalid (basic/index.mdx).
pub fn result_type(result: &Value) -> Result<ResultType, String> {
    match result.get("resultType") {
        None | Some(Value::Null) => Ok(ResultType::Complete),
        Some(Value::String(s)) if s == "complete" => Ok(ResultType::Complete),
        Some(Value::String(s)) if s == "input_required" => Ok(ResultType::InputRequired),
        Some(other) => Err(format!("unknown resultType {}", short(&other.to_string()))),
    }
}

/// The server's `serverInfo` from a modern result's `_meta`, if it is there and well formed.
pub fn server_info(result: &Value) -> Option<Implementation> {
    let v = result.get("_meta")?.get(META_SERVER_INFO)?;
    crate::json::from_value(v.clone()).ok()
}

/// A JSON-RPC error in a non-2xx body that only a modern server sends: `HeaderMismatch`,
/// `MissingRequiredClientCapability`, `UnsupportedProtocolVersion`, or `-32601` on a 404.
/// Anything else (an empty body, HTML, a legacy server's "Bad Request: no session") means the
/// server is not modern. Returns `(code, message, data)`.
pub fn modern_error(status: u16, body: &[u8]) -> Option<(i64, String, Option<Value>)> {
    if body.len() > 64 * 1024 {
        return None;
    }
    let v: Value = serde_json::from_slice(body).ok()?;
    let e = v.get("error")?;
    let code = e.get("code")?.as_i64()?;
    let recognised = matches!(
        code,
        HEADER_MISMATCH | MISSING_CLIENT_CAPABILITY | UNSUPPORTED_PROTOCOL_VERSION
    ) || (code == METHOD_NOT_FOUND && status == 404);
    if !recognised {
        return None;
    }
    let message = e
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or("")
        .chars()
        .take(300)
        .collect();
    Some((code, message, e.get("data").cloned()))
}

fn short(s: &str) -> String {
    s.chars().take(64).collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    fn tool(schema: Value) -> Tool {
        serde_json::from_value(json!({"name": "t", "inputSchema": schema})).unwrap()
    }

    #[test]
    fn encoding_follows_the_spec_table() {
        assert_eq!(encode_header_value("us-west1"), "us-west1");
        assert_eq!(
            encode_header_value("Hello, 世界"),
            "=?base64?SGVsbG8sIOS4lueVjA==?="
        );
        assert_eq!(encode_header_value(" padded "), "=?base64?IHBhZGRlZCA=?=");
        assert_eq!(
            encode_header_value("line1\nline2"),
            "=?base64?bGluZTEKbGluZTI=?="
        );
        assert_eq!(
            encode_header_value("=?base64?literal?="),
            "=?base64?PT9iYXNlNjQ/bGl0ZXJhbD89?="
        );
        assert_eq!(encode_header_value(""), "=?base64??=");
    }

    #[test]
    fn name_header_only_for_named_methods() {
        let h = request_headers("2026-07-28", "tools/call", Some("get_weather"));
        assert_eq!(
            h,
            vec![
                ("MCP-Protocol-Version".into(), "2026-07-28".into()),
                ("Mcp-Method".into(), "tools/call".into()),
                ("Mcp-Name".into(), "get_weather".into()),
            ]
        );
        let h = request_headers("2026-07-28", "resources/read", Some("file:///ä"));
        assert_eq!(h[2].1, encode_header_value("file:///ä"));
        assert_eq!(request_headers("2026-07-28", "tools/list", None).len(), 2);
    }

    #[test]
    fn meta_is_added_to_the_params() {
        let info = Implementation::new("c", "1");
        let caps = json!({"elicitation": {}});
        let token = JsonRpcId::Number(3);
        let meta = RequestMeta {
            version: "2026-07-28",
            client_info: &info,
            capabilities: &caps,
            log_level: Some("info"),
            progress_token: Some(&token),
        };
        #[derive(Serialize)]
        struct P {
            name: &'static str,
        }
        let body = request_body(&JsonRpcId::Number(7), "tools/call", &P { name: "x" }, &meta);
        assert_eq!(
            String::from_utf8(body).unwrap(),
            r#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"x","_meta":{"progressToken":3,"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientInfo":{"name":"c","version":"1"},"io.modelcontextprotocol/clientCapabilities":{"elicitation":{}},"io.modelcontextprotocol/logLevel":"info"}}}"#
        );
        let meta = RequestMeta {
            log_level: None,
            progress_token: None,
            ..meta
        };
        let body = request_body(&JsonRpcId::Number(1), "tools/list", &NoParams {}, &meta);
        let v: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["params"].as_object().unwrap().len(), 1);
        assert!(v["params"]["_meta"]
            .get("io.modelcontextprotocol/logLevel")
            .is_none());
    }

    #[test]
    fn annotations_are_found_and_mirrored() {
        let t = tool(json!({
            "type": "object",
            "properties": {
                "region": {"type": "string", "x-mcp-header": "Region"},
                "limit": {"type": "integer", "x-mcp-header": "Limit"},
                "opts": {"type": "object", "properties": {
                    "dry": {"type": "boolean", "x-mcp-header": "Dry"}}},
                "query": {"type": "string"}
            }
        }));
        let a = param_headers(&t).unwrap();
        assert_eq!(a.len(), 3);
        let h = param_header_values(
            &a,
            &json!({"region": "日本", "limit": 42.0, "opts": {"dry": true}, "query": "q"}),
        )
        .unwrap();
        let mut h = h;
        h.sort();
        assert_eq!(
            h,
            vec![
                ("Mcp-Param-Dry".to_string(), "true".to_string()),
                ("Mcp-Param-Limit".to_string(), "42".to_string()),
                ("Mcp-Param-Region".to_string(), encode_header_value("日本")),
            ]
        );
        // Absent and null values: no header.
        let h = param_header_values(&a, &json!({"region": null})).unwrap();
        assert!(h.is_empty());
        // Out of the safe integer range.
        assert!(param_header_values(&a, &json!({"limit": 9007199254740993u64})).is_err());
        assert!(param_header_values(&a, &json!({"region": {"x": 1}})).is_err());
    }

    #[test]
    fn invalid_annotations_invalidate_the_tool() {
        for schema in [
            json!({"properties": {"a": {"type": "number", "x-mcp-header": "A"}}}),
            json!({"properties": {"a": {"type": "string", "x-mcp-header": ""}}}),
            json!({"properties": {"a": {"type": "string", "x-mcp-header": "A B"}}}),
            json!({"properties": {"a": {"type": "string", "x-mcp-header": "A\r\nX: y"}}}),
            json!({"properties": {"a": {"type": "string", "x-mcp-header": "A"},
                                  "b": {"type": "string", "x-mcp-header": "a"}}}),
            json!({"properties": {"a": {"type": "array", "items": {"type": "string", "x-mcp-header": "A"}}}}),
            json!({"oneOf": [{"properties": {"a": {"type": "string", "x-mcp-header": "A"}}}]}),
            json!({"type": "string", "x-mcp-header": "Root"}),
        ] {
            assert!(param_headers(&tool(schema.clone())).is_err(), "{schema}");
        }
    }

    #[test]
    fn result_types() {
        assert_eq!(result_type(&json!({})), Ok(ResultType::Complete));
        assert_eq!(
            result_type(&json!({"resultType": "input_required"})),
            Ok(ResultType::InputRequired)
        );
        assert!(result_type(&json!({"resultType": "later"})).is_err());
        assert!(result_type(&json!({"resultType": 1})).is_err());
    }

    #[test]
    fn modern_errors_are_told_from_legacy_ones() {
        let b = br#"{"jsonrpc":"2.0","id":1,"error":{"code":-32022,"message":"x","data":{"supported":["2025-11-25"]}}}"#;
        let (code, _, data) = modern_error(400, b).unwrap();
        assert_eq!(code, UNSUPPORTED_PROTOCOL_VERSION);
        assert_eq!(supported_versions(data.as_ref()), vec!["2025-11-25"]);
        assert!(modern_error(400, br#"{"jsonrpc":"2.0","id":null,"error":{"code":-32000,"message":"Bad Request: Server not initialized"}}"#).is_none());
        assert!(modern_error(400, b"").is_none());
        assert!(modern_error(400, b"<html>").is_none());
        assert!(modern_error(
            404,
            br#"{"jsonrpc":"2.0","id":1,"error":{"code":-32601,"message":"no"}}"#
        )
        .is_some());
        assert!(modern_error(
            400,
            br#"{"jsonrpc":"2.0","id":1,"error":{"code":-32601,"message":"no"}}"#
        )
        .is_none());
    }

    #[test]
    fn version_choice_prefers_modern_then_newest_legacy() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(
            choose_version(&s(&["2025-06-18", "2026-07-28"])),
            Some(("2026-07-28", VersionEra::Modern))
        );
        assert_eq!(
            choose_version(&s(&["2025-03-26", "2025-06-18"])),
            Some(("2025-06-18", VersionEra::Legacy))
        );
        assert_eq!(choose_version(&s(&["2031-01-01"])), None);
    }
}
