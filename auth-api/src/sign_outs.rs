//! Sign-out that holds wherever the API looks. Revoking the refresh token stops new tokens, but an
//! ID token is checked locally against the JWKS and stays valid until it expires; so a sign-out also
//! records the token family (the `origin_jti` every token of one sign-in shares) in the auth-state
//! table, and `/me` refuses any token of a recorded family. The cost: one consistent `GetItem`
//! per `/me` (docs/decisions.md).

use serde::{Deserialize, Serialize};
use std::future::Future;
use std::pin::Pin;
use triggers::auth_state::store::{AuthStateStore, Item, MemoryStore, StateKey, update};

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// How long a sign-out is remembered: Cognito's longest ID-token lifetime (a day), so every token
/// of the family that was issued before the sign-out has expired by then.
pub const REMEMBERED_SECONDS: i64 = 86_400;

pub trait SignOuts: Send + Sync {
    /// Records that every token of this family is signed out, from `now` on.
    fn sign_out(&self, origin_jti: &str, now: i64) -> BoxFuture<'_, Result<(), String>>;
    fn is_signed_out(&self, origin_jti: &str, now: i64) -> BoxFuture<'_, Result<bool, String>>;
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct SignedOut {
    until: i64,
}

impl Item for SignedOut {
    fn expires_at(&self) -> i64 {
        self.until
    }
}

/// Sign-outs in the auth-state store: DynamoDB in Lambda, memory in the local stack and tests.
pub struct StoredSignOuts<S> {
    store: S,
    user_pool_id: String,
}

impl<S> StoredSignOuts<S> {
    pub fn new(store: S, user_pool_id: impl Into<String>) -> Self {
        StoredSignOuts { store, user_pool_id: user_pool_id.into() }
    }
}

impl StoredSignOuts<MemoryStore> {
    pub fn in_memory(user_pool_id: impl Into<String>) -> Self {
        Self::new(MemoryStore::new(), user_pool_id)
    }
}

impl<S: AuthStateStore> SignOuts for StoredSignOuts<S> {
    fn sign_out(&self, origin_jti: &str, now: i64) -> BoxFuture<'_, Result<(), String>> {
        let key = StateKey::token_family(&self.user_pool_id, origin_jti);
        Box::pin(async move {
            let until = now + REMEMBERED_SECONDS;
            update(&self.store, &key, |s: SignedOut| ((), SignedOut { until: s.until.max(until) }))
                .await
                .map_err(|e| e.to_string())
        })
    }

    fn is_signed_out(&self, origin_jti: &str, now: i64) -> BoxFuture<'_, Result<bool, String>> {
        let key = StateKey::token_family(&self.user_pool_id, origin_jti);
        Box::pin(async move {
            let read = self.store.load::<SignedOut>(&key).await.map_err(|e| e.to_string())?;
            Ok(read.state.until > now)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_signed_out_family_stays_out_for_a_day_and_others_are_untouched() {
        let s = StoredSignOuts::in_memory("eu-west-1_pool");
        assert!(!s.is_signed_out("family-a", 1000).await.unwrap());
        s.sign_out("family-a", 1000).await.unwrap();
        assert!(s.is_signed_out("family-a", 1001).await.unwrap());
        assert!(s.is_signed_out("family-a", 1000 + REMEMBERED_SECONDS - 1).await.unwrap());
        assert!(!s.is_signed_out("family-a", 1000 + REMEMBERED_SECONDS).await.unwrap());
        assert!(!s.is_signed_out("family-b", 1001).await.unwrap());
    }
}
