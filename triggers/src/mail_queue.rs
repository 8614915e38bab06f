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

/// A slow SQS fails the sign-in cleanly inside Cognito's 5-second budget (the triggers run with a
/// 4-second timeout) instead of timing the function out.
pub const TIMEOUTS: lambda_support::SdkTimeouts = lambda_support::SdkTimeouts {
    connect: std::time::Duration::from_millis(1000),
    attempt: std::time::Duration::from_millis(1200),
    operation: std::time::Duration::from_millis(3000),
};
