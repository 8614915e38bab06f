//! A mail queue that keeps jobs in memory, for tests and tools that read the emails themselves.

use mail_job::MailJob;
use std::sync::{Arc, Mutex};
use triggers::mail_queue::{MailQueue, QueueError};

#[derive(Clone, Default)]
pub struct MemoryMailQueue(Arc<Mutex<Vec<MailJob>>>);

impl MemoryMailQueue {
    /// Every job enqueued so far, oldest first.
    pub fn jobs(&self) -> Vec<MailJob> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

impl MailQueue for MemoryMailQueue {
    async fn enqueue(&self, job: &MailJob) -> Result<(), QueueError> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).push(job.clone());
        Ok(())
    }
}

/// An email Cognito itself sends (a sign-up confirmation code, an attribute verification code):
/// in AWS it leaves from the pool's email configuration, not through the project's mailer.
#[derive(Clone, serde::Serialize)]
pub struct CognitoEmail {
    pub to: String,
    pub subject: String,
    pub text: String,
    /// `confirm_sign_up` or `verify_attribute`.
    pub purpose: &'static str,
    pub sent_at: chrono::DateTime<chrono::Utc>,
}

// Holds a code and an address: `{:?}` shows neither.
impl std::fmt::Debug for CognitoEmail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CognitoEmail").field("purpose", &self.purpose).finish_non_exhaustive()
    }
}

/// Where Cognito's own emails go besides the outbox (the local stack's inbox).
pub trait CognitoMail: Send + Sync {
    fn deliver(&self, email: &CognitoEmail);
}

/// The emails Cognito would have sent, newest last (the last [`Outbox::KEPT`]), and optionally
/// handed on to an inbox.
#[derive(Clone, Default)]
pub struct Outbox {
    sent: Arc<Mutex<Vec<CognitoEmail>>>,
    forward: Arc<Mutex<Option<Arc<dyn CognitoMail>>>>,
}

impl Outbox {
    pub const KEPT: usize = 100;

    /// Also hands every email to `inbox` from now on.
    pub fn forward_to(&self, inbox: Arc<dyn CognitoMail>) {
        *self.forward.lock().unwrap_or_else(|p| p.into_inner()) = Some(inbox);
    }

    pub fn send(&self, email: CognitoEmail) {
        let forward = self.forward.lock().unwrap_or_else(|p| p.into_inner()).clone();
        if let Some(inbox) = forward {
            inbox.deliver(&email);
        }
        let mut sent = self.sent.lock().unwrap_or_else(|p| p.into_inner());
        sent.push(email);
        let excess = sent.len().saturating_sub(Self::KEPT);
        sent.drain(..excess);
    }

    /// Every email kept, oldest first.
    pub fn emails(&self) -> Vec<CognitoEmail> {
        self.sent.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}
