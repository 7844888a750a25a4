//! Support requests (issue 14, items 4–6): the portal's public form answers alike for
//! any address and mails only a registered one; agents work the queue to resolution;
//! the self-service unlock cap opens one request however many flows arrive at once;
//! *This wasn't me* puts a suspicious request first.

use latchkey_core::clock::Clock;
use latchkey_core::factor::captcha::{self, Challenge};
use serde_json::{json, Value};

use super::harness::{eventually, json as body_of, spawn_app, spawn_app_with, Api, TestApp};
use super::lockmail::lock_mail_links;
use super::selfservice::{demo_answer, Flow};

async fn call(app: &TestApp, endpoint: &str, body: Value) -> (u16, Value) {
    body_of(app.call(endpoint, body).await).await
}

/// A solved captcha for the form, from `support_captcha`.
async fn solved(app: &TestApp) -> Value {
    let (status, challenge) = call(app, "support_captcha", json!({})).await;
    assert_eq!(status, 200, "{challenge}");
    let challenge: Challenge = serde_json::from_value(challenge).unwrap();
    serde_json::to_value(captcha::solve(&challenge).unwrap()).unwrap()
}

/// Sends the Contact support form, its captcha solved.
pub async fn submit(app: &TestApp, name: &str, email: &str, description: &str) -> (u16, Value) {
    let captcha = solved(app).await;
    call(
        app,
        "support_request",
        json!({ "full_name": name, "email": email, "description": description, "captcha": captcha }),
    )
    .await
}

/// The mails about support requests that reached `address`, oldest first.
fn support_mails(app: &TestApp, address: &str) -> Vec<(String, String, String)> {
    app.mailbox()
        .into_iter()
        .filter(|m| m.to == address && m.subject.contains("support request"))
        .map(|m| (m.subject, m.text, m.html))
        .collect()
}

async fn wait_for_mails(app: &TestApp, address: &str, n: usize) -> Vec<(String, String, String)> {
    eventually("the support mails arrive", || {
        let ok = support_mails(app, address).len() >= n;
        async move { ok }
    })
    .await;
    support_mails(app, address)
}

async fn queue(agent: &Api, status: Option<&str>) -> Value {
    let (code, body) = agent
        .post("support_queue", json!({ "status": status }))
        .await;
    assert_eq!(code, 200, "{body}");
    body
}

fn references(queue: &Value) -> Vec<String> {
    queue["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["reference"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn the_form_answers_alike_and_mails_only_a_registered_address() {
    let app = spawn_app().await;
    let dave = app.account("dave").await.email.as_str().to_owned();
    let (s1, registered) = submit(&app, "Dave Demo", &dave, "Locked out since lunch").await;
    let (s2, unknown) = submit(
        &app,
        "Eve Nobody",
        "eve.nobody@example.net",
        "Locked out since lunch",
    )
    .await;
    assert_eq!((s1, s2), (200, 200), "{registered} {unknown}");
    assert_eq!(registered, unknown, "the same answer for both addresses");
    assert!(
        registered["working_hours"]
            .as_str()
            .unwrap()
            .contains("Monday to Friday, 9:00–17:00"),
        "{registered}"
    );

    let mails = wait_for_mails(&app, &dave, 1).await;
    assert_eq!(mails.len(), 1);
    assert!(mails[0].0.contains("is received"), "{}", mails[0].0);
    // Nothing for the unregistered address, ever: both rows went through the outbox
    // in the same transactions, so the one mail proves the other was never queued.
    assert!(app
        .outbox()
        .await
        .iter()
        .all(|m| m.recipient.email.as_str() != "eve.nobody@example.net"));

    // Both reach the queue; only the registered one is matched to an account.
    let sam = app.demo_operator("sam").await;
    let q = queue(&sam, None).await;
    let rows = q["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "{q}");
    assert_eq!(rows[0]["email"], dave);
    assert_eq!(
        rows[0]["matched"],
        app.account("dave").await.qualified_name()
    );
    assert_eq!(rows[1]["matched"], Value::Null);
    assert!(rows
        .iter()
        .all(|r| r["status"] == "new" && r["origin"] == "form"));
    let audit = app.audit().await;
    let sent: Vec<_> = audit
        .iter()
        .filter(|r| r.action == "submit_support_request")
        .collect();
    assert_eq!(sent.len(), 2);
    assert!(sent.iter().all(|r| r.outcome == "success"));
}

#[tokio::test]
async fn bad_input_and_spent_captchas_are_refused_naming_the_field() {
    let app = spawn_app().await;
    let captcha = solved(&app).await;
    let form = |name: &str, email: &str, description: String, captcha: &Value| json!({ "full_name": name, "email": email, "description": description, "captcha": captcha });
    let long = "x".repeat(2001);
    for (body, field) in [
        (
            form("", "a@example.org", "help".into(), &captcha),
            "full_name",
        ),
        (
            form("Ann", "not-an-address", "help".into(), &captcha),
            "email",
        ),
        (
            form("Ann", "a@example.org", "   ".into(), &captcha),
            "description",
        ),
        (form("Ann", "a@example.org", long, &captcha), "description"),
    ] {
        let (status, err) = call(&app, "support_request", body).await;
        assert_eq!((status, err["field"].as_str()), (400, Some(field)), "{err}");
    }
    // The captcha above is still unspent: bad input changed nothing.
    let ok = form("Ann", "a@example.org", "help".into(), &captcha);
    assert_eq!(call(&app, "support_request", ok.clone()).await.0, 200);
    // Used once, it is refused.
    let (status, err) = call(&app, "support_request", ok).await;
    assert_eq!(
        (status, err["field"].as_str()),
        (400, Some("captcha")),
        "{err}"
    );
    // A forged one too.
    let mut forged = solved(&app).await;
    forged["number"] = json!(forged["number"].as_u64().unwrap() + 1);
    let (status, err) = call(
        &app,
        "support_request",
        form("Ann", "b@example.org", "help".into(), &forged),
    )
    .await;
    assert_eq!(
        (status, err["field"].as_str()),
        (400, Some("captcha")),
        "{err}"
    );
    let sam = app.demo_operator("sam").await;
    assert_eq!(queue(&sam, None).await["rows"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn one_address_may_send_only_a_few_requests_a_day() {
    let app = spawn_app().await;
    for _ in 0..3 {
        let (status, body) = submit(&app, "Ann", "ann@example.net", "help").await;
        assert_eq!(status, 200, "{body}");
    }
    // The fourth for the address is refused, registered or not alike; another address
    // from the same client still goes through.
    let (status, err) = submit(&app, "Ann", "ANN@example.net", "help").await;
    assert_eq!(
        (status, err["kind"].as_str()),
        (429, Some("rate_limited")),
        "{err}"
    );
    let (status, _) = submit(&app, "Bob", "bob@example.net", "help").await;
    assert_eq!(status, 200);
    let sam = app.demo_operator("sam").await;
    assert_eq!(queue(&sam, None).await["rows"].as_array().unwrap().len(), 4);
}

#[tokio::test]
async fn an_agent_works_a_request_from_the_form_to_resolution() {
    let app = spawn_app().await;
    app.lock_by_failures("dave").await;
    let dave = app.account("dave").await;
    let address = dave.email.as_str().to_owned();
    let (status, _) = submit(
        &app,
        "Dave Demo",
        &address,
        "<script>alert('x')</script> I am locked & cannot work",
    )
    .await;
    assert_eq!(status, 200);
    wait_for_mails(&app, &address, 1).await;

    // Agents of another organisation do not see it; those without the permission may not.
    let nora = app.demo_operator("nora").await;
    assert_eq!(
        nora.post("support_queue", json!({ "status": null }))
            .await
            .0,
        403
    );
    let hugo = app.demo_operator("hugo").await;
    assert_eq!(
        hugo.post("support_queue", json!({ "status": null }))
            .await
            .0,
        403
    );

    let ada = app.demo_operator("ada").await;
    let reference = references(&queue(&ada, None).await)[0].clone();
    let (status, detail) = ada
        .post("support_request_get", json!({ "reference": reference }))
        .await;
    assert_eq!(status, 200, "{detail}");
    assert_eq!(
        detail["description"],
        "<script>alert('x')</script> I am locked & cannot work"
    );
    let accounts = detail["accounts"].as_array().unwrap();
    assert_eq!(accounts.len(), 1, "{detail}");
    assert_eq!(accounts[0]["username"], dave.qualified_name());
    assert_eq!(accounts[0]["locked"], true);

    // Unlocked from the request through the helpdesk's unlock (ada is unrestricted):
    // the request notes it and moves on from new.
    let id = accounts[0]["id"].as_str().unwrap();
    let (status, body) = ada
        .post(
            "users_unlock",
            json!({ "ids": [id], "advise_reset": false }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(app.account("dave").await.lock.lock.is_none());
    let (_, detail) = ada
        .post("support_request_get", json!({ "reference": reference }))
        .await;
    assert_eq!(detail["row"]["status"], "in_progress", "{detail}");
    let last = detail["events"].as_array().unwrap().last().unwrap().clone();
    assert!(
        last["message"].as_str().unwrap().starts_with("Unlocked "),
        "{detail}"
    );
    assert_eq!(last["by"], "EXAMPLE\\ada");

    // A reply with markup, waiting for the user, then resolution: two more mails.
    let (status, body) = ada
        .post(
            "support_request_update",
            json!({ "reference": reference, "status": "waiting_for_user",
                    "message": "<b>Unlocked</b>: please choose a new password." }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = ada
        .post(
            "support_request_update",
            json!({ "reference": reference, "status": "resolved", "message": null }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let mails = wait_for_mails(&app, &address, 3).await;
    assert!(mails[1].0.contains("being worked on"), "{}", mails[1].0);
    assert!(
        mails[1].1.contains("<b>Unlocked</b>: please choose"),
        "text as written"
    );
    assert!(
        mails[1].2.contains("&lt;b&gt;Unlocked") && !mails[1].2.contains("<b>Unlocked"),
        "markup escaped in the HTML part: {}",
        mails[1].2
    );
    assert!(
        mails[2].0.contains(&format!("{reference} is resolved")),
        "{}",
        mails[2].0
    );
    // The unlock's own mail went too.
    assert!(app
        .mailbox()
        .iter()
        .any(|m| m.to == address && m.subject.contains("unlocked")));

    // Resolved: out of the open queue, in the resolved one, its age stopped.
    assert!(references(&queue(&ada, None).await).is_empty());
    let resolved = queue(&ada, Some("resolved")).await;
    assert_eq!(references(&resolved), std::slice::from_ref(&reference));
    let counts = resolved["counts"].as_array().unwrap();
    assert!(counts.contains(&json!(["resolved", 1])), "{resolved}");

    let record = app.last_audit("update_support_request").await;
    assert!(
        record.details.contains("\"to\":\"resolved\""),
        "{}",
        record.details
    );

    // Bad input names the field and changes nothing.
    for (body, field) in [
        (
            json!({ "reference": "SR-x", "status": "in_progress", "message": null }),
            "reference",
        ),
        (
            json!({ "reference": reference, "status": "new", "message": null }),
            "status",
        ),
        (
            json!({ "reference": reference, "status": "in_progress", "message": "x".repeat(4001) }),
            "message",
        ),
    ] {
        let (status, err) = ada.post("support_request_update", body).await;
        assert_eq!((status, err["field"].as_str()), (400, Some(field)), "{err}");
    }
    let (status, _) = ada
        .post("support_request_get", json!({ "reference": "SR-99999" }))
        .await;
    assert_eq!(status, 404);
    assert_eq!(
        queue(&ada, Some("resolved")).await["rows"][0]["status"],
        "resolved"
    );
}

/// A web unlock flow for `username` at its last step (the security questions).
async fn flow_at_last_step(app: &TestApp, username: &str) -> Flow {
    let mut flow = Flow::start(app, "unlock").await;
    let (status, body) = flow.identify(username).await;
    assert_eq!(status, 200, "{body}");
    flow.pass_captcha().await;
    flow
}

#[tokio::test]
async fn the_self_unlock_cap_opens_exactly_one_request_under_20_parallel_flows() {
    let app = spawn_app_with(|c| {
        c.client_limits.requests_per_minute = 10_000;
        c.client_limits.failures_per_hour = 10_000;
    })
    .await;
    let ada = app.demo_operator("ada").await;
    let (status, body) = ada
        .post(
            "self_unlock_cap_set",
            json!({ "organisation": "example", "cap": { "max_unlocks": 1, "period_hours": 24 } }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (_, cap) = ada
        .post("self_unlock_cap", json!({ "organisation": "example" }))
        .await;
    assert_eq!(cap, json!({ "max_unlocks": 1, "period_hours": 24 }));

    // The one unlock the cap allows.
    app.lock_by_failures("dave").await;
    let mut flow = flow_at_last_step(&app, "dave").await;
    let (_, view) = flow.answer_questions(|q| demo_answer("dave", q)).await;
    assert_eq!(view["step"]["summary"]["unlocked"], true, "{view}");

    // Locked again: twenty flows finish at once.
    app.lock_by_failures("dave").await;
    let mut flows = Vec::new();
    for _ in 0..20 {
        flows.push(flow_at_last_step(&app, "dave").await);
    }
    let finals = flows.into_iter().map(|mut f| async move {
        let (status, view) = f.answer_questions(|q| demo_answer("dave", q)).await;
        assert_eq!(status, 200, "{view}");
        view["step"]["summary"].clone()
    });
    let summaries = futures_util::future::join_all(finals).await;
    let first = summaries[0]["support_request"].as_str().unwrap().to_owned();
    for s in &summaries {
        assert_eq!(s["unlocked"], false, "{s}");
        assert_eq!(s["support_request"], first.as_str(), "{s}");
    }
    assert!(app.account("dave").await.lock.is_locked(app.clock.now()));

    let sam = app.demo_operator("sam").await;
    let q = queue(&sam, None).await;
    let rows = q["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "exactly one request: {q}");
    assert_eq!(rows[0]["origin"], "self_unlock_cap");
    assert_eq!(rows[0]["reference"], first.as_str());
    let address = app.account("dave").await.email.as_str().to_owned();
    let mails = wait_for_mails(&app, &address, 1).await;
    assert!(
        mails[0].1.contains("was not unlocked again"),
        "{}",
        mails[0].1
    );
    // One mail about it: let the worker drain, then count again.
    eventually("the outbox is drained", || {
        let app = &app;
        async move {
            app.outbox()
                .await
                .iter()
                .all(|m| m.status != latchkey_core::outbox::DeliveryStatus::Pending)
        }
    })
    .await;
    assert_eq!(support_mails(&app, &address).len(), 1);
    let capped = app
        .audit()
        .await
        .into_iter()
        .filter(|r| r.action == "unlock" && r.details.contains("self_unlock_cap"))
        .count();
    assert_eq!(capped, 20, "every refused unlock is recorded");

    // Bad caps are refused naming the field.
    for (cap, field) in [
        (
            json!({ "max_unlocks": 0, "period_hours": 24 }),
            "max_unlocks",
        ),
        (
            json!({ "max_unlocks": 3, "period_hours": 0 }),
            "period_hours",
        ),
    ] {
        let (status, err) = ada
            .post(
                "self_unlock_cap_set",
                json!({ "organisation": "example", "cap": cap }),
            )
            .await;
        assert_eq!((status, err["field"].as_str()), (400, Some(field)), "{err}");
    }
    // Only who manages policy sets it.
    let (status, _) = sam
        .post(
            "self_unlock_cap_set",
            json!({ "organisation": "example", "cap": { "max_unlocks": 9, "period_hours": 1 } }),
        )
        .await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn this_wasnt_me_puts_a_suspicious_request_first_in_the_queue() {
    let app = spawn_app().await;
    let (status, _) = submit(&app, "Ann", "ann@example.net", "Locked out").await;
    assert_eq!(status, 200);
    app.lock_by_failures("dave").await;
    let address = app.account("dave").await.email.as_str().to_owned();
    let (_, token) = lock_mail_links(&app, "dave").await;
    let (status, body) = call(&app, "lock_link_not_me", json!({ "token": token })).await;
    assert_eq!(status, 200, "{body}");

    let sam = app.demo_operator("sam").await;
    let q = queue(&sam, None).await;
    let rows = q["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "{q}");
    assert_eq!(
        rows[0]["suspicious"], true,
        "the newer suspicious one first: {q}"
    );
    assert_eq!(rows[0]["origin"], "not_me");
    assert_eq!(
        rows[0]["matched"],
        app.account("dave").await.qualified_name()
    );
    assert_eq!(rows[1]["suspicious"], false);
    let record = app.last_audit("reported_not_me").await;
    assert!(
        record
            .details
            .contains(rows[0]["reference"].as_str().unwrap()),
        "{}",
        record.details
    );
    let mails = wait_for_mails(&app, &address, 1).await;
    assert!(mails[0].1.contains("were not yours"), "{}", mails[0].1);
}
