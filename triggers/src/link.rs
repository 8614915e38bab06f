//! The sign-in link, format 2: `LOGIN_URL` plus a fragment `v=2&username=…&code=…`
//! (percent-encoded). The secret sits in the fragment, which browsers never send: a mail scanner's
//! GET, a proxy log or a `Referer` never sees it, and the page's script finishes the sign-in only
//! on an explicit action. Format 1 (query parameters) is no longer produced (docs/mail-job.md).

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use url::Url;

/// The link format this build writes; the page reads `v` to know how to read the rest.
pub const LINK_FORMAT: u32 = 2;

/// Everything but RFC 3986 "unreserved" characters is encoded, so `+`, `&`, `=` and spaces in a
/// username survive every decoder (`URLSearchParams` reads `+` as a space).
const VALUE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// `LOGIN_URL`, checked at start-up: absolute, https (plain http only for a loopback host, for
/// local development), and without a fragment (the link's own goes there).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginUrl(Url);

impl LoginUrl {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let url = parse_web_url(raw)?;
        if url.fragment().is_some() {
            return Err("the URL has a fragment (#...): the sign-in link puts its secret there (link format 2)".into());
        }
        Ok(LoginUrl(url))
    }

    /// The link for one sign-in. Any query of `LOGIN_URL` is kept as it is.
    pub fn link_for(&self, username: &str, code: &str) -> String {
        let mut url = self.0.clone();
        let fragment = format!(
            "v={LINK_FORMAT}&username={}&code={}",
            utf8_percent_encode(username, VALUE),
            utf8_percent_encode(code, VALUE)
        );
        url.set_fragment(Some(&fragment));
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

    fn fragment_pairs(link: &str) -> Vec<(String, String)> {
        let url = Url::parse(link).unwrap();
        url::form_urlencoded::parse(url.fragment().unwrap().as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect()
    }

    #[test]
    fn the_secret_goes_into_the_fragment_and_the_query_stays() {
        let plain = LoginUrl::parse("https://app.example.com/verify-login").unwrap();
        assert_eq!(
            plain.link_for("alice", "482913"),
            "https://app.example.com/verify-login#v=2&username=alice&code=482913"
        );
        let with_query = LoginUrl::parse("https://app.example.com/login?next=%2Fhome").unwrap();
        let link = with_query.link_for("alice", "482913");
        assert_eq!(link, "https://app.example.com/login?next=%2Fhome#v=2&username=alice&code=482913");
        // What a GET of the link sends: path and query only.
        let url = Url::parse(&link).unwrap();
        assert!(!url[..url::Position::AfterQuery].contains("482913"));
    }

    #[test]
    fn awkward_usernames_round_trip_through_any_decoder() {
        let url = LoginUrl::parse("https://app.example.com/verify-login?x=1").unwrap();
        for name in ["Zoë+test&x=1", "a b", "名前", "x=y#z", "100%", "o'neil\"<>"] {
            let link = url.link_for(name, "004217");
            assert!(!link[link.find('#').unwrap()..].contains('+'), "{link}");
            let got = fragment_pairs(&link);
            assert_eq!(got[0], ("v".to_string(), "2".to_string()));
            assert_eq!(got[1], ("username".to_string(), name.to_string()), "{link}");
            assert_eq!(got[2], ("code".to_string(), "004217".to_string()));
        }
        assert_eq!(
            url.link_for("Zoë+test&x=1", "004217"),
            "https://app.example.com/verify-login?x=1#v=2&username=Zo%C3%AB%2Btest%26x%3D1&code=004217"
        );
    }

    #[test]
    fn unsafe_login_urls_are_refused() {
        assert!(LoginUrl::parse("http://app.example.com/verify").is_err());
        assert!(LoginUrl::parse("javascript:alert(1)").is_err());
        assert!(LoginUrl::parse("/relative/path").is_err());
        assert!(LoginUrl::parse("https://app.example.com/#/verify").unwrap_err().contains("fragment"));
        assert!(LoginUrl::parse("http://localhost:3000/verify-login").is_ok());
        assert!(LoginUrl::parse("http://127.0.0.1:3000/verify-login").is_ok());
    }
}
