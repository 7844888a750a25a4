//! A signed-in person sets up the factors self-service will later ask for: security
//! questions, an authenticator app, and a recovery email address where self-service
//! codes go instead of the work mailbox.

use std::net::IpAddr;

use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

use crate::account::{Account, Email};
use crate::audit::{Action, Actor, AuditChannel, AuditEvent, Outcome, Subject};
use crate::code;
use crate::credentials::{
    normalise_answer, CatalogueQuestion, NewAnswer, QuestionChoice, QuestionPolicy,
    ANSWER_MAX_CHARS, CUSTOM_QUESTION_CHARS,
};
use crate::error::{CoreError, Invalid};
use crate::factor::totp::{self, SECRET_BYTES};
use crate::outbox::{Code, CodePurpose, Notification, Recipient};
use crate::random;
use crate::service::Latchkey;

/// The text form that binds a recovery-address code to its use.
fn recovery_purpose() -> &'static str {
    CodePurpose::RecoveryEmail.as_str()
}

/// The recovery address as its owner sees it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecoveryEmailState {
    /// Confirmed: codes go here.
    pub address: Option<String>,
    /// Waiting for the code sent to it.
    pub pending: Option<String>,
}

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
    /// The `otpauth://` URL itself: on a phone, a link opens the authenticator app.
    pub otpauth_url: String,
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
        let otpauth_url = generator
            .to_url()
            .map_err(|e| CoreError::Internal(format!("cannot build the otpauth URL: {e}")))?;
        Ok(TotpEnrolment {
            otpauth_url,
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

impl Latchkey {
    /// The account's recovery address, confirmed and pending.
    pub async fn recovery_email(&self, account: &Account) -> Result<RecoveryEmailState, CoreError> {
        let stored = self.read().await?.recovery_email(account.id).await?;
        Ok(
            stored.map_or_else(RecoveryEmailState::default, |r| RecoveryEmailState {
                address: r.address.map(|a| a.as_str().to_owned()),
                pending: r.pending.map(|(a, _)| a.as_str().to_owned()),
            }),
        )
    }

    /// Proposes `address` as the recovery address and mails a code to it; the address is
    /// used only once that code is entered ([`Self::confirm_recovery_email`]).
    pub async fn begin_recovery_email(
        &self,
        account: &Account,
        address: &str,
        client: IpAddr,
    ) -> Result<(), CoreError> {
        self.count_request(client).await?;
        let address = Email::parse("address", address)?;
        if address
            .as_str()
            .eq_ignore_ascii_case(account.email.as_str())
        {
            return Err(Invalid::new(
                "address",
                "That is already your registered address. Choose another one, for example a personal address.",
            )
            .into());
        }
        let now = self.clock.now();
        let expires_at = now + self.self_service.code_lifetime;
        let typed = code::generate(self.random.as_ref());
        let code_hash = code::hash(&self.keys, account.id, recovery_purpose(), now, &typed);
        let mut tx = self.store.begin().await?;
        let code_id = tx
            .create_code(account.id, recovery_purpose(), &code_hash, now, expires_at)
            .await?;
        tx.propose_recovery_email(account.id, &address, code_id, now)
            .await?;
        let mut to = Recipient::owner_of(account);
        to.email = address;
        let mail = Notification::OneTimeCode {
            code: Code::new(typed),
            expires_at,
            purpose: CodePurpose::RecoveryEmail,
        };
        let mail = self.outgoing(to, account.organisation_id, mail);
        tx.enqueue_notification(&mail, now).await?;
        let event = self.enrolment_event(account, client, json!({ "stage": "code_sent" }));
        tx.append_audit(&event, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Confirms the pending recovery address with the code sent to it, and tells the
    /// registered address (someone who took over a session must not add theirs unseen).
    pub async fn confirm_recovery_email(
        &self,
        account: &Account,
        typed: &str,
        client: IpAddr,
    ) -> Result<(), CoreError> {
        self.count_request(client).await?;
        let typed = code::parse("code", typed)?;
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let (address, code_id) = tx
            .recovery_email(account.id)
            .await?
            .and_then(|r| r.pending)
            .ok_or_else(|| Invalid::new("code", "Add the address again: no code is waiting."))?;
        let stored = tx
            .code(code_id)
            .await?
            .ok_or_else(|| Invalid::new("code", "Add the address again: no code is waiting."))?;
        let max_tries = self.self_service.code_max_tries;
        match code::check(&self.keys, &stored, &typed, max_tries, now) {
            Ok(()) => {}
            Err(code::Rejection::Wrong) => {
                tx.count_code_attempt(stored.id).await?;
                let event = self.enrolment_event(account, client, json!({ "stage": "wrong_code" }));
                tx.append_audit(&event, now).await?;
                self.count_failure_in(tx.as_mut(), client, now).await?;
                tx.commit().await?;
                return Err(Invalid::new(
                    "code",
                    "That code is not right. Check the email we sent to the new address.",
                )
                .into());
            }
            Err(_) => {
                return Err(Invalid::new(
                    "code",
                    "That code has expired or was tried too often. Add the address again for a new one.",
                )
                .into())
            }
        }
        tx.use_code(stored.id, now).await?;
        tx.confirm_recovery_email(account.id, now).await?;
        let mail = Notification::RecoveryEmailSet {
            address: address.as_str().to_owned(),
        };
        let mail = self.outgoing(Recipient::owner_of(account), account.organisation_id, mail);
        tx.enqueue_notification(&mail, now).await?;
        let event = self.enrolment_event(account, client, json!({ "stage": "confirmed" }));
        tx.append_audit(&event, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Forgets the recovery address: codes go to the registered address again.
    pub async fn remove_recovery_email(
        &self,
        account: &Account,
        client: IpAddr,
    ) -> Result<(), CoreError> {
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        tx.remove_recovery_email(account.id).await?;
        let event = self.enrolment_event(account, client, json!({ "stage": "removed" }));
        tx.append_audit(&event, now).await?;
        tx.commit().await?;
        Ok(())
    }

    fn enrolment_event(
        &self,
        account: &Account,
        client: IpAddr,
        details: serde_json::Value,
    ) -> AuditEvent {
        AuditEvent {
            actor: Actor::account(account),
            subject: Some(Subject::account(account)),
            action: Action::EnrolRecoveryEmail,
            channel: AuditChannel::Web,
            client: Some(client),
            outcome: if details["stage"] == "wrong_code" {
                Outcome::Failure
            } else {
                Outcome::Success
            },
            details,
        }
    }
}

/// Field names matching the enrolment form's JSON (`questions[i].question`).
fn question_field(i: usize) -> String {
    format!("questions[{i}].question")
}

fn answer_field(i: usize) -> String {
    format!("questions[{i}].answer")
}
