//! The auth API apps call: `POST /signup`, `POST /login`, `GET /login/status`, `POST /resend`, `POST /verify-login`, `GET /me`,
//! `POST /refresh`, `POST /logout`, over Cognito's CUSTOM_AUTH through
//! `aws-sdk-cognitoidentityprovider` (AWS, or `local-cognito` through `AWS_ENDPOINT_URL*`).
//!
//! [`input`] validates, [`idp`] is the port to Cognito with its SDK adapter, [`keys`] verifies ID
//! tokens against the JWKS, [`cookies`] sets the token cookies, [`error`] owns every error
//! answer, [`routes`] holds the handlers and [`router`] puts them together.

pub mod config;
pub mod cookies;
pub mod deliveries;
pub mod error;
pub mod idp;
pub mod input;
pub mod keys;
pub mod openapi;
pub mod passkeys;
pub mod password;
pub mod routes;
pub mod sign_outs;

use axum::Router;
use axum::routing::{get, patch, post};
use config::ApiConfig;
use deliveries::{Deliveries, StoredDeliveries};
use idp::IdentityProvider;
use keys::KeyCache;
use sign_outs::{SignOuts, StoredSignOuts};
use std::sync::Arc;

#[derive(Clone)]
pub struct AppState {
    pub config: Arc<ApiConfig>,
    pub idp: Arc<dyn IdentityProvider>,
    pub keys: Arc<KeyCache>,
    pub sign_outs: Arc<dyn SignOuts>,
    /// Which email each sign-in waits for, and its delivery status (`GET /login/status`).
    pub deliveries: Arc<dyn Deliveries>,
    /// Passkeys, when `PASSKEY_RP_ID` is set (docs/passkeys.md).
    pub passkeys: Option<Arc<dyn passkeys::PasskeyApi>>,
}

impl AppState {
    /// The API with its sign-outs remembered in this process (one process: the local stack,
    /// tests); [`AppState::with_sign_outs`] shares them through a table.
    pub fn new(config: ApiConfig, idp: Arc<dyn IdentityProvider>) -> Self {
        let keys = KeyCache::new(config.jwks_url(), config.issuer.clone(), config.client_id.clone());
        let sign_outs = Arc::new(StoredSignOuts::in_memory(config.user_pool_id.clone()));
        let deliveries = Arc::new(StoredDeliveries::in_memory(config.user_pool_id.clone()));
        AppState { config: Arc::new(config), idp, keys: Arc::new(keys), sign_outs, deliveries, passkeys: None }
    }

    /// The API's own origin, when the process learns it only once it listens (the local server).
    pub fn with_own_origin(mut self, origin: String) -> Self {
        Arc::make_mut(&mut self.config).own_origin.get_or_insert(origin);
        self
    }

    pub fn with_sign_outs(mut self, sign_outs: Arc<dyn SignOuts>) -> Self {
        self.sign_outs = sign_outs;
        self
    }

    pub fn with_passkeys(mut self, passkeys: Arc<dyn passkeys::PasskeyApi>) -> Self {
        self.passkeys = Some(passkeys);
        self
    }

    /// Delivery statuses read from the store the triggers and mail-feedback write (the table in
    /// Lambda, the local stack's shared memory store).
    pub fn with_deliveries(mut self, deliveries: Arc<dyn Deliveries>) -> Self {
        self.deliveries = deliveries;
        self
    }
}

/// The API's routes at the root (a Lambda Function URL or the local server); the local stack
/// nests them under `/api`.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/signup", post(routes::signup))
        .route("/login", post(routes::login))
        .route("/login/status", get(routes::login_status))
        .route("/resend", post(routes::resend))
        .route("/verify-login", post(routes::verify_login))
        .route("/me", get(routes::me))
        .route("/refresh", post(routes::refresh))
        .route("/logout", post(routes::logout))
        .route("/passkeys", get(passkeys::routes::list))
        .route("/passkeys/register/options", post(passkeys::routes::register_options))
        .route("/passkeys/register", post(passkeys::routes::register))
        .route("/passkeys/{id}", patch(passkeys::routes::rename).delete(passkeys::routes::remove))
        .route("/passkey/sign-in/options", post(passkeys::routes::sign_in_options))
        .route("/passkey/sign-in", post(passkeys::routes::sign_in))
        .route("/openapi.json", get(routes::openapi_json))
        .layer(axum::middleware::from_fn_with_state(state.clone(), routes::check_origin))
        .with_state(state)
}

/// The production wiring: configuration from the environment (`AUTH_STATE_TABLE` included: the
/// sign-outs and the delivery statuses), the SDK clients with explicit timeouts.
pub async fn from_env(env: &lambda_support::Env) -> Result<AppState, lambda_support::ConfigError> {
    let config = ApiConfig::from_env(env)?;
    let table = triggers::auth_state::store::table_from_env(env)?;
    let sdk = lambda_support::sdk_config(idp::TIMEOUTS).await;
    let idp = idp::CognitoIdp::new(aws_sdk_cognitoidentityprovider::Client::new(&sdk), config.client_id.clone());
    let store = triggers::auth_state::store::DynamoStore::from_sdk(&sdk, table);
    let sign_outs = Arc::new(StoredSignOuts::new(store.clone(), config.user_pool_id.clone()));
    let deliveries = Arc::new(StoredDeliveries::new(store.clone(), config.user_pool_id.clone()));
    let passkey_config = passkeys::PasskeyConfig::from_env(env)?;
    let pool = config.user_pool_id.clone();
    let mut state = AppState::new(config, Arc::new(idp)).with_sign_outs(sign_outs).with_deliveries(deliveries);
    if let Some(passkey_config) = passkey_config {
        // A passkey change always tells the account's address: the notices need the mail queue
        // and the page that lists the passkeys.
        let queue_url = env.required("MAIL_QUEUE_URL")?;
        let account_url = triggers::link::parse_web_url(env.required("ACCOUNT_URL")?)
            .map_err(|reason| lambda_support::ConfigError::Invalid { name: "ACCOUNT_URL", reason })?;
        let queue = triggers::mail_queue::SqsMailQueue::new(aws_sdk_sqs::Client::new(&sdk), queue_url);
        let notices = passkeys::notices::QueuedNotices::new(store.clone(), queue, pool.clone(), account_url)
            .with_limits(triggers::auth_state::Limits::from_env(env)?);
        let rp_name = env.optional("APP_NAME").unwrap_or("Passwordless sign-in");
        let service = passkeys::Passkeys::new(&passkey_config, rp_name, store, pool, Arc::new(notices));
        state = state.with_passkeys(Arc::new(service));
    }
    Ok(state)
}
