//! `mail-jobs`: arguments and wiring only.

use lambda_support::Env;
use mail_jobs::{CliError, Dlq, Row, parse_duration, redacted};
use std::io::Write;
use std::process::ExitCode;

const USAGE: &str = "usage:
  mail-jobs dlq list                          the dead-lettered jobs: id, template, locale, age, masked recipient, last error
  mail-jobs dlq show ID                       one job (by job id or SQS message id), secrets redacted
  mail-jobs dlq replay [--still-valid|--force] move jobs back to the mail queue; expired login jobs stay
                                              unless --force (--still-valid, the default, says so)
  mail-jobs dlq purge --older-than DURATION   delete jobs older than e.g. 7d, 12h, 30m

Queues: --dlq-url URL / --queue-url URL, or MAIL_DLQ_URL / MAIL_QUEUE_URL. AWS endpoints,
region and credentials come from the SDK's standard variables (AWS_ENDPOINT_URL, AWS_REGION, ...).";

struct Args {
    words: Vec<String>,
    dlq_url: Option<String>,
    queue_url: Option<String>,
    older_than: Option<String>,
    force: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args { words: Vec::new(), dlq_url: None, queue_url: None, older_than: None, force: false };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "--dlq-url" => args.dlq_url = Some(value("--dlq-url")?),
            "--queue-url" => args.queue_url = Some(value("--queue-url")?),
            "--older-than" => args.older_than = Some(value("--older-than")?),
            "--force" => args.force = true,
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
        .ok_or_else(|| CliError::Usage(format!("give the queue with {option} or {variable}")))
}

async fn run(args: Args) -> Result<(), CliError> {
    let env = Env::from_process();
    let words: Vec<&str> = args.words.iter().map(String::as_str).collect();
    if !matches!(words.as_slice(), ["dlq", "list" | "replay" | "purge"] | ["dlq", "show", _]) {
        let what =
            if words.is_empty() { "no command".to_string() } else { format!("unknown command {:?}", words.join(" ")) };
        return Err(CliError::Usage(what));
    }
    let dlq_url = required(args.dlq_url.clone(), "MAIL_DLQ_URL", &env, "--dlq-url")?;
    let sdk = lambda_support::sdk_config(lambda_support::SdkTimeouts {
        connect: std::time::Duration::from_secs(3),
        attempt: std::time::Duration::from_secs(10),
        operation: std::time::Duration::from_secs(30),
    })
    .await;
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
