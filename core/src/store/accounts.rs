//! Accounts: who they are, their lock state and their password. The one trait a
//! directory store (LDAP) implements for the accounts it keeps itself.

use async_trait::async_trait;
use time::OffsetDateTime;

use super::StoreError;
use crate::account::{
    Account, AccountId, AccountName, AccountStatus, Email, NewAccount, Pending, PersonId,
};
use crate::lockout::{LockState, LockoutPolicy};
use crate::organisation::{OrganisationId, StoreId};

/// A search of the users grid, as the store runs it: Latchkey's own accounts (the
/// accounts it keeps for directory accounts are searched in their directory).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountSearch {
    /// The start of a username, an address's or a name's search key
    /// ([`crate::account::search_key`]); empty: every account.
    pub prefix: String,
    /// Only accounts locked at this moment (a lock that has run out is no lock).
    pub locked_at: Option<OffsetDateTime>,
    pub organisation: Option<OrganisationId>,
    pub store: Option<StoreId>,
    pub status: Option<AccountStatus>,
    pub order: AccountOrder,
    /// At most this many.
    pub limit: u32,
}

/// The order of a search, and where the previous page ended (keyset pagination: the
/// page starts after that key, so paging never skips nor repeats a row).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountOrder {
    /// By username, then id.
    Username { after: Option<(String, i64)> },
    /// The most recently locked first, then by id (locked accounts only).
    LockedDate { after: Option<(i64, i64)> },
}

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

    /// The account the console names by `public_id`.
    async fn account_by_public_id(
        &mut self,
        public_id: &str,
    ) -> Result<Option<Account>, StoreError>;

    /// Every account of `person`, by identity store priority.
    async fn accounts_of_person(&mut self, person: PersonId) -> Result<Vec<Account>, StoreError>;

    /// The accounts whose address has the search key `email_key`
    /// ([`crate::account::search_key`]), by the priority of their identity stores.
    async fn accounts_with_email(&mut self, email_key: &str) -> Result<Vec<Account>, StoreError>;

    /// The users grid (see [`AccountSearch`]).
    async fn search_accounts(&mut self, search: &AccountSearch)
        -> Result<Vec<Account>, StoreError>;

    /// The account Latchkey keeps for the directory account `stable_id` of `store`, if
    /// it has met it (see `crate::directory`).
    async fn directory_account(
        &mut self,
        store: StoreId,
        stable_id: &str,
    ) -> Result<Option<Account>, StoreError>;

    /// The stable id of the directory account `account` stands for; `None` for an
    /// account of Latchkey's own store.
    async fn stable_id_of(&mut self, account: AccountId) -> Result<Option<String>, StoreError>;

    /// How many accounts (of `organisation`, if given) are locked at `now`.
    async fn count_locked(
        &mut self,
        organisation: Option<OrganisationId>,
        now: OffsetDateTime,
    ) -> Result<u64, StoreError>;
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

    /// Sets whether the next sign-in must choose a new password, keeping the password.
    async fn set_must_change_password(
        &mut self,
        account: AccountId,
        must_change: bool,
        now: OffsetDateTime,
    ) -> Result<(), StoreError>;

    /// A new name and registered address.
    async fn update_account(
        &mut self,
        account: AccountId,
        display_name: &str,
        email: &crate::account::Email,
        now: OffsetDateTime,
    ) -> Result<(), StoreError>;

    async fn set_account_status(
        &mut self,
        account: AccountId,
        status: AccountStatus,
        now: OffsetDateTime,
    ) -> Result<(), StoreError>;

    /// What the next sign-in must go through (an MFA reset, a resecure, or one done).
    async fn set_pending(
        &mut self,
        account: AccountId,
        pending: Pending,
        now: OffsetDateTime,
    ) -> Result<(), StoreError>;

    /// The person's own name, contact address and phone.
    async fn set_profile(
        &mut self,
        account: AccountId,
        display_name: &str,
        email: &Email,
        phone: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<(), StoreError>;

    /// A new username (a directory account renamed in its directory).
    async fn set_username(
        &mut self,
        account: AccountId,
        username: &crate::account::Username,
        now: OffsetDateTime,
    ) -> Result<(), StoreError>;

    /// Ties `account` to the directory account `stable_id` of `store` (once: a stable id
    /// is one account's).
    async fn tie_directory_account(
        &mut self,
        account: AccountId,
        store: StoreId,
        stable_id: &str,
        now: OffsetDateTime,
    ) -> Result<(), StoreError>;

    /// Makes `account` one of `person`'s accounts (a link), or with `None` the only
    /// account of a new person of its organisation (an unlink); answers the person.
    async fn set_person(
        &mut self,
        account: AccountId,
        person: Option<PersonId>,
        now: OffsetDateTime,
    ) -> Result<PersonId, StoreError>;

    /// Records that the account accepted the AUP `version` at `at`, or (`None`) forgets
    /// any acceptance (a resecure).
    async fn set_aup_acceptance(
        &mut self,
        account: AccountId,
        accepted: Option<(&str, OffsetDateTime)>,
        now: OffsetDateTime,
    ) -> Result<(), StoreError>;
}
