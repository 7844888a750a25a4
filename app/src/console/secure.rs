//! *Reset a Secret Key* (seed 001) and *Resecure an account* (seed 002) on the user page,
//! each after a confirmation; the server checks the permission and refuses a resecure it
//! may not do, whatever this page sends.

use latchkey_types::console::{ResecureBlock, ResecureForm};
use leptos::prelude::*;

use super::labels;
use super::session::Session;
use super::widgets::{checked, focus_later, Modal};
use crate::api::console::users::{generate_password, user_resecure, user_reset_mfa};
use crate::components::{field_error, Notice, NoticeKind, SubmitButton, TextField};

/// Resets the user's authenticator after a confirmation.
#[component]
pub fn ResetMfaButton(id: String, username: String, done: Callback<()>) -> impl IntoView {
    let session = Session::get();
    let open = RwSignal::new(false);
    let action = Action::new_local(move |id: &String| checked(session, user_reset_mfa(id.clone())));
    let value = action.value();
    let pending = action.pending();
    Effect::new(move |_| {
        if let Some(Ok(())) = value.get() {
            open.set(false);
            done.run(());
            focus_later("user-status");
        }
    });
    let confirm = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        action.dispatch(id.clone());
    };
    view! {
        <button type="button" class="secondary" on:click=move |_| open.set(true)>"Reset MFA secret"</button>
        <Modal open labelled_by="reset-mfa-title">
            <form on:submit=confirm class="dialog-form">
                <h2 id="reset-mfa-title">"Reset the secret key of " {username} "?"</h2>
                <p>"Their authenticator app stops working for this account and their open sessions end. \
                    The next time they sign in, they receive a Device Authorization email with a code, \
                    then scan a new QR code into their authenticator app."</p>
                <p>"They are emailed that this happened."</p>
                {move || value.get().and_then(Result::err).map(|e| view! {
                    <Notice kind=NoticeKind::Error><p>{e.to_string()}</p></Notice>
                })}
                <div class="dialog-buttons">
                    <SubmitButton busy=pending label="Reset MFA secret" busy_label="Resetting…" />
                    <button type="button" class="secondary" on:click=move |_| open.set(false)>"Cancel"</button>
                </div>
            </form>
        </Modal>
    }
}

/// *Resecure Account*: disabled with the reason when it may not be done; otherwise a
/// confirmation listing what will happen, then the temporary password.
#[component]
pub fn ResecureButton(
    id: String,
    username: String,
    blocked: Option<ResecureBlock>,
    done: Callback<()>,
) -> impl IntoView {
    let session = Session::get();
    let open = RwSignal::new(false);
    // The confirmation first, then the password (seed 002's two steps).
    let confirmed = RwSignal::new(false);
    let password = RwSignal::new(String::new());
    let generated = RwSignal::new(false);
    let require_change = RwSignal::new(true);
    let generate = Action::new_local(move |_: &()| checked(session, generate_password()));
    Effect::new(move |_| {
        if let Some(Ok(p)) = generate.value().get() {
            password.set(p);
            generated.set(true);
        }
    });
    let action = Action::new_local(move |(id, form): &(String, ResecureForm)| {
        checked(session, user_resecure(id.clone(), form.clone()))
    });
    let value = action.value();
    let pending = action.pending();
    Effect::new(move |_| {
        if let Some(Ok(())) = value.get() {
            open.set(false);
            password.set(String::new());
            done.run(());
            focus_later("user-status");
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let form = ResecureForm {
            temporary_password: password.get_untracked(),
            require_change: require_change.get_untracked(),
        };
        action.dispatch((id.clone(), form));
    };
    let start = move |_| {
        confirmed.set(false);
        generated.set(false);
        password.set(String::new());
        open.set(true);
    };
    let reason = blocked.map(labels::resecure_block);
    view! {
        <button type="button" class="secondary" disabled=blocked.is_some()
            aria-describedby=blocked.map(|_| "resecure-reason") on:click=start>
            "Resecure account"
        </button>
        {reason.map(|r| view! { <p id="resecure-reason" class="hint">"Resecure is not available: " {r}</p> })}
        <Modal open labelled_by="resecure-title">
            {move || if confirmed.get() {
                view! {
                    <form on:submit=submit.clone() class="dialog-form" novalidate>
                        <h2 id="resecure-title">"Temporary password for " {username.clone()}</h2>
                        <p>"Type a temporary password, or generate one. Give it to the user yourself \
                            (it is not emailed); it is shown only here, once."</p>
                        <TextField id="temporary_password" label="Temporary password" value=password
                            autocomplete="off"
                            error=Signal::derive(move || field_error(value.get(), "temporary_password")) />
                        <p>
                            <button type="button" class="secondary" disabled=move || generate.pending().get()
                                on:click=move |_| { generate.dispatch(()); }>
                                "Generate password"
                            </button>
                        </p>
                        {move || generated.get().then(|| view! {
                            <p role="status">"Generated. Copy it now: select the field and copy."</p>
                        })}
                        <div class="field checkbox">
                            <input type="checkbox" id="require_change" prop:checked=move || require_change.get()
                                on:change=move |ev| require_change.set(event_target_checked(&ev)) />
                            <label for="require_change">"Require password change at next logon"</label>
                        </div>
                        {move || value.get().and_then(Result::err).filter(|e| e.field().is_none()).map(|e| view! {
                            <Notice kind=NoticeKind::Error><p>{e.to_string()}</p></Notice>
                        })}
                        <div class="dialog-buttons">
                            <SubmitButton busy=pending label="Update" busy_label="Resecuring…" />
                            <button type="button" class="secondary" on:click=move |_| open.set(false)>"Cancel"</button>
                        </div>
                    </form>
                }.into_any()
            } else {
                view! {
                    <div class="dialog-form">
                        <h2 id="resecure-title">"Resecure " {username.clone()} "?"</h2>
                        <p>"Only do this once you have confirmed who the user is, following your \
                            organisation's policy. Resecuring the account will:"</p>
                        <ul>
                            <li>"reset the password to a temporary one that you set next;"</li>
                            <li>"reset the acceptable use policy (AUP) status;"</li>
                            <li>"reset the account secret: security questions and answers, and the authenticator app;"</li>
                            <li>"revoke all of the user's active sessions."</li>
                        </ul>
                        <p>"At their next sign-in they change the password, accept the AUP, update their \
                            profile and set new security questions."</p>
                        <div class="dialog-buttons">
                            <button type="button" on:click=move |_| confirmed.set(true)>"Confirm"</button>
                            <button type="button" class="secondary" on:click=move |_| open.set(false)>"Cancel"</button>
                        </div>
                    </div>
                }.into_any()
            }}
        </Modal>
    }
}
