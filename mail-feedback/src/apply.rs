//! The use case: one SQS batch of SES events applied to the auth-state table. Per event: the
//! email's delivery status moves forward (by its `delivery` tag), a hard bounce or a complaint
//! suppresses the mailbox, a soft bounce or a delay is recorded against it; one EMF metric per
//! event type, by template. A record that is not an SES event, or whose state could not be
//! written, is a batch item failure (retried, then the feedback dead-letter queue); nothing logs an
//! address.

use crate::event::{self, Feedback, Kind};
use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use futures::StreamExt;
use lambda_support::metrics::{Unit, emit};
use lambda_support::{ConfigError, Env};
use triggers::auth_state::delivery::{self, DeliveryStatus};
use triggers::auth_state::store::{AuthStateStore, StateKey, StoreError, update};
use triggers::identity::delivered_address;

/// Records handled at once (each is two or three small table writes).
const CONCURRENCY: usize = 8;

#[derive(Debug, Clone)]
pub struct FeedbackConfig {
    /// The user pool the keys are salted with (the same keys the triggers use).
    pub user_pool_id: String,
}

impl FeedbackConfig {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(FeedbackConfig { user_pool_id: env.required("COGNITO_USER_POOL_ID")?.to_string() })
    }
}

pub struct MailFeedback<S> {
    config: FeedbackConfig,
    store: S,
}

#[derive(Debug, thiserror::Error)]
pub enum FeedbackError {
    #[error(transparent)]
    Malformed(#[from] event::Malformed),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl<S: AuthStateStore> MailFeedback<S> {
    pub fn new(config: FeedbackConfig, store: S) -> Self {
        MailFeedback { config, store }
    }

    pub async fn handle(&self, event: SqsEvent) -> SqsBatchResponse {
        let failures: Vec<Option<String>> = futures::stream::iter(event.records)
            .map(|record| async move {
                let body = record.body.as_deref().unwrap_or_default();
                match self.process(body).await {
                    Ok(()) => None,
                    Err(e) => {
                        tracing::error!(sqs_message_id = record.message_id.as_deref().unwrap_or("-"), error = %e,
                            "feedback record not applied; reported for a retry");
                        Some(record.message_id.unwrap_or_default())
                    }
                }
            })
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await;
        let mut response = SqsBatchResponse::default();
        response.batch_item_failures = failures
            .into_iter()
            .flatten()
            .map(|id| {
                let mut failure = BatchItemFailure::default();
                failure.item_identifier = id;
                failure
            })
            .collect();
        response
    }

    /// One record: parsed, applied, counted.
    pub async fn process(&self, body: &str) -> Result<(), FeedbackError> {
        let feedback = event::parse(body)?;
        self.apply(&feedback).await?;
        let metric = metric_name(&feedback.kind);
        tracing::info!(event = metric, template = %feedback.template, "feedback applied");
        emit(&[("Template", feedback.template.as_str())], &[(metric, Unit::Count, 1.0)]);
        Ok(())
    }

    pub async fn apply(&self, feedback: &Feedback) -> Result<(), StoreError> {
        let at = feedback.at.timestamp();
        let pool = &self.config.user_pool_id;
        let (status, reason) = match &feedback.kind {
            Kind::Sent => (Some(DeliveryStatus::Sent), None),
            Kind::Delivered => (Some(DeliveryStatus::Delivered), None),
            Kind::Delayed | Kind::SoftBounce => (Some(DeliveryStatus::Delayed), None),
            Kind::HardBounce { .. } => (Some(DeliveryStatus::Bounced), Some("permanent_bounce")),
            Kind::Complaint => (Some(DeliveryStatus::Complained), None),
            Kind::Refused { reason } => (Some(DeliveryStatus::Bounced), Some(*reason)),
            Kind::Ignored(_) => (None, None),
        };
        if let (Some(status), Some(id)) = (status, &feedback.delivery) {
            update(&self.store, &StateKey::delivery(pool, id), |s| delivery::advance(s, status, at, reason)).await?;
        }
        // Only addresses the email was sent to: a bounce report naming anyone else changes nothing.
        let sent_to: Vec<String> = feedback.destination.iter().filter_map(|d| delivered_address(d)).collect();
        for recipient in &feedback.recipients {
            let exact = delivered_address(recipient);
            let keys = (StateKey::mailbox(pool, recipient), StateKey::address_tag(pool, recipient));
            let (Some(mailbox), Some(address)) = keys else {
                tracing::warn!("a recipient in the event is not a deliverable address; skipped");
                continue;
            };
            if !exact.is_some_and(|e| sent_to.contains(&e)) {
                tracing::warn!("a recipient in the event is not one the email was sent to; skipped");
                continue;
            }
            let suppress = |reason: &'static str| {
                let address = address.clone();
                move |m| delivery::suppress(m, &address, reason, at)
            };
            match &feedback.kind {
                Kind::HardBounce { .. } => update(&self.store, &mailbox, suppress("permanent_bounce")).await?,
                Kind::Complaint => update(&self.store, &mailbox, suppress("complaint")).await?,
                Kind::SoftBounce | Kind::Delayed => update(&self.store, &mailbox, |m| delivery::trouble(m, at)).await?,
                _ => {}
            }
        }
        Ok(())
    }
}

/// The EMF metric of an event kind (dimension `Template`, and a total without it).
pub fn metric_name(kind: &Kind) -> &'static str {
    match kind {
        Kind::Sent => "SesSends",
        Kind::Delivered => "SesDeliveries",
        Kind::Delayed => "SesDeliveryDelays",
        Kind::SoftBounce => "SesTransientBounces",
        Kind::HardBounce { .. } => "SesBounces",
        Kind::Complaint => "SesComplaints",
        Kind::Refused { reason: "rejected" } => "SesRejects",
        Kind::Refused { .. } => "SesRenderingFailures",
        Kind::Ignored(_) => "SesOtherEvents",
    }
}

#[cfg(test)]
mod tests;
