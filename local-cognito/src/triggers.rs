//! How the endpoint runs the Lambda triggers: the [`TriggerRunner`] port takes the event JSON
//! Cognito would send and returns the function's JSON answer. [`InProcessTriggers`] calls the same
//! handlers the Lambda binaries wrap; [`crate::runtime_api::BinaryTriggers`] runs the binaries.

use futures::future::BoxFuture;
use lambda_support::{ConfigError, Env};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::sync::Arc;
use triggers::auth_state::Limits;
use triggers::auth_state::store::{AuthStateStore, DynamoStore, MemoryStore};
use triggers::create::{CreateChallenge, CreateConfig};
use triggers::define::DefineConfig;
use triggers::mail_queue::MailQueue;
use triggers::post_confirmation::{SendWelcome, WelcomeConfig};
use triggers::verify::VerifyChallenge;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Trigger {
    PreSignUp,
    PostConfirmation,
    DefineAuthChallenge,
    CreateAuthChallenge,
    VerifyAuthChallenge,
}

impl Trigger {
    pub const ALL: [Trigger; 5] = [
        Trigger::PreSignUp,
        Trigger::PostConfirmation,
        Trigger::DefineAuthChallenge,
        Trigger::CreateAuthChallenge,
        Trigger::VerifyAuthChallenge,
    ];

    /// The name Cognito uses in `UserLambdaValidationException` messages and trigger sources.
    pub fn cognito_name(self) -> &'static str {
        match self {
            Trigger::PreSignUp => "PreSignUp",
            Trigger::PostConfirmation => "PostConfirmation",
            Trigger::DefineAuthChallenge => "DefineAuthChallenge",
            Trigger::CreateAuthChallenge => "CreateAuthChallenge",
            Trigger::VerifyAuthChallenge => "VerifyAuthChallengeResponse",
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
}

/// The triggers as library calls in this process, over a mail queue of the caller's choice (SQS
/// through the SDK, or the local stack's own queue) and an auth-state store (in memory by
/// default, or DynamoDB).
pub struct InProcessTriggers<Q, S = MemoryStore> {
    define: DefineConfig,
    create: CreateChallenge<Q, S>,
    verify: VerifyChallenge<S>,
    welcome: Option<SendWelcome<Q>>,
}

impl<Q: MailQueue + Clone + 'static> InProcessTriggers<Q, MemoryStore> {
    /// The same variables the Lambda functions read, with the auth state in this process.
    /// `SIGN_IN_URL` is optional here: without it the pool has no post-confirmation trigger (no
    /// welcome email).
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
        let welcome = match env.optional("SIGN_IN_URL") {
            Some(_) => Some(SendWelcome::new(WelcomeConfig::from_env(env)?, queue.clone())),
            None => None,
        };
        Ok(InProcessTriggers {
            define: DefineConfig::from_env(env)?,
            create: CreateChallenge::new(CreateConfig::from_env(env)?, queue, store.clone()),
            verify: VerifyChallenge::new(Limits::from_env(env)?, store),
            welcome,
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
        trigger != Trigger::PostConfirmation || self.welcome.is_some()
    }

    fn invoke(&self, trigger: Trigger, event: Value) -> BoxFuture<'_, Result<Value, TriggerFailure>> {
        Box::pin(async move {
            let now = chrono::Utc::now();
            match trigger {
                Trigger::PreSignUp => answer(triggers::pre_sign_up::handle(parse(trigger, event)?)),
                Trigger::DefineAuthChallenge => answer(triggers::define::handle(parse(trigger, event)?, &self.define)),
                Trigger::VerifyAuthChallenge => answer(self.verify.handle(parse(trigger, event)?, now).await),
                Trigger::CreateAuthChallenge => answer(self.create.handle(parse(trigger, event)?, now).await),
                Trigger::PostConfirmation => match &self.welcome {
                    Some(welcome) => answer(welcome.handle(parse(trigger, event)?, now).await),
                    None => Err(TriggerFailure::Unavailable("no post-confirmation trigger configured".into())),
                },
            }
        })
    }
}
