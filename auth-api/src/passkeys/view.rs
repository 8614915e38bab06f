//! A passkey as the API answers it (the account page's list): no key material, times in RFC 3339.

use super::store::StoredPasskey;

/// A passkey as the account page shows it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct PasskeyInfo {
    /// The credential id (base64url).
    pub id: String,
    pub name: String,
    pub authenticator: Option<String>,
    pub created_at: String,
    pub last_used_at: Option<String>,
    /// Whether the passkey may be synced to other devices, and whether it is.
    pub backup_eligible: bool,
    pub backup_state: bool,
}

fn rfc3339(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0).unwrap_or_default().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

impl From<&StoredPasskey> for PasskeyInfo {
    fn from(k: &StoredPasskey) -> Self {
        PasskeyInfo {
            id: k.id.clone(),
            name: k.name.clone(),
            authenticator: k.authenticator.clone(),
            created_at: rfc3339(k.created_at),
            last_used_at: k.last_used_at.map(rfc3339),
            backup_eligible: k.backup_eligible,
            backup_state: k.backup_state,
        }
    }
}
