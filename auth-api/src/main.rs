//! `auth-api`: under Lambda (a Function URL in front) it runs with `lambda_http`; elsewhere it
//! serves on loopback (`--listen`, default 127.0.0.1:3000). Wiring only.

use lambda_support::{Env, exit_on_config_error};
use std::process::ExitCode;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    lambda_support::logging::init();
    let state = auth_api::from_env(&Env::from_process()).await.unwrap_or_else(exit_on_config_error);
    if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some() {
        return match lambda_http::run(auth_api::router(state)).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("auth-api: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let mut args = std::env::args().skip(1);
    let listen = match (args.next().as_deref(), args.next()) {
        (None, _) => "127.0.0.1:3000".to_string(),
        (Some("--listen"), Some(addr)) => addr,
        _ => {
            eprintln!("usage: auth-api [--listen 127.0.0.1:3000]");
            return ExitCode::from(2);
        }
    };
    let shutdown = lambda_support::local::shutdown_signal();
    let listener = match lambda_support::local::bind(&listen, "--listen", false).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("auth-api: {e}");
            return ExitCode::FAILURE;
        }
    };
    let origin = format!("http://{}", listener.local_addr().expect("a bound address"));
    println!("auth-api: {origin}");
    let app = auth_api::router(state.with_own_origin(origin));
    match axum::serve(listener, app).with_graceful_shutdown(shutdown).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("auth-api: {e}");
            ExitCode::FAILURE
        }
    }
}
