//! Operators: the roles accounts hold in their organisation.

use async_trait::async_trait;
use latchkey_types::Role;
use time::OffsetDateTime;

use super::StoreError;
use crate::account::{Account, AccountId};
use crate::organisation::OrganisationId;

#[async_trait]
pub trait OperatorsRead: Send {
    /// The roles an account holds, in `Role`'s order (the most powerful first); none for
    /// a non-operator.
    async fn roles_of(&mut self, account: AccountId) -> Result<Vec<Role>, StoreError>;

    /// Every account that holds a role (of `organisation`, if given), with its roles (in
    /// `Role`'s order), by username.
    async fn operators(
        &mut self,
        organisation: Option<OrganisationId>,
    ) -> Result<Vec<(Account, Vec<Role>)>, StoreError>;
}

#[async_trait]
pub trait OperatorsWrite: Send {
    /// Grants `role`; answers whether the account did not hold it yet.
    async fn grant_role(
        &mut self,
        account: AccountId,
        role: Role,
        granted_by: &str,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError>;

    /// Revokes `role`; answers whether the account held it.
    async fn revoke_role(&mut self, account: AccountId, role: Role) -> Result<bool, StoreError>;
}
