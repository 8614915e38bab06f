//! Workspace-level end-to-end tests live in `tests/tests/`; this library holds their shared
//! set-up: a moto server with the mail queue, local-cognito on a loopback port running the real
//! triggers (in this process) against that queue, the real SDK client, and the mailer.

use aws_sdk_cognitoidentityprovider::error::ProvideErrorMetadata;
use aws_sdk_cognitoidentityprovider::operation::initiate_auth::InitiateAuthOutput;
use aws_sdk_cognitoidentityprovider::operation::respond_to_auth_challenge::RespondToAuthChallengeOutput;
use aws_sdk_cognitoidentityprovider::types::{AuthFlowType, ChallengeNameType};
use aws_sdk_sqs::types::QueueAttributeName;
use lambda_support::Env;
use local_cognito::store::MemoryStore;
use local_cognito::triggers::InProcessTriggers;
use local_cognito::{PoolConfig, UserPool};
use mail_job::{MailContent, MailJob};
use mailer::batch::Mailer;
use mailer::config::MailerConfig;
use mailer::ses::SesSender;
use std::sync::Arc;
use testkit::{Moto, sqs_event};
use triggers::auth_state::store::DynamoStore;
use triggers::mail_queue::SqsMailQueue;

pub type Answer = Result<RespondToAuthChallengeOutput, (String, String)>;

/// Cognito's error type and message, as the SDK read them.
fn cognito_error(e: &impl ProvideErrorMetadata) -> (String, String) {
    (e.code().unwrap_or("?").to_string(), e.message().unwrap_or("").to_string())
}

pub const LOGIN_URL: &str = "http://localhost:4000/verify-login";

pub struct CognitoStack {
    pub moto: Moto,
    pub sqs: aws_sdk_sqs::Client,
    pub dynamodb: aws_sdk_dynamodb::Client,
    /// The auth-state table on moto the triggers use (through the real DynamoDB adapter).
    pub table: String,
    pub queue_url: String,
    pub pool: Arc<UserPool>,
    pub cognito: aws_sdk_cognitoidentityprovider::Client,
    mailer: Mailer<SesSender>,
}

impl CognitoStack {
    /// `configure` may change the pool's defaults (e.g. a short session lifetime).
    pub async fn start(configure: impl FnOnce(&mut PoolConfig)) -> CognitoStack {
        Self::start_with(configure, &[]).await
    }

    /// Like [`CognitoStack::start`], with extra trigger variables (limits, code length, ...).
    pub async fn start_with(configure: impl FnOnce(&mut PoolConfig), vars: &[(&str, &str)]) -> CognitoStack {
        let moto = Moto::start();
        let config = moto.sdk_config().await;
        let sqs = aws_sdk_sqs::Client::new(&config);
        let ses = aws_sdk_sesv2::Client::new(&config);
        moto.verify_domain(&ses, "acme.example").await;
        let queue_url = sqs
            .create_queue()
            .queue_name("mail")
            .attributes(QueueAttributeName::VisibilityTimeout, "1")
            .send()
            .await
            .expect("create queue")
            .queue_url
            .expect("queue url");
        let dynamodb = aws_sdk_dynamodb::Client::new(&config);
        let table = moto.auth_state_table(&dynamodb, "auth-state").await;
        let store = DynamoStore::new(dynamodb.clone(), table.clone());
        let mut pairs = vec![("MAIL_QUEUE_URL", queue_url.as_str()), ("LOGIN_URL", LOGIN_URL)];
        pairs.extend_from_slice(vars);
        let env = Env::from_pairs(pairs);
        let queue = SqsMailQueue::new(sqs.clone(), queue_url.clone());
        let triggers = InProcessTriggers::with_store(&env, queue, store).expect("trigger config");
        let pool = local_cognito::spawn(configure, Arc::new(MemoryStore::default()), Arc::new(triggers))
            .await
            .expect("local-cognito on loopback");
        let cognito = testkit::cognito::client(&pool.config.endpoint).await;
        let mailer = Mailer::new(
            MailerConfig::from_env(&Env::from_pairs([("MAIL_FROM", "Acme <no-reply@acme.example>")])).unwrap(),
            SesSender::new(ses),
        );
        CognitoStack { moto, sqs, dynamodb, table, queue_url, pool, cognito, mailer }
    }

    pub fn client_id(&self) -> &str {
        &self.pool.config.client_id
    }

    pub async fn sign_up(&self, username: &str, email: &str) {
        let out = self
            .cognito
            .sign_up()
            .client_id(self.client_id())
            .username(username)
            .password("Local-Passw0rd!")
            .user_attributes(attribute("email", email))
            .send()
            .await
            .expect("sign-up");
        assert!(out.user_confirmed(), "pre-sign-up confirms users with an email");
    }

    /// The mail jobs waiting on the queue, received and deleted (as the mailer would).
    pub async fn take_jobs(&self) -> Vec<MailJob> {
        let messages = self.receive().await;
        for m in &messages {
            self.delete(m).await;
        }
        messages.iter().map(|m| MailJob::parse(m.body().unwrap()).expect("a valid mail job")).collect()
    }

    /// The code of the one login email now on the queue.
    pub async fn code_from_queue(&self) -> String {
        let jobs: Vec<MailJob> =
            self.take_jobs().await.into_iter().filter(|j| matches!(j.content, MailContent::LoginLink(_))).collect();
        assert_eq!(jobs.len(), 1, "exactly one login email");
        match &jobs[0].content {
            MailContent::LoginLink(data) => data.code.clone(),
            _ => unreachable!(),
        }
    }

    /// Hands what is on the queue to the mailer as the event source mapping would, deletes what
    /// it did not report, and returns the emails moto's SES has accepted so far.
    pub async fn deliver(&self) -> Vec<serde_json::Value> {
        let messages = self.receive().await;
        let event = serde_json::from_value(sqs_event(&messages, "arn:aws:sqs:us-east-1:123456789012:mail")).unwrap();
        let response = self.mailer.handle(event, chrono::Utc::now()).await;
        assert!(response.batch_item_failures.is_empty(), "every job was sent");
        for m in &messages {
            self.delete(m).await;
        }
        self.moto.sent_emails()
    }

    /// `InitiateAuth` (CUSTOM_AUTH) through the real SDK: the challenge, or Cognito's error
    /// type and message.
    pub async fn initiate(&self, username: &str) -> Result<InitiateAuthOutput, (String, String)> {
        self.cognito
            .initiate_auth()
            .client_id(self.client_id())
            .auth_flow(AuthFlowType::CustomAuth)
            .auth_parameters("USERNAME", username)
            .send()
            .await
            .map_err(|e| cognito_error(&e))
    }

    /// `RespondToAuthChallenge` with `answer`, or (when `resend`) the auth API's resend request:
    /// `ClientMetadata {"action": "resend"}`.
    pub async fn respond(&self, username: &str, session: &str, answer: &str, resend: bool) -> Answer {
        let mut request = self
            .cognito
            .respond_to_auth_challenge()
            .client_id(self.client_id())
            .challenge_name(ChallengeNameType::CustomChallenge)
            .session(session)
            .challenge_responses("USERNAME", username)
            .challenge_responses("ANSWER", answer);
        if resend {
            request = request.client_metadata("action", "resend");
        }
        request.send().await.map_err(|e| cognito_error(&e))
    }

    /// Moves every item of the auth-state table `seconds` into the past, as if that much time had
    /// gone by (the triggers read the clock; the test cannot wait an hour).
    pub async fn age_auth_state(&self, seconds: i64) {
        use aws_sdk_dynamodb::types::AttributeValue;
        let items = self.dynamodb.scan().table_name(&self.table).send().await.expect("scan").items.unwrap_or_default();
        for mut item in items {
            let Some(AttributeValue::S(json)) = item.get("state") else { panic!("no state") };
            // Every kind of item (a user's, a mailbox's, a sign-out) names its times alike.
            let mut state: serde_json::Value = serde_json::from_str(json).unwrap();
            let mut shift = |v: &mut serde_json::Value| {
                if let Some(t) = v.as_i64() {
                    *v = (t - seconds).into();
                }
            };
            state["emails"].as_array_mut().into_iter().flatten().for_each(&mut shift);
            if state["code"].is_object() {
                shift(&mut state["code"]["sent_at"]);
                shift(&mut state["code"]["expires_at"]);
            }
            if state.get("until").is_some() {
                shift(&mut state["until"]);
            }
            item.insert("state".into(), AttributeValue::S(serde_json::to_string(&state).unwrap()));
            self.dynamodb.put_item().table_name(&self.table).set_item(Some(item)).send().await.expect("put");
        }
    }

    /// The mail jobs waiting on the queue, read and left there (visible again at once).
    pub async fn peek_jobs(&self) -> Vec<MailJob> {
        let messages = self.receive().await;
        for m in &messages {
            let receipt = m.receipt_handle().unwrap_or_default();
            let visible = self.sqs.change_message_visibility().queue_url(&self.queue_url).receipt_handle(receipt);
            visible.visibility_timeout(0).send().await.expect("release the message");
        }
        messages.iter().map(|m| MailJob::parse(m.body().unwrap()).expect("a valid mail job")).collect()
    }

    async fn receive(&self) -> Vec<aws_sdk_sqs::types::Message> {
        testkit::receive(&self.sqs, &self.queue_url).await
    }

    async fn delete(&self, m: &aws_sdk_sqs::types::Message) {
        self.sqs
            .delete_message()
            .queue_url(&self.queue_url)
            .receipt_handle(m.receipt_handle().unwrap())
            .send()
            .await
            .unwrap();
    }
}

pub fn attribute(name: &str, value: &str) -> aws_sdk_cognitoidentityprovider::types::AttributeType {
    aws_sdk_cognitoidentityprovider::types::AttributeType::builder().name(name).value(value).build().unwrap()
}

/// The digits after `code=` in an email body (the sign-in link).
pub fn code_in(html: &str) -> String {
    let at = html.find("code=").expect("a sign-in link with a code") + "code=".len();
    html[at..].chars().take_while(char::is_ascii_digit).collect()
}
