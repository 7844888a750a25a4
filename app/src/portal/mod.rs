//! The self-service portal: what a locked-out person loads, on a desktop browser, a
//! phone or the kiosk page under a computer's sign-in screen. Kept small.

mod account;
mod home;
mod signin;

use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes, A};
use leptos_router::path;

use crate::api::portal::fetch_portal_info;
use crate::components::{product_name, use_title, PortalInfoResource, SkipLink};

/// The root component of the portal bundle.
#[component]
pub fn PortalApp() -> impl IntoView {
    let info: PortalInfoResource = LocalResource::new(fetch_portal_info);
    provide_context(info);
    view! {
        <Router>
            <SkipLink />
            <header class="site-header">
                <A href="/" attr:class="brand">{move || product_name(Some(info))}</A>
                <nav aria-label="Site">
                    <A href="/" attr:class="locked-out">"Locked out?"</A>
                    <A href="/sign-in">"Sign in"</A>
                </nav>
            </header>
            <main id="main" tabindex="-1">
                <Routes fallback=NotFound>
                    <Route path=path!("/") view=home::Home />
                    <Route path=path!("/sign-in") view=signin::SignIn />
                    <Route path=path!("/account") view=account::AccountPage />
                </Routes>
            </main>
            <footer class="site-footer">
                <p>"Never share your password or codes with anyone, including the help desk."</p>
            </footer>
        </Router>
    }
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
