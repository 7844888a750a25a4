//! The history (seed 004's History, and more): every audit record the caller may read,
//! filtered and paged, the chain's verification, and the lock activity dashboard. Local
//! administrators see the records about accounts of their own organisation (by the
//! subject's organisation, else the actor's); global administrators everything.

use latchkey_types::console::{
    Activity, Bucket, ChainState, ClientCount, HistoryFilter, HistoryPage,
};
use latchkey_types::{Action, AuditChannel, Outcome};
use time::Duration;

use crate::audit::Caller;
use crate::authz::{self, Permission, Reach};
use crate::error::{CoreError, Invalid};
use crate::service::{AuditVerification, Latchkey};
use crate::store::{AuditCount, AuditSearch};
use crate::users::entry;

/// Records on a page of the history.
pub const HISTORY_PAGE: u32 = 50;
/// Records read per round trip when exporting.
pub const EXPORT_PAGE: u32 = 1000;
/// Longest text filter.
const FILTER_MAX_CHARS: usize = 200;
/// What the dashboard looks back over.
const WEEK: Duration = Duration::days(7);

impl Latchkey {
    /// A page of the history, newest first: records older than `before` (a sequence
    /// number from the previous page), at most `limit` of them (up to [`EXPORT_PAGE`]).
    pub async fn history(
        &self,
        caller: &Caller,
        filter: &HistoryFilter,
        before: Option<i64>,
        limit: u32,
    ) -> Result<HistoryPage, CoreError> {
        let reach = authz::reach(&caller.actor, Permission::ReadHistory)?;
        for (field, text) in [("actor", &filter.actor), ("subject", &filter.subject)] {
            if text
                .as_ref()
                .is_some_and(|t| t.chars().count() > FILTER_MAX_CHARS)
            {
                return Err(Invalid::new(
                    field,
                    format!("Filter by at most {FILTER_MAX_CHARS} characters."),
                )
                .into());
            }
        }
        if let (Some(from), Some(to)) = (filter.from, filter.to) {
            if from >= to {
                return Err(Invalid::new("to", "Choose an end after the start.").into());
            }
        }
        let limit = limit.clamp(1, EXPORT_PAGE);
        let search = AuditSearch {
            organisation: reach.organisation(),
            actor: filter.actor.clone().filter(|t| !t.trim().is_empty()),
            subject: filter.subject.clone().filter(|t| !t.trim().is_empty()),
            action: filter.action,
            channel: filter.channel,
            outcome: filter.outcome,
            from: filter.from,
            to: filter.to,
            before,
            limit: limit + 1,
        };
        let mut records = self.read().await?.audit_search(&search).await?;
        let more = records.len() > limit as usize;
        records.truncate(limit as usize);
        let next = more.then(|| records.last().map(|r| r.seq)).flatten();
        Ok(HistoryPage {
            entries: records.into_iter().map(entry).collect(),
            next,
        })
    }

    /// Records that the caller is about to download the history under `filter` (the
    /// pages themselves come from [`Latchkey::history`]).
    pub async fn record_history_export(
        &self,
        caller: &Caller,
        filter: &HistoryFilter,
    ) -> Result<(), CoreError> {
        authz::reach(&caller.actor, Permission::ReadHistory)?;
        let now = self.clock.now();
        let details = serde_json::to_value(filter)
            .map_err(|e| CoreError::Internal(format!("history filter: {e}")))?;
        let event = caller.event(
            crate::audit::Action::ExportHistory,
            None,
            Outcome::Success,
            details,
        );
        let mut tx = self.store.begin().await?;
        tx.append_audit(&event, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Whether the audit log's hash chain is intact, as the history page shows it. The
    /// number of records is shown to those who see every record.
    pub async fn chain_state(&self, caller: &Caller) -> Result<ChainState, CoreError> {
        let reach = authz::reach(&caller.actor, Permission::ReadHistory)?;
        Ok(match self.verify_chain().await? {
            AuditVerification::Intact { records } => ChainState::Intact {
                records: if reach == Reach::Everywhere {
                    records
                } else {
                    0
                },
            },
            AuditVerification::Broken(b) => ChainState::Broken {
                seq: b.seq,
                reason: b.reason,
            },
        })
    }

    /// The lock activity dashboard over the last seven days.
    pub async fn activity(&self, caller: &Caller) -> Result<Activity, CoreError> {
        let reach = authz::reach(&caller.actor, Permission::ReadHistory)?;
        let now = self.clock.now();
        // The window ends just after this second, so what happened just now is counted.
        let to = now.unix_timestamp() + 1;
        let from = to - WEEK.whole_seconds();
        let hour = Duration::hours(1).whole_seconds();
        let day = Duration::days(1).whole_seconds();
        let count = |action, channels: Vec<AuditChannel>, period| AuditCount {
            organisation: reach.organisation(),
            action,
            channels,
            outcome: Some(Outcome::Success),
            from,
            to,
            period,
        };
        let portal = vec![
            AuditChannel::Web,
            AuditChannel::Mobile,
            AuditChannel::Desktop,
        ];
        let mut read = self.read().await?;
        let locks = read
            .audit_counts(&count(Action::Lock, vec![], hour))
            .await?;
        let self_service = read
            .audit_counts(&count(Action::Unlock, portal, day))
            .await?;
        let operators = read
            .audit_counts(&count(Action::Unlock, vec![AuditChannel::Console], day))
            .await?;
        let top = read
            .audit_top_clients(
                reach.organisation(),
                Action::SignIn,
                Outcome::Failure,
                from,
                to,
                10,
            )
            .await?;
        let locked_now = read.count_locked(reach.organisation(), now).await?;
        Ok(Activity {
            locks_per_hour: buckets(&locks, from, hour, 7 * 24),
            self_service_unlocks: buckets(&self_service, from, day, 7),
            operator_unlocks: buckets(&operators, from, day, 7),
            top_failed_clients: top
                .into_iter()
                .map(|(client, failures)| ClientCount { client, failures })
                .collect(),
            locked_now: u32::try_from(locked_now).unwrap_or(u32::MAX),
        })
    }
}

/// Every one of `n` periods of `period` seconds from `from`, with its count (zero where
/// the store had none).
fn buckets(counted: &[(i64, u32)], from: i64, period: i64, n: i64) -> Vec<Bucket> {
    (0..n)
        .map(|i| {
            let start = from + i * period;
            let count = counted
                .iter()
                .find(|(s, _)| *s == start)
                .map_or(0, |(_, c)| *c);
            Bucket { start, count }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_period_gets_a_bar_and_empty_ones_are_zero() {
        let b = buckets(&[(100, 3), (300, 1)], 100, 100, 4);
        assert_eq!(
            b.iter().map(|b| (b.start, b.count)).collect::<Vec<_>>(),
            vec![(100, 3), (200, 0), (300, 1), (400, 0)]
        );
    }
}
