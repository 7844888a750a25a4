//! The audit log: every field round-trips; concurrent appends leave one unbroken chain.

use std::net::IpAddr;
use std::sync::Arc;

use latchkey_core::account::AccountId;
use latchkey_core::audit::{
    verify_chain, Action, Actor, AuditChannel, AuditEvent, ChainCursor, Operator, Outcome, Subject,
};
use latchkey_core::organisation::{OrganisationId, StoreKind};
use latchkey_core::store::{AuditCount, AuditSearch, Read};
use latchkey_types::Role;
use strum::IntoEnumIterator;
use time::Duration;

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

/// One record of [`audit_queries`]: seconds after `T0`, actor, subject, action, channel,
/// client, outcome.
type Row = (
    i64,
    Actor,
    Option<Subject>,
    Action,
    AuditChannel,
    Option<&'static str>,
    Outcome,
);

/// The history's queries: filters by organisation, actor and subject (part of the text,
/// any case, literally), action, channel, outcome and time (`from` included, `to` not),
/// pages by `before`, newest first; the counts per period and the busiest clients.
pub async fn audit_queries(opened: Opened) {
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
    let alice = account(store.as_ref(), &acme_ids, "alice").await;
    let bob = account(store.as_ref(), &acme_ids, "bob_smith").await;
    let lena = account(store.as_ref(), &acme_ids, "lena").await;
    let gus = account(store.as_ref(), &globex_ids, "gus").await;
    let about = |id, name: &str| {
        Some(Subject {
            account: Some(id),
            name: name.into(),
        })
    };
    let operator = |id, name: &str, org| {
        Actor::Operator(Operator {
            account: id,
            username: name.into(),
            organisation: org,
            roles: vec![Role::HelpdeskOperator],
        })
    };
    let (a, g) = ("ACME\\alice", "GLOBEX\\gus");
    let h = 3600;
    use Action::{Lock, SignIn, Unlock};
    use AuditChannel::{Console, Desktop, Mobile, System, Web};
    use Outcome::{Failure, Success};
    let rows: Vec<Row> = vec![
        (
            0,
            Actor::Anonymous,
            about(alice, a),
            SignIn,
            Web,
            Some("192.0.2.1"),
            Failure,
        ),
        (
            10,
            Actor::Anonymous,
            about(alice, a),
            SignIn,
            Web,
            Some("192.0.2.1"),
            Failure,
        ),
        (
            20,
            Actor::Anonymous,
            about(alice, a),
            SignIn,
            Mobile,
            Some("192.0.2.2"),
            Failure,
        ),
        (
            30,
            Actor::System("lockout"),
            about(alice, a),
            Lock,
            System,
            None,
            Success,
        ),
        (
            40,
            Actor::Anonymous,
            about(alice, a),
            SignIn,
            Web,
            Some("192.0.2.1"),
            Failure,
        ),
        (
            h,
            operator(lena, "ACME\\lena", acme.id),
            about(alice, a),
            Unlock,
            Console,
            Some("198.51.100.9"),
            Success,
        ),
        (
            h + 100,
            Actor::Account {
                id: bob,
                username: "ACME\\bob_smith".into(),
            },
            about(bob, "ACME\\bob_smith"),
            Unlock,
            Web,
            Some("192.0.2.3"),
            Success,
        ),
        (
            2 * h,
            Actor::Anonymous,
            about(gus, g),
            SignIn,
            Desktop,
            Some("192.0.2.1"),
            Failure,
        ),
        (
            2 * h + 5,
            Actor::Anonymous,
            Some(Subject {
                account: None,
                name: "nobody".into(),
            }),
            SignIn,
            Web,
            Some("203.0.113.5"),
            Failure,
        ),
        (
            2 * h + 6,
            Actor::Anonymous,
            about(gus, g),
            SignIn,
            Web,
            Some("192.0.2.7"),
            Success,
        ),
        (
            3 * h,
            operator(gus, g, globex.id),
            about(gus, g),
            Unlock,
            Console,
            Some("192.0.2.1"),
            Success,
        ),
        (
            25 * h,
            Actor::System("lockout"),
            about(bob, "ACME\\bob_smith"),
            Lock,
            System,
            None,
            Success,
        ),
        (
            25 * h + 1,
            Actor::Anonymous,
            about(alice, a),
            SignIn,
            Web,
            Some("192.0.2.2"),
            Failure,
        ),
        (
            25 * h + 2,
            Actor::Anonymous,
            about(alice, a),
            SignIn,
            Web,
            Some("192.0.2.2"),
            Failure,
        ),
        // An operator of one organisation acting on an account of another.
        (
            25 * h + 3,
            operator(lena, "ACME\\lena", acme.id),
            about(gus, g),
            Unlock,
            Console,
            Some("198.51.100.9"),
            Success,
        ),
    ];
    let mut tx = store.begin().await.unwrap();
    for (at, actor, subject, action, channel, client, outcome) in &rows {
        let event = AuditEvent {
            actor: actor.clone(),
            subject: subject.clone(),
            action: *action,
            channel: *channel,
            client: client.map(|c| c.parse().unwrap()),
            outcome: *outcome,
            details: serde_json::json!({}),
        };
        tx.append_audit(&event, T0 + Duration::seconds(*at))
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();

    let mut read = store.read().await.unwrap();
    let all = read.audit_records(0, 1000).await.unwrap();
    assert_eq!(all.len(), rows.len());
    let t = |s: i64| T0.unix_timestamp() + s;

    // The failed sign-ins behind a lock: this account's, in the range (both ends
    // included), newest first, at most the limit; successes and other actions never.
    let failed = read.failed_sign_ins(alice, t(0), t(40), 10).await.unwrap();
    let at: Vec<i64> = failed.iter().map(|r| r.at - t(0)).collect();
    assert_eq!(at, [40, 20, 10, 0]);
    assert_eq!(failed[1].client_addr.as_deref(), Some("192.0.2.2"));
    let at: Vec<i64> = read
        .failed_sign_ins(alice, t(5), t(25 * h + 2), 3)
        .await
        .unwrap()
        .iter()
        .map(|r| r.at - t(0))
        .collect();
    assert_eq!(at, [25 * h + 2, 25 * h + 1, 40]);
    assert!(read
        .failed_sign_ins(bob, t(0), t(30 * h), 10)
        .await
        .unwrap()
        .is_empty());
    // Other names an address failed on (`from` included, `to` not), unknown ones too.
    assert_eq!(
        read.names_failed_from("192.0.2.1", a, t(0), t(3 * h))
            .await
            .unwrap(),
        1,
        "gus"
    );
    assert_eq!(
        read.names_failed_from("192.0.2.1", a, t(0), t(2 * h))
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        read.names_failed_from("192.0.2.1", "ACME\\bob_smith", t(0), t(3 * h))
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        read.names_failed_from("203.0.113.5", a, t(0), t(3 * h))
            .await
            .unwrap(),
        1,
        "an unknown name counts"
    );
    assert_eq!(
        read.names_failed_from("192.0.2.7", a, t(0), t(3 * h))
            .await
            .unwrap(),
        0,
        "a success is no failure"
    );

    let seqs = |records: Vec<latchkey_core::audit::AuditRecord>| {
        records.into_iter().map(|r| r.seq).collect::<Vec<_>>()
    };
    // The records of the rows numbered `n` (from 0), newest first.
    let nth = |n: &[usize]| {
        let mut s: Vec<i64> = n.iter().map(|i| all[*i].seq).collect();
        s.sort_unstable_by(|a, b| b.cmp(a));
        s
    };
    let everything = AuditSearch {
        limit: 1000,
        ..AuditSearch::default()
    };

    // The contract, spelled out on a few searches.
    let found = read.audit_search(&everything).await.unwrap();
    let mut newest_first = all.clone();
    newest_first.reverse();
    assert_eq!(found, newest_first, "every record, newest first, in full");
    let q = AuditSearch {
        actor: Some("acme\\LEN".into()),
        ..everything.clone()
    };
    assert_eq!(
        seqs(read.audit_search(&q).await.unwrap()),
        nth(&[5, 14]),
        "any case"
    );
    let q = AuditSearch {
        subject: Some("B_S".into()),
        ..everything.clone()
    };
    assert_eq!(
        seqs(read.audit_search(&q).await.unwrap()),
        nth(&[6, 11]),
        "part of the name"
    );
    for pattern in ["b%s", "a_i", "%", "h_t"] {
        let q = AuditSearch {
            subject: Some(pattern.into()),
            ..everything.clone()
        };
        assert_eq!(
            seqs(read.audit_search(&q).await.unwrap()),
            Vec::<i64>::new(),
            "{pattern:?} is text, not a pattern"
        );
    }
    let q = AuditSearch {
        from: Some(t(10)),
        to: Some(t(h)),
        ..everything.clone()
    };
    assert_eq!(
        seqs(read.audit_search(&q).await.unwrap()),
        nth(&[1, 2, 3, 4]),
        "from included, to not"
    );
    let q = AuditSearch {
        organisation: Some(globex.id),
        ..everything.clone()
    };
    assert_eq!(
        seqs(read.audit_search(&q).await.unwrap()),
        nth(&[7, 9, 10, 14]),
        "about an account of the organisation: the subject's, or the actor's without one"
    );
    let q = AuditSearch {
        organisation: Some(acme.id),
        actor: Some("ACME\\LENA".into()),
        ..everything.clone()
    };
    assert_eq!(
        seqs(read.audit_search(&q).await.unwrap()),
        nth(&[5]),
        "lena's unlock of Globex's gus is Globex's record, not Acme's"
    );

    // Every combination, against the contract read plainly, in one page and in pages.
    let mut searches = 0;
    for organisation in [None, Some(acme.id), Some(globex.id)] {
        for actor in [None, Some("ANON"), Some("acme\\"), Some("system:")] {
            for subject in [None, Some("ALICE"), Some("gus"), Some("o")] {
                for action in [None, Some(SignIn), Some(Unlock)] {
                    for channel in [None, Some(Web), Some(Console)] {
                        for outcome in [None, Some(Failure)] {
                            for (from, to) in [
                                (None, None),
                                (Some(t(10)), None),
                                (None, Some(t(2 * h + 5))),
                                (Some(t(20)), Some(t(25 * h + 1))),
                            ] {
                                let q = AuditSearch {
                                    organisation,
                                    actor: actor.map(str::to_owned),
                                    subject: subject.map(str::to_owned),
                                    action,
                                    channel,
                                    outcome,
                                    from,
                                    to,
                                    before: None,
                                    limit: 1000,
                                };
                                let expected =
                                    expected(&all, &q, &[alice, bob, lena], &[gus], acme.id);
                                assert_eq!(
                                    seqs(read.audit_search(&q).await.unwrap()),
                                    expected,
                                    "{q:?}"
                                );
                                if expected.len() > 1 {
                                    assert_eq!(
                                        pages(read.as_mut(), &q, 2).await,
                                        expected,
                                        "{q:?}"
                                    );
                                }
                                searches += 1;
                            }
                        }
                    }
                }
            }
        }
    }
    assert_eq!(searches, 3 * 4 * 4 * 3 * 3 * 2 * 4);
    let q = AuditSearch {
        before: Some(all[5].seq),
        limit: 3,
        ..everything.clone()
    };
    assert_eq!(seqs(read.audit_search(&q).await.unwrap()), nth(&[4, 3, 2]));

    // Counts per period, from `from` (not from midnight), for the periods that have any,
    // oldest first.
    let count = |from: i64, to: i64, period: i64| AuditCount {
        organisation: None,
        action: SignIn,
        channels: vec![],
        outcome: Some(Failure),
        from,
        to,
        period,
    };
    let cases = [
        (count(t(0), t(2 * h), h), vec![(t(0), 4)]),
        (count(t(0), t(2 * h + 1), h), vec![(t(0), 4), (t(2 * h), 1)]),
        (
            count(t(0), t(26 * h), h),
            vec![(t(0), 4), (t(2 * h), 2), (t(25 * h), 2)],
        ),
        (
            count(t(5), t(26 * h), 24 * h),
            vec![(t(5), 5), (t(5 + 24 * h), 2)],
        ),
        (
            count(t(15), t(2 * h + 3), h),
            vec![(t(15), 2), (t(15 + h), 1)],
        ),
        (
            AuditCount {
                channels: vec![Web],
                ..count(t(0), t(26 * h), h)
            },
            vec![(t(0), 3), (t(2 * h), 1), (t(25 * h), 2)],
        ),
        (
            AuditCount {
                channels: vec![Mobile, Desktop],
                ..count(t(0), t(26 * h), h)
            },
            vec![(t(0), 1), (t(2 * h), 1)],
        ),
        (
            AuditCount {
                organisation: Some(globex.id),
                ..count(t(0), t(26 * h), h)
            },
            vec![(t(2 * h), 1)],
        ),
        (
            AuditCount {
                organisation: Some(acme.id),
                ..count(t(0), t(26 * h), h)
            },
            vec![(t(0), 4), (t(25 * h), 2)],
        ),
        (
            AuditCount {
                action: Unlock,
                outcome: None,
                channels: vec![Console],
                ..count(t(0), t(26 * h), 24 * h)
            },
            vec![(t(0), 2), (t(24 * h), 1)],
        ),
        (
            AuditCount {
                outcome: Some(Success),
                ..count(t(0), t(26 * h), h)
            },
            vec![(t(2 * h), 1)],
        ),
        (
            AuditCount {
                action: Lock,
                outcome: None,
                ..count(t(0), t(26 * h), h)
            },
            vec![(t(0), 1), (t(25 * h), 1)],
        ),
        (count(t(26 * h), t(27 * h), h), vec![]),
    ];
    for (q, expected) in cases {
        assert_eq!(read.audit_counts(&q).await.unwrap(), expected, "{q:?}");
    }

    // The clients with the most failed sign-ins, most first; records without a client
    // are no client.
    let top = |org, from, to, limit| (org, SignIn, Failure, from, to, limit);
    let cases = [
        (
            top(None, t(0), t(26 * h), 10),
            vec![("192.0.2.1", 4), ("192.0.2.2", 3), ("203.0.113.5", 1)],
        ),
        (
            top(None, t(0), t(26 * h), 2),
            vec![("192.0.2.1", 4), ("192.0.2.2", 3)],
        ),
        (
            top(Some(acme.id), t(0), t(26 * h), 10),
            vec![("192.0.2.1", 3), ("192.0.2.2", 3)],
        ),
        (
            top(Some(acme.id), t(10), t(25 * h + 2), 10),
            vec![("192.0.2.1", 2), ("192.0.2.2", 2)],
        ),
        (
            top(Some(globex.id), t(0), t(26 * h), 10),
            vec![("192.0.2.1", 1)],
        ),
        (
            top(None, t(2 * h), t(3 * h), 10),
            vec![("192.0.2.1", 1), ("203.0.113.5", 1)],
        ),
        (top(None, t(26 * h), t(27 * h), 10), vec![]),
    ];
    for ((org, action, outcome, from, to, limit), expected) in cases {
        let mut found = read
            .audit_top_clients(org, action, outcome, from, to, limit)
            .await
            .unwrap();
        // Clients with as many records may come in any order.
        found.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let expected: Vec<(String, u32)> = expected
            .into_iter()
            .map(|(c, n)| (c.to_owned(), n))
            .collect();
        assert_eq!(found, expected, "{org:?} {from}..{to} top {limit}");
    }
    let successes = read
        .audit_top_clients(None, Unlock, Success, t(0), t(26 * h), 10)
        .await
        .unwrap();
    assert_eq!(successes.len(), 3, "{successes:?}");
}

/// What `q` should find, read plainly from its documentation; `ours` are the accounts
/// of `org`, `theirs` the others.
fn expected(
    all: &[latchkey_core::audit::AuditRecord],
    q: &AuditSearch,
    ours: &[AccountId],
    theirs: &[AccountId],
    org: OrganisationId,
) -> Vec<i64> {
    let contains = |text: Option<&str>, part: &Option<String>| match part {
        None => true,
        Some(part) => text.is_some_and(|t| t.to_lowercase().contains(&part.to_lowercase())),
    };
    let of = |o: OrganisationId| if o == org { ours } else { theirs };
    let mut found: Vec<i64> = all
        .iter()
        .filter(|r| {
            q.organisation.is_none_or(|o| {
                r.subject_account_id
                    .or(r.actor_account_id)
                    .is_some_and(|id| of(o).contains(&AccountId(id)))
            })
        })
        .filter(|r| contains(Some(&r.actor), &q.actor))
        .filter(|r| contains(r.subject.as_deref(), &q.subject))
        .filter(|r| q.action.is_none_or(|a| r.action == a.as_str()))
        .filter(|r| q.channel.is_none_or(|c| r.channel == c.as_str()))
        .filter(|r| q.outcome.is_none_or(|o| r.outcome == o.as_str()))
        .filter(|r| q.from.is_none_or(|from| r.at >= from))
        .filter(|r| q.to.is_none_or(|to| r.at < to))
        .map(|r| r.seq)
        .collect();
    found.sort_unstable_by(|a, b| b.cmp(a));
    found
}

/// Every page of `q`, `size` at a time, each before the last record of the one before.
async fn pages(read: &mut dyn Read, q: &AuditSearch, size: u32) -> Vec<i64> {
    let mut q = AuditSearch {
        limit: size,
        ..q.clone()
    };
    let mut out = Vec::new();
    for _ in 0..100 {
        let page = read.audit_search(&q).await.unwrap();
        assert!(page.len() <= size as usize);
        out.extend(page.iter().map(|r| r.seq));
        match page.last() {
            Some(last) if page.len() == size as usize => q.before = Some(last.seq),
            _ => return out,
        }
    }
    panic!("paging never ends: {q:?}");
}
