//! Lambda entry point of the create-auth-challenge trigger: wiring only. The SQS and DynamoDB
//! clients are built once per process, before the first invocation.
use lambda_runtime::{LambdaEvent, service_fn};
use lambda_support::{Env, exit_on_config_error};
use triggers::auth_state::store::{self, DynamoStore};
use triggers::create::{CreateChallenge, CreateConfig};
use triggers::mail_queue::SqsMailQueue;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_support::logging::init();
    let env = Env::from_process();
    let config = CreateConfig::from_env(&env).unwrap_or_else(exit_on_config_error);
    let table = store::table_from_env(&env).unwrap_or_else(exit_on_config_error);
    let sdk = lambda_support::sdk_config(triggers::mail_queue::TIMEOUTS).await;
    let queue = SqsMailQueue::new(aws_sdk_sqs::Client::new(&sdk), config.queue_url.clone());
    let trigger = &CreateChallenge::new(config, queue, DynamoStore::from_sdk(&sdk, table));
    lambda_runtime::run(service_fn(move |event: LambdaEvent<_>| async move {
        trigger.handle(event.payload, chrono::Utc::now()).await
    }))
    .await
}
