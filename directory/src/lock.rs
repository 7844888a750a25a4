//! Lock state as each directory keeps it, read without asking the clock: `now` comes
//! from the caller. The directory is the source of truth; Latchkey never counts
//! failures of its own for directory accounts.
//!
//! - OpenLDAP (ppolicy): locked while `pwdAccountLockedTime` is present. The value
//!   `000001010000Z` is the administrative (permanent) lock.
//! - Active Directory: locked while `lockoutTime` is non-zero **and**
//!   `lockoutTime + |lockoutDuration|` (the domain's) is still ahead: after the duration
//!   `lockoutTime` stays set although the account can sign in again.

use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time};

/// Why a directory account is locked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockCause {
    /// Too many wrong passwords.
    Failures,
    /// Locked on purpose by an administrator (OpenLDAP's `000001010000Z`).
    Administrative,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockState {
    Unlocked,
    Locked {
        cause: LockCause,
        /// When, if the directory says (not for an administrative lock).
        since: Option<OffsetDateTime>,
        /// When it ends by itself; `None`: until someone unlocks it.
        until: Option<OffsetDateTime>,
    },
}

impl LockState {
    pub fn is_locked(&self) -> bool {
        matches!(self, Self::Locked { .. })
    }
}

/// OpenLDAP's value of an administrative lock.
pub const OPENLDAP_ADMIN_LOCK: &str = "000001010000Z";

/// OpenLDAP's lock state from `pwdAccountLockedTime` (absent: unlocked).
pub fn openldap(locked_time: Option<&str>) -> LockState {
    match locked_time {
        None => LockState::Unlocked,
        Some(OPENLDAP_ADMIN_LOCK) => LockState::Locked {
            cause: LockCause::Administrative,
            since: None,
            until: None,
        },
        Some(value) => LockState::Locked {
            cause: LockCause::Failures,
            since: generalized_time(value),
            until: None,
        },
    }
}

/// An LDAP GeneralizedTime in UTC, `YYYYMMDDHHMMSS[.fff]Z`.
pub fn generalized_time(value: &str) -> Option<OffsetDateTime> {
    let digits = value.strip_suffix('Z')?;
    let digits = digits.split(['.', ',']).next()?;
    if digits.len() != 14 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n = |r: std::ops::Range<usize>| digits.get(r).and_then(|s| s.parse::<u32>().ok());
    let date = Date::from_calendar_date(
        i32::try_from(n(0..4)?).ok()?,
        Month::try_from(u8::try_from(n(4..6)?).ok()?).ok()?,
        u8::try_from(n(6..8)?).ok()?,
    )
    .ok()?;
    let t = Time::from_hms(
        u8::try_from(n(8..10)?).ok()?,
        u8::try_from(n(10..12)?).ok()?,
        u8::try_from(n(12..14)?).ok()?,
    )
    .ok()?;
    Some(PrimitiveDateTime::new(date, t).assume_utc())
}

/// 100-nanosecond intervals between 1601-01-01 and 1970-01-01 (Windows FILETIME epoch).
const FILETIME_UNIX_OFFSET: i128 = 116_444_736_000_000_000;

/// A Windows FILETIME (AD's `lockoutTime`, `pwdLastSet`) as a time.
pub fn from_filetime(ft: i64) -> Option<OffsetDateTime> {
    let nanos = (i128::from(ft) - FILETIME_UNIX_OFFSET).checked_mul(100)?;
    OffsetDateTime::from_unix_timestamp_nanos(nanos).ok()
}

/// A time as a Windows FILETIME.
pub fn to_filetime(t: OffsetDateTime) -> i64 {
    let ft = t.unix_timestamp_nanos() / 100 + FILETIME_UNIX_OFFSET;
    i64::try_from(ft).unwrap_or(i64::MAX)
}

/// The domain's `lockoutDuration`: a negative count of 100 ns (AD's convention), or
/// "until an administrator unlocks" (0 in the policy editor, `i64::MIN` stored).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdLockoutDuration {
    Forever,
    Ticks(i64),
}

impl AdLockoutDuration {
    pub fn from_attribute(value: i64) -> Self {
        if value == 0 || value == i64::MIN {
            Self::Forever
        } else {
            Self::Ticks(value.saturating_abs())
        }
    }

    /// The smallest `lockoutTime` of an account still locked at `now`, for the
    /// server-side filter `(lockoutTime>=…)`.
    pub fn locked_since_at_least(self, now: OffsetDateTime) -> i64 {
        match self {
            Self::Forever => 1,
            Self::Ticks(ticks) => (to_filetime(now).saturating_sub(ticks))
                .saturating_add(1)
                .max(1),
        }
    }
}

/// Active Directory's lock state from `lockoutTime` (absent or 0: unlocked).
pub fn active_directory(
    lockout_time: Option<i64>,
    duration: AdLockoutDuration,
    now: OffsetDateTime,
) -> LockState {
    let Some(lt) = lockout_time.filter(|lt| *lt > 0) else {
        return LockState::Unlocked;
    };
    if lt < duration.locked_since_at_least(now) {
        return LockState::Unlocked;
    }
    let since = from_filetime(lt);
    let until = match duration {
        AdLockoutDuration::Forever => None,
        AdLockoutDuration::Ticks(ticks) => from_filetime(lt.saturating_add(ticks)),
    };
    LockState::Locked {
        cause: LockCause::Failures,
        since,
        until,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn openldap_admin_lock_is_administrative() {
        assert_eq!(openldap(None), LockState::Unlocked);
        assert_eq!(
            openldap(Some("000001010000Z")),
            LockState::Locked {
                cause: LockCause::Administrative,
                since: None,
                until: None
            }
        );
        assert_eq!(
            openldap(Some("20261123231501Z")),
            LockState::Locked {
                cause: LockCause::Failures,
                since: Some(datetime!(2026-11-23 23:15:01 UTC)),
                until: None
            }
        );
        assert_eq!(
            generalized_time("20261123231501.123456Z"),
            Some(datetime!(2026-11-23 23:15:01 UTC))
        );
        assert_eq!(generalized_time("2026112323150Z"), None);
    }

    #[test]
    fn filetime_round_trips() {
        let t = datetime!(2026-11-23 23:15:01 UTC);
        assert_eq!(from_filetime(to_filetime(t)), Some(t));
        assert_eq!(
            from_filetime(FILETIME_UNIX_OFFSET as i64),
            Some(OffsetDateTime::UNIX_EPOCH)
        );
    }

    #[test]
    fn an_expired_ad_lock_is_not_a_lock() {
        let locked_at = datetime!(2026-11-23 12:00 UTC);
        let thirty_minutes = AdLockoutDuration::from_attribute(-30 * 60 * 10_000_000);
        let lt = Some(to_filetime(locked_at));
        let during = datetime!(2026-11-23 12:29:59 UTC);
        let after = datetime!(2026-11-23 12:30:00 UTC);
        assert!(active_directory(lt, thirty_minutes, during).is_locked());
        assert_eq!(
            active_directory(lt, thirty_minutes, after),
            LockState::Unlocked
        );
        assert!(
            active_directory(lt, AdLockoutDuration::from_attribute(i64::MIN), after).is_locked()
        );
        assert!(active_directory(lt, AdLockoutDuration::from_attribute(0), after).is_locked());
        assert_eq!(
            active_directory(Some(0), thirty_minutes, during),
            LockState::Unlocked
        );
        assert_eq!(
            active_directory(None, thirty_minutes, during),
            LockState::Unlocked
        );
    }
}
