//! Lambda entry point of the define-auth-challenge trigger: wiring only.
use lambda_runtime::{LambdaEvent, service_fn};
use lambda_support::{Env, exit_on_config_error};
use triggers::define::{DefineConfig, handle};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_support::logging::init();
    let config = DefineConfig::from_env(&Env::from_process()).unwrap_or_else(exit_on_config_error);
    let config = &config;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<_>| async move { handle(event.payload, config) })).await
}
