//! Who is signed in to the console, shared by every page through context.

use latchkey_types::console::OperatorView;
use latchkey_types::Permission;
use leptos::prelude::*;

use crate::api::console::console_me;
use crate::error::ApiError;

/// The console session as this page knows it: not yet known, signed out, or an operator.
#[derive(Debug, Clone, Copy)]
pub struct Session(RwSignal<Option<Option<OperatorView>>>);

impl Session {
    /// Asks the server who this browser's console session belongs to (if anyone).
    pub fn load() -> Self {
        let state = RwSignal::new(None);
        leptos::task::spawn_local(async move {
            // An error (the server unreachable) shows the sign-in form, which says so
            // when it is used.
            state.set(Some(console_me().await.ok().flatten()));
        });
        Session(state)
    }

    /// The session from context. The console's root provides it.
    pub fn get() -> Self {
        use_context::<Session>().unwrap_or_else(|| Session(RwSignal::new(Some(None))))
    }

    /// `None` while loading; then `Some(None)` signed out or `Some(Some(op))`.
    pub fn state(self) -> Option<Option<OperatorView>> {
        self.0.get()
    }

    pub fn operator(self) -> Option<OperatorView> {
        self.0.get().flatten()
    }

    pub fn signed_in(self, operator: OperatorView) {
        self.0.set(Some(Some(operator)));
    }

    pub fn signed_out(self) {
        self.0.set(Some(None));
    }

    /// Whether the operator holds `permission` (the server checks again).
    pub fn can(self, permission: Permission) -> bool {
        self.0.with(|s| {
            s.as_ref()
                .and_then(|s| s.as_ref())
                .is_some_and(|op| op.permissions.contains(&permission))
        })
    }

    pub fn can_any(self, permissions: &[Permission]) -> bool {
        permissions.iter().any(|p| self.can(*p))
    }

    /// Whether the operator acts in every organisation (a global administrator).
    pub fn everywhere(self) -> bool {
        self.0.with(|s| {
            s.as_ref()
                .and_then(|s| s.as_ref())
                .is_some_and(|op| op.everywhere)
        })
    }

    /// Called with every error a console call returns: a session that has ended (expired,
    /// revoked, signed out in another tab) brings back the sign-in form.
    pub fn notice(self, error: &ApiError) {
        if matches!(error, ApiError::Unauthenticated) {
            self.signed_out();
        }
    }
}
