//! A passkey sign-in through the same CUSTOM_AUTH triggers (docs/passkeys.md). The auth API
//! verifies the WebAuthn assertion (webauthn-rs), then leaves a one-time **proof** in the user's
//! state: the SHA-256 of a 256-bit secret only it holds, valid for [`PROOF_TTL_SECONDS`]. The
//! create trigger of the next session's first round takes the proof out of the state (so it is
//! used once, by one session) and, instead of emailing a code, issues a passkey challenge that
//! carries the digest in its private parameters; verify accepts only the secret whose digest it
//! is; define issues tokens on it and ends the session on anything else. No email goes out.

use crate::auth_state::UserState;
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

/// How long a proof waits for its Cognito sign-in: the API starts it at once, so this only has
/// to cover one InitiateAuth round trip.
pub const PROOF_TTL_SECONDS: i64 = 60;
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
pub fn grant(state: UserState, owner: &str, secret: &str, now: i64) -> ((), UserState) {
    let mut claimed = state.claimed_by(Some(owner));
    claimed.passkey = Some(PasskeyProof { digest: digest(secret), until: now + PROOF_TTL_SECONDS });
    ((), claimed)
}

/// The create trigger's side, on a session's first round: the proof's digest if `owner`'s state
/// holds a live one (and the state without it), else `None` and the state unchanged.
pub fn take(state: &UserState, owner: Option<&str>, now: i64) -> Option<(String, UserState)> {
    let owner = owner?;
    let mut claimed = state.clone().claimed_by(Some(owner));
    let proof = claimed.passkey.take().filter(|p| now < p.until)?;
    Some((proof.digest, claimed))
}

/// The verify trigger's side: whether `answer` is the secret behind `expected` (compared in
/// constant time).
pub fn answers(expected: &str, answer: &str) -> bool {
    bool::from(digest(answer).as_bytes().ct_eq(expected.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SUB: &str = "7c4f8a2e-0000-4000-8000-000000000001";

    #[test]
    fn a_proof_is_taken_once_by_its_owner_while_it_lives() {
        let ((), state) = grant(UserState::default(), SUB, "secret", 1_000);
        assert_eq!(state.passkey.as_ref().unwrap().digest, digest("secret"));
        assert!(take(&state, Some("someone-else"), 1_001).is_none(), "another account's proof");
        assert!(take(&state, None, 1_001).is_none(), "an unknown name");
        assert!(take(&state, Some(SUB), 1_000 + PROOF_TTL_SECONDS).is_none(), "expired");
        let (taken, after) = take(&state, Some(SUB), 1_001).unwrap();
        assert!(answers(&taken, "secret"));
        assert!(!answers(&taken, "secreT"));
        assert!(!answers(&taken, ""));
        assert!(take(&after, Some(SUB), 1_002).is_none(), "used up");
    }

    #[test]
    fn a_grant_keeps_the_owners_code_and_counts() {
        let mut state = UserState { owner: Some(SUB.into()), wrong_since_sign_in: 3, ..UserState::default() };
        state.emails.record(900);
        let ((), granted) = grant(state.clone(), SUB, "s", 1_000);
        assert_eq!((granted.wrong_since_sign_in, granted.emails.times()), (3, state.emails.times()));
        let ((), foreign) = grant(state, "other-sub", "s", 1_000);
        assert_eq!(foreign.wrong_since_sign_in, 0, "another account starts from a fresh state");
    }
}
