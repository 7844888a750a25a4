//! What people enrol to prove who they are, as stored: security questions and answers
//! (with the organisation's catalogue and rule) and the authenticator. Plain values and
//! the normalisation rule; the factors that check them live in `crate::factor`.

pub use latchkey_types::{CatalogueQuestion, QuestionChoice};
use unicode_normalization::UnicodeNormalization;

/// Longest answer accepted (after normalisation) — well beyond any real answer.
pub const ANSWER_MAX_CHARS: usize = 200;
/// Shortest and longest custom question.
pub const CUSTOM_QUESTION_CHARS: (usize, usize) = (10, 200);

/// Questions every new organisation starts with; also the decoys' source when no
/// organisation exists yet.
pub const DEFAULT_CATALOGUE: &[&str] = &[
    "What was the name of your first school?",
    "In which town or city were you born?",
    "What was the make of your first car or bicycle?",
    "What is the name of the street you grew up on?",
    "What was the name of your childhood best friend?",
    "What was your first job?",
    "What is your favourite book?",
    "In which city did your parents meet?",
];

/// An organisation's rule for security questions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuestionPolicy {
    /// How many questions a person enrols.
    pub to_enrol: u32,
    /// How many of them self-service asks.
    pub to_ask: u32,
    /// Shortest acceptable answer, in characters after normalisation.
    pub min_answer_chars: u32,
}

impl Default for QuestionPolicy {
    fn default() -> Self {
        Self {
            to_enrol: 3,
            to_ask: 2,
            min_answer_chars: 3,
        }
    }
}

/// An enrolled question with its answer's hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAnswer {
    pub id: i64,
    pub question: String,
    pub answer_hash: String,
}

/// A question and answer hash to store.
#[derive(Debug, Clone)]
pub struct NewAnswer {
    pub question: QuestionChoice,
    pub answer_hash: String,
}

/// The form in which answers are compared.
pub fn normalise_answer(answer: &str) -> String {
    let folded: String = answer.nfkc().collect::<String>().to_lowercase();
    let folded: String = folded.nfkc().collect();
    folded.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// An account's authenticator, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TotpCredential {
    /// Nonce and ciphertext of the confirmed secret; `None` until a code has confirmed one.
    pub sealed_secret: Option<Vec<u8>>,
    pub confirmed_at: Option<time::OffsetDateTime>,
    /// The last 30-second step whose code was accepted.
    pub last_used_step: u64,
    /// A secret being set up, not yet confirmed.
    pub pending_secret: Option<Vec<u8>>,
}

/// An account's recovery address, as stored: where self-service codes go instead of
/// the registered (work) address, once a code sent to it has confirmed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecoveryEmail {
    /// The confirmed address, if any.
    pub address: Option<crate::account::Email>,
    pub confirmed_at: Option<time::OffsetDateTime>,
    /// An address waiting for its code, and that code's id.
    pub pending: Option<(crate::account::Email, i64)>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_normalised_before_hashing() {
        assert_eq!(
            normalise_answer("  Springfield   Elementary "),
            "springfield elementary"
        );
        assert_eq!(normalise_answer("ＭＡＩＮ\tStreet"), "main street");
        assert_eq!(normalise_answer("Straße"), "straße");
        assert_eq!(normalise_answer("É"), normalise_answer("E\u{301}"));
    }
}
