//! Helpers shared by the trigger tests that talk to SQS on moto.

// Each test binary compiles this module and uses only some of it.
#![allow(dead_code)]

use mail_job::MailJob;
use testkit::Moto;
use triggers::auth_state::Limits;
use triggers::auth_state::store::DynamoStore;
use triggers::create::{CreateChallenge, CreateConfig};
use triggers::mail_queue::SqsMailQueue;
use triggers::verify::VerifyChallenge;

/// The auth state on a fresh table `auth-state` of `moto`, through the real DynamoDB adapter.
pub async fn store_on(moto: &Moto) -> DynamoStore {
    let dynamodb = aws_sdk_dynamodb::Client::new(&moto.sdk_config().await);
    let table = moto.auth_state_table(&dynamodb, "auth-state").await;
    DynamoStore::new(dynamodb, table)
}

/// The verify use case on `store`.
pub fn verifier(store: DynamoStore) -> VerifyChallenge<DynamoStore> {
    VerifyChallenge::new(Limits::default(), store)
}

/// The create-challenge use case on a fresh queue and table of `moto`, with its real adapters.
pub async fn trigger_on(
    moto: &Moto,
) -> (CreateChallenge<SqsMailQueue, DynamoStore>, DynamoStore, aws_sdk_sqs::Client, String) {
    let sqs = aws_sdk_sqs::Client::new(&moto.sdk_config().await);
    let queue_url = moto.create_queue(&sqs, "mail").await;
    let store = store_on(moto).await;
    let config = CreateConfig::from_env(&lambda_support::Env::from_pairs([
        ("MAIL_QUEUE_URL", queue_url.as_str()),
        ("LOGIN_URL", "https://app.example.com/verify-login?lang=de"),
    ]))
    .unwrap();
    let trigger = CreateChallenge::new(config, SqsMailQueue::new(sqs.clone(), queue_url.clone()), store.clone());
    (trigger, store, sqs, queue_url)
}

/// Every job on the queue, parsed as the mailer would.
pub async fn received_jobs(sqs: &aws_sdk_sqs::Client, queue_url: &str) -> Vec<MailJob> {
    let out = sqs.receive_message().queue_url(queue_url).max_number_of_messages(10).send().await.unwrap();
    out.messages().iter().map(|m| MailJob::parse(m.body().unwrap()).unwrap()).collect()
}
