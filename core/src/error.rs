//! The domain's error type. The web edge maps each variant once to a response.

use std::borrow::Cow;

/// A piece of input that was refused, naming the field so the user can fix it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct Invalid {
    /// The field's name as the request spells it, e.g. `username` or
    /// `questions[1].answer`.
    pub field: Cow<'static, str>,
    pub message: String,
}

impl Invalid {
    pub fn new(field: impl Into<Cow<'static, str>>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    #[error(transparent)]
    Invalid(#[from] Invalid),
    /// Too much work queued (password hashing); the caller should retry shortly.
    #[error("busy, retry in {retry_after_secs} s")]
    Busy { retry_after_secs: u64 },
    /// Too many requests or failures from this client; retry later.
    #[error("rate limited, retry in {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    /// Nothing there — or nothing the caller may know is there (see `crate::authz`).
    #[error("not found")]
    NotFound,
    /// The caller's roles do not allow it.
    #[error("forbidden")]
    Forbidden,
    /// The signed-in person must first do this required action (see `crate::required`).
    #[error("required action pending: {0:?}")]
    ActionRequired(latchkey_types::RequiredAction),
    /// An account that may not be resecured now, and why.
    #[error("resecure refused: {0:?}")]
    ResecureBlocked(latchkey_types::console::ResecureBlock),
    /// An operator may not unlock this account now (seed 004's helpdesk policy).
    #[error("unlock refused: {0:?}")]
    UnlockRefused(latchkey_types::console::UnlockRefusal),
    /// A self-service flow cannot take this request.
    #[error(transparent)]
    Flow(#[from] FlowError),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A directory identity store could not do it (named in the message).
    #[error(transparent)]
    Directory(#[from] crate::directory::DirectoryFailure),
    #[error("internal error: {0}")]
    Internal(String),
}

/// Why an action is refused (see `crate::authz`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    /// Outside the actor's organisations: reported as if it did not exist.
    #[error("not found")]
    NotFound,
    /// Within reach, but the actor's roles do not carry the permission.
    #[error("forbidden")]
    Forbidden,
}

impl From<Denied> for CoreError {
    fn from(d: Denied) -> Self {
        match d {
            Denied::NotFound => CoreError::NotFound,
            Denied::Forbidden => CoreError::Forbidden,
        }
    }
}

/// What went wrong in the store. The database's own errors stay inside: callers learn
/// only that the store failed, or that a uniqueness rule was broken.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("cannot open database {path}: {reason}")]
    Open { path: String, reason: String },
    /// The `database` setting names no store Latchkey can open.
    #[error("invalid setting `database`: {0}")]
    Url(String),
    /// A uniqueness rule was broken (e.g. the username exists in that store).
    #[error("{0} already exists")]
    Conflict(&'static str),
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
    /// `latchkey copy-to` refused, or found the copy different from its source.
    #[error("copy: {0}")]
    Copy(String),
    /// `latchkey backup`/`restore` refused or failed (names the file).
    #[error("{0}")]
    Backup(String),
    /// A restore found a server using the database.
    #[error("{0} is in use by a running server: stop every server on it, then restore")]
    InUse(String),
}

/// Why a self-service flow refused a request. The flow id is a secret, so an unknown id
/// is reported like an expired one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FlowError {
    #[error("the flow has expired or does not exist")]
    Expired,
    #[error("the flow has already ended")]
    Finished,
    /// A request for a step other than the current one (skipping, repeating, reordering).
    #[error("the flow is not at that step")]
    OutOfOrder,
}
