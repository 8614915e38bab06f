use lambda_runtime::tracing::subscriber::{self, EnvFilter, filter::LevelFilter};
use std::str::FromStr;

/// Installs the process-wide subscriber: JSON lines on stdout (one object per event, with the
/// runtime's request-id span), unless `AWS_LAMBDA_LOG_FORMAT=Text` asks for text. The level comes
/// from `AWS_LAMBDA_LOG_LEVEL`, then `RUST_LOG`, then INFO (Lambda's advanced logging controls).
///
/// Logs are JSON by default, not only when Lambda says so, because the log-redaction test and
/// CloudWatch Logs Insights queries both rely on structured fields.
pub fn init() {
    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .or_else(|_| std::env::var("RUST_LOG"))
        .ok()
        .and_then(|l| LevelFilter::from_str(&l).ok())
        .unwrap_or(LevelFilter::INFO);
    let text = std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("text"));
    let builder = subscriber::fmt()
        .with_target(false)
        .with_env_filter(EnvFilter::builder().with_default_directive(level.into()).parse_lossy(""));
    if text {
        builder.without_time().init();
    } else {
        builder.json().with_current_span(true).with_span_list(false).init();
    }
}
