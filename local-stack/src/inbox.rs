//! The local outbox the real mailer sends to: every email it would hand to SES is kept here,
//! newest first, for `/inbox` and `/inbox/messages.json`; with `--state DIR` it survives restarts.

use crate::persist;
use chrono::{DateTime, Utc};
use mailer::send::{EmailSender, OutgoingEmail, SendError};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct InboxMessage {
    pub id: String,
    pub to: String,
    pub from: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub template: String,
    pub locale: String,
    pub received_at: DateTime<Utc>,
}

#[derive(Clone, Default)]
pub struct Inbox {
    messages: Arc<Mutex<Vec<InboxMessage>>>,
    file: Option<PathBuf>,
    /// While set, every send fails as a throttled SES would (transient): to watch retries.
    throttled: Arc<std::sync::atomic::AtomicBool>,
}

impl Inbox {
    /// An inbox kept in memory, or in `file` (loaded now, rewritten atomically on every email).
    pub fn open(file: Option<PathBuf>) -> std::io::Result<Inbox> {
        let messages = match &file {
            Some(path) => persist::load(path)?.unwrap_or_default(),
            None => Vec::new(),
        };
        Ok(Inbox { messages: Arc::new(Mutex::new(messages)), file, throttled: Arc::default() })
    }

    /// Makes every send fail transiently (as SES throttling past the SDK's retries) until called
    /// again with `false`.
    pub fn set_throttled(&self, on: bool) {
        self.throttled.store(on, std::sync::atomic::Ordering::SeqCst);
    }

    /// Every email, newest first.
    pub fn messages(&self) -> Vec<InboxMessage> {
        let mut all = self.messages.lock().unwrap_or_else(|p| p.into_inner()).clone();
        all.reverse();
        all
    }
}

impl EmailSender for Inbox {
    async fn send(&self, email: &OutgoingEmail) -> Result<String, SendError> {
        if self.throttled.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(SendError::transient("local inbox throttled (TooManyRequestsException)"));
        }
        let tag = |name: &str| email.tags.iter().find(|(k, _)| k == name).map_or(String::new(), |(_, v)| v.clone());
        let mut messages = self.messages.lock().unwrap_or_else(|p| p.into_inner());
        let id = format!("m{:06}", messages.len() + 1);
        messages.push(InboxMessage {
            id: id.clone(),
            to: email.to.to_header(),
            from: email.from.clone(),
            subject: email.subject.clone(),
            text: email.text.clone(),
            html: email.html.clone(),
            template: tag("template"),
            locale: tag("locale"),
            received_at: Utc::now(),
        });
        if let Some(path) = &self.file {
            persist::save(path, &*messages).map_err(|e| SendError::transient(format!("inbox not saved: {e}")))?;
        }
        Ok(id)
    }
}
