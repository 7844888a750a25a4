//! Throttling self-service guesses: per name ([`Throttle`], kept in the store), and per
//! client address ([`ClientLimits`]): how many self-service and sign-in requests, and how
//! many failed authentications, one address may make. Sign-in failures per account are
//! the lockout policy's (`crate::lockout`); these stop one client from spraying many
//! accounts, and anyone from guessing one account's answers.
//!
//! Each limit is a GCRA (generic cell rate algorithm): a quota of `n` per period lets a
//! burst of `n` through and then one every `period / n`. [`Quota::take`] is the rule; the
//! stores apply it in one statement each (`crate::client_limits`), so that several
//! servers on one database share one budget per client instead of one each. Time is the
//! injected clock, so tests move it instead of sleeping, and every wait is reported
//! rounded *up* to whole seconds: a client that retries exactly when `Retry-After` says
//! is let in.

use std::net::IpAddr;

use time::{Duration, OffsetDateTime};

use crate::error::CoreError;
use crate::settings::SelfServiceSettings;

/// Failed self-service authentications for one name, as stored.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Throttle {
    pub failures: u32,
    pub first_failure_at: Option<OffsetDateTime>,
    pub blocked_until: Option<OffsetDateTime>,
}

impl Throttle {
    pub fn blocked(&self, now: OffsetDateTime) -> Option<OffsetDateTime> {
        self.blocked_until.filter(|until| now < *until)
    }

    /// Failures this name may still have before self-service is blocked for it (0 while
    /// it is blocked). Failures outside the window no longer count.
    pub fn remaining(&self, settings: &SelfServiceSettings, now: OffsetDateTime) -> u32 {
        if self.blocked(now).is_some() {
            return 0;
        }
        let in_window = self
            .first_failure_at
            .is_some_and(|first| now - first < settings.failure_window);
        let counted = if in_window { self.failures } else { 0 };
        settings.max_failures.saturating_sub(counted)
    }

    /// Counts one failure at `now`; answers the new state and whether it now blocks.
    pub fn fail(self, settings: &SelfServiceSettings, now: OffsetDateTime) -> (Throttle, bool) {
        let in_window = self
            .first_failure_at
            .is_some_and(|first| now - first < settings.failure_window);
        let (failures, first) = if in_window {
            (self.failures.saturating_add(1), self.first_failure_at)
        } else {
            (1, Some(now))
        };
        if failures >= settings.max_failures {
            let next = Throttle {
                failures: 0,
                first_failure_at: None,
                blocked_until: Some(now + settings.block_duration),
            };
            (next, true)
        } else {
            let next = Throttle {
                failures,
                first_failure_at: first,
                blocked_until: None,
            };
            (next, false)
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientLimitSettings {
    /// Requests per minute per address (self-service steps and sign-in).
    pub requests_per_minute: u32,
    /// Failed authentications per hour per address.
    pub failures_per_hour: u32,
}

impl Default for ClientLimitSettings {
    fn default() -> Self {
        Self {
            requests_per_minute: 60,
            failures_per_hour: 30,
        }
    }
}

/// A quota: `burst` at once, then one every `interval`. Kept in whole microseconds, the
/// unit the stores compute in, so that [`Quota::take`] and a store's one-statement
/// version agree to the microsecond.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    /// Microseconds between two units once the burst is spent.
    pub interval_us: i64,
    /// How far ahead of now the theoretical arrival time may run before a unit is
    /// taken: `interval × (burst − 1)`.
    pub tolerance_us: i64,
}

impl Quota {
    /// `n` per `period` (at least one).
    pub fn per(n: u32, period: Duration) -> Self {
        let n = i64::from(n.max(1));
        let period = i64::try_from(period.whole_microseconds()).unwrap_or(i64::MAX);
        let interval_us = (period / n).max(1);
        Self {
            interval_us,
            tolerance_us: interval_us.saturating_mul(n - 1),
        }
    }

    /// The rule every store implements in one statement (GCRA): takes one unit at `now`
    /// if the quota allows it, answering the key's new theoretical arrival time; otherwise
    /// how long until it would allow one. `tat` is the key's arrival time (`None`: never
    /// seen, or forgotten). All in microseconds.
    pub fn take(&self, tat: Option<i64>, now: i64) -> Result<i64, i64> {
        let start = tat.map_or(now, |t| t.max(now));
        let ahead = start - now;
        if ahead <= self.tolerance_us {
            Ok(start + self.interval_us)
        } else {
            Err(ahead - self.tolerance_us)
        }
    }

    /// How long a key whose arrival time is `tat` waits at `now` for its next unit.
    pub fn wait(&self, tat: i64, now: i64) -> i64 {
        (tat - now - self.tolerance_us).max(0)
    }
}

/// The per-client limits in force: a quota of requests and one of failures. The stores
/// keep each client's state (see `crate::client_limits`), so that every server on one
/// database shares one budget per client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientLimits {
    pub requests: Quota,
    pub failures: Quota,
}

impl ClientLimits {
    pub fn new(settings: ClientLimitSettings) -> Self {
        Self {
            requests: Quota::per(settings.requests_per_minute, Duration::minutes(1)),
            failures: Quota::per(settings.failures_per_hour, Duration::hours(1)),
        }
    }
}

/// The store keys of one client's limits.
pub struct ClientKeys {
    /// Its request quota's arrival time.
    pub requests: String,
    /// Its failure quota's arrival time.
    pub failures: String,
    /// Until when it is refused, once its failure budget is spent.
    pub blocked: String,
}

impl ClientKeys {
    pub fn of(client: IpAddr) -> Self {
        Self {
            requests: format!("requests:{client}"),
            failures: format!("failures:{client}"),
            blocked: format!("blocked:{client}"),
        }
    }
}

/// The refusal for a client that must wait `wait_us`: whole seconds, rounded up, at
/// least 1.
pub fn retry_after(wait_us: i64) -> CoreError {
    let secs = wait_us.div_euclid(1_000_000) + i64::from(wait_us.rem_euclid(1_000_000) > 0);
    CoreError::RateLimited {
        retry_after_secs: u64::try_from(secs).unwrap_or(0).max(1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::micros;
    use time::macros::datetime;

    const T0: OffsetDateTime = datetime!(2026-03-01 12:00 UTC);
    const SEC: i64 = 1_000_000;

    /// Takes `n` units at `now` from a fresh key; answers the arrival time after them.
    fn burst(q: &Quota, n: u32, now: i64) -> i64 {
        let mut tat = None;
        for _ in 0..n {
            tat = Some(q.take(tat, now).unwrap());
        }
        tat.unwrap()
    }

    fn waited(e: CoreError) -> u64 {
        match e {
            CoreError::RateLimited { retry_after_secs } => retry_after_secs,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_burst_then_one_per_interval() {
        let q = Quota::per(3, Duration::minutes(1));
        let now = micros(T0);
        let tat = burst(&q, 3, now);
        // A burst of 3, then one every 20 s.
        assert_eq!(q.take(Some(tat), now), Err(20 * SEC));
        assert_eq!(q.take(Some(tat), now + 19 * SEC), Err(SEC));
        assert!(q.take(Some(tat), now + 20 * SEC).is_ok());
        assert_eq!(q.wait(tat, now), 20 * SEC);
    }

    #[test]
    fn waits_are_rounded_up_so_retrying_when_told_succeeds() {
        // 7 a minute: one every 8.57 s. Rounding down would say 8 and refuse at 8.
        let q = Quota::per(7, Duration::minutes(1));
        let now = micros(T0);
        let tat = burst(&q, 7, now);
        let wait = waited(retry_after(q.take(Some(tat), now).unwrap_err()));
        assert_eq!(wait, 9);
        let told = now + i64::try_from(wait).unwrap() * SEC;
        assert!(q.take(Some(tat), told - SEC).is_err());
        assert!(q.take(Some(tat), told).is_ok());
        assert_eq!(waited(retry_after(1)), 1, "never zero");
        assert_eq!(waited(retry_after(SEC)), 1);
    }

    #[test]
    fn a_long_quiet_client_starts_with_a_full_burst() {
        let q = Quota::per(2, Duration::minutes(1));
        let mut tat = None;
        for minute in [0, 10, 20] {
            let now = micros(T0 + Duration::minutes(minute));
            for _ in 0..2 {
                tat = Some(q.take(tat, now).unwrap());
            }
            assert!(q.take(tat, now).is_err());
        }
    }

    #[test]
    fn failures_block_at_the_limit_within_the_window() {
        let s = SelfServiceSettings::default();
        let mut t = Throttle::default();
        for i in 1..s.max_failures {
            let (next, blocked) = t.fail(&s, T0 + Duration::minutes(i64::from(i)));
            assert!(!blocked);
            t = next;
        }
        let (t, blocked) = t.fail(&s, T0 + Duration::minutes(5));
        assert!(blocked);
        assert_eq!(
            t.blocked(T0 + Duration::minutes(34)),
            Some(T0 + Duration::minutes(35))
        );
        assert_eq!(t.blocked(T0 + Duration::minutes(35)), None);
    }

    #[test]
    fn what_remains_counts_down_to_the_block_and_resets_with_the_window() {
        let s = SelfServiceSettings::default();
        let mut t = Throttle::default();
        assert_eq!(t.remaining(&s, T0), 5);
        for left in (1..5).rev() {
            t = t.fail(&s, T0).0;
            assert_eq!(t.remaining(&s, T0), left);
        }
        assert_eq!(
            t.remaining(&s, T0 + s.failure_window),
            5,
            "outside the window"
        );
        let (blocked, _) = t.fail(&s, T0);
        assert_eq!(blocked.remaining(&s, T0), 0);
        assert_eq!(blocked.remaining(&s, T0 + s.block_duration), 5);
    }

    #[test]
    fn old_failures_do_not_count() {
        let s = SelfServiceSettings::default();
        let (t, _) = Throttle::default().fail(&s, T0);
        let (t, _) = t.fail(&s, T0 + s.failure_window);
        assert_eq!(t.failures, 1);
    }
}
