//! The mailer under SES faults with the queue settings operators deploy (visibility timeout 180 s,
//! as long as a login code lives; redrive after 5 receives): SQS on moto, SES v2 as a local stub.
//! A transient failure must come back within seconds, before the code expires; a permanent one
//! must reach the dead-letter queue on its first failure.

use aws_sdk_sesv2::config::{BehaviorVersion, Credentials, Region};
use lambda_support::Env;
use mailer::batch::Mailer;
use mailer::config::MailerConfig;
use mailer::redelivery::SqsRedelivery;
use mailer::ses::SesSender;
use serde_json::json;
use std::time::{Duration, Instant};
use testkit::{MailQueues, Moto, delete_unreported, receive, sqs_event};
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
    let MailQueues { url: queue_url, arn: queue_arn, dlq_url } = moto.mail_queues(&sqs, 180, 5).await;
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

    /// One invocation as the event source mapping makes it: receive, run, delete the unreported.
    async fn invoke(&self, mailer: &Mailer<SesSender, SqsRedelivery>) -> usize {
        let messages = receive(&self.sqs, &self.queue_url).await;
        if messages.is_empty() {
            return 0;
        }
        let event = serde_json::from_value(sqs_event(&messages, &self.queue_arn)).unwrap();
        let response = mailer.handle(event, chrono::Utc::now()).await;
        let reported: Vec<&str> = response.batch_item_failures.iter().map(|f| f.item_identifier.as_str()).collect();
        delete_unreported(&self.sqs, &self.queue_url, &messages, &reported).await;
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
    assert!(receive(&p.sqs, &p.queue_url).await.is_empty());
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
    let dead = receive(&p.sqs, &p.dlq_url).await;
    assert_eq!(dead.len(), 1, "parked at once, not after five receives");
    let attributes = dead[0].message_attributes().unwrap();
    assert_eq!(attributes["mail_error"].string_value(), Some("SES MessageRejected (HTTP 400, request id -)"));
    assert!(dead[0].body().unwrap().contains("\"template\":\"login_link\""));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(receive(&p.sqs, &p.queue_url).await.is_empty(), "and gone from the mail queue");
    assert_eq!(p.ses.received_requests().await.unwrap().len(), 1, "a rejection is not retried");
}
