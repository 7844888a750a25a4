//! The history (seed 004's History button, for everything): every audit record,
//! filtered by who, about whom, what, where from, how it ended and when; older pages on
//! request; the same filter as a CSV download; and whether the log's chain is intact.
//!
//! The filter lives in the address (`?subject=EXAMPLE%5Cbob&outcome=failure&from=2026-11-01`),
//! so the user page's History button and a shared link open a filtered history.

use latchkey_types::console::{ChainState, HistoryFilter};
use latchkey_types::{Action, AuditChannel, Outcome};
use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_query_map};
use leptos_router::params::ParamsMap;
use strum::IntoEnumIterator;

use super::labels;
use super::session::Session;
use super::widgets::{checked, no_error, AuditTable, ErrorNotice, SelectField};
use crate::api::console::history::{fetch_chain_state, history};
use crate::components::{field_error, use_title, Loading, Notice, NoticeKind, TextField};
use crate::error::ApiError;

/// The page's filter: the wire's, with dates as the date inputs hold them (`YYYY-MM-DD`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Filter {
    actor: String,
    subject: String,
    action: String,
    channel: String,
    outcome: String,
    from: String,
    to: String,
}

impl Filter {
    fn from_params(p: &ParamsMap) -> Self {
        let get = |k: &str| p.get(k).unwrap_or_default();
        Filter {
            actor: get("actor"),
            subject: get("subject"),
            action: get("action"),
            channel: get("channel"),
            outcome: get("outcome"),
            from: get("from"),
            to: get("to"),
        }
    }

    /// `?actor=…&…` with the empty fields left out ("" when all are).
    fn query_string(&self) -> String {
        let parts: Vec<String> = [
            ("actor", &self.actor),
            ("subject", &self.subject),
            ("action", &self.action),
            ("channel", &self.channel),
            ("outcome", &self.outcome),
            ("from", &self.from),
            ("to", &self.to),
        ]
        .into_iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .map(|(k, v)| format!("{k}={}", js_sys::encode_uri_component(v.trim())))
        .collect();
        if parts.is_empty() {
            String::new()
        } else {
            format!("?{}", parts.join("&"))
        }
    }

    /// The filter the server takes. A date that cannot be read names its field.
    fn to_wire(&self) -> Result<HistoryFilter, ApiError> {
        let text = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
        let from = date_start(&self.from, "from", 0)?;
        // "To" is the last day included: the filter ends where the next day starts.
        let to = date_start(&self.to, "to", 1)?;
        if let (Some(f), Some(t)) = (from, to) {
            if t <= f {
                return Err(ApiError::invalid(
                    "to",
                    "The last day must not be before the first day.",
                ));
            }
        }
        Ok(HistoryFilter {
            actor: text(&self.actor),
            subject: text(&self.subject),
            action: self.action.parse().ok(),
            channel: self.channel.parse().ok(),
            outcome: self.outcome.parse().ok(),
            from,
            to,
        })
    }
}

/// The Unix time at which the local day `date` (`YYYY-MM-DD`) plus `days_after` starts.
fn date_start(date: &str, field: &str, days_after: u32) -> Result<Option<i64>, ApiError> {
    let date = date.trim();
    if date.is_empty() {
        return Ok(None);
    }
    let d = js_sys::Date::new(&wasm_bindgen::JsValue::from_str(&format!(
        "{date}T00:00:00"
    )));
    let ms = d.get_time();
    if ms.is_nan() {
        return Err(ApiError::invalid(field, "Enter a date such as 2026-11-23."));
    }
    d.set_date(d.get_date() + days_after);
    Ok(Some((d.get_time() / 1000.0) as i64))
}

/// The CSV address for a filter the server would take: the same fields, times as Unix seconds.
fn csv_href(filter: &HistoryFilter) -> String {
    let mut parts = Vec::new();
    let mut add =
        |k: &str, v: String| parts.push(format!("{k}={}", js_sys::encode_uri_component(&v)));
    if let Some(a) = &filter.actor {
        add("actor", a.clone());
    }
    if let Some(s) = &filter.subject {
        add("subject", s.clone());
    }
    if let Some(a) = filter.action {
        add("action", a.as_str().to_owned());
    }
    if let Some(c) = filter.channel {
        add("channel", c.as_str().to_owned());
    }
    if let Some(o) = filter.outcome {
        add("outcome", o.as_str().to_owned());
    }
    if let Some(f) = filter.from {
        add("from", f.to_string());
    }
    if let Some(t) = filter.to {
        add("to", t.to_string());
    }
    if parts.is_empty() {
        "/console/history.csv".to_owned()
    } else {
        format!("/console/history.csv?{}", parts.join("&"))
    }
}

fn choices<T: Copy>(
    any: &str,
    all: impl Iterator<Item = T>,
    text: fn(T) -> &'static str,
    label: fn(T) -> &'static str,
) -> Vec<(String, String)> {
    std::iter::once((String::new(), any.to_owned()))
        .chain(all.map(|v| (text(v).to_owned(), label(v).to_owned())))
        .collect()
}

/// The entries shown so far and where the next (older) page starts.
#[derive(Debug, Clone, Default)]
struct Shown {
    entries: Vec<latchkey_types::console::AuditEntry>,
    next: Option<i64>,
}

#[component]
pub fn HistoryPage() -> impl IntoView {
    use_title("History");
    let session = Session::get();
    let params = use_query_map();
    let filter = Memo::new(move |_| params.with(Filter::from_params));

    let actor = RwSignal::new(String::new());
    let subject = RwSignal::new(String::new());
    let action = RwSignal::new(String::new());
    let channel = RwSignal::new(String::new());
    let outcome = RwSignal::new(String::new());
    let from = RwSignal::new(String::new());
    let to = RwSignal::new(String::new());
    Effect::new(move |_| {
        let f = filter.get();
        actor.set(f.actor);
        subject.set(f.subject);
        action.set(f.action);
        channel.set(f.channel);
        outcome.set(f.outcome);
        from.set(f.from);
        to.set(f.to);
    });

    let shown = RwSignal::new(None::<Result<Shown, ApiError>>);
    let loading_more = RwSignal::new(false);
    let generation = StoredValue::new(0_u64);
    let load = move |wire: HistoryFilter, before: Option<i64>| {
        let append = before.is_some();
        let mine = generation.get_value() + u64::from(!append);
        generation.set_value(mine);
        if append {
            loading_more.set(true);
        } else {
            shown.set(None);
        }
        leptos::task::spawn_local(async move {
            let page = checked(session, history(wire, before)).await;
            if generation.get_value() != mine {
                return;
            }
            loading_more.set(false);
            shown.update(|s| match (page, s.as_mut()) {
                (Ok(page), Some(Ok(sofar))) if append => {
                    sofar.entries.extend(page.entries);
                    sofar.next = page.next;
                }
                (Ok(page), _) => {
                    *s = Some(Ok(Shown {
                        entries: page.entries,
                        next: page.next,
                    }))
                }
                (Err(e), _) => *s = Some(Err(e)),
            });
        });
    };
    let wire = Memo::new(move |_| filter.with(Filter::to_wire));
    Effect::new(move |_| match wire.get() {
        Ok(w) => load(w, None),
        Err(e) => shown.set(Some(Err(e))),
    });
    let older = move |_| {
        let next = shown.with_untracked(|s| s.as_ref().and_then(|s| s.as_ref().ok()?.next));
        if let (Some(before), Ok(w)) = (next, wire.get_untracked()) {
            load(w, Some(before));
        }
    };

    let navigate = use_navigate();
    let clear = {
        let navigate = navigate.clone();
        move |_| navigate("/history", Default::default())
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let wanted = Filter {
            actor: actor.get_untracked(),
            subject: subject.get_untracked(),
            action: action.get_untracked(),
            channel: channel.get_untracked(),
            outcome: outcome.get_untracked(),
            from: from.get_untracked(),
            to: to.get_untracked(),
        };
        match wanted.to_wire() {
            Err(e) => shown.set(Some(Err(e))),
            Ok(w) if wanted == filter.get_untracked() => load(w, None),
            Ok(_) => navigate(
                &format!("/history{}", wanted.query_string()),
                Default::default(),
            ),
        }
    };

    let error_of = move |field: &'static str| {
        Signal::derive(move || field_error(shown.get().map(|s| s.map(|_| ())), field))
    };
    let csv = move || wire.get().ok().map(|w| csv_href(&w));

    view! {
        <h1>"History"</h1>
        <ChainStatus />
        <form role="search" aria-label="History" class="search-form" on:submit=submit novalidate>
            <div class="filter-grid">
                <TextField id="actor" label="Done by" value=actor error=no_error()
                    hint="Part of a name: EXAMPLE\\ada, anonymous, system." />
                <TextField id="subject" label="Account" value=subject error=no_error()
                    hint="Part of the account's name: EXAMPLE\\bob." />
                <SelectField id="action" label="Action" value=action
                    options=choices("Any action", Action::iter(), Action::as_str, labels::action) />
                <SelectField id="channel" label="Channel" value=channel
                    options=choices("Any channel", AuditChannel::iter(), AuditChannel::as_str, labels::channel) />
                <SelectField id="outcome" label="Outcome" value=outcome
                    options=choices("Any outcome", Outcome::iter(), Outcome::as_str, labels::outcome) />
                <TextField id="from" label="From" value=from error=error_of("from") kind="date"
                    hint="The first day included." />
                <TextField id="to" label="To" value=to error=error_of("to") kind="date"
                    hint="The last day included." />
            </div>
            <div class="dialog-buttons">
                <button type="submit">"Show history"</button>
                <button type="button" class="secondary" on:click=clear>"Clear filters"</button>
                {move || csv().map(|href| view! {
                    <a class="button button-secondary" href=href download="history.csv">
                        "Download as CSV"
                    </a>
                })}
            </div>
        </form>
        {move || match shown.get() {
            None => view! { <Loading label="Loading the history…" /> }.into_any(),
            Some(Err(e)) if e.field().is_some() => ().into_any(),
            Some(Err(e)) => view! { <ErrorNotice error=e /> }.into_any(),
            Some(Ok(s)) if s.entries.is_empty() => view! {
                <p role="status">"Nothing matches this filter."</p>
            }.into_any(),
            Some(Ok(s)) => {
                let count = s.entries.len();
                let more = s.next.is_some();
                view! {
                    <p role="status" class="result-count">
                        {if more { format!("The newest {count} records; there are older ones.") }
                         else { format!("{count} records.") }}
                    </p>
                    <AuditTable entries=s.entries caption="History, newest first" />
                    {more.then(|| view! {
                        <p class="more">
                            <button type="button" class="secondary" on:click=older disabled=loading_more
                                aria-busy=move || loading_more.get().then_some("true")>
                                {move || if loading_more.get() { "Loading older records…" } else { "Show older records" }}
                            </button>
                        </p>
                    })}
                }.into_any()
            }
        }}
    }
}

/// `latchkey audit verify`, on the page.
#[component]
fn ChainStatus() -> impl IntoView {
    let session = Session::get();
    let state = LocalResource::new(move || checked(session, fetch_chain_state()));
    view! {
        <Suspense fallback=|| view! { <Loading label="Checking the log's integrity…" /> }>
            {move || Suspend::new(async move {
                match state.await {
                    Ok(ChainState::Intact { records }) => view! {
                        <Notice kind=NoticeKind::Success>
                            <p>"The log is intact: every record is chained to the one before, and none \
                                has been changed or removed"
                                {(records > 0).then(|| format!(" ({records} records checked)"))}"."</p>
                        </Notice>
                    }.into_any(),
                    Ok(ChainState::Broken { seq, reason }) => view! {
                        <Notice kind=NoticeKind::Error>
                            <p>"The log has been tampered with: the chain breaks at record " {seq} ". " {reason}</p>
                            <p>"Records from there on cannot be trusted. Tell your security team."</p>
                        </Notice>
                    }.into_any(),
                    Err(e) => view! { <ErrorNotice error=e /> }.into_any(),
                }
            })}
        </Suspense>
    }
}
