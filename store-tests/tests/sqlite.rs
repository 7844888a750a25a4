//! The embedded SQLite store keeps the contract (`latchkey-store-tests`).
#![allow(clippy::unwrap_used)]

use latchkey_core::store::{open, Database};
use latchkey_store_tests::{conformance_tests, Opened};

/// A fresh database file in a temporary directory that lives as long as the store.
async fn fresh_sqlite() -> Opened {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&Database::Sqlite {
        path: dir.path().join("conformance.sqlite3"),
        bare: false,
    })
    .await
    .unwrap();
    Opened::new(store, dir)
}

conformance_tests!(fresh_sqlite);
