//! What a create-challenge call for a user that does not exist (`userNotFound`, from
//! PreventUserExistenceErrors) looks like from outside: the same response shape and a delay drawn
//! from the same distribution as a real call's mail-queue send. See docs/user-existence.md.

use rand::RngExt;
use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

/// Send latencies the process has seen, so the decoy path can wait as long as a real send would.
/// Before the first real send the delay comes from a fallback range typical of an SQS call
/// from Lambda (including connection set-up, which a fresh process pays on its first send).
#[derive(Debug)]
pub struct LatencyMirror {
    samples: Mutex<VecDeque<Duration>>,
    capacity: usize,
    fallback: (Duration, Duration),
}

impl Default for LatencyMirror {
    fn default() -> Self {
        LatencyMirror::new(64, (Duration::from_millis(15), Duration::from_millis(45)))
    }
}

impl LatencyMirror {
    pub fn new(capacity: usize, fallback: (Duration, Duration)) -> Self {
        LatencyMirror { samples: Mutex::new(VecDeque::with_capacity(capacity)), capacity, fallback }
    }

    pub fn record(&self, d: Duration) {
        let mut samples = self.samples.lock().unwrap_or_else(|p| p.into_inner());
        if samples.len() == self.capacity {
            samples.pop_front();
        }
        samples.push_back(d);
    }

    /// A delay for the decoy path: one of the recorded latencies at random, else the fallback.
    pub fn sample(&self) -> Duration {
        let mut rng = rand::rng();
        let samples = self.samples.lock().unwrap_or_else(|p| p.into_inner());
        if samples.is_empty() {
            let (lo, hi) = self.fallback;
            rng.random_range(lo..=hi)
        } else {
            samples[rng.random_range(0..samples.len())]
        }
    }
}

/// Mailbox providers big enough that an address there is plausible for any username.
pub const PLAUSIBLE_DOMAINS: [&str; 4] = ["gmail.com", "outlook.com", "yahoo.com", "icloud.com"];

/// A masked address for a name that has no account (`EMAIL_HINT=masked` only): a random letter at
/// a common provider, drawn from the OS random source, so nobody can work out what an unknown
/// name's hint must be and compare (the caller stores it, so the name keeps it). What such hints
/// still reveal is listed in docs/user-existence.md.
pub fn random_hint() -> String {
    let mut rng = rand::rng();
    let letter = char::from(b'a' + rng.random_range(0..26u8));
    let domain = PLAUSIBLE_DOMAINS[rng.random_range(0..PLAUSIBLE_DOMAINS.len())];
    format!("{letter}***@{domain}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_decoy_delay_is_drawn_from_recorded_latencies() {
        let mirror = LatencyMirror::new(4, (Duration::from_millis(1), Duration::from_millis(2)));
        for ms in [30, 40, 50, 60, 70] {
            mirror.record(Duration::from_millis(ms));
        }
        let seen: std::collections::BTreeSet<u128> = (0..500).map(|_| mirror.sample().as_millis()).collect();
        assert_eq!(seen.into_iter().collect::<Vec<_>>(), vec![40, 50, 60, 70], "30 was evicted");
    }

    #[test]
    fn before_any_send_the_fallback_range_is_used() {
        let mirror = LatencyMirror::new(4, (Duration::from_millis(10), Duration::from_millis(20)));
        for _ in 0..200 {
            let d = mirror.sample();
            assert!(d >= Duration::from_millis(10) && d <= Duration::from_millis(20), "{d:?}");
        }
    }

    #[test]
    fn decoy_hints_are_drawn_not_derived() {
        let hints: std::collections::BTreeSet<String> = (0..200).map(|_| random_hint()).collect();
        assert!(hints.len() > 20, "{} distinct hints", hints.len());
        for hint in &hints {
            let (local, domain) = hint.split_once("***@").unwrap();
            assert!(local.len() == 1 && local.chars().all(|c| c.is_ascii_lowercase()), "{hint}");
            assert!(PLAUSIBLE_DOMAINS.contains(&domain), "{hint}");
        }
    }
}
