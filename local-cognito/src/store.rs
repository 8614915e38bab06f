//! The pool's state (users, CUSTOM_AUTH sessions, refresh tokens) behind a small trait, with the
//! in-memory implementation the endpoint uses. Everything here is data; the rules live in
//! [`crate::pool`].

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum UserStatus {
    Unconfirmed,
    Confirmed,
}

impl UserStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            UserStatus::Unconfirmed => "UNCONFIRMED",
            UserStatus::Confirmed => "CONFIRMED",
        }
    }
}

#[derive(Clone, Serialize, Deserialize)]
pub struct User {
    /// As given at sign-up; look-ups ignore case (the CDK pool sets `signInCaseSensitive: false`).
    pub username: String,
    pub sub: String,
    /// Standard and custom attributes, `sub` included, as Cognito passes them to triggers.
    pub attributes: BTreeMap<String, String>,
    pub status: UserStatus,
    pub enabled: bool,
    pub created: DateTime<Utc>,
    pub modified: DateTime<Utc>,
    /// The confirmation code of an unconfirmed user (Cognito would email it; see the README).
    pub confirmation_code: Option<String>,
    /// Access tokens issued before this instant are void (GlobalSignOut).
    pub signed_out_at: Option<DateTime<Utc>>,
    /// A new address waiting for its code (`keepOriginal`): `email` stays in force until then.
    #[serde(default)]
    pub pending_email: Option<String>,
    /// The attribute verification code Cognito emailed last, if still usable.
    #[serde(default)]
    pub attribute_code: Option<AttributeCode>,
    /// When attribute verification codes were sent (the last hour's, for Cognito's limit).
    #[serde(default)]
    pub codes_sent: Vec<DateTime<Utc>>,
}

/// An attribute verification code (`GetUserAttributeVerificationCode`, an email change).
#[derive(Clone, Serialize, Deserialize)]
pub struct AttributeCode {
    pub attribute: String,
    pub code: String,
    pub expires_at: DateTime<Utc>,
    pub wrong_answers: u32,
}

// Attributes hold the address: a `{:?}` of a user prints neither them nor the confirmation code.
impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User").field("status", &self.status).field("enabled", &self.enabled).finish_non_exhaustive()
    }
}

/// One CUSTOM_AUTH session between two calls: what Cognito keeps behind a `Session` string.
#[derive(Clone)]
pub struct AuthSession {
    pub username: String,
    /// The user's `sub` when the sign-in started (empty for an unknown name): tokens go to that
    /// user only, and only while enabled.
    pub sub: String,
    pub user_not_found: bool,
    pub client_id: String,
    /// The `session` array the triggers see: `{challengeName, challengeResult, challengeMetadata}`.
    pub rounds: Vec<Value>,
    pub private_parameters: BTreeMap<String, String>,
    pub challenge_metadata: Option<String>,
    pub expires_at: DateTime<Utc>,
}

impl std::fmt::Debug for AuthSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthSession").field("rounds", &self.rounds.len()).finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RefreshGrant {
    pub username: String,
    /// The user's `sub`: a name deleted and registered again is another user.
    #[serde(default)]
    pub sub: String,
    pub client_id: String,
    /// The `origin_jti` of every token issued from this grant: revoking it voids them too.
    pub origin_jti: String,
    pub auth_time: i64,
    pub expires_at: DateTime<Utc>,
    pub revoked: bool,
    /// With refresh token rotation: when this token was exchanged for a new one. It stays good
    /// for the client's grace period after that, for a client's retry, then is refused.
    #[serde(default)]
    pub rotated_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a user with this username exists")]
pub struct UserExists;

/// What [`Store::exchange_refresh`] runs under the lock: the grant (if any) and whether its family
/// is revoked in, a new grant to store (token, grant) out.
pub type Exchange<'a> = dyn FnMut(Option<&mut RefreshGrant>, bool) -> Option<(String, RefreshGrant)> + 'a;

/// The pool's storage. Usernames are keys as given; implementations compare them without case.
pub trait Store: Send + Sync {
    fn insert_user(&self, user: User) -> Result<(), UserExists>;
    fn user(&self, username: &str) -> Option<User>;
    /// Applies `change` to the user and returns the result, or `None` for no such user.
    fn update_user(&self, username: &str, change: &mut dyn FnMut(&mut User)) -> Option<User>;
    fn delete_user(&self, username: &str) -> bool;
    /// Every user, oldest first.
    fn users(&self) -> Vec<User>;

    fn put_session(&self, token: &str, session: AuthSession);
    /// Removes and returns the session: a session string is good for one answer only.
    fn take_session(&self, token: &str) -> Option<AuthSession>;

    fn put_refresh(&self, token: &str, grant: RefreshGrant);
    fn refresh(&self, token: &str) -> Option<RefreshGrant>;
    /// Revokes one grant; returns whether it existed.
    fn revoke_refresh(&self, token: &str) -> bool;
    /// Revokes every grant of a user (GlobalSignOut).
    fn revoke_all_refresh(&self, username: &str);
    /// Whether a grant of this family (every refresh token with this `origin_jti`: a sign-in and
    /// its rotations) was revoked: then every token of the family is void.
    fn origin_revoked(&self, origin_jti: &str) -> bool;
    /// Under one lock, so no revocation can fall between the check and the write: hands `exchange`
    /// the grant (or `None`) and whether its family is revoked; `exchange` may change the grant
    /// and return a new grant to store (a rotation).
    fn exchange_refresh(&self, token: &str, exchange: &mut Exchange<'_>);
}

#[derive(Default)]
struct Tables {
    users: BTreeMap<String, (u64, User)>,
    next_seq: u64,
    sessions: HashMap<String, AuthSession>,
    refresh: HashMap<String, RefreshGrant>,
    /// Families with a revoked grant (kept while the family has a grant).
    revoked_origins: std::collections::HashSet<String>,
    /// Inserts since expired sessions and grants were last dropped.
    since_prune: usize,
}

/// Expired sessions and refresh grants are dropped every this many inserts: memory stays bounded by
/// the live ones, and no insert pays for a scan of them all.
const PRUNE_EVERY: usize = 256;

impl Tables {
    fn maybe_prune(&mut self) {
        self.since_prune += 1;
        if self.since_prune < PRUNE_EVERY {
            return;
        }
        self.since_prune = 0;
        let now = Utc::now();
        self.sessions.retain(|_, s| s.expires_at > now);
        // A revoked grant still answers for the tokens it issued until they cannot be valid any more.
        let tokens_outlived = now - chrono::Duration::days(1);
        self.refresh.retain(|_, g| g.expires_at > tokens_outlived);
        let live: std::collections::HashSet<&String> = self.refresh.values().map(|g| &g.origin_jti).collect();
        let revoked = std::mem::take(&mut self.revoked_origins);
        self.revoked_origins = revoked.into_iter().filter(|o| live.contains(o)).collect();
    }
}

/// The default store: everything in memory, gone when the process ends.
#[derive(Default)]
pub struct MemoryStore(Mutex<Tables>);

/// One rule for storing, finding and comparing names: the one the auth state is keyed on.
fn key(username: &str) -> String {
    triggers::identity::fold_username(username)
}

impl MemoryStore {
    /// A store that starts with these users (oldest first), e.g. loaded from a saved state.
    pub fn with_users(users: Vec<User>) -> Self {
        let store = MemoryStore::default();
        for user in users {
            let _ = store.insert_user(user);
        }
        store
    }

    fn tables(&self) -> std::sync::MutexGuard<'_, Tables> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Store for MemoryStore {
    fn insert_user(&self, user: User) -> Result<(), UserExists> {
        let mut t = self.tables();
        let k = key(&user.username);
        if t.users.contains_key(&k) {
            return Err(UserExists);
        }
        t.next_seq += 1;
        let seq = t.next_seq;
        t.users.insert(k, (seq, user));
        Ok(())
    }

    fn user(&self, username: &str) -> Option<User> {
        self.tables().users.get(&key(username)).map(|(_, u)| u.clone())
    }

    fn update_user(&self, username: &str, change: &mut dyn FnMut(&mut User)) -> Option<User> {
        let mut t = self.tables();
        let (_, user) = t.users.get_mut(&key(username))?;
        change(user);
        Some(user.clone())
    }

    fn delete_user(&self, username: &str) -> bool {
        self.tables().users.remove(&key(username)).is_some()
    }

    fn users(&self) -> Vec<User> {
        let t = self.tables();
        let mut all: Vec<&(u64, User)> = t.users.values().collect();
        all.sort_by_key(|(seq, _)| *seq);
        all.into_iter().map(|(_, u)| u.clone()).collect()
    }

    fn put_session(&self, token: &str, session: AuthSession) {
        let mut t = self.tables();
        t.maybe_prune();
        t.sessions.insert(token.to_string(), session);
    }

    fn take_session(&self, token: &str) -> Option<AuthSession> {
        self.tables().sessions.remove(token)
    }

    fn put_refresh(&self, token: &str, grant: RefreshGrant) {
        let mut t = self.tables();
        t.maybe_prune();
        t.refresh.insert(token.to_string(), grant);
    }

    fn refresh(&self, token: &str) -> Option<RefreshGrant> {
        self.tables().refresh.get(token).cloned()
    }

    fn revoke_refresh(&self, token: &str) -> bool {
        let mut t = self.tables();
        let Some(grant) = t.refresh.get_mut(token) else { return false };
        grant.revoked = true;
        let origin = grant.origin_jti.clone();
        t.revoked_origins.insert(origin);
        true
    }

    fn revoke_all_refresh(&self, username: &str) {
        let k = key(username);
        let mut t = self.tables();
        let mut origins = Vec::new();
        for grant in t.refresh.values_mut().filter(|g| key(&g.username) == k) {
            grant.revoked = true;
            origins.push(grant.origin_jti.clone());
        }
        t.revoked_origins.extend(origins);
    }

    fn origin_revoked(&self, origin_jti: &str) -> bool {
        self.tables().revoked_origins.contains(origin_jti)
    }

    fn exchange_refresh(&self, token: &str, exchange: &mut Exchange<'_>) {
        let mut t = self.tables();
        t.maybe_prune();
        let family_revoked = t.refresh.get(token).is_some_and(|g| t.revoked_origins.contains(&g.origin_jti));
        if let Some((new_token, grant)) = exchange(t.refresh.get_mut(token), family_revoked) {
            t.refresh.insert(new_token, grant);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(name: &str) -> User {
        User {
            username: name.into(),
            sub: "s".into(),
            attributes: BTreeMap::new(),
            status: UserStatus::Confirmed,
            enabled: true,
            created: Utc::now(),
            modified: Utc::now(),
            confirmation_code: None,
            signed_out_at: None,
            pending_email: None,
            attribute_code: None,
            codes_sent: Vec::new(),
        }
    }

    #[test]
    fn usernames_are_unique_without_case_and_keep_their_spelling() {
        let store = MemoryStore::default();
        store.insert_user(user("Alice")).unwrap();
        assert_eq!(store.insert_user(user("alice")), Err(UserExists));
        assert_eq!(store.user("ALICE").unwrap().username, "Alice");
    }

    #[test]
    fn users_list_in_creation_order() {
        let store = MemoryStore::default();
        for name in ["zed", "amy", "bob"] {
            store.insert_user(user(name)).unwrap();
        }
        let names: Vec<String> = store.users().into_iter().map(|u| u.username).collect();
        assert_eq!(names, ["zed", "amy", "bob"]);
    }

    fn session(expires_at: DateTime<Utc>) -> AuthSession {
        AuthSession {
            username: "a".into(),
            sub: String::new(),
            user_not_found: false,
            client_id: "c".into(),
            rounds: vec![],
            private_parameters: BTreeMap::new(),
            challenge_metadata: None,
            expires_at,
        }
    }

    #[test]
    fn a_session_can_be_taken_once() {
        let store = MemoryStore::default();
        store.put_session("t", session(Utc::now() + chrono::Duration::seconds(60)));
        assert!(store.take_session("t").is_some());
        assert!(store.take_session("t").is_none());
    }

    #[test]
    fn expired_sessions_are_dropped_without_a_scan_per_insert() {
        let store = MemoryStore::default();
        store.put_session("live", session(Utc::now() + chrono::Duration::seconds(60)));
        for i in 0..PRUNE_EVERY {
            store.put_session(&format!("old{i}"), session(Utc::now() - chrono::Duration::seconds(1)));
        }
        assert!(store.tables().sessions.len() < 10, "{}", store.tables().sessions.len());
        assert!(store.take_session("live").is_some());
    }

    #[test]
    fn revoking_a_grant_revokes_its_origin() {
        let store = MemoryStore::default();
        let grant = RefreshGrant {
            username: "a".into(),
            sub: "s".into(),
            client_id: "c".into(),
            origin_jti: "o1".into(),
            auth_time: 0,
            expires_at: Utc::now(),
            revoked: false,
            rotated_at: None,
        };
        store.put_refresh("r1", grant);
        assert!(!store.origin_revoked("o1"));
        assert!(store.revoke_refresh("r1"));
        assert!(store.origin_revoked("o1"));
        assert!(!store.revoke_refresh("unknown"));
    }
}
