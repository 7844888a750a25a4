//! Links between the two portal bundles, and which paths each serves. Its own module so
//! that every page (and the portal's root) can use it without a circle of imports.

use leptos::prelude::*;
use leptos_router::components::A;

/// The paths the signed-in bundle (sign-in, account, enrolment, required actions) answers;
/// the server serves that bundle's page at exactly these, and the recovery bundle at every
/// other path outside `/console`. Adding a signed-in page: add its path here and its
/// `Route` in `SignedInApp` (`portal/mod.rs`).
pub const SIGNED_IN_PATHS: &[&str] = &["/sign-in", "/account", "/required"];

/// Where the signed-in bundle's files are served (Trunk's `--public-url`, see the Makefile).
pub const SIGNED_IN_ASSETS: &str = "/signed-in";

/// Which of the two portal bundles is running, so that a link knows whether its page is
/// here (a router link) or in the other bundle (a plain navigation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ThisBundle {
    Recovery,
    SignedIn,
}

impl ThisBundle {
    /// The bundle that serves `href` (its path, without query or fragment).
    pub(super) fn of(href: &str) -> Self {
        let path = href.split(['?', '#']).next().unwrap_or_default();
        if SIGNED_IN_PATHS.contains(&path) {
            ThisBundle::SignedIn
        } else {
            ThisBundle::Recovery
        }
    }

    /// Whether `href` is a page of the running bundle (true outside the portal's bundles,
    /// e.g. in tests, where there is no context).
    fn has(href: &str) -> bool {
        use_context::<ThisBundle>().is_none_or(|this| this == ThisBundle::of(href))
    }
}

/// A link to a portal page in either bundle: a router link when the page is in this
/// bundle, otherwise a plain navigation that loads the other bundle (the router would
/// look for the page here and not find it).
#[component]
pub fn CrossLink(
    href: &'static str,
    #[prop(optional)] class: &'static str,
    children: Children,
) -> impl IntoView {
    if ThisBundle::has(href) {
        view! { <A href=href attr:class=class>{children()}</A> }.into_any()
    } else {
        view! {
            <a href=href class=class rel="external" on:click=|_| mark_moved()>{children()}</a>
        }
        .into_any()
    }
}

/// Goes to a portal page in either bundle (see [`CrossLink`]). Take it while the
/// component is created, where the router's context is.
pub fn cross_navigate() -> impl Fn(&str) + Clone + 'static {
    let navigate = leptos_router::hooks::use_navigate();
    let here = use_context::<ThisBundle>();
    move |path: &str| {
        if here.is_none_or(|this| this == ThisBundle::of(path)) {
            navigate(path, Default::default());
        } else {
            mark_moved();
            let _ = window().location().set_href(path);
        }
    }
}

/// Where a move to the other bundle is noted for the page it loads (the referrer is not
/// sent: `Referrer-Policy: no-referrer`).
const MOVED_KEY: &str = "latchkey-moved";

/// Notes that this tab is going to the other bundle's page by a link, so that page's
/// heading takes focus as after a router navigation.
pub fn mark_moved() {
    if let Some(storage) = window().session_storage().ok().flatten() {
        let _ = storage.set_item(MOVED_KEY, "1");
    }
}

/// Whether this page was reached by a link from the other bundle (once).
pub(super) fn take_moved() -> bool {
    let Some(storage) = window().session_storage().ok().flatten() else {
        return false;
    };
    let moved = storage.get_item(MOVED_KEY).ok().flatten().is_some();
    let _ = storage.remove_item(MOVED_KEY);
    moved
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_know_which_bundle_serves_their_page() {
        assert_eq!(ThisBundle::of("/sign-in"), ThisBundle::SignedIn);
        assert_eq!(ThisBundle::of("/account?saved=1"), ThisBundle::SignedIn);
        assert_eq!(ThisBundle::of("/required#main"), ThisBundle::SignedIn);
        assert_eq!(ThisBundle::of("/"), ThisBundle::Recovery);
        assert_eq!(ThisBundle::of("/unlock"), ThisBundle::Recovery);
        assert_eq!(ThisBundle::of("/desktop"), ThisBundle::Recovery);
    }
}
