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
