//! One way in for JSON: every document the core reads is parsed to a [`Value`] first and the
//! typed structures are read from that value.
//!
//! This is a size decision for the WebAssembly build: serde instantiates each type's
//! `Deserialize` once per input kind, so parsing some documents from `&str`, some from `&[u8]`
//! and some from `Value` compiled up to three copies of every parser (and two JSON readers).
//! Going through `Value` everywhere keeps one reader and one copy per type. The results are
//! the same as `serde_json::from_slice`, except that a key repeated in an object is taken at
//! its last value (as `JSON.parse` does) instead of refused.

use serde::de::DeserializeOwned;
use serde_json::Value;

/// Parses `bytes` as JSON into `T` (through a [`Value`]).
pub(crate) fn from_bytes<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, serde_json::Error> {
    serde_json::from_slice::<Value>(bytes).and_then(T::deserialize)
}
