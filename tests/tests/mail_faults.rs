//! The mailer under SES faults with the queue settings operators deploy (visibility timeout 180 s,
//! as long as a login code lives; redrive after 5 receives): SQS on moto, SES v2 as a local stub.
//! A transient failure must come back within seconds, before the code expires; a permanent one
//! must reach the dead-letter queue on its first failure.

use aws_sdk_sesv2::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName};
use lambda_support::Env;
use mailer::batch::Mailer;
use mailer::config::MailerConfig;
use mailer::redelivery::SqsRedelivery;
use mailer::ses::SesSender;
use serde_json::json;
use std::time::{Duration, Instant};
use testkit::{Moto, sqs_event};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const SEND_PATH: &str = "/v2/email/outbound-emails";

struct Pipeline {
    sqs: aws_sdk_sqs::Client,
    queue_url: String,
    queue_arn: String,
    dlq_url: String,
    ses: MockServer,
    _moto: Moto,
}

async fn pipeline() -> Pipeline {
    let moto = Moto::start();
    let sqs = aws_sdk_sqs::Client::new(&moto.sdk_config().await);
    let dlq_url = moto.create_queue(&sqs, "mail-dlq").await;
    let arn_of = |url: String| {
        let sqs = sqs.clone();
        async move {
            let a =
                sqs.get_queue_attributes().queue_url(url).attribute_names(QueueAttributeName::QueueArn).send().await;
            a.unwrap().attributes().unwrap()[&QueueAttributeName::QueueArn].clone()
        }
    };
    let dlq_arn = arn_of(dlq_url.clone()).await;
    let queue_url = sqs
        .create_queue()
        .queue_name("mail")
        .attributes(QueueAttributeName::VisibilityTimeout, "180")
        .attributes(
            QueueAttributeName::RedrivePolicy,
            format!(r#"{{"deadLetterTargetArn":"{dlq_arn}","maxReceiveCount":"5"}}"#),
        )
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let queue_arn = arn_of(queue_url.clone()).await;
    Pipeline { sqs, queue_url, queue_arn, dlq_url, ses: MockServer::start().await, _moto: moto }
}

impl Pipeline {
    /// The deployed mailer: SES through the SDK's standard retries, redelivery on SQS, the
    /// queue's URL found from the record's ARN.
    fn mailer(&self) -> Mailer<SesSender, SqsRedelivery> {
        let config = MailerConfig::from_env(&Env::from_pairs([
            ("MAIL_FROM", "Acme <no-reply@acme.example>"),
            ("MAIL_DLQ_URL", self.dlq_url.as_str()),
        ]))
        .unwrap();
        let ses = aws_sdk_sesv2::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("test", "test", None, None, "test"))
            .endpoint_url(self.ses.uri())
            .retry_config(
                aws_smithy_types::retry::RetryConfig::standard()
                    .with_max_attempts(3)
                    .with_initial_backoff(Duration::from_millis(5)),
            )
            .build();
        Mailer::new(config, SesSender::new(aws_sdk_sesv2::Client::from_conf(ses))).with_redelivery(SqsRedelivery::new(
            self.sqs.clone(),
            self.dlq_url.clone(),
            None,
        ))
    }

    async fn enqueue_login_job(&self) {
        let now = chrono::Utc::now();
        let mut job: serde_json::Value = serde_json::from_str(&mail_job::read_fixture("login_link.json")).unwrap();
        job["created_at"] = json!(now.to_rfc3339());
        job["expires_at"] = json!((now + chrono::Duration::seconds(180)).to_rfc3339());
        self.sqs.send_message().queue_url(&self.queue_url).message_body(job.to_string()).send().await.unwrap();
    }

    async fn receive(&self, queue_url: &str) -> Vec<aws_sdk_sqs::types::Message> {
        let out = self
            .sqs
            .receive_message()
            .queue_url(queue_url)
            .max_number_of_messages(10)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .message_attribute_names("All")
            .send()
            .await
            .unwrap();
        out.messages.unwrap_or_default()
    }

    /// One invocation as the event source mapping makes it: receive, run, delete the unreported.
    async fn invoke(&self, mailer: &Mailer<SesSender, SqsRedelivery>) -> usize {
        let messages = self.receive(&self.queue_url).await;
        if messages.is_empty() {
            return 0;
        }
        let event = serde_json::from_value(sqs_event(&messages, &self.queue_arn)).unwrap();
        let response = mailer.handle(event, chrono::Utc::now()).await;
        for m in &messages {
            if !response.batch_item_failures.iter().any(|f| Some(f.item_identifier.as_str()) == m.message_id()) {
                self.sqs
                    .delete_message()
                    .queue_url(&self.queue_url)
                    .receipt_handle(m.receipt_handle().unwrap())
                    .send()
                    .await
                    .unwrap();
            }
        }
        messages.len()
    }
}

fn ses_error(status: u16, error_type: &str) -> ResponseTemplate {
    ResponseTemplate::new(status)
        .insert_header("x-amzn-ErrorType", error_type)
        .set_body_json(json!({"message": "stubbed"}))
}

#[tokio::test]
async fn throttled_past_the_sdks_retries_the_email_goes_out_within_seconds_of_the_fault_clearing() {
    let p = pipeline().await;
    // SES throttles the first receive's three attempts, then recovers.
    Mock::given(method("POST"))
        .and(path(SEND_PATH))
        .respond_with(ses_error(429, "TooManyRequestsException"))
        .up_to_n_times(3)
        .mount(&p.ses)
        .await;
    Mock::given(method("POST"))
        .and(path(SEND_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"MessageId": "sent"})))
        .mount(&p.ses)
        .await;
    let mailer = p.mailer();
    p.enqueue_login_job().await;

    assert_eq!(p.invoke(&mailer).await, 1);
    let failed_at = Instant::now();
    // Without the visibility change the message would stay hidden for 180 s, as long as the code lives.
    let mut sent = false;
    while failed_at.elapsed() < Duration::from_secs(10) && !sent {
        tokio::time::sleep(Duration::from_millis(200)).await;
        sent = p.invoke(&mailer).await == 1;
    }
    assert!(sent, "the message came back within 10 s");
    let waited = failed_at.elapsed();
    assert!(waited < Duration::from_secs(5), "retried after {waited:?}");
    assert_eq!(p.ses.received_requests().await.unwrap().len(), 4, "three throttled attempts, then the send");
    assert!(p.receive(&p.queue_url).await.is_empty());
}

#[tokio::test]
async fn a_rejected_message_is_in_the_dead_letter_queue_after_its_first_failure() {
    let p = pipeline().await;
    Mock::given(method("POST"))
        .and(path(SEND_PATH))
        .respond_with(ses_error(400, "MessageRejected"))
        .mount(&p.ses)
        .await;
    let mailer = p.mailer();
    p.enqueue_login_job().await;

    assert_eq!(p.invoke(&mailer).await, 1);
    let dead = p.receive(&p.dlq_url).await;
    assert_eq!(dead.len(), 1, "parked at once, not after five receives");
    let attributes = dead[0].message_attributes().unwrap();
    assert_eq!(attributes["mail_error"].string_value(), Some("SES MessageRejected (HTTP 400, request id -)"));
    assert!(dead[0].body().unwrap().contains("\"template\":\"login_link\""));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(p.receive(&p.queue_url).await.is_empty(), "and gone from the mail queue");
    assert_eq!(p.ses.received_requests().await.unwrap().len(), 1, "a rejection is not retried");
}
