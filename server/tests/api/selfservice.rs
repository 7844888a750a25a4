//! Self-service over HTTP: the flow engine's rules as a browser (or an attacker) meets them.

use latchkey_core::clock::Clock;
use latchkey_core::demo::USERS;
use latchkey_core::factor::captcha::{self, Challenge};
use latchkey_core::lockout::LockReason;
use serde_json::{json, Value};
use time::Duration;

use super::harness::{self, json, spawn_app, spawn_app_with, Api, TestApp};

/// A flow in progress: its id and the last view.
pub struct Flow {
    pub api: Api,
    pub id: String,
    pub view: Value,
}

impl Flow {
    pub async fn start(app: &TestApp, action: &str) -> Flow {
        Self::start_on(app, action, "web").await
    }

    pub async fn start_on(app: &TestApp, action: &str, channel: &str) -> Flow {
        Self::try_start(app.api(), action, channel).await.unwrap()
    }

    /// Starts a flow on any server, or answers the error that stopped the request.
    pub async fn try_start(api: Api, action: &str, channel: &str) -> Result<Flow, reqwest::Error> {
        let (status, body) = api
            .try_call(
                "flow_start",
                &json!({ "action": action, "channel": channel }),
            )
            .await?;
        assert_eq!(status, 200, "{body}");
        Ok(Flow {
            api,
            id: body["flow_id"].as_str().unwrap().to_owned(),
            view: body["view"].clone(),
        })
    }

    /// Calls `endpoint` with this flow's id added; keeps the view when it succeeds.
    pub async fn call(&mut self, endpoint: &str, body: Value) -> (u16, Value) {
        self.try_call(endpoint, body).await.unwrap()
    }

    /// `call`, answering the error that stopped the request instead of failing.
    pub async fn try_call(
        &mut self,
        endpoint: &str,
        mut body: Value,
    ) -> Result<(u16, Value), reqwest::Error> {
        body["flow_id"] = json!(self.id);
        let (status, value) = self.api.try_call(endpoint, &body).await?;
        if status == 200 {
            self.view = value.clone();
        }
        Ok((status, value))
    }

    pub async fn identify(&mut self, username: &str) -> (u16, Value) {
        self.call("flow_identify", json!({ "username": username }))
            .await
    }

    pub async fn answer(&mut self, step: usize, answer: Value) -> (u16, Value) {
        self.call("flow_answer", json!({ "step": step, "answer": answer }))
            .await
    }

    /// `flow_status`: where the flow is now, as a reload sees it.
    pub async fn status(&self) -> (u16, Value) {
        self.api
            .try_call("flow_status", &json!({ "flow_id": self.id }))
            .await
            .unwrap()
    }

    pub fn step(&self) -> &str {
        self.view["step"]["step"].as_str().unwrap_or_default()
    }

    pub fn prompt(&self) -> &Value {
        &self.view["step"]["prompt"]
    }

    pub fn index(&self) -> usize {
        self.view["step"]["index"].as_u64().unwrap() as usize
    }

    /// The current captcha, solved.
    pub fn solution(&self) -> Value {
        let challenge: Challenge =
            serde_json::from_value(self.prompt()["challenge"].clone()).unwrap();
        json!({ "factor": "captcha", "solution": captcha::solve(&challenge).unwrap() })
    }

    pub async fn pass_captcha(&mut self) {
        assert_eq!(self.prompt()["factor"], "captcha", "{}", self.view);
        let (status, body) = self.answer(self.index(), self.solution()).await;
        assert_eq!(status, 200, "{body}");
    }

    /// Answers the questions shown with `answer(question)`.
    pub async fn answer_questions(&mut self, answer: impl Fn(&str) -> String) -> (u16, Value) {
        let answers = self.questions_answered(answer);
        self.answer(self.index(), answers).await
    }

    /// The answer to the security questions shown, `answer(question)` for each.
    pub fn questions_answered(&self, answer: impl Fn(&str) -> String) -> Value {
        assert_eq!(
            self.prompt()["factor"],
            "security_questions",
            "{}",
            self.view
        );
        let answers: Vec<String> = self.prompt()["questions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|q| answer(q.as_str().unwrap()))
            .collect();
        json!({ "factor": "security_questions", "answers": answers })
    }
}

/// Gives `n` wrong security answers for `username` over as many unlock attempts as it
/// takes (five pause self-service); answers the last attempt.
pub async fn wrong_answers(app: &TestApp, username: &str, n: usize) -> Flow {
    let mut flow = Flow::start(app, "unlock").await;
    flow.identify(username).await;
    flow.pass_captcha().await;
    for _ in 0..n {
        if flow.step() == "failed" {
            flow = Flow::start(app, "unlock").await;
            flow.identify(username).await;
            flow.pass_captcha().await;
        }
        flow.answer_questions(|_| "nope".to_owned()).await;
    }
    flow
}

/// The demo answer `user` enrolled for `question`.
pub fn demo_answer(user: &str, question: &str) -> String {
    USERS
        .iter()
        .find(|u| u.username == user)
        .and_then(|u| u.answers.iter().find(|(q, _)| *q == question))
        .map(|(_, a)| (*a).to_owned())
        .unwrap_or_else(|| format!("no answer for {question}"))
}

async fn lock(app: &TestApp, username: &str) {
    for _ in 0..5 {
        app.sign_in(username, "wrong").await;
    }
    assert!(app.account(username).await.lock.lock.is_some());
}

#[tokio::test]
async fn unlock_with_captcha_and_questions() {
    let app = spawn_app().await;
    lock(&app, "dave").await;
    let mut flow = Flow::start(&app, "unlock").await;
    assert_eq!(flow.view["total_steps"], 2);
    assert_eq!(flow.step(), "identify");
    flow.identify("dave").await;
    flow.pass_captcha().await;
    assert_eq!(
        flow.prompt()["questions"].as_array().unwrap().len(),
        2,
        "the policy asks 2 of 3"
    );
    let (status, view) = flow.answer_questions(|q| demo_answer("dave", q)).await;
    assert_eq!(status, 200);
    assert_eq!(
        view["step"],
        json!({ "step": "done", "summary": {
            "action": "unlock", "was_locked": true, "unlocked": true,
            "password_changed": false, "sessions_ended": 0, "email_queued": true
        }})
    );
    let dave = app.account("dave").await;
    assert!(dave.lock.lock.is_none());
    assert_eq!(dave.lock.failed_attempts, 0);
    assert_eq!(dave.lock.last_unlock.unwrap().by, "self-service (web)");
    assert_eq!(
        app.sign_in("dave", "walnut-harbour-tram").await.1["result"],
        "signed_in"
    );

    let actions: Vec<String> = app.audit().await.iter().map(|r| r.action.clone()).collect();
    for expected in [
        "self_service_start",
        "self_service_identify",
        "self_service_step",
        "unlock",
    ] {
        assert!(
            actions.iter().any(|a| a == expected),
            "{expected} audited: {actions:?}"
        );
    }
}

/// Ten copies of the right answers to one step at once (from one browser, or several
/// servers behind a load balancer): the answers are hashed before the step's
/// transaction, and only one copy moves the flow on; the rest find the flow moved and are
/// refused unjudged. One unlock, one mail.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_answers_to_one_step_count_once() {
    let app = spawn_app().await;
    lock(&app, "dave").await;
    let mut flow = Flow::start(&app, "unlock").await;
    flow.identify("dave").await;
    flow.pass_captcha().await;
    let body = json!({
        "flow_id": flow.id,
        "step": flow.index(),
        "answer": flow.questions_answered(|q| demo_answer("dave", q)),
    });
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..10 {
        let (api, body) = (app.api(), body.clone());
        tasks.spawn(async move { api.try_call("flow_answer", &body).await.unwrap() });
    }
    let mut answers = Vec::new();
    while let Some(r) = tasks.join_next().await {
        answers.push(r.unwrap());
    }
    let done = answers
        .iter()
        .filter(|(status, view)| *status == 200 && view["step"]["step"] == "done")
        .count();
    assert_eq!(done, 1, "{answers:?}");
    assert_eq!(
        answers.iter().filter(|(status, _)| *status != 200).count(),
        9,
        "{answers:?}"
    );
    let audit = app.audit().await;
    assert_eq!(audit.iter().filter(|r| r.action == "unlock").count(), 1);
    let unlocked_mails = app
        .outbox()
        .await
        .iter()
        .filter(|m| m.notification.kind() == "account_unlocked")
        .count();
    assert_eq!(unlocked_mails, 1);
}

#[tokio::test]
async fn answers_are_normalised_before_comparison() {
    let app = spawn_app().await;
    let mut flow = Flow::start(&app, "unlock").await;
    flow.identify("dave").await;
    flow.pass_captcha().await;
    let (_, view) = flow
        .answer_questions(|q| {
            let a = demo_answer("dave", q);
            // Different case, extra spaces, full-width letters: all the same answer.
            let shouty: String = a
                .to_uppercase()
                .chars()
                .map(|c| match c {
                    'A'..='Z' => char::from_u32(c as u32 - 'A' as u32 + 0xFF21).unwrap_or(c),
                    ' ' => ' ',
                    other => other,
                })
                .collect();
            format!("   {}  ", shouty.replace(' ', "   "))
        })
        .await;
    assert_eq!(view["step"]["step"], "done", "{view}");
    assert_eq!(
        view["step"]["summary"]["was_locked"], false,
        "nothing needed unlocking"
    );
}

#[tokio::test]
async fn reset_changes_the_password_unlocks_and_ends_every_session() {
    let app = spawn_app().await;
    assert_eq!(
        app.sign_in("erin", "pebble-compass-violet").await.1["result"],
        "signed_in"
    );
    lock(&app, "erin").await;
    let mut flow = Flow::start(&app, "reset_password").await;
    flow.identify("erin").await;
    flow.pass_captcha().await;
    let (_, view) = flow.answer_questions(|q| demo_answer("erin", q)).await;
    assert_eq!(
        view["step"],
        json!({ "step": "choose_password", "min_chars": 12 })
    );

    // Refused passwords name the field and leave the flow where it is.
    for (password, confirm, field) in [
        ("short", "short", "password"),
        ("passwordpassword", "passwordpassword", "password"),
        ("erin-ellery-2026!", "erin-ellery-2026!", "password"),
        ("orchard-velvet-pylon", "orchard-velvet-pyl0n", "confirm"),
    ] {
        let (status, err) = flow
            .call(
                "flow_password",
                json!({ "password": password, "confirm": confirm }),
            )
            .await;
        assert_eq!(
            (status, err["field"].as_str()),
            (400, Some(field)),
            "{password}: {err}"
        );
    }
    assert_eq!(flow.step(), "choose_password");

    let (status, view) = flow
        .call(
            "flow_password",
            json!({ "password": "orchard-velvet-pylon", "confirm": "orchard-velvet-pylon" }),
        )
        .await;
    assert_eq!(status, 200, "{view}");
    let summary = &view["step"]["summary"];
    assert_eq!(summary["password_changed"], true);
    assert_eq!(summary["was_locked"], true);
    assert_eq!(summary["unlocked"], true);
    assert_eq!(summary["sessions_ended"], 1);
    assert_eq!(
        app.sign_in("erin", "pebble-compass-violet").await.1["result"],
        "refused"
    );
    assert_eq!(
        app.sign_in("erin", "orchard-velvet-pylon").await.1["result"],
        "signed_in"
    );
    let erin = app.account("erin").await;
    assert_eq!(erin.password_changed_at, Some(app.clock.now()));
    assert!(app
        .audit()
        .await
        .iter()
        .any(|r| r.action == "reset_password"));
}

#[tokio::test]
async fn steps_cannot_be_skipped_repeated_or_reordered() {
    let app = spawn_app().await;
    let mut flow = Flow::start(&app, "reset_password").await;
    // Before identifying: no step may be answered, no password chosen.
    let (status, _) = flow.answer(0, flow_solution_placeholder()).await;
    assert_eq!(status, 409);
    flow.identify("dave").await;
    let at_captcha = flow.view.clone();
    // Skipping ahead to the questions, or answering the captcha step with questions.
    let skip = json!({ "factor": "security_questions", "answers": ["a", "b"] });
    assert_eq!(flow.answer(1, skip.clone()).await.0, 409);
    assert_eq!(flow.answer(0, skip).await.0, 409);
    assert_eq!(flow.identify("dave").await.0, 409, "identifying twice");
    let (status, _) = flow
        .call(
            "flow_password",
            json!({ "password": "orchard-velvet-pylon", "confirm": "orchard-velvet-pylon" }),
        )
        .await;
    assert_eq!(status, 409, "choosing a password before authenticating");
    let (_, now) = flow.call("flow_status", json!({})).await;
    assert_eq!(now, at_captcha, "refused requests change nothing");
    // Repeating a passed step.
    let solution = flow.solution();
    flow.pass_captcha().await;
    assert_eq!(flow.answer(0, solution).await.0, 409);
}

fn flow_solution_placeholder() -> Value {
    json!({ "factor": "captcha", "solution": {
        "algorithm": "SHA-256", "challenge": "00", "number": 1, "salt": "x", "signature": "00"
    }})
}

#[tokio::test]
async fn a_finished_or_failed_flow_cannot_be_reused() {
    let app = spawn_app().await;
    let mut flow = Flow::start(&app, "unlock").await;
    flow.identify("dave").await;
    flow.pass_captcha().await;
    flow.answer_questions(|q| demo_answer("dave", q)).await;
    assert_eq!(flow.step(), "done");
    let (status, err) = flow
        .answer(
            1,
            json!({ "factor": "security_questions", "answers": ["x", "y"] }),
        )
        .await;
    assert_eq!((status, err["kind"].as_str()), (410, Some("flow_ended")));
    assert_eq!(flow.identify("dave").await.0, 410);

    let mut failed = Flow::start(&app, "unlock").await;
    failed.identify("dave").await;
    failed.pass_captcha().await;
    for _ in 0..3 {
        failed.answer_questions(|_| "wrong".to_owned()).await;
    }
    assert_eq!(
        failed.view["step"],
        json!({ "step": "failed", "failure": { "reason": "not_verified", "factor": "security_questions" } })
    );
    let right: Vec<String> = [
        "What was the name of your first school?",
        "In which town or city were you born?",
    ]
    .iter()
    .map(|q| demo_answer("dave", q))
    .collect();
    let (status, _) = failed
        .answer(
            1,
            json!({ "factor": "security_questions", "answers": right }),
        )
        .await;
    assert_eq!(status, 410, "right answers after failing change nothing");
    assert!(
        app.audit()
            .await
            .iter()
            .filter(|r| r.action == "unlock")
            .count()
            == 1
    );
}

#[tokio::test]
async fn flows_expire() {
    let app = spawn_app().await;
    let mut flow = Flow::start(&app, "unlock").await;
    flow.identify("dave").await;
    app.clock.advance(Duration::minutes(10));
    let (status, err) = flow.answer(0, flow.solution()).await;
    assert_eq!(status, 410, "{err}");
    assert_eq!(flow.call("flow_status", json!({})).await.0, 410);
    // An id that never existed looks the same as an expired one.
    let mut forged = Flow {
        api: app.api(),
        id: "A".repeat(43),
        view: Value::Null,
    };
    assert_eq!(forged.identify("dave").await.0, 410);
    let mut garbage = Flow {
        api: app.api(),
        id: "../x".into(),
        view: Value::Null,
    };
    assert_eq!(garbage.identify("dave").await.0, 410);
}

#[tokio::test]
async fn a_captcha_solution_works_once_for_its_own_flow_and_only_before_it_expires() {
    let app = spawn_app_with(|c| c.self_service.flow_minutes = 60).await;
    let mut first = Flow::start(&app, "unlock").await;
    first.identify("dave").await;
    let solution = first.solution();
    first.pass_captcha().await;

    // The same solution presented to another flow is refused (and costs an attempt).
    let mut second = Flow::start(&app, "unlock").await;
    second.identify("dave").await;
    let (_, view) = second.answer(0, solution).await;
    assert_eq!(view["step"]["retry"], true);
    assert_eq!(view["step"]["attempts_left"], 2);

    // A correct solution submitted after the challenge's ten minutes is refused.
    let late = second.solution();
    app.clock.advance(Duration::minutes(11));
    let (_, view) = second.answer(0, late).await;
    assert_eq!(view["step"]["prompt"]["factor"], "captcha");
    assert_eq!(view["step"]["attempts_left"], 1);
}

/// The captcha's signature covers only `SHA-256(salt ‖ number)`, so digits moved from
/// the number into the salt keep the hash and push the salt's `?expires=` decades out.
/// The flow keeps the salt it issued: the forgery is a wrong answer, and the honest
/// solution still passes afterwards.
#[tokio::test]
async fn a_captcha_with_digits_moved_into_its_salt_is_refused() {
    let app = spawn_app().await;
    let mut flow = Flow::start(&app, "unlock").await;
    flow.identify("dave").await;
    // Keep drawing challenges until the secret number has two digits or more to move
    // (and no zero after its first, which a number cannot keep).
    let honest = loop {
        let s = flow.solution();
        let digits = s["solution"]["number"].as_u64().unwrap().to_string();
        if digits.len() > 1 && !digits[1..].starts_with('0') {
            break s;
        }
        flow = Flow::start(&app, "unlock").await;
        flow.identify("dave").await;
    };
    let digits = honest["solution"]["number"].as_u64().unwrap().to_string();
    let mut forged = honest.clone();
    forged["solution"]["salt"] = json!(format!(
        "{}{}",
        honest["solution"]["salt"].as_str().unwrap(),
        &digits[..1]
    ));
    forged["solution"]["number"] = json!(digits[1..].parse::<u64>().unwrap());
    let (status, view) = flow.answer(0, forged).await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["step"]["retry"], true, "a wrong answer: {view}");
    assert_eq!(view["step"]["prompt"]["factor"], "captcha");
    let (_, view) = flow.answer(0, honest).await;
    assert_eq!(view["step"]["prompt"]["factor"], "security_questions");
}

#[tokio::test]
async fn unknown_and_disabled_users_walk_the_same_path() {
    let app = spawn_app().await;
    let mut shapes = Vec::new();
    for name in ["dave", "zed-nobody", "carol"] {
        let mut flow = Flow::start(&app, "unlock").await;
        let (status, after_identify) = flow.identify(name).await;
        assert_eq!(status, 200);
        flow.pass_captcha().await;
        let questions = flow.prompt()["questions"].as_array().unwrap().len();
        let (_, wrong) = flow.answer_questions(|_| "wrong answer".to_owned()).await;
        shapes.push((
            after_identify["step"]["prompt"]["factor"].clone(),
            after_identify["total_steps"].clone(),
            questions,
            wrong["step"]["retry"].clone(),
            wrong["step"]["attempts_left"].clone(),
        ));
        for _ in 0..2 {
            flow.answer_questions(|_| "still wrong".to_owned()).await;
        }
        assert_eq!(
            flow.view["step"],
            json!({ "step": "failed", "failure": { "reason": "not_verified", "factor": "security_questions" } }),
            "{name}"
        );
    }
    assert_eq!(shapes[0], shapes[1], "unknown user");
    assert_eq!(shapes[0], shapes[2], "disabled account");

    // An unknown name is asked the same questions every time.
    let mut questions = Vec::new();
    for _ in 0..2 {
        let mut flow = Flow::start(&app, "unlock").await;
        flow.identify("zed-nobody").await;
        flow.pass_captcha().await;
        questions.push(flow.prompt()["questions"].clone());
    }
    assert_eq!(questions[0], questions[1]);
    // And so is a real person.
    let mut real = Vec::new();
    for _ in 0..2 {
        let mut flow = Flow::start(&app, "unlock").await;
        flow.identify("dave").await;
        flow.pass_captcha().await;
        real.push(flow.prompt()["questions"].clone());
    }
    assert_eq!(real[0], real[1]);
}

#[tokio::test]
async fn too_many_wrong_answers_block_self_service_and_lock_the_account() {
    let app = spawn_app().await;
    let flow = wrong_answers(&app, "heidi", 5).await;
    let until = (app.clock.now() + Duration::minutes(30)).unix_timestamp();
    assert_eq!(
        flow.view["step"],
        json!({ "step": "failed", "failure": {
            "reason": "blocked", "until": until, "factor": "security_questions"
        } })
    );
    let heidi = app.account("heidi").await;
    let lock = heidi.lock.lock.unwrap();
    assert_eq!(lock.reason, LockReason::SelfServiceFailures);
    assert_eq!(lock.expires_at.map(|e| e.unix_timestamp()), Some(until));
    assert!(app
        .audit()
        .await
        .iter()
        .any(|r| r.action == "lock" && r.details.contains("Self-service failures")));

    // The owner is told, in case someone else is guessing; and signing in with the right
    // password says why the account is locked (so the page does not offer "Unlock").
    crate::harness::eventually("the owner is told", || async {
        app.mailbox()
            .iter()
            .any(|m| m.to == "heidi@example.org" && m.subject.contains("paused"))
    })
    .await;
    assert_eq!(
        app.sign_in("heidi", "saddle-orchid-beacon").await.1,
        json!({ "result": "locked", "until": until, "reason": "self_service_failures",
            "self_service_paused_until": until })
    );

    // While blocked, a new attempt ends at once, even before any answer.
    let mut again = Flow::start(&app, "unlock").await;
    again.identify("heidi").await;
    assert_eq!(
        again.view["step"]["failure"],
        json!({ "reason": "blocked", "until": until, "factor": null }),
        "the reason is not known to this attempt"
    );
    // After the block, self-service works again (and unlocks the account).
    app.clock.advance(Duration::minutes(31));
    let mut later = Flow::start(&app, "unlock").await;
    later.identify("heidi").await;
    later.pass_captcha().await;
    let (_, view) = later.answer_questions(|q| demo_answer("heidi", q)).await;
    assert_eq!(view["step"]["step"], "done");
}

/// The usual way in: locked by mistyped passwords, then too many wrong answers pause
/// self-service. Signing in with the right password says both, so the page does not send
/// the person to "Unlock", which would only say "paused" (issue 15, item 2).
#[tokio::test]
async fn a_sign_in_lock_says_when_self_service_is_paused_too() {
    let app = spawn_app().await;
    lock(&app, "grace").await;
    let locked = json!({ "result": "locked", "until": null, "reason": "failures",
        "self_service_paused_until": null });
    assert_eq!(
        app.sign_in("grace", "meadow-lantern-quartz").await.1,
        locked
    );

    let flow = wrong_answers(&app, "grace", 5).await;
    assert_eq!(flow.view["step"]["failure"]["reason"], "blocked");
    let until = (app.clock.now() + Duration::minutes(30)).unix_timestamp();
    // The sign-in lock stays what it was (until unlocked, "Failures"); the pause is told.
    assert_eq!(
        app.sign_in("grace", "meadow-lantern-quartz").await.1,
        json!({ "result": "locked", "until": null, "reason": "failures",
            "self_service_paused_until": until })
    );
    // Only to the right password.
    assert_eq!(
        app.sign_in("grace", "wrong").await.1,
        json!({ "result": "refused" })
    );
    // Once the pause is over, "Unlock" is worth offering again.
    app.clock.advance(Duration::minutes(31));
    assert_eq!(
        app.sign_in("grace", "meadow-lantern-quartz").await.1,
        locked
    );
}

/// The step never promises more tries than the name has left before self-service is
/// blocked, and says when its last try would block — alike for real and unknown names.
#[tokio::test]
async fn attempts_left_is_the_smaller_budget_and_warns_before_the_block() {
    let app = spawn_app().await;
    let mut seen = Vec::new();
    for name in ["dave", "zed-nobody"] {
        let mut flow = Flow::start(&app, "unlock").await;
        flow.identify(name).await;
        flow.pass_captcha().await;
        let mut trail = vec![(
            flow.view["step"]["attempts_left"].clone(),
            flow.view["step"]["pause_minutes"].clone(),
        )];
        for _ in 0..3 {
            flow.answer_questions(|_| "nope".to_owned()).await;
        }
        assert_eq!(flow.view["step"]["failure"]["reason"], "not_verified");
        // Two of the name's five are left: the new attempt says 2, not the step's 3, and
        // that running out pauses self-service for 30 minutes.
        let mut flow = Flow::start(&app, "unlock").await;
        flow.identify(name).await;
        flow.pass_captcha().await;
        for _ in 0..2 {
            trail.push((
                flow.view["step"]["attempts_left"].clone(),
                flow.view["step"]["pause_minutes"].clone(),
            ));
            flow.answer_questions(|_| "nope".to_owned()).await;
        }
        assert_eq!(flow.view["step"]["failure"]["reason"], "blocked", "{name}");
        assert_eq!(
            trail,
            vec![
                (json!(3), json!(null)),
                (json!(2), json!(30)),
                (json!(1), json!(30))
            ],
            "{name}"
        );
        seen.push(trail);
    }
    assert_eq!(seen[0], seen[1]);
}

#[tokio::test]
async fn an_unknown_name_is_blocked_the_same_way() {
    let app = spawn_app().await;
    let mut flow = Flow::start(&app, "unlock").await;
    flow.identify("zed-nobody").await;
    flow.pass_captcha().await;
    for i in 0..5 {
        if flow.step() == "failed" {
            assert_eq!(i, 3);
            flow = Flow::start(&app, "unlock").await;
            flow.identify("zed-nobody").await;
            flow.pass_captcha().await;
        }
        flow.answer_questions(|_| "nope".to_owned()).await;
    }
    assert_eq!(flow.view["step"]["failure"]["reason"], "blocked");
}

#[tokio::test]
async fn too_many_requests_from_one_client_get_429() {
    let app = spawn_app_with(|c| c.client_limits.requests_per_minute = 3).await;
    for _ in 0..3 {
        assert_eq!(
            app.call(
                "flow_start",
                json!({ "action": "unlock", "channel": "web" })
            )
            .await
            .status(),
            200
        );
    }
    let res = app
        .call(
            "flow_start",
            json!({ "action": "unlock", "channel": "web" }),
        )
        .await;
    assert_eq!(res.status(), 429);
    let retry: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry >= 1);
    assert_eq!(json(res).await.1["kind"], "rate_limited");
}

/// `Retry-After` is rounded up: a client that waits exactly as long as it is told gets
/// in. Seven a minute is one every 8.57 s, so it is told 9 (rounding down said 8, and a
/// retry at 8 s was refused again).
#[tokio::test]
async fn retrying_exactly_when_told_succeeds() {
    let app = spawn_app_with(|c| c.client_limits.requests_per_minute = 7).await;
    let start = || {
        app.call(
            "flow_start",
            json!({ "action": "unlock", "channel": "web" }),
        )
    };
    for _ in 0..7 {
        assert_eq!(start().await.status(), 200);
    }
    let res = start().await;
    assert_eq!(res.status(), 429);
    assert_eq!(res.headers()["retry-after"], "9");
    app.clock.advance(Duration::seconds(8));
    assert_eq!(start().await.status(), 429, "one second early");
    app.clock.advance(Duration::seconds(1));
    assert_eq!(start().await.status(), 200, "exactly when told");
}

#[tokio::test]
async fn bad_flow_input_names_the_field() {
    let app = spawn_app().await;
    let cases = [
        (
            "flow_start",
            json!({ "action": "delete_everything", "channel": "web" }),
            "action",
        ),
        (
            "flow_start",
            json!({ "action": "unlock", "channel": "fax" }),
            "channel",
        ),
        ("flow_start", json!({ "action": "unlock" }), "channel"),
        (
            "flow_identify",
            json!({ "flow_id": "x", "username": "dave", "admin": 1 }),
            "admin",
        ),
        (
            "flow_answer",
            json!({ "flow_id": "x", "step": "one", "answer": { "factor": "totp", "code": "123456" } }),
            "step",
        ),
        (
            "flow_answer",
            json!({ "flow_id": "x", "step": 0, "answer": { "factor": "sms", "code": "1" } }),
            "answer.factor",
        ),
    ];
    for (endpoint, body, field) in cases {
        let (status, err) = json(app.call(endpoint, body.clone()).await).await;
        assert_eq!(
            (status, err["field"].as_str()),
            (400, Some(field)),
            "{endpoint} {body}: {err}"
        );
    }
    let mut flow = Flow::start(&app, "unlock").await;
    let (status, err) = flow.identify("").await;
    assert_eq!((status, err["field"].as_str()), (400, Some("username")));
    assert_eq!(flow.step(), "identify");
    flow.identify("dave").await;
    flow.pass_captcha().await;
    let (status, err) = flow
        .answer(
            1,
            json!({ "factor": "security_questions", "answers": ["only one"] }),
        )
        .await;
    assert_eq!(
        (status, err["field"].as_str()),
        (400, Some("answers")),
        "{err}"
    );
    assert_eq!(
        flow.view["step"]["attempts_left"], 3,
        "malformed answers cost no attempt"
    );
}

#[tokio::test]
async fn a_channel_that_is_not_offered_cannot_be_used() {
    let app = spawn_app_with(|c| c.channels = vec![latchkey_core::settings::Channel::Web]).await;
    let (status, err) = json(
        app.call(
            "flow_start",
            json!({ "action": "unlock", "channel": "desktop" }),
        )
        .await,
    )
    .await;
    assert_eq!((status, err["field"].as_str()), (400, Some("channel")));
}

#[tokio::test]
async fn each_channel_runs_its_own_authentication_flow() {
    use latchkey_core::auth_flow::FlowScope;
    use latchkey_core::factor::FactorKind;

    let app = spawn_app().await;
    app.core
        .set_auth_flow(
            &harness::system(),
            FlowScope::Desktop,
            &[FactorKind::SecurityQuestions],
        )
        .await
        .unwrap();
    let desktop = Flow::start_on(&app, "unlock", "desktop").await;
    assert_eq!(desktop.view["total_steps"], 1);
    let web = Flow::start_on(&app, "unlock", "web").await;
    assert_eq!(web.view["total_steps"], 2);
    // One flow for all channels replaces the per-channel ones.
    app.core
        .set_auth_flow(
            &harness::system(),
            FlowScope::All,
            &[FactorKind::Captcha, FactorKind::Totp],
        )
        .await
        .unwrap();
    let mut flow = Flow::start_on(&app, "unlock", "desktop").await;
    flow.identify("dave").await;
    flow.pass_captcha().await;
    assert_eq!(flow.prompt()["factor"], "totp");
    // A captcha alone proves nothing about who someone is.
    let err = app
        .core
        .set_auth_flow(&harness::system(), FlowScope::All, &[FactorKind::Captcha])
        .await
        .unwrap_err();
    assert!(err.to_string().contains("factors"), "{err}");
}

mod email_code {
    use super::*;
    use latchkey_core::auth_flow::FlowScope;
    use latchkey_core::factor::FactorKind;

    async fn app_with_email_flow(configure: impl FnOnce(&mut latchkey_server::Config)) -> TestApp {
        let app = spawn_app_with(configure).await;
        app.core
            .set_auth_flow(&harness::system(), FlowScope::All, &[FactorKind::EmailCode])
            .await
            .unwrap();
        app
    }

    fn code(c: &str) -> Value {
        json!({ "factor": "email_code", "code": c })
    }

    fn wrong_for(right: &str) -> String {
        if right == "000000" {
            "111111".into()
        } else {
            "000000".into()
        }
    }

    /// What every name is told at the code step: nothing about the address.
    fn code_prompt() -> Value {
        json!({ "factor": "email_code", "valid_minutes": 10 })
    }

    #[tokio::test]
    async fn a_code_is_mailed_and_unlocks_once() {
        let app = app_with_email_flow(|_| {}).await;
        lock(&app, "dave").await;
        let mut flow = Flow::start(&app, "unlock").await;
        flow.identify("dave").await;
        assert_eq!(flow.prompt(), &code_prompt());
        let sent = app.emailed_code("dave@example.org", 0).await;
        let (_, view) = flow.answer(0, code(&sent)).await;
        assert_eq!(view["step"]["summary"]["unlocked"], true);
        assert_eq!(view["step"]["summary"]["email_queued"], true);
        // The confirmation follows by email.
        eventually_mail(&app, "dave@example.org", "unlocked").await;
        // The code is spent: a second flow gets a new one, and the old one fails there.
        let mut again = Flow::start(&app, "unlock").await;
        again.identify("dave").await;
        let (_, view) = again.answer(0, code(&sent)).await;
        assert_eq!(view["step"]["retry"], true);
        let second = app.emailed_code("dave@example.org", 1).await;
        assert_ne!(second, sent);
        // Nowhere does the database hold the code itself once it is sent.
        harness::eventually("the code is wiped from the outbox", || async {
            app.outbox().await.iter().all(|row| !row.holds_secret)
        })
        .await;
    }

    async fn eventually_mail(app: &TestApp, to: &str, subject_part: &str) {
        harness::eventually("a confirmation email", || async {
            app.mailbox()
                .iter()
                .any(|m| m.to == to && m.subject.to_lowercase().contains(subject_part))
        })
        .await;
    }

    /// With more attempts per step than a code allows, the code's five tries win, and
    /// the page says so: it counts down from five and the fifth wrong code ends the
    /// attempt — it never says "try again" while no code can succeed.
    #[tokio::test]
    async fn a_code_allows_five_tries_and_the_step_says_so() {
        let app = app_with_email_flow(|c| {
            c.self_service.attempts_per_step = 10;
            c.self_service.max_failures = 10;
        })
        .await;
        let mut flow = Flow::start(&app, "unlock").await;
        let (_, view) = flow.identify("dave").await;
        assert_eq!(view["step"]["attempts_left"], 5);
        let sent = app.emailed_code("dave@example.org", 0).await;
        for left in (1..5).rev() {
            let (_, view) = flow.answer(0, code(&wrong_for(&sent))).await;
            assert_eq!(view["step"]["retry"], true);
            assert_eq!(view["step"]["attempts_left"], left, "{view}");
        }
        let (_, view) = flow.answer(0, code(&wrong_for(&sent))).await;
        assert_eq!(
            view["step"],
            json!({ "step": "failed", "failure": { "reason": "not_verified", "factor": "email_code" } })
        );
        let (status, _) = flow.answer(0, code(&sent)).await;
        assert_eq!(status, 410, "the attempt is over");
        assert!(app.account("dave").await.lock.lock.is_none());
    }

    /// An expired code ends the attempt and says why, for real and unknown names alike.
    #[tokio::test]
    async fn a_code_expires_and_the_attempt_says_so() {
        let app = app_with_email_flow(|c| c.self_service.flow_minutes = 60).await;
        let mut real = Flow::start(&app, "unlock").await;
        real.identify("dave").await;
        let mut unknown = Flow::start(&app, "unlock").await;
        unknown.identify("zed-nobody").await;
        let sent = app.emailed_code("dave@example.org", 0).await;
        app.clock.advance(Duration::minutes(10));
        let expired = json!({ "step": "failed", "failure": { "reason": "code_expired" } });
        let (_, view) = real.answer(0, code(&sent)).await;
        assert_eq!(view["step"], expired);
        let (_, view) = unknown.answer(0, code("123456")).await;
        assert_eq!(view["step"], expired);
        assert_eq!(
            app.last_audit("self_service_step").await.details,
            json!({ "factor": "email_code", "step": 1, "reason": "code_expired" }).to_string()
        );
    }

    #[tokio::test]
    async fn an_unknown_name_gets_the_same_prompt_and_no_mail() {
        let app = app_with_email_flow(|_| {}).await;
        let mut flow = Flow::start(&app, "unlock").await;
        flow.identify("zed-nobody").await;
        assert_eq!(flow.prompt(), &code_prompt());
        let (status, err) = flow.answer(0, code("12ab")).await;
        assert_eq!((status, err["field"].as_str()), (400, Some("code")));
        let (_, view) = flow.answer(0, code("123456")).await;
        assert_eq!(view["step"]["retry"], true);
        assert!(app.outbox().await.is_empty(), "nothing was sent");
    }

    /// A masked address that does not start and end like the username, or is on another
    /// domain, would tell a real account from a made-up name. Fifty real accounts with
    /// such addresses and fifty unknown names must see exactly the same answer when the
    /// flow starts with the emailed code (identify's own answer is the code step).
    #[tokio::test]
    async fn the_code_step_looks_the_same_for_real_and_unknown_names() {
        use latchkey_core::account::{AccountStatus, Email, NewAccount, Username};

        let app = spawn_app().await;
        app.core
            .set_auth_flow(
                &harness::system(),
                FlowScope::Mobile,
                &[FactorKind::EmailCode],
            )
            .await
            .unwrap();
        let store_id = app.account("alice").await.store_id;
        let locals = ["robert.quinn", "m", "x.y.z-long-address", "helpdesk+test"];
        let domains = ["example.org", "mail.example.net", "corp.example", "x.io"];
        for i in 0..50 {
            let account = NewAccount {
                public_id: latchkey_core::account::new_public_id(&latchkey_core::random::OsRandom),
                store_id,
                username: Username::parse("username", &format!("rq{i}")).unwrap(),
                display_name: format!("Person {i}"),
                email: Email::parse(
                    "email",
                    &format!("{}@{}", locals[i % 4], domains[i / 4 % 4]),
                )
                .unwrap(),
                status: AccountStatus::Active,
                password_hash: None,
            };
            let mut tx = app.store.begin().await.unwrap();
            tx.create_account(&account, None, app.clock.now())
                .await
                .unwrap();
            tx.commit().await.unwrap();
        }
        let mut views = std::collections::BTreeSet::new();
        for name in (0..50)
            .map(|i| format!("rq{i}"))
            .chain((0..50).map(|i| format!("rq{}", 1000 + i)))
        {
            // Two requests a name, paced to the per-client limit of 60 a minute.
            app.clock.advance(Duration::seconds(2));
            let mut flow = Flow::start_on(&app, "unlock", "mobile").await;
            let (status, view) = flow.identify(&name).await;
            assert_eq!(status, 200, "{view}");
            views.insert(view.to_string());
        }
        assert_eq!(
            views.into_iter().collect::<Vec<_>>(),
            vec![json!({
                "action": "unlock",
                "channel": "mobile",
                "total_steps": 1,
                "step": {
                    "step": "authenticate",
                    "index": 0,
                    "prompt": code_prompt(),
                    "attempts_left": 3,
                    "retry": false,
                    "pause_minutes": null,
                    "alternatives": [],
                    "resend_in_secs": 60,
                },
            })
            .to_string()],
            "one answer for all hundred names"
        );
        // Fifty codes went out, to the real addresses only.
        harness::eventually("fifty code mails", || async { app.mailbox().len() == 50 }).await;
    }

    /// The code waits in the outbox while the mail server is down; then it is sent.
    /// Neither the database file nor its write-ahead log (which keeps old versions of
    /// rows until a checkpoint) nor the shared-memory file ever held it in clear.
    #[tokio::test]
    async fn the_code_is_never_in_the_database_files_in_clear() {
        use harness::SmtpSink;

        let mut sink = SmtpSink::down();
        let app = app_with_email_flow(crate::mail::send_to(&sink)).await;
        let mut flow = Flow::start(&app, "unlock").await;
        flow.identify("dave").await;
        harness::eventually("a first attempt fails", || async {
            app.outbox().await.iter().any(|r| r.attempts > 0)
        })
        .await;
        sink.up().await;
        app.clock.advance(Duration::minutes(2));
        harness::eventually("the code mail is sent", || async {
            !sink.received().is_empty()
        })
        .await;
        let mail = &sink.received()[0];
        let sent: String = mail
            .text
            .split_whitespace()
            .find(|w| w.len() == 6 && w.bytes().all(|b| b.is_ascii_digit()))
            .unwrap()
            .to_owned();
        let files = app.database_files().await;
        assert!(!files.is_empty());
        for path in files {
            let path = path.display();
            let bytes = std::fs::read(path.to_string()).unwrap_or_default();
            // Digits inside hex (hashes, Message-IDs) are not the code; a code stored as
            // text would follow the row's JSON payload.
            let found = bytes
                .windows(7)
                .any(|w| &w[1..] == sent.as_bytes() && !w[0].is_ascii_hexdigit());
            assert!(!found, "{path} holds the code {sent} in clear");
        }
        // It was the real code all along.
        let (_, view) = flow.answer(0, code(&sent)).await;
        assert_eq!(view["step"]["step"], "done", "{view}");
    }

    async fn resend(flow: &mut Flow) -> (u16, Value) {
        let step = flow.index();
        flow.call("flow_resend", json!({ "step": step })).await
    }

    /// "Send a new code": not before the cooldown, the old code stops working, each one
    /// counts against the name, and the name's last try is kept for an answer.
    #[tokio::test]
    async fn a_new_code_waits_replaces_the_old_one_and_counts_against_the_name() {
        let app = app_with_email_flow(|_| {}).await;
        let mut flow = Flow::start(&app, "unlock").await;
        flow.identify("dave").await;
        assert_eq!(flow.view["step"]["resend_in_secs"], 60);
        let old = app.emailed_code("dave@example.org", 0).await;
        app.clock.advance(Duration::seconds(20));
        let (_, view) = flow.status().await;
        assert_eq!(view["step"]["resend_in_secs"], 40, "the wait counts down");
        let (status, err) = resend(&mut flow).await;
        assert_eq!(
            (status, err["field"].as_str()),
            (400, Some("step")),
            "{err}"
        );
        app.clock.advance(Duration::seconds(40));
        let (status, view) = resend(&mut flow).await;
        assert_eq!(status, 200, "{view}");
        assert_eq!(view["step"]["resend_in_secs"], 60);
        assert_eq!(view["step"]["prompt"], code_prompt());
        let new = app.emailed_code("dave@example.org", 1).await;
        assert_ne!(new, old);
        // The old code is no longer good, even though it has not expired.
        let (_, view) = flow.answer(0, code(&old)).await;
        assert_eq!(view["step"]["retry"], true, "{view}");
        // One new code and one wrong code: 3 of the name's 5 are left.
        assert_eq!(view["step"]["attempts_left"], 2);
        let (_, err) = resend(&mut flow).await;
        assert_eq!(err["field"], "step", "the cooldown again");
        app.clock.advance(Duration::seconds(60));
        let (status, view) = resend(&mut flow).await;
        assert_eq!(status, 200, "{view}");
        // Now 2 are left: one more code would leave a single try, which is kept for an
        // answer — no more codes.
        app.clock.advance(Duration::seconds(60));
        let (status, view) = resend(&mut flow).await;
        assert_eq!(status, 200, "{view}");
        assert_eq!(flow.view["step"]["resend_in_secs"], json!(null));
        let (status, err) = resend(&mut flow).await;
        assert_eq!((status, err["field"].as_str()), (400, Some("step")));
        let latest = app.emailed_code("dave@example.org", 3).await;
        let (_, view) = flow.answer(0, code(&latest)).await;
        assert_eq!(view["step"]["step"], "done", "{view}");
        let record = app.last_audit("self_service_resend_code").await;
        assert_eq!(record.outcome, "success");
    }

    /// The same shapes for a real and an unknown name, code after code; mail only for
    /// the real one.
    #[tokio::test]
    async fn new_codes_look_the_same_for_real_and_unknown_names() {
        let app = app_with_email_flow(|_| {}).await;
        let mut views = Vec::new();
        for name in ["dave", "zed-nobody"] {
            let mut flow = Flow::start(&app, "unlock").await;
            flow.identify(name).await;
            let mut trail = vec![flow.view.clone()];
            for _ in 0..5 {
                app.clock.advance(Duration::seconds(60));
                let (status, view) = resend(&mut flow).await;
                trail.push(json!([status, view]));
            }
            views.push(trail);
        }
        assert_eq!(views[0], views[1]);
        // The worker delivers in the background: wait for the mail before counting it.
        let to_dave = || {
            app.mailbox()
                .iter()
                .filter(|m| m.to == "dave@example.org")
                .count()
        };
        harness::eventually("the codes are delivered", || {
            let n = to_dave();
            async move { n >= 5 }
        })
        .await;
        assert_eq!(
            to_dave(),
            5,
            "the first code and four new ones; the fifth was refused"
        );
        assert_eq!(views[0][5][0], 400);
    }

    /// The default phone flow lets a person answer their security questions instead of
    /// the emailed code — once, and only that alternative.
    #[tokio::test]
    async fn a_step_switches_to_its_alternative_once() {
        let app = spawn_app().await;
        let mut shapes = Vec::new();
        for name in ["dave", "zed-nobody"] {
            let mut flow = Flow::start_on(&app, "unlock", "mobile").await;
            flow.identify(name).await;
            flow.pass_captcha().await;
            assert_eq!(flow.prompt()["factor"], "email_code");
            assert_eq!(
                flow.view["step"]["alternatives"],
                json!(["security_questions"])
            );
            let switch = |factor: &str| json!({ "step": 1, "factor": factor });
            let (status, _) = flow.call("flow_switch", switch("totp")).await;
            assert_eq!(status, 409, "not an alternative of this step");
            let (status, view) = flow.call("flow_switch", switch("security_questions")).await;
            assert_eq!(status, 200, "{view}");
            assert_eq!(view["step"]["prompt"]["factor"], "security_questions");
            assert_eq!(view["step"]["alternatives"], json!([]));
            assert_eq!(view["step"]["resend_in_secs"], json!(null));
            let (status, _) = flow.call("flow_switch", switch("email_code")).await;
            assert_eq!(status, 409, "no way back");
            shapes.push((
                view["step"]["prompt"]["questions"]
                    .as_array()
                    .unwrap()
                    .len(),
                view["step"]["attempts_left"].clone(),
            ));
            let (_, view) = flow.answer_questions(|q| demo_answer(name, q)).await;
            // The real person is through; the made-up name is told to try again.
            let expected = if name == "dave" {
                "done"
            } else {
                "authenticate"
            };
            assert_eq!(view["step"]["step"], expected, "{view}");
        }
        assert_eq!(shapes[0], shapes[1]);
        let record = app.last_audit("self_service_switch_factor").await;
        assert!(
            record.details.contains("security_questions"),
            "{}",
            record.details
        );
    }

    #[tokio::test]
    async fn a_reset_mails_a_confirmation() {
        let app = app_with_email_flow(|_| {}).await;
        let mut flow = Flow::start(&app, "reset_password").await;
        flow.identify("frank").await;
        let sent = app.emailed_code("frank@example.org", 0).await;
        flow.answer(0, code(&sent)).await;
        let (_, view) = flow
            .call(
                "flow_password",
                json!({ "password": "orchard-velvet-pylon", "confirm": "orchard-velvet-pylon" }),
            )
            .await;
        assert_eq!(view["step"]["summary"]["email_queued"], true);
        eventually_mail(&app, "frank@example.org", "password").await;
    }
}

/// `latchkey auth-flow …` against the test server's database.
async fn cli(app: &TestApp, args: &[&str]) -> (i32, String, String) {
    app.cli(&[&["auth-flow"], args].concat()).await
}

#[tokio::test]
async fn operators_set_a_channels_flow_from_the_command_line() {
    let app = spawn_app().await;
    let (code, out, _) = cli(&app, &["show"]).await;
    assert_eq!(code, 0);
    assert_eq!(
        out,
        "web: captcha, security_questions\nmobile: captcha, email_code/security_questions\ndesktop: captcha, security_questions\n"
    );
    let (code, _, err) = cli(&app, &["set", "--channel", "web", "captcha"]).await;
    assert_eq!(code, 2);
    assert!(err.contains("factors"), "{err}");
    let (code, _, err) = cli(&app, &["set", "--channel", "fax", "totp"]).await;
    assert_eq!(code, 2);
    assert!(err.contains("--channel"), "{err}");
    let (code, _, err) = cli(&app, &["set", "--channel", "web", "captcha", "sms"]).await;
    assert_eq!(code, 2);
    assert!(err.contains("\"sms\""), "{err}");

    let (code, _, _) = cli(&app, &["set", "--channel", "web", "captcha", "totp"]).await;
    assert_eq!(code, 0);
    let mut flow = Flow::start(&app, "unlock").await;
    flow.identify("dave").await;
    flow.pass_captcha().await;
    assert_eq!(flow.prompt()["factor"], "totp");
    let record = app.last_audit("set_auth_flow").await;
    assert_eq!(record.actor, "system:command line");
    assert!(record.details.contains("\"web\""), "{}", record.details);
}
