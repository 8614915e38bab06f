//! The create-challenge path with its real SQS adapter against moto, and a whole sign-in
//! (define → create → verify → define) with every log line captured and searched for secrets.

use aws_lambda_events::event::cognito::{
    CognitoEventUserPoolsCreateAuthChallenge, CognitoEventUserPoolsDefineAuthChallenge,
    CognitoEventUserPoolsVerifyAuthChallenge,
};
use mail_job::{MailContent, MailJob};
use serde_json::json;
use testkit::Moto;
use testkit::logs::CapturedLogs;
use triggers::create::{CreateChallenge, CreateConfig};
use triggers::define::{self, DefineConfig};
use triggers::mail_queue::SqsMailQueue;
use triggers::{fixtures, verify};

async fn trigger_on(moto: &Moto) -> (CreateChallenge<SqsMailQueue>, aws_sdk_sqs::Client, String) {
    let sqs = aws_sdk_sqs::Client::new(&moto.sdk_config().await);
    let queue_url = moto.create_queue(&sqs, "mail").await;
    let config = CreateConfig::from_env(&lambda_support::Env::from_pairs([
        ("MAIL_QUEUE_URL", queue_url.as_str()),
        ("LOGIN_URL", "https://app.example.com/verify-login?lang=de"),
    ]))
    .unwrap();
    (CreateChallenge::new(config, SqsMailQueue::new(sqs.clone(), queue_url.clone())), sqs, queue_url)
}

async fn received_jobs(sqs: &aws_sdk_sqs::Client, queue_url: &str) -> Vec<MailJob> {
    let out = sqs.receive_message().queue_url(queue_url).max_number_of_messages(10).send().await.unwrap();
    out.messages().iter().map(|m| MailJob::parse(m.body().unwrap()).unwrap()).collect()
}

#[tokio::test]
async fn an_awkward_username_round_trips_through_sqs_and_the_link() {
    let moto = Moto::start();
    let (trigger, sqs, queue_url) = trigger_on(&moto).await;
    trigger.handle(fixtures::event("create_unicode_username.json"), chrono::Utc::now()).await.unwrap();
    let jobs = received_jobs(&sqs, &queue_url).await;
    assert_eq!(jobs.len(), 1);
    let MailContent::LoginLink(data) = &jobs[0].content else { panic!("a login_link job") };
    let link = url::Url::parse(&data.link).unwrap();
    let pairs: Vec<(String, String)> = link.query_pairs().map(|(k, v)| (k.into(), v.into())).collect();
    assert_eq!(
        pairs,
        [
            ("lang".to_string(), "de".to_string()),
            ("username".to_string(), "Zoë+test&x=1".to_string()),
            ("code".to_string(), data.code.clone())
        ]
    );
    assert_eq!(jobs[0].to.email, "zoe+test@example.com");
}

#[tokio::test]
async fn a_whole_sign_in_logs_no_code_link_or_address() {
    let moto = Moto::start();
    let (trigger, sqs, queue_url) = trigger_on(&moto).await;
    let logs = CapturedLogs::default();
    let _guard = logs.install();
    let define_config = DefineConfig { max_attempts: 3 };

    let first: CognitoEventUserPoolsDefineAuthChallenge = fixtures::event("define_empty_session.json");
    let decided = define::handle(first, &define_config).unwrap();
    assert_eq!(decided.response.challenge_name.as_deref(), Some("CUSTOM_CHALLENGE"));

    let create: CognitoEventUserPoolsCreateAuthChallenge = fixtures::event("create_first_challenge.json");
    let created = trigger.handle(create, chrono::Utc::now()).await.unwrap();
    let code = created.response.private_challenge_parameters["code"].clone();

    let wrong: CognitoEventUserPoolsVerifyAuthChallenge = fixtures::edited("verify_answer.json", |v| {
        v["request"]["privateChallengeParameters"] = json!(created.response.private_challenge_parameters);
        v["request"]["challengeAnswer"] = json!("000000x");
    });
    assert!(!verify::handle(wrong).unwrap().response.answer_correct);
    let right: CognitoEventUserPoolsVerifyAuthChallenge = fixtures::edited("verify_answer.json", |v| {
        v["request"]["privateChallengeParameters"] = json!(created.response.private_challenge_parameters);
        v["request"]["challengeAnswer"] = json!(format!("{} {}", &code[..3], &code[3..]));
    });
    assert!(verify::handle(right).unwrap().response.answer_correct);

    let last: CognitoEventUserPoolsDefineAuthChallenge = fixtures::edited("define_after_correct_answer.json", |v| {
        v["request"]["session"] = json!([
            {"challengeName": "CUSTOM_CHALLENGE", "challengeResult": false, "challengeMetadata": format!("CODE-{code}")},
            {"challengeName": "CUSTOM_CHALLENGE", "challengeResult": true, "challengeMetadata": format!("CODE-{code}")},
        ]);
    });
    assert!(define::handle(last, &define_config).unwrap().response.issue_tokens);

    let jobs = received_jobs(&sqs, &queue_url).await;
    let MailContent::LoginLink(data) = &jobs[0].content else { panic!("a login_link job") };
    let text = logs.text();
    assert!(text.contains(jobs[0].id.as_str()), "capture works and the job id is logged: {text}");
    assert!(text.lines().count() >= 5, "{text}");
    for secret in [code.as_str(), data.link.as_str(), "alice@example.com", "verify-login"] {
        assert!(!text.contains(secret), "logs leak {secret:?}:\n{text}");
    }
}
