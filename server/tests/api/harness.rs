//! The test harness: `spawn_app()` starts the real server, in-process, on a random port,
//! with a fresh temporary database, the demo data and a clock the test controls;
//! `spawn_app_on(Backend::Postgres, …)` does the same on a new database of a throwaway
//! PostgreSQL cluster (one per test process, see `latchkey_store_tests::postgres`).
//! `SmtpSink` runs a real SMTP server (Python's aiosmtpd, installed into `.venv/` by
//! `make test-tools`) as a separate process that tests can kill and restart.
//! `ServerProcess` runs the `latchkey` binary itself as a separate process, for tests that
//! crash the server (SIGKILL) and start it again on the same database.

use std::fs::File;
use std::net::{SocketAddr, TcpListener as StdListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration as StdDuration;

use base64::Engine as _;
use latchkey_core::account::{Account, AccountName};
use latchkey_core::audit::{AuditRecord, Caller};
use latchkey_core::clock::{Clock, ManualClock};
use latchkey_core::keys::{Keys, MasterKey};
use latchkey_core::lockout::LockoutPolicy;
use latchkey_core::outbox::{Notification, NotificationId, OutboxEntry, Outgoing, Recipient};
use latchkey_core::password::Argon2Settings;
use latchkey_core::random::OsRandom;
use latchkey_core::store::{Database, Read, Store};
use latchkey_core::Latchkey;
use latchkey_server::{AppOptions, Application, Config};
use latchkey_store_tests::postgres::PgCluster;
use serde_json::Value;
use sqlx::Connection as _;
use tempfile::TempDir;
use time::macros::datetime;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// The database a test's server runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A new SQLite file in a temporary directory.
    Sqlite,
    /// A new database on the test process's throwaway PostgreSQL cluster.
    Postgres,
}

pub struct TestApp {
    pub backend: Backend,
    /// The server's `database` setting (the command line is pointed at it too).
    pub database: String,
    /// The configured master key, when there is one (PostgreSQL requires it).
    secret_key: Option<String>,
    /// `http://127.0.0.1:<port>`, also the configured base URL (our origin).
    pub base: String,
    pub client: reqwest::Client,
    /// Moves the server's time; lockout and expiry tests use it.
    pub clock: Arc<ManualClock>,
    /// The server's database, for arranging state and for looking behind the API.
    pub store: Arc<dyn Store>,
    /// The keys the server derived from its master key (`secret.key` beside the database).
    pub keys: Keys,
    /// The domain service behind the API, for arranging state.
    pub core: Latchkey,
    /// The SQLite file (`Backend::Sqlite` only).
    #[allow(dead_code)] // used by the tests that look behind the store
    pub db_path: std::path::PathBuf,
    /// Where mail goes when no SMTP server is configured.
    pub mailbox_dir: PathBuf,
    /// The connectors of the configured directory stores.
    #[allow(dead_code)] // used by the directory tests
    pub directories: Vec<Arc<latchkey_directory::Directory>>,
    /// `http://<metrics.listen>` when the test configured it.
    #[allow(dead_code)] // used by the metrics tests
    pub metrics_base: Option<String>,
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

/// Starts a server (with the demo data) after `configure` has adjusted its configuration.
pub async fn spawn_app_with(configure: impl FnOnce(&mut Config)) -> TestApp {
    spawn(Backend::Sqlite, configure, true).await
}

/// Starts a server as `latchkey serve` without `--demo`: no demo data, no demo mailbox.
pub async fn spawn_app_without_demo() -> TestApp {
    spawn(Backend::Sqlite, |_| {}, false).await
}

/// [`spawn_app_with`] on `backend`.
pub async fn spawn_app_on(backend: Backend, configure: impl FnOnce(&mut Config)) -> TestApp {
    spawn(backend, configure, true).await
}

/// [`spawn_app_without_demo`] on `backend`.
pub async fn spawn_app_without_demo_on(backend: Backend) -> TestApp {
    spawn(backend, |_| {}, false).await
}

async fn spawn(backend: Backend, configure: impl FnOnce(&mut Config), demo: bool) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let base = format!("http://{addr}");
    let db_path = dir.path().join("latchkey.sqlite3");
    let mut config = Config {
        listen: addr,
        base_url: base.clone(),
        argon2: cheap_argon2(),
        ..Config::default()
    };
    match backend {
        Backend::Sqlite => config.database = format!("sqlite://{}", db_path.display()).into(),
        Backend::Postgres => {
            config.database = PgCluster::shared().create_database().await.into();
            // Required on PostgreSQL; SQLite's server generates its own `secret.key`.
            let key = MasterKey::generate(&OsRandom);
            let key = base64::engine::general_purpose::STANDARD.encode(key.as_bytes());
            config.secret_key = Some(key.into());
            config.mailbox_dir = Some(dir.path().join("mailbox"));
        }
    }
    // Tests exercise the rules, not the padding; tests of it set it back. The per-client
    // limits stay on: they run on the test's clock, so only a test that sends a burst
    // from its one address (and says so) lifts them.
    config.self_service.response_time_ms = 5;
    // The smallest captcha: solving it in a debug build takes milliseconds.
    config.self_service.captcha_max_number = 1_000;
    // Mail workers look for due mail often, so tests wait for delivery briefly; what is
    // due is decided by the test's clock.
    config.outbox.poll_interval_ms = 20;
    configure(&mut config);
    let clock = Arc::new(ManualClock::new(datetime!(2026-01-05 09:00:00 UTC)));
    let options = AppOptions {
        demo,
        clock: clock.clone(),
        ..AppOptions::default()
    };
    let app = Application::build_with_listener(&config, options, listener)
        .await
        .expect("the server starts");
    let store = app.store();
    let core = app.core().clone();
    let directories = app.directories().to_vec();
    let metrics_base = app.metrics_addr().map(|a| format!("http://{a}"));
    let secret_key = config
        .secret_key
        .as_ref()
        .map(|k| secrecy::ExposeSecret::expose_secret(k).to_owned());
    let key = match &secret_key {
        Some(key) => key.clone(),
        None => std::fs::read_to_string(config.data_dir().join("secret.key")).unwrap(),
    };
    let keys = MasterKey::from_bytes(latchkey_server::config::decode_key(&key).unwrap()).derive();
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(app.run(async move {
        let _ = stopped.await;
    }));
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    TestApp {
        backend,
        database: config.database.as_str().to_owned(),
        secret_key,
        base,
        client,
        clock,
        store,
        keys,
        core,
        db_path,
        mailbox_dir: config.mailbox_dir(),
        directories,
        metrics_base,
        _dir: dir,
        _stop: stop,
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// This app's API, with this app's client (and its cookies).
    pub fn api(&self) -> Api {
        Api {
            base: self.base.clone(),
            client: self.client.clone(),
        }
    }

    /// Calls a server function as our own pages do: POST, JSON, our Origin.
    pub async fn call(&self, endpoint: &str, body: Value) -> reqwest::Response {
        self.api().call(endpoint, body).await
    }

    /// Calls a server function with a raw body and no Origin header set for you.
    pub fn raw(&self, endpoint: &str) -> reqwest::RequestBuilder {
        self.client
            .post(self.url(&format!("/api/{endpoint}")))
            .header("content-type", "application/json")
    }

    /// Signs in through the API with this app's client (which keeps cookies).
    pub async fn sign_in(&self, username: &str, password: &str) -> (u16, Value) {
        self.api().sign_in(username, password).await
    }

    /// Signs in as if from `client`, through a reverse proxy: the server believes the
    /// proxy's `X-Forwarded-For` only when started with [`behind_a_proxy`]. For tests
    /// that play an attacker spreading guesses over many addresses.
    pub async fn sign_in_from(&self, client: &str, username: &str, password: &str) -> (u16, Value) {
        json(
            self.client
                .post(self.url("/api/sign_in"))
                .header("origin", &self.base)
                .header("x-forwarded-for", client)
                .json(&serde_json::json!({ "username": username, "password": password }))
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    /// An account of the demo organisation, read straight from the store.
    pub async fn account(&self, username: &str) -> Account {
        let name = AccountName::parse("username", username).unwrap();
        self.read()
            .await
            .account_by_name(&name)
            .await
            .unwrap()
            .unwrap()
    }

    /// A connection for reading what the server wrote.
    pub async fn read(&self) -> Box<dyn Read> {
        self.store.read().await.unwrap()
    }

    /// The SQLite file itself, for tests that must look (or tamper) behind the store.
    pub async fn sql(&self) -> sqlx::SqlitePool {
        assert_eq!(self.backend, Backend::Sqlite, "sql() opens the SQLite file");
        sqlx::SqlitePool::connect(&format!("sqlite://{}", self.db_path.display()))
            .await
            .unwrap()
    }

    /// A mail's sealed code as the database holds it, looked up behind the store.
    #[allow(dead_code)] // used by the mail tests
    pub async fn sealed_code(&self, id: NotificationId) -> Option<Vec<u8>> {
        match self.backend {
            Backend::Sqlite => sqlx::query_scalar("SELECT sealed_code FROM outbox WHERE id = ?")
                .bind(id.0)
                .fetch_one(&self.sql().await)
                .await
                .unwrap(),
            Backend::Postgres => {
                let mut conn = sqlx::PgConnection::connect(&self.database).await.unwrap();
                sqlx::query_scalar("SELECT sealed_code FROM outbox WHERE id = $1")
                    .bind(id.0)
                    .fetch_one(&mut conn)
                    .await
                    .unwrap()
            }
        }
    }

    /// Every file the database keeps on disk, written out first: SQLite's file, its
    /// write-ahead log and shared memory; PostgreSQL's files of this database and the
    /// cluster's write-ahead log (after a checkpoint).
    #[allow(dead_code)] // used by the tests that look for secrets on disk
    pub async fn database_files(&self) -> Vec<PathBuf> {
        match self.backend {
            Backend::Sqlite => ["", "-wal", "-shm"]
                .iter()
                .map(|suffix| PathBuf::from(format!("{}{suffix}", self.db_path.display())))
                .collect(),
            Backend::Postgres => {
                let mut conn = sqlx::PgConnection::connect(&self.database).await.unwrap();
                sqlx::query("CHECKPOINT").execute(&mut conn).await.unwrap();
                let oid: i64 = sqlx::query_scalar(
                    "SELECT oid::BIGINT FROM pg_database WHERE datname = current_database()",
                )
                .fetch_one(&mut conn)
                .await
                .unwrap();
                let data = &PgCluster::shared().data_dir;
                [data.join("base").join(oid.to_string()), data.join("pg_wal")]
                    .iter()
                    .flat_map(|dir| std::fs::read_dir(dir).unwrap())
                    .map(|e| e.unwrap().path())
                    .filter(|p| p.is_file())
                    .collect()
            }
        }
    }

    /// Every row of every table but the audit log's (and the flows', the throttle's and
    /// the captchas', which only self-service changes), as text: what a refused request
    /// must leave exactly as it was.
    pub async fn snapshot(&self) -> String {
        use sqlx::Row;
        let tables = [
            "organisations",
            "identity_stores",
            "persons",
            "accounts",
            "operator_roles",
            "sessions",
            "security_questions",
            "security_answers",
            "totp_credentials",
            "one_time_codes",
            "auth_flows",
            "outbox",
        ];
        if self.backend == Backend::Postgres {
            // Each row as PostgreSQL writes a record, in that text's order.
            let mut conn = sqlx::PgConnection::connect(&self.database).await.unwrap();
            let mut out = String::new();
            for table in tables {
                let sql = format!("SELECT t::text AS row FROM {table} t ORDER BY 1");
                for row in sqlx::query(&sql).fetch_all(&mut conn).await.unwrap() {
                    out.push_str(table);
                    out.push(':');
                    out.push_str(&row.get::<String, _>("row"));
                    out.push('\n');
                }
            }
            let _ = conn.close().await;
            return out;
        }
        let pool = self.sql().await;
        let mut out = String::new();
        for table in tables {
            let columns: Vec<String> =
                sqlx::query_scalar("SELECT name FROM pragma_table_info(?) ORDER BY cid")
                    .bind(table)
                    .fetch_all(&pool)
                    .await
                    .unwrap();
            let quoted: Vec<String> = columns.iter().map(|c| format!("quote({c})")).collect();
            let sql = format!(
                "SELECT {} AS row FROM {table} ORDER BY rowid",
                quoted.join(" || '|' || ")
            );
            for row in sqlx::query(&sql).fetch_all(&pool).await.unwrap() {
                out.push_str(table);
                out.push(':');
                out.push_str(&row.get::<String, _>("row"));
                out.push('\n');
            }
        }
        pool.close().await;
        out
    }

    /// Runs the `latchkey` binary with `input` on its standard input (e.g. a password).
    pub async fn cli_with_input(&self, args: &[&str], input: &str) -> (i32, String, String) {
        let (database, secret_key) = (self.database.clone(), self.secret_key.clone());
        let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
        let input = input.to_owned();
        tokio::task::spawn_blocking(move || {
            use std::io::Write;
            let mut command = server_command();
            if let Some(key) = secret_key {
                command.env("LATCHKEY_SECRET_KEY", key);
            }
            let mut child = command
                .args(&args)
                .env("LATCHKEY_DATABASE", database)
                .env("RUST_LOG", "error")
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            child
                .stdin
                .take()
                .unwrap()
                .write_all(input.as_bytes())
                .unwrap();
            let out = child.wait_with_output().unwrap();
            (
                out.status.code().unwrap_or(-1),
                String::from_utf8_lossy(&out.stdout).into_owned(),
                String::from_utf8_lossy(&out.stderr).into_owned(),
            )
        })
        .await
        .unwrap()
    }

    /// An operator signed in to the console in a browser of their own (own cookies).
    pub async fn operator(&self, username: &str, password: &str) -> Api {
        let api = Api::new(self.base.clone());
        let (status, body) = json(
            api.call(
                "console_sign_in",
                serde_json::json!({ "username": username, "password": password, "code": null }),
            )
            .await,
        )
        .await;
        assert_eq!(
            (status, &body["result"]),
            (200, &serde_json::json!("signed_in")),
            "{body}"
        );
        api
    }

    /// A demo operator (see `latchkey_core::demo::OPERATORS` and `OTHER_USERS`).
    pub async fn demo_operator(&self, username: &str) -> Api {
        let user = latchkey_core::demo::OPERATORS
            .iter()
            .chain(latchkey_core::demo::OTHER_USERS)
            .find(|u| u.username == username)
            .unwrap();
        self.operator(username, user.password).await
    }

    /// The questions (not answers) a demo user has enrolled.
    pub async fn store_enrolled(&self, username: &str) -> Vec<String> {
        let id = self.account(username).await.id;
        let answers = self.read().await.security_answers(id).await.unwrap();
        answers.into_iter().map(|a| a.question).collect()
    }

    /// The mail delivered to the on-disk mailbox (the transport when no SMTP host is
    /// configured), oldest first, once the outbox worker has sent it.
    pub fn mailbox(&self) -> Vec<ReceivedMail> {
        read_mailbox(&self.mailbox_dir)
    }

    /// Waits for the newest verification code mailed to `address` and returns it.
    pub async fn emailed_code(&self, address: &str, nth: usize) -> String {
        let mut code = None;
        eventually("a code arrives by email", || {
            let found = self
                .mailbox()
                .into_iter()
                .filter(|m| m.to == address && m.subject.contains("verification code"))
                .nth(nth);
            code = found.and_then(|m| {
                m.text
                    .split_whitespace()
                    .find(|w| w.len() == 6 && w.bytes().all(|b| b.is_ascii_digit()))
                    .map(str::to_owned)
            });
            let ok = code.is_some();
            async move { ok }
        })
        .await;
        code.unwrap()
    }

    /// Every audit record, oldest first.
    pub async fn audit(&self) -> Vec<AuditRecord> {
        self.read().await.audit_records(0, 100_000).await.unwrap()
    }

    /// The newest audit record of `action`.
    pub async fn last_audit(&self, action: &str) -> AuditRecord {
        self.audit()
            .await
            .into_iter()
            .rev()
            .find(|r| r.action == action)
            .unwrap_or_else(|| panic!("no {action} in the audit log"))
    }

    /// Sets the demo organisation's lockout policy.
    pub async fn set_policy(&self, policy: LockoutPolicy) {
        let org = self
            .read()
            .await
            .organisation_by_slug(latchkey_core::demo::ORGANISATION_SLUG)
            .await
            .unwrap()
            .unwrap();
        self.core
            .set_lockout_policy(&system(), org.id, &policy)
            .await
            .unwrap();
    }

    /// Runs the `latchkey` binary on this app's database, as an operator would:
    /// (exit code, stdout, stderr). Waits without blocking the test's runtime, which
    /// also runs this app's server: blocked, the server could hold the database's write
    /// lock (a mail worker mid-transaction) while the command waits for it.
    pub async fn cli(&self, args: &[&str]) -> (i32, String, String) {
        let mut env = vec![("LATCHKEY_DATABASE", self.database.clone())];
        if let Some(key) = &self.secret_key {
            env.push(("LATCHKEY_SECRET_KEY", key.clone()));
        }
        let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
        tokio::task::spawn_blocking(move || {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            run_cli_with(&env, &args)
        })
        .await
        .unwrap()
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    /// Every outbox row, newest first (without codes).
    pub async fn outbox(&self) -> Vec<OutboxEntry> {
        self.read()
            .await
            .notifications(None, None, 100_000)
            .await
            .unwrap()
    }

    pub async fn outbox_row(&self, id: NotificationId) -> OutboxEntry {
        let rows = self.outbox().await;
        rows.into_iter().find(|r| r.id == id).unwrap()
    }

    /// Enqueues a mail to `username`'s owner through the core API, as a use case would.
    pub async fn enqueue(&self, username: &str, notification: &Notification) -> NotificationId {
        let account = self.account(username).await;
        let mail = Outgoing::new(
            Recipient::owner_of(&account),
            account.organisation_id,
            notification.clone(),
            &self.keys,
            &OsRandom,
        );
        let mut tx = self.store.begin().await.unwrap();
        let id = tx
            .enqueue_notification(&mail, self.clock.now())
            .await
            .unwrap();
        tx.commit().await.unwrap();
        id
    }

    /// Five wrong passwords: locks `username` under the demo policy (and mails them).
    pub async fn lock_by_failures(&self, username: &str) {
        for _ in 0..5 {
            let (status, body) = self.sign_in(username, "not-the-password").await;
            assert_eq!((status, body["result"].as_str()), (200, Some("refused")));
        }
        assert!(self.account(username).await.lock.lock.is_some());
    }
}

/// The mail in a mailbox folder (the transport when no SMTP host is configured), oldest
/// first.
pub fn read_mailbox(dir: &Path) -> Vec<ReceivedMail> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    // Only finished messages: the folder also briefly holds `.<name>.partial` files,
    // renamed to `<name>.eml` once written.
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .collect();
    files.sort_by_key(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok());
    files
        .iter()
        .map(|p| parse_received(&std::fs::read(p).unwrap()))
        .collect()
}

/// A fresh database at `path` holding the demo organisation, seeded as `serve --demo`
/// does, for a server process the test starts itself.
#[allow(dead_code)] // used by the crash test
pub async fn seed_demo(path: &Path) -> Arc<dyn Store> {
    seed_demo_in(&Database::Sqlite {
        path: path.to_owned(),
        bare: false,
    })
    .await
}

/// [`seed_demo`] in any database.
pub async fn seed_demo_in(database: &Database) -> Arc<dyn Store> {
    use latchkey_core::clock::SystemClock;
    use latchkey_core::Parts;

    let store = latchkey_core::store::open(database).await.unwrap();
    let core = Latchkey::new(Parts {
        store: Arc::clone(&store),
        hasher: latchkey_core::password::PasswordHasher::new(cheap_argon2(), 2, 1_000).unwrap(),
        clock: Arc::new(SystemClock),
        random: Arc::new(OsRandom),
        keys: MasterKey::generate(&OsRandom).derive(),
        sessions: Default::default(),
        self_service: Default::default(),
        client_limits: Default::default(),
        support: Default::default(),
    });
    assert!(core.seed_demo().await.unwrap());
    store
}

/// Latchkey itself acting, as a test arranging state does.
pub fn system() -> Caller {
    Caller::system("test")
}

/// Configures the server as if behind a reverse proxy on this machine, so that
/// [`TestApp::sign_in_from`] chooses the client address.
pub fn behind_a_proxy(config: &mut Config) {
    config.trusted_proxies = vec![std::net::IpAddr::from([127, 0, 0, 1])];
}

/// Waits, a few milliseconds at a time, until `condition` holds; fails after a generous
/// bound. For work the server does in the background (mail delivery), never for speed.
pub async fn eventually<F, Fut>(what: &str, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..3000 {
        if condition().await {
            return;
        }
        tokio::time::sleep(StdDuration::from_millis(10)).await;
    }
    panic!("gave up waiting: {what}");
}

/// A real SMTP server for tests: aiosmtpd writing a Maildir. Killed when dropped.
pub struct SmtpSink {
    pub port: u16,
    pub maildir: PathBuf,
    child: Option<Child>,
    _dir: TempDir,
}

/// A message as the SMTP server received it.
#[derive(Debug, Clone)]
pub struct ReceivedMail {
    pub message_id: String,
    /// The envelope recipient (RCPT TO), as the server recorded it.
    pub envelope_to: String,
    pub to_name: String,
    pub to: String,
    pub from: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

impl SmtpSink {
    /// Reserves a port and a Maildir but does not start the server: mail to it fails
    /// as it would with a mail server that is down.
    pub fn down() -> Self {
        let port = free_port();
        let dir = tempfile::tempdir().unwrap();
        Self {
            port,
            // aiosmtpd creates the Maildir itself, and only if it does not exist yet.
            maildir: dir.path().join("maildir"),
            child: None,
            _dir: dir,
        }
    }

    /// A running server.
    pub async fn start() -> Self {
        let mut sink = Self::down();
        sink.up().await;
        sink
    }

    /// Starts (or restarts) the server on the same port and Maildir.
    pub async fn up(&mut self) {
        assert!(self.child.is_none(), "already running");
        let python = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/python");
        assert!(
            python.exists(),
            "{} is missing: run `make test-tools` (it installs aiosmtpd for the mail tests)",
            python.display()
        );
        let child = Command::new(python)
            .args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{}", self.port))
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(&self.maildir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        self.child = Some(child);
        let addr = SocketAddr::from(([127, 0, 0, 1], self.port));
        eventually("the SMTP server accepts connections", || async move {
            TcpStream::connect_timeout(&addr, StdDuration::from_millis(100)).is_ok()
        })
        .await;
    }

    /// Kills the server process outright (SIGKILL), as a crash would.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Everything the server has received so far.
    pub fn received(&self) -> Vec<ReceivedMail> {
        let mut mails = Vec::new();
        for sub in ["new", "cur"] {
            let Ok(entries) = std::fs::read_dir(self.maildir.join(sub)) else {
                continue;
            };
            for entry in entries {
                let bytes = std::fs::read(entry.unwrap().path()).unwrap();
                mails.push(parse_received(&bytes));
            }
        }
        mails
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.kill();
    }
}

fn parse_received(bytes: &[u8]) -> ReceivedMail {
    let m = mail_parser::MessageParser::default().parse(bytes).unwrap();
    let first = |a: Option<&mail_parser::Address>| {
        let a = a.and_then(|a| a.first()).unwrap();
        (
            a.name().unwrap_or_default().to_owned(),
            a.address().unwrap_or_default().to_owned(),
        )
    };
    let (to_name, to) = first(m.to());
    ReceivedMail {
        message_id: m.message_id().unwrap_or_default().to_owned(),
        envelope_to: m
            .header_raw("X-RcptTo")
            .unwrap_or_default()
            .trim()
            .to_owned(),
        to_name,
        to,
        from: first(m.from()).1,
        subject: m.subject().unwrap_or_default().to_owned(),
        text: m.body_text(0).unwrap_or_default().into_owned(),
        html: m.body_html(0).unwrap_or_default().into_owned(),
    }
}

/// The response's status and JSON body.
pub async fn json(res: reqwest::Response) -> (u16, Value) {
    try_json(res).await.unwrap()
}

/// The response's status and JSON body, or the error that cut the body off (a server
/// that died while answering). A body that arrived but is not JSON fails the test.
pub async fn try_json(res: reqwest::Response) -> Result<(u16, Value), reqwest::Error> {
    let status = res.status().as_u16();
    let text = res.text().await?;
    let value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("expected JSON ({e}), got {status}: {text}"));
    Ok((status, value))
}

/// Runs the `latchkey` binary with the settings `env` (`LATCHKEY_*` variables), as an
/// operator would: (exit code, stdout, stderr).
pub fn run_cli_with(env: &[(&str, String)], args: &[&str]) -> (i32, String, String) {
    let mut command = server_command();
    for (name, value) in env {
        command.env(name, value);
    }
    let out = command
        .args(args)
        .env("RUST_LOG", "error")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The `latchkey` binary under test, without the `LATCHKEY_*` settings of whoever runs
/// the tests: a test decides the configuration.
fn server_command() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_latchkey"));
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("LATCHKEY_") {
            command.env_remove(name);
        }
    }
    command
}

/// The HTTP API of a running server, called as our own pages call it: POST, JSON, our
/// Origin. Cheap to clone (the client is shared), so parallel tasks can each own one.
#[derive(Clone)]
pub struct Api {
    /// `http://127.0.0.1:<port>`, also the server's base URL (our origin).
    pub base: String,
    pub client: reqwest::Client,
}

impl Api {
    /// A client for the server at `base`, keeping cookies and following no redirects.
    pub fn new(base: String) -> Self {
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Self { base, client }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Calls a server function.
    pub async fn call(&self, endpoint: &str, body: Value) -> reqwest::Response {
        self.send(endpoint, &body).await.unwrap()
    }

    /// Calls a server function and reads its status and JSON answer.
    pub async fn post(&self, endpoint: &str, body: Value) -> (u16, Value) {
        json(self.call(endpoint, body).await).await
    }

    /// Calls a server function and reads its JSON answer, or the error that stopped the
    /// exchange (nothing listening, the connection cut): what a browser sees of a crash.
    pub async fn try_call(
        &self,
        endpoint: &str,
        body: &Value,
    ) -> Result<(u16, Value), reqwest::Error> {
        try_json(self.send(endpoint, body).await?).await
    }

    async fn send(
        &self,
        endpoint: &str,
        body: &Value,
    ) -> Result<reqwest::Response, reqwest::Error> {
        self.client
            .post(self.url(&format!("/api/{endpoint}")))
            .header("origin", &self.base)
            .json(body)
            .send()
            .await
    }

    /// A user's console id as this operator finds them in the users grid.
    pub async fn user_id(&self, username: &str) -> String {
        let query = serde_json::json!({
            "text": username, "only_locked": false, "organisation": null, "store": null,
            "status": null, "sort": "username", "after": null,
        });
        let (status, page) = self
            .post("users_search", serde_json::json!({ "query": query }))
            .await;
        assert_eq!(status, 200, "{page}");
        let suffix = format!("\\{username}");
        page["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["username"].as_str().unwrap().ends_with(&suffix))
            .unwrap_or_else(|| panic!("{username} not found in {page}"))["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Signs in (the client keeps the session cookie).
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
}

/// The settings `spawn_app` uses, as `LATCHKEY_*` environment variables for a server
/// process: cheap Argon2, the smallest captcha, a short response time, and outbox workers
/// that look for mail often. Such a process runs on the system clock, where a test's
/// burst from its one address cannot be paced, so the per-client limits are lifted too.
pub fn quick_server_env() -> Vec<(&'static str, String)> {
    let argon2 = cheap_argon2();
    vec![
        ("LATCHKEY_ARGON2__MEMORY_KIB", argon2.memory_kib.to_string()),
        ("LATCHKEY_ARGON2__ITERATIONS", argon2.iterations.to_string()),
        (
            "LATCHKEY_ARGON2__PARALLELISM",
            argon2.parallelism.to_string(),
        ),
        ("LATCHKEY_SELF_SERVICE__RESPONSE_TIME_MS", "5".into()),
        ("LATCHKEY_SELF_SERVICE__CAPTCHA_MAX_NUMBER", "1000".into()),
        (
            "LATCHKEY_CLIENT_LIMITS__REQUESTS_PER_MINUTE",
            "100000".into(),
        ),
        ("LATCHKEY_CLIENT_LIMITS__FAILURES_PER_HOUR", "100000".into()),
        ("LATCHKEY_OUTBOX__POLL_INTERVAL_MS", "20".into()),
    ]
}

/// `latchkey serve` as a process of its own, on a free port of 127.0.0.1, with a
/// database file and environment the test chooses (the base URL is derived from the
/// port). Unlike `spawn_app`'s server it runs on the system clock, and it can be killed
/// outright (SIGKILL), as a crash or a power cut to the process would, and started again
/// on the same database. Its output goes to a log file beside the database, shown when
/// it fails to start. Killed when dropped.
pub struct ServerProcess {
    pub api: Api,
    /// Its `database` setting.
    pub database: String,
    port: u16,
    env: Vec<(String, String)>,
    log: PathBuf,
    child: Option<Child>,
}

impl ServerProcess {
    /// Starts a server on `database` (created and migrated if new) with
    /// `quick_server_env()` and then `env` over it, and waits until it is ready.
    pub async fn start(database: &Path, env: &[(&str, &str)]) -> Self {
        let url = format!("sqlite://{}", database.display());
        Self::start_on(&url, database.with_extension("server.log"), env).await
    }

    /// [`ServerProcess::start`] on any `database` setting (e.g. a PostgreSQL URL, with
    /// `LATCHKEY_SECRET_KEY` in `env`), logging to `log`; its mailbox is beside the log.
    pub async fn start_on(database: &str, log: PathBuf, env: &[(&str, &str)]) -> Self {
        let mut settings: Vec<(String, String)> = quick_server_env()
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
        let mailbox = log.with_file_name("mailbox");
        settings.push(("LATCHKEY_MAILBOX_DIR".into(), mailbox.display().to_string()));
        settings.extend(env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
        let port = free_port();
        let mut server = Self {
            api: Api::new(format!("http://127.0.0.1:{port}")),
            database: database.to_owned(),
            port,
            env: settings,
            log,
            child: None,
        };
        server.up().await;
        server
    }

    /// Starts the server (again) on the same database and waits until `/readyz` answers,
    /// which it does only once start-up (opening the database, migrations) is done. The
    /// same port as before, unless something else took it meanwhile.
    pub async fn up(&mut self) {
        assert!(self.child.is_none(), "already running");
        for _ in 0..3 {
            match self.try_up().await {
                Ok(()) => return,
                // Only a lost port is worth another try; anything else is the test's failure.
                Err(log) if log.contains("cannot listen on") => {
                    self.port = free_port();
                    self.api.base = format!("http://127.0.0.1:{}", self.port);
                }
                Err(log) => panic!("the server stopped during start-up:\n{log}"),
            }
        }
        panic!("no free port for the server:\n{}", self.log());
    }

    /// Spawns the process and waits for readiness; what it logged if it exits first.
    async fn try_up(&mut self) -> Result<(), String> {
        let log = File::options()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        let logged_before = self.log().len();
        let mut command = server_command();
        command
            .args(["serve", "--database"])
            .arg(&self.database)
            .arg("--listen")
            .arg(format!("127.0.0.1:{}", self.port))
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        for (name, value) in &self.env {
            command.env(name, value);
        }
        self.child = Some(command.spawn().unwrap());
        let probe = reqwest::Client::builder()
            .timeout(StdDuration::from_secs(2))
            .build()
            .unwrap();
        let ready = self.api.url("/readyz");
        for _ in 0..3000 {
            if let Some(child) = self.child.as_mut() {
                if child.try_wait().unwrap().is_some() {
                    self.child = None;
                    return Err(self.log().split_off(logged_before));
                }
            }
            if let Ok(res) = probe.get(&ready).send().await {
                if res.status() == 200 {
                    return Ok(());
                }
            }
            tokio::time::sleep(StdDuration::from_millis(10)).await;
        }
        panic!("the server did not become ready:\n{}", self.log());
    }

    /// Whether the process is still running (it has not exited by itself).
    pub fn is_running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|child| child.try_wait().unwrap().is_none())
    }

    /// Kills the process outright (SIGKILL on Unix): no request is finished, no
    /// transaction committed, no connection closed cleanly.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Everything the server has written to its output so far, restarts included.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Runs the `latchkey` binary on this server's database (with its settings), as an
    /// operator would.
    pub fn cli(&self, args: &[&str]) -> (i32, String, String) {
        let mut env: Vec<(&str, String)> = self
            .env
            .iter()
            .map(|(k, v)| (k.as_str(), v.clone()))
            .collect();
        env.push(("LATCHKEY_DATABASE", self.database.clone()));
        run_cli_with(&env, args)
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A port nothing listens on at the moment.
fn free_port() -> u16 {
    StdListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port()
}
