//! Helpers shared by the tests of every crate. Nothing here is used at run time.

pub mod cognito;
pub mod logs;
pub mod moto;
pub mod rie;
pub mod webauthn;

pub use moto::{MailQueues, Moto, delete_unreported, free_port, receive, sqs_event, sqs_record};

/// The folder of the binaries cargo built with this test (`target/debug`), found from the test
/// executable (`target/debug/deps/<test>`): binaries of other workspace crates are there too.
pub fn bin_dir() -> std::path::PathBuf {
    let exe = std::env::current_exe().expect("the test's own path");
    exe.parent().and_then(|deps| deps.parent()).expect("target/<profile>/deps/<test>").to_path_buf()
}

/// The path of a workspace binary built with this test; panics with the fix if it is missing.
pub fn bin(name: &str) -> std::path::PathBuf {
    let path = bin_dir().join(name);
    assert!(path.exists(), "{} is not built: run the whole workspace's tests (cargo test --workspace)", path.display());
    path
}

/// The workspace root, for paths to the venv, tools and fixtures.
pub fn workspace_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("testkit lives in the workspace").to_path_buf()
}

/// A unique path under the system temp dir (pid + counter), for files a test hands to a process.
pub fn temp_path(stem: &str) -> std::path::PathBuf {
    use std::sync::atomic::{AtomicU32, Ordering};
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    std::env::temp_dir().join(format!("{stem}-{}-{n}", std::process::id()))
}

/// A bare HTTP/1.0 GET (no client library for a few test calls): the status line and, for a 200,
/// the body.
pub fn http_get(addr: &str, path: &str) -> std::io::Result<(String, Option<String>)> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(std::time::Duration::from_secs(10)))?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n")?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response)?;
    let response = String::from_utf8_lossy(&response);
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let status = head.lines().next().unwrap_or("").to_string();
    let ok = status.split_whitespace().nth(1) == Some("200");
    Ok((status, ok.then(|| body.to_string())))
}

/// The claims of a JWT, read without checking its signature (tests look at what a token says; the
/// code under test verifies it).
pub fn jwt_claims(token: &str) -> serde_json::Value {
    use base64::Engine;
    let payload = token.split('.').nth(1).expect("a JWT has three parts");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).expect("base64url claims");
    serde_json::from_slice(&bytes).expect("JSON claims")
}
