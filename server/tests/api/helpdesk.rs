//! The helpdesk's unlock (issue 14, seed 004), through the server functions: restricted
//! and unrestricted mode, the caller check as evidence, linked accounts unlocked one by
//! one. Demo operators: lena (local administrator, unrestricted by default), hugo
//! (helpdesk operator, restricted by default).

use latchkey_core::clock::Clock;
use serde_json::{json, Value};
use time::Duration;

use super::harness::{behind_a_proxy, spawn_app, spawn_app_with, Api, TestApp};
use super::selfservice::demo_answer;

async fn locked(app: &TestApp, username: &str) -> bool {
    let account = app.account(username).await;
    account.lock.is_locked(app.clock.now())
}

/// The self-service failures counted against `name` (`STORE\user`).
async fn self_service_failures(app: &TestApp, name: &str) -> u32 {
    app.read().await.throttle(name).await.unwrap().failures
}

async fn start(hugo: &Api, id: &str, factor: &str) -> Value {
    let (status, started) = hugo
        .post("caller_check_start", json!({ "id": id, "factor": factor }))
        .await;
    assert_eq!(status, 200, "{started}");
    started
}

async fn answer(hugo: &Api, check: &Value, answer: Value) -> (u16, Value) {
    hugo.post(
        "caller_check_answer",
        json!({ "check": check["check"], "answer": answer }),
    )
    .await
}

#[tokio::test]
async fn restricted_mode_refuses_an_unlock_without_a_fresh_check_and_changes_nothing() {
    let app = spawn_app().await;
    app.lock_by_failures("bob").await;
    let hugo = app.demo_operator("hugo").await;
    let bob = hugo.user_id("bob").await;

    let (status, plan) = hugo.post("unlock_plan", json!({ "id": bob })).await;
    assert_eq!(status, 200, "{plan}");
    assert_eq!(plan["mode"], "restricted");
    assert_eq!(plan["factors"], json!(["email_code", "security_questions"]));
    assert_eq!(plan["refused"], "not_verified");
    assert_eq!(plan["verified"], Value::Null);
    assert_eq!(plan["store"], "EXAMPLE");

    // A crafted request straight to either unlock function: refused, nothing changed.
    // (The lock mail is sent first: its row changes when the worker sends it.)
    crate::harness::eventually("the lock mail is sent", || async {
        app.outbox()
            .await
            .iter()
            .all(|r| r.status == latchkey_core::outbox::DeliveryStatus::Sent)
    })
    .await;
    let before = app.snapshot().await;
    let (status, refused) = hugo
        .post("user_unlock", json!({ "id": bob, "advise_reset": false }))
        .await;
    assert_eq!(
        (status, refused),
        (
            409,
            json!({ "kind": "unlock_refused", "reason": "not_verified" })
        )
    );
    let (status, results) = hugo
        .post(
            "users_unlock",
            json!({ "ids": [bob], "advise_reset": false }),
        )
        .await;
    assert_eq!(status, 200, "{results}");
    assert_eq!(results[0]["outcome"]["result"], "failed", "{results}");
    assert!(results[0]["outcome"]["message"]
        .as_str()
        .unwrap()
        .contains("verify the caller first"));
    assert_eq!(
        app.snapshot().await,
        before,
        "nothing but the audit log changed"
    );
    assert!(locked(&app, "bob").await);
    // The refusal is on record.
    let record = app.last_audit("unlock").await;
    assert_eq!(
        (record.actor.as_str(), record.outcome.as_str()),
        ("EXAMPLE\\hugo", "failure")
    );
    assert!(
        record.details.contains(r#""refused":"not_verified""#),
        "{}",
        record.details
    );

    // The local administrator is unrestricted by default: no check needed.
    let lena = app.demo_operator("lena").await;
    let (status, done) = lena
        .post("user_unlock", json!({ "id": bob, "advise_reset": false }))
        .await;
    assert_eq!((status, done["was_locked"].clone()), (200, json!(true)));
    let record = app.last_audit("unlock").await;
    let details: Value = serde_json::from_str(&record.details).unwrap();
    assert_eq!(details["helpdesk"]["mode"], "unrestricted");
    assert_eq!(details["helpdesk"]["verification"], Value::Null);
}

#[tokio::test]
async fn an_emailed_code_read_back_verifies_the_caller_and_the_unlock_cites_it_as_evidence() {
    let app = spawn_app().await;
    app.lock_by_failures("bob").await;
    let hugo = app.demo_operator("hugo").await;
    let bob = hugo.user_id("bob").await;

    let started = start(&hugo, &bob, "email_code").await;
    assert_eq!(started["prompt"]["factor"], "email_code");
    let check_id = started["check"].as_str().unwrap().to_owned();
    assert_eq!(check_id.len(), 32, "an opaque id");
    let code = app.emailed_code("bob@example.org", 0).await;
    let mail = app
        .mailbox()
        .into_iter()
        .find(|m| m.to == "bob@example.org" && m.text.contains(&code))
        .unwrap();
    assert!(
        mail.text.contains("prove who you are to the help desk"),
        "{}",
        mail.text
    );

    // A misheard code: wrong, and counted against bob's self-service like a portal guess.
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let (status, reply) = answer(
        &hugo,
        &started,
        json!({ "factor": "email_code", "code": wrong }),
    )
    .await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["result"], "wrong");
    assert_eq!(self_service_failures(&app, "EXAMPLE\\bob").await, 1);
    // Another operator cannot answer hugo's check.
    let sam = app.demo_operator("sam").await;
    let (status, _) = answer(
        &sam,
        &started,
        json!({ "factor": "email_code", "code": code }),
    )
    .await;
    assert_eq!(status, 404);

    let (status, reply) = answer(
        &hugo,
        &started,
        json!({ "factor": "email_code", "code": code }),
    )
    .await;
    assert_eq!(
        (status, reply["result"].clone()),
        (200, json!("passed")),
        "{reply}"
    );
    assert_eq!(reply["verified"]["factor"], "email_code");
    // A passed check takes no more answers, and the code works once.
    let (status, again) = answer(
        &hugo,
        &started,
        json!({ "factor": "email_code", "code": code }),
    )
    .await;
    assert_eq!(
        (status, again["field"].clone()),
        (400, json!("check")),
        "{again}"
    );

    let (_, plan) = hugo.post("unlock_plan", json!({ "id": bob })).await;
    assert_eq!(plan["refused"], Value::Null);
    assert_eq!(plan["verified"]["factor"], "email_code");
    let (status, done) = hugo
        .post("user_unlock", json!({ "id": bob, "advise_reset": false }))
        .await;
    assert_eq!(
        (status, done["was_locked"].clone()),
        (200, json!(true)),
        "{done}"
    );
    assert!(!locked(&app, "bob").await);
    let record = app.last_audit("unlock").await;
    let details: Value = serde_json::from_str(&record.details).unwrap();
    let evidence = &details["helpdesk"]["verification"];
    assert_eq!(details["helpdesk"]["mode"], "restricted");
    assert_eq!(evidence["check"], check_id.as_str());
    assert_eq!(evidence["factor"], "email_code");
    assert_eq!(evidence["outcome"], "passed");
    assert_eq!(evidence["at"], app.clock.now().unix_timestamp());
    // No record anywhere holds the code or what was typed.
    for record in app.audit().await {
        assert!(!record.details.contains(&code), "{}", record.details);
        assert!(!record.details.contains(wrong), "{}", record.details);
    }

    // The check is about this call: a few minutes later it no longer counts.
    app.clock.advance(Duration::minutes(11));
    app.lock_by_failures("bob").await;
    let (status, refused) = hugo
        .post("user_unlock", json!({ "id": bob, "advise_reset": false }))
        .await;
    assert_eq!(
        (status, refused["reason"].clone()),
        (409, json!("not_verified"))
    );
    assert!(locked(&app, "bob").await);
}

#[tokio::test]
async fn security_answers_verify_the_caller_and_wrong_ones_block_self_service_too() {
    let app = spawn_app().await;
    app.lock_by_failures("dave").await;
    let hugo = app.demo_operator("hugo").await;
    let dave = hugo.user_id("dave").await;

    let started = start(&hugo, &dave, "security_questions").await;
    let questions: Vec<String> = started["prompt"]["questions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q.as_str().unwrap().to_owned())
        .collect();
    assert!(!questions.is_empty());
    let right: Vec<String> = questions.iter().map(|q| demo_answer("dave", q)).collect();
    let wrong: Vec<String> = questions.iter().map(|_| "guess".to_owned()).collect();

    // Three wrong answers end the check (the step's attempts, as in the portal), each
    // counted against dave's self-service as if guessed there.
    let wrong_answer = json!({ "factor": "security_questions", "answers": wrong });
    for left in [2, 1] {
        let (status, reply) = answer(&hugo, &started, wrong_answer.clone()).await;
        assert_eq!(
            (status, reply),
            (200, json!({ "result": "wrong", "attempts_left": left }))
        );
    }
    let (_, reply) = answer(&hugo, &started, wrong_answer.clone()).await;
    assert_eq!(reply, json!({ "result": "failed", "blocked_until": null }));
    assert_eq!(self_service_failures(&app, "EXAMPLE\\dave").await, 3);
    // A new check allows only what is left of the budget (5): two more wrong answers
    // block self-service — the portal's and so the helpdesk's.
    let second = start(&hugo, &dave, "security_questions").await;
    assert_eq!(second["attempts_left"], 3);
    let (_, reply) = answer(&hugo, &second, wrong_answer.clone()).await;
    assert_eq!(reply, json!({ "result": "wrong", "attempts_left": 1 }));
    let (_, reply) = answer(&hugo, &second, wrong_answer.clone()).await;
    assert_eq!(reply["result"], "failed");
    let until = reply["blocked_until"].as_i64().expect("blocked");
    assert!(until > app.clock.now().unix_timestamp());
    let (status, refused) = hugo
        .post(
            "caller_check_start",
            json!({ "id": dave, "factor": "security_questions" }),
        )
        .await;
    assert_eq!(
        (status, refused),
        (
            409,
            json!({ "kind": "unlock_refused", "reason": "verification_blocked" })
        )
    );
    let (_, plan) = hugo.post("unlock_plan", json!({ "id": dave })).await;
    assert_eq!(plan["refused"], "verification_blocked");
    assert_eq!(plan["verification_blocked_until"], until);
    let blocked = app.read().await.throttle("EXAMPLE\\dave").await.unwrap();
    assert_eq!(
        blocked.blocked_until.map(|t| t.unix_timestamp()),
        Some(until)
    );

    // Once the block is over, the right answers pass.
    app.clock.advance(Duration::seconds(
        until - app.clock.now().unix_timestamp() + 1,
    ));
    let hugo = app.demo_operator("hugo").await; // a new console session: the old one idled out
    let third = start(&hugo, &dave, "security_questions").await;
    let (_, reply) = answer(
        &hugo,
        &third,
        json!({ "factor": "security_questions", "answers": right }),
    )
    .await;
    assert_eq!(reply["result"], "passed", "{reply}");
    for record in app.audit().await {
        for a in &right {
            assert!(!record.details.contains(a.as_str()), "{}", record.details);
        }
        assert!(!record.details.contains("guess"), "{}", record.details);
    }
}

#[tokio::test]
async fn an_unenrolled_user_is_unlocked_only_by_an_unrestricted_operator_with_unlock_any_account() {
    let app = spawn_app().await;
    let lena = app.demo_operator("lena").await;
    let user = json!({
        "store": "EXAMPLE", "username": "uma", "display_name": "Uma Unenrolled",
        "email": "uma@example.org",
    });
    let (status, uma) = lena.post("user_create", json!({ "user": user })).await;
    assert_eq!(status, 200, "{uma}");
    let hugo = app.demo_operator("hugo").await;
    let (_, plan) = hugo.post("unlock_plan", json!({ "id": uma })).await;
    assert_eq!(plan["factors"], json!([]));
    assert_eq!(plan["refused"], "unenrolled");
    let (status, refused) = hugo
        .post("user_unlock", json!({ "id": uma, "advise_reset": false }))
        .await;
    assert_eq!(
        (status, refused["reason"].clone()),
        (409, json!("unenrolled"))
    );
    // Nothing to verify with.
    let (status, bad) = hugo
        .post(
            "caller_check_start",
            json!({ "id": uma, "factor": "email_code" }),
        )
        .await;
    assert_eq!((status, bad["field"].clone()), (400, json!("factor")));

    // Unrestricted is not enough without *Unlock any account* …
    let (status, _) = lena
        .post(
            "helpdesk_mode_set",
            json!({ "organisation": "example", "role": "helpdesk_operator", "mode": "unrestricted" }),
        )
        .await;
    assert_eq!(status, 200);
    let (_, plan) = hugo.post("unlock_plan", json!({ "id": uma })).await;
    assert_eq!(
        (plan["mode"].clone(), plan["refused"].clone()),
        (json!("unrestricted"), json!("unenrolled"))
    );
    let (status, _) = hugo
        .post("user_unlock", json!({ "id": uma, "advise_reset": false }))
        .await;
    assert_eq!(status, 409);
    // … which the local administrator's role has.
    let (status, done) = lena
        .post("user_unlock", json!({ "id": uma, "advise_reset": false }))
        .await;
    assert_eq!(status, 200, "{done}");
    // Restricted again, the administrator is refused too.
    lena.post(
        "helpdesk_mode_set",
        json!({ "organisation": "example", "role": "local_administrator", "mode": "restricted" }),
    )
    .await;
    let (status, refused) = lena
        .post("user_unlock", json!({ "id": uma, "advise_reset": false }))
        .await;
    assert_eq!(
        (status, refused["reason"].clone()),
        (409, json!("unenrolled"))
    );
}

#[tokio::test]
async fn the_helpdesk_policy_is_set_per_role_by_policy_managers_and_audited() {
    let app = spawn_app().await;
    let lena = app.demo_operator("lena").await;
    let (status, policy) = lena
        .post("helpdesk_policy", json!({ "organisation": "example" }))
        .await;
    assert_eq!(status, 200, "{policy}");
    assert_eq!(
        policy["roles"],
        json!([
            { "role": "global_administrator", "mode": "unrestricted" },
            { "role": "local_administrator", "mode": "unrestricted" },
            { "role": "helpdesk_operator", "mode": "restricted" },
            { "role": "support_agent", "mode": "restricted" },
        ])
    );
    let set = json!({ "organisation": "example", "role": "support_agent", "mode": "unrestricted" });
    let hugo = app.demo_operator("hugo").await;
    assert_eq!(hugo.post("helpdesk_mode_set", set.clone()).await.0, 403);
    // Another organisation's policy is not there for her.
    let other =
        json!({ "organisation": "northwind", "role": "support_agent", "mode": "unrestricted" });
    assert_eq!(lena.post("helpdesk_mode_set", other).await.0, 404);
    let bad = json!({ "organisation": "example", "role": "support_agent", "mode": "lenient" });
    let (status, refused) = lena.post("helpdesk_mode_set", bad).await;
    assert_eq!(
        (status, refused["field"].clone()),
        (400, json!("mode")),
        "{refused}"
    );

    assert_eq!(lena.post("helpdesk_mode_set", set).await.0, 200);
    let record = app.last_audit("set_helpdesk_mode").await;
    let details: Value = serde_json::from_str(&record.details).unwrap();
    assert_eq!(
        details,
        json!({ "organisation": "example", "role": "support_agent", "from": "restricted", "to": "unrestricted" })
    );
    let (_, policy) = lena
        .post("helpdesk_policy", json!({ "organisation": "example" }))
        .await;
    assert_eq!(policy["roles"][3]["mode"], "unrestricted");
}

#[tokio::test]
async fn linked_accounts_lock_apart_and_the_unlock_page_unlocks_each_in_its_own_transaction() {
    let app = spawn_app().await;
    app.lock_by_failures("ivy").await;
    assert!(
        !locked(&app, "MAIL\\ivy").await,
        "locking one store's account leaves the other"
    );
    app.lock_by_failures("MAIL\\ivy").await;
    let lena = app.demo_operator("lena").await;
    let ivy = lena.user_id("ivy").await;
    let (_, plan) = lena.post("unlock_plan", json!({ "id": ivy })).await;
    assert_eq!(plan["user"]["username"], "EXAMPLE\\ivy");
    let linked = plan["linked"].as_array().unwrap();
    assert_eq!(linked.len(), 1, "{plan}");
    assert_eq!(linked[0]["username"], "MAIL\\ivy");
    assert_eq!(linked[0]["locked"], true);
    let mail_ivy = linked[0]["id"].as_str().unwrap().to_owned();

    let (status, results) = lena
        .post(
            "users_unlock",
            json!({ "ids": [ivy, mail_ivy], "advise_reset": false }),
        )
        .await;
    assert_eq!(status, 200, "{results}");
    assert_eq!(
        results,
        json!([
            { "id": ivy, "username": "EXAMPLE\\ivy", "store": "EXAMPLE",
              "outcome": { "result": "unlocked", "emailed": true } },
            { "id": mail_ivy, "username": "MAIL\\ivy", "store": "MAIL",
              "outcome": { "result": "unlocked", "emailed": true } },
        ])
    );
    assert!(!locked(&app, "ivy").await && !locked(&app, "MAIL\\ivy").await);
    let unlocks: Vec<_> = app
        .audit()
        .await
        .into_iter()
        .filter(|r| r.action == "unlock" && r.outcome == "success")
        .map(|r| r.subject.unwrap_or_default())
        .collect();
    assert_eq!(unlocks, ["EXAMPLE\\ivy", "MAIL\\ivy"], "one record each");

    // One check by hugo covers the person: both stores, each its own result.
    app.lock_by_failures("ivy").await;
    let hugo = app.demo_operator("hugo").await;
    let started = start(&hugo, &ivy, "email_code").await;
    let code = app.emailed_code("ivy@example.org", 0).await;
    let (_, reply) = answer(
        &hugo,
        &started,
        json!({ "factor": "email_code", "code": code }),
    )
    .await;
    assert_eq!(reply["result"], "passed");
    let (status, results) = hugo
        .post(
            "users_unlock",
            json!({ "ids": [ivy, mail_ivy], "advise_reset": false }),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(results[0]["outcome"]["result"], "unlocked", "{results}");
    assert_eq!(results[1]["outcome"]["result"], "not_locked", "{results}");

    // Bad input names the field and changes nothing.
    let (status, bad) = lena
        .post("users_unlock", json!({ "ids": [], "advise_reset": false }))
        .await;
    assert_eq!((status, bad["field"].clone()), (400, json!("ids")));
}

/// Item 7: the user page and the Unlock page show the failed sign-ins behind the lock —
/// time, channel, client address — and how many other names that address failed on
/// around then (a sign of spraying). Failures after the lock, or before its window, are
/// not the lock's.
#[tokio::test]
async fn the_failed_sign_ins_behind_a_lock_show_their_address_and_its_spraying() {
    let app = spawn_app_with(behind_a_proxy).await;
    // An old failure, outside the lockout window: not behind this lock.
    app.sign_in_from("198.51.100.9", "frank", "old-typo").await;
    app.clock.advance(Duration::hours(2));
    // One address sprays: five other names (two that do not exist), then frank five times.
    for name in ["alice", "bob", "dave", "nobody-1", "nobody-2"] {
        app.sign_in_from("203.0.113.7", name, "Summer2026!").await;
    }
    for _ in 0..4 {
        app.sign_in_from("203.0.113.7", "frank", "Summer2026!")
            .await;
        app.clock.advance(Duration::seconds(20));
    }
    // The fifth, which locks, from a quieter address.
    app.sign_in_from("192.0.2.44", "frank", "Summer2026!").await;
    assert!(locked(&app, "frank").await);
    // After the lock: not part of it.
    app.clock.advance(Duration::seconds(20));
    app.sign_in_from("203.0.113.7", "frank", "Summer2026!")
        .await;

    let lena = app.demo_operator("lena").await;
    let frank = lena.user_id("frank").await;
    let (_, detail) = lena.post("user_detail", json!({ "id": frank })).await;
    let failed = detail["failed_sign_ins"].as_array().unwrap();
    assert_eq!(failed.len(), 5, "{failed:?}");
    assert_eq!(failed[0]["client"], "192.0.2.44", "newest first");
    assert_eq!(failed[0]["other_names"], 0);
    assert_eq!(failed[0]["channel"], "web");
    for f in &failed[1..] {
        assert_eq!(f["client"], "203.0.113.7");
        assert_eq!(
            f["other_names"], 5,
            "alice, bob, dave and two unknown names"
        );
    }
    let (_, plan) = lena.post("unlock_plan", json!({ "id": frank })).await;
    assert_eq!(plan["failed_sign_ins"], detail["failed_sign_ins"]);
    // Unlocked, there is no lock to explain.
    lena.post("user_unlock", json!({ "id": frank, "advise_reset": false }))
        .await;
    let (_, detail) = lena.post("user_detail", json!({ "id": frank })).await;
    assert_eq!(detail["failed_sign_ins"], json!([]));
}

/// Item 3: administrators link and unlink accounts of one person across identity stores,
/// audited; the helpdesk may not; nothing of another organisation can be linked.
#[tokio::test]
async fn administrators_link_and_unlink_accounts_across_identity_stores() {
    let app = spawn_app().await;
    let lena = app.demo_operator("lena").await;
    let alice = lena.user_id("alice").await;
    let linked = |detail: &Value| -> Vec<String> {
        detail["linked"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["username"].as_str().unwrap().to_owned())
            .collect()
    };
    let (_, detail) = lena.post("user_detail", json!({ "id": alice })).await;
    assert_eq!(linked(&detail), ["MAIL\\alice"]);
    let mail_alice = detail["linked"][0]["id"].as_str().unwrap().to_owned();

    let hugo = app.demo_operator("hugo").await;
    assert_eq!(
        hugo.post("user_unlink", json!({ "id": mail_alice }))
            .await
            .0,
        403
    );
    let (status, _) = lena.post("user_unlink", json!({ "id": mail_alice })).await;
    assert_eq!(status, 200);
    let (_, detail) = lena.post("user_detail", json!({ "id": alice })).await;
    assert!(linked(&detail).is_empty());
    let record = app.last_audit("unlink_account").await;
    assert_eq!(record.subject.as_deref(), Some("MAIL\\alice"));
    assert!(
        record.details.contains("EXAMPLE\\\\alice"),
        "{}",
        record.details
    );
    // Unlinked, the two lock and unlock apart, and the Unlock page no longer offers both.
    let (_, plan) = lena.post("unlock_plan", json!({ "id": alice })).await;
    assert_eq!(plan["linked"], json!([]));

    for (other, why) in [
        ("alice", "store"),
        ("NORTHWIND\\nina", "No such account"),
        ("MAIL\\nobody", "No such account"),
        ("MAIL\\ivy", "someone else"),
    ] {
        let (status, refused) = lena
            .post("user_link", json!({ "id": alice, "account": other }))
            .await;
        assert_eq!(
            (status, refused["field"].clone()),
            (400, json!("account")),
            "{other}"
        );
        assert!(
            refused["message"].as_str().unwrap().contains(why),
            "{other}: {refused}"
        );
    }
    let link = json!({ "id": alice, "account": "MAIL\\alice" });
    assert_eq!(hugo.post("user_link", link.clone()).await.0, 403);
    assert_eq!(lena.post("user_link", link.clone()).await.0, 200);
    let (_, detail) = lena.post("user_detail", json!({ "id": alice })).await;
    assert_eq!(linked(&detail), ["MAIL\\alice"]);
    let record = app.last_audit("link_account").await;
    assert_eq!(record.actor, "EXAMPLE\\lena");
    let (status, again) = lena.post("user_link", link).await;
    assert_eq!(
        (status, again["message"].clone()),
        (400, json!("These accounts are linked already."))
    );
    // Not linked to anything: nothing to unlink.
    let bob = lena.user_id("bob").await;
    let (status, refused) = lena.post("user_unlink", json!({ "id": bob })).await;
    assert_eq!((status, refused["field"].clone()), (400, json!("id")));
}
