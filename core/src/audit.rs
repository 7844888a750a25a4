//! The audit log: who did what to whom, from where, with what outcome, and when.
//!
//! Records are append-only (database triggers refuse updates and deletes) and chained:
//! each carries the SHA-256 of its own content and of the previous record's hash, so an
//! edited, removed or reordered record breaks the chain at a point that
//! [`verify_chain`] names.

use std::net::IpAddr;

pub use latchkey_types::{Action, AuditChannel, Outcome};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::account::{Account, AccountId};
use crate::organisation::OrganisationId;
use latchkey_types::Role;

/// The `prev_hash` of the first record.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Who acted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// Someone not (yet) signed in, e.g. during sign-in or self-service.
    Anonymous,
    /// A signed-in account acting on itself.
    Account { id: AccountId, username: String },
    /// An operator in the console, with the roles they hold in their organisation.
    Operator(Operator),
    /// Latchkey itself (a background job, a command-line action).
    System(&'static str),
}

/// An operator: an account that holds roles in its organisation (see `crate::authz`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operator {
    pub account: AccountId,
    /// `STORE\username`, as the audit log names them.
    pub username: String,
    pub organisation: OrganisationId,
    pub roles: Vec<Role>,
}

/// Who acts and from where: what the audit record of an operator's action says about
/// its origin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub actor: Actor,
    pub channel: AuditChannel,
    pub client: Option<IpAddr>,
}

impl Caller {
    /// Latchkey itself, e.g. `Caller::system("command line")`.
    pub fn system(what: &'static str) -> Self {
        Self {
            actor: Actor::System(what),
            channel: AuditChannel::System,
            client: None,
        }
    }

    /// An operator in the console, from `client`.
    pub fn console(operator: Operator, client: Option<IpAddr>) -> Self {
        Self {
            actor: Actor::Operator(operator),
            channel: AuditChannel::Console,
            client,
        }
    }

    /// The audit record of something this caller did.
    pub fn event(
        &self,
        action: Action,
        subject: Option<Subject>,
        outcome: Outcome,
        details: serde_json::Value,
    ) -> AuditEvent {
        AuditEvent {
            actor: self.actor.clone(),
            subject,
            action,
            channel: self.channel,
            client: self.client,
            outcome,
            details,
        }
    }
}

impl Actor {
    /// A signed-in account acting.
    pub fn account(account: &Account) -> Self {
        Actor::Account {
            id: account.id,
            username: account.qualified_name(),
        }
    }

    pub fn label(&self) -> String {
        match self {
            Actor::Anonymous => "anonymous".to_owned(),
            Actor::Account { username, .. } => username.clone(),
            Actor::Operator(o) => o.username.clone(),
            Actor::System(what) => format!("system:{what}"),
        }
    }

    pub fn account_id(&self) -> Option<AccountId> {
        match self {
            Actor::Account { id, .. } => Some(*id),
            Actor::Operator(o) => Some(o.account),
            Actor::Anonymous | Actor::System(_) => None,
        }
    }
}

/// Whom it was about: an account, or just the name someone typed (an unknown user).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    pub account: Option<AccountId>,
    pub name: String,
}

impl Subject {
    /// An existing account, named `STORE\username`.
    pub fn account(account: &Account) -> Self {
        Subject {
            account: Some(account.id),
            name: account.qualified_name(),
        }
    }
}

/// A record to append; the store gives it its sequence number, time and hashes.
#[derive(Debug, Clone)]
pub struct AuditEvent {
    pub actor: Actor,
    pub subject: Option<Subject>,
    pub action: Action,
    pub channel: AuditChannel,
    pub client: Option<IpAddr>,
    pub outcome: Outcome,
    /// Action-specific facts (a reason, counts). Never a secret.
    pub details: serde_json::Value,
}

impl AuditEvent {
    /// Something nobody signed in did through the portal on `channel`, from `client`
    /// (a self-service step, a lock mail's link, the Contact support form).
    pub fn anonymous(
        channel: latchkey_types::Channel,
        action: Action,
        subject: Option<Subject>,
        client: IpAddr,
        outcome: Outcome,
        details: serde_json::Value,
    ) -> Self {
        Self {
            actor: Actor::Anonymous,
            subject,
            action,
            channel: AuditChannel::from(channel),
            client: Some(client),
            outcome,
            details,
        }
    }
}

/// A record as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AuditRecord {
    pub seq: i64,
    pub at: i64,
    pub actor: String,
    pub actor_account_id: Option<i64>,
    pub subject_account_id: Option<i64>,
    pub subject: Option<String>,
    pub action: String,
    pub channel: String,
    pub client_addr: Option<String>,
    pub outcome: String,
    pub details: String,
    pub prev_hash: String,
    pub hash: String,
}

impl AuditRecord {
    /// Logs the record's sequence number with its action, in the current span: a
    /// request's log lines then lead to its audit records. Written inside the
    /// transaction, so a transaction that fails after it logs that failure too.
    pub(crate) fn log_written(&self) {
        tracing::info!(
            audit_seq = self.seq,
            action = %self.action,
            channel = %self.channel,
            outcome = %self.outcome,
            "audit record written"
        );
    }

    /// Builds the next record after `prev_hash`, computing its hash.
    pub fn new(seq: i64, at: OffsetDateTime, event: &AuditEvent, prev_hash: &str) -> Self {
        let mut record = AuditRecord {
            seq,
            at: at.unix_timestamp(),
            actor: event.actor.label(),
            actor_account_id: event.actor.account_id().map(|a| a.0),
            subject_account_id: event.subject.as_ref().and_then(|s| s.account).map(|a| a.0),
            subject: event.subject.as_ref().map(|s| s.name.clone()),
            action: event.action.as_str().to_owned(),
            channel: event.channel.as_str().to_owned(),
            client_addr: event.client.map(|c| c.to_string()),
            outcome: event.outcome.as_str().to_owned(),
            details: event.details.to_string(),
            prev_hash: prev_hash.to_owned(),
            hash: String::new(),
        };
        record.hash = record.compute_hash();
        record
    }

    /// SHA-256 over every field but `hash`, each length-prefixed so that no two
    /// different records can produce the same input.
    pub fn compute_hash(&self) -> String {
        let mut h = Sha256::new();
        let mut field = |value: Option<&str>| match value {
            None => h.update(b"-;"),
            Some(v) => {
                h.update(v.len().to_string().as_bytes());
                h.update(b":");
                h.update(v.as_bytes());
                h.update(b";");
            }
        };
        field(Some(&self.seq.to_string()));
        field(Some(&self.at.to_string()));
        field(Some(&self.actor));
        field(self.actor_account_id.map(|v| v.to_string()).as_deref());
        field(self.subject_account_id.map(|v| v.to_string()).as_deref());
        field(self.subject.as_deref());
        field(Some(&self.action));
        field(Some(&self.channel));
        field(self.client_addr.as_deref());
        field(Some(&self.outcome));
        field(Some(&self.details));
        field(Some(&self.prev_hash));
        hex::encode(h.finalize())
    }
}

/// Where and why the chain is broken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("audit record #{seq} is broken: {reason}")]
pub struct BrokenChain {
    pub seq: i64,
    pub reason: String,
}

/// Checks records in order, carrying the chain across calls (the store pages through a
/// long log). Start with [`ChainCursor::default`].
#[derive(Debug, Clone)]
pub struct ChainCursor {
    pub last_seq: i64,
    pub last_hash: String,
    pub checked: u64,
}

impl Default for ChainCursor {
    fn default() -> Self {
        Self {
            last_seq: 0,
            last_hash: GENESIS_HASH.to_owned(),
            checked: 0,
        }
    }
}

/// Verifies `records` (in sequence order) continue the chain at `cursor`.
pub fn verify_chain<'a>(
    cursor: &mut ChainCursor,
    records: impl IntoIterator<Item = &'a AuditRecord>,
) -> Result<(), BrokenChain> {
    for r in records {
        let broken = |reason: &str| BrokenChain {
            seq: r.seq,
            reason: reason.to_owned(),
        };
        if r.seq != cursor.last_seq + 1 {
            return Err(BrokenChain {
                seq: cursor.last_seq + 1,
                reason: format!("missing (the next record found is #{})", r.seq),
            });
        }
        if r.prev_hash != cursor.last_hash {
            return Err(broken(
                "it does not follow the previous record (prev_hash differs)",
            ));
        }
        if r.compute_hash() != r.hash {
            return Err(broken("its content was changed (hash differs)"));
        }
        cursor.last_seq = r.seq;
        cursor.last_hash = r.hash.clone();
        cursor.checked += 1;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn chain(n: i64) -> Vec<AuditRecord> {
        let mut prev = GENESIS_HASH.to_owned();
        (1..=n)
            .map(|seq| {
                let event = AuditEvent {
                    actor: Actor::Anonymous,
                    subject: Some(Subject {
                        account: Some(AccountId(7)),
                        name: "alice".into(),
                    }),
                    action: Action::SignIn,
                    channel: AuditChannel::Web,
                    client: Some("192.0.2.1".parse().unwrap()),
                    outcome: Outcome::Failure,
                    details: serde_json::json!({ "reason": "wrong_password", "n": seq }),
                };
                let r = AuditRecord::new(seq, datetime!(2026-01-01 00:00 UTC), &event, &prev);
                prev = r.hash.clone();
                r
            })
            .collect()
    }

    #[test]
    fn an_intact_chain_verifies() {
        let records = chain(5);
        let mut cursor = ChainCursor::default();
        verify_chain(&mut cursor, &records).unwrap();
        assert_eq!(cursor.checked, 5);
    }

    #[test]
    fn an_edited_record_is_named() {
        let mut records = chain(5);
        records[2].outcome = "success".into();
        let err = verify_chain(&mut ChainCursor::default(), &records).unwrap_err();
        assert_eq!(err.seq, 3);
    }

    #[test]
    fn a_rehashed_edit_breaks_the_next_link() {
        let mut records = chain(5);
        records[2].outcome = "success".into();
        records[2].hash = records[2].compute_hash();
        let err = verify_chain(&mut ChainCursor::default(), &records).unwrap_err();
        assert_eq!(err.seq, 4);
    }

    #[test]
    fn a_removed_record_is_named() {
        let mut records = chain(5);
        records.remove(1);
        let err = verify_chain(&mut ChainCursor::default(), &records).unwrap_err();
        assert_eq!(err.seq, 2);
    }
}
