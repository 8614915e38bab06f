//! Lambda entry point of mail-feedback (SES events from the feedback queue): wiring only.
use lambda_runtime::{LambdaEvent, service_fn};
use lambda_support::{Env, exit_on_config_error};
use mail_feedback::apply::{FeedbackConfig, MailFeedback};
use triggers::auth_state::store::{self, DynamoStore};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_support::logging::init();
    let env = Env::from_process();
    let config = FeedbackConfig::from_env(&env).unwrap_or_else(exit_on_config_error);
    let table = store::table_from_env(&env).unwrap_or_else(exit_on_config_error);
    let sdk = lambda_support::sdk_config(store::TIMEOUTS).await;
    let feedback = &MailFeedback::new(config, DynamoStore::from_sdk(&sdk, table));
    lambda_runtime::run(service_fn(move |event: LambdaEvent<_>| async move {
        Ok::<_, lambda_runtime::Error>(feedback.handle(event.payload).await)
    }))
    .await
}
