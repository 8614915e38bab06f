use super::*;

fn fixture_job(name: &str) -> MailJob {
    MailJob::parse(&read_fixture(name)).expect("fixture parses")
}

#[test]
fn the_design_example_parses_into_typed_fields() {
    let job = fixture_job("login_link.json");
    assert_eq!(job.version, 1);
    assert_eq!(job.id.as_str(), "b1946ac92492d2347c6235b4d2611184");
    assert_eq!(job.locale.as_str(), "en");
    assert_eq!(job.to.email, "alice@example.com");
    assert_eq!(job.to.name.as_deref(), Some("alice"));
    let MailContent::LoginLink(data) = &job.content else { panic!("a login_link job") };
    assert_eq!(data.code, "482913");
    assert_eq!(data.username, "alice");
    assert!(data.link.ends_with("code=482913"));
    assert_eq!(job.expires_at.unwrap().to_rfc3339(), "2026-11-25T18:03:00+00:00");
}

#[test]
fn serialising_gives_back_the_wire_shape() {
    let original: serde_json::Value = serde_json::from_str(&read_fixture("login_link.json")).unwrap();
    let job = fixture_job("login_link.json");
    let reserialised: serde_json::Value = serde_json::from_str(&job.to_json()).unwrap();
    assert_eq!(reserialised, original);
}

#[test]
fn unknown_additive_fields_are_ignored() {
    let job = fixture_job("login_link_unicode.json");
    assert_eq!(job.locale.as_str(), "de");
    assert_eq!(job.to.name.as_deref(), Some("Zoë+test&x=1"));
}

#[test]
fn every_invalid_fixture_is_rejected_with_the_right_reason() {
    assert!(matches!(
        MailJob::parse(&read_fixture("invalid/unsupported_version.json")),
        Err(ParseError::UnsupportedVersion(2))
    ));
    assert!(matches!(MailJob::parse(&read_fixture("invalid/not_json.txt")), Err(ParseError::NotAJob(_))));
    assert!(matches!(MailJob::parse(&read_fixture("invalid/not_an_object.json")), Err(ParseError::NotAJob(_))));
    let unknown = MailJob::parse(&read_fixture("invalid/unknown_template.json")).unwrap_err();
    assert!(matches!(unknown, ParseError::Invalid(_)));
    assert!(unknown.to_string().contains("password_reset"), "{unknown}");
    let missing = MailJob::parse(&read_fixture("invalid/missing_code.json")).unwrap_err();
    assert!(missing.to_string().contains("code"), "{missing}");
}

#[test]
fn every_fixture_file_is_covered_by_a_test() {
    // A fixture added without a test would be a promise nobody checks.
    let mut names: Vec<String> = Vec::new();
    for dir in ["", "invalid/"] {
        for entry in std::fs::read_dir(format!("{FIXTURES_DIR}/{dir}")).unwrap() {
            let entry = entry.unwrap();
            if entry.file_type().unwrap().is_file() {
                names.push(format!("{dir}{}", entry.file_name().to_string_lossy()));
            }
        }
    }
    names.sort();
    assert_eq!(
        names,
        [
            "invalid/missing_code.json",
            "invalid/not_an_object.json",
            "invalid/not_json.txt",
            "invalid/unknown_template.json",
            "invalid/unsupported_version.json",
            "login_link.json",
            "login_link_unicode.json",
            "passkey_added.json",
            "passkey_removed.json",
            "welcome.json",
        ]
    );
}

#[test]
fn expiry_is_inclusive_of_the_deadline() {
    let job = fixture_job("login_link.json");
    let deadline = job.expires_at.unwrap();
    assert!(!job.is_expired(deadline - chrono::Duration::seconds(1)));
    assert!(job.is_expired(deadline));
}

#[test]
fn debug_output_never_holds_the_code_link_or_address() {
    let job = fixture_job("login_link.json");
    let debug = format!("{job:?}");
    assert!(!debug.contains("482913"), "{debug}");
    assert!(!debug.contains("verify-login"), "{debug}");
    assert!(!debug.contains("alice@example.com"), "{debug}");
    assert!(debug.contains("a***@example.com"), "{debug}");
}

#[test]
fn job_ids_are_32_hex_digits_and_unique() {
    let ids: std::collections::HashSet<String> = (0..1000).map(|_| JobId::random().to_string()).collect();
    assert_eq!(ids.len(), 1000);
    assert!(
        ids.iter().all(|id| id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()))
    );
}

#[test]
fn masking_keeps_only_the_first_character_and_domain() {
    assert_eq!(mask_email("alice@example.com"), "a***@example.com");
    assert_eq!(mask_email("Zoë@exämple.de"), "Z***@exämple.de");
    assert_eq!(mask_email("not-an-address"), "***");
    assert_eq!(mask_email("@example.com"), "***");
    assert_eq!(mask_email("a@"), "***");
}

#[test]
fn locales_are_normalised_or_fall_back_to_en() {
    assert_eq!(Locale::from_attribute(Some("de")).as_str(), "de");
    assert_eq!(Locale::from_attribute(Some("pt_BR")).as_str(), "pt-br");
    assert_eq!(Locale::from_attribute(Some(" FR ")).as_str(), "fr");
    assert_eq!(Locale::from_attribute(Some("pt-BR")).language(), "pt");
    for bad in ["", "e", "english!", "../../etc", "en-<script>", "x-this-is-way-too-long-for-a-tag-really"] {
        assert_eq!(Locale::from_attribute(Some(bad)).as_str(), "en", "{bad}");
    }
    assert_eq!(Locale::from_attribute(None).as_str(), "en");
}

#[test]
fn a_locale_on_the_wire_is_normalised_when_read() {
    let body = read_fixture("login_link.json").replace("\"locale\": \"en\"", "\"locale\": \"<b>\"");
    assert_eq!(MailJob::parse(&body).unwrap().locale.as_str(), "en");
}

#[test]
fn the_passkey_notices_parse_and_round_trip() {
    for (name, template) in [("passkey_added.json", "passkey_added"), ("passkey_removed.json", "passkey_removed")] {
        let job = fixture_job(name);
        assert_eq!(job.content.template_name(), template);
        let (MailContent::PasskeyAdded(data) | MailContent::PasskeyRemoved(data)) = &job.content else {
            panic!("a passkey notice")
        };
        assert_eq!(data.account_url, "https://app.example.com/account");
        let original: serde_json::Value = serde_json::from_str(&read_fixture(name)).unwrap();
        assert_eq!(serde_json::from_str::<serde_json::Value>(&job.to_json()).unwrap(), original);
    }
}

#[test]
fn the_welcome_job_parses_without_an_expiry() {
    let job = fixture_job("welcome.json");
    assert_eq!(job.content.template_name(), "welcome");
    assert_eq!(job.expires_at, None);
    assert!(!job.is_expired(chrono::Utc::now()));
    let MailContent::Welcome(data) = &job.content else { panic!("a welcome job") };
    assert_eq!(data.sign_in_url, "https://app.example.com/login");
}
