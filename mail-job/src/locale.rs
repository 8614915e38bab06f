use serde::{Deserialize, Deserializer, Serialize};
use std::fmt;

/// A BCP 47-ish language tag, normalised to lowercase language with `-` separators (`pt-BR`
/// stays `pt-br`). Anything that does not look like a tag becomes `en`: the locale comes from a
/// user-editable Cognito attribute and must never break (or inject into) an email.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Locale(String);

impl Locale {
    pub const FALLBACK: &'static str = "en";

    pub fn fallback() -> Self {
        Locale(Self::FALLBACK.to_string())
    }

    /// Lenient: returns the fallback for a missing or malformed tag.
    pub fn from_attribute(value: Option<&str>) -> Self {
        value.and_then(Self::parse).unwrap_or_else(Self::fallback)
    }

    pub fn parse(value: &str) -> Option<Self> {
        let tag = value.trim().replace('_', "-").to_ascii_lowercase();
        let mut parts = tag.split('-');
        let language = parts.next()?;
        let language_ok = (2..=3).contains(&language.len()) && language.bytes().all(|b| b.is_ascii_lowercase());
        let rest_ok = parts.all(|p| (1..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()));
        (language_ok && rest_ok && tag.len() <= 35).then_some(Locale(tag))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The primary language subtag: `pt` for `pt-br`.
    pub fn language(&self) -> &str {
        self.0.split('-').next().unwrap_or(Self::FALLBACK)
    }
}

impl<'de> Deserialize<'de> for Locale {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Ok(Locale::from_attribute(Some(&raw)))
    }
}

impl fmt::Display for Locale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
