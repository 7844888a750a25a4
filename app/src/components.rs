//! Pieces shared by the portal's and the console's pages.

use leptos::prelude::*;

use crate::api::portal::PortalInfo;
use crate::error::ApiError;

/// The portal information, loaded once per page load and shared through context.
pub type PortalInfoResource = LocalResource<Result<PortalInfo, ApiError>>;

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
    view! {
        <div class=class role=role>
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
    if let Some(placeholder) = document().get_element_by_id("boot") {
        placeholder.remove();
    }
    leptos::mount::mount_to_body(app);
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

/// A labelled text input bound to `value`. When `error` has a message, the input is
/// marked invalid and the message is tied to it for screen readers.
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
                type=kind
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
            {move || error.get().map(|e| view! { <span class="field-error" id=error_id.clone()>{e}</span> })}
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
