//! The event source mappings: polls a queue (the mail queue, the feedback queue), hands each batch
//! (at most 10) to the real function (the mailer, mail-feedback) as the SQS event Lambda would
//! build, and deletes what the partial batch response did not report. Reported messages stay on
//! the queue and come back after the visibility timeout; the queue's redrive policy ends them in
//! the dead-letter queue.

use crate::queue::LocalQueue;
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use futures::future::BoxFuture;
use mail_feedback::apply::MailFeedback;
use mailer::batch::Mailer;
use mailer::redelivery::Redelivery;
use mailer::send::EmailSender;
use serde_json::json;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;
use triggers::auth_state::store::AuthStateStore;

#[derive(Debug, Clone)]
pub struct Received {
    pub message_id: String,
    pub receipt_handle: String,
    pub body: String,
    pub receive_count: u32,
    pub sent_at_ms: i64,
}

/// Where the batches come from: the in-process queue, or SQS through the SDK.
pub trait JobSource: Send + Sync {
    fn receive(&self) -> BoxFuture<'_, Vec<Received>>;
    fn delete<'a>(&'a self, receipt_handle: &'a str) -> BoxFuture<'a, ()>;
}

impl JobSource for LocalQueue {
    fn receive(&self) -> BoxFuture<'_, Vec<Received>> {
        let batch = LocalQueue::receive(self, 10, chrono::Utc::now());
        Box::pin(async move {
            batch
                .into_iter()
                .map(|m| Received {
                    message_id: m.message_id,
                    receipt_handle: m.receipt_handle,
                    body: m.body,
                    receive_count: m.receive_count,
                    sent_at_ms: m.sent_at.timestamp_millis(),
                })
                .collect()
        })
    }

    fn delete<'a>(&'a self, receipt_handle: &'a str) -> BoxFuture<'a, ()> {
        LocalQueue::delete(self, receipt_handle);
        Box::pin(async {})
    }
}

/// A real SQS queue, long-polled as Lambda's event source mapping does.
pub struct SqsSource {
    pub client: aws_sdk_sqs::Client,
    pub queue_url: String,
}

impl JobSource for SqsSource {
    fn receive(&self) -> BoxFuture<'_, Vec<Received>> {
        Box::pin(async move {
            let out = self
                .client
                .receive_message()
                .queue_url(&self.queue_url)
                .max_number_of_messages(10)
                .wait_time_seconds(1)
                .message_system_attribute_names(aws_sdk_sqs::types::MessageSystemAttributeName::All)
                .send()
                .await;
            let messages = match out {
                Ok(out) => out.messages.unwrap_or_default(),
                Err(e) => {
                    tracing::warn!(error = %aws_sdk_sqs::error::DisplayErrorContext(&e), "receive from the mail queue failed");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    Vec::new()
                }
            };
            messages
                .into_iter()
                .map(|m| {
                    use aws_sdk_sqs::types::MessageSystemAttributeName as Name;
                    let attribute = |name: Name| m.attributes().and_then(|a| a.get(&name)).cloned().unwrap_or_default();
                    Received {
                        receive_count: attribute(Name::ApproximateReceiveCount).parse().unwrap_or(1),
                        sent_at_ms: attribute(Name::SentTimestamp).parse().unwrap_or(0),
                        message_id: m.message_id.unwrap_or_default(),
                        receipt_handle: m.receipt_handle.unwrap_or_default(),
                        body: m.body.unwrap_or_default(),
                    }
                })
                .collect()
        })
    }

    fn delete<'a>(&'a self, receipt_handle: &'a str) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let deleted =
                self.client.delete_message().queue_url(&self.queue_url).receipt_handle(receipt_handle).send().await;
            if let Err(e) = deleted {
                tracing::warn!(error = %aws_sdk_sqs::error::DisplayErrorContext(&e), "delete from the mail queue failed");
            }
        })
    }
}

/// The SQS event Lambda's event source mapping builds for a batch.
pub fn sqs_event(batch: &[Received]) -> SqsEvent {
    let records: Vec<serde_json::Value> = batch
        .iter()
        .map(|m| {
            json!({
                "messageId": m.message_id,
                "receiptHandle": m.receipt_handle,
                "body": m.body,
                "attributes": {
                    "ApproximateReceiveCount": m.receive_count.to_string(),
                    "SentTimestamp": m.sent_at_ms.to_string(),
                },
                "messageAttributes": {},
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:000000000000:local-mail",
                "awsRegion": "us-east-1",
            })
        })
        .collect();
    serde_json::from_value(json!({ "Records": records })).expect("an SQS event")
}

/// A function behind an SQS event source mapping, with partial batch responses.
pub trait Consumer: Send + Sync {
    fn consume(&self, event: SqsEvent) -> BoxFuture<'_, SqsBatchResponse>;
}

impl<S: EmailSender, R: Redelivery> Consumer for Mailer<S, R> {
    fn consume(&self, event: SqsEvent) -> BoxFuture<'_, SqsBatchResponse> {
        Box::pin(self.handle(event, chrono::Utc::now()))
    }
}

impl<S: AuthStateStore> Consumer for MailFeedback<S> {
    fn consume(&self, event: SqsEvent) -> BoxFuture<'_, SqsBatchResponse> {
        Box::pin(self.handle(event))
    }
}

/// One poll: receive, run the function, delete what it did not report. Returns how many messages
/// the batch had.
pub async fn poll_once(source: &dyn JobSource, consumer: &dyn Consumer) -> usize {
    let batch = source.receive().await;
    if batch.is_empty() {
        return 0;
    }
    let response = consumer.consume(sqs_event(&batch)).await;
    let failed: HashSet<&str> = response.batch_item_failures.iter().map(|f| f.item_identifier.as_str()).collect();
    for m in batch.iter().filter(|m| !failed.contains(m.message_id.as_str())) {
        source.delete(&m.receipt_handle).await;
    }
    batch.len()
}

/// Polls until `stop` turns true (it then finishes the batch in hand and returns); an empty poll
/// waits `idle` before the next.
pub async fn run(
    source: Arc<dyn JobSource>,
    consumer: Arc<dyn Consumer>,
    idle: Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    while !*stop.borrow() {
        if poll_once(source.as_ref(), consumer.as_ref()).await == 0 {
            tokio::select! {
                _ = tokio::time::sleep(idle) => {}
                _ = stop.changed() => {}
            }
        }
    }
}
