//! Operators: the roles an account holds in its organisation, granted and revoked once.

use std::sync::Arc;

use latchkey_core::account::AccountId;
use latchkey_core::organisation::StoreKind;
use latchkey_core::store::Store;
use latchkey_types::Role;

use crate::{account, at_once, Opened, T0};

pub async fn operators(opened: Opened) {
    let store = opened.store;
    let mut tx = store.begin().await.unwrap();
    let acme = tx.create_organisation("acme", "Acme", T0).await.unwrap();
    let globex = tx
        .create_organisation("globex", "Globex", T0)
        .await
        .unwrap();
    let acme_ids = tx
        .create_identity_store(acme.id, "acme", StoreKind::Builtin, 10, T0)
        .await
        .unwrap();
    let globex_ids = tx
        .create_identity_store(globex.id, "globex", StoreKind::Builtin, 20, T0)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let shared = Arc::clone(&store);
    let store = store.as_ref();
    let ada = account(store, &acme_ids, "ada").await;
    let lena = account(store, &acme_ids, "lena").await;
    let bob = account(store, &acme_ids, "bob").await;
    let gus = account(store, &globex_ids, "gus").await;
    // The same username in the other organisation is another operator.
    let globex_lena = account(store, &globex_ids, "lena").await;

    let mut read = store.read().await.unwrap();
    assert_eq!(read.roles_of(ada).await.unwrap(), []);
    assert!(read.operators(None).await.unwrap().is_empty());
    drop(read);

    // Granting answers whether it was new; a second grant changes nothing.
    assert!(grant(store, ada, Role::SupportAgent).await);
    assert!(grant(store, ada, Role::GlobalAdministrator).await);
    assert!(!grant(store, ada, Role::GlobalAdministrator).await, "once");
    assert!(grant(store, lena, Role::LocalAdministrator).await);
    assert!(grant(store, gus, Role::HelpdeskOperator).await);
    assert!(grant(store, globex_lena, Role::SupportAgent).await);

    // Roles are read in `Role`'s order (the most powerful first), whatever the order of
    // the grants; each account has its own.
    let mut read = store.read().await.unwrap();
    assert_eq!(
        read.roles_of(ada).await.unwrap(),
        [Role::GlobalAdministrator, Role::SupportAgent]
    );
    assert_eq!(
        read.roles_of(lena).await.unwrap(),
        [Role::LocalAdministrator]
    );
    assert_eq!(
        read.roles_of(globex_lena).await.unwrap(),
        [Role::SupportAgent]
    );
    assert_eq!(read.roles_of(bob).await.unwrap(), []);
    assert_eq!(read.roles_of(AccountId(999_999)).await.unwrap(), []);

    // Operators: accounts with a role, by username, with their roles; per organisation.
    let listed = |ops: Vec<(latchkey_core::account::Account, Vec<Role>)>| {
        ops.into_iter()
            .map(|(a, roles)| (a.id, a.qualified_name(), roles))
            .collect::<Vec<_>>()
    };
    let everyone = read.operators(None).await.unwrap();
    for (account, _) in &everyone {
        assert_eq!(
            Some(account),
            read.account(account.id).await.unwrap().as_ref(),
            "the whole account"
        );
    }
    let mut everyone = listed(everyone);
    // Two operators called lena: by username only, either may come first.
    everyone[2..4].sort_by_key(|(id, ..)| *id);
    assert_eq!(
        everyone,
        [
            (
                ada,
                "ACME\\ada".to_owned(),
                vec![Role::GlobalAdministrator, Role::SupportAgent]
            ),
            (gus, "GLOBEX\\gus".to_owned(), vec![Role::HelpdeskOperator]),
            (
                lena,
                "ACME\\lena".to_owned(),
                vec![Role::LocalAdministrator]
            ),
            (
                globex_lena,
                "GLOBEX\\lena".to_owned(),
                vec![Role::SupportAgent]
            ),
        ]
    );
    assert_eq!(
        listed(read.operators(Some(acme.id)).await.unwrap())
            .into_iter()
            .map(|(id, ..)| id)
            .collect::<Vec<_>>(),
        [ada, lena]
    );
    assert_eq!(
        listed(read.operators(Some(globex.id)).await.unwrap())
            .into_iter()
            .map(|(id, ..)| id)
            .collect::<Vec<_>>(),
        [gus, globex_lena]
    );
    drop(read);

    // Revoking answers whether the role was held; an account without roles is no
    // operator. Another account's role of the same name stays.
    assert!(revoke(store, lena, Role::LocalAdministrator).await);
    assert!(!revoke(store, lena, Role::LocalAdministrator).await, "once");
    assert!(!revoke(store, bob, Role::SupportAgent).await, "never held");
    assert!(revoke(store, ada, Role::SupportAgent).await);
    let mut read = store.read().await.unwrap();
    assert_eq!(read.roles_of(lena).await.unwrap(), []);
    assert_eq!(
        read.roles_of(ada).await.unwrap(),
        [Role::GlobalAdministrator]
    );
    assert_eq!(
        read.roles_of(globex_lena).await.unwrap(),
        [Role::SupportAgent]
    );
    assert_eq!(
        listed(read.operators(Some(acme.id)).await.unwrap()),
        [(ada, "ACME\\ada".to_owned(), vec![Role::GlobalAdministrator])]
    );
    drop(read);

    // A grant in a transaction that is dropped leaves nothing; granted again, it is new.
    let mut tx = store.begin().await.unwrap();
    assert!(tx
        .grant_role(bob, Role::HelpdeskOperator, "system:test", T0)
        .await
        .unwrap());
    drop(tx);
    assert_eq!(store.read().await.unwrap().roles_of(bob).await.unwrap(), []);
    assert!(
        grant(store, lena, Role::LocalAdministrator).await,
        "granted again"
    );

    concurrent_grants_and_revokes_change_once(shared, bob).await;
}

/// Ten transactions grant one role at once, then ten revoke it: each time exactly one
/// answers that it changed something, and the role is held, then not.
async fn concurrent_grants_and_revokes_change_once(store: Arc<dyn Store>, account: AccountId) {
    for granting in [true, false] {
        let changed = at_once(10, |_| {
            let store = Arc::clone(&store);
            async move {
                let mut tx = store.begin().await.unwrap();
                let changed = if granting {
                    tx.grant_role(account, Role::SupportAgent, "system:test", T0)
                        .await
                        .unwrap()
                } else {
                    tx.revoke_role(account, Role::SupportAgent).await.unwrap()
                };
                tx.commit().await.unwrap();
                changed
            }
        })
        .await;
        assert_eq!(
            changed.iter().filter(|c| **c).count(),
            1,
            "one {} changes anything",
            if granting { "grant" } else { "revoke" }
        );
        let held = store.read().await.unwrap().roles_of(account).await.unwrap();
        let expected: &[Role] = if granting { &[Role::SupportAgent] } else { &[] };
        assert_eq!(held, expected);
    }
}

async fn grant(store: &dyn Store, account: AccountId, role: Role) -> bool {
    let mut tx = store.begin().await.unwrap();
    let new = tx
        .grant_role(account, role, "system:test", T0)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    new
}

async fn revoke(store: &dyn Store, account: AccountId, role: Role) -> bool {
    let mut tx = store.begin().await.unwrap();
    let held = tx.revoke_role(account, role).await.unwrap();
    tx.commit().await.unwrap();
    held
}
