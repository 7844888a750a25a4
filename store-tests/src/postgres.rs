//! A throwaway PostgreSQL cluster for tests and benchmarks: `scripts/throwaway-postgres.sh`
//! started by this process. The script stops the server and deletes its files as soon as
//! its standard input closes, which happens when this process ends, however it ends (a
//! panic, a kill): nothing is left running.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

use latchkey_core::store::{Database, PgDatabase};
use sqlx::Connection;

pub struct PgCluster {
    /// `postgres://postgres@127.0.0.1:PORT`, without a database name.
    server: String,
    /// The cluster's data directory (tests look for secrets written to disk).
    pub data_dir: PathBuf,
    child: Mutex<Child>,
    /// Held open: the script stops the cluster when it closes.
    stdin: Mutex<Option<ChildStdin>>,
}

impl PgCluster {
    /// The cluster this process shares between its tests, started on first use.
    pub fn shared() -> &'static PgCluster {
        static SHARED: OnceLock<PgCluster> = OnceLock::new();
        SHARED.get_or_init(PgCluster::start)
    }

    /// A cluster of its own, stopped when dropped (benchmarks).
    pub fn start() -> PgCluster {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/throwaway-postgres.sh");
        let mut last_error = String::new();
        // Another process may take the free port first; a new one is tried then.
        for _ in 0..3 {
            let port = TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .unwrap()
                .port();
            let mut command = Command::new(&script);
            command
                .arg(port.to_string())
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            // Its own process group: a Ctrl-C to the tests reaches it only through
            // its standard input closing.
            std::os::unix::process::CommandExt::process_group(&mut command, 0);
            let mut child = command.spawn().unwrap();
            let stdin = child.stdin.take();
            let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
            let url = lines.next().and_then(Result::ok);
            let data = lines.next().and_then(Result::ok);
            match (
                url,
                data.and_then(|d| d.strip_prefix("data: ").map(PathBuf::from)),
            ) {
                (Some(url), Some(data_dir)) => {
                    let server = url.trim_end_matches("/postgres").to_owned();
                    return PgCluster {
                        server,
                        data_dir,
                        child: Mutex::new(child),
                        stdin: Mutex::new(stdin),
                    };
                }
                _ => {
                    drop(stdin);
                    let out = child.wait_with_output().unwrap();
                    last_error = String::from_utf8_lossy(&out.stderr).into_owned();
                }
            }
        }
        panic!("the throwaway PostgreSQL did not start:\n{last_error}");
    }

    /// The URL of database `name` on this cluster.
    pub fn url(&self, name: &str) -> String {
        format!("{}/{name}", self.server)
    }

    /// A new, empty database: its URL.
    pub async fn create_database(&self) -> String {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        let name = format!("latchkey_{}", NEXT.fetch_add(1, Ordering::Relaxed));
        let mut admin = sqlx::PgConnection::connect(&self.url("postgres"))
            .await
            .unwrap();
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .unwrap();
        let _ = admin.close().await;
        self.url(&name)
    }

    /// A new, empty database as the `database` setting names it.
    pub async fn fresh(&self) -> Database {
        Database::Postgres(PgDatabase::new(&self.create_database().await).unwrap())
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        // Closing its standard input tells the script to stop the server.
        if let Ok(mut stdin) = self.stdin.lock() {
            stdin.take();
        }
        if let Ok(mut child) = self.child.lock() {
            let _ = child.wait();
        }
    }
}
