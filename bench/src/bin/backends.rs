//! `make bench` (fifth part): the two store backends side by side, in one run. Sign-ins
//! per second and self-service steps per second through `latchkey serve` processes (the
//! release binary) with one and with three servers sharing one database — SQLite (one
//! file, so one machine) and PostgreSQL (a throwaway cluster on this machine). Hashing is
//! nearly free (m = 8 KiB), so the figures show what the database and the servers cost,
//! not Argon2; on a machine with few cores, three servers share those cores.

use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use latchkey_bench::BenchResult;
use latchkey_core::demo;
use latchkey_store_tests::postgres::PgCluster;
use serde_json::{json, Value};

const PHASE: Duration = Duration::from_secs(5);
const CLIENTS: usize = 16;
/// A fixed key: every server of a run must share one (and this is a benchmark).
const SECRET_KEY: &str = "YmVuY2gtYmVuY2gtYmVuY2gtYmVuY2gtYmVuY2gtMzI=";

fn main() -> BenchResult<()> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(run())
}

async fn run() -> BenchResult<()> {
    let binary = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/release/latchkey");
    if !binary.is_file() {
        return Err(format!("{} is missing: cargo build --release", binary.display()).into());
    }
    let cluster = PgCluster::start();
    println!(
        "{CLIENTS} clients, {} s per figure, Argon2id m=8 KiB t=1, {} cores",
        PHASE.as_secs(),
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    println!("backend      servers   sign-ins/s   self-service steps/s");
    for (name, postgres) in [("SQLite", false), ("PostgreSQL", true)] {
        for servers in [1, 3] {
            let dir = tempfile::tempdir()?;
            let database = if postgres {
                cluster.create_database().await
            } else {
                format!("sqlite://{}", dir.path().join("bench.sqlite3").display())
            };
            let run = Servers::start(&binary, &database, dir.path(), servers).await?;
            let sign_ins = rate(&run.bases, sign_in).await;
            let steps = rate(&run.bases, self_service).await;
            println!("{name:<12} {servers:>7}   {sign_ins:>10.1}   {steps:>20.1}");
        }
    }
    Ok(())
}

/// `latchkey serve` processes on one database, stopped (by their own pids) when dropped.
struct Servers {
    bases: Vec<String>,
    children: Vec<Child>,
}

impl Servers {
    async fn start(binary: &Path, database: &str, dir: &Path, n: usize) -> BenchResult<Self> {
        let env = [
            ("LATCHKEY_DATABASE", database.to_owned()),
            ("LATCHKEY_SECRET_KEY", SECRET_KEY.to_owned()),
            (
                "LATCHKEY_MAILBOX_DIR",
                dir.join("mailbox").display().to_string(),
            ),
            ("LATCHKEY_ARGON2__MEMORY_KIB", "8".to_owned()),
            ("LATCHKEY_ARGON2__ITERATIONS", "1".to_owned()),
            ("LATCHKEY_PASSWORD_POOL__QUEUE", "4096".to_owned()),
            ("LATCHKEY_SELF_SERVICE__RESPONSE_TIME_MS", "0".to_owned()),
            // Every request comes from this one address.
            (
                "LATCHKEY_CLIENT_LIMITS__REQUESTS_PER_MINUTE",
                u32::MAX.to_string(),
            ),
            (
                "LATCHKEY_CLIENT_LIMITS__FAILURES_PER_HOUR",
                u32::MAX.to_string(),
            ),
            ("RUST_LOG", "error".to_owned()),
        ];
        let mut servers = Servers {
            bases: Vec::new(),
            children: Vec::new(),
        };
        for i in 0..n {
            let port = std::net::TcpListener::bind("127.0.0.1:0")?
                .local_addr()?
                .port();
            let mut command = Command::new(binary);
            command
                .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(dir.join(format!("server-{i}.log")))?);
            // The first seeds the demo data (with the cheap hashes), the others find it.
            if i == 0 {
                command.arg("--demo");
            }
            for (key, value) in &env {
                command.env(key, value);
            }
            servers.children.push(command.spawn()?);
            let base = format!("http://127.0.0.1:{port}");
            ready(&base).await?;
            servers.bases.push(base);
            if i == 0 {
                cli(binary, &env, &["auth-flow", "set", "security_questions"])?;
            }
        }
        Ok(servers)
    }
}

impl Drop for Servers {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

async fn ready(base: &str) -> BenchResult<()> {
    let client = reqwest::Client::new();
    for _ in 0..600 {
        if let Ok(res) = client.get(format!("{base}/readyz")).send().await {
            if res.status().is_success() {
                return Ok(());
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Err(format!("{base} did not become ready").into())
}

fn cli(binary: &Path, env: &[(&str, String)], args: &[&str]) -> BenchResult<()> {
    let mut command = Command::new(binary);
    command.args(args);
    for (key, value) in env {
        command.env(key, value);
    }
    let out = command.output()?;
    if !out.status.success() {
        return Err(format!(
            "latchkey {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    }
    Ok(())
}

/// One round of a workload: how many of its requests succeeded.
type Round = Pin<Box<dyn Future<Output = u64> + Send>>;

/// A workload: one round against the server at a base URL.
type Workload = fn(reqwest::Client, String) -> Round;

/// Successful requests per second of `workload`, `CLIENTS` at once over the servers.
async fn rate(bases: &[String], workload: Workload) -> f64 {
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..CLIENTS {
        let (stop, done) = (stop.clone(), done.clone());
        let base = bases[i % bases.len()].clone();
        tasks.spawn(async move {
            let client = reqwest::Client::new();
            while !stop.load(Ordering::Relaxed) {
                let ok = workload(client.clone(), base.clone()).await;
                done.fetch_add(ok, Ordering::Relaxed);
            }
        });
    }
    tokio::time::sleep(PHASE).await;
    stop.store(true, Ordering::Relaxed);
    while tasks.join_next().await.is_some() {}
    done.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64()
}

async fn call(client: &reqwest::Client, base: &str, endpoint: &str, body: Value) -> Option<Value> {
    let res = client
        .post(format!("{base}/api/{endpoint}"))
        .header("origin", base)
        .json(&body)
        .send()
        .await
        .ok()?;
    if !res.status().is_success() {
        return None;
    }
    res.json().await.ok()
}

/// One successful sign-in (alice, the right password).
fn sign_in(client: reqwest::Client, base: String) -> Round {
    Box::pin(async move {
        let alice = &demo::USERS[0];
        let body = json!({ "username": alice.username, "password": alice.password });
        match call(&client, &base, "sign_in", body).await {
            Some(v) if v["result"] == "signed_in" => 1,
            _ => 0,
        }
    })
}

/// One self-service unlock: start, identify, the right answers — three steps.
fn self_service(client: reqwest::Client, base: String) -> Round {
    Box::pin(async move {
        let alice = &demo::USERS[0];
        let start = json!({ "action": "unlock", "channel": "web" });
        let Some(started) = call(&client, &base, "flow_start", start).await else {
            return 0;
        };
        let flow = started["flow_id"].clone();
        let body = json!({ "flow_id": flow, "username": alice.username });
        let Some(view) = call(&client, &base, "flow_identify", body).await else {
            return 1;
        };
        let answers: Vec<&str> = view["step"]["prompt"]["questions"]
            .as_array()
            .map(|qs| {
                qs.iter()
                    .filter_map(|q| {
                        alice
                            .answers
                            .iter()
                            .find(|(question, _)| Some(*question) == q.as_str())
                            .map(|(_, answer)| *answer)
                    })
                    .collect()
            })
            .unwrap_or_default();
        let body = json!({
            "flow_id": flow,
            "step": view["step"]["index"],
            "answer": { "factor": "security_questions", "answers": answers },
        });
        match call(&client, &base, "flow_answer", body).await {
            Some(v) if v["step"]["step"] == "done" => 3,
            _ => 2,
        }
    })
}
