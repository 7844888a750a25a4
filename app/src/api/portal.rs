//! What the self-service portal needs before anyone identifies themselves.

use latchkey_types::{Branding, Channel, HelpDesk};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use server_fn::codec::Json;

use crate::codec::StrictJson;
use crate::error::ApiError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PortalInfo {
    /// The product name shown in headings and the page title.
    pub product_name: String,
    /// The organisation's name and logo, for the header.
    pub organisation: Branding,
    /// How to reach a person (every part optional).
    pub help_desk: HelpDesk,
    /// The channels an administrator has enabled, in display order.
    pub channels: Vec<Channel>,
    /// Whether this browser has a live session: the header then links to the account
    /// instead of to signing in. A hint for navigation only; every server function
    /// checks the session itself.
    pub signed_in: bool,
}

/// `POST /api/portal_info` — the product name and enabled channels.
#[server(prefix = "/api", endpoint = "portal_info", input = StrictJson, output = Json)]
pub async fn fetch_portal_info() -> Result<PortalInfo, ApiError> {
    let state = crate::ssr::state()?;
    // A database that cannot answer must not take the start page down with it.
    let signed_in = matches!(crate::ssr::current_session(&state).await, Ok(Some(_)));
    Ok(PortalInfo {
        product_name: state.settings.product_name.clone(),
        organisation: state.settings.branding.clone(),
        help_desk: state.settings.help_desk.clone(),
        channels: state.settings.channels.clone(),
        signed_in,
    })
}
