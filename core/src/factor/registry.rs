//! Which module implements each factor kind: the one place that knows them all.

use super::{captcha, email_code, questions, totp, Factor, FactorKind};

/// The implementation of a factor kind.
pub fn implementation(kind: FactorKind) -> &'static dyn Factor {
    match kind {
        FactorKind::Captcha => &captcha::CaptchaFactor,
        FactorKind::SecurityQuestions => &questions::QuestionsFactor,
        FactorKind::Totp => &totp::TotpFactor,
        FactorKind::EmailCode => &email_code::EmailCodeFactor,
    }
}
