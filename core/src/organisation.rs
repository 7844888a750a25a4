//! Organisations and the identity stores that hold their accounts.

use serde::{Deserialize, Serialize};
use serde_json::json;
use time::OffsetDateTime;

use crate::audit::{self, Action, Actor, AuditEvent, Outcome};
use crate::error::CoreError;
use crate::lockout::{LockDuration, LockoutPolicy};
use crate::store::Store;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct OrganisationId(pub i64);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct StoreId(pub i64);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organisation {
    pub id: OrganisationId,
    pub slug: String,
    pub name: String,
}

/// How an identity store keeps its accounts. Only Latchkey's own store exists today;
/// a directory kind (LDAP) adds a variant here and a connector that knows how to clear
/// the directory's own lockout attributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StoreKind {
    Builtin,
}

impl StoreKind {
    pub fn as_str(self) -> &'static str {
        match self {
            StoreKind::Builtin => "builtin",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityStore {
    pub id: StoreId,
    pub organisation_id: OrganisationId,
    pub name: String,
    pub kind: StoreKind,
}

/// Changes an organisation's lockout policy and records who did it and what it was
/// before, in one transaction. Accounts already locked keep their lock; the new policy
/// counts from the next failed attempt.
pub async fn configure_lockout_policy(
    store: &dyn Store,
    org: &Organisation,
    policy: &LockoutPolicy,
    actor: Actor,
    channel: audit::Channel,
    now: OffsetDateTime,
) -> Result<(), CoreError> {
    policy.validate()?;
    let mut tx = store.begin().await?;
    let before = tx.lockout_policy(org.id).await?;
    tx.set_lockout_policy(org.id, policy).await?;
    let minutes = |p: &LockoutPolicy| match p.duration {
        LockDuration::Temporary(d) => Some(d.whole_minutes()),
        LockDuration::UntilUnlocked => None,
    };
    let event = AuditEvent {
        actor,
        subject: None,
        action: Action::SetLockoutPolicy,
        channel,
        client: None,
        outcome: Outcome::Success,
        details: json!({
            "organisation": org.slug,
            "failed_attempts": policy.threshold,
            "window_minutes": policy.window.whole_minutes(),
            "lock_minutes": minutes(policy),
            "before": before.to_string(),
        }),
    };
    tx.append_audit(&event, now).await?;
    tx.commit().await?;
    Ok(())
}
