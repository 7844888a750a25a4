//! Three `latchkey serve` processes on three ports sharing one PostgreSQL database, as
//! behind a load balancer: every rule that one SQLite server keeps with its single write
//! lock holds across the processes. They start at the same moment on an empty database
//! (their migrations race), then take 100 wrong passwords for one account, 20 copies of
//! the right emailed code for one flow, and a burst from one client, each spread over
//! the three.

use std::net::Ipv4Addr;

use base64::Engine as _;
use latchkey_core::keys::MasterKey;
use latchkey_core::lockout::LockReason;
use latchkey_core::random::OsRandom;
use latchkey_core::store::{Database, PgDatabase};
use latchkey_store_tests::postgres::PgCluster;
use serde_json::{json, Value};

use crate::harness::{json as read_json, read_mailbox, seed_demo_in, Api, ServerProcess};
use crate::selfservice::Flow;

/// Requests per minute per client address: a burst of 3, then one every 20 s — far
/// longer than the test's bursts take, so the count is exact.
const REQUESTS_PER_MINUTE: &str = "3";

/// A POST to `endpoint` on `api`'s server as if from `client`, through the proxy (this
/// machine) the servers trust.
async fn call_from(api: &Api, client: Ipv4Addr, endpoint: &str, body: &Value) -> (u16, Value) {
    read_json(
        api.client
            .post(api.url(&format!("/api/{endpoint}")))
            .header("origin", &api.base)
            .header("x-forwarded-for", client.to_string())
            .json(body)
            .send()
            .await
            .unwrap(),
    )
    .await
}

/// The `n`th address of 198.18.0.0/15 (benchmarking addresses): one per request, so
/// only the rule under test can refuse it.
fn address(n: u32) -> Ipv4Addr {
    Ipv4Addr::from(0xc612_0000 + n)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_servers_on_one_postgres_keep_every_rule() {
    let url = PgCluster::shared().create_database().await;
    let dir = tempfile::tempdir().unwrap();
    let key =
        base64::engine::general_purpose::STANDARD.encode(MasterKey::generate(&OsRandom).as_bytes());
    let env = [
        ("LATCHKEY_SECRET_KEY", key.as_str()),
        ("LATCHKEY_TRUSTED_PROXIES", r#"["127.0.0.1"]"#),
        (
            "LATCHKEY_CLIENT_LIMITS__REQUESTS_PER_MINUTE",
            REQUESTS_PER_MINUTE,
        ),
        ("LATCHKEY_CLIENT_LIMITS__FAILURES_PER_HOUR", "30"),
    ];
    // All three at once on the empty database; one mailbox folder for the three.
    let log = |n: u32| dir.path().join(format!("server-{n}.log"));
    let (a, b, c) = tokio::join!(
        ServerProcess::start_on(&url, log(1), &env),
        ServerProcess::start_on(&url, log(2), &env),
        ServerProcess::start_on(&url, log(3), &env),
    );
    let servers = [a, b, c];
    let apis: Vec<Api> = servers.iter().map(|s| s.api.clone()).collect();
    let store = seed_demo_in(&Database::Postgres(PgDatabase::new(&url).unwrap())).await;

    // 100 wrong passwords for bob at once, from 100 addresses, over the three servers.
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..100 {
        let api = apis[i % 3].clone();
        tasks.spawn(async move {
            let body = json!({ "username": "bob", "password": "wrong-password" });
            call_from(&api, address(i as u32), "sign_in", &body).await
        });
    }
    while let Some(r) = tasks.join_next().await {
        assert_eq!(r.unwrap(), (200, json!({ "result": "refused" })));
    }
    let bob = {
        let mut read = store.read().await.unwrap();
        let name = latchkey_core::account::AccountName::parse("username", "bob").unwrap();
        read.account_by_name(&name).await.unwrap().unwrap()
    };
    assert_eq!(bob.lock.failed_attempts, 5, "counted up to the threshold");
    assert_eq!(bob.lock.lock.map(|l| l.reason), Some(LockReason::Failures));
    let audit = store
        .read()
        .await
        .unwrap()
        .audit_records(0, 100_000)
        .await
        .unwrap();
    let locks = audit
        .iter()
        .filter(|r| r.action == "lock" && r.subject_account_id == Some(bob.id.0))
        .count();
    assert_eq!(locks, 1, "one lock record");
    let attempts = audit.iter().filter(|r| r.action == "sign_in").count();
    assert_eq!(attempts, 100, "every attempt recorded");

    // The right emailed code, 20 times at once for one flow, over the three servers.
    let (code, out, err) = servers[0].cli(&["auth-flow", "set", "email_code"]);
    assert_eq!(code, 0, "{out}{err}");
    let mut flow = Flow::try_start(apis[0].clone(), "unlock", "web")
        .await
        .unwrap();
    flow.identify("dave").await;
    let mailbox = dir.path().join("mailbox");
    let mut sent = None;
    crate::harness::eventually("the code is mailed", || {
        sent = read_mailbox(&mailbox)
            .into_iter()
            .find(|m| m.to == "dave@example.org" && m.subject.contains("verification code"))
            .and_then(|m| {
                m.text
                    .split_whitespace()
                    .find(|w| w.len() == 6 && w.bytes().all(|b| b.is_ascii_digit()))
                    .map(str::to_owned)
            });
        let found = sent.is_some();
        async move { found }
    })
    .await;
    let sent = sent.unwrap();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..20 {
        let api = apis[i % 3].clone();
        let body = json!({
            "flow_id": flow.id,
            "step": 0,
            "answer": { "factor": "email_code", "code": sent },
        });
        tasks.spawn(async move {
            call_from(&api, address(1000 + i as u32), "flow_answer", &body).await
        });
    }
    let mut answers = Vec::new();
    while let Some(r) = tasks.join_next().await {
        answers.push(r.unwrap());
    }
    let done: Vec<&(u16, Value)> = answers
        .iter()
        .filter(|(status, body)| *status == 200 && body["step"]["step"] == "done")
        .collect();
    assert_eq!(done.len(), 1, "one success: {answers:?}");
    assert!(
        answers.iter().filter(|(status, _)| *status != 200).count() == 19,
        "the others are refused: {answers:?}"
    );
    let unlocks = store
        .read()
        .await
        .unwrap()
        .audit_records(0, 100_000)
        .await
        .unwrap()
        .iter()
        .filter(|r| r.action == "unlock")
        .count();
    assert_eq!(unlocks, 1);

    // One client's burst over the three servers gets one server's budget, not three.
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..30 {
        let api = apis[i % 3].clone();
        tasks.spawn(async move {
            let body = json!({ "action": "unlock", "channel": "web" });
            call_from(&api, address(5000), "flow_start", &body).await.0
        });
    }
    let mut statuses = Vec::new();
    while let Some(r) = tasks.join_next().await {
        statuses.push(r.unwrap());
    }
    let allowed = statuses.iter().filter(|s| **s == 200).count();
    let limited = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!(
        (allowed, limited),
        (3, 27),
        "the three servers together allow one budget"
    );

    // And the audit chain the three wrote together is one unbroken chain.
    let (code, out, err) = servers[1].cli(&["audit", "verify"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.starts_with("audit log intact"), "{out}");
    for server in &servers {
        assert!(!server.log().contains("ERROR"), "{}", server.log());
    }
}
