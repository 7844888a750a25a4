//! Self-service: the authentication flow of each channel, flows in progress, the
//! per-name throttle and spent captchas.

use async_trait::async_trait;
use latchkey_types::{Channel, FactorKind, FlowScope};
use time::OffsetDateTime;

use super::StoreError;
use crate::flow::Flow;
use crate::throttle::Throttle;

#[async_trait]
pub trait FlowsRead: Send {
    /// The factors of `channel`'s authentication flow, in order.
    async fn auth_flow(&mut self, channel: Channel) -> Result<Vec<FactorKind>, StoreError>;

    /// Which factor of the flow for `scope` (a channel's own, or else `all`) may be
    /// answered with which other instead: (factor, alternative) pairs.
    async fn auth_flow_alternatives(
        &mut self,
        scope: FlowScope,
    ) -> Result<Vec<(FactorKind, FactorKind)>, StoreError>;

    /// Every configured flow: its scope and factors, `all` first.
    async fn auth_flows(&mut self) -> Result<Vec<(FlowScope, Vec<FactorKind>)>, StoreError>;

    /// The flow (inside a transaction: under its lock).
    async fn flow(&mut self, id_hash: &str) -> Result<Option<Flow>, StoreError>;

    /// Failed self-service authentications for a name (none yet: the default).
    async fn throttle(&mut self, subject_name: &str) -> Result<Throttle, StoreError>;
}

#[async_trait]
pub trait FlowsWrite: Send {
    /// Sets a channel's flow, or (scope `all`) one flow for every channel.
    async fn set_auth_flow(
        &mut self,
        scope: FlowScope,
        factors: &[FactorKind],
        now: OffsetDateTime,
    ) -> Result<(), StoreError>;

    /// Sets the alternatives of the flow stored for `scope` (after [`Self::set_auth_flow`],
    /// which keeps a row's alternatives as they were).
    async fn set_auth_flow_alternatives(
        &mut self,
        scope: FlowScope,
        alternatives: &[(FactorKind, FactorKind)],
        now: OffsetDateTime,
    ) -> Result<(), StoreError>;

    async fn create_flow(&mut self, flow: &Flow, client: &str) -> Result<(), StoreError>;

    async fn save_flow(&mut self, flow: &Flow) -> Result<(), StoreError>;

    async fn save_throttle(
        &mut self,
        subject_name: &str,
        throttle: &Throttle,
    ) -> Result<(), StoreError>;

    /// Records a captcha solution as spent; answers `false` if it already was.
    async fn spend_captcha(
        &mut self,
        signature: &str,
        expires_at: OffsetDateTime,
    ) -> Result<bool, StoreError>;

    /// Deletes flows that ended a day before `now` and spent captchas past their
    /// expiry (nothing can use them any more).
    async fn purge_expired(&mut self, now: OffsetDateTime) -> Result<(), StoreError>;
}
