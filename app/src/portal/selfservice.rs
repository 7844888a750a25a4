//! The self-service wizard: *Unlock my account* and *Reset my password*, on the web, on
//! a phone (outcome in a dialog) and on the desktop kiosk (outcome on a summary page).
//! It holds only the flow id; the server decides every step.

use leptos::html;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;

use latchkey_types::{
    Answer, CaptchaChallenge, Channel, FailReason, FlowAction, FlowView, Prompt, StepView, Summary,
};

use crate::api::selfservice::{flow_answer, flow_identify, flow_password, flow_start};
use crate::components::{field_error, local_time, Notice, NoticeKind, SubmitButton, TextField};
use crate::error::ApiError;

/// The flow in progress and the last answer from the server.
#[derive(Clone, Copy)]
struct Flow {
    action: FlowAction,
    channel: Channel,
    id: RwSignal<Option<String>>,
    view: RwSignal<Option<FlowView>>,
    /// The last call's error (a refused field, a rate limit, an ended flow…).
    error: RwSignal<Option<ApiError>>,
    busy: RwSignal<bool>,
}

impl Flow {
    fn new(action: FlowAction, channel: Channel) -> Self {
        Self {
            action,
            channel,
            id: RwSignal::new(None),
            view: RwSignal::new(None),
            error: RwSignal::new(None),
            busy: RwSignal::new(false),
        }
    }

    /// Starts (or starts again) from the beginning.
    fn start(self) {
        self.id.set(None);
        self.view.set(None);
        self.error.set(None);
        self.busy.set(true);
        spawn_local(async move {
            match flow_start(self.action, self.channel).await {
                Ok(started) => {
                    self.id.set(Some(started.flow_id));
                    self.view.set(Some(started.view));
                }
                Err(e) => self.error.set(Some(e)),
            }
            self.busy.set(false);
        });
    }

    /// Sends one step with the flow id and shows what comes back.
    fn send<F, Fut>(self, call: F)
    where
        F: FnOnce(String) -> Fut + 'static,
        Fut: std::future::Future<Output = Result<FlowView, ApiError>> + 'static,
    {
        let Some(id) = self.id.get_untracked() else {
            return;
        };
        if self.busy.get_untracked() {
            return;
        }
        self.busy.set(true);
        self.error.set(None);
        spawn_local(async move {
            match call(id).await {
                Ok(view) => self.view.set(Some(view)),
                Err(e) => self.error.set(Some(e)),
            }
            self.busy.set(false);
        });
    }

    fn identify(self, username: String) {
        self.send(move |id| flow_identify(id, username));
    }

    fn answer(self, step: usize, answer: Answer) {
        self.send(move |id| flow_answer(id, step, answer));
    }

    fn password(self, password: String, confirm: String) {
        self.send(move |id| flow_password(id, password, confirm));
    }

    fn field_error(self, field: &'static str) -> Signal<Option<String>> {
        Signal::derive(move || field_error(self.error.get().map(Err::<(), _>), field))
    }
}

/// Provided by the desktop kiosk: puts the kiosk back to its start.
#[derive(Clone, Copy)]
pub struct KioskReset(pub Callback<()>);

/// The whole wizard for `action` on `channel`.
#[component]
pub fn SelfService(action: FlowAction, channel: Channel) -> impl IntoView {
    let flow = Flow::new(action, channel);
    flow.start();
    let title = match action {
        FlowAction::Unlock => "Unlock my account",
        FlowAction::ResetPassword => "Reset my password",
    };
    view! {
        <h1>{title}</h1>
        <Progress flow />
        {move || flow.error.get().filter(|e| e.field().is_none()).map(|e| view! { <CallError flow error=e /> })}
        {move || match flow.view.get() {
            None if flow.busy.get() => view! { <p class="loading" role="status"><span class="spinner" aria-hidden="true"></span>"Starting…"</p> }.into_any(),
            None => ().into_any(),
            Some(v) => step_view(flow, v),
        }}
    }
}

fn step_view(flow: Flow, v: FlowView) -> AnyView {
    match v.step {
        StepView::Identify => view! { <IdentifyStep flow /> }.into_any(),
        StepView::Authenticate {
            index,
            prompt,
            attempts_left,
            retry,
        } => match prompt {
            Prompt::Captcha { challenge } => {
                view! { <CaptchaStep flow index challenge /> }.into_any()
            }
            Prompt::SecurityQuestions { questions } => {
                view! { <QuestionsStep flow index questions attempts_left retry /> }.into_any()
            }
            Prompt::EmailCode { valid_minutes } => {
                view! { <CodeStep flow index attempts_left retry email_valid_minutes=Some(valid_minutes) /> }.into_any()
            }
            Prompt::Totp => {
                view! { <CodeStep flow index attempts_left retry email_valid_minutes=None /> }.into_any()
            }
        },
        StepView::ChoosePassword { min_chars } => {
            view! { <PasswordStep flow min_chars /> }.into_any()
        }
        StepView::Done { summary } => {
            view! { <Outcome flow kind=OutcomeKind::Done(summary) /> }.into_any()
        }
        StepView::Failed { failure } => {
            view! { <Outcome flow kind=OutcomeKind::Failed(failure) /> }.into_any()
        }
    }
}

/// "Step 2 of 4": the username, each factor, and for a reset the new password.
#[component]
fn Progress(flow: Flow) -> impl IntoView {
    move || {
        flow.view.get().and_then(|v| {
            let extra = usize::from(v.action == FlowAction::ResetPassword);
            let total = 1 + v.total_steps + extra;
            let current = match v.step {
                StepView::Identify => 1,
                StepView::Authenticate { index, .. } => 2 + index,
                StepView::ChoosePassword { .. } => total,
                StepView::Done { .. } | StepView::Failed { .. } => return None,
            };
            Some(view! { <p class="progress-text">"Step " {current} " of " {total}</p> })
        })
    }
}

/// A heading that takes focus when its step appears, so screen readers announce it.
#[component]
fn StepHeading(
    #[prop(into)] text: String,
    #[prop(optional)] id: Option<&'static str>,
) -> impl IntoView {
    let heading = NodeRef::<html::H2>::new();
    Effect::new(move |_| {
        if let Some(h) = heading.get() {
            let _ = h.focus();
        }
    });
    view! { <h2 id=id tabindex="-1" node_ref=heading>{text}</h2> }
}

#[component]
fn IdentifyStep(flow: Flow) -> impl IntoView {
    let username = RwSignal::new(String::new());
    view! {
        <form on:submit=move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            flow.identify(username.get_untracked());
        } novalidate>
            <StepHeading text="Who are you?" />
            <TextField id="username" label="Username" value=username error=flow.field_error("username")
                autocomplete="username" autofocus=true
                hint="The name you sign in with, e.g. alice or EXAMPLE\\alice." />
            <SubmitButton busy=flow.busy label="Continue" busy_label="Checking…" />
        </form>
    }
}

#[component]
fn CaptchaStep(flow: Flow, index: usize, challenge: CaptchaChallenge) -> impl IntoView {
    let percent = RwSignal::new(0u32);
    let failed = RwSignal::new(false);
    spawn_local(async move {
        let solution = crate::captcha::solve(&challenge, |share| {
            percent.set((share * 100.0).round() as u32);
        })
        .await;
        match solution {
            Some(solution) => flow.answer(index, Answer::Captcha { solution }),
            None => failed.set(true),
        }
    });
    view! {
        <StepHeading text="Checking that you are a person" />
        <p>"Your device is solving a small puzzle. There is nothing to click; it takes a few seconds."</p>
        <label for="captcha-progress">"Progress"</label>
        <progress id="captcha-progress" max="100" value=move || percent.get()></progress>
        <p class="hint" aria-live="polite">{move || format!("{}% done", percent.get())}</p>
        {move || failed.get().then(|| view! {
            <Notice kind=NoticeKind::Error>
                <p>"The check could not be completed."</p>
                <button type="button" on:click=move |_| flow.start()>"Start again"</button>
            </Notice>
        })}
    }
}

/// "That was not right. 2 attempts left."
#[component]
fn RetryNotice(retry: bool, attempts_left: u32) -> impl IntoView {
    retry.then(|| {
        let left = if attempts_left == 1 {
            "1 attempt left".to_owned()
        } else {
            format!("{attempts_left} attempts left")
        };
        view! {
            <Notice kind=NoticeKind::Error>
                <p>"That did not match what we have on record. Check and try again (" {left} ")."</p>
            </Notice>
        }
    })
}

#[component]
fn QuestionsStep(
    flow: Flow,
    index: usize,
    questions: Vec<String>,
    attempts_left: u32,
    retry: bool,
) -> impl IntoView {
    let answers: Vec<RwSignal<String>> = questions
        .iter()
        .map(|_| RwSignal::new(String::new()))
        .collect();
    let fields = questions
        .iter()
        .zip(&answers)
        .enumerate()
        .map(|(i, (q, value))| {
            let id = format!("answer-{i}");
            let value = *value;
            view! {
                <div class="field">
                    <label for=id.clone()>{q.clone()}</label>
                    <input id=id type="text" autocomplete="off" autocapitalize="none" spellcheck="false"
                        autofocus=i == 0
                        prop:value=move || value.get()
                        on:input=move |ev| value.set(event_target_value(&ev)) />
                </div>
            }
        })
        .collect_view();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let answers = answers.iter().map(|a| a.get_untracked()).collect();
        flow.answer(index, Answer::SecurityQuestions { answers });
    };
    view! {
        <form on:submit=submit novalidate>
            <StepHeading text="Answer your security questions" />
            <RetryNotice retry attempts_left />
            <p class="hint">"Capital letters and extra spaces do not matter."</p>
            {fields}
            {move || flow.field_error("answers").get().map(|e| view! { <p class="field-error">{e}</p> })}
            <SubmitButton busy=flow.busy label="Continue" busy_label="Checking your answers…" />
        </form>
    }
}

/// A one-time code: from email (valid for `email_valid_minutes`) or an authenticator app.
#[component]
fn CodeStep(
    flow: Flow,
    index: usize,
    attempts_left: u32,
    retry: bool,
    email_valid_minutes: Option<u32>,
) -> impl IntoView {
    let code = RwSignal::new(String::new());
    let by_email = email_valid_minutes.is_some();
    let heading = if by_email {
        "Enter the code we emailed you"
    } else {
        "Enter the code from your authenticator app"
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let code = code.get_untracked();
        let answer = if by_email {
            Answer::EmailCode { code }
        } else {
            Answer::Totp { code }
        };
        flow.answer(index, answer);
    };
    view! {
        <form on:submit=submit novalidate>
            <StepHeading text=heading />
            <RetryNotice retry attempts_left />
            {email_valid_minutes.map(|minutes| view! {
                <p>"If the username is right, we have sent a 6-digit code to the email address registered for this account. It is valid for "
                    {minutes} " minutes. Check your spam folder if it has not arrived."</p>
            })}
            <TextField id="code" label="Code" value=code error=flow.field_error("code")
                autocomplete="one-time-code" autofocus=true inputmode="numeric" />
            <SubmitButton busy=flow.busy label="Continue" busy_label="Checking the code…" />
        </form>
    }
}

#[component]
fn PasswordStep(flow: Flow, min_chars: usize) -> impl IntoView {
    let password = RwSignal::new(String::new());
    let confirm = RwSignal::new(String::new());
    let hint = format!(
        "At least {min_chars} characters. A few unrelated words make a strong password you can remember."
    );
    view! {
        <form on:submit=move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            flow.password(password.get_untracked(), confirm.get_untracked());
        } novalidate>
            <StepHeading text="Choose a new password" />
            <TextField id="password" label="New password" value=password error=flow.field_error("password")
                kind="password" autocomplete="new-password" autofocus=true hint=hint />
            <TextField id="confirm" label="New password again" value=confirm error=flow.field_error("confirm")
                kind="password" autocomplete="new-password" />
            <SubmitButton busy=flow.busy label="Change my password" busy_label="Changing your password…" />
        </form>
    }
}

#[derive(Clone)]
enum OutcomeKind {
    Done(Summary),
    Failed(FailReason),
}

/// The sentences that say what happened and what to do next.
fn outcome_text(kind: &OutcomeKind) -> (&'static str, Vec<String>) {
    match kind {
        OutcomeKind::Done(s) => {
            let mut lines = Vec::new();
            let heading = match s.action {
                FlowAction::Unlock if s.was_locked => {
                    lines.push("Your account has been unlocked. You can sign in again now.".to_owned());
                    "Your account is unlocked"
                }
                FlowAction::Unlock => {
                    lines.push("Your account was not locked, so nothing needed unlocking.".to_owned());
                    lines.push(
                        "If you still cannot sign in, your password may be wrong: reset it instead.".to_owned(),
                    );
                    "Nothing needed unlocking"
                }
                FlowAction::ResetPassword => {
                    lines.push("Your password has been changed. Sign in with your new password.".to_owned());
                    if s.was_locked {
                        lines.push("Your account has also been unlocked.".to_owned());
                    }
                    if s.sessions_ended > 0 {
                        lines.push(format!(
                            "For your security you have been signed out everywhere ({} {}).",
                            s.sessions_ended,
                            if s.sessions_ended == 1 { "session" } else { "sessions" }
                        ));
                    }
                    "Your password is changed"
                }
            };
            if s.email_queued {
                lines.push("We have emailed you a confirmation.".to_owned());
            }
            (heading, lines)
        }
        OutcomeKind::Failed(FailReason::NotVerified) => (
            "We could not confirm it is you",
            vec![
                "The answers given did not match what we have on record. For your protection we do not say which."
                    .to_owned(),
                "You can start again, or contact your help desk.".to_owned(),
            ],
        ),
        OutcomeKind::Failed(FailReason::CodeExpired) => (
            "The code has expired",
            vec![
                "The code we emailed is no longer valid.".to_owned(),
                "Start again and we will send you a new one.".to_owned(),
            ],
        ),
        OutcomeKind::Failed(FailReason::Blocked { until }) => (
            "Self-service is paused for this account",
            vec![
                format!(
                    "After too many failed attempts, self-service is paused until {}.",
                    local_time(*until)
                ),
                "Try again then, or contact your help desk.".to_owned(),
            ],
        ),
    }
}

/// The outcome: a summary on the page (web, desktop) or a dialog (mobile).
#[component]
fn Outcome(flow: Flow, kind: OutcomeKind) -> impl IntoView {
    let (heading, lines) = outcome_text(&kind);
    let success = matches!(kind, OutcomeKind::Done(_));
    // Nothing was locked, so the password is the likely problem: offer the reset.
    let suggest_reset = matches!(
        &kind,
        OutcomeKind::Done(s) if s.action == FlowAction::Unlock && !s.was_locked
    );
    // On the kiosk nothing leads away: "Finish" puts it back to its start.
    let kiosk = use_context::<KioskReset>();
    let body = move || {
        let lines = lines.clone();
        let actions = match kiosk {
            Some(KioskReset(reset)) => view! {
                <button type="button" on:click=move |_| reset.run(())>"Finish"</button>
            }
            .into_any(),
            None => view! {
                {if success {
                    view! { <A href="/sign-in" attr:class="button">"Sign in"</A> }.into_any()
                } else {
                    view! { <button type="button" on:click=move |_| flow.start()>"Start again"</button> }.into_any()
                }}
                " "
                {suggest_reset.then(|| view! {
                    <A href="/reset" attr:class="button button-secondary">"Reset my password"</A>
                    " "
                })}
                <A href="/" attr:class="button button-secondary">"Done"</A>
            }
            .into_any(),
        };
        view! {
            {lines.into_iter().map(|l| view! { <p>{l}</p> }).collect_view()}
            <p class="outcome-actions">{actions}</p>
        }
    };
    if flow.channel == Channel::Mobile {
        let dialog = NodeRef::<html::Dialog>::new();
        Effect::new(move |_| {
            if let Some(d) = dialog.get() {
                if !d.open() {
                    let _ = d.show_modal();
                }
            }
        });
        view! {
            <dialog node_ref=dialog class="outcome-dialog" aria-labelledby="outcome-heading">
                <h2 id="outcome-heading">{heading}</h2>
                {body()}
            </dialog>
        }
        .into_any()
    } else {
        let kind = if success {
            NoticeKind::Success
        } else {
            NoticeKind::Error
        };
        view! {
            <section class="summary" aria-labelledby="outcome-heading">
                <StepHeading text=heading id="outcome-heading" />
                <Notice kind>{body()}</Notice>
            </section>
        }
        .into_any()
    }
}

/// An error that is not about a field: rate limits, an ended flow, the server.
#[component]
fn CallError(flow: Flow, error: ApiError) -> impl IntoView {
    let restart = matches!(error, ApiError::FlowEnded { .. } | ApiError::OutOfOrder);
    view! {
        <Notice kind=NoticeKind::Error>
            <p>{error.to_string()}</p>
            {restart.then(|| view! {
                <button type="button" on:click=move |_| flow.start()>"Start again"</button>
            })}
        </Notice>
    }
}
