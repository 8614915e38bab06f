//! Load test of the sign-in path on loopback (not part of the test command): login + verify-login
//! pairs over HTTP through the auth API, against local-cognito with in-process triggers (the
//! auth state in memory, as the local stack keeps it; post-authentication included), both in this
//! process on loopback ports. The limits are as deployed, so every sign-in is a fresh user with an
//! address of its own, signed up before the clock starts: no user or mailbox crosses its budget.
//! Bounded in count and in time; prints sign-ins per second and the pair latency's p50 / p99.
//!
//!   cargo run --release -p e2e --example auth_load -- [--pairs 2000] [--concurrency 16] [--seconds 60]

use auth_api::config::ApiConfig;
use auth_api::idp::CognitoIdp;
use lambda_support::Env;
use local_cognito::store::MemoryStore;
use local_cognito::triggers::InProcessTriggers;
use mail_job::{MailContent, MailJob};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use triggers::mail_queue::{MailQueue, QueueError};

/// Keeps only each user's latest code: the load test reads it as the user would read the email.
#[derive(Clone, Default)]
struct LatestCode(Arc<Mutex<HashMap<String, String>>>);

impl MailQueue for LatestCode {
    async fn enqueue(&self, job: &MailJob) -> Result<(), QueueError> {
        if let MailContent::LoginLink(d) = &job.content {
            self.0.lock().unwrap().insert(d.username.clone(), d.code.clone());
        }
        Ok(())
    }
}

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).and_then(|v| v.parse().ok()).unwrap_or(default)
}

#[tokio::main]
async fn main() {
    let (pairs, concurrency, limit) = (arg("--pairs", 2000), arg("--concurrency", 16), arg("--seconds", 60));
    let codes = LatestCode::default();
    let env = Env::from_pairs([
        ("MAIL_QUEUE_URL", "memory"),
        ("LOGIN_URL", "http://localhost:4000/verify-login"),
        ("SIGN_IN_URL", "http://localhost:4000/"),
    ]);
    let triggers = InProcessTriggers::from_env(&env, codes.clone()).unwrap();
    let pool = local_cognito::spawn(|_| {}, Arc::new(MemoryStore::default()), Arc::new(triggers)).await.unwrap();
    let config = ApiConfig::from_env(&Env::from_pairs([
        ("COGNITO_CLIENT_ID", pool.config.client_id.as_str()),
        ("COGNITO_USER_POOL_ID", pool.config.user_pool_id.as_str()),
        ("AWS_ENDPOINT_URL", pool.config.endpoint.as_str()),
    ]))
    .unwrap();
    let idp = CognitoIdp::new(testkit::cognito::client(&pool.config.endpoint).await, config.client_id.clone());
    let app = auth_api::router(auth_api::AppState::new(config, Arc::new(idp)));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let http = reqwest::Client::new();
    // One fresh user per sign-in, signed up (concurrently) before the clock starts.
    let names: Vec<String> = (0..pairs).map(|i| format!("load-user-{i}")).collect();
    let queue = Arc::new(Mutex::new(names.clone()));
    let sign_ups: Vec<_> = (0..concurrency)
        .map(|_| {
            let (http, base, queue) = (http.clone(), base.clone(), queue.clone());
            tokio::spawn(async move {
                loop {
                    let next = queue.lock().unwrap().pop();
                    let Some(u) = next else { break };
                    let body = serde_json::json!({"username": u, "email": format!("{u}@example.com")});
                    let r = http.post(format!("{base}/signup")).json(&body).send().await.unwrap();
                    assert_eq!(r.status(), 201);
                }
            })
        })
        .collect();
    for s in sign_ups {
        s.await.unwrap();
    }

    let deadline = Instant::now() + Duration::from_secs(limit);
    let users = Arc::new(Mutex::new(names));
    let started = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let (http, base, codes, users) = (http.clone(), base.clone(), codes.clone(), users.clone());
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                while Instant::now() < deadline {
                    let Some(user) = users.lock().unwrap().pop() else { break };
                    let t = Instant::now();
                    let login = http.post(format!("{base}/login")).json(&serde_json::json!({"username": user})).send();
                    let login: serde_json::Value = login.await.unwrap().json().await.unwrap();
                    assert_eq!(login["new_email"], true, "{login}");
                    let code = codes.0.lock().unwrap()[&user].clone();
                    let body = serde_json::json!({"username": user, "session": login["session"], "code": code});
                    let done = http.post(format!("{base}/verify-login")).json(&body).send().await.unwrap();
                    assert_eq!(done.status(), 200, "{:?}", done.text().await);
                    latencies.push(t.elapsed());
                }
                latencies
            })
        })
        .collect();
    let mut all = Vec::new();
    for w in workers {
        all.extend(w.await.unwrap());
    }
    let elapsed = started.elapsed();
    all.sort();
    let pct = |p: f64| all[((all.len() as f64 * p) as usize).min(all.len() - 1)];
    println!(
        "{} sign-ins (login + verify-login) in {:.2} s with {concurrency} concurrent users: {:.0} sign-ins/s; \
         pair latency p50 {:.2} ms, p99 {:.2} ms",
        all.len(),
        elapsed.as_secs_f64(),
        all.len() as f64 / elapsed.as_secs_f64(),
        pct(0.50).as_secs_f64() * 1000.0,
        pct(0.99).as_secs_f64() * 1000.0
    );
}
