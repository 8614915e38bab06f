//! The `local-stack` binary as a developer runs it: clear errors for a busy port and a remote
//! address, a clean stop on Ctrl-C, and `--aws`: the same stack over SQS and SES v2 (moto here),
//! the mailer polling the queue as Lambda's event source mapping does.

use aws_sdk_sqs::types::QueueAttributeName;
use serde_json::{Value, json};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use testkit::{Moto, free_port};

fn local_stack() -> Command {
    Command::new(testkit::bin("local-stack"))
}

fn wait_for_port(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "local-stack did not start on {port}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_busy_port_and_a_remote_address_are_refused_with_the_flag_named() {
    let held = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = held.local_addr().unwrap().port();
    let out = local_stack().args(["--listen", &format!("127.0.0.1:{port}")]).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("port {port} is already in use")) && err.contains("--listen"), "{err}");

    let out = local_stack().args(["--listen", "0.0.0.0:0"]).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("refusing") && err.contains("--allow-remote"), "{err}");
}

#[test]
fn ctrl_c_stops_it_cleanly_after_it_printed_what_to_open() {
    let port = free_port();
    let child = local_stack()
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for_port(port);
    let status = Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "exit status {:?}", out.status);
    let stdout = String::from_utf8_lossy(&out.stdout);
    for line in [
        format!("http://127.0.0.1:{port}/inbox"),
        "user pool us-east-1_localpool".into(),
        "local-stack stopped.".into(),
    ] {
        assert!(stdout.contains(&line), "{line} missing from: {stdout}");
    }
}

#[tokio::test]
async fn with_aws_the_stack_runs_over_sqs_and_ses() {
    let moto = Moto::start();
    let sdk = moto.sdk_config().await;
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    moto.verify_domain(&aws_sdk_sesv2::Client::new(&sdk), "example.com").await;
    let dlq_url = moto.create_queue(&sqs, "mail-dlq").await;
    let queue_url = sqs
        .create_queue()
        .queue_name("mail")
        .attributes(QueueAttributeName::VisibilityTimeout, "2")
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();

    let port = free_port();
    let mut child = local_stack()
        .args(["--listen", &format!("127.0.0.1:{port}"), "--aws"])
        .envs(moto.env())
        .env("MAIL_QUEUE_URL", &queue_url)
        .env("MAIL_DLQ_URL", &dlq_url)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _stop = scopeguard(&mut child);
    wait_for_port(port);
    let origin = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let post = |path: &str, body: Value| http.post(format!("{origin}{path}")).json(&body).send();

    assert_eq!(
        post("/api/signup", json!({"username": "wes", "email": "wes@example.com"})).await.unwrap().status(),
        201
    );
    let login: Value = post("/api/login", json!({"username": "wes"})).await.unwrap().json().await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let html = loop {
        let sent = moto.sent_emails();
        if let Some(m) = sent.iter().find(|m| m["subject"].as_str().is_some_and(|s| s.starts_with("Sign in"))) {
            break m["body"].as_str().unwrap().to_string();
        }
        assert!(Instant::now() < deadline, "no sign-in email reached SES: {sent:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(moto.sent_emails().len(), 1, "no welcome before the address is proven");
    let done =
        post("/api/verify-login", json!({"username": "wes", "session": login["session"], "code": e2e::code_in(&html)}))
            .await
            .unwrap();
    assert_eq!(done.status(), 200);
    let deadline = Instant::now() + Duration::from_secs(20);
    while !moto.sent_emails().iter().any(|m| m["subject"].as_str().is_some_and(|s| s.starts_with("Welcome"))) {
        assert!(Instant::now() < deadline, "the welcome email follows the first sign-in: {:?}", moto.sent_emails());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let queue_page = http.get(format!("{origin}/dev/queue")).send().await.unwrap().text().await.unwrap();
    assert!(queue_page.contains("0 waiting, 0 in flight"), "the worker deleted what it sent: {queue_page}");
    assert!(queue_page.contains("Dead-letter queue"));
}

/// Kills the child when the test ends, whatever happened.
fn scopeguard(child: &mut std::process::Child) -> impl Drop + '_ {
    struct Kill<'a>(&'a mut std::process::Child);
    impl Drop for Kill<'_> {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    Kill(child)
}

/// A raw HTTP/1.1 request with the given `Host`, to see what the server answers before any route.
fn get_with_host(port: u16, path: &str, host: &str) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer
}

#[test]
fn a_foreign_host_is_refused_before_any_route_unless_allowed() {
    let port = free_port();
    let mut child = local_stack()
        .args(["--listen", &format!("127.0.0.1:{port}"), "--allow-host", "dev.example"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _kill = scopeguard(&mut child);
    wait_for_port(port);
    // A page re-pointed at 127.0.0.1 (DNS rebinding) reads nothing: not the inbox, not Cognito.
    for path in ["/inbox/messages.json", "/dev/config", "/"] {
        let refused = get_with_host(port, path, &format!("evil.example:{port}"));
        assert!(refused.starts_with("HTTP/1.1 421"), "{path}: {refused}");
        assert!(refused.contains("--allow-host"), "the reason says what to do: {refused}");
        assert!(!refused.contains("\"to\""), "no inbox content: {refused}");
    }
    assert!(get_with_host(port, "/inbox/messages.json", "").starts_with("HTTP/1.1 421"));
    for host in [format!("127.0.0.1:{port}"), format!("localhost:{port}"), "dev.example".into()] {
        let served = get_with_host(port, "/inbox/messages.json", &host);
        assert!(served.starts_with("HTTP/1.1 200"), "{host}: {served}");
    }
}
