//! verify-auth-challenge: is the answer the code? Normalised, compared in constant time.

use crate::TriggerError;
use crate::code::OneTimeCode;
use aws_lambda_events::event::cognito::CognitoEventUserPoolsVerifyAuthChallenge;

pub fn handle(
    mut event: CognitoEventUserPoolsVerifyAuthChallenge,
) -> Result<CognitoEventUserPoolsVerifyAuthChallenge, TriggerError> {
    if event.cognito_event_user_pools_header.trigger_source.is_none() {
        return Err("malformed VerifyAuthChallenge event: no triggerSource".into());
    }
    let request = &event.request;
    // Without the expected code there is nothing to compare with: a broken chain, not a wrong answer.
    let expected = request
        .private_challenge_parameters
        .get("code")
        .and_then(|c| OneTimeCode::from_digits(c))
        .ok_or("VerifyAuthChallenge event has no valid expected code")?;
    // Only a JSON string can be an answer; a number, object or null is simply wrong.
    let answer = request.challenge_answer.as_ref().and_then(|a| a.as_str()).unwrap_or("");
    // The comparison runs for missing users too, so both take the same time.
    let matches = expected.matches(answer);
    let correct = matches && !request.user_not_found;
    tracing::info!(correct, "verify auth challenge");
    if !correct {
        lambda_support::metrics::emit(&[], &[("CodesRejected", lambda_support::metrics::Unit::Count, 1.0)]);
    }
    event.response.answer_correct = correct;
    Ok(event)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures;
    use serde_json::json;

    fn verdict(name: &str, answer: Option<serde_json::Value>) -> bool {
        let event = fixtures::edited(name, |v| match answer {
            Some(a) => v["request"]["challengeAnswer"] = a,
            None => drop(v["request"].as_object_mut().unwrap().remove("challengeAnswer")),
        });
        handle(event).unwrap().response.answer_correct
    }

    #[test]
    fn the_fixture_answer_with_a_space_is_correct() {
        let out = handle(fixtures::event("verify_answer.json")).unwrap();
        assert!(out.response.answer_correct);
    }

    #[test]
    fn right_and_wrong_answers() {
        assert!(verdict("verify_answer.json", Some(json!("482-913"))));
        assert!(!verdict("verify_answer.json", Some(json!("482914"))));
        assert!(!verdict("verify_answer.json", Some(json!(""))));
        assert!(!verdict("verify_answer.json", Some(json!("4829130"))));
    }

    #[test]
    fn non_string_and_missing_answers_are_wrong_not_errors() {
        assert!(!verdict("verify_answer.json", Some(json!(482913))));
        assert!(!verdict("verify_answer.json", Some(json!(["482913"]))));
        assert!(!verdict("verify_answer.json", Some(json!({"code": "482913"}))));
        assert!(!verdict("verify_answer.json", Some(serde_json::Value::Null)));
        assert!(!verdict("verify_answer.json", None));
        assert!(!handle(fixtures::event("verify_missing_answer.json")).unwrap().response.answer_correct);
    }

    #[test]
    fn a_missing_user_is_never_correct_even_with_the_right_code() {
        assert!(!handle(fixtures::event("verify_user_not_found.json")).unwrap().response.answer_correct);
    }

    #[test]
    fn no_expected_code_fails_closed() {
        let event = fixtures::edited("verify_answer.json", |v| v["request"]["privateChallengeParameters"] = json!({}));
        assert!(handle(event).is_err());
        let event = fixtures::edited("verify_answer.json", |v| {
            v["request"]["privateChallengeParameters"] = json!({"code": "abc"})
        });
        assert!(handle(event).is_err());
    }
}
