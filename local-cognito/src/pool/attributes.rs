//! What a signed-in user does to their own account with an access token: update and delete
//! attributes, verify an address with the code Cognito emails, delete the account.

use super::UserPool;
use crate::error::CognitoError;
use crate::mail::CognitoEmail;
use crate::store::{AttributeCode, User};
use chrono::{DateTime, Duration, Utc};
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
        self.check_writable(attributes.keys())?;
        Self::validate_attribute_names(&attributes)?;
        let mut merged = user.attributes.clone();
        merged.extend(attributes.clone());
        Self::validate_attribute_names(&merged)?;
        let email = attributes.get("email");
        if let Some(email) = email
            && triggers::identity::mailbox(email).is_none()
        {
            return Err(CognitoError::invalid_parameter("Invalid email address format."));
        }
        // Checked and recorded in one write: concurrent calls cannot pass the code limit together.
        let mut outcome = Ok(None);
        let now = Utc::now();
        self.store
            .update_user(&user.username, &mut |u| {
                let new_email = email.filter(|e| u.attributes.get("email") != Some(*e));
                let code = match new_email {
                    Some(_) => match Self::new_code(u, "email", now) {
                        Ok(code) => Some(code),
                        Err(e) => {
                            outcome = Err(e);
                            return;
                        }
                    },
                    None => None,
                };
                let verified = u.attributes.get("email_verified").is_some_and(|v| v == "true");
                for (name, value) in &attributes {
                    if name != "email" {
                        u.attributes.insert(name.clone(), value.clone());
                    }
                }
                match new_email {
                    // Back to the address in force: a pending change is dropped.
                    None if email.is_some() => u.pending_email = None,
                    None => {}
                    Some(new) if self.config.keep_original_email && verified => u.pending_email = Some(new.clone()),
                    Some(new) => {
                        u.attributes.insert("email".into(), new.clone());
                        u.attributes.insert("email_verified".into(), "false".into());
                        u.pending_email = None;
                    }
                }
                u.modified = now;
                outcome = Ok(code.map(|code| (Self::code_recipient(u), code)));
            })
            .ok_or_else(CognitoError::user_not_found)?;
        outcome?.map(|(to, code)| Ok(self.email_code(to, code, "email", now))).transpose()
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
        let now = Utc::now();
        let mut outcome = Err(CognitoError::user_not_found());
        self.store.update_user(&user.username, &mut |u| {
            outcome = Self::new_code(u, attribute, now).map(|code| (Self::code_recipient(u), code));
        });
        let (to, code) = outcome?;
        Ok(self.email_code(to, code, attribute, now))
    }

    /// `VerifyUserAttribute`: the right code verifies the address (and makes a pending one
    /// current); a wrong one is `CodeMismatchException`, an old one `ExpiredCodeException`, one
    /// with too many wrong answers `LimitExceededException`.
    pub fn verify_user_attribute(&self, access_token: &str, attribute: &str, code: &str) -> Result<(), CognitoError> {
        let user = self.user_for_access_token(access_token)?;
        let now = Utc::now();
        let mut outcome = Err(CognitoError::user_not_found());
        // Compared and counted in one write: concurrent guesses cannot pass the wrong-answer limit.
        self.store.update_user(&user.username, &mut |u| {
            let expired =
                || CognitoError::new("ExpiredCodeException", "Invalid code provided, please request a code again.");
            outcome = match u.attribute_code.as_mut().filter(|c| c.attribute == attribute) {
                None => Err(expired()),
                Some(c) if c.expires_at <= now => Err(expired()),
                Some(c) if c.wrong_answers >= MAX_WRONG_ANSWERS => Err(CognitoError::new(
                    "LimitExceededException",
                    "Attempt limit exceeded, please try after some time.",
                )),
                Some(c) if !OneTimeCode::from_digits(&c.code).is_some_and(|expected| expected.matches(code)) => {
                    c.wrong_answers += 1;
                    Err(CognitoError::new(
                        "CodeMismatchException",
                        "Invalid verification code provided, please try again.",
                    ))
                }
                Some(_) => {
                    if let Some(pending) = u.pending_email.take() {
                        u.attributes.insert("email".into(), pending);
                    }
                    u.attributes.insert("email_verified".into(), "true".into());
                    u.attribute_code = None;
                    u.modified = now;
                    Ok(())
                }
            };
        });
        outcome
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

    /// A fresh code kept on the user, if the hourly limit allows one: checked and recorded in the
    /// caller's single write.
    fn new_code(user: &mut User, attribute: &str, now: DateTime<Utc>) -> Result<String, CognitoError> {
        let hour_ago = now - Duration::hours(1);
        user.codes_sent.retain(|t| *t > hour_ago);
        if user.codes_sent.len() >= MAX_CODES_PER_HOUR {
            tracing::warn!("attribute verification code refused: the user's hourly limit is spent");
            return Err(CognitoError::new(
                "LimitExceededException",
                "Attempt limit exceeded, please try after some time.",
            ));
        }
        let code = crate::confirmation_code();
        user.codes_sent.push(now);
        user.attribute_code = Some(AttributeCode {
            attribute: attribute.to_string(),
            code: code.clone(),
            expires_at: now + Duration::hours(CODE_TTL_HOURS),
            wrong_answers: 0,
        });
        Ok(code)
    }

    /// The address a code verifies: the pending one, else the one in force.
    fn code_recipient(user: &User) -> String {
        user.pending_email.clone().or_else(|| user.attributes.get("email").cloned()).unwrap_or_default()
    }

    /// Emails the code, as Cognito would, and answers where it went.
    fn email_code(&self, to: String, code: String, attribute: &str, now: DateTime<Utc>) -> CodeDelivery {
        let destination = mail_job::mask_email(&to);
        self.outbox.send(CognitoEmail {
            to,
            subject: "Your verification code".into(),
            text: format!("Your verification code is {code}."),
            purpose: "verify_attribute",
            sent_at: now,
        });
        tracing::info!("attribute verification code sent");
        CodeDelivery { destination, attribute: attribute.to_string() }
    }
}
