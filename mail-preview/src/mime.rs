//! The raw MIME message (RFC 5322 + 2045/2046/2047) for the `.eml` download: what a mail client
//! would receive for this email, close to what SES builds from Simple content.

use base64::Engine;
use mailer::address::encode_rfc2047;
use mailer::send::OutgoingEmail;

pub fn to_eml(email: &OutgoingEmail, date: chrono::DateTime<chrono::Utc>, boundary: &str) -> String {
    let subject = if email.subject.is_ascii() { email.subject.clone() } else { encode_rfc2047(&email.subject) };
    let tags: Vec<String> = email.tags.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let mut out = String::new();
    let mut header = |name: &str, value: &str| out.push_str(&format!("{name}: {value}\r\n"));
    header("From", &email.from);
    header("To", &email.to.to_header());
    header("Subject", &subject);
    header("Date", &date.to_rfc2822());
    header("MIME-Version", "1.0");
    if let Some(set) = &email.configuration_set {
        header("X-SES-CONFIGURATION-SET", set);
    }
    header("X-SES-MESSAGE-TAGS", &tags.join(", "));
    header("Content-Type", &format!("multipart/alternative; boundary=\"{boundary}\""));
    out.push_str("\r\n");
    for (mime, body) in [("text/plain", &email.text), ("text/html", &email.html)] {
        out.push_str(&format!(
            "--{boundary}\r\nContent-Type: {mime}; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        ));
        let encoded = base64::engine::general_purpose::STANDARD.encode(body.as_bytes());
        for line in encoded.as_bytes().chunks(76) {
            out.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
            out.push_str("\r\n");
        }
    }
    out.push_str(&format!("--{boundary}--\r\n"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{default_root, preview_config, samples};

    #[test]
    fn the_eml_has_headers_and_both_parts() {
        let sample = samples(&default_root()).unwrap().into_iter().find(|s| s.template == "login_link").unwrap();
        let composed = crate::catalog::compose_sample(&preview_config(), &sample, "de").unwrap();
        let date = "2026-11-25T18:00:00Z".parse().unwrap();
        let eml = to_eml(&composed.email, date, "b0undary");
        assert!(eml.starts_with("From: \"Acme\" <no-reply@acme.example>\r\nTo: "));
        assert!(eml.contains("Subject: Bei Acme anmelden\r\n"));
        assert!(eml.contains("Date: Wed, 25 Nov 2026 18:00:00 +0000\r\n"));
        assert!(
            eml.contains("Content-Type: text/plain; charset=UTF-8")
                && eml.contains("Content-Type: text/html; charset=UTF-8")
        );
        assert!(eml.lines().all(|l| l.len() <= 998), "RFC 5322 line limit");
        assert!(eml.ends_with("--b0undary--\r\n"));
    }
}
