//! `make bench`: password sign-ins per second through the running server (HTTP, JSON,
//! the bounded Argon2 pool, SQLite, the audit log) against raw Argon2 verifications per
//! second on the same machine, in the same run. The ratio is what matters; absolute
//! numbers depend on the machine.
//!
//! Raw is measured before and after the server, and averaged, so that drift in the
//! machine's speed during the run does not masquerade as overhead.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use latchkey_core::demo;
use latchkey_core::password::{Argon2Settings, PasswordHasher};
use secrecy::SecretString;

const PHASE: Duration = Duration::from_secs(4);
const ROUNDS: usize = 5;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(run(cores))
}

async fn run(cores: usize) -> Result<(), Box<dyn std::error::Error>> {
    let settings = if std::env::var("BENCH_CHEAP").is_ok() {
        // Nearly free hashing: shows the server's own cost per sign-in.
        Argon2Settings {
            memory_kib: 8,
            iterations: 1,
            parallelism: 1,
        }
    } else {
        Argon2Settings::default()
    };
    let alice = &demo::USERS[0];
    let hasher = PasswordHasher::new(settings, cores, cores * 2)?;
    let hash = hasher.hash(&SecretString::from(alice.password)).await?;
    println!(
        "Argon2id m={} KiB t={} p={}, {cores} cores, {ROUNDS} rounds of {} s per measurement",
        settings.memory_kib,
        settings.iterations,
        settings.parallelism,
        PHASE.as_secs()
    );
    let server = Server::start(settings, cores).await?;

    // Interleaved, so that a machine that speeds up or slows down during the run affects
    // both sides of each ratio alike.
    let mut raws = vec![raw_rate(&hasher, &hash, alice.password, cores).await];
    let (mut pools, mut servers) = (Vec::new(), Vec::new());
    for round in 1..=ROUNDS {
        pools.push(pool_rate(&hasher, &hash, alice.password, cores).await);
        servers.push(server.rate(cores, alice.username, alice.password).await);
        raws.push(raw_rate(&hasher, &hash, alice.password, cores).await);
        println!(
            "round {round}: raw {:8.2}/s  pool {:8.2}/s  server {:8.2}/s  raw {:8.2}/s",
            raws[round - 1],
            pools[round - 1],
            servers[round - 1],
            raws[round]
        );
    }
    let ratio = |side: &[f64]| {
        let mut r: Vec<f64> = side
            .iter()
            .enumerate()
            .map(|(i, v)| v / ((raws[i] + raws[i + 1]) / 2.0))
            .collect();
        r.sort_by(f64::total_cmp);
        r[r.len() / 2]
    };
    println!("raw Argon2 verifications (mean):   {:8.2} /s", mean(&raws));
    println!("through the pool (mean):           {:8.2} /s", mean(&pools));
    println!(
        "sign-ins through the server (mean):{:8.2} /s",
        mean(&servers)
    );
    println!("ratio pool / raw (median):         {:8.3}", ratio(&pools));
    println!("ratio server / raw (median):       {:8.3}", ratio(&servers));
    Ok(())
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

/// Verifications per second with one thread per core, no pool, no HTTP.
async fn raw_rate(hasher: &PasswordHasher, hash: &str, password: &str, cores: usize) -> f64 {
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let threads: Vec<_> = (0..cores)
        .map(|_| {
            let (stop, done) = (stop.clone(), done.clone());
            let (hasher, hash, password) = (hasher.clone(), hash.to_owned(), password.to_owned());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    if hasher.verify_blocking(&password, &hash) {
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    tokio::time::sleep(PHASE).await;
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        let _ = t.join();
    }
    done.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64()
}

/// Verifications per second through the bounded pool (no HTTP, no database).
async fn pool_rate(hasher: &PasswordHasher, hash: &str, password: &str, cores: usize) -> f64 {
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..cores * 2 {
        let (stop, done) = (stop.clone(), done.clone());
        let (hasher, hash) = (hasher.clone(), hash.to_owned());
        let password = SecretString::from(password);
        tasks.spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                if let Ok(true) = hasher.verify(&password, Some(&hash)).await {
                    done.fetch_add(1, Ordering::Relaxed);
                }
            }
        });
    }
    tokio::time::sleep(PHASE).await;
    stop.store(true, Ordering::Relaxed);
    while tasks.join_next().await.is_some() {}
    done.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64()
}

/// Sign-ins through the real server, in this process.
struct Server(latchkey_bench::Server);

impl Server {
    async fn start(
        settings: Argon2Settings,
        cores: usize,
    ) -> Result<Self, Box<dyn std::error::Error>> {
        let server = latchkey_bench::Server::start(|config| {
            config.argon2 = settings;
            config.password_pool.workers = cores;
            config.password_pool.queue = 1024;
        })
        .await?;
        Ok(Self(server))
    }

    /// Successful sign-ins per second over loopback HTTP.
    async fn rate(&self, cores: usize, username: &str, password: &str) -> f64 {
        // Twice as many clients as workers keeps the pool busy while responses travel.
        let clients = cores * 2;
        let body = serde_json::json!({ "username": username, "password": password }).to_string();
        let stop = Arc::new(AtomicBool::new(false));
        let done = Arc::new(AtomicU64::new(0));
        let start = Instant::now();
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..clients {
            let (stop, done) = (stop.clone(), done.clone());
            let (base, body) = (self.0.base.clone(), body.clone());
            tasks.spawn(async move {
                let client = reqwest::Client::new();
                while !stop.load(Ordering::Relaxed) {
                    let res = client
                        .post(format!("{base}/api/sign_in"))
                        .header("origin", &base)
                        .header("content-type", "application/json")
                        .body(body.clone())
                        .send()
                        .await;
                    if let Ok(res) = res {
                        if res.status().is_success()
                            && res.text().await.is_ok_and(|t| t.contains("signed_in"))
                        {
                            done.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            });
        }
        tokio::time::sleep(PHASE).await;
        stop.store(true, Ordering::Relaxed);
        while tasks.join_next().await.is_some() {}
        done.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64()
    }
}
