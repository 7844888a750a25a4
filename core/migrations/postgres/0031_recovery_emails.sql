-- PostgreSQL twin of ../0031_recovery_emails.sql.
-- A recovery address per account: self-service codes go there instead of the registered
-- (work) address once a code sent to it has confirmed it.
CREATE TABLE recovery_emails (
    account_id       BIGINT  PRIMARY KEY REFERENCES accounts(id),
    -- The confirmed address; NULL until one is confirmed.
    address          TEXT,
    confirmed_at     BIGINT,
    -- An address waiting for the one-time code sent to it.
    pending_address  TEXT,
    pending_code_id  BIGINT  REFERENCES one_time_codes(id),
    updated_at       BIGINT  NOT NULL,
    CHECK ((pending_address IS NULL) = (pending_code_id IS NULL))
);
