//! The self-service portal: what a locked-out person loads, on a desktop browser, a
//! phone or the kiosk page under a computer's sign-in screen. Kept small.

mod account;
mod desktop;
mod enrol;
mod home;
mod links;
mod lockmail;
mod required;
pub mod selfservice;
mod signed_in;
mod signin;
mod support;

use latchkey_types::FlowAction;
use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::hooks::use_location;
use leptos_router::path;

use crate::api::portal::fetch_portal_info;
use crate::components::{reveal, use_title, Brand, HelpDeskLine, PortalInfoResource, SkipLink};
pub use home::channel_words;
use links::{take_moved, ThisBundle};
pub use links::{CrossLink, SIGNED_IN_ASSETS, SIGNED_IN_PATHS};
use signed_in::SignedIn;

/// The root of the recovery bundle: what a locked-out person loads, often on a phone on a
/// poor connection, so it carries only these pages. Adding a recovery page: one `Route`
/// here (the server serves this bundle at every path not in [`SIGNED_IN_PATHS`]).
/// Links to the signed-in pages are plain navigations ([`CrossLink`]).
#[component]
pub fn RecoveryApp() -> impl IntoView {
    portal_context(ThisBundle::Recovery);
    view! {
        <Router>
            <FocusOnNavigation />
            <Routes fallback=|| view! { <Shell><NotFound /></Shell> }>
                <Route path=path!("/") view=|| view! { <Shell><home::Home /></Shell> } />
                <Route path=path!("/unlock") view=|| view! { <Shell><SelfServicePage action=FlowAction::Unlock /></Shell> } />
                <Route path=path!("/reset") view=|| view! { <Shell><SelfServicePage action=FlowAction::ResetPassword /></Shell> } />
                <Route path=path!("/locked/unlock") view=|| view! { <Shell><lockmail::LockLinkPage kind=lockmail::LinkKind::ThisWasMe /></Shell> } />
                <Route path=path!("/locked/not-me") view=|| view! { <Shell><lockmail::LockLinkPage kind=lockmail::LinkKind::NotMe /></Shell> } />
                <Route path=path!("/support") view=|| view! { <Shell><support::ContactSupport /></Shell> } />
                <Route path=path!("/desktop") view=desktop::Kiosk />
            </Routes>
        </Router>
    }
}

/// The root of the signed-in bundle: sign-in, the account with its enrolment forms, and
/// the required actions. Adding a page: its path in [`SIGNED_IN_PATHS`] and one `Route` here.
#[component]
pub fn SignedInApp() -> impl IntoView {
    portal_context(ThisBundle::SignedIn);
    view! {
        <Router>
            <FocusOnNavigation />
            <Routes fallback=|| view! { <Shell><NotFound /></Shell> }>
                <Route path=path!("/sign-in") view=|| view! { <Shell><signin::SignIn /></Shell> } />
                <Route path=path!("/account") view=|| view! { <Shell><account::AccountPage /></Shell> } />
                <Route path=path!("/required") view=|| view! { <Shell><required::RequiredPage /></Shell> } />
            </Routes>
        </Router>
    }
}

/// What every portal page shares: the portal information, whether this browser is signed
/// in (kept in step by signing in and out), which bundle this is, and the service worker.
fn portal_context(this: ThisBundle) {
    provide_context(this);
    let info: PortalInfoResource = LocalResource::new(fetch_portal_info);
    provide_context(info);
    let signed_in = RwSignal::new(false);
    provide_context(SignedIn(signed_in));
    Effect::new(move |_| {
        if let Some(Ok(i)) = info.get() {
            signed_in.set(i.signed_in);
        }
    });
    register_service_worker();
}

/// After moving to another page (not on the first load), focus goes to the new page's
/// main heading, so screen readers start reading there and keyboard users start from it.
#[component]
fn FocusOnNavigation() -> impl IntoView {
    use wasm_bindgen::JsCast;
    let location = use_location();
    Effect::new(move |previous: Option<String>| {
        let path = location.pathname.get();
        let first = previous.is_none();
        let moved = match previous {
            Some(p) => p != path,
            None => take_moved(),
        };
        if !first && moved {
            // A link of the static first paint followed once the router runs.
            reveal();
        }
        if moved {
            set_timeout(
                || {
                    let heading = document()
                        .query_selector("#main h1")
                        .ok()
                        .flatten()
                        .and_then(|h| h.dyn_into::<web_sys::HtmlElement>().ok());
                    if let Some(h) = heading {
                        let _ = h.set_attribute("tabindex", "-1");
                        let _ = h.focus();
                    }
                },
                std::time::Duration::ZERO,
            );
        }
        path
    });
}

/// Header (with the "Locked out?" link every page has), main content and footer.
#[component]
fn Shell(children: Children) -> impl IntoView {
    let signed_in = use_context::<SignedIn>().map(|SignedIn(s)| s);
    let account_link = move || {
        if signed_in.is_some_and(|s| s.get()) {
            view! { <CrossLink href="/account">"Your account"</CrossLink> }.into_any()
        } else {
            view! { <CrossLink href="/sign-in">"Sign in"</CrossLink> }.into_any()
        }
    };
    view! {
        <SkipLink />
        <header class="site-header">
            <CrossLink href="/" class="brand"><Brand /></CrossLink>
            <nav aria-label="Site">
                <CrossLink href="/" class="locked-out">"Locked out?"</CrossLink>
                {account_link}
            </nav>
        </header>
        <main id="main" tabindex="-1">{children()}</main>
        <footer class="site-footer">
            <p>"Never share your password or codes with anyone, including the help desk."</p>
            <HelpDeskLine />
        </footer>
    }
}

/// The wizard on the web or a phone: a phone (or the installed app) is the mobile channel.
#[component]
fn SelfServicePage(action: FlowAction) -> impl IntoView {
    use_title(match action {
        FlowAction::Unlock => "Unlock my account",
        FlowAction::ResetPassword => "Reset my password",
    });
    view! { <selfservice::SelfService action channel=selfservice::detect_channel() /> }
}

/// Installs the service worker that lets the portal open (and say it is offline)
/// without a connection.
fn register_service_worker() {
    let container = window().navigator().service_worker();
    let _ = container.register("/sw.js");
}

#[component]
fn NotFound() -> impl IntoView {
    use_title("Page not found");
    view! {
        <h1>"Page not found"</h1>
        <p>"There is no page at this address. It may have moved, or the link may be mistyped."</p>
        <p><CrossLink href="/">"Go to the start page"</CrossLink></p>
    }
}
