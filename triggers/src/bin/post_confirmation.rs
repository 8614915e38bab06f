//! Lambda entry point of the post-confirmation trigger (welcome email): wiring only.
use lambda_runtime::{LambdaEvent, service_fn};
use lambda_support::{Env, exit_on_config_error};
use triggers::mail_queue::SqsMailQueue;
use triggers::post_confirmation::{SendWelcome, WelcomeConfig};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_support::logging::init();
    let config = WelcomeConfig::from_env(&Env::from_process()).unwrap_or_else(exit_on_config_error);
    let sqs = aws_sdk_sqs::Client::new(&lambda_support::sdk_config(triggers::mail_queue::TIMEOUTS).await);
    let queue = SqsMailQueue::new(sqs, config.queue_url.clone());
    let trigger = &SendWelcome::new(config, queue);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<_>| async move {
        trigger.handle(event.payload, chrono::Utc::now()).await
    }))
    .await
}
