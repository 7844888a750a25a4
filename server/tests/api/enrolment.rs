//! A signed-in person enrolling security questions and an authenticator, and the
//! authenticator's codes in self-service.

use latchkey_core::clock::Clock;
use serde_json::{json, Value};
use time::Duration;

use crate::harness::{json, spawn_app, TestApp};
use crate::selfservice::Flow;

async fn catalogue(app: &TestApp) -> Vec<(i64, String)> {
    let (status, setup) = json(app.call("security_questions", json!({})).await).await;
    assert_eq!(status, 200, "{setup}");
    assert_eq!(setup["to_enrol"], 3);
    setup["catalogue"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| {
            (
                q["id"].as_i64().unwrap(),
                q["text"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn pick(id: i64, answer: &str) -> Value {
    json!({ "question": { "kind": "catalogue", "id": id }, "answer": answer })
}

#[tokio::test]
async fn enrolment_needs_a_session() {
    let app = spawn_app().await;
    let (status, err) = json(app.call("security_questions", json!({})).await).await;
    assert_eq!(
        (status, err["kind"].as_str()),
        (401, Some("unauthenticated"))
    );
    assert_eq!(
        app.call("authenticator_begin", json!({})).await.status(),
        401
    );
}

#[tokio::test]
async fn security_questions_are_validated_then_replace_the_old_ones() {
    let app = spawn_app().await;
    app.sign_in("alice", "lantern-orbit-meadow").await;
    let q = catalogue(&app).await;
    let custom = |text: &str, answer: &str| json!({ "question": { "kind": "custom", "text": text }, "answer": answer });
    let bad = [
        (
            json!([pick(q[0].0, "red"), pick(q[1].0, "blue")]),
            "questions",
        ),
        (
            json!([
                pick(q[0].0, "red"),
                pick(q[1].0, "ab"),
                pick(q[2].0, "green")
            ]),
            "questions[1].answer",
        ),
        (
            json!([
                pick(q[0].0, "red"),
                pick(q[0].0, "blue"),
                pick(q[2].0, "green")
            ]),
            "questions[1].question",
        ),
        (
            json!([
                pick(q[0].0, "red"),
                pick(q[1].0, " RED "),
                pick(q[2].0, "green")
            ]),
            "questions[1].answer",
        ),
        (
            json!([
                pick(q[0].0, "red"),
                pick(99_999, "blue"),
                pick(q[2].0, "green")
            ]),
            "questions[1].question",
        ),
        (
            json!([
                pick(q[0].0, "red"),
                pick(q[1].0, "blue"),
                custom("Short?", "green")
            ]),
            "questions[2].question",
        ),
        (
            json!([
                pick(q[0].0, "red"),
                pick(q[1].0, "blue"),
                json!({ "question": { "kind": "catalogue", "id": q[2].0 }, "answer": "x", "hint": "no" })
            ]),
            "questions[2].hint",
        ),
    ];
    for (questions, field) in bad {
        let (status, err) = json(
            app.call(
                "enrol_security_questions",
                json!({ "questions": questions }),
            )
            .await,
        )
        .await;
        assert_eq!((status, err["field"].as_str()), (400, Some(field)), "{err}");
    }
    let before: Vec<String> = app.store_enrolled("alice").await;
    assert_eq!(before.len(), 3, "refused enrolments change nothing");

    let questions = json!([
        pick(q[3].0, "Acacia Avenue"),
        pick(q[6].0, "The Hobbit"),
        custom("What was the name of my first cat?", "Mittens"),
    ]);
    let (status, _) = json(
        app.call(
            "enrol_security_questions",
            json!({ "questions": questions }),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200);
    let after = app.store_enrolled("alice").await;
    assert_eq!(after[2], "What was the name of my first cat?");
    assert!(app
        .audit()
        .await
        .iter()
        .any(|r| r.action == "enrol_security_questions"));

    // Self-service now asks from the new set, and the new answers work.
    let mut flow = Flow::start(&app, "unlock").await;
    flow.identify("alice").await;
    flow.pass_captcha().await;
    let (_, view) = flow
        .answer_questions(|question| match question {
            "What is the name of the street you grew up on?" => "acacia avenue".into(),
            "What is your favourite book?" => "the hobbit".into(),
            _ => "MITTENS".into(),
        })
        .await;
    assert_eq!(view["step"]["step"], "done", "{view}");
}

pub fn code_at(secret_base32: &str, unix: i64) -> String {
    let secret = totp_rs::Secret::try_from_base32(secret_base32)
        .unwrap()
        .as_ref()
        .to_vec();
    latchkey_core::factor::totp::generator(&secret, "Latchkey", "alice")
        .unwrap()
        .generate(unix as u64)
        .to_string()
}

#[tokio::test]
async fn an_authenticator_code_is_never_accepted_twice() {
    use latchkey_core::auth_flow::FlowScope;
    use latchkey_core::factor::FactorKind;

    let app = spawn_app().await;
    app.sign_in("alice", "lantern-orbit-meadow").await;
    let (status, setup) = json(app.call("authenticator_begin", json!({})).await).await;
    assert_eq!(status, 200);
    assert!(setup["qr_svg"].as_str().unwrap().contains("<svg"));
    let secret = setup["secret"].as_str().unwrap().to_owned();

    let (status, err) = json(
        app.call("authenticator_confirm", json!({ "code": "12345" }))
            .await,
    )
    .await;
    assert_eq!((status, err["field"].as_str()), (400, Some("code")));
    let now = app.clock.now().unix_timestamp();
    let wrong = if code_at(&secret, now) == "000000" {
        "111111"
    } else {
        "000000"
    };
    let (status, _) = json(
        app.call("authenticator_confirm", json!({ "code": wrong }))
            .await,
    )
    .await;
    assert_eq!(status, 400);
    let confirmed_code = code_at(&secret, now);
    let (status, _) = json(
        app.call("authenticator_confirm", json!({ "code": confirmed_code }))
            .await,
    )
    .await;
    assert_eq!(status, 200);
    let (_, me) = json(app.call("current_account", json!({})).await).await;
    assert_eq!(me["has_authenticator"], true);

    app.core
        .set_auth_flow(
            &crate::harness::system(),
            FlowScope::All,
            &[FactorKind::Totp],
        )
        .await
        .unwrap();
    let totp = |code: &str| json!({ "factor": "totp", "code": code });

    // The code used to confirm the app is spent already.
    let mut flow = Flow::start(&app, "unlock").await;
    flow.identify("alice").await;
    let (_, view) = flow.answer(0, totp(&confirmed_code)).await;
    assert_eq!(view["step"]["retry"], true, "replayed code refused: {view}");

    // The next 30-second step's code works — once.
    app.clock.advance(Duration::seconds(30));
    let fresh = code_at(&secret, app.clock.now().unix_timestamp());
    let (_, view) = flow.answer(0, totp(&fresh)).await;
    assert_eq!(view["step"]["step"], "done", "{view}");
    let mut again = Flow::start(&app, "unlock").await;
    again.identify("alice").await;
    let (_, view) = again.answer(0, totp(&fresh)).await;
    assert_eq!(
        view["step"]["retry"], true,
        "same code, second flow: refused"
    );

    // Someone without an authenticator can never pass this step.
    let mut other = Flow::start(&app, "unlock").await;
    other.identify("dave").await;
    let (_, view) = other.answer(0, totp(&fresh)).await;
    assert_eq!(view["step"]["retry"], true);
}
