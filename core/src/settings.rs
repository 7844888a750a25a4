//! Settings that shape what the portal offers, from the server's configuration.

use serde::{Deserialize, Serialize};

/// The three ways a person reaches the self-service portal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    /// A desktop browser at `/`.
    Web,
    /// A phone browser or the installed progressive web app.
    Mobile,
    /// The kiosk page opened from an operating system's sign-in screen.
    Desktop,
}

impl Channel {
    pub const ALL: [Channel; 3] = [Channel::Web, Channel::Mobile, Channel::Desktop];

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Web => "web",
            Channel::Mobile => "mobile",
            Channel::Desktop => "desktop",
        }
    }
}

/// What the portal shows before anyone identifies themselves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortalSettings {
    pub product_name: String,
    pub channels: Vec<Channel>,
}
