//! When to try a mail again: exponential backoff with jitter, capped, and a limit on
//! attempts. Pure functions of their inputs (randomness comes in through
//! [`Random`]), so the schedule is tested without waiting.

use time::{Duration, OffsetDateTime};

use super::DeliveryResult;
use crate::random::{self, Random};

/// How a failed delivery is retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included; then the row is marked failed.
    pub max_attempts: u32,
    /// The delay after the first failure, before jitter; it doubles each time.
    pub first_delay: Duration,
    /// No delay is longer than this.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    /// 10 attempts over about six hours: 30 s, 1, 2, 4, 8, 16, 32 minutes, then hourly.
    fn default() -> Self {
        Self {
            max_attempts: 10,
            first_delay: Duration::seconds(30),
            max_delay: Duration::hours(1),
        }
    }
}

/// The delay before attempt `failed_attempts + 1`: `first_delay × 2^(failed_attempts − 1)`,
/// capped at `max_delay`, of which the upper half is random ("equal jitter"), so that
/// mail held up by the same outage does not all come back at the same second. Whole
/// seconds (what the store keeps), at least one.
pub fn retry_delay(policy: &RetryPolicy, failed_attempts: u32, random: &dyn Random) -> Duration {
    let first = policy.first_delay.whole_seconds().max(1);
    let cap = policy.max_delay.whole_seconds().max(first);
    let doublings = failed_attempts.saturating_sub(1).min(62);
    let full = first.saturating_mul(1_i64 << doublings).min(cap);
    let fixed = full / 2;
    let spread = u64::try_from(full - fixed).unwrap_or(0);
    let jitter = u64::from_le_bytes(random::array(random)) % (spread + 1);
    Duration::seconds((fixed + i64::try_from(jitter).unwrap_or(0)).max(1))
}

/// What to record after attempt number `attempts` failed with `error`.
pub fn after_failure(
    policy: &RetryPolicy,
    attempts: u32,
    error: String,
    now: OffsetDateTime,
    random: &dyn Random,
) -> DeliveryResult {
    if attempts >= policy.max_attempts {
        DeliveryResult::Failed { error }
    } else {
        DeliveryResult::Retry {
            at: now + retry_delay(policy, attempts, random),
            error,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::SeededRandom;
    use time::macros::datetime;

    /// A "random" source that always gives the same byte.
    struct Constant(u8);
    impl Random for Constant {
        fn fill(&self, buf: &mut [u8]) {
            buf.fill(self.0);
        }
    }

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 5,
            first_delay: Duration::seconds(30),
            max_delay: Duration::minutes(10),
        }
    }

    #[test]
    fn delays_double_and_stay_within_their_jitter_band() {
        let random = SeededRandom::new(7);
        for (failed, full) in [(1, 30), (2, 60), (3, 120), (4, 240), (5, 480), (6, 600)] {
            for _ in 0..200 {
                let d = retry_delay(&policy(), failed, &random).whole_seconds();
                assert!(
                    (full / 2..=full).contains(&d),
                    "after {failed} failures: {d} s not in {}..={full}",
                    full / 2
                );
            }
        }
    }

    #[test]
    fn the_cap_holds_however_many_failures() {
        let random = SeededRandom::new(1);
        for failed in [7, 20, 63, 64, 1000, u32::MAX] {
            let d = retry_delay(&policy(), failed, &random);
            assert!(d <= Duration::minutes(10), "{failed}: {d}");
            assert!(d >= Duration::minutes(5), "{failed}: {d}");
        }
    }

    #[test]
    fn jitter_spreads_retries_apart() {
        let random = SeededRandom::new(42);
        let delays: std::collections::HashSet<i64> = (0..50)
            .map(|_| retry_delay(&policy(), 4, &random).whole_seconds())
            .collect();
        assert!(delays.len() > 10, "only {} distinct delays", delays.len());
    }

    #[test]
    fn the_extremes_of_the_random_source_give_the_band_edges() {
        assert_eq!(
            retry_delay(&policy(), 3, &Constant(0)),
            Duration::seconds(60)
        );
        // 0xFF.. modulo 61 is not 60, so check only that it is within the band.
        let high = retry_delay(&policy(), 3, &Constant(0xFF)).whole_seconds();
        assert!((60..=120).contains(&high));
    }

    #[test]
    fn a_tiny_policy_still_waits_at_least_a_second() {
        let tiny = RetryPolicy {
            max_attempts: 3,
            first_delay: Duration::ZERO,
            max_delay: Duration::ZERO,
        };
        assert_eq!(retry_delay(&tiny, 1, &Constant(0)), Duration::seconds(1));
    }

    #[test]
    fn the_last_attempt_fails_the_row_and_earlier_ones_retry() {
        let now = datetime!(2026-01-05 09:00 UTC);
        let random = Constant(0);
        match after_failure(&policy(), 1, "refused".into(), now, &random) {
            DeliveryResult::Retry { at, error } => {
                assert_eq!(at, now + Duration::seconds(15));
                assert_eq!(error, "refused");
            }
            other => panic!("expected a retry, got {other:?}"),
        }
        assert_eq!(
            after_failure(&policy(), 5, "refused".into(), now, &random),
            DeliveryResult::Failed {
                error: "refused".into()
            }
        );
    }
}
