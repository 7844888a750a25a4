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
