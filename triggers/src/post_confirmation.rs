//! post-confirmation: enqueues the `welcome` email once, when a self sign-up is confirmed (with
//! pre-sign-up's auto-confirmation, right after sign-up). A confirmed forgotten password sends
//! nothing. See docs/decisions.md for why this trigger and not pre-sign-up.

use crate::TriggerError;
use crate::link::parse_web_url;
use crate::mail_queue::MailQueue;
use aws_lambda_events::event::cognito::{
    CognitoEventUserPoolsPostConfirmation, CognitoEventUserPoolsPostConfirmationTriggerSource,
};
use chrono::{DateTime, Utc};
use lambda_support::{ConfigError, Env};
use mail_job::{JobId, Locale, MailContent, MailJob, Recipient, WelcomeData};

#[derive(Debug, Clone)]
pub struct WelcomeConfig {
    pub queue_url: String,
    /// `SIGN_IN_URL`: the page where users type their username.
    pub sign_in_url: String,
}

impl WelcomeConfig {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let queue_url = env.required("MAIL_QUEUE_URL")?.to_string();
        let sign_in_url = parse_web_url(env.required("SIGN_IN_URL")?)
            .map_err(|reason| ConfigError::Invalid { name: "SIGN_IN_URL", reason })?
            .into();
        Ok(WelcomeConfig { queue_url, sign_in_url })
    }
}

pub struct SendWelcome<Q> {
    config: WelcomeConfig,
    queue: Q,
}

impl<Q: MailQueue> SendWelcome<Q> {
    pub fn new(config: WelcomeConfig, queue: Q) -> Self {
        SendWelcome { config, queue }
    }

    /// The user is already confirmed when this runs, and an error here would show the user a
    /// failed sign-up for an account that exists. So a welcome email that cannot be enqueued is
    /// logged at ERROR, not returned: it is a courtesy, not part of signing in.
    pub async fn handle(
        &self,
        event: CognitoEventUserPoolsPostConfirmation,
        now: DateTime<Utc>,
    ) -> Result<CognitoEventUserPoolsPostConfirmation, TriggerError> {
        let header = &event.cognito_event_user_pools_header;
        let source = header.trigger_source.clone().ok_or("malformed PostConfirmation event: no triggerSource")?;
        if source != CognitoEventUserPoolsPostConfirmationTriggerSource::ConfirmSignUp {
            tracing::info!("not a sign-up confirmation: no welcome email");
            return Ok(event);
        }
        let username = header
            .user_name
            .clone()
            .filter(|u| !u.is_empty())
            .ok_or("malformed PostConfirmation event: no userName")?;
        let attributes = &event.request.user_attributes;
        let Some(email) = attributes.get("email").filter(|e| e.contains('@')) else {
            tracing::warn!("confirmed user has no email address: no welcome email");
            return Ok(event);
        };
        let job = MailJob {
            version: mail_job::VERSION,
            id: JobId::random(),
            content: MailContent::Welcome(WelcomeData {
                username: username.clone(),
                sign_in_url: self.config.sign_in_url.clone(),
            }),
            locale: Locale::from_attribute(attributes.get("locale").map(String::as_str)),
            to: Recipient {
                email: email.clone(),
                name: Some(attributes.get("name").filter(|n| !n.trim().is_empty()).unwrap_or(&username).clone()),
            },
            created_at: now,
            expires_at: None,
        };
        match self.queue.enqueue(&job).await {
            Ok(()) => tracing::info!(job_id = %job.id, template = "welcome", locale = %job.locale, "mail job enqueued"),
            Err(e) => {
                tracing::error!(job_id = %job.id, error = %e, "welcome email not enqueued; the user is confirmed anyway")
            }
        }
        Ok(event)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures;
    use crate::mail_queue::QueueError;
    use std::sync::Mutex;

    #[derive(Default)]
    struct Recorder {
        jobs: Mutex<Vec<MailJob>>,
        fail: bool,
    }

    impl MailQueue for Recorder {
        async fn enqueue(&self, job: &MailJob) -> Result<(), QueueError> {
            if self.fail {
                return Err(QueueError("down".into()));
            }
            self.jobs.lock().unwrap().push(job.clone());
            Ok(())
        }
    }

    fn trigger(fail: bool) -> SendWelcome<Recorder> {
        let config = WelcomeConfig::from_env(&Env::from_pairs([
            ("MAIL_QUEUE_URL", "https://sqs.example/q"),
            ("SIGN_IN_URL", "https://app.example.com/login"),
        ]))
        .unwrap();
        SendWelcome::new(config, Recorder { fail, ..Default::default() })
    }

    #[tokio::test]
    async fn a_confirmed_sign_up_enqueues_one_welcome_job() {
        let t = trigger(false);
        t.handle(fixtures::event("post_confirmation.json"), Utc::now()).await.unwrap();
        let jobs = t.queue.jobs.lock().unwrap();
        assert_eq!(jobs.len(), 1);
        let MailContent::Welcome(data) = &jobs[0].content else { panic!("a welcome job") };
        assert_eq!(data.sign_in_url, "https://app.example.com/login");
        assert_eq!(data.username, "alice");
        assert_eq!((jobs[0].locale.as_str(), jobs[0].expires_at), ("de", None));
        MailJob::parse(&jobs[0].to_json()).unwrap();
    }

    #[tokio::test]
    async fn a_forgotten_password_or_a_missing_email_sends_nothing() {
        let t = trigger(false);
        let forgot = fixtures::edited("post_confirmation.json", |v| {
            v["triggerSource"] = "PostConfirmation_ConfirmForgotPassword".into()
        });
        t.handle(forgot, Utc::now()).await.unwrap();
        let no_email =
            fixtures::edited("post_confirmation.json", |v| v["request"]["userAttributes"] = serde_json::json!({}));
        t.handle(no_email, Utc::now()).await.unwrap();
        assert!(t.queue.jobs.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_queue_failure_does_not_fail_the_confirmation() {
        assert!(trigger(true).handle(fixtures::event("post_confirmation.json"), Utc::now()).await.is_ok());
    }

    #[test]
    fn sign_in_url_is_required_and_https() {
        let err = |pairs: &[(&str, &str)]| {
            WelcomeConfig::from_env(&Env::from_pairs(pairs.iter().copied())).unwrap_err().to_string()
        };
        assert!(err(&[("MAIL_QUEUE_URL", "q")]).contains("SIGN_IN_URL"));
        assert!(err(&[("MAIL_QUEUE_URL", "q"), ("SIGN_IN_URL", "http://app.example.com")]).contains("SIGN_IN_URL"));
        assert!(err(&[("SIGN_IN_URL", "https://app.example.com")]).contains("MAIL_QUEUE_URL"));
    }
}
