//! Argon2id password hashing on a bounded pool.
//!
//! Argon2 is deliberately expensive, so an unbounded number of concurrent sign-ins would
//! exhaust memory and starve everything else. `workers` dedicated threads hash (one per
//! core by default), at most `queue` more jobs wait, and anything beyond that is refused
//! at once with [`HashError::Busy`] so the client can retry, instead of piling up.
//! Dedicated threads (rather than tokio's blocking pool) keep each thread's 19 MiB of
//! Argon2 memory warm in its allocator, which the benchmark shows is worth about 10 %.

use std::sync::Arc;

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher as _, SaltString};
use argon2::{Algorithm, Argon2, Params, PasswordVerifier, Version};
use crossbeam_channel::{Sender, TrySendError};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use tokio::sync::oneshot;

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
    /// Jobs waiting for a worker; bounded, so a full queue means "busy".
    jobs: Sender<Job>,
    /// Verified against when there is no real hash, so unknown users cost the same.
    dummy_hash: Arc<str>,
}

impl std::fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordHasher")
            .field("queued", &self.jobs.len())
            .finish()
    }
}

impl PasswordHasher {
    /// `workers` threads hash at once (one per core is right: Argon2 is pure CPU and
    /// memory bandwidth), `queue` more jobs may wait.
    pub fn new(settings: Argon2Settings, workers: usize, queue: usize) -> Result<Self, HashError> {
        let params = settings.params().map_err(HashError::Internal)?;
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let salt = SaltString::generate(&mut OsRng);
        let dummy_hash = argon
            .hash_password(b"latchkey dummy password", &salt)
            .map_err(|e| HashError::Internal(e.to_string()))?
            .to_string();
        // A zero-capacity channel is a rendezvous: a job is taken only by an idle worker.
        let (jobs, queue_rx) = crossbeam_channel::bounded::<Job>(queue);
        for n in 0..workers.max(1) {
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
        Ok(Self {
            argon: Arc::new(argon),
            jobs,
            dummy_hash: dummy_hash.into(),
        })
    }

    /// Hashes a new secret with a fresh random salt into a PHC string.
    pub async fn hash(&self, secret: &SecretString) -> Result<String, HashError> {
        let argon = Arc::clone(&self.argon);
        let secret = SecretString::from(secret.expose_secret());
        self.run(move || {
            let salt = SaltString::generate(&mut OsRng);
            argon
                .hash_password(secret.expose_secret().as_bytes(), &salt)
                .map(|h| h.to_string())
                .map_err(|e| HashError::Internal(e.to_string()))
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
        let argon = Arc::clone(&self.argon);
        let secret = SecretString::from(secret.expose_secret());
        let (hash, real): (Arc<str>, bool) = match hash {
            Some(h) => (Arc::from(h), true),
            None => (Arc::clone(&self.dummy_hash), false),
        };
        self.run(move || {
            let parsed =
                PasswordHash::new(&hash).map_err(|e| HashError::Internal(e.to_string()))?;
            let ok = argon
                .verify_password(secret.expose_secret().as_bytes(), &parsed)
                .is_ok();
            Ok(ok && real)
        })
        .await?
    }

    /// Verifies on the calling thread, without the pool; for the benchmark's baseline.
    pub fn verify_blocking(&self, secret: &str, hash: &str) -> bool {
        PasswordHash::new(hash)
            .map(|parsed| {
                self.argon
                    .verify_password(secret.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false)
    }

    /// Runs `job` on a worker and waits for its result, or refuses at once when the
    /// queue is full.
    async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, HashError> {
        let (reply, result) = oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = reply.send(job());
        });
        self.jobs.try_send(job).map_err(|e| match e {
            TrySendError::Full(_) => HashError::Busy {
                retry_after_secs: BUSY_RETRY_AFTER_SECS,
            },
            TrySendError::Disconnected(_) => {
                HashError::Internal("the hashing pool has stopped".into())
            }
        })?;
        result
            .await
            .map_err(|_| HashError::Internal("a hashing job was lost".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        while hasher.jobs.is_empty() {
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
}
