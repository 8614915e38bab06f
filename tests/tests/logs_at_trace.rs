//! A whole sign-up and sign-in through the real binaries, every one at TRACE: `auth-api` (as
//! operators run it locally) in front of `local-cognito`, which runs the trigger binaries over the
//! Lambda Runtime API (SQS on moto), and the `mailer` binary over the Runtime API sending through
//! moto's SES; a passkey added, used and removed on the way. Then their whole output is searched
//! for every secret the run handled.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use testkit::{Moto, free_port, sqs_event};

struct Server {
    child: Child,
    log: std::path::PathBuf,
    url: String,
}

impl Server {
    fn start(binary: &str, args: &[&str], port: u16, env: &[(String, String)]) -> Server {
        let log = testkit::temp_path(binary);
        let file = std::fs::File::create(&log).unwrap();
        let child = Command::new(testkit::bin(binary))
            .args(args)
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env("AWS_LAMBDA_LOG_LEVEL", "TRACE")
            .stdout(Stdio::from(file.try_clone().unwrap()))
            .stderr(Stdio::from(file))
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "{binary} did not start: {}", std::fs::read_to_string(&log).unwrap());
            std::thread::sleep(Duration::from_millis(20));
        }
        Server { child, log, url: format!("http://127.0.0.1:{port}") }
    }

    fn logs(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

/// Log lines without their timestamps: a six-digit code could match a clock reading by chance.
fn without_timestamps(text: &str) -> String {
    text.lines()
        .map(|line| match serde_json::from_str::<serde_json::Value>(line) {
            Ok(serde_json::Value::Object(mut fields)) => {
                fields.remove("timestamp");
                serde_json::Value::Object(fields).to_string()
            }
            _ => line.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn set_cookies(response: &reqwest::Response) -> Vec<(String, String)> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|c| {
            c.to_str().ok()?.split(';').next()?.split_once('=').map(|(k, v)| (k.to_string(), v.to_string()))
        })
        .collect()
}

#[tokio::test]
async fn a_full_run_at_trace_logs_no_code_session_token_or_address() {
    let moto = Moto::start();
    let sdk = moto.sdk_config().await;
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    moto.verify_domain(&aws_sdk_sesv2::Client::new(&sdk), "acme.example").await;
    let queue_url = moto.create_queue(&sqs, "mail").await;

    let mut cognito_env = moto.env();
    cognito_env.extend([
        ("MAIL_QUEUE_URL".to_string(), queue_url.clone()),
        ("LOGIN_URL".to_string(), e2e::LOGIN_URL.to_string()),
        ("AUTH_STATE_TABLE".to_string(), moto.create_auth_state_table().await),
        ("SIGN_IN_URL".to_string(), "http://localhost:4000/".to_string()),
    ]);
    let cognito_port = free_port();
    let listen = format!("127.0.0.1:{cognito_port}");
    let bin_dir = testkit::bin_dir();
    let args = ["--listen", &listen, "--triggers", "binaries", "--bin-dir", bin_dir.to_str().unwrap()];
    let cognito = Server::start("local-cognito", &args, cognito_port, &cognito_env);

    let api_port = free_port();
    let api_listen = format!("127.0.0.1:{api_port}");
    let passkey_origin = format!("http://localhost:{api_port}");
    // Cognito is local-cognito; the sign-outs go to the auth-state table on moto.
    let mut api_env = moto.env();
    api_env.extend(
        [
            ("COGNITO_CLIENT_ID", "local0client0id00000000000"),
            ("COGNITO_USER_POOL_ID", "us-east-1_localpool"),
            ("AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER", cognito.url.as_str()),
            ("AUTH_STATE_TABLE", "auth-state"),
            ("AWS_REGION", "us-east-1"),
            ("PASSKEY_RP_ID", "localhost"),
            ("PASSKEY_ORIGINS", passkey_origin.as_str()),
            ("ACCOUNT_URL", "http://localhost:4000/account"),
            ("MAIL_QUEUE_URL", queue_url.as_str()),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string())),
    );
    let api = Server::start("auth-api", &["--listen", &api_listen], api_port, &api_env);

    let http = reqwest::Client::new();
    let post = |path: &str, body: serde_json::Value, cookie: Option<&str>| {
        let mut request = http.post(format!("{}{path}", api.url)).json(&body);
        if let Some(c) = cookie {
            request = request.header("cookie", c).header("origin", &api.url);
        }
        request.send()
    };
    let email = "trace.person@example.com";
    let signed_up = post("/signup", serde_json::json!({"username": "tracey", "email": email}), None).await.unwrap();
    assert_eq!(signed_up.status(), 201);
    let login: serde_json::Value =
        post("/login", serde_json::json!({"username": "tracey"}), None).await.unwrap().json().await.unwrap();
    let first_session = login["session"].as_str().unwrap().to_string();

    // The mailer binary takes the job from the queue as the event source mapping would.
    let messages = sqs.receive_message().queue_url(&queue_url).send().await.unwrap().messages.unwrap_or_default();
    assert_eq!(messages.len(), 1);
    let mut mailer_env = moto.env();
    mailer_env.extend([
        ("MAIL_FROM".to_string(), "Acme <no-reply@acme.example>".to_string()),
        ("AWS_LAMBDA_LOG_LEVEL".to_string(), "TRACE".to_string()),
    ]);
    let (mailer, mailer_output) = testkit::rie::run_logged(
        testkit::bin("mailer").to_str().unwrap(),
        &[sqs_event(&messages, "arn:aws:sqs:us-east-1:123456789012:mail")],
        &mailer_env,
        20,
    );
    assert_eq!(mailer.body(0)["batchItemFailures"], serde_json::json!([]));
    let sent = moto.sent_emails();
    let html = sent[0]["body"].as_str().unwrap();
    let code = e2e::code_in(html);
    let link_start = html.find(e2e::LOGIN_URL).unwrap();
    let link: String = html[link_start..].chars().take_while(|c| *c != '"').collect();

    let wrong: serde_json::Value = post(
        "/verify-login",
        serde_json::json!({"username": "tracey", "session": first_session, "code": "000000"}),
        None,
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let second_session = wrong["session"].as_str().unwrap().to_string();
    let done =
        post("/verify-login", serde_json::json!({"username": "tracey", "session": second_session, "code": code}), None)
            .await
            .unwrap();
    assert_eq!(done.status(), 200);
    // The link opened again elsewhere (no session): the code is used, so a new email goes out;
    // then a resend within the minute is refused. Both paths touch the auth-state table.
    let again = post("/verify-login", serde_json::json!({"username": "tracey", "code": code}), None).await.unwrap();
    assert_eq!(again.status(), 410);
    let again: serde_json::Value = again.json().await.unwrap();
    let third_session = again["session"].as_str().unwrap().to_string();
    let resend =
        post("/resend", serde_json::json!({"username": "tracey", "session": third_session}), None).await.unwrap();
    assert_eq!(resend.status(), 429);
    let tokens = set_cookies(&done);
    assert_eq!(tokens.len(), 3);
    let cookie_header: String = tokens.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ");
    let me = http.get(format!("{}/me", api.url)).header("cookie", &cookie_header).send().await.unwrap();
    assert_eq!(me.status(), 200);
    let refreshed = post("/refresh", serde_json::json!({}), Some(&cookie_header)).await.unwrap();
    assert_eq!(refreshed.status(), 200);
    let new_tokens = set_cookies(&refreshed);
    assert!(new_tokens.iter().any(|(k, _)| k == "refresh_token"), "rotation: a new refresh token");

    // An email change straight through the SDK: the new address and Cognito's code stay out too.
    let idp = testkit::cognito::client(&cognito.url).await;
    let access = new_tokens.iter().find(|(k, _)| k == "access_token").unwrap().1.clone();
    let new_email = "trace.moved@example.org";
    let attribute = |name: &str, value: &str| {
        aws_sdk_cognitoidentityprovider::types::AttributeType::builder().name(name).value(value).build().unwrap()
    };
    idp.update_user_attributes()
        .access_token(&access)
        .user_attributes(attribute("email", new_email))
        .send()
        .await
        .unwrap();
    let outbox: serde_json::Value =
        http.get(format!("{}/_local/emails", cognito.url)).send().await.unwrap().json().await.unwrap();
    let attribute_code: String = outbox[0]["text"].as_str().unwrap().chars().filter(char::is_ascii_digit).collect();
    let wrong_attribute_code = if attribute_code == "000000" { "111111" } else { "000000" };
    let verify =
        |code: &str| idp.verify_user_attribute().access_token(&access).attribute_name("email").code(code).send();
    assert!(verify(wrong_attribute_code).await.is_err());
    verify(&attribute_code).await.unwrap();

    // A passkey: added, signed in with (through the trigger binaries and the table), removed.
    let mut soft = testkit::webauthn::SoftPasskey::new(&passkey_origin, "localhost");
    let options: serde_json::Value = post("/passkeys/register/options", serde_json::json!({}), Some(&cookie_header))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let credential = soft.register(&options["publicKey"], testkit::webauthn::Attestation::Packed);
    let body = serde_json::json!({"ceremony": options["ceremony"], "credential": credential});
    let added = post("/passkeys/register", body, Some(&cookie_header)).await.unwrap();
    assert_eq!(added.status(), 201);
    let sign_in: serde_json::Value =
        post("/passkey/sign-in/options", serde_json::json!({}), None).await.unwrap().json().await.unwrap();
    let body = serde_json::json!({"ceremony": sign_in["ceremony"], "credential": soft.assert(&sign_in["publicKey"])});
    let passkey_done = post("/passkey/sign-in", body, None).await.unwrap();
    assert_eq!(passkey_done.status(), 200, "a passkey sign-in through the trigger binaries");
    let passkey_tokens = set_cookies(&passkey_done);
    let id = testkit::webauthn::b64(&soft.credential_id);
    let removed = http
        .delete(format!("{}/passkeys/{id}", api.url))
        .header("cookie", &cookie_header)
        .header("origin", &api.url)
        .send()
        .await
        .unwrap();
    assert_eq!(removed.status(), 200);

    assert_eq!(post("/logout", serde_json::json!({}), Some(&cookie_header)).await.unwrap().status(), 204);
    let after = http.get(format!("{}/me", api.url)).header("cookie", &cookie_header).send().await.unwrap();
    assert_eq!(after.status(), 401, "the sign-out reached /me (the family is in the table)");

    let logs = [
        ("local-cognito", without_timestamps(&cognito.logs())),
        ("auth-api", without_timestamps(&api.logs())),
        ("mailer", without_timestamps(&mailer_output)),
    ];
    for (name, text) in &logs {
        assert!(text.lines().count() >= 3, "{name} logged: {text}");
    }
    assert!(logs[0].1.contains("\"level\":\"DEBUG\""), "local-cognito ran at TRACE: {}", logs[0].1);
    assert!(logs[1].1.contains("\"level\":\"DEBUG\""), "auth-api ran at TRACE: {}", logs[1].1);

    let mut secrets: Vec<(&str, String)> = vec![
        ("code", code.clone()),
        ("link", link),
        ("email", email.to_string()),
        ("new email", new_email.to_string()),
        ("attribute code", attribute_code.clone()),
        ("first session", first_session),
        ("second session", second_session),
        ("third session", third_session),
    ];
    secrets.extend(tokens.iter().chain(&new_tokens).chain(&passkey_tokens).map(|(k, v)| (k.as_str(), v.clone())));
    for (what, value) in [
        ("registration ceremony", &options["ceremony"]),
        ("registration challenge", &options["publicKey"]["challenge"]),
        ("sign-in ceremony", &sign_in["ceremony"]),
        ("sign-in challenge", &sign_in["publicKey"]["challenge"]),
    ] {
        secrets.push((what, value.as_str().unwrap().to_string()));
    }
    for (name, text) in &logs {
        for (what, secret) in &secrets {
            assert!(secret.len() >= 6, "{what} is a real value");
            assert!(!text.contains(secret.as_str()), "{name} logged the {what}:\n{text}");
        }
        // The code also must not appear in a URL-encoded or split form of the link.
        assert!(!text.contains(&format!("code={code}")), "{name}");
    }
}
