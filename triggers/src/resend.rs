//! "Email me a new code" inside a Cognito session. The client sends it on
//! `RespondToAuthChallenge` as `ClientMetadata {"action": "resend"}` (the only call whose
//! ClientMetadata reaches define, create and verify). Such a round is a request, not an answer:
//! verify rejects it without counting, define does not count it as a wrong answer, and create
//! decides whether an email goes out. Later rounds no longer see that round's ClientMetadata, so
//! create records the running count of resend rounds in the challenge metadata, which Cognito
//! carries from round to round and never shows the client.

use crate::CUSTOM_CHALLENGE;
use aws_lambda_events::event::cognito::CognitoEventUserPoolsChallengeResult;
use std::collections::HashMap;

pub const ACTION: &str = "action";
pub const RESEND: &str = "resend";

/// Resend requests one session may make; past them the session fails like one with too many
/// wrong answers (the per-user limits in the table bound the emails anyway).
pub const MAX_PER_SESSION: usize = 8;

const METADATA_PREFIX: &str = "RESENDS-";

/// Whether this call is a resend request.
pub fn requested(client_metadata: &HashMap<String, String>) -> bool {
    client_metadata.get(ACTION).is_some_and(|a| a == RESEND)
}

/// Resend rounds in the session, this call's included.
pub fn count(
    session: &[Option<CognitoEventUserPoolsChallengeResult>],
    client_metadata: &HashMap<String, String>,
) -> usize {
    let earlier = session
        .iter()
        .rev()
        .flatten()
        .find(|e| e.challenge_name.as_deref() == Some(CUSTOM_CHALLENGE))
        .and_then(|e| e.challenge_metadata.as_deref()?.strip_prefix(METADATA_PREFIX)?.parse::<usize>().ok())
        .unwrap_or(0);
    earlier + usize::from(requested(client_metadata))
}

/// The challenge metadata create writes for the next round.
pub fn metadata(count: usize) -> String {
    format!("{METADATA_PREFIX}{count}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(metadata: Option<&str>) -> Option<CognitoEventUserPoolsChallengeResult> {
        serde_json::from_value(serde_json::json!({
            "challengeName": CUSTOM_CHALLENGE, "challengeResult": false, "challengeMetadata": metadata
        }))
        .unwrap()
    }

    #[test]
    fn the_count_runs_through_the_metadata_and_this_call() {
        let resend: HashMap<String, String> = [(ACTION.to_string(), RESEND.to_string())].into();
        let none = HashMap::new();
        assert_eq!(count(&[], &none), 0);
        assert_eq!(count(&[entry(Some("RESENDS-0"))], &resend), 1);
        assert_eq!(count(&[entry(Some("RESENDS-0")), entry(Some("RESENDS-2"))], &none), 2);
        assert_eq!(count(&[entry(Some("RESENDS-2"))], &resend), 3);
        assert_eq!(count(&[entry(Some("garbage")), entry(None)], &none), 0);
        assert!(!requested(&[(ACTION.to_string(), "other".to_string())].into()));
        assert_eq!(metadata(2), "RESENDS-2");
    }
}
