//! The `mail-jobs` binary end to end on moto: the mailer dead-letters jobs SES rejects (the sender
//! identity is not verified yet), the operator lists and inspects them, fixes the cause, replays
//! them, and the mailer sends them; expired login jobs stay behind and are purged.

use lambda_support::Env;
use mailer::batch::Mailer;
use mailer::config::MailerConfig;
use mailer::redelivery::SqsRedelivery;
use mailer::ses::SesSender;
use serde_json::json;
use std::process::Command;
use testkit::{Moto, delete_unreported, receive, sqs_event};

fn mail_jobs(moto: &Moto, env: &[(&str, &str)], args: &[&str]) -> (bool, String, String) {
    let out =
        Command::new(testkit::bin("mail-jobs")).args(args).envs(moto.env()).envs(env.iter().copied()).output().unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into(), String::from_utf8_lossy(&out.stderr).into())
}

fn login_job(id: &str, email: &str, expires_in: i64) -> String {
    let now = chrono::Utc::now();
    let mut job: serde_json::Value = serde_json::from_str(&mail_job::read_fixture("login_link.json")).unwrap();
    job["id"] = json!(id);
    job["to"]["email"] = json!(email);
    job["created_at"] = json!((now - chrono::Duration::seconds(5)).to_rfc3339());
    job["expires_at"] = json!((now + chrono::Duration::seconds(expires_in)).to_rfc3339());
    job.to_string()
}

#[tokio::test]
async fn dead_letter_list_show_replay_send_and_purge() {
    let moto = Moto::start();
    let sdk = moto.sdk_config().await;
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let ses = aws_sdk_sesv2::Client::new(&sdk);
    let dlq_url = moto.create_queue(&sqs, "mail-dlq").await;
    let queue_url = moto.create_queue(&sqs, "mail").await;
    let arn = moto.queue_arn(&sqs, &queue_url).await;
    let mailer = Mailer::new(
        MailerConfig::from_env(&Env::from_pairs([("MAIL_FROM", "Acme <no-reply@acme.example>")])).unwrap(),
        SesSender::new(ses.clone()),
    )
    .with_redelivery(SqsRedelivery::new(sqs.clone(), dlq_url.clone(), Some(queue_url.clone())));
    let deliver = || async {
        let messages = receive(&sqs, &queue_url).await;
        let response =
            mailer.handle(serde_json::from_value(sqs_event(&messages, &arn)).unwrap(), chrono::Utc::now()).await;
        let reported: Vec<&str> = response.batch_item_failures.iter().map(|f| f.item_identifier.as_str()).collect();
        delete_unreported(&sqs, &queue_url, &messages, &reported).await;
        messages.len()
    };

    // The identity is not verified: SES rejects, the mailer dead-letters at once.
    for (id, email) in [("job-ana", "ana@example.com"), ("job-ben", "ben@example.com")] {
        sqs.send_message().queue_url(&queue_url).message_body(login_job(id, email, 600)).send().await.unwrap();
    }
    assert_eq!(deliver().await, 2);
    sqs.send_message()
        .queue_url(&dlq_url)
        .message_body(login_job("job-old", "old@example.com", -60))
        .send()
        .await
        .unwrap();

    let dlq = [("MAIL_DLQ_URL", dlq_url.as_str())];
    let (ok, list, progress) = mail_jobs(&moto, &dlq, &["dlq", "list"]);
    assert!(ok, "{progress}");
    for expected in
        ["job-ana", "job-ben", "job-old", "a***@example.com", "login_link", "SES MessageRejected", "(redrive policy)"]
    {
        assert!(list.contains(expected), "{expected} missing from:\n{list}");
    }
    assert!(progress.contains("3 job(s) in the dead-letter queue"));
    assert!(!list.contains("ana@example.com"), "no full address");

    let (ok, shown, _) = mail_jobs(&moto, &dlq, &["dlq", "show", "job-ana"]);
    assert!(ok);
    let shown: serde_json::Value = serde_json::from_str(&shown).unwrap();
    assert_eq!(shown["job"]["data"]["code"], "(redacted)");
    assert_eq!(shown["job"]["data"]["link"], "(redacted)");
    assert_eq!(shown["job"]["to"]["email"], "a***@example.com");
    assert!(shown["error"].as_str().unwrap().starts_with("SES MessageRejected"));

    // The operator fixes the cause and replays: the valid jobs go back, the expired one stays.
    moto.verify_domain(&ses, "acme.example").await;
    let both = [("MAIL_DLQ_URL", dlq_url.as_str()), ("MAIL_QUEUE_URL", queue_url.as_str())];
    let (ok, replayed, _) = mail_jobs(&moto, &both, &["dlq", "replay", "--still-valid"]);
    assert!(ok);
    assert!(replayed.contains("moved 2 job(s)") && replayed.contains("1 expired login job(s) left"), "{replayed}");
    assert_eq!(deliver().await, 2);
    let sent: Vec<String> =
        moto.sent_emails().iter().map(|m| m["destinations"]["ToAddresses"][0].as_str().unwrap().to_string()).collect();
    assert_eq!(sent.len(), 2, "{sent:?}");
    let (_, again, _) = mail_jobs(&moto, &both, &["dlq", "replay"]);
    assert!(again.contains("moved 0 job(s)"), "replaying twice moves nothing twice: {again}");

    let (ok, purged, _) = mail_jobs(&moto, &dlq, &["dlq", "purge", "--older-than", "0s"]);
    assert!(ok && purged.contains("purged 1 job(s)"), "{purged}");
    let (_, empty, progress) = mail_jobs(&moto, &dlq, &["dlq", "list"]);
    assert!(!empty.contains("job-old") && progress.contains("0 job(s)"));

    let wrong = format!("{}/123456789012/no-such-queue", moto.endpoint);
    let (ok, _, err) = mail_jobs(&moto, &[("MAIL_DLQ_URL", wrong.as_str())], &["dlq", "list"]);
    assert!(!ok);
    assert!(err.contains("does not exist") && err.contains("no-such-queue"), "{err}");
    let (ok, _, err) = mail_jobs(&moto, &[], &["dlq", "list"]);
    assert!(!ok && err.contains("MAIL_DLQ_URL"), "{err}");
}
