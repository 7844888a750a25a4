//! What people enrol to prove who they are: security questions and answers, the
//! authenticator, and one-time codes.

use async_trait::async_trait;
use time::OffsetDateTime;

use super::StoreError;
use crate::account::AccountId;
use crate::account::Email;
use crate::code::StoredCode;
use crate::credentials::{
    CatalogueQuestion, NewAnswer, RecoveryEmail, StoredAnswer, TotpCredential,
};
use crate::organisation::OrganisationId;

#[async_trait]
pub trait FactorsRead: Send {
    /// The organisation's active catalogue questions.
    async fn question_catalogue(
        &mut self,
        org: OrganisationId,
    ) -> Result<Vec<CatalogueQuestion>, StoreError>;

    /// Every question of the organisation's catalogue, in use or not (`true`: in use),
    /// in the order they were added.
    async fn catalogue_entries(
        &mut self,
        org: OrganisationId,
    ) -> Result<Vec<(CatalogueQuestion, bool)>, StoreError>;

    /// An account's enrolled questions with their answers' hashes, in order.
    async fn security_answers(
        &mut self,
        account: AccountId,
    ) -> Result<Vec<StoredAnswer>, StoreError>;

    async fn totp_credential(
        &mut self,
        account: AccountId,
    ) -> Result<Option<TotpCredential>, StoreError>;

    async fn code(&mut self, id: i64) -> Result<Option<StoredCode>, StoreError>;

    /// The account's recovery address (confirmed and pending), if it ever proposed one.
    async fn recovery_email(
        &mut self,
        account: AccountId,
    ) -> Result<Option<RecoveryEmail>, StoreError>;
}

#[async_trait]
pub trait FactorsWrite: Send {
    /// Adds a question to an organisation's catalogue.
    async fn add_catalogue_question(
        &mut self,
        org: OrganisationId,
        text: &str,
        now: OffsetDateTime,
    ) -> Result<i64, StoreError>;

    /// Takes a question of `org`'s catalogue out of use, or back; answers whether it is
    /// one of that catalogue's.
    async fn set_question_active(
        &mut self,
        org: OrganisationId,
        question: i64,
        active: bool,
    ) -> Result<bool, StoreError>;

    /// Replaces an account's questions and answers.
    async fn replace_security_answers(
        &mut self,
        account: AccountId,
        answers: &[NewAnswer],
        now: OffsetDateTime,
    ) -> Result<(), StoreError>;

    /// Stores a new authenticator secret as pending; the confirmed one (if any) stays in
    /// use until [`FactorsWrite::confirm_totp`].
    async fn save_totp_credential(
        &mut self,
        account: AccountId,
        sealed_secret: &[u8],
        now: OffsetDateTime,
    ) -> Result<(), StoreError>;

    /// Makes the pending secret the account's authenticator, with `step` already used.
    async fn confirm_totp(
        &mut self,
        account: AccountId,
        step: u64,
        now: OffsetDateTime,
    ) -> Result<(), StoreError>;

    /// Records `step` as the last one used, if it is later than the one recorded;
    /// answers whether it was (a code is never accepted twice).
    async fn set_totp_last_step(
        &mut self,
        account: AccountId,
        step: u64,
    ) -> Result<bool, StoreError>;

    /// Stores a one-time code's hash; answers its id.
    async fn create_code(
        &mut self,
        account: AccountId,
        purpose: &str,
        code_hash: &str,
        now: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> Result<i64, StoreError>;

    /// Marks a code used, if it was not; answers whether this call did (a code works
    /// once).
    async fn use_code(&mut self, id: i64, now: OffsetDateTime) -> Result<bool, StoreError>;

    /// Stores one link of a lock mail (only the SHA-256 of its token).
    async fn create_lock_link(
        &mut self,
        account: AccountId,
        purpose: &str,
        token_hash: &str,
        now: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> Result<(), StoreError>;

    /// Spends the lock-mail link `token_hash` for `purpose` if it is unused and not
    /// expired at `now`, in one conditional update; answers its account if this call
    /// spent it (a link works once).
    async fn spend_lock_link(
        &mut self,
        token_hash: &str,
        purpose: &str,
        now: OffsetDateTime,
    ) -> Result<Option<AccountId>, StoreError>;

    /// Spends every unused lock-mail link of `account`; answers how many.
    async fn spend_lock_links_of(
        &mut self,
        account: AccountId,
        now: OffsetDateTime,
    ) -> Result<u64, StoreError>;

    /// Removes the account's authenticator, confirmed and pending (an MFA reset);
    /// answers whether there was one.
    async fn delete_totp_credential(&mut self, account: AccountId) -> Result<bool, StoreError>;

    /// Counts a wrong try against a code.
    async fn count_code_attempt(&mut self, id: i64) -> Result<(), StoreError>;

    /// Records `address` as waiting for the code `code_id`; a confirmed address stays in
    /// use until then.
    async fn propose_recovery_email(
        &mut self,
        account: AccountId,
        address: &Email,
        code_id: i64,
        now: OffsetDateTime,
    ) -> Result<(), StoreError>;

    /// Makes the pending address the confirmed one; answers whether there was one.
    async fn confirm_recovery_email(
        &mut self,
        account: AccountId,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError>;

    /// Forgets the account's recovery address, confirmed and pending.
    async fn remove_recovery_email(&mut self, account: AccountId) -> Result<(), StoreError>;
}
