//! Test helpers: the Cognito events under `triggers/fixtures/cognito/`, shaped exactly as Cognito
//! sends them. Public so the crate's integration tests and the workspace tests share them.

use serde::de::DeserializeOwned;

pub const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/cognito");

pub fn raw(name: &str) -> String {
    let path = format!("{DIR}/{name}");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("fixture {path}: {e}"))
}

pub fn json(name: &str) -> serde_json::Value {
    serde_json::from_str(&raw(name)).unwrap_or_else(|e| panic!("fixture {name}: {e}"))
}

/// The fixture as a typed event; panics if it does not deserialise.
pub fn event<T: DeserializeOwned>(name: &str) -> T {
    serde_json::from_str(&raw(name)).unwrap_or_else(|e| panic!("fixture {name}: {e}"))
}

/// The fixture after `edit` changed its JSON, as a typed event.
pub fn edited<T: DeserializeOwned>(name: &str, edit: impl FnOnce(&mut serde_json::Value)) -> T {
    let mut value = json(name);
    edit(&mut value);
    serde_json::from_value(value).unwrap_or_else(|e| panic!("edited fixture {name}: {e}"))
}
