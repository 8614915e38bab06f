//! Issue 15's promises against an attacker who works per spelling and per address, end to end:
//! the real SDK against local-cognito, the real triggers (post-authentication included) with their
//! state in moto's DynamoDB through the real adapter, and the mail queue on moto's SQS.

use e2e::CognitoStack;
use mail_job::MailContent;
use std::collections::HashMap;

/// The public parameters of a sign-in, without what differs by nature (the name echoed back, the
/// clock).
async fn answer_fields(stack: &CognitoStack, username: &str) -> HashMap<String, String> {
    let out = stack.initiate(username).await.expect("a challenge");
    let mut p = out.challenge_parameters().cloned().unwrap_or_default();
    p.remove("USERNAME");
    assert!(!p.contains_key("delivery"), "the delivery id stays with the code, never public");
    for time in ["sentAt", "expiresAt", "resendAt"] {
        assert!(p.remove(time).is_some_and(|t| t.ends_with('Z')), "{time}");
    }
    p
}

async fn stack() -> CognitoStack {
    CognitoStack::start_with(|_| {}, &[("SIGN_IN_URL", "http://localhost:4000/")]).await
}

#[tokio::test]
async fn two_spellings_of_an_unknown_name_answer_as_two_spellings_of_a_real_one() {
    let stack = stack().await;
    stack.sign_up("Émile", "emile@example.com").await;
    let mut real = Vec::new();
    for spelling in ["émile", "ÉMILE", "Émile"] {
        real.push(answer_fields(&stack, spelling).await);
    }
    let mut unknown = Vec::new();
    for spelling in ["zoé", "ZOÉ", "Zoé"] {
        unknown.push(answer_fields(&stack, spelling).await);
    }
    assert_eq!(real, unknown, "every answer field alike");
    assert_eq!((real[0]["newEmail"].as_str(), real[1]["newEmail"].as_str()), ("true", "false"));
    assert!(real.iter().all(|p| !p.contains_key("email")), "no part of the address by default");
    assert_eq!(stack.take_jobs().await.len(), 1, "one email for the real account, none for the unknown name");
}

#[tokio::test]
async fn a_name_burnt_while_unregistered_signs_in_with_an_email_right_after_sign_up() {
    let stack = stack().await;
    // Before "newbie" exists: sign-ins, resends until the budget refuses, wrong answers.
    let mut session = stack.initiate("NewBie").await.unwrap().session().unwrap().to_string();
    for _ in 0..5 {
        stack.age_auth_state(61).await;
        let out = stack.respond("newbie", &session, "resend", true).await;
        session = out.unwrap().session().unwrap().to_string();
    }
    let wrong = stack.respond("newbie", &session, "00000000", false).await;
    assert!(wrong.is_ok());
    assert!(stack.initiate("newbie").await.is_ok(), "a live decoy code is reused");
    assert!(stack.take_jobs().await.is_empty(), "nothing is sent for a name without an account");

    // The attacker keeps one session open across the sign-up.
    let stale = stack.initiate("newbie").await.unwrap().session().unwrap().to_string();

    stack.sign_up("newbie", "newbie@example.com").await;
    let out = stack.initiate("newbie").await.unwrap();
    assert_eq!(out.challenge_parameters().unwrap()["newEmail"], "true", "the account does not inherit the name's past");
    let code = stack.code_from_queue().await;
    // The stale session's rounds (a resend, a wrong answer) touch nothing of the account's.
    let resent = stack.respond("newbie", &stale, "resend", true).await.unwrap();
    let _ = stack.respond("newbie", resent.session().unwrap(), "00000000", false).await;
    assert!(stack.take_jobs().await.is_empty());
    let done = stack.respond("newbie", out.session().unwrap(), &code, false).await;
    assert!(done.unwrap().authentication_result().is_some());
}

#[tokio::test]
async fn ten_usernames_on_one_address_get_at_most_its_hourly_budget_welcome_included() {
    let stack = stack().await;
    // Case, +tags, and spellings the mailer's IDNA mapping rewrites to the same address.
    let spellings = [
        "victim@example.com",
        "Victim+a@example.com",
        "VICTIM@EXAMPLE.COM",
        "victim@exa\u{ad}mple.com",
        "victim@\u{ff45}xample.com",
    ];
    let mut refused = Vec::new();
    let mut sessions = Vec::new();
    for i in 0..10 {
        let name = format!("prank{i}");
        stack.sign_up(&name, spellings[i % spellings.len()]).await;
        match stack.initiate(&name).await {
            Ok(out) => sessions.push((name, out.session().unwrap().to_string())),
            Err((kind, message)) => refused.push((kind, message)),
        }
    }
    let jobs = stack.take_jobs().await;
    assert_eq!(jobs.len(), 5, "the address budget, whatever the username or spelling");
    assert_eq!(refused.len(), 5);
    for (kind, message) in &refused {
        assert_eq!(kind, "UserLambdaValidationException");
        assert!(message.starts_with("CreateAuthChallenge failed with error TooManyEmails retryAfter="), "{message}");
    }
    // One of them signs in: the address is proven, but its welcome would be the sixth email.
    let MailContent::LoginLink(data) = &jobs[0].content else { panic!("a login email") };
    let (name, session) = sessions.iter().find(|(n, _)| *n == data.username).unwrap();
    let done = stack.respond(name, session, &data.code, false).await.unwrap();
    assert!(done.authentication_result().is_some());
    assert!(stack.take_jobs().await.is_empty(), "no welcome over the address budget");

    // An hour on, the address receives mail again.
    stack.age_auth_state(3600).await;
    assert!(stack.initiate("prank9").await.is_ok());
    assert_eq!(stack.take_jobs().await.len(), 1);
}

#[tokio::test]
async fn the_first_emailed_sign_in_proves_the_address_and_only_then_welcomes() {
    let stack = stack().await;
    stack.sign_up("ada", "ada@example.com").await;
    assert!(stack.take_jobs().await.is_empty(), "no welcome at sign-up");
    let out = stack.initiate("ada").await.unwrap();
    let code = stack.code_from_queue().await;
    let done = stack.respond("ada", out.session().unwrap(), &code, false).await.unwrap();
    let id_token = done.authentication_result().and_then(|r| r.id_token()).unwrap();
    assert_eq!(testkit::jwt_claims(id_token)["email_verified"], true);
    let jobs = stack.take_jobs().await;
    assert_eq!(jobs.iter().map(|j| j.content.template_name()).collect::<Vec<_>>(), ["welcome"]);

    // The second sign-in: already proven, no second welcome.
    let out = stack.initiate("ada").await.unwrap();
    let code = stack.code_from_queue().await;
    stack.respond("ada", out.session().unwrap(), &code, false).await.unwrap();
    assert!(stack.take_jobs().await.is_empty());
}

#[tokio::test]
async fn a_proven_owner_is_never_locked_out_and_undeliverable_spellings_spend_nothing() {
    let stack = stack().await;
    // An address the mailer could not deliver to fails the sign-in closed and counts nothing.
    stack.sign_up("trick", "victim+\"@example.com").await;
    let (kind, message) = stack.initiate("trick").await.unwrap_err();
    assert_eq!(kind, "UserLambdaValidationException");
    assert!(message.contains("no usable email address"), "{message}");

    // The owner proves the address (login email + welcome: two of the five).
    stack.sign_up("victim", "victim@example.com").await;
    let out = stack.initiate("victim").await.unwrap();
    let code = stack.code_from_queue().await;
    stack.respond("victim", out.session().unwrap(), &code, false).await.unwrap();
    assert_eq!(stack.take_jobs().await.len(), 1, "the welcome");

    // Pranksters spend the rest of the mailbox's budget, then are refused.
    let mut sent = 0;
    for i in 0..5 {
        stack.sign_up(&format!("prank{i}"), "Victim+p@example.com").await;
        sent += usize::from(stack.initiate(&format!("prank{i}")).await.is_ok());
    }
    assert_eq!((sent, stack.take_jobs().await.len()), (3, 3));
    // The owner still gets their sign-in email: the budget counts it but never refuses them.
    let out = stack.initiate("victim").await.expect("the proven owner is not locked out");
    assert_eq!(out.challenge_parameters().unwrap()["newEmail"], "true");
    assert_eq!(stack.take_jobs().await.len(), 1);
}
