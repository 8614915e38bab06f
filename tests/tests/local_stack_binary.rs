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

/// The stack on a free loopback port, its output captured, once it listens.
fn running_stack() -> (u16, std::process::Child) {
    let port = free_port();
    let child = local_stack()
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for_port(port);
    (port, child)
}

#[test]
fn ctrl_c_stops_it_cleanly_after_it_printed_what_to_open() {
    let (port, child) = running_stack();
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

    let feedback_url = moto.create_queue(&sqs, "mail-feedback").await;

    let port = free_port();
    let mut child = local_stack()
        .args(["--listen", &format!("127.0.0.1:{port}"), "--aws"])
        .envs(moto.env())
        .env("MAIL_QUEUE_URL", &queue_url)
        .env("MAIL_DLQ_URL", &dlq_url)
        .env("FEEDBACK_QUEUE_URL", &feedback_url)
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
    assert!(queue_page.contains(&feedback_url), "the feedback queue, as deployed: {queue_page}");

    // SES's events are read from the deployed feedback queue: a hard bounce of wes's address (as
    // EventBridge forwards it) suppresses it, so another account's sign-in to it sends nothing.
    let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/../mail-feedback/fixtures/eventbridge_bounce.json");
    let bounce = std::fs::read_to_string(fixture).unwrap().replace("gone@example.com", "wes@example.com");
    sqs.send_message().queue_url(&feedback_url).message_body(bounce).send().await.unwrap();
    assert_eq!(
        post("/api/signup", json!({"username": "wes2", "email": "wes@example.com"})).await.unwrap().status(),
        201
    );
    // Once the stack's poller has taken the event off the queue (and applied it) ...
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let attributes = sqs
            .get_queue_attributes()
            .queue_url(&feedback_url)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
            .send()
            .await
            .unwrap();
        let left: u64 = attributes.attributes().unwrap().values().map(|v| v.parse::<u64>().unwrap()).sum();
        if left == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "the feedback queue was not consumed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // ... a sign-in to that address sends nothing and says why.
    let sent_before = moto.sent_emails().len();
    let login: Value = post("/api/login", json!({"username": "wes2"})).await.unwrap().json().await.unwrap();
    let session = login["session"].as_str().unwrap();
    let status = http.get(format!("{origin}/api/login/status")).header("x-sign-in-session", session).send();
    let status: Value = status.await.unwrap().json().await.unwrap();
    assert_eq!((status["status"].as_str(), status["reason"].as_str()), (Some("bounced"), Some("suppressed")));
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(moto.sent_emails().len(), sent_before, "nothing sent to the suppressed address");
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
    // The auth API's contract is served by the stack too.
    let description = get_with_host(port, "/api/openapi.json", &format!("127.0.0.1:{port}"));
    assert!(description.starts_with("HTTP/1.1 200") && description.contains("\"openapi\":\"3.1"), "{description}");
}

/// Every user in the pool, through Cognito's `ListUsers` with its pagination.
async fn all_usernames(origin: &str) -> Vec<String> {
    let cognito = testkit::cognito::client(origin).await;
    let mut names = Vec::new();
    let mut token = None;
    loop {
        let page =
            cognito.list_users().user_pool_id("us-east-1_localpool").set_pagination_token(token).send().await.unwrap();
        names.extend(page.users().iter().filter_map(|u| u.username().map(str::to_string)));
        token = page.pagination_token().map(str::to_string);
        if token.is_none() {
            return names;
        }
    }
}

#[tokio::test]
async fn two_hundred_concurrent_sign_ups_with_state_survive_a_restart_in_private_valid_files() {
    use std::os::unix::fs::PermissionsExt;
    let dir = testkit::temp_path("stack-state-race");
    // The logs go to a file: a pipe nobody reads while 200 requests run would fill and block.
    let log = testkit::temp_path("stack-state-race-log");
    let start = |port: u16| {
        let file = std::fs::File::create(&log).unwrap();
        local_stack()
            .args(["--listen", &format!("127.0.0.1:{port}"), "--state", dir.to_str().unwrap()])
            .stdout(file.try_clone().unwrap())
            .stderr(file)
            .spawn()
            .unwrap()
    };
    let port = free_port();
    let child = start(port);
    wait_for_port(port);
    let origin = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let mut sign_ups = tokio::task::JoinSet::new();
    for i in 0..200 {
        let (http, origin) = (http.clone(), origin.clone());
        sign_ups.spawn(async move {
            let body = json!({"username": format!("racer{i}"), "email": format!("racer{i}@example.com")});
            http.post(format!("{origin}/api/signup")).json(&body).send().await.unwrap().status().as_u16()
        });
    }
    let statuses = sign_ups.join_all().await;
    assert!(statuses.iter().all(|s| *s == 201), "{statuses:?}");
    let status = Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let mut child = child;
    assert!(child.wait().unwrap().success());
    // The logs (JSON lines) would say "users not saved" for a save that failed.
    let output = std::fs::read_to_string(&log).unwrap();
    assert!(output.contains("local-stack stopped."), "{output}");
    assert!(!output.contains("not saved"), "every save went through: {output}");

    let users: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("users.json")).unwrap()).unwrap();
    assert_eq!(users.as_array().unwrap().len(), 200);
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!((mode(&dir), mode(&dir.join("users.json"))), (0o700, 0o600));
    for entry in std::fs::read_dir(&dir).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        assert!(!name.ends_with(".tmp"), "a temporary file was left: {name}");
    }

    let port = free_port();
    let mut again = start(port);
    let _stop = scopeguard(&mut again);
    wait_for_port(port);
    let mut names = all_usernames(&format!("http://127.0.0.1:{port}")).await;
    names.sort();
    let mut expected: Vec<String> = (0..200).map(|i| format!("racer{i}")).collect();
    expected.sort();
    assert_eq!(names, expected, "every user is back");
    drop(_stop);
    std::fs::remove_dir_all(&dir).unwrap();
    let _ = std::fs::remove_file(&log);
}

#[test]
fn a_state_file_that_does_not_parse_stops_the_start_with_its_path_and_the_way_back() {
    let dir = testkit::temp_path("stack-state-broken");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("users.json"), "[{\"username\": ").unwrap();
    let out = local_stack()
        .args(["--listen", &format!("127.0.0.1:{}", free_port()), "--state", dir.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("users.json is not valid") && err.contains("delete it"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The process's peak resident memory (VmHWM), in kB.
fn peak_rss_kb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[tokio::test]
async fn five_hundred_oversized_or_hostile_requests_keep_memory_bounded_with_cognitos_errors() {
    let port = free_port();
    let mut child = local_stack()
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id();
    let _stop = scopeguard(&mut child);
    wait_for_port(port);
    let origin = format!("http://127.0.0.1:{port}");
    // A connection per request: the server closes one it refused a huge body on.
    let http = reqwest::Client::builder().pool_max_idle_per_host(0).build().unwrap();
    let cognito = |operation: &str, body: String| {
        http.post(&origin)
            .header("x-amz-target", format!("AWSCognitoIdentityProviderService.{operation}"))
            .header("content-type", "application/x-amz-json-1.1")
            .body(body)
            .send()
    };
    let initiate = |username: &str| {
        json!({"AuthFlow": "CUSTOM_AUTH", "ClientId": "local0client0id00000000000",
               "AuthParameters": {"USERNAME": username}})
        .to_string()
    };
    let mut seen: std::collections::BTreeMap<(String, u16), usize> = Default::default();
    let mut note =
        |what: &str, status: reqwest::StatusCode| *seen.entry((what.to_string(), status.as_u16())).or_default() += 1;
    for i in 0..500 {
        let (what, response) = match i % 5 {
            // 1.5 MB usernames: refused before they are read whole (413, and hyper may close the
            // connection while the client is still sending: either way, refused).
            0 => match cognito("InitiateAuth", initiate(&"x".repeat(1_500_000))).await {
                Ok(response) => ("huge body", response),
                Err(e) => {
                    assert!(e.is_request(), "{e}");
                    note("huge body", reqwest::StatusCode::PAYLOAD_TOO_LARGE);
                    continue;
                }
            },
            // One character over Cognito's username limit.
            1 => ("129 characters", cognito("InitiateAuth", initiate(&format!("{i:0>129}"))).await.unwrap()),
            // An attribute value over 2,048 characters.
            2 => {
                let body = json!({"ClientId": "local0client0id00000000000", "Username": format!("u{i}"),
                    "Password": "Local-Passw0rd!", "UserAttributes": [
                        {"Name": "email", "Value": format!("u{i}@example.com")},
                        {"Name": "name", "Value": "n".repeat(2049)}]});
                ("2,049-character attribute", cognito("SignUp", body.to_string()).await.unwrap())
            }
            // Unknown names at the limit: each leaves a session and a decoy state, both bounded.
            _ => ("unknown name", cognito("InitiateAuth", initiate(&format!("{i:0>128}"))).await.unwrap()),
        };
        let status = response.status();
        if status == 400 {
            let body: Value = response.json().await.unwrap();
            assert_eq!(body["__type"], "InvalidParameterException", "{what}: {body}");
        }
        note(what, status);
    }
    let expected: std::collections::BTreeMap<(String, u16), usize> = [
        (("huge body".to_string(), 413), 100),
        (("129 characters".to_string(), 400), 100),
        (("2,049-character attribute".to_string(), 400), 100),
        (("unknown name".to_string(), 200), 200),
    ]
    .into();
    assert_eq!(seen, expected);
    let peak = peak_rss_kb(pid);
    eprintln!("local-stack peak RSS after 500 hostile requests: {peak} kB");
    assert!(peak < 64 * 1024, "peak RSS {peak} kB");
}

#[test]
fn sigterm_stops_it_within_two_seconds_even_with_a_browser_connection_open() {
    use std::io::{Read, Write};
    let (port, child) = running_stack();
    // A browser keeps its connection open after a page (keep-alive).
    let mut browser = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(browser, "GET /inbox HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n").unwrap();
    let mut first = [0u8; 12];
    browser.read_exact(&mut first).unwrap();
    assert_eq!(&first, b"HTTP/1.1 200");
    let started = Instant::now();
    let pid = child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    // A regression must fail the test, not hang it: a watchdog ends the process after 10 s.
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(10));
        let _ = Command::new("kill").args(["-KILL", &pid]).status();
    });
    let out = child.wait_with_output().unwrap();
    let took = started.elapsed();
    assert!(out.status.success(), "{:?}", out.status);
    assert!(took < Duration::from_secs(2), "stopped in {took:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("local-stack stopped."));
    drop(browser);
}
