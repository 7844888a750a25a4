-- PostgreSQL twin of ../0008_console.sql.
-- The console (issue 12): operators and their roles, console sessions apart from portal
-- sessions, opaque public ids for accounts, and what the users grid searches by.

-- Roles an account holds in its organisation (core/src/authz.rs says what each allows).
CREATE TABLE operator_roles (
    account_id  BIGINT  NOT NULL REFERENCES accounts(id),
    role        TEXT    NOT NULL CHECK (role IN ('global_administrator', 'local_administrator',
                                                 'helpdesk_operator', 'support_agent')),
    granted_at  BIGINT  NOT NULL,
    granted_by  TEXT    NOT NULL,
    PRIMARY KEY (account_id, role)
);

-- A console session is never a portal session, nor the reverse.
ALTER TABLE sessions ADD COLUMN audience TEXT NOT NULL DEFAULT 'portal'
    CHECK (audience IN ('portal', 'console'));

-- What the console's URLs name an account by: random, so an id says nothing about how
-- many accounts exist or which came before. Set by Latchkey for new accounts; existing
-- ones get 32 hex digits of a random UUID here (SQLite: of randomblob(16)).
ALTER TABLE accounts ADD COLUMN public_id TEXT;
UPDATE accounts SET public_id = replace(gen_random_uuid()::text, '-', '') WHERE public_id IS NULL;
CREATE UNIQUE INDEX accounts_public_id ON accounts(public_id);

-- Prefix search by username, address and name, case-insensitive: usernames are stored
-- normalised already; the address and the name get a search key (Unicode lower case,
-- written by Latchkey). Keyset pagination by (username, id); locked accounts from a
-- partial index.
--
-- The searched columns compare and sort by code point (COLLATE "C"), as SQLite's BINARY
-- does, whatever the database's locale: a prefix is a range [prefix, prefix || U+10FFFF),
-- pages are keyed by (username, id), and both need the same order on both backends
-- and an index in that order.
ALTER TABLE accounts ALTER COLUMN username TYPE TEXT COLLATE "C";
ALTER TABLE accounts ADD COLUMN email_key TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE accounts ADD COLUMN name_key TEXT COLLATE "C" NOT NULL DEFAULT '';
UPDATE accounts SET email_key = lower(email), name_key = lower(display_name);
CREATE INDEX accounts_username_id ON accounts(username, id);
CREATE INDEX accounts_email_key ON accounts(email_key, id);
CREATE INDEX accounts_name_key ON accounts(name_key, id);
CREATE INDEX accounts_locked ON accounts(username, id) WHERE locked_at IS NOT NULL;
CREATE INDEX accounts_locked_date ON accounts(locked_at DESC, id) WHERE locked_at IS NOT NULL;

-- History filters and the lock activity charts.
CREATE INDEX audit_action_at ON audit_log(action, at);
