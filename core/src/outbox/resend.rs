//! Sending a failed mail again, on an operator's word.

use serde_json::json;
use time::OffsetDateTime;

use super::{NotificationId, OutboxEntry};
use crate::audit::{self, Action, Actor, AuditEvent, Outcome};
use crate::error::{CoreError, Invalid};
use crate::outbox::DeliveryStatus;
use crate::store::Store;

/// Puts a failed mail back in the queue, due now, with a fresh count of attempts and its
/// original Message-ID, and records who asked. Only a failed mail can be sent again, and
/// not one whose code was wiped when it failed (the person asks for a new code).
pub async fn resend(
    store: &dyn Store,
    id: NotificationId,
    actor: Actor,
    channel: audit::Channel,
    now: OffsetDateTime,
) -> Result<OutboxEntry, CoreError> {
    let mut tx = store.begin().await?;
    let entry = tx
        .notification(id)
        .await?
        .ok_or_else(|| Invalid::new("id", format!("There is no mail number {}.", id.0)))?;
    if entry.status != DeliveryStatus::Failed {
        return Err(Invalid::new(
            "id",
            format!(
                "Mail {} is {}, not failed; only failed mail can be sent again.",
                id.0,
                entry.status.as_str()
            ),
        )
        .into());
    }
    if !tx.requeue_notification(id, now).await? {
        return Err(Invalid::new(
            "id",
            format!(
                "Mail {} carried a one-time code, deleted when the mail failed; \
                 the person must ask for a new code.",
                id.0
            ),
        )
        .into());
    }
    let event = AuditEvent {
        actor,
        subject: Some(entry.audit_subject()),
        action: Action::NotificationResent,
        channel,
        client: None,
        outcome: Outcome::Success,
        details: json!({
            "notification": id.0,
            "kind": entry.notification.kind(),
            "last_error": entry.last_error,
        }),
    };
    tx.append_audit(&event, now).await?;
    tx.commit().await?;
    Ok(entry)
}
