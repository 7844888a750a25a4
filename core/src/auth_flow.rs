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

/// Alternatives that fit `factors`: each replaces a factor of the flow that proves
/// identity with another that does and is not already asked, at most one each.
pub fn validate_alternatives(
    factors: &[FactorKind],
    alternatives: &[(FactorKind, FactorKind)],
) -> Result<(), Invalid> {
    for (i, (factor, instead)) in alternatives.iter().enumerate() {
        let name = format!("{}/{}", factor.as_str(), instead.as_str());
        if !factors.contains(factor) {
            return Err(Invalid::new(
                "factors",
                format!("{name}: {} is not in the flow.", factor.as_str()),
            ));
        }
        if !factor.proves_identity() || !instead.proves_identity() {
            return Err(Invalid::new(
                "factors",
                format!("{name}: only factors that prove identity can replace each other."),
            ));
        }
        if factors.contains(instead) {
            return Err(Invalid::new(
                "factors",
                format!("{name}: {} is already asked.", instead.as_str()),
            ));
        }
        if alternatives[..i].iter().any(|(f, _)| f == factor) {
            return Err(Invalid::new(
                "factors",
                format!("{name}: {} already has an alternative.", factor.as_str()),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alternatives_replace_an_identity_factor_with_one_not_asked() {
        use FactorKind::*;
        let flow = [Captcha, EmailCode];
        assert!(validate_alternatives(&flow, &[(EmailCode, SecurityQuestions)]).is_ok());
        assert!(validate_alternatives(&flow, &[(Totp, SecurityQuestions)]).is_err());
        assert!(validate_alternatives(&flow, &[(Captcha, SecurityQuestions)]).is_err());
        assert!(validate_alternatives(&flow, &[(EmailCode, Captcha)]).is_err());
        assert!(validate_alternatives(&[EmailCode, Totp], &[(EmailCode, Totp)]).is_err());
        assert!(
            validate_alternatives(&flow, &[(EmailCode, SecurityQuestions), (EmailCode, Totp)])
                .is_err()
        );
    }

    #[test]
    fn auth_flows_must_prove_identity() {
        assert!(validate_auth_flow(&[]).is_err());
        assert!(validate_auth_flow(&[FactorKind::Captcha]).is_err());
        assert!(validate_auth_flow(&[FactorKind::Totp, FactorKind::Totp]).is_err());
        assert!(validate_auth_flow(&[FactorKind::Captcha, FactorKind::SecurityQuestions]).is_ok());
    }
}
