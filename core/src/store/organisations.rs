//! Organisations, their identity stores and their policies.

use async_trait::async_trait;
use time::OffsetDateTime;

use super::StoreError;
use crate::credentials::QuestionPolicy;
use crate::lockout::LockoutPolicy;
use crate::organisation::{Aup, IdentityStore, Organisation, OrganisationId, StoreKind};

#[async_trait]
pub trait OrganisationsRead: Send {
    async fn organisation_by_slug(
        &mut self,
        slug: &str,
    ) -> Result<Option<Organisation>, StoreError>;

    async fn organisation(
        &mut self,
        id: OrganisationId,
    ) -> Result<Option<Organisation>, StoreError>;

    /// The identity stores (of `organisation`, if given), by priority.
    async fn identity_stores(
        &mut self,
        organisation: Option<OrganisationId>,
    ) -> Result<Vec<IdentityStore>, StoreError>;

    /// Every organisation, oldest first.
    async fn organisations(&mut self) -> Result<Vec<Organisation>, StoreError>;

    /// The oldest organisation: whose catalogue decoys come from.
    async fn default_organisation(&mut self) -> Result<Option<OrganisationId>, StoreError>;

    async fn lockout_policy(&mut self, org: OrganisationId) -> Result<LockoutPolicy, StoreError>;

    async fn question_policy(&mut self, org: OrganisationId) -> Result<QuestionPolicy, StoreError>;

    /// The organisation's acceptable use policy (version 0: none).
    async fn aup(&mut self, org: OrganisationId) -> Result<Aup, StoreError>;
}

#[async_trait]
pub trait OrganisationsWrite: Send {
    async fn create_organisation(
        &mut self,
        slug: &str,
        name: &str,
        now: OffsetDateTime,
    ) -> Result<Organisation, StoreError>;

    async fn create_identity_store(
        &mut self,
        organisation: OrganisationId,
        name: &str,
        kind: StoreKind,
        priority: i64,
        now: OffsetDateTime,
    ) -> Result<IdentityStore, StoreError>;

    async fn set_lockout_policy(
        &mut self,
        org: OrganisationId,
        policy: &LockoutPolicy,
    ) -> Result<(), StoreError>;

    /// A new text of the acceptable use policy: the next version, which it answers.
    async fn set_aup(
        &mut self,
        org: OrganisationId,
        text: &str,
        now: OffsetDateTime,
    ) -> Result<i64, StoreError>;
}
