use crate::address::Mailbox;
use lambda_support::{ConfigError, Env};

#[derive(Debug, Clone)]
pub struct MailerConfig {
    /// `MAIL_FROM`, already in header form (display name RFC 2047-encoded when needed).
    pub from: String,
    pub configuration_set: Option<String>,
    pub app_name: String,
    pub max_concurrent_sends: usize,
    /// `MAIL_DLQ_URL`: where a permanent failure goes at once. Unset: it is only reported, and the
    /// redrive policy parks it after `maxReceiveCount` receives.
    pub dead_letter_queue_url: Option<String>,
    /// `MAIL_QUEUE_URL`: the mail queue, for changing a message's visibility; unset, its URL is
    /// looked up from the record's `eventSourceARN`.
    pub queue_url: Option<String>,
    /// A send is started only while this much of the invocation is left: the SES client's whole
    /// operation timeout (`ses::TIMEOUTS`, 12 s) and a second to answer.
    pub send_budget: std::time::Duration,
}

impl MailerConfig {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let from = Mailbox::parse(env.required("MAIL_FROM")?)
            .map_err(|e| ConfigError::Invalid { name: "MAIL_FROM", reason: e.to_string() })?;
        let configuration_set = env.optional("SES_CONFIGURATION_SET").map(str::to_string);
        if let Some(set) = &configuration_set
            && !(set.len() <= 64 && set.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
        {
            return Err(ConfigError::Invalid {
                name: "SES_CONFIGURATION_SET",
                reason: "use at most 64 letters, digits, '-' and '_'".into(),
            });
        }
        // Without APP_NAME the sender's display name, then its domain, names the app in emails.
        let app_name = env
            .optional("APP_NAME")
            .map(str::to_string)
            .or_else(|| from.name.clone())
            .unwrap_or_else(|| from.address.domain().to_string());
        Ok(MailerConfig {
            from: from.to_header(),
            configuration_set,
            app_name,
            max_concurrent_sends: env.integer_in("MAX_CONCURRENT_SENDS", 10, 1..=50)?,
            dead_letter_queue_url: env.optional("MAIL_DLQ_URL").map(str::to_string),
            queue_url: env.optional("MAIL_QUEUE_URL").map(str::to_string),
            send_budget: crate::ses::TIMEOUTS.operation + std::time::Duration::from_secs(1),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pairs: &[(&str, &str)]) -> Result<MailerConfig, ConfigError> {
        MailerConfig::from_env(&Env::from_pairs(pairs.iter().copied()))
    }

    #[test]
    fn defaults_and_app_name_fallbacks() {
        let c = config(&[("MAIL_FROM", "Acme <no-reply@acme.example>")]).unwrap();
        assert_eq!((c.app_name.as_str(), c.max_concurrent_sends, c.configuration_set), ("Acme", 10, None));
        assert_eq!(c.from, "\"Acme\" <no-reply@acme.example>");
        assert_eq!(config(&[("MAIL_FROM", "no-reply@acme.example")]).unwrap().app_name, "acme.example");
        let named = config(&[("MAIL_FROM", "Acme <a@acme.example>"), ("APP_NAME", "Acme Cloud")]).unwrap();
        assert_eq!(named.app_name, "Acme Cloud");
        let encoded = config(&[("MAIL_FROM", "Äcme <a@acme.example>")]).unwrap();
        assert_eq!(encoded.from, "=?UTF-8?B?w4RjbWU=?= <a@acme.example>");
    }

    #[test]
    fn errors_name_the_variable() {
        let err = |pairs: &[(&str, &str)]| config(pairs).unwrap_err().to_string();
        assert_eq!(err(&[]), "missing required environment variable MAIL_FROM");
        assert!(err(&[("MAIL_FROM", "Acme <nope>")]).contains("MAIL_FROM"));
        assert!(
            err(&[("MAIL_FROM", "a@acme.example"), ("SES_CONFIGURATION_SET", "bad set!")])
                .contains("SES_CONFIGURATION_SET")
        );
        assert!(
            err(&[("MAIL_FROM", "a@acme.example"), ("MAX_CONCURRENT_SENDS", "0")]).contains("MAX_CONCURRENT_SENDS")
        );
    }
}
