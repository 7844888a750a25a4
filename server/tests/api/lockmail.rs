//! The lock email that helps (issue 14, item 6): the lock mail's *This was me* link
//! opens an unlock flow past the email step, once; *This wasn't me* keeps the account
//! locked, signs it out and makes it choose a new password.

use serde_json::{json, Value};

use super::harness::{eventually, spawn_app, Backend, TestApp};
use super::selfservice::{demo_answer, wrong_answers, Flow};

/// The text of the newest mail to `address` whose subject contains `subject`, once it
/// has arrived.
pub async fn mail_text(app: &TestApp, address: &str, subject: &str) -> String {
    let mut text = String::new();
    eventually("the mail arrives", || {
        text = app
            .mailbox()
            .into_iter()
            .rev()
            .find(|m| m.to == address && m.subject.contains(subject))
            .map(|m| m.text)
            .unwrap_or_default();
        let ok = !text.is_empty();
        async move { ok }
    })
    .await;
    text
}

/// The token (43 characters of base64url) of the link in `text` that follows `marker`.
pub fn link_token(text: &str, marker: &str) -> String {
    let start = text
        .find(marker)
        .unwrap_or_else(|| panic!("{marker} in {text}"))
        + marker.len();
    text[start..start + 43].to_owned()
}

/// The tokens of the lock mail's two links (`/locked/unlock#…`, `/locked/not-me#…`),
/// once the mail to `username`'s address has arrived.
pub async fn lock_mail_links(app: &TestApp, username: &str) -> (String, String) {
    let address = app.account(username).await.email.as_str().to_owned();
    let text = mail_text(app, &address, "was locked").await;
    (
        link_token(&text, "/locked/unlock#"),
        link_token(&text, "/locked/not-me#"),
    )
}

async fn call(app: &TestApp, endpoint: &str, body: Value) -> (u16, Value) {
    super::harness::json(app.call(endpoint, body).await).await
}

#[tokio::test]
async fn this_was_me_opens_the_unlock_flow_past_the_email_step_once() {
    let app = spawn_app().await;
    app.lock_by_failures("dave").await;
    let (unlock, not_me) = lock_mail_links(&app, "dave").await;
    assert_ne!(unlock, not_me);
    // Only hashes are stored.
    if app.backend == Backend::Sqlite {
        let stored: Vec<String> = sqlx::query_scalar("SELECT token_hash FROM lock_links")
            .fetch_all(&app.sql().await)
            .await
            .unwrap();
        assert_eq!(stored.len(), 2);
        assert!(!stored.contains(&unlock) && !stored.contains(&not_me));
    }

    let (status, body) = call(
        &app,
        "lock_link_unlock",
        json!({ "token": unlock, "channel": "web" }),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["username"], app.account("dave").await.qualified_name());
    // The web channel's factors (captcha, security questions): no name, no email code.
    assert_eq!(body["view"]["action"], "unlock");
    assert_eq!(body["view"]["total_steps"], 2);
    let mut flow = Flow {
        api: app.api(),
        id: body["flow_id"].as_str().unwrap().to_owned(),
        view: body["view"].clone(),
    };
    assert_eq!(flow.index(), 0);
    flow.pass_captcha().await;
    let (status, view) = flow.answer_questions(|q| demo_answer("dave", q)).await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["step"]["summary"]["unlocked"], true, "{view}");
    assert!(app.account("dave").await.lock.lock.is_none());

    // A second use of the link is refused, plainly, and audited.
    let (status, err) = call(
        &app,
        "lock_link_unlock",
        json!({ "token": unlock, "channel": "web" }),
    )
    .await;
    assert_eq!(
        (status, err["kind"].as_str()),
        (410, Some("flow_ended")),
        "{err}"
    );
    assert!(err["message"]
        .as_str()
        .unwrap()
        .contains("already been used or has expired"));
    let audit = app.audit().await;
    let uses: Vec<_> = audit
        .iter()
        .filter(|r| r.action == "lock_link_unlock")
        .collect();
    assert_eq!(uses.len(), 2);
    assert_eq!(uses[0].outcome, "success");
    assert!(
        uses[0].details.contains("email_code"),
        "{}",
        uses[0].details
    );
    assert_eq!(uses[1].outcome, "failure");
    assert!(
        !audit.iter().any(|r| r.details.contains(&unlock)),
        "no token in the log"
    );
}

#[tokio::test]
async fn this_was_me_on_the_mobile_channel_skips_only_the_email_code() {
    let app = spawn_app().await;
    app.lock_by_failures("dave").await;
    let (unlock, _) = lock_mail_links(&app, "dave").await;
    let (status, body) = call(
        &app,
        "lock_link_unlock",
        json!({ "token": unlock, "channel": "mobile" }),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    // Mobile asks captcha + email code; the link stands for the code.
    assert_eq!(body["view"]["total_steps"], 1, "{body}");
    assert_eq!(
        body["view"]["step"]["prompt"]["factor"], "captcha",
        "{body}"
    );
}

#[tokio::test]
async fn this_wasnt_me_keeps_it_locked_signs_it_out_and_asks_for_a_new_password() {
    let app = spawn_app().await;
    let (status, body) = app.sign_in("dave", "walnut-harbour-tram").await;
    assert_eq!((status, body["result"].as_str()), (200, Some("signed_in")));
    app.lock_by_failures("dave").await;
    let (unlock, not_me) = lock_mail_links(&app, "dave").await;

    let (status, body) = call(&app, "lock_link_not_me", json!({ "token": not_me })).await;
    assert_eq!(status, 200, "{body}");
    let dave = app.account("dave").await;
    let lock = dave.lock.lock.expect("still locked");
    assert_eq!(lock.expires_at, None, "locked until someone unlocks it");
    assert!(dave.must_change_password);
    let record = app.last_audit("reported_not_me").await;
    assert_eq!(record.outcome, "success");
    let details: Value = serde_json::from_str(&record.details).unwrap();
    assert_eq!(details["suspicious"], true);
    assert_eq!(details["sessions_revoked"], 1, "{details}");
    assert_eq!(details["must_change_password"], true);
    assert_eq!(details["links_spent"], 1, "the mail's other link");

    // Neither link works again.
    let (status, err) = call(&app, "lock_link_not_me", json!({ "token": not_me })).await;
    assert_eq!(
        (status, err["kind"].as_str()),
        (410, Some("flow_ended")),
        "{err}"
    );
    let (status, err) = call(
        &app,
        "lock_link_unlock",
        json!({ "token": unlock, "channel": "web" }),
    )
    .await;
    assert_eq!(
        (status, err["kind"].as_str()),
        (410, Some("flow_ended")),
        "{err}"
    );
    assert!(app.account("dave").await.lock.lock.is_some());
}

#[tokio::test]
async fn a_link_that_is_not_one_is_refused_naming_the_field() {
    let app = spawn_app().await;
    let (status, err) = call(&app, "lock_link_not_me", json!({ "token": "short" })).await;
    assert_eq!(
        (status, err["field"].as_str()),
        (400, Some("token")),
        "{err}"
    );
    let (status, err) = call(
        &app,
        "lock_link_unlock",
        json!({ "token": "A".repeat(43), "channel": "web" }),
    )
    .await;
    assert_eq!(
        (status, err["kind"].as_str()),
        (410, Some("flow_ended")),
        "{err}"
    );
    let (status, err) = call(
        &app,
        "lock_link_unlock",
        json!({ "token": "A".repeat(43), "channel": "kiosk" }),
    )
    .await;
    assert_eq!(status, 400, "{err}");
}

/// The mail that says self-service was paused (too many wrong answers: someone may be
/// guessing) carries a *This wasn't me* link too: it keeps the account locked beyond the
/// pause, signs it out, and opens a suspicious support request.
#[tokio::test]
async fn the_paused_mail_carries_a_this_wasnt_me_link() {
    let app = spawn_app().await;
    wrong_answers(&app, "heidi", 5).await;
    let text = mail_text(&app, "heidi@example.org", "paused").await;
    assert!(
        !text.contains("/locked/unlock#"),
        "no This was me while paused"
    );
    let token = link_token(&text, "/locked/not-me#");

    let (status, body) = call(&app, "lock_link_not_me", json!({ "token": token })).await;
    assert_eq!(status, 200, "{body}");
    let lock = app.account("heidi").await.lock.lock.unwrap();
    assert_eq!(lock.expires_at, None, "locked until someone unlocks it");
    let record = app.last_audit("reported_not_me").await;
    assert!(
        record.details.contains("\"support_request\":\"SR-"),
        "{}",
        record.details
    );
    let (status, _) = call(&app, "lock_link_not_me", json!({ "token": token })).await;
    assert_eq!(status, 410, "once only");
}
