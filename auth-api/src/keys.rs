//! ID-token verification against the pool's JWKS. Keys are cached; a token signed with a `kid` the
//! cache does not know triggers one refetch (Cognito rotates keys), at most once a minute so a
//! flood of forged `kid`s cannot turn into a flood of JWKS requests.

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

pub const REFETCH_COOLDOWN: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the token is not valid")]
    Invalid,
    #[error("the signing keys could not be fetched: {0}")]
    KeysUnavailable(String),
}

#[derive(Deserialize)]
struct Jwks {
    keys: Vec<Jwk>,
}

#[derive(Deserialize)]
struct Jwk {
    kid: String,
    kty: String,
    n: Option<String>,
    e: Option<String>,
}

struct Cache {
    keys: HashMap<String, DecodingKey>,
    fetched: Option<Instant>,
}

pub struct KeyCache {
    url: String,
    issuer: String,
    client_id: String,
    http: reqwest::Client,
    cooldown: Duration,
    cache: Mutex<Cache>,
}

impl KeyCache {
    pub fn new(url: String, issuer: String, client_id: String) -> Self {
        Self::with_cooldown(url, issuer, client_id, REFETCH_COOLDOWN)
    }

    /// [`KeyCache::new`] with another minimum time between two fetches.
    pub fn with_cooldown(url: String, issuer: String, client_id: String, cooldown: Duration) -> Self {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(3))
            .build()
            .expect("an HTTP client with the default TLS settings");
        let cache = Mutex::new(Cache { keys: HashMap::new(), fetched: None });
        KeyCache { url, issuer, client_id, http, cooldown, cache }
    }

    async fn fetch(&self) -> Result<HashMap<String, DecodingKey>, TokenError> {
        let unavailable = |e: reqwest::Error| TokenError::KeysUnavailable(e.without_url().to_string());
        let jwks: Jwks = self
            .http
            .get(&self.url)
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .map_err(unavailable)?
            .json()
            .await
            .map_err(unavailable)?;
        Ok(jwks
            .keys
            .into_iter()
            .filter(|k| k.kty == "RSA")
            .filter_map(|k| Some((k.kid, DecodingKey::from_rsa_components(k.n.as_deref()?, k.e.as_deref()?).ok()?)))
            .collect())
    }

    async fn key(&self, kid: &str) -> Result<DecodingKey, TokenError> {
        let mut cache = self.cache.lock().await;
        if let Some(key) = cache.keys.get(kid) {
            return Ok(key.clone());
        }
        if cache.fetched.is_some_and(|t| t.elapsed() < self.cooldown) {
            return Err(TokenError::Invalid);
        }
        cache.keys = self.fetch().await?;
        tracing::debug!(keys = cache.keys.len(), "JWKS fetched");
        cache.fetched = Some(Instant::now());
        cache.keys.get(kid).cloned().ok_or(TokenError::Invalid)
    }

    /// The claims of a valid ID token of this pool and client: RS256, known `kid`, `iss`, `aud`,
    /// `exp`, and `token_use` = `id`.
    pub async fn verify_id_token(&self, token: &str) -> Result<Map<String, Value>, TokenError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Invalid)?;
        if header.alg != Algorithm::RS256 {
            return Err(TokenError::Invalid);
        }
        let key = self.key(header.kid.as_deref().ok_or(TokenError::Invalid)?).await?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.client_id]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        let data =
            jsonwebtoken::decode::<Map<String, Value>>(token, &key, &validation).map_err(|_| TokenError::Invalid)?;
        if data.claims.get("token_use").and_then(Value::as_str) != Some("id") {
            return Err(TokenError::Invalid);
        }
        Ok(data.claims)
    }
}

/// The claims of a JWT read without checking its signature: only for a token this process has
/// just received from Cognito itself.
pub fn unverified_claims(token: &str) -> Option<Map<String, Value>> {
    use base64::Engine;
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    serde_json::from_slice(&bytes).ok()
}
