//! Server-side sessions.

use latchkey_core::session::{Audience, SessionRecord};
use time::Duration;

use crate::{account, organisation, Opened, T0};

pub async fn sessions(opened: Opened) {
    let store = opened.store;
    let (_, acme) = organisation(store.as_ref()).await;
    let alice = account(store.as_ref(), &acme, "alice").await;
    let record = |id: &str, expires: Duration| SessionRecord {
        id_hash: id.into(),
        account_id: alice,
        audience: if id == "s3" {
            Audience::Console
        } else {
            Audience::Portal
        },
        client: Some("192.0.2.7".to_owned()),
        created_at: T0,
        last_seen_at: T0,
        expires_at: T0 + expires,
        revoked_at: None,
        device_code_id: None,
        device_authorized_at: None,
    };
    let mut tx = store.begin().await.unwrap();
    for (id, expires) in [("s1", 12), ("s2", 12), ("s3", 12), ("old", 1)] {
        tx.create_session(&record(id, Duration::hours(expires)))
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    let mut read = store.read().await.unwrap();
    assert_eq!(
        read.session("s1").await.unwrap(),
        Some(record("s1", Duration::hours(12)))
    );
    assert_eq!(
        read.session("s3").await.unwrap(),
        Some(record("s3", Duration::hours(12))),
        "a console session stays one"
    );
    assert_eq!(read.session("nope").await.unwrap(), None);
    assert_eq!(read.sessions_of(alice).await.unwrap().len(), 4);
    drop(read);

    let later = T0 + Duration::hours(2);
    let mut tx = store.begin().await.unwrap();
    tx.touch_session("s1", later).await.unwrap();
    assert!(tx.revoke_session("s2", later).await.unwrap());
    assert!(!tx.revoke_session("s2", later).await.unwrap(), "once");
    tx.commit().await.unwrap();
    let mut read = store.read().await.unwrap();
    let s1 = read.session("s1").await.unwrap().unwrap();
    assert_eq!(s1.last_seen_at, later);
    assert_eq!(
        read.session("s2").await.unwrap().unwrap().revoked_at,
        Some(later)
    );
    let live: Vec<String> = read
        .sessions_of(alice)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.id_hash)
        .collect();
    assert_eq!(live.len(), 3);
    assert!(!live.contains(&"s2".to_owned()));
    drop(read);

    // Revoking every session counts those that were still live: not the expired one.
    let mut tx = store.begin().await.unwrap();
    assert_eq!(tx.revoke_sessions_of(alice, later).await.unwrap(), 2);
    tx.commit().await.unwrap();
    let mut read = store.read().await.unwrap();
    assert_eq!(
        read.session("s3").await.unwrap().unwrap().revoked_at,
        Some(later)
    );
    drop(read);

    // Device authorization: the code mailed at this sign-in, then when it was typed;
    // other sessions keep neither.
    let mut tx = store.begin().await.unwrap();
    let code = tx
        .create_code(alice, "device_authorization", "hash", T0, later)
        .await
        .unwrap();
    tx.set_device_code("s1", code).await.unwrap();
    tx.commit().await.unwrap();
    let s1 = store.read().await.unwrap().session("s1").await.unwrap();
    assert_eq!(
        s1.map(|s| (s.device_code_id, s.device_authorized_at)),
        Some((Some(code), None))
    );
    let mut tx = store.begin().await.unwrap();
    tx.authorize_device("s1", later).await.unwrap();
    tx.commit().await.unwrap();
    let mut read = store.read().await.unwrap();
    let s1 = read.session("s1").await.unwrap().unwrap();
    assert_eq!(
        (s1.device_code_id, s1.device_authorized_at),
        (Some(code), Some(later))
    );
    let s3 = read.session("s3").await.unwrap().unwrap();
    assert_eq!((s3.device_code_id, s3.device_authorized_at), (None, None));
}
