//! A batch with a sent, a rejected and a poison message, with every log line captured at TRACE:
//! ids are there, the code, the link and the addresses are not. Alone in its test binary: tracing
//! caches per-callsite interest process-wide, so a parallel test without the capturing subscriber
//! could hide this test's events.

use lambda_support::Env;
use mail_job::read_fixture;
use mailer::batch::Mailer;
use mailer::config::MailerConfig;
use mailer::send::{EmailSender, OutgoingEmail, SendError};
use testkit::logs::CapturedLogs;
use testkit::sqs_record;

/// Accepts every email except those to rejected@example.com, which SES would refuse.
struct RejectingSender;

impl EmailSender for RejectingSender {
    async fn send(&self, email: &OutgoingEmail) -> Result<String, SendError> {
        if email.to.address.as_str() == "rejected@example.com" {
            Err(SendError::permanent("MessageRejected: Email address is not verified."))
        } else {
            Ok("ses-0001".into())
        }
    }
}

#[tokio::test]
async fn logs_carry_ids_but_never_secrets() {
    let logs = CapturedLogs::default();
    let _guard = logs.install();
    let config = MailerConfig::from_env(&Env::from_pairs([("MAIL_FROM", "Acme <no-reply@acme.example>")])).unwrap();
    let mailer = Mailer::new(config, RejectingSender);
    let job = read_fixture("login_link.json");
    let event = serde_json::json!({"Records": [
        sqs_record("m-ok", &job),
        sqs_record("m-rejected", &job.replace("alice@example.com", "rejected@example.com")),
        sqs_record("m-poison", "nope"),
    ]});
    let created = "2026-11-25T18:00:00Z".parse().unwrap();
    let response = mailer.handle(serde_json::from_value(event).unwrap(), created).await;
    assert_eq!(response.batch_item_failures.len(), 2);
    let text = logs.text();
    for expected in
        ["b1946ac92492d2347c6235b4d2611184", "m-ok", "m-rejected", "m-poison", "ses-0001", "will never succeed"]
    {
        assert!(text.contains(expected), "missing {expected}: {text}");
    }
    for secret in ["482913", "verify-login", "alice@example.com", "rejected@example.com"] {
        assert!(!text.contains(secret), "leaked {secret}: {text}");
    }
}
