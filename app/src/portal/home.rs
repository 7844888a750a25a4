//! The start page: what can I do here?

use leptos::prelude::*;
use leptos_router::components::A;

use super::links::CrossLink;

use latchkey_types::Channel;

use crate::api::portal::PortalInfo;
use crate::components::{reveal_when, use_title, Loading, Notice, NoticeKind, PortalInfoResource};

#[component]
pub fn Home() -> impl IntoView {
    use_title("Start");
    let info = expect_context::<PortalInfoResource>();
    view! {
        <Suspense fallback=|| view! { <Loading label="Loading…" /> }>
            {move || Suspend::new(async move {
                match info.await {
                    Ok(info) => view! { <Welcome info /><RevealPage /> }.into_any(),
                    Err(e) => view! {
                        <RevealPage />
                        <h1>"Account help"</h1>
                        <Notice kind=NoticeKind::Error>
                            <p>{e.to_string()}</p>
                        </Notice>
                        <button type="button" class="button" on:click=move |_| info.refetch()>
                            "Try again"
                        </button>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Welcome(info: PortalInfo) -> impl IntoView {
    let product = info.product_name.clone();
    view! {
        <h1>"Locked out? Get back in."</h1>
        <p class="lead">
            {product}
            " lets you unlock your account or reset your password yourself, in a few minutes."
        </p>
        <ul class="actions" aria-label="What do you need to do?">
            <li>
                <A href="/unlock" attr:class="action">
                    <span class="action-title">"Unlock my account"</span>
                    <span class="action-help">
                        "You know your password but your account was locked after too many attempts."
                    </span>
                </A>
            </li>
            <li>
                <A href="/reset" attr:class="action">
                    <span class="action-title">"Reset my password"</span>
                    <span class="action-help">
                        "You have forgotten your password. Resetting it also unlocks your account."
                    </span>
                </A>
            </li>
            <li>
                <CrossLink href="/sign-in" class="action action-secondary">
                    <span class="action-title">"Sign in"</span>
                    <span class="action-help">
                        "Set up your security questions or authenticator app before you need them."
                    </span>
                </CrossLink>
            </li>
        </ul>
        <p class="aside">"Cannot get back in by yourself? "
            <A href="/support">"Contact support"</A>" and a person will help."</p>
        <ChannelList channels=info.channels />
    }
}

/// Replaces the static first paint of this page (index.html) once its content is built.
#[component]
fn RevealPage() -> impl IntoView {
    reveal_when(|| true);
}

/// How the start page names a channel and says how to use it. The server writes the same
/// list into the page's static first paint (index.html), so it matches what the app shows.
pub fn channel_words(channel: Channel) -> (&'static str, &'static str) {
    match channel {
        Channel::Web => ("In a browser", "at this address, from any computer."),
        Channel::Mobile => (
            "On your phone",
            "open this page and add it to your home screen to install the app.",
        ),
        Channel::Desktop => (
            "At your computer's sign-in screen",
            "choose “Locked your account?” under the password box.",
        ),
    }
}

#[component]
fn ChannelList(channels: Vec<Channel>) -> impl IntoView {
    let items = channels
        .into_iter()
        .map(|c| {
            let (name, how) = channel_words(c);
            let key: &'static str = c.into();
            view! { <li data-channel=key><strong>{name}</strong>" — "{how}</li> }
        })
        .collect_view();
    view! {
        <section class="channels" aria-labelledby="channels-heading">
            <h2 id="channels-heading">"Where you can use this"</h2>
            <ul>{items}</ul>
        </section>
    }
}
