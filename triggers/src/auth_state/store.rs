//! Where the auth state lives: the [`AuthStateStore`] port (load an item, and save it if nobody
//! saved in between), its DynamoDB adapter for Lambda and an in-memory one for unit tests and the
//! local stack. [`update`] runs a pure rule against the store with optimistic concurrency. One
//! table holds every kind of [`Item`]: a user's [`super::UserState`], a mailbox's
//! [`super::MailboxState`] and a signed-out token family, each under its own kind of [`StateKey`].

use crate::identity;
use aws_lambda_events::event::cognito::CognitoEventUserPoolsHeader;
use aws_sdk_dynamodb::types::AttributeValue;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

/// An item key: a salted SHA-256 of its kind, the user pool and the identifier, so the table holds
/// no usernames, no addresses and no token ids.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct StateKey(String);

impl StateKey {
    fn hashed(kind: &str, user_pool_id: &str, id: &str) -> Self {
        let mut ctx = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
        for part in [kind, user_pool_id, id] {
            ctx.update(&(part.len() as u64).to_be_bytes());
            ctx.update(part.as_bytes());
        }
        let digest = ctx.finish();
        StateKey(digest.as_ref().iter().map(|b| format!("{b:02x}")).collect())
    }

    /// A user's state, whatever the spelling of the name ([`identity::fold_username`]), known
    /// user or not.
    pub fn user(user_pool_id: &str, username: &str) -> Self {
        // The kind keeps its first name: lower-case usernames keep the keys they had.
        Self::hashed("passwordless-auth-state/v1", user_pool_id, &identity::fold_username(username))
    }

    /// A mailbox's email budget, whatever the spelling of the address ([`identity::mailbox`]);
    /// `None` for an address the mailer could not deliver to.
    pub fn mailbox(user_pool_id: &str, address: &str) -> Option<Self> {
        identity::mailbox(address).map(|mailbox| Self::hashed("passwordless-mailbox/v1", user_pool_id, &mailbox))
    }

    /// The hashed exact address (as [`identity::delivered_address`] spells it) a suppression is
    /// kept under, inside its mailbox's item: the table holds no address.
    pub fn address_tag(user_pool_id: &str, address: &str) -> Option<String> {
        identity::delivered_address(address)
            .map(|exact| Self::hashed("passwordless-address/v1", user_pool_id, &exact).0)
    }

    /// One email's delivery status ([`super::delivery::DeliveryState`]), by its delivery id.
    pub fn delivery(user_pool_id: &str, delivery_id: &str) -> Self {
        Self::hashed("passwordless-delivery/v1", user_pool_id, delivery_id)
    }

    /// What the auth API keeps for a sign-in's `Session` string (which email it waits for): the
    /// session is the only key to it, and the table holds only its hash.
    pub fn sign_in_session(user_pool_id: &str, session: &str) -> Self {
        Self::hashed("passwordless-sign-in-session/v1", user_pool_id, session)
    }

    /// A token family (every token with this `origin_jti`) signed out through the auth API.
    pub fn token_family(user_pool_id: &str, origin_jti: &str) -> Self {
        Self::hashed("passwordless-signed-out/v1", user_pool_id, origin_jti)
    }

    /// An account's passkeys (the auth API's `passkeys` module), by the account's `sub`: a later
    /// account of the same name has its own.
    pub fn passkeys(user_pool_id: &str, sub: &str) -> Self {
        Self::hashed("passwordless-passkeys/v2", user_pool_id, sub)
    }

    /// When the sign-in a token family (`origin_jti`) began with happened, as the auth API saw it:
    /// a refresh keeps the family and never renews this.
    pub fn signed_in(user_pool_id: &str, origin_jti: &str) -> Self {
        Self::hashed("passwordless-signed-in/v1", user_pool_id, origin_jti)
    }

    /// Which user a passkey credential (by its base64url id) belongs to.
    pub fn passkey_credential(user_pool_id: &str, credential_id: &str) -> Self {
        Self::hashed("passwordless-passkey-credential/v1", user_pool_id, credential_id)
    }

    /// A WebAuthn ceremony under way (its challenge state), by its random id.
    pub fn passkey_ceremony(user_pool_id: &str, ceremony_id: &str) -> Self {
        Self::hashed("passwordless-passkey-ceremony/v1", user_pool_id, ceremony_id)
    }

    /// A key stored in another item (the auth API keeps a user's key with a sign-in's session),
    /// read back as it was written.
    pub fn from_stored(key: String) -> Self {
        StateKey(key)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The user a trigger event is about: its username and the key of its state. A header without
    /// a trigger source, a username or a pool is a malformed event, and the sign-in fails closed.
    pub fn of_event<'a, T>(
        header: &'a CognitoEventUserPoolsHeader<T>,
        event: &str,
    ) -> Result<(&'a str, StateKey), crate::TriggerError> {
        let present = |value: &'a Option<String>, field: &str| {
            value.as_deref().filter(|v| !v.is_empty()).ok_or(format!("malformed {event} event: no {field}"))
        };
        if header.trigger_source.is_none() {
            return Err(format!("malformed {event} event: no triggerSource").into());
        }
        let username = present(&header.user_name, "userName")?;
        let pool = present(&header.user_pool_id, "userPoolId")?;
        Ok((username, StateKey::user(pool, username)))
    }
}

impl std::fmt::Debug for StateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "StateKey({}…)", &self.0[..8])
    }
}

/// What the table can hold: a JSON-serialisable state that starts empty and knows when it stops
/// mattering (the item's TTL).
pub trait Item: Serialize + DeserializeOwned + Default + Clone + PartialEq + Send + Sync + 'static {
    /// Epoch seconds after which nothing in the item matters any more.
    fn expires_at(&self) -> i64;
}

/// A state and the version it was read at (0: no item yet).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Versioned<T> {
    pub state: T,
    pub version: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("auth state store unavailable: {0}")]
    Unavailable(String),
    #[error("auth state item is unreadable: {0}")]
    Corrupt(String),
    #[error("auth state for this user kept changing under {0} attempts")]
    Contended(usize),
}

pub trait AuthStateStore: Send + Sync {
    fn load<T: Item>(&self, key: &StateKey) -> impl Future<Output = Result<Versioned<T>, StoreError>> + Send;
    /// Saves `state` as version `read_version + 1` only if the item is still at `read_version`.
    /// `Ok(false)`: somebody saved first; load again.
    fn save<T: Item>(
        &self,
        key: &StateKey,
        state: &T,
        read_version: u64,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
}

/// How often [`update`] re-reads after losing a race before it gives up (fails closed).
pub const MAX_TRIES: usize = 8;

/// Applies `rule` to the current state and saves the result when it changed, re-running the rule
/// on a fresh read whenever another writer got in first. Returns the rule's outcome.
pub async fn update<S, T, O>(store: &S, key: &StateKey, mut rule: impl FnMut(T) -> (O, T)) -> Result<O, StoreError>
where
    S: AuthStateStore,
    T: Item,
{
    for _ in 0..MAX_TRIES {
        let read = store.load::<T>(key).await?;
        let (outcome, next) = rule(read.state.clone());
        if next == read.state || store.save(key, &next, read.version).await? {
            return Ok(outcome);
        }
        tracing::debug!("auth state changed under us; reading again");
    }
    Err(StoreError::Contended(MAX_TRIES))
}

fn corrupt(e: serde_json::Error) -> StoreError {
    StoreError::Corrupt(format!("`state`: {e}"))
}

/// A process-local store: the local stack's default and the unit tests' fake. It keeps items as
/// the table does (JSON and a version), so every kind of item shares it.
#[derive(Debug, Clone, Default)]
pub struct MemoryStore {
    items: Arc<Mutex<MemoryItems>>,
}

#[derive(Debug, Default)]
struct MemoryItems {
    /// JSON, version and when the item stops mattering (as the table's TTL attribute).
    map: HashMap<StateKey, (String, u64, i64)>,
    saves_since_prune: usize,
}

/// Items past their expiry (and the table's margin) are dropped every this many saves, as
/// DynamoDB's TTL drops them: memory stays bounded by the live ones.
const PRUNE_EVERY: usize = 1024;

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }
}

impl AuthStateStore for MemoryStore {
    async fn load<T: Item>(&self, key: &StateKey) -> Result<Versioned<T>, StoreError> {
        let items = self.items.lock().unwrap_or_else(|p| p.into_inner());
        match items.map.get(key) {
            None => Ok(Versioned::default()),
            Some((json, version, _)) => {
                Ok(Versioned { state: serde_json::from_str(json).map_err(corrupt)?, version: *version })
            }
        }
    }

    async fn save<T: Item>(&self, key: &StateKey, state: &T, read_version: u64) -> Result<bool, StoreError> {
        let json = serde_json::to_string(state).map_err(corrupt)?;
        let mut items = self.items.lock().unwrap_or_else(|p| p.into_inner());
        let current = items.map.get(key).map_or(0, |(_, v, _)| *v);
        if current != read_version {
            return Ok(false);
        }
        items.map.insert(key.clone(), (json, read_version + 1, state.expires_at() + TTL_MARGIN_SECONDS));
        items.saves_since_prune += 1;
        if items.saves_since_prune >= PRUNE_EVERY {
            items.saves_since_prune = 0;
            let now = chrono::Utc::now().timestamp();
            items.map.retain(|_, (_, _, expires)| *expires > now);
        }
        Ok(true)
    }
}

/// The table named by `AUTH_STATE_TABLE`: partition key `pk` (string), the state as JSON in
/// `state`, the version in `v` and the TTL attribute `expires_at` (epoch seconds).
#[derive(Debug, Clone)]
pub struct DynamoStore {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl DynamoStore {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        DynamoStore { client, table: table.into() }
    }
}

/// A day after everything in the item stopped mattering: TTL deletion is lazy anyway, and the
/// rules never read an item's age from its presence.
const TTL_MARGIN_SECONDS: i64 = 86_400;

fn unavailable<E: std::error::Error + 'static, R: std::fmt::Debug>(
    e: aws_sdk_dynamodb::error::SdkError<E, R>,
) -> StoreError {
    // DisplayErrorContext gives the service's error code and message, never the item.
    StoreError::Unavailable(aws_sdk_dynamodb::error::DisplayErrorContext(e).to_string())
}

impl AuthStateStore for DynamoStore {
    async fn load<T: Item>(&self, key: &StateKey) -> Result<Versioned<T>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(key.as_str().to_string()))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        let Some(item) = out.item else { return Ok(Versioned::default()) };
        let version = match item.get("v") {
            Some(AttributeValue::N(n)) => n.parse().map_err(|_| StoreError::Corrupt("`v` is not a number".into()))?,
            _ => return Err(StoreError::Corrupt("no `v`".into())),
        };
        let state = match item.get("state") {
            Some(AttributeValue::S(s)) => serde_json::from_str(s).map_err(corrupt)?,
            _ => return Err(StoreError::Corrupt("no `state`".into())),
        };
        Ok(Versioned { state, version })
    }

    async fn save<T: Item>(&self, key: &StateKey, state: &T, read_version: u64) -> Result<bool, StoreError> {
        let json = serde_json::to_string(state).map_err(corrupt)?;
        let request = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", AttributeValue::S(key.as_str().to_string()))
            .item("v", AttributeValue::N((read_version + 1).to_string()))
            .item("state", AttributeValue::S(json))
            .item("expires_at", AttributeValue::N((state.expires_at() + TTL_MARGIN_SECONDS).to_string()));
        let request = if read_version == 0 {
            request.condition_expression("attribute_not_exists(pk)")
        } else {
            request
                .condition_expression("v = :read")
                .expression_attribute_values(":read", AttributeValue::N(read_version.to_string()))
        };
        match request.send().await {
            Ok(_) => Ok(true),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_conditional_check_failed_exception()) => Ok(false),
            Err(e) => Err(unavailable(e)),
        }
    }
}

/// `AUTH_STATE_TABLE`: required by the functions that read or write the state.
pub fn table_from_env(env: &lambda_support::Env) -> Result<String, lambda_support::ConfigError> {
    Ok(env.required("AUTH_STATE_TABLE")?.to_string())
}

impl DynamoStore {
    /// The adapter on `table`, with a client from the process's SDK configuration (loaded once,
    /// whatever other clients it builds) held to [`TIMEOUTS`].
    pub fn from_sdk(sdk: &lambda_support::SdkConfig, table: impl Into<String>) -> Self {
        let config = aws_sdk_dynamodb::config::Builder::from(sdk).timeout_config(TIMEOUTS.into()).build();
        DynamoStore::new(aws_sdk_dynamodb::Client::from_conf(config), table)
    }
}

/// A DynamoDB call must leave the trigger time to answer inside Cognito's 5 s (the functions run
/// with a 4 s timeout), like the queue send.
pub const TIMEOUTS: lambda_support::SdkTimeouts = lambda_support::SdkTimeouts {
    connect: std::time::Duration::from_millis(1000),
    attempt: std::time::Duration::from_millis(800),
    operation: std::time::Duration::from_millis(1500),
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth_state::{ActiveCode, UserState};

    fn state(wrong: u32) -> UserState {
        UserState {
            code: Some(ActiveCode {
                digits: "123456".into(),
                sent_at: 1,
                expires_at: 2,
                wrong,
                used: false,
                delivery: String::new(),
            }),
            emails: vec![1].into(),
            ..UserState::default()
        }
    }

    #[test]
    fn keys_are_salted_hashes_that_hide_the_username() {
        let a = StateKey::user("eu-west-1_pool", "alice");
        assert_eq!(a.as_str().len(), 64);
        assert!(!a.as_str().contains("alice"));
        assert_eq!(a, StateKey::user("eu-west-1_pool", "alice"));
        assert_ne!(a, StateKey::user("eu-west-1_other", "alice"), "another pool, another key");
        assert_eq!(a, StateKey::user("eu-west-1_pool", "ALICE"), "one key whatever the spelling");
        assert_ne!(
            Some(a.clone()),
            StateKey::mailbox("eu-west-1_pool", "alice@x.example"),
            "each kind has its own keys"
        );
        assert_eq!(StateKey::mailbox("p", "Al.ice+x@gmail.com"), StateKey::mailbox("p", "alice@gmail.com"));
        assert!(StateKey::mailbox("p", "alice@gmail.com").is_some());
        // Length-prefixed parts: moving a character from one part to the next changes the key.
        assert_ne!(StateKey::user("ab", "c"), StateKey::user("a", "bc"));
        assert!(!format!("{a:?}").contains(&a.as_str()[8..]));
    }

    #[tokio::test]
    async fn items_past_their_expiry_are_dropped_as_the_tables_ttl_would() {
        let store = MemoryStore::new();
        let live = UserState {
            code: Some(ActiveCode {
                digits: "12345678".into(),
                sent_at: chrono::Utc::now().timestamp(),
                expires_at: chrono::Utc::now().timestamp() + 180,
                wrong: 0,
                used: false,
                delivery: String::new(),
            }),
            ..UserState::default()
        };
        store.save(&StateKey::user("p", "live"), &live, 0).await.unwrap();
        // The live item's save and these make PRUNE_EVERY saves: the last one prunes.
        for i in 1..PRUNE_EVERY {
            store.save(&StateKey::user("p", &format!("old{i}")), &state(0), 0).await.unwrap();
        }
        let items = store.items.lock().unwrap();
        assert_eq!(items.map.len(), 1, "only the live item is kept");
        assert!(items.map.contains_key(&StateKey::user("p", "live")));
    }

    #[tokio::test]
    async fn a_save_from_a_stale_read_loses() {
        let store = MemoryStore::new();
        let key = StateKey::user("p", "u");
        assert!(store.save(&key, &state(0), 0).await.unwrap());
        assert!(!store.save(&key, &state(1), 0).await.unwrap(), "version 0 is gone");
        assert!(store.save(&key, &state(1), 1).await.unwrap());
        assert_eq!(store.load::<UserState>(&key).await.unwrap(), Versioned { state: state(1), version: 2 });
    }

    #[tokio::test]
    async fn update_reruns_the_rule_after_losing_a_race() {
        let store = MemoryStore::new();
        let key = StateKey::user("p", "u");
        store.save(&key, &state(0), 0).await.unwrap();
        let mut runs = 0;
        let rival = store.clone();
        let out = update(&store, &key, |mut s: UserState| {
            runs += 1;
            if runs == 1 {
                // Another instance saves between our read and our write.
                let mut items = rival.items.lock().unwrap();
                let (json, version, _) = items.map.get_mut(&key).unwrap();
                *json = serde_json::to_string(&state(3)).unwrap();
                *version += 1;
            }
            s.code.as_mut().unwrap().wrong += 1;
            (s.code.as_ref().unwrap().wrong, s)
        })
        .await
        .unwrap();
        assert_eq!((runs, out), (2, 4), "the second run saw the rival's 3 wrong answers");
    }
}
