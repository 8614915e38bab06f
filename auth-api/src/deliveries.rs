//! What `GET /login/status` answers: the delivery status of the email a sign-in waits for,
//! authorised by that sign-in's `Session` string and nothing else. Each answer that carries a
//! challenge stores, under the hash of its session, the user's state key and when the email went
//! out; the status then reads the user's state (whose active code holds its email's delivery id,
//! never shown to anyone) and that email's status (`mail-feedback` writes it from SES's events;
//! none yet is `queued`).
//!
//! An unknown username's sign-in sends nothing, yet must not read differently: its status
//! follows a schedule like a real email's (`sent` within 2 s, `delivered` 2 to 6 s later), drawn
//! from its code's secret delivery id. docs/user-existence.md says exactly what the status still reveals.

use serde::{Deserialize, Serialize};
use std::future::Future;
use std::pin::Pin;
use triggers::auth_state::UserState;
use triggers::auth_state::delivery::{DeliveryState, DeliveryStatus};
use triggers::auth_state::store::{AuthStateStore, Item, MemoryStore, StateKey, update};

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The status of one email, as the API answers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub status: DeliveryStatus,
    /// When it got this status (epoch seconds).
    pub at: i64,
    pub reason: Option<String>,
}

pub trait Deliveries: Send + Sync {
    /// Remembers that the sign-in with this session waits for the user's email sent at `sent_at`
    /// (as the challenge says), until `until`.
    fn remember<'a>(
        &'a self,
        session: &'a str,
        username: &'a str,
        sent_at: i64,
        until: i64,
    ) -> BoxFuture<'a, Result<(), String>>;
    /// The status of the email this session waits for; `None` for a session it does not know
    /// (never issued here, or over).
    fn status<'a>(&'a self, session: &'a str, now: i64) -> BoxFuture<'a, Result<Option<Status>, String>>;
}

/// What is kept per session: hashes and ids only (no username, no address, no session).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Waiting {
    /// The user's auth-state key: whether the name is an account's decides real or scheduled.
    user: String,
    /// When the email went out (the challenge's `sentAt`): an unknown name's schedule runs from it,
    /// so a later session reading the same code's email reads it as far along as a real one.
    since: i64,
    until: i64,
}

impl Item for Waiting {
    fn expires_at(&self) -> i64 {
        self.until
    }
}

pub struct StoredDeliveries<S> {
    store: S,
    user_pool_id: String,
}

impl<S> StoredDeliveries<S> {
    pub fn new(store: S, user_pool_id: impl Into<String>) -> Self {
        StoredDeliveries { store, user_pool_id: user_pool_id.into() }
    }
}

impl StoredDeliveries<MemoryStore> {
    pub fn in_memory(user_pool_id: impl Into<String>) -> Self {
        Self::new(MemoryStore::new(), user_pool_id)
    }
}

/// When an unknown name's email "is sent" and "delivered", seconds after its sign-in started:
/// drawn from the delivery id (random), so each poll of one sign-in answers alike.
pub fn schedule(delivery: &str) -> (i64, i64) {
    let byte = |i: usize| u8::from_str_radix(delivery.get(i..i + 2).unwrap_or("00"), 16).unwrap_or(0) as i64;
    let sent = 1 + byte(0) % 2;
    (sent, sent + 2 + byte(2) % 5)
}

impl<S: AuthStateStore> Deliveries for StoredDeliveries<S> {
    fn remember<'a>(
        &'a self,
        session: &'a str,
        username: &'a str,
        sent_at: i64,
        until: i64,
    ) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            let key = StateKey::sign_in_session(&self.user_pool_id, session);
            let user = StateKey::user(&self.user_pool_id, username).as_str().to_string();
            let waiting = Waiting { user, since: sent_at, until };
            update(&self.store, &key, |_: Waiting| ((), waiting.clone())).await.map_err(|e| e.to_string())
        })
    }

    fn status<'a>(&'a self, session: &'a str, now: i64) -> BoxFuture<'a, Result<Option<Status>, String>> {
        Box::pin(async move {
            let key = StateKey::sign_in_session(&self.user_pool_id, session);
            let waiting = self.store.load::<Waiting>(&key).await.map_err(|e| e.to_string())?;
            if waiting.version == 0 || waiting.state.until <= now {
                return Ok(None);
            }
            let w = waiting.state;
            let user = self.store.load::<UserState>(&StateKey::from_stored(w.user.clone())).await;
            let user = user.map_err(|e| e.to_string())?.state;
            let delivery = user.code.as_ref().map(|c| c.delivery.clone()).unwrap_or_default();
            // Read for an unknown name too: both kinds of name cost the same three reads.
            let email = StateKey::delivery(&self.user_pool_id, &delivery);
            let read = self.store.load::<DeliveryState>(&email).await.map_err(|e| e.to_string())?;
            if user.owner.is_none() {
                let (sent, delivered) = schedule(&delivery);
                let elapsed = now - w.since;
                let (status, at) = if elapsed >= delivered {
                    (DeliveryStatus::Delivered, w.since + delivered)
                } else if elapsed >= sent {
                    (DeliveryStatus::Sent, w.since + sent)
                } else {
                    (DeliveryStatus::Queued, w.since)
                };
                return Ok(Some(Status { status, at, reason: None }));
            }
            Ok(Some(match read.version {
                0 => Status { status: DeliveryStatus::Queued, at: w.since, reason: None },
                _ => Status { status: read.state.status, at: read.state.at, reason: read.state.reason },
            }))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use triggers::auth_state::delivery;

    const POOL: &str = "eu-west-1_pool";

    #[tokio::test]
    async fn a_known_users_email_reads_as_its_events_say_and_an_unknown_one_follows_the_schedule() {
        let store = MemoryStore::new();
        let d = StoredDeliveries::new(store.clone(), POOL);
        let id = "0123456789abcdef0123456789abcdef";
        // An account's state has an owner; an unknown name's has none. Each holds its code's id.
        let with_code = |owner: Option<&str>, delivery: &str| UserState {
            owner: owner.map(str::to_string),
            code: Some(triggers::auth_state::ActiveCode {
                digits: "12345678".into(),
                sent_at: 1000,
                expires_at: 1180,
                wrong: 0,
                used: false,
                delivery: delivery.into(),
            }),
            ..UserState::default()
        };
        let unknown = "ffffffffffffffffffffffffffffffff";
        for (name, state) in [("ann", with_code(Some("sub-1"), id)), ("nobody", with_code(None, unknown))] {
            update(&store, &StateKey::user(POOL, name), |_: UserState| ((), state.clone())).await.unwrap();
        }
        d.remember("session-a", "ann", 1000, 1180).await.unwrap();
        d.remember("session-b", "nobody", 1000, 1180).await.unwrap();

        assert_eq!(d.status("session-a", 1001).await.unwrap().unwrap().status, DeliveryStatus::Queued);
        let key = StateKey::delivery(POOL, id);
        update(&store, &key, |s| delivery::advance(s, DeliveryStatus::Bounced, 1002, Some("permanent_bounce")))
            .await
            .unwrap();
        let bounced = d.status("session-a", 1003).await.unwrap().unwrap();
        assert_eq!((bounced.status, bounced.reason.as_deref()), (DeliveryStatus::Bounced, Some("permanent_bounce")));

        let (sent, delivered) = schedule(unknown);
        assert!((1..=2).contains(&sent) && delivered - sent >= 2 && delivered <= 8);
        for (t, expected) in
            [(0, DeliveryStatus::Queued), (sent, DeliveryStatus::Sent), (delivered, DeliveryStatus::Delivered)]
        {
            assert_eq!(d.status("session-b", 1000 + t).await.unwrap().unwrap().status, expected, "at +{t} s");
        }

        assert_eq!(d.status("session-never-issued", 1001).await.unwrap(), None);
        assert_eq!(d.status("session-a", 1180).await.unwrap(), None, "over with its sign-in");
    }
}
