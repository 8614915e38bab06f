//! The port to the identity provider (what the API needs of Cognito) and its adapter over
//! `aws-sdk-cognitoidentityprovider`, which reaches AWS or `local-cognito` alike through the
//! SDK's standard endpoint variables.

use aws_sdk_cognitoidentityprovider::Client;
use aws_sdk_cognitoidentityprovider::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_cognitoidentityprovider::types::{
    AttributeType, AuthFlowType, AuthenticationResultType, ChallengeNameType,
};
use futures_like::BoxFuture;
use std::collections::HashMap;

/// `futures`' boxed future without the dependency.
mod futures_like {
    pub type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;
}

/// An error from the identity provider: Cognito's error type (`NotAuthorizedException`, ...) and
/// message, or `None` for a transport failure. Messages may quote trigger errors: never logged
/// or shown as they are.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("identity provider error {code:?}")]
pub struct IdpError {
    pub code: Option<String>,
    pub message: String,
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

#[derive(Clone, PartialEq, Eq)]
pub struct Challenge {
    pub session: String,
    pub parameters: HashMap<String, String>,
}

impl std::fmt::Debug for Challenge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Challenge").finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Challenge(Challenge),
    Tokens(Tokens),
}

pub struct NewUser<'a> {
    pub username: &'a str,
    pub password: &'a str,
    pub email: &'a str,
    pub locale: Option<&'a str>,
    pub name: Option<&'a str>,
}

pub trait IdentityProvider: Send + Sync {
    /// Returns whether the user is confirmed (able to sign in at once).
    fn sign_up<'a>(&'a self, user: NewUser<'a>) -> BoxFuture<'a, Result<bool, IdpError>>;
    fn start_sign_in<'a>(&'a self, username: &'a str) -> BoxFuture<'a, Result<Step, IdpError>>;
    fn answer<'a>(
        &'a self,
        username: &'a str,
        session: &'a str,
        code: &'a str,
    ) -> BoxFuture<'a, Result<Step, IdpError>>;
    /// Asks for a new email within the session (`ClientMetadata {"action": "resend"}`, which
    /// Cognito passes to the triggers on this call only).
    fn resend<'a>(&'a self, username: &'a str, session: &'a str) -> BoxFuture<'a, Result<Step, IdpError>>;
    fn refresh<'a>(&'a self, refresh_token: &'a str) -> BoxFuture<'a, Result<Tokens, IdpError>>;
    fn revoke<'a>(&'a self, refresh_token: &'a str) -> BoxFuture<'a, Result<(), IdpError>>;
}

pub struct CognitoIdp {
    client: Client,
    client_id: String,
}

impl CognitoIdp {
    pub fn new(client: Client, client_id: impl Into<String>) -> Self {
        CognitoIdp { client, client_id: client_id.into() }
    }
}

/// Triggers get 5 s each and a sign-in step runs up to three: allow that, then give up cleanly.
pub const TIMEOUTS: lambda_support::SdkTimeouts = lambda_support::SdkTimeouts {
    connect: std::time::Duration::from_secs(2),
    attempt: std::time::Duration::from_secs(16),
    operation: std::time::Duration::from_secs(20),
};

fn error<E, R>(e: SdkError<E, R>) -> IdpError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match e.code() {
        Some(code) => IdpError { code: Some(code.to_string()), message: e.message().unwrap_or_default().to_string() },
        None => IdpError {
            code: None,
            message: aws_sdk_cognitoidentityprovider::error::DisplayErrorContext(&e).to_string(),
        },
    }
}

fn tokens(result: Option<&AuthenticationResultType>) -> Option<Tokens> {
    let r = result?;
    Some(Tokens {
        id_token: r.id_token()?.to_string(),
        access_token: r.access_token()?.to_string(),
        refresh_token: r.refresh_token().map(str::to_string),
        expires_in: i64::from(r.expires_in()),
    })
}

fn step(
    session: Option<&str>,
    parameters: Option<&HashMap<String, String>>,
    result: Option<&AuthenticationResultType>,
) -> Result<Step, IdpError> {
    if let Some(tokens) = tokens(result) {
        return Ok(Step::Tokens(tokens));
    }
    match session {
        Some(session) => Ok(Step::Challenge(Challenge {
            session: session.to_string(),
            parameters: parameters.cloned().unwrap_or_default(),
        })),
        None => Err(IdpError { code: None, message: "neither tokens nor a session in the answer".into() }),
    }
}

fn attribute(name: &str, value: &str) -> AttributeType {
    AttributeType::builder().name(name).value(value).build().expect("name is set")
}

/// The placeholder answer of a resend request (never compared: verify sees the ClientMetadata).
pub const RESEND_ANSWER: &str = "resend";

impl CognitoIdp {
    async fn respond(
        &self,
        username: &str,
        session: &str,
        answer: &str,
        metadata: Option<(&str, &str)>,
    ) -> Result<Step, IdpError> {
        let mut request = self
            .client
            .respond_to_auth_challenge()
            .client_id(&self.client_id)
            .challenge_name(ChallengeNameType::CustomChallenge)
            .session(session)
            .challenge_responses("USERNAME", username)
            .challenge_responses("ANSWER", answer);
        if let Some((k, v)) = metadata {
            request = request.client_metadata(k, v);
        }
        let out = request.send().await.map_err(error)?;
        step(out.session(), out.challenge_parameters(), out.authentication_result())
    }
}

impl IdentityProvider for CognitoIdp {
    fn sign_up<'a>(&'a self, user: NewUser<'a>) -> BoxFuture<'a, Result<bool, IdpError>> {
        Box::pin(async move {
            let mut attributes = vec![attribute("email", user.email)];
            attributes.extend(user.locale.map(|l| attribute("locale", l)));
            attributes.extend(user.name.map(|n| attribute("name", n)));
            let out = self
                .client
                .sign_up()
                .client_id(&self.client_id)
                .username(user.username)
                .password(user.password)
                .set_user_attributes(Some(attributes))
                .send()
                .await
                .map_err(error)?;
            Ok(out.user_confirmed())
        })
    }

    fn start_sign_in<'a>(&'a self, username: &'a str) -> BoxFuture<'a, Result<Step, IdpError>> {
        Box::pin(async move {
            let out = self
                .client
                .initiate_auth()
                .client_id(&self.client_id)
                .auth_flow(AuthFlowType::CustomAuth)
                .auth_parameters("USERNAME", username)
                .send()
                .await
                .map_err(error)?;
            step(out.session(), out.challenge_parameters(), out.authentication_result())
        })
    }

    fn answer<'a>(
        &'a self,
        username: &'a str,
        session: &'a str,
        code: &'a str,
    ) -> BoxFuture<'a, Result<Step, IdpError>> {
        Box::pin(self.respond(username, session, code, None))
    }

    fn resend<'a>(&'a self, username: &'a str, session: &'a str) -> BoxFuture<'a, Result<Step, IdpError>> {
        // Cognito requires an ANSWER; the triggers ignore it on a resend request.
        Box::pin(self.respond(username, session, RESEND_ANSWER, Some(("action", "resend"))))
    }

    fn refresh<'a>(&'a self, refresh_token: &'a str) -> BoxFuture<'a, Result<Tokens, IdpError>> {
        // GetTokensFromRefreshToken, not REFRESH_TOKEN_AUTH: the app client rotates refresh
        // tokens, and Cognito allows only this operation then.
        Box::pin(async move {
            let out = self
                .client
                .get_tokens_from_refresh_token()
                .client_id(&self.client_id)
                .refresh_token(refresh_token)
                .send()
                .await
                .map_err(error)?;
            tokens(out.authentication_result())
                .ok_or_else(|| IdpError { code: None, message: "no tokens in the refresh answer".into() })
        })
    }

    fn revoke<'a>(&'a self, refresh_token: &'a str) -> BoxFuture<'a, Result<(), IdpError>> {
        Box::pin(async move {
            self.client.revoke_token().client_id(&self.client_id).token(refresh_token).send().await.map_err(error)?;
            Ok(())
        })
    }
}
