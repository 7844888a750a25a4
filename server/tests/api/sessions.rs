use serde_json::json;
use time::Duration;

use crate::harness::{json, spawn_app, spawn_app_with, TestApp};

/// Signs in with a cookie-less client and returns the raw Set-Cookie header.
async fn sign_in_cookie(app: &TestApp, origin: &str) -> String {
    let res = reqwest::Client::new()
        .post(app.url("/api/sign_in"))
        .header("origin", origin)
        .json(&json!({ "username": "alice", "password": "lantern-orbit-meadow" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    res.headers()["set-cookie"].to_str().unwrap().to_owned()
}

/// Asks who is signed in, presenting exactly `cookie` ("name=value").
async fn whoami(app: &TestApp, cookie: &str) -> serde_json::Value {
    let res = reqwest::Client::new()
        .post(app.url("/api/current_account"))
        .header("origin", &app.base)
        .header("cookie", cookie)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    json(res).await.1
}

fn name_value(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap().to_owned()
}

#[tokio::test]
async fn the_session_cookie_is_http_only_strict_and_opaque() {
    let app = spawn_app().await;
    let cookie = sign_in_cookie(&app, &app.base).await;
    assert!(cookie.starts_with("latchkey_session="), "{cookie}");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Strict"), "{cookie}");
    assert!(cookie.contains("Path=/"), "{cookie}");
    assert!(
        !cookie.contains("Secure"),
        "http base URL: not Secure ({cookie})"
    );
    let token = name_value(&cookie).split('=').nth(1).unwrap().to_owned();
    assert_eq!(token.len(), 43, "256 random bits");
    // The database knows only the token's hash.
    let sessions = app
        .read()
        .await
        .sessions_of(app.account("alice").await.id)
        .await
        .unwrap();
    assert_eq!(sessions.len(), 1);
    assert_ne!(sessions[0].id_hash, token);
}

#[tokio::test]
async fn behind_https_the_cookie_is_secure_and_host_bound() {
    let app = spawn_app_with(|c| c.base_url = "https://unlock.example.org".to_owned()).await;
    let cookie = sign_in_cookie(&app, "https://unlock.example.org").await;
    assert!(cookie.starts_with("__Host-latchkey_session="), "{cookie}");
    assert!(cookie.contains("Secure"), "{cookie}");
}

#[tokio::test]
async fn sign_in_rotates_the_session() {
    let app = spawn_app().await;
    let first = name_value(&sign_in_cookie(&app, &app.base).await);
    let res = reqwest::Client::new()
        .post(app.url("/api/sign_in"))
        .header("origin", &app.base)
        .header("cookie", &first)
        .json(&json!({ "username": "alice", "password": "lantern-orbit-meadow" }))
        .send()
        .await
        .unwrap();
    let second = name_value(res.headers()["set-cookie"].to_str().unwrap());
    assert_ne!(first, second);
    assert_eq!(
        whoami(&app, &first).await,
        serde_json::Value::Null,
        "old session ended"
    );
    assert_eq!(whoami(&app, &second).await["username"], "EXAMPLE\\alice");
}

#[tokio::test]
async fn signing_out_ends_the_session_for_good() {
    let app = spawn_app().await;
    let cookie = name_value(&sign_in_cookie(&app, &app.base).await);
    let res = reqwest::Client::new()
        .post(app.url("/api/sign_out"))
        .header("origin", &app.base)
        .header("cookie", &cookie)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let cleared = res.headers()["set-cookie"].to_str().unwrap();
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    // Replaying the old cookie does not bring the session back.
    assert_eq!(whoami(&app, &cookie).await, serde_json::Value::Null);
    let audit = app.audit().await;
    assert_eq!(audit.last().unwrap().action, "sign_out");
}

#[tokio::test]
async fn idle_sessions_time_out() {
    let app = spawn_app().await;
    let cookie = name_value(&sign_in_cookie(&app, &app.base).await);
    app.clock.advance(Duration::minutes(29));
    assert_eq!(whoami(&app, &cookie).await["username"], "EXAMPLE\\alice");
    // The request above refreshed the idle timer.
    app.clock.advance(Duration::minutes(29));
    assert_eq!(whoami(&app, &cookie).await["username"], "EXAMPLE\\alice");
    app.clock.advance(Duration::minutes(30));
    assert_eq!(whoami(&app, &cookie).await, serde_json::Value::Null);
}

#[tokio::test]
async fn sessions_end_at_the_absolute_timeout_however_active() {
    let app = spawn_app().await;
    let cookie = name_value(&sign_in_cookie(&app, &app.base).await);
    for _ in 0..(12 * 3 - 1) {
        app.clock.advance(Duration::minutes(20));
        assert_eq!(whoami(&app, &cookie).await["username"], "EXAMPLE\\alice");
    }
    app.clock.advance(Duration::minutes(20));
    assert_eq!(
        whoami(&app, &cookie).await,
        serde_json::Value::Null,
        "12 hours on"
    );
}

#[tokio::test]
async fn revoking_all_sessions_ends_every_browser() {
    use latchkey_core::audit::{Actor, AuditChannel as Channel};

    let app = spawn_app().await;
    let a = name_value(&sign_in_cookie(&app, &app.base).await);
    let b = name_value(&sign_in_cookie(&app, &app.base).await);
    let alice = app.account("alice").await;
    let revoked = app
        .core
        .revoke_all_sessions(&alice, Actor::System("test"), Channel::System, None)
        .await
        .unwrap();
    assert_eq!(revoked, 2);
    assert_eq!(whoami(&app, &a).await, serde_json::Value::Null);
    assert_eq!(whoami(&app, &b).await, serde_json::Value::Null);
}

#[tokio::test]
async fn a_forged_cookie_is_nobody() {
    let app = spawn_app().await;
    let forged = format!("latchkey_session={}", "A".repeat(43));
    assert_eq!(whoami(&app, &forged).await, serde_json::Value::Null);
    assert_eq!(
        whoami(&app, "latchkey_session=../../etc").await,
        serde_json::Value::Null
    );
}
