//! The self-service wizard: *Unlock my account* and *Reset my password*, on the web, on
//! a phone (outcome in a dialog, and on the page behind it) and on the desktop kiosk
//! (outcome on a summary page). It holds only the flow id — in `sessionStorage` too, so a
//! reload or a discarded tab resumes at the same step — and the name as typed; the
//! server decides every step.

use leptos::html;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;

use latchkey_types::{
    Answer, CaptchaChallenge, Channel, FactorKind, FailReason, FlowAction, FlowView, Prompt,
    StepView, Summary,
};

use crate::api::selfservice::{
    flow_answer, flow_identify, flow_password, flow_resend, flow_start, flow_status, flow_switch,
};
use crate::components::{
    absolute_and_relative, countdown, field_error, focus_first_problem, focus_id, HelpDeskLine,
    Notice, NoticeKind, RateLimited, SubmitButton, TextField,
};
use crate::error::ApiError;

/// The flow in progress and the last answer from the server.
#[derive(Clone, Copy)]
struct Flow {
    action: FlowAction,
    channel: Channel,
    id: RwSignal<Option<String>>,
    view: RwSignal<Option<FlowView>>,
    /// The username as the person typed it: shown on every step so a typo can be seen.
    username: RwSignal<String>,
    /// The last call's error (a refused field, a rate limit, an ended flow…).
    error: RwSignal<Option<ApiError>>,
    busy: RwSignal<bool>,
    /// Said once to screen readers ("Check complete", "A new code was sent"), in a live
    /// region that outlives the steps.
    announce: RwSignal<String>,
}

/// `sessionStorage`: survives a reload and a discarded tab, not the closing of the tab.
fn session_storage() -> Option<web_sys::Storage> {
    window().session_storage().ok().flatten()
}

/// Leaves an unlock flow opened elsewhere (a lock mail's *This was me* link) for this
/// tab's unlock page to resume, with the name it is for.
pub(crate) fn remember_flow(channel: Channel, flow_id: &str, username: &str) {
    let flow = Flow::new(FlowAction::Unlock, channel);
    if let Some(storage) = session_storage() {
        let _ = storage.set_item(&flow.storage_key(), &format!("{flow_id}\t{username}"));
    }
}

impl Flow {
    fn new(action: FlowAction, channel: Channel) -> Self {
        Self {
            action,
            channel,
            id: RwSignal::new(None),
            view: RwSignal::new(None),
            username: RwSignal::new(String::new()),
            error: RwSignal::new(None),
            busy: RwSignal::new(false),
            announce: RwSignal::new(String::new()),
        }
    }

    fn storage_key(self) -> String {
        format!(
            "latchkey.flow.{}.{}",
            self.channel.as_str(),
            self.action.as_str()
        )
    }

    /// Remembers the flow id and typed name for this tab.
    fn remember(self) {
        if let (Some(storage), Some(id)) = (session_storage(), self.id.get_untracked()) {
            let value = format!("{id}\t{}", self.username.get_untracked());
            let _ = storage.set_item(&self.storage_key(), &value);
        }
    }

    fn forget(self) {
        if let Some(storage) = session_storage() {
            let _ = storage.remove_item(&self.storage_key());
        }
    }

    /// Picks up this tab's flow where it was (the server still decides where that is,
    /// and an expired flow starts again); otherwise starts a new one.
    fn resume_or_start(self) {
        let stored = session_storage()
            .and_then(|s| s.get_item(&self.storage_key()).ok().flatten())
            .and_then(|v| {
                v.split_once('\t')
                    .map(|(id, name)| (id.to_owned(), name.to_owned()))
            });
        let Some((id, name)) = stored else {
            self.start();
            return;
        };
        self.busy.set(true);
        spawn_local(async move {
            match flow_status(id.clone()).await {
                Ok(view) => {
                    self.id.set(Some(id));
                    self.username.set(name);
                    self.view.set(Some(view));
                    self.busy.set(false);
                }
                Err(_) => {
                    self.busy.set(false);
                    self.start();
                }
            }
        });
    }

    /// Starts (or starts again) from the beginning; the typed name is kept, so "Change"
    /// shows it for editing.
    fn start(self) {
        self.forget();
        self.id.set(None);
        self.view.set(None);
        self.error.set(None);
        self.busy.set(true);
        spawn_local(async move {
            match flow_start(self.action, self.channel).await {
                Ok(started) => {
                    self.id.set(Some(started.flow_id));
                    self.view.set(Some(started.view));
                    self.remember();
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
                Err(e) => {
                    self.error.set(Some(e));
                    focus_first_problem();
                }
            }
            self.busy.set(false);
        });
    }

    fn identify(self, username: String) {
        self.username.set(username.clone());
        self.remember();
        self.send(move |id| flow_identify(id, username));
    }

    fn answer(self, step: usize, answer: Answer) {
        self.send(move |id| flow_answer(id, step, answer));
    }

    fn resend(self, step: usize) {
        self.announce.set(String::new());
        self.send(move |id| async move {
            let view = flow_resend(id, step).await?;
            self.announce
                .set("A new code is on its way. The previous one no longer works.".to_owned());
            Ok(view)
        });
    }

    fn switch(self, step: usize, factor: FactorKind) {
        self.send(move |id| flow_switch(id, step, factor));
    }

    fn password(self, password: String, confirm: String) {
        self.send(move |id| flow_password(id, password, confirm));
    }

    fn field_error(self, field: &'static str) -> Signal<Option<String>> {
        Signal::derive(move || field_error(self.error.get().map(Err::<(), _>), field))
    }
}

/// Provided by the desktop kiosk: puts the kiosk back to its start; `ended` is set once
/// the outcome shows (only *Finish* is offered then).
#[derive(Clone, Copy)]
pub struct KioskReset {
    pub reset: Callback<()>,
    pub ended: RwSignal<bool>,
}

/// The whole wizard for `action` on `channel`.
#[component]
pub fn SelfService(action: FlowAction, channel: Channel) -> impl IntoView {
    let flow = Flow::new(action, channel);
    flow.resume_or_start();
    // Leaving the page (Done, Finish, the kiosk resetting) forgets the attempt; a reload
    // or a discarded tab does not run this, and resumes.
    on_cleanup(move || flow.forget());
    let title = match action {
        FlowAction::Unlock => "Unlock my account",
        FlowAction::ResetPassword => "Reset my password",
    };
    // A memo: clearing an error before each call must not rebuild the step (a captcha
    // would start solving again).
    let rate_limited = Memo::new(move |_| match flow.error.get() {
        Some(ApiError::RateLimited { retry_after_secs }) => Some(retry_after_secs),
        _ => None,
    });
    let after_wait = Callback::new(move |()| {
        flow.error.set(None);
        if flow.view.get_untracked().is_none() {
            flow.start();
        }
    });
    view! {
        <h1>{title}</h1>
        <p role="status" class="visually-hidden">{move || flow.announce.get()}</p>
        {move || match rate_limited.get() {
            Some(secs) => view! { <RateLimited retry_after_secs=secs on_done=after_wait /> }.into_any(),
            None => view! {
                <Progress flow />
                {move || flow.error.get().filter(|e| e.field().is_none()).map(|e| view! { <CallError flow error=e /> })}
                {move || match flow.view.get() {
                    None if flow.busy.get() => view! { <p class="loading" role="status"><span class="spinner" aria-hidden="true"></span>"Starting…"</p> }.into_any(),
                    None => ().into_any(),
                    Some(v) => step_view(flow, v),
                }}
            }.into_any(),
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
            pause_minutes,
            alternatives,
            resend_in_secs,
        } => {
            let left = AttemptsLeft {
                retry,
                attempts_left,
                pause_minutes,
                factor: prompt.kind(),
            };
            let step = match prompt {
                Prompt::Captcha { challenge } => {
                    view! { <CaptchaStep flow index challenge /> }.into_any()
                }
                Prompt::SecurityQuestions { questions } => {
                    view! { <QuestionsStep flow index questions left /> }.into_any()
                }
                Prompt::EmailCode { valid_minutes } => view! {
                    <CodeStep flow index left email_valid_minutes=Some(valid_minutes) resend_in_secs />
                }
                .into_any(),
                Prompt::Totp => view! {
                    <CodeStep flow index left email_valid_minutes=None resend_in_secs=None />
                }
                .into_any(),
            };
            view! {
                <AnsweringFor flow />
                {step}
                <Alternatives flow index alternatives />
            }
            .into_any()
        }
        StepView::ChoosePassword { min_chars } => {
            view! { <AnsweringFor flow /> <PasswordStep flow min_chars /> }.into_any()
        }
        StepView::Done { summary } => {
            view! { <Outcome flow kind=OutcomeKind::Done(summary) /> }.into_any()
        }
        StepView::Failed { failure } => {
            view! { <AnsweringFor flow /> <Outcome flow kind=OutcomeKind::Failed(failure) /> }
                .into_any()
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

/// "Answering for: alcie · Not you? Change": the name exactly as typed, which says
/// nothing about whether it exists, and a way back to fix it.
#[component]
fn AnsweringFor(flow: Flow) -> impl IntoView {
    move || {
        let name = flow.username.get();
        (!name.is_empty()).then(|| {
            view! {
                <p class="answering-for">
                    "Answering for: " <strong>{name}</strong> " · Not you? "
                    <button type="button" class="link-button" on:click=move |_| flow.start()>"Change"</button>
                </p>
            }
        })
    }
}

/// A heading that takes focus when its step appears, so screen readers announce it —
/// unless the step comes back after a wrong answer (`retry`): then focus goes to what
/// says so, as after any refused submit (see `focus_first_problem`).
#[component]
fn StepHeading(
    #[prop(into)] text: String,
    #[prop(optional)] id: Option<&'static str>,
    #[prop(optional)] retry: bool,
) -> impl IntoView {
    let heading = NodeRef::<html::H2>::new();
    Effect::new(move |_| {
        if retry {
            focus_first_problem();
        } else if let Some(h) = heading.get() {
            let _ = h.focus();
        }
    });
    view! { <h2 id=id tabindex="-1" node_ref=heading>{text}</h2> }
}

#[component]
fn IdentifyStep(flow: Flow) -> impl IntoView {
    // Typed before ("Change"): shown again for editing.
    let username = RwSignal::new(flow.username.get_untracked());
    // Straight into the field: the heading says nothing the label does not.
    focus_id("username");
    view! {
        <form on:submit=move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            flow.identify(username.get_untracked());
        } novalidate>
            <h2>"Who are you?"</h2>
            <TextField id="username" label="Username" value=username error=flow.field_error("username")
                autocomplete="username"
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
            Some(solution) => {
                // Once, when it is done — not the percentage as it climbs.
                flow.announce.set("Check complete".to_owned());
                flow.answer(index, Answer::Captcha { solution })
            }
            None => failed.set(true),
        }
    });
    view! {
        <StepHeading text="Checking that you are a person" />
        <p>"Your device is solving a small puzzle. There is nothing to click; it takes a few seconds."</p>
        <label for="captcha-progress">"Progress"</label>
        <progress id="captcha-progress" max="100" value=move || percent.get()></progress>
        <p class="hint" aria-hidden="true">{move || format!("{}% done", percent.get())}</p>
        {move || failed.get().then(|| view! {
            <Notice kind=NoticeKind::Error>
                <p>"The check could not be completed."</p>
                <button type="button" on:click=move |_| flow.start()>"Start again"</button>
            </Notice>
        })}
    }
}

/// What a step says about its tries: the last answer was wrong, how many remain (the
/// smaller of the step's and the name's budget), and what the last one risks.
#[derive(Clone, Copy)]
struct AttemptsLeft {
    retry: bool,
    attempts_left: u32,
    pause_minutes: Option<u32>,
    factor: FactorKind,
}

/// "If the username is right, the answers did not match. 2 attempts left." and, before
/// the last try, what happens if it is wrong too.
#[component]
fn RetryNotice(left: AttemptsLeft) -> impl IntoView {
    let AttemptsLeft {
        retry,
        attempts_left,
        pause_minutes,
        factor,
    } = left;
    let count = if attempts_left == 1 {
        "1 attempt left".to_owned()
    } else {
        format!("{attempts_left} attempts left")
    };
    let last = (attempts_left == 1).then(|| match pause_minutes {
        Some(m) => format!(
            "One more wrong answer pauses self-service for {m} minutes and locks your account."
        ),
        None => "One more wrong answer ends this attempt.".to_owned(),
    });
    if retry {
        let wrong = match factor {
            FactorKind::SecurityQuestions => "If the username is right, the answers did not match",
            FactorKind::EmailCode => "That code is wrong or has expired",
            FactorKind::Totp => "That code did not match. Codes change every 30 seconds",
            FactorKind::Captcha => "The check did not pass",
        };
        view! {
            <Notice kind=NoticeKind::Error>
                <p>{wrong} ". " {count} "."</p>
                {last.map(|l| view! { <p><strong>{l}</strong></p> })}
            </Notice>
        }
        .into_any()
    } else if last.is_some() || pause_minutes.is_some() {
        // A new attempt after earlier wrong answers: the name's budget is what limits it.
        view! {
            <Notice kind=NoticeKind::Info>
                <p>"After earlier wrong answers for this username: " {count} "."</p>
                {last.map(|l| view! { <p><strong>{l}</strong></p> })}
            </Notice>
        }
        .into_any()
    } else {
        ().into_any()
    }
}

#[component]
fn QuestionsStep(
    flow: Flow,
    index: usize,
    questions: Vec<String>,
    left: AttemptsLeft,
) -> impl IntoView {
    let answers: Vec<RwSignal<String>> = questions
        .iter()
        .map(|_| RwSignal::new(String::new()))
        .collect();
    let answers_error = flow.field_error("answers");
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
                        aria-invalid=move || (i == 0 && answers_error.get().is_some()).then_some("true")
                        aria-describedby=move || (i == 0 && answers_error.get().is_some()).then_some("answers-error")
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
            <StepHeading text="Answer your security questions" retry=left.retry />
            <RetryNotice left />
            <p class="hint">"Capital letters and extra spaces do not matter."</p>
            {fields}
            {move || answers_error.get().map(|e| view! { <p class="field-error" id="answers-error" role="alert">{e}</p> })}
            <SubmitButton busy=flow.busy label="Continue" busy_label="Checking your answers…" />
        </form>
    }
}

/// A one-time code: from email (valid for `email_valid_minutes`, with "Send a new code")
/// or an authenticator app.
#[component]
fn CodeStep(
    flow: Flow,
    index: usize,
    left: AttemptsLeft,
    email_valid_minutes: Option<u32>,
    resend_in_secs: Option<u32>,
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
            <StepHeading text=heading retry=left.retry />
            <RetryNotice left />
            {email_valid_minutes.map(|minutes| view! {
                <p>"If the username is right, we have sent a 6-digit code to the email address registered for this account, or to its recovery address if one was added. It is valid for "
                    {minutes} " minutes. Check your spam folder if it has not arrived."</p>
            })}
            <TextField id="code" label="Code" value=code error=flow.field_error("code")
                autocomplete="one-time-code" inputmode="numeric" />
            <SubmitButton busy=flow.busy label="Continue" busy_label="Checking the code…" />
        </form>
        {by_email.then(|| view! { <ResendCode flow index resend_in_secs /> })}
    }
}

/// "Send a new code", after a cooldown counted down on the button. None: no more codes
/// can be sent (each counts against the username's limit).
#[component]
fn ResendCode(flow: Flow, index: usize, resend_in_secs: Option<u32>) -> impl IntoView {
    let Some(secs) = resend_in_secs else {
        return view! {
            <p class="hint resend">"No more codes can be sent now. Enter the code you have, or contact your help desk."</p>
        }
        .into_any();
    };
    let wait = countdown(u64::from(secs));
    let error = flow.field_error("step");
    let resend = Callback::new(move |()| flow.resend(index));
    view! {
        <div class="resend">
            <button type="button" class="secondary" disabled=move || { wait.get() > 0 || flow.busy.get() }
                on:click=move |_| resend.run(())>
                {move || match wait.get() {
                    0 => "Send a new code".to_owned(),
                    w => format!("Send a new code (in {w} s)"),
                }}
            </button>
            {move || error.get().map(|e| view! { <p class="field-error" role="alert">{e}</p> })}
        </div>
    }
    .into_any()
}

/// "Use security questions instead", where the channel's flow allows another factor.
#[component]
fn Alternatives(flow: Flow, index: usize, alternatives: Vec<FactorKind>) -> impl IntoView {
    alternatives
        .into_iter()
        .map(|factor| {
            let label = match factor {
                FactorKind::SecurityQuestions => "Use security questions instead",
                FactorKind::EmailCode => "Get a code by email instead",
                FactorKind::Totp => "Use your authenticator app instead",
                FactorKind::Captcha => "Use a check instead",
            };
            view! {
                <p class="alternative">
                    <button type="button" class="secondary" disabled=move || flow.busy.get()
                        on:click=move |_| flow.switch(index, factor)>{label}</button>
                </p>
            }
        })
        .collect_view()
}

/// A rough strength estimate as the person types: length and variety. Only a hint — the
/// server checks the real thing (zxcvbn) when the form is sent.
fn strength(password: &str, min_chars: usize) -> &'static str {
    let chars = password.chars().count();
    if chars == 0 {
        return "";
    }
    if chars < min_chars {
        return "Too short";
    }
    let classes = [
        password.chars().any(|c| c.is_lowercase()),
        password.chars().any(|c| c.is_uppercase()),
        password.chars().any(|c| c.is_ascii_digit()),
        password.chars().any(|c| !c.is_alphanumeric()),
    ]
    .iter()
    .filter(|x| **x)
    .count();
    let words = password
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() >= 3)
        .count();
    let unique = {
        let mut seen: Vec<char> = password.chars().collect();
        seen.sort_unstable();
        seen.dedup();
        seen.len()
    };
    if unique * 3 < chars || (classes <= 1 && words <= 1) {
        "Weak: easy to guess"
    } else if words >= 3 || (chars >= min_chars + 4 && classes >= 2) {
        "Strong"
    } else {
        "Fair: a few more words would help"
    }
}

#[component]
fn PasswordStep(flow: Flow, min_chars: usize) -> impl IntoView {
    let password = RwSignal::new(String::new());
    let confirm = RwSignal::new(String::new());
    let hint = format!(
        "At least {min_chars} characters. A few unrelated words make a strong password you can remember."
    );
    let count = move || {
        let n = password.get().chars().count();
        format!("{n} of at least {min_chars} characters")
    };
    let verdict = move || strength(&password.get(), min_chars);
    view! {
        <form on:submit=move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            flow.password(password.get_untracked(), confirm.get_untracked());
        } novalidate>
            <StepHeading text="Choose a new password" />
            <TextField id="password" label="New password" value=password error=flow.field_error("password")
                kind="password" autocomplete="new-password" hint=hint />
            <p class="strength">
                <span class="hint">{count}</span>
                " "
                <span class="strength-verdict" aria-live="polite">{verdict}</span>
                <span class="hint">" (an estimate: the check when you send it decides)"</span>
            </p>
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

/// What was asked, in the words the failure uses.
fn mismatch(factor: Option<FactorKind>) -> &'static str {
    match factor {
        Some(FactorKind::SecurityQuestions) => {
            "If the username is right, the answers to the security questions did not match what we have on record."
        }
        Some(FactorKind::EmailCode) => {
            "If the username is right, the emailed code you entered was wrong or had expired."
        }
        Some(FactorKind::Totp) => {
            "If the username is right, the authenticator app's code did not match."
        }
        _ => "If the username is right, the answers given did not match what we have on record.",
    }
}

/// The sentences that say what happened and what to do next.
fn outcome_text(kind: &OutcomeKind, kiosk: bool) -> (&'static str, Vec<String>) {
    match kind {
        OutcomeKind::Done(s) if s.support_request.is_some() => (
            "A support request was opened for you",
            vec![
                "Your account has been unlocked by self-service as many times as your organisation allows in a short time, so it was not unlocked again.".to_owned(),
                format!(
                    "We opened support request {} for you and emailed you about it. A person from support will look at why your account keeps locking and unlock it.",
                    s.support_request.clone().unwrap_or_default()
                ),
            ],
        ),
        OutcomeKind::Done(s) => {
            let mut lines = Vec::new();
            let heading = match s.action {
                FlowAction::Unlock if s.was_locked => {
                    lines.push(if kiosk {
                        "Your account has been unlocked. Go back to the sign-in screen and sign in with your password.".to_owned()
                    } else {
                        "Your account has been unlocked. You can sign in again now.".to_owned()
                    });
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
                    lines.push(if kiosk {
                        "Your password has been changed. Go back to the sign-in screen and sign in with your new password.".to_owned()
                    } else {
                        "Your password has been changed. Sign in with your new password.".to_owned()
                    });
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
        OutcomeKind::Failed(FailReason::NotVerified { factor }) => (
            "We could not confirm it is you",
            vec![
                mismatch(*factor).to_owned(),
                "For your protection we do not say which. You can start again, or talk to the help desk."
                    .to_owned(),
            ],
        ),
        OutcomeKind::Failed(FailReason::CodeExpired) => (
            "The code has expired",
            vec![
                "The code we emailed is no longer valid.".to_owned(),
                "Start again and we will send you a new one.".to_owned(),
            ],
        ),
        OutcomeKind::Failed(FailReason::Blocked { until, factor }) => {
            let because = match factor {
                Some(FactorKind::SecurityQuestions) => {
                    "the security answers did not match too many times"
                }
                Some(FactorKind::EmailCode) => "wrong codes were entered too many times",
                Some(FactorKind::Totp) => "wrong authenticator codes were entered too many times",
                _ => "of too many wrong answers for this username",
            };
            (
                "Self-service is paused for this account",
                vec![
                    format!(
                        "If the username is right, the account is locked until {} — because {because}.",
                        absolute_and_relative(*until)
                    ),
                    "Self-service cannot unlock it before then. We have emailed the account's owner, in case someone else is guessing."
                        .to_owned(),
                    "To get back in sooner, talk to the help desk.".to_owned(),
                ],
            )
        }
    }
}

/// The outcome on the page (web, desktop, and on a phone behind its dialog, so closing
/// the dialog never leaves a blank page) and, on a phone, in a dialog.
#[component]
fn Outcome(flow: Flow, kind: OutcomeKind) -> impl IntoView {
    let kiosk = use_context::<KioskReset>();
    if let Some(k) = kiosk {
        k.ended.set(true);
    }
    let (heading, lines) = outcome_text(&kind, kiosk.is_some());
    // Over the self-unlock cap a support request was opened instead: nothing to sign in
    // with, and starting again would only open the same request.
    let capped = matches!(&kind, OutcomeKind::Done(s) if s.support_request.is_some());
    let success = matches!(kind, OutcomeKind::Done(_)) && !capped;
    let blocked = matches!(kind, OutcomeKind::Failed(FailReason::Blocked { .. })) || capped;
    // Nothing was locked, so the password is the likely problem: offer the reset.
    let suggest_reset = matches!(
        &kind,
        OutcomeKind::Done(s) if s.action == FlowAction::Unlock && !s.was_locked
    );
    let body = move || {
        let lines = lines.clone();
        let actions = match kiosk {
            // On the kiosk nothing leads away: "Finish" puts it back to its start.
            Some(k) => view! {
                <button type="button" on:click=move |_| k.reset.run(())>"Finish"</button>
            }
            .into_any(),
            None => view! {
                {if success {
                    // Sign-in is the other bundle: a whole page load, which runs no
                    // cleanup, so the finished attempt is forgotten here.
                    view! {
                        <a href="/sign-in" class="button" rel="external" on:click=move |_| { flow.forget(); super::links::mark_moved(); }>"Sign in"</a>
                    }.into_any()
                } else if blocked {
                    // Starting again would only be paused again.
                    ().into_any()
                } else {
                    view! { <button type="button" on:click=move |_| flow.start()>"Start again"</button> }.into_any()
                }}
                {suggest_reset.then(|| view! {
                    <A href="/reset" attr:class="button button-secondary">"Reset my password"</A>
                })}
                {(!success && !capped).then(|| view! {
                    <A href="/support" attr:class="button button-secondary">"Contact support"</A>
                })}
                <A href="/" attr:class="button button-secondary">"Done"</A>
            }
            .into_any(),
        };
        view! {
            {lines.into_iter().map(|l| view! { <p>{l}</p> }).collect_view()}
            {(!success && !blocked).then(|| view! { <HelpDeskLine links=kiosk.is_none() /> })}
            <p class="outcome-actions">{actions}</p>
        }
    };
    let notice = if success {
        NoticeKind::Success
    } else {
        NoticeKind::Error
    };
    let page_body = body.clone();
    let page = view! {
        <section class="summary" aria-labelledby="outcome-heading">
            <StepHeading text=heading id="outcome-heading" />
            <Notice kind=notice>{page_body()}</Notice>
            {blocked.then(|| view! { <HelpDeskLine prominent=true links=kiosk.is_none() /> })}
        </section>
    };
    if flow.channel != Channel::Mobile {
        return page.into_any();
    }
    let dialog = NodeRef::<html::Dialog>::new();
    Effect::new(move |_| {
        if let Some(d) = dialog.get() {
            if !d.open() {
                let _ = d.show_modal();
            }
        }
    });
    view! {
        {page}
        <dialog node_ref=dialog class="outcome-dialog" aria-labelledby="outcome-dialog-heading">
            <h2 id="outcome-dialog-heading">{heading}</h2>
            {body()}
            {blocked.then(|| view! { <HelpDeskLine /> })}
            <form method="dialog"><button type="submit" class="secondary">"Close"</button></form>
        </dialog>
    }
    .into_any()
}

/// An error that is not about a field: an ended flow, the server, the network.
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

/// Mobile when installed as an app or on a small touch screen; otherwise web.
pub(crate) fn detect_channel() -> Channel {
    let matches = |query: &str| {
        window()
            .match_media(query)
            .ok()
            .flatten()
            .is_some_and(|m| m.matches())
    };
    if matches("(display-mode: standalone)")
        || (matches("(pointer: coarse)") && matches("(max-width: 820px)"))
    {
        Channel::Mobile
    } else {
        Channel::Web
    }
}

#[cfg(test)]
mod tests {
    use super::strength;

    #[test]
    fn the_strength_hint_prefers_length_and_words() {
        assert_eq!(strength("", 12), "");
        assert_eq!(strength("grace2026", 12), "Too short");
        assert_eq!(strength("aaaaaaaaaaaaaaaa", 12), "Weak: easy to guess");
        assert_eq!(strength("harbour-violet-kestrel", 12), "Strong");
    }
}
