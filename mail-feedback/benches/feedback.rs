//! Per-event cost of mail-feedback's own work: reading an SES event record (EventBridge envelope)
//! and applying it to an in-memory auth-state store (the DynamoDB round trips are not in it).
use criterion::{Criterion, criterion_group, criterion_main};
use mail_feedback::apply::{FeedbackConfig, MailFeedback};
use triggers::auth_state::store::MemoryStore;

fn bench(c: &mut Criterion) {
    let body =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/eventbridge_bounce.json")).unwrap();
    c.bench_function("feedback: parse an EventBridge bounce record", |b| {
        b.iter(|| mail_feedback::event::parse(std::hint::black_box(&body)).unwrap())
    });
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let feedback = MailFeedback::new(FeedbackConfig { user_pool_id: "us-east-1_bench".into() }, MemoryStore::new());
    c.bench_function("feedback: parse and apply a bounce (memory store)", |b| {
        b.iter(|| runtime.block_on(feedback.process(std::hint::black_box(&body))).unwrap())
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
