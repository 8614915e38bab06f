//! A sign-in's latency through the auth API's router: a passkey sign-in (options, the
//! authenticator's signature, sign-in: InitiateAuth + RespondToAuthChallenge through local-cognito
//! over loopback HTTP with the real triggers and the auth state in memory) against today's emailed
//! code (login + verify-login, the same Cognito calls, the code read from the in-memory queue
//! instead of an inbox). In-process, one machine: the figures compare the two paths' own work;
//! in AWS each Cognito call adds its network round trip, the same count for both.
//!
//!   cargo bench -p auth-api --bench sign_in

#[path = "../tests/support/mod.rs"]
mod support;

use auth_api::passkeys::notices::QueuedNotices;
use auth_api::passkeys::{PasskeyConfig, Passkeys};
use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::{APP, Api, api_configured, call};
use testkit::webauthn::{Attestation, SoftPasskey};

fn with_passkeys(
    state: auth_api::AppState,
    store: triggers::auth_state::store::MemoryStore,
    queue: local_cognito::mail::MemoryMailQueue,
) -> auth_api::AppState {
    let config = PasskeyConfig::new("app.example", APP).unwrap();
    let pool = state.config.user_pool_id.clone();
    let notices = QueuedNotices::new(store.clone(), queue, pool.clone(), format!("{APP}/account"));
    state.with_passkeys(Arc::new(Passkeys::new(&config, "Bench", store, pool, Arc::new(notices))))
}

async fn passkey_sign_in(api: &Api, soft: &mut SoftPasskey) {
    let options = call(&api.app, "POST", "/passkey/sign-in/options", None, &[("origin", APP)]).await;
    let credential = soft.assert(&options.body["publicKey"]);
    let body = json!({"ceremony": options.body["ceremony"], "credential": credential});
    let done = call(&api.app, "POST", "/passkey/sign-in", Some(body), &[("origin", APP)]).await;
    assert_eq!(done.status, 200, "{}", done.body);
}

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let api = runtime.block_on(api_configured(180, &[], with_passkeys));
    // One account with a passkey: a passkey sign-in sends no email, so it can repeat.
    let mut soft = SoftPasskey::new(APP, "app.example");
    runtime.block_on(async {
        let signed_in = api.signed_in("bench-passkey").await;
        let cookie = format!("id_token={}", signed_in.cookie_value("id_token"));
        let headers = [("cookie", cookie.as_str()), ("origin", APP)];
        let options = call(&api.app, "POST", "/passkeys/register/options", None, &headers).await;
        let credential = soft.register(&options.body["publicKey"], Attestation::None);
        let body = json!({"ceremony": options.body["ceremony"], "credential": credential});
        assert_eq!(call(&api.app, "POST", "/passkeys/register", Some(body), &headers).await.status, 201);
    });
    let mut group = c.benchmark_group("sign-in through the auth API");
    group.measurement_time(Duration::from_secs(10));
    group.bench_function("passkey (options + assertion + sign-in, no email)", |b| {
        b.iter(|| runtime.block_on(passkey_sign_in(&api, &mut soft)))
    });
    // The emailed code: a fresh account per sign-in (the per-user budget allows five emails an
    // hour), signed up outside the clock.
    let mut n = 0;
    group.bench_function("emailed code (login + verify-login)", |b| {
        b.iter_custom(|iterations| {
            runtime.block_on(async {
                let mut total = Duration::ZERO;
                for _ in 0..iterations {
                    n += 1;
                    let username = format!("bench-email-{n}");
                    api.sign_up(&username).await;
                    let started = Instant::now();
                    let login = api.post("/login", json!({"username": username})).await;
                    let session = login.body["session"].as_str().unwrap().to_string();
                    let code = api.last_code();
                    let done = api
                        .post("/verify-login", json!({"username": username, "session": session, "code": code}))
                        .await;
                    total += started.elapsed();
                    assert_eq!(done.status, 200, "{}", done.body);
                }
                total
            })
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
