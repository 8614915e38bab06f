//! Mailboxes for headers: `Display Name <local@domain>` with the name RFC 2047-encoded when it is
//! not plain ASCII, and nothing that could end a header line.

use base64::Engine;

pub use mail_job::address::{AddressError, EmailAddress};

/// An address with an optional display name, rendered for a header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mailbox {
    pub name: Option<String>,
    pub address: EmailAddress,
}

impl Mailbox {
    pub fn new(name: Option<&str>, address: EmailAddress) -> Self {
        let name = name.map(header_safe).filter(|n| !n.is_empty());
        Mailbox { name, address }
    }

    /// Parses `Name <addr>` or a bare `addr` (the `MAIL_FROM` format).
    pub fn parse(raw: &str) -> Result<Self, AddressError> {
        let raw = raw.trim();
        match raw.strip_suffix('>').and_then(|r| r.rsplit_once('<')) {
            Some((name, addr)) => {
                let name = name.trim().trim_matches('"');
                Ok(Mailbox::new(Some(name), EmailAddress::parse(addr)?))
            }
            None => Ok(Mailbox::new(None, EmailAddress::parse(raw)?)),
        }
    }

    /// The header form: ASCII names are quoted (with `"` and `\` escaped), others become RFC 2047
    /// encoded-words.
    pub fn to_header(&self) -> String {
        match &self.name {
            None => self.address.as_str().to_string(),
            Some(name) if name.is_ascii() => {
                format!("\"{}\" <{}>", name.replace('\\', "\\\\").replace('"', "\\\""), self.address.as_str())
            }
            Some(name) => format!("{} <{}>", encode_rfc2047(name), self.address.as_str()),
        }
    }
}

/// Display names come from user-editable attributes: control characters (CR and LF above all)
/// become spaces, runs of white space collapse, and the result is cut to 64 characters.
pub fn header_safe(name: &str) -> String {
    let cleaned: String = name.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    cleaned.split_whitespace().collect::<Vec<_>>().join(" ").chars().take(64).collect()
}

/// RFC 2047 `B` encoding in UTF-8, split into encoded-words of at most 75 characters on character
/// boundaries, separated by a space (a header-folding point).
pub fn encode_rfc2047(text: &str) -> String {
    // "=?UTF-8?B?" + "?=" is 12 characters; 63 base64 characters carry 45 bytes (whole groups of 3).
    const MAX_BYTES: usize = 45;
    let mut words = Vec::new();
    let mut chunk = String::new();
    for c in text.chars() {
        if chunk.len() + c.len_utf8() > MAX_BYTES {
            words.push(std::mem::take(&mut chunk));
        }
        chunk.push(c);
    }
    if !chunk.is_empty() {
        words.push(chunk);
    }
    words
        .iter()
        .map(|w| format!("=?UTF-8?B?{}?=", base64::engine::general_purpose::STANDARD.encode(w.as_bytes())))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_names_are_quoted_and_escaped() {
        let m = Mailbox::new(Some("Alice \"Al\" Smith"), EmailAddress::parse("alice@example.com").unwrap());
        assert_eq!(m.to_header(), r#""Alice \"Al\" Smith" <alice@example.com>"#);
        let bare = Mailbox::new(None, EmailAddress::parse("alice@example.com").unwrap());
        assert_eq!(bare.to_header(), "alice@example.com");
    }

    #[test]
    fn non_ascii_names_are_rfc2047_encoded() {
        let m = Mailbox::new(Some("Zoë Ångström"), EmailAddress::parse("zoe@example.com").unwrap());
        assert_eq!(m.to_header(), "=?UTF-8?B?Wm/DqyDDhW5nc3Ryw7Zt?= <zoe@example.com>");
    }

    #[test]
    fn long_names_split_into_words_of_at_most_75_characters() {
        let name = "Ünïcødé ".repeat(12);
        let encoded = encode_rfc2047(name.trim());
        for word in encoded.split(' ') {
            assert!(word.len() <= 75, "{word}");
            assert!(word.starts_with("=?UTF-8?B?") && word.ends_with("?="));
        }
        let decoded: Vec<u8> = encoded
            .split(' ')
            .flat_map(|w| base64::engine::general_purpose::STANDARD.decode(&w[10..w.len() - 2]).unwrap())
            .collect();
        assert_eq!(String::from_utf8(decoded).unwrap(), name.trim());
    }

    #[test]
    fn cr_and_lf_can_never_reach_a_header() {
        let m =
            Mailbox::new(Some("Mallory\r\nBcc: victim@example.com\r\n"), EmailAddress::parse("m@example.com").unwrap());
        let header = m.to_header();
        assert!(!header.contains('\r') && !header.contains('\n'), "{header:?}");
        assert_eq!(header, "\"Mallory Bcc: victim@example.com\" <m@example.com>");
        let encoded = Mailbox::new(Some("Zoë\nBcc: x@y.z"), EmailAddress::parse("z@example.com").unwrap());
        assert!(!encoded.to_header().contains('\n'));
        for bad in ["a@example.com\r\nBcc: x@y.z", "a\n@example.com", "a b@example.com"] {
            assert_eq!(EmailAddress::parse(bad), Err(AddressError::Control), "{bad:?}");
        }
    }

    #[test]
    fn addresses_are_validated_and_domains_punycoded() {
        assert_eq!(EmailAddress::parse("zoe@exämple.de").unwrap().as_str(), "zoe@xn--exmple-cua.de");
        assert_eq!(EmailAddress::parse("zoë@example.com"), Err(AddressError::NonAsciiLocalPart));
        assert_eq!(EmailAddress::parse("no-at-sign"), Err(AddressError::Shape));
        assert_eq!(EmailAddress::parse("a@b@example.com"), Err(AddressError::Shape));
        assert_eq!(EmailAddress::parse("a@localhost"), Err(AddressError::Domain));
        assert_eq!(EmailAddress::parse("<a@example.com>"), Err(AddressError::Control));
        assert!(EmailAddress::parse(&format!("{}@example.com", "a".repeat(250))).is_err());
    }

    #[test]
    fn mail_from_parses_with_and_without_a_name() {
        let m = Mailbox::parse("Example <no-reply@example.com>").unwrap();
        assert_eq!(m.name.as_deref(), Some("Example"));
        assert_eq!(m.address.as_str(), "no-reply@example.com");
        assert_eq!(
            Mailbox::parse("\"Exämple App\" <no-reply@example.com>").unwrap().name.as_deref(),
            Some("Exämple App")
        );
        assert_eq!(Mailbox::parse("no-reply@example.com").unwrap().name, None);
        assert!(Mailbox::parse("Example <not an address>").is_err());
    }

    #[test]
    fn debug_masks_the_address() {
        assert_eq!(
            format!("{:?}", EmailAddress::parse("alice@example.com").unwrap()),
            "EmailAddress(a***@example.com)"
        );
    }
}
