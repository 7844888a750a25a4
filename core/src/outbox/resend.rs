//! Operators and the outbox: what is waiting or failed, and sending a failed mail again.

use latchkey_types::console::MailView;
use serde_json::json;

use super::{DeliveryStatus, NotificationId, OutboxEntry};
use crate::audit::{Action, Caller, Outcome};
use crate::authz::{self, Permission, Target};
use crate::error::{CoreError, Invalid};
use crate::service::Latchkey;

impl Latchkey {
    /// Outbox rows the caller may see, newest first, optionally only those in `status`;
    /// never their codes.
    pub async fn notifications(
        &self,
        caller: &Caller,
        status: Option<DeliveryStatus>,
        limit: u32,
    ) -> Result<Vec<OutboxEntry>, CoreError> {
        let reach = authz::reach(&caller.actor, Permission::ReadHistory)?;
        Ok(self
            .read()
            .await?
            .notifications(reach.organisation(), status, limit)
            .await?)
    }

    /// Waiting and failed mail as the console lists it (never a code), newest first.
    pub async fn mail_views(&self, caller: &Caller) -> Result<Vec<MailView>, CoreError> {
        let mut views = Vec::new();
        for status in [DeliveryStatus::Failed, DeliveryStatus::Pending] {
            for e in self.notifications(caller, Some(status), 200).await? {
                views.push(MailView {
                    id: e.message_key.clone(),
                    kind: e.notification.kind().to_owned(),
                    to: e.recipient.email.as_str().to_owned(),
                    organisation: e.organisation_name.clone(),
                    status: e.status,
                    attempts: e.attempts,
                    created_at: e.created_at.unix_timestamp(),
                    last_error: e.last_error.clone(),
                    can_resend: e.status == DeliveryStatus::Failed
                        && (!e.notification.secret_required() || e.holds_secret),
                });
            }
        }
        views.sort_by_key(|v| std::cmp::Reverse(v.created_at));
        Ok(views)
    }

    /// Sends a failed mail again, named as the console names it (its Message-ID's key).
    pub async fn resend_mail(&self, caller: &Caller, key: &str) -> Result<(), CoreError> {
        let entry = self
            .read()
            .await?
            .notification_by_key(key)
            .await?
            .ok_or(CoreError::NotFound)?;
        authz::check(
            &caller.actor,
            Permission::ManageUsers,
            Target::Organisation(entry.organisation_id),
        )?;
        self.resend_notification(caller, entry.id).await.map(|_| ())
    }

    /// Puts a failed mail back in the queue, due now, with a fresh count of attempts and
    /// its original Message-ID, and records who asked. Only a failed mail can be sent
    /// again, and not one whose code was wiped when it failed (the person asks for a new
    /// code).
    pub async fn resend_notification(
        &self,
        caller: &Caller,
        id: NotificationId,
    ) -> Result<OutboxEntry, CoreError> {
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let missing = || Invalid::new("id", format!("There is no mail number {}.", id.0));
        let entry = tx.notification(id).await?.ok_or_else(missing)?;
        authz::check(
            &caller.actor,
            Permission::ManageUsers,
            Target::Organisation(entry.organisation_id),
        )
        .map_err(|denied| match denied {
            authz::Denied::NotFound => CoreError::from(missing()),
            other => other.into(),
        })?;
        if entry.status != DeliveryStatus::Failed {
            return Err(Invalid::new(
                "id",
                format!(
                    "This mail is {}, not failed; only failed mail can be sent again.",
                    entry.status.as_str()
                ),
            )
            .into());
        }
        if !tx.requeue_notification(id, now).await? {
            return Err(Invalid::new(
                "id",
                "This mail carried a one-time code, deleted when the mail failed; the person \
                 must ask for a new code.",
            )
            .into());
        }
        let details = json!({
            "notification": id.0,
            "kind": entry.notification.kind(),
            "last_error": entry.last_error,
        });
        let event = caller.event(
            Action::NotificationResent,
            Some(entry.audit_subject()),
            Outcome::Success,
            details,
        );
        tx.append_audit(&event, now).await?;
        tx.commit().await?;
        Ok(entry)
    }
}
