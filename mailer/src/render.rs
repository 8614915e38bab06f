//! Rendering a mail job into subject, preheader, HTML and plain text, with Askama templates from
//! `templates/` and the strings of the job's locale.

use crate::address::header_safe;
use crate::locales::{self, fill};
use askama::Template;
use mail_job::{MailContent, MailJob};

/// What every email has, whatever the template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedEmail {
    /// The locale actually used (after fallback): `lang` on `<html>` and the `locale` tag.
    pub locale: &'static str,
    pub subject: String,
    pub preheader: String,
    pub html: String,
    pub text: String,
    /// What the reader needs to act (link and code, or sign-in URL and username): both parts
    /// must hold each of them, which `mail-preview check` verifies.
    pub essentials: Vec<String>,
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

/// Every string the welcome templates show.
pub struct WelcomeView {
    pub greeting: String,
    pub intro: String,
    pub how: String,
    pub button: String,
    pub sign_in_url: String,
    pub username_hint: String,
    pub username: String,
}

#[derive(Template)]
#[template(path = "welcome/email.html")]
struct WelcomeHtml<'a> {
    layout: &'a Layout,
    v: &'a WelcomeView,
}

#[derive(Template)]
#[template(path = "welcome/email.txt")]
struct WelcomeText<'a> {
    layout: &'a Layout,
    v: &'a WelcomeView,
}

/// Every string a passkey notice shows (`passkey_added`, `passkey_removed`: one view, two
/// template folders a designer can shape apart).
pub struct PasskeyView {
    pub greeting: String,
    pub intro: String,
    pub button: String,
    pub account_url: String,
    pub not_you: String,
}

#[derive(Template)]
#[template(path = "passkey_added/email.html")]
struct PasskeyAddedHtml<'a> {
    layout: &'a Layout,
    v: &'a PasskeyView,
}

#[derive(Template)]
#[template(path = "passkey_added/email.txt")]
struct PasskeyAddedText<'a> {
    layout: &'a Layout,
    v: &'a PasskeyView,
}

#[derive(Template)]
#[template(path = "passkey_removed/email.html")]
struct PasskeyRemovedHtml<'a> {
    layout: &'a Layout,
    v: &'a PasskeyView,
}

#[derive(Template)]
#[template(path = "passkey_removed/email.txt")]
struct PasskeyRemovedText<'a> {
    layout: &'a Layout,
    v: &'a PasskeyView,
}

/// Only absolute http(s) URLs reach an email: a job naming `javascript:` or a relative path is
/// refused rather than rendered.
fn check_url(url: &str) -> Result<(), RenderError> {
    let ok = (url.starts_with("https://") || url.starts_with("http://")) && url::Url::parse(url).is_ok();
    if ok { Ok(()) } else { Err(RenderError::UnsafeLink) }
}

pub fn render(job: &MailJob, app_name: &str) -> Result<RenderedEmail, RenderError> {
    let (lang, strings) = locales::resolve(&job.locale);
    let username = match &job.content {
        MailContent::LoginLink(d) => &d.username,
        MailContent::Welcome(d) => &d.username,
        MailContent::PasskeyAdded(d) | MailContent::PasskeyRemoved(d) => &d.username,
    };
    let name = header_safe(job.to.name.as_deref().unwrap_or(username));
    let base = [("app", app_name), ("name", name.as_str())];
    let layout = |subject: &str, preheader: &str, ignore: &str, vars: &[(&str, &str)]| Layout {
        lang,
        title: fill(subject, vars),
        preheader: fill(preheader, vars),
        app_name: app_name.to_string(),
        ignore: fill(ignore, vars),
        footer: fill(&strings.common.footer, vars),
    };
    let greeting = fill(&strings.common.greeting, &base);
    let (layout, html, text, essentials) = match &job.content {
        MailContent::LoginLink(data) => {
            check_url(&data.link)?;
            if data.code.is_empty() || !data.code.bytes().all(|b| b.is_ascii_digit()) {
                return Err(RenderError::BadCode);
            }
            let s = &strings.login_link;
            // Whole minutes, rounded up: "expires in 3 minutes" for 180 s, never "in 0 minutes".
            let minutes = job.expires_at.map(|t| ((t - job.created_at).num_seconds().max(1) + 59) / 60);
            let minutes_text = minutes.unwrap_or(0).to_string();
            let vars = [base[0], base[1], ("minutes", minutes_text.as_str())];
            let expiry = match minutes {
                Some(1) => &s.expiry_one,
                Some(_) => &s.expiry_other,
                None => &s.expiry_unknown,
            };
            let preheader = if minutes.is_some() { &s.preheader } else { &s.intro };
            let layout = layout(&s.subject, preheader, &strings.common.ignore, &vars);
            let v = LoginLinkView {
                greeting,
                intro: fill(&s.intro, &vars),
                button: fill(&s.button, &vars),
                link_hint: fill(&s.link_hint, &vars),
                link: data.link.clone(),
                code_hint: fill(&s.code_hint, &vars),
                code: data.code.clone(),
                code_spaced: spaced(&data.code),
                expiry: fill(expiry, &vars),
            };
            let html = LoginLinkHtml { layout: &layout, v: &v }.render()?;
            let text = LoginLinkText { layout: &layout, v: &v }.render()?;
            (layout, html, text, vec![data.link.clone(), data.code.clone()])
        }
        MailContent::Welcome(data) => {
            check_url(&data.sign_in_url)?;
            let s = &strings.welcome;
            let layout = layout(&s.subject, &s.preheader, &s.ignore, &base);
            let v = WelcomeView {
                greeting,
                intro: fill(&s.intro, &base),
                how: fill(&s.how, &base),
                button: fill(&s.button, &base),
                sign_in_url: data.sign_in_url.clone(),
                username_hint: fill(&s.username_hint, &base),
                // The username the user must type: every character of it (Cognito allows 128),
                // less control characters, which nobody can type and which could reshape the text.
                username: data.username.chars().filter(|c| !c.is_control()).collect(),
            };
            let html = WelcomeHtml { layout: &layout, v: &v }.render()?;
            let text = WelcomeText { layout: &layout, v: &v }.render()?;
            (layout, html, text, vec![data.sign_in_url.clone(), v.username.clone()])
        }
        MailContent::PasskeyAdded(data) | MailContent::PasskeyRemoved(data) => {
            check_url(&data.account_url)?;
            let added = matches!(job.content, MailContent::PasskeyAdded(_));
            let s = if added { &strings.passkey_added } else { &strings.passkey_removed };
            // The user's own name for it, less control characters; escaped like any data.
            let passkey: String = data.passkey_name.chars().filter(|c| !c.is_control()).collect();
            let when = job.created_at.format("%Y-%m-%d %H:%M UTC").to_string();
            let vars = [base[0], base[1], ("passkey", passkey.as_str()), ("when", when.as_str())];
            let layout = layout(&s.subject, &s.preheader, &s.ignore, &vars);
            let v = PasskeyView {
                greeting,
                intro: fill(&s.intro, &vars),
                button: fill(&s.button, &vars),
                account_url: data.account_url.clone(),
                not_you: fill(&s.not_you, &vars),
            };
            let (html, text) = if added {
                (
                    PasskeyAddedHtml { layout: &layout, v: &v }.render()?,
                    PasskeyAddedText { layout: &layout, v: &v }.render()?,
                )
            } else {
                (
                    PasskeyRemovedHtml { layout: &layout, v: &v }.render()?,
                    PasskeyRemovedText { layout: &layout, v: &v }.render()?,
                )
            };
            (layout, html, text, vec![data.account_url.clone(), passkey])
        }
    };
    Ok(RenderedEmail { locale: lang, subject: layout.title, preheader: layout.preheader, html, text, essentials })
}

/// `482913` → `482 913`, `48291375` → `4829 1375`: even groups of three or four are easier to read
/// and type (the verifier ignores spaces).
fn spaced(code: &str) -> String {
    let chars: Vec<char> = code.chars().collect();
    let groups = chars.len().div_ceil(4).max(1);
    let (size, longer) = (chars.len() / groups, chars.len() % groups);
    let mut out = Vec::with_capacity(groups);
    let mut rest = chars.as_slice();
    for g in 0..groups {
        let (group, tail) = rest.split_at(size + usize::from(g < longer));
        out.push(group.iter().collect::<String>());
        rest = tail;
    }
    out.join(" ")
}

#[cfg(test)]
mod tests;
