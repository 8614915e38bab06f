//! `mail-preview`: serve | export DIR | check. Wiring and argument parsing only.

use mail_preview::catalog::{default_root, locales, preview_config, samples};
use mail_preview::checks::Rules;
use mail_preview::server::{AppState, app};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

const USAGE: &str = "usage:
  mail-preview serve  [--addr 127.0.0.1:3100] [--fixtures DIR]   live preview in the browser
  mail-preview export DIR [--fixtures DIR]                       the same as static files
  mail-preview check  [--fixtures DIR] [--login-url URL]         check every template × fixture × locale

--fixtures DIR: the folder holding <template>/fixtures/*.json (default: the repository's templates/).
MAIL_FROM and APP_NAME, when set, are used as the mailer would use them.";

struct Args {
    command: String,
    positional: Vec<String>,
    addr: String,
    fixtures: PathBuf,
    login_url: Option<String>,
}

fn parse_args() -> Result<Args, String> {
    let mut it = std::env::args().skip(1);
    let command = it.next().ok_or("no command")?;
    let mut args = Args {
        command,
        positional: Vec::new(),
        addr: "127.0.0.1:3100".into(),
        fixtures: default_root(),
        login_url: None,
    };
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "--addr" => args.addr = value("--addr")?,
            "--fixtures" => args.fixtures = PathBuf::from(value("--fixtures")?),
            "--login-url" => args.login_url = Some(value("--login-url")?),
            "-h" | "--help" => return Err(String::new()),
            other if other.starts_with("--") => return Err(format!("unknown option {other}")),
            other => args.positional.push(other.to_string()),
        }
    }
    Ok(args)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(e) => return lambda_support::local::usage_error("mail-preview", &e, USAGE),
    };
    let config = preview_config();
    let all = match samples(&args.fixtures) {
        Ok(all) => all,
        Err(e) => {
            eprintln!("mail-preview: cannot read fixtures under {}: {e}", args.fixtures.display());
            return ExitCode::from(2);
        }
    };
    match args.command.as_str() {
        "check" => {
            let rules = Rules { allowed_prefix: args.login_url.as_deref() };
            let (checked, failures) = rules.check_all(&config, &all, &locales());
            for f in &failures {
                println!("FAIL {f}");
            }
            let failed_samples: std::collections::HashSet<_> =
                failures.iter().map(|f| (&f.template, &f.fixture, &f.locale)).collect();
            println!("mail-preview check: {} passed, {} failed", checked - failed_samples.len(), failed_samples.len());
            if failures.is_empty() && checked > 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE }
        }
        "export" => {
            let Some(dir) = args.positional.first() else {
                eprintln!("mail-preview: export needs a directory\n{USAGE}");
                return ExitCode::from(2);
            };
            match mail_preview::export::export(&config, &all, dir.as_ref()) {
                Ok((written, 0)) => {
                    println!("exported {written} previews to {dir}/index.html");
                    ExitCode::SUCCESS
                }
                Ok((written, errors)) => {
                    eprintln!("exported {written} previews to {dir}; {errors} failed to render (see their pages)");
                    ExitCode::FAILURE
                }
                Err(e) => {
                    eprintln!("mail-preview: export failed: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        "serve" => {
            // The preview is a local tool: it never listens beyond this machine.
            match args.addr.parse::<std::net::SocketAddr>() {
                Ok(a) if a.ip().is_loopback() => {}
                _ => {
                    eprintln!(
                        "mail-preview: --addr must be a loopback address such as 127.0.0.1:3100, not {}",
                        args.addr
                    );
                    return ExitCode::from(2);
                }
            }
            let listener = match tokio::net::TcpListener::bind(&args.addr).await {
                Ok(l) => l,
                Err(e) => {
                    eprintln!("mail-preview: cannot listen on {}: {e}", args.addr);
                    return ExitCode::FAILURE;
                }
            };
            let addr = listener.local_addr().map(|a| a.to_string()).unwrap_or(args.addr.clone());
            println!("mail-preview: http://{addr}/ ({} fixtures under {})", all.len(), args.fixtures.display());
            let state = AppState { root: args.fixtures, config: Arc::new(config) };
            let shutdown = async {
                let _ = tokio::signal::ctrl_c().await;
            };
            match axum::serve(listener, app(state)).with_graceful_shutdown(shutdown).await {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("mail-preview: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        other => {
            eprintln!("mail-preview: unknown command {other}\n{USAGE}");
            ExitCode::from(2)
        }
    }
}
