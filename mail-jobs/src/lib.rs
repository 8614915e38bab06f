//! `mail-jobs`: what an operator does with the mail pipeline's dead-letter queue. [`Dlq::scan`]
//! reads every message (and lets them go again), [`Row`] is what `dlq list` shows of one without
//! any secret, [`Dlq::replay`] moves jobs back to the mail queue, [`Dlq::purge`] deletes old ones.
//! [`suppression`] shows and clears suppressed addresses (the product's and SES's).

pub mod suppression;

use aws_sdk_sqs::Client;
use aws_sdk_sqs::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_sqs::types::{Message, MessageSystemAttributeName};
use chrono::{DateTime, Duration, Utc};
use mail_job::{MailContent, MailJob};
use serde_json::{Value, json};

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("{what} {url} does not exist (check the URL, the region and the account)")]
    NoSuchQueue { what: &'static str, url: String },
    #[error("{0}")]
    Sqs(String),
    #[error("{0}")]
    Usage(String),
}

fn sqs_error<E: ProvideErrorMetadata + std::error::Error + 'static, R: std::fmt::Debug>(
    what: &'static str,
    url: &str,
    e: SdkError<E, R>,
) -> CliError {
    match e.code() {
        Some("AWS.SimpleQueueService.NonExistentQueue" | "QueueDoesNotExist" | "NonExistentQueue") => {
            CliError::NoSuchQueue { what, url: url.to_string() }
        }
        _ => CliError::Sqs(format!("{what} {url}: {}", DisplayErrorContext(&e))),
    }
}

/// One dead-lettered message as read from the queue.
#[derive(Debug, Clone)]
pub struct DeadLetter {
    pub message_id: String,
    pub receipt_handle: String,
    pub body: String,
    pub sent_at: Option<DateTime<Utc>>,
    /// The mailer's reason (`mail_error`); none when the redrive policy moved it.
    pub error: Option<String>,
}

impl DeadLetter {
    fn from_message(m: &Message) -> DeadLetter {
        let sent_at = m
            .attributes()
            .and_then(|a| a.get(&MessageSystemAttributeName::SentTimestamp))
            .and_then(|t| t.parse::<i64>().ok())
            .and_then(DateTime::from_timestamp_millis);
        DeadLetter {
            message_id: m.message_id().unwrap_or_default().to_string(),
            receipt_handle: m.receipt_handle().unwrap_or_default().to_string(),
            body: m.body().unwrap_or_default().to_string(),
            sent_at,
            error: m
                .message_attributes()
                .and_then(|a| a.get("mail_error"))
                .and_then(|v| v.string_value())
                .map(str::to_string),
        }
    }

    pub fn job(&self) -> Option<MailJob> {
        MailJob::parse(&self.body).ok()
    }

    /// A login job whose link has expired: replaying it would only have the mailer drop it.
    pub fn is_expired_login(&self, now: DateTime<Utc>) -> bool {
        self.job().is_some_and(|j| matches!(j.content, MailContent::LoginLink(_)) && j.is_expired(now))
    }
}

/// What `dlq list` prints of a message: never the code, the link or the whole address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub id: String,
    pub template: String,
    pub locale: String,
    pub age: String,
    pub recipient: String,
    pub error: String,
}

/// `95s` → `1m35s`, `90000s` → `1d1h`.
pub fn human_age(age: Duration) -> String {
    let s = age.num_seconds().max(0);
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m{:02}s", s / 60, s % 60),
        3600..86400 => format!("{}h{:02}m", s / 3600, s % 3600 / 60),
        _ => format!("{}d{}h", s / 86400, s % 86400 / 3600),
    }
}

impl Row {
    pub fn of(letter: &DeadLetter, now: DateTime<Utc>) -> Row {
        let job = letter.job();
        Row {
            id: job.as_ref().map_or(letter.message_id.clone(), |j| j.id.as_str().to_string()),
            template: job.as_ref().map_or("(unreadable)".into(), |j| j.content.template_name().to_string()),
            locale: job.as_ref().map_or("-".into(), |j| j.locale.to_string()),
            age: letter.sent_at.map_or("-".into(), |t| human_age(now - t)),
            recipient: job.as_ref().map_or("-".into(), |j| mail_job::mask_email(&j.to.email)),
            error: letter.error.clone().unwrap_or_else(|| "(redrive policy)".into()),
        }
    }
}

/// The job as `dlq show` prints it: secrets replaced, the address masked.
pub fn redacted(letter: &DeadLetter) -> Value {
    let mut shown = match serde_json::from_str::<Value>(&letter.body) {
        Ok(v) if v.is_object() => v,
        _ => json!({ "unreadable_body_bytes": letter.body.len() }),
    };
    for secret in ["code", "link"] {
        if let Some(v) = shown.pointer_mut(&format!("/data/{secret}")) {
            *v = json!("(redacted)");
        }
    }
    if let Some(v) = shown.pointer_mut("/to/email") {
        *v = json!(mail_job::mask_email(v.as_str().unwrap_or("")));
    }
    json!({
        "message_id": letter.message_id,
        "sent_at": letter.sent_at,
        "error": letter.error,
        "job": shown,
    })
}

/// `30s`, `15m`, `12h`, `7d`.
pub fn parse_duration(text: &str) -> Result<Duration, CliError> {
    let bad = || CliError::Usage(format!("{text:?} is not a duration such as 30m, 12h or 7d"));
    let (number, unit) = text.trim().split_at(text.trim().len().saturating_sub(1));
    let n: i64 = number.parse().map_err(|_| bad())?;
    match unit {
        "s" => Ok(Duration::seconds(n)),
        "m" => Ok(Duration::minutes(n)),
        "h" => Ok(Duration::hours(n)),
        "d" => Ok(Duration::days(n)),
        _ => Err(bad()),
    }
}

pub struct Dlq {
    pub client: Client,
    pub url: String,
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Replayed {
    pub moved: usize,
    pub skipped_expired: usize,
}

impl Dlq {
    /// Reads every message (up to `limit`), keeping each invisible while reading so none is read
    /// twice, then lets them all go again. `progress` hears the count as it grows.
    pub async fn scan(&self, limit: usize, mut progress: impl FnMut(usize)) -> Result<Vec<DeadLetter>, CliError> {
        let mut all: Vec<DeadLetter> = Vec::new();
        while all.len() < limit {
            let out = self
                .client
                .receive_message()
                .queue_url(&self.url)
                .max_number_of_messages(10)
                .visibility_timeout(60)
                .message_system_attribute_names(MessageSystemAttributeName::All)
                .message_attribute_names("All")
                .send()
                .await
                .map_err(|e| sqs_error("the dead-letter queue", &self.url, e))?;
            let batch = out.messages.unwrap_or_default();
            if batch.is_empty() {
                break;
            }
            all.extend(batch.iter().map(DeadLetter::from_message));
            progress(all.len());
        }
        self.release(&all).await;
        Ok(all)
    }

    async fn release(&self, letters: &[DeadLetter]) {
        for l in letters {
            let _ = self
                .client
                .change_message_visibility()
                .queue_url(&self.url)
                .receipt_handle(&l.receipt_handle)
                .visibility_timeout(0)
                .send()
                .await;
        }
    }

    async fn delete(&self, letter: &DeadLetter) -> Result<(), CliError> {
        self.client
            .delete_message()
            .queue_url(&self.url)
            .receipt_handle(&letter.receipt_handle)
            .send()
            .await
            .map(drop)
            .map_err(|e| sqs_error("the dead-letter queue", &self.url, e))
    }

    /// Moves jobs back to the mail queue (send, then delete here), skipping expired login jobs
    /// unless `force`. Running it again moves nothing twice: what moved is gone from here.
    pub async fn replay(
        &self,
        queue_url: &str,
        force: bool,
        now: DateTime<Utc>,
        mut progress: impl FnMut(usize),
    ) -> Result<Replayed, CliError> {
        let letters = self.scan(usize::MAX, |_| {}).await?;
        let mut result = Replayed::default();
        for letter in &letters {
            if !force && letter.is_expired_login(now) {
                result.skipped_expired += 1;
                continue;
            }
            self.client
                .send_message()
                .queue_url(queue_url)
                .message_body(&letter.body)
                .send()
                .await
                .map_err(|e| sqs_error("the mail queue", queue_url, e))?;
            self.delete(letter).await?;
            result.moved += 1;
            progress(result.moved);
        }
        Ok(result)
    }

    /// Deletes the messages that entered the queue more than `older_than` ago.
    pub async fn purge(&self, older_than: Duration, now: DateTime<Utc>) -> Result<usize, CliError> {
        let letters = self.scan(usize::MAX, |_| {}).await?;
        let mut purged = 0;
        for letter in letters.iter().filter(|l| l.sent_at.is_some_and(|t| now - t > older_than)) {
            self.delete(letter).await?;
            purged += 1;
        }
        Ok(purged)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn letter(body: &str) -> DeadLetter {
        DeadLetter {
            message_id: "m1".into(),
            receipt_handle: "r".into(),
            body: body.into(),
            sent_at: Some("2026-11-25T18:00:00Z".parse().unwrap()),
            error: Some("SES MessageRejected (HTTP 400, request id r)".into()),
        }
    }

    #[test]
    fn rows_and_shown_jobs_hold_no_secret() {
        let l = letter(&mail_job::read_fixture("login_link.json"));
        let now: DateTime<Utc> = "2026-11-25T19:30:05Z".parse().unwrap();
        let row = Row::of(&l, now);
        assert_eq!(
            (row.template.as_str(), row.recipient.as_str(), row.age.as_str()),
            ("login_link", "a***@example.com", "1h30m")
        );
        let shown = redacted(&l).to_string();
        let job = l.job().unwrap();
        let MailContent::LoginLink(data) = &job.content else { panic!() };
        for secret in [data.code.as_str(), data.link.as_str(), "alice@example.com"] {
            assert!(!shown.contains(secret) && !format!("{row:?}").contains(secret), "{secret}");
        }
        assert!(l.is_expired_login(now));
        let unreadable = Row::of(&letter("{oops"), now);
        assert_eq!((unreadable.id.as_str(), unreadable.template.as_str()), ("m1", "(unreadable)"));
    }

    #[test]
    fn durations_and_ages() {
        assert_eq!(parse_duration("7d").unwrap(), Duration::days(7));
        assert_eq!(parse_duration("90m").unwrap(), Duration::minutes(90));
        assert!(parse_duration("7 days").is_err());
        assert!(parse_duration("").is_err());
        assert_eq!(human_age(Duration::seconds(42)), "42s");
        assert_eq!(human_age(Duration::seconds(95)), "1m35s");
        assert_eq!(human_age(Duration::seconds(90_000)), "1d1h");
    }
}
