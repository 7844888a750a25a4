//! The signed-in bundle: sign-in, the person's account with its enrolment forms, and the
//! required actions after a resecure or MFA reset. Served at `SIGNED_IN_PATHS`.

#[cfg(target_arch = "wasm32")]
fn main() {
    console_error_panic_hook::set_once();
    latchkey_app::components::mount(latchkey_app::portal::SignedInApp);
}

/// The bundle exists only for the browser; on the host this binary is empty.
#[cfg(not(target_arch = "wasm32"))]
fn main() {}
