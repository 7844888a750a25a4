//! `latchkey openapi`: the OpenAPI description of the server functions
//! (`docs/openapi.json`), from `latchkey_app::openapi`, checked against the server
//! functions the router serves — the same registry `POST /api/…` dispatches on — so a
//! server function cannot be served without being described, nor described without
//! being served.

use std::collections::BTreeSet;

/// Registered server-function paths that the description leaves out, and described paths
/// no server function serves.
pub fn mismatches() -> (Vec<&'static str>, Vec<&'static str>) {
    let described: BTreeSet<&'static str> = latchkey_app::openapi::endpoints()
        .iter()
        .map(|e| e.path)
        .collect();
    let served: BTreeSet<&'static str> = crate::http::api::registered_paths().collect();
    (
        served.difference(&described).copied().collect(),
        described.difference(&served).copied().collect(),
    )
}

/// The description as `docs/openapi.json` holds it (pretty JSON, one final newline), or
/// what is wrong with it.
pub fn document() -> Result<String, String> {
    let (undescribed, unserved) = mismatches();
    if !undescribed.is_empty() {
        return Err(format!(
            "server functions missing from the OpenAPI description (add them to the table in \
             app/src/openapi.rs): {}",
            undescribed.join(", ")
        ));
    }
    if !unserved.is_empty() {
        return Err(format!(
            "the OpenAPI description names paths no server function serves: {}",
            unserved.join(", ")
        ));
    }
    serde_json::to_string_pretty(&latchkey_app::openapi::document())
        .map(|text| text + "\n")
        .map_err(|e| format!("cannot write the OpenAPI description: {e}"))
}
