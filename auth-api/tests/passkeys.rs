//! Passkeys through the API's router, with ceremonies a software authenticator makes
//! (testkit::webauthn: real P-256 signatures, attestation `none` and `packed`), webauthn-rs
//! checking them, and the sign-in running through local-cognito's CUSTOM_AUTH with the real
//! triggers: no email for a passkey sign-in; replays, wrong origins and RP IDs, another user's
//! passkey, removed passkeys and counters that go back are all refused.

use auth_api::AppState;
use auth_api::error::ApiError;
use auth_api::idp::{IdentityProvider, IdpError, NewUser, Step, Tokens};
use auth_api::passkeys::notices::QueuedNotices;
use auth_api::passkeys::{Account, PasskeyApi, PasskeyConfig, Passkeys};
use axum::http::StatusCode;
use local_cognito::mail::MemoryMailQueue;
use mail_job::MailContent;
use serde_json::{Value, json};
use std::pin::Pin;
use std::sync::Arc;
use testkit::webauthn::{Attestation, SoftPasskey};
use triggers::auth_state::UserState;
use triggers::auth_state::store::MemoryStore;
use triggers::auth_state::store::{StateKey, update};

mod support;
use support::*;

const RP_ID: &str = "app.example";

/// The passkey service as `from_env` builds it, on the stores and queue of the test's pool.
fn with_passkeys(state: AppState, store: MemoryStore, queue: MemoryMailQueue) -> AppState {
    let config = PasskeyConfig::new(RP_ID, APP).unwrap();
    let pool = state.config.user_pool_id.clone();
    let notices = QueuedNotices::new(store.clone(), queue, pool.clone(), format!("{APP}/account"));
    state.with_passkeys(Arc::new(Passkeys::new(&config, "Example", store, pool, Arc::new(notices))))
}

async fn passkey_api() -> Api {
    api_configured(180, &[], with_passkeys).await
}

/// The passkey notices sent so far: (template, recipient, passkey name).
fn notices(api: &Api) -> Vec<(String, String, String)> {
    let jobs = api.queue.jobs();
    let notices = jobs.iter().filter_map(|job| match &job.content {
        MailContent::PasskeyAdded(d) | MailContent::PasskeyRemoved(d) => Some((job, d)),
        _ => None,
    });
    notices.map(|(job, d)| (job.content.template_name().into(), job.to.email.clone(), d.passkey_name.clone())).collect()
}

/// A signed-in user's cookie header, and the calls made with it from the app's origin.
struct User<'a> {
    api: &'a Api,
    cookie: String,
}

impl User<'_> {
    async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Answer {
        call(&self.api.app, method, path, body, &[("cookie", &self.cookie), ("origin", APP)]).await
    }

    /// Adds a passkey with `soft`; the answer of the completion.
    async fn add(&self, soft: &mut SoftPasskey, attestation: Attestation) -> Answer {
        let options = self.call("POST", "/passkeys/register/options", None).await;
        assert_eq!(options.status, StatusCode::OK, "{}", options.body);
        let credential = soft.register(&options.body["publicKey"], attestation);
        let body = json!({"ceremony": options.body["ceremony"], "credential": credential, "name": "Laptop"});
        self.call("POST", "/passkeys/register", Some(body)).await
    }
}

async fn user<'a>(api: &'a Api, username: &str) -> User<'a> {
    let done = api.signed_in(username).await;
    User { api, cookie: format!("id_token={}", done.cookie_value("id_token")) }
}

/// A discoverable sign-in with `soft`: the options, then the assertion.
async fn sign_in(api: &Api, soft: &mut SoftPasskey) -> Answer {
    let options = call(&api.app, "POST", "/passkey/sign-in/options", None, &[("origin", APP)]).await;
    assert_eq!(options.status, StatusCode::OK, "{}", options.body);
    let credential = soft.assert(&options.body["publicKey"]);
    let body = json!({"ceremony": options.body["ceremony"], "credential": credential});
    call(&api.app, "POST", "/passkey/sign-in", Some(body), &[("origin", APP)]).await
}

fn error(a: &Answer) -> (u16, &str) {
    (a.status.as_u16(), a.body["error"].as_str().unwrap_or("none"))
}

#[tokio::test]
async fn an_added_passkey_signs_in_with_no_email_and_its_ceremonies_are_single_use() {
    let api = passkey_api().await;
    let ada = user(&api, "ada").await;
    let mut soft = SoftPasskey::new(APP, RP_ID);
    let added = ada.add(&mut soft, Attestation::None).await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.body);
    assert_eq!((added.body["name"].as_str(), added.body["backup_eligible"].as_bool()), (Some("Laptop"), Some(true)));

    let told = ("passkey_added".to_string(), "ada@example.com".to_string(), "Laptop".to_string());
    assert_eq!(notices(&api), [told], "the account's address is told");
    let emails = api.queue.jobs().len();
    let signed_in = sign_in(&api, &mut soft).await;
    assert_eq!(signed_in.status, StatusCode::OK, "{}", signed_in.body);
    assert_eq!(signed_in.body["username"], "ada");
    assert_eq!(api.queue.jobs().len(), emails, "no email for a passkey sign-in");
    let cookie = format!("id_token={}", signed_in.cookie_value("id_token"));
    let me = call(&api.app, "GET", "/me", None, &[("cookie", &cookie)]).await;
    assert_eq!(me.body["claims"]["cognito:username"], "ada", "{}", me.body);
    let listed = ada.call("GET", "/passkeys", None).await;
    assert!(listed.body["passkeys"][0]["last_used_at"].is_string(), "{}", listed.body);

    // The same assertion again: its ceremony is used up.
    let options = call(&api.app, "POST", "/passkey/sign-in/options", None, &[("origin", APP)]).await;
    let credential = soft.assert(&options.body["publicKey"]);
    let body = json!({"ceremony": options.body["ceremony"], "credential": credential});
    let first = call(&api.app, "POST", "/passkey/sign-in", Some(body.clone()), &[("origin", APP)]).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    let replay = call(&api.app, "POST", "/passkey/sign-in", Some(body), &[("origin", APP)]).await;
    assert_eq!(error(&replay), (401, "ceremony_expired"), "{}", replay.body);
    // Replayed into a fresh ceremony: the challenge is not the one it signed.
    let fresh = call(&api.app, "POST", "/passkey/sign-in/options", None, &[("origin", APP)]).await;
    let body = json!({"ceremony": fresh.body["ceremony"], "credential": credential});
    let replay = call(&api.app, "POST", "/passkey/sign-in", Some(body), &[("origin", APP)]).await;
    assert_eq!(error(&replay), (401, "passkey_rejected"), "{}", replay.body);
    assert_eq!(api.queue.jobs().len(), emails, "still no email");
}

#[tokio::test]
async fn a_packed_attestation_registers_and_a_counter_that_goes_back_is_refused() {
    let api = passkey_api().await;
    let bo = user(&api, "bo").await;
    let mut soft = SoftPasskey::new(APP, RP_ID);
    let added = bo.add(&mut soft, Attestation::Packed).await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.body);
    assert_eq!(sign_in(&api, &mut soft).await.status, StatusCode::OK);
    soft.counter = 1; // a cloned authenticator replaying an older count
    let cloned = sign_in(&api, &mut soft).await;
    assert_eq!(error(&cloned), (401, "passkey_rejected"), "{}", cloned.body);
}

#[tokio::test]
async fn a_wrong_origin_or_rp_id_is_refused_at_registration_and_sign_in() {
    let api = passkey_api().await;
    let cy = user(&api, "cy").await;
    for (origin, rp_id) in [("https://evil.example", RP_ID), (APP, "evil.example")] {
        let mut soft = SoftPasskey::new(origin, rp_id);
        let refused = cy.add(&mut soft, Attestation::None).await;
        assert_eq!(error(&refused), (401, "passkey_rejected"), "{origin} {rp_id}: {}", refused.body);
    }
    let mut soft = SoftPasskey::new(APP, RP_ID);
    assert_eq!(cy.add(&mut soft, Attestation::None).await.status, StatusCode::CREATED);
    soft.origin = "https://evil.example".into();
    assert_eq!(error(&sign_in(&api, &mut soft).await), (401, "passkey_rejected"));
    soft.origin = APP.into();
    soft.rp_id = "evil.example".into();
    assert_eq!(error(&sign_in(&api, &mut soft).await), (401, "passkey_rejected"));
    soft.rp_id = RP_ID.into();
    soft.user_verified = false;
    assert_eq!(error(&sign_in(&api, &mut soft).await), (401, "passkey_rejected"), "user verification is required");
}

#[tokio::test]
async fn one_users_passkey_never_signs_in_another_and_a_removed_one_signs_in_nobody() {
    let api = passkey_api().await;
    let (dee, eve) = (user(&api, "dee").await, user(&api, "eve").await);
    let (mut dees, mut eves) = (SoftPasskey::new(APP, RP_ID), SoftPasskey::new(APP, RP_ID));
    assert_eq!(dee.add(&mut dees, Attestation::None).await.status, StatusCode::CREATED);
    assert_eq!(eve.add(&mut eves, Attestation::None).await.status, StatusCode::CREATED);
    // Eve's authenticator claims Dee's user handle: the credential is Eve's, so no.
    let handle = std::mem::replace(&mut eves.user_handle, dees.user_handle.clone());
    assert_eq!(error(&sign_in(&api, &mut eves).await), (401, "passkey_rejected"));
    eves.user_handle = handle;
    assert_eq!(sign_in(&api, &mut eves).await.body["username"], "eve");

    // Eve cannot rename or remove Dee's passkey; Dee renames and removes it.
    let id = testkit::webauthn::b64(&dees.credential_id);
    let path = format!("/passkeys/{id}");
    let foreign = eve.call("DELETE", &path, None).await;
    assert_eq!(error(&foreign), (404, "passkey_not_found"), "{}", foreign.body);
    let renamed = dee.call("PATCH", &path, Some(json!({"name": "Phone"}))).await;
    assert_eq!(renamed.body["name"], "Phone", "{}", renamed.body);
    let bad_name = dee.call("PATCH", &path, Some(json!({"name": "x".repeat(65)}))).await;
    assert_eq!(error(&bad_name), (400, "invalid_request"));
    // Without the app's Origin, a cookie-carrying DELETE is refused before it reaches anything.
    let csrf = call(&api.app, "DELETE", &path, None, &[("cookie", &dee.cookie)]).await;
    assert_eq!(error(&csrf), (403, "forbidden_origin"));
    let removed = dee.call("DELETE", &path, None).await;
    assert_eq!(removed.status, StatusCode::OK, "{}", removed.body);
    let told = ("passkey_removed".to_string(), "dee@example.com".to_string(), "Phone".to_string());
    assert_eq!(notices(&api).last(), Some(&told));
    assert_eq!(dee.call("GET", "/passkeys", None).await.body["passkeys"], json!([]));
    assert_eq!(error(&sign_in(&api, &mut dees).await), (401, "passkey_rejected"), "removed");
}

#[tokio::test]
async fn a_credential_registers_once_and_an_account_holds_at_most_ten() {
    let api = passkey_api().await;
    let fay = user(&api, "fay").await;
    let mut soft = SoftPasskey::new(APP, RP_ID);
    assert_eq!(fay.add(&mut soft, Attestation::None).await.status, StatusCode::CREATED);
    let again = fay.add(&mut soft, Attestation::None).await;
    assert_eq!(error(&again), (409, "passkey_already_registered"), "{}", again.body);
    // Nor can another account take it over.
    let fays_handle = soft.user_handle.clone();
    let gil = user(&api, "gil").await;
    let taken = gil.add(&mut soft, Attestation::None).await;
    assert_eq!(error(&taken), (409, "passkey_already_registered"), "{}", taken.body);
    soft.user_handle = fays_handle;
    assert_eq!(sign_in(&api, &mut soft).await.body["username"], "fay");
    for _ in 1..10 {
        assert_eq!(fay.add(&mut SoftPasskey::new(APP, RP_ID), Attestation::None).await.status, StatusCode::CREATED);
    }
    let full = fay.call("POST", "/passkeys/register/options", None).await;
    assert_eq!(error(&full), (409, "too_many_passkeys"), "{}", full.body);
    // Managing passkeys needs a signed-in user.
    let anonymous = call(&api.app, "GET", "/passkeys", None, &[]).await;
    assert_eq!(error(&anonymous), (401, "not_signed_in"));
}

#[tokio::test]
async fn without_passkey_rp_id_every_passkey_endpoint_says_so() {
    let api = api().await;
    for (method, path) in [("POST", "/passkey/sign-in/options"), ("GET", "/passkeys")] {
        let answer = call(&api.app, method, path, None, &[("origin", APP)]).await;
        assert_eq!(error(&answer), (501, "passkeys_disabled"), "{path}");
    }
}

/// An identity provider in front of the real one that lets `before` run just before each sign-in
/// starts: another sign-in racing ours, or the proof disappearing.
struct Before<F>(Arc<dyn IdentityProvider>, F);

type Fut<'a, T> = Pin<Box<dyn std::future::Future<Output = Result<T, IdpError>> + Send + 'a>>;

impl<F> IdentityProvider for Before<F>
where
    F: Fn(Arc<dyn IdentityProvider>, String) -> Pin<Box<dyn std::future::Future<Output = ()> + Send>> + Send + Sync,
{
    fn sign_up<'a>(&'a self, user: NewUser<'a>) -> Fut<'a, bool> {
        self.0.sign_up(user)
    }
    fn start_sign_in<'a>(&'a self, username: &'a str) -> Fut<'a, Step> {
        Box::pin(async move {
            (self.1)(self.0.clone(), username.to_string()).await;
            self.0.start_sign_in(username).await
        })
    }
    fn resend<'a>(&'a self, username: &'a str, session: &'a str) -> Fut<'a, Step> {
        self.0.resend(username, session)
    }
    fn answer<'a>(&'a self, username: &'a str, session: &'a str, code: &'a str) -> Fut<'a, Step> {
        self.0.answer(username, session, code)
    }
    fn refresh<'a>(&'a self, token: &'a str) -> Fut<'a, Tokens> {
        self.0.refresh(token)
    }
    fn revoke<'a>(&'a self, token: &'a str) -> Fut<'a, ()> {
        self.0.revoke(token)
    }
}

#[tokio::test]
async fn someone_typing_the_name_meanwhile_cannot_take_the_proof_from_the_passkey_sign_in() {
    // Each sign-in start is preceded by an attacker's: a session of the same account, answered
    // with a guess. It gets the passkey round (no email) but cannot answer it.
    let api = api_configured(180, &[], |mut state, store, queue| {
        state.idp = Arc::new(Before(state.idp.clone(), |idp: Arc<dyn IdentityProvider>, username: String| {
            Box::pin(async move {
                if let Ok(Step::Challenge(c)) = idp.start_sign_in(&username).await {
                    let _ = idp.answer(&username, &c.session, "a-guess").await;
                }
            }) as Pin<Box<dyn std::future::Future<Output = ()> + Send>>
        }));
        with_passkeys(state, store, queue)
    })
    .await;
    let hal = user(&api, "hal").await;
    let mut soft = SoftPasskey::new(APP, RP_ID);
    assert_eq!(hal.add(&mut soft, Attestation::None).await.status, StatusCode::CREATED);
    let emails = api.queue.jobs().len();
    let signed_in = sign_in(&api, &mut soft).await;
    assert_eq!(signed_in.status, StatusCode::OK, "{}", signed_in.body);
    assert_eq!(api.queue.jobs().len(), emails, "and no email");
}

#[tokio::test]
async fn a_sign_in_that_loses_its_proof_is_interrupted_and_leaves_none_behind() {
    let api = api_configured(180, &[], |mut state, store, queue| {
        let (pool, proofs) = (state.config.user_pool_id.clone(), store.clone());
        state.idp = Arc::new(Before(state.idp.clone(), move |_: Arc<dyn IdentityProvider>, username: String| {
            let (pool, proofs) = (pool.clone(), proofs.clone());
            Box::pin(async move {
                let key = StateKey::user(&pool, &username);
                let gone = |mut s: UserState| {
                    s.passkey = None;
                    ((), s)
                };
                update(&proofs, &key, gone).await.unwrap();
            }) as Pin<Box<dyn std::future::Future<Output = ()> + Send>>
        }));
        with_passkeys(state, store, queue)
    })
    .await;
    let gus = user(&api, "gus").await;
    let mut soft = SoftPasskey::new(APP, RP_ID);
    assert_eq!(gus.add(&mut soft, Attestation::None).await.status, StatusCode::CREATED);
    let interrupted = sign_in(&api, &mut soft).await;
    assert_eq!(error(&interrupted), (409, "passkey_sign_in_interrupted"), "{}", interrupted.body);
}

#[tokio::test]
async fn a_failed_cognito_sign_in_withdraws_its_proof_and_a_new_account_of_the_name_inherits_nothing() {
    let api = passkey_api().await;
    let ivy = user(&api, "ivy").await;
    let mut soft = SoftPasskey::new(APP, RP_ID);
    assert_eq!(ivy.add(&mut soft, Attestation::None).await.status, StatusCode::CREATED);
    // Disabled in Cognito: the passkey verifies, Cognito refuses, and no proof stays behind to
    // turn the account's next sign-in into a passkey round.
    let admin = testkit::cognito::client(&api.pool().config.endpoint).await;
    let pool_id = api.pool().config.user_pool_id.clone();
    admin.admin_disable_user().user_pool_id(&pool_id).username("ivy").send().await.unwrap();
    assert_eq!(error(&sign_in(&api, &mut soft).await), (401, "sign_in_failed"));
    admin.admin_enable_user().user_pool_id(&pool_id).username("ivy").send().await.unwrap();
    let next = api.post("/login", json!({"username": "ivy"})).await;
    assert!(next.body["code_length"].is_u64(), "an email round: {}", next.body);

    // Deleted, then the name signed up again: the old passkey and list are not the new account's.
    admin.admin_delete_user().user_pool_id(&pool_id).username("ivy").send().await.unwrap();
    let new_ivy = user(&api, "ivy").await;
    assert_eq!(new_ivy.call("GET", "/passkeys", None).await.body["passkeys"], json!([]));
    assert_eq!(error(&sign_in(&api, &mut soft).await), (401, "passkey_rejected"));
}

#[tokio::test]
async fn adding_a_passkey_needs_a_recent_sign_in_and_a_plain_name() {
    let api = passkey_api().await;
    let joe = user(&api, "joe").await;
    let options = joe.call("POST", "/passkeys/register/options", None).await;
    let credential = SoftPasskey::new(APP, RP_ID).register(&options.body["publicKey"], Attestation::None);
    let named = |name: &str| json!({"ceremony": options.body["ceremony"], "credential": credential, "name": name});
    let link = joe.call("POST", "/passkeys/register", Some(named("Visit evil.example.com now"))).await;
    assert_eq!((error(&link), link.body["field"].as_str()), ((400, "invalid_request"), Some("name")));
    let bidi = joe.call("POST", "/passkeys/register", Some(named("Work \u{202e}yek"))).await;
    assert_eq!(error(&bidi), (400, "invalid_request"));

    // The sign-in a token family began with, as the API recorded it (a refresh keeps the family
    // and renews nothing): older than five minutes, or never recorded, adds and removes nothing.
    let config = PasskeyConfig::new(RP_ID, APP).unwrap();
    let notices = QueuedNotices::new(MemoryStore::new(), MemoryMailQueue::default(), "pool", APP);
    let service = Passkeys::new(&config, "Example", MemoryStore::new(), "pool", Arc::new(notices));
    let now = chrono::Utc::now().timestamp();
    let joe = |family: &str, sub: &str| Account {
        username: "joe".into(),
        sub: sub.into(),
        origin_jti: Some(family.into()),
        ..Account::default()
    };
    service.record_sign_in("stale-family", "sub", now - 301).await;
    service.record_sign_in("fresh-family", "sub", now - 60).await;
    for who in [joe("stale-family", "sub"), joe("unknown-family", "sub"), joe("fresh-family", "another-sub")] {
        let refused = ApiError::from(service.register_options(who.clone(), now).await.err().unwrap());
        assert_eq!((refused.status.as_u16(), refused.code), (403, "recent_sign_in_required"), "{who:?}");
        let refused = service.remove(who, "id".into(), now).await.err().unwrap();
        assert_eq!(ApiError::from(refused).code, "recent_sign_in_required");
    }
    assert!(service.register_options(joe("fresh-family", "sub"), now).await.is_ok());
}

#[test]
fn the_configuration_takes_only_https_origins_on_the_rp_id() {
    assert!(PasskeyConfig::new("app.example", "https://app.example, https://id.app.example:8443").is_ok());
    assert!(PasskeyConfig::new("localhost", "http://localhost:4000").is_ok());
    for (rp, origins) in [
        ("app.example", "http://app.example"),
        ("app.example", "https://evil.example"),
        ("app.example", "https://notapp.example"),
        ("app.example", ""),
        ("127.0.0.1", "http://127.0.0.1:4000"),
        ("app.example", "https://app.example/path"),
    ] {
        let err = PasskeyConfig::new(rp, origins).unwrap_err().to_string();
        assert!(err.contains("PASSKEY_"), "{rp} {origins}: {err}");
    }
}
