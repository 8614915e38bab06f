//! `cargo bench -p mailer`: rendering throughput (one core) and a 10-message batch against a local
//! SES v2 stub (wiremock, no added latency), through the real SDK.
use aws_sdk_sesv2::config::{BehaviorVersion, Credentials, Region};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use lambda_support::Env;
use mail_job::{MailJob, read_fixture};
use mailer::batch::Mailer;
use mailer::config::MailerConfig;
use mailer::ses::SesSender;
use std::hint::black_box;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

fn render(c: &mut Criterion) {
    let job = MailJob::parse(&read_fixture("login_link.json")).unwrap();
    let mut group = c.benchmark_group("render");
    group.throughput(Throughput::Elements(1));
    group.bench_function("login_link email (subject, preheader, HTML, text)", |b| {
        b.iter(|| mailer::render::render(black_box(&job), "Acme").unwrap())
    });
    let body = read_fixture("login_link.json");
    group.bench_function("parse job + render", |b| {
        b.iter(|| mailer::render::render(&MailJob::parse(black_box(&body)).unwrap(), "Acme").unwrap())
    });
    group.finish();
}

fn batch(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let (server, mailer) = rt.block_on(async {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"MessageId": "bench"})))
            .mount(&server)
            .await;
        let sdk = aws_sdk_sesv2::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("test", "test", None, None, "bench"))
            .endpoint_url(server.uri())
            .build();
        let config = MailerConfig::from_env(&Env::from_pairs([("MAIL_FROM", "Acme <no-reply@acme.example>")])).unwrap();
        (server, Mailer::new(config, SesSender::new(aws_sdk_sesv2::Client::from_conf(sdk))))
    });
    let job = read_fixture("login_link.json").replace("2026-11-25T18:03:00Z", "2999-01-01T00:00:00Z");
    let records: Vec<serde_json::Value> = (0..10)
        .map(|i| serde_json::json!({"messageId": format!("m{i}"), "body": job, "attributes": {}, "messageAttributes": {}}))
        .collect();
    let event = serde_json::json!({ "Records": records });
    let mut group = c.benchmark_group("batch");
    group.throughput(Throughput::Elements(10));
    group.bench_function("10 messages → SES v2 stub", |b| {
        b.to_async(&rt).iter(|| async {
            let response = mailer.handle(serde_json::from_value(event.clone()).unwrap(), chrono::Utc::now()).await;
            assert!(response.batch_item_failures.is_empty());
        })
    });
    group.finish();
    drop(server);
}

criterion_group!(benches, render, batch);
criterion_main!(benches);
