use super::*;

const TTL: i64 = 180;

fn code(digits: &str) -> impl FnOnce() -> OneTimeCode {
    let digits = digits.to_string();
    move || OneTimeCode::from_digits(&digits).unwrap()
}

fn sent(state: UserState, now: i64, digits: &str) -> UserState {
    let (outcome, next) = start(state, now, TTL, &Limits::default(), false, code(digits));
    assert!(matches!(outcome, Start::Send(_)), "{outcome:?}");
    next
}

#[test]
fn the_first_sign_in_sends_and_later_ones_reuse_without_an_email() {
    let limits = Limits::default();
    let state = sent(UserState::default(), 1000, "111111");
    for t in [1001, 1050, 1179] {
        let (outcome, next) = start(state.clone(), t, TTL, &limits, false, || panic!("no new code"));
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
        let (outcome, next) = start(state, now, TTL, &limits, false, code("222222"));
        assert!(matches!(outcome, Start::Send(ref c) if c.digits == "222222" && c.expires_at == now + TTL));
        assert_eq!(next.emails.len(), 2);
    }
}

#[test]
fn a_resend_waits_for_the_last_email_to_age_then_replaces_the_code() {
    let limits = Limits::default();
    let state = sent(UserState::default(), 1000, "111111");
    let (outcome, _) = start(state.clone(), 1059, TTL, &limits, true, || panic!("too soon"));
    assert_eq!(
        outcome,
        Start::Reuse { code: state.code.clone().unwrap(), refused: Some(ResendRefused::TooSoon { retry_after: 1 }) }
    );
    let (outcome, next) = start(state, 1060, TTL, &limits, true, code("222222"));
    assert!(matches!(outcome, Start::Send(ref c) if c.digits == "222222"));
    let (verdict, _) = answer(next, 1061, "111111", &limits);
    assert_eq!(verdict, Verdict::Wrong, "the old code is dead");
}

#[test]
fn the_hourly_budget_counts_every_email_and_refuses_with_the_wait() {
    let limits = Limits::default();
    let mut state = UserState::default();
    for (i, t) in [0, 100, 200, 300, 400].into_iter().enumerate() {
        let (outcome, next) = start(state, 1000 + t, TTL, &limits, true, code("111111"));
        assert!(matches!(outcome, Start::Send(_)), "email {i}: {outcome:?}");
        state = next;
    }
    // The sixth: the code is active, so a resend keeps it and says why.
    let (outcome, _) = start(state.clone(), 1500, TTL, &limits, true, || panic!("over budget"));
    assert!(matches!(outcome, Start::Reuse { refused: Some(ResendRefused::OverBudget { retry_after: 3100 }), .. }));
    // Once it expired there is nothing to reuse: refused until the first email is an hour old.
    let (outcome, _) = start(state.clone(), 1600, TTL, &limits, false, || panic!("over budget"));
    assert_eq!(outcome, Start::Refused { retry_after: 3000 });
    let (outcome, next) = start(state, 4600, TTL, &limits, false, code("333333"));
    assert!(matches!(outcome, Start::Send(_)));
    assert_eq!(next.emails, vec![1100, 1200, 1300, 1400, 4600], "only the last hour is kept");
}

#[test]
fn answers_are_counted_per_code_and_a_correct_one_uses_it() {
    let limits = Limits::default();
    let mut state = sent(UserState::default(), 1000, "111111");
    for i in 1..=4 {
        let (verdict, next) = answer(state, 1000 + i, "999999", &limits);
        assert_eq!(verdict, Verdict::Wrong);
        state = next;
    }
    let (verdict, used) = answer(state.clone(), 1010, "111 111", &limits);
    assert_eq!(verdict, Verdict::Correct);
    assert_eq!(answer(used, 1011, "111111", &limits).0, Verdict::NoUsableCode, "single use");
    let (verdict, worn) = answer(state, 1010, "999999", &limits);
    assert_eq!(verdict, Verdict::Wrong);
    assert_eq!(answer(worn, 1011, "111111", &limits).0, Verdict::NoUsableCode, "5 wrong answers kill it");
}

#[test]
fn a_code_is_never_accepted_at_or_after_its_expiry() {
    let limits = Limits::default();
    let state = sent(UserState::default(), 1000, "111111");
    assert_eq!(answer(state.clone(), 1179, "111111", &limits).0, Verdict::Correct);
    let (verdict, next) = answer(state.clone(), 1180, "111111", &limits);
    assert_eq!(verdict, Verdict::NoUsableCode);
    assert_eq!(next, state, "nothing counted against a dead code");
    assert_eq!(answer(UserState::default(), 1000, "111111", &limits).0, Verdict::NoUsableCode);
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
    assert_eq!(limits, Limits { resend_after_seconds: 30, max_emails_per_hour: 3, max_wrong_answers_per_code: 5 });
    let err = Limits::from_env(&Env::from_pairs([("MAX_WRONG_ANSWERS_PER_CODE", "0")])).unwrap_err();
    assert!(err.to_string().contains("MAX_WRONG_ANSWERS_PER_CODE"), "{err}");
}

#[test]
fn an_unsent_code_is_withdrawn_with_its_email_unless_it_was_replaced() {
    let state = sent(sent(UserState::default(), 1000, "111111"), 1200, "222222");
    let unsent = state.code.clone().unwrap();
    let ((), next) = withdraw(state.clone(), &unsent);
    assert_eq!(next, UserState { code: None, emails: vec![1000] });
    let older = ActiveCode { digits: "111111".into(), sent_at: 1000, expires_at: 1180, wrong: 0, used: false };
    assert_eq!(withdraw(state.clone(), &older).1, state, "a newer code stays");
}
