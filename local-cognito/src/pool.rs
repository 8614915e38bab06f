//! The user pool: Cognito's documented behaviour for sign-up, confirmation, CUSTOM_AUTH (the
//! define → create → verify → define orchestration with its `session` array), refresh and sign-out.
//! Wire format lives in [`crate::operations`]; this module only knows Rust values and the event
//! JSON the triggers receive.

use crate::error::CognitoError;
use crate::store::{AuthSession, RefreshGrant, Store, User, UserStatus};
use crate::tokens::{Grant, TokenIssuer, random_token, uuid};
use crate::triggers::{Trigger, TriggerFailure, TriggerRunner};
use chrono::{DateTime, Duration, Utc};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;
use triggers::identity::fold_username;

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
}

/// Standard attributes a client may write; others must be `custom:`.
const STANDARD_ATTRIBUTES: [&str; 18] = [
    "address",
    "birthdate",
    "email",
    "email_verified",
    "family_name",
    "gender",
    "given_name",
    "locale",
    "middle_name",
    "name",
    "nickname",
    "phone_number",
    "picture",
    "preferred_username",
    "profile",
    "website",
    "zoneinfo",
    "updated_at",
];

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
            UserPool { config, store, triggers, tokens }
        }))
    }

    pub fn tokens(&self) -> &TokenIssuer {
        &self.tokens
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

    fn validate_username(username: &str) -> Result<(), CognitoError> {
        let ok = !username.is_empty()
            && username.chars().count() <= 128
            && !username.chars().any(|c| c.is_whitespace() || c.is_control());
        if ok {
            Ok(())
        } else {
            Err(CognitoError::invalid_parameter(
                "1 validation error detected: Value at 'username' failed to satisfy constraint: Member must satisfy \
                 regular expression pattern: [\\p{L}\\p{M}\\p{S}\\p{N}\\p{P}]+",
            ))
        }
    }

    fn validate_attributes(attributes: &BTreeMap<String, String>) -> Result<(), CognitoError> {
        Self::validate_attribute_names(attributes)?;
        if attributes.get("email").is_none_or(|e| e.trim().is_empty()) {
            return Err(CognitoError::invalid_parameter(
                "Attributes did not conform to the schema: email: The attribute email is required",
            ));
        }
        Ok(())
    }

    fn validate_attribute_names(attributes: &BTreeMap<String, String>) -> Result<(), CognitoError> {
        for name in attributes.keys() {
            if !(STANDARD_ATTRIBUTES.contains(&name.as_str()) || name.starts_with("custom:")) {
                return Err(CognitoError::invalid_parameter(format!(
                    "Attributes did not conform to the schema: Type for attribute {{{name}}} could not be determined"
                )));
            }
        }
        Ok(())
    }

    /// Cognito's default password policy: 8 or more characters with a lower-case letter, an
    /// upper-case letter, a digit and a symbol.
    fn validate_password(password: &str) -> Result<(), CognitoError> {
        let checks = [
            (password.chars().count() >= 8, "Password not long enough"),
            (password.chars().any(|c| c.is_lowercase()), "Password must have lowercase characters"),
            (password.chars().any(|c| c.is_uppercase()), "Password must have uppercase characters"),
            (password.chars().any(|c| c.is_ascii_digit()), "Password must have numeric characters"),
            (password.chars().any(|c| c.is_ascii_punctuation()), "Password must have symbol characters"),
        ];
        match checks.iter().find(|(ok, _)| !ok) {
            None => Ok(()),
            Some((_, why)) => Err(CognitoError::new(
                "InvalidPasswordException",
                format!("Password did not conform with policy: {why}"),
            )),
        }
    }

    async fn pre_sign_up(
        &self,
        source: &str,
        username: &str,
        client_id: &str,
        attributes: &BTreeMap<String, String>,
        client_metadata: Option<&Value>,
    ) -> Result<(bool, bool), CognitoError> {
        if !self.triggers.has(Trigger::PreSignUp) {
            return Ok((false, false));
        }
        let request =
            json!({ "userAttributes": attributes, "validationData": null, "clientMetadata": client_metadata });
        let response = json!({ "autoConfirmUser": false, "autoVerifyEmail": false, "autoVerifyPhone": false });
        let answer = self.run(Trigger::PreSignUp, self.event(source, username, client_id, request, response)).await?;
        let flag = |name: &str| answer["response"][name].as_bool().unwrap_or(false);
        Ok((flag("autoConfirmUser"), flag("autoVerifyEmail")))
    }

    async fn post_confirmation(
        &self,
        user: &User,
        client_id: &str,
        client_metadata: Option<&Value>,
    ) -> Result<(), CognitoError> {
        if !self.triggers.has(Trigger::PostConfirmation) {
            return Ok(());
        }
        let request = json!({ "userAttributes": Self::trigger_attributes(user), "clientMetadata": client_metadata });
        let event = self.event("PostConfirmation_ConfirmSignUp", &user.username, client_id, request, json!({}));
        self.run(Trigger::PostConfirmation, event).await.map(drop)
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

    /// `SignUp`: pre-sign-up decides on confirmation; a confirmed user gets post-confirmation.
    pub async fn sign_up(
        &self,
        client_id: &str,
        username: &str,
        password: &str,
        attributes: BTreeMap<String, String>,
        client_metadata: Option<&Value>,
    ) -> Result<SignUpOutcome, CognitoError> {
        self.check_client(client_id)?;
        Self::validate_username(username)?;
        Self::validate_password(password)?;
        Self::validate_attributes(&attributes)?;
        if self.store.user(username).is_some() {
            return Err(CognitoError::username_exists());
        }
        let (confirm, verify_email) =
            self.pre_sign_up("PreSignUp_SignUp", username, client_id, &attributes, client_metadata).await?;
        let user = self.new_user(username, attributes, confirm, verify_email);
        self.store.insert_user(user.clone()).map_err(|_| CognitoError::username_exists())?;
        tracing::info!(confirmed = confirm, "user signed up");
        let code_destination =
            (!confirm).then(|| mail_job::mask_email(user.attributes.get("email").map_or("", String::as_str)));
        if confirm {
            self.post_confirmation(&user, client_id, client_metadata).await?;
        }
        Ok(SignUpOutcome { confirmed: confirm, sub: user.sub, code_destination })
    }

    fn new_user(
        &self,
        username: &str,
        mut attributes: BTreeMap<String, String>,
        confirmed: bool,
        email_verified: bool,
    ) -> User {
        let now = Utc::now();
        attributes.insert("email_verified".into(), email_verified.to_string());
        User {
            username: username.to_string(),
            sub: uuid(),
            attributes,
            status: if confirmed { UserStatus::Confirmed } else { UserStatus::Unconfirmed },
            enabled: true,
            created: now,
            modified: now,
            confirmation_code: (!confirmed).then(crate::confirmation_code),
            signed_out_at: None,
        }
    }

    /// `ConfirmSignUp` with the code Cognito would have sent.
    pub async fn confirm_sign_up(
        &self,
        client_id: &str,
        username: &str,
        code: &str,
        client_metadata: Option<&Value>,
    ) -> Result<(), CognitoError> {
        self.check_client(client_id)?;
        let mismatch =
            || CognitoError::new("CodeMismatchException", "Invalid verification code provided, please try again.");
        let Some(user) = self.store.user(username) else {
            return Err(if self.config.prevent_user_existence_errors {
                mismatch()
            } else {
                CognitoError::user_not_found()
            });
        };
        if user.status == UserStatus::Confirmed {
            return Err(CognitoError::not_authorized("User cannot be confirmed. Current status is CONFIRMED"));
        }
        let expected = user.confirmation_code.as_deref().unwrap_or_default();
        if !triggers::code::OneTimeCode::from_digits(expected).is_some_and(|c| c.matches(code)) {
            return Err(mismatch());
        }
        let user = self.confirm(username)?;
        self.post_confirmation(&user, client_id, client_metadata).await
    }

    fn confirm(&self, username: &str) -> Result<User, CognitoError> {
        self.store
            .update_user(username, &mut |u| {
                u.status = UserStatus::Confirmed;
                u.confirmation_code = None;
                u.modified = Utc::now();
            })
            .ok_or_else(CognitoError::user_not_found)
    }

    /// `AdminConfirmSignUp`.
    pub async fn admin_confirm_sign_up(&self, username: &str) -> Result<(), CognitoError> {
        let user = self.store.user(username).ok_or_else(CognitoError::user_not_found)?;
        if user.status == UserStatus::Confirmed {
            return Err(CognitoError::not_authorized("User cannot be confirmed. Current status is CONFIRMED"));
        }
        let user = self.confirm(username)?;
        self.post_confirmation(&user, &self.config.client_id, None).await
    }

    /// `AdminCreateUser`. Deviation, on purpose: the user is CONFIRMED at once (Cognito would set
    /// FORCE_CHANGE_PASSWORD and email a temporary password, which a passwordless pool never uses).
    pub async fn admin_create_user(
        &self,
        username: &str,
        attributes: BTreeMap<String, String>,
    ) -> Result<User, CognitoError> {
        Self::validate_username(username)?;
        Self::validate_attributes(&attributes)?;
        if self.store.user(username).is_some() {
            return Err(CognitoError::username_exists());
        }
        let client_id = self.config.client_id.clone();
        let (_, verify_email) =
            self.pre_sign_up("PreSignUp_AdminCreateUser", username, &client_id, &attributes, None).await?;
        let verified = verify_email || attributes.get("email_verified").is_some_and(|v| v == "true");
        let user = self.new_user(username, attributes, true, verified);
        self.store.insert_user(user.clone()).map_err(|_| CognitoError::username_exists())?;
        Ok(user)
    }

    pub fn admin_get_user(&self, username: &str) -> Result<User, CognitoError> {
        self.store.user(username).ok_or_else(CognitoError::user_not_found)
    }

    /// `AdminUpdateUserAttributes`: sets the given attributes (post-authentication's
    /// `email_verified`, operators' edits). `sub` is Cognito's and cannot be written.
    pub fn admin_update_user_attributes(
        &self,
        username: &str,
        attributes: BTreeMap<String, String>,
    ) -> Result<(), CognitoError> {
        Self::validate_attribute_names(&attributes)?;
        if attributes.contains_key("sub") {
            return Err(CognitoError::invalid_parameter("Cannot modify the non-mutable attribute sub"));
        }
        self.store
            .update_user(username, &mut |u| {
                u.attributes.extend(attributes.clone());
                u.modified = Utc::now();
            })
            .map(drop)
            .ok_or_else(CognitoError::user_not_found)
    }

    pub fn admin_delete_user(&self, username: &str) -> Result<(), CognitoError> {
        if self.store.delete_user(username) {
            self.store.revoke_all_refresh(username);
            Ok(())
        } else {
            Err(CognitoError::user_not_found())
        }
    }

    /// The user behind a valid, unrevoked access token (`GetUser`, `GlobalSignOut`).
    pub fn user_for_access_token(&self, token: &str) -> Result<User, CognitoError> {
        let claims = self.tokens.verify_access(token)?;
        let revoked = || CognitoError::not_authorized("Access Token has been revoked");
        let user = self.store.user(&claims.username).filter(|u| u.sub == claims.sub).ok_or_else(revoked)?;
        let signed_out = user.signed_out_at.is_some_and(|t| claims.iat <= t.timestamp());
        if signed_out || self.store.origin_revoked(&claims.origin_jti) {
            return Err(revoked());
        }
        Ok(user)
    }

    /// `GlobalSignOut`: every refresh token of the user, and every access token issued so far.
    pub fn global_sign_out(&self, access_token: &str) -> Result<(), CognitoError> {
        let user = self.user_for_access_token(access_token)?;
        self.store.revoke_all_refresh(&user.username);
        self.store.update_user(&user.username, &mut |u| u.signed_out_at = Some(Utc::now()));
        Ok(())
    }

    /// `RevokeToken`: the refresh token and the tokens issued from it. An unknown token is not an
    /// error (RFC 7009), a token of another client is.
    pub fn revoke_token(&self, client_id: &str, token: &str) -> Result<(), CognitoError> {
        self.check_client(client_id)?;
        match self.store.refresh(token) {
            Some(grant) if grant.client_id != client_id => {
                Err(CognitoError::new("UnauthorizedException", "Token was not issued to this client"))
            }
            Some(_) => {
                self.store.revoke_refresh(token);
                Ok(())
            }
            None => Ok(()),
        }
    }

    /// `InitiateAuth` with `CUSTOM_AUTH`: define, then (for a challenge) create.
    pub async fn initiate_custom_auth(&self, client_id: &str, username: &str) -> Result<AuthStep, CognitoError> {
        self.check_client(client_id)?;
        let (username, user_not_found) = match self.store.user(username) {
            Some(user) if !user.enabled => return Err(CognitoError::not_authorized("User is disabled.")),
            Some(user) if user.status == UserStatus::Unconfirmed => {
                return Err(CognitoError::new("UserNotConfirmedException", "User is not confirmed."));
            }
            Some(user) => (user.username, false),
            None if self.config.prevent_user_existence_errors => (username.to_string(), true),
            None => return Err(CognitoError::user_not_found()),
        };
        let session = AuthSession {
            username,
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
            let user = self.store.user(&session.username).ok_or_else(CognitoError::sign_in_failed)?;
            self.post_authentication(&user, &client_id, client_metadata).await?;
            // Post-authentication may have changed the user (email_verified): the tokens say so.
            let user = self.store.user(&session.username).ok_or_else(CognitoError::sign_in_failed)?;
            tracing::info!(rounds = session.rounds.len(), "sign-in succeeded: tokens issued");
            return Ok(AuthStep::Tokens(self.issue_tokens(&user, &client_id, None)?));
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

    /// ID and access tokens for the user; a refresh token too when `from_grant` is `None` (a new
    /// sign-in), none on a refresh.
    fn issue_tokens(
        &self,
        user: &User,
        client_id: &str,
        from_grant: Option<&RefreshGrant>,
    ) -> Result<Tokens, CognitoError> {
        let now = Utc::now();
        let (origin_jti, auth_time) = match from_grant {
            Some(grant) => (grant.origin_jti.clone(), grant.auth_time),
            None => (uuid(), now.timestamp()),
        };
        let event_id = uuid();
        let grant = Grant {
            sub: &user.sub,
            username: &user.username,
            client_id,
            origin_jti: &origin_jti,
            event_id: &event_id,
            auth_time,
        };
        let attributes: Map<String, Value> =
            user.attributes.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect();
        let t = now.timestamp();
        let refresh_token = from_grant.is_none().then(|| {
            let token = random_token(64);
            self.store.put_refresh(
                &token,
                RefreshGrant {
                    username: user.username.clone(),
                    client_id: client_id.to_string(),
                    origin_jti: origin_jti.clone(),
                    auth_time,
                    expires_at: now + self.config.refresh_token_ttl,
                    revoked: false,
                },
            );
            token
        });
        Ok(Tokens {
            id_token: self.tokens.id_token(&grant, &attributes, t, self.config.id_token_ttl.num_seconds()),
            access_token: self.tokens.access_token(&grant, t, self.config.access_token_ttl.num_seconds()),
            refresh_token,
            expires_in: self.config.access_token_ttl.num_seconds(),
        })
    }

    /// `InitiateAuth` with `REFRESH_TOKEN_AUTH`: new ID and access tokens, same `origin_jti`.
    pub fn refresh(&self, client_id: &str, refresh_token: &str) -> Result<Tokens, CognitoError> {
        self.check_client(client_id)?;
        let grant = self
            .store
            .refresh(refresh_token)
            .filter(|g| g.client_id == client_id)
            .ok_or_else(|| CognitoError::not_authorized("Invalid Refresh Token"))?;
        if grant.revoked {
            return Err(CognitoError::not_authorized("Refresh Token has been revoked"));
        }
        if grant.expires_at <= Utc::now() {
            return Err(CognitoError::not_authorized("Refresh Token has expired"));
        }
        let user = self
            .store
            .user(&grant.username)
            .filter(|u| u.enabled)
            .ok_or_else(|| CognitoError::not_authorized("User does not exist."))?;
        self.issue_tokens(&user, client_id, Some(&grant))
    }
}

/// Epoch seconds, the JSON 1.1 protocol's timestamp format.
pub fn epoch(t: DateTime<Utc>) -> f64 {
    t.timestamp_millis() as f64 / 1000.0
}
