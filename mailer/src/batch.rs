//! One SQS batch in, one partial batch response out. Every message ends in exactly one of:
//! sent; dropped because its link expired (logged); moved to the dead-letter queue at once
//! (permanent failure, with a [`Redelivery`] that can); reported in `batchItemFailures` for a retry
//! within seconds (transient failure, or not started before the invocation's deadline). See
//! docs/mailer.md for the timeline of a login job under each fault.

use crate::address::{EmailAddress, Mailbox};
use crate::config::MailerConfig;
use crate::redelivery::{Redelivery, ReportOnly, retry_delay};
use crate::render::render;
use crate::send::{EmailSender, OutgoingEmail, Retry, SendError};
use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use chrono::{DateTime, Utc};
use futures::StreamExt;
use lambda_support::metrics::Unit;
use mail_job::MailJob;
use tracing::Instrument;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Sent {
        provider_id: String,
    },
    Expired,
    Failed(SendError),
    /// Not started: too little of the invocation was left for a send to finish.
    Deferred,
}

pub struct Mailer<S, R = ReportOnly> {
    config: MailerConfig,
    sender: S,
    redelivery: R,
}

impl<S: EmailSender> Mailer<S> {
    pub fn new(config: MailerConfig, sender: S) -> Self {
        Mailer { config, sender, redelivery: ReportOnly }
    }
}

impl<S: EmailSender, R: Redelivery> Mailer<S, R> {
    /// The same mailer, retrying and dead-lettering through `redelivery`.
    pub fn with_redelivery<R2: Redelivery>(self, redelivery: R2) -> Mailer<S, R2> {
        Mailer { config: self.config, sender: self.sender, redelivery }
    }

    /// [`Mailer::handle_until`] without a deadline.
    pub async fn handle(&self, event: SqsEvent, now: DateTime<Utc>) -> SqsBatchResponse {
        self.handle_until(event, now, None).await
    }

    /// Processes the records concurrently (at most `MAX_CONCURRENT_SENDS` at once) and reports
    /// every record that was not sent, dropped or dead-lettered. A send is started only while
    /// `send_budget` remains before `deadline` (the invocation's): the rest are reported for a
    /// retry, so the function never times out with the batch response lost.
    pub async fn handle_until(
        &self,
        event: SqsEvent,
        now: DateTime<Utc>,
        deadline: Option<tokio::time::Instant>,
    ) -> SqsBatchResponse {
        let reported: Vec<Option<String>> = futures::stream::iter(event.records)
            .map(|record| async move {
                let span = tracing::info_span!(
                    "message",
                    sqs_message_id = record.message_id.as_deref().unwrap_or("-"),
                    job_id = tracing::field::Empty
                );
                let out_of_time = deadline.is_some_and(|d| tokio::time::Instant::now() + self.config.send_budget > d);
                let report = async {
                    let outcome = if out_of_time { Outcome::Deferred } else { self.process(&record, now).await };
                    self.settle(&record, outcome, now).await
                };
                report.instrument(span).await.then_some(record.message_id).flatten()
            })
            .buffer_unordered(self.config.max_concurrent_sends)
            .collect()
            .await;
        let mut response = SqsBatchResponse::default();
        response.batch_item_failures = reported.into_iter().flatten().map(failure).collect();
        response
    }

    /// What becomes of a record after its outcome: whether it must be reported.
    async fn settle(&self, record: &SqsMessage, outcome: Outcome, now: DateTime<Utc>) -> bool {
        let report = match &outcome {
            Outcome::Sent { .. } | Outcome::Expired => false,
            Outcome::Deferred => {
                tracing::warn!("not started before the invocation's deadline; reported for a retry");
                self.redelivery.retry_after(record, std::time::Duration::ZERO).await;
                true
            }
            Outcome::Failed(e) if e.kind == Retry::Transient => {
                let count = record.attributes.get("ApproximateReceiveCount").and_then(|c| c.parse().ok()).unwrap_or(1);
                let expires_at = MailJob::parse(record.body.as_deref().unwrap_or("")).ok().and_then(|j| j.expires_at);
                self.redelivery.retry_after(record, retry_delay(count, expires_at.map(|t| t - now))).await;
                true
            }
            Outcome::Failed(e) => !self.redelivery.dead_letter(record, &e.message).await,
        };
        if report && record.message_id.is_none() {
            tracing::error!("a failed record has no messageId and cannot be reported");
        }
        report
    }

    async fn process(&self, record: &SqsMessage, now: DateTime<Utc>) -> Outcome {
        let receive_count = record.attributes.get("ApproximateReceiveCount").map(String::as_str).unwrap_or("?");
        let outcome = self.process_body(record.body.as_deref().unwrap_or(""), now).await;
        match &outcome {
            Outcome::Sent { provider_id } => tracing::info!(ses_message_id = %provider_id, "email sent"),
            Outcome::Expired => tracing::warn!(receive_count, "link expired before it could be sent; dropped"),
            Outcome::Failed(e) if e.kind == Retry::Transient => {
                tracing::warn!(error = %e.message, receive_count, "transient failure; SQS will retry")
            }
            Outcome::Failed(e) => tracing::error!(
                error = %e.message,
                receive_count,
                "permanent failure: this message will never succeed; it goes to the dead-letter queue"
            ),
            Outcome::Deferred => {}
        }
        emit_outcome(record.body.as_deref().unwrap_or(""), &outcome);
        outcome
    }

    /// Parse, render and send one body. Public for tests and benches of a single message.
    pub async fn process_body(&self, body: &str, now: DateTime<Utc>) -> Outcome {
        let job = match MailJob::parse(body) {
            Ok(job) => job,
            Err(e) => return Outcome::Failed(SendError::permanent(e.to_string())),
        };
        tracing::Span::current().record("job_id", job.id.as_str());
        // A job that can never be sent goes to the dead-letter queue even when it has expired, so
        // operators see every malformed job; only a sendable job is dropped for being late.
        let email = match self.compose(&job) {
            Ok(email) => email,
            Err(e) => return Outcome::Failed(e),
        };
        if job.is_expired(now) {
            return Outcome::Expired;
        }
        let started = std::time::Instant::now();
        let sent = self.sender.send(&email).await;
        let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
        lambda_support::metrics::emit(&[], &[("SesSendLatency", Unit::Milliseconds, latency_ms)]);
        match sent {
            Ok(provider_id) => Outcome::Sent { provider_id },
            Err(e) => Outcome::Failed(e),
        }
    }

    /// The email for a job: rendered, addressed, tagged. Every error here is permanent.
    pub fn compose(&self, job: &MailJob) -> Result<OutgoingEmail, SendError> {
        compose(&self.config, job).map(|c| c.email)
    }
}

/// A composed email plus what only people look at: the preheader and the essentials (for the
/// preview and the template checks).
#[derive(Debug, Clone)]
pub struct Composed {
    pub email: OutgoingEmail,
    pub preheader: String,
    pub essentials: Vec<String>,
}

/// Renders, addresses and tags a job. Every error here is permanent.
pub fn compose(config: &MailerConfig, job: &MailJob) -> Result<Composed, SendError> {
    let address = EmailAddress::parse(&job.to.email).map_err(|e| SendError::permanent(e.to_string()))?;
    let rendered = render(job, &config.app_name).map_err(|e| SendError::permanent(e.to_string()))?;
    let email = OutgoingEmail {
        from: config.from.clone(),
        to: Mailbox::new(job.to.name.as_deref(), address),
        subject: rendered.subject,
        html: rendered.html,
        text: rendered.text,
        configuration_set: config.configuration_set.clone(),
        tags: [
            ("template".to_string(), job.content.template_name().to_string()),
            ("locale".into(), rendered.locale.into()),
        ]
        .into_iter()
        // SES's events carry the tags back: mail-feedback finds the email's status by this one.
        .chain(job.delivery.as_ref().map(|d| ("delivery".to_string(), d.as_str().to_string())))
        .collect(),
    };
    Ok(Composed { email, preheader: rendered.preheader, essentials: rendered.essentials })
}

/// The metric name of an outcome (Embedded Metric Format, by template and rendered language).
pub fn outcome_metric(outcome: &Outcome) -> &'static str {
    match outcome {
        Outcome::Sent { .. } => "EmailsSent",
        Outcome::Expired => "EmailsDroppedStale",
        Outcome::Failed(e) if e.is_transient() => "EmailsFailedTransient",
        Outcome::Failed(_) => "EmailsFailedPermanent",
        Outcome::Deferred => "EmailsDeferred",
    }
}

fn emit_outcome(body: &str, outcome: &Outcome) {
    let job = MailJob::parse(body).ok();
    let template = job.as_ref().map_or("unreadable", |j| j.content.template_name());
    let language = job.as_ref().map_or("-", |j| crate::locales::resolve(&j.locale).0);
    lambda_support::metrics::emit(
        &[("Template", template), ("Locale", language)],
        &[(outcome_metric(outcome), Unit::Count, 1.0)],
    );
}

fn failure(id: String) -> BatchItemFailure {
    let mut f = BatchItemFailure::default();
    f.item_identifier = id;
    f
}

#[cfg(test)]
mod tests;
