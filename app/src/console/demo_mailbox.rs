//! The demo mailbox (`/console/demo-mailbox`): with `latchkey serve --demo` and no SMTP
//! server, the mail Latchkey sends is written to disk and shown here, so a newcomer can
//! read an emailed code without a mail server. In the console bundle, so it costs the
//! portal nothing.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use crate::api::demo::{fetch_demo_mail, fetch_demo_mailbox, DemoMail, DemoMailSummary};
use crate::components::{local_time, use_title, Loading, Notice, NoticeKind};
use crate::error::ApiError;

const LIST: &str = "/console/demo-mailbox";

/// What to say when the server has no demo mailbox (or another error).
fn unavailable(e: &ApiError) -> AnyView {
    let text = match e {
        ApiError::NotFound => "The demo mailbox exists only when the server runs with --demo \
                               and no SMTP server is configured."
            .to_owned(),
        other => other.to_string(),
    };
    view! { <Notice kind=NoticeKind::Error><p>{text}</p></Notice> }.into_any()
}

#[component]
pub fn DemoMailboxPage() -> impl IntoView {
    use_title("Demo mailbox");
    let mails = LocalResource::new(fetch_demo_mailbox);
    view! {
        <h1>"Demo mailbox"</h1>
        <p class="lead">"The mail this demo server has sent. It never left this machine."</p>
        <p>
            <button type="button" class="secondary" on:click=move |_| mails.refetch()>
                "Check for new mail"
            </button>
        </p>
        <Suspense fallback=|| view! { <Loading label="Loading the mailbox…" /> }>
            {move || Suspend::new(async move {
                match mails.await {
                    Ok(list) if list.is_empty() => view! {
                        <p>"No mail yet. Mistype a demo user's password five times to lock the \
                            account: the owner is mailed about it."</p>
                    }.into_any(),
                    Ok(list) => view! { <MailList list /> }.into_any(),
                    Err(e) => unavailable(&e),
                }
            })}
        </Suspense>
    }
}

#[component]
fn MailList(list: Vec<DemoMailSummary>) -> impl IntoView {
    let items = list
        .into_iter()
        .map(|m| {
            let href = format!("{LIST}/{}", m.id);
            view! {
                <li>
                    <a href=href class="mail-subject">{m.subject}</a>
                    <span class="mail-meta">"To " {m.to} " · " {local_time(m.date)}</span>
                </li>
            }
        })
        .collect_view();
    view! { <ul class="mail-list" aria-label="Messages, newest first">{items}</ul> }
}

#[component]
pub fn DemoMailPage() -> impl IntoView {
    use_title("Demo mailbox");
    let params = use_params_map();
    let mail = LocalResource::new(move || {
        let id = params.get().get("id").unwrap_or_default();
        fetch_demo_mail(id)
    });
    view! {
        <p><a href=LIST>"Back to the demo mailbox"</a></p>
        <Suspense fallback=|| view! { <Loading label="Loading the message…" /> }>
            {move || Suspend::new(async move {
                match mail.await {
                    Ok(m) => view! { <Message mail=m /> }.into_any(),
                    Err(ApiError::NotFound | ApiError::Invalid { .. }) => view! {
                        <h1>"Message not found"</h1>
                        <p>"There is no such message in the demo mailbox."</p>
                    }.into_any(),
                    Err(e) => unavailable(&e),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Message(mail: DemoMail) -> impl IntoView {
    view! {
        <h1>{mail.subject}</h1>
        <dl class="facts">
            <dt>"From"</dt><dd>{mail.from}</dd>
            <dt>"To"</dt><dd>{mail.to}</dd>
            <dt>"Date"</dt><dd>{local_time(mail.date)}</dd>
        </dl>
        <pre class="mail-text" tabindex="0" aria-label="Message text">{mail.text}</pre>
    }
}
