//! `make bench` (fourth part): peak memory under a flood of sign-ins. Each Argon2id hash
//! works in `m` KiB (19 MiB by default); the server should hold about one such buffer per
//! hashing worker, however many sign-ins arrive.
//!
//! The flood runs twice, each time in a fresh process (this program started again with
//! `--child`), so that each peak is that process's own: once with nearly free hashing,
//! which gives the base (runtime, SQLite, sessions, the HTTP client), and once with the
//! real cost. Each child resets its peak resident memory (VmHWM) once the server has
//! started and reports the peak over the flood.

use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use latchkey_bench::{BenchResult, Server};
use latchkey_core::demo;
use latchkey_core::password::Argon2Settings;

const REQUESTS: u64 = 10_000;
/// Clients sending at once: many more than workers, fewer than workers + queue, so the
/// pool is always full and nothing is refused as busy.
const CLIENTS: u64 = 32;

const MIB: f64 = 1024.0 * 1024.0;

fn main() -> BenchResult<()> {
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut args = std::env::args().skip(1);
    match (args.next().as_deref(), args.next().as_deref()) {
        (Some("--child"), Some(kind)) => {
            let settings = match kind {
                "cheap" => Argon2Settings {
                    memory_kib: 8,
                    iterations: 1,
                    parallelism: 1,
                },
                _ => Argon2Settings::default(),
            };
            tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?
                .block_on(child(settings, workers))
        }
        _ => parent(workers),
    }
}

/// Runs both floods in child processes and prints their peaks beside the bound.
fn parent(workers: usize) -> BenchResult<()> {
    let real = Argon2Settings::default();
    println!(
        "{REQUESTS} sign-ins from {CLIENTS} clients at once, {workers} workers, \
         Argon2id m={} KiB t={} p={}",
        real.memory_kib, real.iterations, real.parallelism
    );
    let base = run_child("cheap")?;
    println!(
        "peak RSS, nearly free hashing (base):   {:7.1} MiB",
        base / MIB
    );
    let peak = run_child("real")?;
    let bound = base + workers as f64 * f64::from(real.memory_kib) * 1024.0;
    println!(
        "peak RSS, real Argon2id:                {:7.1} MiB",
        peak / MIB
    );
    println!(
        "bound base + {workers} workers x {} MiB:        {:7.1} MiB (peak - bound: {:+.1} MiB)",
        real.memory_kib / 1024,
        bound / MIB,
        (peak - bound) / MIB
    );
    Ok(())
}

/// Starts this program again as a child running one flood; returns its peak in bytes.
fn run_child(kind: &str) -> BenchResult<f64> {
    let out = Command::new(std::env::current_exe()?)
        .args(["--child", kind])
        .output()?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(format!(
            "the {kind} flood failed: {}{stdout}",
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    }
    let mut peak_kib = None;
    for line in stdout.lines() {
        match line.strip_prefix("peak_kib=") {
            Some(kib) => peak_kib = Some(kib.trim().parse::<f64>()?),
            None => println!("{line}"),
        }
    }
    Ok(peak_kib.ok_or("the child reported no peak")? * 1024.0)
}

/// One flood against an in-process server; prints what it saw and `peak_kib=`.
async fn child(settings: Argon2Settings, workers: usize) -> BenchResult<()> {
    let server = Server::start(|config| {
        config.argon2 = settings;
        config.password_pool.workers = workers;
        config.password_pool.queue = CLIENTS as usize;
    })
    .await?;
    let alice = &demo::USERS[0];
    // Every fourth request names nobody: checked against the dummy hash instead.
    let known =
        serde_json::json!({ "username": alice.username, "password": alice.password }).to_string();
    let unknown =
        serde_json::json!({ "username": "nobody-here", "password": alice.password }).to_string();
    let next = Arc::new(AtomicU64::new(0));
    let (signed_in, refused, other) = (
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicU64::new(0)),
    );
    // The peak so far is start-up's; from here on it is the flood's.
    std::fs::write("/proc/self/clear_refs", "5")?;
    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..CLIENTS {
        let (next, signed_in, refused, other) = (
            next.clone(),
            signed_in.clone(),
            refused.clone(),
            other.clone(),
        );
        let (base, known, unknown) = (server.base.clone(), known.clone(), unknown.clone());
        tasks.spawn(async move {
            let client = reqwest::Client::new();
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= REQUESTS {
                    break;
                }
                let body = if n % 4 == 3 { &unknown } else { &known };
                let res = client
                    .post(format!("{base}/api/sign_in"))
                    .header("origin", &base)
                    .header("content-type", "application/json")
                    .body(body.clone())
                    .send()
                    .await;
                let text = match res {
                    Ok(res) if res.status().is_success() => res.text().await.unwrap_or_default(),
                    _ => String::new(),
                };
                let counter = if text.contains("signed_in") {
                    &signed_in
                } else if text.contains("refused") {
                    &refused
                } else {
                    &other
                };
                counter.fetch_add(1, Ordering::Relaxed);
            }
        });
    }
    while tasks.join_next().await.is_some() {}
    println!(
        "  {} flood: {} signed in, {} refused (unknown name), {} other, in {:.1} s",
        if settings == Argon2Settings::default() {
            "real"
        } else {
            "cheap"
        },
        signed_in.load(Ordering::Relaxed),
        refused.load(Ordering::Relaxed),
        other.load(Ordering::Relaxed),
        start.elapsed().as_secs_f64()
    );
    println!("peak_kib={}", status_kib("VmHWM:")?);
    Ok(())
}

/// A `kB` figure from /proc/self/status.
fn status_kib(field: &str) -> BenchResult<u64> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    Ok(status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .ok_or_else(|| format!("no {field} in /proc/self/status"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()?)
}
