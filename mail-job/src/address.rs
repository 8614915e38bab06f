//! Recipient addresses as the mailer delivers them: validated, ASCII, the domain in Punycode. In
//! the contract crate because the producers count emails per mailbox on exactly this form
//! (`triggers::identity::mailbox`): a spelling the mailer would rewrite, or refuse, must not get
//! a budget of its own.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    #[error("address has control characters or spaces")]
    Control,
    #[error("address is not local@domain")]
    Shape,
    #[error("address has a non-ASCII local part, which SES cannot send to")]
    NonAsciiLocalPart,
    #[error("address domain is not a valid domain name")]
    Domain,
    #[error("address is longer than 254 characters")]
    TooLong,
}

/// A validated address, ASCII only (an internationalised domain is stored as Punycode, as SES
/// requires).
#[derive(Clone, PartialEq, Eq)]
pub struct EmailAddress(String);

impl EmailAddress {
    pub fn parse(raw: &str) -> Result<Self, AddressError> {
        let raw = raw.trim();
        if raw.chars().any(|c| c.is_control() || c.is_whitespace() || matches!(c, '<' | '>' | '"' | ',' | ';')) {
            return Err(AddressError::Control);
        }
        let (local, domain) = raw.rsplit_once('@').ok_or(AddressError::Shape)?;
        if local.is_empty() || domain.is_empty() || local.contains('@') {
            return Err(AddressError::Shape);
        }
        if !local.is_ascii() {
            return Err(AddressError::NonAsciiLocalPart);
        }
        let domain = idna::domain_to_ascii(domain).map_err(|_| AddressError::Domain)?;
        if !domain.contains('.') || domain.starts_with('.') || domain.ends_with('.') {
            return Err(AddressError::Domain);
        }
        let address = format!("{local}@{domain}");
        if address.len() > 254 {
            return Err(AddressError::TooLong);
        }
        Ok(EmailAddress(address))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map_or("", |(_, d)| d)
    }
}

impl fmt::Debug for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EmailAddress({})", crate::mask_email(&self.0))
    }
}
