-- Support requests (issue 14, items 4–6; numbers 0100–0109 are this work's range).
--
-- A request comes from the portal's public Contact support form, or Latchkey opens one:
-- when an account reaches its organisation's cap of self-service unlocks, and when a
-- lock mail's "This wasn't me" link is followed (suspicious: shown first). `account_id`
-- is the registered account the given address belonged to, if any; only then does the
-- person get mail about it. The description is kept as typed (plain text, escaped
-- wherever it is shown).
CREATE TABLE support_requests (
    id               INTEGER PRIMARY KEY,
    organisation_id  INTEGER NOT NULL REFERENCES organisations(id),
    origin           TEXT    NOT NULL CHECK (origin IN ('form', 'self_unlock_cap', 'not_me')),
    status           TEXT    NOT NULL
                     CHECK (status IN ('new', 'in_progress', 'waiting_for_user', 'resolved')),
    suspicious       INTEGER NOT NULL DEFAULT 0,
    full_name        TEXT    NOT NULL,
    email            TEXT    NOT NULL,
    account_id       INTEGER REFERENCES accounts(id),
    description      TEXT    NOT NULL,
    client           TEXT,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    resolved_at      INTEGER
);
CREATE INDEX support_requests_queue ON support_requests(organisation_id, status, created_at);
CREATE INDEX support_requests_account ON support_requests(account_id, origin, status);

-- What happened to a request: its arrival, agents' replies and status changes, and the
-- unlocks of its account. `by_name` is the agent's STORE\username at the time.
CREATE TABLE support_events (
    id           INTEGER PRIMARY KEY,
    request_id   INTEGER NOT NULL REFERENCES support_requests(id),
    at           INTEGER NOT NULL,
    operator_id  INTEGER REFERENCES accounts(id),
    by_name      TEXT,
    status       TEXT    NOT NULL,
    message      TEXT,
    emailed      INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX support_events_request ON support_events(request_id, id);

-- Each self-service unlock that lifted a lock, for the organisation's cap.
CREATE TABLE self_unlocks (
    account_id  INTEGER NOT NULL REFERENCES accounts(id),
    at          INTEGER NOT NULL
);
CREATE INDEX self_unlocks_account ON self_unlocks(account_id, at);

-- An organisation's cap; no row: the default (3 in 24 hours).
CREATE TABLE self_unlock_caps (
    organisation_id  INTEGER PRIMARY KEY REFERENCES organisations(id),
    max_unlocks      INTEGER NOT NULL,
    period_secs      INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);
