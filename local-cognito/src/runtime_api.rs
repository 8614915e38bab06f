//! The triggers as the real Lambda binaries: for each function the endpoint hosts a Lambda Runtime
//! API on its own loopback port and keeps one warm process polling it, as the Lambda service does.
//! Invocations of one function are served one at a time (one execution environment).

use crate::triggers::{Trigger, TriggerFailure, TriggerRunner};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures::future::BoxFuture;
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path as FsPath, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::{Mutex, mpsc, oneshot};

/// Cognito waits this long for a trigger.
pub const TRIGGER_TIMEOUT: Duration = Duration::from_secs(5);

type Reply = oneshot::Sender<Result<Value, TriggerFailure>>;

struct Invocation {
    body: Value,
    reply: Reply,
}

struct Api {
    function: String,
    next: Mutex<mpsc::Receiver<Invocation>>,
    in_flight: std::sync::Mutex<HashMap<String, Reply>>,
    init_error: std::sync::Mutex<Option<String>>,
    counter: AtomicU64,
}

/// One function: its Runtime API and its process.
struct Function {
    trigger: Trigger,
    queue: mpsc::Sender<Invocation>,
    api: Arc<Api>,
    /// One invocation at a time, as one Lambda execution environment.
    busy: Mutex<()>,
    /// Where its Runtime API listens (loopback).
    address: std::net::SocketAddr,
    _process: tokio::process::Child,
}

pub struct BinaryTriggers {
    functions: Vec<Function>,
}

impl BinaryTriggers {
    /// Starts one process per trigger binary the project deploys, from `bin_dir`
    /// (post-authentication only when `SIGN_IN_URL` is among `env`; it reaches the pool through
    /// `AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER`), each with the Lambda variables and `env` on
    /// top of this process's environment (so `AWS_ENDPOINT_URL*` reach them).
    pub async fn start(bin_dir: &FsPath, env: &[(String, String)]) -> std::io::Result<BinaryTriggers> {
        let has_welcome = env.iter().any(|(k, v)| k == "SIGN_IN_URL" && !v.is_empty());
        let mut functions = Vec::new();
        for trigger in Trigger::PROJECT {
            if trigger == Trigger::PostAuthentication && !has_welcome {
                continue;
            }
            functions.push(start_function(trigger, &bin_dir.join(trigger.binary()), env).await?);
        }
        Ok(BinaryTriggers { functions })
    }

    /// Where each function's Runtime API listens, for tests of what it refuses.
    pub fn runtime_api_addresses(&self) -> Vec<std::net::SocketAddr> {
        self.functions.iter().map(|f| f.address).collect()
    }

    fn function(&self, trigger: Trigger) -> Option<&Function> {
        self.functions.iter().find(|f| f.trigger == trigger)
    }
}

async fn start_function(trigger: Trigger, binary: &PathBuf, env: &[(String, String)]) -> std::io::Result<Function> {
    let (queue, next) = mpsc::channel(64);
    let api = Arc::new(Api {
        function: trigger.binary().to_string(),
        next: Mutex::new(next),
        in_flight: Default::default(),
        init_error: Default::default(),
        counter: AtomicU64::new(0),
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let router = Router::new()
        .route("/2018-06-01/runtime/invocation/next", get(next_invocation))
        .route("/2018-06-01/runtime/invocation/{id}/response", post(invocation_response))
        .route("/2018-06-01/runtime/invocation/{id}/error", post(invocation_error))
        .route("/2018-06-01/runtime/init/error", post(init_error))
        .with_state(api.clone());
    // Only the function's own process may talk to its Runtime API: a foreign Host (DNS rebinding)
    // or a browser's request (it carries an Origin; the runtime client never does) is refused, or
    // a web page could read events or answer for a trigger (tokens without a code).
    let router = router.layer(axum::middleware::from_fn(refuse_browsers));
    let router = crate::host::guard(router, crate::host::HostAllowList::new(address, &[]));
    tokio::spawn(async move { axum::serve(listener, router).await });

    let name = trigger.binary();
    let process = tokio::process::Command::new(binary)
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env("AWS_LAMBDA_RUNTIME_API", address.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", name)
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}"))
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "local")
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| std::io::Error::new(e.kind(), format!("cannot start {}: {e}", binary.display())))?;
    Ok(Function { trigger, queue, api, busy: Mutex::new(()), address, _process: process })
}

impl TriggerRunner for BinaryTriggers {
    fn has(&self, trigger: Trigger) -> bool {
        self.function(trigger).is_some()
    }

    fn invoke(&self, trigger: Trigger, event: Value) -> BoxFuture<'_, Result<Value, TriggerFailure>> {
        Box::pin(async move {
            let function =
                self.function(trigger).ok_or_else(|| TriggerFailure::Unavailable("function not configured".into()))?;
            if let Some(error) = function.api.init_error.lock().unwrap_or_else(|p| p.into_inner()).clone() {
                return Err(TriggerFailure::Unavailable(format!("init error: {error}")));
            }
            let _one_at_a_time = function.busy.lock().await;
            let (reply, answer) = oneshot::channel();
            function
                .queue
                .send(Invocation { body: event, reply })
                .await
                .map_err(|_| TriggerFailure::Unavailable("the function's runtime API is gone".into()))?;
            match tokio::time::timeout(TRIGGER_TIMEOUT, answer).await {
                Ok(Ok(result)) => result,
                Ok(Err(_)) => Err(TriggerFailure::Unavailable("the function gave no answer".into())),
                Err(_) => Err(TriggerFailure::Unavailable("Task timed out after 5.00 seconds".into())),
            }
        })
    }
}

async fn refuse_browsers(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    if request.headers().contains_key(axum::http::header::ORIGIN) {
        return (StatusCode::FORBIDDEN, "the Runtime API answers the function's process only\n").into_response();
    }
    next.run(request).await
}

async fn next_invocation(State(api): State<Arc<Api>>) -> Response {
    let Some(invocation) = api.next.lock().await.recv().await else {
        return StatusCode::GONE.into_response();
    };
    let id = format!("local-{:016x}", api.counter.fetch_add(1, Ordering::Relaxed));
    api.in_flight.lock().unwrap_or_else(|p| p.into_inner()).insert(id.clone(), invocation.reply);
    let deadline = chrono::Utc::now().timestamp_millis() + TRIGGER_TIMEOUT.as_millis() as i64;
    let arn = format!("arn:aws:lambda:us-east-1:000000000000:function:{}", api.function);
    let mut headers = HeaderMap::new();
    let mut set = |name: &'static str, value: String| {
        headers.insert(name, HeaderValue::from_str(&value).expect("ASCII header value"));
    };
    set("lambda-runtime-aws-request-id", id);
    set("lambda-runtime-deadline-ms", deadline.to_string());
    set("lambda-runtime-invoked-function-arn", arn);
    set("lambda-runtime-trace-id", "Root=1-00000000-000000000000000000000000;Sampled=0".into());
    set("content-type", "application/json".into());
    (headers, invocation.body.to_string()).into_response()
}

fn finish(api: &Api, id: &str, result: Result<Value, TriggerFailure>) -> StatusCode {
    match api.in_flight.lock().unwrap_or_else(|p| p.into_inner()).remove(id) {
        Some(reply) => {
            let _ = reply.send(result);
            StatusCode::ACCEPTED
        }
        None => StatusCode::NOT_FOUND,
    }
}

async fn invocation_response(State(api): State<Arc<Api>>, Path(id): Path<String>, body: Bytes) -> StatusCode {
    let result = serde_json::from_slice(&body)
        .map_err(|e| TriggerFailure::Unavailable(format!("the function's response is not JSON: {e}")));
    finish(&api, &id, result)
}

/// The function's `{errorType, errorMessage}`; Cognito shows the message.
async fn invocation_error(State(api): State<Arc<Api>>, Path(id): Path<String>, body: Bytes) -> StatusCode {
    let message = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v["errorMessage"].as_str().map(str::to_string))
        .unwrap_or_else(|| "Unhandled".to_string());
    finish(&api, &id, Err(TriggerFailure::Returned(message)))
}

async fn init_error(State(api): State<Arc<Api>>, body: Bytes) -> StatusCode {
    let message = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v["errorMessage"].as_str().map(str::to_string))
        .unwrap_or_else(|| String::from_utf8_lossy(&body).into_owned());
    tracing::error!(function = %api.function, error = %message, "trigger function failed to start");
    *api.init_error.lock().unwrap_or_else(|p| p.into_inner()) = Some(message);
    StatusCode::ACCEPTED
}
