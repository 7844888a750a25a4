//! The helpdesk's records: each role's mode reads back and is replaced by a second set;
//! a caller check reads back field for field (its prompt and private state as JSON);
//! the passed check an unlock may cite is this operator's, for this person, decided since
//! the given moment, and the latest of them; concurrent answers to one check are taken
//! one after the other (none is lost).

use std::sync::Arc;

use latchkey_core::account::AccountId;
use latchkey_core::authz::Role;
use latchkey_core::caller_check::{CallerCheck, CheckState, HelpdeskMode};
use latchkey_core::organisation::{IdentityStore, Organisation};
use latchkey_core::store::Store;
use latchkey_types::{FactorKind, Prompt};
use serde_json::json;
use time::Duration;

use crate::{account, at_once, organisation, Opened, T0};

pub async fn helpdesk(opened: Opened) {
    let store = opened.store;
    let (org, ids) = organisation(store.as_ref()).await;
    modes_read_back_and_are_replaced(store.as_ref(), &org).await;
    checks_read_back_and_the_citable_one_is_found(store.as_ref(), &ids).await;
    concurrent_answers_to_one_check_are_serialised(Arc::clone(&store), &ids).await;
    accounts_are_linked_and_unlinked(store.as_ref(), &org, &ids).await;
}

/// Linked accounts: `set_person` moves an account to a person (its accounts then list
/// it) or to a new person of the same organisation.
async fn accounts_are_linked_and_unlinked(
    store: &dyn Store,
    org: &Organisation,
    ids: &IdentityStore,
) {
    let mut tx = store.begin().await.unwrap();
    let mail = tx
        .create_identity_store(
            org.id,
            "acme-mail",
            latchkey_core::organisation::StoreKind::Builtin,
            20,
            T0,
        )
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let main = account(store, ids, "lin").await;
    let other = account(store, &mail, "lin").await;
    let person_of = |id| async move {
        store
            .read()
            .await
            .unwrap()
            .account(id)
            .await
            .unwrap()
            .unwrap()
            .person_id
    };
    let person = person_of(main).await;
    assert_ne!(person_of(other).await, person, "created apart");
    let mut tx = store.begin().await.unwrap();
    assert_eq!(
        tx.set_person(other, Some(person), T0).await.unwrap(),
        person
    );
    tx.commit().await.unwrap();
    let mut linked: Vec<_> = store
        .read()
        .await
        .unwrap()
        .accounts_of_person(person)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.id)
        .collect();
    linked.sort();
    assert_eq!(linked, [main, other]);
    let mut tx = store.begin().await.unwrap();
    let fresh = tx.set_person(other, None, T0).await.unwrap();
    tx.commit().await.unwrap();
    assert_ne!(fresh, person);
    assert_eq!(person_of(other).await, fresh);
    let alone = store
        .read()
        .await
        .unwrap()
        .accounts_of_person(person)
        .await
        .unwrap();
    assert_eq!(alone.len(), 1);
    assert_eq!(alone[0].id, main);
}

async fn modes_read_back_and_are_replaced(store: &dyn Store, org: &Organisation) {
    assert!(store
        .read()
        .await
        .unwrap()
        .helpdesk_modes(org.id)
        .await
        .unwrap()
        .is_empty());
    let mut tx = store.begin().await.unwrap();
    tx.set_helpdesk_mode(
        org.id,
        Role::HelpdeskOperator,
        HelpdeskMode::Unrestricted,
        T0,
    )
    .await
    .unwrap();
    tx.set_helpdesk_mode(
        org.id,
        Role::LocalAdministrator,
        HelpdeskMode::Restricted,
        T0,
    )
    .await
    .unwrap();
    tx.set_helpdesk_mode(org.id, Role::HelpdeskOperator, HelpdeskMode::Restricted, T0)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut modes = store
        .read()
        .await
        .unwrap()
        .helpdesk_modes(org.id)
        .await
        .unwrap();
    modes.sort_by_key(|(role, _)| *role);
    assert_eq!(
        modes,
        [
            (Role::LocalAdministrator, HelpdeskMode::Restricted),
            (Role::HelpdeskOperator, HelpdeskMode::Restricted),
        ]
    );
}

fn check(public_id: &str, operator: AccountId, account: AccountId, person: i64) -> CallerCheck {
    CallerCheck {
        public_id: public_id.into(),
        operator,
        account,
        person: latchkey_core::account::PersonId(person),
        factor: FactorKind::SecurityQuestions,
        prompt: Prompt::SecurityQuestions {
            questions: vec!["Où êtes-vous né ?".into(), "First job?".into()],
        },
        kept: json!({ "real": { "answer_ids": [3, 9] } }),
        state: CheckState::Asking,
        attempts: 0,
        created_at: T0,
        decided_at: None,
    }
}

async fn checks_read_back_and_the_citable_one_is_found(store: &dyn Store, ids: &IdentityStore) {
    let olive = account(store, ids, "olive").await;
    let oscar = account(store, ids, "oscar").await;
    let pat = account(store, ids, "pat").await;
    let person = store
        .read()
        .await
        .unwrap()
        .account(pat)
        .await
        .unwrap()
        .unwrap()
        .person_id;
    let mut asked = check("check-1", olive, pat, person.0);
    let mut tx = store.begin().await.unwrap();
    tx.create_caller_check(&asked).await.unwrap();
    tx.commit().await.unwrap();
    let mut read = store.read().await.unwrap();
    assert_eq!(
        read.caller_check("check-1").await.unwrap(),
        Some(asked.clone())
    );
    assert_eq!(read.caller_check("no-such-check").await.unwrap(), None);
    assert_eq!(
        read.passed_caller_check(olive, person, T0).await.unwrap(),
        None,
        "not passed"
    );
    drop(read);

    asked.state = CheckState::Passed;
    asked.attempts = 2;
    asked.decided_at = Some(T0 + Duration::minutes(2));
    let mut later = check("check-2", olive, pat, person.0);
    later.state = CheckState::Passed;
    later.decided_at = Some(T0 + Duration::minutes(3));
    let mut failed = check("check-3", olive, pat, person.0);
    failed.state = CheckState::Failed;
    failed.decided_at = Some(T0 + Duration::minutes(4));
    let mut tx = store.begin().await.unwrap();
    tx.save_caller_check(&asked).await.unwrap();
    tx.create_caller_check(&later).await.unwrap();
    tx.create_caller_check(&failed).await.unwrap();
    tx.commit().await.unwrap();
    let mut read = store.read().await.unwrap();
    assert_eq!(
        read.caller_check("check-1").await.unwrap(),
        Some(asked.clone())
    );
    // The latest passed one, never a failed one.
    assert_eq!(
        read.passed_caller_check(olive, person, T0).await.unwrap(),
        Some(later.clone())
    );
    // Decided before `since`: too old to cite.
    let since = T0 + Duration::minutes(3) + Duration::seconds(1);
    assert_eq!(
        read.passed_caller_check(olive, person, since)
            .await
            .unwrap(),
        None
    );
    // Another operator's check is not this one's.
    assert_eq!(
        read.passed_caller_check(oscar, person, T0).await.unwrap(),
        None
    );
    // Another person: nothing.
    let other = read.account(olive).await.unwrap().unwrap().person_id;
    assert_eq!(
        read.passed_caller_check(olive, other, T0).await.unwrap(),
        None
    );
}

async fn concurrent_answers_to_one_check_are_serialised(
    store: Arc<dyn Store>,
    ids: &IdentityStore,
) {
    let olive = account(store.as_ref(), ids, "olive2").await;
    let pat = account(store.as_ref(), ids, "pat2").await;
    let person = store
        .read()
        .await
        .unwrap()
        .account(pat)
        .await
        .unwrap()
        .unwrap()
        .person_id;
    let mut tx = store.begin().await.unwrap();
    tx.create_caller_check(&check("busy", olive, pat, person.0))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    const N: usize = 12;
    at_once(N, |_| {
        let store = Arc::clone(&store);
        async move {
            let mut tx = store.begin().await.unwrap();
            let mut c = tx.caller_check("busy").await.unwrap().unwrap();
            tokio::task::yield_now().await;
            c.attempts += 1;
            tx.save_caller_check(&c).await.unwrap();
            tx.commit().await.unwrap();
        }
    })
    .await;
    let c = store
        .read()
        .await
        .unwrap()
        .caller_check("busy")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(c.attempts, N as u32, "every answer counted");
}
