//! The whole mail path over the real protocols, against moto: the create-challenge trigger's SQS
//! adapter enqueues, messages are received as the event source mapping would, the mailer renders
//! and sends through SES v2, a poison message is reported while the good ones go out, and the
//! redrive policy finally moves the poison message to the dead-letter queue.

use lambda_support::Env;
use mailer::batch::Mailer;
use mailer::config::MailerConfig;
use mailer::ses::SesSender;
use std::time::Duration;
use testkit::{MailQueues, Moto, delete_unreported, receive, sqs_event};
use triggers::create::{CreateChallenge, CreateConfig};
use triggers::fixtures;
use triggers::mail_queue::SqsMailQueue;

#[tokio::test]
async fn jobs_flow_from_the_trigger_through_sqs_to_ses_and_poison_reaches_the_dlq() {
    let moto = Moto::start();
    let config = moto.sdk_config().await;
    let sqs = aws_sdk_sqs::Client::new(&config);
    let ses = aws_sdk_sesv2::Client::new(&config);
    moto.verify_domain(&ses, "acme.example").await;

    let MailQueues { url: queue_url, arn, dlq_url } = moto.mail_queues(&sqs, 1, 2).await;

    // Two real jobs from the trigger, and one poison body.
    let trigger = CreateChallenge::new(
        CreateConfig::from_env(&Env::from_pairs([
            ("MAIL_QUEUE_URL", queue_url.as_str()),
            ("LOGIN_URL", "https://app.example.com/verify-login"),
        ]))
        .unwrap(),
        SqsMailQueue::new(sqs.clone(), queue_url.clone()),
        triggers::auth_state::store::MemoryStore::new(),
    );
    let now = chrono::Utc::now();
    trigger.handle(fixtures::event("create_first_challenge.json"), now).await.unwrap();
    trigger.handle(fixtures::event("create_unicode_username.json"), now).await.unwrap();
    sqs.send_message().queue_url(&queue_url).message_body("{\"version\": 1, \"oops\": true}").send().await.unwrap();

    let mailer = Mailer::new(
        MailerConfig::from_env(&Env::from_pairs([("MAIL_FROM", "Acme <no-reply@acme.example>")])).unwrap(),
        SesSender::new(ses.clone()),
    );

    let messages = receive(&sqs, &queue_url).await;
    assert_eq!(messages.len(), 3);
    let poison_id =
        messages.iter().find(|m| m.body().unwrap().contains("oops")).unwrap().message_id().unwrap().to_string();
    let event = serde_json::from_value(sqs_event(&messages, &arn)).unwrap();
    let response = mailer.handle(event, chrono::Utc::now()).await;
    let failed: Vec<&str> = response.batch_item_failures.iter().map(|f| f.item_identifier.as_str()).collect();
    assert_eq!(failed, [poison_id.as_str()]);
    // The event source mapping deletes what was not reported.
    delete_unreported(&sqs, &queue_url, &messages, &failed).await;

    let sent = moto.sent_emails();
    assert_eq!(sent.len(), 2, "{sent:?}");
    let to_alice = sent
        .iter()
        .find(|m| m["destinations"]["ToAddresses"][0] == "\"alice\" <alice@example.com>")
        .expect("alice's email");
    assert_eq!(to_alice["source"], "\"Acme\" <no-reply@acme.example>");
    assert_eq!(to_alice["subject"], "Connexion à Acme", "alice's locale is fr");
    let html = to_alice["body"].as_str().unwrap();
    let code = e2e::code_in(html);
    assert_eq!(code.len(), 8);
    assert!(html.contains(&format!("/verify-login#v=2&#38;username=alice&#38;code={code}")), "{html}");
    assert!(html.contains(&format!(">{code}</td>")), "{html}");
    assert!(
        sent.iter().any(|m| m["destinations"]["ToAddresses"][0].as_str().unwrap().ends_with("<zoe+test@example.com>"))
    );

    // The poison message comes back after its visibility timeout, fails again, and on the next
    // receive the redrive policy (maxReceiveCount 2) moves it to the dead-letter queue.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let again = receive(&sqs, &queue_url).await;
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].message_id(), Some(poison_id.as_str()));
    let response = mailer.handle(serde_json::from_value(sqs_event(&again, &arn)).unwrap(), chrono::Utc::now()).await;
    assert_eq!(response.batch_item_failures.len(), 1);
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert!(receive(&sqs, &queue_url).await.is_empty(), "no longer delivered from the main queue");
    let dead = receive(&sqs, &dlq_url).await;
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].body(), Some("{\"version\": 1, \"oops\": true}"));
    assert_eq!(moto.sent_emails().len(), 2, "nothing else was sent");
}
