//! What a signed-in user does to their own account with an access token: update and delete
//! attributes, verify an address with the code Cognito emails, delete the account.

use super::UserPool;
use crate::error::CognitoError;
use crate::mail::CognitoEmail;
use crate::store::{AttributeCode, User};
use chrono::{Duration, Utc};
use std::collections::BTreeMap;
use triggers::code::OneTimeCode;

/// Cognito's attribute verification codes last 24 hours.
const CODE_TTL_HOURS: i64 = 24;
/// Codes one user may have sent in an hour before `LimitExceededException` (Cognito limits this
/// too; its exact figure is not published). Without it, a signed-in user could make the pool mail
/// any address over and over by "changing" their address to it.
pub const MAX_CODES_PER_HOUR: usize = 5;
/// Wrong answers to one code before it is void.
const MAX_WRONG_ANSWERS: u32 = 5;

/// Where a verification code went, as Cognito's `CodeDeliveryDetails` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeDelivery {
    pub destination: String,
    pub attribute: String,
}

impl UserPool {
    /// The client may write these attributes, or `NotAuthorizedException` as Cognito answers.
    pub(super) fn check_writable<'a>(&self, names: impl IntoIterator<Item = &'a String>) -> Result<(), CognitoError> {
        for name in names {
            if !self.config.write_attributes.iter().any(|w| w == name) {
                return Err(CognitoError::not_authorized("A client attempted to write unauthorized attribute"));
            }
        }
        Ok(())
    }

    /// `UpdateUserAttributes`. A new `email` with `keepOriginal` (and a verified current one) is
    /// held as pending and a code goes to it; the old address signs in until the code is given.
    /// Without `keepOriginal`, the address changes at once and is unverified.
    pub fn update_user_attributes(
        &self,
        access_token: &str,
        attributes: BTreeMap<String, String>,
    ) -> Result<Option<CodeDelivery>, CognitoError> {
        let user = self.user_for_access_token(access_token)?;
        Self::validate_attribute_names(&attributes)?;
        self.check_writable(attributes.keys())?;
        let mut merged = user.attributes.clone();
        merged.extend(attributes.clone());
        Self::validate_attribute_names(&merged)?;
        let new_email = attributes.get("email").filter(|e| user.attributes.get("email") != Some(*e)).cloned();
        if let Some(email) = &new_email
            && triggers::identity::mailbox(email).is_none()
        {
            return Err(CognitoError::invalid_parameter("Invalid email address format."));
        }
        let verified = user.attributes.get("email_verified").is_some_and(|v| v == "true");
        let hold = new_email.is_some() && self.config.keep_original_email && verified;
        if new_email.is_some() {
            self.check_code_budget(&user)?;
        }
        let updated = self
            .store
            .update_user(&user.username, &mut |u| {
                for (name, value) in &attributes {
                    if name == "email" && new_email.is_some() {
                        if hold {
                            u.pending_email = Some(value.clone());
                        } else {
                            u.attributes.insert("email".into(), value.clone());
                            u.attributes.insert("email_verified".into(), "false".into());
                            u.pending_email = None;
                        }
                    } else if name != "email" {
                        u.attributes.insert(name.clone(), value.clone());
                    }
                }
                u.modified = Utc::now();
            })
            .ok_or_else(CognitoError::user_not_found)?;
        match new_email {
            Some(_) => self.send_attribute_code(&updated, "email").map(Some),
            None => Ok(None),
        }
    }

    /// `GetUserAttributeVerificationCode`: a new code to the pending address, or to the current one.
    pub fn get_user_attribute_verification_code(
        &self,
        access_token: &str,
        attribute: &str,
    ) -> Result<CodeDelivery, CognitoError> {
        let user = self.user_for_access_token(access_token)?;
        if attribute != "email" {
            return Err(CognitoError::invalid_parameter(format!("Auto verification not turned on for {attribute}")));
        }
        self.check_code_budget(&user)?;
        self.send_attribute_code(&user, attribute)
    }

    /// `VerifyUserAttribute`: the right code verifies the address (and makes a pending one
    /// current); a wrong one is `CodeMismatchException`, an old or worn-out one
    /// `ExpiredCodeException`.
    pub fn verify_user_attribute(&self, access_token: &str, attribute: &str, code: &str) -> Result<(), CognitoError> {
        let user = self.user_for_access_token(access_token)?;
        let expired =
            || CognitoError::new("ExpiredCodeException", "Invalid code provided, please request a code again.");
        let Some(expected) = user.attribute_code.clone().filter(|c| c.attribute == attribute) else {
            return Err(expired());
        };
        if expected.expires_at <= Utc::now() || expected.wrong_answers >= MAX_WRONG_ANSWERS {
            return Err(expired());
        }
        if !OneTimeCode::from_digits(&expected.code).is_some_and(|c| c.matches(code)) {
            self.store.update_user(&user.username, &mut |u| {
                if let Some(c) = u.attribute_code.as_mut() {
                    c.wrong_answers += 1;
                }
            });
            return Err(CognitoError::new(
                "CodeMismatchException",
                "Invalid verification code provided, please try again.",
            ));
        }
        self.store
            .update_user(&user.username, &mut |u| {
                if let Some(pending) = u.pending_email.take() {
                    u.attributes.insert("email".into(), pending);
                }
                u.attributes.insert("email_verified".into(), "true".into());
                u.attribute_code = None;
                u.modified = Utc::now();
            })
            .map(drop)
            .ok_or_else(CognitoError::user_not_found)
    }

    /// `DeleteUserAttributes`: only attributes the client may write, never a required one.
    pub fn delete_user_attributes(&self, access_token: &str, names: &[String]) -> Result<(), CognitoError> {
        let user = self.user_for_access_token(access_token)?;
        self.check_writable(names)?;
        if names.iter().any(|n| n == "email") {
            return Err(CognitoError::invalid_parameter(
                "Attributes did not conform to the schema: email: The attribute email is required",
            ));
        }
        self.store
            .update_user(&user.username, &mut |u| {
                names.iter().for_each(|n| drop(u.attributes.remove(n)));
                u.modified = Utc::now();
            })
            .map(drop)
            .ok_or_else(CognitoError::user_not_found)
    }

    /// `DeleteUser`: the account and every refresh token it holds.
    pub fn delete_user(&self, access_token: &str) -> Result<(), CognitoError> {
        let user = self.user_for_access_token(access_token)?;
        self.admin_delete_user(&user.username)
    }

    fn check_code_budget(&self, user: &User) -> Result<(), CognitoError> {
        let hour_ago = Utc::now() - Duration::hours(1);
        if user.codes_sent.iter().filter(|t| **t > hour_ago).count() >= MAX_CODES_PER_HOUR {
            tracing::warn!("attribute verification code refused: the user's hourly limit is spent");
            return Err(CognitoError::new(
                "LimitExceededException",
                "Attempt limit exceeded, please try after some time.",
            ));
        }
        Ok(())
    }

    /// A fresh code, kept on the user and emailed (as Cognito would) to the address it verifies.
    fn send_attribute_code(&self, user: &User, attribute: &str) -> Result<CodeDelivery, CognitoError> {
        let to = user.pending_email.clone().or_else(|| user.attributes.get("email").cloned()).unwrap_or_default();
        let code = crate::confirmation_code();
        let now = Utc::now();
        let kept = AttributeCode {
            attribute: attribute.to_string(),
            code: code.clone(),
            expires_at: now + Duration::hours(CODE_TTL_HOURS),
            wrong_answers: 0,
        };
        self.store
            .update_user(&user.username, &mut |u| {
                u.attribute_code = Some(kept.clone());
                u.codes_sent.retain(|t| *t > now - Duration::hours(1));
                u.codes_sent.push(now);
            })
            .ok_or_else(CognitoError::user_not_found)?;
        let destination = mail_job::mask_email(&to);
        self.outbox.send(CognitoEmail {
            to,
            subject: "Your verification code".into(),
            text: format!("Your verification code is {code}."),
            purpose: "verify_attribute",
            sent_at: now,
        });
        tracing::info!("attribute verification code sent");
        Ok(CodeDelivery { destination, attribute: attribute.to_string() })
    }
}
