//! Organisations and the identity stores that hold their accounts.

pub use latchkey_types::StoreKind;
use serde::{Deserialize, Serialize};

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

/// An organisation's acceptable use policy: plain paragraphs of text, and a version that
/// every edit increases (everyone accepts the new one). Version 0: there is none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Aup {
    pub version: i64,
    pub text: String,
    pub updated_at: Option<time::OffsetDateTime>,
}

impl Aup {
    /// Whether the organisation has a policy to accept.
    pub fn exists(&self) -> bool {
        self.version > 0
    }

    /// The version as an account stores it.
    pub fn version_text(&self) -> String {
        self.version.to_string()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityStore {
    pub id: StoreId,
    pub organisation_id: OrganisationId,
    pub name: String,
    pub kind: StoreKind,
}
