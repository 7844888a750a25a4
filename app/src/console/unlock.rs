//! The *Unlock account* dialog (seeds 003 and 004), from the users grid's key icon or the
//! user page's button. Two pages: **Authenticate**, where the operator verifies the caller
//! with one of the factors the user enrolled (an emailed code read back, their security
//! questions, their authenticator's code), and **Unlock**, which shows the user's store,
//! last password change and lock, and every locked linked account of the same person,
//! each with a checkbox. In restricted mode the dialog opens on Authenticate and the
//! server refuses the unlock without a passed check; in unrestricted mode it opens on
//! Unlock and verifying is a choice. The server decides; the dialog only follows.

use latchkey_types::console::{
    CallerCheckReply, CallerCheckStarted, HelpdeskMode, StoreUnlock, StoreUnlockOutcome,
    UnlockPlan, UnlockRefusal,
};
use latchkey_types::{Answer, FactorKind, Prompt};
use leptos::prelude::*;

use super::session::Session;
use super::widgets::{checked, CheckboxField, DirectoryErrors, FailedSignIns, Modal};
use crate::api::console::helpdesk::{
    caller_check_answer, caller_check_start, fetch_unlock_plan, users_unlock,
};
use crate::api::console::users::UnlockResult;
use crate::components::{focus_id, local_time, Notice, NoticeKind, SubmitButton};
use crate::error::{unlock_refusal_sentence, ApiError};

/// The account an operator is about to unlock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnlockTarget {
    pub id: String,
    pub username: String,
    pub display_name: String,
}

/// What an unlock came to, for the page to say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unlocked {
    pub target: UnlockTarget,
    pub result: UnlockResult,
    pub advised: bool,
}

impl Unlocked {
    /// One plain sentence for the page's status message.
    pub fn sentence(&self) -> String {
        let who = &self.target.username;
        match (self.result.was_locked, self.result.emailed, self.advised) {
            (true, true, true) => format!(
                "{who} is unlocked. They were emailed, with the advice to reset their password \
                 before signing in."
            ),
            (true, true, false) => format!("{who} is unlocked and was emailed about it."),
            (true, false, _) => format!("{who} is unlocked."),
            (false, _, _) => format!("{who} was not locked (any more): nothing needed unlocking."),
        }
    }
}

/// Which page of the dialog shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Page {
    Authenticate,
    Unlock,
}

fn factor_button(f: FactorKind) -> &'static str {
    match f {
        FactorKind::EmailCode => "Email a code to their registered address",
        FactorKind::SecurityQuestions => "Ask their security questions",
        FactorKind::Totp => "Ask for their authenticator's code",
        FactorKind::Captcha => "Captcha",
    }
}

fn factor_done(f: FactorKind) -> &'static str {
    match f {
        FactorKind::EmailCode => "an emailed code",
        FactorKind::SecurityQuestions => "their security questions",
        FactorKind::Totp => "their authenticator",
        FactorKind::Captcha => "a captcha",
    }
}

/// The dialog. Open while `target` is set; `done` hears of each unlock.
#[component]
pub fn UnlockDialog(
    target: RwSignal<Option<UnlockTarget>>,
    #[prop(into)] done: Callback<Unlocked>,
) -> impl IntoView {
    let session = Session::get();
    let open = RwSignal::new(false);
    let advise = RwSignal::new(false);
    let plan = RwSignal::new(None::<Result<UnlockPlan, ApiError>>);
    let page = RwSignal::new(Page::Unlock);
    // Linked accounts left unchecked (all are checked by default).
    let unchecked = RwSignal::new(Vec::<String>::new());
    let results = RwSignal::new(None::<(Unlocked, Vec<StoreUnlock>)>);
    let body = NodeRef::<leptos::html::Div>::new();

    let load = Action::new_local(move |id: &String| {
        let id = id.clone();
        async move { checked(session, fetch_unlock_plan(id)).await }
    });
    // Two signals kept in step; each is set only when it differs, or they would wake
    // each other for ever.
    Effect::new(move |_| {
        let current = target.get();
        if let Some(t) = &current {
            advise.set(false);
            plan.set(None);
            unchecked.set(Vec::new());
            results.set(None);
            load.dispatch(t.id.clone());
        }
        let is_set = current.is_some();
        if open.get_untracked() != is_set {
            open.set(is_set);
        }
    });
    Effect::new(move |_| {
        if let Some(loaded) = load.value().get() {
            let first = match &loaded {
                Ok(p)
                    if p.verified.is_none()
                        && p.mode == HelpdeskMode::Restricted
                        && !p.factors.is_empty() =>
                {
                    Page::Authenticate
                }
                _ => Page::Unlock,
            };
            page.set(first);
            plan.set(Some(loaded));
        }
    });
    Effect::new(move |_| {
        if !open.get() && target.with_untracked(Option::is_some) {
            if let Some((unlocked, _)) = results.get_untracked() {
                done.run(unlocked);
            }
            target.set(None);
        }
    });
    // Each page's first control takes the focus when the page appears.
    Effect::new(move |_| {
        page.track();
        plan.track();
        results.track();
        let Some(el) = body.get() else { return };
        set_timeout(
            move || {
                use wasm_bindgen::JsCast;
                if let Some(first) = el
                    .query_selector("input, select, textarea, button")
                    .ok()
                    .flatten()
                    .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
                {
                    let _ = first.focus();
                }
            },
            std::time::Duration::ZERO,
        );
    });

    let title = move || {
        let name = target.get().map(|t| t.username).unwrap_or_default();
        format!("Unlock {name}?")
    };
    let history_href = move || {
        let name = target.get().map(|t| t.username).unwrap_or_default();
        format!(
            "/console/history?subject={}",
            js_sys::encode_uri_component(&name)
        )
    };
    let close = move |_| open.set(false);

    let content = move || {
        let Some(t) = target.get() else {
            return ().into_any();
        };
        if let Some((_, list)) = results.get() {
            return view! { <UnlockResults list close=Callback::new(move |()| open.set(false)) /> }
                .into_any();
        }
        match plan.get() {
            None => view! {
                <p role="status" class="loading"><span class="spinner" aria-hidden="true"></span>
                    "Loading what this user is enrolled with…"</p>
                <div class="dialog-buttons">
                    <button type="button" class="secondary" on:click=close>"Cancel"</button>
                </div>
            }
            .into_any(),
            Some(Err(e)) => view! {
                <Notice kind=NoticeKind::Error><p>{e.to_string()}</p></Notice>
                <div class="dialog-buttons">
                    <button type="button" class="secondary" on:click=close>"Close"</button>
                </div>
            }
            .into_any(),
            Some(Ok(p)) => match page.get() {
                Page::Authenticate => view! {
                    <AuthenticatePage plan=p.clone()
                        verified=Callback::new(move |()| {
                            if let Some(id) = target.get_untracked().map(|t| t.id) {
                                load.dispatch(id);
                            }
                        })
                        skip=Callback::new(move |()| page.set(Page::Unlock))
                        close=Callback::new(move |()| open.set(false)) />
                }
                .into_any(),
                Page::Unlock => view! {
                    <UnlockPage plan=p.clone() target=t advise unchecked
                        authenticate=Callback::new(move |()| page.set(Page::Authenticate))
                        finished=Callback::new(move |(unlocked, list): (Unlocked, Vec<StoreUnlock>)| {
                            let all_fine = list.len() == 1
                                && !matches!(list[0].outcome, StoreUnlockOutcome::Failed { .. });
                            if all_fine {
                                open.set(false);
                                done.run(unlocked);
                            } else {
                                results.set(Some((unlocked, list)));
                            }
                        })
                        close=Callback::new(move |()| open.set(false)) />
                }
                .into_any(),
            },
        }
    };
    view! {
        <Modal open labelled_by="unlock-title">
            <h2 id="unlock-title">{title}</h2>
            <div node_ref=body class="dialog-body">{content}</div>
            <p class="dialog-footer"><a href=history_href>"History"</a>" of this user"</p>
        </Modal>
    }
}

/// The Authenticate page: the factors the user enrolled, one check at a time.
#[component]
fn AuthenticatePage(
    plan: UnlockPlan,
    verified: Callback<()>,
    skip: Callback<()>,
    close: Callback<()>,
) -> impl IntoView {
    let session = Session::get();
    let id = plan.user.id.clone();
    let started = RwSignal::new(None::<CallerCheckStarted>);
    let note = RwSignal::new(None::<(NoticeKind, String)>);
    let start = Action::new_local(move |(id, f): &(String, FactorKind)| {
        let (id, f) = (id.clone(), *f);
        async move { checked(session, caller_check_start(id, f)).await }
    });
    Effect::new(move |_| match start.value().get() {
        Some(Ok(s)) => {
            note.set(None);
            started.set(Some(s));
        }
        Some(Err(e)) => note.set(Some((NoticeKind::Error, e.to_string()))),
        None => {}
    });
    let starting = start.pending();
    let blocked = plan.verification_blocked_until;
    let unrestricted = plan.mode == HelpdeskMode::Unrestricted;
    let display = plan.user.display_name.clone();
    let factors = plan.factors.clone();

    let choose = move || {
        let id = id.clone();
        let buttons = factors
            .iter()
            .map(|f| {
                let (id, f) = (id.clone(), *f);
                view! {
                    <li><button type="button" class="secondary" disabled=move || starting.get()
                        on:click=move |_| { start.dispatch((id.clone(), f)); }>
                        {factor_button(f)}
                    </button></li>
                }
            })
            .collect_view();
        view! { <ul class="factor-choices" aria-label="Verify the caller with">{buttons}</ul> }
    };
    view! {
        <h3>"Authenticate"</h3>
        <p>"Make sure the caller is " {display} ": verify them with one of the factors they \
            enrolled. Wrong answers count against their self-service attempts."</p>
        {blocked.map(|until| view! {
            <Notice kind=NoticeKind::Error><p>{format!(
                "Too many wrong answers: verifying this user is blocked until {}.",
                local_time(until)
            )}</p></Notice>
        })}
        {move || note.get().map(|(kind, text)| view! {
            <Notice kind><p>{text}</p></Notice>
        })}
        {move || match started.get() {
            None => choose().into_any(),
            Some(s) => view! {
                <CheckForm started=s passed=verified
                    again=Callback::new(move |message: String| {
                        started.set(None);
                        note.set(Some((NoticeKind::Error, message)));
                    }) />
            }
            .into_any(),
        }}
        <div class="dialog-buttons">
            {unrestricted.then(|| view! {
                <button type="button" class="secondary" on:click=move |_| skip.run(())>
                    "Skip to Unlock"
                </button>
            })}
            <button type="button" class="secondary" on:click=move |_| close.run(())>"Cancel"</button>
        </div>
    }
}

/// What the caller answers for one started check.
#[component]
fn CheckForm(
    started: CallerCheckStarted,
    passed: Callback<()>,
    again: Callback<String>,
) -> impl IntoView {
    let session = Session::get();
    let check = started.check.clone();
    let (intro, questions): (String, Vec<String>) = match &started.prompt {
        Prompt::EmailCode { valid_minutes } => (
            format!(
                "A code went to their registered address; it works for {valid_minutes} \
                 minutes. Ask the caller to read it out to you."
            ),
            vec!["Code the caller reads out".to_owned()],
        ),
        Prompt::SecurityQuestions { questions } => (
            "Ask each question and type what the caller answers.".to_owned(),
            questions.clone(),
        ),
        Prompt::Totp => (
            "Ask the caller for the code their authenticator app shows now.".to_owned(),
            vec!["Code from their authenticator".to_owned()],
        ),
        Prompt::Captcha { .. } => (String::new(), Vec::new()),
    };
    let kind = started.prompt.clone();
    let values: Vec<RwSignal<String>> = questions
        .iter()
        .map(|_| RwSignal::new(String::new()))
        .collect();
    let left = RwSignal::new(started.attempts_left);
    let wrong = RwSignal::new(false);
    // The operator types next: where the caller's first answer goes.
    focus_id("caller-answer-0");
    let answer = Action::new_local(move |(check, a): &(String, Answer)| {
        let (check, a) = (check.clone(), a.clone());
        async move { checked(session, caller_check_answer(check, a)).await }
    });
    let pending = answer.pending();
    let value = answer.value();
    Effect::new(move |_| match value.get() {
        Some(Ok(CallerCheckReply::Passed { .. })) => passed.run(()),
        Some(Ok(CallerCheckReply::Wrong { attempts_left })) => {
            left.set(attempts_left);
            wrong.set(true);
        }
        Some(Ok(CallerCheckReply::Failed { blocked_until })) => again.run(match blocked_until {
            Some(until) => format!(
                "Not verified. Too many wrong answers: this user's self-service, and verifying \
                 them, is blocked until {}.",
                local_time(until)
            ),
            None => "Not verified: this check has ended. Choose a factor to start another, \
                     or end the call."
                .to_owned(),
        }),
        _ => {}
    });
    let submit = {
        let values = values.clone();
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            let typed: Vec<String> = values.iter().map(|v| v.get_untracked()).collect();
            let first = typed.first().cloned().unwrap_or_default();
            let a = match &kind {
                Prompt::EmailCode { .. } => Answer::EmailCode { code: first },
                Prompt::Totp => Answer::Totp { code: first },
                _ => Answer::SecurityQuestions { answers: typed },
            };
            wrong.set(false);
            answer.dispatch((check.clone(), a));
        }
    };
    let fields = questions
        .into_iter()
        .zip(values)
        .enumerate()
        .map(|(i, (label, value))| {
            let id = format!("caller-answer-{i}");
            view! {
                <div class="field">
                    <label for=id.clone()>{label}</label>
                    <input id=id type="text" autocomplete="off" spellcheck="false"
                        prop:value=move || value.get()
                        on:input=move |ev| value.set(event_target_value(&ev)) />
                </div>
            }
        })
        .collect_view();
    let error = move || {
        value.get().and_then(Result::err).map(|e| {
            view! {
                <Notice kind=NoticeKind::Error><p>{e.to_string()}</p></Notice>
            }
        })
    };
    view! {
        <form class="dialog-form" on:submit=submit novalidate>
            <p>{intro}</p>
            {fields}
            {move || wrong.get().then(|| view! {
                <Notice kind=NoticeKind::Error><p>{format!(
                    "That is not right. {} more {} on this check.",
                    left.get(),
                    if left.get() == 1 { "try" } else { "tries" }
                )}</p></Notice>
            })}
            {error}
            <SubmitButton busy=pending label="Check" busy_label="Checking…" />
        </form>
    }
}

/// The Unlock page: the user, their lock, and the locked linked accounts to unlock too.
#[component]
fn UnlockPage(
    plan: UnlockPlan,
    target: UnlockTarget,
    advise: RwSignal<bool>,
    unchecked: RwSignal<Vec<String>>,
    authenticate: Callback<()>,
    finished: Callback<(Unlocked, Vec<StoreUnlock>)>,
    close: Callback<()>,
) -> impl IntoView {
    let session = Session::get();
    let locked_linked: Vec<_> = plan.linked.iter().filter(|l| l.locked).cloned().collect();
    let main_id = plan.user.id.clone();
    let action = Action::new_local(move |(ids, advise): &(Vec<String>, bool)| {
        let (ids, advise) = (ids.clone(), *advise);
        async move { checked(session, users_unlock(ids, advise)).await }
    });
    let pending = action.pending();
    let value = action.value();
    {
        let target = target.clone();
        let main_id = main_id.clone();
        Effect::new(move |_| {
            if let Some(Ok(list)) = value.get() {
                let main = list.iter().find(|r| r.id == main_id);
                let result = match main.map(|r| &r.outcome) {
                    Some(StoreUnlockOutcome::Unlocked { emailed }) => UnlockResult {
                        was_locked: true,
                        emailed: *emailed,
                    },
                    _ => UnlockResult {
                        was_locked: false,
                        emailed: false,
                    },
                };
                let unlocked = Unlocked {
                    target: target.clone(),
                    result,
                    advised: advise.get_untracked(),
                };
                finished.run((unlocked, list));
            }
        });
    }
    let linked_ids: Vec<String> = locked_linked.iter().map(|l| l.id.clone()).collect();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let skip = unchecked.get_untracked();
        let mut ids = vec![main_id.clone()];
        ids.extend(linked_ids.iter().filter(|id| !skip.contains(id)).cloned());
        action.dispatch((ids, advise.get_untracked()));
    };
    let refused = plan.refused;
    let can_verify = !plan.factors.is_empty() && plan.verified.is_none();
    let lock_status = if plan.user.locked {
        match plan.user.locked_date {
            Some(at) => format!("Locked since {}", local_time(at)),
            None => "Locked".to_owned(),
        }
    } else {
        "Not locked".to_owned()
    };
    let linked_rows = locked_linked
        .into_iter()
        .map(|l| {
            let id = l.id.clone();
            let field = format!("linked-{}", l.id);
            let is_checked = {
                let id = id.clone();
                move || !unchecked.with(|u| u.contains(&id))
            };
            view! {
                <div class="field checkbox">
                    <input type="checkbox" id=field.clone() prop:checked=is_checked
                        on:change=move |ev| {
                            let on = event_target_checked(&ev);
                            unchecked.update(|u| {
                                u.retain(|x| *x != id);
                                if !on { u.push(id.clone()); }
                            });
                        } />
                    <label for=field>{format!("Also unlock {} (locked)", l.username)}</label>
                </div>
            }
        })
        .collect_view();
    view! {
        <form on:submit=submit class="dialog-form">
            <h3 class="visually-hidden">"Unlock"</h3>
            <DirectoryErrors errors=plan.directory_errors.clone() />
            <p>{target.display_name.clone()} " can sign in again straight away. Their failed attempts are \
                cleared, and you are recorded as having unlocked the account."</p>
            <dl class="facts compact">
                <div><dt>"User name"</dt><dd>{plan.user.username.clone()}</dd></div>
                <div><dt>"Identity store"</dt><dd>{plan.store.clone()}</dd></div>
                <div><dt>"Last password change"</dt><dd>{plan.last_password_change.map_or_else(|| "—".to_owned(), local_time)}</dd></div>
                <div><dt>"Lock status"</dt><dd>{lock_status}</dd></div>
                {plan.verified.map(|v| view! {
                    <div><dt>"Caller verified"</dt><dd>{format!("with {} at {}", factor_done(v.factor), local_time(v.at))}</dd></div>
                })}
            </dl>
            <FailedSignIns list=plan.failed_sign_ins.clone() />
            {refused.map(|r| view! {
                <Notice kind=NoticeKind::Error><p>{unlock_refusal_sentence(r)}</p></Notice>
            })}
            {linked_rows}
            <CheckboxField id="advise-reset" label="Advise the user to reset their password"
                checked=advise
                hint="The email telling them the account is unlocked also advises them to \
                      choose a new password with Forgot password before signing in, with \
                      a link to it." />
            {move || value.get().and_then(Result::err).map(|e| view! {
                <Notice kind=NoticeKind::Error><p>{e.to_string()}</p></Notice>
            })}
            <div class="dialog-buttons">
                {refused.is_none().then(|| view! {
                    <SubmitButton busy=pending label="Unlock" busy_label="Unlocking…" />
                })}
                <button type="button" class="secondary" on:click=move |_| close.run(())>
                    "Cancel"
                </button>
                {(can_verify && refused != Some(UnlockRefusal::Unenrolled)).then(|| view! {
                    <button type="button" class="secondary" on:click=move |_| authenticate.run(())>
                        "Verify the caller"
                    </button>
                })}
            </div>
        </form>
    }
}

/// What each account came to, when more than one was unlocked or one failed.
#[component]
fn UnlockResults(list: Vec<StoreUnlock>, close: Callback<()>) -> impl IntoView {
    let rows = list
        .into_iter()
        .map(|r| {
            let (class, text) = match r.outcome {
                StoreUnlockOutcome::Unlocked { emailed: true } => {
                    ("outcome", "Unlocked; the owner was emailed.".to_owned())
                }
                StoreUnlockOutcome::Unlocked { emailed: false } => {
                    ("outcome", "Unlocked.".to_owned())
                }
                StoreUnlockOutcome::NotLocked => {
                    ("outcome", "Was not locked: nothing to do.".to_owned())
                }
                StoreUnlockOutcome::Failed { message } => ("outcome failure", message),
            };
            view! {
                <tr>
                    <th scope="row">{r.username}</th>
                    <td>{r.store}</td>
                    <td><span class=class>{text}</span></td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div role="status">
            <table class="unlock-results">
                <caption>"Unlock results, per identity store"</caption>
                <thead><tr><th scope="col">"Account"</th><th scope="col">"Store"</th><th scope="col">"Result"</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
        <div class="dialog-buttons">
            <button type="button" on:click=move |_| close.run(())>"Close"</button>
        </div>
    }
}
