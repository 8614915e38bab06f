//! The port through which create-auth-challenge hands a mail job to the mailer, and its SQS
//! adapter.

use mail_job::MailJob;
use std::future::Future;

#[derive(Debug, thiserror::Error)]
#[error("could not enqueue mail job: {0}")]
pub struct QueueError(pub String);

pub trait MailQueue: Send + Sync {
    fn enqueue(&self, job: &MailJob) -> impl Future<Output = Result<(), QueueError>> + Send;
}

/// Sends each job as one SQS message whose body is the job's JSON.
#[derive(Debug, Clone)]
pub struct SqsMailQueue {
    client: aws_sdk_sqs::Client,
    queue_url: String,
}

impl SqsMailQueue {
    pub fn new(client: aws_sdk_sqs::Client, queue_url: impl Into<String>) -> Self {
        SqsMailQueue { client, queue_url: queue_url.into() }
    }
}

impl MailQueue for SqsMailQueue {
    async fn enqueue(&self, job: &MailJob) -> Result<(), QueueError> {
        self.client
            .send_message()
            .queue_url(&self.queue_url)
            .message_body(job.to_json())
            .send()
            .await
            .map(drop)
            // DisplayErrorContext gives the service's error code and message, never the body sent.
            .map_err(|e| QueueError(aws_sdk_sqs::error::DisplayErrorContext(e).to_string()))
    }
}

/// The SDK configuration for the producers: the standard chain (region, credentials, endpoint
/// variables) with explicit timeouts, so a slow SQS fails the sign-in cleanly inside Cognito's
/// 5-second budget instead of timing the function out.
pub async fn sdk_config() -> aws_config::SdkConfig {
    let timeouts = aws_config::timeout::TimeoutConfig::builder()
        .connect_timeout(std::time::Duration::from_millis(1000))
        .operation_attempt_timeout(std::time::Duration::from_millis(1200))
        .operation_timeout(std::time::Duration::from_millis(3000))
        .build();
    aws_config::from_env().timeout_config(timeouts).load().await
}
