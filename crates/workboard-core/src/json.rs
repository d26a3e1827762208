//! One way in for JSON: every document the core reads is parsed to a [`Value`] first and the
//! typed structures are read from that value.
//!
//! This is a size decision for the WebAssembly build: serde instantiates each type's
//! `Deserialize` once per input kind, so parsing some documents from `&str`, some from `&[u8]`
//! and some from `Value` compiled up to three copies of every parser (and two JSON readers).
//! Going through `Value` everywhere keeps one reader and one copy per type. The results are
//! the same as `serde_json::from_slice`, except that a key repeated in an object is taken at
//! its last value (as `JSON.parse` does) instead of refused.
//!
//! Types are read from the value by [`from_value`], through this module's [`Reader`] rather
//! than `serde_json`'s own `Value` deserializer. The difference is what gets compiled, not
//! what is accepted from a server: a struct is read from a JSON object only (serde_json also
//! fills a struct from an array, by position, so every derived type carried a second,
//! sequence-reading copy of its visitor that no document of these protocols needs), and
//! names (field names, variants, map keys) are read as strings only. In the WebAssembly build
//! that is ~6 KB gzipped less (bindings/wasm/README.md "Size").

use serde::de::{
    self, Deserialize, DeserializeOwned, DeserializeSeed, Deserializer, EnumAccess,
    IntoDeserializer, MapAccess, SeqAccess, Unexpected, VariantAccess, Visitor,
};
use serde_json::{Map, Value};

/// What [`Reader`] fails with: serde's message, except that a value of the wrong type or
/// value is named by its kind only (`invalid type: floating point number, expected u64`),
/// never printed. The messages built from input say nothing more after
/// [`crate::untrusted::describe_serde_error`] anyway, and formatting a value would link
/// float printing (~7 KB gzipped in the WebAssembly build) into every build that reads JSON.
/// (Boxed: one pointer, like `serde_json::Error`, so every `Result` that carries it stays
/// small; a `String` here made the readers ~7 KB gzipped larger.)
#[derive(Debug)]
#[allow(clippy::box_collection)] // one pointer wide on purpose (see above)
pub struct ReadError(Box<String>);

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ReadError {}

/// The kind of an unexpected value, as serde_json's messages name it.
fn kind(u: &Unexpected<'_>) -> &'static str {
    match u {
        Unexpected::Bool(_) => "boolean",
        Unexpected::Unsigned(_) | Unexpected::Signed(_) => "integer",
        Unexpected::Float(_) => "floating point number",
        Unexpected::Char(_) => "character",
        Unexpected::Str(_) => "string",
        Unexpected::Bytes(_) => "byte array",
        Unexpected::Unit => "null",
        Unexpected::Option => "option",
        Unexpected::NewtypeStruct => "newtype struct",
        Unexpected::Seq => "sequence",
        Unexpected::Map => "map",
        Unexpected::Enum => "enum",
        Unexpected::UnitVariant => "unit variant",
        Unexpected::NewtypeVariant => "newtype variant",
        Unexpected::TupleVariant => "tuple variant",
        Unexpected::StructVariant => "struct variant",
        Unexpected::Other(_) => "value",
    }
}

impl de::Error for ReadError {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        ReadError(Box::new(msg.to_string()))
    }

    fn invalid_type(unexp: Unexpected<'_>, exp: &dyn de::Expected) -> Self {
        ReadError(Box::new(format!(
            "invalid type: {}, expected {exp}",
            kind(&unexp)
        )))
    }

    fn invalid_value(unexp: Unexpected<'_>, exp: &dyn de::Expected) -> Self {
        ReadError(Box::new(format!(
            "invalid value: {}, expected {exp}",
            kind(&unexp)
        )))
    }
}

type Error = ReadError;

/// Parses `bytes` as JSON into `T` (through a [`Value`]).
pub(crate) fn from_bytes<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, serde_json::Error> {
    serde_json::from_slice::<Value>(bytes).and_then(from_value)
}

/// Reads `T` from `value`: `serde_json::from_value`, except that a struct is read from an
/// object only (see the module's documentation).
pub fn from_value<T: DeserializeOwned>(value: Value) -> Result<T, serde_json::Error> {
    T::deserialize(Reader(value)).map_err(|e| de::Error::custom(*e.0))
}

/// Reads an internally tagged enum's variant: the string at `tag` in `value`, an object.
/// serde's `tag` attribute does the same through a buffer of the whole document, whose code
/// is larger than everything else it takes to read a few small enums (README "Size"), so
/// those enums implement `Deserialize` with this.
pub(crate) fn variant_of<'v, E: de::Error>(
    value: &'v Value,
    tag: &'static str,
    expected: &'static str,
) -> Result<&'v str, E> {
    if !value.is_object() {
        return Err(E::invalid_type(unexpected(value), &expected));
    }
    match value.get(tag) {
        None => Err(E::missing_field(tag)),
        Some(Value::String(s)) => Ok(s),
        Some(other) => Err(E::invalid_type(unexpected(other), &"variant identifier")),
    }
}

/// Reads a struct from an object by hand: `build` takes its fields from a [`Fields`]. What
/// serde's derive does (the same messages: `invalid type: …, expected struct Tool`, `missing
/// field `name``), in a fraction of the code: the derived visitor is compiled per type and per
/// field, these helpers once per field *type* (README "Size" in bindings/wasm).
pub fn object<'de, D, T>(
    d: D,
    what: &'static str,
    build: impl FnOnce(&mut Fields) -> Result<T, ReadError>,
) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
{
    let mut fields = Fields::of(Value::deserialize(d)?, what).map_err(de::Error::custom)?;
    build(&mut fields).map_err(de::Error::custom)
}

/// [`object`] over `value`: for a reader that is not a type's `Deserialize` (one field of a
/// result, say).
pub(crate) fn from_object<T>(
    value: Value,
    what: &'static str,
    build: impl FnOnce(&mut Fields) -> Result<T, ReadError>,
) -> Result<T, serde_json::Error> {
    object(Reader(value), what, build).map_err(|e| de::Error::custom(*e.0))
}

/// The fields of an object being read by [`object`]; fields not taken are ignored.
pub struct Fields(Map<String, Value>);

impl Fields {
    /// The fields of `value`, an object (not generic: one copy for every reader).
    fn of(value: Value, what: &'static str) -> Result<Fields, ReadError> {
        match value {
            Value::Object(map) => Ok(Fields(map)),
            other => Err(de::Error::custom(format!(
                "invalid type: {}, expected {what}",
                kind(&unexpected(&other))
            ))),
        }
    }

    /// A field that must be there.
    pub fn req<T: DeserializeOwned>(&mut self, key: &'static str) -> Result<T, ReadError> {
        match self.0.remove(key) {
            Some(v) => T::deserialize(Reader(v)),
            None => Err(de::Error::missing_field(key)),
        }
    }

    /// A field that may be missing or `null`.
    pub fn opt<T: DeserializeOwned>(&mut self, key: &'static str) -> Result<Option<T>, ReadError> {
        match self.0.remove(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => T::deserialize(Reader(v)).map(Some),
        }
    }

    /// A field whose absence means its default (serde's `#[serde(default)]`).
    pub fn or_default<T: DeserializeOwned + Default>(
        &mut self,
        key: &'static str,
    ) -> Result<T, ReadError> {
        match self.0.remove(key) {
            Some(v) => T::deserialize(Reader(v)),
            None => Ok(T::default()),
        }
    }
}

/// A [`Value`] as a serde [`Deserializer`] (see the module's documentation).
pub struct Reader(pub Value);

/// What serde errors call `v` (`invalid type: string "…", expected …`).
pub(crate) fn unexpected(v: &Value) -> Unexpected<'_> {
    match v {
        Value::Null => Unexpected::Unit,
        Value::Bool(b) => Unexpected::Bool(*b),
        Value::Number(n) => match (n.as_u64(), n.as_i64()) {
            (Some(u), _) => Unexpected::Unsigned(u),
            (None, Some(i)) => Unexpected::Signed(i),
            _ => Unexpected::Float(n.as_f64().unwrap_or(0.0)),
        },
        Value::String(s) => Unexpected::Str(s),
        Value::Array(_) => Unexpected::Seq,
        Value::Object(_) => Unexpected::Map,
    }
}

impl Reader {
    /// The error for a value of the wrong type (not generic: one copy for every visitor).
    fn refuse(&self, expected: &dyn de::Expected) -> Error {
        de::Error::invalid_type(unexpected(&self.0), expected)
    }
}

fn visit_array<'de, V: Visitor<'de>>(items: Vec<Value>, visitor: V) -> Result<V::Value, Error> {
    let len = items.len();
    let mut seq = Seq(items.into_iter());
    let out = visitor.visit_seq(&mut seq)?;
    match seq.0.len() {
        0 => Ok(out),
        _ => Err(de::Error::invalid_length(len, &"fewer elements in array")),
    }
}

fn visit_object<'de, V: Visitor<'de>>(
    map: Map<String, Value>,
    visitor: V,
) -> Result<V::Value, Error> {
    let len = map.len();
    let mut entries = Entries {
        iter: map.into_iter(),
        value: None,
    };
    let out = visitor.visit_map(&mut entries)?;
    match entries.iter.len() {
        0 => Ok(out),
        _ => Err(de::Error::invalid_length(len, &"fewer elements in map")),
    }
}

impl<'de> Deserializer<'de> for Reader {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(b),
            // Read here rather than by `Number`'s own deserializer (whose error type is
            // serde_json's).
            Value::Number(n) => match (n.as_u64(), n.as_i64(), n.as_f64()) {
                (Some(u), _, _) => visitor.visit_u64(u),
                (None, Some(i), _) => visitor.visit_i64(i),
                (None, None, f) => visitor.visit_f64(f.unwrap_or(0.0)),
            },
            Value::String(s) => visitor.visit_string(s),
            Value::Array(items) => visit_array(items, visitor),
            Value::Object(map) => visit_object(map, visitor),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_map(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            Value::Object(map) => visit_object(map, visitor),
            _ => Err(self.refuse(&visitor)),
        }
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            Value::Array(items) => visit_array(items, visitor),
            _ => Err(self.refuse(&visitor)),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            Value::String(s) => visitor.visit_string(s),
            _ => Err(self.refuse(&visitor)),
        }
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_string(visitor)
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_string(visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match self.0 {
            Value::String(variant) => visitor.visit_enum(Variant {
                name: variant,
                value: None,
            }),
            Value::Object(map) if map.len() == 1 => {
                let Some((name, value)) = map.into_iter().next() else {
                    return Err(de::Error::invalid_length(0, &"a map of one entry"));
                };
                visitor.visit_enum(Variant {
                    name,
                    value: Some(value),
                })
            }
            Value::Object(_) => Err(de::Error::invalid_value(
                Unexpected::Map,
                &"a map of one entry",
            )),
            _ => Err(self.refuse(&visitor)),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char bytes byte_buf unit
        unit_struct tuple_struct
    }
}

impl IntoDeserializer<'_, Error> for Reader {
    type Deserializer = Self;

    fn into_deserializer(self) -> Self {
        self
    }
}

/// A name (an object's key, a variant): a string to every visitor.
struct Name(String);

impl<'de> Deserializer<'de> for Name {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_string(self.0)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map struct enum
        identifier ignored_any
    }
}

/// The elements of an array.
struct Seq(std::vec::IntoIter<Value>);

impl<'de> SeqAccess<'de> for Seq {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        self.0
            .next()
            .map(|v| seed.deserialize(Reader(v)))
            .transpose()
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.0.len())
    }
}

/// The entries of an object.
struct Entries {
    iter: serde_json::map::IntoIter,
    value: Option<Value>,
}

impl<'de> MapAccess<'de> for Entries {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        let Some((key, value)) = self.iter.next() else {
            return Ok(None);
        };
        self.value = Some(value);
        seed.deserialize(Name(key)).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        match self.value.take() {
            Some(v) => seed.deserialize(Reader(v)),
            None => Err(de::Error::custom("value is missing")),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.iter.len())
    }
}

/// An enum's variant: its name, and its content (none for a unit variant given as a string).
struct Variant {
    name: String,
    value: Option<Value>,
}

impl<'de> EnumAccess<'de> for Variant {
    type Error = Error;
    type Variant = Content;

    fn variant_seed<V: DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, Content), Error> {
        let v = seed.deserialize(Name(self.name))?;
        Ok((v, Content(self.value)))
    }
}

/// The content of an enum's variant.
struct Content(Option<Value>);

impl<'de> VariantAccess<'de> for Content {
    type Error = Error;

    fn unit_variant(self) -> Result<(), Error> {
        match self.0 {
            None | Some(Value::Null) => Ok(()),
            Some(v) => Err(de::Error::invalid_type(unexpected(&v), &"unit variant")),
        }
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, Error> {
        match self.0 {
            Some(v) => seed.deserialize(Reader(v)),
            None => Err(de::Error::invalid_type(
                Unexpected::UnitVariant,
                &"newtype variant",
            )),
        }
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            Some(Value::Array(items)) => visit_array(items, visitor),
            Some(v) => Err(de::Error::invalid_type(unexpected(&v), &"tuple variant")),
            None => Err(de::Error::invalid_type(
                Unexpected::UnitVariant,
                &"tuple variant",
            )),
        }
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match self.0 {
            Some(Value::Object(map)) => visit_object(map, visitor),
            Some(v) => Err(de::Error::invalid_type(unexpected(&v), &"struct variant")),
            None => Err(de::Error::invalid_type(
                Unexpected::UnitVariant,
                &"struct variant",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    //! The hand-written readers (`object`) read exactly what the types' `Serialize` derives
    //! write, with every optional field given and with none; serde's own deserializers
    //! (`serde_json::from_value`) take the same path; and the messages are serde's.
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::credentials::{Dialect, TokenSet};
    use crate::mcp::jsonrpc::{Implementation, InitializeResult, ListToolsResult, RpcError, Tool};
    use crate::mcp::session::SessionInfo;
    use crate::mcp::surface::{
        Completion, GetPromptResult, Prompt, PromptArgument, PromptMessage, Resource,
        ResourceContents, ResourceTemplate,
    };
    use crate::oauth::flow::AuthContext;
    use crate::oauth::metadata::{
        AuthorizationServerMetadata, KnownIssuerQuirk, ProtectedResourceMetadata,
    };
    use crate::oauth::pending::{AuthorizationCode, PendingAuthorization};
    use crate::oauth::registration::{IdentitySource, TokenEndpointAuth};
    use crate::{Credentials, Environment, SecretString};
    use serde::Serialize;
    use serde_json::json;
    use std::fmt::Debug;

    fn round_trip<T>(value: &T)
    where
        T: Serialize + DeserializeOwned + PartialEq + Debug,
    {
        let written = serde_json::to_value(value).unwrap();
        let read: T = from_value(written.clone()).unwrap();
        assert_eq!(&read, value, "{written}");
        let by_serde: T = serde_json::from_value(written.clone()).unwrap();
        assert_eq!(&by_serde, value, "{written}");
        let from_text: T = serde_json::from_str(&written.to_string()).unwrap();
        assert_eq!(&from_text, value, "{written}");
    }

    fn s(v: &str) -> Option<String> {
        Some(v.to_string())
    }

    fn v(items: &[&str]) -> Vec<String> {
        items.iter().map(|i| i.to_string()).collect()
    }

    #[test]
    fn mcp_types_read_what_they_write() {
        let implementation = Implementation {
            name: "n".into(),
            version: "1".into(),
            title: s("T"),
        };
        round_trip(&implementation);
        round_trip(&Implementation::new("n", "1"));
        let tool = Tool {
            name: "t".into(),
            title: s("T"),
            description: s("d"),
            input_schema: json!({"type": "object"}),
            output_schema: Some(json!({"type": "object"})),
            annotations: Some(json!({"readOnlyHint": true})),
        };
        let bare = Tool {
            name: "u".into(),
            title: None,
            description: None,
            input_schema: Value::Null,
            output_schema: None,
            annotations: None,
        };
        round_trip(&tool);
        round_trip(&bare);
        round_trip(&ListToolsResult {
            tools: vec![tool, bare],
            next_cursor: s("c"),
        });
        round_trip(&ListToolsResult {
            tools: vec![],
            next_cursor: None,
        });
        round_trip(&InitializeResult {
            protocol_version: "2025-11-25".into(),
            capabilities: json!({"tools": {}}),
            server_info: implementation.clone(),
            instructions: s("i"),
        });
        round_trip(&RpcError {
            code: -32601,
            message: "m".into(),
            data: Some(json!([1])),
        });
        round_trip(&SessionInfo {
            session_id: s("sid"),
            protocol_version: s("2025-11-25"),
            server_info: Some(implementation),
        });
        round_trip(&SessionInfo::default());
    }

    #[test]
    fn surface_types_read_what_they_write() {
        round_trip(&Resource {
            uri: "u".into(),
            name: "n".into(),
            title: s("t"),
            description: s("d"),
            mime_type: s("text/plain"),
            size: Some(7),
        });
        round_trip(&ResourceTemplate {
            uri_template: "u/{x}".into(),
            name: "n".into(),
            title: None,
            description: s("d"),
            mime_type: s("m"),
        });
        round_trip(&ResourceContents {
            uri: "u".into(),
            mime_type: None,
            text: s("x"),
            blob: s("eA=="),
        });
        round_trip(&Prompt {
            name: "p".into(),
            title: s("t"),
            description: None,
            arguments: vec![PromptArgument {
                name: "a".into(),
                description: s("d"),
                required: true,
            }],
        });
        round_trip(&GetPromptResult {
            description: s("d"),
            messages: vec![PromptMessage {
                role: "user".into(),
                content: json!({"type": "text", "text": "x"}),
            }],
        });
        round_trip(&Completion {
            values: v(&["a", "b"]),
            total: Some(2),
            has_more: true,
        });
        round_trip(&Completion::default());
    }

    #[test]
    fn oauth_types_read_what_they_write() {
        let set = TokenSet {
            access_token: SecretString::new("at"),
            refresh_token: Some(SecretString::new("rt")),
            token_type: "bearer".into(),
            scope: s("mcp"),
            issued_at_ms: 5,
            expires_at_ms: Some(9),
            dialect: Dialect::OAuth2,
            bound_to: s("https://h/mcp"),
        };
        round_trip(&set);
        round_trip(&Credentials::OAuth(set));
        round_trip(&Credentials::personal("wbp_x"));
        for env in [
            Environment::Us,
            Environment::Eu,
            Environment::Custom("http://127.0.0.1:9".into()),
        ] {
            round_trip(&env);
        }
        let context = AuthContext {
            server_url: "https://h/mcp".into(),
            resource: "https://h/mcp".into(),
            issuer: s("https://h"),
            authorization_endpoint: "https://h/a".into(),
            token_endpoint: "https://h/t".into(),
            revocation_endpoint: s("https://h/r"),
            registration_endpoint: s("https://h/reg"),
            token_endpoint_auth: TokenEndpointAuth::ClientSecretBasic,
            client_id: "c".into(),
            client_secret: Some(SecretString::new("cs")),
            identity_source: IdentitySource::DynamicRegistration,
            redirect_uri: "http://127.0.0.1:9/cb".into(),
            scopes: s("mcp offline_access"),
            as_scopes_supported: Some(v(&["mcp"])),
            iss_parameter_supported: true,
            allowance: Some(KnownIssuerQuirk::WorkboardWbIssuer),
            legacy_defaults: true,
        };
        round_trip(&context);
        let mut bare = context;
        bare.issuer = None;
        bare.revocation_endpoint = None;
        bare.registration_endpoint = None;
        bare.client_secret = None;
        bare.scopes = None;
        bare.as_scopes_supported = None;
        bare.iss_parameter_supported = false;
        bare.allowance = None;
        bare.legacy_defaults = false;
        round_trip(&bare);
        round_trip(&ProtectedResourceMetadata {
            resource: "https://h/mcp".into(),
            authorization_servers: Some(v(&["https://h"])),
            scopes_supported: Some(v(&["mcp"])),
            bearer_methods_supported: Some(v(&["header"])),
            resource_name: s("n"),
        });
        round_trip(&AuthorizationServerMetadata {
            issuer: "https://h".into(),
            authorization_endpoint: s("a"),
            token_endpoint: s("t"),
            registration_endpoint: s("r"),
            revocation_endpoint: s("v"),
            scopes_supported: Some(v(&["mcp"])),
            response_types_supported: Some(v(&["code"])),
            grant_types_supported: Some(v(&["authorization_code"])),
            token_endpoint_auth_methods_supported: Some(v(&["none"])),
            revocation_endpoint_auth_methods_supported: Some(v(&["none"])),
            code_challenge_methods_supported: Some(v(&["S256"])),
            client_id_metadata_document_supported: Some(true),
            authorization_response_iss_parameter_supported: Some(false),
        });
        round_trip(&AuthorizationServerMetadata {
            issuer: "https://h".into(),
            ..Default::default()
        });
        round_trip(&AuthorizationCode {
            code: SecretString::new("code"),
            dialect: Dialect::WorkboardV1,
            redirect_uri: "https://app/cb".into(),
            client_id: "c".into(),
            pkce_verifier: Some(SecretString::new("v")),
            resource: s("https://h/mcp"),
            token_endpoint: "https://h/t".into(),
            scopes: v(&["all"]),
            received_at_ms: 1,
            expires_at_ms: Some(2),
            extra: json!({"k": 1}),
        });
        let pending = PendingAuthorization {
            dialect: Dialect::OAuth2,
            state: SecretString::new("st"),
            created_at_ms: 1,
            expires_at_ms: 2,
            redirect_uri: "https://app/cb".into(),
            client_id: "c".into(),
            pkce_verifier: Some(SecretString::new("v")),
            resource: s("https://h/mcp"),
            expected_issuer: s("https://h"),
            iss_optional: true,
            token_endpoint: "https://h/t".into(),
            scopes: v(&["mcp"]),
            completed: true,
            extra: json!({"mcp_flow": {}}),
        };
        round_trip(&pending);
        round_trip(&PendingAuthorization {
            pkce_verifier: None,
            resource: None,
            expected_issuer: None,
            iss_optional: false,
            scopes: vec![],
            completed: false,
            extra: Value::Null,
            ..pending
        });
    }

    fn message<T: DeserializeOwned + Debug>(value: Value) -> String {
        from_value::<T>(value).unwrap_err().to_string()
    }

    #[test]
    fn the_messages_are_serdes_without_the_value() {
        assert_eq!(
            message::<Tool>(json!("x")),
            "invalid type: string, expected struct Tool"
        );
        assert_eq!(message::<Tool>(json!({})), "missing field `name`");
        assert_eq!(
            message::<Tool>(json!({"name": 5})),
            "invalid type: integer, expected a string"
        );
        assert_eq!(
            message::<Tool>(json!({"name": 1.5})),
            "invalid type: floating point number, expected a string"
        );
        assert_eq!(
            message::<Completion>(json!({"values": null})),
            "invalid type: null, expected a sequence"
        );
        assert_eq!(
            message::<Credentials>(json!({"kind": "other"})),
            "unknown variant `other`, expected `personal` or `oauth`"
        );
        assert_eq!(message::<Credentials>(json!({})), "missing field `kind`");
        assert_eq!(
            message::<TokenSet>(
                json!({"access_token": "a", "token_type": "bearer", "issued_at_ms": -1, "dialect": "o_auth2"})
            ),
            "invalid value: integer, expected u64"
        );
        // A field given as null is absent for an optional field, a wrong type for another.
        let tool: Tool = from_value(json!({"name": "t", "title": null})).unwrap();
        assert_eq!(tool.title, None);
        // Fields this SDK does not read are ignored.
        let tool: Tool = from_value(json!({"name": "t", "icons": []})).unwrap();
        assert_eq!(tool.name, "t");
    }
}
