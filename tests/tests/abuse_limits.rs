//! The per-user limits across sessions (issue 10, docs/threat-model.md), end to end over the real
//! protocols: the Cognito SDK talks to local-cognito, whose triggers keep their shared state in
//! moto's DynamoDB through the real DynamoDB adapter and enqueue mail on moto's SQS. Time that a
//! test cannot wait for is simulated by moving the table's timestamps into the past.

use e2e::{Answer, CognitoStack};
use std::collections::HashMap;

fn params(out: &Answer) -> HashMap<String, String> {
    out.as_ref().expect("a challenge").challenge_parameters().cloned().unwrap_or_default()
}

fn signed_in(out: &Answer) -> bool {
    out.as_ref().is_ok_and(|o| o.authentication_result().is_some())
}

/// A stack with one user, alice, and nothing on the queue.
async fn stack_with_alice() -> CognitoStack {
    let stack = CognitoStack::start(|_| {}).await;
    stack.sign_up("alice", "alice@example.com").await;
    stack.take_jobs().await;
    stack
}

/// Starts a sign-in; returns its session string and challenge parameters.
async fn start(stack: &CognitoStack, username: &str) -> (String, HashMap<String, String>) {
    let out = stack.initiate(username).await.expect("InitiateAuth");
    (out.session().unwrap().to_string(), out.challenge_parameters().cloned().unwrap_or_default())
}

#[tokio::test]
async fn ten_sign_ins_send_one_email_whose_code_works_in_the_tenth_session_once() {
    let stack = stack_with_alice().await;
    let mut sessions = Vec::new();
    for _ in 0..10 {
        sessions.push(start(&stack, "alice").await);
    }
    let code = stack.code_from_queue().await; // asserts: ten sign-ins, one email
    assert_eq!((sessions[0].1["newEmail"].as_str(), sessions[0].1["codeAttemptsLeft"].as_str()), ("true", "5"));
    assert!(sessions[1..].iter().all(|(_, p)| p["newEmail"] == "false" && p["sentAt"] == sessions[0].1["sentAt"]));
    let (session, _) = &sessions[9];
    assert!(signed_in(&stack.respond("alice", session, &code, false).await));

    // Used: dead in a new session (which emails a new code) and in every other open one.
    let (fresh, p) = start(&stack, "alice").await;
    assert_eq!(p["newEmail"], "true", "a used code is replaced at the next sign-in");
    assert!(!signed_in(&stack.respond("alice", &fresh, &code, false).await));
    let (other, _) = &sessions[3];
    assert!(!signed_in(&stack.respond("alice", other, &code, false).await));
}

#[tokio::test]
async fn five_wrong_answers_over_two_sessions_kill_the_code() {
    let stack = stack_with_alice().await;
    let (mut a, _) = start(&stack, "alice").await;
    let code = stack.code_from_queue().await;
    for i in 0..3 {
        let out = stack.respond("alice", &a, "000000", false).await;
        if i < 2 {
            a = out.as_ref().unwrap().session().unwrap().to_string();
            assert_eq!(params(&out)["codeAttemptsLeft"], (4 - i).to_string());
        } else {
            assert_eq!(out.unwrap_err().0, "NotAuthorizedException", "MAX_ATTEMPTS per session");
        }
    }
    let (mut b, p) = start(&stack, "alice").await;
    assert_eq!((p["newEmail"].as_str(), p["codeAttemptsLeft"].as_str()), ("false", "2"), "the count crossed sessions");
    let out = stack.respond("alice", &b, "000000", false).await;
    b = out.as_ref().unwrap().session().unwrap().to_string();
    // The fifth wrong answer kills the code; the next email waits a minute (the guess backoff),
    // so the round after it is refused with the wait, as the hourly budget refuses.
    let out = stack.respond("alice", &b, "000000", false).await;
    let message = out.unwrap_err().1;
    let wait = message.strip_prefix("CreateAuthChallenge failed with error TooManyEmails retryAfter=");
    // 60 s after the email went out: 59 if the clock ticked a second in between.
    assert!(matches!(wait, Some("60.") | Some("59.")), "{message}");
    assert!(stack.take_jobs().await.is_empty());
    stack.age_auth_state(60).await;
    let (c, p) = start(&stack, "alice").await;
    assert_eq!(p["newEmail"], "true", "a minute on, a new email");
    assert_eq!(stack.take_jobs().await.len(), 1);
    let out = stack.respond("alice", &c, &code, false).await;
    assert!(!signed_in(&out), "the old code is dead everywhere");
}

#[tokio::test]
async fn two_sessions_answering_the_same_code_at_once_sign_in_exactly_once() {
    let stack = stack_with_alice().await;
    let (a, _) = start(&stack, "alice").await;
    let (b, _) = start(&stack, "alice").await;
    let code = stack.code_from_queue().await;
    let (x, y) = tokio::join!(stack.respond("alice", &a, &code, false), stack.respond("alice", &b, &code, false));
    assert_eq!(usize::from(signed_in(&x)) + usize::from(signed_in(&y)), 1, "{x:?} {y:?}");
}

#[tokio::test]
async fn a_resend_is_refused_for_a_minute_then_replaces_the_code() {
    let stack = stack_with_alice().await;
    let (session, _) = start(&stack, "alice").await;
    let old = stack.code_from_queue().await;

    let early = stack.respond("alice", &session, "resend", true).await;
    let p = params(&early);
    assert_eq!((p["resend"].as_str(), p["newEmail"].as_str()), ("too_soon", "false"));
    assert!((1..=60).contains(&p["retryAfter"].parse::<i64>().unwrap()), "{p:?}");
    assert_eq!(p["attempt"], "1", "a resend request is not a wrong answer");
    assert!(stack.take_jobs().await.is_empty());

    stack.age_auth_state(60).await;
    let session = early.unwrap().session().unwrap().to_string();
    let late = stack.respond("alice", &session, "resend", true).await;
    assert_eq!((params(&late)["resend"].as_str(), params(&late)["newEmail"].as_str()), ("sent", "true"));
    let new = stack.code_from_queue().await;
    assert_ne!(new, old);
    let session = late.unwrap().session().unwrap().to_string();
    let with_old = stack.respond("alice", &session, &old, false).await;
    assert!(!signed_in(&with_old), "the replaced code is dead");
    let session = with_old.unwrap().session().unwrap().to_string();
    assert!(signed_in(&stack.respond("alice", &session, &new, false).await));
}

/// Starts a sign-in for `username`, then asks for a new email a minute at a time until the hourly
/// budget refuses one. Returns the live session and the number of resends that were sent.
async fn spend_the_hourly_budget(stack: &CognitoStack, username: &str) -> (String, usize) {
    let (mut session, _) = start(stack, username).await;
    for sent in 0..=5 {
        stack.age_auth_state(61).await;
        let out = stack.respond(username, &session, "resend", true).await;
        let outcome = params(&out)["resend"].clone();
        session = out.unwrap().session().unwrap().to_string();
        if outcome == "over_budget" {
            return (session, sent);
        }
        assert_eq!(outcome, "sent", "{username}");
    }
    panic!("{username}: six emails in an hour");
}

#[tokio::test]
async fn over_the_hourly_budget_the_sign_in_is_refused_with_the_wait_and_the_code_expires_on_time() {
    let stack = stack_with_alice().await;
    let (session, resends) = spend_the_hourly_budget(&stack, "alice").await;
    assert_eq!(resends, 4, "the sign-in's email and four resends");
    let jobs = stack.take_jobs().await;
    assert_eq!(jobs.len(), 5);
    let mail_job::MailContent::LoginLink(newest) = &jobs[4].content else { panic!("a login email") };
    let code = newest.code.clone();

    // The code expires when its email says, whatever the session does.
    stack.age_auth_state(180).await;
    let late = stack.respond("alice", &session, &code, false).await;
    let (error, message) = late.unwrap_err();
    assert_eq!(error, "UserLambdaValidationException", "no usable code and no budget: refused");
    assert!(message.starts_with("CreateAuthChallenge failed with error TooManyEmails retryAfter="), "{message}");
    let (error, message) = stack.initiate("alice").await.unwrap_err();
    assert_eq!(error, "UserLambdaValidationException");
    let wait: i64 = message.rsplit('=').next().unwrap().trim_end_matches('.').parse().unwrap();
    assert!((3600 - 5 * 61 - 180 - 5..=3600 - 5 * 61 - 180).contains(&wait), "{message}");
    assert!(stack.take_jobs().await.is_empty());
}

#[tokio::test]
async fn an_unknown_username_gets_the_same_answers_and_limits() {
    let stack = CognitoStack::start(|_| {}).await;
    stack.sign_up("alice", "alice@example.com").await;
    let comparable = |p: &HashMap<String, String>| {
        let mut p = p.clone();
        p.remove("USERNAME");
        p.remove("email");
        p.remove("retryAfter");
        assert!(!p.contains_key("delivery"), "the delivery id stays with the code, never public");
        for time in ["sentAt", "expiresAt", "resendAt"] {
            assert!(p.remove(time).is_some_and(|t| t.ends_with('Z')), "{time}");
        }
        p
    };
    let mut seen = Vec::new();
    for user in ["alice", "mallory"] {
        let (session, first) = start(&stack, user).await;
        let (_, second) = start(&stack, user).await;
        let wrong = stack.respond(user, &session, "000000", false).await;
        let session = wrong.as_ref().unwrap().session().unwrap().to_string();
        let resend = stack.respond(user, &session, "resend", true).await;
        seen.push([comparable(&first), comparable(&second), comparable(&params(&wrong)), comparable(&params(&resend))]);
    }
    assert_eq!(seen[0], seen[1]);
    assert_eq!(seen[1][1]["newEmail"], "false", "unknown users reuse their code too");

    let (known, _) = spend_the_hourly_budget(&stack, "alice").await;
    let (unknown, _) = spend_the_hourly_budget(&stack, "mallory").await;
    stack.age_auth_state(180).await;
    let a = stack.respond("alice", &known, "000000", false).await.unwrap_err();
    let m = stack.respond("mallory", &unknown, "000000", false).await.unwrap_err();
    assert_eq!(a.0, m.0);
    assert!(a.1.contains("TooManyEmails") && m.1.contains("TooManyEmails"), "{a:?} {m:?}");
    let jobs = stack.take_jobs().await;
    assert!(jobs.iter().all(|j| j.to.email == "alice@example.com"), "never an email for an unknown user");
}
