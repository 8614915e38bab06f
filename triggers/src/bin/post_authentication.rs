//! Lambda entry point of the post-authentication trigger (address verified, then the welcome
//! email): wiring only. The SQS, DynamoDB and Cognito clients share one SDK configuration.
use lambda_runtime::{LambdaEvent, service_fn};
use lambda_support::{Env, exit_on_config_error};
use triggers::auth_state::store::{self, DynamoStore};
use triggers::mail_queue::SqsMailQueue;
use triggers::post_authentication::{CognitoDirectory, PostAuthentication, WelcomeConfig};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_support::logging::init();
    let env = Env::from_process();
    let config = WelcomeConfig::from_env(&env).unwrap_or_else(exit_on_config_error);
    let table = store::table_from_env(&env).unwrap_or_else(exit_on_config_error);
    let sdk = lambda_support::sdk_config(triggers::mail_queue::TIMEOUTS).await;
    let queue = SqsMailQueue::new(aws_sdk_sqs::Client::new(&sdk), config.queue_url.clone());
    let cognito = aws_sdk_cognitoidentityprovider::config::Builder::from(&sdk)
        .timeout_config(triggers::post_authentication::TIMEOUTS.into())
        .build();
    let directory = CognitoDirectory(aws_sdk_cognitoidentityprovider::Client::from_conf(cognito));
    let trigger = &PostAuthentication::new(config, queue, DynamoStore::from_sdk(&sdk, table), directory);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<_>| async move {
        trigger.handle(event.payload, chrono::Utc::now()).await
    }))
    .await
}
