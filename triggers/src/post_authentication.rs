//! post-authentication: the first sign-in by the emailed link or code is what proves the address
//! (a passkey sign-in, [`crate::passkey`], proves none).
//! On it, this trigger marks `email_verified` true (through the [`UserDirectory`] port: Cognito's
//! `AdminUpdateUserAttributes` on the pool the event names) and only then enqueues the `welcome`
//! email, within the mailbox's hourly budget. Nothing reaches an address nobody has proved: a
//! sign-up with someone else's address sends them nothing. See docs/decisions.md.

use crate::TriggerError;
use crate::auth_state::mailbox::Reserve;
use crate::auth_state::store::{AuthStateStore, StateKey};
use crate::auth_state::{self, Limits};
use crate::link::parse_web_url;
use crate::mail_queue::MailQueue;
use aws_lambda_events::event::cognito::CognitoEventUserPoolsPostAuthentication;
use chrono::{DateTime, Utc};
use lambda_support::{ConfigError, Env};
use mail_job::{JobId, Locale, MailContent, MailJob, Recipient, WelcomeData};
use std::future::Future;

#[derive(Debug, Clone)]
pub struct WelcomeConfig {
    pub queue_url: String,
    /// `SIGN_IN_URL`: the page where users type their username.
    pub sign_in_url: String,
    pub limits: Limits,
}

impl WelcomeConfig {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let queue_url = env.required("MAIL_QUEUE_URL")?.to_string();
        let sign_in_url = parse_web_url(env.required("SIGN_IN_URL")?)
            .map_err(|reason| ConfigError::Invalid { name: "SIGN_IN_URL", reason })?
            .into();
        Ok(WelcomeConfig { queue_url, sign_in_url, limits: Limits::from_env(env)? })
    }
}

/// Where the user's attributes are changed: Cognito in Lambda, the pool itself in local-cognito.
pub trait UserDirectory: Send + Sync {
    fn mark_email_verified(
        &self,
        user_pool_id: &str,
        username: &str,
    ) -> impl Future<Output = Result<(), String>> + Send;
}

/// `AdminUpdateUserAttributes` through the SDK (the function's role may call it on its own pool
/// only).
#[derive(Debug, Clone)]
pub struct CognitoDirectory(pub aws_sdk_cognitoidentityprovider::Client);

impl UserDirectory for CognitoDirectory {
    async fn mark_email_verified(&self, user_pool_id: &str, username: &str) -> Result<(), String> {
        let verified = aws_sdk_cognitoidentityprovider::types::AttributeType::builder()
            .name("email_verified")
            .value("true")
            .build()
            .map_err(|e| e.to_string())?;
        self.0
            .admin_update_user_attributes()
            .user_pool_id(user_pool_id)
            .username(username)
            .user_attributes(verified)
            .send()
            .await
            .map(drop)
            // The error's code and message only: never the request, which names the user.
            .map_err(|e| aws_sdk_cognitoidentityprovider::error::DisplayErrorContext(e).to_string())
    }
}

/// A Cognito call must leave the trigger time to answer inside Cognito's 5 s.
pub const TIMEOUTS: lambda_support::SdkTimeouts = lambda_support::SdkTimeouts {
    connect: std::time::Duration::from_millis(1000),
    attempt: std::time::Duration::from_millis(1000),
    operation: std::time::Duration::from_millis(2000),
};

pub struct PostAuthentication<Q, S, D> {
    config: WelcomeConfig,
    queue: Q,
    store: S,
    directory: D,
}

impl<Q: MailQueue, S: AuthStateStore, D: UserDirectory> PostAuthentication<Q, S, D> {
    pub fn new(config: WelcomeConfig, queue: Q, store: S, directory: D) -> Self {
        PostAuthentication { config, queue, store, directory }
    }

    /// The user has signed in; an error here would fail a sign-in that succeeded. So what cannot
    /// be done is logged at ERROR, not returned: an address not marked yet is marked at the next
    /// sign-in (and welcomed then), a welcome that cannot be enqueued is a courtesy lost.
    pub async fn handle(
        &self,
        event: CognitoEventUserPoolsPostAuthentication,
        now: DateTime<Utc>,
    ) -> Result<CognitoEventUserPoolsPostAuthentication, TriggerError> {
        let header = &event.cognito_event_user_pools_header;
        let (username, key) = StateKey::of_event(header, "PostAuthentication")?;
        let pool = header.user_pool_id.as_deref().unwrap_or_default();
        let attributes = &event.request.user_attributes;
        let Some(email) = attributes.get("email").filter(|e| e.contains('@')) else {
            tracing::warn!("signed-in user has no email address: nothing to verify");
            return Ok(event);
        };
        if attributes.get("email_verified").is_some_and(|v| v == "true") {
            tracing::info!("address already verified");
            return Ok(event);
        }
        // Only an emailed link or code proves the address; a passkey sign-in does not.
        match self.store.load::<auth_state::UserState>(&key).await {
            Ok(read) if crate::passkey::just_signed_in(&read.state, now.timestamp()) => {
                tracing::info!("a passkey sign-in: the address stays unverified");
                return Ok(event);
            }
            Ok(_) => {}
            Err(e) => {
                tracing::error!(error = %e, "auth state unreadable; the address is verified at a later sign-in");
                return Ok(event);
            }
        }
        if let Err(e) = self.directory.mark_email_verified(pool, username).await {
            tracing::error!(error = %e, "email_verified not set; retried at the next sign-in");
            return Ok(event);
        }
        tracing::info!("address verified by the emailed sign-in");
        let job = MailJob {
            version: mail_job::VERSION,
            id: JobId::random(),
            content: MailContent::Welcome(WelcomeData {
                username: username.to_string(),
                sign_in_url: self.config.sign_in_url.clone(),
            }),
            locale: Locale::from_attribute(attributes.get("locale").map(String::as_str)),
            to: Recipient {
                email: email.clone(),
                name: Some(attributes.get("name").filter(|n| !n.trim().is_empty()).map_or(username, |n| n).to_string()),
            },
            created_at: now,
            expires_at: None,
            // Nobody waits on a welcome: its events still suppress a bouncing mailbox.
            delivery: None,
        };
        match (StateKey::mailbox(pool, email), StateKey::address_tag(pool, email)) {
            (Some(mailbox), Some(address)) => self.welcome(&mailbox, &address, &job, now.timestamp()).await,
            _ => tracing::warn!(job_id = %job.id, "no welcome email: the address cannot be delivered to"),
        }
        Ok(event)
    }

    async fn welcome(&self, mailbox: &StateKey, address: &str, job: &MailJob, t: i64) {
        match auth_state::mailbox::reserve(&self.store, mailbox, address, t, &self.config.limits, true).await {
            Ok(Reserve::Granted) => {}
            Ok(Reserve::Refused { .. }) => {
                return tracing::warn!(job_id = %job.id, "no welcome email: over the mailbox's budget");
            }
            Ok(Reserve::Undeliverable) => {
                return tracing::warn!(job_id = %job.id, "no welcome email: the mailbox is suppressed");
            }
            Err(e) => {
                return tracing::error!(job_id = %job.id, error = %e, "no welcome email: the budget could not be read");
            }
        }
        match self.queue.enqueue(job).await {
            Ok(()) => tracing::info!(job_id = %job.id, template = "welcome", locale = %job.locale, "mail job enqueued"),
            Err(e) => {
                tracing::error!(job_id = %job.id, error = %e, "welcome email not enqueued");
                auth_state::mailbox::release(&self.store, mailbox, t).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth_state::MailboxState;
    use crate::auth_state::store::MemoryStore;
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

    #[derive(Default)]
    struct Directory {
        verified: Mutex<Vec<(String, String)>>,
        fail: bool,
    }

    impl UserDirectory for Directory {
        async fn mark_email_verified(&self, pool: &str, username: &str) -> Result<(), String> {
            if self.fail {
                return Err("AccessDenied".into());
            }
            self.verified.lock().unwrap().push((pool.into(), username.into()));
            Ok(())
        }
    }

    fn trigger(queue_fails: bool, directory_fails: bool) -> PostAuthentication<Recorder, MemoryStore, Directory> {
        let config = WelcomeConfig::from_env(&Env::from_pairs([
            ("MAIL_QUEUE_URL", "https://sqs.example/q"),
            ("SIGN_IN_URL", "https://app.example.com/login"),
        ]))
        .unwrap();
        PostAuthentication::new(
            config,
            Recorder { fail: queue_fails, ..Default::default() },
            MemoryStore::new(),
            Directory { fail: directory_fails, ..Default::default() },
        )
    }

    fn jobs(t: &PostAuthentication<Recorder, MemoryStore, Directory>) -> Vec<MailJob> {
        t.queue.jobs.lock().unwrap().clone()
    }

    #[tokio::test]
    async fn the_first_sign_in_verifies_the_address_then_welcomes() {
        let t = trigger(false, false);
        t.handle(fixtures::event("post_authentication.json"), Utc::now()).await.unwrap();
        assert_eq!(*t.directory.verified.lock().unwrap(), [("eu-west-1_AbCdEfGhI".to_string(), "alice".to_string())]);
        let jobs = jobs(&t);
        assert_eq!(jobs.len(), 1);
        let MailContent::Welcome(data) = &jobs[0].content else { panic!("a welcome job") };
        assert_eq!((data.sign_in_url.as_str(), data.username.as_str()), ("https://app.example.com/login", "alice"));
        assert_eq!((jobs[0].locale.as_str(), jobs[0].expires_at), ("de", None));
        MailJob::parse(&jobs[0].to_json()).unwrap();
    }

    #[tokio::test]
    async fn a_passkey_sign_in_verifies_no_address_and_welcomes_nobody() {
        let t = trigger(false, false);
        let event: CognitoEventUserPoolsPostAuthentication = fixtures::event("post_authentication.json");
        let (_, key) = StateKey::of_event(&event.cognito_event_user_pools_header, "test").unwrap();
        let now = Utc::now();
        let state = auth_state::UserState { passkey_signed_in_at: Some(now.timestamp() - 1), ..Default::default() };
        t.store.save(&key, &state, 0).await.unwrap();
        t.handle(event, now).await.unwrap();
        assert!(t.directory.verified.lock().unwrap().is_empty(), "the address stays unverified");
        assert!(jobs(&t).is_empty());
        // The next sign-in (by email) is the proof.
        t.handle(fixtures::event("post_authentication.json"), now + chrono::Duration::seconds(120)).await.unwrap();
        assert_eq!(t.directory.verified.lock().unwrap().len(), 1);
    }

    #[tokio::test]
    async fn a_verified_address_or_none_at_all_sends_nothing() {
        let t = trigger(false, false);
        let verified = fixtures::edited("post_authentication.json", |v| {
            v["request"]["userAttributes"]["email_verified"] = "true".into()
        });
        t.handle(verified, Utc::now()).await.unwrap();
        let no_email = fixtures::edited("post_authentication.json", |v| {
            v["request"]["userAttributes"] = serde_json::json!({"sub": "s"})
        });
        t.handle(no_email, Utc::now()).await.unwrap();
        assert!(jobs(&t).is_empty());
        assert!(t.directory.verified.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn failures_never_fail_the_sign_in_and_an_unverified_address_gets_no_welcome() {
        let directory_down = trigger(false, true);
        assert!(directory_down.handle(fixtures::event("post_authentication.json"), Utc::now()).await.is_ok());
        assert!(jobs(&directory_down).is_empty(), "not verified: not welcomed");
        let queue_down = trigger(true, false);
        assert!(queue_down.handle(fixtures::event("post_authentication.json"), Utc::now()).await.is_ok());
        let key = StateKey::mailbox("eu-west-1_AbCdEfGhI", "alice@example.com").unwrap();
        let state = queue_down.store.load::<MailboxState>(&key).await.unwrap().state;
        assert!(state.emails.times().is_empty(), "the unsent welcome is not counted");
    }

    #[tokio::test]
    async fn the_welcome_counts_against_the_mailbox_budget() {
        let t = trigger(false, false);
        let key = StateKey::mailbox("eu-west-1_AbCdEfGhI", "Alice+x@Example.com").unwrap();
        let now = Utc::now().timestamp();
        let mut full = MailboxState::default();
        (0..5).for_each(|i| full.emails.record(now - i));
        t.store.save(&key, &full, 0).await.unwrap();
        t.handle(fixtures::event("post_authentication.json"), Utc::now()).await.unwrap();
        assert!(jobs(&t).is_empty(), "five emails to that mailbox this hour already");
    }

    #[tokio::test]
    async fn malformed_events_fail_closed() {
        let t = trigger(false, false);
        for field in ["triggerSource", "userName", "userPoolId"] {
            let event =
                fixtures::edited("post_authentication.json", |e| drop(e.as_object_mut().unwrap().remove(field)));
            assert!(t.handle(event, Utc::now()).await.is_err(), "{field}");
        }
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
