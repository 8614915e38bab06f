//! The sign-in link: `LOGIN_URL` plus percent-encoded `username` and `code` query parameters.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use url::Url;

/// Everything but RFC 3986 "unreserved" characters is encoded, so `+`, `&`, `=` and spaces in a
/// username survive every query-string decoder (form decoders read `+` as a space).
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// `LOGIN_URL`, checked at start-up: absolute, https (plain http only for a loopback host, for
/// local development), and not already carrying `username` or `code`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginUrl(Url);

impl LoginUrl {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let url = parse_web_url(raw)?;
        if url.query_pairs().any(|(k, _)| k == "username" || k == "code") {
            return Err("the URL already has a `username` or `code` query parameter".into());
        }
        Ok(LoginUrl(url))
    }

    /// The link for one sign-in. Existing query parameters and any fragment are kept; the new
    /// parameters are appended with `&` when there is a query already.
    pub fn link_for(&self, username: &str, code: &str) -> String {
        let mut url = self.0.clone();
        let ours = format!(
            "username={}&code={}",
            utf8_percent_encode(username, QUERY_VALUE),
            utf8_percent_encode(code, QUERY_VALUE)
        );
        let query = match url.query() {
            Some(existing) if !existing.is_empty() => format!("{existing}&{ours}"),
            _ => ours,
        };
        url.set_query(Some(&query));
        url.into()
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

/// An absolute https URL (plain http only for a loopback host, for local development): the only
/// kind of URL the triggers put into an email.
pub fn parse_web_url(raw: &str) -> Result<Url, String> {
    let url = Url::parse(raw).map_err(|e| format!("not an absolute URL ({e})"))?;
    let loopback = matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        other => return Err(format!("scheme {other:?} is not allowed: use https (http only for localhost)")),
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("the URL has no host".into());
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(link: &str) -> Vec<(String, String)> {
        Url::parse(link).unwrap().query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
    }

    #[test]
    fn parameters_are_appended_with_question_mark_or_ampersand() {
        let plain = LoginUrl::parse("https://app.example.com/verify-login").unwrap();
        assert_eq!(
            plain.link_for("alice", "482913"),
            "https://app.example.com/verify-login?username=alice&code=482913"
        );
        let with_query = LoginUrl::parse("https://app.example.com/login?next=%2Fhome").unwrap();
        assert_eq!(
            with_query.link_for("alice", "482913"),
            "https://app.example.com/login?next=%2Fhome&username=alice&code=482913"
        );
        let empty_query = LoginUrl::parse("https://app.example.com/login?").unwrap();
        assert_eq!(empty_query.link_for("a", "123456"), "https://app.example.com/login?username=a&code=123456");
    }

    #[test]
    fn a_fragment_stays_after_the_query() {
        let spa = LoginUrl::parse("https://app.example.com/#/verify").unwrap();
        assert_eq!(spa.link_for("bob", "123456"), "https://app.example.com/?username=bob&code=123456#/verify");
    }

    #[test]
    fn awkward_usernames_round_trip_through_any_decoder() {
        let url = LoginUrl::parse("https://app.example.com/verify-login?x=1").unwrap();
        for name in ["Zoë+test&x=1", "a b", "名前", "x=y#z", "100%", "o'neil\"<>"] {
            let link = url.link_for(name, "004217");
            assert!(!link[link.find('?').unwrap()..].contains('+'), "{link}");
            let got = pairs(&link);
            assert_eq!(got[1], ("username".to_string(), name.to_string()), "{link}");
            assert_eq!(got[2], ("code".to_string(), "004217".to_string()));
        }
        assert_eq!(
            url.link_for("Zoë+test&x=1", "004217"),
            "https://app.example.com/verify-login?x=1&username=Zo%C3%AB%2Btest%26x%3D1&code=004217"
        );
    }

    #[test]
    fn unsafe_login_urls_are_refused() {
        assert!(LoginUrl::parse("http://app.example.com/verify").is_err());
        assert!(LoginUrl::parse("javascript:alert(1)").is_err());
        assert!(LoginUrl::parse("/relative/path").is_err());
        assert!(LoginUrl::parse("https://app.example.com/v?code=1").is_err());
        assert!(LoginUrl::parse("https://app.example.com/v?username=x").is_err());
        assert!(LoginUrl::parse("http://localhost:3000/verify-login").is_ok());
        assert!(LoginUrl::parse("http://127.0.0.1:3000/verify-login").is_ok());
    }
}
