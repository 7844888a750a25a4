//! Crash consistency: the server is killed (SIGKILL) while fifty people unlock their
//! accounts or reset their passwords at once, then started again on the same database.
//! A flow whose final answer reached the browser must be there in full after the restart:
//! the account changed, its audit record, its mail in the outbox. Every other flow must be
//! there in full or not at all: never a new password with the lock still set, a cleared
//! lock without its audit record, or an action without its mail. And the audit log's hash
//! chain must still verify.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use latchkey_core::account::{
    parse_display_name, Account, AccountId, AccountName, AccountStatus, Email, NewAccount, Username,
};
use latchkey_core::audit::AuditRecord;
use latchkey_core::clock::{Clock, SystemClock};
use latchkey_core::credentials::{normalise_answer, NewAnswer, QuestionChoice};
use latchkey_core::demo;
use latchkey_core::lockout::{Lock, LockReason, LockState};
use latchkey_core::outbox::OutboxEntry;
use latchkey_core::password::PasswordHasher;
use latchkey_core::store::{self as stores, Database};
use secrecy::SecretString;
use serde_json::{json, Value};
use tokio::sync::{mpsc, watch};

use crate::harness::{cheap_argon2, seed_demo, Api, ServerProcess};
use crate::selfservice::Flow;

/// One flow per person, all at once.
const PEOPLE: usize = 50;
/// Every flow walks up to its last request (the final answer, or the new password) and
/// waits there; then all of them send it at once, and the server is killed as soon as
/// this many have been answered `done`. The rest are in flight: committed but not yet
/// answered, waiting for the database's write lock, perhaps one half-way through its
/// transaction.
const KILL_AFTER_DONE: usize = 8;
/// Every self-service answer leaves the server this long after its request arrived (the
/// padding that hides which path a step took). Long enough that several final requests
/// are committed before the first of them is answered, so that the kill finds commits
/// the browser has not heard of as well as requests not yet committed.
const RESPONSE_TIME: (&str, &str) = ("LATCHKEY_SELF_SERVICE__RESPONSE_TIME_MS", "300");
/// A run whose kill left no flow finished or none interrupted proves nothing; it is run
/// again (on a new database), killing earlier.
const RUNS: usize = 3;

const UNLOCKED_BY: &str = "self-service (web)";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Unlock,
    Reset,
}

impl Action {
    /// As the API names it.
    fn name(self) -> &'static str {
        match self {
            Action::Unlock => "unlock",
            Action::Reset => "reset_password",
        }
    }
}

/// A person with an account of their own and one flow to run on it.
#[derive(Debug)]
struct Person {
    username: String,
    old_password: String,
    new_password: String,
    /// (question, answer) for the three questions they enrolled.
    answers: Vec<(&'static str, String)>,
    action: Action,
    /// Locked (too many failed sign-ins) before the flow.
    locked: bool,
    id: AccountId,
    old_hash: String,
}

impl Person {
    fn answer(&self, question: &str) -> String {
        self.answers
            .iter()
            .find(|(q, _)| *q == question)
            .map(|(_, a)| a.clone())
            .unwrap_or_else(|| panic!("{} was asked {question:?}", self.username))
    }
}

/// How a flow ended, as its browser saw it.
#[derive(Debug)]
enum Outcome {
    /// The final answer arrived: `done`, with this summary.
    Done(Value),
    /// The server died first (a request was refused or cut off).
    Interrupted,
}

/// How the flows of a run ended.
#[derive(Debug, Default)]
struct Tally {
    done: usize,
    interrupted: usize,
    /// Interrupted flows whose action was committed all the same: the browser never
    /// heard, but the account did change.
    committed_unseen: usize,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_during_fifty_unlocks_and_resets_leaves_each_whole_or_untouched() {
    for run in 1..=RUNS {
        let kill_after = (KILL_AFTER_DONE / run).max(1);
        let dir = tempfile::tempdir().unwrap();
        let tally = crash_and_check(&dir.path().join("latchkey.sqlite3"), kill_after).await;
        println!("run {run} (killed after {kill_after} finished): {tally:?}");
        if tally.done > 0 && tally.interrupted > 0 {
            return;
        }
    }
    panic!("in {RUNS} runs the kill never fell between finished and interrupted flows");
}

/// One run: seed, start, run the flows, kill, restart, check every account. Answers how
/// the flows ended.
async fn crash_and_check(database: &Path, kill_after: usize) -> Tally {
    let people = Arc::new(seed(database).await);
    let mut server = ServerProcess::start(database, &[RESPONSE_TIME]).await;

    let outcomes = run_and_kill(&mut server, &people, kill_after).await;

    // A clean start on the crashed database: WAL recovery, migrations, ready.
    server.up().await;
    let after = Snapshot::read(database, &people).await;
    // No cookie store: each sign-in stands alone.
    let signing_in = Api {
        base: server.api.base.clone(),
        client: reqwest::Client::new(),
    };
    let mut tally = Tally::default();
    for (person, outcome) in people.iter().zip(&outcomes) {
        let committed = check_account(person, outcome, &after);
        match outcome {
            Outcome::Done(_) => tally.done += 1,
            Outcome::Interrupted => {
                tally.interrupted += 1;
                tally.committed_unseen += usize::from(committed);
            }
        }
        check_sign_in(&signing_in, person, committed).await;
    }
    let log = server.log();
    assert!(!log.contains("panicked"), "the server panicked:\n{log}");
    server.kill();

    let (code, out, err) = server.cli(&["audit", "verify"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("audit log intact"), "{out}");
    tally
}

/// The demo organisation and `PEOPLE` accounts of our own, each with three security
/// answers: the even ones locked and asking to be unlocked, the odd ones resetting their
/// password, every other one of those locked too.
async fn seed(database: &Path) -> Vec<Person> {
    let store = seed_demo(database).await;
    let hasher = PasswordHasher::new(cheap_argon2(), 2, 1_000).unwrap();
    let now = SystemClock.now();
    let mut read = store.read().await.unwrap();
    let org = read
        .organisation_by_slug(demo::ORGANISATION_SLUG)
        .await
        .unwrap()
        .unwrap();
    let store_id = read
        .account_by_name(&AccountName::parse("username", demo::USERS[0].username).unwrap())
        .await
        .unwrap()
        .unwrap()
        .store_id;
    let catalogue = read.question_catalogue(org.id).await.unwrap();
    drop(read);
    let questions: Vec<&'static str> = demo::USERS[0].answers.iter().map(|(q, _)| *q).collect();

    let mut people = Vec::new();
    for i in 0..PEOPLE {
        let action = if i % 2 == 0 {
            Action::Unlock
        } else {
            Action::Reset
        };
        let username = format!("crash{i:02}");
        let old_password = format!("copper-fjord-whistle-{i}");
        let old_hash = hasher
            .hash(&SecretString::from(old_password.clone()))
            .await
            .unwrap();
        let account = NewAccount {
            public_id: latchkey_core::account::new_public_id(&latchkey_core::random::OsRandom),
            store_id,
            username: Username::parse("username", &username).unwrap(),
            display_name: parse_display_name("display_name", &format!("Crash Tester {i}")).unwrap(),
            email: Email::parse("email", &format!("{username}@example.org")).unwrap(),
            status: AccountStatus::Active,
            password_hash: Some(old_hash.clone()),
        };
        let mut tx = store.begin().await.unwrap();
        let (id, _) = tx.create_account(&account, None, now).await.unwrap();
        tx.commit().await.unwrap();
        let answers: Vec<(&'static str, String)> = questions
            .iter()
            .zip(["Primary school", "Town", "Job"])
            .map(|(q, a)| (*q, format!("{a} {i}")))
            .collect();
        let mut stored = Vec::new();
        for (question, answer) in &answers {
            let question_id = catalogue.iter().find(|c| c.text == *question).unwrap().id;
            stored.push(NewAnswer {
                question: QuestionChoice::Catalogue { id: question_id },
                answer_hash: hasher
                    .hash(&SecretString::from(normalise_answer(answer)))
                    .await
                    .unwrap(),
            });
        }
        let locked = action == Action::Unlock || i % 4 == 1;
        let mut tx = store.begin().await.unwrap();
        tx.replace_security_answers(id, &stored, now).await.unwrap();
        if locked {
            let state = LockState {
                lock: Some(Lock {
                    locked_at: now,
                    reason: LockReason::Failures,
                    expires_at: None,
                }),
                ..LockState::default()
            };
            tx.save_lock_state(id, &state, now).await.unwrap();
        }
        tx.commit().await.unwrap();
        people.push(Person {
            username,
            old_password,
            new_password: format!("orchard-velvet-pylon-{i}"),
            answers,
            action,
            locked,
            id,
            old_hash,
        });
    }
    store.close().await;
    people
}

/// Runs every person's flow in parallel and kills the server once `kill_after` have
/// finished; answers each flow's outcome once every flow has stopped.
async fn run_and_kill(
    server: &mut ServerProcess,
    people: &Arc<Vec<Person>>,
    kill_after: usize,
) -> Vec<Outcome> {
    // Each task drops its `ready` at the last step (or when it fails), sends on
    // `finished` when told `done`, and waits for `go` before its last request.
    let (ready, mut all_ready) = mpsc::channel::<()>(1);
    let (finished, mut finishing) = mpsc::unbounded_channel::<()>();
    let (go, gate) = watch::channel(false);
    let mut tasks = Vec::new();
    for i in 0..people.len() {
        let (api, people) = (server.api.clone(), Arc::clone(people));
        let (ready, finished, mut gate) = (ready.clone(), finished.clone(), gate.clone());
        tasks.push(tokio::spawn(async move {
            let at_last_step = async move {
                drop(ready);
                let _ = gate.wait_for(|go| *go).await;
            };
            match walk(api, &people[i], at_last_step).await {
                Ok(summary) => {
                    let _ = finished.send(());
                    Outcome::Done(summary)
                }
                Err(_) => Outcome::Interrupted,
            }
        }));
    }
    drop((ready, finished));
    // Nothing is sent on `ready`: it closes once every flow is at its last step (or has
    // failed, which joining its task reports).
    while all_ready.recv().await.is_some() {}
    go.send(true).unwrap();
    for _ in 0..kill_after {
        if finishing.recv().await.is_none() {
            break;
        }
    }
    assert!(
        server.is_running(),
        "the server stopped by itself:\n{}",
        server.log()
    );
    server.kill();
    // Every request from now on is refused, so every task ends.
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.push(task.await.unwrap());
    }
    outcomes
}

/// One person's flow through the API, as the portal drives it: identify, the captcha,
/// the security questions, and for a reset the new password; before the last of these
/// it waits for `at_last_step`. The summary of `done`, or the error that stopped it. An
/// answer other than 200 fails the test: the server, while it runs, must accept every
/// right answer.
async fn walk(
    api: Api,
    person: &Person,
    at_last_step: impl std::future::Future<Output = ()>,
) -> Result<Value, reqwest::Error> {
    let (username, action) = (person.username.as_str(), person.action);
    let mut flow = Flow::try_start(api, action.name(), "web").await?;
    let ok = |(status, body): (u16, Value)| assert_eq!(status, 200, "{username}: {body}");
    ok(flow
        .try_call("flow_identify", json!({ "username": username }))
        .await?);
    assert_eq!(flow.prompt()["factor"], "captcha", "{}", flow.view);
    let (step, solution) = (flow.index(), flow.solution());
    ok(flow
        .try_call("flow_answer", json!({ "step": step, "answer": solution }))
        .await?);
    let (step, answers) = (flow.index(), flow.questions_answered(|q| person.answer(q)));
    let answers = json!({ "step": step, "answer": answers });
    match action {
        Action::Unlock => {
            at_last_step.await;
            ok(flow.try_call("flow_answer", answers).await?);
        }
        Action::Reset => {
            ok(flow.try_call("flow_answer", answers).await?);
            assert_eq!(flow.step(), "choose_password", "{username}: {}", flow.view);
            at_last_step.await;
            let password = &person.new_password;
            ok(flow
                .try_call(
                    "flow_password",
                    json!({ "password": password, "confirm": password }),
                )
                .await?);
        }
    }
    assert_eq!(flow.step(), "done", "{username}: {}", flow.view);
    Ok(flow.view["step"]["summary"].clone())
}

/// The database after the restart, read beside the running server.
struct Snapshot {
    accounts: HashMap<AccountId, Account>,
    audit: Vec<AuditRecord>,
    outbox: Vec<OutboxEntry>,
}

impl Snapshot {
    async fn read(database: &Path, people: &[Person]) -> Self {
        let store = stores::open(&Database::Sqlite {
            path: database.to_owned(),
            bare: false,
        })
        .await
        .unwrap();
        let mut read = store.read().await.unwrap();
        let mut accounts = HashMap::new();
        for person in people {
            let account = read.account(person.id).await.unwrap().unwrap();
            accounts.insert(person.id, account);
        }
        let audit = read.audit_records(0, 1_000_000).await.unwrap();
        let outbox = read.notifications(None, None, 1_000_000).await.unwrap();
        drop(read);
        store.close().await;
        Self {
            accounts,
            audit,
            outbox,
        }
    }

    /// Audit records of `action` about account `id`.
    fn audited(&self, id: AccountId, action: &str) -> usize {
        self.audit
            .iter()
            .filter(|r| r.subject_account_id == Some(id.0) && r.action == action)
            .count()
    }

    /// Mails of `kind` about account `id`, in the outbox whether sent yet or not.
    fn mailed(&self, id: AccountId, kind: &str) -> usize {
        self.outbox
            .iter()
            .filter(|m| m.recipient.account_id == Some(id) && m.notification.kind() == kind)
            .count()
    }
}

/// Checks one account after the restart: its flow's action is there in full or not at
/// all, and in full if the browser was told it was done. Answers whether it is there.
fn check_account(person: &Person, outcome: &Outcome, after: &Snapshot) -> bool {
    let who = &person.username;
    let id = person.id;
    let account = &after.accounts[&id];
    let unlocked_by_self_service = account.lock.lock.is_none()
        && account
            .lock
            .last_unlock
            .as_ref()
            .is_some_and(|u| u.by == UNLOCKED_BY);
    let password_changed = account.password_hash.as_deref() != Some(person.old_hash.as_str());
    let (record, mail, other_record, other_mail) = match person.action {
        Action::Unlock => (
            "unlock",
            "account_unlocked",
            "reset_password",
            "password_reset",
        ),
        Action::Reset => (
            "reset_password",
            "password_reset",
            "unlock",
            "account_unlocked",
        ),
    };
    let audited = after.audited(id, record);
    let mailed = after.mailed(id, mail);
    assert!(audited <= 1, "{who}: {audited} {record} records");
    assert!(mailed <= 1, "{who}: {mailed} {mail} mails");
    let committed = audited == 1;
    assert_eq!(
        mailed, audited,
        "{who}: {audited} {record} records but {mailed} {mail} mails"
    );
    assert_eq!(
        (
            after.audited(id, other_record),
            after.mailed(id, other_mail)
        ),
        (0, 0),
        "{who}: traces of a flow nobody ran"
    );
    match person.action {
        Action::Unlock => {
            assert!(
                !password_changed,
                "{who}: an unlock changed the password hash"
            );
        }
        Action::Reset => {
            assert_eq!(
                password_changed, committed,
                "{who}: password changed: {password_changed}, reset_password recorded: {committed}"
            );
        }
    }
    if person.locked {
        assert_eq!(
            unlocked_by_self_service, committed,
            "{who}: lock {:?} (unlock {:?}) yet {record} recorded: {committed}",
            account.lock.lock, account.lock.last_unlock
        );
    } else {
        assert_eq!(
            (&account.lock.lock, &account.lock.last_unlock),
            (&None, &None),
            "{who}: was never locked"
        );
    }
    if let Outcome::Done(summary) = outcome {
        assert!(
            committed,
            "{who}: the browser was told `done`, but after the restart there is no {record}"
        );
        assert_eq!(
            summary,
            &json!({
                "action": person.action.name(),
                "was_locked": person.locked,
                "unlocked": person.locked,
                "password_changed": person.action == Action::Reset,
                "sessions_ended": 0,
                "email_queued": true,
            }),
            "{who}"
        );
    }
    committed
}

/// After the restart, the account takes the password its flow left it with, and only
/// that one; and it is still locked exactly when its flow did not act.
async fn check_sign_in(api: &Api, person: &Person, committed: bool) {
    let who = &person.username;
    let (current, previous) = if person.action == Action::Reset && committed {
        (&person.new_password, &person.old_password)
    } else {
        (&person.old_password, &person.new_password)
    };
    let locked = person.locked && !committed;
    let (status, body) = api.sign_in(who, current).await;
    assert_eq!(
        (status, body["result"].as_str()),
        (200, Some(if locked { "locked" } else { "signed_in" })),
        "{who} with the password the flow left: {body}"
    );
    if person.action == Action::Reset {
        let (status, body) = api.sign_in(who, previous).await;
        assert_eq!(
            (status, body["result"].as_str()),
            (200, Some("refused")),
            "{who} with the other password: {body}"
        );
    }
}
