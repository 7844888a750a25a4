//! The lockout policy engine: a pure function of (policy, state, event, now).
//!
//! Nothing here touches the database or the clock; the store applies the result of
//! [`apply`] inside the same transaction in which it read the state, which is what makes
//! counting a failure and locking one atomic step.
//!
//! Whatever the policy, [`MAX_CONSECUTIVE_FAILURES`] failed sign-ins in a row (no success,
//! unlock or reset in between, however far apart) pause sign-in for the account: NIST SP
//! 800-63B caps consecutive failures at 100 even where the organisation never locks (a
//! directory that locks by itself) or its window lets failures spread out forever.

pub use latchkey_types::LockReason;
use time::{Duration, OffsetDateTime};

use crate::error::Invalid;

/// Failed sign-ins in a row after which an account is throttled, whatever its policy.
pub const MAX_CONSECUTIVE_FAILURES: u32 = 100;

/// How long sign-in pauses once [`MAX_CONSECUTIVE_FAILURES`] is reached; every further
/// failure (one per pause) starts the pause again, until a success or an unlock.
pub const THROTTLE_PAUSE: Duration = Duration::minutes(15);

/// An organisation's password rule for automatic locking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockoutPolicy {
    /// "Number of failed attempts before automatic lock"; 0 means never lock.
    pub threshold: u32,
    /// Failures further apart than this start the count again.
    pub window: Duration,
    pub duration: LockDuration,
}

impl LockoutPolicy {
    /// The most failed attempts a policy may allow before locking.
    pub const MAX_THRESHOLD: u32 = 100;

    /// Bounds that keep a policy meaningful: a window and a temporary lock of at least a
    /// minute, a window of at most a day, a temporary lock of at most 30 days (longer is
    /// "until unlocked"). Field names are the ones operators type.
    pub fn validate(&self) -> Result<(), Invalid> {
        if self.threshold > Self::MAX_THRESHOLD {
            return Err(Invalid::new(
                "failed_attempts",
                format!("Must be 0 (never lock) to {}.", Self::MAX_THRESHOLD),
            ));
        }
        if !(Duration::minutes(1)..=Duration::days(1)).contains(&self.window) {
            return Err(Invalid::new("window_minutes", "Must be 1 to 1440 minutes."));
        }
        if let LockDuration::Temporary(d) = self.duration {
            if !(Duration::minutes(1)..=Duration::days(30)).contains(&d) {
                return Err(Invalid::new(
                    "lock_minutes",
                    "Must be 1 to 43200 minutes (30 days); longer locks are \"until unlocked\".",
                ));
            }
        }
        Ok(())
    }
}

/// In words, as operators read it: "lock after 5 failed attempts within 15 minutes,
/// until unlocked".
impl std::fmt::Display for LockoutPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.threshold == 0 {
            return f.write_str("never lock");
        }
        write!(
            f,
            "lock after {} failed attempts within {} minutes, ",
            self.threshold,
            self.window.whole_minutes()
        )?;
        match self.duration {
            LockDuration::Temporary(d) => write!(f, "for {} minutes", d.whole_minutes()),
            LockDuration::UntilUnlocked => f.write_str("until unlocked"),
        }
    }
}

impl Default for LockoutPolicy {
    fn default() -> Self {
        Self {
            threshold: 5,
            window: Duration::minutes(15),
            duration: LockDuration::UntilUnlocked,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockDuration {
    /// A temporary lock that ends by itself.
    Temporary(Duration),
    /// Locked until someone unlocks it.
    UntilUnlocked,
}

/// A lock as recorded: **Locked Date**, **Lock Reason** and, for a temporary lock, its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lock {
    pub locked_at: OffsetDateTime,
    pub reason: LockReason,
    pub expires_at: Option<OffsetDateTime>,
}

/// The last explicit unlock: **Unlocked by** and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unlock {
    pub by: String,
    pub at: OffsetDateTime,
}

/// An account's lock-related state, as stored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LockState {
    /// Failed sign-ins counted in the current observation window.
    pub failed_attempts: u32,
    /// When the current window's first failure happened.
    pub first_failure_at: Option<OffsetDateTime>,
    /// The lock as recorded; it may have expired (see [`LockState::active_lock`]).
    pub lock: Option<Lock>,
    pub last_unlock: Option<Unlock>,
    /// Failed sign-ins since the last success or unlock, never reset by the window or by
    /// a temporary lock ending (see [`MAX_CONSECUTIVE_FAILURES`]).
    pub consecutive_failures: u32,
    /// When the last failed sign-in happened.
    pub last_failure_at: Option<OffsetDateTime>,
}

impl LockState {
    /// The lock in force at `now`. A temporary lock past its end is no lock: that is how
    /// locks expire without any scheduled job.
    pub fn active_lock(&self, now: OffsetDateTime) -> Option<&Lock> {
        self.lock
            .as_ref()
            .filter(|l| l.expires_at.is_none_or(|end| now < end))
    }

    pub fn is_locked(&self, now: OffsetDateTime) -> bool {
        self.active_lock(now).is_some()
    }

    /// The end of the pause in force at `now` after too many consecutive failures, if any.
    pub fn throttled_until(&self, now: OffsetDateTime) -> Option<OffsetDateTime> {
        if self.consecutive_failures < MAX_CONSECUTIVE_FAILURES {
            return None;
        }
        self.last_failure_at
            .map(|last| last + THROTTLE_PAUSE)
            .filter(|end| now < *end)
    }

    /// The state with an expired temporary lock (and its count) cleared.
    fn settled(&self, now: OffsetDateTime) -> LockState {
        if self.lock.is_some() && !self.is_locked(now) {
            LockState {
                failed_attempts: 0,
                first_failure_at: None,
                lock: None,
                last_unlock: self.last_unlock.clone(),
                // A lock that ran out does not forgive the failures that caused it.
                consecutive_failures: self.consecutive_failures,
                last_failure_at: self.last_failure_at,
            }
        } else {
            self.clone()
        }
    }
}

/// Something that happened to an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LockEvent {
    SignInFailed,
    SignInSucceeded,
    /// An explicit lock (by an administrator, or by self-service throttling).
    Lock {
        reason: LockReason,
        expires_at: Option<OffsetDateTime>,
    },
    /// An explicit unlock by someone (an operator's id, or "self-service (web)").
    Unlock {
        by: String,
    },
}

/// The result of applying an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    pub state: LockState,
    /// This event locked the account.
    pub locked_now: bool,
    /// This event lifted a lock that was in force.
    pub unlocked_now: bool,
}

/// Applies `event` at `now` under `policy`.
pub fn apply(
    policy: &LockoutPolicy,
    state: &LockState,
    event: LockEvent,
    now: OffsetDateTime,
) -> Transition {
    let was_locked = state.is_locked(now);
    let mut next = state.settled(now);
    let mut locked_now = false;
    let mut unlocked_now = false;
    match event {
        LockEvent::SignInFailed => {
            if !was_locked && next.throttled_until(now).is_none() {
                next.consecutive_failures = next.consecutive_failures.saturating_add(1);
                next.last_failure_at = Some(now);
                let in_window = next
                    .first_failure_at
                    .is_some_and(|first| now - first < policy.window);
                if in_window {
                    next.failed_attempts = next.failed_attempts.saturating_add(1);
                } else {
                    next.failed_attempts = 1;
                    next.first_failure_at = Some(now);
                }
                if policy.threshold > 0 && next.failed_attempts >= policy.threshold {
                    next.lock = Some(Lock {
                        locked_at: now,
                        reason: LockReason::Failures,
                        expires_at: match policy.duration {
                            LockDuration::Temporary(d) => Some(now + d),
                            LockDuration::UntilUnlocked => None,
                        },
                    });
                    locked_now = true;
                }
            }
        }
        LockEvent::SignInSucceeded => {
            if !was_locked && next.throttled_until(now).is_none() {
                next.failed_attempts = 0;
                next.first_failure_at = None;
                next.consecutive_failures = 0;
                next.last_failure_at = None;
            }
        }
        LockEvent::Lock { reason, expires_at } => {
            if !was_locked {
                next.lock = Some(Lock {
                    locked_at: now,
                    reason,
                    expires_at,
                });
                locked_now = true;
            }
        }
        LockEvent::Unlock { by } => {
            next.lock = None;
            next.failed_attempts = 0;
            next.first_failure_at = None;
            next.consecutive_failures = 0;
            next.last_failure_at = None;
            if was_locked {
                next.last_unlock = Some(Unlock { by, at: now });
                unlocked_now = true;
            }
        }
    }
    Transition {
        state: next,
        locked_now,
        unlocked_now,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::datetime;

    const T0: OffsetDateTime = datetime!(2026-03-02 08:00 UTC);

    fn policy(threshold: u32, window_min: i64, duration: Option<i64>) -> LockoutPolicy {
        LockoutPolicy {
            threshold,
            window: Duration::minutes(window_min),
            duration: duration.map_or(LockDuration::UntilUnlocked, |m| {
                LockDuration::Temporary(Duration::minutes(m))
            }),
        }
    }

    #[test]
    fn a_policy_reads_as_operators_say_it_and_stays_within_bounds() {
        assert_eq!(
            LockoutPolicy::default().to_string(),
            "lock after 5 failed attempts within 15 minutes, until unlocked"
        );
        assert_eq!(
            policy(3, 10, Some(30)).to_string(),
            "lock after 3 failed attempts within 10 minutes, for 30 minutes"
        );
        assert_eq!(policy(0, 15, None).to_string(), "never lock");
        for ok in [
            policy(0, 15, None),
            policy(100, 1, Some(1)),
            policy(5, 1440, Some(43_200)),
        ] {
            assert_eq!(ok.validate(), Ok(()), "{ok}");
        }
        for (bad, field) in [
            (policy(101, 15, None), "failed_attempts"),
            (policy(5, 0, None), "window_minutes"),
            (policy(5, 1441, None), "window_minutes"),
            (policy(5, 15, Some(0)), "lock_minutes"),
            (policy(5, 15, Some(43_201)), "lock_minutes"),
        ] {
            assert_eq!(
                bad.validate().map_err(|e| e.field),
                Err(field.into()),
                "{bad}"
            );
        }
    }

    /// Fails `n` times, `gap` seconds apart, starting at `start`.
    fn fail_n(
        p: &LockoutPolicy,
        mut s: LockState,
        n: u32,
        start: OffsetDateTime,
        gap: i64,
    ) -> (LockState, OffsetDateTime) {
        let mut now = start;
        for i in 0..n {
            if i > 0 {
                now += Duration::seconds(gap);
            }
            s = apply(p, &s, LockEvent::SignInFailed, now).state;
        }
        (s, now)
    }

    fn arb_policy() -> impl Strategy<Value = LockoutPolicy> {
        (1u32..20, 1i64..120, proptest::option::of(1i64..240)).prop_map(|(t, w, d)| policy(t, w, d))
    }

    proptest! {
        #[test]
        fn never_locked_before_the_threshold(p in arb_policy(), gap in 0i64..30) {
            let gap = gap.min(p.window.whole_seconds() / i64::from(p.threshold) - 1).max(0);
            let (s, now) = fail_n(&p, LockState::default(), p.threshold - 1, T0, gap);
            prop_assert!(!s.is_locked(now));
            prop_assert_eq!(s.failed_attempts, p.threshold - 1);
        }

        #[test]
        fn always_locked_at_the_threshold(p in arb_policy(), gap in 0i64..30) {
            let gap = gap.min(p.window.whole_seconds() / i64::from(p.threshold) - 1).max(0);
            let (s, now) = fail_n(&p, LockState::default(), p.threshold, T0, gap);
            prop_assert!(s.is_locked(now));
            let lock = s.lock.unwrap();
            prop_assert_eq!(lock.reason, LockReason::Failures);
            prop_assert_eq!(lock.locked_at, now);
        }

        #[test]
        fn a_temporary_lock_ends_exactly_at_its_expiry(t in 1u32..10, minutes in 1i64..600, probe in 0i64..100_000) {
            let p = policy(t, 60, Some(minutes));
            let (s, locked_at) = fail_n(&p, LockState::default(), t, T0, 0);
            let end = locked_at + Duration::minutes(minutes);
            prop_assert_eq!(s.lock.unwrap().expires_at, Some(end));
            let at = locked_at + Duration::seconds(probe);
            prop_assert_eq!(s.is_locked(at), at < end);
            // After expiry the count starts again: one failure does not re-lock.
            if t > 1 {
                let after = apply(&p, &s, LockEvent::SignInFailed, end).state;
                prop_assert!(!after.is_locked(end));
                prop_assert_eq!(after.failed_attempts, 1);
            }
        }

        #[test]
        fn success_resets_the_counter(p in arb_policy(), n in 0u32..20) {
            let n = n.min(p.threshold - 1);
            let (s, now) = fail_n(&p, LockState::default(), n, T0, 1);
            let s = apply(&p, &s, LockEvent::SignInSucceeded, now).state;
            prop_assert_eq!(s.failed_attempts, 0);
            prop_assert_eq!(s.first_failure_at, None);
            // So the full threshold of failures is needed again to lock.
            let (s, now) = fail_n(&p, s, p.threshold - 1, now, 0);
            prop_assert!(!s.is_locked(now));
        }

        /// Whatever happens, in whatever order, the count never passes the threshold and a
        /// failure lock is only ever recorded with the threshold reached.
        #[test]
        fn invariants_hold_for_any_history(p in arb_policy(), events in proptest::collection::vec((0u8..4, 0i64..3600), 0..60)) {
            let mut s = LockState::default();
            let mut now = T0;
            for (kind, gap) in events {
                now += Duration::seconds(gap);
                let event = match kind {
                    0 | 1 => LockEvent::SignInFailed,
                    2 => LockEvent::SignInSucceeded,
                    _ => LockEvent::Unlock { by: "admin".into() },
                };
                let t = apply(&p, &s, event, now);
                prop_assert!(t.state.failed_attempts <= p.threshold);
                if t.locked_now {
                    prop_assert_eq!(t.state.failed_attempts, p.threshold);
                }
                s = t.state;
            }
        }
    }

    #[test]
    fn zero_threshold_never_locks_but_throttles_after_100_in_a_row() {
        let p = policy(0, 15, None);
        let (s, now) = fail_n(&p, LockState::default(), 99, T0, 0);
        assert!(!s.is_locked(now));
        assert_eq!(s.throttled_until(now), None);
        let (s, now) = fail_n(&p, s, 1, now, 1);
        assert!(!s.is_locked(now), "throttling is not a lock");
        assert_eq!(s.consecutive_failures, MAX_CONSECUTIVE_FAILURES);
        assert_eq!(s.throttled_until(now), Some(now + THROTTLE_PAUSE));
        // Attempts during the pause count for nothing and change nothing.
        let during = apply(&p, &s, LockEvent::SignInFailed, now + Duration::minutes(5));
        assert_eq!(during.state, s);
        let ok = apply(
            &p,
            &s,
            LockEvent::SignInSucceeded,
            now + Duration::minutes(5),
        );
        assert_eq!(ok.state, s, "a success cannot end the pause early");
        // After the pause one more try; a failure pauses again at once.
        let end = now + THROTTLE_PAUSE;
        assert_eq!(s.throttled_until(end), None);
        let again = apply(&p, &s, LockEvent::SignInFailed, end).state;
        assert_eq!(again.throttled_until(end), Some(end + THROTTLE_PAUSE));
        // A success after the pause, or an unlock, starts the count from zero.
        let fresh = apply(&p, &s, LockEvent::SignInSucceeded, end).state;
        assert_eq!(fresh.consecutive_failures, 0);
        let unlocked = apply(&p, &s, LockEvent::Unlock { by: "admin".into() }, now).state;
        assert_eq!(unlocked.consecutive_failures, 0);
        assert_eq!(unlocked.throttled_until(now), None);
    }

    #[test]
    fn failures_spread_beyond_the_window_still_hit_the_cap() {
        // Four failures per 15-minute window never lock under "5 within 15 minutes", but
        // they are consecutive all the same.
        let p = policy(5, 15, None);
        let (s, now) = fail_n(&p, LockState::default(), 100, T0, 4 * 60);
        assert!(!s.is_locked(now));
        assert_eq!(s.throttled_until(now), Some(now + THROTTLE_PAUSE));
    }

    #[test]
    fn temporary_locks_that_run_out_do_not_reset_the_consecutive_count() {
        let p = policy(5, 15, Some(1));
        let mut s = LockState::default();
        let mut now = T0;
        for _ in 0..20 {
            s = fail_n(&p, s, 5, now, 0).0;
            assert!(s.is_locked(now));
            now += Duration::minutes(1);
        }
        assert_eq!(s.consecutive_failures, MAX_CONSECUTIVE_FAILURES);
        assert!(!s.is_locked(now));
        assert!(s.throttled_until(now).is_some());
    }

    #[test]
    fn failures_outside_the_window_start_a_new_count() {
        let p = policy(3, 10, None);
        let (s, now) = fail_n(&p, LockState::default(), 2, T0, 60);
        let s = apply(&p, &s, LockEvent::SignInFailed, now + Duration::minutes(11)).state;
        assert_eq!(s.failed_attempts, 1);
        assert!(s.lock.is_none());
    }

    #[test]
    fn failures_while_locked_change_nothing() {
        let p = policy(2, 10, None);
        let (s, now) = fail_n(&p, LockState::default(), 2, T0, 1);
        let t = apply(&p, &s, LockEvent::SignInFailed, now + Duration::seconds(5));
        assert_eq!(t.state, s);
        assert!(!t.locked_now);
    }

    #[test]
    fn unlock_clears_the_lock_and_records_who() {
        let p = policy(2, 10, None);
        let (s, now) = fail_n(&p, LockState::default(), 2, T0, 1);
        let t = apply(
            &p,
            &s,
            LockEvent::Unlock {
                by: "helpdesk1".into(),
            },
            now,
        );
        assert!(t.unlocked_now);
        assert!(t.state.lock.is_none());
        assert_eq!(t.state.failed_attempts, 0);
        assert_eq!(
            t.state.last_unlock,
            Some(Unlock {
                by: "helpdesk1".into(),
                at: now
            })
        );
        // Unlocking an account that is not locked records nothing new.
        let again = apply(&p, &t.state, LockEvent::Unlock { by: "other".into() }, now);
        assert!(!again.unlocked_now);
        assert_eq!(again.state.last_unlock, t.state.last_unlock);
    }

    #[test]
    fn administrative_lock_holds_until_unlocked() {
        let p = policy(5, 10, Some(5));
        let t = apply(
            &p,
            &LockState::default(),
            LockEvent::Lock {
                reason: LockReason::Administrative,
                expires_at: None,
            },
            T0,
        );
        assert!(t.locked_now);
        assert!(t.state.is_locked(T0 + Duration::days(365)));
        assert_eq!(
            t.state.lock.map(|l| l.reason),
            Some(LockReason::Administrative)
        );
    }
}
