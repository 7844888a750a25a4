//! Lock activity over the last seven days: locks per hour, unlocks by the people
//! themselves against unlocks by operators, the client addresses behind the most failed
//! sign-ins, and how many accounts are locked right now.
//!
//! The charts are SVG drawn here, not a chart library: three bar charts are a few dozen
//! lines each, and a library would weigh more than the whole console. Each chart is an
//! image with a one-sentence summary for screen readers, and the numbers behind it are a
//! table just below.

use latchkey_types::console::{Activity, Bucket, ClientCount};
use leptos::prelude::*;

use super::session::Session;
use super::widgets::{checked, ErrorNotice};
use crate::api::console::history::fetch_activity;
use crate::components::{local_time, use_title, Loading};

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 180.0;
/// Room left of the bars for the scale, below them for the day names and above them
/// for the scale's top label.
const LEFT: f64 = 36.0;
const BOTTOM: f64 = 24.0;
const TOP: f64 = 12.0;

#[component]
pub fn ActivityPage() -> impl IntoView {
    use_title("Lock activity");
    let session = Session::get();
    let activity = LocalResource::new(move || checked(session, fetch_activity()));
    view! {
        <h1>"Lock activity"</h1>
        <p class="lead">"The last seven days, up to now."</p>
        <p><button type="button" class="secondary" on:click=move |_| activity.refetch()>"Refresh"</button></p>
        <Suspense fallback=|| view! { <Loading label="Counting locks and unlocks…" /> }>
            {move || Suspend::new(async move {
                match activity.await {
                    Ok(a) => view! { <Dashboard activity=a /> }.into_any(),
                    Err(e) => view! { <ErrorNotice error=e /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Dashboard(activity: Activity) -> impl IntoView {
    let locks: u32 = activity.locks_per_hour.iter().map(|b| b.count).sum();
    let self_service: u32 = activity.self_service_unlocks.iter().map(|b| b.count).sum();
    let by_operator: u32 = activity.operator_unlocks.iter().map(|b| b.count).sum();
    view! {
        <section class="stat-cards" aria-label="Totals">
            <div class="stat"><span class="stat-value">{activity.locked_now}</span>
                <span class="stat-label">"accounts locked now"</span>
                <a href="/console/users?locked=1">"See them"</a></div>
            <div class="stat"><span class="stat-value">{locks}</span>
                <span class="stat-label">"locks in seven days"</span></div>
            <div class="stat"><span class="stat-value">{self_service}</span>
                <span class="stat-label">"unlocked by the users themselves"</span></div>
            <div class="stat"><span class="stat-value">{by_operator}</span>
                <span class="stat-label">"unlocked by an operator"</span></div>
        </section>
        <LocksChart buckets=activity.locks_per_hour />
        <UnlocksChart self_service=activity.self_service_unlocks operator=activity.operator_unlocks />
        <ClientsChart clients=activity.top_failed_clients />
    }
}

/// The scale's top: the largest count rounded up to a number that reads well.
fn scale_top(max: u32) -> u32 {
    match max {
        0..=4 => 4,
        5..=10 => 10,
        m => {
            let step = 10_u32.pow(m.ilog10());
            m.div_ceil(step) * step
        }
    }
}

/// "1 lock", "2 locks".
fn plural(n: u32, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// The end of a day-long bucket that starts at `start`: what its label names, since the
/// last bucket ends now.
fn day_end(start: i64) -> i64 {
    start + 24 * 3600 - 1
}

fn day_name(unix: i64) -> String {
    const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
    let d = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(unix as f64 * 1000.0));
    format!(
        "{} {}",
        DAYS.get(d.get_day() as usize).copied().unwrap_or_default(),
        d.get_date()
    )
}

/// The scale on the left: zero, half and the top, with faint lines across.
fn axis(top: u32) -> impl IntoView {
    let base = HEIGHT - BOTTOM;
    [0, top / 2, top]
        .into_iter()
        .map(|v| {
            let y = base - (base - TOP) * f64::from(v) / f64::from(top) + 0.5;
            view! {
                <line class="grid-line" x1=LEFT x2=WIDTH y1=y y2=y />
                <text class="axis-label" x=LEFT - 6.0 y=y + 4.0 text-anchor="end">{v}</text>
            }
        })
        .collect_view()
}

#[component]
fn LocksChart(buckets: Vec<Bucket>) -> impl IntoView {
    let total: u32 = buckets.iter().map(|b| b.count).sum();
    let peak = buckets.iter().max_by_key(|b| b.count).copied();
    let top = scale_top(peak.map_or(0, |b| b.count));
    let base = HEIGHT - BOTTOM;
    let n = buckets.len().max(1) as f64;
    let bar = (WIDTH - LEFT) / n;
    let bars = buckets
        .iter()
        .enumerate()
        .filter(|(_, b)| b.count > 0)
        .map(|(i, b)| {
            let h = (base - TOP) * f64::from(b.count) / f64::from(top);
            view! {
                <rect class="bar" x=LEFT + bar * i as f64 y=base - h width=(bar - 1.0).max(1.0) height=h />
            }
        })
        .collect_view();
    // A label under the first hour of each day.
    let days = buckets
        .iter()
        .enumerate()
        .filter(|(i, _)| i % 24 == 0)
        .map(|(i, b)| {
            view! {
                <text class="axis-label" x=LEFT + bar * i as f64 y=HEIGHT - 6.0>{day_name(b.start)}</text>
            }
        })
        .collect_view();
    let summary = match peak {
        Some(p) if total > 0 => format!(
            "{} in the last seven days; the most in one hour was {} (the hour from {}).",
            plural(total, "lock", "locks"),
            p.count,
            local_time(p.start)
        ),
        _ => "No account was locked in the last seven days.".to_owned(),
    };
    let rows = buckets
        .iter()
        .filter(|b| b.count > 0)
        .map(|b| view! { <tr><td>{local_time(b.start)}</td><td class="num">{b.count}</td></tr> })
        .collect_view();
    view! {
        <section class="chart" aria-labelledby="locks-title">
            <h2 id="locks-title">"Locks per hour"</h2>
            <svg viewBox=format!("0 0 {WIDTH} {HEIGHT}") role="img" aria-labelledby="locks-title locks-desc" class="chart-svg">
                <desc id="locks-desc">{summary.clone()}</desc>
                {axis(top)}
                {bars}
                {days}
            </svg>
            <p class="chart-summary">{summary}</p>
            <details>
                <summary>"The numbers behind the chart"</summary>
                {if total == 0 {
                    view! { <p>"Every hour: none."</p> }.into_any()
                } else {
                    view! {
                        <table>
                            <caption>"Locks per hour (hours without locks are left out)"</caption>
                            <thead><tr><th scope="col">"Hour starting"</th><th scope="col">"Locks"</th></tr></thead>
                            <tbody>{rows}</tbody>
                        </table>
                    }.into_any()
                }}
            </details>
        </section>
    }
}

#[component]
fn UnlocksChart(self_service: Vec<Bucket>, operator: Vec<Bucket>) -> impl IntoView {
    let days: Vec<(i64, u32, u32)> = self_service
        .iter()
        .zip(operator.iter())
        .map(|(s, o)| (s.start, s.count, o.count))
        .collect();
    let top = scale_top(days.iter().map(|(_, s, o)| (*s).max(*o)).max().unwrap_or(0));
    let base = HEIGHT - BOTTOM;
    let slot = (WIDTH - LEFT) / days.len().max(1) as f64;
    let bar = slot * 0.35;
    let height = |v: u32| (base - TOP) * f64::from(v) / f64::from(top);
    let bars = days
        .iter()
        .enumerate()
        .map(|(i, (start, s, o))| {
            let x = LEFT + slot * i as f64 + slot * 0.12;
            view! {
                <rect class="bar self-service" x=x y=base - height(*s) width=bar height=height(*s) />
                <rect class="bar operator" x=x + bar y=base - height(*o) width=bar height=height(*o) />
                <text class="axis-label" x=x y=HEIGHT - 6.0>{day_name(day_end(*start))}</text>
            }
        })
        .collect_view();
    let (total_s, total_o): (u32, u32) =
        days.iter().fold((0, 0), |(a, b), (_, s, o)| (a + s, b + o));
    let summary = format!(
        "In the last seven days, {} unlocked by their owners through self-service and {} by \
         an operator.",
        plural(total_s, "account was", "accounts were"),
        total_o
    );
    let rows = days
        .iter()
        .map(|(start, s, o)| view! {
            <tr><td>{local_time(day_end(*start))}</td><td class="num">{*s}</td><td class="num">{*o}</td></tr>
        })
        .collect_view();
    view! {
        <section class="chart" aria-labelledby="unlocks-title">
            <h2 id="unlocks-title">"Unlocks per day: self-service and operators"</h2>
            <p class="legend" aria-hidden="true">
                <span class="key self-service"></span>"Self-service"
                <span class="key operator"></span>"Operator"
            </p>
            <svg viewBox=format!("0 0 {WIDTH} {HEIGHT}") role="img" aria-labelledby="unlocks-title unlocks-desc" class="chart-svg">
                <desc id="unlocks-desc">{summary.clone()}</desc>
                {axis(top)}
                {bars}
            </svg>
            <p class="chart-summary">{summary}</p>
            <details>
                <summary>"The numbers behind the chart"</summary>
                <table>
                    <caption>"Unlocks per day"</caption>
                    <thead><tr>
                        <th scope="col">"24 hours up to"</th>
                        <th scope="col">"Self-service"</th>
                        <th scope="col">"Operator"</th>
                    </tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </details>
        </section>
    }
}

#[component]
fn ClientsChart(clients: Vec<ClientCount>) -> impl IntoView {
    let top = scale_top(clients.iter().map(|c| c.failures).max().unwrap_or(0));
    let row_h = 26.0;
    let label_w = 150.0;
    let height = (clients.len().max(1) as f64) * row_h + 4.0;
    let bars = clients
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let y = i as f64 * row_h + 4.0;
            let w = (WIDTH - label_w - 40.0) * f64::from(c.failures) / f64::from(top);
            view! {
                <text class="axis-label" x=label_w - 8.0 y=y + 15.0 text-anchor="end">{c.client.clone()}</text>
                <rect class="bar failures" x=label_w y=y width=w.max(1.0) height=row_h - 8.0 />
                <text class="axis-label" x=label_w + w + 6.0 y=y + 15.0>{c.failures}</text>
            }
        })
        .collect_view();
    let summary = match clients.first() {
        Some(c) => format!(
            "{} failed sign-ins in the last seven days; the most, {}, came from {}.",
            plural(
                clients.len() as u32,
                "client address had",
                "client addresses had"
            ),
            c.failures,
            c.client
        ),
        None => "No failed sign-ins in the last seven days.".to_owned(),
    };
    let rows = clients
        .iter()
        .map(|c| view! { <tr><td>{c.client.clone()}</td><td class="num">{c.failures}</td></tr> })
        .collect_view();
    let empty = clients.is_empty();
    view! {
        <section class="chart" aria-labelledby="clients-title">
            <h2 id="clients-title">"Client addresses behind failed sign-ins"</h2>
            {(!empty).then(|| view! {
                <svg viewBox=format!("0 0 {WIDTH} {height}") role="img"
                    aria-labelledby="clients-title clients-desc" class="chart-svg chart-bars">
                    <desc id="clients-desc">{summary.clone()}</desc>
                    {bars}
                </svg>
            })}
            <p class="chart-summary">{summary}</p>
            {(!empty).then(|| view! {
                <details>
                    <summary>"The numbers behind the chart"</summary>
                    <table>
                        <caption>"Failed sign-ins per client address, most first"</caption>
                        <thead><tr><th scope="col">"Client address"</th><th scope="col">"Failed sign-ins"</th></tr></thead>
                        <tbody>{rows}</tbody>
                    </table>
                </details>
            })}
        </section>
    }
}
