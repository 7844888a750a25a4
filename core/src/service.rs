//! [`Latchkey`]: the domain's entry point. It holds the store and the injected clock,
//! randomness and password hasher; each use case is a method in its own module
//! (`signin`, …), so the web layer calls one function per action.

use std::sync::Arc;

use crate::audit::{verify_chain, BrokenChain, ChainCursor};
use crate::clock::Clock;
use crate::error::CoreError;
use crate::keys::Keys;
use crate::password::{HashError, PasswordHasher};
use crate::random::Random;
use crate::selfservice::SelfServiceSettings;
use crate::session::SessionSettings;
use crate::store::{Store, StoreError};
use crate::throttle::ClientLimits;

#[derive(Clone)]
pub struct Latchkey {
    pub store: Arc<dyn Store>,
    pub hasher: PasswordHasher,
    pub clock: Arc<dyn Clock>,
    pub random: Arc<dyn Random>,
    pub sessions: SessionSettings,
    pub keys: Keys,
    pub self_service: SelfServiceSettings,
    pub limits: Arc<ClientLimits>,
}

impl From<HashError> for CoreError {
    fn from(e: HashError) -> Self {
        match e {
            HashError::Busy { retry_after_secs } => CoreError::Busy { retry_after_secs },
            HashError::Internal(reason) => CoreError::Internal(reason),
        }
    }
}

/// The result of checking the audit log's hash chain.
#[derive(Debug)]
pub enum AuditVerification {
    Intact { records: u64 },
    Broken(BrokenChain),
}

/// Records read per round trip when verifying the audit log.
const AUDIT_PAGE: u32 = 1000;

impl Latchkey {
    /// Walks the whole audit log and checks every link of its hash chain.
    pub async fn verify_audit_log(store: &dyn Store) -> Result<AuditVerification, StoreError> {
        let mut cursor = ChainCursor::default();
        loop {
            let page = store.audit_records(cursor.last_seq, AUDIT_PAGE).await?;
            if page.is_empty() {
                return Ok(AuditVerification::Intact {
                    records: cursor.checked,
                });
            }
            if let Err(broken) = verify_chain(&mut cursor, &page) {
                return Ok(AuditVerification::Broken(broken));
            }
        }
    }
}
