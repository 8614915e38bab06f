//! The local stack in this process on a loopback port: the mail pipeline's failure path as an
//! operator sees it on `/dev/queue`, and `--state` across a restart.

use local_stack::queue::QueueSettings;
use local_stack::{Options, QueueInfo, start};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

async fn serve(options: Options) -> (String, local_stack::Stack, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (router, stack) = start(listener.local_addr().unwrap(), options).await.unwrap();
    let server = tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (stack.origin.clone(), stack, server)
}

async fn post(origin: &str, path: &str, body: Value) -> (u16, Value) {
    let response = reqwest::Client::new().post(format!("{origin}{path}")).json(&body).send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap_or(Value::Null))
}

async fn inbox(origin: &str) -> Vec<Value> {
    reqwest::get(format!("{origin}/inbox/messages.json")).await.unwrap().json().await.unwrap()
}

/// Polls until `check` holds, for at most `secs` seconds.
async fn eventually<F: std::future::Future<Output = bool>>(secs: u64, mut check: impl FnMut() -> F) -> bool {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

#[tokio::test]
async fn a_message_the_mailer_fails_is_retried_then_shows_in_the_dead_letter_queue() {
    let options = Options {
        queue: QueueSettings { visibility_timeout: chrono::Duration::seconds(30), max_receive_count: 2 },
        poll_idle: Duration::from_millis(20),
        ..Options::default()
    };
    let (origin, stack, _server) = serve(options).await;
    let QueueInfo::Local(queue) = &stack.queue else { panic!("the default stack runs its own queue") };
    let page = || async { reqwest::get(format!("{origin}/dev/queue")).await.unwrap().text().await.unwrap() };
    let dead_letters = || async {
        let html = page().await;
        html.split("<h2>Dead-letter queue</h2>").nth(1).unwrap().to_string()
    };

    // A job that can never be sent is dead-lettered on its first failure.
    let poison = queue.send(r#"{"version": 1, "template": "no_such_email"}"#.into(), chrono::Utc::now());
    assert!(eventually(5, || async { dead_letters().await.contains(&poison) }).await);
    assert!(dead_letters().await.contains("<td>(unreadable)</td><td>-</td><td>-</td><td>1</td>"));

    // While "SES" throttles, the sign-in email fails transiently: it comes back within seconds
    // (not after the 30 s visibility timeout), and after the receive limit the redrive policy
    // parks it in the dead-letter queue. Nothing is lost silently.
    stack.inbox.set_throttled(true);
    assert_eq!(post(&origin, "/api/signup", json!({"username": "una", "email": "una@example.com"})).await.0, 201);
    assert_eq!(post(&origin, "/api/login", json!({"username": "una"})).await.0, 200);
    let retried = eventually(5, || async {
        queue.view(chrono::Utc::now()).waiting.iter().any(|m| m.template == "login_link" && m.receive_count == 2)
    })
    .await;
    assert!(retried, "the failed message was received again within seconds");
    assert!(eventually(10, || async { dead_letters().await.contains("<td>login_link</td>") }).await);
    let dead = dead_letters().await;
    assert!(dead.contains("<td>u***@example.com</td><td>2</td>"), "{dead}");
    assert!(page().await.contains("Nothing is waiting."));
    assert!(inbox(&origin).await.is_empty());

    // Once the fault clears, email flows again.
    stack.inbox.set_throttled(false);
    assert_eq!(post(&origin, "/api/signup", json!({"username": "vera", "email": "vera@example.com"})).await.0, 201);
    assert_eq!(post(&origin, "/api/login", json!({"username": "vera"})).await.0, 200);
    assert!(eventually(5, || async { inbox(&origin).await.len() == 1 }).await);
}

#[tokio::test]
async fn with_state_users_and_the_inbox_survive_a_restart() {
    let dir = testkit::temp_path("local-stack-state");
    let options = Options { state_dir: Some(dir.clone()), ..Options::default() };
    let (origin, stack, server) = serve(options.clone()).await;
    assert_eq!(post(&origin, "/api/signup", json!({"username": "vic", "email": "vic@example.com"})).await.0, 201);
    assert_eq!(post(&origin, "/api/login", json!({"username": "vic"})).await.0, 200);
    assert!(eventually(5, || async { inbox(&origin).await.len() == 1 }).await);
    // A second stack on the same folder is refused while the first runs.
    let second = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let refused = start(second.local_addr().unwrap(), options.clone()).await.err().expect("one stack per folder");
    assert!(refused.to_string().contains("another local-stack is using"), "{refused}");
    server.abort();
    let _ = server.await;
    drop(stack);

    let (origin, _stack, _server) = serve(options).await;
    let kept = inbox(&origin).await;
    assert_eq!((kept.len(), kept[0]["template"].as_str()), (1, Some("login_link")));
    let (status, _) = post(&origin, "/api/signup", json!({"username": "VIC", "email": "other@example.com"})).await;
    assert_eq!(status, 409, "the user is still there");
    let (status, login) = post(&origin, "/api/login", json!({"username": "vic"})).await;
    assert_eq!((status, login["new_email"].as_bool()), (200, Some(true)), "a new process, a new code");
    assert!(eventually(5, || async { inbox(&origin).await.len() == 2 }).await, "and can sign in");
    let users = std::fs::read_to_string(dir.join("users.json")).unwrap();
    assert!(users.contains("\"vic\""));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_with_1500_jobs_queued_takes_under_2_seconds_and_with_state_they_are_delivered_after_the_restart() {
    let dir = testkit::temp_path("local-stack-stop");
    let options = Options { state_dir: Some(dir.clone()), ..Options::default() };
    let (_, stack, server) = serve(options.clone()).await;
    let QueueInfo::Local(queue) = &stack.queue else { panic!("the default stack runs its own queue") };
    // SES "throttles": nothing is delivered, everything stays queued.
    stack.inbox.set_throttled(true);
    let mut job: Value = serde_json::from_str(
        &std::fs::read_to_string(testkit::workspace_root().join("mail-job/fixtures/login_link.json")).unwrap(),
    )
    .unwrap();
    job["expires_at"] = json!("2999-01-01T00:00:00Z");
    for i in 0..1500 {
        job["id"] = json!(format!("{i:032x}"));
        queue.send(job.to_string(), chrono::Utc::now());
    }
    let started = Instant::now();
    let undelivered = stack.stop(Duration::from_millis(700)).await;
    let took = started.elapsed();
    server.abort();
    let _ = server.await;
    drop(stack);
    assert!(took < Duration::from_secs(2), "stopped in {took:?}");
    assert_eq!(undelivered, local_stack::Undelivered::Kept(1500, dir.join("queue.json")));

    // The next start delivers them; the file stays until a stop finds nothing left to keep.
    let (origin, stack, _server) = serve(options).await;
    assert!(eventually(30, || async { inbox(&origin).await.len() == 1000 }).await, "the inbox keeps the newest 1,000");
    let QueueInfo::Local(queue) = &stack.queue else { panic!("the default stack runs its own queue") };
    assert!(eventually(30, || async { queue.view(chrono::Utc::now()).waiting.is_empty() }).await);
    assert_eq!(stack.stop(Duration::from_millis(700)).await, local_stack::Undelivered::None);
    assert!(!dir.join("queue.json").exists(), "delivered: nothing is kept for the start after");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn without_state_a_stop_says_how_many_jobs_it_dropped() {
    let (_, stack, server) = serve(Options::default()).await;
    let QueueInfo::Local(queue) = &stack.queue else { panic!("the default stack runs its own queue") };
    stack.inbox.set_throttled(true);
    let fixture = std::fs::read_to_string(testkit::workspace_root().join("mail-job/fixtures/login_link.json")).unwrap();
    let mut job: Value = serde_json::from_str(&fixture).unwrap();
    job["expires_at"] = json!("2999-01-01T00:00:00Z");
    for _ in 0..3 {
        queue.send(job.to_string(), chrono::Utc::now());
    }
    let undelivered = stack.stop(Duration::from_millis(700)).await;
    server.abort();
    assert_eq!(undelivered, local_stack::Undelivered::Dropped(3));
}
