use serde_json::json;

use crate::harness::{json, spawn_app};

#[tokio::test]
async fn a_cross_site_post_is_refused() {
    let app = spawn_app().await;
    let res = app
        .raw("portal_info")
        .header("origin", "https://evil.example")
        .body("{}")
        .send()
        .await
        .unwrap();
    let (status, body) = json(res).await;
    assert_eq!(status, 403);
    assert_eq!(body["kind"], "cross_site");

    // Neither Origin nor Sec-Fetch-Site: refused too.
    let res = app.raw("portal_info").body("{}").send().await.unwrap();
    assert_eq!(res.status(), 403);

    // Sec-Fetch-Site from a browser on our own pages is enough.
    let res = app
        .raw("portal_info")
        .header("sec-fetch-site", "same-origin")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn server_functions_accept_only_post() {
    let app = spawn_app().await;
    let res = app
        .client
        .get(app.url("/api/portal_info"))
        .header("origin", &app.base)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 405);
}

#[tokio::test]
async fn security_headers_on_pages_and_calls() {
    let app = spawn_app().await;
    let page = app.get("/").await;
    let call = app.call("portal_info", json!({})).await;
    for res in [&page, &call] {
        let h = res.headers();
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert_eq!(h["referrer-policy"], "no-referrer");
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert!(!csp.contains("unsafe-inline"), "{csp}");
        // The base URL is http here, so no HSTS.
        assert!(!h.contains_key("strict-transport-security"));
    }
    let csp = page.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("'wasm-unsafe-eval'"), "{csp}");
    assert_eq!(call.headers()["cache-control"], "no-store");
}

#[tokio::test]
async fn hsts_is_sent_when_the_base_url_is_https() {
    let app = crate::harness::spawn_app_with(|c| {
        c.base_url = "https://unlock.example.org".to_owned();
    })
    .await;
    let res = app.get("/healthz").await;
    assert!(res.headers()["strict-transport-security"]
        .to_str()
        .unwrap()
        .starts_with("max-age="));
}
