//! `local-cognito`: a Cognito Identity Provider endpoint for development and tests. It speaks the
//! JSON 1.1 protocol the official SDKs use, runs CUSTOM_AUTH with the project's triggers (in this
//! process, or as the real Lambda binaries over the Runtime API) and issues RS256 tokens with
//! Cognito's claims, published in a JWKS. It is a development tool, not an identity provider.
//!
//! Layout, after moto's per-service split: [`wire`] (framing) and [`error`] (Cognito's error
//! types), [`operations`] (one decoder per operation), [`pool`] (the rules and the CUSTOM_AUTH
//! orchestration), [`tokens`] (the issuer), [`store`] (state), [`triggers`] and [`runtime_api`]
//! (how triggers run).

pub mod error;
pub mod host;
pub mod mail;
pub mod operations;
pub mod pool;
pub mod runtime_api;
pub mod store;
pub mod tokens;
pub mod triggers;
pub mod wire;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Json, Response};
use axum::routing::{get, post};
use std::sync::Arc;

pub use pool::{PoolConfig, UserPool};

/// The largest request body `POST /` reads (Cognito's inputs are small: 128-character names,
/// 2,048-character attribute values); a larger one is refused with 413 before it is parsed.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The endpoint: the protocol on `POST /`, the JWKS and the OpenID discovery document under
/// `/<userPoolId>/.well-known/`, and Cognito's own emails at `/_local/emails`.
pub fn router(pool: Arc<UserPool>) -> Router {
    Router::new()
        .route("/", post(wire::handle).layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES)))
        .route("/{pool_id}/.well-known/jwks.json", get(jwks))
        .route("/{pool_id}/.well-known/openid-configuration", get(openid_configuration))
        .route("/_local/emails", get(cognito_emails))
        .with_state(pool)
}

async fn jwks(State(pool): State<Arc<UserPool>>, Path(pool_id): Path<String>) -> Response {
    if pool_id != pool.config.user_pool_id {
        return StatusCode::NOT_FOUND.into_response();
    }
    Json(pool.tokens().jwks()).into_response()
}

/// The emails Cognito itself would have sent (confirmation and attribute verification codes),
/// oldest first: where a developer finds the code with the endpoint on its own.
async fn cognito_emails(State(pool): State<Arc<UserPool>>) -> Response {
    Json(pool.outbox().emails()).into_response()
}

async fn openid_configuration(State(pool): State<Arc<UserPool>>, Path(pool_id): Path<String>) -> Response {
    if pool_id != pool.config.user_pool_id {
        return StatusCode::NOT_FOUND.into_response();
    }
    Json(pool.tokens().openid_configuration()).into_response()
}

/// Binds a free loopback port, builds the pool for that endpoint (`configure` may change the
/// defaults of [`PoolConfig::local`]) and serves it in the background: for tests and tools that
/// embed the endpoint.
pub async fn spawn(
    configure: impl FnOnce(&mut PoolConfig),
    store: Arc<dyn store::Store>,
    triggers: Arc<dyn triggers::TriggerRunner>,
) -> std::io::Result<Arc<UserPool>> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    serve_on(listener, configure, store, triggers).await
}

/// [`spawn`] on a listener the caller bound, for triggers that must know the endpoint before
/// they start (the post-authentication binary calls it back).
pub async fn serve_on(
    listener: tokio::net::TcpListener,
    configure: impl FnOnce(&mut PoolConfig),
    store: Arc<dyn store::Store>,
    triggers: Arc<dyn triggers::TriggerRunner>,
) -> std::io::Result<Arc<UserPool>> {
    let mut config = PoolConfig::local(&format!("http://{}", listener.local_addr()?));
    configure(&mut config);
    let pool = UserPool::new(config, store, triggers).map_err(std::io::Error::other)?;
    let app = router(pool.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(pool)
}

/// Serves `app` until `shutdown` completes, then gives the connections still open `grace` to
/// finish: an idle keep-alive connection or a client that never finishes its request cannot hold
/// a stop (Ctrl-C, SIGTERM) of the local servers.
pub async fn serve_until(
    listener: tokio::net::TcpListener,
    app: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    grace: std::time::Duration,
) -> std::io::Result<()> {
    let (stopping, stopped) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown.await;
        let _ = stopping.send(true);
    });
    let mut signal = stopped.clone();
    let serve = axum::serve(listener, app).with_graceful_shutdown(async move {
        let _ = signal.wait_for(|s| *s).await;
    });
    let mut stopped = stopped;
    tokio::select! {
        served = serve => served,
        _ = async {
            let _ = stopped.wait_for(|s| *s).await;
            tokio::time::sleep(grace).await;
        } => Ok(()),
    }
}

/// A six-digit sign-up confirmation code from the OS CSPRNG.
pub(crate) fn confirmation_code() -> String {
    ::triggers::code::OneTimeCode::generate(6).expect("the OS random source works").as_str().to_string()
}
