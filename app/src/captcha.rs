//! Solving the proof-of-work captcha in the browser: try numbers until
//! `SHA-256(salt ‖ n)` equals the challenge, yielding to the browser between batches so
//! the page stays responsive and the progress bar moves.

use sha2::{Digest, Sha256};

use latchkey_types::{CaptchaChallenge, CaptchaSolution};

/// Numbers tried between two yields to the browser: about 30 ms of work, few enough
/// yields that the browser's minimum timer delay (4 ms) costs little.
const BATCH: u64 = 10_000;

/// Searches `from..to` for the number; `None` if it is not in that range.
pub fn search(challenge: &CaptchaChallenge, from: u64, to: u64) -> Option<u64> {
    let target = hex::decode(&challenge.challenge).ok()?;
    let mut prefix = Sha256::new();
    prefix.update(challenge.salt.as_bytes());
    let mut digits = [0u8; 20];
    (from..to).find(|n| {
        let mut h = prefix.clone();
        h.update(format_u64(*n, &mut digits));
        h.finalize().as_slice() == target.as_slice()
    })
}

/// `n` in decimal, without allocating.
fn format_u64(mut n: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    &buf[i..]
}

/// Solves `challenge`, calling `progress` with the share of the search done (0.0–1.0).
pub async fn solve(
    challenge: &CaptchaChallenge,
    mut progress: impl FnMut(f64),
) -> Option<CaptchaSolution> {
    let max = challenge.maxnumber;
    let mut from = 0;
    while from <= max {
        let to = (from + BATCH).min(max + 1);
        if let Some(number) = search(challenge, from, to) {
            progress(1.0);
            return Some(CaptchaSolution {
                algorithm: challenge.algorithm.clone(),
                challenge: challenge.challenge.clone(),
                number,
                salt: challenge.salt.clone(),
                signature: challenge.signature.clone(),
            });
        }
        from = to;
        progress(from as f64 / (max + 1) as f64);
        next_tick().await;
    }
    None
}

/// Lets the browser paint and handle input before the next batch.
async fn next_tick() {
    let promise = js_sys::Promise::new(&mut |resolve, _reject| {
        if let Some(window) = web_sys::window() {
            let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 0);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_number_the_server_hid() {
        let salt = "abc?expires=1".to_owned();
        let number = 4_321u64;
        let challenge = hex::encode(Sha256::digest(format!("{salt}{number}").as_bytes()));
        let c = CaptchaChallenge {
            algorithm: "SHA-256".into(),
            challenge,
            maxnumber: 10_000,
            salt,
            signature: "sig".into(),
        };
        assert_eq!(search(&c, 0, 10_001), Some(4_321));
        assert_eq!(search(&c, 0, 4_321), None);
        let mut buf = [0u8; 20];
        assert_eq!(format_u64(0, &mut buf), b"0");
        assert_eq!(format_u64(u64::MAX, &mut buf), b"18446744073709551615");
    }
}
