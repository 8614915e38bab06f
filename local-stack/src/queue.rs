//! An in-process queue with the SQS semantics the mail pipeline relies on: a received message
//! stays invisible for the visibility timeout and comes back if not deleted, every receive counts,
//! and a message received more than `max_receive_count` times is moved to the dead-letter queue
//! (the redrive policy) instead of being delivered again.

use chrono::{DateTime, Duration, Utc};
use mail_job::MailJob;
use serde::Serialize;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use triggers::mail_queue::{MailQueue, QueueError};

#[derive(Debug, Clone, Copy)]
pub struct QueueSettings {
    pub visibility_timeout: Duration,
    pub max_receive_count: u32,
}

#[derive(Debug, Clone)]
pub struct Message {
    pub message_id: String,
    pub receipt_handle: String,
    pub body: String,
    pub receive_count: u32,
    pub sent_at: DateTime<Utc>,
    visible_at: DateTime<Utc>,
}

/// What `/dev/queue` shows of a message: never its body (it holds the code and the address).
#[derive(Debug, Clone, Serialize)]
pub struct MessageView {
    pub message_id: String,
    pub template: String,
    pub locale: String,
    pub to: String,
    pub receive_count: u32,
    pub sent_at: DateTime<Utc>,
    pub in_flight: bool,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct QueueView {
    pub waiting: Vec<MessageView>,
    pub dead_letters: Vec<MessageView>,
    pub deleted: u64,
}

#[derive(Default)]
struct State {
    messages: VecDeque<Message>,
    dead: Vec<Message>,
    deleted: u64,
    counter: u64,
}

#[derive(Clone)]
pub struct LocalQueue {
    settings: QueueSettings,
    state: Arc<Mutex<State>>,
}

impl LocalQueue {
    pub fn new(settings: QueueSettings) -> Self {
        LocalQueue { settings, state: Arc::default() }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn send(&self, body: String, now: DateTime<Utc>) -> String {
        let mut s = self.state();
        s.counter += 1;
        let message_id = format!("local-{:08}", s.counter);
        s.messages.push_back(Message {
            message_id: message_id.clone(),
            receipt_handle: String::new(),
            body,
            receive_count: 0,
            sent_at: now,
            visible_at: now,
        });
        message_id
    }

    /// Up to `max` visible messages, now invisible for the visibility timeout, each with a fresh
    /// receipt handle. Messages past their receive limit go to the dead-letter queue instead.
    pub fn receive(&self, max: usize, now: DateTime<Utc>) -> Vec<Message> {
        let mut s = self.state();
        let limit = self.settings.max_receive_count;
        let (dead, alive): (Vec<Message>, Vec<Message>) =
            s.messages.drain(..).partition(|m| m.visible_at <= now && m.receive_count >= limit);
        s.dead.extend(dead);
        s.messages = alive.into();
        let mut out = Vec::new();
        for i in 0..s.messages.len() {
            if out.len() == max {
                break;
            }
            if s.messages[i].visible_at <= now {
                s.counter += 1;
                let handle = format!("rh-{}", s.counter);
                let m = &mut s.messages[i];
                m.receive_count += 1;
                m.visible_at = now + self.settings.visibility_timeout;
                m.receipt_handle = handle;
                out.push(m.clone());
            }
        }
        out
    }

    /// Deletes by receipt handle; a stale handle (the message was received again since) is ignored.
    pub fn delete(&self, receipt_handle: &str) -> bool {
        let mut s = self.state();
        let before = s.messages.len();
        s.messages.retain(|m| m.receipt_handle != receipt_handle);
        let deleted = s.messages.len() < before;
        if deleted {
            s.deleted += 1;
        }
        deleted
    }

    /// Makes the message with this receipt handle visible again at `at` (ChangeMessageVisibility).
    pub fn change_visibility(&self, receipt_handle: &str, at: DateTime<Utc>) -> bool {
        let mut s = self.state();
        let found = s.messages.iter_mut().find(|m| m.receipt_handle == receipt_handle);
        found.map(|m| m.visible_at = at).is_some()
    }

    /// Moves the message with this receipt handle to the dead-letter queue now.
    pub fn dead_letter(&self, receipt_handle: &str) -> bool {
        let mut s = self.state();
        let Some(i) = s.messages.iter().position(|m| m.receipt_handle == receipt_handle) else { return false };
        let m = s.messages.remove(i).expect("the position exists");
        s.dead.push(m);
        true
    }

    /// Takes every message not yet delivered (waiting or in flight, not the dead letters) out of
    /// the queue: what a stop keeps for the next start, or drops.
    pub fn take_undelivered(&self) -> Vec<String> {
        self.state().messages.drain(..).map(|m| m.body).collect()
    }

    pub fn view(&self, now: DateTime<Utc>) -> QueueView {
        let s = self.state();
        QueueView {
            waiting: s.messages.iter().map(|m| view(m, now)).collect(),
            dead_letters: s.dead.iter().map(|m| view(m, now)).collect(),
            deleted: s.deleted,
        }
    }
}

fn view(m: &Message, now: DateTime<Utc>) -> MessageView {
    let job = MailJob::parse(&m.body).ok();
    MessageView {
        message_id: m.message_id.clone(),
        template: job.as_ref().map_or("(unreadable)".into(), |j| j.content.template_name().to_string()),
        locale: job.as_ref().map_or("-".into(), |j| j.locale.to_string()),
        to: job.as_ref().map_or("-".into(), |j| mail_job::mask_email(&j.to.email)),
        receive_count: m.receive_count,
        sent_at: m.sent_at,
        in_flight: m.visible_at > now,
    }
}

/// The mailer's redelivery on this queue, as `SqsRedelivery` does it on SQS.
impl mailer::redelivery::Redelivery for LocalQueue {
    async fn retry_after(&self, record: &aws_lambda_events::event::sqs::SqsMessage, delay: std::time::Duration) {
        let at = Utc::now() + Duration::from_std(delay).unwrap_or_else(|_| Duration::zero());
        self.change_visibility(record.receipt_handle.as_deref().unwrap_or(""), at);
    }

    async fn dead_letter(&self, record: &aws_lambda_events::event::sqs::SqsMessage, _reason: &str) -> bool {
        LocalQueue::dead_letter(self, record.receipt_handle.as_deref().unwrap_or(""))
    }
}

impl MailQueue for LocalQueue {
    async fn enqueue(&self, job: &MailJob) -> Result<(), QueueError> {
        self.send(job.to_json(), Utc::now());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn queue() -> LocalQueue {
        LocalQueue::new(QueueSettings { visibility_timeout: Duration::seconds(10), max_receive_count: 2 })
    }

    #[test]
    fn a_received_message_is_invisible_until_its_timeout_then_comes_back() {
        let q = queue();
        let t0 = Utc::now();
        q.send("a".into(), t0);
        let first = q.receive(10, t0);
        assert_eq!((first.len(), first[0].receive_count), (1, 1));
        assert!(q.receive(10, t0 + Duration::seconds(9)).is_empty());
        let again = q.receive(10, t0 + Duration::seconds(10));
        assert_eq!(again[0].receive_count, 2);
        assert!(!q.delete(&first[0].receipt_handle), "a stale receipt handle deletes nothing");
        assert!(q.delete(&again[0].receipt_handle));
        assert!(q.receive(10, t0 + Duration::seconds(60)).is_empty());
        assert_eq!(q.view(t0).deleted, 1);
    }

    #[test]
    fn past_the_receive_limit_a_message_moves_to_the_dead_letter_queue() {
        let q = queue();
        let t0 = Utc::now();
        q.send("poison".into(), t0);
        q.receive(10, t0);
        q.receive(10, t0 + Duration::seconds(10));
        assert!(q.receive(10, t0 + Duration::seconds(20)).is_empty(), "received twice: redriven");
        let view = q.view(t0 + Duration::seconds(20));
        assert!(view.waiting.is_empty());
        assert_eq!(view.dead_letters.len(), 1);
        assert_eq!((view.dead_letters[0].template.as_str(), view.dead_letters[0].receive_count), ("(unreadable)", 2));
    }

    #[test]
    fn at_most_max_messages_per_receive_in_order() {
        let q = queue();
        let t0 = Utc::now();
        for i in 0..12 {
            q.send(i.to_string(), t0);
        }
        let batch = q.receive(10, t0);
        assert_eq!(batch.len(), 10);
        assert_eq!(batch[0].body, "0");
        assert_eq!(q.receive(10, t0).len(), 2);
    }
}
