//! What became of an email after the mailer handed it to SES (issue 17): per email, its delivery
//! status for the person waiting ([`DeliveryState`], keyed by the email's delivery id); per
//! mailbox, whether it can receive email at all ([`Undeliverable`], on the mailbox's state). The
//! rules are pure; `mail-feedback` applies SES's events with them, create-auth-challenge and
//! post-authentication read them before they enqueue.

use super::MailboxState;
use super::store::Item;
use serde::{Deserialize, Serialize};

/// A day: how long an email's status matters (the sign-in it serves is long over by then).
pub const STATUS_KEPT_SECONDS: i64 = 86_400;
/// How long the product keeps an address suppressed after a hard bounce or a complaint, unless an
/// operator removes it (`mail-jobs suppression remove`); SES's account suppression list keeps it
/// until removed.
pub const SUPPRESSION_KEPT_SECONDS: i64 = 365 * 86_400;
/// How long transient trouble (a soft bounce, a delay) is remembered.
pub const TRANSIENT_KEPT_SECONDS: i64 = 7 * 86_400;

/// The states `GET /login/status` answers (a contract: `../shared/design.md`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Enqueued; SES has not accepted it yet.
    #[default]
    Queued,
    /// SES accepted it (its `Send` event).
    Sent,
    /// The receiving server has not taken it yet: a `DeliveryDelay` or a transient bounce.
    Delayed,
    /// The receiving server took it.
    Delivered,
    /// It will not arrive: a permanent bounce, SES refused it, or the address is suppressed.
    Bounced,
    /// It arrived and its recipient marked it as spam.
    Complained,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Queued => "queued",
            DeliveryStatus::Sent => "sent",
            DeliveryStatus::Delayed => "delayed",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Bounced => "bounced",
            DeliveryStatus::Complained => "complained",
        }
    }

    /// Nothing later changes it (but a complaint, which can follow a delivery).
    pub fn is_final(self) -> bool {
        matches!(self, DeliveryStatus::Delivered | DeliveryStatus::Bounced | DeliveryStatus::Complained)
    }
}

/// One email's delivery, as its events have told it so far.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryState {
    pub status: DeliveryStatus,
    /// When the status was last set (epoch seconds).
    pub at: i64,
    /// Why, for `bounced`: `permanent_bounce`, `suppressed`, `rejected`, `rendering_failure`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl Item for DeliveryState {
    fn expires_at(&self) -> i64 {
        self.at + STATUS_KEPT_SECONDS
    }
}

/// Applies an event's status. Events come out of order (SQS is not FIFO, SES retries), so the
/// status only moves forward: queued → sent → delayed → delivered → bounced/complained; a late
/// `Send` after the `Delivery` changes nothing, a complaint after the delivery does.
pub fn advance(state: DeliveryState, status: DeliveryStatus, at: i64, reason: Option<&str>) -> ((), DeliveryState) {
    if state.at != 0 && status <= state.status {
        return ((), state);
    }
    ((), DeliveryState { status, at, reason: reason.map(str::to_string) })
}

/// Why a mailbox takes no more email from the product.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Undeliverable {
    /// `permanent_bounce` or `complaint`.
    pub reason: String,
    pub at: i64,
}

/// Soft trouble (transient bounces, delays): recorded, never suppressing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransientTrouble {
    pub count: u32,
    pub last_at: i64,
}

/// The most exact addresses one mailbox's item keeps suppressed (each needs its own bounce or
/// complaint); past it the oldest entry goes, so an attacker cannot grow the item without bound
/// (SES's account suppression list still holds every one of them).
pub const MAX_SUPPRESSED_PER_MAILBOX: usize = 32;

impl MailboxState {
    /// Whether the exact address with this tag is suppressed, and why.
    pub fn suppressed_for(&self, address_tag: &str) -> Option<&Undeliverable> {
        self.suppressed.get(address_tag)
    }

    /// When nothing in the item matters any more: the hour's emails, the suppressions, the trouble.
    pub(super) fn feedback_expiry(&self) -> i64 {
        let suppressed = self.suppressed.values().map(|u| u.at + SUPPRESSION_KEPT_SECONDS).max().unwrap_or(0);
        let trouble = self.transient.as_ref().map_or(0, |t| t.last_at + TRANSIENT_KEPT_SECONDS);
        suppressed.max(trouble)
    }
}

/// A hard bounce or a complaint: the product sends this exact address nothing more. The first
/// reason and time stay (a later complaint does not hide the bounce that came first).
pub fn suppress(mut state: MailboxState, address_tag: &str, reason: &str, at: i64) -> ((), MailboxState) {
    state.suppressed.entry(address_tag.to_string()).or_insert_with(|| Undeliverable { reason: reason.to_string(), at });
    while state.suppressed.len() > MAX_SUPPRESSED_PER_MAILBOX {
        let oldest = state.suppressed.iter().min_by_key(|(_, u)| u.at).map(|(k, _)| k.clone());
        oldest.map(|k| state.suppressed.remove(&k));
    }
    ((), state)
}

/// A transient bounce or a delay: counted, nothing suppressed.
pub fn trouble(mut state: MailboxState, at: i64) -> ((), MailboxState) {
    let t = state.transient.get_or_insert_with(TransientTrouble::default);
    t.count += 1;
    t.last_at = t.last_at.max(at);
    ((), state)
}

/// An operator's repair: the exact address may receive email again (the hourly count stays).
pub fn unsuppress(mut state: MailboxState, address_tag: &str) -> (bool, MailboxState) {
    let was = state.suppressed.remove(address_tag).is_some();
    state.transient = None;
    (was, state)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_status_only_moves_forward_whatever_order_the_events_come_in() {
        let s = DeliveryState::default();
        let ((), s) = advance(s, DeliveryStatus::Queued, 10, None);
        let ((), s) = advance(s, DeliveryStatus::Delivered, 12, None);
        let ((), s) = advance(s, DeliveryStatus::Sent, 11, None);
        assert_eq!((s.status, s.at), (DeliveryStatus::Delivered, 12), "a late Send changes nothing");
        let ((), s) = advance(s, DeliveryStatus::Complained, 60, None);
        assert_eq!(s.status, DeliveryStatus::Complained, "a complaint follows a delivery");
        let ((), b) = advance(DeliveryState::default(), DeliveryStatus::Bounced, 5, Some("permanent_bounce"));
        let ((), b) = advance(b, DeliveryStatus::Delayed, 6, None);
        assert_eq!((b.status, b.reason.as_deref()), (DeliveryStatus::Bounced, Some("permanent_bounce")));
    }

    #[test]
    fn a_suppression_is_per_exact_address_keeps_its_first_reason_and_outlives_the_hours_emails() {
        let ((), m) = suppress(MailboxState::default(), "tag-a", "permanent_bounce", 100);
        let ((), m) = suppress(m, "tag-a", "complaint", 200);
        assert_eq!(m.suppressed_for("tag-a").unwrap(), &Undeliverable { reason: "permanent_bounce".into(), at: 100 });
        assert!(m.suppressed_for("tag-b").is_none(), "another spelling of the mailbox is not suppressed");
        assert_eq!(m.expires_at(), 100 + SUPPRESSION_KEPT_SECONDS);
        let ((), m) = trouble(m, 300);
        let (was, m) = unsuppress(m, "tag-a");
        assert!(was && m.suppressed_for("tag-a").is_none() && m.transient.is_none());
        let (was, _) = unsuppress(m, "tag-a");
        assert!(!was);
    }

    #[test]
    fn one_mailbox_keeps_a_bounded_number_of_suppressed_addresses() {
        let mut m = MailboxState::default();
        for i in 0..100 {
            m = suppress(m, &format!("tag-{i}"), "permanent_bounce", i).1;
        }
        assert_eq!(m.suppressed.len(), MAX_SUPPRESSED_PER_MAILBOX);
        assert!(m.suppressed_for("tag-99").is_some() && m.suppressed_for("tag-0").is_none(), "the oldest go");
    }
}
