//! `local-stack`: the whole product on one loopback port. local-cognito (the Cognito endpoint, the
//! JWKS), the auth API under `/api`, the web front end, the local inbox and the developer pages,
//! with the real triggers in this process, the mail queue with SQS semantics ([`queue`]) or real
//! SQS, and the real mailer polling it ([`worker`]) and sending to the [`inbox`] or SES.

pub mod inbox;
pub mod pages;
pub mod persist;
pub mod queue;
pub mod users;
pub mod worker;

use auth_api::config::ApiConfig;
use auth_api::idp::CognitoIdp;
use axum::Router;
use inbox::Inbox;
use lambda_support::Env;
use local_cognito::store::{MemoryStore, Store};
use local_cognito::triggers::InProcessTriggers;
use local_cognito::{PoolConfig, UserPool};
use mailer::batch::Mailer;
use mailer::config::MailerConfig;
use queue::{LocalQueue, QueueSettings};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use triggers::auth_state::store::{DynamoStore, MemoryStore as StateMemory};
use worker::JobSource;

#[derive(Debug, Clone)]
pub struct Options {
    /// Use SQS (`MAIL_QUEUE_URL`, optionally `MAIL_DLQ_URL`) and SES v2 through the SDK's
    /// standard variables instead of the in-process queue and the local inbox.
    pub aws: bool,
    /// Keep users and the inbox in this folder across restarts.
    pub state_dir: Option<PathBuf>,
    pub queue: QueueSettings,
    pub session_ttl: chrono::Duration,
    /// How long the worker waits after an empty poll of the in-process queue.
    pub poll_idle: Duration,
    /// Refresh token rotation's grace period (the CDK app client's, by default), or `None` for
    /// rotation off.
    pub refresh_rotation_grace: Option<chrono::Duration>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            aws: false,
            state_dir: None,
            // Shorter than the deployed 180 s so a failed email visibly comes back within seconds;
            // five receives, as deployed.
            queue: QueueSettings { visibility_timeout: chrono::Duration::seconds(10), max_receive_count: 5 },
            session_ttl: chrono::Duration::seconds(180),
            poll_idle: Duration::from_millis(100),
            refresh_rotation_grace: Some(chrono::Duration::seconds(
                local_cognito::pool::DEFAULT_ROTATION_GRACE_SECONDS,
            )),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("configuration error: {0}")]
    Config(#[from] lambda_support::ConfigError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Other(String),
}

/// What the developer pages show of the mail pipeline.
#[derive(Clone)]
pub enum QueueInfo {
    Local(LocalQueue),
    Sqs { client: aws_sdk_sqs::Client, queue_url: String, dlq_url: Option<String> },
}

/// Everything the pages need.
#[derive(Clone)]
pub struct Stack {
    pub origin: String,
    pub pool: Arc<UserPool>,
    pub inbox: Inbox,
    pub queue: QueueInfo,
    /// SES's events on their way to mail-feedback (the simulator's, or the deployed queue's).
    pub feedback: Option<QueueInfo>,
    worker: Worker,
    /// Held while the stack runs: one process per `--state` folder.
    _state_lock: Option<Arc<std::fs::File>>,
}

/// The mail worker's task and its stop signal; and, with `--state`, where undelivered jobs wait.
#[derive(Clone)]
struct Worker {
    stop: Arc<tokio::sync::watch::Sender<bool>>,
    /// The mailer's poller, then mail-feedback's.
    task: Arc<std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>>,
    queue_file: Option<Arc<persist::JsonFile>>,
}

/// What a stop did with the mail that was not delivered yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Undelivered {
    /// None was waiting (or it waits on SQS, which keeps it).
    None,
    /// Kept in this file; delivered after the next start.
    Kept(usize, PathBuf),
    /// Dropped: no `--state`.
    Dropped(usize),
}

impl Stack {
    /// Stops the mail worker (it finishes the batch in hand, for at most `grace`), then keeps what
    /// is still queued in `--state` (`queue.json`) or drops it, and says which.
    pub async fn stop(&self, grace: Duration) -> Undelivered {
        let _ = self.worker.stop.send(true);
        let tasks = std::mem::take(&mut *self.worker.task.lock().unwrap_or_else(|p| p.into_inner()));
        if tokio::time::timeout(grace, futures::future::join_all(tasks)).await.is_err() {
            tracing::warn!("the mail worker did not finish its batch in time; its messages stay queued");
        }
        let QueueInfo::Local(queue) = &self.queue else { return Undelivered::None };
        let bodies = queue.take_undelivered();
        match (&self.worker.queue_file, bodies.len()) {
            (Some(file), 0) => {
                // Everything kept last time has been delivered.
                if let Err(e) = std::fs::remove_file(file.path())
                    && e.kind() != std::io::ErrorKind::NotFound
                {
                    tracing::warn!(error = %e, "delivered mail's file not removed");
                }
                Undelivered::None
            }
            (None, 0) => Undelivered::None,
            (Some(file), n) => match file.save_with(|| &bodies) {
                Ok(()) => Undelivered::Kept(n, file.path().to_path_buf()),
                Err(e) => {
                    tracing::error!(error = %e, "undelivered mail not kept");
                    Undelivered::Dropped(n)
                }
            },
            (None, n) => Undelivered::Dropped(n),
        }
    }
}

/// What the triggers, mail-feedback, the API's delivery statuses and its passkeys share: one
/// auth-state store (a passkey's proof must reach the create trigger through it).
struct Shared {
    triggers: Arc<dyn local_cognito::triggers::TriggerRunner>,
    feedback: Arc<dyn worker::Consumer>,
    deliveries: Arc<dyn auth_api::deliveries::Deliveries>,
    passkeys: Arc<dyn auth_api::passkeys::PasskeyApi>,
}

/// Passkeys need a domain for their relying party: the stack offers them on
/// `http://localhost:<port>` (browsers refuse an IP address as an RP ID).
pub fn passkey_origin(listener_addr: std::net::SocketAddr) -> String {
    format!("http://localhost:{}", listener_addr.port())
}

impl Shared {
    fn wire<Q, S>(
        store: S,
        env: &Env,
        queue: Q,
        feedback: &mail_feedback::apply::FeedbackConfig,
        passkey_origin: &str,
    ) -> Result<Shared, StartError>
    where
        Q: triggers::mail_queue::MailQueue + Clone + 'static,
        S: triggers::auth_state::store::AuthStateStore + Clone + 'static,
    {
        use auth_api::passkeys::{PasskeyConfig, Passkeys, notices::QueuedNotices};
        let pool = feedback.user_pool_id.clone();
        let passkey_config = PasskeyConfig::new("localhost", passkey_origin)?;
        let notices =
            QueuedNotices::new(store.clone(), queue.clone(), pool.clone(), format!("{passkey_origin}/account"))
                .with_limits(triggers::auth_state::Limits::from_env(env)?);
        let passkeys = Passkeys::new(&passkey_config, APP_NAME, store.clone(), pool.clone(), Arc::new(notices));
        Ok(Shared {
            triggers: Arc::new(InProcessTriggers::with_store(env, queue, store.clone())?),
            feedback: Arc::new(mail_feedback::apply::MailFeedback::new(feedback.clone(), store.clone())),
            deliveries: Arc::new(auth_api::deliveries::StoredDeliveries::new(store, pool)),
            passkeys: Arc::new(passkeys),
        })
    }
}

/// The name emails and passkey prompts show.
pub const APP_NAME: &str = "Passwordless (local)";

/// The mailer's sender address in the local stack (the inbox shows it).
pub const MAIL_FROM: &str = "Passwordless <no-reply@example.com>";

fn trigger_env(origin: &str, queue_url: &str) -> Env {
    let process = Env::from_process();
    let mut pairs: Vec<(&str, String)> = vec![
        ("MAIL_QUEUE_URL", queue_url.to_string()),
        ("LOGIN_URL", format!("{origin}/verify-login")),
        ("SIGN_IN_URL", format!("{origin}/")),
    ];
    for name in triggers::TUNING_VARIABLES {
        if let Some(v) = process.optional(name) {
            pairs.push((name, v.to_string()));
        }
    }
    Env::from_pairs(pairs.iter().map(|(k, v)| (*k, v.as_str())))
}

/// The SDK client of the auth API, pointed at this very stack: explicit region and local
/// credentials, so nothing waits for an instance-metadata lookup.
async fn cognito_client(endpoint: &str) -> aws_sdk_cognitoidentityprovider::Client {
    use aws_sdk_cognitoidentityprovider::config::{BehaviorVersion, Credentials, Region};
    let config = aws_sdk_cognitoidentityprovider::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("local", "local", None, None, "local-stack"))
        .endpoint_url(endpoint)
        .build();
    aws_sdk_cognitoidentityprovider::Client::from_conf(config)
}

/// Builds the stack for a bound listener and returns its router; the mail worker runs in the
/// background until the runtime stops.
pub async fn start(listener_addr: std::net::SocketAddr, options: Options) -> Result<(Router, Stack), StartError> {
    let origin = format!("http://{listener_addr}");
    let passkey_origin = passkey_origin(listener_addr);
    let (users_file, inbox_file, state_lock) = match &options.state_dir {
        Some(dir) => {
            persist::private_dir(dir)?;
            let lock = persist::lock_dir(dir)?;
            (Some(dir.join("users.json")), Some(dir.join("inbox.jsonl")), Some(Arc::new(lock)))
        }
        None => (None, None, None),
    };
    let store: Arc<dyn Store> = match users_file {
        Some(file) => Arc::new(users::SavedUsers::open(file)?),
        None => Arc::new(MemoryStore::default()),
    };
    let inbox = Inbox::open(inbox_file)?;
    let mailer_config = MailerConfig::from_env(&Env::from_pairs([("MAIL_FROM", MAIL_FROM), ("APP_NAME", APP_NAME)]))?;

    let mut config = PoolConfig::local(&origin);
    config.session_ttl = options.session_ttl;
    config.refresh_token_rotation = options.refresh_rotation_grace;
    let feedback_config = mail_feedback::apply::FeedbackConfig { user_pool_id: config.user_pool_id.clone() };
    let (stop, stop_rx) = tokio::sync::watch::channel(false);
    let queue_file = options.state_dir.as_ref().map(|dir| Arc::new(persist::JsonFile::new(dir.join("queue.json"))));
    let mut tasks = Vec::new();
    let (pool, queue, feedback, deliveries, passkeys) = if options.aws {
        let env = Env::from_process();
        let queue_url = env.required("MAIL_QUEUE_URL")?.to_string();
        let dlq_url = env.optional("MAIL_DLQ_URL").map(str::to_string);
        let feedback_url = env.optional("FEEDBACK_QUEUE_URL").map(str::to_string);
        let sdk = lambda_support::sdk_config(triggers::mail_queue::TIMEOUTS).await;
        let sqs = aws_sdk_sqs::Client::new(&sdk);
        let trigger_env = trigger_env(&origin, &queue_url);
        let mail_queue = triggers::mail_queue::SqsMailQueue::new(sqs.clone(), queue_url.clone());
        // With `--aws`, the auth state goes to DynamoDB when `AUTH_STATE_TABLE` names a table, and
        // the triggers, mail-feedback and the API's delivery statuses share it.
        let shared = match env.optional("AUTH_STATE_TABLE") {
            Some(table) => Shared::wire(
                DynamoStore::from_sdk(&sdk, table),
                &trigger_env,
                mail_queue,
                &feedback_config,
                &passkey_origin,
            )?,
            None => Shared::wire(StateMemory::new(), &trigger_env, mail_queue, &feedback_config, &passkey_origin)?,
        };
        let pool = UserPool::new(config, store, shared.triggers).map_err(StartError::Other)?;
        let ses = aws_sdk_sesv2::Client::new(&lambda_support::sdk_config(mailer::ses::TIMEOUTS).await);
        let redelivery = dlq_url
            .clone()
            .map(|dlq| mailer::redelivery::SqsRedelivery::new(sqs.clone(), dlq, Some(queue_url.clone())));
        let mailer = Arc::new(Mailer::new(mailer_config, mailer::ses::SesSender::new(ses)).with_redelivery(redelivery));
        let source: Arc<dyn JobSource> =
            Arc::new(worker::SqsSource { client: sqs.clone(), queue_url: queue_url.clone() });
        tasks.push(tokio::spawn(worker::run(source, mailer, options.poll_idle, stop_rx.clone())));
        // SES's events, as deployed: the feedback queue the configuration set's rule fills.
        let feedback = feedback_url.map(|url| {
            let source: Arc<dyn JobSource> =
                Arc::new(worker::SqsSource { client: sqs.clone(), queue_url: url.clone() });
            tasks.push(tokio::spawn(worker::run(source, shared.feedback, options.poll_idle, stop_rx.clone())));
            QueueInfo::Sqs { client: sqs.clone(), queue_url: url, dlq_url: None }
        });
        (pool, QueueInfo::Sqs { client: sqs, queue_url, dlq_url }, feedback, shared.deliveries, shared.passkeys)
    } else {
        let local = LocalQueue::new(options.queue);
        // Mail a previous run stopped before delivering is queued again first.
        // The file stays until the next stop rewrites it: a start that fails, or a crash, loses
        // nothing (a crash may deliver some of it twice, which an inbox survives).
        if let Some(file) = &queue_file
            && let Some(bodies) = file.load::<Vec<String>>()?
        {
            let now = chrono::Utc::now();
            bodies.into_iter().for_each(|body| drop(local.send(body, now)));
        }
        let env = trigger_env(&origin, "local");
        let shared = Shared::wire(StateMemory::new(), &env, local.clone(), &feedback_config, &passkey_origin)?;
        let pool = UserPool::new(config, store, shared.triggers).map_err(StartError::Other)?;
        // The inbox plays SES's mailbox simulator: its events go through mail-feedback as deployed.
        let feedback_queue = LocalQueue::new(options.queue);
        let sender = inbox.clone().with_feedback(feedback_queue.clone());
        let mailer = Arc::new(Mailer::new(mailer_config, sender).with_redelivery(local.clone()));
        tasks.push(tokio::spawn(worker::run(Arc::new(local.clone()), mailer, options.poll_idle, stop_rx.clone())));
        let source: Arc<dyn JobSource> = Arc::new(feedback_queue.clone());
        tasks.push(tokio::spawn(worker::run(source, shared.feedback, options.poll_idle, stop_rx.clone())));
        (pool, QueueInfo::Local(local), Some(QueueInfo::Local(feedback_queue)), shared.deliveries, shared.passkeys)
    };

    let env = Env::from_process();
    let api_config = ApiConfig {
        client_id: pool.config.client_id.clone(),
        user_pool_id: pool.config.user_pool_id.clone(),
        issuer: pool.config.issuer.clone(),
        own_origin: Some(origin.clone()),
        // The same stack opened as localhost or [::1] (the Host guard lets those in).
        allowed_origins: ["localhost", "[::1]"]
            .iter()
            .map(|h| format!("http://{h}:{}", listener_addr.port()))
            .collect(),
        cookie_domain: None,
        max_attempts: env.integer_in("MAX_ATTEMPTS", 3, 1..=10)?,
        code_ttl_seconds: env.integer_in("CODE_TTL_SECONDS", 180, 60..=900)?,
        refresh_token_days: 30,
    };
    let idp = CognitoIdp::new(cognito_client(&origin).await, api_config.client_id.clone());
    let state = auth_api::AppState::new(api_config, Arc::new(idp)).with_deliveries(deliveries).with_passkeys(passkeys);
    let api = auth_api::router(state);

    let worker = Worker {
        stop: Arc::new(stop),
        task: Arc::new(std::sync::Mutex::new(tasks)),
        queue_file: queue_file.filter(|_| !options.aws),
    };
    // Where Cognito itself would send an email (an attribute verification code), it lands in the
    // inbox too. With `--aws` as well: the developer reads it here either way.
    pool.outbox().forward_to(Arc::new(inbox.clone()));
    let stack = Stack { origin, pool: pool.clone(), inbox, queue, feedback, worker, _state_lock: state_lock };
    let router = Router::new().merge(local_cognito::router(pool)).nest("/api", api).merge(pages::router(stack.clone()));
    Ok((router, stack))
}
