//! One-time codes: six random digits, sent by email, stored only as a keyed hash, valid
//! once, for a short time, for a few tries.

use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;
use time::OffsetDateTime;

use crate::account::AccountId;
use crate::error::Invalid;
use crate::keys::Keys;
use crate::random::{self, Random};

/// Digits in a code. Six keeps it easy to type on a phone; the tries limit (and the
/// per-account and per-client throttles) keep guessing hopeless.
pub const DIGITS: usize = 6;

/// A code as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCode {
    pub id: i64,
    pub account_id: AccountId,
    pub purpose: String,
    pub code_hash: String,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub attempts: u32,
    pub used_at: Option<OffsetDateTime>,
}

/// Why a code was not accepted (the person only learns that it was not).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Rejection {
    Wrong,
    Expired,
    AlreadyUsed,
    TooManyTries,
}

/// A fresh code, uniformly distributed over all six-digit strings.
pub fn generate(random: &dyn Random) -> String {
    // 2^64 is not a multiple of 10^6; the bias of taking the remainder is below 2^-44.
    let n = u64::from_le_bytes(random::array(random)) % 10u64.pow(DIGITS as u32);
    format!("{n:0width$}", width = DIGITS)
}

/// The stored form of `code` for this account, purpose and moment of issue.
pub fn hash(
    keys: &Keys,
    account: AccountId,
    purpose: &str,
    created_at: OffsetDateTime,
    code: &str,
) -> String {
    hex::encode(keys.code_hash(&[
        purpose.as_bytes(),
        &account.0.to_be_bytes(),
        &created_at.unix_timestamp().to_be_bytes(),
        code.as_bytes(),
    ]))
}

/// Checks the shape of a typed code: six digits (spaces allowed).
pub fn parse(field: &'static str, code: &str) -> Result<String, Invalid> {
    let digits: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if digits.len() != DIGITS || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Invalid::new(
            field,
            "Enter the 6-digit code from the email.",
        ));
    }
    Ok(digits)
}

/// Checks `typed` against `stored` at `now`.
pub fn check(
    keys: &Keys,
    stored: &StoredCode,
    typed: &str,
    max_tries: u32,
    now: OffsetDateTime,
) -> Result<(), Rejection> {
    if stored.used_at.is_some() {
        return Err(Rejection::AlreadyUsed);
    }
    if now >= stored.expires_at {
        return Err(Rejection::Expired);
    }
    if stored.attempts >= max_tries {
        return Err(Rejection::TooManyTries);
    }
    let expected = hash(
        keys,
        stored.account_id,
        &stored.purpose,
        stored.created_at,
        typed,
    );
    if bool::from(expected.as_bytes().ct_eq(stored.code_hash.as_bytes())) {
        Ok(())
    } else {
        Err(Rejection::Wrong)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::MasterKey;
    use crate::random::SeededRandom;
    use time::macros::datetime;

    const T0: OffsetDateTime = datetime!(2026-04-01 10:00 UTC);

    fn stored(keys: &Keys, code: &str) -> StoredCode {
        StoredCode {
            id: 1,
            account_id: AccountId(7),
            purpose: "unlock".into(),
            code_hash: hash(keys, AccountId(7), "unlock", T0, code),
            created_at: T0,
            expires_at: T0 + time::Duration::minutes(10),
            attempts: 0,
            used_at: None,
        }
    }

    #[test]
    fn codes_are_six_digits() {
        let r = SeededRandom::new(5);
        for _ in 0..100 {
            let c = generate(&r);
            assert_eq!(c.len(), 6);
            assert!(c.bytes().all(|b| b.is_ascii_digit()));
        }
    }

    #[test]
    fn a_code_is_good_once_briefly_for_a_few_tries() {
        let keys = MasterKey::from_bytes([9; 32]).derive();
        let s = stored(&keys, "123456");
        assert_eq!(check(&keys, &s, "123456", 5, T0), Ok(()));
        assert_eq!(check(&keys, &s, "123457", 5, T0), Err(Rejection::Wrong));
        assert_eq!(
            check(&keys, &s, "123456", 5, s.expires_at),
            Err(Rejection::Expired)
        );
        let used = StoredCode {
            used_at: Some(T0),
            ..s.clone()
        };
        assert_eq!(
            check(&keys, &used, "123456", 5, T0),
            Err(Rejection::AlreadyUsed)
        );
        let tried = StoredCode {
            attempts: 5,
            ..s.clone()
        };
        assert_eq!(
            check(&keys, &tried, "123456", 5, T0),
            Err(Rejection::TooManyTries)
        );
        // The hash binds the account and purpose: the same digits elsewhere do not match.
        let other = StoredCode {
            account_id: AccountId(8),
            ..s
        };
        assert_eq!(check(&keys, &other, "123456", 5, T0), Err(Rejection::Wrong));
    }

    #[test]
    fn typed_codes_are_checked_for_shape() {
        assert_eq!(parse("code", " 123 456 ").unwrap(), "123456");
        assert!(parse("code", "12345").is_err());
        assert!(parse("code", "abcdef").is_err());
    }
}
