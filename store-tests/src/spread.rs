//! Several stores on one database behind one [`Store`]: each read and transaction goes to
//! the next store in turn, so the conformance groups run as if several servers shared the
//! database (each store its own connection pool).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use latchkey_core::store::{Read, Store, StoreError, Tx};

pub struct Spread {
    stores: Vec<Arc<dyn Store>>,
    next: AtomicUsize,
}

impl Spread {
    pub fn new(stores: Vec<Arc<dyn Store>>) -> Self {
        assert!(!stores.is_empty());
        Self {
            stores,
            next: AtomicUsize::new(0),
        }
    }

    fn pick(&self) -> &Arc<dyn Store> {
        let i = self.next.fetch_add(1, Ordering::Relaxed);
        &self.stores[i % self.stores.len()]
    }
}

#[async_trait]
impl Store for Spread {
    async fn ping(&self) -> Result<(), StoreError> {
        self.pick().ping().await
    }

    async fn read(&self) -> Result<Box<dyn Read>, StoreError> {
        self.pick().read().await
    }

    async fn begin(&self) -> Result<Box<dyn Tx>, StoreError> {
        self.pick().begin().await
    }

    async fn close(&self) {
        for store in &self.stores {
            store.close().await;
        }
    }
}
