//! The preview page, shared by the live server and the static export: only the links differ.

use crate::catalog::{Sample, SampleError, compose_sample, locales};
use askama::Template;
use mailer::config::MailerConfig;

pub struct LocaleLink {
    pub locale: &'static str,
    pub href: String,
    pub current: bool,
}

pub struct FixtureLinks {
    pub name: String,
    pub links: Vec<LocaleLink>,
}

pub struct Group {
    pub template: String,
    pub fixtures: Vec<FixtureLinks>,
}

pub struct Selected {
    pub from: String,
    pub to: String,
    pub subject: String,
    pub preheader: String,
    pub tags: String,
    pub html_kb: String,
    pub text: String,
    pub html: String,
    pub eml: String,
    pub eml_href: String,
    pub eml_name: String,
    pub frame_light: String,
    pub frame_dark: String,
}

pub struct ErrorBox {
    pub context: String,
    pub message: String,
}

#[derive(Template)]
#[template(path = "index.html")]
pub struct IndexPage {
    pub groups: Vec<Group>,
    pub selected: Option<Selected>,
    pub error: Option<ErrorBox>,
}

/// Where a page's links point: query strings on the live server, files in an export.
pub trait Links {
    fn page(&self, template: &str, fixture: &str, locale: &str) -> String;
    fn frame(&self, template: &str, fixture: &str, locale: &str, dark: bool) -> String;
    fn eml(&self, template: &str, fixture: &str, locale: &str) -> String;
}

pub struct Current<'a> {
    pub sample: &'a Sample,
    pub locale: &'a str,
}

pub fn index_page(
    config: &MailerConfig,
    samples: &[Sample],
    current: Option<Current<'_>>,
    links: &dyn Links,
) -> IndexPage {
    let mut groups: Vec<Group> = Vec::new();
    for sample in samples {
        if groups.last().is_none_or(|g| g.template != sample.template) {
            groups.push(Group { template: sample.template.clone(), fixtures: Vec::new() });
        }
        let is_current = |l: &str| current.as_ref().is_some_and(|c| c.sample == sample && c.locale == l);
        let fixture_links = locales()
            .into_iter()
            .map(|locale| LocaleLink {
                locale,
                href: links.page(&sample.template, &sample.fixture, locale),
                current: is_current(locale),
            })
            .collect();
        groups
            .last_mut()
            .expect("pushed above")
            .fixtures
            .push(FixtureLinks { name: sample.fixture.clone(), links: fixture_links });
    }
    let (mut selected, mut error) = (None, None);
    if let Some(Current { sample, locale }) = current {
        match compose_sample(config, sample, locale) {
            Ok(c) => {
                let e = &c.email;
                let (t, f) = (sample.template.as_str(), sample.fixture.as_str());
                selected = Some(Selected {
                    from: e.from.clone(),
                    to: e.to.to_header(),
                    subject: e.subject.clone(),
                    preheader: c.preheader.clone(),
                    tags: e.tags.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", "),
                    html_kb: format!("{:.1}", e.html.len() as f64 / 1024.0),
                    text: e.text.clone(),
                    html: e.html.clone(),
                    eml: crate::mime::to_eml(e, chrono::Utc::now(), "=_mail-preview"),
                    eml_href: links.eml(t, f, locale),
                    eml_name: format!("{t}-{f}-{locale}.eml"),
                    frame_light: links.frame(t, f, locale, false),
                    frame_dark: links.frame(t, f, locale, true),
                });
            }
            Err(e) => {
                error = Some(ErrorBox {
                    context: format!("{} / {} / {}", sample.template, sample.fixture, locale),
                    message: e.to_string(),
                })
            }
        }
    }
    IndexPage { groups, selected, error }
}

/// The email's HTML for the iframe; with `dark`, its `prefers-color-scheme: dark` rules are
/// applied unconditionally, which is what a dark-mode client does.
pub fn email_html(config: &MailerConfig, sample: &Sample, locale: &str, dark: bool) -> Result<String, SampleError> {
    let html = compose_sample(config, sample, locale)?.email.html;
    Ok(if dark { html.replace("@media (prefers-color-scheme: dark)", "@media all") } else { html })
}
