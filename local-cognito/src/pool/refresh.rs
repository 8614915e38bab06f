//! Tokens: issuing them after a sign-in, and refreshing them with `REFRESH_TOKEN_AUTH` or
//! `GetTokensFromRefreshToken`, with refresh token rotation as the app client configures it.

use super::{Tokens, UserPool};
use crate::error::CognitoError;
use crate::store::{RefreshGrant, User};
use crate::tokens::{Grant, random_token, uuid};
use chrono::Utc;
use serde_json::{Map, Value};

impl UserPool {
    /// ID and access tokens for the user, and a refresh token when `new_refresh`. `family` is the
    /// grant being refreshed (its `origin_jti`, `auth_time` and expiry carry over), `None` for a
    /// new sign-in.
    pub(super) fn issue_tokens(
        &self,
        user: &User,
        client_id: &str,
        family: Option<&RefreshGrant>,
        new_refresh: bool,
    ) -> Tokens {
        let now = Utc::now();
        let (origin_jti, auth_time, expires_at) = match family {
            Some(grant) => (grant.origin_jti.clone(), grant.auth_time, grant.expires_at),
            None => (uuid(), now.timestamp(), now + self.config.refresh_token_ttl),
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
        let refresh_token = new_refresh.then(|| {
            let token = random_token(64);
            let grant = RefreshGrant {
                username: user.username.clone(),
                client_id: client_id.to_string(),
                origin_jti: origin_jti.clone(),
                auth_time,
                expires_at,
                revoked: false,
                rotated_at: None,
            };
            self.store.put_refresh(&token, grant);
            token
        });
        Tokens {
            id_token: self.tokens.id_token(&grant, &attributes, t, self.config.id_token_ttl.num_seconds()),
            access_token: self.tokens.access_token(&grant, t, self.config.access_token_ttl.num_seconds()),
            refresh_token,
            expires_in: self.config.access_token_ttl.num_seconds(),
        }
    }

    /// `InitiateAuth` with `REFRESH_TOKEN_AUTH`: new ID and access tokens, same `origin_jti`. Not
    /// allowed for a client with rotation on (the CDK leaves `ALLOW_REFRESH_TOKEN_AUTH` out then).
    pub fn refresh(&self, client_id: &str, refresh_token: &str) -> Result<Tokens, CognitoError> {
        self.check_client(client_id)?;
        if self.config.refresh_token_rotation.is_some() {
            return Err(CognitoError::invalid_parameter("REFRESH_TOKEN_AUTH flow not enabled for this client"));
        }
        let (grant, user) = self.live_grant(client_id, refresh_token)?;
        Ok(self.issue_tokens(&user, client_id, Some(&grant), false))
    }

    /// `GetTokensFromRefreshToken`. Rotation off: ID and access tokens, the refresh token stays
    /// the same. Rotation on: a new refresh token too; the one presented stays good for the grace
    /// period (a client's retry gets tokens again), then is refused.
    pub fn get_tokens_from_refresh_token(&self, client_id: &str, refresh_token: &str) -> Result<Tokens, CognitoError> {
        self.check_client(client_id)?;
        let (mut grant, user) = self.live_grant(client_id, refresh_token)?;
        let Some(grace) = self.config.refresh_token_rotation else {
            return Ok(self.issue_tokens(&user, client_id, Some(&grant), false));
        };
        let now = Utc::now();
        match grant.rotated_at {
            Some(at) if now >= at + grace => return Err(CognitoError::not_authorized("Invalid Refresh Token")),
            Some(_) => {}
            None => {
                grant.rotated_at = Some(now);
                self.store.put_refresh(refresh_token, grant.clone());
            }
        }
        Ok(self.issue_tokens(&user, client_id, Some(&grant), true))
    }

    /// The grant behind a refresh token of this client, unrevoked and unexpired, and its user.
    fn live_grant(&self, client_id: &str, refresh_token: &str) -> Result<(RefreshGrant, User), CognitoError> {
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
        let user =
            self.store.user(&grant.username).ok_or_else(|| CognitoError::not_authorized("User does not exist."))?;
        if !user.enabled {
            return Err(CognitoError::not_authorized("User is disabled."));
        }
        Ok((grant, user))
    }
}
