//! An operator's *Reset a Secret Key* (seed 001) and *Resecure* (seed 002), and the
//! required actions a user then goes through at sign-in, as the user, the operator and
//! an attacker meet them over HTTP.

use latchkey_core::demo::{OPERATORS, USERS};
use serde_json::{json, Value};
use time::Duration;

use latchkey_core::clock::Clock;

use super::harness::{eventually, seed_demo, spawn_app, Api, ServerProcess, TestApp};
use crate::enrolment::code_at;
use crate::selfservice::Flow;

fn password_of(username: &str) -> &'static str {
    USERS
        .iter()
        .chain(OPERATORS)
        .find(|u| u.username == username)
        .unwrap()
        .password
}

/// A user signed in to the portal in a browser of their own.
async fn portal(app: &TestApp, username: &str, password: &str) -> (Api, Value) {
    let api = Api::new(app.base.clone());
    let (status, body) = api.sign_in(username, password).await;
    assert_eq!(status, 200, "{body}");
    (api, body)
}

/// The newest mail to `address` whose subject contains `subject`, once it arrives.
async fn mail_to(app: &TestApp, address: &str, subject: &str) -> String {
    let mut text = String::new();
    eventually("the mail arrives", || {
        let found = app
            .mailbox()
            .into_iter()
            .rev()
            .find(|m| m.to == address && m.subject.contains(subject));
        let ok = found.is_some();
        if let Some(m) = found {
            text = m.text;
        }
        async move { ok }
    })
    .await;
    text
}

fn six_digits(text: &str) -> String {
    text.split_whitespace()
        .find(|w| w.len() == 6 && w.bytes().all(|b| b.is_ascii_digit()))
        .unwrap()
        .to_owned()
}

/// erin with an authenticator enrolled; answers its secret.
async fn enrol_authenticator(app: &TestApp, username: &str) -> String {
    let (erin, _) = portal(app, username, password_of(username)).await;
    let (_, setup) = erin.post("authenticator_begin", json!({})).await;
    let secret = setup["secret"].as_str().unwrap().to_owned();
    let code = code_at(&secret, app.clock.now().unix_timestamp());
    let (status, body) = erin
        .post("authenticator_confirm", json!({ "code": code }))
        .await;
    assert_eq!(status, 200, "{body}");
    secret
}

#[tokio::test]
async fn after_an_mfa_reset_the_next_sign_in_authorises_the_device_then_enrols_a_new_authenticator()
{
    let app = spawn_app().await;
    let old_secret = enrol_authenticator(&app, "erin").await;
    let lena = app.demo_operator("lena").await;
    let erin_id = lena.user_id("erin").await;
    let (status, body) = lena.post("user_reset_mfa", json!({ "id": erin_id })).await;
    assert_eq!(status, 200, "{body}");
    let record = app.last_audit("reset_mfa").await;
    assert_eq!(details(&record)["had_authenticator"], true);
    mail_to(&app, "erin@example.org", "authenticator was reset").await;
    let (_, detail) = lena.post("user_detail", json!({ "id": erin_id })).await;
    assert_eq!(detail["authenticator"], false);
    assert_eq!(detail["required_actions"], json!(["device_authorization"]));

    // Sign in: the right password leads only to device authorization.
    app.clock.advance(Duration::seconds(31));
    let (erin, body) = portal(&app, "erin", password_of("erin")).await;
    assert_eq!(body["account"]["required_action"], "device_authorization");
    for (endpoint, body) in [
        ("authenticator_begin", json!({})),
        ("security_questions", json!({})),
    ] {
        let (status, refused) = erin.post(endpoint, body).await;
        assert_eq!(status, 409, "{endpoint}: {refused}");
        assert_eq!(
            refused,
            json!({ "kind": "action_required", "action": "device_authorization" })
        );
    }
    let code = six_digits(&mail_to(&app, "erin@example.org", "device authorization code").await);
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let (_, reply) = erin
        .post("device_authorize", json!({ "code": wrong }))
        .await;
    assert_eq!(reply["result"], "wrong", "{reply}");
    let (_, reply) = erin.post("device_authorize", json!({ "code": code })).await;
    assert_eq!(reply, json!({ "result": "passed" }));
    // Single use: the same code again is not accepted (the step is done).
    let (status, _) = erin.post("device_authorize", json!({ "code": code })).await;
    assert_eq!(status, 409);

    // The new authenticator: scan, confirm, done.
    let (_, me) = erin.post("current_account", json!({})).await;
    assert_eq!(me["required_action"], "new_authenticator");
    let (status, setup) = erin.post("authenticator_begin", json!({})).await;
    assert_eq!(status, 200, "{setup}");
    let new_secret = setup["secret"].as_str().unwrap().to_owned();
    assert_ne!(new_secret, old_secret);
    let code = code_at(&new_secret, app.clock.now().unix_timestamp());
    let (status, body) = erin
        .post("authenticator_confirm", json!({ "code": code }))
        .await;
    assert_eq!(status, 200, "{body}");
    let (_, me) = erin.post("current_account", json!({})).await;
    assert_eq!(me["required_action"], Value::Null);
    assert_eq!(me["has_authenticator"], true);
    let (status, _) = erin.post("security_questions", json!({})).await;
    assert_eq!(status, 200, "everything is usable again");

    // The old authenticator's codes no longer pass self-service; the new one's do.
    app.core
        .set_auth_flow(
            &super::harness::system(),
            latchkey_core::auth_flow::FlowScope::All,
            &[latchkey_core::factor::FactorKind::Totp],
        )
        .await
        .unwrap();
    app.clock.advance(Duration::seconds(30));
    let now = app.clock.now().unix_timestamp();
    let totp = |code: String| json!({ "factor": "totp", "code": code });
    let mut flow = Flow::start(&app, "unlock").await;
    flow.identify("erin").await;
    let (_, view) = flow.answer(0, totp(code_at(&old_secret, now))).await;
    assert_eq!(view["step"]["retry"], true, "the old authenticator: {view}");
    let (_, view) = flow.answer(0, totp(code_at(&new_secret, now))).await;
    assert_eq!(view["step"]["step"], "done", "the new one: {view}");
    let erin_account = app.account("erin").await;
    let credential = app
        .read()
        .await
        .totp_credential(erin_account.id)
        .await
        .unwrap()
        .unwrap();
    assert!(credential.pending_secret.is_none());
    let device = app.last_audit("device_authorization").await;
    assert_eq!(details(&device)["result"], "passed");
    assert!(!format!("{:?}", app.audit().await).contains(&code));
}

#[tokio::test]
async fn a_device_authorization_code_expires_and_allows_a_few_tries() {
    let app = spawn_app().await;
    let lena = app.demo_operator("lena").await;
    let id = lena.user_id("frank").await;
    lena.post("user_reset_mfa", json!({ "id": id })).await;
    let (frank, _) = portal(&app, "frank", password_of("frank")).await;
    let code = six_digits(&mail_to(&app, "frank@example.org", "device authorization code").await);
    app.clock.advance(Duration::minutes(16));
    let (_, reply) = frank
        .post("device_authorize", json!({ "code": code }))
        .await;
    assert_eq!(reply, json!({ "result": "spent" }), "expired");

    // A new sign-in gets a new code; five wrong tries spend it.
    let (frank, _) = portal(&app, "frank", password_of("frank")).await;
    let mut code = String::new();
    eventually("a second code", || {
        let codes: Vec<_> = app
            .mailbox()
            .into_iter()
            .filter(|m| m.subject.contains("device authorization code"))
            .collect();
        let ok = codes.len() == 2;
        if ok {
            code = six_digits(&codes[1].text);
        }
        async move { ok }
    })
    .await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let mut last = Value::Null;
    for _ in 0..5 {
        last = frank
            .post("device_authorize", json!({ "code": wrong }))
            .await
            .1;
    }
    assert_eq!(last, json!({ "result": "spent" }));
    let (_, reply) = frank
        .post("device_authorize", json!({ "code": code }))
        .await;
    assert_eq!(
        reply,
        json!({ "result": "spent" }),
        "out of tries, even the right code"
    );
    let (status, refused) = frank.post("authenticator_begin", json!({})).await;
    assert_eq!(
        (status, &refused["action"]),
        (409, &json!("device_authorization"))
    );
}

#[tokio::test]
async fn a_resecured_user_is_signed_out_and_goes_through_every_required_action_in_order() {
    let app = spawn_app().await;
    let (grace, _) = portal(&app, "grace", password_of("grace")).await;
    let lena = app.demo_operator("lena").await;
    let id = lena.user_id("grace").await;
    let (status, temporary) = lena.post("generate_password", json!({})).await;
    assert_eq!(status, 200);
    let temporary = temporary.as_str().unwrap().to_owned();
    assert_eq!(temporary.len(), 23, "{temporary}");
    let resecure = json!({
        "id": id,
        "resecure": { "temporary_password": temporary, "require_change": true },
    });
    let (status, body) = lena.post("user_resecure", resecure).await;
    assert_eq!(status, 200, "{body}");

    // The open session ends at once.
    let (status, body) = grace.post("security_questions", json!({})).await;
    assert_eq!((status, &body["kind"]), (401, &json!("unauthenticated")));
    let record = app.last_audit("resecure").await;
    assert_eq!(record.outcome, "success");
    assert_eq!(details(&record)["sessions_ended"], 1);
    assert_eq!(details(&record)["require_password_change"], true);
    assert_eq!(details(&record)["effects"].as_array().unwrap().len(), 5);
    mail_to(&app, "grace@example.org", "was resecured").await;
    let account = app.account("grace").await;
    assert!(app.store_enrolled("grace").await.is_empty());
    assert_eq!(account.aup_accepted_at, None);

    // The old password no longer works; the temporary one does, and leads the way.
    let (_, refused) = Api::new(app.base.clone())
        .sign_in("grace", password_of("grace"))
        .await;
    assert_eq!(refused["result"], "refused");
    let (grace, body) = portal(&app, "grace", &temporary).await;
    assert_eq!(body["account"]["required_action"], "change_password");
    // Nothing else, however it is asked for.
    for (endpoint, body) in [
        ("security_questions", json!({})),
        ("accept_aup", json!({ "version": 1 })),
        ("authenticator_begin", json!({})),
        (
            "update_profile",
            json!({ "profile": { "display_name": "G", "email": "g@example.org", "phone": "" } }),
        ),
    ] {
        let (status, refused) = grace.post(endpoint, body).await;
        assert_eq!(status, 409, "{endpoint}: {refused}");
        assert_eq!(refused["action"], "change_password", "{endpoint}");
    }
    let new_password = "orchid-lantern-basalt-42";
    let (status, body) = grace
        .post(
            "change_password",
            json!({ "current": "wrong", "password": new_password, "confirm": new_password }),
        )
        .await;
    assert_eq!((status, &body["field"]), (400, &json!("current")), "{body}");
    let (status, body) = grace
        .post(
            "change_password",
            json!({ "current": temporary, "password": new_password, "confirm": new_password }),
        )
        .await;
    assert_eq!(status, 200, "{body}");

    // Then the AUP: the version that was read.
    let (_, me) = grace.post("current_account", json!({})).await;
    assert_eq!(me["required_action"], "accept_aup");
    let (_, aup) = grace.post("aup_text", json!({})).await;
    assert!(aup["text"]
        .as_str()
        .unwrap()
        .contains("Do not share your password"));
    let (status, _) = grace.post("accept_aup", json!({ "version": 99 })).await;
    assert_eq!(status, 400);
    let (status, body) = grace
        .post("accept_aup", json!({ "version": aup["version"] }))
        .await;
    assert_eq!(status, 200, "{body}");

    // Then the profile, validated.
    let (_, me) = grace.post("current_account", json!({})).await;
    assert_eq!(me["required_action"], "update_profile");
    let (_, profile) = grace.post("profile", json!({})).await;
    assert_eq!(profile["email"], "grace@example.org");
    let bad = json!({ "profile": { "display_name": "Grace Hopper", "email": "grace@example.org", "phone": "call me" } });
    let (status, body) = grace.post("update_profile", bad).await;
    assert_eq!((status, &body["field"]), (400, &json!("phone")));
    let good = json!({ "profile": { "display_name": "Grace Hopper", "email": "grace@example.org", "phone": "+44 20 7946 0000" } });
    let (status, body) = grace.post("update_profile", good).await;
    assert_eq!(status, 200, "{body}");

    // Then new security answers; interrupting and signing in again resumes here.
    let (grace, body) = portal(&app, "grace", new_password).await;
    assert_eq!(body["account"]["required_action"], "security_questions");
    let (_, setup) = grace.post("security_questions", json!({})).await;
    let ids: Vec<i64> = setup["catalogue"]
        .as_array()
        .unwrap()
        .iter()
        .take(setup["to_enrol"].as_u64().unwrap() as usize)
        .map(|q| q["id"].as_i64().unwrap())
        .collect();
    let answers: Vec<Value> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            json!({ "question": { "kind": "catalogue", "id": id }, "answer": format!("answer number {i}") })
        })
        .collect();
    let (status, body) = grace
        .post("enrol_security_questions", json!({ "questions": answers }))
        .await;
    assert_eq!(status, 200, "{body}");
    let (_, me) = grace.post("current_account", json!({})).await;
    assert_eq!(me["required_action"], Value::Null, "{me}");
    assert_eq!(me["display_name"], "Grace Hopper");
    let actions: Vec<String> = app.audit().await.into_iter().map(|r| r.action).collect();
    for action in [
        "change_password",
        "accept_aup",
        "update_profile",
        "enrol_security_questions",
    ] {
        assert!(actions.contains(&action.to_owned()), "{action} audited");
    }
}

#[tokio::test]
async fn resecure_is_refused_with_the_reason_and_changes_nothing() {
    let app = spawn_app().await;
    let lena = app.demo_operator("lena").await;
    let form = |id: &str| json!({ "id": id, "resecure": { "temporary_password": "quartz-meadow-falcon-77", "require_change": true } });
    // A user created in the console has never accepted the AUP.
    let user = json!({ "user": { "store": "EXAMPLE", "username": "newbie", "display_name": "New Bie", "email": "newbie@example.org" } });
    let (status, newbie) = lena.post("user_create", user).await;
    assert_eq!(status, 200, "{newbie}");
    let newbie = newbie.as_str().unwrap().to_owned();
    app.lock_by_failures("bob").await;
    // Bob's lock mail is sent first: the mail worker must not change the outbox between
    // two snapshots.
    eventually("the lock mail is sent", || async {
        app.outbox()
            .await
            .iter()
            .all(|m| m.status == latchkey_core::outbox::DeliveryStatus::Sent)
    })
    .await;
    let bob = lena.user_id("bob").await;
    let carol = lena.user_id("carol").await;
    for (id, reason) in [
        (&newbie, "aup_not_accepted"),
        (&bob, "locked"),
        (&carol, "not_active"),
    ] {
        let (_, detail) = lena.post("user_detail", json!({ "id": id })).await;
        assert_eq!(detail["resecure_blocked"], reason, "the page says why");
        let before = app.snapshot().await;
        let (status, body) = lena.post("user_resecure", form(id)).await;
        assert_eq!(status, 409, "{body}");
        assert_eq!(
            body,
            json!({ "kind": "resecure_blocked", "reason": reason })
        );
        assert_eq!(app.snapshot().await, before, "nothing changed for {reason}");
        let refused = app.last_audit("resecure").await;
        assert_eq!(refused.outcome, "failure");
        assert_eq!(details(&refused)["refused"], reason);
    }
    // Without the permission: forbidden; another organisation's operator: not found.
    let hugo = app.demo_operator("hugo").await;
    let dave = lena.user_id("dave").await;
    let (status, _) = hugo.post("user_resecure", form(&dave)).await;
    assert_eq!(status, 403);
    let nora = app.demo_operator("nora").await;
    let (status, _) = nora.post("user_resecure", form(&dave)).await;
    assert_eq!(status, 404);
    let (status, _) = nora.post("user_reset_mfa", json!({ "id": dave })).await;
    assert_eq!(status, 404);
    // A weak temporary password is refused, naming the field.
    let (status, body) = lena
        .post(
            "user_resecure",
            json!({ "id": dave, "resecure": { "temporary_password": "password", "require_change": true } }),
        )
        .await;
    assert_eq!(
        (status, &body["field"]),
        (400, &json!("temporary_password"))
    );
}

#[tokio::test]
async fn the_temporary_password_is_never_in_the_database_the_outbox_the_audit_log_or_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("latchkey.sqlite3");
    drop(seed_demo(&database).await);
    let server = ServerProcess::start(&database, &[("RUST_LOG", "debug")]).await;
    let lena = Api::new(server.api.base.clone());
    let (status, body) = lena
        .post(
            "console_sign_in",
            json!({ "username": "lena", "password": password_of("lena"), "code": null }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let id = lena.user_id("heidi").await;
    let (_, temporary) = lena.post("generate_password", json!({})).await;
    let temporary = temporary.as_str().unwrap().to_owned();
    let (status, body) = lena
        .post(
            "user_resecure",
            json!({ "id": id, "resecure": { "temporary_password": temporary, "require_change": true } }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let heidi = Api::new(server.api.base.clone());
    let (_, body) = heidi.sign_in("heidi", &temporary).await;
    assert_eq!(body["account"]["required_action"], "change_password");
    // Every file of the database (the WAL too), the mail written, and the server's log.
    eventually("the resecure mail is written", || {
        let written = walk(dir.path())
            .iter()
            .any(|p| p.extension().is_some_and(|e| e == "eml"));
        async move { written }
    })
    .await;
    let mut places = Vec::new();
    for entry in walk(dir.path()) {
        let bytes = std::fs::read(&entry).unwrap();
        let found = bytes
            .windows(temporary.len())
            .any(|w| w == temporary.as_bytes());
        places.push(entry.display().to_string());
        assert!(!found, "the temporary password is in {}", entry.display());
    }
    assert!(places.iter().any(|p| p.ends_with(".sqlite3")), "{places:?}");
    assert!(places.iter().any(|p| p.ends_with(".log")), "{places:?}");
    assert!(
        places.iter().any(|p| p.ends_with(".eml")),
        "mail was written: {places:?}"
    );
    assert!(!server.log().is_empty(), "the server logged at debug level");
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

fn details(record: &latchkey_core::audit::AuditRecord) -> Value {
    serde_json::from_str(&record.details).unwrap()
}
