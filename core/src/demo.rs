//! Demo data for `latchkey serve --demo`: one organisation and a few people, seeded once.
//! README lists the same credentials; tests sign in with them.

use secrecy::SecretString;

use crate::account::{parse_display_name, AccountStatus, Email, NewAccount, Username};
use crate::clock::Clock;
use crate::error::CoreError;
use crate::organisation::StoreKind;
use crate::password::PasswordHasher;
use crate::store::Store;

pub const ORGANISATION_SLUG: &str = "example";
pub const ORGANISATION_NAME: &str = "Example Health";
pub const STORE_NAME: &str = "EXAMPLE";

/// A demo account: username, display name, email, password, status.
pub struct DemoUser {
    pub username: &'static str,
    pub display_name: &'static str,
    pub email: &'static str,
    pub password: &'static str,
    pub status: AccountStatus,
}

pub const USERS: &[DemoUser] = &[
    DemoUser {
        username: "alice",
        display_name: "Alice Ashdown",
        email: "alice@example.org",
        password: "lantern-orbit-meadow",
        status: AccountStatus::Active,
    },
    DemoUser {
        username: "bob",
        display_name: "Bob Brennan",
        email: "bob@example.org",
        password: "copper-fjord-whistle",
        status: AccountStatus::Active,
    },
    DemoUser {
        username: "carol",
        display_name: "Carol Castell",
        email: "carol@example.org",
        password: "saffron-quarry-ninety",
        status: AccountStatus::Disabled,
    },
];

/// Seeds the demo organisation unless it exists. Returns whether anything was written.
pub async fn seed(
    store: &dyn Store,
    hasher: &PasswordHasher,
    clock: &dyn Clock,
) -> Result<bool, CoreError> {
    if store
        .organisation_by_slug(ORGANISATION_SLUG)
        .await?
        .is_some()
    {
        return Ok(false);
    }
    let now = clock.now();
    let org = store
        .create_organisation(ORGANISATION_SLUG, ORGANISATION_NAME, now)
        .await?;
    let identity_store = store
        .create_identity_store(org.id, STORE_NAME, StoreKind::Builtin, 10, now)
        .await?;
    for user in USERS {
        let hash = hasher
            .hash(&SecretString::from(user.password))
            .await
            .map_err(|e| CoreError::Internal(e.to_string()))?;
        let account = NewAccount {
            store_id: identity_store.id,
            username: Username::parse("username", user.username)?,
            display_name: parse_display_name("display_name", user.display_name)?,
            email: Email::parse("email", user.email)?,
            status: user.status,
            password_hash: Some(hash),
        };
        store.create_account(&account, None, now).await?;
    }
    Ok(true)
}
