//! Policy editors (manage policy): each organisation's lockout policy in the words of
//! seed 001's *Password Rule* screen, the self-service steps per channel, and the
//! security-question catalogue. The server validates each as the command line does and
//! audits it with the value it replaced; this page checks only that numbers are numbers.

use latchkey_types::console::{
    AupView, AuthFlowView, CatalogueEntry, HelpdeskMode, HelpdeskRoleMode, LockoutPolicyView,
};
use latchkey_types::{FactorKind, FlowScope};
use leptos::prelude::*;
use strum::IntoEnumIterator;

use super::labels;
use super::session::Session;
use super::widgets::{checked, ErrorNotice, SelectField};
use crate::api::console::helpdesk::{helpdesk_mode_set, helpdesk_policy};
use crate::api::console::policy::{
    aup, aup_set, auth_flow_set, auth_flows, catalogue, catalogue_add, catalogue_set_active,
    lockout_policies, lockout_policy_set,
};
use crate::api::console::support::{fetch_self_unlock_cap, self_unlock_cap_set};
use crate::components::{
    field_error, use_title, Loading, Notice, NoticeKind, SubmitButton, TextField,
};
use crate::error::ApiError;
use latchkey_types::support::SelfUnlockCap;

#[component]
pub fn PoliciesPage() -> impl IntoView {
    use_title("Policies");
    let session = Session::get();
    let policies = LocalResource::new(move || checked(session, lockout_policies()));
    view! {
        <h1>"Policies"</h1>
        <Suspense fallback=|| view! { <Loading label="Loading the policies…" /> }>
            {move || Suspend::new(async move {
                match policies.await {
                    Ok(list) => {
                        let orgs: Vec<(String, String)> = list
                            .iter()
                            .map(|p| (p.organisation.clone(), p.organisation_name.clone()))
                            .collect();
                        let forms = list
                            .into_iter()
                            .map(|p| view! { <LockoutForm policy=p /> })
                            .collect_view();
                        let helpdesk = orgs
                            .iter()
                            .map(|(slug, name)| view! { <HelpdeskForm slug=slug.clone() name=name.clone() /> })
                            .collect_view();
                        view! {
                            <h2>"Lockout"</h2>
                            {forms}
                            <h2>"Helpdesk"</h2>
                            <p>"How each role unlocks accounts. "
                                <strong>"Restricted"</strong>
                                ": the operator first verifies the caller with one of the factors \
                                 the user enrolled. "
                                <strong>"Unrestricted"</strong>
                                ": the operator may unlock without verifying; users enrolled with \
                                 nothing can be unlocked only by an unrestricted role with Unlock \
                                 any account (the administrators)."</p>
                            {helpdesk}
                            <Flows />
                            <Catalogue orgs=orgs.clone() />
                            <AupEditor orgs />
                        }.into_any()
                    }
                    Err(e) => view! { <ErrorNotice error=e /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// A whole number typed in `field`, or an error naming it.
fn number(field: &str, text: &str) -> Result<u32, ApiError> {
    text.trim()
        .parse()
        .map_err(|_| ApiError::invalid(field, "Enter a whole number, such as 5."))
}

#[component]
fn LockoutForm(policy: LockoutPolicyView) -> impl IntoView {
    let session = Session::get();
    let org = policy.organisation.clone();
    let prefix = format!("policy-{org}");
    let attempts = RwSignal::new(policy.failed_attempts.to_string());
    let window = RwSignal::new(policy.window_minutes.to_string());
    let temporary = RwSignal::new(policy.lock_minutes.is_some());
    let lock_minutes = RwSignal::new(policy.lock_minutes.unwrap_or(30).to_string());
    let action = Action::new_local(move |p: &Result<LockoutPolicyView, ApiError>| {
        let p = p.clone();
        async move { checked(session, lockout_policy_set(p?)).await }
    });
    let value = action.value();
    let pending = action.pending();
    let submit = {
        let policy = policy.clone();
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            let read = || -> Result<LockoutPolicyView, ApiError> {
                Ok(LockoutPolicyView {
                    organisation: policy.organisation.clone(),
                    organisation_name: policy.organisation_name.clone(),
                    failed_attempts: number("failed_attempts", &attempts.get_untracked())?,
                    window_minutes: number("window_minutes", &window.get_untracked())?,
                    lock_minutes: if temporary.get_untracked() {
                        Some(number("lock_minutes", &lock_minutes.get_untracked())?)
                    } else {
                        None
                    },
                })
            };
            action.dispatch(read());
        }
    };
    let error = move |f: &'static str| Signal::derive(move || field_error(value.get(), f));
    let heading = format!("{prefix}-title");
    let id = move |s: &str| format!("{prefix}-{s}");
    view! {
        <form class="panel" on:submit=submit novalidate aria-labelledby=heading.clone()>
            <h3 id=heading.clone()>{policy.organisation_name.clone()}</h3>
            {move || match value.get() {
                Some(Ok(())) => Some(view! {
                    <Notice kind=NoticeKind::Success><p>"Saved. It applies from the next failed attempt; \
                        accounts locked now stay locked."</p></Notice>
                }.into_any()),
                Some(Err(e)) if e.field().is_none() => Some(view! { <ErrorNotice error=e /> }.into_any()),
                _ => None,
            }}
            <TextField id=id("failed-attempts") label="Failed attempts before automatic lock"
                value=attempts error=error("failed_attempts") inputmode="numeric"
                hint="0 never locks; at most 100." />
            <TextField id=id("window") label="Counting window (minutes)" value=window
                error=error("window_minutes") inputmode="numeric"
                hint="Failed attempts older than this no longer count. 1 to 1440." />
            <fieldset>
                <legend>"A locked account stays locked"</legend>
                <div class="radio">
                    <input type="radio" id=id("until") name=id("duration")
                        prop:checked=move || !temporary.get()
                        on:change=move |_| temporary.set(false) />
                    <label for=id("until")>"Until it is unlocked (by the user or an operator)"</label>
                </div>
                <div class="radio">
                    <input type="radio" id=id("temporary") name=id("duration")
                        prop:checked=move || temporary.get()
                        on:change=move |_| temporary.set(true) />
                    <label for=id("temporary")>"For a while, then unlocks by itself"</label>
                </div>
                {move || temporary.get().then(|| view! {
                    <TextField id=id("lock-minutes") label="Lock length (minutes)" value=lock_minutes
                        error=error("lock_minutes") inputmode="numeric" hint="1 to 43200 (30 days)." />
                })}
            </fieldset>
            <SubmitButton busy=pending label="Save lockout policy" busy_label="Saving…" />
        </form>
    }
}

/// The self-service steps: every channel's flow, and an editor for one scope.
#[component]
fn Flows() -> impl IntoView {
    let session = Session::get();
    let flows = LocalResource::new(move || checked(session, auth_flows()));
    let editable = session.everywhere();
    view! {
        <h2>"Self-service steps"</h2>
        <p>"What people answer, in order, to unlock their account or reset their password. \
            A channel without steps of its own uses the steps for every channel."</p>
        <Suspense fallback=|| view! { <Loading label="Loading the steps…" /> }>
            {move || Suspend::new(async move {
                match flows.await {
                    Ok(list) => view! {
                        <FlowList list=list.clone() />
                        {if editable {
                            view! { <FlowEditor list saved=Callback::new(move |()| flows.refetch()) /> }.into_any()
                        } else {
                            view! { <p class="hint">"The steps are shared by every organisation: only a \
                                global administrator can change them."</p> }.into_any()
                        }}
                    }.into_any(),
                    Err(e) => view! { <ErrorNotice error=e /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn FlowList(list: Vec<AuthFlowView>) -> impl IntoView {
    let rows = list
        .into_iter()
        .map(|f| {
            let steps = f
                .factors
                .iter()
                .map(|k| match f.alternatives.iter().find(|a| a.factor == *k) {
                    Some(a) => format!(
                        "{} (or {} instead)",
                        labels::factor(*k),
                        labels::factor(a.instead).to_lowercase()
                    ),
                    None => labels::factor(*k).to_owned(),
                })
                .collect::<Vec<_>>()
                .join(", then ");
            view! { <tr><td>{labels::scope(f.scope)}</td><td>{steps}</td></tr> }
        })
        .collect_view();
    view! {
        <table class="flows">
            <caption class="visually-hidden">"Self-service steps per channel"</caption>
            <thead><tr><th scope="col">"Channel"</th><th scope="col">"Steps, in order"</th></tr></thead>
            <tbody>{rows}</tbody>
        </table>
    }
}

fn scope_options() -> Vec<(String, String)> {
    [
        FlowScope::All,
        FlowScope::Web,
        FlowScope::Mobile,
        FlowScope::Desktop,
    ]
    .into_iter()
    .map(|s| (s.as_str().to_owned(), labels::scope(s).to_owned()))
    .collect()
}

/// Steps for one scope: every factor with a "use" box, in an order changed with
/// Move up / Move down buttons (no dragging, so the keyboard does it all).
#[component]
fn FlowEditor(list: Vec<AuthFlowView>, saved: Callback<()>) -> impl IntoView {
    let session = Session::get();
    // Start with a scope that has steps, so the editor opens on what is in use.
    let first = list.first().map_or(FlowScope::All, |f| f.scope);
    let scope = RwSignal::new(first.as_str().to_owned());
    // The factors in their order, and whether each is used.
    let steps = RwSignal::new(Vec::<(FactorKind, bool)>::new());
    let list = StoredValue::new(list);
    Effect::new(move |_| {
        let wanted: FlowScope = scope.get().parse().unwrap_or(FlowScope::All);
        let current = list.with_value(|l| {
            l.iter()
                .find(|f| f.scope == wanted)
                .map(|f| f.factors.clone())
                .unwrap_or_default()
        });
        let mut order: Vec<(FactorKind, bool)> = current.iter().map(|k| (*k, true)).collect();
        order.extend(
            FactorKind::iter()
                .filter(|k| !current.contains(k))
                .map(|k| (k, false)),
        );
        steps.set(order);
    });
    let action = Action::new_local(move |flow: &AuthFlowView| {
        let flow = flow.clone();
        async move { checked(session, auth_flow_set(flow)).await }
    });
    let value = action.value();
    let pending = action.pending();
    Effect::new(move |_| {
        if let Some(Ok(())) = value.get() {
            saved.run(());
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let wanted: FlowScope = scope.get_untracked().parse().unwrap_or(FlowScope::All);
        let factors: Vec<FactorKind> = steps
            .get_untracked()
            .into_iter()
            .filter(|(_, used)| *used)
            .map(|(k, _)| k)
            .collect();
        // The scope's alternatives (set on the command line) stay, as long as the step
        // they stand in for is still asked and they are not asked themselves.
        let alternatives = list.with_value(|l| {
            l.iter()
                .find(|f| f.scope == wanted)
                .map(|f| {
                    f.alternatives
                        .iter()
                        .filter(|a| factors.contains(&a.factor) && !factors.contains(&a.instead))
                        .copied()
                        .collect()
                })
                .unwrap_or_default()
        });
        action.dispatch(AuthFlowView {
            scope: wanted,
            factors,
            alternatives,
        });
    };
    let moved = move |from: usize, to: usize| {
        steps.update(|s| {
            if from < s.len() && to < s.len() {
                s.swap(from, to);
            }
        });
        // Keep focus with the factor that moved (its buttons are rebuilt).
        focus_step(to);
    };
    let rows = move || {
        let all = steps.get();
        let last = all.len().saturating_sub(1);
        all.into_iter()
            .enumerate()
            .map(|(i, (kind, used))| {
                let id = format!("step-{}", kind.as_str());
                let name = labels::factor(kind);
                view! {
                    <li class="step">
                        <input type="checkbox" id=id.clone() prop:checked=used
                            on:change=move |ev| {
                                let on = event_target_checked(&ev);
                                steps.update(|s| if let Some(x) = s.get_mut(i) { x.1 = on; });
                            } />
                        <label for=id>{name}</label>
                        <span class="step-buttons">
                            <button type="button" class="secondary small" id=format!("step-up-{i}")
                                aria-label=format!("Move {name} up") disabled=i == 0
                                on:click=move |_| moved(i, i.saturating_sub(1))>"Up"</button>
                            <button type="button" class="secondary small" id=format!("step-down-{i}")
                                aria-label=format!("Move {name} down") disabled=i == last
                                on:click=move |_| moved(i, i + 1)>"Down"</button>
                        </span>
                    </li>
                }
            })
            .collect_view()
    };
    view! {
        <form class="panel" on:submit=submit novalidate aria-labelledby="flow-editor-title">
            <h3 id="flow-editor-title">"Change the steps"</h3>
            <SelectField id="flow-scope" label="For" value=scope options=scope_options()
                hint="Steps for every channel replace the channels' own steps." />
            <fieldset aria-describedby="flow-steps-hint">
                <legend>"Steps, in order"</legend>
                <span class="hint" id="flow-steps-hint">"Tick the steps to ask for. At least one must \
                    prove who the person is: a captcha alone does not."</span>
                <ol class="steps">{rows}</ol>
            </fieldset>
            {move || match value.get() {
                Some(Ok(())) => Some(view! {
                    <Notice kind=NoticeKind::Success><p>"Saved. New self-service attempts use these steps."</p></Notice>
                }.into_any()),
                Some(Err(e)) => Some(view! { <ErrorNotice error=e /> }.into_any()),
                None => None,
            }}
            <SubmitButton busy=pending label="Save steps" busy_label="Saving…" />
        </form>
    }
}

fn focus_step(index: usize) {
    use wasm_bindgen::JsCast;
    let el = document()
        .get_element_by_id(&format!("step-up-{index}"))
        .filter(|e| !e.has_attribute("disabled"))
        .or_else(|| document().get_element_by_id(&format!("step-down-{index}")));
    if let Some(el) = el.and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok()) {
        let _ = el.focus();
    }
}

/// An organisation's security-question catalogue.
#[component]
fn Catalogue(orgs: Vec<(String, String)>) -> impl IntoView {
    let session = Session::get();
    let org = RwSignal::new(
        orgs.first()
            .map(|(slug, _)| slug.clone())
            .unwrap_or_default(),
    );
    let entries = LocalResource::new(move || checked(session, catalogue(org.get())));
    let many = orgs.len() > 1;
    let text = RwSignal::new(String::new());
    let add = Action::new_local(move |(o, t): &(String, String)| {
        let (o, t) = (o.clone(), t.clone());
        async move { checked(session, catalogue_add(o, t)).await }
    });
    let added = add.value();
    let adding = add.pending();
    Effect::new(move |_| {
        if let Some(Ok(())) = added.get() {
            text.set(String::new());
            entries.refetch();
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        add.dispatch((org.get_untracked(), text.get_untracked()));
    };
    view! {
        <h2>"Security questions"</h2>
        <p>"The questions people choose from when they enrol. A question taken out of use is no \
            longer offered; answers already given to it keep working."</p>
        {many.then(|| view! { <SelectField id="catalogue-org" label="Organisation" value=org options=orgs.clone() /> })}
        <Suspense fallback=|| view! { <Loading label="Loading the questions…" /> }>
            {move || Suspend::new(async move {
                match entries.await {
                    Ok(list) => view! {
                        <QuestionList list org=org.get_untracked() changed=Callback::new(move |()| entries.refetch()) />
                    }.into_any(),
                    Err(e) => view! { <ErrorNotice error=e /> }.into_any(),
                }
            })}
        </Suspense>
        <form class="panel" on:submit=submit novalidate aria-labelledby="add-question-title">
            <h3 id="add-question-title">"Add a question"</h3>
            <TextField id="question-text" label="Question" value=text
                error=Signal::derive(move || field_error(added.get(), "text"))
                hint="Ask for something only the person knows, that does not change and is not on social media." />
            {move || match added.get() {
                Some(Ok(())) => Some(view! { <Notice kind=NoticeKind::Success><p>"Question added."</p></Notice> }.into_any()),
                Some(Err(e)) if e.field().is_none() => Some(view! { <ErrorNotice error=e /> }.into_any()),
                _ => None,
            }}
            <SubmitButton busy=adding label="Add question" busy_label="Adding…" />
        </form>
    }
}

#[component]
fn QuestionList(list: Vec<CatalogueEntry>, org: String, changed: Callback<()>) -> impl IntoView {
    let session = Session::get();
    let toggle = Action::new_local(move |(o, id, active): &(String, i64, bool)| {
        let (o, id, active) = (o.clone(), *id, *active);
        async move { checked(session, catalogue_set_active(o, id, active)).await }
    });
    let value = toggle.value();
    Effect::new(move |_| {
        if let Some(Ok(())) = value.get() {
            changed.run(());
        }
    });
    let rows = list
        .into_iter()
        .map(|q| {
            let org = org.clone();
            let (label, verb) = if q.active {
                (format!("Take out of use: {}", q.text), "Take out of use")
            } else {
                (format!("Use again: {}", q.text), "Use again")
            };
            let to = !q.active;
            view! {
                <tr>
                    <td>{q.text}</td>
                    <td>{if q.active { "In use" } else { "Not in use" }}</td>
                    <td>
                        <button type="button" class="secondary small" aria-label=label
                            on:click=move |_| { toggle.dispatch((org.clone(), q.id, to)); }>
                            {verb}
                        </button>
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        {move || value.get().and_then(Result::err).map(|e| view! { <ErrorNotice error=e /> })}
        <table class="catalogue">
            <caption class="visually-hidden">"Security questions"</caption>
            <thead><tr>
                <th scope="col">"Question"</th>
                <th scope="col">"State"</th>
                <th scope="col"><span class="visually-hidden">"Change"</span></th>
            </tr></thead>
            <tbody>{rows}</tbody>
        </table>
    }
}

/// The acceptable use policy of an organisation: plain paragraphs (a blank line between
/// two). Saving makes a new version that everyone accepts at their next sign-in.
#[component]
fn AupEditor(orgs: Vec<(String, String)>) -> impl IntoView {
    let session = Session::get();
    let org = RwSignal::new(
        orgs.first()
            .map(|(slug, _)| slug.clone())
            .unwrap_or_default(),
    );
    let many = orgs.len() > 1;
    let current = LocalResource::new(move || checked(session, aup(org.get())));
    view! {
        <h2>"Acceptable use policy"</h2>
        <p>"People accept it at their first sign-in. Saving a change makes a new version: \
            everyone accepts it again at their next sign-in."</p>
        {many.then(|| view! { <SelectField id="aup-org" label="Organisation" value=org options=orgs.clone() /> })}
        <Suspense fallback=|| view! { <Loading label="Loading the policy…" /> }>
            {move || Suspend::new(async move {
                match current.await {
                    Ok(view) => view! {
                        <AupForm aup=view saved=Callback::new(move |()| current.refetch()) />
                    }.into_any(),
                    Err(e) => view! { <ErrorNotice error=e /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn AupForm(aup: AupView, saved: Callback<()>) -> impl IntoView {
    let session = Session::get();
    let text = RwSignal::new(aup.text.clone());
    let org = aup.organisation.clone();
    let action = Action::new_local(move |(o, t): &(String, String)| {
        let (o, t) = (o.clone(), t.clone());
        async move { checked(session, aup_set(o, t)).await }
    });
    let value = action.value();
    let pending = action.pending();
    Effect::new(move |_| {
        if let Some(Ok(_)) = value.get() {
            saved.run(());
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        action.dispatch((org.clone(), text.get_untracked()));
    };
    let version = match aup.version {
        0 => "No policy yet.".to_owned(),
        v => format!("Version {v}."),
    };
    let error = Signal::derive(move || field_error(value.get(), "text"));
    view! {
        <form class="panel" on:submit=submit novalidate>
            <p>{version}</p>
            <div class="field">
                <label for="aup-text">"Policy text"</label>
                <p id="aup-text-hint" class="hint">"Plain text. Leave a blank line between paragraphs."</p>
                <textarea id="aup-text" rows="8" aria-describedby="aup-text-hint aup-text-error"
                    aria-invalid=move || error.get().is_some().then_some("true")
                    prop:value=move || text.get()
                    on:input=move |ev| text.set(event_target_value(&ev))></textarea>
                <p id="aup-text-error" class="error">{move || error.get()}</p>
            </div>
            {move || match value.get() {
                Some(Ok(v)) => Some(view! { <Notice kind=NoticeKind::Success><p>"Saved as version " {v} "."</p></Notice> }.into_any()),
                Some(Err(e)) if e.field().is_none() => Some(view! { <ErrorNotice error=e /> }.into_any()),
                _ => None,
            }}
            <SubmitButton busy=pending label="Save as a new version" busy_label="Saving…" />
        </form>
    }
}

/// One organisation's helpdesk mode per role (seed 004's helpdesk policy); each change is
/// audited with the mode it replaced.
#[component]
fn HelpdeskForm(slug: String, name: String) -> impl IntoView {
    let session = Session::get();
    let policy = {
        let slug = slug.clone();
        LocalResource::new(move || checked(session, helpdesk_policy(slug.clone())))
    };
    let heading = format!("helpdesk-{slug}-title");
    view! {
        <section class="panel" aria-labelledby=heading.clone()>
            <h3 id=heading.clone()>{name}</h3>
            <Suspense fallback=|| view! { <Loading label="Loading the helpdesk policy…" /> }>
                {move || Suspend::new(async move {
                    match policy.await {
                        Ok(p) => view! { <HelpdeskModes organisation=p.organisation roles=p.roles /> }.into_any(),
                        Err(e) => view! { <ErrorNotice error=e /> }.into_any(),
                    }
                })}
            </Suspense>
            <SelfUnlockCapForm slug />
        </section>
    }
}

/// How many self-service unlocks of one account a period allows before the next one
/// opens a support request instead (issue 14, item 5).
#[component]
fn SelfUnlockCapForm(slug: String) -> impl IntoView {
    let session = Session::get();
    let cap = {
        let slug = slug.clone();
        LocalResource::new(move || checked(session, fetch_self_unlock_cap(slug.clone())))
    };
    view! {
        <Suspense fallback=|| view! { <Loading label="Loading the self-service unlock cap…" /> }>
            {move || {
                let slug = slug.clone();
                Suspend::new(async move {
                    match cap.await {
                        Ok(c) => view! { <SelfUnlockCapFields slug cap=c /> }.into_any(),
                        Err(e) => view! { <ErrorNotice error=e /> }.into_any(),
                    }
                })
            }}
        </Suspense>
    }
}

#[component]
fn SelfUnlockCapFields(slug: String, cap: SelfUnlockCap) -> impl IntoView {
    let session = Session::get();
    let max = RwSignal::new(cap.max_unlocks.to_string());
    let hours = RwSignal::new(cap.period_hours.to_string());
    let action = Action::new_local(move |(org, cap): &(String, SelfUnlockCap)| {
        let (org, cap) = (org.clone(), *cap);
        async move { checked(session, self_unlock_cap_set(org, cap)).await }
    });
    let value = action.value();
    let (max_id, hours_id) = (format!("cap-{slug}-max"), format!("cap-{slug}-hours"));
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let number = |s: RwSignal<String>| s.get_untracked().trim().parse::<u32>().unwrap_or(0);
        action.dispatch((
            slug.clone(),
            SelfUnlockCap {
                max_unlocks: number(max),
                period_hours: number(hours),
            },
        ));
    };
    let max_error = Signal::derive(move || field_error(value.get(), "max_unlocks"));
    let hours_error = Signal::derive(move || field_error(value.get(), "period_hours"));
    view! {
        <form on:submit=submit novalidate>
            <h4>"Self-service unlocks before support"</h4>
            {move || match value.get() {
                Some(Ok(())) => Some(view! {
                    <Notice kind=NoticeKind::Success><p>"Saved. It applies to the next self-service unlock."</p></Notice>
                }.into_any()),
                Some(Err(e)) if e.field().is_none() => Some(view! { <ErrorNotice error=e /> }.into_any()),
                _ => None,
            }}
            <TextField id=max_id label="Unlocks allowed" value=max error=max_error
                inputmode="numeric"
                hint="Self-service unlocks of one account within the period; one more opens a support request instead." />
            <TextField id=hours_id label="Period (hours)" value=hours error=hours_error
                inputmode="numeric" />
            <SubmitButton busy=action.pending() label="Save unlock cap" busy_label="Saving…" />
        </form>
    }
}

#[component]
fn HelpdeskModes(organisation: String, roles: Vec<HelpdeskRoleMode>) -> impl IntoView {
    let session = Session::get();
    let chosen: Vec<(HelpdeskRoleMode, RwSignal<String>)> = roles
        .into_iter()
        .map(|r| (r, RwSignal::new(r.mode.as_str().to_owned())))
        .collect();
    let action = Action::new_local(move |(org, changes): &(String, Vec<HelpdeskRoleMode>)| {
        let (org, changes) = (org.clone(), changes.clone());
        async move {
            for c in changes {
                checked(session, helpdesk_mode_set(org.clone(), c.role, c.mode)).await?;
            }
            Ok::<_, ApiError>(())
        }
    });
    let value = action.value();
    let pending = action.pending();
    let submit = {
        let chosen = chosen.clone();
        let organisation = organisation.clone();
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            let changes = chosen
                .iter()
                .filter_map(|(was, now)| {
                    let mode = match now.get_untracked().as_str() {
                        "unrestricted" => HelpdeskMode::Unrestricted,
                        _ => HelpdeskMode::Restricted,
                    };
                    (mode != was.mode).then_some(HelpdeskRoleMode {
                        role: was.role,
                        mode,
                    })
                })
                .collect();
            action.dispatch((organisation.clone(), changes));
        }
    };
    let options = || {
        vec![
            (
                "restricted".to_owned(),
                "Restricted: verify the caller first".to_owned(),
            ),
            (
                "unrestricted".to_owned(),
                "Unrestricted: may skip verifying".to_owned(),
            ),
        ]
    };
    let fields = chosen
        .iter()
        .map(|(r, value)| {
            let id = format!("helpdesk-{organisation}-{}", r.role.as_str());
            view! { <SelectField id label=labels::role(r.role) value=*value options=options() /> }
        })
        .collect_view();
    view! {
        <form on:submit=submit novalidate>
            {move || match value.get() {
                Some(Ok(())) => Some(view! {
                    <Notice kind=NoticeKind::Success><p>"Saved. It applies to the next unlock."</p></Notice>
                }.into_any()),
                Some(Err(e)) => Some(view! { <ErrorNotice error=e /> }.into_any()),
                None => None,
            }}
            {fields}
            <SubmitButton busy=pending label="Save helpdesk policy" busy_label="Saving…" />
        </form>
    }
}
