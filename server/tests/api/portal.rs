use serde_json::json;

use crate::harness::{json, spawn_app, spawn_app_with};

#[tokio::test]
async fn portal_info_reports_product_name_and_channels() {
    let app = spawn_app().await;
    let (status, body) = json(app.call("portal_info", json!({})).await).await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        json!({
            "product_name": "Latchkey",
            "organisation": { "name": null, "logo_url": null },
            "help_desk": { "phone": null, "hours": null, "url": null, "text": null },
            "channels": ["web", "mobile", "desktop"],
            "signed_in": false
        })
    );
}

#[tokio::test]
async fn portal_info_follows_the_configuration() {
    let app = spawn_app_with(|c| {
        c.product_name = "Northwind Unlock".to_owned();
        c.channels = vec![latchkey_core::settings::Channel::Mobile];
        c.organisation.name = Some("Northwind Health".to_owned());
        c.organisation.logo_url = Some("https://cdn.northwind.example/logo.svg".to_owned());
        c.help_desk.phone = Some("+1 555 0100".to_owned());
        c.help_desk.text = Some("Or visit the IT desk on floor 2.".to_owned());
    })
    .await;
    let (status, body) = json(app.call("portal_info", json!({})).await).await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        json!({
            "product_name": "Northwind Unlock",
            "organisation": { "name": "Northwind Health", "logo_url": "https://cdn.northwind.example/logo.svg" },
            "help_desk": { "phone": "+1 555 0100", "hours": null, "url": null,
                           "text": "Or visit the IT desk on floor 2." },
            "channels": ["mobile"],
            "signed_in": false
        })
    );
    // The pages may show the logo from its site, and from no other.
    let csp = app.get("/").await.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("img-src 'self' https://cdn.northwind.example;"),
        "{csp}"
    );
    let manifest: serde_json::Value = app.get("/manifest.webmanifest").await.json().await.unwrap();
    assert_eq!(manifest["name"], "Northwind Unlock — Northwind Health");
}

#[tokio::test]
async fn client_routes_load_the_portal_page_and_missing_files_are_404() {
    let app = spawn_app().await;
    for path in ["/", "/unlock", "/reset/anything"] {
        let res = app.get(path).await;
        assert_eq!(res.status(), 200, "{path}");
        let csp = res.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_owned();
        let html = res.text().await.unwrap();
        assert!(
            html.contains("<div id=\"boot\""),
            "{path} serves the portal page"
        );
        // The loader's nonce is fresh and is the one the policy allows.
        let nonce = html
            .split("nonce=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap();
        assert!(!nonce.contains("TRUNK"), "placeholder replaced");
        assert!(csp.contains(&format!("'nonce-{nonce}'")), "{csp}");
    }
    let missing = app.get("/no-such-file.js").await;
    assert_eq!(missing.status(), 404);
}

#[tokio::test]
async fn the_console_is_its_own_bundle() {
    let app = spawn_app().await;
    let portal = app.get("/").await.text().await.unwrap();
    let console = app.get("/console/users").await.text().await.unwrap();
    assert!(
        console.contains("/console/console-"),
        "console assets under /console"
    );
    assert!(
        !portal.contains("console-"),
        "the portal page never loads console code"
    );
    let asset = console
        .split("import init, * as bindings from '")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .unwrap();
    let res = app.get(asset).await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
}

/// The loader's script in a bundle's page (where its code is served).
fn loader_script(page: &str) -> &str {
    page.split("import init, * as bindings from '")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .unwrap()
}

#[tokio::test]
async fn signed_in_pages_are_their_own_bundle_and_recovery_pages_never_load_it() {
    let app = spawn_app().await;
    for path in ["/sign-in", "/account", "/required"] {
        let res = app.get(path).await;
        assert_eq!(res.status(), 200, "{path}");
        let page = res.text().await.unwrap();
        let script = loader_script(&page);
        assert!(
            script.starts_with("/signed-in/signed-in-"),
            "{path}: {script}"
        );
        assert!(
            !page.contains("{{__TRUNK NONCE__}}"),
            "{path}: nonce placeholder replaced"
        );
        let code = app.get(script).await;
        assert_eq!(code.status(), 200, "{script}");
    }
    for path in ["/", "/unlock", "/reset", "/desktop", "/no-such-page"] {
        let page = app.get(path).await.text().await.unwrap();
        let script = loader_script(&page).to_owned();
        assert!(script.starts_with("/portal-"), "{path}: {script}");
        assert!(
            !page.contains("signed-in-"),
            "{path} loads no signed-in code"
        );
    }
}

#[tokio::test]
async fn portal_info_says_whether_this_browser_is_signed_in() {
    let app = spawn_app().await;
    let signed_in = || async {
        let (status, body) = json(app.call("portal_info", json!({})).await).await;
        assert_eq!(status, 200);
        body["signed_in"].clone()
    };
    assert_eq!(signed_in().await, false);
    assert_eq!(
        app.sign_in("alice", "lantern-orbit-meadow").await.1["result"],
        "signed_in"
    );
    assert_eq!(signed_in().await, true);
    assert_eq!(app.call("sign_out", json!({})).await.status(), 200);
    assert_eq!(signed_in().await, false);
}

#[tokio::test]
async fn pages_are_sent_brotli_compressed_to_browsers_that_take_it() {
    let app = spawn_app().await;
    for path in ["/", "/sign-in", "/console/"] {
        let plain = app.get(path).await;
        assert_eq!(plain.headers().get("content-encoding"), None, "{path}");
        let plain = plain.text().await.unwrap();
        let res = app
            .client
            .get(app.url(path))
            .header("accept-encoding", "gzip, deflate, br")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{path}");
        assert_eq!(res.headers()["content-encoding"], "br", "{path}");
        assert_eq!(res.headers()["vary"], "accept-encoding", "{path}");
        let bytes = res.bytes().await.unwrap();
        let mut html = String::new();
        std::io::Read::read_to_string(&mut brotli::Decompressor::new(&bytes[..], 4096), &mut html)
            .unwrap();
        assert!(bytes.len() < html.len(), "{path}: compressed");
        assert!(html.contains("<div id=\"boot\""), "{path}: {html}");
        // The same page apart from its fresh nonce.
        let nonce = |page: &str| page.split("nonce=\"").nth(1).unwrap()[..24].to_owned();
        assert_eq!(
            html.replace(&nonce(&html), ""),
            plain.replace(&nonce(&plain), ""),
            "{path}"
        );
    }
}

#[tokio::test]
async fn the_manifest_is_revalidated_by_etag() {
    let app = spawn_app().await;
    let first = app.get("/manifest.webmanifest").await;
    assert_eq!(first.status(), 200);
    let etag = first.headers()["etag"].to_str().unwrap().to_owned();
    assert!(etag.starts_with('"') && etag.len() > 10, "{etag}");
    let again = |tag: &str| {
        app.client
            .get(app.url("/manifest.webmanifest"))
            .header("if-none-match", tag)
            .send()
    };
    let unchanged = again(&etag).await.unwrap();
    assert_eq!(unchanged.status(), 304);
    assert_eq!(unchanged.headers()["etag"], etag.as_str());
    assert!(unchanged.bytes().await.unwrap().is_empty());
    let other = again("\"something-else\"").await.unwrap();
    assert_eq!(other.status(), 200);
    assert_eq!(other.headers()["etag"], etag.as_str());
}
