//! The history, the chain's verification and the lock activity dashboard.

use latchkey_types::console::{Activity, ChainState, HistoryFilter, HistoryPage};
use leptos::prelude::*;
use server_fn::codec::Json;

use crate::codec::StrictJson;
use crate::error::ApiError;

/// `POST /api/history` — a page of audit records, newest first, older than `before`.
#[server(prefix = "/api", endpoint = "history", input = StrictJson, output = Json)]
pub async fn history(filter: HistoryFilter, before: Option<i64>) -> Result<HistoryPage, ApiError> {
    let state = crate::ssr::state()?;
    let (_, caller) = crate::ssr::require_operator(&state).await?;
    Ok(state
        .core
        .history(
            &caller,
            &filter,
            before,
            latchkey_core::history::HISTORY_PAGE,
        )
        .await?)
}

/// `POST /api/chain_state` — whether the audit log's hash chain is intact.
#[server(prefix = "/api", endpoint = "chain_state", input = StrictJson, output = Json)]
pub async fn fetch_chain_state() -> Result<ChainState, ApiError> {
    let state = crate::ssr::state()?;
    let (_, caller) = crate::ssr::require_operator(&state).await?;
    Ok(state.core.chain_state(&caller).await?)
}

/// `POST /api/activity` — the lock activity dashboard.
#[server(prefix = "/api", endpoint = "activity", input = StrictJson, output = Json)]
pub async fn fetch_activity() -> Result<Activity, ApiError> {
    let state = crate::ssr::state()?;
    let (_, caller) = crate::ssr::require_operator(&state).await?;
    Ok(state.core.activity(&caller).await?)
}
