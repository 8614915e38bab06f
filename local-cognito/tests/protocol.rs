//! The endpoint as SDKs see it: the JSON 1.1 framing and Cognito's errors (what boto3 reads from
//! the body, what the Rust SDK reads from the header), where `ClientMetadata` goes, trigger
//! failures, unconfirmed users and the admin operations.

use aws_sdk_cognitoidentityprovider::error::ProvideErrorMetadata;
use aws_sdk_cognitoidentityprovider::types::{AttributeType, AuthFlowType, ChallengeNameType, UserStatusType};
use futures::future::BoxFuture;
use lambda_support::Env;
use local_cognito::mail::MemoryMailQueue;
use local_cognito::store::MemoryStore;
use local_cognito::triggers::{InProcessTriggers, Trigger, TriggerFailure, TriggerRunner};
use local_cognito::{UserPool, spawn};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};

/// The real triggers, with every event recorded and chosen triggers made to fail or vanish.
struct Recording {
    inner: InProcessTriggers<MemoryMailQueue>,
    events: Mutex<Vec<(Trigger, Value)>>,
    failing: Option<Trigger>,
    missing: Option<Trigger>,
}

impl TriggerRunner for Recording {
    fn has(&self, trigger: Trigger) -> bool {
        Some(trigger) != self.missing && self.inner.has(trigger)
    }

    fn attach(&self, pool: std::sync::Weak<local_cognito::UserPool>) {
        self.inner.attach(pool);
    }

    fn invoke(&self, trigger: Trigger, event: Value) -> BoxFuture<'_, Result<Value, TriggerFailure>> {
        self.events.lock().unwrap().push((trigger, event.clone()));
        if Some(trigger) == self.failing {
            return Box::pin(async { Err(TriggerFailure::Returned("no sign-ups today".into())) });
        }
        self.inner.invoke(trigger, event)
    }
}

struct Endpoint {
    pool: Arc<UserPool>,
    triggers: Arc<Recording>,
    queue: MemoryMailQueue,
    client: aws_sdk_cognitoidentityprovider::Client,
}

async fn endpoint(failing: Option<Trigger>, missing: Option<Trigger>) -> Endpoint {
    let queue = MemoryMailQueue::default();
    let env = Env::from_pairs([
        ("MAIL_QUEUE_URL", "memory"),
        ("LOGIN_URL", "http://localhost:4000/verify-login"),
        ("SIGN_IN_URL", "http://localhost:4000/"),
    ]);
    let inner = InProcessTriggers::from_env(&env, queue.clone()).unwrap();
    let triggers = Arc::new(Recording { inner, events: Mutex::default(), failing, missing });
    let pool = spawn(|_| {}, Arc::new(MemoryStore::default()), triggers.clone()).await.unwrap();
    let client = testkit::cognito::client(&pool.config.endpoint).await;
    Endpoint { pool, triggers, queue, client }
}

fn attr(name: &str, value: &str) -> AttributeType {
    AttributeType::builder().name(name).value(value).build().unwrap()
}

impl Endpoint {
    async fn sign_up(&self, username: &str) -> Result<bool, (String, String)> {
        self.client
            .sign_up()
            .client_id(&self.pool.config.client_id)
            .username(username)
            .password("Local-Passw0rd!")
            .user_attributes(attr("email", &format!("{username}@example.com")))
            .client_metadata("from", "sign-up")
            .send()
            .await
            .map(|o| o.user_confirmed())
            .map_err(|e| (e.code().unwrap_or("?").into(), e.message().unwrap_or("").into()))
    }

    fn events(&self, trigger: Trigger) -> Vec<Value> {
        self.triggers.events.lock().unwrap().iter().filter(|(t, _)| *t == trigger).map(|(_, e)| e.clone()).collect()
    }

    /// A raw JSON 1.1 call, as boto3 makes it: status and body.
    async fn raw(&self, target: Option<&str>, body: &str) -> (u16, Value, Option<String>) {
        let mut request = reqwest::Client::new()
            .post(&self.pool.config.endpoint)
            .header("content-type", "application/x-amz-json-1.1")
            .body(body.to_string());
        if let Some(t) = target {
            request = request.header("x-amz-target", format!("AWSCognitoIdentityProviderService.{t}"));
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let header = response.headers().get("x-amzn-errortype").map(|h| h.to_str().unwrap().to_string());
        (status, response.json().await.unwrap(), header)
    }
}

#[tokio::test]
async fn errors_travel_as_cognito_sends_them() {
    let e = endpoint(None, None).await;
    let client_id = e.pool.config.client_id.clone();
    e.sign_up("alice").await.unwrap();

    let (status, body, header) = e
        .raw(
            Some("SignUp"),
            &json!({"ClientId": client_id, "Username": "ALICE", "Password": "Local-Passw0rd!",
            "UserAttributes": [{"Name": "email", "Value": "a@example.com"}]})
            .to_string(),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(body, json!({"__type": "UsernameExistsException", "message": "User already exists"}));
    assert_eq!(header.as_deref(), Some("UsernameExistsException"));

    let (status, body, _) = e.raw(None, "{}").await;
    assert_eq!((status, body["__type"].as_str()), (400, Some("UnknownOperationException")));
    let (_, body, _) = e.raw(Some("InitiateAuth"), "not json").await;
    assert_eq!(body["__type"], "SerializationException");
    let (_, body, _) =
        e.raw(Some("InitiateAuth"), &json!({"ClientId": client_id, "AuthFlow": "CUSTOM_AUTH"}).to_string()).await;
    assert_eq!(body, json!({"__type": "InvalidParameterException", "message": "Missing required parameter USERNAME"}));
    let (_, body, _) = e
        .raw(
            Some("InitiateAuth"),
            &json!({"ClientId": "nope", "AuthFlow": "CUSTOM_AUTH",
        "AuthParameters": {"USERNAME": "alice"}})
            .to_string(),
        )
        .await;
    assert_eq!(body["__type"], "ResourceNotFoundException");

    let password_flow = e
        .client
        .initiate_auth()
        .client_id(&client_id)
        .auth_flow(AuthFlowType::UserPasswordAuth)
        .auth_parameters("USERNAME", "alice")
        .auth_parameters("PASSWORD", "Local-Passw0rd!")
        .send()
        .await
        .unwrap_err();
    assert_eq!(password_flow.code(), Some("InvalidParameterException"), "a custom-auth-only client");

    let weak = e
        .client
        .sign_up()
        .client_id(&client_id)
        .username("weak")
        .password("short")
        .user_attributes(attr("email", "w@example.com"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(weak.code(), Some("InvalidPasswordException"));
    let no_email = e.client.sign_up().client_id(&client_id).username("x").password("Local-Passw0rd!").send().await;
    assert_eq!(no_email.unwrap_err().code(), Some("InvalidParameterException"));
}

#[tokio::test]
async fn a_failing_trigger_is_a_user_lambda_validation_exception() {
    let e = endpoint(Some(Trigger::PreSignUp), None).await;
    assert_eq!(
        e.sign_up("bob").await.unwrap_err(),
        ("UserLambdaValidationException".into(), "PreSignUp failed with error no sign-ups today.".into())
    );
    assert!(e.pool.store().user("bob").is_none(), "no user is created");
}

#[tokio::test]
async fn client_metadata_reaches_only_the_triggers_cognito_passes_it_to() {
    let e = endpoint(None, None).await;
    let client_id = e.pool.config.client_id.clone();
    assert!(e.sign_up("carol").await.unwrap());
    assert_eq!(e.events(Trigger::PreSignUp)[0]["request"]["clientMetadata"], json!({"from": "sign-up"}));
    assert!(e.events(Trigger::PostConfirmation).is_empty(), "the project deploys no post-confirmation trigger");
    assert!(e.queue.jobs().is_empty(), "nothing reaches an address before it is proven");

    let started = e
        .client
        .initiate_auth()
        .client_id(&client_id)
        .auth_flow(AuthFlowType::CustomAuth)
        .auth_parameters("USERNAME", "carol")
        .client_metadata("from", "initiate")
        .send()
        .await
        .unwrap();
    for trigger in [Trigger::DefineAuthChallenge, Trigger::CreateAuthChallenge] {
        let event = &e.events(trigger)[0];
        assert_eq!(
            event["request"]["clientMetadata"],
            Value::Null,
            "InitiateAuth's metadata never reaches {trigger:?}"
        );
        assert_eq!(event["callerContext"]["clientId"], client_id.as_str());
        assert_eq!(event["request"]["userNotFound"], false);
        assert_eq!(event["request"]["userAttributes"]["email"], "carol@example.com");
    }
    let retry = e
        .client
        .respond_to_auth_challenge()
        .client_id(&client_id)
        .challenge_name(ChallengeNameType::CustomChallenge)
        .session(started.session().unwrap())
        .challenge_responses("USERNAME", "carol")
        .challenge_responses("ANSWER", "000000")
        .client_metadata("from", "respond")
        .send()
        .await
        .unwrap();
    let verify = &e.events(Trigger::VerifyAuthChallenge)[0];
    assert_eq!(verify["request"]["clientMetadata"], json!({"from": "respond"}));
    assert_eq!(verify["request"]["challengeAnswer"], "000000");
    assert!(verify["request"]["privateChallengeParameters"].is_object(), "what create returned, passed on");
    let define = &e.events(Trigger::DefineAuthChallenge)[1];
    assert_eq!(define["request"]["clientMetadata"], json!({"from": "respond"}));
    let round = &define["request"]["session"][0];
    assert_eq!(round["challengeName"], "CUSTOM_CHALLENGE");
    assert_eq!(round["challengeResult"], false);
    assert!(round["challengeMetadata"].as_str().unwrap().starts_with("RESENDS-"));
    assert_eq!(e.events(Trigger::CreateAuthChallenge)[1]["request"]["clientMetadata"], json!({"from": "respond"}));

    // The right code: post-authentication gets the metadata, proves the address, then welcomes.
    let code = e
        .queue
        .jobs()
        .iter()
        .find_map(|j| match &j.content {
            mail_job::MailContent::LoginLink(data) => Some(data.code.clone()),
            _ => None,
        })
        .expect("the login email");
    let signed_in = e
        .client
        .respond_to_auth_challenge()
        .client_id(&client_id)
        .challenge_name(ChallengeNameType::CustomChallenge)
        .session(retry.session().unwrap())
        .challenge_responses("USERNAME", "CAROL")
        .challenge_responses("ANSWER", code)
        .client_metadata("from", "respond")
        .send()
        .await
        .unwrap();
    assert!(signed_in.authentication_result().is_some());
    let post = &e.events(Trigger::PostAuthentication)[0];
    assert_eq!(post["triggerSource"], "PostAuthentication_Authentication");
    assert_eq!(post["request"]["clientMetadata"], json!({"from": "respond"}));
    assert_eq!(e.pool.store().user("carol").unwrap().attributes["email_verified"], "true");
    let jobs = e.queue.jobs();
    let templates: Vec<&str> = jobs.iter().map(|j| j.content.template_name()).collect();
    assert_eq!(templates, ["login_link", "welcome"]);
}

#[tokio::test]
async fn without_auto_confirmation_users_confirm_with_the_code_or_an_admin() {
    let e = endpoint(None, Some(Trigger::PreSignUp)).await;
    let client_id = e.pool.config.client_id.clone();
    assert!(!e.sign_up("dan").await.unwrap(), "nothing confirms dan");
    let not_yet = e
        .client
        .initiate_auth()
        .client_id(&client_id)
        .auth_flow(AuthFlowType::CustomAuth)
        .auth_parameters("USERNAME", "dan")
        .send()
        .await
        .unwrap_err();
    assert_eq!(not_yet.code(), Some("UserNotConfirmedException"));
    let wrong =
        e.client.confirm_sign_up().client_id(&client_id).username("dan").confirmation_code("000000").send().await;
    assert_eq!(wrong.unwrap_err().code(), Some("CodeMismatchException"));
    let code = e.pool.store().user("dan").unwrap().confirmation_code.unwrap();
    e.client.confirm_sign_up().client_id(&client_id).username("dan").confirmation_code(code).send().await.unwrap();
    assert!(e.events(Trigger::PostConfirmation).is_empty(), "the project deploys no post-confirmation trigger");
    let again = e.client.confirm_sign_up().client_id(&client_id).username("dan").confirmation_code("1").send().await;
    assert_eq!(again.unwrap_err().code(), Some("NotAuthorizedException"));

    assert!(!e.sign_up("eve").await.unwrap());
    e.client.admin_confirm_sign_up().user_pool_id(&e.pool.config.user_pool_id).username("eve").send().await.unwrap();
    assert_eq!(e.pool.store().user("eve").unwrap().status.as_str(), "CONFIRMED");
}

#[tokio::test]
async fn admin_operations_and_list_users() {
    let e = endpoint(None, None).await;
    let pool_id = e.pool.config.user_pool_id.clone();
    for name in ["fay", "fred", "gus"] {
        e.client
            .admin_create_user()
            .user_pool_id(&pool_id)
            .username(name)
            .user_attributes(attr("email", &format!("{name}@example.com")))
            .send()
            .await
            .unwrap();
    }
    let fay = e.client.admin_get_user().user_pool_id(&pool_id).username("FAY").send().await.unwrap();
    assert_eq!(fay.username(), "fay");
    assert_eq!(fay.user_status(), Some(&UserStatusType::Confirmed));
    assert!(fay.user_attributes().iter().any(|a| a.name() == "email" && a.value() == Some("fay@example.com")));
    assert!(fay.user_create_date().is_some());

    let f = e.client.list_users().user_pool_id(&pool_id).filter("username ^= \"f\"").send().await.unwrap();
    let names: Vec<&str> = f.users().iter().filter_map(|u| u.username()).collect();
    assert_eq!(names, ["fay", "fred"]);
    let page = e.client.list_users().user_pool_id(&pool_id).limit(2).send().await.unwrap();
    assert_eq!(page.users().len(), 2);
    let rest =
        e.client.list_users().user_pool_id(&pool_id).pagination_token(page.pagination_token().unwrap()).send().await;
    assert_eq!(rest.unwrap().users()[0].username(), Some("gus"));
    let by_email = e.client.list_users().user_pool_id(&pool_id).filter("email = \"gus@example.com\"").send().await;
    assert_eq!(by_email.unwrap().users().len(), 1);

    e.client.admin_delete_user().user_pool_id(&pool_id).username("gus").send().await.unwrap();
    let gone = e.client.admin_get_user().user_pool_id(&pool_id).username("gus").send().await.unwrap_err();
    assert_eq!(gone.code(), Some("UserNotFoundException"));
    let wrong_pool = e.client.admin_get_user().user_pool_id("us-east-1_other").username("fay").send().await;
    assert_eq!(wrong_pool.unwrap_err().code(), Some("ResourceNotFoundException"));
}

#[tokio::test]
async fn the_binary_refuses_a_foreign_host_before_any_operation() {
    use std::io::{Read, Write};
    let port = testkit::free_port();
    let mut child = local_cognito_binary(port);
    let ask = |host: &str| {
        let mut stream = connect(port);
        let body = r#"{"UserPoolId":"us-east-1_localpool"}"#;
        write!(
            stream,
            "POST / HTTP/1.1\r\nHost: {host}\r\nX-Amz-Target: AWSCognitoIdentityProviderService.ListUsers\r\n\
             Content-Type: application/x-amz-json-1.1\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        answer
    };
    let rebinding = ask(&format!("evil.example:{port}"));
    let local = ask(&format!("127.0.0.1:{port}"));
    let _ = child.kill();
    let _ = child.wait();
    assert!(rebinding.starts_with("HTTP/1.1 421"), "{rebinding}");
    assert!(!rebinding.contains("Users"), "{rebinding}");
    assert!(local.starts_with("HTTP/1.1 200"), "{local}");
}

#[tokio::test]
async fn attribute_updates_cannot_grow_a_user_past_cognitos_limits() {
    let e = endpoint(None, None).await;
    assert!(e.sign_up("gil").await.unwrap());
    let batch = |n: usize| -> std::collections::BTreeMap<String, String> {
        (0..30).map(|j| (format!("custom:k{n}_{j}"), "v".repeat(2000))).collect()
    };
    assert!(e.pool.admin_update_user_attributes("gil", batch(0)).is_ok());
    assert!(e.pool.admin_update_user_attributes("gil", batch(1)).is_ok());
    let err = e.pool.admin_update_user_attributes("gil", batch(2)).unwrap_err();
    assert_eq!(err.kind, "InvalidParameterException");
    assert!(e.pool.store().user("gil").unwrap().attributes.len() <= 68);
}

#[test]
fn sigterm_stops_the_binary_within_two_seconds_even_with_a_request_that_never_ends() {
    use std::io::Write;
    let port = testkit::free_port();
    let mut child = local_cognito_binary(port);
    let mut slow = connect(port);
    // Headers, then a body that never comes.
    write!(slow, "POST / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 1000\r\n\r\n{{").unwrap();
    std::thread::sleep(std::time::Duration::from_millis(100));
    let started = std::time::Instant::now();
    assert!(std::process::Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap().success());
    let pid = child.id().to_string();
    std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_secs(10));
        let _ = std::process::Command::new("kill").args(["-KILL", &pid]).status();
    });
    let status = child.wait().unwrap();
    let took = started.elapsed();
    assert!(status.success(), "{status:?}");
    assert!(took < std::time::Duration::from_secs(2), "stopped in {took:?}");
    drop(slow);
}

/// The local-cognito binary on `port`, with the variables its in-process triggers need.
fn local_cognito_binary(port: u16) -> std::process::Child {
    std::process::Command::new(env!("CARGO_BIN_EXE_local-cognito"))
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .env("MAIL_QUEUE_URL", "http://127.0.0.1:9/queue")
        .env("LOGIN_URL", "http://localhost:4000/verify-login")
        .env("AWS_REGION", "us-east-1")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap()
}

/// A connection to `port` once something listens there.
fn connect(port: u16) -> std::net::TcpStream {
    (0..100)
        .find_map(|_| {
            std::net::TcpStream::connect(("127.0.0.1", port))
                .map_err(|_| std::thread::sleep(std::time::Duration::from_millis(50)))
                .ok()
        })
        .expect("local-cognito listens")
}
