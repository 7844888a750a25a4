//! Opaque bearer tokens: 256 random bits, base64url, held by the browser; the server
//! keeps only their SHA-256. One type per use (`Token<Session>`, `Token<Flow>`), so a
//! flow's token can never be taken for a session's.

use std::marker::PhantomData;

use base64::Engine as _;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

use crate::random::{self, Random};

/// Bytes of randomness in a token.
const TOKEN_BYTES: usize = 32;
/// Characters of a token: base64url without padding of 32 bytes.
const TOKEN_CHARS: usize = 43;

pub struct Token<Use> {
    secret: SecretString,
    _use: PhantomData<Use>,
}

impl<Use> Clone for Token<Use> {
    fn clone(&self) -> Self {
        Self {
            secret: self.secret.clone(),
            _use: PhantomData,
        }
    }
}

impl<Use> std::fmt::Debug for Token<Use> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(..)")
    }
}

impl<Use> Token<Use> {
    pub fn generate(random: &dyn Random) -> Self {
        let bytes: [u8; TOKEN_BYTES] = random::array(random);
        Self::wrap(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
    }

    /// Accepts only the exact shape of a token we issue; anything else is no token.
    pub fn parse(value: &str) -> Option<Self> {
        let ok = value.len() == TOKEN_CHARS
            && value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        ok.then(|| Self::wrap(value.to_owned()))
    }

    fn wrap(value: String) -> Self {
        Self {
            secret: SecretString::from(value),
            _use: PhantomData,
        }
    }

    /// The value the browser holds.
    pub fn expose(&self) -> &str {
        self.secret.expose_secret()
    }

    /// What the database stores and looks the token up by.
    pub fn id_hash(&self) -> String {
        hex::encode(Sha256::digest(self.secret.expose_secret().as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::SeededRandom;

    struct Test;

    #[test]
    fn tokens_are_random_and_parse_back() {
        let r = SeededRandom::new(1);
        let a = Token::<Test>::generate(&r);
        let b = Token::<Test>::generate(&r);
        assert_ne!(a.expose(), b.expose());
        assert_eq!(
            Token::<Test>::parse(a.expose()).map(|t| t.id_hash()),
            Some(a.id_hash())
        );
        assert!(Token::<Test>::parse("short").is_none());
        assert!(Token::<Test>::parse(&"=".repeat(43)).is_none());
        assert_ne!(a.id_hash(), a.expose(), "only the hash is stored");
    }
}
