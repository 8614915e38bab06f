//! The password `SignUp` needs even in a passwordless pool. Nobody ever types or sees it: 40
//! characters from the OS CSPRNG over a 64-character alphabet (240 bits), with a lower-case and an
//! upper-case letter, a digit and a symbol, so it satisfies any password policy Cognito allows
//! (at most 99 characters). It is never returned or logged.

use rand::TryRng;
use rand::rngs::SysRng;

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const LENGTH: usize = 40;

pub fn generate() -> String {
    loop {
        let mut bytes = [0u8; LENGTH];
        SysRng.try_fill_bytes(&mut bytes).expect("the OS random source works");
        // 256 is a multiple of 64: the low six bits pick every character with equal chance.
        let candidate: String = bytes.iter().map(|b| char::from(ALPHABET[usize::from(b & 63)])).collect();
        if satisfies_every_policy(&candidate) {
            return candidate;
        }
    }
}

fn satisfies_every_policy(p: &str) -> bool {
    p.chars().any(|c| c.is_ascii_lowercase())
        && p.chars().any(|c| c.is_ascii_uppercase())
        && p.chars().any(|c| c.is_ascii_digit())
        && p.chars().any(|c| c == '-' || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_satisfy_the_strictest_policy_and_differ() {
        let a = generate();
        assert_eq!(a.len(), LENGTH);
        assert!(satisfies_every_policy(&a));
        assert_ne!(a, generate());
        assert!(!satisfies_every_policy("abcdefgh"));
    }
}
