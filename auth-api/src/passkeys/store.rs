//! What the auth-state table keeps for passkeys, each under its own hashed key
//! ([`StateKey::passkeys`] by the account's `sub`, [`StateKey::passkey_credential`],
//! [`StateKey::passkey_ceremony`]).

use serde::{Deserialize, Serialize};
use serde_json::Value;
use triggers::auth_state::store::Item;
use webauthn_rs::prelude::{Passkey, Uuid};

/// Kept until removed (DynamoDB's TTL ignores a date this far out).
pub const FOREVER: i64 = 253_402_300_799;

/// How many passkeys one account may hold.
pub const MAX_PER_USER: usize = 10;

/// One account's passkeys and the WebAuthn user handle its authenticators hold (random, no
/// personal data, the same for all its passkeys).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UserPasskeys {
    pub handle: Option<Uuid>,
    #[serde(default)]
    pub keys: Vec<StoredPasskey>,
}

impl Item for UserPasskeys {
    fn expires_at(&self) -> i64 {
        FOREVER
    }
}

/// A registered passkey: webauthn-rs's credential and what the account page shows of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredPasskey {
    /// The credential id, base64url.
    pub id: String,
    pub name: String,
    /// The authenticator's name, when its AAGUID is a known one.
    pub authenticator: Option<String>,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    /// The signature counter last seen (0 for synced passkeys, which keep none).
    pub counter: u32,
    pub backup_eligible: bool,
    pub backup_state: bool,
    pub passkey: Passkey,
}

/// Which account a credential id belongs to: what a discoverable sign-in starts from. The
/// username is kept because Cognito's InitiateAuth needs it (docs/passkeys.md).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CredentialOwner {
    pub username: String,
    pub sub: String,
    pub handle: Option<Uuid>,
}

impl CredentialOwner {
    pub fn exists(&self) -> bool {
        !self.username.is_empty()
    }
}

impl Item for CredentialOwner {
    /// A removed passkey's owner record is saved empty, which the TTL then deletes.
    fn expires_at(&self) -> i64 {
        if self.exists() { FOREVER } else { 0 }
    }
}

/// A WebAuthn ceremony under way: webauthn-rs's state for it (which holds the challenge), kept
/// server-side until `until` and taken out on first use.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Ceremony {
    pub purpose: Option<Purpose>,
    pub until: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Purpose {
    /// Adding a passkey to this signed-in account.
    Register { username: String, sub: String, state: Value },
    /// Signing in with any discoverable passkey.
    SignIn { state: Value },
}

impl Item for Ceremony {
    fn expires_at(&self) -> i64 {
        self.until
    }
}
