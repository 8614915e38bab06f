//! How the product decides that two spellings name the same account or the same mailbox. Every
//! limit is counted under one of these, so an attacker cannot multiply a budget by changing case,
//! adding a `+tag` or moving the dots of a Gmail address (docs/threat-model.md). And what an
//! attacker may put in a username or a name, which every email shows.

use mail_job::address::EmailAddress;

/// The username as the pool compares it: case-insensitively, Unicode-aware (`Émile`, `émile` and
/// `ÉMILE` are one account). The CDK pool sets `signInCaseSensitive: false`; local-cognito stores,
/// finds and compares names with this same function, and the auth state is keyed on it.
pub fn fold_username(username: &str) -> String {
    username.to_lowercase()
}

/// Providers where dots in the local part do not matter and `googlemail.com` is `gmail.com`.
const DOT_BLIND_DOMAINS: [&str; 2] = ["gmail.com", "googlemail.com"];

/// The mailbox an address delivers to, as far as the product can tell without asking the
/// provider, or `None` for an address the mailer could not send to at all. It starts from the
/// form the mailer delivers to ([`EmailAddress`]: ASCII, the domain in Punycode after IDNA
/// mapping, so `exa\u{ad}mple.com` and full-width letters are `example.com`), then lower-cases it,
/// drops a `+tag` (sub-addressing, which nearly every provider offers) and, at Gmail, the dots.
/// `Alice+x@Example.com` and `alice@example.com` are one mailbox. Only used to count emails per
/// mailbox; the address a mail is sent to is the mailer's business.
pub fn mailbox(address: &str) -> Option<String> {
    let delivered = EmailAddress::parse(address).ok()?;
    let lower = delivered.as_str().to_ascii_lowercase();
    let (local, domain) = lower.rsplit_once('@')?;
    let local = local.split('+').next().filter(|l| !l.is_empty())?;
    if DOT_BLIND_DOMAINS.contains(&domain) {
        return Some(format!("{}@gmail.com", local.replace('.', "")));
    }
    Some(format!("{local}@{domain}"))
}

/// The address exactly as the mailer delivers to it (IDNA-mapped domain in Punycode), lower-cased
/// (SES and its suppression list treat addresses without case): unlike [`mailbox`], `+tags` and
/// dots stay, since a server that does not know `victim+x` bounces it while `victim` is fine. What
/// a bounce or a complaint suppresses.
pub fn delivered_address(address: &str) -> Option<String> {
    EmailAddress::parse(address).ok().map(|a| a.as_str().to_ascii_lowercase())
}

/// Why a username or display name may not be shown in an email.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unshowable {
    /// A control or invisible formatting character (bidi overrides, zero-width marks).
    Hidden,
    /// A web address, or something a mail client would turn into one.
    Link,
    /// (Names only) an address or a phone number: "call +1 555 0100", "write to x@y".
    Contact,
}

/// Invisible characters that reorder or hide text (Unicode's format characters that matter in
/// mail: soft hyphen, zero-width, bidi embeddings, overrides and isolates, word joiners, BOM).
fn hidden(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{ad}' | '\u{61c}' | '\u{180e}' | '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}'
            | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{2069}' | '\u{feff}')
}

/// Full-width and ideographic look-alikes of ASCII, folded so `ｅｖｉｌ．com` reads as `evil.com`.
fn ascii_look_alike(c: char) -> char {
    match c {
        '\u{ff01}'..='\u{ff5e}' => char::from_u32(c as u32 - 0xfee0).unwrap_or(c),
        '\u{3002}' | '\u{ff61}' => '.',
        _ => c,
    }
}

/// Top-level domains common enough in phishing that `word.tld` in a name is a link to a mail
/// client, whatever follows it.
const LINKED_TLDS: [&str; 24] = [
    "com", "net", "org", "info", "biz", "io", "co", "app", "dev", "xyz", "top", "site", "online", "link", "click",
    "me", "ly", "ru", "cn", "tk", "us", "uk", "de", "shop",
];

/// Whether `text` is or holds something a mail client would make clickable: `://`, `www.`, a
/// `name.tld` with a common TLD, or any `name.tld` followed by `/`, `:`, `?` or `\`.
pub fn carries_link(text: &str) -> bool {
    let folded: String = text.chars().map(ascii_look_alike).collect::<String>().to_lowercase();
    if folded.contains("://") || folded.contains(":/") || folded.contains("www.") {
        return true;
    }
    folded.match_indices('.').any(|(at, _)| {
        let before = folded[..at].chars().next_back().is_some_and(char::is_alphanumeric);
        let tld: String = folded[at + 1..].chars().take_while(|c| c.is_alphabetic()).collect();
        let after = folded[at + 1 + tld.len()..].chars().next();
        let tld_ends = after.is_none_or(|c| !c.is_alphanumeric());
        before
            && tld.chars().count() >= 2
            && tld_ends
            && (LINKED_TLDS.contains(&tld.as_str()) || matches!(after, Some('/' | ':' | '?' | '\\')))
    })
}

/// The rule for a username shown in emails (a new account's: existing ones still sign in).
pub fn check_username(username: &str) -> Result<(), Unshowable> {
    if username.chars().any(hidden) {
        return Err(Unshowable::Hidden);
    }
    if carries_link(username) {
        return Err(Unshowable::Link);
    }
    Ok(())
}

/// The rule for a display name shown in emails: a username's, and no address or phone number.
pub fn check_name(name: &str) -> Result<(), Unshowable> {
    check_username(name)?;
    let digits = name.chars().map(ascii_look_alike).filter(char::is_ascii_digit).count();
    if name.contains('@') || name.contains('\u{ff20}') || digits >= 7 {
        return Err(Unshowable::Contact);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_of_one_username_fold_alike() {
        for name in ["Émile", "émile", "ÉMILE", "éMiLe"] {
            assert_eq!(fold_username(name), "émile", "{name}");
        }
        assert_ne!(fold_username("alice"), fold_username("alice2"));
    }

    #[test]
    fn tags_case_and_gmail_dots_name_one_mailbox() {
        for a in ["alice@example.com", "Alice@EXAMPLE.com", "alice+news@example.com", " alice+a+b@example.com "] {
            assert_eq!(mailbox(a).as_deref(), Some("alice@example.com"), "{a}");
        }
        for a in ["al.ice@gmail.com", "A.L.I.C.E+x@googlemail.com", "alice@GMAIL.com"] {
            assert_eq!(mailbox(a).as_deref(), Some("alice@gmail.com"), "{a}");
        }
        assert_eq!(mailbox("al.ice@example.com").as_deref(), Some("al.ice@example.com"), "dots matter elsewhere");
        assert_ne!(mailbox("alice@example.com"), mailbox("alice@example.org"));
    }

    #[test]
    fn spellings_the_mailer_rewrites_name_the_mailbox_it_delivers_to() {
        // IDNA mapping: a soft hyphen vanishes, full-width letters are ASCII.
        for a in ["victim@exa\u{ad}mple.com", "victim@\u{ff45}xample.com", "victim@example.\u{ff43}om"] {
            assert_eq!(mailbox(a).as_deref(), Some("victim@example.com"), "{a:?}");
        }
        assert_eq!(mailbox("v@bücher.example").as_deref(), Some("v@xn--bcher-kva.example"));
    }

    #[test]
    fn addresses_the_mailer_cannot_deliver_have_no_mailbox() {
        for a in [
            "victim+\"@example.com",
            "victim+;1@example.com",
            "victim@example.com.",
            "+x@example.com",
            "vïctim@example.com",
            "nope",
        ] {
            assert_eq!(mailbox(a), None, "{a:?}");
        }
        assert_eq!(mailbox(&format!("victim+{}@example.com", "x".repeat(250))), None, "too long to send");
    }

    #[test]
    fn links_and_hidden_text_are_not_shown_in_emails() {
        for bad in [
            "https://evil.example",
            "evil.com",
            "Verify at evil.com now",
            "evil.example/reset",
            "evil.example:443",
            "evil.example?reset=1",
            "evil.example\\reset",
            "evil\u{3002}com/reset",
            "\u{ff45}vil\u{ff0e}com",
            "https\u{ff1a}//evil.example",
            "www.evil.example",
            "go-to.EVIL.io",
        ] {
            assert_eq!(check_username(bad), Err(Unshowable::Link), "{bad:?}");
            assert_eq!(check_name(bad), Err(Unshowable::Link), "{bad:?}");
        }
        assert_eq!(check_username("\u{202e}gnp.exe"), Err(Unshowable::Hidden));
        assert_eq!(check_name("a\u{200b}b"), Err(Unshowable::Hidden));
        for contact in ["write to support@evil.example.org", "Call +1 555 0100", "Call +1 (555) 010-0199"] {
            assert!(check_name(contact).is_err(), "{contact}");
        }
        for good in ["alice", "jean.dupont", "a.b", "o'brien", "x.y-z", "mr.t/2", "person1234", "Zoë-Ünal"] {
            assert_eq!(check_username(good), Ok(()), "{good}");
        }
        for good in ["Dr. Zoë Ångström", "Jean Dupont", "J. R. R. Tolkien", "Agent 007"] {
            assert_eq!(check_name(good), Ok(()), "{good}");
        }
    }
}
