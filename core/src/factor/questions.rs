//! Security questions: the administrator's catalogue plus a person's own custom
//! questions. Answers are normalised (Unicode NFKC, case folded, surrounding space
//! trimmed, inner runs of space collapsed) and hashed with Argon2id.
//!
//! Which questions are asked is unpredictable but stable: a keyed hash of the account and
//! its enrolment picks the subset, so starting again does not let anyone collect more
//! answers, and it matches the decoys, which are derived from the typed name the same way.

use async_trait::async_trait;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use super::{
    AheadContext, Answer, Checked, Factor, FactorContext, FactorKind, FlowSubject, Prompt, Verdict,
};
use crate::credentials::{
    normalise_answer, CatalogueQuestion, QuestionPolicy, ANSWER_MAX_CHARS, DEFAULT_CATALOGUE,
};
use crate::error::{CoreError, FlowError, Invalid};
use crate::keys::Keys;
use crate::store::FactorsRead;

/// Picks `count` items from `items` in an order fixed by `seed`.
fn pick<T: Clone>(items: &[T], count: usize, seed: [u8; 32]) -> Vec<T> {
    let mut shuffled = items.to_vec();
    shuffled.shuffle(&mut rand::rngs::StdRng::from_seed(seed));
    shuffled.truncate(count);
    shuffled
}

/// The decoy questions for a name that has no usable answers.
fn decoys(keys: &Keys, name: &str, catalogue: &[CatalogueQuestion], count: usize) -> Vec<String> {
    let texts: Vec<String> = if catalogue.is_empty() {
        DEFAULT_CATALOGUE.iter().map(|s| (*s).to_owned()).collect()
    } else {
        catalogue.iter().map(|q| q.text.clone()).collect()
    };
    pick(
        &texts,
        count,
        keys.decoy(&[b"security questions", name.as_bytes()]),
    )
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Kept {
    /// The enrolled answers asked, in order.
    Real { answer_ids: Vec<i64> },
    /// Decoy questions: every answer is wrong.
    Decoy { count: usize },
}

pub struct QuestionsFactor;

#[async_trait]
impl Factor for QuestionsFactor {
    fn kind(&self) -> FactorKind {
        FactorKind::SecurityQuestions
    }

    async fn prepare(
        &self,
        cx: &mut FactorContext<'_>,
    ) -> Result<(Prompt, serde_json::Value), CoreError> {
        let (org, enrolled) = match cx.subject {
            FlowSubject::Account(a) => {
                (Some(a.organisation_id), cx.tx.security_answers(a.id).await?)
            }
            FlowSubject::Unknown { .. } => (cx.tx.default_organisation().await?, Vec::new()),
        };
        let (policy, catalogue) = match org {
            Some(org) => (
                cx.tx.question_policy(org).await?,
                cx.tx.question_catalogue(org).await?,
            ),
            None => (QuestionPolicy::default(), Vec::new()),
        };
        let count = policy.to_ask.max(1) as usize;
        if let (FlowSubject::Account(a), true) = (cx.subject, enrolled.len() >= count) {
            let ids: Vec<u8> = enrolled.iter().flat_map(|e| e.id.to_be_bytes()).collect();
            let seed = cx
                .keys
                .decoy(&[b"asked questions", &a.id.0.to_be_bytes(), &ids]);
            let mut asked = pick(&enrolled, count, seed);
            asked.sort_by_key(|e| e.id);
            let prompt = Prompt::SecurityQuestions {
                questions: asked.iter().map(|e| e.question.clone()).collect(),
            };
            let kept = Kept::Real {
                answer_ids: asked.iter().map(|e| e.id).collect(),
            };
            return Ok((prompt, serde_json::json!(kept)));
        }
        let questions = decoys(cx.keys, &cx.subject.decoy_seed(), &catalogue, count);
        let kept = Kept::Decoy {
            count: questions.len(),
        };
        Ok((
            Prompt::SecurityQuestions { questions },
            serde_json::json!(kept),
        ))
    }

    /// Hashes every answer (Argon2) before the transaction: against the enrolled answers
    /// as they are now, read on a connection that is given back first.
    async fn check_ahead(
        &self,
        cx: &AheadContext<'_>,
        state: &serde_json::Value,
        answer: &Answer,
    ) -> Result<Option<Checked>, CoreError> {
        let Answer::SecurityQuestions { answers } = answer else {
            return Ok(None);
        };
        let kept: Kept = super::state(state)?;
        let hashes = {
            let mut read = cx.store.read().await?;
            asked_hashes(read.as_mut(), &kept, cx.subject).await?
        };
        if answers.len() != hashes.len() {
            return Err(Invalid::new("answers", "Answer every question.").into());
        }
        if answers.iter().any(|a| a.chars().count() > ANSWER_MAX_CHARS) {
            return Err(Invalid::new(
                "answers",
                format!("An answer has at most {ANSWER_MAX_CHARS} characters."),
            )
            .into());
        }
        // Every answer is checked, right or wrong, so the time taken says nothing.
        let mut all_right = true;
        for (answer, hash) in answers.iter().zip(&hashes) {
            let secret = SecretString::from(normalise_answer(answer));
            let right = cx.hasher.verify(&secret, hash.as_deref()).await?;
            all_right &= right;
        }
        let verdict = if all_right {
            Verdict::Passed
        } else {
            Verdict::Wrong
        };
        Ok(Some(Checked {
            verdict,
            against: serde_json::json!(hashes),
        }))
    }

    /// The verdict reached ahead, if the answers it was reached against are still the
    /// enrolled ones; answers changed meanwhile (a new enrolment) make it wrong, as they
    /// would have before.
    async fn verify(
        &self,
        cx: &mut FactorContext<'_>,
        state: &serde_json::Value,
        answer: &Answer,
    ) -> Result<Verdict, CoreError> {
        let Answer::SecurityQuestions { .. } = answer else {
            return Ok(Verdict::Wrong);
        };
        // Checked against another state of the flow (a concurrent request moved it).
        let Some(ahead) = cx.ahead else {
            return Err(FlowError::OutOfOrder.into());
        };
        let kept: Kept = super::state(state)?;
        let hashes = asked_hashes(&mut *cx.tx, &kept, cx.subject).await?;
        Ok(if serde_json::json!(hashes) == ahead.against {
            ahead.verdict
        } else {
            Verdict::Wrong
        })
    }
}

/// The stored hashes of the questions asked, in order; `None` for a decoy.
async fn asked_hashes<R: FactorsRead + ?Sized>(
    read: &mut R,
    kept: &Kept,
    subject: &FlowSubject,
) -> Result<Vec<Option<String>>, CoreError> {
    Ok(match (kept, subject) {
        (Kept::Real { answer_ids }, FlowSubject::Account(a)) => {
            let stored = read.security_answers(a.id).await?;
            answer_ids
                .iter()
                .map(|id| {
                    stored
                        .iter()
                        .find(|s| s.id == *id)
                        .map(|s| s.answer_hash.clone())
                })
                .collect()
        }
        (Kept::Real { answer_ids }, FlowSubject::Unknown { .. }) => vec![None; answer_ids.len()],
        (Kept::Decoy { count }, _) => vec![None; *count],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::MasterKey;

    #[test]
    fn decoys_are_stable_per_name_and_differ_between_names() {
        let keys = MasterKey::from_bytes([4; 32]).derive();
        let a1 = decoys(&keys, "EXAMPLE\\zed", &[], 2);
        let a2 = decoys(&keys, "EXAMPLE\\zed", &[], 2);
        assert_eq!(a1, a2);
        assert_eq!(a1.len(), 2);
        assert_ne!(a1[0], a1[1]);
        let names = ["a", "b", "c", "d", "e", "f"];
        let distinct: std::collections::HashSet<Vec<String>> =
            names.iter().map(|n| decoys(&keys, n, &[], 2)).collect();
        assert!(
            distinct.len() > 1,
            "different names get different questions"
        );
    }
}
