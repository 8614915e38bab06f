//! How the endpoint runs the Lambda triggers: the [`TriggerRunner`] port takes the event JSON
//! Cognito would send and returns the function's JSON answer. [`InProcessTriggers`] calls the same
//! handlers the Lambda binaries wrap; [`crate::runtime_api::BinaryTriggers`] runs the binaries.

use futures::future::BoxFuture;
use lambda_support::{ConfigError, Env};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::sync::{Arc, OnceLock, Weak};
use triggers::auth_state::Limits;
use triggers::auth_state::store::{AuthStateStore, DynamoStore, MemoryStore};
use triggers::create::{CreateChallenge, CreateConfig};
use triggers::define::DefineConfig;
use triggers::mail_queue::MailQueue;
use triggers::post_authentication::{PostAuthentication, UserDirectory, WelcomeConfig};
use triggers::verify::VerifyChallenge;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Trigger {
    PreSignUp,
    PostConfirmation,
    DefineAuthChallenge,
    CreateAuthChallenge,
    VerifyAuthChallenge,
    PostAuthentication,
}

impl Trigger {
    pub const ALL: [Trigger; 6] = [
        Trigger::PreSignUp,
        Trigger::PostConfirmation,
        Trigger::DefineAuthChallenge,
        Trigger::CreateAuthChallenge,
        Trigger::VerifyAuthChallenge,
        Trigger::PostAuthentication,
    ];

    /// The triggers the project deploys (infra/): the pool runs these.
    pub const PROJECT: [Trigger; 5] = [
        Trigger::PreSignUp,
        Trigger::DefineAuthChallenge,
        Trigger::CreateAuthChallenge,
        Trigger::VerifyAuthChallenge,
        Trigger::PostAuthentication,
    ];

    /// The name Cognito uses in `UserLambdaValidationException` messages and trigger sources.
    pub fn cognito_name(self) -> &'static str {
        match self {
            Trigger::PreSignUp => "PreSignUp",
            Trigger::PostConfirmation => "PostConfirmation",
            Trigger::DefineAuthChallenge => "DefineAuthChallenge",
            Trigger::CreateAuthChallenge => "CreateAuthChallenge",
            Trigger::VerifyAuthChallenge => "VerifyAuthChallengeResponse",
            Trigger::PostAuthentication => "PostAuthentication",
        }
    }

    /// The project's binary for this trigger (a contract: see the README).
    pub fn binary(self) -> &'static str {
        match self {
            Trigger::PreSignUp => "pre-sign-up",
            Trigger::PostConfirmation => "post-confirmation",
            Trigger::DefineAuthChallenge => "define-auth-challenge",
            Trigger::CreateAuthChallenge => "create-auth-challenge",
            Trigger::VerifyAuthChallenge => "verify-auth-challenge",
            Trigger::PostAuthentication => "post-authentication",
        }
    }
}

/// Why a trigger gave no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TriggerFailure {
    /// The function ran and returned an error (Cognito: `UserLambdaValidationException`).
    #[error("{0}")]
    Returned(String),
    /// The function could not be run or did not answer in time.
    #[error("{0}")]
    Unavailable(String),
}

pub trait TriggerRunner: Send + Sync {
    /// Whether the pool has this trigger configured (Cognito skips a missing one).
    fn has(&self, trigger: Trigger) -> bool;
    fn invoke(&self, trigger: Trigger, event: Value) -> BoxFuture<'_, Result<Value, TriggerFailure>>;
    /// Hands the runner the pool it serves, for triggers that call the pool back.
    fn attach(&self, _pool: Weak<crate::UserPool>) {}
}

/// post-authentication's way to the pool when it runs in this process: the pool itself (as the
/// binaries reach it through `AdminUpdateUserAttributes` on the wire).
#[derive(Clone, Default)]
pub struct PoolDirectory(Arc<OnceLock<Weak<crate::UserPool>>>);

impl UserDirectory for PoolDirectory {
    async fn mark_email_verified(&self, user_pool_id: &str, username: &str) -> Result<(), String> {
        let pool = self.0.get().and_then(Weak::upgrade).ok_or("the pool is not running")?;
        pool.check_pool(user_pool_id).map_err(|e| e.to_string())?;
        let verified = [("email_verified".to_string(), "true".to_string())].into();
        pool.admin_update_user_attributes(username, verified).map_err(|e| e.to_string())
    }
}

/// The triggers as library calls in this process, over a mail queue of the caller's choice (SQS
/// through the SDK, or the local stack's own queue) and an auth-state store (in memory by
/// default, or DynamoDB).
pub struct InProcessTriggers<Q, S = MemoryStore> {
    define: DefineConfig,
    create: CreateChallenge<Q, S>,
    verify: VerifyChallenge<S>,
    welcome: Option<PostAuthentication<Q, S, PoolDirectory>>,
    directory: PoolDirectory,
}

impl<Q: MailQueue + Clone + 'static> InProcessTriggers<Q, MemoryStore> {
    /// The same variables the Lambda functions read, with the auth state in this process.
    /// `SIGN_IN_URL` is optional here: without it the pool has no post-authentication trigger (no
    /// address verification, no welcome email).
    pub fn from_env(env: &Env, queue: Q) -> Result<Self, ConfigError> {
        Self::with_store(env, queue, MemoryStore::new())
    }
}

/// The triggers in this process, with the auth state in DynamoDB when `AUTH_STATE_TABLE` names a
/// table (a client from `sdk`), or in this process's memory without one.
pub fn in_process_triggers<Q: MailQueue + Clone + 'static>(
    env: &Env,
    queue: Q,
    table: Option<&str>,
    sdk: &lambda_support::SdkConfig,
) -> Result<Arc<dyn TriggerRunner>, ConfigError> {
    Ok(match table {
        Some(table) => Arc::new(InProcessTriggers::with_store(env, queue, DynamoStore::from_sdk(sdk, table))?),
        None => Arc::new(InProcessTriggers::from_env(env, queue)?),
    })
}

impl<Q: MailQueue + Clone + 'static, S: AuthStateStore + Clone + 'static> InProcessTriggers<Q, S> {
    pub fn with_store(env: &Env, queue: Q, store: S) -> Result<Self, ConfigError> {
        let directory = PoolDirectory::default();
        let welcome = match env.optional("SIGN_IN_URL") {
            Some(_) => Some(PostAuthentication::new(
                WelcomeConfig::from_env(env)?,
                queue.clone(),
                store.clone(),
                directory.clone(),
            )),
            None => None,
        };
        Ok(InProcessTriggers {
            define: DefineConfig::from_env(env)?,
            create: CreateChallenge::new(CreateConfig::from_env(env)?, queue, store.clone()),
            verify: VerifyChallenge::new(Limits::from_env(env)?, store),
            welcome,
            directory,
        })
    }
}

fn parse<E: DeserializeOwned>(trigger: Trigger, event: Value) -> Result<E, TriggerFailure> {
    serde_json::from_value(event)
        .map_err(|e| TriggerFailure::Returned(format!("malformed {} event: {e}", trigger.cognito_name())))
}

fn answer<R: Serialize>(result: Result<R, triggers::TriggerError>) -> Result<Value, TriggerFailure> {
    let response = result.map_err(|e| TriggerFailure::Returned(e.to_string()))?;
    serde_json::to_value(response).map_err(|e| TriggerFailure::Unavailable(e.to_string()))
}

impl<Q: MailQueue + 'static, S: AuthStateStore + 'static> TriggerRunner for InProcessTriggers<Q, S> {
    fn has(&self, trigger: Trigger) -> bool {
        match trigger {
            Trigger::PostConfirmation => false,
            Trigger::PostAuthentication => self.welcome.is_some(),
            _ => true,
        }
    }

    fn attach(&self, pool: Weak<crate::UserPool>) {
        let _ = self.directory.0.set(pool);
    }

    fn invoke(&self, trigger: Trigger, event: Value) -> BoxFuture<'_, Result<Value, TriggerFailure>> {
        Box::pin(async move {
            let now = chrono::Utc::now();
            match trigger {
                Trigger::PreSignUp => answer(triggers::pre_sign_up::handle(parse(trigger, event)?)),
                Trigger::DefineAuthChallenge => answer(triggers::define::handle(parse(trigger, event)?, &self.define)),
                Trigger::VerifyAuthChallenge => answer(self.verify.handle(parse(trigger, event)?, now).await),
                Trigger::CreateAuthChallenge => answer(self.create.handle(parse(trigger, event)?, now).await),
                Trigger::PostAuthentication => match &self.welcome {
                    Some(welcome) => answer(welcome.handle(parse(trigger, event)?, now).await),
                    None => Err(TriggerFailure::Unavailable("no post-authentication trigger configured".into())),
                },
                Trigger::PostConfirmation => {
                    Err(TriggerFailure::Unavailable("the project has no post-confirmation trigger".into()))
                }
            }
        })
    }
}
