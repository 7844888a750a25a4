//! Pieces shared by the portal's and the console's pages.

use leptos::prelude::*;

use crate::api::portal::PortalInfo;
use crate::error::ApiError;

/// The portal information, loaded once per page load and shared through context.
pub type PortalInfoResource = LocalResource<Result<PortalInfo, ApiError>>;

/// The help desk as configured, once known (empty: say "contact your IT help desk").
pub fn help_desk(info: Option<PortalInfoResource>) -> latchkey_types::HelpDesk {
    info.and_then(|r| r.get())
        .and_then(|r| r.ok())
        .map(|i| i.help_desk)
        .unwrap_or_default()
}

/// How to reach a person: the configured phone, hours, page and words, or "contact your
/// IT help desk" without them. `links: false` on the kiosk, where nothing may lead away
/// (the number and address are shown to write down); `prominent` makes it a boxed
/// section with a heading, the main thing to do next.
#[component]
pub fn HelpDeskLine(
    #[prop(optional)] prominent: bool,
    #[prop(default = true)] links: bool,
) -> impl IntoView {
    let info = use_context::<PortalInfoResource>();
    let body = move || {
        let h = help_desk(info);
        if h.is_empty() {
            return view! { <span>"Contact your IT help desk."</span> }.into_any();
        }
        let phone = h.phone.map(|p| {
            let tel = format!("tel:{}", p.replace(' ', ""));
            let shown = if links {
                view! { <a href=tel>{p}</a> }.into_any()
            } else {
                view! { <strong>{p}</strong> }.into_any()
            };
            view! { <span class="help-desk-phone">"Call the help desk on " {shown}</span> }
        });
        let hours = h.hours.map(|t| view! { " " <span>"(" {t} ")"</span> });
        let url = h.url.map(|u| {
            let shown = if links {
                view! { <a href=u.clone() rel="noopener">{u.clone()}</a> }.into_any()
            } else {
                view! { <strong>{u.clone()}</strong> }.into_any()
            };
            view! { " " <span>"Online: " {shown}</span> }
        });
        let text = h.text.map(|t| view! { " " <span>{t}</span> });
        view! { {phone} {hours} {url} {text} }.into_any()
    };
    if prominent {
        view! {
            <section class="help-desk help-desk-prominent" aria-labelledby="help-desk-heading">
                <h2 id="help-desk-heading">"Talk to a person"</h2>
                <p>{body}</p>
            </section>
        }
        .into_any()
    } else {
        view! { <p class="help-desk">{body}</p> }.into_any()
    }
}

/// The header's brand: the organisation's logo and name (when configured) and the
/// product name, kept to one line at 360 px (the product name shortens with "…").
#[component]
pub fn Brand() -> impl IntoView {
    let info = use_context::<PortalInfoResource>();
    let organisation = move || {
        info.and_then(|r| r.get())
            .and_then(|r| r.ok())
            .map(|i| i.organisation)
            .unwrap_or_default()
    };
    view! {
        {move || organisation().logo_url.map(|src| view! {
            <img class="brand-logo" src=src alt="" width="28" height="28" />
        })}
        {move || organisation().name.map(|n| view! { <span class="brand-organisation">{n}</span> })}
        <span class="brand-product">{move || product_name(info)}</span>
    }
}

/// The product name once known; a neutral word until then.
pub fn product_name(info: Option<PortalInfoResource>) -> String {
    info.and_then(|r| r.get())
        .and_then(|r| r.ok())
        .map(|i| i.product_name)
        .unwrap_or_else(|| "Account help".to_owned())
}

/// Sets the document title to "`page` · product" and keeps it in step with the product name.
pub fn use_title(page: &'static str) {
    let info = use_context::<PortalInfoResource>();
    Effect::new(move |_| {
        let title = format!("{page} · {}", product_name(info));
        document().set_title(&title);
    });
}

/// A message that screen readers announce when it appears: errors are assertive,
/// everything else polite.
#[component]
pub fn Notice(#[prop(into)] kind: NoticeKind, children: Children) -> impl IntoView {
    let (class, role) = match kind {
        NoticeKind::Error => ("notice notice-error", "alert"),
        NoticeKind::Success => ("notice notice-success", "status"),
        NoticeKind::Info => ("notice notice-info", "status"),
    };
    // Errors can take focus (see `focus_first_problem`).
    let tabindex = (kind == NoticeKind::Error).then_some("-1");
    view! {
        <div class=class role=role tabindex=tabindex>
            {children()}
        </div>
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeKind {
    Error,
    Success,
    Info,
}

/// A busy indicator for anything that takes a moment.
#[component]
pub fn Loading(#[prop(into)] label: String) -> impl IntoView {
    view! {
        <p class="loading" role="status">
            <span class="spinner" aria-hidden="true"></span>
            {label}
        </p>
    }
}

/// Mounts `app` in place of the "Loading…" placeholder that the HTML page shows while
/// the bundle downloads.
pub fn mount<F, N>(app: F)
where
    F: FnOnce() -> N + 'static,
    N: IntoView,
{
    leptos::mount::mount_to_body(app);
    if !first_paint_waits() {
        reveal();
    }
}

/// Whether `index.html` painted a static page (the start or kiosk page, see the
/// `boot-*` classes there) that stays until the app's page is ready to take its place:
/// then the page calls [`reveal`] once its content is there.
fn first_paint_waits() -> bool {
    document()
        .document_element()
        .is_some_and(|html| html.class_name().starts_with("boot-"))
}

/// Replaces the first paint (`#boot` in the page) with the app's page, which was built
/// hidden beside it, in one step before the next frame: nothing on the page moves (no
/// layout shift). Focus on a link or button of the static page moves to the same one in
/// the app's. Does nothing the second time.
pub fn reveal() {
    use wasm_bindgen::JsCast;
    let Some(boot) = document().get_element_by_id("boot") else {
        return;
    };
    let focusable = "a[href], button, [tabindex]";
    let focused_at = document().active_element().and_then(|active| {
        let list = boot.query_selector_all(focusable).ok()?;
        (0..list.length()).find(|&i| {
            list.item(i)
                .is_some_and(|n| n.is_same_node(Some(active.as_ref())))
        })
    });
    boot.remove();
    if let Some(html) = document().document_element() {
        html.set_class_name("");
    }
    if let Some(i) = focused_at {
        let target = document()
            .body()
            .and_then(|body| body.query_selector_all(focusable).ok())
            .and_then(|list| list.item(i))
            .and_then(|n| n.dyn_into::<web_sys::HtmlElement>().ok());
        if let Some(t) = target {
            let _ = t.focus();
        }
    }
}

/// Reveals the app's page (see [`reveal`]) once `ready` is true, after the view it
/// depends on has been built.
pub fn reveal_when(ready: impl Fn() -> bool + 'static) {
    Effect::new(move |_| {
        if ready() {
            request_animation_frame(reveal);
        }
    });
}

/// "Skip to content" for keyboard users. It moves focus itself: the router would
/// otherwise treat `#main` as a navigation and leave focus where it was.
#[component]
pub fn SkipLink() -> impl IntoView {
    let skip = |ev: leptos::ev::MouseEvent| {
        ev.prevent_default();
        focus_main();
    };
    view! { <a class="skip-link" href="#main" on:click=skip>"Skip to content"</a> }
}

/// Puts keyboard focus at the start of the page's main content (after navigation, so
/// screen readers start reading the new page).
pub fn focus_main() {
    use wasm_bindgen::JsCast;
    if let Some(main) = document()
        .get_element_by_id("main")
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
    {
        let _ = main.focus();
    }
}

/// After a refused submit, puts focus on the first field marked invalid, or else on the
/// error notice: the submit button disables itself while busy, which would otherwise
/// drop focus to the page's body. Runs once the page shows the error.
pub fn focus_first_problem() {
    use wasm_bindgen::JsCast;
    set_timeout(
        || {
            let doc = document();
            let target = doc
                .query_selector("main [aria-invalid=\"true\"]")
                .ok()
                .flatten()
                .or_else(|| doc.query_selector("main .notice-error").ok().flatten());
            if let Some(el) = target.and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok()) {
                let _ = el.focus();
            }
        },
        std::time::Duration::ZERO,
    );
}

/// Focuses the element with `id` once it is on the page.
pub fn focus_id(id: &'static str) {
    use wasm_bindgen::JsCast;
    set_timeout(
        move || {
            if let Some(el) = document()
                .get_element_by_id(id)
                .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
            {
                let _ = el.focus();
            }
        },
        std::time::Duration::ZERO,
    );
}

/// "in 30 minutes", "in 2 hours", "in less than a minute": how long until `unix_secs`.
pub fn relative_time(unix_secs: i64) -> String {
    let now_secs = (js_sys::Date::now() / 1000.0) as i64;
    let minutes = (unix_secs - now_secs + 59).max(0) / 60;
    match minutes {
        0 => "in less than a minute".to_owned(),
        1 => "in 1 minute".to_owned(),
        m if m < 120 => format!("in {m} minutes"),
        m => format!("in {} hours", (m + 30) / 60),
    }
}

/// A moment both ways: "Tue 24 Nov, 16:41 — in 30 minutes".
pub fn absolute_and_relative(unix_secs: i64) -> String {
    format!("{} — {}", local_time(unix_secs), relative_time(unix_secs))
}

/// Seconds left until `secs` from now, counted against the clock rather than by ticks:
/// a phone slows the timers of a page in the background, and the count must still be
/// right when the person comes back. Updated every second while the component lives.
pub fn countdown(secs: u64) -> ReadSignal<u64> {
    let deadline = js_sys::Date::now() + secs as f64 * 1000.0;
    let (left, set_left) = signal(secs);
    if secs > 0 {
        if let Ok(handle) = set_interval_with_handle(
            move || {
                let ms = (deadline - js_sys::Date::now()).max(0.0);
                set_left.set((ms / 1000.0).ceil() as u64);
            },
            std::time::Duration::from_secs(1),
        ) {
            on_cleanup(move || handle.clear());
        }
    }
    left
}

/// "Too many requests from your network": a live countdown, the help desk, and when the
/// wait is over `on_done` runs (the form comes back by itself).
#[component]
pub fn RateLimited(retry_after_secs: u64, #[prop(into)] on_done: Callback<()>) -> impl IntoView {
    let left = countdown(retry_after_secs);
    Effect::new(move |_| {
        if left.get() == 0 {
            on_done.run(());
        }
    });
    let shown = move || {
        let s = left.get();
        if s >= 120 {
            format!("{} minutes", s.div_ceil(60))
        } else if s == 1 {
            "1 second".to_owned()
        } else {
            format!("{s} seconds")
        }
    };
    view! {
        <Notice kind=NoticeKind::Error>
            <p>"Too many requests from your network. Many people may share it, for example in an office."</p>
            <p>"You can try again in " <span role="timer">{shown}</span>
                ". This page continues by itself then."</p>
            <HelpDeskLine />
        </Notice>
    }
}

/// A form's submit button: disabled while its request runs, and saying so with a
/// spinner and `busy_label`, so a slow answer (an Argon2 hash, a captcha) shows progress.
#[component]
pub fn SubmitButton(
    #[prop(into)] busy: Signal<bool>,
    label: &'static str,
    busy_label: &'static str,
) -> impl IntoView {
    view! {
        <button type="submit" disabled=move || busy.get() aria-busy=move || busy.get().then_some("true")>
            {move || if busy.get() {
                view! { <span class="spinner" aria-hidden="true"></span>{busy_label} }.into_any()
            } else {
                label.into_any()
            }}
        </button>
    }
}

/// A labelled text input bound to `value`. When `error` has a message, the input is
/// marked invalid and the message is tied to it — and announced — for screen readers.
/// A password input gets a "Show" toggle, so it can be checked before sending.
#[component]
pub fn TextField(
    #[prop(into)] id: String,
    label: &'static str,
    value: RwSignal<String>,
    #[prop(into)] error: Signal<Option<String>>,
    #[prop(default = "text")] kind: &'static str,
    #[prop(default = "off")] autocomplete: &'static str,
    #[prop(optional, into)] hint: Option<String>,
    #[prop(optional)] autofocus: bool,
    #[prop(optional)] inputmode: Option<&'static str>,
) -> impl IntoView {
    let shown = RwSignal::new(false);
    let input_type = move || {
        if kind == "password" && shown.get() {
            "text"
        } else {
            kind
        }
    };
    let toggle = (kind == "password").then(|| {
        let controls = id.clone();
        view! {
            <button type="button" class="secondary reveal" aria-controls=controls
                aria-pressed=move || if shown.get() { "true" } else { "false" }
                on:click=move |_| shown.update(|s| *s = !*s)>
                "Show password"
            </button>
        }
    });
    let hint_id = format!("{id}-hint");
    let error_id = format!("{id}-error");
    let has_hint = hint.is_some();
    let described_by = {
        let hint_id = hint_id.clone();
        let error_id = error_id.clone();
        move || {
            let mut ids = Vec::new();
            if has_hint {
                ids.push(hint_id.clone());
            }
            if error.get().is_some() {
                ids.push(error_id.clone());
            }
            (!ids.is_empty()).then(|| ids.join(" "))
        }
    };
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            {hint.map(|h| view! { <span class="hint" id=hint_id.clone()>{h}</span> })}
            <input
                id=id.clone()
                name=id
                type=input_type
                autocomplete=autocomplete
                autocapitalize="none"
                spellcheck="false"
                inputmode=inputmode
                autofocus=autofocus
                aria-invalid=move || error.get().is_some().then_some("true")
                aria-describedby=described_by
                prop:value=move || value.get()
                on:input=move |ev| value.set(event_target_value(&ev))
            />
            {toggle}
            {move || error.get().map(|e| view! { <span class="field-error" id=error_id.clone() role="alert">{e}</span> })}
        </div>
    }
}

/// The message for `field` if `result` failed on it.
pub fn field_error<T>(result: Option<Result<T, ApiError>>, field: &str) -> Option<String> {
    match result {
        Some(Err(e)) if e.field() == Some(field) => Some(e.to_string()),
        _ => None,
    }
}

/// A Unix time as a short local date and time, e.g. "Tue 24 Nov, 14:05".
pub fn local_time(unix_secs: i64) -> String {
    const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let d = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(unix_secs as f64 * 1000.0));
    let day = DAYS.get(d.get_day() as usize).copied().unwrap_or_default();
    let month = MONTHS
        .get(d.get_month() as usize)
        .copied()
        .unwrap_or_default();
    format!(
        "{day} {} {month}, {:02}:{:02}",
        d.get_date(),
        d.get_hours(),
        d.get_minutes()
    )
}
