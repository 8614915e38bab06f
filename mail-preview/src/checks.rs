//! The rules every template × fixture × locale must pass. Each failure names the template, the
//! fixture, the locale and the rule, so a designer knows where to look.

use crate::catalog::{Sample, compose_sample};
use crate::html_scan::start_tags;
use mailer::config::MailerConfig;
use std::fmt;

/// Gmail clips messages above about 102 KB; stay clearly below.
pub const MAX_HTML_BYTES: usize = 100 * 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub template: String,
    pub fixture: String,
    pub locale: String,
    pub rule: &'static str,
    pub detail: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{} [{}] {}: {}", self.template, self.fixture, self.locale, self.rule, self.detail)
    }
}

/// Links may be https, or start with `allowed_prefix` (the configured login URL, which may be
/// http://localhost in development).
pub struct Rules<'a> {
    pub allowed_prefix: Option<&'a str>,
}

impl Rules<'_> {
    /// Checks one sample in one locale; returns the broken rules (empty when all pass).
    pub fn check(&self, config: &MailerConfig, sample: &Sample, locale: &str) -> Vec<(&'static str, String)> {
        let composed = match compose_sample(config, sample, locale) {
            Ok(c) => c,
            Err(e) => return vec![("renders", e.to_string())],
        };
        let email = &composed.email;
        let expected_lang = mailer::locales::resolve(&mail_job::Locale::from_attribute(Some(locale))).0;
        let mut broken = Vec::new();
        let tags = start_tags(&email.html);
        match tags.iter().find(|t| t.name == "html").and_then(|t| t.attr("lang").flatten()) {
            Some(lang) if lang == expected_lang => {}
            Some(lang) => broken.push(("lang", format!("<html lang=\"{lang}\">, expected \"{expected_lang}\""))),
            None => broken.push(("lang", "<html> has no lang attribute".into())),
        }
        for table in tags.iter().filter(|t| t.name == "table") {
            if table.attr("role").flatten() != Some("presentation") {
                broken.push(("presentation-tables", "a layout <table> lacks role=\"presentation\"".into()));
            }
        }
        for img in tags.iter().filter(|t| t.name == "img") {
            if img.attr("alt").is_none() {
                let src = img.attr("src").flatten().unwrap_or("?");
                broken.push(("img-alt", format!("<img src=\"{src}\"> has no alt")));
            }
        }
        for href in tags.iter().filter_map(|t| t.attr("href").map(|h| h.unwrap_or(""))) {
            let href = href.trim();
            let placeholder = href.is_empty()
                || href == "#"
                || href.starts_with("javascript:")
                || href.contains('{')
                || href.contains("TODO")
                || href == "about:blank";
            if placeholder {
                broken.push(("no-placeholder-href", format!("href=\"{href}\"")));
            } else if !href.starts_with("https://") && !self.allowed_prefix.is_some_and(|p| href.starts_with(p)) {
                broken.push(("https-links", format!("href=\"{href}\" is not https")));
            }
        }
        if email.text.trim().is_empty() {
            broken.push(("text-part", "the plain-text part is empty".into()));
        }
        for essential in &composed.essentials {
            if !email.text.contains(essential.as_str()) {
                broken.push(("text-part", format!("the plain-text part lacks {essential:?}")));
            }
        }
        if email.subject.trim().is_empty() {
            broken.push(("subject", "the subject is empty".into()));
        }
        if composed.preheader.trim().is_empty() {
            broken.push(("preheader", "the preheader is empty".into()));
        }
        let html_text = without_style_blocks(&email.html);
        let parts = [
            ("subject", email.subject.as_str()),
            ("preheader", composed.preheader.as_str()),
            ("text", email.text.as_str()),
            ("html", html_text.as_str()),
        ];
        for (part, text) in parts {
            for p in unfilled_placeholders(text) {
                broken.push(("placeholders", format!("{part} still holds {p}")));
            }
        }
        if email.html.len() >= MAX_HTML_BYTES {
            broken.push(("html-size", format!("{} bytes; Gmail clips at about 102 KB", email.html.len())));
        }
        broken
    }

    /// Every sample in every locale.
    pub fn check_all(&self, config: &MailerConfig, samples: &[Sample], locales: &[&str]) -> (usize, Vec<Failure>) {
        let mut checked = 0;
        let mut failures = Vec::new();
        for sample in samples {
            for locale in locales {
                checked += 1;
                for (rule, detail) in self.check(config, sample, locale) {
                    failures.push(Failure {
                        template: sample.template.clone(),
                        fixture: sample.fixture.clone(),
                        locale: locale.to_string(),
                        rule,
                        detail,
                    });
                }
            }
        }
        (checked, failures)
    }
}

/// Every `{word}` left in text: strings whose placeholders the renderer did not fill.
fn unfilled_placeholders(text: &str) -> Vec<&str> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find('{') {
        let Some(len) = rest[start..].find('}') else { break };
        let inner = &rest[start + 1..start + len];
        if !inner.is_empty() && inner.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            found.push(&rest[start..=start + len]);
        }
        rest = &rest[start + 1..];
    }
    found
}

/// The HTML without its `<style>` blocks, whose CSS braces are not placeholders.
fn without_style_blocks(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(open) = rest.find("<style") {
        out.push_str(&rest[..open]);
        match rest[open..].find("</style>") {
            Some(close) => rest = &rest[open + close + "</style>".len()..],
            None => return out,
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{default_root, locales, preview_config, samples};

    #[test]
    fn the_real_templates_pass_every_rule() {
        let all = samples(&default_root()).unwrap();
        let (checked, failures) = Rules { allowed_prefix: None }.check_all(&preview_config(), &all, &locales());
        assert!(checked >= 12, "{checked}");
        assert!(failures.is_empty(), "{}", failures.iter().map(|f| f.to_string()).collect::<Vec<_>>().join("\n"));
    }

    #[test]
    fn every_placeholder_is_spotted_in_text_and_html() {
        assert_eq!(unfilled_placeholders("Hi {name},"), ["{name}"]);
        assert_eq!(unfilled_placeholders("a { b } {}"), Vec::<&str>::new());
        assert_eq!(unfilled_placeholders("{app}: {minutes} and {x y}"), ["{app}", "{minutes}"]);
        let html = "<style>.card{color:red} p{margin}</style><p>{code_hint}</p><style media=x>a{b}</style>{button}";
        assert_eq!(unfilled_placeholders(&without_style_blocks(html)), ["{code_hint}", "{button}"]);
    }
}
