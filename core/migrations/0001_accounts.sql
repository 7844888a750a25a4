-- Organisations, identity stores, people and their accounts.
-- Times are Unix seconds (UTC) so that comparisons are plain integer comparisons
-- on SQLite and PostgreSQL alike.

CREATE TABLE organisations (
    id                     INTEGER PRIMARY KEY,
    slug                   TEXT    NOT NULL UNIQUE,
    name                   TEXT    NOT NULL,
    -- Password rule: "Number of failed attempts before automatic lock" (0 = never lock).
    lockout_threshold      INTEGER NOT NULL DEFAULT 5 CHECK (lockout_threshold >= 0),
    -- Failures older than this window no longer count towards the threshold.
    lockout_window_secs    INTEGER NOT NULL DEFAULT 900 CHECK (lockout_window_secs > 0),
    -- NULL: locked until someone unlocks; otherwise a temporary lock of this many seconds.
    lockout_duration_secs  INTEGER CHECK (lockout_duration_secs IS NULL OR lockout_duration_secs > 0),
    created_at             INTEGER NOT NULL
);

-- Where accounts live. Only Latchkey's own store ('builtin') exists today; directory
-- stores (LDAP, ...) get their own kind and connector later.
CREATE TABLE identity_stores (
    id               INTEGER PRIMARY KEY,
    organisation_id  INTEGER NOT NULL REFERENCES organisations(id),
    name             TEXT    NOT NULL UNIQUE,
    kind             TEXT    NOT NULL CHECK (kind IN ('builtin')),
    -- Unqualified usernames resolve to the store with the lowest priority value that has them.
    priority         INTEGER NOT NULL DEFAULT 100,
    created_at       INTEGER NOT NULL
);

-- A person may own several linked accounts, one per identity store.
CREATE TABLE persons (
    id               INTEGER PRIMARY KEY,
    organisation_id  INTEGER NOT NULL REFERENCES organisations(id),
    created_at       INTEGER NOT NULL
);

CREATE TABLE accounts (
    id                    INTEGER PRIMARY KEY,
    store_id              INTEGER NOT NULL REFERENCES identity_stores(id),
    person_id             INTEGER NOT NULL REFERENCES persons(id),
    -- Normalised (NFKC, lower case); unique within its store.
    username              TEXT    NOT NULL,
    display_name          TEXT    NOT NULL,
    email                 TEXT    NOT NULL,
    status                TEXT    NOT NULL CHECK (status IN ('active', 'disabled', 'deleted')),
    password_hash         TEXT,
    password_changed_at   INTEGER,
    must_change_password  INTEGER NOT NULL DEFAULT 0 CHECK (must_change_password IN (0, 1)),
    aup_accepted_at       INTEGER,
    aup_version           TEXT,
    -- Lock state, see core/src/lockout.rs.
    failed_attempts       INTEGER NOT NULL DEFAULT 0,
    first_failure_at      INTEGER,
    locked_at             INTEGER,
    lock_reason           TEXT CHECK (lock_reason IS NULL OR lock_reason IN ('Failures', 'Administrative', 'Self-service failures')),
    lock_expires_at       INTEGER,
    unlocked_by           TEXT,
    unlocked_at           INTEGER,
    created_at            INTEGER NOT NULL,
    updated_at            INTEGER NOT NULL,
    UNIQUE (store_id, username)
);

CREATE INDEX accounts_person ON accounts(person_id);
CREATE INDEX accounts_username ON accounts(username);
CREATE INDEX accounts_email ON accounts(email);
