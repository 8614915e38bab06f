//! A whole sign-in (define → create → verify → define, with the real SQS adapter against moto)
//! with every log line captured at TRACE and searched for secrets. Alone in its test binary:
//! tracing caches per-callsite interest process-wide, so a test running in parallel without the
//! capturing subscriber could hide this test's events.

mod common;

use aws_lambda_events::event::cognito::{
    CognitoEventUserPoolsCreateAuthChallenge, CognitoEventUserPoolsDefineAuthChallenge,
    CognitoEventUserPoolsVerifyAuthChallenge,
};
use common::{received_jobs, trigger_on, verifier};
use mail_job::MailContent;
use serde_json::json;
use testkit::Moto;
use testkit::logs::CapturedLogs;
use triggers::define::{self, DefineConfig};
use triggers::fixtures;

#[tokio::test]
async fn a_whole_sign_in_logs_no_code_link_or_address() {
    let moto = Moto::start();
    let (trigger, store, sqs, queue_url) = trigger_on(&moto).await;
    let verify = verifier(store);
    let logs = CapturedLogs::default();
    let _guard = logs.install();
    let define_config = DefineConfig { max_attempts: 3 };

    let first: CognitoEventUserPoolsDefineAuthChallenge = fixtures::event("define_empty_session.json");
    let decided = define::handle(first, &define_config).unwrap();
    assert_eq!(decided.response.challenge_name.as_deref(), Some("CUSTOM_CHALLENGE"));

    let create: CognitoEventUserPoolsCreateAuthChallenge = fixtures::event("create_first_challenge.json");
    trigger.handle(create, chrono::Utc::now()).await.unwrap();
    let jobs = received_jobs(&sqs, &queue_url).await;
    let MailContent::LoginLink(data) = &jobs[0].content else { panic!("a login_link job") };
    let code = data.code.clone();

    let wrong: CognitoEventUserPoolsVerifyAuthChallenge = fixtures::edited("verify_answer.json", |v| {
        v["request"]["challengeAnswer"] = json!("000000x");
    });
    assert!(!verify.handle(wrong, chrono::Utc::now()).await.unwrap().response.answer_correct);
    let right: CognitoEventUserPoolsVerifyAuthChallenge = fixtures::edited("verify_answer.json", |v| {
        v["request"]["challengeAnswer"] = json!(format!("{} {}", &code[..3], &code[3..]));
    });
    assert!(verify.handle(right, chrono::Utc::now()).await.unwrap().response.answer_correct);

    let last: CognitoEventUserPoolsDefineAuthChallenge = fixtures::edited("define_after_correct_answer.json", |v| {
        v["request"]["session"] = json!([
            {"challengeName": "CUSTOM_CHALLENGE", "challengeResult": false, "challengeMetadata": "RESENDS-0"},
            {"challengeName": "CUSTOM_CHALLENGE", "challengeResult": true, "challengeMetadata": "RESENDS-0"},
        ]);
    });
    assert!(define::handle(last, &define_config).unwrap().response.issue_tokens);

    let text = logs.text();
    assert!(text.contains(jobs[0].id.as_str()), "capture works and the job id is logged: {text}");
    assert!(text.lines().count() >= 5, "{text}");
    for secret in [code.as_str(), data.link.as_str(), "alice@example.com", "verify-login"] {
        assert!(!text.contains(secret), "logs leak {secret:?}:\n{text}");
    }
}
