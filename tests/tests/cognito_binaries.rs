//! The same sign-in with the triggers as the real binaries: local-cognito hosts the Lambda
//! Runtime API for each function and keeps one warm process per trigger, as Lambda does; the
//! create trigger's process sends to moto's SQS through the SDK's standard variables, and create
//! and verify share the per-user state in moto's DynamoDB (reuse, single use), and
//! post-authentication proves the address on local-cognito itself, over the wire, as in AWS.

use aws_sdk_cognitoidentityprovider::types::{AuthFlowType, ChallengeNameType};
use local_cognito::runtime_api::BinaryTriggers;
use local_cognito::store::MemoryStore;
use mail_job::{MailContent, MailJob};
use std::sync::Arc;
use testkit::Moto;

#[tokio::test]
async fn a_sign_in_through_the_trigger_binaries_over_the_runtime_api() {
    let moto = Moto::start();
    let sqs = aws_sdk_sqs::Client::new(&moto.sdk_config().await);
    let queue_url = moto.create_queue(&sqs, "mail").await;
    testkit::bin("define-auth-challenge");
    let mut env = moto.env();
    env.extend([
        ("MAIL_QUEUE_URL".to_string(), queue_url.clone()),
        ("LOGIN_URL".to_string(), e2e::LOGIN_URL.to_string()),
        ("AUTH_STATE_TABLE".to_string(), moto.create_auth_state_table().await),
        ("SIGN_IN_URL".to_string(), "http://localhost:4000/".to_string()),
        ("AWS_LAMBDA_LOG_LEVEL".to_string(), "WARN".to_string()),
    ]);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    env.push(("AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER".to_string(), endpoint));
    let triggers = BinaryTriggers::start(&testkit::bin_dir(), &env).await.expect("the trigger binaries start");
    // Only the functions' own processes reach their Runtime APIs: not a rebinding page (foreign
    // Host), not a browser (Origin), which could otherwise read events or answer for a trigger.
    let http = reqwest::Client::new();
    for address in triggers.runtime_api_addresses() {
        let next = format!("http://{address}/2018-06-01/runtime/invocation/next");
        let rebinding =
            http.get(&next).header("host", format!("evil.example:{}", address.port())).send().await.unwrap();
        assert_eq!(rebinding.status(), 421);
        let init_error = format!("http://{address}/2018-06-01/runtime/init/error");
        let browser = http.post(&init_error).header("origin", "http://evil.example").body("{}").send().await.unwrap();
        assert_eq!(browser.status(), 403);
    }
    let store = Arc::new(MemoryStore::default());
    let pool = local_cognito::serve_on(listener, |_| {}, store, Arc::new(triggers)).await.unwrap();
    let cognito = testkit::cognito::client(&pool.config.endpoint).await;
    let client_id = pool.config.client_id.clone();

    let signed_up = cognito
        .sign_up()
        .client_id(&client_id)
        .username("hana")
        .password("Local-Passw0rd!")
        .user_attributes(e2e::attribute("email", "hana@example.com"))
        .user_attributes(e2e::attribute("locale", "de"))
        .send()
        .await
        .expect("pre-sign-up (binary) confirms");
    assert!(signed_up.user_confirmed());

    let initiate = || {
        cognito
            .initiate_auth()
            .client_id(&client_id)
            .auth_flow(AuthFlowType::CustomAuth)
            .auth_parameters("USERNAME", "hana")
            .send()
    };
    let started = initiate().await.expect("define and create (binaries) answer");
    assert!(!started.challenge_parameters().unwrap().contains_key("email"), "no address hint by default");

    let received = sqs.receive_message().queue_url(&queue_url).max_number_of_messages(10).send().await.unwrap();
    let jobs: Vec<MailJob> = received.messages().iter().map(|m| MailJob::parse(m.body().unwrap()).unwrap()).collect();
    let templates: Vec<&str> = jobs.iter().map(|j| j.content.template_name()).collect();
    assert_eq!(templates, ["login_link"], "no welcome before the address is proven");
    let code = jobs
        .iter()
        .find_map(|j| match &j.content {
            MailContent::LoginLink(d) => Some(d.code.clone()),
            _ => None,
        })
        .expect("a login email");
    assert_eq!(jobs.iter().find(|j| j.content.template_name() == "login_link").unwrap().locale.as_str(), "de");

    // A second device asks while the code is active: the binaries reuse it from the table.
    let again = initiate().await.expect("a second sign-in");
    assert_eq!(again.challenge_parameters().unwrap()["newEmail"], "false");
    let more = sqs.receive_message().queue_url(&queue_url).max_number_of_messages(10).send().await.unwrap();
    assert!(more.messages().is_empty(), "no second email");

    let respond = |session: String, answer: String| {
        cognito
            .respond_to_auth_challenge()
            .client_id(&client_id)
            .challenge_name(ChallengeNameType::CustomChallenge)
            .session(session)
            .challenge_responses("USERNAME", "hana")
            .challenge_responses("ANSWER", answer)
            .send()
    };
    let wrong = respond(started.session().unwrap().to_string(), "000000".into()).await.expect("verify (binary)");
    assert_eq!(wrong.challenge_parameters().unwrap()["attempt"], "2");
    let done = respond(wrong.session().unwrap().to_string(), code.clone()).await.expect("the emailed code");
    let id_token = done.authentication_result().and_then(|r| r.id_token()).expect("an ID token");
    // post-authentication (binary) called AdminUpdateUserAttributes on this endpoint: the
    // emailed sign-in proved the address, the token says so, and only now the welcome goes out.
    assert_eq!(testkit::jwt_claims(id_token)["email_verified"], true);
    let user = pool.store().user("hana").unwrap();
    assert_eq!(user.attributes["email_verified"], "true");
    let welcome = sqs.receive_message().queue_url(&queue_url).max_number_of_messages(10).send().await.unwrap();
    let templates: Vec<String> = welcome
        .messages()
        .iter()
        .map(|m| MailJob::parse(m.body().unwrap()).unwrap().content.template_name().to_string())
        .collect();
    assert_eq!(templates, ["welcome"]);

    // Used: the session the second device holds cannot sign in with it again.
    let replay = respond(again.session().unwrap().to_string(), code).await.expect("verify (binary)");
    assert!(replay.authentication_result().is_none(), "a used code signs nobody in");
    assert_eq!(replay.challenge_parameters().unwrap()["attempt"], "2");
}
