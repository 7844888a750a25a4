use serde_json::json;

use crate::harness::{json, spawn_app};

#[tokio::test]
async fn the_right_password_signs_in() {
    let app = spawn_app().await;
    let (status, body) = app.sign_in("alice", "lantern-orbit-meadow").await;
    assert_eq!(status, 200);
    assert_eq!(body["result"], "signed_in");
    assert_eq!(body["account"]["username"], "EXAMPLE\\alice");
    assert_eq!(body["account"]["display_name"], "Alice Ashdown");
    assert_eq!(body["account"]["email_masked"], "a•••e@example.org");
    let (_, me) = json(app.call("current_account", json!({})).await).await;
    assert_eq!(me["username"], "EXAMPLE\\alice");
}

#[tokio::test]
async fn usernames_are_matched_without_regard_to_case_or_store_prefix() {
    let app = spawn_app().await;
    for name in ["ALICE", " alice ", "example\\alice", "EXAMPLE\\Alice"] {
        let (_, body) = app.sign_in(name, "lantern-orbit-meadow").await;
        assert_eq!(body["result"], "signed_in", "{name:?}");
    }
    let (_, body) = app.sign_in("OTHER\\alice", "lantern-orbit-meadow").await;
    assert_eq!(
        body["result"], "refused",
        "a store that does not exist has no alice"
    );
}

#[tokio::test]
async fn wrong_password_unknown_user_and_disabled_account_look_the_same() {
    let app = spawn_app().await;
    let wrong = app.sign_in("alice", "not-her-password").await;
    let unknown = app.sign_in("nobody-here", "not-her-password").await;
    let disabled = app.sign_in("carol", "saffron-quarry-ninety").await;
    assert_eq!(wrong, (200, json!({ "result": "refused" })));
    assert_eq!(unknown, wrong);
    assert_eq!(disabled, wrong, "even with the right password");
    let (_, me) = json(app.call("current_account", json!({})).await).await;
    assert_eq!(me, serde_json::Value::Null);
}

#[tokio::test]
async fn a_locked_account_says_so_only_to_the_right_password() {
    let app = spawn_app().await;
    for _ in 0..5 {
        app.sign_in("bob", "wrong").await;
    }
    assert_eq!(
        app.sign_in("bob", "wrong").await.1,
        json!({ "result": "refused" })
    );
    assert_eq!(
        app.sign_in("bob", "copper-fjord-whistle").await.1,
        json!({ "result": "locked", "until": null, "reason": "failures",
            "self_service_paused_until": null })
    );
}

#[tokio::test]
async fn bad_sign_in_input_names_the_field_and_changes_nothing() {
    let app = spawn_app().await;
    let cases = [
        (json!({ "username": "", "password": "x" }), "username"),
        (json!({ "username": "bob", "password": "" }), "password"),
        (
            json!({ "username": "b".repeat(200), "password": "x" }),
            "username",
        ),
        (
            json!({ "username": "bob", "password": "p".repeat(2000) }),
            "password",
        ),
        (json!({ "username": "bob" }), "password"),
        (
            json!({ "username": "bob", "password": "x", "remember": true }),
            "remember",
        ),
        (json!({ "username": 7, "password": "x" }), "username"),
        (
            json!({ "username": "bob\u{0}", "password": "x" }),
            "username",
        ),
    ];
    for (body, field) in cases {
        let (status, err) = json(app.call("sign_in", body.clone()).await).await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(err["kind"], "invalid", "{body}");
        assert_eq!(err["field"], field, "{body}");
        assert!(!err["message"].as_str().unwrap().is_empty());
    }
    let bob = app.account("bob").await;
    assert_eq!(
        bob.lock.failed_attempts, 0,
        "refused input counts no failure"
    );
    assert!(app.audit().await.is_empty(), "and is not an attempt");
}

#[tokio::test]
async fn a_cross_site_sign_in_is_refused_before_checking_anything() {
    let app = spawn_app().await;
    let res = app
        .raw("sign_in")
        .header("origin", "https://evil.example")
        .body(r#"{"username":"alice","password":"lantern-orbit-meadow"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert!(res.headers().get("set-cookie").is_none());
    assert!(app.audit().await.is_empty());
}

#[tokio::test]
async fn a_saturated_password_pool_answers_busy_with_retry_after() {
    let app = crate::harness::spawn_app_with(|c| {
        // One slow hash at a time and no queue: concurrent sign-ins must be turned away.
        c.argon2 = latchkey_core::password::Argon2Settings {
            memory_kib: 64 * 1024,
            iterations: 3,
            parallelism: 1,
        };
        c.password_pool.workers = 1;
        c.password_pool.queue = 0;
    })
    .await;
    let app = std::sync::Arc::new(app);
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..12 {
        let app = app.clone();
        tasks.spawn(async move {
            app.raw("sign_in")
                .header("origin", &app.base)
                .body(r#"{"username":"alice","password":"lantern-orbit-meadow"}"#)
                .send()
                .await
                .unwrap()
        });
    }
    let (mut ok, mut busy) = (0, 0);
    while let Some(res) = tasks.join_next().await {
        let res = res.unwrap();
        match res.status().as_u16() {
            200 => ok += 1,
            503 => {
                assert_eq!(res.headers()["retry-after"], "1");
                let (_, body) = json(res).await;
                assert_eq!(body["kind"], "busy");
                busy += 1;
            }
            other => panic!("unexpected status {other}"),
        }
    }
    assert!(ok >= 1, "the admitted sign-in completes");
    assert!(
        busy >= 1,
        "the rest are told to retry, not queued without bound"
    );
}
