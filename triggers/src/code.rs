//! One-time codes: generation from the OS CSPRNG without modulo bias, answer normalisation and a
//! constant-time comparison.

use rand::TryRng;
use rand::rngs::SysRng;
use std::fmt;
use subtle::ConstantTimeEq;

/// The accepted range of `CODE_LENGTH`. Fewer than 6 digits makes guessing within the attempt
/// limit too likely (3 tries at 4 digits: 1 in 3,333); more than 12 helps nobody typing it.
pub const LENGTH_RANGE: std::ops::RangeInclusive<usize> = 6..=12;

/// `CODE_LENGTH`'s default: eight digits, chosen with the guess backoff so that a year of
/// non-stop guessing at one account succeeds with odds under 0.1 % (docs/threat-model.md).
pub const DEFAULT_LENGTH: usize = 8;

/// A numeric one-time code. `Debug` is redacted so it cannot leak through a log by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct OneTimeCode(String);

#[derive(Debug, thiserror::Error)]
#[error("the operating system's random number generator failed: {0}")]
pub struct RngFailure(String);

impl OneTimeCode {
    /// A fresh code of `len` decimal digits from the OS CSPRNG (getrandom).
    pub fn generate(len: usize) -> Result<Self, RngFailure> {
        Self::generate_from(len, |buf| SysRng.try_fill_bytes(buf).map_err(|e| RngFailure(e.to_string())))
    }

    /// Rejection sampling: a byte below 250 gives `byte % 10`, a byte of 250..=255 is thrown away,
    /// so each digit is exactly uniform (250 is a multiple of 10).
    pub fn generate_from(
        len: usize,
        mut fill: impl FnMut(&mut [u8]) -> Result<(), RngFailure>,
    ) -> Result<Self, RngFailure> {
        let mut digits = String::with_capacity(len);
        let mut buf = [0u8; 32];
        while digits.len() < len {
            fill(&mut buf)?;
            for &b in buf.iter().filter(|&&b| b < 250) {
                if digits.len() == len {
                    break;
                }
                digits.push(char::from(b'0' + b % 10));
            }
        }
        Ok(OneTimeCode(digits))
    }

    /// A code carried back from an earlier step (challenge metadata, private parameters): only
    /// ASCII digits of a plausible length are accepted.
    pub fn from_digits(s: &str) -> Option<Self> {
        (LENGTH_RANGE.contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())).then(|| OneTimeCode(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Compares a user's answer in constant time (for answers of the code's length; the length is
    /// public anyway) after [`normalise_answer`].
    pub fn matches(&self, answer: &str) -> bool {
        let answer = normalise_answer(answer);
        bool::from(self.0.as_bytes().ct_eq(answer.as_bytes()))
    }
}

impl fmt::Debug for OneTimeCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "OneTimeCode(<{} digits>)", self.0.len())
    }
}

/// Removes what people type around a code: white space of any kind and dashes (ASCII and the
/// Unicode dashes a phone keyboard or a copy from HTML produces).
pub fn normalise_answer(answer: &str) -> String {
    answer.chars().filter(|c| !c.is_whitespace() && !matches!(c, '-' | '\u{2010}'..='\u{2015}' | '\u{2212}')).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_have_the_requested_number_of_digits() {
        for len in LENGTH_RANGE {
            let code = OneTimeCode::generate(len).unwrap();
            assert_eq!(code.len(), len);
            assert!(code.as_str().bytes().all(|b| b.is_ascii_digit()));
        }
    }

    #[test]
    fn bytes_of_250_and_above_are_rejected_not_folded() {
        // 250..=255 would map to 0..=5 and make those digits more likely; they must be skipped.
        let mut calls = 0;
        let code = OneTimeCode::generate_from(6, |buf| {
            calls += 1;
            buf.fill(if calls == 1 { 255 } else { 13 });
            Ok(())
        })
        .unwrap();
        assert_eq!(code.as_str(), "333333");
        assert_eq!(calls, 2);
    }

    #[test]
    fn a_failing_rng_is_an_error_not_a_weak_code() {
        let result = OneTimeCode::generate_from(6, |_| Err(RngFailure("no entropy".into())));
        assert!(result.is_err());
    }

    #[test]
    fn digits_are_uniform_by_chi_square() {
        // 100k codes × 6 digits; 9 degrees of freedom. The 0.9999 quantile is 33.72, so an honest
        // generator fails this about once in ten thousand runs; a modulo-biased one (256 % 10)
        // gives a statistic in the hundreds.
        let mut counts = [0u64; 10];
        for _ in 0..100_000 {
            for b in OneTimeCode::generate(6).unwrap().as_str().bytes() {
                counts[usize::from(b - b'0')] += 1;
            }
        }
        let total: u64 = counts.iter().sum();
        let expected = total as f64 / 10.0;
        let chi2: f64 = counts.iter().map(|&c| (c as f64 - expected).powi(2) / expected).sum();
        assert!(chi2 < 33.72, "chi-square {chi2} over {counts:?}");
    }

    #[test]
    fn the_chi_square_test_would_catch_modulo_bias() {
        // The same statistic over `byte % 10` without rejection, to show the test has teeth.
        let mut counts = [0u64; 10];
        for b in 0..=255u8 {
            counts[usize::from(b % 10)] += 2_400; // exactly the biased distribution, ~600k digits
        }
        let total: u64 = counts.iter().sum();
        let expected = total as f64 / 10.0;
        let chi2: f64 = counts.iter().map(|&c| (c as f64 - expected).powi(2) / expected).sum();
        assert!(chi2 > 33.72, "chi-square {chi2}");
    }

    #[test]
    fn answers_are_normalised_before_comparison() {
        let code = OneTimeCode::from_digits("482913").unwrap();
        for ok in ["482913", " 482 913 ", "482-913", "482\u{2013}913", "4 8 2 9 1 3\n", "482\u{a0}913"] {
            assert!(code.matches(ok), "{ok:?}");
        }
        for wrong in ["482914", "48291", "4829130", "", "482913x", "٤٨٢٩١٣"] {
            assert!(!code.matches(wrong), "{wrong:?}");
        }
    }

    #[test]
    fn only_plausible_digit_strings_are_taken_back() {
        assert!(OneTimeCode::from_digits("004217").is_some());
        assert!(OneTimeCode::from_digits("12345").is_none());
        assert!(OneTimeCode::from_digits("12345a").is_none());
        assert!(OneTimeCode::from_digits("1234567890123").is_none());
    }

    #[test]
    fn debug_never_shows_the_digits() {
        let code = OneTimeCode::from_digits("482913").unwrap();
        assert_eq!(format!("{code:?}"), "OneTimeCode(<6 digits>)");
    }
}
