//! `latchkey copy-to`: an SQLite database moves to PostgreSQL whole — every table, every
//! row as it was, the audit chain intact — and a server on the copy carries on where the
//! old one stopped.

use crate::harness::{eventually, spawn_app, ServerProcess};
use crate::selfservice::Flow;
use latchkey_core::outbox::DeliveryStatus;
use latchkey_core::store::{open, AccountOrder, AccountSearch, Database, PgDatabase};
use latchkey_store_tests::postgres::PgCluster;

#[tokio::test]
async fn copy_to_moves_every_table_and_a_server_on_the_copy_carries_on() {
    let app = spawn_app().await;
    // Some of everything: a lock by failures (audit records, a mail in the outbox), a
    // session, a self-service flow.
    app.lock_by_failures("bob").await;
    assert_eq!(
        app.sign_in("alice", "lantern-orbit-meadow").await.1["result"],
        "signed_in"
    );
    let mut flow = Flow::start(&app, "unlock").await;
    flow.identify("dave").await;
    flow.pass_captcha().await;
    // The lock mail is sent before the copy: the mail worker must not change the outbox
    // between what the test reads here and what the copy takes.
    eventually("the lock mail is sent", || async {
        app.outbox()
            .await
            .iter()
            .all(|m| m.status == DeliveryStatus::Sent)
    })
    .await;
    let audit = app.audit().await;
    let outbox = app.outbox().await;
    let bob = app.account("bob").await;
    assert!(bob.lock.lock.is_some());

    let target = PgCluster::shared().create_database().await;
    let (code, out, err) = app.cli(&["copy-to", &target]).await;
    assert_eq!(code, 0, "{err}");
    let accounts = app
        .read()
        .await
        .search_accounts(&AccountSearch {
            prefix: String::new(),
            locked_at: None,
            organisation: None,
            store: None,
            status: None,
            order: AccountOrder::Username { after: None },
            limit: 100_000,
        })
        .await
        .unwrap()
        .len();
    for table in [
        format!("accounts: {accounts} rows"),
        "audit_log:".to_owned(),
        "operator_roles: ".to_owned(),
        "outbox: ".to_owned(),
        "sessions: 1 rows".to_owned(),
    ] {
        assert!(out.contains(&table), "{table} in {out}");
    }
    assert!(
        out.contains(&format!(
            "audit log intact: {} records verified",
            audit.len()
        )),
        "{out}"
    );
    assert!(out.contains("set secret_key"), "{out}");

    // Read back through the PostgreSQL store: the same records, mail and accounts.
    let copy = open(&Database::Postgres(PgDatabase::new(&target).unwrap()))
        .await
        .unwrap();
    let mut read = copy.read().await.unwrap();
    assert_eq!(read.audit_records(0, 100_000).await.unwrap(), audit);
    assert_eq!(read.notifications(None, None, 1000).await.unwrap(), outbox);
    assert_eq!(read.account(bob.id).await.unwrap(), Some(bob));
    drop(read);
    copy.close().await;

    // Into a database that already holds data: refused.
    let (code, _, err) = app.cli(&["copy-to", &target]).await;
    assert_eq!(code, 1);
    assert!(err.contains("already holds data"), "{err}");
    // Not a PostgreSQL URL: refused without repeating it (it may hold a password).
    let (code, _, err) = app
        .cli(&["copy-to", "mysql://latchkey:hunter2@db.example.org/x"])
        .await;
    assert_eq!(code, 2);
    assert!(err.contains("postgres://"), "{err}");
    assert!(!err.contains("hunter2"), "{err}");

    // A server on the copy, with the old database's key: bob is still locked, alice's
    // password still works, and the chain goes on from the copied records.
    let key = std::fs::read_to_string(app.db_path.with_file_name("secret.key")).unwrap();
    let server = ServerProcess::start_on(
        &target,
        app.db_path.with_file_name("copy.server.log"),
        &[("LATCHKEY_SECRET_KEY", key.trim())],
    )
    .await;
    assert_eq!(
        server.api.sign_in("bob", "copper-fjord-whistle").await.1["result"],
        "locked"
    );
    assert_eq!(
        server.api.sign_in("alice", "lantern-orbit-meadow").await.1["result"],
        "signed_in"
    );
    // New rows get new ids after the copied ones (the lock mails erin: an outbox row).
    for _ in 0..5 {
        assert_eq!(
            server.api.sign_in("erin", "wrong").await.1["result"],
            "refused"
        );
    }
    let (code, out, err) = server.cli(&["outbox", "list"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.lines().count(), outbox.len() + 1, "{out}");
    let (code, out, err) = server.cli(&["audit", "verify"]);
    assert_eq!(code, 0, "{err}");
    // Two sign-ins, five failures and erin's lock after the copied records.
    assert_eq!(
        out,
        format!("audit log intact: {} records verified\n", audit.len() + 8)
    );
}
