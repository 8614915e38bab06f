//! The mailbox budget against the store, as every producer of email uses it: reserve a place
//! before enqueueing (a refusal is counted in `AddressBudgetRefusals`), give it back when the
//! email could not be enqueued.

use super::store::{AuthStateStore, StateKey, StoreError, update};
use super::{Limits, release_email, reserve_email};
use lambda_support::metrics::{Unit, emit};

/// Counts one email to `mailbox` at `t`: `Ok(Err(retry_after))` when its hourly budget refuses
/// (only when `enforce`: an address its user proved is counted, never refused).
pub async fn reserve<S: AuthStateStore>(
    store: &S,
    mailbox: &StateKey,
    t: i64,
    limits: &Limits,
    enforce: bool,
) -> Result<Result<(), i64>, StoreError> {
    let reserved = update(store, mailbox, |state| reserve_email(state, t, limits, enforce)).await?;
    if let Err(retry_after) = reserved {
        tracing::warn!(retry_after, "the mailbox's hourly email budget is spent");
        emit(&[], &[("AddressBudgetRefusals", Unit::Count, 1.0)]);
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
