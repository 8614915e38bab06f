//! The mailbox budget and suppression against the store, as every producer of email uses them:
//! reserve a place before enqueueing (refused over the budget, never granted for a suppressed
//! mailbox), give it back when the email could not be enqueued.

use super::store::{AuthStateStore, StateKey, StoreError, update};
use super::{Limits, MailboxState, release_email, reserve_email};
use lambda_support::metrics::{Unit, emit};

/// What the mailbox says to one more email.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reserve {
    /// Counted: send it.
    Granted,
    /// The hourly budget is spent: wait this many seconds.
    Refused { retry_after: i64 },
    /// A hard bounce or a complaint suppressed this exact address (mail-feedback): send nothing
    /// until an operator removes the suppression. Nothing was counted.
    Undeliverable,
}

/// Counts one email to `mailbox` at `t` unless the exact address (`address_tag`) is suppressed or (only when `enforce`:
/// an address its user proved is counted, never refused) its hourly budget is spent. Refusals and
/// suppressed sends are counted in `AddressBudgetRefusals` and `EmailsSuppressed`.
pub async fn reserve<S: AuthStateStore>(
    store: &S,
    mailbox: &StateKey,
    address_tag: &str,
    t: i64,
    limits: &Limits,
    enforce: bool,
) -> Result<Reserve, StoreError> {
    let reserved = update(store, mailbox, |state: MailboxState| {
        if state.suppressed_for(address_tag).is_some() {
            return (Reserve::Undeliverable, state);
        }
        match reserve_email(state, t, limits, enforce) {
            (Ok(()), next) => (Reserve::Granted, next),
            (Err(retry_after), next) => (Reserve::Refused { retry_after }, next),
        }
    })
    .await?;
    match reserved {
        Reserve::Refused { retry_after } => {
            tracing::warn!(retry_after, "the mailbox's hourly email budget is spent");
            emit(&[], &[("AddressBudgetRefusals", Unit::Count, 1.0)]);
        }
        Reserve::Undeliverable => {
            tracing::warn!("the mailbox is suppressed (hard bounce or complaint): nothing is sent to it");
            emit(&[], &[("EmailsSuppressed", Unit::Count, 1.0)]);
        }
        Reserve::Granted => {}
    }
    Ok(reserved)
}

/// Takes back the email counted at `t` that was never enqueued. A failure only leaves the count
/// one too high until the hour is over, so it is logged, not returned.
pub async fn release<S: AuthStateStore>(store: &S, mailbox: &StateKey, t: i64) {
    if let Err(e) = update(store, mailbox, |state| release_email(state, t)).await {
        tracing::error!(error = %e, "the unsent email could not be taken off the mailbox's count");
    }
}
