//! Setting up the factors self-service asks for: security questions and an
//! authenticator app. Only for a signed-in person.

use latchkey_types::QuestionChoice;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::enrolment::{
    authenticator_begin, authenticator_confirm, enrol_security_questions, security_questions,
    AuthenticatorSetup, QuestionAnswer, QuestionSetup,
};
use crate::components::{field_error, Loading, Notice, NoticeKind, SubmitButton, TextField};
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

#[component]
pub fn QuestionsForm(#[prop(into)] on_saved: Callback<()>) -> impl IntoView {
    let setup = LocalResource::new(security_questions);
    view! {
        <Suspense fallback=|| view! { <Loading label="Loading the questions…" /> }>
            {move || Suspend::new(async move {
                match setup.await {
                    Ok(s) => view! { <QuestionsEditor setup=s on_saved /> }.into_any(),
                    Err(e) => view! { <Notice kind=NoticeKind::Error><p>{e.to_string()}</p></Notice> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn QuestionsEditor(setup: QuestionSetup, on_saved: Callback<()>) -> impl IntoView {
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
            let a_error = Signal::derive(move || field_error(result.get(), &a_field));
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
            <SubmitButton busy label="Save my security questions" busy_label="Saving…" />
        </form>
    }
}

#[component]
pub fn AuthenticatorForm(#[prop(into)] on_saved: Callback<()>) -> impl IntoView {
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
            }
        });
    };
    move || {
        match setup.get() {
        None => view! { <Loading label="Preparing your authenticator…" /> }.into_any(),
        Some(Err(e)) => view! { <Notice kind=NoticeKind::Error><p>{e.to_string()}</p></Notice> }.into_any(),
        Some(Ok(s)) => view! {
            <form on:submit=submit novalidate class="enrol">
                <ol>
                    <li>"Open your authenticator app and add an account by scanning this QR code."</li>
                </ol>
                <div class="qr" role="img" aria-label="QR code for your authenticator app" inner_html=s.qr_svg.clone()></div>
                <p>"Cannot scan? Enter this key in the app instead: " <code class="secret">{s.secret.clone()}</code></p>
                <ol start="2">
                    <li>"Type the 6-digit code the app now shows."</li>
                </ol>
                {move || match result.get() {
                    Some(Err(e)) if e.field().is_none() => Some(view! { <Notice kind=NoticeKind::Error><p>{e.to_string()}</p></Notice> }),
                    _ => None,
                }}
                <TextField id="totp-code" label="Code from the app" value=code error=code_error
                    autocomplete="one-time-code" inputmode="numeric" />
                <SubmitButton busy label="Confirm" busy_label="Checking…" />
            </form>
        }.into_any(),
    }
    }
}
