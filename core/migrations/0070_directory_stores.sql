-- Directory identity stores (issue 18): an identity store may be an OpenLDAP directory
-- with the ppolicy overlay ('ldap') or Active Directory ('active_directory'), connected
-- through the `latchkey-directory` crate. The directory keeps those accounts and their
-- lock state; this table only names the store. (Numbered 0070: 0070–0079 are this
-- work's range.)
--
-- SQLite cannot change a CHECK constraint in place, so the table is rebuilt. Other
-- tables reference it (accounts.store_id), so foreign keys are checked at commit
-- (`defer_foreign_keys`, valid inside the migration's transaction), and the rows go
-- back in only after the new table has the old name: inserting a parent row is what
-- settles the deferred checks that dropping the old table raised.
PRAGMA defer_foreign_keys = ON;

CREATE TEMP TABLE identity_stores_0070 AS SELECT * FROM identity_stores;

CREATE TABLE identity_stores_new (
    id               INTEGER PRIMARY KEY,
    organisation_id  INTEGER NOT NULL REFERENCES organisations(id),
    name             TEXT    NOT NULL UNIQUE,
    kind             TEXT    NOT NULL CHECK (kind IN ('builtin', 'ldap', 'active_directory')),
    -- Unqualified usernames resolve to the store with the lowest priority value that has them.
    priority         INTEGER NOT NULL DEFAULT 100,
    created_at       INTEGER NOT NULL
);

DROP TABLE identity_stores;
ALTER TABLE identity_stores_new RENAME TO identity_stores;

INSERT INTO identity_stores (id, organisation_id, name, kind, priority, created_at)
    SELECT id, organisation_id, name, kind, priority, created_at FROM identity_stores_0070;

DROP TABLE identity_stores_0070;
