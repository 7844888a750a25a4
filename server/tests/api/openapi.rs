//! The OpenAPI description (`docs/openapi.json`, `latchkey openapi`): it describes every
//! server function the router serves, and the committed file is the current one.

#[test]
fn every_registered_server_function_is_described_and_nothing_else() {
    let (undescribed, unserved) = latchkey_server::openapi::mismatches();
    assert!(
        undescribed.is_empty(),
        "served but not described: {undescribed:?}"
    );
    assert!(
        unserved.is_empty(),
        "described but not served: {unserved:?}"
    );
    // And the document itself names each of them.
    let doc: serde_json::Value =
        serde_json::from_str(&latchkey_server::openapi::document().unwrap()).unwrap();
    for e in latchkey_app::openapi::endpoints() {
        assert!(
            doc["paths"][e.path]["post"].is_object(),
            "{} is not in the document",
            e.path
        );
    }
}

#[test]
fn docs_openapi_json_is_the_generated_one() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/openapi.json");
    let committed = std::fs::read_to_string(&path).unwrap();
    assert!(
        committed == latchkey_server::openapi::document().unwrap(),
        "docs/openapi.json is out of date: run `make openapi`"
    );
}

/// What `make fuzz` found first: a signed-in person with no required action pending gets
/// 403 `forbidden` from the required-action calls, an answer the description left out.
/// Each such answer is now in it, with its schema.
#[tokio::test]
async fn required_action_calls_with_nothing_pending_answer_a_described_forbidden() {
    use serde_json::json;

    let app = crate::harness::spawn_app().await;
    let (status, body) = app.sign_in("alice", "lantern-orbit-meadow").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["account"]["required_action"], serde_json::Value::Null);
    let doc: serde_json::Value =
        serde_json::from_str(&latchkey_server::openapi::document().unwrap()).unwrap();
    for (endpoint, input) in [
        ("device_authorize", json!({ "code": "123456" })),
        (
            "change_password",
            json!({ "current": "lantern-orbit-meadow", "password": "x", "confirm": "x" }),
        ),
        ("accept_aup", json!({ "version": 0 })),
        (
            "update_profile",
            json!({ "profile": { "display_name": "A", "email": "a@example.org", "phone": "" } }),
        ),
    ] {
        let (status, answer) = app.api().post(endpoint, input).await;
        assert_eq!(status, 403, "{endpoint}: {answer}");
        assert_eq!(answer, json!({ "kind": "forbidden" }), "{endpoint}");
        let described = &doc["paths"][format!("/api/{endpoint}")]["post"]["responses"]["403"];
        let text = described.to_string();
        assert!(
            text.contains("ForbiddenError"),
            "{endpoint}: 403 forbidden is not described: {text}"
        );
    }
}

/// The second: a captcha solution's `number` above 2^63 - 1 is read by the server (a
/// `u64`; it is simply a wrong answer), but the description said `int64`, which tells
/// clients such numbers are refused. It now says `uint64`.
#[tokio::test]
async fn a_captcha_number_above_the_signed_range_is_read_as_the_description_says() {
    use serde_json::json;

    let doc: serde_json::Value =
        serde_json::from_str(&latchkey_server::openapi::document().unwrap()).unwrap();
    let number = &doc["components"]["schemas"]["CaptchaSolution"]["properties"]["number"];
    assert_eq!(number["format"], "uint64", "{number}");
    assert!(number.get("maximum").is_none(), "{number}");
    let app = crate::harness::spawn_app().await;
    let (status, answer) = app
        .api()
        .post(
            "flow_answer",
            json!({ "flow_id": "", "step": 0, "answer": { "factor": "captcha", "solution": {
                "algorithm": "", "challenge": "", "number": 9_223_372_036_854_775_808_u64,
                "salt": "", "signature": "" } } }),
        )
        .await;
    assert_ne!(answer["kind"], "invalid", "{status} {answer}");
}
