-- The outbox: every email Latchkey sends is first a row here, written in the same
-- transaction as the action it reports, then delivered by a background worker
-- (core/src/outbox/). A mail server that is down delays mail; it never loses it and
-- never fails the action.

CREATE TABLE outbox (
    id                INTEGER PRIMARY KEY,
    organisation_id   INTEGER NOT NULL REFERENCES organisations(id),
    -- The recipient as the mail addresses them.
    recipient_email   TEXT    NOT NULL,
    recipient_name    TEXT    NOT NULL,
    -- The account the mail is about, when there is one (support requests may have none).
    account_id        INTEGER REFERENCES accounts(id),
    account_name      TEXT,
    -- The notification's variant ('account_locked', ...) and its facts as JSON. Never a secret.
    kind              TEXT    NOT NULL,
    payload           TEXT    NOT NULL,
    -- The one-time code the mail exists to deliver, if any. Wiped (NULL) as soon as the
    -- mail is sent or has finally failed.
    secret            TEXT,
    -- Whether the mail delivers a code: such a mail cannot be sent again once the code is wiped.
    carries_code      INTEGER NOT NULL DEFAULT 0 CHECK (carries_code IN (0, 1)),
    -- Local part of the Message-ID: the same for every attempt, so a retry after an
    -- unknown outcome is recognisable as the same message. Random, so a recreated
    -- database never repeats one.
    message_id        TEXT    NOT NULL UNIQUE DEFAULT (lower(hex(randomblob(16)))),
    status            TEXT    NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    -- Delivery attempts started (counted when a worker claims the row).
    attempts          INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    created_at        INTEGER NOT NULL,
    next_attempt_at   INTEGER NOT NULL,
    -- A worker's claim: its random token and when the claim lapses. A crashed worker's
    -- rows become claimable again once claimed_until has passed.
    claim_token       TEXT,
    claimed_until     INTEGER,
    last_error        TEXT,
    sent_at           INTEGER,
    failed_at         INTEGER
);

CREATE INDEX outbox_due ON outbox(next_attempt_at) WHERE status = 'pending';
CREATE INDEX outbox_status ON outbox(status, id);
