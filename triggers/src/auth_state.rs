//! Per-user sign-in state shared by every session (docs/threat-model.md): the one active code, the
//! emails of the last hour and the wrong answers against the code. The rules here are pure; the
//! store in [`store`] only loads and saves a [`UserState`] with a version check, so two Lambda
//! instances that race on the same user never both win.

pub mod store;

use crate::code::OneTimeCode;
use lambda_support::{ConfigError, Env};
use serde::{Deserialize, Serialize};

/// The limits, every one configurable (README, "Abuse limits").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// A resend is refused until the last email is this old (`RESEND_AFTER_SECONDS`, 60).
    pub resend_after_seconds: i64,
    /// Emails per user in any 60-minute window, whatever the cause (`MAX_EMAILS_PER_HOUR`, 5).
    pub max_emails_per_hour: usize,
    /// Wrong answers, across all sessions, that kill a code (`MAX_WRONG_ANSWERS_PER_CODE`, 5).
    pub max_wrong_answers_per_code: u32,
}

pub const HOUR: i64 = 3600;

impl Default for Limits {
    fn default() -> Self {
        Limits { resend_after_seconds: 60, max_emails_per_hour: 5, max_wrong_answers_per_code: 5 }
    }
}

impl Limits {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let d = Limits::default();
        Ok(Limits {
            resend_after_seconds: env.integer_in("RESEND_AFTER_SECONDS", d.resend_after_seconds, 10..=3600)?,
            max_emails_per_hour: env.integer_in("MAX_EMAILS_PER_HOUR", d.max_emails_per_hour, 1..=60)?,
            max_wrong_answers_per_code: env.integer_in(
                "MAX_WRONG_ANSWERS_PER_CODE",
                d.max_wrong_answers_per_code,
                1..=10,
            )?,
        })
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

/// Everything the table holds for one user (or one unknown username: they get the same state).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserState {
    pub code: Option<ActiveCode>,
    /// When each email of the last hour went out (only the last hour is kept).
    #[serde(default)]
    pub emails: Vec<i64>,
}

impl UserState {
    /// When the item may be deleted: nothing in it matters after the last email's hour and the
    /// code's expiry have both passed.
    pub fn expires_at(&self) -> i64 {
        let code = self.code.as_ref().map_or(0, |c| c.expires_at);
        let email = self.emails.iter().max().map_or(0, |t| t + HOUR);
        code.max(email)
    }

    fn emails_in_last_hour(&self, now: i64) -> impl Iterator<Item = i64> + '_ {
        self.emails.iter().copied().filter(move |&t| t > now - HOUR)
    }

    /// Seconds until the hourly budget allows another email, or `None` if it allows one now.
    fn budget_wait(&self, now: i64, limits: &Limits) -> Option<i64> {
        let mut recent: Vec<i64> = self.emails_in_last_hour(now).collect();
        if recent.len() < limits.max_emails_per_hour {
            return None;
        }
        recent.sort_unstable();
        // The oldest email that must leave the window before one more fits.
        let oldest = recent[recent.len() - limits.max_emails_per_hour];
        Some((oldest + HOUR - now).max(1))
    }
}

/// Why a resend was not done (the active code stays, and keeps working).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResendRefused {
    /// The last email is younger than `RESEND_AFTER_SECONDS`.
    TooSoon { retry_after: i64 },
    /// The hourly email budget is spent.
    OverBudget { retry_after: i64 },
}

/// The outcome of a create-challenge round for this user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Start {
    /// Send this new code by email (it replaces any earlier one).
    Send(ActiveCode),
    /// The active code stays; no email. `refused` says why, when a resend was asked for.
    Reuse { code: ActiveCode, refused: Option<ResendRefused> },
    /// No usable code and no email budget left: the sign-in is refused for `retry_after` seconds.
    Refused { retry_after: i64 },
}

/// What a create round does: reuse the active code, replace it (new email), or refuse. `resend`
/// is the user's explicit request for a new email. `new_code` is only called when a code is sent.
/// Returns the outcome and the state to save (unchanged unless an email is sent).
pub fn start(
    mut state: UserState,
    now: i64,
    ttl_seconds: i64,
    limits: &Limits,
    resend: bool,
    new_code: impl FnOnce() -> OneTimeCode,
) -> (Start, UserState) {
    let usable = state.code.clone().filter(|c| c.usable(now, limits));
    let budget_wait = state.budget_wait(now, limits);
    let outcome = match (usable, resend, budget_wait) {
        (Some(code), false, _) => Start::Reuse { code, refused: None },
        (Some(code), true, _) if now - code.sent_at < limits.resend_after_seconds => {
            let retry_after = code.sent_at + limits.resend_after_seconds - now;
            Start::Reuse { code, refused: Some(ResendRefused::TooSoon { retry_after }) }
        }
        (Some(code), true, Some(retry_after)) => {
            Start::Reuse { code, refused: Some(ResendRefused::OverBudget { retry_after }) }
        }
        (None, _, Some(retry_after)) => Start::Refused { retry_after },
        (_, _, None) => {
            let code = ActiveCode {
                digits: new_code().as_str().to_string(),
                sent_at: now,
                expires_at: now + ttl_seconds,
                wrong: 0,
                used: false,
            };
            state.emails.retain(|&t| t > now - HOUR);
            state.emails.push(now);
            state.code = Some(code.clone());
            Start::Send(code)
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
        state.emails.retain(|&t| t != unsent.sent_at);
    }
    ((), state)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The answer is the active, usable code; it is now used (dead everywhere).
    Correct,
    /// A wrong answer against a usable code; it was counted.
    Wrong,
    /// There is no usable code (none, used, expired or worn out); nothing was counted.
    NoUsableCode,
}

/// Checks an answer against the user's active code. The comparison runs (in constant time) for
/// every answer, so a correct, a wrong and a dead-code answer cost the same.
pub fn answer(mut state: UserState, now: i64, answer: &str, limits: &Limits) -> (Verdict, UserState) {
    let Some(code) = state.code.as_mut() else {
        return (Verdict::NoUsableCode, state);
    };
    let matches = OneTimeCode::from_digits(&code.digits).is_some_and(|c| c.matches(answer));
    let verdict = if !code.usable(now, limits) {
        Verdict::NoUsableCode
    } else if matches {
        code.used = true;
        Verdict::Correct
    } else {
        code.wrong += 1;
        Verdict::Wrong
    };
    (verdict, state)
}

#[cfg(test)]
mod tests;
