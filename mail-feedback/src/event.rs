//! SES's event publishing records, as SES documents them, in the envelopes they reach the queue
//! in: an EventBridge event (`detail` holds the record: the deployed path), an SNS notification
//! (`Message` holds it as a string), or the record itself (SNS raw delivery, the simulator's
//! tests). Only what the product needs is read; everything else is ignored.

use chrono::{DateTime, Utc};
use serde_json::Value;

/// What one SES event means for the product.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// SES accepted the email (`Send`).
    Sent,
    /// The receiving server took it (`Delivery`).
    Delivered,
    /// Not yet taken (`DeliveryDelay`).
    Delayed,
    /// A transient (or undetermined) bounce: SES stopped trying; nothing suppressed.
    SoftBounce,
    /// A permanent bounce (`bounceSubType` kept: `General`, `NoEmail`, `Suppressed`, …).
    HardBounce { sub_type: String },
    /// The recipient marked it as spam (`Complaint`).
    Complaint,
    /// SES refused to send it (`Reject`: a virus), or could not render it (`Rendering Failure`).
    Refused { reason: &'static str },
    /// Opens, clicks, subscriptions: not tracked by the product.
    Ignored(String),
}

/// One event, reduced to what the product acts on. `recipients` are the addresses the event is
/// about (never logged).
#[derive(Clone, PartialEq, Eq)]
pub struct Feedback {
    pub kind: Kind,
    /// The addresses the email was sent to (`mail.destination`): an event only acts on these.
    pub destination: Vec<String>,
    /// The `delivery` tag the mailer put on the message (absent for a welcome email).
    pub delivery: Option<String>,
    /// The `template` tag, for the metrics.
    pub template: String,
    pub recipients: Vec<String>,
    pub at: DateTime<Utc>,
}

// Holds addresses: `{:?}` shows only the kind and template.
impl std::fmt::Debug for Feedback {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Feedback").field("kind", &self.kind).field("template", &self.template).finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an SES event record: {0}")]
pub struct Malformed(pub String);

/// Reads one SQS message body.
pub fn parse(body: &str) -> Result<Feedback, Malformed> {
    let value: Value = serde_json::from_str(body).map_err(|e| Malformed(format!("not JSON ({e})")))?;
    let record = unwrap_envelope(value)?;
    let kind_name = record
        .get("eventType")
        .or_else(|| record.get("notificationType"))
        .and_then(Value::as_str)
        .ok_or_else(|| Malformed("no eventType".into()))?
        .to_string();
    let mail = record.get("mail").filter(|m| m.is_object()).ok_or_else(|| Malformed("no mail object".into()))?;
    let tag = |name: &str| mail["tags"][name].get(0).and_then(Value::as_str).map(str::to_string);
    let addresses = |list: &Value| -> Vec<String> {
        list.as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| r.get("emailAddress").and_then(Value::as_str).or_else(|| r.as_str()))
            .map(|a| bare_address(a).to_string())
            .collect()
    };
    let destination = addresses(&mail["destination"]);
    // The recipients a bounce, a complaint or a delay is about: a non-empty list, or the record is
    // not what SES sends.
    let about = |section: &Value, list: &str, what: &str| -> Result<Vec<String>, Malformed> {
        let listed = section[list].as_array().filter(|l| !l.is_empty());
        let found = listed.map(|_| addresses(&section[list])).filter(|a| !a.is_empty());
        found.ok_or_else(|| Malformed(format!("{what} without {list}")))
    };
    let section = |name: &str| record.get(name).filter(|v| v.is_object());
    let (kind, recipients, stamped) = match kind_name.as_str() {
        "Send" => (Kind::Sent, destination.clone(), None),
        "Delivery" => {
            let d = section("delivery").ok_or_else(|| Malformed("Delivery without delivery".into()))?;
            let recipients = addresses(&d["recipients"]);
            (Kind::Delivered, if recipients.is_empty() { destination.clone() } else { recipients }, d.get("timestamp"))
        }
        "DeliveryDelay" => {
            let d = section("deliveryDelay").ok_or_else(|| Malformed("DeliveryDelay without deliveryDelay".into()))?;
            (Kind::Delayed, about(d, "delayedRecipients", "DeliveryDelay")?, d.get("timestamp"))
        }
        "Bounce" => {
            let b = section("bounce").ok_or_else(|| Malformed("Bounce without bounce".into()))?;
            let kind = match b.get("bounceType").and_then(Value::as_str) {
                Some("Permanent") => Kind::HardBounce {
                    sub_type: b.get("bounceSubType").and_then(Value::as_str).unwrap_or("General").to_string(),
                },
                Some("Transient" | "Undetermined") => Kind::SoftBounce,
                _ => return Err(Malformed("Bounce without a known bounceType".into())),
            };
            (kind, about(b, "bouncedRecipients", "Bounce")?, b.get("timestamp"))
        }
        "Complaint" => {
            let c = section("complaint").ok_or_else(|| Malformed("Complaint without complaint".into()))?;
            (Kind::Complaint, about(c, "complainedRecipients", "Complaint")?, c.get("timestamp"))
        }
        "Reject" => (Kind::Refused { reason: "rejected" }, destination.clone(), None),
        "Rendering Failure" => (Kind::Refused { reason: "rendering_failure" }, destination.clone(), None),
        other => (Kind::Ignored(other.chars().take(40).collect()), destination.clone(), None),
    };
    let at = stamped
        .or_else(|| mail.get("timestamp"))
        .and_then(Value::as_str)
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| Malformed("no timestamp".into()))?;
    // Only a template this version sends names a metric dimension or a log field.
    let template = tag("template")
        .filter(|t| mail_job::MailContent::TEMPLATE_NAMES.contains(&t.as_str()))
        .unwrap_or_else(|| "other".into());
    Ok(Feedback { kind, destination, delivery: tag("delivery"), template, recipients, at })
}

/// The address in `"Name" <address>` (SES echoes `destination` as the sender gave it, and the
/// mailer gives a display name), or the string itself.
pub fn bare_address(header: &str) -> &str {
    let header = header.trim();
    match (header.rfind('<'), header.ends_with('>')) {
        (Some(start), true) => &header[start + 1..header.len() - 1],
        _ => header,
    }
}

fn unwrap_envelope(value: Value) -> Result<Value, Malformed> {
    if let Some(detail) = value.get("detail").filter(|_| value.get("detail-type").is_some()) {
        return Ok(detail.clone());
    }
    if value.get("Type").and_then(Value::as_str) == Some("Notification") {
        let message =
            value.get("Message").and_then(Value::as_str).ok_or_else(|| Malformed("SNS without Message".into()))?;
        return serde_json::from_str(message).map_err(|e| Malformed(format!("SNS Message is not JSON ({e})")));
    }
    Ok(value)
}

#[cfg(test)]
mod tests;
