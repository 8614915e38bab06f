//! Request bodies and their validation: each failure names the field, before anything reaches
//! Cognito.

use crate::error::ApiError;
use serde::Deserialize;
use triggers::identity::Unshowable;

#[derive(Deserialize, utoipa::ToSchema)]
pub struct Signup {
    pub username: String,
    pub email: String,
    #[serde(default)]
    pub locale: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct Login {
    pub username: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct Resend {
    pub username: String,
    pub session: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct VerifyLogin {
    pub username: String,
    pub code: String,
    /// The sign-in this browser started; absent when a link is opened in another browser.
    #[serde(default)]
    pub session: Option<String>,
    /// Native apps that keep tokens themselves ask for them in the body.
    #[serde(default)]
    pub return_tokens: bool,
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
pub struct Refresh {
    #[serde(default)]
    pub refresh_token: Option<String>,
    #[serde(default)]
    pub return_tokens: bool,
}

/// Cognito's username rule: 1–128 characters, no white space or control characters.
pub fn username(raw: &str) -> Result<&str, ApiError> {
    let u = raw.trim();
    if u.is_empty() {
        return Err(ApiError::invalid("username", "Enter a username."));
    }
    if u.chars().count() > 128 || u.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(ApiError::invalid("username", "A username has at most 128 characters and no spaces."));
    }
    Ok(u)
}

/// A username for a new account: [`username`]'s rule, and nothing an email should not show
/// (`triggers::identity::check_username`, which pre-sign-up applies to every sign-up too).
pub fn new_username(raw: &str) -> Result<&str, ApiError> {
    let u = username(raw)?;
    check_shown("username", triggers::identity::check_username(u))?;
    Ok(u)
}

/// The field's error for text that may not be shown in an email.
fn check_shown(field: &str, verdict: Result<(), Unshowable>) -> Result<(), ApiError> {
    let message = match verdict {
        Ok(()) => return Ok(()),
        Err(Unshowable::Hidden) => "cannot contain invisible or control characters.",
        Err(Unshowable::Link) => "cannot contain a web address.",
        Err(Unshowable::Contact) => "cannot contain an email address or a phone number.",
    };
    let what = if field == "name" { "A name" } else { "A username" };
    Err(ApiError::invalid(field, format!("{what} {message}")))
}

pub fn email(raw: &str) -> Result<&str, ApiError> {
    let e = raw.trim();
    let valid = e.len() <= 254
        && !e.chars().any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>' || c == ',')
        && e.rsplit_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.')
        });
    if valid { Ok(e) } else { Err(ApiError::invalid("email", "Enter an email address such as name@example.com.")) }
}

/// A BCP 47-style tag (`en`, `de-AT`, `zh-Hant-TW`), or nothing.
pub fn locale(raw: Option<&str>) -> Result<Option<&str>, ApiError> {
    let Some(l) = raw.map(str::trim).filter(|l| !l.is_empty()) else { return Ok(None) };
    let mut parts = l.split(['-', '_']);
    let first = parts.next().unwrap_or("");
    let valid = l.len() <= 35
        && (2..=3).contains(&first.len())
        && first.chars().all(|c| c.is_ascii_alphabetic())
        && parts.all(|p| (1..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()));
    if valid {
        Ok(Some(l))
    } else {
        Err(ApiError::invalid("locale", "A locale is a language tag such as en or de-AT."))
    }
}

/// Names greet the user in every email, so they are short and carry no link.
pub const NAME_MAX_CHARS: usize = 64;

pub fn name(raw: Option<&str>) -> Result<Option<&str>, ApiError> {
    let Some(n) = raw.map(str::trim).filter(|n| !n.is_empty()) else { return Ok(None) };
    if n.chars().count() > NAME_MAX_CHARS {
        return Err(ApiError::invalid("name", "A name has at most 64 characters."));
    }
    check_shown("name", triggers::identity::check_name(n))?;
    Ok(Some(n))
}

pub fn code(raw: &str) -> Result<&str, ApiError> {
    let c = raw.trim();
    if c.is_empty() || c.len() > 64 {
        return Err(ApiError::invalid("code", "Enter the code from the email."));
    }
    Ok(c)
}

pub fn session(raw: &str) -> Result<&str, ApiError> {
    if raw.is_empty() || raw.len() > 4096 {
        return Err(ApiError::invalid("session", "The sign-in session is missing; start again."));
    }
    Ok(raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(e: ApiError) -> String {
        e.extra["field"].as_str().unwrap().to_string()
    }

    #[test]
    fn usernames() {
        assert_eq!(username("  alice ").unwrap(), "alice");
        assert_eq!(username("Zoë-Ünal").unwrap(), "Zoë-Ünal");
        assert_eq!(field(username("").unwrap_err()), "username");
        assert!(username("a b").is_err());
        assert!(username(&"x".repeat(129)).is_err());
        assert!(username(&"x".repeat(128)).is_ok());
    }

    #[test]
    fn emails() {
        assert!(email("a@example.com").is_ok());
        for bad in ["", "a", "a@b", "@example.com", "a@example.com, b@example.com", "a @example.com", "a@.com"] {
            assert_eq!(field(email(bad).unwrap_err()), "email", "{bad}");
        }
    }

    #[test]
    fn locales_and_names() {
        assert_eq!(locale(Some("de-AT")).unwrap(), Some("de-AT"));
        assert_eq!(locale(Some("")).unwrap(), None);
        assert_eq!(field(locale(Some("deutsch!")).unwrap_err()), "locale");
        assert_eq!(name(Some("Zoë")).unwrap(), Some("Zoë"));
        assert_eq!(field(name(Some("a\nb")).unwrap_err()), "name");
        assert!(name(Some(&"x".repeat(64))).is_ok());
        assert_eq!(field(name(Some(&"x".repeat(65))).unwrap_err()), "name");
    }

    #[test]
    fn links_are_refused_in_new_usernames_and_names() {
        for bad in ["https://evil.example", "HTTP://x", "www.evil.example", "evil.com/reset", "go-to.EVIL.io/x"] {
            assert_eq!(field(new_username(bad).unwrap_err()), "username", "{bad}");
            assert_eq!(field(name(Some(bad)).unwrap_err()), "name", "{bad}");
        }
        for good in ["alice", "a.b", "jean.dupont", "o'brien", "x.y-z"] {
            assert!(new_username(good).is_ok(), "{good}");
        }
        assert!(name(Some("Dr. Zoë Ångström")).is_ok());
        assert_eq!(field(name(Some("Your account is locked\u{7}")).unwrap_err()), "name");
        assert_eq!(field(name(Some("Call +1 555 0100")).unwrap_err()), "name");
        assert_eq!(field(new_username("\u{202e}gnp.exe").unwrap_err()), "username");
    }
}
