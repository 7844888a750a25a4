-- A recovery address per account: self-service codes go there instead of the registered
-- (work) address once a code sent to it has confirmed it.
CREATE TABLE recovery_emails (
    account_id       INTEGER PRIMARY KEY REFERENCES accounts(id),
    -- The confirmed address; NULL until one is confirmed.
    address          TEXT,
    confirmed_at     INTEGER,
    -- An address waiting for the one-time code sent to it.
    pending_address  TEXT,
    pending_code_id  INTEGER REFERENCES one_time_codes(id),
    updated_at       INTEGER NOT NULL,
    CHECK ((pending_address IS NULL) = (pending_code_id IS NULL))
);
