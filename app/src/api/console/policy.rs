//! Policy editors: lockout per organisation, the self-service flows, the question
//! catalogue. Validated as the command line is, audited with what each change replaced.

use latchkey_types::console::{AupView, AuthFlowView, CatalogueEntry, LockoutPolicyView};
use leptos::prelude::*;
use server_fn::codec::Json;

use crate::codec::StrictJson;
use crate::error::ApiError;

/// `POST /api/lockout_policies` — the lockout policy of each organisation the operator
/// manages.
#[server(prefix = "/api", endpoint = "lockout_policies", input = StrictJson, output = Json)]
pub async fn lockout_policies() -> Result<Vec<LockoutPolicyView>, ApiError> {
    let state = crate::ssr::state()?;
    let (_, caller) = crate::ssr::require_operator(&state).await?;
    Ok(state
        .core
        .lockout_policies(&caller)
        .await?
        .iter()
        .map(|(org, policy)| latchkey_core::policy::policy_view(org, policy))
        .collect())
}

/// `POST /api/lockout_policy_set` — an organisation's new lockout policy.
#[server(prefix = "/api", endpoint = "lockout_policy_set", input = StrictJson, output = Json)]
pub async fn lockout_policy_set(policy: LockoutPolicyView) -> Result<(), ApiError> {
    let state = crate::ssr::state()?;
    let (_, caller) = crate::ssr::require_operator(&state).await?;
    let org = state
        .core
        .policy_organisation(&caller, &policy.organisation)
        .await?;
    let rule = latchkey_core::policy::policy_of(&policy);
    Ok(state
        .core
        .set_lockout_policy(&caller, org.id, &rule)
        .await?)
}

/// `POST /api/auth_flows` — each channel's self-service flow.
#[server(prefix = "/api", endpoint = "auth_flows", input = StrictJson, output = Json)]
pub async fn auth_flows() -> Result<Vec<AuthFlowView>, ApiError> {
    let state = crate::ssr::state()?;
    let (_, caller) = crate::ssr::require_operator(&state).await?;
    Ok(state
        .core
        .auth_flows(&caller)
        .await?
        .into_iter()
        .map(|(scope, factors)| AuthFlowView { scope, factors })
        .collect())
}

/// `POST /api/auth_flow_set` — one channel's flow, or (scope `all`) one for every channel.
#[server(prefix = "/api", endpoint = "auth_flow_set", input = StrictJson, output = Json)]
pub async fn auth_flow_set(flow: AuthFlowView) -> Result<(), ApiError> {
    let state = crate::ssr::state()?;
    let (_, caller) = crate::ssr::require_operator(&state).await?;
    Ok(state
        .core
        .set_auth_flow(&caller, flow.scope, &flow.factors)
        .await?)
}

/// `POST /api/catalogue` — an organisation's security-question catalogue.
#[server(prefix = "/api", endpoint = "catalogue", input = StrictJson, output = Json)]
pub async fn catalogue(organisation: String) -> Result<Vec<CatalogueEntry>, ApiError> {
    let state = crate::ssr::state()?;
    let (_, caller) = crate::ssr::require_operator(&state).await?;
    Ok(state
        .core
        .question_catalogue(&caller, &organisation)
        .await?)
}

/// `POST /api/catalogue_add` — a new question in an organisation's catalogue.
#[server(prefix = "/api", endpoint = "catalogue_add", input = StrictJson, output = Json)]
pub async fn catalogue_add(organisation: String, text: String) -> Result<(), ApiError> {
    let state = crate::ssr::state()?;
    let (_, caller) = crate::ssr::require_operator(&state).await?;
    Ok(state
        .core
        .add_catalogue_question(&caller, &organisation, &text)
        .await?)
}

/// `POST /api/catalogue_set_active` — takes a question out of use, or back.
#[server(prefix = "/api", endpoint = "catalogue_set_active", input = StrictJson, output = Json)]
pub async fn catalogue_set_active(
    organisation: String,
    id: i64,
    active: bool,
) -> Result<(), ApiError> {
    let state = crate::ssr::state()?;
    let (_, caller) = crate::ssr::require_operator(&state).await?;
    Ok(state
        .core
        .set_catalogue_question_active(&caller, &organisation, id, active)
        .await?)
}

/// `POST /api/aup` — an organisation's acceptable use policy (version 0: none yet).
#[server(prefix = "/api", endpoint = "aup", input = StrictJson, output = Json)]
pub async fn aup(organisation: String) -> Result<AupView, ApiError> {
    let state = crate::ssr::state()?;
    let (_, caller) = crate::ssr::require_operator(&state).await?;
    Ok(state.core.aup_view(&caller, &organisation).await?)
}

/// `POST /api/aup_set` — a new text of the policy: a new version everyone accepts again.
/// Answers the new version.
#[server(prefix = "/api", endpoint = "aup_set", input = StrictJson, output = Json)]
pub async fn aup_set(organisation: String, text: String) -> Result<i64, ApiError> {
    let state = crate::ssr::state()?;
    let (_, caller) = crate::ssr::require_operator(&state).await?;
    Ok(state.core.set_aup(&caller, &organisation, &text).await?)
}
