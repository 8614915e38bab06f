//! SES's mailbox simulator, played locally: for an email to one of its addresses, the events SES
//! documents for it, as event records (the shape [`crate::event`] reads) in the EventBridge
//! envelope the deployed rule forwards. Any other address is delivered (the local inbox took it).
//!
//! | address (any `+label` allowed) | events |
//! |---|---|
//! | `success@simulator.amazonses.com` | Send, Delivery |
//! | `bounce@…` | Send, Bounce (Permanent, General) |
//! | `ooto@…` | Send, Delivery (the out-of-office reply goes to the sender, not the product) |
//! | `complaint@…` | Send, Delivery, Complaint |
//! | `suppressionlist@…` | Send, Bounce (Permanent, OnAccountSuppressionList) |

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use serde_json::{Value, json};

pub const DOMAIN: &str = "simulator.amazonses.com";

/// The email as SES accepted it: what every event record repeats in `mail`.
pub struct Sent<'a> {
    pub message_id: &'a str,
    pub from: &'a str,
    /// As the mailer addressed it (`"Name" <address>`, or the bare address).
    pub to: &'a str,
    /// The message tags (the mailer's `template`, `locale`, `delivery`).
    pub tags: &'a [(String, String)],
    pub configuration_set: Option<&'a str>,
    pub at: DateTime<Utc>,
}

/// The events SES would publish for this email, oldest first, each an EventBridge event.
pub fn events(sent: &Sent<'_>) -> Vec<Value> {
    let address = crate::event::bare_address(sent.to);
    let (local, domain) = address.rsplit_once('@').unwrap_or((address, ""));
    let scenario = if domain.eq_ignore_ascii_case(DOMAIN) {
        local.split('+').next().unwrap_or_default().to_ascii_lowercase()
    } else {
        "success".to_string()
    };
    let stamp =
        |after_ms: i64| (sent.at + Duration::milliseconds(after_ms)).to_rfc3339_opts(SecondsFormat::Millis, true);
    let recipient = json!([{ "emailAddress": address }]);
    let delivery = || {
        record(
            "Delivery",
            sent,
            "delivery",
            json!({
                "timestamp": stamp(800),
                "processingTimeMillis": 800,
                "recipients": [address],
                "smtpResponse": "250 2.6.0 Message received",
                "reportingMTA": "local-stack.simulator",
            }),
        )
    };
    let bounce = |sub_type: &str| {
        record(
            "Bounce",
            sent,
            "bounce",
            json!({
                "bounceType": "Permanent",
                "bounceSubType": sub_type,
                "bouncedRecipients": [{ "emailAddress": address, "action": "failed", "status": "5.1.1",
                    "diagnosticCode": "smtp; 550 5.1.1 user unknown" }],
                "timestamp": stamp(600),
                "feedbackId": format!("{}-bounce", sent.message_id),
                "reportingMTA": "dsn; local-stack.simulator",
            }),
        )
    };
    let mut out = vec![record("Send", sent, "send", json!({}))];
    match scenario.as_str() {
        "bounce" => out.push(bounce("General")),
        "suppressionlist" => out.push(bounce("OnAccountSuppressionList")),
        "complaint" => {
            out.push(delivery());
            out.push(record(
                "Complaint",
                sent,
                "complaint",
                json!({
                    "complainedRecipients": recipient,
                    "timestamp": stamp(2000),
                    "feedbackId": format!("{}-complaint", sent.message_id),
                    "complaintFeedbackType": "abuse",
                }),
            ));
        }
        // success, ooto, and every address outside the simulator.
        _ => out.push(delivery()),
    }
    out
}

fn record(event_type: &str, sent: &Sent<'_>, section: &str, body: Value) -> Value {
    let mut tags = serde_json::Map::new();
    if let Some(set) = sent.configuration_set {
        tags.insert("ses:configuration-set".into(), json!([set]));
    }
    for (k, v) in sent.tags {
        tags.insert(k.clone(), json!([v]));
    }
    let mut detail = json!({
        "eventType": event_type,
        "mail": {
            "timestamp": sent.at.to_rfc3339_opts(SecondsFormat::Millis, true),
            "source": sent.from,
            "messageId": sent.message_id,
            "destination": [sent.to],
            "headersTruncated": false,
            "tags": tags,
        },
    });
    detail[section] = body;
    let detail_type = match event_type {
        "Send" => "Email Sent",
        "Delivery" => "Email Delivered",
        "Bounce" => "Email Bounced",
        "Complaint" => "Email Complaint Received",
        other => other,
    };
    json!({
        "version": "0",
        "id": format!("{}-{}", sent.message_id, event_type.to_ascii_lowercase()),
        "detail-type": detail_type,
        "source": "aws.ses",
        "account": "000000000000",
        "time": sent.at.to_rfc3339_opts(SecondsFormat::Secs, true),
        "region": "us-east-1",
        "resources": [],
        "detail": detail,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Kind, parse};

    fn kinds(to: &str) -> Vec<Kind> {
        let tags = [("delivery".to_string(), "0123456789abcdef0123456789abcdef".to_string())];
        let sent =
            Sent { message_id: "m1", from: "a@b.c", to, tags: &tags, configuration_set: Some("set"), at: Utc::now() };
        events(&sent).iter().map(|e| parse(&e.to_string()).unwrap().kind).collect()
    }

    #[test]
    fn each_simulator_address_produces_the_events_ses_documents_and_the_reader_reads_them() {
        let hard = |s: &str| Kind::HardBounce { sub_type: s.into() };
        assert_eq!(kinds("success@simulator.amazonses.com"), [Kind::Sent, Kind::Delivered]);
        assert_eq!(kinds("bounce@simulator.amazonses.com"), [Kind::Sent, hard("General")]);
        assert_eq!(kinds("BOUNCE+x@Simulator.AmazonSES.com"), [Kind::Sent, hard("General")]);
        assert_eq!(kinds("ooto@simulator.amazonses.com"), [Kind::Sent, Kind::Delivered]);
        assert_eq!(kinds("complaint@simulator.amazonses.com"), [Kind::Sent, Kind::Delivered, Kind::Complaint]);
        assert_eq!(kinds("suppressionlist@simulator.amazonses.com"), [Kind::Sent, hard("OnAccountSuppressionList")]);
        assert_eq!(kinds("ann@example.com"), [Kind::Sent, Kind::Delivered]);
        assert_eq!(
            kinds("\"Bo\" <bounce@simulator.amazonses.com>"),
            [Kind::Sent, hard("General")],
            "as the mailer addresses it"
        );
    }
}
