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

#[tokio::test]
async fn a_hard_bounce_marks_the_email_bounced_and_suppresses_the_mailbox_under_the_budgets_key() {
    let f = feedback();
    f.process(&fixture("send")).await.unwrap();
    assert_eq!(status(&f).await.status, DeliveryStatus::Sent);
    f.process(&fixture("eventbridge_bounce")).await.unwrap();
    let s = status(&f).await;
    assert_eq!((s.status, s.reason.as_deref()), (DeliveryStatus::Bounced, Some("permanent_bounce")));
    // The same key the per-address budget uses, whatever the spelling the mailer delivered to.
    let m = mailbox(&f, "Gone+tag@Example.com").await;
    assert_eq!(m.undeliverable().unwrap().reason, "permanent_bounce");
}

#[tokio::test]
async fn soft_trouble_is_recorded_without_suppressing_and_a_complaint_suppresses() {
    let f = feedback();
    f.process(&fixture("bounce_transient")).await.unwrap();
    f.process(&fixture("delivery_delay")).await.unwrap();
    assert_eq!(status(&f).await.status, DeliveryStatus::Delayed);
    for address in ["full@example.com", "slow@example.com"] {
        let m = mailbox(&f, address).await;
        assert!(m.undeliverable().is_none(), "{address}");
        assert_eq!(m.transient.unwrap().count, 1, "{address}");
    }
    f.process(&fixture("delivery")).await.unwrap();
    assert_eq!(status(&f).await.status, DeliveryStatus::Delivered);
    f.process(&fixture("sns_complaint")).await.unwrap();
    assert_eq!(status(&f).await.status, DeliveryStatus::Complained);
    assert_eq!(mailbox(&f, "angry@example.com").await.undeliverable().unwrap().reason, "complaint");
    f.process(&fixture("reject")).await.unwrap();
    assert!(mailbox(&f, "ann@example.com").await.undeliverable().is_none(), "a reject is about content");
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
