//! `GET /metrics`: never public by default, open on its own listener or with the bearer
//! token, its counters moving as the server works, and nothing private in it.

use serde_json::json;

use super::harness::{eventually, spawn_app, spawn_app_with, TestApp};

const TOKEN: &str = "a-metrics-token-of-at-least-32-characters";

/// The value of the sample `name{labels}` (labels as the exposition writes them), or 0.
fn sample(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or(0.0)
}

async fn scrape(app: &TestApp) -> String {
    let res = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    res.text().await.unwrap()
}

#[tokio::test]
async fn metrics_are_not_served_unless_configured_and_need_the_token_on_the_main_listener() {
    let app = spawn_app().await;
    assert_eq!(app.get("/metrics").await.status(), 404);

    let app = spawn_app_with(|c| c.metrics.token = Some(TOKEN.to_owned().into())).await;
    assert_eq!(app.get("/metrics").await.status(), 404, "no token");
    for wrong in ["Bearer nope", &format!("Bearer {TOKEN}x"), TOKEN] {
        let res = app
            .client
            .get(app.url("/metrics"))
            .header("authorization", wrong)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 404, "{wrong}");
    }
    let text = scrape(&app).await;
    assert!(
        text.contains("# TYPE latchkey_http_requests counter"),
        "{text}"
    );
    assert!(text.ends_with("# EOF\n"), "{text}");
}

#[tokio::test]
async fn a_metrics_listener_serves_only_metrics_without_a_token() {
    let app = spawn_app_with(|c| c.metrics.listen = Some("127.0.0.1:0".parse().unwrap())).await;
    let base = app.metrics_base.clone().unwrap();
    let res = reqwest::get(format!("{base}/metrics")).await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("latchkey_password_hashing_capacity"));
    // Only /metrics there; and still nothing on the main listener.
    assert_eq!(
        reqwest::get(format!("{base}/")).await.unwrap().status(),
        404
    );
    assert_eq!(app.get("/metrics").await.status(), 404);
}

#[tokio::test]
async fn counters_move_with_a_lock_and_an_unlock_and_name_no_one() {
    let app = spawn_app_with(|c| c.metrics.token = Some(TOKEN.to_owned().into())).await;
    let before = scrape(&app).await;

    app.lock_by_failures("bob").await;
    let lena = app.demo_operator("lena").await;
    let (_, page) = lena
        .post(
            "users_search",
            json!({ "query": { "text": "bob", "only_locked": true, "organisation": null,
                "store": null, "status": null, "sort": "username", "after": null } }),
        )
        .await;
    let id = page["rows"][0]["id"].as_str().unwrap().to_owned();
    let (status, _) = lena
        .post("user_unlock", json!({ "id": id, "advise_reset": false }))
        .await;
    assert_eq!(status, 200);
    let (_, body) = app.sign_in("nobody-at-all", "not-the-password").await;
    assert_eq!(body["result"], "refused");
    let after = scrape(&app).await;

    let moved = |series: &str, by: f64| {
        assert_eq!(
            sample(&after, series) - sample(&before, series),
            by,
            "{series}\n{after}"
        );
    };
    // Five wrong passwords for bob, one for an unknown name; the operator's sign-in.
    moved(r#"latchkey_sign_ins_total{outcome="failure"}"#, 6.0);
    moved(
        r#"latchkey_locks_total{reason="failures",actor="system"}"#,
        1.0,
    );
    moved(r#"latchkey_unlocks_total{actor="operator"}"#, 1.0);
    moved(
        r#"latchkey_http_requests_total{endpoint="/api/user_unlock",method="POST",status="200"}"#,
        1.0,
    );
    assert!(
        after.contains(r#"latchkey_http_request_duration_seconds_count{endpoint="/api/sign_in"}"#),
        "{after}"
    );
    // The outbox's depth by status: every row counted once (bob's lock and unlock mails).
    let rows = app.outbox().await.len() as f64;
    let depth: f64 = ["pending", "sent", "failed"]
        .iter()
        .map(|s| {
            sample(
                &after,
                &format!(r#"latchkey_outbox_messages{{status="{s}"}}"#),
            )
        })
        .sum();
    assert_eq!(depth, rows, "{after}");
    assert!(rows >= 2.0);
    // Delivered mail (to the on-disk mailbox here) is timed and counted.
    eventually("the mail is delivered", || {
        let sent = app.mailbox().len();
        async move { sent >= 2 }
    })
    .await;
    // The worker tells the metrics just after recording each delivery: scrape until it
    // has (a bounded wait, as `eventually`), then check that one scrape.
    let settled = |text: &str| {
        let sent = sample(
            text,
            r#"latchkey_outbox_delivery_attempts_total{result="sent"}"#,
        );
        sent >= 2.0 && sample(text, "latchkey_outbox_delivery_seconds_count") == sent
    };
    let mut delivered = scrape(&app).await;
    for _ in 0..400 {
        if settled(&delivered) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        delivered = scrape(&app).await;
    }
    let sent = sample(
        &delivered,
        r#"latchkey_outbox_delivery_attempts_total{result="sent"}"#,
    );
    assert!(sent >= 2.0, "{delivered}");
    assert_eq!(
        sample(&delivered, "latchkey_outbox_delivery_seconds_count"),
        sent,
        "{delivered}"
    );
    // A path nobody registered is counted as `other`, not as itself.
    app.get("/no/such/page/for-anyone").await;
    let later = scrape(&app).await;
    assert!(!later.contains("for-anyone"), "{later}");

    // Nothing private: no username, address or id of the accounts involved.
    for private in [
        "bob",
        "lena",
        "nobody-at-all",
        "example.org",
        "127.0.0.1",
        &id,
    ] {
        assert!(
            !later.contains(private),
            "{private} in the metrics:\n{later}"
        );
    }
}

/// Self-service steps by channel, step and factor; per-client rate-limit refusals by
/// endpoint.
#[tokio::test]
async fn self_service_steps_by_factor_and_rate_limit_refusals_are_counted() {
    let app = spawn_app_with(|c| {
        c.metrics.token = Some(TOKEN.to_owned().into());
        c.client_limits.requests_per_minute = 3;
    })
    .await;
    let before = scrape(&app).await;
    let mut refused = 0;
    for _ in 0..6 {
        let (status, _) = app
            .api()
            .post(
                "flow_start",
                json!({ "action": "unlock", "channel": "web" }),
            )
            .await;
        if status == 429 {
            refused += 1;
        }
    }
    assert!(refused >= 1, "the limit refused some");
    let after = scrape(&app).await;
    let moved = |series: &str| sample(&after, series) - sample(&before, series);
    assert_eq!(
        moved(r#"latchkey_rate_limited_total{endpoint="/api/flow_start"}"#),
        f64::from(refused),
        "{after}"
    );
    assert_eq!(
        moved(
            r#"latchkey_self_service_steps_total{channel="web",step="self_service_start",factor="none",outcome="success"}"#
        ),
        f64::from(6 - refused),
        "{after}"
    );
}
