use lambda_runtime::tracing::subscriber::{self, EnvFilter, filter::LevelFilter};
use std::str::FromStr;

/// Crates that log whole HTTP requests and responses, bodies included, at DEBUG and TRACE: a mail
/// job body holds the code, the link and the address. They are held at INFO whatever level the
/// function runs at, so raising `AWS_LAMBDA_LOG_LEVEL` to debug a problem cannot leak secrets.
/// `lambda_runtime` and `lambda_http` log every raw event and response at TRACE/DEBUG (codes,
/// answers, session strings, tokens, addresses); `reqwest` and `rustls` log connection details;
/// `webauthn_rs` and `webauthn_rs_core` log whole ceremonies (challenges, credentials, the
/// ceremony's state) at DEBUG and TRACE.
const WIRE_LOGGING_CRATES: [&str; 18] = [
    "aws_smithy_runtime",
    "aws_smithy_runtime_api",
    "aws_smithy_http_client",
    "aws_sdk_sqs",
    "aws_sdk_sesv2",
    "aws_sdk_dynamodb",
    "aws_sdk_cognitoidentityprovider",
    "aws_config",
    "hyper",
    "hyper_util",
    "h2",
    "lambda_runtime",
    "lambda_runtime_api_client",
    "lambda_http",
    "reqwest",
    "rustls",
    "webauthn_rs",
    "webauthn_rs_core",
];

/// The level from Lambda's advanced logging controls (`AWS_LAMBDA_LOG_LEVEL`), then `RUST_LOG`,
/// then INFO.
pub fn level_from_env() -> LevelFilter {
    std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .or_else(|_| std::env::var("RUST_LOG"))
        .ok()
        .and_then(|l| LevelFilter::from_str(&l).ok())
        .unwrap_or(LevelFilter::INFO)
}

/// `level` for our code, never more than INFO for the crates that log wire data.
pub fn filter(level: LevelFilter) -> EnvFilter {
    WIRE_LOGGING_CRATES.iter().fold(EnvFilter::default().add_directive(level.into()), |f, krate| {
        f.add_directive(format!("{krate}={}", level.min(LevelFilter::INFO)).parse().expect("a valid directive"))
    })
}

/// Installs the process-wide subscriber: JSON lines on stdout (one object per event, with the
/// runtime's request-id span), unless `AWS_LAMBDA_LOG_FORMAT=Text` asks for text.
///
/// JSON is the default, not only when Lambda says so, because the log-redaction tests and
/// CloudWatch Logs Insights queries both rely on structured fields.
pub fn init() {
    let text = std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("text"));
    let builder = subscriber::fmt().with_target(false).with_env_filter(filter(level_from_env()));
    if text {
        builder.without_time().init();
    } else {
        builder.json().with_current_span(true).with_span_list(false).init();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_logging_crates_are_capped_at_info() {
        let rendered = filter(LevelFilter::TRACE).to_string();
        assert!(rendered.contains("aws_smithy_runtime=info"), "{rendered}");
        assert!(rendered.contains("trace"), "{rendered}");
        let quiet = filter(LevelFilter::WARN).to_string();
        assert!(quiet.contains("aws_sdk_sqs=warn"), "{quiet}");
    }
}
