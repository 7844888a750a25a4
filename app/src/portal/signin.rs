//! Sign in with a username and password.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;

use crate::api::auth::{sign_in, SignInReply};
use crate::components::{
    field_error, local_time, use_title, Notice, NoticeKind, SubmitButton, TextField,
};

/// Shown for a wrong password, an unknown username or an account that may not sign in —
/// deliberately the same words, so the page never tells whether a username exists.
pub const REFUSED: &str = "The username or password is incorrect.";
/// Shown only to someone who gave the right password for a locked account.
pub const LOCKED: &str = "Your account is locked because of too many failed sign-in attempts.";

#[component]
pub fn SignIn() -> impl IntoView {
    use_title("Sign in");
    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let action = Action::new_local(|(u, p): &(String, String)| sign_in(u.clone(), p.clone()));
    let pending = action.pending();
    let result = action.value();

    let navigate = use_navigate();
    let signed_in = super::signed_in::SignedIn::setter();
    Effect::new(move |_| {
        if let Some(Ok(SignInReply::SignedIn { account })) = result.get() {
            signed_in(true);
            // Anything the account must do first comes before the account page.
            let to = if account.required_action.is_some() {
                "/required"
            } else {
                "/account"
            };
            navigate(to, Default::default());
        }
    });

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        action.dispatch((username.get_untracked(), password.get_untracked()));
    };
    let username_error = Signal::derive(move || field_error(result.get(), "username"));
    let password_error = Signal::derive(move || field_error(result.get(), "password"));

    view! {
        <h1>"Sign in"</h1>
        {move || match result.get() {
            Some(Ok(SignInReply::Refused)) => view! {
                <Notice kind=NoticeKind::Error>
                    <p>{REFUSED}</p>
                    <p>"Check both and try again. If you have forgotten your password, "
                        <A href="/reset">"reset it"</A>"."</p>
                </Notice>
            }.into_any(),
            Some(Ok(SignInReply::Locked { until })) => view! {
                <Notice kind=NoticeKind::Error>
                    <p>{LOCKED}</p>
                    {until.map(|t| view! {
                        <p>"It unlocks by itself at " {local_time(t)} ". You can also unlock it now."</p>
                    })}
                    <p><A href="/unlock" attr:class="button">"Unlock my account"</A></p>
                </Notice>
            }.into_any(),
            Some(Err(e)) if e.field().is_none() => view! {
                <Notice kind=NoticeKind::Error><p>{e.to_string()}</p></Notice>
            }.into_any(),
            _ => ().into_any(),
        }}
        <form on:submit=submit novalidate>
            <TextField id="username" label="Username" value=username error=username_error
                autocomplete="username" autofocus=true
                hint="The name you use at work, e.g. alice or EXAMPLE\\alice." />
            <TextField id="password" label="Password" value=password error=password_error
                kind="password" autocomplete="current-password" />
            <SubmitButton busy=pending label="Sign in" busy_label="Signing in…" />
        </form>
        <p class="aside">"Locked out or forgotten your password? "
            <A href="/">"Get back in yourself"</A>"."</p>
    }
}
