//! Lambda entry point of the mailer: wiring only. The SES client is built once per process.
use lambda_runtime::{LambdaEvent, service_fn};
use lambda_support::{Env, exit_on_config_error};
use mailer::batch::Mailer;
use mailer::config::MailerConfig;
use mailer::redelivery::SqsRedelivery;
use mailer::ses::SesSender;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_support::logging::init();
    let config = MailerConfig::from_env(&Env::from_process()).unwrap_or_else(exit_on_config_error);
    let sdk = lambda_support::sdk_config(mailer::ses::TIMEOUTS).await;
    let redelivery = config
        .dead_letter_queue_url
        .clone()
        .map(|dlq| SqsRedelivery::new(aws_sdk_sqs::Client::new(&sdk), dlq, config.queue_url.clone()));
    if redelivery.is_none() {
        tracing::warn!(
            "MAIL_DLQ_URL is not set: permanent failures reach the dead-letter queue only through the redrive policy"
        );
    }
    let mailer = &Mailer::new(config, SesSender::new(aws_sdk_sesv2::Client::new(&sdk))).with_redelivery(redelivery);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<_>| async move {
        let deadline = deadline_of(&event.context);
        Ok::<_, lambda_runtime::Error>(mailer.handle_until(event.payload, chrono::Utc::now(), Some(deadline)).await)
    }))
    .await
}

/// The invocation's deadline (milliseconds since the epoch) as an instant on this process's clock.
fn deadline_of(context: &lambda_runtime::Context) -> tokio::time::Instant {
    let now_ms = chrono::Utc::now().timestamp_millis();
    let left_ms = i64::try_from(context.deadline).unwrap_or(i64::MAX).saturating_sub(now_ms).max(0);
    tokio::time::Instant::now() + std::time::Duration::from_millis(left_ms as u64)
}
