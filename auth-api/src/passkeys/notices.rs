//! The security notice a passkey change sends to the account's address (`passkey_added`,
//! `passkey_removed`), through the mail pipeline like every email: counted against the mailbox's
//! hourly budget and skipped past it (adding and removing passkeys in a loop must not flood the
//! address), and skipped for a suppressed address.

use super::Account;
use chrono::TimeZone;
use mail_job::{JobId, Locale, MailContent, MailJob, PasskeyChangeData, Recipient};
use std::future::Future;
use std::pin::Pin;
use triggers::auth_state::Limits;
use triggers::auth_state::mailbox::{self, Reserve};
use triggers::auth_state::store::{AuthStateStore, StateKey};
use triggers::mail_queue::MailQueue;

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Added,
    Removed,
}

/// Sends a notice; a failure is logged and counted, never undoes the change it tells of.
pub trait Notify: Send + Sync {
    fn notify<'a>(&'a self, who: &'a Account, passkey_name: &'a str, change: Change, now: i64) -> BoxFuture<'a, ()>;
}

pub struct QueuedNotices<S, Q> {
    store: S,
    queue: Q,
    user_pool_id: String,
    /// `ACCOUNT_URL`: the page where the user reviews their passkeys.
    account_url: String,
    /// The per-mailbox budget the triggers use (`MAX_EMAILS_PER_ADDRESS_PER_HOUR`).
    limits: Limits,
}

impl<S, Q> QueuedNotices<S, Q> {
    pub fn new(store: S, queue: Q, user_pool_id: impl Into<String>, account_url: impl Into<String>) -> Self {
        QueuedNotices {
            store,
            queue,
            user_pool_id: user_pool_id.into(),
            account_url: account_url.into(),
            limits: Limits::default(),
        }
    }

    /// The triggers' limits (the per-mailbox budget), as configured.
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }
}

impl<S: AuthStateStore, Q: MailQueue> QueuedNotices<S, Q> {
    async fn send(&self, who: &Account, passkey_name: &str, change: Change, now: i64) -> Result<(), String> {
        let email = who.email.as_deref().map(str::trim).filter(|e| !e.is_empty()).ok_or("the account has no email")?;
        let pool = &self.user_pool_id;
        let mailbox = StateKey::mailbox(pool, email).ok_or("the account's address is not deliverable")?;
        let address = StateKey::address_tag(pool, email).ok_or("the account's address is not deliverable")?;
        match mailbox::reserve(&self.store, &mailbox, &address, now, &self.limits, true).await {
            Ok(Reserve::Granted) => {}
            Ok(Reserve::Undeliverable) => return Ok(()),
            Ok(Reserve::Refused { .. }) => return Err("the mailbox's hourly budget is spent".into()),
            Err(e) => return Err(e.to_string()),
        }
        let data = PasskeyChangeData {
            username: who.username.clone(),
            passkey_name: passkey_name.to_string(),
            account_url: self.account_url.clone(),
        };
        let job = MailJob {
            version: mail_job::VERSION,
            id: JobId::random(),
            content: match change {
                Change::Added => MailContent::PasskeyAdded(data),
                Change::Removed => MailContent::PasskeyRemoved(data),
            },
            locale: Locale::from_attribute(who.locale.as_deref()),
            to: Recipient {
                email: email.to_string(),
                name: Some(who.name.clone().filter(|n| !n.trim().is_empty()).unwrap_or_else(|| who.username.clone())),
            },
            created_at: chrono::Utc.timestamp_opt(now, 0).single().unwrap_or_default(),
            expires_at: None,
            delivery: None,
        };
        if let Err(e) = self.queue.enqueue(&job).await {
            mailbox::release(&self.store, &mailbox, now).await;
            return Err(e.to_string());
        }
        tracing::info!(job_id = %job.id, template = job.content.template_name(), "passkey notice enqueued");
        Ok(())
    }
}

impl<S: AuthStateStore, Q: MailQueue> Notify for QueuedNotices<S, Q> {
    fn notify<'a>(&'a self, who: &'a Account, passkey_name: &'a str, change: Change, now: i64) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            if let Err(e) = self.send(who, passkey_name, change, now).await {
                tracing::error!(error = %e, ?change, "the passkey notice was not sent");
                lambda_support::metrics::emit(
                    &[],
                    &[("PasskeyNoticesLost", lambda_support::metrics::Unit::Count, 1.0)],
                );
            }
        })
    }
}
