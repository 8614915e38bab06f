//! Each trigger binary, built as Lambda runs it, answers the Lambda Runtime API: good events get a
//! response, a malformed event gets an error (the sign-in fails closed), bad configuration stops
//! start-up with the variable's name.

mod common;

use common::received_jobs;
use serde_json::{Value, json};
use testkit::{Moto, rie};
use triggers::auth_state::store::{AuthStateStore, StateKey};
use triggers::auth_state::{ActiveCode, UserState};
use triggers::fixtures;

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

const DEFINE: &str = env!("CARGO_BIN_EXE_define-auth-challenge");
const CREATE: &str = env!("CARGO_BIN_EXE_create-auth-challenge");
const VERIFY: &str = env!("CARGO_BIN_EXE_verify-auth-challenge");
const PRE_SIGN_UP: &str = env!("CARGO_BIN_EXE_pre-sign-up");
const POST_AUTHENTICATION: &str = env!("CARGO_BIN_EXE_post-authentication");
/// The `sub` of the fixtures' user alice.
const SUB: &str = "5a7c2f9e-0000-4000-8000-1234567890ab";

#[test]
fn define_answers_and_fails_malformed_events_closed() {
    let events = [
        fixtures::json("define_empty_session.json"),
        fixtures::json("define_null_session.json"),
        json!({"not": "a cognito event"}),
        fixtures::json("define_after_correct_answer.json"),
    ];
    let report = rie::run(DEFINE, &events, &env(&[("MAX_ATTEMPTS", "3")]), 20);
    assert_eq!(report.results().len(), 4, "{:?}", report.raw);
    assert!(report.ok(0));
    assert_eq!(report.body(0)["response"]["challengeName"], "CUSTOM_CHALLENGE");
    assert!(!report.ok(1), "null session must be an error: {}", report.body(1));
    assert!(!report.ok(2));
    assert_eq!(report.body(3)["response"]["issueTokens"], true);
    let metric = |name: &str| {
        report.output().lines().filter(|l| l.contains("\"_aws\"") && l.contains(&format!("\"{name}\":1"))).count()
    };
    assert_eq!((metric("SignInsStarted"), metric("SignInsSucceeded")), (1, 1), "{}", report.output());
    let first_log = report.output().lines().find(|l| l.starts_with('{')).expect("a JSON log line");
    let log: Value = serde_json::from_str(first_log).unwrap();
    assert!(log["span"]["requestId"].is_string(), "{first_log}");
}

#[tokio::test]
async fn verify_checks_the_shared_state_on_dynamodb_once() {
    let moto = Moto::start();
    let store = common::store_on(&moto).await;
    let mut vars = moto.env();
    vars.extend(env(&[("AUTH_STATE_TABLE", "auth-state")]));
    let now = chrono::Utc::now().timestamp();
    let code = ActiveCode {
        digits: "482913".into(),
        sent_at: now,
        expires_at: now + 180,
        wrong: 0,
        used: false,
        delivery: String::new(),
    };
    let key = StateKey::user("eu-west-1_AbCdEfGhI", "alice");
    store
        .save(
            &key,
            &UserState { owner: Some(SUB.into()), code: Some(code), emails: vec![now].into(), ..UserState::default() },
            0,
        )
        .await
        .unwrap();
    let events = [fixtures::json("verify_answer.json"), fixtures::json("verify_answer.json"), json!([1, 2])];
    let verify = tokio::task::spawn_blocking(move || rie::run(VERIFY, &events, &vars, 20)).await.unwrap();
    assert!(verify.ok(0), "{:?}", verify.raw);
    assert_eq!(verify.body(0)["response"]["answerCorrect"], true);
    assert_eq!(verify.body(1)["response"]["answerCorrect"], false, "a used code is dead");
    assert!(!verify.ok(2));
    assert!(!verify.output().contains("482913"), "{}", verify.output());
    assert!(store.load::<UserState>(&key).await.unwrap().state.code.unwrap().used);
}

#[test]
fn pre_sign_up_answers_the_runtime_api() {
    let sign_up = rie::run(PRE_SIGN_UP, &[fixtures::json("pre_sign_up.json"), json!("")], &[], 20);
    assert!(sign_up.ok(0));
    assert_eq!(sign_up.body(0)["response"]["autoConfirmUser"], true);
    assert!(!sign_up.ok(1));
}

#[test]
fn bad_configuration_stops_start_up_naming_the_variable() {
    let define =
        rie::run(DEFINE, &[fixtures::json("define_empty_session.json")], &env(&[("MAX_ATTEMPTS", "zero")]), 10);
    assert!(define.results().is_empty());
    assert!(define.raw["init_error"].as_str().unwrap().contains("MAX_ATTEMPTS"), "{:?}", define.raw);

    let create =
        rie::run(CREATE, &[fixtures::json("create_first_challenge.json")], &env(&[("MAIL_QUEUE_URL", "x")]), 10);
    assert!(create.results().is_empty());
    let init_error = create.raw["init_error"].as_str().unwrap();
    assert!(init_error.contains("missing required environment variable LOGIN_URL"), "{init_error}");
    assert!(create.output().contains("LOGIN_URL"));

    let verify = rie::run(VERIFY, &[fixtures::json("verify_answer.json")], &[], 10);
    assert!(verify.results().is_empty());
    let init_error = verify.raw["init_error"].as_str().unwrap();
    assert!(init_error.contains("missing required environment variable AUTH_STATE_TABLE"), "{init_error}");
}

/// moto with a mail queue and the auth-state table, and the variables that point a producer
/// binary at them plus `extra`.
async fn queue_on_moto(extra: &[(&str, &str)]) -> (Moto, aws_sdk_sqs::Client, String, Vec<(String, String)>) {
    let moto = Moto::start();
    let sqs = aws_sdk_sqs::Client::new(&moto.sdk_config().await);
    let queue_url = moto.create_queue(&sqs, "mail-jobs").await;
    let table = moto.create_auth_state_table().await;
    let mut vars = moto.env();
    vars.extend(env(&[("MAIL_QUEUE_URL", &queue_url), ("AUTH_STATE_TABLE", &table)]));
    vars.extend(env(extra));
    (moto, sqs, queue_url, vars)
}

#[tokio::test]
async fn create_sends_one_job_to_sqs_and_keeps_secrets_out_of_its_logs() {
    let (_moto, sqs, queue_url, vars) = queue_on_moto(&[("LOGIN_URL", "https://app.example.com/verify-login")]).await;
    let events = [
        fixtures::json("create_first_challenge.json"),
        fixtures::json("create_retry.json"),
        fixtures::json("create_user_not_found.json"),
        json!({"triggerSource": "CreateAuthChallenge_Authentication"}),
    ];
    let report = tokio::task::spawn_blocking(move || rie::run(CREATE, &events, &vars, 30)).await.unwrap();
    assert_eq!(report.results().len(), 4, "{:?}", report.raw);
    assert!(report.ok(0) && report.ok(1) && report.ok(2), "{:?}", report.raw);
    assert!(!report.ok(3), "a malformed event is an error");
    let public = |i: usize, key: &str| report.body(i)["response"]["publicChallengeParameters"][key].clone();
    assert_eq!((public(0, "newEmail"), public(1, "newEmail")), (json!("true"), json!("false")));
    assert_eq!(public(0, "sentAt"), public(1, "sentAt"), "the retry reuses the code of the first email");

    let jobs = received_jobs(&sqs, &queue_url).await;
    assert_eq!(jobs.len(), 1, "only the first challenge of a real user sends mail");
    let job = &jobs[0];
    let mail_job::MailContent::LoginLink(data) = &job.content else { panic!("a login_link job") };
    let code = data.code.clone();

    let logs = report.output();
    assert!(logs.contains(job.id.as_str()), "the job id is logged: {logs}");
    for secret in [code.as_str(), "482913", "alice@example.com", data.link.as_str(), "verify-login#"] {
        assert!(!logs.contains(secret), "logs leak {secret:?}: {logs}");
    }
}

#[tokio::test]
async fn post_authentication_verifies_the_address_on_cognito_then_enqueues_one_welcome_job() {
    use aws_sdk_cognitoidentityprovider::types::AttributeType;
    let (moto, sqs, queue_url, vars) = queue_on_moto(&[("SIGN_IN_URL", "https://app.example.com/login")]).await;
    // The user on moto's Cognito, which the binary reaches through the SDK's endpoint variable.
    let cognito = aws_sdk_cognitoidentityprovider::Client::new(&moto.sdk_config().await);
    let pool = cognito.create_user_pool().pool_name("p").send().await.unwrap().user_pool.unwrap().id.unwrap();
    let email = |n: &str, v: &str| AttributeType::builder().name(n).value(v).build().unwrap();
    cognito
        .admin_create_user()
        .user_pool_id(&pool)
        .username("alice")
        .user_attributes(email("email", "alice@example.com"))
        .send()
        .await
        .unwrap();
    let event = {
        let mut e = fixtures::json("post_authentication.json");
        e["userPoolId"] = json!(pool);
        e
    };
    let events = [event.clone(), json!({"triggerSource": "PostAuthentication_Authentication"})];
    let report = tokio::task::spawn_blocking(move || rie::run(POST_AUTHENTICATION, &events, &vars, 30)).await.unwrap();
    assert!(report.ok(0), "{:?}", report.raw);
    assert!(!report.ok(1), "a malformed event is an error");
    let user = cognito.admin_get_user().user_pool_id(&pool).username("alice").send().await.unwrap();
    let verified = user.user_attributes().iter().find(|a| a.name() == "email_verified").and_then(|a| a.value());
    assert_eq!(verified, Some("true"), "the emailed sign-in proved the address");
    let jobs = received_jobs(&sqs, &queue_url).await;
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].content.template_name(), "welcome");
    assert!(!report.output().contains("alice@example.com"), "{}", report.output());
}
