//! The auth API apps call: `POST /signup`, `POST /login`, `POST /resend`, `POST /verify-login`, `GET /me`,
//! `POST /refresh`, `POST /logout`, over Cognito's CUSTOM_AUTH through
//! `aws-sdk-cognitoidentityprovider` (AWS, or `local-cognito` through `AWS_ENDPOINT_URL*`).
//!
//! [`input`] validates, [`idp`] is the port to Cognito with its SDK adapter, [`keys`] verifies ID
//! tokens against the JWKS, [`cookies`] sets the token cookies, [`error`] owns every error
//! answer, [`routes`] holds the handlers and [`router`] puts them together.

pub mod config;
pub mod cookies;
pub mod error;
pub mod idp;
pub mod input;
pub mod keys;
pub mod password;
pub mod routes;

use axum::Router;
use axum::routing::{get, post};
use config::ApiConfig;
use idp::IdentityProvider;
use keys::KeyCache;
use std::sync::Arc;

#[derive(Clone)]
pub struct AppState {
    pub config: Arc<ApiConfig>,
    pub idp: Arc<dyn IdentityProvider>,
    pub keys: Arc<KeyCache>,
}

impl AppState {
    pub fn new(config: ApiConfig, idp: Arc<dyn IdentityProvider>) -> Self {
        let keys = KeyCache::new(config.jwks_url(), config.issuer.clone(), config.client_id.clone());
        AppState { config: Arc::new(config), idp, keys: Arc::new(keys) }
    }
}

/// The API's routes at the root (a Lambda Function URL or the local server); the local stack
/// nests them under `/api`.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/signup", post(routes::signup))
        .route("/login", post(routes::login))
        .route("/resend", post(routes::resend))
        .route("/verify-login", post(routes::verify_login))
        .route("/me", get(routes::me))
        .route("/refresh", post(routes::refresh))
        .route("/logout", post(routes::logout))
        .layer(axum::middleware::from_fn_with_state(state.clone(), routes::check_origin))
        .with_state(state)
}

/// The production wiring: configuration from the environment, the SDK client with explicit
/// timeouts.
pub async fn from_env(env: &lambda_support::Env) -> Result<AppState, lambda_support::ConfigError> {
    let config = ApiConfig::from_env(env)?;
    let sdk = lambda_support::sdk_config(idp::TIMEOUTS).await;
    let idp = idp::CognitoIdp::new(aws_sdk_cognitoidentityprovider::Client::new(&sdk), config.client_id.clone());
    Ok(AppState::new(config, Arc::new(idp)))
}
