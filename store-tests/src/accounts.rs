//! Accounts: identity, names across identity stores, lock state, passwords — and a lock
//! decided once under concurrent failures.

use std::sync::Arc;

use latchkey_core::account::{
    search_key, Account, AccountId, AccountName, AccountStatus, Email, NewAccount, Username,
};
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
use latchkey_core::store::{AccountOrder, AccountSearch, Read};
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

    // The console names an account by its public id, and shows a person's other accounts
    // by identity store priority (not by age: the newest store comes first here).
    let mut read = store.read().await.unwrap();
    assert_eq!(
        found(
            read.account_by_public_id("public-ACME-alice")
                .await
                .unwrap()
        ),
        Some(alice)
    );
    assert_eq!(
        found(
            read.account_by_public_id("public-MAIL-alice")
                .await
                .unwrap()
        ),
        Some(mail_alice)
    );
    assert_eq!(read.account_by_public_id("no-such-id").await.unwrap(), None);
    assert_eq!(read.account_by_public_id("").await.unwrap(), None);
    drop(read);
    let mut tx = store.begin().await.unwrap();
    let legacy = tx
        .create_identity_store(org.id, "LEGACY", StoreKind::Builtin, 5, T0)
        .await
        .unwrap();
    let (legacy_alice, _) = tx
        .create_account(
            &new_account(&legacy, "alice", AccountStatus::Active),
            Some(a.person_id),
            T0,
        )
        .await
        .unwrap();
    let (other_person, _) = tx
        .create_account(
            &new_account(&legacy, "zed", AccountStatus::Active),
            None,
            T0,
        )
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut read = store.read().await.unwrap();
    let linked: Vec<_> = read
        .accounts_of_person(a.person_id)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.id)
        .collect();
    assert_eq!(
        linked,
        [legacy_alice, alice, mail_alice],
        "by store priority"
    );
    let zed = read.account(other_person).await.unwrap().unwrap();
    assert_eq!(
        read.accounts_of_person(zed.person_id).await.unwrap(),
        std::slice::from_ref(&zed)
    );
    drop(read);

    // A public id is unique.
    let mut tx = store.begin().await.unwrap();
    let mut twin = new_account(&legacy, "twin", AccountStatus::Active);
    twin.public_id = zed.public_id.clone();
    let again = tx.create_account(&twin, None, T0).await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
    drop(tx);

    // A new name and address, and a new status, round-trip; nothing else changes.
    let later = T0 + Duration::hours(3);
    let address = Email::parse("email", "Zed.Zimmer@Elsewhere.example").unwrap();
    let mut tx = store.begin().await.unwrap();
    tx.update_account(zed.id, "Zed Zimmer", &address, later)
        .await
        .unwrap();
    tx.set_account_status(zed.id, AccountStatus::Disabled, later)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut read = store.read().await.unwrap();
    let updated = read.account(zed.id).await.unwrap().unwrap();
    assert_eq!(updated.display_name, "Zed Zimmer");
    assert_eq!(updated.email.as_str(), "Zed.Zimmer@elsewhere.example");
    assert_eq!(updated.status, AccountStatus::Disabled);
    assert_eq!(
        Account {
            display_name: zed.display_name.clone(),
            email: zed.email.clone(),
            status: zed.status,
            ..updated.clone()
        },
        zed,
        "only the name, the address and the status changed"
    );
    drop(read);
    let mut tx = store.begin().await.unwrap();
    tx.set_account_status(zed.id, AccountStatus::Active, later)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut read = store.read().await.unwrap();
    assert_eq!(
        read.account(zed.id).await.unwrap().unwrap().status,
        AccountStatus::Active
    );
    assert_eq!(
        read.account(alice).await.unwrap().unwrap().display_name,
        "alice Example",
        "other accounts untouched"
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

    required_actions_profile_and_aup(store.as_ref(), &acme).await;
    concurrent_edits_see_each_other(Arc::clone(&store), &acme).await;
    concurrent_failures_lock_exactly_once(store, acme).await;
}

/// What the next sign-in must go through, the person's own profile (found by the grid
/// under its new name) and the acceptance of the AUP — each set, read back, cleared.
async fn required_actions_profile_and_aup(
    store: &dyn latchkey_core::store::Store,
    acme: &latchkey_core::organisation::IdentityStore,
) {
    use latchkey_core::account::Pending;
    let fay = account(store, acme, "fay").await;
    let read_fay = || async {
        store
            .read()
            .await
            .unwrap()
            .account(fay)
            .await
            .unwrap()
            .unwrap()
    };
    let f = read_fay().await;
    assert_eq!(f.pending, Pending::default());
    assert_eq!(f.phone, None);
    let later = T0 + Duration::days(3);
    let all = Pending {
        mfa_reset: true,
        profile: true,
        questions: true,
    };
    let address = Email::parse("email", "fay.new@acme.example").unwrap();
    let mut tx = store.begin().await.unwrap();
    tx.set_pending(fay, all, later).await.unwrap();
    tx.set_profile(fay, "Fäy Ñew", &address, Some("+44 20 7946 0000"), later)
        .await
        .unwrap();
    tx.set_aup_acceptance(fay, Some(("3", later)), later)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let f = read_fay().await;
    assert_eq!(f.pending, all);
    assert_eq!(
        (
            f.display_name.as_str(),
            f.email.as_str(),
            f.phone.as_deref()
        ),
        ("Fäy Ñew", "fay.new@acme.example", Some("+44 20 7946 0000"))
    );
    assert_eq!(
        (f.aup_version.as_deref(), f.aup_accepted_at),
        (Some("3"), Some(later))
    );
    let found = store
        .read()
        .await
        .unwrap()
        .search_accounts(&AccountSearch {
            prefix: search_key("FÄY ñ"),
            locked_at: None,
            organisation: None,
            store: None,
            status: None,
            order: AccountOrder::Username { after: None },
            limit: 10,
        })
        .await
        .unwrap();
    assert_eq!(
        found.iter().map(|a| a.id).collect::<Vec<_>>(),
        [fay],
        "the new name is searchable"
    );
    let mut tx = store.begin().await.unwrap();
    tx.set_pending(fay, Pending::default(), later)
        .await
        .unwrap();
    tx.set_aup_acceptance(fay, None, later).await.unwrap();
    tx.commit().await.unwrap();
    let f = read_fay().await;
    assert_eq!(f.pending, Pending::default());
    assert_eq!((f.aup_version, f.aup_accepted_at), (None, None));
}

/// Twenty operators' edits of one account at once, each doing what the console does:
/// find the account by its public id, decide from what it read (here: count up the
/// number in its name), write. Each must see the one before it, so none is lost — on
/// PostgreSQL the read inside a transaction holds the row until commit.
async fn concurrent_edits_see_each_other(
    store: Arc<dyn latchkey_core::store::Store>,
    acme: &latchkey_core::organisation::IdentityStore,
) {
    let eve = account(store.as_ref(), acme, "eve").await;
    let public_id = store
        .read()
        .await
        .unwrap()
        .account(eve)
        .await
        .unwrap()
        .unwrap()
        .public_id;
    at_once(20, |_| {
        let (store, public_id) = (Arc::clone(&store), public_id.clone());
        async move {
            let mut tx = store.begin().await.unwrap();
            let a = tx.account_by_public_id(&public_id).await.unwrap().unwrap();
            let edits: u32 = a
                .display_name
                .strip_prefix("Edited ")
                .map_or(0, |n| n.parse().unwrap());
            let name = format!("Edited {}", edits + 1);
            tx.update_account(a.id, &name, &a.email, T0).await.unwrap();
            tx.commit().await.unwrap();
        }
    })
    .await;
    let e = store
        .read()
        .await
        .unwrap()
        .account(eve)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(e.display_name, "Edited 20", "no edit lost");
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
                    Notification::AccountLocked {
                        until: None,
                        links: None,
                    },
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

/// How an account of [`account_search`] is locked.
#[derive(Clone, Copy)]
enum Locked {
    Never,
    /// Until unlocked, since `T0 +` minutes.
    Until(i64),
    /// Since `T0 +` minutes, for a time that runs out at `NOW +` seconds.
    For(i64, i64),
    /// Locked at `T0 +` minutes, then unlocked.
    Unlocked(i64),
}

/// What [`account_search`] runs at.
const NOW: time::OffsetDateTime = time::macros::datetime!(2026-06-02 08:00 UTC);

/// The users grid: prefix search by username, address or name (any case, literally),
/// the filters, both orders, keyset pages that together give every match once and in
/// order, and the count of locked accounts — each search compared with a plain reading
/// of the contract over the same accounts.
pub async fn account_search(opened: Opened) {
    let store = opened.store;
    let mut tx = store.begin().await.unwrap();
    let acme = tx.create_organisation("acme", "Acme", T0).await.unwrap();
    let globex = tx
        .create_organisation("globex", "Globex", T0)
        .await
        .unwrap();
    let acme_main = tx
        .create_identity_store(acme.id, "acme", StoreKind::Builtin, 10, T0)
        .await
        .unwrap();
    let acme_mail = tx
        .create_identity_store(acme.id, "mail", StoreKind::Builtin, 20, T0)
        .await
        .unwrap();
    let globex_main = tx
        .create_identity_store(globex.id, "globex", StoreKind::Builtin, 10, T0)
        .await
        .unwrap();
    tx.commit().await.unwrap();

    use AccountStatus::{Active, Disabled};
    use Locked::{For, Never, Unlocked, Until};
    let mut people = vec![
        (
            &acme_main,
            "alice",
            "Alice Adams",
            "Alice.Adams@acme.example",
            Active,
            Until(60),
        ),
        (
            &acme_mail,
            "alice",
            "Alice Mail",
            "alice@mail.example",
            Active,
            Never,
        ),
        (
            &globex_main,
            "alice",
            "Alice Globex",
            "ALICE@globex.example",
            Active,
            Until(180),
        ),
        (
            &acme_main,
            "bob_smith",
            "Bob Smith",
            "bob@acme.example",
            Active,
            For(120, 3600),
        ),
        // A temporary lock that ran out a minute ago, and one that runs out right now.
        (
            &acme_main,
            "bobxsmith",
            "Robert Xavier",
            "rx@acme.example",
            Active,
            For(150, -60),
        ),
        (
            &acme_main,
            "erin",
            "Erin Edge",
            "erin@acme.example",
            Active,
            For(170, 0),
        ),
        (
            &acme_main,
            "zoe",
            "Zoë Ünal",
            "zoe@acme.example",
            Active,
            Until(180),
        ),
        (
            &acme_main,
            "dave",
            "Dave Doe",
            "dave@acme.example",
            Active,
            Until(180),
        ),
        (
            &acme_main,
            "carol",
            "Carol Jones",
            "cjones@elsewhere.example",
            Disabled,
            Until(240),
        ),
        (
            &acme_main,
            "frank",
            "Frank Fix",
            "frank@acme.example",
            Active,
            Unlocked(30),
        ),
    ];
    let stores = [&acme_main, &acme_mail, &globex_main];
    let names = [
        "Mia Moss", "Max Moss", "Ann Ark", "Ari Ash", "Ulla Ung", "Eve East",
    ];
    let generated: Vec<(String, String, String)> = (0..36)
        .map(|i| {
            (
                format!("user{i:02}"),
                format!("{} {i}", names[i % names.len()]),
                format!("U{i:02}.Mail@Example.org"),
            )
        })
        .collect();
    for (i, (username, name, email)) in generated.iter().enumerate() {
        let minutes = i64::try_from(i).unwrap();
        let locked = match i % 4 {
            // Ties on the locked date, across stores and organisations.
            0 => Until(200 + (minutes % 3) * 10),
            1 if i % 8 == 1 => For(210, 600),
            1 => For(210, -600),
            2 if i % 3 == 0 => Unlocked(90),
            _ => Never,
        };
        let status = AccountStatus::iter().nth(i % 3).unwrap();
        people.push((
            stores[i % 3],
            username.as_str(),
            name.as_str(),
            email.as_str(),
            status,
            locked,
        ));
    }

    let mut ids = Vec::new();
    let mut tx = store.begin().await.unwrap();
    for (ids_store, username, name, email, status, locked) in &people {
        let new = NewAccount {
            public_id: format!("search-{}-{username}", ids_store.name),
            store_id: ids_store.id,
            username: Username::parse("username", username).unwrap(),
            display_name: (*name).to_owned(),
            email: Email::parse("email", email).unwrap(),
            status: *status,
            password_hash: None,
        };
        let (id, _) = tx.create_account(&new, None, T0).await.unwrap();
        let at = |minutes: i64| T0 + Duration::minutes(minutes);
        let lock = |minutes, expires_at| Lock {
            locked_at: at(minutes),
            reason: LockReason::Failures,
            expires_at,
        };
        let state = match *locked {
            Never => None,
            Until(m) => Some(LockState {
                lock: Some(lock(m, None)),
                ..LockState::default()
            }),
            For(m, s) => Some(LockState {
                lock: Some(lock(m, Some(NOW + Duration::seconds(s)))),
                ..LockState::default()
            }),
            Unlocked(m) => Some(LockState {
                last_unlock: Some(Unlock {
                    by: "helpdesk".into(),
                    at: at(m + 5),
                }),
                ..LockState::default()
            }),
        };
        if let Some(state) = state {
            tx.save_lock_state(id, &state, T0).await.unwrap();
        }
        ids.push(id);
    }
    tx.commit().await.unwrap();

    let mut read = store.read().await.unwrap();
    let mut all = Vec::new();
    for id in &ids {
        all.push(read.account(*id).await.unwrap().unwrap());
    }
    let id_of = |store_name: &str, username: &str| {
        all.iter()
            .find(|a| a.store_name == store_name && a.username.as_str() == username)
            .map(|a| a.id)
            .unwrap()
    };
    let search = |prefix: &str| AccountSearch {
        prefix: search_key(prefix),
        locked_at: None,
        organisation: None,
        store: None,
        status: None,
        order: AccountOrder::Username { after: None },
        limit: 1000,
    };
    let ids_of = |found: Vec<Account>| found.into_iter().map(|a| a.id).collect::<Vec<_>>();

    // The contract, spelled out on a few searches.
    assert_eq!(
        ids_of(read.search_accounts(&search("ALI")).await.unwrap()),
        [
            id_of("ACME", "alice"),
            id_of("MAIL", "alice"),
            id_of("GLOBEX", "alice")
        ],
        "a username, an address and a name may all match: each account once, by (username, id)"
    );
    assert_eq!(
        ids_of(read.search_accounts(&search("Alice.AD")).await.unwrap()),
        [id_of("ACME", "alice")],
        "by the address, any case"
    );
    assert_eq!(
        ids_of(read.search_accounts(&search("ROBERT X")).await.unwrap()),
        [id_of("ACME", "bobxsmith")],
        "by the name, any case"
    );
    assert_eq!(
        ids_of(read.search_accounts(&search("ZOË Ü")).await.unwrap()),
        [id_of("ACME", "zoe")],
        "beyond ASCII"
    );
    assert_eq!(
        ids_of(read.search_accounts(&search("bob_")).await.unwrap()),
        [id_of("ACME", "bob_smith")],
        "a prefix is taken literally (`_` is no wildcard)"
    );
    for nothing in ["bob%", "smith", "adams", "%", "nobody"] {
        assert_eq!(
            ids_of(read.search_accounts(&search(nothing)).await.unwrap()),
            [],
            "{nothing:?}: a prefix, not a substring nor a pattern"
        );
    }
    let found = read.search_accounts(&search("")).await.unwrap();
    assert_eq!(found, all_sorted(&all), "every account, read in full");
    let mut locked = search("");
    locked.locked_at = Some(NOW);
    locked.organisation = Some(acme.id);
    locked.order = AccountOrder::LockedDate { after: None };
    let found = ids_of(read.search_accounts(&locked).await.unwrap());
    assert_eq!(
        found[..2],
        [id_of("ACME", "carol"), id_of("MAIL", "user01")],
        "the most recently locked first"
    );
    for (store_name, gone) in [
        ("ACME", "bobxsmith"),
        ("ACME", "erin"),
        ("ACME", "frank"),
        ("MAIL", "user13"),
    ] {
        assert!(
            !found.contains(&id_of(store_name, gone)),
            "{gone}: a lock that ran out, or was undone, is no lock"
        );
    }
    assert!(
        found.contains(&id_of("ACME", "bob_smith")),
        "locked for an hour yet"
    );

    // Every combination, against the contract read plainly, in one page and in keyset
    // pages of several sizes.
    let prefixes = [
        "",
        "a",
        "ALI",
        "alice",
        "alice.",
        "Alice M",
        "u",
        "U0",
        "user1",
        "user10",
        "m",
        "ma",
        "mia moss 1",
        "e",
        "eve",
        "zoë",
        "cj",
        "bob_",
        "b",
        "nobody",
    ];
    let mut searches = 0;
    for prefix in prefixes {
        for locked_at in [None, Some(NOW)] {
            for (organisation, store_id) in [
                (None, None),
                (Some(acme.id), None),
                (Some(globex.id), None),
                (None, Some(acme_mail.id)),
                (Some(acme.id), Some(acme_main.id)),
            ] {
                for status in [None, Some(Active), Some(Disabled)] {
                    let username = AccountOrder::Username { after: None };
                    let locked_date = AccountOrder::LockedDate { after: None };
                    let orders = if locked_at.is_some() {
                        vec![username, locked_date]
                    } else {
                        vec![username]
                    };
                    for order in orders {
                        let q = AccountSearch {
                            prefix: search_key(prefix),
                            locked_at,
                            organisation,
                            store: store_id,
                            status,
                            order,
                            limit: 1000,
                        };
                        let expected = expected(&all, &q);
                        let one_page = ids_of(read.search_accounts(&q).await.unwrap());
                        assert_eq!(one_page, expected, "{q:?}");
                        for size in [1, 2, 5] {
                            let paged = pages(read.as_mut(), &q, size).await;
                            assert_eq!(paged, expected, "pages of {size}: {q:?}");
                        }
                        searches += 1;
                    }
                }
            }
        }
    }
    assert_eq!(searches, 900);

    // Sorted by locked date without the filter: only accounts with a lock on record.
    let mut q = search("");
    q.order = AccountOrder::LockedDate { after: None };
    for a in read.search_accounts(&q).await.unwrap() {
        assert!(a.lock.lock.is_some(), "{}", a.username.as_str());
    }

    // How many are locked, now and at other moments, everywhere and per organisation.
    for at in [
        NOW - Duration::hours(2),
        NOW - Duration::seconds(30),
        NOW,
        NOW + Duration::hours(2),
    ] {
        for org in [None, Some(acme.id), Some(globex.id)] {
            let counted = read.count_locked(org, at).await.unwrap();
            let plain = all
                .iter()
                .filter(|a| a.lock.is_locked(at) && org.is_none_or(|o| a.organisation_id == o))
                .count();
            assert_eq!(counted, u64::try_from(plain).unwrap(), "{org:?} at {at}");
        }
    }
    assert_eq!(read.count_locked(Some(acme.id), NOW).await.unwrap(), 15);
    drop(read);

    // A new name is what the next search finds.
    let zoe = id_of("ACME", "zoe");
    let mut tx = store.begin().await.unwrap();
    let address = Email::parse("email", "Zoe.Quinn@acme.example").unwrap();
    tx.update_account(zoe, "Zoë Quinn", &address, NOW)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut read = store.read().await.unwrap();
    assert_eq!(
        ids_of(read.search_accounts(&search("ZOË Q")).await.unwrap()),
        [zoe]
    );
    assert_eq!(
        ids_of(read.search_accounts(&search("zoe.q")).await.unwrap()),
        [zoe]
    );
    assert_eq!(
        ids_of(read.search_accounts(&search("ZOË Ü")).await.unwrap()),
        [],
        "the old name is no longer found"
    );
}

/// Accounts by (username, id).
fn all_sorted(all: &[Account]) -> Vec<Account> {
    let mut sorted = all.to_vec();
    sorted.sort_by(|a, b| (a.username.as_str(), a.id).cmp(&(b.username.as_str(), b.id)));
    sorted
}

/// What `q` should find, read plainly from its documentation.
fn expected(all: &[Account], q: &AccountSearch) -> Vec<AccountId> {
    let starts = |s: &str| s.starts_with(&q.prefix);
    let mut found: Vec<&Account> = all
        .iter()
        .filter(|a| {
            q.prefix.is_empty()
                || starts(a.username.as_str())
                || starts(&search_key(a.email.as_str()))
                || starts(&search_key(&a.display_name))
        })
        .filter(|a| q.locked_at.is_none_or(|now| a.lock.is_locked(now)))
        .filter(|a| q.organisation.is_none_or(|o| a.organisation_id == o))
        .filter(|a| q.store.is_none_or(|s| a.store_id == s))
        .filter(|a| q.status.is_none_or(|s| a.status == s))
        .collect();
    match q.order {
        AccountOrder::Username { .. } => {
            found.sort_by(|a, b| (a.username.as_str(), a.id).cmp(&(b.username.as_str(), b.id)));
        }
        AccountOrder::LockedDate { .. } => {
            found.retain(|a| a.lock.lock.is_some());
            found.sort_by_key(|a| (std::cmp::Reverse(locked_at(a)), a.id));
        }
    }
    found.into_iter().map(|a| a.id).collect()
}

fn locked_at(a: &Account) -> i64 {
    a.lock.lock.as_ref().unwrap().locked_at.unix_timestamp()
}

/// Every page of `q`, `size` at a time, each starting after the last row of the one
/// before — as the console pages.
async fn pages(read: &mut dyn Read, q: &AccountSearch, size: u32) -> Vec<AccountId> {
    let mut q = AccountSearch {
        limit: size,
        ..q.clone()
    };
    let mut out: Vec<AccountId> = Vec::new();
    for _ in 0..200 {
        let page = read.search_accounts(&q).await.unwrap();
        assert!(page.len() <= size as usize, "at most the limit");
        for a in &page {
            assert!(!out.contains(&a.id), "{} twice: {q:?}", a.id.0);
            out.push(a.id);
        }
        let Some(last) = page.last() else {
            return out;
        };
        if page.len() < size as usize {
            return out;
        }
        q.order = match q.order {
            AccountOrder::Username { .. } => AccountOrder::Username {
                after: Some((last.username.as_str().to_owned(), last.id.0)),
            },
            AccountOrder::LockedDate { .. } => AccountOrder::LockedDate {
                after: Some((locked_at(last), last.id.0)),
            },
        };
    }
    panic!("paging never ends: {q:?}");
}

/// Directory accounts (issue 18): the account Latchkey keeps for a directory account is
/// found by its store and stable id (never a DN), a stable id is one account's, and the
/// users grid's search leaves these accounts to their directory.
pub async fn directory_accounts(opened: Opened) {
    let store = opened.store;
    let (org, acme) = organisation(store.as_ref()).await;
    let alice = account(store.as_ref(), &acme, "alice").await;
    let mut tx = store.begin().await.unwrap();
    let corp = tx
        .create_identity_store(org.id, "CORP-LDAP", StoreKind::Ldap, 50, T0)
        .await
        .unwrap();
    let mut dir_account = new_account(&corp, "alice", AccountStatus::Active);
    dir_account.password_hash = None;
    let (kept, _) = tx.create_account(&dir_account, None, T0).await.unwrap();
    tx.tie_directory_account(kept, corp.id, "3f1c-uuid", T0)
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let mut read = store.read().await.unwrap();
    let found = read
        .directory_account(corp.id, "3f1c-uuid")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((found.id, found.store_name.as_str()), (kept, "CORP-LDAP"));
    assert!(read
        .directory_account(corp.id, "other-uuid")
        .await
        .unwrap()
        .is_none());
    assert!(read
        .directory_account(acme.id, "3f1c-uuid")
        .await
        .unwrap()
        .is_none());
    assert_eq!(
        read.stable_id_of(kept).await.unwrap().as_deref(),
        Some("3f1c-uuid")
    );
    assert_eq!(read.stable_id_of(alice).await.unwrap(), None);
    // The grid's search: Latchkey's own alice only.
    let search = AccountSearch {
        prefix: String::new(),
        locked_at: None,
        organisation: None,
        store: None,
        status: None,
        order: AccountOrder::Username { after: None },
        limit: 10,
    };
    let ids: Vec<AccountId> = read
        .search_accounts(&search)
        .await
        .unwrap()
        .iter()
        .map(|a| a.id)
        .collect();
    assert_eq!(ids, [alice]);
    drop(read);

    // A stable id is one account's; an account has one stable id.
    let mut tx = store.begin().await.unwrap();
    let (other, _) = tx
        .create_account(&new_account(&corp, "bob", AccountStatus::Active), None, T0)
        .await
        .unwrap();
    let again = tx
        .tie_directory_account(other, corp.id, "3f1c-uuid", T0)
        .await;
    assert!(
        matches!(again, Err(StoreError::Conflict("stable_id"))),
        "{again:?}"
    );
    drop(tx);
    let mut tx = store.begin().await.unwrap();
    let twice = tx
        .tie_directory_account(kept, corp.id, "another-uuid", T0)
        .await;
    assert!(matches!(twice, Err(StoreError::Conflict(_))), "{twice:?}");
    drop(tx);

    // Renamed in the directory: the kept account follows, found by the same stable id;
    // a name another account of the store holds is a conflict.
    let mut tx = store.begin().await.unwrap();
    let renamed = Username::parse("username", "alice.renamed").unwrap();
    tx.set_username(kept, &renamed, T0).await.unwrap();
    tx.commit().await.unwrap();
    let mut read = store.read().await.unwrap();
    let found = read
        .directory_account(corp.id, "3f1c-uuid")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.username.as_str(), "alice.renamed");
    drop(read);
    let mut tx = store.begin().await.unwrap();
    let (carol, _) = tx
        .create_account(
            &new_account(&corp, "carol", AccountStatus::Active),
            None,
            T0,
        )
        .await
        .unwrap();
    let taken = tx.set_username(carol, &renamed, T0).await;
    assert!(
        matches!(taken, Err(StoreError::Conflict("username"))),
        "{taken:?}"
    );
}
