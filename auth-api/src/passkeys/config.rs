//! `PASSKEY_RP_ID` and `PASSKEY_ORIGINS`, checked at start-up, and the webauthn-rs instance they make.

use super::CEREMONY_SECONDS;
use lambda_support::{ConfigError, Env};
use webauthn_rs::prelude::{Url, Webauthn, WebauthnBuilder};

/// `PASSKEY_RP_ID` and `PASSKEY_ORIGINS`: passkeys are on when the RP ID is set.
#[derive(Debug, Clone)]
pub struct PasskeyConfig {
    pub rp_id: String,
    pub origins: Vec<Url>,
}

impl PasskeyConfig {
    pub fn from_env(env: &Env) -> Result<Option<Self>, ConfigError> {
        let Some(rp_id) = env.optional("PASSKEY_RP_ID") else {
            return Ok(None);
        };
        let origins = env.required("PASSKEY_ORIGINS")?;
        Self::new(rp_id, origins).map(Some)
    }

    /// An RP ID and the comma-separated origins allowed to use it: each an `https://` origin (or
    /// `http://localhost`, as browsers allow) whose host is the RP ID or under it.
    pub fn new(rp_id: &str, origins: &str) -> Result<Self, ConfigError> {
        let invalid = |name, reason: String| ConfigError::Invalid { name, reason };
        let rp_id = rp_id.trim().to_ascii_lowercase();
        if rp_id.is_empty() || rp_id.contains(['/', ':']) || rp_id.parse::<std::net::IpAddr>().is_ok() {
            return Err(invalid("PASSKEY_RP_ID", format!("{rp_id:?} is not a domain name")));
        }
        let mut parsed = Vec::new();
        for origin in origins.split(',').map(str::trim).filter(|o| !o.is_empty()) {
            let url = Url::parse(origin).map_err(|e| invalid("PASSKEY_ORIGINS", format!("{origin}: {e}")))?;
            let host = url.host_str().unwrap_or_default();
            let secure = url.scheme() == "https" || (url.scheme() == "http" && host == "localhost");
            let under = host == rp_id || host.ends_with(&format!(".{rp_id}"));
            if !secure || !under || url.path() != "/" || url.query().is_some() {
                return Err(invalid(
                    "PASSKEY_ORIGINS",
                    format!("{origin} is not an https origin (scheme, host, port) on {rp_id}"),
                ));
            }
            parsed.push(url);
        }
        if parsed.is_empty() {
            return Err(invalid("PASSKEY_ORIGINS", "lists no origin".into()));
        }
        Ok(PasskeyConfig { rp_id, origins: parsed })
    }

    pub fn webauthn(&self, rp_name: &str) -> Webauthn {
        let mut builder = WebauthnBuilder::new(&self.rp_id, &self.origins[0])
            .expect("origins were checked against the RP ID")
            .rp_name(rp_name)
            .timeout(std::time::Duration::from_secs(CEREMONY_SECONDS as u64));
        for origin in &self.origins[1..] {
            builder = builder.append_allowed_origin(origin);
        }
        builder.build().expect("a checked configuration")
    }
}
