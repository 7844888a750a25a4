//! Accounts: identity, names across identity stores, lock state, passwords — and a lock
//! decided once under concurrent failures.

use std::sync::Arc;

use latchkey_core::account::{AccountName, AccountStatus};
use latchkey_core::audit::{
    verify_chain, Action, Actor, AuditChannel, AuditEvent, ChainCursor, Outcome, Subject,
};
use latchkey_core::error::StoreError;
use latchkey_core::keys::MasterKey;
use latchkey_core::lockout::{
    apply, Lock, LockDuration, LockEvent, LockReason, LockState, LockoutPolicy, Unlock,
};
use latchkey_core::organisation::StoreKind;
use latchkey_core::outbox::{Notification, Outgoing, Recipient};
use latchkey_core::random::SeededRandom;
use strum::IntoEnumIterator;
use time::Duration;

use crate::{account, at_once, new_account, organisation, Opened, T0};

pub async fn accounts(opened: Opened) {
    let store = opened.store;
    let (org, acme) = organisation(store.as_ref()).await;

    // Round trip of everything an account is made of.
    let alice = account(store.as_ref(), &acme, "alice").await;
    let mut read = store.read().await.unwrap();
    let a = read.account(alice).await.unwrap().unwrap();
    assert_eq!(a.username.as_str(), "alice");
    assert_eq!(a.display_name, "alice Example");
    assert_eq!(a.email.as_str(), "alice@acme.example");
    assert_eq!(a.status, AccountStatus::Active);
    assert_eq!(a.organisation_id, org.id);
    assert_eq!((a.store_id, a.store_name.as_str()), (acme.id, "ACME"));
    assert_eq!(a.password_hash.as_deref(), Some("$argon2id$fake$alice"));
    assert_eq!(a.password_changed_at, Some(T0));
    assert!(!a.must_change_password);
    assert_eq!(a.lock, LockState::default());
    assert_eq!(a.created_at, T0);
    assert_eq!(
        read.default_store_name().await.unwrap().as_deref(),
        Some("ACME")
    );
    drop(read);

    // The same username in a second store, linked to the same person: an unqualified
    // name finds the store of lowest priority, a qualified one its own store.
    let mut tx = store.begin().await.unwrap();
    let mail = tx
        .create_identity_store(org.id, "MAIL", StoreKind::Builtin, 20, T0)
        .await
        .unwrap();
    let (mail_alice, person) = tx
        .create_account(
            &new_account(&mail, "alice", AccountStatus::Active),
            Some(a.person_id),
            T0,
        )
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(person, a.person_id, "linked to the same person");
    let mut read = store.read().await.unwrap();
    let by = |s: &str| AccountName::parse("username", s).unwrap();
    let found = |r: Option<latchkey_core::account::Account>| r.map(|a| a.id);
    assert_eq!(
        found(read.account_by_name(&by("ALICE")).await.unwrap()),
        Some(alice)
    );
    assert_eq!(
        found(read.account_by_name(&by("mail\\alice")).await.unwrap()),
        Some(mail_alice)
    );
    assert_eq!(
        found(read.account_by_name(&by("nobody")).await.unwrap()),
        None
    );
    assert_eq!(
        found(read.account_by_name(&by("NOWHERE\\alice")).await.unwrap()),
        None
    );
    drop(read);

    // A username is unique within its store.
    let mut tx = store.begin().await.unwrap();
    let again = tx
        .create_account(
            &new_account(&acme, "alice", AccountStatus::Active),
            None,
            T0,
        )
        .await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
    drop(tx);

    // Every status round-trips.
    for status in AccountStatus::iter() {
        let name = format!("status-{}", status.as_str());
        let mut tx = store.begin().await.unwrap();
        let (id, _) = tx
            .create_account(&new_account(&acme, &name, status), None, T0)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let read_back = store
            .read()
            .await
            .unwrap()
            .account(id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(read_back.status, status);
    }

    // Every lock reason, with and without an end, and every other lock field.
    for (i, reason) in LockReason::iter().enumerate() {
        let state = LockState {
            failed_attempts: 3,
            first_failure_at: Some(T0 + Duration::minutes(1)),
            lock: Some(Lock {
                locked_at: T0 + Duration::minutes(2),
                reason,
                expires_at: (i % 2 == 0).then_some(T0 + Duration::hours(1)),
            }),
            last_unlock: Some(Unlock {
                by: "helpdesk1".into(),
                at: T0,
            }),
            consecutive_failures: 42,
            last_failure_at: Some(T0 + Duration::minutes(2)),
        };
        let mut tx = store.begin().await.unwrap();
        tx.save_lock_state(alice, &state, T0).await.unwrap();
        tx.commit().await.unwrap();
        let read_back = store
            .read()
            .await
            .unwrap()
            .account(alice)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(read_back.lock, state, "{reason:?}");
    }
    let mut tx = store.begin().await.unwrap();
    tx.save_lock_state(alice, &LockState::default(), T0)
        .await
        .unwrap();
    tx.set_password(alice, "$argon2id$new", true, T0 + Duration::days(1))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let a = store
        .read()
        .await
        .unwrap()
        .account(alice)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(a.password_hash.as_deref(), Some("$argon2id$new"));
    assert!(a.must_change_password);
    assert_eq!(a.password_changed_at, Some(T0 + Duration::days(1)));
    assert_eq!(a.lock, LockState::default());

    concurrent_failures_lock_exactly_once(store, acme).await;
}

/// Thirty wrong passwords at once under "lock after 5", each transaction doing what a
/// sign-in does: read the count, decide, write, append its audit record and, when it
/// locks, queue the owner's mail (a row that references the account). Exactly one
/// locks, the count stops at 5, every attempt is in one unbroken audit chain, and no
/// transaction deadlocks with another.
async fn concurrent_failures_lock_exactly_once(
    store: Arc<dyn latchkey_core::store::Store>,
    acme: latchkey_core::organisation::IdentityStore,
) {
    let bob = account(store.as_ref(), &acme, "bob").await;
    let mut tx = store.begin().await.unwrap();
    let policy = LockoutPolicy {
        threshold: 5,
        window: Duration::minutes(15),
        duration: LockDuration::UntilUnlocked,
    };
    tx.set_lockout_policy(acme.organisation_id, &policy)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let locked = at_once(30, |_| {
        let store = Arc::clone(&store);
        async move {
            let mut tx = store.begin().await.unwrap();
            let (a, policy) = tx.account_with_policy(bob).await.unwrap().unwrap();
            let t = apply(&policy, &a.lock, LockEvent::SignInFailed, T0);
            tx.save_lock_state(bob, &t.state, T0).await.unwrap();
            let event = AuditEvent {
                actor: Actor::Anonymous,
                subject: Some(Subject::account(&a)),
                action: Action::SignIn,
                channel: AuditChannel::Web,
                client: None,
                outcome: Outcome::Failure,
                details: serde_json::json!({ "locked": t.locked_now }),
            };
            tx.append_audit(&event, T0).await.unwrap();
            if t.locked_now {
                let keys = MasterKey::from_bytes([5; 32]).derive();
                let mail = Outgoing::new(
                    Recipient::owner_of(&a),
                    a.organisation_id,
                    Notification::AccountLocked { until: None },
                    &keys,
                    &SeededRandom::new(1),
                );
                tx.enqueue_notification(&mail, T0).await.unwrap();
            }
            tx.commit().await.unwrap();
            t.locked_now
        }
    })
    .await;
    assert_eq!(locked.iter().filter(|l| **l).count(), 1, "one lock");
    let b = store
        .read()
        .await
        .unwrap()
        .account(bob)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(b.lock.failed_attempts, 5);
    assert_eq!(b.lock.lock.map(|l| l.reason), Some(LockReason::Failures));
    assert_eq!(
        b.lock.consecutive_failures, 5,
        "failures while locked count for nothing"
    );
    let mut read = store.read().await.unwrap();
    let records = read.audit_records(0, 100).await.unwrap();
    assert_eq!(records.len(), 30, "every attempt recorded");
    verify_chain(&mut ChainCursor::default(), &records).unwrap();
    let mails = read.notifications(None, None, 100).await.unwrap();
    assert_eq!(mails.len(), 1, "the owner is told once");
}
