//! The signed-in person's own account: details, security questions, authenticator app.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;

use super::enrol::{AuthenticatorForm, QuestionsForm};
use crate::api::auth::{current_account, sign_out, AccountView};
use crate::components::{local_time, use_title, Loading, Notice, NoticeKind};

#[component]
pub fn AccountPage() -> impl IntoView {
    use_title("Your account");
    let me = LocalResource::new(current_account);
    let signed_in = super::signed_in::SignedIn::setter();
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(account)) = me.get() {
            signed_in(account.is_some());
            if account.is_some_and(|a| a.required_action.is_some()) {
                navigate("/required", Default::default());
            }
        }
    });
    view! {
        <h1>"Your account"</h1>
        <Suspense fallback=|| view! { <Loading label="Loading your account…" /> }>
            {move || Suspend::new(async move {
                match me.await {
                    Ok(Some(account)) => view! { <Details account refresh=Callback::new(move |()| me.refetch()) /> }.into_any(),
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

/// Which form is open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Editing {
    Nothing,
    Questions,
    Authenticator,
}

#[component]
fn Details(account: AccountView, refresh: Callback<()>) -> impl IntoView {
    let leave = Action::new_local(|_: &()| sign_out());
    let navigate = use_navigate();
    let signed_in = super::signed_in::SignedIn::setter();
    Effect::new(move |_| {
        if let Some(Ok(())) = leave.value().get() {
            signed_in(false);
            navigate("/", Default::default());
        }
    });
    let editing = RwSignal::new(Editing::Nothing);
    let saved = RwSignal::new(None::<&'static str>);
    let done = move |what: &'static str| {
        Callback::new(move |()| {
            editing.set(Editing::Nothing);
            saved.set(Some(what));
            refresh.run(());
        })
    };
    let changed = account
        .password_changed_at
        .map_or_else(|| "Never".to_owned(), local_time);
    let questions = match account.security_questions {
        0 => "Not set up yet".to_owned(),
        1 => "1 question set up".to_owned(),
        n => format!("{n} questions set up"),
    };
    let authenticator = if account.has_authenticator {
        "Set up"
    } else {
        "Not set up yet"
    };
    let has_questions = account.security_questions > 0;
    let has_authenticator = account.has_authenticator;
    view! {
        <p class="lead">"Signed in as " {account.display_name.clone()} "."</p>
        {move || saved.get().map(|what| view! { <Notice kind=NoticeKind::Success><p>{what}</p></Notice> })}
        <dl class="facts">
            <dt>"Username"</dt><dd>{account.username.clone()}</dd>
            <dt>"Email"</dt><dd>{account.email_masked.clone()}</dd>
            <dt>"Password last changed"</dt><dd>{changed}</dd>
        </dl>

        <section aria-labelledby="questions-heading">
            <h2 id="questions-heading">"Security questions"</h2>
            <p>{questions}</p>
            {move || if editing.get() == Editing::Questions {
                view! { <QuestionsForm on_saved=done("Your security questions are saved.") /> }.into_any()
            } else {
                view! {
                    <button type="button" class="secondary" on:click=move |_| { saved.set(None); editing.set(Editing::Questions) }>
                        {if has_questions { "Change my security questions" } else { "Set up security questions" }}
                    </button>
                }.into_any()
            }}
        </section>

        <section aria-labelledby="authenticator-heading">
            <h2 id="authenticator-heading">"Authenticator app"</h2>
            <p>{authenticator}</p>
            {move || if editing.get() == Editing::Authenticator {
                view! { <AuthenticatorForm on_saved=done("Your authenticator app is set up.") /> }.into_any()
            } else {
                view! {
                    <button type="button" class="secondary" on:click=move |_| { saved.set(None); editing.set(Editing::Authenticator) }>
                        {if has_authenticator { "Set up a new authenticator app" } else { "Set up an authenticator app" }}
                    </button>
                }.into_any()
            }}
        </section>

        <section aria-labelledby="session-heading">
            <h2 id="session-heading">"Signing out"</h2>
            {move || leave.value().get().and_then(Result::err).map(|e| view! {
                <Notice kind=NoticeKind::Error><p>{e.to_string()}</p></Notice>
            })}
            <button type="button" class="secondary" disabled=move || leave.pending().get()
                on:click=move |_| { leave.dispatch(()); }>
                {move || if leave.pending().get() { "Signing out…" } else { "Sign out" }}
            </button>
        </section>
    }
}
