//! create-auth-challenge: makes (or, on a retry, reuses) the one-time code, puts a `login_link`
//! mail job on the queue, and tells Cognito what to show and what to check.

use crate::code::{self, OneTimeCode};
use crate::decoy::{LatencyMirror, masked_address_for_unknown_user};
use crate::link::LoginUrl;
use crate::mail_queue::MailQueue;
use crate::{CUSTOM_CHALLENGE, TriggerError};
use aws_lambda_events::event::cognito::{
    CognitoEventUserPoolsChallengeResult, CognitoEventUserPoolsCreateAuthChallenge,
};
use chrono::{DateTime, Utc};
use lambda_support::{ConfigError, Env};
use mail_job::{JobId, LoginLinkData, MailContent, MailJob, Recipient, mask_email};
use tokio::time::Instant;

/// Challenge metadata is carried by Cognito from round to round (and never shown to the client):
/// it holds the code so a retry in the same session can reuse it.
const METADATA_PREFIX: &str = "CODE-";

/// `CODE_TTL_SECONDS` bounds: a Cognito session lives 3 to 15 minutes.
pub const TTL_RANGE: std::ops::RangeInclusive<i64> = 60..=900;

#[derive(Debug, Clone)]
pub struct CreateConfig {
    pub queue_url: String,
    pub login_url: LoginUrl,
    pub code_length: usize,
    pub code_ttl_seconds: i64,
}

impl CreateConfig {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let queue_url = env.required("MAIL_QUEUE_URL")?.to_string();
        let login_url = LoginUrl::parse(env.required("LOGIN_URL")?)
            .map_err(|reason| ConfigError::Invalid { name: "LOGIN_URL", reason })?;
        Ok(CreateConfig {
            queue_url,
            login_url,
            code_length: env.integer_in("CODE_LENGTH", 6, code::LENGTH_RANGE)?,
            code_ttl_seconds: env.integer_in("CODE_TTL_SECONDS", 180, TTL_RANGE)?,
        })
    }
}

/// The use case, built once per process with its queue adapter.
pub struct CreateChallenge<Q> {
    config: CreateConfig,
    queue: Q,
    latency: LatencyMirror,
}

impl<Q: MailQueue> CreateChallenge<Q> {
    pub fn new(config: CreateConfig, queue: Q) -> Self {
        CreateChallenge { config, queue, latency: LatencyMirror::default() }
    }

    pub async fn handle(
        &self,
        mut event: CognitoEventUserPoolsCreateAuthChallenge,
        now: DateTime<Utc>,
    ) -> Result<CognitoEventUserPoolsCreateAuthChallenge, TriggerError> {
        let header = &event.cognito_event_user_pools_header;
        if header.trigger_source.is_none() {
            return Err("malformed CreateAuthChallenge event: no triggerSource".into());
        }
        if event.request.challenge_name.as_deref() != Some(CUSTOM_CHALLENGE) {
            return Err("CreateAuthChallenge called for a challenge other than CUSTOM_CHALLENGE".into());
        }
        let username = header
            .user_name
            .clone()
            .filter(|u| !u.is_empty())
            .ok_or("malformed CreateAuthChallenge event: no userName")?;
        let request = &event.request;
        let reused = code_from_session(&request.session);
        let is_retry = reused.is_some();
        let code = match reused {
            Some(code) => code,
            None => OneTimeCode::generate(self.config.code_length)?,
        };

        let hint = if request.user_not_found {
            if !is_retry {
                // The real path's only slow step is the queue send; wait as long as one would take.
                tokio::time::sleep(self.latency.sample()).await;
            }
            masked_address_for_unknown_user(&username)
        } else {
            let email = request.user_attributes.get("email").map(|e| e.trim()).filter(|e| e.contains('@'));
            let email = email.ok_or("this user has no usable email address")?.to_string();
            if is_retry {
                tracing::info!("retry within the session: code reused, no new email");
            } else {
                let job = self.login_job(
                    &username,
                    &email,
                    request.user_attributes.get("name"),
                    request.user_attributes.get("locale"),
                    &code,
                    now,
                );
                let started = Instant::now();
                self.queue
                    .enqueue(&job)
                    .await
                    .inspect_err(|e| tracing::error!(job_id = %job.id, error = %e, "mail job not enqueued"))?;
                self.latency.record(started.elapsed());
                tracing::info!(job_id = %job.id, template = job.content.template_name(), locale = %job.locale, "mail job enqueued");
            }
            mask_email(&email)
        };

        // Which answer this challenge asks for (1 = the first), so a client can say how many
        // tries are left; the same for unknown users, since their sessions count alike.
        let attempt =
            request.session.iter().flatten().filter(|e| e.challenge_name.as_deref() == Some(CUSTOM_CHALLENGE)).count()
                + 1;
        let response = &mut event.response;
        response.public_challenge_parameters = [
            ("email".to_string(), hint),
            ("codeLength".to_string(), code.len().to_string()),
            ("attempt".to_string(), attempt.to_string()),
        ]
        .into();
        response.private_challenge_parameters = [("code".to_string(), code.as_str().to_string())].into();
        response.challenge_metadata = Some(format!("{METADATA_PREFIX}{}", code.as_str()));
        Ok(event)
    }

    fn login_job(
        &self,
        username: &str,
        email: &str,
        name: Option<&String>,
        locale: Option<&String>,
        code: &OneTimeCode,
        now: DateTime<Utc>,
    ) -> MailJob {
        MailJob {
            version: mail_job::VERSION,
            id: JobId::random(),
            content: MailContent::LoginLink(LoginLinkData {
                username: username.to_string(),
                code: code.as_str().to_string(),
                link: self.config.login_url.link_for(username, code.as_str()),
            }),
            locale: mail_job::Locale::from_attribute(locale.map(String::as_str)),
            to: Recipient {
                email: email.to_string(),
                name: Some(name.filter(|n| !n.trim().is_empty()).map_or(username, |n| n.as_str()).to_string()),
            },
            created_at: now,
            expires_at: Some(now + chrono::Duration::seconds(self.config.code_ttl_seconds)),
        }
    }
}

/// The code of the latest custom round that carried one: a retry in the same session must show
/// the same code the email already holds.
fn code_from_session(session: &[Option<CognitoEventUserPoolsChallengeResult>]) -> Option<OneTimeCode> {
    session
        .iter()
        .rev()
        .flatten()
        .filter(|e| e.challenge_name.as_deref() == Some(CUSTOM_CHALLENGE))
        .find_map(|e| e.challenge_metadata.as_deref()?.strip_prefix(METADATA_PREFIX).and_then(OneTimeCode::from_digits))
}

#[cfg(test)]
mod tests;
