//! Lambda entry point of the verify-auth-challenge trigger: wiring only.
use lambda_runtime::{LambdaEvent, service_fn};
use triggers::verify::handle;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_support::logging::init();
    lambda_runtime::run(service_fn(|event: LambdaEvent<_>| async move { handle(event.payload) })).await
}
