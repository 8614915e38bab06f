//! Issue 19: the attacker of docs/threat-model.md plays a whole day against one account through
//! the real SDK, local-cognito and the real triggers with their state on moto's DynamoDB. Time the
//! test cannot wait for is simulated by moving the table's timestamps into the past by exactly the
//! wait each refusal names.

use e2e::CognitoStack;

/// What a refused sign-in says to wait, in seconds.
fn retry_after(message: &str) -> i64 {
    let wait = message.strip_prefix("CreateAuthChallenge failed with error TooManyEmails retryAfter=");
    wait.and_then(|w| w.trim_end_matches('.').parse().ok()).unwrap_or_else(|| panic!("not a refusal: {message}"))
}

#[tokio::test]
async fn a_day_of_non_stop_guessing_gets_the_documented_guesses_and_a_sign_in_resets_the_backoff() {
    let stack = CognitoStack::start(|_| {}).await;
    stack.sign_up("victim", "victim@example.com").await;
    let (mut elapsed, mut codes, mut guesses, mut longest_wait) = (0i64, 0, 0, 0);
    while elapsed < 86_400 {
        let session = match stack.initiate("victim").await {
            Ok(out) => out.session().unwrap().to_string(),
            Err((_, message)) => {
                let wait = retry_after(&message);
                stack.age_auth_state(wait).await;
                elapsed += wait;
                longest_wait = longest_wait.max(wait);
                continue;
            }
        };
        codes += stack.take_jobs().await.len();
        // Five wrong answers over two sessions (three per session), all at once.
        let mut session = Some(session);
        for _ in 0..5 {
            let s = match session.take() {
                Some(s) => s,
                None => stack.initiate("victim").await.expect("the live code, reused").session().unwrap().to_string(),
            };
            let out = stack.respond("victim", &s, "00000000", false).await;
            guesses += 1;
            session = out.ok().and_then(|o| o.session().map(str::to_string));
        }
    }
    assert_eq!((codes, guesses), (29, 145), "docs/threat-model.md: the first day");

    // The victim never waited more than the cap for an email; the last wait is over now.
    assert!((3599..=3600).contains(&longest_wait), "{longest_wait}");
    let out = stack.initiate("victim").await.unwrap();
    let code = stack.code_from_queue().await;
    let typo = stack.respond("victim", out.session().unwrap(), "12345678", false).await.unwrap();
    let done = stack.respond("victim", typo.session().unwrap(), &code, false).await.unwrap();
    assert!(done.authentication_result().is_some());
    // Signed in: the backoff is gone, the next email goes at once.
    let out = stack.initiate("victim").await.unwrap();
    assert_eq!(out.challenge_parameters().unwrap()["newEmail"], "true");
}
