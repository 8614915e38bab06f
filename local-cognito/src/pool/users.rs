//! What operators and signed-in users do to an existing user: admin reads and writes, sign-out
//! and token revocation.

use super::UserPool;
use crate::error::CognitoError;
use crate::store::User;
use chrono::Utc;
use std::collections::BTreeMap;

impl UserPool {
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
        let user = self.store.user(username).ok_or_else(CognitoError::user_not_found)?;
        // The limits hold for the user as it would be, not only for this request's attributes.
        let mut merged = user.attributes.clone();
        merged.extend(attributes.clone());
        Self::validate_attribute_names(&merged)?;
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
        // `iat` has whole seconds: a token of the sign-out's own second is judged by its grant
        // (every access token's `origin_jti` is a refresh grant's, revoked by the sign-out), so a
        // new sign-in within that second is not refused.
        let signed_out = user.signed_out_at.is_some_and(|t| claims.iat < t.timestamp());
        if signed_out || self.store.origin_revoked(&claims.origin_jti) {
            return Err(revoked());
        }
        if !user.enabled {
            return Err(CognitoError::not_authorized("User is disabled."));
        }
        Ok(user)
    }

    /// `GlobalSignOut`: every refresh token of the user, and every access token issued so far.
    pub fn global_sign_out(&self, access_token: &str) -> Result<(), CognitoError> {
        let user = self.user_for_access_token(access_token)?;
        self.admin_user_global_sign_out(&user.username)
    }

    /// `AdminUserGlobalSignOut`: as `GlobalSignOut`, by username.
    pub fn admin_user_global_sign_out(&self, username: &str) -> Result<(), CognitoError> {
        let user = self
            .store
            .update_user(username, &mut |u| u.signed_out_at = Some(Utc::now()))
            .ok_or_else(CognitoError::user_not_found)?;
        self.store.revoke_all_refresh(&user.username);
        Ok(())
    }

    /// `AdminDisableUser` / `AdminEnableUser`. Disabling also revokes every token (as Cognito's
    /// documentation says); a disabled user's sign-in and refresh get `User is disabled.`.
    pub fn admin_set_enabled(&self, username: &str, enabled: bool) -> Result<(), CognitoError> {
        let user = self
            .store
            .update_user(username, &mut |u| {
                u.enabled = enabled;
                u.modified = Utc::now();
                if !enabled {
                    u.signed_out_at = Some(Utc::now());
                }
            })
            .ok_or_else(CognitoError::user_not_found)?;
        if !enabled {
            self.store.revoke_all_refresh(&user.username);
        }
        tracing::info!(enabled, "user enabled state set");
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
}
