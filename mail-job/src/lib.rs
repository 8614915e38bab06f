//! The mail job, version 1: the contract between the producers of email (the Cognito triggers) and
//! the consumer (the mailer). One JSON object per SQS message body; see `docs/mail-job.md` and
//! `mail-job/schema/mail-job.v1.schema.json`. The fixture files under `mail-job/fixtures/` are the
//! shared examples both sides are tested against.
//!
//! Compatibility rule: within version 1, fields may only be *added*, and consumers ignore fields
//! they do not know. Anything else (a field removed, renamed or re-typed) is version 2.

pub mod address;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

mod locale;
pub use locale::Locale;

/// The only version this crate reads and writes.
pub const VERSION: u32 = 1;

/// A job for the mailer: who gets which email, with which data, until when it is worth sending.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailJob {
    pub version: u32,
    pub id: JobId,
    #[serde(flatten)]
    pub content: MailContent,
    pub locale: Locale,
    pub to: Recipient,
    pub created_at: DateTime<Utc>,
    /// After this instant the email is useless (a login link that has expired) and is not sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
    /// Added in version 1 by issue 17 (optional, so older producers and consumers are unaffected):
    /// the id the email's delivery status is kept under. The mailer tags the SES message with it
    /// (`delivery`), so SES's events find the sign-in that waits for this email.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery: Option<DeliveryId>,
}

/// A delivery id: 32 lowercase hex digits (128 random bits), safe as an SES message tag value.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DeliveryId(String);

impl DeliveryId {
    pub fn random() -> Self {
        DeliveryId(JobId::random().0)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for DeliveryId {
    type Error = String;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        let ok = value.len() == 32 && value.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if ok { Ok(DeliveryId(value)) } else { Err("a delivery id is 32 lowercase hex digits".into()) }
    }
}

impl From<DeliveryId> for String {
    fn from(id: DeliveryId) -> String {
        id.0
    }
}

/// `template` selects the shape of `data`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "template", content = "data", rename_all = "snake_case")]
pub enum MailContent {
    LoginLink(LoginLinkData),
    Welcome(WelcomeData),
    /// Added within version 1 (issue 18): a passkey was added to the account.
    PasskeyAdded(PasskeyChangeData),
    /// Added within version 1 (issue 18): a passkey was removed from the account.
    PasskeyRemoved(PasskeyChangeData),
}

impl MailContent {
    /// Every template name this version knows (as on the wire).
    pub const TEMPLATE_NAMES: [&'static str; 4] = ["login_link", "welcome", "passkey_added", "passkey_removed"];

    /// The template name as it appears on the wire (`template`), for logs and tags.
    pub fn template_name(&self) -> &'static str {
        match self {
            MailContent::LoginLink(_) => "login_link",
            MailContent::Welcome(_) => "welcome",
            MailContent::PasskeyAdded(_) => "passkey_added",
            MailContent::PasskeyRemoved(_) => "passkey_removed",
        }
    }
}

/// Data of the `login_link` email: the one-time code and the link that carries it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginLinkData {
    pub username: String,
    pub code: String,
    pub link: String,
}

// The code and the link are secrets: a `{:?}` of a job must never print them.
impl fmt::Debug for LoginLinkData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoginLinkData")
            .field("username", &self.username)
            .field("code", &"<redacted>")
            .field("link", &"<redacted>")
            .finish()
    }
}

/// Data of the `welcome` email, sent once after sign-up: where and with which username to sign in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WelcomeData {
    pub username: String,
    pub sign_in_url: String,
}

/// Data of the `passkey_added` and `passkey_removed` emails: a security notice to the account's
/// address, naming the passkey, with the page where the user reviews their passkeys. The time is
/// the job's `created_at`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasskeyChangeData {
    pub username: String,
    pub passkey_name: String,
    pub account_url: String,
}

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recipient {
    pub email: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl fmt::Debug for Recipient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Recipient").field("email", &mask_email(&self.email)).field("name", &self.name).finish()
    }
}

/// A random job id: 128 bits from the OS CSPRNG, as 32 lowercase hex digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct JobId(String);

impl JobId {
    pub fn random() -> Self {
        let bytes: [u8; 16] = rand::random();
        JobId(bytes.iter().map(|b| format!("{b:02x}")).collect())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why a message body is not a job this version can handle. Every variant is permanent: the same
/// body will never parse, so the consumer sends it to the dead-letter queue.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    #[error("mail job is not a JSON object with a numeric `version`: {0}")]
    NotAJob(serde_json::Error),
    #[error("unsupported mail job version {0} (this build reads version {VERSION})")]
    UnsupportedVersion(u64),
    #[error("invalid version-1 mail job: {0}")]
    Invalid(serde_json::Error),
}

impl MailJob {
    /// Parses one SQS message body. The version is checked before the rest, so a job of a future
    /// version is reported as such rather than as a confusing field error.
    pub fn parse(body: &str) -> Result<MailJob, ParseError> {
        #[derive(Deserialize)]
        struct Probe {
            version: u64,
        }
        let probe: Probe = serde_json::from_str(body).map_err(ParseError::NotAJob)?;
        if probe.version != u64::from(VERSION) {
            return Err(ParseError::UnsupportedVersion(probe.version));
        }
        serde_json::from_str(body).map_err(ParseError::Invalid)
    }

    pub fn to_json(&self) -> String {
        // Serialising plain strings, numbers and timestamps into a String cannot fail.
        serde_json::to_string(self).expect("a mail job always serialises")
    }

    pub fn is_expired(&self, now: DateTime<Utc>) -> bool {
        self.expires_at.is_some_and(|t| now >= t)
    }
}

/// Masks an address for display and logs: `alice@example.com` → `a***@example.com`. Something
/// that is not an address masks to `***`, so a malformed value is never echoed back in full.
pub fn mask_email(email: &str) -> String {
    match email.rsplit_once('@') {
        Some((local, domain)) if !local.is_empty() && !domain.is_empty() => {
            let first = local.chars().next().expect("local part is non-empty");
            format!("{first}***@{domain}")
        }
        _ => "***".to_string(),
    }
}

#[cfg(test)]
mod tests;

/// Where the shared fixture files live, for the tests of every crate that speaks this contract.
pub const FIXTURES_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures");

/// Reads a fixture file by its path relative to [`FIXTURES_DIR`] (test helper; panics if missing).
pub fn read_fixture(name: &str) -> String {
    let path = format!("{FIXTURES_DIR}/{name}");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("fixture {path}: {e}"))
}
