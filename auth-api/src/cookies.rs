//! The token cookies: `HttpOnly`, `SameSite=Lax`, `Path=/`, `Secure` except on plain-HTTP
//! localhost (browsers drop `Secure` cookies there), with lifetimes from the tokens.

use axum::http::HeaderMap;
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

pub const ID_TOKEN: &str = "id_token";
pub const ACCESS_TOKEN: &str = "access_token";
pub const REFRESH_TOKEN: &str = "refresh_token";

/// Whether cookies get `Secure`: everywhere but a local development host.
pub fn secure_for(headers: &HeaderMap) -> bool {
    let host = headers.get(axum::http::header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("");
    let name = match host.rsplit_once(':') {
        Some((name, port)) if port.chars().all(|c| c.is_ascii_digit()) => name,
        _ => host,
    };
    !matches!(name, "localhost" | "127.0.0.1" | "[::1]")
}

/// Seconds until the JWT's `exp` (read without verification: it comes straight from Cognito).
pub fn seconds_left(jwt: &str) -> i64 {
    let exp = jwt
        .split('.')
        .nth(1)
        .and_then(|p| URL_SAFE_NO_PAD.decode(p).ok())
        .and_then(|p| serde_json::from_slice::<serde_json::Value>(&p).ok())
        .and_then(|c| c["exp"].as_i64());
    exp.map_or(0, |exp| (exp - chrono::Utc::now().timestamp()).max(0))
}

pub struct CookieSettings<'a> {
    pub secure: bool,
    pub domain: Option<&'a str>,
}

impl CookieSettings<'_> {
    pub fn cookie(&self, name: &'static str, value: String, max_age_seconds: i64) -> Cookie<'static> {
        let mut builder = Cookie::build((name, value))
            .http_only(true)
            .secure(self.secure)
            .same_site(SameSite::Lax)
            .path("/")
            .max_age(cookie::time::Duration::seconds(max_age_seconds));
        if let Some(domain) = self.domain {
            builder = builder.domain(domain.to_string());
        }
        builder.build()
    }

    pub fn clear(&self, jar: CookieJar) -> CookieJar {
        [ID_TOKEN, ACCESS_TOKEN, REFRESH_TOKEN]
            .into_iter()
            .fold(jar, |jar, name| jar.add(self.cookie(name, String::new(), 0)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(h: &str) -> HeaderMap {
        let mut m = HeaderMap::new();
        m.insert("host", h.parse().unwrap());
        m
    }

    #[test]
    fn secure_everywhere_but_local_hosts() {
        assert!(!secure_for(&host("localhost:4000")));
        assert!(!secure_for(&host("127.0.0.1:4000")));
        assert!(!secure_for(&host("[::1]:4000")));
        assert!(secure_for(&host("app.example.com")));
        assert!(secure_for(&host("localhost.example.com")));
    }

    #[test]
    fn cookies_carry_the_attributes() {
        let c =
            CookieSettings { secure: true, domain: Some("example.com") }.cookie(ID_TOKEN, "t".into(), 60).to_string();
        for part in ["id_token=t", "HttpOnly", "SameSite=Lax", "Secure", "Path=/", "Max-Age=60", "Domain=example.com"] {
            assert!(c.contains(part), "{c} lacks {part}");
        }
        let local = CookieSettings { secure: false, domain: None }.cookie(ID_TOKEN, "t".into(), 60).to_string();
        assert!(!local.contains("Secure"), "{local}");
    }
}
