//! Memory under a stream of sign-ins (issue 10): each Argon2id hash needs `m` KiB, and the
//! server must not keep a fresh block for every hash it has computed. Runs the real
//! `latchkey` binary as a child process so that its whole resident memory is measured,
//! with the real default Argon2 cost, and compares its peak with the same server whose
//! hashing costs nearly nothing: the difference must be about one block per worker.

use std::net::TcpListener as StdListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};

use latchkey_core::password::Argon2Settings;
use serde_json::json;
use tempfile::TempDir;

use crate::harness::eventually;

const WORKERS: u64 = 2;
const SIGN_INS: usize = 60;
/// What else may differ between the two servers (allocator bookkeeping, SQLite's cache):
/// less than one more 19 MiB block, so even a single block kept per hash would show.
const MARGIN_MIB: u64 = 16;

/// A `latchkey serve --demo` child process on a loopback port; killed when dropped.
struct Server {
    child: Child,
    base: String,
    _dir: TempDir,
}

impl Server {
    async fn start(argon2: Argon2Settings) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let port = StdListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .unwrap()
            .port();
        let base = format!("http://127.0.0.1:{port}");
        let child = Command::new(env!("CARGO_BIN_EXE_latchkey"))
            .arg("serve")
            .arg("--demo")
            .arg("--database")
            .arg(dir.path().join("latchkey.sqlite3"))
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .env("LATCHKEY_ARGON2__MEMORY_KIB", argon2.memory_kib.to_string())
            .env("LATCHKEY_ARGON2__ITERATIONS", argon2.iterations.to_string())
            .env(
                "LATCHKEY_ARGON2__PARALLELISM",
                argon2.parallelism.to_string(),
            )
            .env("LATCHKEY_PASSWORD_POOL__WORKERS", WORKERS.to_string())
            .env("LATCHKEY_CLIENT_LIMITS__REQUESTS_PER_MINUTE", "1000000")
            .env("LATCHKEY_CLIENT_LIMITS__FAILURES_PER_HOUR", "1000000")
            .env("RUST_LOG", "error")
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let server = Self {
            child,
            base,
            _dir: dir,
        };
        // The demo data is seeded before the server listens, so once it answers, the
        // start-up hashing is done.
        let health = format!("{}/healthz", server.base);
        eventually("the server answers", || {
            let health = health.clone();
            async move {
                reqwest::get(&health)
                    .await
                    .is_ok_and(|r| r.status().is_success())
            }
        })
        .await;
        server
    }

    /// Successful sign-ins one after another, as a busy morning brings them.
    async fn sign_in_repeatedly(&self, times: usize) {
        let client = reqwest::Client::new();
        for _ in 0..times {
            let res = client
                .post(format!("{}/api/sign_in", self.base))
                .header("origin", &self.base)
                .json(&json!({ "username": "alice", "password": "lantern-orbit-meadow" }))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 200);
            let body: serde_json::Value = res.json().await.unwrap();
            assert_eq!(body["result"], "signed_in");
        }
    }

    /// The process's peak resident memory so far (VmHWM), in bytes.
    fn peak_rss(&self) -> u64 {
        status_kib(
            &Path::new("/proc").join(self.child.id().to_string()),
            "VmHWM:",
        ) * 1024
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn status_kib(proc_dir: &Path, field: &str) -> u64 {
    let status = std::fs::read_to_string(proc_dir.join("status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no {field} in {}/status", proc_dir.display()))
}

const MIB: u64 = 1024 * 1024;

#[tokio::test]
async fn sign_ins_keep_memory_to_one_argon2_block_per_worker() {
    let real = Argon2Settings::default();
    assert_eq!(
        (real.memory_kib, real.iterations, real.parallelism),
        (19 * 1024, 2, 1),
        "measured with the production cost"
    );
    // The same server and the same requests with hashing that needs almost no memory:
    // what the rest of the server takes.
    let cheap = Argon2Settings {
        memory_kib: 8,
        iterations: 1,
        parallelism: 1,
    };
    let base = {
        let server = Server::start(cheap).await;
        server.sign_in_repeatedly(SIGN_INS).await;
        server.peak_rss()
    };

    let server = Server::start(real).await;
    server.sign_in_repeatedly(SIGN_INS).await;
    let peak = server.peak_rss();

    let blocks = WORKERS * u64::from(real.memory_kib) * 1024;
    let bound = base + blocks + MARGIN_MIB * MIB;
    println!(
        "peak RSS {} MiB (nearly free hashing: {} MiB, bound {} MiB)",
        peak / MIB,
        base / MIB,
        bound / MIB
    );
    assert!(
        peak <= bound,
        "peak RSS after {SIGN_INS} sign-ins is {} MiB; with nearly free hashing it is {} MiB, \
         so at most {} MiB ({WORKERS} workers x {} MiB + {MARGIN_MIB} MiB) was expected",
        peak / MIB,
        base / MIB,
        bound / MIB,
        u64::from(real.memory_kib) / 1024,
    );
}
