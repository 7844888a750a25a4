//! The audit log: every field round-trips; concurrent appends leave one unbroken chain.

use std::net::IpAddr;
use std::sync::Arc;

use latchkey_core::audit::{
    verify_chain, Action, Actor, AuditChannel, AuditEvent, ChainCursor, Outcome, Subject,
};
use strum::IntoEnumIterator;

use crate::{account, at_once, organisation, Opened, T0};

pub async fn audit(opened: Opened) {
    let store = opened.store;
    let (_, acme) = organisation(store.as_ref()).await;
    let alice = account(store.as_ref(), &acme, "alice").await;
    let client: IpAddr = "2001:db8::7".parse().unwrap();

    // Sixteen appends at once, each in its own transaction, one of every action.
    let actions: Vec<Action> = Action::iter().collect();
    let channels: Vec<AuditChannel> = AuditChannel::iter().collect();
    at_once(16, |i| {
        let store = Arc::clone(&store);
        let event = AuditEvent {
            actor: if i % 2 == 0 {
                Actor::Anonymous
            } else {
                Actor::Account {
                    id: alice,
                    username: "ACME\\alice".into(),
                }
            },
            subject: Some(Subject {
                account: Some(alice),
                name: "ACME\\alice".into(),
            }),
            action: actions[i % actions.len()],
            channel: channels[i % channels.len()],
            client: (i % 3 == 0).then_some(client),
            outcome: if i % 2 == 0 {
                Outcome::Success
            } else {
                Outcome::Failure
            },
            details: serde_json::json!({ "n": i, "text": "naïve \"quoted\"" }),
        };
        async move {
            let mut tx = store.begin().await.unwrap();
            tx.append_audit(&event, T0).await.unwrap();
            tx.commit().await.unwrap();
        }
    })
    .await;
    let mut read = store.read().await.unwrap();
    let records = read.audit_records(0, 100).await.unwrap();
    let seqs: Vec<i64> = records.iter().map(|r| r.seq).collect();
    assert_eq!(seqs, (1..=16).collect::<Vec<_>>(), "no gaps, no repeats");
    let mut cursor = ChainCursor::default();
    verify_chain(&mut cursor, &records).unwrap();
    assert_eq!(cursor.checked, 16);
    for r in &records {
        assert!(r.action.parse::<Action>().is_ok(), "{}", r.action);
        assert!(r.channel.parse::<AuditChannel>().is_ok(), "{}", r.channel);
        assert!(r.outcome.parse::<Outcome>().is_ok(), "{}", r.outcome);
        assert_eq!(r.at, T0.unix_timestamp());
        assert_eq!(r.subject.as_deref(), Some("ACME\\alice"));
        let details: serde_json::Value = serde_json::from_str(&r.details).unwrap();
        assert_eq!(details["text"], "naïve \"quoted\"");
    }
    // Paging and one account's history, newest first.
    assert_eq!(read.audit_records(10, 100).await.unwrap().len(), 6);
    assert_eq!(read.audit_records(0, 5).await.unwrap().len(), 5);
    let history = read.audit_of(alice, 3).await.unwrap();
    assert_eq!(
        history.iter().map(|r| r.seq).collect::<Vec<_>>(),
        vec![16, 15, 14]
    );
}
