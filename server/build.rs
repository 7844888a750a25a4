//! Finds the Trunk-built bundles under `dist/` and hands them to memory-serve, which
//! embeds (and brotli-compresses) them in release builds and reads them from disk in
//! debug builds. Each bundle's HTML page is always compiled in, because the server
//! rewrites it per request (the CSP nonce).
//!
//! A missing bundle is not an error: `cargo test` of the domain does not need the
//! browser build, and the server answers such pages with a 503 that says what to run.

use std::fmt::Write as _;
use std::path::PathBuf;

/// (name, directory under dist/, its HTML page)
const BUNDLES: &[(&str, &str, &str)] = &[
    ("portal", "portal", "index.html"),
    ("signed_in", "signed-in", "index.html"),
    ("console", "console", "index.html"),
];

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default());
    let dist = manifest.join("..").join("dist");
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap_or_default());
    println!("cargo::rerun-if-changed={}", dist.display());
    println!("cargo::rerun-if-env-changed=LATCHKEY_EMBED_ASSETS");
    let embed = match std::env::var("LATCHKEY_EMBED_ASSETS").as_deref() {
        Ok("1") | Ok("true") => true,
        Ok("0") | Ok("false") => false,
        _ => std::env::var("PROFILE").as_deref() == Ok("release"),
    };

    let mut dirs = Vec::new();
    let mut pages = String::new();
    for (name, dir, page) in BUNDLES {
        let dir = dist.join(dir);
        let page_path = dir.join(page);
        println!("cargo::rerun-if-changed={}", page_path.display());
        let page_const = format!("{}_PAGE", name.to_uppercase());
        match std::fs::read_to_string(&page_path) {
            Ok(html) => {
                let copy = out.join(format!("{name}.html"));
                if let Err(e) = std::fs::write(&copy, html) {
                    println!("cargo::error=cannot write {}: {e}", copy.display());
                    return;
                }
                let _ = writeln!(
                    pages,
                    "pub const {page_const}: Option<&str> = Some(include_str!(r\"{}\"));",
                    copy.display()
                );
                dirs.push((name.to_string(), dir));
            }
            Err(_) => {
                println!(
                    "cargo::warning=bundle `{name}` not built ({} missing); run `make frontend`",
                    page_path.display()
                );
                let _ = writeln!(pages, "pub const {page_const}: Option<&str> = None;");
            }
        }
    }
    if let Err(e) = std::fs::write(out.join("bundle_pages.rs"), pages) {
        println!("cargo::error=cannot write bundle_pages.rs: {e}");
        return;
    }
    std::env::set_var("MEMORY_SERVE_QUIET", "1");
    memory_serve::load_names_directories(dirs, embed);
}
