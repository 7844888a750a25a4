//! The signed-in person's own account.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;

use crate::api::auth::{current_account, sign_out, AccountView};
use crate::components::{local_time, use_title, Loading, Notice, NoticeKind};

#[component]
pub fn AccountPage() -> impl IntoView {
    use_title("Your account");
    let me = LocalResource::new(current_account);
    view! {
        <h1>"Your account"</h1>
        <Suspense fallback=|| view! { <Loading label="Loading your account…" /> }>
            {move || Suspend::new(async move {
                match me.await {
                    Ok(Some(account)) => view! { <Details account /> }.into_any(),
                    Ok(None) => view! {
                        <p>"You are not signed in."</p>
                        <p><A href="/sign-in" attr:class="button">"Sign in"</A></p>
                    }.into_any(),
                    Err(e) => view! {
                        <Notice kind=NoticeKind::Error><p>{e.to_string()}</p></Notice>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Details(account: AccountView) -> impl IntoView {
    let leave = Action::new_local(|_: &()| sign_out());
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(())) = leave.value().get() {
            navigate("/", Default::default());
        }
    });
    let changed = account
        .password_changed_at
        .map_or_else(|| "Never".to_owned(), local_time);
    view! {
        <p class="lead">"Signed in as " {account.display_name.clone()} "."</p>
        <dl class="facts">
            <dt>"Username"</dt><dd>{account.username.clone()}</dd>
            <dt>"Email"</dt><dd>{account.email_masked.clone()}</dd>
            <dt>"Password last changed"</dt><dd>{changed}</dd>
        </dl>
        {move || leave.value().get().and_then(Result::err).map(|e| view! {
            <Notice kind=NoticeKind::Error><p>{e.to_string()}</p></Notice>
        })}
        <button type="button" class="secondary" disabled=move || leave.pending().get()
            on:click=move |_| { leave.dispatch(()); }>
            {move || if leave.pending().get() { "Signing out…" } else { "Sign out" }}
        </button>
    }
}
