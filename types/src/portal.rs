//! What the portal shows before anyone identifies themselves: how to reach a person, and
//! whose portal this is.

use serde::{Deserialize, Serialize};

/// How to reach the help desk, from configuration (`help_desk`). Every part is optional;
/// with none set the portal says "contact your IT help desk".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HelpDesk {
    /// A telephone number as people dial it, e.g. `+44 20 7946 0000`.
    pub phone: Option<String>,
    /// When someone answers, e.g. `Monday to Friday, 8:00–18:00`.
    pub hours: Option<String>,
    /// A web page or support form (http or https).
    pub url: Option<String>,
    /// Anything else worth saying, e.g. `Or visit the IT desk on floor 2.`
    pub text: Option<String>,
}

impl HelpDesk {
    /// Nothing is configured: the portal falls back to "contact your IT help desk".
    pub fn is_empty(&self) -> bool {
        self.phone.is_none() && self.hours.is_none() && self.url.is_none() && self.text.is_none()
    }
}

/// Whose portal this is, from configuration (`organisation`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Branding {
    /// The organisation's name, shown in the header and the installed app's name.
    pub name: Option<String>,
    /// A logo beside it: a path on this server (`/…`) or an https URL.
    pub logo_url: Option<String>,
}
