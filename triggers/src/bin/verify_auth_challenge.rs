//! Lambda entry point of the verify-auth-challenge trigger: wiring only. The DynamoDB client is
//! built once per process, before the first invocation.
use lambda_runtime::{LambdaEvent, service_fn};
use lambda_support::{Env, exit_on_config_error};
use triggers::auth_state::Limits;
use triggers::auth_state::store::{self, DynamoStore};
use triggers::verify::VerifyChallenge;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_support::logging::init();
    let env = Env::from_process();
    let limits = Limits::from_env(&env).unwrap_or_else(exit_on_config_error);
    let table = store::table_from_env(&env).unwrap_or_else(exit_on_config_error);
    let sdk = lambda_support::sdk_config(store::TIMEOUTS).await;
    let trigger = &VerifyChallenge::new(limits, DynamoStore::from_sdk(&sdk, table));
    lambda_runtime::run(service_fn(move |event: LambdaEvent<_>| async move {
        trigger.handle(event.payload, chrono::Utc::now()).await
    }))
    .await
}
