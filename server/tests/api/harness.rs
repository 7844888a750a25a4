//! The test harness: `spawn_app()` starts the real server, in-process, on a random port,
//! with a fresh temporary database, the demo data and a clock the test controls.

use std::sync::Arc;

use latchkey_core::account::{Account, AccountName};
use latchkey_core::audit::AuditRecord;
use latchkey_core::clock::ManualClock;
use latchkey_core::lockout::LockoutPolicy;
use latchkey_core::password::Argon2Settings;
use latchkey_core::store::{SqliteStore, Store};
use latchkey_core::Latchkey;
use latchkey_server::{AppOptions, Application, Config};
use serde_json::Value;
use tempfile::TempDir;
use time::macros::datetime;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

pub struct TestApp {
    /// `http://127.0.0.1:<port>`, also the configured base URL (our origin).
    pub base: String,
    pub client: reqwest::Client,
    /// Moves the server's time; lockout and expiry tests use it.
    pub clock: Arc<ManualClock>,
    /// The server's database, for arranging state and for looking behind the API.
    pub store: SqliteStore,
    /// The domain service behind the API, for arranging state.
    pub core: Latchkey,
    #[allow(dead_code)] // used by the tests that run the CLI against the database
    pub db_path: std::path::PathBuf,
    _dir: TempDir,
    _stop: oneshot::Sender<()>,
}

/// Cheap Argon2 parameters: tests exercise the rules, not the cost.
pub fn cheap_argon2() -> Argon2Settings {
    Argon2Settings {
        memory_kib: 1024,
        iterations: 1,
        parallelism: 1,
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Starts a server after `configure` has adjusted its configuration.
pub async fn spawn_app_with(configure: impl FnOnce(&mut Config)) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let base = format!("http://{addr}");
    let mut config = Config {
        listen: addr,
        base_url: base.clone(),
        database: dir.path().join("latchkey.sqlite3"),
        argon2: cheap_argon2(),
        ..Config::default()
    };
    // Tests exercise the rules, not the padding or the per-client rate; tests of those
    // set them back.
    config.self_service.response_time_ms = 5;
    // The smallest captcha: solving it in a debug build takes milliseconds.
    config.self_service.captcha_max_number = 1_000;
    config.client_limits.requests_per_minute = 100_000;
    config.client_limits.failures_per_hour = 100_000;
    configure(&mut config);
    let clock = Arc::new(ManualClock::new(datetime!(2026-01-05 09:00:00 UTC)));
    let options = AppOptions {
        demo: true,
        clock: clock.clone(),
        ..AppOptions::default()
    };
    let app = Application::build_with_listener(&config, options, listener)
        .await
        .expect("the server starts");
    let store = app.store().clone();
    let core = app.core().clone();
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(app.run(async move {
        let _ = stopped.await;
    }));
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let db_path = config.database.clone();
    TestApp {
        base,
        client,
        clock,
        store,
        core,
        db_path,
        _dir: dir,
        _stop: stop,
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Calls a server function as our own pages do: POST, JSON, our Origin.
    pub async fn call(&self, endpoint: &str, body: Value) -> reqwest::Response {
        self.client
            .post(self.url(&format!("/api/{endpoint}")))
            .header("origin", &self.base)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// Calls a server function with a raw body and no Origin header set for you.
    pub fn raw(&self, endpoint: &str) -> reqwest::RequestBuilder {
        self.client
            .post(self.url(&format!("/api/{endpoint}")))
            .header("content-type", "application/json")
    }

    /// Signs in through the API with this app's client (which keeps cookies).
    pub async fn sign_in(&self, username: &str, password: &str) -> (u16, Value) {
        json(
            self.call(
                "sign_in",
                serde_json::json!({ "username": username, "password": password }),
            )
            .await,
        )
        .await
    }

    /// An account of the demo organisation, read straight from the store.
    pub async fn account(&self, username: &str) -> Account {
        let name = AccountName::parse("username", username).unwrap();
        self.store.account_by_name(&name).await.unwrap().unwrap()
    }

    /// The questions (not answers) a demo user has enrolled.
    pub async fn store_enrolled(&self, username: &str) -> Vec<String> {
        let id = self.account(username).await.id;
        self.store.enrolled_questions(id).await.unwrap()
    }

    /// Every audit record, oldest first.
    pub async fn audit(&self) -> Vec<AuditRecord> {
        self.store.audit_records(0, 100_000).await.unwrap()
    }

    /// Sets the demo organisation's lockout policy.
    pub async fn set_policy(&self, policy: LockoutPolicy) {
        let org = self
            .store
            .organisation_by_slug(latchkey_core::demo::ORGANISATION_SLUG)
            .await
            .unwrap()
            .unwrap();
        self.store
            .set_lockout_policy(org.id, &policy)
            .await
            .unwrap();
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }
}

/// The response's status and JSON body.
pub async fn json(res: reqwest::Response) -> (u16, Value) {
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    let value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("expected JSON ({e}), got {status}: {text}"));
    (status, value)
}
