//! Lambda entry point of the mailer: wiring only. The SES client is built once per process.
use lambda_runtime::{LambdaEvent, service_fn};
use lambda_support::{Env, exit_on_config_error};
use mailer::batch::Mailer;
use mailer::config::MailerConfig;
use mailer::ses::SesSender;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_support::logging::init();
    let config = MailerConfig::from_env(&Env::from_process()).unwrap_or_else(exit_on_config_error);
    let ses = aws_sdk_sesv2::Client::new(&lambda_support::sdk_config(mailer::ses::TIMEOUTS).await);
    let mailer = &Mailer::new(config, SesSender::new(ses));
    lambda_runtime::run(service_fn(move |event: LambdaEvent<_>| async move {
        Ok::<_, lambda_runtime::Error>(mailer.handle(event.payload, chrono::Utc::now()).await)
    }))
    .await
}
