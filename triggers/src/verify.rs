//! verify-auth-challenge: is the answer the user's active code? Checked against the shared auth
//! state, where a wrong answer is counted against the code and a correct one uses it up, both
//! with a conditional write (two sessions answering at once: exactly one wins).

use crate::auth_state::store::{AuthStateStore, StateKey, update};
use crate::auth_state::{self, Limits, Verdict};
use crate::{TriggerError, passkey, resend};
use aws_lambda_events::event::cognito::CognitoEventUserPoolsVerifyAuthChallenge;
use chrono::{DateTime, Utc};
use lambda_support::metrics::{Unit, emit};

pub struct VerifyChallenge<S> {
    store: S,
    limits: Limits,
}

impl<S: AuthStateStore> VerifyChallenge<S> {
    pub fn new(limits: Limits, store: S) -> Self {
        VerifyChallenge { store, limits }
    }

    pub async fn handle(
        &self,
        mut event: CognitoEventUserPoolsVerifyAuthChallenge,
        now: DateTime<Utc>,
    ) -> Result<CognitoEventUserPoolsVerifyAuthChallenge, TriggerError> {
        let (_, key) = StateKey::of_event(&event.cognito_event_user_pools_header, "VerifyAuthChallenge")?;
        let request = &event.request;
        let owner = if request.user_not_found {
            None
        } else {
            let sub = request.user_attributes.get("sub").filter(|s| !s.is_empty());
            Some(sub.ok_or("malformed VerifyAuthChallenge event: no sub")?.as_str())
        };
        if resend::requested(&request.client_metadata) {
            // A request for a new email, not an answer: nothing is compared or counted.
            tracing::info!("resend request");
            event.response.answer_correct = false;
            return Ok(event);
        }
        // Only a JSON string can be an answer; a number, object or null is simply wrong.
        let answer = request.challenge_answer.as_ref().and_then(|a| a.as_str()).unwrap_or("");
        if let Some(expected) = request.private_challenge_parameters.get(passkey::PRIVATE_PARAMETER) {
            // A passkey round: the answer is the proof's secret, which uses the proof up (once,
            // by one session); the emailed code is not touched.
            let t = now.timestamp();
            let correct = !request.user_not_found
                && update(&self.store, &key, |s| passkey::consume(s, owner, expected, answer, t)).await?;
            tracing::info!(correct, "verify passkey proof");
            event.response.answer_correct = correct;
            return Ok(event);
        }
        let limits = self.limits;
        // The same reads and writes run for unknown users, so both take the same time.
        let verdict =
            update(&self.store, &key, |state| auth_state::answer(state, owner, now.timestamp(), answer, &limits))
                .await?;
        let correct = verdict == Verdict::Correct && !request.user_not_found;
        tracing::info!(correct, ?verdict, "verify auth challenge");
        if !correct {
            emit(&[], &[("CodesRejected", Unit::Count, 1.0)]);
        }
        if let Verdict::Wrong { killed: Some(in_a_row) } = verdict {
            // One account's codes dying in a row is someone guessing (the CDK app alarms on it).
            tracing::warn!(in_a_row, "a code died of wrong answers");
            emit(&[], &[("CodesKilled", Unit::Count, 1.0), ("DeadCodesInARow", Unit::Count, f64::from(in_a_row))]);
        }
        event.response.answer_correct = correct;
        Ok(event)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth_state::store::MemoryStore;
    use crate::auth_state::{ActiveCode, UserState};
    use crate::fixtures;
    use serde_json::json;

    fn now() -> DateTime<Utc> {
        "2026-11-25T18:00:00Z".parse().unwrap()
    }

    /// A verifier whose store holds code 482913 for the fixture's user, sent a minute ago.
    async fn verifier() -> (VerifyChallenge<MemoryStore>, StateKey) {
        let store = MemoryStore::new();
        let event = fixtures::event::<CognitoEventUserPoolsVerifyAuthChallenge>("verify_answer.json");
        let (_, key) = StateKey::of_event(&event.cognito_event_user_pools_header, "test").unwrap();
        let t = now().timestamp();
        let code = ActiveCode {
            digits: "482913".into(),
            sent_at: t - 60,
            expires_at: t + 120,
            wrong: 0,
            used: false,
            delivery: String::new(),
        };
        let owner = event.request.user_attributes.get("sub").cloned();
        let mut state = UserState { owner, code: Some(code), ..UserState::default() };
        state.emails.record(t - 60);
        store.save(&key, &state, 0).await.unwrap();
        (VerifyChallenge::new(Limits::default(), store), key)
    }

    async fn verdict(v: &VerifyChallenge<MemoryStore>, name: &str, answer: Option<serde_json::Value>) -> bool {
        let event = fixtures::edited(name, |e| match answer {
            Some(a) => e["request"]["challengeAnswer"] = a,
            None => drop(e["request"].as_object_mut().unwrap().remove("challengeAnswer")),
        });
        v.handle(event, now()).await.unwrap().response.answer_correct
    }

    #[tokio::test]
    async fn the_fixture_answer_with_a_space_is_correct_once() {
        let (v, _) = verifier().await;
        assert!(v.handle(fixtures::event("verify_answer.json"), now()).await.unwrap().response.answer_correct);
        assert!(!v.handle(fixtures::event("verify_answer.json"), now()).await.unwrap().response.answer_correct);
    }

    #[tokio::test]
    async fn wrong_answers_are_counted_against_the_code() {
        let (v, key) = verifier().await;
        for wrong in [json!("482914"), json!(""), json!("4829130"), json!(482913), json!(["482913"])] {
            assert!(!verdict(&v, "verify_answer.json", Some(wrong)).await);
        }
        assert_eq!(v.store.load::<UserState>(&key).await.unwrap().state.code.unwrap().wrong, 5);
        assert!(!verdict(&v, "verify_answer.json", Some(json!("482-913"))).await, "the code is worn out");
    }

    #[tokio::test]
    async fn non_string_and_missing_answers_are_wrong_not_errors() {
        let (v, _) = verifier().await;
        assert!(!verdict(&v, "verify_answer.json", Some(json!({"code": "482913"}))).await);
        assert!(!verdict(&v, "verify_answer.json", Some(serde_json::Value::Null)).await);
        assert!(!verdict(&v, "verify_answer.json", None).await);
        assert!(!v.handle(fixtures::event("verify_missing_answer.json"), now()).await.unwrap().response.answer_correct);
    }

    #[tokio::test]
    async fn a_resend_request_is_neither_compared_nor_counted() {
        let (v, key) = verifier().await;
        let event =
            fixtures::edited("verify_answer.json", |e| e["request"]["clientMetadata"] = json!({"action": "resend"}));
        assert!(!v.handle(event, now()).await.unwrap().response.answer_correct);
        assert_eq!(v.store.load::<UserState>(&key).await.unwrap().state.code.unwrap().wrong, 0);
    }

    #[tokio::test]
    async fn a_missing_user_is_never_correct_even_with_the_right_code() {
        let (v, _) = verifier().await;
        let event = fixtures::edited("verify_answer.json", |e| e["request"]["userNotFound"] = json!(true));
        assert!(!v.handle(event, now()).await.unwrap().response.answer_correct);
    }

    #[tokio::test]
    async fn a_passkey_round_accepts_only_the_proofs_secret_and_leaves_the_code_alone() {
        let (v, key) = verifier().await;
        let owner = v.store.load::<UserState>(&key).await.unwrap().state.owner.unwrap();
        let granted = update(&v.store, &key, |s| passkey::grant(s, &owner, "proof-secret", now().timestamp())).await;
        assert!(granted.unwrap());
        let digest = passkey::digest("proof-secret");
        let with = |answer: &str, not_found: bool| {
            fixtures::edited::<CognitoEventUserPoolsVerifyAuthChallenge>("verify_answer.json", |e| {
                e["request"]["privateChallengeParameters"] = json!({ passkey::PRIVATE_PARAMETER: digest });
                e["request"]["challengeAnswer"] = json!(answer);
                e["request"]["userNotFound"] = json!(not_found);
            })
        };
        assert!(!v.handle(with("proof-secreT", false), now()).await.unwrap().response.answer_correct);
        assert!(!v.handle(with("482913", false), now()).await.unwrap().response.answer_correct, "a code is no proof");
        assert!(!v.handle(with("proof-secret", true), now()).await.unwrap().response.answer_correct);
        assert!(v.handle(with("proof-secret", false), now()).await.unwrap().response.answer_correct);
        assert!(!v.handle(with("proof-secret", false), now()).await.unwrap().response.answer_correct, "used up");
        let code = v.store.load::<UserState>(&key).await.unwrap().state.code.unwrap();
        assert_eq!((code.wrong, code.used), (0, false), "the emailed code is untouched");
    }

    #[tokio::test]
    async fn malformed_events_fail_closed() {
        let (v, _) = verifier().await;
        for field in ["triggerSource", "userName", "userPoolId"] {
            let event = fixtures::edited("verify_answer.json", |e| drop(e.as_object_mut().unwrap().remove(field)));
            assert!(v.handle(event, now()).await.is_err(), "{field}");
        }
    }
}
