//! Operators sign in with their password and, when they have enrolled one, the code of
//! their authenticator app. The same lockout and audit rules as the portal apply.

use latchkey_types::console::ConsoleSignInReply;
use leptos::prelude::*;

use super::session::Session;
use super::widgets::focus_later;
use crate::api::console::console_sign_in;
use crate::components::{
    field_error, local_time, use_title, Notice, NoticeKind, SubmitButton, TextField,
};

/// For a wrong password, an unknown username or a wrong code alike: the form never
/// tells which of the three was wrong.
const REFUSED: &str = "The username, password or code is incorrect.";

#[component]
pub fn SignIn() -> impl IntoView {
    use_title("Sign in to the console");
    let session = Session::get();
    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let code = RwSignal::new(String::new());
    // Set once the server has asked for the authenticator's code.
    let code_step = RwSignal::new(false);

    let action = Action::new_local(|(u, p, c): &(String, String, Option<String>)| {
        console_sign_in(u.clone(), p.clone(), c.clone())
    });
    let pending = action.pending();
    let result = action.value();
    Effect::new(move |_| match result.get() {
        Some(Ok(ConsoleSignInReply::SignedIn { operator })) => session.signed_in(operator),
        Some(Ok(ConsoleSignInReply::CodeRequired)) => {
            code_step.set(true);
            // The field appears now: take the cursor to it.
            focus_later("code");
        }
        _ => {}
    });

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let c = code_step.get_untracked().then(|| code.get_untracked());
        action.dispatch((username.get_untracked(), password.get_untracked(), c));
    };
    let username_error = Signal::derive(move || field_error(result.get(), "username"));
    let password_error = Signal::derive(move || field_error(result.get(), "password"));
    let code_error = Signal::derive(move || field_error(result.get(), "code"));

    view! {
        <h1>"Sign in to the console"</h1>
        <p class="lead">"For administrators, the help desk and support agents."</p>
        {move || match result.get() {
            Some(Ok(ConsoleSignInReply::Refused)) => view! {
                <Notice kind=NoticeKind::Error><p>{REFUSED}</p><p>"Check them and try again."</p></Notice>
            }.into_any(),
            Some(Ok(ConsoleSignInReply::Locked { until })) => view! {
                <Notice kind=NoticeKind::Error>
                    <p>"This account is locked because of too many failed sign-in attempts."</p>
                    {until.map(|t| view! { <p>"It unlocks by itself at " {local_time(t)} "."</p> })}
                    <p>"Ask another administrator to unlock it, or "
                        <a href="/unlock">"unlock it yourself"</a>"."</p>
                </Notice>
            }.into_any(),
            Some(Ok(ConsoleSignInReply::NotAnOperator)) => view! {
                <Notice kind=NoticeKind::Error>
                    <p>"This account has no role in the console."</p>
                    <p>"To manage your own account, use the "<a href="/">"self-service portal"</a>"."</p>
                </Notice>
            }.into_any(),
            Some(Ok(ConsoleSignInReply::CodeRequired)) => view! {
                <Notice kind=NoticeKind::Info>
                    <p>"Enter the code your authenticator app shows for this account."</p>
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
                hint="Your username, e.g. ada or EXAMPLE\\ada." />
            <TextField id="password" label="Password" value=password error=password_error
                kind="password" autocomplete="current-password" />
            {move || code_step.get().then(|| view! {
                <TextField id="code" label="Authenticator code" value=code error=code_error
                    autocomplete="one-time-code" inputmode="numeric" autofocus=true
                    hint="Six digits, from the app on your phone." />
            })}
            <SubmitButton busy=pending label="Sign in" busy_label="Signing in…" />
        </form>
    }
}
