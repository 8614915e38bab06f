//! The JWKS cache of the auth API over HTTP: keys are fetched once, a token with an unknown `kid`
//! (the pool rotated its keys) makes one refetch, and a flood of unknown `kid`s within the
//! cooldown makes none.

use auth_api::keys::{KeyCache, TokenError};
use axum::Json;
use axum::routing::get;
use local_cognito::tokens::{Grant, TokenIssuer};
use serde_json::{Map, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const ISSUER: &str = "http://127.0.0.1/us-east-1_rotating";

fn id_token(issuer: &TokenIssuer) -> String {
    let grant = Grant { sub: "s", username: "kim", client_id: "client", origin_jti: "o", event_id: "e", auth_time: 1 };
    issuer.id_token(&grant, &Map::new(), chrono::Utc::now().timestamp(), 300)
}

#[tokio::test]
async fn an_unknown_kid_refetches_the_keys_once_per_cooldown() {
    let first = TokenIssuer::generate(ISSUER).unwrap();
    let second = TokenIssuer::generate(ISSUER).unwrap();
    let served = Arc::new(Mutex::new(first.jwks()));
    let fetches = Arc::new(AtomicUsize::new(0));
    let app = {
        let (served, fetches) = (served.clone(), fetches.clone());
        axum::Router::new().route(
            "/jwks.json",
            get(move || {
                fetches.fetch_add(1, Ordering::SeqCst);
                let keys: Value = served.lock().unwrap().clone();
                async move { Json(keys) }
            }),
        )
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/jwks.json", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let cooldown = Duration::from_millis(300);
    let cache = KeyCache::with_cooldown(url.clone(), ISSUER.into(), "client".into(), cooldown);

    let claims = cache.verify_id_token(&id_token(&first)).await.unwrap();
    assert_eq!(claims["cognito:username"], "kim");
    cache.verify_id_token(&id_token(&first)).await.unwrap();
    assert_eq!(fetches.load(Ordering::SeqCst), 1, "cached");

    // The pool rotates its keys. Within the cooldown a new kid is refused without a refetch,
    // however often it comes.
    *served.lock().unwrap() = second.jwks();
    for _ in 0..5 {
        assert_eq!(cache.verify_id_token(&id_token(&second)).await.unwrap_err(), TokenError::Invalid);
    }
    assert_eq!(fetches.load(Ordering::SeqCst), 1, "no refetch within the cooldown");

    // After it, one refetch picks up the new key; the old key is gone with it.
    tokio::time::sleep(cooldown + Duration::from_millis(50)).await;
    cache.verify_id_token(&id_token(&second)).await.expect("the rotated key");
    assert_eq!(cache.verify_id_token(&id_token(&first)).await.unwrap_err(), TokenError::Invalid);
    assert_eq!(fetches.load(Ordering::SeqCst), 2);

    let other_client = KeyCache::with_cooldown(url, ISSUER.into(), "other-client".into(), cooldown);
    assert_eq!(other_client.verify_id_token(&id_token(&second)).await.unwrap_err(), TokenError::Invalid, "wrong aud");
}
