//! In-process cost of the trigger logic: `cargo bench -p triggers`.
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use triggers::code::OneTimeCode;
use triggers::define::{Round, decide};
use triggers::link::LoginUrl;

fn benches(c: &mut Criterion) {
    c.bench_function("generate 6-digit code (getrandom)", |b| b.iter(|| OneTimeCode::generate(black_box(6)).unwrap()));
    let code = OneTimeCode::from_digits("482913").unwrap();
    c.bench_function("verify answer (normalise + constant-time compare)", |b| {
        b.iter(|| code.matches(black_box("482 913")))
    });
    let session = [Round::Custom { correct: false }, Round::Custom { correct: true }];
    c.bench_function("define: decide on a 2-round session", |b| b.iter(|| decide(black_box(&session), 3, 0)));
    let url = LoginUrl::parse("https://app.example.com/verify-login?next=%2F").unwrap();
    c.bench_function("build sign-in link", |b| b.iter(|| url.link_for(black_box("Zoë+test&x=1"), "482913")));
    let define_event =
        std::fs::read_to_string(format!("{}/define_after_correct_answer.json", triggers::fixtures::DIR)).unwrap();
    c.bench_function("define: parse event + decide + serialise", |b| {
        b.iter(|| {
            let event = serde_json::from_str(black_box(&define_event)).unwrap();
            let out = triggers::define::handle(event, &triggers::define::DefineConfig { max_attempts: 3 }).unwrap();
            serde_json::to_vec(&out).unwrap()
        })
    });
}

criterion_group!(all, benches);
criterion_main!(all);
