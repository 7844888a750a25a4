-- Directory accounts Latchkey has met (issue 18, items 3–6; numbers 0110–0119 are this
-- work's range). A directory identity store keeps its accounts and their lock state;
-- Latchkey keeps, for each one it has shown, linked or unlocked, a row in `accounts`
-- (its public id, its person, later its enrolments — never a password or a lock) tied
-- here to the account's stable id in the directory (`entryUUID` / `objectGUID`). The
-- DN is never kept: it changes when the entry moves; the stable id does not.
CREATE TABLE directory_accounts (
    account_id  BIGINT  PRIMARY KEY REFERENCES accounts(id),
    store_id    BIGINT  NOT NULL REFERENCES identity_stores(id),
    stable_id   TEXT    NOT NULL,
    created_at  BIGINT  NOT NULL,
    UNIQUE (store_id, stable_id)
);
