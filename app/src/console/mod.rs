//! The administrators' and helpdesk operators' console, served under `/console`.
//! A separate Wasm bundle, so none of it weighs on the portal's first load.

mod demo_mailbox;

use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

use crate::api::portal::fetch_portal_info;
use crate::components::{product_name, use_title, PortalInfoResource, SkipLink};

/// The root component of the console bundle.
#[component]
pub fn ConsoleApp() -> impl IntoView {
    let info: PortalInfoResource = LocalResource::new(fetch_portal_info);
    provide_context(info);
    view! {
        <Router base="/console">
            <SkipLink />
            <header class="site-header">
                <a href="/console" class="brand">{move || product_name(Some(info))}" console"</a>
                <nav aria-label="Site">
                    <a href="/" class="locked-out">"Locked out?"</a>
                </nav>
            </header>
            <main id="main" tabindex="-1">
                <Routes fallback=|| view! { <h1>"Page not found"</h1> }>
                    <Route path=path!("/") view=ConsoleHome />
                    <Route path=path!("/demo-mailbox") view=demo_mailbox::DemoMailboxPage />
                    <Route path=path!("/demo-mailbox/:id") view=demo_mailbox::DemoMailPage />
                </Routes>
            </main>
        </Router>
    }
}

#[component]
fn ConsoleHome() -> impl IntoView {
    use_title("Console");
    view! {
        <h1>"Console"</h1>
        <p>"The console is where administrators and the help desk unlock accounts and reset factors."</p>
        <p><a href="/">"Go to the self-service portal"</a></p>
    }
}
