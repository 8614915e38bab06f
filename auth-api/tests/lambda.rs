//! The `auth-api` binary as Lambda runs it behind a Function URL: `lambda_http` over the Runtime
//! API, payload format 2.0 in, an HTTP response out.

use serde_json::{Value, json};
use testkit::rie;

const AUTH_API: &str = env!("CARGO_BIN_EXE_auth-api");

fn function_url_event(method: &str, path: &str, body: Option<&str>) -> Value {
    json!({
        "version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": "",
        "headers": {"host": "abc.lambda-url.eu-west-1.on.aws", "content-type": "application/json"},
        "requestContext": {
            "accountId": "123456789012", "apiId": "abc", "domainName": "abc.lambda-url.eu-west-1.on.aws",
            "domainPrefix": "abc", "requestId": "r1", "routeKey": "$default", "stage": "$default",
            "time": "28/Nov/2026:18:00:00 +0000", "timeEpoch": 1795888800000u64,
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "203.0.113.9", "userAgent": "test"}
        },
        "body": body, "isBase64Encoded": false
    })
}

#[test]
fn behind_a_function_url_it_answers_with_its_own_errors_and_checks_configuration() {
    let env: Vec<(String, String)> = [
        ("COGNITO_CLIENT_ID", "client"),
        ("COGNITO_USER_POOL_ID", "eu-west-1_pool"),
        ("AUTH_STATE_TABLE", "auth-state"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let events = [
        function_url_event("GET", "/me", None),
        function_url_event("POST", "/signup", Some(r#"{"username": "a b", "email": "a@example.com"}"#)),
    ];
    let report = rie::run(AUTH_API, &events, &env, 20);
    assert!(report.ok(0) && report.ok(1), "{:?}", report.raw);
    let me = report.body(0);
    assert_eq!(me["statusCode"], 401);
    let body: Value = serde_json::from_str(me["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["error"], "not_signed_in");
    let signup = report.body(1);
    assert_eq!(signup["statusCode"], 400);
    let body: Value = serde_json::from_str(signup["body"].as_str().unwrap()).unwrap();
    assert_eq!((body["error"].as_str(), body["field"].as_str()), (Some("invalid_request"), Some("username")));

    let missing = rie::run(AUTH_API, &events[..1], &[], 10);
    assert!(missing.results().is_empty());
    let init_error = missing.raw["init_error"].as_str().unwrap_or_default();
    assert!(init_error.contains("COGNITO_CLIENT_ID"), "{:?}", missing.raw);
    let no_table = rie::run(AUTH_API, &events[..1], &env[..2], 10);
    let init_error = no_table.raw["init_error"].as_str().unwrap_or_default();
    assert!(init_error.contains("AUTH_STATE_TABLE"), "sign-outs need the table: {:?}", no_table.raw);

    // Passkeys on: each setting they need stops start-up by name when it is missing or wrong.
    let with = |extra: &[(&str, &str)]| {
        let mut all = env.clone();
        all.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let report = rie::run(AUTH_API, &events[..1], &all, 10);
        report.raw["init_error"].as_str().unwrap_or_default().to_string()
    };
    let rp = ("PASSKEY_RP_ID", "example.com");
    let origins = ("PASSKEY_ORIGINS", "https://app.example.com");
    let queue = ("MAIL_QUEUE_URL", "https://sqs.eu-west-1.amazonaws.com/123456789012/mail");
    assert!(with(&[rp]).contains("PASSKEY_ORIGINS"));
    assert!(with(&[rp, ("PASSKEY_ORIGINS", "https://evil.example")]).contains("PASSKEY_ORIGINS"));
    assert!(with(&[rp, origins]).contains("MAIL_QUEUE_URL"));
    assert!(with(&[rp, origins, queue]).contains("ACCOUNT_URL"));
    assert!(with(&[("PASSKEY_RP_ID", "127.0.0.1"), origins]).contains("PASSKEY_RP_ID"));
    let configured = with(&[rp, origins, queue, ("ACCOUNT_URL", "https://app.example.com/account")]);
    assert_eq!(configured, "", "a complete passkey configuration starts");
}
