//! The signed-in person's own account: details, security questions, authenticator app,
//! recovery email address.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;

use super::enrol::{AuthenticatorForm, QuestionsForm, RecoveryEmailForm};
use crate::api::auth::{current_account, sign_out, AccountView};
use crate::components::{local_time, use_title, Loading, Notice, NoticeKind};

#[component]
pub fn AccountPage() -> impl IntoView {
    use_title("Your account");
    let me = LocalResource::new(current_account);
    // Outside the account's Suspense: reloading the account after a save rebuilds the
    // details, and the confirmation must survive that.
    let saved = RwSignal::new(None::<&'static str>);
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
        {move || saved.get().map(|what| view! { <Notice kind=NoticeKind::Success><p>{what}</p></Notice> })}
        <Suspense fallback=|| view! { <Loading label="Loading your account…" /> }>
            {move || Suspend::new(async move {
                match me.await {
                    Ok(Some(account)) => view! { <Details account saved refresh=Callback::new(move |()| me.refetch()) /> }.into_any(),
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
    RecoveryEmail,
}

#[component]
fn Details(
    account: AccountView,
    saved: RwSignal<Option<&'static str>>,
    refresh: Callback<()>,
) -> impl IntoView {
    let leave = Action::new_local(|_: &()| sign_out());
    let navigate = super::links::cross_navigate();
    let signed_in = super::signed_in::SignedIn::setter();
    Effect::new(move |_| {
        if let Some(Ok(())) = leave.value().get() {
            signed_in(false);
            navigate("/");
        }
    });
    let editing = RwSignal::new(Editing::Nothing);
    let cancel = Callback::new(move |()| editing.set(Editing::Nothing));
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
    let recovery = account.recovery_email.clone();
    let recovery_pending = account.recovery_email_pending.clone();
    let has_recovery = recovery.is_some();
    let has_authenticator = account.has_authenticator;
    view! {
        <p class="lead">"Signed in as " {account.display_name.clone()} "."</p>
        <dl class="facts">
            <dt>"Username"</dt><dd>{account.username.clone()}</dd>
            <dt>"Email"</dt><dd>{account.email_masked.clone()}</dd>
            <dt>"Password last changed"</dt><dd>{changed}</dd>
        </dl>

        <section aria-labelledby="questions-heading">
            <h2 id="questions-heading">"Security questions"</h2>
            <p>{questions}</p>
            {move || if editing.get() == Editing::Questions {
                view! { <QuestionsForm on_saved=done("Your security questions are saved.") on_cancel=cancel /> }.into_any()
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
                view! { <AuthenticatorForm on_saved=done("Your authenticator app is set up.") on_cancel=cancel /> }.into_any()
            } else {
                view! {
                    <button type="button" class="secondary" on:click=move |_| { saved.set(None); editing.set(Editing::Authenticator) }>
                        {if has_authenticator { "Set up a new authenticator app" } else { "Set up an authenticator app" }}
                    </button>
                }.into_any()
            }}
        </section>

        <section aria-labelledby="recovery-heading">
            <h2 id="recovery-heading">"Recovery email address"</h2>
            <p>{match (&recovery, &recovery_pending) {
                (Some(a), _) => format!("Codes to unlock your account or reset your password go to {a}."),
                (None, Some(p)) => format!("Waiting for the code sent to {p}. Until then codes go to your registered address."),
                (None, None) => "Not set up yet: codes go to your registered (work) address, which you may not reach when you are locked out.".to_owned(),
            }}</p>
            {move || if editing.get() == Editing::RecoveryEmail {
                view! { <RecoveryEmailForm on_saved=done("Your recovery email address is confirmed. Codes go there from now on.") on_cancel=cancel /> }.into_any()
            } else {
                view! {
                    <button type="button" class="secondary" on:click=move |_| { saved.set(None); editing.set(Editing::RecoveryEmail) }>
                        {if has_recovery { "Change my recovery email address" } else { "Add a recovery email address" }}
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
