//! define-auth-challenge: the state machine that decides, from the session so far, whether to
//! issue another custom challenge, issue tokens, or fail.

use crate::{CUSTOM_CHALLENGE, TriggerError, passkey, resend};
use aws_lambda_events::event::cognito::{
    CognitoEventUserPoolsChallengeResult, CognitoEventUserPoolsDefineAuthChallenge,
};
use lambda_support::{ConfigError, Env};

/// `MAX_ATTEMPTS` bounds: at least one answer, and no more than Cognito would ever let a session
/// run (a session lives 3–15 minutes).
pub const MAX_ATTEMPTS_RANGE: std::ops::RangeInclusive<usize> = 1..=10;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DefineConfig {
    pub max_attempts: usize,
}

impl DefineConfig {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(DefineConfig { max_attempts: env.integer_in("MAX_ATTEMPTS", 3, MAX_ATTEMPTS_RANGE)? })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Challenge,
    IssueTokens,
    Fail,
}

/// One earlier round of the session, as far as the rules care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Round {
    /// A CUSTOM_CHALLENGE with the verify trigger's verdict.
    Custom { correct: bool },
    /// A passkey challenge ([`crate::passkey`]): only ever a session's first round.
    Passkey { correct: bool },
    /// Anything else: SRP_A, PASSWORD_VERIFIER, a null entry, a missing name.
    Foreign,
}

impl Round {
    pub fn from_entry(entry: Option<&CognitoEventUserPoolsChallengeResult>) -> Self {
        match entry {
            Some(e) if e.challenge_name.as_deref() == Some(CUSTOM_CHALLENGE) => {
                if e.challenge_metadata.as_deref() == Some(passkey::METADATA) {
                    Round::Passkey { correct: e.challenge_result }
                } else {
                    Round::Custom { correct: e.challenge_result }
                }
            }
            _ => Round::Foreign,
        }
    }
}

/// The rules of design.md (and a passkey round's, docs/passkeys.md). Tokens are issued only when every round is a custom challenge, the
/// last one was answered correctly, no earlier one was (that session should already have ended)
/// and the session is within the attempt limit. `resends` of the failed rounds were requests for a
/// new email ([`crate::resend`]), not answers: they do not count against `max_attempts`, and a
/// session may make at most [`resend::MAX_PER_SESSION`]. Everything unexpected fails.
pub fn decide(session: &[Round], max_attempts: usize, resends: usize) -> Decision {
    let Some((last, earlier)) = session.split_last() else {
        return Decision::Challenge;
    };
    // A passkey round is all or nothing: its one answer issues tokens or ends the session.
    if let Round::Passkey { correct } = last {
        return if *correct && earlier.is_empty() && resends == 0 { Decision::IssueTokens } else { Decision::Fail };
    }
    let earlier_all_wrong = earlier.iter().all(|r| *r == Round::Custom { correct: false });
    if !earlier_all_wrong || resends > resend::MAX_PER_SESSION || resends > earlier.len() + 1 {
        return Decision::Fail;
    }
    let answers = session.len() - resends;
    if answers > max_attempts {
        return Decision::Fail;
    }
    match last {
        Round::Custom { correct: true } => Decision::IssueTokens,
        Round::Custom { correct: false } if answers < max_attempts => Decision::Challenge,
        _ => Decision::Fail,
    }
}

/// The trigger. `userNotFound` takes the same path as a real user (verify never accepts an answer
/// for a missing user, so that session fails after `MAX_ATTEMPTS` like any wrong guesser's).
pub fn handle(
    mut event: CognitoEventUserPoolsDefineAuthChallenge,
    config: &DefineConfig,
) -> Result<CognitoEventUserPoolsDefineAuthChallenge, TriggerError> {
    if event.cognito_event_user_pools_header.trigger_source.is_none() {
        return Err("malformed DefineAuthChallenge event: no triggerSource".into());
    }
    let rounds: Vec<Round> = event.request.session.iter().map(|e| Round::from_entry(e.as_ref())).collect();
    let resends = resend::count(&event.request.session, &event.request.client_metadata);
    let decision = decide(&rounds, config.max_attempts, resends);
    tracing::info!(rounds = rounds.len(), resends, ?decision, "define auth challenge");
    let metric = match decision {
        Decision::Challenge if rounds.is_empty() => Some("SignInsStarted"),
        Decision::Challenge => None,
        Decision::IssueTokens => Some("SignInsSucceeded"),
        Decision::Fail => Some("SignInsFailed"),
    };
    if let Some(name) = metric {
        lambda_support::metrics::emit(&[], &[(name, lambda_support::metrics::Unit::Count, 1.0)]);
    }
    let response = &mut event.response;
    response.issue_tokens = decision == Decision::IssueTokens;
    response.fail_authentication = decision == Decision::Fail;
    response.challenge_name = (decision == Decision::Challenge).then(|| CUSTOM_CHALLENGE.to_string());
    Ok(event)
}

#[cfg(test)]
mod tests;
