//! [`Latchkey`]: the domain's entry point. It holds the store and the injected clock,
//! randomness, keys and password hasher; every use case is a method on it, in the module
//! of its concept (`signin`, `selfservice`, `policy`, …), taking the acting [`Caller`]
//! where an operator may act, so that the web layer and the command line call one
//! function per action and [`crate::authz`] decides once who may.

use std::sync::Arc;

use crate::audit::{BrokenChain, Caller};
use crate::authz::{self, Permission, Target};
use crate::clock::Clock;
use crate::directory::Directories;
use crate::error::CoreError;
use crate::keys::Keys;
use crate::organisation::OrganisationId;
use crate::outbox::{Notification, Outgoing, Recipient};
use crate::password::{HashError, PasswordHasher};
use crate::random::Random;
use crate::session::SessionSettings;
use crate::settings::SelfServiceSettings;
use crate::settings::SupportSettings;
use crate::store::{Read, Store};
use crate::throttle::{ClientLimitSettings, ClientLimits};

/// What a [`Latchkey`] is made of: the store, the injected clock and randomness, the
/// keys, the hasher, and the rules from configuration.
pub struct Parts {
    pub store: Arc<dyn Store>,
    pub hasher: PasswordHasher,
    pub clock: Arc<dyn Clock>,
    pub random: Arc<dyn Random>,
    pub keys: Keys,
    pub sessions: SessionSettings,
    pub self_service: SelfServiceSettings,
    pub client_limits: ClientLimitSettings,
    pub support: SupportSettings,
}

#[derive(Clone)]
pub struct Latchkey {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) hasher: PasswordHasher,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) random: Arc<dyn Random>,
    pub(crate) keys: Keys,
    pub(crate) sessions: SessionSettings,
    pub(crate) self_service: SelfServiceSettings,
    pub(crate) limits: ClientLimits,
    pub(crate) support: SupportSettings,
    /// The directory identity stores' connectors (none until the server adds them).
    pub(crate) directories: Directories,
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

impl Latchkey {
    /// The hashing pool, for its load figures (metrics).
    pub fn hasher(&self) -> &PasswordHasher {
        &self.hasher
    }

    pub fn new(parts: Parts) -> Self {
        Self {
            store: parts.store,
            hasher: parts.hasher,
            clock: parts.clock,
            random: parts.random,
            keys: parts.keys,
            sessions: parts.sessions,
            self_service: parts.self_service,
            limits: ClientLimits::new(parts.client_limits),
            support: parts.support,
            directories: Directories::default(),
        }
    }

    /// The same service, reaching these directory identity stores.
    pub fn with_directories(mut self, directories: Directories) -> Self {
        self.directories = directories;
        self
    }

    /// The self-service rules in force (the web layer pads answers to `response_time`).
    pub fn self_service_settings(&self) -> &SelfServiceSettings {
        &self.self_service
    }

    /// `notification` for `to`, ready for the outbox (its code sealed).
    pub(crate) fn outgoing(
        &self,
        to: Recipient,
        organisation: OrganisationId,
        notification: Notification,
    ) -> Outgoing {
        Outgoing::new(
            to,
            organisation,
            notification,
            &self.keys,
            self.random.as_ref(),
        )
    }

    /// A connection for reads. Hold it only for the reads: never across a hash or while
    /// opening a transaction, or concurrent requests can take every pooled connection
    /// and wait for each other.
    pub(crate) async fn read(&self) -> Result<Box<dyn Read>, CoreError> {
        Ok(self.store.read().await?)
    }

    /// Whether the database answers (for `/readyz`).
    pub async fn ready(&self) -> Result<(), CoreError> {
        Ok(self.store.ping().await?)
    }

    /// Walks the whole audit log and checks every link of its hash chain.
    pub async fn verify_audit_log(&self, caller: &Caller) -> Result<AuditVerification, CoreError> {
        authz::check(&caller.actor, Permission::ReadHistory, Target::Everywhere)?;
        self.verify_chain().await
    }

    /// The chain's check, for whoever may see its result (see `history::chain_state`).
    pub(crate) async fn verify_chain(&self) -> Result<AuditVerification, CoreError> {
        let mut read = self.read().await?;
        Ok(crate::store::verify_stored_chain(read.as_mut()).await?)
    }
}
