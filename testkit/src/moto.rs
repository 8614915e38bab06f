//! A moto server (PyPI `moto[server]`) for one test: SQS and SES v2 over the real AWS protocols on
//! a free loopback port, stopped when the handle drops.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Moto {
    child: Child,
    pub endpoint: String,
    port: u16,
}

impl Moto {
    /// Starts `moto_server` from `$MOTO_SERVER` or the project venv (`.venv/bin/moto_server`,
    /// which `scripts/test.sh` installs). Fails loudly when it is not there: a test that needs
    /// the emulator must not pass without it.
    pub fn start() -> Moto {
        let bin = std::env::var("MOTO_SERVER")
            .unwrap_or_else(|_| crate::workspace_root().join(".venv/bin/moto_server").to_string_lossy().into_owned());
        let port = free_port();
        let child = Command::new(&bin)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start {bin} ({e}): run scripts/test.sh, which installs moto into .venv")
            });
        let moto = Moto { child, endpoint: format!("http://127.0.0.1:{port}"), port };
        let deadline = Instant::now() + Duration::from_secs(30);
        while moto.get("/moto-api/").is_err() {
            assert!(Instant::now() < deadline, "moto server did not start on port {port}");
            std::thread::sleep(Duration::from_millis(50));
        }
        moto
    }

    /// An SDK config for this server: fixed test credentials and region, endpoint overridden.
    pub async fn sdk_config(&self) -> aws_config::SdkConfig {
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_sqs::config::Credentials::new("test", "test", None, None, "testkit"))
            .endpoint_url(&self.endpoint)
            .load()
            .await
    }

    /// The variables that point the SDK inside a Lambda binary at this server.
    pub fn env(&self) -> Vec<(String, String)> {
        [
            ("AWS_ENDPOINT_URL", self.endpoint.as_str()),
            ("AWS_REGION", "us-east-1"),
            ("AWS_ACCESS_KEY_ID", "test"),
            ("AWS_SECRET_ACCESS_KEY", "test"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    /// Creates a queue and returns its URL.
    pub async fn create_queue(&self, sqs: &aws_sdk_sqs::Client, name: &str) -> String {
        sqs.create_queue().queue_name(name).send().await.expect("create queue").queue_url.expect("queue url")
    }

    /// The queue's ARN (what an event source mapping puts in `eventSourceARN`).
    pub async fn queue_arn(&self, sqs: &aws_sdk_sqs::Client, url: &str) -> String {
        use aws_sdk_sqs::types::QueueAttributeName;
        let out = sqs.get_queue_attributes().queue_url(url).attribute_names(QueueAttributeName::QueueArn).send().await;
        out.expect("queue attributes").attributes().expect("attributes")[&QueueAttributeName::QueueArn].clone()
    }

    /// A mail queue `mail` with a dead-letter queue `mail-dlq` behind a redrive policy, as the
    /// CDK app deploys them (with the test's own visibility timeout and receive limit).
    pub async fn mail_queues(&self, sqs: &aws_sdk_sqs::Client, visibility_secs: u32, max_receive: u32) -> MailQueues {
        use aws_sdk_sqs::types::QueueAttributeName;
        let dlq_url = self.create_queue(sqs, "mail-dlq").await;
        let dlq_arn = self.queue_arn(sqs, &dlq_url).await;
        let url = sqs
            .create_queue()
            .queue_name("mail")
            .attributes(QueueAttributeName::VisibilityTimeout, visibility_secs.to_string())
            .attributes(
                QueueAttributeName::RedrivePolicy,
                format!(r#"{{"deadLetterTargetArn":"{dlq_arn}","maxReceiveCount":"{max_receive}"}}"#),
            )
            .send()
            .await
            .expect("create queue")
            .queue_url
            .expect("queue url");
        let arn = self.queue_arn(sqs, &url).await;
        MailQueues { url, arn, dlq_url }
    }

    /// The auth-state table as the CDK app deploys it (partition key `pk`, TTL on `expires_at`,
    /// on-demand); returns its name.
    pub async fn auth_state_table(&self, dynamodb: &aws_sdk_dynamodb::Client, name: &str) -> String {
        use aws_sdk_dynamodb::types::{
            AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType, TimeToLiveSpecification,
        };
        dynamodb
            .create_table()
            .table_name(name)
            .billing_mode(BillingMode::PayPerRequest)
            .attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name("pk")
                    .attribute_type(ScalarAttributeType::S)
                    .build()
                    .unwrap(),
            )
            .key_schema(KeySchemaElement::builder().attribute_name("pk").key_type(KeyType::Hash).build().unwrap())
            .send()
            .await
            .expect("create table");
        dynamodb
            .update_time_to_live()
            .table_name(name)
            .time_to_live_specification(
                TimeToLiveSpecification::builder().attribute_name("expires_at").enabled(true).build().unwrap(),
            )
            .send()
            .await
            .expect("enable TTL");
        name.to_string()
    }

    /// The `auth-state` table, created through a client of its own; returns its name for
    /// `AUTH_STATE_TABLE`.
    pub async fn create_auth_state_table(&self) -> String {
        let dynamodb = aws_sdk_dynamodb::Client::new(&self.sdk_config().await);
        self.auth_state_table(&dynamodb, "auth-state").await
    }

    /// Verifies a sending domain in SES v2 (moto verifies domain identities at once).
    pub async fn verify_domain(&self, ses: &aws_sdk_sesv2::Client, domain: &str) {
        ses.create_email_identity().email_identity(domain).send().await.expect("create email identity");
    }

    /// Emails moto's SES has accepted, from `GET /moto-api/data.json` (`ses` → `Message`): objects
    /// with `source`, `destinations`, `subject` and `body` (moto keeps the HTML body only).
    pub fn sent_emails(&self) -> Vec<serde_json::Value> {
        let data: serde_json::Value =
            serde_json::from_str(&self.get("/moto-api/data.json").expect("moto data")).expect("moto data is JSON");
        data["ses"]["Message"].as_array().cloned().unwrap_or_default()
    }

    /// A GET on the moto server: the body of a 200, else an error.
    pub fn get(&self, path: &str) -> std::io::Result<String> {
        crate::http_get(&format!("127.0.0.1:{}", self.port), path)
            .map(|(_, body)| body)
            .and_then(|body| body.ok_or_else(|| std::io::Error::other("not 200")))
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub struct MailQueues {
    pub url: String,
    pub arn: String,
    pub dlq_url: String,
}

/// Up to 10 messages with their system and message attributes, as an event source mapping
/// receives them.
pub async fn receive(sqs: &aws_sdk_sqs::Client, url: &str) -> Vec<aws_sdk_sqs::types::Message> {
    let out = sqs
        .receive_message()
        .queue_url(url)
        .max_number_of_messages(10)
        .message_system_attribute_names(aws_sdk_sqs::types::MessageSystemAttributeName::All)
        .message_attribute_names("All")
        .send()
        .await;
    out.expect("receive").messages.unwrap_or_default()
}

/// What the event source mapping does after a batch: deletes every message the function did not
/// report in `batchItemFailures` (`reported` holds their message ids).
pub async fn delete_unreported(
    sqs: &aws_sdk_sqs::Client,
    url: &str,
    messages: &[aws_sdk_sqs::types::Message],
    reported: &[&str],
) {
    for m in messages.iter().filter(|m| !reported.contains(&m.message_id().unwrap_or_default())) {
        let handle = m.receipt_handle().expect("a receipt handle");
        sqs.delete_message().queue_url(url).receipt_handle(handle).send().await.expect("delete");
    }
}

/// A loopback port nobody listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free loopback port").port()
}

/// The Lambda SQS event the event source mapping would build from received messages.
pub fn sqs_event(messages: &[aws_sdk_sqs::types::Message], queue_arn: &str) -> serde_json::Value {
    let records: Vec<serde_json::Value> = messages
        .iter()
        .map(|m| {
            let attributes: serde_json::Map<String, serde_json::Value> = m
                .attributes()
                .into_iter()
                .flatten()
                .map(|(k, v)| (k.as_str().to_string(), serde_json::Value::String(v.clone())))
                .collect();
            serde_json::json!({
                "messageId": m.message_id(),
                "receiptHandle": m.receipt_handle(),
                "body": m.body(),
                "attributes": attributes,
                "messageAttributes": {},
                "md5OfBody": m.md5_of_body(),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": "us-east-1",
            })
        })
        .collect();
    serde_json::json!({ "Records": records })
}

/// One record of a Lambda SQS event, as the event source mapping shapes it, for a body.
pub fn sqs_record(message_id: &str, body: &str) -> serde_json::Value {
    serde_json::json!({
        "messageId": message_id, "receiptHandle": "rh", "body": body,
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1764093600000"},
        "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:mail", "awsRegion": "us-east-1"
    })
}
