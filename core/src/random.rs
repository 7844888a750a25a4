//! Injected randomness, so tests can make tokens and codes predictable.

use std::sync::Mutex;

use rand::{RngCore, SeedableRng};

/// A source of cryptographically secure random bytes.
pub trait Random: Send + Sync + 'static {
    fn fill(&self, buf: &mut [u8]);
}

/// The operating system's generator (through rand's thread-local CSPRNG).
#[derive(Debug, Default, Clone, Copy)]
pub struct OsRandom;

impl Random for OsRandom {
    fn fill(&self, buf: &mut [u8]) {
        rand::rng().fill_bytes(buf);
    }
}

/// A seeded generator: the same seed gives the same bytes. Tests only.
#[derive(Debug)]
pub struct SeededRandom(Mutex<rand::rngs::StdRng>);

impl SeededRandom {
    pub fn new(seed: u64) -> Self {
        Self(Mutex::new(rand::rngs::StdRng::seed_from_u64(seed)))
    }
}

impl Random for SeededRandom {
    fn fill(&self, buf: &mut [u8]) {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .fill_bytes(buf);
    }
}

/// Fills a fixed-size array from a `dyn Random`.
pub fn array<const N: usize>(random: &dyn Random) -> [u8; N] {
    let mut b = [0u8; N];
    random.fill(&mut b);
    b
}
