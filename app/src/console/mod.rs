//! The administrators' and helpdesk operators' console, served under `/console`.
//! A separate Wasm bundle, so none of it weighs on the portal's first load.
//!
//! Every page asks the server, which decides (`latchkey_core::authz`); the console only
//! hides what the signed-in operator's permissions would refuse, so nobody is offered a
//! button that cannot work.

mod activity;
mod demo_mailbox;
mod history;
mod labels;
mod outbox;
mod policy;
mod secure;
mod session;
mod signin;
mod support;
mod unlock;
mod user;
mod users;
mod widgets;

use latchkey_types::Permission;
use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes, A};
use leptos_router::path;

use crate::api::console::console_sign_out;
use crate::api::portal::fetch_portal_info;
use crate::components::{product_name, use_title, Loading, PortalInfoResource, SkipLink};
pub use session::Session;

/// The root component of the console bundle.
#[component]
pub fn ConsoleApp() -> impl IntoView {
    let info: PortalInfoResource = LocalResource::new(fetch_portal_info);
    provide_context(info);
    let session = Session::load();
    provide_context(session);
    view! {
        <Router base="/console">
            <SkipLink />
            <header class="site-header">
                <a href="/console" class="brand">{move || product_name(Some(info))}" console"</a>
                <SiteNav />
            </header>
            {move || session.operator().map(|_| view! { <ConsoleNav /> })}
            <main id="main" tabindex="-1">
                <Routes fallback=|| view! { <NotFound /> }>
                    <Route path=path!("/") view=|| view! { <Gate><Home /></Gate> } />
                    <Route path=path!("/users") view=|| view! { <Gate><users::UsersPage /></Gate> } />
                    <Route path=path!("/users/new") view=|| view! { <Gate><user::CreateUserPage /></Gate> } />
                    <Route path=path!("/users/:id") view=|| view! { <Gate><user::UserPage /></Gate> } />
                    <Route path=path!("/history") view=|| view! { <Gate><history::HistoryPage /></Gate> } />
                    <Route path=path!("/activity") view=|| view! { <Gate><activity::ActivityPage /></Gate> } />
                    <Route path=path!("/policies") view=|| view! { <Gate><policy::PoliciesPage /></Gate> } />
                    <Route path=path!("/mail") view=|| view! { <Gate><outbox::OutboxPage /></Gate> } />
                    <Route path=path!("/support") view=|| view! { <Gate><support::SupportPage /></Gate> } />
                    <Route path=path!("/support/:reference") view=|| view! { <Gate><support::SupportRequestPage /></Gate> } />
                    <Route path=path!("/demo-mailbox") view=demo_mailbox::DemoMailboxPage />
                    <Route path=path!("/demo-mailbox/:id") view=demo_mailbox::DemoMailPage />
                </Routes>
            </main>
        </Router>
    }
}

/// The header's links: the portal for everyone, and who is signed in with a way out.
#[component]
fn SiteNav() -> impl IntoView {
    let session = Session::get();
    let sign_out = Action::new_local(|_: &()| console_sign_out());
    let signing_out = sign_out.pending();
    Effect::new(move |_| {
        if sign_out.value().get().is_some() {
            session.signed_out();
        }
    });
    view! {
        <nav aria-label="Site">
            <a href="/" class="locked-out">"Locked out?"</a>
            {move || session.operator().map(|op| view! {
                <span class="signed-in-as">{op.username.clone()}</span>
                <button type="button" class="secondary small" disabled=signing_out
                    on:click=move |_| { sign_out.dispatch(()); }>
                    "Sign out"
                </button>
            })}
        </nav>
    }
}

/// The sections the signed-in operator's permissions open.
#[component]
fn ConsoleNav() -> impl IntoView {
    let session = Session::get();
    let links = move || {
        SECTIONS
            .iter()
            .filter(|s| session.can_any(s.needs))
            .map(|s| view! { <li><A href=s.href>{s.title}</A></li> })
            .collect_view()
    };
    view! {
        <nav class="console-nav" aria-label="Console">
            <ul>{links}</ul>
        </nav>
    }
}

/// A part of the console, and the permissions (any one of them) it needs.
struct Section {
    href: &'static str,
    title: &'static str,
    about: &'static str,
    needs: &'static [Permission],
}

const SECTIONS: [Section; 6] = [
    Section {
        href: "/console/users",
        title: "Users",
        about: "Find users, unlock locked accounts and manage users.",
        needs: &[Permission::Unlock, Permission::ManageUsers],
    },
    Section {
        href: "/console/support",
        title: "Support",
        about: "Requests from people who could not help themselves: reply, unlock, resolve.",
        needs: &[Permission::WorkSupportQueue],
    },
    Section {
        href: "/console/history",
        title: "History",
        about: "Everything that was done, by whom and from where.",
        needs: &[Permission::ReadHistory],
    },
    Section {
        href: "/console/activity",
        title: "Lock activity",
        about: "Locks and unlocks over the last seven days, and where failed sign-ins come from.",
        needs: &[Permission::ReadHistory],
    },
    Section {
        href: "/console/policies",
        title: "Policies",
        about: "Failed attempts before automatic lock, the self-service steps and the security questions.",
        needs: &[Permission::ManagePolicy],
    },
    Section {
        href: "/console/mail",
        title: "Mail",
        about: "Mail that is waiting or could not be delivered.",
        needs: &[Permission::ReadHistory],
    },
];

/// Shows `children` to a signed-in operator and the sign-in form to anyone else, at the
/// same address: after signing in, the page that was asked for appears.
#[component]
fn Gate(children: ChildrenFn) -> impl IntoView {
    let session = Session::get();
    move || match session.state() {
        None => view! { <Loading label="Loading the console…" /> }.into_any(),
        Some(None) => view! { <signin::SignIn /> }.into_any(),
        Some(Some(_)) => children().into_any(),
    }
}

#[component]
fn Home() -> impl IntoView {
    use_title("Console");
    let session = Session::get();
    let sections = move || {
        SECTIONS
            .iter()
            .filter(|s| session.can_any(s.needs))
            .map(|s| view! { <li><A href=s.href>{s.title}</A>" — "{s.about}</li> })
            .collect_view()
    };
    let roles = move || {
        session
            .operator()
            .map(|op| {
                op.roles
                    .iter()
                    .map(|r| labels::role(*r))
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default()
    };
    let organisation = move || {
        session
            .operator()
            .map(|op| {
                if op.everywhere {
                    "every organisation".to_owned()
                } else {
                    op.organisation
                }
            })
            .unwrap_or_default()
    };
    view! {
        <h1>"Console"</h1>
        <p class="lead">"Signed in as " {move || session.operator().map(|o| o.display_name)}
            " (" {roles} ", " {organisation} ")."</p>
        <ul class="sections">{sections}</ul>
    }
}

#[component]
fn NotFound() -> impl IntoView {
    use_title("Page not found");
    view! {
        <h1>"Page not found"</h1>
        <p>"There is no console page at this address."</p>
        <p><a href="/console">"Go to the console's start page"</a></p>
    }
}
