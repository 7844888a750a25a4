//! Per-client rate limits: each key's GCRA arrival time, shared by every server on the
//! database (see `crate::throttle` for the rule and `crate::client_limits` for its use).

use async_trait::async_trait;
use time::OffsetDateTime;

use super::StoreError;
use crate::throttle::Quota;

#[async_trait]
pub trait LimitsRead: Send {
    /// Until when `key` is blocked, if that is after `now`.
    async fn blocked_until(
        &mut self,
        key: &str,
        now: OffsetDateTime,
    ) -> Result<Option<OffsetDateTime>, StoreError>;
}

#[async_trait]
pub trait LimitsWrite: Send {
    /// Takes one unit of `quota` for `key` at `now`, in one statement, as
    /// [`Quota::take`] describes: concurrent takes, from any server, each see the
    /// arrival time the previous one left. Answers `Ok(())`, or the wait in microseconds
    /// until the quota allows one (nothing is taken then).
    async fn take_quota(
        &mut self,
        key: &str,
        quota: &Quota,
        now: OffsetDateTime,
    ) -> Result<Result<(), i64>, StoreError>;

    /// Blocks `key` until `until`, or keeps a later block that is already there.
    async fn block(&mut self, key: &str, until: OffsetDateTime) -> Result<(), StoreError>;

    /// Forgets keys whose time has passed: for them no row and the old row mean the same.
    async fn forget_spent_limits(&mut self, now: OffsetDateTime) -> Result<(), StoreError>;
}
