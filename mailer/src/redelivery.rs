//! What the mailer does with a message beyond reporting it: make a transient failure visible
//! again within seconds (not after the queue's visibility timeout, which outlives a login code),
//! and move a permanent failure to the dead-letter queue at once (not after `maxReceiveCount`
//! receives, by which time a login job has expired and would be dropped instead of parked).

use aws_lambda_events::event::sqs::SqsMessage;
use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;
use std::time::Duration;

pub trait Redelivery: Send + Sync {
    /// Makes the message visible again after `delay`; on failure the visibility timeout applies.
    fn retry_after(&self, record: &SqsMessage, delay: Duration) -> impl Future<Output = ()> + Send;
    /// Moves the message to the dead-letter queue now. `false` when it could not: the message is
    /// then reported, and the redrive policy parks it later.
    fn dead_letter(&self, record: &SqsMessage, reason: &str) -> impl Future<Output = bool> + Send;
}

/// No queue access: every failure is only reported (the redrive policy does the rest).
#[derive(Debug, Clone, Copy, Default)]
pub struct ReportOnly;

impl Redelivery for ReportOnly {
    async fn retry_after(&self, _: &SqsMessage, _: Duration) {}

    async fn dead_letter(&self, _: &SqsMessage, _: &str) -> bool {
        false
    }
}

/// A redelivery that may be absent (no dead-letter queue configured): then failures are only
/// reported.
impl<R: Redelivery> Redelivery for Option<R> {
    async fn retry_after(&self, record: &SqsMessage, delay: Duration) {
        if let Some(r) = self {
            r.retry_after(record, delay).await;
        }
    }

    async fn dead_letter(&self, record: &SqsMessage, reason: &str) -> bool {
        match self {
            Some(r) => r.dead_letter(record, reason).await,
            None => false,
        }
    }
}

/// How long a transient failure waits before its next try: 1, 2, 4, 8, then 16 s by receive
/// count, never past the job's expiry (a retry after it would only drop the job).
pub fn retry_delay(receive_count: u32, time_left: Option<chrono::Duration>) -> Duration {
    let backoff = Duration::from_secs(1 << receive_count.clamp(1, 5).saturating_sub(1));
    match time_left.and_then(|t| t.to_std().ok()) {
        Some(left) => backoff.min(left / 2),
        None if time_left.is_some() => Duration::ZERO,
        None => backoff,
    }
}

/// The SQS adapter: `ChangeMessageVisibility` on the message's own queue (its URL looked up once
/// from the record's `eventSourceARN`, or `MAIL_QUEUE_URL`), `SendMessage` to the dead-letter
/// queue with the error as a message attribute.
pub struct SqsRedelivery {
    client: aws_sdk_sqs::Client,
    dead_letter_queue_url: String,
    queue_url: Option<String>,
    urls: Mutex<HashMap<String, String>>,
}

impl SqsRedelivery {
    pub fn new(client: aws_sdk_sqs::Client, dead_letter_queue_url: String, queue_url: Option<String>) -> Self {
        SqsRedelivery { client, dead_letter_queue_url, queue_url, urls: Mutex::default() }
    }

    async fn queue_url(&self, record: &SqsMessage) -> Option<String> {
        if let Some(url) = &self.queue_url {
            return Some(url.clone());
        }
        let arn = record.event_source_arn.as_deref()?;
        if let Some(url) = self.urls.lock().unwrap_or_else(|p| p.into_inner()).get(arn) {
            return Some(url.clone());
        }
        // arn:aws:sqs:<region>:<account>:<name>
        let mut parts = arn.rsplitn(3, ':');
        let (name, account) = (parts.next()?, parts.next()?);
        let out = self.client.get_queue_url().queue_name(name).queue_owner_aws_account_id(account).send().await;
        let url = out
            .map_err(|e| tracing::warn!(error = %aws_sdk_sqs::error::DisplayErrorContext(&e), "queue URL not found"))
            .ok()?
            .queue_url?;
        self.urls.lock().unwrap_or_else(|p| p.into_inner()).insert(arn.to_string(), url.clone());
        Some(url)
    }
}

impl Redelivery for SqsRedelivery {
    async fn retry_after(&self, record: &SqsMessage, delay: Duration) {
        let (Some(url), Some(handle)) = (self.queue_url(record).await, record.receipt_handle.as_deref()) else {
            return;
        };
        let seconds = i32::try_from(delay.as_secs()).unwrap_or(i32::MAX);
        let changed = self
            .client
            .change_message_visibility()
            .queue_url(url)
            .receipt_handle(handle)
            .visibility_timeout(seconds)
            .send()
            .await;
        match changed {
            Ok(_) => tracing::info!(retry_in_seconds = seconds, "message visible again soon"),
            Err(e) => {
                tracing::warn!(error = %aws_sdk_sqs::error::DisplayErrorContext(&e), "visibility not changed; the queue's timeout applies")
            }
        }
    }

    async fn dead_letter(&self, record: &SqsMessage, reason: &str) -> bool {
        let attribute = |value: &str| {
            aws_sdk_sqs::types::MessageAttributeValue::builder().data_type("String").string_value(value).build().ok()
        };
        let sent = self
            .client
            .send_message()
            .queue_url(&self.dead_letter_queue_url)
            .message_body(record.body.as_deref().unwrap_or(""))
            .set_message_attributes(Some(
                [
                    ("mail_error", attribute(reason)),
                    ("source_message_id", attribute(record.message_id.as_deref().unwrap_or("-"))),
                ]
                .into_iter()
                .filter_map(|(k, v)| Some((k.to_string(), v?)))
                .collect(),
            ))
            .send()
            .await;
        match sent {
            Ok(_) => {
                tracing::info!("moved to the dead-letter queue");
                true
            }
            Err(e) => {
                tracing::error!(error = %aws_sdk_sqs::error::DisplayErrorContext(&e), "not moved to the dead-letter queue; reported instead");
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_never_outlives_the_job() {
        let secs = |n, left: Option<i64>| retry_delay(n, left.map(chrono::Duration::seconds)).as_secs_f64();
        assert_eq!([1, 2, 3, 4, 5, 9].map(|n| secs(n, None)), [1.0, 2.0, 4.0, 8.0, 16.0, 16.0]);
        assert_eq!(secs(5, Some(10)), 5.0, "half the time left");
        assert_eq!(secs(1, Some(100)), 1.0);
        assert_eq!(secs(3, Some(-5)), 0.0, "already expired: at once, to be dropped");
    }
}
