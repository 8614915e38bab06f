//! The token issuer: RS256 JWTs with Cognito's claim layout, signed with two RSA keys made at
//! start-up (one for ID tokens, one for access tokens, as Cognito uses distinct `kid`s), the JWKS
//! and the OpenID discovery document.

use crate::error::CognitoError;
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_SHA256};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::{Map, Value, json};

struct SigningKey {
    kid: String,
    pair: KeyPair,
    jwk: Value,
    decoding: DecodingKey,
}

impl SigningKey {
    fn generate() -> Result<Self, String> {
        let pair = KeyPair::generate(KeySize::Rsa2048).map_err(|e| format!("RSA key generation: {e}"))?;
        let public = pair.public_key();
        let n = URL_SAFE_NO_PAD.encode(public.modulus().big_endian_without_leading_zero());
        let e = URL_SAFE_NO_PAD.encode(public.exponent().big_endian_without_leading_zero());
        // Cognito's kids are base64 strings; a digest of the public key keeps them stable per key.
        let kid = STANDARD.encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, public.as_ref()));
        let decoding = DecodingKey::from_rsa_components(&n, &e).map_err(|e| e.to_string())?;
        let jwk = json!({ "alg": "RS256", "e": e, "kid": kid, "kty": "RSA", "n": n, "use": "sig" });
        Ok(SigningKey { kid, pair, jwk, decoding })
    }
}

pub struct TokenIssuer {
    issuer: String,
    id_key: SigningKey,
    access_key: SigningKey,
    rng: SystemRandom,
}

/// What the issuer reads back from an access token it made.
#[derive(Debug, Clone, Deserialize)]
pub struct AccessClaims {
    pub sub: String,
    pub username: String,
    pub client_id: String,
    pub origin_jti: String,
    pub iat: i64,
    pub token_use: String,
}

/// Random bytes from the OS CSPRNG, base64url: session strings, refresh tokens, jtis.
pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    SystemRandom::new().fill(&mut buf).expect("the OS random source works");
    URL_SAFE_NO_PAD.encode(buf)
}

/// A random (version 4) UUID, the shape of Cognito's `sub`, `jti` and `event_id`.
pub fn uuid() -> String {
    let mut b = [0u8; 16];
    SystemRandom::new().fill(&mut b).expect("the OS random source works");
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..])
}

impl TokenIssuer {
    /// Two fresh RSA-2048 keys, made on two threads: key generation is most of the start-up time.
    pub fn generate(issuer: impl Into<String>) -> Result<Self, String> {
        let (id_key, access_key) = std::thread::scope(|s| {
            let id = s.spawn(SigningKey::generate);
            let access = SigningKey::generate();
            (id.join().unwrap_or_else(|_| Err("RSA key generation panicked".into())), access)
        });
        Ok(TokenIssuer { issuer: issuer.into(), id_key: id_key?, access_key: access_key?, rng: SystemRandom::new() })
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    pub fn jwks(&self) -> Value {
        json!({ "keys": [self.id_key.jwk, self.access_key.jwk] })
    }

    pub fn openid_configuration(&self) -> Value {
        json!({
            "issuer": self.issuer,
            "jwks_uri": format!("{}/.well-known/jwks.json", self.issuer),
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code", "token"],
            "subject_types_supported": ["public"],
            "scopes_supported": ["openid", "email", "profile"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "claims_supported": ["sub", "email", "email_verified", "cognito:username", "locale", "name"],
        })
    }

    fn sign(&self, key: &SigningKey, claims: &Value) -> String {
        let header = URL_SAFE_NO_PAD.encode(json!({ "kid": key.kid, "alg": "RS256" }).to_string());
        let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
        let message = format!("{header}.{payload}");
        let mut signature = vec![0u8; key.pair.public_modulus_len()];
        key.pair
            .sign(&RSA_PKCS1_SHA256, &self.rng, message.as_bytes(), &mut signature)
            .expect("RS256 signing with a generated key");
        format!("{message}.{}", URL_SAFE_NO_PAD.encode(signature))
    }

    /// An ID token: `sub`, `aud`, `token_use=id`, `cognito:username`, the user's attributes
    /// (`email_verified` as a boolean, as Cognito writes it), times and ids.
    pub fn id_token(&self, grant: &Grant<'_>, attributes: &Map<String, Value>, now: i64, ttl: i64) -> String {
        let mut claims = attributes.clone();
        if let Some(verified) = claims.get("email_verified").and_then(Value::as_str) {
            let verified = verified == "true";
            claims.insert("email_verified".into(), Value::Bool(verified));
        }
        claims.extend(
            json!({
                "sub": grant.sub, "iss": self.issuer, "aud": grant.client_id, "token_use": "id",
                "cognito:username": grant.username, "origin_jti": grant.origin_jti, "event_id": grant.event_id,
                "auth_time": grant.auth_time, "iat": now, "exp": now + ttl, "jti": uuid(),
            })
            .as_object()
            .expect("an object")
            .clone(),
        );
        self.sign(&self.id_key, &Value::Object(claims))
    }

    /// An access token: `client_id`, `token_use=access`, `scope`, `username`, and no `aud`.
    pub fn access_token(&self, grant: &Grant<'_>, now: i64, ttl: i64) -> String {
        let claims = json!({
            "sub": grant.sub, "iss": self.issuer, "client_id": grant.client_id, "origin_jti": grant.origin_jti,
            "event_id": grant.event_id, "token_use": "access", "scope": "aws.cognito.signin.user.admin",
            "auth_time": grant.auth_time, "iat": now, "exp": now + ttl, "jti": uuid(), "username": grant.username,
        });
        self.sign(&self.access_key, &claims)
    }

    /// Checks signature, issuer, expiry and `token_use` of an access token this issuer made.
    pub fn verify_access(&self, token: &str) -> Result<AccessClaims, CognitoError> {
        let invalid = || CognitoError::not_authorized("Invalid Access Token");
        let header = jsonwebtoken::decode_header(token).map_err(|_| invalid())?;
        if header.kid.as_deref() != Some(self.access_key.kid.as_str()) {
            return Err(invalid());
        }
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_issuer(&[&self.issuer]);
        validation.validate_aud = false;
        validation.leeway = 0;
        let data =
            jsonwebtoken::decode::<AccessClaims>(token, &self.access_key.decoding, &validation).map_err(|e| match e
                .kind()
            {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => {
                    CognitoError::not_authorized("Access Token has expired")
                }
                _ => invalid(),
            })?;
        if data.claims.token_use != "access" {
            return Err(invalid());
        }
        Ok(data.claims)
    }
}

/// Who a set of tokens is for, and which sign-in they come from.
pub struct Grant<'a> {
    pub sub: &'a str,
    pub username: &'a str,
    pub client_id: &'a str,
    pub origin_jti: &'a str,
    pub event_id: &'a str,
    pub auth_time: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims_of(token: &str) -> Value {
        let payload = token.split('.').nth(1).unwrap();
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
    }

    #[test]
    fn access_tokens_round_trip_and_tampering_is_caught() {
        let issuer = TokenIssuer::generate("http://127.0.0.1:1/us-east-1_test").unwrap();
        let grant = Grant { sub: "s", username: "alice", client_id: "c", origin_jti: "o", event_id: "e", auth_time: 1 };
        let now = chrono::Utc::now().timestamp();
        let token = issuer.access_token(&grant, now, 60);
        let claims = issuer.verify_access(&token).unwrap();
        assert_eq!((claims.username.as_str(), claims.client_id.as_str()), ("alice", "c"));
        assert!(claims_of(&token).get("aud").is_none());

        let mut parts: Vec<String> = token.split('.').map(str::to_string).collect();
        parts[1] = URL_SAFE_NO_PAD.encode(claims_of(&token).to_string().replace("alice", "mallo"));
        assert!(issuer.verify_access(&parts.join(".")).is_err());
        // An ID token is signed with the other key and is not an access token.
        let id = issuer.id_token(&grant, &Map::new(), now, 60);
        assert!(issuer.verify_access(&id).is_err());
        let expired = issuer.access_token(&grant, now - 120, 60);
        assert_eq!(issuer.verify_access(&expired).unwrap_err().message, "Access Token has expired");
    }

    #[test]
    fn id_tokens_carry_cognitos_claims_and_the_keys_differ() {
        let issuer = TokenIssuer::generate("http://x/pool").unwrap();
        let grant = Grant { sub: "s", username: "alice", client_id: "c", origin_jti: "o", event_id: "e", auth_time: 1 };
        let attributes = json!({"email": "a@example.com", "email_verified": "false"}).as_object().unwrap().clone();
        let claims = claims_of(&issuer.id_token(&grant, &attributes, 100, 60));
        assert_eq!(claims["aud"], "c");
        assert_eq!(claims["token_use"], "id");
        assert_eq!(claims["cognito:username"], "alice");
        assert_eq!(claims["email_verified"], false);
        assert_eq!(claims["exp"], 160);
        let jwks = issuer.jwks();
        assert_ne!(jwks["keys"][0]["kid"], jwks["keys"][1]["kid"]);
    }

    #[test]
    fn uuids_are_version_4() {
        let id = uuid();
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4");
        assert_ne!(uuid(), id);
    }
}
