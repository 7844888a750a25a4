//! `latchkey backup` and `latchkey restore`: a consistent copy taken while the server
//! works, checked; a restore refused under a running server and whole once it stops.

use std::path::Path;

use futures_util::future::join_all;
use latchkey_core::account::AccountName;
use latchkey_core::store::{check_sqlite, open, Database, Store};

use crate::harness::{seed_demo, spawn_app, ServerProcess};

/// Every audit record of the SQLite database at `path`, opened as a server would.
async fn audit_of(path: &Path) -> Vec<latchkey_core::audit::AuditRecord> {
    let store = open(&Database::Sqlite {
        path: path.to_owned(),
        bare: false,
    })
    .await
    .unwrap();
    let records = store
        .read()
        .await
        .unwrap()
        .audit_records(0, 100_000)
        .await
        .unwrap();
    store.close().await;
    records
}

/// Whether `username` is locked in the SQLite database at `path`.
async fn locked(store: &dyn Store, username: &str) -> bool {
    let name = AccountName::parse("username", username).unwrap();
    let account = store
        .read()
        .await
        .unwrap()
        .account_by_name(&name)
        .await
        .unwrap()
        .unwrap();
    account.lock.lock.is_some()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_during_fifty_sign_ins_holds_every_record_committed_before_it() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("backup.sqlite3");
    let committed_before = app.audit().await.len();

    // 50 sign-ins at once, half right and half wrong (each writes audit records), with
    // the backup taken in the middle of them.
    let sign_ins = join_all((0..50).map(|i| {
        let app = &app;
        async move {
            if i % 2 == 0 {
                app.sign_in("alice", "lantern-orbit-meadow").await
            } else {
                app.sign_in(&format!("nobody{i}"), "not-the-password").await
            }
        }
    }));
    let backup = async { app.cli(&["backup", copy.to_str().unwrap()]).await };
    let (answers, (code, out, err)) = tokio::join!(sign_ins, backup);
    assert!(
        answers.iter().all(|(status, _)| *status == 200),
        "{answers:?}"
    );
    assert_eq!(code, 0, "{out}{err}");

    let checked = check_sqlite(&copy).await.unwrap();
    assert!(checked.is_sound(), "{}", checked.summary());
    let copied = audit_of(&copy).await;
    let live = app.audit().await;
    assert!(
        copied.len() >= committed_before,
        "the copy lost records committed before it: {} < {committed_before}",
        copied.len()
    );
    assert_eq!(
        copied[..],
        live[..copied.len()],
        "the copy is not the log as it stood at one moment"
    );
    assert!(
        out.contains(&format!(
            "integrity check ok; audit log intact: {} records verified",
            copied.len()
        )),
        "{out}"
    );
    assert!(out.contains("secret key is not in the backup"), "{out}");

    // An existing file is never overwritten.
    let before = std::fs::read(&copy).unwrap();
    let (code, _, err) = app.cli(&["backup", copy.to_str().unwrap()]).await;
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("already exists"), "{err}");
    assert_eq!(std::fs::read(&copy).unwrap(), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_is_refused_under_a_running_server_and_brings_back_the_backup_once_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("latchkey.sqlite3");
    seed_demo(&database).await.close().await;
    let mut server = ServerProcess::start(&database, &[]).await;
    let lock = |username: &'static str| {
        let api = &server.api;
        async move {
            for _ in 0..5 {
                api.sign_in(username, "not-the-password").await;
            }
        }
    };
    lock("bob").await;
    let backup = dir.path().join("backup.sqlite3");
    let (code, out, err) = server.cli(&["backup", backup.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    // After the backup: dave is locked too.
    lock("dave").await;

    let (code, out, err) = server.cli(&["restore", backup.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("in use by a running server"), "{err}");
    let live = open(&Database::Sqlite {
        path: database.clone(),
        bare: false,
    })
    .await
    .unwrap();
    assert!(
        locked(live.as_ref(), "dave").await,
        "the refused restore changed the database"
    );
    live.close().await;

    // Stopped the hard way: the newest writes are still in the write-ahead log.
    server.kill();
    let tampered = dir.path().join("tampered.sqlite3");
    std::fs::copy(&backup, &tampered).unwrap();
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", tampered.display()))
        .await
        .unwrap();
    // As someone editing the file would: past the append-only trigger.
    for statement in [
        "DROP TRIGGER audit_log_no_update",
        "UPDATE audit_log SET action = 'unlock' WHERE seq = (SELECT MAX(seq) FROM audit_log)",
    ] {
        sqlx::query(statement).execute(&pool).await.unwrap();
    }
    pool.close().await;
    let (code, out, err) = server.cli(&["restore", tampered.to_str().unwrap()]);
    assert_eq!(
        code, 1,
        "a backup with a broken audit chain was restored: {out}"
    );
    assert!(
        err.contains("not fit to restore") && err.contains("BROKEN"),
        "{err}"
    );

    let (code, out, err) = server.cli(&["restore", backup.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("audit log intact"), "{out}");
    let kept = out
        .lines()
        .find_map(|l| l.strip_prefix("the database it replaced is kept at "))
        .unwrap_or_else(|| panic!("{out}"));
    // The replaced database is kept whole, its write-ahead log folded in.
    let replaced = open(&Database::Sqlite {
        path: kept.into(),
        bare: false,
    })
    .await
    .unwrap();
    assert!(locked(replaced.as_ref(), "dave").await);
    replaced.close().await;

    server.up().await;
    let restored = open(&Database::Sqlite {
        path: database.clone(),
        bare: false,
    })
    .await
    .unwrap();
    assert!(locked(restored.as_ref(), "bob").await);
    assert!(
        !locked(restored.as_ref(), "dave").await,
        "dave's lock came after the backup"
    );
    restored.close().await;
    let (_, body) = server.api.sign_in("alice", "lantern-orbit-meadow").await;
    assert_eq!(body["result"], "signed_in", "{body}");
    let (code, out, err) = server.cli(&["audit", "verify"]);
    assert_eq!(code, 0, "{out}{err}");
    server.kill();
}
