use super::*;

const TTL: i64 = 180;

fn code(digits: &str) -> impl FnOnce() -> OneTimeCode {
    let digits = digits.to_string();
    move || OneTimeCode::from_digits(&digits).unwrap()
}

fn sent(state: UserState, now: i64, digits: &str) -> UserState {
    let (outcome, next) = start(state, None, now, TTL, &Limits::default(), false, code(digits));
    assert!(matches!(outcome, Start::Send(_)), "{outcome:?}");
    next
}

#[test]
fn the_first_sign_in_sends_and_later_ones_reuse_without_an_email() {
    let limits = Limits::default();
    let state = sent(UserState::default(), 1000, "111111");
    for t in [1001, 1050, 1179] {
        let (outcome, next) = start(state.clone(), None, t, TTL, &limits, false, || panic!("no new code"));
        match outcome {
            Start::Reuse { code, refused: None } => assert_eq!((code.digits.as_str(), code.sent_at), ("111111", 1000)),
            other => panic!("{other:?}"),
        }
        assert_eq!(next, state, "nothing to save");
    }
}

#[test]
fn expired_used_or_worn_out_codes_are_replaced_at_the_next_sign_in() {
    let limits = Limits::default();
    let fresh = sent(UserState::default(), 1000, "111111");
    let mut used = fresh.clone();
    used.code.as_mut().unwrap().used = true;
    let mut worn = fresh.clone();
    worn.code.as_mut().unwrap().wrong = 5;
    for (state, now) in [(fresh, 1180), (used, 1001), (worn, 1001)] {
        let (outcome, next) = start(state, None, now, TTL, &limits, false, code("222222"));
        assert!(matches!(outcome, Start::Send(ref c) if c.digits == "222222" && c.expires_at == now + TTL));
        assert_eq!(next.emails.times().len(), 2);
    }
}

#[test]
fn a_resend_waits_for_the_last_email_to_age_then_replaces_the_code() {
    let limits = Limits::default();
    let state = sent(UserState::default(), 1000, "111111");
    let (outcome, _) = start(state.clone(), None, 1059, TTL, &limits, true, || panic!("too soon"));
    assert_eq!(
        outcome,
        Start::Reuse { code: state.code.clone().unwrap(), refused: Some(ResendRefused::TooSoon { retry_after: 1 }) }
    );
    let (outcome, next) = start(state, None, 1060, TTL, &limits, true, code("222222"));
    assert!(matches!(outcome, Start::Send(ref c) if c.digits == "222222"));
    let (verdict, _) = answer(next, None, 1061, "111111", &limits);
    assert_eq!(verdict, Verdict::Wrong { killed: None }, "the old code is dead");
}

#[test]
fn the_hourly_budget_counts_every_email_and_refuses_with_the_wait() {
    let limits = Limits::default();
    let mut state = UserState::default();
    for (i, t) in [0, 100, 200, 300, 400].into_iter().enumerate() {
        let (outcome, next) = start(state, None, 1000 + t, TTL, &limits, true, code("111111"));
        assert!(matches!(outcome, Start::Send(_)), "email {i}: {outcome:?}");
        state = next;
    }
    // The sixth: the code is active, so a resend keeps it and says why.
    let (outcome, _) = start(state.clone(), None, 1500, TTL, &limits, true, || panic!("over budget"));
    assert!(matches!(outcome, Start::Reuse { refused: Some(ResendRefused::OverBudget { retry_after: 3100 }), .. }));
    // Once it expired there is nothing to reuse: refused until the first email is an hour old.
    let (outcome, _) = start(state.clone(), None, 1600, TTL, &limits, false, || panic!("over budget"));
    assert_eq!(outcome, Start::Refused { retry_after: 3000, hold: Hold::HourlyBudget });
    let (outcome, next) = start(state, None, 4600, TTL, &limits, false, code("333333"));
    assert!(matches!(outcome, Start::Send(_)));
    assert_eq!(next.emails.times(), [1100, 1200, 1300, 1400, 4600], "only the last hour is kept");
}

#[test]
fn answers_are_counted_per_code_and_a_correct_one_uses_it() {
    let limits = Limits::default();
    let mut state = sent(UserState::default(), 1000, "111111");
    for i in 1..=4 {
        let (verdict, next) = answer(state, None, 1000 + i, "999999", &limits);
        assert_eq!(verdict, Verdict::Wrong { killed: None });
        state = next;
    }
    let (verdict, used) = answer(state.clone(), None, 1010, "111 111", &limits);
    assert_eq!(verdict, Verdict::Correct);
    assert_eq!(answer(used, None, 1011, "111111", &limits).0, Verdict::NoUsableCode, "single use");
    let (verdict, worn) = answer(state, None, 1010, "999999", &limits);
    assert_eq!(verdict, Verdict::Wrong { killed: Some(1) }, "the fifth wrong answer kills the code");
    assert_eq!(answer(worn, None, 1011, "111111", &limits).0, Verdict::NoUsableCode, "5 wrong answers kill it");
}

#[test]
fn a_code_is_never_accepted_at_or_after_its_expiry() {
    let limits = Limits::default();
    let state = sent(UserState::default(), 1000, "111111");
    assert_eq!(answer(state.clone(), None, 1179, "111111", &limits).0, Verdict::Correct);
    let (verdict, next) = answer(state.clone(), None, 1180, "111111", &limits);
    assert_eq!(verdict, Verdict::NoUsableCode);
    assert_eq!(next, state, "nothing counted against a dead code");
    assert_eq!(answer(UserState::default(), None, 1000, "111111", &limits).0, Verdict::NoUsableCode);
}

#[test]
fn the_item_lives_until_the_code_and_the_email_hour_are_over() {
    let state = sent(UserState::default(), 1000, "111111");
    assert_eq!(state.expires_at(), 1000 + HOUR);
    assert_eq!(UserState::default().expires_at(), 0);
}

#[test]
fn limits_come_from_the_environment_with_bounds() {
    let env = Env::from_pairs([("RESEND_AFTER_SECONDS", "30"), ("MAX_EMAILS_PER_HOUR", "3")]);
    let limits = Limits::from_env(&env).unwrap();
    assert_eq!(limits, Limits { resend_after_seconds: 30, max_emails_per_hour: 3, ..Limits::default() });
    let err = Limits::from_env(&Env::from_pairs([("MAX_WRONG_ANSWERS_PER_CODE", "0")])).unwrap_err();
    assert!(err.to_string().contains("MAX_WRONG_ANSWERS_PER_CODE"), "{err}");
}

#[test]
fn an_unsent_code_is_withdrawn_with_its_email_unless_it_was_replaced() {
    let state = sent(sent(UserState::default(), 1000, "111111"), 1200, "222222");
    let unsent = state.code.clone().unwrap();
    let ((), next) = withdraw(state.clone(), &unsent);
    assert_eq!(next, UserState { code: None, emails: vec![1000].into(), ..UserState::default() });
    let older = ActiveCode {
        digits: "111111".into(),
        sent_at: 1000,
        expires_at: 1180,
        wrong: 0,
        used: false,
        delivery: String::new(),
    };
    assert_eq!(withdraw(state.clone(), &older).1, state, "a newer code stays");
}

/// Kills the active code with wrong answers at `now`; returns the state and the verdict's count.
fn kill(mut state: UserState, now: i64, limits: &Limits) -> (UserState, Option<u32>) {
    let mut killed = None;
    for _ in 0..limits.max_wrong_answers_per_code {
        let (verdict, next) = answer(state, None, now, "00000000", limits);
        state = next;
        if let Verdict::Wrong { killed: k } = verdict {
            killed = k;
        }
    }
    (state, killed)
}

#[test]
fn each_dead_code_doubles_the_wait_for_the_next_email_up_to_the_cap() {
    // A roomy hourly budget, so that only the backoff holds emails back here.
    let limits = Limits { max_emails_per_hour: 60, ..Limits::default() };
    let mut state = sent(UserState::default(), 0, "11111111");
    let mut t = 0;
    for (n, expected) in [(1, 60), (2, 120), (3, 240), (4, 480), (5, 960), (6, 1920), (7, 3600), (8, 3600)] {
        let killed;
        (state, killed) = kill(state, t + 1, &limits);
        assert_eq!(killed, Some(n));
        let (outcome, _) = start(state.clone(), None, t + expected - 1, TTL, &limits, false, || panic!("too soon"));
        assert_eq!(outcome, Start::Refused { retry_after: 1, hold: Hold::GuessBackoff }, "after {n} dead codes");
        t += expected;
        let (outcome, next) = start(state, None, t, TTL, &limits, false, code("22222222"));
        assert!(matches!(outcome, Start::Send(_)), "{outcome:?}");
        state = next;
    }
}

#[test]
fn a_sign_in_resets_the_backoff_and_typos_never_meet_it() {
    let limits = Limits::default();
    let (state, _) = kill(sent(UserState::default(), 0, "11111111"), 1, &limits);
    let (state, _) = kill(start(state, None, 60, TTL, &limits, false, code("22222222")).1, 61, &limits);
    let state = start(state, None, 180, TTL, &limits, false, code("33333333")).1;
    // Two typos, then the right code: signed in, and the backoff is gone.
    let (_, state) = answer(state, None, 181, "33333334", &limits);
    let (_, state) = answer(state, None, 182, "3333333", &limits);
    let (verdict, state) = answer(state, None, 183, "3333 3333", &limits);
    assert_eq!(verdict, Verdict::Correct);
    assert_eq!(state.wrong_since_sign_in, 0);
    let (outcome, _) = start(state, None, 184, TTL, &limits, false, code("44444444"));
    assert!(matches!(outcome, Start::Send(_)), "no wait after a sign-in: {outcome:?}");
}

#[test]
fn spreading_wrong_answers_over_codes_that_expire_does_not_dodge_the_backoff() {
    let limits = Limits::default();
    let mut state = sent(UserState::default(), 0, "11111111");
    // Four wrong answers per code (never killing one), then a new code by resend, a minute on.
    let mut outcomes = Vec::new();
    for round in 0..3 {
        let t = round * 60;
        for i in 0..4 {
            state = answer(state, None, t + 1 + i, "00000000", &limits).1;
        }
        let (outcome, next) = start(state, None, t + 60, TTL, &limits, true, code("22222222"));
        outcomes.push(outcome);
        state = next;
    }
    assert_eq!(state.wrong_since_sign_in, 12);
    assert!(matches!(outcomes[0], Start::Send(_)) && matches!(outcomes[1], Start::Send(_)), "{outcomes:?}");
    assert!(
        matches!(outcomes[2], Start::Reuse { refused: Some(ResendRefused::OverBudget { retry_after: 60 }), .. }),
        "two codes' worth of wrong answers: the next email waits two minutes after the last: {outcomes:?}"
    );
}

#[test]
fn backoff_variables_are_checked() {
    let env = |pairs: &[(&str, &str)]| Limits::from_env(&Env::from_pairs(pairs.iter().copied()));
    let l = env(&[("GUESS_BACKOFF_BASE_SECONDS", "30"), ("GUESS_BACKOFF_MAX_SECONDS", "600")]).unwrap();
    assert_eq!((l.guess_backoff(4), l.guess_backoff(5), l.guess_backoff(10), l.guess_backoff(500)), (0, 30, 60, 600));
    assert!(
        env(&[("GUESS_BACKOFF_BASE_SECONDS", "0")]).unwrap_err().to_string().contains("GUESS_BACKOFF_BASE_SECONDS")
    );
    let err = env(&[("GUESS_BACKOFF_BASE_SECONDS", "600"), ("GUESS_BACKOFF_MAX_SECONDS", "60")]).unwrap_err();
    assert!(err.to_string().contains("GUESS_BACKOFF_MAX_SECONDS"), "{err}");
    assert!(env(&[("MAX_EMAILS_PER_ADDRESS_PER_HOUR", "61")]).is_err());
}

/// The attacker of docs/threat-model.md: asks for a code the moment one may be sent, spends its
/// five wrong answers at once, and waits exactly as long as each refusal says. Returns the codes
/// and the guesses it gets within `seconds`, with the defaults.
fn guessing_attack(seconds: i64) -> (u32, u32) {
    let limits = Limits::default();
    let (mut state, mut t, mut codes, mut guesses) = (UserState::default(), 0, 0, 0);
    while t < seconds {
        match start(state.clone(), None, t, TTL, &limits, false, code("12345678")) {
            (Start::Send(_), next) => {
                codes += 1;
                state = next;
                for _ in 0..limits.max_wrong_answers_per_code {
                    state = answer(state, None, t, "00000000", &limits).1;
                    guesses += 1;
                }
            }
            (Start::Refused { retry_after, .. }, _) => t += retry_after,
            (other, _) => panic!("{other:?}"),
        }
    }
    (codes, guesses)
}

#[test]
fn a_year_of_non_stop_guessing_gets_the_documented_number_of_guesses() {
    // docs/threat-model.md: 29 codes (145 guesses) on the first day, 8,765 (43,825) in a year:
    // with 8-digit codes, odds of a takeover of 1 - (1 - 5e-8)^8765 ≈ 0.044 %.
    assert_eq!(guessing_attack(86_400), (29, 145));
    assert_eq!(guessing_attack(365 * 86_400), (8_765, 43_825));
    let odds = 1.0 - (1.0 - 5e-8f64).powi(8_765);
    assert!(odds < 0.001, "{odds}");
}

#[test]
fn a_round_for_a_name_without_an_account_never_overwrites_an_accounts_state() {
    let limits = Limits::default();
    let (_, owned) = start(UserState::default(), Some("sub-1"), 1000, TTL, &limits, false, code("11111111"));
    assert_eq!(owned.owner.as_deref(), Some("sub-1"));
    // A session opened while the name had no account goes on after sign-up: it is a decoy.
    let (outcome, after) = start(owned.clone(), None, 1001, TTL, &limits, true, code("22222222"));
    assert!(matches!(outcome, Start::Send(_)), "it looks like any unknown name's round: {outcome:?}");
    assert_eq!(after, owned, "the account's code, budget and backoff are untouched");
    let (verdict, after) = answer(owned.clone(), None, 1002, "00000000", &limits);
    assert_eq!((verdict, after), (Verdict::NoUsableCode, owned.clone()));
    assert_eq!(answer(owned, Some("sub-1"), 1003, "1111 1111", &limits).0, Verdict::Correct);
}
