use std::sync::Arc;

use latchkey_core::clock::Clock;
use latchkey_core::lockout::{LockDuration, LockReason, LockoutPolicy};
use serde_json::{json, Value};
use time::Duration;

use super::harness::{behind_a_proxy, spawn_app, spawn_app_with};

#[tokio::test]
async fn five_failures_lock_the_account_with_reason_and_date() {
    let app = spawn_app().await;
    for i in 1..=4 {
        app.sign_in("bob", "wrong").await;
        let bob = app.account("bob").await;
        assert_eq!(bob.lock.failed_attempts, i);
        assert!(bob.lock.lock.is_none(), "not locked after {i}");
    }
    app.sign_in("bob", "wrong").await;
    let bob = app.account("bob").await;
    let lock = bob.lock.lock.expect("locked at the threshold");
    assert_eq!(lock.reason, LockReason::Failures);
    assert_eq!(lock.locked_at, app.clock.now());
    assert_eq!(
        lock.expires_at, None,
        "the default policy locks until unlocked"
    );
    // A day later it is still locked.
    app.clock.advance(Duration::days(1));
    assert_eq!(
        app.sign_in("bob", "copper-fjord-whistle").await.1["result"],
        "locked"
    );
}

#[tokio::test]
async fn a_successful_sign_in_resets_the_count() {
    let app = spawn_app().await;
    for _ in 0..4 {
        app.sign_in("bob", "wrong").await;
    }
    assert_eq!(
        app.sign_in("bob", "copper-fjord-whistle").await.1["result"],
        "signed_in"
    );
    assert_eq!(app.account("bob").await.lock.failed_attempts, 0);
    for _ in 0..4 {
        app.sign_in("bob", "wrong").await;
    }
    assert!(app.account("bob").await.lock.lock.is_none());
}

#[tokio::test]
async fn a_temporary_lock_expires_by_itself() {
    let app = spawn_app().await;
    app.set_policy(LockoutPolicy {
        threshold: 3,
        window: Duration::minutes(15),
        duration: LockDuration::Temporary(Duration::minutes(10)),
    })
    .await;
    for _ in 0..3 {
        app.sign_in("bob", "wrong").await;
    }
    let until = (app.clock.now() + Duration::minutes(10)).unix_timestamp();
    app.clock
        .advance(Duration::minutes(9) + Duration::seconds(59));
    assert_eq!(
        app.sign_in("bob", "copper-fjord-whistle").await.1,
        json!({ "result": "locked", "until": until, "reason": "failures",
            "self_service_paused_until": null })
    );
    app.clock.advance(Duration::seconds(1));
    assert_eq!(
        app.sign_in("bob", "copper-fjord-whistle").await.1["result"],
        "signed_in"
    );
    let bob = app.account("bob").await;
    assert!(bob.lock.lock.is_none());
    assert_eq!(bob.lock.failed_attempts, 0);
}

#[tokio::test]
async fn a_threshold_of_zero_never_locks() {
    let app = spawn_app().await;
    app.set_policy(LockoutPolicy {
        threshold: 0,
        ..LockoutPolicy::default()
    })
    .await;
    for _ in 0..12 {
        app.sign_in("bob", "wrong").await;
    }
    assert_eq!(
        app.sign_in("bob", "copper-fjord-whistle").await.1["result"],
        "signed_in"
    );
}

/// 100 wrong passwords at once against one account with threshold 5: exactly one lock,
/// a counter of exactly 5, an audit record for every attempt, and afterwards no attempt
/// signs in, right password or not.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hundred_parallel_failures_lock_exactly_once() {
    let app = Arc::new(
        spawn_app_with(|c| {
            c.password_pool.queue = 1000;
            behind_a_proxy(c);
        })
        .await,
    );
    // A hundred addresses at once, as a botnet would: the per-client limits never bite,
    // so only the account's own rule stands between them and the password.
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..100 {
        let app = app.clone();
        tasks.spawn(async move {
            app.sign_in_from(&format!("198.51.100.{i}"), "bob", "wrong-password")
                .await
        });
    }
    while let Some(r) = tasks.join_next().await {
        assert_eq!(r.unwrap(), (200, json!({ "result": "refused" })));
    }

    let bob = app.account("bob").await;
    assert_eq!(bob.lock.failed_attempts, 5);
    assert_eq!(bob.lock.lock.map(|l| l.reason), Some(LockReason::Failures));

    let audit = app.audit().await;
    let attempts: Vec<Value> = audit
        .iter()
        .filter(|r| r.action == "sign_in")
        .map(|r| serde_json::from_str(&r.details).unwrap())
        .collect();
    assert_eq!(attempts.len(), 100, "every attempt is recorded");
    let counted: Vec<i64> = attempts
        .iter()
        .filter(|d| d["reason"] == "wrong_password")
        .map(|d| d["failed_attempts"].as_i64().unwrap())
        .collect();
    assert_eq!(counted, vec![1, 2, 3, 4, 5], "counted in order, once each");
    assert_eq!(
        attempts
            .iter()
            .filter(|d| d["reason"] == "wrong_password_while_locked")
            .count(),
        95
    );
    assert_eq!(attempts.iter().filter(|d| d["locked"] == true).count(), 1);
    assert_eq!(audit.iter().filter(|r| r.action == "lock").count(), 1);

    // After the lock, nothing signs in — not even the right password, in parallel.
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..20 {
        let app = app.clone();
        let password = if i % 2 == 0 {
            "copper-fjord-whistle"
        } else {
            "wrong"
        };
        tasks.spawn(async move { app.sign_in("bob", password).await.1["result"].clone() });
    }
    while let Some(r) = tasks.join_next().await {
        assert_ne!(r.unwrap(), "signed_in");
    }
}

#[tokio::test]
async fn operators_set_the_lockout_policy_from_the_command_line() {
    let app = spawn_app().await;
    let (code, out, _) = app.cli(&["lockout-policy", "show"]).await;
    assert_eq!(code, 0);
    assert_eq!(
        out,
        "example: lock after 5 failed attempts within 15 minutes, until unlocked\n\
         northwind: lock after 5 failed attempts within 15 minutes, until unlocked\n"
    );
    for (args, flag) in [
        // Two organisations: the command must be told which.
        (&["--failed-attempts", "3"][..], "--organisation"),
        (
            &["--failed-attempts", "101", "--organisation", "example"][..],
            "--failed-attempts",
        ),
        (
            &[
                "--failed-attempts",
                "3",
                "--window-minutes",
                "0",
                "--organisation",
                "example",
            ],
            "--window-minutes",
        ),
        (
            &[
                "--failed-attempts",
                "3",
                "--lock-minutes",
                "0",
                "--organisation",
                "example",
            ],
            "--lock-minutes",
        ),
        (
            &["--failed-attempts", "3", "--organisation", "nope"],
            "--organisation",
        ),
    ] {
        let (code, _, err) = app.cli(&[&["lockout-policy", "set"], args].concat()).await;
        assert_eq!(code, 2, "{args:?}");
        assert!(err.contains(flag), "{args:?}: {err}");
    }
    let (code, _, err) = app
        .cli(&["lockout-policy", "set", "--failed-attempts", "-1"])
        .await;
    assert_eq!(code, 2);
    assert!(err.contains("--failed-attempts"), "{err}");

    let (code, out, err) = app
        .cli(&[
            "lockout-policy",
            "set",
            "--failed-attempts",
            "3",
            "--lock-minutes",
            "30",
            "--organisation",
            "example",
        ])
        .await;
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        "example: lock after 3 failed attempts within 15 minutes, for 30 minutes\n"
    );
    // The running server applies it from the next attempt on.
    for _ in 0..3 {
        app.sign_in("bob", "wrong").await;
    }
    let lock = app.account("bob").await.lock.lock.expect("locked after 3");
    assert_eq!(
        lock.expires_at,
        Some(app.clock.now() + Duration::minutes(30))
    );

    let record = app.last_audit("set_lockout_policy").await;
    assert_eq!(record.actor, "system:command line");
    let details: Value = serde_json::from_str(&record.details).unwrap();
    assert_eq!(details["failed_attempts"], 3);
    assert_eq!(details["lock_minutes"], 30);
    assert_eq!(
        details["before"],
        "lock after 5 failed attempts within 15 minutes, until unlocked"
    );
}

/// NIST SP 800-63B: at most 100 consecutive failed attempts on one account, even when
/// the organisation never locks (its directory locks by itself). The 100th failure
/// pauses sign-in; during the pause even the right password is turned away (and only it
/// learns when to come back), and the audit log says why.
#[tokio::test]
async fn never_lock_still_stops_guessing_after_100_failures_in_a_row() {
    let app = spawn_app_with(behind_a_proxy).await;
    app.set_policy(LockoutPolicy {
        threshold: 0,
        window: Duration::minutes(15),
        duration: LockDuration::UntilUnlocked,
    })
    .await;
    // Guesses spread over six addresses stay under each address's limits (30 failures
    // an hour): only the account's own count stops them.
    let mut guesses = (0..).map(|i| format!("203.0.113.{}", i % 6));
    let mut guess = |password: &'static str| {
        let from = guesses.next().unwrap();
        let app = &app;
        async move { app.sign_in_from(&from, "bob", password).await }
    };
    for _ in 0..99 {
        assert_eq!(guess("wrong").await.1["result"], "refused");
    }
    assert_eq!(app.account("bob").await.lock.consecutive_failures, 99);
    guess("wrong").await;
    let record = app.last_audit("sign_in").await;
    let details: Value = serde_json::from_str(&record.details).unwrap();
    assert_eq!(details["consecutive_failures"], 100);
    let until = app.clock.now() + latchkey_core::lockout::THROTTLE_PAUSE;
    assert_eq!(details["throttled_until"], until.unix_timestamp());
    // Guess 101 and more: refused, whatever the password, and not counted.
    for _ in 0..50 {
        assert_eq!(guess("wrong").await.1["result"], "refused");
    }
    let (_, body) = guess("copper-fjord-whistle").await;
    assert_eq!(
        body,
        json!({ "result": "locked", "until": until.unix_timestamp(), "reason": "failures",
            "self_service_paused_until": null })
    );
    let record = app.last_audit("sign_in").await;
    assert_eq!(record.outcome, "failure");
    assert!(
        record.details.contains(r#""reason":"throttled""#),
        "{}",
        record.details
    );
    assert_eq!(app.account("bob").await.lock.consecutive_failures, 100);
    assert!(app.account("bob").await.lock.lock.is_none(), "not a lock");
    // After the pause the right password gets in and the count starts again.
    app.clock.advance(latchkey_core::lockout::THROTTLE_PAUSE);
    assert_eq!(guess("copper-fjord-whistle").await.1["result"], "signed_in");
    assert_eq!(app.account("bob").await.lock.consecutive_failures, 0);
}
