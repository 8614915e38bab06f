//! Rendering a mail job into subject, preheader, HTML and plain text, with Askama templates from
//! `templates/` and the strings of the job's locale.

use crate::address::header_safe;
use crate::locales::{self, fill};
use askama::Template;
use mail_job::{LoginLinkData, MailContent, MailJob};

/// What every email has, whatever the template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedEmail {
    /// The locale actually used (after fallback): `lang` on `<html>` and the `locale` tag.
    pub locale: &'static str,
    pub subject: String,
    pub preheader: String,
    pub html: String,
    pub text: String,
}

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("the link is not an http(s) URL")]
    UnsafeLink,
    #[error("the code is not digits")]
    BadCode,
    #[error("template failed: {0}")]
    Template(#[from] askama::Error),
}

/// The frame of the base layout (`templates/layouts/base.html`).
pub struct Layout {
    pub lang: &'static str,
    pub title: String,
    pub preheader: String,
    pub app_name: String,
    pub ignore: String,
    pub footer: String,
}

/// Every string the login-link templates show, placeholders already filled.
pub struct LoginLinkView {
    pub greeting: String,
    pub intro: String,
    pub button: String,
    pub link_hint: String,
    pub link: String,
    pub code_hint: String,
    pub code: String,
    pub code_spaced: String,
    pub expiry: String,
}

#[derive(Template)]
#[template(path = "login_link/email.html")]
struct LoginLinkHtml<'a> {
    layout: &'a Layout,
    v: &'a LoginLinkView,
}

#[derive(Template)]
#[template(path = "login_link/email.txt")]
struct LoginLinkText<'a> {
    layout: &'a Layout,
    v: &'a LoginLinkView,
}

pub fn render(job: &MailJob, app_name: &str) -> Result<RenderedEmail, RenderError> {
    match &job.content {
        MailContent::LoginLink(data) => render_login_link(job, data, app_name),
    }
}

fn render_login_link(job: &MailJob, data: &LoginLinkData, app_name: &str) -> Result<RenderedEmail, RenderError> {
    if !(data.link.starts_with("https://") || data.link.starts_with("http://")) || url::Url::parse(&data.link).is_err()
    {
        return Err(RenderError::UnsafeLink);
    }
    if data.code.is_empty() || !data.code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(RenderError::BadCode);
    }
    let (lang, strings) = locales::resolve(job.locale.as_str());
    let s = &strings.login_link;
    // Whole minutes, rounded up: "expires in 3 minutes" for 180 s, never "in 0 minutes".
    let minutes = job.expires_at.map(|t| ((t - job.created_at).num_seconds().max(1) + 59) / 60);
    let minutes_text = minutes.unwrap_or(0).to_string();
    let name = header_safe(job.to.name.as_deref().unwrap_or(&data.username));
    let vars = [("app", app_name), ("name", name.as_str()), ("minutes", minutes_text.as_str())];
    let expiry = match minutes {
        Some(1) => &s.expiry_one,
        Some(_) => &s.expiry_other,
        None => &s.expiry_unknown,
    };
    let layout = Layout {
        lang,
        title: fill(&s.subject, &vars),
        preheader: fill(if minutes.is_some() { &s.preheader } else { &s.intro }, &vars),
        app_name: app_name.to_string(),
        ignore: fill(&strings.common.ignore, &vars),
        footer: fill(&strings.common.footer, &vars),
    };
    let view = LoginLinkView {
        greeting: fill(&strings.common.greeting, &vars),
        intro: fill(&s.intro, &vars),
        button: fill(&s.button, &vars),
        link_hint: fill(&s.link_hint, &vars),
        link: data.link.clone(),
        code_hint: fill(&s.code_hint, &vars),
        code: data.code.clone(),
        code_spaced: spaced(&data.code),
        expiry: fill(expiry, &vars),
    };
    Ok(RenderedEmail {
        locale: lang,
        subject: layout.title.clone(),
        preheader: layout.preheader.clone(),
        html: LoginLinkHtml { layout: &layout, v: &view }.render()?,
        text: LoginLinkText { layout: &layout, v: &view }.render()?,
    })
}

/// `482913` → `482 913`: groups of three are easier to read and type (the verifier ignores spaces).
fn spaced(code: &str) -> String {
    let bytes = code.as_bytes();
    bytes.chunks(3).map(|c| std::str::from_utf8(c).expect("digits")).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests;
