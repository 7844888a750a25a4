//! Setting up the factors self-service asks for: security questions, an authenticator
//! app, and a recovery email address for the codes. Only for a signed-in person.

use latchkey_types::QuestionChoice;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::enrolment::{
    authenticator_begin, authenticator_confirm, enrol_security_questions, recovery_email_begin,
    recovery_email_confirm, security_questions, AuthenticatorSetup, QuestionAnswer, QuestionSetup,
};
use crate::components::{
    field_error, focus_first_problem, Loading, Notice, NoticeKind, SubmitButton, TextField,
};
use crate::error::ApiError;

/// Value of the "write my own question" option.
const CUSTOM: &str = "custom";

/// One question's inputs.
#[derive(Clone, Copy)]
struct Row {
    choice: RwSignal<String>,
    custom: RwSignal<String>,
    answer: RwSignal<String>,
}

/// "Cancel" beside a form's submit button: closes the form, changes nothing. None where
/// the form must be completed (a required action at sign-in).
#[component]
fn CancelButton(#[prop(into)] on_cancel: Option<Callback<()>>) -> impl IntoView {
    on_cancel.map(|on_cancel| {
        view! {
            <button type="button" class="secondary cancel" on:click=move |_| on_cancel.run(())>"Cancel"</button>
        }
    })
}

#[component]
pub fn QuestionsForm(
    #[prop(into)] on_saved: Callback<()>,
    #[prop(optional, into)] on_cancel: Option<Callback<()>>,
) -> impl IntoView {
    let setup = LocalResource::new(security_questions);
    view! {
        <Suspense fallback=|| view! { <Loading label="Loading the questions…" /> }>
            {move || Suspend::new(async move {
                match setup.await {
                    Ok(s) => view! { <QuestionsEditor setup=s on_saved on_cancel /> }.into_any(),
                    Err(e) => view! { <Notice kind=NoticeKind::Error><p>{e.to_string()}</p></Notice> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn QuestionsEditor(
    setup: QuestionSetup,
    on_saved: Callback<()>,
    on_cancel: Option<Callback<()>>,
) -> impl IntoView {
    let rows: Vec<Row> = (0..setup.to_enrol)
        .map(|i| Row {
            choice: RwSignal::new(
                setup
                    .catalogue
                    .get(i as usize)
                    .map(|q| q.id.to_string())
                    .unwrap_or_else(|| CUSTOM.to_owned()),
            ),
            custom: RwSignal::new(String::new()),
            answer: RwSignal::new(String::new()),
        })
        .collect();
    let result = RwSignal::new(None::<Result<(), ApiError>>);
    // Answers too short, all flagged at once before anything is sent (the server
    // checks again).
    let too_short = RwSignal::new(vec![false; rows.len()]);
    let min_chars = setup.min_answer_chars as usize;
    let short_message = format!("Answers have at least {min_chars} characters.");
    let busy = RwSignal::new(false);
    let catalogue = setup.catalogue.clone();

    let fields = rows
        .iter()
        .enumerate()
        .map(|(i, row)| {
            let row = *row;
            let q_field = format!("questions[{i}].question");
            let a_field = format!("questions[{i}].answer");
            let q_error = Signal::derive({
                let f = q_field.clone();
                move || field_error(result.get(), &f)
            });
            let short_message = short_message.clone();
            let a_error = Signal::derive(move || {
                if too_short.get().get(i).copied().unwrap_or(false) {
                    Some(short_message.clone())
                } else {
                    field_error(result.get(), &a_field)
                }
            });
            let options = catalogue
                .iter()
                .map(|q| view! { <option value=q.id.to_string()>{q.text.clone()}</option> })
                .collect_view();
            let select_id = format!("question-{i}");
            let custom_id = format!("custom-{i}");
            let answer_id = format!("answer-{i}");
            view! {
                <fieldset class="question">
                    <legend>{format!("Question {}", i + 1)}</legend>
                    <div class="field">
                        <label for=select_id.clone()>"Question"</label>
                        <select id=select_id
                            prop:value=move || row.choice.get()
                            on:change=move |ev| row.choice.set(event_target_value(&ev))>
                            {options}
                            <option value=CUSTOM>"Write my own question"</option>
                        </select>
                    </div>
                    {move || (row.choice.get() == CUSTOM).then(|| view! {
                        <TextField id=custom_id.clone() label="Your own question"
                            value=row.custom error=q_error hint="Something only you know, 10 to 200 characters." />
                    })}
                    {move || (row.choice.get() != CUSTOM).then(|| q_error.get().map(|e| view! { <p class="field-error">{e}</p> }))}
                    <TextField id=answer_id label="Answer" value=row.answer error=a_error />
                </fieldset>
            }
        })
        .collect_view();

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let short: Vec<bool> = rows
            .iter()
            .map(|r| {
                let answer = r.answer.get_untracked();
                let words: Vec<&str> = answer.split_whitespace().collect();
                words.join(" ").chars().count() < min_chars
            })
            .collect();
        let any_short = short.iter().any(|s| *s);
        too_short.set(short);
        if any_short {
            result.set(None);
            focus_first_problem();
            return;
        }
        let questions: Vec<QuestionAnswer> = rows
            .iter()
            .map(|r| QuestionAnswer {
                question: match r.choice.get_untracked().parse::<i64>() {
                    Ok(id) => QuestionChoice::Catalogue { id },
                    Err(_) => QuestionChoice::Custom {
                        text: r.custom.get_untracked(),
                    },
                },
                answer: r.answer.get_untracked(),
            })
            .collect();
        busy.set(true);
        spawn_local(async move {
            let r = enrol_security_questions(questions).await;
            let ok = r.is_ok();
            result.set(Some(r));
            busy.set(false);
            if ok {
                on_saved.run(());
            } else {
                focus_first_problem();
            }
        });
    };

    view! {
        <form on:submit=submit novalidate class="enrol">
            <p>{format!(
                "Choose {} questions only you can answer. When you are locked out we ask {} of them. Answers need at least {} characters; capital letters and extra spaces do not matter.",
                setup.to_enrol, setup.to_ask, setup.min_answer_chars
            )}</p>
            {move || match result.get() {
                Some(Err(e)) if e.field().is_none() || e.field() == Some("questions") => {
                    Some(view! { <Notice kind=NoticeKind::Error><p>{e.to_string()}</p></Notice> })
                }
                _ => None,
            }}
            {fields}
            <p class="form-actions">
                <SubmitButton busy label="Save my security questions" busy_label="Saving…" />
                <CancelButton on_cancel />
            </p>
        </form>
    }
}

/// The key as people copy it by eye: groups of four.
fn grouped(secret: &str) -> String {
    secret
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// A phone (coarse pointer): the authenticator app is on this very device.
fn on_a_phone() -> bool {
    window()
        .match_media("(pointer: coarse)")
        .ok()
        .flatten()
        .is_some_and(|m| m.matches())
}

#[component]
pub fn AuthenticatorForm(
    #[prop(into)] on_saved: Callback<()>,
    #[prop(optional, into)] on_cancel: Option<Callback<()>>,
) -> impl IntoView {
    let setup = RwSignal::new(None::<Result<AuthenticatorSetup, ApiError>>);
    spawn_local(async move {
        setup.set(Some(authenticator_begin().await));
    });
    let code = RwSignal::new(String::new());
    let result = RwSignal::new(None::<Result<(), ApiError>>);
    let busy = RwSignal::new(false);
    let code_error = Signal::derive(move || field_error(result.get(), "code"));
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        let c = code.get_untracked();
        spawn_local(async move {
            let r = authenticator_confirm(c).await;
            let ok = r.is_ok();
            result.set(Some(r));
            busy.set(false);
            if ok {
                on_saved.run(());
            } else {
                focus_first_problem();
            }
        });
    };
    let copied = RwSignal::new(false);
    let phone = on_a_phone();
    move || {
        match setup.get() {
        None => view! { <Loading label="Preparing your authenticator…" /> }.into_any(),
        Some(Err(e)) => view! { <Notice kind=NoticeKind::Error><p>{e.to_string()}</p></Notice> }.into_any(),
        Some(Ok(s)) => view! {
            <form on:submit=submit novalidate class="enrol">
                {phone.then(|| view! {
                    <p><a class="button" href=s.otpauth_url.clone()>"Add to authenticator app"</a></p>
                    <p class="hint">"Opens the authenticator app on this phone. Or use the key below."</p>
                })}
                <ol>
                    <li>{if phone {
                        "Or, on another device, scan this QR code with the authenticator app."
                    } else {
                        "Open your authenticator app and add an account by scanning this QR code."
                    }}</li>
                </ol>
                <div class="qr" role="img" aria-label="QR code for your authenticator app" inner_html=s.qr_svg.clone()></div>
                <p>"Cannot scan? Enter this key in the app instead: " <code class="secret">{grouped(&s.secret)}</code></p>
                <p>
                    <button type="button" class="secondary" on:click={
                        let secret = s.secret.clone();
                        move |_| {
                            let _ = window().navigator().clipboard().write_text(&secret);
                            copied.set(true);
                        }
                    }>"Copy the key"</button>
                    <span role="status">{move || copied.get().then_some(" Key copied.")}</span>
                </p>
                <ol start="2">
                    <li>"Type the 6-digit code the app now shows."</li>
                </ol>
                {move || match result.get() {
                    Some(Err(e)) if e.field().is_none() => Some(view! { <Notice kind=NoticeKind::Error><p>{e.to_string()}</p></Notice> }),
                    _ => None,
                }}
                <TextField id="totp-code" label="Code from the app" value=code error=code_error
                    autocomplete="one-time-code" inputmode="numeric" />
                <p class="form-actions">
                    <SubmitButton busy label="Confirm" busy_label="Checking…" />
                    <CancelButton on_cancel />
                </p>
            </form>
        }.into_any(),
    }
    }
}

/// A recovery address: typed, then confirmed with the code sent to it.
#[component]
pub fn RecoveryEmailForm(
    #[prop(into)] on_saved: Callback<()>,
    #[prop(into)] on_cancel: Callback<()>,
) -> impl IntoView {
    let address = RwSignal::new(String::new());
    let code = RwSignal::new(String::new());
    // The address the code went to, once sent.
    let sent_to = RwSignal::new(None::<String>);
    let result = RwSignal::new(None::<Result<(), ApiError>>);
    let busy = RwSignal::new(false);
    let address_error = Signal::derive(move || field_error(result.get(), "address"));
    let code_error = Signal::derive(move || field_error(result.get(), "code"));
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        let waiting = sent_to.get_untracked();
        let typed_address = address.get_untracked();
        let typed_code = code.get_untracked();
        spawn_local(async move {
            let r = match &waiting {
                None => recovery_email_begin(typed_address.clone()).await,
                Some(_) => recovery_email_confirm(typed_code).await,
            };
            let ok = r.is_ok();
            result.set(Some(r));
            busy.set(false);
            match (ok, waiting) {
                (true, None) => sent_to.set(Some(typed_address)),
                (true, Some(_)) => on_saved.run(()),
                (false, _) => focus_first_problem(),
            }
        });
    };
    view! {
        <form on:submit=submit novalidate class="enrol">
            {move || match result.get() {
                Some(Err(e)) if e.field().is_none() => Some(view! { <Notice kind=NoticeKind::Error><p>{e.to_string()}</p></Notice> }),
                _ => None,
            }}
            {move || match sent_to.get() {
                None => view! {
                    <TextField id="recovery-address" label="Recovery email address" value=address error=address_error
                        kind="email" autocomplete="email" inputmode="email"
                        hint="An address you can read when you cannot sign in, for example a personal one." />
                    <p class="form-actions">
                        <SubmitButton busy label="Send a code to this address" busy_label="Sending…" />
                        <CancelButton on_cancel />
                    </p>
                }.into_any(),
                Some(to) => view! {
                    <Notice kind=NoticeKind::Info><p>"We have sent a 6-digit code to " {to} "."</p></Notice>
                    <TextField id="recovery-code" label="Code from the email" value=code error=code_error
                        autocomplete="one-time-code" inputmode="numeric" />
                    <p class="form-actions">
                        <SubmitButton busy label="Confirm the address" busy_label="Checking…" />
                        <CancelButton on_cancel />
                    </p>
                }.into_any(),
            }}
        </form>
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn keys_are_grouped_in_fours() {
        assert_eq!(super::grouped("JBSWY3DPEHPK3PXP"), "JBSW Y3DP EHPK 3PXP");
        assert_eq!(super::grouped("ABCDEF"), "ABCD EF");
    }
}
