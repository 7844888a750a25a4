//! Sign in with a username and password.

use super::links::CrossLink;
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use latchkey_types::LockReason;

use crate::api::auth::{sign_in, SignInReply};
use crate::components::{
    absolute_and_relative, field_error, focus_first_problem, use_title, HelpDeskLine, Notice,
    NoticeKind, RateLimited, SubmitButton, TextField,
};
use crate::error::ApiError;

/// Shown for a wrong password, an unknown username or an account that may not sign in —
/// deliberately the same words, so the page never tells whether a username exists.
pub const REFUSED: &str = "The username or password is incorrect.";
/// Shown only to someone who gave the right password for a locked account.
pub const LOCKED: &str = "Your account is locked because of too many failed sign-in attempts.";
/// Said of a lock for another reason when self-service is paused too, before its end.
pub const PAUSED_TOO: &str =
    "Too many wrong answers were given when trying to unlock it, so self-service is paused until";
/// The same, when the lock came from too many wrong self-service answers.
pub const PAUSED: &str =
    "Your account is locked because too many wrong answers were given when trying to unlock it.";

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
    Effect::new(move |_| match result.get() {
        Some(Ok(SignInReply::SignedIn { account })) => {
            signed_in(true);
            // Anything the account must do first comes before the account page.
            let to = if account.required_action.is_some() {
                "/required"
            } else {
                "/account"
            };
            navigate(to, Default::default());
        }
        // Refused too: the button disabled itself while busy, which dropped focus to
        // the page; it goes to what needs fixing, or to what says why.
        Some(Err(_) | Ok(SignInReply::Refused | SignInReply::Locked { .. })) => {
            focus_first_problem()
        }
        _ => {}
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
                        <CrossLink href="/reset">"reset it"</CrossLink>"."</p>
                </Notice>
            }.into_any(),
            // Self-service is paused as long as this lock: sending the person to "Unlock"
            // would only go round in a circle. The help desk is the way forward.
            Some(Ok(SignInReply::Locked { until, reason: LockReason::SelfServiceFailures, .. })) => view! {
                <Notice kind=NoticeKind::Error>
                    <p>{PAUSED}</p>
                    {until.map(|t| view! {
                        <p>"It is locked until " {absolute_and_relative(t)}
                            ", and self-service cannot unlock it before then. If that was not you, someone may be guessing your answers."</p>
                    })}
                </Notice>
                <HelpDeskLine prominent=true />
            }.into_any(),
            // Locked for another reason, but self-service is paused as well (someone
            // tried to unlock it and gave too many wrong answers): no "Unlock" either.
            Some(Ok(SignInReply::Locked { until, self_service_paused_until: Some(paused), .. })) => view! {
                <Notice kind=NoticeKind::Error>
                    <p>{LOCKED}</p>
                    {until.map(|t| view! {
                        <p>"It unlocks by itself at " {absolute_and_relative(t)} "."</p>
                    })}
                    <p>{PAUSED_TOO} " " {absolute_and_relative(paused)}
                        ". If that was not you, someone may be guessing your answers."</p>
                </Notice>
                <HelpDeskLine prominent=true />
            }.into_any(),
            Some(Ok(SignInReply::Locked { until, .. })) => view! {
                <Notice kind=NoticeKind::Error>
                    <p>{LOCKED}</p>
                    {until.map(|t| view! {
                        <p>"It unlocks by itself at " {absolute_and_relative(t)} ". You can also unlock it now."</p>
                    })}
                    <p><CrossLink href="/unlock" class="button">"Unlock my account"</CrossLink></p>
                </Notice>
            }.into_any(),
            Some(Err(ApiError::RateLimited { retry_after_secs })) => view! {
                <RateLimited retry_after_secs on_done=move |()| action.value().set(None) />
            }.into_any(),
            Some(Err(e)) if e.field().is_none() => view! {
                <Notice kind=NoticeKind::Error><p>{e.to_string()}</p></Notice>
            }.into_any(),
            _ => ().into_any(),
        }}
        <form on:submit=submit novalidate>
            <TextField id="username" label="Username" value=username error=username_error
                autocomplete="username"
                hint="The name you use at work, e.g. alice or EXAMPLE\\alice." />
            <TextField id="password" label="Password" value=password error=password_error
                kind="password" autocomplete="current-password" />
            <SubmitButton busy=pending label="Sign in" busy_label="Signing in…" />
        </form>
        <p class="aside">"Locked out or forgotten your password? "
            <CrossLink href="/">"Get back in yourself"</CrossLink>", or "
            <CrossLink href="/support">"contact support"</CrossLink>"."</p>
    }
}
