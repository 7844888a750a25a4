//! Whether this browser is signed in: shared by the portal's shell and its pages.

use leptos::prelude::*;

/// Whether this browser is signed in, for the header's link: from `portal_info` at load,
/// then kept in step by signing in and out.
#[derive(Clone, Copy)]
pub(super) struct SignedIn(pub(super) RwSignal<bool>);

impl SignedIn {
    /// The setter, taken while the component is created (where the context is).
    pub(super) fn setter() -> impl Fn(bool) + Copy + 'static {
        let signal = use_context::<SignedIn>().map(|SignedIn(s)| s);
        move |value| {
            if let Some(s) = signal {
                s.set(value);
            }
        }
    }
}
