//! Unlocking a user after a confirmation (seed 003: "Accept the prompt to confirm the
//! unlock action"), from the users grid's key icon or the user page's button.

use leptos::prelude::*;

use super::session::Session;
use super::widgets::{checked, CheckboxField, Modal};
use crate::api::console::users::{user_unlock, UnlockResult};
use crate::components::{Notice, NoticeKind, SubmitButton};

/// The account an operator is about to unlock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnlockTarget {
    pub id: String,
    pub username: String,
    pub display_name: String,
}

/// What an unlock came to, for the page to say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unlocked {
    pub target: UnlockTarget,
    pub result: UnlockResult,
    pub advised: bool,
}

impl Unlocked {
    /// One plain sentence for the page's status message.
    pub fn sentence(&self) -> String {
        let who = &self.target.username;
        match (self.result.was_locked, self.result.emailed, self.advised) {
            (true, true, true) => format!(
                "{who} is unlocked. They were emailed, with the advice to reset their password \
                 before signing in."
            ),
            (true, true, false) => format!("{who} is unlocked and was emailed about it."),
            (true, false, _) => format!("{who} is unlocked."),
            (false, _, _) => format!("{who} was not locked (any more): nothing needed unlocking."),
        }
    }
}

/// The confirmation dialog. Open while `target` is set; `done` hears of each unlock.
#[component]
pub fn UnlockDialog(
    target: RwSignal<Option<UnlockTarget>>,
    #[prop(into)] done: Callback<Unlocked>,
) -> impl IntoView {
    let session = Session::get();
    let open = RwSignal::new(false);
    let advise = RwSignal::new(false);
    // Two signals kept in step; each is set only when it differs, or they would wake
    // each other for ever.
    Effect::new(move |_| {
        let is_set = target.with(Option::is_some);
        if is_set {
            advise.set(false);
        }
        if open.get_untracked() != is_set {
            open.set(is_set);
        }
    });
    Effect::new(move |_| {
        if !open.get() && target.with_untracked(Option::is_some) {
            target.set(None);
        }
    });

    let action = Action::new_local(move |(t, advise): &(UnlockTarget, bool)| {
        let (t, advise) = (t.clone(), *advise);
        async move {
            let result = checked(session, user_unlock(t.id.clone(), advise)).await?;
            Ok::<_, crate::error::ApiError>(Unlocked {
                target: t,
                result,
                advised: advise,
            })
        }
    });
    let pending = action.pending();
    let value = action.value();
    Effect::new(move |_| {
        if let Some(Ok(done_now)) = value.get() {
            value.set(None);
            open.set(false);
            done.run(done_now);
        }
    });

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if let Some(t) = target.get_untracked() {
            action.dispatch((t, advise.get_untracked()));
        }
    };
    let name = move || target.get().map(|t| t.username).unwrap_or_default();
    let display = move || target.get().map(|t| t.display_name).unwrap_or_default();
    view! {
        <Modal open labelled_by="unlock-title">
            <form on:submit=submit class="dialog-form">
                <h2 id="unlock-title">"Unlock " {name} "?"</h2>
                <p>{display} " can sign in again straight away. Their failed attempts are cleared, \
                    and you are recorded as having unlocked the account."</p>
                <CheckboxField id="advise-reset" label="Advise the user to reset their password"
                    checked=advise
                    hint="The email telling them the account is unlocked also advises them to \
                          choose a new password with Forgot password before signing in, with \
                          a link to it." />
                {move || value.get().and_then(Result::err).map(|e| view! {
                    <Notice kind=NoticeKind::Error><p>{e.to_string()}</p></Notice>
                })}
                <div class="dialog-buttons">
                    <SubmitButton busy=pending label="Unlock" busy_label="Unlocking…" />
                    <button type="button" class="secondary" on:click=move |_| open.set(false)>
                        "Cancel"
                    </button>
                </div>
            </form>
        </Modal>
    }
}
