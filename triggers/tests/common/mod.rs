//! Helpers shared by the trigger tests that talk to SQS on moto.

// Each test binary compiles this module and uses only some of it.
#![allow(dead_code)]

use mail_job::MailJob;
use testkit::Moto;
use triggers::create::{CreateChallenge, CreateConfig};
use triggers::mail_queue::SqsMailQueue;

/// The create-challenge use case on a fresh queue of `moto`, with its real SQS adapter.
pub async fn trigger_on(moto: &Moto) -> (CreateChallenge<SqsMailQueue>, aws_sdk_sqs::Client, String) {
    let sqs = aws_sdk_sqs::Client::new(&moto.sdk_config().await);
    let queue_url = moto.create_queue(&sqs, "mail").await;
    let config = CreateConfig::from_env(&lambda_support::Env::from_pairs([
        ("MAIL_QUEUE_URL", queue_url.as_str()),
        ("LOGIN_URL", "https://app.example.com/verify-login?lang=de"),
    ]))
    .unwrap();
    (CreateChallenge::new(config, SqsMailQueue::new(sqs.clone(), queue_url.clone())), sqs, queue_url)
}

/// Every job on the queue, parsed as the mailer would.
pub async fn received_jobs(sqs: &aws_sdk_sqs::Client, queue_url: &str) -> Vec<MailJob> {
    let out = sqs.receive_message().queue_url(queue_url).max_number_of_messages(10).send().await.unwrap();
    out.messages().iter().map(|m| MailJob::parse(m.body().unwrap()).unwrap()).collect()
}
