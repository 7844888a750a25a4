//! The transports behind core's outbox worker: an SMTP server (lettre), or, when none is
//! configured, a mailbox folder on disk with one `.eml` file per message. Both build the
//! same MIME message (plain text and HTML alternatives, the row's stable Message-ID and
//! the event's time as `Date`). This is infrastructure, so it lives in the server: core
//! knows only the [`Transport`] trait, and lettre never reaches the Wasm bundles.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use latchkey_app::ssr::DemoMailbox;
use latchkey_core::outbox::{OutgoingMail, Transport, TransportError};
use latchkey_types::outbox::{DemoMail, DemoMailSummary};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::transport::smtp::PoolConfig;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::ExposeSecret;

use crate::config::{parse_sender, Config, SmtpTls};

/// Messages the demo mailbox lists at most.
const DEMO_LIST_MAX: usize = 100;

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("invalid setting `smtp.from`: {0}")]
    From(String),
    #[error("invalid setting `smtp.tls`: {0}")]
    Tls(String),
}

/// Where mail goes, from the configuration.
pub struct MailTransports {
    pub transport: Arc<dyn Transport>,
    /// The folder mail is written to, when there is no SMTP server.
    pub mailbox: Option<Arc<MailboxFolder>>,
    /// Said once at start-up, e.g. "SMTP server smtp.example.org:587 (starttls)".
    pub description: String,
}

/// An SMTP transport if `smtp.host` is set, else the mailbox folder next to the database.
pub fn transports(config: &Config) -> Result<MailTransports, MailError> {
    let from = parse_sender(&config.smtp.from).map_err(MailError::From)?;
    if config.smtp_configured() {
        let smtp = Smtp::new(config, from)?;
        let s = &config.smtp;
        let tls = format!("{:?}", s.tls).to_lowercase();
        return Ok(MailTransports {
            transport: Arc::new(smtp),
            mailbox: None,
            description: format!("SMTP server {}:{} ({tls})", s.host.trim(), s.port),
        });
    }
    let folder = Arc::new(MailboxFolder {
        dir: config.mailbox_dir(),
        from,
    });
    Ok(MailTransports {
        description: format!(
            "the mailbox folder {} (no SMTP server configured)",
            folder.dir.display()
        ),
        transport: folder.clone(),
        mailbox: Some(folder),
    })
}

/// The MIME message for `mail`. An address lettre cannot express is a permanent
/// rejection: no retry would change it.
fn message(from: &Mailbox, mail: &OutgoingMail) -> Result<Message, TransportError> {
    let rejected = |e: &dyn std::fmt::Display| TransportError::Rejected(e.to_string());
    let address = mail
        .to
        .email
        .as_str()
        .parse()
        .map_err(|e| rejected(&format!("recipient address: {e}")))?;
    Message::builder()
        .message_id(Some(mail.message_id.clone()))
        .date(SystemTime::from(mail.date))
        .from(from.clone())
        .to(Mailbox::new(Some(mail.to.name.clone()), address))
        .subject(mail.subject.as_str())
        .multipart(MultiPart::alternative_plain_html(
            mail.text.clone(),
            mail.html.clone(),
        ))
        .map_err(|e| rejected(&e))
}

/// An SMTP server, through lettre's pooled async transport.
pub struct Smtp {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Smtp {
    fn new(config: &Config, from: Mailbox) -> Result<Self, MailError> {
        let s = &config.smtp;
        let host = s.host.trim();
        let params =
            || TlsParameters::new(host.to_owned()).map_err(|e| MailError::Tls(e.to_string()));
        let tls = match s.tls {
            SmtpTls::None => Tls::None,
            SmtpTls::Starttls => Tls::Required(params()?),
            SmtpTls::Tls => Tls::Wrapper(params()?),
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
            .port(s.port)
            .tls(tls)
            .timeout(Some(Duration::from_secs(u64::from(s.timeout_secs))))
            .pool_config(PoolConfig::new().max_size(config.outbox.workers));
        if let Some(password) = &s.password {
            builder = builder.credentials(Credentials::new(
                s.username.clone(),
                password.expose_secret().to_owned(),
            ));
        }
        Ok(Self {
            transport: builder.build(),
            from,
        })
    }
}

#[async_trait]
impl Transport for Smtp {
    async fn send(&self, mail: &OutgoingMail) -> Result<(), TransportError> {
        let message = message(&self.from, mail)?;
        self.transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| TransportError::Temporary(e.to_string()))
    }
}

/// The mailbox folder: one `<unix time>-<message key>.eml` per message. A retry of the
/// same row writes the same file again, so the folder never holds a duplicate.
pub struct MailboxFolder {
    dir: PathBuf,
    from: Mailbox,
}

impl MailboxFolder {
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file name for a mail: sortable by time, unique per outbox row.
    fn file_name(mail: &OutgoingMail) -> String {
        let key: String = mail
            .message_id
            .trim_start_matches('<')
            .split('@')
            .next()
            .unwrap_or_default()
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .collect();
        format!("{}-{key}.eml", mail.date.unix_timestamp())
    }

    async fn read(&self, path: &Path) -> std::io::Result<Option<DemoMail>> {
        let bytes = match tokio::fs::read(path).await {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        let id = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let Some(parsed) = mail_parser::MessageParser::default().parse(&bytes) else {
            return Ok(None);
        };
        let first = |a: Option<&mail_parser::Address>| {
            a.and_then(|a| a.first())
                .and_then(|a| a.address())
                .unwrap_or_default()
                .to_owned()
        };
        Ok(Some(DemoMail {
            id,
            from: first(parsed.from()),
            to: first(parsed.to()),
            subject: parsed.subject().unwrap_or_default().to_owned(),
            date: parsed.date().map_or(0, |d| d.to_timestamp()),
            text: parsed
                .body_text(0)
                .map(|t| t.into_owned())
                .unwrap_or_default(),
        }))
    }
}

#[async_trait]
impl Transport for MailboxFolder {
    async fn send(&self, mail: &OutgoingMail) -> Result<(), TransportError> {
        let bytes = message(&self.from, mail)?.formatted();
        let io = |e: std::io::Error| {
            TransportError::Temporary(format!("mailbox folder {}: {e}", self.dir.display()))
        };
        tokio::fs::create_dir_all(&self.dir).await.map_err(io)?;
        let name = Self::file_name(mail);
        // Written aside, then renamed: a reader never sees half a message.
        let partial = self.dir.join(format!(".{name}.partial"));
        tokio::fs::write(&partial, bytes).await.map_err(io)?;
        tokio::fs::rename(&partial, self.dir.join(name))
            .await
            .map_err(io)
    }
}

#[async_trait]
impl DemoMailbox for MailboxFolder {
    async fn list(&self) -> std::io::Result<Vec<DemoMailSummary>> {
        let mut entries = match tokio::fs::read_dir(&self.dir).await {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let mut paths = Vec::new();
        while let Some(entry) = entries.next_entry().await? {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "eml") {
                paths.push(path);
            }
        }
        // Names start with the Unix time: newest first, by name.
        paths.sort_unstable_by(|a, b| b.cmp(a));
        let mut list = Vec::new();
        for path in paths.iter().take(DEMO_LIST_MAX) {
            if let Some(m) = self.read(path).await? {
                list.push(DemoMailSummary {
                    id: m.id,
                    to: m.to,
                    subject: m.subject,
                    date: m.date,
                });
            }
        }
        Ok(list)
    }

    async fn message(&self, id: &str) -> std::io::Result<Option<DemoMail>> {
        // The server function has checked `id` (letters, digits, `-`, `_`): no path tricks.
        self.read(&self.dir.join(format!("{id}.eml"))).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use latchkey_core::account::Email;
    use latchkey_core::outbox::Recipient;
    use time::macros::datetime;

    fn mail() -> OutgoingMail {
        OutgoingMail {
            message_id: "<0123abcd@unlock.example.org>".into(),
            date: datetime!(2026-01-05 09:00 UTC),
            to: Recipient {
                email: Email::parse("email", "bob@example.org").unwrap(),
                name: "Bob Brennan".into(),
                account_id: None,
                username: None,
            },
            subject: "Your Example Health account was locked — café".into(),
            text: "Hello Bob Brennan,\n\nYour account was locked — café.\n".into(),
            html: "<p>Hello Bob Brennan,</p>".into(),
        }
    }

    #[tokio::test]
    async fn the_folder_keeps_one_file_per_message_and_reads_it_back() {
        let dir = tempfile::tempdir().unwrap();
        let folder = MailboxFolder {
            dir: dir.path().join("mailbox"),
            from: parse_sender("Latchkey <latchkey@localhost>").unwrap(),
        };
        folder.send(&mail()).await.unwrap();
        folder.send(&mail()).await.unwrap();
        let list = folder.list().await.unwrap();
        assert_eq!(list.len(), 1, "a retry overwrites, never duplicates");
        assert_eq!(list[0].id, "1767603600-0123abcd");
        assert_eq!(list[0].to, "bob@example.org");
        assert_eq!(list[0].subject, mail().subject);
        let m = folder.message(&list[0].id).await.unwrap().unwrap();
        assert_eq!(m.from, "latchkey@localhost");
        assert_eq!(m.date, 1_767_603_600);
        assert!(
            m.text.contains("Your account was locked — café."),
            "{}",
            m.text
        );
        let raw =
            std::fs::read_to_string(dir.path().join("mailbox/1767603600-0123abcd.eml")).unwrap();
        assert!(
            raw.contains("Message-ID: <0123abcd@unlock.example.org>"),
            "{raw}"
        );
        assert!(folder.message("nothing-here").await.unwrap().is_none());
    }

    #[test]
    fn a_bad_sender_is_refused() {
        assert!(parse_sender("not an address").is_err());
        assert!(parse_sender("Account help <unlock@example.org>").is_ok());
    }
}
