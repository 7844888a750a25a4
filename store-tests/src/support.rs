//! Support requests: a request reads back field for field with its first event; the
//! queue lists the suspicious first, then the oldest, of the chosen statuses and
//! organisation; events move the request's status (resolution stamps it, reopening
//! clears the stamp); the open request of an account and origin is found until it is
//! resolved; self-service unlocks are counted from a moment; the cap reads back and is
//! replaced.

use latchkey_core::organisation::OrganisationId;
use latchkey_core::support::{NewRequest, RequestEvent};
use latchkey_types::support::{RequestOrigin, RequestStatus, SelfUnlockCap};
use time::Duration;

use crate::{account, organisation, Opened, T0};

pub async fn support(opened: Opened) {
    let store = opened.store;
    let (org, ids) = organisation(store.as_ref()).await;
    let ann = account(store.as_ref(), &ids, "ann").await;
    let new = |origin, suspicious, minutes: i64, account| NewRequest {
        organisation: org.id,
        origin,
        suspicious,
        full_name: "Ann Example".into(),
        email: "ann@example.org".into(),
        account,
        description: "<b>locked</b>\nsince Monday".into(),
        client: Some("192.0.2.7".into()),
        created_at: T0 + Duration::minutes(minutes),
    };
    let mut tx = store.begin().await.unwrap();
    let form = tx
        .create_support_request(&new(RequestOrigin::Form, false, 0, None))
        .await
        .unwrap();
    let capped = tx
        .create_support_request(&new(RequestOrigin::SelfUnlockCap, false, 5, Some(ann)))
        .await
        .unwrap();
    let not_me = tx
        .create_support_request(&new(RequestOrigin::NotMe, true, 10, Some(ann)))
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let mut read = store.read().await.unwrap();
    let r = read.support_request(capped).await.unwrap().unwrap();
    assert_eq!(r.id, capped);
    assert_eq!(r.organisation, org.id);
    assert_eq!(r.origin, RequestOrigin::SelfUnlockCap);
    assert_eq!(r.status, RequestStatus::New);
    assert!(!r.suspicious);
    assert_eq!(r.account, Some(ann));
    assert_eq!(r.description, "<b>locked</b>\nsince Monday");
    assert_eq!(r.client.as_deref(), Some("192.0.2.7"));
    assert_eq!(r.created_at, T0 + Duration::minutes(5));
    assert_eq!(r.resolved_at, None);
    let first = read.support_events(capped).await.unwrap();
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].status, RequestStatus::New);
    assert_eq!(
        first[0].message.as_deref(),
        Some("<b>locked</b>\nsince Monday")
    );
    assert!(read.support_request(9_999).await.unwrap().is_none());

    let open = [RequestStatus::New, RequestStatus::InProgress];
    let ids_of = |rs: Vec<latchkey_core::support::SupportRequest>| {
        rs.into_iter().map(|r| r.id).collect::<Vec<_>>()
    };
    assert_eq!(
        ids_of(read.support_queue(Some(org.id), &open, 10).await.unwrap()),
        [not_me, form, capped],
        "suspicious first, then the oldest"
    );
    assert_eq!(
        ids_of(read.support_queue(None, &open, 2).await.unwrap()),
        [not_me, form]
    );
    assert!(read
        .support_queue(Some(OrganisationId(org.id.0 + 1000)), &open, 10)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        read.open_request_of(ann, RequestOrigin::SelfUnlockCap)
            .await
            .unwrap(),
        Some(capped)
    );
    assert_eq!(
        read.open_requests_about(ann).await.unwrap(),
        [capped, not_me]
    );
    drop(read);

    // Resolved: out of the open lists, stamped; reopened: the stamp goes.
    let event = |status, minutes| RequestEvent {
        at: T0 + Duration::minutes(minutes),
        operator: Some(ann),
        by_name: Some("ACME\\ann".into()),
        status,
        message: Some("done".into()),
        emailed: true,
    };
    let mut tx = store.begin().await.unwrap();
    tx.record_support_event(capped, &event(RequestStatus::Resolved, 30))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut read = store.read().await.unwrap();
    let r = read.support_request(capped).await.unwrap().unwrap();
    assert_eq!(r.status, RequestStatus::Resolved);
    assert_eq!(r.resolved_at, Some(T0 + Duration::minutes(30)));
    assert_eq!(r.updated_at, T0 + Duration::minutes(30));
    let events = read.support_events(capped).await.unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!(events[1], event(RequestStatus::Resolved, 30));
    assert_eq!(
        read.open_request_of(ann, RequestOrigin::SelfUnlockCap)
            .await
            .unwrap(),
        None
    );
    let counts = read.support_counts(Some(org.id)).await.unwrap();
    assert!(counts.contains(&(RequestStatus::New, 2)), "{counts:?}");
    assert!(counts.contains(&(RequestStatus::Resolved, 1)), "{counts:?}");
    drop(read);
    let mut tx = store.begin().await.unwrap();
    tx.record_support_event(capped, &event(RequestStatus::InProgress, 40))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let r = store
        .read()
        .await
        .unwrap()
        .support_request(capped)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((r.status, r.resolved_at), (RequestStatus::InProgress, None));

    // Self-service unlocks, counted from a moment; the cap.
    let mut tx = store.begin().await.unwrap();
    for minutes in [0, 60, 120] {
        tx.record_self_unlock(ann, T0 + Duration::minutes(minutes))
            .await
            .unwrap();
    }
    assert_eq!(tx.self_unlock_cap(org.id).await.unwrap(), None);
    tx.set_self_unlock_cap(
        org.id,
        SelfUnlockCap {
            max_unlocks: 5,
            period_hours: 12,
        },
        T0,
    )
    .await
    .unwrap();
    tx.set_self_unlock_cap(
        org.id,
        SelfUnlockCap {
            max_unlocks: 2,
            period_hours: 48,
        },
        T0,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let mut read = store.read().await.unwrap();
    assert_eq!(read.self_unlocks_since(ann, T0).await.unwrap(), 3);
    assert_eq!(
        read.self_unlocks_since(ann, T0 + Duration::minutes(60))
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        read.self_unlock_cap(org.id).await.unwrap(),
        Some(SelfUnlockCap {
            max_unlocks: 2,
            period_hours: 48
        })
    );
}
