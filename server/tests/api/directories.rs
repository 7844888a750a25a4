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
