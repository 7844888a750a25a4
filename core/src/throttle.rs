//! Throttling self-service guesses: per name ([`Throttle`], kept in the store), and per
//! client address ([`ClientLimits`]): how many self-service and sign-in requests, and how
//! many failed authentications, one address may make. Sign-in failures per account are
//! the lockout policy's (`crate::lockout`); these stop one client from spraying many
//! accounts, and anyone from guessing one account's answers.
//!
//! Each limit is a GCRA (generic cell rate algorithm): a quota of `n` per period lets a
//! burst of `n` through and then one every `period / n`. Time is the injected clock, so
//! tests move it instead of sleeping, and every wait is reported rounded *up* to whole
//! seconds: a client that retries exactly when `Retry-After` says is let in.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

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

/// Keys kept before those that have nothing left to remember are dropped.
const PRUNE_ABOVE: usize = 10_000;

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

/// A quota: `burst` at once, then one every `interval`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    interval: Duration,
    /// How far ahead of now the theoretical arrival time may run: `interval × (burst − 1)`.
    tolerance: Duration,
}

impl Quota {
    /// `n` per `period` (at least one).
    pub fn per(n: u32, period: Duration) -> Self {
        let n = n.max(1);
        let interval = period / n;
        Self {
            interval,
            tolerance: interval * (n - 1),
        }
    }

    /// Takes one unit at `now` if the quota allows it; otherwise answers how long until
    /// it would. `tat` is the key's theoretical arrival time (`None`: never seen).
    fn take(
        &self,
        tat: Option<OffsetDateTime>,
        now: OffsetDateTime,
    ) -> Result<OffsetDateTime, Duration> {
        let start = tat.map_or(now, |t| t.max(now));
        let ahead = start - now;
        if ahead <= self.tolerance {
            Ok(start + self.interval)
        } else {
            Err(ahead - self.tolerance)
        }
    }
}

/// One quota per client address.
#[derive(Debug)]
struct Keyed {
    quota: Quota,
    tats: Mutex<HashMap<IpAddr, OffsetDateTime>>,
}

impl Keyed {
    fn new(quota: Quota) -> Self {
        Self {
            quota,
            tats: Mutex::new(HashMap::new()),
        }
    }

    fn take(&self, client: IpAddr, now: OffsetDateTime) -> Result<(), Duration> {
        let mut tats = self.tats.lock().unwrap_or_else(|p| p.into_inner());
        if tats.len() > PRUNE_ABOVE {
            // A key whose arrival time has passed is as good as a new one.
            tats.retain(|_, tat| *tat > now);
        }
        let tat = self.quota.take(tats.get(&client).copied(), now)?;
        tats.insert(client, tat);
        Ok(())
    }
}

#[derive(Debug)]
pub struct ClientLimits {
    requests: Keyed,
    failures: Keyed,
    /// Clients whose failure budget is spent, and until when. Their requests are refused
    /// until the budget has room for one more failure.
    blocked: Mutex<HashMap<IpAddr, OffsetDateTime>>,
}

/// The refusal for a client that must wait `wait`: whole seconds, rounded up, at least 1.
fn retry_after(wait: Duration) -> CoreError {
    let secs = wait.whole_seconds() + i64::from(wait.subsec_nanoseconds() > 0);
    CoreError::RateLimited {
        retry_after_secs: u64::try_from(secs).unwrap_or(u64::MAX).max(1),
    }
}

impl ClientLimits {
    pub fn new(settings: ClientLimitSettings) -> Self {
        Self {
            requests: Keyed::new(Quota::per(
                settings.requests_per_minute,
                Duration::minutes(1),
            )),
            failures: Keyed::new(Quota::per(settings.failures_per_hour, Duration::hours(1))),
            blocked: Mutex::new(HashMap::new()),
        }
    }

    /// Counts a request from `client` at `now`; refuses it beyond the request rate, or
    /// while the client's failure budget is spent.
    pub fn request(&self, client: IpAddr, now: OffsetDateTime) -> Result<(), CoreError> {
        self.requests.take(client, now).map_err(retry_after)?;
        let mut blocked = self.blocked.lock().unwrap_or_else(|p| p.into_inner());
        blocked.retain(|_, until| *until > now);
        match blocked.get(&client) {
            Some(until) => Err(retry_after(*until - now)),
            None => Ok(()),
        }
    }

    /// Records a failed authentication by `client` at `now`. Once its budget is spent,
    /// its requests are refused until the budget has refilled enough for one more try.
    pub fn failure(&self, client: IpAddr, now: OffsetDateTime) {
        if let Err(wait) = self.failures.take(client, now) {
            self.blocked
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(client, now + wait);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const T0: OffsetDateTime = datetime!(2026-03-01 12:00 UTC);

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn waited(r: Result<(), CoreError>) -> Option<u64> {
        match r {
            Err(CoreError::RateLimited { retry_after_secs }) => Some(retry_after_secs),
            _ => None,
        }
    }

    #[test]
    fn a_client_is_refused_beyond_its_request_rate_and_others_are_not() {
        let limits = ClientLimits::new(ClientLimitSettings {
            requests_per_minute: 3,
            failures_per_hour: 100,
        });
        let (a, b) = (ip("192.0.2.1"), ip("192.0.2.2"));
        for _ in 0..3 {
            limits.request(a, T0).unwrap();
        }
        // A burst of 3, then one every 20 s.
        assert_eq!(waited(limits.request(a, T0)), Some(20));
        limits.request(b, T0).unwrap();
        assert_eq!(
            waited(limits.request(a, T0 + Duration::seconds(19))),
            Some(1)
        );
        limits.request(a, T0 + Duration::seconds(20)).unwrap();
    }

    #[test]
    fn waits_are_rounded_up_so_retrying_when_told_succeeds() {
        // 7 a minute: one every 8.57 s. Rounding down would say 8 and refuse at 8.
        let limits = ClientLimits::new(ClientLimitSettings {
            requests_per_minute: 7,
            failures_per_hour: 100,
        });
        let a = ip("192.0.2.1");
        for _ in 0..7 {
            limits.request(a, T0).unwrap();
        }
        let wait = waited(limits.request(a, T0)).unwrap();
        assert_eq!(wait, 9);
        let told = T0 + Duration::seconds(i64::try_from(wait).unwrap());
        assert!(limits.request(a, told - Duration::seconds(1)).is_err());
        assert!(limits.request(a, told).is_ok());
    }

    #[test]
    fn spent_failures_block_further_requests_until_one_more_is_allowed() {
        let limits = ClientLimits::new(ClientLimitSettings {
            requests_per_minute: 1000,
            failures_per_hour: 2,
        });
        let a = ip("192.0.2.1");
        limits.failure(a, T0);
        limits.failure(a, T0);
        limits.request(a, T0).unwrap();
        limits.failure(a, T0);
        // One failure every 30 minutes refills the budget.
        assert_eq!(waited(limits.request(a, T0)), Some(30 * 60));
        assert!(limits.request(ip("192.0.2.9"), T0).is_ok());
        assert!(limits.request(a, T0 + Duration::minutes(30)).is_ok());
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

    #[test]
    fn a_long_quiet_client_starts_with_a_full_burst() {
        let limits = ClientLimits::new(ClientLimitSettings {
            requests_per_minute: 2,
            failures_per_hour: 100,
        });
        let a = ip("192.0.2.1");
        for minute in [0, 10, 20] {
            let now = T0 + Duration::minutes(minute);
            limits.request(a, now).unwrap();
            limits.request(a, now).unwrap();
            assert!(limits.request(a, now).is_err());
        }
    }
}
