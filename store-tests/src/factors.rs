//! What people enrol: the question catalogue, security answers, authenticators (a step
//! used once) and one-time codes (accepted once).

use std::sync::Arc;

use latchkey_core::code::{self, Rejection};
use latchkey_core::credentials::{NewAnswer, QuestionChoice, StoredAnswer};
use latchkey_core::error::StoreError;
use latchkey_core::keys::MasterKey;
use latchkey_types::CodePurpose;
use strum::IntoEnumIterator;
use time::Duration;

use crate::{account, at_once, organisation, Opened, T0};

pub async fn factors(opened: Opened) {
    let store = opened.store;
    let (org, acme) = organisation(store.as_ref()).await;
    let alice = account(store.as_ref(), &acme, "alice").await;

    // The catalogue, in the order the questions were added; each text once.
    let mut tx = store.begin().await.unwrap();
    let school = tx
        .add_catalogue_question(org.id, "First school?", T0)
        .await
        .unwrap();
    let town = tx
        .add_catalogue_question(org.id, "Home town?", T0)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let texts: Vec<String> = store
        .read()
        .await
        .unwrap()
        .question_catalogue(org.id)
        .await
        .unwrap()
        .into_iter()
        .map(|q| q.text)
        .collect();
    assert_eq!(texts, ["First school?", "Home town?"]);
    let mut tx = store.begin().await.unwrap();
    let again = tx.add_catalogue_question(org.id, "Home town?", T0).await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
    drop(tx);

    // A question taken out of use stays in the catalogue's entries, in its place, but is
    // no longer offered; only the organisation's own questions can be switched.
    let mut tx = store.begin().await.unwrap();
    let elsewhere = tx.create_organisation("other", "Other", T0).await.unwrap();
    let theirs = tx
        .add_catalogue_question(elsewhere.id, "First pet?", T0)
        .await
        .unwrap();
    assert!(tx.set_question_active(org.id, school, false).await.unwrap());
    assert!(
        tx.set_question_active(org.id, town, true).await.unwrap(),
        "already in use: still one of the catalogue's"
    );
    assert!(!tx.set_question_active(org.id, theirs, false).await.unwrap());
    assert!(!tx
        .set_question_active(elsewhere.id, school, true)
        .await
        .unwrap());
    assert!(!tx
        .set_question_active(org.id, theirs + school + town + 1000, false)
        .await
        .unwrap());
    tx.commit().await.unwrap();
    let mut read = store.read().await.unwrap();
    let entries = |e: Vec<(latchkey_core::credentials::CatalogueQuestion, bool)>| {
        e.into_iter()
            .map(|(q, active)| (q.id, q.text, active))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        entries(read.catalogue_entries(org.id).await.unwrap()),
        [
            (school, "First school?".to_owned(), false),
            (town, "Home town?".to_owned(), true)
        ]
    );
    assert_eq!(
        entries(read.catalogue_entries(elsewhere.id).await.unwrap()),
        [(theirs, "First pet?".to_owned(), true)],
        "untouched"
    );
    let offered: Vec<i64> = read
        .question_catalogue(org.id)
        .await
        .unwrap()
        .into_iter()
        .map(|q| q.id)
        .collect();
    assert_eq!(offered, [town]);
    drop(read);
    let mut tx = store.begin().await.unwrap();
    assert!(tx.set_question_active(org.id, school, true).await.unwrap());
    tx.commit().await.unwrap();
    let mut read = store.read().await.unwrap();
    assert_eq!(
        entries(read.catalogue_entries(org.id).await.unwrap()),
        [
            (school, "First school?".to_owned(), true),
            (town, "Home town?".to_owned(), true)
        ]
    );
    assert_eq!(read.question_catalogue(org.id).await.unwrap().len(), 2);
    drop(read);

    // Answers: catalogue and custom questions, replaced as a whole.
    for round in 0..2 {
        let answers = vec![
            NewAnswer {
                question: QuestionChoice::Catalogue {
                    id: if round == 0 { school } else { town },
                },
                answer_hash: format!("hash-a{round}"),
            },
            NewAnswer {
                question: QuestionChoice::Custom {
                    text: format!("My own question {round}?"),
                },
                answer_hash: format!("hash-b{round}"),
            },
        ];
        let mut tx = store.begin().await.unwrap();
        tx.replace_security_answers(alice, &answers, T0)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let stored: Vec<(String, String)> = store
            .read()
            .await
            .unwrap()
            .security_answers(alice)
            .await
            .unwrap()
            .into_iter()
            .map(
                |StoredAnswer {
                     question,
                     answer_hash,
                     ..
                 }| (question, answer_hash),
            )
            .collect();
        let first = if round == 0 {
            "First school?"
        } else {
            "Home town?"
        };
        assert_eq!(
            stored,
            [
                (first.to_owned(), format!("hash-a{round}")),
                (
                    format!("My own question {round}?"),
                    format!("hash-b{round}")
                ),
            ]
        );
    }

    authenticator_steps_are_used_once(Arc::clone(&store), alice).await;
    codes_are_accepted_once(store, alice).await;
}

async fn authenticator_steps_are_used_once(
    store: Arc<dyn latchkey_core::store::Store>,
    alice: latchkey_core::account::AccountId,
) {
    assert_eq!(
        store
            .read()
            .await
            .unwrap()
            .totp_credential(alice)
            .await
            .unwrap(),
        None
    );
    let mut tx = store.begin().await.unwrap();
    tx.save_totp_credential(alice, b"sealed-1", T0)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let pending = store
        .read()
        .await
        .unwrap()
        .totp_credential(alice)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(pending.pending_secret.as_deref(), Some(&b"sealed-1"[..]));
    assert_eq!((pending.sealed_secret, pending.confirmed_at), (None, None));
    let mut tx = store.begin().await.unwrap();
    tx.confirm_totp(alice, 10, T0).await.unwrap();
    tx.commit().await.unwrap();
    let confirmed = store
        .read()
        .await
        .unwrap()
        .totp_credential(alice)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(confirmed.sealed_secret.as_deref(), Some(&b"sealed-1"[..]));
    assert_eq!(confirmed.pending_secret, None);
    assert_eq!(
        (confirmed.last_used_step, confirmed.confirmed_at),
        (10, Some(T0))
    );
    // A new secret waits beside the confirmed one.
    let mut tx = store.begin().await.unwrap();
    tx.save_totp_credential(alice, b"sealed-2", T0)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let both = store
        .read()
        .await
        .unwrap()
        .totp_credential(alice)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(both.sealed_secret.as_deref(), Some(&b"sealed-1"[..]));
    assert_eq!(both.pending_secret.as_deref(), Some(&b"sealed-2"[..]));

    // The same step, offered twenty times at once, is taken once; an older one never.
    let taken = at_once(20, |_| {
        let store = Arc::clone(&store);
        async move {
            let mut tx = store.begin().await.unwrap();
            let took = tx.set_totp_last_step(alice, 12).await.unwrap();
            tx.commit().await.unwrap();
            took
        }
    })
    .await;
    assert_eq!(
        taken.iter().filter(|t| **t).count(),
        1,
        "a step is used once"
    );
    let mut tx = store.begin().await.unwrap();
    assert!(!tx.set_totp_last_step(alice, 11).await.unwrap());
    tx.commit().await.unwrap();

    // An MFA reset removes the authenticator, once.
    let mut tx = store.begin().await.unwrap();
    assert!(tx.delete_totp_credential(alice).await.unwrap());
    assert!(!tx.delete_totp_credential(alice).await.unwrap(), "once");
    tx.commit().await.unwrap();
    assert_eq!(
        store
            .read()
            .await
            .unwrap()
            .totp_credential(alice)
            .await
            .unwrap(),
        None
    );
}

/// A recovery address: proposed (with its code), confirmed, replaced by a new proposal
/// while the confirmed one stays in use, removed.
async fn recovery_addresses(
    store: Arc<dyn latchkey_core::store::Store>,
    alice: latchkey_core::account::AccountId,
    code_id: i64,
) {
    use latchkey_core::account::Email;

    let home = Email::parse("address", "alice.home@example.net").unwrap();
    let other = Email::parse("address", "alice@elsewhere.example").unwrap();
    let read = |store: Arc<dyn latchkey_core::store::Store>| async move {
        store
            .read()
            .await
            .unwrap()
            .recovery_email(alice)
            .await
            .unwrap()
    };
    assert_eq!(read(Arc::clone(&store)).await, None);
    let mut tx = store.begin().await.unwrap();
    assert!(
        !tx.confirm_recovery_email(alice, T0).await.unwrap(),
        "nothing pending"
    );
    tx.propose_recovery_email(alice, &home, code_id, T0)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let r = read(Arc::clone(&store)).await.unwrap();
    assert_eq!(
        (r.address, r.pending),
        (None, Some((home.clone(), code_id)))
    );

    let later = T0 + Duration::minutes(1);
    let mut tx = store.begin().await.unwrap();
    assert!(tx.confirm_recovery_email(alice, later).await.unwrap());
    tx.commit().await.unwrap();
    let r = read(Arc::clone(&store)).await.unwrap();
    assert_eq!(
        (r.address.clone(), r.confirmed_at, r.pending),
        (Some(home.clone()), Some(later), None)
    );

    let mut tx = store.begin().await.unwrap();
    tx.propose_recovery_email(alice, &other, code_id, later)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let r = read(Arc::clone(&store)).await.unwrap();
    assert_eq!(
        (r.address, r.pending),
        (Some(home), Some((other, code_id))),
        "the confirmed address stays in use until the new one is confirmed"
    );

    let mut tx = store.begin().await.unwrap();
    tx.remove_recovery_email(alice).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(read(store).await, None);
}

async fn codes_are_accepted_once(
    store: Arc<dyn latchkey_core::store::Store>,
    alice: latchkey_core::account::AccountId,
) {
    let keys = MasterKey::from_bytes([3; 32]).derive();
    // Every purpose round-trips as the text the code's hash is bound to.
    let mut last = 0;
    for purpose in CodePurpose::iter() {
        let hash = code::hash(&keys, alice, purpose.as_str(), T0, "123456");
        let mut tx = store.begin().await.unwrap();
        last = tx
            .create_code(
                alice,
                purpose.as_str(),
                &hash,
                T0,
                T0 + Duration::minutes(10),
            )
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let stored = store
            .read()
            .await
            .unwrap()
            .code(last)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored.purpose.parse::<CodePurpose>(), Ok(purpose));
        assert_eq!((stored.account_id, stored.code_hash), (alice, hash));
        assert_eq!(
            (stored.created_at, stored.expires_at),
            (T0, T0 + Duration::minutes(10))
        );
        assert_eq!((stored.attempts, stored.used_at), (0, None));
    }
    let id = last;
    let mut tx = store.begin().await.unwrap();
    tx.count_code_attempt(id).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        store
            .read()
            .await
            .unwrap()
            .code(id)
            .await
            .unwrap()
            .unwrap()
            .attempts,
        1
    );

    recovery_addresses(Arc::clone(&store), alice, id).await;
    lock_links(Arc::clone(&store), alice).await;

    // Twenty people submit the right code at once: it works once.
    let accepted = at_once(20, |_| {
        let (store, keys) = (Arc::clone(&store), keys.clone());
        async move {
            let mut tx = store.begin().await.unwrap();
            let stored = tx.code(id).await.unwrap().unwrap();
            let ok = match code::check(&keys, &stored, "123456", 5, T0) {
                Ok(()) => tx.use_code(id, T0).await.unwrap(),
                Err(Rejection::AlreadyUsed) => false,
                Err(other) => panic!("{other:?}"),
            };
            tx.commit().await.unwrap();
            ok
        }
    })
    .await;
    assert_eq!(accepted.iter().filter(|a| **a).count(), 1, "accepted once");
    let used = store.read().await.unwrap().code(id).await.unwrap().unwrap();
    assert_eq!(used.used_at, Some(T0));
    assert_eq!(
        store.read().await.unwrap().code(id + 1000).await.unwrap(),
        None
    );
}

/// A lock mail's links: spent once (also under twenty at once), only for their purpose,
/// never after they expire; "This wasn't me" spends the account's other links.
async fn lock_links(
    store: Arc<dyn latchkey_core::store::Store>,
    alice: latchkey_core::account::AccountId,
) {
    let expires = T0 + Duration::hours(24);
    let mut tx = store.begin().await.unwrap();
    tx.create_lock_link(alice, "unlock", "hash-unlock", T0, expires)
        .await
        .unwrap();
    tx.create_lock_link(alice, "not_me", "hash-not-me", T0, expires)
        .await
        .unwrap();
    tx.create_lock_link(alice, "unlock", "hash-old", T0, T0 + Duration::minutes(1))
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let later = T0 + Duration::minutes(5);
    let mut tx = store.begin().await.unwrap();
    assert_eq!(
        tx.spend_lock_link("hash-old", "unlock", later)
            .await
            .unwrap(),
        None,
        "expired"
    );
    assert_eq!(
        tx.spend_lock_link("hash-unlock", "not_me", later)
            .await
            .unwrap(),
        None,
        "another purpose"
    );
    assert_eq!(
        tx.spend_lock_link("hash-nothing", "unlock", later)
            .await
            .unwrap(),
        None
    );
    tx.commit().await.unwrap();

    let spent = at_once(20, |_| {
        let store = Arc::clone(&store);
        async move {
            let mut tx = store.begin().await.unwrap();
            let got = tx
                .spend_lock_link("hash-unlock", "unlock", later)
                .await
                .unwrap();
            tx.commit().await.unwrap();
            got
        }
    })
    .await;
    assert_eq!(
        spent.iter().filter(|s| **s == Some(alice)).count(),
        1,
        "spent once: {spent:?}"
    );
    assert_eq!(spent.iter().filter(|s| s.is_none()).count(), 19);

    let mut tx = store.begin().await.unwrap();
    assert_eq!(
        tx.spend_lock_links_of(alice, later).await.unwrap(),
        2,
        "the not-me link and the expired one were unused"
    );
    assert_eq!(
        tx.spend_lock_link("hash-not-me", "not_me", later)
            .await
            .unwrap(),
        None
    );
    tx.commit().await.unwrap();
}
