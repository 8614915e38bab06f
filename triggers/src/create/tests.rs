use super::*;
use crate::fixtures;
use crate::mail_queue::QueueError;
use std::sync::Mutex;
use std::time::Duration;

/// An in-memory queue: records jobs, optionally takes a while or fails.
#[derive(Default)]
struct MemoryQueue {
    jobs: Mutex<Vec<MailJob>>,
    delay: Duration,
    fail: bool,
}

impl MailQueue for MemoryQueue {
    async fn enqueue(&self, job: &MailJob) -> Result<(), QueueError> {
        tokio::time::sleep(self.delay).await;
        if self.fail {
            return Err(QueueError("AWS.SimpleQueueService.NonExistentQueue".into()));
        }
        self.jobs.lock().unwrap().push(job.clone());
        Ok(())
    }
}

fn config() -> CreateConfig {
    CreateConfig::from_env(&Env::from_pairs([
        ("MAIL_QUEUE_URL", "https://sqs.eu-west-1.amazonaws.com/123456789012/mail"),
        ("LOGIN_URL", "https://app.example.com/verify-login"),
    ]))
    .unwrap()
}

fn now() -> DateTime<Utc> {
    "2026-11-25T18:00:00Z".parse().unwrap()
}

fn trigger(queue: MemoryQueue) -> CreateChallenge<MemoryQueue> {
    CreateChallenge::new(config(), queue)
}

#[tokio::test]
async fn a_first_challenge_makes_a_code_and_enqueues_one_job() {
    let t = trigger(MemoryQueue::default());
    let out = t.handle(fixtures::event("create_first_challenge.json"), now()).await.unwrap();
    let jobs = t.queue.jobs.lock().unwrap();
    assert_eq!(jobs.len(), 1);
    let job = &jobs[0];
    let code = out.response.private_challenge_parameters["code"].clone();
    assert_eq!(code.len(), 6);
    let MailContent::LoginLink(data) = &job.content else { panic!("a login_link job") };
    assert_eq!(data.code, code);
    assert_eq!(data.username, "alice");
    assert_eq!(data.link, format!("https://app.example.com/verify-login?username=alice&code={code}"));
    assert_eq!(job.version, 1);
    assert_eq!(job.locale.as_str(), "fr");
    assert_eq!(job.to.email, "alice@example.com");
    assert_eq!(job.to.name.as_deref(), Some("alice"));
    assert_eq!(job.created_at, now());
    assert_eq!(job.expires_at, Some(now() + chrono::Duration::seconds(180)));
    assert_eq!(out.response.challenge_metadata, Some(format!("CODE-{code}")));
    assert_eq!(out.response.public_challenge_parameters["email"], "a***@example.com");
    assert_eq!(out.response.public_challenge_parameters["codeLength"], "6");
    assert_eq!(out.response.public_challenge_parameters["attempt"], "1");
}

#[tokio::test]
async fn public_parameters_never_hold_the_code_or_the_address() {
    let t = trigger(MemoryQueue::default());
    for name in ["create_first_challenge.json", "create_unicode_username.json", "create_retry.json"] {
        let out = t.handle(fixtures::event(name), now()).await.unwrap();
        let code = &out.response.private_challenge_parameters["code"];
        let public = serde_json::to_string(&out.response.public_challenge_parameters).unwrap();
        assert!(!public.contains(code.as_str()), "{public}");
        assert!(!public.contains("alice@") && !public.contains("zoe+test@"), "{public}");
    }
}

#[tokio::test]
async fn a_retry_in_the_session_reuses_the_code_and_sends_nothing() {
    let t = trigger(MemoryQueue::default());
    let out = t.handle(fixtures::event("create_retry.json"), now()).await.unwrap();
    assert_eq!(out.response.private_challenge_parameters["code"], "482913");
    assert_eq!(out.response.challenge_metadata.as_deref(), Some("CODE-482913"));
    assert_eq!(out.response.public_challenge_parameters["attempt"], "2");
    assert!(t.queue.jobs.lock().unwrap().is_empty());
}

#[tokio::test]
async fn tampered_metadata_is_not_reused() {
    let t = trigger(MemoryQueue::default());
    let event = fixtures::edited("create_retry.json", |v| {
        v["request"]["session"][0]["challengeMetadata"] = "CODE-12ab56".into()
    });
    let out = t.handle(event, now()).await.unwrap();
    assert_ne!(out.response.private_challenge_parameters["code"], "12ab56");
    assert_eq!(t.queue.jobs.lock().unwrap().len(), 1, "a fresh code means a fresh email");
}

#[tokio::test]
async fn a_missing_user_gets_the_same_shape_and_no_job() {
    let t = trigger(MemoryQueue::default());
    let real = t.handle(fixtures::event("create_first_challenge.json"), now()).await.unwrap();
    let missing = t.handle(fixtures::event("create_user_not_found.json"), now()).await.unwrap();
    assert_eq!(t.queue.jobs.lock().unwrap().len(), 1, "only the real user's job");
    let keys = |m: &std::collections::HashMap<String, String>| {
        let mut k: Vec<String> = m.keys().cloned().collect();
        k.sort();
        k
    };
    assert_eq!(keys(&real.response.public_challenge_parameters), keys(&missing.response.public_challenge_parameters));
    assert_eq!(keys(&real.response.private_challenge_parameters), keys(&missing.response.private_challenge_parameters));
    assert_eq!(missing.response.public_challenge_parameters["codeLength"], "6");
    assert!(missing.response.public_challenge_parameters["email"].starts_with("m***@"));
    assert!(missing.response.challenge_metadata.as_deref().unwrap().starts_with("CODE-"));
}

#[tokio::test(start_paused = true)]
async fn a_missing_user_takes_as_long_as_a_real_send() {
    // The tokio clock is paused, so time only moves by the sleeps themselves: exact, not flaky.
    let send = Duration::from_millis(37);
    let t = trigger(MemoryQueue { delay: send, ..Default::default() });
    let started = tokio::time::Instant::now();
    t.handle(fixtures::event("create_first_challenge.json"), now()).await.unwrap();
    let real = started.elapsed();
    let started = tokio::time::Instant::now();
    t.handle(fixtures::event("create_user_not_found.json"), now()).await.unwrap();
    let missing = started.elapsed();
    assert_eq!(real, send);
    assert_eq!(missing, send, "the decoy waits one recorded send latency");
}

#[tokio::test]
async fn unicode_usernames_names_and_locales() {
    let t = trigger(MemoryQueue::default());
    t.handle(fixtures::event("create_unicode_username.json"), now()).await.unwrap();
    let jobs = t.queue.jobs.lock().unwrap();
    let MailContent::LoginLink(data) = &jobs[0].content else { panic!("a login_link job") };
    assert_eq!(data.username, "Zoë+test&x=1");
    assert!(data.link.starts_with("https://app.example.com/verify-login?username=Zo%C3%AB%2Btest%26x%3D1&code="));
    assert_eq!(jobs[0].locale.as_str(), "de-de");
    assert_eq!(jobs[0].to.name.as_deref(), Some("Zoë Ångström"));
}

#[tokio::test]
async fn the_job_has_the_shape_of_the_shared_contract_fixture() {
    fn shape(v: &serde_json::Value) -> serde_json::Value {
        match v {
            serde_json::Value::Object(m) => m.iter().map(|(k, v)| (k.clone(), shape(v))).collect(),
            _ => serde_json::Value::Null,
        }
    }
    let t = trigger(MemoryQueue::default());
    t.handle(fixtures::event("create_first_challenge.json"), now()).await.unwrap();
    let produced: serde_json::Value = serde_json::from_str(&t.queue.jobs.lock().unwrap()[0].to_json()).unwrap();
    let contract: serde_json::Value = serde_json::from_str(&mail_job::read_fixture("login_link.json")).unwrap();
    assert_eq!(shape(&produced), shape(&contract));
    MailJob::parse(&produced.to_string()).expect("what the producer writes, the consumer reads");
}

#[tokio::test]
async fn errors_fail_the_sign_in() {
    let failing = trigger(MemoryQueue { fail: true, ..Default::default() });
    let err = failing.handle(fixtures::event("create_first_challenge.json"), now()).await.unwrap_err();
    assert!(err.to_string().contains("could not enqueue"), "{err}");

    let t = trigger(MemoryQueue::default());
    let no_email = fixtures::edited("create_first_challenge.json", |v| {
        v["request"]["userAttributes"] = serde_json::json!({"sub": "x"})
    });
    assert!(t.handle(no_email, now()).await.is_err());
    let srp = fixtures::edited("create_first_challenge.json", |v| v["request"]["challengeName"] = "SRP_A".into());
    assert!(t.handle(srp, now()).await.is_err());
    let no_user =
        fixtures::edited("create_first_challenge.json", |v| drop(v.as_object_mut().unwrap().remove("userName")));
    assert!(t.handle(no_user, now()).await.is_err());
    assert!(t.queue.jobs.lock().unwrap().is_empty());
}

#[test]
fn configuration_errors_name_the_variable() {
    let err = |pairs: &[(&str, &str)]| {
        CreateConfig::from_env(&Env::from_pairs(pairs.iter().copied())).unwrap_err().to_string()
    };
    let q = ("MAIL_QUEUE_URL", "https://sqs.example/q");
    let l = ("LOGIN_URL", "https://app.example.com/v");
    assert!(err(&[l]).contains("MAIL_QUEUE_URL"));
    assert!(err(&[q]).contains("LOGIN_URL"));
    assert!(err(&[q, ("LOGIN_URL", "http://app.example.com/v")]).contains("LOGIN_URL"));
    assert!(err(&[q, l, ("CODE_LENGTH", "4")]).contains("CODE_LENGTH"));
    assert!(err(&[q, l, ("CODE_TTL_SECONDS", "3600")]).contains("CODE_TTL_SECONDS"));
    let ok =
        CreateConfig::from_env(&Env::from_pairs([q, l, ("CODE_LENGTH", "8"), ("CODE_TTL_SECONDS", "300")])).unwrap();
    assert_eq!((ok.code_length, ok.code_ttl_seconds), (8, 300));
}
