//! CUSTOM_AUTH end to end over the real protocols: the real Cognito SDK client talks to
//! local-cognito on a loopback port, which runs the real triggers; the create trigger enqueues on
//! moto's SQS, and the mailer sends through moto's SES v2.

use aws_sdk_cognitoidentityprovider::error::ProvideErrorMetadata;
use aws_sdk_cognitoidentityprovider::operation::initiate_auth::InitiateAuthOutput;
use aws_sdk_cognitoidentityprovider::types::{AuthFlowType, ChallengeNameType};
use e2e::{Answer, CognitoStack, code_in};
use std::collections::HashMap;

async fn start_sign_in(stack: &CognitoStack, username: &str) -> InitiateAuthOutput {
    stack.initiate(username).await.expect("InitiateAuth")
}

async fn answer(stack: &CognitoStack, username: &str, session: &str, code: &str) -> Answer {
    stack.respond(username, session, code, false).await
}

fn sign_in_failed() -> (String, String) {
    ("NotAuthorizedException".into(), "Incorrect username or password.".into())
}

#[tokio::test]
async fn sign_up_then_the_code_from_the_email_signs_in_and_the_id_token_verifies_against_the_jwks() {
    let stack = CognitoStack::start(|_| {}).await;
    stack.sign_up("alice", "alice@example.com").await;
    let welcome = stack.take_jobs().await;
    assert_eq!(welcome.len(), 0, "nothing is sent at sign-up");

    let started = start_sign_in(&stack, "alice").await;
    assert_eq!(started.challenge_name(), Some(&ChallengeNameType::CustomChallenge));
    let parameters = started.challenge_parameters().unwrap();
    assert!(!parameters.contains_key("email"), "no part of the address by default");
    assert_eq!(parameters["codeLength"], "8");
    assert_eq!(parameters["USERNAME"], "alice");
    assert!(!parameters.values().any(|v| v.contains("alice@example.com")));

    let emails = stack.deliver().await;
    assert_eq!(emails.len(), 1);
    let html = emails[0]["body"].as_str().unwrap();
    let code = code_in(html);
    assert_eq!(code.len(), 8);
    assert!(!parameters.values().any(|v| v.contains(&code)), "the code is never a public parameter");

    let done = answer(&stack, "alice", started.session().unwrap(), &code).await.expect("signed in");
    let result = done.authentication_result().expect("tokens");
    assert_eq!(result.token_type(), Some("Bearer"));
    assert_eq!(result.expires_in(), 3600);
    assert!(result.refresh_token().is_some());

    // An independent JWT library checks the ID token against the published JWKS.
    let jwks_url = format!("{}/.well-known/jwks.json", stack.pool.config.issuer);
    let jwks: jsonwebtoken::jwk::JwkSet = reqwest::get(&jwks_url).await.unwrap().json().await.unwrap();
    let id_token = result.id_token().unwrap();
    let header = jsonwebtoken::decode_header(id_token).unwrap();
    let jwk = jwks.find(header.kid.as_deref().unwrap()).expect("the kid is published");
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.set_issuer(&[&stack.pool.config.issuer]);
    validation.set_audience(&[stack.client_id()]);
    let claims = jsonwebtoken::decode::<HashMap<String, serde_json::Value>>(
        id_token,
        &jsonwebtoken::DecodingKey::from_jwk(jwk).unwrap(),
        &validation,
    )
    .expect("the ID token verifies")
    .claims;
    assert_eq!(claims["token_use"], "id");
    assert_eq!(claims["cognito:username"], "alice");
    assert_eq!(claims["email"], "alice@example.com");
    for claim in ["sub", "auth_time", "iat", "exp", "jti", "origin_jti", "event_id"] {
        assert!(claims.contains_key(claim), "{claim}");
    }
    let access_header = jsonwebtoken::decode_header(result.access_token().unwrap()).unwrap();
    assert_ne!(access_header.kid, header.kid, "ID and access tokens use different keys");

    let discovery: serde_json::Value =
        reqwest::get(format!("{}/.well-known/openid-configuration", stack.pool.config.issuer))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    assert_eq!(discovery["jwks_uri"], jwks_url);

    let me = stack.cognito.get_user().access_token(result.access_token().unwrap()).send().await.unwrap();
    assert_eq!(me.username(), "alice");
}

#[tokio::test]
async fn two_wrong_codes_then_the_right_one_with_one_email_only() {
    let stack = CognitoStack::start(|_| {}).await;
    stack.sign_up("bob", "bob@example.com").await;
    let started = start_sign_in(&stack, "bob").await;
    let code = stack.code_from_queue().await;
    let mut session = started.session().unwrap().to_string();
    for (attempt, wrong) in ["000000", "111111"].into_iter().enumerate() {
        let again = answer(&stack, "bob", &session, wrong).await.expect("another challenge");
        assert_eq!(again.challenge_name(), Some(&ChallengeNameType::CustomChallenge));
        assert_eq!(again.challenge_parameters().unwrap()["attempt"], (attempt + 2).to_string());
        assert_ne!(again.session().unwrap(), session, "a new session string each round");
        session = again.session().unwrap().to_string();
    }
    assert!(stack.take_jobs().await.is_empty(), "a retry in the session sends no second email");
    let typed = format!("{} {}", &code[..3], &code[3..]);
    let done = answer(&stack, "bob", &session, &typed).await.expect("the code still works");
    assert!(done.authentication_result().is_some());
}

#[tokio::test]
async fn three_wrong_codes_fail_with_cognitos_exact_error() {
    let stack = CognitoStack::start(|_| {}).await;
    stack.sign_up("carol", "carol@example.com").await;
    let mut session = start_sign_in(&stack, "carol").await.session().unwrap().to_string();
    let code = stack.code_from_queue().await;
    for _ in 0..2 {
        session = answer(&stack, "carol", &session, "000000").await.unwrap().session().unwrap().to_string();
    }
    assert_eq!(answer(&stack, "carol", &session, "000000").await.unwrap_err(), sign_in_failed());
    // The session is over: even the right code cannot revive it.
    let err = answer(&stack, "carol", &session, &code).await.unwrap_err();
    assert_eq!(err, ("NotAuthorizedException".into(), "Invalid session for the user.".into()));
}

#[tokio::test]
async fn an_expired_session_and_a_replayed_session_string_are_refused() {
    let stack = CognitoStack::start(|c| c.session_ttl = chrono::Duration::seconds(1)).await;
    stack.sign_up("dave", "dave@example.com").await;
    let started = start_sign_in(&stack, "dave").await;
    let code = stack.code_from_queue().await;
    tokio::time::sleep(std::time::Duration::from_millis(1300)).await;
    let err = answer(&stack, "dave", started.session().unwrap(), &code).await.unwrap_err();
    assert_eq!(err, ("NotAuthorizedException".into(), "Invalid session for the user, session is expired.".into()));

    // The code outlives the session: a new sign-in reuses it and sends nothing.
    let fresh = start_sign_in(&stack, "dave").await;
    assert!(stack.take_jobs().await.is_empty());
    let session = fresh.session().unwrap();
    let wrong = answer(&stack, "dave", session, "999999").await.unwrap();
    assert!(wrong.session().is_some());
    let replay = answer(&stack, "dave", session, &code).await.unwrap_err();
    assert_eq!(replay, ("NotAuthorizedException".into(), "Invalid session for the user.".into()));
}

/// PreventUserExistenceErrors: every field of every answer has the same shape for a username
/// nobody has as for a real user who answers wrongly, and no email goes out.
#[tokio::test]
async fn an_unknown_user_is_indistinguishable_from_a_known_one_answering_wrongly() {
    let stack = CognitoStack::start(|_| {}).await;
    stack.sign_up("erin", "erin@example.com").await;
    let known = start_sign_in(&stack, "erin").await;
    let unknown = start_sign_in(&stack, "frank").await;
    assert_eq!(stack.take_jobs().await.len(), 1, "only the real user gets an email");

    let shape = |o: &InitiateAuthOutput| {
        let mut keys: Vec<String> = o.challenge_parameters().unwrap().keys().cloned().collect();
        keys.sort();
        (o.challenge_name().cloned(), keys, o.session().map(str::len), o.authentication_result().is_some())
    };
    assert_eq!(shape(&known), shape(&unknown));
    let p = unknown.challenge_parameters().unwrap();
    assert_eq!((p["codeLength"].as_str(), p["attempt"].as_str(), p["USERNAME"].as_str()), ("8", "1", "frank"));

    let (mut s_known, mut s_unknown) = (known.session().unwrap().to_string(), unknown.session().unwrap().to_string());
    for _ in 0..2 {
        let k = answer(&stack, "erin", &s_known, "123456").await.unwrap();
        let u = answer(&stack, "frank", &s_unknown, "123456").await.unwrap();
        assert_eq!(k.challenge_name(), u.challenge_name());
        assert_eq!(k.challenge_parameters().unwrap().len(), u.challenge_parameters().unwrap().len());
        assert_eq!(k.session().unwrap().len(), u.session().unwrap().len());
        (s_known, s_unknown) = (k.session().unwrap().to_string(), u.session().unwrap().to_string());
    }
    assert_eq!(answer(&stack, "erin", &s_known, "123456").await.unwrap_err(), sign_in_failed());
    assert_eq!(answer(&stack, "frank", &s_unknown, "123456").await.unwrap_err(), sign_in_failed());
    assert!(stack.take_jobs().await.is_empty());
}

#[tokio::test]
async fn refresh_revoke_and_global_sign_out() {
    // REFRESH_TOKEN_AUTH, which an app client allows only with rotation off (rotation: accounts.rs
    // in local-cognito, and the auth API's /refresh).
    let stack = CognitoStack::start(|c| c.refresh_token_rotation = None).await;
    stack.sign_up("gina", "gina@example.com").await;
    let started = start_sign_in(&stack, "gina").await;
    let code = stack.code_from_queue().await;
    let done = answer(&stack, "gina", started.session().unwrap(), &code).await.unwrap();
    let tokens = done.authentication_result().unwrap();
    let refresh_token = tokens.refresh_token().unwrap();

    let refresh = |token: String| {
        let c = stack.cognito.clone();
        let client_id = stack.client_id().to_string();
        async move {
            c.initiate_auth()
                .client_id(client_id)
                .auth_flow(AuthFlowType::RefreshTokenAuth)
                .auth_parameters("REFRESH_TOKEN", token)
                .send()
                .await
                .map_err(|e| e.message().unwrap_or("").to_string())
        }
    };
    let renewed = refresh(refresh_token.to_string()).await.expect("refresh works");
    let renewed = renewed.authentication_result().unwrap();
    assert!(renewed.refresh_token().is_none(), "a refresh returns no new refresh token");
    assert_ne!(renewed.access_token(), tokens.access_token());
    stack.cognito.get_user().access_token(renewed.access_token().unwrap()).send().await.expect("a valid access token");

    stack.cognito.revoke_token().client_id(stack.client_id()).token(refresh_token).send().await.unwrap();
    assert_eq!(refresh(refresh_token.to_string()).await.unwrap_err(), "Refresh Token has been revoked");
    let err = stack.cognito.get_user().access_token(renewed.access_token().unwrap()).send().await.unwrap_err();
    assert_eq!(err.message(), Some("Access Token has been revoked"), "tokens from a revoked grant die with it");

    // A second sign-in, then GlobalSignOut ends it everywhere.
    let started = start_sign_in(&stack, "gina").await;
    let code = stack.code_from_queue().await;
    let second = answer(&stack, "gina", started.session().unwrap(), &code).await.unwrap();
    let second = second.authentication_result().unwrap();
    stack.cognito.global_sign_out().access_token(second.access_token().unwrap()).send().await.unwrap();
    assert!(stack.cognito.get_user().access_token(second.access_token().unwrap()).send().await.is_err());
    assert_eq!(
        refresh(second.refresh_token().unwrap().to_string()).await.unwrap_err(),
        "Refresh Token has been revoked"
    );
}
