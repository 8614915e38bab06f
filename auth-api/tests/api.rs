//! Every endpoint and error of the auth API, through its router, with the real SDK client talking
//! to local-cognito on a loopback port (real triggers, emails kept in memory).

use auth_api::config::ApiConfig;
use auth_api::idp::{IdentityProvider, IdpError, NewUser, Step, Tokens};
use auth_api::{AppState, router};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use lambda_support::Env;
use serde_json::{Value, json};
use std::pin::Pin;
use std::sync::Arc;
use tower::ServiceExt;

mod support;
use support::*;

#[tokio::test]
async fn a_second_login_reuses_the_email_and_a_resend_waits_a_minute() {
    let api = api().await;
    api.sign_up("olga").await;
    let first = api.post("/login", json!({"username": "olga"})).await;
    let second = api.post("/login", json!({"username": "olga"})).await;
    assert_eq!((first.body["new_email"].as_bool(), second.body["new_email"].as_bool()), (Some(true), Some(false)));
    assert_eq!(first.body["sent_at"], second.body["sent_at"]);
    assert_eq!(api.queue.jobs().len(), 1);

    let resend = api.post("/resend", json!({"username": "olga", "session": second.body["session"]})).await;
    assert_eq!(
        (resend.status.as_u16(), resend.body["error"].as_str()),
        (429, Some("resend_too_soon")),
        "{}",
        resend.body
    );
    let wait = resend.body["retry_after"].as_i64().unwrap();
    assert!((1..=60).contains(&wait), "{}", resend.body);
    assert!(resend.body["message"].as_str().unwrap().contains(&format!("{wait} seconds")));
    assert_eq!(api.queue.jobs().len(), 1, "no email");
    // The emailed code still works, in the session the refused resend handed back.
    let done = api
        .post("/verify-login", json!({"username": "olga", "session": resend.body["session"], "code": api.last_code()}))
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    let missing = api.post("/resend", json!({"username": "olga"})).await;
    assert_eq!(missing.body["field"], "session");
}

#[tokio::test]
async fn a_link_opened_elsewhere_signs_in_once_then_says_it_expired_and_emails_a_new_one() {
    let api = api().await;
    api.sign_up("pia").await;
    api.post("/login", json!({"username": "pia"})).await;
    let code = api.last_code();
    // Another browser: no session, just the link's username and code.
    let elsewhere = api.post("/verify-login", json!({"username": "pia", "code": code})).await;
    assert_eq!(elsewhere.status, StatusCode::OK, "{}", elsewhere.body);
    assert!(elsewhere.cookie("id_token").contains("HttpOnly"));
    assert_eq!(api.queue.jobs().len(), 1, "the link sent nothing");

    let again = api.post("/verify-login", json!({"username": "pia", "code": code})).await;
    assert_eq!((again.status.as_u16(), again.body["error"].as_str()), (410, Some("link_expired")), "{}", again.body);
    assert_eq!(again.body["new_email"], true);
    assert!(again.body["session"].is_string(), "the page can offer the new email's code");
    assert_eq!(api.queue.jobs().len(), 2, "a used code is replaced at the next sign-in");
    let newest = api.last_code();
    let typed =
        api.post("/verify-login", json!({"username": "pia", "session": again.body["session"], "code": newest})).await;
    assert_eq!(typed.status, StatusCode::OK, "{}", typed.body);
}

#[tokio::test]
async fn over_the_email_budget_login_says_when_to_come_back() {
    let api = api_with(180, &[("MAX_EMAILS_PER_HOUR", "1")]).await;
    api.signed_in("quinn").await;
    let refused = api.post("/login", json!({"username": "quinn"})).await;
    assert_eq!(
        (refused.status.as_u16(), refused.body["error"].as_str()),
        (429, Some("too_many_emails")),
        "{}",
        refused.body
    );
    assert_eq!(refused.body["message"], "Too many emails; try again in 60 minutes.");
    assert!((3590..=3600).contains(&refused.body["retry_after"].as_i64().unwrap()));
    let unknown = api.post("/login", json!({"username": "nobody"})).await;
    assert_eq!(unknown.status, StatusCode::OK, "an unknown user has a budget of its own");
    let unknown_again = api
        .post("/verify-login", json!({"username": "nobody", "session": unknown.body["session"], "code": "000000"}))
        .await;
    assert_eq!(unknown_again.body["error"], "wrong_code");
}

fn cookie_header(answer: &Answer) -> String {
    ["id_token", "access_token", "refresh_token"]
        .iter()
        .map(|n| format!("{n}={}", answer.cookie_value(n)))
        .collect::<Vec<_>>()
        .join("; ")
}

#[tokio::test]
async fn signup_validates_every_field_and_maps_a_taken_username() {
    let api = api().await;
    let table: Vec<(Value, u16, Option<&str>, Option<&str>)> = vec![
        (
            json!({"username": "alice", "email": "alice@example.com", "locale": "de-AT", "name": "Alice"}),
            201,
            None,
            None,
        ),
        (json!({"username": "ALICE", "email": "other@example.com"}), 409, Some("username_taken"), None),
        (json!({"username": "", "email": "a@example.com"}), 400, Some("invalid_request"), Some("username")),
        (json!({"username": "a b", "email": "a@example.com"}), 400, Some("invalid_request"), Some("username")),
        (json!({"username": "bob", "email": "not-an-address"}), 400, Some("invalid_request"), Some("email")),
        (
            json!({"username": "bob", "email": "b@example.com", "locale": "english!"}),
            400,
            Some("invalid_request"),
            Some("locale"),
        ),
        (
            json!({"username": "bob", "email": "b@example.com", "name": "Bob\r\nBcc: x"}),
            400,
            Some("invalid_request"),
            Some("name"),
        ),
        (json!({"username": "bob"}), 400, Some("invalid_request"), Some("email")),
        (json!({"email": "b@example.com"}), 400, Some("invalid_request"), Some("username")),
        // Nothing an attacker types reaches an inbox as a message: no links, short names.
        (
            json!({"username": "https://evil.example", "email": "b@example.com"}),
            400,
            Some("invalid_request"),
            Some("username"),
        ),
        (
            json!({"username": "evil.example/reset", "email": "b@example.com"}),
            400,
            Some("invalid_request"),
            Some("username"),
        ),
        (
            json!({"username": "bob", "email": "b@example.com", "name": "Your account is locked: www.evil.example"}),
            400,
            Some("invalid_request"),
            Some("name"),
        ),
        (
            json!({"username": "bob", "email": "b@example.com", "name": "x".repeat(65)}),
            400,
            Some("invalid_request"),
            Some("name"),
        ),
        (
            json!({"username": "bob", "email": "b@example.com", "name": "Bob\u{7}"}),
            400,
            Some("invalid_request"),
            Some("name"),
        ),
    ];
    for (body, status, error, field) in table {
        let a = api.post("/signup", body.clone()).await;
        assert_eq!(a.status.as_u16(), status, "{body} → {}", a.body);
        assert_eq!(a.body["error"].as_str(), error, "{body}");
        assert_eq!(a.body["field"].as_str(), field, "{body}");
        if status != 201 {
            assert!(a.body["message"].as_str().is_some_and(|m| !m.is_empty()));
        }
    }
    let not_json = call(&api.app, "POST", "/signup", None, &[("content-type", "application/json")]).await;
    assert_eq!((not_json.status.as_u16(), not_json.body["error"].as_str()), (400, Some("invalid_request")));
}

#[tokio::test]
async fn login_answers_alike_for_known_and_unknown_usernames() {
    let api = api().await;
    api.sign_up("carol").await;
    let known = api.post("/login", json!({"username": "carol"})).await;
    let unknown = api.post("/login", json!({"username": "nobody"})).await;
    for a in [&known, &unknown] {
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);
        let keys: Vec<&String> = a.body.as_object().unwrap().keys().collect();
        assert_eq!(
            keys,
            [
                "attempts_left",
                "code_length",
                "destination",
                "expires_at",
                "new_email",
                "resend_at",
                "sent_at",
                "session"
            ]
        );
        assert_eq!(a.body["code_length"], 8);
        assert_eq!(a.body["new_email"], true);
        assert_eq!(a.body["destination"], Value::Null, "no part of the address by default");
        assert_eq!(a.body["attempts_left"], 3);
        assert!(chrono::DateTime::parse_from_rfc3339(a.body["expires_at"].as_str().unwrap()).is_ok());
    }
    assert_eq!(api.queue.jobs().len(), 1, "one email, to the real user");
    let bad = api.post("/login", json!({"username": ""})).await;
    assert_eq!((bad.status.as_u16(), bad.body["field"].as_str()), (400, Some("username")));
}

#[tokio::test]
async fn wrong_codes_count_down_then_ask_for_a_new_email() {
    let api = api().await;
    api.sign_up("dave").await;
    let login = api.post("/login", json!({"username": "dave"})).await;
    let mut session = login.body["session"].as_str().unwrap().to_string();
    for left in [2, 1] {
        let a = api.post("/verify-login", json!({"username": "dave", "session": session, "code": "000000"})).await;
        assert_eq!((a.status.as_u16(), a.body["error"].as_str()), (401, Some("wrong_code")));
        assert_eq!(a.body["attempts_left"], left);
        assert!(a.cookies.is_empty());
        session = a.body["session"].as_str().unwrap().to_string();
    }
    let last = api.post("/verify-login", json!({"username": "dave", "session": session, "code": "000000"})).await;
    assert_eq!((last.status.as_u16(), last.body["error"].as_str()), (401, Some("sign_in_failed")));
    assert!(last.body["message"].as_str().unwrap().contains("Ask for a new email"));
    let replay =
        api.post("/verify-login", json!({"username": "dave", "session": session, "code": api.last_code()})).await;
    assert_eq!(replay.body["error"], "sign_in_failed");
    let missing = api.post("/verify-login", json!({"username": "dave", "session": "", "code": "1"})).await;
    assert_eq!(missing.body["field"], "session");
}

#[tokio::test]
async fn an_expired_session_asks_for_a_new_email() {
    let api = api_with(1, &[]).await;
    api.sign_up("erin").await;
    let login = api.post("/login", json!({"username": "erin"})).await;
    tokio::time::sleep(std::time::Duration::from_millis(1300)).await;
    let a = api
        .post("/verify-login", json!({"username": "erin", "session": login.body["session"], "code": api.last_code()}))
        .await;
    assert_eq!((a.status.as_u16(), a.body["error"].as_str()), (401, Some("session_expired")));
}

#[tokio::test]
async fn the_right_code_sets_the_token_cookies_and_tokens_only_on_request() {
    let api = api().await;
    let done = api.signed_in("fay").await;
    assert_eq!(done.body["signed_in"], true);
    assert_eq!(done.body["username"], "fay");
    assert!(done.body.get("tokens").is_none(), "tokens stay in HttpOnly cookies unless asked for");
    for name in ["id_token", "access_token", "refresh_token"] {
        let c = done.cookie(name);
        for attribute in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age="] {
            assert!(c.contains(attribute), "{name} lacks {attribute}");
        }
        assert!(!c.contains("Secure"), "plain-HTTP localhost gets no Secure cookies");
    }
    let max_age = |name: &str| -> i64 {
        let c = done.cookie(name);
        c.split("Max-Age=").nth(1).unwrap().split(';').next().unwrap().parse().unwrap()
    };
    assert!((3500..=3600).contains(&max_age("id_token")));
    assert_eq!(max_age("refresh_token"), 30 * 86_400);

    api.sign_up("gus").await;
    let login = api.post("/login", json!({"username": "gus"})).await;
    let native = call(
        &api.app,
        "POST",
        "/verify-login",
        Some(json!({"username": "gus", "session": login.body["session"], "code": api.last_code(), "return_tokens": true})),
        &[("host", "api.example.com")],
    )
    .await;
    assert!(native.body["tokens"]["id_token"].as_str().unwrap().starts_with("ey"));
    assert!(native.body["tokens"]["refresh_token"].is_string());
    assert!(native.cookie("id_token").contains("Secure"), "any other host gets Secure cookies");
}

#[tokio::test]
async fn me_refresh_and_logout() {
    let api = api().await;
    let done = api.signed_in("hana").await;
    let cookies = cookie_header(&done);

    let me = call(&api.app, "GET", "/me", None, &[("cookie", &cookies)]).await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.body);
    assert_eq!(me.body["claims"]["cognito:username"], "hana");
    assert_eq!(me.body["claims"]["token_use"], "id");
    let bearer = format!("Bearer {}", done.cookie_value("id_token"));
    assert_eq!(call(&api.app, "GET", "/me", None, &[("authorization", &bearer)]).await.status, StatusCode::OK);
    let access_as_id = format!("Bearer {}", done.cookie_value("access_token"));
    assert_eq!(
        call(&api.app, "GET", "/me", None, &[("authorization", &access_as_id)]).await.status,
        StatusCode::UNAUTHORIZED
    );
    let tampered = format!("Bearer {}x", done.cookie_value("id_token"));
    let bad = call(&api.app, "GET", "/me", None, &[("authorization", &tampered)]).await;
    assert_eq!((bad.status.as_u16(), bad.body["error"].as_str()), (401, Some("not_signed_in")));
    let none = call(&api.app, "GET", "/me", None, &[]).await;
    assert_eq!(none.body["error"], "not_signed_in");

    let origin = [("cookie", cookies.as_str()), ("origin", "http://localhost:4000")];
    let refreshed = call(&api.app, "POST", "/refresh", None, &origin).await;
    assert_eq!(refreshed.status, StatusCode::OK, "{}", refreshed.body);
    assert_ne!(refreshed.cookie_value("id_token"), done.cookie_value("id_token"));
    // The app client rotates refresh tokens: the refresh sets the new one, which refreshes again.
    let rotated = refreshed.cookie_value("refresh_token");
    assert!(!rotated.is_empty() && rotated != done.cookie_value("refresh_token"), "a new refresh cookie");
    assert!(refreshed.cookie("refresh_token").contains(&format!("Max-Age={}", 30 * 86_400)));
    let rotated_cookie = format!("refresh_token={rotated}");
    let again = call(&api.app, "POST", "/refresh", None, &[("cookie", &rotated_cookie), origin[1]]).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);

    let out = call(&api.app, "POST", "/logout", None, &origin).await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    for name in ["id_token", "access_token", "refresh_token"] {
        assert!(out.cookie(name).contains("Max-Age=0"), "{name} is cleared");
    }
    let after = call(&api.app, "POST", "/refresh", None, &origin).await;
    assert_eq!((after.status.as_u16(), after.body["error"].as_str()), (401, Some("not_signed_in")));

    // The old ID token, as a cookie or a bearer, no longer reaches /me; nor does the one the
    // refresh issued (same family).
    let refreshed_bearer = format!("Bearer {}", refreshed.cookie_value("id_token"));
    for headers in [
        [("cookie", cookies.as_str())],
        [("authorization", bearer.as_str())],
        [("authorization", refreshed_bearer.as_str())],
    ] {
        let me = call(&api.app, "GET", "/me", None, &headers).await;
        assert_eq!((me.status.as_u16(), me.body["error"].as_str()), (401, Some("not_signed_in")), "{headers:?}");
    }
    // Another sign-in of the same user is untouched.
    let again = api.post("/login", json!({"username": "hana"})).await;
    assert_eq!(again.status, StatusCode::OK);
}

#[tokio::test]
async fn a_bearer_only_logout_signs_the_token_out_too() {
    let api = api().await;
    let done = api.signed_in("ida").await;
    let bearer = format!("Bearer {}", done.cookie_value("id_token"));
    let refresh = done.cookie_value("refresh_token");
    let out =
        call(&api.app, "POST", "/logout", Some(json!({"refresh_token": refresh})), &[("authorization", &bearer)]).await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    let me = call(&api.app, "GET", "/me", None, &[("authorization", &bearer)]).await;
    assert_eq!(me.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn cookie_authenticated_posts_must_come_from_an_allowed_origin() {
    let api = api().await;
    let done = api.signed_in("ivan").await;
    let cookies = cookie_header(&done);
    let table: [(&[(&str, &str)], u16); 8] = [
        (&[("cookie", &cookies)], 403),
        (&[("cookie", &cookies), ("origin", "https://evil.example")], 403),
        (&[("cookie", &cookies), ("origin", APP)], 200),
        (&[("cookie", &cookies), ("origin", "http://localhost:4000")], 200),
        // DNS rebinding: the page's Origin equals the Host it sends; neither is the API's origin.
        (&[("cookie", &cookies), ("host", "evil.example:4000"), ("origin", "http://evil.example:4000")], 403),
        // Another scheme or port is another origin.
        (&[("cookie", &cookies), ("origin", "https://localhost:4000")], 403),
        (&[("cookie", &cookies), ("origin", "http://localhost:4001")], 403),
        (&[], 401),
    ];
    for (headers, status) in table {
        let a = call(&api.app, "POST", "/refresh", None, headers).await;
        assert_eq!(a.status.as_u16(), status, "{headers:?}: {}", a.body);
        if status == 403 {
            assert_eq!(a.body["error"], "forbidden_origin");
        }
    }
    let cross_site_login =
        call(&api.app, "POST", "/login", Some(json!({"username": "ivan"})), &[("origin", "https://evil.example")])
            .await;
    assert_eq!(cross_site_login.status.as_u16(), 403);
}

/// An identity provider that refuses everything with one error, for the mappings that a healthy
/// local endpoint never produces.
struct Refusing(IdpError);

type Fut<'a, T> = Pin<Box<dyn std::future::Future<Output = Result<T, IdpError>> + Send + 'a>>;

impl IdentityProvider for Refusing {
    fn sign_up<'a>(&'a self, _: NewUser<'a>) -> Fut<'a, bool> {
        Box::pin(async { Err(self.0.clone()) })
    }
    fn start_sign_in<'a>(&'a self, _: &'a str) -> Fut<'a, Step> {
        Box::pin(async { Err(self.0.clone()) })
    }
    fn answer<'a>(&'a self, _: &'a str, _: &'a str, _: &'a str) -> Fut<'a, Step> {
        Box::pin(async { Err(self.0.clone()) })
    }
    fn resend<'a>(&'a self, _: &'a str, _: &'a str) -> Fut<'a, Step> {
        Box::pin(async { Err(self.0.clone()) })
    }
    fn refresh<'a>(&'a self, _: &'a str) -> Fut<'a, Tokens> {
        Box::pin(async { Err(self.0.clone()) })
    }
    fn revoke<'a>(&'a self, _: &'a str) -> Fut<'a, ()> {
        Box::pin(async { Err(self.0.clone()) })
    }
}

#[tokio::test]
async fn throttling_trigger_failures_and_outages_map_to_stable_codes() {
    let config =
        ApiConfig::from_env(&Env::from_pairs([("COGNITO_CLIENT_ID", "c"), ("COGNITO_USER_POOL_ID", "us-east-1_x")]))
            .unwrap();
    let table = [
        (Some("TooManyRequestsException"), 429, "too_many_requests"),
        (Some("UserLambdaValidationException"), 503, "sign_in_unavailable"),
        (Some("UserNotConfirmedException"), 403, "user_not_confirmed"),
        (Some("ResourceNotFoundException"), 500, "misconfigured"),
        (None, 502, "upstream_error"),
    ];
    for (code, status, error) in table {
        let idp = Refusing(IdpError {
            code: code.map(str::to_string),
            message: "CreateAuthChallenge failed with error x".into(),
        });
        let app = router(AppState::new(config.clone(), Arc::new(idp)));
        for (path, body) in [
            ("/login", json!({"username": "a"})),
            ("/signup", json!({"username": "a", "email": "a@example.com"})),
            ("/verify-login", json!({"username": "a", "session": "s", "code": "1"})),
        ] {
            let a = call(&app, "POST", path, Some(body), &[]).await;
            assert_eq!((a.status.as_u16(), a.body["error"].as_str()), (status, Some(error)), "{path} {code:?}");
            assert!(!a.body["message"].as_str().unwrap().contains("CreateAuthChallenge"), "no upstream text leaks");
        }
    }
}

#[tokio::test]
async fn a_stale_bearer_beside_the_cookies_does_not_hide_the_cookie_token_from_logout() {
    let api = api().await;
    let done = api.signed_in("jo").await;
    let cookies = cookie_header(&done);
    let headers = [("cookie", cookies.as_str()), ("origin", "http://localhost:4000"), ("authorization", "Bearer x")];
    assert_eq!(call(&api.app, "POST", "/logout", None, &headers).await.status, StatusCode::NO_CONTENT);
    let bearer = format!("Bearer {}", done.cookie_value("id_token"));
    let me = call(&api.app, "GET", "/me", None, &[("authorization", &bearer)]).await;
    assert_eq!(me.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn non_ascii_usernames_sign_in_whatever_their_case() {
    let api = api().await;
    let a = api.post("/signup", json!({"username": "Émile", "email": "emile@example.com"})).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    let login = api.post("/login", json!({"username": "émile"})).await;
    assert_eq!(login.status, StatusCode::OK, "{}", login.body);
    let done = api
        .post("/verify-login", json!({"username": "ÉMILE", "session": login.body["session"], "code": api.last_code()}))
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    let taken = api.post("/signup", json!({"username": "ÉMILE", "email": "other@example.com"})).await;
    assert_eq!(taken.status, StatusCode::CONFLICT, "one account whatever the case");
}

#[tokio::test]
async fn malformed_bodies_get_the_apis_error_and_never_have_their_values_echoed() {
    let api = api().await;
    let code = api.post("/verify-login", json!({"username": "nobody", "code": 76523709})).await;
    assert_eq!((code.status.as_u16(), code.body["error"].as_str()), (400, Some("invalid_request")));
    assert_eq!(code.body["field"], "body");
    assert!(!code.body.to_string().contains("76523709"), "the value sent is not echoed: {}", code.body);
    let missing = api.post("/login", json!({})).await;
    assert_eq!(missing.body["field"], "username", "a missing field is still named");

    for path in ["/refresh", "/logout"] {
        let request = Request::builder()
            .method("POST")
            .uri(path)
            .header("host", HOST)
            .header("content-type", "application/json")
            .body(Body::from("{not json"))
            .unwrap();
        let response = api.app.clone().oneshot(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{path}");
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 16).await.unwrap();
        let body: Value = serde_json::from_slice(&bytes).expect("a JSON error");
        assert_eq!(body["error"], "invalid_request", "{path}");
    }
}

#[tokio::test]
async fn the_sign_in_session_and_only_it_reads_its_emails_delivery_status() {
    use triggers::auth_state::delivery::{self, DeliveryStatus};
    use triggers::auth_state::store::{StateKey, update};
    let api = api().await;
    api.post("/signup", json!({"username": "stella", "email": "stella@example.com"})).await;
    let login = api.post("/login", json!({"username": "stella"})).await;
    let session = login.body["session"].as_str().unwrap().to_string();
    let status = |session: String| {
        let app = api.app.clone();
        async move { call(&app, "GET", "/login/status", None, &[("x-sign-in-session", session.as_str())]).await }
    };
    let queued = status(session.clone()).await;
    assert_eq!((queued.status, queued.body["status"].as_str()), (StatusCode::OK, Some("queued")), "{}", queued.body);
    assert_eq!(queued.body["final"], false);

    // mail-feedback's writes, as SES's events would make them (by the job's delivery id).
    let job = api.queue.jobs().last().unwrap().clone();
    let id = job.delivery.expect("the job carries its delivery id").as_str().to_string();
    let key = StateKey::delivery("us-east-1_localpool", &id);
    update(&api.state, &key, |s| delivery::advance(s, DeliveryStatus::Bounced, 1, Some("permanent_bounce")))
        .await
        .unwrap();
    let bounced = status(session.clone()).await;
    assert_eq!(
        (bounced.body["status"].as_str(), bounced.body["reason"].as_str(), bounced.body["final"].as_bool()),
        (Some("bounced"), Some("permanent_bounce"), Some(true))
    );

    // A wrong code's new session still reads the same email.
    let wrong = api.post("/verify-login", json!({"username": "stella", "session": session, "code": "00000000"})).await;
    assert_eq!(status(wrong.body["session"].as_str().unwrap().into()).await.body["status"], "bounced");

    // Nothing else authorises it: no header, another string, the username.
    let none = call(&api.app, "GET", "/login/status", None, &[]).await;
    assert_eq!((none.status.as_u16(), none.body["error"].as_str()), (401, Some("session_expired")));
    for other in ["not-a-session", "stella", id.as_str()] {
        assert_eq!(status(other.into()).await.status, StatusCode::UNAUTHORIZED, "{other}");
    }

    // An unknown name's sign-in reads like a real one's at first.
    let unknown = api.post("/login", json!({"username": "nobody-here"})).await;
    let first = status(unknown.body["session"].as_str().unwrap().into()).await;
    assert_eq!((first.status, first.body["status"].as_str()), (StatusCode::OK, Some("queued")));
}
