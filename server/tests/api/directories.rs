//! Directory identity stores in the server (issue 18): a `[[directories]]` entry is
//! registered as an identity store of its kind at start-up — once, with an audit
//! record — and its connector reaches the directory (a throwaway OpenLDAP with ppolicy,
//! `latchkey-directory-tests`). A configuration that would make a directory store of
//! another store's name stops the start with the setting named. What the connector does
//! against both kinds is `latchkey-directory-tests`' conformance suite.

use latchkey_core::organisation::StoreKind;
use latchkey_directory::{DirectoryKind, LockState};
use latchkey_directory_tests::openldap;
use latchkey_server::config::Config;
use latchkey_server::startup::{AppOptions, Application, StartError};
use serde_json::json;
use time::OffsetDateTime;
use tokio::net::TcpListener;

use crate::harness::{cheap_argon2, spawn_app_with};

fn now() -> OffsetDateTime {
    #[allow(clippy::disallowed_methods)] // the directory's own clock decides its locks
    OffsetDateTime::now_utc()
}

#[tokio::test]
async fn a_configured_directory_is_an_identity_store_of_its_kind() {
    let fixture = openldap();
    let settings = fixture.settings();
    let app = spawn_app_with(|c| c.directories = vec![settings.clone()]).await;

    let stores = app.read().await.identity_stores(None).await.unwrap();
    let store = stores
        .iter()
        .find(|s| s.name == "CORP-LDAP")
        .expect("registered");
    assert_eq!(store.kind, StoreKind::Ldap);
    // In the oldest organisation (none was named), beside its built-in store.
    assert!(stores
        .iter()
        .any(|s| s.kind == StoreKind::Builtin && s.organisation_id == store.organisation_id));
    let record = app.last_audit("register_identity_store").await;
    assert_eq!(record.outcome, "success");
    assert!(record.details.contains("CORP-LDAP") && record.details.contains("ldap"));

    // An operator cannot make a Latchkey account in it: the directory keeps its accounts.
    let lena = app.demo_operator("lena").await;
    let user = json!({ "store": "CORP-LDAP", "username": "newbie", "display_name": "New Person",
        "email": "newbie@example.org" });
    let (status, err) = lena.post("user_create", json!({ "user": user })).await;
    assert_eq!((status, &err["field"]), (400, &json!("store")), "{err}");
    let (_, found) = lena
        .post(
            "users_search",
            json!({ "query": { "text": "newbie", "only_locked": false, "organisation": null,
                "store": null, "status": null, "sort": "username", "after": null } }),
        )
        .await;
    assert_eq!(found["rows"], json!([]), "{found}");

    // Its connector reaches the directory and reads an account's lock state.
    fixture.create_user("srvcheck").await;
    let directory = &app.directories[0];
    assert_eq!(directory.kind(), DirectoryKind::Ldap);
    let account = directory
        .find_by_username("srvcheck", now())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(account.lock, LockState::Unlocked);
}

/// The configuration of a server on `db` with `directories` (demo data seeded).
async fn start(
    db: &std::path::Path,
    directories: Vec<latchkey_directory::DirectorySettings>,
) -> Result<Application, StartError> {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let config = Config {
        listen: addr,
        base_url: format!("http://{addr}"),
        argon2: cheap_argon2(),
        database: format!("sqlite://{}", db.display()).into(),
        directories,
        ..Config::default()
    };
    let options = AppOptions {
        demo: true,
        ..AppOptions::default()
    };
    Application::build_with_listener(&config, options, listener).await
}

#[tokio::test]
async fn a_restart_finds_the_store_and_a_taken_name_stops_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("latchkey.sqlite3");
    let settings = openldap().settings();

    let first = start(&db, vec![settings.clone()]).await.unwrap();
    let store = first.store();
    drop(first);
    let second = start(&db, vec![settings.clone()]).await.unwrap();
    let mut read = store.read().await.unwrap();
    let stores = read.identity_stores(None).await.unwrap();
    assert_eq!(stores.iter().filter(|s| s.name == "CORP-LDAP").count(), 1);
    let registered = read
        .audit_records(0, 10_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.action == "register_identity_store")
        .count();
    assert_eq!(registered, 1, "registered once, found on the next start");
    drop(read);
    drop(second);

    // The demo's built-in store is called EXAMPLE: a directory may not take its name,
    // nor change the kind of a registered store.
    for (name, kind) in [
        ("example", DirectoryKind::Ldap),
        ("CORP-LDAP", DirectoryKind::ActiveDirectory),
    ] {
        let mut taken = settings.clone();
        taken.name = name.to_owned();
        taken.kind = kind;
        let err = start(&db, vec![taken]).await.err().expect("refused");
        let message = err.to_string();
        assert!(message.contains("directories[0].name"), "{message}");
    }
    // Nothing was added by the refused starts.
    let stores = store
        .read()
        .await
        .unwrap()
        .identity_stores(None)
        .await
        .unwrap();
    let names: Vec<&str> = stores.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        ["EXAMPLE", "NORTHWIND", "MAIL", "CORP-LDAP"],
        "the demo's three and one"
    );
}

/// A name no other test of this process uses.
fn unique(tag: &str) -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    format!("{tag}{:05}", h.finish() % 100_000)
}

fn search(text: &str, only_locked: bool) -> serde_json::Value {
    json!({ "query": { "text": text, "only_locked": only_locked, "organisation": null,
        "store": null, "status": null, "sort": "username", "after": null } })
}

/// Three wrong passwords (the throwaway policy locks at three), as the user would type
/// them at the directory's own sign-in.
async fn lock_by_wrong_binds(directory: &latchkey_directory::Directory, user: &str) {
    for _ in 0..3 {
        directory
            .bind_as_user(user, &secret("wrong-password"), now())
            .await
            .unwrap();
    }
}

fn secret(s: &str) -> secrecy::SecretString {
    secrecy::SecretString::from(s.to_owned())
}

/// The unlock records of the account `name`, oldest first: (outcome, details).
async fn unlock_records(app: &crate::harness::TestApp, name: &str) -> Vec<(String, String)> {
    app.audit()
        .await
        .into_iter()
        .filter(|r| r.action == "unlock" && r.subject.as_deref() == Some(name))
        .map(|r| (r.outcome, r.details))
        .collect()
}

/// Issue 18's path end to end, through the server functions: wrong binds lock a
/// directory account → the console's search with *Only include locked users* finds it
/// (its lock read from the directory, its name `STORE\username`) → an operator unlocks it
/// (written to the directory; intent, then outcome, in the audit log) → one typo does not
/// lock it again.
#[tokio::test]
async fn a_directory_account_locked_by_wrong_binds_is_found_and_unlocked_in_the_console() {
    let fixture = openldap();
    let app = spawn_app_with(|c| c.directories = vec![fixture.settings()]).await;
    let user = unique("dlock");
    fixture.create_user(&user).await;
    let directory = &app.directories[0];
    lock_by_wrong_binds(directory, &user).await;

    let lena = app.demo_operator("lena").await;
    let qualified = format!("CORP-LDAP\\{user}");
    let (status, page) = lena.post("users_search", search(&user, true)).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["directory_errors"], json!([]), "{page}");
    let rows = page["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{page}");
    let row = &rows[0];
    assert_eq!(row["username"], json!(qualified));
    assert_eq!(row["locked"], true);
    assert_eq!(row["lock_reason"], "failures");
    assert!(row["locked_date"].is_i64(), "{row}");
    assert_eq!(row["email"], json!(format!("{user}@lk.test")));
    let id = row["id"].as_str().unwrap().to_owned();
    // Every locked account, Latchkey's own and the directory's, in one list.
    app.lock_by_failures("bob").await;
    let (_, all_locked) = lena.post("users_search", search("", true)).await;
    let names: Vec<&str> = all_locked["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["username"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"EXAMPLE\\bob") && names.contains(&qualified.as_str()),
        "{names:?}"
    );
    // Searching again finds the same account (its stable id), not a second one.
    let (_, again) = lena.post("users_search", search(&user, true)).await;
    assert_eq!(again["rows"][0]["id"], json!(id));

    // A support request from the account's address, matched to it.
    let (status, _) =
        crate::support::submit(&app, "D Lock", &format!("{user}@lk.test"), "locked").await;
    assert_eq!(status, 200);

    let (status, done) = lena
        .post("user_unlock", json!({ "id": id, "advise_reset": false }))
        .await;
    assert_eq!(
        (status, done),
        (200, json!({ "was_locked": true, "emailed": true }))
    );
    // The unlock is noted on the request, as for a built-in account.
    let ada = app.demo_operator("ada").await;
    let (_, queue) = ada.post("support_queue", json!({ "status": null })).await;
    let request = &queue["rows"][0];
    assert_eq!(request["matched"], json!(qualified), "{queue}");
    assert_eq!(request["status"], "in_progress", "{queue}");
    let (_, detail) = ada
        .post(
            "support_request_get",
            json!({ "reference": request["reference"] }),
        )
        .await;
    let last = detail["events"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        last["message"],
        json!(format!("Unlocked {qualified}.")),
        "{detail}"
    );
    let records = unlock_records(&app, &qualified).await;
    let outcomes: Vec<&str> = records.iter().map(|(o, _)| o.as_str()).collect();
    assert_eq!(outcomes, ["pending", "success"], "intent, then outcome");
    assert!(records[1].1.contains("CORP-LDAP"), "{records:?}");

    // The directory holds the unlock; one typo does not lock again; the password works.
    let account = directory
        .find_by_username(&user, now())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(account.lock, LockState::Unlocked);
    assert_eq!(
        directory
            .bind_as_user(&user, &secret("one-typo"), now())
            .await
            .unwrap(),
        latchkey_directory::BindOutcome::BadCredentials
    );
    assert_eq!(
        directory
            .bind_as_user(&user, &secret(latchkey_directory_tests::PASSWORD), now())
            .await
            .unwrap(),
        latchkey_directory::BindOutcome::Success
    );
    let (_, locked_now) = lena.post("users_search", search(&user, true)).await;
    assert_eq!(locked_now["rows"], json!([]), "{locked_now}");
    let (_, everyone) = lena.post("users_search", search(&user, false)).await;
    let rows = everyone["rows"].as_array().unwrap();
    assert_eq!(
        rows.len(),
        1,
        "once, with the directory's lock state: {everyone}"
    );
    assert_eq!(
        (&rows[0]["id"], &rows[0]["locked"]),
        (&json!(id), &json!(false))
    );

    // Unlocking again is safe: nothing was locked, nothing is mailed.
    let (_, again) = lena
        .post("user_unlock", json!({ "id": id, "advise_reset": false }))
        .await;
    assert_eq!(again, json!({ "was_locked": false, "emailed": false }));
}

/// A TCP relay to the throwaway slapd that the test can cut: the directory "goes down".
struct Relay {
    port: u16,
    task: tokio::task::JoinHandle<()>,
}

impl Relay {
    async fn to(upstream: &str) -> Relay {
        let upstream = upstream
            .trim_start_matches("ldap://")
            .trim_end_matches('/')
            .to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let task = tokio::spawn(async move {
            let mut relays = tokio::task::JoinSet::new();
            while let Ok((mut inbound, _)) = listener.accept().await {
                let upstream = upstream.clone();
                relays.spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(&upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
        });
        Relay { port, task }
    }

    /// Stops listening and drops every connection: nothing answers on the port.
    async fn cut(self) {
        self.task.abort();
        let _ = self.task.await;
    }
}

/// A directory that is down: the search still answers Latchkey's own accounts and names
/// the directory; an operator's unlock is a clear error naming it (502,
/// `directory_unavailable`), the audit log shows the attempt and its failure, and no
/// record claims an unlock.
#[tokio::test]
async fn a_directory_that_is_down_is_named_and_no_record_claims_an_unlock() {
    let fixture = openldap();
    let relay = Relay::to(&fixture.server.url).await;
    let mut settings = fixture.settings();
    settings.url = format!("ldap://127.0.0.1:{}", relay.port);
    settings.connect_timeout_ms = 2_000;
    settings.operation_timeout_ms = 2_000;
    let app = spawn_app_with(|c| c.directories = vec![settings]).await;
    let user = unique("ddown");
    fixture.create_user(&user).await;
    lock_by_wrong_binds(&app.directories[0], &user).await;
    let lena = app.demo_operator("lena").await;
    let qualified = format!("CORP-LDAP\\{user}");
    let (_, page) = lena.post("users_search", search(&user, true)).await;
    let id = page["rows"][0]["id"]
        .as_str()
        .expect("found while up")
        .to_owned();

    relay.cut().await;

    let (status, page) = lena.post("users_search", search("", false)).await;
    assert_eq!(status, 200, "{page}");
    let errors = page["directory_errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{page}");
    assert!(
        errors[0].as_str().unwrap().contains("CORP-LDAP"),
        "{errors:?}"
    );
    assert!(
        page["rows"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["username"] == "EXAMPLE\\bob"),
        "Latchkey's own accounts still answer: {page}"
    );

    let (status, err) = lena
        .post("user_unlock", json!({ "id": id, "advise_reset": false }))
        .await;
    assert_eq!(
        (status, &err["kind"]),
        (502, &json!("directory_unavailable")),
        "{err}"
    );
    assert_eq!(err["directory"], "CORP-LDAP");
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains("the directory CORP-LDAP"),
        "{err}"
    );
    // The Unlock page's path says the same, per account.
    let (status, results) = lena
        .post(
            "users_unlock",
            json!({ "ids": [id], "advise_reset": false }),
        )
        .await;
    assert_eq!(status, 200, "{results}");
    assert_eq!(results[0]["outcome"]["result"], "failed", "{results}");
    assert!(
        results[0]["outcome"]["message"]
            .as_str()
            .unwrap()
            .contains("CORP-LDAP"),
        "{results}"
    );

    let records = unlock_records(&app, &qualified).await;
    let outcomes: Vec<&str> = records.iter().map(|(o, _)| o.as_str()).collect();
    assert_eq!(
        outcomes,
        ["pending", "failure", "pending", "failure"],
        "{records:?}"
    );
    assert!(records[1].1.contains("CORP-LDAP"), "{records:?}");
    // The account is still locked in the directory, and no mail claims otherwise.
    let still = fixture
        .directory()
        .find_by_username(&user, now())
        .await
        .unwrap()
        .unwrap();
    assert!(still.lock.is_locked());
    assert!(
        app.outbox()
            .await
            .iter()
            .all(|m| !m.recipient.email.as_str().contains(&user)),
        "no unlock mail"
    );
}

/// Item 3: an operator links a directory account to a person by `STORE\username`; Latchkey
/// keeps it by its stable id (`entryUUID`), the user page and the Unlock page show it with
/// the directory's lock, and the Unlock page's *Unlock* writes to the directory.
#[tokio::test]
async fn a_linked_directory_account_is_kept_by_its_stable_id_and_unlocked_with_its_person() {
    let fixture = openldap();
    let app = spawn_app_with(|c| c.directories = vec![fixture.settings()]).await;
    let user = unique("dlink");
    fixture.create_user(&user).await;
    let directory = &app.directories[0];
    let entry = directory
        .find_by_username(&user, now())
        .await
        .unwrap()
        .unwrap();
    lock_by_wrong_binds(directory, &user).await;
    let lena = app.demo_operator("lena").await;
    let bob = lena.user_id("bob").await;
    let qualified = format!("CORP-LDAP\\{user}");

    let (status, body) = lena
        .post("user_link", json!({ "id": bob, "account": qualified }))
        .await;
    assert_eq!(status, 200, "{body}");
    // Kept by its stable id, in bob's person.
    let mut read = app.read().await;
    let store = read
        .identity_stores(None)
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.name == "CORP-LDAP")
        .unwrap();
    let kept = read
        .directory_account(store.id, &entry.stable_id)
        .await
        .unwrap()
        .expect("kept by its entryUUID");
    assert_eq!(kept.person_id, app.account("bob").await.person_id);
    assert_eq!(
        read.stable_id_of(kept.id).await.unwrap().as_deref(),
        Some(entry.stable_id.as_str())
    );
    drop(read);
    // A name that is not in the directory is refused, naming the field.
    let (status, err) = lena
        .post(
            "user_link",
            json!({ "id": bob, "account": "CORP-LDAP\\nobody-here" }),
        )
        .await;
    assert_eq!((status, &err["field"]), (400, &json!("account")), "{err}");

    for endpoint in ["user_detail", "unlock_plan"] {
        let (status, view) = lena.post(endpoint, json!({ "id": bob })).await;
        assert_eq!(status, 200, "{view}");
        let linked = view["linked"].as_array().unwrap();
        assert_eq!(linked.len(), 1, "{view}");
        assert_eq!(linked[0]["username"], json!(qualified));
        assert_eq!(linked[0]["locked"], true, "the directory's lock: {view}");
        assert_eq!(view["directory_errors"], json!([]));
    }
    let (status, results) = lena
        .post(
            "users_unlock",
            json!({ "ids": [kept.public_id], "advise_reset": false }),
        )
        .await;
    assert_eq!(status, 200, "{results}");
    assert_eq!(results[0]["outcome"]["result"], "unlocked", "{results}");
    assert_eq!(results[0]["username"], json!(qualified));
    let now_unlocked = directory
        .find_by_username(&user, now())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(now_unlocked.lock, LockState::Unlocked);
}

/// A directory that accepts connections and never answers: the unlock waits no longer
/// than the store's timeouts, then is an error naming the directory; nothing claims an
/// unlock.
#[tokio::test]
async fn a_silent_directory_times_out_within_its_settings_and_is_named() {
    let fixture = openldap();
    let relay = Relay::to(&fixture.server.url).await;
    let mut settings = fixture.settings();
    settings.url = format!("ldap://127.0.0.1:{}", relay.port);
    settings.connect_timeout_ms = 1_000;
    settings.operation_timeout_ms = 1_000;
    let app = spawn_app_with(|c| c.directories = vec![settings]).await;
    let user = unique("dsilent");
    fixture.create_user(&user).await;
    lock_by_wrong_binds(&app.directories[0], &user).await;
    let lena = app.demo_operator("lena").await;
    let (_, page) = lena.post("users_search", search(&user, true)).await;
    let id = page["rows"][0]["id"]
        .as_str()
        .expect("found while up")
        .to_owned();
    let port = relay.port;
    relay.cut().await;
    // Something listens on the port again, and never says a word.
    let silent = TcpListener::bind(("127.0.0.1", port)).await.unwrap();
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((stream, _)) = silent.accept().await {
            open.push(stream);
        }
    });

    let (status, err) = lena
        .post("user_unlock", json!({ "id": id, "advise_reset": false }))
        .await;
    assert_eq!(
        (status, &err["kind"]),
        (502, &json!("directory_unavailable")),
        "{err}"
    );
    assert!(
        err["message"].as_str().unwrap().contains("CORP-LDAP"),
        "{err}"
    );
    let qualified = format!("CORP-LDAP\\{user}");
    let records = unlock_records(&app, &qualified).await;
    let outcomes: Vec<&str> = records.iter().map(|(o, _)| o.as_str()).collect();
    assert_eq!(outcomes, ["pending", "failure"], "{records:?}");
    held.abort();
}

/// A directory store is its organisation's: another organisation's administrator finds
/// none of its accounts, and unlocking, viewing or linking one answers `not_found`, like
/// an id that does not exist; nothing is asked of the directory and nothing recorded.
#[tokio::test]
async fn another_organisations_operator_reaches_no_directory_account() {
    let fixture = openldap();
    let app = spawn_app_with(|c| c.directories = vec![fixture.settings()]).await;
    let user = unique("dreach");
    fixture.create_user(&user).await;
    lock_by_wrong_binds(&app.directories[0], &user).await;
    let lena = app.demo_operator("lena").await;
    let (_, page) = lena.post("users_search", search(&user, true)).await;
    let id = page["rows"][0]["id"]
        .as_str()
        .expect("lena finds it")
        .to_owned();

    let nora = app.demo_operator("nora").await;
    let (status, page) = nora.post("users_search", search(&user, true)).await;
    assert_eq!((status, &page["rows"]), (200, &json!([])), "{page}");
    let before = app.audit().await.len();
    for (endpoint, body) in [
        ("user_unlock", json!({ "id": id, "advise_reset": false })),
        ("user_detail", json!({ "id": id })),
        ("unlock_plan", json!({ "id": id })),
    ] {
        let (status, err) = nora.post(endpoint, body).await;
        assert_eq!(
            (status, &err),
            (404, &json!({ "kind": "not_found" })),
            "{endpoint}"
        );
    }
    assert_eq!(app.audit().await.len(), before, "nothing recorded");
    let still = app.directories[0]
        .find_by_username(&user, now())
        .await
        .unwrap()
        .unwrap();
    assert!(still.lock.is_locked());
}
