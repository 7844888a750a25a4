//! The recovery bundle: what a locked-out person loads, often on a phone — home, unlock
//! and reset on every channel, the kiosk page. Kept small (see `frontend/budget.toml`).

#[cfg(target_arch = "wasm32")]
fn main() {
    console_error_panic_hook::set_once();
    latchkey_app::components::mount(latchkey_app::portal::RecoveryApp);
}

/// The bundle exists only for the browser; on the host this binary is empty.
#[cfg(not(target_arch = "wasm32"))]
fn main() {}
