//! `mail-jobs`: arguments and wiring only.

use lambda_support::Env;
use mail_jobs::suppression::{Standing, Suppressions};
use mail_jobs::{CliError, Dlq, Row, parse_duration, redacted};
use std::io::Write;
use std::process::ExitCode;

const USAGE: &str = "usage:
  mail-jobs dlq list                          the dead-lettered jobs: id, template, locale, age, masked recipient, last error
  mail-jobs dlq show ID                       one job (by job id or SQS message id), secrets redacted
  mail-jobs dlq replay [--still-valid|--force] move jobs back to the mail queue; expired login jobs stay
                                              unless --force (--still-valid, the default, says so)
  mail-jobs dlq purge --older-than DURATION   delete jobs older than e.g. 7d, 12h, 30m
  mail-jobs suppression list                  suppressed addresses: the product's (hashed keys) and SES's (masked)
  mail-jobs suppression show ADDRESS          whether the product and SES suppress this address, and why
  mail-jobs suppression remove ADDRESS        clear both, so the address gets email again

Queues: --dlq-url URL / --queue-url URL, or MAIL_DLQ_URL / MAIL_QUEUE_URL. AWS endpoints,
region and credentials come from the SDK's standard variables (AWS_ENDPOINT_URL, AWS_REGION, ...).
Suppression: the table from --table or AUTH_STATE_TABLE, the pool from --user-pool-id or
COGNITO_USER_POOL_ID (the keys are salted with it), SES v2 in the same account and region.";

struct Args {
    words: Vec<String>,
    dlq_url: Option<String>,
    queue_url: Option<String>,
    older_than: Option<String>,
    force: bool,
    table: Option<String>,
    user_pool_id: Option<String>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        words: Vec::new(),
        dlq_url: None,
        queue_url: None,
        older_than: None,
        force: false,
        table: None,
        user_pool_id: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "--dlq-url" => args.dlq_url = Some(value("--dlq-url")?),
            "--queue-url" => args.queue_url = Some(value("--queue-url")?),
            "--older-than" => args.older_than = Some(value("--older-than")?),
            "--force" => args.force = true,
            "--table" => args.table = Some(value("--table")?),
            "--user-pool-id" => args.user_pool_id = Some(value("--user-pool-id")?),
            "--still-valid" => args.force = false,
            "-h" | "--help" => return Err(String::new()),
            other if other.starts_with("--") => return Err(format!("unknown option {other}")),
            other => args.words.push(other.to_string()),
        }
    }
    Ok(args)
}

fn required(flag: Option<String>, variable: &'static str, env: &Env, option: &str) -> Result<String, CliError> {
    flag.or_else(|| env.optional(variable).map(str::to_string))
        .ok_or_else(|| CliError::Usage(format!("give it with {option} or {variable}")))
}

async fn suppression(args: &Args, env: &Env, sdk: &lambda_support::SdkConfig, words: &[&str]) -> Result<(), CliError> {
    let suppressions = Suppressions {
        table: required(args.table.clone(), "AUTH_STATE_TABLE", env, "--table")?,
        user_pool_id: required(args.user_pool_id.clone(), "COGNITO_USER_POOL_ID", env, "--user-pool-id")?,
        dynamodb: aws_sdk_dynamodb::Client::new(sdk),
        ses: aws_sdk_sesv2::Client::new(sdk),
    };
    let failed = |e: mail_jobs::suppression::SuppressionError| CliError::Sqs(e.to_string());
    let describe = |s: &Standing| {
        let product = match &s.product {
            Some((reason, at)) => format!(
                "suppressed ({reason}, since {})",
                chrono::DateTime::from_timestamp(*at, 0).unwrap_or_default().to_rfc3339()
            ),
            None => "not suppressed".into(),
        };
        let ses = s.ses.as_deref().map_or("not on the account's suppression list".to_string(), |r| {
            format!("on the account's suppression list ({r})")
        });
        format!("product: {product}\nSES: {ses}")
    };
    match words {
        ["suppression", "list"] => {
            let listed = suppressions.list().await.map_err(failed)?;
            println!("{:<8} {:<28} {:<18} since", "source", "address or key", "reason");
            for l in &listed {
                println!("{:<8} {:<28} {:<18} {}", l.source, l.who, l.reason, l.since);
            }
            eprintln!("{} suppressed entr{}", listed.len(), if listed.len() == 1 { "y" } else { "ies" });
        }
        ["suppression", "show", address] => {
            println!("{}", describe(&suppressions.show(address).await.map_err(failed)?))
        }
        ["suppression", "remove", address] => {
            let before = suppressions.remove(address).await.map_err(failed)?;
            println!("before:\n{}\nremoved: the address gets email again", describe(&before));
        }
        _ => return Err(CliError::Usage(String::new())),
    }
    Ok(())
}

async fn run(args: Args) -> Result<(), CliError> {
    let env = Env::from_process();
    let words: Vec<&str> = args.words.iter().map(String::as_str).collect();
    let known = matches!(
        words.as_slice(),
        ["dlq", "list" | "replay" | "purge"]
            | ["dlq", "show", _]
            | ["suppression", "list"]
            | ["suppression", "show" | "remove", _]
    );
    if !known {
        let what =
            if words.is_empty() { "no command".to_string() } else { format!("unknown command {:?}", words.join(" ")) };
        return Err(CliError::Usage(what));
    }
    let sdk = lambda_support::sdk_config(lambda_support::SdkTimeouts {
        connect: std::time::Duration::from_secs(3),
        attempt: std::time::Duration::from_secs(10),
        operation: std::time::Duration::from_secs(30),
    })
    .await;
    if words[0] == "suppression" {
        return suppression(&args, &env, &sdk, &words).await;
    }
    let dlq_url = required(args.dlq_url.clone(), "MAIL_DLQ_URL", &env, "--dlq-url")?;
    let dlq = Dlq { client: aws_sdk_sqs::Client::new(&sdk), url: dlq_url };
    let now = chrono::Utc::now();
    let progress = |what: &'static str| {
        move |n: usize| {
            if n.is_multiple_of(100) {
                eprint!("\r{what} {n}…");
                let _ = std::io::stderr().flush();
            }
        }
    };
    match words.as_slice() {
        ["dlq", "list"] => {
            let letters = dlq.scan(10_000, progress("read")).await?;
            println!("{:<34} {:<12} {:<6} {:>8}  {:<24} last error", "id", "template", "locale", "age", "recipient");
            for l in &letters {
                let r = Row::of(l, now);
                println!(
                    "{:<34} {:<12} {:<6} {:>8}  {:<24} {}",
                    r.id, r.template, r.locale, r.age, r.recipient, r.error
                );
            }
            eprintln!("{} job(s) in the dead-letter queue", letters.len());
        }
        ["dlq", "show", id] => {
            let letters = dlq.scan(10_000, progress("read")).await?;
            let found = letters
                .iter()
                .find(|l| l.message_id == *id || l.job().is_some_and(|j| j.id.as_str() == *id))
                .ok_or_else(|| CliError::Usage(format!("no job {id} in the dead-letter queue")))?;
            println!("{}", serde_json::to_string_pretty(&redacted(found)).expect("JSON"));
        }
        ["dlq", "replay"] => {
            let queue_url = required(args.queue_url.clone(), "MAIL_QUEUE_URL", &env, "--queue-url")?;
            let done = dlq.replay(&queue_url, args.force, now, progress("moved")).await?;
            println!(
                "moved {} job(s) back to the mail queue; {} expired login job(s) left in the dead-letter queue{}",
                done.moved,
                done.skipped_expired,
                if done.skipped_expired > 0 { " (--force moves them too; the mailer then drops them)" } else { "" }
            );
        }
        ["dlq", "purge"] => {
            let older_than = parse_duration(
                args.older_than.as_deref().ok_or_else(|| CliError::Usage("purge needs --older-than".into()))?,
            )?;
            println!("purged {} job(s)", dlq.purge(older_than, now).await?);
        }
        _ => return Err(CliError::Usage(String::new())),
    }
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(e) => return lambda_support::local::usage_error("mail-jobs", &e, USAGE),
    };
    match run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(CliError::Usage(e)) => lambda_support::local::usage_error("mail-jobs", &e, USAGE),
        Err(e) => {
            eprintln!("mail-jobs: {e}");
            ExitCode::FAILURE
        }
    }
}
