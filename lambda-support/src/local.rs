//! For the binaries that also run as local servers (local-cognito, auth-api): listening on
//! loopback only, with errors that say which flag to change.

use std::net::SocketAddr;

/// Binds `addr`, which must be a loopback address unless `allow_remote`. `flag` names the option
/// that set it, so a busy port or a bad address tells the user what to change.
pub async fn bind(addr: &str, flag: &str, allow_remote: bool) -> Result<tokio::net::TcpListener, String> {
    let parsed: SocketAddr =
        addr.parse().map_err(|_| format!("{flag} {addr}: not an address such as 127.0.0.1:4000"))?;
    if !parsed.ip().is_loopback() && !allow_remote {
        return Err(format!(
            "{flag} {addr}: refusing to listen beyond this machine; use a loopback address such as 127.0.0.1:{}",
            parsed.port()
        ));
    }
    tokio::net::TcpListener::bind(parsed).await.map_err(|e| match e.kind() {
        std::io::ErrorKind::AddrInUse => {
            format!("port {} is already in use; stop what runs there or pick another with {flag}", parsed.port())
        }
        _ => format!("cannot listen on {addr} ({flag}): {e}"),
    })
}

/// A command-line mistake: says what was wrong (an empty `error` is a plain `--help`), prints the
/// usage, and gives the exit status 2 that shells read as "wrong usage".
pub fn usage_error(program: &str, error: &str, usage: &str) -> std::process::ExitCode {
    if !error.is_empty() {
        eprintln!("{program}: {error}");
    }
    eprintln!("{usage}");
    std::process::ExitCode::from(2)
}

/// Resolves when the process gets Ctrl-C (SIGINT) or SIGTERM. The handlers are installed when
/// this is called, not when the future is first polled: call it before binding, so a signal that
/// arrives as soon as the port answers already stops the server cleanly.
pub fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    use tokio::signal::unix::{SignalKind, signal};
    let interrupt = signal(SignalKind::interrupt());
    let terminate = signal(SignalKind::terminate());
    async move {
        match (interrupt, terminate) {
            (Ok(mut i), Ok(mut t)) => {
                tokio::select! { _ = i.recv() => {}, _ = t.recv() => {} }
            }
            _ => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn remote_addresses_are_refused_and_busy_ports_named() {
        let err = bind("0.0.0.0:0", "--listen", false).await.unwrap_err();
        assert!(err.contains("--listen") && err.contains("refusing"), "{err}");
        let held = bind("127.0.0.1:0", "--listen", false).await.unwrap();
        let port = held.local_addr().unwrap().port();
        let err = bind(&format!("127.0.0.1:{port}"), "--listen", false).await.unwrap_err();
        assert_eq!(err, format!("port {port} is already in use; stop what runs there or pick another with --listen"));
        assert!(bind("nonsense", "--listen", false).await.unwrap_err().contains("not an address"));
    }
}
