//! The user pool: Cognito's documented behaviour for sign-up, confirmation, CUSTOM_AUTH (the
//! define → create → verify → define orchestration with its `session` array), refresh and sign-out.
//! Wire format lives in [`crate::operations`]; this module only knows Rust values and the event
//! JSON the triggers receive. One file per group of operations: [`sign_up`] (sign-up,
//! confirmation, the attribute rules), [`custom_auth`] (CUSTOM_AUTH, post-authentication),
//! [`refresh`] (tokens, refresh and rotation), [`attributes`] (a signed-in user's own attributes
//! and verification codes) and [`users`] (admin reads and writes, sign-out, revocation).

mod attributes;
pub use attributes::{CodeDelivery, MAX_CODES_PER_HOUR};
mod custom_auth;
mod refresh;
mod sign_up;
mod users;

use crate::error::CognitoError;
use crate::mail::Outbox;
use crate::store::{Store, User};
use crate::tokens::TokenIssuer;
use crate::triggers::{Trigger, TriggerFailure, TriggerRunner};
use chrono::{DateTime, Duration, Utc};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The grace period of a rotated-out refresh token, as the CDK app client sets it.
pub const DEFAULT_ROTATION_GRACE_SECONDS: i64 = 10;

#[derive(Debug, Clone)]
pub struct PoolConfig {
    pub region: String,
    pub user_pool_id: String,
    pub client_id: String,
    /// Where the endpoint is served, e.g. `http://127.0.0.1:9229`.
    pub endpoint: String,
    /// `<endpoint>/<userPoolId>`: the `iss` of every token and the base of the JWKS URL.
    pub issuer: String,
    /// How long each `Session` string is good for (Cognito: 3–15 minutes, 3 by default).
    pub session_ttl: Duration,
    /// PreventUserExistenceErrors: unknown usernames run the flow with `userNotFound: true`.
    pub prevent_user_existence_errors: bool,
    pub access_token_ttl: Duration,
    pub id_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
    /// Refresh token rotation with this grace period for the token rotated out (Cognito: 0–60
    /// s), or `None` for rotation off. With rotation on, `REFRESH_TOKEN_AUTH` is not allowed.
    pub refresh_token_rotation: Option<Duration>,
    /// The attributes the app client may write (SignUp, UpdateUserAttributes,
    /// DeleteUserAttributes), as the CDK app client sets them.
    pub write_attributes: Vec<String>,
    /// `keepOriginal` for `email`: a changed address takes effect once its code is verified.
    pub keep_original_email: bool,
}

impl PoolConfig {
    /// The defaults of the CDK app's pool, served from `endpoint` (e.g. `http://127.0.0.1:4000`).
    pub fn local(endpoint: &str) -> PoolConfig {
        let region = "us-east-1".to_string();
        let user_pool_id = format!("{region}_localpool");
        let endpoint = endpoint.trim_end_matches('/').to_string();
        PoolConfig {
            issuer: format!("{endpoint}/{user_pool_id}"),
            endpoint,
            region,
            user_pool_id,
            client_id: "local0client0id00000000000".into(),
            session_ttl: Duration::seconds(180),
            prevent_user_existence_errors: true,
            access_token_ttl: Duration::minutes(60),
            id_token_ttl: Duration::minutes(60),
            refresh_token_ttl: Duration::days(30),
            refresh_token_rotation: Some(Duration::seconds(DEFAULT_ROTATION_GRACE_SECONDS)),
            write_attributes: ["email", "name", "locale"].map(String::from).to_vec(),
            keep_original_email: true,
        }
    }
}

/// What a step of CUSTOM_AUTH answers: another challenge, or tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthStep {
    Challenge { session: String, parameters: BTreeMap<String, String> },
    Tokens(Tokens),
}

#[derive(Clone, PartialEq, Eq)]
pub struct Tokens {
    pub id_token: String,
    pub access_token: String,
    pub refresh_token: Option<String>,
    pub expires_in: i64,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokens").field("expires_in", &self.expires_in).finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignUpOutcome {
    pub confirmed: bool,
    pub sub: String,
    /// The masked address a confirmation code would go to, for an unconfirmed user.
    pub code_destination: Option<String>,
}

pub struct UserPool {
    pub config: PoolConfig,
    store: Arc<dyn Store>,
    triggers: Arc<dyn TriggerRunner>,
    tokens: TokenIssuer,
    outbox: Outbox,
}

impl UserPool {
    /// The pool, shared; triggers that call the pool back (post-authentication in this process)
    /// are handed it before it serves anything.
    pub fn new(
        config: PoolConfig,
        store: Arc<dyn Store>,
        triggers: Arc<dyn TriggerRunner>,
    ) -> Result<Arc<Self>, String> {
        let tokens = TokenIssuer::generate(config.issuer.clone())?;
        Ok(Arc::new_cyclic(|pool| {
            triggers.attach(pool.clone());
            UserPool { config, store, triggers, tokens, outbox: Outbox::default() }
        }))
    }

    pub fn tokens(&self) -> &TokenIssuer {
        &self.tokens
    }

    /// The emails Cognito itself would send (confirmation and attribute verification codes).
    pub fn outbox(&self) -> &Outbox {
        &self.outbox
    }

    pub fn store(&self) -> &dyn Store {
        self.store.as_ref()
    }

    pub fn check_client(&self, client_id: &str) -> Result<(), CognitoError> {
        if client_id == self.config.client_id {
            Ok(())
        } else {
            Err(CognitoError::resource_not_found(format!("User pool client {client_id} does not exist.")))
        }
    }

    pub fn check_pool(&self, user_pool_id: &str) -> Result<(), CognitoError> {
        if user_pool_id == self.config.user_pool_id {
            Ok(())
        } else {
            Err(CognitoError::resource_not_found(format!("User pool {user_pool_id} does not exist.")))
        }
    }

    fn event(&self, source: &str, username: &str, client_id: &str, request: Value, response: Value) -> Value {
        json!({
            "version": "1",
            "triggerSource": source,
            "region": self.config.region,
            "userPoolId": self.config.user_pool_id,
            "userName": username,
            "callerContext": { "awsSdkVersion": "aws-sdk-unknown-unknown", "clientId": client_id },
            "request": request,
            "response": response,
        })
    }

    async fn run(&self, trigger: Trigger, event: Value) -> Result<Value, CognitoError> {
        let outcome = tokio::time::timeout(crate::runtime_api::TRIGGER_TIMEOUT, self.triggers.invoke(trigger, event))
            .await
            .unwrap_or_else(|_| Err(TriggerFailure::Unavailable("Task timed out after 5.00 seconds".into())));
        match outcome {
            Ok(answer) => Ok(answer),
            Err(TriggerFailure::Returned(message)) => {
                tracing::warn!(trigger = trigger.cognito_name(), "trigger returned an error");
                Err(CognitoError::trigger_failed(trigger.cognito_name(), &message))
            }
            Err(TriggerFailure::Unavailable(reason)) => {
                tracing::error!(trigger = trigger.cognito_name(), %reason, "trigger could not be run");
                Err(CognitoError::trigger_unavailable(trigger.cognito_name(), &reason))
            }
        }
    }

    /// Attributes as triggers see them: the stored ones plus `sub` and the status.
    fn trigger_attributes(user: &User) -> Value {
        let mut attributes: Map<String, Value> =
            user.attributes.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect();
        attributes.insert("sub".into(), Value::String(user.sub.clone()));
        attributes.insert("cognito:user_status".into(), Value::String(user.status.as_str().into()));
        Value::Object(attributes)
    }
}

/// Epoch seconds, the JSON 1.1 protocol's timestamp format.
pub fn epoch(t: DateTime<Utc>) -> f64 {
    t.timestamp_millis() as f64 / 1000.0
}
