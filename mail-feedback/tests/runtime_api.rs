//! The `mail-feedback` binary as Lambda runs it, through the Runtime API, at TRACE, with its state
//! on moto's DynamoDB: one SQS batch of SES events in the shapes SES documents (bounce permanent
//! and transient, complaint, delivery, delay, reject; as EventBridge forwards them and as SNS
//! does) and one malformed record. The table ends as specified, the malformed record is the only
//! batch item failure, and nothing logs an address. A missing variable stops start-up naming it.

use serde_json::{Value, json};
use testkit::{Moto, rie};
use triggers::auth_state::MailboxState;
use triggers::auth_state::delivery::{DeliveryState, DeliveryStatus};
use triggers::auth_state::store::{AuthStateStore, DynamoStore, StateKey};

const BIN: &str = env!("CARGO_BIN_EXE_mail-feedback");
const POOL: &str = "us-east-1_feedback";
const ID: &str = "0123456789abcdef0123456789abcdef";

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!("{}/fixtures/{name}.json", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn record(id: &str, body: String) -> Value {
    json!({
        "messageId": id,
        "receiptHandle": format!("handle-{id}"),
        "body": body,
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1764590000000"},
        "messageAttributes": {},
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:mail-feedback",
        "awsRegion": "us-east-1",
    })
}

#[tokio::test]
async fn a_batch_of_documented_events_ends_in_the_table_and_the_malformed_one_is_reported() {
    let moto = Moto::start();
    let table = moto.create_auth_state_table().await;
    let mut env = moto.env();
    env.extend([
        ("AUTH_STATE_TABLE".to_string(), table.clone()),
        ("COGNITO_USER_POOL_ID".to_string(), POOL.to_string()),
        ("AWS_LAMBDA_LOG_LEVEL".to_string(), "TRACE".to_string()),
    ]);
    let names =
        ["send", "delivery", "bounce_transient", "delivery_delay", "eventbridge_bounce", "reject", "sns_complaint"];
    let mut records: Vec<Value> = names.iter().map(|n| record(n, fixture(n))).collect();
    records.insert(3, record("malformed", fixture("malformed")));
    let (report, output) = rie::run_logged(BIN, &[json!({ "Records": records })], &env, 30);
    assert!(report.ok(0), "{output}");
    assert_eq!(report.body(0)["batchItemFailures"], json!([{"itemIdentifier": "malformed"}]));

    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&moto.sdk_config().await), table);
    let email = store.load::<DeliveryState>(&StateKey::delivery(POOL, ID)).await.unwrap().state;
    // All fixtures share the delivery id; the latest in the order of states wins: the complaint.
    assert_eq!(email.status, DeliveryStatus::Complained);
    let mailbox = |address: &str| {
        let store = store.clone();
        let key = StateKey::mailbox(POOL, address).unwrap();
        let tag = StateKey::address_tag(POOL, address).unwrap();
        async move {
            let m = store.load::<MailboxState>(&key).await.unwrap().state;
            (m.suppressed_for(&tag).map(|u| u.reason.clone()), m.transient.is_some())
        }
    };
    assert_eq!(mailbox("gone@example.com").await.0.as_deref(), Some("permanent_bounce"));
    assert_eq!(mailbox("angry@example.com").await.0.as_deref(), Some("complaint"));
    for soft in ["full@example.com", "slow@example.com"] {
        assert_eq!(mailbox(soft).await, (None, true), "{soft}: recorded, not suppressed");
    }
    assert_eq!(mailbox("ann@example.com").await.0, None, "a reject suppresses nothing");

    assert!(output.contains("\"level\":\"DEBUG\"") || output.contains("\"level\":\"TRACE\""), "ran at TRACE");
    for metric in ["SesSends", "SesDeliveries", "SesBounces", "SesTransientBounces", "SesComplaints", "SesRejects"] {
        assert!(output.contains(&format!("\"{metric}\":1")), "{metric} emitted: {output}");
    }
    for address in ["ann@", "gone@", "full@", "slow@", "angry@", "x@example.com"] {
        assert!(!output.contains(address), "{address} in the logs: {output}");
    }
}

#[test]
fn a_missing_variable_stops_start_up_naming_it() {
    let report = rie::run(BIN, &[json!({"Records": []})], &[("AUTH_STATE_TABLE".into(), "t".into())], 10);
    assert!(report.output().contains("COGNITO_USER_POOL_ID"), "{}", report.output());
}
