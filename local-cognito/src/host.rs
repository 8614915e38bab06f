//! DNS rebinding defence for the local servers (local-cognito, local-stack): a web page whose name
//! an attacker re-points at 127.0.0.1 reaches the port with its own name in `Host`. Only requests
//! whose `Host` names this machine as the server was started (the listen address, `localhost`,
//! `127.0.0.1` or `[::1]` with the listen port) or a name given with `--allow-host` are served;
//! anything else is refused with 421 before any route runs.

use axum::Router;
use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::net::SocketAddr;
use std::sync::Arc;

#[derive(Debug, Clone)]
pub struct HostAllowList {
    /// `host:port` values served as they are (lower case).
    exact: Vec<String>,
    /// Names from `--allow-host`, served with any port or none (a proxy in front may change it).
    names: Vec<String>,
}

impl HostAllowList {
    /// The loopback names with the listen port, the listen address itself, and `extra` names.
    pub fn new(listen: SocketAddr, extra: &[String]) -> Self {
        let port = listen.port();
        let ip = match listen {
            SocketAddr::V4(a) => a.ip().to_string(),
            SocketAddr::V6(a) => format!("[{}]", a.ip()),
        };
        let exact = ["localhost".to_string(), "127.0.0.1".into(), "[::1]".into(), ip]
            .into_iter()
            .map(|h| format!("{h}:{port}"))
            .collect();
        let names = extra.iter().map(|n| n.trim().trim_end_matches('.').to_lowercase()).collect();
        HostAllowList { exact, names }
    }

    pub fn allows(&self, host: &str) -> bool {
        let host = host.trim().to_lowercase();
        if self.exact.contains(&host) {
            return true;
        }
        // `name` or `name:port`, never a bracketed IPv6 literal (those are listed exactly).
        let name = match host.rsplit_once(':') {
            Some((name, port)) if !name.contains(':') && port.chars().all(|c| c.is_ascii_digit()) => name,
            _ => host.as_str(),
        };
        self.names.iter().any(|n| n == name.trim_end_matches('.'))
    }
}

/// `router` behind the allow-list.
pub fn guard(router: Router, allow: HostAllowList) -> Router {
    let allow = Arc::new(allow);
    router.layer(axum::middleware::from_fn(move |request: Request, next: Next| {
        let allow = allow.clone();
        async move {
            let host = request.headers().get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("");
            if allow.allows(host) {
                return next.run(request).await;
            }
            tracing::warn!("request for a foreign Host refused");
            refused(host)
        }
    }))
}

fn refused(host: &str) -> Response {
    // The name is shown to whoever sent it, for them to fix; nothing else.
    let shown: String = host.chars().filter(|c| c.is_ascii_graphic()).take(100).collect();
    let body = format!(
        "421 Misdirected Request: Host '{shown}' is not served here (DNS rebinding defence); start the server with --allow-host NAME to serve it\n"
    );
    (StatusCode::MISDIRECTED_REQUEST, body).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_this_machines_names_with_the_listen_port_and_allowed_names_pass() {
        let allow = HostAllowList::new("127.0.0.1:4000".parse().unwrap(), &["Dev.Example".into()]);
        for ok in
            ["localhost:4000", "127.0.0.1:4000", "[::1]:4000", "LOCALHOST:4000", "dev.example", "dev.example:8443"]
        {
            assert!(allow.allows(ok), "{ok}");
        }
        for refused in [
            "",
            "evil.example:4000",
            "evil.example",
            "localhost",
            "localhost:4001",
            "127.0.0.1:80",
            "127.0.0.1.evil.example:4000",
            "dev.example.evil:4000",
            "[::1]:4001",
        ] {
            assert!(!allow.allows(refused), "{refused}");
        }
    }
}
