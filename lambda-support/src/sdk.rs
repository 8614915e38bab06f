use std::time::Duration;

/// Explicit limits for every AWS call of a function, so a hung connection becomes an error the
/// function can report inside its own timeout, instead of the function timing out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SdkTimeouts {
    pub connect: Duration,
    pub attempt: Duration,
    /// All attempts of one operation, retries and backoff included.
    pub operation: Duration,
}

/// The SDK configuration from the standard chain (region, credentials, the `AWS_ENDPOINT_URL*`
/// variables) with `timeouts`.
pub async fn sdk_config(timeouts: SdkTimeouts) -> aws_config::SdkConfig {
    aws_config::from_env().timeout_config(timeouts.into()).load().await
}

/// For a second client of the same process with other limits: loading the chain once is enough.
impl From<SdkTimeouts> for aws_config::timeout::TimeoutConfig {
    fn from(t: SdkTimeouts) -> Self {
        aws_config::timeout::TimeoutConfig::builder()
            .connect_timeout(t.connect)
            .operation_attempt_timeout(t.attempt)
            .operation_timeout(t.operation)
            .build()
    }
}
