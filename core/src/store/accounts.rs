//! Accounts: who they are, their lock state and their password. The one trait a
//! directory store (LDAP) implements for the accounts it keeps itself.

use async_trait::async_trait;
use time::OffsetDateTime;

use super::StoreError;
use crate::account::{Account, AccountId, AccountName, NewAccount, PersonId};
use crate::lockout::{LockState, LockoutPolicy};

#[async_trait]
pub trait AccountsRead: Send {
    async fn account(&mut self, id: AccountId) -> Result<Option<Account>, StoreError>;

    /// The account a typed name refers to: in the named store, or else in the store of
    /// lowest priority that has the username.
    async fn account_by_name(&mut self, name: &AccountName) -> Result<Option<Account>, StoreError>;

    /// The account and its organisation's lockout policy, in one read (inside a
    /// transaction: under its lock).
    async fn account_with_policy(
        &mut self,
        id: AccountId,
    ) -> Result<Option<(Account, LockoutPolicy)>, StoreError>;

    /// The name of the identity store unqualified usernames resolve to first.
    async fn default_store_name(&mut self) -> Result<Option<String>, StoreError>;
}

#[async_trait]
pub trait AccountsWrite: Send {
    /// Creates an account; `person` links it to an existing person's other accounts,
    /// `None` creates a new person.
    async fn create_account(
        &mut self,
        account: &NewAccount,
        person: Option<PersonId>,
        now: OffsetDateTime,
    ) -> Result<(AccountId, PersonId), StoreError>;

    async fn save_lock_state(
        &mut self,
        id: AccountId,
        state: &LockState,
        now: OffsetDateTime,
    ) -> Result<(), StoreError>;

    async fn set_password(
        &mut self,
        account: AccountId,
        hash: &str,
        must_change: bool,
        now: OffsetDateTime,
    ) -> Result<(), StoreError>;
}
