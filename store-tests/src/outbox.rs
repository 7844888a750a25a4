//! The outbox: what goes in comes out (its code only to a claim), claims are exclusive
//! and lapse, outcomes are recorded only by the claim that holds the row, and a dropped
//! transaction takes its mail and its audit record with it.

use std::collections::HashSet;
use std::sync::Arc;

use latchkey_core::account::Email;
use latchkey_core::audit::{Action, Actor, AuditChannel, AuditEvent, Outcome};
use latchkey_core::keys::MasterKey;
use latchkey_core::lockout::{Lock, LockReason, LockState};
use latchkey_core::organisation::OrganisationId;
use latchkey_core::outbox::{
    examples, Claim, DeliveryResult, DeliveryStatus, Notification, NotificationId, Outgoing,
    Recipient,
};
use latchkey_core::random::SeededRandom;
use latchkey_core::store::Store;
use time::Duration;

use crate::{account, at_once, organisation, Opened, T0};

fn to() -> Recipient {
    Recipient {
        email: Email::parse("email", "bob@acme.example").unwrap(),
        name: "Bob".into(),
        account_id: None,
        username: Some("ACME\\bob".into()),
    }
}

async fn enqueue(store: &dyn Store, org: OrganisationId, n: Notification) -> NotificationId {
    let keys = MasterKey::from_bytes([5; 32]).derive();
    let mail = Outgoing::new(to(), org, n, &keys, &SeededRandom::new(1));
    let mut tx = store.begin().await.unwrap();
    let id = tx.enqueue_notification(&mail, T0).await.unwrap();
    tx.commit().await.unwrap();
    id
}

async fn claim(
    store: &dyn Store,
    token: &str,
    at: time::OffsetDateTime,
    limit: u32,
) -> Vec<NotificationId> {
    let claim = Claim {
        token: token.into(),
        until: at + Duration::minutes(5),
    };
    let mut tx = store.begin().await.unwrap();
    let rows = tx.claim_notifications(&claim, at, limit).await.unwrap();
    tx.commit().await.unwrap();
    rows.iter().map(|r| r.id).collect()
}

pub async fn outbox(opened: Opened) {
    let store = opened.store;
    let (org, acme) = organisation(store.as_ref()).await;

    // Every kind of mail round-trips; a listing never carries a code, a claim does.
    let mut ids = Vec::new();
    for n in examples() {
        ids.push((enqueue(store.as_ref(), org.id, n.clone()).await, n));
    }
    let mut read = store.read().await.unwrap();
    let listed = read.notifications(None, None, 100).await.unwrap();
    assert_eq!(listed.len(), ids.len());
    for (id, n) in &ids {
        let row = listed.iter().find(|r| r.id == *id).unwrap();
        assert_eq!(row.notification.kind(), n.kind());
        assert_eq!(row.holds_secret, n.code().is_some());
        assert_eq!(row.sealed_code, None, "a listing never reads the code");
        assert_eq!(row.status, DeliveryStatus::Pending);
        assert_eq!((row.recipient.clone(), row.organisation_id), (to(), org.id));
        assert_eq!(row.organisation_name, "Acme");
        let expected = match n.code() {
            Some(_) => n.clone().with_code(Default::default()),
            None => n.clone(),
        };
        assert_eq!(row.notification, expected);
    }
    assert!(read
        .notifications(Some(OrganisationId(org.id.0 + 1)), None, 100)
        .await
        .unwrap()
        .is_empty());
    // The console names a mail by its Message-ID's local part: one row, never its code.
    let mut keys = HashSet::new();
    for row in &listed {
        assert!(keys.insert(row.message_key.clone()), "keys are unique");
        let found = read
            .notification_by_key(&row.message_key)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(&found, row);
        assert_eq!(found.sealed_code, None);
    }
    assert_eq!(read.notification_by_key("no-such-key").await.unwrap(), None);
    assert_eq!(read.notification_by_key("").await.unwrap(), None);
    drop(read);

    let claimed = claim(store.as_ref(), "first", T0, 100).await;
    assert_eq!(claimed.len(), ids.len());
    let mut tx = store.begin().await.unwrap();
    let with_code = tx.notification(ids[7].0).await.unwrap().unwrap();
    assert!(with_code.holds_secret);
    drop(tx);

    // Outcomes: a retry only by the claim that holds the row; sent and failed wipe the
    // code; a failed mail is re-queued only if it did not carry a code.
    let first = Claim {
        token: "first".into(),
        until: T0 + Duration::minutes(5),
    };
    let other = Claim {
        token: "other".into(),
        until: T0 + Duration::minutes(5),
    };
    let retry = DeliveryResult::Retry {
        at: T0 + Duration::minutes(1),
        error: "busy".into(),
    };
    let failed = DeliveryResult::Failed {
        error: "rejected".into(),
    };
    let mut tx = store.begin().await.unwrap();
    assert!(!tx
        .record_delivery(ids[0].0, &other, &retry, T0)
        .await
        .unwrap());
    assert!(tx
        .record_delivery(ids[0].0, &first, &retry, T0)
        .await
        .unwrap());
    assert!(
        tx.record_delivery(ids[1].0, &other, &DeliveryResult::Sent, T0)
            .await
            .unwrap(),
        "sent is recorded whoever holds the row"
    );
    assert!(tx
        .record_delivery(ids[7].0, &first, &failed, T0)
        .await
        .unwrap());
    assert!(tx
        .record_delivery(ids[2].0, &first, &failed, T0)
        .await
        .unwrap());
    assert!(
        !tx.requeue_notification(ids[7].0, T0).await.unwrap(),
        "its code is gone"
    );
    assert!(tx.requeue_notification(ids[2].0, T0).await.unwrap());
    assert!(
        !tx.requeue_notification(ids[1].0, T0).await.unwrap(),
        "only failed mail"
    );
    tx.commit().await.unwrap();
    let mut read = store.read().await.unwrap();
    let row = |rows: &[latchkey_core::outbox::OutboxEntry], id| {
        rows.iter().find(|r| r.id == id).cloned().unwrap()
    };
    let rows = read.notifications(None, None, 100).await.unwrap();
    assert_eq!(
        row(&rows, ids[0].0).next_attempt_at,
        T0 + Duration::minutes(1)
    );
    assert_eq!(row(&rows, ids[0].0).last_error.as_deref(), Some("busy"));
    assert_eq!(row(&rows, ids[1].0).status, DeliveryStatus::Sent);
    assert_eq!(row(&rows, ids[1].0).sent_at, Some(T0));
    assert_eq!(row(&rows, ids[7].0).status, DeliveryStatus::Failed);
    assert!(!row(&rows, ids[7].0).holds_secret, "wiped");
    assert_eq!(row(&rows, ids[2].0).status, DeliveryStatus::Pending);
    assert_eq!(row(&rows, ids[2].0).attempts, 0, "a fresh count");
    let failed_only = read
        .notifications(None, Some(DeliveryStatus::Failed), 100)
        .await
        .unwrap();
    assert_eq!(
        failed_only.iter().map(|r| r.id).collect::<Vec<_>>(),
        vec![ids[7].0]
    );
    // The depth by status agrees with the listing, every status named.
    let counts = read.outbox_counts().await.unwrap();
    let listed = |status| rows.iter().filter(|r| r.status == status).count() as u64;
    assert_eq!(
        counts,
        vec![
            (DeliveryStatus::Pending, listed(DeliveryStatus::Pending)),
            (DeliveryStatus::Sent, listed(DeliveryStatus::Sent)),
            (DeliveryStatus::Failed, 1),
        ]
    );
    assert!(listed(DeliveryStatus::Sent) >= 1 && listed(DeliveryStatus::Pending) >= 1);
    drop(read);

    claims_lapse_and_can_be_handed_back(Arc::clone(&store), org.id).await;
    concurrent_claims_never_share_a_row(Arc::clone(&store), org.id).await;
    dropped_transactions_leave_nothing(store, acme).await;
}

async fn claims_lapse_and_can_be_handed_back(store: Arc<dyn Store>, org: OrganisationId) {
    let later = T0 + Duration::hours(1);
    let id = enqueue(
        store.as_ref(),
        org,
        Notification::AccountLocked {
            until: None,
            links: None,
        },
    )
    .await;
    let mine: Vec<NotificationId> = claim(store.as_ref(), "crashed", later, 100).await;
    assert!(mine.contains(&id));
    assert!(
        claim(store.as_ref(), "second", later, 100).await.is_empty(),
        "held"
    );
    let lapsed = claim(store.as_ref(), "second", later + Duration::minutes(5), 100).await;
    assert!(lapsed.contains(&id), "a claim lapses");
    let mut tx = store.begin().await.unwrap();
    let handed = tx
        .release_notifications(&Claim {
            token: "second".into(),
            until: later,
        })
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(handed, u64::try_from(lapsed.len()).unwrap());
    let rows = store
        .read()
        .await
        .unwrap()
        .notifications(None, None, 1000)
        .await
        .unwrap();
    let row = rows.iter().find(|r| r.id == id).unwrap();
    assert_eq!(
        row.attempts, 1,
        "the crashed claim's attempt counts, the released one not"
    );
    let again = claim(store.as_ref(), "third", later + Duration::minutes(5), 100).await;
    assert!(again.contains(&id), "handed back at once");
    let mut tx = store.begin().await.unwrap();
    for id in again {
        let third = Claim {
            token: "third".into(),
            until: later,
        };
        tx.record_delivery(id, &third, &DeliveryResult::Sent, later)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
}

async fn concurrent_claims_never_share_a_row(store: Arc<dyn Store>, org: OrganisationId) {
    let at = T0 + Duration::days(1);
    let mut queued = HashSet::new();
    for _ in 0..60 {
        queued.insert(
            enqueue(
                store.as_ref(),
                org,
                Notification::AccountLocked {
                    until: None,
                    links: None,
                },
            )
            .await,
        );
    }
    let taken = at_once(6, |worker| {
        let store = Arc::clone(&store);
        async move {
            let mut mine = Vec::new();
            loop {
                let batch = claim(store.as_ref(), &format!("worker-{worker}"), at, 7).await;
                if batch.is_empty() {
                    return mine;
                }
                let claim = Claim {
                    token: format!("worker-{worker}"),
                    until: at + Duration::minutes(5),
                };
                let mut tx = store.begin().await.unwrap();
                for id in &batch {
                    assert!(tx
                        .record_delivery(*id, &claim, &DeliveryResult::Sent, at)
                        .await
                        .unwrap());
                }
                tx.commit().await.unwrap();
                mine.extend(batch);
            }
        }
    })
    .await;
    let all: Vec<NotificationId> = taken.into_iter().flatten().collect();
    let distinct: HashSet<NotificationId> = all.iter().copied().collect();
    assert_eq!(all.len(), distinct.len(), "no row claimed twice");
    assert!(queued.is_subset(&distinct), "every row claimed");
}

async fn dropped_transactions_leave_nothing(
    store: Arc<dyn Store>,
    acme: latchkey_core::organisation::IdentityStore,
) {
    let carol = account(store.as_ref(), &acme, "carol").await;
    let mut read = store.read().await.unwrap();
    let mails = read.notifications(None, None, 10_000).await.unwrap().len();
    let records = read.audit_records(0, 10_000).await.unwrap().len();
    drop(read);
    let keys = MasterKey::from_bytes([5; 32]).derive();
    {
        let mut tx = store.begin().await.unwrap();
        let locked = LockState {
            lock: Some(Lock {
                locked_at: T0,
                reason: LockReason::Administrative,
                expires_at: None,
            }),
            ..LockState::default()
        };
        tx.save_lock_state(carol, &locked, T0).await.unwrap();
        let mail = Outgoing::new(
            to(),
            acme.organisation_id,
            Notification::AccountLocked {
                until: None,
                links: None,
            },
            &keys,
            &SeededRandom::new(2),
        );
        tx.enqueue_notification(&mail, T0).await.unwrap();
        let event = AuditEvent {
            actor: Actor::System("test"),
            subject: None,
            action: Action::Lock,
            channel: AuditChannel::System,
            client: None,
            outcome: Outcome::Success,
            details: serde_json::json!({}),
        };
        tx.append_audit(&event, T0).await.unwrap();
        // Dropped without commit.
    }
    let mut read = store.read().await.unwrap();
    assert_eq!(
        read.notifications(None, None, 10_000).await.unwrap().len(),
        mails
    );
    assert_eq!(read.audit_records(0, 10_000).await.unwrap().len(), records);
    assert_eq!(
        read.account(carol).await.unwrap().unwrap().lock,
        LockState::default()
    );
}
