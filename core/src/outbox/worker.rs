//! The delivery worker: claims due outbox rows, renders and sends them, records what
//! happened. Several workers (tasks or server processes) may run at once: a row is
//! claimed by one of them atomically, and the claim lapses by itself, so a crashed
//! worker's rows are picked up again instead of being held forever.

use std::sync::Arc;

use serde_json::json;
use time::Duration;
use tokio::sync::watch;

use super::backoff::{self, RetryPolicy};
use super::{
    Claim, Code, DeliveryResult, OutboxEntry, OutgoingMail, RenderError, Templates, Transport,
    TransportError,
};
use crate::audit::{Action, Actor, AuditChannel, AuditEvent, Outcome};
use crate::clock::Clock;
use crate::keys::Keys;
use crate::random::{self, Random};
use crate::store::Store;
use crate::store::StoreError;

/// How the worker behaves; from the server's `[outbox]` configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailerSettings {
    pub retry: RetryPolicy,
    /// How long a claim holds. It must outlast sending a whole batch, or another worker
    /// may send the same mail again.
    pub claim_for: Duration,
    /// Rows claimed at a time.
    pub batch_size: u32,
    /// How often an idle worker looks for due mail (real time, not the injected clock:
    /// it only decides when to look; what is due is decided by the clock).
    pub poll_interval: std::time::Duration,
    /// The host part of every Message-ID (the base URL's host).
    pub message_id_domain: String,
}

/// What one batch came to.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct BatchReport {
    pub claimed: usize,
    pub sent: usize,
    pub retried: usize,
    pub failed: usize,
    /// Claimed rows handed back unsent because the worker was told to stop.
    pub released: u64,
}

/// How one recorded delivery attempt ended, for a [`DeliveryObserver`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptOutcome {
    Sent,
    /// Failed for now; tried again later.
    Retry,
    /// Failed for good (kept as failed).
    Failed,
}

/// Told of each delivery attempt whose outcome was recorded: what `/metrics` counts
/// (delivery latency, failures). It must not block.
pub trait DeliveryObserver: Send + Sync {
    /// `waited`: from the mail's enqueueing to this outcome.
    fn attempted(&self, outcome: AttemptOutcome, waited: time::Duration);
}

/// Delivers the outbox. Cheap to clone: each worker task holds one.
#[derive(Clone)]
pub struct Mailer {
    store: Arc<dyn Store>,
    transport: Arc<dyn Transport>,
    templates: Arc<Templates>,
    clock: Arc<dyn Clock>,
    random: Arc<dyn Random>,
    /// Opens the codes sealed into the outbox (see [`super::enqueue`]).
    keys: Keys,
    settings: Arc<MailerSettings>,
    observer: Option<Arc<dyn DeliveryObserver>>,
}

impl Mailer {
    pub fn new(
        store: Arc<dyn Store>,
        transport: Arc<dyn Transport>,
        templates: Arc<Templates>,
        clock: Arc<dyn Clock>,
        random: Arc<dyn Random>,
        keys: Keys,
        settings: MailerSettings,
    ) -> Self {
        Self {
            store,
            transport,
            templates,
            clock,
            random,
            keys,
            settings: Arc::new(settings),
            observer: None,
        }
    }

    /// The same mailer, telling `observer` of every recorded attempt.
    pub fn observed_by(mut self, observer: Arc<dyn DeliveryObserver>) -> Self {
        self.observer = Some(observer);
        self
    }

    /// The row with its code opened, ready to render. The clear code exists only here,
    /// in memory, for as long as it takes to send the mail.
    fn unsealed(&self, entry: &OutboxEntry) -> Result<OutboxEntry, RenderError> {
        let mut entry = entry.clone();
        if let (Some(_), Some(sealed)) = (entry.notification.code(), &entry.sealed_code) {
            let code = self
                .keys
                .open_outbox_code(sealed)
                .map_err(|_| RenderError::SecretUnreadable)?;
            entry.notification = entry.notification.with_code(Code::new(code));
        }
        Ok(entry)
    }

    /// Claims one batch of due mail and attempts each message.
    pub async fn deliver_due(&self) -> Result<BatchReport, StoreError> {
        self.deliver_batch(&|| false).await
    }

    /// Delivers until `stop` turns true (or its sender is dropped), then hands back any
    /// rows it still holds. Store errors are logged and retried after the poll interval:
    /// the worker never dies while the server runs.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        loop {
            if *stop.borrow() {
                break;
            }
            let stopping = stop.clone();
            let busy = match self.deliver_batch(&|| *stopping.borrow()).await {
                Ok(report) => report.claimed >= self.settings.batch_size as usize,
                Err(e) => {
                    tracing::error!(error = %e, "outbox: cannot claim or record deliveries");
                    false
                }
            };
            if busy {
                // A full batch: more mail may be due already.
                continue;
            }
            tokio::select! {
                () = tokio::time::sleep(self.settings.poll_interval) => {}
                changed = stop.changed() => if changed.is_err() { break },
            }
        }
    }

    async fn deliver_batch(
        &self,
        stop: &(dyn Fn() -> bool + Sync),
    ) -> Result<BatchReport, StoreError> {
        let now = self.clock.now();
        let claim = Claim {
            token: hex::encode(random::array::<16>(self.random.as_ref())),
            until: now + self.settings.claim_for,
        };
        let mut tx = self.store.begin().await?;
        let batch = tx
            .claim_notifications(&claim, now, self.settings.batch_size)
            .await?;
        tx.commit().await?;
        let mut report = BatchReport {
            claimed: batch.len(),
            ..BatchReport::default()
        };
        for entry in &batch {
            if stop() {
                let mut tx = self.store.begin().await?;
                report.released = tx.release_notifications(&claim).await?;
                tx.commit().await?;
                break;
            }
            match self.deliver(entry, &claim).await? {
                DeliveryResult::Sent => report.sent += 1,
                DeliveryResult::Retry { .. } => report.retried += 1,
                DeliveryResult::Failed { .. } => report.failed += 1,
            }
        }
        Ok(report)
    }

    /// One attempt at one row, and its record.
    async fn deliver(
        &self,
        entry: &OutboxEntry,
        claim: &Claim,
    ) -> Result<DeliveryResult, StoreError> {
        let expired = entry
            .notification
            .code_expires_at()
            .filter(|at| *at <= self.clock.now());
        let rendered = self.unsealed(entry).and_then(|e| self.templates.render(&e));
        let result = match (expired, rendered) {
            (Some(at), _) => DeliveryResult::Failed {
                error: format!("the code expired at {at} before it could be delivered"),
            },
            // A template or a wiped code never gets better by waiting.
            (None, Err(e)) => DeliveryResult::Failed {
                error: e.to_string(),
            },
            (None, Ok(rendered)) => {
                let mail = OutgoingMail {
                    message_id: format!(
                        "<{}@{}>",
                        entry.message_key, self.settings.message_id_domain
                    ),
                    date: entry.created_at,
                    to: entry.recipient.clone(),
                    subject: rendered.subject,
                    text: rendered.text,
                    html: rendered.html,
                };
                match self.transport.send(&mail).await {
                    Ok(()) => DeliveryResult::Sent,
                    Err(TransportError::Rejected(error)) => DeliveryResult::Failed { error },
                    Err(TransportError::Temporary(error)) => backoff::after_failure(
                        &self.settings.retry,
                        entry.attempts,
                        error,
                        self.clock.now(),
                        self.random.as_ref(),
                    ),
                }
            }
        };
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let recorded = tx.record_delivery(entry.id, claim, &result, now).await?;
        if recorded {
            if let DeliveryResult::Failed { error } = &result {
                tx.append_audit(&failure_event(entry, error), now).await?;
            }
        }
        tx.commit().await?;
        let (id, kind, attempt) = (entry.id, entry.notification.kind(), entry.attempts);
        match &result {
            DeliveryResult::Sent => tracing::debug!(notification = %id, kind, attempt, "mail sent"),
            DeliveryResult::Retry { at, error } => tracing::warn!(
                notification = %id, kind, attempt, %error, retry_at = %at,
                "mail not delivered; will retry"
            ),
            DeliveryResult::Failed { error } => tracing::error!(
                notification = %id, kind, attempt, %error,
                "mail not delivered; giving up (kept as failed)"
            ),
        }
        if !recorded {
            tracing::warn!(notification = %id, "outbox: claim lapsed before the outcome was recorded");
        } else if let Some(observer) = &self.observer {
            let outcome = match &result {
                DeliveryResult::Sent => AttemptOutcome::Sent,
                DeliveryResult::Retry { .. } => AttemptOutcome::Retry,
                DeliveryResult::Failed { .. } => AttemptOutcome::Failed,
            };
            observer.attempted(outcome, now - entry.created_at);
        }
        Ok(result)
    }
}

/// The audit record of a mail given up on: administrators see it in the history.
fn failure_event(entry: &OutboxEntry, error: &str) -> AuditEvent {
    AuditEvent {
        actor: Actor::System("outbox"),
        subject: Some(entry.audit_subject()),
        action: Action::NotificationFailed,
        channel: AuditChannel::System,
        client: None,
        outcome: Outcome::Failure,
        details: json!({
            "notification": entry.id.0,
            "kind": entry.notification.kind(),
            "attempts": entry.attempts,
            "error": error,
        }),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Mutex;

    use async_trait::async_trait;
    use time::macros::datetime;

    use super::*;
    use crate::account::Email;
    use crate::clock::ManualClock;
    use crate::organisation::OrganisationId;
    use crate::outbox::{
        Code, CodePurpose, DeliveryStatus, Notification, NotificationId, Outgoing, Recipient,
    };
    use crate::random::SeededRandom;
    use crate::store::sqlite::SqliteStore;

    /// Records what it is given; refuses everything while `down`.
    #[derive(Default)]
    struct FakeTransport {
        sent: Mutex<Vec<OutgoingMail>>,
        down: AtomicBool,
    }

    #[async_trait]
    impl Transport for FakeTransport {
        async fn send(&self, mail: &OutgoingMail) -> Result<(), TransportError> {
            if self.down.load(Ordering::SeqCst) {
                return Err(TransportError::Temporary("connection refused".into()));
            }
            self.sent.lock().unwrap().push(mail.clone());
            Ok(())
        }
    }

    struct Setup {
        store: Arc<SqliteStore>,
        keys: Keys,
        clock: Arc<ManualClock>,
        transport: Arc<FakeTransport>,
        org: OrganisationId,
        _dir: tempfile::TempDir,
    }

    async fn setup() -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(
            SqliteStore::open(&dir.path().join("t.sqlite3"))
                .await
                .unwrap(),
        );
        let clock = Arc::new(ManualClock::new(datetime!(2026-01-05 09:00 UTC)));
        let mut tx = store.begin().await.unwrap();
        let org = tx
            .create_organisation("example", "Example Health", clock.now())
            .await
            .unwrap()
            .id;
        tx.commit().await.unwrap();
        Setup {
            store,
            keys: crate::keys::MasterKey::from_bytes([5; 32]).derive(),
            clock,
            transport: Arc::new(FakeTransport::default()),
            org,
            _dir: dir,
        }
    }

    impl Setup {
        fn mailer(&self, seed: u64) -> Mailer {
            Mailer::new(
                self.store.clone(),
                self.transport.clone(),
                Arc::new(Templates::new("Latchkey", "https://unlock.example.org").unwrap()),
                self.clock.clone(),
                Arc::new(SeededRandom::new(seed)),
                self.keys.clone(),
                MailerSettings {
                    retry: RetryPolicy {
                        max_attempts: 3,
                        first_delay: Duration::seconds(60),
                        max_delay: Duration::minutes(10),
                    },
                    claim_for: Duration::minutes(5),
                    batch_size: 10,
                    poll_interval: std::time::Duration::from_millis(5),
                    message_id_domain: "unlock.example.org".into(),
                },
            )
        }

        async fn enqueue(&self, n: &Notification) -> NotificationId {
            let to = Recipient {
                email: Email::parse("email", "bob@example.org").unwrap(),
                name: "Bob Brennan".into(),
                account_id: None,
                username: Some("EXAMPLE\\bob".into()),
            };
            let mut tx = self.store.begin().await.unwrap();
            let mail = Outgoing::new(to, self.org, n.clone(), &self.keys, &SeededRandom::new(99));
            let id = tx
                .enqueue_notification(&mail, self.clock.now())
                .await
                .unwrap();
            tx.commit().await.unwrap();
            id
        }

        async fn row(&self, id: NotificationId) -> OutboxEntry {
            let all = self
                .store
                .read()
                .await
                .unwrap()
                .notifications(None, None, 1000)
                .await
                .unwrap();
            all.into_iter().find(|e| e.id == id).unwrap()
        }

        async fn requeue(&self, id: NotificationId) -> bool {
            let mut tx = self.store.begin().await.unwrap();
            let done = tx.requeue_notification(id, self.clock.now()).await.unwrap();
            tx.commit().await.unwrap();
            done
        }

        async fn audit(&self) -> Vec<crate::audit::AuditRecord> {
            let mut read = self.store.read().await.unwrap();
            read.audit_records(0, 10).await.unwrap()
        }

        fn sent(&self) -> Vec<OutgoingMail> {
            self.transport.sent.lock().unwrap().clone()
        }
    }

    fn code_mail() -> Notification {
        Notification::OneTimeCode {
            code: Code::new("483920"),
            expires_at: datetime!(2026-01-05 09:10 UTC),
            purpose: CodePurpose::Unlock,
        }
    }

    async fn raw_secret(store: &SqliteStore, id: NotificationId) -> Option<Vec<u8>> {
        sqlx::query_scalar("SELECT sealed_code FROM outbox WHERE id = ?")
            .bind(id.0)
            .fetch_one(store.pool())
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn a_due_mail_is_sent_once_and_its_code_wiped() {
        let s = setup().await;
        let id = s.enqueue(&code_mail()).await;
        let sealed = raw_secret(&s.store, id).await.unwrap();
        assert!(
            !sealed.windows(6).any(|w| w == b"483920"),
            "the code waits sealed, never in clear"
        );
        let report = s.mailer(1).deliver_due().await.unwrap();
        assert_eq!((report.claimed, report.sent), (1, 1));
        let sent = s.sent();
        assert_eq!(sent.len(), 1);
        assert!(sent[0].text.contains("483920"));
        assert!(sent[0].message_id.ends_with("@unlock.example.org>"));
        let row = s.row(id).await;
        assert_eq!(row.status, DeliveryStatus::Sent);
        assert!(!row.holds_secret);
        assert_eq!(raw_secret(&s.store, id).await, None, "the code is wiped");
        // Nothing is left to send.
        assert_eq!(s.mailer(1).deliver_due().await.unwrap().claimed, 0);
        assert_eq!(s.sent().len(), 1);
    }

    #[tokio::test]
    async fn failures_back_off_then_give_up_keep_the_row_and_audit_it() {
        let s = setup().await;
        s.transport.down.store(true, Ordering::SeqCst);
        let id = s.enqueue(&code_mail()).await;
        let mailer = s.mailer(2);
        let first = mailer.deliver_due().await.unwrap();
        assert_eq!(first.retried, 1);
        let row = s.row(id).await;
        assert_eq!(row.status, DeliveryStatus::Pending);
        assert_eq!(row.attempts, 1);
        assert_eq!(row.last_error.as_deref(), Some("connection refused"));
        let wait = row.next_attempt_at - s.clock.now();
        assert!(
            (Duration::seconds(30)..=Duration::seconds(60)).contains(&wait),
            "{wait}"
        );
        // Not due yet: nothing is claimed.
        assert_eq!(mailer.deliver_due().await.unwrap().claimed, 0);
        s.clock.advance(wait);
        assert_eq!(mailer.deliver_due().await.unwrap().retried, 1);
        s.clock.advance(Duration::minutes(10));
        assert_eq!(mailer.deliver_due().await.unwrap().failed, 1);
        let row = s.row(id).await;
        assert_eq!(row.status, DeliveryStatus::Failed);
        assert_eq!(row.attempts, 3);
        assert_eq!(
            raw_secret(&s.store, id).await,
            None,
            "a failed code is wiped too"
        );
        let audit = s.audit().await;
        assert_eq!(audit.len(), 1);
        assert_eq!(audit[0].action, "notification_failed");
        assert!(!audit[0].details.contains("483920"));
        // The code is gone, so this mail cannot be sent again; one without a code can.
        assert!(!s.requeue(id).await);
        assert_eq!(s.row(id).await.status, DeliveryStatus::Failed);
        assert!(s.sent().is_empty());
    }

    #[tokio::test]
    async fn a_code_that_expired_while_the_mail_waited_is_never_sent() {
        let s = setup().await;
        s.transport.down.store(true, Ordering::SeqCst);
        let id = s.enqueue(&code_mail()).await;
        let mailer = s.mailer(7);
        assert_eq!(mailer.deliver_due().await.unwrap().retried, 1);
        // The mail server comes back after the code's ten minutes are over.
        s.transport.down.store(false, Ordering::SeqCst);
        s.clock.advance(Duration::minutes(10));
        assert_eq!(mailer.deliver_due().await.unwrap().failed, 1);
        assert!(s.sent().is_empty(), "a dead code is not mailed");
        let row = s.row(id).await;
        assert_eq!(row.status, DeliveryStatus::Failed);
        assert!(row.last_error.unwrap_or_default().contains("expired"));
        assert_eq!(raw_secret(&s.store, id).await, None, "and it is wiped");
        let audit = s.audit().await;
        assert_eq!(audit[0].action, "notification_failed");
    }

    #[tokio::test]
    async fn a_failed_mail_can_be_sent_again_with_its_message_id() {
        let s = setup().await;
        s.transport.down.store(true, Ordering::SeqCst);
        let id = s
            .enqueue(&Notification::AccountLocked {
                until: None,
                links: None,
            })
            .await;
        let mailer = s.mailer(3);
        for _ in 0..3 {
            mailer.deliver_due().await.unwrap();
            s.clock.advance(Duration::minutes(10));
        }
        assert_eq!(s.row(id).await.status, DeliveryStatus::Failed);
        s.transport.down.store(false, Ordering::SeqCst);
        assert!(s.requeue(id).await);
        assert_eq!(mailer.deliver_due().await.unwrap().sent, 1);
        let row = s.row(id).await;
        assert_eq!(row.status, DeliveryStatus::Sent);
        assert_eq!(row.attempts, 1, "a fresh count");
        assert_eq!(
            s.sent()[0].message_id,
            format!("<{}@unlock.example.org>", row.message_key)
        );
    }

    #[tokio::test]
    async fn a_claim_keeps_other_workers_off_until_it_lapses() {
        let s = setup().await;
        let id = s
            .enqueue(&Notification::AccountLocked {
                until: None,
                links: None,
            })
            .await;
        // A worker claims the row and crashes without recording anything.
        let crashed = Claim {
            token: "crashed".into(),
            until: s.clock.now() + Duration::minutes(5),
        };
        let mut tx = s.store.begin().await.unwrap();
        let held = tx
            .claim_notifications(&crashed, s.clock.now(), 10)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(held.len(), 1);
        assert_eq!(s.mailer(4).deliver_due().await.unwrap().claimed, 0);
        s.clock.advance(Duration::minutes(5));
        assert_eq!(s.mailer(4).deliver_due().await.unwrap().sent, 1);
        let row = s.row(id).await;
        assert_eq!((row.status, row.attempts), (DeliveryStatus::Sent, 2));
        // The crashed worker's late retry record changes nothing.
        let mut tx = s.store.begin().await.unwrap();
        let late = DeliveryResult::Retry {
            at: s.clock.now(),
            error: "late".into(),
        };
        assert!(!tx
            .record_delivery(id, &crashed, &late, s.clock.now())
            .await
            .unwrap());
        tx.commit().await.unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_workers_send_each_mail_once() {
        let s = setup().await;
        let mut ids = Vec::new();
        for _ in 0..60 {
            ids.push(
                s.enqueue(&Notification::AccountLocked {
                    until: None,
                    links: None,
                })
                .await,
            );
        }
        let mut tasks = tokio::task::JoinSet::new();
        for seed in 0..6 {
            let mailer = s.mailer(100 + seed);
            tasks.spawn(async move {
                let mut sent = 0;
                loop {
                    let r = mailer.deliver_due().await.unwrap();
                    sent += r.sent;
                    if r.claimed == 0 {
                        return sent;
                    }
                }
            });
        }
        let mut total = 0;
        while let Some(n) = tasks.join_next().await {
            total += n.unwrap();
        }
        assert_eq!(total, 60);
        let mut keys: Vec<String> = s.sent().into_iter().map(|m| m.message_id).collect();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), 60, "no mail sent twice");
    }

    #[tokio::test]
    async fn a_stopping_worker_hands_back_what_it_has_not_sent() {
        let s = setup().await;
        for _ in 0..3 {
            s.enqueue(&Notification::AccountLocked {
                until: None,
                links: None,
            })
            .await;
        }
        let report = s.mailer(5).deliver_batch(&|| true).await.unwrap();
        assert_eq!((report.claimed, report.sent, report.released), (3, 0, 3));
        for row in s
            .store
            .read()
            .await
            .unwrap()
            .notifications(None, None, 10)
            .await
            .unwrap()
        {
            assert_eq!((row.status, row.attempts), (DeliveryStatus::Pending, 0));
        }
        // Released at once, not after the claim would have lapsed.
        assert_eq!(s.mailer(5).deliver_due().await.unwrap().sent, 3);
    }

    #[tokio::test]
    async fn the_run_loop_delivers_and_stops_when_told() {
        let s = setup().await;
        let id = s
            .enqueue(&Notification::AccountLocked {
                until: None,
                links: None,
            })
            .await;
        let (stop, stopped) = watch::channel(false);
        let worker = tokio::spawn(s.mailer(6).run(stopped));
        for _ in 0..1000 {
            if s.row(id).await.status == DeliveryStatus::Sent {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        assert_eq!(s.row(id).await.status, DeliveryStatus::Sent);
        stop.send(true).unwrap();
        worker.await.unwrap();
    }
}
