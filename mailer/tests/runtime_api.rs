//! The `mailer` binary, built as Lambda runs it, against the Lambda Runtime API and moto: a batch
//! with a good and a poison message gets a partial batch response; bad configuration stops start-up.

use mail_job::read_fixture;
use serde_json::json;
use testkit::{Moto, rie, sqs_record as record};

const MAILER: &str = env!("CARGO_BIN_EXE_mailer");

#[tokio::test]
async fn the_binary_sends_good_jobs_and_reports_the_poison_one() {
    let moto = Moto::start();
    let ses = aws_sdk_sesv2::Client::new(&moto.sdk_config().await);
    moto.verify_domain(&ses, "acme.example").await;
    // A job that expires far in the future, so the binary's real clock does not drop it.
    let job = read_fixture("login_link.json").replace("2026-11-25T18:03:00Z", "2999-01-01T00:00:00Z");
    let event = json!({"Records": [record("good", &job), record("poison", "[]")]});
    let mut env = moto.env();
    env.push(("MAIL_FROM".into(), "Acme <no-reply@acme.example>".into()));
    let report =
        tokio::task::spawn_blocking(move || rie::run(MAILER, &[event, json!({"Records": 7})], &env, 30)).await.unwrap();
    assert!(report.ok(0), "{:?}", report.raw);
    assert_eq!(report.body(0), &json!({"batchItemFailures": [{"itemIdentifier": "poison"}]}));
    assert!(!report.ok(1), "an event that is not an SQS event is an error");
    let sent = moto.sent_emails();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["destinations"]["ToAddresses"][0], "\"alice\" <alice@example.com>");
    let logs = report.output();
    assert!(logs.contains("b1946ac92492d2347c6235b4d2611184") && logs.contains("poison"), "{logs}");
    assert!(!logs.contains("482913") && !logs.contains("alice@example.com"), "{logs}");
    // Metrics in Embedded Metric Format, one line each: the send by template and language, the
    // poison job, and SES's latency.
    let metrics: Vec<serde_json::Value> = logs
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v.get("_aws").is_some())
        .collect();
    let sent = metrics.iter().find(|m| m.get("EmailsSent").is_some()).expect("an EmailsSent metric");
    assert_eq!((sent["Template"].as_str(), sent["Locale"].as_str()), (Some("login_link"), Some("en")));
    assert_eq!(sent["_aws"]["CloudWatchMetrics"][0]["Namespace"], "Passwordless");
    let poison = metrics.iter().find(|m| m.get("EmailsFailedPermanent").is_some()).expect("the poison job counted");
    assert_eq!(poison["Template"], "unreadable");
    assert!(metrics.iter().any(|m| m["SesSendLatency"].as_f64().is_some_and(|ms| ms > 0.0)));
}

#[test]
fn missing_mail_from_stops_start_up_naming_it() {
    let report = rie::run(MAILER, &[json!({"Records": []})], &[], 10);
    assert!(report.results().is_empty());
    let init_error = report.raw["init_error"].as_str().unwrap_or_default();
    assert!(init_error.contains("missing required environment variable MAIL_FROM"), "{:?}", report.raw);
}
