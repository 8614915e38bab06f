use super::*;
use lambda_support::Env;
use mail_job::read_fixture;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use testkit::sqs_record as record;

/// A fake provider: records emails, fails for chosen recipients, and tracks how many sends
/// overlap.
#[derive(Default)]
struct FakeSender {
    sent: Mutex<Vec<OutgoingEmail>>,
    fail_for: Vec<(&'static str, SendError)>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

impl EmailSender for FakeSender {
    async fn send(&self, email: &OutgoingEmail) -> Result<String, SendError> {
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_in_flight.fetch_max(now, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(20)).await;
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        if let Some((_, e)) = self.fail_for.iter().find(|(to, _)| email.to.address.as_str() == *to) {
            return Err(e.clone());
        }
        self.sent.lock().unwrap().push(email.clone());
        Ok(format!("ses-{}", self.sent.lock().unwrap().len()))
    }
}

fn mailer(sender: FakeSender, max: &str) -> Mailer<FakeSender> {
    let config = MailerConfig::from_env(&Env::from_pairs([
        ("MAIL_FROM", "Acme <no-reply@acme.example>"),
        ("SES_CONFIGURATION_SET", "passwordless"),
        ("MAX_CONCURRENT_SENDS", max),
    ]))
    .unwrap();
    Mailer::new(config, sender)
}

fn created() -> DateTime<Utc> {
    "2026-11-25T18:00:00Z".parse().unwrap()
}

fn job_for(email: &str) -> String {
    read_fixture("login_link.json").replace("alice@example.com", email)
}

fn event(records: Vec<serde_json::Value>) -> SqsEvent {
    serde_json::from_value(serde_json::json!({ "Records": records })).unwrap()
}

fn failed_ids(response: &SqsBatchResponse) -> Vec<String> {
    let mut ids: Vec<String> = response.batch_item_failures.iter().map(|f| f.item_identifier.clone()).collect();
    ids.sort();
    ids
}

#[tokio::test]
async fn one_bad_message_never_holds_back_the_others() {
    let m = mailer(FakeSender::default(), "10");
    let batch = event(vec![
        record("good-1", &job_for("a@example.com")),
        record("poison", "{not json"),
        record("good-2", &job_for("b@example.com")),
        record("unknown-version", &read_fixture("invalid/unsupported_version.json")),
        record("unknown-template", &read_fixture("invalid/unknown_template.json")),
    ]);
    let response = m.handle(batch, created()).await;
    assert_eq!(failed_ids(&response), ["poison", "unknown-template", "unknown-version"]);
    assert_eq!(m.sender.sent.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn every_error_class_has_its_outcome() {
    let sender = FakeSender {
        fail_for: vec![
            ("throttled@example.com", SendError::transient("TooManyRequestsException")),
            ("rejected@example.com", SendError::permanent("MessageRejected")),
        ],
        ..Default::default()
    };
    let m = mailer(sender, "10");
    let now = created();
    assert!(matches!(m.process_body(&job_for("ok@example.com"), now).await, Outcome::Sent { .. }));
    let Outcome::Failed(t) = m.process_body(&job_for("throttled@example.com"), now).await else { panic!() };
    assert_eq!(t.kind, Retry::Transient);
    let Outcome::Failed(p) = m.process_body(&job_for("rejected@example.com"), now).await else { panic!() };
    assert_eq!(p.kind, Retry::Permanent);
    let Outcome::Failed(bad_address) = m.process_body(&job_for("not-an-address"), now).await else { panic!() };
    assert_eq!(bad_address.kind, Retry::Permanent);
    let Outcome::Failed(header_injection) =
        m.process_body(&job_for("a@example.com\\r\\nBcc: b@example.com"), now).await
    else {
        panic!()
    };
    assert_eq!(header_injection.kind, Retry::Permanent);
    let Outcome::Failed(unparseable) = m.process_body("", now).await else { panic!() };
    assert_eq!(unparseable.kind, Retry::Permanent);
    assert_eq!(m.sender.sent.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn an_expired_login_job_is_dropped_not_failed() {
    let m = mailer(FakeSender::default(), "10");
    let late = created() + chrono::Duration::minutes(3);
    let response = m.handle(event(vec![record("late", &job_for("a@example.com"))]), late).await;
    assert!(response.batch_item_failures.is_empty());
    assert!(m.sender.sent.lock().unwrap().is_empty());
    let Outcome::Failed(e) = m.process_body(&job_for("not-an-address"), late).await else {
        panic!("an unsendable job is a failure even when late")
    };
    assert_eq!(e.kind, Retry::Permanent);
}

#[tokio::test]
async fn sends_run_concurrently_up_to_the_limit() {
    let records: Vec<_> = (0..10).map(|i| record(&format!("m{i}"), &job_for(&format!("u{i}@example.com")))).collect();
    let m = mailer(FakeSender::default(), "4");
    let response = m.handle(event(records.clone()), created()).await;
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(m.sender.max_in_flight.load(Ordering::SeqCst), 4);
    let serial = mailer(FakeSender::default(), "1");
    serial.handle(event(records), created()).await;
    assert_eq!(serial.sender.max_in_flight.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn the_email_is_addressed_tagged_and_configured() {
    let m = mailer(FakeSender::default(), "10");
    let body = read_fixture("login_link_unicode.json");
    assert!(matches!(m.process_body(&body, created()).await, Outcome::Sent { .. }));
    let sent = m.sender.sent.lock().unwrap();
    let email = &sent[0];
    assert_eq!(email.from, "\"Acme\" <no-reply@acme.example>");
    assert_eq!(email.to.to_header(), "=?UTF-8?B?Wm/Dqyt0ZXN0Jng9MQ==?= <zoe+test@example.com>");
    assert_eq!(email.configuration_set.as_deref(), Some("passwordless"));
    assert_eq!(email.tags, [("template".to_string(), "login_link".to_string()), ("locale".into(), "de".into())]);
    assert_eq!(email.subject, "Bei Acme anmelden");
}

#[tokio::test]
async fn a_job_with_a_delivery_id_tags_the_message_with_it_for_the_feedback() {
    let m = mailer(FakeSender::default(), "10");
    let mut job: serde_json::Value = serde_json::from_str(&read_fixture("login_link_unicode.json")).unwrap();
    job["delivery"] = "0123456789abcdef0123456789abcdef".into();
    assert!(matches!(m.process_body(&job.to_string(), created()).await, Outcome::Sent { .. }));
    let tagged = m.sender.sent.lock().unwrap()[0].tags.clone();
    assert!(tagged.contains(&("delivery".to_string(), "0123456789abcdef0123456789abcdef".to_string())));
    job["delivery"] = "not-hex".into();
    assert!(matches!(m.process_body(&job.to_string(), created()).await, Outcome::Failed(_)), "a bad id is a bad job");
}

/// Records what the mailer asked of the queue; dead-letters succeed.
#[derive(Default)]
struct FakeQueue {
    retries: Mutex<Vec<(String, Duration)>>,
    dead: Mutex<Vec<(String, String)>>,
}

impl crate::redelivery::Redelivery for &FakeQueue {
    async fn retry_after(&self, record: &SqsMessage, delay: Duration) {
        self.retries.lock().unwrap().push((record.message_id.clone().unwrap(), delay));
    }

    async fn dead_letter(&self, record: &SqsMessage, reason: &str) -> bool {
        self.dead.lock().unwrap().push((record.message_id.clone().unwrap(), reason.to_string()));
        true
    }
}

#[tokio::test]
async fn a_transient_failure_comes_back_in_seconds_and_a_permanent_one_goes_to_the_dead_letter_queue_now() {
    let sender = FakeSender {
        fail_for: vec![
            ("throttled@example.com", SendError::transient("SES TooManyRequestsException (HTTP 429, request id r)")),
            ("rejected@example.com", SendError::permanent("SES MessageRejected (HTTP 400, request id r)")),
        ],
        ..Default::default()
    };
    let queue = FakeQueue::default();
    let m = mailer(sender, "10").with_redelivery(&queue);
    let mut throttled = record("throttled", &job_for("throttled@example.com"));
    throttled["attributes"]["ApproximateReceiveCount"] = "3".into();
    let batch = event(vec![
        throttled,
        record("rejected", &job_for("rejected@example.com")),
        record("poison", "{not json"),
        record("ok", &job_for("ok@example.com")),
    ]);
    let response = m.handle(batch, created()).await;
    assert_eq!(failed_ids(&response), ["throttled"], "dead-lettered messages are done, not reported");
    assert_eq!(*queue.retries.lock().unwrap(), [("throttled".to_string(), Duration::from_secs(4))]);
    let mut dead = queue.dead.lock().unwrap().clone();
    dead.sort();
    assert_eq!(dead[0].0, "poison");
    assert_eq!(dead[1], ("rejected".to_string(), "SES MessageRejected (HTTP 400, request id r)".to_string()));
}

#[tokio::test]
async fn without_a_dead_letter_queue_permanent_failures_are_reported() {
    let sender =
        FakeSender { fail_for: vec![("rejected@example.com", SendError::permanent("x"))], ..Default::default() };
    let m = mailer(sender, "10").with_redelivery(None::<crate::redelivery::SqsRedelivery>);
    let response = m.handle(event(vec![record("rejected", &job_for("rejected@example.com"))]), created()).await;
    assert_eq!(failed_ids(&response), ["rejected"]);
}

#[tokio::test]
async fn sends_not_started_before_the_deadline_are_reported_never_timed_out() {
    let queue = FakeQueue::default();
    let mut m = mailer(FakeSender::default(), "1").with_redelivery(&queue);
    // Each fake send takes 20 ms; a send starts only while 50 ms are left of 130 ms.
    m.config.send_budget = Duration::from_millis(50);
    let records: Vec<_> = (0..10).map(|i| record(&format!("m{i}"), &job_for(&format!("u{i}@example.com")))).collect();
    let started = tokio::time::Instant::now();
    let deadline = started + Duration::from_millis(130);
    let response = m.handle_until(event(records), created(), Some(deadline)).await;
    let sent = m.sender.sent.lock().unwrap().len();
    let deferred = failed_ids(&response);
    assert!((2..=5).contains(&sent), "{sent} sent");
    assert_eq!(sent + deferred.len(), 10, "every message is either sent or reported");
    assert!(tokio::time::Instant::now() <= deadline + Duration::from_millis(30), "the batch answered in time");
    let retries = queue.retries.lock().unwrap();
    assert_eq!(retries.len(), deferred.len());
    assert!(retries.iter().all(|(_, d)| d.is_zero()), "deferred messages are visible again at once");
}
