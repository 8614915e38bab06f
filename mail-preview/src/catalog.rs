use mail_job::{Locale, MailJob};
use mailer::batch::{Composed, compose};
use mailer::config::MailerConfig;
use std::path::{Path, PathBuf};

/// The templates folder of this checkout, where the fixtures live beside the templates.
pub fn default_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../templates")
}

/// One sample: a fixture file of one template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sample {
    pub template: String,
    pub fixture: String,
    pub path: PathBuf,
}

/// Everything to preview under `root`: `<template>/fixtures/<fixture>.json`, sorted.
pub fn samples(root: &Path) -> std::io::Result<Vec<Sample>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(root)? {
        let dir = entry?.path();
        let fixtures = dir.join("fixtures");
        if !fixtures.is_dir() {
            continue;
        }
        let template = dir.file_name().unwrap_or_default().to_string_lossy().into_owned();
        for file in std::fs::read_dir(&fixtures)? {
            let path = file?.path();
            if path.extension().is_some_and(|e| e == "json") {
                let fixture = path.file_stem().unwrap_or_default().to_string_lossy().into_owned();
                out.push(Sample { template: template.clone(), fixture, path });
            }
        }
    }
    out.sort_by(|a, b| (&a.template, &a.fixture).cmp(&(&b.template, &b.fixture)));
    Ok(out)
}

/// The locales every sample is shown in.
pub fn locales() -> Vec<&'static str> {
    mailer::locales::available()
}

/// The configuration the preview renders with: the real variables when set (so a designer sees
/// their own `MAIL_FROM` and `APP_NAME`), else a neutral example.
pub fn preview_config() -> MailerConfig {
    let mut env = lambda_support::Env::from_process();
    if env.optional("MAIL_FROM").is_none() {
        env = lambda_support::Env::from_pairs([("MAIL_FROM", "Acme <no-reply@acme.example>")]);
    }
    MailerConfig::from_env(&env).unwrap_or_else(|e| panic!("preview configuration: {e}"))
}

#[derive(Debug, thiserror::Error)]
pub enum SampleError {
    #[error("cannot read {path}: {error}")]
    Read { path: String, error: std::io::Error },
    #[error("{path} is not a valid mail job: {error}")]
    Parse { path: String, error: mail_job::ParseError },
    #[error("rendering failed: {0}")]
    Render(String),
}

/// Reads the fixture afresh (so an edit shows on reload), sets the locale, and composes the email
/// exactly as the mailer would.
pub fn compose_sample(config: &MailerConfig, sample: &Sample, locale: &str) -> Result<Composed, SampleError> {
    let path = sample.path.display().to_string();
    let body =
        std::fs::read_to_string(&sample.path).map_err(|error| SampleError::Read { path: path.clone(), error })?;
    let mut job = MailJob::parse(&body).map_err(|error| SampleError::Parse { path, error })?;
    job.locale = Locale::from_attribute(Some(locale));
    compose(config, &job).map_err(|e| SampleError::Render(e.message))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_repository_has_fixtures_for_both_emails() {
        let all = samples(&default_root()).unwrap();
        let names: Vec<String> = all.iter().map(|s| format!("{}/{}", s.template, s.fixture)).collect();
        for expected in ["login_link/default", "login_link/long-username", "welcome/default"] {
            assert!(names.contains(&expected.to_string()), "{names:?}");
        }
    }
}
