//! What every Lambda binary of the project shares: JSON logging and configuration from the
//! environment, checked at start-up so a bad deployment fails before the first invocation with a
//! message naming the variable.

pub mod config;
mod init_error;
pub mod local;
pub mod logging;
pub mod metrics;

pub use aws_config::SdkConfig;
pub use sdk::{SdkTimeouts, sdk_config};
mod sdk;

pub use config::{ConfigError, Env};

/// Start-up failed on configuration: say which variable, on stderr and in the log, and stop. The
/// Lambda service reports the failed init; the function never answers with a half-built state.
pub fn exit_on_config_error<T>(error: ConfigError) -> T {
    lambda_runtime::tracing::error!(%error, "configuration error");
    eprintln!("configuration error: {error}");
    init_error::report("Runtime.ConfigurationError", &format!("configuration error: {error}"));
    std::process::exit(2)
}
