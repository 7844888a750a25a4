//! The support queue (seed 003): requests from the portal's Contact support form and
//! those Latchkey opened (self-unlock cap, *This wasn't me*), suspicious first, each
//! with its age in working hours; a request's page shows the matched accounts (unlock
//! them with the helpdesk's dialog), what happened so far, and the reply form.

use latchkey_types::support::{
    RequestOrigin, RequestStatus, SupportDetail, SupportEvent, SupportQueue, SupportRow,
};
use latchkey_types::Permission;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_params_map, use_query_map};

use super::session::Session;
use super::unlock::{UnlockDialog, UnlockTarget, Unlocked};
use super::widgets::{checked, focus_later, ErrorNotice, LockBadge};
use crate::api::console::support::{
    fetch_support_queue, support_request_get, support_request_update,
};
use crate::components::{local_time, use_title, Loading, Notice, NoticeKind, SubmitButton};
use crate::error::ApiError;

pub fn status_label(s: RequestStatus) -> &'static str {
    match s {
        RequestStatus::New => "New",
        RequestStatus::InProgress => "In progress",
        RequestStatus::WaitingForUser => "Waiting for the user",
        RequestStatus::Resolved => "Resolved",
    }
}

fn origin_label(o: RequestOrigin) -> &'static str {
    match o {
        RequestOrigin::Form => "Contact support form",
        RequestOrigin::SelfUnlockCap => "Self-service unlock cap reached",
        RequestOrigin::NotMe => "Lock mail: this wasn't me",
    }
}

/// A working-hours age in hours and minutes, e.g. "45 min", "11 h 20 min" (days would
/// mislead: a working day is not 24 hours).
pub fn working_age(secs: i64) -> String {
    let mins = secs.max(0) / 60;
    let (h, m) = (mins / 60, mins % 60);
    if h == 0 {
        format!("{m} min")
    } else {
        format!("{h} h {m} min")
    }
}

#[component]
pub fn SupportPage() -> impl IntoView {
    use_title("Support requests");
    let session = Session::get();
    let query = use_query_map();
    let status = Memo::new(move |_| {
        query.with(|q| {
            q.get("status")
                .and_then(|s| s.parse::<RequestStatus>().ok())
        })
    });
    let list = LocalResource::new(move || {
        let status = status.get();
        async move { checked(session, fetch_support_queue(status)).await }
    });
    view! {
        <h1>"Support requests"</h1>
        <p class="lead">"Requests from people who could not help themselves, and those Latchkey opened. \
            Suspicious ones come first, then the oldest."</p>
        <Suspense fallback=|| view! { <Loading label="Loading the queue…" /> }>
            {move || Suspend::new(async move {
                match list.await {
                    Ok(queue) => view! { <Queue queue current=status.get_untracked() /> }.into_any(),
                    Err(e) => view! { <ErrorNotice error=e /> }.into_any(),
                }
            })}
        </Suspense>
        <p><button type="button" class="secondary" on:click=move |_| list.refetch()>"Refresh"</button></p>
    }
}

#[component]
fn Queue(queue: SupportQueue, current: Option<RequestStatus>) -> impl IntoView {
    let count = |s: RequestStatus| {
        queue
            .counts
            .iter()
            .find(|(c, _)| *c == s)
            .map_or(0, |(_, n)| *n)
    };
    let open: u32 = RequestStatus::ALL
        .into_iter()
        .filter(|s| s.is_open())
        .map(count)
        .sum();
    let tab = move |href: String, label: String, selected: bool| {
        view! {
            <li><A href=href attr:aria-current=selected.then_some("page")>{label}</A></li>
        }
    };
    let tabs = std::iter::once(tab(
        "/console/support".to_owned(),
        format!("Open ({open})"),
        current.is_none(),
    ))
    .chain(RequestStatus::ALL.into_iter().map(|s| {
        tab(
            format!("/console/support?status={}", s.as_str()),
            format!("{} ({})", status_label(s), count(s)),
            current == Some(s),
        )
    }))
    .collect_view();
    let rows = queue
        .rows
        .into_iter()
        .map(|r| view! { <Row r /> })
        .collect_view();
    let empty = rows.is_empty();
    view! {
        <nav aria-label="Requests by status"><ul class="tabs">{tabs}</ul></nav>
        <p class="hint">"Ages count working hours only: " {queue.working_hours} "."</p>
        {if empty {
            view! { <p>"No requests here."</p> }.into_any()
        } else {
            view! {
                <div class="table-wrap">
                    <table>
                        <caption class="visually-hidden">"Support requests"</caption>
                        <thead><tr>
                            <th scope="col">"Request"</th>
                            <th scope="col">"From"</th>
                            <th scope="col">"Account"</th>
                            <th scope="col">"Status"</th>
                            <th scope="col">"Came in"</th>
                            <th scope="col">"Age (working hours)"</th>
                        </tr></thead>
                        <tbody>{rows}</tbody>
                    </table>
                </div>
            }.into_any()
        }}
    }
}

#[component]
fn Row(r: SupportRow) -> impl IntoView {
    let href = format!("/console/support/{}", r.reference);
    view! {
        <tr class:suspicious=r.suspicious>
            <td data-label="Request">
                <A href=href>{r.reference.clone()}</A>
                {r.suspicious.then(|| view! { " " <span class="badge locked">"Suspicious"</span> })}
                <br /><span class="hint">{origin_label(r.origin)}</span>
            </td>
            <td data-label="From">{r.full_name}<br /><span class="email">{r.email}</span></td>
            <td data-label="Account">{r.matched.unwrap_or_else(|| "Not registered".to_owned())}</td>
            <td data-label="Status"><span class="badge">{status_label(r.status)}</span></td>
            <td data-label="Came in">{local_time(r.created_at)}</td>
            <td data-label="Age (working hours)">{working_age(r.working_age_secs)}</td>
        </tr>
    }
}

#[component]
pub fn SupportRequestPage() -> impl IntoView {
    use_title("Support request");
    let session = Session::get();
    let params = use_params_map();
    let reference = Memo::new(move |_| params.with(|p| p.get("reference").unwrap_or_default()));
    let detail = LocalResource::new(move || {
        let r = reference.get();
        async move { checked(session, support_request_get(r)).await }
    });
    let said = RwSignal::new(None::<String>);
    view! {
        <p><A href="/console/support">"← All support requests"</A></p>
        <div role="status" id="support-status" tabindex="-1">
            {move || said.get().map(|s| view! { <Notice kind=NoticeKind::Success><p>{s}</p></Notice> })}
        </div>
        <Suspense fallback=|| view! { <Loading label="Loading the request…" /> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Ok(d) => view! {
                        <Request d changed=Callback::new(move |s: String| {
                            said.set(Some(s));
                            detail.refetch();
                            focus_later("support-status");
                        }) />
                    }.into_any(),
                    Err(e) => view! { <h1>"Support request"</h1><ErrorNotice error=e /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Request(d: SupportDetail, changed: Callback<String>) -> impl IntoView {
    let session = Session::get();
    let row = d.row.clone();
    let can_unlock = session.can(Permission::Unlock);
    let unlock_target = RwSignal::new(None::<UnlockTarget>);
    let unlocked = move |u: Unlocked| changed.run(u.sentence());
    let registered = !d.accounts.is_empty();
    let accounts = d
        .accounts
        .into_iter()
        .map(|a| {
            let t = UnlockTarget {
                id: a.id.clone(),
                username: a.username.clone(),
                display_name: a.display_name.clone(),
            };
            let label = format!("Unlock {}", a.username);
            let href = format!("/console/users/{}", a.id);
            view! {
                <li>
                    <A href=href>{a.username.clone()}</A> " — " {a.display_name.clone()} " "
                    <LockBadge locked=a.locked />
                    {(can_unlock && a.locked).then(|| view! {
                        " " <button type="button" class="small" aria-label=label
                            on:click=move |_| unlock_target.set(Some(t.clone()))>"Unlock…"</button>
                    })}
                </li>
            }
        })
        .collect_view();
    // Who an event without an agent came from: the person (their form) or Latchkey.
    let nobody = match row.origin {
        RequestOrigin::Form => "The person, through the form",
        RequestOrigin::SelfUnlockCap | RequestOrigin::NotMe => "Latchkey",
    };
    let events = d
        .events
        .into_iter()
        .map(|e| view! { <Event e nobody /> })
        .collect_view();
    view! {
        <div class="page-head">
            <div>
                <h1>"Support request " {row.reference.clone()}</h1>
                <p class="subtitle">{origin_label(row.origin)} ", " {local_time(row.created_at)}
                    " — " {working_age(row.working_age_secs)} " of working hours old"</p>
            </div>
        </div>
        {row.suspicious.then(|| view! {
            <Notice kind=NoticeKind::Error>
                <p><strong>"Suspicious."</strong> " The account's owner says the failed sign-ins were not theirs: someone else may be trying to get in. Verify the caller before unlocking, and look at where the failed sign-ins came from on the user's page."</p>
            </Notice>
        })}
        <dl class="facts">
            <dt>"Status"</dt><dd><span class="badge">{status_label(row.status)}</span></dd>
            <dt>"Full name"</dt><dd>{row.full_name.clone()}</dd>
            <dt>"Email address"</dt><dd class="email">{row.email.clone()}</dd>
            <dt>"Sent from"</dt><dd>{d.client.clone().unwrap_or_else(|| "Opened by Latchkey".to_owned())}</dd>
        </dl>
        <h2>"Description"</h2>
        <p class="user-text">{d.description}</p>
        <h2>"Registered accounts with this address"</h2>
        {if registered {
            view! { <ul class="plain">{accounts}</ul> }.into_any()
        } else {
            view! {
                <p>"This address is not registered with any account you can see. Replies are recorded here but no mail is sent: only registered addresses get mail."</p>
            }.into_any()
        }}
        <h2>"What happened"</h2>
        <ol class="timeline">{events}</ol>
        <Reply reference=row.reference.clone() status=row.status registered changed />
        <UnlockDialog target=unlock_target done=unlocked />
    }
}

#[component]
fn Event(e: SupportEvent, nobody: &'static str) -> impl IntoView {
    let who = e.by.unwrap_or_else(|| nobody.to_owned());
    view! {
        <li>
            <p><strong>{local_time(e.at)}</strong> " · " {who} " · " {status_label(e.status)}
                {e.emailed.then_some(" · emailed")}</p>
            {e.message.map(|m| view! { <p class="user-text">{m}</p> })}
        </li>
    }
}

/// Reply, change the status, resolve.
#[component]
fn Reply(
    reference: String,
    status: RequestStatus,
    registered: bool,
    changed: Callback<String>,
) -> impl IntoView {
    let session = Session::get();
    let message = RwSignal::new(String::new());
    let next = RwSignal::new(match status {
        RequestStatus::New | RequestStatus::Resolved => RequestStatus::InProgress,
        other => other,
    });
    let save = Action::new_local(move |(r, s, m): &(String, RequestStatus, String)| {
        let (r, s, m) = (r.clone(), *s, m.clone());
        let m = (!m.trim().is_empty()).then_some(m);
        async move { checked(session, support_request_update(r, s, m)).await }
    });
    let result = save.value();
    Effect::new(move |_| {
        if let Some(Ok(())) = result.get() {
            let s = next.get_untracked();
            message.set(String::new());
            changed.run(format!(
                "The request is now: {}.",
                status_label(s).to_lowercase()
            ));
        }
    });
    let error = move || match result.get() {
        Some(Err(e)) => Some(e),
        _ => None,
    };
    let message_error = move || {
        error().and_then(|e: ApiError| (e.field() == Some("message")).then(|| e.to_string()))
    };
    let submit = {
        let reference = reference.clone();
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            save.dispatch((
                reference.clone(),
                next.get_untracked(),
                message.get_untracked(),
            ));
        }
    };
    let options = [
        RequestStatus::InProgress,
        RequestStatus::WaitingForUser,
        RequestStatus::Resolved,
    ]
    .into_iter()
    .map(|s| {
        view! {
            <option value=s.as_str() selected=move || next.get() == s>{status_label(s)}</option>
        }
    })
    .collect_view();
    let mail_hint = if registered {
        "Sent by email to the registered address. The person is also emailed when the request is resolved."
    } else {
        "Recorded here only: the address is not registered, so no mail is sent."
    };
    view! {
        <h2>"Reply and update"</h2>
        {move || error().filter(|e| e.field() != Some("message")).map(|e| view! { <ErrorNotice error=e /> })}
        <form on:submit=submit novalidate class="reply">
            <div class="field">
                <label for="reply-message">"Message to the person (optional)"</label>
                <span class="hint" id="reply-message-hint">{mail_hint}</span>
                <textarea id="reply-message" rows="5" maxlength="4000"
                    aria-describedby=move || if message_error().is_some() { "reply-message-hint reply-message-error" } else { "reply-message-hint" }
                    aria-invalid=move || message_error().is_some().then_some("true")
                    prop:value=move || message.get()
                    on:input=move |ev| message.set(event_target_value(&ev))></textarea>
                {move || message_error().map(|e| view! { <span class="field-error" id="reply-message-error" role="alert">{e}</span> })}
            </div>
            <div class="field">
                <label for="reply-status">"Status"</label>
                <select id="reply-status" on:change=move |ev| {
                    if let Ok(s) = event_target_value(&ev).parse::<RequestStatus>() {
                        next.set(s);
                    }
                }>{options}</select>
            </div>
            <SubmitButton busy=save.pending() label="Save" busy_label="Saving…" />
        </form>
    }
}
