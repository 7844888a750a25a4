//! Captcha by proof of work, in the ALTCHA scheme: no third-party service, nothing for the
//! person to read or click. The server picks a secret number `n` at most `maxnumber`,
//! publishes `challenge = SHA-256(salt ‖ n)` with an HMAC signature, and the browser
//! finds `n` by trying every number — about `maxnumber / 2` hashes on average, cheap for
//! one person, expensive for a bot making thousands of attempts. The salt carries the
//! expiry (`?expires=<unix>`), the signature binds both, and a solution is accepted once.
//!
//! The signature covers only `SHA-256(salt ‖ n)`, so digits can be moved from the number
//! into the salt without changing it (`…?expires=1767604200` and `12345` hash like
//! `…?expires=17676042001` and `2345`), pushing the expiry far out. The flow therefore
//! keeps the salt it issued and accepts only that exact salt.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use time::{Duration, OffsetDateTime};

use super::{Answer, Factor, FactorContext, FactorKind, Prompt, Verdict};
use crate::error::CoreError;
use crate::keys::Keys;
use crate::random::{self, Random};

pub const ALGORITHM: &str = "SHA-256";
/// How long a challenge may take to solve and submit.
pub const LIFETIME: Duration = Duration::minutes(10);

pub use latchkey_types::{CaptchaChallenge as Challenge, CaptchaSolution as Solution};

fn sha256_hex(salt: &str, number: u64) -> String {
    hex::encode(Sha256::digest(format!("{salt}{number}").as_bytes()))
}

/// Issues a challenge whose secret number is at most `max_number`.
pub fn issue(keys: &Keys, random: &dyn Random, now: OffsetDateTime, max_number: u64) -> Challenge {
    let salt_bytes: [u8; 12] = random::array(random);
    let expires = (now + LIFETIME).unix_timestamp();
    let salt = format!("{}?expires={expires}", hex::encode(salt_bytes));
    let n_bytes: [u8; 8] = random::array(random);
    let number = u64::from_le_bytes(n_bytes) % (max_number.max(1) + 1);
    let challenge = sha256_hex(&salt, number);
    let signature = hex::encode(keys.captcha_mac(challenge.as_bytes()));
    Challenge {
        algorithm: ALGORITHM.to_owned(),
        challenge,
        maxnumber: max_number,
        salt,
        signature,
    }
}

/// Why a solution was not accepted (for the audit log; the person sees only "failed").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    WrongAlgorithm,
    BadSignature,
    WrongNumber,
    Expired,
}

/// Checks a solution's signature, work and expiry. Single use is the caller's part (the
/// store records spent signatures).
pub fn check(
    keys: &Keys,
    solution: &Solution,
    now: OffsetDateTime,
) -> Result<OffsetDateTime, Rejection> {
    if solution.algorithm != ALGORITHM {
        return Err(Rejection::WrongAlgorithm);
    }
    let expected = hex::encode(keys.captcha_mac(solution.challenge.as_bytes()));
    if !bool::from(expected.as_bytes().ct_eq(solution.signature.as_bytes())) {
        return Err(Rejection::BadSignature);
    }
    if sha256_hex(&solution.salt, solution.number) != solution.challenge {
        return Err(Rejection::WrongNumber);
    }
    let expires = solution
        .salt
        .split_once("?expires=")
        .and_then(|(_, e)| e.parse::<i64>().ok())
        .and_then(|e| OffsetDateTime::from_unix_timestamp(e).ok())
        .ok_or(Rejection::BadSignature)?;
    if now >= expires {
        return Err(Rejection::Expired);
    }
    Ok(expires)
}

/// Finds the number by brute force, as the browser does. For tests and tools.
pub fn solve(challenge: &Challenge) -> Option<Solution> {
    (0..=challenge.maxnumber)
        .find(|n| sha256_hex(&challenge.salt, *n) == challenge.challenge)
        .map(|number| Solution {
            algorithm: challenge.algorithm.clone(),
            challenge: challenge.challenge.clone(),
            number,
            salt: challenge.salt.clone(),
            signature: challenge.signature.clone(),
        })
}

/// What the flow keeps: the challenge and the exact salt it was issued with.
#[derive(Debug, Serialize, Deserialize)]
struct Kept {
    challenge: String,
    salt: String,
}

pub struct CaptchaFactor;

#[async_trait]
impl Factor for CaptchaFactor {
    fn kind(&self) -> FactorKind {
        FactorKind::Captcha
    }

    async fn prepare(
        &self,
        cx: &mut FactorContext<'_>,
    ) -> Result<(Prompt, serde_json::Value), CoreError> {
        let challenge = issue(cx.keys, cx.random, cx.now, cx.settings.captcha_max_number);
        let kept = serde_json::json!(Kept {
            challenge: challenge.challenge.clone(),
            salt: challenge.salt.clone(),
        });
        Ok((Prompt::Captcha { challenge }, kept))
    }

    async fn verify(
        &self,
        cx: &mut FactorContext<'_>,
        state: &serde_json::Value,
        answer: &Answer,
    ) -> Result<Verdict, CoreError> {
        let Answer::Captcha { solution } = answer else {
            return Ok(Verdict::Wrong);
        };
        let kept: Kept = super::state(state)?;
        if solution.challenge != kept.challenge || solution.salt != kept.salt {
            return Ok(Verdict::Wrong);
        }
        match check(cx.keys, solution, cx.now) {
            Ok(expires) if cx.tx.spend_captcha(&solution.signature, expires).await? => {
                Ok(Verdict::Passed)
            }
            _ => Ok(Verdict::Wrong),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::MasterKey;
    use crate::random::SeededRandom;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-02-01 10:00 UTC);

    fn keys() -> Keys {
        MasterKey::from_bytes([1; 32]).derive()
    }

    #[test]
    fn a_solved_challenge_checks_out_until_it_expires() {
        let r = SeededRandom::new(9);
        let c = issue(&keys(), &r, NOW, 5_000);
        let s = solve(&c).unwrap();
        assert!(s.number <= 5_000);
        assert_eq!(check(&keys(), &s, NOW), Ok(NOW + LIFETIME));
        assert_eq!(check(&keys(), &s, NOW + LIFETIME), Err(Rejection::Expired));
    }

    #[test]
    fn forged_or_altered_solutions_fail() {
        let r = SeededRandom::new(9);
        let c = issue(&keys(), &r, NOW, 5_000);
        let s = solve(&c).unwrap();
        let wrong_number = Solution {
            number: s.number + 1,
            ..s.clone()
        };
        assert_eq!(
            check(&keys(), &wrong_number, NOW),
            Err(Rejection::WrongNumber)
        );
        // Extending the expiry changes the salt, so the work no longer matches.
        let later = Solution {
            salt: s.salt.replace("?expires=", "?expires=9"),
            ..s.clone()
        };
        assert!(check(&keys(), &later, NOW).is_err());
        // ... unless digits move from the number into the salt: the signature alone
        // cannot tell (the flow's exact-salt check does, see `CaptchaFactor::verify`).
        let digits = s.number.to_string();
        if digits.len() > 1 && !digits[1..].starts_with('0') {
            let shifted = Solution {
                salt: format!("{}{}", s.salt, &digits[..1]),
                number: digits[1..].parse().unwrap(),
                ..s.clone()
            };
            assert!(
                check(&keys(), &shifted, NOW).is_ok(),
                "why the salt is kept"
            );
        }
        // A challenge the server never signed.
        let other = MasterKey::from_bytes([2; 32]).derive();
        assert_eq!(check(&other, &s, NOW), Err(Rejection::BadSignature));
        let md5 = Solution {
            algorithm: "MD5".into(),
            ..s
        };
        assert_eq!(check(&keys(), &md5, NOW), Err(Rejection::WrongAlgorithm));
    }
}
