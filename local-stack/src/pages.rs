//! The web front end (plain HTML with one small script, no build step), the local inbox and the
//! developer pages. Page bodies live in `web/`; [`layout`] gives them the shared frame.

use crate::queue::{MessageView, QueueView};
use crate::{QueueInfo, Stack};
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Json, Response};
use axum::routing::get;
use serde_json::json;

const SIGN_IN: &str = include_str!("../web/index.html");
const SIGN_UP: &str = include_str!("../web/signup.html");
const VERIFY_LOGIN: &str = include_str!("../web/verify-login.html");
const ACCOUNT: &str = include_str!("../web/account.html");
const INBOX: &str = include_str!("../web/inbox.html");
const SCRIPT: &str = include_str!("../web/app.js");
const STYLE: &str = include_str!("../web/style.css");

/// Scripts only from this origin; the inbox's email frames may use the emails' inline styles.
/// No referrer at all: `/verify-login` URLs carry the code.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: https:; \
                   frame-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'";

pub fn layout(title: &str, page: &str, body: &str) -> Response {
    let html = format!(
        r##"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · Passwordless (local)</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/static/style.css">
<script src="/static/app.js" defer></script>
</head>
<body data-page="{page}">
<a class="skip" href="#main">Skip to content</a>
<header>
<p class="brand">Passwordless <span>local stack</span></p>
<nav aria-label="Local stack">
<a href="/">Sign in</a>
<a href="/signup">Create an account</a>
<a href="/inbox">Inbox</a>
<a href="/dev/queue">Mail queue</a>
</nav>
</header>
<main id="main">
{body}</main>
</body>
</html>
"##
    );
    let mut response = Html(html).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    ([(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, "no-cache")], body).into_response()
}

pub fn router(stack: Stack) -> Router {
    Router::new()
        .route("/", get(|| async { layout("Sign in", "sign-in", SIGN_IN) }))
        .route("/signup", get(|| async { layout("Create an account", "sign-up", SIGN_UP) }))
        .route("/verify-login", get(|| async { layout("Finishing your sign-in", "verify-login", VERIFY_LOGIN) }))
        .route("/account", get(|| async { layout("Signed in", "account", ACCOUNT) }))
        .route("/inbox", get(|| async { layout("Local inbox", "inbox", INBOX) }))
        .route("/inbox/messages.json", get(messages))
        .route("/dev/config", get(config))
        .route("/dev/queue", get(queue_page))
        .route("/static/app.js", get(|| async { asset("text/javascript; charset=utf-8", SCRIPT) }))
        .route("/static/style.css", get(|| async { asset("text/css; charset=utf-8", STYLE) }))
        .with_state(stack)
}

async fn messages(State(stack): State<Stack>) -> Response {
    let list: Vec<serde_json::Value> = stack
        .inbox
        .messages()
        .into_iter()
        .map(|m| {
            json!({
                "id": m.id, "to": m.to, "from": m.from, "subject": m.subject, "text": m.text, "html": m.html,
                "template": m.template, "locale": m.locale, "received_at": m.received_at, "events": m.events,
            })
        })
        .collect();
    ([(header::CACHE_CONTROL, "no-store")], Json(list)).into_response()
}

async fn config(State(stack): State<Stack>) -> Json<serde_json::Value> {
    let c = &stack.pool.config;
    Json(json!({
        "region": c.region,
        "user_pool_id": c.user_pool_id,
        "client_id": c.client_id,
        "cognito_endpoint": c.endpoint,
        "issuer": c.issuer,
    }))
}

pub(crate) fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn rows(messages: &[MessageView], empty: &str) -> String {
    if messages.is_empty() {
        return format!("<p>{empty}</p>\n");
    }
    let mut table = String::from(
        "<table>\n<thead><tr><th scope=\"col\">Message</th><th scope=\"col\">Template</th><th scope=\"col\">Locale</th>\
         <th scope=\"col\">To</th><th scope=\"col\">Receives</th><th scope=\"col\">State</th><th scope=\"col\">Sent</th></tr></thead>\n<tbody>\n",
    );
    for m in messages {
        let state = if m.in_flight { "being processed or waiting for its retry" } else { "waiting" };
        table.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{state}</td><td>{}</td></tr>\n",
            escape(&m.message_id),
            escape(&m.template),
            escape(&m.locale),
            escape(&m.to),
            m.receive_count,
            m.sent_at.format("%H:%M:%S"),
        ));
    }
    table.push_str("</tbody>\n</table>\n");
    table
}

/// SES's events on their way to mail-feedback: how many wait, were applied, were dead-lettered.
async fn feedback_section(feedback: Option<&QueueInfo>) -> String {
    let head = "<h2>Feedback queue</h2>\n<p>SES's events about each email (sends, deliveries, bounces, complaints, \
                delays), applied by mail-feedback to the emails' status and the mailboxes' suppression.";
    match feedback {
        None => format!("{head} Not read: set <code>FEEDBACK_QUEUE_URL</code> with <code>--aws</code>.</p>\n"),
        Some(QueueInfo::Local(queue)) => {
            let QueueView { waiting, dead_letters, deleted } = queue.view(chrono::Utc::now());
            format!(
                "{head} Here the inbox plays SES's mailbox simulator.</p>\n<p>Waiting: <strong id=\"feedback-waiting\">{}</strong>; \
                 applied: <strong id=\"feedback-applied\">{deleted}</strong>; dead-lettered: \
                 <strong id=\"feedback-dead\">{}</strong>.</p>\n",
                waiting.len(),
                dead_letters.len()
            )
        }
        Some(QueueInfo::Sqs { queue_url, .. }) => format!("{head} SQS: {}.</p>\n", escape(queue_url)),
    }
}

async fn queue_page(State(stack): State<Stack>) -> Response {
    let body = match &stack.queue {
        QueueInfo::Local(queue) => {
            let QueueView { waiting, dead_letters, deleted } = queue.view(chrono::Utc::now());
            format!(
                "<h1>Mail queue</h1>\n<p>The in-process queue with SQS semantics: a message the mailer reports as failed \
                 comes back after the visibility timeout; after the receive limit it moves to the dead-letter queue. \
                 Bodies are not shown (they hold codes and addresses). This page reloads every 2 seconds.</p>\n\
                 <h2>Queue</h2>\n{}<p>Delivered and deleted so far: <strong id=\"deleted\">{deleted}</strong></p>\n\
                 <h2>Dead-letter queue</h2>\n{}",
                rows(&waiting, "Nothing is waiting."),
                rows(&dead_letters, "No dead letters.")
            )
        }
        QueueInfo::Sqs { client, queue_url, dlq_url } => {
            let mut text = String::from("<h1>Mail queue</h1>\n<p>SQS, through the SDK (<code>--aws</code>).</p>\n");
            for (name, url) in [("Queue", Some(queue_url)), ("Dead-letter queue", dlq_url.as_ref())] {
                let Some(url) = url else { continue };
                let attributes = client
                    .get_queue_attributes()
                    .queue_url(url)
                    .attribute_names(aws_sdk_sqs::types::QueueAttributeName::All)
                    .send()
                    .await;
                let count = |a: &aws_sdk_sqs::operation::get_queue_attributes::GetQueueAttributesOutput,
                             n: aws_sdk_sqs::types::QueueAttributeName| {
                    a.attributes().and_then(|m| m.get(&n)).cloned().unwrap_or_else(|| "?".into())
                };
                text.push_str(&match attributes {
                    Ok(a) => format!(
                        "<h2>{name}</h2>\n<p>{} waiting, {} in flight ({})</p>\n",
                        escape(&count(&a, aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages)),
                        escape(&count(
                            &a,
                            aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessagesNotVisible
                        )),
                        escape(url)
                    ),
                    Err(e) => format!(
                        "<h2>{name}</h2>\n<p>Not readable: {}</p>\n",
                        escape(&aws_sdk_sqs::error::DisplayErrorContext(&e).to_string())
                    ),
                });
            }
            text
        }
    };
    let mut body = body;
    body.push_str(&feedback_section(stack.feedback.as_ref()).await);
    let mut response = layout("Mail queue", "queue", &body);
    response.headers_mut().insert("refresh", HeaderValue::from_static("2"));
    response
}
