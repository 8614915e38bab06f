//! Delivery feedback end to end on moto and local-cognito (issue 17): an account whose address
//! bounces (SES's mailbox simulator address), a sign-in through the real SDK and the triggers with
//! their state on moto's DynamoDB, the mailer sending through moto's SES v2, SES's events as the
//! simulator plays them on an SQS feedback queue, applied by the same code `mail-feedback` runs;
//! the auth API's `GET /login/status` turns `bounced`; the next sign-in to that address enqueues
//! nothing and says why; `mail-jobs suppression remove` (the binary, DynamoDB on moto, SES's
//! suppression API on a stub) makes the next sign-in send again.

use auth_api::config::ApiConfig;
use auth_api::deliveries::StoredDeliveries;
use auth_api::idp::CognitoIdp;
use axum::body::Body;
use axum::http::Request;
use e2e::CognitoStack;
use lambda_support::Env;
use mail_feedback::apply::{FeedbackConfig, MailFeedback};
use serde_json::{Value, json};
use std::sync::Arc;
use tower::ServiceExt;
use triggers::auth_state::store::DynamoStore;
use wiremock::matchers::{method, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

const BOUNCE: &str = "bounce@simulator.amazonses.com";

struct Api(axum::Router);

impl Api {
    async fn call(&self, method: &str, uri: &str, body: Option<Value>, session: Option<&str>) -> (u16, Value) {
        let mut request = Request::builder().method(method).uri(uri).header("host", "localhost:4000");
        if let Some(s) = session {
            request = request.header("x-sign-in-session", s);
        }
        let body = match body {
            Some(b) => {
                request = request.header("content-type", "application/json");
                Body::from(b.to_string())
            }
            None => Body::empty(),
        };
        let response = self.0.clone().oneshot(request.body(body).unwrap()).await.unwrap();
        let status = response.status().as_u16();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
        (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
    }

    async fn login(&self, username: &str) -> String {
        let (status, body) = self.call("POST", "/login", Some(json!({ "username": username })), None).await;
        assert_eq!(status, 200, "{body}");
        body["session"].as_str().unwrap().to_string()
    }

    async fn status(&self, session: &str) -> Value {
        let (status, body) = self.call("GET", "/login/status", None, Some(session)).await;
        assert_eq!(status, 200, "{body}");
        body
    }
}

/// SES's events for what the mailer just sent, as the simulator plays them, applied by the same
/// code the `mail-feedback` function runs (through an SQS queue on moto, as deployed).
async fn play_ses_events(stack: &CognitoStack, feedback: &MailFeedback<DynamoStore>, queue_url: &str) {
    let jobs = stack.peek_jobs().await;
    stack.deliver().await;
    for job in jobs {
        let mut tags = vec![("template".to_string(), job.content.template_name().to_string())];
        tags.push(("locale".into(), job.locale.to_string()));
        tags.extend(job.delivery.map(|d| ("delivery".to_string(), d.as_str().to_string())));
        // SES echoes the destination as the mailer gave it: with the display name.
        let to = format!("\"{}\" <{}>", job.to.name.clone().unwrap_or_default(), job.to.email);
        let sent = mail_feedback::simulator::Sent {
            message_id: job.id.as_str(),
            from: "Acme <no-reply@acme.example>",
            to: &to,
            tags: &tags,
            configuration_set: Some("passwordless"),
            at: chrono::Utc::now(),
        };
        for event in mail_feedback::simulator::events(&sent) {
            stack.sqs.send_message().queue_url(queue_url).message_body(event.to_string()).send().await.unwrap();
        }
    }
    let messages = testkit::receive(&stack.sqs, queue_url).await;
    let event = testkit::sqs_event(&messages, "arn:aws:sqs:us-east-1:123456789012:feedback");
    let response = feedback.handle(serde_json::from_value(event).unwrap()).await;
    assert!(response.batch_item_failures.is_empty());
    testkit::delete_unreported(&stack.sqs, queue_url, &messages, &[]).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bounce_reaches_the_waiting_person_stops_the_next_email_and_an_operator_repairs_it() {
    let stack = CognitoStack::start(|_| {}).await;
    let pool_id = stack.pool.config.user_pool_id.clone();
    let store = DynamoStore::new(stack.dynamodb.clone(), stack.table.clone());
    let feedback = MailFeedback::new(FeedbackConfig { user_pool_id: pool_id.clone() }, store.clone());
    let feedback_queue = stack.moto.create_queue(&stack.sqs, "feedback").await;
    let config = ApiConfig::from_env(&Env::from_pairs([
        ("COGNITO_CLIENT_ID", stack.client_id()),
        ("COGNITO_USER_POOL_ID", pool_id.as_str()),
        ("AWS_ENDPOINT_URL", stack.pool.config.endpoint.as_str()),
    ]))
    .unwrap();
    let idp = CognitoIdp::new(stack.cognito.clone(), stack.client_id());
    let deliveries = Arc::new(StoredDeliveries::new(store.clone(), pool_id.clone()));
    let api = Api(auth_api::router(auth_api::AppState::new(config, Arc::new(idp)).with_deliveries(deliveries)));

    // A normal address: queued, then delivered.
    stack.sign_up("dora", "dora@example.com").await;
    let session = api.login("dora").await;
    assert_eq!(api.status(&session).await["status"], "queued");
    play_ses_events(&stack, &feedback, &feedback_queue).await;
    assert_eq!(api.status(&session).await["status"], "delivered");

    // An address that bounces: the status says so, with the reason.
    stack.sign_up("bea", BOUNCE).await;
    let session = api.login("bea").await;
    play_ses_events(&stack, &feedback, &feedback_queue).await;
    let bounced = api.status(&session).await;
    assert_eq!((bounced["status"].as_str(), bounced["reason"].as_str()), (Some("bounced"), Some("permanent_bounce")));
    assert_eq!(bounced["final"], true);

    // The next sign-in to that address (another account, written in other case) enqueues nothing,
    // answers as any first sign-in does, and its status says why no email comes; a second one
    // reuses the code, as for any account (no "new email" every time: that would tell).
    stack.sign_up("bea2", "Bounce@Simulator.AmazonSES.com").await;
    let (status, first) = api.call("POST", "/login", Some(json!({ "username": "bea2" })), None).await;
    assert_eq!((status, first["new_email"].as_bool()), (200, Some(true)));
    assert!(stack.peek_jobs().await.is_empty(), "nothing enqueued for a suppressed address");
    let suppressed = api.status(first["session"].as_str().unwrap()).await;
    assert_eq!((suppressed["status"].as_str(), suppressed["reason"].as_str()), (Some("bounced"), Some("suppressed")));
    let (_, again) = api.call("POST", "/login", Some(json!({ "username": "bea2" })), None).await;
    assert_eq!(again["new_email"], false, "the code is kept, as when an email went out");

    // Only that exact address: a bounce of bounce@ does not silence bounce+other@ (an attacker
    // bouncing victim+x@ must not silence victim@).
    stack.sign_up("bea3", "bounce+other@simulator.amazonses.com").await;
    api.login("bea3").await;
    assert_eq!(stack.take_jobs().await.len(), 1, "another address of the mailbox still gets email");

    // The operator removes the suppression (the product's and SES's entry).
    let ses = MockServer::start().await;
    let entry = "^/v2/email/suppression/addresses/bounce(@|%40)simulator.amazonses.com$";
    Mock::given(method("GET"))
        .and(path_regex(entry))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"SuppressedDestination": {
            "EmailAddress": BOUNCE, "Reason": "BOUNCE", "LastUpdateTime": 1_764_590_000
        }})))
        .mount(&ses)
        .await;
    // Any other address: not on the account's suppression list (SES's NotFoundException).
    Mock::given(method("GET"))
        .and(path_regex("^/v2/email/suppression/addresses/"))
        .respond_with(
            ResponseTemplate::new(404)
                .insert_header("x-amzn-errortype", "NotFoundException")
                .set_body_json(json!({"message": "Email address is not on the suppression list"})),
        )
        .with_priority(10)
        .mount(&ses)
        .await;
    Mock::given(method("DELETE"))
        .and(path_regex(entry))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&ses)
        .await;
    let mut env = stack.moto.env();
    env.extend([
        ("AWS_ENDPOINT_URL_SESV2".to_string(), ses.uri()),
        ("AUTH_STATE_TABLE".to_string(), stack.table.clone()),
        ("COGNITO_USER_POOL_ID".to_string(), pool_id.clone()),
    ]);
    let run = |args: &[&str]| {
        let out = std::process::Command::new(testkit::bin("mail-jobs")).args(args).envs(env.clone()).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    let shown = run(&["suppression", "show", BOUNCE]);
    assert!(
        shown.contains("product: suppressed (permanent_bounce")
            && shown.contains("SES: on the account's suppression list (BOUNCE)"),
        "{shown}"
    );
    run(&["suppression", "remove", BOUNCE]);
    ses.verify().await;
    assert!(run(&["suppression", "show", "bounce+other@simulator.amazonses.com"]).contains("product: not suppressed"));

    // And once the kept code is over, the next sign-in sends again.
    stack.age_auth_state(300).await;
    let session = api.login("bea2").await;
    let jobs = stack.peek_jobs().await;
    assert_eq!(jobs.len(), 1, "one login email for the repaired address");
    assert_eq!(api.status(&session).await["status"], "queued");
}
