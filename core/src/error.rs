//! The domain's error type. The web edge maps each variant once to a response.

use crate::store::StoreError;

/// A piece of input that was refused, naming the field so the user can fix it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct Invalid {
    pub field: &'static str,
    pub message: String,
}

impl Invalid {
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
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
    #[error("not found")]
    NotFound,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("internal error: {0}")]
    Internal(String),
}
