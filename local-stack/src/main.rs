//! `local-stack`: the README's run command. Arguments and wiring only.

use local_cognito::host::HostAllowList;
use local_stack::{Options, Undelivered, start};
use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str =
    "usage: local-stack [--listen 127.0.0.1:4000] [--allow-host NAME]... [--allow-remote] [--state DIR] [--aws]
                   [--refresh-grace-seconds 0..60 | --no-refresh-rotation]

Runs the whole product on one port: sign up, sign in, the local inbox, the Cognito endpoint.
--allow-host NAME  also serve requests whose Host is NAME (repeatable); by default only the
              listen address, localhost, 127.0.0.1 and [::1] with the listen port are served
              (anything else is refused: DNS rebinding defence)
--allow-remote  listen on a non-loopback address too: the inbox (every code and link) and the
              admin operations become reachable by anyone who can reach the port
--state DIR   keep users and the inbox in DIR across restarts (default: memory only)
--refresh-grace-seconds N  refresh token rotation's grace period for the token rotated out
              (default 10, as the CDK app client); --no-refresh-rotation turns rotation off
              (then REFRESH_TOKEN_AUTH works too, as for such a Cognito app client)
--aws         use SQS (MAIL_QUEUE_URL, optionally MAIL_DLQ_URL) and SES v2 through the SDK's
              standard variables (AWS_ENDPOINT_URL, AWS_REGION, ...) instead of the in-process
              queue and the local inbox";

struct Args {
    listen: String,
    allow_remote: bool,
    allow_hosts: Vec<String>,
    options: Options,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        listen: "127.0.0.1:4000".into(),
        allow_remote: false,
        allow_hosts: Vec::new(),
        options: Options::default(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--listen" => args.listen = it.next().ok_or("--listen needs an address")?,
            "--allow-remote" => args.allow_remote = true,
            "--allow-host" => args.allow_hosts.push(it.next().ok_or("--allow-host needs a host name")?),
            "--state" => args.options.state_dir = Some(PathBuf::from(it.next().ok_or("--state needs a folder")?)),
            "--aws" => args.options.aws = true,
            "--no-refresh-rotation" => args.options.refresh_rotation_grace = None,
            "--refresh-grace-seconds" => {
                let raw = it.next().ok_or("--refresh-grace-seconds needs a number")?;
                let seconds = raw
                    .parse()
                    .ok()
                    .filter(|s| (0..=60).contains(s))
                    .ok_or(format!("--refresh-grace-seconds takes 0 to 60 (Cognito's range), not {raw}"))?;
                args.options.refresh_rotation_grace = Some(chrono::Duration::seconds(seconds));
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
        Err(e) => return lambda_support::local::usage_error("local-stack", &e, USAGE),
    };
    lambda_support::logging::init();
    let shutdown = lambda_support::local::shutdown_signal();
    let listener = match lambda_support::local::bind(&args.listen, "--listen", args.allow_remote).await {
        Ok(l) => l,
        Err(e) if e.contains("refusing") => {
            eprintln!("local-stack: {e}, or pass --allow-remote to serve other machines too");
            return ExitCode::FAILURE;
        }
        Err(e) => {
            eprintln!("local-stack: {e}");
            return ExitCode::FAILURE;
        }
    };
    let address = listener.local_addr().expect("a bound address");
    if args.allow_remote {
        eprintln!(
            "local-stack: WARNING: --allow-remote: the inbox (every code and link) and the admin operations are \
             reachable by anyone who can reach port {}; serve remote names with --allow-host NAME",
            address.port()
        );
    }
    let (router, stack) = match start(address, args.options.clone()).await {
        Ok(built) => built,
        Err(e) => {
            eprintln!("local-stack: {e}");
            return ExitCode::FAILURE;
        }
    };
    let c = &stack.pool.config;
    let o = &stack.origin;
    println!(
        "local-stack is running ({}). Open:\n  {o}/            sign in\n  {o}/signup      create an account\n  \
         {o}/inbox       the local inbox\n  {o}/dev/queue   the mail queue\n\
         Cognito endpoint {o} (user pool {}, client {}); JWKS {}/.well-known/jwks.json\nCtrl-C stops it.",
        if args.options.aws { "SQS and SES v2 through the SDK" } else { "everything in this process" },
        c.user_pool_id,
        c.client_id,
        c.issuer
    );
    let router = local_cognito::host::guard(router, HostAllowList::new(address, &args.allow_hosts));
    // Ctrl-C or SIGTERM: stop taking requests, give open ones a second (a browser's idle
    // keep-alive connection must not hold the stop), stop the mail worker, keep or drop what is
    // still queued. Within 2 seconds whatever is queued.
    let served = local_cognito::serve_until(listener, router, shutdown, std::time::Duration::from_secs(1)).await;
    let undelivered = stack.stop(std::time::Duration::from_millis(700)).await;
    if let Err(e) = served {
        eprintln!("local-stack: {e}");
        return ExitCode::FAILURE;
    }
    match undelivered {
        Undelivered::None => println!("local-stack stopped."),
        Undelivered::Kept(n, file) => {
            println!(
                "local-stack stopped. {n} emails not delivered yet are kept in {} for the next start.",
                file.display()
            )
        }
        Undelivered::Dropped(n) => {
            println!("local-stack stopped. {n} emails not delivered yet were dropped (--state DIR keeps them).")
        }
    }
    ExitCode::SUCCESS
}
