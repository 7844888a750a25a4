use serde_json::json;

use crate::harness::{json, spawn_app};

async fn call_raw(
    app: &crate::harness::TestApp,
    endpoint: &str,
    body: Vec<u8>,
) -> (u16, serde_json::Value) {
    let res = app
        .raw(endpoint)
        .header("origin", &app.base)
        .body(body)
        .send()
        .await
        .unwrap();
    json(res).await
}

#[tokio::test]
async fn unknown_fields_are_refused_by_name() {
    let app = spawn_app().await;
    let (status, body) = json(app.call("portal_info", json!({ "admin": true })).await).await;
    assert_eq!(status, 400);
    assert_eq!(body["kind"], "invalid");
    assert_eq!(body["field"], "admin");
}

#[tokio::test]
async fn malformed_bodies_are_refused_without_harm() {
    let app = spawn_app().await;
    for body in [
        b"{".to_vec(),
        b"not json".to_vec(),
        vec![0xff, 0xfe, 0x00],
        b"{} {}".to_vec(),
        b"[]".to_vec(),
    ] {
        let (status, err) = call_raw(&app, "portal_info", body.clone()).await;
        assert_eq!(status, 400, "{:?}", String::from_utf8_lossy(&body));
        assert_eq!(err["field"], "body");
    }
    // The server is still fine.
    assert_eq!(app.call("portal_info", json!({})).await.status(), 200);
}

#[tokio::test]
async fn oversized_bodies_are_refused() {
    let app = spawn_app().await;
    let huge = format!("{{\"x\":\"{}\"}}", "a".repeat(200 * 1024));
    let res = app
        .raw("portal_info")
        .header("origin", &app.base)
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 413);
}

#[tokio::test]
async fn unknown_endpoints_are_404() {
    let app = spawn_app().await;
    let (status, body) = json(app.call("no_such_function", json!({})).await).await;
    assert_eq!(status, 404);
    assert_eq!(body["kind"], "not_found");
}
