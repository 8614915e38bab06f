//! `mail-feedback`: SES's events about the emails it accepted, from the configuration set's event
//! destination (EventBridge → SQS; see docs/decisions.md), applied to the product's state: each
//! email's delivery status (what `GET /login/status` answers the person waiting) and each
//! mailbox's suppression (a hard bounce or a complaint stops every producer from sending there).
//!
//! [`event`] reads the events in the shapes SES documents; [`apply`] is the use case over the
//! auth-state store; [`simulator`] plays SES's mailbox simulator for the local stack and tests.

pub mod apply;
pub mod event;
pub mod simulator;
