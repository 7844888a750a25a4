//! A signed-in person sets up the factors self-service will later ask for: security
//! questions and an authenticator app.

use std::net::IpAddr;

use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

use crate::account::Account;
use crate::audit::{Action, Actor, AuditChannel, AuditEvent, Outcome, Subject};
use crate::credentials::{
    normalise_answer, CatalogueQuestion, NewAnswer, QuestionChoice, QuestionPolicy,
    ANSWER_MAX_CHARS, CUSTOM_QUESTION_CHARS,
};
use crate::error::{CoreError, Invalid};
use crate::factor::totp::{self, SECRET_BYTES};
use crate::random;
use crate::service::Latchkey;

/// What the enrolment page needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuestionSetup {
    pub policy: QuestionPolicy,
    pub catalogue: Vec<CatalogueQuestion>,
    /// The questions enrolled now (never the answers).
    pub enrolled: Vec<String>,
}

/// A new authenticator to scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TotpEnrolment {
    /// The `otpauth://` URL as a QR code, SVG.
    pub qr_svg: String,
    /// The secret in base32, for typing into an app by hand.
    pub secret_base32: String,
}

impl Latchkey {
    pub async fn question_setup(&self, account: &Account) -> Result<QuestionSetup, CoreError> {
        let mut read = self.read().await?;
        Ok(QuestionSetup {
            policy: read.question_policy(account.organisation_id).await?,
            catalogue: read.question_catalogue(account.organisation_id).await?,
            enrolled: read
                .security_answers(account.id)
                .await?
                .into_iter()
                .map(|a| a.question)
                .collect(),
        })
    }

    /// Replaces the account's security questions and answers. `choices` holds exactly the
    /// organisation's number of questions, each with its answer.
    pub async fn enrol_security_questions(
        &self,
        account: &Account,
        choices: &[(QuestionChoice, SecretString)],
        client: IpAddr,
    ) -> Result<(), CoreError> {
        let setup = self.question_setup(account).await?;
        let policy = setup.policy;
        if choices.len() != policy.to_enrol as usize {
            return Err(Invalid::new(
                "questions",
                format!("Choose {} questions and answer each.", policy.to_enrol),
            )
            .into());
        }
        let mut texts: Vec<String> = Vec::new();
        let mut answers: Vec<String> = Vec::new();
        for (i, (choice, answer)) in choices.iter().enumerate() {
            let field_q = question_field(i);
            let field_a = answer_field(i);
            let text = match choice {
                QuestionChoice::Catalogue { id } => setup
                    .catalogue
                    .iter()
                    .find(|q| q.id == *id)
                    .map(|q| q.text.clone())
                    .ok_or_else(|| {
                        Invalid::new(field_q.clone(), "Choose a question from the list.")
                    })?,
                QuestionChoice::Custom { text } => {
                    let t = text.trim();
                    let n = t.chars().count();
                    if n < CUSTOM_QUESTION_CHARS.0
                        || n > CUSTOM_QUESTION_CHARS.1
                        || t.chars().any(char::is_control)
                    {
                        return Err(Invalid::new(
                            field_q.clone(),
                            format!(
                                "Write your own question in {} to {} characters.",
                                CUSTOM_QUESTION_CHARS.0, CUSTOM_QUESTION_CHARS.1
                            ),
                        )
                        .into());
                    }
                    t.to_owned()
                }
            };
            if texts
                .iter()
                .any(|t| normalise_answer(t) == normalise_answer(&text))
            {
                return Err(
                    Invalid::new(field_q, "Choose a different question for each answer.").into(),
                );
            }
            let normalised = normalise_answer(answer.expose_secret());
            let chars = normalised.chars().count();
            if chars < policy.min_answer_chars as usize {
                return Err(Invalid::new(
                    field_a.clone(),
                    format!(
                        "Answers have at least {} characters.",
                        policy.min_answer_chars
                    ),
                )
                .into());
            }
            if chars > ANSWER_MAX_CHARS {
                return Err(Invalid::new(
                    field_a.clone(),
                    format!("Answers have at most {ANSWER_MAX_CHARS} characters."),
                )
                .into());
            }
            if normalised == normalise_answer(&text) || answers.contains(&normalised) {
                return Err(Invalid::new(
                    field_a,
                    "Give a different answer to each question, and not the question itself.",
                )
                .into());
            }
            texts.push(text);
            answers.push(normalised);
        }
        let mut new_answers = Vec::with_capacity(choices.len());
        for ((choice, _), answer) in choices.iter().zip(&answers) {
            let question = match choice {
                QuestionChoice::Custom { text } => QuestionChoice::Custom {
                    text: text.trim().to_owned(),
                },
                other => other.clone(),
            };
            new_answers.push(NewAnswer {
                question,
                answer_hash: self
                    .hasher
                    .hash(&SecretString::from(answer.as_str()))
                    .await?,
            });
        }
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        tx.replace_security_answers(account.id, &new_answers, now)
            .await?;
        self.finish_questions(tx.as_mut(), account, now).await?;
        let event = AuditEvent {
            actor: Actor::account(account),
            subject: Some(Subject::account(account)),
            action: Action::EnrolSecurityQuestions,
            channel: AuditChannel::Web,
            client: Some(client),
            outcome: Outcome::Success,
            details: json!({ "questions": texts.len() }),
        };
        tx.append_audit(&event, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Whether the account has a confirmed authenticator.
    pub async fn has_authenticator(&self, account: &Account) -> Result<bool, CoreError> {
        Ok(self
            .read()
            .await?
            .totp_credential(account.id)
            .await?
            .is_some_and(|c| c.sealed_secret.is_some()))
    }

    /// Starts setting up an authenticator: a new secret, kept pending until confirmed.
    pub async fn begin_totp_enrolment(
        &self,
        account: &Account,
        issuer: &str,
    ) -> Result<TotpEnrolment, CoreError> {
        let secret: [u8; SECRET_BYTES] = random::array(self.random.as_ref());
        let generator = totp::generator(&secret, issuer, account.username.as_str())?;
        let sealed = self.keys.seal_totp(self.random.as_ref(), &secret);
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        tx.save_totp_credential(account.id, &sealed, now).await?;
        tx.commit().await?;
        Ok(TotpEnrolment {
            qr_svg: totp::qr_svg(&generator)?,
            secret_base32: totp_rs::Secret::new(secret.to_vec().into()).to_base32(),
        })
    }

    /// Confirms the pending authenticator with a code from it.
    pub async fn confirm_totp_enrolment(
        &self,
        account: &Account,
        code: &str,
        client: IpAddr,
    ) -> Result<(), CoreError> {
        let code = totp::parse_code("code", code)?;
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let pending = tx
            .totp_credential(account.id)
            .await?
            .and_then(|c| c.pending_secret)
            .ok_or_else(|| {
                Invalid::new("code", "Start setting up your authenticator app again.")
            })?;
        let secret = totp::open(&self.keys, &pending)?;
        let generator = totp::generator(&secret, "Latchkey", account.username.as_str())?;
        let unix = u64::try_from(now.unix_timestamp()).unwrap_or(0);
        let step = totp::accept(&generator, &code, unix, 0).ok_or_else(|| {
            Invalid::new(
                "code",
                "That code is not right. Enter the code your app shows now.",
            )
        })?;
        tx.confirm_totp(account.id, step, now).await?;
        self.finish_mfa_reset(tx.as_mut(), account, now).await?;
        let event = AuditEvent {
            actor: Actor::account(account),
            subject: Some(Subject::account(account)),
            action: Action::EnrolAuthenticator,
            channel: AuditChannel::Web,
            client: Some(client),
            outcome: Outcome::Success,
            details: json!({}),
        };
        tx.append_audit(&event, now).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// Field names matching the enrolment form's JSON (`questions[i].question`).
fn question_field(i: usize) -> String {
    format!("questions[{i}].question")
}

fn answer_field(i: usize) -> String {
    format!("questions[{i}].answer")
}
