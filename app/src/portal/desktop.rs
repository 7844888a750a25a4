//! The desktop kiosk: the page behind "Locked your account?" under a computer's sign-in
//! screen. Large controls, no way to navigate elsewhere, and it resets itself after a
//! couple of minutes without input so the next person starts clean.

use std::time::Duration;

use leptos::prelude::*;

use super::selfservice::{KioskReset, SelfService};
use crate::components::{
    reveal_when, use_title, Brand, HelpDeskLine, PortalInfoResource, SkipLink,
};
use latchkey_types::{Channel, FlowAction};

/// Idle time after which the kiosk goes back to its start.
const IDLE_RESET: Duration = Duration::from_secs(120);

#[component]
pub fn Kiosk() -> impl IntoView {
    use_title("Locked your account?");
    // The static first paint (index.html) stays until the help desk line is known.
    let info = use_context::<PortalInfoResource>();
    reveal_when(move || info.is_none_or(|r| r.get().is_some()));
    let choice = RwSignal::new(None::<FlowAction>);
    // When someone last touched the kiosk, in ms since the epoch. A timestamp rather than
    // a count of ticks: a browser may slow timers down on a page it thinks nobody
    // watches, and the quiet time must still be measured right.
    let last_input = StoredValue::new(js_sys::Date::now());
    // The outcome shows: only "Finish" is left to press.
    let ended = RwSignal::new(false);
    let reset = Callback::new(move |()| {
        choice.set(None);
        ended.set(false);
        last_input.set_value(js_sys::Date::now());
    });
    provide_context(KioskReset { reset, ended });

    for event in ["keydown", "pointerdown", "input"] {
        let handle = window_event_listener_untyped(event, move |_| {
            last_input.set_value(js_sys::Date::now())
        });
        on_cleanup(move || handle.remove());
    }
    const TICK: Duration = Duration::from_secs(5);
    if let Ok(handle) = set_interval_with_handle(
        move || {
            let quiet_ms = js_sys::Date::now() - last_input.get_value();
            if quiet_ms >= IDLE_RESET.as_millis() as f64 && choice.get_untracked().is_some() {
                reset.run(());
            }
        },
        TICK,
    ) {
        on_cleanup(move || handle.clear());
    }

    view! {
        <SkipLink />
        <header class="site-header kiosk-header">
            <span class="brand"><Brand /></span>
        </header>
        <main id="main" tabindex="-1" class="kiosk">
            {move || match choice.get() {
                None => view! {
                    <h1>"Locked your account?"</h1>
                    <p class="lead">"Get back in yourself. It takes a minute or two."</p>
                    <div class="kiosk-actions">
                        <button type="button" class="kiosk-button" on:click=move |_| choice.set(Some(FlowAction::Unlock))>
                            "Unlock my account"
                        </button>
                        <button type="button" class="kiosk-button secondary" on:click=move |_| choice.set(Some(FlowAction::ResetPassword))>
                            "Reset my password"
                        </button>
                    </div>
                    // Under a locked screen there is no other way to find it.
                    <HelpDeskLine prominent=true links=false />
                    <p class="hint">"This screen clears itself after two minutes without use."</p>
                }.into_any(),
                Some(action) => view! {
                    <SelfService action channel=Channel::Desktop />
                    {move || (!ended.get()).then(|| view! {
                        <p class="kiosk-cancel">
                            <button type="button" class="secondary" on:click=move |_| reset.run(())>"Cancel and start over"</button>
                        </p>
                    })}
                    <HelpDeskLine links=false />
                }.into_any(),
            }}
        </main>
    }
}
