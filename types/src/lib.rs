//! The types that cross the wire between Latchkey's browser bundles and its server, and
//! the enums the store keeps as text. Both sides use these very types, so a change here
//! is a change to the API (see `docs/API.md`).
//!
//! Every enum stored as text derives its text form once, with strum (`as_str` and
//! `FromStr`); its JSON form comes from serde. Nothing here knows about the server: this
//! crate depends on serde and strum only and compiles into the WebAssembly bundles.

pub mod account;
pub mod audit;
pub mod authz;
pub mod console;
pub mod enrolment;
pub mod flow;
pub mod outbox;
pub mod portal;
pub mod support;

pub use account::{AccountStatus, Audience, LockReason, RequiredAction, StoreKind};
pub use audit::{Action, AuditChannel, Outcome};
pub use authz::{Permission, Role};
pub use enrolment::{CatalogueQuestion, QuestionChoice};
pub use flow::{
    Answer, CaptchaChallenge, CaptchaSolution, Channel, FactorKind, FailReason, FlowAction,
    FlowScope, FlowView, Prompt, StepView, Summary,
};
pub use outbox::{CodePurpose, DeliveryStatus};
pub use portal::{Branding, HelpDesk};

/// `as_str` for an enum whose text form strum derives (`IntoStaticStr`): what the store
/// writes and the command line prints.
macro_rules! text_form {
    ($($t:ty),* $(,)?) => {$(
        impl $t {
            /// The text form, as stored and as typed on the command line.
            pub fn as_str(self) -> &'static str {
                self.into()
            }
        }
    )*};
}
pub(crate) use text_form;
