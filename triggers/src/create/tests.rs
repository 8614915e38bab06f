use super::*;
use crate::auth_state::store::MemoryStore;
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

fn trigger(queue: MemoryQueue) -> CreateChallenge<MemoryQueue, MemoryStore> {
    CreateChallenge::new(config(), queue, MemoryStore::new())
}

fn jobs(t: &CreateChallenge<MemoryQueue, MemoryStore>) -> Vec<MailJob> {
    t.queue.jobs.lock().unwrap().clone()
}

fn code_of(job: &MailJob) -> String {
    let MailContent::LoginLink(data) = &job.content else { panic!("a login_link job") };
    data.code.clone()
}

fn public(out: &CognitoEventUserPoolsCreateAuthChallenge, key: &str) -> String {
    out.response.public_challenge_parameters.get(key).cloned().unwrap_or_else(|| panic!("no {key}"))
}

fn resend_event() -> CognitoEventUserPoolsCreateAuthChallenge {
    fixtures::edited("create_retry.json", |v| v["request"]["clientMetadata"] = serde_json::json!({"action": "resend"}))
}

#[tokio::test]
async fn a_first_challenge_makes_a_code_and_enqueues_one_job() {
    let t = trigger(MemoryQueue::default());
    let out = t.handle(fixtures::event("create_first_challenge.json"), now()).await.unwrap();
    let jobs = jobs(&t);
    assert_eq!(jobs.len(), 1);
    let job = &jobs[0];
    let code = code_of(job);
    assert_eq!(code.len(), code::DEFAULT_LENGTH);
    let MailContent::LoginLink(data) = &job.content else { panic!("a login_link job") };
    assert_eq!(data.username, "alice");
    assert_eq!(data.link, format!("https://app.example.com/verify-login#v=2&username=alice&code={code}"));
    assert_eq!(job.version, 1);
    assert_eq!(job.locale.as_str(), "fr");
    assert_eq!(job.to.email, "alice@example.com");
    assert_eq!(job.to.name.as_deref(), Some("alice"));
    assert_eq!(job.created_at, now());
    assert_eq!(job.expires_at, Some(now() + chrono::Duration::seconds(180)));
    assert!(out.response.private_challenge_parameters.is_empty(), "the code is checked against the state");
    assert_eq!(out.response.challenge_metadata.as_deref(), Some("RESENDS-0"));
    assert!(!out.response.public_challenge_parameters.contains_key("email"), "no part of the address by default");
    assert_eq!(public(&out, "codeLength"), "8");
    assert_eq!(public(&out, "attempt"), "1");
    assert_eq!(public(&out, "codeAttemptsLeft"), "5");
    assert_eq!(public(&out, "sentAt"), "2026-11-25T18:00:00Z");
    assert_eq!(public(&out, "expiresAt"), "2026-11-25T18:03:00Z");
    assert_eq!(public(&out, "resendAt"), "2026-11-25T18:01:00Z");
    assert_eq!(public(&out, "newEmail"), "true");
    assert!(!out.response.public_challenge_parameters.contains_key("resend"));
}

#[tokio::test]
async fn public_parameters_never_hold_the_code_or_the_address() {
    let t = trigger(MemoryQueue::default());
    for name in ["create_first_challenge.json", "create_unicode_username.json", "create_retry.json"] {
        let out = t.handle(fixtures::event(name), now()).await.unwrap();
        let public = serde_json::to_string(&out.response.public_challenge_parameters).unwrap();
        for job in jobs(&t) {
            assert!(!public.contains(&code_of(&job)), "{public}");
        }
        assert!(!public.contains("alice@") && !public.contains("zoe+test@"), "{public}");
    }
}

#[tokio::test]
async fn later_sign_ins_and_retries_reuse_the_active_code_and_send_nothing() {
    let t = trigger(MemoryQueue::default());
    t.handle(fixtures::event("create_first_challenge.json"), now()).await.unwrap();
    for i in 1..10 {
        let later = now() + chrono::Duration::seconds(i * 10);
        let out = t.handle(fixtures::event("create_first_challenge.json"), later).await.unwrap();
        assert_eq!(
            (public(&out, "newEmail").as_str(), public(&out, "sentAt").as_str()),
            ("false", "2026-11-25T18:00:00Z")
        );
    }
    let out = t.handle(fixtures::event("create_retry.json"), now()).await.unwrap();
    assert_eq!(public(&out, "attempt"), "2");
    assert_eq!(jobs(&t).len(), 1, "ten rounds, one email");
}

#[tokio::test]
async fn a_resend_is_refused_for_a_minute_then_sends_a_new_code() {
    let t = trigger(MemoryQueue::default());
    t.handle(fixtures::event("create_first_challenge.json"), now()).await.unwrap();
    let out = t.handle(resend_event(), now() + chrono::Duration::seconds(59)).await.unwrap();
    assert_eq!((public(&out, "resend").as_str(), public(&out, "retryAfter").as_str()), ("too_soon", "1"));
    assert_eq!(public(&out, "newEmail"), "false");
    assert_eq!(public(&out, "attempt"), "1", "a resend round is not an answer");
    assert_eq!(out.response.challenge_metadata.as_deref(), Some("RESENDS-1"));
    let out = t.handle(resend_event(), now() + chrono::Duration::seconds(60)).await.unwrap();
    assert_eq!((public(&out, "resend").as_str(), public(&out, "newEmail").as_str()), ("sent", "true"));
    let jobs = jobs(&t);
    assert_eq!(jobs.len(), 2);
    assert_eq!(jobs[1].expires_at, Some(now() + chrono::Duration::seconds(240)));
}

#[tokio::test]
async fn over_the_hourly_budget_a_sign_in_is_refused_with_the_wait() {
    let t = trigger(MemoryQueue::default());
    for i in 0..5 {
        let at = now() + chrono::Duration::seconds(i * 61);
        let out = t.handle(resend_event(), at).await.unwrap();
        assert_eq!(public(&out, "resend"), "sent");
    }
    let over = t.handle(resend_event(), now() + chrono::Duration::seconds(5 * 61)).await.unwrap();
    assert_eq!((public(&over, "resend").as_str(), public(&over, "retryAfter").as_str()), ("over_budget", "3295"));
    // Once the code expired there is nothing to reuse: the sign-in itself is refused.
    let later = now() + chrono::Duration::seconds(4 * 61 + 180);
    let err = t.handle(fixtures::event("create_first_challenge.json"), later).await.unwrap_err();
    assert_eq!(err.to_string(), format!("{REFUSAL}{}", 3600 - (4 * 61 + 180)));
    assert_eq!(jobs(&t).len(), 5);
}

#[tokio::test]
async fn a_missing_user_gets_the_same_shape_limits_and_no_job() {
    let t = trigger(MemoryQueue::default());
    let real = t.handle(fixtures::event("create_first_challenge.json"), now()).await.unwrap();
    let missing = t.handle(fixtures::event("create_user_not_found.json"), now()).await.unwrap();
    assert_eq!(jobs(&t).len(), 1, "only the real user's job");
    let keys = |m: &std::collections::HashMap<String, String>| {
        let mut k: Vec<String> = m.keys().cloned().collect();
        k.sort();
        k
    };
    assert_eq!(keys(&real.response.public_challenge_parameters), keys(&missing.response.public_challenge_parameters));
    assert_eq!(real.response.private_challenge_parameters, missing.response.private_challenge_parameters);
    assert_eq!(real.response.challenge_metadata, missing.response.challenge_metadata);
    for key in ["codeLength", "attempt", "codeAttemptsLeft", "sentAt", "expiresAt", "resendAt", "newEmail"] {
        assert_eq!(public(&real, key), public(&missing, key), "{key}");
    }
    let again = t.handle(fixtures::event("create_user_not_found.json"), now()).await.unwrap();
    assert_eq!(public(&again, "newEmail"), "false", "unknown users reuse their (decoy) code too");
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
    assert!(data.link.starts_with("https://app.example.com/verify-login#v=2&username=Zo%C3%AB%2Btest%26x%3D1&code="));
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
    // The unsent code was withdrawn: the next sign-in makes a new one instead of reusing it.
    let state = failing.store.load::<UserState>(&StateKey::user("eu-west-1_AbCdEfGhI", "alice")).await.unwrap().state;
    assert_eq!((state.code, state.emails.times().len()), (None, 0));

    let t = trigger(MemoryQueue::default());
    let no_email = fixtures::edited("create_first_challenge.json", |v| {
        v["request"]["userAttributes"] = serde_json::json!({"sub": "x"})
    });
    assert!(t.handle(no_email, now()).await.is_err());
    let srp = fixtures::edited("create_first_challenge.json", |v| v["request"]["challengeName"] = "SRP_A".into());
    assert!(t.handle(srp, now()).await.is_err());
    for field in ["userName", "userPoolId"] {
        let event = fixtures::edited("create_first_challenge.json", |v| drop(v.as_object_mut().unwrap().remove(field)));
        assert!(t.handle(event, now()).await.is_err(), "{field}");
    }
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
    assert!(err(&[q, ("LOGIN_URL", "https://app.example.com/#/v")]).contains("fragment"));
    assert!(err(&[q, l, ("MAX_EMAILS_PER_HOUR", "0")]).contains("MAX_EMAILS_PER_HOUR"));
    let ok =
        CreateConfig::from_env(&Env::from_pairs([q, l, ("CODE_LENGTH", "8"), ("CODE_TTL_SECONDS", "300")])).unwrap();
    assert_eq!((ok.code_length, ok.code_ttl_seconds), (8, 300));
}

fn masked() -> CreateChallenge<MemoryQueue, MemoryStore> {
    let mut config = config();
    config.email_hint = EmailHint::Masked;
    CreateChallenge::new(config, MemoryQueue::default(), MemoryStore::new())
}

fn unknown(username: &str) -> CognitoEventUserPoolsCreateAuthChallenge {
    fixtures::edited("create_user_not_found.json", |v| v["userName"] = username.into())
}

#[tokio::test]
async fn with_masked_hints_an_unknown_name_keeps_a_drawn_hint_whatever_its_spelling() {
    let t = masked();
    let real = t.handle(fixtures::event("create_first_challenge.json"), now()).await.unwrap();
    assert_eq!(public(&real, "email"), "a***@example.com");
    let mut hints = Vec::new();
    for name in ["mallory", "MALLORY", "Mallory"] {
        hints.push(public(&t.handle(unknown(name), now()).await.unwrap(), "email"));
    }
    assert!(hints.iter().all(|h| h == &hints[0]), "{hints:?}");
    assert!(crate::decoy::PLAUSIBLE_DOMAINS.iter().any(|d| hints[0].ends_with(d)), "{hints:?}");
    // Drawn, not derived from the name: over a few names, more than one first letter shows up.
    let mut letters = std::collections::BTreeSet::new();
    for i in 0..40 {
        let hint = public(&t.handle(unknown(&format!("nobody{i}")), now()).await.unwrap(), "email");
        letters.insert(hint.chars().next().unwrap());
    }
    assert!(letters.len() > 3, "{letters:?}");
}

#[tokio::test]
async fn two_spellings_of_an_unknown_name_answer_as_two_spellings_of_a_real_one() {
    let t = trigger(MemoryQueue::default());
    let spellings = |name: &str| [name.to_string(), name.to_uppercase()];
    let mut real = Vec::new();
    for name in spellings("alice") {
        let event = fixtures::edited("create_first_challenge.json", |v| v["userName"] = name.clone().into());
        real.push(t.handle(event, now()).await.unwrap().response.public_challenge_parameters);
    }
    let mut missing = Vec::new();
    for name in spellings("mallory") {
        missing.push(t.handle(unknown(&name), now()).await.unwrap().response.public_challenge_parameters);
    }
    assert_eq!(real, missing, "every answer field alike");
    assert_eq!(real[1]["newEmail"], "false", "one state per account");
    assert_eq!(jobs(&t).len(), 1);
}

#[tokio::test]
async fn state_left_under_a_name_before_its_account_existed_is_not_the_accounts() {
    let t = trigger(MemoryQueue::default());
    // An attacker spends the unknown name's budget and leaves a live (decoy) code.
    for _ in 0..5 {
        let _ = t
            .handle(
                fixtures::edited("create_user_not_found.json", |v| {
                    v["userName"] = "alice".into();
                    v["request"]["clientMetadata"] = serde_json::json!({"action": "resend"});
                }),
                now() + chrono::Duration::minutes(2),
            )
            .await;
    }
    // Then alice signs up and signs in: an email goes out at once.
    let out = t.handle(fixtures::event("create_first_challenge.json"), now() + chrono::Duration::minutes(3)).await;
    assert_eq!(public(&out.unwrap(), "newEmail"), "true");
    assert_eq!(jobs(&t).len(), 1);
}

#[tokio::test]
async fn one_mailbox_gets_at_most_its_hourly_budget_whatever_the_username() {
    let t = trigger(MemoryQueue::default());
    let mut refused = 0;
    for (i, address) in ["victim@example.com", "Victim+1@example.com", "VICTIM@EXAMPLE.COM", "victim+x@example.com"]
        .iter()
        .cycle()
        .take(10)
        .enumerate()
    {
        let event = fixtures::edited("create_first_challenge.json", |v| {
            v["userName"] = format!("user{i}").into();
            v["request"]["userAttributes"]["sub"] = format!("sub-{i}").into();
            v["request"]["userAttributes"]["email"] = (*address).into();
        });
        match t.handle(event, now()).await {
            Ok(_) => {}
            Err(e) => {
                assert_eq!(e.to_string(), format!("{REFUSAL}3600"), "the same refusal as the per-user budget");
                refused += 1;
            }
        }
    }
    assert_eq!((jobs(&t).len(), refused), (5, 5));
    // The refused users' codes were taken back: their next sign-in, an hour on, emails them.
    let event = fixtures::edited("create_first_challenge.json", |v| {
        v["userName"] = "user9".into();
        v["request"]["userAttributes"]["sub"] = "sub-9".into();
        v["request"]["userAttributes"]["email"] = "victim@example.com".into();
    });
    let out = t.handle(event, now() + chrono::Duration::minutes(61)).await.unwrap();
    assert_eq!(public(&out, "newEmail"), "true");
}

#[tokio::test]
async fn a_suppressed_address_gets_nothing_yet_its_sign_in_answers_as_any_other() {
    use crate::auth_state::MailboxState;
    use crate::auth_state::delivery::{self, DeliveryState, DeliveryStatus};
    let t = trigger(MemoryQueue::default());
    let event: CognitoEventUserPoolsCreateAuthChallenge = fixtures::event("create_first_challenge.json");
    let pool = event.cognito_event_user_pools_header.user_pool_id.clone().unwrap();
    let email = event.request.user_attributes["email"].clone();
    let (mailbox, tag) = (StateKey::mailbox(&pool, &email).unwrap(), StateKey::address_tag(&pool, &email).unwrap());
    update(&t.store, &mailbox, |m: MailboxState| delivery::suppress(m, &tag, "permanent_bounce", 1)).await.unwrap();

    let first = t.handle(event.clone(), now()).await.unwrap();
    assert!(jobs(&t).is_empty(), "nothing enqueued");
    assert_eq!(public(&first, "newEmail"), "true", "as if the email went out");
    let stored =
        t.store.load::<UserState>(&StateKey::of_event(&first.cognito_event_user_pools_header, "t").unwrap().1).await;
    let id = stored.unwrap().state.code.unwrap().delivery;
    assert_eq!(id.len(), 32, "the email's delivery id is kept with its code, never shown");
    assert!(!first.response.public_challenge_parameters.contains_key("delivery"));
    let status = t.store.load::<DeliveryState>(&StateKey::delivery(&pool, &id)).await.unwrap().state;
    assert_eq!((status.status, status.reason.as_deref()), (DeliveryStatus::Bounced, Some("suppressed")));
    let second = t.handle(event, now() + chrono::Duration::seconds(5)).await.unwrap();
    assert_eq!(public(&second, "newEmail"), "false", "the code is kept: the next sign-in reuses it");

    // Another address of the same mailbox is not suppressed.
    let other = fixtures::edited("create_first_challenge.json", |v| {
        v["userName"] = "bob".into();
        v["request"]["userAttributes"]["sub"] = "b0b".into();
        v["request"]["userAttributes"]["email"] = email.replace('@', "+x@").into();
    });
    t.handle(other, now()).await.unwrap();
    assert_eq!(jobs(&t).len(), 1);
}

async fn state_owner(t: &CreateChallenge<MemoryQueue, MemoryStore>, key: &StateKey) -> Option<String> {
    t.store.load::<UserState>(key).await.unwrap().state.owner
}

/// The fixture user's state with a passkey proof the auth API left a moment ago.
async fn with_proof(t: &CreateChallenge<MemoryQueue, MemoryStore>, secret: &str) -> StateKey {
    let event: CognitoEventUserPoolsCreateAuthChallenge = fixtures::event("create_first_challenge.json");
    let sub = event.request.user_attributes.get("sub").unwrap().clone();
    let (_, key) = StateKey::of_event(&event.cognito_event_user_pools_header, "test").unwrap();
    assert!(update(&t.store, &key, |s| passkey::grant(s, &sub, secret, now().timestamp() - 1)).await.unwrap());
    key
}

#[tokio::test]
async fn a_passkey_proof_turns_the_first_round_into_a_passkey_challenge_with_no_email() {
    let t = trigger(MemoryQueue::default());
    let key = with_proof(&t, "proof-secret").await;
    let out = t.handle(fixtures::event("create_first_challenge.json"), now()).await.unwrap();
    assert!(jobs(&t).is_empty(), "no email for a passkey sign-in");
    assert_eq!(public(&out, "method"), "passkey");
    assert_eq!(out.response.public_challenge_parameters.len(), 1, "nothing else is public");
    let digest = out.response.private_challenge_parameters.get(passkey::PRIVATE_PARAMETER).unwrap();
    assert!(passkey::answers(digest, "proof-secret"));
    assert_eq!(out.response.challenge_metadata.as_deref(), Some(passkey::METADATA));
    let state: UserState = t.store.load(&key).await.unwrap().state;
    assert!(state.passkey.is_some(), "only the secret's holder uses it up (in verify)");
    assert_eq!((&state.code, state.emails.times().len()), (&None, 0), "no code, no email");
    // Once used up, the next sign-in is an email one again.
    let (ok, used) =
        passkey::consume(state, state_owner(&t, &key).await.as_deref(), digest, "proof-secret", now().timestamp());
    assert!(ok);
    t.store.save(&key, &used, t.store.load::<UserState>(&key).await.unwrap().version).await.unwrap();
    let again = t.handle(fixtures::event("create_first_challenge.json"), now()).await.unwrap();
    assert_eq!(jobs(&t).len(), 1);
    assert!(!again.response.public_challenge_parameters.contains_key("method"));
}

#[tokio::test]
async fn only_a_first_round_of_the_owners_session_takes_a_proof() {
    let t = trigger(MemoryQueue::default());
    with_proof(&t, "s").await;
    // A later round (an email session already under way) leaves the proof alone.
    let later = t.handle(fixtures::event("create_retry.json"), now()).await.unwrap();
    assert!(!later.response.public_challenge_parameters.contains_key("method"));
    // An unknown name with the same spelling never takes an account's proof.
    let unknown =
        fixtures::edited("create_first_challenge.json", |v| v["request"]["userNotFound"] = serde_json::json!(true));
    let out = t.handle(unknown, now()).await.unwrap();
    assert!(!out.response.public_challenge_parameters.contains_key("method"));
    // An expired proof is not taken either.
    let t = trigger(MemoryQueue::default());
    with_proof(&t, "s").await;
    let late = now() + chrono::Duration::seconds(passkey::PROOF_TTL_SECONDS);
    let out = t.handle(fixtures::event("create_first_challenge.json"), late).await.unwrap();
    assert!(!out.response.public_challenge_parameters.contains_key("method"));
    assert_eq!(jobs(&t).len(), 1);
}
