//! Server-side sessions. The browser holds only an opaque random token in a cookie; the
//! database holds the token's SHA-256, the account, and the times that bound its life.

pub use latchkey_types::Audience;
use time::{Duration, OffsetDateTime};

use crate::account::AccountId;
use crate::token::Token;

/// How long a session lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionSettings {
    /// Ends after this long without a request.
    pub idle_timeout: Duration,
    /// Ends this long after sign-in, however active.
    pub absolute_timeout: Duration,
}

impl Default for SessionSettings {
    fn default() -> Self {
        Self {
            idle_timeout: Duration::minutes(30),
            absolute_timeout: Duration::hours(12),
        }
    }
}

/// `last_seen_at` is written at most this often, so reading pages is not a write each time.
pub const TOUCH_INTERVAL: Duration = Duration::minutes(1);

/// What a session token is for (see [`Token`]).
pub struct Session;

/// The secret in the session cookie.
pub type SessionToken = Token<Session>;

/// A session as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    pub id_hash: String,
    pub account_id: AccountId,
    /// The portal's or the console's: a session is honoured only where it was made.
    pub audience: Audience,
    /// The address it was signed in from.
    pub client: Option<String>,
    pub created_at: OffsetDateTime,
    pub last_seen_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub revoked_at: Option<OffsetDateTime>,
    /// After an MFA reset: the code mailed at this sign-in…
    pub device_code_id: Option<i64>,
    /// …and when it was typed (device authorization is per session).
    pub device_authorized_at: Option<OffsetDateTime>,
}

impl SessionRecord {
    /// Whether the session still lets its holder in at `now`.
    pub fn is_live(&self, settings: &SessionSettings, now: OffsetDateTime) -> bool {
        self.revoked_at.is_none()
            && now < self.expires_at
            && now < self.last_seen_at + settings.idle_timeout
    }

    /// Whether a request at `now` should refresh `last_seen_at`.
    pub fn needs_touch(&self, now: OffsetDateTime) -> bool {
        now - self.last_seen_at >= TOUCH_INTERVAL
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn idle_and_absolute_timeouts_end_a_session() {
        let s = SessionSettings {
            idle_timeout: Duration::minutes(30),
            absolute_timeout: Duration::hours(8),
        };
        let t0 = datetime!(2026-01-01 09:00 UTC);
        let rec = SessionRecord {
            id_hash: String::new(),
            account_id: AccountId(1),
            audience: Audience::Portal,
            client: None,
            created_at: t0,
            last_seen_at: t0,
            expires_at: t0 + s.absolute_timeout,
            revoked_at: None,
            device_code_id: None,
            device_authorized_at: None,
        };
        assert!(rec.is_live(&s, t0 + Duration::minutes(29)));
        assert!(!rec.is_live(&s, t0 + Duration::minutes(30)));
        let active = SessionRecord {
            last_seen_at: t0 + Duration::hours(8) - Duration::minutes(1),
            ..rec.clone()
        };
        assert!(!active.is_live(&s, t0 + Duration::hours(8)));
        let revoked = SessionRecord {
            revoked_at: Some(t0),
            ..rec
        };
        assert!(!revoked.is_live(&s, t0));
    }
}
