//! Demo data for `latchkey serve --demo`: two organisations, a few people, and one
//! operator per console role, seeded once. README lists the same credentials; tests sign
//! in with them.

use latchkey_types::Role;
use secrecy::SecretString;

use crate::account::{
    new_public_id, parse_display_name, AccountStatus, Email, NewAccount, Username,
};
use crate::credentials::{normalise_answer, NewAnswer, QuestionChoice, DEFAULT_CATALOGUE};
use crate::error::CoreError;
use crate::organisation::StoreKind;
use crate::service::Latchkey;

pub const ORGANISATION_SLUG: &str = "example";
pub const ORGANISATION_NAME: &str = "Example Health";
pub const STORE_NAME: &str = "EXAMPLE";
/// The example organisation's second identity store (its mail system): some people have
/// an account there too, linked to their main one (seed 004's linked accounts). Locking
/// one does not lock the other.
pub const MAIL_STORE: &str = "MAIL";
/// Who has a `MAIL` account, linked to their `EXAMPLE` one (with the same password).
pub const MAIL_USERS: &[&str] = &["alice", "ivy"];

/// The second organisation: what the first's local administrators never see.
pub const OTHER_SLUG: &str = "northwind";
pub const OTHER_NAME: &str = "Northwind Clinic";
pub const OTHER_STORE: &str = "NORTHWIND";

/// A demo account: username, display name, email, password, status, and answers to the
/// first, second and sixth catalogue questions (see README); `roles` make an operator.
pub struct DemoUser {
    pub username: &'static str,
    pub display_name: &'static str,
    pub email: &'static str,
    pub password: &'static str,
    pub status: AccountStatus,
    pub answers: [(&'static str, &'static str); 3],
    pub roles: &'static [Role],
}

/// Answers for the demo's operators (they can unlock themselves too).
const OPERATOR_ANSWERS: [(&str, &str); 3] = [
    ("What was the name of your first school?", "Console Primary"),
    ("In which town or city were you born?", "Sheffield"),
    ("What was your first job?", "Operator"),
];

/// One operator of the example organisation per role.
pub const OPERATORS: &[DemoUser] = &[
    DemoUser {
        username: "ada",
        display_name: "Ada Admin",
        email: "ada@example.org",
        password: "harbour-violet-compass",
        status: AccountStatus::Active,
        answers: OPERATOR_ANSWERS,
        roles: &[Role::GlobalAdministrator],
    },
    DemoUser {
        username: "lena",
        display_name: "Lena Local",
        email: "lena@example.org",
        password: "juniper-atlas-kettle",
        status: AccountStatus::Active,
        answers: OPERATOR_ANSWERS,
        roles: &[Role::LocalAdministrator],
    },
    DemoUser {
        username: "hugo",
        display_name: "Hugo Helpdesk",
        email: "hugo@example.org",
        password: "marble-ferry-sparrow",
        status: AccountStatus::Active,
        answers: OPERATOR_ANSWERS,
        roles: &[Role::HelpdeskOperator],
    },
    DemoUser {
        username: "sam",
        display_name: "Sam Support",
        email: "sam@example.org",
        password: "cobalt-willow-ledger",
        status: AccountStatus::Active,
        answers: OPERATOR_ANSWERS,
        roles: &[Role::SupportAgent],
    },
];

/// The second organisation's people and its local administrator.
pub const OTHER_USERS: &[DemoUser] = &[
    DemoUser {
        username: "nina",
        display_name: "Nina Northwind",
        email: "nina@northwind.example",
        password: "lagoon-pepper-summit",
        status: AccountStatus::Active,
        answers: [
            ("What was the name of your first school?", "Westfield"),
            ("In which town or city were you born?", "Hull"),
            ("What was your first job?", "Courier"),
        ],
        roles: &[],
    },
    DemoUser {
        username: "nora",
        display_name: "Nora Northwind",
        email: "nora@northwind.example",
        password: "thimble-cedar-orbit",
        status: AccountStatus::Active,
        answers: OPERATOR_ANSWERS,
        roles: &[Role::LocalAdministrator],
    },
];

pub const USERS: &[DemoUser] = &[
    DemoUser {
        username: "alice",
        display_name: "Alice Ashdown",
        email: "alice@example.org",
        password: "lantern-orbit-meadow",
        status: AccountStatus::Active,
        roles: &[],
        answers: [
            (
                "What was the name of your first school?",
                "Hillside Primary",
            ),
            ("In which town or city were you born?", "Bristol"),
            ("What was your first job?", "Paper round"),
        ],
    },
    DemoUser {
        username: "bob",
        display_name: "Bob Brennan",
        email: "bob@example.org",
        password: "copper-fjord-whistle",
        status: AccountStatus::Active,
        roles: &[],
        answers: [
            ("What was the name of your first school?", "St Mary's"),
            ("In which town or city were you born?", "Leeds"),
            ("What was your first job?", "Lifeguard"),
        ],
    },
    DemoUser {
        username: "carol",
        display_name: "Carol Castell",
        email: "carol@example.org",
        password: "saffron-quarry-ninety",
        status: AccountStatus::Disabled,
        roles: &[],
        answers: [
            ("What was the name of your first school?", "Oakwood"),
            ("In which town or city were you born?", "York"),
            ("What was your first job?", "Waiter"),
        ],
    },
    DemoUser {
        username: "dave",
        display_name: "Dave Dunmore",
        email: "dave@example.org",
        password: "walnut-harbour-tram",
        status: AccountStatus::Active,
        roles: &[],
        answers: [
            ("What was the name of your first school?", "Greenfield"),
            ("In which town or city were you born?", "Cardiff"),
            ("What was your first job?", "Shelf stacker"),
        ],
    },
    DemoUser {
        username: "erin",
        display_name: "Erin Ellery",
        email: "erin@example.org",
        password: "pebble-compass-violet",
        status: AccountStatus::Active,
        roles: &[],
        answers: [
            ("What was the name of your first school?", "Riverside"),
            ("In which town or city were you born?", "Glasgow"),
            ("What was your first job?", "Barista"),
        ],
    },
    DemoUser {
        username: "frank",
        display_name: "Frank Fairley",
        email: "frank@example.org",
        password: "thistle-anchor-ember",
        status: AccountStatus::Active,
        roles: &[],
        answers: [
            ("What was the name of your first school?", "Northgate"),
            ("In which town or city were you born?", "Belfast"),
            ("What was your first job?", "Gardener"),
        ],
    },
    DemoUser {
        username: "grace",
        display_name: "Grace Gillow",
        email: "grace@example.org",
        password: "meadow-lantern-quartz",
        status: AccountStatus::Active,
        roles: &[],
        answers: [
            ("What was the name of your first school?", "Elmwood"),
            ("In which town or city were you born?", "Dundee"),
            ("What was your first job?", "Cashier"),
        ],
    },
    DemoUser {
        username: "heidi",
        display_name: "Heidi Holt",
        email: "heidi@example.org",
        password: "saddle-orchid-beacon",
        status: AccountStatus::Active,
        roles: &[],
        answers: [
            ("What was the name of your first school?", "Kingsway"),
            ("In which town or city were you born?", "Exeter"),
            ("What was your first job?", "Tutor"),
        ],
    },
    DemoUser {
        username: "ivy",
        display_name: "Ivy Irving",
        email: "ivy@example.org",
        password: "meadow-quartz-lantern",
        status: AccountStatus::Active,
        roles: &[],
        answers: [
            ("What was the name of your first school?", "Brookfield"),
            ("In which town or city were you born?", "Leeds"),
            ("What was your first job?", "Lifeguard"),
        ],
    },
];
/// The demo organisations' acceptable use policy (plain paragraphs).
pub const DEMO_AUP: &str = "This account is for your work at the organisation only. Do not share your password, your security answers or the codes of your authenticator with anyone, the help desk included.

Lock your screen when you leave your desk. Report a lost phone or a message asking for your password to the help desk at once.

Activity on this account is recorded and may be reviewed.";

impl Latchkey {
    /// Seeds the demo organisations unless they exist, in one transaction (all of it or
    /// nothing). Answers whether anything was written.
    pub async fn seed_demo(&self) -> Result<bool, CoreError> {
        let exists = self
            .read()
            .await?
            .organisation_by_slug(ORGANISATION_SLUG)
            .await?
            .is_some();
        if exists {
            return Ok(false);
        }
        // Hash first: Argon2 takes a while, and no lock need wait for it.
        let example: Vec<&DemoUser> = USERS.iter().chain(OPERATORS).collect();
        let example = self.hash_demo(&example).await?;
        let other: Vec<&DemoUser> = OTHER_USERS.iter().collect();
        let other = self.hash_demo(&other).await?;
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        for (slug, name, store, priority, people) in [
            (
                ORGANISATION_SLUG,
                ORGANISATION_NAME,
                STORE_NAME,
                10,
                example,
            ),
            (OTHER_SLUG, OTHER_NAME, OTHER_STORE, 20, other),
        ] {
            let org = tx.create_organisation(slug, name, now).await?;
            let identity_store = tx
                .create_identity_store(org.id, store, StoreKind::Builtin, priority, now)
                .await?;
            let mail_store = match slug {
                ORGANISATION_SLUG => Some(
                    tx.create_identity_store(org.id, MAIL_STORE, StoreKind::Builtin, 30, now)
                        .await?,
                ),
                _ => None,
            };
            let aup_version = tx.set_aup(org.id, DEMO_AUP, now).await?.to_string();
            let mut catalogue = Vec::new();
            for text in DEFAULT_CATALOGUE {
                catalogue.push((*text, tx.add_catalogue_question(org.id, text, now).await?));
            }
            for (user, password, answers) in people {
                let account = NewAccount {
                    public_id: new_public_id(self.random.as_ref()),
                    store_id: identity_store.id,
                    username: Username::parse("username", user.username)?,
                    display_name: parse_display_name("display_name", user.display_name)?,
                    email: Email::parse("email", user.email)?,
                    status: user.status,
                    password_hash: Some(password),
                };
                let (id, person) = tx.create_account(&account, None, now).await?;
                if let (Some(mail), true) = (&mail_store, MAIL_USERS.contains(&user.username)) {
                    let linked = NewAccount {
                        public_id: new_public_id(self.random.as_ref()),
                        store_id: mail.id,
                        ..account.clone()
                    };
                    tx.create_account(&linked, Some(person), now).await?;
                }
                // Every demo person has accepted the policy already (a user created in
                // the console has not: their *Resecure* button says so).
                tx.set_aup_acceptance(id, Some((&aup_version, now)), now)
                    .await?;
                let mut enrolled = Vec::new();
                for (question, answer_hash) in answers {
                    let question_id = catalogue
                        .iter()
                        .find(|(text, _)| *text == question)
                        .map(|(_, id)| *id)
                        .ok_or_else(|| {
                            CoreError::Internal(format!("demo question {question:?} missing"))
                        })?;
                    enrolled.push(NewAnswer {
                        question: QuestionChoice::Catalogue { id: question_id },
                        answer_hash,
                    });
                }
                tx.replace_security_answers(id, &enrolled, now).await?;
                for role in user.roles {
                    tx.grant_role(id, *role, "system:demo", now).await?;
                }
            }
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Each demo user with their password's hash and their answers' hashes.
    async fn hash_demo<'u>(
        &self,
        users: &[&'u DemoUser],
    ) -> Result<Vec<HashedDemoUser<'u>>, CoreError> {
        let mut hashed = Vec::new();
        for user in users {
            let password = self.hasher.hash(&SecretString::from(user.password)).await?;
            let mut answers = Vec::new();
            for (question, answer) in user.answers {
                let hash = self
                    .hasher
                    .hash(&SecretString::from(normalise_answer(answer)))
                    .await?;
                answers.push((question, hash));
            }
            hashed.push((*user, password, answers));
        }
        Ok(hashed)
    }
}

/// A demo user, their password's hash, and each question with its answer's hash.
type HashedDemoUser<'u> = (&'u DemoUser, String, Vec<(&'static str, String)>);
