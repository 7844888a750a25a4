//! Which factors self-service asks on each channel, and in what order: the rule that makes
//! such a flow usable. Operators set flows with `latchkey auth-flow set` and the console;
//! both go through [`validate_auth_flow`].

use latchkey_types::FactorKind;
pub use latchkey_types::FlowScope;

use crate::error::Invalid;

/// A usable flow: not empty, no factor twice, and at least one that proves identity.
pub fn validate_auth_flow(factors: &[FactorKind]) -> Result<(), Invalid> {
    if factors.is_empty() {
        return Err(Invalid::new("factors", "Choose at least one factor."));
    }
    for (i, f) in factors.iter().enumerate() {
        if factors[..i].contains(f) {
            return Err(Invalid::new(
                "factors",
                format!("{} is listed twice.", f.as_str()),
            ));
        }
    }
    if !factors.iter().any(|f| f.proves_identity()) {
        return Err(Invalid::new(
            "factors",
            "A captcha alone does not prove who someone is: add security questions, an email code or an authenticator.",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth_flows_must_prove_identity() {
        assert!(validate_auth_flow(&[]).is_err());
        assert!(validate_auth_flow(&[FactorKind::Captcha]).is_err());
        assert!(validate_auth_flow(&[FactorKind::Totp, FactorKind::Totp]).is_err());
        assert!(validate_auth_flow(&[FactorKind::Captcha, FactorKind::SecurityQuestions]).is_ok());
    }
}
