//! The auth API through its router, with the real SDK client talking to local-cognito on a
//! loopback port (real triggers, emails kept in memory): what api.rs and passkeys.rs share.
#![allow(dead_code)]

use auth_api::config::ApiConfig;
use auth_api::deliveries::StoredDeliveries;
use auth_api::idp::CognitoIdp;
use auth_api::{AppState, router};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use lambda_support::Env;
use local_cognito::UserPool;
use local_cognito::mail::MemoryMailQueue;
use local_cognito::store::MemoryStore;
use local_cognito::triggers::InProcessTriggers;
use mail_job::MailContent;
use serde_json::{Value, json};
use std::sync::Arc;
use tower::ServiceExt;

pub const HOST: &str = "localhost:4000";
pub const APP: &str = "https://app.example";

pub struct Api {
    pub app: axum::Router,
    pub queue: MemoryMailQueue,
    /// The auth state the triggers and the API share (as the table in AWS).
    pub state: triggers::auth_state::store::MemoryStore,
    pool: Arc<UserPool>,
}

pub struct Answer {
    pub status: StatusCode,
    pub body: Value,
    pub cookies: Vec<String>,
}

impl Answer {
    pub fn cookie(&self, name: &str) -> &str {
        self.cookies.iter().find(|c| c.starts_with(&format!("{name}="))).unwrap_or_else(|| panic!("no {name} cookie"))
    }

    pub fn cookie_value(&self, name: &str) -> String {
        self.cookie(name).split(';').next().unwrap().split_once('=').unwrap().1.to_string()
    }
}

pub async fn api_with(session_ttl: i64, vars: &[(&str, &str)]) -> Api {
    api_configured(session_ttl, vars, |state, _, _| state).await
}

/// The API with `configure` applied to its state (given the store the triggers share and the
/// mail queue they write to).
pub async fn api_configured(
    session_ttl: i64,
    vars: &[(&str, &str)],
    configure: impl FnOnce(AppState, triggers::auth_state::store::MemoryStore, MemoryMailQueue) -> AppState,
) -> Api {
    let queue = MemoryMailQueue::default();
    let mut pairs = vec![("MAIL_QUEUE_URL", "memory"), ("LOGIN_URL", "http://localhost:4000/verify-login")];
    pairs.extend_from_slice(vars);
    let env = Env::from_pairs(pairs);
    let state = triggers::auth_state::store::MemoryStore::new();
    let triggers = InProcessTriggers::with_store(&env, queue.clone(), state.clone()).unwrap();
    let pool = local_cognito::spawn(
        |c| c.session_ttl = chrono::Duration::seconds(session_ttl),
        Arc::new(MemoryStore::default()),
        Arc::new(triggers),
    )
    .await
    .unwrap();
    let config = ApiConfig::from_env(&Env::from_pairs([
        ("COGNITO_CLIENT_ID", pool.config.client_id.as_str()),
        ("COGNITO_USER_POOL_ID", pool.config.user_pool_id.as_str()),
        ("AWS_ENDPOINT_URL", pool.config.endpoint.as_str()),
        ("ALLOWED_ORIGINS", APP),
        ("API_ORIGIN", "http://localhost:4000"),
    ]))
    .unwrap();
    let idp = CognitoIdp::new(testkit::cognito::client(&pool.config.endpoint).await, config.client_id.clone());
    let deliveries = Arc::new(StoredDeliveries::new(state.clone(), config.user_pool_id.clone()));
    let app = router(configure(
        AppState::new(config, Arc::new(idp)).with_deliveries(deliveries),
        state.clone(),
        queue.clone(),
    ));
    Api { app, queue, state, pool }
}

pub async fn api() -> Api {
    api_with(180, &[]).await
}

pub async fn call(
    app: &axum::Router,
    method: &str,
    path: &str,
    body: Option<Value>,
    headers: &[(&str, &str)],
) -> Answer {
    let mut request = Request::builder().method(method).uri(path);
    if !headers.iter().any(|(k, _)| *k == "host") {
        request = request.header("host", HOST);
    }
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let body = match body {
        Some(b) => {
            request = request.header("content-type", "application/json");
            Body::from(b.to_string())
        }
        None => Body::empty(),
    };
    let response = app.clone().oneshot(request.body(body).unwrap()).await.unwrap();
    let status = response.status();
    let cookies = response.headers().get_all("set-cookie").iter().map(|c| c.to_str().unwrap().to_string()).collect();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
    let body = if bytes.is_empty() { Value::Null } else { serde_json::from_slice(&bytes).unwrap() };
    Answer { status, body, cookies }
}

impl Api {
    pub fn pool(&self) -> &UserPool {
        &self.pool
    }

    pub async fn post(&self, path: &str, body: Value) -> Answer {
        call(&self.app, "POST", path, Some(body), &[]).await
    }

    pub fn last_code(&self) -> String {
        match &self.queue.jobs().last().expect("an email").content {
            MailContent::LoginLink(d) => d.code.clone(),
            other => panic!("not a login email: {}", other.template_name()),
        }
    }

    pub async fn sign_up(&self, username: &str) {
        let a = self.post("/signup", json!({"username": username, "email": format!("{username}@example.com")})).await;
        assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    }

    /// Signs in with the emailed code; returns the answer that set the cookies.
    pub async fn signed_in(&self, username: &str) -> Answer {
        self.sign_up(username).await;
        let login = self.post("/login", json!({"username": username})).await;
        let session = login.body["session"].as_str().unwrap();
        let done = self
            .post("/verify-login", json!({"username": username, "session": session, "code": self.last_code()}))
            .await;
        assert_eq!(done.status, StatusCode::OK, "{}", done.body);
        done
    }
}
