use super::*;
use crate::fixtures;
use proptest::prelude::*;
use serde_json::json;

const WRONG: Round = Round::Custom { correct: false };
const RIGHT: Round = Round::Custom { correct: true };

fn run(name: &str) -> CognitoEventUserPoolsDefineAuthChallenge {
    handle(fixtures::event(name), &DefineConfig { max_attempts: 3 }).unwrap()
}

#[test]
fn an_empty_session_gets_a_custom_challenge() {
    let out = run("define_empty_session.json");
    assert_eq!(out.response.challenge_name.as_deref(), Some("CUSTOM_CHALLENGE"));
    assert!(!out.response.issue_tokens);
    assert!(!out.response.fail_authentication);
}

#[test]
fn a_wrong_answer_gets_another_challenge_while_attempts_remain() {
    let out = run("define_after_wrong_answer.json");
    assert_eq!(out.response.challenge_name.as_deref(), Some("CUSTOM_CHALLENGE"));
    assert!(!out.response.issue_tokens && !out.response.fail_authentication);
}

#[test]
fn a_correct_last_answer_issues_tokens() {
    let out = run("define_after_correct_answer.json");
    assert!(out.response.issue_tokens);
    assert!(!out.response.fail_authentication);
    assert_eq!(out.response.challenge_name, None);
}

#[test]
fn srp_or_password_rounds_fail_even_when_they_succeeded() {
    let out = run("define_srp_session.json");
    assert!(out.response.fail_authentication);
    assert!(!out.response.issue_tokens);
}

#[test]
fn a_missing_user_gets_exactly_the_response_of_a_real_one() {
    let real = run("define_empty_session.json");
    let missing = run("define_user_not_found.json");
    assert_eq!(serde_json::to_value(&real.response).unwrap(), serde_json::to_value(&missing.response).unwrap());
}

#[test]
fn the_last_allowed_wrong_answer_fails_the_session() {
    let event: CognitoEventUserPoolsDefineAuthChallenge = fixtures::edited("define_after_wrong_answer.json", |v| {
        let entry = v["request"]["session"][0].clone();
        v["request"]["session"] = serde_json::json!([entry.clone(), entry.clone(), entry]);
    });
    let out = handle(event, &DefineConfig { max_attempts: 3 }).unwrap();
    assert!(out.response.fail_authentication);
    assert!(!out.response.issue_tokens);
}

#[test]
fn a_null_entry_in_the_session_fails() {
    let event: CognitoEventUserPoolsDefineAuthChallenge =
        fixtures::edited("define_after_wrong_answer.json", |v| v["request"]["session"] = serde_json::json!([null]));
    let out = handle(event, &DefineConfig { max_attempts: 3 }).unwrap();
    assert!(out.response.fail_authentication);
}

#[test]
fn malformed_events_do_not_deserialise_so_the_runtime_fails_them_closed() {
    for name in ["define_null_session.json", "define_unknown_trigger_source.json"] {
        let parsed = serde_json::from_str::<CognitoEventUserPoolsDefineAuthChallenge>(&fixtures::raw(name));
        assert!(parsed.is_err(), "{name} should not parse");
    }
    let no_caller: Result<CognitoEventUserPoolsDefineAuthChallenge, _> = serde_json::from_value({
        let mut v = fixtures::json("define_empty_session.json");
        v.as_object_mut().unwrap().remove("callerContext");
        v
    });
    assert!(no_caller.is_err());
}

#[test]
fn an_event_without_trigger_source_is_an_error() {
    let event: CognitoEventUserPoolsDefineAuthChallenge =
        fixtures::edited("define_empty_session.json", |v| drop(v.as_object_mut().unwrap().remove("triggerSource")));
    assert!(handle(event, &DefineConfig { max_attempts: 3 }).is_err());
}

#[test]
fn the_rules_in_a_table() {
    let m = 3;
    assert_eq!(decide(&[], m, 0), Decision::Challenge);
    assert_eq!(decide(&[WRONG], m, 0), Decision::Challenge);
    assert_eq!(decide(&[WRONG, WRONG], m, 0), Decision::Challenge);
    assert_eq!(decide(&[WRONG, WRONG, WRONG], m, 0), Decision::Fail);
    assert_eq!(decide(&[RIGHT], m, 0), Decision::IssueTokens);
    assert_eq!(decide(&[WRONG, WRONG, RIGHT], m, 0), Decision::IssueTokens);
    assert_eq!(decide(&[WRONG, WRONG, WRONG, RIGHT], m, 0), Decision::Fail, "beyond the limit");
    assert_eq!(decide(&[RIGHT, RIGHT], m, 0), Decision::Fail, "a session that should have ended");
    assert_eq!(decide(&[Round::Foreign, RIGHT], m, 0), Decision::Fail);
    assert_eq!(decide(&[Round::Foreign], m, 0), Decision::Fail);
    assert_eq!(decide(&[WRONG], 1, 0), Decision::Fail);
}

#[test]
fn resend_rounds_are_not_wrong_answers() {
    let m = 3;
    // Two resends and two wrong answers: still one answer left.
    assert_eq!(decide(&[WRONG, WRONG, WRONG, WRONG], m, 2), Decision::Challenge);
    assert_eq!(decide(&[WRONG, WRONG, WRONG, WRONG, RIGHT], m, 2), Decision::IssueTokens);
    assert_eq!(decide(&[WRONG, WRONG, WRONG, WRONG, WRONG], m, 2), Decision::Fail);
    // A ninth resend in one session fails it; so does a count the session cannot hold.
    let nine = [WRONG; 10];
    assert_eq!(decide(&nine[..9], m, 8), Decision::Challenge);
    assert_eq!(decide(&nine, m, 9), Decision::Fail);
    assert_eq!(decide(&[WRONG], m, 2), Decision::Fail);
}

#[test]
fn a_resend_request_in_the_event_is_counted() {
    let event = fixtures::edited("define_after_wrong_answer.json", |v| {
        v["request"]["session"] = json!([
            {"challengeName": "CUSTOM_CHALLENGE", "challengeResult": false, "challengeMetadata": "RESENDS-0"},
            {"challengeName": "CUSTOM_CHALLENGE", "challengeResult": false, "challengeMetadata": "RESENDS-0"},
            {"challengeName": "CUSTOM_CHALLENGE", "challengeResult": false, "challengeMetadata": "RESENDS-1"}
        ]);
        v["request"]["clientMetadata"] = json!({"action": "resend"});
    });
    // Three failed rounds, two of them resends: one wrong answer so far.
    let out = handle(event, &DefineConfig { max_attempts: 3 }).unwrap();
    assert_eq!(out.response.challenge_name.as_deref(), Some("CUSTOM_CHALLENGE"));
    assert!(!out.response.fail_authentication);
}

#[test]
fn max_attempts_is_validated_at_start_up() {
    assert_eq!(DefineConfig::from_env(&Env::default()).unwrap().max_attempts, 3);
    assert_eq!(DefineConfig::from_env(&Env::from_pairs([("MAX_ATTEMPTS", "5")])).unwrap().max_attempts, 5);
    for bad in ["0", "-1", "three", "11"] {
        let err = DefineConfig::from_env(&Env::from_pairs([("MAX_ATTEMPTS", bad)])).unwrap_err();
        assert!(err.to_string().contains("MAX_ATTEMPTS"), "{err}");
    }
}

#[test]
fn a_passkey_round_issues_tokens_only_as_a_sessions_one_correct_answer() {
    let (yes, no) = (Round::Passkey { correct: true }, Round::Passkey { correct: false });
    assert_eq!(decide(&[yes], 3, 0), Decision::IssueTokens);
    assert_eq!(decide(&[no], 3, 0), Decision::Fail, "no second try at a proof");
    assert_eq!(decide(&[WRONG, yes], 3, 0), Decision::Fail, "never after an email round");
    assert_eq!(decide(&[no, RIGHT], 3, 0), Decision::Fail, "no email round after a passkey one");
    assert_eq!(decide(&[yes], 3, 1), Decision::Fail, "a resend is no answer");
    let event = fixtures::edited("define_after_wrong_answer.json", |v| {
        v["request"]["session"] =
            json!([{"challengeName": "CUSTOM_CHALLENGE", "challengeResult": false, "challengeMetadata": "PASSKEY"}]);
    });
    let out = handle(event, &DefineConfig { max_attempts: 3 }).unwrap();
    assert!(out.response.fail_authentication && !out.response.issue_tokens);
    assert_eq!(out.response.challenge_name, None);
}

fn round() -> impl Strategy<Value = Round> {
    prop_oneof![
        Just(WRONG),
        Just(RIGHT),
        Just(Round::Foreign),
        any::<bool>().prop_map(|correct| Round::Passkey { correct })
    ]
}

proptest! {
    #[test]
    fn tokens_only_after_a_correct_last_custom_answer_within_the_limit(
        session in proptest::collection::vec(round(), 0..8),
        max in 1usize..=5,
    ) {
        let decision = decide(&session, max, 0);
        if session == [Round::Passkey { correct: true }] {
            prop_assert_eq!(decision, Decision::IssueTokens);
            return Ok(());
        }
        if decision == Decision::IssueTokens {
            prop_assert_eq!(session.last(), Some(&RIGHT));
            prop_assert!(session.len() <= max);
            prop_assert!(session[..session.len() - 1].iter().all(|r| *r == WRONG));
        }
        // And the converse: a well-formed successful session always gets its tokens.
        let well_formed_success = session.last() == Some(&RIGHT)
            && session.len() <= max
            && session[..session.len().saturating_sub(1)].iter().all(|r| *r == WRONG);
        prop_assert_eq!(decision == Decision::IssueTokens, well_formed_success);
        // A foreign round anywhere always fails.
        if session.contains(&Round::Foreign) {
            prop_assert_eq!(decision, Decision::Fail);
        }
    }
}
