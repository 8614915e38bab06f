//! What real clients (Amplify JS, boto3, the Rust SDK) do after a sign-in, through the Rust SDK:
//! refresh with rotation as the app client sets it, a user's own attribute operations (the email
//! change that `keepOriginal` guards, with the code Cognito emails), devices, deletion, and the
//! admin operations that sign a user out or disable them.

use aws_sdk_cognitoidentityprovider::Client;
use aws_sdk_cognitoidentityprovider::error::ProvideErrorMetadata;
use aws_sdk_cognitoidentityprovider::types::{AttributeType, AuthFlowType, ChallengeNameType};
use lambda_support::Env;
use local_cognito::mail::MemoryMailQueue;
use local_cognito::store::MemoryStore;
use local_cognito::triggers::InProcessTriggers;
use local_cognito::{PoolConfig, UserPool, spawn};
use std::sync::Arc;

struct Endpoint {
    pool: Arc<UserPool>,
    queue: MemoryMailQueue,
    client: Client,
}

async fn endpoint(configure: impl FnOnce(&mut PoolConfig)) -> Endpoint {
    let queue = MemoryMailQueue::default();
    let env = Env::from_pairs([
        ("MAIL_QUEUE_URL", "memory"),
        ("LOGIN_URL", "http://localhost:4000/verify-login"),
        ("SIGN_IN_URL", "http://localhost:4000/"),
    ]);
    let triggers = InProcessTriggers::from_env(&env, queue.clone()).unwrap();
    let pool = spawn(configure, Arc::new(MemoryStore::default()), Arc::new(triggers)).await.unwrap();
    let client = testkit::cognito::client(&pool.config.endpoint).await;
    Endpoint { pool, queue, client }
}

fn attr(name: &str, value: &str) -> AttributeType {
    AttributeType::builder().name(name).value(value).build().unwrap()
}

/// `(code, message)` of a failed call.
fn failure<E: ProvideErrorMetadata, R>(result: Result<R, E>) -> (String, String) {
    let e = result.err().expect("the call should fail");
    (e.code().unwrap_or("?").to_string(), e.message().unwrap_or("").to_string())
}

struct Session {
    access: String,
    refresh: String,
}

impl Endpoint {
    fn client_id(&self) -> String {
        self.pool.config.client_id.clone()
    }

    fn pool_id(&self) -> String {
        self.pool.config.user_pool_id.clone()
    }

    /// Signs up (auto-confirmed by the project's pre-sign-up) and signs in with the emailed code.
    async fn signed_in(&self, username: &str) -> Session {
        if self.pool.store().user(username).is_none() {
            self.client
                .sign_up()
                .client_id(self.client_id())
                .username(username)
                .password("Local-Passw0rd!")
                .user_attributes(attr("email", &format!("{username}@example.com")))
                .send()
                .await
                .unwrap();
        }
        self.sign_in(username).await.unwrap()
    }

    /// `InitiateAuth` (CUSTOM_AUTH): the session, and the code of the newest sign-in email.
    async fn start(&self, username: &str) -> Result<(String, String), (String, String)> {
        let started = self
            .client
            .initiate_auth()
            .client_id(self.client_id())
            .auth_flow(AuthFlowType::CustomAuth)
            .auth_parameters("USERNAME", username)
            .send()
            .await
            .map_err(|e| (e.code().unwrap_or("?").to_string(), e.message().unwrap_or("").to_string()))?;
        let code = self
            .queue
            .jobs()
            .iter()
            .rev()
            .find_map(|j| match &j.content {
                mail_job::MailContent::LoginLink(data) => Some(data.code.clone()),
                _ => None,
            })
            .expect("the sign-in email");
        Ok((started.session().unwrap().to_string(), code))
    }

    async fn answer(
        &self,
        username: &str,
        session: &str,
        code: &str,
    ) -> Result<
        aws_sdk_cognitoidentityprovider::operation::respond_to_auth_challenge::RespondToAuthChallengeOutput,
        (String, String),
    > {
        self.client
            .respond_to_auth_challenge()
            .client_id(self.client_id())
            .challenge_name(ChallengeNameType::CustomChallenge)
            .session(session)
            .challenge_responses("USERNAME", username)
            .challenge_responses("ANSWER", code)
            .send()
            .await
            .map_err(|e| (e.code().unwrap_or("?").to_string(), e.message().unwrap_or("").to_string()))
    }

    async fn sign_in(&self, username: &str) -> Result<Session, (String, String)> {
        let (session, code) = self.start(username).await?;
        let done = self.answer(username, &session, &code).await.unwrap();
        let tokens = done.authentication_result().expect("tokens");
        Ok(Session {
            access: tokens.access_token().unwrap().to_string(),
            refresh: tokens.refresh_token().unwrap().to_string(),
        })
    }

    async fn get_tokens(&self, refresh: &str) -> Result<(String, Option<String>), (String, String)> {
        let out = self
            .client
            .get_tokens_from_refresh_token()
            .client_id(self.client_id())
            .refresh_token(refresh)
            .send()
            .await
            .map_err(|e| (e.code().unwrap_or("?").to_string(), e.message().unwrap_or("").to_string()))?;
        let result = out.authentication_result().unwrap();
        Ok((result.access_token().unwrap().to_string(), result.refresh_token().map(str::to_string)))
    }

    async fn email_of(&self, access: &str) -> (String, String) {
        let user = self.client.get_user().access_token(access).send().await.unwrap();
        let value = |name: &str| {
            user.user_attributes().iter().find(|a| a.name() == name).and_then(|a| a.value()).unwrap_or("").to_string()
        };
        (value("email"), value("email_verified"))
    }

    /// The code in the last email Cognito itself sent to `to`.
    fn cognito_code(&self, to: &str) -> String {
        let emails = self.pool.outbox().emails();
        let email = emails.iter().rev().find(|m| m.to == to).expect("Cognito's email to the address");
        email.text.chars().filter(char::is_ascii_digit).collect()
    }
}

#[tokio::test]
async fn with_rotation_each_refresh_brings_a_new_token_and_the_old_one_lasts_only_the_grace_period() {
    let e = endpoint(|c| c.refresh_token_rotation = Some(chrono::Duration::seconds(1))).await;
    let first = e.signed_in("rita").await;

    let (access, second) = e.get_tokens(&first.refresh).await.unwrap();
    let second = second.expect("rotation issues a new refresh token");
    assert_ne!(second, first.refresh);
    assert_eq!(e.email_of(&access).await.0, "rita@example.com", "the new access token works");
    // A client retrying within the grace period is answered again.
    let (_, retried) = e.get_tokens(&first.refresh).await.unwrap();
    assert!(retried.is_some());

    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(
        e.get_tokens(&first.refresh).await.unwrap_err(),
        ("NotAuthorizedException".into(), "Invalid Refresh Token".into()),
        "after the grace period the rotated-out token is refused"
    );
    let (_, third) = e.get_tokens(&second).await.unwrap();
    assert!(third.is_some_and(|t| t != second));

    // Rotation and REFRESH_TOKEN_AUTH exclude each other, and the client says so.
    let old_flow = e
        .client
        .initiate_auth()
        .client_id(e.client_id())
        .auth_flow(AuthFlowType::RefreshTokenAuth)
        .auth_parameters("REFRESH_TOKEN", &second)
        .send()
        .await;
    assert_eq!(failure(old_flow).0, "InvalidParameterException");
    let client =
        e.client.describe_user_pool_client().user_pool_id(e.pool_id()).client_id(e.client_id()).send().await.unwrap();
    let client = client.user_pool_client().unwrap();
    assert_eq!(client.refresh_token_rotation().unwrap().retry_grace_period_seconds(), Some(1));
    assert!(!client.explicit_auth_flows().iter().any(|f| f.as_str() == "ALLOW_REFRESH_TOKEN_AUTH"));
}

#[tokio::test]
async fn without_rotation_both_refresh_operations_work_and_the_refresh_token_stays() {
    let e = endpoint(|c| c.refresh_token_rotation = None).await;
    let session = e.signed_in("rolf").await;
    let (_, rotated) = e.get_tokens(&session.refresh).await.unwrap();
    assert_eq!(rotated, None, "no new refresh token: the client keeps the one it has");
    let (_, again) = e.get_tokens(&session.refresh).await.unwrap();
    assert_eq!(again, None);
    let old_flow = e
        .client
        .initiate_auth()
        .client_id(e.client_id())
        .auth_flow(AuthFlowType::RefreshTokenAuth)
        .auth_parameters("REFRESH_TOKEN", &session.refresh)
        .send()
        .await
        .unwrap();
    assert!(old_flow.authentication_result().unwrap().access_token().is_some());
}

#[tokio::test]
async fn an_email_change_takes_effect_only_with_the_code_cognito_sends_to_the_new_address() {
    let e = endpoint(|_| {}).await;
    let s = e.signed_in("emil").await;
    assert_eq!(e.email_of(&s.access).await, ("emil@example.com".into(), "true".into()));

    let changed = e
        .client
        .update_user_attributes()
        .access_token(&s.access)
        .user_attributes(attr("email", "emil.new@example.org"))
        .user_attributes(attr("name", "Emil"))
        .send()
        .await
        .unwrap();
    let sent = &changed.code_delivery_details_list()[0];
    assert_eq!(sent.attribute_name(), Some("email"));
    assert_eq!(sent.destination(), Some(mail_job::mask_email("emil.new@example.org").as_str()));
    // keepOriginal: the old, verified address stays in force (sign-in mail still goes there).
    assert_eq!(e.email_of(&s.access).await, ("emil@example.com".into(), "true".into()));
    let user = e.client.get_user().access_token(&s.access).send().await.unwrap();
    assert!(user.user_attributes().iter().any(|a| a.name() == "name" && a.value() == Some("Emil")));

    let code = e.cognito_code("emil.new@example.org");
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let mismatch =
        e.client.verify_user_attribute().access_token(&s.access).attribute_name("email").code(wrong).send().await;
    assert_eq!(
        failure(mismatch),
        ("CodeMismatchException".into(), "Invalid verification code provided, please try again.".into())
    );
    e.client.verify_user_attribute().access_token(&s.access).attribute_name("email").code(&code).send().await.unwrap();
    assert_eq!(e.email_of(&s.access).await, ("emil.new@example.org".into(), "true".into()));
    let reused =
        e.client.verify_user_attribute().access_token(&s.access).attribute_name("email").code(&code).send().await;
    assert_eq!(failure(reused).0, "ExpiredCodeException", "a code verifies once");

    // The sign-in email now goes to the new address.
    let next = e.sign_in("emil").await.unwrap();
    let to = e.queue.jobs().iter().rev().find(|j| j.content.template_name() == "login_link").unwrap().to.email.clone();
    assert_eq!(to, "emil.new@example.org");
    assert!(!next.access.is_empty());
}

#[tokio::test]
async fn a_user_writes_only_what_the_app_client_allows_and_cannot_flood_an_address_with_codes() {
    let e = endpoint(|_| {}).await;
    let s = e.signed_in("wanda").await;
    for (name, value) in [("email_verified", "true"), ("custom:role", "admin"), ("phone_number", "+15550100")] {
        let refused =
            e.client.update_user_attributes().access_token(&s.access).user_attributes(attr(name, value)).send().await;
        assert_eq!(
            failure(refused),
            ("NotAuthorizedException".into(), "A client attempted to write unauthorized attribute".into()),
            "{name}"
        );
    }
    let bad =
        e.client.update_user_attributes().access_token(&s.access).user_attributes(attr("email", "not-an-address"));
    assert_eq!(failure(bad.send().await).0, "InvalidParameterException");

    e.client
        .update_user_attributes()
        .access_token(&s.access)
        .user_attributes(attr("locale", "de"))
        .send()
        .await
        .unwrap();
    e.client.delete_user_attributes().access_token(&s.access).user_attribute_names("locale").send().await.unwrap();
    let user = e.client.get_user().access_token(&s.access).send().await.unwrap();
    assert!(!user.user_attributes().iter().any(|a| a.name() == "locale"));
    let required = e.client.delete_user_attributes().access_token(&s.access).user_attribute_names("email").send().await;
    assert_eq!(failure(required).0, "InvalidParameterException");

    // Codes to an address: at most MAX_CODES_PER_HOUR an hour, whichever operation asks.
    for _ in 0..local_cognito::pool::MAX_CODES_PER_HOUR {
        e.client
            .get_user_attribute_verification_code()
            .access_token(&s.access)
            .attribute_name("email")
            .send()
            .await
            .unwrap();
    }
    let more =
        e.client.get_user_attribute_verification_code().access_token(&s.access).attribute_name("email").send().await;
    assert_eq!(failure(more).0, "LimitExceededException");
    let change =
        e.client.update_user_attributes().access_token(&s.access).user_attributes(attr("email", "x@example.net"));
    assert_eq!(failure(change.send().await).0, "LimitExceededException");
    assert_eq!(e.pool.outbox().emails().len(), local_cognito::pool::MAX_CODES_PER_HOUR);

    let devices = e.client.list_devices().access_token(&s.access).send().await.unwrap();
    assert!(devices.devices().is_empty(), "device tracking is off: no devices");
    let stranger = e.client.list_devices().access_token("not-a-token").send().await;
    assert_eq!(failure(stranger).0, "NotAuthorizedException");
}

#[tokio::test]
async fn operators_sign_users_out_disable_them_and_users_delete_themselves() {
    let e = endpoint(|_| {}).await;
    let s = e.signed_in("otto").await;
    let admin_out = e.client.admin_user_global_sign_out().user_pool_id(e.pool_id()).username("OTTO");
    admin_out.send().await.unwrap();
    assert_eq!(failure(e.client.get_user().access_token(&s.access).send().await).0, "NotAuthorizedException");
    assert_eq!(e.get_tokens(&s.refresh).await.unwrap_err().1, "Refresh Token has been revoked");

    let s = e.sign_in("otto").await.unwrap();
    e.client.admin_disable_user().user_pool_id(e.pool_id()).username("otto").send().await.unwrap();
    assert_eq!(
        e.client.get_user().access_token(&s.access).send().await.err().unwrap().message(),
        Some("Access Token has been revoked")
    );
    assert_eq!(e.sign_in("otto").await.err().unwrap(), ("NotAuthorizedException".into(), "User is disabled.".into()));
    let listed = e.client.admin_get_user().user_pool_id(e.pool_id()).username("otto").send().await.unwrap();
    assert!(!listed.enabled());
    e.client.admin_enable_user().user_pool_id(e.pool_id()).username("otto").send().await.unwrap();

    // A sign-in under way when the user is disabled gets no tokens.
    let (session, code) = e.start("otto").await.unwrap();
    e.client.admin_disable_user().user_pool_id(e.pool_id()).username("otto").send().await.unwrap();
    let finished = e.answer("otto", &session, &code).await;
    assert_eq!(finished.err().unwrap(), ("NotAuthorizedException".into(), "User is disabled.".into()));
    e.client.admin_enable_user().user_pool_id(e.pool_id()).username("otto").send().await.unwrap();
    let s = e.sign_in("otto").await.unwrap();
    let unknown = e.client.admin_disable_user().user_pool_id(e.pool_id()).username("nobody").send().await;
    assert_eq!(failure(unknown).0, "UserNotFoundException");

    e.client.delete_user().access_token(&s.access).send().await.unwrap();
    let gone = e.client.admin_get_user().user_pool_id(e.pool_id()).username("otto").send().await;
    assert_eq!(failure(gone).0, "UserNotFoundException");
    assert_eq!(e.get_tokens(&s.refresh).await.unwrap_err().0, "NotAuthorizedException");
}

#[tokio::test]
async fn revoking_any_refresh_token_of_a_sign_in_voids_its_rotations_and_a_new_user_of_the_name_is_untouched() {
    let e = endpoint(|c| c.refresh_token_rotation = Some(chrono::Duration::seconds(30))).await;
    let s = e.signed_in("rhea").await;
    let (_, second) = e.get_tokens(&s.refresh).await.unwrap();
    let second = second.unwrap();
    // A thief's fork within the grace period, then the owner signs out with the token they hold.
    let (_, fork) = e.get_tokens(&s.refresh).await.unwrap();
    e.client.revoke_token().client_id(e.client_id()).token(&second).send().await.unwrap();
    for token in [&s.refresh, &second, &fork.unwrap()] {
        assert_eq!(e.get_tokens(token).await.unwrap_err().1, "Refresh Token has been revoked");
    }

    // Deleted, and the name registered again by someone else: the old tokens are not theirs.
    let s = e.sign_in("rhea").await.unwrap();
    e.client.admin_delete_user().user_pool_id(e.pool_id()).username("rhea").send().await.unwrap();
    let newcomer = e.signed_in("rhea").await;
    assert_eq!(e.get_tokens(&s.refresh).await.unwrap_err().0, "NotAuthorizedException");
    assert!(e.get_tokens(&newcomer.refresh).await.is_ok());
}

// Several worker threads: the calls really run at once (one thread would interleave them only at
// awaits).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_calls_cannot_pass_the_code_limits_or_outlive_a_sign_out() {
    let e = Arc::new(endpoint(|c| c.refresh_token_rotation = Some(chrono::Duration::seconds(30))).await);
    let s = e.signed_in("cora").await;

    let asks = (0..30).map(|_| {
        let (client, access) = (e.client.clone(), s.access.clone());
        tokio::spawn(async move {
            client.get_user_attribute_verification_code().access_token(access).attribute_name("email").send().await
        })
    });
    let granted = futures::future::join_all(asks).await.into_iter().filter(|r| r.as_ref().unwrap().is_ok()).count();
    assert_eq!(granted, local_cognito::pool::MAX_CODES_PER_HOUR);
    assert_eq!(e.pool.outbox().emails().len(), local_cognito::pool::MAX_CODES_PER_HOUR);

    let code = e.cognito_code("cora@example.com");
    let guesses = (0..30).map(|i| {
        let (client, access) = (e.client.clone(), s.access.clone());
        let guess = format!("{:06}", (code.parse::<u32>().unwrap() + 1 + i) % 1_000_000);
        tokio::spawn(async move {
            client.verify_user_attribute().access_token(access).attribute_name("email").code(guess).send().await
        })
    });
    let judged: Vec<String> = futures::future::join_all(guesses)
        .await
        .into_iter()
        .map(|r| r.unwrap().err().unwrap().code().unwrap_or("?").to_string())
        .collect();
    assert_eq!(judged.iter().filter(|c| *c == "CodeMismatchException").count(), 5, "{judged:?}");
    let late =
        e.client.verify_user_attribute().access_token(&s.access).attribute_name("email").code(&code).send().await;
    assert_eq!(failure(late).0, "LimitExceededException", "five wrong answers void the code");

    // Refreshes racing a global sign-out: afterwards no refresh token of the user works.
    let mut held = vec![s.refresh.clone()];
    // Three rounds: with the first sign-in, four emails, within the user's hourly five.
    for _ in 0..3 {
        let refreshes = (0..10).map(|_| {
            let (e, token) = (e.clone(), held.last().unwrap().clone());
            tokio::spawn(async move { e.get_tokens(&token).await })
        });
        let out = e.client.admin_user_global_sign_out().user_pool_id(e.pool_id()).username("cora");
        let (results, signed_out) = tokio::join!(futures::future::join_all(refreshes), out.send());
        signed_out.unwrap();
        held.extend(results.into_iter().filter_map(|r| r.unwrap().ok().and_then(|(_, t)| t)));
        for token in &held {
            assert!(e.get_tokens(token).await.is_err(), "a refresh token outlived the sign-out");
        }
        held.push(e.sign_in("cora").await.unwrap().refresh);
    }
}
