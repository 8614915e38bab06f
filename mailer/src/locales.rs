//! The words of every email, one JSON file per language in `templates/locales/`. They are compiled
//! into the binary; a test checks that every file has every string.
//!
//! Strings are plain text with `{placeholders}`; they are escaped like any data when they reach
//! HTML, so a translator cannot break the markup.

use mail_job::Locale;
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::OnceLock;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Strings {
    pub common: CommonStrings,
    pub login_link: LoginLinkStrings,
    pub welcome: WelcomeStrings,
    pub passkey_added: PasskeyStrings,
    pub passkey_removed: PasskeyStrings,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommonStrings {
    pub greeting: String,
    pub ignore: String,
    pub footer: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginLinkStrings {
    pub subject: String,
    pub preheader: String,
    pub intro: String,
    pub button: String,
    pub link_hint: String,
    pub code_hint: String,
    pub expiry_one: String,
    pub expiry_other: String,
    pub expiry_unknown: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WelcomeStrings {
    pub subject: String,
    pub preheader: String,
    pub intro: String,
    pub how: String,
    pub button: String,
    pub username_hint: String,
    pub ignore: String,
}

/// A passkey notice (`passkey_added`, `passkey_removed`); `{passkey}` and `{when}` fill in.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasskeyStrings {
    pub subject: String,
    pub preheader: String,
    pub intro: String,
    pub button: String,
    pub not_you: String,
    pub ignore: String,
}

/// The locale files, by language tag. Adding a language is adding a file here and in the folder.
const FILES: [(&str, &str); 4] = [
    ("en", include_str!("../../templates/locales/en.json")),
    ("de", include_str!("../../templates/locales/de.json")),
    ("fr", include_str!("../../templates/locales/fr.json")),
    ("es", include_str!("../../templates/locales/es.json")),
];

pub const FALLBACK: &str = "en";

fn table() -> &'static HashMap<&'static str, Strings> {
    static TABLE: OnceLock<HashMap<&'static str, Strings>> = OnceLock::new();
    TABLE.get_or_init(|| {
        FILES
            .iter()
            .map(|(tag, json)| {
                // Checked by `every_locale_file_has_every_string`; a broken file cannot ship.
                let strings =
                    serde_json::from_str(json).unwrap_or_else(|e| panic!("templates/locales/{tag}.json: {e}"));
                (*tag, strings)
            })
            .collect()
    })
}

/// The locales that have strings, fallback first.
pub fn available() -> Vec<&'static str> {
    FILES.iter().map(|(tag, _)| *tag).collect()
}

/// The best strings for a tag: the exact tag (`pt-br`), then its language (`pt`), then English.
/// Returns the tag actually used, for `lang` and the email tags.
pub fn resolve(locale: &Locale) -> (&'static str, &'static Strings) {
    let table = table();
    [locale.as_str(), locale.language(), FALLBACK]
        .into_iter()
        .find_map(|t| table.get_key_value(t))
        .map(|(k, v)| (*k, v))
        .expect("the fallback locale exists")
}

/// Fills `{name}`-style placeholders. Unknown placeholders are left as they are (and caught by
/// the template check), never an error at send time.
pub fn fill(template: &str, values: &[(&str, &str)]) -> String {
    values.iter().fold(template.to_string(), |s, (k, v)| s.replace(&format!("{{{k}}}"), v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_locale_file_has_every_string() {
        for (tag, json) in FILES {
            let parsed: Result<Strings, _> = serde_json::from_str(json);
            assert!(parsed.is_ok(), "templates/locales/{tag}.json: {:?}", parsed.err());
        }
    }

    #[test]
    fn every_locale_file_in_the_folder_is_compiled_in() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../templates/locales");
        let mut on_disk: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().trim_end_matches(".json").to_string())
            .collect();
        on_disk.sort();
        let mut compiled: Vec<String> = available().iter().map(|s| s.to_string()).collect();
        compiled.sort();
        assert_eq!(on_disk, compiled);
    }

    #[test]
    fn resolution_falls_back_from_region_to_language_to_english() {
        let resolved = |tag: &str| resolve(&Locale::from_attribute(Some(tag))).0;
        assert_eq!(resolved("de"), "de");
        assert_eq!(resolved("de-AT"), "de");
        assert_eq!(resolved("fr_CA"), "fr");
        assert_eq!(resolved("pt-br"), "en");
        assert_eq!(resolved(""), "en");
    }

    #[test]
    fn placeholders_are_filled_and_only_known_ones() {
        assert_eq!(fill("Hi {name}, {app} {x}", &[("name", "Zoë"), ("app", "Acme")]), "Hi Zoë, Acme {x}");
    }
}
