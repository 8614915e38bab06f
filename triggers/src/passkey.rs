//! A passkey sign-in through the same CUSTOM_AUTH triggers (docs/passkeys.md). The auth API
//! verifies the WebAuthn assertion (webauthn-rs), then leaves a one-time **proof** in the user's
//! state: the SHA-256 of a 256-bit secret only it holds, valid for [`PROOF_TTL_SECONDS`]. While
//! it lives, a session's first create round for its owner issues a passkey challenge carrying the
//! digest in its private parameters instead of emailing a code; verify accepts only the secret and
//! **consumes** the proof as it does (a conditional write: once, by one session); define issues
//! tokens on it and ends the session on anything else. Rounds that cannot answer (someone else
//! typing the name meanwhile) therefore fail without touching the proof, so they cannot take it
//! from the sign-in it was made for.

use crate::auth_state::UserState;
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

/// How long a proof waits for its Cognito sign-in: the API starts it at once, so this only has
/// to cover one InitiateAuth and one RespondToAuthChallenge round trip.
pub const PROOF_TTL_SECONDS: i64 = 15;
/// How long a passkey sign-in is remembered for post-authentication, which runs right after it.
pub const SIGNED_IN_MEMORY_SECONDS: i64 = 60;
/// The challenge metadata of a passkey round (Cognito carries it to define; clients never see it).
pub const METADATA: &str = "PASSKEY";
/// The private challenge parameter holding the proof's digest.
pub const PRIVATE_PARAMETER: &str = "passkeyProof";
/// The public challenge parameter that tells the API this session takes the proof, not a code.
pub const METHOD_PARAMETER: &str = "method";
pub const METHOD: &str = "passkey";

/// A verified passkey sign-in waiting for its session. Only the digest is stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasskeyProof {
    pub digest: String,
    pub until: i64,
}

/// The hex SHA-256 of a proof's secret.
pub fn digest(secret: &str) -> String {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, secret.as_bytes());
    d.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// The API's side: leaves a proof for `owner` (the account's `sub`), replacing any earlier one.
/// `false` (and nothing written) when the state belongs to another account: a passkey of a deleted
/// account never touches the state of a new account of the same name.
pub fn grant(state: UserState, owner: &str, secret: &str, now: i64) -> (bool, UserState) {
    if state.owner.as_deref().is_some_and(|o| o != owner) {
        return (false, state);
    }
    let mut mine = state.claimed_by(Some(owner));
    mine.passkey = Some(PasskeyProof { digest: digest(secret), until: now + PROOF_TTL_SECONDS });
    (true, mine)
}

/// The API's side when its sign-in did not go through: the proof it left goes, if still there.
pub fn withdraw(mut state: UserState, secret: &str) -> ((), UserState) {
    if state.passkey.as_ref().is_some_and(|p| p.digest == digest(secret)) {
        state.passkey = None;
    }
    ((), state)
}

/// The create trigger's side, on a session's first round: the digest of `owner`'s live proof, if
/// any. Nothing changes: only the secret's holder can use the proof up ([`consume`]).
pub fn live(state: &UserState, owner: Option<&str>, now: i64) -> Option<String> {
    let owner = owner?;
    let proof = state.passkey.as_ref().filter(|p| state.owner.as_deref() == Some(owner) && now < p.until)?;
    Some(proof.digest.clone())
}

/// The verify trigger's side: whether `answer` is the secret behind `expected` (compared in
/// constant time) and `owner`'s proof is still there and alive; if so the proof is used up.
pub fn consume(mut state: UserState, owner: Option<&str>, expected: &str, answer: &str, now: i64) -> (bool, UserState) {
    let ok = answers(expected, answer)
        && live(&state, owner, now).is_some_and(|d| bool::from(d.as_bytes().ct_eq(expected.as_bytes())));
    if ok {
        state.passkey = None;
        state.wrong_since_sign_in = 0;
        state.passkey_signed_in_at = Some(now);
    }
    (ok, state)
}

/// Whether the sign-in post-authentication runs after was a passkey one (proves no address).
pub fn just_signed_in(state: &UserState, now: i64) -> bool {
    state.passkey_signed_in_at.is_some_and(|t| now - t < SIGNED_IN_MEMORY_SECONDS)
}

/// Whether `answer` is the secret behind `expected` (compared in constant time).
pub fn answers(expected: &str, answer: &str) -> bool {
    bool::from(digest(answer).as_bytes().ct_eq(expected.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SUB: &str = "7c4f8a2e-0000-4000-8000-000000000001";

    #[test]
    fn a_proof_is_offered_to_its_owner_while_it_lives_and_used_up_only_by_its_secret() {
        let (granted, state) = grant(UserState::default(), SUB, "secret", 1_000);
        assert!(granted);
        let d = digest("secret");
        assert_eq!(live(&state, Some(SUB), 1_001), Some(d.clone()));
        assert_eq!(live(&state, Some("someone-else"), 1_001), None, "another account's proof");
        assert_eq!(live(&state, None, 1_001), None, "an unknown name");
        assert_eq!(live(&state, Some(SUB), 1_000 + PROOF_TTL_SECONDS), None, "expired");
        // Rounds that cannot answer leave it alone.
        let (ok, same) = consume(state.clone(), Some(SUB), &d, "secreT", 1_001);
        assert!(!ok);
        assert_eq!(same, state);
        let (ok, same) = consume(state.clone(), Some(SUB), &d, "secret", 1_000 + PROOF_TTL_SECONDS);
        assert!(!ok && same.passkey.is_some(), "too late");
        let (ok, used) = consume(state, Some(SUB), &d, "secret", 1_001);
        assert!(ok);
        assert_eq!(live(&used, Some(SUB), 1_002), None, "used up");
        assert!(just_signed_in(&used, 1_002) && !just_signed_in(&used, 1_001 + SIGNED_IN_MEMORY_SECONDS));
        assert!(!consume(used, Some(SUB), &d, "secret", 1_002).0, "once");
    }

    #[test]
    fn a_grant_keeps_its_owners_state_and_never_takes_another_accounts() {
        let mut state = UserState { owner: Some(SUB.into()), wrong_since_sign_in: 3, ..UserState::default() };
        state.emails.record(900);
        let (_, granted) = grant(state.clone(), SUB, "s", 1_000);
        assert_eq!((granted.wrong_since_sign_in, granted.emails.times()), (3, state.emails.times()));
        let (granted, untouched) = grant(state.clone(), "a-deleted-account", "s", 1_000);
        assert!(!granted);
        assert_eq!(untouched, state, "a new account of the same name keeps its state");
        let ((), withdrawn) = withdraw(grant(state.clone(), SUB, "s", 1_000).1, "s");
        assert_eq!(withdrawn.passkey, None);
    }
}
