//! The outbox: mail that is waiting or could not be delivered (never a code), and
//! sending a failed one again under the command line's rules.

use latchkey_types::console::MailView;
use latchkey_types::{DeliveryStatus, Permission};
use leptos::prelude::*;

use super::labels;
use super::session::Session;
use super::widgets::{checked, ErrorNotice};
use crate::api::console::mail::{mail, mail_resend};
use crate::components::{local_time, use_title, Loading, Notice, NoticeKind};

#[component]
pub fn OutboxPage() -> impl IntoView {
    use_title("Mail");
    let session = Session::get();
    let list = LocalResource::new(move || checked(session, mail()));
    let resend = Action::new_local(move |id: &String| {
        let id = id.clone();
        async move { checked(session, mail_resend(id)).await }
    });
    let resent = resend.value();
    Effect::new(move |_| {
        if let Some(Ok(())) = resent.get() {
            list.refetch();
        }
    });
    let can_resend = session.can(Permission::ManageUsers);
    view! {
        <h1>"Mail"</h1>
        <p class="lead">"Mail waiting to be sent and mail that could not be delivered. Sent mail is \
            not listed. Codes are never shown."</p>
        <p><button type="button" class="secondary" on:click=move |_| list.refetch()>"Refresh"</button></p>
        <div role="status">
            {move || match resent.get() {
                Some(Ok(())) => Some(view! {
                    <Notice kind=NoticeKind::Success><p>"The mail is queued to be sent again."</p></Notice>
                }.into_any()),
                Some(Err(e)) => Some(view! { <ErrorNotice error=e /> }.into_any()),
                None => None,
            }}
        </div>
        <Suspense fallback=|| view! { <Loading label="Loading the outbox…" /> }>
            {move || Suspend::new(async move {
                match list.await {
                    Ok(mails) if mails.is_empty() => view! {
                        <p>"Nothing is waiting and nothing has failed."</p>
                    }.into_any(),
                    Ok(mails) => view! { <MailTable mails can_resend resend=Callback::new(move |id: String| { resend.dispatch(id); }) /> }.into_any(),
                    Err(e) => view! { <ErrorNotice error=e /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn MailTable(mails: Vec<MailView>, can_resend: bool, resend: Callback<String>) -> impl IntoView {
    let rows = mails
        .into_iter()
        .map(|m| {
            let button = (can_resend && m.can_resend).then(|| {
                let id = m.id.clone();
                let label = format!("Send again: {} to {}", labels::mail_kind(&m.kind), m.to);
                view! {
                    <button type="button" class="secondary small" aria-label=label
                        on:click=move |_| resend.run(id.clone())>"Send again"</button>
                }
            });
            let failed = m.status == DeliveryStatus::Failed;
            view! {
                <tr>
                    <td data-label="Mail">{labels::mail_kind(&m.kind)}</td>
                    <td data-label="To" class="email">{m.to}</td>
                    <td data-label="Organisation">{m.organisation}</td>
                    <td data-label="State"><span class="badge" class:locked=failed>{labels::delivery(m.status)}</span></td>
                    <td data-label="Attempts">{m.attempts}</td>
                    <td data-label="Queued">{local_time(m.created_at)}</td>
                    <td data-label="Last error">{m.last_error.unwrap_or_else(|| "—".to_owned())}</td>
                    <td data-label="Send again">{button}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="table-wrap">
            <table>
                <caption class="visually-hidden">"Mail waiting or failed"</caption>
                <thead><tr>
                    <th scope="col">"Mail"</th>
                    <th scope="col">"To"</th>
                    <th scope="col">"Organisation"</th>
                    <th scope="col">"State"</th>
                    <th scope="col">"Attempts"</th>
                    <th scope="col">"Queued"</th>
                    <th scope="col">"Last error"</th>
                    <th scope="col"><span class="visually-hidden">"Send again"</span></th>
                </tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}
