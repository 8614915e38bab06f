//! The port to the email provider, and the error that decides retry or dead-letter.

use crate::address::Mailbox;
use std::future::Future;

/// A fully rendered email, ready for the provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingEmail {
    pub from: String,
    pub to: Mailbox,
    pub subject: String,
    pub html: String,
    pub text: String,
    pub configuration_set: Option<String>,
    /// Name/value pairs for the provider's event stream: never personal data.
    pub tags: Vec<(String, String)>,
}

/// Transient: the same request may succeed later (throttling, 5xx, timeout, network).
/// Permanent: it never will (rejected message, bad address, missing identity).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    Transient,
    Permanent,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind:?} send failure: {message}")]
pub struct SendError {
    pub kind: Retry,
    pub message: String,
}

impl SendError {
    pub fn transient(message: impl Into<String>) -> Self {
        SendError { kind: Retry::Transient, message: message.into() }
    }

    pub fn permanent(message: impl Into<String>) -> Self {
        SendError { kind: Retry::Permanent, message: message.into() }
    }

    pub fn is_transient(&self) -> bool {
        self.kind == Retry::Transient
    }
}

pub trait EmailSender: Send + Sync {
    /// Sends one email; returns the provider's message id.
    fn send(&self, email: &OutgoingEmail) -> impl Future<Output = Result<String, SendError>> + Send;
}
