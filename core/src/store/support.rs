//! Support requests, their events, and the self-service unlocks the organisation's cap
//! counts (see `crate::support`).

use async_trait::async_trait;
use time::OffsetDateTime;

use super::StoreError;
use crate::account::AccountId;
use crate::organisation::OrganisationId;
use crate::support::{NewRequest, RequestEvent, SupportRequest};
use latchkey_types::support::{RequestOrigin, RequestStatus, SelfUnlockCap};

#[async_trait]
pub trait SupportRead: Send {
    /// The request numbered `id`. Inside a transaction its row is locked, so two agents'
    /// changes to one request are taken one after the other.
    async fn support_request(&mut self, id: i64) -> Result<Option<SupportRequest>, StoreError>;

    /// Requests of `org` (every organisation: `None`) with one of `statuses`: the
    /// suspicious first, then the oldest; at most `limit`.
    async fn support_queue(
        &mut self,
        org: Option<OrganisationId>,
        statuses: &[RequestStatus],
        limit: u32,
    ) -> Result<Vec<SupportRequest>, StoreError>;

    /// How many requests of `org` (every organisation: `None`) have each status.
    async fn support_counts(
        &mut self,
        org: Option<OrganisationId>,
    ) -> Result<Vec<(RequestStatus, u32)>, StoreError>;

    /// A request's events, oldest first.
    async fn support_events(&mut self, request: i64) -> Result<Vec<RequestEvent>, StoreError>;

    /// The open request Latchkey opened for `account` for `origin`, if there is one.
    async fn open_request_of(
        &mut self,
        account: AccountId,
        origin: RequestOrigin,
    ) -> Result<Option<i64>, StoreError>;

    /// The open requests about `account`.
    async fn open_requests_about(&mut self, account: AccountId) -> Result<Vec<i64>, StoreError>;

    /// The organisation's cap, if it set one.
    async fn self_unlock_cap(
        &mut self,
        org: OrganisationId,
    ) -> Result<Option<SelfUnlockCap>, StoreError>;

    /// Self-service unlocks of `account` at or after `since`.
    async fn self_unlocks_since(
        &mut self,
        account: AccountId,
        since: OffsetDateTime,
    ) -> Result<u32, StoreError>;
}

#[async_trait]
pub trait SupportWrite: Send {
    /// Stores a new request (status new) and its first event; answers its number.
    async fn create_support_request(&mut self, request: &NewRequest) -> Result<i64, StoreError>;

    /// Appends `event` to request `id` and moves the request to the event's status.
    async fn record_support_event(
        &mut self,
        id: i64,
        event: &RequestEvent,
    ) -> Result<(), StoreError>;

    /// Notes a self-service unlock of `account` at `at`.
    async fn record_self_unlock(
        &mut self,
        account: AccountId,
        at: OffsetDateTime,
    ) -> Result<(), StoreError>;

    async fn set_self_unlock_cap(
        &mut self,
        org: OrganisationId,
        cap: SelfUnlockCap,
        now: OffsetDateTime,
    ) -> Result<(), StoreError>;
}
