//! What a signed-in person enrols: security questions from the administrator's catalogue
//! or of their own.

use serde::{Deserialize, Serialize};

/// A question from the administrator's catalogue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CatalogueQuestion {
    pub id: i64,
    pub text: String,
}

/// A question a person chose: from the catalogue, or written by them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum QuestionChoice {
    Catalogue { id: i64 },
    Custom { text: String },
}
