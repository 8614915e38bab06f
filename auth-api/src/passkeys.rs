//! Passkeys (docs/passkeys.md): a signed-in user adds, lists, renames and removes passkeys; anyone
//! signs in with one (a discoverable credential: no username first). webauthn-rs does every
//! WebAuthn check (origin, RP ID hash, challenge, user verification, signature, counter); this
//! module keeps its state server-side in the auth-state table, makes each challenge single use and
//! five minutes long, and, once an assertion verifies, leaves the triggers' one-time proof
//! ([`triggers::passkey`]) so the sign-in itself runs through Cognito's CUSTOM_AUTH.

pub mod config;
pub mod notices;
pub mod routes;
pub mod store;
pub mod view;

pub use config::PasskeyConfig;
use serde_json::Value;
use std::future::Future;
use std::pin::Pin;
use store::{Ceremony, CredentialOwner, MAX_PER_USER, Purpose, StoredPasskey, UserPasskeys};
use triggers::auth_state::store::{AuthStateStore, StateKey, StoreError, update};
pub use view::PasskeyInfo;
use webauthn_rs::prelude::{
    CreationChallengeResponse, Credential, DiscoverableAuthentication, PasskeyRegistration, PublicKeyCredential,
    RegisterPublicKeyCredential, RequestChallengeResponse, Uuid, Webauthn,
};
use webauthn_rs_proto::ResidentKeyRequirement;

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// How long a challenge may be answered.
pub const CEREMONY_SECONDS: i64 = 300;

/// Adding or removing a passkey needs a sign-in this recent (recorded by this API when it signs
/// the user in, under the token family, so a refresh never renews it): a stolen token, or a
/// browser left signed in, cannot plant a lasting way in or take one away.
pub const RECENT_SIGN_IN_SECONDS: i64 = 300;

/// The signed-in user a request is for (from a verified ID token): who, and where and how the
/// security notices reach them.
#[derive(Debug, Clone, Default)]
pub struct Account {
    pub username: String,
    pub sub: String,
    pub email: Option<String>,
    pub name: Option<String>,
    pub locale: Option<String>,
    /// The token family (`origin_jti`) the request's ID token belongs to.
    pub origin_jti: Option<String>,
}

/// When the sign-in a token family began with happened, and whose it was.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
struct SignedIn {
    at: Option<i64>,
    sub: String,
}

impl triggers::auth_state::store::Item for SignedIn {
    fn expires_at(&self) -> i64 {
        self.at.map_or(0, |at| at + RECENT_SIGN_IN_SECONDS)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PasskeyError {
    #[error("this ceremony is unknown, used or expired")]
    CeremonyExpired,
    /// webauthn-rs refused the response, or the credential is unknown, removed or another
    /// user's: one answer for all, so a response reveals nothing about accounts.
    #[error("passkey rejected: {0}")]
    Rejected(String),
    #[error("no such passkey")]
    NotFound,
    #[error("this account already has {MAX_PER_USER} passkeys")]
    TooMany,
    #[error("this passkey is already registered")]
    AlreadyRegistered,
    #[error("adding a passkey needs a recent sign-in")]
    SignInAgain,
    #[error("{0}")]
    Invalid(&'static str),
    #[error("passkey state unavailable: {0}")]
    Store(String),
}

impl From<StoreError> for PasskeyError {
    fn from(e: StoreError) -> Self {
        PasskeyError::Store(e.to_string())
    }
}

/// Options for the browser (`navigator.credentials.create/get`), with the ceremony they belong to.
pub struct Started<T> {
    pub ceremony: String,
    pub options: T,
}

/// A verified passkey sign-in: the account, and the proof's secret to answer its challenge with.
pub struct SignedInWithPasskey {
    pub username: String,
    pub proof: String,
}

/// The operations the routes call (object-safe, so the router holds any store behind it).
pub trait PasskeyApi: Send + Sync {
    fn register_options(&self, who: Account, now: i64) -> BoxFuture<'_, Result<Started<Value>, PasskeyError>>;
    fn register(
        &self,
        who: Account,
        ceremony: String,
        response: RegisterPublicKeyCredential,
        name: Option<String>,
        now: i64,
    ) -> BoxFuture<'_, Result<PasskeyInfo, PasskeyError>>;
    fn list(&self, who: Account) -> BoxFuture<'_, Result<Vec<PasskeyInfo>, PasskeyError>>;
    fn rename(&self, who: Account, id: String, name: String) -> BoxFuture<'_, Result<PasskeyInfo, PasskeyError>>;
    fn remove(&self, who: Account, id: String, now: i64) -> BoxFuture<'_, Result<PasskeyInfo, PasskeyError>>;
    fn sign_in_options(&self, now: i64) -> BoxFuture<'_, Result<Started<Value>, PasskeyError>>;
    fn sign_in(
        &self,
        ceremony: String,
        response: PublicKeyCredential,
        now: i64,
    ) -> BoxFuture<'_, Result<SignedInWithPasskey, PasskeyError>>;
    /// Records that the token family `origin_jti` of account `sub` began with a sign-in now (an
    /// emailed code or a passkey, never a refresh): adding or removing passkeys needs one recent.
    fn record_sign_in<'a>(&'a self, origin_jti: &'a str, sub: &'a str, now: i64) -> BoxFuture<'a, ()>;
    /// Takes back the proof of a sign-in that did not go through, so it cannot turn a later
    /// sign-in of the account into a passkey round.
    fn withdraw<'a>(&'a self, signed_in: &'a SignedInWithPasskey) -> BoxFuture<'a, ()>;
}

pub struct Passkeys<S> {
    webauthn: Webauthn,
    store: S,
    user_pool_id: String,
    notices: std::sync::Arc<dyn notices::Notify>,
}

/// A random id: 32 bytes, base64url.
fn random_id() -> String {
    use base64::Engine;
    let bytes: [u8; 32] = rand::random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn credential_id(raw: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
}

/// A name the user gave, or the default: trimmed, 1 to 64 characters, and what a display name may
/// hold (the notice emails quote it): no hidden characters, link, address or phone number.
pub fn passkey_name(name: Option<&str>) -> Result<String, PasskeyError> {
    let name = name.map(str::trim).filter(|n| !n.is_empty()).unwrap_or("Passkey");
    if name.chars().count() > 64 || triggers::identity::check_name(name).is_err() {
        return Err(PasskeyError::Invalid(
            "A passkey's name has 1 to 64 characters, and no hidden characters, web address, email address or phone number.",
        ));
    }
    Ok(name.to_string())
}

fn to_value<T: serde::Serialize>(t: &T) -> Value {
    serde_json::to_value(t).expect("webauthn-rs types serialise")
}

impl<S: AuthStateStore> Passkeys<S> {
    pub fn new(
        config: &PasskeyConfig,
        rp_name: &str,
        store: S,
        user_pool_id: impl Into<String>,
        notices: std::sync::Arc<dyn notices::Notify>,
    ) -> Self {
        Passkeys { webauthn: config.webauthn(rp_name), store, user_pool_id: user_pool_id.into(), notices }
    }

    async fn begin(&self, purpose: Purpose, now: i64) -> Result<String, PasskeyError> {
        let id = random_id();
        let key = StateKey::passkey_ceremony(&self.user_pool_id, &id);
        let ceremony = Ceremony { purpose: Some(purpose), until: now + CEREMONY_SECONDS };
        if !self.store.save(&key, &ceremony, 0).await? {
            return Err(PasskeyError::Store("ceremony id collision".into()));
        }
        Ok(id)
    }

    /// Takes a ceremony out of the table: the first caller gets it, once, while it lives.
    async fn take(&self, id: &str, now: i64) -> Result<Purpose, PasskeyError> {
        let key = StateKey::passkey_ceremony(&self.user_pool_id, id);
        let taken = update(&self.store, &key, |c: Ceremony| {
            let live = c.purpose.filter(|_| now < c.until);
            (live, Ceremony { purpose: None, until: c.until })
        })
        .await?;
        taken.ok_or(PasskeyError::CeremonyExpired)
    }

    /// An account's passkeys, by its `sub`.
    async fn user(&self, sub: &str) -> Result<UserPasskeys, PasskeyError> {
        Ok(self.store.load(&StateKey::passkeys(&self.user_pool_id, sub)).await?.state)
    }

    /// Whether the sign-in `who`'s token family began with is recent ([`RECENT_SIGN_IN_SECONDS`]),
    /// as this API recorded it when it signed them in ([`PasskeyApi::record_sign_in`]).
    async fn recently_signed_in(&self, who: &Account, now: i64) -> Result<(), PasskeyError> {
        let family = who.origin_jti.as_deref().ok_or(PasskeyError::SignInAgain)?;
        let read = self.store.load::<SignedIn>(&StateKey::signed_in(&self.user_pool_id, family)).await?;
        match read.state.at {
            Some(at) if now - at <= RECENT_SIGN_IN_SECONDS && read.state.sub == who.sub => Ok(()),
            _ => Err(PasskeyError::SignInAgain),
        }
    }

    async fn register_options_impl(&self, who: Account, now: i64) -> Result<Started<Value>, PasskeyError> {
        self.recently_signed_in(&who, now).await?;
        let key = StateKey::passkeys(&self.user_pool_id, &who.sub);
        let user = update(&self.store, &key, |mut u: UserPasskeys| {
            u.handle.get_or_insert_with(Uuid::new_v4);
            (u.clone(), u)
        })
        .await?;
        if user.keys.len() >= MAX_PER_USER {
            return Err(PasskeyError::TooMany);
        }
        let handle = user.handle.expect("set above");
        let exclude = user.keys.iter().map(|k| k.passkey.cred_id().clone()).collect();
        let (mut options, state): (CreationChallengeResponse, PasskeyRegistration) = self
            .webauthn
            .start_passkey_registration(handle, &who.username, &who.username, Some(exclude))
            .map_err(|e| PasskeyError::Rejected(e.to_string()))?;
        // A passkey, not a second factor: it must be discoverable, so that signing in needs no
        // username (webauthn-rs leaves residence to the authenticator).
        if let Some(selection) = options.public_key.authenticator_selection.as_mut() {
            selection.resident_key = Some(ResidentKeyRequirement::Required);
            selection.require_resident_key = true;
        }
        let purpose = Purpose::Register { username: who.username, sub: who.sub, state: to_value(&state) };
        let ceremony = self.begin(purpose, now).await?;
        Ok(Started { ceremony, options: to_value(&options.public_key) })
    }

    async fn register_impl(
        &self,
        who: Account,
        ceremony: String,
        response: RegisterPublicKeyCredential,
        name: Option<String>,
        now: i64,
    ) -> Result<PasskeyInfo, PasskeyError> {
        let name = passkey_name(name.as_deref())?;
        self.recently_signed_in(&who, now).await?;
        let Purpose::Register { username, sub, state } = self.take(&ceremony, now).await? else {
            return Err(PasskeyError::CeremonyExpired);
        };
        // A ceremony belongs to the account that started it.
        if sub != who.sub {
            return Err(PasskeyError::CeremonyExpired);
        }
        let state: PasskeyRegistration =
            serde_json::from_value(state).map_err(|e| PasskeyError::Store(format!("ceremony state: {e}")))?;
        // Asked first: webauthn-rs reports a credential of the exclude list as an altered algorithm.
        let owner_key = StateKey::passkey_credential(&self.user_pool_id, &credential_id(&response.raw_id));
        if self.store.load::<CredentialOwner>(&owner_key).await?.state.exists() {
            return Err(PasskeyError::AlreadyRegistered);
        }
        let passkey = self
            .webauthn
            .finish_passkey_registration(&response, &state)
            .map_err(|e| PasskeyError::Rejected(e.to_string()))?;
        let id = credential_id(passkey.cred_id());
        let details = Credential::from(passkey.clone());
        let stored = StoredPasskey {
            id: id.clone(),
            name,
            authenticator: None,
            created_at: now,
            last_used_at: None,
            counter: details.counter,
            backup_eligible: details.backup_eligible,
            backup_state: details.backup_state,
            passkey,
        };
        let user = self.user(&sub).await?;
        // The owner record first, and only where none is: one credential, one account.
        let owner_key = StateKey::passkey_credential(&self.user_pool_id, &id);
        let owner = CredentialOwner { username: username.clone(), sub, handle: user.handle };
        let read = self.store.load::<CredentialOwner>(&owner_key).await?;
        if read.state.exists() || !self.store.save(&owner_key, &owner, read.version).await? {
            return Err(PasskeyError::AlreadyRegistered);
        }
        let key = StateKey::passkeys(&self.user_pool_id, &owner.sub);
        let added = update(&self.store, &key, |mut u: UserPasskeys| {
            if u.keys.len() >= MAX_PER_USER {
                return (false, u);
            }
            u.keys.push(stored.clone());
            (true, u)
        })
        .await?;
        if !added {
            self.forget_owner(&id).await;
            return Err(PasskeyError::TooMany);
        }
        tracing::info!("passkey added");
        self.notices.notify(&who, &stored.name, notices::Change::Added, now).await;
        Ok(PasskeyInfo::from(&stored))
    }

    async fn forget_owner(&self, id: &str) {
        let key = StateKey::passkey_credential(&self.user_pool_id, id);
        if let Err(e) = update(&self.store, &key, |_: CredentialOwner| ((), CredentialOwner::default())).await {
            tracing::error!(error = %e, "a removed passkey's owner record was not cleared; it signs nobody in");
        }
    }

    async fn edit(
        &self,
        who: &Account,
        id: &str,
        change: impl Fn(&mut Vec<StoredPasskey>, usize) -> StoredPasskey + Send + Sync,
    ) -> Result<PasskeyInfo, PasskeyError> {
        let key = StateKey::passkeys(&self.user_pool_id, &who.sub);
        let edited = update(&self.store, &key, |mut u: UserPasskeys| match u.keys.iter().position(|k| k.id == id) {
            Some(i) => (Some(change(&mut u.keys, i)), u),
            None => (None, u),
        })
        .await?;
        edited.as_ref().map(PasskeyInfo::from).ok_or(PasskeyError::NotFound)
    }

    async fn sign_in_options_impl(&self, now: i64) -> Result<Started<Value>, PasskeyError> {
        let (options, state): (RequestChallengeResponse, DiscoverableAuthentication) =
            self.webauthn.start_discoverable_authentication().map_err(|e| PasskeyError::Rejected(e.to_string()))?;
        let ceremony = self.begin(Purpose::SignIn { state: to_value(&state) }, now).await?;
        // The button asks at once (a modal choice), not through autofill: the options alone.
        Ok(Started { ceremony, options: to_value(&options.public_key) })
    }

    async fn sign_in_impl(
        &self,
        ceremony: String,
        response: PublicKeyCredential,
        now: i64,
    ) -> Result<SignedInWithPasskey, PasskeyError> {
        let Purpose::SignIn { state } = self.take(&ceremony, now).await? else {
            return Err(PasskeyError::CeremonyExpired);
        };
        let state: DiscoverableAuthentication =
            serde_json::from_value(state).map_err(|e| PasskeyError::Store(format!("ceremony state: {e}")))?;
        let rejected = |why: &str| PasskeyError::Rejected(why.to_string());
        let (handle, raw_id) = self
            .webauthn
            .identify_discoverable_authentication(&response)
            .map_err(|e| PasskeyError::Rejected(e.to_string()))?;
        let id = credential_id(raw_id);
        let owner = self.store.load::<CredentialOwner>(&StateKey::passkey_credential(&self.user_pool_id, &id)).await?;
        let owner = owner.state;
        if !owner.exists() {
            return Err(rejected("unknown or removed credential"));
        }
        // The authenticator's user handle must be the one this credential was registered under:
        // one user's passkey never speaks for another.
        if owner.handle != Some(handle) {
            return Err(rejected("user handle does not match the credential's account"));
        }
        // The account's list, kept under its `sub` (a deleted account's name may be someone
        // else's now; their list is their own).
        let user = self.user(&owner.sub).await?;
        let stored = user.keys.iter().find(|k| k.id == id).ok_or_else(|| rejected("removed credential"))?;
        let result = self
            .webauthn
            .finish_discoverable_authentication_v2(&response, state, &stored.passkey)
            .map_err(|e| PasskeyError::Rejected(e.to_string()))?;
        let key = StateKey::passkeys(&self.user_pool_id, &owner.sub);
        update(&self.store, &key, |mut u: UserPasskeys| {
            if let Some(k) = u.keys.iter_mut().find(|k| k.id == id) {
                k.passkey.update_credential(&result);
                k.counter = k.counter.max(result.counter());
                k.backup_state = result.backup_state();
                k.backup_eligible |= result.backup_eligible();
                k.last_used_at = Some(now);
            }
            ((), u)
        })
        .await?;
        // The proof the create trigger takes: only its digest is stored; the secret answers the
        // passkey challenge of the sign-in the route starts next.
        let proof = random_id();
        let user_key = StateKey::user(&self.user_pool_id, &owner.username);
        if !update(&self.store, &user_key, |s| triggers::passkey::grant(s, &owner.sub, &proof, now)).await? {
            return Err(rejected("the name belongs to another account now"));
        }
        tracing::info!("passkey verified");
        Ok(SignedInWithPasskey { username: owner.username, proof })
    }
}

impl<S: AuthStateStore> PasskeyApi for Passkeys<S> {
    fn register_options(&self, who: Account, now: i64) -> BoxFuture<'_, Result<Started<Value>, PasskeyError>> {
        Box::pin(self.register_options_impl(who, now))
    }

    fn register(
        &self,
        who: Account,
        ceremony: String,
        response: RegisterPublicKeyCredential,
        name: Option<String>,
        now: i64,
    ) -> BoxFuture<'_, Result<PasskeyInfo, PasskeyError>> {
        Box::pin(self.register_impl(who, ceremony, response, name, now))
    }

    fn list(&self, who: Account) -> BoxFuture<'_, Result<Vec<PasskeyInfo>, PasskeyError>> {
        Box::pin(async move {
            let user = self.user(&who.sub).await?;
            Ok(user.keys.iter().map(PasskeyInfo::from).collect())
        })
    }

    fn rename(&self, who: Account, id: String, name: String) -> BoxFuture<'_, Result<PasskeyInfo, PasskeyError>> {
        Box::pin(async move {
            let name = passkey_name(Some(&name))?;
            self.edit(&who, &id, |keys, i| {
                keys[i].name = name.clone();
                keys[i].clone()
            })
            .await
        })
    }

    fn remove(&self, who: Account, id: String, now: i64) -> BoxFuture<'_, Result<PasskeyInfo, PasskeyError>> {
        Box::pin(async move {
            self.recently_signed_in(&who, now).await?;
            let removed = self.edit(&who, &id, |keys, i| keys.remove(i)).await?;
            self.forget_owner(&id).await;
            tracing::info!("passkey removed");
            self.notices.notify(&who, &removed.name, notices::Change::Removed, now).await;
            Ok(removed)
        })
    }

    fn sign_in_options(&self, now: i64) -> BoxFuture<'_, Result<Started<Value>, PasskeyError>> {
        Box::pin(self.sign_in_options_impl(now))
    }

    fn sign_in(
        &self,
        ceremony: String,
        response: PublicKeyCredential,
        now: i64,
    ) -> BoxFuture<'_, Result<SignedInWithPasskey, PasskeyError>> {
        Box::pin(self.sign_in_impl(ceremony, response, now))
    }

    fn record_sign_in<'a>(&'a self, origin_jti: &'a str, sub: &'a str, now: i64) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let key = StateKey::signed_in(&self.user_pool_id, origin_jti);
            let record = SignedIn { at: Some(now), sub: sub.to_string() };
            if let Err(e) = update(&self.store, &key, |_: SignedIn| ((), record.clone())).await {
                tracing::error!(error = %e, "the sign-in was not recorded; adding a passkey asks for a new one");
            }
        })
    }

    fn withdraw<'a>(&'a self, signed_in: &'a SignedInWithPasskey) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let key = StateKey::user(&self.user_pool_id, &signed_in.username);
            if let Err(e) = update(&self.store, &key, |s| triggers::passkey::withdraw(s, &signed_in.proof)).await {
                tracing::error!(error = %e, "an unused passkey proof was not withdrawn; it expires on its own");
            }
        })
    }
}
