//! `local-cognito`: serves the Cognito endpoint on loopback. Wiring and arguments only.

use lambda_support::{Env, exit_on_config_error};
use local_cognito::host::HostAllowList;
use local_cognito::runtime_api::BinaryTriggers;
use local_cognito::store::MemoryStore;
use local_cognito::triggers::{TriggerRunner, in_process_triggers};
use local_cognito::{PoolConfig, UserPool, router};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use triggers::mail_queue::SqsMailQueue;

const USAGE: &str = "usage: local-cognito [--listen 127.0.0.1:9229] [--triggers in-process|binaries] [--bin-dir DIR]
                     [--session-ttl-seconds 180] [--allow-host NAME]...
                     [--refresh-grace-seconds 0..60 | --no-refresh-rotation]

A Cognito Identity Provider endpoint for development and tests (not an identity provider).
Triggers read the same variables as the Lambda functions: MAIL_QUEUE_URL and LOGIN_URL (required),
SIGN_IN_URL (enables post-authentication), MAX_ATTEMPTS, CODE_LENGTH, CODE_TTL_SECONDS; the queue is
reached through the SDK's standard variables (AWS_ENDPOINT_URL, AWS_REGION, ...).
--triggers binaries runs the release binaries from --bin-dir (default: this binary's folder)
over the Lambda Runtime API, one warm process per function.
Refresh tokens rotate as the CDK app client sets it (a 10 s grace period for the token rotated out);
--no-refresh-rotation turns rotation off (REFRESH_TOKEN_AUTH then works too).
Cognito's own emails (confirmation and attribute verification codes) are kept in memory and listed
at /_local/emails.
Only requests whose Host is the listen address, localhost, 127.0.0.1 or [::1] with the listen port
are served, and names given with --allow-host (DNS rebinding defence).";

/// Variables handed to the trigger binaries besides [`triggers::TUNING_VARIABLES`] (beyond this
/// process's environment, which they inherit).
const DEPLOYMENT_VARIABLES: [&str; 4] = ["MAIL_QUEUE_URL", "LOGIN_URL", "SIGN_IN_URL", "AUTH_STATE_TABLE"];

struct Args {
    listen: String,
    binaries: bool,
    bin_dir: Option<PathBuf>,
    session_ttl_seconds: i64,
    allow_hosts: Vec<String>,
    rotation_grace: Option<i64>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        listen: "127.0.0.1:9229".into(),
        binaries: false,
        bin_dir: None,
        session_ttl_seconds: 180,
        allow_hosts: Vec::new(),
        rotation_grace: Some(local_cognito::pool::DEFAULT_ROTATION_GRACE_SECONDS),
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "--listen" => args.listen = value("--listen")?,
            "--triggers" => {
                args.binaries = match value("--triggers")?.as_str() {
                    "in-process" => false,
                    "binaries" => true,
                    other => return Err(format!("--triggers takes in-process or binaries, not {other}")),
                }
            }
            "--bin-dir" => args.bin_dir = Some(PathBuf::from(value("--bin-dir")?)),
            "--allow-host" => args.allow_hosts.push(value("--allow-host")?),
            "--no-refresh-rotation" => args.rotation_grace = None,
            "--refresh-grace-seconds" => {
                let raw = value("--refresh-grace-seconds")?;
                let seconds = raw.parse().ok().filter(|s| (0..=60).contains(s));
                args.rotation_grace =
                    Some(seconds.ok_or(format!("--refresh-grace-seconds takes 0 to 60 (Cognito's range), not {raw}"))?);
            }
            "--session-ttl-seconds" => {
                let raw = value("--session-ttl-seconds")?;
                args.session_ttl_seconds = raw
                    .parse()
                    .ok()
                    .filter(|s| (1..=900).contains(s))
                    .ok_or(format!("--session-ttl-seconds takes 1 to 900, not {raw}"))?;
            }
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(args)
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(e) => return lambda_support::local::usage_error("local-cognito", &e, USAGE),
    };
    lambda_support::logging::init();
    let shutdown = lambda_support::local::shutdown_signal();
    let listener = match lambda_support::local::bind(&args.listen, "--listen", false).await {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("local-cognito: {e}");
            return ExitCode::FAILURE;
        }
    };
    let endpoint = format!("http://{}", listener.local_addr().expect("a bound address"));
    let mut config = PoolConfig::local(&endpoint);
    config.session_ttl = chrono::Duration::seconds(args.session_ttl_seconds);
    config.refresh_token_rotation = args.rotation_grace.map(chrono::Duration::seconds);

    let env = Env::from_process();
    let triggers: Arc<dyn TriggerRunner> = if args.binaries {
        let bin_dir = args.bin_dir.clone().unwrap_or_else(|| {
            std::env::current_exe().ok().and_then(|p| p.parent().map(PathBuf::from)).unwrap_or_default()
        });
        let mut pairs: Vec<(String, String)> = DEPLOYMENT_VARIABLES
            .iter()
            .chain(&triggers::TUNING_VARIABLES)
            .filter_map(|name| env.optional(name).map(|v| (name.to_string(), v.to_string())))
            .collect();
        // post-authentication calls this very endpoint (AdminUpdateUserAttributes), as in AWS.
        pairs.push(("AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER".into(), endpoint.clone()));
        match BinaryTriggers::start(&bin_dir, &pairs).await {
            Ok(t) => Arc::new(t),
            Err(e) => {
                eprintln!("local-cognito: {e} (build them with `cargo build --release --bins`)");
                return ExitCode::FAILURE;
            }
        }
    } else {
        let sdk = lambda_support::sdk_config(triggers::mail_queue::TIMEOUTS).await;
        let queue_url = env.required("MAIL_QUEUE_URL").unwrap_or_else(exit_on_config_error).to_string();
        let queue = SqsMailQueue::new(aws_sdk_sqs::Client::new(&sdk), queue_url);
        in_process_triggers(&env, queue, env.optional("AUTH_STATE_TABLE"), &sdk).unwrap_or_else(exit_on_config_error)
    };
    let pool = match UserPool::new(config, Arc::new(MemoryStore::default()), triggers) {
        Ok(pool) => pool,
        Err(e) => {
            eprintln!("local-cognito: {e}");
            return ExitCode::FAILURE;
        }
    };
    let c = &pool.config;
    println!(
        "local-cognito: {endpoint} (user pool {}, client {}, triggers {}); JWKS at {}/.well-known/jwks.json",
        c.user_pool_id,
        c.client_id,
        if args.binaries { "as binaries" } else { "in-process" },
        c.issuer
    );
    let address = listener.local_addr().expect("a bound address");
    let app = local_cognito::host::guard(router(pool), HostAllowList::new(address, &args.allow_hosts));
    // A stop waits a second at most for open connections (a slow client cannot hold it).
    match local_cognito::serve_until(listener, app, shutdown, std::time::Duration::from_secs(1)).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("local-cognito: {e}");
            ExitCode::FAILURE
        }
    }
}
