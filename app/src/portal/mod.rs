//! The self-service portal: what a locked-out person loads, on a desktop browser, a
//! phone or the kiosk page under a computer's sign-in screen. Kept small.

mod account;
mod desktop;
mod enrol;
mod home;
mod required;
pub mod selfservice;
mod signed_in;
mod signin;

use latchkey_types::{Channel, FlowAction};
use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes, A};
use leptos_router::path;

use crate::api::portal::fetch_portal_info;
use crate::components::{product_name, use_title, PortalInfoResource, SkipLink};
use signed_in::SignedIn;

/// The root component of the portal bundle.
#[component]
pub fn PortalApp() -> impl IntoView {
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
    view! {
        <Router>
            <Routes fallback=|| view! { <Shell><NotFound /></Shell> }>
                <Route path=path!("/") view=|| view! { <Shell><home::Home /></Shell> } />
                <Route path=path!("/unlock") view=|| view! { <Shell><SelfServicePage action=FlowAction::Unlock /></Shell> } />
                <Route path=path!("/reset") view=|| view! { <Shell><SelfServicePage action=FlowAction::ResetPassword /></Shell> } />
                <Route path=path!("/sign-in") view=|| view! { <Shell><signin::SignIn /></Shell> } />
                <Route path=path!("/account") view=|| view! { <Shell><account::AccountPage /></Shell> } />
                <Route path=path!("/required") view=|| view! { <Shell><required::RequiredPage /></Shell> } />
                <Route path=path!("/desktop") view=desktop::Kiosk />
            </Routes>
        </Router>
    }
}

/// Header (with the "Locked out?" link every page has), main content and footer.
#[component]
fn Shell(children: Children) -> impl IntoView {
    let info = use_context::<PortalInfoResource>();
    let signed_in = use_context::<SignedIn>().map(|SignedIn(s)| s);
    let account_link = move || {
        if signed_in.is_some_and(|s| s.get()) {
            view! { <A href="/account">"Your account"</A> }.into_any()
        } else {
            view! { <A href="/sign-in">"Sign in"</A> }.into_any()
        }
    };
    view! {
        <SkipLink />
        <header class="site-header">
            <A href="/" attr:class="brand">{move || product_name(info)}</A>
            <nav aria-label="Site">
                <A href="/" attr:class="locked-out">"Locked out?"</A>
                {account_link}
            </nav>
        </header>
        <main id="main" tabindex="-1">{children()}</main>
        <footer class="site-footer">
            <p>"Never share your password or codes with anyone, including the help desk."</p>
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
    view! { <selfservice::SelfService action channel=detect_channel() /> }
}

/// Mobile when installed as an app or on a small touch screen; otherwise web.
fn detect_channel() -> Channel {
    let matches = |query: &str| {
        window()
            .match_media(query)
            .ok()
            .flatten()
            .is_some_and(|m| m.matches())
    };
    if matches("(display-mode: standalone)")
        || (matches("(pointer: coarse)") && matches("(max-width: 820px)"))
    {
        Channel::Mobile
    } else {
        Channel::Web
    }
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
        <p><A href="/">"Go to the start page"</A></p>
    }
}
