//! Authenticator apps (TOTP, RFC 6238: SHA-1, 6 digits, 30-second steps, one step of
//! clock skew either way). The secret is encrypted at rest with a key from configuration,
//! and the last time step accepted is stored, so a code — even a still-valid one — is
//! never accepted twice for the same account.

use async_trait::async_trait;
use qrcode::render::svg;
use qrcode::QrCode;
use serde::{Deserialize, Serialize};
use totp_rs::{Algorithm, Builder, Totp};

use super::{Answer, Factor, FactorContext, FactorKind, FlowSubject, Prompt, Verdict};
use crate::error::{CoreError, Invalid};
use crate::keys::Keys;

/// Bytes of secret (160 bits, RFC 4226's recommendation).
pub const SECRET_BYTES: usize = 20;

/// Builds the RFC 6238 generator for a secret.
pub fn generator(secret: &[u8], issuer: &str, account: &str) -> Result<Totp, CoreError> {
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_skew(1)
        .with_step_duration(30)
        .with_secret(secret.to_vec())
        .with_issuer(Some(issuer.replace(':', " ")))
        .with_account_name(account.replace(':', " "))
        .build()
        .map_err(|e| CoreError::Internal(format!("cannot build TOTP: {e}")))
}

/// Checks the shape of a typed code: six digits (spaces allowed, as apps show them).
pub fn parse_code(field: &'static str, code: &str) -> Result<String, Invalid> {
    let digits: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if digits.len() != 6 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Invalid::new(
            field,
            "Enter the 6-digit code your authenticator app shows.",
        ));
    }
    Ok(digits)
}

/// The step `code` is valid for at `unix_time`, if it is valid and newer than
/// `last_used_step`.
pub fn accept(totp: &Totp, code: &str, unix_time: u64, last_used_step: u64) -> Option<u64> {
    totp.check(code, unix_time)
        .filter(|step| *step > last_used_step)
}

/// The enrolment QR code (an `otpauth://` URL) as an SVG document.
pub fn qr_svg(totp: &Totp) -> Result<String, CoreError> {
    let url = totp
        .to_url()
        .map_err(|e| CoreError::Internal(format!("cannot build the otpauth URL: {e}")))?;
    let code = QrCode::new(url.as_bytes())
        .map_err(|e| CoreError::Internal(format!("cannot build the QR code: {e}")))?;
    Ok(code
        .render::<svg::Color<'_>>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build())
}

/// Opens a stored secret.
pub fn open(keys: &Keys, sealed: &[u8]) -> Result<Vec<u8>, CoreError> {
    keys.open_totp(sealed)
        .map_err(|e| CoreError::Internal(e.to_string()))
}

#[derive(Debug, Serialize, Deserialize)]
struct Kept {}

pub struct TotpFactor;

#[async_trait]
impl Factor for TotpFactor {
    fn kind(&self) -> FactorKind {
        FactorKind::Totp
    }

    async fn prepare(
        &self,
        _cx: &mut FactorContext<'_>,
    ) -> Result<(Prompt, serde_json::Value), CoreError> {
        Ok((Prompt::Totp, serde_json::json!(Kept {})))
    }

    async fn verify(
        &self,
        cx: &mut FactorContext<'_>,
        _state: &serde_json::Value,
        answer: &Answer,
    ) -> Result<Verdict, CoreError> {
        let Answer::Totp { code } = answer else {
            return Ok(Verdict::Wrong);
        };
        let code = parse_code("code", code)?;
        let FlowSubject::Account(account) = cx.subject else {
            return Ok(Verdict::Wrong);
        };
        let Some(credential) = cx.tx.totp_credential(account.id).await? else {
            return Ok(Verdict::Wrong);
        };
        let Some(sealed) = &credential.sealed_secret else {
            return Ok(Verdict::Wrong);
        };
        let secret = open(cx.keys, sealed)?;
        let totp = generator(&secret, "Latchkey", account.username.as_str())?;
        let now = u64::try_from(cx.now.unix_timestamp()).unwrap_or(0);
        match accept(&totp, &code, now, credential.last_used_step) {
            Some(step) => {
                cx.tx.set_totp_last_step(account.id, step).await?;
                Ok(Verdict::Passed)
            }
            None => Ok(Verdict::Wrong),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn totp() -> Totp {
        generator(b"12345678901234567890", "Latchkey", "alice").unwrap()
    }

    #[test]
    fn rfc_6238_vectors() {
        // RFC 6238 appendix B, SHA-1, truncated to 6 digits.
        let t = totp();
        assert_eq!(t.generate(59).to_string(), "287082");
        assert_eq!(t.generate(1_111_111_109).to_string(), "081804");
    }

    #[test]
    fn a_code_is_accepted_once_within_one_step_of_skew() {
        let t = totp();
        let now = 1_111_111_109;
        let code = t.generate(now).to_string();
        let step = accept(&t, &code, now, 0).unwrap();
        assert_eq!(accept(&t, &code, now, step), None, "replay refused");
        // The previous step's code is still fine 30 s later, once.
        let next = now + 30;
        assert_eq!(accept(&t, &code, next, 0), Some(step));
        assert_eq!(accept(&t, &code, now + 90, 0), None, "too old");
        // A later code after an earlier one is fine.
        let later = t.generate(now + 30).to_string();
        assert!(accept(&t, &later, now + 30, step).is_some());
    }

    #[test]
    fn codes_must_be_six_digits() {
        assert_eq!(parse_code("code", "123 456").unwrap(), "123456");
        for bad in ["", "12345", "1234567", "12345a", "１２３４５６"] {
            assert!(parse_code("code", bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn enrolment_qr_is_svg() {
        let svg = qr_svg(&totp()).unwrap();
        assert!(
            svg.starts_with("<?xml") || svg.starts_with("<svg"),
            "{}",
            &svg[..40]
        );
        assert!(svg.contains("<svg"));
    }
}
