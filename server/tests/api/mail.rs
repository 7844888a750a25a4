//! Email notifications end to end: an action over HTTP writes the mail to the outbox, the
//! server's worker delivers it to a real SMTP server (aiosmtpd, a separate process), and
//! a mail server that is down or killed delays mail without losing it or failing the
//! action.

use std::collections::HashMap;

use latchkey_core::clock::Clock;
use latchkey_core::outbox::{Code, CodePurpose, DeliveryStatus, Notification};
use latchkey_server::config::{Config, SmtpTls};
use serde_json::json;
use time::Duration;

use super::harness::{self, eventually, json, spawn_app_with, SmtpSink, TestApp};

pub fn send_to(sink: &SmtpSink) -> impl FnOnce(&mut Config) {
    let port = sink.port;
    move |c: &mut Config| {
        c.smtp.host = "127.0.0.1".into();
        c.smtp.port = port;
        c.smtp.tls = SmtpTls::None;
        c.smtp.from = "Example Health account help <unlock@example.org>".into();
        c.smtp.timeout_secs = 5;
        c.outbox.claim_secs = 60;
    }
}

async fn sent_count(app: &TestApp) -> usize {
    app.outbox()
        .await
        .iter()
        .filter(|r| r.status == DeliveryStatus::Sent)
        .count()
}

#[tokio::test]
async fn locking_an_account_mails_its_owner_through_the_smtp_server() {
    let sink = SmtpSink::start().await;
    let app = spawn_app_with(send_to(&sink)).await;
    for _ in 0..4 {
        app.sign_in("bob", "not-the-password").await;
    }
    assert!(app.outbox().await.is_empty(), "no mail before the lock");
    app.sign_in("bob", "not-the-password").await;

    // The sink has the message a moment before the worker hears "250 OK" and marks the
    // row sent, so wait for both.
    eventually(
        "the lock mail arrives and its row is marked sent",
        || async { !sink.received().is_empty() && sent_count(&app).await == 1 },
    )
    .await;
    let mails = sink.received();
    assert_eq!(mails.len(), 1);
    let mail = &mails[0];
    assert_eq!(mail.envelope_to, "bob@example.org");
    assert_eq!(
        (mail.to_name.as_str(), mail.to.as_str()),
        ("Bob Brennan", "bob@example.org")
    );
    assert_eq!(mail.from, "unlock@example.org");
    assert_eq!(mail.subject, "Your Example Health account was locked");
    assert!(
        mail.message_id.ends_with("@127.0.0.1"),
        "{}",
        mail.message_id
    );
    for body in [&mail.text, &mail.html] {
        assert!(body.contains("Bob Brennan"), "{body}");
        assert!(body.contains("EXAMPLE\\bob"), "{body}");
        assert!(body.contains("Monday 5 January 2026, 09:00 UTC"), "{body}");
    }
    // Links start with the configured base URL: the lock mail's two (lockmail.rs).
    assert!(
        mail.text.contains(&format!("{}/locked/unlock#", app.base)),
        "{}",
        mail.text
    );
    assert!(mail.text.contains(&format!("{}/locked/not-me#", app.base)));

    let row = &app.outbox().await[0];
    assert_eq!((row.status, row.attempts), (DeliveryStatus::Sent, 1));
    assert!(mail.message_id.starts_with(&row.message_key));
    // Mail that leaves the machine is never shown in the demo mailbox page.
    let (status, body) = json(app.call("demo_mailbox", json!({})).await).await;
    assert_eq!((status, body), (404, json!({ "kind": "not_found" })));
}

#[tokio::test]
async fn a_one_time_code_is_delivered_and_then_wiped_from_the_outbox() {
    let sink = SmtpSink::start().await;
    let app = spawn_app_with(send_to(&sink)).await;
    let id = app
        .enqueue(
            "alice",
            &Notification::OneTimeCode {
                code: Code::new("730113"),
                expires_at: app.clock.now() + Duration::minutes(10),
                purpose: CodePurpose::Unlock,
            },
        )
        .await;
    eventually("the code mail is sent", || async {
        app.outbox_row(id).await.status == DeliveryStatus::Sent
    })
    .await;
    let mail = &sink.received()[0];
    assert_eq!(mail.subject, "Your Example Health verification code");
    assert!(mail.text.contains("730113"));
    assert!(mail.text.contains("Monday 5 January 2026, 09:10 UTC"));
    assert!(!app.outbox_row(id).await.holds_secret);
    assert_eq!(
        app.sealed_code(id).await,
        None,
        "the code is gone from the database"
    );
}

#[tokio::test]
async fn with_the_mail_server_down_the_lock_succeeds_and_the_mail_waits_then_arrives_once() {
    let mut sink = SmtpSink::down();
    let app = spawn_app_with(send_to(&sink)).await;
    app.lock_by_failures("bob").await;
    assert_eq!(
        app.sign_in("bob", "copper-fjord-whistle").await.1["result"],
        "locked",
        "the action did not fail"
    );

    eventually("an attempt has failed", || async {
        app.outbox()
            .await
            .first()
            .is_some_and(|r| r.attempts >= 1 && r.last_error.is_some())
    })
    .await;
    let row = app.outbox().await.remove(0);
    assert_eq!(row.status, DeliveryStatus::Pending, "waiting, not lost");
    assert!(row.next_attempt_at > app.clock.now(), "backing off");

    sink.up().await;
    // The retry is due once the backoff has passed (the clock is the test's).
    app.clock.advance(Duration::hours(2));
    eventually("the mail is sent", || async { sent_count(&app).await == 1 }).await;
    let mails = sink.received();
    assert_eq!(mails.len(), 1, "delivered exactly once");
    assert!(mails[0].message_id.starts_with(&row.message_key));
    assert_eq!(mails[0].subject, "Your Example Health account was locked");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn killing_the_mail_server_mid_run_loses_nothing() {
    const MAILS: usize = 150;
    let mut sink = SmtpSink::start().await;
    let app = spawn_app_with(send_to(&sink)).await;
    let mut ids = Vec::new();
    for _ in 0..MAILS {
        ids.push(
            app.enqueue(
                "alice",
                &Notification::AccountLocked {
                    until: None,
                    links: None,
                },
            )
            .await,
        );
    }
    eventually("some mail arrives", || async {
        sink.received().len() >= 10
    })
    .await;
    sink.kill();
    let sent_before = sent_count(&app).await;
    assert!(
        sent_before < MAILS,
        "killed mid-run ({sent_before} of {MAILS} sent)"
    );

    sink.up().await;
    for _ in 0..20 {
        if sent_count(&app).await == MAILS {
            break;
        }
        // Whatever failed while the server was away becomes due again.
        app.clock.advance(Duration::hours(2));
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    }
    eventually("every mail is sent", || async {
        sent_count(&app).await == MAILS
    })
    .await;

    let rows = app.outbox().await;
    let mut copies: HashMap<String, usize> = HashMap::new();
    for mail in sink.received() {
        *copies.entry(mail.message_id).or_default() += 1;
    }
    for row in &rows {
        let received = copies
            .iter()
            .filter(|(id, _)| id.starts_with(&row.message_key))
            .map(|(_, n)| *n)
            .sum::<usize>();
        assert!(received >= 1, "mail {} was lost", row.id);
    }
    assert_eq!(copies.len(), MAILS, "nothing but these mails arrived");
}

#[tokio::test]
async fn the_demo_mailbox_shows_mail_written_to_disk() {
    let app = spawn_app_with(|_| {}).await;
    let (status, list) = json(app.call("demo_mailbox", json!({})).await).await;
    assert_eq!((status, list), (200, json!([])));

    app.lock_by_failures("bob").await;
    eventually("the mail is written to the mailbox folder", || async {
        sent_count(&app).await == 1
    })
    .await;
    let files: Vec<_> = std::fs::read_dir(&app.mailbox_dir).unwrap().collect();
    assert_eq!(files.len(), 1, "one .eml per message");

    let (status, list) = json(app.call("demo_mailbox", json!({})).await).await;
    assert_eq!(status, 200);
    assert_eq!(list[0]["to"], "bob@example.org");
    assert_eq!(list[0]["subject"], "Your Example Health account was locked");
    assert_eq!(list[0]["date"], app.clock.now().unix_timestamp());
    let id = list[0]["id"].as_str().unwrap();
    let (status, mail) = json(app.call("demo_mail", json!({ "id": id })).await).await;
    assert_eq!(status, 200);
    assert_eq!(mail["from"], "latchkey@localhost");
    assert!(
        mail["text"].as_str().unwrap().contains("EXAMPLE\\bob"),
        "{mail}"
    );

    let (status, body) = json(app.call("demo_mail", json!({ "id": "0-nothing" })).await).await;
    assert_eq!((status, body), (404, json!({ "kind": "not_found" })));
    for bad in ["../latchkey.sqlite3", "", "a/b", &"x".repeat(101)] {
        let (status, body) = json(app.call("demo_mail", json!({ "id": bad })).await).await;
        assert_eq!(status, 400, "{bad:?}");
        assert_eq!(body["field"], "id");
    }
}

#[tokio::test]
async fn without_demo_mode_the_mailbox_is_not_found() {
    let app = harness::spawn_app_without_demo().await;
    for (endpoint, body) in [
        ("demo_mailbox", json!({})),
        ("demo_mail", json!({ "id": "x" })),
    ] {
        let (status, body) = json(app.call(endpoint, body).await).await;
        assert_eq!(
            (status, body),
            (404, json!({ "kind": "not_found" })),
            "{endpoint}"
        );
    }
}

#[tokio::test]
async fn an_operator_sends_a_failed_mail_again_from_the_command_line() {
    let mut sink = SmtpSink::down();
    let app = spawn_app_with(|c| {
        send_to(&sink)(c);
        c.outbox.max_attempts = 1;
    })
    .await;
    app.lock_by_failures("bob").await;
    eventually("the only attempt fails", || async {
        app.outbox()
            .await
            .first()
            .is_some_and(|r| r.status == DeliveryStatus::Failed)
    })
    .await;
    let id = app.outbox().await[0].id.0.to_string();

    let (code, out, _) = app.cli(&["outbox", "list", "--status", "failed"]).await;
    assert_eq!(code, 0);
    let line = out.lines().next().unwrap_or_default();
    let fields: Vec<&str> = line.split('\t').collect();
    assert_eq!(
        fields[..5],
        [
            id.as_str(),
            "failed",
            "1 attempts",
            "account_locked",
            "bob@example.org"
        ],
        "{out}"
    );
    let (code, _, err) = app.cli(&["outbox", "list", "--status", "lost"]).await;
    assert_eq!(code, 2);
    assert!(err.contains("--status"), "{err}");

    sink.up().await;
    let (code, out, err) = app.cli(&["outbox", "resend", &id]).await;
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("queued to be sent again"), "{out}");
    // The command line ran on the real clock: bring the server's test clock up to it.
    let real_now = latchkey_core::clock::SystemClock.now();
    app.clock
        .advance(real_now - app.clock.now() + Duration::seconds(1));
    eventually("the mail is sent", || async { sent_count(&app).await == 1 }).await;
    assert_eq!(sink.received().len(), 1);
    let record = app.last_audit("notification_resent").await;
    assert_eq!(record.actor, "system:command line");
    assert_eq!(record.subject.as_deref(), Some("EXAMPLE\\bob"));

    // Only failed mail can be sent again.
    for (bad, says) in [(id.as_str(), "not failed"), ("999999", "no mail number")] {
        let (code, _, err) = app.cli(&["outbox", "resend", bad]).await;
        assert_eq!(code, 2, "{bad}");
        assert!(err.contains(says), "{bad}: {err}");
    }
    assert_eq!(sink.received().len(), 1);
}
