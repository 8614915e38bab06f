//! `mail-preview export DIR`: the preview as static files, for sharing or as CI artefacts.
//! `index.html` shows the first sample; every `<template>/<fixture>/<locale>.html` page is the
//! same viewer for one sample, beside `.email.html`, `.email-dark.html`, `.txt` and `.eml`.

use crate::catalog::{Sample, compose_sample, locales};
use crate::pages::{Current, Links, email_html, index_page};
use askama::Template;
use mailer::config::MailerConfig;
use std::path::Path;

/// Links relative to the export's root, prefixed so they work from any page depth.
struct FileLinks {
    up: &'static str,
}

impl Links for FileLinks {
    fn page(&self, t: &str, f: &str, l: &str) -> String {
        format!("{}{t}/{f}/{l}.html", self.up)
    }
    fn frame(&self, t: &str, f: &str, l: &str, dark: bool) -> String {
        format!("{}{t}/{f}/{l}.email{}.html", self.up, if dark { "-dark" } else { "" })
    }
    fn eml(&self, t: &str, f: &str, l: &str) -> String {
        format!("{}{t}/{f}/{l}.eml", self.up)
    }
}

/// Writes everything; returns the number of samples × locales written. A sample that does not
/// render gets its page with the error box, and counts as an error in the result.
pub fn export(config: &MailerConfig, samples: &[Sample], dir: &Path) -> std::io::Result<(usize, usize)> {
    std::fs::create_dir_all(dir)?;
    let root = FileLinks { up: "" };
    let first = samples.first().map(|s| Current { sample: s, locale: mailer::locales::FALLBACK });
    std::fs::write(dir.join("index.html"), render(index_page(config, samples, first, &root))?)?;
    let nested = FileLinks { up: "../../" };
    let (mut written, mut errors) = (0, 0);
    for sample in samples {
        let folder = dir.join(&sample.template).join(&sample.fixture);
        std::fs::create_dir_all(&folder)?;
        for locale in locales() {
            written += 1;
            let page = index_page(config, samples, Some(Current { sample, locale }), &nested);
            std::fs::write(folder.join(format!("{locale}.html")), render(page)?)?;
            match compose_sample(config, sample, locale) {
                Ok(c) => {
                    std::fs::write(folder.join(format!("{locale}.txt")), &c.email.text)?;
                    std::fs::write(
                        folder.join(format!("{locale}.eml")),
                        crate::mime::to_eml(&c.email, chrono::Utc::now(), "=_mail-preview"),
                    )?;
                    for dark in [false, true] {
                        let html = email_html(config, sample, locale, dark).expect("composed above");
                        std::fs::write(
                            folder.join(format!("{locale}.email{}.html", if dark { "-dark" } else { "" })),
                            html,
                        )?;
                    }
                }
                Err(_) => errors += 1,
            }
        }
    }
    Ok((written, errors))
}

fn render(page: crate::pages::IndexPage) -> std::io::Result<String> {
    page.render().map_err(std::io::Error::other)
}
