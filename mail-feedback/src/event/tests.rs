use super::*;

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!("{}/fixtures/{name}.json", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

#[test]
fn every_documented_record_reads_as_what_it_means() {
    let cases = [
        ("send", Kind::Sent, "ann@example.com"),
        ("delivery", Kind::Delivered, "ann@example.com"),
        ("delivery_delay", Kind::Delayed, "slow@example.com"),
        ("bounce_permanent", Kind::HardBounce { sub_type: "General".into() }, "gone@example.com"),
        ("bounce_transient", Kind::SoftBounce, "full@example.com"),
        ("complaint", Kind::Complaint, "angry@example.com"),
        ("reject", Kind::Refused { reason: "rejected" }, "ann@example.com"),
        ("eventbridge_bounce", Kind::HardBounce { sub_type: "General".into() }, "gone@example.com"),
        ("sns_complaint", Kind::Complaint, "angry@example.com"),
    ];
    for (name, kind, recipient) in cases {
        let feedback = parse(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(feedback.kind, kind, "{name}");
        assert_eq!(feedback.recipients, [recipient], "{name}");
        assert_eq!(feedback.delivery.as_deref(), Some("0123456789abcdef0123456789abcdef"), "{name}");
        assert_eq!(feedback.template, "login_link", "{name}");
    }
    let bounce = parse(&fixture("bounce_permanent")).unwrap();
    assert_eq!(bounce.at.to_rfc3339(), "2026-11-30T10:00:02.669+00:00", "the event's own time, not the email's");
}

#[test]
fn what_is_not_a_record_is_malformed_and_says_why_without_the_address() {
    let broken = parse(&fixture("malformed")).unwrap_err();
    assert!(broken.0.contains("Bounce without bounce"), "{broken}");
    assert!(!broken.to_string().contains("x@example.com"));
    for body in ["", "[]", "{}", r#"{"eventType": "Send"}"#, r#"{"detail-type": "Email Sent", "detail": {}}"#] {
        assert!(parse(body).is_err(), "{body}");
    }
    let open = r#"{"eventType": "Open", "mail": {"timestamp": "2026-11-30T10:00:00Z", "destination": []}}"#;
    assert_eq!(parse(open).unwrap().kind, Kind::Ignored("Open".into()));
}
