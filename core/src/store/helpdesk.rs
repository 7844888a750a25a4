//! The helpdesk's records (seed 004): each role's mode per organisation, and the checks
//! operators make of a caller's identity before unlocking (see `crate::helpdesk`).

use async_trait::async_trait;
use time::OffsetDateTime;

use super::StoreError;
use crate::account::{AccountId, PersonId};
use crate::authz::Role;
use crate::caller_check::{CallerCheck, HelpdeskMode};
use crate::organisation::OrganisationId;

#[async_trait]
pub trait HelpdeskRead: Send {
    /// The modes set for `org`'s roles; a role not listed has its default.
    async fn helpdesk_modes(
        &mut self,
        org: OrganisationId,
    ) -> Result<Vec<(Role, HelpdeskMode)>, StoreError>;

    /// The check the console names `public_id`. Inside a transaction its row is locked,
    /// so two answers to one check are taken one after the other.
    async fn caller_check(&mut self, public_id: &str) -> Result<Option<CallerCheck>, StoreError>;

    /// The latest check `operator` passed for `person` that was decided at or after
    /// `since`.
    async fn passed_caller_check(
        &mut self,
        operator: AccountId,
        person: PersonId,
        since: OffsetDateTime,
    ) -> Result<Option<CallerCheck>, StoreError>;
}

#[async_trait]
pub trait HelpdeskWrite: Send {
    async fn set_helpdesk_mode(
        &mut self,
        org: OrganisationId,
        role: Role,
        mode: HelpdeskMode,
        now: OffsetDateTime,
    ) -> Result<(), StoreError>;

    async fn create_caller_check(&mut self, check: &CallerCheck) -> Result<(), StoreError>;

    /// Saves a check's state, attempts and decision time (what answering changes).
    async fn save_caller_check(&mut self, check: &CallerCheck) -> Result<(), StoreError>;
}
