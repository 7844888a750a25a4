//! Accounts and the values they are made of. Constructors validate, so a value of
//! these types is always well-formed.

use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

use time::OffsetDateTime;

pub use latchkey_types::AccountStatus;

use crate::error::Invalid;
use crate::lockout::LockState;
use crate::organisation::{OrganisationId, StoreId};
use crate::random::{self, Random};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AccountId(pub i64);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PersonId(pub i64);

/// Longest username accepted anywhere; longer input is refused before any lookup.
pub const USERNAME_MAX_CHARS: usize = 128;
const EMAIL_MAX_CHARS: usize = 254;
const DISPLAY_NAME_MAX_CHARS: usize = 200;

/// A username as stored and compared: Unicode NFKC, lower case, no surrounding space.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Username(String);

impl Username {
    /// Normalises what a person typed. `field` names the form field in the error.
    pub fn parse(field: &'static str, input: &str) -> Result<Self, Invalid> {
        let normalised: String = input.trim().nfkc().collect::<String>().to_lowercase();
        if normalised.is_empty() {
            return Err(Invalid::new(field, "Enter your username."));
        }
        if normalised.chars().count() > USERNAME_MAX_CHARS {
            return Err(Invalid::new(
                field,
                format!("A username has at most {USERNAME_MAX_CHARS} characters."),
            ));
        }
        if normalised
            .chars()
            .any(|c| c.is_control() || c.is_whitespace())
        {
            return Err(Invalid::new(
                field,
                "A username cannot contain spaces or control characters.",
            ));
        }
        Ok(Self(normalised))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A value read back from the store, where only parsed usernames are written.
    pub(crate) fn from_stored(s: String) -> Self {
        Self(s)
    }
}

impl std::fmt::Display for Username {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A syntactically plausible email address. Deliverability is proved by sending to it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    pub fn parse(field: &'static str, input: &str) -> Result<Self, Invalid> {
        let s = input.trim();
        let bad = || Invalid::new(field, "Enter an email address such as name@example.org.");
        if s.is_empty() || s.chars().count() > EMAIL_MAX_CHARS {
            return Err(bad());
        }
        let (local, domain) = s.rsplit_once('@').ok_or_else(bad)?;
        if local.is_empty()
            || domain.is_empty()
            || domain.starts_with('.')
            || domain.ends_with('.')
            || s.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(bad());
        }
        Ok(Self(format!("{local}@{}", domain.to_lowercase())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A value read back from the store, where only parsed addresses are written.
    pub(crate) fn from_stored(s: String) -> Self {
        Self(s)
    }

    /// The address with most of the local part hidden, e.g. `a•••e@example.org`,
    /// so a person can recognise it without the page disclosing it.
    pub fn masked(&self) -> String {
        let (local, domain) = self.0.rsplit_once('@').unwrap_or((&self.0, ""));
        let chars: Vec<char> = local.chars().collect();
        let shown = match chars.as_slice() {
            [] => String::new(),
            [only] => format!("{only}•••"),
            [first, .., last] => format!("{first}•••{last}"),
        };
        format!("{shown}@{domain}")
    }
}

/// A fresh public id for an account: what the console's URLs name it by. Random, so it
/// says nothing about how many accounts exist or which came first.
pub fn new_public_id(random: &dyn Random) -> String {
    hex::encode(random::array::<16>(random))
}

/// The form in which names and addresses are searched: Unicode NFKC, lower case.
pub fn search_key(s: &str) -> String {
    s.nfkc().collect::<String>().to_lowercase()
}

/// A person's name as shown to operators.
pub fn parse_display_name(field: &'static str, input: &str) -> Result<String, Invalid> {
    let s = input.trim();
    if s.is_empty() {
        return Err(Invalid::new(field, "Enter a name."));
    }
    if s.chars().count() > DISPLAY_NAME_MAX_CHARS {
        return Err(Invalid::new(
            field,
            format!("A name has at most {DISPLAY_NAME_MAX_CHARS} characters."),
        ));
    }
    if s.chars().any(char::is_control) {
        return Err(Invalid::new(
            field,
            "A name cannot contain control characters.",
        ));
    }
    Ok(s.to_owned())
}

/// A name as typed at sign-in or in self-service: `username`, or `STORE\\username` to
/// pick the identity store when the same username exists in several.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountName {
    /// The identity store's name, upper case, if the person gave one.
    pub store: Option<String>,
    pub username: Username,
}

impl AccountName {
    pub fn parse(field: &'static str, input: &str) -> Result<Self, Invalid> {
        match input.trim().split_once('\\') {
            Some((store, user)) => {
                let store = store.trim().to_uppercase();
                if store.is_empty() || store.chars().count() > 64 {
                    return Err(Invalid::new(
                        field,
                        "Before the backslash, give the name of your directory, e.g. EXAMPLE\\alice.",
                    ));
                }
                Ok(Self {
                    store: Some(store),
                    username: Username::parse(field, user)?,
                })
            }
            None => Ok(Self {
                store: None,
                username: Username::parse(field, input)?,
            }),
        }
    }
}

impl std::fmt::Display for AccountName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.store {
            Some(store) => write!(f, "{store}\\{}", self.username),
            None => write!(f, "{}", self.username),
        }
    }
}

/// An account as stored, with the lock state the policy engine works on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: AccountId,
    /// Opaque: what the console names the account by (see [`new_public_id`]).
    pub public_id: String,
    pub person_id: PersonId,
    pub organisation_id: OrganisationId,
    pub store_id: StoreId,
    pub store_name: String,
    pub username: Username,
    pub display_name: String,
    pub email: Email,
    pub status: AccountStatus,
    /// Argon2id PHC string; `None` when no password is set.
    pub password_hash: Option<String>,
    pub password_changed_at: Option<OffsetDateTime>,
    pub must_change_password: bool,
    pub aup_accepted_at: Option<OffsetDateTime>,
    pub aup_version: Option<String>,
    pub lock: LockState,
    pub created_at: OffsetDateTime,
    /// A contact phone number, as the person gave it (see [`crate::required`]).
    pub phone: Option<String>,
    /// What an operator left for the next sign-in.
    pub pending: Pending,
}

/// What an operator's MFA reset or resecure leaves for the account's next sign-in,
/// besides a temporary password (`must_change_password`) and the AUP (its version).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pending {
    /// Device authorization, then a new authenticator.
    pub mfa_reset: bool,
    /// Confirm name, contact address and phone.
    pub profile: bool,
    /// New security questions and answers.
    pub questions: bool,
}

impl Account {
    /// `STORE\\username`: unambiguous across identity stores.
    pub fn qualified_name(&self) -> String {
        format!("{}\\{}", self.store_name, self.username)
    }
}

/// What a new account is created with.
#[derive(Debug, Clone)]
pub struct NewAccount {
    /// From [`new_public_id`].
    pub public_id: String,
    pub store_id: StoreId,
    pub username: Username,
    pub display_name: String,
    pub email: Email,
    pub status: AccountStatus,
    /// An Argon2id PHC string, or `None` for an account that cannot sign in yet.
    pub password_hash: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_normalised_for_comparison() {
        let a = Username::parse("username", "  Alice ").map(|u| u.to_string());
        let b = Username::parse("username", "ＡＬＩＣＥ").map(|u| u.to_string());
        assert_eq!(a, Ok("alice".to_owned()));
        assert_eq!(b, Ok("alice".to_owned()));
    }

    #[test]
    fn bad_usernames_name_the_field() {
        for input in ["", "   ", "a b", "tab\there", &"x".repeat(129)] {
            let err = Username::parse("username", input).err();
            assert_eq!(
                err.map(|e| e.field.into_owned()).as_deref(),
                Some("username"),
                "input {input:?}"
            );
        }
    }

    #[test]
    fn names_may_name_their_store() {
        let plain = AccountName::parse("username", "Alice").unwrap();
        assert_eq!(plain.store, None);
        assert_eq!(plain.username.as_str(), "alice");
        let qualified = AccountName::parse("username", "example\\Alice").unwrap();
        assert_eq!(qualified.store.as_deref(), Some("EXAMPLE"));
        assert_eq!(qualified.to_string(), "EXAMPLE\\alice");
        assert!(AccountName::parse("username", "\\alice").is_err());
    }

    #[test]
    fn email_is_masked_for_display() {
        let e = Email::parse("email", "Alice.Smith@Example.ORG");
        assert_eq!(e.map(|e| e.masked()), Ok("A•••h@example.org".to_owned()));
    }

    #[test]
    fn malformed_emails_are_refused() {
        for input in [
            "",
            "no-at-sign",
            "@example.org",
            "a@",
            "a b@example.org",
            "a@.org",
        ] {
            assert!(Email::parse("email", input).is_err(), "input {input:?}");
        }
    }
}
