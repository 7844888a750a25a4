// Linking the app crate is what registers its server functions.
use latchkey_app as _;

fn main() -> std::process::ExitCode {
    latchkey_server::cli::run()
}
