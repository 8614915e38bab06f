//! Tokens: issuing them after a sign-in, and refreshing them with `REFRESH_TOKEN_AUTH` or
//! `GetTokensFromRefreshToken`, with refresh token rotation as the app client configures it.
//! Every token of a sign-in shares its `origin_jti` (the family): revoking any refresh token of a
//! family, signing the user out or deleting them voids the whole family, rotations included.

use super::{Tokens, UserPool};
use crate::error::CognitoError;
use crate::store::{RefreshGrant, User};
use crate::tokens::{Grant, random_token, uuid};
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

/// What a refresh token stands for: its sign-in's family, start and end.
struct Family {
    origin_jti: String,
    auth_time: i64,
    expires_at: DateTime<Utc>,
}

impl UserPool {
    /// ID, access and refresh tokens for a new sign-in.
    pub(super) fn issue_tokens(&self, user: &User, client_id: &str) -> Tokens {
        let now = Utc::now();
        let family =
            Family { origin_jti: uuid(), auth_time: now.timestamp(), expires_at: now + self.config.refresh_token_ttl };
        let token = random_token(64);
        self.store.put_refresh(&token, Self::grant(user, client_id, &family));
        self.mint(user, client_id, &family, Some(token))
    }

    fn grant(user: &User, client_id: &str, family: &Family) -> RefreshGrant {
        RefreshGrant {
            username: user.username.clone(),
            sub: user.sub.clone(),
            client_id: client_id.to_string(),
            origin_jti: family.origin_jti.clone(),
            auth_time: family.auth_time,
            expires_at: family.expires_at,
            revoked: false,
            rotated_at: None,
        }
    }

    /// The ID and access tokens of a family, with `refresh_token` when one was issued.
    fn mint(&self, user: &User, client_id: &str, family: &Family, refresh_token: Option<String>) -> Tokens {
        let event_id = uuid();
        let grant = Grant {
            sub: &user.sub,
            username: &user.username,
            client_id,
            origin_jti: &family.origin_jti,
            event_id: &event_id,
            auth_time: family.auth_time,
        };
        let attributes: Map<String, Value> =
            user.attributes.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect();
        let t = Utc::now().timestamp();
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
        self.exchange(client_id, refresh_token)
    }

    /// `GetTokensFromRefreshToken`. Rotation off: ID and access tokens, the refresh token stays
    /// the same. Rotation on: a new refresh token too; the one presented stays good for the grace
    /// period (a client's retry gets tokens again), then is refused.
    pub fn get_tokens_from_refresh_token(&self, client_id: &str, refresh_token: &str) -> Result<Tokens, CognitoError> {
        self.check_client(client_id)?;
        self.exchange(client_id, refresh_token)
    }

    fn exchange(&self, client_id: &str, refresh_token: &str) -> Result<Tokens, CognitoError> {
        let invalid = || CognitoError::not_authorized("Invalid Refresh Token");
        // The user first (its own lock); the grant is checked again, with its family, under the
        // store's lock below, where the rotation is written.
        let seen = self.store.refresh(refresh_token).ok_or_else(invalid)?;
        let user = self
            .store
            .user(&seen.username)
            .filter(|u| u.sub == seen.sub)
            .ok_or_else(|| CognitoError::not_authorized("User does not exist."))?;
        if !user.enabled {
            return Err(CognitoError::not_authorized("User is disabled."));
        }
        let now = Utc::now();
        let rotation = self.config.refresh_token_rotation;
        let new_token = rotation.map(|_| random_token(64));
        let mut outcome: Result<Family, CognitoError> = Err(invalid());
        self.store.exchange_refresh(refresh_token, &mut |grant, family_revoked| {
            let grant = grant?;
            outcome = if grant.client_id != client_id {
                Err(invalid())
            } else if grant.revoked || family_revoked {
                Err(CognitoError::not_authorized("Refresh Token has been revoked"))
            } else if grant.expires_at <= now {
                Err(CognitoError::not_authorized("Refresh Token has expired"))
            } else if let (Some(grace), Some(at)) = (rotation, grant.rotated_at)
                && now >= at + grace
            {
                Err(invalid())
            } else {
                Ok(Family {
                    origin_jti: grant.origin_jti.clone(),
                    auth_time: grant.auth_time,
                    expires_at: grant.expires_at,
                })
            };
            let family = outcome.as_ref().ok()?;
            let token = new_token.clone()?;
            grant.rotated_at.get_or_insert(now);
            Some((token, Self::grant(&user, client_id, family)))
        });
        let family = outcome?;
        Ok(self.mint(&user, client_id, &family, new_token))
    }
}
