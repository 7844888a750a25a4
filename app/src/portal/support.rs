//! *Contact support* (seed 003): for someone self-service cannot help. Full name, the
//! registered email address, a description and the captcha (solved by the browser, as
//! in the flows). The answer is the same whether or not the address is registered.

use latchkey_types::support::SupportReceived;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::support::{support_captcha, support_request};
use crate::components::{
    field_error, focus_first_problem, focus_id, use_title, Notice, NoticeKind, RateLimited,
    SubmitButton, TextField,
};
use crate::error::ApiError;

/// The longest description, as the server counts it.
const DESCRIPTION_MAX: usize = 2000;

/// What sending the form is doing now.
#[derive(Clone, PartialEq)]
enum SendState {
    Idle,
    /// Solving the captcha: the share done, in percent.
    Checking(u32),
    Posting,
    Sent(SupportReceived),
    Failed(ApiError),
}

#[component]
pub fn ContactSupport() -> impl IntoView {
    use_title("Contact support");
    let full_name = RwSignal::new(String::new());
    let email = RwSignal::new(String::new());
    let description = RwSignal::new(String::new());
    let state = RwSignal::new(SendState::Idle);

    let send = move || {
        state.set(SendState::Checking(0));
        spawn_local(async move {
            let challenge = match support_captcha().await {
                Ok(c) => c,
                Err(e) => {
                    state.set(SendState::Failed(e));
                    focus_first_problem();
                    return;
                }
            };
            let solution = crate::captcha::solve(&challenge, |share| {
                state.set(SendState::Checking((share * 100.0).round() as u32));
            })
            .await;
            let Some(solution) = solution else {
                state.set(SendState::Failed(ApiError::invalid(
                    "captcha",
                    "The check that you are a person could not be completed. Try again.",
                )));
                focus_first_problem();
                return;
            };
            state.set(SendState::Posting);
            let result = support_request(
                full_name.get_untracked(),
                email.get_untracked(),
                description.get_untracked(),
                solution,
            )
            .await;
            match result {
                Ok(received) => {
                    state.set(SendState::Sent(received));
                    focus_id("support-sent");
                }
                Err(e) => {
                    state.set(SendState::Failed(e));
                    focus_first_problem();
                }
            }
        });
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        send();
    };
    let busy =
        Signal::derive(move || matches!(state.get(), SendState::Checking(_) | SendState::Posting));
    let error_of = move |field: &'static str| {
        Signal::derive(move || match state.get() {
            SendState::Failed(e) => field_error(Some(Err::<(), _>(e)), field),
            _ => None,
        })
    };
    let description_error = error_of("description");
    let left = move || DESCRIPTION_MAX.saturating_sub(description.get().chars().count());

    // The page changes only when the request is sent, not with each step of sending.
    let received = Memo::new(move |_| match state.get() {
        SendState::Sent(r) => Some(r),
        _ => None,
    });
    let problem = Memo::new(move |_| match state.get() {
        SendState::Failed(e) => Some(e),
        _ => None,
    });

    view! {
        <h1>"Contact support"</h1>
        {move || match received.get() {
            Some(received) => view! {
                <section class="summary" aria-labelledby="support-sent">
                    <h2 id="support-sent" tabindex="-1">"We have your request"</h2>
                    <Notice kind=NoticeKind::Success>
                        <p>"A person from support will look at it and reply by email during working hours: "
                            {received.working_hours} "."</p>
                        <p>"If the address you gave is registered with an account, we have emailed a confirmation there with the request's reference."</p>
                    </Notice>
                    <p><a href="/" class="button button-secondary">"Done"</a></p>
                </section>
            }.into_any(),
            None => view! {
                <p class="lead">"If you cannot unlock your account or reset your password yourself, tell us what happened and a person will help."</p>
                <p>"Give the email address registered with your account: that is where we reply. We never ask for your password."</p>
                {move || match problem.get() {
                    Some(ApiError::RateLimited { retry_after_secs }) => view! {
                        <RateLimited retry_after_secs on_done=move |()| state.set(SendState::Idle) />
                    }.into_any(),
                    Some(e) if e.field().is_none() || e.field() == Some("captcha") => view! {
                        <Notice kind=NoticeKind::Error><p>{e.to_string()}</p></Notice>
                    }.into_any(),
                    _ => ().into_any(),
                }}
                <form on:submit=submit novalidate>
                    <TextField id="full_name" label="Full name" value=full_name
                        error=error_of("full_name") autocomplete="name" />
                    <TextField id="email" label="Registered email address" value=email
                        error=error_of("email") kind="email" autocomplete="email"
                        hint="The address your account has on record, e.g. name@example.org." />
                    <div class="field">
                        <label for="description">"What is the problem?"</label>
                        <span class="hint" id="description-hint">
                            "For example: which account, what you tried, what the page said. "
                            {move || format!("{} characters left.", left())}
                        </span>
                        <textarea id="description" name="description" rows="6"
                            maxlength=DESCRIPTION_MAX.to_string()
                            aria-describedby=move || if description_error.get().is_some() {
                                "description-hint description-error"
                            } else {
                                "description-hint"
                            }
                            aria-invalid=move || description_error.get().is_some().then_some("true")
                            prop:value=move || description.get()
                            on:input=move |ev| description.set(event_target_value(&ev))></textarea>
                        {move || description_error.get().map(|e| view! {
                            <span class="field-error" id="description-error" role="alert">{e}</span>
                        })}
                    </div>
                    {move || match state.get() {
                        SendState::Checking(percent) => Some(view! {
                            <p class="hint" role="status">
                                "Checking that you are a person (nothing to click): " {percent} "% done."
                            </p>
                        }),
                        _ => None,
                    }}
                    <SubmitButton busy label="Send request" busy_label="Sending…" />
                </form>
            }.into_any(),
        }}
    }
}
