//! Reading PostgreSQL rows back into domain values: the twin of `sqlite/rows.rs`, with
//! the same column lists. Times are stored as Unix seconds (BIGINT); enums as their text
//! form, read back through [`text`]; flags as BOOLEAN.

use std::str::FromStr;

use sqlx::postgres::PgRow;
use sqlx::Row;
use time::{Duration, OffsetDateTime};

use crate::account::{Account, AccountId, Email, Pending, PersonId, Username};
use crate::clock::from_unix;
use crate::flow::Flow;
use crate::lockout::{Lock, LockDuration, LockState, LockoutPolicy, Unlock};
use crate::organisation::{Organisation, OrganisationId, StoreId};
use crate::outbox::{Notification, NotificationId, OutboxEntry, Recipient};
use crate::session::SessionRecord;
use crate::store::StoreError;

pub fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {e}"))
}

pub fn time_opt(row: &PgRow, col: &str) -> Result<Option<OffsetDateTime>, StoreError> {
    Ok(row.try_get::<Option<i64>, _>(col)?.map(from_unix))
}

pub fn time(row: &PgRow, col: &str) -> Result<OffsetDateTime, StoreError> {
    Ok(from_unix(row.try_get(col)?))
}

/// A count as stored: never negative, so a negative value reads as zero.
pub fn count(row: &PgRow, col: &str) -> Result<u32, StoreError> {
    Ok(u32::try_from(row.try_get::<i64, _>(col)?).unwrap_or(0))
}

/// An enum stored as its text form.
pub fn text<T: FromStr>(row: &PgRow, col: &str) -> Result<T, StoreError> {
    let value: String = row.try_get(col)?;
    value
        .parse()
        .map_err(|_| corrupt(col, format!("{value:?}")))
}

/// A value stored as JSON.
pub fn json<T: serde::de::DeserializeOwned>(row: &PgRow, col: &str) -> Result<T, StoreError> {
    let value: String = row.try_get(col)?;
    serde_json::from_str(&value).map_err(|e| corrupt(col, e))
}

/// A value to store as JSON.
pub fn to_json<T: serde::Serialize>(value: &T, what: &str) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| corrupt(what, e))
}

/// Columns read by [`account`]; `FROM {ACCOUNTS}` provides them.
pub const ACCOUNT_COLUMNS: &str = "
    a.id, a.person_id, s.organisation_id, a.store_id, s.name AS store_name, a.username,
    a.display_name, a.email, a.status, a.password_hash, a.password_changed_at,
    a.must_change_password, a.aup_accepted_at, a.aup_version, a.failed_attempts,
    a.first_failure_at, a.locked_at, a.lock_reason, a.lock_expires_at, a.unlocked_by,
    a.unlocked_at, a.created_at, a.consecutive_failures, a.last_failure_at, a.public_id,
    a.phone, a.mfa_reset_pending, a.profile_update_required, a.questions_required";
pub const ACCOUNTS: &str = "accounts a JOIN identity_stores s ON s.id = a.store_id";
/// Columns read by [`policy`], from `organisations o`.
pub const POLICY_COLUMNS: &str =
    "o.lockout_threshold, o.lockout_window_secs, o.lockout_duration_secs";

pub fn account(row: &PgRow) -> Result<Account, StoreError> {
    let lock = match time_opt(row, "locked_at")? {
        None => None,
        Some(locked_at) => Some(Lock {
            locked_at,
            reason: text(row, "lock_reason")?,
            expires_at: time_opt(row, "lock_expires_at")?,
        }),
    };
    let last_unlock = match (
        row.try_get::<Option<String>, _>("unlocked_by")?,
        time_opt(row, "unlocked_at")?,
    ) {
        (Some(by), Some(at)) => Some(Unlock { by, at }),
        _ => None,
    };
    Ok(Account {
        id: AccountId(row.try_get("id")?),
        public_id: row.try_get("public_id")?,
        person_id: PersonId(row.try_get("person_id")?),
        organisation_id: OrganisationId(row.try_get("organisation_id")?),
        store_id: StoreId(row.try_get("store_id")?),
        store_name: row.try_get("store_name")?,
        username: Username::from_stored(row.try_get("username")?),
        display_name: row.try_get("display_name")?,
        email: Email::from_stored(row.try_get("email")?),
        status: text(row, "status")?,
        password_hash: row.try_get("password_hash")?,
        password_changed_at: time_opt(row, "password_changed_at")?,
        must_change_password: row.try_get("must_change_password")?,
        aup_accepted_at: time_opt(row, "aup_accepted_at")?,
        aup_version: row.try_get("aup_version")?,
        lock: LockState {
            failed_attempts: count(row, "failed_attempts")?,
            first_failure_at: time_opt(row, "first_failure_at")?,
            lock,
            last_unlock,
            consecutive_failures: count(row, "consecutive_failures")?,
            last_failure_at: time_opt(row, "last_failure_at")?,
        },
        created_at: time(row, "created_at")?,
        phone: row.try_get("phone")?,
        pending: Pending {
            mfa_reset: row.try_get("mfa_reset_pending")?,
            profile: row.try_get("profile_update_required")?,
            questions: row.try_get("questions_required")?,
        },
    })
}

pub fn policy(row: &PgRow) -> Result<LockoutPolicy, StoreError> {
    let duration: Option<i64> = row.try_get("lockout_duration_secs")?;
    Ok(LockoutPolicy {
        threshold: count(row, "lockout_threshold")?,
        window: Duration::seconds(row.try_get("lockout_window_secs")?),
        duration: duration.map_or(LockDuration::UntilUnlocked, |s| {
            LockDuration::Temporary(Duration::seconds(s))
        }),
    })
}

pub fn organisation(row: &PgRow) -> Result<Organisation, StoreError> {
    Ok(Organisation {
        id: OrganisationId(row.try_get("id")?),
        slug: row.try_get("slug")?,
        name: row.try_get("name")?,
    })
}

pub const SESSION_COLUMNS: &str = "id_hash, account_id, audience, client_addr, created_at,
    last_seen_at, expires_at, revoked_at, device_code_id, device_authorized_at";

pub fn session(row: &PgRow) -> Result<SessionRecord, StoreError> {
    Ok(SessionRecord {
        id_hash: row.try_get("id_hash")?,
        account_id: AccountId(row.try_get("account_id")?),
        audience: text(row, "audience")?,
        client: row.try_get("client_addr")?,
        created_at: time(row, "created_at")?,
        last_seen_at: time(row, "last_seen_at")?,
        expires_at: time(row, "expires_at")?,
        revoked_at: time_opt(row, "revoked_at")?,
        device_code_id: row.try_get("device_code_id")?,
        device_authorized_at: time_opt(row, "device_authorized_at")?,
    })
}

pub const FLOW_COLUMNS: &str =
    "id_hash, action, channel, steps, account_id, subject_name, state, created_at, expires_at";

pub fn flow(row: &PgRow) -> Result<Flow, StoreError> {
    Ok(Flow {
        id_hash: row.try_get("id_hash")?,
        action: text(row, "action")?,
        channel: text(row, "channel")?,
        steps: json(row, "steps")?,
        account: row.try_get::<Option<i64>, _>("account_id")?.map(AccountId),
        subject_name: row.try_get("subject_name")?,
        state: json(row, "state")?,
        created_at: time(row, "created_at")?,
        expires_at: time(row, "expires_at")?,
    })
}

/// Columns read by [`outbox_entry`], from `outbox`; `sealed_code` is added by the caller
/// (the column itself when claiming, NULL when listing).
pub const OUTBOX_COLUMNS: &str = "
    id, organisation_id, recipient_email, recipient_name, account_id, account_name, payload,
    message_id, status, attempts, created_at, next_attempt_at, last_error, sent_at,
    sealed_code IS NOT NULL AS holds_secret,
    (SELECT o.name FROM organisations o WHERE o.id = outbox.organisation_id) AS organisation_name";

pub fn outbox_entry(row: &PgRow) -> Result<OutboxEntry, StoreError> {
    let payload: String = row.try_get("payload")?;
    Ok(OutboxEntry {
        id: NotificationId(row.try_get("id")?),
        organisation_id: OrganisationId(row.try_get("organisation_id")?),
        organisation_name: row
            .try_get::<Option<String>, _>("organisation_name")?
            .unwrap_or_default(),
        recipient: Recipient {
            email: Email::from_stored(row.try_get("recipient_email")?),
            name: row.try_get("recipient_name")?,
            account_id: row.try_get::<Option<i64>, _>("account_id")?.map(AccountId),
            username: row.try_get("account_name")?,
        },
        notification: Notification::from_stored(&payload)
            .map_err(|e| corrupt("outbox payload", e))?,
        holds_secret: row.try_get("holds_secret")?,
        sealed_code: row.try_get("sealed_code")?,
        message_key: row.try_get("message_id")?,
        status: text(row, "status")?,
        attempts: count(row, "attempts")?,
        created_at: time(row, "created_at")?,
        next_attempt_at: time(row, "next_attempt_at")?,
        last_error: row.try_get("last_error")?,
        sent_at: time_opt(row, "sent_at")?,
    })
}
