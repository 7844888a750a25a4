//! The server's secret key and the purpose-bound keys derived from it.
//!
//! One master key (from configuration, or generated once into a file next to the
//! database) is expanded with HKDF-SHA256 into a separate key per purpose, so that no key
//! is used for two things: signing captcha challenges, deriving decoy questions, keying
//! one-time-code hashes, encrypting authenticator secrets at rest, and encrypting the
//! one-time codes that wait in the outbox for their mail to be sent.

use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::random::{self, Random};

/// Bytes in the master key and in each derived key.
pub const KEY_BYTES: usize = 32;

/// The master key. Never logged, never sent anywhere.
#[derive(Clone)]
pub struct MasterKey([u8; KEY_BYTES]);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(..)")
    }
}

impl MasterKey {
    pub fn from_bytes(bytes: [u8; KEY_BYTES]) -> Self {
        Self(bytes)
    }

    pub fn generate(random: &dyn Random) -> Self {
        Self(random::array(random))
    }

    pub fn as_bytes(&self) -> &[u8; KEY_BYTES] {
        &self.0
    }

    /// All purpose-bound keys.
    pub fn derive(&self) -> Keys {
        let hk = Hkdf::<Sha256>::new(Some(b"latchkey keys v1"), &self.0);
        let expand = |info: &[u8]| {
            let mut out = [0u8; KEY_BYTES];
            // Expanding 32 bytes from SHA-256 cannot fail (the limit is 255 * 32).
            let _ = hk.expand(info, &mut out);
            out
        };
        Keys {
            captcha: expand(b"captcha hmac"),
            decoy: expand(b"decoy derivation"),
            codes: expand(b"one-time code hmac"),
            totp: expand(b"totp secret encryption"),
            outbox: expand(b"outbox code encryption"),
        }
    }
}

/// Keys derived from the master key, one per purpose.
#[derive(Clone)]
pub struct Keys {
    captcha: [u8; KEY_BYTES],
    decoy: [u8; KEY_BYTES],
    codes: [u8; KEY_BYTES],
    totp: [u8; KEY_BYTES],
    outbox: [u8; KEY_BYTES],
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keys(..)")
    }
}

/// A fresh HMAC-SHA256 instance under `key`.
#[allow(clippy::expect_used)] // HMAC accepts keys of every length; this cannot fail.
fn mac(key: &[u8]) -> Hmac<Sha256> {
    <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes keys of any length")
}

/// HMAC over length-prefixed parts, so that ("ab", "c") and ("a", "bc") differ.
fn hmac_parts(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut m = mac(key);
    for p in parts {
        m.update(&(p.len() as u64).to_be_bytes());
        m.update(p);
    }
    m.finalize().into_bytes().into()
}

#[derive(Debug, thiserror::Error)]
#[error("cannot decrypt a stored secret (wrong key or corrupted data)")]
pub struct DecryptError;

impl Keys {
    /// HMAC-SHA256 for captcha challenges (the ALTCHA signature).
    pub fn captcha_mac(&self, message: &[u8]) -> [u8; 32] {
        let mut m = mac(&self.captcha);
        m.update(message);
        m.finalize().into_bytes().into()
    }

    /// A stable pseudo-random value for `parts`, for decoys and stable question choices.
    pub fn decoy(&self, parts: &[&[u8]]) -> [u8; 32] {
        hmac_parts(&self.decoy, parts)
    }

    /// The stored form of a one-time code: keyed, so a database copy alone cannot
    /// brute-force the few million possible codes.
    pub fn code_hash(&self, parts: &[&[u8]]) -> [u8; 32] {
        hmac_parts(&self.codes, parts)
    }

    /// Encrypts an authenticator secret: a random nonce followed by the ciphertext.
    pub fn seal_totp(&self, random: &dyn Random, plaintext: &[u8]) -> Vec<u8> {
        seal(&self.totp, random, plaintext)
    }

    pub fn open_totp(&self, sealed: &[u8]) -> Result<Vec<u8>, DecryptError> {
        open(&self.totp, sealed)
    }

    /// Encrypts a one-time code for the outbox, so that neither the table, nor SQLite's
    /// write-ahead log, nor a backup of the database holds a usable code.
    pub fn seal_outbox_code(&self, random: &dyn Random, code: &str) -> Vec<u8> {
        seal(&self.outbox, random, code.as_bytes())
    }

    pub fn open_outbox_code(&self, sealed: &[u8]) -> Result<String, DecryptError> {
        String::from_utf8(open(&self.outbox, sealed)?).map_err(|_| DecryptError)
    }
}

/// ChaCha20-Poly1305 under `key`: a random nonce followed by the ciphertext and tag.
fn seal(key: &[u8; KEY_BYTES], random: &dyn Random, plaintext: &[u8]) -> Vec<u8> {
    let cipher = ChaCha20Poly1305::new(Key::from_slice(key));
    let nonce: [u8; 12] = random::array(random);
    match cipher.encrypt(Nonce::from_slice(&nonce), plaintext) {
        Ok(ct) => [nonce.as_slice(), ct.as_slice()].concat(),
        // Encryption of a short buffer cannot fail; an empty result fails to open.
        Err(_) => Vec::new(),
    }
}

fn open(key: &[u8; KEY_BYTES], sealed: &[u8]) -> Result<Vec<u8>, DecryptError> {
    if sealed.len() < 12 {
        return Err(DecryptError);
    }
    let (nonce, ct) = sealed.split_at(12);
    ChaCha20Poly1305::new(Key::from_slice(key))
        .decrypt(Nonce::from_slice(nonce), ct)
        .map_err(|_| DecryptError)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::SeededRandom;

    #[test]
    fn derived_keys_differ_by_purpose() {
        let keys = MasterKey::from_bytes([7; 32]).derive();
        assert_ne!(keys.captcha, keys.decoy);
        assert_ne!(keys.codes, keys.totp);
        assert_eq!(keys.decoy(&[b"alice"]), keys.decoy(&[b"alice"]));
        assert_ne!(keys.decoy(&[b"alice"]), keys.decoy(&[b"alicf"]));
        // Length-prefixed parts: ("ab","c") is not ("a","bc").
        assert_ne!(keys.decoy(&[b"ab", b"c"]), keys.decoy(&[b"a", b"bc"]));
    }

    #[test]
    fn totp_secrets_round_trip_and_resist_tampering() {
        let r = SeededRandom::new(3);
        let keys = MasterKey::generate(&r).derive();
        let sealed = keys.seal_totp(&r, b"12345678901234567890");
        assert_eq!(keys.open_totp(&sealed).unwrap(), b"12345678901234567890");
        let mut bad = sealed.clone();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        assert!(keys.open_totp(&bad).is_err());
        let other = MasterKey::generate(&r).derive();
        assert!(other.open_totp(&sealed).is_err());
    }

    #[test]
    fn outbox_codes_are_sealed_under_their_own_key() {
        let r = SeededRandom::new(4);
        let keys = MasterKey::generate(&r).derive();
        let sealed = keys.seal_outbox_code(&r, "483920");
        assert!(!sealed.windows(6).any(|w| w == b"483920"));
        assert_eq!(keys.open_outbox_code(&sealed).unwrap(), "483920");
        assert!(keys.open_totp(&sealed).is_err(), "one key per purpose");
    }
}
