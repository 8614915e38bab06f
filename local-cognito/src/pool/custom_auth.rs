//! CUSTOM_AUTH as Cognito runs it: define → create on `InitiateAuth`, verify → define (→ create)
//! on each answer, post-authentication before the tokens.

use super::{AuthStep, UserPool};
use crate::error::CognitoError;
use crate::store::{AuthSession, User, UserStatus};
use crate::tokens::random_token;
use crate::triggers::Trigger;
use chrono::Utc;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use triggers::identity::fold_username;

/// The longest challenge answer accepted (Cognito's limit on a challenge response value).
const MAX_ANSWER_CHARS: usize = 2048;

impl UserPool {
    /// `InitiateAuth` with `CUSTOM_AUTH`: define, then (for a challenge) create.
    pub async fn initiate_custom_auth(&self, client_id: &str, username: &str) -> Result<AuthStep, CognitoError> {
        self.check_client(client_id)?;
        // Cognito refuses an oversized name before any trigger runs (and before anything is kept).
        Self::validate_username(username)?;
        let (username, sub, user_not_found) = match self.store.user(username) {
            Some(user) if !user.enabled => return Err(CognitoError::not_authorized("User is disabled.")),
            Some(user) if user.status == UserStatus::Unconfirmed => {
                return Err(CognitoError::new("UserNotConfirmedException", "User is not confirmed."));
            }
            Some(user) => (user.username, user.sub, false),
            None if self.config.prevent_user_existence_errors => (username.to_string(), String::new(), true),
            None => return Err(CognitoError::user_not_found()),
        };
        let session = AuthSession {
            username,
            sub,
            user_not_found,
            client_id: client_id.to_string(),
            rounds: Vec::new(),
            private_parameters: BTreeMap::new(),
            challenge_metadata: None,
            expires_at: Utc::now(),
        };
        // InitiateAuth's ClientMetadata reaches only pre-sign-up, pre-authentication and user
        // migration, never define/create: the triggers see `clientMetadata: null` here.
        self.next_step(session, None).await
    }

    /// `RespondToAuthChallenge` for `CUSTOM_CHALLENGE`: verify, then define (and create).
    pub async fn respond_to_custom_challenge(
        &self,
        client_id: &str,
        session_token: &str,
        username: &str,
        answer: &str,
        client_metadata: Option<&Value>,
    ) -> Result<AuthStep, CognitoError> {
        self.check_client(client_id)?;
        if answer.chars().count() > MAX_ANSWER_CHARS {
            return Err(CognitoError::invalid_parameter(
                "1 validation error detected: Value at 'challengeResponses' failed to satisfy constraint: Member \
                 must have length less than or equal to 2048",
            ));
        }
        let mut session = self.store.take_session(session_token).ok_or_else(CognitoError::invalid_session)?;
        if session.expires_at <= Utc::now() {
            return Err(CognitoError::session_expired());
        }
        if session.client_id != client_id || fold_username(&session.username) != fold_username(username) {
            return Err(CognitoError::invalid_session());
        }
        let attributes = self.attributes_for(&session)?;
        let request = json!({
            "userAttributes": attributes,
            "privateChallengeParameters": session.private_parameters,
            "challengeAnswer": answer,
            "clientMetadata": client_metadata,
            "userNotFound": session.user_not_found,
        });
        let event = self.event(
            "VerifyAuthChallengeResponse_Authentication",
            &session.username,
            client_id,
            request,
            json!({ "answerCorrect": null }),
        );
        let verdict = self.run(Trigger::VerifyAuthChallenge, event).await?;
        let correct = verdict["response"]["answerCorrect"].as_bool().unwrap_or(false);
        session.rounds.push(json!({
            "challengeName": triggers::CUSTOM_CHALLENGE,
            "challengeResult": correct,
            "challengeMetadata": session.challenge_metadata,
        }));
        self.next_step(session, client_metadata).await
    }

    /// A known user's current attributes, or none for a session of an unknown one. A user deleted
    /// mid-sign-in fails it.
    fn attributes_for(&self, session: &AuthSession) -> Result<Value, CognitoError> {
        if session.user_not_found {
            return Ok(json!({}));
        }
        let user = self.store.user(&session.username).ok_or_else(CognitoError::sign_in_failed)?;
        Ok(Self::trigger_attributes(&user))
    }

    async fn next_step(
        &self,
        mut session: AuthSession,
        client_metadata: Option<&Value>,
    ) -> Result<AuthStep, CognitoError> {
        let client_id = session.client_id.clone();
        let attributes = self.attributes_for(&session)?;
        let request = json!({
            "userAttributes": attributes,
            "session": session.rounds,
            "clientMetadata": client_metadata,
            "userNotFound": session.user_not_found,
        });
        let response = json!({ "challengeName": null, "issueTokens": null, "failAuthentication": null });
        let event = self.event("DefineAuthChallenge_Authentication", &session.username, &client_id, request, response);
        let decision = self.run(Trigger::DefineAuthChallenge, event).await?;
        let decision = &decision["response"];
        let fail = decision["failAuthentication"].as_bool().unwrap_or(false);
        let issue = decision["issueTokens"].as_bool().unwrap_or(false);
        if fail || (issue && session.user_not_found) {
            tracing::info!(rounds = session.rounds.len(), "sign-in failed");
            return Err(CognitoError::sign_in_failed());
        }
        if issue {
            // The user the sign-in started for, still there and still enabled (a disable or a
            // delete during the sign-in ends it).
            let user = self
                .store
                .user(&session.username)
                .filter(|u| u.sub == session.sub)
                .ok_or_else(CognitoError::sign_in_failed)?;
            if !user.enabled {
                return Err(CognitoError::not_authorized("User is disabled."));
            }
            self.post_authentication(&user, &client_id, client_metadata).await?;
            // Post-authentication may have changed the user (email_verified): the tokens say so.
            let user = self.store.user(&session.username).ok_or_else(CognitoError::sign_in_failed)?;
            tracing::info!(rounds = session.rounds.len(), "sign-in succeeded: tokens issued");
            return Ok(AuthStep::Tokens(self.issue_tokens(&user, &client_id)));
        }
        if decision["challengeName"].as_str() != Some(triggers::CUSTOM_CHALLENGE) {
            return Err(CognitoError::new("InvalidLambdaResponseException", "Unrecognizable lambda output"));
        }

        let request = json!({
            "userAttributes": attributes,
            "challengeName": triggers::CUSTOM_CHALLENGE,
            "session": session.rounds,
            "clientMetadata": client_metadata,
            "userNotFound": session.user_not_found,
        });
        let response =
            json!({ "publicChallengeParameters": null, "privateChallengeParameters": null, "challengeMetadata": null });
        let event = self.event("CreateAuthChallenge_Authentication", &session.username, &client_id, request, response);
        let created = self.run(Trigger::CreateAuthChallenge, event).await?;
        let created = &created["response"];
        let strings = |v: &Value| -> BTreeMap<String, String> {
            v.as_object()
                .into_iter()
                .flatten()
                .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
                .collect()
        };
        let mut parameters = strings(&created["publicChallengeParameters"]);
        parameters.insert("USERNAME".into(), session.username.clone());
        session.private_parameters = strings(&created["privateChallengeParameters"]);
        session.challenge_metadata = created["challengeMetadata"].as_str().map(str::to_string);
        session.expires_at = Utc::now() + self.config.session_ttl;
        let token = random_token(96);
        self.store.put_session(&token, session);
        Ok(AuthStep::Challenge { session: token, parameters })
    }

    /// Post-authentication, after a successful sign-in and before the tokens (an error from it
    /// fails the sign-in, as in Cognito).
    async fn post_authentication(
        &self,
        user: &User,
        client_id: &str,
        client_metadata: Option<&Value>,
    ) -> Result<(), CognitoError> {
        if !self.triggers.has(Trigger::PostAuthentication) {
            return Ok(());
        }
        let request = json!({
            "userAttributes": Self::trigger_attributes(user),
            "newDeviceUsed": false,
            "clientMetadata": client_metadata,
        });
        let event = self.event("PostAuthentication_Authentication", &user.username, client_id, request, json!({}));
        self.run(Trigger::PostAuthentication, event).await.map(drop)
    }
}
