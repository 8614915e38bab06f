//! `mail-preview serve`: the live preview on 127.0.0.1. Fixtures are read on every request, so an
//! edit shows on reload.

use crate::catalog::{Sample, compose_sample, samples};
use crate::pages::{Current, Links, email_html, index_page};
use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use mailer::config::MailerConfig;
use serde::Deserialize;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Clone)]
pub struct AppState {
    pub root: PathBuf,
    pub config: Arc<MailerConfig>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Selection {
    t: Option<String>,
    f: Option<String>,
    l: Option<String>,
    #[serde(default)]
    dark: bool,
}

struct QueryLinks;

fn query(t: &str, f: &str, l: &str) -> String {
    let enc = |s: &str| {
        s.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"-_.".contains(&b) {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect::<String>()
    };
    format!("t={}&f={}&l={}", enc(t), enc(f), enc(l))
}

impl Links for QueryLinks {
    fn page(&self, t: &str, f: &str, l: &str) -> String {
        format!("/?{}", query(t, f, l))
    }
    fn frame(&self, t: &str, f: &str, l: &str, dark: bool) -> String {
        format!("/email.html?{}{}", query(t, f, l), if dark { "&dark=true" } else { "" })
    }
    fn eml(&self, t: &str, f: &str, l: &str) -> String {
        format!("/email.eml?{}", query(t, f, l))
    }
}

pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/email.html", get(email))
        .route("/email.txt", get(text))
        .route("/email.eml", get(eml))
        .with_state(state)
}

/// A status and a message: small enough to pass around before it becomes a response.
type Failure = (StatusCode, String);

fn find(state: &AppState, sel: &Selection) -> Result<(Vec<Sample>, Option<usize>), Failure> {
    let all = samples(&state.root).map_err(|e| {
        (StatusCode::INTERNAL_SERVER_ERROR, format!("cannot list fixtures under {}: {e}", state.root.display()))
    })?;
    let position = match (&sel.t, &sel.f) {
        (Some(t), Some(f)) => Some(
            all.iter()
                .position(|s| &s.template == t && &s.fixture == f)
                .ok_or_else(|| (StatusCode::NOT_FOUND, format!("no fixture {t}/{f}")))?,
        ),
        _ => None,
    };
    Ok((all, position))
}

fn locale(sel: &Selection) -> &str {
    sel.l.as_deref().unwrap_or(mailer::locales::FALLBACK)
}

async fn index(State(state): State<AppState>, Query(sel): Query<Selection>) -> Response {
    let (all, position) = match find(&state, &sel) {
        Ok(found) => found,
        Err(failure) => return failure.into_response(),
    };
    // With nothing selected, show the first sample rather than an empty page.
    let position = position.or((!all.is_empty()).then_some(0));
    let current = position.map(|i| Current { sample: &all[i], locale: locale(&sel) });
    match index_page(&state.config, &all, current, &QueryLinks).render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

async fn email(State(state): State<AppState>, Query(sel): Query<Selection>) -> Response {
    with_sample(&state, &sel, |sample| {
        email_html(&state.config, sample, locale(&sel), sel.dark).map(|h| Html(h).into_response())
    })
}

async fn text(State(state): State<AppState>, Query(sel): Query<Selection>) -> Response {
    with_sample(&state, &sel, |sample| {
        compose_sample(&state.config, sample, locale(&sel))
            .map(|c| ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], c.email.text).into_response())
    })
}

async fn eml(State(state): State<AppState>, Query(sel): Query<Selection>) -> Response {
    with_sample(&state, &sel, |sample| {
        compose_sample(&state.config, sample, locale(&sel)).map(|c| {
            let name = format!("attachment; filename=\"{}-{}-{}.eml\"", sample.template, sample.fixture, locale(&sel));
            let body = crate::mime::to_eml(&c.email, chrono::Utc::now(), "=_mail-preview");
            ([(header::CONTENT_TYPE, "message/rfc822".to_string()), (header::CONTENT_DISPOSITION, name)], body)
                .into_response()
        })
    })
}

fn with_sample(
    state: &AppState,
    sel: &Selection,
    f: impl FnOnce(&Sample) -> Result<Response, crate::catalog::SampleError>,
) -> Response {
    match find(state, sel) {
        Ok((all, Some(i))) => {
            f(&all[i]).unwrap_or_else(|e| (StatusCode::UNPROCESSABLE_ENTITY, e.to_string()).into_response())
        }
        Ok((_, None)) => (StatusCode::BAD_REQUEST, "pass t (template) and f (fixture)").into_response(),
        Err(failure) => failure.into_response(),
    }
}
