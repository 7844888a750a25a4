//! What a person must do after signing in before anything else (issue 13): one page that
//! shows the next required action — the server decides which — and moves on when it is
//! done. Device authorization and a new authenticator after an MFA reset (seed 001); a new
//! password, the acceptable use policy, the profile and new security answers after a
//! resecure (seed 002).

use latchkey_types::RequiredAction;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;

use super::enrol::{AuthenticatorForm, QuestionsForm};
use crate::api::auth::sign_out;
use crate::api::required::{
    accept_aup, change_password, device_authorize, fetch_aup_text, fetch_profile, required_actions,
    update_profile, AupText, DeviceReply, Profile,
};
use crate::components::{
    field_error, use_title, Loading, Notice, NoticeKind, SubmitButton, TextField,
};

#[component]
pub fn RequiredPage() -> impl IntoView {
    use_title("Before you continue");
    let pending = LocalResource::new(required_actions);
    let navigate = use_navigate();
    let done = Callback::new(move |()| pending.refetch());
    view! {
        <Suspense fallback=|| view! { <Loading label="Loading what your account needs…" /> }>
            {move || {
                let navigate = navigate.clone();
                Suspend::new(async move {
                    match pending.await {
                        Ok(actions) => match actions.first().copied() {
                            Some(next) => view! { <Step next count=actions.len() done /> }.into_any(),
                            None => {
                                navigate("/account", Default::default());
                                view! { <Loading label="Opening your account…" /> }.into_any()
                            }
                        },
                        Err(crate::error::ApiError::Unauthenticated) => view! {
                            <h1>"Before you continue"</h1>
                            <p>"You are not signed in."</p>
                            <p><A href="/sign-in" attr:class="button">"Sign in"</A></p>
                        }.into_any(),
                        Err(e) => view! {
                            <h1>"Before you continue"</h1>
                            <Notice kind=NoticeKind::Error><p>{e.to_string()}</p></Notice>
                        }.into_any(),
                    }
                })
            }}
        </Suspense>
    }
}

/// The page of one required action.
#[component]
fn Step(next: RequiredAction, count: usize, done: Callback<()>) -> impl IntoView {
    let (title, why) = match next {
        RequiredAction::DeviceAuthorization => (
            "Device authorization",
            "Your authenticator app was reset by the help desk. We have emailed a device authorization code to the address registered for your account: enter it to continue.",
        ),
        RequiredAction::NewAuthenticator => (
            "Multi-Factor Authentication",
            "Set up your authenticator app again: scan the new QR code (or type the key), then enter the code the app shows.",
        ),
        RequiredAction::ChangePassword => (
            "Choose a new password",
            "You signed in with a temporary password. Choose your own password to continue.",
        ),
        RequiredAction::AcceptAup => (
            "Acceptable use policy",
            "Read your organisation's acceptable use policy and accept it to continue.",
        ),
        RequiredAction::UpdateProfile => (
            "Check your profile",
            "Check your name, your contact email address and your phone number, and correct them if needed.",
        ),
        RequiredAction::SecurityQuestions => (
            "Set new security questions",
            "Choose security questions and answers. You will use them to unlock your account or reset your password yourself.",
        ),
    };
    let remaining = match count {
        1 => "This is the last step.".to_owned(),
        n => format!("{n} steps to go, this one included."),
    };
    view! {
        <h1>{title}</h1>
        <p class="lead">{why}</p>
        <p class="aside">{remaining}</p>
        {match next {
            RequiredAction::DeviceAuthorization => view! { <DeviceForm done /> }.into_any(),
            RequiredAction::NewAuthenticator => view! { <AuthenticatorForm on_saved=done /> }.into_any(),
            RequiredAction::ChangePassword => view! { <PasswordForm done /> }.into_any(),
            RequiredAction::AcceptAup => view! { <AupForm done /> }.into_any(),
            RequiredAction::UpdateProfile => view! { <ProfileForm done /> }.into_any(),
            RequiredAction::SecurityQuestions => view! { <QuestionsForm on_saved=done /> }.into_any(),
        }}
        <SignOut />
    }
}

#[component]
fn DeviceForm(done: Callback<()>) -> impl IntoView {
    let code = RwSignal::new(String::new());
    let action = Action::new_local(|c: &String| device_authorize(c.clone()));
    let result = action.value();
    Effect::new(move |_| {
        if let Some(Ok(DeviceReply::Passed)) = result.get() {
            done.run(());
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        action.dispatch(code.get_untracked());
    };
    let error = Signal::derive(move || field_error(result.get(), "code"));
    view! {
        {move || match result.get() {
            Some(Ok(DeviceReply::Wrong { tries_left })) => view! {
                <Notice kind=NoticeKind::Error>
                    <p>"That code is not right. Check the email and try again ("
                        {tries_left} {if tries_left == 1 { " try left" } else { " tries left" }} ")."</p>
                </Notice>
            }.into_any(),
            Some(Ok(DeviceReply::Spent)) => view! {
                <Notice kind=NoticeKind::Error>
                    <p>"This code can no longer be used: it has expired or was tried too often. Sign out and sign in again to get a new code by email."</p>
                </Notice>
            }.into_any(),
            Some(Err(e)) if e.field().is_none() => view! {
                <Notice kind=NoticeKind::Error><p>{e.to_string()}</p></Notice>
            }.into_any(),
            _ => ().into_any(),
        }}
        <form on:submit=submit novalidate>
            <TextField id="code" label="Device authorization code" value=code error
                autocomplete="one-time-code" inputmode="numeric" autofocus=true
                hint="The 6 digits from the email \u{201c}device authorization code\u{201d}." />
            <SubmitButton busy=action.pending() label="Continue" busy_label="Checking…" />
        </form>
    }
}

#[component]
fn PasswordForm(done: Callback<()>) -> impl IntoView {
    let current = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let confirm = RwSignal::new(String::new());
    let action = Action::new_local(|(c, p, k): &(String, String, String)| {
        change_password(c.clone(), p.clone(), k.clone())
    });
    let result = action.value();
    Effect::new(move |_| {
        if let Some(Ok(())) = result.get() {
            done.run(());
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        action.dispatch((
            current.get_untracked(),
            password.get_untracked(),
            confirm.get_untracked(),
        ));
    };
    view! {
        {general_error(result)}
        <form on:submit=submit novalidate>
            <TextField id="current" label="Temporary password" value=current kind="password"
                autocomplete="current-password" autofocus=true
                error=Signal::derive(move || field_error(result.get(), "current"))
                hint="The password the help desk gave you." />
            <TextField id="password" label="New password" value=password kind="password"
                autocomplete="new-password"
                error=Signal::derive(move || field_error(result.get(), "password"))
                hint="At least 12 characters; a few unrelated words are easy to remember and hard to guess." />
            <TextField id="confirm" label="New password again" value=confirm kind="password"
                autocomplete="new-password"
                error=Signal::derive(move || field_error(result.get(), "confirm")) />
            <SubmitButton busy=action.pending() label="Save my new password" busy_label="Saving…" />
        </form>
    }
}

#[component]
fn AupForm(done: Callback<()>) -> impl IntoView {
    let aup = LocalResource::new(fetch_aup_text);
    view! {
        <Suspense fallback=|| view! { <Loading label="Loading the policy…" /> }>
            {move || Suspend::new(async move {
                match aup.await {
                    Ok(text) => view! { <AupAccept aup=text done /> }.into_any(),
                    Err(e) => view! { <Notice kind=NoticeKind::Error><p>{e.to_string()}</p></Notice> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn AupAccept(aup: AupText, done: Callback<()>) -> impl IntoView {
    let version = aup.version;
    let agreed = RwSignal::new(false);
    let action = Action::new_local(move |v: &i64| accept_aup(*v));
    let result = action.value();
    Effect::new(move |_| {
        if let Some(Ok(())) = result.get() {
            done.run(());
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        action.dispatch(version);
    };
    // Plain paragraphs: the text is shown as text, never as markup.
    let paragraphs: Vec<String> = aup
        .text
        .split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect();
    view! {
        <section class="aup" aria-label="Acceptable use policy" tabindex="0">
            {paragraphs.into_iter().map(|p| view! { <p>{p}</p> }).collect_view()}
        </section>
        {general_error(result)}
        <form on:submit=submit novalidate>
            <div class="field checkbox">
                <input type="checkbox" id="agree" prop:checked=move || agreed.get()
                    on:change=move |ev| agreed.set(event_target_checked(&ev)) />
                <label for="agree">"I have read the acceptable use policy and I accept it"</label>
            </div>
            <button type="submit" disabled=move || !agreed.get() || action.pending().get()>
                {move || if action.pending().get() { "Saving…" } else { "Accept and continue" }}
            </button>
        </form>
    }
}

#[component]
fn ProfileForm(done: Callback<()>) -> impl IntoView {
    let profile = LocalResource::new(fetch_profile);
    view! {
        <Suspense fallback=|| view! { <Loading label="Loading your profile…" /> }>
            {move || Suspend::new(async move {
                match profile.await {
                    Ok(p) => view! { <ProfileEditor profile=p done /> }.into_any(),
                    Err(e) => view! { <Notice kind=NoticeKind::Error><p>{e.to_string()}</p></Notice> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn ProfileEditor(profile: Profile, done: Callback<()>) -> impl IntoView {
    let name = RwSignal::new(profile.display_name);
    let email = RwSignal::new(profile.email);
    let phone = RwSignal::new(profile.phone);
    let action = Action::new_local(|p: &Profile| update_profile(p.clone()));
    let result = action.value();
    Effect::new(move |_| {
        if let Some(Ok(())) = result.get() {
            done.run(());
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        action.dispatch(Profile {
            display_name: name.get_untracked(),
            email: email.get_untracked(),
            phone: phone.get_untracked(),
        });
    };
    view! {
        {general_error(result)}
        <form on:submit=submit novalidate>
            <TextField id="display_name" label="Name" value=name autocomplete="name" autofocus=true
                error=Signal::derive(move || field_error(result.get(), "display_name")) />
            <TextField id="email" label="Contact email address" value=email kind="email"
                autocomplete="email"
                error=Signal::derive(move || field_error(result.get(), "email"))
                hint="Codes and notices about your account go to this address." />
            <TextField id="phone" label="Phone number (optional)" value=phone kind="tel"
                autocomplete="tel"
                error=Signal::derive(move || field_error(result.get(), "phone"))
                hint="For the help desk to call you back, e.g. +44 20 7946 0000." />
            <SubmitButton busy=action.pending() label="Save and continue" busy_label="Saving…" />
        </form>
    }
}

/// An error that names no field, above a form.
fn general_error<T: 'static>(
    result: impl Get<Value = Option<Result<T, crate::error::ApiError>>> + Send + Sync + 'static,
) -> impl IntoView {
    move || match result.get() {
        Some(Err(e)) if e.field().is_none() => Some(view! {
            <Notice kind=NoticeKind::Error><p>{e.to_string()}</p></Notice>
        }),
        _ => None,
    }
}

/// Leaving without finishing: the next sign-in resumes at the same step.
#[component]
fn SignOut() -> impl IntoView {
    let leave = Action::new_local(|_: &()| sign_out());
    let navigate = super::links::cross_navigate();
    let signed_in = super::signed_in::SignedIn::setter();
    Effect::new(move |_| {
        if let Some(Ok(())) = leave.value().get() {
            signed_in(false);
            navigate("/");
        }
    });
    view! {
        <p class="aside">"Not now? "
            <button type="button" class="link" disabled=move || leave.pending().get()
                on:click=move |_| { leave.dispatch(()); }>"Sign out"</button>
            " — you will continue from this step when you next sign in."</p>
    }
}
