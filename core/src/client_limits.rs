//! Per-client limits in use: every sign-in and self-service request counts against its
//! address's request quota and every failed authentication against its failure quota
//! (`crate::throttle`). The counts live in the store, so every server on one database
//! shares one budget per client: N servers do not give an attacker N budgets.

use std::net::IpAddr;

use time::OffsetDateTime;

use crate::clock::{from_micros, micros};
use crate::error::CoreError;
use crate::service::Latchkey;
use crate::store::Tx;
use crate::throttle::{retry_after, ClientKeys};

impl Latchkey {
    /// Counts a request from `client` now; refuses it beyond the request rate, or while
    /// the client's failure budget is spent. Its own short transaction, before any work.
    pub(crate) async fn count_request(&self, client: IpAddr) -> Result<(), CoreError> {
        let now = self.clock.now();
        let keys = ClientKeys::of(client);
        let mut tx = self.store.begin().await?;
        let taken = tx
            .take_quota(&keys.requests, &self.limits.requests, now)
            .await?;
        let blocked = tx.blocked_until(&keys.blocked, now).await?;
        tx.commit().await?;
        taken.map_err(retry_after)?;
        match blocked {
            Some(until) => Err(retry_after(micros(until) - micros(now))),
            None => Ok(()),
        }
    }

    /// Records a failed authentication by `client` now, in a transaction of its own.
    pub(crate) async fn count_failure(&self, client: IpAddr) -> Result<(), CoreError> {
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        self.count_failure_in(tx.as_mut(), client, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records a failed authentication inside `tx` (the transaction that records the
    /// failure itself). Once the client's budget is spent, its requests are refused until
    /// the budget has refilled enough for one more try.
    pub(crate) async fn count_failure_in(
        &self,
        tx: &mut dyn Tx,
        client: IpAddr,
        now: OffsetDateTime,
    ) -> Result<(), CoreError> {
        let keys = ClientKeys::of(client);
        if let Err(wait) = tx
            .take_quota(&keys.failures, &self.limits.failures, now)
            .await?
        {
            tx.block(&keys.blocked, from_micros(micros(now) + wait))
                .await?;
        }
        Ok(())
    }
}
