//! Small pieces the console's pages share: form fields, the modal dialog, the key icon,
//! the audit table, and the one place a call's error meets the session.

use std::future::Future;

use latchkey_types::console::AuditEntry;
use leptos::prelude::*;

use super::labels;
use super::session::Session;
use crate::components::{local_time, Notice, NoticeKind};
use crate::error::ApiError;

/// Awaits a console call; an ended session brings back the sign-in form.
pub async fn checked<T>(
    session: Session,
    call: impl Future<Output = Result<T, ApiError>>,
) -> Result<T, ApiError> {
    let result = call.await;
    if let Err(e) = &result {
        session.notice(e);
    }
    result
}

/// An error as a page shows it: what happened, in the error's own words.
#[component]
pub fn ErrorNotice(error: ApiError) -> impl IntoView {
    let text = match &error {
        ApiError::NotFound => "That was not found. It may have been removed, or the link may be \
                               mistyped."
            .to_owned(),
        other => other.to_string(),
    };
    view! { <Notice kind=NoticeKind::Error><p>{text}</p></Notice> }
}

/// Directory identity stores that could not answer, each named: their accounts are
/// missing, or shown without their lock. Nothing when every directory answered.
#[component]
pub fn DirectoryErrors(errors: Vec<String>) -> impl IntoView {
    (!errors.is_empty()).then(|| {
        let items = errors
            .into_iter()
            .map(|e| view! { <li>{capitalised(&e)}"."</li> })
            .collect_view();
        view! {
            <Notice kind=NoticeKind::Error>
                <p>"Some accounts could not be read from their directory:"</p>
                <ul>{items}</ul>
            </Notice>
        }
    })
}

fn capitalised(s: &str) -> String {
    let mut chars = s.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// A Unix time, or a dash for none.
pub fn when(at: Option<i64>) -> String {
    at.map(local_time).unwrap_or_else(|| "—".to_owned())
}

/// Whether an account is locked now, as a badge.
#[component]
pub fn LockBadge(locked: bool) -> impl IntoView {
    view! {
        <span class="badge" class:locked=locked>{if locked { "Locked" } else { "Not locked" }}</span>
    }
}

/// The small key icon of a locked row (seed 003). Decorative: its button carries the name.
#[component]
pub fn KeyIcon() -> impl IntoView {
    view! {
        <svg class="icon" viewBox="0 0 24 24" width="20" height="20" aria-hidden="true" focusable="false">
            <circle cx="7.5" cy="15.5" r="4.5" fill="none" stroke="currentColor" stroke-width="2.2" />
            <path d="M10.7 12.3 20 3m-3.5 3.5 2.5 2.5m-5-0.5 2 2" fill="none" stroke="currentColor"
                stroke-width="2.2" stroke-linecap="round" />
        </svg>
    }
}

/// A labelled drop-down bound to `value` (the option's value, `""` for the first one).
#[component]
pub fn SelectField(
    #[prop(into)] id: String,
    label: &'static str,
    value: RwSignal<String>,
    options: Vec<(String, String)>,
    #[prop(optional, into)] hint: Option<String>,
) -> impl IntoView {
    let hint_id = format!("{id}-hint");
    let described = hint.is_some().then(|| hint_id.clone());
    let options = options
        .into_iter()
        .map(|(v, text)| {
            let selected = {
                let v = v.clone();
                move || value.get() == v
            };
            view! { <option value=v selected=selected>{text}</option> }
        })
        .collect_view();
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            {hint.map(|h| view! { <span class="hint" id=hint_id.clone()>{h}</span> })}
            <select id=id.clone() name=id aria-describedby=described
                prop:value=move || value.get()
                on:change=move |ev| value.set(event_target_value(&ev))>
                {options}
            </select>
        </div>
    }
}

/// A labelled checkbox bound to `checked`.
#[component]
pub fn CheckboxField(
    #[prop(into)] id: String,
    label: &'static str,
    checked: RwSignal<bool>,
    #[prop(optional, into)] hint: Option<String>,
) -> impl IntoView {
    let hint_id = format!("{id}-hint");
    let described = hint.is_some().then(|| hint_id.clone());
    view! {
        <div class="field checkbox">
            <input type="checkbox" id=id.clone() name=id.clone() aria-describedby=described
                prop:checked=move || checked.get()
                on:change=move |ev| checked.set(event_target_checked(&ev)) />
            <label for=id>{label}</label>
            {hint.map(|h| view! { <span class="hint" id=hint_id.clone()>{h}</span> })}
        </div>
    }
}

/// A modal dialog (the browser's own `<dialog>`: it keeps focus inside, closes on Escape
/// and hides the page behind from screen readers) that is open while `open` is true.
#[component]
pub fn Modal(
    open: RwSignal<bool>,
    #[prop(into)] labelled_by: String,
    children: Children,
) -> impl IntoView {
    let dialog = NodeRef::<leptos::html::Dialog>::new();
    Effect::new(move |_| {
        let Some(el) = dialog.get() else { return };
        if open.get() {
            if !el.open() {
                let _ = el.show_modal();
            }
        } else if el.open() {
            el.close();
        }
    });
    view! {
        <dialog node_ref=dialog class="modal" aria-labelledby=labelled_by
            on:close=move |_| open.set(false)>
            {children()}
        </dialog>
    }
}

/// Audit records as a table, newest first.
#[component]
pub fn AuditTable(entries: Vec<AuditEntry>, caption: &'static str) -> impl IntoView {
    let rows = entries
        .into_iter()
        .map(|e| {
            let outcome_class = if e.outcome == "failure" {
                "outcome failure"
            } else {
                "outcome"
            };
            view! {
                <tr>
                    <td data-label="When">{local_time(e.at)}</td>
                    <td data-label="Action">{labels::action_text(&e.action)}</td>
                    <td data-label="Outcome"><span class=outcome_class>{labels::outcome_text(&e.outcome)}</span></td>
                    <td data-label="By">{e.actor}</td>
                    <td data-label="Account">{e.subject.unwrap_or_else(|| "—".to_owned())}</td>
                    <td data-label="Channel">{labels::channel_text(&e.channel)}</td>
                    <td data-label="Client">{e.client.unwrap_or_else(|| "—".to_owned())}</td>
                    <td data-label="Details" class="details">{details(&e.details)}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="table-wrap">
            <table class="audit">
                <caption class="visually-hidden">{caption}</caption>
                <thead>
                    <tr>
                        <th scope="col">"When"</th>
                        <th scope="col">"Action"</th>
                        <th scope="col">"Outcome"</th>
                        <th scope="col">"By"</th>
                        <th scope="col">"Account"</th>
                        <th scope="col">"Channel"</th>
                        <th scope="col">"Client"</th>
                        <th scope="col">"Details"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}

/// An audit record's facts (a JSON object) as `key: value` pairs, leaving out the empty
/// ones; nothing for `{}`.
fn details(json: &str) -> String {
    match serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(json) {
        Ok(map) => map
            .into_iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, v)| match v {
                serde_json::Value::String(s) => format!("{}: {s}", k.replace('_', " ")),
                other => format!("{}: {other}", k.replace('_', " ")),
            })
            .collect::<Vec<_>>()
            .join("; "),
        Err(_) => json.to_owned(),
    }
}

/// The error signal of a field that has none of its own.
pub fn no_error() -> Signal<Option<String>> {
    Signal::derive(|| None)
}

/// Moves keyboard focus to the element `id` once the page has been redrawn: a field
/// that has just appeared, or a status message after a change (so a keyboard user hears
/// it and continues from there). Later, not now: a closing dialog hands focus back to
/// the control that opened it, which would undo a move made before it closes.
pub fn focus_later(id: &'static str) {
    request_animation_frame(move || focus_by_id(id));
}

fn focus_by_id(id: &str) {
    use wasm_bindgen::JsCast;
    if let Some(el) = document()
        .get_element_by_id(id)
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
    {
        let _ = el.focus();
    }
}

/// The failed sign-ins behind a lock (time, channel, client address, and how many other
/// names failed from that address around then: many is a sign of password spraying).
#[component]
pub fn FailedSignIns(list: Vec<latchkey_types::console::FailedSignIn>) -> impl IntoView {
    if list.is_empty() {
        return ().into_any();
    }
    let rows = list
        .into_iter()
        .map(|f| {
            let others = match f.other_names {
                0 => "none".to_owned(),
                n if n >= 5 => format!("{n}: a sign of password spraying"),
                n => n.to_string(),
            };
            view! {
                <tr>
                    <td data-label="When">{local_time(f.at)}</td>
                    <td data-label="Channel">{labels::channel_text(&f.channel)}</td>
                    <td data-label="Client">{f.client.unwrap_or_else(|| "—".to_owned())}</td>
                    <td data-label="Other accounts from this address">{others}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="table-wrap">
            <table class="failed-sign-ins">
                <caption>"Failed sign-ins behind the lock"</caption>
                <thead>
                    <tr>
                        <th scope="col">"When"</th>
                        <th scope="col">"Channel"</th>
                        <th scope="col">"Client"</th>
                        <th scope="col">"Other accounts from this address (±30 min)"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
    .into_any()
}
