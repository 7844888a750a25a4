//! The mail templates: a plain-text and an HTML template for each [`Notification`]
//! variant, embedded in the binary and rendered with minijinja. HTML templates are
//! autoescaped (by their `.html` name), so nothing a person typed can inject markup.
//! The subject is the `subject` block of the text template.
//!
//! Every link starts with the configured base URL, never with anything from a request.

use minijinja::syntax::SyntaxConfig;
use minijinja::value::Value;
use minijinja::{context, Environment, UndefinedBehavior};
use time::macros::format_description;
use time::OffsetDateTime;

use super::{Code, CodePurpose, DoneBy, Notification, OutboxEntry, SupportStatus};
use crate::settings::Channel;

/// Embeds `<kind>.txt` and `<kind>.html` for each kind given: (name, source) pairs.
macro_rules! text_and_html {
    ($($kind:literal),* $(,)?) => {
        &[$(
            (concat!($kind, ".txt"), include_str!(concat!("templates/", $kind, ".txt"))),
            (concat!($kind, ".html"), include_str!(concat!("templates/", $kind, ".html"))),
        )*]
    };
}

/// Every template, embedded at build time: the two layouts and each notification's pair.
const TEMPLATES: &[(&str, &str)] = text_and_html![
    "base",
    "account_locked",
    "account_unlocked",
    "password_reset",
    "account_resecured",
    "mfa_reset",
    "device_authorization_code",
    "one_time_code",
    "self_service_blocked",
    "recovery_email_set",
    "support_request_update",
];

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("template error: {0}")]
    Template(#[from] minijinja::Error),
    /// The mail's code was wiped before it could be sent (it can never be sent now).
    #[error("the one-time code of this mail was wiped; it cannot be sent")]
    SecretWiped,
    /// The sealed code does not open with this server's key (another `secret_key`?).
    #[error("the one-time code of this mail cannot be decrypted with this server's key")]
    SecretUnreadable,
}

/// A mail's three parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedMail {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// The compiled templates and the settings every mail shows.
#[derive(Debug)]
pub struct Templates {
    env: Environment<'static>,
    product_name: String,
    /// Without a trailing slash.
    base_url: String,
}

impl Templates {
    /// Compiles every template once; a broken template stops start-up, not a mail.
    pub fn new(product_name: &str, base_url: &str) -> Result<Self, RenderError> {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_syntax(
            SyntaxConfig::builder()
                .trim_blocks(true)
                .lstrip_blocks(true)
                .build()?,
        );
        for (name, source) in TEMPLATES {
            env.add_template(name, source)?;
        }
        Ok(Self {
            env,
            product_name: product_name.to_owned(),
            base_url: base_url.trim_end_matches('/').to_owned(),
        })
    }

    /// Renders the mail for an outbox row.
    pub fn render(&self, entry: &OutboxEntry) -> Result<RenderedMail, RenderError> {
        let n = &entry.notification;
        if n.secret_required() && n.code().is_some_and(|c| c.is_wiped()) {
            return Err(RenderError::SecretWiped);
        }
        let link = |path: &str| format!("{}{path}", self.base_url);
        let common = context! {
            product_name => self.product_name.as_str(),
            organisation => entry.organisation_name.as_str(),
            name => entry.recipient.name.as_str(),
            account => entry.recipient.username.as_deref(),
            when => readable_time(entry.created_at),
            base_url => self.base_url.as_str(),
            unlock_url => link("/unlock"),
            reset_url => link("/reset"),
            sign_in_url => link("/sign-in"),
            this_was_me_url => link("/locked/unlock#"),
            not_me_url => link("/locked/not-me#"),
        };
        let ctx = context! { ..variant_context(n), ..common };
        let text_template = self.env.get_template(&format!("{}.txt", n.kind()))?;
        let mut captured = text_template.render_captured(ctx.clone())?;
        let subject = captured.with_state_mut(|state| state.render_block("subject"))?;
        let subject = subject.split_whitespace().collect::<Vec<_>>().join(" ");
        let text = captured.into_output();
        let html = self
            .env
            .get_template(&format!("{}.html", n.kind()))?
            .render(context! { subject => subject.as_str(), ..ctx })?;
        Ok(RenderedMail {
            subject,
            text,
            html,
        })
    }
}

/// The facts each variant shows, already in words.
fn variant_context(n: &Notification) -> Value {
    match n {
        Notification::AccountLocked { until, links } => {
            // The two links of `crate::lock_link`; the token after `#` never reaches a
            // server log or a Referer header.
            let (unlock, not_me) = links
                .as_ref()
                .and_then(|l| l.expose().split_once(' '))
                .map_or((None, None), |(u, n)| (Some(u), Some(n)));
            context! {
                until => until.map(readable_time),
                this_was_me_token => unlock,
                not_me_token => not_me,
            }
        }
        Notification::AccountUnlocked {
            by,
            advise_password_reset,
        } => context! {
            advise_password_reset => *advise_password_reset,
            ..done_by(by)
        },
        Notification::PasswordReset { by } => done_by(by),
        Notification::AccountResecured { operator } | Notification::MfaReset { operator } => {
            context! { operator => operator.as_str() }
        }
        Notification::DeviceAuthorizationCode { code, expires_at } => context! {
            code => code.expose(),
            expires => readable_time(*expires_at),
        },
        Notification::OneTimeCode {
            code,
            expires_at,
            purpose,
        } => context! {
            code => code.expose(),
            expires => readable_time(*expires_at),
            purpose => match purpose {
                CodePurpose::Unlock => "unlock your account",
                CodePurpose::PasswordReset => "reset your password",
                CodePurpose::EmailEnrolment => "confirm this email address for signing in",
                CodePurpose::HelpdeskVerification => "prove who you are to the help desk",
                CodePurpose::RecoveryEmail => "confirm this address as your recovery email address",
            },
        },
        Notification::SelfServiceBlocked {
            until,
            channel,
            links,
        } => context! {
            until => readable_time(*until),
            not_me_token => links.as_ref().map(Code::expose).filter(|t| !t.is_empty()),
            channel => match channel {
                Channel::Web => "use the self-service portal in a browser to",
                Channel::Mobile => "use the self-service portal on a phone to",
                Channel::Desktop => "use the self-service link on a computer's sign-in screen to",
            },
        },
        Notification::RecoveryEmailSet { address } => context! {
            address => address.as_str(),
        },
        Notification::SupportRequestUpdate {
            reference,
            status,
            message,
        } => context! {
            reference => reference.as_str(),
            status => match status {
                SupportStatus::Received => "received",
                SupportStatus::InProgress => "being worked on",
                SupportStatus::Resolved => "resolved",
                SupportStatus::Closed => "closed",
            },
            message => message.as_deref(),
        },
    }
}

fn done_by(by: &DoneBy) -> Value {
    match by {
        DoneBy::SelfService { channel } => context! {
            operator => None::<String>,
            channel => match channel {
                Channel::Web => "the self-service portal in a browser",
                Channel::Mobile => "the self-service portal on a phone",
                Channel::Desktop => "the self-service link on a computer's sign-in screen",
            },
        },
        DoneBy::Operator { name } => context! {
            operator => name.as_str(),
            channel => None::<String>,
        },
    }
}

/// A time as people read it in mail, always in UTC: "Monday 5 January 2026, 09:00 UTC".
pub fn readable_time(t: OffsetDateTime) -> String {
    let format = format_description!(
        "[weekday] [day padding:none] [month repr:long] [year], [hour]:[minute] UTC"
    );
    t.to_offset(time::UtcOffset::UTC)
        .format(&format)
        .unwrap_or_else(|_| t.unix_timestamp().to_string())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::account::{AccountId, Email};
    use crate::organisation::OrganisationId;
    use crate::outbox::{Code, DeliveryStatus, NotificationId, Recipient};
    use time::macros::datetime;

    pub(crate) fn samples() -> Vec<Notification> {
        crate::outbox::examples()
    }

    pub(crate) fn entry(notification: Notification) -> OutboxEntry {
        OutboxEntry {
            id: NotificationId(1),
            organisation_id: OrganisationId(1),
            organisation_name: "Example <Health>".into(),
            recipient: Recipient {
                email: Email::parse("email", "bob@example.org").unwrap(),
                name: "Bob Brennan".into(),
                account_id: Some(AccountId(2)),
                username: Some("EXAMPLE\\bob".into()),
            },
            holds_secret: notification.code().is_some(),
            sealed_code: None,
            notification,
            message_key: "k".into(),
            status: DeliveryStatus::Pending,
            attempts: 1,
            created_at: datetime!(2026-01-05 09:00 UTC),
            next_attempt_at: datetime!(2026-01-05 09:00 UTC),
            last_error: None,
            sent_at: None,
        }
    }

    fn templates() -> Templates {
        Templates::new("Latchkey", "https://unlock.example.org/").unwrap()
    }

    #[test]
    fn times_read_like_a_calendar() {
        assert_eq!(
            readable_time(datetime!(2026-01-05 09:00 UTC)),
            "Monday 5 January 2026, 09:00 UTC"
        );
        assert_eq!(
            readable_time(datetime!(2026-01-05 10:30 +01:00)),
            "Monday 5 January 2026, 09:30 UTC"
        );
    }

    #[test]
    fn every_variant_renders_subject_text_and_html() {
        let t = templates();
        for n in samples() {
            let kind = n.kind();
            let mail = t.render(&entry(n)).unwrap();
            assert!(!mail.subject.is_empty(), "{kind}: empty subject");
            assert!(!mail.subject.contains('\n'), "{kind}: {:?}", mail.subject);
            for body in [&mail.text, &mail.html] {
                assert!(body.contains("Bob Brennan"), "{kind}: {body}");
                assert!(body.contains("Latchkey"), "{kind}: {body}");
                assert!(
                    body.contains("Monday 5 January 2026, 09:00 UTC"),
                    "{kind}: {body}"
                );
            }
            assert!(mail.html.contains("<title>"), "{kind}");
            assert!(
                ["not you", "did not ask", "did not expect"]
                    .iter()
                    .any(|w| mail.text.contains(w)),
                "{kind}: says what to do if it was not you: {}",
                mail.text
            );
        }
    }

    #[test]
    fn the_lock_mail_says_what_happened_and_what_to_do() {
        let mail = templates()
            .render(&entry(Notification::AccountLocked {
                until: None,
                links: None,
            }))
            .unwrap();
        assert_eq!(mail.subject, "Your Example <Health> account was locked");
        assert!(mail.text.contains("EXAMPLE\\bob"), "{}", mail.text);
        assert!(mail.text.contains("https://unlock.example.org/unlock"));
        assert!(mail.text.contains("https://unlock.example.org/reset"));
        // Autoescaping writes `/` as `&#x2f;` in attributes; browsers read it back as `/`.
        assert!(
            mail.html
                .contains(r#"<a href="https:&#x2f;&#x2f;unlock.example.org&#x2f;unlock">"#),
            "{}",
            mail.html
        );
    }

    #[test]
    fn the_lock_mail_carries_its_two_links_from_the_base_url() {
        let links = Code::new(format!("{} {}", "u".repeat(43), "n".repeat(43)));
        let mail = templates()
            .render(&entry(Notification::AccountLocked {
                until: None,
                links: Some(links),
            }))
            .unwrap();
        let me = format!(
            "https://unlock.example.org/locked/unlock#{}",
            "u".repeat(43)
        );
        let not_me = format!(
            "https://unlock.example.org/locked/not-me#{}",
            "n".repeat(43)
        );
        assert!(mail.text.contains(&me), "{}", mail.text);
        assert!(mail.text.contains(&not_me), "{}", mail.text);
        assert!(mail.text.contains("This was me"), "{}", mail.text);
        assert!(mail.text.contains("This wasn't me"), "{}", mail.text);
        assert!(mail.html.contains(&"u".repeat(43)), "{}", mail.html);
        assert!(mail.html.contains(&"n".repeat(43)), "{}", mail.html);
    }

    #[test]
    fn html_escapes_everything_that_came_from_people() {
        let t = templates();
        for n in samples() {
            let mail = t.render(&entry(n)).unwrap();
            assert!(
                mail.html.contains("Example &lt;Health&gt;"),
                "{}",
                mail.html
            );
            assert!(!mail.html.contains("Example <Health>"));
            assert!(!mail.html.contains("<script>"));
        }
        let support = samples().pop().unwrap();
        let mail = t.render(&entry(support)).unwrap();
        assert!(mail
            .html
            .contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt; &amp; done"));
        assert!(mail.text.contains("<script>alert(1)</script> & done"));
    }

    #[test]
    fn the_code_appears_only_in_the_mail_that_delivers_it() {
        let t = templates();
        for n in samples() {
            let code = n.code().map(|c| c.expose().to_owned());
            let n_kind = n.kind();
            let mail = t.render(&entry(n)).unwrap();
            if let Some(code) = code {
                // A lock mail's "code" is its two link tokens, one per link.
                for part in code.split(' ') {
                    assert!(mail.text.contains(part));
                    assert!(mail.html.contains(part));
                    assert!(!mail.subject.contains(part), "never in the subject");
                }
                if !matches!(n_kind, "account_locked") {
                    assert!(mail.text.contains("Monday 5 January 2026, 09:10 UTC"));
                }
            }
        }
    }

    #[test]
    fn a_lock_mail_sent_again_after_its_links_were_wiped_has_the_usual_links() {
        let n = Notification::AccountLocked {
            until: None,
            links: Some(Code::default()),
        };
        assert!(!n.secret_required());
        let mail = templates().render(&entry(n)).unwrap();
        assert!(mail.text.contains("https://unlock.example.org/unlock"));
        assert!(!mail.text.contains("/locked/"), "{}", mail.text);
    }

    #[test]
    fn a_wiped_code_cannot_be_rendered() {
        let n = Notification::OneTimeCode {
            code: Code::default(),
            expires_at: datetime!(2026-01-05 09:10 UTC),
            purpose: CodePurpose::Unlock,
        };
        assert!(matches!(
            templates().render(&entry(n)),
            Err(RenderError::SecretWiped)
        ));
    }
}
