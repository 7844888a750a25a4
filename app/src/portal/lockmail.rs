//! The pages the lock email's two links open: `/locked/unlock#<token>` (*This was me:
//! unlock my account*) and `/locked/not-me#<token>` (*This wasn't me*). The token is in
//! the fragment, so it never reaches a server log or a Referer header; the page takes it
//! out of the address bar at once. Nothing happens until the person presses the button,
//! so a mail scanner that opens links spends nothing.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;

use crate::api::lockmail::{lock_link_not_me, lock_link_unlock};
use crate::components::{use_title, Notice, NoticeKind, SubmitButton};
use crate::error::ApiError;

/// Which of the two links opened the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkKind {
    ThisWasMe,
    NotMe,
}

/// The token from the address's fragment, taken out of the address bar.
fn take_token() -> String {
    let location = window().location();
    let hash = location.hash().unwrap_or_default();
    let token = hash.trim_start_matches('#').to_owned();
    if !token.is_empty() {
        if let Ok(path) = location.pathname() {
            replace_address(&path);
        }
    }
    token
}

/// `history.replaceState(null, "", path)`: a new address without a new history entry.
fn replace_address(path: &str) {
    use wasm_bindgen::{JsCast, JsValue};
    let Ok(history) = js_sys::Reflect::get(&window(), &JsValue::from_str("history")) else {
        return;
    };
    let Some(replace) = js_sys::Reflect::get(&history, &JsValue::from_str("replaceState"))
        .ok()
        .and_then(|f| f.dyn_into::<js_sys::Function>().ok())
    else {
        return;
    };
    let _ = replace.call3(
        &history,
        &JsValue::NULL,
        &JsValue::from_str(""),
        &JsValue::from_str(path),
    );
}

#[component]
pub fn LockLinkPage(kind: LinkKind) -> impl IntoView {
    use_title(match kind {
        LinkKind::ThisWasMe => "Unlock my account",
        LinkKind::NotMe => "This wasn't me",
    });
    let token = StoredValue::new(take_token());
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<ApiError>);
    let reported = RwSignal::new(false);
    let navigate = use_navigate();
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        error.set(None);
        let token = token.get_value();
        let navigate = navigate.clone();
        spawn_local(async move {
            match kind {
                LinkKind::ThisWasMe => {
                    let channel = super::selfservice::detect_channel();
                    match lock_link_unlock(token, channel).await {
                        Ok(opened) => {
                            // The unlock page resumes this tab's flow (see `selfservice`).
                            super::selfservice::remember_flow(
                                channel,
                                &opened.flow_id,
                                &opened.username,
                            );
                            navigate("/unlock", Default::default());
                        }
                        Err(e) => error.set(Some(e)),
                    }
                }
                LinkKind::NotMe => match lock_link_not_me(token).await {
                    Ok(()) => reported.set(true),
                    Err(e) => error.set(Some(e)),
                },
            }
            busy.set(false);
        });
    };
    let spent = move || matches!(error.get(), Some(ApiError::FlowEnded { .. }));
    move || {
        if spent() {
            return view! { <Spent error /> }.into_any();
        }
        if reported.get() {
            return view! { <Reported /> }.into_any();
        }
        let intro = match kind {
            LinkKind::ThisWasMe => view! {
                <h1>"Unlock my account"</h1>
                <p class="lead">
                    "You opened the link from the email about your locked account, so the email step is done. "
                    "You will still be asked to prove it is you."
                </p>
            }
            .into_any(),
            LinkKind::NotMe => view! {
                <h1>"This wasn't me"</h1>
                <p class="lead">
                    "Someone else may be trying to guess your password. We will keep your account locked, "
                    "sign it out everywhere, and ask for a new password when it is unlocked."
                </p>
            }
            .into_any(),
        };
        let (label, busy_label) = match kind {
            LinkKind::ThisWasMe => ("Continue", "Opening…"),
            LinkKind::NotMe => ("Keep my account locked", "Reporting…"),
        };
        view! {
            {intro}
            {move || error.get().map(|e| view! {
                <Notice kind=NoticeKind::Error><p>{e.to_string()}</p></Notice>
            })}
            <form on:submit=submit.clone() novalidate>
                <SubmitButton busy label busy_label />
            </form>
        }
        .into_any()
    }
}

/// What a used, expired or incomplete link shows: plainly that it no longer works.
#[component]
fn Spent(error: RwSignal<Option<ApiError>>) -> impl IntoView {
    view! {
        <h1>"This link no longer works"</h1>
        <p>{move || error.get().map(|e| e.to_string()).unwrap_or_default()}</p>
        <p>
            <A href="/unlock">"Unlock my account"</A>
            " the usual way, or ask your help desk."
        </p>
    }
}

#[component]
fn Reported() -> impl IntoView {
    view! {
        <h1>"Thank you: your account stays locked"</h1>
        <Notice kind=NoticeKind::Success>
            <p>
                "Your account stays locked and was signed out everywhere. When it is unlocked, "
                "you will be asked to choose a new password at your next sign-in."
            </p>
        </Notice>
        <p>"Please tell your help desk that someone tried to sign in as you."</p>
    }
}
