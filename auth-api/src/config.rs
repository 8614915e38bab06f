use lambda_support::{ConfigError, Env};

#[derive(Debug, Clone)]
pub struct ApiConfig {
    pub client_id: String,
    pub user_pool_id: String,
    /// `iss` of the pool's tokens; the JWKS is at `<issuer>/.well-known/jwks.json`.
    pub issuer: String,
    /// The API's own origin (`API_ORIGIN`, e.g. `http://127.0.0.1:3000`), when pages are served
    /// from it; compared with a request's `Origin` as scheme, host and port, never with its `Host`.
    pub own_origin: Option<String>,
    /// Origins allowed to make cookie-authenticated POSTs (besides the API's own origin).
    pub allowed_origins: Vec<String>,
    pub cookie_domain: Option<String>,
    /// The define trigger's `MAX_ATTEMPTS`, to tell users how many tries are left.
    pub max_attempts: u32,
    /// The create trigger's `CODE_TTL_SECONDS`, to tell users until when the email's code works.
    pub code_ttl_seconds: i64,
    pub refresh_token_days: i64,
}

impl ApiConfig {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let client_id = env.required("COGNITO_CLIENT_ID")?.to_string();
        let user_pool_id = env.required("COGNITO_USER_POOL_ID")?.to_string();
        let region =
            user_pool_id.split_once('_').map(|(region, _)| region.to_string()).filter(|r| !r.is_empty()).ok_or(
                ConfigError::Invalid { name: "COGNITO_USER_POOL_ID", reason: "expected <region>_<id>".into() },
            )?;
        // The SDK's endpoint override also moves the issuer (local-cognito serves both).
        let issuer = match env.optional("COGNITO_ISSUER").map(str::to_string).or_else(|| {
            env.optional("AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER")
                .or_else(|| env.optional("AWS_ENDPOINT_URL"))
                .map(|e| format!("{}/{user_pool_id}", e.trim_end_matches('/')))
        }) {
            Some(issuer) => issuer,
            None => format!("https://cognito-idp.{region}.amazonaws.com/{user_pool_id}"),
        };
        let allowed_origins = env
            .optional("ALLOWED_ORIGINS")
            .map(|list| {
                list.split(',').map(|o| o.trim().trim_end_matches('/').to_string()).filter(|o| !o.is_empty()).collect()
            })
            .unwrap_or_default();
        Ok(ApiConfig {
            client_id,
            user_pool_id,
            issuer,
            own_origin: env.optional("API_ORIGIN").map(|o| o.trim().trim_end_matches('/').to_string()),
            allowed_origins,
            cookie_domain: env.optional("COOKIE_DOMAIN").map(str::to_string),
            max_attempts: env.integer_in("MAX_ATTEMPTS", 3, 1..=10)?,
            code_ttl_seconds: env.integer_in("CODE_TTL_SECONDS", 180, 60..=900)?,
            refresh_token_days: env.integer_in("REFRESH_TOKEN_DAYS", 30, 1..=3650)?,
        })
    }

    pub fn jwks_url(&self) -> String {
        format!("{}/.well-known/jwks.json", self.issuer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_issuer_follows_the_endpoint_override_or_aws() {
        let base = [("COGNITO_CLIENT_ID", "c"), ("COGNITO_USER_POOL_ID", "eu-west-1_abc")];
        let aws = ApiConfig::from_env(&Env::from_pairs(base)).unwrap();
        assert_eq!(aws.issuer, "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc");
        let local = ApiConfig::from_env(&Env::from_pairs(
            base.into_iter().chain([("AWS_ENDPOINT_URL", "http://127.0.0.1:9/")]),
        ))
        .unwrap();
        assert_eq!(local.jwks_url(), "http://127.0.0.1:9/eu-west-1_abc/.well-known/jwks.json");
    }

    #[test]
    fn errors_name_the_variable() {
        let err = |pairs: &[(&str, &str)]| ApiConfig::from_env(&Env::from_pairs(pairs.iter().copied())).unwrap_err();
        assert_eq!(err(&[]).to_string(), "missing required environment variable COGNITO_CLIENT_ID");
        assert!(
            err(&[("COGNITO_CLIENT_ID", "c"), ("COGNITO_USER_POOL_ID", "nounderscore")])
                .to_string()
                .contains("COGNITO_USER_POOL_ID")
        );
        let origins = ApiConfig::from_env(&Env::from_pairs([
            ("COGNITO_CLIENT_ID", "c"),
            ("COGNITO_USER_POOL_ID", "r_p"),
            ("ALLOWED_ORIGINS", "https://a.example/, https://b.example"),
        ]))
        .unwrap();
        assert_eq!(origins.allowed_origins, ["https://a.example", "https://b.example"]);
    }
}
