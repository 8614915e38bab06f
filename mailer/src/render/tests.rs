use super::*;
use mail_job::read_fixture;

fn job(locale: &str) -> MailJob {
    let mut job = MailJob::parse(&read_fixture("login_link.json")).unwrap();
    job.locale = mail_job::Locale::from_attribute(Some(locale));
    job
}

fn with_name(name: &str) -> MailJob {
    let mut job = job("en");
    job.to.name = Some(name.to_string());
    job
}

#[test]
fn every_locale_renders_with_a_matching_lang_and_all_parts() {
    let fallbacks = [("pt-br", "en"), ("de-at", "de"), ("fr_CA", "fr")];
    let cases = crate::locales::available().into_iter().map(|l| (l, l)).chain(fallbacks);
    for (locale, expected) in cases {
        let email = render(&job(locale), "Acme").unwrap();
        assert_eq!(email.locale, expected);
        assert!(email.html.contains(&format!("<html lang=\"{expected}\"")), "{locale}");
        assert!(!email.subject.is_empty() && !email.preheader.is_empty() && !email.text.is_empty());
        assert!(email.html.contains(&email.preheader), "{locale}: preheader in the hidden block");
        assert!(!email.html.contains('{') || !email.html.contains("{app}"), "{locale}: unfilled placeholder");
        assert!(!email.text.contains("{app}") && !email.text.contains("{minutes}"), "{locale}");
    }
}

#[test]
fn link_and_code_are_in_both_parts() {
    let email = render(&job("en"), "Acme").unwrap();
    let link = "https://app.example.com/verify-login#v=2&username=alice&code=482913";
    assert!(email.text.contains(link), "{}", email.text);
    assert!(email.text.contains("482 913"));
    for (code, shown) in [
        ("12345678", "1234 5678"),
        ("1234567", "1234 567"),
        ("123456789", "123 456 789"),
        ("1234567890", "1234 567 890"),
    ] {
        assert_eq!(super::spaced(code), shown);
    }
    assert!(email.html.contains(&format!("href=\"{}\"", link.replace('&', "&#38;"))), "{}", email.html);
    assert!(email.html.contains(">482913</td>"));
}

#[test]
fn the_expiry_and_the_ignore_notice_are_stated() {
    let email = render(&job("en"), "Acme").unwrap();
    assert!(email.text.contains("expire in 3 minutes and work only once"), "{}", email.text);
    assert!(email.text.contains("If you didn't ask for this email"));
    let mut one = job("en");
    one.expires_at = Some(one.created_at + chrono::Duration::seconds(60));
    assert!(render(&one, "Acme").unwrap().text.contains("expire in 1 minute "));
    let mut open = job("en");
    open.expires_at = None;
    assert!(render(&open, "Acme").unwrap().text.contains("work only once"));
}

#[test]
fn data_is_escaped_in_html() {
    let email = render(&with_name("<script>alert(\"x\")</script> O'Neil"), "Acme & <Co>").unwrap();
    assert!(!email.html.contains("<script>"), "{}", email.html);
    assert!(email.html.contains("&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62; O&#39;Neil"), "{}", email.html);
    assert!(email.html.contains("Acme &#38; &#60;Co&#62;"));
}

#[test]
fn the_text_part_cannot_be_reshaped_by_a_name() {
    let email = render(&with_name("Eve\r\n\r\nClick https://evil.example now\n"), "Acme").unwrap();
    let first = email.text.lines().next().unwrap();
    assert_eq!(first, "Hi Eve Click https://evil.example now,");
}

#[test]
fn layout_tables_are_presentational_and_the_html_is_small() {
    let email = render(&job("de"), "Acme").unwrap();
    let tables = email.html.matches("<table").count();
    assert!(tables >= 3);
    assert_eq!(email.html.matches("<table role=\"presentation\"").count(), tables);
    assert!(email.html.contains("width=\"600\""));
    assert!(email.html.contains("name=\"color-scheme\""));
    assert!(email.html.len() < 100 * 1024, "Gmail clips at ~102 KB");
}

#[test]
fn jobs_that_would_make_a_dangerous_email_are_refused() {
    let mut js = job("en");
    let MailContent::LoginLink(data) = &mut js.content else { unreachable!() };
    data.link = "javascript:alert(1)".into();
    assert!(matches!(render(&js, "Acme"), Err(RenderError::UnsafeLink)));
    let mut bad_code = job("en");
    let MailContent::LoginLink(data) = &mut bad_code.content else { unreachable!() };
    data.code = "12<b>".into();
    assert!(matches!(render(&bad_code, "Acme"), Err(RenderError::BadCode)));
}

#[test]
fn the_welcome_email_renders_in_every_locale_with_its_essentials() {
    for locale in crate::locales::available() {
        let mut job = MailJob::parse(&read_fixture("welcome.json")).unwrap();
        job.locale = mail_job::Locale::from_attribute(Some(locale));
        let email = render(&job, "Acme").unwrap();
        assert!(email.html.contains(&format!("<html lang=\"{locale}\"")));
        assert_eq!(email.essentials, ["https://app.example.com/login", "alice"]);
        for essential in &email.essentials {
            assert!(email.text.contains(essential.as_str()) && email.html.contains(essential.as_str()), "{locale}");
        }
        assert!(!email.subject.contains('{') && !email.text.contains("{app}"), "{locale}");
    }
}

#[test]
fn the_welcome_email_shows_the_whole_username_less_control_characters() {
    let long = format!("{}-{}", "a".repeat(100), "z".repeat(27));
    assert_eq!(long.chars().count(), 128, "Cognito's longest username");
    let mut job = MailJob::parse(&read_fixture("welcome.json")).unwrap();
    if let mail_job::MailContent::Welcome(d) = &mut job.content {
        d.username = format!("{long}\r\n\u{7}");
    }
    let email = render(&job, "Acme").unwrap();
    assert!(email.text.contains(&long) && email.html.contains(&long));
    assert_eq!(email.essentials[1], long);
    assert!(!email.text.contains('\u{7}'));
}

#[test]
fn passkey_notices_name_the_passkey_escaped_in_every_locale_and_refuse_unsafe_links() {
    for fixture in ["passkey_added.json", "passkey_removed.json"] {
        for locale in crate::locales::available() {
            let mut job = MailJob::parse(&read_fixture(fixture)).unwrap();
            job.locale = mail_job::Locale::from_attribute(Some(locale));
            let (MailContent::PasskeyAdded(data) | MailContent::PasskeyRemoved(data)) = &mut job.content else {
                panic!("a passkey notice")
            };
            data.passkey_name = "<b>Work</b> key".into();
            let email = render(&job, "Acme").unwrap();
            assert!(email.html.contains("&#60;b&#62;Work&#60;/b&#62; key"), "{fixture} {locale}: {}", email.html);
            assert!(!email.html.contains("<b>Work"), "{fixture} {locale}: escaped");
            assert!(email.text.contains("<b>Work</b> key") && email.text.contains("https://app.example.com/account"));
            assert!(email.text.contains("2026-11-25 18:00 UTC"), "{fixture} {locale}: when");
            for part in [&email.subject, &email.preheader, &email.text] {
                assert!(!part.contains("{passkey}") && !part.contains("{when}") && !part.contains("{app}"), "{part}");
            }
        }
        let mut job = MailJob::parse(&read_fixture(fixture)).unwrap();
        let (MailContent::PasskeyAdded(data) | MailContent::PasskeyRemoved(data)) = &mut job.content else {
            panic!("a passkey notice")
        };
        data.account_url = "javascript:alert(1)".into();
        assert!(matches!(render(&job, "Acme"), Err(RenderError::UnsafeLink)));
    }
}
