//! Sign-in state shared by every session (docs/threat-model.md): per user, the one active code, the
//! emails of the last hour, the wrong answers against the code and since the last sign-in; per
//! mailbox, the emails of the last hour whatever the username. The rules here are pure; the store
//! in [`store`] only loads and saves an item with a version check, so two Lambda instances that
//! race on the same user never both win.

pub mod delivery;
pub mod mailbox;
pub mod store;

use crate::code::OneTimeCode;
use lambda_support::{ConfigError, Env};
use serde::{Deserialize, Serialize};
use store::Item;

/// The limits, every one configurable (README, "Abuse limits").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// A resend is refused until the last email is this old (`RESEND_AFTER_SECONDS`, 60).
    pub resend_after_seconds: i64,
    /// Emails per user in any 60-minute window, whatever the cause (`MAX_EMAILS_PER_HOUR`, 5).
    pub max_emails_per_hour: usize,
    /// Wrong answers, across all sessions, that kill a code (`MAX_WRONG_ANSWERS_PER_CODE`, 5).
    pub max_wrong_answers_per_code: u32,
    /// Emails to one mailbox in any 60-minute window, whatever the username and the kind of email
    /// (`MAX_EMAILS_PER_ADDRESS_PER_HOUR`, 5).
    pub max_emails_per_address_per_hour: usize,
    /// The wait before the next email once a code's worth of wrong answers has gone unanswered by a
    /// sign-in, doubling with each further code's worth (`GUESS_BACKOFF_BASE_SECONDS`, 60) ...
    pub guess_backoff_base_seconds: i64,
    /// ... up to this (`GUESS_BACKOFF_MAX_SECONDS`, 3600).
    pub guess_backoff_max_seconds: i64,
}

pub const HOUR: i64 = 3600;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            resend_after_seconds: 60,
            max_emails_per_hour: 5,
            max_wrong_answers_per_code: 5,
            max_emails_per_address_per_hour: 5,
            guess_backoff_base_seconds: 60,
            guess_backoff_max_seconds: 3600,
        }
    }
}

impl Limits {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let d = Limits::default();
        let base = env.integer_in("GUESS_BACKOFF_BASE_SECONDS", d.guess_backoff_base_seconds, 1..=3600)?;
        Ok(Limits {
            resend_after_seconds: env.integer_in("RESEND_AFTER_SECONDS", d.resend_after_seconds, 10..=3600)?,
            max_emails_per_hour: env.integer_in("MAX_EMAILS_PER_HOUR", d.max_emails_per_hour, 1..=60)?,
            max_wrong_answers_per_code: env.integer_in(
                "MAX_WRONG_ANSWERS_PER_CODE",
                d.max_wrong_answers_per_code,
                1..=10,
            )?,
            max_emails_per_address_per_hour: env.integer_in(
                "MAX_EMAILS_PER_ADDRESS_PER_HOUR",
                d.max_emails_per_address_per_hour,
                1..=60,
            )?,
            guess_backoff_base_seconds: base,
            guess_backoff_max_seconds: env.integer_in(
                "GUESS_BACKOFF_MAX_SECONDS",
                d.guess_backoff_max_seconds.max(base),
                base..=86_400,
            )?,
        })
    }

    /// How long the next email waits after `wrong` wrong answers since the last sign-in: nothing
    /// below one code's worth (a typo never meets it), then the base, doubling per code's worth.
    pub fn guess_backoff(&self, wrong_since_sign_in: u32) -> i64 {
        let dead = wrong_since_sign_in / self.max_wrong_answers_per_code;
        if dead == 0 {
            return 0;
        }
        let doublings = (dead - 1).min(30);
        self.guess_backoff_base_seconds.saturating_mul(1 << doublings).min(self.guess_backoff_max_seconds)
    }
}

/// The code a user was last emailed. Times are Unix seconds.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActiveCode {
    pub digits: String,
    pub sent_at: i64,
    pub expires_at: i64,
    pub wrong: u32,
    pub used: bool,
    /// The id its email's delivery status is kept under (random; the mail job carries it to the
    /// mailer, which tags the SES message with it). Empty in codes from before issue 17.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub delivery: String,
}

impl std::fmt::Debug for ActiveCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ActiveCode")
            .field("sent_at", &self.sent_at)
            .field("expires_at", &self.expires_at)
            .field("wrong", &self.wrong)
            .field("used", &self.used)
            .finish_non_exhaustive()
    }
}

impl ActiveCode {
    /// Neither used, nor past the expiry the email states, nor worn out by wrong answers.
    pub fn usable(&self, now: i64, limits: &Limits) -> bool {
        !self.used && now < self.expires_at && self.wrong < limits.max_wrong_answers_per_code
    }

    pub fn wrong_answers_left(&self, limits: &Limits) -> u32 {
        limits.max_wrong_answers_per_code.saturating_sub(self.wrong)
    }
}

/// When each email of the last hour went out: the hourly budgets of a user and of a mailbox.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct EmailLog(Vec<i64>);

impl From<Vec<i64>> for EmailLog {
    fn from(times: Vec<i64>) -> Self {
        EmailLog(times)
    }
}

impl EmailLog {
    pub fn times(&self) -> &[i64] {
        &self.0
    }

    pub fn last_expiry(&self) -> i64 {
        self.0.iter().max().map_or(0, |t| t + HOUR)
    }

    /// Seconds until `max` per hour allows another email, or `None` if it allows one now.
    pub fn wait(&self, now: i64, max: usize) -> Option<i64> {
        let mut recent: Vec<i64> = self.0.iter().copied().filter(|&t| t > now - HOUR).collect();
        if recent.len() < max {
            return None;
        }
        recent.sort_unstable();
        // The oldest email that must leave the window before one more fits.
        let oldest = recent[recent.len() - max];
        Some((oldest + HOUR - now).max(1))
    }

    /// Counts an email sent at `now` (and forgets those older than an hour).
    pub fn record(&mut self, now: i64) {
        self.0.retain(|&t| t > now - HOUR);
        self.0.push(now);
    }

    /// Takes back the email counted at `at` (it was never sent).
    pub fn forget(&mut self, at: i64) {
        if let Some(i) = self.0.iter().position(|&t| t == at) {
            self.0.remove(i);
        }
    }
}

/// Everything the table holds for one username (known or not: unknown ones get the same state).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserState {
    /// The account this state belongs to (its `sub`), `None` for a name that has no account. State
    /// left under a name before its account existed, or by a deleted account of the same name, is
    /// not the new account's: see [`UserState::claimed_by`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    pub code: Option<ActiveCode>,
    #[serde(default)]
    pub emails: EmailLog,
    /// Wrong answers since the last successful sign-in, across codes: what the guess backoff grows
    /// with ([`Limits::guess_backoff`]).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub wrong_since_sign_in: u32,
    /// With `EMAIL_HINT=masked`, the hint an unknown name shows, drawn once so that it stays the
    /// same, as a real user's does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decoy_hint: Option<String>,
    /// A passkey sign-in the auth API verified, waiting for its session ([`crate::passkey`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub passkey: Option<crate::passkey::PasskeyProof>,
    /// When a passkey proof last signed this account in: post-authentication does not take that
    /// sign-in as proof of the address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub passkey_signed_in_at: Option<i64>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl Item for UserState {
    /// When the item may be deleted: nothing in it matters after the last email's hour and the
    /// code's expiry have both passed (the table keeps it a day longer than that, longer than the
    /// longest guess backoff, so deletion never shortens one).
    fn expires_at(&self) -> i64 {
        let code = self.code.as_ref().map_or(0, |c| c.expires_at);
        let proof = self.passkey.as_ref().map_or(0, |p| p.until);
        let passkey_sign_in = self.passkey_signed_in_at.map_or(0, |t| t + crate::passkey::SIGNED_IN_MEMORY_SECONDS);
        code.max(self.emails.last_expiry()).max(proof).max(passkey_sign_in)
    }
}

impl UserState {
    /// Whether a round for `owner` may save over this state: a round for a name without an account
    /// (a session started before the account existed) never overwrites an account's state.
    pub fn writable_by(&self, owner: Option<&str>) -> bool {
        owner.is_some() || self.owner.is_none()
    }

    /// This state as seen by `owner` (an account's `sub`, or `None` for an unknown name): itself
    /// when it is theirs, else a fresh one. So nothing done to a name before its account existed
    /// carries over to the account, and a known and an unknown name follow the same rules.
    pub fn claimed_by(self, owner: Option<&str>) -> UserState {
        if self.owner.as_deref() == owner {
            self
        } else {
            UserState { owner: owner.map(str::to_string), ..UserState::default() }
        }
    }
}

/// Everything the table holds for one mailbox ([`crate::identity::mailbox`]): its emails of the
/// last hour, whichever username they were for. The address itself is never stored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailboxState {
    pub emails: EmailLog,
    /// Exact addresses of this mailbox a hard bounce or a complaint suppressed (mail-feedback), by
    /// their hashed tag ([`store::StateKey::address_tag`]): no producer sends to them any more.
    /// Per exact address, not per mailbox: a bounce of `victim+x@` must not silence `victim@`.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub suppressed: std::collections::BTreeMap<String, delivery::Undeliverable>,
    /// Soft bounces and delays, recorded without suppressing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transient: Option<delivery::TransientTrouble>,
}

impl Item for MailboxState {
    fn expires_at(&self) -> i64 {
        self.emails.last_expiry().max(self.feedback_expiry())
    }
}

/// Counts one email to the mailbox at `now` if its hourly budget allows it (or, when `enforce` is
/// false, whatever the budget says); otherwise the wait.
pub fn reserve_email(
    mut state: MailboxState,
    now: i64,
    limits: &Limits,
    enforce: bool,
) -> (Result<(), i64>, MailboxState) {
    match state.emails.wait(now, limits.max_emails_per_address_per_hour).filter(|_| enforce) {
        Some(retry_after) => (Err(retry_after), state),
        None => {
            state.emails.record(now);
            (Ok(()), state)
        }
    }
}

/// Gives back an email counted by [`reserve_email`] at `at` that was never sent.
pub fn release_email(mut state: MailboxState, at: i64) -> ((), MailboxState) {
    state.emails.forget(at);
    ((), state)
}

/// Why a resend was not done (the active code stays, and keeps working).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResendRefused {
    /// The last email is younger than `RESEND_AFTER_SECONDS`.
    TooSoon { retry_after: i64 },
    /// The hourly email budget is spent, or wrong answers made the next email wait.
    OverBudget { retry_after: i64 },
}

/// Why no email could be sent: the hourly budget, or the guess backoff (for metrics and logs;
/// the user is told the same "too many emails, try again in N minutes" for both).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hold {
    HourlyBudget,
    GuessBackoff,
}

/// The outcome of a create-challenge round for this user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Start {
    /// Send this new code by email (it replaces any earlier one).
    Send(ActiveCode),
    /// The active code stays; no email. `refused` says why, when a resend was asked for.
    Reuse { code: ActiveCode, refused: Option<ResendRefused> },
    /// No usable code and no email may go out yet: the sign-in is refused for `retry_after` seconds.
    Refused { retry_after: i64, hold: Hold },
}

impl UserState {
    /// Seconds until another email may go out, and why, or `None` if one may go now.
    fn email_wait(&self, now: i64, limits: &Limits) -> Option<(i64, Hold)> {
        let budget = self.emails.wait(now, limits.max_emails_per_hour).map(|w| (w, Hold::HourlyBudget));
        let backoff = limits.guess_backoff(self.wrong_since_sign_in);
        let last = self.code.as_ref().map_or(i64::MIN / 2, |c| c.sent_at);
        let backoff = (last + backoff > now).then(|| (last + backoff - now, Hold::GuessBackoff));
        budget.into_iter().chain(backoff).max_by_key(|(wait, _)| *wait)
    }
}

/// What a create round does for `owner`'s state ([`UserState::claimed_by`]): reuse the active
/// code, replace it (new email), or refuse. `resend` is the user's explicit request for a new
/// email. `new_code` is only called when a code is sent. Returns the outcome and the state to save
/// (unchanged unless an email is sent).
pub fn start(
    state: UserState,
    owner: Option<&str>,
    now: i64,
    ttl_seconds: i64,
    limits: &Limits,
    resend: bool,
    new_code: impl FnOnce() -> OneTimeCode,
) -> (Start, UserState) {
    let mut claimed = state.clone().claimed_by(owner);
    let usable = claimed.code.clone().filter(|c| c.usable(now, limits));
    let wait = claimed.email_wait(now, limits);
    let outcome = match (usable, resend, wait) {
        (Some(code), false, _) => Start::Reuse { code, refused: None },
        (Some(code), true, _) if now - code.sent_at < limits.resend_after_seconds => {
            let retry_after = code.sent_at + limits.resend_after_seconds - now;
            Start::Reuse { code, refused: Some(ResendRefused::TooSoon { retry_after }) }
        }
        (Some(code), true, Some((retry_after, _))) => {
            Start::Reuse { code, refused: Some(ResendRefused::OverBudget { retry_after }) }
        }
        (None, _, Some((retry_after, hold))) => Start::Refused { retry_after, hold },
        (_, _, None) => {
            let code = ActiveCode {
                digits: new_code().as_str().to_string(),
                sent_at: now,
                expires_at: now + ttl_seconds,
                wrong: 0,
                used: false,
                delivery: String::new(),
            };
            claimed.emails.record(now);
            claimed.code = Some(code.clone());
            if !state.writable_by(owner) {
                // A decoy round in a session that began before the account existed: it sends
                // nothing and must not wipe the account's state.
                return (Start::Send(code), state);
            }
            return (Start::Send(code), claimed);
        }
    };
    (outcome, state)
}

/// Takes back a code whose email could not be enqueued, with its place in the hourly count, so
/// the next sign-in makes a new code instead of reusing one nobody received. A code that was
/// replaced in the meantime is left alone.
pub fn withdraw(mut state: UserState, unsent: &ActiveCode) -> ((), UserState) {
    if state.code.as_ref() == Some(unsent) {
        state.code = None;
        state.emails.forget(unsent.sent_at);
    }
    ((), state)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The answer is the active, usable code; it is now used (dead everywhere).
    Correct,
    /// A wrong answer against a usable code; it was counted. `killed` is set when this answer
    /// wore the code out: how many codes' worth of wrong answers have now gone by without a
    /// sign-in (the account is being guessed at when that keeps growing).
    Wrong { killed: Option<u32> },
    /// There is no usable code (none, used, expired or worn out); nothing was counted.
    NoUsableCode,
}

/// Checks an answer against `owner`'s active code. The comparison runs (in constant time) for
/// every answer, so a correct, a wrong and a dead-code answer cost the same. A correct answer
/// resets the guess backoff.
pub fn answer(state: UserState, owner: Option<&str>, now: i64, answer: &str, limits: &Limits) -> (Verdict, UserState) {
    let mut claimed = state.clone().claimed_by(owner);
    let Some(code) = claimed.code.as_mut() else {
        return (Verdict::NoUsableCode, state);
    };
    let matches = OneTimeCode::from_digits(&code.digits).is_some_and(|c| c.matches(answer));
    let verdict = if !code.usable(now, limits) {
        return (Verdict::NoUsableCode, state);
    } else if matches {
        code.used = true;
        claimed.wrong_since_sign_in = 0;
        // This sign-in is by email: post-authentication may take it as proof of the address.
        claimed.passkey_signed_in_at = None;
        Verdict::Correct
    } else {
        code.wrong += 1;
        claimed.wrong_since_sign_in = claimed.wrong_since_sign_in.saturating_add(1);
        let killed = (code.wrong >= limits.max_wrong_answers_per_code)
            .then(|| claimed.wrong_since_sign_in / limits.max_wrong_answers_per_code);
        Verdict::Wrong { killed }
    };
    (verdict, claimed)
}

#[cfg(test)]
mod tests;
