//! Organisations, identity stores and their policies.

use latchkey_core::credentials::QuestionPolicy;
use latchkey_core::error::StoreError;
use latchkey_core::lockout::{LockDuration, LockoutPolicy};
use latchkey_core::organisation::{OrganisationId, StoreKind};
use time::Duration;

use std::sync::Arc;

use crate::{at_once, Opened, T0};

pub async fn organisations(opened: Opened) {
    let store = opened.store;
    let mut read = store.read().await.unwrap();
    assert!(read.organisations().await.unwrap().is_empty());
    assert_eq!(read.default_organisation().await.unwrap(), None);
    assert_eq!(read.default_store_name().await.unwrap(), None);
    drop(read);

    let mut tx = store.begin().await.unwrap();
    let first = tx
        .create_organisation("first", "First Org", T0)
        .await
        .unwrap();
    let second = tx
        .create_organisation("second", "Second Org", T0)
        .await
        .unwrap();
    let ids = tx
        .create_identity_store(first.id, "main", StoreKind::Builtin, 5, T0)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(ids.name, "MAIN", "store names are upper case");
    assert_eq!(
        (ids.organisation_id, ids.kind),
        (first.id, StoreKind::Builtin)
    );

    let mut read = store.read().await.unwrap();
    assert_eq!(
        read.organisations().await.unwrap(),
        vec![first.clone(), second.clone()]
    );
    assert_eq!(read.default_organisation().await.unwrap(), Some(first.id));
    assert_eq!(
        read.organisation_by_slug("second").await.unwrap(),
        Some(second.clone())
    );
    assert_eq!(read.organisation_by_slug("third").await.unwrap(), None);
    assert_eq!(
        read.organisation(second.id).await.unwrap(),
        Some(second.clone())
    );
    assert_eq!(
        read.organisation(OrganisationId(second.id.0 + 1000))
            .await
            .unwrap(),
        None
    );
    // A new organisation starts with the defaults.
    assert_eq!(
        read.lockout_policy(first.id).await.unwrap(),
        LockoutPolicy::default()
    );
    assert_eq!(
        read.question_policy(first.id).await.unwrap(),
        QuestionPolicy::default()
    );
    drop(read);

    // Slugs and store names are unique.
    let mut tx = store.begin().await.unwrap();
    let again = tx.create_organisation("first", "Again", T0).await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
    drop(tx);
    let mut tx = store.begin().await.unwrap();
    let again = tx
        .create_identity_store(second.id, "Main", StoreKind::Builtin, 1, T0)
        .await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
    drop(tx);

    // Identity stores by priority (not by age), everywhere or of one organisation; the
    // directory kinds (migration 0070) are kept as well as the built-in one.
    let mut tx = store.begin().await.unwrap();
    let late = tx
        .create_identity_store(first.id, "late", StoreKind::Ldap, 9, T0)
        .await
        .unwrap();
    let other = tx
        .create_identity_store(second.id, "other", StoreKind::Builtin, 1, T0)
        .await
        .unwrap();
    let early = tx
        .create_identity_store(first.id, "early", StoreKind::ActiveDirectory, 2, T0)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut read = store.read().await.unwrap();
    assert_eq!(
        read.identity_stores(None).await.unwrap(),
        [other.clone(), early.clone(), ids.clone(), late.clone()]
    );
    assert_eq!(
        read.identity_stores(Some(first.id)).await.unwrap(),
        [early, ids, late]
    );
    assert_eq!(
        read.identity_stores(Some(second.id)).await.unwrap(),
        [other]
    );
    assert_eq!(
        read.identity_stores(Some(OrganisationId(second.id.0 + 1000)))
            .await
            .unwrap(),
        []
    );
    drop(read);

    // Both kinds of lock duration round-trip, per organisation.
    for policy in [
        LockoutPolicy {
            threshold: 3,
            window: Duration::minutes(10),
            duration: LockDuration::Temporary(Duration::minutes(30)),
        },
        LockoutPolicy {
            threshold: 0,
            window: Duration::minutes(1440),
            duration: LockDuration::UntilUnlocked,
        },
    ] {
        let mut tx = store.begin().await.unwrap();
        tx.set_lockout_policy(second.id, &policy).await.unwrap();
        tx.commit().await.unwrap();
        let mut read = store.read().await.unwrap();
        assert_eq!(read.lockout_policy(second.id).await.unwrap(), policy);
        assert_eq!(
            read.lockout_policy(first.id).await.unwrap(),
            LockoutPolicy::default()
        );
    }

    // The acceptable use policy: none (version 0) until one is written; each text is the
    // next version, per organisation; ten editors at once get ten versions.
    let aup = store.read().await.unwrap().aup(first.id).await.unwrap();
    assert_eq!(
        (aup.version, aup.text.as_str(), aup.updated_at),
        (0, "", None)
    );
    let later = T0 + Duration::days(1);
    let mut tx = store.begin().await.unwrap();
    assert_eq!(tx.set_aup(first.id, "Be kind.", later).await.unwrap(), 1);
    tx.commit().await.unwrap();
    let mut read = store.read().await.unwrap();
    let aup = read.aup(first.id).await.unwrap();
    assert_eq!(
        (aup.version, aup.text.as_str(), aup.updated_at),
        (1, "Be kind.", Some(later))
    );
    assert_eq!(read.aup(second.id).await.unwrap().version, 0);
    drop(read);
    let mut versions = at_once(10, |i| {
        let store = Arc::clone(&store);
        async move {
            let mut tx = store.begin().await.unwrap();
            let v = tx
                .set_aup(first.id, &format!("Text {i}"), later)
                .await
                .unwrap();
            tx.commit().await.unwrap();
            v
        }
    })
    .await;
    versions.sort_unstable();
    assert_eq!(versions, (2..=11).collect::<Vec<i64>>(), "one version each");
    assert_eq!(
        store
            .read()
            .await
            .unwrap()
            .aup(first.id)
            .await
            .unwrap()
            .version,
        11
    );
}
