-- One-time codes sent by email (self-service, and later device authorization and
-- help-desk verification). Only a keyed hash of the code is stored; the code itself
-- exists only in the outbox row until its mail is sent.
CREATE TABLE one_time_codes (
    id          INTEGER PRIMARY KEY,
    account_id  INTEGER NOT NULL REFERENCES accounts(id),
    purpose     TEXT    NOT NULL,
    code_hash   TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    -- Wrong codes tried against this one.
    attempts    INTEGER NOT NULL DEFAULT 0,
    -- Set when the right code was given: a code works once.
    used_at     INTEGER
);
CREATE INDEX one_time_codes_account ON one_time_codes(account_id);
