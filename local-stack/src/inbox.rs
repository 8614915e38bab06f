//! The local outbox the real mailer sends to: every email it would hand to SES is kept here,
//! newest first, for `/inbox` and `/inbox/messages.json`; with `--state DIR` it survives restarts
//! in `inbox.jsonl`, one JSON line a message, appended (never rewritten per email) and compacted
//! to the newest [`KEPT`] messages once it holds twice as many.

use crate::persist;
use chrono::{DateTime, Utc};
use mailer::send::{EmailSender, OutgoingEmail, SendError};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// The messages the inbox keeps (memory and file): the newest this many.
pub const KEPT: usize = 1000;

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
    /// What SES would report about this email (the mailbox simulator's events, issue 17), oldest
    /// first; none for Cognito's own emails.
    #[serde(default)]
    pub events: Vec<InboxEvent>,
}

/// One SES event about an inbox message, as the inbox page lists it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct InboxEvent {
    /// SES's `eventType`: `Send`, `Delivery`, `Bounce`, `Complaint`, …
    pub event: String,
    /// `Permanent (General)` for a bounce, empty otherwise.
    #[serde(default)]
    pub detail: String,
    pub at: DateTime<Utc>,
}

#[derive(Default)]
struct Messages {
    list: Vec<InboxMessage>,
    /// The number of the next message's id (ids stay unique when old messages are dropped).
    next: u64,
    /// Lines in the file, dropped messages included: compacted at twice [`KEPT`].
    lines: usize,
}

#[derive(Clone, Default)]
pub struct Inbox {
    messages: Arc<Mutex<Messages>>,
    file: Option<PathBuf>,
    /// While set, every send fails as a throttled SES would (transient): to watch retries.
    throttled: Arc<std::sync::atomic::AtomicBool>,
    /// Where SES's events about each email go (the local feedback queue), as SES's configuration
    /// set would publish them; `None`: no events (the stack with `--aws` gets SES's own).
    feedback: Option<crate::queue::LocalQueue>,
}

impl Inbox {
    /// An inbox kept in memory, or in `file` (a JSON-lines file, loaded now, appended to on every
    /// email). A line that does not parse stops the start with the file's path, except a last line
    /// cut short by a crash, which is dropped.
    pub fn open(file: Option<PathBuf>) -> std::io::Result<Inbox> {
        if let Some(path) = &file {
            migrate_array_file(path)?;
        }
        let mut list = match &file {
            Some(path) => read_lines(path)?,
            None => Vec::new(),
        };
        let lines = list.len();
        let next = list.iter().filter_map(|m| m.id.trim_start_matches('m').parse::<u64>().ok()).max().unwrap_or(0) + 1;
        list.drain(..list.len().saturating_sub(KEPT));
        let messages = Messages { list, next, lines };
        Ok(Inbox { messages: Arc::new(Mutex::new(messages)), file, throttled: Arc::default(), feedback: None })
    }

    /// Plays SES's mailbox simulator: every email sent here produces the events SES documents
    /// for its address ([`mail_feedback::simulator`]) on `queue`, and lists them on the message.
    pub fn with_feedback(mut self, queue: crate::queue::LocalQueue) -> Self {
        self.feedback = Some(queue);
        self
    }

    /// Makes every send fail transiently (as SES throttling past the SDK's retries) until called
    /// again with `false`.
    pub fn set_throttled(&self, on: bool) {
        self.throttled.store(on, std::sync::atomic::Ordering::SeqCst);
    }

    /// Every email, newest first.
    pub fn messages(&self) -> Vec<InboxMessage> {
        let mut all = self.messages.lock().unwrap_or_else(|p| p.into_inner()).list.clone();
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
        let now = Utc::now();
        let to_header = email.to.to_header();
        let mut published = Vec::new();
        let id = self
            .keep(|id| {
                let events = match &self.feedback {
                    Some(_) => mail_feedback::simulator::events(&mail_feedback::simulator::Sent {
                        message_id: &id,
                        from: &email.from,
                        // As the mailer addressed it: SES's `mail.destination` echoes that.
                        to: &to_header,
                        tags: &email.tags,
                        configuration_set: email.configuration_set.as_deref(),
                        at: now,
                    }),
                    None => Vec::new(),
                };
                let listed = events.iter().map(listed_event).collect();
                published = events;
                InboxMessage {
                    id,
                    to: email.to.to_header(),
                    from: email.from.clone(),
                    subject: email.subject.clone(),
                    text: email.text.clone(),
                    html: email.html.clone(),
                    template: tag("template"),
                    locale: tag("locale"),
                    received_at: now,
                    events: listed,
                }
            })
            .map_err(|e| SendError::transient(format!("inbox not saved: {e}")))?;
        if let Some(queue) = &self.feedback {
            for event in published {
                queue.send(event.to_string(), now);
            }
        }
        Ok(id)
    }
}

/// The sender Cognito's own emails show (its default email configuration's address).
pub const COGNITO_FROM: &str = "Amazon Cognito <no-reply@verificationemail.com>";

/// Cognito's own emails (sign-up confirmation and attribute verification codes) land here too,
/// marked as Cognito's: the template reads `cognito:<purpose>` and the sender is Cognito's.
impl local_cognito::mail::CognitoMail for Inbox {
    fn deliver(&self, email: &local_cognito::mail::CognitoEmail) {
        let html = format!("<p>{}</p>", crate::pages::escape(&email.text));
        let kept = self.keep(|id| InboxMessage {
            id,
            to: email.to.clone(),
            from: COGNITO_FROM.into(),
            subject: email.subject.clone(),
            text: email.text.clone(),
            html,
            template: format!("cognito:{}", email.purpose),
            locale: "en".into(),
            received_at: email.sent_at,
            events: Vec::new(),
        });
        if let Err(e) = kept {
            tracing::error!(error = %e, "Cognito's email not kept in the inbox");
        }
    }
}

impl Inbox {
    /// Keeps a message (memory, and the file's next line) under the next id, dropping the oldest
    /// past [`KEPT`] and compacting the file at twice that.
    fn keep(&self, message: impl FnOnce(String) -> InboxMessage) -> std::io::Result<String> {
        let mut messages = self.messages.lock().unwrap_or_else(|p| p.into_inner());
        let id = format!("m{:06}", messages.next);
        let message = message(id.clone());
        if let Some(path) = &self.file {
            // Under the lock: one writer, lines in the order of their ids.
            append_line(path, &message)?;
            messages.lines += 1;
        }
        messages.next += 1;
        messages.list.push(message);
        let excess = messages.list.len().saturating_sub(KEPT);
        messages.list.drain(..excess);
        if let Some(path) = &self.file
            && messages.lines >= 2 * KEPT
        {
            match rewrite(path, &messages.list) {
                Ok(()) => messages.lines = messages.list.len(),
                Err(e) => tracing::warn!(error = %e, "inbox not compacted; it keeps growing until it is"),
            }
        }
        Ok(id)
    }
}

/// An EventBridge-wrapped SES event as the inbox lists it.
fn listed_event(event: &serde_json::Value) -> InboxEvent {
    let detail = &event["detail"];
    let kind = detail["eventType"].as_str().unwrap_or("?").to_string();
    let bounce = &detail["bounce"];
    let at = ["delivery", "bounce", "complaint"]
        .iter()
        .find_map(|s| detail[*s]["timestamp"].as_str())
        .or(detail["mail"]["timestamp"].as_str())
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map_or_else(Utc::now, |t| t.with_timezone(&Utc));
    let detail = match (bounce["bounceType"].as_str(), bounce["bounceSubType"].as_str()) {
        (Some(t), Some(sub)) => format!("{t} ({sub})"),
        _ => String::new(),
    };
    InboxEvent { event: kind, detail, at }
}

fn read_lines(path: &Path) -> std::io::Result<Vec<InboxMessage>> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    // A crash mid-append leaves the last line short (perhaps inside a character): that one email
    // is lost, nothing else; the file is cut back to its last whole line, so the next email does
    // not land on the fragment.
    let whole = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    if whole < bytes.len() {
        tracing::warn!("the inbox's last line was cut short; dropped");
        std::fs::OpenOptions::new().write(true).open(path)?.set_len(whole as u64)?;
    }
    let mut messages = Vec::new();
    for (i, line) in bytes[..whole].split(|&b| b == b'\n').enumerate() {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let message =
            serde_json::from_slice(line).map_err(|e| persist::unreadable(path, format!("line {}: {e}", i + 1)))?;
        messages.push(message);
    }
    Ok(messages)
}

fn append_line(path: &Path, message: &InboxMessage) -> std::io::Result<()> {
    let mut line = serde_json::to_vec(message).map_err(std::io::Error::other)?;
    line.push(b'\n');
    let mut file = persist::private_file(path, true)?;
    file.write_all(&line)?;
    file.sync_data()
}

/// The file anew with only `messages`, replaced atomically.
fn rewrite(path: &Path, messages: &[InboxMessage]) -> std::io::Result<()> {
    let tmp = path.with_extension("jsonl.compact.tmp");
    {
        let mut file = persist::private_file(&tmp, false)?;
        for message in messages {
            serde_json::to_writer(&mut file, message).map_err(std::io::Error::other)?;
            file.write_all(b"\n")?;
        }
        file.sync_all()?;
    }
    std::fs::rename(&tmp, path)?;
    persist::sync_dir(path)
}

/// Before the inbox was a JSON-lines file it was one JSON array, `inbox.json`, beside it: carried
/// over once (then renamed `inbox.json.migrated`), so an upgrade loses no message.
fn migrate_array_file(path: &Path) -> std::io::Result<()> {
    let old = path.with_extension("json");
    if path.exists() || !old.exists() {
        return Ok(());
    }
    let messages: Vec<InboxMessage> = persist::JsonFile::new(old.clone()).load()?.unwrap_or_default();
    rewrite(path, &messages)?;
    std::fs::rename(&old, old.with_extension("json.migrated"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn email(n: usize) -> OutgoingEmail {
        let address = mailer::address::EmailAddress::parse(&format!("u{n}@example.com")).unwrap();
        OutgoingEmail {
            from: "a@example.com".into(),
            to: mailer::address::Mailbox::new(None, address),
            subject: "s".into(),
            html: "<p>h</p>".into(),
            text: "t".into(),
            configuration_set: None,
            tags: vec![("template".into(), "login_link".into()), ("locale".into(), "en".into())],
        }
    }

    #[tokio::test]
    async fn the_file_is_appended_to_compacted_and_read_back_with_a_torn_last_line() {
        let dir = std::env::temp_dir().join(format!("inbox-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        persist::private_dir(&dir).unwrap();
        let path = dir.join("inbox.jsonl");
        let inbox = Inbox::open(Some(path.clone())).unwrap();
        for n in 0..(2 * KEPT + 5) {
            inbox.send(&email(n)).await.unwrap();
        }
        let lines = std::fs::read_to_string(&path).unwrap().lines().count();
        assert!((KEPT..2 * KEPT).contains(&lines), "compacted: {lines} lines");
        assert_eq!(inbox.messages().len(), KEPT);
        // A crash mid-append, cut inside a character: the torn line is dropped (and cut from the
        // file, so the next email starts a line of its own), everything before it is kept.
        std::fs::OpenOptions::new().append(true).open(&path).unwrap().write_all(b"{\"id\": \"m9\xc3").unwrap();
        let reopened = Inbox::open(Some(path.clone())).unwrap();
        assert_eq!(reopened.messages()[0].id, format!("m{:06}", 2 * KEPT + 5), "newest first, ids kept");
        reopened.send(&email(0)).await.unwrap();
        assert_eq!(reopened.messages()[0].id, format!("m{:06}", 2 * KEPT + 6), "ids stay unique");
        let again = Inbox::open(Some(path.clone())).expect("the next start reads the file");
        assert_eq!(again.messages()[0].id, format!("m{:06}", 2 * KEPT + 6));
        // A broken line in the middle stops the start, naming the file.
        std::fs::write(&path, "{broken\n{}\n").unwrap();
        let err = Inbox::open(Some(path.clone())).err().unwrap().to_string();
        assert!(err.contains("inbox.jsonl is not valid") && err.contains("line 1"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
