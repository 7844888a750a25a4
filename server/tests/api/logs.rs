//! Structured logs: JSON lines when the output is not a terminal, every line a request
//! causes carrying its id, and the audit records it wrote named by sequence number.

use serde_json::{json, Value};

use crate::harness::{seed_demo, ServerProcess};

#[tokio::test]
async fn each_request_is_named_in_the_lines_it_causes_and_leads_to_its_audit_records() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("latchkey.sqlite3");
    seed_demo(&database).await.close().await;
    // Its output goes to a file: not a terminal, so JSON without being asked.
    let mut server = ServerProcess::start(&database, &[("RUST_LOG", "info")]).await;
    let res = reqwest::Client::new()
        .post(server.api.url("/api/sign_in"))
        .header("origin", &server.api.base)
        .header("x-request-id", "forged-by-the-client")
        .json(&json!({ "username": "bob", "password": "not-the-password" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let id = res.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_ne!(
        id, "forged-by-the-client",
        "request ids are the server's own"
    );
    assert_eq!(id.len(), 36, "a UUID: {id}");
    server.kill();

    let log = server.log();
    let lines: Vec<Value> = log
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    assert!(
        lines.len() >= 3 && lines.iter().all(|l| l["timestamp"].is_string()),
        "JSON lines when not on a terminal:\n{log}"
    );
    let of_request: Vec<&Value> = lines
        .iter()
        .filter(|l| l["span"]["request_id"] == id.as_str())
        .collect();
    let audit = of_request
        .iter()
        .find(|l| l["message"] == "audit record written" && l["action"] == "sign_in")
        .unwrap_or_else(|| panic!("no audit line in request {id}:\n{log}"));
    assert_eq!(audit["outcome"], "failure");
    assert_eq!(audit["span"]["path"], "/api/sign_in");
    assert!(audit["audit_seq"].as_i64().unwrap() > 0, "{audit}");
    assert!(!log.contains("forged-by-the-client"), "{log}");
    assert!(!log.contains("not-the-password"), "{log}");
}
