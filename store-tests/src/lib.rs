//! The contract every Latchkey store keeps, as code (after `object_store`'s
//! `integration.rs`): a backend passes when [`conformance_tests!`] (one test per
//! aggregate) or [`suite`] passes against it.
//!
//! Besides reading back what was written — every stored enum and JSON column — it holds a
//! backend to the rules that make Latchkey's decisions atomic under concurrency, which
//! SQLite gets from its single write lock and a server database must get from row locks:
//! N concurrent failed sign-ins lock exactly once with the count at the threshold; N
//! concurrent wrong self-service answers block exactly once; concurrent audit appends
//! leave a gap-free, intact chain; a mail claim is exclusive and lapses; a captcha, a
//! one-time code and an authenticator step are each accepted once; concurrent per-client
//! rate-limit takes let exactly the burst through; concurrent answers to one helpdesk
//! check are each counted; a transaction that is dropped leaves
//! nothing behind. [`Spread`] runs the same groups over several connection pools on one
//! database, as several servers would; [`postgres::PgCluster`] is a throwaway PostgreSQL
//! for the tests that need one.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod accounts;
mod audit;
mod factors;
mod flows;
mod helpdesk;
mod limits;
mod operators;
mod organisations;
mod outbox;
pub mod postgres;
mod sessions;
mod spread;
mod support;

use std::any::Any;
use std::future::Future;
use std::sync::Arc;

use latchkey_core::account::{AccountId, AccountStatus, Email, NewAccount, Username};
use latchkey_core::organisation::{IdentityStore, Organisation, StoreKind};
use latchkey_core::store::Store;
use time::macros::datetime;
use time::OffsetDateTime;

pub use accounts::{account_search, accounts, directory_accounts};
pub use audit::{audit, audit_queries};
pub use factors::factors;
pub use flows::flows;
pub use helpdesk::helpdesk;
pub use limits::limits;
pub use operators::operators;
pub use organisations::organisations;
pub use outbox::outbox;
pub use sessions::sessions;
pub use spread::Spread;
pub use support::support;

/// A fresh, empty store (migrated), and whatever must live as long as it (a temporary
/// directory, a throwaway database server).
pub struct Opened {
    pub store: Arc<dyn Store>,
    _guard: Box<dyn Any + Send + Sync>,
}

impl Opened {
    pub fn new(store: Arc<dyn Store>, guard: impl Any + Send + Sync) -> Self {
        Self {
            store,
            _guard: Box::new(guard),
        }
    }
}

/// Every group, one after the other, each on a fresh store from `open`.
pub async fn suite<F, Fut>(open: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Opened>,
{
    accounts(open().await).await;
    account_search(open().await).await;
    directory_accounts(open().await).await;
    operators(open().await).await;
    organisations(open().await).await;
    flows(open().await).await;
    factors(open().await).await;
    sessions(open().await).await;
    audit(open().await).await;
    audit_queries(open().await).await;
    outbox(open().await).await;
    limits(open().await).await;
    helpdesk(open().await).await;
    support(open().await).await;
}

/// One `#[tokio::test]` per group against the stores `$open` (an async function
/// answering [`Opened`]) makes.
#[macro_export]
macro_rules! conformance_tests {
    ($open:path) => {
        $crate::conformance_tests!(@group $open, accounts, account_search, directory_accounts, operators,
            organisations, flows, factors, sessions, audit, audit_queries, outbox, limits,
            helpdesk, support);
    };
    (@group $open:path, $($group:ident),*) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn $group() {
            $crate::$group($open().await).await;
        }
    )*};
}

/// The moment every group starts at.
pub const T0: OffsetDateTime = datetime!(2026-06-01 08:00 UTC);

/// Runs `n` copies of `task` at once and collects what each answers.
pub(crate) async fn at_once<T, F, Fut>(n: usize, task: F) -> Vec<T>
where
    T: Send + 'static,
    F: Fn(usize) -> Fut,
    Fut: Future<Output = T> + Send + 'static,
{
    let mut set = tokio::task::JoinSet::new();
    for i in 0..n {
        set.spawn(task(i));
    }
    let mut out = Vec::new();
    while let Some(r) = set.join_next().await {
        out.push(r.unwrap());
    }
    out
}

/// An organisation `acme` with an identity store `ACME` (priority 10).
pub(crate) async fn organisation(store: &dyn Store) -> (Organisation, IdentityStore) {
    let mut tx = store.begin().await.unwrap();
    let org = tx.create_organisation("acme", "Acme", T0).await.unwrap();
    let ids = tx
        .create_identity_store(org.id, "acme", StoreKind::Builtin, 10, T0)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    (org, ids)
}

/// A new active account `username` in `ids`, with a password hash and an address.
pub(crate) async fn account(store: &dyn Store, ids: &IdentityStore, username: &str) -> AccountId {
    let mut tx = store.begin().await.unwrap();
    let (id, _) = tx
        .create_account(&new_account(ids, username, AccountStatus::Active), None, T0)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    id
}

pub(crate) fn new_account(
    ids: &IdentityStore,
    username: &str,
    status: AccountStatus,
) -> NewAccount {
    NewAccount {
        public_id: format!("public-{}-{username}", ids.name),
        store_id: ids.id,
        username: Username::parse("username", username).unwrap(),
        display_name: format!("{username} Example"),
        email: Email::parse("email", &format!("{username}@acme.example")).unwrap(),
        status,
        password_hash: Some(format!("$argon2id$fake${username}")),
    }
}
