//! PostgreSQL keeps the contract (`latchkey-store-tests`), on a throwaway cluster this
//! test process starts (`scripts/throwaway-postgres.sh`): once with one connection pool,
//! and once spread over three pools opened at the same moment on one new database — as
//! three servers starting together would, which also races their migrations.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use latchkey_core::store::{open, Store};
use latchkey_store_tests::postgres::PgCluster;
use latchkey_store_tests::{conformance_tests, Opened, Spread};

/// A new database on the shared cluster.
async fn fresh_postgres() -> Opened {
    let database = PgCluster::shared().fresh().await;
    Opened::new(open(&database).await.unwrap(), ())
}

/// Three stores opened at once on one new database (each migrating if it gets there
/// first), taking turns to serve the suite.
async fn three_pools() -> Opened {
    let database = PgCluster::shared().fresh().await;
    let (a, b, c) = tokio::join!(open(&database), open(&database), open(&database));
    let stores: Vec<Arc<dyn Store>> = vec![a.unwrap(), b.unwrap(), c.unwrap()];
    Opened::new(Arc::new(Spread::new(stores)), ())
}

conformance_tests!(fresh_postgres);

mod spread_over_three_pools {
    use super::three_pools;
    latchkey_store_tests::conformance_tests!(three_pools);
}
