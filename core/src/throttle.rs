//! Limits per client address: how many self-service and sign-in requests, and how many
//! failed authentications, one address may make. Per-account limits live with the
//! account (lockout) and the self-service throttle table; these stop one client from
//! spraying many accounts.

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::error::CoreError;

/// Keys kept before stale ones are dropped.
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

pub struct ClientLimits {
    requests: DefaultKeyedRateLimiter<IpAddr>,
    failures: DefaultKeyedRateLimiter<IpAddr>,
    /// Clients whose failure budget is spent, and until when. governor cannot look at a
    /// budget without spending it, so the refusal is remembered here.
    blocked: Mutex<HashMap<IpAddr, Instant>>,
}

impl std::fmt::Debug for ClientLimits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientLimits").finish_non_exhaustive()
    }
}

fn nonzero(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN)
}

fn wait_of(not_until: &governor::NotUntil<<DefaultClock as Clock>::Instant>) -> Duration {
    not_until.wait_time_from(DefaultClock::default().now())
}

fn retry_after(wait: Duration) -> CoreError {
    CoreError::RateLimited {
        retry_after_secs: wait.as_secs().max(1),
    }
}

impl ClientLimits {
    pub fn new(settings: ClientLimitSettings) -> Self {
        Self {
            requests: RateLimiter::keyed(Quota::per_minute(nonzero(settings.requests_per_minute))),
            failures: RateLimiter::keyed(Quota::per_hour(nonzero(settings.failures_per_hour))),
            blocked: Mutex::new(HashMap::new()),
        }
    }

    /// Counts a request from `client`; refuses it beyond the request rate, or while the
    /// client's failure budget is spent.
    pub fn request(&self, client: IpAddr) -> Result<(), CoreError> {
        if self.requests.len() > PRUNE_ABOVE {
            self.requests.retain_recent();
        }
        self.requests
            .check_key(&client)
            .map_err(|n| retry_after(wait_of(&n)))?;
        let mut blocked = self.blocked.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        blocked.retain(|_, until| *until > now);
        match blocked.get(&client) {
            Some(until) => Err(retry_after(*until - now)),
            None => Ok(()),
        }
    }

    /// Records a failed authentication by `client`. Once its budget is spent, its requests
    /// are refused until the budget has refilled enough for one more try.
    pub fn failure(&self, client: IpAddr) {
        if self.failures.len() > PRUNE_ABOVE {
            self.failures.retain_recent();
        }
        if let Err(n) = self.failures.check_key(&client) {
            let until = Instant::now() + wait_of(&n);
            self.blocked
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(client, until);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_is_refused_beyond_its_request_rate_and_others_are_not() {
        let limits = ClientLimits::new(ClientLimitSettings {
            requests_per_minute: 3,
            failures_per_hour: 100,
        });
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        for _ in 0..3 {
            limits.request(a).unwrap();
        }
        assert!(
            matches!(limits.request(a), Err(CoreError::RateLimited { retry_after_secs }) if retry_after_secs >= 1)
        );
        limits.request(b).unwrap();
    }

    #[test]
    fn spent_failures_block_further_requests() {
        let limits = ClientLimits::new(ClientLimitSettings {
            requests_per_minute: 1000,
            failures_per_hour: 2,
        });
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        limits.failure(a);
        limits.failure(a);
        limits.request(a).unwrap();
        limits.failure(a);
        assert!(matches!(
            limits.request(a),
            Err(CoreError::RateLimited { .. })
        ));
    }
}
