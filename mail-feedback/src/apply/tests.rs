use super::*;
use triggers::auth_state::MailboxState;
use triggers::auth_state::delivery::DeliveryState;
use triggers::auth_state::store::MemoryStore;

const POOL: &str = "us-east-1_test";
const ID: &str = "0123456789abcdef0123456789abcdef";

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!("{}/fixtures/{name}.json", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn feedback() -> MailFeedback<MemoryStore> {
    MailFeedback::new(FeedbackConfig { user_pool_id: POOL.into() }, MemoryStore::new())
}

async fn status(f: &MailFeedback<MemoryStore>) -> DeliveryState {
    f.store.load::<DeliveryState>(&StateKey::delivery(POOL, ID)).await.unwrap().state
}

async fn mailbox(f: &MailFeedback<MemoryStore>, address: &str) -> MailboxState {
    f.store.load::<MailboxState>(&StateKey::mailbox(POOL, address).unwrap()).await.unwrap().state
}

/// Why the exact address is suppressed, if it is.
async fn suppressed(f: &MailFeedback<MemoryStore>, address: &str) -> Option<String> {
    let tag = StateKey::address_tag(POOL, address).unwrap();
    mailbox(f, address).await.suppressed_for(&tag).map(|u| u.reason.clone())
}

#[tokio::test]
async fn a_hard_bounce_marks_the_email_bounced_and_suppresses_the_mailbox_under_the_budgets_key() {
    let f = feedback();
    f.process(&fixture("send")).await.unwrap();
    assert_eq!(status(&f).await.status, DeliveryStatus::Sent);
    f.process(&fixture("eventbridge_bounce")).await.unwrap();
    let s = status(&f).await;
    assert_eq!((s.status, s.reason.as_deref()), (DeliveryStatus::Bounced, Some("permanent_bounce")));
    // Kept in the item the per-address budget uses (every spelling reads it), for the exact
    // address: case aside, another spelling of the mailbox is not suppressed.
    assert_eq!(suppressed(&f, "GONE@example.COM").await.as_deref(), Some("permanent_bounce"));
    assert_eq!(suppressed(&f, "gone+tag@example.com").await, None);
}

#[tokio::test]
async fn soft_trouble_is_recorded_without_suppressing_and_a_complaint_suppresses() {
    let f = feedback();
    f.process(&fixture("bounce_transient")).await.unwrap();
    f.process(&fixture("delivery_delay")).await.unwrap();
    assert_eq!(status(&f).await.status, DeliveryStatus::Delayed);
    for address in ["full@example.com", "slow@example.com"] {
        assert_eq!(suppressed(&f, address).await, None, "{address}");
        assert_eq!(mailbox(&f, address).await.transient.unwrap().count, 1, "{address}");
    }
    f.process(&fixture("delivery")).await.unwrap();
    assert_eq!(status(&f).await.status, DeliveryStatus::Delivered);
    f.process(&fixture("sns_complaint")).await.unwrap();
    assert_eq!(status(&f).await.status, DeliveryStatus::Complained);
    assert_eq!(suppressed(&f, "angry@example.com").await.as_deref(), Some("complaint"));
    f.process(&fixture("reject")).await.unwrap();
    assert_eq!(suppressed(&f, "ann@example.com").await, None, "a reject is about content");
}

#[tokio::test]
async fn a_malformed_record_is_the_only_batch_item_failure() {
    let f = feedback();
    let record = |id: &str, body: String| {
        let mut m = aws_lambda_events::event::sqs::SqsMessage::default();
        m.message_id = Some(id.into());
        m.body = Some(body);
        m
    };
    let mut event = SqsEvent::default();
    event.records =
        vec![record("a", fixture("send")), record("b", fixture("malformed")), record("c", fixture("bounce_permanent"))];
    let response = f.handle(event).await;
    let failed: Vec<&str> = response.batch_item_failures.iter().map(|f| f.item_identifier.as_str()).collect();
    assert_eq!(failed, ["b"]);
    assert_eq!(status(&f).await.status, DeliveryStatus::Bounced);
}

#[tokio::test]
async fn a_bounce_report_acts_only_on_addresses_the_email_was_sent_to() {
    let f = feedback();
    let mut event: serde_json::Value = serde_json::from_str(&fixture("bounce_permanent")).unwrap();
    event["bounce"]["bouncedRecipients"] = serde_json::json!([
        {"emailAddress": "victim@example.com"},
        {"emailAddress": "gone@example.com"}
    ]);
    f.process(&event.to_string()).await.unwrap();
    assert_eq!(suppressed(&f, "victim@example.com").await, None, "not an address of this email");
    assert_eq!(suppressed(&f, "gone@example.com").await.as_deref(), Some("permanent_bounce"));
    // SES echoes the destination as the mailer gave it, display name included.
    let mut named: serde_json::Value = serde_json::from_str(&fixture("bounce_permanent")).unwrap();
    named["mail"]["destination"] = serde_json::json!(["\"Gone Person\" <Gone@Example.com>"]);
    named["mail"]["tags"]["delivery"] = serde_json::json!(["ffffffffffffffffffffffffffffffff"]);
    let f2 = feedback();
    f2.process(&named.to_string()).await.unwrap();
    assert_eq!(suppressed(&f2, "gone@example.com").await.as_deref(), Some("permanent_bounce"));
    for broken in [serde_json::json!("gone@example.com"), serde_json::json!([]), serde_json::Value::Null] {
        event["bounce"]["bouncedRecipients"] = broken.clone();
        assert!(f.process(&event.to_string()).await.is_err(), "{broken}: a batch item failure");
    }
}
