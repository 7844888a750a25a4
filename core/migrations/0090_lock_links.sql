-- The lock email that helps (issue 14, item 6; numbers 0090–0099 are this work's range).
--
-- The two links of a lock mail: "This was me: unlock my account" (purpose 'unlock') and
-- "This wasn't me" (purpose 'not_me'). Only the SHA-256 of each random link token is
-- stored; the token itself exists only sealed in the outbox row until the mail is sent.
-- A link works once (`used_at`, set by one conditional UPDATE) and until `expires_at`.
CREATE TABLE lock_links (
    id          INTEGER PRIMARY KEY,
    account_id  INTEGER NOT NULL REFERENCES accounts(id),
    purpose     TEXT    NOT NULL CHECK (purpose IN ('unlock', 'not_me')),
    token_hash  TEXT    NOT NULL UNIQUE,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER
);
CREATE INDEX lock_links_account ON lock_links(account_id);
