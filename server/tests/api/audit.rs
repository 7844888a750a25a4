use latchkey_core::clock::Clock;

use crate::harness::spawn_app;

#[tokio::test]
async fn every_sign_in_attempt_is_recorded() {
    let app = spawn_app().await;
    app.sign_in("nobody", "x").await;
    app.sign_in("alice", "wrong").await;
    app.sign_in("alice", "lantern-orbit-meadow").await;
    let alice = app.account("alice").await;
    let records = app.audit().await;
    type Row<'a> = (
        &'a str,
        Option<&'a str>,
        Option<i64>,
        &'a str,
        &'a str,
        Option<&'a str>,
    );
    let summary: Vec<Row> = records
        .iter()
        .map(|r| {
            (
                r.action.as_str(),
                r.subject.as_deref(),
                r.subject_account_id,
                r.outcome.as_str(),
                r.channel.as_str(),
                r.client_addr.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (
                "sign_in",
                Some("nobody"),
                None,
                "failure",
                "web",
                Some("127.0.0.1")
            ),
            (
                "sign_in",
                Some("EXAMPLE\\alice"),
                Some(alice.id.0),
                "failure",
                "web",
                Some("127.0.0.1")
            ),
            (
                "sign_in",
                Some("EXAMPLE\\alice"),
                Some(alice.id.0),
                "success",
                "web",
                Some("127.0.0.1")
            ),
        ]
    );
    assert!(records.iter().all(|r| r.actor == "anonymous"));
    assert!(
        records.iter().all(|r| !r.details.contains("lantern")),
        "no password ever reaches the log"
    );
    assert_eq!(records[0].at, app.clock.now().unix_timestamp());
}

#[tokio::test]
async fn the_audit_log_refuses_updates_and_deletes() {
    let app = spawn_app().await;
    app.sign_in("alice", "wrong").await;
    let update = sqlx::query("UPDATE audit_log SET outcome = 'success'")
        .execute(&app.sql().await)
        .await;
    assert!(update.unwrap_err().to_string().contains("append-only"));
    let delete = sqlx::query("DELETE FROM audit_log")
        .execute(&app.sql().await)
        .await;
    assert!(delete.unwrap_err().to_string().contains("append-only"));
}

async fn verify(app: &crate::harness::TestApp) -> (bool, String) {
    let (code, out, _) = app.cli(&["audit", "verify"]).await;
    (code == 0, out)
}

#[tokio::test]
async fn tampering_is_detected_and_the_first_broken_record_named() {
    let app = spawn_app().await;
    for password in ["a", "b", "lantern-orbit-meadow"] {
        app.sign_in("alice", password).await;
    }
    let (ok, out) = verify(&app).await;
    assert!(ok, "{out}");
    assert!(out.contains("intact: 3 records"), "{out}");

    // Someone with write access to the database file removes the guard and rewrites
    // the second attempt as a success.
    sqlx::query("DROP TRIGGER audit_log_no_update")
        .execute(&app.sql().await)
        .await
        .unwrap();
    sqlx::query("UPDATE audit_log SET outcome = 'success' WHERE seq = 2")
        .execute(&app.sql().await)
        .await
        .unwrap();
    let (ok, out) = verify(&app).await;
    assert!(!ok);
    assert!(out.contains("#2"), "{out}");
}
