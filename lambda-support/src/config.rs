use std::collections::HashMap;
use std::fmt::Display;
use std::str::FromStr;

/// A configuration variable that is missing or unusable. The message always names the variable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("missing required environment variable {0}")]
    Missing(&'static str),
    #[error("invalid value for environment variable {name}: {reason}")]
    Invalid { name: &'static str, reason: String },
}

/// A snapshot of the environment. Reading through this type (not `std::env` directly) lets tests
/// check configuration without touching the process environment.
#[derive(Debug, Clone, Default)]
pub struct Env(HashMap<String, String>);

impl Env {
    pub fn from_process() -> Self {
        Env(std::env::vars().collect())
    }

    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        Env(pairs.into_iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
    }

    /// The value, with an empty or all-blank value treated as unset.
    pub fn optional(&self, name: &'static str) -> Option<&str> {
        self.0.get(name).map(|v| v.trim()).filter(|v| !v.is_empty())
    }

    pub fn required(&self, name: &'static str) -> Result<&str, ConfigError> {
        self.optional(name).ok_or(ConfigError::Missing(name))
    }

    /// Parses the variable, or returns `default` when it is unset.
    pub fn parsed_or<T>(&self, name: &'static str, default: T) -> Result<T, ConfigError>
    where
        T: FromStr,
        T::Err: Display,
    {
        match self.optional(name) {
            None => Ok(default),
            Some(raw) => {
                raw.parse().map_err(|e: T::Err| ConfigError::Invalid { name, reason: format!("{raw:?}: {e}") })
            }
        }
    }

    /// Like [`Env::parsed_or`], and the value must lie in `range`.
    pub fn integer_in<T>(
        &self,
        name: &'static str,
        default: T,
        range: std::ops::RangeInclusive<T>,
    ) -> Result<T, ConfigError>
    where
        T: FromStr + PartialOrd + Display + Copy,
        T::Err: Display,
    {
        let value = self.parsed_or(name, default)?;
        if range.contains(&value) {
            Ok(value)
        } else {
            Err(ConfigError::Invalid {
                name,
                reason: format!("{value} is outside {}..={}", range.start(), range.end()),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_and_blank_required_variables_are_named() {
        let env = Env::from_pairs([("BLANK", "  ")]);
        assert_eq!(env.required("NOPE").unwrap_err().to_string(), "missing required environment variable NOPE");
        assert_eq!(env.required("BLANK"), Err(ConfigError::Missing("BLANK")));
    }

    #[test]
    fn defaults_apply_only_when_unset() {
        let env = Env::from_pairs([("N", "7")]);
        assert_eq!(env.integer_in("N", 3u32, 1..=10), Ok(7));
        assert_eq!(env.integer_in("UNSET", 3u32, 1..=10), Ok(3));
    }

    #[test]
    fn unparseable_and_out_of_range_values_name_the_variable() {
        let env = Env::from_pairs([("A", "three"), ("B", "0")]);
        let a = env.integer_in("A", 3u32, 1..=10).unwrap_err().to_string();
        assert!(a.contains("A") && a.contains("three"), "{a}");
        let b = env.integer_in("B", 3u32, 1..=10).unwrap_err().to_string();
        assert_eq!(b, "invalid value for environment variable B: 0 is outside 1..=10");
    }
}
