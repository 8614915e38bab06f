//! The SES v2 adapter against a local HTTP stub of the SES v2 API (wiremock): the exact request the
//! SDK sends, retries of throttling and 5xx, permanent rejections, and concurrency under latency.

use aws_sdk_sesv2::config::{BehaviorVersion, Credentials, Region};
use lambda_support::Env;
use mail_job::read_fixture;
use mailer::batch::{Mailer, Outcome};
use mailer::config::MailerConfig;
use mailer::send::Retry;
use mailer::ses::SesSender;
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const SEND_PATH: &str = "/v2/email/outbound-emails";

fn ses_client(server: &MockServer, attempt_timeout: Duration) -> aws_sdk_sesv2::Client {
    let config = aws_sdk_sesv2::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "test"))
        .endpoint_url(server.uri())
        // The SDK's standard retry mode (3 attempts), with a short backoff to keep the test quick.
        .retry_config(
            aws_smithy_types::retry::RetryConfig::standard()
                .with_max_attempts(3)
                .with_initial_backoff(Duration::from_millis(5)),
        )
        .timeout_config(
            aws_smithy_types::timeout::TimeoutConfig::builder().operation_attempt_timeout(attempt_timeout).build(),
        )
        .build();
    aws_sdk_sesv2::Client::from_conf(config)
}

fn mailer(server: &MockServer) -> Mailer<SesSender> {
    let config = MailerConfig::from_env(&Env::from_pairs([
        ("MAIL_FROM", "Acme <no-reply@acme.example>"),
        ("SES_CONFIGURATION_SET", "passwordless-prod"),
    ]))
    .unwrap();
    Mailer::new(config, SesSender::new(ses_client(server, Duration::from_secs(2))))
}

fn created() -> chrono::DateTime<chrono::Utc> {
    "2026-11-25T18:00:00Z".parse().unwrap()
}

fn ses_error(status: u16, error_type: &str) -> ResponseTemplate {
    ResponseTemplate::new(status)
        .insert_header("x-amzn-ErrorType", error_type)
        .set_body_json(json!({ "message": format!("stubbed {error_type}") }))
}

async fn requests(server: &MockServer) -> Vec<Value> {
    server.received_requests().await.unwrap().iter().map(|r| serde_json::from_slice(&r.body).unwrap()).collect()
}

#[tokio::test]
async fn the_exact_request_the_sdk_sends() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(SEND_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"MessageId": "0100-stub"})))
        .mount(&server)
        .await;
    let outcome = mailer(&server).process_body(&read_fixture("login_link_unicode.json"), created()).await;
    assert_eq!(outcome, Outcome::Sent { provider_id: "0100-stub".into() });
    let sent = requests(&server).await;
    assert_eq!(sent.len(), 1);
    let body = &sent[0];
    assert_eq!(body["FromEmailAddress"], "\"Acme\" <no-reply@acme.example>");
    assert_eq!(body["Destination"]["ToAddresses"], json!(["=?UTF-8?B?Wm/Dqyt0ZXN0Jng9MQ==?= <zoe+test@example.com>"]));
    assert_eq!(body["ConfigurationSetName"], "passwordless-prod");
    assert_eq!(
        body["EmailTags"],
        json!([{"Name": "template", "Value": "login_link"}, {"Name": "locale", "Value": "de"}])
    );
    let simple = &body["Content"]["Simple"];
    assert_eq!(simple["Subject"], json!({"Data": "Bei Acme anmelden", "Charset": "UTF-8"}));
    let html = simple["Body"]["Html"]["Data"].as_str().unwrap();
    let text = simple["Body"]["Text"]["Data"].as_str().unwrap();
    assert_eq!(simple["Body"]["Html"]["Charset"], "UTF-8");
    assert!(html.starts_with("<!DOCTYPE html>") && html.contains("<html lang=\"de\""));
    assert!(html.contains(">004217</td>") && text.contains("004 217"));
    let link = "https://app.example.com/verify-login#v=2&username=Zo%C3%AB%2Btest%26x%3D1&code=004217";
    assert!(text.contains(link) && html.contains(&link.replace('&', "&#38;")));
}

/// Sends one job to a stub that always answers `status` with `error_type`: the failure, and how
/// many requests the SDK made.
async fn failure_against(status: u16, error_type: &str) -> (mailer::send::SendError, usize) {
    let server = MockServer::start().await;
    Mock::given(method("POST")).and(path(SEND_PATH)).respond_with(ses_error(status, error_type)).mount(&server).await;
    let Outcome::Failed(e) = mailer(&server).process_body(&read_fixture("login_link.json"), created()).await else {
        panic!("{status} {error_type} must fail")
    };
    (e, requests(&server).await.len())
}

#[tokio::test]
async fn throttling_and_5xx_are_retried_by_the_sdk_then_reported_transient() {
    for (status, error_type) in
        [(429, "TooManyRequestsException"), (500, "InternalFailure"), (503, "ServiceUnavailable")]
    {
        let (e, requests) = failure_against(status, error_type).await;
        assert_eq!(e.kind, Retry::Transient, "{status}: {e}");
        assert_eq!(requests, 3, "{status}: the SDK retried twice");
    }
}

#[tokio::test]
async fn a_throttle_that_clears_is_a_send() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(SEND_PATH))
        .respond_with(ses_error(429, "TooManyRequestsException"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(SEND_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"MessageId": "after-retry"})))
        .mount(&server)
        .await;
    let outcome = mailer(&server).process_body(&read_fixture("login_link.json"), created()).await;
    assert_eq!(outcome, Outcome::Sent { provider_id: "after-retry".into() });
    assert_eq!(requests(&server).await.len(), 2);
}

#[tokio::test]
async fn message_rejected_and_bad_requests_are_permanent_and_not_retried() {
    for (status, error_type) in
        [(400, "MessageRejected"), (400, "BadRequestException"), (400, "MailFromDomainNotVerifiedException")]
    {
        let (e, requests) = failure_against(status, error_type).await;
        assert_eq!(e.kind, Retry::Permanent, "{error_type}: {e}");
        assert_eq!(requests, 1, "{error_type} is not retried");
    }
}

/// A sandbox rejection quotes the recipient; the failure (which the mailer logs) keeps only SES's
/// error code, the status and the request id.
#[tokio::test]
async fn a_rejection_that_quotes_the_address_is_described_without_it() {
    let server = MockServer::start().await;
    let rejection = ResponseTemplate::new(400)
        .insert_header("x-amzn-ErrorType", "MessageRejected")
        .insert_header("x-amzn-RequestId", "req-1234")
        .set_body_json(json!({ "message": "Email address is not verified. The following identities failed the check in region EU-WEST-1: alice@example.com" }));
    Mock::given(method("POST")).and(path(SEND_PATH)).respond_with(rejection).mount(&server).await;
    let Outcome::Failed(e) = mailer(&server).process_body(&read_fixture("login_link.json"), created()).await else {
        panic!("a rejection fails")
    };
    assert_eq!(e.kind, Retry::Permanent);
    assert_eq!(e.message, "SES MessageRejected (HTTP 400, request id req-1234)");
    assert!(!e.to_string().contains('@'));
}

#[tokio::test]
async fn a_hung_ses_is_a_transient_timeout() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(SEND_PATH))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"MessageId": "late"})).set_delay(Duration::from_secs(5)),
        )
        .mount(&server)
        .await;
    let config = MailerConfig::from_env(&Env::from_pairs([("MAIL_FROM", "a@acme.example")])).unwrap();
    let m = Mailer::new(config, SesSender::new(ses_client(&server, Duration::from_millis(150))));
    let Outcome::Failed(e) = m.process_body(&read_fixture("login_link.json"), created()).await else { panic!() };
    assert_eq!(e.kind, Retry::Transient, "{e}");
}

/// A stub that accepts every send after `delay`.
async fn slow_ses(delay: Duration) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(SEND_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"MessageId": "slow"})).set_delay(delay))
        .mount(&server)
        .await;
    server
}

/// An SQS event of ten login jobs, `m0` to `m9`.
fn ten_login_jobs() -> aws_lambda_events::event::sqs::SqsEvent {
    let records: Vec<Value> = (0..10)
        .map(|i| {
            json!({"messageId": format!("m{i}"), "body": read_fixture("login_link.json"), "attributes": {},
                   "messageAttributes": {}, "eventSource": "aws:sqs"})
        })
        .collect();
    serde_json::from_value(json!({ "Records": records })).unwrap()
}

#[tokio::test]
async fn a_slow_ses_does_not_serialise_the_batch() {
    let server = slow_ses(Duration::from_millis(100)).await;
    let event = ten_login_jobs();
    let m = mailer(&server);
    let started = Instant::now();
    let response = m.handle(event, created()).await;
    let elapsed = started.elapsed();
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(requests(&server).await.len(), 10);
    // Serially this is at least 10 × 100 ms; concurrently about one round trip.
    assert!(elapsed < Duration::from_millis(600), "10 sends at 100 ms took {elapsed:?}");
}

/// `MAX_CONCURRENT_SENDS` 1 and a slow SES against the invocation's deadline: the sends that
/// could not finish in time are never started, and come back reported; none times out.
#[tokio::test]
async fn a_slow_ses_with_a_short_deadline_reports_the_unstarted_sends() {
    let server = slow_ses(Duration::from_millis(300)).await;
    let mut config =
        MailerConfig::from_env(&Env::from_pairs([("MAIL_FROM", "a@acme.example"), ("MAX_CONCURRENT_SENDS", "1")]))
            .unwrap();
    // As deployed, the budget is the SES client's whole operation timeout (here 2 s per attempt
    // would do; 500 ms keeps the test short) plus a margin.
    config.send_budget = Duration::from_millis(500);
    let m = Mailer::new(config, SesSender::new(ses_client(&server, Duration::from_secs(2))));
    let event = ten_login_jobs();
    let started = tokio::time::Instant::now();
    let deadline = started + Duration::from_millis(1500);
    let response = m.handle_until(event, created(), Some(deadline)).await;
    let sent = requests(&server).await.len();
    assert!((2..=5).contains(&sent), "{sent} sends started");
    assert_eq!(response.batch_item_failures.len(), 10 - sent, "every unstarted send is reported");
    assert!(tokio::time::Instant::now() < deadline, "the batch answered before the deadline");
}
