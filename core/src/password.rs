//! Argon2id password hashing on a bounded pool.
//!
//! Argon2 is deliberately expensive, so an unbounded number of concurrent sign-ins would
//! exhaust memory and starve everything else. `workers` dedicated threads hash (one per
//! core by default), at most `queue` more jobs wait, and anything beyond that is refused
//! at once with [`HashError::Busy`] so the client can retry, instead of piling up.
//! (A job is counted from admission until its result is ready, so a caller hashing one
//! thing after another is never refused by its own previous job.)
//!
//! Each hashing thread computes every hash in one Argon2 memory buffer of its own (`m`
//! KiB), allocated once and reused. Allocating a fresh 19 MiB block per hash let glibc
//! keep each freed block in its per-thread arenas, so a stream of sign-ins grew the
//! process by hundreds of MiB; now memory stays at about `workers` × `m` above idle.
//! Dedicated threads (rather than tokio's blocking pool) also keep that buffer warm,
//! which the benchmark shows is worth about 10 %.

use std::cell::RefCell;
use std::sync::Arc;

use argon2::password_hash::{
    rand_core::OsRng, Output, ParamsString, PasswordHash, Salt, SaltString,
};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use std::sync::atomic::{AtomicUsize, Ordering};

use crossbeam_channel::Sender;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;
use tokio::sync::oneshot;

/// New hashes are Argon2id, version 0x13 (19), the PHC recommendation.
const ALGORITHM: Algorithm = Algorithm::Argon2id;
const VERSION: Version = Version::V0x13;

/// Argon2id cost parameters. The defaults are OWASP's minimum recommendation
/// (m = 19 MiB, t = 2, p = 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Argon2Settings {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl Default for Argon2Settings {
    fn default() -> Self {
        Self {
            memory_kib: 19 * 1024,
            iterations: 2,
            parallelism: 1,
        }
    }
}

impl Argon2Settings {
    fn params(&self) -> Result<Params, String> {
        Params::new(self.memory_kib, self.iterations, self.parallelism, None)
            .map_err(|e| e.to_string())
    }

    /// Checks the parameters without hashing anything; the message says what is wrong.
    pub fn validate(&self) -> Result<(), String> {
        self.params().map(|_| ())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("too many password checks queued; retry in {retry_after_secs} s")]
    Busy { retry_after_secs: u64 },
    #[error("password hashing failed: {0}")]
    Internal(String),
}

/// Seconds a refused caller is told to wait: one Argon2 verification takes well under a
/// second, so by then the queue has moved on.
const BUSY_RETRY_AFTER_SECS: u64 = 1;

type Job = Box<dyn FnOnce() + Send>;

/// Hashes and verifies passwords (and, later, security answers) on a bounded pool of
/// dedicated threads. Cloning shares the pool; the threads end with the last clone.
#[derive(Clone)]
pub struct PasswordHasher {
    argon: Arc<Argon2<'static>>,
    /// Jobs for the workers.
    jobs: Sender<Job>,
    /// Jobs admitted and not yet finished (running or waiting).
    in_flight: Arc<AtomicUsize>,
    /// At most this many jobs in flight: one running per worker, plus the queue.
    capacity: usize,
    /// Jobs refused because the pool was full (for the metrics).
    refused: Arc<std::sync::atomic::AtomicU64>,
    /// Verified against when there is no real hash, so unknown users cost the same.
    dummy_hash: Arc<str>,
}

impl std::fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordHasher")
            .field("in_flight", &self.in_flight.load(Ordering::Relaxed))
            .field("capacity", &self.capacity)
            .finish()
    }
}

impl PasswordHasher {
    /// `workers` threads hash at once (one per core is right: Argon2 is pure CPU and
    /// memory bandwidth), `queue` more jobs may wait.
    pub fn new(settings: Argon2Settings, workers: usize, queue: usize) -> Result<Self, HashError> {
        let params = settings.params().map_err(HashError::Internal)?;
        let argon = Arc::new(Argon2::new(ALGORITHM, VERSION, params));
        let workers = workers.max(1);
        // Admission is counted in `in_flight`, so the channel itself need not be bounded.
        let (jobs, queue_rx) = crossbeam_channel::unbounded::<Job>();
        for n in 0..workers {
            let rx = queue_rx.clone();
            std::thread::Builder::new()
                .name(format!("argon2-{n}"))
                .spawn(move || {
                    // Ends when every sender (every clone of the hasher) is gone.
                    while let Ok(job) = rx.recv() {
                        job();
                    }
                })
                .map_err(|e| HashError::Internal(format!("cannot start a hashing thread: {e}")))?;
        }
        // Hashed on a worker too, in the buffer it keeps, so start-up adds no block of
        // its own to the process.
        let (reply, dummy) = crossbeam_channel::bounded(1);
        let job_argon = Arc::clone(&argon);
        let job: Job = Box::new(move || {
            let _ = reply.send(with_memory(|memory| {
                hash_in(&job_argon, b"latchkey dummy password", memory)
            }));
        });
        jobs.send(job)
            .map_err(|_| HashError::Internal("the hashing pool has stopped".into()))?;
        let dummy_hash = dummy
            .recv()
            .map_err(|_| HashError::Internal("a hashing job was lost".into()))??;
        Ok(Self {
            argon,
            jobs,
            in_flight: Arc::new(AtomicUsize::new(0)),
            capacity: workers + queue,
            refused: Arc::new(std::sync::atomic::AtomicU64::new(0)),
            dummy_hash: dummy_hash.into(),
        })
    }

    /// Jobs running or waiting now.
    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::Relaxed)
    }

    /// Jobs admitted at most: workers plus queue.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Jobs refused so far because the pool was saturated.
    pub fn refused(&self) -> u64 {
        self.refused.load(Ordering::Relaxed)
    }

    /// Hashes a new secret with a fresh random salt into a PHC string.
    pub async fn hash(&self, secret: &SecretString) -> Result<String, HashError> {
        let argon = Arc::clone(&self.argon);
        let secret = SecretString::from(secret.expose_secret());
        self.run(move || {
            with_memory(|memory| hash_in(&argon, secret.expose_secret().as_bytes(), memory))
        })
        .await?
    }

    /// Verifies `secret` against `hash`. With no hash (unknown user, no password set) it
    /// verifies against a dummy hash and answers `false`, taking the same time.
    pub async fn verify(
        &self,
        secret: &SecretString,
        hash: Option<&str>,
    ) -> Result<bool, HashError> {
        let secret = SecretString::from(secret.expose_secret());
        let (hash, real): (Arc<str>, bool) = match hash {
            Some(h) => (Arc::from(h), true),
            None => (Arc::clone(&self.dummy_hash), false),
        };
        self.run(move || {
            let parsed =
                PasswordHash::new(&hash).map_err(|e| HashError::Internal(e.to_string()))?;
            let ok =
                with_memory(|memory| verify_in(secret.expose_secret().as_bytes(), &parsed, memory));
            Ok(ok && real)
        })
        .await?
    }

    /// Verifies on the calling thread, without the pool; for the benchmark's baseline.
    /// The calling thread keeps a buffer of its own, as a worker does.
    pub fn verify_blocking(&self, secret: &str, hash: &str) -> bool {
        PasswordHash::new(hash)
            .map(|parsed| with_memory(|memory| verify_in(secret.as_bytes(), &parsed, memory)))
            .unwrap_or(false)
    }

    /// Runs `job` on a worker and waits for its result, or refuses at once when every
    /// worker is busy and the queue is full.
    async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, HashError> {
        let admitted = self
            .in_flight
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.capacity).then_some(n + 1)
            })
            .is_ok();
        if !admitted {
            self.refused.fetch_add(1, Ordering::Relaxed);
            return Err(HashError::Busy {
                retry_after_secs: BUSY_RETRY_AFTER_SECS,
            });
        }
        let in_flight = Arc::clone(&self.in_flight);
        let (reply, result) = oneshot::channel();
        let job: Job = Box::new(move || {
            let out = job();
            in_flight.fetch_sub(1, Ordering::AcqRel);
            let _ = reply.send(out);
        });
        if self.jobs.send(job).is_err() {
            self.in_flight.fetch_sub(1, Ordering::AcqRel);
            return Err(HashError::Internal("the hashing pool has stopped".into()));
        }
        result
            .await
            .map_err(|_| HashError::Internal("a hashing job was lost".into()))
    }
}

thread_local! {
    /// This thread's Argon2 working memory, reused by every hash it computes. Only the
    /// pool's workers (and the benchmark's baseline threads) hash, so the process holds
    /// one buffer per hashing thread.
    static MEMORY: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` with this thread's Argon2 buffer.
fn with_memory<T>(f: impl FnOnce(&mut Vec<Block>) -> T) -> T {
    MEMORY.with_borrow_mut(f)
}

/// The first `params.block_count()` blocks of `memory`, which grows (only) when a hash
/// needs more than any before: the configured `m`, or a stored hash's larger one.
fn blocks_for<'m>(memory: &'m mut Vec<Block>, params: &Params) -> &'m mut [Block] {
    let count = params.block_count();
    if memory.len() < count {
        // Replaced, not extended: never the old and the new buffer at once, no copying.
        *memory = Vec::new();
        *memory = vec![Block::new(); count];
    }
    &mut memory[..count]
}

fn internal(e: impl std::fmt::Display) -> HashError {
    HashError::Internal(e.to_string())
}

/// A PHC string (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`) for `secret` with a fresh salt,
/// computed in `memory`; the same string the `argon2` crate's own hasher produces.
fn hash_in(
    argon: &Argon2<'_>,
    secret: &[u8],
    memory: &mut Vec<Block>,
) -> Result<String, HashError> {
    let params = argon.params();
    let salt = SaltString::generate(&mut OsRng);
    let mut salt_buf = [0u8; Salt::MAX_LENGTH];
    let salt_bytes = salt.decode_b64(&mut salt_buf).map_err(internal)?;
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    let out = out
        .get_mut(..params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN))
        .ok_or_else(|| internal("unsupported Argon2 output length"))?;
    argon
        .hash_password_into_with_memory(secret, salt_bytes, out, blocks_for(memory, params))
        .map_err(internal)?;
    let phc = PasswordHash {
        algorithm: ALGORITHM.ident(),
        version: Some(VERSION.into()),
        params: ParamsString::try_from(params).map_err(internal)?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(out).map_err(internal)?),
    };
    Ok(phc.to_string())
}

/// Whether `secret` matches `hash`, whatever Argon2 variant, version and parameters it
/// names, recomputed in `memory` and compared in constant time. A hash this cannot
/// recompute (unknown algorithm, invalid parameters) matches nothing, as with the
/// `argon2` crate's own verifier.
fn verify_in(secret: &[u8], hash: &PasswordHash<'_>, memory: &mut Vec<Block>) -> bool {
    let (Some(salt), Some(expected)) = (hash.salt, hash.hash) else {
        return false;
    };
    let Ok(algorithm) = Algorithm::try_from(hash.algorithm) else {
        return false;
    };
    let Ok(version) = hash
        .version
        .map_or(Ok(Version::default()), Version::try_from)
    else {
        return false;
    };
    // Also takes the output length from the stored hash.
    let Ok(params) = Params::try_from(hash) else {
        return false;
    };
    let mut salt_buf = [0u8; Salt::MAX_LENGTH];
    let Ok(salt) = salt.decode_b64(&mut salt_buf) else {
        return false;
    };
    let mut out = [0u8; Output::MAX_LENGTH];
    let Some(out) = out.get_mut(..expected.len()) else {
        return false;
    };
    let blocks = blocks_for(memory, &params);
    let computed = Argon2::new(algorithm, version, params)
        .hash_password_into_with_memory(secret, salt, out, blocks);
    computed.is_ok() && bool::from(out.ct_eq(expected.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::PasswordHasher as _;
    use argon2::PasswordVerifier as _;

    fn cheap() -> Argon2Settings {
        Argon2Settings {
            memory_kib: 1024,
            iterations: 1,
            parallelism: 1,
        }
    }

    #[tokio::test]
    async fn a_hash_verifies_only_its_own_password() {
        let hasher = PasswordHasher::new(cheap(), 1, 4).unwrap();
        let hash = hasher
            .hash(&SecretString::from("correct horse"))
            .await
            .unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(hasher
            .verify(&SecretString::from("correct horse"), Some(&hash))
            .await
            .unwrap());
        assert!(!hasher
            .verify(&SecretString::from("wrong horse"), Some(&hash))
            .await
            .unwrap());
    }

    #[tokio::test]
    async fn no_hash_never_verifies() {
        let hasher = PasswordHasher::new(cheap(), 1, 4).unwrap();
        assert!(!hasher
            .verify(&SecretString::from("latchkey dummy password"), None)
            .await
            .unwrap());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn beyond_the_queue_callers_are_told_to_retry() {
        let hasher = PasswordHasher::new(cheap(), 1, 1).unwrap();
        let (started_tx, started) = std::sync::mpsc::channel::<()>();
        let (release, gate) = std::sync::mpsc::channel::<()>();
        // One job runs on the only worker, blocked on the gate ...
        let running = {
            let h = hasher.clone();
            tokio::spawn(async move {
                h.run(move || {
                    let _ = started_tx.send(());
                    gate.recv().is_ok()
                })
                .await
            })
        };
        started.recv().unwrap();
        // ... one waits in the queue ...
        let queued = {
            let h = hasher.clone();
            tokio::spawn(async move { h.run(|| true).await })
        };
        while hasher.in_flight.load(Ordering::Acquire) < 2 {
            tokio::task::yield_now().await;
        }
        // ... and the next is refused at once rather than queued without bound.
        let refused = hasher.verify(&SecretString::from("pw"), None).await;
        assert!(matches!(
            refused,
            Err(HashError::Busy {
                retry_after_secs: 1
            })
        ));
        release.send(()).unwrap();
        assert!(running.await.unwrap().unwrap());
        assert!(queued.await.unwrap().unwrap());
        // Once the queue drains, work is admitted again.
        assert!(!hasher
            .verify(&SecretString::from("pw"), None)
            .await
            .unwrap());
    }

    /// The `argon2` crate's own hasher with these parameters.
    fn stock(algorithm: Algorithm, version: Version, params: Params) -> Argon2<'static> {
        Argon2::new(algorithm, version, params)
    }

    fn stock_hash(argon: &Argon2<'_>, password: &str) -> String {
        let salt = SaltString::generate(&mut OsRng);
        argon
            .hash_password(password.as_bytes(), &salt)
            .unwrap()
            .to_string()
    }

    #[tokio::test]
    async fn our_hashes_verify_with_the_stock_argon2_crate() {
        let hasher = PasswordHasher::new(cheap(), 1, 4).unwrap();
        let hash = hasher
            .hash(&SecretString::from("correct horse"))
            .await
            .unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=1024,t=1,p=1$"),
            "a standard PHC string: {hash}"
        );
        let parsed = PasswordHash::new(&hash).unwrap();
        let verifier = Argon2::default();
        assert!(verifier.verify_password(b"correct horse", &parsed).is_ok());
        assert!(verifier.verify_password(b"wrong horse", &parsed).is_err());
    }

    #[tokio::test]
    async fn stock_hashes_verify_here_whatever_their_parameters() {
        let hasher = PasswordHasher::new(cheap(), 1, 4).unwrap();
        let stored = [
            // As configured.
            stock(
                Algorithm::Argon2id,
                Version::V0x13,
                cheap().params().unwrap(),
            ),
            // More memory than configured (the buffer grows), lanes, another output length.
            stock(
                Algorithm::Argon2id,
                Version::V0x13,
                Params::new(2048, 2, 2, Some(64)).unwrap(),
            ),
            // Less memory, other variants and the old version.
            stock(
                Algorithm::Argon2i,
                Version::V0x10,
                Params::new(256, 3, 1, None).unwrap(),
            ),
            stock(
                Algorithm::Argon2d,
                Version::V0x13,
                Params::new(64, 1, 1, Some(16)).unwrap(),
            ),
        ];
        for argon in &stored {
            let hash = stock_hash(argon, "correct horse");
            assert!(
                hasher
                    .verify(&SecretString::from("correct horse"), Some(&hash))
                    .await
                    .unwrap(),
                "{hash}"
            );
            assert!(
                !hasher
                    .verify(&SecretString::from("correct horsf"), Some(&hash))
                    .await
                    .unwrap(),
                "{hash}"
            );
            assert!(hasher.verify_blocking("correct horse", &hash), "{hash}");
            assert!(!hasher.verify_blocking("", &hash), "{hash}");
        }
    }

    #[test]
    fn a_thread_reuses_one_buffer_grown_only_for_a_larger_hash() {
        // A fresh thread, so that its buffer starts empty.
        std::thread::spawn(|| {
            let argon = stock(
                Algorithm::Argon2id,
                Version::V0x13,
                cheap().params().unwrap(),
            );
            let buffer = || MEMORY.with_borrow(|m| (m.as_ptr(), m.len()));
            let first = with_memory(|m| hash_in(&argon, b"one", m)).unwrap();
            let (at, len) = buffer();
            assert_eq!(len, 1024, "one block per KiB of m");
            let second = with_memory(|m| hash_in(&argon, b"two", m)).unwrap();
            assert_eq!(buffer(), (at, len), "the same buffer again");
            let parsed = PasswordHash::new(&first).unwrap();
            assert!(with_memory(|m| verify_in(b"one", &parsed, m)));
            assert!(!with_memory(|m| verify_in(b"two", &parsed, m)));
            assert_eq!(buffer(), (at, len));
            assert_ne!(first, second);

            let small = stock(
                Algorithm::Argon2id,
                Version::V0x13,
                Params::new(64, 1, 1, None).unwrap(),
            );
            let hash = stock_hash(&small, "one");
            assert!(with_memory(|m| verify_in(
                b"one",
                &PasswordHash::new(&hash).unwrap(),
                m
            )));
            assert_eq!(buffer().1, 1024, "a smaller hash uses part of it");

            let large = stock(
                Algorithm::Argon2id,
                Version::V0x13,
                Params::new(4096, 1, 1, None).unwrap(),
            );
            let hash = stock_hash(&large, "one");
            assert!(with_memory(|m| verify_in(
                b"one",
                &PasswordHash::new(&hash).unwrap(),
                m
            )));
            assert_eq!(buffer().1, 4096, "a larger one replaces it");
        })
        .join()
        .unwrap();
    }

    #[tokio::test]
    async fn a_malformed_or_foreign_hash_matches_nothing() {
        let hasher = PasswordHasher::new(cheap(), 1, 4).unwrap();
        let pw = SecretString::from("correct horse");
        assert!(hasher.verify(&pw, Some("not a hash")).await.is_err());
        // Parses as PHC, but is not something Argon2 can recompute.
        for hash in [
            "$scrypt$ln=16,r=8,p=1$aM15713r3Xsvxbi31lqr1Q$nFNh2CVHVjNldFVKDHDlm4CbdRSCdEBsjjJxD+iCs5E",
            "$argon2id$v=19$m=1,t=1,p=1$c29tZXNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
            "$argon2id$v=19$m=1024,t=1,p=1$c29tZXNhbHQ",
        ] {
            assert!(!hasher.verify(&pw, Some(hash)).await.unwrap(), "{hash}");
            assert!(!hasher.verify_blocking("correct horse", hash), "{hash}");
        }
    }
}

/// Longest password accepted; longer input is refused before hashing (it would only
/// make Argon2 slower).
pub const PASSWORD_MAX_CHARS: usize = 1024;

/// Checks the password field: present and not absurdly long.
pub fn check_password_field(
    field: &'static str,
    password: &SecretString,
) -> Result<(), crate::error::Invalid> {
    let p = password.expose_secret();
    if p.is_empty() {
        return Err(crate::error::Invalid::new(field, "Enter your password."));
    }
    if p.chars().count() > PASSWORD_MAX_CHARS {
        return Err(crate::error::Invalid::new(
            field,
            format!("A password has at most {PASSWORD_MAX_CHARS} characters."),
        ));
    }
    Ok(())
}

/// Checks a new password: long enough (NIST SP 800-63B favours length over composition
/// rules), not absurdly long, and not easy to guess — zxcvbn's estimate, which also
/// penalises the person's own name, username and email (`user_inputs`).
pub fn check_new_password(
    field: &'static str,
    password: &SecretString,
    min_chars: usize,
    user_inputs: &[&str],
) -> Result<(), crate::error::Invalid> {
    use crate::error::Invalid;
    let p = password.expose_secret();
    let chars = p.chars().count();
    if chars < min_chars {
        return Err(Invalid::new(
            field,
            format!(
                "Use at least {min_chars} characters. A few unrelated words make a good password."
            ),
        ));
    }
    if chars > PASSWORD_MAX_CHARS {
        return Err(Invalid::new(
            field,
            format!("A password has at most {} characters.", PASSWORD_MAX_CHARS),
        ));
    }
    // Each word of a name or address on its own: "Alice Ashdown" rules out "alice" and
    // "ashdown" anywhere in the password (NIST SP 800-63B: context-specific words).
    let words: Vec<String> = user_inputs
        .iter()
        .flat_map(|input| input.split(|c: char| !c.is_alphanumeric()))
        .filter(|w| w.chars().count() >= 4)
        .map(str::to_lowercase)
        .collect();
    let lower = p.to_lowercase();
    if words.iter().any(|w| lower.contains(w.as_str())) {
        return Err(Invalid::new(
            field,
            "Do not use your name, username or email address in your password.",
        ));
    }
    let word_refs: Vec<&str> = words.iter().map(String::as_str).collect();
    let estimate = zxcvbn::zxcvbn(p, &word_refs);
    if u8::from(estimate.score()) < 3 {
        let mut message = "This password is too easy to guess.".to_owned();
        if let Some(feedback) = estimate.feedback() {
            if let Some(warning) = feedback.warning() {
                message = format!("This password is too easy to guess: {warning}");
                if !message.ends_with('.') {
                    message.push('.');
                }
            }
            for suggestion in feedback.suggestions() {
                message.push(' ');
                message.push_str(&suggestion.to_string());
            }
        }
        return Err(Invalid::new(field, message));
    }
    Ok(())
}

#[cfg(test)]
mod new_password_tests {
    use super::*;

    fn check(p: &str) -> Result<(), crate::error::Invalid> {
        check_new_password(
            "password",
            &SecretString::from(p),
            12,
            &["alice", "Alice Ashdown", "alice@example.org"],
        )
    }

    #[test]
    fn short_guessable_and_personal_passwords_are_refused_with_a_reason() {
        assert!(check("short").unwrap_err().message.contains("at least 12"));
        assert!(check("passwordpassword")
            .unwrap_err()
            .message
            .contains("too easy to guess"));
        assert!(
            check("aliceashdown2026").is_err(),
            "built from the person's own name"
        );
        assert!(check("purple-otter-ladder-quietly").is_ok());
        assert_eq!(check("x").unwrap_err().field, "password");
    }
}
