//! Sign-up and confirmation, with Cognito's rules for usernames, attributes and passwords.

use super::{SignUpOutcome, UserPool};
use crate::error::CognitoError;
use crate::store::{User, UserStatus};
use crate::tokens::uuid;
use crate::triggers::Trigger;
use chrono::Utc;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// Cognito's input limits (its API reference): a username has at most 128 characters, an
/// attribute value at most 2,048, a pool at most 50 custom attributes besides the standard ones.
pub(super) const MAX_USERNAME_CHARS: usize = 128;
const MAX_ATTRIBUTE_VALUE_CHARS: usize = 2048;
const MAX_ATTRIBUTES: usize = 68;

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
    pub(super) fn validate_username(username: &str) -> Result<(), CognitoError> {
        if username.chars().count() > MAX_USERNAME_CHARS {
            return Err(CognitoError::invalid_parameter(
                "1 validation error detected: Value at 'username' failed to satisfy constraint: Member must have \
                 length less than or equal to 128",
            ));
        }
        let ok = !username.is_empty() && !username.chars().any(|c| c.is_whitespace() || c.is_control());
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

    pub(super) fn validate_attribute_names(attributes: &BTreeMap<String, String>) -> Result<(), CognitoError> {
        if attributes.len() > MAX_ATTRIBUTES {
            return Err(CognitoError::invalid_parameter(format!(
                "1 validation error detected: Value at 'userAttributes' failed to satisfy constraint: Member must \
                 have length less than or equal to {MAX_ATTRIBUTES}"
            )));
        }
        for (name, value) in attributes {
            if !(STANDARD_ATTRIBUTES.contains(&name.as_str()) || name.starts_with("custom:")) || name.len() > 32 {
                let shown: String = name.chars().take(32).collect();
                return Err(CognitoError::invalid_parameter(format!(
                    "Attributes did not conform to the schema: Type for attribute {{{shown}}} could not be determined"
                )));
            }
            if value.chars().count() > MAX_ATTRIBUTE_VALUE_CHARS {
                return Err(CognitoError::invalid_parameter(format!(
                    "Attributes did not conform to the schema: {name}: String must be no longer than 2048 characters"
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
        self.check_writable(attributes.keys())?;
        if self.store.user(username).is_some() {
            return Err(CognitoError::username_exists());
        }
        let (confirm, verify_email) =
            self.pre_sign_up("PreSignUp_SignUp", username, client_id, &attributes, client_metadata).await?;
        let user = self.new_user(username, attributes, confirm, verify_email);
        self.store.insert_user(user.clone()).map_err(|_| CognitoError::username_exists())?;
        tracing::info!(confirmed = confirm, "user signed up");
        let code_destination = (!confirm).then(|| self.send_confirmation_code(&user));
        if confirm {
            self.post_confirmation(&user, client_id, client_metadata).await?;
        }
        Ok(SignUpOutcome { confirmed: confirm, sub: user.sub, code_destination })
    }

    /// Emails the sign-up confirmation code (as Cognito would) and answers the masked address.
    fn send_confirmation_code(&self, user: &User) -> String {
        let to = user.attributes.get("email").cloned().unwrap_or_default();
        let destination = mail_job::mask_email(&to);
        let code = user.confirmation_code.clone().unwrap_or_default();
        self.outbox.send(crate::mail::CognitoEmail {
            to,
            subject: "Your verification code".into(),
            text: format!("Your confirmation code is {code}."),
            purpose: "confirm_sign_up",
            sent_at: Utc::now(),
        });
        destination
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
            pending_email: None,
            attribute_code: None,
            codes_sent: Vec::new(),
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
}
